//! The shim's only non-refusal output: warnings on stderr at most once a day per project.
//!
//! IDEs (gopls) and scripts run go hundreds of times an hour; a warning on each call would
//! flood them and teach people to ignore it. A stamp file per project root, under the user's
//! state dir (`$XDG_STATE_HOME/gowarden/warned/`), holds the UTC day and a digest of the
//! warnings last shown; the same warnings are shown again only on a later day, while new ones
//! (the project changed) are shown at once. One small file per project, read and written
//! whole: nothing here grows with history.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::hex::encode as hex;

use crate::date;

/// Prints `lines` (each prefixed `gowarden: warning: `) to stderr unless the same lines were
/// already shown for `project_root` today. The stamp is written first: if it cannot be, the
/// warnings are not shown at all, since showing them on every call is the flood this exists
/// to prevent (`gowarden check` and `gowarden which` still report them).
pub fn warn_once_a_day(project_root: &Path, lines: &[String]) {
    if lines.is_empty() {
        return;
    }
    let Some(path) = stamp_path(project_root) else {
        return;
    };
    let stamp = format!(
        "{} {}\n",
        date::today_days(),
        hex(&Sha256::digest(lines.join("\n").as_bytes()))
    );
    if std::fs::read_to_string(&path).is_ok_and(|old| old == stamp) {
        return;
    }
    if write_stamp(&path, &stamp).is_err() {
        return;
    }
    let mut err = std::io::stderr().lock();
    for l in lines {
        // Nothing sensible remains to be done if stderr is closed.
        let _ = writeln!(err, "gowarden: warning: {l}");
    }
}

/// The stamp file for a project root: named by a digest of the root's path, so any path
/// (long, odd bytes) maps to one short file name.
pub fn stamp_path(project_root: &Path) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let dir = crate::userdirs::state_dir().or_else(crate::userdirs::cache_dir)?;
    let key = hex(&Sha256::digest(project_root.as_os_str().as_bytes())[..16]);
    Some(dir.join("gowarden").join("warned").join(key))
}

/// Written to a temporary file and renamed into place, so a concurrent shim never reads a
/// half-written stamp.
fn write_stamp(path: &Path, stamp: &str) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let opts = crate::atomic_file::Options {
        mode: 0o666,
        ..crate::atomic_file::Options::PRIVATE
    };
    crate::atomic_file::replace(path, stamp.as_bytes(), opts)
}
