//! Lossless text encoding of OS strings, and secret redaction.
//!
//! Audit records are JSON, which can only carry Unicode text, but Unix arguments, paths and
//! environment values are arbitrary bytes. Every OS string therefore goes through
//! [`encode_os`], a reversible scheme:
//!
//! * a backslash is written as two backslashes (`\\`);
//! * each byte that is not part of a valid UTF-8 sequence is written as `\xNN` (two lowercase
//!   hex digits);
//! * everything else (all valid UTF-8, including control characters) is kept as is, and JSON
//!   string escaping then turns newlines and other control characters into `\n`, `\u0001`, ...
//!   so that one record is always one line.
//!
//! [`decode_os`] inverts it exactly: `decode_os(&encode_os(x)) == x` for every byte string.
//! Backslashes are doubled even in valid UTF-8 so that a literal `\x41` typed by a user can
//! never be mistaken for an escaped byte.

use std::borrow::Cow;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use crate::error::{Error, Result};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The text that replaces a secret.
pub const REDACTED: &str = "REDACTED";

/// Encodes bytes with the scheme described in the module docs.
pub fn encode_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid();
        if valid.contains('\\') {
            for c in valid.chars() {
                if c == '\\' {
                    out.push_str("\\\\");
                } else {
                    out.push(c);
                }
            }
        } else {
            out.push_str(valid);
        }
        for &b in chunk.invalid() {
            out.push('\\');
            out.push('x');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 0xf)] as char);
        }
    }
    out
}

/// Encodes an OS string losslessly as text (see the module docs).
pub fn encode_os(s: &OsStr) -> String {
    encode_bytes(s.as_bytes())
}

/// A lone OS string (a path, a value) as stored in a record: URL userinfo redacted, then
/// encoded losslessly.
pub fn encode_os_redacted(s: &OsStr) -> String {
    encode_bytes(&redact_url_userinfo(s.as_bytes()))
}

/// Decodes text produced by [`encode_os`] back into the original bytes.
///
/// Fails on a backslash that starts neither `\\` nor `\xNN`: such text was not produced by
/// the encoder, and guessing would break the round-trip guarantee.
pub fn decode_bytes(s: &str) -> Result<Vec<u8>> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b != b'\\' {
            out.push(b);
            i += 1;
            continue;
        }
        match bytes.get(i + 1) {
            Some(b'\\') => {
                out.push(b'\\');
                i += 2;
            }
            Some(b'x') => {
                let hi = bytes.get(i + 2).and_then(|&h| hex_value(h));
                let lo = bytes.get(i + 3).and_then(|&l| hex_value(l));
                match (hi, lo) {
                    (Some(hi), Some(lo)) => {
                        out.push(hi << 4 | lo);
                        i += 4;
                    }
                    _ => {
                        return Err(Error::new(format!(
                            "invalid \\x escape at byte {i} of {s:?}: expected two hex digits"
                        )));
                    }
                }
            }
            _ => {
                return Err(Error::new(format!(
                    "invalid escape at byte {i} of {s:?}: a backslash must start \\\\ or \\xNN"
                )));
            }
        }
    }
    Ok(out)
}

/// Decodes text produced by [`encode_os`] back into the original OS string.
pub fn decode_os(s: &str) -> Result<OsString> {
    decode_bytes(s).map(OsString::from_vec)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Replaces the userinfo of every URL in `bytes` with [`REDACTED`]:
/// `https://user:token@host/x` becomes `https://REDACTED@host/x`.
///
/// A URL is anything following `://`; its authority runs to the next `/`, `?`, `#`, ASCII
/// whitespace or the end, and the userinfo is everything before the authority's *last* `@`.
/// The scan errs towards redacting too much: in a `GOPROXY` list such as
/// `https://a@b,https://c` the whole `a@b,https:` is one authority, so `a` is redacted; the
/// other way round (stopping at `,`) would leak a password that contains a comma.
pub fn redact_url_userinfo(bytes: &[u8]) -> Cow<'_, [u8]> {
    let Some(first) = find(bytes, b"://") else {
        return Cow::Borrowed(bytes);
    };
    let mut out: Option<Vec<u8>> = None;
    let mut copied = 0; // bytes[..copied] are already in `out` (when it exists)
    let mut search = first;
    loop {
        let auth_start = search + 3;
        let auth_len = bytes[auth_start..]
            .iter()
            .position(|&b| matches!(b, b'/' | b'?' | b'#') || b.is_ascii_whitespace())
            .unwrap_or(bytes.len() - auth_start);
        let auth_end = auth_start + auth_len;
        let authority = &bytes[auth_start..auth_end];
        if let Some(at) = authority.iter().rposition(|&b| b == b'@')
            && &authority[..at] != REDACTED.as_bytes()
        {
            let buf = out.get_or_insert_with(|| Vec::with_capacity(bytes.len()));
            buf.extend_from_slice(&bytes[copied..auth_start]);
            buf.extend_from_slice(REDACTED.as_bytes());
            copied = auth_start + at;
        }
        // Search from just after this `://`, not from the authority's end: in
        // `https://a@b,https://c` the next URL's `:` is inside this authority.
        match find(&bytes[auth_start..], b"://") {
            Some(next) => search = auth_start + next,
            None => break,
        }
    }
    match out {
        Some(mut buf) => {
            buf.extend_from_slice(&bytes[copied..]);
            Cow::Owned(buf)
        }
        None => Cow::Borrowed(bytes),
    }
}

/// [`redact_url_userinfo`] for text.
pub fn redact_url_userinfo_str(s: &str) -> Cow<'_, str> {
    match redact_url_userinfo(s.as_bytes()) {
        Cow::Borrowed(_) => Cow::Borrowed(s),
        // Only ASCII ranges between `://` and `@` were replaced by ASCII, so the result is
        // still UTF-8; the lossy conversion never actually replaces anything.
        Cow::Owned(v) => Cow::Owned(String::from_utf8_lossy(&v).into_owned()),
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The wildcard match of [`crate::wildcard`] (`*`, `?`, ASCII case ignored).
pub use crate::wildcard::matches as glob_match;

/// Decides which values are secrets, beyond URL userinfo (which is always redacted).
///
/// Patterns are globs over environment variable *names* (see [`glob_match`]): `*TOKEN*`,
/// `*PASSWORD*`, `AWS_*`. A matching variable's value is replaced by [`REDACTED`] wholesale,
/// wherever it appears in a record: env overrides, `go env -w` changes, and arguments of the
/// form `NAME=VALUE` (as in `go env -w NAME=VALUE`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Redactor {
    key_patterns: Vec<String>,
}

impl Redactor {
    /// A redactor for URL userinfo plus the given name patterns.
    pub fn new<I, S>(key_patterns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Redactor {
            key_patterns: key_patterns.into_iter().map(Into::into).collect(),
        }
    }

    pub fn key_patterns(&self) -> &[String] {
        &self.key_patterns
    }

    /// Whether the variable `name` holds a secret by the configured patterns.
    pub fn is_secret_name(&self, name: &[u8]) -> bool {
        self.key_patterns
            .iter()
            .any(|p| glob_match(p.as_bytes(), name))
    }

    /// The encoded, redacted text for the value of the variable `name`.
    pub fn env_value(&self, name: &str, value: &OsStr) -> String {
        if self.is_secret_name(name.as_bytes()) {
            return REDACTED.to_string();
        }
        encode_os_redacted(value)
    }

    /// The encoded, redacted text for one command-line argument.
    pub fn arg(&self, arg: &OsStr) -> String {
        let bytes = arg.as_bytes();
        if let Some(eq) = bytes.iter().position(|&b| b == b'=') {
            let name = &bytes[..eq];
            if !name.is_empty() && name[0] != b'-' && self.is_secret_name(name) {
                let mut kept = encode_bytes(&bytes[..=eq]);
                kept.push_str(REDACTED);
                return kept;
            }
        }
        encode_bytes(&redact_url_userinfo(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(bytes: &[u8]) {
        let enc = encode_bytes(bytes);
        assert_eq!(decode_bytes(&enc).unwrap(), bytes, "via {enc:?}");
    }

    #[test]
    fn encode_keeps_plain_text() {
        assert_eq!(encode_bytes(b"go build ./..."), "go build ./...");
        assert_eq!(encode_bytes("héllo\n".as_bytes()), "héllo\n");
    }

    #[test]
    fn encode_escapes_backslash_and_invalid_bytes() {
        assert_eq!(encode_bytes(b"a\\b"), "a\\\\b");
        assert_eq!(encode_bytes(b"\xff\xfeok\x80"), "\\xff\\xfeok\\x80");
        // A literal `\x41` typed by the user stays distinguishable from an escaped byte.
        assert_eq!(encode_bytes(b"\\x41"), "\\\\x41");
        assert_eq!(decode_bytes("\\\\x41").unwrap(), b"\\x41");
    }

    #[test]
    fn roundtrip_edge_cases() {
        for case in [
            &b""[..],
            b"\\",
            b"\\\\x",
            b"\xc3",
            b"\xc3\x28",
            b"\xe2\x82",
            b"\xf0\x9f\x98\x80",
            b"line\nbreak\r\x00\x1b[31m",
            b"\xed\xa0\x80",
        ] {
            roundtrip(case);
        }
    }

    #[test]
    fn roundtrip_pseudo_random_bytes() {
        // xorshift: deterministic, no dependency, covers lots of invalid UTF-8 shapes.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for len in 0..400 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    // Bias towards backslash, 'x' and high bytes, where the scheme has edges.
                    match x % 5 {
                        0 => b'\\',
                        1 => b'x',
                        _ => (x >> 8) as u8,
                    }
                })
                .collect();
            roundtrip(&bytes);
        }
    }

    #[test]
    fn decode_rejects_foreign_escapes() {
        assert!(decode_bytes("\\n").is_err());
        assert!(decode_bytes("\\x4").is_err());
        assert!(decode_bytes("\\xzz").is_err());
        assert!(decode_bytes("trailing\\").is_err());
    }

    #[test]
    fn url_userinfo_is_redacted() {
        let r = |s: &str| redact_url_userinfo_str(s).into_owned();
        assert_eq!(r("https://user:token@host/x"), "https://REDACTED@host/x");
        assert_eq!(r("https://token@host"), "https://REDACTED@host");
        assert_eq!(r("https://host/path@x"), "https://host/path@x");
        assert_eq!(r("no url here"), "no url here");
        assert_eq!(
            r("GOPROXY=https://u:p@a.example,https://v:q@b.example/m,direct"),
            "GOPROXY=https://REDACTED@a.example,https://REDACTED@b.example/m,direct"
        );
        assert_eq!(r("x https://a:b@c?q=1 y"), "x https://REDACTED@c?q=1 y");
        assert_eq!(r("https://REDACTED@host"), "https://REDACTED@host");
        assert_eq!(r("://@"), "://REDACTED@");
        assert_eq!(r("https://p@ss:w@rd@host"), "https://REDACTED@host");
    }

    #[test]
    fn url_redaction_works_on_invalid_utf8() {
        let out = redact_url_userinfo(b"\xffhttps://u:\xfe@h");
        assert_eq!(&*out, b"\xffhttps://REDACTED@h");
    }

    #[test]
    fn redactor_env_and_args() {
        let red = Redactor::new(["*TOKEN*", "*PASSWORD*"]);
        assert_eq!(red.env_value("GITHUB_TOKEN", OsStr::new("abc")), "REDACTED");
        assert_eq!(
            red.env_value("GOPROXY", OsStr::new("https://u:p@proxy")),
            "https://REDACTED@proxy"
        );
        assert_eq!(
            red.arg(OsStr::new("MY_PASSWORD=hunter2")),
            "MY_PASSWORD=REDACTED"
        );
        assert_eq!(
            red.arg(OsStr::new("-ldflags=-X a.b=c")),
            "-ldflags=-X a.b=c"
        );
        assert_eq!(
            red.arg(OsStr::new("GOPROXY=https://u:p@h")),
            "GOPROXY=https://REDACTED@h"
        );
        let none = Redactor::default();
        assert_eq!(none.env_value("GITHUB_TOKEN", OsStr::new("abc")), "abc");
    }
}
