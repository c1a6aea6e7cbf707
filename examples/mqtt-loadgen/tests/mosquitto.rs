//! End to end: tiny runs of every scenario against a mosquitto started by the test on a free
//! port (CI installs mosquitto, see .ci/run), through the library and through the binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mqtt_loadgen::report::counted_total;
use mqtt_loadgen::{ErrorKind, Options, Scenario, TlsFiles};
use mqtt_wire::QoS;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair,
};

const MOSQUITTO: &str = "/usr/sbin/mosquitto";

/// A mosquitto on 127.0.0.1:<free port>, killed on drop.
struct Mosquitto {
    child: Child,
    addr: SocketAddr,
    dir: PathBuf,
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn mosquitto(name: &str) -> Mosquitto {
    mosquitto_with(name, "max_queued_messages 1000\n")
}

fn mosquitto_with(name: &str, extra: &str) -> Mosquitto {
    let binary = if std::path::Path::new(MOSQUITTO).exists() {
        MOSQUITTO.to_owned()
    } else {
        "mosquitto".to_owned()
    };
    let dir = std::env::temp_dir().join(format!("mqtt-loadgen-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let conf = dir.join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!(
            "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_inflight_messages 32\n{extra}"
        ),
    )
    .unwrap();
    let child = Command::new(&binary)
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot start {binary} ({e}): install Debian's mosquitto (apt-get install mosquitto), as .ci/run does")
        });
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(addr).is_err() {
        assert!(
            Instant::now() < deadline,
            "mosquitto did not listen on {addr}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Mosquitto { child, addr, dir }
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
async fn flood_qos1_loses_nothing_with_an_unbounded_queue() {
    // mosquitto's max_queued_messages (1000 here) drops QoS 1 messages for a subscriber
    // slower than its publishers; 0 lifts the limit, so nothing may be lost.
    let m = mosquitto_with("flood1", "max_queued_messages 0\n");
    let mut o = options(Scenario::Flood, m.addr);
    o.agents = 3;
    o.qos = QoS::AtLeastOnce;
    let started = Instant::now();
    let r = mqtt_loadgen::run(o).await.unwrap().report;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the run did not stop by itself"
    );
    assert!(r.sent > 100, "{r:?}");
    assert_eq!(r.received, r.sent, "{r:?}");
    assert_eq!(r.lost_messages, 0);
    assert_eq!(r.error_percent, 0.0);
    assert_eq!(r.latency_us.count, r.received);
    assert_eq!(r.connects, 4); // 3 publishers + 1 subscriber
    assert_eq!((r.disconnects, r.connect_failures), (0, 0));
    assert!(r.throughput_msg_per_s > 0.0);
    assert_eq!(r.connect_rate_per_s, None);
    assert!(r.rss_per_agent_bytes.unwrap() > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_qos0_is_measured() {
    let m = mosquitto("flood0");
    let mut o = options(Scenario::Flood, m.addr);
    o.agents = 2;
    o.subscribers = 2;
    o.qos = QoS::AtMostOnce;
    let r = mqtt_loadgen::run(o).await.unwrap().report;
    assert!(r.sent > 100, "{r:?}");
    assert!(r.received > 0 && r.received <= r.sent, "{r:?}");
    assert_eq!(r.lost_messages, r.sent - r.received);
    assert_eq!(r.latency_us.count, r.received);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_keeps_to_a_given_rate() {
    let m = mosquitto("flood-rate");
    let mut o = options(Scenario::Flood, m.addr);
    o.agents = 2;
    o.qos = QoS::AtMostOnce;
    o.rate = Some(2_000.0);
    let r = mqtt_loadgen::run(o).await.unwrap().report;
    // 2 publishers × 1,000 msg/s for 1 s, paced every 5 ms.
    assert!((1_800..=2_010).contains(&r.sent), "{r:?}");
    assert_eq!(r.received, r.sent, "{r:?}");
    assert_eq!(r.error_percent, 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peak_jobs_complete_in_order() {
    let m = mosquitto("peak");
    let mut o = options(Scenario::Peak, m.addr);
    o.agents = 50;
    o.services = 2;
    o.rate = Some(400.0); // 200 jobs/s for 1 s
    let r = mqtt_loadgen::run(o).await.unwrap().report;
    assert_eq!(r.target_rate, Some(400.0));
    assert!((150..=210).contains(&r.jobs_sent), "{r:?}");
    assert_eq!(r.jobs_completed, r.jobs_sent, "{r:?}");
    // Each job is 2 messages: the job PING and the completion PING.
    assert_eq!(r.sent, 2 * r.jobs_sent);
    assert_eq!(r.received, r.sent);
    assert_eq!((r.lost_jobs_broker, r.lost_jobs_reconnecting), (0, 0));
    assert_eq!((r.out_of_order, r.timeouts, r.disconnects), (0, 0, 0));
    assert_eq!(r.connects, 52);
    assert_eq!(r.connected_at_end, 50);
    assert_eq!(r.error_percent, 0.0);
    assert_eq!(r.latency_us.count, r.received);
    assert_eq!(r.errors_over_time.last().unwrap(), &[0; 5]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peak_counts_jobs_lost_while_agents_reconnect() {
    let m = mosquitto("lost");
    let mut o = options(Scenario::Peak, m.addr);
    // Every agent has the same client id, so each connection takes over the previous one
    // ([MQTT-3.1.4-2]) and the agents keep reconnecting: QoS 0 jobs for an agent that is
    // away are dropped by the broker, and must be classified as reconnect drops.
    o.agents = 4;
    o.services = 1;
    o.qos = QoS::AtMostOnce;
    o.client_id = "churn".to_owned();
    o.rate = Some(400.0);
    let r = mqtt_loadgen::run(o).await.unwrap().report;
    assert!(r.jobs_sent > 100, "{r:?}");
    assert!(r.disconnects > 0 && r.reconnects > 0, "{r:?}");
    assert!(r.lost_jobs_reconnecting > 0, "{r:?}");
    assert!(r.lost_jobs_broker < r.lost_jobs_reconnecting, "{r:?}");
    assert_eq!(
        r.jobs_completed + r.lost_jobs_reconnecting + r.lost_jobs_broker,
        r.jobs_sent,
        "{r:?}"
    );
    assert!(r.error_percent > 0.0);
    // The error chart holds every error that the error % counts: lost messages (sent −
    // received, which is not the lost-job count: a job delivered to the wrong session is
    // received but never completed), timeouts and out-of-order jobs sum to its numerator;
    // disconnects are charted beside them.
    let last = r.errors_over_time.last().unwrap();
    assert_eq!(last[ErrorKind::Disconnect.slot()], r.disconnects);
    assert_eq!(last[ErrorKind::Lost.slot()], r.lost_messages);
    assert!(r.lost_messages > 0, "{r:?}");
    assert_eq!(r.error_count, r.lost_messages + r.timeouts + r.out_of_order);
    assert_eq!(
        counted_total(Scenario::Peak, &r.errors_over_time),
        r.error_count
    );
    let percent = r.error_count as f64 * 100.0 / r.sent as f64;
    assert!((r.error_percent - percent).abs() < 1e-9, "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_rate_plain() {
    let m = mosquitto("connect");
    let mut o = options(Scenario::Connect, m.addr);
    o.agents = 2;
    o.source_addrs = 3;
    let r = mqtt_loadgen::run(o).await.unwrap().report;
    assert!(r.connects > 10, "{r:?}");
    assert_eq!(r.connect_failures, 0);
    assert_eq!(r.connect_latency_us.count, r.connects);
    assert!(r.connect_rate_per_s.unwrap() > 10.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_broker_is_an_error() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let o = options(Scenario::Flood, SocketAddr::from(([127, 0, 0, 1], port)));
    let e = mqtt_loadgen::run(o).await.unwrap_err();
    assert!(
        e.to_string()
            .starts_with("cannot connect to the broker: TCP connect:"),
        "{e}"
    );
}

#[test]
fn binary_writes_every_output_file() {
    let m = mosquitto("binary");
    let out = m.dir.join("out");
    let output = Command::new(env!("CARGO_BIN_EXE_mqtt-loadgen"))
        .args([
            "peak",
            "--agents",
            "20",
            "--duration",
            "1",
            "--ramp-up",
            "0",
            "--drain",
            "2",
        ])
        .args([
            "--rate",
            "100",
            "--no-progress",
            "--broker",
            &m.addr.to_string(),
        ])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("seed peak:    2 x 0.9 x 20 x 240 / 36,000 = 0.24 msg/s"),
        "{stdout}"
    );
    assert!(
        stdout.contains("| scenario | agents | sent | received | error % |"),
        "{stdout}"
    );
    assert!(stdout.contains("| peak qos1 | 20 |"), "{stdout}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(json["scenario"], "peak");
    assert_eq!(json["agents"], 20);
    assert_eq!(json["lost_jobs_broker"], 0);
    assert_eq!(json["error_kinds"][0], "lost_messages");
    assert_eq!(json["error_count"], 0);
    assert!(
        std::fs::read_to_string(out.join("latency.hgrm"))
            .unwrap()
            .contains("Percentile")
    );
    for svg in ["latency.svg", "errors.svg"] {
        assert!(
            std::fs::read_to_string(out.join(svg))
                .unwrap()
                .starts_with("<svg")
        );
    }
}

#[test]
fn binary_usage_errors_exit_2() {
    let output = Command::new(env!("CARGO_BIN_EXE_mqtt-loadgen"))
        .args(["peak", "--qos", "2"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("mqtt-loadgen: --qos \"2\": must be 0 or 1"),
        "{stderr}"
    );
    let help = Command::new(env!("CARGO_BIN_EXE_mqtt-loadgen"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).starts_with("usage: mqtt-loadgen SCENARIO"));
}

/// A CA, a server certificate for localhost and a client certificate, as PEM files in `dir`.
fn pki(dir: &std::path::Path, prefix: &str) -> TlsFiles {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, format!("{prefix} test CA"));
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf = |names: Vec<String>, usage: ExtendedKeyUsagePurpose, name: &str| {
        let mut params = CertificateParams::new(names).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![usage];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &ca).unwrap();
        std::fs::write(dir.join(format!("{prefix}-{name}.pem")), cert.pem()).unwrap();
        std::fs::write(
            dir.join(format!("{prefix}-{name}.key")),
            key.serialize_pem(),
        )
        .unwrap();
    };
    leaf(
        vec!["localhost".to_owned()],
        ExtendedKeyUsagePurpose::ServerAuth,
        "server",
    );
    leaf(Vec::new(), ExtendedKeyUsagePurpose::ClientAuth, "client");
    std::fs::write(dir.join(format!("{prefix}-ca.pem")), ca.pem()).unwrap();
    TlsFiles {
        ca: dir.join(format!("{prefix}-ca.pem")),
        cert: dir.join(format!("{prefix}-client.pem")),
        key: dir.join(format!("{prefix}-client.key")),
        server_name: "localhost".to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mtls_connect_and_flood() {
    let dir = std::env::temp_dir().join(format!("mqtt-loadgen-pki-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let files = pki(&dir, "good");
    let m = mosquitto_with(
        "tls",
        &format!(
            "cafile {}\ncertfile {}\nkeyfile {}\nrequire_certificate true\n",
            files.ca.display(),
            dir.join("good-server.pem").display(),
            dir.join("good-server.key").display()
        ),
    );
    let mut o = options(Scenario::Connect, m.addr);
    o.agents = 2;
    o.tls = Some(files.clone());
    let r = mqtt_loadgen::run(o).await.unwrap().report;
    assert!(r.tls);
    assert!(r.connects > 2, "{r:?}");
    assert_eq!(r.connect_failures, 0, "{r:?}");

    let mut o = options(Scenario::Flood, m.addr);
    o.agents = 2;
    o.rate = Some(1_000.0);
    o.tls = Some(files.clone());
    let r = mqtt_loadgen::run(o).await.unwrap().report;
    assert!(r.sent > 500, "{r:?}");
    assert_eq!(r.received, r.sent, "{r:?}");

    // A client that trusts another CA refuses the broker's certificate.
    let other = pki(&dir, "other");
    let mut o = options(Scenario::Connect, m.addr);
    o.tls = Some(TlsFiles {
        ca: other.ca,
        ..files
    });
    let e = mqtt_loadgen::run(o).await.unwrap_err();
    assert!(
        e.to_string()
            .starts_with("cannot connect to the broker: TLS handshake:"),
        "{e}"
    );
    // Missing files are named.
    let mut o = options(Scenario::Connect, m.addr);
    o.tls = Some(TlsFiles {
        ca: dir.join("absent.pem"),
        cert: dir.join("good-client.pem"),
        key: dir.join("good-client.key"),
        server_name: "localhost".to_owned(),
    });
    let e = mqtt_loadgen::run(o).await.unwrap_err();
    assert!(
        e.to_string()
            .starts_with("cannot set up connections: TLS setup: CA ")
            && e.to_string().contains("absent.pem"),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
