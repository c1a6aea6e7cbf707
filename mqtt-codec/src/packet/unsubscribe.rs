//! UNSUBSCRIBE (§3.10): topic filters to remove.

use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};

use super::subscribe::{decode_filter_list, take_prefixed};
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

    pub(crate) fn decode(reader: Reader) -> Result<Self, DecodeError> {
        let (packet_id, payload) = decode_filter_list(reader, PacketType::Unsubscribe, |_| Ok(()))?;
        Ok(Self { packet_id, payload })
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
