//! `gowarden which TOOL`: the version a tool shim (gopls, dlv, ...) runs here, what pins it,
//! and whether it is built yet; the same decision the tool shim makes
//! ([`crate::shim::tool::decide`]).

use std::path::Path;
use std::rc::Rc;

use serde_json::json;

use super::ExitStatus;
use crate::shim::tool::{ToolPlan, decide};

pub fn run(tool: &str, dir: &Path, as_json: bool) -> ExitStatus {
    let policy = match crate::policy::load::load() {
        Ok(p) => Rc::new(p),
        Err(e) => {
            eprintln!("gowarden which: {e}");
            return ExitStatus::Error;
        }
    };
    match decide(Rc::clone(&policy), tool, dir) {
        Ok(tp) => {
            if as_json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&to_json(&tp)).unwrap_or_default()
                );
            } else {
                print_text(&tp);
            }
            ExitStatus::Success
        }
        Err(r) => {
            if as_json {
                let v = json!({ "tool": tool, "error": r.message, "rule": r.rule });
                println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            } else {
                println!("refused: `{tool}` does not run here (why: see below)");
                println!("  policy:    {}", policy.origin);
            }
            eprintln!("gowarden: {}", r.message);
            ExitStatus::Failure
        }
    }
}

fn print_text(tp: &ToolPlan) {
    let plan = &tp.plan;
    println!(
        "{} {} {}",
        tp.name,
        tp.pin.version,
        tp.entry.binary().display()
    );
    println!("  package:   {}", tp.pin.spec());
    println!("  pinned by: {}", tp.pin.source);
    if tp.entry.exists() {
        println!("  built:     yes, by {} (cached)", tp.key.go);
    } else {
        println!(
            "  built:     not yet: its first run builds it with {} through the go shim",
            tp.key.go
        );
    }
    println!(
        "  toolchain: {} {} ({})",
        plan.toolchain.name,
        plan.toolchain.goroot.display(),
        plan.request.source
    );
    println!(
        "  key:       {} {}",
        tp.key.platform(),
        &tp.key.digest()[..16]
    );
    if let Some(role) = &plan.role {
        println!("  role:      {}, {}", role.name, role.chosen_by);
    }
    println!("  policy:    {}", plan.policy.origin);
}

fn to_json(tp: &ToolPlan) -> serde_json::Value {
    let plan = &tp.plan;
    json!({
        "tool": tp.name,
        "package": tp.pin.package,
        "module": tp.pin.module,
        "version": tp.pin.version,
        "pin": { "kind": tp.pin.source.kind(), "source": tp.pin.source.to_string() },
        "binary": tp.entry.binary(),
        "cached": tp.entry.exists(),
        "go": tp.key.go,
        "platform": tp.key.platform(),
        "key": tp.key.digest(),
        "role": plan.role.as_ref().map(|r| r.name.clone()),
        "policy": plan.policy.origin.to_string(),
    })
}
