//! The fourteen MQTT 3.1.1 control packets, one module per packet, and the values they share.

use std::fmt;
use std::num::NonZeroU16;

use bytes::Bytes;

mod ack;
mod connack;
mod connect;
mod publish;
mod suback;
mod subscribe;
mod unsubscribe;

pub use connack::{ConnAck, ConnectReturnCode};
pub use connect::{Connect, ConnectRef, Will, WillRef};
pub(crate) use publish::PublishFields;
pub use publish::{Publish, PublishRef};
pub use suback::{SubAck, SubAckRef, SubAckReturnCode, SubAckReturnCodes};
pub use subscribe::{
    Subscribe, SubscribeFilter, SubscribeFilterRef, SubscribeFilterRefs, SubscribeFilters,
    SubscribeRef,
};
pub use unsubscribe::{Unsubscribe, UnsubscribeFilterRefs, UnsubscribeFilters, UnsubscribeRef};

pub(crate) use ack::{decode_packet_id_only, encode_packet_id_only};

/// A decoded or to-be-encoded MQTT 3.1.1 control packet.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Packet {
    /// Client request to connect (§3.1). Boxed: a CONNECT is one per connection and more than
    /// twice the size of any other packet, which would make every packet as large.
    Connect(Box<Connect>),
    /// Connect acknowledgement (§3.2).
    ConnAck(ConnAck),
    /// Publish message (§3.3).
    Publish(Publish),
    /// Publish acknowledgement, QoS 1 (§3.4).
    PubAck(PacketId),
    /// Publish received, QoS 2 part 1 (§3.5).
    PubRec(PacketId),
    /// Publish release, QoS 2 part 2 (§3.6).
    PubRel(PacketId),
    /// Publish complete, QoS 2 part 3 (§3.7).
    PubComp(PacketId),
    /// Subscribe request (§3.8).
    Subscribe(Subscribe),
    /// Subscribe acknowledgement (§3.9).
    SubAck(SubAck),
    /// Unsubscribe request (§3.10).
    Unsubscribe(Unsubscribe),
    /// Unsubscribe acknowledgement (§3.11).
    UnsubAck(PacketId),
    /// Ping request (§3.12).
    PingReq,
    /// Ping response (§3.13).
    PingResp,
    /// Client is disconnecting (§3.14).
    Disconnect,
}

impl From<Connect> for Packet {
    fn from(connect: Connect) -> Packet {
        Packet::Connect(Box::new(connect))
    }
}

impl Packet {
    /// The packet's type.
    pub fn packet_type(&self) -> PacketType {
        match self {
            Packet::Connect(_) => PacketType::Connect,
            Packet::ConnAck(_) => PacketType::ConnAck,
            Packet::Publish(_) => PacketType::Publish,
            Packet::PubAck(_) => PacketType::PubAck,
            Packet::PubRec(_) => PacketType::PubRec,
            Packet::PubRel(_) => PacketType::PubRel,
            Packet::PubComp(_) => PacketType::PubComp,
            Packet::Subscribe(_) => PacketType::Subscribe,
            Packet::SubAck(_) => PacketType::SubAck,
            Packet::Unsubscribe(_) => PacketType::Unsubscribe,
            Packet::UnsubAck(_) => PacketType::UnsubAck,
            Packet::PingReq => PacketType::PingReq,
            Packet::PingResp => PacketType::PingResp,
            Packet::Disconnect => PacketType::Disconnect,
        }
    }
}

/// A decoded packet that borrows its strings, topics and payloads from the bytes it was decoded
/// from ([`decode_slice`](crate::decode_slice)). The same packets as [`Packet`], checked by the
/// same rules; `Packet::from` makes an owned copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketRef<'a> {
    /// Client request to connect (§3.1).
    Connect(ConnectRef<'a>),
    /// Connect acknowledgement (§3.2).
    ConnAck(ConnAck),
    /// Publish message (§3.3).
    Publish(PublishRef<'a>),
    /// Publish acknowledgement, QoS 1 (§3.4).
    PubAck(PacketId),
    /// Publish received, QoS 2 part 1 (§3.5).
    PubRec(PacketId),
    /// Publish release, QoS 2 part 2 (§3.6).
    PubRel(PacketId),
    /// Publish complete, QoS 2 part 3 (§3.7).
    PubComp(PacketId),
    /// Subscribe request (§3.8).
    Subscribe(SubscribeRef<'a>),
    /// Subscribe acknowledgement (§3.9).
    SubAck(SubAckRef<'a>),
    /// Unsubscribe request (§3.10).
    Unsubscribe(UnsubscribeRef<'a>),
    /// Unsubscribe acknowledgement (§3.11).
    UnsubAck(PacketId),
    /// Ping request (§3.12).
    PingReq,
    /// Ping response (§3.13).
    PingResp,
    /// Client is disconnecting (§3.14).
    Disconnect,
}

impl<'a> PacketRef<'a> {
    /// The packet's type.
    pub fn packet_type(&self) -> PacketType {
        match self {
            PacketRef::Connect(_) => PacketType::Connect,
            PacketRef::ConnAck(_) => PacketType::ConnAck,
            PacketRef::Publish(_) => PacketType::Publish,
            PacketRef::PubAck(_) => PacketType::PubAck,
            PacketRef::PubRec(_) => PacketType::PubRec,
            PacketRef::PubRel(_) => PacketType::PubRel,
            PacketRef::PubComp(_) => PacketType::PubComp,
            PacketRef::Subscribe(_) => PacketType::Subscribe,
            PacketRef::SubAck(_) => PacketType::SubAck,
            PacketRef::Unsubscribe(_) => PacketType::Unsubscribe,
            PacketRef::UnsubAck(_) => PacketType::UnsubAck,
            PacketRef::PingReq => PacketType::PingReq,
            PacketRef::PingResp => PacketType::PingResp,
            PacketRef::Disconnect => PacketType::Disconnect,
        }
    }

    /// The owned packet, each borrowed field taken through `keep` (a copy, or a slice of the
    /// buffer the fields point into).
    pub(crate) fn to_packet_with(self, keep: impl Fn(&'a [u8]) -> Bytes) -> Packet {
        match self {
            PacketRef::Connect(c) => Packet::Connect(Box::new(Connect::from_ref(c, keep))),
            PacketRef::ConnAck(c) => Packet::ConnAck(c),
            PacketRef::Publish(p) => Packet::Publish(Publish::from_ref(p, keep)),
            PacketRef::PubAck(id) => Packet::PubAck(id),
            PacketRef::PubRec(id) => Packet::PubRec(id),
            PacketRef::PubRel(id) => Packet::PubRel(id),
            PacketRef::PubComp(id) => Packet::PubComp(id),
            PacketRef::Subscribe(s) => Packet::Subscribe(Subscribe::from_ref(s, keep)),
            PacketRef::SubAck(s) => Packet::SubAck(SubAck::from_ref(s, keep)),
            PacketRef::Unsubscribe(u) => Packet::Unsubscribe(Unsubscribe::from_ref(u, keep)),
            PacketRef::UnsubAck(id) => Packet::UnsubAck(id),
            PacketRef::PingReq => Packet::PingReq,
            PacketRef::PingResp => Packet::PingResp,
            PacketRef::Disconnect => Packet::Disconnect,
        }
    }
}

impl From<PacketRef<'_>> for Packet {
    /// Copies the borrowed fields.
    fn from(packet: PacketRef<'_>) -> Packet {
        packet.to_packet_with(Bytes::copy_from_slice)
    }
}

macro_rules! packet_from {
    ($($variant:ident),*) => {$(
        impl From<$variant> for Packet {
            fn from(p: $variant) -> Self {
                Packet::$variant(p)
            }
        }
    )*};
}
packet_from!(ConnAck, Publish, Subscribe, SubAck, Unsubscribe);

/// The control packet type: the four high bits of the first byte (§2.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum PacketType {
    /// CONNECT (1).
    Connect = 1,
    /// CONNACK (2).
    ConnAck = 2,
    /// PUBLISH (3).
    Publish = 3,
    /// PUBACK (4).
    PubAck = 4,
    /// PUBREC (5).
    PubRec = 5,
    /// PUBREL (6).
    PubRel = 6,
    /// PUBCOMP (7).
    PubComp = 7,
    /// SUBSCRIBE (8).
    Subscribe = 8,
    /// SUBACK (9).
    SubAck = 9,
    /// UNSUBSCRIBE (10).
    Unsubscribe = 10,
    /// UNSUBACK (11).
    UnsubAck = 11,
    /// PINGREQ (12).
    PingReq = 12,
    /// PINGRESP (13).
    PingResp = 13,
    /// DISCONNECT (14).
    Disconnect = 14,
}

impl PacketType {
    /// The type for the four high bits of a first byte; `None` for the reserved 0 and 15.
    pub fn from_nibble(value: u8) -> Option<Self> {
        use PacketType::*;
        Some(match value {
            1 => Connect,
            2 => ConnAck,
            3 => Publish,
            4 => PubAck,
            5 => PubRec,
            6 => PubRel,
            7 => PubComp,
            8 => Subscribe,
            9 => SubAck,
            10 => Unsubscribe,
            11 => UnsubAck,
            12 => PingReq,
            13 => PingResp,
            14 => Disconnect,
            _ => return None,
        })
    }

    /// The name the specification uses, e.g. `"PUBLISH"`.
    pub fn name(self) -> &'static str {
        use PacketType::*;
        match self {
            Connect => "CONNECT",
            ConnAck => "CONNACK",
            Publish => "PUBLISH",
            PubAck => "PUBACK",
            PubRec => "PUBREC",
            PubRel => "PUBREL",
            PubComp => "PUBCOMP",
            Subscribe => "SUBSCRIBE",
            SubAck => "SUBACK",
            Unsubscribe => "UNSUBSCRIBE",
            UnsubAck => "UNSUBACK",
            PingReq => "PINGREQ",
            PingResp => "PINGRESP",
            Disconnect => "DISCONNECT",
        }
    }

    /// The fixed header flags the type requires (Table 2.2); `None` for PUBLISH, whose flags
    /// carry DUP, QoS and RETAIN.
    pub fn required_flags(self) -> Option<u8> {
        match self {
            PacketType::Publish => None,
            PacketType::PubRel | PacketType::Subscribe | PacketType::Unsubscribe => Some(0b0010),
            _ => Some(0),
        }
    }

    /// The remaining length of packets whose size is fixed.
    pub fn fixed_remaining_length(self) -> Option<usize> {
        use PacketType::*;
        match self {
            ConnAck | PubAck | PubRec | PubRel | PubComp | UnsubAck => Some(2),
            PingReq | PingResp | Disconnect => Some(0),
            Connect | Publish | Subscribe | SubAck | Unsubscribe => None,
        }
    }

    /// Whether a client may send this type (it travels client → server).
    pub fn sent_by_client(self) -> bool {
        use PacketType::*;
        matches!(
            self,
            Connect
                | Publish
                | PubAck
                | PubRec
                | PubRel
                | PubComp
                | Subscribe
                | Unsubscribe
                | PingReq
                | Disconnect
        )
    }

    /// Whether a server may send this type (it travels server → client).
    pub fn sent_by_server(self) -> bool {
        use PacketType::*;
        matches!(
            self,
            ConnAck | Publish | PubAck | PubRec | PubRel | PubComp | SubAck | UnsubAck | PingResp
        )
    }

    /// The section that defines the fixed header of this type.
    pub(crate) fn fixed_header_section(self) -> &'static str {
        use PacketType::*;
        match self {
            Connect => "§3.1.1",
            ConnAck => "§3.2.1",
            Publish => "§3.3.1",
            PubAck => "§3.4.1",
            PubRec => "§3.5.1",
            PubRel => "§3.6.1",
            PubComp => "§3.7.1",
            Subscribe => "§3.8.1",
            SubAck => "§3.9.1",
            Unsubscribe => "§3.10.1",
            UnsubAck => "§3.11.1",
            PingReq => "§3.12.1",
            PingResp => "§3.13.1",
            Disconnect => "§3.14.1",
        }
    }
}

impl fmt::Display for PacketType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Quality of service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum QoS {
    /// At most once (0).
    AtMostOnce = 0,
    /// At least once (1).
    AtLeastOnce = 1,
    /// Exactly once (2).
    ExactlyOnce = 2,
}

impl QoS {
    /// The QoS for a two-bit value; `None` for 3.
    pub fn from_u8(value: u8) -> Option<Self> {
        match value {
            0 => Some(QoS::AtMostOnce),
            1 => Some(QoS::AtLeastOnce),
            2 => Some(QoS::ExactlyOnce),
            _ => None,
        }
    }
}

/// A non-zero packet identifier [MQTT-2.3.1-1].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PacketId(NonZeroU16);

impl PacketId {
    /// The identifier, or `None` for 0.
    pub fn new(value: u16) -> Option<Self> {
        NonZeroU16::new(value).map(Self)
    }

    /// The numeric value.
    pub fn get(self) -> u16 {
        self.0.get()
    }
}

impl From<NonZeroU16> for PacketId {
    fn from(value: NonZeroU16) -> Self {
        Self(value)
    }
}

impl fmt::Display for PacketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A PUBLISH's QoS with the packet identifier that QoS 1 and 2 require and QoS 0 forbids
/// [MQTT-2.3.1-5], so the two cannot disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum QosPid {
    /// QoS 0, no packet identifier.
    AtMostOnce,
    /// QoS 1 with its packet identifier.
    AtLeastOnce(PacketId),
    /// QoS 2 with its packet identifier.
    ExactlyOnce(PacketId),
}

impl QosPid {
    /// The QoS.
    pub fn qos(self) -> QoS {
        match self {
            QosPid::AtMostOnce => QoS::AtMostOnce,
            QosPid::AtLeastOnce(_) => QoS::AtLeastOnce,
            QosPid::ExactlyOnce(_) => QoS::ExactlyOnce,
        }
    }

    /// The packet identifier, if the QoS has one.
    pub fn packet_id(self) -> Option<PacketId> {
        match self {
            QosPid::AtMostOnce => None,
            QosPid::AtLeastOnce(id) | QosPid::ExactlyOnce(id) => Some(id),
        }
    }
}
