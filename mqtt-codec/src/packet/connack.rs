//! CONNACK (§3.2): the server's answer to CONNECT.

use bytes::{BufMut, BytesMut};

use super::PacketType;
use crate::encode::{Body, first_byte};
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::reader::Reader;

/// Connect acknowledgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ConnAck {
    /// Whether the server resumed a stored session (§3.2.2.2).
    pub session_present: bool,
    /// Whether the connection was accepted, and if not why.
    pub code: ConnectReturnCode,
}

/// CONNACK return codes (Table 3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ConnectReturnCode {
    /// 0: connection accepted.
    Accepted = 0,
    /// 1: the server does not support the requested protocol level.
    UnacceptableProtocolVersion = 1,
    /// 2: the client identifier is well-formed UTF-8 but not allowed.
    IdentifierRejected = 2,
    /// 3: the MQTT service is unavailable.
    ServerUnavailable = 3,
    /// 4: the user name or password is malformed.
    BadUserNameOrPassword = 4,
    /// 5: the client is not authorized to connect.
    NotAuthorized = 5,
}

impl ConnectReturnCode {
    /// The code for a byte; `None` for the reserved 6..=255.
    pub fn from_u8(code: u8) -> Option<Self> {
        use ConnectReturnCode::*;
        Some(match code {
            0 => Accepted,
            1 => UnacceptableProtocolVersion,
            2 => IdentifierRejected,
            3 => ServerUnavailable,
            4 => BadUserNameOrPassword,
            5 => NotAuthorized,
            _ => return None,
        })
    }
}

impl ConnAck {
    /// An acknowledgement.
    pub fn new(session_present: bool, code: ConnectReturnCode) -> Self {
        Self {
            session_present,
            code,
        }
    }

    pub(crate) fn decode(mut reader: Reader<'_>) -> Result<Self, DecodeError> {
        let flags_at = reader.offset();
        let flags = reader.u8("acknowledge flags")?;
        if flags & 0xFE != 0 {
            return Err(DecodeError::new(
                flags_at,
                DecodeErrorKind::ConnAckReservedFlags { flags },
            ));
        }
        let code_at = reader.offset();
        let raw = reader.u8("return code")?;
        let code = ConnectReturnCode::from_u8(raw).ok_or_else(|| {
            DecodeError::new(
                code_at,
                DecodeErrorKind::InvalidConnectReturnCode { code: raw },
            )
        })?;
        let session_present = flags & 1 == 1;
        if session_present && code != ConnectReturnCode::Accepted {
            return Err(DecodeError::new(
                flags_at,
                DecodeErrorKind::SessionPresentOnRefusal,
            ));
        }
        reader.finish(PacketType::ConnAck)?;
        Ok(Self::new(session_present, code))
    }
}

impl Body for ConnAck {
    fn first_byte(&self) -> u8 {
        first_byte(PacketType::ConnAck)
    }

    fn body_len(&self) -> usize {
        2
    }

    fn check(&self) -> Result<(), EncodeError> {
        if self.session_present && self.code != ConnectReturnCode::Accepted {
            // [MQTT-3.2.2-4]: a refusal never claims a session. The type allows the combination,
            // the wire does not.
            return Err(EncodeError::SessionPresentOnRefusal);
        }
        Ok(())
    }

    fn write_body(&self, buf: &mut BytesMut) {
        buf.put_u8(u8::from(self.session_present));
        buf.put_u8(self.code as u8);
    }
}
