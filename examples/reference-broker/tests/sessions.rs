//! Clean sessions end with their connection, however it ends [MQTT-3.1.2-6].
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{Client, start, start_with, topic};
use mqtt_wire::{Packet, Publish, QoS, QosPid};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_session_is_not_resumed_by_a_persistent_connect() {
    let b = start("clean-then-persistent").await;
    let (mut first, _) = Client::connect(b.plain(), "dev", true).await;
    first.subscribe(1, &[("old/#", QoS::AtLeastOnce)]).await;
    first.send(&Packet::Disconnect).await;
    first.expect_closed().await;
    // Clean session 0 now: a new, empty session.
    let (mut second, present) = Client::connect(b.plain(), "dev", false).await;
    assert!(
        !present,
        "the clean session's state ended with its connection"
    );
    let (mut publ, _) = Client::connect(b.plain(), "pub", true).await;
    publ.publish_acked("old/x", 1, "stale").await;
    publ.publish_acked("new/x", 2, "marker").await;
    second.subscribe(2, &[("new/#", QoS::AtMostOnce)]).await;
    publ.publish_acked("new/x", 3, "fresh").await;
    // Only the new subscription delivers: the first PUBLISH to arrive is the one after it.
    let p = second.recv_publish().await;
    assert_eq!((p.topic.as_str(), &p.payload[..]), ("new/x", &b"fresh"[..]));
    second.ping().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_session_taken_over_does_not_survive_either() {
    let b = start("clean-takeover").await;
    let (mut first, _) = Client::connect(b.plain(), "dev", true).await;
    first.subscribe(1, &[("old/#", QoS::AtLeastOnce)]).await;
    // Taken over while connected, by a persistent CONNECT.
    let (mut second, present) = Client::connect(b.plain(), "dev", false).await;
    assert!(!present);
    first.expect_closed().await;
    let (mut publ, _) = Client::connect(b.plain(), "pub", true).await;
    publ.publish_acked("old/x", 1, "stale").await;
    second.ping().await; // PINGRESP, and no PUBLISH before it.
}

/// A clean session whose connection the broker closes as a slow reader ends too: it stops
/// matching, stops counting towards `max_sessions`, and is not resumed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_session_closed_as_a_slow_reader_is_removed() {
    let b = start_with("slow-clean", |c, _| {
        c.limits.publish_rate = 1_000_000;
        c.limits.publish_burst = 1_000_000;
        c.limits.write_timeout_secs = 60;
    })
    .await;
    let (mut slow, _) = Client::connect(b.plain(), "slow", true).await;
    slow.subscribe(1, &[("big/#", QoS::AtMostOnce)]).await;
    let (mut publ, _) = Client::connect(b.plain(), "pub", true).await;
    // 100 KB messages until the slow reader's socket buffers are full and its writer blocks
    // (bounded: 400 × 100 KB = 40 MB at most).
    let payload = Bytes::from(vec![b'x'; 100_000]);
    for _ in 0..400 {
        let p = Publish::new(topic("big/t"), QosPid::AtMostOnce, payload.clone());
        publ.send(&Packet::Publish(p)).await;
        if b.metric("dropped_slow_client_total") > 0 {
            break;
        }
    }
    b.wait_metric("dropped_slow_client_total", 1).await;
    // The queue is full: what cannot be dropped (PINGRESP) overflows it, and the broker
    // closes the connection.
    for _ in 0..b.config.limits.outbound_queue + 8 {
        slow.send(&Packet::PingReq).await;
    }
    b.wait_metric("slow_client_disconnects_total", 1).await;
    b.wait_gauge("sessions_current", 1).await; // the publisher's
    let (_again, present) = Client::connect(b.plain(), "slow", false).await;
    assert!(!present);
    drop(slow);
    tokio::time::sleep(Duration::from_millis(10)).await;
}
