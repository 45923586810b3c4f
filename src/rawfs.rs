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

/// Where an open fd really is, from /proc/self/fd; `None` where /proc cannot say (not
/// mounted, outside this root, a removed file).
pub fn fd_path(fd: &OwnedFd) -> Option<PathBuf> {
    let p = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).ok()?;
    let deleted = p.as_os_str().as_bytes().ends_with(b" (deleted)");
    (p.is_absolute() && !deleted).then_some(p)
}
