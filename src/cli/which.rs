//! `gowarden which`: the toolchain `go` would run here and why, without running it.

use super::ExitStatus;
use super::args::WhichArgs;
use super::json_shapes::{Which, WhichRefused};

use std::ffi::OsString;

use crate::policy::env::{self, EnvCheck};
use crate::shim::{self, Plan, Tool};

pub fn run(a: &WhichArgs) -> ExitStatus {
    let dir = match super::resolve_dir(a.dir.dir.as_deref()) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("gowarden which: {e}");
            return ExitStatus::Error;
        }
    };
    if let Some(tool) = &a.tool {
        return super::which_tool::run(tool, &dir, a.json);
    }
    match shim::plan(Tool::Go, Vec::new(), &dir) {
        Ok(plan) => {
            if a.json {
                super::print_json(&Which::of(&plan, &overridden(&plan)));
            } else {
                print_text(&plan);
            }
            ExitStatus::Success
        }
        Err(r) => {
            // Show what is known before the refusal: it is what the fix has to change.
            let known = shim::partial(Tool::Go, &[], &dir);
            if a.json {
                let v = WhichRefused::of(
                    &r,
                    known.policy.as_deref().map(|p| &p.origin),
                    known.request.as_ref(),
                    &known.installed,
                );
                super::print_json(&v);
            } else {
                print_partial(&known);
            }
            eprintln!("gowarden: {}", r.message);
            ExitStatus::Failure
        }
    }
}

/// The lines of [`print_text`] that a refused plan still has, under a `refused` heading.
fn print_partial(known: &shim::Partial) {
    println!("refused: `go` does not run here (why: see below)");
    if let Some(p) = &known.policy {
        println!("  policy:    {}", p.origin);
    }
    if let Some(q) = &known.request {
        println!("  asked for: {}", asked(q));
        println!("  by:        {}", q.source);
    }
    if known.policy.is_some() {
        if known.installed.is_empty() {
            println!("  found:     no Go toolchains");
        }
        for t in &known.installed {
            println!(
                "  found:     {} {} ({})",
                t.name,
                t.goroot.display(),
                t.found_in
            );
        }
    }
}

fn asked(q: &crate::resolve::Request) -> String {
    if q.written.is_empty() {
        q.spec.to_string()
    } else {
        format!("{} ({})", q.written, q.spec)
    }
}

fn print_text(plan: &Plan) {
    let t = &plan.toolchain;
    println!("{} {}", t.name, t.goroot.display());
    println!("  found in:  {}", t.found_in);
    println!("  asked for: {}", asked(&plan.request));
    println!("  by:        {}", plan.request.source);
    for d in overridden(plan) {
        let at = d.declared();
        println!("  overrides: {} at {}", at.value, at.location());
    }
    println!("  policy:    {}", plan.policy.origin);
    for note in &plan.policy.notes {
        println!("  note:      {note}");
    }
    if let Some(role) = &plan.role {
        println!("  role:      {}, {}", role.name, role.chosen_by);
    }
    for c in shown_env(plan) {
        let to =
            c.to.as_ref()
                .map(|v| crate::policy::env::shown(v))
                .unwrap_or_else(|| "(unset)".into());
        println!("  env:       {}={to}", c.key);
    }
    if let Some(t) = &plan.tier {
        println!("  tier:      {} (owner {}): {}", t.name, t.owner, t.reason);
    }
    for w in &plan.warnings {
        println!("  warning:   {w}");
    }
    for line in describe_checks(&plan.env_checks) {
        println!("  [env]:     {line}");
    }
    for line in crate::confine::describe_for(plan, None) {
        println!("  {line}");
    }
}

/// The `[env]:` lines for the governed keys: the value go gets and where it came from.
fn describe_checks(checks: &[EnvCheck]) -> Vec<String> {
    checks.iter().map(describe_check).collect()
}

fn describe_check(c: &EnvCheck) -> String {
    let show = |v: &Option<OsString>| match v {
        Some(v) => format!("{:?}", env::shown(v)),
        None => "unset".to_string(),
    };
    let caller = match &c.caller {
        Some((v, o)) => format!("{:?} from {}", env::shown(v), env::describe(o)),
        None => "unset".into(),
    };
    let how = match c.action {
        env::Action::Kept => match &c.caller {
            Some((_, o)) => format!("as {}", env::describe(o)),
            None => "unset everywhere".into(),
        },
        env::Action::Set => format!("set by the shim; without it: {caller}"),
        env::Action::Removed => format!("removed by the shim; without it: {caller}"),
        env::Action::Neutralised => format!(
            "a value go treats as unset, because a file of yours that go reads sets it; \
             without the shim: {caller}"
        ),
        env::Action::Unremovable => format!(
            "FORBIDDEN but set in the go env file, go runs only for `go env -w/-u`: {caller}"
        ),
    };
    format!(
        "{}={} ({} {}; {how})",
        c.key,
        show(&c.value),
        c.rule.name(),
        c.policy_at
    )
}

/// The project's declarations that the one in force overrode: farther ones, lower ones in
/// the same directory, or all of them where the environment chose the version.
fn overridden(plan: &Plan) -> Vec<crate::project::Declaration<'_>> {
    let chosen = plan.request.source.location();
    plan.project
        .declarations()
        .into_iter()
        .filter(|d| Some(d.declared().location()) != chosen)
        .collect()
}

/// The environment go would get, less the shim's nesting counter: its value names the process
/// that sets it (`PID:N`), which for `which` would be this CLI, not the shim a `go` call runs.
pub(super) fn shown_env(plan: &Plan) -> impl Iterator<Item = &crate::shim::EnvChange> {
    plan.env.iter().filter(|c| c.key != crate::shim::DEPTH_ENV)
}
