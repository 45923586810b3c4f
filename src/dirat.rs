//! Lookups relative to a directory held open: the version-file walk probes half a dozen names
//! in every directory up to `/`, and each probe by absolute path walks every component of the
//! path again (a directory 40 levels deep is 45 components: the walk cost about 10 µs a
//! level). Held open with `O_PATH`, a directory answers a probe with a one-component lookup,
//! and its parent is one `..` away.

use std::ffi::{CStr, CString};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;

use crate::rawfs;

/// A directory, open for lookups relative to it, or (where it could not be opened) its path,
/// so every probe answers as the same probe by path would.
pub struct DirAt<'a> {
    path: &'a Path,
    fd: Option<OwnedFd>,
    /// Whether `path` is the directory's real path (no links, no `..`), so that its `..` is
    /// its lexical parent and the next level can be opened from this one.
    real: bool,
}

/// What `stat(2)` says of a name in a directory (links followed, as `fs::metadata`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Dir,
    File,
    Other,
}

impl<'a> DirAt<'a> {
    /// Opens `path`, learning whether it is a real path (one readlink of /proc/self/fd).
    pub fn open(path: &'a Path) -> DirAt<'a> {
        let fd = open_dir(None, path.as_os_str().as_bytes());
        let real = fd
            .as_ref()
            .and_then(rawfs::fd_path)
            .is_some_and(|p| p == path);
        DirAt { path, fd, real }
    }

    /// Opens `path`, which the caller knows to be the directory's real path: what getcwd(2)
    /// or a canonicalization answered. The readlink [`DirAt::open`] makes to learn that cost
    /// 25 µs of a go call (a lookup in /proc is never cached).
    pub fn open_real(path: &'a Path) -> DirAt<'a> {
        let fd = open_dir(None, path.as_os_str().as_bytes());
        DirAt {
            path,
            real: fd.is_some(),
            fd,
        }
    }

    /// The directory `parent` (the lexical parent of this one's path): opened as `..` of this
    /// one where this one's path is real, else by its path.
    pub fn parent(&self, parent: &'a Path) -> DirAt<'a> {
        if self.real
            && let Some(fd) = &self.fd
            && let Ok(up) =
                rawfs::openat(Some(fd), c"..", nix::libc::O_PATH | nix::libc::O_DIRECTORY)
        {
            return DirAt {
                path: parent,
                fd: Some(up),
                real: true,
            };
        }
        DirAt {
            path: parent,
            fd: open_dir(None, parent.as_os_str().as_bytes()),
            real: false,
        }
    }

    pub fn path(&self) -> &Path {
        self.path
    }

    /// Calls `f` with the dir fd to pass to an `*at` call for `rel` and the name relative to
    /// it, NUL-terminated: on the stack where `rel` is short (the walk's every probe), else
    /// allocated; the whole path where the directory is not open. `None`: a name with a NUL.
    fn with_name<T>(&self, rel: &str, f: impl FnOnce(Option<&OwnedFd>, &CStr) -> T) -> Option<T> {
        match &self.fd {
            Some(fd) => {
                let mut buf = [0u8; 64];
                if rel.len() < buf.len() {
                    buf[..rel.len()].copy_from_slice(rel.as_bytes());
                    let c = CStr::from_bytes_with_nul(&buf[..=rel.len()]).ok()?;
                    Some(f(Some(fd), c))
                } else {
                    Some(f(Some(fd), &CString::new(rel).ok()?))
                }
            }
            None => {
                let c = CString::new(self.path.join(rel).into_os_string().into_vec()).ok()?;
                Some(f(None, &c))
            }
        }
    }

    /// `stat` of `rel` (links followed); `None` where there is nothing (or nothing reachable).
    pub fn kind(&self, rel: &str) -> Option<Kind> {
        let mut st = std::mem::MaybeUninit::<nix::libc::stat>::uninit();
        let rc = self.with_name(rel, |fd, name| {
            let dirfd = fd.map_or(nix::libc::AT_FDCWD, |f| f.as_raw_fd());
            // SAFETY: a NUL-terminated name, a stat buffer the kernel fills on success.
            unsafe { nix::libc::fstatat(dirfd, name.as_ptr(), st.as_mut_ptr(), 0) }
        })?;
        if rc != 0 {
            return None;
        }
        // SAFETY: fstatat returned 0, so it filled `st`.
        let mode = unsafe { st.assume_init() }.st_mode & nix::libc::S_IFMT;
        Some(match mode {
            nix::libc::S_IFDIR => Kind::Dir,
            nix::libc::S_IFREG => Kind::File,
            _ => Kind::Other,
        })
    }

    /// The bytes of `rel`, as `fs::read` returns them (the same errors).
    pub fn read(&self, rel: &str) -> std::io::Result<Vec<u8>> {
        let file = self
            .with_name(rel, |fd, name| rawfs::openat(fd, name, nix::libc::O_RDONLY))
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::InvalidInput))??;
        let mut out = Vec::with_capacity(256);
        let mut buf = [0u8; 4096];
        loop {
            match nix::unistd::read(&file, &mut buf) {
                Ok(0) => return Ok(out),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(nix::errno::Errno::EINTR) => {}
                Err(e) => return Err(std::io::Error::from(e)),
            }
        }
    }
}

fn open_dir(at: Option<&OwnedFd>, name: &[u8]) -> Option<OwnedFd> {
    let c = CString::new(name).ok()?;
    rawfs::openat(at, &c, nix::libc::O_PATH | nix::libc::O_DIRECTORY).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_answer_as_probes_by_path() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().canonicalize().unwrap();
        let deep = root.join("a/b");
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(root.join("a/f"), "x").unwrap();
        std::os::unix::fs::symlink(root.join("a/b"), root.join("link")).unwrap();
        let b = DirAt::open(&deep);
        assert!(b.real);
        let a = b.parent(deep.parent().unwrap());
        assert_eq!(a.kind("f"), Some(Kind::File));
        assert_eq!(a.kind("b"), Some(Kind::Dir));
        assert_eq!(a.kind("none"), None);
        assert_eq!(a.read("f").unwrap(), b"x");
        assert_eq!(
            a.read("none").unwrap_err().kind(),
            std::io::ErrorKind::NotFound
        );
        // Through a link, `..` is not the lexical parent: the parent is opened by its path.
        let via = root.join("link");
        let l = DirAt::open(&via);
        assert!(!l.real);
        let up = l.parent(&root);
        assert_eq!(up.kind("link"), Some(Kind::Dir));
        assert_eq!(up.kind("f"), None, "the lexical parent, not a/");
        // A directory that cannot be opened still answers by path.
        let missing = root.join("missing");
        let m = DirAt::open(&missing);
        assert_eq!(m.kind("x"), None);
        assert_eq!(m.parent(&root).kind("a"), Some(Kind::Dir));
    }
}
