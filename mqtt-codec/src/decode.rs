//! Incremental decoding of a byte stream into packets.

use bytes::{Buf, BytesMut};

use crate::error::DecodeError;
use crate::frame::{FixedHeader, MAX_REMAINING_LENGTH, parse_fixed_header};
use crate::packet::{
    ConnAck, ConnectRef, Packet, PacketRef, PacketType, Publish, PublishFields, PublishRef,
    SubAckRef, SubscribeRef, UnsubscribeRef, decode_packet_id_only,
};
use crate::reader::Reader;
use crate::topic::TopicName;

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
///
/// This is [`decode_slice`] with the borrowed fields turned into slices of the frame.
#[inline]
pub fn decode(buf: &mut BytesMut, options: &DecodeOptions) -> Result<Option<Packet>, DecodeError> {
    let Some((header, _)) = parse_fixed_header(buf, options)? else {
        return Ok(None);
    };
    if let Some(missing) = header.frame_len.checked_sub(buf.len()).filter(|&n| n > 0) {
        buf.reserve(missing);
        return Ok(None);
    }
    let mut body = buf.split_to(header.frame_len).freeze();
    body.advance(header.header_len);
    let packet = if header.packet_type == PacketType::Publish {
        // The hot path: the topic is checked without being borrowed as text, and the payload is
        // the body's tail, so the body itself becomes the payload (one reference count fewer).
        let reader = Reader::new(&body, header.header_len);
        let fields =
            PublishFields::decode(header.flags, reader, |r| r.topic_name_bytes("topic name"))?;
        let topic = TopicName::from_validated(body.slice_ref(fields.topic));
        let payload_at = body.len().saturating_sub(fields.payload.len());
        let (dup, qos_pid, retain) = (fields.dup, fields.qos_pid, fields.retain);
        body.advance(payload_at);
        Packet::Publish(Publish {
            dup,
            qos_pid,
            retain,
            topic,
            payload: body,
        })
    } else {
        decode_body(&header, &body)?.to_packet_with(|field| body.slice_ref(field))
    };
    Ok(Some(packet))
}

/// Decodes the packet at the front of `bytes`, borrowing its strings, topics and payloads.
///
/// - `Ok(Some((packet, len)))`: the first `len` bytes are one whole frame, decoded; the next
///   frame starts at `bytes[len..]`.
/// - `Ok(None)`: the frame is not complete.
/// - `Err(e)`: the stream is malformed; the connection must be closed [MQTT-4.8.0-1].
///
/// The rules and the errors are exactly those of [`decode`]; this form copies nothing, counts no
/// references and allocates nothing, for callers that read packets in place.
///
/// ```
/// use mqtt_wire::{DecodeOptions, PacketRef, decode_slice};
///
/// let wire = [0x30, 0x0b, 0x00, 0x04, b'a', b'/', b'b', b'c', b'h', b'e', b'l', b'l', b'o'];
/// let (packet, len) = decode_slice(&wire, &DecodeOptions::server())?.expect("a whole frame");
/// let PacketRef::Publish(publish) = packet else { panic!("a PUBLISH") };
/// assert_eq!((publish.topic, publish.payload, len), ("a/bc", &b"hello"[..], 13));
/// assert_eq!(decode_slice(&wire[..5], &DecodeOptions::server())?, None);
/// # Ok::<(), mqtt_wire::DecodeError>(())
/// ```
#[inline]
pub fn decode_slice<'a>(
    bytes: &'a [u8],
    options: &DecodeOptions,
) -> Result<Option<(PacketRef<'a>, usize)>, DecodeError> {
    let Some((header, rest)) = parse_fixed_header(bytes, options)? else {
        return Ok(None);
    };
    let Some(body) = rest.get(..header.body_len) else {
        return Ok(None);
    };
    // PUBLISH, the packet of the hot path, is decoded in line; the rest in `decode_body`.
    let packet = if header.packet_type == PacketType::Publish {
        PacketRef::Publish(PublishRef::decode(
            header.flags,
            Reader::new(body, header.header_len),
        )?)
    } else {
        decode_body(&header, body)?
    };
    Ok(Some((packet, header.frame_len)))
}

/// Decodes the body of a frame whose fixed header is `header`.
#[inline]
fn decode_body<'a>(header: &FixedHeader, body: &'a [u8]) -> Result<PacketRef<'a>, DecodeError> {
    let reader = Reader::new(body, header.header_len);
    let packet_type = header.packet_type;
    Ok(match packet_type {
        PacketType::Connect => PacketRef::Connect(ConnectRef::decode(reader)?),
        PacketType::ConnAck => PacketRef::ConnAck(ConnAck::decode(reader)?),
        PacketType::Publish => PacketRef::Publish(PublishRef::decode(header.flags, reader)?),
        PacketType::PubAck => PacketRef::PubAck(decode_packet_id_only(reader, packet_type)?),
        PacketType::PubRec => PacketRef::PubRec(decode_packet_id_only(reader, packet_type)?),
        PacketType::PubRel => PacketRef::PubRel(decode_packet_id_only(reader, packet_type)?),
        PacketType::PubComp => PacketRef::PubComp(decode_packet_id_only(reader, packet_type)?),
        PacketType::Subscribe => PacketRef::Subscribe(SubscribeRef::decode(reader)?),
        PacketType::SubAck => PacketRef::SubAck(SubAckRef::decode(reader)?),
        PacketType::Unsubscribe => PacketRef::Unsubscribe(UnsubscribeRef::decode(reader)?),
        PacketType::UnsubAck => PacketRef::UnsubAck(decode_packet_id_only(reader, packet_type)?),
        // The framing layer has checked that these have no body.
        PacketType::PingReq => PacketRef::PingReq,
        PacketType::PingResp => PacketRef::PingResp,
        PacketType::Disconnect => PacketRef::Disconnect,
    })
}
