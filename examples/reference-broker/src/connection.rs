//! One MQTT connection: CONNECT and its authorization, then the read loop (keep-alive, rate
//! limit, QoS flows, subscriptions) and a writer task draining the bounded outbound queue.

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::BytesMut;
use iot_policy::Action;
use mqtt_wire::{
    ConnAck, Connect, ConnectReturnCode, DecodeErrorKind, DecodeOptions, Encode, Packet, QoS,
    QosPid, decode,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout, timeout_at};

use crate::auth::Principal;
use crate::broker::{AckFit, Link, Message, Outbound, Reply, SessionRefusal};
use crate::close::{Close, Kill};
use crate::config::DenyConnect;
use crate::identity::Identity;
use crate::metrics::inc;
use crate::ratelimit::TokenBucket;
use crate::server::Shared;

/// AWS IoT Core's limit on client ids, in bytes.
const MAX_CLIENT_ID_LEN: usize = 128;

/// How a connection authenticated.
#[derive(Debug, Clone)]
pub(crate) enum Transport {
    /// TLS with a verified client certificate.
    Tls(Box<Identity>),
    /// The plain listener.
    Plain,
}

/// Reads whole packets; the buffer never holds more than one maximum-size packet plus one
/// read, because the decoder checks the announced length before waiting for the body.
struct PacketReader<R> {
    rd: R,
    buf: BytesMut,
    options: DecodeOptions,
    /// How much room the next read gets: doubled after a read that filled it, halved after
    /// one that used less than a quarter. A device that sends a packet now and then keeps a
    /// small buffer; a publisher streaming packets reads many per call.
    read_size: usize,
}

/// The smallest and largest room given to one read.
const READ_MIN: usize = 256;
const READ_MAX: usize = 64 * 1024;

enum ReadError {
    Decode(mqtt_wire::DecodeError),
    Io,
}

impl<R: AsyncRead + Unpin> PacketReader<R> {
    /// The next packet, `Ok(None)` at end of stream. Cancel-safe: the only await is
    /// `read_buf`, and decoded bytes are consumed synchronously.
    async fn next(&mut self) -> Result<Option<Packet>, ReadError> {
        loop {
            if let Some(packet) = decode(&mut self.buf, &self.options).map_err(ReadError::Decode)? {
                return Ok(Some(packet));
            }
            if self.buf.is_empty() && self.buf.capacity() > self.read_size.saturating_mul(4) {
                // A burst is over: give back the large buffer it needed.
                self.buf = BytesMut::new();
            }
            self.buf.reserve(self.read_size);
            let room = self.buf.capacity().saturating_sub(self.buf.len());
            match self.rd.read_buf(&mut self.buf).await {
                Ok(0) => return Ok(None),
                Ok(n) if n >= room => {
                    self.read_size = self.read_size.saturating_mul(2).min(READ_MAX)
                }
                Ok(n) if n < room / 4 => self.read_size = (self.read_size / 2).max(READ_MIN),
                Ok(_) => {}
                Err(_) => return Err(ReadError::Io),
            }
        }
    }
}

/// What the connection does after a packet.
enum Flow {
    Continue,
    Close(Close),
}

/// Serves one connection until it ends. `deadline` bounds the wait for CONNECT.
///
/// The stream is split before the connection's future is made, so that the future (which
/// lives as long as the connection) holds two handles rather than room for the stream, a
/// TLS stream being over a KiB.
pub(crate) fn serve<S>(
    shared: Arc<Shared>,
    stream: S,
    peer: SocketAddr,
    transport: Transport,
    deadline: Instant,
) -> impl Future<Output = ()> + Send
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let (rd, wr) = tokio::io::split(stream);
    serve_halves(shared, rd, wr, peer, transport, deadline)
}

async fn serve_halves<S>(
    shared: Arc<Shared>,
    rd: ReadHalf<S>,
    mut wr: WriteHalf<S>,
    peer: SocketAddr,
    transport: Transport,
    deadline: Instant,
) where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let limits = &shared.config.limits;
    let mut reader = PacketReader {
        rd,
        buf: BytesMut::new(),
        options: DecodeOptions::server().with_max_packet_size(limits.max_packet_size),
        read_size: READ_MIN,
    };
    let connect = match timeout_at(deadline, reader.next()).await {
        Err(_) => {
            inc(&shared.metrics.connect_timeouts_total);
            return;
        }
        Ok(Ok(Some(Packet::Connect(c)))) => c,
        Ok(Err(ReadError::Decode(e))) => {
            inc(&shared.metrics.protocol_errors_total);
            if matches!(e.kind(), DecodeErrorKind::UnsupportedProtocolLevel { .. }) {
                // [MQTT-3.1.2-2]: answer 0x01 and close.
                refuse(
                    &mut wr,
                    ConnectReturnCode::UnacceptableProtocolVersion,
                    &shared,
                )
                .await;
            }
            tracing::info!(%peer, error = %e, "malformed CONNECT");
            return;
        }
        Ok(Ok(Some(_))) => {
            // [MQTT-3.1.0-1]: the first packet must be CONNECT.
            inc(&shared.metrics.protocol_errors_total);
            return;
        }
        Ok(Ok(None) | Err(ReadError::Io)) => return,
    };
    let link_id = shared.broker.next_link_id();
    // The one-off phases below are boxed: their futures are large (JetStream requests, policy
    // evaluation) and an inline future's room stays in the task for the connection's life.
    let Some((client_id, principal)) =
        Box::pin(admit(&shared, &connect, peer, transport, link_id, &mut wr)).await
    else {
        return;
    };
    let will = connect.will.as_ref().map(|w| Message {
        topic: w.topic.clone(),
        payload: w.payload.clone(),
        qos: w.qos,
        retain: w.retain,
        origin: None,
    });

    let (tx, rx) = mpsc::channel(limits.outbound_queue);
    let kill = Arc::new(Kill::default());
    let current = Arc::new(RwLock::new(Arc::clone(&principal)));
    let link = Link::new(link_id, tx, Arc::clone(&kill), Arc::clone(&current));
    let connected_at = link.connected_at;
    if let Some(cluster) = &shared.cluster {
        let claimed =
            Box::pin(cluster.claim(&shared, &client_id, connect.clean_session, &principal)).await;
        let owned = match claimed {
            // Boxed as the claim is: the connection's task would carry its state for life.
            Ok(()) => Box::pin(cluster.own(&client_id, connected_at)).await,
            Err(e) => Err(e),
        };
        if let Err(e) = owned {
            tracing::warn!(%client_id, %peer, error = %e, "refused: the cluster could not take the client id");
            inc(&shared.metrics.connects_refused_total);
            refuse(&mut wr, ConnectReturnCode::ServerUnavailable, &shared).await;
            return;
        }
    }
    match shared.broker.connect(
        &client_id,
        connect.clean_session,
        Arc::clone(&principal),
        link,
    ) {
        Ok(_) => {
            inc(&shared.metrics.connects_accepted_total);
        }
        Err(refusal @ (SessionRefusal::TooManySessions | SessionRefusal::QueueFull)) => {
            tracing::warn!(%client_id, %peer, reason = ?refusal, "refused: server unavailable");
            inc(&shared.metrics.connects_refused_total);
            refuse(&mut wr, ConnectReturnCode::ServerUnavailable, &shared).await;
            return;
        }
    }
    let writer = tokio::spawn(write_loop(
        wr,
        rx,
        limits.write_timeout(),
        Arc::clone(&kill),
    ));

    // [MQTT-3.1.2-24]: nothing for one and a half keep-alive periods closes the connection.
    let keep_alive = (connect.keep_alive > 0)
        .then(|| Duration::from_millis(u64::from(connect.keep_alive).saturating_mul(1500)));
    let mut bucket = TokenBucket::new(
        limits.publish_rate,
        limits.publish_burst,
        Instant::now().into_std(),
    );
    let mut conn = Conn {
        shared: &shared,
        client_id: &client_id,
        principal: &current,
        bucket: &mut bucket,
        watched: Vec::new(),
    };
    // One kill future and one idle timer for the whole connection: creating (and
    // registering) them per packet would cost more than decoding the packet. The timer is
    // moved forward only when it fires early.
    let killed = kill.closed();
    tokio::pin!(killed);
    let idle = tokio::time::sleep(keep_alive.unwrap_or(Duration::MAX));
    tokio::pin!(idle);
    let mut last_packet = Instant::now();
    let close = loop {
        let outcome = tokio::select! {
            biased;
            reason = &mut killed => break reason,
            () = &mut idle, if keep_alive.is_some() => {
                match keep_alive.and_then(|d| last_packet.checked_add(d)) {
                    Some(deadline) if deadline > Instant::now() => {
                        idle.as_mut().reset(deadline);
                        continue;
                    }
                    _ => {
                        inc(&shared.metrics.keepalive_timeouts_total);
                        break Close::KeepAliveExpired;
                    }
                }
            }
            r = reader.next() => r,
        };
        let packet = match outcome {
            Ok(Some(p)) => p,
            Ok(None) | Err(ReadError::Io) => break Close::PeerClosed,
            Err(ReadError::Decode(e)) => {
                inc(&shared.metrics.protocol_errors_total);
                tracing::info!(%client_id, %peer, error = %e, "malformed packet");
                break Close::Malformed;
            }
        };
        last_packet = Instant::now();
        if matches!(packet, Packet::Publish(_)) {
            conn.throttle(last_packet).await;
            if let Some(persist) = shared.broker.persister() {
                // The writer is behind: stop reading publishes until it catches up.
                persist.room().await;
            }
            if let Some(cluster) = &shared.cluster {
                cluster.room().await;
            }
        }
        if let (Packet::Subscribe(s), Some(cluster)) = (&packet, &shared.cluster) {
            // The NATS subscriptions first: a message published on another node after the
            // SUBACK must find them.
            let filters: Vec<_> = s.filters().map(|f| f.filter).collect();
            cluster.watch(&filters).await;
            conn.watched = filters;
        }
        match conn.handle(packet) {
            Flow::Continue => {}
            Flow::Close(reason) => break reason,
        }
    };

    shared.broker.disconnect(&client_id, link_id);
    if close == Close::Disconnect {
        tracing::debug!(%client_id, %peer, reason = %close, "closed");
    } else {
        tracing::info!(%client_id, %peer, reason = %close, "closed");
    }
    if close.publishes_will() {
        if let Some(will) = will {
            inc(&shared.metrics.wills_published_total);
            shared.route(&will);
        }
    }
    // The session no longer holds the sender; once the writer has flushed what is queued
    // it ends. A writer stuck on a peer that does not read is bounded by the write timeout.
    let grace = limits
        .write_timeout()
        .saturating_add(Duration::from_secs(1));
    let abort = writer.abort_handle();
    if timeout(grace, writer).await.is_err() {
        abort.abort();
    }
}

/// Checks the CONNECT: client id, certificate status, iot:Connect and the Will's
/// iot:Publish. On refusal answers (or not, per `deny_connect`) and returns `None`.
async fn admit<W: AsyncWrite + Unpin>(
    shared: &Shared,
    connect: &Connect,
    peer: SocketAddr,
    transport: Transport,
    link_id: u64,
    wr: &mut W,
) -> Option<(String, Arc<Principal>)> {
    let mut client_id = connect.client_id.as_str().to_owned();
    if client_id.is_empty() {
        if !connect.clean_session {
            // [MQTT-3.1.3-8]
            tracing::info!(%peer, "refused: an empty client id needs a clean session");
            inc(&shared.metrics.connects_refused_total);
            refuse(wr, ConnectReturnCode::IdentifierRejected, shared).await;
            return None;
        }
        // [MQTT-3.1.3-6]: the server assigns an identifier.
        client_id = format!("auto-{link_id}");
    }
    let control =
        shared.config.limits.reject_control_characters && has_control_character(&client_id);
    if control {
        inc(&shared.metrics.control_characters_refused_total);
    }
    if client_id.len() > MAX_CLIENT_ID_LEN || control {
        tracing::info!(
            %peer,
            client_id = client_id.escape_debug().to_string(),
            "refused: client id too long or holding control characters"
        );
        inc(&shared.metrics.connects_refused_total);
        refuse(wr, ConnectReturnCode::IdentifierRejected, shared).await;
        return None;
    }
    if let Some(will) = &connect.will {
        if !topic_acceptable(shared, will.topic.as_str()) {
            // As a PUBLISH to that topic would be: a protocol violation, closed.
            tracing::info!(%client_id, %peer, "refused: Will topic over the broker's limits");
            inc(&shared.metrics.protocol_errors_total);
            inc(&shared.metrics.connects_refused_total);
            let _ = timeout(Duration::from_secs(1), wr.shutdown()).await;
            return None;
        }
    }
    let principal = match principal(shared, &client_id, peer, transport) {
        Ok(p) => Arc::new(p),
        Err(reason) => {
            inc(&shared.metrics.denied_connect_total);
            tracing::info!(%client_id, %peer, %reason, "denied");
            deny(wr, shared).await;
            return None;
        }
    };
    let auth = &shared.authorizer;
    let mut allowed = auth.allows(&principal, Action::Connect, &client_id);
    if let (true, Some(will)) = (allowed, &connect.will) {
        // A Will is a publish the broker makes on the client's behalf later; authorize it now.
        allowed = auth.allows(&principal, Action::Publish, will.topic.as_str())
            && (!will.retain
                || auth.allows(&principal, Action::RetainPublish, will.topic.as_str()));
    }
    if !allowed {
        // The policy's explanation was logged by `allows`.
        deny(wr, shared).await;
        return None;
    }
    Some((client_id, principal))
}

/// Whether a string holds a control character (U+0001–U+001F, U+007F–U+009F; U+0000 never
/// gets past the codec): MQTT 3.1.1 §1.5.3 lets a receiver refuse them, and mosquitto does.
fn has_control_character(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// Checks a topic name or filter against the broker's own limits (the codec has checked the
/// protocol's): at most `max_topic_levels` levels, and no control characters unless allowed.
/// Each refusal is counted.
fn topic_acceptable(shared: &Shared, topic: &str) -> bool {
    let limits = &shared.config.limits;
    // Levels are one more than the separators; stop counting past the limit.
    let too_deep = topic
        .bytes()
        .filter(|&b| b == b'/')
        .nth(limits.max_topic_levels.saturating_sub(1))
        .is_some();
    if too_deep {
        inc(&shared.metrics.topic_levels_refused_total);
        return false;
    }
    if limits.reject_control_characters && has_control_character(topic) {
        inc(&shared.metrics.control_characters_refused_total);
        return false;
    }
    true
}

/// Builds the policy context of a connection from the registry.
fn principal(
    shared: &Shared,
    client_id: &str,
    peer: SocketAddr,
    transport: Transport,
) -> Result<Principal, String> {
    let identity = match transport {
        Transport::Plain => None,
        Transport::Tls(identity) => Some(*identity),
    };
    Principal::from_registry(
        &shared.registry(),
        &shared.config.plain.policy,
        client_id,
        peer.ip().to_string(),
        identity,
    )
}

async fn deny<W: AsyncWrite + Unpin>(wr: &mut W, shared: &Shared) {
    inc(&shared.metrics.connects_refused_total);
    match shared.config.deny_connect {
        DenyConnect::Connack => refuse(wr, ConnectReturnCode::NotAuthorized, shared).await,
        DenyConnect::Close => {
            let _ = timeout(Duration::from_secs(1), wr.shutdown()).await;
        }
    }
}

/// Writes a refusing CONNACK and closes [MQTT-3.2.2-5].
async fn refuse<W: AsyncWrite + Unpin>(wr: &mut W, code: ConnectReturnCode, shared: &Shared) {
    let mut buf = BytesMut::with_capacity(4);
    if ConnAck::new(false, code).encode(&mut buf).is_err() {
        return;
    }
    let write = async {
        wr.write_all(&buf).await?;
        wr.flush().await?;
        wr.shutdown().await
    };
    let _ = timeout(shared.config.limits.write_timeout(), write).await;
}

/// Drains the outbound queue into the socket, batching what is queued into one write.
async fn write_loop<W: AsyncWrite + Unpin>(
    mut wr: W,
    mut rx: mpsc::Receiver<Outbound>,
    write_timeout: Duration,
    kill: Arc<Kill>,
) {
    const BATCH: usize = 64 * 1024;
    let mut buf = BytesMut::new();
    while let Some(packet) = rx.recv().await {
        buf.clear();
        // Packets built by the broker always encode; one that did not would be skipped.
        let _ = Packet::from(packet).encode(&mut buf);
        while buf.len() < BATCH {
            match rx.try_recv() {
                Ok(p) => {
                    let _ = Packet::from(p).encode(&mut buf);
                }
                Err(_) => break,
            }
        }
        let write = async {
            wr.write_all(&buf).await?;
            wr.flush().await
        };
        if !matches!(timeout(write_timeout, write).await, Ok(Ok(()))) {
            // The peer does not read (or the socket failed): end the connection.
            kill.close(Close::WriteFailed);
            return;
        }
        if rx.is_empty() && buf.capacity() > 4096 {
            // Nothing more to send now: an idle connection holds no large buffer.
            buf = BytesMut::new();
        }
    }
    let _ = timeout(Duration::from_secs(1), wr.shutdown()).await;
}

/// The per-connection state the packet handler needs.
struct Conn<'a> {
    shared: &'a Shared,
    client_id: &'a str,
    /// Replaced by a reload.
    principal: &'a RwLock<Arc<Principal>>,
    bucket: &'a mut TokenBucket,
    /// Cluster mode: the filters of the SUBSCRIBE being handled, already watched on NATS.
    watched: Vec<mqtt_wire::TopicFilter>,
}

impl Conn<'_> {
    /// Waits until the publish rate limit lets one more PUBLISH through.
    async fn throttle(&mut self, mut now: Instant) {
        let mut throttled = false;
        while let Some(wait) = self.bucket.take(now.into_std()) {
            if !throttled {
                inc(&self.shared.metrics.publish_throttled_total);
                throttled = true;
            }
            tokio::time::sleep(wait).await;
            now = Instant::now();
        }
    }

    /// What an acknowledgement from the client means for the connection: a mismatch closes it
    /// (mosquitto does the same), an unknown packet id is counted and ignored.
    fn acknowledged(&self, fit: AckFit) -> Flow {
        match fit {
            AckFit::Matched => Flow::Continue,
            AckFit::Unknown => {
                inc(&self.shared.metrics.unknown_acks_total);
                Flow::Continue
            }
            AckFit::Mismatch => {
                inc(&self.shared.metrics.protocol_errors_total);
                Flow::Close(Close::AckMismatch)
            }
        }
    }

    /// Acts on one packet (after [`Conn::throttle`] for a PUBLISH); never waits.
    fn handle(&mut self, packet: Packet) -> Flow {
        let broker = &self.shared.broker;
        let auth = &self.shared.authorizer;
        let principal = Arc::clone(&self.principal.read().unwrap_or_else(|e| e.into_inner()));
        let principal = &*principal;
        match packet {
            Packet::Publish(p) => {
                let topic = p.topic.as_str();
                if !topic_acceptable(self.shared, topic) {
                    inc(&self.shared.metrics.protocol_errors_total);
                    return Flow::Close(Close::TopicRefused);
                }
                // AWS IoT disconnects a client whose PUBLISH is not authorized.
                if !auth.allows(principal, Action::Publish, topic)
                    || (p.retain && !auth.allows(principal, Action::RetainPublish, topic))
                {
                    return Flow::Close(Close::PublishDenied);
                }
                let message = Message {
                    topic: p.topic.clone(),
                    payload: p.payload.clone(),
                    qos: p.qos_pid.qos(),
                    retain: p.retain,
                    origin: None,
                };
                let shared = self.shared;
                let client = self.client_id;
                match p.qos_pid {
                    QosPid::AtMostOnce => shared.ingest(&message, Some(principal), None),
                    QosPid::AtLeastOnce(pid) => shared.ingest(
                        &message,
                        Some(principal),
                        Some((client, Reply::PubAck(pid))),
                    ),
                    QosPid::ExactlyOnce(pid) => match broker.incoming_qos2(client, pid) {
                        Ok(true) => shared.ingest(
                            &message,
                            Some(principal),
                            Some((client, Reply::PubRec(pid))),
                        ),
                        Ok(false) => broker.send(client, Outbound::PubRec(pid)),
                        Err(()) => {
                            inc(&self.shared.metrics.protocol_errors_total);
                            return Flow::Close(Close::Qos2WindowFull);
                        }
                    },
                }
            }
            Packet::PubAck(pid) => return self.acknowledged(broker.puback(self.client_id, pid)),
            Packet::PubRec(pid) => return self.acknowledged(broker.pubrec(self.client_id, pid)),
            Packet::PubRel(pid) => broker.pubrel(self.client_id, pid),
            Packet::PubComp(pid) => {
                return self.acknowledged(broker.pubcomp(self.client_id, pid));
            }
            Packet::Subscribe(s) => {
                let grants: Vec<_> = s
                    .filters()
                    .map(|f| {
                        // A filter over the broker's limits is refused like a denied one.
                        let allowed = topic_acceptable(self.shared, f.filter.as_str())
                            && auth.allows(principal, Action::Subscribe, f.filter.as_str());
                        let grant = allowed.then_some(f.qos.min(QoS::ExactlyOnce));
                        (f.filter, grant)
                    })
                    .collect();
                let added = broker.subscribe(self.client_id, s.packet_id, &grants);
                if let Some(cluster) = &self.shared.cluster {
                    // Keep one count per filter the session now holds and did not before.
                    let watched = std::mem::take(&mut self.watched);
                    let surplus: Vec<_> = watched
                        .into_iter()
                        .zip(added)
                        .filter_map(|(f, added)| (!added).then_some(f))
                        .collect();
                    cluster.unwatch(&surplus);
                }
            }
            Packet::Unsubscribe(u) => {
                let filters: Vec<_> = u.filters().collect();
                broker.unsubscribe(self.client_id, u.packet_id, &filters);
            }
            Packet::PingReq => broker.send(self.client_id, Outbound::PingResp),
            Packet::Disconnect => return Flow::Close(Close::Disconnect),
            Packet::Connect(_) => {
                // [MQTT-3.1.0-2]: a second CONNECT is a protocol violation.
                inc(&self.shared.metrics.protocol_errors_total);
                return Flow::Close(Close::SecondConnect);
            }
            // The server-role decoder never yields server-to-client packets.
            Packet::ConnAck(_) | Packet::SubAck(_) | Packet::UnsubAck(_) | Packet::PingResp => {
                inc(&self.shared.metrics.protocol_errors_total);
                return Flow::Close(Close::ServerPacket);
            }
        }
        Flow::Continue
    }
}
