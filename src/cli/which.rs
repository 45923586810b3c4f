//! `gowarden which`: the toolchain `go` would run here and why, without running it.

use serde_json::json;

use super::ExitStatus;
use super::args::WhichArgs;

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
                println!(
                    "{}",
                    serde_json::to_string_pretty(&to_json(&plan)).unwrap_or_default()
                );
            } else {
                print_text(&plan);
            }
            ExitStatus::Success
        }
        Err(r) => {
            // Show what is known before the refusal: it is what the fix has to change.
            let known = shim::partial(Tool::Go, &[], &dir);
            if a.json {
                let v = json!({
                    "error": r.message,
                    "rule": r.rule,
                    "policy": known.policy.as_ref().map(|p| json!({
                        "origin": p.origin.kind(),
                        "path": p.origin.path(),
                    })),
                    "requested": known.request.as_ref().map(|q| q.written.clone()),
                    "spec": known.request.as_ref().map(|q| q.spec.to_string()),
                    "source": known.request.as_ref().map(|q| source_json(&q.source)),
                    "installed": toolchains_json(&known.installed),
                });
                println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
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

fn toolchains_json(found: &[crate::toolchain::Toolchain]) -> serde_json::Value {
    found
        .iter()
        .map(|t| {
            json!({
                "version": t.name,
                "goroot": t.goroot,
                "found_in": t.found_in.to_string(),
            })
        })
        .collect()
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
                .map(|v| v.to_string_lossy().into_owned())
                .unwrap_or_else(|| "(unset)".into());
        println!("  env:       {}={to}", c.key);
    }
    if let Some(t) = &plan.tier {
        println!("  tier:      {} (owner {}): {}", t.name, t.owner, t.reason);
    }
    for w in &plan.warnings {
        println!("  warning:   {w}");
    }
    for line in crate::policy::env::describe_checks(&plan.env_checks) {
        println!("  [env]:     {line}");
    }
    for line in crate::confine::describe_for(plan, None) {
        println!("  {line}");
    }
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
fn shown_env(plan: &Plan) -> impl Iterator<Item = &crate::shim::EnvChange> {
    plan.env.iter().filter(|c| c.key != crate::shim::DEPTH_ENV)
}

fn to_json(plan: &Plan) -> serde_json::Value {
    let env: serde_json::Map<String, serde_json::Value> = shown_env(plan)
        .map(|c| {
            let v =
                c.to.as_ref()
                    .map(|v| json!(v.to_string_lossy()))
                    .unwrap_or(serde_json::Value::Null);
            (c.key.clone(), v)
        })
        .collect();
    json!({
        "version": plan.toolchain.name,
        "goroot": plan.toolchain.goroot,
        "found_in": plan.toolchain.found_in.to_string(),
        "requested": plan.request.written,
        "spec": plan.request.spec.to_string(),
        "source": source_json(&plan.request.source),
        "overrides": overridden(plan)
            .iter()
            .map(|d| json!({
                "kind": match d {
                    crate::project::Declaration::Pin(p) => p.format.kind(),
                    crate::project::Declaration::Toolchain(_) => "toolchain-line",
                },
                "file": d.declared().path,
                "line": d.declared().line,
                "value": d.declared().value,
            }))
            .collect::<Vec<_>>(),
        "policy": {
            "origin": plan.policy.origin.kind(),
            "path": plan.policy.origin.path(),
            "notes": plan.policy.notes,
        },
        "env": env,
        "tier": plan.tier.as_ref().map(|t| json!({
            "name": t.name,
            "owner": t.owner,
            "reason": t.reason.kind(),
            "why": t.reason.to_string(),
        })),
        "warnings": plan.warnings,
        "role": role_json(plan.role.as_ref()),
        "env_policy": crate::policy::env::checks_json(&plan.env_checks),
        "confinement": crate::confine::json_for(plan, None),
    })
}

fn source_json(source: &crate::resolve::Source) -> serde_json::Value {
    let location = source.location();
    let (file, line) = match &location {
        Some(l) => (Some(l.file.display().to_string()), l.line),
        None => (None, None),
    };
    json!({
        "kind": source.kind(),
        "description": source.to_string(),
        "file": file,
        "line": line,
    })
}

/// The caller's role and what chose it; `null` for a policy without roles.
pub(crate) fn role_json(role: Option<&crate::policy::roles::RoleChoice>) -> serde_json::Value {
    match role {
        None => serde_json::Value::Null,
        Some(r) => {
            let matched = match &r.chosen_by {
                crate::policy::roles::ChosenBy::Binding { matched, .. } => Some(matched),
                _ => None,
            };
            json!({
                "name": r.name,
                "chosen_by": r.chosen_by.kind(),
                "location": r.chosen_by.location(),
                "matched": matched,
                "description": r.chosen_by.to_string(),
            })
        }
    }
}
