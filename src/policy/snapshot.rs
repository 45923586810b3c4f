//! The compiled-policy cache: what a policy's TOML parses into, kept between go calls.
//!
//! Parsing and checking the policy was most of a shim call's own work (the enterprise
//! example: 56 % of 2 million instructions; 200 deny rules: 1.2 ms). A snapshot holds the
//! TOML document tree the parser built (every key, value and byte span), and a call builds
//! the `Policy` straight from its bytes ([`de`], a deserializer that hands serde what toml's
//! does) instead of lexing the text again: the `Policy` it gives, spans included, is the one
//! `toml::from_str` gives, and every `file:line` message is the same. A snapshot is written only for a policy that passed every check, so one served from
//! it is not checked again.
//!
//! Trust, in this order (docs/performance.md has the whole design):
//! - **Keyed by contents, served by stamp.** The header holds SHA-256 over this build's id
//!   (build.rs: a hash of the sources) and the policy's origin (kind and path), and the
//!   length and SHA-256 of the text it was made from. It also records the policy file's
//!   [`Stamp`] from the fstat the loader's trust checks make, where that stamp is trusted:
//!   the file's times older than [`crate::stamp::MARGIN_NS`] before the text was read (a
//!   coarse file clock may hide an edit made within a tick of the last; none can hide one
//!   since). A call whose fstat gives that very stamp takes the policy without reading the
//!   text ([`Found::by_stamp`]); any other reads the text and matches its digest
//!   ([`Found::by_contents`]), so any change of the text, however small or soon, or of the
//!   binary misses; a hit by contents on a file now old enough records its stamp
//!   ([`Found::restamp`]).
//! - **No more forgeable than the policy.** A snapshot is honoured only if it and every
//!   directory above it are owned by root or by someone who could already change the policy
//!   in force (the policy file's owner; for a policy the caller chose, the caller) and are
//!   writable by nobody else, sudo's rule as the policy loader applies it. The system policy's
//!   snapshots live in [`SYSTEM_CACHE`], only if that directory exists, written only by root.
//! - **Never fatal.** A missing, foreign, truncated or corrupt snapshot, or a cache dir that
//!   cannot be written, means the policy is parsed as without a cache; the reason goes to the
//!   `GOWARDEN_LOG` diagnostics, never to stdout. Writes go to a temp file renamed into place.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

mod de;
mod encode;

use super::load::PolicyOrigin;
use super::schema::Policy;
use crate::stamp::Stamp;

/// The build this binary is: snapshots of other builds are not read (see build.rs).
const BUILD_ID: &str = env!("GOWARDEN_BUILD_ID");

/// The file format; the build id changes with any change of it too.
const MAGIC: &[u8; 8] = b"GWPOLS\x00\x03";

// The header: MAGIC, the policy file's stamp (all zero where it is not trusted), a checksum
// of everything after it, the ident (SHA-256 of build id and origin), the text's length and
// SHA-256, the payload's length (numbers little-endian). The stamp is outside the checksum,
// so a call can record it without touching the rest, and a damaged one can only fail to
// match. tests/it/policy_cache.rs forges snapshots with this layout.
const STAMP: usize = 8;
const CHECKSUM: usize = STAMP + Stamp::BYTES;
const IDENT: usize = CHECKSUM + 8;
const TEXT_LEN: usize = IDENT + 32;
const DIGEST: usize = TEXT_LEN + 8;
const PAYLOAD_LEN: usize = DIGEST + 32;
const HEADER: usize = PAYLOAD_LEN + 8;

/// Where root keeps snapshots of the system policy. Never created by the shim: `install.sh
/// --system` or the admin makes it (root, 0755); without it the system policy is parsed.
pub const SYSTEM_CACHE: &str = "/var/cache/gowarden";

/// The policy a snapshot stands for: where it came from, the uid that owns its file, and
/// the file's stamp from the fstat its trust checks made.
pub struct Source<'a> {
    pub origin: &'a PolicyOrigin,
    pub owner: u32,
    pub stamp: Stamp,
}

impl Source<'_> {
    /// SHA-256 over this build's id and the policy's origin: what a snapshot must match
    /// besides the policy's text (or stamp).
    fn ident(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(BUILD_ID.as_bytes());
        h.update([0]);
        h.update(self.origin.kind().as_bytes());
        h.update([0]);
        if let Some(p) = self.origin.path() {
            h.update(p.as_os_str().as_encoded_bytes());
        }
        h.finalize().into()
    }

    /// The snapshot's directory, and whether this process may create it.
    fn dir(&self) -> Option<(PathBuf, bool)> {
        match self.origin {
            PolicyOrigin::System(_) => Some((system_cache_dir()?, false)),
            _ => Some((crate::userdirs::cache_dir()?.join("gowarden/policy"), true)),
        }
    }

    /// One file per policy location, so an edited policy replaces its old snapshot.
    fn file_name(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.origin.kind().as_bytes());
        h.update([0]);
        if let Some(p) = self.origin.path() {
            h.update(p.as_os_str().as_encoded_bytes());
        }
        let digest = h.finalize();
        format!("{}.snapshot", crate::hex::encode(&digest[..12]))
    }

    /// Who may own a snapshot (and the directories above it) that stands for this policy.
    fn owners(&self) -> [u32; 3] {
        match self.origin {
            // Root's file, root's snapshot: nobody else may stand in for it.
            PolicyOrigin::System(_) => [0, 0, 0],
            // A policy the caller chose (GOWARDEN_POLICY, their config dir) is one the
            // caller could replace anyway.
            _ => [0, self.owner, nix::unistd::getuid().as_raw()],
        }
    }

    /// The stamp to record for a text this call read at `read_at` (a clock read after the
    /// read): only one no change can hide behind, that is, one whose times are older than
    /// the margin and whose size is the text's (no change between the fstat and the read).
    fn trusted_stamp(&self, text: &str, read_at: i128) -> Option<Stamp> {
        (self.stamp.settled(read_at) && self.stamp.size == text.len() as i64).then_some(self.stamp)
    }
}

/// The system policy snapshots' directory. Only the test-hooks build can move it, and only
/// with the system policy moved too: tests running as root must not write the machine's.
fn system_cache_dir() -> Option<PathBuf> {
    #[cfg(feature = "test-hooks")]
    if crate::environ::var_os(crate::envvars::TEST_SYSTEM_POLICY).is_some() {
        return crate::environ::var_os(crate::envvars::TEST_SYSTEM_CACHE).map(PathBuf::from);
    }
    Some(PathBuf::from(SYSTEM_CACHE))
}

/// What a snapshot gives back: the policy, where each line of its text starts, and the
/// length and SHA-256 of that text (all a call served by the stamp knows of it).
#[derive(Debug)]
pub struct Snapshot {
    pub policy: Policy,
    pub line_starts: Vec<usize>,
    pub text_len: usize,
    pub text_sha256: [u8; 32],
}

/// A snapshot file that passed the owner checks and has this format's header, not yet
/// matched to the policy.
pub struct Found {
    path: PathBuf,
    bytes: Vec<u8>,
}

/// The trusted snapshot file that stands for `source`'s location, if there is one.
pub fn find(source: &Source) -> Option<Found> {
    let (dir, _) = source.dir()?;
    let path = dir.join(source.file_name());
    match read_trusted(&path, &source.owners()) {
        Ok(bytes) if bytes.len() >= HEADER && &bytes[..8] == MAGIC => Some(Found { path, bytes }),
        Ok(_) => {
            tracing::debug!(
                "policy snapshot {} not used: not a policy snapshot of this format",
                path.display()
            );
            None
        }
        Err(why) => {
            tracing::debug!("policy snapshot {} not used: {why}", path.display());
            None
        }
    }
}

impl Found {
    fn ident(&self) -> &[u8] {
        &self.bytes[IDENT..TEXT_LEN]
    }

    /// The recorded stamp; `None` where the snapshot was written without a trusted one.
    fn stamp(&self) -> Option<Stamp> {
        let b: &[u8; Stamp::BYTES] = self.bytes[STAMP..CHECKSUM].try_into().ok()?;
        (b.iter().any(|&x| x != 0)).then(|| Stamp::from_bytes(b))
    }

    /// The policy, without reading its text, where the snapshot recorded a trusted stamp
    /// equal to the file's now: no change to the file since can have left its stamp alone.
    pub fn by_stamp(&self, source: &Source) -> Option<Snapshot> {
        // A trusted stamp was recorded only with a text of the file's size: a damaged length
        // must not pass for it.
        if self.stamp() != Some(source.stamp)
            || text_len(&self.bytes) as i64 != source.stamp.size
            || self.ident() != source.ident()
        {
            return None;
        }
        let snapshot = self.payload()?;
        tracing::debug!(
            "policy read from its snapshot {} by the file's stamp (text not read)",
            self.path.display()
        );
        Some(snapshot)
    }

    /// The policy, where the snapshot was made from exactly `text`.
    pub fn by_contents(&self, source: &Source, text: &str) -> Option<Snapshot> {
        if self.ident() != source.ident() {
            tracing::debug!(
                "policy snapshot {} not used: made by another build or for another origin",
                self.path.display()
            );
            return None;
        }
        let digest: [u8; 32] = Sha256::digest(text.as_bytes()).into();
        if self.bytes[DIGEST..PAYLOAD_LEN] != digest || text_len(&self.bytes) != text.len() {
            tracing::debug!(
                "policy snapshot {} not used: made from another policy text",
                self.path.display()
            );
            return None;
        }
        let snapshot = self.payload()?;
        tracing::debug!("policy read from its snapshot {}", self.path.display());
        Some(snapshot)
    }

    /// After a hit by contents: records the file's stamp where it is now trusted and the
    /// snapshot does not have it, so the next calls need not read the text.
    pub fn restamp(self, source: &Source, text: &str, read_at: i128) {
        let Some(stamp) = source.trusted_stamp(text, read_at) else {
            return;
        };
        if self.stamp() == Some(stamp) {
            return;
        }
        let mut bytes = self.bytes;
        bytes[STAMP..CHECKSUM].copy_from_slice(&stamp.to_bytes());
        let Some((dir, may_create)) = source.dir() else {
            return;
        };
        match write(source, &dir, may_create, &bytes) {
            Ok(()) => tracing::debug!(
                "policy snapshot {} given the file's stamp",
                self.path.display()
            ),
            Err(why) => tracing::debug!("policy snapshot not written in {}: {why}", dir.display()),
        }
    }

    /// The payload, checked and read; its line starts within the text it was made from.
    fn payload(&self) -> Option<Snapshot> {
        decode(&self.bytes)
            .map_err(|why| {
                tracing::debug!("policy snapshot {} not used: {why}", self.path.display())
            })
            .ok()
    }
}

fn text_len(bytes: &[u8]) -> usize {
    u64_at(bytes, TEXT_LEN) as usize
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap_or_default())
}

/// The embedded default policy's snapshot, encoded by build.rs from the text the binary embeds.
static EMBEDDED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/default-policy.snapshot"));

/// The embedded default policy, read from the snapshot built into the binary: no file, no
/// hash (text and snapshot are fixed together at build time), no checks (the test suite runs
/// them on this very text: `the_embedded_snapshot_is_the_embedded_policy`).
pub fn embedded() -> Option<(Policy, Vec<usize>)> {
    de::document(EMBEDDED)
        .map_err(|e| tracing::debug!("the embedded policy snapshot is not used: {e}"))
        .ok()
}

/// Writes the snapshot of a policy that has just parsed and passed every check, from `text`
/// read at `read_at`. Failing is only a diagnostic: the next call parses again.
pub fn store(source: &Source, text: &str, read_at: i128) {
    let Some((dir, may_create)) = source.dir() else {
        return;
    };
    let written = encode(source, text, source.trusted_stamp(text, read_at))
        .and_then(|bytes| write(source, &dir, may_create, &bytes));
    match written {
        Ok(()) => tracing::debug!(
            "policy snapshot written: {}",
            dir.join(source.file_name()).display()
        ),
        Err(why) => tracing::debug!("policy snapshot not written in {}: {why}", dir.display()),
    }
}

fn write(source: &Source, dir: &Path, may_create: bool, bytes: &[u8]) -> Result<(), String> {
    if matches!(source.origin, PolicyOrigin::System(_)) && !nix::unistd::geteuid().is_root() {
        return Err("only root writes snapshots of the system policy".into());
    }
    // Root installing for another user (a Dev Container Feature, `sudo -E`) must not leave
    // root-owned files or dirs in that user's home (userdirs::create_private_dir).
    if may_create {
        crate::userdirs::create_private_dir(dir).map_err(|e| e.to_string())?;
    }
    // A snapshot that the next call would not trust is not worth writing.
    check_dirs(dir, &source.owners())?;
    let mode = if matches!(source.origin, PolicyOrigin::System(_)) {
        0o644
    } else {
        0o600
    };
    let opts = crate::atomic_file::Options {
        mode,
        ..crate::atomic_file::Options::PRIVATE
    };
    crate::atomic_file::replace(&dir.join(source.file_name()), bytes, opts)
        .map_err(|e| e.to_string())
}

/// The snapshot's bytes, if the file and every directory above it pass the owner check.
fn read_trusted(path: &Path, owners: &[u32]) -> Result<Vec<u8>, String> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| e.to_string())?;
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    safe(&meta, owners).map_err(|why| format!("the file {why}"))?;
    check_dirs(path.parent().unwrap_or(Path::new("/")), owners)?;
    read_all(&file, meta.len())
}

/// `dir` and every directory above it, as named and, where a symlink is on the way, as
/// resolved too (whoever may change a directory holding a symlink may point the path
/// elsewhere; the link itself cannot be changed, only replaced by its directory's owner).
/// One lstat per level: resolving the path first would cost a readlink per level as well.
fn check_dirs(dir: &Path, owners: &[u32]) -> Result<(), String> {
    if !dir.is_absolute() {
        return Err(format!("{} is not an absolute path", dir.display()));
    }
    let mut linked = false;
    for d in dir.ancestors() {
        let m = std::fs::symlink_metadata(d).map_err(|e| format!("{}: {e}", d.display()))?;
        if m.file_type().is_symlink() {
            linked = true;
            continue;
        }
        safe(&m, owners).map_err(|why| format!("its directory {} {why}", d.display()))?;
    }
    if linked {
        let real = dir.canonicalize().map_err(|e| e.to_string())?;
        for d in real.ancestors() {
            let m = std::fs::metadata(d).map_err(|e| format!("{}: {e}", d.display()))?;
            safe(&m, owners).map_err(|why| format!("its directory {} {why}", d.display()))?;
        }
    }
    Ok(())
}

fn safe(m: &std::fs::Metadata, owners: &[u32]) -> Result<(), String> {
    if !owners.contains(&m.uid()) {
        return Err(format!("is owned by uid {}", m.uid()));
    }
    let mode = if m.is_dir() {
        super::load::trust_mode(m.uid(), m.mode())
    } else {
        m.mode()
    };
    if mode & 0o022 != 0 {
        return Err(format!(
            "is writable by group or others (mode {:o})",
            mode & 0o7777
        ));
    }
    Ok(())
}

fn read_all(file: &File, len: u64) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0) + 1);
    Read::take(file, u64::MAX)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    Ok(bytes)
}

// The payload: the root table's span, the table, the line starts. A value is a tag byte and
// its contents: a string (or a date) its length and UTF-8 bytes, an integer an `i64` and a
// float an `f64`'s bits (8 bytes each), a table or array the byte length of what follows,
// its count, then its entries (key span, key, value span, value) or items (span, value).
// Other numbers and spans are u32, all little-endian. The header is above (HEADER).

fn encode(source: &Source, text: &str, stamp: Option<Stamp>) -> Result<Vec<u8>, String> {
    let payload = encode::payload(text).ok_or("the policy is no TOML document")?;
    let mut out = Vec::with_capacity(HEADER + payload.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&stamp.map_or([0; Stamp::BYTES], |s| s.to_bytes()));
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&source.ident());
    out.extend_from_slice(&(text.len() as u64).to_le_bytes());
    out.extend_from_slice(&Sha256::digest(text.as_bytes()));
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&payload);
    let sum = checksum(&out[IDENT..]);
    out[CHECKSUM..IDENT].copy_from_slice(&sum.to_le_bytes());
    Ok(out)
}

/// Catches a torn or damaged snapshot (forgery is the owner check's business): 64 bits,
/// eight bytes at a time.
fn checksum(bytes: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut h = bytes.len() as u64;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().unwrap_or_default());
        h = (h.rotate_left(5) ^ w).wrapping_mul(K);
    }
    for &b in chunks.remainder() {
        h = (h.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
    }
    h ^ (h >> 29)
}

/// The payload of a snapshot whose header the caller has matched.
fn decode(bytes: &[u8]) -> Result<Snapshot, String> {
    if bytes.len() < HEADER || &bytes[..8] != MAGIC {
        return Err("not a policy snapshot of this format".into());
    }
    let payload = &bytes[HEADER..];
    if payload.len() as u64 != u64_at(bytes, PAYLOAD_LEN)
        || checksum(&bytes[IDENT..]) != u64_at(bytes, CHECKSUM)
    {
        return Err("truncated or damaged".into());
    }
    let (policy, line_starts) = de::document(payload).map_err(|e| e.to_string())?;
    let text_len = text_len(bytes);
    if line_starts.last().is_none_or(|&l| l > text_len) {
        return Err("its lines are not the text's".into());
    }
    Ok(Snapshot {
        policy,
        line_starts,
        text_len,
        text_sha256: bytes[DIGEST..PAYLOAD_LEN].try_into().unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stamp of a policy file of `len` bytes last changed at `t`.
    fn stamp(len: usize, t: i128) -> Stamp {
        Stamp {
            dev: 1,
            ino: 2,
            size: len as i64,
            mtime: t,
            ctime: t,
            uid: 0,
        }
    }

    fn source(origin: &PolicyOrigin, stamp: Stamp) -> Source<'_> {
        Source {
            origin,
            owner: 0,
            stamp,
        }
    }

    fn found(bytes: Vec<u8>) -> Found {
        Found {
            path: PathBuf::from("/test.snapshot"),
            bytes,
        }
    }

    fn round_trip(text: &str) -> Vec<u8> {
        encode(&source(&PolicyOrigin::Embedded, stamp(0, 0)), text, None).unwrap()
    }

    fn from_payload<'a, T: serde::Deserialize<'a>>(bytes: &'a [u8]) -> T {
        de::document(&bytes[HEADER..]).unwrap().0
    }

    /// A document written out with every key's and value's span, at every depth: what a
    /// `Spanned` field anywhere in a policy may ask for.
    struct Tree(String);

    /// A value without its span.
    struct Node(String);

    impl<'de> serde::Deserialize<'de> for Tree {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let s = toml::Spanned::<Node>::deserialize(d)?;
            Ok(Tree(format!("@{:?} {}", s.span(), s.into_inner().0)))
        }
    }

    impl<'de> serde::Deserialize<'de> for Node {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> serde::de::Visitor<'de> for V {
                type Value = Node;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("any TOML value")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut m: A,
                ) -> Result<Node, A::Error> {
                    let mut out = String::from("{");
                    while let Some((k, v)) = m.next_entry::<toml::Spanned<String>, Tree>()? {
                        out += &format!(" {:?}@{:?}: {},", k.get_ref(), k.span(), v.0);
                    }
                    Ok(Node(out + " }"))
                }
                fn visit_seq<A: serde::de::SeqAccess<'de>>(
                    self,
                    mut s: A,
                ) -> Result<Node, A::Error> {
                    let mut out = String::from("[");
                    while let Some(v) = s.next_element::<Tree>()? {
                        out += &format!(" {},", v.0);
                    }
                    Ok(Node(out + " ]"))
                }
                fn visit_str<E>(self, x: &str) -> Result<Node, E> {
                    Ok(Node(format!("str {x:?}")))
                }
                fn visit_i64<E>(self, x: i64) -> Result<Node, E> {
                    Ok(Node(format!("i64 {x}")))
                }
                fn visit_f64<E>(self, x: f64) -> Result<Node, E> {
                    Ok(Node(format!("f64 {x:?} {:x}", x.to_bits())))
                }
                fn visit_bool<E>(self, x: bool) -> Result<Node, E> {
                    Ok(Node(format!("bool {x}")))
                }
            }
            d.deserialize_any(V)
        }
    }

    fn policies(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                policies(&p, out);
            } else if p.extension().is_some_and(|x| x == "toml") {
                out.push(p);
            }
        }
    }

    /// Every shipped and example policy reads back from its snapshot as the very `Policy`
    /// the TOML parser makes, spans and all.
    #[test]
    fn a_snapshot_gives_the_policy_the_parser_gives() {
        let mut files = Vec::new();
        policies(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("policies"),
            &mut files,
        );
        let mut texts: Vec<(String, String)> = files
            .iter()
            .map(|f| (f.display().to_string(), std::fs::read_to_string(f).unwrap()))
            .collect();
        assert!(texts.len() >= 2, "{files:?}");
        // What the shipped ones leave out: numbers, TOML dates, one-or-many values, pins.
        texts.push((
            "more".into(),
            r#"
[audit]
max_bytes = 1_048_576
[[tier]]
name = "t"
owner = "o"
min = "1.22"
recommended = "1.23"
upgrade_by = 2030-01-31
modules = ["a/..."]
[[tier]]
name = "u"
owner = "o"
upgrade_by = "2030-02-01"
[tools]
gopls = "golang.org/x/tools/gopls@v0.16.0"
[check.binary.require]
CGO_ENABLED = "0"
"-trimpath" = ["true", "false"]
"#
            .into(),
        ));
        for (name, text) in texts {
            let parsed = toml::from_str::<Policy>(&text).unwrap();
            let origin = PolicyOrigin::File(PathBuf::from(&name));
            let src = source(&origin, stamp(text.len(), 0));
            let bytes = encode(&src, &text, None).unwrap();
            let cached = found(bytes).by_contents(&src, &text).unwrap();
            assert_eq!(
                format!("{:#?}", cached.policy),
                format!("{parsed:#?}"),
                "{name}"
            );
            let loaded = super::super::load::LoadedPolicy::new(parsed, origin, text.clone());
            for offset in 0..=text.len() {
                assert_eq!(
                    super::super::load::line_col_in(&cached.line_starts, offset),
                    loaded.line_col(offset),
                    "{name} at {offset}"
                );
            }
        }
    }

    /// The snapshot build.rs made is the embedded text's, and that text passes every check.
    #[test]
    fn the_embedded_snapshot_is_the_embedded_policy() {
        let text = super::super::load::EMBEDDED_POLICY;
        let parsed = super::super::load::parse(text.to_string(), PolicyOrigin::Embedded).unwrap();
        let (cached, _) = embedded().expect("build.rs encoded the default policy");
        assert_eq!(format!("{:#?}", cached), format!("{:#?}", parsed.policy));
        assert_eq!(EMBEDDED, &encode::payload(text).unwrap()[..]);
    }

    /// Every kind of TOML value, and the spans of keys and values, survive.
    #[test]
    fn every_value_kind_and_span_survives() {
        let text = r#"
s = "a\tb"
lit = 'c:\x'
u = "héllo ✓"
"clé" = 1
ml = """
two
lines"""
i = -1_000
h = 0xdead_BEEF
o = 0o755
b = 0b1011
f = 6.25e-3
inf = -inf
nan = nan
t = true
n = false
odt = 1979-05-27T07:32:00.999-07:00
ldt = 1979-05-27T07:32:00
ld = 1979-05-27
lt = 07:32:00.5
arr = [1, "two", [3.0], { four = 4 }]
inline = { x.y = 1, "quoted key" = [] }
[t2.sub]
k = 1
[[aot]]
v = 1
[[aot]]
v = 2
"#;
        let bytes = round_trip(text);
        let ours: toml::Value = from_payload(&bytes);
        let theirs: toml::Value = toml::from_str(text).unwrap();
        // NaN is not equal to itself: compare the printed forms.
        assert_eq!(format!("{ours:?}"), format!("{theirs:?}"));
        // Spans at every depth; dates are maps of toml's own, so they are left out here.
        let no_dates: String = text
            .lines()
            .filter(|l| !l.contains("1979-05-27") && !l.starts_with("lt ="))
            .map(|l| format!("{l}\n"))
            .collect();
        let bytes = round_trip(&no_dates);
        let ours: Tree = from_payload(&bytes);
        let theirs: Tree = toml::from_str(&no_dates).unwrap();
        assert_eq!(ours.0, theirs.0);
        let at = no_dates.find("\"quoted key\"").unwrap();
        assert!(
            ours.0
                .contains(&format!("\"quoted key\"@{:?}", at..at + 12)),
            "{}",
            ours.0
        );
    }

    /// Numbers toml would not hand over as an i64 or f64 get no snapshot (the policy is
    /// parsed on every call) rather than a different number.
    #[test]
    fn a_number_beyond_i64_gets_no_snapshot() {
        assert!(encode::payload("a = 1\n").is_some());
        assert!(encode::payload("a = 9_223_372_036_854_775_808\n").is_none());
        assert!(encode::payload("a = 0xffff_ffff_ffff_ffff\n").is_none());
        assert!(encode::payload("a = 1e400\n").is_none());
        assert!(encode::payload("a = -inf\n").is_some());
    }

    /// A snapshot serves by its stamp only the file state it recorded as trusted, by its
    /// contents only the text it was made from, and either only for its build and origin.
    #[test]
    fn a_snapshot_is_matched_by_stamp_or_by_contents() {
        let text = "[[blocked]]\nversion = \"1.26.1\"\nreason = \"r\"\n";
        let origin = PolicyOrigin::UserConfig(PathBuf::from("/h/policy.toml"));
        let now = 100 * crate::stamp::MARGIN_NS;
        let old = stamp(text.len(), now - 2 * crate::stamp::MARGIN_NS);
        let src = source(&origin, old);
        assert_eq!(src.trusted_stamp(text, now), Some(old));
        assert_eq!(src.trusted_stamp(text, old.ctime + 1), None, "too recent");
        assert_eq!(src.trusted_stamp("x", now), None, "not the size read");

        let trusted = found(encode(&src, text, src.trusted_stamp(text, now)).unwrap());
        assert!(trusted.by_stamp(&src).is_some());
        assert!(trusted.by_contents(&src, text).is_some());
        assert!(
            trusted
                .by_contents(&src, "[[blocked]]\nversion = \"1.26.2\"\n")
                .is_none()
        );
        for other in [
            Stamp { ino: 3, ..old },
            Stamp { size: 1, ..old },
            Stamp {
                mtime: old.mtime + 1,
                ..old
            },
            Stamp {
                ctime: old.ctime + 1,
                ..old
            },
            Stamp { dev: 9, ..old },
            Stamp { uid: 7, ..old },
        ] {
            assert!(
                trusted.by_stamp(&source(&origin, other)).is_none(),
                "{other:?}"
            );
        }
        let elsewhere = PolicyOrigin::EnvVar(PathBuf::from("/h/policy.toml"));
        assert!(trusted.by_stamp(&source(&elsewhere, old)).is_none());
        assert!(
            trusted
                .by_contents(&source(&elsewhere, old), text)
                .is_none()
        );

        // Written while too recent to trust: no stamp, however equal the file's is later.
        let untrusted = found(encode(&src, text, src.trusted_stamp(text, old.ctime)).unwrap());
        assert!(untrusted.by_stamp(&src).is_none());
        assert!(untrusted.by_contents(&src, text).is_some());
    }

    /// A snapshot cut short or with any byte changed is refused, never misread or a panic;
    /// a changed byte of the recorded stamp only stops it matching by stamp.
    #[test]
    fn a_damaged_snapshot_is_refused() {
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/examples/enterprise.toml"),
        )
        .unwrap();
        let origin = PolicyOrigin::Embedded;
        let src = source(&origin, stamp(text.len(), 1));
        let bytes = encode(&src, &text, Some(src.stamp)).unwrap();
        assert!(found(bytes.clone()).by_stamp(&src).is_some());
        for len in 0..bytes.len() {
            assert!(decode(&bytes[..len]).is_err(), "cut at {len}");
            if len >= HEADER {
                let cut = found(bytes[..len].to_vec());
                assert!(cut.by_stamp(&src).is_none(), "cut at {len}");
                assert!(cut.by_contents(&src, &text).is_none(), "cut at {len}");
            }
        }
        for at in (0..bytes.len()).step_by(7) {
            let mut b = bytes.clone();
            b[at] ^= 0x10;
            let damaged = found(b);
            assert!(damaged.by_stamp(&src).is_none(), "byte {at} changed");
            assert_eq!(
                damaged.by_contents(&src, &text).is_some(),
                (STAMP..CHECKSUM).contains(&at),
                "byte {at} changed"
            );
        }
    }

    /// Garbage after a valid header (a payload of another layout with a matching checksum)
    /// is refused by the reader, not trusted.
    #[test]
    fn a_payload_that_is_not_a_document_is_refused() {
        for payload in [
            &[][..],
            &[0, 0, 1][..],
            &[0, 0, 1, 0, 0, 0, 0, 0, 9][..],
            &[0xff; 12][..],
        ] {
            let mut b = MAGIC.to_vec();
            b.extend_from_slice(&[7; PAYLOAD_LEN - STAMP]);
            b.extend_from_slice(&(payload.len() as u64).to_le_bytes());
            b.extend_from_slice(payload);
            let sum = checksum(&b[IDENT..]);
            b[CHECKSUM..IDENT].copy_from_slice(&sum.to_le_bytes());
            assert!(decode(&b).is_err(), "{payload:?}");
        }
    }
}
