//! The hot path: what runs when gowarden is invoked as `go` or `gofmt`.
//!
//! [`plan`] does every decision and returns a [`Plan`] (or a [`Refusal`]) without side effects,
//! so `gowarden which` and `explain` show exactly what the shim would do; [`run`] then execs.
//! Nothing here prints on success: go's stdout and stderr must be go's alone.

use std::ffi::{CString, OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::auditing::{self, Outcome};
use crate::error::Error;
use crate::gocli::Invocation;
use crate::policy::matrix::{self, Matrix, Severity, TierChoice};
use crate::policy::roles::RoleChoice;
use crate::policy::{self, LoadedPolicy};
use crate::project::{Project, Wanted};
use crate::resolve::{self, Inputs, Request};
use crate::toolchain::{self, DiscoveryEnv, Toolchain};

/// Counts nested shim invocations, so a loop ends in an error rather than forever.
pub const DEPTH_ENV: &str = "GOWARDEN_DEPTH";
/// Legitimate nesting (go → -toolexec wrapper → go) is shallow; anything deeper is a loop.
const MAX_DEPTH: u32 = 8;

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

/// An environment variable the shim sets or removes for go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvChange {
    pub key: String,
    pub from: Option<OsString>,
    /// `None` removes the variable.
    pub to: Option<OsString>,
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
    /// [`crate::envpolicy`]) `from` is the value go would have used without the shim (process
    /// environment, else the go env file, else `$GOROOT/go.env`); for GOROOT, GOTOOLCHAIN and
    /// GOWARDEN_DEPTH it is the process environment's.
    pub env: Vec<EnvChange>,
    /// The project's tier in the version matrix, and why; `None` without tiers.
    pub tier: Option<TierChoice>,
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
}

impl Plan {
    pub fn binary(&self) -> PathBuf {
        self.toolchain.go_binary(self.tool.name())
    }

    /// The tier name for the audit record.
    pub fn tier_name(&self) -> Option<&str> {
        self.tier.as_ref().map(|t| t.name.as_str())
    }
}

/// Why the shim will not run go: one message, the rule that refused, exit status 1.
#[derive(Debug)]
pub struct Refusal {
    /// A short identifier for the audit record (`toolchain-not-installed`, a policy rule id).
    pub rule: String,
    pub message: String,
    /// The project's tier, where it was known when the refusal was made (audit record).
    pub tier: Option<String>,
    /// The caller's role, where one was chosen before the refusal (for the audit record).
    /// Boxed: a Refusal travels in every `Result` of the hot path.
    pub role: Option<Box<RoleChoice>>,
    /// The toolchain (`go1.22.3`) whose installation would lift this refusal, set only where
    /// the policy's `[toolchains] auto_install` lets the shim install it ([`run`] does).
    pub install: Option<String>,
}

impl Refusal {
    pub fn new(rule: &str, message: impl Into<String>) -> Refusal {
        Refusal {
            rule: rule.to_string(),
            message: message.into(),
            tier: None,
            role: None,
            install: None,
        }
    }

    pub fn with_tier(mut self, tier: Option<&TierChoice>) -> Refusal {
        self.tier = tier.map(|t| t.name.clone());
        self
    }
}

impl From<Error> for Refusal {
    fn from(e: Error) -> Refusal {
        Refusal::new("error", e.message())
    }
}

/// Decides what to run for `tool args` in `cwd`, reading the process environment.
pub fn plan(tool: Tool, args: Vec<OsString>, cwd: &Path) -> Result<Plan, Refusal> {
    plan_opts(tool, args, cwd, PlanOptions::default())
}

/// How callers other than the shim itself want [`plan_with`] to decide.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlanOptions {
    /// Report `[env]` conflicts in [`Plan::env_checks`] instead of refusing: `gowarden drift`
    /// must learn the toolchain even where the shim would refuse to run it.
    pub env_report_only: bool,
}

/// [`plan`], with options.
pub fn plan_opts(
    tool: Tool,
    args: Vec<OsString>,
    cwd: &Path,
    opts: PlanOptions,
) -> Result<Plan, Refusal> {
    let policy = Rc::new(policy::load::load()?);
    plan_with(policy, tool, args, cwd, opts)
}

/// [`plan_opts`] under an already loaded policy.
pub fn plan_with(
    policy: Rc<LoadedPolicy>,
    tool: Tool,
    args: Vec<OsString>,
    cwd: &Path,
    opts: PlanOptions,
) -> Result<Plan, Refusal> {
    let start = match tool {
        Tool::Go => crate::gocli::chdir_flag(&args).map(|d| cwd.join(d)),
        Tool::Gofmt => None,
    }
    .unwrap_or_else(|| cwd.to_path_buf());
    let files: Vec<&str> = policy
        .policy
        .resolve
        .files
        .iter()
        .map(|f| f.get_ref().as_str())
        .collect();
    let matrix = matrix::compile(&policy).0;
    let wanted = Wanted {
        go_version: files.contains(&".go-version"),
        tool_versions: files.contains(&".tool-versions"),
        go_work: files.contains(&"go.work"),
        // The module line places the project in its tier even where go.mod may not choose
        // the version.
        go_mod: files.contains(&"go.mod") || matrix.has_tiers(),
    };
    let mut project = Project::discover(&start, wanted, std::env::var_os("GOWORK").as_deref())?;
    let module_only = if files.contains(&"go.mod") {
        None
    } else {
        project.go_mod.take()
    };
    let module = project
        .go_mod
        .as_ref()
        .or(module_only.as_ref())
        .and_then(|m| m.module.as_ref());
    let tier = matrix
        .choose_tier(&project, module)
        .map_err(|f| Refusal::new(f.rule, f.message))?;
    let switch = std::env::var(resolve::SWITCH_VERSION_ENV).ok();
    let env_override = std::env::var(resolve::VERSION_ENV).ok();
    let default = policy.policy.toolchains.default.as_ref().map(|d| {
        (
            d.get_ref().as_str(),
            policy.origin.file_name(),
            policy.line_of(d.span().start),
        )
    });
    let request = resolve::resolve(
        &project,
        &Inputs {
            switch_version: switch.as_deref().filter(|s| !s.is_empty()),
            env_override: env_override.as_deref(),
            allow_env_override: policy.policy.resolve.allow_env_override,
            policy_default: default,
        },
    )?;
    let installed = toolchain::discover(
        &policy.policy.toolchains,
        &DiscoveryEnv::from_process(effective_gomodcache()),
    );
    let self_id = toolchain::self_identity();
    tracing::debug!(
        request = %request.spec,
        source = %request.source,
        installed = installed.len(),
        "resolved"
    );
    let not_self = |t: &Toolchain| !toolchain::is_self(&t.go_binary(tool.name()), self_id);
    // The newest match the matrix allows; failing that, the plain match, which the matrix
    // then refuses with its reason rather than a bare "not installed".
    let chosen = toolchain::select(&request, &installed, |t| {
        not_self(t) && matrix.allows(&t.version, tier.as_ref())
    })
    .or_else(|| toolchain::select(&request, &installed, not_self))
    .cloned();
    let Some(toolchain) = chosen else {
        // A release the matrix would refuse is refused as such, never offered for install.
        if let resolve::VersionSpec::Exact(v) = &request.spec {
            let today = crate::date::Date::today_utc();
            let findings = matrix.judge(v, &format!("go{v}"), &request, tier.as_ref(), today);
            if let Some(f) = findings.iter().find(|f| f.severity == Severity::Error) {
                return Err(Refusal::new(f.rule, f.message.clone()).with_tier(tier.as_ref()));
            }
        }
        let mut refusal = not_installed(&request, &installed).with_tier(tier.as_ref());
        if let (true, resolve::VersionSpec::Exact(v)) =
            (policy.policy.toolchains.auto_install, &request.spec)
        {
            refusal.install = Some(format!("go{v}"));
        }
        return Err(refusal);
    };
    let warnings = judge(&matrix, &project, &request, &toolchain, tier.as_ref())?;
    let mut env = child_env(&policy, &toolchain);
    let env_plan = crate::envpolicy::plan(
        &policy,
        &toolchain.goroot,
        crate::goenv::process_env,
        || opts.env_report_only || is_env_write(tool, &args),
    )?;
    env.extend(env_plan.changes);
    // The rules read GOFLAGS and GOBIN as go will get them: after the [env] changes.
    let (role, invocation) = check_role(&policy, tool, &args, &toolchain, cwd, &env)
        .map_err(|r| r.with_tier(tier.as_ref()))?;
    Ok(Plan {
        tool,
        args,
        policy,
        project,
        request,
        toolchain,
        installed,
        env,
        tier,
        warnings,
        role,
        invocation,
        env_checks: env_plan.checks,
    })
}

/// The matrix's verdict on the chosen toolchain: the first error refuses (rule
/// `matrix.min`, `matrix.blocked` or `matrix.deadline`); warnings are returned for [`run`].
fn judge(
    matrix: &Matrix,
    project: &Project,
    request: &Request,
    toolchain: &Toolchain,
    tier: Option<&TierChoice>,
) -> Result<Vec<String>, Refusal> {
    let today = crate::date::Date::today_utc();
    let mut findings = matrix.judge(&toolchain.version, &toolchain.name, request, tier, today);
    if let Some(f) = findings.iter().find(|f| f.severity == Severity::Error) {
        return Err(Refusal::new(f.rule, f.message.clone()).with_tier(tier));
    }
    findings.extend(matrix::consistency(
        project,
        request,
        &toolchain.version,
        &toolchain.name,
        Severity::Warning,
    ));
    Ok(findings.into_iter().map(|f| f.message).collect())
}

/// Roles and argument filtering (policies/README.md, "Roles and rules"): the caller's role,
/// and the command line judged by its rules as the chosen toolchain's go will read it. A
/// policy without roles costs nothing here: no identity, no go env file, no parsing.
fn check_role(
    policy: &LoadedPolicy,
    tool: Tool,
    args: &[OsString],
    toolchain: &Toolchain,
    cwd: &Path,
    changes: &[EnvChange],
) -> Result<(Option<RoleChoice>, Option<Invocation>), Refusal> {
    if !policy.has_roles() {
        return Ok((None, None));
    }
    let identity = crate::identity::Identity::current();
    let env = |key: &str| match changes.iter().find(|c| c.key == key) {
        Some(c) => c.to.clone(),
        None => crate::goenv::process_env(key),
    };
    let ctx = policy::rules::Context {
        policy,
        identity: &identity,
        env: &env,
        goroot: Some(&toolchain.goroot),
        cwd,
        role_override: None,
        always_parse: false,
    };
    // gofmt has no go command line: it gets a role (for the record) but no rules.
    let go_args = (tool == Tool::Go).then_some(args);
    let eval = policy::rules::evaluate(&ctx, go_args)?;
    match (eval.refusal_message(), &eval.denial) {
        (Some(message), Some(d)) => Err(Refusal {
            rule: d.rule.clone(),
            message,
            tier: None,
            role: eval.role.map(Box::new),
            install: None,
        }),
        _ => Ok((eval.role, eval.invocation)),
    }
}

/// `go env -w`/`go env -u`: the repair path, never refused for the environment it repairs.
fn is_env_write(tool: Tool, args: &[OsString]) -> bool {
    tool == Tool::Go && crate::gocli::parse(args, None).is_ok_and(|inv| inv.env_write.is_some())
}

/// The environment changes go runs with: the chosen GOROOT (a stale one must not mix
/// toolchains), GOTOOLCHAIN per policy, and the nesting depth.
fn child_env(policy: &LoadedPolicy, toolchain: &Toolchain) -> Vec<EnvChange> {
    let mut changes = Vec::new();
    let mut set = |key: &str, to: Option<OsString>| {
        let from = std::env::var_os(key);
        if from != to {
            changes.push(EnvChange {
                key: key.to_string(),
                from,
                to,
            });
        }
    };
    set("GOROOT", Some(toolchain.goroot.clone().into_os_string()));
    let gt = &policy.policy.toolchains.gotoolchain;
    if gt != "inherit" {
        set("GOTOOLCHAIN", Some(OsString::from(gt)));
    }
    set(DEPTH_ENV, Some(OsString::from((depth() + 1).to_string())));
    changes
}

fn depth() -> u32 {
    std::env::var(DEPTH_ENV)
        .ok()
        .and_then(|d| d.parse().ok())
        .unwrap_or(0)
}

/// The module cache as go computes it: GOMODCACHE, else the first GOPATH entry's pkg/mod,
/// else `$HOME/go/pkg/mod`, each from the environment or the go env file. Only where to look
/// for toolchains depends on it, so an unreadable go env file just means "not set" here.
pub(crate) fn effective_gomodcache() -> Option<PathBuf> {
    let goenv = crate::goenv::GoEnv::load(crate::goenv::process_env, None).ok();
    let get = |key: &str| {
        goenv
            .as_ref()
            .and_then(|g| g.get(key))
            .map(|(v, _)| v)
            .or_else(|| crate::goenv::process_env(key))
            .filter(|v| !v.is_empty())
    };
    if let Some(c) = get("GOMODCACHE") {
        return Some(PathBuf::from(c));
    }
    if let Some(first) = get("GOPATH").and_then(|p| std::env::split_paths(&p).next()) {
        return Some(first.join("pkg").join("mod"));
    }
    dirs::home_dir().map(|h| h.join("go").join("pkg").join("mod"))
}

pub(crate) fn not_installed(request: &Request, installed: &[Toolchain]) -> Refusal {
    let found = if installed.is_empty() {
        "none".to_string()
    } else {
        installed
            .iter()
            .map(|t| format!("{} ({})", t.name, t.goroot.display()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let get = match &request.spec {
        resolve::VersionSpec::Exact(v) => format!("run `gowarden toolchain install {v}`"),
        resolve::VersionSpec::Family(v) | resolve::VersionSpec::AtLeast(v) => format!(
            "run `gowarden toolchain install <version>` with a release matching {v}, e.g. the \
             newest patch release"
        ),
        resolve::VersionSpec::Newest => "run `gowarden toolchain install <version>`".to_string(),
    };
    Refusal::new(
        "toolchain-not-installed",
        format!(
            "no installed Go toolchain matches {} (asked for by {}); found: {found}; to get it, \
             {get}, or change the version file",
            request.spec, request.source
        ),
    )
}

/// The shim's entry point. Returns only on failure, with the exit status.
pub fn run(tool: Tool, argv0: OsString, args: Vec<OsString>) -> i32 {
    crate::diag::init();
    let cwd = match std::env::current_dir() {
        Ok(d) => d,
        Err(e) => {
            return refuse(&Refusal::new(
                "error",
                format!("cannot read the working directory: {e}"),
            ));
        }
    };
    let policy = match policy::load::load() {
        Ok(p) => Rc::new(p),
        Err(e) => {
            // Without a policy there are no audit settings: record the refusal where the
            // default policy would, as far as that is possible.
            let r = Refusal::from(e);
            let embedded = policy::load::parse(
                policy::load::EMBEDDED_POLICY.to_string(),
                policy::PolicyOrigin::Embedded,
            );
            let note = embedded
                .ok()
                .and_then(|p| audit_refusal(&p, tool, &argv0, &args, &cwd, &r));
            return refuse_noted(&r, note);
        }
    };
    let result = if depth() >= MAX_DEPTH {
        Err(Refusal::new(
            "recursion",
            format!(
                "the go shim has called itself {MAX_DEPTH} times (${DEPTH_ENV}); a `go` in a \
                 toolchain's bin dir or a wrapper on PATH leads back to the shim: run \
                 `gowarden doctor`"
            ),
        ))
    } else {
        plan_with(
            Rc::clone(&policy),
            tool,
            args.clone(),
            &cwd,
            PlanOptions::default(),
        )
    };
    // [toolchains] auto_install: install the missing (matrix-approved) release, then plan again.
    let result = match result {
        Err(Refusal {
            install: Some(name),
            ..
        }) => match crate::install::auto_install(&name) {
            Ok(()) => plan_with(
                Rc::clone(&policy),
                tool,
                args.clone(),
                &cwd,
                PlanOptions::default(),
            ),
            Err(e) => Err(Refusal::new(
                "auto-install-failed",
                format!("cannot install {name} ([toolchains] auto_install): {e}"),
            )),
        },
        other => other,
    };
    let plan = match result {
        Ok(p) => p,
        Err(r) => {
            let note = audit_refusal(&policy, tool, &argv0, &args, &cwd, &r);
            return refuse_noted(&r, note);
        }
    };
    match auditing::settings(&policy) {
        Ok(Some(s)) => {
            if !(s.commands == crate::audit::Commands::Mutating
                && auditing::is_read_only(tool, &plan.args))
            {
                let record = auditing::record(tool, &argv0, &args, &cwd, Outcome::Run(&plan));
                if let Err(e) = crate::audit::append(&s.log, &record) {
                    match s.on_failure {
                        crate::audit::OnFailure::Deny => {
                            return refuse(&Refusal::new(
                                "audit.unwritable",
                                format!(
                                    "go was not run: its audit record cannot be written: {e}; \
                                     make the log writable, set [audit] path to a writable \
                                     place, or let go run unaudited with [audit] on_failure = \
                                     \"allow\" (policy {})",
                                    policy.origin
                                ),
                            ));
                        }
                        crate::audit::OnFailure::Allow => eprintln!(
                            "gowarden: warning: running go without an audit record \
                             ([audit] on_failure = \"allow\"): {e}"
                        ),
                    }
                }
            }
        }
        Ok(None) => {}
        Err(e) => {
            if policy.policy.audit.on_failure == crate::audit::OnFailure::Deny {
                return refuse(&Refusal::new(
                    "audit.unwritable",
                    format!("go was not run: {e}"),
                ));
            }
            eprintln!("gowarden: warning: running go without an audit record: {e}");
        }
    }
    tracing::debug!(
        toolchain = %plan.toolchain.name,
        goroot = %plan.toolchain.goroot.display(),
        source = %plan.request.source,
        policy = %plan.policy.origin,
        "running"
    );
    crate::warn_once::warn_once_a_day(plan.project.root(), &plan.warnings);
    exec(&plan, &argv0)
}

/// Records a refusal; returns a note for the message when the record could not be written.
fn audit_refusal(
    policy: &LoadedPolicy,
    tool: Tool,
    argv0: &OsStr,
    args: &[OsString],
    cwd: &Path,
    r: &Refusal,
) -> Option<String> {
    let settings = match auditing::settings(policy) {
        Ok(Some(s)) => s,
        Ok(None) => return None,
        Err(e) => return Some(e.to_string()),
    };
    let record = auditing::record(tool, argv0, args, cwd, Outcome::Refused(r));
    crate::audit::append(&settings.log, &record)
        .err()
        .map(|e| e.to_string())
}

fn refuse_noted(r: &Refusal, audit_note: Option<String>) -> i32 {
    let status = refuse(r);
    if let Some(note) = audit_note {
        eprintln!("gowarden: the refusal could not be audited either: {note}");
    }
    status
}

fn refuse(r: &Refusal) -> i32 {
    tracing::debug!(rule = %r.rule, "refused");
    crate::diag::flush();
    eprintln!("gowarden: {}", r.message);
    1
}

/// Replaces this process with the real tool: same argv[0] and arguments, the environment with
/// the plan's changes. The signal mask and dispositions are inherited untouched (main.rs keeps
/// Rust's runtime from changing SIGPIPE), so go sees the signals its caller sent.
fn exec(plan: &Plan, argv0: &OsStr) -> i32 {
    let binary = plan.binary();
    let to_c = |s: &OsStr| CString::new(s.as_bytes()).ok();
    let mut argv = Vec::with_capacity(plan.args.len() + 1);
    argv.push(to_c(argv0).unwrap_or_else(|| c"go".to_owned()));
    for a in &plan.args {
        // Arguments come from our own argv, which cannot hold NUL bytes.
        argv.extend(to_c(a));
    }
    let mut envp = Vec::new();
    for (k, v) in std::env::vars_os() {
        if plan.env.iter().any(|c| k.as_bytes() == c.key.as_bytes()) {
            continue;
        }
        let mut kv = k.into_vec();
        kv.push(b'=');
        kv.extend_from_slice(v.as_bytes());
        envp.extend(CString::new(kv).ok());
    }
    for c in &plan.env {
        if let Some(to) = &c.to {
            let mut kv = c.key.as_bytes().to_vec();
            kv.push(b'=');
            kv.extend_from_slice(to.as_bytes());
            envp.extend(CString::new(kv).ok());
        }
    }
    let Some(path) = to_c(binary.as_os_str()) else {
        return refuse(&Refusal::new("error", "toolchain path holds a NUL byte"));
    };
    for c in &plan.env {
        tracing::debug!(key = %c.key, from = ?c.from, to = ?c.to, "env");
    }
    crate::diag::flush();
    let err = nix::unistd::execve(&path, &argv, &envp).unwrap_err();
    refuse(&Refusal::new(
        "exec-failed",
        format!("cannot run {}: {err}", binary.display()),
    ))
}
