//! Lowercase hex, the one spelling of a digest gowarden writes and reads (the audit chain, the
//! once-a-day stamps, drift's policy hash, install's checksums, the report).

use sha2::{Digest, Sha256};

pub fn encode(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(HEX[usize::from(b >> 4)] as char);
        s.push(HEX[usize::from(b & 0xf)] as char);
    }
    s
}

/// The SHA-256 of `bytes`, in hex.
pub fn sha256(bytes: &[u8]) -> String {
    encode(&Sha256::digest(bytes))
}

/// 64 lowercase hex digits as the 32 bytes of a SHA-256; `None` for anything else.
pub fn decode_sha256(s: &str) -> Option<[u8; 32]> {
    let b = s.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let nib = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = (nib(b[2 * i])? << 4) | nib(b[2 * i + 1])?;
    }
    Some(out)
}

/// Whether `s` is a SHA-256 as [`encode`] writes it.
pub fn is_sha256(s: &str) -> bool {
    decode_sha256(s).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_strictness() {
        let all: Vec<u8> = (0..=255).collect();
        let text = encode(&all);
        assert_eq!(&text[..8], "00010203");
        assert_eq!(&text[text.len() - 4..], "feff");
        let d: [u8; 32] = Sha256::digest(b"gowarden").into();
        assert_eq!(decode_sha256(&sha256(b"gowarden")), Some(d));
        assert_eq!(decode_sha256(&"ab".repeat(32)), Some([0xab; 32]));
        for bad in [
            "AB".repeat(32),
            "ab".repeat(31),
            "g".repeat(64),
            String::new(),
        ] {
            assert_eq!(decode_sha256(&bad), None, "{bad}");
            assert!(!is_sha256(&bad));
        }
    }
}
