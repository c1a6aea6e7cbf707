//! Property tests: every packet type round-trips (encode → decode gives the original, and the
//! length written is `encoded_len()`), a valid stream split anywhere decodes to the same packets,
//! and no input, random or mutated, makes the decoder panic or lose its place.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::panic,
    missing_docs
)] // Test code: a failed expectation should panic.

use bytes::{Bytes, BytesMut};
use mqtt_wire::{
    ConnAck, Connect, ConnectReturnCode, DecodeOptions, Encode, EncodeError, MqttString, Packet,
    PacketId, PacketType, Publish, QoS, QosPid, Role, SubAck, SubAckReturnCode, Subscribe,
    SubscribeFilter, TopicFilter, TopicName, Unsubscribe, Will, decode, decode_slice,
};
use proptest::prelude::*;

fn packet_id() -> impl Strategy<Value = PacketId> {
    (1..=u16::MAX).prop_map(|v| PacketId::new(v).unwrap())
}

fn qos() -> impl Strategy<Value = QoS> {
    prop_oneof![
        Just(QoS::AtMostOnce),
        Just(QoS::AtLeastOnce),
        Just(QoS::ExactlyOnce)
    ]
}

fn text() -> impl Strategy<Value = MqttString> {
    any::<String>().prop_filter_map("MQTT string", |s| MqttString::new(&s).ok())
}

fn topic_name() -> impl Strategy<Value = TopicName> {
    prop_oneof!["[a-zA-Z0-9$/ _\u{e9}\u{1F600}-]{1,40}", any::<String>(),]
        .prop_filter_map("topic name", |s| TopicName::new(&s).ok())
}

fn topic_filter() -> impl Strategy<Value = TopicFilter> {
    let level = prop_oneof![Just("+".to_string()), "[a-z0-9$\u{e9}]{0,6}"];
    (prop::collection::vec(level, 1..6), any::<bool>()).prop_filter_map(
        "topic filter",
        |(levels, hash)| {
            let mut filter = levels.join("/");
            if hash {
                filter.push_str("/#");
            }
            TopicFilter::new(&filter).ok()
        },
    )
}

fn binary(max: usize) -> impl Strategy<Value = Bytes> {
    prop::collection::vec(any::<u8>(), 0..max).prop_map(Bytes::from)
}

fn qos_pid() -> impl Strategy<Value = QosPid> {
    prop_oneof![
        Just(QosPid::AtMostOnce),
        packet_id().prop_map(QosPid::AtLeastOnce),
        packet_id().prop_map(QosPid::ExactlyOnce),
    ]
}

fn publish() -> impl Strategy<Value = Publish> {
    (
        qos_pid(),
        any::<bool>(),
        any::<bool>(),
        topic_name(),
        binary(2000),
    )
        .prop_map(|(qos_pid, dup, retain, topic, payload)| Publish {
            dup: dup && qos_pid != QosPid::AtMostOnce,
            qos_pid,
            retain,
            topic,
            payload,
        })
}

fn connect() -> impl Strategy<Value = Connect> {
    let will = (topic_name(), binary(300), qos(), any::<bool>()).prop_map(
        |(topic, payload, qos, retain)| Will {
            topic,
            payload,
            qos,
            retain,
        },
    );
    let credentials = prop_oneof![
        Just((None, None)),
        text().prop_map(|u| (Some(u), None)),
        (text(), binary(100)).prop_map(|(u, p)| (Some(u), Some(p))),
    ];
    (
        any::<bool>(),
        any::<u16>(),
        text(),
        prop::option::of(will),
        credentials,
    )
        .prop_map(
            |(clean_session, keep_alive, client_id, will, (username, password))| Connect {
                clean_session,
                keep_alive,
                client_id,
                will,
                username,
                password,
            },
        )
}

fn connack() -> impl Strategy<Value = ConnAck> {
    (any::<bool>(), 0u8..6).prop_map(|(session_present, code)| {
        let code = ConnectReturnCode::from_u8(code).unwrap();
        ConnAck::new(session_present && code == ConnectReturnCode::Accepted, code)
    })
}

fn subscribe() -> impl Strategy<Value = Subscribe> {
    let entry = (topic_filter(), qos()).prop_map(|(filter, qos)| SubscribeFilter { filter, qos });
    (packet_id(), prop::collection::vec(entry, 1..12))
        .prop_map(|(id, entries)| Subscribe::new(id, entries).unwrap())
}

fn suback() -> impl Strategy<Value = SubAck> {
    let code = prop_oneof![
        qos().prop_map(SubAckReturnCode::Success),
        Just(SubAckReturnCode::Failure)
    ];
    (packet_id(), prop::collection::vec(code, 1..12))
        .prop_map(|(id, codes)| SubAck::new(id, codes).unwrap())
}

fn unsubscribe() -> impl Strategy<Value = Unsubscribe> {
    (packet_id(), prop::collection::vec(topic_filter(), 1..12))
        .prop_map(|(id, filters)| Unsubscribe::new(id, filters).unwrap())
}

/// Packets a client sends (a server decodes them).
fn client_packet() -> impl Strategy<Value = Packet> {
    prop_oneof![
        connect().prop_map(Packet::from),
        publish().prop_map(Packet::Publish),
        packet_id().prop_map(Packet::PubAck),
        packet_id().prop_map(Packet::PubRec),
        packet_id().prop_map(Packet::PubRel),
        packet_id().prop_map(Packet::PubComp),
        subscribe().prop_map(Packet::Subscribe),
        unsubscribe().prop_map(Packet::Unsubscribe),
        Just(Packet::PingReq),
        Just(Packet::Disconnect),
    ]
}

/// Packets a server sends (a client decodes them).
fn server_packet() -> impl Strategy<Value = Packet> {
    prop_oneof![
        connack().prop_map(Packet::ConnAck),
        publish().prop_map(Packet::Publish),
        packet_id().prop_map(Packet::PubAck),
        packet_id().prop_map(Packet::PubRec),
        packet_id().prop_map(Packet::PubRel),
        packet_id().prop_map(Packet::PubComp),
        suback().prop_map(Packet::SubAck),
        packet_id().prop_map(Packet::UnsubAck),
        Just(Packet::PingResp),
    ]
}

fn any_packet() -> impl Strategy<Value = (Role, Packet)> {
    prop_oneof![
        client_packet().prop_map(|p| (Role::Server, p)),
        server_packet().prop_map(|p| (Role::Client, p)),
    ]
}

fn encode_all(packets: &[Packet]) -> BytesMut {
    let mut buf = BytesMut::new();
    for p in packets {
        p.encode(&mut buf).unwrap();
    }
    buf
}

fn decode_all(buf: &mut BytesMut, options: &DecodeOptions, out: &mut Vec<Packet>) {
    while let Some(p) = decode(buf, options).unwrap() {
        out.push(p);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_packet_round_trips((role, packet) in any_packet()) {
        let mut buf = BytesMut::new();
        packet.encode(&mut buf).unwrap();
        prop_assert_eq!(buf.len(), packet.encoded_len());
        let decoded = decode(&mut buf, &DecodeOptions::new(role)).unwrap().unwrap();
        prop_assert_eq!(&decoded, &packet);
        prop_assert!(buf.is_empty());
    }

    #[test]
    fn a_stream_split_anywhere_decodes_to_the_same_packets(
        packets in prop::collection::vec(client_packet(), 1..6),
    ) {
        let wire = encode_all(&packets).freeze();
        let options = DecodeOptions::server();
        // Every position of short streams; for long ones (large payloads) every position around
        // each frame boundary plus 256 evenly spaced ones, to keep the test quadratic-free.
        let mut splits: Vec<usize> = if wire.len() <= 1024 {
            (0..=wire.len()).collect()
        } else {
            (0..=256).map(|i| i * wire.len() / 256).collect()
        };
        let mut boundary = 0usize;
        for p in &packets {
            splits.extend(boundary.saturating_sub(2)..=(boundary + 6).min(wire.len()));
            boundary += p.encoded_len();
        }
        for split in splits {
            let mut buf = BytesMut::from(&wire[..split]);
            let mut got = Vec::new();
            decode_all(&mut buf, &options, &mut got);
            buf.extend_from_slice(&wire[split..]);
            decode_all(&mut buf, &options, &mut got);
            prop_assert!(buf.is_empty());
            prop_assert_eq!(&got, &packets, "split at {}", split);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..600),
        client in any::<bool>(),
    ) {
        let role = if client { Role::Client } else { Role::Server };
        check_stream(&bytes, role)?;
    }

    #[test]
    fn mutated_packets_never_panic(
        (role, packet) in any_packet(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let mut bytes = encode_all(&[packet]).to_vec();
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        check_stream(&bytes, role)?;
    }
}

/// Decodes until the input ends or is refused, checking the decoder's contract on the way.
fn check_stream(bytes: &[u8], role: Role) -> Result<(), TestCaseError> {
    let options = DecodeOptions::new(role).with_max_packet_size(4096);
    let mut buf = BytesMut::from(bytes);
    loop {
        let before = buf.len();
        // The borrowed decoder reads the same bytes first: it must agree with the owned one on
        // every outcome (the packet, its length, or the exact error).
        let input = buf.clone().freeze();
        let borrowed = decode_slice(&input, &options);
        match decode(&mut buf, &options) {
            Ok(Some(packet)) => {
                let consumed = before - buf.len();
                let (packet_ref, len) = borrowed.unwrap().unwrap();
                prop_assert_eq!(len, consumed);
                prop_assert_eq!(&Packet::from(packet_ref), &packet);
                prop_assert!(consumed >= 2);
                // Whatever decodes re-encodes, no longer than it came (3.1.1 allows non-minimal
                // remaining lengths on the way in; the encoder writes minimal ones).
                prop_assert!(packet.encoded_len() <= consumed);
                let mut again = BytesMut::new();
                packet.encode(&mut again).unwrap();
                prop_assert_eq!(decode(&mut again, &options).unwrap(), Some(packet));
            }
            Ok(None) => {
                prop_assert_eq!(borrowed, Ok(None));
                prop_assert_eq!(buf.len(), before);
                return Ok(());
            }
            Err(e) => {
                prop_assert_eq!(borrowed, Err(e.clone()));
                prop_assert!(e.offset() <= before);
                prop_assert!(!e.to_string().is_empty());
                return Ok(());
            }
        }
    }
}

#[test]
fn the_borrowed_decoder_points_into_its_input() {
    let connect = Connect {
        will: Some(Will {
            topic: TopicName::new("w/t").unwrap(),
            payload: Bytes::from_static(b"gone"),
            qos: QoS::AtLeastOnce,
            retain: true,
        }),
        username: Some(MqttString::new("user").unwrap()),
        password: Some(Bytes::from_static(b"secret")),
        ..Connect::new(MqttString::new("client-1").unwrap(), 30)
    };
    let mut wire = BytesMut::new();
    Packet::from(connect).encode(&mut wire).unwrap();
    let (packet, len) = decode_slice(&wire, &DecodeOptions::server())
        .unwrap()
        .unwrap();
    assert_eq!(len, wire.len());
    let mqtt_wire::PacketRef::Connect(c) = packet else {
        panic!("not a CONNECT: {packet:?}");
    };
    let will = c.will.unwrap();
    assert_eq!(
        (c.client_id, will.topic, will.payload, will.qos, will.retain),
        ("client-1", "w/t", &b"gone"[..], QoS::AtLeastOnce, true)
    );
    assert_eq!(
        (c.username, c.password),
        (Some("user"), Some(&b"secret"[..]))
    );
    let range = wire.as_ptr_range();
    for field in [
        c.client_id.as_bytes(),
        will.topic.as_bytes(),
        will.payload,
        c.username.unwrap().as_bytes(),
        c.password.unwrap(),
    ] {
        assert!(range.contains(&field.as_ptr()), "{field:?} is a copy");
    }
}

#[test]
fn decoded_fields_share_the_input_buffer() {
    let publish = Publish::new(
        TopicName::new("a/b").unwrap(),
        QosPid::AtLeastOnce(PacketId::new(1).unwrap()),
        vec![7u8; 100],
    );
    let mut buf = BytesMut::new();
    publish.encode(&mut buf).unwrap();
    let start = buf.as_ptr() as usize;
    let end = start + buf.len();
    let Some(Packet::Publish(p)) = decode(&mut buf, &DecodeOptions::server()).unwrap() else {
        panic!("not a PUBLISH");
    };
    for field in [p.topic.as_bytes().as_ptr(), p.payload.as_ptr()] {
        let at = field as usize;
        assert!(start <= at && at < end, "field points into the input");
    }
}

#[test]
fn known_encodings_match_the_specification() {
    let id = PacketId::new(0x1234).unwrap();
    let cases: Vec<(Packet, &str)> = vec![
        (Packet::PingReq, "c000"),
        (Packet::PingResp, "d000"),
        (Packet::Disconnect, "e000"),
        (Packet::PubAck(id), "40021234"),
        (Packet::PubRec(id), "50021234"),
        (Packet::PubRel(id), "62021234"),
        (Packet::PubComp(id), "70021234"),
        (Packet::UnsubAck(id), "b0021234"),
        (
            Packet::ConnAck(ConnAck::new(true, ConnectReturnCode::Accepted)),
            "20020100",
        ),
        (
            Packet::ConnAck(ConnAck::new(false, ConnectReturnCode::NotAuthorized)),
            "20020005",
        ),
        (
            Packet::Publish(Publish::new(
                TopicName::new("a/b").unwrap(),
                QosPid::AtLeastOnce(id),
                &b"hi"[..],
            )),
            "3209 0003 612f62 1234 6869",
        ),
        (
            Packet::Subscribe(
                Subscribe::new(
                    id,
                    [SubscribeFilter {
                        filter: TopicFilter::new("a/#").unwrap(),
                        qos: QoS::ExactlyOnce,
                    }],
                )
                .unwrap(),
            ),
            "8208 1234 0003 612f23 02",
        ),
        (
            Packet::SubAck(
                SubAck::new(
                    id,
                    [
                        SubAckReturnCode::Success(QoS::AtLeastOnce),
                        SubAckReturnCode::Failure,
                    ],
                )
                .unwrap(),
            ),
            "9004 1234 0180",
        ),
        (
            Packet::Unsubscribe(Unsubscribe::new(id, [TopicFilter::new("a").unwrap()]).unwrap()),
            "a205 1234 0001 61",
        ),
        (
            Packet::from(Connect {
                clean_session: true,
                keep_alive: 60,
                client_id: MqttString::new("c").unwrap(),
                will: Some(Will {
                    topic: TopicName::new("w").unwrap(),
                    payload: Bytes::from_static(b"x"),
                    qos: QoS::AtLeastOnce,
                    retain: true,
                }),
                username: Some(MqttString::new("u").unwrap()),
                password: Some(Bytes::from_static(b"p")),
            }),
            "1019 0004 4d515454 04 ee 003c 0001 63 0001 77 0001 78 0001 75 0001 70",
        ),
    ];
    for (packet, wire) in cases {
        let wire: String = wire.split_whitespace().collect();
        let mut buf = BytesMut::new();
        packet.encode(&mut buf).unwrap();
        let got: String = buf.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(got, wire, "{packet:?}");
        assert_eq!(buf.len(), packet.encoded_len());
    }
}

#[test]
fn remaining_length_boundaries_round_trip() {
    // 127/128, 16383/16384 and 2097151/2097152 change the length field's size.
    for body in [127usize, 128, 16_383, 16_384, 2_097_151, 2_097_152] {
        let payload_len = body - 3; // topic "a" with its prefix takes 3
        let p = Packet::Publish(Publish::new(
            TopicName::new("a").unwrap(),
            QosPid::AtMostOnce,
            vec![0u8; payload_len],
        ));
        let mut buf = BytesMut::new();
        p.encode(&mut buf).unwrap();
        let field = match body {
            0..=127 => 1,
            128..=16_383 => 2,
            16_384..=2_097_151 => 3,
            _ => 4,
        };
        assert_eq!(buf.len(), 1 + field + body);
        let options = DecodeOptions::server().with_max_packet_size(usize::MAX);
        assert_eq!(decode(&mut buf, &options).unwrap(), Some(p));
    }
}

#[test]
fn non_minimal_remaining_lengths_are_accepted() {
    // PINGREQ with remaining length 0 written in two bytes.
    let mut buf = BytesMut::from(&[0xC0, 0x80, 0x00][..]);
    assert_eq!(
        decode(&mut buf, &DecodeOptions::server()).unwrap(),
        Some(Packet::PingReq)
    );
}

#[test]
fn the_encoder_refuses_what_mqtt_forbids_and_writes_nothing() {
    let topic = TopicName::new("t").unwrap();
    let mut dup0 = Publish::new(topic.clone(), QosPid::AtMostOnce, Bytes::new());
    dup0.dup = true;
    let mut connect = Connect::new(MqttString::new("c").unwrap(), 0);
    connect.password = Some(Bytes::from_static(b"secret"));
    let mut big_will = Connect::new(MqttString::new("c").unwrap(), 0);
    big_will.will = Some(Will {
        topic: topic.clone(),
        payload: Bytes::from(vec![0u8; 65_536]),
        qos: QoS::AtMostOnce,
        retain: false,
    });
    let mut big_password = Connect::new(MqttString::new("c").unwrap(), 0);
    big_password.username = Some(MqttString::new("u").unwrap());
    big_password.password = Some(Bytes::from(vec![0u8; 65_536]));
    let huge = Publish::new(
        topic,
        QosPid::AtMostOnce,
        Bytes::from(vec![0u8; mqtt_wire::MAX_REMAINING_LENGTH]),
    );
    let cases: Vec<(Packet, EncodeError)> = vec![
        (Packet::Publish(dup0), EncodeError::DupOnQos0),
        (Packet::from(connect), EncodeError::PasswordWithoutUsername),
        (
            Packet::ConnAck(ConnAck::new(true, ConnectReturnCode::NotAuthorized)),
            EncodeError::SessionPresentOnRefusal,
        ),
        (
            Packet::from(big_will),
            EncodeError::FieldTooLong {
                field: "will message",
                len: 65_536,
            },
        ),
        (
            Packet::from(big_password),
            EncodeError::FieldTooLong {
                field: "password",
                len: 65_536,
            },
        ),
        (
            Packet::Publish(huge),
            EncodeError::PacketTooLarge {
                remaining_length: mqtt_wire::MAX_REMAINING_LENGTH + 3,
            },
        ),
    ];
    for (packet, expected) in cases {
        let mut buf = BytesMut::new();
        assert_eq!(packet.encode(&mut buf), Err(expected));
        assert!(buf.is_empty(), "nothing written");
    }
    assert_eq!(
        Subscribe::new(PacketId::new(1).unwrap(), []),
        Err(EncodeError::EmptyList {
            packet_type: PacketType::Subscribe
        })
    );
    assert_eq!(
        Unsubscribe::new(PacketId::new(1).unwrap(), []),
        Err(EncodeError::EmptyList {
            packet_type: PacketType::Unsubscribe
        })
    );
    assert_eq!(
        SubAck::new(PacketId::new(1).unwrap(), []),
        Err(EncodeError::EmptyList {
            packet_type: PacketType::SubAck
        })
    );
    // Values that cannot be built at all.
    assert!(TopicName::new("a/+").is_err());
    assert!(MqttString::new("nul\0").is_err());
    assert!(PacketId::new(0).is_none());
}

#[test]
fn decoded_lists_read_back_in_order() {
    let mut buf = BytesMut::from(
        &[
            0x82, 0x0e, 0x00, 0x0a, 0x00, 0x03, b'a', b'/', b'#', 0x01, 0x00, 0x03, b'+', b'/',
            b'b', 0x02,
        ][..],
    );
    let Some(Packet::Subscribe(s)) = decode(&mut buf, &DecodeOptions::server()).unwrap() else {
        panic!("not a SUBSCRIBE");
    };
    assert_eq!(s.packet_id.get(), 10);
    let got: Vec<(String, QoS)> = s
        .filters()
        .map(|f| (f.filter.as_str().to_string(), f.qos))
        .collect();
    assert_eq!(
        got,
        [
            ("a/#".to_string(), QoS::AtLeastOnce),
            ("+/b".to_string(), QoS::ExactlyOnce)
        ]
    );
    assert_eq!(
        format!("{s:?}"),
        "Subscribe { packet_id: PacketId(10), filters: [SubscribeFilter { filter: \"a/#\", \
         qos: AtLeastOnce }, SubscribeFilter { filter: \"+/b\", qos: ExactlyOnce }] }"
    );
    // The zero-length client id with clean session 0 is a session rule ([MQTT-3.1.3-8]): the
    // codec decodes it and leaves the CONNACK 0x02 to the server.
    let mut buf = BytesMut::from(&[0x10, 0x0c, 0, 4, b'M', b'Q', b'T', b'T', 4, 0, 0, 0, 0, 0][..]);
    let Some(Packet::Connect(c)) = decode(&mut buf, &DecodeOptions::server()).unwrap() else {
        panic!("not a CONNECT");
    };
    assert!(c.client_id.is_empty() && !c.clean_session);
}

/// A CONNECT is boxed inside `Packet`: one per connection, it would otherwise make every
/// queued packet as large as itself (176 bytes before).
#[test]
fn a_packet_is_as_small_as_a_publish() {
    let packet = std::mem::size_of::<Packet>();
    let publish = std::mem::size_of::<Publish>();
    assert!(
        packet <= publish + 8,
        "Packet {packet} B, Publish {publish} B"
    );
    assert!(
        std::mem::size_of::<Connect>() > packet,
        "boxing gains nothing"
    );
}

#[cfg(feature = "serde")]
proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// With the `serde` feature every packet is written (JSON here) and read back equal.
    #[test]
    fn every_packet_round_trips_through_serde((_, packet) in any_packet()) {
        let json = serde_json::to_string(&packet).unwrap();
        let back: Packet = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(back, packet);
    }
}

/// What serde reads is validated as the constructors validate.
#[cfg(feature = "serde")]
#[test]
fn serde_refuses_what_the_constructors_refuse() {
    let publish = Packet::Publish(Publish::new(
        TopicName::new("a/b").unwrap(),
        QosPid::AtLeastOnce(PacketId::new(7).unwrap()),
        Bytes::from_static(b"hi"),
    ));
    let json = serde_json::to_value(&publish).unwrap();
    assert_eq!(json["Publish"]["topic"], "a/b");
    assert_eq!(json["Publish"]["qos_pid"]["AtLeastOnce"], 7);
    let mut wildcard = json.clone();
    wildcard["Publish"]["topic"] = "a/+".into();
    let err = serde_json::from_value::<Packet>(wildcard).unwrap_err();
    assert!(err.to_string().contains("wildcard"), "{err}");
    let mut zero = json;
    zero["Publish"]["qos_pid"]["AtLeastOnce"] = 0.into();
    let err = serde_json::from_value::<Packet>(zero).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("a packet identifier is never 0"),
        "{err}"
    );
    let empty = serde_json::json!({"Subscribe": {"packetId": 1, "filters": []}});
    assert!(serde_json::from_value::<Packet>(empty).is_err());
    let subscribe = serde_json::json!({"Subscribe": {"packetId": 1, "filters": [{"filter": "a/#", "qos": "AtLeastOnce"}]}});
    let Packet::Subscribe(s) = serde_json::from_value::<Packet>(subscribe).unwrap() else {
        panic!("not a SUBSCRIBE");
    };
    assert_eq!(s.filters().next().unwrap().filter.as_str(), "a/#");
}
