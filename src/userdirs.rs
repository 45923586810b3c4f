//! The caller's home and XDG base directories, computed as the `dirs` crate computes them on
//! Linux (an XDG variable counts only if it is an absolute path), with one difference: where
//! HOME is unset or empty, the home comes from `/etc/passwd` read directly, never from
//! `getpwuid_r`, which is NSS and so may load modules (see [`crate::identity`]; [`crate::passwd`] reads the file).

use std::path::PathBuf;

/// `$HOME`, else the passwd file's home of the real uid.
pub fn home_dir() -> Option<PathBuf> {
    if let Some(h) = crate::environ::var_os(crate::envvars::HOME).filter(|h| !h.is_empty()) {
        return Some(PathBuf::from(h));
    }
    let uid = nix::unistd::getuid().as_raw();
    crate::passwd::passwd_by_uid(std::path::Path::new(crate::passwd::PASSWD), uid)
        .ok()
        .flatten()
        .map(|e| e.home)
        .filter(|h| h.starts_with('/'))
        .map(PathBuf::from)
}

/// `$XDG_CONFIG_HOME`, else `~/.config`.
pub fn config_dir() -> Option<PathBuf> {
    xdg(crate::envvars::XDG_CONFIG_HOME, ".config")
}

/// `$XDG_DATA_HOME`, else `~/.local/share`.
pub fn data_dir() -> Option<PathBuf> {
    xdg(crate::envvars::XDG_DATA_HOME, ".local/share")
}

/// `$XDG_STATE_HOME`, else `~/.local/state`.
pub fn state_dir() -> Option<PathBuf> {
    xdg(crate::envvars::XDG_STATE_HOME, ".local/state")
}

/// `$XDG_CACHE_HOME`, else `~/.cache`.
pub fn cache_dir() -> Option<PathBuf> {
    xdg(crate::envvars::XDG_CACHE_HOME, ".cache")
}

fn xdg(var: &str, under_home: &str) -> Option<PathBuf> {
    crate::environ::var_os(var)
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| home_dir().map(|h| h.join(under_home)))
}

/// Creates `dir` and its missing parents (mode 0700) for a cache the caller keeps, and
/// succeeds only where the nearest directory that already exists (`dir` itself, if it does)
/// belongs to the caller (effective uid).
/// Why: root running gowarden with another user's HOME (an install script building a
/// devcontainer for its remote user, `sudo -E`) would otherwise leave a root-owned
/// `~/.cache` in that home, which the user, and every other program caching there, can
/// then not write.
pub fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    let mut existing = dir;
    let meta = loop {
        match std::fs::metadata(existing) {
            Ok(m) => break m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                existing = existing.parent().ok_or(e)?;
            }
            Err(e) => return Err(e),
        }
    };
    let euid = nix::unistd::geteuid().as_raw();
    if meta.uid() != euid {
        return Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            format!(
                "{} belongs to uid {}, not to the caller (uid {euid}): not creating {} in it",
                existing.display(),
                meta.uid(),
                dir.display()
            ),
        ));
    }
    if existing == dir {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(test)]
mod tests {
    use super::create_private_dir;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn a_cache_dir_is_made_only_inside_the_callers_own_directories() {
        let t = tempfile::tempdir().unwrap();
        let mine = t.path().join("mine/.cache/gowarden/policy");
        create_private_dir(&mine).unwrap();
        assert_eq!(
            std::fs::metadata(&mine).unwrap().mode() & 0o777,
            0o700,
            "{}",
            mine.display()
        );
        // The caller's existing directory is used as it is.
        create_private_dir(&mine).unwrap();

        let euid = nix::unistd::geteuid().as_raw();
        let other = t.path().join("other");
        std::fs::create_dir(&other).unwrap();
        if euid != 0 {
            // Only root can give a directory away; as anyone else, the caller's own dir
            // is the only case to show.
            return;
        }
        nix::unistd::chown(&other, Some(nix::unistd::Uid::from_raw(1000)), None).unwrap();
        let err = create_private_dir(&other.join(".cache/gowarden")).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::PermissionDenied);
        assert_eq!(
            err.to_string(),
            format!(
                "{} belongs to uid 1000, not to the caller (uid 0): not creating {} in it",
                other.display(),
                other.join(".cache/gowarden").display()
            )
        );
        assert!(!other.join(".cache").exists());
        // Nor is another user's existing cache dir written into.
        assert_eq!(
            create_private_dir(&other).unwrap_err().kind(),
            std::io::ErrorKind::PermissionDenied
        );
    }
}
