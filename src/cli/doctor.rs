//! `gowarden doctor`: is this machine set up so that every `go` goes through the shim?
//! Lists each problem with its fix; exit 1 if there is any.

use std::path::PathBuf;

use crate::policy;
use crate::shim::{self, Tool};
use crate::toolchain;

pub fn run(args: &[String]) -> i32 {
    if let Some(a) = args.first() {
        return super::usage_error("doctor", &format!("unknown argument {a:?}"));
    }
    let mut problems: Vec<String> = Vec::new();
    let self_id = toolchain::self_identity();
    for tool in ["go", "gofmt"] {
        match first_on_path(tool) {
            None => problems.push(format!(
                "no `{tool}` on PATH: add the shims dir (holding `{tool}` → gowarden) to the front \
                 of PATH, e.g. by sourcing the profile snippet install.sh installed"
            )),
            Some(p) if toolchain::is_self(&p, self_id) => {
                println!(
                    "ok: `{tool}` on PATH is the gowarden shim ({})",
                    p.display()
                )
            }
            Some(p) => problems.push(format!(
                "`{tool}` on PATH is {} and not the gowarden shim, so it bypasses the policy: put \
                 the shims dir before {} on PATH",
                p.display(),
                p.parent()
                    .map(|d| d.display().to_string())
                    .unwrap_or_default()
            )),
        }
    }
    match policy::load::load() {
        Ok(p) => {
            println!("ok: policy {} loads", p.origin);
            for n in &p.notes {
                println!("note: {n}");
            }
        }
        Err(e) => problems.push(format!("policy: {e}")),
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    match shim::plan(Tool::Go, Vec::new(), &cwd) {
        Ok(plan) => {
            println!("ok: {} toolchain(s) installed:", plan.installed.len());
            for t in &plan.installed {
                println!("      {} {} ({})", t.name, t.goroot.display(), t.found_in);
            }
            println!(
                "ok: here `go` runs {} ({})",
                plan.toolchain.name, plan.request.source
            );
        }
        Err(r) => problems.push(r.message),
    }
    println!("{}", crate::confine::doctor_line());
    if problems.is_empty() {
        println!("no problems found");
        return 0;
    }
    for p in &problems {
        eprintln!("problem: {p}");
    }
    eprintln!("{} problem(s) found", problems.len());
    1
}

fn first_on_path(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .filter(|d| d.is_absolute())
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}
