//! `gowarden drift`: does this machine and repository still match the policy, for every way
//! go can be run here, including calls that bypass the shim (an IDE, a script using the real
//! go's absolute path, a CI step with its own PATH)?
//!
//! Four checks, each yielding [`Finding`]s with `key`, `expected`, `actual`, `source` and
//! `severity`:
//! - [`env`]: the policy's enforced and forbidden keys (and `[toolchains] gotoolchain`) in the
//!   process environment, the user's go env file and `$GOROOT/go.env`, with the values read
//!   from the chosen real toolchain (`go env -json`, run directly with `GOTOOLCHAIN=local`);
//! - [`versions`]: what the repository declares (`.go-version`, `.tool-versions`, the go.work /
//!   go.mod `go` and `toolchain` lines), what is installed, and what runs;
//! - [`path`]: the shim first on PATH, and every `go`/`gofmt` ahead of it;
//! - [`baseline`]: a snapshot taken earlier (`gowarden drift snapshot`).
//!
//! Exit status follows driftctl: 0 no drift, 1 drift, 2 could not check. This module runs
//! go (`go env -json`), so it is CLI-only, never on the shim's hot path.

pub mod baseline;
pub mod env;
pub mod fix;
pub mod path;
pub mod versions;
pub mod watch;

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use serde_json::json;

use crate::goenv::Origin;
use crate::policy::LoadedPolicy;
use crate::project::{Project, Wanted};
use crate::shim::{self, Plan, PlanOptions, Refusal, Tool};

/// How bad a finding is. Both are drift (exit 1); the severity ranks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// go, run here with or without the shim, does something the policy does not allow, or
    /// the repository contradicts itself about the toolchain.
    Error,
    /// Latent or cosmetic: takes effect only in some contexts (an IDE without the shell's
    /// variables, another tool reading `.tool-versions`).
    Warning,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// Which check found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    Env,
    Version,
    Path,
    Baseline,
}

impl Category {
    pub fn name(self) -> &'static str {
        match self {
            Category::Env => "env",
            Category::Version => "version",
            Category::Path => "path",
            Category::Baseline => "baseline",
        }
    }
}

/// Where the drifting value lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The process environment.
    Env,
    /// The user's go env file.
    EnvFile { path: PathBuf, line: usize },
    /// `$GOROOT/go.env` of the chosen toolchain.
    GorootGoEnv { path: PathBuf, line: usize },
    /// Nothing sets it: go's built-in default.
    GoDefault,
    /// A project file (`.go-version`, go.mod, ...); `line` is `None` for an implied value.
    File { path: PathBuf, line: Option<usize> },
    /// A PATH entry (`index` counts from 1).
    PathEntry { dir: PathBuf, index: usize },
    /// A baseline snapshot file.
    Baseline { path: PathBuf },
}

impl Source {
    pub fn from_origin(origin: &Origin) -> Source {
        match origin {
            Origin::ProcessEnv => Source::Env,
            Origin::EnvFile { path, line } => Source::EnvFile {
                path: path.clone(),
                line: *line,
            },
            Origin::GorootGoEnv { path, line, .. } => Source::GorootGoEnv {
                path: path.clone(),
                line: *line,
            },
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Source::Env => "env",
            Source::EnvFile { .. } => "env-file",
            Source::GorootGoEnv { .. } => "go.env",
            Source::GoDefault => "default",
            Source::File { .. } => "file",
            Source::PathEntry { .. } => "path",
            Source::Baseline { .. } => "baseline",
        }
    }

    /// `{"kind", "path", "line"}`; `path` and `line` are null where they do not apply. For a
    /// PATH entry `line` is its position in PATH.
    pub fn to_json(&self) -> serde_json::Value {
        let (path, line): (Option<&Path>, Option<usize>) = match self {
            Source::Env | Source::GoDefault => (None, None),
            Source::EnvFile { path, line } | Source::GorootGoEnv { path, line } => {
                (Some(path), Some(*line))
            }
            Source::File { path, line } => (Some(path), *line),
            Source::PathEntry { dir, index } => (Some(dir), Some(*index)),
            Source::Baseline { path } => (Some(path), None),
        };
        json!({"kind": self.kind(), "path": path, "line": line})
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Env => f.write_str("the environment"),
            Source::EnvFile { path, line } => {
                write!(f, "the go env file {}:{line}", path.display())
            }
            Source::GorootGoEnv { path, line } => write!(f, "{}:{line}", path.display()),
            Source::GoDefault => f.write_str("go's built-in default"),
            Source::File {
                path,
                line: Some(line),
            } => write!(f, "{}:{line}", path.display()),
            Source::File { path, line: None } => write!(f, "{}", path.display()),
            Source::PathEntry { dir, index } => {
                write!(f, "PATH entry {index} ({})", dir.display())
            }
            Source::Baseline { path } => write!(f, "the baseline {}", path.display()),
        }
    }
}

/// One difference between what should be and what is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub category: Category,
    /// The setting: an env key (`GOPROXY`), `toolchain`, `go`, `PATH`, ...
    pub key: String,
    pub expected: String,
    pub actual: String,
    pub source: Source,
    pub severity: Severity,
    /// One sentence: what is wrong and why it matters.
    pub message: String,
    /// What to do about it; gowarden never edits go.mod or `.go-version` itself.
    pub fix: String,
}

impl Finding {
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "category": self.category.name(),
            "key": self.key,
            "expected": redact(&self.expected),
            "actual": redact(&self.actual),
            "source": self.source.to_json(),
            "severity": self.severity.name(),
            "message": redact(&self.message),
            "fix": redact(&self.fix),
        })
    }

    /// One line for the terminal and for `--watch`.
    pub fn line(&self) -> String {
        redact(&format!(
            "{}: {} {}: expected {}, actual {} (in {}); {}",
            self.severity.name(),
            self.category.name(),
            self.key,
            self.expected,
            self.actual,
            self.source,
            self.fix
        ))
    }
}

/// Values as the audit log records them: URL userinfo (a proxy password) redacted, so a
/// drift report in a CI log never shows one.
fn redact(s: &str) -> String {
    crate::audit::redact_url_userinfo_str(s).into_owned()
}

/// What `gowarden drift` checks.
#[derive(Debug, Clone)]
pub struct Options {
    pub dir: PathBuf,
    pub baseline: Option<PathBuf>,
}

/// The outcome of one run of the checks.
#[derive(Debug, Default)]
pub struct Report {
    pub dir: PathBuf,
    pub findings: Vec<Finding>,
    /// Checks that could not run (exit 2), each a full sentence.
    pub errors: Vec<String>,
    pub policy: Option<PolicyInfo>,
    /// The toolchain the shim runs here (`None` if none could be chosen).
    pub toolchain: Option<(String, PathBuf)>,
}

/// The policy in force, identified for reports and baselines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyInfo {
    pub origin: String,
    pub path: Option<PathBuf>,
    pub sha256: String,
}

impl PolicyInfo {
    pub fn of(policy: &LoadedPolicy) -> PolicyInfo {
        PolicyInfo {
            origin: policy.origin.kind().to_string(),
            path: policy.origin.path().map(Path::to_path_buf),
            sha256: sha256_hex(policy.text.as_bytes()),
        }
    }
}

pub use crate::hex::sha256 as sha256_hex;

impl Report {
    /// driftctl's convention: 2 if anything could not be checked, else 1 on drift, else 0.
    pub fn exit_code(&self) -> i32 {
        if !self.errors.is_empty() {
            2
        } else if !self.findings.is_empty() {
            1
        } else {
            0
        }
    }

    pub fn status(&self) -> &'static str {
        match self.exit_code() {
            0 => "clean",
            1 => "drift",
            _ => "error",
        }
    }

    /// The documented JSON shape (docs/env-and-drift.md, "gowarden drift").
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "dir": self.dir,
            "status": self.status(),
            "exit_code": self.exit_code(),
            "policy": self.policy.as_ref().map(|p| json!({
                "origin": p.origin,
                "path": p.path,
                "sha256": p.sha256,
            })),
            "toolchain": self.toolchain.as_ref().map(|(name, goroot)| json!({
                "name": name,
                "goroot": goroot,
            })),
            "findings": self.findings.iter().map(Finding::to_json).collect::<Vec<_>>(),
            "errors": self.errors,
        })
    }

    /// The human form, on stdout (errors go to stderr separately).
    pub fn text(&self) -> String {
        let mut out = String::new();
        let tc = match &self.toolchain {
            Some((name, _)) => name.as_str(),
            None => "no toolchain",
        };
        if self.findings.is_empty() {
            if self.errors.is_empty() {
                out.push_str(&format!("no drift in {} ({tc})\n", self.dir.display()));
            }
            return out;
        }
        out.push_str(&format!(
            "{} finding(s) in {} ({tc}):\n",
            self.findings.len(),
            self.dir.display()
        ));
        for f in &self.findings {
            out.push_str(&redact(&format!(
                "  {:<7} {} {}: expected {}, actual {}\n          in {}\n          {}\n          fix: {}\n",
                f.severity.name(),
                f.category.name(),
                f.key,
                f.expected,
                f.actual,
                f.source,
                f.message,
                f.fix
            )));
        }
        out
    }
}

/// Everything the checks share: the policy, the project, and the shim's decision.
pub struct Context {
    pub dir: PathBuf,
    /// The policy, loaded once: the shim's decision below is made under this same one.
    pub policy: Rc<LoadedPolicy>,
    /// Every version file from `dir` upward, whatever the policy's `[resolve] files` say.
    pub project: Project,
    /// The project as the shim decides on it ([`shim::plan::project_at`]): only the version
    /// files the policy lets choose the version. `None` where one of them is invalid (the
    /// shim refuses; [`Context::plan`] says why).
    pub decided: Option<Project>,
    /// What the shim decides here, reporting rather than refusing `[env]` conflicts.
    pub plan: Result<Plan, Refusal>,
}

impl Context {
    pub fn load(dir: &Path) -> Result<Context, String> {
        let policy = Rc::new(crate::policy::load::load().map_err(|e| format!("policy: {e}"))?);
        let project = Project::discover(
            dir,
            Wanted::ALL,
            std::env::var_os(crate::envvars::GOWORK).as_deref(),
        )
        .map_err(|e| e.to_string())?;
        let matrix = crate::policy::matrix::compile(&policy).0;
        let decided = shim::plan::project_at(&policy, &matrix, dir)
            .ok()
            .map(|l| l.project);
        let plan = shim::plan_with(
            Rc::clone(&policy),
            Tool::Go,
            Vec::new(),
            dir,
            PlanOptions {
                env_report_only: true,
                ..PlanOptions::default()
            },
        );
        Ok(Context {
            dir: dir.to_path_buf(),
            policy,
            project,
            decided,
            plan,
        })
    }
}

/// Runs every check for `opts.dir`.
pub fn check(opts: &Options) -> Report {
    let mut report = Report {
        dir: opts.dir.clone(),
        ..Report::default()
    };
    let ctx = match Context::load(&opts.dir) {
        Ok(c) => c,
        Err(e) => {
            report
                .errors
                .push(format!("cannot check {}: {e}", opts.dir.display()));
            return report;
        }
    };
    report.policy = Some(PolicyInfo::of(&ctx.policy));
    if let Ok(plan) = &ctx.plan {
        report.toolchain = Some((plan.toolchain.name.clone(), plan.toolchain.goroot.clone()));
    }
    let process = crate::goenv::process_env;
    let bypass = match &ctx.plan {
        Ok(plan) => match env::check(&ctx.policy, &plan.toolchain.goroot, &ctx.dir, process) {
            Ok(b) => {
                report.findings.extend(b.findings.iter().cloned());
                Some(b)
            }
            Err(e) => {
                report.errors.push(e);
                None
            }
        },
        Err(r) if r.rule == shim::rule::NOT_INSTALLED => {
            report.errors.push(format!(
                "cannot check the environment: it is read from the toolchain the shim would \
                 run, and none is installed ({})",
                r.message
            ));
            None
        }
        Err(r) => {
            report.errors.push(format!(
                "cannot check the environment: the shim refuses to run go here: {}",
                r.message
            ));
            None
        }
    };
    report.findings.extend(versions::check(&ctx));
    report.findings.extend(path::check(
        std::env::var_os(crate::envvars::PATH),
        &ctx.dir,
    ));
    if let Some(file) = &opts.baseline {
        match baseline::Baseline::read(file) {
            Ok(b) => {
                let current = baseline::Baseline::capture(&ctx, bypass.as_ref());
                report
                    .findings
                    .extend(b.compare(file, &current, bypass.is_some()));
            }
            Err(e) => report.errors.push(e),
        }
    }
    report
}

/// A setting's value for `expected`/`actual`: as is, `(empty)` for an empty one (go treats it
/// as unset, but it is there), `(unset)` for none.
pub fn show(v: Option<&str>) -> String {
    match v {
        Some("") => "(empty)".into(),
        Some(v) => v.into(),
        None => "(unset)".into(),
    }
}

/// An `OsString` for display and JSON (go settings are text in practice).
pub(crate) fn lossy(v: &OsString) -> String {
    v.to_string_lossy().into_owned()
}
