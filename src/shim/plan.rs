//! Every decision of the shim, without side effects: version, toolchain, matrix, `[env]`,
//! role rules.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::{DEPTH_ENV, EnvChange, Plan, Refusal, Tool, Unplanned, effective_gomodcache};
use crate::gocli::Invocation;
use crate::policy::matrix::{self, Matrix, Severity, TierChoice};
use crate::policy::roles::RoleChoice;
use crate::policy::{self, LoadedPolicy};
use crate::project::{Project, Wanted};
use crate::resolve::{self, Inputs, Request};
use crate::toolchain::{self, DiscoveryEnv, Toolchain};

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
    /// Discover the toolchains through the shim's index of toolchain directories
    /// ([`toolchain::discover_indexed`]): the shim's own calls. The CLI lists what is there.
    pub indexed: bool,
    /// `cwd` is the working directory as getcwd(2) gave it, so a real path (the shim's own
    /// calls): the version-file walk need not find that out ([`Project::discover_real`]).
    pub real_cwd: bool,
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
    plan_or_install(policy, tool, args, cwd, opts).map_err(Unplanned::into_refusal)
}

/// [`plan_with`], telling a refusal that an install would lift ([`Unplanned::Install`]).
pub fn plan_or_install(
    policy: Rc<LoadedPolicy>,
    tool: Tool,
    args: Vec<OsString>,
    cwd: &Path,
    opts: PlanOptions,
) -> Result<Plan, Unplanned> {
    let matrix = matrix::compile(&policy).0;
    let resolved = resolve_request(&policy, &matrix, tool, &args, cwd, opts.real_cwd)?;
    let module = resolved.module.clone();
    // Every refusal past this point knows the project: the report groups them by it.
    plan_resolved(policy, &matrix, resolved, tool, args, cwd, opts).map_err(|mut u| {
        u.refusal_mut().module = module.map(String::into_boxed_str);
        u
    })
}

fn plan_resolved(
    policy: Rc<LoadedPolicy>,
    matrix: &Matrix,
    resolved: Resolved,
    tool: Tool,
    args: Vec<OsString>,
    cwd: &Path,
    opts: PlanOptions,
) -> Result<Plan, Unplanned> {
    let Resolved {
        project,
        tier,
        module,
        request,
        start,
        work_only,
        module_only,
    } = resolved;
    let installed = match opts.indexed {
        true => installed_indexed(&policy),
        false => installed(&policy),
    };
    tracing::debug!(
        request = %request.spec,
        source = %request.source,
        installed = installed.len(),
        "resolved"
    );
    let chosen = select(matrix, tier.as_ref(), &request, &installed, tool);
    let Some(toolchain) = chosen else {
        // The refusal lists what is installed: as it is now, not as the index remembers it.
        let installed = match opts.indexed {
            true => self::installed(&policy),
            false => installed,
        };
        // A release the matrix would refuse is refused as such, never offered for install.
        if let resolve::VersionSpec::Exact(v) = &request.spec {
            let today = crate::date::Date::today_utc();
            if let Some(refusal) =
                matrix.refusal(v, &format!("go{v}"), &request, tier.as_ref(), today)
            {
                return Err(refusal.with_tier(tier.as_ref()).into());
            }
        }
        let refusal = not_installed(&request, &installed, &policy).with_tier(tier.as_ref());
        if let (true, resolve::VersionSpec::Exact(v)) =
            (policy.policy.toolchains.auto_install, &request.spec)
        {
            return Err(Unplanned::Install {
                toolchain: format!("go{v}"),
                refusal,
            });
        }
        return Err(refusal.into());
    };
    let mut warnings = judge(matrix, &project, &request, &toolchain, tier.as_ref())?;
    warnings.extend(gotoolchain_overridden(&policy, &toolchain, &request));
    // Whether the caller's role may run a go command line gowarden would print as a fix.
    let may_run =
        |fix: &[&str]| policy::rules::caller_may_run(&policy, Some(&toolchain.goroot), cwd, fix);
    if (policy.has_roles() || !policy.policy.env.is_empty()) && !is_env_write(tool, &args) {
        env_file_goroot_agrees(&toolchain, &may_run).map_err(|r| r.with_tier(tier.as_ref()))?;
    }
    let mut env = child_env(&policy, &toolchain, tool, &args);
    let env_plan = crate::policy::env::plan_for_caller(
        &policy,
        &toolchain.goroot,
        crate::goenv::process_env,
        || opts.env_report_only || is_env_write(tool, &args),
        &may_run,
    )?;
    env.extend(env_plan.changes);
    // The rules read GOFLAGS and GOBIN as go will get them: after the [env] changes.
    let build_files = crate::policy::effects::Files {
        dir: &start,
        go_work: project.go_work.as_ref().or(work_only.as_ref()),
        go_mod: project.go_mod.as_ref().or(module_only.as_ref()),
        gowork: None,
    };
    let (role, invocation, effects) =
        check_role(&policy, tool, &args, &toolchain, cwd, &env, build_files)
            .map_err(|r| r.with_tier(tier.as_ref()))?;
    let (go_work, go_mod) = (build_files.go_work.cloned(), build_files.go_mod.cloned());
    let mut pins = Vec::new();
    if (policy.has_roles() || !policy.policy.env.is_empty()) && !is_go_env(tool, &args) {
        pins = pin_decided(&policy, &env, &toolchain.goroot)
            .map_err(|r| r.with_tier(tier.as_ref()))?;
    }
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
        module,
        warnings,
        role,
        invocation,
        env_checks: env_plan.checks,
        effects,
        go_work,
        go_mod,
        pins,
    })
}

/// The project, its tier and the version it asks for: the first half of [`plan_with`].
struct Resolved {
    project: Project,
    tier: Option<TierChoice>,
    /// The module path that stands for the project ([`Located::project_module`]).
    module: Option<String>,
    request: Request,
    /// Where go starts: the `-C` directory, resolved.
    start: PathBuf,
    /// go.work and go.mod read only for the tier and the effect rules, where the policy does
    /// not let them choose the version.
    work_only: Option<crate::project::ModFile>,
    module_only: Option<crate::project::ModFile>,
}

fn resolve_request(
    policy: &LoadedPolicy,
    matrix: &Matrix,
    tool: Tool,
    args: &[OsString],
    cwd: &Path,
    real_cwd: bool,
) -> Result<Resolved, Refusal> {
    // go chdirs to `-C dir` before it looks for go.mod, so the version is the one there.
    let start = match tool {
        Tool::Go => crate::gocli::chdir_flag(args),
        Tool::Gofmt => None,
    };
    // A `-C` dir is canonicalized, so real too.
    let (start, real) = match start {
        Some(d) => (
            crate::project::resolve_chdir(cwd, &d)
                .map_err(|e| Refusal::new(super::rule::CHDIR, e.message()))?,
            true,
        ),
        None => (cwd.to_path_buf(), real_cwd),
    };
    let located = project_at(policy, matrix, &start, real)?;
    let tier = matrix
        .choose_tier(&located.project, located.module.as_ref())
        .map_err(|f| Refusal::new(f.rule, f.message))?;
    let request = request(policy, &located.project, Overrides::Caller)?;
    Ok(Resolved {
        project: located.project,
        tier,
        module: located.project_module,
        request,
        start,
        work_only: located.work_only,
        module_only: located.module_only,
    })
}

// The steps below are the decision's own, shared with `gowarden check` and `drift`, which
// report where the shim refuses: one copy of each, so the CLI can never judge a project
// differently from the shim.

/// The files the decision reads: the policy's `[resolve] files`, plus go.mod and go.work
/// wherever tiers or role rules need them. Their module lines place the project in its tier
/// even where they may not choose the version, and the effect rules read their replace and
/// use lines.
pub(crate) fn wanted(policy: &LoadedPolicy, matrix: &Matrix) -> Wanted {
    let files = policy.policy.resolve.wanted();
    Wanted {
        go_mod: files.go_mod || matrix.has_tiers() || policy.has_roles(),
        go_work: files.go_work || matrix.has_tiers() || policy.has_roles(),
        ..files
    }
}

/// A project as the decision sees it.
pub(crate) struct Located {
    /// The version files the policy lets choose the version.
    pub project: Project,
    /// go.work and go.mod read only for the tier and the effect rules, where the policy does
    /// not let them choose the version.
    pub work_only: Option<crate::project::ModFile>,
    pub module_only: Option<crate::project::ModFile>,
    /// The main module whose tier applies: go builds the workspace's modules when there is a
    /// go.work, else the go.mod's, and the strictest of their tiers wins.
    pub module: Option<crate::project::Declared>,
    /// The module path that stands for the project: that module, else (no tier claims any)
    /// the first main module; `gowarden.project` in the audit record.
    pub project_module: Option<String>,
}

/// Splits what [`wanted`] found into what chooses the version and what only places the
/// project, and finds the main module whose tier applies.
pub(crate) fn locate(policy: &LoadedPolicy, matrix: &Matrix, mut project: Project) -> Located {
    let files = policy.policy.resolve.wanted();
    let module_only = if files.go_mod {
        None
    } else {
        project.go_mod.take()
    };
    let work_only = if files.go_work {
        None
    } else {
        project.go_work.take()
    };
    let main_modules = crate::project::main_modules(
        project.go_work.as_ref().or(work_only.as_ref()),
        project.go_mod.as_ref().or(module_only.as_ref()),
    );
    let module = matrix.strictest_module(&main_modules).cloned();
    let project_module = module
        .as_ref()
        .or(main_modules.first())
        .map(|m| m.value.clone());
    Located {
        project,
        work_only,
        module_only,
        module,
        project_module,
    }
}

/// The project at `start` as the decision sees it: [`wanted`] found from `start` upward
/// (`GOWORK` as go reads it), then [`locate`]d. An invalid version file is an error.
pub(crate) fn project_at(
    policy: &LoadedPolicy,
    matrix: &Matrix,
    start: &Path,
    real: bool,
) -> crate::error::Result<Located> {
    let discover = if real {
        Project::discover_real
    } else {
        Project::discover
    };
    let project = discover(
        start,
        wanted(policy, matrix),
        crate::environ::var_os(crate::envvars::GOWORK),
    )?;
    Ok(locate(policy, matrix, project))
}

/// Whose one-command version choices count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Overrides {
    /// The shim's: `GOWARDEN_GO_VERSION` and go's switch handshake, as far as the policy
    /// lets callers choose the version.
    Caller,
    /// `gowarden check`'s: none, the project is judged as its files declare it.
    Ignored,
}

/// The version the project asks for, and what asks for it.
pub(crate) fn request(
    policy: &LoadedPolicy,
    project: &Project,
    overrides: Overrides,
) -> crate::error::Result<Request> {
    let caller = overrides == Overrides::Caller;
    // go's switch handshake names a version as surely as GOWARDEN_GO_VERSION does; anyone
    // can set it, so it counts only where the policy lets callers choose the version
    // (GO_FACTS.md: go1.26.8 honours a caller-set one). The shim never sets it itself.
    let switch = crate::environ::var(resolve::SWITCH_VERSION_ENV)
        .filter(|_| caller && policy.policy.resolve.allow_env_override);
    let env_override = crate::environ::var(resolve::VERSION_ENV).filter(|_| caller);
    let default = policy.policy.toolchains.default.as_ref().map(|d| {
        (
            d.get_ref().as_str(),
            policy.origin.file_name(),
            policy.line_of(d.span().start),
        )
    });
    resolve::resolve(
        project,
        &Inputs {
            switch_version: switch.filter(|s| !s.is_empty()),
            env_override,
            allow_env_override: caller && policy.policy.resolve.allow_env_override,
            policy_default: default,
        },
    )
}

/// The toolchains the policy lets gowarden find on this machine.
pub(crate) fn installed(policy: &LoadedPolicy) -> Vec<Toolchain> {
    toolchain::discover(
        &policy.policy.toolchains.search(),
        &DiscoveryEnv::from_process(effective_gomodcache()),
    )
}

/// [`installed`], through the index of toolchain directories: a toolchain in the list may have
/// lost its `bin/go` since, which [`select`] checks.
fn installed_indexed(policy: &LoadedPolicy) -> Vec<Toolchain> {
    toolchain::discover_indexed(
        &policy.policy.toolchains.search(),
        &DiscoveryEnv::from_process(effective_gomodcache()),
        toolchain::index_path(),
    )
}

/// The toolchain for `request`: the newest match the matrix allows; failing that, the plain
/// match, which the matrix then refuses with its reason rather than a bare "not installed".
/// Never the shim itself.
pub(crate) fn select(
    matrix: &Matrix,
    tier: Option<&TierChoice>,
    request: &Request,
    installed: &[Toolchain],
    tool: Tool,
) -> Option<Toolchain> {
    let self_id = toolchain::self_identity();
    let not_self = |t: &Toolchain| toolchain::runnable(t, tool.name(), self_id);
    toolchain::select(request, installed, |t| {
        not_self(t) && matrix.allows(&t.version, tier)
    })
    .or_else(|| toolchain::select(request, installed, not_self))
    .cloned()
}

/// Everything the matrix says about running `version` (shown as `shown`) for this request:
/// its tier and blocked-list findings, then whether the go.mod/go.work lines agree, at
/// `consistency` severity (a warning for the shim, a violation for `gowarden check`).
pub(crate) fn matrix_findings(
    matrix: &Matrix,
    project: &Project,
    request: &Request,
    (version, shown): (&crate::version::GoVersion, &str),
    tier: Option<&TierChoice>,
    consistency: Severity,
) -> Vec<matrix::Finding> {
    let today = crate::date::Date::today_utc();
    let mut findings = matrix.judge(version, shown, request, tier, today);
    findings.extend(matrix::consistency(
        project,
        request,
        version,
        shown,
        consistency,
    ));
    findings
}

/// What the shim can still tell where it refuses, for `gowarden which`: the policy in force,
/// the version asked for and by what, the toolchains found. `None` where that step itself
/// failed (the refusal says why).
#[derive(Debug, Default)]
pub struct Partial {
    pub policy: Option<Rc<LoadedPolicy>>,
    pub request: Option<Request>,
    pub installed: Vec<Toolchain>,
}

/// [`Partial`] for `tool args` in `cwd`: the steps of [`plan_with`] up to toolchain discovery.
pub fn partial(tool: Tool, args: &[OsString], cwd: &Path) -> Partial {
    let Ok(policy) = policy::load::load() else {
        return Partial::default();
    };
    let matrix = matrix::compile(&policy).0;
    let request = resolve_request(&policy, &matrix, tool, args, cwd, false)
        .ok()
        .map(|r| r.request);
    let installed = installed(&policy);
    Partial {
        policy: Some(Rc::new(policy)),
        request,
        installed,
    }
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
    // Refusals in the block layout of a role refusal; warnings stay one line each.
    if let Some(refusal) = matrix.refusal(&toolchain.version, &toolchain.name, request, tier, today)
    {
        return Err(refusal.with_tier(tier));
    }
    let findings = matrix_findings(
        matrix,
        project,
        request,
        (&toolchain.version, &toolchain.name),
        tier,
        Severity::Warning,
    );
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
    files: crate::policy::effects::Files<'_>,
) -> Result<RoleOutcome, Refusal> {
    if !policy.has_roles() {
        return Ok((None, None, Vec::new()));
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
        files: Some(files),
    };
    // gofmt has no go command line: it gets a role (for the record) but no rules.
    let go_args = (tool == Tool::Go).then_some(args);
    let eval = policy::rules::evaluate(&ctx, go_args)?;
    match (eval.refusal_message(), &eval.denial) {
        (Some(message), Some(d)) => Err(Refusal {
            rule: d.rule.as_str().into(),
            message,
            tier: None,
            module: None,
            role: eval.role.map(Box::new),
            location: Some(Box::new(d.location.clone())),
        }),
        _ => Ok((eval.role, eval.invocation, eval.effects)),
    }
}

/// A caller's `GOTOOLCHAIN=go1.X.Y` (with or without `+auto`/`+path`) asks for a version;
/// the shim runs the one it chose with `[toolchains] gotoolchain` instead, so say so (as a
/// once-a-day warning) and what chooses the version here, as far as the policy lets the
/// caller choose it.
fn gotoolchain_overridden(
    policy: &LoadedPolicy,
    toolchain: &Toolchain,
    request: &Request,
) -> Option<String> {
    let gt = &policy.policy.toolchains.gotoolchain;
    if gt == "inherit" {
        return None;
    }
    let caller = crate::environ::var(crate::envvars::GOTOOLCHAIN)?;
    let name = caller
        .strip_suffix("+auto")
        .or_else(|| caller.strip_suffix("+path"))
        .unwrap_or(caller);
    let asked = crate::version::GoVersion::parse_go(name)?;
    if caller == gt || asked.cmp_go(&toolchain.version).is_eq() {
        return None;
    }
    let bare = name.strip_prefix("go").unwrap_or(name);
    let mut ways = Vec::new();
    if policy
        .policy
        .resolve
        .files
        .iter()
        .any(|f| f.get_ref() == ".go-version")
    {
        ways.push(format!(
            "write {bare} in a .go-version file at the project root"
        ));
    }
    if policy.policy.resolve.allow_env_override {
        ways.push(format!(
            "set {}={bare} for one command",
            resolve::VERSION_ENV
        ));
    }
    let fix = if ways.is_empty() && policy.policy.resolve.files.is_empty() {
        "only the policy's [toolchains] default chooses the version here".to_string()
    } else if ways.is_empty() {
        format!(
            "the policy lets only {} choose the version here",
            policy
                .policy
                .resolve
                .files
                .iter()
                .map(|f| f.get_ref().as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else {
        format!("to choose the version, {}", ways.join(", or "))
    };
    Some(format!(
        "GOTOOLCHAIN={caller} in the environment is not used: gowarden runs {} (chosen by {}) \
         with GOTOOLCHAIN={gt} ([toolchains] gotoolchain, policy {}); {fix}",
        toolchain.name, request.source, policy.origin
    ))
}

/// The role, the command line as go reads it, and what the call will do.
type RoleOutcome = (
    Option<RoleChoice>,
    Option<Invocation>,
    Vec<crate::policy::effects::Effect>,
);

/// go locates `$GOROOT/go.env` by a GOROOT in the user's go env file before the one in its
/// environment, so such a line would make go read another tree's go.env (its GOFLAGS, GOBIN,
/// GONOSUMDB...) behind the rules, which judge the chosen toolchain's. Where the policy has
/// rules or `[env]`, a GOROOT there must name the chosen toolchain; `go env -u GOROOT`, the
/// fix, is never refused.
fn env_file_goroot_agrees(
    toolchain: &Toolchain,
    may_run: &dyn Fn(&[&str]) -> bool,
) -> Result<(), Refusal> {
    let Some(file) = crate::goenv::env_file_path(crate::goenv::process_env) else {
        return Ok(());
    };
    let entries = crate::goenv::read_env_file(&file)?;
    let Some(e) = entries.iter().rev().find(|e| e.key == "GOROOT") else {
        return Ok(());
    };
    if e.value.is_empty() {
        return Ok(());
    }
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    };
    if same(Path::new(&e.value), &toolchain.goroot) {
        return Ok(());
    }
    // drift --fix does not touch GOROOT (no policy rule names it): where the role may not run
    // `go env -u`, the fix is an edit of the user's own file.
    let fix = if may_run(&["env", "-u", "GOROOT"]) {
        "run `go env -u GOROOT`".to_string()
    } else {
        format!(
            "delete line {} (GOROOT=…) from {} (your role may not run `go env -u GOROOT`)",
            e.line,
            file.display()
        )
    };
    Err(Refusal::new(
        "env.goroot-in-env-file",
        format!(
            "{}:{}: GOROOT={} in the go env file would make go read that tree's go.env instead \
             of the chosen toolchain's ({}), past the policy's rules; gowarden chooses the \
             toolchain: {fix}",
            file.display(),
            e.line,
            e.value.to_string_lossy(),
            toolchain.goroot.display()
        ),
    ))
}

/// The settings the rules and effects judged, handed to go as decided: go prefers its
/// environment to both go env files, so a value set here is the one go uses, whatever the
/// files say by the time go reads them (a file rewritten between the shim's read and go's).
/// A key the files set is pinned to the value judged; an unset list key to a value go reads
/// as unset (GOFLAGS `" "`, GOPRIVATE/GOINSECURE `","`, GONOSUMDB/GONOPROXY the GOPRIVATE they
/// default to), so a line added later cannot take effect. Keys with no such value
/// (GOCACHEPROG, CC, ...) stay unpinned when unset: policies/README.md says so. `go env`
/// itself is never pinned: its output must be go's.
/// Keys the policy's `[env]` governs are its to decide (a forbidden key stays absent).
fn pin_decided(
    policy: &LoadedPolicy,
    changes: &[EnvChange],
    goroot: &Path,
) -> Result<Vec<EnvChange>, Refusal> {
    let rules = &policy.policy.env;
    let governed = |key: &str| {
        rules.enforce.contains_key(key)
            || rules.defaults.contains_key(key)
            || rules.forbid.iter().any(|k| k.get_ref() == key)
    };
    // What the rules and effects read from go's settings: flags, module sources and checks,
    // the build-tool programs, and where installs land.
    const JUDGED: &[&str] = &[
        "GOFLAGS",
        "GOPROXY",
        "GOSUMDB",
        "GOPRIVATE",
        "GONOSUMDB",
        "GONOPROXY",
        "GOINSECURE",
        "GOBIN",
        "GOPATH",
    ];
    let judged = JUDGED
        .iter()
        .chain(crate::policy::effects::BUILD_TOOL_KEYS.iter());
    let lookup = |key: &str| match changes.iter().find(|c| c.key == key) {
        Some(c) => c.to.clone(),
        None => crate::environ::var_os(key).map(OsString::from),
    };
    let ge = crate::goenv::GoEnv::load(lookup, Some(goroot))?;
    let mut pins = Vec::new();
    let private = ge
        .get("GOPRIVATE")
        .map(|(v, _)| v)
        .filter(|v| !v.is_empty());
    for &key in judged {
        if governed(key) || lookup(key).is_some_and(|v| !v.is_empty()) {
            continue;
        }
        let value = match ge.get(key) {
            Some((v, _)) if !v.is_empty() => Some(v),
            _ => match key {
                "GOFLAGS" => Some(OsString::from(" ")),
                "GOPRIVATE" | "GOINSECURE" => Some(OsString::from(",")),
                "GONOSUMDB" | "GONOPROXY" => {
                    Some(private.clone().unwrap_or_else(|| OsString::from(",")))
                }
                _ => None,
            },
        };
        if let Some(v) = value {
            pins.push(EnvChange {
                key: key.to_string(),
                from: crate::environ::var_os(key).map(OsString::from),
                to: Some(v),
            });
        }
    }
    Ok(pins)
}

/// `go env` in any form: its output must be go's own, so nothing is pinned for it.
fn is_go_env(tool: Tool, args: &[OsString]) -> bool {
    tool == Tool::Go && crate::gocli::parse(args, None).is_ok_and(|inv| inv.is(&["env"]))
}

/// `go env -w`/`go env -u`: the repair path, never refused for the environment it repairs.
fn is_env_write(tool: Tool, args: &[OsString]) -> bool {
    tool == Tool::Go && crate::gocli::parse(args, None).is_ok_and(|inv| inv.env_write.is_some())
}

/// The environment changes go runs with: GOROOT (a stale one must not mix toolchains; the
/// overlay whose `bin/go` is the shim, so that every `go` a program started by go runs is
/// governed: [`super::overlay`]), GOTOOLCHAIN per policy (through the overlay's go.env where
/// the caller sets none, so it does not leak into the programs go starts), and the nesting
/// depth.
fn child_env(
    policy: &LoadedPolicy,
    toolchain: &Toolchain,
    tool: Tool,
    args: &[OsString],
) -> Vec<EnvChange> {
    let mut changes = Vec::new();
    let mut set = |key: &str, to: Option<OsString>| {
        let from = crate::environ::var_os(key).map(OsString::from);
        if from != to {
            changes.push(EnvChange {
                key: key.to_string(),
                from,
                to,
            });
        }
    };
    let gt = &policy.policy.toolchains.gotoolchain;
    let gt = (gt != "inherit").then_some(gt.as_str());
    let overlay = (tool == Tool::Go && !super::overlay::runs_no_programs(args))
        .then(|| super::overlay::goroot_for(&toolchain.goroot, gt))
        .flatten();
    let goroot = overlay.as_deref().unwrap_or(&toolchain.goroot);
    set("GOROOT", Some(goroot.as_os_str().to_os_string()));
    if let Some(gt) = gt {
        if overlay.is_none() || caller_sets_gotoolchain() {
            set("GOTOOLCHAIN", Some(OsString::from(gt)));
        } else if crate::environ::var_os(crate::envvars::GOTOOLCHAIN).is_some() {
            // An empty GOTOOLCHAIN=: go ignores it; the overlay's go.env decides.
            set("GOTOOLCHAIN", None);
        }
    }
    if !policy.policy.resolve.allow_env_override {
        // go would believe the caller's handshake too and report or pick by it.
        set(resolve::SWITCH_VERSION_ENV, None);
        set("GOTOOLCHAIN_INTERNAL_SWITCH_COUNT", None);
    }
    set(
        DEPTH_ENV,
        Some(OsString::from(format!(
            "{}:{}",
            std::process::id(),
            depth() + 1
        ))),
    );
    changes
}

/// Whether the caller's environment or go env file sets GOTOOLCHAIN (either beats go.env).
fn caller_sets_gotoolchain() -> bool {
    if crate::environ::var_os(crate::envvars::GOTOOLCHAIN).is_some_and(|v| !v.is_empty()) {
        return true;
    }
    crate::goenv::env_file_path(crate::goenv::process_env)
        .and_then(|f| crate::goenv::read_env_file(&f).ok())
        .is_some_and(|entries| entries.iter().any(|e| e.key == "GOTOOLCHAIN"))
}

/// How deeply this call is nested in shims. The counter is `PID:N`, and counts only for the
/// process that set it (a shim that exec'd a wrapper) or its direct child (a wrapper that ran
/// `go`): a program that go started (`go run`, a test binary) is a call of its own, so the
/// parent's count does not leak into it.
pub(super) fn depth() -> u32 {
    let Some(v) = crate::environ::var(DEPTH_ENV) else {
        return 0;
    };
    match v.split_once(':') {
        Some((pid, n)) => {
            let pid: u32 = pid.parse().unwrap_or(0);
            let ours = pid == std::process::id()
                || i32::try_from(pid).is_ok_and(|p| p == nix::unistd::getppid().as_raw());
            if ours { n.parse().unwrap_or(0) } else { 0 }
        }
        None => v.parse().unwrap_or(0),
    }
}

pub(crate) fn not_installed(
    request: &Request,
    installed: &[Toolchain],
    policy: &LoadedPolicy,
) -> Refusal {
    let get = match &request.spec {
        resolve::VersionSpec::Exact(v) => format!("run `gowarden toolchain install {v}`"),
        resolve::VersionSpec::Family(v) | resolve::VersionSpec::AtLeast(v) => format!(
            "run `gowarden toolchain install <version>` with a release matching {v}, e.g. the \
             newest patch release"
        ),
        resolve::VersionSpec::Newest => {
            "run `gowarden toolchain install <version>` with a release such as 1.22.10".to_string()
        }
    };
    if installed.is_empty() {
        // Nothing at all: say where gowarden looked, since that is what the fix changes.
        let asked = match request.spec {
            resolve::VersionSpec::Newest => String::new(),
            _ => format!("{} asks for {}, but ", request.source, request.spec),
        };
        return Refusal::new(
            super::rule::NOT_INSTALLED,
            format!(
                "{asked}no Go toolchain is installed: gowarden found none in its toolchains dir \
                 nor where [toolchains] lets it look (policy: {}); to get one, {get}, or add \
                 the GOROOT of a Go already on this machine to [toolchains] search",
                policy.origin
            ),
        );
    }
    let found = installed
        .iter()
        .map(|t| format!("{} ({})", t.name, t.goroot.display()))
        .collect::<Vec<_>>()
        .join(", ");
    Refusal::new(
        super::rule::NOT_INSTALLED,
        format!(
            "no installed Go toolchain matches {} (asked for by {}); found: {found}; to get it, \
             {get}, or change the version file",
            request.spec, request.source
        ),
    )
}
