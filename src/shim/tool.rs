//! The tool shims' hot path: `gopls`, `staticcheck`, `golangci-lint`, `dlv` and every tool the
//! policy's `[tools]` names (docs/tools.md).
//!
//! [`decide`] does every decision without side effects (`gowarden which gopls` shows it):
//! the go plan of the project (toolchain, role, environment), the role's tool rules, the pin,
//! the cache key. [`run`] builds the pinned tool on its first run (through the go shim, so
//! the matrix, roles, `[env]` and audit apply to the build), audits the call, applies the
//! role's confinement and execs the cached binary. A cached start reads the policy, the
//! project's version files and go.mod, stats one file and appends one record: nothing that
//! grows with the cache or the history.

use std::ffi::{CString, OsStr, OsString};
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::rc::Rc;

use super::{Plan, PlanOptions, Refusal, Tool, plan_with, rule};
use crate::policy::tools::pins::{self, Pin};
use crate::policy::{self, LoadedPolicy};
use crate::tools::cache::{self, Entry, Key};

/// The tool a shim named `argv0` stands in for: a built-in tool, or any other name but the
/// binary's own (`go`, `gofmt`, `gowarden…`), which the policy must then govern.
pub fn name_from_argv0(argv0: &OsStr) -> Option<String> {
    let name = Path::new(argv0).file_name()?.to_str()?;
    if let Some(b) = crate::tools::builtin_from_argv0(argv0) {
        return Some(b.to_string());
    }
    (!crate::tools::is_reserved(name) && crate::tools::valid_name(name)).then(|| name.to_string())
}

/// Everything decided for one tool call.
#[derive(Debug)]
pub struct ToolPlan {
    pub name: String,
    /// The go plan of the project: the toolchain that builds the tool, the role, the env.
    pub plan: Plan,
    pub pin: Pin,
    pub key: Key,
    pub entry: Entry,
}

/// Decides what `name` runs in `cwd`, without side effects.
pub fn decide(policy: Rc<LoadedPolicy>, name: &str, cwd: &Path) -> Result<ToolPlan, Refusal> {
    let plan = plan_with(
        Rc::clone(&policy),
        Tool::Go,
        Vec::new(),
        cwd,
        PlanOptions {
            indexed: true,
            ..PlanOptions::default()
        },
    )?;
    let refusal = |rule: crate::outcome::RuleId, message: String| {
        let mut r = Refusal::new(rule, message);
        r.role = plan.role.clone().map(Box::new);
        r.module = plan.module.clone().map(String::into_boxed_str);
        r
    };
    if let Some(choice) = &plan.role
        && let Some((role, _)) = policy.role(&choice.name)
        && let Some((key, span)) = role.tool_denied(name)
    {
        return Err(refusal(
            format!("role.{}.{key}", choice.name).as_str().into(),
            format!(
                "refused `{name}`\n  role: {}, {}\n  rule: role.{}.{key} ({})\n  why:  role {:?} \
                 may not run {name}",
                choice.name,
                choice.chosen_by,
                choice.name,
                policy.location(&span),
                choice.name
            ),
        ));
    }
    let pin = match pins::resolve(&policy, plan.go_work.as_ref(), plan.go_mod.as_ref(), name) {
        Ok(Some(p)) => p,
        Ok(None)
            if !crate::policy::tools::governed(&policy)
                .iter()
                .any(|g| g == name) =>
        {
            return Err(refusal(
                rule::TOOL_NOT_GOVERNED,
                not_governed(&policy, name),
            ));
        }
        Ok(None) => {
            return Err(refusal(
                rule::TOOL_UNPINNED,
                pins::unpinned_message(&policy, name, cwd, plan.go_mod.is_some()),
            ));
        }
        Err(e) => return Err(refusal(rule::TOOL_PIN_INVALID, e.to_string())),
    };
    let key = key_for(&plan, &pin).map_err(|e| refusal(rule::ERROR, e.to_string()))?;
    let Some(root) = cache::root() else {
        return Err(refusal(
            rule::ERROR,
            "no cache dir for tools: set HOME or XDG_CACHE_HOME".into(),
        ));
    };
    let entry = Entry::for_key(&root, &key);
    Ok(ToolPlan {
        name: name.to_string(),
        plan,
        pin,
        key,
        entry,
    })
}

/// A shim name that neither the policy nor the project knows as a tool.
fn not_governed(policy: &LoadedPolicy, name: &str) -> String {
    format!(
        "`{name}` is not a tool the policy {} governs (governed: {}) nor one this project \
         declares (a go.mod `tool` line); the gowarden CLI answers only to `gowarden`. To run \
         {name} here, pin it: `go get -tool PACKAGE@VERSION`, or in the policy's [tools] \
         ({name} = \"PACKAGE@VERSION\")",
        policy.origin.file_name(),
        crate::policy::tools::governed(policy).join(", ")
    )
}

/// The cache key: the pin, the toolchain and the build settings as go will read them.
fn key_for(plan: &Plan, pin: &Pin) -> crate::error::Result<Key> {
    let lookup = plan.env_lookup();
    let goenv = crate::goenv::GoEnv::load(&lookup, Some(&plan.toolchain.goroot))?;
    let host = crate::toolchain::go_platform();
    let (host_os, host_arch) = host.split_once('-').unwrap_or(("linux", "amd64"));
    let settings = cache::BUILD_SETTINGS
        .iter()
        .map(|k| {
            let v = goenv
                .get(k)
                .map(|(v, _)| v.to_string_lossy().into_owned())
                .unwrap_or_default();
            let v = match (*k, v.is_empty()) {
                ("GOOS", true) => host_os.to_string(),
                ("GOARCH", true) => host_arch.to_string(),
                _ => v,
            };
            (k.to_string(), v)
        })
        .collect();
    Ok(Key {
        name: pin.name.clone(),
        package: pin.package.clone(),
        version: pin.version.clone(),
        go: plan.toolchain.name.clone(),
        settings,
    })
}

/// The tool shim's entry point. Returns only on failure, with the exit status.
pub fn run(name: String, argv0: OsString, args: Vec<OsString>) -> i32 {
    crate::diag::init();
    crate::goenv::begin_snapshot();
    let cwd = match std::env::current_dir() {
        Ok(d) => d,
        Err(e) => {
            return refuse(&Refusal::new(
                rule::ERROR,
                format!("cannot read the working directory: {e}"),
            ));
        }
    };
    let policy = match policy::load::load() {
        Ok(p) => Rc::new(p),
        Err(e) => return refuse(&Refusal::from(e)),
    };
    let audit_refusal = |r: &Refusal| {
        let record = crate::auditing::tool_record(&name, &argv0, &args, &cwd, None, Some(r));
        append(&policy, &record).err()
    };
    let tp = match decide(Rc::clone(&policy), &name, &cwd) {
        Ok(tp) => tp,
        Err(r) => {
            let note = audit_refusal(&r);
            return refuse_noted(&r, note);
        }
    };
    if !tp.entry.exists()
        && let Err(r) = build(&tp, &cwd)
    {
        let note = audit_refusal(&r);
        return refuse_noted(&r, note);
    }
    // The role's confinement holds the tool as it holds go; the tool's own binary is one
    // more program it may execute.
    let confinement = match crate::confine::for_plan(&tp.plan).and_then(|c| {
        c.map(|mut c| {
            if let Some(exec) = &mut c.execute {
                exec.push(crate::confine::Grant {
                    path: tp.entry.dir.clone(),
                    why: format!("the pinned {}", tp.name),
                    go_creates: false,
                });
            }
            crate::confine::prepare(c)
        })
        .transpose()
    }) {
        Ok(c) => c,
        Err(r) => {
            let note = audit_refusal(&r);
            return refuse_noted(&r, note);
        }
    };
    let binary = tp.entry.binary();
    let mut record = crate::auditing::tool_record(
        &name,
        &argv0,
        &args,
        &cwd,
        Some((&tp.plan, &tp.pin, &binary)),
        None,
    );
    if let Some(c) = &confinement {
        record = crate::confine::audit_attrs(record, c);
    }
    if let Err(e) = append(&policy, &record) {
        match policy.policy.audit.on_failure {
            crate::audit::OnFailure::Deny => {
                return refuse(&Refusal::new(
                    "audit.unwritable",
                    format!(
                        "{name} was not run: its audit record cannot be written: {e}; make the \
                         log writable, or let tools run unaudited with [audit] on_failure = \
                         \"allow\" (policy {})",
                        policy.origin
                    ),
                ));
            }
            crate::audit::OnFailure::Allow => eprintln!(
                "gowarden: warning: running {name} without an audit record ([audit] \
                 on_failure = \"allow\"): {e}"
            ),
        }
    }
    if let Some(c) = &confinement
        && let Err(e) = c.apply()
    {
        let r = Refusal::new(
            &format!("role.{}.confine", c.confinement.role),
            format!("{name} was not run: its confinement could not be applied: {e}"),
        );
        let note = audit_refusal(&r);
        return refuse_noted(&r, note);
    }
    let r = exec(&binary, &argv0, &args);
    let note = audit_refusal(&r);
    refuse_noted(&r, note)
}

fn append(policy: &LoadedPolicy, record: &crate::audit::Record) -> Result<(), String> {
    match crate::auditing::settings(policy) {
        Ok(Some(s)) => s.sink().append(record).map_err(|e| e.to_string()),
        Ok(None) => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

/// Builds the pinned tool into the cache: `go install PKG@VERSION` through the go shim (this
/// same binary as `go`) with GOBIN in a temp dir beside the entry, so the build is judged,
/// audited and run with the toolchain the project gets like any other go call.
fn build(tp: &ToolPlan, cwd: &Path) -> Result<(), Refusal> {
    let spec = tp.pin.spec();
    let shim = std::env::current_exe().map_err(|e| {
        Refusal::new(
            rule::TOOL_BUILD_FAILED,
            format!("cannot find gowarden's own binary to build {spec}: {e}"),
        )
    })?;
    let mut status = None;
    let built = cache::ensure(&tp.entry, &tp.key, &tp.pin.source.to_string(), |gobin| {
        eprintln!(
            "gowarden: building {} {} ({spec}, pinned by {}) with {} into {}",
            tp.name,
            tp.pin.version,
            tp.pin.source,
            tp.plan.toolchain.name,
            tp.entry.dir.display()
        );
        // go's output goes to stderr: a tool's stdout may be a protocol (gopls speaks LSP).
        let stdout = std::io::stderr()
            .as_fd()
            .try_clone_to_owned()
            .map_err(|e| crate::error::Error::new(format!("cannot pass stderr to go: {e}")))?;
        let s = std::process::Command::new(&shim)
            .arg0("go")
            .args(["install", &spec])
            .env("GOBIN", gobin)
            .current_dir(cwd)
            .stdin(std::process::Stdio::null())
            .stdout(stdout)
            .status()
            .map_err(|e| crate::error::Error::new(format!("cannot run go: {e}")))?;
        status = s.code();
        if s.success() {
            Ok(())
        } else {
            Err(crate::error::Error::new(format!(
                "`go install {spec}` failed ({s})"
            )))
        }
    });
    match built {
        Ok(_) => Ok(()),
        Err(e) => {
            // A build the policy refused is the policy's refusal, with its status.
            let rule = if status == Some(super::RefusalStatus::Refused as i32) {
                rule::TOOL_BUILD_REFUSED
            } else {
                rule::TOOL_BUILD_FAILED
            };
            let mut r = Refusal::new(
                rule,
                format!("{} {} was not built: {e}", tp.name, tp.pin.version),
            );
            r.role = tp.plan.role.clone().map(Box::new);
            Err(r)
        }
    }
}

fn refuse_noted(r: &Refusal, note: Option<String>) -> i32 {
    let status = refuse(r);
    if let Some(note) = note {
        eprintln!("gowarden: the refusal could not be audited either: {note}");
    }
    status
}

fn refuse(r: &Refusal) -> i32 {
    crate::diag::flush();
    eprintln!(
        "gowarden: {}",
        crate::audit::redact_url_userinfo_str(&r.message)
    );
    r.status() as i32
}

/// Replaces this process with the cached tool: same argv[0] and arguments, the caller's
/// environment unchanged (the tool's own `go` calls go through the go shim on PATH).
fn exec(binary: &Path, argv0: &OsStr, args: &[OsString]) -> Refusal {
    let to_c = |s: &OsStr| CString::new(s.as_bytes()).ok();
    let mut argv = Vec::with_capacity(args.len() + 1);
    argv.extend(to_c(argv0));
    for a in args {
        argv.extend(to_c(a));
    }
    let Some(path) = to_c(binary.as_os_str()) else {
        return Refusal::new(rule::EXEC_FAILED, "the tool path holds a NUL byte");
    };
    crate::diag::flush();
    let err = nix::unistd::execv(&path, &argv).unwrap_err();
    Refusal::new(
        rule::EXEC_FAILED,
        format!("cannot run {}: {err}", binary.display()),
    )
}
