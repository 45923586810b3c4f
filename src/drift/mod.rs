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

use serde::Serialize;

use crate::goenv::Origin;
use crate::outcome::Builtin;
use crate::policy::LoadedPolicy;
use crate::project::{Project, Wanted};
use crate::shim::{self, Plan, PlanOptions, Refusal, Tool};

/// How bad a finding is. Both are drift (exit 1); the severity ranks them: an error is go,
/// run here with or without the shim, doing something the policy does not allow, or the
/// repository contradicting itself about the toolchain; a warning is latent or cosmetic (an
/// IDE without the shell's variables, another tool reading `.tool-versions`).
pub use crate::outcome::{Location, Severity};

/// Which check found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
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
    /// A project file (`.go-version`, go.mod, ...); no line for an implied value.
    File(Location),
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
            Source::File(_) => "file",
            Source::PathEntry { .. } => "path",
            Source::Baseline { .. } => "baseline",
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// `{"kind", "path", "line"}`; `path` and `line` are null where they do not apply. For a PATH
/// entry `line` is its position in PATH.
impl Serialize for Source {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let (path, line): (Option<&Path>, Option<usize>) = match self {
            Source::Env | Source::GoDefault => (None, None),
            Source::EnvFile { path, line } | Source::GorootGoEnv { path, line } => {
                (Some(path), Some(*line))
            }
            Source::File(l) => (Some(&l.file), l.line),
            Source::PathEntry { dir, index } => (Some(dir), Some(*index)),
            Source::Baseline { path } => (Some(path), None),
        };
        let mut st = s.serialize_struct("Source", 3)?;
        st.serialize_field("kind", self.kind())?;
        st.serialize_field("path", &path)?;
        st.serialize_field("line", &line)?;
        st.end()
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
            Source::File(l) => write!(f, "{l}"),
            Source::PathEntry { dir, index } => {
                write!(f, "PATH entry {index} ({})", dir.display())
            }
            Source::Baseline { path } => write!(f, "the baseline {}", path.display()),
        }
    }
}

/// One difference between what should be and what is. Serialized as a `findings` entry of
/// `gowarden drift --json` (docs/env-and-drift.md), values redacted as in the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub category: Category,
    /// The setting: an env key (`GOPROXY`), `toolchain`, `go`, `PATH`, ...
    pub key: String,
    #[serde(serialize_with = "redacted")]
    pub expected: String,
    #[serde(serialize_with = "redacted")]
    pub actual: String,
    pub source: Source,
    pub severity: Severity,
    /// One sentence: what is wrong and why it matters.
    #[serde(serialize_with = "redacted")]
    pub message: String,
    /// What to do about it; gowarden never edits go.mod or `.go-version` itself.
    #[serde(serialize_with = "redacted")]
    pub fix: String,
}

fn redacted<S: serde::Serializer>(v: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::audit::redact_url_userinfo_str(v))
}

impl Finding {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    /// One line for the terminal and for `--watch`.
    pub fn line(&self) -> String {
        redact(&format!(
            "{}: {} {}: expected {}, actual {} (in {}); {}",
            self.severity.as_str(),
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

/// `{"dir", "status", "exit_code", "policy", "toolchain": {"name", "goroot"}, "findings",
/// "errors"}`.
impl Serialize for Report {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        #[derive(Serialize)]
        struct ToolchainJson<'a> {
            name: &'a str,
            goroot: &'a Path,
        }
        let mut st = s.serialize_struct("Report", 7)?;
        st.serialize_field("dir", &self.dir)?;
        st.serialize_field("status", self.status())?;
        st.serialize_field("exit_code", &self.exit_code())?;
        st.serialize_field("policy", &self.policy)?;
        let toolchain = self
            .toolchain
            .as_ref()
            .map(|(name, goroot)| ToolchainJson { name, goroot });
        st.serialize_field("toolchain", &toolchain)?;
        st.serialize_field("findings", &self.findings)?;
        st.serialize_field("errors", &self.errors)?;
        st.end()
    }
}

/// The policy in force, identified for reports and baselines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
            sha256: crate::hex::encode(&policy.text.sha256()),
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

    /// The documented JSON shape (docs/env-and-drift.md, "gowarden drift"): [`Report`]'s
    /// `Serialize`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
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
                f.severity.as_str(),
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
            crate::environ::var_os(crate::envvars::GOWORK),
        )
        .map_err(|e| e.to_string())?;
        let matrix = crate::policy::matrix::compile(&policy).0;
        let decided = shim::plan::project_at(&policy, &matrix, dir, false)
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
        Err(r) if r.rule.is(Builtin::NotInstalled) => {
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
        crate::environ::var_os(crate::envvars::PATH).map(Into::into),
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
