#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod decode;
mod encode;
mod error;
mod frame;
mod packet;
mod reader;
#[cfg(feature = "serde")]
mod serde_forms;
mod string;
pub mod subscriptions;
pub mod topic;

#[cfg(feature = "tokio-util")]
mod codec;

#[cfg(feature = "tokio-util")]
pub use codec::{CodecError, MqttCodec};
pub use decode::{DecodeOptions, Role, decode, decode_slice};
pub use encode::Encode;
pub use error::{DecodeError, DecodeErrorKind, EncodeError};
pub use frame::MAX_REMAINING_LENGTH;
pub use packet::{
    ConnAck, Connect, ConnectRef, ConnectReturnCode, Packet, PacketId, PacketRef, PacketType,
    Publish, PublishRef, QoS, QosPid, SubAck, SubAckRef, SubAckReturnCode, SubAckReturnCodes,
    Subscribe, SubscribeFilter, SubscribeFilterRef, SubscribeFilterRefs, SubscribeFilters,
    SubscribeRef, Unsubscribe, UnsubscribeFilterRefs, UnsubscribeFilters, UnsubscribeRef, Will,
    WillRef,
};
pub use string::{MAX_STRING_LEN, MqttString, StringError};
pub use subscriptions::SubscriptionTrie;
pub use topic::{TopicError, TopicFilter, TopicName};
