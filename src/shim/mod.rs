//! The hot path: what runs when gowarden is invoked as `go` or `gofmt`.
//!
//! [`plan`] (in `plan.rs`) does every decision and returns a [`Plan`] (or a [`Refusal`]) without side effects,
//! so `gowarden which` and `explain` show exactly what the shim would do; [`run`] (in `run.rs`)
//! audits the decision and execs.
//! Nothing here prints on success: go's stdout and stderr must be go's alone.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::error::Error;
use crate::gocli::Invocation;
use crate::policy::LoadedPolicy;
use crate::policy::matrix::TierChoice;
use crate::policy::roles::RoleChoice;
use crate::project::Project;
use crate::resolve::Request;
use crate::toolchain::Toolchain;

mod overlay;
pub(crate) mod plan;
mod run;
pub mod tool;

pub use plan::{Partial, PlanOptions, partial, plan, plan_opts, plan_with};
pub(crate) use plan::{effective_gomodcache, not_installed};
pub use run::run;

/// Counts nested shim invocations, so a loop ends in an error rather than forever.
pub const DEPTH_ENV: &str = crate::envvars::DEPTH;
/// Legitimate nesting (go → -toolexec wrapper → go) is shallow; anything deeper is a loop.
pub(crate) const MAX_DEPTH: u32 = 8;

/// The tool the shim stands in for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Go,
    Gofmt,
}

impl Tool {
    pub fn from_argv0(argv0: &OsStr) -> Option<Tool> {
        let name = Path::new(argv0).file_name()?;
        match name.as_bytes() {
            b"go" => Some(Tool::Go),
            b"gofmt" => Some(Tool::Gofmt),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Tool::Go => "go",
            Tool::Gofmt => "gofmt",
        }
    }
}

pub use crate::goenv::EnvChange;

/// Everything the shim decided for one invocation.
#[derive(Debug)]
pub struct Plan {
    pub tool: Tool,
    pub args: Vec<OsString>,
    pub policy: Rc<LoadedPolicy>,
    pub project: Project,
    pub request: Request,
    pub toolchain: Toolchain,
    /// Every toolchain discovery found (for explanations).
    pub installed: Vec<Toolchain>,
    /// Every change to go's environment, in the order applied. For `[env]` keys (see
    /// [`crate::envpolicy`]) `from` is the value go would have used without the shim (process
    /// environment, else the go env file, else `$GOROOT/go.env`); for GOROOT, GOTOOLCHAIN and
    /// GOWARDEN_DEPTH it is the process environment's.
    pub env: Vec<EnvChange>,
    /// The project's tier in the version matrix, and why; `None` without tiers.
    pub tier: Option<TierChoice>,
    /// The module path that stands for the project (the main module whose tier applies; of a
    /// workspace without tiers, its first): `gowarden.project` in the audit record, which
    /// `gowarden audit report` groups by.
    pub module: Option<String>,
    /// One-line warnings (below the recommended version, inconsistent go.mod lines) that
    /// [`run`] shows at most once a day per project.
    pub warnings: Vec<String>,
    /// The caller's role and what chose it; `None` when the policy has no roles.
    pub role: Option<RoleChoice>,
    /// The go command line as go will read it (GOFLAGS applied); read only where a role needs
    /// it, and `None` where go would reject it.
    pub invocation: Option<Invocation>,
    /// The policy's `[env]` keys: what go gets and where it came from (`gowarden which`).
    pub env_checks: Vec<crate::envpolicy::EnvCheck>,
    /// What the call will do and which inputs carry it (audit record, explain); computed
    /// where the policy has roles.
    pub effects: Vec<crate::policy::effects::Effect>,
    /// The go.work and go.mod go will use (whether or not they count as version files).
    pub go_work: Option<crate::project::ModFile>,
    pub go_mod: Option<crate::project::ModFile>,
    /// The settings judged, set in go's environment as decided so a file go reads later
    /// cannot differ (not [`Plan::env`]: they change nothing go would have used).
    pub pins: Vec<EnvChange>,
}

impl Plan {
    pub fn binary(&self) -> PathBuf {
        self.toolchain.go_binary(self.tool.name())
    }

    /// An environment lookup that sees what go will get: the plan's changes over the
    /// process environment.
    pub fn env_lookup(&self) -> impl Fn(&str) -> Option<OsString> + '_ {
        |key: &str| match self.env.iter().find(|c| c.key == key) {
            Some(c) => c.to.clone(),
            None => std::env::var_os(key),
        }
    }

    /// The files whose effects the rules judge, for a caller outside the shim (explain).
    pub fn effect_files(&self) -> crate::policy::effects::Files<'_> {
        crate::policy::effects::Files {
            dir: &self.project.dir,
            go_work: self.go_work.as_ref(),
            go_mod: self.go_mod.as_ref(),
            gowork: None,
        }
    }

    /// The tier name for the audit record.
    pub fn tier_name(&self) -> Option<&str> {
        self.tier.as_ref().map(|t| t.name.as_str())
    }
}

/// The ids of the refusals the shim makes itself; policy rules carry the policy's own ids.
pub mod rule {
    /// gowarden could not get as far as a decision: the policy cannot be loaded or trusted,
    /// a version file is malformed, the working directory is unreadable.
    pub const ERROR: &str = "error";
    pub const NOT_INSTALLED: &str = "toolchain-not-installed";
    pub const RECURSION: &str = "recursion";
    pub const EXEC_FAILED: &str = "exec-failed";
    pub const AUTO_INSTALL_FAILED: &str = "auto-install-failed";
    /// `go -C DIR` names a directory that does not exist.
    pub const CHDIR: &str = "chdir";
    /// A tool shim's name that the policy does not govern.
    pub const TOOL_NOT_GOVERNED: &str = "tool.not-governed";
    /// A tool pin that is there but cannot be used (no `require`, a `replace`).
    pub const TOOL_PIN_INVALID: &str = "tool.pin-invalid";
    /// Building the pinned tool failed (go's own error is printed above the refusal).
    pub const TOOL_BUILD_FAILED: &str = "tool.build-failed";
    /// Nothing pins the tool: the project must (refused, with the fix).
    pub const TOOL_UNPINNED: &str = "tool.unpinned";
}

/// The shim's exit status when it did not run go, from sysexits.h so that scripts and CI can
/// tell gowarden's "no" from go's own failures (go exits 1 or 2, and passes a test binary's
/// status through). docs/cli.md, "Exit status", is the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum RefusalStatus {
    /// `EX_NOPERM`: the policy refuses this call (version matrix and the repository's
    /// `.gowarden.toml` tier choice, role rules, `[env]`, an
    /// audit log that cannot be written under `on_failure = "deny"`).
    Refused = 77,
    /// `EX_CONFIG`: gowarden cannot work out what to run: an unreadable, unsafe or invalid
    /// policy, a malformed version file, no installed toolchain that matches, a
    /// `-C` directory that does not exist, a toolchain that cannot be executed.
    ConfigError = 78,
}

/// Why the shim will not run go: one message, the rule that refused, and (from the rule)
/// the exit status.
#[derive(Debug)]
pub struct Refusal {
    /// A short identifier for the audit record (`toolchain-not-installed`, a policy rule id).
    pub rule: String,
    pub message: String,
    /// The project's tier, where it was known when the refusal was made (audit record).
    pub tier: Option<String>,
    /// The project's module path, where it was known (audit record, as [`Plan::module`]).
    /// A boxed str: a Refusal travels in every `Result` of the hot path, kept small.
    pub module: Option<Box<str>>,
    /// The caller's role, where one was chosen before the refusal (for the audit record).
    /// Boxed: a Refusal travels in every `Result` of the hot path.
    pub role: Option<Box<RoleChoice>>,
    /// The toolchain (`go1.22.3`) whose installation would lift this refusal, set only where
    /// the policy's `[toolchains] auto_install` lets the shim install it ([`run`] does).
    pub install: Option<String>,
}

impl Refusal {
    /// The message is kept as the audit log records values: URL userinfo (a proxy password
    /// in GOPROXY, a token in a module URL) redacted, wherever it is printed (shim, `which`,
    /// `explain`, `drift`).
    pub fn new(rule: &str, message: impl Into<String>) -> Refusal {
        let message = message.into();
        Refusal {
            rule: rule.to_string(),
            message: crate::audit::redact_url_userinfo_str(&message).into_owned(),
            tier: None,
            module: None,
            role: None,
            install: None,
        }
    }

    /// The exit status for this refusal: the shim's own rules that mean "cannot work out what
    /// to run" are configuration errors; every other rule is the policy's and refuses.
    pub fn status(&self) -> RefusalStatus {
        match self.rule.as_str() {
            rule::ERROR
            | rule::NOT_INSTALLED
            | rule::RECURSION
            | rule::EXEC_FAILED
            | rule::AUTO_INSTALL_FAILED
            | rule::CHDIR
            | rule::TOOL_NOT_GOVERNED
            | rule::TOOL_PIN_INVALID
            | rule::TOOL_BUILD_FAILED => RefusalStatus::ConfigError,
            _ => RefusalStatus::Refused,
        }
    }

    pub fn with_tier(mut self, tier: Option<&TierChoice>) -> Refusal {
        self.tier = tier.map(|t| t.name.clone());
        self
    }
}

impl From<Error> for Refusal {
    fn from(e: Error) -> Refusal {
        Refusal::new(rule::ERROR, e.message())
    }
}
