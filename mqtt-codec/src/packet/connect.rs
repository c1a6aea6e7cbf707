//! CONNECT (§3.1): the first packet of every connection.

use bytes::{BufMut, Bytes, BytesMut};

use super::{PacketType, QoS};
use crate::encode::{Body, check_field, first_byte, prefixed_len, put_prefixed};
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::reader::Reader;
use crate::string::MqttString;
use crate::topic::TopicName;

/// The protocol level of MQTT 3.1.1.
const PROTOCOL_LEVEL: u8 = 4;

const USERNAME: u8 = 0b1000_0000;
const PASSWORD: u8 = 0b0100_0000;
const WILL_RETAIN: u8 = 0b0010_0000;
const WILL_QOS: u8 = 0b0001_1000;
const WILL: u8 = 0b0000_0100;
const CLEAN_SESSION: u8 = 0b0000_0010;
const RESERVED: u8 = 0b0000_0001;

#[derive(Clone, Copy)]
enum ProtocolName {
    Mqtt,
    MqIsdp,
    Other,
}

/// A client's request to connect. Strings and binary fields share the decoded buffer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Connect {
    /// Discard any previous session and start a new one (§3.1.2.4).
    pub clean_session: bool,
    /// Keep-alive interval in seconds; 0 turns the mechanism off (§3.1.2.10).
    pub keep_alive: u16,
    /// The client identifier; may be empty (the server decides what that means, [MQTT-3.1.3-6]).
    pub client_id: MqttString,
    /// The message the server publishes if the connection ends without DISCONNECT.
    pub will: Option<Will>,
    /// The user name.
    pub username: Option<MqttString>,
    /// The password: binary data, not necessarily text.
    pub password: Option<Bytes>,
}

/// A Will message (§3.1.2.5).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Will {
    /// Where the Will is published; a topic name, so no wildcards.
    pub topic: TopicName,
    /// The message, at most 65,535 bytes.
    pub payload: Bytes,
    /// The QoS it is published at.
    pub qos: QoS,
    /// Whether it is published retained.
    pub retain: bool,
}

impl Connect {
    /// A clean-session CONNECT with no Will and no credentials.
    pub fn new(client_id: MqttString, keep_alive: u16) -> Self {
        Self {
            clean_session: true,
            keep_alive,
            client_id,
            will: None,
            username: None,
            password: None,
        }
    }

    /// The owned form of `connect`, taking each string and binary field through `keep`.
    pub(crate) fn from_ref<'a>(connect: ConnectRef<'a>, keep: impl Fn(&'a [u8]) -> Bytes) -> Self {
        let text = |text: &'a str| MqttString::from_validated(keep(text.as_bytes()));
        Self {
            clean_session: connect.clean_session,
            keep_alive: connect.keep_alive,
            client_id: text(connect.client_id),
            will: connect.will.map(|will| Will {
                topic: TopicName::from_validated(keep(will.topic.as_bytes())),
                payload: keep(will.payload),
                qos: will.qos,
                retain: will.retain,
            }),
            username: connect.username.map(text),
            password: connect.password.map(&keep),
        }
    }

    fn flags(&self) -> u8 {
        let mut flags = 0;
        if self.clean_session {
            flags |= CLEAN_SESSION;
        }
        if let Some(will) = &self.will {
            flags |= WILL | ((will.qos as u8) << 3);
            if will.retain {
                flags |= WILL_RETAIN;
            }
        }
        if self.username.is_some() {
            flags |= USERNAME;
        }
        if self.password.is_some() {
            flags |= PASSWORD;
        }
        flags
    }
}

/// A CONNECT that borrows its strings and binary fields from the bytes it was decoded from
/// ([`decode_slice`](crate::decode_slice)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnectRef<'a> {
    /// Discard any previous session and start a new one (§3.1.2.4).
    pub clean_session: bool,
    /// Keep-alive interval in seconds; 0 turns the mechanism off (§3.1.2.10).
    pub keep_alive: u16,
    /// The client identifier; may be empty.
    pub client_id: &'a str,
    /// The message the server publishes if the connection ends without DISCONNECT.
    pub will: Option<WillRef<'a>>,
    /// The user name.
    pub username: Option<&'a str>,
    /// The password: binary data, not necessarily text.
    pub password: Option<&'a [u8]>,
}

/// A Will message borrowed from the CONNECT it came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WillRef<'a> {
    /// Where the Will is published: a valid topic name, without wildcards.
    pub topic: &'a str,
    /// The message, at most 65,535 bytes.
    pub payload: &'a [u8],
    /// The QoS it is published at.
    pub qos: QoS,
    /// Whether it is published retained.
    pub retain: bool,
}

impl<'a> ConnectRef<'a> {
    pub(crate) fn decode(mut reader: Reader<'a>) -> Result<Self, DecodeError> {
        let name_at = reader.offset();
        let name = match reader.binary("protocol name")? {
            b"MQTT" => ProtocolName::Mqtt,
            b"MQIsdp" => ProtocolName::MqIsdp,
            _ => ProtocolName::Other,
        };
        let level_at = reader.offset();
        let level = reader.u8("protocol level")?;
        match (name, level) {
            (ProtocolName::Mqtt, PROTOCOL_LEVEL) => {}
            // MQTT 3.1 called itself "MQIsdp" at level 3: that is an unsupported level, which the
            // server answers with CONNACK 0x01 [MQTT-3.1.2-2], not an unknown protocol.
            (ProtocolName::Mqtt, _) | (ProtocolName::MqIsdp, 3) => {
                return Err(DecodeError::new(
                    level_at,
                    DecodeErrorKind::UnsupportedProtocolLevel { level },
                ));
            }
            _ => {
                return Err(DecodeError::new(
                    name_at,
                    DecodeErrorKind::InvalidProtocolName,
                ));
            }
        }

        let flags_at = reader.offset();
        let flags = reader.u8("connect flags")?;
        let flag_error = |kind| DecodeError::new(flags_at, kind);
        if flags & RESERVED != 0 {
            return Err(flag_error(DecodeErrorKind::ConnectReservedFlag));
        }
        let will_qos = (flags & WILL_QOS) >> 3;
        if flags & WILL == 0 {
            if will_qos != 0 {
                return Err(flag_error(DecodeErrorKind::WillQosWithoutWill));
            }
            if flags & WILL_RETAIN != 0 {
                return Err(flag_error(DecodeErrorKind::WillRetainWithoutWill));
            }
        }
        let will_qos =
            QoS::from_u8(will_qos).ok_or_else(|| flag_error(DecodeErrorKind::InvalidWillQos))?;
        if flags & PASSWORD != 0 && flags & USERNAME == 0 {
            return Err(flag_error(DecodeErrorKind::PasswordWithoutUsername));
        }
        let keep_alive = reader.u16("keep alive")?;

        // [MQTT-3.1.3-1]: client id, will topic, will message, user name, password.
        let client_id = reader.string("client identifier")?;
        let will = if flags & WILL != 0 {
            Some(WillRef {
                topic: reader.topic_name("will topic")?,
                payload: reader.binary("will message")?,
                qos: will_qos,
                retain: flags & WILL_RETAIN != 0,
            })
        } else {
            None
        };
        let username = if flags & USERNAME != 0 {
            Some(reader.string("user name")?)
        } else {
            None
        };
        let password = if flags & PASSWORD != 0 {
            Some(reader.binary("password")?)
        } else {
            None
        };
        reader.finish(PacketType::Connect)?;
        Ok(Self {
            clean_session: flags & CLEAN_SESSION != 0,
            keep_alive,
            client_id,
            will,
            username,
            password,
        })
    }
}

impl Body for Connect {
    fn first_byte(&self) -> u8 {
        first_byte(PacketType::Connect)
    }

    fn body_len(&self) -> usize {
        // Protocol name (2 + 4), level, flags, keep alive.
        let mut len = 10usize.saturating_add(prefixed_len(self.client_id.len()));
        if let Some(will) = &self.will {
            len = len
                .saturating_add(prefixed_len(will.topic.len()))
                .saturating_add(prefixed_len(will.payload.len()));
        }
        if let Some(username) = &self.username {
            len = len.saturating_add(prefixed_len(username.len()));
        }
        if let Some(password) = &self.password {
            len = len.saturating_add(prefixed_len(password.len()));
        }
        len
    }

    fn check(&self) -> Result<(), EncodeError> {
        if self.password.is_some() && self.username.is_none() {
            return Err(EncodeError::PasswordWithoutUsername);
        }
        if let Some(will) = &self.will {
            // The Will topic is a `TopicName`, at most 65,535 bytes by construction.
            check_field("will message", will.payload.len())?;
        }
        if let Some(password) = &self.password {
            check_field("password", password.len())?;
        }
        Ok(())
    }

    fn write_body(&self, buf: &mut BytesMut) {
        put_prefixed(buf, b"MQTT");
        buf.put_u8(PROTOCOL_LEVEL);
        buf.put_u8(self.flags());
        buf.put_u16(self.keep_alive);
        put_prefixed(buf, self.client_id.as_bytes());
        if let Some(will) = &self.will {
            put_prefixed(buf, will.topic.as_bytes());
            put_prefixed(buf, &will.payload);
        }
        if let Some(username) = &self.username {
            put_prefixed(buf, username.as_bytes());
        }
        if let Some(password) = &self.password {
            put_prefixed(buf, password);
        }
    }
}
