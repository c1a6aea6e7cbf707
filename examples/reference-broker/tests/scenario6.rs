//! Scenario 6 (SCENARIOS.md §6): a real `mosquitto` (Debian package) bridges to the reference
//! broker over TLS with a device certificate, client id `bridgeawsiot`, clean session,
//! topics `awsiot_to_localgateway in 1`, `localgateway_to_awsiot out 1`, `both_directions both 1`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{Client, start_with};
use mqtt_wire::{QoS, QosPid};

/// Subscribing to `localgateway_to_awsiot` is allowed, so only the bridge's direction keeps it
/// from flowing inwards (the test checks that).
const BRIDGE_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:us-east-1:123456789012:client/bridgeawsiot"},
 {"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":[
   "arn:aws:iot:us-east-1:123456789012:topic/localgateway_to_awsiot",
   "arn:aws:iot:us-east-1:123456789012:topic/both_directions",
   "arn:aws:iot:us-east-1:123456789012:topic/awsiot_to_localgateway"]},
 {"Effect":"Allow","Action":"iot:Subscribe","Resource":[
   "arn:aws:iot:us-east-1:123456789012:topicfilter/awsiot_to_localgateway",
   "arn:aws:iot:us-east-1:123456789012:topicfilter/localgateway_to_awsiot",
   "arn:aws:iot:us-east-1:123456789012:topicfilter/both_directions"]}]}"#;

struct Mosquitto(Child);

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Publishes on one side until the other side receives it (the bridge subscribes
/// asynchronously after connecting; nothing observable says when it is done).
async fn until_received(from: &mut Client, to: &mut Client, topic: &str, payload: &str) {
    let deadline = tokio::time::Instant::now() + common::WAIT;
    loop {
        from.publish(topic, QosPid::AtMostOnce, payload, false)
            .await;
        from.ping().await;
        while let Ok(Some(mqtt_wire::Packet::Publish(p))) =
            tokio::time::timeout(Duration::from_millis(300), to.next()).await
        {
            // Earlier steps' retries may still arrive; skip them.
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
async fn mosquitto_bridges_in_both_directions() {
    let b = start_with("scenario6", |_, dir| {
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
    .await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let d = b.dir.display();
    let conf = format!(
        "listener {port} 127.0.0.1
allow_anonymous true
persistence false
connection awsiot
address 127.0.0.1:{remote}
bridge_protocol_version mqttv311
bridge_cafile {d}/ca.pem
bridge_certfile {d}/devices/button-1.pem
bridge_keyfile {d}/devices/button-1.key
remote_clientid bridgeawsiot
cleansession true
try_private false
notifications false
start_type automatic
restart_timeout 1
topic awsiot_to_localgateway in 1
topic localgateway_to_awsiot out 1
topic both_directions both 1
",
        remote = b.running.mqtt_addr.port()
    );
    std::fs::write(b.dir.join("mosquitto.conf"), conf).unwrap();
    let _mosquitto = Mosquitto(
        Command::new("mosquitto")
            .arg("-c")
            .arg(b.dir.join("mosquitto.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("install mosquitto (the Debian package)"),
    );
    // mosquitto's own listener comes up first; wait until it accepts.
    let local_addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let deadline = tokio::time::Instant::now() + common::WAIT;
    while tokio::net::TcpStream::connect(local_addr).await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "mosquitto did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Publishers and subscribers are separate clients, so that a publisher's own
    // subscription never interleaves with what the test waits for.
    let (mut local_sub, _) = Client::connect(local_addr, "local-sub", true).await;
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
    let (mut local_pub, _) = Client::connect(local_addr, "local-pub", true).await;
    let (mut cloud_sub, _) = Client::connect(b.plain(), "cloud-sub", true).await;
    cloud_sub
        .subscribe(
            1,
            &[
                ("localgateway_to_awsiot", QoS::AtMostOnce),
                ("both_directions", QoS::AtMostOnce),
            ],
        )
        .await;
    let (mut cloud_pub, _) = Client::connect(b.plain(), "cloud-pub", true).await;
    b.wait_metric("connects_accepted_total", 3).await; // cloud-sub, cloud-pub and the bridge

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
    // Directions are respected: `localgateway_to_awsiot` published here does not go down.
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
        // Retries of the earlier steps may still be queued ahead of the marker; "wrong-way"
        // would come before it if the bridge forwarded an `out` topic inwards.
        let p = local_sub.recv_publish().await;
        match (p.topic.as_str(), &p.payload[..]) {
            ("awsiot_to_localgateway", b"marker") => break,
            ("awsiot_to_localgateway", b"in") | ("localgateway_to_awsiot", b"out") => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    until_received(&mut cloud_pub, &mut local_sub, "both_directions", "down").await;
    until_received(&mut local_pub, &mut cloud_sub, "both_directions", "up").await;
}
