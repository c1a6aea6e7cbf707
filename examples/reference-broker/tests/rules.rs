//! Rules (iot-sql) and their actions: scenarios 2 (greenhouse) and 3 (Sigfox into a table)
//! end to end into SQLite and /metrics, and republish, http, log and the error action.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{Client, TestBroker, http, start_with};
use mqtt_wire::{QoS, QosPid};
use reference_broker::{ActionConfig, MetricKind, RuleConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn rule(name: &str, sql: &str, actions: Vec<ActionConfig>) -> RuleConfig {
    RuleConfig {
        name: name.to_owned(),
        sql: sql.to_owned(),
        sql_version: "2016-03-23".to_owned(),
        policy: None,
        actions,
        error_action: None,
    }
}

fn store(table: &str, hash: &str, range: &str) -> ActionConfig {
    ActionConfig::Store {
        table: table.to_owned(),
        hash_key: hash.to_owned(),
        range_key: range.to_owned(),
    }
}

/// Polls until `check` holds, within the wait.
async fn eventually<F: FnMut() -> bool>(what: &str, mut check: F) {
    let deadline = tokio::time::Instant::now() + common::WAIT;
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not within the wait"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn metrics(b: &TestBroker) -> String {
    http(b.running.http_addr, "GET /metrics HTTP/1.1\r\n\r\n")
        .await
        .1
}

fn rows(b: &TestBroker, table: &str) -> Vec<(String, String, String)> {
    let conn = rusqlite::Connection::open(b.dir.join(reference_broker::DB_FILE)).unwrap();
    let Ok(mut stmt) = conn.prepare(
        "SELECT hash_key, range_key, payload FROM rule_rows WHERE table_name = ?1 ORDER BY range_key",
    ) else {
        return Vec::new(); // the table does not exist yet
    };
    stmt.query_map([table], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_2_greenhouse_metric_and_store() {
    let b = start_with("rules-greenhouse", |c, _| {
        let metric = |v: &str| ActionConfig::Metric {
            name: "ShadePosition".to_owned(),
            kind: MetricKind::Gauge,
            value: v.to_owned(),
        };
        c.rules = vec![
            rule(
                "open",
                "SELECT * FROM '/topic/Greenhouse/LuxSensors' WHERE lux > 35000",
                vec![metric("1")],
            ),
            rule(
                "close",
                "SELECT * FROM '/topic/Greenhouse/LuxSensors' WHERE lux < 35000",
                vec![metric("0")],
            ),
            rule(
                "store",
                "SELECT * FROM '/topic/Greenhouse/LuxSensors/#'",
                vec![store("GreenhouseLux", "${Thing}", "${timestamp()}")],
            ),
        ];
    })
    .await;
    let (mut probe, _) = Client::connect(b.plain(), "greenhouse_lux_probe_1", true).await;
    probe
        .publish_acked(
            "/topic/Greenhouse/LuxSensors",
            1,
            r#"{"Thing":"greenhouse_lux_probe_1","lux":40000}"#,
        )
        .await;
    let line_1 = "broker_rule_metric{name=\"ShadePosition\"} 1\n";
    let line_0 = "broker_rule_metric{name=\"ShadePosition\"} 0\n";
    let deadline = tokio::time::Instant::now() + common::WAIT;
    while !metrics(&b).await.contains(line_1) {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The range key is the millisecond timestamp, and a reading with the same keys replaces
    // the earlier one (as a DynamoDB put does): the second reading must come a millisecond
    // later to be stored beside the first.
    tokio::time::sleep(Duration::from_millis(2)).await;
    probe
        .publish_acked(
            "/topic/Greenhouse/LuxSensors",
            2,
            r#"{"Thing":"greenhouse_lux_probe_1","lux":20000}"#,
        )
        .await;
    while !metrics(&b).await.contains(line_0) {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eventually("two stored readings", || {
        rows(&b, "GreenhouseLux").len() == 2
    })
    .await;
    let stored = rows(&b, "GreenhouseLux");
    assert!(stored.iter().all(|(h, _, _)| h == "greenhouse_lux_probe_1"));
    let first: serde_json::Value = serde_json::from_str(&stored[0].2).unwrap();
    assert_eq!(first["lux"], 40000);
    assert!(
        stored[0].1.parse::<i64>().unwrap() > 1_600_000_000_000,
        "timestamp() in ms"
    );
    assert_eq!(b.metric("rules_matched_total"), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_3_sigfox_into_a_table() {
    let b = start_with("rules-sigfox", |c, _| {
        c.sigfox.secret = "0123456789abcdef0123".to_owned();
        c.rules = vec![rule(
            "sigfox_store",
            "SELECT * FROM 'sigfox'",
            vec![store("SigfoxTable", "${device}", "${timestamp()}")],
        )];
    })
    .await;
    let body = r#"{"device":"B92A4","data":"c01234","time":"1476980426","snr":"18.1","station":"1F2A","avgSnr":"20","lat":"43","lng":"1","rssi":"-120.5","seqNumber":"12"}"#;
    let request = format!(
        "POST /sigfox HTTP/1.1\r\nx-sigfox-secret: 0123456789abcdef0123\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    assert_eq!(http(b.running.http_addr, &request).await.0, 204);
    eventually("the stored callback", || rows(&b, "SigfoxTable").len() == 1).await;
    let (hash, _, payload) = rows(&b, "SigfoxTable").remove(0);
    assert_eq!(hash, "B92A4");
    let v: serde_json::Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(
        (v["seqNumber"].clone(), v["rssi"].clone()),
        (serde_json::json!(12), serde_json::json!(-120.5))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn republish_http_log_and_error_action() {
    // A webhook that records one request and answers 200.
    let hook = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_addr = hook.local_addr().unwrap();
    let received = tokio::spawn(async move {
        let (mut s, _) = hook.accept().await.unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 1024];
        while !String::from_utf8_lossy(&buf).contains("}") {
            let n = s.read(&mut chunk).await.unwrap();
            assert!(n > 0);
            buf.extend_from_slice(&chunk[..n]);
        }
        s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
            .await
            .unwrap();
        String::from_utf8(buf).unwrap()
    });
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap(); // closed again
    let b = start_with("rules-actions", move |c, _| {
        let mut headers = BTreeMap::new();
        headers.insert("x-token".to_owned(), "token-${deviceId}".to_owned());
        let mut failing = rule(
            "failing",
            "SELECT deviceId FROM 'solarPanels/+'",
            vec![ActionConfig::Http {
                url: format!("http://{dead}/never"),
                headers: BTreeMap::new(),
                ca_file: None,
            }],
        );
        failing.error_action = Some(ActionConfig::Republish {
            topic: "errors/${topic(2)}".to_owned(),
            qos: 1,
        });
        let mut denied = rule(
            "denied",
            "SELECT * FROM 'solarPanels/+'",
            vec![ActionConfig::Republish {
                topic: "forbidden/x".to_owned(),
                qos: 0,
            }],
        );
        denied.policy = Some("button".to_owned()); // allows no such publish
        c.rules = vec![
            rule(
                "salesforce",
                "SELECT deviceId, watts FROM 'solarPanels/+' WHERE watts > 50",
                vec![
                    ActionConfig::Http {
                        url: format!("http://{hook_addr}/services/data"),
                        headers,
                        ca_file: None,
                    },
                    ActionConfig::Republish {
                        topic: "out/${deviceId}".to_owned(),
                        qos: 1,
                    },
                    ActionConfig::Log {
                        file: "rules.log".into(),
                    },
                ],
            ),
            failing,
            denied,
        ];
    })
    .await;
    let (mut sub, _) = Client::connect(b.plain(), "sub", true).await;
    sub.subscribe(
        1,
        &[
            ("out/#", QoS::AtLeastOnce),
            ("errors/#", QoS::AtMostOnce),
            ("forbidden/#", QoS::AtMostOnce),
        ],
    )
    .await;
    let (mut panel, _) = Client::connect(b.plain(), "panel", true).await;
    panel
        .publish_acked(
            "solarPanels/D123456",
            1,
            r#"{"deviceId":"D123456","volts":70,"amps":1.5,"watts":90,"latitude":"45.0000","longitude":"-122.0000","timestamp":"1493750762445"}"#,
        )
        .await;
    let request = tokio::time::timeout(common::WAIT, received)
        .await
        .unwrap()
        .unwrap();
    assert!(
        request.starts_with("POST /services/data HTTP/1.1\r\n"),
        "{request}"
    );
    assert!(
        request.contains("\r\nx-token: token-D123456\r\n"),
        "{request}"
    );
    assert!(
        request.ends_with(r#"{"deviceId":"D123456","watts":90}"#),
        "{request}"
    );

    let mut got = BTreeMap::new();
    for _ in 0..2 {
        let p = sub.recv_publish().await;
        got.insert(
            p.topic.as_str().to_owned(),
            String::from_utf8(p.payload.to_vec()).unwrap(),
        );
    }
    assert_eq!(got["out/D123456"], r#"{"deviceId":"D123456","watts":90}"#);
    let error: serde_json::Value = serde_json::from_str(&got["errors/D123456"]).unwrap();
    assert_eq!(error["ruleName"], "failing");
    assert_eq!(error["topic"], "solarPanels/D123456");
    assert_eq!(error["clientId"], "panel");
    assert_eq!(error["failures"][0]["failedAction"], "HttpAction");
    eventually("the log line", || {
        std::fs::read_to_string(b.dir.join("rules.log")).is_ok_and(|t| t.lines().count() == 1)
    })
    .await;
    let line: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(b.dir.join("rules.log"))
            .unwrap()
            .trim(),
    )
    .unwrap();
    assert_eq!(line["rule"], "salesforce");
    assert_eq!(
        line["output"],
        serde_json::json!({"deviceId":"D123456","watts":90})
    );
    // The rule without the right to publish on forbidden/x failed its action (nothing arrived
    // there: the next message is the marker).
    b.wait_metric("rule_actions_failed_total", 2).await;
    panel
        .publish("forbidden/marker", QosPid::AtMostOnce, "m", false)
        .await;
    assert_eq!(sub.recv_publish().await.topic.as_str(), "forbidden/marker");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_rules_are_refused_at_start() {
    let dir = common::temp_dir("rules-invalid");
    let mut config = reference_broker::Config {
        data_dir: dir.clone(),
        mqtt_listen: "127.0.0.1:0".parse().unwrap(),
        plain_listen: None,
        http_listen: "127.0.0.1:0".parse().unwrap(),
        ..Default::default()
    };
    reference_broker::setup::init_data_dir(&mut config, false).unwrap();
    config.rules = vec![rule("bad", "SELEKT * FROM 'x'", vec![])];
    match reference_broker::start(config.clone()).await {
        Err(reference_broker::StartError::Rule(e)) => assert_eq!(e.rule, "bad"),
        other => panic!("{other:?}"),
    }
    config.rules = vec![rule("v", "SELECT * FROM 'x'", vec![])];
    config.rules[0].sql_version = "2020-01-01".to_owned();
    assert!(matches!(
        reference_broker::start(config.clone()).await,
        Err(reference_broker::StartError::Rule(_))
    ));
    for (url, header, expected) in [
        ("https://x/", "x-ok", "https needs ca_file"),
        ("ftp://x/", "x-ok", "only http:// and https://"),
        (
            "http://x/",
            "x bad",
            "http header \"x bad\": invalid HTTP header name",
        ),
    ] {
        config.rules = vec![rule(
            "h",
            "SELECT * FROM 'x'",
            vec![ActionConfig::Http {
                url: url.into(),
                headers: BTreeMap::from([(header.to_owned(), "v".to_owned())]),
                ca_file: None,
            }],
        )];
        match reference_broker::start(config.clone()).await {
            Err(reference_broker::StartError::Rule(e)) => {
                assert!(e.message.contains(expected), "{}", e.message)
            }
            other => panic!("{other:?}"),
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_reload_from_the_config_file() {
    let rule_toml = |topic: &str| {
        format!(
            "reload_watch_secs = 0\n[[rules]]\nname = \"fwd\"\nsql = \"SELECT * FROM 'in/#'\"\nactions = [{{ type = \"republish\", topic = \"{topic}\" }}]\n"
        )
    };
    let first = rule_toml("out/first");
    let b = start_with("rules-reload", move |c, dir| {
        let path = dir.join("broker.toml");
        std::fs::write(&path, &first).unwrap();
        let file = reference_broker::Config::load(&path).unwrap();
        c.rules = file.rules;
        c.reload_watch_secs = 0;
        c.source = file.source;
    })
    .await;
    let (mut sub, _) = Client::connect(b.plain(), "sub", true).await;
    sub.subscribe(1, &[("out/#", QoS::AtMostOnce)]).await;
    let (mut publ, _) = Client::connect(b.plain(), "pub", true).await;
    publ.publish_acked("in/x", 1, "a").await;
    assert_eq!(sub.recv_publish().await.topic.as_str(), "out/first");

    std::fs::write(b.dir.join("broker.toml"), rule_toml("out/second")).unwrap();
    b.running.reload().unwrap();
    publ.publish_acked("in/x", 2, "b").await;
    assert_eq!(sub.recv_publish().await.topic.as_str(), "out/second");

    // A rule that does not compile is refused, and the previous rules stay.
    std::fs::write(
        b.dir.join("broker.toml"),
        "[[rules]]\nname = \"bad\"\nsql = \"SELEKT\"\n",
    )
    .unwrap();
    assert!(matches!(
        b.running.reload(),
        Err(reference_broker::StartError::Rule(_))
    ));
    publ.publish_acked("in/x", 3, "c").await;
    assert_eq!(sub.recv_publish().await.topic.as_str(), "out/second");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_webhook_verified_by_x509_chain() {
    use std::sync::{Arc, Mutex};
    // An HTTPS endpoint with the development server certificate (localhost).
    let slot: Arc<Mutex<Option<(std::net::TcpListener, std::path::PathBuf)>>> = Arc::default();
    let slot2 = Arc::clone(&slot);
    let b = start_with("rules-https", move |c, dir| {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        *slot2.lock().unwrap() = Some((listener, dir.to_path_buf()));
        c.rules = vec![rule(
            "webhook",
            "SELECT deviceId FROM 'solarPanels/+'",
            vec![ActionConfig::Http {
                url: format!("https://localhost:{port}/hook"),
                headers: BTreeMap::new(),
                ca_file: Some(dir.join("ca.pem")),
            }],
        )];
    })
    .await;
    let (listener, dir) = slot.lock().unwrap().take().unwrap();
    listener.set_nonblocking(true).unwrap();
    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
    use rustls::pki_types::pem::PemObject;
    let chain = rustls::pki_types::CertificateDer::pem_slice_iter(
        &std::fs::read(dir.join("server.pem")).unwrap(),
    )
    .map(Result::unwrap)
    .collect();
    let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(
        &std::fs::read(dir.join("server.key")).unwrap(),
    )
    .unwrap();
    let server = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
    let received = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut s = acceptor.accept(tcp).await.unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 1024];
        while !String::from_utf8_lossy(&buf).ends_with('}') {
            let n = s.read(&mut chunk).await.unwrap();
            assert!(n > 0);
            buf.extend_from_slice(&chunk[..n]);
        }
        s.write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
            .await
            .unwrap();
        s.shutdown().await.unwrap();
        String::from_utf8(buf).unwrap()
    });
    let (mut panel, _) = Client::connect(b.plain(), "panel", true).await;
    panel
        .publish_acked("solarPanels/D123456", 1, r#"{"deviceId":"D123456"}"#)
        .await;
    let request = tokio::time::timeout(common::WAIT, received)
        .await
        .unwrap()
        .unwrap();
    assert!(request.starts_with("POST /hook HTTP/1.1\r\n"), "{request}");
    assert!(request.ends_with(r#"{"deviceId":"D123456"}"#), "{request}");
    b.wait_metric("rules_matched_total", 1).await;
    assert_eq!(b.metric("rule_actions_failed_total"), 0);
}
