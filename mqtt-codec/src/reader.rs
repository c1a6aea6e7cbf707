//! A bounded cursor over one frame: it cannot read past the frame, each read names the field it
//! reads, and every rejection carries the byte offset from the start of the frame.
//!
//! Reads that only validate work on borrowed bytes; a `Bytes` slice (one reference-count
//! increment) is taken only for a field the packet keeps.

use bytes::{Buf, Bytes};

use crate::error::{DecodeError, DecodeErrorKind};
use crate::packet::{PacketId, PacketType};
use crate::string::{MqttString, StringError, check_utf8};
use crate::topic::{TopicError, TopicName, validate_topic_filter, validate_topic_name};

pub(crate) struct Reader {
    /// The frame after its fixed header.
    body: Bytes,
    /// Bytes of `body` already read.
    pos: usize,
    /// Length of the fixed header, so offsets count from the start of the frame.
    header_len: usize,
}

impl Reader {
    /// `body` is the frame after its fixed header of `header_len` bytes.
    pub(crate) fn new(body: Bytes, header_len: usize) -> Self {
        Self {
            body,
            pos: 0,
            header_len,
        }
    }

    /// Offset of the next byte from the start of the frame.
    pub(crate) fn offset(&self) -> usize {
        self.header_len.saturating_add(self.pos)
    }

    fn rest(&self) -> &[u8] {
        self.body.get(self.pos..).unwrap_or_default()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.body.len()
    }

    pub(crate) fn error(&self, kind: DecodeErrorKind) -> DecodeError {
        DecodeError::new(self.offset(), kind)
    }

    fn end_of_frame(&self, field: &'static str) -> DecodeError {
        self.error(DecodeErrorKind::UnexpectedEndOfFrame { field })
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        let value = *self
            .rest()
            .first()
            .ok_or_else(|| self.end_of_frame(field))?;
        self.pos = self.pos.saturating_add(1);
        Ok(value)
    }

    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        match *self.rest() {
            [hi, lo, ..] => {
                self.pos = self.pos.saturating_add(2);
                Ok(u16::from_be_bytes([hi, lo]))
            }
            _ => Err(self.end_of_frame(field)),
        }
    }

    pub(crate) fn packet_id(&mut self) -> Result<PacketId, DecodeError> {
        let at = self.offset();
        let value = self.u16("packet identifier")?;
        PacketId::new(value).ok_or(DecodeError::new(at, DecodeErrorKind::ZeroPacketId))
    }

    /// A two-byte length and that many bytes: checks `check` on the borrowed content and steps
    /// over it. Returns what `check` returned and the range of the content within `body`.
    fn prefixed<T>(
        &mut self,
        field: &'static str,
        check: impl FnOnce(&[u8], usize) -> Result<T, DecodeError>,
    ) -> Result<(T, std::ops::Range<usize>), DecodeError> {
        let prefix_at = self.offset();
        let len = usize::from(self.u16(field)?);
        let start = self.pos;
        let end = start.saturating_add(len);
        // Point at the length that promised more than the frame holds.
        let content = self.body.get(start..end).ok_or(DecodeError::new(
            prefix_at,
            DecodeErrorKind::UnexpectedEndOfFrame { field },
        ))?;
        let checked = check(content, self.offset())?;
        self.pos = end;
        Ok((checked, start..end))
    }

    /// The content of a range `prefixed` returned, as a slice of the frame.
    fn keep(&self, range: std::ops::Range<usize>) -> Bytes {
        self.body.slice(range)
    }

    /// Binary data: a two-byte length and that many bytes.
    pub(crate) fn binary(&mut self, field: &'static str) -> Result<Bytes, DecodeError> {
        let ((), range) = self.prefixed(field, |_, _| Ok(()))?;
        Ok(self.keep(range))
    }

    /// Looks at length-prefixed content in place, without taking a slice of the frame.
    pub(crate) fn prefixed_map<T>(
        &mut self,
        field: &'static str,
        f: impl FnOnce(&[u8]) -> T,
    ) -> Result<T, DecodeError> {
        Ok(self.prefixed(field, |content, _| Ok(f(content)))?.0)
    }

    pub(crate) fn string(&mut self, field: &'static str) -> Result<MqttString, DecodeError> {
        let ((), range) = self.prefixed(field, |content, at| {
            check_utf8(content).map_err(|e| string_error(at, field, e))
        })?;
        Ok(MqttString::from_validated(self.keep(range)))
    }

    pub(crate) fn topic_name(&mut self, field: &'static str) -> Result<TopicName, DecodeError> {
        let ((), range) = self.prefixed(field, |content, at| {
            validate_topic_name(content).map_err(|reason| topic_error(at, field, reason))
        })?;
        Ok(TopicName::from_validated(self.keep(range)))
    }

    /// Validates a topic filter and steps over it without taking a slice of the frame.
    pub(crate) fn skip_topic_filter(&mut self, field: &'static str) -> Result<(), DecodeError> {
        self.prefixed(field, |content, at| {
            validate_topic_filter(content).map_err(|reason| topic_error(at, field, reason))
        })?;
        Ok(())
    }

    /// The frame from `offset` (as returned by [`Reader::offset`]) to its end.
    pub(crate) fn since(&self, offset: usize) -> Bytes {
        let start = offset.saturating_sub(self.header_len).min(self.body.len());
        self.body.slice(start..)
    }

    /// The unread rest of the frame, without a reference-count increment.
    pub(crate) fn into_rest(mut self) -> Bytes {
        let pos = self.pos.min(self.body.len());
        self.body.advance(pos);
        self.body
    }

    /// Rejects bytes left after the last field, so framing can never drift.
    pub(crate) fn finish(self, packet_type: PacketType) -> Result<(), DecodeError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.error(DecodeErrorKind::TrailingBytes { packet_type }))
        }
    }
}

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
