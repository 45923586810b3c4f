//! The chain's tip, kept in the lock file: the seq and line hash of the last record an append
//! wrote, with the identity and length the log had right after it.
//!
//! An append needs the previous record's seq and hash. Reading the log's last 4 KiB and
//! parsing the last line's JSON for them was a fifth of the shim's audit cost; the lock file
//! is open and locked anyway, so the last appender leaves them there. They are used only
//! while the log is the same file (device, inode) with the same length as right after that
//! append: any other appender, a crash between the log's write and the tip's, a rotation,
//! a truncation or a repair by hand changes one of them, and the append reads backwards from
//! the end as before. A torn or damaged tip fails its checksum and is ignored likewise.
//!
//! A line edited in place at the same length is not noticed here, and need not be: the next
//! record then chains to the hash of the line as it was written, so `gowarden audit verify`
//! reports the edit (reading the log, it would have chained to the edited line instead).

use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};

const MAGIC: &str = "gowarden-tip 1";

/// What the last append left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Tip {
    pub seq: u64,
    pub sha256: String,
}

/// The log's identity and length, as the tip records them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct At {
    pub dev: u64,
    pub ino: u64,
    pub len: u64,
}

impl At {
    pub fn of(meta: &std::fs::Metadata) -> At {
        At {
            dev: meta.dev(),
            ino: meta.ino(),
            len: meta.len(),
        }
    }
}

/// The tip in `lock`, if it describes the log as it is now (`now`).
pub(super) fn read(lock: &File, now: At) -> Option<Tip> {
    let mut buf = [0u8; 256];
    let n = lock.read_at(&mut buf, 0).ok()?;
    let line = buf[..n].split(|&b| b == b'\n').next()?;
    let text = std::str::from_utf8(line).ok()?;
    let (fields, check) = text.rsplit_once(' ')?;
    if check != checksum(fields) {
        return None;
    }
    let mut f = fields.strip_prefix(MAGIC)?.strip_prefix(' ')?.split(' ');
    let mut num = || f.next()?.parse::<u64>().ok();
    let at = At {
        dev: num()?,
        ino: num()?,
        len: num()?,
    };
    let seq = num()?;
    let sha256 = f.next()?;
    let valid_hash = sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit());
    (at == now && at.len > 0 && valid_hash && f.next().is_none()).then(|| Tip {
        seq,
        sha256: sha256.to_string(),
    })
}

/// Leaves `tip` in `lock` for the next append, the log being `at` after this one. A failure
/// only costs the next append its read of the log's end.
pub(super) fn write(lock: &File, at: At, tip: &Tip) {
    let fields = format!(
        "{MAGIC} {} {} {} {} {}",
        at.dev, at.ino, at.len, tip.seq, tip.sha256
    );
    let line = format!("{fields} {}\n", checksum(&fields));
    // Written over the old one in place: the format has a fixed shape, and what a shorter line
    // leaves after its newline is never read.
    let _ = lock.write_at(line.as_bytes(), 0);
}

/// 16 hex digits of the fields' SHA-256: a torn write mixing two tips fails it.
fn checksum(fields: &str) -> String {
    super::chain::line_sha256(fields.as_bytes())[..16].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tip() -> Tip {
        Tip {
            seq: 41,
            sha256: "ab".repeat(32),
        }
    }

    #[test]
    fn a_tip_is_read_back_only_for_the_log_it_describes() {
        let dir = tempfile::tempdir().unwrap();
        let lock = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.path().join("log.lock"))
            .unwrap();
        let at = At {
            dev: 7,
            ino: 1234,
            len: 5000,
        };
        assert_eq!(read(&lock, at), None, "empty");
        write(&lock, at, &tip());
        assert_eq!(read(&lock, at), Some(tip()));
        for other in [
            At { len: 5001, ..at },
            At { ino: 1235, ..at },
            At { dev: 8, ..at },
        ] {
            assert_eq!(read(&lock, other), None, "{other:?}");
        }
        // A longer tip over it, then a shorter one: the old tail after the newline is ignored.
        let long = At {
            len: 123_456_789,
            ..at
        };
        write(
            &lock,
            long,
            &Tip {
                seq: 1 << 40,
                ..tip()
            },
        );
        write(&lock, at, &tip());
        assert_eq!(read(&lock, at), Some(tip()));
    }

    #[test]
    fn a_damaged_tip_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.lock");
        let at = At {
            dev: 7,
            ino: 1234,
            len: 5000,
        };
        let lock = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .unwrap();
        write(&lock, at, &tip());
        let good = std::fs::read_to_string(&path).unwrap();
        // One digit of the seq changed (as a write torn between two tips would leave it).
        let bad = good.replacen(" 41 ", " 42 ", 1);
        assert_ne!(bad, good);
        std::fs::write(&path, &bad).unwrap();
        assert_eq!(read(&lock, at), None);
        std::fs::write(&path, &good[..good.len() - 5]).unwrap();
        assert_eq!(read(&lock, at), None, "cut short");
        std::fs::write(
            &path,
            "gowarden-tip 1 7 1234 5000 41 xyz 0000000000000000\n",
        )
        .unwrap();
        assert_eq!(read(&lock, at), None);
    }
}
