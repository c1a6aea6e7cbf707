//! Structured arbitrary packets: every packet the types can build either encodes to exactly
//! `encoded_len()` bytes that decode back to an equal packet (also when fed one byte at a time),
//! or is refused by the encoder without writing anything.

use arbitrary::Arbitrary;
use bytes::{Bytes, BytesMut};
use mqtt_wire::{
    ConnAck, Connect, ConnectReturnCode, DecodeOptions, Encode, MqttString, Packet, PacketId,
    Publish, QoS, QosPid, Role, SubAck, SubAckReturnCode, Subscribe, SubscribeFilter, TopicFilter,
    TopicName, Unsubscribe, Will, decode,
};

/// One packet's fields, before the constructors check them.
#[derive(Debug, Arbitrary)]
pub enum Input {
    Connect {
        clean_session: bool,
        keep_alive: u16,
        client_id: String,
        will: Option<(String, Vec<u8>, u8, bool)>,
        username: Option<String>,
        password: Option<Vec<u8>>,
    },
    ConnAck(bool, u8),
    Publish {
        dup: bool,
        qos: u8,
        pid: u16,
        retain: bool,
        topic: String,
        payload: Vec<u8>,
    },
    PubAck(u16),
    PubRec(u16),
    PubRel(u16),
    PubComp(u16),
    Subscribe(u16, Vec<(String, u8)>),
    SubAck(u16, Vec<u8>),
    Unsubscribe(u16, Vec<String>),
    UnsubAck(u16),
    PingReq,
    PingResp,
    Disconnect,
}

fn qos(v: u8) -> QoS {
    QoS::from_u8(v % 3).unwrap()
}

fn build(input: Input) -> Option<Packet> {
    Some(match input {
        Input::Connect {
            clean_session,
            keep_alive,
            client_id,
            will,
            username,
            password,
        } => {
            let will = match will {
                Some((topic, payload, q, retain)) => Some(Will {
                    topic: TopicName::new(&topic).ok()?,
                    payload: Bytes::from(payload),
                    qos: qos(q),
                    retain,
                }),
                None => None,
            };
            let username = match username {
                Some(u) => Some(MqttString::new(&u).ok()?),
                None => None,
            };
            Packet::from(Connect {
                clean_session,
                keep_alive,
                client_id: MqttString::new(&client_id).ok()?,
                will,
                username,
                password: password.map(Bytes::from),
            })
        }
        Input::ConnAck(session_present, code) => Packet::ConnAck(ConnAck::new(
            session_present,
            ConnectReturnCode::from_u8(code % 6).unwrap(),
        )),
        Input::Publish {
            dup,
            qos: q,
            pid,
            retain,
            topic,
            payload,
        } => {
            let qos_pid = match q % 3 {
                0 => QosPid::AtMostOnce,
                1 => QosPid::AtLeastOnce(PacketId::new(pid)?),
                _ => QosPid::ExactlyOnce(PacketId::new(pid)?),
            };
            let mut p = Publish::new(TopicName::new(&topic).ok()?, qos_pid, payload);
            p.dup = dup;
            p.retain = retain;
            Packet::Publish(p)
        }
        Input::PubAck(id) => Packet::PubAck(PacketId::new(id)?),
        Input::PubRec(id) => Packet::PubRec(PacketId::new(id)?),
        Input::PubRel(id) => Packet::PubRel(PacketId::new(id)?),
        Input::PubComp(id) => Packet::PubComp(PacketId::new(id)?),
        Input::UnsubAck(id) => Packet::UnsubAck(PacketId::new(id)?),
        Input::Subscribe(id, filters) => {
            let mut list = Vec::new();
            for (f, q) in filters {
                list.push(SubscribeFilter {
                    filter: TopicFilter::new(&f).ok()?,
                    qos: qos(q),
                });
            }
            Packet::Subscribe(Subscribe::new(PacketId::new(id)?, list).ok()?)
        }
        Input::SubAck(id, codes) => {
            let codes = codes.into_iter().map(|c| {
                if c % 4 == 3 {
                    SubAckReturnCode::Failure
                } else {
                    SubAckReturnCode::Success(qos(c % 4))
                }
            });
            Packet::SubAck(SubAck::new(PacketId::new(id)?, codes).ok()?)
        }
        Input::Unsubscribe(id, filters) => {
            let mut list = Vec::new();
            for f in filters {
                list.push(TopicFilter::new(&f).ok()?);
            }
            Packet::Unsubscribe(Unsubscribe::new(PacketId::new(id)?, list).ok()?)
        }
        Input::PingReq => Packet::PingReq,
        Input::PingResp => Packet::PingResp,
        Input::Disconnect => Packet::Disconnect,
    })
}

/// One fuzz input: panics on a broken invariant.
pub fn run(input: Input) {
    let Some(packet) = build(input) else { return };
    let mut buf = BytesMut::new();
    if packet.encode(&mut buf).is_err() {
        assert!(buf.is_empty(), "a refused packet writes nothing");
        return;
    }
    assert_eq!(buf.len(), packet.encoded_len());
    let wire = buf.clone().freeze();
    let role = if packet.packet_type().sent_by_client() {
        Role::Server
    } else {
        Role::Client
    };
    let options = DecodeOptions::new(role).with_max_packet_size(usize::MAX);
    let decoded = decode(&mut buf, &options).unwrap().unwrap();
    assert_eq!(decoded, packet);
    assert!(buf.is_empty());

    // Byte by byte: nothing until the last byte, then the same packet.
    let mut stream = BytesMut::new();
    for (i, byte) in wire.iter().enumerate() {
        stream.extend_from_slice(&[*byte]);
        let got = decode(&mut stream, &options).unwrap();
        if i + 1 < wire.len() {
            assert!(got.is_none());
        } else {
            assert_eq!(got, Some(packet.clone()));
        }
    }
}
