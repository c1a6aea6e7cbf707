//! A broker that stops reading must not hold the generator past the end of its run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::arithmetic_side_effects)]

use std::time::{Duration, Instant};

use bytes::BytesMut;
use mqtt_loadgen::options::{Options, Scenario};
use mqtt_wire::{ConnAck, ConnectReturnCode, MqttCodec, Packet, SubAck, SubAckReturnCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::{Decoder, Encoder};

/// Accepts the CONNECT and the SUBSCRIBE, answers them, and then never reads again (the
/// socket stays open: the peer's writes fill the buffers and block).
async fn answer_then_stall(mut socket: TcpStream, held: tokio::sync::mpsc::Sender<TcpStream>) {
    let mut codec = MqttCodec::new(mqtt_wire::DecodeOptions::server());
    let mut input = BytesMut::new();
    let mut out = BytesMut::new();
    for _ in 0..100 {
        let packet = loop {
            if let Some(p) = codec.decode(&mut input).unwrap() {
                break p;
            }
            if socket.read_buf(&mut input).await.unwrap() == 0 {
                return;
            }
        };
        match packet {
            Packet::Connect(_) => codec
                .encode(
                    Packet::ConnAck(ConnAck {
                        session_present: false,
                        code: ConnectReturnCode::Accepted,
                    }),
                    &mut out,
                )
                .unwrap(),
            Packet::Subscribe(s) => {
                let ack = SubAck::new(
                    s.packet_id,
                    [SubAckReturnCode::Success(mqtt_wire::QoS::AtLeastOnce)],
                )
                .unwrap();
                codec.encode(Packet::SubAck(ack), &mut out).unwrap();
                socket.write_all(&out).await.unwrap();
                let _ = held.send(socket).await;
                return;
            }
            _ => {}
        }
        socket.write_all(&out).await.unwrap();
        out.clear();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_that_stops_reading_cannot_hold_the_run() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (held_tx, mut held_rx) = tokio::sync::mpsc::channel(64);
    let server = tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let (socket, _) = accepted.unwrap();
                    tokio::spawn(answer_then_stall(socket, held_tx.clone()));
                }
                Some(s) = held_rx.recv() => held.push(s),
            }
        }
    });
    let mut o = Options::new(Scenario::Peak);
    o.broker = addr;
    o.agents = 4;
    o.services = 1;
    o.qos = mqtt_wire::QoS::AtLeastOnce;
    // 64 KiB jobs at 400 jobs/s: far more than the loopback buffers hold within the second.
    o.payload = 64 * 1024;
    o.rate = Some(800.0);
    o.duration = Duration::from_secs(1);
    o.ramp_up = Duration::from_millis(200);
    o.drain = Duration::from_secs(1);
    o.progress = false;
    o.out = None;
    let started = Instant::now();
    let outcome = tokio::time::timeout(Duration::from_secs(40), mqtt_loadgen::run(o))
        .await
        .expect("the run must stop by itself")
        .unwrap();
    let took = started.elapsed();
    // ramp + duration + drain, then at most one close limit for the services and one for
    // the agents.
    assert!(took < Duration::from_secs(15), "{took:?}");
    let r = outcome.report;
    assert!(r.jobs_sent > 0, "{r:?}");
    assert_eq!(r.jobs_completed, 0, "{r:?}");
    assert_eq!(r.received, 0, "{r:?}");
    assert_eq!(
        r.lost_jobs_broker + r.lost_jobs_reconnecting,
        r.jobs_sent,
        "{r:?}"
    );
    server.abort();
}
