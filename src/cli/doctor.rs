//! `gowarden doctor`: is this machine set up so that every `go` goes through the shim?
//! Lists each problem once, with its fix; exit 1 if there is any.

use std::path::PathBuf;
use std::rc::Rc;

use serde::Serialize;

use super::ExitStatus;
use super::args::DoctorArgs;
use super::json_shapes::KernelJson;
use crate::policy;
use crate::shim::{self, PlanOptions, Tool};
use crate::toolchain;

/// `gowarden doctor --json`: docs/cli.md documents this shape.
#[derive(Debug, Default, Serialize)]
struct Report {
    /// No problems.
    ok: bool,
    /// `go` and `gofmt` on PATH.
    shims: Vec<ShimCheck>,
    /// The policy in force; `null` where it does not load (see `problems`).
    policy: Option<PolicyCheck>,
    /// Every toolchain found; empty where the policy does not load.
    toolchains: Vec<ToolchainEntry>,
    /// What `go` runs in the working directory; `null` where the shim would refuse.
    here: Option<Here>,
    /// Each problem once, with its fix.
    problems: Vec<String>,
    /// The kernel's Landlock support, for roles with `[role.NAME.confine]`.
    landlock: Option<KernelJson>,
}

#[derive(Debug, Serialize)]
struct ShimCheck {
    tool: &'static str,
    /// The first `tool` on PATH; `null` when there is none.
    path: Option<PathBuf>,
    is_shim: bool,
}

#[derive(Debug, Serialize)]
struct PolicyCheck {
    origin: &'static str,
    path: Option<PathBuf>,
    description: String,
    notes: Vec<String>,
}

#[derive(Debug, Serialize)]
struct ToolchainEntry {
    version: String,
    goroot: PathBuf,
    found_in: String,
}

#[derive(Debug, Serialize)]
struct Here {
    version: String,
    source: String,
}

pub fn run(a: &DoctorArgs) -> ExitStatus {
    let report = examine();
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    } else {
        print_text(&report);
    }
    ExitStatus::ok_if(report.ok)
}

fn examine() -> Report {
    let mut r = Report {
        landlock: Some(KernelJson::of(crate::confine::Kernel::current())),
        ..Report::default()
    };
    let self_id = toolchain::self_identity();
    for tool in ["go", "gofmt"] {
        let found = first_on_path(tool);
        let is_shim = found
            .as_ref()
            .is_some_and(|p| toolchain::is_self(p, self_id));
        match &found {
            None => r.problems.push(format!(
                "no `{tool}` on PATH: add the shims dir (holding `{tool}` → gowarden) to the front \
                 of PATH, e.g. by sourcing the profile snippet install.sh installed"
            )),
            Some(_) if is_shim => {}
            Some(p) => r.problems.push(format!(
                "`{tool}` on PATH is {} and not the gowarden shim, so it bypasses the policy: put \
                 the shims dir before {} on PATH",
                p.display(),
                p.parent()
                    .map(|d| d.display().to_string())
                    .unwrap_or_default()
            )),
        }
        r.shims.push(ShimCheck {
            tool,
            path: found,
            is_shim,
        });
    }
    // One load: a policy that does not load is one problem, not also the plan's.
    match policy::load::load() {
        Ok(p) => {
            let p = Rc::new(p);
            r.policy = Some(PolicyCheck {
                origin: p.origin.kind(),
                path: p.origin.path().map(PathBuf::from),
                description: p.origin.to_string(),
                notes: p.notes.clone(),
            });
            let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
            match shim::plan_with(
                Rc::clone(&p),
                Tool::Go,
                Vec::new(),
                &cwd,
                PlanOptions::default(),
            ) {
                Ok(plan) => {
                    r.toolchains = entries(&plan.installed);
                    r.here = Some(Here {
                        version: plan.toolchain.name.clone(),
                        source: plan.request.source.to_string(),
                    });
                }
                Err(refusal) => {
                    r.toolchains = entries(&shim::partial(Tool::Go, &[], &cwd).installed);
                    r.problems
                        .push(format!("here `go` is refused: {}", refusal.message));
                }
            }
        }
        Err(e) => r.problems.push(format!("policy: {e}")),
    }
    r.ok = r.problems.is_empty();
    r
}

fn entries(found: &[toolchain::Toolchain]) -> Vec<ToolchainEntry> {
    found
        .iter()
        .map(|t| ToolchainEntry {
            version: t.name.clone(),
            goroot: t.goroot.clone(),
            found_in: t.found_in.to_string(),
        })
        .collect()
}

fn print_text(r: &Report) {
    for s in r.shims.iter().filter(|s| s.is_shim) {
        if let Some(p) = &s.path {
            println!(
                "ok: `{}` on PATH is the gowarden shim ({})",
                s.tool,
                p.display()
            );
        }
    }
    if let Some(p) = &r.policy {
        println!("ok: policy {} loads", p.description);
        for n in &p.notes {
            println!("note: {n}");
        }
        if r.toolchains.is_empty() {
            println!("no Go toolchains found");
        } else {
            println!("ok: {} toolchain(s) found:", r.toolchains.len());
        }
        for t in &r.toolchains {
            println!(
                "      {} {} ({})",
                t.version,
                t.goroot.display(),
                t.found_in
            );
        }
    }
    if let Some(h) = &r.here {
        println!("ok: here `go` runs {} ({})", h.version, h.source);
    }
    println!("{}", crate::confine::doctor_line());
    if r.problems.is_empty() {
        println!("no problems found");
        return;
    }
    for p in &r.problems {
        eprintln!("problem: {p}");
    }
    eprintln!(
        "{} problem{} found",
        r.problems.len(),
        if r.problems.len() == 1 { "" } else { "s" }
    );
}

/// What a shell here runs for `tool` ([`crate::path_lookup`], as drift searches PATH).
fn first_on_path(tool: &str) -> Option<PathBuf> {
    let path = crate::environ::var_os(crate::envvars::PATH)?;
    let dir = std::env::current_dir().unwrap_or_default();
    crate::path_lookup::first(path, tool, &dir).map(|f| f.file)
}
