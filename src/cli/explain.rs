//! `gowarden explain [--role ROLE] [--json] [--] <go args>`: how the shim reads a go command
//! line, which role the caller has and what its rules decide, without running go.
//!
//! Exit status: 0 when go would run, 1 when the shim would refuse, 2 when explain itself
//! cannot answer (usage, an unloadable policy, a `--role` preview the policy does not allow).
//!
//! `--role` judges as another role. The policy may say who may do that: anyone with
//! `[roles] allow_preview = true`, otherwise only root (who can rewrite the policy anyway, so
//! refusing root would protect nothing).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::ExitStatus;
use super::args::ExplainArgs;
use super::json_shapes::{
    ConfinementJson, Explain, ExplainToolchain, GoflagsJson, InvocationJson, OriginJson, ParseJson,
    PolicyJson, RoleJson, RuleJson,
};
use crate::gocli::{EnvWrite, FlagOrigin};
use crate::goenv::Origin;
use crate::identity::Identity;
use crate::location::Location;
use crate::policy::rules::{self, Evaluation};
use crate::policy::{self, LoadedPolicy};
use crate::shim::{self, Tool};

/// What the shim would do with the command line.
struct Decision {
    allow: bool,
    rule: Option<String>,
    location: Option<Location>,
    refused: Option<String>,
    reason: Option<String>,
    message: Option<String>,
}

pub fn run(opts: ExplainArgs) -> ExitStatus {
    // An option before the go command line that explain does not know is clap's usage error
    // (`to pass '-x' as a value, use '-- -x'`); from the first go word on, or after `--`,
    // everything is go's.
    let cwd = match std::env::current_dir() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("gowarden explain: cannot read the working directory: {e}");
            return ExitStatus::Error;
        }
    };
    let policy = match policy::load::load() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("gowarden explain: {e}");
            return ExitStatus::Error;
        }
    };
    let identity = Identity::current();
    if let Some(role) = &opts.role
        && !policy.policy.roles.allow_preview
        && identity.uid() != 0
    {
        eprintln!(
            "gowarden explain: --role {role} is refused: the policy {} lets only root preview \
             other roles (it would need [roles] allow_preview = true); run without --role to \
             see your own role's decision",
            policy.origin
        );
        return ExitStatus::Error;
    }

    // The toolchain go would run here decides which $GOROOT/go.env counts for GOFLAGS.
    let start = match crate::gocli::chdir_flag(&opts.go_args) {
        Some(d) => match crate::project::resolve_chdir(&cwd, &d) {
            Ok(real) => real,
            Err(e) => {
                eprintln!("gowarden explain: {e}");
                return ExitStatus::Error;
            }
        },
        None => cwd.clone(),
    };
    let base = shim::plan(Tool::Go, Vec::new(), &start);
    let goroot: Option<PathBuf> = base.as_ref().ok().map(|p| p.toolchain.goroot.clone());
    // The rules see what go gets through the shim: the plan's [env] and GOROOT changes.
    let process = |key: &str| crate::environ::var_os(key).map(std::ffi::OsString::from);
    let planned = base.as_ref().ok().map(|p| p.env_lookup());
    let env = |key: &str| match &planned {
        Some(lookup) => lookup(key),
        None => process(key),
    };
    let ctx = rules::Context {
        policy: &policy,
        identity: &identity,
        env: &env,
        goroot: goroot.as_deref(),
        cwd: &cwd,
        role_override: opts.role.as_deref(),
        always_parse: true,
        files: base.as_ref().ok().map(|p| p.effect_files()),
    };
    let eval = match rules::evaluate(&ctx, Some(&opts.go_args)) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("gowarden explain: {e}");
            return ExitStatus::Error;
        }
    };

    let decision = decide(&base, &eval, &opts, &cwd);
    if opts.json {
        super::print_json(&to_json(&opts, &policy, &base, &eval, &decision));
    } else {
        print_text(&opts, &policy, &base, &eval, &decision);
    }
    ExitStatus::ok_if(decision.allow)
}

/// The shim's decision: a missing toolchain first (as the shim finds it first), then the
/// role's rules, then, for the caller's own role, the shim's whole plan for this exact command
/// line, so that every check the shim makes is reflected here.
fn decide(
    base: &Result<shim::Plan, shim::Refusal>,
    eval: &Evaluation,
    opts: &ExplainArgs,
    cwd: &Path,
) -> Decision {
    let refused_by = |r: &shim::Refusal| Decision {
        allow: false,
        rule: Some(r.rule.to_string()),
        location: r.location.as_deref().cloned(),
        refused: None,
        reason: None,
        message: Some(r.message.clone()),
    };
    if let Err(r) = base {
        return refused_by(r);
    }
    if let Some(d) = &eval.denial {
        return Decision {
            allow: false,
            rule: Some(d.rule.clone()),
            location: Some(d.location.clone()),
            refused: Some(d.refused.clone()),
            reason: Some(d.reason.clone()),
            message: eval.refusal_message(),
        };
    }
    if opts.role.is_none()
        && let Err(r) = shim::plan(Tool::Go, opts.go_args.clone(), cwd)
    {
        return refused_by(&r);
    }
    Decision {
        allow: true,
        rule: None,
        location: None,
        refused: None,
        reason: None,
        message: None,
    }
}

/// A value or argument as the audit log records it: URL userinfo (a proxy password) redacted.
fn lossy(s: &std::ffi::OsStr) -> String {
    crate::policy::env::shown(s)
}

fn origin_text(o: &Origin) -> String {
    match o {
        Origin::ProcessEnv => "the environment".into(),
        Origin::EnvFile { path, line } => format!("{}:{line}", path.display()),
        Origin::GorootGoEnv { path, line, .. } => format!("{}:{line}", path.display()),
    }
}

fn to_json<'a>(
    opts: &'a ExplainArgs,
    policy: &'a LoadedPolicy,
    base: &'a Result<shim::Plan, shim::Refusal>,
    eval: &'a Evaluation,
    d: &'a Decision,
) -> Explain<'a> {
    Explain {
        args: opts.go_args.iter().map(|a| lossy(a).into()).collect(),
        confinement: base
            .as_ref()
            .ok()
            .and_then(|p| ConfinementJson::of(p, eval.role.as_ref().map(|r| r.name.as_str()))),
        decision: if d.allow { "allow" } else { "refuse" },
        goflags: eval.goflags.as_ref().map(|(v, o)| GoflagsJson {
            from: OriginJson::of(o),
            value: lossy(v).into(),
        }),
        message: d.message.as_deref(),
        parse: ParseJson {
            error: eval.parse_error.as_ref().map(|e| e.message()),
            invocation: eval.invocation.as_ref().map(InvocationJson::of),
            ok: eval.parse_error.is_none(),
        },
        policy: PolicyJson::of(&policy.origin),
        role: RoleJson::of(eval.role.as_ref()),
        rule: d.rule.as_deref().map(|id| RuleJson {
            id,
            location: d.location.as_ref(),
            reason: d.reason.as_deref(),
            refused: d.refused.as_deref(),
        }),
        toolchain: match base {
            Ok(p) => ExplainToolchain::Chosen {
                goroot: &p.toolchain.goroot,
                version: &p.toolchain.name,
            },
            Err(r) => ExplainToolchain::Refused {
                error: &r.message,
                rule: &r.rule,
            },
        },
    }
}

fn print_text(
    opts: &ExplainArgs,
    policy: &LoadedPolicy,
    base: &Result<shim::Plan, shim::Refusal>,
    eval: &Evaluation,
    d: &Decision,
) {
    let mut line = String::from("go");
    for a in &opts.go_args {
        line.push(' ');
        line.push_str(&lossy(a));
    }
    println!("{line}");
    println!("  policy:      {}", policy.origin);
    match base {
        Ok(p) => println!(
            "  toolchain:   {} {}",
            p.toolchain.name,
            p.toolchain.goroot.display()
        ),
        Err(r) => println!("  toolchain:   none ({})", r.rule),
    }
    match &eval.goflags {
        Some((v, o)) => println!("  GOFLAGS:     {} (from {})", lossy(v), origin_text(o)),
        None => println!("  GOFLAGS:     (unset)"),
    }
    if let Some(e) = &eval.parse_error {
        println!("  parse:       go rejects this command line: {e}");
    }
    if let Some(inv) = &eval.invocation {
        let known = if inv.known_command || inv.command.is_empty() {
            ""
        } else {
            " (not a go command)"
        };
        let command = if inv.command.is_empty() {
            "(none)".to_string()
        } else {
            inv.command.join(" ")
        };
        println!("  command:     {command}{known}");
        if let Some(dir) = &inv.chdir {
            println!("  -C:          {}", dir.display());
        }
        for f in &inv.flags {
            let value = match &f.value {
                Some(v) => format!(" = {}", lossy(v)),
                None => String::new(),
            };
            let from = match f.origin {
                FlagOrigin::CommandLine => "command line",
                FlagOrigin::GoFlags => "GOFLAGS",
            };
            let fwd = if f.forwarded { ", forwarded" } else { "" };
            println!(
                "  flag:        {}{value}  [{}: {from}{fwd}]",
                f.name, f.written
            );
        }
        for f in &inv.unknown_flags {
            println!("  unknown:     {}", f.written);
        }
        if let Some(tool) = &inv.vettool {
            println!("  vettool:     {}", lossy(tool));
        }
        let join = |v: &[OsString]| v.iter().map(|a| lossy(a)).collect::<Vec<_>>().join(" ");
        if !inv.positionals.is_empty() {
            println!("  arguments:   {}", join(&inv.positionals));
        }
        if !inv.passthrough.is_empty() {
            println!(
                "  passthrough: {} (not go's: never filtered)",
                join(&inv.passthrough)
            );
        }
        match &inv.env_write {
            Some(EnvWrite::Set(pairs)) => {
                for (k, v) in pairs {
                    println!("  env -w:      {k}={}", lossy(v));
                }
            }
            Some(EnvWrite::Unset(keys)) => println!("  env -u:      {}", keys.join(" ")),
            None => {}
        }
        if inv.help {
            println!("  help:        go prints usage and runs nothing");
        }
    }
    match &eval.role {
        Some(r) => println!("  role:        {}, {}", r.name, r.chosen_by),
        None => println!("  role:        none (the policy defines no roles: nothing is filtered)"),
    }
    if let (Ok(p), Some(r)) = (base, &eval.role) {
        for line in crate::confine::describe_for(p, Some(&r.name)) {
            println!("  {line}");
        }
    }
    if d.allow {
        println!("  decision:    allow");
        return;
    }
    println!("  decision:    refuse");
    if let Some(rule) = &d.rule {
        match &d.location {
            Some(loc) => println!("  rule:        {rule} ({loc})"),
            None => println!("  rule:        {rule}"),
        }
    }
    if let Some(r) = &d.refused {
        println!("  refused:     {r}");
    }
    match (&d.reason, &d.message) {
        (Some(reason), _) => println!("  why:         {reason}"),
        (None, Some(m)) => print_nested("  why:         ", m),
        _ => {}
    }
}

/// A refusal's message under `label`: its first line after the label, the rest of its block
/// (`  where: …`, `  fix: …`) lined up under that first line.
fn print_nested(label: &str, message: &str) {
    let mut lines = message.lines();
    println!("{label}{}", lines.next().unwrap_or_default());
    for line in lines {
        let line = line.strip_prefix("  ").unwrap_or(line);
        println!("{:width$}{line}", "", width = label.len());
    }
}
