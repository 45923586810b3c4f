//! `gowarden drift --fix`: rewrites the user's go env file so that a go call bypassing the
//! shim gets the policy's enforced values and none of its forbidden keys.
//!
//! The file is written exactly as `go env -w`/`go env -u` would write it
//! ([`crate::goenv::update_env_file`]: same line handling, same sorting of key runs), only the
//! governed keys are touched, and the previous file is kept next to it as
//! `env.gowarden-backup-<UTC timestamp>`. What a file cannot fix (a variable in the process
//! environment, go.mod, `.go-version`, PATH) is returned as advice: gowarden never edits
//! go.mod or `.go-version`.
//!
//! The changes come back as [`EnvChange`]s (`from` = the file's previous value, `None` when
//! absent; `to` = the new value, `None` when removed) for the caller to record in the audit
//! log.

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::env::{Want, governed};
use super::{Category, Context, Report, Source, lossy};
use crate::goenv::{self, GoEnv};
use crate::shim::EnvChange;

/// What `--fix` did and what it leaves to the user.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FixReport {
    /// The user go env file, where one was written.
    pub file: Option<PathBuf>,
    /// The copy of the file as it was before (none if it did not exist).
    pub backup: Option<PathBuf>,
    /// Changes to the user go env file, in key order.
    pub changes: Vec<EnvChange>,
    /// Fixes gowarden does not make itself, one sentence each.
    pub advice: Vec<String>,
}

/// The `fix` of `drift --fix --json` (docs/env-and-drift.md): `{"file", "backup", "changes":
/// [{"key", "from", "to"}], "advice"}`, `from`/`to` null for an absent key.
impl serde::Serialize for FixReport {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(serde::Serialize)]
        struct Json<'a> {
            advice: &'a [String],
            backup: Option<&'a Path>,
            changes: Vec<Change<'a>>,
            file: Option<&'a Path>,
        }
        #[derive(serde::Serialize)]
        struct Change<'a> {
            from: Option<String>,
            key: &'a str,
            to: Option<String>,
        }
        Json {
            advice: &self.advice,
            backup: self.backup.as_deref(),
            changes: self
                .changes
                .iter()
                .map(|c| Change {
                    from: c.from.as_ref().map(lossy),
                    key: &c.key,
                    to: c.to.as_ref().map(lossy),
                })
                .collect(),
            file: self.file.as_deref(),
        }
        .serialize(s)
    }
}

impl FixReport {
    pub fn text(&self) -> String {
        let mut out = String::new();
        if let Some(file) = &self.file {
            out.push_str(&format!("fixed {}", file.display()));
            if let Some(b) = &self.backup {
                out.push_str(&format!(" (previous version: {})", b.display()));
            }
            out.push_str(":\n");
            for c in &self.changes {
                let show = |v: &Option<OsString>| match v {
                    Some(v) => format!("{:?}", v.to_string_lossy()),
                    None => "(absent)".into(),
                };
                out.push_str(&format!(
                    "  {}: {} -> {}\n",
                    c.key,
                    show(&c.from),
                    show(&c.to)
                ));
            }
        } else {
            out.push_str("the go env file needs no change\n");
        }
        for a in &self.advice {
            out.push_str(&format!("not fixed: {a}\n"));
        }
        out
    }
}

/// Fixes the user go env file for the drift in `report` (found in `ctx`).
pub fn fix(ctx: &Context, report: &Report) -> Result<FixReport, String> {
    let mut out = FixReport::default();
    for f in &report.findings {
        let file_fixable = f.category == Category::Env && !matches!(f.source, Source::Env);
        if !file_fixable {
            out.advice
                .push(format!("{} {}: {}", f.category.name(), f.key, f.fix));
        }
    }
    let plan = match &ctx.plan {
        Ok(p) => p,
        Err(r) => {
            return Err(format!(
                "cannot fix the go env file: no toolchain to check it against: {}",
                r.message
            ));
        }
    };
    let ge = GoEnv::load(goenv::process_env, Some(&plan.toolchain.goroot))
        .map_err(|e| format!("cannot fix the go env file: {e}"))?;
    let mut set: Vec<(String, OsString)> = Vec::new();
    let mut unset: Vec<String> = Vec::new();
    for (key, want) in governed(&ctx.policy) {
        let in_file = ge.user_entry(&key).map(|(_, e)| e.value.clone());
        match want {
            Want::Value { value, .. } => {
                let value = OsString::from(value);
                let needed = match &in_file {
                    Some(v) => *v != value,
                    // Nothing in the file: go falls back to go.env, else its built-in default,
                    // which the env check found to differ.
                    None => match ge.goroot_entry(&key) {
                        Some((_, e)) => e.value != value,
                        None => report.findings.iter().any(|f| {
                            f.category == Category::Env
                                && f.key == key
                                && !matches!(f.source, Source::Env)
                        }),
                    },
                };
                if needed {
                    set.push((key, value));
                }
            }
            Want::Unset { .. } => {
                if in_file.is_some() {
                    unset.push(key);
                }
            }
        }
    }
    if set.is_empty() && unset.is_empty() {
        return Ok(out);
    }
    let Some(path) = ge.user_file().map(Path::to_path_buf) else {
        return Err(
            "cannot fix: go reads no user go env file here (GOENV=off, or no $HOME or \
             $XDG_CONFIG_HOME), so there is nothing to write; set the values in the \
             environment instead"
                .into(),
        );
    };
    let old = match std::fs::read(&path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(goenv::unreadable(&path, &e).to_string()),
    };
    let new = goenv::update_env_file(old.as_deref().unwrap_or_default(), &set, &unset);
    if let Some(old) = &old {
        out.backup = Some(backup(&path, old)?);
    }
    write_replacing(&path, &new)?;
    for (key, to) in &set {
        out.changes.push(EnvChange {
            key: key.clone(),
            from: ge.user_entry(key).map(|(_, e)| e.value.clone()),
            to: Some(to.clone()),
        });
    }
    for key in &unset {
        out.changes.push(EnvChange {
            key: key.clone(),
            from: ge.user_entry(key).map(|(_, e)| e.value.clone()),
            to: None,
        });
    }
    out.changes.sort_by(|a, b| a.key.cmp(&b.key));
    out.file = Some(path);
    Ok(out)
}

/// Copies the file's old bytes to `<file>.gowarden-backup-<UTC timestamp>` (a `-N` suffix if
/// that exists), never overwriting anything.
fn backup(path: &Path, old: &[u8]) -> Result<PathBuf, String> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "env".into());
    let stamp = utc_stamp(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
    );
    let mode = std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o7777)
        .unwrap_or(0o600);
    for n in 1..1000 {
        let suffix = if n == 1 {
            String::new()
        } else {
            format!("-{n}")
        };
        let b = path.with_file_name(format!("{name}.gowarden-backup-{stamp}{suffix}"));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&b)
        {
            Ok(mut f) => {
                f.write_all(old)
                    .and_then(|()| f.sync_all())
                    .map_err(|e| format!("cannot write the backup {}: {e}", b.display()))?;
                return Ok(b);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("cannot write the backup {}: {e}", b.display())),
        }
    }
    Err(format!(
        "cannot write a backup of {}: too many backups with this timestamp",
        path.display()
    ))
}

/// Replaces the file's contents atomically (a temp file renamed over it), through a symlink
/// to its target as go's own write would, keeping its permissions; a new file gets go's
/// 0666 (less the umask) and its directory is created as go would.
fn write_replacing(path: &Path, data: &[u8]) -> Result<(), String> {
    let err =
        |what: &str, p: &Path, e: std::io::Error| format!("cannot {what} {}: {e}", p.display());
    // Like `go env -w`, write through a symlink (a dotfiles checkout), even a dangling one:
    // replacing the link with a file would cut the user's dotfiles off.
    let mut target = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::read_link(&target) {
            Ok(next) => {
                target = match target.parent() {
                    Some(dir) => dir.join(next),
                    None => next,
                }
            }
            Err(_) => break,
        }
    }
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir).map_err(|e| err("create", dir, e))?;
    }
    let mode = std::fs::metadata(&target)
        .map(|m| m.permissions().mode() & 0o7777)
        .ok();
    // A file rewritten keeps its mode; a new one gets what the umask leaves of 0666, as
    // `go env -w` gives it.
    let opts = crate::atomic_file::Options {
        mode: 0o666,
        exact_mode: mode,
        sync: true,
    };
    crate::atomic_file::replace(&target, data, opts).map_err(|e| err("write", &target, e))
}

/// `YYYYMMDDTHHMMSSZ` for Unix seconds (UTC), without a date library.
pub fn utc_stamp(secs: u64) -> String {
    let (date, rem) = crate::date::split_unix(secs);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        date.year,
        date.month,
        date.day,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_stamps() {
        assert_eq!(utc_stamp(0), "19700101T000000Z");
        assert_eq!(utc_stamp(951_782_400), "20000229T000000Z");
        assert_eq!(utc_stamp(1_709_251_199), "20240229T235959Z");
        assert_eq!(utc_stamp(1_735_689_600), "20250101T000000Z");
    }

    #[test]
    fn backups_never_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("env");
        std::fs::write(&file, "GOPROXY=direct\n").unwrap();
        let a = backup(&file, b"one").unwrap();
        let b = backup(&file, b"two").unwrap();
        assert_ne!(a, b);
        assert_eq!(std::fs::read(&a).unwrap(), b"one");
        assert_eq!(std::fs::read(&b).unwrap(), b"two");
        assert!(
            a.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("env.gowarden-backup-")
        );
    }

    #[test]
    fn writes_through_a_symlink_keeping_the_mode() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("dotfiles-env");
        std::fs::write(&real, "old\n").unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("env");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_replacing(&link, b"new\n").unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read(&real).unwrap(), b"new\n");
        assert_eq!(
            std::fs::metadata(&real).unwrap().permissions().mode() & 0o777,
            0o640
        );
        // A new file in a new directory.
        let fresh = dir.path().join("cfg/go/env");
        write_replacing(&fresh, b"GOPROXY=off\n").unwrap();
        assert_eq!(std::fs::read(&fresh).unwrap(), b"GOPROXY=off\n");
    }
}
