//! The caller's home and XDG base directories, computed as the `dirs` crate computes them on
//! Linux (an XDG variable counts only if it is an absolute path), with one difference: where
//! HOME is unset or empty, the home comes from `/etc/passwd` read directly, never from
//! `getpwuid_r`, which is NSS and so may load modules (see [`crate::identity`]; [`crate::passwd`] reads the file).

use std::path::PathBuf;

/// `$HOME`, else the passwd file's home of the real uid.
pub fn home_dir() -> Option<PathBuf> {
    if let Some(h) = std::env::var_os(crate::envvars::HOME).filter(|h| !h.is_empty()) {
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
    std::env::var_os(var)
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| home_dir().map(|h| h.join(under_home)))
}
