//! The outcomes gowarden's decisions share, below the policy and the shim so that every layer
//! can make one: the id of the rule that decided ([`RuleId`]), where it points
//! ([`Location`]), a finding of `gowarden check` or drift with its one [`Severity`]
//! ([`Finding`]), a refusal (the shim's, `[env]`'s, confinement's, an install's) with its rule
//! and exit status, and the role choice a refusal records.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;

use crate::error::{Error, ErrorKind};

/// The rules gowarden decides by itself (the policy names the others). Code that reacts to
/// one of them matches the variant, never its spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// gowarden could not get as far as a decision: the policy cannot be loaded or trusted,
    /// the working directory is unreadable.
    Error,
    /// A version the project or the caller declares is malformed (`.go-version`, a go.mod
    /// `go`/`toolchain` line, `$GOWARDEN_GO_VERSION`): the same id in `check` and the audit
    /// record.
    VersionInvalid,
    NotInstalled,
    Recursion,
    ExecFailed,
    AutoInstallFailed,
    /// `go -C DIR` names a directory that does not exist.
    Chdir,
    /// A tool shim's name that the policy does not govern.
    ToolNotGoverned,
    /// A tool pin that is there but cannot be used (no `require`, a `replace`).
    ToolPinInvalid,
    /// Building the pinned tool failed (go's own error is printed above the refusal).
    ToolBuildFailed,
    /// The policy refused the go call that builds the pinned tool.
    ToolBuildRefused,
    /// Nothing pins the tool: the project must (refused, with the fix).
    ToolUnpinned,
}

impl Builtin {
    const ALL: [Builtin; 12] = [
        Builtin::Error,
        Builtin::VersionInvalid,
        Builtin::NotInstalled,
        Builtin::Recursion,
        Builtin::ExecFailed,
        Builtin::AutoInstallFailed,
        Builtin::Chdir,
        Builtin::ToolNotGoverned,
        Builtin::ToolPinInvalid,
        Builtin::ToolBuildFailed,
        Builtin::ToolBuildRefused,
        Builtin::ToolUnpinned,
    ];

    /// The id as the audit record, `which --json` and `check` spell it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Builtin::Error => "error",
            Builtin::VersionInvalid => "version.invalid",
            Builtin::NotInstalled => "toolchain-not-installed",
            Builtin::Recursion => "recursion",
            Builtin::ExecFailed => "exec-failed",
            Builtin::AutoInstallFailed => "auto-install-failed",
            Builtin::Chdir => "chdir",
            Builtin::ToolNotGoverned => "tool.not-governed",
            Builtin::ToolPinInvalid => "tool.pin-invalid",
            Builtin::ToolBuildFailed => "tool.build-failed",
            Builtin::ToolBuildRefused => "tool.build-refused",
            Builtin::ToolUnpinned => "tool.unpinned",
        }
    }

    /// The exit status of a refusal by this rule: the ones that mean "cannot work out what to
    /// run" are configuration errors; an unpinned tool is the policy refusing.
    pub fn status(self) -> RefusalStatus {
        match self {
            Builtin::Error
            | Builtin::VersionInvalid
            | Builtin::NotInstalled
            | Builtin::Recursion
            | Builtin::ExecFailed
            | Builtin::AutoInstallFailed
            | Builtin::Chdir
            | Builtin::ToolNotGoverned
            | Builtin::ToolPinInvalid
            | Builtin::ToolBuildFailed => RefusalStatus::ConfigError,
            Builtin::ToolBuildRefused | Builtin::ToolUnpinned => RefusalStatus::Refused,
        }
    }
}

/// The id of the rule behind a refusal or a finding: one of gowarden's own ([`Builtin`]), or
/// one the policy or a check names (a deny rule's `id`, `role.NAME.confine`, `matrix.min`,
/// `mod.tidy`). The same value is printed by `check`, recorded as `gowarden.rule` and
/// serialized as its string.
#[derive(Debug, Clone)]
pub enum RuleId {
    Builtin(Builtin),
    Named(Cow<'static, str>),
}

impl RuleId {
    pub const fn named(id: &'static str) -> RuleId {
        RuleId::Named(Cow::Borrowed(id))
    }

    pub fn as_str(&self) -> &str {
        match self {
            RuleId::Builtin(b) => b.as_str(),
            RuleId::Named(n) => n,
        }
    }

    pub fn builtin(&self) -> Option<Builtin> {
        match self {
            RuleId::Builtin(b) => Some(*b),
            RuleId::Named(_) => None,
        }
    }

    pub fn is(&self, b: Builtin) -> bool {
        self.builtin() == Some(b)
    }
}

/// A name that spells a built-in rule is that rule, so an id read back (a policy, a test)
/// compares equal however it was made.
impl From<&str> for RuleId {
    fn from(id: &str) -> RuleId {
        match Builtin::ALL.iter().find(|b| b.as_str() == id) {
            Some(b) => RuleId::Builtin(*b),
            None => RuleId::Named(Cow::Owned(id.to_string())),
        }
    }
}

impl From<&String> for RuleId {
    fn from(id: &String) -> RuleId {
        RuleId::from(id.as_str())
    }
}

impl From<Builtin> for RuleId {
    fn from(b: Builtin) -> RuleId {
        RuleId::Builtin(b)
    }
}

impl PartialEq for RuleId {
    fn eq(&self, other: &RuleId) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for RuleId {}

impl PartialEq<&str> for RuleId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for RuleId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The built-in rules by the names the shim's code has always used.
pub mod rule {
    use super::{Builtin, RuleId};

    pub const ERROR: RuleId = RuleId::Builtin(Builtin::Error);
    pub const VERSION_INVALID: RuleId = RuleId::Builtin(Builtin::VersionInvalid);
    pub const NOT_INSTALLED: RuleId = RuleId::Builtin(Builtin::NotInstalled);
    pub const RECURSION: RuleId = RuleId::Builtin(Builtin::Recursion);
    pub const EXEC_FAILED: RuleId = RuleId::Builtin(Builtin::ExecFailed);
    pub const AUTO_INSTALL_FAILED: RuleId = RuleId::Builtin(Builtin::AutoInstallFailed);
    pub const CHDIR: RuleId = RuleId::Builtin(Builtin::Chdir);
    pub const TOOL_NOT_GOVERNED: RuleId = RuleId::Builtin(Builtin::ToolNotGoverned);
    pub const TOOL_PIN_INVALID: RuleId = RuleId::Builtin(Builtin::ToolPinInvalid);
    pub const TOOL_BUILD_FAILED: RuleId = RuleId::Builtin(Builtin::ToolBuildFailed);
    pub const TOOL_BUILD_REFUSED: RuleId = RuleId::Builtin(Builtin::ToolBuildRefused);
    pub const TOOL_UNPINNED: RuleId = RuleId::Builtin(Builtin::ToolUnpinned);
}

/// How serious a finding is: errors refuse (shim) or fail (`check`, drift); warnings do
/// neither. The one severity of check, drift and policy lint. Two others stay, rightly
/// different: the policy's `[check] severity` spelling (`policy::checks::Level`, which adds
/// `off`), and the audit record's OpenTelemetry severity (`audit::Severity`, numbered as
/// the log data model says).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

pub use crate::location::Location;

/// One thing wrong: the rule, how serious, a one-line message that says what, where, why and
/// how to fix it, and the file to fix (for CI annotations). `gowarden check` reports these,
/// and the shim refuses on the errors among the version matrix's.
///
/// Serialized as `{"rule", "severity", "message", "file", "line", "column"}` (`null` where
/// unknown): the `violations` and `warnings` of `check --json` (docs/matrix-and-check.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: RuleId,
    pub severity: Severity,
    pub message: String,
    pub location: Option<Location>,
}

impl Finding {
    pub fn file(&self) -> Option<&std::path::Path> {
        self.location.as_ref().map(|l| l.file.as_path())
    }

    pub fn line(&self) -> Option<usize> {
        self.location.as_ref().and_then(|l| l.line)
    }

    pub fn column(&self) -> Option<usize> {
        self.location.as_ref().and_then(|l| l.column)
    }
}

impl Serialize for Finding {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Finding", 6)?;
        st.serialize_field("rule", &self.rule)?;
        st.serialize_field("severity", &self.severity)?;
        st.serialize_field("message", &self.message)?;
        st.serialize_field("file", &self.file())?;
        st.serialize_field("line", &self.line())?;
        st.serialize_field("column", &self.column())?;
        st.end()
    }
}

/// The role a caller has and what gave it to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleChoice {
    pub name: String,
    pub chosen_by: ChosenBy,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChosenBy {
    /// The `index`-th `[[binding]]` (0-based) at `location` matched; `matched` says which of
    /// its conditions held (`group "ci", env CI="true"`).
    Binding {
        index: usize,
        location: Location,
        matched: String,
    },
    /// No binding matched: `[roles] default` at `location`.
    Default { location: Location },
    /// `gowarden explain --role NAME`.
    Preview,
}

impl ChosenBy {
    /// The policy line that chose the role, if one did.
    pub fn location(&self) -> Option<&Location> {
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
    /// The rule that refused (audit record, `which --json`).
    pub rule: RuleId,
    pub message: String,
    /// The project's tier, where it was known when the refusal was made (audit record).
    /// A boxed str, as `module` is.
    pub tier: Option<Box<str>>,
    /// The project's module path, where it was known (audit record, as `Plan::module`).
    /// A boxed str: a Refusal travels in every `Result` of the hot path, kept small.
    pub module: Option<Box<str>>,
    /// The caller's role, where one was chosen before the refusal (for the audit record).
    /// Boxed: a Refusal travels in every `Result` of the hot path.
    pub role: Option<Box<RoleChoice>>,
    /// Where the rule that refused is in the policy, for a rule the policy writes (a
    /// `[[blocked]]` entry, a tier's `min`, a role's deny rule): `explain`'s `rule.location`.
    /// Boxed, as `role` is.
    pub location: Option<Box<Location>>,
}

impl Refusal {
    /// The message is kept as the audit log records values: URL userinfo (a proxy password
    /// in GOPROXY, a token in a module URL) redacted, wherever it is printed (shim, `which`,
    /// `explain`, `drift`).
    pub fn new(rule: impl Into<RuleId>, message: impl Into<String>) -> Refusal {
        let message = message.into();
        Refusal {
            rule: rule.into(),
            message: crate::audit::redact_url_userinfo_str(&message).into_owned(),
            tier: None,
            module: None,
            role: None,
            location: None,
        }
    }

    /// The refusal, saying where its rule is in the policy.
    pub fn at(mut self, location: Option<Location>) -> Refusal {
        self.location = location.map(Box::new);
        self
    }

    /// The exit status for this refusal: a built-in rule's own ([`Builtin::status`]); every
    /// rule the policy names refuses.
    pub fn status(&self) -> RefusalStatus {
        match &self.rule {
            RuleId::Builtin(b) => b.status(),
            RuleId::Named(_) => RefusalStatus::Refused,
        }
    }
}

/// An error that stopped the decision: a malformed declared version is `version.invalid`, as
/// `check` reports it; anything else is `error`.
impl From<Error> for Refusal {
    fn from(e: Error) -> Refusal {
        let rule = match e.kind() {
            ErrorKind::InvalidVersion => rule::VERSION_INVALID,
            ErrorKind::Other => rule::ERROR,
        };
        Refusal::new(rule, e.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_builtin_id_read_back_is_the_builtin_and_other_ids_are_named() {
        for b in Builtin::ALL {
            assert_eq!(
                RuleId::from(b.as_str()).builtin(),
                Some(b),
                "{}",
                b.as_str()
            );
        }
        let named = RuleId::from("no-toolexec");
        assert_eq!(named.builtin(), None);
        assert_eq!(named, RuleId::named("no-toolexec"));
        assert_eq!(Refusal::new(named, "m").status(), RefusalStatus::Refused);
        assert_eq!(
            Refusal::new(rule::VERSION_INVALID, "m").status(),
            RefusalStatus::ConfigError
        );
    }

    #[test]
    fn a_malformed_version_is_refused_as_version_invalid() {
        let e = Error::new("x/.go-version:2: \"1.22.x\" is not a Go version");
        assert!(Refusal::from(e.clone()).rule.is(Builtin::Error));
        let r = Refusal::from(e.invalid_version().context("in /src"));
        assert!(r.rule.is(Builtin::VersionInvalid));
        assert_eq!(r.rule.to_string(), "version.invalid");
    }

    #[test]
    fn a_finding_serializes_with_null_where_it_has_no_place() {
        let f = Finding {
            rule: RuleId::named("matrix.min"),
            severity: Severity::Error,
            message: "m".into(),
            location: Some(Location::line("/p/.go-version", 1)),
        };
        assert_eq!(
            serde_json::to_string(&f).unwrap(),
            r#"{"rule":"matrix.min","severity":"error","message":"m","file":"/p/.go-version","line":1,"column":null}"#
        );
        let f = Finding {
            location: None,
            ..f
        };
        assert_eq!(
            serde_json::to_string(&f).unwrap(),
            r#"{"rule":"matrix.min","severity":"error","message":"m","file":null,"line":null,"column":null}"#
        );
    }
}
