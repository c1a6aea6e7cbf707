//! A bounded cursor over one frame: it cannot read past the frame, each read names the field it
//! reads, and every rejection carries the byte offset from the start of the frame.

use bytes::{Buf, Bytes};

use crate::error::{DecodeError, DecodeErrorKind};
use crate::packet::{PacketId, PacketType};
use crate::string::{MqttString, StringError, check_utf8};
use crate::topic::{TopicError, TopicName, validate_topic_filter, validate_topic_name};

pub(crate) struct Reader {
    /// What is left of the frame.
    rest: Bytes,
    /// Offset of `rest`'s first byte from the start of the frame.
    offset: usize,
}

impl Reader {
    /// `body` is the frame after its fixed header of `header_len` bytes.
    pub(crate) fn new(body: Bytes, header_len: usize) -> Self {
        Self {
            rest: body,
            offset: header_len,
        }
    }

    pub(crate) fn offset(&self) -> usize {
        self.offset
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    pub(crate) fn error(&self, kind: DecodeErrorKind) -> DecodeError {
        DecodeError::new(self.offset, kind)
    }

    fn advance(&mut self, n: usize) {
        self.rest.advance(n);
        self.offset = self.offset.saturating_add(n);
    }

    fn need(&self, n: usize, field: &'static str) -> Result<(), DecodeError> {
        if self.rest.len() < n {
            Err(self.error(DecodeErrorKind::UnexpectedEndOfFrame { field }))
        } else {
            Ok(())
        }
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        let value = *self
            .rest
            .first()
            .ok_or_else(|| self.error(DecodeErrorKind::UnexpectedEndOfFrame { field }))?;
        self.advance(1);
        Ok(value)
    }

    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        match *self.rest.as_ref() {
            [hi, lo, ..] => {
                self.advance(2);
                Ok(u16::from_be_bytes([hi, lo]))
            }
            _ => Err(self.error(DecodeErrorKind::UnexpectedEndOfFrame { field })),
        }
    }

    pub(crate) fn packet_id(&mut self) -> Result<PacketId, DecodeError> {
        let offset = self.offset;
        let value = self.u16("packet identifier")?;
        PacketId::new(value).ok_or(DecodeError::new(offset, DecodeErrorKind::ZeroPacketId))
    }

    /// Takes `n` bytes as a slice of the frame (a reference count, no copy).
    pub(crate) fn take(&mut self, n: usize, field: &'static str) -> Result<Bytes, DecodeError> {
        self.need(n, field)?;
        self.offset = self.offset.saturating_add(n);
        Ok(self.rest.split_to(n))
    }

    /// Reads a two-byte length and checks that the content is all there, leaving the content
    /// unread; returns the content's length and offset.
    fn prefixed(&mut self, field: &'static str) -> Result<(usize, usize), DecodeError> {
        let prefix_at = self.offset;
        let len = usize::from(self.u16(field)?);
        if self.rest.len() < len {
            // Point at the length that promised more than the frame holds.
            return Err(DecodeError::new(
                prefix_at,
                DecodeErrorKind::UnexpectedEndOfFrame { field },
            ));
        }
        Ok((len, self.offset))
    }

    /// The next `len` bytes without consuming them; `need` has checked they are there.
    fn peek(&self, len: usize) -> &[u8] {
        self.rest.get(..len).unwrap_or_default()
    }

    /// A two-byte length followed by that many bytes; returns the bytes and their offset.
    pub(crate) fn binary(&mut self, field: &'static str) -> Result<(Bytes, usize), DecodeError> {
        let (len, start) = self.prefixed(field)?;
        Ok((self.take(len, field)?, start))
    }

    pub(crate) fn string(&mut self, field: &'static str) -> Result<MqttString, DecodeError> {
        let (len, start) = self.prefixed(field)?;
        check_utf8(self.peek(len)).map_err(|e| string_error(start, field, e))?;
        Ok(MqttString::from_validated(self.take(len, field)?))
    }

    pub(crate) fn topic_name(&mut self, field: &'static str) -> Result<TopicName, DecodeError> {
        let (len, start) = self.prefixed(field)?;
        validate_topic_name(self.peek(len)).map_err(|reason| topic_error(start, field, reason))?;
        Ok(TopicName::from_validated(self.take(len, field)?))
    }

    /// Validates a topic filter and steps over it without taking a reference to the buffer.
    pub(crate) fn skip_topic_filter(&mut self, field: &'static str) -> Result<(), DecodeError> {
        let (len, start) = self.prefixed(field)?;
        validate_topic_filter(self.peek(len))
            .map_err(|reason| topic_error(start, field, reason))?;
        self.advance(len);
        Ok(())
    }

    /// The rest of the frame.
    pub(crate) fn rest(self) -> Bytes {
        self.rest
    }

    /// Rejects bytes left after the last field, so framing can never drift.
    pub(crate) fn finish(self, packet_type: PacketType) -> Result<(), DecodeError> {
        if self.rest.is_empty() {
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
