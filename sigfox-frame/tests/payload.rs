//! The custom payload grammar: parsing rules, decoding rules and the issue's examples, as tables
//! of input → exact outcome; property tests at the end.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::panic,
    missing_docs
)] // Test code: a failed expectation should panic.

use proptest::prelude::*;
use serde_json::{Value, json};
use sigfox_frame::{
    Endian, FieldType, FieldValue, FormatError, FormatErrorKind, FormatLimits, PayloadError,
    PayloadFormat,
};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn decode(format: &str, data: &str) -> Value {
    let f = PayloadFormat::parse(format).unwrap_or_else(|e| panic!("{format}: {e}"));
    f.decode(&hex(data)).unwrap().to_json()
}

#[test]
fn issue_examples() {
    assert_eq!(
        decode("b1::bool:7 b2::bool:6 i1:1:uint:16", "C01234"),
        json!({"b1": true, "b2": true, "i1": 4660})
    );
    assert_eq!(
        decode(
            "str::char:6 i1::uint:16 i2::uint:32",
            "41424344454601234567890A"
        ),
        json!({"str": "ABCDEF", "i1": 291, "i2": 1164413194u64})
    );
}

#[test]
fn decoding_rules() {
    let cases: &[(&str, &str, &str, Value)] = &[
        // Bit offset: low nibble of byte 1.
        (
            "offset-low-nibble",
            "Status:1:uint:4::3",
            "00A5",
            json!({"Status": 5}),
        ),
        (
            "offset-high-nibble-default",
            "s:1:uint:4",
            "00A5",
            json!({"s": 10}),
        ),
        // int over 12 bits: low nibble of byte 0 then byte 1; 0xFFF = -1.
        (
            "int12-negative",
            "temp:0:int:12:big-endian:3",
            "AFFF",
            json!({"temp": -1}),
        ),
        (
            "int12-positive",
            "temp:0:int:12:big-endian:3",
            "F7FF",
            json!({"temp": 2047}),
        ),
        (
            "int12-min",
            "temp:0:int:12:big-endian:3",
            "0800",
            json!({"temp": -2048}),
        ),
        ("int8", "t::int:8", "80", json!({"t": -128})),
        ("int1", "t::int:1", "80", json!({"t": -1})),
        ("uint1", "t::uint:1", "80", json!({"t": 1})),
        // No bit cursor: two 4-bit fields read two bytes.
        (
            "no-bit-cursor",
            "a::uint:4 b::uint:4",
            "1234",
            json!({"a": 1, "b": 3}),
        ),
        // After a field with an explicit offset the next starts at the last byte it used.
        (
            "after-offset",
            "a::uint:4::3 b::uint:8",
            "1234",
            json!({"a": 2, "b": 0x12}),
        ),
        (
            "after-offset-spanning",
            "a:0:uint:12::3 b::uint:8",
            "123456",
            json!({"a": 0x234, "b": 0x34}),
        ),
        // After a bool the next starts at the same byte.
        (
            "after-bool",
            "f::bool:0 v::uint:8",
            "0102",
            json!({"f": true, "v": 1}),
        ),
        (
            "bool-bits",
            "a::bool:0 b::bool:7 c::bool:3",
            "89",
            json!({"a": true, "b": true, "c": true}),
        ),
        // Little-endian whole bytes.
        (
            "le16",
            "v::uint:16:little-endian",
            "3412",
            json!({"v": 0x1234}),
        ),
        (
            "le32",
            "v::uint:32:little-endian",
            "78563412",
            json!({"v": 0x12345678}),
        ),
        (
            "le-int16",
            "v::int:16:little-endian",
            "FEFF",
            json!({"v": -2}),
        ),
        (
            "le-explicit-offset-7",
            "v::uint:16:little-endian:7",
            "3412",
            json!({"v": 0x1234}),
        ),
        ("empty-endian", "v::uint:16:", "1234", json!({"v": 0x1234})),
        // uint:64 keeps u64 precision.
        (
            "uint64",
            "v::uint:64",
            "FFFFFFFFFFFFFFFF",
            json!({"v": u64::MAX}),
        ),
        (
            "uint64-odd",
            "v::uint:64",
            "FFFFFFFFFFFFFFFE",
            json!({"v": 18446744073709551614u64}),
        ),
        (
            "int64",
            "v::int:64",
            "8000000000000000",
            json!({"v": i64::MIN}),
        ),
        ("float32", "f::float:32", "3FC00000", json!({"f": 1.5})),
        (
            "float32-le",
            "f::float:32:little-endian",
            "0000C03F",
            json!({"f": 1.5}),
        ),
        (
            "float64",
            "f::float:64",
            "3FF8000000000000",
            json!({"f": 1.5}),
        ),
        (
            "float-nan-is-null",
            "f::float:32",
            "7FC00000",
            json!({"f": null}),
        ),
        // Fields outside the payload are null, the rest still decodes.
        (
            "out-of-range",
            "a::uint:8 b::uint:16",
            "01",
            json!({"a": 1, "b": null}),
        ),
        (
            "past-12-bytes",
            "a:11:uint:8 b::uint:8",
            "000000000000000000000007",
            json!({"a": 7, "b": null}),
        ),
        ("empty-payload", "a::bool:7", "", json!({"a": null})),
        // Overlapping fields are legal.
        (
            "overlap",
            "w:0:uint:16 hi:0:uint:8 lo:1:uint:8",
            "ABCD",
            json!({"w": 0xABCD, "hi": 0xAB, "lo": 0xCD}),
        ),
        ("char-latin1", "s::char:2", "41E9", json!({"s": "Aé"})),
        ("char-offset", "s::char:1:3", "0410", json!({"s": "A"})),
        (
            "spaces",
            "  a::uint:8    b::uint:8 ",
            "0102",
            json!({"a": 1, "b": 2}),
        ),
    ];
    for (rule, format, data, expected) in cases {
        assert_eq!(
            &decode(format, data),
            expected,
            "{rule}: {format} on {data}"
        );
    }
}

#[test]
fn resolved_positions() {
    let f = PayloadFormat::parse("a::uint:4 b::bool:2 c::uint:8:big-endian:5 d::char:2").unwrap();
    let pos: Vec<(u8, u8)> = f
        .fields()
        .iter()
        .map(|f| (f.byte_index(), f.bit_offset()))
        .collect();
    assert_eq!(pos, [(0, 7), (1, 2), (1, 5), (2, 7)]);
    assert_eq!(
        f.fields()[2].field_type(),
        FieldType::UInt {
            bits: 8,
            endian: Endian::Big
        }
    );
    assert_eq!(
        f.to_string(),
        "a:0:uint:4:big-endian:7 b:1:bool:2 c:1:uint:8:big-endian:5 d:2:char:2:7"
    );
}

#[test]
fn format_rejections() {
    use FormatErrorKind::*;
    let cases: &[(&str, FormatErrorKind, usize, usize)] = &[
        ("", Empty, 0, 0),
        ("   ", Empty, 0, 0),
        ("a::bool:8", BitOutOfRange(8), 0, 8),
        ("a::uint:4::8", OffsetOutOfRange(8), 0, 8),
        ("a::float:16", FloatSize(16), 0, 9),
        ("a::uint:0", LengthOutOfRange(0), 0, 8),
        ("a::int:65", LengthOutOfRange(65), 0, 7),
        ("a::char:0", CharLengthOutOfRange(0), 0, 8),
        ("a::char:13", CharLengthOutOfRange(13), 0, 8),
        ("a::string:4", UnknownType("string".into()), 0, 3),
        (
            "a::uint:8:middle-endian",
            UnknownEndianness("middle-endian".into()),
            0,
            8,
        ),
        ("a::uint", MissingParameter("length"), 0, 8),
        ("a::bool", MissingParameter("bit"), 0, 8),
        ("a::float", MissingParameter("size"), 0, 9),
        ("a::char", MissingParameter("length"), 0, 8),
        ("a::uint:x", InvalidNumber("length"), 0, 8),
        ("a::bool:7:1", TooManyParameters, 0, 8),
        ("a::uint:8:big-endian:7:1", TooManyParameters, 0, 8),
        ("a::char:2:7:1", TooManyParameters, 0, 8),
        ("a::uint:12:little-endian", UnsupportedLittleEndian, 0, 8),
        ("a::uint:16:little-endian:3", UnsupportedLittleEndian, 0, 8),
        ("a:256:uint:8", InvalidByteIndex, 0, 2),
        ("a:99999999999999999999:uint:8", InvalidByteIndex, 0, 2),
        ("a:x:uint:8", InvalidByteIndex, 0, 2),
        ("a", MissingSeparator, 0, 1),
        ("a:0", MissingSeparator, 0, 3),
        ("a::", MissingType, 0, 3),
        (":0:uint:8", EmptyName, 0, 0),
        ("a.b::uint:8", InvalidName { found: '.' }, 0, 1),
        ("ok::uint:8 ok::uint:8", DuplicateName, 1, 11),
        ("ok::uint:8 b::bool:9", BitOutOfRange(9), 1, 19),
    ];
    for (format, kind, field, offset) in cases {
        assert_eq!(
            PayloadFormat::parse(format),
            Err(FormatError {
                kind: kind.clone(),
                field: *field,
                offset: *offset
            }),
            "{format}"
        );
    }
}

#[test]
fn limits() {
    let limits = {
        let mut options = FormatLimits::default();
        options.max_format_len = 20;
        options.max_fields = 2;
        options.max_name_len = 3;
        options
    };
    assert_eq!(
        PayloadFormat::parse_with("abcd::uint:8", &limits)
            .unwrap_err()
            .kind,
        FormatErrorKind::NameTooLong { max: 3 }
    );
    assert_eq!(
        PayloadFormat::parse_with("a::bool:1 b::bool:2 c::bool:3", &limits)
            .unwrap_err()
            .kind,
        FormatErrorKind::TooLong { len: 29, max: 20 }
    );
    assert_eq!(
        PayloadFormat::parse_with("a::bool:1 b::bool:2 c::bool:3", &{
            let mut options = limits;
            options.max_format_len = 100;
            options
        })
        .unwrap_err(),
        FormatError {
            kind: FormatErrorKind::TooManyFields { max: 2 },
            field: 2,
            offset: 20
        }
    );
    let f = PayloadFormat::parse("a::uint:8").unwrap();
    assert_eq!(f.decode(&[0; 13]), Err(PayloadError::TooLong { len: 13 }));
}

#[test]
fn error_messages() {
    let e = PayloadFormat::parse("temp::uint:8 hum::bool:9").unwrap_err();
    assert_eq!(
        e.to_string(),
        "payload format, field 1 at byte 23: bool bit 9 is above 7"
    );
    assert_eq!(e.kind.name(), "BitOutOfRange");
}

#[test]
fn typed_values() {
    let f = PayloadFormat::parse("a::uint:8 b::int:8 c::bool:0").unwrap();
    let d = f.decode(&[0xff, 0xff]).unwrap();
    assert_eq!(d.get("a"), Some(&FieldValue::UInt(255)));
    assert_eq!(d.get("b"), Some(&FieldValue::Int(-1)));
    assert_eq!(d.get("c"), None);
    assert_eq!(d.get("missing"), None);
}

// ---- property tests ----

/// A generated field: (bit length, explicit byte, bit offset, signed).
#[derive(Debug, Clone)]
struct Gen {
    len: u32,
    byte: u32,
    offset: u32,
    signed: bool,
    value: u64,
}

fn gen_field() -> impl Strategy<Value = Gen> {
    (1u32..=64, 0u32..12, 0u32..8, any::<bool>(), any::<u64>()).prop_map(
        |(len, byte, offset, signed, value)| {
            let mask = if len == 64 {
                u64::MAX
            } else {
                (1u64 << len) - 1
            };
            Gen {
                len,
                byte,
                offset,
                signed,
                value: value & mask,
            }
        },
    )
}

fn write_bits(buf: &mut [u8], first: u32, len: u32, value: u64) {
    for i in 0..len {
        let bit = (value >> (len - 1 - i)) & 1;
        let pos = first + i;
        let byte = &mut buf[(pos / 8) as usize];
        let mask = 1u8 << (7 - pos % 8);
        if bit == 1 {
            *byte |= mask;
        } else {
            *byte &= !mask;
        }
    }
}

proptest! {
    #[test]
    fn grammar_parsing_never_panics(s in "\\PC{0,80}") {
        let _ = PayloadFormat::parse(&s);
    }

    #[test]
    fn grammar_like_parsing_never_panics(
        s in "([a-z#_-]{0,3}:[0-9]{0,2}:(bool|char|float|uint|int|x)(:[0-9]{0,3}|:big-endian|:little-endian|:){0,4} {1,2}){1,6}"
    ) {
        if let Ok(f) = PayloadFormat::parse(&s) {
            // Printed back with explicit positions, it parses to the same fields.
            let again = PayloadFormat::parse(&f.to_string()).unwrap();
            prop_assert_eq!(again.fields().len(), f.fields().len());
            for (a, b) in again.fields().iter().zip(f.fields()) {
                prop_assert_eq!((a.name(), a.byte_index(), a.bit_offset(), a.field_type()),
                                (b.name(), b.byte_index(), b.bit_offset(), b.field_type()));
            }
        }
    }

    #[test]
    fn decoding_random_bytes_never_panics(
        s in "([a-z]{1,3}:[0-9]{0,2}:(bool|char|float|uint|int)(:[0-9]{0,2}|:big-endian|:little-endian|:){0,3} ){1,8}",
        data in proptest::collection::vec(any::<u8>(), 0..=13),
    ) {
        if let Ok(f) = PayloadFormat::parse(&s) {
            match f.decode(&data) {
                Ok(d) => { let _ = d.to_json(); }
                Err(e) => prop_assert_eq!(e, PayloadError::TooLong { len: data.len() }),
            }
        }
    }

    #[test]
    fn encode_then_decode_round_trips(fields in proptest::collection::vec(gen_field(), 1..6)) {
        // Fields are laid out at explicit positions; later ones overwrite earlier overlapping
        // bits, so only fields whose bits no later field touches are compared.
        let mut buf = [0u8; 12];
        let mut format = Vec::new();
        let mut spans = Vec::new();
        for (i, g) in fields.iter().enumerate() {
            let first = g.byte * 8 + (7 - g.offset);
            let ty = if g.signed { "int" } else { "uint" };
            format.push(format!("f{i}:{}:{ty}:{}::{}", g.byte, g.len, g.offset));
            if first + g.len <= 96 {
                write_bits(&mut buf, first, g.len, g.value);
            }
            spans.push((first, first + g.len));
        }
        let f = PayloadFormat::parse(&format.join(" ")).unwrap();
        let d = f.decode(&buf).unwrap();
        for (i, g) in fields.iter().enumerate() {
            let (start, end) = spans[i];
            let got = d.get(&format!("f{i}"));
            if end > 96 {
                prop_assert_eq!(got, None);
                continue;
            }
            let clobbered = spans[i + 1..]
                .iter()
                .zip(&fields[i + 1..])
                .any(|(&(s, e), _)| e <= 96 && s < end && start < e);
            if clobbered {
                continue;
            }
            let expected = if g.signed {
                let shift = 64 - g.len;
                FieldValue::Int(((g.value << shift) as i64) >> shift)
            } else {
                FieldValue::UInt(g.value)
            };
            prop_assert_eq!(got, Some(&expected));
        }
    }
    #[test]
    fn implicit_layouts_of_every_type_round_trip(fields in proptest::collection::vec(gen_typed(), 1..8)) {
        // A model of the position rules: an omitted byte index follows the previous field
        // (its last byte after a bit position, else the byte after it).
        let mut buf = [0u8; 12];
        let mut format = Vec::new();
        let mut spans = Vec::new();
        let mut next = 0u32;
        for (i, t) in fields.iter().enumerate() {
            let byte = t.byte.unwrap_or(next);
            let first = byte * 8 + (7 - t.offset.unwrap_or(7));
            let last = (first + t.len - 1) / 8;
            next = if t.offset.is_some() { last } else { last + 1 };
            let index = t.byte.map(|b| b.to_string()).unwrap_or_default();
            format.push(format!("f{i}:{index}:{}", t.spec));
            if first + t.len <= 96 {
                write_bits(&mut buf, first, t.len, t.raw);
            }
            spans.push((first, first + t.len));
        }
        let f = PayloadFormat::parse(&format.join(" ")).unwrap();
        let d = f.decode(&buf).unwrap();
        for (i, t) in fields.iter().enumerate() {
            let (start, end) = spans[i];
            let got = d.get(&format!("f{i}"));
            if end > 96 {
                prop_assert_eq!(got, None, "{}", format.join(" "));
                continue;
            }
            if spans[i + 1..].iter().any(|&(s, e)| e <= 96 && s < end && start < e) {
                continue;
            }
            match (&t.expected, got) {
                (FieldValue::Float(x), Some(FieldValue::Float(y))) if x.is_nan() => prop_assert!(y.is_nan()),
                (expected, got) => prop_assert_eq!(got, Some(expected), "{}", format.join(" ")),
            }
        }
    }
}

/// A field of any type: its format text after the byte index, its bit length, its explicit
/// byte index and bit offset, the bits to write (already byte-swapped for little-endian) and
/// the value it must decode to.
#[derive(Debug, Clone)]
struct Typed {
    spec: String,
    len: u32,
    byte: Option<u32>,
    offset: Option<u32>,
    raw: u64,
    expected: FieldValue,
}

fn mask(len: u32) -> u64 {
    if len == 64 {
        u64::MAX
    } else {
        (1u64 << len) - 1
    }
}

fn swap(v: u64, len: u32) -> u64 {
    let bytes = v.to_be_bytes();
    let n = (len / 8) as usize;
    let mut out = 0u64;
    for b in bytes[8 - n..].iter().rev() {
        out = (out << 8) | u64::from(*b);
    }
    out
}

fn gen_typed() -> impl Strategy<Value = Typed> {
    let byte = proptest::option::of(0u32..12);
    (
        0u8..6,
        1u32..=64,
        byte,
        proptest::option::of(0u32..8),
        any::<bool>(),
        any::<u64>(),
    )
        .prop_map(|(kind, len, byte, offset, le, value)| match kind {
            0 => {
                let bit = offset.unwrap_or(7);
                Typed {
                    spec: format!("bool:{bit}"),
                    len: 1,
                    byte,
                    offset: Some(bit),
                    raw: value & 1,
                    expected: FieldValue::Bool(value & 1 == 1),
                }
            }
            1 => {
                let n = (len % 12) + 1;
                let bytes: Vec<u8> = (0..n).map(|i| (value >> ((i % 8) * 8)) as u8).collect();
                let raw_len = n * 8;
                // Up to 8 characters fit one u64 of bits; longer strings repeat its bytes.
                let text: String = bytes.iter().map(|b| char::from(*b)).collect();
                let o = offset.map(|o| format!(":{o}")).unwrap_or_default();
                if raw_len <= 64 {
                    let raw = bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
                    Typed {
                        spec: format!("char:{n}{o}"),
                        len: raw_len,
                        byte,
                        offset,
                        raw,
                        expected: FieldValue::Str(text),
                    }
                } else {
                    // Fall back to one character.
                    Typed {
                        spec: format!("char:1{o}"),
                        len: 8,
                        byte,
                        offset,
                        raw: u64::from(bytes[0]),
                        expected: FieldValue::Str(char::from(bytes[0]).to_string()),
                    }
                }
            }
            2 | 3 => {
                let signed = kind == 3;
                let le = le && len % 8 == 0;
                let offset = if le { None } else { offset };
                let v = value & mask(len);
                let expected = if signed {
                    let shift = 64 - len;
                    FieldValue::Int(((v << shift) as i64) >> shift)
                } else {
                    FieldValue::UInt(v)
                };
                let ty = if signed { "int" } else { "uint" };
                let endian = if le {
                    "little-endian"
                } else if value % 3 == 0 {
                    "big-endian"
                } else {
                    ""
                };
                let o = offset.map(|o| o.to_string()).unwrap_or_default();
                let spec = if endian.is_empty() && o.is_empty() {
                    format!("{ty}:{len}")
                } else {
                    format!("{ty}:{len}:{endian}:{o}")
                };
                Typed {
                    spec,
                    len,
                    byte,
                    offset,
                    raw: if le { swap(v, len) } else { v },
                    expected,
                }
            }
            _ => {
                let bits = if kind == 4 { 32 } else { 64 };
                let offset = if le { None } else { offset };
                let v = value & mask(bits);
                let expected = if bits == 32 {
                    FieldValue::Float(f64::from(f32::from_bits(v as u32)))
                } else {
                    FieldValue::Float(f64::from_bits(v))
                };
                let endian = if le { "little-endian" } else { "big-endian" };
                let o = offset.map(|o| format!(":{o}")).unwrap_or_default();
                Typed {
                    spec: format!("float:{bits}:{endian}{o}"),
                    len: bits,
                    byte,
                    offset,
                    raw: if le { swap(v, bits) } else { v },
                    expected,
                }
            }
        })
}

#[test]
fn positions_past_the_payload_print_back() {
    // 20 × uint:64 run far past byte 255: positions saturate and still print as a valid format.
    let text: Vec<String> = (0..40).map(|i| format!("f{i}::uint:64")).collect();
    let f = PayloadFormat::parse(&text.join(" ")).unwrap();
    assert_eq!(f.fields()[39].byte_index(), 255);
    let again = PayloadFormat::parse(&f.to_string()).unwrap();
    assert_eq!(again.fields().len(), 40);
    assert_eq!(again.fields()[39].byte_index(), 255);
    assert_eq!(
        f.decode(&[1; 12]).unwrap().get("f0"),
        Some(&FieldValue::UInt(0x0101010101010101))
    );
}
