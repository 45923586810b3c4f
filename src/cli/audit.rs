//! `gowarden audit verify|tail|export|path`: read the audit log the shim writes.

use std::io::Write;
use std::path::PathBuf;

use crate::audit;
use crate::auditing;
use crate::policy;

const USAGE: &str = "gowarden audit verify [FILE...] | tail [-n N] [--follow] | export --otlp-json [FILE...] | path";

pub fn run(args: &[String]) -> i32 {
    let Some((sub, rest)) = args.split_first() else {
        return super::usage_error("audit", USAGE);
    };
    match sub.as_str() {
        "verify" => verify(rest),
        "tail" => tail(rest),
        "export" => export(rest),
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
    if let Some(flag) = args.iter().find(|a| a.starts_with('-')) {
        return super::usage_error("audit verify", &format!("unknown flag {flag:?}"));
    }
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

fn export(args: &[String]) -> i32 {
    let (flags, named): (Vec<&String>, Vec<&String>) =
        args.iter().partition(|a| a.starts_with('-'));
    if flags.iter().map(|f| f.as_str()).collect::<Vec<_>>() != ["--otlp-json"] {
        return super::usage_error("audit export", "give --otlp-json (the one format there is)");
    }
    let named: Vec<String> = named.into_iter().cloned().collect();
    let files = match files(&named) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("gowarden audit export: {e}");
            return 2;
        }
    };
    match audit::export_otlp_json(&files) {
        Ok(v) => {
            println!("{v}");
            0
        }
        Err(e) => {
            eprintln!("gowarden audit export: {e}");
            2
        }
    }
}
