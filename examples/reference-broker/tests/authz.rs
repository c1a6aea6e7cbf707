//! Authorization of every MQTT action through iot-policy, on the plain listener with a
//! restrictive `plain-default` policy.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

mod common;

use common::{Client, TestBroker, connect_packet, start_with, will};
use mqtt_wire::{ConnAck, ConnectReturnCode, Packet, QoS, QosPid, SubAckReturnCode};
use reference_broker::DenyConnect;

const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:us-east-1:123456789012:client/ok-*"},
 {"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":"arn:aws:iot:us-east-1:123456789012:topic/open/*"},
 {"Effect":"Allow","Action":"iot:Subscribe","Resource":["arn:aws:iot:us-east-1:123456789012:topicfilter/open/*","arn:aws:iot:us-east-1:123456789012:topicfilter/secret/#"]},
 {"Effect":"Deny","Action":"iot:Receive","Resource":"arn:aws:iot:us-east-1:123456789012:topic/open/hidden"}
]}"#;

async fn broker(name: &str, deny: DenyConnect) -> TestBroker {
    start_with(name, move |c, dir| {
        c.deny_connect = deny;
        std::fs::write(dir.join("policies/plain-default.json"), POLICY).unwrap();
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denied_connect_gets_connack_5_or_a_silent_close() {
    let b = broker("authz-connect", DenyConnect::Connack).await;
    let mut c = Client::tcp(b.plain()).await;
    c.send(&Packet::from(connect_packet("intruder", true)))
        .await;
    assert_eq!(
        c.recv().await,
        Packet::ConnAck(ConnAck::new(false, ConnectReturnCode::NotAuthorized))
    );
    c.expect_closed().await;
    // A Will on a topic the client may not publish to is refused with the CONNECT.
    let mut c = Client::tcp(b.plain()).await;
    let mut connect = connect_packet("ok-will", true);
    connect.will = Some(will("closed/will", "x", QoS::AtMostOnce, false));
    c.send(&Packet::from(connect)).await;
    assert_eq!(
        c.recv().await,
        Packet::ConnAck(ConnAck::new(false, ConnectReturnCode::NotAuthorized))
    );
    assert_eq!(b.metric("denied_connect_total"), 1);
    assert_eq!(b.metric("denied_publish_total"), 1);
    assert_eq!(b.metric("connects_refused_total"), 2);

    let b = broker("authz-close", DenyConnect::Close).await;
    let mut c = Client::tcp(b.plain()).await;
    c.send(&Packet::from(connect_packet("intruder", true)))
        .await;
    c.expect_closed().await;
    assert_eq!(b.metric("denied_connect_total"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_publish_and_receive_are_each_authorized() {
    let b = broker("authz-actions", DenyConnect::Connack).await;
    let (mut sub, _) = Client::connect(b.plain(), "ok-sub", true).await;
    let codes = sub
        .subscribe(
            1,
            &[
                ("open/+", QoS::AtLeastOnce),
                ("other/#", QoS::AtLeastOnce),
                ("secret/#", QoS::AtMostOnce),
            ],
        )
        .await;
    assert_eq!(
        codes,
        vec![
            SubAckReturnCode::Success(QoS::AtLeastOnce),
            SubAckReturnCode::Failure,
            SubAckReturnCode::Success(QoS::AtMostOnce)
        ]
    );
    assert_eq!(b.metric("denied_subscribe_total"), 1);

    let (mut publ, _) = Client::connect(b.plain(), "ok-pub", true).await;
    // Receive is denied for open/hidden: published (PUBACK) but not delivered.
    publ.publish_acked("open/hidden", 1, "h").await;
    publ.publish_acked("open/visible", 2, "v").await;
    let p = sub.recv_publish().await;
    assert_eq!(p.topic.as_str(), "open/visible");
    assert_eq!(b.metric("denied_receive_total"), 1);

    // Publishing where the policy does not allow it: disconnected, as AWS IoT does.
    publ.publish("secret/x", QosPid::AtMostOnce, "s", false)
        .await;
    publ.expect_closed().await;
    assert_eq!(b.metric("denied_publish_total"), 1);
    // Retained publish needs iot:RetainPublish as well.
    let (mut publ, _) = Client::connect(b.plain(), "ok-pub", true).await;
    publ.publish("open/r", QosPid::AtMostOnce, "r", true).await;
    publ.expect_closed().await;
    assert_eq!(b.metric("denied_publish_total"), 2);
    assert_eq!(b.metric("retained_current"), 0);
}
