//! Retained messages and persistent sessions survive a restart (SQLite in the data directory).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

mod common;

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

/// What an acknowledgement confirms is in `broker.db` by the time the acknowledgement arrives:
/// read straight after it, with no wait and no shutdown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_state_is_stored_before_the_acknowledgement() {
    let b = start("acked").await;
    let stored = || Store::open(&b.dir).unwrap().load().unwrap();
    // SUBACK of a persistent session: the session and its subscription.
    let (mut keeper, _) = Client::connect(b.plain(), "keeper", false).await;
    keeper.subscribe(1, &[("q/#", QoS::ExactlyOnce)]).await;
    let s = stored();
    assert_eq!(s.sessions.len(), 1);
    assert_eq!(s.sessions[0].client_id, "keeper");
    assert_eq!(
        s.sessions[0]
            .subscriptions
            .iter()
            .map(|(f, q)| (f.as_str(), *q))
            .collect::<Vec<_>>(),
        [("q/#", QoS::ExactlyOnce)]
    );
    keeper.send(&Packet::Disconnect).await;
    keeper.expect_closed().await;
    // PUBACK: the retained message, and the message queued for the offline session.
    let (mut publ, _) = Client::connect(b.plain(), "pub", true).await;
    publ.publish("q/r", QosPid::AtLeastOnce(pid(7)), "kept", true)
        .await;
    assert_eq!(publ.recv().await, Packet::PubAck(pid(7)));
    let s = stored();
    assert_eq!(
        s.retained
            .iter()
            .map(|m| (m.topic.as_str(), &m.payload[..]))
            .collect::<Vec<_>>(),
        [("q/r", &b"kept"[..])]
    );
    let queued: Vec<_> = s.sessions[0]
        .messages
        .iter()
        .map(|m| {
            (
                m.message.topic.as_str(),
                &m.message.payload[..],
                m.packet_id,
            )
        })
        .collect();
    assert_eq!(queued, [("q/r", &b"kept"[..], None)]);
    // PUBREC of a QoS 2 message from a persistent publisher: its packet id, with the routing.
    let (mut p2, _) = Client::connect(b.plain(), "pub2", false).await;
    p2.publish("q/x", QosPid::ExactlyOnce(pid(9)), "two", false)
        .await;
    assert_eq!(p2.recv().await, Packet::PubRec(pid(9)));
    let s = stored();
    let pub2 = s.sessions.iter().find(|s| s.client_id == "pub2").unwrap();
    assert_eq!(pub2.incoming_qos2, [9]);
    let keeper = s.sessions.iter().find(|s| s.client_id == "keeper").unwrap();
    assert_eq!(keeper.messages.len(), 2);
    // PUBCOMP: the packet id is released.
    p2.send(&Packet::PubRel(pid(9))).await;
    assert_eq!(p2.recv().await, Packet::PubComp(pid(9)));
    let s = stored();
    let pub2 = s.sessions.iter().find(|s| s.client_id == "pub2").unwrap();
    assert!(pub2.incoming_qos2.is_empty());
    // The keeper comes back: each delivery is in flight (with its packet id) when it arrives.
    let (mut keeper, present) = Client::connect(b.plain(), "keeper", false).await;
    assert!(present);
    let first = keeper.recv_publish().await;
    let second = keeper.recv_publish().await;
    let (id1, id2) = (
        first.qos_pid.packet_id().unwrap(),
        second.qos_pid.packet_id().unwrap(),
    );
    let s = stored();
    let k = s.sessions.iter().find(|s| s.client_id == "keeper").unwrap();
    let in_flight: Vec<_> = k
        .messages
        .iter()
        .map(|m| (m.packet_id, m.released))
        .collect();
    assert_eq!(
        in_flight,
        [(Some(id1.get()), false), (Some(id2.get()), false)]
    );
    // PUBREL follows the commit of everything before it: the first delivery's completion too.
    keeper.send(&Packet::PubAck(id1)).await;
    keeper.send(&Packet::PubRec(id2)).await;
    assert_eq!(keeper.recv().await, Packet::PubRel(id2));
    let s = stored();
    let k = s.sessions.iter().find(|s| s.client_id == "keeper").unwrap();
    let left: Vec<_> = k
        .messages
        .iter()
        .map(|m| (&m.message.payload[..], m.released))
        .collect();
    assert_eq!(left, [(&b"two"[..], true)]);
    assert!(b.metric("persist_commits_total") >= 4);
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
        c.send(&Packet::from(common::connect_packet(device, false)))
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
    c.send(&Packet::from(common::connect_packet("button-1", false)))
        .await;
    match c.recv().await {
        Packet::ConnAck(ack) => assert!(
            ack.session_present,
            "restored with its certificate identity"
        ),
        other => panic!("{other:?}"),
    }
}
