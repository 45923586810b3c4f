//! `gowarden audit report [--format json|prom|html] [-o FILE] [--top N] [--policy FILE]
//! [FILE|DIR...]`: the fleet report ([`crate::report`]); docs/report.md is its manual.

use std::io::Write;
use std::path::Path;

use super::ExitStatus;
use super::args::{ReportArgs, ReportFormat};
use crate::policy::load::{self, PolicyOrigin};
use crate::report::{self, Aggregator, Options, TierInfo};

pub fn run(a: &ReportArgs) -> ExitStatus {
    match report(a) {
        Ok(()) => ExitStatus::Success,
        Err(e) => {
            eprintln!("gowarden audit report: {e}");
            ExitStatus::Error
        }
    }
}

fn report(a: &ReportArgs) -> crate::error::Result<()> {
    let policy = match &a.policy {
        Some(p) => load::load_file(p, PolicyOrigin::File(p.clone()))?,
        None => load::load()?,
    };
    let files = if a.inputs.is_empty() {
        super::audit::files(&[])?
    } else {
        report::expand_inputs(&a.inputs)?
    };
    if files.is_empty() {
        return Err(crate::error::Error::new(
            "nothing to read: no audit log yet, and no FILE or DIR named",
        ));
    }
    let mut agg = Aggregator::new(Options {
        top: a.top,
        today: crate::date::Date::today_utc(),
        tiers: TierInfo::from_policy(&policy),
        policy: Some(policy.origin.to_string()),
    });
    for f in &files {
        agg.read_file(f)?;
    }
    let r = agg.finish();
    for w in &r.warnings {
        eprintln!("gowarden audit report: warning: {w}");
    }
    if r.warning_count > r.warnings.len() as u64 {
        eprintln!(
            "gowarden audit report: warning: and {} more",
            r.warning_count - r.warnings.len() as u64
        );
    }
    let mut text = match a.format {
        ReportFormat::Json => serde_json::to_string_pretty(&r)
            .map_err(|e| crate::error::Error::new(format!("cannot encode the report: {e}")))?,
        ReportFormat::Prom => report::prom::render(&r),
        ReportFormat::Html => report::html::render(&r),
    };
    if !text.ends_with('\n') {
        text.push('\n');
    }
    match &a.output {
        Some(path) => write_atomically(path, text.as_bytes()),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|()| out.flush())
                .map_err(|e| crate::error::Error::new(format!("cannot write the report: {e}")))
        }
    }
}

/// Writes a hidden temporary file beside `path` and renames it over `path`: node_exporter's
/// textfile collector (and a web server) sees the old file or the new one, never a part.
/// Hidden and without the `.prom` suffix, so the collector never reads the temporary one.
fn write_atomically(path: &Path, bytes: &[u8]) -> crate::error::Result<()> {
    // A device or a pipe (`-o /dev/stdout`) is written to, never renamed over.
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
        return std::fs::write(path, bytes)
            .map_err(|e| crate::error::Error::io("cannot write the report", path, &e));
    }
    let opts = crate::atomic_file::Options {
        mode: 0o666,
        ..crate::atomic_file::Options::PRIVATE
    };
    crate::atomic_file::replace(path, bytes, opts)
        .map_err(|e| crate::error::Error::io("cannot write the report", path, &e))
}
