//! Appending a record to the chain: lock, find the previous record from the end, write once.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::chain::{GENESIS_SHA256, JoinedHasher, chain_info, line_sha256};
use super::config::{Durability, LogConfig};
use super::files::{file_name, lock_path, parent_dir, rotated_numbered};
use super::record::{Decision, EncodedRecord, Record, attr};
use super::revlines::RevLines;
use super::tip::{self, At, Tip};
use crate::error::{Error, Result};

/// How far back an append may scan for the previous record before giving up. Far more than
/// the longest record (a command line is at most a few MiB), so only a log whose end is
/// megabytes of garbage hits it, and then the append fails loudly instead of reading on.
const SCAN_BUDGET: u64 = 64 << 20;

/// How long an append waits for another appender's lock before refusing. An append holds it
/// for microseconds, so only a stopped (SIGSTOP) or wedged process holds it this long; the
/// shim then refuses with a message instead of hanging the user's go forever.
pub(crate) const LOCK_TIMEOUT: Duration = Duration::from_secs(5);

/// What [`append`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// The file the record went to (the live log).
    pub path: PathBuf,
    /// The record's `gowarden.seq`.
    pub seq: u64,
    /// SHA-256 of the record's line: the next record's `gowarden.prev_sha256`. A caller that
    /// keeps it elsewhere has an anchor that also detects the newest lines being cut off.
    pub sha256: String,
    /// Where the previous live file was rotated to, if this append rotated.
    pub rotated_to: Option<PathBuf>,
    /// Set when torn lines were found at the end of the log and repaired first.
    pub repaired: Option<Repaired>,
}

/// A repair made by an append: the torn lines it covered and the repair record it wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repaired {
    /// `gowarden.seq` of the repair record (the appended record follows it).
    pub seq: u64,
    /// How many lines after the last intact record were not records.
    pub torn_lines: u64,
    /// Their length in bytes, joined by newlines.
    pub torn_bytes: u64,
}

/// Appends `record` to the log described by `log`.
///
/// Under an exclusive `flock` on `<path>.lock` (held only for this call): opens the log with
/// `O_APPEND`, takes the last record's seq and line SHA-256 from the tip the last append left
/// in the lock file ([`tip`]) or else reads backwards from the log's end to the last intact
/// record, repairs a torn end if there is one, rotates if `max_bytes` says so,
/// and writes the new line(s) with a single `write(2)`, then flushes or fsyncs. A failed or
/// short write is rolled back with `ftruncate` before the error is returned, so a failing
/// append never leaves half a line behind.
///
/// The record is encoded (and redacted) before the lock is taken.
pub fn append(log: &LogConfig, record: &Record) -> Result<Appended> {
    let encoded = record.encode(&log.redact)?;
    append_encoded(log, &encoded)
}

/// [`append`] for a record already encoded with [`Record::encode`].
pub fn append_encoded(log: &LogConfig, encoded: &EncodedRecord) -> Result<Appended> {
    let path = log.path.as_path();
    let name = file_name(path)?.to_owned();
    let lock_path = lock_path(path);
    // Checked before anything is opened in the directory when it exists, and again once
    // it surely does (another user could create it between the two).
    let dir = parent_dir(path);
    let existing = std::fs::symlink_metadata(dir).ok();
    let dir_existed = existing.is_some();
    if let Some(link) = existing {
        check_dir(dir, Some(link))?;
    }
    let lock = open_creating_dir(&lock_path, path, false)?;
    if !dir_existed {
        check_dir(dir, None)?;
    }
    check_owner(&lock, &lock_path)?;
    lock_bounded(&lock, &lock_path)?;

    let file = open_creating_dir(path, path, true)?;
    let meta = check_owner(&file, path)?;
    if !meta.is_file() {
        return Err(Error::new(format!(
            "audit log {} is not a regular file",
            path.display()
        )));
    }
    let len = meta.len();
    let end = match tip::read(&lock, At::of(&meta)) {
        Some(t) => End {
            tip_seq: t.seq,
            tip_sha256: t.sha256,
            junk: JoinedHasher::default(),
            unterminated: false,
        },
        None => scan_end(&file, len, path)?,
    };

    let mut lines = Vec::with_capacity(encoded.len_hint() + 1);
    // A seq near u64::MAX can only come from a forged line; refuse rather than wrap.
    let exhausted = || {
        Error::new(format!(
            "audit log {} has reached the largest seq; rotate it and start a new chain",
            path.display()
        ))
    };
    let mut seq = end.tip_seq.checked_add(1).ok_or_else(exhausted)?;
    let mut prev = end.tip_sha256;
    let repaired = if end.unterminated || end.junk.lines() > 0 {
        let repair = repair_record(&end.junk).encode_inner(&log.redact, true)?;
        let start = lines.len();
        repair.write_line(seq, &prev, &mut lines);
        prev = line_sha256(&lines[start..lines.len() - 1]);
        let done = Repaired {
            seq,
            torn_lines: end.junk.lines(),
            torn_bytes: end.junk.bytes(),
        };
        seq = seq.checked_add(1).ok_or_else(exhausted)?;
        Some(done)
    } else {
        None
    };
    let start = lines.len();
    encoded.write_line(seq, &prev, &mut lines);
    let sha256 = line_sha256(&lines[start..lines.len() - 1]);

    let terminator: &[u8] = if end.unterminated { b"\n" } else { b"" };
    let total = len + terminator.len() as u64 + lines.len() as u64;
    let rotate = log.max_bytes.is_some_and(|max| len > 0 && total > max);
    let fsync = log.durability == Durability::Fsync;
    // The log as it is after the write, for the tip the next append reads.
    let mut tip_at = None;
    let rotated_to = if rotate {
        // The torn line is finished in the file it belongs to; the repair record then opens
        // the new file, chaining back across the rotation like any other first record.
        write_once(&file, terminator, len, path)?;
        if fsync {
            sync(&file, path)?;
        }
        let next = match rotated_numbered(path)?.last() {
            None => 1,
            Some((n, _)) => n.checked_add(1).ok_or_else(|| {
                Error::new(format!(
                    "cannot rotate audit log {}: no rotation number after {n}",
                    path.display()
                ))
            })?,
        };
        let mut rotated_name = name;
        rotated_name.push(format!(".{next}"));
        let rotated = path.with_file_name(rotated_name);
        std::fs::rename(path, &rotated).map_err(|e| {
            Error::new(format!(
                "cannot rotate audit log {} to {}: {e}",
                path.display(),
                rotated.display()
            ))
        })?;
        let fresh =
            open_log(path, true).map_err(|e| Error::io("cannot create audit log", path, &e))?;
        write_once(&fresh, &lines, 0, path)?;
        if fsync {
            sync(&fresh, path)?;
            sync_dir(path)?;
        }
        if let Ok(m) = fresh.metadata() {
            tip_at = Some(At::of(&m));
        }
        Some(rotated)
    } else {
        let buf = if terminator.is_empty() {
            lines
        } else {
            let mut b = Vec::with_capacity(lines.len() + 1);
            b.extend_from_slice(terminator);
            b.extend_from_slice(&lines);
            b
        };
        write_once(&file, &buf, len, path)?;
        if fsync {
            sync(&file, path)?;
            if len == 0 {
                sync_dir(path)?;
            }
        }
        tip_at = Some(At {
            len: len + buf.len() as u64,
            ..At::of(&meta)
        });
        None
    };
    if let Some(at) = tip_at {
        let t = Tip {
            seq,
            sha256: sha256.clone(),
        };
        tip::write(&lock, at, &t);
    }
    drop(lock);
    Ok(Appended {
        path: path.to_path_buf(),
        seq,
        sha256,
        rotated_to,
        repaired,
    })
}

/// Takes the exclusive lock, waiting at most [`LOCK_TIMEOUT`]. Uncontended, this is one
/// `flock` call, as before; contended, it polls with a pause growing to 10 ms.
fn lock_bounded(lock: &File, lock_path: &Path) -> Result<()> {
    let start = Instant::now();
    let mut pause = Duration::from_micros(50);
    loop {
        match lock.try_lock() {
            Ok(()) => return Ok(()),
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(Error::io("cannot lock audit log", lock_path, &e));
            }
        }
        if start.elapsed() >= LOCK_TIMEOUT {
            return Err(Error::new(format!(
                "audit log lock {} has been held by another process for more than {}s \
                 (a stopped or hung go call of yours?); not waiting longer",
                lock_path.display(),
                LOCK_TIMEOUT.as_secs()
            )));
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(10));
    }
}

/// Refuses a log or lock file that the caller does not own: whoever owns it can read it,
/// rewrite it or hold its lock, so a file another user created in advance (in a shared
/// directory) must never receive this user's records.
fn check_owner(file: &File, path: &Path) -> Result<std::fs::Metadata> {
    let meta = file
        .metadata()
        .map_err(|e| Error::io("cannot stat audit log", path, &e))?;
    let me = nix::unistd::geteuid().as_raw();
    if meta.uid() != me {
        return Err(Error::new(format!(
            "refusing audit log file {}: it is owned by uid {}, not by you (uid {me}); another \
             user may have created it to read or alter your records: ask an administrator to \
             remove it",
            path.display(),
            meta.uid()
        )));
    }
    Ok(meta)
}

/// Refuses a log directory that someone else controls: one owned by another user (who could
/// swap the files in it), or a root-owned one that others may write to without the sticky
/// bit (where anyone could rename the log away). A symlinked directory is judged by its
/// target, and the link itself must be the caller's or root's. `link` is its `lstat`, where
/// the caller has just taken it.
fn check_dir(dir: &Path, link: Option<std::fs::Metadata>) -> Result<()> {
    let me = nix::unistd::geteuid().as_raw();
    let stat = |follow: bool| {
        if follow {
            std::fs::metadata(dir)
        } else {
            std::fs::symlink_metadata(dir)
        }
        .map_err(|e| Error::io("cannot stat audit log directory", dir, &e))
    };
    let link = match link {
        Some(l) => l,
        None => stat(false)?,
    };
    let meta = if link.file_type().is_symlink() {
        if link.uid() != me && link.uid() != 0 {
            return Err(foreign_dir(
                dir,
                link.uid(),
                me,
                "is a symbolic link owned by",
            ));
        }
        stat(true)?
    } else {
        link
    };
    if meta.uid() != me && meta.uid() != 0 {
        return Err(foreign_dir(dir, meta.uid(), me, "is owned by"));
    }
    let others_write = meta.mode() & 0o022 != 0;
    let sticky = meta.mode() & 0o1000 != 0;
    if meta.uid() != me && others_write && !sticky {
        return Err(Error::new(format!(
            "refusing audit log directory {}: other users can write to it and it has no sticky \
             bit, so they could replace your log; use mode 1733 (see \
             docs/audit.md, \"A shared machine\")",
            dir.display()
        )));
    }
    Ok(())
}

fn foreign_dir(dir: &Path, owner: u32, me: u32, what: &str) -> Error {
    Error::new(format!(
        "refusing audit log directory {}: it {what} uid {owner}, not by you (uid {me}) or \
         root; another user may have created it to capture your records: ask an \
         administrator to remove it",
        dir.display()
    ))
}

fn repair_record(junk: &JoinedHasher) -> Record {
    let torn_lines = i64::try_from(junk.lines()).unwrap_or(i64::MAX);
    let torn_bytes = i64::try_from(junk.bytes()).unwrap_or(i64::MAX);
    let body = if torn_lines == 0 {
        "audit log: completed an unterminated last record".to_string()
    } else {
        format!("audit log: repaired {torn_lines} torn line(s) ({torn_bytes} bytes)")
    };
    Record::new(body)
        .decision(Decision::Repair)
        .attr_int(attr::PROCESS_PID, i64::from(std::process::id()))
        .attr_int(attr::GOWARDEN_REPAIR_TORN_LINES, torn_lines)
        .attr_int(attr::GOWARDEN_REPAIR_TORN_BYTES, torn_bytes)
        .attr_str(attr::GOWARDEN_REPAIR_TORN_SHA256, junk.finish())
}

/// The state of the log's end.
struct End {
    /// seq of the last intact record, 0 when there is none (a new chain starts at 1).
    tip_seq: u64,
    tip_sha256: String,
    /// The lines after that record which are not records, in file order.
    junk: JoinedHasher,
    /// The live file's last line has no newline.
    unterminated: bool,
}

/// Finds the last intact record, scanning backwards from the end of the live file and, when
/// the live file holds none (new, or emptied by a crash right after a rotation), on into the
/// rotated files, newest first. Everything after that record that is not a record is junk to
/// be repaired: it uses the same [`chain_info`] test as `verify`, so both agree on what a torn
/// line is.
fn scan_end(file: &File, len: u64, path: &Path) -> Result<End> {
    let mut junk_rev: Vec<Vec<u8>> = Vec::new();
    let mut budget = SCAN_BUDGET;
    let (mut found, unterminated) = scan_file(file, len, &mut budget, &mut junk_rev, path)?;
    if found.is_none() {
        for (_, rotated) in rotated_numbered(path)?.iter().rev() {
            let f = File::open(rotated)
                .map_err(|e| Error::io("cannot open rotated audit log", rotated, &e))?;
            let rlen = f
                .metadata()
                .map_err(|e| Error::io("cannot stat rotated audit log", rotated, &e))?
                .len();
            found = scan_file(&f, rlen, &mut budget, &mut junk_rev, rotated)?.0;
            if found.is_some() {
                break;
            }
        }
    }
    let mut junk = JoinedHasher::default();
    for line in junk_rev.iter().rev() {
        junk.push(line);
    }
    let (tip_seq, tip_sha256) = found.unwrap_or_else(|| (0, GENESIS_SHA256.to_string()));
    Ok(End {
        tip_seq,
        tip_sha256,
        junk,
        unterminated,
    })
}

/// Scans one file backwards for its last record, collecting the non-record lines after it
/// (newest first) into `junk_rev`. Also says whether the file's last line is unterminated.
fn scan_file(
    file: &File,
    len: u64,
    budget: &mut u64,
    junk_rev: &mut Vec<Vec<u8>>,
    path: &Path,
) -> Result<(Option<(u64, String)>, bool)> {
    let mut rev = RevLines::new(file, len, *budget);
    let mut unterminated = false;
    loop {
        let line = rev.next_line().map_err(|e| {
            Error::new(format!(
                "cannot find the last record of audit log {}: {e}; run `gowarden audit verify` \
                 and move the damaged file aside",
                path.display()
            ))
        })?;
        let Some(line) = line else {
            return Ok((None, unterminated));
        };
        unterminated |= !line.terminated;
        match chain_info(&line.bytes) {
            Ok(info) => return Ok((Some((info.seq, line_sha256(&line.bytes))), unterminated)),
            Err(_) => {
                *budget = budget.saturating_sub(line.bytes.len() as u64 + 1);
                junk_rev.push(line.bytes);
            }
        }
    }
}

fn open_log(path: &Path, create_new: bool) -> io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.read(true)
        .append(true)
        .mode(0o600)
        // A symlink would let whoever controls the directory redirect the appends of a more
        // privileged user (sudo go ...) onto another file.
        .custom_flags(nix::libc::O_NOFOLLOW);
    if create_new {
        opts.create_new(true);
    } else {
        opts.create(true);
    }
    opts.open(path)
}

/// Opens the lock file (`is_log` false) or the log (`is_log` true), creating the log's
/// directory with mode 0700 the first time it is missing.
fn open_creating_dir(target: &Path, log_path: &Path, is_log: bool) -> Result<File> {
    let open = || {
        if is_log {
            open_log(target, false)
        } else {
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .custom_flags(nix::libc::O_NOFOLLOW)
                .open(target)
        }
    };
    let what = if is_log {
        "cannot open audit log"
    } else {
        "cannot open audit log lock file"
    };
    let describe = |e: &io::Error| {
        if e.raw_os_error() == Some(nix::libc::ELOOP) {
            Error::new(format!(
                "refusing to open {}: it is a symbolic link",
                target.display()
            ))
        } else {
            Error::io(what, target, e)
        }
    };
    match open() {
        Ok(f) => Ok(f),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let dir = parent_dir(log_path);
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| Error::io("cannot create audit log directory", dir, &e))?;
            open().map_err(|e| describe(&e))
        }
        Err(e) => Err(describe(&e)),
    }
}

/// One `write(2)` of the whole buffer. O_APPEND puts it at the end atomically with respect
/// to other writers; a short or failed write is cut back to `rollback_len` so the file never
/// keeps a partial line from us.
fn write_once(mut file: &File, buf: &[u8], rollback_len: u64, path: &Path) -> Result<()> {
    if buf.is_empty() {
        return Ok(());
    }
    let err = loop {
        match file.write(buf) {
            Ok(n) if n == buf.len() => return Ok(()),
            Ok(n) => {
                break io::Error::new(
                    io::ErrorKind::WriteZero,
                    format!("short write ({n} of {} bytes)", buf.len()),
                );
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => break e,
        }
    };
    let error = Error::io("cannot write audit log", path, &err);
    match file.set_len(rollback_len) {
        Ok(()) => Err(error),
        Err(e) => Err(Error::new(format!(
            "{error}; and cannot remove the partial record ({e}): the next append will repair it"
        ))),
    }
}

fn sync(file: &File, path: &Path) -> Result<()> {
    file.sync_data()
        .map_err(|e| Error::io("cannot fsync audit log", path, &e))
}

fn sync_dir(path: &Path) -> Result<()> {
    let dir = parent_dir(path);
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io("cannot fsync audit log directory", dir, &e))
}
