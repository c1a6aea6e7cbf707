//! Bridges: this broker connects out to a remote broker as an MQTT 3.1.1 client and forwards
//! topics per pattern and direction, as mosquitto's bridge does. The local side is an ordinary
//! session (`$bridge/<name>`) subscribed to the `out` patterns; what comes `in` is published
//! locally, never back to the bridge. A lost connection is retried with backoff.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use iot_policy::Action;
use mqtt_wire::{
    ConnectReturnCode, DecodeOptions, Encode, MqttString, Packet, PacketId, Publish, QoS, QosPid,
    Subscribe, SubscribeFilter, TopicFilter, decode,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout};
use tokio_rustls::TlsConnector;

use crate::auth::Principal;
use crate::broker::{Link, Message, Outbound};
use crate::close::Kill;
use crate::config::{BridgeConfig, BridgeDirection};
use crate::metrics::inc;
use crate::server::Shared;
use crate::tls_client::{ClientCertificate, verifying_client};

/// Time to connect, complete TLS and receive CONNACK.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Messages sent out remembered to drop their echo (MQTT 3.1.1 has no "no local").
const ECHO_MEMORY: usize = 1024;

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Runs one bridge for as long as the broker runs.
pub(crate) async fn run(shared: Arc<Shared>, config: BridgeConfig) {
    let mut backoff = Duration::from_secs(1);
    loop {
        let started = Instant::now();
        match session(&shared, &config).await {
            Ok(()) => {}
            Err(e) => tracing::warn!(bridge = %config.name, error = %e, "bridge disconnected"),
        }
        inc(&shared.metrics.bridge_disconnects_total);
        if started.elapsed() > MAX_BACKOFF {
            backoff = Duration::from_secs(1);
        }
        tokio::time::sleep(backoff).await;
        backoff = backoff.saturating_mul(2).min(MAX_BACKOFF);
    }
}

async fn connect(config: &BridgeConfig) -> Result<Box<dyn Io>, String> {
    let tcp = TcpStream::connect(&config.address)
        .await
        .map_err(|e| format!("connect {}: {e}", config.address))?;
    let _ = tcp.set_nodelay(true);
    let Some(tls) = &config.tls else {
        return Ok(Box::new(tcp));
    };
    let client = verifying_client(
        &tls.ca_file,
        Some(ClientCertificate {
            cert_file: &tls.cert_file,
            key_file: &tls.key_file,
        }),
    )?;
    let host = tls.server_name.clone().unwrap_or_else(|| {
        config
            .address
            .rsplit_once(':')
            .map_or(config.address.clone(), |(h, _)| {
                h.trim_matches(['[', ']']).to_owned()
            })
    });
    let name = rustls::pki_types::ServerName::try_from(host.clone())
        .map_err(|e| format!("server name {host:?}: {e}"))?;
    let stream = TlsConnector::from(Arc::new(client))
        .connect(name, tcp)
        .await
        .map_err(|e| format!("TLS to {}: {e}", config.address))?;
    Ok(Box::new(stream))
}

struct Remote {
    stream: Box<dyn Io>,
    buf: BytesMut,
    options: DecodeOptions,
}

impl Remote {
    async fn send(&mut self, packet: &Packet) -> Result<(), String> {
        let mut out = BytesMut::new();
        packet.encode(&mut out).map_err(|e| e.to_string())?;
        match timeout(CONNECT_TIMEOUT, self.stream.write_all(&out)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(format!("write: {e}")),
            Err(_) => Err("the remote does not read".to_owned()),
        }
    }

    /// Cancel-safe: the only await is `read_buf`.
    async fn next(&mut self) -> Result<Packet, String> {
        loop {
            if let Some(p) = decode(&mut self.buf, &self.options).map_err(|e| e.to_string())? {
                return Ok(p);
            }
            self.buf.reserve(4096);
            match self.stream.read_buf(&mut self.buf).await {
                Ok(0) => return Err("the remote closed the connection".to_owned()),
                Ok(_) => {}
                Err(e) => return Err(format!("read: {e}")),
            }
        }
    }
}

fn pid(n: u16) -> Option<PacketId> {
    PacketId::new(n)
}

async fn session(shared: &Arc<Shared>, config: &BridgeConfig) -> Result<(), String> {
    let stream = timeout(CONNECT_TIMEOUT, connect(config))
        .await
        .map_err(|_| {
            format!(
                "no connection to {} within {CONNECT_TIMEOUT:?}",
                config.address
            )
        })??;
    let mut remote = Remote {
        stream,
        buf: BytesMut::new(),
        options: DecodeOptions::client().with_max_packet_size(shared.config.limits.max_packet_size),
    };
    let client_id = MqttString::new(&config.client_id).map_err(|e| e.to_string())?;
    let mut connect = mqtt_wire::Connect::new(client_id, config.keep_alive.max(5));
    connect.clean_session = config.clean_session;
    remote.send(&Packet::from(connect)).await?;
    match timeout(CONNECT_TIMEOUT, remote.next()).await {
        Ok(Ok(Packet::ConnAck(ack))) if ack.code == ConnectReturnCode::Accepted => {}
        Ok(Ok(Packet::ConnAck(ack))) => return Err(format!("refused: {:?}", ack.code)),
        Ok(Ok(other)) => return Err(format!("expected CONNACK, got {:?}", other.packet_type())),
        Ok(Err(e)) => return Err(e),
        Err(_) => return Err("no CONNACK".to_owned()),
    }
    inc(&shared.metrics.bridge_connects_total);
    tracing::info!(bridge = %config.name, address = %config.address, "bridge connected");

    let inward: Vec<SubscribeFilter> = config
        .topics
        .iter()
        .filter(|t| t.direction != BridgeDirection::Out)
        .filter_map(|t| {
            Some(SubscribeFilter {
                filter: TopicFilter::new(&t.pattern).ok()?,
                qos: QoS::from_u8(t.qos.min(2))?,
            })
        })
        .collect();
    if let Some(id) = pid(1) {
        if !inward.is_empty() {
            let sub = Subscribe::new(id, inward).map_err(|e| e.to_string())?;
            remote.send(&Packet::Subscribe(sub)).await?;
        }
    }

    // The local side: an ordinary session subscribed to the outward patterns.
    let local_id = format!("$bridge/{}", config.name);
    let registry = shared.registry();
    let principal = Arc::new(Principal::from_registry(
        &registry,
        &config.policy,
        &local_id,
        "127.0.0.1".to_owned(),
        None,
    )?);
    let (tx, mut rx) = mpsc::channel(shared.config.limits.outbound_queue);
    let kill = Arc::new(Kill::default());
    let link_id = shared.broker.next_link_id();
    let link = Link::new(
        link_id,
        tx,
        Arc::clone(&kill),
        Arc::new(RwLock::new(Arc::clone(&principal))),
    );
    shared
        .broker
        .connect(&local_id, true, Arc::clone(&principal), link)
        .map_err(|e| format!("local session: {e:?}"))?;
    let outward: Vec<(TopicFilter, Option<QoS>)> = config
        .topics
        .iter()
        .filter(|t| t.direction != BridgeDirection::In)
        .filter_map(|t| {
            let filter = TopicFilter::new(&t.pattern).ok()?;
            let allowed = shared
                .authorizer
                .allows(&principal, Action::Subscribe, filter.as_str());
            // Local deliveries to the bridge are at most QoS 1: the bridge acknowledges them
            // when the remote has.
            let qos = QoS::from_u8(t.qos.min(1))?;
            Some((filter, allowed.then_some(qos)))
        })
        .collect();
    if let (Some(id), false) = (pid(1), outward.is_empty()) {
        shared.broker.subscribe(&local_id, id, &outward);
    }

    let result = forward(
        shared,
        config,
        &mut remote,
        &mut rx,
        &kill,
        &local_id,
        &principal,
    )
    .await;
    shared.broker.disconnect(&local_id, link_id);
    result
}

async fn forward(
    shared: &Shared,
    config: &BridgeConfig,
    remote: &mut Remote,
    rx: &mut mpsc::Receiver<Outbound>,
    kill: &Kill,
    local_id: &str,
    principal: &Principal,
) -> Result<(), String> {
    let keep_alive = Duration::from_secs(u64::from(config.keep_alive.max(5)));
    let mut last_heard = Instant::now();
    let mut ping = tokio::time::interval(keep_alive);
    ping.tick().await;
    // Remote packet id → local packet id, for QoS 1 messages sent out.
    let mut outstanding: HashMap<u16, Option<PacketId>> = HashMap::new();
    let mut next_pid: u16 = 1;
    let mut incoming_qos2: HashSet<u16> = HashSet::new();
    let mut echoes: VecDeque<(String, Bytes)> = VecDeque::new();
    loop {
        tokio::select! {
            reason = kill.closed() => return Err(format!("local session closed: {reason}")),
            _ = ping.tick() => {
                // 1.5 keep-alive periods without a packet from the remote [MQTT-3.1.2-24].
                if last_heard.elapsed() > keep_alive.saturating_mul(3).checked_div(2).unwrap_or(keep_alive) {
                    return Err("keep-alive expired".to_owned());
                }
                remote.send(&Packet::PingReq).await?;
            }
            packet = rx.recv() => {
                let Some(packet) = packet else { return Err("local queue closed".to_owned()) };
                let Outbound::Publish(p) = packet else { continue };
                // Out: forward at the QoS it was delivered with (0 or 1).
                let local_pid = p.qos_pid.packet_id();
                let qos_pid = match local_pid {
                    None => QosPid::AtMostOnce,
                    Some(_) => {
                        let mut id = None;
                        for _ in 0..=u16::MAX {
                            let candidate = next_pid;
                            next_pid = next_pid.checked_add(1).unwrap_or(1);
                            if !outstanding.contains_key(&candidate) {
                                id = pid(candidate);
                                if id.is_some() { break; }
                            }
                        }
                        let Some(id) = id else { return Err("no free packet id".to_owned()) };
                        outstanding.insert(id.get(), local_pid);
                        QosPid::AtLeastOnce(id)
                    }
                };
                if echoes.len() >= ECHO_MEMORY {
                    echoes.pop_front();
                }
                echoes.push_back((p.topic.as_str().to_owned(), p.payload.clone()));
                let mut out = Publish::new(p.topic.clone(), qos_pid, p.payload.clone());
                out.retain = p.retain;
                remote.send(&Packet::Publish(out)).await?;
                inc(&shared.metrics.bridge_out_total);
            }
            packet = remote.next() => {
                let packet = packet?;
                last_heard = Instant::now();
                match packet {
                    Packet::Publish(p) => {
                        let topic = p.topic.as_str().to_owned();
                        let echo = echoes
                            .iter()
                            .position(|(t, b)| *t == topic && *b == p.payload);
                        let fresh = match p.qos_pid {
                            QosPid::ExactlyOnce(id) => incoming_qos2.insert(id.get()),
                            _ => true,
                        };
                        if let Some(i) = echo {
                            echoes.remove(i);
                        } else if fresh
                            && shared.authorizer.allows(principal, Action::Publish, &topic)
                        {
                                let message = Message {
                                    topic: p.topic.clone(),
                                    payload: p.payload.clone(),
                                    qos: p.qos_pid.qos().min(QoS::AtLeastOnce),
                                    retain: p.retain,
                                    origin: None,
                                };
                                shared.ingest_from(&message, Some(principal), Some(local_id));
                                inc(&shared.metrics.bridge_in_total);
                        }
                        if p.qos_pid.qos() != QoS::AtMostOnce {
                            // The remote forgets the message on our acknowledgement: store it
                            // first.
                            if let Some(persist) = shared.broker.persister() {
                                if !persist.flush().await {
                                    continue;
                                }
                            }
                        }
                        match p.qos_pid {
                            QosPid::AtMostOnce => {}
                            QosPid::AtLeastOnce(id) => remote.send(&Packet::PubAck(id)).await?,
                            QosPid::ExactlyOnce(id) => remote.send(&Packet::PubRec(id)).await?,
                        }
                    }
                    Packet::PubRel(id) => {
                        incoming_qos2.remove(&id.get());
                        remote.send(&Packet::PubComp(id)).await?;
                    }
                    Packet::PubAck(id) => {
                        if let Some(Some(local)) = outstanding.remove(&id.get()) {
                            shared.broker.puback(local_id, local);
                        }
                    }
                    Packet::SubAck(_) | Packet::PingResp | Packet::UnsubAck(_) => {}
                    other => {
                        return Err(format!("unexpected {:?} from the remote", other.packet_type()));
                    }
                }
            }
        }
    }
}
