//! MQTT 3.1.1 behaviour over real sockets, checked packet by packet with a raw client.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

mod common;

use common::{Client, connect_packet, pid, start, start_with, will};
use mqtt_wire::{ConnAck, ConnectReturnCode, Packet, QoS, QosPid, SubAckReturnCode};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_then_ping() {
    let b = start("ping").await;
    let (mut c, present) = Client::connect(b.plain(), "pinger", true).await;
    assert!(!present);
    c.ping().await;
    c.send(&Packet::Disconnect).await;
    c.expect_closed().await;
    assert_eq!(b.metric("connects_accepted_total"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connack_codes() {
    let b = start("connack").await;
    // [MQTT-3.1.2-2]: protocol level 3 (MQTT 3.1 with "MQTT" name) gets 0x01 and a close.
    let mut c = Client::tcp(b.plain()).await;
    c.send_raw(&[
        0x10, 0x0D, 0, 4, b'M', b'Q', b'T', b'T', 3, 2, 0, 60, 0, 1, b'x',
    ])
    .await;
    assert_eq!(
        c.recv().await,
        Packet::ConnAck(ConnAck::new(
            false,
            ConnectReturnCode::UnacceptableProtocolVersion
        ))
    );
    c.expect_closed().await;
    // [MQTT-3.1.3-8]: an empty client id with clean session 0 gets 0x02.
    let mut c = Client::tcp(b.plain()).await;
    c.send(&Packet::from(connect_packet("", false))).await;
    assert_eq!(
        c.recv().await,
        Packet::ConnAck(ConnAck::new(false, ConnectReturnCode::IdentifierRejected))
    );
    c.expect_closed().await;
    // [MQTT-3.1.3-6]: with clean session 1 the broker assigns one.
    let (mut c, _) = Client::connect(b.plain(), "", true).await;
    c.ping().await;
    // AWS IoT's 128-byte limit on client ids.
    let mut c = Client::tcp(b.plain()).await;
    c.send(&Packet::from(connect_packet(&"x".repeat(129), true)))
        .await;
    assert_eq!(
        c.recv().await,
        Packet::ConnAck(ConnAck::new(false, ConnectReturnCode::IdentifierRejected))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qos_0_1_2_both_directions() {
    let b = start("qos").await;
    let (mut sub, _) = Client::connect(b.plain(), "sub", true).await;
    assert_eq!(
        sub.subscribe(1, &[("t/#", QoS::ExactlyOnce)]).await,
        vec![SubAckReturnCode::Success(QoS::ExactlyOnce)]
    );
    let (mut publ, _) = Client::connect(b.plain(), "pub", true).await;

    publ.publish("t/0", QosPid::AtMostOnce, "zero", false).await;
    let p = sub.recv_publish().await;
    assert_eq!(
        (p.topic.as_str(), &p.payload[..], p.qos_pid),
        ("t/0", &b"zero"[..], QosPid::AtMostOnce)
    );

    publ.publish_acked("t/1", 7, "one").await;
    let p = sub.recv_publish().await;
    assert_eq!(p.qos_pid.qos(), QoS::AtLeastOnce);
    assert_eq!(&p.payload[..], b"one");
    sub.send(&Packet::PubAck(p.qos_pid.packet_id().unwrap()))
        .await;

    // QoS 2 in: PUBLISH → PUBREC, PUBREL → PUBCOMP; a resent PUBLISH before PUBREL is not
    // routed twice.
    publ.publish("t/2", QosPid::ExactlyOnce(pid(9)), "two", false)
        .await;
    assert_eq!(publ.recv().await, Packet::PubRec(pid(9)));
    let mut again = mqtt_wire::Publish::new(
        common::topic("t/2"),
        QosPid::ExactlyOnce(pid(9)),
        &b"two"[..],
    );
    again.dup = true;
    publ.send(&Packet::Publish(again)).await;
    assert_eq!(publ.recv().await, Packet::PubRec(pid(9)));
    publ.send(&Packet::PubRel(pid(9))).await;
    assert_eq!(publ.recv().await, Packet::PubComp(pid(9)));

    // QoS 2 out: PUBLISH → (PUBREC) → PUBREL → (PUBCOMP).
    let p = sub.recv_publish().await;
    assert_eq!(p.qos_pid.qos(), QoS::ExactlyOnce);
    let id = p.qos_pid.packet_id().unwrap();
    sub.send(&Packet::PubRec(id)).await;
    assert_eq!(sub.recv().await, Packet::PubRel(id));
    sub.send(&Packet::PubComp(id)).await;

    // Nothing else was delivered: the next packet is the marker.
    publ.publish("t/marker", QosPid::AtMostOnce, "m", false)
        .await;
    assert_eq!(sub.recv_publish().await.topic.as_str(), "t/marker");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlapping_subscriptions_deliver_once_at_highest_qos() {
    let b = start("overlap").await;
    let (mut sub, _) = Client::connect(b.plain(), "sub", true).await;
    let codes = sub
        .subscribe(
            1,
            &[
                ("a/+", QoS::AtMostOnce),
                ("a/#", QoS::AtLeastOnce),
                ("a/b", QoS::AtMostOnce),
            ],
        )
        .await;
    assert_eq!(
        codes,
        vec![
            SubAckReturnCode::Success(QoS::AtMostOnce),
            SubAckReturnCode::Success(QoS::AtLeastOnce),
            SubAckReturnCode::Success(QoS::AtMostOnce)
        ]
    );
    sub.subscribe(2, &[("marker", QoS::AtMostOnce)]).await;
    let (mut publ, _) = Client::connect(b.plain(), "pub", true).await;
    publ.publish_acked("a/b", 1, "x").await;
    publ.publish("marker", QosPid::AtMostOnce, "m", false).await;
    let p = sub.recv_publish().await;
    assert_eq!(
        (p.topic.as_str(), p.qos_pid.qos()),
        ("a/b", QoS::AtLeastOnce)
    );
    assert_eq!(sub.recv_publish().await.topic.as_str(), "marker");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retained_messages() {
    let b = start("retained").await;
    let (mut publ, _) = Client::connect(b.plain(), "pub", true).await;
    publ.publish("r/1", QosPid::AtLeastOnce(pid(1)), "kept", true)
        .await;
    assert_eq!(publ.recv().await, Packet::PubAck(pid(1)));
    let (mut sub, _) = Client::connect(b.plain(), "sub", true).await;
    sub.subscribe(1, &[("r/#", QoS::AtLeastOnce)]).await;
    let p = sub.recv_publish().await;
    assert!(
        p.retain,
        "[MQTT-3.3.1-8]: retained on subscribe has retain=1"
    );
    assert_eq!(&p.payload[..], b"kept");
    sub.send(&Packet::PubAck(p.qos_pid.packet_id().unwrap()))
        .await;
    // Live delivery to an existing subscription has retain=0 [MQTT-3.3.1-9].
    publ.publish("r/1", QosPid::AtMostOnce, "live", true).await;
    let p = sub.recv_publish().await;
    assert!(!p.retain);
    // An empty retained message clears the topic [MQTT-3.3.1-10].
    publ.publish("r/1", QosPid::AtMostOnce, "", true).await;
    assert_eq!(&sub.recv_publish().await.payload[..], b"");
    publ.ping().await;
    assert_eq!(b.metric("retained_current"), 0);
    let (mut late, _) = Client::connect(b.plain(), "late", true).await;
    late.subscribe(1, &[("r/#", QoS::AtLeastOnce), ("marker", QoS::AtMostOnce)])
        .await;
    publ.publish("marker", QosPid::AtMostOnce, "m", false).await;
    assert_eq!(late.recv_publish().await.topic.as_str(), "marker");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn will_published_on_abnormal_close_only() {
    let b = start("will").await;
    let (mut sub, _) = Client::connect(b.plain(), "sub", true).await;
    sub.subscribe(1, &[("wills/#", QoS::AtLeastOnce)]).await;

    let mut c = connect_packet("dies", true);
    c.will = Some(will("wills/dies", "gone", QoS::AtLeastOnce, false));
    let (dies, _) = Client::connect_with(b.plain(), c).await;
    drop(dies); // TCP close without DISCONNECT
    let p = sub.recv_publish().await;
    assert_eq!(
        (p.topic.as_str(), &p.payload[..]),
        ("wills/dies", &b"gone"[..])
    );
    sub.send(&Packet::PubAck(p.qos_pid.packet_id().unwrap()))
        .await;

    let mut c = connect_packet("polite", true);
    c.will = Some(will("wills/polite", "gone", QoS::AtMostOnce, false));
    let (mut polite, _) = Client::connect_with(b.plain(), c).await;
    polite.send(&Packet::Disconnect).await;
    polite.expect_closed().await;
    // [MQTT-3.14.4-3]: after DISCONNECT the Will is discarded; the next message is the marker.
    let (mut publ, _) = Client::connect(b.plain(), "pub", true).await;
    publ.publish("wills/marker", QosPid::AtMostOnce, "m", false)
        .await;
    assert_eq!(sub.recv_publish().await.topic.as_str(), "wills/marker");
    assert_eq!(b.metric("wills_published_total"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn takeover_closes_the_older_connection() {
    let b = start("takeover").await;
    let mut c = connect_packet("same", true);
    c.will = Some(will("takeover/will", "old", QoS::AtMostOnce, false));
    let (mut old, _) = Client::connect_with(b.plain(), c).await;
    let (mut new, _) = Client::connect(b.plain(), "same", true).await;
    old.expect_closed().await;
    new.ping().await;
    assert_eq!(b.metric("takeovers_total"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persistent_session_redelivers_qos1_and_qos2() {
    let b = start("persistent").await;
    let (mut s, present) = Client::connect(b.plain(), "keeper", false).await;
    assert!(!present);
    s.subscribe(1, &[("p/#", QoS::ExactlyOnce)]).await;
    // In flight when the connection drops: received, never acknowledged.
    let (mut publ, _) = Client::connect(b.plain(), "pub", true).await;
    publ.publish_acked("p/inflight", 1, "first").await;
    let p = s.recv_publish().await;
    assert_eq!(&p.payload[..], b"first");
    let first_id = p.qos_pid.packet_id().unwrap();
    drop(s);
    b.wait_gauge("connections_current", 1).await; // only the publisher is left
    // Queued while offline.
    publ.publish_acked("p/q1", 2, "second").await;
    publ.publish("p/q2", QosPid::ExactlyOnce(pid(3)), "third", false)
        .await;
    assert_eq!(publ.recv().await, Packet::PubRec(pid(3)));
    publ.send(&Packet::PubRel(pid(3))).await;
    assert_eq!(publ.recv().await, Packet::PubComp(pid(3)));
    publ.publish("p/q0", QosPid::AtMostOnce, "dropped-offline", false)
        .await;
    publ.ping().await;

    let (mut s, present) = Client::connect(b.plain(), "keeper", false).await;
    assert!(present, "[MQTT-3.2.2-2]: session present");
    let p = s.recv_publish().await;
    assert!(
        p.dup,
        "[MQTT-4.4.0-1]: the unacknowledged PUBLISH is resent with DUP"
    );
    assert_eq!(
        (p.qos_pid.packet_id().unwrap(), &p.payload[..]),
        (first_id, &b"first"[..])
    );
    s.send(&Packet::PubAck(first_id)).await;
    let p = s.recv_publish().await;
    assert_eq!(
        (&p.payload[..], p.qos_pid.qos()),
        (&b"second"[..], QoS::AtLeastOnce)
    );
    s.send(&Packet::PubAck(p.qos_pid.packet_id().unwrap()))
        .await;
    let p = s.recv_publish().await;
    assert_eq!(
        (&p.payload[..], p.qos_pid.qos()),
        (&b"third"[..], QoS::ExactlyOnce)
    );
    let id = p.qos_pid.packet_id().unwrap();
    s.send(&Packet::PubRec(id)).await;
    assert_eq!(s.recv().await, Packet::PubRel(id));
    // Drop before PUBCOMP: the PUBREL is resent on the next connection.
    drop(s);
    b.wait_gauge("connections_current", 1).await;
    let (mut s, present) = Client::connect(b.plain(), "keeper", false).await;
    assert!(present);
    assert_eq!(s.recv().await, Packet::PubRel(id));
    s.send(&Packet::PubComp(id)).await;
    // QoS 0 is not queued for an offline session: next is the marker.
    publ.publish("p/marker", QosPid::AtMostOnce, "m", false)
        .await;
    assert_eq!(s.recv_publish().await.topic.as_str(), "p/marker");
    // A clean connection discards the session.
    s.send(&Packet::Disconnect).await;
    s.expect_closed().await;
    let (_s, present) = Client::connect(b.plain(), "keeper", true).await;
    assert!(!present);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_queue_is_bounded() {
    let b = start_with("queue", |c, _| {
        c.limits.max_queued = 3;
        c.limits.max_inflight = 1;
        c.limits.outbound_queue = 17;
    })
    .await;
    let (mut s, _) = Client::connect(b.plain(), "slowpoke", false).await;
    s.subscribe(1, &[("q", QoS::AtLeastOnce)]).await;
    s.send(&Packet::Disconnect).await;
    s.expect_closed().await;
    let (mut publ, _) = Client::connect(b.plain(), "pub", true).await;
    for i in 1..=6 {
        publ.publish_acked("q", i, &format!("m{i}")).await;
    }
    assert_eq!(b.metric("dropped_queue_full_total"), 3);
    let (mut s, _) = Client::connect(b.plain(), "slowpoke", false).await;
    // One in flight at a time; the next is sent when the previous is acknowledged.
    for i in 1..=3 {
        let p = s.recv_publish().await;
        assert_eq!(&p.payload[..], format!("m{i}").as_bytes());
        s.send(&Packet::PubAck(p.qos_pid.packet_id().unwrap()))
            .await;
    }
    s.ping().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_alive_expiry_closes() {
    let b = start("keepalive").await;
    let mut c = connect_packet("sleepy", true);
    c.keep_alive = 1; // closed after 1.5 s of silence [MQTT-3.1.2-24]
    let (mut c, _) = Client::connect_with(b.plain(), c).await;
    let started = std::time::Instant::now();
    c.expect_closed().await;
    assert!(started.elapsed() >= std::time::Duration::from_millis(1400));
    assert_eq!(b.metric("keepalive_timeouts_total"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_rate_is_limited() {
    let b = start_with("rate", |c, _| {
        c.limits.publish_rate = 20;
        c.limits.publish_burst = 5;
    })
    .await;
    let (mut c, _) = Client::connect(b.plain(), "chatty", true).await;
    let started = std::time::Instant::now();
    for i in 1..=25 {
        c.publish_acked("rate", i, "x").await;
    }
    // 5 from the burst, 20 more at 20/s: at least ~1 s.
    assert!(started.elapsed() >= std::time::Duration::from_millis(900));
    assert!(b.metric("publish_throttled_total") >= 15);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn packets_of_every_size_arrive_intact() {
    let b = start("sizes").await;
    let (mut sub, _) = Client::connect(b.plain(), "sub", true).await;
    sub.subscribe(1, &[("sizes", QoS::AtLeastOnce)]).await;
    let (mut publisher, _) = Client::connect(b.plain(), "pub", true).await;
    // Small and large alternating, so the connections' buffers grow, shrink and grow again.
    let sizes = [1usize, 100_000, 2, 65_536, 3, 131_000, 4, 200, 5];
    for (i, size) in sizes.iter().enumerate() {
        let payload: String = (0..*size)
            .map(|n| char::from(b'a' + (n % 26) as u8))
            .collect();
        publisher
            .publish_acked("sizes", u16::try_from(i + 1).unwrap(), &payload)
            .await;
        let p = sub.recv_publish().await;
        assert_eq!(p.payload.len(), *size);
        assert_eq!(&p.payload[..], payload.as_bytes());
        sub.send(&Packet::PubAck(p.qos_pid.packet_id().unwrap()))
            .await;
    }
}
