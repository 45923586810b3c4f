//! `gowarden audit verify|tail|export|path`: read the audit log the shim writes.

use std::io::Write;
use std::path::PathBuf;

use crate::audit;
use crate::auditing;
use crate::policy;

const USAGE: &str = "gowarden audit verify [--collected FILE] [FILE...] | tail [-n N] [--follow] | export --otlp-json [--max-bytes N] [--since T] [--until T] [FILE...] | ship [--endpoint URL] [--state DIR] [--once] [LOG...] | path";

pub fn run(args: &[String]) -> i32 {
    let Some((sub, rest)) = args.split_first() else {
        return super::usage_error("audit", USAGE);
    };
    match sub.as_str() {
        "verify" => verify(rest),
        "tail" => tail(rest),
        "export" => export(rest),
        "ship" => ship(rest),
        "path" => match configured_path() {
            Ok(p) => {
                println!("{}", p.display());
                0
            }
            Err(e) => {
                eprintln!("gowarden audit: {e}");
                2
            }
        },
        other => super::usage_error("audit", &format!("unknown subcommand {other:?}; {USAGE}")),
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
fn files(named: &[String]) -> crate::error::Result<Vec<PathBuf>> {
    if !named.is_empty() {
        return Ok(named.iter().map(PathBuf::from).collect());
    }
    let live = configured_path()?;
    audit::chain_files(&live)
}

fn verify(args: &[String]) -> i32 {
    let mut collected = None;
    let mut named = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--collected" => match it.next() {
                Some(v) => collected = Some(PathBuf::from(v)),
                None => return super::usage_error("audit verify", "--collected needs a file"),
            },
            f if f.starts_with('-') => {
                return super::usage_error("audit verify", &format!("unknown flag {f:?}"));
            }
            _ => named.push(a.clone()),
        }
    }
    if let Some(c) = collected {
        return verify_collected(&c, &named);
    }
    let args = &named[..];
    let files = match files(args) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("gowarden audit verify: {e}");
            return 2;
        }
    };
    if files.is_empty() {
        eprintln!("gowarden audit verify: no audit log yet (nothing to verify)");
        return 2;
    }
    let report = audit::verify(&files);
    for w in &report.warnings {
        println!("warning: {}:{}: {}", w.file.display(), w.line, w.message);
    }
    match &report.problem {
        None => {
            println!(
                "intact: {} records in {} file(s), seq {}..{}",
                report.records,
                report.files.len(),
                report.first_seq.unwrap_or(0),
                report.last_seq.unwrap_or(0)
            );
            0
        }
        Some(p) => {
            println!(
                "broken: {}:{}: {} ({})",
                p.file.display(),
                p.line,
                p.message,
                p.kind.as_str()
            );
            if p.kind == audit::ProblemKind::Unreadable {
                2
            } else {
                1
            }
        }
    }
}

/// `verify --collected EXPORT [FILE...]`: checks every host's and user's stream in a
/// Collector's file export; with local files (or, when the export is all there is to read,
/// none), also the local chain against its collected copy. Exit 0 intact, 1 broken, 2
/// unreadable.
fn verify_collected(export: &std::path::Path, named: &[String]) -> i32 {
    let collected = match audit::read_collected(export) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("gowarden audit verify: {e}");
            return 2;
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
        let files: Vec<PathBuf> = named.iter().map(PathBuf::from).collect();
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
                return 2;
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
    i32::from(broken)
}

fn tail(args: &[String]) -> i32 {
    let mut n = 10usize;
    let mut follow = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-n" => match it.next().and_then(|v| v.parse().ok()) {
                Some(v) => n = v,
                None => return super::usage_error("audit tail", "-n needs a number"),
            },
            "-f" | "--follow" => follow = true,
            other => {
                return super::usage_error("audit tail", &format!("unknown argument {other:?}"));
            }
        }
    }
    let live = match configured_path() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("gowarden audit tail: {e}");
            return 2;
        }
    };
    let out = std::io::stdout();
    if !follow {
        let files = match audit::chain_files(&live) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("gowarden audit tail: {e}");
                return 2;
            }
        };
        return match audit::tail(&files, n) {
            Ok(lines) => {
                let mut out = out.lock();
                for l in lines {
                    let _ = writeln!(out, "{l}");
                }
                0
            }
            Err(e) => {
                eprintln!("gowarden audit tail: {e}");
                2
            }
        };
    }
    let mut follower = match audit::Follower::new(&live) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("gowarden audit tail: {e}");
            return 2;
        }
    };
    let print = |lines: Vec<Vec<u8>>| {
        let mut out = out.lock();
        for l in lines {
            let _ = writeln!(out, "{}", audit::summarize_line(&l));
        }
        let _ = out.flush();
    };
    match follower.backlog(n) {
        Ok(lines) => print(lines),
        Err(e) => {
            eprintln!("gowarden audit tail: {e}");
            return 2;
        }
    }
    // Runs until interrupted; SIGINT's default action ends the process.
    loop {
        match follower.poll() {
            Ok(lines) => print(lines),
            Err(e) => {
                eprintln!("gowarden audit tail: {e}");
                return 2;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// `export --otlp-json [--max-bytes N] [--since T] [--until T] [FILE...]`: one OTLP/JSON
/// `ExportLogsServiceRequest` per output line, each at most N bytes (default: all in one), with
/// the records whose time is in [since, until). Read line by line: memory stays bounded.
fn export(args: &[String]) -> i32 {
    let mut otlp = false;
    let mut max_bytes = usize::MAX;
    let (mut since, mut until) = (0u64, u64::MAX);
    let mut named = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--otlp-json" => otlp = true,
            "--max-bytes" | "--since" | "--until" => {
                let Some(v) = it.next() else {
                    return super::usage_error("audit export", &format!("{a} needs a value"));
                };
                let ok = match a.as_str() {
                    "--max-bytes" => v.parse().map(|n| max_bytes = n).is_ok(),
                    "--since" => audit::parse_time(v).map(|t| since = t).is_some(),
                    _ => audit::parse_time(v).map(|t| until = t).is_some(),
                };
                if !ok {
                    return super::usage_error(
                        "audit export",
                        &format!(
                            "{a} {v:?}: give a number of bytes, or a time as YYYY-MM-DD, \
                             YYYY-MM-DDTHH:MM[:SS]Z or Unix nanoseconds"
                        ),
                    );
                }
            }
            f if f.starts_with('-') => {
                return super::usage_error("audit export", &format!("unknown flag {f:?}"));
            }
            _ => named.push(a.clone()),
        }
    }
    if !otlp {
        return super::usage_error("audit export", "give --otlp-json (the one format there is)");
    }
    let files = match files(&named) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("gowarden audit export: {e}");
            return 2;
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
                return 2;
            }
        };
        for line in std::io::BufRead::split(std::io::BufReader::new(file), b'\n') {
            let line = match line {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("gowarden audit export: cannot read {}: {e}", path.display());
                    return 2;
                }
            };
            let Some(record) = audit::convert_line(&line) else {
                continue;
            };
            if record.time_unix_nano < since || record.time_unix_nano >= until {
                continue;
            }
            if !batch.fits(&record) && emit(&mut batch, &mut out).is_err() {
                return 2;
            }
            batch.push(record);
        }
    }
    if !batch.is_empty() && emit(&mut batch, &mut out).is_err() {
        return 2;
    }
    if out.flush().is_err() {
        return 2;
    }
    0
}

/// `ship [--endpoint URL] [--state DIR] [--once] [--interval-ms N] [--max-batch-bytes N]
/// [--max-backoff-ms N] [--retry-for SECS] [LOG...]`: sends each log's new records to an OTLP/HTTP
/// receiver, checkpointed, retrying with exponential backoff while it is down. Without
/// `--once` it keeps following the logs; with it, it exits once everything is delivered (0), or
/// when a send still fails after `--retry-for` seconds (1) or is refused by the receiver (1).
fn ship(args: &[String]) -> i32 {
    let mut endpoint = "http://127.0.0.1:4318".to_string();
    let mut state: Option<PathBuf> = None;
    let mut once = false;
    let mut interval = std::time::Duration::from_millis(1000);
    let mut max_batch_bytes = 4usize << 20;
    let mut max_backoff = std::time::Duration::from_secs(30);
    let mut retry_for = std::time::Duration::from_secs(60);
    let mut logs = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let flag = a.as_str();
        match flag {
            "--once" => once = true,
            "--endpoint" | "--state" | "--interval-ms" | "--max-batch-bytes"
            | "--max-backoff-ms" | "--retry-for" => {
                let Some(v) = it.next() else {
                    return super::usage_error("audit ship", &format!("{flag} needs a value"));
                };
                let num = || v.parse::<u64>().ok();
                let ok = match flag {
                    "--endpoint" => {
                        endpoint = v.clone();
                        true
                    }
                    "--state" => {
                        state = Some(PathBuf::from(v));
                        true
                    }
                    "--interval-ms" => num()
                        .map(|n| interval = std::time::Duration::from_millis(n))
                        .is_some(),
                    "--max-batch-bytes" => num().map(|n| max_batch_bytes = n as usize).is_some(),
                    "--max-backoff-ms" => num()
                        .map(|n| max_backoff = std::time::Duration::from_millis(n.max(1)))
                        .is_some(),
                    _ => num()
                        .map(|n| retry_for = std::time::Duration::from_secs(n))
                        .is_some(),
                };
                if !ok {
                    return super::usage_error(
                        "audit ship",
                        &format!("{flag} {v:?}: not a number"),
                    );
                }
            }
            f if f.starts_with('-') => {
                return super::usage_error("audit ship", &format!("unknown flag {f:?}"));
            }
            _ => logs.push(PathBuf::from(a)),
        }
    }
    let endpoint = match audit::Endpoint::parse(&endpoint) {
        Ok(e) => e,
        Err(e) => return super::usage_error("audit ship", &e.to_string()),
    };
    if logs.is_empty() {
        match configured_path() {
            Ok(p) => logs.push(p),
            Err(e) => {
                eprintln!("gowarden audit ship: {e}");
                return 2;
            }
        }
    }
    let state_dir = match state.or_else(|| dirs::state_dir().map(|d| d.join("gowarden/ship"))) {
        Some(d) => d,
        None => {
            eprintln!("gowarden audit ship: give --state DIR (no XDG_STATE_HOME or HOME)");
            return 2;
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
                        return 1;
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
                    return 0;
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
                    return 1;
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
