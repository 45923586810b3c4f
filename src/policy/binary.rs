//! `[check.binary]`: what `gowarden check --binary` holds a built Go binary to, beyond the
//! version matrix: whether dependencies may be replaced, whether it may come from a tree with
//! local changes, and which build settings it must (or must not) have been built with.
//!
//! ```toml
//! [check.binary]
//! replace = "error"                     # "error" (default), "warning" or "off"
//! allow_replace = ["corp.example/forks/..."]
//! vcs_modified = "error"                # "error" (default), "warning" or "off"
//! require = { "-trimpath" = "true", CGO_ENABLED = "0" }
//! forbid = { "-mod" = "mod" }           # a value, or a list of values
//! ```
//!
//! [`judge`] applies these and the matrix (the go version against the tier of the binary's
//! main module, and `[[blocked]]`) to one binary's build information.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::checks::Level;
use super::load::LoadedPolicy;
use super::matrix::{self, Finding, Matrix, Severity, TierReason};
use crate::buildinfo::BuildInfo;
use crate::date::Date;
use crate::error::{Error, Result};
use crate::project::Declared;
use crate::version::GoVersion;

/// Rule ids of binary findings besides the matrix's own (`matrix.min`, `matrix.blocked`,
/// `matrix.deadline`, `matrix.recommended`, which binaries share with projects).
pub mod rule {
    pub const GO_VERSION: &str = "binary.go-version";
    pub const REPLACE: &str = "binary.replace";
    pub const VCS_MODIFIED: &str = "binary.vcs-modified";
    pub const SETTING: &str = "binary.setting";
    pub const DECLARED_VERSION: &str = "binary.declared-version";
}

/// One value or a list of them.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Values {
    One(String),
    Many(Vec<String>),
}

impl Values {
    pub fn as_slice(&self) -> &[String] {
        match self {
            Values::One(v) => std::slice::from_ref(v),
            Values::Many(v) => v,
        }
    }
}

/// `[check.binary]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BinaryRules {
    /// A dependency replaced in the build (`=>` in `go version -m`).
    #[serde(default)]
    pub replace: Level,
    /// Module patterns (Go's `...` wildcard) that may be replaced, or replaced by.
    #[serde(default)]
    pub allow_replace: Vec<Spanned<String>>,
    /// Built from a tree with local changes (`vcs.modified=true`).
    #[serde(default)]
    pub vcs_modified: Level,
    /// A binary of the checked repository's main module built by another Go than the
    /// repository declares (`gowarden check -C REPO --binary dist/`).
    #[serde(default)]
    pub declared_version: Level,
    /// Build setting → the value(s) it must have been built with; absent counts as wrong.
    #[serde(default)]
    pub require: BTreeMap<Spanned<String>, Spanned<Values>>,
    /// Build setting → value(s) it must not have.
    #[serde(default)]
    pub forbid: BTreeMap<Spanned<String>, Spanned<Values>>,
}

/// The checks serde cannot express, each naming the policy file and line.
pub fn validate(loaded: &LoadedPolicy) -> Result<()> {
    let b = &loaded.policy.check.binary;
    let bad = |at: String, what: String| Err(Error::new(format!("invalid policy {at}: {what}")));
    for p in &b.allow_replace {
        let v = p.get_ref();
        if v.is_empty() || v.contains(char::is_whitespace) {
            return bad(
                loaded.location(&p.span()),
                format!(
                    "[check.binary] allow_replace entry {v:?} is not a module path pattern; \
                     write e.g. \"corp.example/forks/...\""
                ),
            );
        }
    }
    for (table, map) in [("require", &b.require), ("forbid", &b.forbid)] {
        for (k, v) in map {
            let key = k.get_ref();
            // runtime/debug's rule for a key written unquoted; go writes no other kind.
            if key.is_empty() || key.contains(['=', ' ', '\t', '\r', '\n', '"', '`']) {
                return bad(
                    loaded.location(&k.span()),
                    format!(
                        "[check.binary] {table} key {key:?} is not a build setting name; \
                         names are as `go version -m` prints them, e.g. \"-trimpath\", \
                         \"CGO_ENABLED\", \"vcs.modified\""
                    ),
                );
            }
            if v.get_ref().as_slice().is_empty() {
                return bad(
                    loaded.location(&v.span()),
                    format!("[check.binary] {table} {key:?} lists no value"),
                );
            }
        }
    }
    for (k, v) in &b.require {
        if let Some((_, f)) = b.forbid.iter().find(|(fk, _)| fk.get_ref() == k.get_ref())
            && let Some(both) = v
                .get_ref()
                .as_slice()
                .iter()
                .find(|x| f.get_ref().as_slice().contains(x))
        {
            return bad(
                loaded.location(&f.span()),
                format!(
                    "[check.binary] forbids {}={both:?}, which require ({}) demands; keep one",
                    k.get_ref(),
                    loaded.location(&v.span())
                ),
            );
        }
    }
    Ok(())
}

/// Everything wrong with the binary at `path` under the policy: the matrix's rules for its go
/// version and the `[check.binary]` rules. Findings name the binary as their file.
pub fn judge(
    loaded: &LoadedPolicy,
    m: &Matrix,
    path: &Path,
    info: &BuildInfo,
    today: Date,
) -> Vec<Finding> {
    let rules = &loaded.policy.check.binary;
    let shown_path = path.display();
    let mut out = Vec::new();
    let mut push = |rule: &'static str, severity: Severity, message: String| {
        out.push(Finding {
            rule: crate::outcome::RuleId::named(rule),
            severity,
            message,
            location: crate::outcome::Location::at(Some(path.to_path_buf()), None, None),
        })
    };

    let module = info.main.as_ref().map(|main| Declared {
        value: main.path.clone(),
        path: path.to_path_buf(),
        line: 0,
    });
    let tier = m.policy_tier(module.as_ref()).map(|mut c| {
        if let TierReason::Pattern { module_at, .. } = &mut c.reason {
            *module_at = format!("the build information of {shown_path}");
        }
        c
    });
    let tier_rules = tier.as_ref().and_then(|c| m.tier(c).map(|t| (c, t)));
    let why_tier = tier_rules
        .map(|(c, _)| {
            format!(
                "; tier {:?} applies because {}; tier owner: {}",
                c.name, c.reason, c.owner
            )
        })
        .unwrap_or_default();
    // What to rebuild with: the tier's recommended release where it may run.
    let target = match tier_rules {
        Some((_, t)) => match (&t.recommended, &t.min) {
            (Some(r), _) if !m.blocked.iter().any(|b| b.spec.matches(&r.version)) => r.to_string(),
            (_, Some(min)) => format!("{min} or newer, not blocked"),
            _ => "a release that is not blocked".into(),
        },
        None => "a release that is not blocked".into(),
    };
    let first_word = info
        .go_version
        .split_whitespace()
        .next()
        .unwrap_or_default();
    match GoVersion::parse_go(first_word) {
        None => push(
            rule::GO_VERSION,
            Severity::Error,
            format!(
                "{shown_path} was built by {:?}, which is not a Go release the policy can judge \
                 (a development toolchain?); rebuild it with {target}{why_tier}",
                info.go_version
            ),
        ),
        Some(v) => {
            let built = format!("{shown_path} was built by {first_word}");
            if let Some((c, t)) = tier_rules
                && let Some(min) = &t.min
                && v.cmp_go(&min.version).is_lt()
            {
                push(
                    matrix::rule::MIN,
                    Severity::Error,
                    format!(
                        "{built}, below the minimum {min} of tier {:?} ({}); rebuild it with \
                         {target}{why_tier}",
                        c.name, min.at
                    ),
                );
            }
            if let Some(b) = m.blocked.iter().find(|b| b.spec.matches(&v)) {
                push(
                    matrix::rule::BLOCKED,
                    Severity::Error,
                    format!(
                        "{built}, which the policy blocks ([[blocked]] {:?} at {}): {}; rebuild \
                         it with {target}{why_tier}",
                        b.written, b.at, b.reason
                    ),
                );
            }
            let below_min = tier_rules
                .and_then(|(_, t)| t.min.as_ref())
                .is_some_and(|min| v.cmp_go(&min.version).is_lt());
            if let Some((c, t)) = tier_rules
                && let Some(rec) = &t.recommended
                && v.cmp_go(&rec.version).is_lt()
                && !below_min
            {
                match &t.upgrade_by {
                    Some(d) if today > d.date => push(
                        matrix::rule::DEADLINE,
                        Severity::Error,
                        format!(
                            "{built}, below {rec}, the recommended version of tier {:?} ({}), \
                             and the deadline to upgrade was {} ({}); rebuild it with \
                             {target}{why_tier}",
                            c.name, rec.at, d.date, d.at
                        ),
                    ),
                    deadline => push(
                        matrix::rule::RECOMMENDED,
                        Severity::Warning,
                        format!(
                            "{built}, below {rec}, recommended for tier {:?} ({}){}; rebuild it \
                             with {target}{why_tier}",
                            c.name,
                            rec.at,
                            deadline
                                .as_ref()
                                .map(|d| format!("; upgrade by {} ({})", d.date, d.at))
                                .unwrap_or_default()
                        ),
                    ),
                }
            }
        }
    }

    if let Some(severity) = rules.replace.severity() {
        let allowed = |p: &str| {
            rules
                .allow_replace
                .iter()
                .any(|a| matrix::pattern_matches(a.get_ref(), p))
        };
        for dep in &info.deps {
            let Some(r) = &dep.replace else { continue };
            if allowed(&dep.path) || allowed(&r.path) {
                continue;
            }
            let by = if r.version.is_empty() || r.version == "(devel)" {
                r.path.clone()
            } else {
                format!("{} {}", r.path, r.version)
            };
            push(
                rule::REPLACE,
                severity,
                format!(
                    "{shown_path} was built with {} {} replaced by {by}: what it runs is not the \
                     published module; build it without the replace directive, or allow it in \
                     [check.binary] allow_replace of {}",
                    dep.path,
                    dep.version,
                    loaded.origin.file_name()
                ),
            );
        }
    }

    if let Some(severity) = rules.vcs_modified.severity()
        && info.setting("vcs.modified") == Some("true")
    {
        let rev = info
            .setting("vcs.revision")
            .map(|r| format!(" at {} revision {r}", info.setting("vcs").unwrap_or("vcs")))
            .unwrap_or_default();
        push(
            rule::VCS_MODIFIED,
            severity,
            format!(
                "{shown_path} was built from a tree with uncommitted changes (vcs.modified=true{rev}): \
                 no commit holds the code it runs; rebuild it from a clean checkout"
            ),
        );
    }

    for (k, want) in &rules.require {
        let key = k.get_ref();
        let want = want.get_ref().as_slice();
        let got = info.setting(key);
        if !got.is_some_and(|g| want.iter().any(|w| w == g)) {
            let got = match got {
                Some(g) => format!("with {key}={g}"),
                None => format!("without {key}"),
            };
            push(
                rule::SETTING,
                Severity::Error,
                format!(
                    "{shown_path} was built {got}; the policy requires {key}={} ([check.binary] \
                     require at {}); rebuild it with that setting",
                    one_of(want),
                    loaded.location(&k.span())
                ),
            );
        }
    }
    for (k, banned) in &rules.forbid {
        let key = k.get_ref();
        if let Some(got) = info.setting(key)
            && banned.get_ref().as_slice().iter().any(|b| b == got)
        {
            push(
                rule::SETTING,
                Severity::Error,
                format!(
                    "{shown_path} was built with {key}={got}, which the policy forbids \
                     ([check.binary] forbid at {}); rebuild it without it",
                    loaded.location(&k.span())
                ),
            );
        }
    }
    out
}

fn one_of(values: &[String]) -> String {
    match values {
        [one] => one.clone(),
        many => format!("one of {}", many.join(", ")),
    }
}
