//! Where the shim's records go. Every writer of the audit trail (the go shim, the tool shims,
//! drift's events) appends through [`Sink`]; the hash-chained JSONL file ([`LogConfig`], in
//! `append.rs`) is the one sink today. Shipping to a Collector is not a sink: `ship.rs` reads
//! the file afterwards, so the shim's cost stays one local append.
//!
//! A new sink (syslog, a root daemon's socket: DESIGN.md, "Later") is one file here
//! implementing [`Sink`], chosen in `auditing::Settings::sink` from the policy's `[audit]`
//! table. It must be as cheap on the hot path as the file (no thread, no connection pool)
//! and fail with a message the shim can print: `[audit] on_failure` decides what a failure
//! means.

use super::config::LogConfig;
use super::record::Record;
use crate::error::Result;

/// Takes one record per go call, before go runs.
pub trait Sink {
    /// Appends `record`; returns once it is as durable as the sink promises (for the file,
    /// `[audit] durability`).
    fn append(&self, record: &Record) -> Result<()>;
}

/// The local log: encoded, redacted and chained onto the previous line ([`super::append`]).
impl Sink for LogConfig {
    fn append(&self, record: &Record) -> Result<()> {
        super::append(self, record).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_sink_chains_what_is_appended_through_the_trait() {
        let dir = tempfile::tempdir().unwrap();
        let log = LogConfig::new(dir.path().join("audit.jsonl"));
        let sink: &dyn Sink = &log;
        sink.append(&Record::new("go build")).unwrap();
        sink.append(&Record::new("go test")).unwrap();
        let text = std::fs::read(&log.path).unwrap();
        let lines: Vec<&[u8]> = text
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(lines.len(), 2);
        let second = super::super::LoggedRecord::parse(lines[1]).unwrap();
        assert_eq!((second.seq, second.body.as_str()), (2, "go test"));
        assert_eq!(second.prev_sha256, super::super::line_sha256(lines[0]));
    }
}
