//! Protocol violations close the connection; the broker's limits on topics (depth, control
//! characters) refuse with the packet's own answer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

mod common;

use common::{Client, connect_packet, pid, start, start_with, will};
use mqtt_wire::{
    ConnAck, ConnectReturnCode, Packet, PacketId, QoS, QosPid, SubAckReturnCode, TopicFilter,
    Unsubscribe,
};

/// A subscriber with one message of `qos` in flight to it; returns its packet id.
async fn one_in_flight(b: &common::TestBroker, qos: QoS) -> (Client, PacketId) {
    let (mut sub, _) = Client::connect(b.plain(), "sub", true).await;
    sub.subscribe(1, &[("t", qos)]).await;
    let (mut publ, _) = Client::connect(b.plain(), "pub", true).await;
    let qos_pid = match qos {
        QoS::AtLeastOnce => QosPid::AtLeastOnce(pid(1)),
        _ => QosPid::ExactlyOnce(pid(1)),
    };
    publ.publish("t", qos_pid, "m", false).await;
    let p = sub.recv_publish().await;
    (sub, p.qos_pid.packet_id().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledgements_that_do_not_fit_close_the_connection() {
    let b = start("ack-mismatch").await;
    // PUBREC for a QoS 1 message.
    let (mut sub, id) = one_in_flight(&b, QoS::AtLeastOnce).await;
    sub.send(&Packet::PubRec(id)).await;
    sub.expect_closed().await;
    assert_eq!(b.metric("protocol_errors_total"), 1);
    // PUBACK for a QoS 2 message.
    let (mut sub, id) = one_in_flight(&b, QoS::ExactlyOnce).await;
    sub.send(&Packet::PubAck(id)).await;
    sub.expect_closed().await;
    assert_eq!(b.metric("protocol_errors_total"), 2);
    // PUBCOMP before PUBREL.
    let (mut sub, id) = one_in_flight(&b, QoS::ExactlyOnce).await;
    sub.send(&Packet::PubComp(id)).await;
    sub.expect_closed().await;
    assert_eq!(b.metric("protocol_errors_total"), 3);
    // The right sequence, with a repeated PUBREC (answered again) and an acknowledgement of
    // an unknown packet id (ignored and counted), keeps the connection.
    let (mut sub, id) = one_in_flight(&b, QoS::ExactlyOnce).await;
    sub.send(&Packet::PubRec(id)).await;
    assert_eq!(sub.recv().await, Packet::PubRel(id));
    sub.send(&Packet::PubRec(id)).await;
    assert_eq!(sub.recv().await, Packet::PubRel(id));
    sub.send(&Packet::PubComp(id)).await;
    sub.send(&Packet::PubAck(pid(999))).await;
    sub.ping().await;
    assert_eq!(b.metric("protocol_errors_total"), 3);
    assert_eq!(b.metric("unknown_acks_total"), 1);
}

async fn expect_connack(b: &common::TestBroker, connect: mqtt_wire::Connect) -> Option<Packet> {
    let mut c = Client::tcp(b.plain()).await;
    c.send(&Packet::from(connect)).await;
    c.next().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_characters_are_refused_by_default() {
    let b = start("control").await;
    // Client id: CONNACK 2.
    assert_eq!(
        expect_connack(&b, connect_packet("dev\u{1}", true)).await,
        Some(Packet::ConnAck(ConnAck::new(
            false,
            ConnectReturnCode::IdentifierRejected
        )))
    );
    // Will topic: closed.
    let mut c = connect_packet("willer", true);
    c.will = Some(will("w/\u{7f}", "x", QoS::AtMostOnce, false));
    assert_eq!(expect_connack(&b, c).await, None);
    // SUBSCRIBE filter: SUBACK 0x80 for that filter only.
    let (mut sub, _) = Client::connect(b.plain(), "sub", true).await;
    let codes = sub
        .subscribe(
            1,
            &[("a/\u{1b}", QoS::AtMostOnce), ("a/b", QoS::AtLeastOnce)],
        )
        .await;
    assert_eq!(
        codes,
        [
            SubAckReturnCode::Failure,
            SubAckReturnCode::Success(QoS::AtLeastOnce)
        ]
    );
    // PUBLISH topic: closed (C1 controls too).
    let (mut publ, _) = Client::connect(b.plain(), "pub", true).await;
    publ.publish("a/\u{85}", QosPid::AtMostOnce, "x", false)
        .await;
    publ.expect_closed().await;
    assert_eq!(b.metric("control_characters_refused_total"), 4);
    // Other characters outside ASCII are fine.
    let (mut publ, _) = Client::connect(b.plain(), "pub", true).await;
    publ.publish_acked("a/b", 1, "x").await;
    publ.publish("a/\u{e9}\u{1f600}", QosPid::AtMostOnce, "x", false)
        .await;
    publ.ping().await;
    sub.recv_publish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_characters_may_be_allowed() {
    let b = start_with("control-allowed", |c, _| {
        c.limits.reject_control_characters = false
    })
    .await;
    let (mut sub, _) = Client::connect(b.plain(), "dev\u{1}", true).await;
    let codes = sub.subscribe(1, &[("a/\u{1b}", QoS::AtMostOnce)]).await;
    assert_eq!(codes, [SubAckReturnCode::Success(QoS::AtMostOnce)]);
    let (mut publ, _) = Client::connect(b.plain(), "pub", true).await;
    publ.publish("a/\u{1b}", QosPid::AtMostOnce, "x", false)
        .await;
    let p = sub.recv_publish().await;
    assert_eq!(p.topic.as_str(), "a/\u{1b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_deeper_than_the_limit_are_refused() {
    let b = start("levels").await;
    let limit = b.config.limits.max_topic_levels;
    assert_eq!(limit, 200);
    let at_limit = vec!["l"; limit].join("/");
    let over = vec!["l"; limit + 1].join("/");
    let (mut sub, _) = Client::connect(b.plain(), "sub", true).await;
    let codes = sub
        .subscribe(
            1,
            &[
                (&over, QoS::AtMostOnce),
                (&at_limit, QoS::AtMostOnce),
                (&"/".repeat(16_000), QoS::AtMostOnce),
            ],
        )
        .await;
    assert_eq!(
        codes,
        [
            SubAckReturnCode::Failure,
            SubAckReturnCode::Success(QoS::AtMostOnce),
            SubAckReturnCode::Failure
        ]
    );
    let (mut publ, _) = Client::connect(b.plain(), "pub", true).await;
    publ.publish(&at_limit, QosPid::AtMostOnce, "deep", false)
        .await;
    assert_eq!(&sub.recv_publish().await.payload[..], b"deep");
    publ.publish(&over, QosPid::AtMostOnce, "x", false).await;
    publ.expect_closed().await;
    let mut c = connect_packet("willer", true);
    c.will = Some(will(&over, "x", QoS::AtMostOnce, false));
    assert_eq!(expect_connack(&b, c).await, None);
    assert_eq!(b.metric("topic_levels_refused_total"), 4);
}

/// mosquitto's `02-subscribe-long-topic`, taken to the protocol's limit: with the level limit
/// raised, a filter of 65,535 '/' (65,536 empty levels) and deep `+/+/…` filters are matched,
/// unsubscribed and dropped with a clean session, and the broker keeps serving. A trie that
/// recursed once per level overflowed a worker's stack here and took the process down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_of_any_depth_do_not_crash_the_broker() {
    let b = start_with("deep", |c, _| {
        c.limits.max_topic_levels = 70_000;
        c.limits.max_packet_size = 1 << 20;
    })
    .await;
    let slashes = "/".repeat(65_535);
    let pluses = vec!["+"; 16_000].join("/");
    let deep_topic = vec!["x"; 16_000].join("/");
    let (mut sub, _) = Client::connect(b.plain(), "sub", true).await;
    let codes = sub
        .subscribe(
            1,
            &[(&slashes, QoS::AtMostOnce), (&pluses, QoS::AtLeastOnce)],
        )
        .await;
    assert_eq!(
        codes,
        [
            SubAckReturnCode::Success(QoS::AtMostOnce),
            SubAckReturnCode::Success(QoS::AtLeastOnce)
        ]
    );
    let (mut publ, _) = Client::connect(b.plain(), "pub", true).await;
    publ.publish(&slashes, QosPid::AtMostOnce, "flat", false)
        .await;
    publ.publish(&deep_topic, QosPid::AtMostOnce, "plus", false)
        .await;
    assert_eq!(&sub.recv_publish().await.payload[..], b"flat");
    assert_eq!(&sub.recv_publish().await.payload[..], b"plus");
    // Unsubscribe one, then end the clean session holding the other.
    let unsub = Unsubscribe::new(pid(2), [TopicFilter::new(&slashes).unwrap()]).unwrap();
    sub.send(&Packet::Unsubscribe(unsub)).await;
    assert_eq!(sub.recv().await, Packet::UnsubAck(pid(2)));
    sub.send(&Packet::Disconnect).await;
    sub.expect_closed().await;
    b.wait_gauge("sessions_current", 1).await;
    // Still serving.
    publ.publish_acked(&deep_topic, 3, "after").await;
    let (mut other, _) = Client::connect(b.plain(), "other", true).await;
    other.ping().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_per_session_are_bounded() {
    let b = start_with("max-subs", |c, _| c.limits.max_subscriptions = 2).await;
    let (mut sub, _) = Client::connect(b.plain(), "sub", true).await;
    let codes = sub
        .subscribe(
            1,
            &[
                ("a", QoS::AtMostOnce),
                ("b", QoS::AtMostOnce),
                ("c", QoS::AtMostOnce),
            ],
        )
        .await;
    assert_eq!(
        codes,
        [
            SubAckReturnCode::Success(QoS::AtMostOnce),
            SubAckReturnCode::Success(QoS::AtMostOnce),
            SubAckReturnCode::Failure
        ]
    );
    // Replacing a held filter is not a new subscription.
    let codes = sub.subscribe(2, &[("a", QoS::AtLeastOnce)]).await;
    assert_eq!(codes, [SubAckReturnCode::Success(QoS::AtLeastOnce)]);
    assert_eq!(b.metric("subscriptions_refused_limit_total"), 1);
}
