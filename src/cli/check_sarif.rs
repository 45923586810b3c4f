//! `gowarden check --format sarif`: a SARIF 2.1.0 log for code scanning (GitHub's
//! upload-sarif, GitLab, Azure DevOps). One run: the tool with every rule of
//! [`super::check_rules`], one result per finding located at its file, line and column
//! (relative to the working directory, `%SRCROOT%`, where it lies below it), and in its
//! invocation whether checking succeeded, with a notification for each path that could not
//! be checked.
//!
//! Built with `json!` rather than `Serialize` types: SARIF is an external schema (OASIS
//! SARIF 2.1.0, [`SCHEMA`]), checked against that schema by the tests, so its shape is
//! defined there, not here.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::check_rules::{self, RULES};
use crate::policy::matrix::{self, Finding, Severity};

const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// RFC 3986 percent-encoding of a path: unreserved characters and `/` stay.
fn encode_path(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    for b in p.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `file:///abs/dir/` for a directory.
fn dir_uri(dir: &Path) -> String {
    let mut s = encode_path(&dir.display().to_string());
    if !s.ends_with('/') {
        s.push('/');
    }
    format!("file://{s}")
}

/// An artifact location: relative to `%SRCROOT%` (the working directory) where the file is
/// below it, else an absolute `file://` URI.
fn artifact(file: &Path, cwd: &Path) -> Value {
    let rel = matrix::relative_to(file, cwd);
    if rel.is_relative() && !rel.starts_with("..") {
        json!({"uri": encode_path(&rel.display().to_string()), "uriBaseId": "%SRCROOT%"})
    } else {
        let abs = if file.is_absolute() {
            file.to_path_buf()
        } else {
            cwd.join(file)
        };
        json!({"uri": format!("file://{}", encode_path(&abs.display().to_string()))})
    }
}

fn result(f: &Finding, cwd: &Path) -> Value {
    let mut r = json!({
        "ruleId": f.rule,
        "level": level(f.severity),
        "message": {"text": f.message},
    });
    if let Some((index, _)) = check_rules::find(f.rule.as_str()) {
        r["ruleIndex"] = json!(index);
    }
    if let Some(file) = f.file() {
        let mut physical = json!({"artifactLocation": artifact(file, cwd)});
        if let Some(line) = f.line() {
            let mut region = json!({"startLine": line});
            if let Some(col) = f.column() {
                region["startColumn"] = json!(col);
            }
            physical["region"] = region;
        }
        r["locations"] = json!([{"physicalLocation": physical}]);
    }
    r
}

/// The SARIF log of one check: `findings`, and `failures` (a path, or none, and why it could
/// not be checked). `cwd` is what relative URIs are relative to.
pub fn log(findings: &[&Finding], failures: &[(Option<PathBuf>, String)], cwd: &Path) -> Value {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "shortDescription": {"text": r.summary},
                "fullDescription": {"text": format!("{} {}", r.summary, r.help)},
                "help": {"text": r.help, "markdown": r.help},
                "defaultConfiguration": {"level": level(r.default)},
                "properties": {"tags": ["go", rule_family(r.id)]},
            })
        })
        .collect();
    let notifications: Vec<Value> = failures
        .iter()
        .map(|(path, msg)| {
            let mut n = json!({"level": "error", "message": {"text": msg}});
            if let Some(p) = path {
                n["locations"] =
                    json!([{"physicalLocation": {"artifactLocation": artifact(p, cwd)}}]);
            }
            n
        })
        .collect();
    let mut invocation = json!({"executionSuccessful": failures.is_empty()});
    if !notifications.is_empty() {
        invocation["toolExecutionNotifications"] = Value::Array(notifications);
    }
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "gowarden",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": dir_uri(cwd)}},
            "invocations": [invocation],
            "results": findings.iter().map(|f| result(f, cwd)).collect::<Vec<_>>(),
        }],
    })
}

/// `matrix.min` → `matrix`: a tag grouping rules in code scanning's filters.
fn rule_family(id: &str) -> &str {
    id.split('.').next().unwrap_or(id)
}

pub fn print(findings: &[&Finding], failures: &[(Option<PathBuf>, String)], cwd: &Path) {
    println!(
        "{}",
        serde_json::to_string_pretty(&log(findings, failures, cwd)).unwrap_or_default()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_percent_encoded_and_relative_below_the_working_dir() {
        let cwd = Path::new("/src/my repo");
        assert_eq!(
            artifact(Path::new("/src/my repo/a b/.go-version"), cwd),
            json!({"uri": "a%20b/.go-version", "uriBaseId": "%SRCROOT%"})
        );
        assert_eq!(
            artifact(Path::new("/opt/x%y/app"), cwd),
            json!({"uri": "file:///opt/x%25y/app"})
        );
        assert_eq!(dir_uri(cwd), "file:///src/my%20repo/");
    }

    #[test]
    fn a_column_is_the_regions_start_column() {
        let f = Finding {
            rule: crate::outcome::RuleId::named("matrix.min"),
            severity: Severity::Warning,
            message: "m".into(),
            location: crate::outcome::Location::at(Some("/r/Dockerfile".into()), Some(3), Some(7)),
        };
        let r = result(&f, Path::new("/r"));
        assert_eq!(
            r["locations"][0]["physicalLocation"]["region"],
            json!({"startLine": 3, "startColumn": 7})
        );
        assert_eq!(r["level"], "warning");
        assert_eq!(r["ruleIndex"], 3);
        let no_place = Finding {
            location: None,
            ..f
        };
        assert_eq!(result(&no_place, Path::new("/r")).get("locations"), None);
    }
}
