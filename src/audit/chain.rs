//! The hash chain: what a line's hash is, and how the chain fields are read back.
//!
//! Appending, verifying and tailing all decide "is this line a record, and where does it sit
//! in the chain" with the one function here, [`chain_info`], so that the appender's idea of a
//! torn line and the verifier's can never drift apart.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use sha2::{Digest, Sha256};

use super::record::attr;

/// `gowarden.prev_sha256` of the first record of a chain: 64 zeros.
pub const GENESIS_SHA256: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Lowercase hex SHA-256 of `line`, which must be the line's exact bytes *without* its
/// terminating newline. This is the value the next record stores in `gowarden.prev_sha256`.
pub fn line_sha256(line: &[u8]) -> String {
    hex(&Sha256::digest(line))
}

use crate::hex::encode as hex;

/// Hashes a run of lines as if joined by `\n` (no trailing newline): the definition of
/// `gowarden.repair.torn_sha256`. For a single line it equals [`line_sha256`].
#[derive(Clone, Default)]
pub(crate) struct JoinedHasher {
    hasher: Sha256,
    lines: u64,
    bytes: u64,
}

impl JoinedHasher {
    pub(crate) fn push(&mut self, line: &[u8]) {
        if self.lines > 0 {
            self.hasher.update(b"\n");
            self.bytes += 1;
        }
        self.hasher.update(line);
        self.lines += 1;
        self.bytes += line.len() as u64;
    }

    pub(crate) fn lines(&self) -> u64 {
        self.lines
    }

    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }

    pub(crate) fn finish(&self) -> String {
        hex(&self.hasher.clone().finalize())
    }
}

/// What a repair record says about the torn lines it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RepairInfo {
    pub(crate) torn_lines: u64,
    pub(crate) torn_sha256: String,
}

/// The chain position of a line that is a well-formed record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChainInfo {
    pub(crate) seq: u64,
    pub(crate) prev_sha256: String,
    pub(crate) repair: Option<RepairInfo>,
}

/// Why a line is not a well-formed record.
pub(crate) type NotRecord = String;

/// Reads the chain fields of `line`. A line is a *record* when it is a JSON object whose
/// `attributes` hold exactly one `gowarden.seq` (an integer >= 1) and exactly one
/// `gowarden.prev_sha256` (64 lowercase hex digits); anything else is not part of the chain.
pub(crate) fn chain_info(line: &[u8]) -> Result<ChainInfo, NotRecord> {
    // serde would also accept a JSON array as a struct; a record is an object.
    let first = line.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        return Err("not a JSON object".into());
    }
    let view: ChainView<'_> =
        serde_json::from_slice(line).map_err(|e| format!("invalid JSON: {e}"))?;
    let mut seq = None;
    let mut prev = None;
    let mut torn_lines = None;
    let mut torn_sha = None;
    for kv in view.attributes {
        let slot_dup = match kv.key.as_ref() {
            attr::GOWARDEN_SEQ => set_once(&mut seq, kv.value.int_value.and_then(|i| i.0)),
            attr::GOWARDEN_PREV_SHA256 => set_once(&mut prev, kv.value.string_value),
            attr::GOWARDEN_REPAIR_TORN_LINES => {
                set_once(&mut torn_lines, kv.value.int_value.and_then(|i| i.0))
            }
            attr::GOWARDEN_REPAIR_TORN_SHA256 => set_once(&mut torn_sha, kv.value.string_value),
            _ => false,
        };
        if slot_dup {
            return Err(format!("attribute {} appears twice", kv.key));
        }
    }
    let seq = match seq {
        Some(Some(s)) if s >= 1 => s,
        Some(_) => return Err(format!("{} is not an integer >= 1", attr::GOWARDEN_SEQ)),
        None => return Err(format!("no {} attribute", attr::GOWARDEN_SEQ)),
    };
    let prev_sha256 = match prev {
        Some(Some(p)) if crate::hex::is_sha256(&p) => p.into_owned(),
        Some(_) => {
            return Err(format!(
                "{} is not 64 lowercase hex digits",
                attr::GOWARDEN_PREV_SHA256
            ));
        }
        None => return Err(format!("no {} attribute", attr::GOWARDEN_PREV_SHA256)),
    };
    let repair = match (torn_lines, torn_sha) {
        (None, None) => None,
        (Some(Some(n)), Some(Some(h))) if crate::hex::is_sha256(&h) => Some(RepairInfo {
            torn_lines: n,
            torn_sha256: h.into_owned(),
        }),
        _ => {
            return Err(format!(
                "repair record needs both {} and {}",
                attr::GOWARDEN_REPAIR_TORN_LINES,
                attr::GOWARDEN_REPAIR_TORN_SHA256
            ));
        }
    };
    Ok(ChainInfo {
        seq,
        prev_sha256,
        repair,
    })
}

/// Stores `value` in `slot`; returns true if the slot was already taken (a duplicate key).
fn set_once<T>(slot: &mut Option<T>, value: T) -> bool {
    if slot.is_some() {
        return true;
    }
    *slot = Some(value);
    false
}

// Borrowing views: only the chain attributes are materialised, every other value is skipped
// by serde, which keeps the parse of the previous line cheap on the append path.
#[derive(Deserialize)]
struct ChainView<'a> {
    #[serde(borrow, default)]
    attributes: Vec<KeyValueView<'a>>,
}

#[derive(Deserialize)]
struct KeyValueView<'a> {
    #[serde(borrow)]
    key: Cow<'a, str>,
    #[serde(borrow, default)]
    value: AnyValueView<'a>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct AnyValueView<'a> {
    #[serde(borrow, default)]
    string_value: Option<Cow<'a, str>>,
    #[serde(default)]
    int_value: Option<IntValue>,
}

/// OTLP JSON writes int64 as a string, but protobuf JSON readers also accept a number; so do
/// we. `None` inside means "present but not a non-negative integer".
struct IntValue(Option<u64>);

impl<'de> Deserialize<'de> for IntValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = IntValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer or a decimal string")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<IntValue, E> {
                Ok(IntValue(Some(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<IntValue, E> {
                Ok(IntValue(u64::try_from(v).ok()))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<IntValue, E> {
                Ok(IntValue(None))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<IntValue, E> {
                Ok(IntValue(parse_decimal(v)))
            }
        }
        d.deserialize_any(V)
    }
}

/// Strict decimal: no sign, no leading zeros, no spaces; so each seq has one spelling and an
/// edit to it cannot hide behind an equivalent form.
pub(crate) fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || (s.len() > 1 && s.starts_with('0')) || !s.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(seq: &str, prev: &str) -> String {
        format!(
            r#"{{"body":{{"stringValue":"x"}},"attributes":[{{"key":"gowarden.seq","value":{{"intValue":{seq}}}}},{{"key":"gowarden.prev_sha256","value":{{"stringValue":"{prev}"}}}},{{"key":"other","value":{{"arrayValue":{{"values":[]}}}}}}]}}"#
        )
    }

    #[test]
    fn sha256_of_known_input() {
        assert_eq!(
            line_sha256(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let mut j = JoinedHasher::default();
        j.push(b"abc");
        assert_eq!(j.finish(), line_sha256(b"abc"));
        j.push(b"de");
        assert_eq!(j.finish(), line_sha256(b"abc\nde"));
        assert_eq!((j.lines(), j.bytes()), (2, 6));
    }

    #[test]
    fn reads_chain_fields() {
        let info = chain_info(line("\"7\"", GENESIS_SHA256).as_bytes()).unwrap();
        assert_eq!(info.seq, 7);
        assert_eq!(info.prev_sha256, GENESIS_SHA256);
        assert!(info.repair.is_none());
        // A plain number is accepted as protobuf JSON readers do.
        assert_eq!(
            chain_info(line("7", GENESIS_SHA256).as_bytes())
                .unwrap()
                .seq,
            7
        );
    }

    #[test]
    fn rejects_malformed_chain_fields() {
        for bad in [
            line("\"0\"", GENESIS_SHA256),
            line("\"07\"", GENESIS_SHA256),
            line("\"-1\"", GENESIS_SHA256),
            line("1.5", GENESIS_SHA256),
            line("\"1\"", "ABC"),
            line("\"1\"", &GENESIS_SHA256.to_uppercase().replace('0', "A")),
            "[1,2]".to_string(),
            "{\"attributes\":[]}".to_string(),
            "{\"attributes\":".to_string(),
            String::new(),
        ] {
            assert!(chain_info(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn rejects_duplicate_chain_fields() {
        let dup = r#"{"attributes":[{"key":"gowarden.seq","value":{"intValue":"1"}},{"key":"gowarden.seq","value":{"intValue":"2"}},{"key":"gowarden.prev_sha256","value":{"stringValue":"0000000000000000000000000000000000000000000000000000000000000000"}}]}"#;
        assert!(chain_info(dup.as_bytes()).unwrap_err().contains("twice"));
    }
}
