//! The Sigfox custom payload grammar (current generation):
//! `format = field ( " "+ field )*`, `field = name ":" [byte_index] ":" type ( ":" param )*`.
//!
//! A format is parsed once into a [`PayloadFormat`] whose fields already carry their resolved
//! start byte and bit offset, so decoding a payload does no parsing.

use std::fmt;

/// The largest Sigfox uplink payload, in bytes.
pub const MAX_PAYLOAD_LEN: usize = 12;

/// Limits applied while parsing a format. The defaults are generous for a 12-byte payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct FormatLimits {
    /// Longest accepted format string, in bytes (default 4096).
    pub max_format_len: usize,
    /// Most fields in one format (default 128: 96 single bits fit in 12 bytes, fields may overlap).
    pub max_fields: usize,
    /// Longest field name, in bytes (default 64).
    pub max_name_len: usize,
}

impl Default for FormatLimits {
    fn default() -> Self {
        Self {
            max_format_len: 4096,
            max_fields: 128,
            max_name_len: 64,
        }
    }
}

/// Byte order of a multi-byte field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endian {
    /// Most significant byte first (the default).
    Big,
    /// Least significant byte first; only for whole-byte lengths at the default bit offset.
    Little,
}

/// The type of one field, with its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FieldType {
    /// `bool:B`: bit B (0–7, 7 = MSB) of the start byte.
    Bool {
        /// The bit, 7 = most significant.
        bit: u8,
    },
    /// `char:N[:offset]`: N characters of 8 bits each.
    Char {
        /// Number of characters (1–12).
        len: u8,
    },
    /// `float:32|64[:endian][:offset]`: IEEE 754 binary32 or binary64.
    Float {
        /// 32 or 64.
        bits: u8,
        /// Byte order.
        endian: Endian,
    },
    /// `uint:L[:endian][:offset]`: unsigned integer of L bits (1–64).
    UInt {
        /// Length in bits.
        bits: u8,
        /// Byte order.
        endian: Endian,
    },
    /// `int:L[:endian][:offset]`: two's complement integer of L bits (1–64).
    Int {
        /// Length in bits.
        bits: u8,
        /// Byte order.
        endian: Endian,
    },
}

impl FieldType {
    /// Number of bits the field reads.
    pub fn bit_len(&self) -> u32 {
        match *self {
            FieldType::Bool { .. } => 1,
            FieldType::Char { len } => u32::from(len).saturating_mul(8),
            FieldType::Float { bits, .. }
            | FieldType::UInt { bits, .. }
            | FieldType::Int { bits, .. } => u32::from(bits),
        }
    }
}

/// One parsed field with its resolved position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    name: String,
    byte: u8,
    /// Bit of `byte` where reading starts, 7 = MSB.
    bit: u8,
    ty: FieldType,
    explicit_index: bool,
}

impl Field {
    /// The field name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The resolved start byte (explicit, or derived from the previous field).
    pub fn byte_index(&self) -> u8 {
        self.byte
    }
    /// The bit of the start byte where reading starts (7 = MSB).
    pub fn bit_offset(&self) -> u8 {
        self.bit
    }
    /// The field type.
    pub fn field_type(&self) -> FieldType {
        self.ty
    }
    /// Whether the byte index was written in the format.
    pub fn has_explicit_index(&self) -> bool {
        self.explicit_index
    }
    /// Position of the first bit read, counted from the MSB of byte 0.
    pub(crate) fn first_bit(&self) -> u32 {
        u32::from(self.byte)
            .saturating_mul(8)
            .saturating_add(7_u32.saturating_sub(u32::from(self.bit)))
    }
}

/// A parsed payload format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadFormat {
    fields: Vec<Field>,
}

/// What was wrong with a format.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FormatErrorKind {
    /// The format has no field.
    Empty,
    /// The format is longer than [`FormatLimits::max_format_len`].
    TooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// More fields than [`FormatLimits::max_fields`].
    TooManyFields {
        /// The limit.
        max: usize,
    },
    /// A field name is empty.
    EmptyName,
    /// A field name holds a character outside `[A-Za-z0-9_#-]`.
    InvalidName {
        /// The offending character.
        found: char,
    },
    /// A field name is longer than [`FormatLimits::max_name_len`].
    NameTooLong {
        /// The limit.
        max: usize,
    },
    /// Two fields have the same name.
    DuplicateName,
    /// The field lacks the `:` after its name or byte index.
    MissingSeparator,
    /// The byte index is not a decimal number from 0 to 255.
    InvalidByteIndex,
    /// The type is missing.
    MissingType,
    /// The type is not one of bool, char, float, uint, int.
    UnknownType(String),
    /// A required parameter is missing.
    MissingParameter(&'static str),
    /// A numeric parameter is not a decimal number.
    InvalidNumber(&'static str),
    /// `bool:B` with B above 7.
    BitOutOfRange(u64),
    /// A bit offset above 7.
    OffsetOutOfRange(u64),
    /// `float` of a size other than 32 or 64.
    FloatSize(u64),
    /// `uint`/`int` length outside 1..=64.
    LengthOutOfRange(u64),
    /// `char` length outside 1..=12.
    CharLengthOutOfRange(u64),
    /// The endianness is neither `big-endian`, `little-endian` nor empty.
    UnknownEndianness(String),
    /// More parameters than the type takes.
    TooManyParameters,
    /// little-endian on a length that is not whole bytes, or with a bit offset other than 7.
    UnsupportedLittleEndian,
}

impl FormatErrorKind {
    /// The variant name, stable for machine-readable output.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Empty => "Empty",
            Self::TooLong { .. } => "TooLong",
            Self::TooManyFields { .. } => "TooManyFields",
            Self::EmptyName => "EmptyName",
            Self::InvalidName { .. } => "InvalidName",
            Self::NameTooLong { .. } => "NameTooLong",
            Self::DuplicateName => "DuplicateName",
            Self::MissingSeparator => "MissingSeparator",
            Self::InvalidByteIndex => "InvalidByteIndex",
            Self::MissingType => "MissingType",
            Self::UnknownType(_) => "UnknownType",
            Self::MissingParameter(_) => "MissingParameter",
            Self::InvalidNumber(_) => "InvalidNumber",
            Self::BitOutOfRange(_) => "BitOutOfRange",
            Self::OffsetOutOfRange(_) => "OffsetOutOfRange",
            Self::FloatSize(_) => "FloatSize",
            Self::LengthOutOfRange(_) => "LengthOutOfRange",
            Self::CharLengthOutOfRange(_) => "CharLengthOutOfRange",
            Self::UnknownEndianness(_) => "UnknownEndianness",
            Self::TooManyParameters => "TooManyParameters",
            Self::UnsupportedLittleEndian => "UnsupportedLittleEndian",
        }
    }
}

impl fmt::Display for FormatErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => write!(f, "the format has no field"),
            Self::TooLong { len, max } => {
                write!(f, "the format is {len} bytes long, the limit is {max}")
            }
            Self::TooManyFields { max } => write!(f, "more than {max} fields"),
            Self::EmptyName => write!(f, "the field name is empty"),
            Self::InvalidName { found } => write!(
                f,
                "the field name holds {found:?}; names are made of A-Z a-z 0-9 _ # -"
            ),
            Self::NameTooLong { max } => write!(f, "the field name is longer than {max} bytes"),
            Self::DuplicateName => write!(f, "the field name is already used by another field"),
            Self::MissingSeparator => write!(f, "expected `name:byte_index:type`"),
            Self::InvalidByteIndex => {
                write!(f, "the byte index must be a decimal number from 0 to 255")
            }
            Self::MissingType => write!(f, "the type is missing"),
            Self::UnknownType(t) => write!(
                f,
                "unknown type {t:?}; the types are bool, char, float, uint, int"
            ),
            Self::MissingParameter(p) => write!(f, "the {p} parameter is missing"),
            Self::InvalidNumber(p) => write!(f, "the {p} parameter is not a decimal number"),
            Self::BitOutOfRange(b) => write!(f, "bool bit {b} is above 7"),
            Self::OffsetOutOfRange(o) => write!(f, "bit offset {o} is above 7"),
            Self::FloatSize(s) => write!(f, "float size {s} is neither 32 nor 64"),
            Self::LengthOutOfRange(l) => write!(f, "length {l} is outside 1..=64 bits"),
            Self::CharLengthOutOfRange(l) => write!(f, "char length {l} is outside 1..=12"),
            Self::UnknownEndianness(e) => write!(
                f,
                "unknown endianness {e:?}; use big-endian, little-endian or leave it empty"
            ),
            Self::TooManyParameters => write!(f, "too many parameters for this type"),
            Self::UnsupportedLittleEndian => write!(
                f,
                "little-endian needs a whole number of bytes and the default bit offset 7"
            ),
        }
    }
}

/// A format rejected, with where: the field (0-based index and its text) and the byte offset
/// in the format string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError {
    /// What was wrong.
    pub kind: FormatErrorKind,
    /// 0-based index of the field.
    pub field: usize,
    /// Byte offset in the format string where the problem starts.
    pub offset: usize,
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "payload format, field {} at byte {}: {}",
            self.field, self.offset, self.kind
        )
    }
}

impl std::error::Error for FormatError {}

impl std::str::FromStr for PayloadFormat {
    type Err = FormatError;
    fn from_str(s: &str) -> Result<Self, FormatError> {
        Self::parse(s)
    }
}

fn parse_num(s: &str, what: &'static str) -> Result<u64, FormatErrorKind> {
    if s.is_empty() || s.len() > 19 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(FormatErrorKind::InvalidNumber(what));
    }
    s.parse::<u64>()
        .map_err(|_| FormatErrorKind::InvalidNumber(what))
}

fn parse_endian(s: Option<&str>) -> Result<Endian, FormatErrorKind> {
    match s {
        None | Some("") | Some("big-endian") => Ok(Endian::Big),
        Some("little-endian") => Ok(Endian::Little),
        Some(other) => Err(FormatErrorKind::UnknownEndianness(other.to_owned())),
    }
}

fn parse_offset(s: Option<&str>) -> Result<Option<u8>, FormatErrorKind> {
    match s {
        None | Some("") => Ok(None),
        Some(s) => {
            let o = parse_num(s, "offset")?;
            u8::try_from(o)
                .ok()
                .filter(|o| *o <= 7)
                .map(Some)
                .ok_or(FormatErrorKind::OffsetOutOfRange(o))
        }
    }
}

/// One field before its position is resolved.
struct RawField<'a> {
    name: &'a str,
    index: Option<u8>,
    ty: FieldType,
    offset: Option<u8>,
}

fn parse_field<'a>(
    text: &'a str,
    limits: &FormatLimits,
) -> Result<RawField<'a>, (FormatErrorKind, usize)> {
    let mut parts = text.split(':');
    let Some(name) = parts.next().filter(|name| !name.is_empty()) else {
        return Err((FormatErrorKind::EmptyName, 0));
    };
    if let Some((i, found)) = name
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '#' | '-')))
    {
        return Err((FormatErrorKind::InvalidName { found }, i));
    }
    if name.len() > limits.max_name_len {
        return Err((
            FormatErrorKind::NameTooLong {
                max: limits.max_name_len,
            },
            0,
        ));
    }
    let mut at = name.len().saturating_add(1);
    let index_text = parts
        .next()
        .ok_or((FormatErrorKind::MissingSeparator, name.len()))?;
    let index = if index_text.is_empty() {
        None
    } else {
        let n = parse_num(index_text, "byte index")
            .map_err(|_| (FormatErrorKind::InvalidByteIndex, at))?;
        // Past the 12th byte a field can only decode to null, like any field outside the
        // payload; 255 bounds the index so every position prints back as a valid format.
        match u8::try_from(n) {
            Ok(n) => Some(n),
            Err(_) => return Err((FormatErrorKind::InvalidByteIndex, at)),
        }
    };
    at = at.saturating_add(index_text.len()).saturating_add(1);
    let type_name = match parts.next() {
        None => return Err((FormatErrorKind::MissingSeparator, at.saturating_sub(1))),
        Some("") => return Err((FormatErrorKind::MissingType, at)),
        Some(t) => t,
    };
    let params_at = at.saturating_add(type_name.len()).saturating_add(1);
    let params: Vec<&str> = parts.collect();
    let err = |k: FormatErrorKind| (k, params_at);
    let first = params.first().copied();
    let (ty, offset, taken) = match type_name {
        "bool" => {
            let b = parse_num(
                first.ok_or(err(FormatErrorKind::MissingParameter("bit")))?,
                "bit",
            )
            .map_err(err)?;
            let bit = u8::try_from(b)
                .ok()
                .filter(|b| *b <= 7)
                .ok_or(err(FormatErrorKind::BitOutOfRange(b)))?;
            (FieldType::Bool { bit }, Some(bit), 1)
        }
        "char" => {
            let n = parse_num(
                first.ok_or(err(FormatErrorKind::MissingParameter("length")))?,
                "length",
            )
            .map_err(err)?;
            let len = u8::try_from(n)
                .ok()
                .filter(|n| (1..=12).contains(n))
                .ok_or(err(FormatErrorKind::CharLengthOutOfRange(n)))?;
            let offset = parse_offset(params.get(1).copied()).map_err(err)?;
            (FieldType::Char { len }, offset, 2)
        }
        "float" | "uint" | "int" => {
            let what = if type_name == "float" {
                "size"
            } else {
                "length"
            };
            let n = parse_num(
                first.ok_or(err(FormatErrorKind::MissingParameter(what)))?,
                what,
            )
            .map_err(err)?;
            let endian = parse_endian(params.get(1).copied()).map_err(err)?;
            let offset = parse_offset(params.get(2).copied()).map_err(err)?;
            let ty = match type_name {
                "float" => match n {
                    32 | 64 => FieldType::Float {
                        bits: if n == 32 { 32 } else { 64 },
                        endian,
                    },
                    _ => return Err(err(FormatErrorKind::FloatSize(n))),
                },
                _ => {
                    let bits = u8::try_from(n)
                        .ok()
                        .filter(|n| (1..=64).contains(n))
                        .ok_or(err(FormatErrorKind::LengthOutOfRange(n)))?;
                    if type_name == "uint" {
                        FieldType::UInt { bits, endian }
                    } else {
                        FieldType::Int { bits, endian }
                    }
                }
            };
            // little-endian reverses whole bytes; a bit-aligned little-endian field has no
            // documented meaning, so it is refused rather than guessed.
            if endian == Endian::Little && (ty.bit_len() % 8 != 0 || offset.is_some_and(|o| o != 7))
            {
                return Err(err(FormatErrorKind::UnsupportedLittleEndian));
            }
            (ty, offset, 3)
        }
        other => return Err((FormatErrorKind::UnknownType(other.to_owned()), at)),
    };
    if params.len() > taken {
        return Err(err(FormatErrorKind::TooManyParameters));
    }
    Ok(RawField {
        name,
        index,
        ty,
        offset,
    })
}

impl PayloadFormat {
    /// Parses a format with the default [`FormatLimits`].
    pub fn parse(format: &str) -> Result<Self, FormatError> {
        Self::parse_with(format, &FormatLimits::default())
    }

    /// Parses a format. Fields are separated by one or more spaces; leading and trailing spaces
    /// are ignored.
    pub fn parse_with(format: &str, limits: &FormatLimits) -> Result<Self, FormatError> {
        if format.len() > limits.max_format_len {
            return Err(FormatError {
                kind: FormatErrorKind::TooLong {
                    len: format.len(),
                    max: limits.max_format_len,
                },
                field: 0,
                offset: limits.max_format_len,
            });
        }
        let mut fields: Vec<Field> = Vec::new();
        // Where the next field starts when it omits its byte index.
        let mut next_byte: u32 = 0;
        let mut pos = 0usize;
        for text in format.split(' ') {
            let start = pos;
            pos = pos.saturating_add(text.len()).saturating_add(1);
            if text.is_empty() {
                continue;
            }
            let index = fields.len();
            if index >= limits.max_fields {
                return Err(FormatError {
                    kind: FormatErrorKind::TooManyFields {
                        max: limits.max_fields,
                    },
                    field: index,
                    offset: start,
                });
            }
            let raw = parse_field(text, limits).map_err(|(kind, at)| FormatError {
                kind,
                field: index,
                offset: start.saturating_add(at),
            })?;
            if fields.iter().any(|f| f.name == raw.name) {
                return Err(FormatError {
                    kind: FormatErrorKind::DuplicateName,
                    field: index,
                    offset: start,
                });
            }
            // Omitted index: the byte after the previous field, or the last byte it used when
            // it carried a bit position. Past the 12th byte the field can only decode to null;
            // positions saturate at 255, which is past any payload.
            let byte = match raw.index {
                Some(b) => b,
                None => u8::try_from(next_byte).unwrap_or(u8::MAX),
            };
            let bit = raw.offset.unwrap_or(7);
            let field = Field {
                name: raw.name.to_owned(),
                byte,
                bit,
                ty: raw.ty,
                explicit_index: raw.index.is_some(),
            };
            let last_byte = field
                .first_bit()
                .saturating_add(field.ty.bit_len())
                .saturating_sub(1)
                / 8;
            next_byte = if raw.offset.is_some() {
                last_byte
            } else {
                last_byte.saturating_add(1)
            };
            fields.push(field);
        }
        if fields.is_empty() {
            return Err(FormatError {
                kind: FormatErrorKind::Empty,
                field: 0,
                offset: 0,
            });
        }
        Ok(Self { fields })
    }

    /// The fields, in format order.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }
}

impl fmt::Display for PayloadFormat {
    /// Prints the format back, with every byte index explicit.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, field) in self.fields.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{}:{}:", field.name, field.byte)?;
            let endian = |e: Endian| match e {
                Endian::Big => "big-endian",
                Endian::Little => "little-endian",
            };
            match field.ty {
                FieldType::Bool { bit } => write!(f, "bool:{bit}")?,
                FieldType::Char { len } => write!(f, "char:{len}:{}", field.bit)?,
                FieldType::Float { bits, endian: e } => {
                    write!(f, "float:{bits}:{}:{}", endian(e), field.bit)?
                }
                FieldType::UInt { bits, endian: e } => {
                    write!(f, "uint:{bits}:{}:{}", endian(e), field.bit)?
                }
                FieldType::Int { bits, endian: e } => {
                    write!(f, "int:{bits}:{}:{}", endian(e), field.bit)?
                }
            }
        }
        Ok(())
    }
}
