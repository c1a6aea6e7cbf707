//! PUBLISH (§3.3): an application message.

use bytes::{BufMut, Bytes, BytesMut};

use super::{PacketType, QosPid};
use crate::encode::{Body, prefixed_len, put_prefixed};
use crate::error::{DecodeError, EncodeError};
use crate::reader::Reader;
use crate::topic::TopicName;

/// An application message. The topic and payload share the decoded buffer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Publish {
    /// Whether this is a re-delivery (§3.3.1.1). Never set at QoS 0.
    pub dup: bool,
    /// QoS and, for QoS 1 and 2, the packet identifier.
    pub qos_pid: QosPid,
    /// Whether the server should retain the message (§3.3.1.3).
    pub retain: bool,
    /// Where the message is published; never contains a wildcard.
    pub topic: TopicName,
    /// The application message, any bytes.
    pub payload: Bytes,
}

impl Publish {
    /// A first delivery (DUP clear) of `payload` to `topic`.
    pub fn new(topic: TopicName, qos_pid: QosPid, payload: impl Into<Bytes>) -> Self {
        Self {
            dup: false,
            qos_pid,
            retain: false,
            topic,
            payload: payload.into(),
        }
    }

    /// The owned form of `publish`, taking the topic and payload through `keep`.
    pub(crate) fn from_ref<'a>(publish: PublishRef<'a>, keep: impl Fn(&'a [u8]) -> Bytes) -> Self {
        Self {
            dup: publish.dup,
            qos_pid: publish.qos_pid,
            retain: publish.retain,
            topic: TopicName::from_validated(keep(publish.topic.as_bytes())),
            payload: keep(publish.payload),
        }
    }
}

/// A PUBLISH that borrows its topic and payload from the bytes it was decoded from
/// ([`decode_slice`](crate::decode_slice)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublishRef<'a> {
    /// Whether this is a re-delivery (§3.3.1.1). Never set at QoS 0.
    pub dup: bool,
    /// QoS and, for QoS 1 and 2, the packet identifier.
    pub qos_pid: QosPid,
    /// Whether the server should retain the message (§3.3.1.3).
    pub retain: bool,
    /// Where the message is published: a valid topic name, without wildcards.
    pub topic: &'a str,
    /// The application message, any bytes.
    pub payload: &'a [u8],
}

impl<'a> PublishRef<'a> {
    pub(crate) fn decode(flags: u8, reader: Reader<'a>) -> Result<Self, DecodeError> {
        let fields = PublishFields::decode(flags, reader, |r| r.topic_name("topic name"))?;
        Ok(Self {
            dup: fields.dup,
            qos_pid: fields.qos_pid,
            retain: fields.retain,
            topic: fields.topic,
            payload: fields.payload,
        })
    }
}

/// A PUBLISH's fields with the topic as `T`: text for [`PublishRef`], checked bytes for the owned
/// decoder, which needs no `&str` and so skips std's UTF-8 pass over ASCII topics.
pub(crate) struct PublishFields<'a, T> {
    pub(crate) dup: bool,
    pub(crate) qos_pid: QosPid,
    pub(crate) retain: bool,
    pub(crate) topic: T,
    pub(crate) payload: &'a [u8],
}

impl<'a, T> PublishFields<'a, T> {
    /// The framing layer has checked the flags: QoS is not 3 and DUP is clear at QoS 0.
    #[inline]
    pub(crate) fn decode(
        flags: u8,
        mut reader: Reader<'a>,
        topic: impl FnOnce(&mut Reader<'a>) -> Result<T, DecodeError>,
    ) -> Result<Self, DecodeError> {
        let topic = topic(&mut reader)?;
        let qos_pid = match (flags >> 1) & 0b11 {
            0 => QosPid::AtMostOnce,
            1 => QosPid::AtLeastOnce(reader.packet_id()?),
            _ => QosPid::ExactlyOnce(reader.packet_id()?),
        };
        Ok(Self {
            dup: flags & 0b1000 != 0,
            qos_pid,
            retain: flags & 1 != 0,
            topic,
            // The payload is the rest of the frame, so a PUBLISH has no trailing bytes.
            payload: reader.rest(),
        })
    }
}

impl Body for Publish {
    fn first_byte(&self) -> u8 {
        ((PacketType::Publish as u8) << 4)
            | (u8::from(self.dup) << 3)
            | ((self.qos_pid.qos() as u8) << 1)
            | u8::from(self.retain)
    }

    fn body_len(&self) -> usize {
        let id_len = if self.qos_pid.packet_id().is_some() {
            2
        } else {
            0
        };
        prefixed_len(self.topic.len())
            .saturating_add(id_len)
            .saturating_add(self.payload.len())
    }

    fn check(&self) -> Result<(), EncodeError> {
        if self.dup && self.qos_pid == QosPid::AtMostOnce {
            return Err(EncodeError::DupOnQos0);
        }
        // The topic is a `TopicName`: at most 65,535 bytes by construction.
        Ok(())
    }

    fn write_body(&self, buf: &mut BytesMut) {
        put_prefixed(buf, self.topic.as_bytes());
        if let Some(id) = self.qos_pid.packet_id() {
            buf.put_u16(id.get());
        }
        buf.put_slice(&self.payload);
    }
}
