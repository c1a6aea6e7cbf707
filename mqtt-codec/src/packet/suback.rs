//! SUBACK (§3.9): one return code per requested filter.

use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};

use super::{PacketId, PacketType, QoS};
use crate::encode::{Body, first_byte, prefixed_len};
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::reader::Reader;

/// A subscribe acknowledgement. The return codes are read back through [`SubAck::return_codes`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SubAck {
    /// The SUBSCRIBE's packet identifier.
    pub packet_id: PacketId,
    /// Validated return codes, one byte each.
    codes: Bytes,
}

/// The outcome of one subscription (§3.9.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum SubAckReturnCode {
    /// Granted at this maximum QoS.
    Success(QoS),
    /// Refused (0x80).
    Failure,
}

impl SubAckReturnCode {
    /// The code for a byte; `None` for the reserved values [MQTT-3.9.3-2].
    pub fn from_u8(code: u8) -> Option<Self> {
        match code {
            0x80 => Some(SubAckReturnCode::Failure),
            _ => QoS::from_u8(code).map(SubAckReturnCode::Success),
        }
    }

    /// The wire byte.
    pub fn to_u8(self) -> u8 {
        match self {
            SubAckReturnCode::Success(qos) => qos as u8,
            SubAckReturnCode::Failure => 0x80,
        }
    }
}

impl SubAck {
    /// An acknowledgement with `codes` in the order of the SUBSCRIBE's filters; refuses an empty
    /// list, since every SUBSCRIBE has at least one filter.
    pub fn new<I>(packet_id: PacketId, codes: I) -> Result<Self, EncodeError>
    where
        I: IntoIterator<Item = SubAckReturnCode>,
    {
        let codes: Bytes = codes.into_iter().map(SubAckReturnCode::to_u8).collect();
        if codes.is_empty() {
            return Err(EncodeError::EmptyList {
                packet_type: PacketType::SubAck,
            });
        }
        Ok(Self { packet_id, codes })
    }

    /// The return codes in order.
    pub fn return_codes(&self) -> SubAckReturnCodes<'_> {
        SubAckReturnCodes {
            rest: self.codes.iter(),
        }
    }

    /// The owned form of `suback`, taking its return codes through `keep`.
    pub(crate) fn from_ref<'a>(suback: SubAckRef<'a>, keep: impl Fn(&'a [u8]) -> Bytes) -> Self {
        Self {
            packet_id: suback.packet_id,
            codes: keep(suback.codes),
        }
    }
}

/// A SUBACK that borrows its return codes from the bytes it was decoded from
/// ([`decode_slice`](crate::decode_slice)).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SubAckRef<'a> {
    /// The SUBSCRIBE's packet identifier.
    pub packet_id: PacketId,
    /// Validated return codes, one byte each.
    codes: &'a [u8],
}

impl<'a> SubAckRef<'a> {
    /// The return codes in order.
    pub fn return_codes(&self) -> SubAckReturnCodes<'a> {
        SubAckReturnCodes {
            rest: self.codes.iter(),
        }
    }

    pub(crate) fn decode(mut reader: Reader<'a>) -> Result<Self, DecodeError> {
        let packet_id = reader.packet_id()?;
        if reader.is_empty() {
            return Err(reader.error(DecodeErrorKind::NoReturnCodes));
        }
        let codes_at = reader.offset();
        let codes = reader.rest();
        if let Some((i, &code)) = codes
            .iter()
            .enumerate()
            .find(|&(_, &code)| SubAckReturnCode::from_u8(code).is_none())
        {
            return Err(DecodeError::new(
                codes_at.saturating_add(i),
                DecodeErrorKind::InvalidSubAckReturnCode { code },
            ));
        }
        Ok(Self { packet_id, codes })
    }
}

impl fmt::Debug for SubAck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubAck")
            .field("packet_id", &self.packet_id)
            .field("return_codes", &self.return_codes().collect::<Vec<_>>())
            .finish()
    }
}

impl Body for SubAck {
    fn first_byte(&self) -> u8 {
        first_byte(PacketType::SubAck)
    }

    fn body_len(&self) -> usize {
        prefixed_len(self.codes.len())
    }

    fn write_body(&self, buf: &mut BytesMut) {
        buf.put_u16(self.packet_id.get());
        buf.put_slice(&self.codes);
    }
}

impl fmt::Debug for SubAckRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubAckRef")
            .field("packet_id", &self.packet_id)
            .field("return_codes", &self.return_codes().collect::<Vec<_>>())
            .finish()
    }
}

/// Iterator over a SUBACK's return codes.
#[derive(Debug, Clone)]
pub struct SubAckReturnCodes<'a> {
    rest: std::slice::Iter<'a, u8>,
}

impl Iterator for SubAckReturnCodes<'_> {
    type Item = SubAckReturnCode;

    fn next(&mut self) -> Option<SubAckReturnCode> {
        // Validated when decoded or built: an invalid code would end the iteration.
        SubAckReturnCode::from_u8(*self.rest.next()?)
    }
}
