//! The snapshot payload's encoder: a TOML document tree as bytes (the layout is in
//! [`super`]). build.rs includes this file too, to encode the embedded default policy at
//! build time, so it uses nothing but the toml crate.

use std::ops::Range;

use toml::de::{DeTable, DeValue};

pub const STRING: u8 = 0;
pub const INTEGER: u8 = 1;
pub const FLOAT: u8 = 2;
pub const FALSE: u8 = 3;
pub const TRUE: u8 = 4;
pub const DATETIME: u8 = 5;
pub const ARRAY: u8 = 6;
pub const TABLE: u8 = 7;

/// The payload for a policy text: its document's span, the document, then where each line
/// of the text starts (what `file:line` messages count from). None if the text is no TOML
/// document, too large for the format's 32-bit numbers, or holds a number toml would hand
/// over as other than an `i64` or a finite-or-spelled-infinite `f64` (such a policy is
/// parsed on every call instead).
pub fn payload(text: &str) -> Option<Vec<u8>> {
    if u32::try_from(text.len()).is_err() {
        return None;
    }
    let root = DeTable::parse(text).ok()?;
    let mut out = Vec::with_capacity(2 * text.len());
    put_span(&mut out, &root.span());
    put_table(&mut out, root.get_ref())?;
    let starts: Vec<usize> = std::iter::once(0)
        .chain(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        )
        .collect();
    put_num(&mut out, starts.len());
    for s in starts {
        put_num(&mut out, s);
    }
    Some(out)
}

/// Fixed width, little-endian: reading one back is a load, not a loop (a policy with 200
/// deny rules has about 10,000 of them). Every number is at most the text's length, or the
/// byte length of a part of the payload, which is at most a few times that.
fn put_num(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&(n as u32).to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_num(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

fn put_span(out: &mut Vec<u8>, span: &Range<usize>) {
    put_num(out, span.start);
    put_num(out, span.end);
}

/// A table or array: its contents' byte length first, so a reader can hand each value its
/// own slice without walking it; then the count and the items.
fn put_sized(
    out: &mut Vec<u8>,
    count: usize,
    items: impl FnOnce(&mut Vec<u8>) -> Option<()>,
) -> Option<()> {
    let at = out.len();
    put_num(out, 0);
    put_num(out, count);
    items(out)?;
    let size = u32::try_from(out.len() - at - 4).ok()?;
    out[at..at + 4].copy_from_slice(&size.to_le_bytes());
    Some(())
}

fn put_table(out: &mut Vec<u8>, table: &DeTable) -> Option<()> {
    put_sized(out, table.len(), |out| {
        for (k, v) in table.iter() {
            put_span(out, &k.span());
            put_str(out, k.get_ref());
            put_span(out, &v.span());
            put_value(out, v.get_ref())?;
        }
        Some(())
    })
}

fn put_value(out: &mut Vec<u8>, v: &DeValue) -> Option<()> {
    match v {
        DeValue::String(s) => {
            out.push(STRING);
            put_str(out, s);
        }
        DeValue::Integer(i) => {
            // What toml's deserializer hands a visitor first: an i64 if it fits.
            let n = i64::from_str_radix(i.as_str(), i.radix()).ok()?;
            out.push(INTEGER);
            out.extend_from_slice(&n.to_le_bytes());
        }
        DeValue::Float(f) => {
            // toml refuses a literal that overflows to infinity; `inf` itself is a float.
            let x: f64 = f.as_str().parse().ok()?;
            if x.is_infinite() && !f.as_str().contains("inf") {
                return None;
            }
            out.push(FLOAT);
            out.extend_from_slice(&x.to_bits().to_le_bytes());
        }
        DeValue::Boolean(b) => out.push(if *b { TRUE } else { FALSE }),
        DeValue::Datetime(d) => {
            out.push(DATETIME);
            put_str(out, &d.to_string());
        }
        DeValue::Array(a) => {
            out.push(ARRAY);
            put_sized(out, a.len(), |out| {
                for item in a.iter() {
                    put_span(out, &item.span());
                    put_value(out, item.get_ref())?;
                }
                Some(())
            })?;
        }
        DeValue::Table(t) => {
            out.push(TABLE);
            put_table(out, t)?;
        }
    }
    Some(())
}
