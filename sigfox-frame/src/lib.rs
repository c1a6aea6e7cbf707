#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod auth;
mod body;
mod callback;
mod frame;
mod grammar;
mod message;
mod payload;
mod reply;
mod sequence;
#[cfg(feature = "serde")]
mod serde_impls;

pub use auth::{Cidr, CidrAllowList, CidrError, SharedSecret, WeakSecret};
pub use body::BodyEncoding;
pub use callback::{
    Callback, CallbackError, CallbackKind, CallbackLimits, CallbackOptions, ComputedLocation,
    DeviceId, Duplicate, Key, LinkQuality, Reason,
};
pub use frame::{FrameClass, FrameError, UplinkFrame};
pub use grammar::{
    Endian, Field, FieldType, FormatError, FormatErrorKind, FormatLimits, MAX_PAYLOAD_LEN,
    PayloadFormat,
};
pub use message::{Message, TemplateError, TopicTemplate};
pub use payload::{DecodedPayload, FieldValue, PayloadError};
pub use reply::{BidirReply, DownlinkData, DownlinkError, HttpReply};
pub use sequence::{SeqClass, SequenceError, SequenceOptions, SequenceTracker};
