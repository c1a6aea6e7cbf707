//! Shared by the integration tests: an in-process broker on port 0 in a fresh data directory,
//! and a raw MQTT client on mqtt-wire for exact protocol checks.
#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
#![allow(unreachable_pub)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use mqtt_wire::{
    ConnAck, Connect, DecodeOptions, Encode, MqttString, Packet, PacketId, Publish, QoS, QosPid,
    SubAckReturnCode, Subscribe, SubscribeFilter, TopicFilter, TopicName, Will, decode,
};
use reference_broker::{Config, RunningBroker};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Generous: the tests run on a loaded 2-core machine. Waits end as soon as the event happens.
pub const WAIT: Duration = Duration::from_secs(10);

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A fresh, empty directory under the system temp dir.
pub fn temp_dir(name: &str) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!(
        "reference-broker-test-{}-{name}-{n}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A broker with its data directory.
pub struct TestBroker {
    pub running: RunningBroker,
    pub config: Config,
    pub dir: PathBuf,
}

impl Drop for TestBroker {
    fn drop(&mut self) {
        self.running.shutdown();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl TestBroker {
    /// Stops the broker (saving its state) and starts a new one on the same data directory.
    pub async fn restart(&mut self) {
        self.running.stop().await.unwrap();
        self.running = reference_broker::start(self.config.clone()).await.unwrap();
    }

    pub fn plain(&self) -> SocketAddr {
        self.running.plain_addr.unwrap()
    }

    pub fn metric(&self, name: &str) -> u64 {
        let text = self.running.metrics.render();
        let prefix = format!("broker_{name} ");
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("no metric {name}"))
            .parse()
            .unwrap()
    }

    /// Waits until a counter reaches at least `value`.
    pub async fn wait_metric(&self, name: &str, value: u64) {
        self.wait_until(name, |v| v >= value).await;
    }

    /// Waits until a gauge is exactly `value`.
    pub async fn wait_gauge(&self, name: &str, value: u64) {
        self.wait_until(name, |v| v == value).await;
    }

    async fn wait_until(&self, name: &str, ok: impl Fn(u64) -> bool) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while !ok(self.metric(name)) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "metric {name} stayed at {} without reaching the expected value",
                self.metric(name)
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// The defaults, on `dir` (initialised: development PKI, registry, policies), with every
/// listener on 127.0.0.1:0.
pub fn local_config(dir: &std::path::Path) -> Config {
    let mut config = Config {
        data_dir: dir.to_path_buf(),
        mqtt_listen: "127.0.0.1:0".parse().unwrap(),
        plain_listen: Some("127.0.0.1:0".parse().unwrap()),
        http_listen: "127.0.0.1:0".parse().unwrap(),
        ..Config::default()
    };
    reference_broker::setup::init_data_dir(&mut config, false).unwrap();
    config
}

/// Starts a broker on 127.0.0.1:0 for every listener; `before` may edit the config and the
/// data directory (already initialised) before it starts.
pub async fn start_with(
    name: &str,
    before: impl FnOnce(&mut Config, &std::path::Path),
) -> TestBroker {
    let dir = temp_dir(name);
    let mut config = local_config(&dir);
    before(&mut config, &dir);
    config.validate().unwrap();
    let running = reference_broker::start(config.clone()).await.unwrap();
    TestBroker {
        running,
        config,
        dir,
    }
}

/// Starts the broker binary (as its own process, to be killed) with `config` and reads its
/// plain listener's address from the banner.
pub async fn spawn_broker_process(config: &std::path::Path) -> (tokio::process::Child, SocketAddr) {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_reference-broker"));
    command.arg("--config").arg(config);
    command.stderr(std::process::Stdio::null());
    spawn_and_read_banner(command).await
}

/// Starts `command` (the broker binary, stdout piped here) and reads its plain listener's
/// address from the banner.
pub async fn spawn_and_read_banner(
    mut command: tokio::process::Command,
) -> (tokio::process::Child, SocketAddr) {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let addr = tokio::time::timeout(WAIT, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.trim_start().starts_with("plain MQTT") {
                let addr = line.rsplit(": ").next().unwrap();
                return addr.trim().parse::<SocketAddr>().unwrap();
            }
        }
        panic!("the broker exited before printing its addresses");
    })
    .await
    .expect("the broker did not start in time");
    // Keep draining the banner so the broker never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, addr)
}

pub async fn start(name: &str) -> TestBroker {
    start_with(name, |_, _| {}).await
}

pub trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

/// A raw MQTT client on a plain TCP or TLS connection.
pub struct Client {
    pub stream: Box<dyn Io>,
    buf: BytesMut,
}

pub fn topic(s: &str) -> TopicName {
    TopicName::new(s).unwrap()
}

pub fn pid(n: u16) -> PacketId {
    PacketId::new(n).unwrap()
}

pub fn connect_packet(client_id: &str, clean: bool) -> Connect {
    let mut c = Connect::new(MqttString::new(client_id).unwrap(), 60);
    c.clean_session = clean;
    c
}

impl Client {
    pub async fn tcp(addr: SocketAddr) -> Client {
        let stream = tokio::time::timeout(WAIT, TcpStream::connect(addr))
            .await
            .unwrap()
            .unwrap();
        Client {
            stream: Box::new(stream),
            buf: BytesMut::new(),
        }
    }

    /// A client on an open stream.
    pub fn from_stream(stream: Box<dyn Io>) -> Client {
        Client {
            stream,
            buf: BytesMut::new(),
        }
    }

    /// Sends a packet; an error when the broker is gone.
    pub async fn try_send(&mut self, packet: &Packet) -> std::io::Result<()> {
        let mut buf = BytesMut::new();
        packet.encode(&mut buf).unwrap();
        self.stream.write_all(&buf).await
    }

    /// A TLS connection to the broker's MQTT listener with a device certificate of the
    /// development PKI (`devices/<device>.pem`).
    pub async fn tls(b: &TestBroker, device: &str) -> Client {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
        let read = |p: &str| std::fs::read(b.dir.join(p)).unwrap();
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_slice_iter(&read("ca.pem")) {
            roots.add(c.unwrap()).unwrap();
        }
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(&read(&format!("devices/{device}.pem")))
                .map(Result::unwrap)
                .collect();
        let key = PrivateKeyDer::from_pem_slice(&read(&format!("devices/{device}.key"))).unwrap();
        let config = rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .unwrap();
        let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
        let tcp = TcpStream::connect(b.running.mqtt_addr).await.unwrap();
        let name = ServerName::try_from("localhost").unwrap();
        let stream = tokio::time::timeout(WAIT, connector.connect(name, tcp))
            .await
            .unwrap()
            .unwrap();
        Client {
            stream: Box::new(stream),
            buf: BytesMut::new(),
        }
    }

    /// Connects over TLS and expects CONNACK 0.
    pub async fn tls_connect(b: &TestBroker, device: &str, client_id: &str) -> Client {
        let mut c = Client::tls(b, device).await;
        c.send(&Packet::from(connect_packet(client_id, true))).await;
        match c.recv().await {
            Packet::ConnAck(ConnAck {
                code: mqtt_wire::ConnectReturnCode::Accepted,
                ..
            }) => c,
            other => panic!("expected CONNACK 0, got {other:?}"),
        }
    }

    /// Connects and expects CONNACK 0; returns the session-present flag.
    pub async fn connect(addr: SocketAddr, client_id: &str, clean: bool) -> (Client, bool) {
        Self::connect_with(addr, connect_packet(client_id, clean)).await
    }

    pub async fn connect_with(addr: SocketAddr, connect: Connect) -> (Client, bool) {
        let mut c = Client::tcp(addr).await;
        c.send(&Packet::from(connect)).await;
        match c.recv().await {
            Packet::ConnAck(ConnAck {
                session_present,
                code: mqtt_wire::ConnectReturnCode::Accepted,
            }) => (c, session_present),
            other => panic!("expected CONNACK 0, got {other:?}"),
        }
    }

    pub async fn send(&mut self, packet: &Packet) {
        let mut buf = BytesMut::new();
        packet.encode(&mut buf).unwrap();
        self.send_raw(&buf).await;
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        tokio::time::timeout(WAIT, self.stream.write_all(bytes))
            .await
            .unwrap()
            .unwrap();
    }

    /// The next packet, or `None` if the broker closed the connection (within WAIT).
    pub async fn next(&mut self) -> Option<Packet> {
        let options = DecodeOptions::client();
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Some(p) = decode(&mut self.buf, &options).unwrap() {
                return Some(p);
            }
            let read = tokio::time::timeout_at(deadline, self.stream.read_buf(&mut self.buf))
                .await
                .expect("no packet and no close within the wait");
            match read {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }

    pub async fn recv(&mut self) -> Packet {
        self.next().await.expect("connection closed")
    }

    /// Expects the broker to close the connection (EOF or reset) without sending a packet.
    pub async fn expect_closed(&mut self) {
        if let Some(p) = self.next().await {
            panic!("expected the connection to be closed, got {p:?}");
        }
    }

    pub async fn subscribe(&mut self, id: u16, filters: &[(&str, QoS)]) -> Vec<SubAckReturnCode> {
        let sub = Subscribe::new(
            pid(id),
            filters.iter().map(|(f, q)| SubscribeFilter {
                filter: TopicFilter::new(f).unwrap(),
                qos: *q,
            }),
        )
        .unwrap();
        self.send(&Packet::Subscribe(sub)).await;
        match self.recv().await {
            Packet::SubAck(ack) => {
                assert_eq!(ack.packet_id, pid(id));
                ack.return_codes().collect()
            }
            other => panic!("expected SUBACK, got {other:?}"),
        }
    }

    pub async fn publish(&mut self, t: &str, qos_pid: QosPid, payload: &str, retain: bool) {
        let mut p = Publish::new(
            topic(t),
            qos_pid,
            Bytes::copy_from_slice(payload.as_bytes()),
        );
        p.retain = retain;
        self.send(&Packet::Publish(p)).await;
    }

    /// Publishes at QoS 1 and waits for the PUBACK.
    pub async fn publish_acked(&mut self, t: &str, id: u16, payload: &str) {
        self.publish(t, QosPid::AtLeastOnce(pid(id)), payload, false)
            .await;
        assert_eq!(self.recv().await, Packet::PubAck(pid(id)));
    }

    /// The next packet, which must be a PUBLISH.
    pub async fn recv_publish(&mut self) -> Publish {
        match self.recv().await {
            Packet::Publish(p) => p,
            other => panic!("expected PUBLISH, got {other:?}"),
        }
    }

    /// A PINGREQ round trip: everything the broker queued before it has arrived.
    pub async fn ping(&mut self) {
        self.send(&Packet::PingReq).await;
        assert_eq!(self.recv().await, Packet::PingResp);
    }
}

pub fn will(t: &str, payload: &str, qos: QoS, retain: bool) -> Will {
    Will {
        topic: topic(t),
        payload: Bytes::copy_from_slice(payload.as_bytes()),
        qos,
        retain,
    }
}

/// One HTTP/1.1 request; returns (status, body).
pub async fn http(addr: SocketAddr, request: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(WAIT, s.read_to_end(&mut out))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    let status = text[9..12].parse().unwrap();
    let body = text.split_once("\r\n\r\n").unwrap().1.to_owned();
    (status, body)
}
