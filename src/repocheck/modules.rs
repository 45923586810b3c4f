//! Module hygiene that needs no go: go.sum present and covering go.mod's requirements,
//! `replace` directives the policy allows, vendor/modules.txt consistent with go.mod, the
//! `toolchain` line, and Go code outside any module (GOPATH mode).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::{Place, Sink};
use crate::error::{Error, Result};
use crate::policy::checks::{ReplaceRule, ToolchainLineRule};
use crate::policy::matrix::{self, Matrix};
use crate::project::ModFile;
use crate::version::GoVersion;

pub const GO_SUM_MISSING: &str = "mod.go-sum-missing";
pub const GO_SUM_INCOMPLETE: &str = "mod.go-sum-incomplete";
pub const REPLACE: &str = "mod.replace";
pub const GOPATH: &str = "mod.gopath";
pub const VENDOR: &str = "mod.vendor";
pub const TOOLCHAIN_LINE: &str = "mod.toolchain-line";

/// go.sum's entries: (module, version) pairs with a go.mod hash and with a content hash.
#[derive(Debug, Default)]
pub struct GoSum {
    pub go_mod: BTreeSet<(String, String)>,
    pub zip: BTreeSet<(String, String)>,
}

/// Parses go.sum as modfetch does (`path version hash` per line; extra fields are an error
/// there, a malformed line is skipped here and left to `go mod verify`).
pub fn parse_go_sum(text: &str) -> GoSum {
    let mut sum = GoSum::default();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() != 3 {
            continue;
        }
        match f[1].strip_suffix("/go.mod") {
            Some(v) => sum.go_mod.insert((f[0].to_string(), v.to_string())),
            None => sum.zip.insert((f[0].to_string(), f[1].to_string())),
        };
    }
    sum
}

/// Checks one module. `root` is the repository root (replacements must stay inside it).
pub fn check_module(sink: &mut Sink<'_>, matrix: &Matrix, root: &Path, m: &ModFile) -> Result<()> {
    let dir = m.path.parent().unwrap_or(Path::new("/"));
    let at = |line: usize| Some(Place::line(&m.path, line));
    let replaced = |path: &str, version: &str| {
        // A versioned replacement wins over a path-only one (modload.Replacement).
        m.replaces
            .iter()
            .find(|r| r.old == path && r.old_version.as_deref() == Some(version))
            .or_else(|| {
                m.replaces
                    .iter()
                    .find(|r| r.old == path && r.old_version.is_none())
            })
    };

    // go.sum.
    if !m.requires.is_empty() && (sink.on(GO_SUM_MISSING) || sink.on(GO_SUM_INCOMPLETE)) {
        let sum_path = dir.join("go.sum");
        match read_optional(&sum_path)? {
            None => sink.push(
                GO_SUM_MISSING,
                at(m.requires[0].line),
                format!(
                    "{} requires {} module{} but {} does not exist: nothing checks the \
                     downloaded code; run `go mod tidy` and commit go.sum",
                    m.path.display(),
                    m.requires.len(),
                    if m.requires.len() == 1 { "" } else { "s" },
                    sum_path.display()
                ),
            ),
            Some(text) => {
                let sum = parse_go_sum(&text);
                for r in &m.requires {
                    let (path, version) = match replaced(&r.path, &r.version) {
                        Some(rep) => match &rep.new_version {
                            Some(v) => (rep.new.clone(), v.clone()),
                            None => continue,
                        },
                        None => (r.path.clone(), r.version.clone()),
                    };
                    if !sum.go_mod.contains(&(path.clone(), version.clone())) {
                        sink.push(
                            GO_SUM_INCOMPLETE,
                            at(r.line),
                            format!(
                                "{} has no checksum for {path} {version}/go.mod: go would \
                                 refuse to build (`missing go.sum entry`) or, with \
                                 -mod=mod, write one unchecked by review; run `go mod tidy` \
                                 and commit go.sum",
                                sum_path.display()
                            ),
                        );
                    }
                }
            }
        }
    }

    // replace.
    if sink.on(REPLACE) {
        let table = &sink.policy.policy.check;
        for r in &m.replaces {
            let module_allowed = r.new_version.is_some()
                && table
                    .replace_modules
                    .iter()
                    .any(|p| matrix::pattern_matches(p.get_ref(), &r.new));
            if module_allowed || table.replace == ReplaceRule::Any {
                continue;
            }
            let target = if r.new_version.is_none() {
                let d = crate::gomod::resolve_dir(&m.path, &r.new);
                let inside = canonical(&d).starts_with(canonical(root));
                if inside && table.replace == ReplaceRule::Repository {
                    continue;
                }
                if inside {
                    format!("the directory {}", d.display())
                } else {
                    format!(
                        "the directory {}, outside the repository {}",
                        d.display(),
                        root.display()
                    )
                }
            } else {
                format!(
                    "the module {} {}",
                    r.new,
                    r.new_version.as_deref().unwrap_or("")
                )
            };
            let allowed = match table.replace {
                ReplaceRule::Repository => "only directories inside the repository",
                _ => "no replacements",
            };
            let modules = if table.replace_modules.is_empty() {
                String::new()
            } else {
                let list: Vec<&str> = table
                    .replace_modules
                    .iter()
                    .map(|p| p.get_ref().as_str())
                    .collect();
                format!(" and modules matching {}", list.join(", "))
            };
            sink.push(
                REPLACE,
                at(r.line),
                format!(
                    "replace {} => {}: builds {target} instead of the required module; the \
                     policy {} allows {allowed}{modules} ([check] replace); remove the \
                     directive, or publish the change as a version of the module and require it",
                    r.old,
                    r.new,
                    sink.policy.origin.file_name()
                ),
            );
        }
    }

    // toolchain line.
    if sink.on(TOOLCHAIN_LINE)
        && let Some(t) = &m.toolchain
        && t.value != "default"
    {
        let tier = matrix.policy_tier(m.module.as_ref());
        let version = GoVersion::parse_go(&t.value);
        let why = if sink.policy.policy.check.toolchain_line == ToolchainLineRule::Forbid {
            Some(format!(
                "the policy {} forbids toolchain lines ([check] toolchain_line = \"forbid\"): \
                 the policy chooses the toolchain, and a go run without the shim would switch \
                 to {}",
                sink.policy.origin.file_name(),
                t.value
            ))
        } else {
            match &version {
                Some(v) if !matrix.allows(v, tier.as_ref()) => Some(format!(
                    "the version matrix refuses {}{} (blocked, or below the tier's minimum), \
                     and a go run without the shim would switch to it",
                    t.value,
                    tier.as_ref()
                        .map(|c| format!(" for tier {}", c.name))
                        .unwrap_or_default()
                )),
                _ => None,
            }
        };
        if let Some(why) = why {
            // Only a fix the caller's role may run.
            let fix = if crate::policy::rules::caller_may_run(
                sink.policy,
                None,
                dir,
                &["mod", "edit", "-toolchain=none"],
            ) {
                "remove the line with `go mod edit -toolchain=none`"
            } else {
                "delete the toolchain line"
            };
            sink.push(
                TOOLCHAIN_LINE,
                Some(Place::line(&t.path, t.line)),
                format!("toolchain {}: {why}; {fix}", t.value),
            );
        }
    }

    // vendor/modules.txt.
    if sink.on(VENDOR) {
        let vendor = dir.join("vendor");
        if vendor.is_dir() {
            vendor_consistency(sink, m, &vendor.join("modules.txt"))?;
        }
    }
    Ok(())
}

/// One `# path version` header of vendor/modules.txt and its `##` annotations.
#[derive(Debug, Default)]
struct Vendored {
    version: String,
    explicit: bool,
    replacement: Option<String>,
    line: usize,
}

/// modload.checkVendorConsistency (go ≥ 1.14): every requirement is marked explicit at its
/// version, every explicit entry is required, every replacement is recorded.
fn vendor_consistency(sink: &mut Sink<'_>, m: &ModFile, path: &Path) -> Result<()> {
    let vendor_dir = path.parent().unwrap_or(Path::new("/")).to_path_buf();
    let Some(text) = read_optional(path)? else {
        if !m.requires.is_empty() {
            sink.push(
                VENDOR,
                Some(Place::line(&m.path, m.requires[0].line)),
                format!(
                    "{} exists but has no modules.txt: go refuses to build from it \
                     (`inconsistent vendoring`); run `go mod vendor`, or remove the directory",
                    vendor_dir.display()
                ),
            );
        }
        return Ok(());
    };
    let mut vendored: BTreeMap<String, Vendored> = BTreeMap::new();
    let mut current: Option<String> = None;
    for (i, line) in text.lines().enumerate() {
        if let Some(rest) = line.strip_prefix("## ") {
            if let Some(p) = &current
                && let Some(v) = vendored.get_mut(p)
            {
                v.explicit |= rest.split(';').any(|a| a.trim() == "explicit");
            }
        } else if let Some(rest) = line.strip_prefix("# ") {
            let f: Vec<&str> = rest.split_whitespace().collect();
            let (old, new) = match f.iter().position(|x| *x == "=>") {
                Some(at) => (&f[..at], Some(f[at + 1..].join(" "))),
                None => (&f[..], None),
            };
            let Some(p) = old.first() else { continue };
            let e = vendored.entry(p.to_string()).or_default();
            if let Some(v) = old.get(1) {
                e.version = v.to_string();
            }
            if new.is_some() {
                e.replacement = new;
            }
            e.line = i + 1;
            current = Some(p.to_string());
        }
    }
    let here = |line: usize| Some(Place::line(path, line));
    let fix = "run `go mod vendor`";
    for r in &m.requires {
        match vendored.get(&r.path) {
            Some(v) if v.explicit && v.version == r.version => {}
            Some(v) if v.explicit => sink.push(
                VENDOR,
                here(v.line),
                format!(
                    "{} is required at {} in go.mod ({}:{}), but vendor/modules.txt records \
                     {}; {fix}",
                    r.path,
                    r.version,
                    m.path.display(),
                    r.line,
                    v.version
                ),
            ),
            _ => sink.push(
                VENDOR,
                Some(Place::line(&m.path, r.line)),
                format!(
                    "{} {} is explicitly required in go.mod, but not marked as explicit in \
                     {}; {fix}",
                    r.path,
                    r.version,
                    path.display()
                ),
            ),
        }
    }
    for (p, v) in &vendored {
        if v.explicit && !m.requires.iter().any(|r| &r.path == p) {
            sink.push(
                VENDOR,
                here(v.line),
                format!(
                    "{p} is marked as explicit in vendor/modules.txt, but not explicitly \
                     required in {}; {fix}",
                    m.path.display()
                ),
            );
        }
    }
    for r in &m.replaces {
        let recorded = vendored.get(&r.old).and_then(|v| v.replacement.as_deref());
        let want = match &r.new_version {
            Some(v) => format!("{} {v}", r.new),
            None => r.new.clone(),
        };
        if recorded != Some(want.as_str()) {
            sink.push(
                VENDOR,
                Some(Place::line(&m.path, r.line)),
                format!(
                    "{} is replaced in go.mod, but not marked as replaced in {}; {fix}",
                    r.old,
                    path.display()
                ),
            );
        }
    }
    Ok(())
}

/// GOPATH-mode code: Go files no go.mod covers.
pub fn loose_go_files(sink: &mut Sink<'_>, files: &[PathBuf]) {
    for f in files {
        sink.push(
            GOPATH,
            Some(Place::line(f, 1)),
            format!(
                "{} is in no module (no go.mod in its directory or above it in the \
                 repository): go builds it only in GOPATH mode (GO111MODULE=off), where nothing \
                 is checked against go.sum; add a go.mod with `go mod init`",
                f.display()
            ),
        );
    }
}

fn read_optional(path: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("cannot read", path, &e)),
    }
}

fn canonical(p: &Path) -> PathBuf {
    let p = crate::gomod::clean(p);
    for a in p.ancestors() {
        if let Ok(c) = a.canonicalize() {
            return c.join(p.strip_prefix(a).unwrap_or(Path::new("")));
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_sum_lines() {
        let s = parse_go_sum(
            "x.y/z v1.0.0 h1:aaa=\nx.y/z v1.0.0/go.mod h1:bbb=\nbroken line\n\nq v2 h1:c= extra\n",
        );
        assert!(s.go_mod.contains(&("x.y/z".into(), "v1.0.0".into())));
        assert!(s.zip.contains(&("x.y/z".into(), "v1.0.0".into())));
        assert_eq!(s.go_mod.len() + s.zip.len(), 2);
    }
}
