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

    /// The owned form of `subscribe`, taking its filter list through `keep`.
    pub(crate) fn from_ref<'a>(
        subscribe: SubscribeRef<'a>,
        keep: impl Fn(&'a [u8]) -> Bytes,
    ) -> Self {
        Self {
            packet_id: subscribe.packet_id,
            payload: keep(subscribe.list),
        }
    }
}

/// A SUBSCRIBE that borrows its filters from the bytes it was decoded from
/// ([`decode_slice`](crate::decode_slice)).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SubscribeRef<'a> {
    /// The packet identifier the SUBACK will echo.
    pub packet_id: PacketId,
    /// Validated payload: (length, filter, requested QoS)+.
    list: &'a [u8],
}

/// One entry of a borrowed SUBSCRIBE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SubscribeFilterRef<'a> {
    /// The topic filter, valid.
    pub filter: &'a str,
    /// The highest QoS the client asks for.
    pub qos: QoS,
}

impl<'a> SubscribeRef<'a> {
    /// The filters in the order they were sent.
    pub fn filters(&self) -> SubscribeFilterRefs<'a> {
        SubscribeFilterRefs { rest: self.list }
    }

    pub(crate) fn decode(reader: Reader<'a>) -> Result<Self, DecodeError> {
        let (packet_id, list) = decode_filter_list(reader, PacketType::Subscribe, |reader| {
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
        Ok(Self { packet_id, list })
    }
}

impl fmt::Debug for SubscribeRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubscribeRef")
            .field("packet_id", &self.packet_id)
            .field("filters", &self.filters().collect::<Vec<_>>())
            .finish()
    }
}

/// Iterator over a borrowed SUBSCRIBE's filters.
#[derive(Debug, Clone)]
pub struct SubscribeFilterRefs<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for SubscribeFilterRefs<'a> {
    type Item = SubscribeFilterRef<'a>;

    fn next(&mut self) -> Option<SubscribeFilterRef<'a>> {
        // The list was validated when decoded, so these reads cannot fail; should they, the
        // iteration ends rather than panics.
        let (filter, rest) = split_prefixed(self.rest)?;
        let (&qos, rest) = rest.split_first()?;
        self.rest = rest;
        Some(SubscribeFilterRef {
            filter: std::str::from_utf8(filter).ok()?,
            qos: QoS::from_u8(qos)?,
        })
    }
}

/// Validates the filter list of a SUBSCRIBE or UNSUBSCRIBE (at least one filter;
/// `after_filter` reads what follows each one) and returns the packet identifier and the list.
pub(crate) fn decode_filter_list<'a>(
    mut reader: Reader<'a>,
    packet_type: PacketType,
    mut after_filter: impl FnMut(&mut Reader<'a>) -> Result<(), DecodeError>,
) -> Result<(PacketId, &'a [u8]), DecodeError> {
    let packet_id = reader.packet_id()?;
    if reader.is_empty() {
        return Err(reader.error(DecodeErrorKind::NoTopicFilters { packet_type }));
    }
    let list = reader.rest();
    while !reader.is_empty() {
        reader.skip_topic_filter("topic filter")?;
        after_filter(&mut reader)?;
    }
    Ok((packet_id, list))
}

/// Splits a two-byte-prefixed field off the front of validated bytes.
pub(crate) fn split_prefixed(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let (&len, rest) = bytes.split_first_chunk::<2>()?;
    rest.split_at_checked(usize::from(u16::from_be_bytes(len)))
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
    let len = split_prefixed(rest)?.0.len();
    rest.advance(2);
    Some(rest.split_to(len))
}
