//! `tokio_util::codec` integration: `Framed<T, MqttCodec>` yields [`Packet`]s.

use bytes::BytesMut;
use tokio_util::codec::{Decoder, Encoder};

use crate::decode::{DecodeOptions, decode};
use crate::encode::Encode;
use crate::error::{DecodeError, EncodeError};
use crate::packet::Packet;

/// A `Decoder` and `Encoder` of MQTT 3.1.1 packets.
#[derive(Debug, Clone)]
pub struct MqttCodec {
    options: DecodeOptions,
}

impl MqttCodec {
    /// A codec that decodes with `options`.
    pub fn new(options: DecodeOptions) -> Self {
        Self { options }
    }
}

/// What can end a framed MQTT stream.
#[derive(Debug)]
#[non_exhaustive]
pub enum CodecError {
    /// The peer sent a malformed packet.
    Decode(DecodeError),
    /// A packet could not be encoded.
    Encode(EncodeError),
    /// The transport failed.
    Io(std::io::Error),
}

impl std::fmt::Display for CodecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CodecError::Decode(e) => e.fmt(f),
            CodecError::Encode(e) => e.fmt(f),
            CodecError::Io(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for CodecError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CodecError::Decode(e) => Some(e),
            CodecError::Encode(e) => Some(e),
            CodecError::Io(e) => Some(e),
        }
    }
}

impl From<std::io::Error> for CodecError {
    fn from(e: std::io::Error) -> Self {
        CodecError::Io(e)
    }
}

impl Decoder for MqttCodec {
    type Item = Packet;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Packet>, CodecError> {
        decode(src, &self.options).map_err(CodecError::Decode)
    }
}

impl<P: Encode> Encoder<P> for MqttCodec {
    type Error = CodecError;

    fn encode(&mut self, item: P, dst: &mut BytesMut) -> Result<(), CodecError> {
        item.encode(dst).map_err(CodecError::Encode)
    }
}
