//! Replacing a file's contents so that a reader sees the old file or the new one, never a
//! part: a temporary file beside it, renamed over it. The one way every cache, stamp,
//! checkpoint and report gowarden writes is written, and the one way a cache of the caller's
//! own is read back.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// How [`replace`] writes.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// The new file's mode, before the umask (as `open(2)` takes it).
    pub mode: u32,
    /// The new file's mode exactly, whatever the umask (a file rewritten in place keeps the
    /// mode it had).
    pub exact_mode: Option<u32>,
    /// `fsync` the file before the rename: the new contents survive a crash once it returns.
    pub sync: bool,
}

impl Options {
    /// A private file (0600), not synced: a cache the next run can rebuild.
    pub const PRIVATE: Options = Options {
        mode: 0o600,
        exact_mode: None,
        sync: false,
    };
}

/// Writes `bytes` to `path` by way of a hidden temporary file in the same directory
/// (`.NAME.PID.tmp`, created exclusively and without following a link, so a name planted
/// there in advance is never written through), renamed over `path`. On failure the temporary
/// file is removed and `path` is as it was.
pub fn replace(path: &Path, bytes: &[u8], opts: Options) -> std::io::Result<()> {
    let tmp = temp_beside(path);
    let written = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(opts.mode)
            .custom_flags(nix::libc::O_NOFOLLOW)
            .open(&tmp)?;
        if let Some(m) = opts.exact_mode {
            f.set_permissions(std::fs::Permissions::from_mode(m))?;
        }
        f.write_all(bytes)?;
        if opts.sync {
            f.sync_all()?;
        }
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Reads back a file the caller keeps for itself (a cache [`replace`] wrote): only a regular
/// file of the caller's (effective uid) that nobody else may write, at most `max_bytes`;
/// opened without following a link or blocking on a FIFO, and checked on the open file.
/// `None` for anything else: the caller then rebuilds what the file held.
pub fn read_own(path: &Path, max_bytes: u64) -> Option<String> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK)
        .open(path)
        .ok()?;
    let meta = file.metadata().ok()?;
    let euid = nix::unistd::geteuid().as_raw();
    if !meta.is_file() || meta.uid() != euid || meta.mode() & 0o022 != 0 || meta.len() > max_bytes {
        return None;
    }
    let mut text = String::with_capacity(meta.len() as usize);
    file.take(max_bytes).read_to_string(&mut text).ok()?;
    Some(text)
}

fn temp_beside(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache");
        replace(&path, b"one", Options::PRIVATE).unwrap();
        replace(&path, b"two", Options::PRIVATE).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(std::fs::metadata(&path).unwrap().mode() & 0o777, 0o600);
        let exact = Options {
            mode: 0o666,
            exact_mode: Some(0o640),
            sync: true,
        };
        replace(&path, b"three", exact).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().mode() & 0o777, 0o640);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["cache"]);
        assert_eq!(read_own(&path, 100).as_deref(), Some("three"));
        assert_eq!(read_own(&path, 4), None, "larger than asked for");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o662)).unwrap();
        assert_eq!(read_own(&path, 100), None, "writable by others");
    }

    #[test]
    fn a_planted_temporary_name_is_not_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache");
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        std::os::unix::fs::symlink(&victim, temp_beside(&path)).unwrap();
        assert!(replace(&path, b"new", Options::PRIVATE).is_err());
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        assert!(!path.exists());
    }
}
