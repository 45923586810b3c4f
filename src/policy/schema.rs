//! The policy schema, one struct per TOML table, every table `deny_unknown_fields` so a
//! misspelt key is an error with file, line and column rather than a silently skipped rule.
//!
//! `policies/README.md` documents every key; keep the two in step.

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
