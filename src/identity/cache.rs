//! getent's answers, kept for a short while in a file of the user's own, so that a policy
//! whose bindings name groups a directory source holds (or nobody holds: the usual case under
//! Debian's `files systemd`) does not start a getent on every go call.
//!
//! The file is the user's: whoever can write it can claim any group name for their own calls,
//! exactly as an `env` binding can be claimed by setting a variable. Roles are guardrails for
//! what goes through the shim, not a boundary against the account running it
//! (policies/README.md, "Roles and rules"); a binding that must not be claimable names `gids`
//! or `uids`, which need no lookup and no cache. What the cache guards against is staleness and
//! other accounts: it is read only if it is a regular file (not a symlink, FIFO or device)
//! owned by the caller and writable by nobody else, written by this uid, at most [`TTL`] old,
//! and only while `/etc/nsswitch.conf`, `/etc/passwd` and `/etc/group` are the same files
//! (device, inode, size, mtime, ctime, owner: [`crate::stamp`]) as when it was written.

use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use crate::stamp::Stamp;

/// How long an answer is kept: a group created or renamed in the directory counts within a
/// minute, while a CI job's go calls share one getent.
pub const TTL_SECS: u64 = 60;

const MAGIC: &str = "gowarden-names\t1";
const MAX_BYTES: u64 = 64 * 1024;

/// Answers for names the files lack: `None` means getent found no such entry.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Entries {
    /// uid → user name.
    pub users: Vec<(u32, Option<String>)>,
    /// group name → gid.
    pub groups: Vec<(String, Option<u32>)>,
}

impl Entries {
    pub fn user(&self, uid: u32) -> Option<&Option<String>> {
        self.users.iter().find(|(u, _)| *u == uid).map(|(_, n)| n)
    }

    pub fn group(&self, name: &str) -> Option<Option<u32>> {
        self.groups.iter().find(|(n, _)| n == name).map(|(_, g)| *g)
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty() && self.groups.is_empty()
    }
}

/// Where the cache lives: `$XDG_RUNTIME_DIR/gowarden/names` (a per-login tmpfs, emptied at
/// logout, which is also when group membership is next read), else the state dir's
/// `gowarden/names`.
pub fn place() -> Option<PathBuf> {
    let runtime = crate::environ::var_os(crate::envvars::XDG_RUNTIME_DIR)
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    runtime
        .or_else(crate::userdirs::state_dir)
        .map(|d| d.join("gowarden").join("names"))
}

/// What the answers were derived from: each file's [`Stamp`] (the identity the toolchain
/// index and the policy snapshots key on too), one line each.
pub fn stamp(files: &[&Path]) -> String {
    let mut s = String::new();
    for f in files {
        match std::fs::metadata(f) {
            Ok(m) => s.push_str(&format!(
                "stamp\t{}\t{}\n",
                f.display(),
                Stamp::of_meta(&m).encode()
            )),
            Err(_) => s.push_str(&format!("stamp\t{}\t-\n", f.display())),
        }
    }
    s
}

/// The entries of the cache at `path` for `uid`, or none when it is absent, untrusted or stale.
/// `stamp` (what the files are now) is asked for only when there is a cache to compare it to:
/// where no name ever needed getent there is none, and the three stats are saved.
pub fn load<'s>(path: &Path, uid: u32, stamp: impl FnOnce() -> &'s str, now: u64) -> Entries {
    crate::atomic_file::read_own(path, MAX_BYTES)
        .and_then(|text| parse(&text, uid, stamp(), now))
        .unwrap_or_default()
}

/// Replaces the cache at `path` (atomically: a concurrent reader sees the old or the new one).
pub fn store(path: &Path, uid: u32, stamp: &str, now: u64, entries: &Entries) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("/"));
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let mut text = format!("{MAGIC}\nuid\t{uid}\nwritten\t{now}\n{stamp}");
    for (u, name) in &entries.users {
        match name {
            Some(n) => text.push_str(&format!("user\t{u}\t{n}\n")),
            None => text.push_str(&format!("user\t{u}\n")),
        }
    }
    for (name, gid) in &entries.groups {
        match gid {
            Some(g) => text.push_str(&format!("group\t{name}\t{g}\n")),
            None => text.push_str(&format!("group\t{name}\n")),
        }
    }
    crate::atomic_file::replace(path, text.as_bytes(), crate::atomic_file::Options::PRIVATE)
}

fn parse(text: &str, uid: u32, stamp: &str, now: u64) -> Option<Entries> {
    let mut lines = text.lines();
    if lines.next()? != MAGIC {
        return None;
    }
    if lines.next()? != format!("uid\t{uid}") {
        return None;
    }
    let written: u64 = lines.next()?.strip_prefix("written\t")?.parse().ok()?;
    if written > now || now - written >= TTL_SECS {
        return None;
    }
    let mut stamps = String::new();
    let mut entries = Entries::default();
    for line in lines {
        let fields: Vec<&str> = line.split('\t').collect();
        match fields.as_slice() {
            ["stamp", ..] => {
                stamps.push_str(line);
                stamps.push('\n');
            }
            ["user", u] => entries.users.push((u.parse().ok()?, None)),
            ["user", u, name] => entries
                .users
                .push((u.parse().ok()?, Some(name.to_string()))),
            ["group", name] => entries.groups.push((name.to_string(), None)),
            ["group", name, g] => entries
                .groups
                .push((name.to_string(), Some(g.parse().ok()?))),
            _ => return None,
        }
    }
    (stamps == stamp).then_some(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    fn uid() -> u32 {
        nix::unistd::getuid().as_raw()
    }

    fn sample() -> Entries {
        Entries {
            users: vec![(4242, None), (1000, Some("alice".into()))],
            groups: vec![("ci".into(), Some(20)), ("domain users".into(), None)],
        }
    }

    #[test]
    fn round_trip_within_the_ttl_and_the_same_files() {
        let dir = tempfile::tempdir().unwrap();
        let etc = dir.path().join("group");
        std::fs::write(&etc, "ci:x:20:\n").unwrap();
        let stamp = stamp(&[&etc, &dir.path().join("absent")]);
        let path = dir.path().join("state/gowarden/names");
        store(&path, uid(), &stamp, 1000, &sample()).unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.mode() & 0o777, 0o600);
        assert_eq!(
            std::fs::metadata(path.parent().unwrap()).unwrap().mode() & 0o777,
            0o700
        );
        assert_eq!(load(&path, uid(), || &stamp, 1000), sample());
        assert_eq!(load(&path, uid(), || &stamp, 1000 + TTL_SECS - 1), sample());
        assert!(
            load(&path, uid(), || &stamp, 1000 + TTL_SECS).is_empty(),
            "expired"
        );
        assert!(
            load(&path, uid(), || &stamp, 999).is_empty(),
            "written in the future"
        );
        assert!(
            load(&path, uid() + 1, || &stamp, 1000).is_empty(),
            "another uid's"
        );
        // The group file changes (same second, same size): its stamp changes with it.
        std::fs::remove_file(&etc).unwrap();
        std::fs::write(&etc, "ci:x:21:\n").unwrap();
        let changed = super::stamp(&[&etc, &dir.path().join("absent")]);
        assert!(load(&path, uid(), || &changed, 1000).is_empty());
    }

    #[test]
    fn symlinks_fifos_and_files_others_can_write_are_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        store(&real, uid(), "", 1000, &sample()).unwrap();
        assert_eq!(load(&real, uid(), || "", 1000), sample());

        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert!(load(&link, uid(), || "", 1000).is_empty(), "a symlink");

        if uid() == 0 {
            let other = Some(nix::unistd::Uid::from_raw(4242));
            nix::unistd::chown(&real, other, None).unwrap();
            assert!(
                load(&real, uid(), || "", 1000).is_empty(),
                "another user's file"
            );
            nix::unistd::chown(&real, Some(nix::unistd::Uid::from_raw(0)), None).unwrap();
        }
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o620)).unwrap();
        assert!(load(&real, uid(), || "", 1000).is_empty(), "group-writable");

        let fifo = dir.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        assert!(
            load(&fifo, uid(), || "", 1000).is_empty(),
            "a FIFO, without blocking"
        );

        let garbage = dir.path().join("garbage");
        std::fs::write(
            &garbage,
            "gowarden-names\t1\nuid\t0\nwritten\t1000\nbogus\n",
        )
        .unwrap();
        assert!(load(&garbage, uid(), || "", 1000).is_empty());
    }
}
