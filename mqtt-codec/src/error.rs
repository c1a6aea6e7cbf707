//! Typed errors: one variant per rule of the specification that a decoder enforces.

use std::fmt;

use crate::packet::PacketType;
use crate::topic::TopicError;

/// Why a byte stream was rejected, and where.
///
/// `offset` counts from the first byte of the frame being decoded (the fixed header's first
/// byte), so a caller that tracks how many bytes it has already consumed can report an absolute
/// stream position. [`DecodeError::rule`] names the clause of MQTT 3.1.1 that was broken: a
/// normative id such as `MQTT-3.3.1-4` where the specification has one, otherwise the section
/// (`§2.2.3`) that defines the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    offset: usize,
    kind: DecodeErrorKind,
}

/// The rule a frame broke; see [`DecodeError`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// Packet type 0 or 15, which MQTT 3.1.1 reserves.
    ReservedPacketType {
        /// The four high bits of the first byte.
        value: u8,
    },
    /// A packet that only the other side may send, e.g. CONNACK arriving at a server.
    UnexpectedPacket {
        /// The packet type that arrived.
        packet_type: PacketType,
    },
    /// The low four bits of the first byte differ from the values the packet type reserves.
    InvalidHeaderFlags {
        /// The packet type.
        packet_type: PacketType,
        /// The four low bits as received.
        flags: u8,
    },
    /// A PUBLISH with both QoS bits set.
    InvalidQos,
    /// A QoS 0 PUBLISH with the DUP flag set.
    DupOnQos0,
    /// The remaining length field continues past its fourth byte.
    MalformedRemainingLength,
    /// The frame is larger than [`DecodeOptions::max_packet_size`](crate::DecodeOptions).
    PacketTooLarge {
        /// Fixed header plus remaining length, as announced.
        size: usize,
        /// The configured maximum.
        max: usize,
    },
    /// A packet of fixed size announced another remaining length.
    InvalidRemainingLength {
        /// The packet type.
        packet_type: PacketType,
        /// The remaining length the packet type requires.
        expected: usize,
        /// The remaining length that was announced.
        actual: usize,
    },
    /// A field runs past the end of the frame.
    UnexpectedEndOfFrame {
        /// The field being read.
        field: &'static str,
    },
    /// The frame holds bytes after the last field of its packet.
    TrailingBytes {
        /// The packet type.
        packet_type: PacketType,
    },
    /// A string is not well-formed UTF-8.
    InvalidUtf8 {
        /// The field being read.
        field: &'static str,
    },
    /// A string encodes a UTF-16 surrogate (U+D800..U+DFFF).
    Utf16Surrogate {
        /// The field being read.
        field: &'static str,
    },
    /// A string contains U+0000.
    NullCharacter {
        /// The field being read.
        field: &'static str,
    },
    /// A topic name or topic filter breaks a topic rule.
    InvalidTopic {
        /// The field being read.
        field: &'static str,
        /// The rule it broke.
        reason: TopicError,
    },
    /// A packet identifier of zero.
    ZeroPacketId,
    /// A CONNECT whose protocol name is not `MQTT`.
    InvalidProtocolName,
    /// A CONNECT whose protocol level is not 4. A server answers CONNACK 0x01.
    UnsupportedProtocolLevel {
        /// The level that was sent.
        level: u8,
    },
    /// A CONNECT with the reserved bit of its flags set.
    ConnectReservedFlag,
    /// A CONNECT without the Will flag but with Will QoS set.
    WillQosWithoutWill,
    /// A CONNECT without the Will flag but with Will Retain set.
    WillRetainWithoutWill,
    /// A CONNECT with the Will flag and Will QoS 3.
    InvalidWillQos,
    /// A CONNECT with the password flag but not the user name flag.
    PasswordWithoutUsername,
    /// A CONNACK with any of its reserved flag bits set.
    ConnAckReservedFlags {
        /// The acknowledge flags byte.
        flags: u8,
    },
    /// A CONNACK return code above 5.
    InvalidConnectReturnCode {
        /// The code that was sent.
        code: u8,
    },
    /// A CONNACK that refuses the connection but claims a session is present.
    SessionPresentOnRefusal,
    /// A SUBSCRIBE without any topic filter.
    NoTopicFilters {
        /// SUBSCRIBE or UNSUBSCRIBE.
        packet_type: PacketType,
    },
    /// A SUBSCRIBE requested-QoS byte with reserved bits set.
    SubscribeReservedBits {
        /// The options byte.
        options: u8,
    },
    /// A SUBSCRIBE requested QoS of 3.
    InvalidSubscribeQos,
    /// A SUBACK without any return code.
    NoReturnCodes,
    /// A SUBACK return code other than 0, 1, 2 and 0x80.
    InvalidSubAckReturnCode {
        /// The code that was sent.
        code: u8,
    },
}

impl DecodeError {
    pub(crate) fn new(offset: usize, kind: DecodeErrorKind) -> Self {
        Self { offset, kind }
    }

    /// The rule that was broken.
    pub fn kind(&self) -> &DecodeErrorKind {
        &self.kind
    }

    /// Byte offset of the offending field from the start of the frame.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The clause of MQTT 3.1.1 the input broke.
    pub fn rule(&self) -> &'static str {
        self.kind.rule()
    }
}

impl DecodeErrorKind {
    /// The variant's name, stable across releases, for logs and machine-readable output.
    pub fn name(&self) -> &'static str {
        use DecodeErrorKind::*;
        match self {
            ReservedPacketType { .. } => "ReservedPacketType",
            UnexpectedPacket { .. } => "UnexpectedPacket",
            InvalidHeaderFlags { .. } => "InvalidHeaderFlags",
            InvalidQos => "InvalidQos",
            DupOnQos0 => "DupOnQos0",
            MalformedRemainingLength => "MalformedRemainingLength",
            PacketTooLarge { .. } => "PacketTooLarge",
            InvalidRemainingLength { .. } => "InvalidRemainingLength",
            UnexpectedEndOfFrame { .. } => "UnexpectedEndOfFrame",
            TrailingBytes { .. } => "TrailingBytes",
            InvalidUtf8 { .. } => "InvalidUtf8",
            Utf16Surrogate { .. } => "Utf16Surrogate",
            NullCharacter { .. } => "NullCharacter",
            InvalidTopic { .. } => "InvalidTopic",
            ZeroPacketId => "ZeroPacketId",
            InvalidProtocolName => "InvalidProtocolName",
            UnsupportedProtocolLevel { .. } => "UnsupportedProtocolLevel",
            ConnectReservedFlag => "ConnectReservedFlag",
            WillQosWithoutWill => "WillQosWithoutWill",
            WillRetainWithoutWill => "WillRetainWithoutWill",
            InvalidWillQos => "InvalidWillQos",
            PasswordWithoutUsername => "PasswordWithoutUsername",
            ConnAckReservedFlags { .. } => "ConnAckReservedFlags",
            InvalidConnectReturnCode { .. } => "InvalidConnectReturnCode",
            SessionPresentOnRefusal => "SessionPresentOnRefusal",
            NoTopicFilters { .. } => "NoTopicFilters",
            SubscribeReservedBits { .. } => "SubscribeReservedBits",
            InvalidSubscribeQos => "InvalidSubscribeQos",
            NoReturnCodes => "NoReturnCodes",
            InvalidSubAckReturnCode { .. } => "InvalidSubAckReturnCode",
        }
    }

    /// The clause of MQTT 3.1.1 this rule comes from: its normative id where it has one.
    pub fn rule(&self) -> &'static str {
        use DecodeErrorKind::*;
        match self {
            ReservedPacketType { .. } => "§2.2.1",
            UnexpectedPacket { .. } => "§2.2.1",
            InvalidHeaderFlags { packet_type, .. } => match packet_type {
                PacketType::PubRel => "MQTT-3.6.1-1",
                PacketType::Subscribe => "MQTT-3.8.1-1",
                PacketType::Unsubscribe => "MQTT-3.10.1-1",
                PacketType::Disconnect => "MQTT-3.14.1-1",
                _ => "MQTT-2.2.2-2",
            },
            InvalidQos => "MQTT-3.3.1-4",
            DupOnQos0 => "MQTT-3.3.1-2",
            MalformedRemainingLength => "§2.2.3",
            PacketTooLarge { .. } => "§2.2.3",
            InvalidRemainingLength { packet_type, .. } => packet_type.fixed_header_section(),
            UnexpectedEndOfFrame { .. } => "§2.2.3",
            TrailingBytes { .. } => "§2.2.3",
            InvalidUtf8 { .. } | Utf16Surrogate { .. } => "MQTT-1.5.3-1",
            NullCharacter { .. } => "MQTT-1.5.3-2",
            InvalidTopic { reason, .. } => reason.rule(),
            ZeroPacketId => "MQTT-2.3.1-1",
            InvalidProtocolName => "MQTT-3.1.2-1",
            UnsupportedProtocolLevel { .. } => "MQTT-3.1.2-2",
            ConnectReservedFlag => "MQTT-3.1.2-3",
            WillQosWithoutWill => "MQTT-3.1.2-13",
            WillRetainWithoutWill => "MQTT-3.1.2-15",
            InvalidWillQos => "MQTT-3.1.2-14",
            PasswordWithoutUsername => "MQTT-3.1.2-22",
            ConnAckReservedFlags { .. } => "§3.2.2.1",
            InvalidConnectReturnCode { .. } => "§3.2.2.3",
            SessionPresentOnRefusal => "MQTT-3.2.2-4",
            NoTopicFilters { packet_type } => match packet_type {
                PacketType::Unsubscribe => "MQTT-3.10.3-2",
                _ => "MQTT-3.8.3-3",
            },
            // The specification spells this id with a dash.
            SubscribeReservedBits { .. } | InvalidSubscribeQos => "MQTT-3-8.3-4",
            NoReturnCodes => "MQTT-3.8.4-5",
            InvalidSubAckReturnCode { .. } => "MQTT-3.9.3-2",
        }
    }
}

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use DecodeErrorKind::*;
        match self {
            ReservedPacketType { value } => write!(f, "packet type {value} is reserved"),
            UnexpectedPacket { packet_type } => {
                write!(f, "{packet_type} may not be sent in this direction")
            }
            InvalidHeaderFlags { packet_type, flags } => write!(
                f,
                "{packet_type} fixed header flags are {flags:#06b}, expected {:#06b}",
                packet_type.required_flags().unwrap_or(0)
            ),
            InvalidQos => f.write_str("PUBLISH has both QoS bits set"),
            DupOnQos0 => f.write_str("PUBLISH at QoS 0 has the DUP flag set"),
            MalformedRemainingLength => f.write_str("remaining length continues past four bytes"),
            PacketTooLarge { size, max } => {
                write!(f, "packet of {size} bytes exceeds the maximum of {max}")
            }
            InvalidRemainingLength {
                packet_type,
                expected,
                actual,
            } => write!(
                f,
                "{packet_type} must have remaining length {expected}, not {actual}"
            ),
            UnexpectedEndOfFrame { field } => {
                write!(f, "{field} runs past the end of the packet")
            }
            TrailingBytes { packet_type } => {
                write!(f, "{packet_type} has bytes after its last field")
            }
            InvalidUtf8 { field } => write!(f, "{field} is not well-formed UTF-8"),
            Utf16Surrogate { field } => write!(f, "{field} encodes a UTF-16 surrogate"),
            NullCharacter { field } => write!(f, "{field} contains U+0000"),
            InvalidTopic { field, reason } => write!(f, "{field}: {reason}"),
            ZeroPacketId => f.write_str("packet identifier is 0"),
            InvalidProtocolName => f.write_str("protocol name is not \"MQTT\""),
            UnsupportedProtocolLevel { level } => {
                write!(f, "protocol level {level} is not 4 (MQTT 3.1.1)")
            }
            ConnectReservedFlag => f.write_str("CONNECT reserved flag is set"),
            WillQosWithoutWill => f.write_str("Will QoS is set without the Will flag"),
            WillRetainWithoutWill => f.write_str("Will Retain is set without the Will flag"),
            InvalidWillQos => f.write_str("Will QoS is 3"),
            PasswordWithoutUsername => {
                f.write_str("password flag is set without the user name flag")
            }
            ConnAckReservedFlags { flags } => {
                write!(
                    f,
                    "CONNACK acknowledge flags {flags:#010b} set reserved bits"
                )
            }
            InvalidConnectReturnCode { code } => {
                write!(f, "CONNACK return code {code} is reserved")
            }
            SessionPresentOnRefusal => {
                f.write_str("CONNACK refuses the connection but sets Session Present")
            }
            NoTopicFilters { packet_type } => write!(f, "{packet_type} has no topic filter"),
            SubscribeReservedBits { options } => {
                write!(f, "requested QoS byte {options:#010b} sets reserved bits")
            }
            InvalidSubscribeQos => f.write_str("requested QoS is 3"),
            NoReturnCodes => f.write_str("SUBACK has no return code"),
            InvalidSubAckReturnCode { code } => {
                write!(f, "SUBACK return code {code:#04x} is reserved")
            }
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {} [{}]", self.kind, self.offset, self.rule())
    }
}

impl std::error::Error for DecodeError {}

/// Why a value could not be encoded. Nothing is written when encoding fails.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeError {
    /// A QoS 0 PUBLISH with the DUP flag set [MQTT-3.3.1-2].
    DupOnQos0,
    /// A CONNECT with a password but no user name [MQTT-3.1.2-22].
    PasswordWithoutUsername,
    /// A CONNACK that refuses the connection but claims a session [MQTT-3.2.2-4].
    SessionPresentOnRefusal,
    /// A length-prefixed field longer than 65,535 bytes.
    FieldTooLong {
        /// The field.
        field: &'static str,
        /// Its length in bytes.
        len: usize,
    },
    /// The packet's remaining length would exceed 268,435,455 bytes.
    PacketTooLarge {
        /// The remaining length the packet would need.
        remaining_length: usize,
    },
    /// A SUBSCRIBE or UNSUBSCRIBE with no topic filter, or a SUBACK with no return code.
    EmptyList {
        /// The packet type.
        packet_type: PacketType,
    },
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::DupOnQos0 => {
                f.write_str("a QoS 0 PUBLISH cannot have the DUP flag [MQTT-3.3.1-2]")
            }
            EncodeError::PasswordWithoutUsername => {
                f.write_str("a password requires a user name [MQTT-3.1.2-22]")
            }
            EncodeError::SessionPresentOnRefusal => f.write_str(
                "a CONNACK that refuses the connection cannot set Session Present [MQTT-3.2.2-4]",
            ),
            EncodeError::FieldTooLong { field, len } => {
                write!(f, "{field} is {len} bytes, more than 65535")
            }
            EncodeError::PacketTooLarge { remaining_length } => write!(
                f,
                "remaining length {remaining_length} exceeds 268435455 [§2.2.3]"
            ),
            EncodeError::EmptyList { packet_type } => {
                write!(f, "{packet_type} needs at least one entry")
            }
        }
    }
}

impl std::error::Error for EncodeError {}
