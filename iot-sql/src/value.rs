//! SQL values and AWS's conversion table (SQL reference, "Data types" → "Conversions").

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use crate::decimal::{Decimal, Rounding};
use crate::version::SqlVersion;

/// The members of an object value. Keys are kept sorted (as `serde_json`'s default map does), so
/// outputs are deterministic; a duplicate key in a payload keeps its last value.
pub type Map = BTreeMap<String, Value>;

/// A value of the rules SQL.
///
/// `Undefined` is AWS's "not a value": a missing field, a function given invalid arguments, an
/// operator given mismatched types. It is dropped from output objects and propagates through
/// operators. `Binary` is a payload that is not JSON, reachable only through `*`.
#[derive(Debug, Clone, Default)]
pub enum Value {
    /// Not a value (a missing field, an invalid argument).
    #[default]
    Undefined,
    /// JSON `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A whole number. Results that overflow `i64` become `Decimal`.
    Int(i64),
    /// An exact decimal number (34 digits).
    Decimal(Decimal),
    /// A UTF-8 string.
    String(String),
    /// An array of values of any types.
    Array(Vec<Value>),
    /// An object with string keys.
    Object(Map),
    /// A non-JSON payload, as bytes.
    Binary(Vec<u8>),
}

/// The members of an array or object, in order.
enum Members<'a> {
    Array(std::slice::Iter<'a, Value>),
    Object(std::collections::btree_map::Values<'a, String, Value>),
}

impl<'a> Members<'a> {
    fn of(v: &'a Value) -> Option<Members<'a>> {
        match v {
            Value::Array(items) => Some(Members::Array(items.iter())),
            Value::Object(map) => Some(Members::Object(map.values())),
            _ => None,
        }
    }
}

impl<'a> Iterator for Members<'a> {
    type Item = &'a Value;

    fn next(&mut self) -> Option<&'a Value> {
        match self {
            Members::Array(items) => items.next(),
            Members::Object(values) => values.next(),
        }
    }
}

/// A number, after conversion.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Num {
    Int(i64),
    Dec(Decimal),
}

impl Num {
    pub(crate) fn to_decimal(self) -> Decimal {
        match self {
            Num::Int(i) => Decimal::from_i64(i),
            Num::Dec(d) => d,
        }
    }

    pub(crate) fn to_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Dec(d) => d.to_f64(),
        }
    }
}

/// Whether `s` matches `^-?\d+(\.\d+)?((?i)E-?\d+)?$`, the strings AWS converts to `Decimal`.
fn is_numeric_string(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i = i.saturating_add(1);
        }
        *i > start
    };
    if !digits(&mut i) {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i = i.saturating_add(1);
        if !digits(&mut i) {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i = i.saturating_add(1);
        if b.get(i) == Some(&b'-') {
            i = i.saturating_add(1);
        }
        if !digits(&mut i) {
            return false;
        }
    }
    i == b.len()
}

impl Value {
    /// The type's name as AWS's tables spell it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Undefined => "Undefined",
            Value::Null => "Null",
            Value::Bool(_) => "Boolean",
            Value::Int(_) => "Int",
            Value::Decimal(_) => "Decimal",
            Value::String(_) => "String",
            Value::Array(_) => "Array",
            Value::Object(_) => "Object",
            Value::Binary(_) => "Binary",
        }
    }

    /// Whether this is `Undefined`.
    pub fn is_undefined(&self) -> bool {
        matches!(self, Value::Undefined)
    }

    /// A string value.
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    /// A decimal value parsed from `s`; `Undefined` if `s` is not a number.
    pub fn decimal(s: &str) -> Value {
        s.parse().map_or(Value::Undefined, Value::Decimal)
    }

    /// Member `key` of an object; `Undefined` for a missing key or a non-object.
    pub fn get(&self, key: &str) -> &Value {
        static UNDEFINED: Value = Value::Undefined;
        match self {
            Value::Object(map) => map.get(key).unwrap_or(&UNDEFINED),
            _ => &UNDEFINED,
        }
    }

    /// Whether arrays and objects nest more than `max` deep in the value (a scalar is 0 deep,
    /// `[1]` and `{}` 1, `[[1]]` 2). Walks with a stack of iterators, one per open level, so it
    /// neither recurses nor allocates more than `max` entries.
    pub(crate) fn nests_deeper_than(&self, max: usize) -> bool {
        let Some(top) = Members::of(self) else {
            return false;
        };
        if max == 0 {
            return true;
        }
        let mut open = vec![top];
        while let Some(members) = open.last_mut() {
            match members.next() {
                None => {
                    open.pop();
                }
                Some(child) => {
                    if let Some(inner) = Members::of(child) {
                        if open.len() >= max {
                            return true;
                        }
                        open.push(inner);
                    }
                }
            }
        }
        false
    }

    /// Conversion to a number for operators and numeric functions: `Int` and `Decimal` as they
    /// are, a `String` matching AWS's number pattern as a `Decimal`, anything else `None`.
    pub(crate) fn to_num(&self) -> Option<Num> {
        match self {
            Value::Int(i) => Some(Num::Int(*i)),
            Value::Decimal(d) => Some(Num::Dec(*d)),
            Value::String(s) if is_numeric_string(s) => s.parse().ok().map(Num::Dec),
            _ => None,
        }
    }

    /// The "To int" conversion, rounding a `Decimal` as `mode` says.
    pub(crate) fn to_int(&self, mode: Rounding) -> Option<i64> {
        match self.to_num()? {
            Num::Int(i) => Some(i),
            Num::Dec(d) => d.to_i64(mode),
        }
    }

    /// The "To Boolean" conversion: booleans, and the strings "true"/"false" in any case.
    pub(crate) fn to_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        }
    }

    /// [`to_sql_string`](Self::to_sql_string), borrowing a string value instead of copying it.
    pub(crate) fn to_sql_str(&self) -> Option<std::borrow::Cow<'_, str>> {
        match self {
            Value::String(s) => Some(std::borrow::Cow::Borrowed(s)),
            other => other.to_sql_string().map(std::borrow::Cow::Owned),
        }
    }

    /// The "To string" conversion: numbers and booleans as text, arrays and objects as JSON,
    /// `Null` and `Undefined` as `None`.
    pub fn to_sql_string(&self) -> Option<String> {
        match self {
            Value::String(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Decimal(d) => Some(d.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Array(_) | Value::Object(_) => Some(self.to_json_string()),
            Value::Null | Value::Undefined | Value::Binary(_) => None,
        }
    }

    /// AWS's `=`: `Some(true/false)`, or `None` (Undefined) when either side is `Undefined`.
    /// Numbers compare numerically (`1 = 1.0`); mismatched types are unequal.
    pub(crate) fn sql_eq(&self, other: &Value) -> Option<bool> {
        match (self, other) {
            (Value::Undefined, _) | (_, Value::Undefined) => None,
            (Value::Int(a), Value::Int(b)) => Some(a == b),
            (Value::Int(_) | Value::Decimal(_), Value::Int(_) | Value::Decimal(_)) => {
                let (a, b) = (self.to_num()?.to_decimal(), other.to_num()?.to_decimal());
                Some(a.numeric_cmp(&b) == Ordering::Equal)
            }
            (Value::String(a), Value::String(b)) => Some(a == b),
            (Value::Bool(a), Value::Bool(b)) => Some(a == b),
            (Value::Null, Value::Null) => Some(true),
            (Value::Array(a), Value::Array(b)) => {
                if a.len() != b.len() {
                    return Some(false);
                }
                for (x, y) in a.iter().zip(b) {
                    if x.sql_eq(y) != Some(true) {
                        return Some(false);
                    }
                }
                Some(true)
            }
            (Value::Object(a), Value::Object(b)) => {
                if a.len() != b.len() {
                    return Some(false);
                }
                for ((ka, va), (kb, vb)) in a.iter().zip(b) {
                    if ka != kb || va.sql_eq(vb) != Some(true) {
                        return Some(false);
                    }
                }
                Some(true)
            }
            (Value::Binary(a), Value::Binary(b)) => Some(a == b),
            _ => Some(false),
        }
    }

    /// SQL version 2016-03-23 processes whole-number decimals (`10.0`) as `Int` (Data types).
    pub(crate) fn normalize(mut self, version: SqlVersion) -> Value {
        self.normalize_in_place(version);
        self
    }

    /// [`normalize`](Self::normalize) without moving: walks the value once, allocating nothing.
    pub(crate) fn normalize_in_place(&mut self, version: SqlVersion) {
        if !version.whole_decimals_are_ints() {
            return;
        }
        match self {
            Value::Decimal(d) if d.is_integer() => {
                if let Some(i) = d.to_i64(Rounding::Down) {
                    *self = Value::Int(i);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| v.normalize_in_place(version)),
            Value::Object(map) => map.values_mut().for_each(|v| v.normalize_in_place(version)),
            _ => {}
        }
    }

    /// Parses a JSON document. Numbers without a fraction or exponent that fit an `i64` become
    /// `Int`; every other number becomes the `Decimal` of its shortest double representation.
    pub fn from_json_slice(bytes: &[u8]) -> Result<Value, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// The JSON text of the value (`Undefined` members dropped; `Undefined` alone is empty).
    pub fn to_json_string(&self) -> String {
        let mut out = Vec::new();
        self.write_json(&mut out);
        // The writer copies `&str`s and writes ASCII, so this is UTF-8; were it not, the lossy
        // text is still the closest rendering (never an empty string).
        String::from_utf8(out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    /// Appends the JSON text of the value to `out`: decimals exactly as they print, `Undefined`
    /// members and elements dropped, `Undefined` alone as nothing, `Binary` as base64 text.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Value::Undefined => {}
            Value::Null => out.extend_from_slice(b"null"),
            Value::Bool(true) => out.extend_from_slice(b"true"),
            Value::Bool(false) => out.extend_from_slice(b"false"),
            Value::Int(i) => {
                use std::io::Write as _;
                let _ = write!(out, "{i}");
            }
            Value::Decimal(d) => {
                use std::io::Write as _;
                let _ = write!(out, "{d}");
            }
            Value::String(s) => write_json_string(s, out),
            Value::Array(items) => {
                out.push(b'[');
                let mut first = true;
                for item in items.iter().filter(|v| !v.is_undefined()) {
                    if !first {
                        out.push(b',');
                    }
                    first = false;
                    item.write_json(out);
                }
                out.push(b']');
            }
            Value::Object(map) => {
                out.push(b'{');
                let mut first = true;
                for (k, v) in map.iter().filter(|(_, v)| !v.is_undefined()) {
                    if !first {
                        out.push(b',');
                    }
                    first = false;
                    write_json_string(k, out);
                    out.push(b':');
                    v.write_json(out);
                }
                out.push(b'}');
            }
            Value::Binary(bytes) => {
                use base64::Engine as _;
                let text = base64::engine::general_purpose::STANDARD.encode(bytes);
                write_json_string(&text, out);
            }
        }
    }

    /// The value as a `serde_json::Value` (`Undefined` members dropped; `Undefined` alone is
    /// `None`). Decimals go through their text, so digits past a double's precision are lost
    /// unless serde_json's `arbitrary_precision` feature is enabled.
    pub fn to_json_value(&self) -> Option<serde_json::Value> {
        match self {
            Value::Undefined => None,
            other => serde_json::to_value(other).ok(),
        }
    }

    /// Converts from a `serde_json::Value`.
    pub fn from_json_value(v: &serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => number_value(n),
            serde_json::Value::String(s) => Value::String(s.clone()),
            serde_json::Value::Array(a) => {
                Value::Array(a.iter().map(Value::from_json_value).collect())
            }
            serde_json::Value::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json_value(v)))
                    .collect(),
            ),
        }
    }
}

/// Appends `s` as a JSON string literal.
pub(crate) fn write_json_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    let needs_escape = |b: &u8| matches!(b, b'"' | b'\\' | 0..=0x1f);
    // Runs of plain bytes, each ending with the byte to escape (but the last, maybe).
    for chunk in s.as_bytes().split_inclusive(needs_escape) {
        let Some((&b, run)) = chunk.split_last().filter(|(b, _)| needs_escape(b)) else {
            out.extend_from_slice(chunk);
            continue;
        };
        out.extend_from_slice(run);
        let escape: Option<&[u8]> = match b {
            b'"' => Some(b"\\\""),
            b'\\' => Some(b"\\\\"),
            b'\n' => Some(b"\\n"),
            b'\r' => Some(b"\\r"),
            b'\t' => Some(b"\\t"),
            0x08 => Some(b"\\b"),
            0x0c => Some(b"\\f"),
            _ => None,
        };
        match escape {
            Some(e) => out.extend_from_slice(e),
            None => {
                // Other control characters: \u00XX (RFC 8259 §7); rare enough to format.
                out.extend_from_slice(format!("\\u{b:04x}").as_bytes());
            }
        }
    }
    out.push(b'"');
}

fn number_value(n: &serde_json::Number) -> Value {
    if let Some(i) = n.as_i64() {
        return Value::Int(i);
    }
    if let Some(u) = n.as_u64() {
        return Value::Decimal(Decimal::new(i128::from(u), 0).unwrap_or(Decimal::ZERO));
    }
    n.to_string()
        .parse()
        .map_or(Value::Undefined, Value::Decimal)
}

impl PartialEq for Value {
    /// Structural equality: same type and content (`Int(1) != Decimal(1)`, but `Decimal(1.0) ==
    /// Decimal(1.00)`), `Undefined == Undefined`. This is not SQL's `=`.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Undefined, Value::Undefined) | (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Decimal(a), Value::Decimal(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::Array(a), Value::Array(b)) => a == b,
            (Value::Object(a), Value::Object(b)) => a == b,
            (Value::Binary(a), Value::Binary(b)) => a == b,
            _ => false,
        }
    }
}

impl fmt::Display for Value {
    /// The JSON text; `Undefined` prints as `undefined` (not JSON: it is never serialized).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Undefined => f.write_str("undefined"),
            other => f.write_str(&other.to_json_string()),
        }
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Undefined | Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            // Lossy beyond a double's precision; `write_json` keeps the exact text.
            Value::Decimal(d) => s.serialize_f64(d.to_f64()),
            Value::String(v) => s.serialize_str(v),
            Value::Array(items) => {
                let mut seq = s.serialize_seq(None)?;
                for item in items.iter().filter(|v| !v.is_undefined()) {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Object(map) => {
                let mut m = s.serialize_map(None)?;
                for (k, v) in map.iter().filter(|(_, v)| !v.is_undefined()) {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
            Value::Binary(bytes) => {
                use base64::Engine as _;
                s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
            }
        }
    }
}

/// Deserializes a JSON value; with `ints`, whole-number decimals become `Int` on the way in
/// (SQL 2016-03-23), so the payload is walked once.
#[derive(Clone, Copy)]
struct ValueSeed {
    ints: bool,
}

impl ValueSeed {
    fn decimal(self, d: Decimal) -> Value {
        if self.ints && d.is_integer() {
            if let Some(i) = d.to_i64(Rounding::Down) {
                return Value::Int(i);
            }
        }
        Value::Decimal(d)
    }
}

impl<'de> de::DeserializeSeed<'de> for ValueSeed {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        match i64::try_from(v) {
            Ok(i) => Ok(Value::Int(i)),
            // Twenty digits at most: a decimal holds 34.
            Err(_) => Decimal::new(i128::from(v), 0)
                .map(Value::Decimal)
                .ok_or_else(|| E::custom("integer out of the decimal range")),
        }
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        // JSON has no NaN or infinity (serde_json refuses a number out of the f64 range).
        Decimal::from_f64(v)
            .map(|d| self.decimal(d))
            .ok_or_else(|| E::custom("number out of the decimal range"))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        // An unknown length starts empty; a claimed one is capped (serde's cautious hint).
        let mut items = Vec::with_capacity(seq.size_hint().map_or(0, |n| n.min(1024)));
        while let Some(v) = seq.next_element_seed(self)? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(k) = map.next_key::<String>()? {
            let v = map.next_value_seed(self)?;
            out.insert(k, v);
        }
        Ok(Value::Object(out))
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueSeed { ints: false })
    }
}

/// Parses a payload as the SQL version sees it (whole decimals as `Int` from 2016-03-23).
pub(crate) fn parse_payload(bytes: &[u8], version: SqlVersion) -> Result<Value, serde_json::Error> {
    use serde::de::DeserializeSeed as _;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let v = ValueSeed {
        ints: version.whole_decimals_are_ints(),
    }
    .deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

impl From<serde_json::Value> for Value {
    fn from(v: serde_json::Value) -> Self {
        Value::from_json_value(&v)
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::String(v.to_owned())
    }
}

impl From<Decimal> for Value {
    fn from(v: Decimal) -> Self {
        Value::Decimal(v)
    }
}
