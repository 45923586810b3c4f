//! Times audit log appends, the shim's hot path.
//!
//! `cargo run --release --example audit_append -- [LINES]` (default 1,000,000): median (and
//! p99) microseconds per append over 2000 appends, on an empty log and on a log of LINES
//! lines, with flush and with fsync durability. The big log is written directly as
//! pre-chained lines, which is much faster than appending them one by one.

use std::ffi::OsString;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use gowarden::audit::{self, Decision, Durability, LogConfig, Record, Redactor, attr};

const APPENDS: usize = 2000;

fn record() -> Record {
    let args: Vec<OsString> = [
        "go",
        "build",
        "-trimpath",
        "-o",
        "bin/server",
        "./cmd/server",
    ]
    .iter()
    .map(OsString::from)
    .collect();
    Record::new("go build -trimpath -o bin/server ./cmd/server")
        .decision(Decision::Allow)
        .attr_args(attr::PROCESS_COMMAND_ARGS, &args)
        .attr_path(
            attr::PROCESS_EXECUTABLE_PATH,
            Path::new("/opt/go/1.22.10/bin/go"),
        )
        .attr_int(attr::PROCESS_PID, 123_456)
        .attr_int(attr::PROCESS_PARENT_PID, 123_400)
        .attr_path(
            attr::PROCESS_WORKING_DIRECTORY,
            Path::new("/home/alice/src/payments"),
        )
        .attr_str(attr::USER_NAME, "alice")
        .attr_int(attr::USER_ID, 1000)
        .attr_str(attr::HOST_NAME, "devbox-17")
        .attr_str(attr::GO_VERSION, "1.22.10")
        .attr_str(
            attr::GO_VERSION_SOURCE,
            "/home/alice/src/payments/.go-version",
        )
        .attr_str(attr::GOWARDEN_ROLE, "developer")
        .attr_str(attr::GOWARDEN_TIER, "payments")
        .env_override("GOTOOLCHAIN", Some("auto".as_ref()), Some("local".as_ref()))
}

/// Writes `lines` chained records straight to `path`.
fn build_log(path: &Path, lines: u64) -> std::io::Result<u64> {
    let encoded = record()
        .encode(&Redactor::default())
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let mut prev = audit::GENESIS_SHA256.to_string();
    let mut line = Vec::new();
    for seq in 1..=lines {
        line.clear();
        encoded.write_line(seq, &prev, &mut line);
        prev = audit::line_sha256(&line[..line.len() - 1]);
        out.write_all(&line)?;
    }
    out.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

/// Median and 99th percentile of `APPENDS` appends, in microseconds.
fn time_appends(log: &LogConfig) -> Result<(f64, f64), gowarden::error::Error> {
    let rec = record();
    let mut micros = Vec::with_capacity(APPENDS);
    for _ in 0..APPENDS {
        let start = Instant::now();
        audit::append(log, &rec)?;
        micros.push(start.elapsed().as_secs_f64() * 1e6);
    }
    micros.sort_by(f64::total_cmp);
    Ok((micros[APPENDS / 2], micros[APPENDS * 99 / 100]))
}

fn main() {
    let lines: u64 = match std::env::args().nth(1).map(|a| a.replace('_', "").parse()) {
        None => 1_000_000,
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            eprintln!("usage: audit_append [LINES]: {e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(lines) {
        eprintln!("audit_append: {e}");
        std::process::exit(1);
    }
}

fn run(lines: u64) -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let line_len = record()
        .encode(&Redactor::default())?
        .line(1, audit::GENESIS_SHA256)
        .len()
        + 1;
    println!("record line: {line_len} bytes; {APPENDS} appends per case");

    let big = dir.path().join("big.log");
    let start = Instant::now();
    let size = build_log(&big, lines)?;
    println!(
        "built a {lines}-line log ({:.1} MiB) in {:.1} s",
        size as f64 / (1 << 20) as f64,
        start.elapsed().as_secs_f64()
    );

    for durability in [Durability::Flush, Durability::Fsync] {
        let name = format!("{durability:?}").to_lowercase();
        let mut empty = LogConfig::new(dir.path().join(format!("empty-{name}.log")));
        empty.durability = durability;
        let (median, p99) = time_appends(&empty)?;
        println!("{name:>5}, empty log:        median {median:8.1} µs   p99 {p99:8.1} µs");

        let mut full = LogConfig::new(&big);
        full.durability = durability;
        let (median, p99) = time_appends(&full)?;
        println!("{name:>5}, {lines}-line log: median {median:8.1} µs   p99 {p99:8.1} µs");
    }
    let start = Instant::now();
    let report = audit::verify(&[big]);
    println!(
        "verify of the big log: intact={} records={} in {:.1} s",
        report.is_intact(),
        report.records,
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
