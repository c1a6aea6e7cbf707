//! Arbitrary bytes as one client connection to an in-process broker (plain listener, everything
//! allowed, state kept between inputs). Invariants: the connection ends once its input has; the
//! broker writes only whole, well-formed server packets; the first is a CONNACK, and only a
//! CONNECT (or a CONNECT of another protocol level) gets one; nothing follows a refusal; every
//! PUBACK, PUBREC, PUBCOMP, SUBACK and UNSUBACK answers a packet the client sent with that
//! identifier, and a SUBACK has one code per filter asked for.

use std::collections::HashMap;
use std::sync::OnceLock;

use bytes::BytesMut;
use mqtt_wire::{
    ConnectReturnCode, DecodeErrorKind, DecodeOptions, Packet, PacketType, QosPid, decode,
};
use reference_broker::fuzzing::Harness;

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| Harness::new().expect("an in-process broker starts"))
}

/// What the client's bytes ask for, read as the broker reads them (up to the first malformed
/// frame): the answers the broker may send, by packet type and identifier.
#[derive(Default)]
struct Asked {
    /// The first frame is a CONNECT, or a CONNECT the broker answers with 0x01.
    connect: bool,
    /// Packet identifiers the broker may acknowledge, with the type of the acknowledgement and,
    /// for a SUBACK, how many codes it carries.
    answers: HashMap<(PacketType, u16), Vec<usize>>,
}

fn asked(data: &[u8]) -> Asked {
    let mut asked = Asked::default();
    let mut buf = BytesMut::from(data);
    let options = DecodeOptions::server();
    let mut first = true;
    loop {
        let packet = match decode(&mut buf, &options) {
            Ok(Some(packet)) => packet,
            Ok(None) => break,
            Err(e) => {
                if first && matches!(e.kind(), DecodeErrorKind::UnsupportedProtocolLevel { .. }) {
                    asked.connect = true;
                }
                break;
            }
        };
        if std::mem::take(&mut first) {
            asked.connect = matches!(packet, Packet::Connect(_));
        }
        let mut answer = |t: PacketType, id: u16, codes: usize| {
            asked.answers.entry((t, id)).or_default().push(codes);
        };
        match &packet {
            Packet::Publish(p) => match p.qos_pid {
                QosPid::AtMostOnce => {}
                QosPid::AtLeastOnce(id) => answer(PacketType::PubAck, id.get(), 0),
                QosPid::ExactlyOnce(id) => answer(PacketType::PubRec, id.get(), 0),
            },
            Packet::PubRel(id) => answer(PacketType::PubComp, id.get(), 0),
            Packet::Subscribe(s) => {
                answer(PacketType::SubAck, s.packet_id.get(), s.filters().count())
            }
            Packet::Unsubscribe(u) => answer(PacketType::UnsubAck, u.packet_id.get(), 0),
            _ => {}
        }
    }
    asked
}

/// One fuzz input: panics on a broken invariant.
pub fn run(data: &[u8]) {
    let out = harness()
        .connection(data)
        .expect("the connection ends once its input has");
    let asked = asked(data);
    let mut buf = BytesMut::from(&out[..]);
    let options = DecodeOptions::client();
    let mut packets = Vec::new();
    while let Some(packet) = decode(&mut buf, &options).expect("the broker writes valid packets") {
        packets.push(packet);
    }
    assert!(buf.is_empty(), "the broker wrote a partial packet: {buf:?}");
    let Some((first, rest)) = packets.split_first() else {
        return;
    };
    assert!(
        asked.connect,
        "answered {first:?} to a connection that did not CONNECT"
    );
    let Packet::ConnAck(connack) = first else {
        panic!("first packet {first:?} is not a CONNACK");
    };
    if connack.code != ConnectReturnCode::Accepted {
        assert!(
            rest.is_empty(),
            "{rest:?} after refusing with {:?}",
            connack.code
        );
    }
    for packet in rest {
        let (t, id, codes) = match packet {
            Packet::ConnAck(_) => panic!("a second CONNACK"),
            Packet::PubAck(id) => (PacketType::PubAck, id.get(), 0),
            Packet::PubRec(id) => (PacketType::PubRec, id.get(), 0),
            Packet::PubComp(id) => (PacketType::PubComp, id.get(), 0),
            Packet::SubAck(s) => (
                PacketType::SubAck,
                s.packet_id.get(),
                s.return_codes().count(),
            ),
            Packet::UnsubAck(id) => (PacketType::UnsubAck, id.get(), 0),
            // Deliveries, their releases and PINGRESP answer nothing by identifier.
            _ => continue,
        };
        let expected = asked
            .answers
            .get(&(t, id))
            .unwrap_or_else(|| panic!("{packet:?} answers nothing the client sent"));
        assert!(
            expected.contains(&codes),
            "{packet:?}: {codes} codes, the client asked for {expected:?}"
        );
    }
}
