//! Incremental decoding of a byte stream into packets.

use bytes::{Buf, BytesMut};

use crate::error::DecodeError;
use crate::frame::{MAX_REMAINING_LENGTH, parse_fixed_header};
use crate::packet::{self, Packet, PacketType};
use crate::reader::Reader;

/// Which side of the connection is decoding. A server accepts only what clients send, and a
/// client only what servers send (§2.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Decodes CONNECT, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBSCRIBE, UNSUBSCRIBE,
    /// PINGREQ and DISCONNECT.
    Server,
    /// Decodes CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK and PINGRESP.
    Client,
}

/// What the decoder accepts. Strict MQTT 3.1.1; the only knob is the size limit.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DecodeOptions {
    /// The side of the connection decoding.
    pub role: Role,
    /// The largest frame accepted, fixed header included. Checked as soon as the remaining length
    /// is known, before any byte of the body is awaited or reserved.
    pub max_packet_size: usize,
}

impl DecodeOptions {
    /// 1 MiB: generous for device traffic (AWS IoT Core caps payloads at 128 KiB) and small
    /// enough that a hostile peer cannot make a connection hold much memory.
    pub const DEFAULT_MAX_PACKET_SIZE: usize = 1024 * 1024;

    /// Strict options for `role` with the default size limit.
    pub fn new(role: Role) -> Self {
        Self {
            role,
            max_packet_size: Self::DEFAULT_MAX_PACKET_SIZE,
        }
    }

    /// Options for a server decoding what clients send.
    pub fn server() -> Self {
        Self::new(Role::Server)
    }

    /// Options for a client decoding what servers send.
    pub fn client() -> Self {
        Self::new(Role::Client)
    }

    /// The same options with another size limit (capped at the protocol's own maximum frame).
    pub fn with_max_packet_size(mut self, max: usize) -> Self {
        self.max_packet_size = max.min(MAX_REMAINING_LENGTH.saturating_add(5));
        self
    }
}

/// Decodes the next packet from the front of `buf`.
///
/// - `Ok(Some(packet))`: one whole frame was removed from `buf` and decoded. Decoded strings,
///   topics and payloads share `buf`'s memory; nothing is copied and nothing is allocated (the
///   `bytes` crate allocates one small shared header the first time a freshly allocated buffer is
///   split, then never again for that buffer).
/// - `Ok(None)`: the frame is not complete. Nothing was consumed; once the frame's length is known
///   (and within the limit) enough capacity for the rest of it is reserved.
/// - `Err(e)`: the stream is malformed; the connection must be closed [MQTT-4.8.0-1]. If the
///   fixed header was at fault nothing was consumed, otherwise the offending frame was.
pub fn decode(buf: &mut BytesMut, options: &DecodeOptions) -> Result<Option<Packet>, DecodeError> {
    let Some(header) = parse_fixed_header(buf, options)? else {
        return Ok(None);
    };
    if let Some(missing) = header.frame_len.checked_sub(buf.len()).filter(|&n| n > 0) {
        buf.reserve(missing);
        return Ok(None);
    }
    let mut frame = buf.split_to(header.frame_len).freeze();
    frame.advance(header.header_len);
    let reader = Reader::new(frame, header.header_len);
    decode_body(header.packet_type, header.flags, reader)
}

fn decode_body(
    packet_type: PacketType,
    flags: u8,
    reader: Reader,
) -> Result<Option<Packet>, DecodeError> {
    let packet = match packet_type {
        PacketType::Connect => Packet::Connect(Box::new(packet::Connect::decode(reader)?)),
        PacketType::ConnAck => Packet::ConnAck(packet::ConnAck::decode(reader)?),
        PacketType::Publish => Packet::Publish(packet::Publish::decode(flags, reader)?),
        PacketType::PubAck => Packet::PubAck(packet::decode_packet_id_only(reader, packet_type)?),
        PacketType::PubRec => Packet::PubRec(packet::decode_packet_id_only(reader, packet_type)?),
        PacketType::PubRel => Packet::PubRel(packet::decode_packet_id_only(reader, packet_type)?),
        PacketType::PubComp => Packet::PubComp(packet::decode_packet_id_only(reader, packet_type)?),
        PacketType::Subscribe => Packet::Subscribe(packet::Subscribe::decode(reader)?),
        PacketType::SubAck => Packet::SubAck(packet::SubAck::decode(reader)?),
        PacketType::Unsubscribe => Packet::Unsubscribe(packet::Unsubscribe::decode(reader)?),
        PacketType::UnsubAck => {
            Packet::UnsubAck(packet::decode_packet_id_only(reader, packet_type)?)
        }
        // The framing layer has checked that these have no body.
        PacketType::PingReq => Packet::PingReq,
        PacketType::PingResp => Packet::PingResp,
        PacketType::Disconnect => Packet::Disconnect,
    };
    Ok(Some(packet))
}
