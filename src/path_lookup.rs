//! The one PATH walk: the executables named `go` (or `gofmt`) in PATH order, found as a shell
//! finds them (execvp): an empty entry is the current directory, a relative one is relative to
//! it, and only regular files with an execute bit count (symlinks followed). `gowarden doctor`
//! names the first, `gowarden drift` reports those ahead of the shim, and toolchain discovery
//! takes the ones in absolute entries, so all three name the same "first go".

use std::ffi::OsStr;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// An executable found on PATH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnPath {
    /// Its PATH entry as written, and that entry's 1-based position.
    pub entry: PathBuf,
    pub index: usize,
    /// The file: the entry joined to `dir` where it is relative, then the tool name.
    pub file: PathBuf,
    /// Its identity (device, inode), links followed: the shim compares it with its own.
    pub id: (u64, u64),
}

/// Every executable named `tool` on `path`, in order, relative entries resolved against `dir`.
pub fn all(path: &OsStr, tool: &str, dir: &Path) -> Vec<OnPath> {
    all_but(path, tool, dir, None)
}

/// [`all`] without the file at the path `but` (not even looked at): the shim skips the name
/// it was exec'd by, which its own identity was read from already, for a stat less a call.
pub fn all_but(path: &OsStr, tool: &str, dir: &Path, but: Option<&Path>) -> Vec<OnPath> {
    std::env::split_paths(path)
        .enumerate()
        .filter_map(|(i, entry)| {
            let file = if entry.as_os_str().is_empty() {
                dir.join(tool)
            } else {
                dir.join(&entry).join(tool)
            };
            if but == Some(file.as_path()) {
                return None;
            }
            let meta = std::fs::metadata(&file).ok()?;
            (meta.is_file() && meta.permissions().mode() & 0o111 != 0).then(|| OnPath {
                entry,
                index: i + 1,
                id: (meta.dev(), meta.ino()),
                file,
            })
        })
        .collect()
}

/// The first executable named `tool` on `path`: what a shell in `dir` runs.
pub fn first(path: &OsStr, tool: &str, dir: &Path) -> Option<OnPath> {
    all(path, tool, dir).into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_a_shell_finds_them() {
        let d = tempfile::tempdir().unwrap();
        let d = d.path();
        let write = |rel: &str, mode: u32| {
            let p = d.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        };
        write("go", 0o755);
        write("rel/go", 0o755);
        write("noexec/go", 0o644);
        std::fs::create_dir_all(d.join("isdir/go")).unwrap();
        write("abs/go", 0o700);
        std::os::unix::fs::symlink(d.join("abs/go"), d.join("link-go")).unwrap();
        std::fs::create_dir_all(d.join("linkdir")).unwrap();
        std::os::unix::fs::symlink(d.join("abs/go"), d.join("linkdir/go")).unwrap();
        let abs = d.join("abs");
        let path = format!("noexec:isdir::rel:{}:linkdir:missing", abs.display());
        let got: Vec<(usize, PathBuf)> = all(OsStr::new(&path), "go", d)
            .into_iter()
            .map(|f| (f.index, f.file))
            .collect();
        assert_eq!(
            got,
            [
                (3, d.join("go")),
                (4, d.join("rel/go")),
                (5, abs.join("go")),
                (6, d.join("linkdir/go")),
            ]
        );
        assert_eq!(first(OsStr::new("noexec:missing"), "go", d), None);
        let link = all(OsStr::new("linkdir"), "go", d);
        let target = all(abs.as_os_str(), "go", d);
        assert_eq!(link[0].id, target[0].id, "identity follows the link");
        // The path left out is that name only: the same file through a link still counts.
        let but: Vec<PathBuf> = all_but(OsStr::new(&path), "go", d, Some(&abs.join("go")))
            .into_iter()
            .map(|f| f.file)
            .collect();
        assert_eq!(but, [d.join("go"), d.join("rel/go"), d.join("linkdir/go")]);
    }
}
