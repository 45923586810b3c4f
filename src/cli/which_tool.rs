//! `gowarden which TOOL`: the version a tool shim (gopls, dlv, ...) runs here, what pins it,
//! and whether it is built yet; the same decision the tool shim makes
//! ([`crate::shim::tool::decide`]).

use std::path::Path;
use std::rc::Rc;

use super::ExitStatus;
use super::json_shapes::{WhichTool, WhichToolRefused};
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
                super::print_json(&WhichTool::of(&tp));
            } else {
                print_text(&tp);
            }
            ExitStatus::Success
        }
        Err(r) => {
            if as_json {
                super::print_json(&WhichToolRefused {
                    error: &r.message,
                    rule: &r.rule,
                    tool,
                });
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
