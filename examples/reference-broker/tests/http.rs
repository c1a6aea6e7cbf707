//! The HTTP endpoints: /healthz, /metrics, and Sigfox callbacks into MQTT.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

mod common;

use common::{Client, http, start_with};
use mqtt_wire::{QoS, QosPid};

const SECRET: &str = "0123456789abcdef0123";

fn post(path: &str, secret: &str, body: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nx-sigfox-secret: {secret}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
}

async fn broker(name: &str) -> common::TestBroker {
    start_with(name, |c, _| {
        c.sigfox.secret = SECRET.to_owned();
        c.sigfox.topic = "sigfox/{device}".to_owned();
        c.sigfox.formats.insert(
            "5f1a".to_owned(),
            "b1::bool:7 b2::bool:6 i1:1:uint:16".to_owned(),
        );
        c.sigfox
            .downlinks
            .insert("B92A4".to_owned(), "0011223344556677".to_owned());
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_metrics_and_errors() {
    let b = broker("http-basic").await;
    let a = b.running.http_addr;
    assert_eq!(
        http(a, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await,
        (200, "ok\n".to_owned())
    );
    let (status, body) = http(a, "GET /metrics HTTP/1.1\r\n\r\n").await;
    assert_eq!(status, 200);
    assert!(
        body.contains("# TYPE broker_connections_current gauge\nbroker_connections_current 0\n")
    );
    assert!(
        body.contains(
            "# TYPE broker_denied_publish_total counter\nbroker_denied_publish_total 0\n"
        )
    );
    assert_eq!(http(a, "GET /nope HTTP/1.1\r\n\r\n").await.0, 404);
    assert_eq!(http(a, "DELETE /healthz HTTP/1.1\r\n\r\n").await.0, 405);
    assert_eq!(http(a, "BAD\0 / HTTP/1.1\r\n\r\n").await.0, 400);
    assert_eq!(
        http(
            a,
            "POST /sigfox HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n"
        )
        .await
        .0,
        501
    );
    assert_eq!(
        http(a, "POST /sigfox HTTP/1.1\r\ncontent-length: 999999\r\n\r\n")
            .await
            .0,
        413
    );
    let huge = format!("GET / HTTP/1.1\r\nx: {}\r\n\r\n", "a".repeat(9000));
    assert_eq!(http(a, &huge).await.0, 431);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigfox_callbacks_are_published_once() {
    let b = broker("http-sigfox").await;
    let a = b.running.http_addr;
    let (mut sub, _) = Client::connect(b.plain(), "sub", true).await;
    sub.subscribe(1, &[("sigfox/#", QoS::AtLeastOnce)]).await;
    let body = r#"{"device":"B92A4","deviceTypeId":"5f1a","data":"C01234","time":"1476980426","seqNumber":"12"}"#;
    assert_eq!(
        http(a, &post("/sigfox", "wrong-secret-wrong", body))
            .await
            .0,
        401
    );
    assert_eq!(http(a, &post("/sigfox", SECRET, "{not json")).await.0, 400);
    assert_eq!(
        http(a, &post("/sigfox", SECRET, body)).await,
        (204, String::new())
    );
    let p = sub.recv_publish().await;
    assert_eq!(p.topic.as_str(), "sigfox/B92A4");
    let json: serde_json::Value = serde_json::from_slice(&p.payload).unwrap();
    assert_eq!(
        json["decoded"],
        serde_json::json!({"b1": true, "b2": true, "i1": 4660})
    );
    assert_eq!(json["seqNumber"], 12);
    sub.send(&mqtt_wire::Packet::PubAck(p.qos_pid.packet_id().unwrap()))
        .await;
    // The same (device, seqNumber) again: acknowledged, not published.
    assert_eq!(http(a, &post("/sigfox", SECRET, body)).await.0, 204);
    assert_eq!(b.metric("sigfox_duplicates_total"), 1);
    assert_eq!(b.metric("sigfox_rejected_total"), 2);
    let (mut publ, _) = Client::connect(b.plain(), "pub", true).await;
    publ.publish("sigfox/marker", QosPid::AtMostOnce, "m", false)
        .await;
    assert_eq!(sub.recv_publish().await.topic.as_str(), "sigfox/marker");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bidir_replies_with_configured_or_retained_downlink() {
    let b = broker("http-bidir").await;
    let a = b.running.http_addr;
    let configured = r#"{"device":"B92A4","data":"00","seqNumber":"1","ack":"true"}"#;
    assert_eq!(
        http(a, &post("/sigfox/bidir", SECRET, configured)).await,
        (
            200,
            r#"{"B92A4":{"downlinkData":"0011223344556677"}}"#.to_owned()
        )
    );
    let none = r#"{"device":"1234","data":"00","seqNumber":"1","ack":"true"}"#;
    assert_eq!(
        http(a, &post("/sigfox/bidir", SECRET, none)).await,
        (200, r#"{"1234":{"noData":true}}"#.to_owned())
    );
    // A retained message on sigfox/downlink/<device> is the downlink.
    let (mut publ, _) = Client::connect(b.plain(), "ops", true).await;
    publ.publish(
        "sigfox/downlink/1234",
        QosPid::AtLeastOnce(common::pid(1)),
        "a1b2c3d4e5f60718",
        true,
    )
    .await;
    publ.recv().await;
    let again = r#"{"device":"1234","data":"00","seqNumber":"2","ack":"true"}"#;
    assert_eq!(
        http(a, &post("/sigfox/bidir", SECRET, again)).await,
        (
            200,
            r#"{"1234":{"downlinkData":"a1b2c3d4e5f60718"}}"#.to_owned()
        )
    );
    // No ack requested: nothing to send.
    let no_ack = r#"{"device":"1234","data":"00","seqNumber":"3","ack":"false"}"#;
    assert_eq!(
        http(a, &post("/sigfox/bidir", SECRET, no_ack)).await,
        (204, String::new())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigfox_form_bodies_are_accepted() {
    let b = broker("http-form").await;
    let (mut sub, _) = Client::connect(b.plain(), "sub", true).await;
    sub.subscribe(1, &[("sigfox/#", QoS::AtMostOnce)]).await;
    let body = "device=1A2B&data=00ff&time=1476980426&seqNumber=7";
    let request = format!(
        "POST /sigfox HTTP/1.1\r\nx-sigfox-secret: {SECRET}\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    assert_eq!(
        http(b.running.http_addr, &request).await,
        (204, String::new())
    );
    let p = sub.recv_publish().await;
    assert_eq!(p.topic.as_str(), "sigfox/1A2B");
    let json: serde_json::Value = serde_json::from_slice(&p.payload).unwrap();
    assert_eq!(
        (json["data"].clone(), json["seqNumber"].clone()),
        (serde_json::json!("00ff"), serde_json::json!(7))
    );
}
