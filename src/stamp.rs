//! A file's identity as `stat` gives it, and when it may stand for the file's contents.
//!
//! A cache keyed by a file's stamp is reused only while the file has the same stamp (device,
//! inode, size, nanosecond mtime and ctime, owner: an in-place rewrite changes the times, a
//! rewrite by rename the inode). A file's timestamps come from a coarse clock (a tick, or a
//! second on some file systems), so a change made within [`MARGIN_NS`] of the moment the
//! contents were read may not change them: a stamp that recent is not trusted, and the
//! contents are checked on every call until the file is older ("racily clean", as git calls
//! it). Used by the toolchain index and the compiled-policy cache.

use std::os::unix::fs::MetadataExt;

/// Larger than any file-timestamp granularity Linux file systems use (ext4, xfs, btrfs,
/// tmpfs: a clock tick; ext3 with small inodes, some network file systems: a second; FAT's
/// mtime: two).
pub const MARGIN_NS: i128 = 3_000_000_000;

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

/// Now, in nanoseconds since the epoch (CLOCK_REALTIME, the clock file times come from).
pub fn now_ns() -> i128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128)
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

    /// The stamp of an opened file's metadata (std's fstat).
    pub fn of_meta(m: &std::fs::Metadata) -> Stamp {
        Stamp {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size() as i64,
            mtime: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
            ctime: i128::from(m.ctime()) * 1_000_000_000 + i128::from(m.ctime_nsec()),
            uid: m.uid(),
        }
    }

    /// Whether a file last changed at this stamp cannot have changed again unseen since
    /// `built`, a moment after its contents were read: any later change would show in its
    /// times.
    pub fn settled(&self, built: i128) -> bool {
        self.ctime.max(self.mtime) < built - MARGIN_NS
    }

    pub fn encode(&self) -> String {
        format!(
            "{} {} {} {} {} {}",
            self.dev, self.ino, self.size, self.mtime, self.ctime, self.uid
        )
    }

    /// The six numbers [`Stamp::encode`] writes, parsed by hand: this runs a hundred times
    /// per call with a hundred toolchains, and `str::parse` with a split cost 2 µs each.
    pub fn decode(s: &str) -> Option<Stamp> {
        let mut w = s.as_bytes().split(|&b| b == b' ');
        let mut next = || -> Option<i128> {
            let digits = w.next()?;
            let (neg, digits) = match digits.split_first() {
                Some((b'-', rest)) => (true, rest),
                _ => (false, digits),
            };
            if digits.is_empty() || digits.len() > 20 {
                return None;
            }
            // In u64: every field fits (nanoseconds do until 2554), and i128 arithmetic,
            // six numbers for each of a hundred toolchains, was a tenth of discovery.
            let mut v: u64 = 0;
            for &d in digits {
                if !d.is_ascii_digit() {
                    return None;
                }
                v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
            }
            let v = i128::from(v);
            Some(if neg { -v } else { v })
        };
        let stamp = Stamp {
            dev: u64::try_from(next()?).ok()?,
            ino: u64::try_from(next()?).ok()?,
            size: i64::try_from(next()?).ok()?,
            mtime: next()?,
            ctime: next()?,
            uid: u32::try_from(next()?).ok()?,
        };
        next().is_none().then_some(stamp)
    }

    /// The stamp in [`Stamp::BYTES`] little-endian bytes, for binary headers.
    pub fn to_bytes(&self) -> [u8; Stamp::BYTES] {
        let mut out = [0; Stamp::BYTES];
        out[0..8].copy_from_slice(&self.dev.to_le_bytes());
        out[8..16].copy_from_slice(&self.ino.to_le_bytes());
        out[16..24].copy_from_slice(&self.size.to_le_bytes());
        out[24..40].copy_from_slice(&self.mtime.to_le_bytes());
        out[40..56].copy_from_slice(&self.ctime.to_le_bytes());
        out[56..60].copy_from_slice(&self.uid.to_le_bytes());
        out
    }

    pub fn from_bytes(b: &[u8; Stamp::BYTES]) -> Stamp {
        let u64_at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().unwrap_or_default());
        let i128_at = |i: usize| i128::from_le_bytes(b[i..i + 16].try_into().unwrap_or_default());
        Stamp {
            dev: u64_at(0),
            ino: u64_at(8),
            size: u64_at(16) as i64,
            mtime: i128_at(24),
            ctime: i128_at(40),
            uid: u32::from_le_bytes(b[56..60].try_into().unwrap_or_default()),
        }
    }

    pub const BYTES: usize = 60;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_encodings_round_trip() {
        let s = Stamp {
            dev: u64::MAX,
            ino: 7,
            size: -1,
            mtime: -3,
            ctime: 1_700_000_000_123_456_789,
            uid: 4242,
        };
        assert_eq!(Stamp::decode(&s.encode()), Some(s));
        assert_eq!(Stamp::from_bytes(&s.to_bytes()), s);
    }

    #[test]
    fn a_stamp_is_settled_only_past_the_margin() {
        let at = |t: i128| Stamp {
            dev: 1,
            ino: 2,
            size: 3,
            mtime: t,
            ctime: t,
            uid: 0,
        };
        let built = 100 * MARGIN_NS;
        assert!(at(built - MARGIN_NS - 1).settled(built));
        assert!(!at(built - MARGIN_NS).settled(built));
        let future_mtime = Stamp {
            mtime: built,
            ..at(0)
        };
        assert!(
            !future_mtime.settled(built),
            "an mtime set ahead counts too"
        );
    }
}
