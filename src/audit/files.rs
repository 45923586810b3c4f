//! Where the pieces of a log live: the live file, its rotated siblings, its lock file.

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The lock file of the log at `path`: `<path>.lock`.
pub fn lock_path(path: &Path) -> PathBuf {
    let mut s: OsString = path.as_os_str().to_owned();
    s.push(".lock");
    PathBuf::from(s)
}

pub(crate) fn file_name(path: &Path) -> Result<&std::ffi::OsStr> {
    path.file_name().ok_or_else(|| {
        Error::new(format!(
            "audit log path {} has no file name",
            path.display()
        ))
    })
}

pub(crate) fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// The rotated files of the log at `path`, oldest first: `<path>.1`, `<path>.2`, ...
///
/// Rotation never renumbers: each rotation renames the live file to `<path>.<N>` with `N`
/// one more than the highest number present, so a rotated file keeps its name for good and
/// numeric order is chain order. Names with a sign, leading zeros or other suffixes (such as
/// the `.lock` file) are not rotated files. A missing directory means no rotated files.
pub fn rotated_files(path: &Path) -> Result<Vec<PathBuf>> {
    Ok(rotated_numbered(path)?
        .into_iter()
        .map(|(_, p)| p)
        .collect())
}

/// Every file of the chain in order: [`rotated_files`], then `path` itself if it exists.
/// This is what [`verify`](super::verify), [`tail`](super::tail) and
/// [`export_otlp_json`](super::export_otlp_json) want for the whole history.
pub fn chain_files(path: &Path) -> Result<Vec<PathBuf>> {
    let mut files = rotated_files(path)?;
    match std::fs::symlink_metadata(path) {
        Ok(_) => files.push(path.to_path_buf()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io("cannot read audit log", path, &e)),
    }
    Ok(files)
}

pub(crate) fn rotated_numbered(path: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let name = file_name(path)?.as_bytes();
    let dir = parent_dir(path);
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("cannot list audit log directory", dir, &e)),
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("cannot list audit log directory", dir, &e))?;
        let entry_name = entry.file_name();
        let bytes = entry_name.as_bytes();
        let Some(suffix) = bytes
            .strip_prefix(name)
            .and_then(|rest| rest.strip_prefix(b"."))
        else {
            continue;
        };
        if let Some(n) = std::str::from_utf8(suffix)
            .ok()
            .and_then(super::chain::parse_decimal)
            .filter(|&n| n > 0)
        {
            found.push((n, path.with_file_name(&entry_name)));
        }
    }
    found.sort_by_key(|&(n, _)| n);
    Ok(found)
}

/// The length of `file` (opened from `log_path`) at a moment when no append is under way.
///
/// Appends only ever add whole lines under the exclusive lock, so taking the shared lock for
/// the instant of an `fstat` gives a length that ends on a line boundary; reading up to it
/// then never sees a half-written record, even while other processes keep appending. Files
/// without a lock file (rotated ones, copies) are read as they are.
pub(crate) fn stable_len(file: &File, log_path: &Path) -> io::Result<u64> {
    let _lock = shared_lock(log_path)?;
    Ok(file.metadata()?.len())
}

/// The shared lock of the log at `log_path`, held while the result lives: no append,
/// rotation or repair happens meanwhile. `None` when there is no lock file (rotated files,
/// copies). Waits at most as long as an append would: a reader (verify, ship) must not hang
/// behind a stopped appender either.
pub(crate) fn shared_lock(log_path: &Path) -> io::Result<Option<File>> {
    let Ok(lock) = File::open(lock_path(log_path)) else {
        return Ok(None);
    };
    let start = std::time::Instant::now();
    loop {
        match lock.try_lock_shared() {
            Ok(()) => return Ok(Some(lock)),
            Err(std::fs::TryLockError::WouldBlock) => {
                if start.elapsed() >= super::append::LOCK_TIMEOUT {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "its lock has been held by an appender for too long",
                    ));
                }
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotated_files_in_numeric_order() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("audit.log");
        for name in [
            "audit.log.10",
            "audit.log.2",
            "audit.log.1",
            "audit.log.lock",
            "audit.log.01",
            "audit.log.0",
            "audit.log.-1",
            "audit.log.3.gz",
            "audit.logx.4",
            "other.log.5",
        ] {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        let got = rotated_files(&log).unwrap();
        let names: Vec<_> = got
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["audit.log.1", "audit.log.2", "audit.log.10"]);
        assert_eq!(chain_files(&log).unwrap().len(), 3);
        std::fs::write(&log, b"").unwrap();
        assert_eq!(chain_files(&log).unwrap().last().unwrap(), &log);
    }

    #[test]
    fn missing_directory_has_no_rotated_files() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("nope/audit.log");
        assert!(rotated_files(&log).unwrap().is_empty());
        assert!(chain_files(&log).unwrap().is_empty());
    }

    #[test]
    fn lock_path_is_a_sibling() {
        assert_eq!(
            lock_path(Path::new("/var/log/gowarden/audit.log")),
            Path::new("/var/log/gowarden/audit.log.lock")
        );
    }
}
