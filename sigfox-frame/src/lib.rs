#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod grammar;
mod payload;

pub use grammar::{
    Endian, Field, FieldType, FormatError, FormatErrorKind, FormatLimits, MAX_PAYLOAD_LEN,
    PayloadFormat,
};
pub use payload::{DecodedPayload, FieldValue, PayloadError};
