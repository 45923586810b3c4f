//! A path resolved the way the kernel resolves it, in three syscalls whatever its depth.
//!
//! `Path::canonicalize` is musl's realpath(3), which reads the link of every component (one
//! readlink per component, and again for each prefix tried when the path does not exist):
//! about 70 of the syscalls of a go call under a role with `deny_read`. Opening the path with
//! `O_PATH` and reading `/proc/self/fd/N` gives the same answer; without /proc (a chroot), the
//! realpath answer is used.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The real path of `p` (links followed), as `Path::canonicalize`.
pub fn canonicalize(p: &Path) -> std::io::Result<PathBuf> {
    let fd = open_path(p)?;
    match fd_path(&fd) {
        Some(real) => Ok(real),
        None => p.canonicalize(),
    }
}

/// Opens `path` (following links) as an `O_PATH` fd, close-on-exec. A raw openat: musl's
/// open() follows an O_CLOEXEC open with an fcntl(F_SETFD) for kernels older than 2.6.23.
pub fn open_path(path: &Path) -> std::io::Result<OwnedFd> {
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
    // SAFETY: a NUL-terminated path; the fd returned is ours.
    let fd = unsafe {
        nix::libc::syscall(
            nix::libc::SYS_openat,
            nix::libc::AT_FDCWD,
            c.as_ptr(),
            nix::libc::O_PATH | nix::libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: a fresh fd from openat, owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Where an open fd really is, from /proc/self/fd; `None` where /proc cannot say (not
/// mounted, outside this root, a removed file).
pub fn fd_path(fd: &OwnedFd) -> Option<PathBuf> {
    let p = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).ok()?;
    let deleted = p.as_os_str().as_bytes().ends_with(b" (deleted)");
    (p.is_absolute() && !deleted).then_some(p)
}
