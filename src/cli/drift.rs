//! `gowarden drift`: configuration drift against the policy (see [`crate::drift`]).
//!
//! ```text
//! gowarden drift [-C DIR] [--json] [--baseline FILE] [--fix | --watch]
//! gowarden drift snapshot [-C DIR] [-o FILE]
//! ```
//! Exit status: 0 no drift, 1 drift, 2 could not check (and usage errors).

use std::path::PathBuf;

use super::ExitStatus;
use super::args::{DriftArgs, DriftCommand, SnapshotArgs};
use crate::drift::{self, Context, Options, baseline::Baseline};

pub fn run(a: DriftArgs) -> ExitStatus {
    if let Some(DriftCommand::Snapshot(s)) = a.snapshot {
        return snapshot(s);
    }
    let (json, fix, watch, baseline) = (a.json, a.fix, a.watch, a.baseline);
    let Some(dir) = resolve_dir(a.dir.dir.as_deref()) else {
        return ExitStatus::Error;
    };
    let opts = Options { dir, baseline };
    if watch {
        return status(drift::watch::run(&opts, json));
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
        /// The report, and with `--fix` what the fix did (`null` where it did nothing).
        #[derive(serde::Serialize)]
        struct WithFix<'a> {
            #[serde(flatten)]
            report: &'a drift::Report,
            #[serde(skip_serializing_if = "Option::is_none")]
            fix: Option<Option<&'a drift::fix::FixReport>>,
        }
        super::print_json(&WithFix {
            report: &report,
            fix: fix.then_some(fixed.as_ref()),
        });
    } else {
        if let Some(f) = &fixed {
            print!("{}", f.text());
        }
        print!("{}", report.text());
    }
    for e in &report.errors {
        eprintln!("gowarden drift: {e}");
    }
    status(report.exit_code())
}

/// drift reports 0, 1 or 2 with the meanings of [`ExitStatus`].
fn status(code: i32) -> ExitStatus {
    match code {
        0 => ExitStatus::Success,
        1 => ExitStatus::Failure,
        _ => ExitStatus::Error,
    }
}

fn snapshot(a: SnapshotArgs) -> ExitStatus {
    let out = a.output;
    let Some(dir) = resolve_dir(a.dir.dir.as_deref()) else {
        return ExitStatus::Error;
    };
    let ctx = match Context::load(&dir) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("gowarden drift snapshot: {e}");
            return ExitStatus::Error;
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
            return ExitStatus::Error;
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
            return ExitStatus::Error;
        }
    };
    let b = Baseline::capture(&ctx, Some(&bypass));
    let text = match serde_json::to_string_pretty(&b) {
        Ok(t) => t + "\n",
        Err(e) => {
            eprintln!("gowarden drift snapshot: {e}");
            return ExitStatus::Error;
        }
    };
    match out {
        Some(path) => {
            if let Err(e) = std::fs::write(&path, text) {
                eprintln!(
                    "gowarden drift snapshot: cannot write {}: {e}",
                    path.display()
                );
                return ExitStatus::Error;
            }
            eprintln!("gowarden drift snapshot: wrote {}", path.display());
        }
        None => print!("{text}"),
    }
    ExitStatus::Success
}

fn resolve_dir(dir: Option<&std::path::Path>) -> Option<PathBuf> {
    match super::resolve_dir(dir) {
        Ok(d) => Some(d),
        Err(e) => {
            eprintln!("gowarden drift: {e}");
            None
        }
    }
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
