//! One vector per rule the decoder enforces: the exact variant, the byte offset and the
//! specification clause, read as a table.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::panic,
    missing_docs
)] // Test code: a failed expectation should panic.

use bytes::BytesMut;
use mqtt_wire::{
    DecodeErrorKind as K, DecodeOptions, PacketType as T, Role, TopicError, decode, decode_slice,
};

fn hex(s: &str) -> Vec<u8> {
    let digits: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap())
        .collect()
}

struct Vector {
    /// What `DecodeError::rule()` must report.
    rule: &'static str,
    role: Role,
    bytes: &'static str,
    kind: K,
    offset: usize,
}

const S: Role = Role::Server;
const C: Role = Role::Client;

fn v(rule: &'static str, role: Role, bytes: &'static str, kind: K, offset: usize) -> Vector {
    Vector {
        rule,
        role,
        bytes,
        kind,
        offset,
    }
}

fn vectors() -> Vec<Vector> {
    use TopicError as TE;
    vec![
        // §2.2.1 control packet types.
        v("§2.2.1", S, "00 00", K::ReservedPacketType { value: 0 }, 0),
        v("§2.2.1", S, "f0 00", K::ReservedPacketType { value: 15 }, 0),
        v(
            "§2.2.1",
            S,
            "20 02 00 00",
            K::UnexpectedPacket {
                packet_type: T::ConnAck,
            },
            0,
        ),
        v(
            "§2.2.1",
            S,
            "90 03 0001 00",
            K::UnexpectedPacket {
                packet_type: T::SubAck,
            },
            0,
        ),
        v(
            "§2.2.1",
            S,
            "b0 02 0001",
            K::UnexpectedPacket {
                packet_type: T::UnsubAck,
            },
            0,
        ),
        v(
            "§2.2.1",
            S,
            "d0 00",
            K::UnexpectedPacket {
                packet_type: T::PingResp,
            },
            0,
        ),
        v(
            "§2.2.1",
            C,
            "10 00",
            K::UnexpectedPacket {
                packet_type: T::Connect,
            },
            0,
        ),
        v(
            "§2.2.1",
            C,
            "82 00",
            K::UnexpectedPacket {
                packet_type: T::Subscribe,
            },
            0,
        ),
        v(
            "§2.2.1",
            C,
            "a2 00",
            K::UnexpectedPacket {
                packet_type: T::Unsubscribe,
            },
            0,
        ),
        v(
            "§2.2.1",
            C,
            "c0 00",
            K::UnexpectedPacket {
                packet_type: T::PingReq,
            },
            0,
        ),
        v(
            "§2.2.1",
            C,
            "e0 00",
            K::UnexpectedPacket {
                packet_type: T::Disconnect,
            },
            0,
        ),
        // [MQTT-2.2.2-2] reserved flags, per type.
        v(
            "MQTT-2.2.2-2",
            S,
            "11 00",
            K::InvalidHeaderFlags {
                packet_type: T::Connect,
                flags: 1,
            },
            0,
        ),
        v(
            "MQTT-2.2.2-2",
            S,
            "48 02 0001",
            K::InvalidHeaderFlags {
                packet_type: T::PubAck,
                flags: 8,
            },
            0,
        ),
        v(
            "MQTT-2.2.2-2",
            S,
            "52 02 0001",
            K::InvalidHeaderFlags {
                packet_type: T::PubRec,
                flags: 2,
            },
            0,
        ),
        v(
            "MQTT-2.2.2-2",
            S,
            "71 02 0001",
            K::InvalidHeaderFlags {
                packet_type: T::PubComp,
                flags: 1,
            },
            0,
        ),
        v(
            "MQTT-2.2.2-2",
            S,
            "c8 00",
            K::InvalidHeaderFlags {
                packet_type: T::PingReq,
                flags: 8,
            },
            0,
        ),
        v(
            "MQTT-2.2.2-2",
            C,
            "24 02 0000",
            K::InvalidHeaderFlags {
                packet_type: T::ConnAck,
                flags: 4,
            },
            0,
        ),
        v(
            "MQTT-2.2.2-2",
            C,
            "92 03 0001 00",
            K::InvalidHeaderFlags {
                packet_type: T::SubAck,
                flags: 2,
            },
            0,
        ),
        v(
            "MQTT-2.2.2-2",
            C,
            "b1 02 0001",
            K::InvalidHeaderFlags {
                packet_type: T::UnsubAck,
                flags: 1,
            },
            0,
        ),
        v(
            "MQTT-2.2.2-2",
            C,
            "d4 00",
            K::InvalidHeaderFlags {
                packet_type: T::PingResp,
                flags: 4,
            },
            0,
        ),
        v(
            "MQTT-3.6.1-1",
            S,
            "60 02 0001",
            K::InvalidHeaderFlags {
                packet_type: T::PubRel,
                flags: 0,
            },
            0,
        ),
        v(
            "MQTT-3.8.1-1",
            S,
            "80 06 0001 0001 61 00",
            K::InvalidHeaderFlags {
                packet_type: T::Subscribe,
                flags: 0,
            },
            0,
        ),
        v(
            "MQTT-3.10.1-1",
            S,
            "a3 05 0001 0001 61",
            K::InvalidHeaderFlags {
                packet_type: T::Unsubscribe,
                flags: 3,
            },
            0,
        ),
        v(
            "MQTT-3.14.1-1",
            S,
            "e1 00",
            K::InvalidHeaderFlags {
                packet_type: T::Disconnect,
                flags: 1,
            },
            0,
        ),
        // PUBLISH flags.
        v("MQTT-3.3.1-4", S, "36 05 0001 61 0001", K::InvalidQos, 0),
        v("MQTT-3.3.1-4", C, "3f 05 0001 61 0001", K::InvalidQos, 0),
        v("MQTT-3.3.1-2", S, "38 03 0001 61", K::DupOnQos0, 0),
        v("MQTT-3.3.1-2", C, "39 03 0001 61", K::DupOnQos0, 0),
        // §2.2.3 remaining length.
        v(
            "§2.2.3",
            S,
            "30 ff ff ff ff 01",
            K::MalformedRemainingLength,
            4,
        ),
        v(
            "§2.2.3",
            S,
            "30 80 80 80 80",
            K::MalformedRemainingLength,
            4,
        ),
        v(
            "§3.4.1",
            S,
            "40 03 0001 00",
            K::InvalidRemainingLength {
                packet_type: T::PubAck,
                expected: 2,
                actual: 3,
            },
            1,
        ),
        v(
            "§3.5.1",
            S,
            "50 01 00",
            K::InvalidRemainingLength {
                packet_type: T::PubRec,
                expected: 2,
                actual: 1,
            },
            1,
        ),
        v(
            "§3.6.1",
            S,
            "62 00",
            K::InvalidRemainingLength {
                packet_type: T::PubRel,
                expected: 2,
                actual: 0,
            },
            1,
        ),
        v(
            "§3.7.1",
            S,
            "70 04 0001 0000",
            K::InvalidRemainingLength {
                packet_type: T::PubComp,
                expected: 2,
                actual: 4,
            },
            1,
        ),
        v(
            "§3.12.1",
            S,
            "c0 01 00",
            K::InvalidRemainingLength {
                packet_type: T::PingReq,
                expected: 0,
                actual: 1,
            },
            1,
        ),
        v(
            "§3.14.1",
            S,
            "e0 01 00",
            K::InvalidRemainingLength {
                packet_type: T::Disconnect,
                expected: 0,
                actual: 1,
            },
            1,
        ),
        v(
            "§3.2.1",
            C,
            "20 03 000000",
            K::InvalidRemainingLength {
                packet_type: T::ConnAck,
                expected: 2,
                actual: 3,
            },
            1,
        ),
        v(
            "§3.11.1",
            C,
            "b0 01 00",
            K::InvalidRemainingLength {
                packet_type: T::UnsubAck,
                expected: 2,
                actual: 1,
            },
            1,
        ),
        v(
            "§3.13.1",
            C,
            "d0 80 01",
            K::InvalidRemainingLength {
                packet_type: T::PingResp,
                expected: 0,
                actual: 128,
            },
            1,
        ),
        // Fields that run past the frame, and frames with bytes left over.
        v(
            "§2.2.3",
            S,
            "30 02 0005",
            K::UnexpectedEndOfFrame {
                field: "topic name",
            },
            2,
        ),
        v(
            "§2.2.3",
            S,
            "30 01 00",
            K::UnexpectedEndOfFrame {
                field: "topic name",
            },
            2,
        ),
        v(
            "§2.2.3",
            S,
            "32 03 0001 61",
            K::UnexpectedEndOfFrame {
                field: "packet identifier",
            },
            5,
        ),
        v(
            "§2.2.3",
            S,
            "82 07 0001 0003 612f62",
            K::UnexpectedEndOfFrame {
                field: "requested QoS",
            },
            9,
        ),
        v(
            "§2.2.3",
            S,
            "10 02 0004",
            K::UnexpectedEndOfFrame {
                field: "protocol name",
            },
            2,
        ),
        v(
            "§2.2.3",
            S,
            "10 0b 0004 4d515454 04 02 003c 00",
            K::UnexpectedEndOfFrame {
                field: "client identifier",
            },
            12,
        ),
        v(
            "§2.2.3",
            S,
            "10 0d 0004 4d515454 04 02 003c 0000 ff",
            K::TrailingBytes {
                packet_type: T::Connect,
            },
            14,
        ),
        // §1.5.3 strings.
        v(
            "MQTT-1.5.3-1",
            S,
            "30 03 0001 ff",
            K::InvalidUtf8 {
                field: "topic name",
            },
            4,
        ),
        v(
            "MQTT-1.5.3-1",
            S,
            "30 05 0003 61 c3 28",
            K::InvalidUtf8 {
                field: "topic name",
            },
            5,
        ),
        v(
            "MQTT-1.5.3-1",
            S,
            "30 05 0003 ed a0 80",
            K::Utf16Surrogate {
                field: "topic name",
            },
            4,
        ),
        v(
            "MQTT-1.5.3-1",
            S,
            "30 06 0004 61 ed bf bf",
            K::Utf16Surrogate {
                field: "topic name",
            },
            5,
        ),
        v(
            "MQTT-1.5.3-2",
            S,
            "30 04 0002 61 00",
            K::NullCharacter {
                field: "topic name",
            },
            5,
        ),
        v(
            "MQTT-1.5.3-2",
            S,
            "10 0d 0004 4d515454 04 02 003c 0001 00",
            K::NullCharacter {
                field: "client identifier",
            },
            14,
        ),
        v(
            "MQTT-1.5.3-1",
            S,
            "10 0d 0004 4d515454 04 02 003c 0001 80",
            K::InvalidUtf8 {
                field: "client identifier",
            },
            14,
        ),
        v(
            "MQTT-1.5.3-2",
            S,
            "a2 06 0001 0002 6100",
            K::NullCharacter {
                field: "topic filter",
            },
            7,
        ),
        // §4.7 topics.
        v(
            "MQTT-4.7.3-1",
            S,
            "30 02 0000",
            K::InvalidTopic {
                field: "topic name",
                reason: TE::Empty,
            },
            2,
        ),
        v(
            "MQTT-3.3.2-2",
            S,
            "30 05 0003 612f23",
            K::InvalidTopic {
                field: "topic name",
                reason: TE::WildcardInName { offset: 2 },
            },
            6,
        ),
        v(
            "MQTT-3.3.2-2",
            S,
            "32 07 0003 2b2f61 0001",
            K::InvalidTopic {
                field: "topic name",
                reason: TE::WildcardInName { offset: 0 },
            },
            4,
        ),
        v(
            "MQTT-4.7.1-2",
            S,
            "82 09 0001 0004 612f6223 00",
            K::InvalidTopic {
                field: "topic filter",
                reason: TE::MisplacedMultiLevelWildcard { offset: 3 },
            },
            9,
        ),
        v(
            "MQTT-4.7.1-2",
            S,
            "82 08 0001 0003 232f61 00",
            K::InvalidTopic {
                field: "topic filter",
                reason: TE::MisplacedMultiLevelWildcard { offset: 0 },
            },
            6,
        ),
        v(
            "MQTT-4.7.1-3",
            S,
            "82 09 0001 0004 612b2f62 00",
            K::InvalidTopic {
                field: "topic filter",
                reason: TE::MisplacedSingleLevelWildcard { offset: 1 },
            },
            7,
        ),
        v(
            "MQTT-4.7.1-3",
            S,
            "a2 07 0001 0003 2f2b2b",
            K::InvalidTopic {
                field: "topic filter",
                reason: TE::MisplacedSingleLevelWildcard { offset: 1 },
            },
            7,
        ),
        v(
            "MQTT-4.7.3-1",
            S,
            "82 05 0001 0000 00",
            K::InvalidTopic {
                field: "topic filter",
                reason: TE::Empty,
            },
            4,
        ),
        v(
            "MQTT-4.7.3-1",
            S,
            "a2 04 0001 0000",
            K::InvalidTopic {
                field: "topic filter",
                reason: TE::Empty,
            },
            4,
        ),
        // [MQTT-2.3.1-1] packet identifiers.
        v("MQTT-2.3.1-1", S, "32 05 0001 61 0000", K::ZeroPacketId, 5),
        v("MQTT-2.3.1-1", C, "34 05 0001 61 0000", K::ZeroPacketId, 5),
        v("MQTT-2.3.1-1", S, "40 02 0000", K::ZeroPacketId, 2),
        v("MQTT-2.3.1-1", S, "50 02 0000", K::ZeroPacketId, 2),
        v("MQTT-2.3.1-1", S, "62 02 0000", K::ZeroPacketId, 2),
        v("MQTT-2.3.1-1", S, "70 02 0000", K::ZeroPacketId, 2),
        v(
            "MQTT-2.3.1-1",
            S,
            "82 06 0000 0001 61 00",
            K::ZeroPacketId,
            2,
        ),
        v("MQTT-2.3.1-1", S, "a2 05 0000 0001 61", K::ZeroPacketId, 2),
        v("MQTT-2.3.1-1", C, "90 03 0000 00", K::ZeroPacketId, 2),
        v("MQTT-2.3.1-1", C, "b0 02 0000", K::ZeroPacketId, 2),
        // §3.1 CONNECT.
        v(
            "MQTT-3.1.2-1",
            S,
            "10 0c 0004 4d515455 04 02 003c 0000",
            K::InvalidProtocolName,
            2,
        ),
        v(
            "MQTT-3.1.2-1",
            S,
            "10 0b 0003 4d5154 04 02 003c 0000",
            K::InvalidProtocolName,
            2,
        ),
        v(
            "MQTT-3.1.2-2",
            S,
            "10 0c 0004 4d515454 05 02 003c 0000",
            K::UnsupportedProtocolLevel { level: 5 },
            8,
        ),
        v(
            "MQTT-3.1.2-2",
            S,
            "10 0c 0004 4d515454 03 02 003c 0000",
            K::UnsupportedProtocolLevel { level: 3 },
            8,
        ),
        v(
            "MQTT-3.1.2-2",
            S,
            "10 0e 0006 4d5149736470 03 02 003c 0000",
            K::UnsupportedProtocolLevel { level: 3 },
            10,
        ),
        v(
            "MQTT-3.1.2-3",
            S,
            "10 0c 0004 4d515454 04 03 003c 0000",
            K::ConnectReservedFlag,
            9,
        ),
        v(
            "MQTT-3.1.2-13",
            S,
            "10 0c 0004 4d515454 04 0a 003c 0000",
            K::WillQosWithoutWill,
            9,
        ),
        v(
            "MQTT-3.1.2-13",
            S,
            "10 0c 0004 4d515454 04 12 003c 0000",
            K::WillQosWithoutWill,
            9,
        ),
        v(
            "MQTT-3.1.2-15",
            S,
            "10 0c 0004 4d515454 04 22 003c 0000",
            K::WillRetainWithoutWill,
            9,
        ),
        v(
            "MQTT-3.1.2-14",
            S,
            "10 0c 0004 4d515454 04 1e 003c 0000",
            K::InvalidWillQos,
            9,
        ),
        v(
            "MQTT-3.1.2-22",
            S,
            "10 0c 0004 4d515454 04 42 003c 0000",
            K::PasswordWithoutUsername,
            9,
        ),
        // [MQTT-3.1.2-9]: the Will flag promises a Will topic.
        v(
            "§2.2.3",
            S,
            "10 0c 0004 4d515454 04 06 003c 0000",
            K::UnexpectedEndOfFrame {
                field: "will topic",
            },
            14,
        ),
        // [MQTT-3.1.2-19]: the user name flag promises a user name.
        v(
            "§2.2.3",
            S,
            "10 0c 0004 4d515454 04 82 003c 0000",
            K::UnexpectedEndOfFrame { field: "user name" },
            14,
        ),
        // [MQTT-3.1.2-21]: the password flag promises a password.
        v(
            "§2.2.3",
            S,
            "10 0f 0004 4d515454 04 c2 003c 0000 0001 61",
            K::UnexpectedEndOfFrame { field: "password" },
            17,
        ),
        // [MQTT-3.1.2-11]: without the Will flag no Will fields may follow.
        v(
            "§2.2.3",
            S,
            "10 0f 0004 4d515454 04 02 003c 0000 0001 61",
            K::TrailingBytes {
                packet_type: T::Connect,
            },
            14,
        ),
        // [MQTT-3.1.3-10]: the Will topic is a topic name.
        v(
            "MQTT-3.3.2-2",
            S,
            "10 11 0004 4d515454 04 06 003c 0000 0001 23 0000",
            K::InvalidTopic {
                field: "will topic",
                reason: TE::WildcardInName { offset: 0 },
            },
            16,
        ),
        // [MQTT-3.1.3-11]: the user name is an MQTT string.
        v(
            "MQTT-1.5.3-2",
            S,
            "10 0f 0004 4d515454 04 82 003c 0000 0001 00",
            K::NullCharacter { field: "user name" },
            16,
        ),
        // §3.2 CONNACK.
        v(
            "§3.2.2.1",
            C,
            "20 02 02 00",
            K::ConnAckReservedFlags { flags: 2 },
            2,
        ),
        v(
            "§3.2.2.1",
            C,
            "20 02 81 00",
            K::ConnAckReservedFlags { flags: 0x81 },
            2,
        ),
        v(
            "§3.2.2.3",
            C,
            "20 02 00 06",
            K::InvalidConnectReturnCode { code: 6 },
            3,
        ),
        v(
            "§3.2.2.3",
            C,
            "20 02 00 ff",
            K::InvalidConnectReturnCode { code: 255 },
            3,
        ),
        v(
            "MQTT-3.2.2-4",
            C,
            "20 02 01 05",
            K::SessionPresentOnRefusal,
            2,
        ),
        // §3.8 SUBSCRIBE, §3.10 UNSUBSCRIBE.
        v(
            "MQTT-3.8.3-3",
            S,
            "82 02 0001",
            K::NoTopicFilters {
                packet_type: T::Subscribe,
            },
            4,
        ),
        v(
            "MQTT-3.10.3-2",
            S,
            "a2 02 0001",
            K::NoTopicFilters {
                packet_type: T::Unsubscribe,
            },
            4,
        ),
        v(
            "MQTT-3-8.3-4",
            S,
            "82 08 0001 0003 612f62 04",
            K::SubscribeReservedBits { options: 4 },
            9,
        ),
        v(
            "MQTT-3-8.3-4",
            S,
            "82 08 0001 0003 612f62 81",
            K::SubscribeReservedBits { options: 0x81 },
            9,
        ),
        v(
            "MQTT-3-8.3-4",
            S,
            "82 08 0001 0003 612f62 03",
            K::InvalidSubscribeQos,
            9,
        ),
        v(
            "MQTT-3-8.3-4",
            S,
            "82 0c 0001 0001 61 00 0003 612f62 03",
            K::InvalidSubscribeQos,
            13,
        ),
        // §3.9 SUBACK.
        v("MQTT-3.8.4-5", C, "90 02 0001", K::NoReturnCodes, 4),
        v(
            "MQTT-3.9.3-2",
            C,
            "90 03 0001 03",
            K::InvalidSubAckReturnCode { code: 3 },
            4,
        ),
        v(
            "MQTT-3.9.3-2",
            C,
            "90 05 0001 00 01 81",
            K::InvalidSubAckReturnCode { code: 0x81 },
            6,
        ),
    ]
}

#[test]
fn every_rule_has_its_variant_offset_and_id() {
    let vectors = vectors();
    assert_eq!(vectors.len(), 104);
    for Vector {
        rule,
        role,
        bytes,
        kind,
        offset,
    } in vectors
    {
        let input = hex(bytes);
        let mut buf = BytesMut::from(&input[..]);
        let options = DecodeOptions::new(role);
        let err =
            decode(&mut buf, &options).expect_err(&format!("{rule}: {bytes} must be rejected"));
        assert_eq!(
            decode_slice(&input, &options),
            Err(err.clone()),
            "{rule}: {bytes}: the borrowed decoder disagrees"
        );
        assert_eq!(err.kind(), &kind, "{rule}: {bytes}");
        assert_eq!(err.offset(), offset, "{rule}: {bytes}: offset");
        assert_eq!(err.rule(), rule, "{bytes}");
        assert!(
            err.to_string().ends_with(&format!("[{}]", err.rule())),
            "{err}"
        );
    }
}

#[test]
fn header_errors_are_reported_before_the_body_arrives() {
    for (bytes, kind) in [
        ("36", K::InvalidQos),
        ("38", K::DupOnQos0),
        (
            "20",
            K::UnexpectedPacket {
                packet_type: T::ConnAck,
            },
        ),
        (
            "61",
            K::InvalidHeaderFlags {
                packet_type: T::PubRel,
                flags: 1,
            },
        ),
    ] {
        let mut buf = BytesMut::from(&hex(bytes)[..]);
        let err = decode(&mut buf, &DecodeOptions::server()).unwrap_err();
        assert_eq!(err.kind(), &kind);
        assert_eq!(buf.len(), 1, "nothing consumed");
    }
    // A fixed-size packet with the wrong length is refused on the length byte alone.
    let mut buf = BytesMut::from(&hex("40 05")[..]);
    let err = decode(&mut buf, &DecodeOptions::server()).unwrap_err();
    assert_eq!(
        err.kind(),
        &K::InvalidRemainingLength {
            packet_type: T::PubAck,
            expected: 2,
            actual: 5
        }
    );
}

#[test]
fn packet_too_large_is_refused_before_the_body_is_awaited_or_reserved() {
    let options = DecodeOptions::server().with_max_packet_size(16);
    // Only the fixed header of a 2 MiB PUBLISH has arrived.
    let mut buf = BytesMut::from(&hex("30 80 80 80 01")[..]);
    let capacity = buf.capacity();
    let err = decode(&mut buf, &options).unwrap_err();
    assert_eq!(
        err.kind(),
        &K::PacketTooLarge {
            size: 2_097_157,
            max: 16
        }
    );
    assert_eq!(err.offset(), 1);
    assert_eq!(err.rule(), "§2.2.3");
    assert_eq!(buf.capacity(), capacity, "nothing reserved");
    assert_eq!(buf.len(), 5, "nothing consumed");

    // Exactly at the limit is accepted: 2 + 14 = 16 bytes.
    let mut buf = BytesMut::from(&hex("30 0e 0001 61 0102030405060708090a0b")[..]);
    assert!(decode(&mut buf, &options).unwrap().is_some());
    // One more byte is not.
    let mut buf = BytesMut::from(&hex("30 0f 0001 61 0102030405060708090a0b0c")[..]);
    assert_eq!(
        decode(&mut buf, &options).unwrap_err().kind(),
        &K::PacketTooLarge { size: 17, max: 16 }
    );
}

#[test]
fn a_partial_frame_consumes_nothing_and_reserves_the_rest() {
    let frame = hex("32 0a 0003 612f62 1234 68 69 21");
    for cut in 0..frame.len() {
        let mut buf = BytesMut::from(&frame[..cut]);
        assert_eq!(
            decode(&mut buf, &DecodeOptions::server()),
            Ok(None),
            "cut at {cut}"
        );
        assert_eq!(&buf[..], &frame[..cut], "cut at {cut}: nothing consumed");
        if cut >= 2 {
            assert!(buf.capacity() >= frame.len(), "cut at {cut}: body reserved");
        }
    }
    // A remaining length still being announced is also partial.
    let mut buf = BytesMut::from(&hex("30 80 80")[..]);
    assert_eq!(decode(&mut buf, &DecodeOptions::server()), Ok(None));
    assert_eq!(buf.len(), 3);
}

#[test]
fn a_rejected_body_consumes_exactly_its_frame() {
    let mut buf = BytesMut::from(&hex("30 03 0001 ff c0 00")[..]);
    let err = decode(&mut buf, &DecodeOptions::server()).unwrap_err();
    assert_eq!(
        err.kind(),
        &K::InvalidUtf8 {
            field: "topic name"
        }
    );
    assert_eq!(&buf[..], &hex("c0 00")[..]);
}

#[test]
fn error_display_reads_as_a_sentence_with_offset_and_rule() {
    let mut buf = BytesMut::from(&hex("36 00")[..]);
    let err = decode(&mut buf, &DecodeOptions::server()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "PUBLISH has both QoS bits set at byte 0 [MQTT-3.3.1-4]"
    );
    assert_eq!(err.kind().name(), "InvalidQos");

    let mut buf = BytesMut::from(&hex("82 09 0001 0004 612f6223 00")[..]);
    let err = decode(&mut buf, &DecodeOptions::server()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "topic filter: '#' at byte 3 must be alone in the last level of the filter \
         at byte 9 [MQTT-4.7.1-2]"
    );
}
