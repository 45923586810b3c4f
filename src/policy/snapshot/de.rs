//! A serde deserializer straight over a snapshot's payload: the `Policy` is built from the
//! bytes as it is read, with no document tree in between.
//!
//! Reading the tree back into toml's own `DeTable` first and then running toml's
//! deserializer over it was most of what a cached policy still cost (the enterprise example:
//! a B-tree node and a few strings per table, about a third of the call's page faults; 200
//! deny rules: about 100 faults more). This deserializer hands every visitor what toml's
//! hands it for the same document (the same calls, in the same order, with the same spans:
//! `Spanned` and TOML dates go through the very helpers toml uses), so the `Policy` is the
//! one `toml::from_str` gives; the tests in [`super`] compare the two on every shipped policy.
//!
//! An error here is never a policy error: snapshots are written only for policies toml
//! accepted, so a failure means a damaged snapshot (or a shape this reader does not know),
//! and the caller parses the text instead.

use std::fmt;
use std::ops::Range;

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use serde_spanned::de::SpannedDeserializer;
use toml_datetime::de::DatetimeDeserializer;

use super::encode::{ARRAY, DATETIME, FALSE, FLOAT, INTEGER, STRING, TABLE, TRUE};

/// Deeper nesting than any policy has means a damaged snapshot, not a policy.
const MAX_DEPTH: usize = 64;

#[derive(Debug)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

type Result<T> = std::result::Result<T, Error>;

fn damaged() -> Error {
    Error("damaged".into())
}

/// The document a payload holds, and where each line of the policy text starts.
pub fn document<'de, T: de::Deserialize<'de>>(payload: &'de [u8]) -> Result<(T, Vec<usize>)> {
    let mut b = Bytes {
        buf: payload,
        at: 0,
    };
    let span = b.span()?;
    let root = b.sized(span, TABLE, 0)?;
    let value = T::deserialize(root)?;
    let n = b.num()?;
    // One bounds check for the whole table: a call reads a thousand line starts and more.
    let table = b.take(n.checked_mul(4).ok_or_else(damaged)?)?;
    let starts: Vec<usize> = table
        .chunks_exact(4)
        .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]) as usize)
        .collect();
    // From 0, rising: the line index's binary search counts on it.
    let rising = starts.first() == Some(&0) && starts.windows(2).all(|w| w[0] < w[1]);
    if !rising || !b.is_empty() {
        return Err(damaged());
    }
    Ok((value, starts))
}

/// A cursor over one part of the payload.
#[derive(Clone, Copy)]
struct Bytes<'de> {
    buf: &'de [u8],
    at: usize,
}

impl<'de> Bytes<'de> {
    fn is_empty(&self) -> bool {
        self.at == self.buf.len()
    }

    fn take(&mut self, n: usize) -> Result<&'de [u8]> {
        let end = self.at.checked_add(n).ok_or_else(damaged)?;
        let b = self.buf.get(self.at..end).ok_or_else(damaged)?;
        self.at = end;
        Ok(b)
    }

    fn num(&mut self) -> Result<usize> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    }

    fn word(&mut self) -> Result<u64> {
        let b = self.take(8)?;
        Ok(u64::from_le_bytes([
            b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
        ]))
    }

    fn str(&mut self) -> Result<&'de str> {
        let n = self.num()?;
        let b = self.take(n)?;
        // Keys and values are short and nearly always ASCII, where std's validation cost
        // about 130 instructions a string in its set-up (a fifth of a 200-rule decode).
        if b.iter().all(|&c| c < 0x80) {
            // SAFETY: ASCII bytes are valid UTF-8.
            return Ok(unsafe { std::str::from_utf8_unchecked(b) });
        }
        std::str::from_utf8(b).map_err(|_| damaged())
    }

    fn span(&mut self) -> Result<Range<usize>> {
        Ok(self.num()?..self.num()?)
    }

    /// A table's or an array's contents (count, then items) as a value of their own.
    fn sized(&mut self, span: Range<usize>, tag: u8, depth: usize) -> Result<Value<'de>> {
        if depth > MAX_DEPTH {
            return Err(damaged());
        }
        let size = self.num()?;
        self.contents(span, tag, size, depth)
    }

    /// The next value: its tag, and its contents as a slice of their own.
    fn value(&mut self, span: Range<usize>, depth: usize) -> Result<Value<'de>> {
        let tag = *self.take(1)?.first().ok_or_else(damaged)?;
        let len = match tag {
            STRING | DATETIME => {
                let mut peek = *self;
                4 + peek.num()?
            }
            INTEGER | FLOAT => 8,
            FALSE | TRUE => 0,
            ARRAY | TABLE => return self.sized(span, tag, depth),
            _ => return Err(damaged()),
        };
        self.contents(span, tag, len, depth)
    }

    /// The next `len` bytes as the contents of a value.
    fn contents(
        &mut self,
        span: Range<usize>,
        tag: u8,
        len: usize,
        depth: usize,
    ) -> Result<Value<'de>> {
        let body = Bytes {
            buf: self.take(len)?,
            at: 0,
        };
        Ok(Value {
            span,
            tag,
            body,
            depth,
        })
    }
}

fn datetime(s: &str) -> Result<toml_datetime::Datetime> {
    s.parse().map_err(|_| damaged())
}

/// One value of the document, as toml's `ValueDeserializer` is one.
struct Value<'de> {
    span: Range<usize>,
    tag: u8,
    body: Bytes<'de>,
    depth: usize,
}

impl<'de> Value<'de> {
    fn entries(&self) -> Result<Entries<'de>> {
        let mut body = self.body;
        let left = body.num()?;
        Ok(Entries {
            body,
            left,
            depth: self.depth,
            value: None,
        })
    }
}

impl<'de> IntoDeserializer<'de, Error> for Value<'de> {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

impl<'de> de::Deserializer<'de> for Value<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let mut b = self.body;
        match self.tag {
            STRING => visitor.visit_borrowed_str(b.str()?),
            INTEGER => visitor.visit_i64(b.word()? as i64),
            FLOAT => visitor.visit_f64(f64::from_bits(b.word()?)),
            FALSE => visitor.visit_bool(false),
            TRUE => visitor.visit_bool(true),
            DATETIME => visitor.visit_map(DatetimeDeserializer::new(datetime(b.str()?)?)),
            ARRAY => visitor.visit_seq(self.entries()?),
            TABLE => visitor.visit_map(self.entries()?),
            _ => Err(damaged()),
        }
    }

    // A present value is `Some`: a missing key is what `None` stands for.
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        if serde_spanned::de::is_spanned(name) {
            let span = self.span.clone();
            return visitor.visit_map(SpannedDeserializer::new(self, span));
        }
        self.deserialize_any(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.tag {
            STRING => {
                let mut b = self.body;
                visitor.visit_enum(b.str()?.into_deserializer())
            }
            TABLE => {
                let entries = self.entries()?;
                if entries.left != 1 {
                    return Err(Error("wanted a table of exactly one entry".into()));
                }
                visitor.visit_enum(entries)
            }
            _ => Err(Error("wanted string or table".into())),
        }
    }

    serde::forward_to_deserialize_any! {
        bool u8 u16 u32 u64 u128 i8 i16 i32 i64 i128 f32 f64 char str string seq
        bytes byte_buf map unit ignored_any unit_struct tuple_struct tuple identifier
    }
}

/// A table's entries or an array's items, read as they are asked for.
struct Entries<'de> {
    body: Bytes<'de>,
    left: usize,
    depth: usize,
    value: Option<Value<'de>>,
}

impl Entries<'_> {
    /// Whether another item is there; the contents must end with the last.
    fn more(&mut self) -> Result<bool> {
        if self.left == 0 {
            return if self.body.is_empty() {
                Ok(false)
            } else {
                Err(damaged())
            };
        }
        self.left -= 1;
        Ok(true)
    }
}

impl<'de> de::SeqAccess<'de> for Entries<'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        if !self.more()? {
            return Ok(None);
        }
        let span = self.body.span()?;
        let value = self.body.value(span, self.depth + 1)?;
        seed.deserialize(value).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

impl<'de> de::MapAccess<'de> for Entries<'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        if !self.more()? {
            return Ok(None);
        }
        let span = self.body.span()?;
        let key = Key {
            key: self.body.str()?,
            span,
        };
        let span = self.body.span()?;
        self.value = Some(self.body.value(span, self.depth + 1)?);
        seed.deserialize(key).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        seed.deserialize(self.value.take().ok_or_else(damaged)?)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

impl<'de> de::EnumAccess<'de> for Entries<'de> {
    type Error = Error;
    type Variant = Value<'de>;

    fn variant_seed<V: DeserializeSeed<'de>>(mut self, seed: V) -> Result<(V::Value, Value<'de>)> {
        let variant = de::MapAccess::next_key_seed(&mut self, seed)?.ok_or_else(damaged)?;
        Ok((variant, self.value.take().ok_or_else(damaged)?))
    }
}

/// An enum variant's contents, as toml's `TableEnumDeserializer` reads them; shapes it
/// reads that no policy has (a tuple variant as a table of `0`, `1`, ...) are refused here,
/// which only means the text is parsed.
impl<'de> de::VariantAccess<'de> for Value<'de> {
    type Error = Error;

    fn unit_variant(self) -> Result<()> {
        match self.tag {
            ARRAY | TABLE if self.entries()?.left == 0 => Ok(()),
            _ => Err(Error("wanted an empty table".into())),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value> {
        if self.tag != ARRAY {
            return Err(Error("wanted an array".into()));
        }
        let entries = self.entries()?;
        if entries.left != len {
            return Err(Error(format!("expected tuple with length {len}")));
        }
        visitor.visit_seq(entries)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        de::Deserializer::deserialize_struct(self, "", fields, visitor)
    }
}

/// A table's key, as toml's `KeyDeserializer` reads one: a string, or a number or bool
/// spelled as one, with its own span.
struct Key<'de> {
    key: &'de str,
    span: Range<usize>,
}

macro_rules! parsed_key {
    ($($method:ident: $ty:ty),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            let key: $ty = self.key.parse().map_err(de::Error::custom)?;
            IntoDeserializer::<Error>::into_deserializer(key).$method(visitor)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Key<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_borrowed_str(self.key)
    }

    parsed_key! {
        deserialize_bool: bool, deserialize_i8: i8, deserialize_i16: i16, deserialize_i32: i32,
        deserialize_i64: i64, deserialize_i128: i128, deserialize_u8: u8, deserialize_u16: u16,
        deserialize_u32: u32, deserialize_u64: u64, deserialize_u128: u128,
        deserialize_char: char,
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_enum(IntoDeserializer::<Error>::into_deserializer(self.key))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        if serde_spanned::de::is_spanned(name) {
            return visitor.visit_map(SpannedDeserializer::<&str, Error>::new(self.key, self.span));
        }
        self.deserialize_any(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        f32 f64 str string seq bytes byte_buf map option unit ignored_any unit_struct
        tuple_struct tuple identifier
    }
}
