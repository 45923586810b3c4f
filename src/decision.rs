//! What the go shim decided for one call: the [`Plan`] that [`crate::shim`] makes without side
//! effects and then audits and execs, and that `gowarden which`/`explain`, drift, auditing and
//! confinement read. It sits above the policy (a plan holds the loaded policy, the tier, the
//! role, the effects) and below everything that reads a plan, so none of those import the shim.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::gocli::Invocation;
use crate::goenv::EnvChange;
use crate::outcome::Refusal;
use crate::policy::LoadedPolicy;
use crate::policy::matrix::TierChoice;
use crate::policy::roles::RoleChoice;
use crate::project::Project;
use crate::resolve::Request;
use crate::toolchain::Toolchain;

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
    /// [`crate::policy::env`]) `from` is the value go would have used without the shim (process
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
    /// `shim::run` shows at most once a day per project.
    pub warnings: Vec<String>,
    /// The caller's role and what chose it; `None` when the policy has no roles.
    pub role: Option<RoleChoice>,
    /// The go command line as go will read it (GOFLAGS applied); read only where a role needs
    /// it, and `None` where go would reject it.
    pub invocation: Option<Invocation>,
    /// The policy's `[env]` keys: what go gets and where it came from (`gowarden which`).
    pub env_checks: Vec<crate::policy::env::EnvCheck>,
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
            None => crate::environ::var_os(key).map(OsString::from),
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

/// A call the shim made no plan for: refused, or refused only until a toolchain is installed
/// (`[toolchains] auto_install` and an exact version the matrix allows), which `shim::run`
/// does before it plans again. Every other caller sees the refusal alone
/// ([`Unplanned::into_refusal`]): `which`, drift and `explain` never install.
#[derive(Debug)]
pub enum Unplanned {
    Refused(Refusal),
    Install {
        /// The toolchain to install, `go1.22.3`.
        toolchain: String,
        /// What the refusal is if it is not installed.
        refusal: Refusal,
    },
}

impl Unplanned {
    pub fn into_refusal(self) -> Refusal {
        match self {
            Unplanned::Refused(r) | Unplanned::Install { refusal: r, .. } => r,
        }
    }

    pub fn refusal_mut(&mut self) -> &mut Refusal {
        match self {
            Unplanned::Refused(r) | Unplanned::Install { refusal: r, .. } => r,
        }
    }
}

impl From<Refusal> for Unplanned {
    fn from(r: Refusal) -> Unplanned {
        Unplanned::Refused(r)
    }
}
