//! Finding the Go binaries among files and directory trees (an unpacked container image, a
//! `dist/` folder), as `go version` does with a directory: every regular file is tried, and
//! those that are not Go executables are passed over without a word. What cannot be read is
//! never passed over: a file the walk cannot open, a directory it cannot list, a Go binary
//! whose build information is corrupt.
//!
//! Unlike `go version`, the walk does not follow symbolic links: in an image they point at
//! paths of the image's root (`/usr/bin/x`), which on this machine are other files. A link
//! named on the command line is followed.

use std::path::{Path, PathBuf};

use super::{BuildInfo, ReadError, read_file};

/// What a scan found.
#[derive(Debug, Default)]
pub struct Scan {
    /// Each Go binary and its build information, in walk order (names sorted per directory).
    pub binaries: Vec<(PathBuf, BuildInfo)>,
    /// Each path that could not be read, and why.
    pub unreadable: Vec<(PathBuf, ReadError)>,
}

/// Scans `paths`: a file is read (and anything but a Go binary is reported), a directory is
/// walked for Go binaries.
pub fn scan(paths: &[PathBuf]) -> Scan {
    let mut out = Scan::default();
    for p in paths {
        match std::fs::metadata(p) {
            Err(e) => out
                .unreadable
                .push((p.clone(), ReadError::Io(e.to_string()))),
            Ok(m) if m.is_dir() => walk(p, &mut out),
            Ok(m) if m.is_file() => match read_file(p) {
                Ok(bi) => out.binaries.push((p.clone(), bi)),
                Err(e) => out.unreadable.push((p.clone(), e)),
            },
            Ok(_) => out.unreadable.push((
                p.clone(),
                ReadError::Io("not a regular file or a directory".into()),
            )),
        }
    }
    out
}

fn walk(dir: &Path, out: &mut Scan) {
    let entries = match std::fs::read_dir(dir) {
        Ok(rd) => rd.collect::<Result<Vec<_>, _>>(),
        Err(e) => Err(e),
    };
    let mut entries = match entries {
        Ok(e) => e,
        Err(e) => {
            out.unreadable.push((
                dir.to_path_buf(),
                ReadError::Io(format!("cannot list it: {e}")),
            ));
            return;
        }
    };
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let kind = match e.file_type() {
            Ok(t) => t,
            Err(err) => {
                out.unreadable.push((path, ReadError::Io(err.to_string())));
                continue;
            }
        };
        if kind.is_dir() {
            walk(&path, out);
        } else if kind.is_file() {
            // Devices, FIFOs and sockets are skipped: opening a FIFO would block.
            match read_file(&path) {
                Ok(bi) => out.binaries.push((path, bi)),
                Err(err) if err.is_not_go() => {}
                Err(err) => out.unreadable.push((path, err)),
            }
        }
    }
}
