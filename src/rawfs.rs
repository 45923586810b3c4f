//! File system calls the hot path makes many of, made as the kernel offers them.
//!
//! - [`canonicalize`]: `Path::canonicalize` is musl's realpath(3), which reads the link of
//!   every component (one readlink per component, and again for each prefix tried when the
//!   path does not exist): about 70 of the syscalls of a go call under a role with
//!   `deny_read`. Opening the path with `O_PATH` and reading `/proc/self/fd/N` gives the same
//!   answer; without /proc (a chroot), the realpath answer is used.
//! - [`openat`]: opens relative to a directory already open (a lookup of one or two
//!   components, where a whole path walks them all again), and as a raw syscall: musl's
//!   open() follows an O_CLOEXEC open with an fcntl(F_SETFD) for kernels older than 2.6.23.

use std::ffi::CStr;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The real path of `p` (links followed), as `Path::canonicalize`.
pub fn canonicalize(p: &Path) -> std::io::Result<PathBuf> {
    let fd = open_path(p)?;
    match real_path(&fd, p) {
        Some(real) => Ok(real),
        None => p.canonicalize(),
    }
}

/// Where `fd`, just opened (links followed) as `opened_as`, really is: [`fd_path`], and for a
/// file whose last component is no link, its directory's real path and its name, which spares
/// the lookup in /proc.
pub fn real_path(fd: &OwnedFd, opened_as: &Path) -> Option<PathBuf> {
    by_cwd::dir_path(fd).or_else(|| real_path_not_by_cwd(fd, opened_as))
}

/// A directory's real path from getcwd(2) after an fchdir(2) to it ([`by_cwd`]); `None` for
/// anything else (fchdir fails on a non-directory) or where that way is closed.
pub fn dir_path(fd: &OwnedFd) -> Option<PathBuf> {
    by_cwd::dir_path(fd)
}

/// [`real_path`] where [`dir_path`] has already said `None`.
pub fn real_path_not_by_cwd(fd: &OwnedFd, opened_as: &Path) -> Option<PathBuf> {
    if opened_as.is_absolute()
        && let Ok(st) = nix::sys::stat::fstat(fd.as_fd())
        && let Some(real) = file_path(opened_as, 0)
        && let Ok(now) = nix::sys::stat::stat(&real)
        && (now.st_dev, now.st_ino) == (st.st_dev, st.st_ino)
    {
        return Some(real);
    }
    proc_fd_path(fd)
}

/// A non-directory's real path: its links followed by readlink (as realpath(3) does, without
/// its malloc), its directory's path from [`by_cwd`]. `None` past 40 links.
fn file_path(path: &Path, links: usize) -> Option<PathBuf> {
    let (dir, name) = (path.parent()?, path.file_name()?);
    let st = nix::sys::stat::lstat(path).ok()?;
    if st.st_mode & nix::libc::S_IFMT == nix::libc::S_IFLNK {
        if links >= 40 {
            return None;
        }
        return file_path(&dir.join(std::fs::read_link(path).ok()?), links + 1);
    }
    let real_dir = by_cwd::dir_path(&open_path(dir).ok()?)?;
    Some(real_dir.join(name))
}

/// Opens `path` (following links) as an `O_PATH` fd, close-on-exec.
pub fn open_path(path: &Path) -> std::io::Result<OwnedFd> {
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
    openat(None, &c, nix::libc::O_PATH)
}

/// openat(2) of `name` relative to `dir` (the working directory for `None`), close-on-exec.
pub fn openat(
    dir: Option<&OwnedFd>,
    name: &CStr,
    flags: nix::libc::c_int,
) -> std::io::Result<OwnedFd> {
    let dir = dir.map_or(nix::libc::AT_FDCWD, |d| d.as_raw_fd());
    // SAFETY: a NUL-terminated name relative to an fd we hold; the fd returned is ours.
    let fd = unsafe {
        nix::libc::syscall(
            nix::libc::SYS_openat,
            dir,
            name.as_ptr(),
            flags | nix::libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: a fresh fd from openat, owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Calls `each(name, d_type)` for every entry of the directory open (not `O_PATH`) at `dir`,
/// `.` and `..` included, read with getdents64(2) into a buffer on the stack. std's `read_dir`
/// is musl's opendir: an fstat, two fcntl, a heap buffer (an mmap) and an lseek at the end,
/// for every directory a carve lists. A read that fails ends the listing: the entries not
/// seen get no rule, which only ever grants less.
pub fn list_dir(dir: &OwnedFd, mut each: impl FnMut(&CStr, u8)) {
    // `struct linux_dirent64`: d_ino (8), d_off (8), d_reclen (2), d_type (1), d_name.
    const NAME: usize = 19;
    #[repr(C, align(8))]
    struct Buf([u8; 8192]);
    let mut buf = std::mem::MaybeUninit::<Buf>::uninit();
    loop {
        // SAFETY: getdents64(2) writes at most the buffer's size into it.
        let n = unsafe {
            nix::libc::syscall(
                nix::libc::SYS_getdents64,
                dir.as_raw_fd(),
                buf.as_mut_ptr().cast::<u8>(),
                std::mem::size_of::<Buf>(),
            )
        };
        let Ok(n) = usize::try_from(n) else { return };
        if n == 0 {
            return;
        }
        // SAFETY: the kernel has written the first n bytes.
        let got = unsafe { std::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), n) };
        let mut off = 0;
        while off + NAME < got.len() {
            let reclen = usize::from(u16::from_ne_bytes([got[off + 16], got[off + 17]]));
            let Some(rec) = got.get(off..off + reclen).filter(|_| reclen > NAME) else {
                return;
            };
            if let Ok(name) = CStr::from_bytes_until_nul(&rec[NAME..]) {
                each(name, rec[18]);
            }
            off += reclen;
        }
    }
}

/// Where an open fd really is; `None` where that cannot be told (/proc not mounted, outside
/// this root, a removed file). A directory's path is what getcwd(2) says from inside it
/// ([`by_cwd`]); anything else's, or where that fails, is read from /proc/self/fd.
pub fn fd_path(fd: &OwnedFd) -> Option<PathBuf> {
    by_cwd::dir_path(fd).or_else(|| proc_fd_path(fd))
}

fn proc_fd_path(fd: &OwnedFd) -> Option<PathBuf> {
    let p = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).ok()?;
    let deleted = p.as_os_str().as_bytes().ends_with(b" (deleted)");
    (p.is_absolute() && !deleted).then_some(p)
}

/// A directory's real path from getcwd(2), after an fchdir(2) to it and back.
///
/// Reading /proc/self/fd/N costs 5 µs a descriptor, and a process's first lookup in /proc
/// 15 to 30 µs more while the kernel builds its /proc entries; a confined role's go call made
/// eighteen of them (100 µs). fchdir there, getcwd and fchdir back is under 1 µs. The calling
/// thread first unshares its working directory (CLONE_FS), so that the instant away moves no
/// other thread's; where that is not allowed (a seccomp filter) or the working directory
/// cannot be held and returned to, every answer comes from /proc as before.
mod by_cwd {
    use std::cell::Cell;
    use std::ffi::CStr;
    use std::os::fd::{AsRawFd, IntoRawFd, OwnedFd, RawFd};
    use std::os::unix::ffi::OsStrExt;
    use std::path::PathBuf;

    const UNTRIED: RawFd = -2;
    const CLOSED: RawFd = -1;

    thread_local! {
        /// This thread's own working directory, held open to return to (close-on-exec, and
        /// kept for the thread's life: a plain fd, since a thread-local that needs dropping
        /// costs a malloc to register its destructor); CLOSED where this way is closed.
        static HOME: Cell<RawFd> = const { Cell::new(UNTRIED) };
    }

    fn prepare() -> RawFd {
        // SAFETY: unshare(2) with CLONE_FS only copies this thread's fs attributes.
        if unsafe { nix::libc::unshare(nix::libc::CLONE_FS) } != 0 {
            return CLOSED;
        }
        let flags = nix::libc::O_PATH | nix::libc::O_DIRECTORY;
        let Ok(home) = super::openat(None, c".", flags) else {
            return CLOSED;
        };
        // SAFETY: fchdir(2) of a descriptor we hold.
        if unsafe { nix::libc::fchdir(home.as_raw_fd()) } != 0 {
            return CLOSED;
        }
        home.into_raw_fd()
    }

    pub fn dir_path(fd: &OwnedFd) -> Option<PathBuf> {
        HOME.with(|h| {
            if h.get() == UNTRIED {
                h.set(prepare());
            }
            let home = h.get();
            if home < 0 {
                return None;
            }
            // SAFETY: fchdir(2) of a descriptor the caller holds; it fails for a non-directory.
            if unsafe { nix::libc::fchdir(fd.as_raw_fd()) } != 0 {
                return None;
            }
            let mut buf = [0u8; 4096];
            // SAFETY: getcwd(3) writes at most buf.len() bytes, NUL-terminated, into buf.
            let got = unsafe { nix::libc::getcwd(buf.as_mut_ptr().cast(), buf.len()) };
            let path = (!got.is_null())
                .then(|| CStr::from_bytes_until_nul(&buf).ok())
                .flatten()
                .map(|c| PathBuf::from(std::ffi::OsStr::from_bytes(c.to_bytes())));
            // SAFETY: fchdir(2) back to the directory held open, which it was in a moment ago.
            if unsafe { nix::libc::fchdir(home) } != 0 {
                // Whatever ran next would run in another directory than the caller's: stop.
                eprintln!(
                    "gowarden: cannot return to the working directory: {}",
                    std::io::Error::last_os_error()
                );
                std::process::abort();
            }
            path.filter(|p| p.is_absolute())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Directories, files and links, reached through a linked directory: every answer is
    /// the real path /proc gives, and the working directory is where it was.
    #[test]
    fn real_paths_match_what_proc_says_and_the_cwd_stays() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("real/sub")).unwrap();
        std::fs::write(root.join("real/sub/file"), "").unwrap();
        std::os::unix::fs::symlink(root.join("real"), root.join("link")).unwrap();
        std::os::unix::fs::symlink(root.join("real/sub/file"), root.join("real/filelink")).unwrap();
        std::os::unix::fs::symlink("sub/../sub/file", root.join("real/rellink")).unwrap();
        std::os::unix::fs::symlink("../../link/rellink", root.join("real/sub/chain0")).unwrap();
        std::os::unix::fs::symlink("sub/chain0", root.join("real/chain")).unwrap();
        let cwd = std::env::current_dir().unwrap();
        for (via, want) in [
            ("link", "real"),
            ("link/sub", "real/sub"),
            ("link/sub/file", "real/sub/file"),
            ("link/filelink", "real/sub/file"),
            ("link/rellink", "real/sub/file"),
            ("link/chain", "real/sub/file"),
            ("real/sub/../sub", "real/sub"),
        ] {
            let path = root.join(via);
            let fd = open_path(&path).unwrap();
            let want = root.join(want);
            assert_eq!(real_path(&fd, &path), Some(want.clone()), "{via}");
            assert_eq!(proc_fd_path(&fd), Some(want.clone()), "{via}");
            assert_eq!(canonicalize(&path).unwrap(), want, "{via}");
            assert_eq!(std::env::current_dir().unwrap(), cwd, "{via}");
        }
        let fd = open_path(&root.join("link/sub")).unwrap();
        assert_eq!(fd_path(&fd), Some(root.join("real/sub")));
        // A thread of its own moves only its own working directory.
        let other = std::thread::spawn(move || fd_path(&fd)).join().unwrap();
        assert_eq!(other, Some(root.join("real/sub")));
        assert_eq!(std::env::current_dir().unwrap(), cwd);
    }
}
