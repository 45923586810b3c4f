//! `[check]`: the rules `gowarden check` applies to a whole repository (module hygiene and
//! the configuration lint, [`crate::repocheck`]), how serious each one is, and what the
//! repository may do with `replace` and `toolchain` lines.
//!
//! Each rule has a default severity; `[check] severity = { "mod.tidy" = "warning" }` changes
//! it, `"off"` turns it off. A rule id the catalogue does not know is an error naming the
//! policy line, so a misspelt id never leaves a rule silently at its default.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::load::LoadedPolicy;
use super::matrix::Severity;
use crate::error::{Error, Result};

/// A rule's severity as the policy writes it: [`Severity`] plus `off`, which no finding has
/// (an off rule makes none), so it stays its own type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    #[default]
    Error,
    Warning,
    Off,
}

impl Level {
    pub fn severity(self) -> Option<Severity> {
        match self {
            Level::Error => Some(Severity::Error),
            Level::Warning => Some(Severity::Warning),
            Level::Off => None,
        }
    }
}

/// Where a go.mod `replace` may point.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReplaceRule {
    /// Directories inside the repository only (and modules `replace_modules` names): the
    /// substituted code is in the same review.
    #[default]
    Repository,
    /// No `replace` at all, except to modules `replace_modules` names.
    None,
    /// Any replacement.
    Any,
}

/// What a go.mod/go.work `toolchain` line may be.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ToolchainLineRule {
    /// Any version the matrix allows for the module's tier.
    #[default]
    Allow,
    /// None: the policy chooses toolchains, and a go that bypasses the shim would switch.
    Forbid,
}

/// `[check]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckTable {
    /// Rule id → `"error"`, `"warning"` or `"off"`.
    #[serde(default)]
    pub severity: BTreeMap<Spanned<String>, Spanned<Level>>,
    #[serde(default)]
    pub replace: ReplaceRule,
    /// Module patterns (Go's `...` wildcard) a `replace` may point to whatever `replace` says,
    /// e.g. the company's forks: `["corp.example/forks/..."]`.
    #[serde(default)]
    pub replace_modules: Vec<Spanned<String>>,
    #[serde(default)]
    pub toolchain_line: ToolchainLineRule,
    /// `[check.binary]`: what `gowarden check --binary` holds built binaries to.
    #[serde(default)]
    pub binary: super::binary::BinaryRules,
}

/// The rules, their default severity, and what each is about. `mod.tidy` and `mod.verify` run
/// go (and may fetch modules through the policy's proxy), so a policy turns them on.
pub const RULES: &[(&str, Level, &str)] = &[
    (
        "mod.go-sum-missing",
        Level::Error,
        "go.mod requires modules but there is no go.sum",
    ),
    (
        "mod.go-sum-incomplete",
        Level::Error,
        "go.sum lacks a required module's checksum",
    ),
    (
        "mod.tidy",
        Level::Off,
        "`go mod tidy -diff` would change go.mod or go.sum",
    ),
    ("mod.verify", Level::Off, "`go mod verify` fails"),
    (
        "mod.replace",
        Level::Error,
        "a replace directive the policy does not allow",
    ),
    (
        "mod.gopath",
        Level::Error,
        "GOPATH mode: GO111MODULE=off, or Go code outside any module",
    ),
    (
        "mod.vendor",
        Level::Error,
        "vendor/modules.txt disagrees with go.mod",
    ),
    (
        "mod.toolchain-line",
        Level::Error,
        "a toolchain line the policy forbids",
    ),
    (
        "config.go-setting",
        Level::Error,
        "a Go setting the policy forbids or enforces differently",
    ),
    (
        "config.unpinned-install",
        Level::Error,
        "a tool installed or run at a moving version (@latest)",
    ),
    (
        "config.go-version",
        Level::Error,
        "GOTOOLCHAIN, a golang image or setup-go naming another Go version than the repository",
    ),
    (
        "tool.unpinned",
        Level::Error,
        "a governed tool the repository runs that neither the project nor the policy pins",
    ),
    (
        "config.unreadable",
        Level::Error,
        "a configuration file that cannot be parsed",
    ),
];

/// The severity of `rule` under the policy; `None`: off.
pub fn severity(policy: &LoadedPolicy, rule: &str) -> Option<Severity> {
    let set = policy
        .policy
        .check
        .severity
        .iter()
        .find(|(k, _)| k.get_ref() == rule)
        .map(|(_, v)| *v.get_ref());
    set.or_else(|| RULES.iter().find(|r| r.0 == rule).map(|r| r.1))
        .and_then(Level::severity)
}

/// `file:line` of the policy's severity entry for `rule`, else of the catalogue default.
pub fn rule_source(policy: &LoadedPolicy, rule: &str) -> String {
    match policy
        .policy
        .check
        .severity
        .iter()
        .find(|(k, _)| k.get_ref() == rule)
    {
        Some((k, _)) => format!("{} [check] severity", policy.location(&k.span())),
        None => format!("gowarden's default for {rule}"),
    }
}

pub fn validate(loaded: &LoadedPolicy) -> Result<()> {
    let table = &loaded.policy.check;
    for k in table.severity.keys() {
        if !RULES.iter().any(|r| r.0 == k.get_ref()) {
            let ids: Vec<&str> = RULES.iter().map(|r| r.0).collect();
            return Err(Error::new(format!(
                "invalid policy {}: [check] severity names {:?}, which is not a check rule; \
                 rules: {}",
                loaded.location(&k.span()),
                k.get_ref(),
                ids.join(", ")
            )));
        }
    }
    for p in &table.replace_modules {
        let v = p.get_ref();
        if v.is_empty() || v.contains(char::is_whitespace) || v.starts_with('.') {
            return Err(Error::new(format!(
                "invalid policy {}: [check] replace_modules entry {v:?} is not a module path \
                 pattern; write e.g. \"corp.example/forks/...\"",
                loaded.location(&p.span())
            )));
        }
    }
    Ok(())
}
