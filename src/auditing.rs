//! What the shim writes to the audit log, and when.
//!
//! The record format and the chain live in [`crate::audit`]; this module maps a decision of
//! the shim (a [`Plan`] to run, or a [`Refusal`]) onto one record, and the policy's `[audit]`
//! table onto a [`LogConfig`]. One record is appended per go invocation, before go runs.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use crate::audit::{self, Commands, Decision, LogConfig, OnFailure, Record, Redactor, attr};
use crate::decision::{Plan, Tool};
use crate::error::{Error, Result};
use crate::gocli;
use crate::outcome::Refusal;
use crate::policy::LoadedPolicy;

/// The `[audit]` settings, resolved for this caller.
pub struct Settings {
    pub log: LogConfig,
    pub on_failure: OnFailure,
    pub commands: Commands,
}

impl Settings {
    /// Where this caller's records go: the log file (the only sink the policy can name
    /// today; a new one is chosen here, see `audit/sink.rs`).
    pub fn sink(&self) -> &dyn audit::Sink {
        &self.log
    }
}

/// `None` when the policy switches auditing off.
pub fn settings(policy: &LoadedPolicy) -> Result<Option<Settings>> {
    let a = &policy.policy.audit;
    if !a.enabled {
        return Ok(None);
    }
    let path = match &a.path {
        Some(p) => expand_path(p.get_ref())
            .map_err(|e| e.context(format!("[audit] path at {}", policy.location(&p.span()))))?,
        None => default_log_path()?,
    };
    Ok(Some(Settings {
        log: LogConfig {
            path,
            durability: a.durability,
            max_bytes: a.max_bytes,
            redact: Redactor::new(a.redact.iter()),
        },
        on_failure: a.on_failure,
        commands: a.commands,
    }))
}

/// `$XDG_STATE_HOME/gowarden/audit.jsonl` (`~/.local/state/gowarden/audit.jsonl`).
pub fn default_log_path() -> Result<PathBuf> {
    crate::userdirs::state_dir()
        .map(|d| d.join("gowarden").join("audit.jsonl"))
        .ok_or_else(|| {
            Error::new(
                "cannot find the audit log's default place: neither XDG_STATE_HOME nor HOME is \
                 set; set [audit] path in the policy",
            )
        })
}

/// Expands `~/`, `{uid}` and `{user}` in a configured log path.
fn expand_path(raw: &str) -> Result<PathBuf> {
    let uid = nix::unistd::getuid();
    let mut s = raw.replace("{uid}", &uid.as_raw().to_string());
    if s.contains("{user}") {
        // Resolved as for a `users` binding: the passwd file, else getent where nsswitch.conf
        // lists other sources; a source that does not answer is an error, not another path.
        let name = crate::identity::Identity::current()
            .user_name()
            .map_err(|e| e.context(format!("{{user}} in [audit] path {raw:?}")))?
            .ok_or_else(|| {
                Error::new(format!(
                    "cannot find the user name of uid {uid} for {{user}} in [audit] path \
                     {raw:?}: no passwd entry; use {{uid}} instead"
                ))
            })?;
        s = s.replace("{user}", &name);
    }
    if let Some(rest) = s.strip_prefix("~/") {
        let home =
            crate::userdirs::home_dir().ok_or_else(|| Error::new("HOME is not set for ~/"))?;
        return Ok(home.join(rest));
    }
    let p = PathBuf::from(s);
    if !p.is_absolute() {
        return Err(Error::new(format!(
            "{raw:?} is not an absolute path; write e.g. \"/var/log/gowarden/{{uid}}.jsonl\""
        )));
    }
    Ok(p)
}

/// Whether the call only reads: such calls are skipped under `commands = "mutating"`.
/// Decided on the effective command line, as go reads it: GOFLAGS from the environment go
/// gets (after `[env]`), else the go env file, else `$GOROOT/go.env`, so a `-mod=mod` or `-w`
/// from any of them makes the call mutating. Anything unreadable counts as mutating, so it is
/// recorded.
pub fn is_read_only(plan: &Plan) -> bool {
    if plan.tool == Tool::Gofmt {
        return !gofmt_writes(&plan.args);
    }
    let parsed;
    let inv = match &plan.invocation {
        Some(inv) => inv,
        None => {
            let goflags =
                crate::goenv::effective("GOFLAGS", plan.env_lookup(), Some(&plan.toolchain.goroot));
            let Ok(goflags) = goflags else {
                return false;
            };
            let goflags = goflags.map(|(v, _)| v.to_string_lossy().into_owned());
            let Ok(inv) = gocli::parse(&plan.args, goflags.as_deref()) else {
                return false;
            };
            parsed = inv;
            &parsed
        }
    };
    // -mod=mod lets even `go list` rewrite go.mod and go.sum.
    if inv
        .flags
        .iter()
        .any(|f| f.name == "mod" && f.value.as_deref() == Some("mod".as_ref()))
    {
        return false;
    }
    let words: Vec<&str> = inv.command.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["version"]
        | ["list"]
        | ["doc"]
        | ["help", ..]
        | ["mod", "graph"]
        | ["mod", "why"]
        | ["mod", "verify"] => true,
        ["env"] => inv.env_write.is_none(),
        _ => false,
    }
}

/// gofmt rewrites files with `-w` in any spelling the flag package accepts (`-w`, `--w`,
/// `-w=1`, `-w=true`, ...); a `-w=false` does not. Anything else unclear counts as writing.
fn gofmt_writes(args: &[OsString]) -> bool {
    args.iter().any(|a| {
        let a = a.to_string_lossy();
        let Some(bare) = a.strip_prefix("--").or_else(|| a.strip_prefix('-')) else {
            return false;
        };
        match bare.split_once('=') {
            None => bare == "w",
            Some(("w", v)) => gocli::parse_bool(v) != Some(false),
            Some(_) => false,
        }
    })
}

/// What happened to one invocation.
pub enum Outcome<'a> {
    Run(&'a Plan),
    Refused(&'a Refusal),
}

/// Builds the record for one invocation.
pub fn record(
    tool: Tool,
    argv0: &OsStr,
    args: &[OsString],
    cwd: &Path,
    outcome: Outcome<'_>,
) -> Record {
    let mut command_args: Vec<&OsStr> = Vec::with_capacity(args.len() + 1);
    command_args.push(argv0);
    command_args.extend(args.iter().map(OsString::as_os_str));
    let body = std::iter::once(tool.name().to_string())
        .chain(args.iter().map(|a| audit::shell_quote(a.as_bytes())))
        .collect::<Vec<_>>()
        .join(" ");
    let mut r = base(body, cwd).attr_args(attr::PROCESS_COMMAND_ARGS, &command_args);
    match outcome {
        Outcome::Run(plan) => {
            // Go runs either way; `warn` marks a run that the matrix only tolerates for now.
            let decision = if plan.warnings.is_empty() {
                Decision::Allow
            } else {
                Decision::Warn
            };
            r = r
                .decision(decision)
                .attr_path(attr::PROCESS_EXECUTABLE_PATH, &plan.binary())
                .attr_str(attr::GO_VERSION, plan.toolchain.name.as_str())
                .attr_str(attr::GO_VERSION_SOURCE, plan.request.source.to_string())
                .attr_str("gowarden.policy", plan.policy.origin.to_string());
            if let Some(tier) = plan.tier_name() {
                r = r.attr_str(attr::GOWARDEN_TIER, tier);
            }
            if let Some(module) = &plan.module {
                r = r.attr_str(attr::GOWARDEN_PROJECT, module.as_str());
            }
            if let Some(role) = &plan.role {
                r = r.attr_str(attr::GOWARDEN_ROLE, role.name.as_str());
            }
            if !plan.warnings.is_empty() {
                r = r.attr_str("gowarden.warnings", plan.warnings.join("; "));
            }
            for c in &plan.env {
                r = r.env_override(&c.key, c.from.as_deref(), c.to.as_deref());
            }
            // What the call does and which inputs carry it, one `effect: input` per element.
            if !plan.effects.is_empty() {
                let effects: Vec<String> = plan
                    .effects
                    .iter()
                    .map(|e| format!("{}: {}", e.kind.name(), e.input))
                    .collect();
                r = r.attr_args("gowarden.effects", &effects);
            }
            r = go_env_writes(r, plan);
        }
        Outcome::Refused(refusal) => {
            r = r
                .decision(Decision::Deny)
                .attr_str(attr::GOWARDEN_RULE, refusal.rule.as_str())
                .attr_str("gowarden.reason", refusal.message.as_str());
            if let Some(role) = &refusal.role {
                r = r.attr_str(attr::GOWARDEN_ROLE, role.name.as_str());
            }
            if let Some(tier) = &refusal.tier {
                r = r.attr_str(attr::GOWARDEN_TIER, &**tier);
            }
            if let Some(module) = &refusal.module {
                r = r.attr_str(attr::GOWARDEN_PROJECT, &**module);
            }
        }
    }
    r
}

/// A record with who, where and which process: the attributes every record carries.
fn base(body: String, cwd: &Path) -> Record {
    let uid = nix::unistd::getuid().as_raw();
    let mut r = Record::new(body)
        .attr_int(attr::PROCESS_PID, i64::from(std::process::id()))
        .attr_int(
            attr::PROCESS_PARENT_PID,
            i64::from(nix::unistd::getppid().as_raw()),
        )
        .attr_path(attr::PROCESS_WORKING_DIRECTORY, cwd)
        // A string, as OpenTelemetry's semantic conventions type `user.id`.
        .attr_str(attr::USER_ID, uid.to_string());
    // The passwd file's name, or one a binding already resolved: never a lookup that could
    // stall the call (identity::name_for_record).
    if let Some(name) = crate::identity::name_for_record(uid) {
        r = r.attr_str(attr::USER_NAME, name);
    }
    if let Ok(host) = nix::unistd::gethostname() {
        r = r.attr_str(attr::HOST_NAME, host.to_string_lossy());
    }
    r
}

/// A record of something gowarden itself did or saw (`drift --fix`, `drift --watch`), with the
/// identity attributes of every record. `decision` names the event (`fix`, `drift`, `resolved`).
pub fn event(body: impl Into<String>, decision: &str, severity: audit::Severity) -> Record {
    let cwd = std::env::current_dir().unwrap_or_default();
    // Not std::env::args_os(): it is empty in the musl release build, whose main() takes argv
    // itself (main.rs); the kernel's copy is the same on every libc.
    let argv: Vec<OsString> = std::fs::read("/proc/self/cmdline")
        .map(|b| match b.strip_suffix(&[0]) {
            Some(args) => args
                .split(|&c| c == 0)
                .map(|a| OsString::from_vec(a.to_vec()))
                .collect(),
            None => Vec::new(),
        })
        .unwrap_or_default();
    base(body.into(), &cwd)
        .attr_args(attr::PROCESS_COMMAND_ARGS, &argv)
        .attr_str(attr::GOWARDEN_DECISION, decision)
        .severity(severity)
}

/// Appends `record` to the audit log of the policy in force, if auditing is on.
pub fn append_event(record: &Record) -> Result<()> {
    let policy = crate::policy::load::load()?;
    match settings(&policy)? {
        Some(s) => s.sink().append(record),
        None => Ok(()),
    }
}

/// For `go env -w K=V` / `-u K`: the value each key had in the go env file, and the new one.
fn go_env_writes(mut r: Record, plan: &Plan) -> Record {
    if plan.tool != Tool::Go {
        return r;
    }
    // The effective command line (GOFLAGS=-w counts) where the rules read it.
    let parsed;
    let inv = match &plan.invocation {
        Some(inv) => inv,
        None => {
            let Ok(inv) = gocli::parse(&plan.args, None) else {
                return r;
            };
            parsed = inv;
            &parsed
        }
    };
    let Some(write) = &inv.env_write else {
        return r;
    };
    let file = crate::goenv::env_file_path(crate::goenv::process_env)
        .and_then(|p| crate::goenv::read_env_file(&p).ok())
        .unwrap_or_default();
    let previous = |key: &str| {
        file.iter()
            .rev()
            .find(|e| e.key == key)
            .map(|e| e.value.clone())
    };
    match write {
        gocli::EnvWrite::Set(pairs) => {
            for (k, v) in pairs {
                r = r.go_env_change(k, previous(k).as_deref(), Some(v));
            }
        }
        gocli::EnvWrite::Unset(keys) => {
            for k in keys {
                r = r.go_env_change(k, previous(k).as_deref(), None);
            }
        }
    }
    r
}

/// The record of one tool call (`gopls`, `dlv`...: [`crate::tools`]): the tool, its version
/// and what pinned it, the toolchain that built it, the role; or the refusal.
pub fn tool_record(
    name: &str,
    argv0: &OsStr,
    args: &[OsString],
    cwd: &Path,
    run: Option<(&Plan, &crate::policy::tools::pins::Pin, &Path)>,
    refusal: Option<&Refusal>,
) -> Record {
    let mut command_args: Vec<&OsStr> = Vec::with_capacity(args.len() + 1);
    command_args.push(argv0);
    command_args.extend(args.iter().map(OsString::as_os_str));
    let body = std::iter::once(name.to_string())
        .chain(args.iter().map(|a| audit::shell_quote(a.as_bytes())))
        .collect::<Vec<_>>()
        .join(" ");
    let mut r = base(body, cwd)
        .attr_args(attr::PROCESS_COMMAND_ARGS, &command_args)
        .attr_str("gowarden.tool", name);
    if let Some((plan, pin, binary)) = run {
        r = r
            .decision(Decision::Allow)
            .attr_path(attr::PROCESS_EXECUTABLE_PATH, binary)
            .attr_str(attr::GO_VERSION, plan.toolchain.name.as_str())
            .attr_str(attr::GO_VERSION_SOURCE, plan.request.source.to_string())
            .attr_str("gowarden.policy", plan.policy.origin.to_string())
            .attr_str("gowarden.tool.package", pin.package.as_str())
            .attr_str("gowarden.tool.version", pin.version.as_str())
            .attr_str("gowarden.tool.pin_source", pin.source.kind())
            .attr_str("gowarden.tool.pinned_by", pin.source.to_string());
        if let Some(module) = &plan.module {
            r = r.attr_str(attr::GOWARDEN_PROJECT, module.as_str());
        }
        if let Some(role) = &plan.role {
            r = r.attr_str(attr::GOWARDEN_ROLE, role.name.as_str());
        }
    }
    if let Some(refusal) = refusal {
        r = r
            .decision(Decision::Deny)
            .attr_str(attr::GOWARDEN_RULE, refusal.rule.as_str())
            .attr_str("gowarden.reason", refusal.message.as_str());
        if let Some(role) = &refusal.role {
            r = r.attr_str(attr::GOWARDEN_ROLE, role.name.as_str());
        }
        if let Some(module) = &refusal.module {
            r = r.attr_str(attr::GOWARDEN_PROJECT, &**module);
        }
    }
    r
}
