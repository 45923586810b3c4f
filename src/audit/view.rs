//! Reading records back: parsing, one-line summaries, tail, follow, OTLP export.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::chain::{chain_info, parse_decimal};
use super::escape::decode_os;
use super::files::stable_len;
use super::record::attr;
use super::revlines::RevLines;
use crate::error::{Error, Result};

/// A record read back from a log line.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedRecord {
    pub time_unix_nano: u64,
    pub severity_text: String,
    pub body: String,
    pub seq: u64,
    pub prev_sha256: String,
    /// The OTLP `attributes` list as written: key and `AnyValue` object.
    pub attributes: Vec<(String, Value)>,
}

impl LoggedRecord {
    /// Parses one line (without its newline). Fails on anything that is not a record.
    pub fn parse(line: &[u8]) -> Result<Self> {
        let info =
            chain_info(line).map_err(|why| Error::new(format!("not an audit record: {why}")))?;
        let value: Value = serde_json::from_slice(line)
            .map_err(|e| Error::new(format!("not an audit record: invalid JSON: {e}")))?;
        let time_unix_nano = value.get("timeUnixNano").and_then(int_of).unwrap_or(0);
        let severity_text = value
            .get("severityText")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let body = match value.get("body") {
            Some(Value::String(s)) => s.clone(),
            Some(v) => v
                .get("stringValue")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            None => String::new(),
        };
        let attributes = value
            .get("attributes")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|kv| {
                        let key = kv.get("key")?.as_str()?.to_string();
                        Some((key, kv.get("value").cloned().unwrap_or(Value::Null)))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(LoggedRecord {
            time_unix_nano,
            severity_text,
            body,
            seq: info.seq,
            prev_sha256: info.prev_sha256,
            attributes,
        })
    }

    /// The `AnyValue` of attribute `key`.
    pub fn attr(&self, key: &str) -> Option<&Value> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// A `stringValue` attribute, as stored (still escaped if it came from an OS string).
    pub fn str_attr(&self, key: &str) -> Option<&str> {
        self.attr(key)?.get("stringValue")?.as_str()
    }

    /// An `intValue` attribute.
    pub fn int_attr(&self, key: &str) -> Option<i64> {
        let v = self.attr(key)?.get("intValue")?;
        match v {
            Value::String(s) => s.parse().ok(),
            other => other.as_i64(),
        }
    }

    /// An attribute written with [`Record::attr_os`](super::Record::attr_os), decoded back to
    /// the original bytes.
    pub fn os_attr(&self, key: &str) -> Option<Result<OsString>> {
        self.str_attr(key).map(decode_os)
    }

    /// An attribute written with [`Record::attr_args`](super::Record::attr_args), decoded
    /// back to the original arguments.
    pub fn args_attr(&self, key: &str) -> Option<Result<Vec<OsString>>> {
        let values = self
            .attr(key)?
            .get("arrayValue")?
            .get("values")?
            .as_array()?;
        Some(
            values
                .iter()
                .map(|v| match v.get("stringValue").and_then(Value::as_str) {
                    Some(s) => decode_os(s),
                    None => Err(Error::new(format!(
                        "{key} holds a value that is not a string"
                    ))),
                })
                .collect(),
        )
    }
}

fn int_of(v: &Value) -> Option<u64> {
    match v {
        Value::String(s) => parse_decimal(s),
        other => other.as_u64(),
    }
}

/// One human-readable line for a log line:
/// `2024-05-01T12:34:56.789Z #12 allow alice(1000) /home/alice/proj: go build ./...`.
///
/// Arguments are shown shell-quoted (`$'...'` for control characters and invalid UTF-8) so
/// the summary is always one line and can be pasted back into a shell.
pub fn summarize_line(line: &[u8]) -> String {
    let record = match LoggedRecord::parse(line) {
        Ok(r) => r,
        Err(e) => {
            let shown: Vec<u8> = line.iter().copied().take(60).collect();
            let more = if line.len() > 60 { "..." } else { "" };
            return format!("({e}; {} bytes: {}{more})", line.len(), shell_quote(&shown));
        }
    };
    let mut out = format!(
        "{} #{} {}",
        format_unix_nanos(record.time_unix_nano),
        record.seq,
        record.str_attr(attr::GOWARDEN_DECISION).unwrap_or("-")
    );
    if let Some(rule) = record.str_attr(attr::GOWARDEN_RULE) {
        out.push_str(&format!(" [{}]", one_line(rule)));
    }
    // A string since `user.id` follows OpenTelemetry's conventions; older logs hold an int.
    let uid = record
        .str_attr(attr::USER_ID)
        .map(str::to_string)
        .or_else(|| record.int_attr(attr::USER_ID).map(|u| u.to_string()));
    match (record.str_attr(attr::USER_NAME), uid) {
        (Some(name), Some(uid)) => out.push_str(&format!(" {}({uid})", one_line(name))),
        (Some(name), None) => out.push_str(&format!(" {}", one_line(name))),
        (None, Some(uid)) => out.push_str(&format!(" uid={uid}")),
        (None, None) => out.push_str(" -"),
    }
    match record.os_attr(attr::PROCESS_WORKING_DIRECTORY) {
        Some(Ok(cwd)) => out.push_str(&format!(" {}:", shell_quote(cwd.as_bytes()))),
        _ => out.push_str(" -:"),
    }
    match record.args_attr(attr::PROCESS_COMMAND_ARGS) {
        Some(Ok(args)) => {
            for a in args {
                out.push(' ');
                out.push_str(&shell_quote(a.as_bytes()));
            }
        }
        _ => {
            out.push(' ');
            out.push_str(&one_line(&record.body));
        }
    }
    out
}

/// Text with its control characters escaped, so it cannot break the one-line format.
fn one_line(s: &str) -> String {
    if s.chars().any(char::is_control) {
        s.escape_debug().to_string()
    } else {
        s.to_string()
    }
}

/// Quotes bytes for a POSIX shell: bare when safe, `'...'` for ordinary text, `$'...'` when
/// control characters or invalid UTF-8 need escapes.
pub fn shell_quote(bytes: &[u8]) -> String {
    let safe = |b: u8| b.is_ascii_alphanumeric() || b"@%+=:,./_-".contains(&b);
    if !bytes.is_empty() && bytes.iter().all(|&b| safe(b)) {
        return String::from_utf8_lossy(bytes).into_owned();
    }
    match std::str::from_utf8(bytes) {
        Ok(s) if !s.chars().any(char::is_control) => format!("'{}'", s.replace('\'', "'\\''")),
        _ => {
            let mut out = String::from("$'");
            for chunk in bytes.utf8_chunks() {
                for c in chunk.valid().chars() {
                    match c {
                        '\\' => out.push_str("\\\\"),
                        '\'' => out.push_str("\\'"),
                        '\n' => out.push_str("\\n"),
                        '\t' => out.push_str("\\t"),
                        '\r' => out.push_str("\\r"),
                        c if c.is_control() => {
                            let mut buf = [0u8; 4];
                            for b in c.encode_utf8(&mut buf).bytes() {
                                out.push_str(&format!("\\x{b:02x}"));
                            }
                        }
                        c => out.push(c),
                    }
                }
                for b in chunk.invalid() {
                    out.push_str(&format!("\\x{b:02x}"));
                }
            }
            out.push('\'');
            out
        }
    }
}

/// Nanoseconds since the Unix epoch as UTC ISO 8601 with milliseconds:
/// `2024-05-01T12:34:56.789Z`.
pub fn format_unix_nanos(nanos: u64) -> String {
    let secs = nanos / 1_000_000_000;
    let millis = (nanos % 1_000_000_000) / 1_000_000;
    let (date, rem) = crate::date::split_unix(secs);
    format!(
        "{date}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The last `n` lines of the chain `files` (oldest first in the result), raw, without their
/// newlines. Reads backwards, so the cost depends on `n`, not on the size of the log.
pub fn tail_lines(files: &[PathBuf], n: usize) -> Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    for path in files.iter().rev() {
        if out.len() >= n {
            break;
        }
        let file = File::open(path).map_err(|e| Error::io("cannot open audit log", path, &e))?;
        let len =
            stable_len(&file, path).map_err(|e| Error::io("cannot read audit log", path, &e))?;
        last_lines_before(&file, len, n - out.len(), path, &mut out)?;
    }
    out.reverse();
    Ok(out)
}

/// [`summarize_line`] of each of [`tail_lines`].
pub fn tail(files: &[PathBuf], n: usize) -> Result<Vec<String>> {
    Ok(tail_lines(files, n)?
        .iter()
        .map(|l| summarize_line(l))
        .collect())
}

/// Pushes up to `n` lines ending at `len`, newest first.
fn last_lines_before(
    file: &File,
    len: u64,
    n: usize,
    path: &Path,
    out: &mut Vec<Vec<u8>>,
) -> Result<()> {
    let mut rev = RevLines::new(file, len, u64::MAX);
    for _ in 0..n {
        match rev
            .next_line()
            .map_err(|e| Error::io("cannot read audit log", path, &e))?
        {
            Some(line) => out.push(line.bytes),
            None => break,
        }
    }
    Ok(())
}

/// Follows a live log as it grows, across rotations: the CLI calls [`poll`](Follower::poll)
/// in a loop with a sleep in between.
#[derive(Debug)]
pub struct Follower {
    path: PathBuf,
    file: Option<File>,
    identity: Option<(u64, u64)>,
    offset: u64,
    partial: Vec<u8>,
}

impl Follower {
    /// Starts at the current end of `path` (which need not exist yet).
    pub fn new(path: impl Into<PathBuf>) -> Result<Self> {
        let path = path.into();
        let mut follower = Follower {
            path,
            file: None,
            identity: None,
            offset: 0,
            partial: Vec::new(),
        };
        if let Some((file, identity)) = follower.open_current()? {
            follower.offset = stable_len(&file, &follower.path)
                .map_err(|e| Error::io("cannot read audit log", &follower.path, &e))?;
            follower.file = Some(file);
            follower.identity = Some(identity);
        }
        Ok(follower)
    }

    /// The last `n` lines before the point where following started (oldest first), from the
    /// live file and then the rotated ones: print these first for `tail -f` without a gap or
    /// an overlap.
    pub fn backlog(&self, n: usize) -> Result<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        if let Some(file) = &self.file {
            last_lines_before(file, self.offset, n, &self.path, &mut out)?;
        }
        if out.len() < n {
            let mut rotated = super::files::rotated_files(&self.path)?;
            // If our file was itself rotated since following started, only the files before
            // it are older; the rest would repeat lines.
            if let Some(identity) = self.identity {
                let ours = rotated.iter().position(|p| {
                    std::fs::metadata(p).is_ok_and(|m| (m.dev(), m.ino()) == identity)
                });
                if let Some(ours) = ours {
                    rotated.truncate(ours);
                }
            }
            let older = tail_lines(&rotated, n - out.len())?;
            out.extend(older.into_iter().rev());
        }
        out.reverse();
        Ok(out)
    }

    /// Complete lines appended since the last call (raw, without newlines). A rotation is
    /// followed: the rest of the old file comes first, then the new file from its start.
    pub fn poll(&mut self) -> Result<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        if let Some((file, identity)) = self.open_current()?
            && Some(identity) != self.identity
        {
            if let Some(old) = self.file.take() {
                // Rotation happens under the log lock after the old file's last append, so
                // the old file is complete: drain it, including a line without newline.
                let end = old
                    .metadata()
                    .map_err(|e| Error::io("cannot read audit log", &self.path, &e))?
                    .len();
                self.read_new(&old, end, &mut out)?;
                if !self.partial.is_empty() {
                    out.push(std::mem::take(&mut self.partial));
                }
                // Several rotations may have happened between two polls: the files rotated
                // after ours (and before the new live one) are complete, read them whole.
                let rotated = super::files::rotated_files(&self.path)?;
                let same = |p: &Path, id: Option<(u64, u64)>| {
                    std::fs::metadata(p).is_ok_and(|m| Some((m.dev(), m.ino())) == id)
                };
                if let Some(ours) = rotated.iter().position(|p| same(p, self.identity)) {
                    for p in &rotated[ours + 1..] {
                        if same(p, Some(identity)) {
                            break;
                        }
                        let content = std::fs::read(p)
                            .map_err(|e| Error::io("cannot read audit log", p, &e))?;
                        let mut lines: Vec<Vec<u8>> =
                            content.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
                        if lines.last().is_some_and(Vec::is_empty) {
                            lines.pop();
                        }
                        out.extend(lines);
                    }
                }
            }
            self.file = Some(file);
            self.identity = Some(identity);
            self.offset = 0;
        }
        if let Some(file) = self.file.take() {
            let len = stable_len(&file, &self.path)
                .map_err(|e| Error::io("cannot read audit log", &self.path, &e))?;
            if len < self.offset {
                // Truncated in place (not by gowarden): start over rather than stall.
                self.offset = 0;
                self.partial.clear();
            }
            let result = self.read_new(&file, len, &mut out);
            self.file = Some(file);
            result?;
        }
        Ok(out)
    }

    fn open_current(&self) -> Result<Option<(File, (u64, u64))>> {
        match File::open(&self.path) {
            Ok(file) => {
                let meta = file
                    .metadata()
                    .map_err(|e| Error::io("cannot read audit log", &self.path, &e))?;
                Ok(Some((file, (meta.dev(), meta.ino()))))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io("cannot open audit log", &self.path, &e)),
        }
    }

    fn read_new(&mut self, file: &File, end: u64, out: &mut Vec<Vec<u8>>) -> Result<()> {
        if end <= self.offset {
            return Ok(());
        }
        let mut chunk = Vec::new();
        let mut reader = ReadAt {
            file,
            pos: self.offset,
        }
        .take(end - self.offset);
        reader
            .read_to_end(&mut chunk)
            .map_err(|e| Error::io("cannot read audit log", &self.path, &e))?;
        self.offset += chunk.len() as u64;
        self.partial.extend_from_slice(&chunk);
        let mut start = 0;
        while let Some(nl) = self.partial[start..].iter().position(|&b| b == b'\n') {
            out.push(self.partial[start..start + nl].to_vec());
            start += nl + 1;
        }
        self.partial.drain(..start);
        Ok(())
    }
}

/// Positional reads, so following never moves a shared file offset.
struct ReadAt<'f> {
    file: &'f File,
    pos: u64,
}

impl Read for ReadAt<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// The records of `files` as one OTLP/JSON `ExportLogsServiceRequest`, the body an OTLP/HTTP
/// endpoint (`POST /v1/logs`, `Content-Type: application/json`) and the collector's
/// `otlpjsonfile` receiver (one such object per line) accept.
///
/// Records are grouped into one `resourceLogs` entry per `host.name` they carry (records
/// without one count as this machine's), with resource attributes `service.name=gowarden`
/// and `host.name`, and scope `gowarden`. Each record is passed through unchanged, chain
/// attributes included, so the receiving side can still verify it. Lines that are not
/// records (torn lines) are left out. The whole result is held in memory: for large logs,
/// export file by file.
pub fn export_otlp_json(files: &[PathBuf]) -> Result<Value> {
    let local_host = nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut groups: Vec<(String, Vec<Value>)> = Vec::new();
    for path in files {
        let mut file =
            File::open(path).map_err(|e| Error::io("cannot open audit log", path, &e))?;
        let len =
            stable_len(&file, path).map_err(|e| Error::io("cannot read audit log", path, &e))?;
        let mut content = Vec::new();
        (&mut file)
            .take(len)
            .read_to_end(&mut content)
            .map_err(|e| Error::io("cannot read audit log", path, &e))?;
        for line in content.split(|&b| b == b'\n') {
            if chain_info(line).is_err() {
                continue;
            }
            let Ok(record) = serde_json::from_slice::<Value>(line) else {
                continue;
            };
            let host = host_of(&record).unwrap_or_else(|| local_host.clone());
            match groups.iter_mut().find(|(h, _)| *h == host) {
                Some((_, records)) => records.push(record),
                None => groups.push((host, vec![record])),
            }
        }
    }
    let resource_logs: Vec<Value> = groups
        .into_iter()
        .map(|(host, records)| {
            json!({
                "resource": {"attributes": [
                    {"key": "service.name", "value": {"stringValue": "gowarden"}},
                    {"key": "host.name", "value": {"stringValue": host}},
                ]},
                "scopeLogs": [{
                    "scope": {"name": "gowarden", "version": env!("CARGO_PKG_VERSION")},
                    "logRecords": records,
                }],
            })
        })
        .collect();
    Ok(json!({ "resourceLogs": resource_logs }))
}

fn host_of(record: &Value) -> Option<String> {
    record
        .get("attributes")?
        .as_array()?
        .iter()
        .find(|kv| kv.get("key").and_then(Value::as_str) == Some(attr::HOST_NAME))?
        .get("value")?
        .get("stringValue")?
        .as_str()
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_format() {
        assert_eq!(format_unix_nanos(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            format_unix_nanos(1_709_210_096_789_000_000),
            "2024-02-29T12:34:56.789Z"
        );
        assert_eq!(format_unix_nanos(u64::MAX), "2554-07-21T23:34:33.709Z");
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote(b"./..."), "./...");
        assert_eq!(shell_quote(b""), "''");
        assert_eq!(shell_quote(b"a b"), "'a b'");
        assert_eq!(shell_quote(b"it's"), "'it'\\''s'");
        assert_eq!(shell_quote(b"a\nb"), "$'a\\nb'");
        assert_eq!(shell_quote(b"\xff'\\"), "$'\\xff\\'\\\\'");
        assert_eq!(shell_quote(b"\x1b[0m"), "$'\\x1b[0m'");
    }
}
