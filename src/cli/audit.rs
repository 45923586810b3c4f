//! `gowarden audit verify|tail|export|path`: read the audit log the shim writes.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::ExitStatus;
use super::args::{AuditCommand, ExportArgs, ShipArgs, TailArgs, VerifyArgs};

use crate::audit;
use crate::auditing;
use crate::policy;

pub fn run(command: AuditCommand) -> ExitStatus {
    match command {
        AuditCommand::Verify(a) => verify(&a),
        AuditCommand::Tail(a) => tail(&a),
        AuditCommand::Export(a) => export(&a),
        AuditCommand::Ship(a) => ship(&a),
        AuditCommand::Report(a) => super::report::run(&a),
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
pub(super) fn files(named: &[PathBuf]) -> crate::error::Result<Vec<PathBuf>> {
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
    if let Some(c) = &a.collected {
        return verify_collected(c, &a.files);
    }
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

/// `verify --collected EXPORT [FILE...]`: checks every host's and user's stream in a
/// Collector's file export; with local files (or, when the export is all there is to read,
/// none), also the local chain against its collected copy. Exit 0 intact, 1 broken, 2
/// unreadable.
fn verify_collected(export: &Path, named: &[PathBuf]) -> ExitStatus {
    let collected = match audit::read_collected(export) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("gowarden audit verify: {e}");
            return ExitStatus::Error;
        }
    };
    let mut broken = false;
    if collected.torn_lines > 0 {
        println!(
            "warning: {}: {} line(s) that are not a whole request (a Collector stopped mid-write) skipped",
            export.display(),
            collected.torn_lines
        );
    }
    for s in &collected.streams {
        let who = format!("host {:?} user.id {:?}", s.host, s.user);
        match s.problems.first() {
            None => println!(
                "intact: {who}: {} records, seq {}..{}, {} retransmitted",
                s.records.len(),
                s.first_seq().unwrap_or(0),
                s.last_seq().unwrap_or(0),
                s.retransmitted
            ),
            Some(_) => {
                broken = true;
                // Each problem, up to a screenful: a stream cut in many places is one story.
                for p in s.problems.iter().take(20) {
                    println!("broken: {who}: {p}");
                }
                if s.problems.len() > 20 {
                    println!("broken: {who}: and {} more", s.problems.len() - 20);
                }
            }
        }
    }
    if collected.streams.is_empty() {
        println!("{}: no gowarden records", export.display());
    }
    if !named.is_empty() {
        let files: Vec<PathBuf> = named.to_vec();
        let local = audit::verify(&files);
        if let Some(p) = &local.problem {
            println!(
                "broken: {}:{}: {} ({})",
                p.file.display(),
                p.line,
                p.message,
                p.kind.as_str()
            );
            broken = true;
        }
        match audit::compare_local(&files, &collected) {
            Err(e) => {
                eprintln!("gowarden audit verify: {e}");
                return ExitStatus::Error;
            }
            Ok(audit::Comparison { stream: None, .. }) => {
                println!("the local log holds no records")
            }
            Ok(audit::Comparison {
                mismatch: None,
                stream: Some((host, user)),
                matched: 0,
            }) => {
                println!(
                    "broken: nothing of host {host:?} user.id {user:?} was collected: the local \
                     log was never shipped, or is not the one collected"
                );
                broken = true;
            }
            Ok(audit::Comparison {
                mismatch: None,
                matched: n,
                ..
            }) => {
                println!("matches: {n} local records are in the collected copy, unchanged")
            }
            Ok(audit::Comparison {
                mismatch: Some(m), ..
            }) => {
                broken = true;
                if m.line == 0 {
                    println!("broken: {}: {}", m.file.display(), m.message);
                } else {
                    println!("broken: {}:{}: {}", m.file.display(), m.line, m.message);
                }
            }
        }
    }
    ExitStatus::ok_if(!broken)
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

/// `export --otlp-json [--max-bytes N] [--since T] [--until T] [FILE...]`: one OTLP/JSON
/// `ExportLogsServiceRequest` per output line, each at most N bytes (default: all in one), with
/// the records whose time is in [since, until). Read line by line: memory stays bounded.
fn export(a: &ExportArgs) -> ExitStatus {
    // clap requires --otlp-json: the one format there is.
    let max_bytes = a.max_bytes.unwrap_or(usize::MAX);
    let (since, until) = (a.since.unwrap_or(0), a.until.unwrap_or(u64::MAX));
    let files = match files(&a.files) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("gowarden audit export: {e}");
            return ExitStatus::Error;
        }
    };
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    let mut batch = audit::Batcher::new(max_bytes);
    let emit = |batch: &mut audit::Batcher, out: &mut dyn Write| writeln!(out, "{}", batch.take());
    for path in &files {
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("gowarden audit export: cannot open {}: {e}", path.display());
                return ExitStatus::Error;
            }
        };
        for line in std::io::BufRead::split(std::io::BufReader::new(file), b'\n') {
            let line = match line {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("gowarden audit export: cannot read {}: {e}", path.display());
                    return ExitStatus::Error;
                }
            };
            let Some(record) = audit::convert_line(&line) else {
                continue;
            };
            if record.time_unix_nano < since || record.time_unix_nano >= until {
                continue;
            }
            if !batch.fits(&record) && emit(&mut batch, &mut out).is_err() {
                return ExitStatus::Error;
            }
            batch.push(record);
        }
    }
    if !batch.is_empty() && emit(&mut batch, &mut out).is_err() {
        return ExitStatus::Error;
    }
    if out.flush().is_err() {
        return ExitStatus::Error;
    }
    ExitStatus::Success
}

/// `ship [--endpoint URL] [--state DIR] [--once] [--interval-ms N] [--max-batch-bytes N]
/// [--max-backoff-ms N] [--retry-for SECS] [LOG...]`: sends each log's new records to an OTLP/HTTP
/// receiver, checkpointed, retrying with exponential backoff while it is down. Without
/// `--once` it keeps following the logs; with it, it exits once everything is delivered (0), or
/// when a send still fails after `--retry-for` seconds (1) or is refused by the receiver (1).
fn ship(a: &ShipArgs) -> ExitStatus {
    let once = a.once;
    let interval = std::time::Duration::from_millis(a.interval_ms);
    let max_batch_bytes = a.max_batch_bytes;
    let max_backoff = std::time::Duration::from_millis(a.max_backoff_ms.max(1));
    let retry_for = std::time::Duration::from_secs(a.retry_for);
    let mut logs = a.logs.clone();
    let endpoint = match audit::Endpoint::parse(&a.endpoint) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("gowarden audit ship: --endpoint: {e}");
            return ExitStatus::Error;
        }
    };
    if logs.is_empty() {
        match configured_path() {
            Ok(p) => logs.push(p),
            Err(e) => {
                eprintln!("gowarden audit ship: {e}");
                return ExitStatus::Error;
            }
        }
    }
    let state_dir = match a
        .state
        .clone()
        .or_else(|| crate::userdirs::state_dir().map(|d| d.join("gowarden/ship")))
    {
        Some(d) => d,
        None => {
            eprintln!("gowarden audit ship: give --state DIR (no XDG_STATE_HOME or HOME)");
            return ExitStatus::Error;
        }
    };
    let config = audit::ShipConfig {
        endpoint,
        state_dir,
        max_batch_bytes,
        timeout: std::time::Duration::from_secs(10),
    };
    let mut backoff = std::time::Duration::ZERO;
    let mut failing_since: Option<std::time::Instant> = None;
    loop {
        let mut failed = None;
        for log in &logs {
            match audit::ship_pending(log, &config) {
                Ok(done) => {
                    for w in &done.warnings {
                        eprintln!("gowarden audit ship: warning: {w}");
                    }
                }
                Err(audit::ShipError::Send(audit::SendError::Permanent(m), _)) => {
                    eprintln!("gowarden audit ship: {}: {m}", log.display());
                    if once {
                        return ExitStatus::Failure;
                    }
                    failed = Some(());
                }
                Err(e) => {
                    eprintln!("gowarden audit ship: {}: {e}", log.display());
                    failed = Some(());
                }
            }
        }
        match failed {
            None => {
                backoff = std::time::Duration::ZERO;
                failing_since = None;
                if once {
                    return ExitStatus::Success;
                }
                std::thread::sleep(interval);
            }
            Some(()) => {
                let since = *failing_since.get_or_insert_with(std::time::Instant::now);
                if once && since.elapsed() >= retry_for {
                    eprintln!(
                        "gowarden audit ship: still failing after {}s; the checkpoint keeps what \
                         was delivered",
                        retry_for.as_secs()
                    );
                    return ExitStatus::Failure;
                }
                // Exponential backoff from 100 ms, capped: a Collector that is down is not
                // hammered, one that comes back is used again soon.
                backoff = (backoff * 2)
                    .max(std::time::Duration::from_millis(100))
                    .min(max_backoff);
                std::thread::sleep(backoff);
            }
        }
    }
}
