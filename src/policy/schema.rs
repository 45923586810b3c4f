//! The policy schema, one struct per TOML table, every table `deny_unknown_fields` so a
//! misspelt key is an error with file, line and column rather than a silently skipped rule.
//!
//! `policies/README.md` documents every key; keep the two in step.

use std::collections::BTreeMap;

use serde::Deserialize;
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
    pub env: Env,
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
        }
    }
}

/// `[resolve]`: which project files may choose the Go version.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resolve {
    /// The version sources that count, from `.go-version`, `.tool-versions`, `go.work`,
    /// `go.mod`. Their order of precedence is fixed (the order listed here).
    #[serde(default = "all_version_files")]
    pub files: Vec<Spanned<String>>,
    /// Whether `GOWARDEN_GO_VERSION` in the environment may choose the version.
    #[serde(default = "yes")]
    pub allow_env_override: bool,
}

impl Default for Resolve {
    fn default() -> Self {
        Resolve {
            files: all_version_files(),
            allow_env_override: true,
        }
    }
}

pub const VERSION_FILES: [&str; 4] = [".go-version", ".tool-versions", "go.work", "go.mod"];

fn all_version_files() -> Vec<Spanned<String>> {
    VERSION_FILES
        .iter()
        .map(|f| Spanned::new(0..0, f.to_string()))
        .collect()
}

fn yes() -> bool {
    true
}

fn local() -> String {
    "local".into()
}

/// `[env]`: go's environment as the shim runs it (`crate::envpolicy` applies it; `gowarden
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
