//! The broker's own bridge (scenario 6's topics) to a second reference broker over TLS with a
//! client certificate; the remote's certificate is verified by x509-chain.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

mod common;

use std::time::Duration;

use common::{Client, TestBroker, start_with};
use mqtt_wire::{QoS, QosPid};
use reference_broker::{BridgeConfig, BridgeDirection, BridgeTls, BridgeTopic};

const BRIDGE_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:us-east-1:123456789012:client/bridgeawsiot"},
 {"Effect":"Allow","Action":["iot:Publish","iot:Receive","iot:Subscribe"],"Resource":[
   "arn:aws:iot:us-east-1:123456789012:topic/*",
   "arn:aws:iot:us-east-1:123456789012:topicfilter/*"]}]}"#;

async fn remote() -> TestBroker {
    start_with("bridge-remote", |_, dir| {
        std::fs::write(dir.join("policies/bridge.json"), BRIDGE_POLICY).unwrap();
        let path = dir.join("registry.json");
        let mut registry: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        registry["policies"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({"name": "bridge", "file": "policies/bridge.json"}));
        registry["certificates"][0]["policies"] = serde_json::json!(["bridge"]);
        std::fs::write(&path, serde_json::to_vec_pretty(&registry).unwrap()).unwrap();
    })
    .await
}

fn bridge(remote: &TestBroker, ca_dir: &std::path::Path) -> BridgeConfig {
    let topic = |pattern: &str, direction| BridgeTopic {
        pattern: pattern.to_owned(),
        direction,
        qos: 1,
    };
    BridgeConfig {
        name: "awsiot".to_owned(),
        address: remote.running.mqtt_addr.to_string(),
        client_id: "bridgeawsiot".to_owned(),
        clean_session: true,
        keep_alive: 60,
        tls: Some(BridgeTls {
            ca_file: ca_dir.join("ca.pem"),
            cert_file: remote.dir.join("devices/button-1.pem"),
            key_file: remote.dir.join("devices/button-1.key"),
            server_name: Some("localhost".to_owned()),
        }),
        policy: "plain-default".to_owned(),
        topics: vec![
            topic("awsiot_to_localgateway", BridgeDirection::In),
            topic("localgateway_to_awsiot", BridgeDirection::Out),
            topic("both_directions", BridgeDirection::Both),
        ],
    }
}

async fn until_received(from: &mut Client, to: &mut Client, topic: &str, payload: &str) {
    let deadline = tokio::time::Instant::now() + common::WAIT;
    loop {
        from.publish(topic, QosPid::AtMostOnce, payload, false)
            .await;
        from.ping().await;
        while let Ok(Some(mqtt_wire::Packet::Publish(p))) =
            tokio::time::timeout(Duration::from_millis(300), to.next()).await
        {
            if (p.topic.as_str(), &p.payload[..]) == (topic, payload.as_bytes()) {
                return;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{topic} never crossed the bridge"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bridge_to_a_remote_broker_over_tls() {
    let cloud = remote().await;
    let cloud_dir = cloud.dir.clone();
    let config = bridge(&cloud, &cloud_dir);
    let local = start_with("bridge-local", move |c, _| c.bridges = vec![config]).await;
    local.wait_metric("bridge_connects_total", 1).await;

    let (mut local_sub, _) = Client::connect(local.plain(), "local-sub", true).await;
    local_sub
        .subscribe(
            1,
            &[
                ("awsiot_to_localgateway", QoS::AtLeastOnce),
                ("both_directions", QoS::AtLeastOnce),
                ("localgateway_to_awsiot", QoS::AtLeastOnce),
            ],
        )
        .await;
    let (mut local_pub, _) = Client::connect(local.plain(), "local-pub", true).await;
    let (mut cloud_sub, _) = Client::connect(cloud.plain(), "cloud-sub", true).await;
    cloud_sub
        .subscribe(
            1,
            &[
                ("localgateway_to_awsiot", QoS::AtMostOnce),
                ("both_directions", QoS::AtMostOnce),
            ],
        )
        .await;
    let (mut cloud_pub, _) = Client::connect(cloud.plain(), "cloud-pub", true).await;

    until_received(
        &mut cloud_pub,
        &mut local_sub,
        "awsiot_to_localgateway",
        "in",
    )
    .await;
    until_received(
        &mut local_pub,
        &mut cloud_sub,
        "localgateway_to_awsiot",
        "out",
    )
    .await;
    // QoS 1 out: acknowledged by the remote.
    local_pub
        .publish_acked("localgateway_to_awsiot", 7, "q1")
        .await;
    loop {
        let p = cloud_sub.recv_publish().await;
        if &p.payload[..] == b"q1" {
            break;
        }
    }
    // An `out` topic published remotely does not come in.
    cloud_pub
        .publish(
            "localgateway_to_awsiot",
            QosPid::AtMostOnce,
            "wrong-way",
            false,
        )
        .await;
    cloud_pub
        .publish(
            "awsiot_to_localgateway",
            QosPid::AtMostOnce,
            "marker",
            false,
        )
        .await;
    loop {
        let p = local_sub.recv_publish().await;
        match (p.topic.as_str(), &p.payload[..]) {
            ("awsiot_to_localgateway", b"marker") => break,
            ("awsiot_to_localgateway", b"in") | ("localgateway_to_awsiot", b"out" | b"q1") => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    until_received(&mut cloud_pub, &mut local_sub, "both_directions", "down").await;
    until_received(&mut local_pub, &mut cloud_sub, "both_directions", "up").await;
    // The remote echoes `both` messages back (no "no local" in 3.1.1); the bridge drops the
    // echo, so local subscribers see "up" once: after one more "up" the next is the marker.
    local_pub
        .publish("both_directions", QosPid::AtMostOnce, "up-once", false)
        .await;
    local_pub
        .publish("awsiot_to_localgateway", QosPid::AtMostOnce, "m2", false)
        .await;
    let mut seen = Vec::new();
    loop {
        let p = local_sub.recv_publish().await;
        let item = (
            p.topic.as_str().to_owned(),
            String::from_utf8(p.payload.to_vec()).unwrap(),
        );
        if item.1 == "m2" {
            break;
        }
        seen.push(item);
    }
    // (Retries of "up" may precede; "up-once" must appear exactly once.)
    assert_eq!(
        seen.iter().filter(|(_, m)| m == "up-once").count(),
        1,
        "{seen:?}"
    );
    assert_eq!(local.metric("bridge_connects_total"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bridge_refuses_a_remote_not_signed_by_its_ca() {
    let cloud = remote().await;
    let other = start_with("bridge-otherca", |_, _| {}).await;
    // The CA file of another PKI: x509-chain refuses the remote's certificate.
    let config = bridge(&cloud, &other.dir);
    let local = start_with("bridge-refused", move |c, _| c.bridges = vec![config]).await;
    local.wait_metric("bridge_disconnects_total", 1).await;
    assert_eq!(local.metric("bridge_connects_total"), 0);
}
