//! Encoding: an exact length first, then a write of exactly that many bytes.

use bytes::{BufMut, BytesMut};

use crate::error::EncodeError;
use crate::frame::{MAX_REMAINING_LENGTH, put_remaining_length, remaining_length_len};
use crate::packet::{
    ConnAck, Connect, Packet, PacketType, Publish, SubAck, Subscribe, Unsubscribe,
    encode_packet_id_only,
};
use crate::string::MAX_STRING_LEN;

/// A value that can be written as one MQTT frame.
pub trait Encode {
    /// The exact number of bytes [`Encode::encode`] writes when it succeeds.
    fn encoded_len(&self) -> usize;

    /// Appends the frame to `buf`, or refuses a value MQTT 3.1.1 does not allow and writes
    /// nothing.
    fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError>;
}

/// What each packet type supplies; the frame around it is written here, once.
pub(crate) trait Body {
    /// The first byte: type and flags.
    fn first_byte(&self) -> u8;
    /// The remaining length (may saturate for absurd values; `encode` then refuses them).
    fn body_len(&self) -> usize;
    /// Rejects values the type can represent but MQTT does not allow.
    fn check(&self) -> Result<(), EncodeError> {
        Ok(())
    }
    /// Writes the variable header and payload: exactly `body_len()` bytes.
    fn write_body(&self, buf: &mut BytesMut);
}

pub(crate) fn frame_len(body_len: usize) -> usize {
    body_len
        .saturating_add(remaining_length_len(body_len))
        .saturating_add(1)
}

pub(crate) fn encode_body<B: Body>(body: &B, buf: &mut BytesMut) -> Result<(), EncodeError> {
    body.check()?;
    let remaining_length = body.body_len();
    if remaining_length > MAX_REMAINING_LENGTH {
        return Err(EncodeError::PacketTooLarge { remaining_length });
    }
    buf.reserve(frame_len(remaining_length));
    buf.put_u8(body.first_byte());
    put_remaining_length(buf, remaining_length);
    body.write_body(buf);
    Ok(())
}

/// Length of a two-byte-prefixed field.
pub(crate) fn prefixed_len(len: usize) -> usize {
    len.saturating_add(2)
}

/// Refuses a field that a two-byte length cannot announce.
pub(crate) fn check_field(field: &'static str, len: usize) -> Result<(), EncodeError> {
    if len > MAX_STRING_LEN {
        Err(EncodeError::FieldTooLong { field, len })
    } else {
        Ok(())
    }
}

/// Writes a two-byte length and the bytes; the caller has checked the length with `check_field`.
pub(crate) fn put_prefixed(buf: &mut BytesMut, bytes: &[u8]) {
    buf.put_u16(u16::try_from(bytes.len()).unwrap_or(u16::MAX));
    buf.put_slice(bytes);
}

macro_rules! encode_via_body {
    ($($ty:ty),*) => {$(
        impl Encode for $ty {
            fn encoded_len(&self) -> usize {
                frame_len(Body::body_len(self))
            }

            fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
                encode_body(self, buf)
            }
        }
    )*};
}
encode_via_body!(Connect, ConnAck, Publish, Subscribe, SubAck, Unsubscribe);

impl Encode for Packet {
    fn encoded_len(&self) -> usize {
        match self {
            Packet::Connect(p) => p.encoded_len(),
            Packet::ConnAck(p) => p.encoded_len(),
            Packet::Publish(p) => p.encoded_len(),
            Packet::Subscribe(p) => p.encoded_len(),
            Packet::SubAck(p) => p.encoded_len(),
            Packet::Unsubscribe(p) => p.encoded_len(),
            Packet::PubAck(_)
            | Packet::PubRec(_)
            | Packet::PubRel(_)
            | Packet::PubComp(_)
            | Packet::UnsubAck(_) => 4,
            Packet::PingReq | Packet::PingResp | Packet::Disconnect => 2,
        }
    }

    fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        match self {
            Packet::Connect(p) => p.encode(buf),
            Packet::ConnAck(p) => p.encode(buf),
            Packet::Publish(p) => p.encode(buf),
            Packet::Subscribe(p) => p.encode(buf),
            Packet::SubAck(p) => p.encode(buf),
            Packet::Unsubscribe(p) => p.encode(buf),
            Packet::PubAck(id)
            | Packet::PubRec(id)
            | Packet::PubRel(id)
            | Packet::PubComp(id)
            | Packet::UnsubAck(id) => {
                encode_packet_id_only(self.packet_type(), *id, buf);
                Ok(())
            }
            Packet::PingReq | Packet::PingResp | Packet::Disconnect => {
                buf.put_slice(&[first_byte(self.packet_type()), 0]);
                Ok(())
            }
        }
    }
}

/// The first byte of a packet type whose flags are fixed.
pub(crate) fn first_byte(packet_type: PacketType) -> u8 {
    ((packet_type as u8) << 4) | packet_type.required_flags().unwrap_or(0)
}
