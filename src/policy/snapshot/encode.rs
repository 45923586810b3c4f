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
/// document, or too large for the format's 32-bit numbers.
pub fn payload(text: &str) -> Option<Vec<u8>> {
    if u32::try_from(text.len()).is_err() {
        return None;
    }
    let root = DeTable::parse(text).ok()?;
    let mut out = Vec::with_capacity(2 * text.len());
    put_span(&mut out, &root.span());
    put_table(&mut out, root.get_ref());
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
/// deny rules has about 10,000 of them). Every number is at most the text's length.
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

fn put_table(out: &mut Vec<u8>, table: &DeTable) {
    put_num(out, table.len());
    for (k, v) in table.iter() {
        put_span(out, &k.span());
        put_str(out, k.get_ref());
        put_span(out, &v.span());
        put_value(out, v.get_ref());
    }
}

fn put_value(out: &mut Vec<u8>, v: &DeValue) {
    match v {
        DeValue::String(s) => {
            out.push(STRING);
            put_str(out, s);
        }
        DeValue::Integer(i) => {
            out.push(INTEGER);
            // The literal as TOML spells it, so toml's parser rebuilds the same number.
            let prefix = match i.radix() {
                2 => "0b",
                8 => "0o",
                16 => "0x",
                _ => "",
            };
            put_str(out, &format!("{prefix}{}", i.as_str()));
        }
        DeValue::Float(f) => {
            out.push(FLOAT);
            put_str(out, f.as_str());
        }
        DeValue::Boolean(b) => out.push(if *b { TRUE } else { FALSE }),
        DeValue::Datetime(d) => {
            out.push(DATETIME);
            put_str(out, &d.to_string());
        }
        DeValue::Array(a) => {
            out.push(ARRAY);
            put_num(out, a.len());
            for item in a.iter() {
                put_span(out, &item.span());
                put_value(out, item.get_ref());
            }
        }
        DeValue::Table(t) => {
            out.push(TABLE);
            put_table(out, t);
        }
    }
}
