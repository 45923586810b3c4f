//! The hot path: what runs when gowarden is invoked as `go` or `gofmt`.
//!
//! [`plan`] (in `plan.rs`) does every decision and returns a [`Plan`] (or a [`Refusal`]) without side effects,
//! so `gowarden which` and `explain` show exactly what the shim would do; [`run`] (in `run.rs`)
//! audits the decision and execs.
//! Nothing here prints on success: go's stdout and stderr must be go's alone.

pub use crate::decision::{Plan, Tool, Unplanned};
pub use crate::goenv::EnvChange;
pub use crate::outcome::{Refusal, RefusalStatus, rule};

mod overlay;
pub(crate) mod plan;
mod run;
pub mod tool;

pub(crate) use crate::goenv::effective_gomodcache;
pub(crate) use plan::not_installed;
pub use plan::{Partial, PlanOptions, partial, plan, plan_opts, plan_or_install, plan_with};
pub use run::run;

/// Counts nested shim invocations, so a loop ends in an error rather than forever.
pub const DEPTH_ENV: &str = crate::envvars::DEPTH;
/// Legitimate nesting (go → -toolexec wrapper → go) is shallow; anything deeper is a loop.
pub(crate) const MAX_DEPTH: u32 = 8;
