//! A bounded cursor over one frame: it cannot read past the frame, each read names the field it
//! reads, and every rejection carries the byte offset from the start of the frame.
//!
//! Fields are borrowed from the frame; the owned packets take `Bytes` slices of what the borrowed
//! ones point at.

use crate::error::{DecodeError, DecodeErrorKind};
use crate::packet::{PacketId, PacketType};
use crate::string::{StringError, mqtt_str};
use crate::topic::{TopicError, topic_name_str, validate_topic_filter, validate_topic_name};

pub(crate) struct Reader<'a> {
    /// What is left of the frame.
    rest: &'a [u8],
    /// Offset of `rest` from the start of the frame.
    offset: usize,
}

impl<'a> Reader<'a> {
    /// `body` is the frame after its fixed header of `header_len` bytes.
    #[inline]
    pub(crate) fn new(body: &'a [u8], header_len: usize) -> Self {
        Self {
            rest: body,
            offset: header_len,
        }
    }

    /// Offset of the next byte from the start of the frame.
    #[inline]
    pub(crate) fn offset(&self) -> usize {
        self.offset
    }

    /// The unread rest of the frame.
    #[inline]
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.rest
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    pub(crate) fn error(&self, kind: DecodeErrorKind) -> DecodeError {
        DecodeError::new(self.offset, kind)
    }

    #[cold]
    fn end_of_frame(&self, field: &'static str) -> DecodeError {
        self.error(DecodeErrorKind::UnexpectedEndOfFrame { field })
    }

    #[inline]
    fn advance(&mut self, rest: &'a [u8], by: usize) {
        self.rest = rest;
        self.offset = self.offset.saturating_add(by);
    }

    #[inline]
    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        let (&value, rest) = self
            .rest
            .split_first()
            .ok_or_else(|| self.end_of_frame(field))?;
        self.advance(rest, 1);
        Ok(value)
    }

    #[inline]
    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        let (&bytes, rest) = self
            .rest
            .split_first_chunk::<2>()
            .ok_or_else(|| self.end_of_frame(field))?;
        self.advance(rest, 2);
        Ok(u16::from_be_bytes(bytes))
    }

    #[inline]
    pub(crate) fn packet_id(&mut self) -> Result<PacketId, DecodeError> {
        let at = self.offset;
        let value = self.u16("packet identifier")?;
        PacketId::new(value).ok_or_else(|| DecodeError::new(at, DecodeErrorKind::ZeroPacketId))
    }

    /// Binary data: a two-byte length and that many bytes.
    #[inline]
    pub(crate) fn binary(&mut self, field: &'static str) -> Result<&'a [u8], DecodeError> {
        let prefix_at = self.offset;
        let len = usize::from(self.u16(field)?);
        // Point at the length that promised more than the frame holds.
        let (content, rest) = self.rest.split_at_checked(len).ok_or_else(|| {
            DecodeError::new(prefix_at, DecodeErrorKind::UnexpectedEndOfFrame { field })
        })?;
        self.advance(rest, len);
        Ok(content)
    }

    /// Length-prefixed content that `check` accepts; `check` is given the content and its offset.
    #[inline]
    fn checked<T>(
        &mut self,
        field: &'static str,
        check: impl FnOnce(&'a [u8], usize) -> Result<T, DecodeError>,
    ) -> Result<T, DecodeError> {
        let at = self.offset.saturating_add(2);
        let content = self.binary(field)?;
        check(content, at)
    }

    #[inline]
    pub(crate) fn string(&mut self, field: &'static str) -> Result<&'a str, DecodeError> {
        self.checked(field, |content, at| {
            mqtt_str(content).map_err(|e| string_error(at, field, e))
        })
    }

    #[inline]
    pub(crate) fn topic_name(&mut self, field: &'static str) -> Result<&'a str, DecodeError> {
        self.checked(field, |content, at| {
            topic_name_str(content).map_err(|reason| topic_error(at, field, reason))
        })
    }

    #[inline]
    /// A topic name, checked, as bytes.
    pub(crate) fn topic_name_bytes(
        &mut self,
        field: &'static str,
    ) -> Result<&'a [u8], DecodeError> {
        self.checked(field, |content, at| {
            validate_topic_name(content)
                .map(|()| content)
                .map_err(|reason| topic_error(at, field, reason))
        })
    }

    /// Validates a topic filter and steps over it (filter lists are kept whole, in wire form).
    pub(crate) fn skip_topic_filter(&mut self, field: &'static str) -> Result<(), DecodeError> {
        self.checked(field, |content, at| {
            validate_topic_filter(content).map_err(|reason| topic_error(at, field, reason))
        })
    }

    /// Rejects bytes left after the last field, so framing can never drift.
    #[inline]
    pub(crate) fn finish(self, packet_type: PacketType) -> Result<(), DecodeError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.error(DecodeErrorKind::TrailingBytes { packet_type }))
        }
    }
}

#[cold]
fn string_error(start: usize, field: &'static str, e: StringError) -> DecodeError {
    let (at, kind) = match e {
        StringError::InvalidUtf8 { offset } => (offset, DecodeErrorKind::InvalidUtf8 { field }),
        StringError::Utf16Surrogate { offset } => {
            (offset, DecodeErrorKind::Utf16Surrogate { field })
        }
        StringError::NullCharacter { offset } => (offset, DecodeErrorKind::NullCharacter { field }),
        // A decoded string cannot exceed its two-byte prefix.
        StringError::TooLong { .. } => (0, DecodeErrorKind::UnexpectedEndOfFrame { field }),
    };
    DecodeError::new(start.saturating_add(at), kind)
}

/// Topic errors that are string errors are reported as such, so one rule has one variant.
#[cold]
fn topic_error(start: usize, field: &'static str, reason: TopicError) -> DecodeError {
    match reason {
        TopicError::InvalidString(e) => string_error(start, field, e),
        // A topic that is wrong as a whole (empty) is reported at its length prefix.
        reason => DecodeError::new(
            reason
                .offset()
                .map_or(start.saturating_sub(2), |at| start.saturating_add(at)),
            DecodeErrorKind::InvalidTopic { field, reason },
        ),
    }
}
