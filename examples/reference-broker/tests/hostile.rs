//! Hostile clients: each is closed (or its excess dropped) with bounded memory while a
//! well-behaved client keeps working.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

mod common;

use std::time::{Duration, Instant};

use common::{Client, connect_packet, start, start_with};
use mqtt_wire::{Packet, QoS, QosPid};

/// A PINGREQ round trip well inside the limit a loaded machine allows.
async fn assert_responsive(good: &mut Client) {
    let started = Instant::now();
    good.ping().await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the good client waited {:?} for PINGRESP",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_bytes_close_only_that_connection() {
    let b = start("garbage").await;
    let (mut good, _) = Client::connect(b.plain(), "good", true).await;
    let mut bad = Client::tcp(b.plain()).await;
    bad.send_raw(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    bad.expect_closed().await;
    assert_eq!(b.metric("protocol_errors_total"), 1);
    // Garbage after a valid CONNECT.
    let (mut bad, _) = Client::connect(b.plain(), "bad", true).await;
    bad.send_raw(&[0xF0, 0x00]).await; // reserved packet type 15
    bad.expect_closed().await;
    assert_eq!(b.metric("protocol_errors_total"), 2);
    assert_responsive(&mut good).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_remaining_length_is_refused_before_the_body() {
    let b = start("oversized").await;
    let (mut good, _) = Client::connect(b.plain(), "good", true).await;
    // A fifth length byte [MQTT-2.2.3]: malformed.
    let mut bad = Client::tcp(b.plain()).await;
    bad.send_raw(&[0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]).await;
    bad.expect_closed().await;
    // The protocol maximum (256 MiB) announced: closed at once, nothing is awaited or reserved.
    let (mut bad, _) = Client::connect(b.plain(), "big", true).await;
    bad.send_raw(&[0x30, 0xFF, 0xFF, 0xFF, 0x7F]).await;
    bad.expect_closed().await;
    // Just over the configured limit.
    let (mut bad, _) = Client::connect(b.plain(), "big2", true).await;
    let payload = "x".repeat(b.config.limits.max_packet_size);
    bad.publish("t", QosPid::AtMostOnce, &payload, false).await;
    bad.expect_closed().await;
    assert_eq!(b.metric("protocol_errors_total"), 3);
    assert_responsive(&mut good).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_connect_is_closed_after_the_connect_timeout() {
    let b = start_with("noconnect", |c, _| c.limits.connect_timeout_secs = 1).await;
    let (mut good, _) = Client::connect(b.plain(), "good", true).await;
    let started = Instant::now();
    let mut silent = Client::tcp(b.plain()).await;
    silent.expect_closed().await;
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert_eq!(b.metric("connect_timeouts_total"), 1);
    // A TLS connection that never starts its handshake, too.
    let mut silent = Client::tcp(b.running.mqtt_addr).await;
    silent.expect_closed().await;
    // (The socket closes as the handshake future is dropped, just before the count.)
    b.wait_metric("connect_timeouts_total", 2).await;
    // A first packet other than CONNECT [MQTT-3.1.0-1].
    let mut rude = Client::tcp(b.plain()).await;
    rude.send(&Packet::PingReq).await;
    rude.expect_closed().await;
    // A second CONNECT [MQTT-3.1.0-2].
    let (mut twice, _) = Client::connect(b.plain(), "twice", true).await;
    twice
        .send(&Packet::from(connect_packet("twice", true)))
        .await;
    twice.expect_closed().await;
    assert_eq!(b.metric("protocol_errors_total"), 2);
    assert_responsive(&mut good).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_reader_loses_qos0_and_stalls_nobody() {
    let b = start_with("slowreader", |c, _| {
        c.limits.outbound_queue = 32;
        c.limits.max_inflight = 16;
        c.limits.publish_rate = 1_000_000;
        c.limits.publish_burst = 1_000_000;
    })
    .await;
    let (mut slow, _) = Client::connect(b.plain(), "slow", true).await;
    slow.subscribe(1, &[("flood", QoS::AtMostOnce)]).await;
    let (mut good, _) = Client::connect(b.plain(), "good", true).await;
    good.subscribe(1, &[("good", QoS::AtMostOnce)]).await;
    let (mut flooder, _) = Client::connect(b.plain(), "flooder", true).await;
    // 64 MiB offered to a reader that never reads: far more than socket buffers hold.
    let chunk = "z".repeat(64 * 1024);
    for round in 0..8 {
        for _ in 0..128 {
            flooder
                .publish("flood", QosPid::AtMostOnce, &chunk, false)
                .await;
        }
        flooder.ping().await;
        flooder
            .publish("good", QosPid::AtMostOnce, &format!("{round}"), false)
            .await;
        let started = Instant::now();
        assert_eq!(
            &good.recv_publish().await.payload[..],
            format!("{round}").as_bytes()
        );
        assert!(started.elapsed() < Duration::from_secs(2));
    }
    assert!(b.metric("dropped_slow_client_total") > 0);
    assert_responsive(&mut good).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_flood_is_bounded_and_good_client_keeps_working() {
    let b = start_with("flood", |c, _| c.limits.max_connections = 40).await;
    let (mut good, _) = Client::connect(b.plain(), "good", true).await;
    let addr = b.plain();
    let mut tasks = Vec::new();
    for i in 0..200u32 {
        tasks.push(tokio::spawn(async move {
            let Ok(mut s) = tokio::net::TcpStream::connect(addr).await else {
                return;
            };
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut buf = bytes::BytesMut::new();
            let c = Packet::from(connect_packet(&format!("flood-{i}"), true));
            mqtt_wire::Encode::encode(&c, &mut buf).unwrap();
            let _ = s.write_all(&buf).await;
            let mut out = [0u8; 16];
            // Either CONNACK or a close; then the client leaves.
            let _ = tokio::time::timeout(common::WAIT, s.read(&mut out)).await;
        }));
    }
    for _ in 0..10 {
        assert_responsive(&mut good).await;
    }
    for t in tasks {
        t.await.unwrap();
    }
    let accepted = b.metric("connects_accepted_total");
    let refused = b.metric("connections_refused_limit_total");
    assert!(accepted >= 2, "some flood connections were served");
    assert_eq!(b.metric("connections_total"), 201);
    assert!(accepted + refused <= 201);
    // Idle connections beyond the limit are closed at accept.
    let mut idle = Vec::new();
    for _ in 0..60 {
        idle.push(Client::tcp(b.plain()).await);
    }
    b.wait_metric("connections_refused_limit_total", refused + 21)
        .await;
    assert_responsive(&mut good).await;
}
