//! The outcomes gowarden's decisions share, below the policy and the shim so that every layer
//! can make one: a refusal (the shim's, `[env]`'s, confinement's, an install's) with its rule
//! and exit status, and the role choice a refusal records.

use crate::error::Error;

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

/// The role a caller has and what gave it to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleChoice {
    pub name: String,
    pub chosen_by: ChosenBy,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChosenBy {
    /// The `index`-th `[[binding]]` (0-based) at `location` (`file:line`) matched; `matched`
    /// says which of its conditions held (`group "ci", env CI="true"`).
    Binding {
        index: usize,
        location: String,
        matched: String,
    },
    /// No binding matched: `[roles] default` at `location`.
    Default { location: String },
    /// `gowarden explain --role NAME`.
    Preview,
}

impl ChosenBy {
    /// The policy `file:line` that chose the role, if one did.
    pub fn location(&self) -> Option<&str> {
        match self {
            ChosenBy::Binding { location, .. } | ChosenBy::Default { location } => Some(location),
            ChosenBy::Preview => None,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            ChosenBy::Binding { .. } => "binding",
            ChosenBy::Default { .. } => "default",
            ChosenBy::Preview => "preview",
        }
    }
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
    /// The project's module path, where it was known (audit record, as `Plan::module`).
    /// A boxed str: a Refusal travels in every `Result` of the hot path, kept small.
    pub module: Option<Box<str>>,
    /// The caller's role, where one was chosen before the refusal (for the audit record).
    /// Boxed: a Refusal travels in every `Result` of the hot path.
    pub role: Option<Box<RoleChoice>>,
    /// The toolchain (`go1.22.3`) whose installation would lift this refusal, set only where
    /// the policy's `[toolchains] auto_install` lets the shim install it (`shim::run` does).
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
}

impl From<Error> for Refusal {
    fn from(e: Error) -> Refusal {
        Refusal::new(rule::ERROR, e.message())
    }
}
