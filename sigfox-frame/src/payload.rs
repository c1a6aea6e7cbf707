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

/// A field width in bits, 1..=64, so that `64 - width` is a shift below 64.
#[derive(Debug, Clone, Copy)]
struct Width(u32);

impl Width {
    const BIT: Width = Width(1);
    const BYTE: Width = Width(8);

    fn new(bits: u32) -> Option<Width> {
        (1..=64).contains(&bits).then_some(Width(bits))
    }

    /// The bits of a `u64` above the field: 0..=63.
    fn spare(self) -> u32 {
        64u32.saturating_sub(self.0)
    }
}

/// Reads `width` bits MSB-first starting at bit `first` (0 = MSB of byte 0).
fn read_bits(payload: &[u8], first: u32, width: Width) -> Option<u64> {
    let end = first.checked_add(width.0)?;
    let total = u32::try_from(payload.len()).ok()?.checked_mul(8)?;
    if end > total {
        return None;
    }
    let mut value: u64 = 0;
    for pos in first..end {
        let byte = *payload.get(usize::try_from(pos / 8).ok()?)?;
        // Bit `pos % 8` from the top, rotated down to bit 0.
        let bit = byte.rotate_left((pos % 8).saturating_add(1)) & 1;
        // At most 64 bits are read, so none is shifted out.
        value = (value << 1) | u64::from(bit);
    }
    Some(value)
}

/// Reverses the order of the `width / 8` low bytes of `value`.
fn swap_bytes(value: u64, width: Width) -> u64 {
    value
        .to_le_bytes()
        .into_iter()
        .zip(0..width.0 / 8)
        .fold(0, |out, (byte, _)| (out << 8) | u64::from(byte))
}

fn decode_field(field: &Field, payload: &[u8]) -> Option<FieldValue> {
    let first = field.first_bit();
    let ty = field.field_type();
    match ty {
        FieldType::Bool { .. } => {
            read_bits(payload, first, Width::BIT).map(|b| FieldValue::Bool(b == 1))
        }
        FieldType::Char { len: n } => {
            let mut s = String::with_capacity(usize::from(n));
            for i in 0..u32::from(n) {
                let b = read_bits(payload, first.checked_add(i.checked_mul(8)?)?, Width::BYTE)?;
                s.push(char::from(u8::try_from(b).ok()?));
            }
            Some(FieldValue::Str(s))
        }
        FieldType::Float { endian, .. }
        | FieldType::UInt { endian, .. }
        | FieldType::Int { endian, .. } => {
            let width = Width::new(ty.bit_len())?;
            let mut raw = read_bits(payload, first, width)?;
            if endian == Endian::Little {
                raw = swap_bytes(raw, width);
            }
            Some(match ty {
                FieldType::Float { bits: 32, .. } => {
                    FieldValue::Float(f64::from(f32::from_bits(u32::try_from(raw).ok()?)))
                }
                FieldType::Float { .. } => FieldValue::Float(f64::from_bits(raw)),
                FieldType::Int { .. } => {
                    // Two's complement over `width` bits: move the sign bit to bit 63, then
                    // shift back arithmetically (by `spare` < 64, so wrapping never wraps).
                    let wide = raw.wrapping_shl(width.spare()) as i64;
                    FieldValue::Int(wide.wrapping_shr(width.spare()))
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
