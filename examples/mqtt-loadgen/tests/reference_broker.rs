//! End to end against the workspace's reference broker, started in process on 127.0.0.1:0
//! with a fresh data directory (its development PKI included): a tiny flood and peak over
//! the plain listener, and the mTLS connect rate with a development device certificate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use mqtt_loadgen::report::counted_total;
use mqtt_loadgen::{ErrorKind, Options, Scenario, TlsFiles};
use mqtt_wire::QoS;
use reference_broker::{Config, RunningBroker};

struct Broker {
    running: RunningBroker,
    dir: PathBuf,
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.running.shutdown();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn broker(name: &str) -> Broker {
    let dir = std::env::temp_dir().join(format!(
        "mqtt-loadgen-refbroker-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let mut config = Config {
        data_dir: dir.clone(),
        mqtt_listen: "127.0.0.1:0".parse().unwrap(),
        plain_listen: Some("127.0.0.1:0".parse().unwrap()),
        http_listen: "127.0.0.1:0".parse().unwrap(),
        ..Config::default()
    };
    // AWS IoT's 100 publishes/s per connection would throttle the service clients and the
    // flood publishers: a load test lifts it, as its README says.
    config.limits.publish_rate = 1_000_000;
    config.limits.publish_burst = 1_000_000;
    config.persistence.enabled = false;
    reference_broker::setup::init_data_dir(&mut config, false).unwrap();
    let running = reference_broker::start(config).await.unwrap();
    Broker { running, dir }
}

fn options(scenario: Scenario, addr: SocketAddr) -> Options {
    let mut o = Options::new(scenario);
    o.broker = addr;
    o.duration = Duration::from_secs(1);
    o.ramp_up = Duration::from_millis(300);
    o.drain = Duration::from_secs(2);
    o.progress = false;
    o.out = None;
    o
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_and_peak_over_plain_tcp() {
    let b = broker("plain").await;
    let addr = b.running.plain_addr.unwrap();

    let mut o = options(Scenario::Flood, addr);
    o.agents = 2;
    o.qos = QoS::AtLeastOnce;
    o.rate = Some(2_000.0);
    let r = mqtt_loadgen::run(o).await.unwrap().report;
    assert!((1_800..=2_010).contains(&r.sent), "{r:?}");
    assert_eq!(r.received, r.sent, "{r:?}");
    assert_eq!(r.error_percent, 0.0);
    assert_eq!(r.error_count, 0);

    // QoS 0 with no drain: whatever is in flight when the run ends is lost. Every error that
    // the error % counts is on the error chart: its counted lines sum to the numerator.
    let mut o = options(Scenario::Flood, addr);
    o.agents = 2;
    o.rate = Some(20_000.0);
    o.drain = Duration::ZERO;
    let r = mqtt_loadgen::run(o).await.unwrap().report;
    assert_eq!(r.lost_messages, r.sent - r.received, "{r:?}");
    assert_eq!(r.error_count, r.lost_messages + r.timeouts, "{r:?}");
    assert_eq!(
        counted_total(Scenario::Flood, &r.errors_over_time),
        r.error_count
    );
    assert_eq!(
        r.errors_over_time.last().unwrap()[ErrorKind::Lost.slot()],
        r.lost_messages
    );
    let percent = r.error_count as f64 * 100.0 / r.sent as f64;
    assert!((r.error_percent - percent).abs() < 1e-9, "{r:?}");
    eprintln!(
        "flood without drain: {} of {} lost",
        r.lost_messages, r.sent
    );

    let mut o = options(Scenario::Peak, addr);
    o.agents = 30;
    o.services = 2;
    o.rate = Some(400.0);
    let r = mqtt_loadgen::run(o).await.unwrap().report;
    assert!(r.jobs_sent > 150, "{r:?}");
    assert_eq!(r.jobs_completed, r.jobs_sent, "{r:?}");
    assert_eq!(r.received, 2 * r.jobs_sent);
    assert_eq!(
        (r.out_of_order, r.disconnects, r.lost_jobs_broker),
        (0, 0, 0)
    );
    assert_eq!(r.connected_at_end, 30);
    assert_eq!(
        counted_total(Scenario::Peak, &r.errors_over_time),
        r.error_count
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mtls_connect_rate_with_a_development_device() {
    let b = broker("tls").await;
    let mut o = options(Scenario::Connect, b.running.mqtt_addr);
    o.agents = 2;
    // The development policy lets button-1's certificate connect only as its thing name.
    o.client_id = "button-1".to_owned();
    o.tls = Some(TlsFiles {
        ca: b.dir.join("ca.pem"),
        cert: b.dir.join("devices/button-1.pem"),
        key: b.dir.join("devices/button-1.key"),
        server_name: "localhost".to_owned(),
    });
    let r = mqtt_loadgen::run(o.clone()).await.unwrap().report;
    assert!(r.connects > 2, "{r:?}");
    assert_eq!(r.connect_failures, 0, "{r:?}");
    assert_eq!(r.connect_latency_us.count, r.connects);

    // Any other client id is refused by the policy: CONNACK 5, reported as such.
    o.client_id = "lg-{n}".to_owned();
    let e = mqtt_loadgen::run(o).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "cannot connect to the broker: CONNECT refused with NotAuthorized"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_agents_keep_their_connections_alive() {
    let b = broker("keepalive").await;
    let mut o = options(Scenario::Stability, b.running.plain_addr.unwrap());
    // A keep-alive of 1 s: the broker closes a client silent for 1.5 s [MQTT-3.1.2-24], so
    // the agents (which get almost no jobs) stay connected only if they send PINGREQs.
    o.agents = 5;
    o.services = 1;
    o.keep_alive = 1;
    o.rate = Some(0.5);
    o.duration = Duration::from_secs(4);
    let r = mqtt_loadgen::run(o).await.unwrap().report;
    assert_eq!((r.disconnects, r.reconnects), (0, 0), "{r:?}");
    assert_eq!(r.connected_at_end, 5);
    assert_eq!(r.connects, 6);
}

/// Services connect before the agents' ramp-up and send nothing until the measured phase: a
/// ramp-up longer than one and a half keep-alives closed them (every job then lost) until
/// they pinged while waiting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_outlive_a_ramp_up_longer_than_their_keep_alive() {
    let b = broker("long-ramp").await;
    let mut o = options(Scenario::Peak, b.running.plain_addr.unwrap());
    o.agents = 4;
    o.services = 2;
    o.keep_alive = 1;
    o.ramp_up = Duration::from_secs(3);
    o.rate = Some(20.0);
    o.duration = Duration::from_secs(2);
    let r = mqtt_loadgen::run(o).await.unwrap().report;
    assert_eq!((r.disconnects, r.reconnects), (0, 0), "{r:?}");
    assert!(r.sent >= 20, "{r:?}");
    assert_eq!(r.received, r.sent, "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_list_alternates_connections() {
    let b = broker("list").await;
    let live = b.running.plain_addr.unwrap();
    // A port nobody listens on: every odd connection fails there.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut o = options(Scenario::Connect, live);
    o.agents = 2;
    o.more_brokers = vec![dead];
    let r = mqtt_loadgen::run(o).await.unwrap().report;
    assert!(r.connects > 5 && r.connect_failures > 5, "{r:?}");
    assert_eq!(r.broker, format!("{live},{dead}"));

    // The same broker twice: agents and services alternate over the list, jobs complete.
    let mut o = options(Scenario::Peak, live);
    o.agents = 10;
    o.services = 2;
    o.rate = Some(200.0);
    o.more_brokers = vec![live];
    let r = mqtt_loadgen::run(o).await.unwrap().report;
    assert!(r.jobs_sent > 50, "{r:?}");
    assert_eq!(r.jobs_completed, r.jobs_sent, "{r:?}");
    assert_eq!(r.connected_at_end, 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peak_in_two_processes_merges_into_one_report() {
    let b = broker("processes").await;
    let out = std::env::temp_dir().join(format!("mqtt-loadgen-processes-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let mut o = options(Scenario::Peak, b.running.plain_addr.unwrap());
    o.agents = 11;
    o.services = 2;
    o.rate = Some(300.0);
    o.ramp_up = Duration::from_secs(1);
    o.processes = 2;
    o.out = Some(out.clone());
    o.program = Some(env!("CARGO_BIN_EXE_mqtt-loadgen").into());
    let outcome = mqtt_loadgen::run(o).await.unwrap();
    let r = outcome.report;
    // Each child ran its slice (agents 0..5 and 5..11) with services of its own, at its
    // share of the rate: 150 jobs in 1 s together.
    assert!(r.jobs_sent > 120, "{r:?}");
    assert_eq!(r.jobs_completed, r.jobs_sent, "{r:?}");
    assert_eq!(r.received, 2 * r.jobs_sent, "{r:?}");
    assert_eq!(r.connected_at_end, 11, "{r:?}");
    assert_eq!(r.connects, 11 + 4, "{r:?}");
    assert_eq!(r.target_rate, Some(300.0));
    assert_eq!(r.latency_us.count, r.received);
    assert_eq!(outcome.histogram.len(), r.received);
    assert_eq!((r.error_count, r.out_of_order, r.disconnects), (0, 0, 0));
    for k in 0..2 {
        let child = out.join(format!("process-{k}"));
        for f in ["shard.json", "latency.hdr", "connect.hdr", "results.json"] {
            assert!(child.join(f).exists(), "{k}/{f}");
        }
    }
    let _ = std::fs::remove_dir_all(&out);
}
