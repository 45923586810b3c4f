//! The shim's entry point: decide, audit, exec.

use std::borrow::Cow;
use std::ffi::{CStr, CString, OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::rc::Rc;

use super::plan::depth;
use super::{
    DEPTH_ENV, MAX_DEPTH, Plan, PlanOptions, Refusal, Tool, Unplanned, plan_or_install, plan_with,
};
use crate::auditing::{self, Outcome};
use crate::policy::{self, LoadedPolicy};

/// The shim's entry point. Returns only on failure, with the exit status.
pub fn run(tool: Tool, argv0: OsString, args: Vec<OsString>) -> i32 {
    crate::diag::init();
    // Every decision of this call reads one content of each go env file.
    crate::goenv::begin_snapshot();
    let cwd = match std::env::current_dir() {
        Ok(d) => d,
        Err(e) => {
            return refuse(&Refusal::new(
                super::rule::ERROR,
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
        Err(Unplanned::Refused(Refusal::new(
            super::rule::RECURSION,
            format!(
                "the go shim has called itself {MAX_DEPTH} times (${DEPTH_ENV}); a `go` in a \
                 toolchain's bin dir or a wrapper on PATH leads back to the shim: run \
                 `gowarden doctor`"
            ),
        )))
    } else {
        plan_or_install(
            Rc::clone(&policy),
            tool,
            args.clone(),
            &cwd,
            PlanOptions {
                indexed: true,
                real_cwd: true,
                ..PlanOptions::default()
            },
        )
    };
    // [toolchains] auto_install: install the missing (matrix-approved) release, then plan again.
    let result = match result {
        Err(Unplanned::Install {
            toolchain: name, ..
        }) => match crate::install::auto_install(&name) {
            Ok(()) => plan_with(
                Rc::clone(&policy),
                tool,
                args.clone(),
                &cwd,
                PlanOptions {
                    indexed: true,
                    real_cwd: true,
                    ..PlanOptions::default()
                },
            ),
            Err(e) => Err(Refusal::new(
                super::rule::AUTO_INSTALL_FAILED,
                format!("cannot install {name} ([toolchains] auto_install): {e}"),
            )),
        },
        other => other.map_err(Unplanned::into_refusal),
    };
    let plan = match result {
        Ok(p) => p,
        Err(r) => {
            let note = audit_refusal(&policy, tool, &argv0, &args, &cwd, &r);
            return refuse_noted(&r, note);
        }
    };
    // The role's confinement, judged against this kernel before anything is recorded: a
    // refusal under mode = "enforce" is recorded as such, and a run records what is enforced.
    let confinement = match crate::confine::for_plan(&plan)
        .and_then(|c| c.map(crate::confine::prepare).transpose())
    {
        Ok(c) => c,
        Err(mut r) => {
            r.role = r.role.or_else(|| plan.role.clone().map(Box::new));
            let note = audit_refusal(&policy, tool, &argv0, &args, &cwd, &r);
            return refuse_noted(&r, note);
        }
    };
    match auditing::settings(&policy) {
        Ok(Some(s)) => {
            if !(s.commands == crate::audit::Commands::Mutating && auditing::is_read_only(&plan)) {
                let mut record = auditing::record(tool, &argv0, &args, &cwd, Outcome::Run(&plan));
                if let Some(c) = &confinement {
                    record = crate::confine::audit_attrs(record, c);
                }
                if let Err(e) = s.sink().append(&record) {
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
    // Confined just before exec: go inherits the domain; nothing it starts can leave it.
    if let Some(c) = &confinement
        && let Err(e) = c.apply()
    {
        let mut r = Refusal::new(
            &format!("role.{}.confine", c.confinement.role),
            format!("go was not run: its confinement could not be applied: {e}"),
        );
        r.role = plan.role.clone().map(Box::new);
        let note = audit_refusal(&policy, tool, &argv0, &args, &cwd, &r);
        return refuse_noted(&r, note);
    }
    // exec returns only when it failed: go did not run after all, which the log must say too.
    let r = exec(&plan, &argv0);
    let note = audit_refusal(&policy, tool, &argv0, &args, &cwd, &r);
    refuse_noted(&r, note)
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
    settings.sink().append(&record).err().map(|e| e.to_string())
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
    // Values in a refusal (a caller's GOPROXY, a GOFLAGS, a path) are printed as the audit log
    // records them: URL userinfo redacted, so a proxy password never lands in a CI log.
    eprintln!(
        "gowarden: {}",
        crate::audit::redact_url_userinfo_str(&r.message)
    );
    r.status() as i32
}

/// Replaces this process with the real tool: same argv[0] and arguments, the environment with
/// the plan's changes. The signal mask and dispositions are inherited untouched (main.rs keeps
/// Rust's runtime from changing SIGPIPE), so go sees the signals its caller sent. Returns only
/// on failure, with why.
fn exec(plan: &Plan, argv0: &OsStr) -> Refusal {
    let binary = plan.binary();
    let to_c = |s: &OsStr| CString::new(s.as_bytes()).ok();
    let mut argv = Vec::with_capacity(plan.args.len() + 1);
    argv.push(to_c(argv0).unwrap_or_else(|| c"go".to_owned()));
    for a in &plan.args {
        // Arguments come from our own argv, which cannot hold NUL bytes.
        argv.extend(to_c(a));
    }
    // The caller's entries are handed on as the process got them, not copied, every one
    // but those of a variable the policy sets or removes.
    let mut envp: Vec<Cow<'static, CStr>> = Vec::new();
    let changes = || plan.env.iter().chain(&plan.pins);
    for e in crate::environ::entries() {
        if e.is_variable() && changes().any(|c| e.name().as_bytes() == c.key.as_bytes()) {
            continue;
        }
        envp.push(Cow::Borrowed(e.as_c_str()));
    }
    for c in changes() {
        if let Some(to) = &c.to {
            let mut kv = c.key.as_bytes().to_vec();
            kv.push(b'=');
            kv.extend_from_slice(to.as_bytes());
            envp.extend(CString::new(kv).ok().map(Cow::Owned));
        }
    }
    let Some(path) = to_c(binary.as_os_str()) else {
        return Refusal::new(
            super::rule::EXEC_FAILED,
            "the toolchain path holds a NUL byte",
        );
    };
    for c in &plan.env {
        tracing::debug!(key = %c.key, from = ?c.from, to = ?c.to, "env");
    }
    crate::diag::flush();
    let err = nix::unistd::execve(&path, &argv, &envp).unwrap_err();
    Refusal::new(
        super::rule::EXEC_FAILED,
        format!("cannot run {}: {err}", binary.display()),
    )
}
