//! `gowarden audit ship`: sends a log's records to an OpenTelemetry Collector's OTLP/HTTP
//! receiver, at least once, resuming from a checkpoint. Never on the shim's path: the shim
//! only appends; this runs beside it (a service, a timer, a CI step).
//!
//! * Reading: the chain's files in order ([`chain_files`]), from the checkpoint's file and
//!   offset; only complete lines of the live file (a torn end waits for the next append's
//!   repair). Lines that are not records are skipped (`verify` reports them).
//! * Sending: [`Batcher`] bodies under `max_batch_bytes`, `POST <endpoint>/v1/logs` as
//!   `application/json`. A batch counts as delivered only on a 2xx answer without rejected
//!   records.
//! * Anchor: on resuming, the line before the checkpoint's offset must be the record last
//!   delivered; a log rewritten in place since is read again from the start and the record
//!   at the checkpoint's seq that differs is reported as a warning.
//! * Checkpoint: after each delivered batch, `<state>/<hash of the log path>.json` names the
//!   last record sent (seq, SHA-256) and where reading resumes (file identity, offset), written
//!   to a temporary file and renamed over the old one. A crash between delivery and checkpoint
//!   sends that batch again: the Collector may see a record twice, never zero times, and
//!   `gowarden.seq` with `host.name` (and `user.id`) is the key to drop the duplicates by.
//!
//! The HTTP client is a few lines over a `TcpStream`, plain `http://` only: the intended
//! receiver is the Collector agent on the same host (127.0.0.1:4318), which forwards with TLS
//! as the fleet requires, so gowarden needs neither a TLS stack nor an HTTP dependency.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::chain::line_sha256;
use super::files::{chain_files, shared_lock};
use super::otlp::{Batcher, convert_line};
use super::revlines::RevLines;
use crate::error::{Error, Result};

/// Where records go and how.
#[derive(Debug, Clone)]
pub struct ShipConfig {
    pub endpoint: Endpoint,
    /// Checkpoints live here, one file per log.
    pub state_dir: PathBuf,
    /// The largest request body (the Collector's `max_request_body_size` defaults to 20 MiB).
    pub max_batch_bytes: usize,
    pub timeout: Duration,
}

/// An `http://host:port[/path]` OTLP/HTTP endpoint; logs go to `<path>/v1/logs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub authority: String,
    pub path: String,
}

impl Endpoint {
    pub fn parse(url: &str) -> Result<Endpoint> {
        let rest = url.strip_prefix("http://").ok_or_else(|| {
            Error::new(format!(
                "endpoint {url:?}: only http:// is supported (ship to the Collector agent on \
                 this host, e.g. http://127.0.0.1:4318, and let it forward with TLS)"
            ))
        })?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
            None => (rest, ""),
        };
        if authority.is_empty() {
            return Err(Error::new(format!("endpoint {url:?} names no host")));
        }
        let authority = if authority.contains(':') {
            authority.to_string()
        } else {
            format!("{authority}:80")
        };
        let path = if path.ends_with("/v1/logs") {
            path.to_string()
        } else {
            format!("{path}/v1/logs")
        };
        Ok(Endpoint { authority, path })
    }
}

/// Why a send failed.
#[derive(Debug)]
pub enum SendError {
    /// Worth retrying: no connection, a timeout, 429, 502, 503, 504 or another 5xx.
    Transient(String),
    /// The receiver refused the data itself (a 4xx, or rejected records): retrying the same
    /// batch will not help.
    Permanent(String),
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::Transient(m) | SendError::Permanent(m) => f.write_str(m),
        }
    }
}

/// `POST`s one OTLP/JSON body; `Ok` when the receiver took every record.
pub fn post(
    endpoint: &Endpoint,
    body: &[u8],
    timeout: Duration,
) -> std::result::Result<(), SendError> {
    let transient = |e: io::Error| SendError::Transient(format!("{}: {e}", endpoint.authority));
    let addr = endpoint
        .authority
        .to_socket_addrs()
        .map_err(transient)?
        .next()
        .ok_or_else(|| SendError::Transient(format!("{}: no address", endpoint.authority)))?;
    let mut stream = TcpStream::connect_timeout(&addr, timeout).map_err(transient)?;
    stream.set_read_timeout(Some(timeout)).map_err(transient)?;
    stream.set_write_timeout(Some(timeout)).map_err(transient)?;
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         User-Agent: gowarden/{}\r\nConnection: close\r\n\r\n",
        endpoint.path,
        endpoint.authority,
        body.len(),
        env!("CARGO_PKG_VERSION")
    );
    stream.write_all(head.as_bytes()).map_err(transient)?;
    // A receiver that refuses the body (too large) may answer and close before reading it
    // all: the write then fails, but its answer is still worth reading.
    let sent = stream.write_all(body);
    let mut answer = Vec::new();
    let read = stream.read_to_end(&mut answer);
    if answer.is_empty() {
        sent.map_err(|e| {
            SendError::Transient(format!(
                "{}: connection closed while sending {} bytes ({e}); is the batch over the \
                 receiver's max_request_body_size?",
                endpoint.authority,
                body.len()
            ))
        })?;
        read.map_err(transient)?;
    }
    let text = String::from_utf8_lossy(&answer);
    let status: u16 = text
        .strip_prefix("HTTP/1.")
        .and_then(|r| r.get(2..5))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| SendError::Transient(format!("{}: no HTTP answer", endpoint.authority)))?;
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    let short = |b: &str| b.chars().take(300).collect::<String>();
    match status {
        200..=299 => {
            // OTLP partial success: some records were refused and will never arrive.
            let rejected = serde_json::from_str::<serde_json::Value>(body)
                .ok()
                .and_then(|v| {
                    let n = v.pointer("/partialSuccess/rejectedLogRecords")?;
                    n.as_str()
                        .and_then(|s| s.parse::<u64>().ok())
                        .or_else(|| n.as_u64())
                })
                .unwrap_or(0);
            if rejected > 0 {
                Err(SendError::Permanent(format!(
                    "the receiver rejected {rejected} record(s): {}",
                    short(body)
                )))
            } else {
                Ok(())
            }
        }
        429 | 500..=599 => Err(SendError::Transient(format!(
            "HTTP {status} from {}: {}",
            endpoint.authority,
            short(body)
        ))),
        _ => Err(SendError::Permanent(format!(
            "HTTP {status} from {}: {}",
            endpoint.authority,
            short(body)
        ))),
    }
}

/// Where shipping of one log stands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The live log this checkpoint belongs to.
    pub log: PathBuf,
    /// `gowarden.seq` and line SHA-256 of the last record delivered.
    pub seq: u64,
    pub sha256: String,
    /// The file (device, inode) and byte offset at which reading resumes.
    pub dev: u64,
    pub ino: u64,
    pub offset: u64,
}

/// The checkpoint file of `log` in `state_dir`.
pub fn checkpoint_path(state_dir: &Path, log: &Path) -> PathBuf {
    let h = line_sha256(log.as_os_str().as_encoded_bytes());
    state_dir.join(format!("{}.json", &h[..16]))
}

pub fn load_checkpoint(state_dir: &Path, log: &Path) -> Result<Option<Checkpoint>> {
    let path = checkpoint_path(state_dir, log);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            Error::new(format!(
                "ship checkpoint {} is damaged ({e}); move it aside to send the log again from \
                 its start",
                path.display()
            ))
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("cannot read ship checkpoint", &path, &e)),
    }
}

fn save_checkpoint(state_dir: &Path, cp: &Checkpoint) -> Result<()> {
    std::fs::create_dir_all(state_dir)
        .map_err(|e| Error::io("cannot create ship state directory", state_dir, &e))?;
    let path = checkpoint_path(state_dir, &cp.log);
    let opts = crate::atomic_file::Options {
        mode: 0o666,
        exact_mode: None,
        sync: true,
    };
    serde_json::to_vec(cp)
        .map_err(io::Error::other)
        .and_then(|bytes| crate::atomic_file::replace(&path, &bytes, opts))
        .map_err(|e| Error::io("cannot write ship checkpoint", &path, &e))
}

/// What one [`ship_pending`] call did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Shipped {
    pub records: u64,
    pub batches: u64,
    /// Something odd seen on the way (a record at the checkpoint's seq that differs from the
    /// one shipped: the log was rewritten after shipping).
    pub warnings: Vec<String>,
}

/// Why [`ship_pending`] stopped early.
#[derive(Debug)]
pub enum ShipError {
    Send(SendError, Shipped),
    Local(Error),
}

impl std::fmt::Display for ShipError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ShipError::Send(e, _) => write!(f, "{e}"),
            ShipError::Local(e) => write!(f, "{e}"),
        }
    }
}

impl From<Error> for ShipError {
    fn from(e: Error) -> Self {
        ShipError::Local(e)
    }
}

/// Sends every record of `log`'s chain after its checkpoint, checkpointing after each
/// delivered batch. Returns when all complete lines are delivered, or at the first failure
/// (what was delivered before it stays checkpointed).
pub fn ship_pending(log: &Path, config: &ShipConfig) -> std::result::Result<Shipped, ShipError> {
    let mut cp = load_checkpoint(&config.state_dir, log)?.unwrap_or_else(|| Checkpoint {
        log: log.to_path_buf(),
        ..Checkpoint::default()
    });
    // The chain's files and the live file's length, all seen under the shared lock: a
    // rotation between listing and opening would otherwise hide the file just rotated.
    let mut opened = Vec::new();
    {
        let _lock = shared_lock(log).map_err(|e| Error::io("cannot lock audit log", log, &e))?;
        for path in chain_files(log)? {
            let f = File::open(&path).map_err(|e| Error::io("cannot open audit log", &path, &e))?;
            let m = f
                .metadata()
                .map_err(|e| Error::io("cannot stat audit log", &path, &e))?;
            opened.push((path, f, m.dev(), m.ino(), m.len()));
        }
    }
    // Resume in the checkpoint's file when it is still part of the chain (rotation renames
    // but keeps the inode); otherwise from the start, skipping what was already delivered.
    let (start, offset) = match opened
        .iter()
        .position(|(_, _, dev, ino, _)| cp.seq > 0 && (*dev, *ino) == (cp.dev, cp.ino))
    {
        Some(i) => (i, cp.offset),
        None => (0, 0),
    };
    let mut done = Shipped::default();
    // The checkpoint is also an anchor: the line just before the resume offset must be the
    // record last delivered. If not, the file was rewritten in place since; read the chain
    // from its start instead (skipping by seq), which names the record that differs.
    let (start, mut offset) = if offset > 0 && !ends_with_record(&opened[start].1, offset, &cp) {
        (0, 0)
    } else {
        (start, offset)
    };
    let mut batch = Batcher::new(config.max_batch_bytes);
    // The checkpoint the batch in hand will make once delivered.
    let mut pending = cp.clone();
    for (i, (path, file, dev, ino, len)) in opened.iter().enumerate().skip(start) {
        let (len, live) = (*len, i + 1 == opened.len() && path == log);
        if offset > len {
            // Shorter than where we stopped: not the file we read (truncated, replaced).
            offset = 0;
        }
        let mut reader = LineReader::new(file, offset, len);
        while let Some((line, end)) = reader
            .next(!live)
            .map_err(|e| Error::io("cannot read audit log", path, &e))?
        {
            let Some(record) = convert_line(&line) else {
                continue;
            };
            if record.seq <= cp.seq {
                if record.seq == cp.seq && line_sha256(&line) != cp.sha256 {
                    done.warnings.push(format!(
                        "{}: record seq {} differs from the one shipped before (sha256 {}): \
                         the log was rewritten after it was shipped",
                        path.display(),
                        cp.seq,
                        cp.sha256
                    ));
                }
                continue;
            }
            if !batch.fits(&record) {
                send(&mut batch, config, &mut cp, &pending, &mut done)?;
            }
            pending = Checkpoint {
                log: log.to_path_buf(),
                seq: record.seq,
                sha256: line_sha256(&line),
                dev: *dev,
                ino: *ino,
                offset: end,
            };
            batch.push(record);
        }
        offset = 0;
    }
    // Non-record lines after the last record are read again next time: cheap, and a torn
    // end of the live file is then seen once it is repaired.
    if !batch.is_empty() {
        send(&mut batch, config, &mut cp, &pending, &mut done)?;
    }
    Ok(done)
}

/// Whether the line that ends at `offset` in `file` is the checkpoint's record.
fn ends_with_record(file: &File, offset: u64, cp: &Checkpoint) -> bool {
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    if offset > len {
        return false;
    }
    let mut rev = RevLines::new(file, offset, 64 << 20);
    matches!(rev.next_line(), Ok(Some(line)) if line.terminated && line_sha256(&line.bytes) == cp.sha256)
}

fn send(
    batch: &mut Batcher,
    config: &ShipConfig,
    cp: &mut Checkpoint,
    pending: &Checkpoint,
    done: &mut Shipped,
) -> std::result::Result<(), ShipError> {
    let n = batch.len() as u64;
    let body = batch.take();
    post(&config.endpoint, body.as_bytes(), config.timeout)
        .map_err(|e| ShipError::Send(e, done.clone()))?;
    save_checkpoint(&config.state_dir, pending)?;
    *cp = pending.clone();
    done.records += n;
    done.batches += 1;
    Ok(())
}

/// Complete lines of a file between two offsets, read in blocks with positional reads.
struct LineReader<'f> {
    file: &'f File,
    /// Offset of the first byte not yet returned.
    pos: u64,
    end: u64,
    buf: Vec<u8>,
    /// File offset of `buf[0]`.
    buf_at: u64,
}

impl<'f> LineReader<'f> {
    fn new(file: &'f File, pos: u64, end: u64) -> Self {
        LineReader {
            file,
            pos,
            end,
            buf: Vec::new(),
            buf_at: pos,
        }
    }

    /// The next line without its newline, and the offset just past it. An unterminated last
    /// line is returned only when `take_unterminated` (a rotated file, which never grows).
    fn next(&mut self, take_unterminated: bool) -> io::Result<Option<(Vec<u8>, u64)>> {
        loop {
            let from = (self.pos - self.buf_at) as usize;
            if let Some(nl) = self.buf[from..].iter().position(|&b| b == b'\n') {
                let line = self.buf[from..from + nl].to_vec();
                self.pos += nl as u64 + 1;
                return Ok(Some((line, self.pos)));
            }
            let read_to = self.buf_at + self.buf.len() as u64;
            if read_to >= self.end {
                if take_unterminated && from < self.buf.len() {
                    let line = self.buf[from..].to_vec();
                    self.pos = self.end;
                    return Ok(Some((line, self.pos)));
                }
                return Ok(None);
            }
            // Drop what was returned, then read the next block.
            self.buf.drain(..from);
            self.buf_at = self.pos;
            let want = (self.end - read_to).min(1 << 20) as usize;
            let old = self.buf.len();
            self.buf.resize(old + want, 0);
            let n = self.file.read_at(&mut self.buf[old..], read_to)?;
            self.buf.truncate(old + n);
            if n == 0 {
                self.end = read_to;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        let e = Endpoint::parse("http://127.0.0.1:4318").unwrap();
        assert_eq!(
            (e.authority.as_str(), e.path.as_str()),
            ("127.0.0.1:4318", "/v1/logs")
        );
        let e = Endpoint::parse("http://collector/otlp/").unwrap();
        assert_eq!(
            (e.authority.as_str(), e.path.as_str()),
            ("collector:80", "/otlp/v1/logs")
        );
        let e = Endpoint::parse("http://h:1/v1/logs").unwrap();
        assert_eq!(e.path, "/v1/logs");
        assert!(Endpoint::parse("https://h:1").is_err());
        assert!(Endpoint::parse("http:///v1/logs").is_err());
    }

    #[test]
    fn line_reader_keeps_an_unterminated_end_of_a_live_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        // Blocks of 1 MiB: a line across a block boundary comes back whole.
        let long = vec![b'x'; (1 << 20) + 10];
        let mut content = b"a\n".to_vec();
        content.extend_from_slice(&long);
        content.extend_from_slice(b"\nbc");
        std::fs::write(&p, &content).unwrap();
        let f = File::open(&p).unwrap();
        let len = content.len() as u64;
        let mut r = LineReader::new(&f, 0, len);
        assert_eq!(r.next(false).unwrap(), Some((b"a".to_vec(), 2)));
        assert_eq!(r.next(false).unwrap().unwrap().0, long);
        assert_eq!(r.next(false).unwrap(), None, "the torn end waits");
        let mut r = LineReader::new(&f, 2 + long.len() as u64 + 1, len);
        assert_eq!(r.next(true).unwrap(), Some((b"bc".to_vec(), len)));
        assert_eq!(r.next(true).unwrap(), None);
    }
}
