//! One QoS 0 message through the broker over loopback: a client publishes on a topic it is
//! subscribed to and waits for the delivery. Mosquitto (the Debian package), when installed,
//! runs the same exchange side by side.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use bytes::BytesMut;
use criterion::{Criterion, criterion_group, criterion_main};
use mqtt_wire::{
    Connect, DecodeOptions, Encode, MqttString, Packet, PacketId, Publish, QoS, QosPid, Subscribe,
    SubscribeFilter, TopicFilter, TopicName, decode,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Client {
    stream: TcpStream,
    buf: BytesMut,
}

impl Client {
    async fn connect(addr: SocketAddr) -> Client {
        let mut c = Client {
            stream: TcpStream::connect(addr).await.unwrap(),
            buf: BytesMut::new(),
        };
        c.stream.set_nodelay(true).unwrap();
        let connect = Connect::new(MqttString::new("bench").unwrap(), 60);
        c.send(&Packet::from(connect)).await;
        assert!(matches!(c.next().await, Packet::ConnAck(_)));
        let sub = Subscribe::new(
            PacketId::new(1).unwrap(),
            [SubscribeFilter {
                filter: TopicFilter::new("bench/t").unwrap(),
                qos: QoS::AtMostOnce,
            }],
        )
        .unwrap();
        c.send(&Packet::Subscribe(sub)).await;
        assert!(matches!(c.next().await, Packet::SubAck(_)));
        c
    }

    async fn send(&mut self, p: &Packet) {
        let mut out = BytesMut::new();
        p.encode(&mut out).unwrap();
        self.stream.write_all(&out).await.unwrap();
    }

    async fn next(&mut self) -> Packet {
        loop {
            if let Some(p) = decode(&mut self.buf, &DecodeOptions::client()).unwrap() {
                return p;
            }
            assert!(self.stream.read_buf(&mut self.buf).await.unwrap() > 0);
        }
    }
}

struct Peer(Child);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("reference-broker-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut config = reference_broker::Config {
        data_dir: dir.clone(),
        mqtt_listen: "127.0.0.1:0".parse().unwrap(),
        plain_listen: Some("127.0.0.1:0".parse().unwrap()),
        http_listen: "127.0.0.1:0".parse().unwrap(),
        ..reference_broker::Config::default()
    };
    config.limits.publish_rate = 1_000_000_000;
    config.limits.publish_burst = 1_000_000_000;
    config.persistence.enabled = false;
    reference_broker::setup::init_data_dir(&mut config, false).unwrap();
    let broker = rt.block_on(reference_broker::start(config)).unwrap();

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let peer = Command::new("mosquitto")
        .args(["-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()
        .map(Peer);
    let mosquitto: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();

    let payload = vec![b'x'; 64];
    let topic = TopicName::new("bench/t").unwrap();
    let mut group = c.benchmark_group("qos0_roundtrip_64B");
    let mut targets = vec![("reference-broker", broker.plain_addr.unwrap())];
    if peer.is_some() {
        // Wait for mosquitto to listen.
        for _ in 0..100 {
            if std::net::TcpStream::connect(mosquitto).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        targets.push(("mosquitto", mosquitto));
    }
    for (name, addr) in targets {
        let mut client = rt.block_on(Client::connect(addr));
        group.bench_function(name, |b| {
            b.iter(|| {
                rt.block_on(async {
                    let p = Publish::new(topic.clone(), QosPid::AtMostOnce, payload.clone());
                    client.send(&Packet::Publish(p)).await;
                    match client.next().await {
                        Packet::Publish(p) => assert_eq!(p.payload.len(), 64),
                        other => panic!("{other:?}"),
                    }
                })
            })
        });
    }
    group.finish();
    drop(broker);
    drop(peer);
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
