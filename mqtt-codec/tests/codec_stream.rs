//! The `tokio-util` codec: packets through `Encoder`, bytes back through `Decoder`, and a
//! malformed stream surfaces as a typed `CodecError::Decode`.
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
    CodecError, DecodeErrorKind, DecodeOptions, EncodeError, MqttCodec, Packet, PacketId, Publish,
    QosPid, TopicName,
};
use tokio_util::codec::{Decoder, Encoder};

#[test]
fn packets_cross_the_codec_in_order_whatever_the_chunking() {
    let mut codec = MqttCodec::new(DecodeOptions::server());
    let packets = vec![
        Packet::Publish(Publish::new(
            TopicName::new("sigfox").unwrap(),
            QosPid::AtLeastOnce(PacketId::new(3).unwrap()),
            &b"{\"device\":\"B92A4\"}"[..],
        )),
        Packet::PubAck(PacketId::new(9).unwrap()),
        Packet::PingReq,
        Packet::Disconnect,
    ];
    let mut wire = BytesMut::new();
    for p in &packets {
        codec.encode(p.clone(), &mut wire).unwrap();
    }
    // Feed the stream in 3-byte chunks, as a socket might.
    let mut inbox = BytesMut::new();
    let mut got = Vec::new();
    for chunk in wire.chunks(3) {
        inbox.extend_from_slice(chunk);
        while let Some(p) = codec.decode(&mut inbox).unwrap() {
            got.push(p);
        }
    }
    assert_eq!(got, packets);
    assert_eq!(codec.decode_eof(&mut inbox).unwrap(), None);
}

#[test]
fn a_malformed_stream_is_a_typed_error() {
    let mut codec = MqttCodec::new(DecodeOptions::server());
    let mut inbox = BytesMut::from(&[0x36u8, 0x00][..]);
    match codec.decode(&mut inbox) {
        Err(CodecError::Decode(e)) => assert_eq!(e.kind(), &DecodeErrorKind::InvalidQos),
        other => panic!("expected a decode error, got {other:?}"),
    }
    let mut dup0 = Publish::new(TopicName::new("t").unwrap(), QosPid::AtMostOnce, &b""[..]);
    dup0.dup = true;
    let mut out = BytesMut::new();
    match codec.encode(dup0, &mut out) {
        Err(CodecError::Encode(e)) => assert_eq!(e, EncodeError::DupOnQos0),
        other => panic!("expected an encode error, got {other:?}"),
    }
    assert!(out.is_empty());
}

#[test]
fn a_stream_that_ends_inside_a_frame_is_an_io_error_at_eof() {
    let mut codec = MqttCodec::new(DecodeOptions::server());
    let mut inbox = BytesMut::from(&[0x30u8, 0x05, 0x00][..]);
    assert_eq!(codec.decode(&mut inbox).unwrap(), None);
    match codec.decode_eof(&mut inbox) {
        Err(CodecError::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::Other),
        other => panic!("expected an I/O error, got {other:?}"),
    }
}
