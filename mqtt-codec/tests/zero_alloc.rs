//! Decoding performs no heap allocation but the CONNECT's box (one per connection, so that
//! every other packet stays small): a counting global allocator watches every decode of every
//! packet type, and the reads of SUBSCRIBE, UNSUBSCRIBE and SUBACK lists.
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
    ConnAck, Connect, ConnectReturnCode, DecodeOptions, Encode, MqttString, Packet, PacketId,
    PacketRef, Publish, QoS, QosPid, SubAck, SubAckReturnCode, Subscribe, SubscribeFilter,
    TopicFilter, TopicName, Unsubscribe, Will, decode, decode_slice,
};

use test_support::{CountingAllocator, allocations_during};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

fn id(v: u16) -> PacketId {
    PacketId::new(v).unwrap()
}

fn filters() -> Vec<SubscribeFilter> {
    (0..10)
        .map(|i| SubscribeFilter {
            filter: TopicFilter::new(&format!("fleet/{i}/+/telemetry/#")).unwrap(),
            qos: QoS::AtLeastOnce,
        })
        .collect()
}

fn client_packets() -> Vec<Packet> {
    vec![
        Packet::from(Connect {
            clean_session: false,
            keep_alive: 30,
            client_id: MqttString::new("G030JF0000000001").unwrap(),
            will: Some(Will {
                topic: TopicName::new("status/G030JF0000000001").unwrap(),
                payload: Bytes::from_static(b"offline"),
                qos: QoS::AtLeastOnce,
                retain: true,
            }),
            username: Some(MqttString::new("button").unwrap()),
            password: Some(Bytes::from_static(b"secret")),
        }),
        Packet::Publish(Publish::new(
            TopicName::new("iotbutton/G030JF0000000001").unwrap(),
            QosPid::AtMostOnce,
            vec![1u8; 64],
        )),
        Packet::Publish(Publish::new(
            TopicName::new("greenhouse/lux").unwrap(),
            QosPid::ExactlyOnce(id(9)),
            vec![2u8; 1024],
        )),
        Packet::PubAck(id(1)),
        Packet::PubRec(id(2)),
        Packet::PubRel(id(3)),
        Packet::PubComp(id(4)),
        Packet::Subscribe(Subscribe::new(id(5), filters()).unwrap()),
        Packet::Unsubscribe(
            Unsubscribe::new(id(6), filters().into_iter().map(|f| f.filter)).unwrap(),
        ),
        Packet::PingReq,
        Packet::Disconnect,
    ]
}

fn server_packets() -> Vec<Packet> {
    vec![
        Packet::ConnAck(ConnAck::new(true, ConnectReturnCode::Accepted)),
        Packet::Publish(Publish::new(
            TopicName::new("a/b").unwrap(),
            QosPid::AtLeastOnce(id(7)),
            vec![3u8; 200],
        )),
        Packet::PubAck(id(1)),
        Packet::PubRec(id(2)),
        Packet::PubRel(id(3)),
        Packet::PubComp(id(4)),
        Packet::SubAck(
            SubAck::new(
                id(5),
                [
                    SubAckReturnCode::Success(QoS::ExactlyOnce),
                    SubAckReturnCode::Failure,
                ],
            )
            .unwrap(),
        ),
        Packet::UnsubAck(id(6)),
        Packet::PingResp,
    ]
}

fn check_zero_allocations(packets: Vec<Packet>, options: DecodeOptions) {
    let mut buf = BytesMut::with_capacity(64 * 1024);
    // A sentinel frame first: the `bytes` crate allocates one small shared header the first time
    // a freshly allocated buffer is split. That is once per buffer, not per packet; the test pins
    // it down to at most one allocation and keeps it out of the per-packet count.
    Packet::PingReq.encode(&mut buf).unwrap();
    if options.role == mqtt_wire::Role::Client {
        buf.clear();
        Packet::PingResp.encode(&mut buf).unwrap();
    }
    for p in &packets {
        p.encode(&mut buf).unwrap();
    }
    let (first, sentinel) = allocations_during(|| decode(&mut buf, &options));
    assert!(
        first <= 1,
        "first split of a fresh buffer: {first} allocations"
    );
    assert!(matches!(
        sentinel,
        Ok(Some(Packet::PingReq | Packet::PingResp))
    ));

    for expected in packets {
        let (count, decoded) = allocations_during(|| decode(&mut buf, &options));
        let decoded = decoded.unwrap().unwrap();
        // The CONNECT's fields are views of the frame like every other packet's; only the
        // box that holds them is allocated.
        let boxes = usize::from(matches!(decoded, Packet::Connect(_)));
        assert_eq!(count, boxes, "decoding {:?}", decoded.packet_type());
        let (count, entries) = allocations_during(|| match &decoded {
            Packet::Subscribe(s) => s.filters().map(|f| f.filter.len()).sum::<usize>(),
            Packet::Unsubscribe(u) => u.filters().map(|f| f.len()).sum(),
            Packet::SubAck(s) => s.return_codes().count(),
            _ => 0,
        });
        assert_eq!(count, 0, "reading the lists of {:?}", decoded.packet_type());
        if matches!(decoded, Packet::Subscribe(_) | Packet::Unsubscribe(_)) {
            assert!(entries > 0);
        }
        assert_eq!(decoded, expected);
    }
    assert!(buf.is_empty());
}

#[test]
fn a_server_decodes_every_client_packet_without_allocating() {
    check_zero_allocations(client_packets(), DecodeOptions::server());
}

#[test]
fn a_client_decodes_every_server_packet_without_allocating() {
    check_zero_allocations(server_packets(), DecodeOptions::client());
}

/// The borrowed decoder allocates nothing at all, CONNECT included, and reads back the same
/// packets as the owned one.
fn check_borrowed_zero_allocations(packets: Vec<Packet>, options: DecodeOptions) {
    let mut wire = BytesMut::new();
    for p in &packets {
        p.encode(&mut wire).unwrap();
    }
    let mut rest = &wire[..];
    for expected in packets {
        let (count, decoded) = allocations_during(|| decode_slice(rest, &options));
        let (decoded, len) = decoded.unwrap().unwrap();
        assert_eq!(count, 0, "decoding {:?}", decoded.packet_type());
        let (count, entries) = allocations_during(|| match &decoded {
            PacketRef::Subscribe(s) => s.filters().map(|f| f.filter.len()).sum::<usize>(),
            PacketRef::Unsubscribe(u) => u.filters().map(str::len).sum(),
            PacketRef::SubAck(s) => s.return_codes().count(),
            _ => 0,
        });
        assert_eq!(count, 0, "reading the lists of {:?}", decoded.packet_type());
        if matches!(decoded, PacketRef::Subscribe(_) | PacketRef::Unsubscribe(_)) {
            assert!(entries > 0);
        }
        assert_eq!(Packet::from(decoded), expected);
        rest = &rest[len..];
    }
    assert!(rest.is_empty());
}

#[test]
fn the_borrowed_decoder_allocates_nothing_in_either_role() {
    check_borrowed_zero_allocations(client_packets(), DecodeOptions::server());
    check_borrowed_zero_allocations(server_packets(), DecodeOptions::client());
}

#[test]
fn the_counter_sees_allocations() {
    // Guard against a test that cannot fail: the allocator is really installed.
    let (count, v) = allocations_during(|| vec![0u8; 10]);
    assert_eq!(v.len(), 10);
    assert_eq!(count, 1);
}
