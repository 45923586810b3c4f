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
//! or a second on some file systems), so a change made within [`MARGIN_NS`] of the moment the
//! index was built may not change them: anything that changed that recently is checked by its
//! contents on every call until it is older ("racily clean", as git calls it; [`Stamp`] and
//! the margin live in [`crate::stamp`], shared with the compiled-policy cache).
//!
//! The index lives in the caller's cache dir, which the caller can write: a version is reused
//! only from a `VERSION` file the caller owns (who could as well rewrite the file itself); one
//! owned by anyone else is read on every call. A listing is reused for a directory the caller
//! owns (who could as well add or remove its entries) or root owns (`/usr/lib`, `/opt`): a
//! forged listing can only hide a toolchain from its forger, since every name it lists is
//! still looked up in the directory itself, and hiding one only leaves the policy fewer to
//! choose from.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::path::{Path, PathBuf};

#[cfg(doc)]
use crate::stamp::MARGIN_NS;
pub use crate::stamp::Stamp;
use crate::stamp::now_ns;

const MAGIC: &str = "gowarden-toolchain-index 1";
/// An index larger than this is not read (a thousand toolchains are about 100 kB).
const MAX_BYTES: u64 = 1 << 20;

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
    /// When what is recorded of the directory was learned (ns since the epoch): every stat
    /// recorded was taken after it, so anything that last changed [`MARGIN_NS`] before it
    /// would show any later change in its stamp.
    built: i128,
    entries: Vec<(Vec<u8>, Entry)>,
}

/// The index one discovery reads and updates.
#[derive(Debug)]
pub struct Index {
    path: PathBuf,
    /// When this discovery started: when what it records was learned, since every stat it
    /// records was taken later.
    now: i128,
    euid: u32,
    dirs: Dirs,
    /// The loaded text of each directory not parsed yet (its `d` line and its entries):
    /// discovery parses only the directories it lists, and writes the others back as read.
    raw: Raw,
    text: String,
    dirty: bool,
}

type Raw = HashMap<
    Vec<u8>,
    std::ops::Range<usize>,
    BuildHasherDefault<std::collections::hash_map::DefaultHasher>,
>;

/// Hashed with fixed keys: std's random ones come from getrandom(2), a syscall per go call.
type Dirs = HashMap<Vec<u8>, Dir, BuildHasherDefault<std::collections::hash_map::DefaultHasher>>;

impl Index {
    /// The index at `path`, or an empty one where there is none this caller can trust.
    pub fn load(path: PathBuf) -> Index {
        let euid = nix::unistd::geteuid().as_raw();
        let mut index = Index {
            path,
            now: now_ns(),
            euid,
            dirs: Dirs::default(),
            raw: Raw::default(),
            text: String::new(),
            dirty: false,
        };
        if let Some(text) = crate::atomic_file::read_own(&index.path, MAX_BYTES) {
            index.split(text);
        }
        index
    }

    /// Finds each directory's block in `text` (its `d` line to the next), parsing nothing
    /// else; a damaged header leaves the index empty.
    fn split(&mut self, text: String) {
        let Some(rest) = text.strip_prefix(MAGIC).and_then(|r| r.strip_prefix('\n')) else {
            return;
        };
        let body = text.len() - rest.len();
        let mut raw = Raw::default();
        let mut current: Option<(Vec<u8>, usize)> = None;
        let mut at = body;
        for line in text[body..].split_inclusive('\n') {
            if let Some(d) = line.strip_prefix("d\t") {
                if let Some((path, start)) = current.take() {
                    raw.insert(path, start..at);
                }
                let Some((path, _)) = d.split_once('\t') else {
                    return;
                };
                current = Some((path.as_bytes().to_vec(), at));
            } else if current.is_none() {
                return;
            }
            at += line.len();
        }
        if let Some((path, start)) = current {
            raw.insert(path, start..at);
        }
        self.raw = raw;
        self.text = text;
    }

    /// Parses the block of `dir`, where it was loaded and not parsed yet. A damaged block is
    /// dropped: that directory is listed and read as if never indexed.
    pub fn prepare(&mut self, dir: &[u8]) {
        let Some(range) = self.raw.remove(dir) else {
            return;
        };
        if let Some(parsed) = parse_dir(&self.text[range]) {
            self.dirs.insert(dir.to_vec(), parsed);
        }
    }

    /// The entry names recorded for the directory `dir` whose stamp is now `stamp`, where the
    /// directory cannot have changed since: its listing then is the one recorded.
    pub fn listing(&self, dir: &[u8], stamp: &Stamp) -> Option<Vec<Vec<u8>>> {
        let d = self.dirs.get(dir)?;
        let owner_ok = stamp.uid == self.euid || stamp.uid == 0;
        (d.stamp.as_ref() == Some(stamp) && owner_ok && stamp.settled(d.built))
            .then(|| d.entries.iter().map(|(n, _)| n.clone()).collect())
    }

    /// What `name` in `dir` was found to be, where that can be reused for a `VERSION` file
    /// whose stamp is now `stamp`: the same stamp, settled, and the caller's own file.
    pub fn known(&self, dir: &[u8], name: &[u8], now: &Stamp) -> Option<&Entry> {
        let d = self.dirs.get(dir)?;
        let entries = &d.entries;
        // Recorded in listing order, which is name order.
        let (_, e) = &entries[entries
            .binary_search_by(|(n, _)| n.as_slice().cmp(name))
            .ok()?];
        match e {
            Entry::Version { stamp, .. }
                if stamp == now && stamp.uid == self.euid && stamp.settled(d.built) =>
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
            built: self.now,
            entries,
        };
        let old = self.dirs.get(dir);
        // Rewritten where it changed, and where something that was too recent to trust has
        // become old enough: the index written now, built `now`, trusts it.
        let unsettled = |s: &Stamp| old.is_none_or(|o| !s.settled(o.built));
        let ripened = |s: &Stamp| s.settled(self.now);
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
        let mut text = format!("{MAGIC}\n");
        // Directories this call did not list, as loaded (each with the time it was learned).
        for range in self.raw.values() {
            text.push_str(&self.text[range.clone()]);
        }
        let mut dirs: Vec<_> = self.dirs.iter().collect();
        dirs.sort_by(|a, b| a.0.cmp(b.0));
        for (path, dir) in dirs {
            let (Ok(p), Some(stamp)) = (std::str::from_utf8(path), dir.stamp) else {
                continue;
            };
            if p.contains(['\t', '\n']) {
                continue;
            }
            text.push_str(&format!("d\t{p}\t{}\t{}\n", stamp.encode(), dir.built));
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

/// One directory's block: its `d` line, then one line per entry.
fn parse_dir(block: &str) -> Option<Dir> {
    let mut lines = block.lines();
    let (_, rest) = lines.next()?.strip_prefix("d\t")?.split_once('\t')?;
    let (stamp, built) = rest.split_once('\t')?;
    let mut dir = Dir {
        stamp: Some(Stamp::decode(stamp)?),
        built: built.parse().ok()?,
        entries: Vec::new(),
    };
    for line in lines {
        let (kind, rest) = line.split_once('\t')?;
        match kind {
            // An entry without VERSION.
            "n" => dir
                .entries
                .push((rest.as_bytes().to_vec(), Entry::NoVersion)),
            // An entry with VERSION: its name, stamp, whether bin/go was there, toolchain.
            "v" => {
                let mut f = rest.splitn(4, '\t');
                let (Some(name), Some(stamp), Some(go), Some(tc)) =
                    (f.next(), f.next(), f.next(), f.next())
                else {
                    return None;
                };
                dir.entries.push((
                    name.as_bytes().to_vec(),
                    Entry::Version {
                        stamp: Stamp::decode(stamp)?,
                        name: (!tc.is_empty()).then(|| tc.to_string()),
                        go: go == "1",
                    },
                ));
            }
            _ => return None,
        }
    }
    Some(dir)
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("/"));
    crate::userdirs::create_private_dir(dir)?;
    crate::atomic_file::replace(path, bytes, crate::atomic_file::Options::PRIVATE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stamp::MARGIN_NS;

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
        let mut b = Index::load(path.clone());
        assert_eq!(b.listing(b"/d", &old), None, "not parsed yet");
        b.prepare(b"/d");
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
        c.store();
        let mut d = Index::load(path);
        d.prepare(b"/e");
        assert_eq!(d.known(b"/e", b"o", &other), None, "another owner's file");
        d.prepare(b"/d");
        assert_eq!(
            d.known(b"/d", b"go1", &old),
            Some(&v(old, "go1.22.1")),
            "a directory the last call did not list is kept as it was"
        );
    }

    #[test]
    fn damaged_indexes_are_empty() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("toolchains.index");
        for text in [
            "",
            "other\n",
            "gowarden-toolchain-index 1\nn\tx\n",
            "gowarden-toolchain-index 1\nd\t/d\t1 2 3 4 5\t7\n",
            "gowarden-toolchain-index 1\nd\t/d\t1 2 3 4 5 6\tx\n",
            "gowarden-toolchain-index 1\nd\t/d\t1 2 3 4 5 6\t7\nv\tgo\t1 2\t1\tgo1.2\n",
        ] {
            std::fs::write(&path, text).unwrap();
            let mut i = Index::load(path.clone());
            i.prepare(b"/d");
            assert!(i.dirs.is_empty(), "{text:?}");
        }
    }
}
