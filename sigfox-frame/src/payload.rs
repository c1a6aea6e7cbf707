//! Decoding a payload with a [`PayloadFormat`].

use std::fmt;

use serde_json::{Map, Value};

use crate::grammar::{Endian, Field, FieldType, MAX_PAYLOAD_LEN, PayloadFormat};

/// The value of one decoded field.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum FieldValue {
    /// `bool`.
    Bool(bool),
    /// `char`: each byte as the character of that code point (Latin-1), so any byte decodes.
    Str(String),
    /// `float`; a binary32 is widened exactly.
    Float(f64),
    /// `uint`, with full u64 precision.
    UInt(u64),
    /// `int`, sign-extended from its length.
    Int(i64),
}

impl FieldValue {
    /// The value as JSON; a NaN or infinite float becomes `null` (JSON has no such numbers).
    pub fn to_json(&self) -> Value {
        match self {
            FieldValue::Bool(b) => Value::Bool(*b),
            FieldValue::Str(s) => Value::String(s.clone()),
            FieldValue::Float(f) => {
                serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number)
            }
            FieldValue::UInt(u) => Value::from(*u),
            FieldValue::Int(i) => Value::from(*i),
        }
    }
}

/// A payload that cannot be decoded at all.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PayloadError {
    /// The payload is longer than the 12 bytes of a Sigfox uplink.
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
}

impl PayloadError {
    /// The variant name, stable for machine-readable output.
    pub fn name(&self) -> &'static str {
        match self {
            Self::TooLong { .. } => "PayloadTooLong",
        }
    }
}

impl fmt::Display for PayloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLong { len } => write!(
                f,
                "the payload is {len} bytes long; a Sigfox uplink carries at most {MAX_PAYLOAD_LEN}"
            ),
        }
    }
}

impl std::error::Error for PayloadError {}

/// A decoded payload: one value per field of the format, `None` where the field is not
/// entirely inside the payload.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedPayload<'f> {
    format: &'f PayloadFormat,
    values: Vec<Option<FieldValue>>,
}

impl<'f> DecodedPayload<'f> {
    /// `(name, value)` pairs in format order.
    pub fn iter(&self) -> impl Iterator<Item = (&'f str, Option<&FieldValue>)> + '_ {
        self.format
            .fields()
            .iter()
            .zip(self.values.iter())
            .map(|(f, v)| (f.name(), v.as_ref()))
    }

    /// The value of the field called `name`; `None` if there is no such field or it is null.
    pub fn get(&self, name: &str) -> Option<&FieldValue> {
        self.iter().find(|(n, _)| *n == name).and_then(|(_, v)| v)
    }

    /// A JSON object of the fields by name, `null` for fields outside the payload.
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        for (name, value) in self.iter() {
            map.insert(
                name.to_owned(),
                value.map_or(Value::Null, FieldValue::to_json),
            );
        }
        Value::Object(map)
    }
}

/// Reads `len` (1..=64) bits MSB-first starting at bit `first` (0 = MSB of byte 0).
fn read_bits(payload: &[u8], first: u32, len: u32) -> Option<u64> {
    let end = first.checked_add(len)?;
    let total = u32::try_from(payload.len()).ok()?.checked_mul(8)?;
    if len == 0 || len > 64 || end > total {
        return None;
    }
    let mut value: u64 = 0;
    for pos in first..end {
        let byte = *payload.get(usize::try_from(pos / 8).ok()?)?;
        let bit = byte.checked_shr(7 ^ (pos % 8)).unwrap_or(0) & 1;
        value = (value.checked_shl(1).unwrap_or(0)) | u64::from(bit);
    }
    Some(value)
}

/// Reverses the order of the `len / 8` low bytes of `value`.
fn swap_bytes(value: u64, len: u32) -> u64 {
    let n = len / 8;
    let mut out = 0u64;
    for i in 0..n {
        let byte = value.checked_shr(i.saturating_mul(8)).unwrap_or(0) & 0xff;
        out = out.checked_shl(8).unwrap_or(0) | byte;
    }
    out
}

fn decode_field(field: &Field, payload: &[u8]) -> Option<FieldValue> {
    let first = field.first_bit();
    let ty = field.field_type();
    let len = ty.bit_len();
    match ty {
        FieldType::Bool { .. } => read_bits(payload, first, 1).map(|b| FieldValue::Bool(b == 1)),
        FieldType::Char { len: n } => {
            let mut s = String::with_capacity(usize::from(n));
            for i in 0..u32::from(n) {
                let b = read_bits(payload, first.checked_add(i.checked_mul(8)?)?, 8)?;
                s.push(char::from(u8::try_from(b).ok()?));
            }
            Some(FieldValue::Str(s))
        }
        FieldType::Float { endian, .. }
        | FieldType::UInt { endian, .. }
        | FieldType::Int { endian, .. } => {
            let mut raw = read_bits(payload, first, len)?;
            if endian == Endian::Little {
                raw = swap_bytes(raw, len);
            }
            Some(match ty {
                FieldType::Float { bits: 32, .. } => {
                    FieldValue::Float(f64::from(f32::from_bits(u32::try_from(raw).ok()?)))
                }
                FieldType::Float { .. } => FieldValue::Float(f64::from_bits(raw)),
                FieldType::Int { .. } => {
                    // Two's complement over `len` bits: move the sign bit to bit 63, then
                    // shift back arithmetically.
                    let shift = 64u32.saturating_sub(len);
                    let wide = raw.checked_shl(shift).unwrap_or(0) as i64;
                    FieldValue::Int(wide.checked_shr(shift).unwrap_or(0))
                }
                _ => FieldValue::UInt(raw),
            })
        }
    }
}

impl PayloadFormat {
    /// Decodes a payload of at most 12 bytes. A field not entirely inside the payload decodes
    /// to `None`; only an over-long payload is an error.
    pub fn decode<'f>(&'f self, payload: &[u8]) -> Result<DecodedPayload<'f>, PayloadError> {
        if payload.len() > MAX_PAYLOAD_LEN {
            return Err(PayloadError::TooLong { len: payload.len() });
        }
        let values = self
            .fields()
            .iter()
            .map(|f| decode_field(f, payload))
            .collect();
        Ok(DecodedPayload {
            format: self,
            values,
        })
    }
}
