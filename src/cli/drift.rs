//! `gowarden drift`: configuration drift against the policy (see [`crate::drift`]).
//!
//! ```text
//! gowarden drift [-C DIR] [--json] [--baseline FILE] [--fix | --watch]
//! gowarden drift snapshot [-C DIR] [-o FILE]
//! ```
//! Exit status: 0 no drift, 1 drift, 2 could not check (and usage errors).

use std::path::PathBuf;

use crate::drift::{self, Context, Options, baseline::Baseline};

pub fn run(args: &[String]) -> i32 {
    if args.first().map(String::as_str) == Some("snapshot") {
        return snapshot(&args[1..]);
    }
    let mut json = false;
    let mut fix = false;
    let mut watch = false;
    let mut dir: Option<PathBuf> = None;
    let mut baseline: Option<PathBuf> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--json" => json = true,
            "--fix" => fix = true,
            "--watch" => watch = true,
            "-C" => match it.next() {
                Some(d) => dir = Some(PathBuf::from(d)),
                None => return super::usage_error("drift", "-C needs a directory"),
            },
            "--baseline" => match it.next() {
                Some(f) => baseline = Some(PathBuf::from(f)),
                None => return super::usage_error("drift", "--baseline needs a file"),
            },
            other => return super::usage_error("drift", &format!("unknown argument {other:?}")),
        }
    }
    if fix && watch {
        return super::usage_error("drift", "--fix and --watch do not go together");
    }
    let Some(dir) = resolve_dir(dir) else {
        return 2;
    };
    let opts = Options { dir, baseline };
    if watch {
        return drift::watch::run(&opts, json);
    }
    let mut report = drift::check(&opts);
    let mut fixed = None;
    // A report with errors is incomplete: fixing from it would be guessing.
    if fix && report.errors.is_empty() {
        let outcome = Context::load(&opts.dir).and_then(|ctx| drift::fix::fix(&ctx, &report));
        match outcome {
            Ok(f) => {
                if !f.changes.is_empty()
                    && let Err(e) = record_fix(&f)
                {
                    eprintln!("gowarden drift: the fix was made but not audited: {e}");
                }
                fixed = Some(f);
                // What is left after the fix is what the exit status reports.
                report = drift::check(&opts);
            }
            Err(e) => report.errors.push(e),
        }
    }
    if json {
        let mut v = report.to_json();
        if fix {
            v["fix"] = fixed
                .as_ref()
                .map(drift::fix::FixReport::to_json)
                .unwrap_or(serde_json::Value::Null);
        }
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        if let Some(f) = &fixed {
            print!("{}", f.text());
        }
        print!("{}", report.text());
    }
    for e in &report.errors {
        eprintln!("gowarden drift: {e}");
    }
    report.exit_code()
}

fn snapshot(args: &[String]) -> i32 {
    let mut out: Option<PathBuf> = None;
    let mut dir: Option<PathBuf> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-o" => match it.next() {
                Some(f) => out = Some(PathBuf::from(f)),
                None => return super::usage_error("drift snapshot", "-o needs a file"),
            },
            "-C" => match it.next() {
                Some(d) => dir = Some(PathBuf::from(d)),
                None => return super::usage_error("drift snapshot", "-C needs a directory"),
            },
            other => {
                return super::usage_error(
                    "drift snapshot",
                    &format!("unknown argument {other:?}"),
                );
            }
        }
    }
    let Some(dir) = resolve_dir(dir) else {
        return 2;
    };
    let ctx = match Context::load(&dir) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("gowarden drift snapshot: {e}");
            return 2;
        }
    };
    // A baseline records a state that was fully known: refuse to write a partial one.
    let plan = match &ctx.plan {
        Ok(p) => p,
        Err(r) => {
            eprintln!(
                "gowarden drift snapshot: no toolchain to record: {}",
                r.message
            );
            return 2;
        }
    };
    let bypass = match drift::env::check(
        &ctx.policy,
        &plan.toolchain.goroot,
        &ctx.dir,
        crate::goenv::process_env,
    ) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("gowarden drift snapshot: {e}");
            return 2;
        }
    };
    let b = Baseline::capture(&ctx, Some(&bypass));
    let text = match serde_json::to_string_pretty(&b) {
        Ok(t) => t + "\n",
        Err(e) => {
            eprintln!("gowarden drift snapshot: {e}");
            return 2;
        }
    };
    match out {
        Some(path) => {
            if let Err(e) = std::fs::write(&path, text) {
                eprintln!(
                    "gowarden drift snapshot: cannot write {}: {e}",
                    path.display()
                );
                return 2;
            }
            eprintln!("gowarden drift snapshot: wrote {}", path.display());
        }
        None => print!("{text}"),
    }
    0
}

fn resolve_dir(dir: Option<PathBuf>) -> Option<PathBuf> {
    let cwd = match std::env::current_dir() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("gowarden drift: cannot read the working directory: {e}");
            return None;
        }
    };
    Some(dir.map(|d| cwd.join(d)).unwrap_or(cwd))
}

/// One audit record for a `--fix`: each key of the go env file it changed, from → to.
fn record_fix(f: &drift::fix::FixReport) -> crate::error::Result<()> {
    let file = f
        .file
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let mut r = crate::auditing::event(
        format!("gowarden drift --fix {file}"),
        "fix",
        crate::audit::Severity::Info,
    )
    .attr_str("gowarden.fix.file", file);
    if let Some(b) = &f.backup {
        r = r.attr_path("gowarden.fix.backup", b);
    }
    for c in &f.changes {
        r = r.go_env_change(&c.key, c.from.as_deref(), c.to.as_deref());
    }
    crate::auditing::append_event(&r)
}
