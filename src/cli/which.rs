//! `gowarden which`: the toolchain `go` would run here and why, without running it.

use std::path::PathBuf;

use serde_json::json;

use crate::shim::{self, Plan, Tool};

pub fn run(args: &[String]) -> i32 {
    let mut json_out = false;
    let mut dir: Option<PathBuf> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--json" => json_out = true,
            "-C" => match it.next() {
                Some(d) => dir = Some(PathBuf::from(d)),
                None => return super::usage_error("which", "-C needs a directory"),
            },
            other => return super::usage_error("which", &format!("unknown argument {other:?}")),
        }
    }
    let cwd = match std::env::current_dir() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("gowarden which: cannot read the working directory: {e}");
            return 2;
        }
    };
    let dir = dir.map(|d| cwd.join(d)).unwrap_or(cwd);
    match shim::plan(Tool::Go, Vec::new(), &dir) {
        Ok(plan) => {
            if json_out {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&to_json(&plan)).unwrap_or_default()
                );
            } else {
                print_text(&plan);
            }
            0
        }
        Err(r) => {
            if json_out {
                let v = json!({"error": r.message, "rule": r.rule});
                println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            }
            eprintln!("gowarden: {}", r.message);
            1
        }
    }
}

fn print_text(plan: &Plan) {
    let t = &plan.toolchain;
    println!("{} {}", t.name, t.goroot.display());
    println!("  found in:  {}", t.found_in);
    let asked = if plan.request.written.is_empty() {
        plan.request.spec.to_string()
    } else {
        format!("{} ({})", plan.request.written, plan.request.spec)
    };
    println!("  asked for: {asked}");
    println!("  by:        {}", plan.request.source);
    println!("  policy:    {}", plan.policy.origin);
    for note in &plan.policy.notes {
        println!("  note:      {note}");
    }
    if let Some(role) = &plan.role {
        println!("  role:      {}, {}", role.name, role.chosen_by);
    }
    for c in &plan.env {
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
    for line in crate::envpolicy::describe_checks(&plan.env_checks) {
        println!("  [env]:     {line}");
    }
    for line in crate::confine::describe_for(plan, None) {
        println!("  {line}");
    }
}

fn to_json(plan: &Plan) -> serde_json::Value {
    let (file, line) = match plan.request.source.location() {
        Some(loc) => match loc.rsplit_once(':') {
            Some((f, l)) if l.parse::<usize>().is_ok() => (Some(f.to_string()), l.parse().ok()),
            _ => (Some(loc), None),
        },
        None => (None, None::<usize>),
    };
    let env: serde_json::Map<String, serde_json::Value> = plan
        .env
        .iter()
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
        "source": {
            "kind": plan.request.source.kind(),
            "description": plan.request.source.to_string(),
            "file": file,
            "line": line,
        },
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
        "env_policy": crate::envpolicy::checks_json(&plan.env_checks),
        "confinement": crate::confine::json_for(plan, None),
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
