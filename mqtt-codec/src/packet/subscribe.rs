//! SUBSCRIBE (§3.8): topic filters with their requested QoS.

use std::fmt;

use bytes::{Buf, BufMut, Bytes, BytesMut};

use super::{PacketId, PacketType, QoS};
use crate::encode::{Body, first_byte, prefixed_len, put_prefixed};
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::reader::Reader;
use crate::topic::TopicFilter;

/// A subscribe request.
///
/// The filters stay in their wire form, validated once when decoded or built, and are read back
/// through [`Subscribe::filters`]: decoding a SUBSCRIBE allocates nothing however many filters it
/// carries.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Subscribe {
    /// The packet identifier the SUBACK will echo.
    pub packet_id: PacketId,
    /// Validated payload: (length, filter, requested QoS)+.
    payload: Bytes,
}

/// One entry of a SUBSCRIBE.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SubscribeFilter {
    /// The topic filter.
    pub filter: TopicFilter,
    /// The highest QoS the client asks for.
    pub qos: QoS,
}

impl Subscribe {
    /// A request for `filters`; refuses an empty list [MQTT-3.8.3-3].
    pub fn new<I>(packet_id: PacketId, filters: I) -> Result<Self, EncodeError>
    where
        I: IntoIterator<Item = SubscribeFilter>,
    {
        let mut payload = BytesMut::new();
        for entry in filters {
            put_prefixed(&mut payload, entry.filter.as_bytes());
            payload.put_u8(entry.qos as u8);
        }
        if payload.is_empty() {
            return Err(EncodeError::EmptyList {
                packet_type: PacketType::Subscribe,
            });
        }
        Ok(Self {
            packet_id,
            payload: payload.freeze(),
        })
    }

    /// The filters in the order they were sent.
    pub fn filters(&self) -> SubscribeFilters {
        SubscribeFilters {
            rest: self.payload.clone(),
        }
    }

    pub(crate) fn decode(reader: Reader) -> Result<Self, DecodeError> {
        let (packet_id, payload) = decode_filter_list(reader, PacketType::Subscribe, |reader| {
            let options_at = reader.offset();
            let options = reader.u8("requested QoS")?;
            if options & 0b1111_1100 != 0 {
                return Err(DecodeError::new(
                    options_at,
                    DecodeErrorKind::SubscribeReservedBits { options },
                ));
            }
            if options == 3 {
                return Err(DecodeError::new(
                    options_at,
                    DecodeErrorKind::InvalidSubscribeQos,
                ));
            }
            Ok(())
        })?;
        Ok(Self { packet_id, payload })
    }
}

/// Validates the filter list of a SUBSCRIBE or UNSUBSCRIBE (at least one filter;
/// `after_filter` reads what follows each one) and returns the packet identifier and the list as
/// one slice of the frame.
pub(crate) fn decode_filter_list(
    mut reader: Reader,
    packet_type: PacketType,
    mut after_filter: impl FnMut(&mut Reader) -> Result<(), DecodeError>,
) -> Result<(PacketId, Bytes), DecodeError> {
    let packet_id = reader.packet_id()?;
    let payload_at = reader.offset();
    if reader.is_empty() {
        return Err(reader.error(DecodeErrorKind::NoTopicFilters { packet_type }));
    }
    while !reader.is_empty() {
        reader.skip_topic_filter("topic filter")?;
        after_filter(&mut reader)?;
    }
    Ok((packet_id, reader.since(payload_at)))
}

impl fmt::Debug for Subscribe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscribe")
            .field("packet_id", &self.packet_id)
            .field("filters", &self.filters().collect::<Vec<_>>())
            .finish()
    }
}

impl Body for Subscribe {
    fn first_byte(&self) -> u8 {
        first_byte(PacketType::Subscribe)
    }

    fn body_len(&self) -> usize {
        prefixed_len(self.payload.len())
    }

    fn write_body(&self, buf: &mut BytesMut) {
        buf.put_u16(self.packet_id.get());
        buf.put_slice(&self.payload);
    }
}

/// Iterator over a SUBSCRIBE's filters; each item shares the packet's buffer.
#[derive(Debug, Clone)]
pub struct SubscribeFilters {
    rest: Bytes,
}

impl Iterator for SubscribeFilters {
    type Item = SubscribeFilter;

    fn next(&mut self) -> Option<SubscribeFilter> {
        // The payload was validated when the packet was built, so the reads cannot fail; should
        // they, the iteration ends rather than panics.
        let filter = take_prefixed(&mut self.rest)?;
        let qos = QoS::from_u8(*self.rest.first()?)?;
        self.rest.advance(1);
        Some(SubscribeFilter {
            filter: TopicFilter::from_validated(filter),
            qos,
        })
    }
}

/// Splits a two-byte-prefixed field off the front of validated bytes.
pub(crate) fn take_prefixed(rest: &mut Bytes) -> Option<Bytes> {
    let len = match *rest.as_ref() {
        [hi, lo, ..] => usize::from(u16::from_be_bytes([hi, lo])),
        _ => return None,
    };
    if rest.len() < prefixed_len(len) {
        return None;
    }
    rest.advance(2);
    Some(rest.split_to(len))
}
