//! The policy schema, one struct per TOML table, every table `deny_unknown_fields` so a
//! misspelt key is an error with file, line and column rather than a silently skipped rule.
//!
//! `policies/README.md` documents every key; keep the two in step.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};
use toml::Spanned;

/// A whole policy file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    #[serde(default)]
    pub policy: Meta,
    #[serde(default)]
    pub toolchains: Toolchains,
    #[serde(default)]
    pub resolve: Resolve,
    #[serde(default)]
    pub audit: Audit,
    /// `[matrix]`: settings of the version matrix as a whole.
    #[serde(default)]
    pub matrix: MatrixSettings,
    /// `[[tier]]`: the version matrix, one entry per tier of modules.
    #[serde(default, rename = "tier")]
    pub tiers: Vec<Spanned<Tier>>,
    /// `[[blocked]]`: releases that must never run, whatever the tier.
    #[serde(default)]
    pub blocked: Vec<Spanned<Blocked>>,
    /// `[roles]`, `[[binding]]` and `[role.NAME]`: defined in `roles.rs` with their checks.
    #[serde(default)]
    pub roles: super::roles::RolesTable,
    #[serde(default)]
    pub binding: Vec<Spanned<super::roles::Binding>>,
    #[serde(default)]
    pub role: std::collections::BTreeMap<Spanned<String>, Spanned<super::roles::Role>>,
    #[serde(default)]
    pub env: Env,
    /// `[tools]`: the company-wide pin of each governed tool, `NAME = "pkg/path@vX.Y.Z"`, used
    /// where the project pins none ([`crate::tools`]).
    #[serde(default)]
    pub tools: BTreeMap<Spanned<String>, Spanned<String>>,
    /// `[check]`: what `gowarden check` holds a repository and its binaries to ([`super::checks`]).
    #[serde(default)]
    pub check: super::checks::CheckTable,
}

/// `[policy]`: about the policy file itself.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    /// A name for messages and the audit record.
    pub name: Option<String>,
    /// In the system policy only: lets users replace it with `GOWARDEN_POLICY` or their own
    /// policy file. Off by default, so a system policy cannot be walked around.
    #[serde(default)]
    pub allow_user_policy: bool,
}

/// `[toolchains]`: where installed Go toolchains are found and how the chosen one is run.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Toolchains {
    /// Extra places to look: a GOROOT, a directory of GOROOTs, or a glob of either; `~/`
    /// expands to the home directory.
    #[serde(default)]
    pub search: Vec<Spanned<String>>,
    /// The version to use where the project names none: `1.22.10`, `1.22` (newest installed
    /// 1.22.x). Absent: the newest installed stable release.
    pub default: Option<Spanned<String>>,
    /// Look for toolchains in Go's module cache (`golang.org/toolchain@…`).
    #[serde(default = "yes")]
    pub module_cache: bool,
    /// Look in the install dirs of goenv, asdf, mise, gvm and `~/sdk`.
    #[serde(default = "yes")]
    pub version_managers: bool,
    /// Consider every `go` on PATH that is not the shim itself.
    #[serde(default = "yes")]
    pub path: bool,
    /// The GOTOOLCHAIN value go runs with. `local` keeps go.mod `toolchain` lines from making
    /// go switch or download a toolchain behind the policy; `inherit` leaves the caller's.
    #[serde(default = "local")]
    pub gotoolchain: String,
    /// When the project asks for an exact version that is not installed, the shim installs it
    /// (through Go's module proxy, checked against the checksum database) instead of refusing.
    #[serde(default)]
    pub auto_install: bool,
}

impl Toolchains {
    /// Where toolchain discovery may look.
    pub fn search(&self) -> crate::toolchain::Search<'_> {
        crate::toolchain::Search {
            search: self.search.iter().map(|s| s.get_ref().as_str()).collect(),
            module_cache: self.module_cache,
            version_managers: self.version_managers,
            path: self.path,
        }
    }
}

impl Default for Toolchains {
    fn default() -> Self {
        Toolchains {
            search: Vec::new(),
            default: None,
            module_cache: true,
            version_managers: true,
            path: true,
            gotoolchain: local(),
            auto_install: false,
        }
    }
}

/// `[resolve]`: which project files may choose the Go version.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resolve {
    /// The version sources that count, from [`crate::versionfile::policy_names`]. Their
    /// order of precedence is fixed (nearest first, then the order listed there).
    #[serde(default = "all_version_files")]
    pub files: Vec<Spanned<String>>,
    /// Whether `GOWARDEN_GO_VERSION` in the environment may choose the version.
    #[serde(default = "yes")]
    pub allow_env_override: bool,
}

impl Resolve {
    /// Which of the version files may choose the version, as a [`Wanted`] for the walk.
    ///
    /// [`Wanted`]: crate::project::Wanted
    pub fn wanted(&self) -> crate::project::Wanted {
        let counts = |name: &str| self.files.iter().any(|f| f.get_ref() == name);
        crate::project::Wanted {
            formats: crate::versionfile::Format::ALL
                .into_iter()
                .filter(|f| counts(f.name()))
                .fold(crate::versionfile::Formats::NONE, |set, f| set.with(f)),
            go_work: counts("go.work"),
            go_mod: counts("go.mod"),
        }
    }
}

impl Default for Resolve {
    fn default() -> Self {
        Resolve {
            files: all_version_files(),
            allow_env_override: true,
        }
    }
}

fn all_version_files() -> Vec<Spanned<String>> {
    crate::versionfile::policy_names()
        .map(|f| Spanned::new(0..0, f.to_string()))
        .collect()
}

fn yes() -> bool {
    true
}

fn local() -> String {
    "local".into()
}

/// `[audit]`: the tamper-evident record of every go call (see `crate::audit`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Audit {
    /// Whether the shim records anything at all.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The live log file. `~/` is the home dir; `{uid}` and `{user}` are the caller's, so a
    /// shared directory can hold one file per user. Default:
    /// `$XDG_STATE_HOME/gowarden/audit.jsonl`.
    pub path: Option<Spanned<String>>,
    /// `flush` (in the kernel before go runs) or `fsync` (on disk before go runs).
    #[serde(default)]
    pub durability: crate::audit::Durability,
    /// `deny` (default): go does not run when its record cannot be written; `allow`: it
    /// runs and a warning is printed.
    #[serde(default)]
    pub on_failure: crate::audit::OnFailure,
    /// Rotate the live file before it would grow past this many bytes.
    pub max_bytes: Option<u64>,
    /// `all`, or `mutating` to skip read-only calls (`go version`, `go env` without -w/-u,
    /// `go list`, ...) that IDEs make many times a minute.
    #[serde(default)]
    pub commands: crate::audit::Commands,
    /// Glob patterns over environment variable names whose values are recorded as REDACTED
    /// (URL userinfo is always redacted).
    #[serde(default = "default_redact")]
    pub redact: Vec<String>,
}

impl Default for Audit {
    fn default() -> Self {
        Audit {
            enabled: true,
            path: None,
            durability: Default::default(),
            on_failure: Default::default(),
            max_bytes: None,
            commands: Default::default(),
            redact: default_redact(),
        }
    }
}

fn default_redact() -> Vec<String> {
    ["*TOKEN*", "*PASSWORD*", "*SECRET*", "*_KEY"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// `[matrix]`: how modules fall into tiers, and what `gowarden check` demands of a project.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatrixSettings {
    /// The tier of a module that no tier's `modules` pattern matches. Absent: such modules
    /// have no tier, and only `[[blocked]]` applies to them.
    pub default_tier: Option<Spanned<String>>,
    /// `gowarden check` reports a project without a `.go-version` file. The shim never
    /// refuses for this: `go` must keep working outside projects.
    #[serde(default)]
    pub require_go_version: bool,
}

/// `[[tier]]`: a group of modules held to the same Go versions, with an owner to ask.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    pub name: Spanned<String>,
    /// Module paths (the go.mod `module` line) in this tier, as Go package patterns:
    /// `corp.example/pay/...` matches `corp.example/pay` and every path below it.
    #[serde(default)]
    pub modules: Vec<Spanned<String>>,
    /// Go versions older than this are refused.
    pub min: Option<Spanned<String>>,
    /// Go versions older than this get a warning until `upgrade_by`, and are refused after it.
    pub recommended: Option<Spanned<String>>,
    /// The last day (UTC) on which a version below `recommended` still runs.
    pub upgrade_by: Option<Spanned<DateText>>,
    /// Who to ask about this tier: a team, a mailing list, a channel.
    pub owner: Spanned<String>,
}

/// `[[blocked]]`: a release that must never run.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Blocked {
    /// `1.22.4` (that release) or `1.21` (every 1.21 release and prerelease).
    pub version: Spanned<String>,
    /// Why, shown in every refusal (e.g. the security advisory).
    pub reason: Spanned<String>,
}

/// A date as written in the policy: a TOML date (`upgrade_by = 2025-06-30`) or a string
/// (`"2025-06-30"`). Kept as text so that an impossible date is reported by the matrix lint,
/// with every other problem of the file, rather than as the first and only parse error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateText(pub String);

impl<'de> Deserialize<'de> for DateText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match toml::Value::deserialize(d)? {
            toml::Value::String(s) => Ok(DateText(s)),
            toml::Value::Datetime(dt) => Ok(DateText(dt.to_string())),
            other => Err(serde::de::Error::custom(format!(
                "expected a date such as 2025-06-30, found {}",
                other.type_str()
            ))),
        }
    }
}
/// `[env]`: go's environment as the shim runs it (`crate::policy::env` applies it; `gowarden
/// drift` checks what a call bypassing the shim gets). Keys are cmd/go's configuration
/// variables; GOROOT and GOTOOLCHAIN belong to `[toolchains]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Env {
    /// Set for go whatever the caller's environment or go env file says.
    #[serde(default)]
    pub enforce: BTreeMap<String, Spanned<String>>,
    /// Never in go's environment, nor read from the caller's go env file.
    #[serde(default)]
    pub forbid: Vec<Spanned<String>>,
    /// Set only where neither the environment nor the user's go env file sets the key.
    #[serde(default)]
    pub defaults: BTreeMap<String, Spanned<String>>,
    /// What a caller's value that differs from `enforce`, or sets a forbidden key, gets.
    #[serde(default)]
    pub on_conflict: OnConflict,
}

impl Env {
    pub fn is_empty(&self) -> bool {
        self.enforce.is_empty() && self.forbid.is_empty() && self.defaults.is_empty()
    }
}

/// `[env] on_conflict`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnConflict {
    /// Replace the caller's value silently (recorded in the plan and the audit record).
    #[default]
    Override,
    /// Refuse to run go, naming the key, where its value came from and the fix.
    Refuse,
}
