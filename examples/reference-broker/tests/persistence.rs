//! Retained messages and persistent sessions survive a restart (SQLite in the data directory).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

mod common;

use std::time::Duration;

use common::{Client, pid, start, start_with};
use mqtt_wire::{Packet, QoS, QosPid};
use reference_broker::Store;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retained_and_sessions_survive_a_restart() {
    let mut b = start("persist").await;
    let (mut keeper, _) = Client::connect(b.plain(), "keeper", false).await;
    keeper
        .subscribe(1, &[("p/#", QoS::ExactlyOnce), ("x/+", QoS::AtLeastOnce)])
        .await;
    // One message in flight (received, not acknowledged) when the keeper goes away.
    let (mut publ, _) = Client::connect(b.plain(), "pub", true).await;
    publ.publish_acked("p/inflight", 1, "zero").await;
    let p = keeper.recv_publish().await;
    let inflight_id = p.qos_pid.packet_id().unwrap();
    keeper.send(&Packet::Disconnect).await;
    keeper.expect_closed().await;

    publ.publish("r/t", QosPid::AtLeastOnce(pid(2)), "kept", true)
        .await;
    assert_eq!(publ.recv().await, Packet::PubAck(pid(2)));
    publ.publish_acked("p/a", 3, "one").await;
    publ.publish("p/b", QosPid::ExactlyOnce(pid(4)), "two", false)
        .await;
    assert_eq!(publ.recv().await, Packet::PubRec(pid(4)));
    publ.send(&Packet::PubRel(pid(4))).await;
    assert_eq!(publ.recv().await, Packet::PubComp(pid(4)));
    publ.send(&Packet::Disconnect).await;
    publ.expect_closed().await;

    b.restart().await;
    assert_eq!(b.metric("retained_current"), 1);
    assert_eq!(b.metric("sessions_current"), 1);

    let (mut keeper, present) = Client::connect(b.plain(), "keeper", false).await;
    assert!(present);
    let p = keeper.recv_publish().await;
    assert_eq!(
        (p.dup, p.qos_pid.packet_id().unwrap(), &p.payload[..]),
        (true, inflight_id, &b"zero"[..])
    );
    keeper.send(&Packet::PubAck(inflight_id)).await;
    let p = keeper.recv_publish().await;
    assert_eq!(
        (&p.payload[..], p.qos_pid.qos()),
        (&b"one"[..], QoS::AtLeastOnce)
    );
    keeper
        .send(&Packet::PubAck(p.qos_pid.packet_id().unwrap()))
        .await;
    let p = keeper.recv_publish().await;
    assert_eq!(
        (&p.payload[..], p.qos_pid.qos()),
        (&b"two"[..], QoS::ExactlyOnce)
    );
    let id = p.qos_pid.packet_id().unwrap();
    keeper.send(&Packet::PubRec(id)).await;
    assert_eq!(keeper.recv().await, Packet::PubRel(id));
    keeper.send(&Packet::PubComp(id)).await;
    // The subscriptions came back too.
    let (mut publ, _) = Client::connect(b.plain(), "pub", true).await;
    publ.publish_acked("x/y", 1, "live").await;
    let p = keeper.recv_publish().await;
    assert_eq!((p.topic.as_str(), &p.payload[..]), ("x/y", &b"live"[..]));
    // And the retained message.
    let (mut late, _) = Client::connect(b.plain(), "late", true).await;
    late.subscribe(1, &[("r/#", QoS::AtMostOnce)]).await;
    let p = late.recv_publish().await;
    assert_eq!(
        (p.topic.as_str(), &p.payload[..], p.retain),
        ("r/t", &b"kept"[..], true)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autosave_writes_changes_without_a_shutdown() {
    let b = start_with("autosave", |c, _| c.persistence.autosave_secs = 1).await;
    let (mut publ, _) = Client::connect(b.plain(), "pub", true).await;
    publ.publish("a/b", QosPid::AtLeastOnce(pid(1)), "v", true)
        .await;
    assert_eq!(publ.recv().await, Packet::PubAck(pid(1)));
    let deadline = tokio::time::Instant::now() + common::WAIT;
    loop {
        let snapshot = Store::open(&b.dir).unwrap().load().unwrap();
        if let Some(m) = snapshot.retained.first() {
            assert_eq!((m.topic.as_str(), &m.payload[..]), ("a/b", &b"v"[..]));
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not saved within the wait"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persistence_can_be_switched_off() {
    let mut b = start_with("nopersist", |c, _| c.persistence.enabled = false).await;
    let (mut publ, _) = Client::connect(b.plain(), "pub", true).await;
    publ.publish("a/b", QosPid::AtLeastOnce(pid(1)), "v", true)
        .await;
    assert_eq!(publ.recv().await, Packet::PubAck(pid(1)));
    b.restart().await;
    assert_eq!(b.metric("retained_current"), 0);
    assert!(!b.dir.join(reference_broker::DB_FILE).exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_sessions_are_restored_only_while_their_certificate_is_active() {
    let mut b = start_with("persist-tls", |c, _| c.reload_watch_secs = 0).await;
    for device in ["button-1", "button-2"] {
        let mut c = common::Client::tls(&b, device).await;
        c.send(&Packet::Connect(common::connect_packet(device, false)))
            .await;
        assert!(matches!(c.recv().await, Packet::ConnAck(_)));
        c.send(&Packet::Disconnect).await;
        c.expect_closed().await;
    }
    b.wait_gauge("connections_current", 0).await;
    // button-2 is revoked while the broker is down.
    b.running.stop().await.unwrap();
    let path = b.dir.join("registry.json");
    let mut registry: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    registry["certificates"][1]["status"] = "REVOKED".into();
    std::fs::write(&path, serde_json::to_vec(&registry).unwrap()).unwrap();
    b.restart().await;
    assert_eq!(b.metric("sessions_current"), 1);
    let mut c = common::Client::tls(&b, "button-1").await;
    c.send(&Packet::Connect(common::connect_packet("button-1", false)))
        .await;
    match c.recv().await {
        Packet::ConnAck(ack) => assert!(
            ack.session_present,
            "restored with its certificate identity"
        ),
        other => panic!("{other:?}"),
    }
}
