//! What the last calls learned about the directories of toolchains, kept so the next call
//! need not read every `VERSION` file again: with a hundred toolchains installed, discovery
//! made four syscalls each (open, read, close of `VERSION`, a stat of `bin/go`) and parsed
//! every version, about 0.8 ms per go call.
//!
//! Nothing here is trusted past a change of what it was learned from. A directory's listing is
//! reused only while the directory has the same identity (device, inode, nanosecond mtime and
//! ctime: adding, removing or renaming an entry changes them), and a toolchain's version only
//! while its `VERSION` file has the same identity (inode, size, nanosecond mtime and ctime: an
//! in-place rewrite changes them, a rewrite by rename changes the inode), which one `fstatat`
//! relative to the open directory checks. A file's timestamps come from a coarse clock (a tick,
//! or a second on some file systems), so a change made within [`MARGIN`] of the moment the
//! index was built may not change them: anything that changed that recently is checked by its
//! contents on every call until it is older ("racily clean", as git calls it).
//!
//! The index lives in the caller's cache dir, which the caller can write: a version is reused
//! only from a `VERSION` file the caller owns (who could as well rewrite the file itself); one
//! owned by anyone else is read on every call, and a listing is reused only for a directory the
//! caller owns (who could as well add or remove its entries).

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

const MAGIC: &str = "gowarden-toolchain-index 1";
/// Larger than any file-timestamp granularity Linux file systems use (ext4, xfs, btrfs,
/// tmpfs: a clock tick; ext3 with small inodes, some network file systems: a second; FAT's
/// mtime: two).
const MARGIN_NS: i128 = 3_000_000_000;
/// An index larger than this is not read (a thousand toolchains are about 100 kB).
const MAX_BYTES: u64 = 1 << 20;

/// A file's identity as `stat` gives it: what any change to its name or contents changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub dev: u64,
    pub ino: u64,
    pub size: i64,
    pub mtime: i128,
    pub ctime: i128,
    pub uid: u32,
}

impl Stamp {
    pub fn of(st: &nix::libc::stat) -> Stamp {
        Stamp {
            dev: st.st_dev,
            ino: st.st_ino,
            size: st.st_size,
            mtime: i128::from(st.st_mtime) * 1_000_000_000 + i128::from(st.st_mtime_nsec),
            ctime: i128::from(st.st_ctime) * 1_000_000_000 + i128::from(st.st_ctime_nsec),
            uid: st.st_uid,
        }
    }

    fn encode(&self) -> String {
        format!(
            "{} {} {} {} {} {}",
            self.dev, self.ino, self.size, self.mtime, self.ctime, self.uid
        )
    }

    fn decode(s: &str) -> Option<Stamp> {
        let mut w = s.split(' ');
        let stamp = Stamp {
            dev: w.next()?.parse().ok()?,
            ino: w.next()?.parse().ok()?,
            size: w.next()?.parse().ok()?,
            mtime: w.next()?.parse().ok()?,
            ctime: w.next()?.parse().ok()?,
            uid: w.next()?.parse().ok()?,
        };
        w.next().is_none().then_some(stamp)
    }
}

/// What a directory entry was found to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// No `VERSION` file (or none that could be opened).
    NoVersion,
    /// A `VERSION` file with this identity, naming this toolchain (`None`: not a release),
    /// and whether `bin/go` was a regular file.
    Version {
        stamp: Stamp,
        name: Option<String>,
        go: bool,
    },
}

#[derive(Debug, Clone, Default)]
struct Dir {
    stamp: Option<Stamp>,
    entries: Vec<(Vec<u8>, Entry)>,
}

/// The index one discovery reads and updates.
#[derive(Debug)]
pub struct Index {
    path: PathBuf,
    /// When the loaded index was built, in ns since the epoch (`None`: nothing loaded).
    built: Option<i128>,
    /// When this discovery started: what a rewritten index says it was built at, since every
    /// stat it records was taken later.
    now: i128,
    euid: u32,
    dirs: Dirs,
    dirty: bool,
}

/// Hashed with fixed keys: std's random ones come from getrandom(2), a syscall per go call.
type Dirs = HashMap<Vec<u8>, Dir, BuildHasherDefault<std::collections::hash_map::DefaultHasher>>;

fn now_ns() -> i128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128)
}

impl Index {
    /// The index at `path`, or an empty one where there is none this caller can trust.
    pub fn load(path: PathBuf) -> Index {
        let euid = nix::unistd::geteuid().as_raw();
        let mut index = Index {
            path,
            built: None,
            now: now_ns(),
            euid,
            dirs: Dirs::default(),
            dirty: false,
        };
        if let Some(text) = read_trusted(&index.path, euid) {
            index.parse(&text);
        }
        index
    }

    fn parse(&mut self, text: &str) {
        let mut lines = text.lines();
        if lines.next() != Some(MAGIC) {
            return;
        }
        let Some(built) = lines
            .next()
            .and_then(|l| l.strip_prefix("built "))
            .and_then(|b| b.parse().ok())
        else {
            return;
        };
        let mut dirs = Dirs::default();
        let mut current: Option<&mut Dir> = None;
        for line in lines {
            let mut f = line.splitn(3, '\t');
            let (Some(kind), Some(a), b) = (f.next(), f.next(), f.next()) else {
                return;
            };
            match kind {
                // A directory: its path and its stamp.
                "d" => {
                    let Some(stamp) = b.and_then(Stamp::decode) else {
                        return;
                    };
                    let dir = dirs.entry(a.as_bytes().to_vec()).or_default();
                    dir.stamp = Some(stamp);
                    current = Some(dir);
                }
                // An entry without VERSION.
                "n" => match current.as_deref_mut() {
                    Some(d) => d.entries.push((a.as_bytes().to_vec(), Entry::NoVersion)),
                    None => return,
                },
                // An entry with VERSION: name, then "stamp\tgo\ttoolchain".
                "v" => {
                    let Some(rest) = b else { return };
                    let mut r = rest.splitn(3, '\t');
                    let (Some(stamp), Some(go), name) = (
                        r.next().and_then(Stamp::decode),
                        r.next().map(|g| g == "1"),
                        r.next().map(str::to_string),
                    ) else {
                        return;
                    };
                    let name = name.filter(|n| !n.is_empty());
                    match current.as_deref_mut() {
                        Some(d) => d
                            .entries
                            .push((a.as_bytes().to_vec(), Entry::Version { stamp, name, go })),
                        None => return,
                    }
                }
                _ => return,
            }
        }
        self.built = Some(built);
        self.dirs = dirs;
    }

    /// Whether something last changed at `ctime` (and `mtime`) cannot have changed again
    /// unseen since the index was built.
    fn settled(&self, stamp: &Stamp) -> bool {
        self.built
            .is_some_and(|b| stamp.ctime.max(stamp.mtime) < b - MARGIN_NS)
    }

    /// The entry names recorded for the directory `dir` whose stamp is now `stamp`, where the
    /// directory cannot have changed since: its listing then is the one recorded.
    pub fn listing(&self, dir: &[u8], stamp: &Stamp) -> Option<Vec<Vec<u8>>> {
        let d = self.dirs.get(dir)?;
        (d.stamp.as_ref() == Some(stamp) && stamp.uid == self.euid && self.settled(stamp))
            .then(|| d.entries.iter().map(|(n, _)| n.clone()).collect())
    }

    /// What `name` in `dir` was found to be, where that can be reused for a `VERSION` file
    /// whose stamp is now `stamp`: the same stamp, settled, and the caller's own file.
    pub fn known(&self, dir: &[u8], name: &[u8], now: &Stamp) -> Option<&Entry> {
        let (_, e) = self
            .dirs
            .get(dir)?
            .entries
            .iter()
            .find(|(n, _)| n == name)?;
        match e {
            Entry::Version { stamp, .. }
                if stamp == now && stamp.uid == self.euid && self.settled(stamp) =>
            {
                Some(e)
            }
            _ => None,
        }
    }

    /// Records what `dir` (now `stamp`) holds, as this discovery found it.
    pub fn record(&mut self, dir: &[u8], stamp: Stamp, entries: Vec<(Vec<u8>, Entry)>) {
        let new = Dir {
            stamp: Some(stamp),
            entries,
        };
        let old = self.dirs.get(dir);
        // Rewritten where it changed, and where something that was too recent to trust has
        // become old enough: the index written now, built `now`, trusts it.
        let unsettled = |s: &Stamp| s.ctime.max(s.mtime) >= self.built.unwrap_or(0) - MARGIN_NS;
        let ripened = |s: &Stamp| s.ctime.max(s.mtime) < self.now - MARGIN_NS;
        let ripe = |s: &Stamp| unsettled(s) && ripened(s);
        let changed = old.is_none_or(|o| o.stamp != new.stamp || o.entries != new.entries)
            || ripe(&stamp)
            || new.entries.iter().any(|(_, e)| match e {
                Entry::Version { stamp, .. } => ripe(stamp),
                Entry::NoVersion => false,
            });
        if changed {
            self.dirty = true;
            self.dirs.insert(dir.to_vec(), new);
        }
    }

    /// Writes the index where this discovery changed it (atomically: a concurrent reader sees
    /// the old or the new one). A failure only costs the next call the reads.
    pub fn store(&self) {
        if !self.dirty {
            return;
        }
        let mut text = format!("{MAGIC}\nbuilt {}\n", self.now);
        let mut dirs: Vec<_> = self.dirs.iter().collect();
        dirs.sort_by(|a, b| a.0.cmp(b.0));
        for (path, dir) in dirs {
            let (Ok(p), Some(stamp)) = (std::str::from_utf8(path), dir.stamp) else {
                continue;
            };
            if p.contains(['\t', '\n']) {
                continue;
            }
            text.push_str(&format!("d\t{p}\t{}\n", stamp.encode()));
            for (name, e) in &dir.entries {
                let Ok(n) = std::str::from_utf8(name) else {
                    continue;
                };
                if n.contains(['\t', '\n']) {
                    continue;
                }
                match e {
                    Entry::NoVersion => text.push_str(&format!("n\t{n}\n")),
                    Entry::Version { stamp, name, go } => text.push_str(&format!(
                        "v\t{n}\t{}\t{}\t{}\n",
                        stamp.encode(),
                        u8::from(*go),
                        name.as_deref().unwrap_or("")
                    )),
                }
            }
        }
        let _ = write_atomically(&self.path, text.as_bytes());
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("/"));
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let tmp = dir.join(format!(".toolchains.{}.tmp", std::process::id()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(&tmp)
        .and_then(|mut f| f.write_all(bytes))
        .and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// The file's text, if it is a regular file of `euid`'s that nobody else can write; opened
/// without following a symlink and without blocking on a FIFO, checked on the open file.
fn read_trusted(path: &Path, euid: u32) -> Option<String> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK)
        .open(path)
        .ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.uid() != euid || meta.mode() & 0o022 != 0 || meta.len() > MAX_BYTES {
        return None;
    }
    let mut text = String::with_capacity(meta.len() as usize);
    file.take(MAX_BYTES).read_to_string(&mut text).ok()?;
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(t: i128) -> Stamp {
        Stamp {
            dev: 1,
            ino: 2,
            size: 3,
            mtime: t,
            ctime: t,
            uid: nix::unistd::geteuid().as_raw(),
        }
    }

    #[test]
    fn round_trip_and_the_racy_margin() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("c/toolchains.index");
        let mut a = Index::load(path.clone());
        let old = stamp(a.now - 10 * MARGIN_NS);
        let recent = stamp(a.now - MARGIN_NS / 2);
        let v = |s, n: &str| Entry::Version {
            stamp: s,
            name: Some(n.to_string()),
            go: true,
        };
        a.record(
            b"/d",
            old,
            vec![
                (b"go1".to_vec(), v(old, "go1.22.1")),
                (b"new".to_vec(), v(recent, "go1.23.0")),
                (b"x".to_vec(), Entry::NoVersion),
            ],
        );
        a.store();
        let b = Index::load(path.clone());
        assert_eq!(
            b.listing(b"/d", &old),
            Some(vec![b"go1".to_vec(), b"new".to_vec(), b"x".to_vec()])
        );
        assert_eq!(b.listing(b"/d", &recent), None, "another stamp");
        assert_eq!(b.known(b"/d", b"go1", &old), Some(&v(old, "go1.22.1")));
        assert_eq!(b.known(b"/d", b"go1", &recent), None);
        assert_eq!(b.known(b"/d", b"new", &recent), None, "too recent to trust");
        let other = Stamp { uid: 12345, ..old };
        let mut c = Index::load(path.clone());
        c.record(b"/e", old, vec![(b"o".to_vec(), v(other, "go1.1"))]);
        c.dirty = true;
        c.store();
        assert_eq!(
            Index::load(path).known(b"/e", b"o", &other),
            None,
            "another owner's file"
        );
    }

    #[test]
    fn damaged_indexes_are_empty() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("toolchains.index");
        for text in [
            "",
            "other\n",
            "gowarden-toolchain-index 1\nbuilt x\n",
            "gowarden-toolchain-index 1\nbuilt 5\nn\tx\n",
            "gowarden-toolchain-index 1\nbuilt 5\nd\t/d\t1 2\n",
        ] {
            std::fs::write(&path, text).unwrap();
            let i = Index::load(path.clone());
            assert!(i.built.is_none() && i.dirs.is_empty(), "{text:?}");
        }
    }
}
