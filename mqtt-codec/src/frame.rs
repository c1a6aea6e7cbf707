//! Framing (§2.2): the fixed header and the remaining length. This layer cuts the byte stream into
//! frames and enforces the size limit; it knows nothing of what is inside a frame.

use bytes::{BufMut, BytesMut};

use crate::decode::{DecodeOptions, Role};
use crate::error::{DecodeError, DecodeErrorKind};
use crate::packet::PacketType;

/// The largest remaining length four bytes can encode (§2.2.3).
pub const MAX_REMAINING_LENGTH: usize = 268_435_455;

/// A validated fixed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FixedHeader {
    pub(crate) packet_type: PacketType,
    /// The four low bits of the first byte.
    pub(crate) flags: u8,
    /// Bytes taken by the first byte and the remaining length.
    pub(crate) header_len: usize,
    /// The remaining length: the body that follows the header.
    pub(crate) body_len: usize,
    /// Header plus body: the whole frame.
    pub(crate) frame_len: usize,
}

/// Reads the fixed header at the start of `bytes` and returns it with the bytes after it.
///
/// `Ok(None)` means more bytes are needed to know the frame's length. Everything that can be
/// checked from the header is checked as soon as its byte is present, before the body arrives,
/// and the size limit before anything is reserved for the body.
#[inline]
pub(crate) fn parse_fixed_header<'a>(
    bytes: &'a [u8],
    options: &DecodeOptions,
) -> Result<Option<(FixedHeader, &'a [u8])>, DecodeError> {
    let Some((&first, mut rest)) = bytes.split_first() else {
        return Ok(None);
    };
    let (packet_type, flags) = check_first_byte(first, options.role)?;

    let mut remaining = 0usize;
    // Seven bits a byte, least significant first, four bytes at most: 268,435,455.
    for (header_len, shift) in [(2usize, 0u32), (3, 7), (4, 14), (5, 21)] {
        let Some((&byte, after)) = rest.split_first() else {
            return Ok(None);
        };
        rest = after;
        remaining |= usize::from(byte & 0x7F) << shift;
        if byte & 0x80 == 0 {
            let header = check_length(packet_type, flags, header_len, remaining, options)?;
            return Ok(Some((header, rest)));
        }
    }
    Err(DecodeError::new(
        4,
        DecodeErrorKind::MalformedRemainingLength,
    ))
}

#[inline]
fn check_first_byte(first: u8, role: Role) -> Result<(PacketType, u8), DecodeError> {
    let nibble = first >> 4;
    let flags = first & 0x0F;
    let packet_type = PacketType::from_nibble(nibble).ok_or_else(|| {
        DecodeError::new(0, DecodeErrorKind::ReservedPacketType { value: nibble })
    })?;
    let allowed = match role {
        Role::Server => packet_type.sent_by_client(),
        Role::Client => packet_type.sent_by_server(),
    };
    if !allowed {
        return Err(DecodeError::new(
            0,
            DecodeErrorKind::UnexpectedPacket { packet_type },
        ));
    }
    match packet_type.required_flags() {
        Some(required) if flags != required => Err(DecodeError::new(
            0,
            DecodeErrorKind::InvalidHeaderFlags { packet_type, flags },
        )),
        Some(_) => Ok((packet_type, flags)),
        None => {
            // PUBLISH: DUP (bit 3), QoS (bits 2-1), RETAIN (bit 0).
            let qos = (flags >> 1) & 0b11;
            if qos == 3 {
                Err(DecodeError::new(0, DecodeErrorKind::InvalidQos))
            } else if qos == 0 && flags & 0b1000 != 0 {
                Err(DecodeError::new(0, DecodeErrorKind::DupOnQos0))
            } else {
                Ok((packet_type, flags))
            }
        }
    }
}

#[inline]
fn check_length(
    packet_type: PacketType,
    flags: u8,
    header_len: usize,
    remaining: usize,
    options: &DecodeOptions,
) -> Result<FixedHeader, DecodeError> {
    if let Some(expected) = packet_type.fixed_remaining_length() {
        if remaining != expected {
            return Err(DecodeError::new(
                1,
                DecodeErrorKind::InvalidRemainingLength {
                    packet_type,
                    expected,
                    actual: remaining,
                },
            ));
        }
    }
    let frame_len = header_len.saturating_add(remaining);
    if frame_len > options.max_packet_size {
        return Err(DecodeError::new(
            1,
            DecodeErrorKind::PacketTooLarge {
                size: frame_len,
                max: options.max_packet_size,
            },
        ));
    }
    Ok(FixedHeader {
        packet_type,
        flags,
        header_len,
        body_len: remaining,
        frame_len,
    })
}

/// How many bytes the remaining length `len` takes on the wire (1 to 4).
pub(crate) fn remaining_length_len(len: usize) -> usize {
    match len {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        _ => 4,
    }
}

/// Writes the remaining length; the caller has checked `len <= MAX_REMAINING_LENGTH`.
pub(crate) fn put_remaining_length(buf: &mut BytesMut, mut len: usize) {
    loop {
        // Truncation is the point: the low seven bits.
        let mut byte = (len & 0x7F) as u8;
        len >>= 7;
        if len > 0 {
            byte |= 0x80;
        }
        buf.put_u8(byte);
        if len == 0 {
            break;
        }
    }
}
