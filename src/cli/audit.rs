//! `gowarden audit verify|tail|export|path`: read the audit log the shim writes.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::ExitStatus;
use super::args::{AuditCommand, ExportArgs, TailArgs, VerifyArgs};

use crate::audit;
use crate::auditing;
use crate::policy;

pub fn run(command: AuditCommand) -> ExitStatus {
    match command {
        AuditCommand::Verify(a) => verify(&a),
        AuditCommand::Tail(a) => tail(&a),
        AuditCommand::Export(a) => export(&a),
        AuditCommand::Path => match configured_path() {
            Ok(p) => {
                println!("{}", p.display());
                ExitStatus::Success
            }
            Err(e) => {
                eprintln!("gowarden audit: {e}");
                ExitStatus::Error
            }
        },
    }
}

/// The live log the policy in force names.
fn configured_path() -> crate::error::Result<PathBuf> {
    let policy = policy::load::load()?;
    match auditing::settings(&policy)? {
        Some(s) => Ok(s.log.path),
        None => auditing::default_log_path(),
    }
}

/// The files to read: those named, else the configured log and its rotated predecessors.
fn files(named: &[PathBuf]) -> crate::error::Result<Vec<PathBuf>> {
    if !named.is_empty() {
        return Ok(named.to_vec());
    }
    let live = configured_path()?;
    audit::chain_files(&live)
}

/// `gowarden audit verify --json`: docs/cli.md documents this shape.
#[derive(Serialize)]
struct VerifyJson<'a> {
    intact: bool,
    files: &'a [PathBuf],
    records: u64,
    first_seq: Option<u64>,
    last_seq: Option<u64>,
    /// The last good record's line hash: keep it elsewhere to detect a cut-off tail.
    last_sha256: Option<&'a str>,
    problem: Option<ProblemJson<'a>>,
    warnings: Vec<WarningJson<'a>>,
}

#[derive(Serialize)]
struct ProblemJson<'a> {
    file: &'a Path,
    line: u64,
    kind: &'static str,
    message: &'a str,
}

#[derive(Serialize)]
struct WarningJson<'a> {
    file: &'a Path,
    line: u64,
    message: &'a str,
}

fn verify(a: &VerifyArgs) -> ExitStatus {
    let files = match files(&a.files) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("gowarden audit verify: {e}");
            return ExitStatus::Error;
        }
    };
    if files.is_empty() {
        eprintln!("gowarden audit verify: no audit log yet (nothing to verify)");
        return ExitStatus::Error;
    }
    let report = audit::verify(&files);
    let status = match &report.problem {
        None => ExitStatus::Success,
        Some(p) if p.kind == audit::ProblemKind::Unreadable => ExitStatus::Error,
        Some(_) => ExitStatus::Failure,
    };
    if a.json {
        let v = VerifyJson {
            intact: report.problem.is_none(),
            files: &report.files,
            records: report.records,
            first_seq: report.first_seq,
            last_seq: report.last_seq,
            last_sha256: report.last_sha256.as_deref(),
            problem: report.problem.as_ref().map(|p| ProblemJson {
                file: &p.file,
                line: p.line,
                kind: p.kind.as_str(),
                message: &p.message,
            }),
            warnings: report
                .warnings
                .iter()
                .map(|w| WarningJson {
                    file: &w.file,
                    line: w.line,
                    message: &w.message,
                })
                .collect(),
        };
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return status;
    }
    for w in &report.warnings {
        println!("warning: {}:{}: {}", w.file.display(), w.line, w.message);
    }
    match &report.problem {
        None => println!(
            "intact: {} records in {} file(s), seq {}..{}",
            report.records,
            report.files.len(),
            report.first_seq.unwrap_or(0),
            report.last_seq.unwrap_or(0)
        ),
        Some(p) => println!(
            "broken: {}:{}: {} ({})",
            p.file.display(),
            p.line,
            p.message,
            p.kind.as_str()
        ),
    }
    status
}

/// One record as `audit tail --json` prints it: the log's own line, re-encoded compactly;
/// a line that is not JSON (a torn write the verifier reports) is skipped with a warning.
fn json_line(line: &[u8]) -> Option<String> {
    match serde_json::from_slice::<serde_json::Value>(line) {
        Ok(v) => Some(v.to_string()),
        Err(e) => {
            eprintln!("gowarden audit tail: skipping a line that is not JSON: {e}");
            None
        }
    }
}

fn tail(a: &TailArgs) -> ExitStatus {
    let (n, follow, json) = (a.n, a.follow, a.json);
    let live = match configured_path() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("gowarden audit tail: {e}");
            return ExitStatus::Error;
        }
    };
    let out = std::io::stdout();
    if !follow {
        let files = match audit::chain_files(&live) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("gowarden audit tail: {e}");
                return ExitStatus::Error;
            }
        };
        return match audit::tail_lines(&files, n) {
            Ok(lines) => {
                let mut out = out.lock();
                for l in lines {
                    let text = if json {
                        json_line(&l)
                    } else {
                        Some(audit::summarize_line(&l))
                    };
                    if let Some(text) = text {
                        let _ = writeln!(out, "{text}");
                    }
                }
                ExitStatus::Success
            }
            Err(e) => {
                eprintln!("gowarden audit tail: {e}");
                ExitStatus::Error
            }
        };
    }
    let mut follower = match audit::Follower::new(&live) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("gowarden audit tail: {e}");
            return ExitStatus::Error;
        }
    };
    let print = |lines: Vec<Vec<u8>>| {
        let mut out = out.lock();
        for l in lines {
            let text = if json {
                json_line(&l)
            } else {
                Some(audit::summarize_line(&l))
            };
            if let Some(text) = text {
                let _ = writeln!(out, "{text}");
            }
        }
        let _ = out.flush();
    };
    match follower.backlog(n) {
        Ok(lines) => print(lines),
        Err(e) => {
            eprintln!("gowarden audit tail: {e}");
            return ExitStatus::Error;
        }
    }
    // Runs until interrupted; SIGINT's default action ends the process.
    loop {
        match follower.poll() {
            Ok(lines) => print(lines),
            Err(e) => {
                eprintln!("gowarden audit tail: {e}");
                return ExitStatus::Error;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

fn export(a: &ExportArgs) -> ExitStatus {
    // clap requires --otlp-json: the one format there is.
    let named = &a.files;
    let files = match files(named) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("gowarden audit export: {e}");
            return ExitStatus::Error;
        }
    };
    match audit::export_otlp_json(&files) {
        Ok(v) => {
            println!("{v}");
            ExitStatus::Success
        }
        Err(e) => {
            eprintln!("gowarden audit export: {e}");
            ExitStatus::Error
        }
    }
}
