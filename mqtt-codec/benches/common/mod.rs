//! What both benchmarks of this crate share: the cases, each library's form of them, the checks
//! that every library decodes and encodes them right, and the loops that are measured.

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use mqtt_wire::{
    Connect, DecodeOptions, Encode, MqttString, Packet, PacketId, Publish, QoS, QosPid, Subscribe,
    SubscribeFilter, TopicFilter, TopicName, Unsubscribe, Will, decode, decode_slice,
};
use rumqttc::mqttbytes as rq_bytes;
use rumqttc::mqttbytes::v4 as rq;

/// Copies of a single packet decoded or encoded per iteration.
pub(crate) const REPEAT: usize = 1000;
/// Packets in the mixed stream.
pub(crate) const MIXED_LEN: usize = 10_000;
/// The size limit given to the decoders that take one (our default).
pub(crate) const MAX_PACKET_SIZE: usize = DecodeOptions::DEFAULT_MAX_PACKET_SIZE;

// ---------------------------------------------------------------------------------------------
// A library-neutral description of each packet: built once, converted to each library's type for
// encoding, and used as the reference each library's decoded packets are compared with.

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Spec {
    Connect(ConnectSpec),
    Publish {
        topic: String,
        qos: u8,
        /// 0 at QoS 0.
        pid: u16,
        payload: Bytes,
    },
    PubAck(u16),
    Subscribe {
        pid: u16,
        filters: Vec<(String, u8)>,
    },
    Unsubscribe {
        pid: u16,
        filters: Vec<String>,
    },
    PingReq,
    Disconnect,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConnectSpec {
    client_id: String,
    keep_alive: u16,
    clean_session: bool,
    will: Option<WillSpec>,
    username: Option<String>,
    password: Option<Bytes>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WillSpec {
    topic: String,
    message: Bytes,
    qos: u8,
    retain: bool,
}

// --- to each library ---

pub(crate) fn ours_qos(qos: u8) -> QoS {
    QoS::from_u8(qos).unwrap()
}

pub(crate) fn ours_pid(pid: u16) -> PacketId {
    PacketId::new(pid).unwrap()
}

pub(crate) fn to_ours(spec: &Spec) -> Packet {
    match spec {
        Spec::Connect(c) => {
            let mut connect = Connect::new(MqttString::new(&c.client_id).unwrap(), c.keep_alive);
            connect.clean_session = c.clean_session;
            connect.will = c.will.as_ref().map(|w| Will {
                topic: TopicName::new(&w.topic).unwrap(),
                payload: w.message.clone(),
                qos: ours_qos(w.qos),
                retain: w.retain,
            });
            connect.username = c.username.as_deref().map(|u| MqttString::new(u).unwrap());
            connect.password = c.password.clone();
            Packet::from(connect)
        }
        Spec::Publish {
            topic,
            qos,
            pid,
            payload,
        } => {
            let qos_pid = match qos {
                0 => QosPid::AtMostOnce,
                1 => QosPid::AtLeastOnce(ours_pid(*pid)),
                _ => QosPid::ExactlyOnce(ours_pid(*pid)),
            };
            Packet::Publish(Publish::new(
                TopicName::new(topic).unwrap(),
                qos_pid,
                payload.clone(),
            ))
        }
        Spec::PubAck(pid) => Packet::PubAck(ours_pid(*pid)),
        Spec::Subscribe { pid, filters } => Packet::Subscribe(
            Subscribe::new(
                ours_pid(*pid),
                filters.iter().map(|(f, q)| SubscribeFilter {
                    filter: TopicFilter::new(f).unwrap(),
                    qos: ours_qos(*q),
                }),
            )
            .unwrap(),
        ),
        Spec::Unsubscribe { pid, filters } => Packet::Unsubscribe(
            Unsubscribe::new(
                ours_pid(*pid),
                filters.iter().map(|f| TopicFilter::new(f).unwrap()),
            )
            .unwrap(),
        ),
        Spec::PingReq => Packet::PingReq,
        Spec::Disconnect => Packet::Disconnect,
    }
}

pub(crate) fn rq_qos(qos: u8) -> rq_bytes::QoS {
    rq_bytes::qos(qos).unwrap()
}

pub(crate) fn to_rumqttc(spec: &Spec) -> rq::Packet {
    match spec {
        Spec::Connect(c) => rq::Packet::Connect(rq::Connect {
            protocol: rq_bytes::Protocol::V4,
            keep_alive: c.keep_alive,
            client_id: c.client_id.clone(),
            clean_session: c.clean_session,
            last_will: c.will.as_ref().map(|w| rq::LastWill {
                topic: w.topic.clone(),
                message: w.message.clone(),
                qos: rq_qos(w.qos),
                retain: w.retain,
            }),
            // rumqttc keeps the password as a `String`; ours is ASCII.
            login: c.username.as_ref().map(|u| {
                let password = c.password.as_deref().unwrap_or_default();
                rq::Login::new(u.clone(), std::str::from_utf8(password).unwrap())
            }),
        }),
        Spec::Publish {
            topic,
            qos,
            pid,
            payload,
        } => {
            let mut publish = rq::Publish::from_bytes(topic.clone(), rq_qos(*qos), payload.clone());
            publish.pkid = *pid;
            rq::Packet::Publish(publish)
        }
        Spec::PubAck(pid) => rq::Packet::PubAck(rq::PubAck::new(*pid)),
        Spec::Subscribe { pid, filters } => {
            let mut subscribe = rq::Subscribe::new_many(
                filters
                    .iter()
                    .map(|(f, q)| rq::SubscribeFilter::new(f.clone(), rq_qos(*q))),
            );
            subscribe.pkid = *pid;
            rq::Packet::Subscribe(subscribe)
        }
        Spec::Unsubscribe { pid, filters } => rq::Packet::Unsubscribe(rq::Unsubscribe {
            pkid: *pid,
            topics: filters.clone(),
        }),
        Spec::PingReq => rq::Packet::PingReq,
        Spec::Disconnect => rq::Packet::Disconnect,
    }
}

pub(crate) fn mqttrs_qos(qos: u8) -> mqttrs::QoS {
    match qos {
        0 => mqttrs::QoS::AtMostOnce,
        1 => mqttrs::QoS::AtLeastOnce,
        _ => mqttrs::QoS::ExactlyOnce,
    }
}

pub(crate) fn mqttrs_pid(pid: u16) -> mqttrs::Pid {
    mqttrs::Pid::try_from(pid).unwrap()
}

pub(crate) fn to_mqttrs(spec: &Spec) -> mqttrs::Packet<'_> {
    match spec {
        Spec::Connect(c) => mqttrs::Packet::Connect(mqttrs::Connect {
            protocol: mqttrs::Protocol::MQTT311,
            keep_alive: c.keep_alive,
            client_id: &c.client_id,
            clean_session: c.clean_session,
            last_will: c.will.as_ref().map(|w| mqttrs::LastWill {
                topic: &w.topic,
                message: &w.message,
                qos: mqttrs_qos(w.qos),
                retain: w.retain,
            }),
            username: c.username.as_deref(),
            password: c.password.as_deref(),
        }),
        Spec::Publish {
            topic,
            qos,
            pid,
            payload,
        } => mqttrs::Packet::Publish(mqttrs::Publish {
            dup: false,
            qospid: match qos {
                0 => mqttrs::QosPid::AtMostOnce,
                1 => mqttrs::QosPid::AtLeastOnce(mqttrs_pid(*pid)),
                _ => mqttrs::QosPid::ExactlyOnce(mqttrs_pid(*pid)),
            },
            retain: false,
            topic_name: topic,
            payload,
        }),
        Spec::PubAck(pid) => mqttrs::Packet::Puback(mqttrs_pid(*pid)),
        Spec::Subscribe { pid, filters } => mqttrs::Packet::Subscribe(mqttrs::Subscribe::new(
            mqttrs_pid(*pid),
            filters
                .iter()
                .map(|(f, q)| mqttrs::SubscribeTopic {
                    topic_path: f.clone(),
                    qos: mqttrs_qos(*q),
                })
                .collect(),
        )),
        Spec::Unsubscribe { pid, filters } => {
            mqttrs::Packet::Unsubscribe(mqttrs::Unsubscribe::new(mqttrs_pid(*pid), filters.clone()))
        }
        Spec::PingReq => mqttrs::Packet::Pingreq,
        Spec::Disconnect => mqttrs::Packet::Disconnect,
    }
}

// --- back from each library (setup-time checks only) ---

pub(crate) fn from_ours(packet: &Packet) -> Spec {
    match packet {
        Packet::Connect(c) => Spec::Connect(ConnectSpec {
            client_id: c.client_id.as_str().to_owned(),
            keep_alive: c.keep_alive,
            clean_session: c.clean_session,
            will: c.will.as_ref().map(|w| WillSpec {
                topic: w.topic.as_str().to_owned(),
                message: w.payload.clone(),
                qos: w.qos as u8,
                retain: w.retain,
            }),
            username: c.username.as_ref().map(|u| u.as_str().to_owned()),
            password: c.password.clone(),
        }),
        Packet::Publish(p) => {
            assert!(!p.dup && !p.retain);
            Spec::Publish {
                topic: p.topic.as_str().to_owned(),
                qos: p.qos_pid.qos() as u8,
                pid: p.qos_pid.packet_id().map_or(0, PacketId::get),
                payload: p.payload.clone(),
            }
        }
        Packet::PubAck(id) => Spec::PubAck(id.get()),
        Packet::Subscribe(s) => Spec::Subscribe {
            pid: s.packet_id.get(),
            filters: s
                .filters()
                .map(|f| (f.filter.as_str().to_owned(), f.qos as u8))
                .collect(),
        },
        Packet::Unsubscribe(u) => Spec::Unsubscribe {
            pid: u.packet_id.get(),
            filters: u.filters().map(|f| f.as_str().to_owned()).collect(),
        },
        Packet::PingReq => Spec::PingReq,
        Packet::Disconnect => Spec::Disconnect,
        other => panic!("a server does not receive {other:?}"),
    }
}

pub(crate) fn from_rumqttc(packet: &rq::Packet) -> Spec {
    match packet {
        rq::Packet::Connect(c) => {
            assert_eq!(c.protocol, rq_bytes::Protocol::V4);
            Spec::Connect(ConnectSpec {
                client_id: c.client_id.clone(),
                keep_alive: c.keep_alive,
                clean_session: c.clean_session,
                will: c.last_will.as_ref().map(|w| WillSpec {
                    topic: w.topic.clone(),
                    message: w.message.clone(),
                    qos: w.qos as u8,
                    retain: w.retain,
                }),
                username: c.login.as_ref().map(|l| l.username.clone()),
                password: c
                    .login
                    .as_ref()
                    .map(|l| Bytes::copy_from_slice(l.password.as_bytes())),
            })
        }
        rq::Packet::Publish(p) => {
            assert!(!p.dup && !p.retain);
            Spec::Publish {
                topic: p.topic.clone(),
                qos: p.qos as u8,
                pid: p.pkid,
                payload: p.payload.clone(),
            }
        }
        rq::Packet::PubAck(a) => Spec::PubAck(a.pkid),
        rq::Packet::Subscribe(s) => Spec::Subscribe {
            pid: s.pkid,
            filters: s
                .filters
                .iter()
                .map(|f| (f.path.clone(), f.qos as u8))
                .collect(),
        },
        rq::Packet::Unsubscribe(u) => Spec::Unsubscribe {
            pid: u.pkid,
            filters: u.topics.clone(),
        },
        rq::Packet::PingReq => Spec::PingReq,
        rq::Packet::Disconnect => Spec::Disconnect,
        other => panic!("a server does not receive {other:?}"),
    }
}

pub(crate) fn mqttrs_qos_u8(qos: mqttrs::QoS) -> u8 {
    match qos {
        mqttrs::QoS::AtMostOnce => 0,
        mqttrs::QoS::AtLeastOnce => 1,
        mqttrs::QoS::ExactlyOnce => 2,
    }
}

pub(crate) fn from_mqttrs(packet: &mqttrs::Packet<'_>) -> Spec {
    match packet {
        mqttrs::Packet::Connect(c) => {
            assert_eq!(c.protocol, mqttrs::Protocol::MQTT311);
            Spec::Connect(ConnectSpec {
                client_id: c.client_id.to_owned(),
                keep_alive: c.keep_alive,
                clean_session: c.clean_session,
                will: c.last_will.as_ref().map(|w| WillSpec {
                    topic: w.topic.to_owned(),
                    message: Bytes::copy_from_slice(w.message),
                    qos: mqttrs_qos_u8(w.qos),
                    retain: w.retain,
                }),
                username: c.username.map(str::to_owned),
                password: c.password.map(Bytes::copy_from_slice),
            })
        }
        mqttrs::Packet::Publish(p) => {
            assert!(!p.dup && !p.retain);
            Spec::Publish {
                topic: p.topic_name.to_owned(),
                qos: mqttrs_qos_u8(p.qospid.qos()),
                pid: p.qospid.pid().map_or(0, mqttrs::Pid::get),
                payload: Bytes::copy_from_slice(p.payload),
            }
        }
        mqttrs::Packet::Puback(pid) => Spec::PubAck(pid.get()),
        mqttrs::Packet::Subscribe(s) => Spec::Subscribe {
            pid: s.pid.get(),
            filters: s
                .topics
                .iter()
                .map(|t| (t.topic_path.clone(), mqttrs_qos_u8(t.qos)))
                .collect(),
        },
        mqttrs::Packet::Unsubscribe(u) => Spec::Unsubscribe {
            pid: u.pid.get(),
            filters: u.topics.clone(),
        },
        mqttrs::Packet::Pingreq => Spec::PingReq,
        mqttrs::Packet::Disconnect => Spec::Disconnect,
        other => panic!("a server does not receive {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// The cases.

/// JSON-ish telemetry text of exactly `len` bytes (payload contents do not matter to a codec, but
/// realistic bytes keep everyone honest).
pub(crate) fn payload(len: usize, seed: u64) -> Bytes {
    let text = format!(
        r#"{{"ts":{},"seq":{},"temp":21.{},"hum":48.{},"volt":3.{},"status":"ok","fw":"2.4.1"}}"#,
        1_712_000_000 + seed,
        seed,
        seed % 10,
        (seed / 10) % 10,
        (seed / 100) % 10
    );
    Bytes::from(text.bytes().cycle().take(len).collect::<Vec<u8>>())
}

pub(crate) fn publish_qos0_64() -> Spec {
    Spec::Publish {
        topic: "sensors/building-7/floor-3/room-12/temperature".to_owned(),
        qos: 0,
        pid: 0,
        payload: payload(64, 1),
    }
}

pub(crate) fn publish_qos1_1k() -> Spec {
    Spec::Publish {
        topic: "devices/gw-0042/telemetry/batch".to_owned(),
        qos: 1,
        pid: 4242,
        payload: payload(1024, 2),
    }
}

pub(crate) fn connect() -> Spec {
    Spec::Connect(ConnectSpec {
        client_id: "gw-0042-7f3a9c1e".to_owned(),
        keep_alive: 60,
        clean_session: true,
        will: Some(WillSpec {
            topic: "devices/gw-0042/status".to_owned(),
            message: Bytes::from_static(br#"{"state":"offline","reason":"connection lost"}"#),
            qos: 1,
            retain: true,
        }),
        username: Some("gateway-fleet-eu-west".to_owned()),
        password: Some(Bytes::from_static(
            b"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJndy0wMDQyIn0.c2lnbmF0dXJl",
        )),
    })
}

pub(crate) fn subscribe_10() -> Spec {
    Spec::Subscribe {
        pid: 17,
        filters: vec![
            ("devices/gw-0042/cmd/#".to_owned(), 1),
            ("devices/gw-0042/config".to_owned(), 1),
            ("$aws/things/gw-0042/shadow/update/delta".to_owned(), 1),
            ("$aws/things/gw-0042/shadow/get/accepted".to_owned(), 0),
            ("$aws/things/gw-0042/jobs/notify-next".to_owned(), 1),
            ("fleet/+/firmware/announce".to_owned(), 0),
            ("factory/line-3/+/alarms".to_owned(), 1),
            ("factory/line-3/machine-12/setpoint".to_owned(), 2),
            ("broadcast/#".to_owned(), 0),
            ("time/sync".to_owned(), 0),
        ],
    }
}

/// xorshift64*: a deterministic stream without a dependency.
pub(crate) struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (the bias is irrelevant here).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn range(&mut self, lo: u64, hi_inclusive: u64) -> u64 {
        lo + self.below(hi_inclusive - lo + 1)
    }
}

/// What a server reads from its clients, in one stream: a CONNECT, then 59% PUBLISH QoS 0, 25%
/// PUBLISH QoS 1, 12% PUBACK (for QoS 1 deliveries to the client), 3% PINGREQ, 0.6% SUBSCRIBE,
/// 0.4% UNSUBSCRIBE, and a DISCONNECT. Payloads: 45% 16–64 B, 35% 65–256 B, 15% 257 B–1 KiB,
/// 5% 1–8 KiB.
pub(crate) fn mixed() -> Vec<Spec> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut next_pid = 0u16;
    let mut pid = move || {
        next_pid = next_pid.checked_add(1).unwrap_or(1);
        next_pid
    };
    let mut specs = Vec::with_capacity(MIXED_LEN);
    specs.push(connect());
    while specs.len() < MIXED_LEN - 1 {
        let device = rng.below(500);
        let roll = rng.below(1000);
        let spec = if roll < 840 {
            let topic = match rng.below(4) {
                0 => format!("devices/dev-{device:04}/telemetry"),
                1 => format!("devices/dev-{device:04}/events/alarm"),
                2 => format!("$aws/things/dev-{device:04}/shadow/update"),
                _ => format!("factory/line-{}/machine-{device}/temperature", rng.below(8)),
            };
            let size_roll = rng.below(100);
            let len = if size_roll < 45 {
                rng.range(16, 64)
            } else if size_roll < 80 {
                rng.range(65, 256)
            } else if size_roll < 95 {
                rng.range(257, 1024)
            } else {
                rng.range(1025, 8192)
            };
            let qos = u8::from(roll >= 590);
            Spec::Publish {
                topic,
                qos,
                pid: if qos == 0 { 0 } else { pid() },
                payload: payload(usize::try_from(len).unwrap(), rng.below(1000)),
            }
        } else if roll < 960 {
            Spec::PubAck(u16::try_from(rng.range(1, 65_535)).unwrap())
        } else if roll < 990 {
            Spec::PingReq
        } else if roll < 996 {
            let all = [
                format!("devices/dev-{device:04}/cmd/#"),
                format!("$aws/things/dev-{device:04}/shadow/update/delta"),
                "fleet/+/firmware/announce".to_owned(),
                format!("factory/+/machine-{device}/config"),
                "broadcast/#".to_owned(),
            ];
            let n = usize::try_from(rng.range(1, 5)).unwrap();
            Spec::Subscribe {
                pid: pid(),
                filters: all
                    .into_iter()
                    .take(n)
                    .map(|f| (f, u8::try_from(rng.below(2)).unwrap()))
                    .collect(),
            }
        } else {
            let all = [
                format!("devices/dev-{device:04}/cmd/#"),
                "fleet/+/firmware/announce".to_owned(),
                "broadcast/#".to_owned(),
            ];
            let n = usize::try_from(rng.range(1, 3)).unwrap();
            Spec::Unsubscribe {
                pid: pid(),
                filters: all.into_iter().take(n).collect(),
            }
        };
        specs.push(spec);
    }
    specs.push(Spec::Disconnect);
    specs
}

/// One benchmark case: `items` encoded back to back, the whole list `repeat` times.
pub(crate) struct Case {
    pub(crate) name: &'static str,
    pub(crate) items: Vec<Spec>,
    pub(crate) repeat: usize,
}

impl Case {
    pub(crate) fn packets(&self) -> usize {
        self.items.len() * self.repeat
    }

    /// The reference, item by item as the decoders must return them.
    fn expected(&self) -> Vec<Spec> {
        let mut all = Vec::with_capacity(self.packets());
        for _ in 0..self.repeat {
            all.extend(self.items.iter().cloned());
        }
        all
    }
}

pub(crate) fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "publish_qos0_64B",
            items: vec![publish_qos0_64()],
            repeat: REPEAT,
        },
        Case {
            name: "publish_qos1_1KiB",
            items: vec![publish_qos1_1k()],
            repeat: REPEAT,
        },
        Case {
            name: "connect",
            items: vec![connect()],
            repeat: REPEAT,
        },
        Case {
            name: "subscribe_10_filters",
            items: vec![subscribe_10()],
            repeat: REPEAT,
        },
        Case {
            name: "mixed_10k",
            items: mixed(),
            repeat: 1,
        },
    ]
}

/// The bytes every decoder reads: our encoding of the case.
pub(crate) fn wire(ours: &[Packet], repeat: usize) -> Bytes {
    let one: usize = ours.iter().map(Encode::encoded_len).sum();
    let mut buf = BytesMut::with_capacity(one * repeat);
    for _ in 0..repeat {
        for packet in ours {
            packet.encode(&mut buf).unwrap();
        }
    }
    assert_eq!(buf.len(), one * repeat, "encoded_len disagrees with encode");
    buf.freeze()
}

/// Each frame's length, from its fixed header (for stepping `mqttrs` through the stream).
pub(crate) fn frame_lengths(mut wire: &[u8]) -> Vec<usize> {
    let mut lengths = Vec::new();
    while !wire.is_empty() {
        let mut remaining = 0usize;
        let mut header_len = 1;
        for (i, &byte) in wire[1..].iter().take(4).enumerate() {
            remaining |= usize::from(byte & 0x7F) << (7 * i);
            header_len = i + 2;
            if byte & 0x80 == 0 {
                break;
            }
        }
        let len = header_len + remaining;
        lengths.push(len);
        wire = &wire[len..];
    }
    lengths
}

// ---------------------------------------------------------------------------------------------
// Setup checks: a broken benchmark must not pass silently.

/// Like `assert_eq!` on the packet lists, printing only the first difference.
pub(crate) fn same_packets(actual: &[Spec], expected: &[Spec], case: &str, library: &str) {
    assert_eq!(
        actual.len(),
        expected.len(),
        "{case}: {library} decodes another count"
    );
    if let Some(at) = actual.iter().zip(expected).position(|(a, b)| a != b) {
        panic!(
            "{case}: {library} decodes packet {at} as {:?}, expected {:?}",
            actual[at], expected[at]
        );
    }
}

pub(crate) fn check_decoders(case: &Case, wire: &Bytes, lengths: &[usize]) {
    let expected = case.expected();
    assert_eq!(lengths.len(), expected.len());

    let options = DecodeOptions::server();
    let mut buf = BytesMut::from(&wire[..]);
    let ours: Vec<Spec> = (0..expected.len())
        .map(|_| from_ours(&decode(&mut buf, &options).unwrap().unwrap()))
        .collect();
    assert!(buf.is_empty(), "{}: mqtt-wire left bytes", case.name);
    same_packets(&ours, &expected, case.name, "mqtt-wire");

    let mut buf = BytesMut::from(&wire[..]);
    let theirs: Vec<Spec> = (0..expected.len())
        .map(|_| from_rumqttc(&rq::Packet::read(&mut buf, MAX_PACKET_SIZE).unwrap()))
        .collect();
    assert!(buf.is_empty(), "{}: rumqttc left bytes", case.name);
    same_packets(&theirs, &expected, case.name, "rumqttc");

    let mut rest: &[u8] = wire;
    let borrowed: Vec<Spec> = (0..expected.len())
        .map(|_| {
            let (packet, len) = decode_slice(rest, &options).unwrap().unwrap();
            rest = &rest[len..];
            from_ours(&Packet::from(packet))
        })
        .collect();
    assert!(
        rest.is_empty(),
        "{}: mqtt-wire-borrowed left bytes",
        case.name
    );
    same_packets(&borrowed, &expected, case.name, "mqtt-wire-borrowed");

    let mut rest: &[u8] = wire;
    let theirs: Vec<Spec> = lengths
        .iter()
        .map(|&len| {
            let spec = from_mqttrs(&mqttrs::decode_slice(rest).unwrap().unwrap());
            rest = &rest[len..];
            spec
        })
        .collect();
    assert!(rest.is_empty());
    same_packets(&theirs, &expected, case.name, "mqttrs");
}

pub(crate) fn encode_ours(packets: &[Packet], repeat: usize, buf: &mut BytesMut) {
    buf.clear();
    for _ in 0..repeat {
        for packet in packets {
            black_box(packet).encode(buf).unwrap();
        }
    }
}

pub(crate) fn encode_rumqttc(packets: &[rq::Packet], repeat: usize, buf: &mut BytesMut) {
    buf.clear();
    for _ in 0..repeat {
        for packet in packets {
            if matches!(packet, rq::Packet::Connect(_)) {
                // rumqttc 0.25 patches the CONNECT flags in at an index counted from the start of
                // the buffer (`flags_index` in `Connect::write`), so a CONNECT is only right in an
                // empty buffer, which is where a client writes it. (No-op in the mixed stream,
                // where the CONNECT comes first.)
                buf.clear();
            }
            black_box(packet).write(buf, MAX_PACKET_SIZE).unwrap();
        }
    }
}

pub(crate) fn encode_mqttrs(
    packets: &[mqttrs::Packet<'_>],
    repeat: usize,
    buf: &mut [u8],
) -> usize {
    let mut offset = 0;
    for _ in 0..repeat {
        for packet in packets {
            offset += mqttrs::encode_slice(black_box(packet), &mut buf[offset..]).unwrap();
        }
    }
    offset
}

/// Like `assert_eq!` on the bytes, without printing megabytes.
pub(crate) fn same_bytes(actual: &[u8], expected: &[u8], case: &str, library: &str) {
    if let Some(at) = actual.iter().zip(expected).position(|(a, b)| a != b) {
        panic!("{case}: {library} encodes differently from byte {at} on");
    }
    assert_eq!(
        actual.len(),
        expected.len(),
        "{case}: {library} encodes another length"
    );
}

pub(crate) fn check_encoders(
    case: &Case,
    wire: &Bytes,
    rumqttc: &[rq::Packet],
    mqttrs: &[mqttrs::Packet<'_>],
) {
    let mut buf = BytesMut::with_capacity(wire.len());
    encode_rumqttc(rumqttc, case.repeat, &mut buf);
    // A CONNECT-only case leaves rumqttc's buffer with just the last one (see `encode_rumqttc`).
    let expected = if matches!(case.items[..], [Spec::Connect(_)]) {
        &wire[wire.len() - wire.len() / case.repeat..]
    } else {
        &wire[..]
    };
    same_bytes(&buf, expected, case.name, "rumqttc");

    let mut out = vec![0u8; wire.len()];
    let written = encode_mqttrs(mqttrs, case.repeat, &mut out);
    assert_eq!(
        written,
        wire.len(),
        "{}: mqttrs reports another length",
        case.name
    );
    same_bytes(&out, wire, case.name, "mqttrs");
}

// ---------------------------------------------------------------------------------------------
// The benchmarks.

pub(crate) struct Prepared {
    pub(crate) case: Case,
    pub(crate) ours: Vec<Packet>,
    pub(crate) wire: Bytes,
    pub(crate) lengths: Vec<usize>,
}

/// Every case, checked.
pub(crate) fn prepare() -> Vec<Prepared> {
    cases()
        .into_iter()
        .map(|case| prepare_case(case, true))
        .collect()
}

/// One case's bytes; with `check`, every library's decoding and encoding of it is checked first.
pub(crate) fn prepare_case(case: Case, check: bool) -> Prepared {
    let ours: Vec<Packet> = case.items.iter().map(to_ours).collect();
    let wire = wire(&ours, case.repeat);
    let lengths = frame_lengths(&wire);
    if check {
        check_decoders(&case, &wire, &lengths);
        let rumqttc: Vec<rq::Packet> = case.items.iter().map(to_rumqttc).collect();
        let mqttrs: Vec<mqttrs::Packet<'_>> = case.items.iter().map(to_mqttrs).collect();
        check_encoders(&case, &wire, &rumqttc, &mqttrs);
    }
    Prepared {
        case,
        ours,
        wire,
        lengths,
    }
}

// ---------------------------------------------------------------------------------------------
// The measured loops, the same for the time and the instruction benchmarks.

/// Decodes `count` packets from `buf` with this crate's owned decoder.
pub(crate) fn decode_ours(buf: &mut BytesMut, count: usize, options: &DecodeOptions) {
    for _ in 0..count {
        black_box(decode(buf, options).unwrap().unwrap());
    }
}

/// Decodes `count` packets from `wire` with this crate's borrowed decoder.
pub(crate) fn decode_ours_borrowed(wire: &[u8], count: usize, options: &DecodeOptions) -> usize {
    let mut rest = wire;
    for _ in 0..count {
        let (packet, len) = decode_slice(rest, options).unwrap().unwrap();
        black_box(packet);
        rest = &rest[len..];
    }
    rest.len()
}

/// Decodes `count` packets from `buf` with rumqttc.
pub(crate) fn decode_rumqttc(buf: &mut BytesMut, count: usize) {
    for _ in 0..count {
        black_box(rq::Packet::read(buf, MAX_PACKET_SIZE).unwrap());
    }
}

/// Decodes the packets of `wire` with mqttrs, stepping by the precomputed `lengths`.
pub(crate) fn decode_mqttrs(wire: &[u8], lengths: &[usize]) -> usize {
    let mut rest = wire;
    for &len in lengths {
        black_box(mqttrs::decode_slice(rest).unwrap().unwrap());
        rest = &rest[len..];
    }
    rest.len()
}
