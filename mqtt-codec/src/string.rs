//! MQTT's UTF-8 encoded strings (§1.5.3): well-formed UTF-8 without U+0000, at most 65,535 bytes.

use std::fmt;

use bytes::Bytes;

/// The longest string a two-byte length prefix can announce.
pub const MAX_STRING_LEN: usize = u16::MAX as usize;

/// What makes a byte sequence unfit to be an MQTT string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StringError {
    /// Not well-formed UTF-8, at this byte offset [MQTT-1.5.3-1].
    InvalidUtf8 {
        /// Offset of the first ill-formed byte.
        offset: usize,
    },
    /// Encodes a UTF-16 surrogate, which UTF-8 forbids [MQTT-1.5.3-1].
    Utf16Surrogate {
        /// Offset of the surrogate's first byte.
        offset: usize,
    },
    /// Contains U+0000 [MQTT-1.5.3-2].
    NullCharacter {
        /// Offset of the NUL byte.
        offset: usize,
    },
    /// Longer than 65,535 bytes.
    TooLong {
        /// The length in bytes.
        len: usize,
    },
}

impl fmt::Display for StringError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StringError::InvalidUtf8 { offset } => {
                write!(f, "ill-formed UTF-8 at byte {offset} [MQTT-1.5.3-1]")
            }
            StringError::Utf16Surrogate { offset } => {
                write!(f, "UTF-16 surrogate at byte {offset} [MQTT-1.5.3-1]")
            }
            StringError::NullCharacter { offset } => {
                write!(f, "U+0000 at byte {offset} [MQTT-1.5.3-2]")
            }
            StringError::TooLong { len } => write!(f, "{len} bytes is longer than 65535"),
        }
    }
}

impl std::error::Error for StringError {}

/// Borrows `bytes` as text if it is an MQTT string: well-formed UTF-8 without U+0000.
///
/// The length is not checked here: a decoded string cannot exceed its two-byte prefix.
#[inline]
pub(crate) fn mqtt_str(bytes: &[u8]) -> Result<&str, StringError> {
    check_mqtt_text(bytes)?;
    utf8(bytes)
}

/// Checks that `bytes` is well-formed UTF-8 without U+0000, errors in that order; text that is
/// all ASCII (the common case, found by the same pass that looks for U+0000) is UTF-8 already.
#[inline]
pub(crate) fn check_mqtt_text(bytes: &[u8]) -> Result<Scan, StringError> {
    let scan = scan(bytes);
    if !scan.ascii {
        utf8(bytes)?;
    }
    if scan.nul {
        check_no_null(bytes)?;
    }
    Ok(scan)
}

/// Borrows well-formed UTF-8 as text; std's check is the only safe way to a `&str`, and it is
/// the fast one (a word at a time over ASCII).
#[inline]
pub(crate) fn utf8(bytes: &[u8]) -> Result<&str, StringError> {
    std::str::from_utf8(bytes).map_err(|e| {
        let offset = e.valid_up_to();
        // std rejects surrogates as ill-formed; MQTT names them separately. A surrogate is
        // encoded as ED A0..BF xx.
        match bytes.get(offset..offset.saturating_add(2)) {
            Some([0xED, 0xA0..=0xBF]) => StringError::Utf16Surrogate { offset },
            _ => StringError::InvalidUtf8 { offset },
        }
    })
}

/// Points at the first U+0000, once [`scan`] has said there is one.
pub(crate) fn check_no_null(bytes: &[u8]) -> Result<(), StringError> {
    match bytes.iter().position(|&b| b == 0) {
        Some(offset) => Err(StringError::NullCharacter { offset }),
        None => Ok(()),
    }
}

/// What one pass over a string found.
pub(crate) struct Scan {
    /// Every byte is below 0x80.
    pub(crate) ascii: bool,
    /// Some byte is 0 (U+0000).
    pub(crate) nul: bool,
    /// Some byte is `+` or `#`.
    pub(crate) wildcard: bool,
}

/// One pass without early exit, eight bytes at a time with plain integer operations (the same
/// instructions on every target and at every call site, where the vectorizer's choices vary).
/// Valid text is the common case, so the position of what was found is looked for only when there
/// is something to report.
#[inline]
pub(crate) fn scan(bytes: &[u8]) -> Scan {
    let mut found = Found::default();
    let mut rest = bytes;
    while let Some((word, after)) = rest.split_first_chunk::<8>() {
        found.add(word);
        rest = after;
    }
    if !rest.is_empty() {
        // The tail: the last eight bytes again where there are that many (overlap is harmless).
        match bytes.last_chunk::<8>() {
            Some(last) => found.add(last),
            None => rest.iter().for_each(|&b| found.add_byte(b)),
        }
    }
    Scan {
        ascii: found.high == 0,
        nul: found.nul != 0,
        wildcard: found.wildcard != 0,
    }
}

/// What [`scan`] has seen so far: non-zero once something was found.
#[derive(Default)]
struct Found {
    high: u64,
    nul: u64,
    wildcard: u64,
}

impl Found {
    /// The classic test for a zero byte, `(v - 0x01..) & !v & 0x80..`, is non-zero exactly when
    /// some byte of `v` is zero; the bytes equal to `c` are the zero bytes of `v ^ c..`.
    #[inline]
    fn add(&mut self, word: &[u8; 8]) {
        const ONES: u64 = u64::from_le_bytes([0x01; 8]);
        const HIGH: u64 = u64::from_le_bytes([0x80; 8]);
        let zero_byte = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
        let v = u64::from_le_bytes(*word);
        self.high |= v & HIGH;
        self.nul |= zero_byte(v);
        self.wildcard |= zero_byte(v ^ u64::from_le_bytes([b'+'; 8]))
            | zero_byte(v ^ u64::from_le_bytes([b'#'; 8]));
    }

    #[inline]
    fn add_byte(&mut self, b: u8) {
        self.high |= u64::from(b >= 0x80);
        self.nul |= u64::from(b == 0);
        self.wildcard |= u64::from(b == b'+' || b == b'#');
    }
}

/// Re-borrows text whose validity the type already guarantees.
///
/// The crate forbids `unsafe`, so the check runs again (linear, no allocation); it cannot fail for
/// the crate's own validated types, and an empty string would be the answer if it ever did.
pub(crate) fn validated_str(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap_or_default()
}

fn validate_mqtt_string(bytes: &[u8]) -> Result<(), StringError> {
    if bytes.len() > MAX_STRING_LEN {
        return Err(StringError::TooLong { len: bytes.len() });
    }
    check_mqtt_text(bytes).map(drop)
}

/// Defines a newtype over `Bytes` whose content `$validate` has accepted, with the accessors and
/// conversions every validated string type of this crate shares.
macro_rules! validated_text {
    ($(#[$doc:meta])* $name:ident, $validate:path, $error:ty) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(bytes::Bytes);

        impl $name {
            /// Copies and validates `text`.
            pub fn new(text: &str) -> Result<Self, $error> {
                Self::try_from(bytes::Bytes::copy_from_slice(text.as_bytes()))
            }

            /// Validates a `'static` string without copying it.
            pub fn from_static(text: &'static str) -> Result<Self, $error> {
                Self::try_from(bytes::Bytes::from_static(text.as_bytes()))
            }

            /// Wraps bytes the decoder already validated.
            pub(crate) fn from_validated(bytes: bytes::Bytes) -> Self {
                Self(bytes)
            }

            /// The text.
            pub fn as_str(&self) -> &str {
                $crate::string::validated_str(&self.0)
            }

            /// The UTF-8 bytes.
            pub fn as_bytes(&self) -> &bytes::Bytes {
                &self.0
            }

            /// Length in bytes.
            pub fn len(&self) -> usize {
                self.0.len()
            }

            /// Whether it is empty (a client id may be; a topic never is).
            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }

            /// The underlying buffer.
            pub fn into_bytes(self) -> bytes::Bytes {
                self.0
            }
        }

        impl TryFrom<bytes::Bytes> for $name {
            type Error = $error;

            fn try_from(bytes: bytes::Bytes) -> Result<Self, $error> {
                $validate(&bytes)?;
                Ok(Self(bytes))
            }
        }

        impl TryFrom<&str> for $name {
            type Error = $error;

            fn try_from(text: &str) -> Result<Self, $error> {
                Self::new(text)
            }
        }

        impl std::str::FromStr for $name {
            type Err = $error;

            fn from_str(text: &str) -> Result<Self, $error> {
                Self::new(text)
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Debug::fmt(self.as_str(), f)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other.as_bytes()
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == other.as_bytes()
            }
        }

        /// Written as its text.
        #[cfg(feature = "serde")]
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        /// Read as text and validated as [`Self::new`] does.
        #[cfg(feature = "serde")]
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                Self::try_from(bytes::Bytes::from(text)).map_err(serde::de::Error::custom)
            }
        }
    };
}

pub(crate) use validated_text;

validated_text!(
    /// A validated MQTT UTF-8 string that shares the buffer it was decoded from.
    ///
    /// Used for the client identifier and the user name. Equality, ordering and hashing are those
    /// of the bytes.
    MqttString,
    validate_mqtt_string,
    StringError
);

impl Default for MqttString {
    fn default() -> Self {
        Self(Bytes::new())
    }
}
