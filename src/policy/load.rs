//! Where the policy comes from, and whether it may be trusted.
//!
//! Precedence: the system policy (`/etc/gowarden/policy.toml`) if it exists; otherwise
//! `GOWARDEN_POLICY`, then the user's config dir, then the policy embedded in the binary.
//! While a system policy exists the user's choices are ignored unless that policy sets
//! `allow_user_policy`. The system policy is trusted only if the file and every directory
//! above it are owned by root and writable by nobody else, checked as sudo and ssh do; a
//! policy that fails the check is refused, never skipped, since skipping would let anyone who
//! can make it unsafe switch the rules off. A root-owned directory with the sticky bit (like
//! /tmp) may be writable by others: they cannot rename or remove root's entries in it.

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::ops::Range;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::schema::Policy;
use super::snapshot;
use crate::error::{Error, Result};
use crate::location::Location;

/// The policy compiled into the binary: `policies/default.toml`.
pub const EMBEDDED_POLICY: &str = include_str!("../../policies/default.toml");

const SYSTEM_POLICY: &str = "/etc/gowarden/policy.toml";

/// The environment variable naming a user-chosen policy file.
pub const POLICY_ENV: &str = crate::envvars::POLICY;

/// Where the policy in force came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyOrigin {
    System(PathBuf),
    EnvVar(PathBuf),
    UserConfig(PathBuf),
    /// A file named on the command line (`gowarden policy check FILE`).
    File(PathBuf),
    Embedded,
}

impl PolicyOrigin {
    pub fn path(&self) -> Option<&Path> {
        match self {
            PolicyOrigin::System(p)
            | PolicyOrigin::EnvVar(p)
            | PolicyOrigin::UserConfig(p)
            | PolicyOrigin::File(p) => Some(p),
            PolicyOrigin::Embedded => None,
        }
    }

    /// How to name the policy in a message that points at a line of it.
    pub fn file_name(&self) -> String {
        match self.path() {
            // What `display()` shows, without the formatting machinery: the compile names
            // the file of every rule it keeps, two dozen times a call.
            Some(p) => p.to_string_lossy().into_owned(),
            None => "<embedded default policy>".into(),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            PolicyOrigin::System(_) => "system",
            PolicyOrigin::EnvVar(_) => POLICY_ENV,
            PolicyOrigin::UserConfig(_) => "user",
            PolicyOrigin::File(_) => "file",
            PolicyOrigin::Embedded => "embedded",
        }
    }
}

impl fmt::Display for PolicyOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyOrigin::System(p) => write!(f, "{} (system policy)", p.display()),
            PolicyOrigin::EnvVar(p) => write!(f, "{} (from ${POLICY_ENV})", p.display()),
            PolicyOrigin::UserConfig(p) => write!(f, "{} (user policy)", p.display()),
            PolicyOrigin::File(p) => write!(f, "{}", p.display()),
            PolicyOrigin::Embedded => f.write_str("embedded default policy"),
        }
    }
}

/// A parsed policy with the text it came from, so rules can point at their own lines.
#[derive(Debug)]
pub struct LoadedPolicy {
    pub policy: Policy,
    pub origin: PolicyOrigin,
    pub text: PolicyText,
    /// Things the user should know about how this policy was chosen (e.g. an ignored
    /// `GOWARDEN_POLICY`); shown by `gowarden which` and `doctor`, never by the shim.
    pub notes: Vec<String>,
    /// Where each line of `text` starts.
    pub lines: LineIndex,
}

/// The policy's text, where this call read it. A call served from a snapshot by the policy
/// file's unchanged stamp (src/policy/snapshot.rs) never reads it: it knows the text's
/// length and SHA-256 from the snapshot, and its line starts, which is all that messages
/// (`file:line`) and reports (the policy's hash) need.
#[derive(Debug)]
pub enum PolicyText {
    Read(String),
    Unread { len: usize, sha256: [u8; 32] },
}

impl PolicyText {
    pub fn len(&self) -> usize {
        match self {
            PolicyText::Read(t) => t.len(),
            PolicyText::Unread { len, .. } => *len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The text, where this call read it.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            PolicyText::Read(t) => Some(t),
            PolicyText::Unread { .. } => None,
        }
    }

    /// The SHA-256 of the text: the policy's identity in drift reports and baselines.
    pub fn sha256(&self) -> [u8; 32] {
        use sha2::Digest;
        match self {
            PolicyText::Read(t) => sha2::Sha256::digest(t.as_bytes()).into(),
            PolicyText::Unread { sha256, .. } => *sha256,
        }
    }
}

/// The offsets where the lines of a text start, found on first use. Compiling a policy names
/// the line of every bound, pattern and rule it keeps (`file:line` in refusals and the audit
/// record); counting newlines from the start of the text for each one made compiling the
/// enterprise example scan its 15 kB about a hundred times per go call (0.9 of its 3.2
/// million instructions). One pass, then a binary search per location.
#[derive(Debug, Default)]
pub struct LineIndex(std::sync::OnceLock<Vec<usize>>);

impl LineIndex {
    /// The index of a text whose line starts are known (a policy snapshot keeps them).
    pub fn known(starts: Vec<usize>) -> LineIndex {
        LineIndex(std::sync::OnceLock::from(starts))
    }

    /// An unread text's index is always known: only a snapshot leaves a text unread, and it
    /// keeps the line starts.
    fn line_col(&self, text: &PolicyText, offset: usize) -> (usize, usize) {
        let starts = self
            .0
            .get_or_init(|| line_starts(text.as_str().unwrap_or_default().as_bytes()));
        line_col_in(starts, offset.min(text.len()))
    }
}

/// The 1-based line and column of `offset` in a text whose lines start at `starts` (which
/// begins with 0).
pub(super) fn line_col_in(starts: &[usize], offset: usize) -> (usize, usize) {
    // The number of line starts at or before the offset is the 1-based line.
    let line = starts.partition_point(|&s| s <= offset).max(1);
    (
        line,
        offset - starts.get(line - 1).copied().unwrap_or(0) + 1,
    )
}

/// Where each line of `text` starts. Eight bytes at a time: a policy is mostly short comment
/// lines, and a byte-by-byte scan (or a memchr call per line) of the 40 kB a policy with 200
/// deny rules takes cost 0.3 million instructions per go call.
fn line_starts(text: &[u8]) -> Vec<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    const NEWLINES: u64 = u64::from_ne_bytes([b'\n'; 8]);
    let mut starts = Vec::with_capacity(text.len() / 32 + 1);
    starts.push(0);
    let mut chunks = text.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let word = u64::from_ne_bytes(chunk.try_into().unwrap_or_default()) ^ NEWLINES;
        // Non-zero when some byte of the word is zero, that is, was a newline.
        if word.wrapping_sub(ONES) & !word & HIGHS != 0 {
            starts.extend((0..8).filter(|&i| chunk[i] == b'\n').map(|i| at + i + 1));
        }
        at += 8;
    }
    let rest = chunks.remainder();
    starts.extend(
        (0..rest.len())
            .filter(|&i| rest[i] == b'\n')
            .map(|i| at + i + 1),
    );
    starts
}

impl LoadedPolicy {
    pub fn new(policy: Policy, origin: PolicyOrigin, text: String) -> LoadedPolicy {
        LoadedPolicy {
            policy,
            origin,
            text: PolicyText::Read(text),
            notes: Vec::new(),
            lines: LineIndex::default(),
        }
    }

    /// The policy a snapshot holds, with its text where this call read it.
    fn from_snapshot(
        snapshot: snapshot::Snapshot,
        origin: PolicyOrigin,
        text: Option<String>,
    ) -> LoadedPolicy {
        let text = match text {
            Some(t) => PolicyText::Read(t),
            None => PolicyText::Unread {
                len: snapshot.text_len,
                sha256: snapshot.text_sha256,
            },
        };
        LoadedPolicy {
            policy: snapshot.policy,
            origin,
            text,
            notes: Vec::new(),
            lines: LineIndex::known(snapshot.line_starts),
        }
    }

    /// The 1-based line and column of a byte offset into the policy text.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        self.lines.line_col(&self.text, offset)
    }

    /// The 1-based line of a byte offset into the policy text.
    pub fn line_of(&self, offset: usize) -> usize {
        self.line_col(offset).0
    }

    /// `file:line` for a span of the policy text.
    pub fn location(&self, span: &Range<usize>) -> String {
        self.line_at(span).to_string()
    }

    /// The file and line of a span of the policy text: where a rule is, as messages and
    /// `which` name it (`file:line`).
    pub fn line_at(&self, span: &Range<usize>) -> Location {
        Location::line(self.origin.file_name(), self.line_of(span.start))
    }

    /// The file, line and column of a span: where a validation error points
    /// (`file:line:column`, as the TOML parser's own errors do).
    pub fn point_at(&self, span: &Range<usize>) -> Location {
        let (line, column) = self.line_col(span.start);
        Location {
            file: self.origin.file_name().into(),
            line: Some(line),
            column: Some(column),
        }
    }
}

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let col = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
    (line, col)
}

/// Loads the policy in force for this process.
pub fn load() -> Result<LoadedPolicy> {
    let system = system_policy_path();
    let mut notes = Vec::new();
    if let Some(system_file) = open_if_exists(&system)? {
        let meta = check_trusted_system(&system, &system_file)?;
        let loaded = load_cached(
            &system_file,
            &meta,
            PolicyOrigin::System(system.clone()),
            "cannot read the system policy",
        )?;
        if !loaded.policy.policy.allow_user_policy {
            let mut loaded = loaded;
            if let Some(p) = crate::environ::var_os(POLICY_ENV) {
                loaded.notes.push(format!(
                    "${POLICY_ENV}={} is ignored: the system policy {} does not set allow_user_policy",
                    Path::new(&p).display(),
                    system.display()
                ));
            }
            return Ok(loaded);
        }
        notes.push(format!(
            "the system policy {} allows user policies",
            system.display()
        ));
    }
    let mut loaded = match user_policy()? {
        Some((path, origin)) => load_user_file(&path, origin)?,
        None => match snapshot::embedded() {
            Some((policy, line_starts)) => {
                let text = EMBEDDED_POLICY.to_string();
                let mut loaded = LoadedPolicy::new(policy, PolicyOrigin::Embedded, text);
                loaded.lines = LineIndex::known(line_starts);
                loaded
            }
            None => parse(EMBEDDED_POLICY.to_string(), PolicyOrigin::Embedded)?,
        },
    };
    loaded.notes.extend(notes);
    Ok(loaded)
}

/// Reads and parses a policy file named by the user (`GOWARDEN_POLICY`, `policy check`).
pub fn load_file(path: &Path, origin: PolicyOrigin) -> Result<LoadedPolicy> {
    let text =
        std::fs::read_to_string(path).map_err(|e| Error::io("cannot read policy", path, &e))?;
    parse(text, origin)
}

/// The policy in an opened file that passed its trust checks (`meta` is their fstat),
/// served from the compiled-policy cache ([`super::snapshot`]) where a trusted snapshot
/// stands for it, and writing one where none does. A snapshot whose recorded stamp is the
/// file's now is used without reading the text; otherwise the text is read and matched by
/// its contents.
fn load_cached(
    file: &File,
    meta: &std::fs::Metadata,
    origin: PolicyOrigin,
    read_error: &str,
) -> Result<LoadedPolicy> {
    let (owner, stamp) = (meta.uid(), crate::stamp::Stamp::of_meta(meta));
    let source = snapshot::Source {
        origin: &origin,
        owner,
        stamp,
    };
    let found = snapshot::find(&source);
    if let Some(hit) = found.as_ref().and_then(|f| f.by_stamp(&source)) {
        return Ok(LoadedPolicy::from_snapshot(hit, origin, None));
    }
    let text = read_known_size(file, meta)
        .map_err(|e| Error::io(read_error, origin.path().unwrap_or(Path::new("")), &e))?;
    // After the read: a stamp is trusted only if nothing can have changed unseen since.
    let read_at = crate::stamp::now_ns();
    if let Some(found) = found
        && let Some(hit) = found.by_contents(&source, &text)
    {
        found.restamp(&source, &text, read_at);
        return Ok(LoadedPolicy::from_snapshot(hit, origin, Some(text)));
    }
    let loaded = parse(text, origin)?;
    let source = snapshot::Source {
        origin: &loaded.origin,
        owner,
        stamp,
    };
    if let PolicyText::Read(text) = &loaded.text {
        snapshot::store(&source, text, read_at);
    }
    Ok(loaded)
}

/// Parses policy text; errors name the file, line and column.
pub fn parse(text: String, origin: PolicyOrigin) -> Result<LoadedPolicy> {
    let loaded = parse_unvalidated(text, origin)?;
    super::validate::validate(&loaded)?;
    Ok(loaded)
}

/// Parses policy text against the schema only, so `gowarden policy check` can run every
/// validation itself and report all problems.
pub fn parse_unvalidated(text: String, origin: PolicyOrigin) -> Result<LoadedPolicy> {
    let policy: Policy = toml::from_str(&text).map_err(|e| {
        let at = match e.span() {
            Some(span) => {
                let (line, col) = line_col(&text, span.start);
                format!("{}:{line}:{col}", origin.file_name())
            }
            None => origin.file_name(),
        };
        Error::new(format!("invalid policy {at}: {}", e.message().trim_end()))
    })?;
    Ok(LoadedPolicy::new(policy, origin, text))
}

fn user_policy() -> Result<Option<(PathBuf, PolicyOrigin)>> {
    if let Some(p) = crate::environ::var_os(POLICY_ENV).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(p);
        return Ok(Some((path.clone(), PolicyOrigin::EnvVar(path))));
    }
    if let Some(dir) = crate::userdirs::config_dir() {
        let path = dir.join("gowarden").join("policy.toml");
        // The link itself, not its target: a dangling link is a broken user policy, which
        // must be an error rather than a silent fall-back to the embedded default.
        match std::fs::symlink_metadata(&path) {
            Ok(_) => return Ok(Some((path.clone(), PolicyOrigin::UserConfig(path)))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(Error::io("cannot look for the user policy", &path, &e)
                    .context("refusing to run without knowing whether it exists"));
            }
        }
    }
    Ok(None)
}

/// What to do about a user policy that cannot be used, by where it was named.
fn user_policy_fix(origin: &PolicyOrigin) -> String {
    match origin {
        PolicyOrigin::EnvVar(_) => format!("point ${POLICY_ENV} at a policy file or unset it"),
        PolicyOrigin::UserConfig(p) => format!(
            "fix {} or remove it (then the embedded default policy applies)",
            p.display()
        ),
        _ => "name a policy file".into(),
    }
}

/// A user's own policy must not be writable by other users either, or they could change the
/// rules that apply to this user.
fn load_user_file(path: &Path, origin: PolicyOrigin) -> Result<LoadedPolicy> {
    let fix = user_policy_fix(&origin);
    let file = File::open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound
            && let Ok(target) = std::fs::read_link(path)
        {
            return Error::new(format!(
                "cannot open policy {origin}: it is a symbolic link to {}, which does not \
                 exist; {fix}",
                target.display()
            ));
        }
        Error::new(format!("cannot open policy {origin}: {e}; {fix}"))
    })?;
    let meta = file
        .metadata()
        .map_err(|e| Error::io("cannot stat policy", path, &e))?;
    if meta.is_dir() {
        return Err(Error::new(format!(
            "refusing policy {origin}: it is a directory, not a policy file; {fix}"
        )));
    }
    if !meta.is_file() {
        return Err(Error::new(format!(
            "refusing policy {origin}: it is not a regular file; {fix}"
        )));
    }
    let me = nix::unistd::getuid().as_raw();
    if meta.uid() != me && meta.uid() != 0 {
        return Err(Error::new(format!(
            "refusing policy {}: it is owned by uid {}, not by you (uid {me}) or root; \
             copy it to a file you own",
            path.display(),
            meta.uid()
        )));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(Error::new(format!(
            "refusing policy {}: it is writable by group or others (mode {:o}); \
             run `chmod go-w {}`",
            path.display(),
            meta.mode() & 0o7777,
            path.display()
        )));
    }
    load_cached(&file, &meta, origin, "cannot read policy")
}

/// The system policy's location. Fixed in release builds; only a binary built with the
/// `test-hooks` feature lets the test suite move it into a temp dir.
pub fn system_policy_path() -> PathBuf {
    #[cfg(feature = "test-hooks")]
    if let Some(p) = crate::environ::var_os(crate::envvars::TEST_SYSTEM_POLICY) {
        return PathBuf::from(p);
    }
    PathBuf::from(SYSTEM_POLICY)
}

fn open_if_exists(path: &Path) -> Result<Option<File>> {
    match File::open(path) {
        Ok(f) => Ok(Some(f)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        // Exists but cannot be opened: fail closed rather than fall back to a weaker policy.
        Err(e) => Err(Error::io("cannot open the system policy", path, &e)
            .context("refusing to run without it")),
    }
}

/// Checks ownership and modes on the opened file (so a swap after the check cannot matter)
/// and on every directory above its real path; gives the file's metadata.
fn check_trusted_system(path: &Path, file: &File) -> Result<std::fs::Metadata> {
    let meta = file
        .metadata()
        .map_err(|e| Error::io("cannot stat the system policy", path, &e))?;
    if !meta.is_file() {
        return Err(unsafe_policy(path, path, "it is not a regular file"));
    }
    check_root_only(path, path, meta.uid(), meta.mode())?;
    let real = path
        .canonicalize()
        .map_err(|e| Error::io("cannot resolve the system policy", path, &e))?;
    // Both the directories the path names and those it resolves to: whoever may change a
    // directory holding a symlink on the way may point the path elsewhere.
    for dir in path.ancestors().skip(1).chain(real.ancestors().skip(1)) {
        if dir.as_os_str().is_empty() {
            continue;
        }
        let m = std::fs::metadata(dir)
            .map_err(|e| Error::io("cannot stat the system policy's directory", dir, &e))?;
        check_root_only(path, dir, m.uid(), trust_mode(m.uid(), m.mode()))?;
    }
    Ok(meta)
}

/// The text of an opened file whose metadata was just read: one read of that size and one
/// at EOF. std's `File::read_to_string` would ask the kernel again for the size (fstat) and
/// the position (lseek) to size its buffer: two syscalls per policy read, on every go call.
fn read_known_size(file: &File, meta: &std::fs::Metadata) -> std::io::Result<String> {
    let mut text = String::with_capacity(usize::try_from(meta.len()).unwrap_or(0) + 1);
    // Through Take, std has no file to ask: the capacity reserved above is the buffer.
    Read::take(file, u64::MAX).read_to_string(&mut text)?;
    Ok(text)
}

/// A directory's mode as the trust checks count it. A root-owned sticky directory (/tmp) lets
/// others add entries but not rename or remove root's, and every entry on the path below it
/// is checked on its own.
pub(super) fn trust_mode(uid: u32, mode: u32) -> u32 {
    if uid == 0 && mode & 0o1000 != 0 {
        mode & !0o022
    } else {
        mode
    }
}

fn check_root_only(policy: &Path, what: &Path, uid: u32, mode: u32) -> Result<()> {
    if uid != 0 {
        return Err(unsafe_policy(
            policy,
            what,
            &format!("it is owned by uid {uid}, not root"),
        ));
    }
    if mode & 0o022 != 0 {
        return Err(unsafe_policy(
            policy,
            what,
            &format!(
                "it is writable by group or others (mode {:o})",
                mode & 0o7777
            ),
        ));
    }
    Ok(())
}

fn unsafe_policy(policy: &Path, what: &Path, why: &str) -> Error {
    let fix = if what == policy {
        format!("run `chown root:root {0} && chmod 644 {0}`", what.display())
    } else {
        format!("run `chown root {0} && chmod go-w {0}`", what.display())
    };
    Error::new(format!(
        "refusing the system policy {}: {} {why}; {fix}",
        policy.display(),
        if what == policy {
            "the file:".to_string()
        } else {
            format!("its directory {}:", what.display())
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_index_agrees_with_counting_newlines() {
        let long = "# a comment\n\n[t]\nk = \"v\"\n".repeat(9);
        for text in [
            "",
            "a",
            "\n",
            "a\nbc\n\nd",
            "[x]\r\ny = 1\n# é\nz = 2",
            &long,
        ] {
            let loaded = LoadedPolicy::new(
                toml::from_str("").unwrap(),
                PolicyOrigin::Embedded,
                text.to_string(),
            );
            for offset in 0..=text.len() + 2 {
                assert_eq!(
                    loaded.line_col(offset),
                    line_col(text, offset),
                    "{text:?} at {offset}"
                );
            }
        }
    }
}
