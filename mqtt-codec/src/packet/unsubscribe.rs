//! UNSUBSCRIBE (§3.10): topic filters to remove.

use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};

use super::subscribe::{decode_filter_list, split_prefixed, take_prefixed};
use super::{PacketId, PacketType};
use crate::encode::{Body, first_byte, prefixed_len, put_prefixed};
use crate::error::{DecodeError, EncodeError};
use crate::reader::Reader;
use crate::topic::TopicFilter;

/// An unsubscribe request. Like [`Subscribe`](super::Subscribe), the filters stay in their
/// validated wire form and are read back through [`Unsubscribe::filters`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Unsubscribe {
    /// The packet identifier the UNSUBACK will echo.
    pub packet_id: PacketId,
    /// Validated payload: (length, filter)+.
    payload: Bytes,
}

impl Unsubscribe {
    /// A request to remove `filters`; refuses an empty list [MQTT-3.10.3-2].
    pub fn new<I>(packet_id: PacketId, filters: I) -> Result<Self, EncodeError>
    where
        I: IntoIterator<Item = TopicFilter>,
    {
        let mut payload = BytesMut::new();
        for filter in filters {
            put_prefixed(&mut payload, filter.as_bytes());
        }
        if payload.is_empty() {
            return Err(EncodeError::EmptyList {
                packet_type: PacketType::Unsubscribe,
            });
        }
        Ok(Self {
            packet_id,
            payload: payload.freeze(),
        })
    }

    /// The filters in the order they were sent.
    pub fn filters(&self) -> UnsubscribeFilters {
        UnsubscribeFilters {
            rest: self.payload.clone(),
        }
    }

    /// The owned form of `unsubscribe`, taking its filter list through `keep`.
    pub(crate) fn from_ref<'a>(
        unsubscribe: UnsubscribeRef<'a>,
        keep: impl Fn(&'a [u8]) -> Bytes,
    ) -> Self {
        Self {
            packet_id: unsubscribe.packet_id,
            payload: keep(unsubscribe.list),
        }
    }
}

/// An UNSUBSCRIBE that borrows its filters from the bytes it was decoded from
/// ([`decode_slice`](crate::decode_slice)).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct UnsubscribeRef<'a> {
    /// The packet identifier the UNSUBACK will echo.
    pub packet_id: PacketId,
    /// Validated payload: (length, filter)+.
    list: &'a [u8],
}

impl<'a> UnsubscribeRef<'a> {
    /// The filters in the order they were sent.
    pub fn filters(&self) -> UnsubscribeFilterRefs<'a> {
        UnsubscribeFilterRefs { rest: self.list }
    }

    pub(crate) fn decode(reader: Reader<'a>) -> Result<Self, DecodeError> {
        let (packet_id, list) = decode_filter_list(reader, PacketType::Unsubscribe, |_| Ok(()))?;
        Ok(Self { packet_id, list })
    }
}

impl fmt::Debug for UnsubscribeRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnsubscribeRef")
            .field("packet_id", &self.packet_id)
            .field("filters", &self.filters().collect::<Vec<_>>())
            .finish()
    }
}

/// Iterator over a borrowed UNSUBSCRIBE's filters, each a valid topic filter.
#[derive(Debug, Clone)]
pub struct UnsubscribeFilterRefs<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for UnsubscribeFilterRefs<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        // Validated when decoded: should a read fail, the iteration ends rather than panics.
        let (filter, rest) = split_prefixed(self.rest)?;
        self.rest = rest;
        std::str::from_utf8(filter).ok()
    }
}

impl fmt::Debug for Unsubscribe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Unsubscribe")
            .field("packet_id", &self.packet_id)
            .field("filters", &self.filters().collect::<Vec<_>>())
            .finish()
    }
}

impl Body for Unsubscribe {
    fn first_byte(&self) -> u8 {
        first_byte(PacketType::Unsubscribe)
    }

    fn body_len(&self) -> usize {
        prefixed_len(self.payload.len())
    }

    fn write_body(&self, buf: &mut BytesMut) {
        buf.put_u16(self.packet_id.get());
        buf.put_slice(&self.payload);
    }
}

/// Iterator over an UNSUBSCRIBE's filters; each item shares the packet's buffer.
#[derive(Debug, Clone)]
pub struct UnsubscribeFilters {
    rest: Bytes,
}

impl Iterator for UnsubscribeFilters {
    type Item = TopicFilter;

    fn next(&mut self) -> Option<TopicFilter> {
        take_prefixed(&mut self.rest).map(TopicFilter::from_validated)
    }
}
