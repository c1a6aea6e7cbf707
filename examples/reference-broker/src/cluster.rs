//! Cluster mode: any number of broker nodes over one NATS system form one MQTT service.
//!
//! Each node keeps its own client connections and does everything it does alone for them
//! (authorization, sessions, rules). What crosses nodes goes over NATS:
//! - a message accepted by a node is delivered to its own subscribers, and published on the
//!   subject of its topic (`nats_subject.rs`) for the others; the rules run only there. A
//!   QoS 1/2 message also goes to the message log (`message_log.rs`), a JetStream stream,
//!   before its PUBACK;
//! - a node subscribes on NATS only to the subjects of the filters its own clients hold,
//!   counted per (session, filter), so traffic goes only where it is wanted; the SUBACK waits
//!   until the NATS server has the subscription, so nothing published after it is missed;
//! - a CONNECT accepted by a node records the node as the client id's owner (a key-value
//!   bucket) and asks the previous owner, if another node, to close its connection (a
//!   takeover across nodes, Will and all); no other node hears of it;
//! - retained messages live in a JetStream key-value bucket (`<prefix>_retained`, one key per
//!   topic): the accepting node puts or deletes (before its PUBACK), and every node mirrors
//!   the bucket into its own retained store, from which it serves new subscriptions;
//! - persistent sessions live in JetStream (`jetstream_store.rs`), written by the node that
//!   holds the session before it confirms anything; a CONNECT on another node first asks the
//!   holder to let go (it closes the connection, commits what it has pending and forgets the
//!   session), then reads the session back.
//!
//! The connection to NATS uses `no_echo`, so a node never receives its own messages back.
//! A node with overlapping subscriptions receives a message once per matching NATS
//! subscription; each message carries its origin node and sequence number, and a node
//! delivers only the first copy.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use async_nats::jetstream::kv;
use async_nats::jetstream::stream::StorageType;
use bytes::{BufMut, Bytes, BytesMut};
use futures_util::StreamExt;
use mqtt_wire::{QoS, TopicFilter, TopicName};
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::auth::Principal;
use crate::broker::{Message, MessageId};
use crate::config::ClusterConfig;
use crate::jetstream_store::{
    JetStreamCommit, JetStreamStore, MAX_SUBJECT, digest_token, retained_message,
};
use crate::message_log::{LogAck, LogAckSender, LogRecord, Logged, MessageLog};
use crate::metrics::{Metrics, add, dec, inc, set};
use crate::nats_subject::{filter_subjects, subject_topic, topic_subject};
use crate::routes::{Delivery, Routes, Server};
use crate::server::Shared;
use crate::store::Change;

/// Messages waiting to be handed to the NATS client beyond which publishing connections wait.
const MAX_OUTBOX: u64 = 64 * 1024;

/// How long the node holding a session may take to let it go.
const RELEASE_WAIT: Duration = Duration::from_secs(5);

/// How long a record's acknowledgement may take (async-nats' default is 5 s: at 500,000
/// connections on two cores the server took longer at times, and each late acknowledgement
/// closed the connections waiting on it).
const LOG_ACK_WAIT: Duration = Duration::from_secs(20);

/// Why a record failed when the NATS connection was down or went down before its
/// acknowledgement.
const NO_LINK: &str = "the NATS connection was lost";

/// Message ids remembered to drop the second copy of a message.
const SEEN: usize = 64 * 1024;

/// How often a node records its message log watermark (`message_log.rs`).
const WATERMARK_EVERY: Duration = Duration::from_secs(1);

/// The envelope's version byte.
const ENVELOPE_V1: u8 = 1;
/// Version, QoS, retain, origin node (8 bytes), sequence (8 bytes).
const ENVELOPE_HEAD: usize = 19;

/// Why the cluster link could not be set up.
#[derive(Debug)]
pub(crate) struct ClusterError(pub(crate) String);

impl From<crate::jetstream_store::JetStreamError> for ClusterError {
    fn from(e: crate::jetstream_store::JetStreamError) -> Self {
        ClusterError(format!("cluster: {e}"))
    }
}

impl std::fmt::Display for ClusterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the outbox task publishes, in order.
#[derive(Debug)]
enum Out {
    /// A subject and payload, published as they are.
    Core(String, Bytes),
    /// A QoS 1/2 message: logged (in a record with the others waiting), then published to
    /// the other nodes on `live`; the record's acknowledgement goes to `done`.
    Logged {
        live: String,
        envelope: Bytes,
        done: LogAckSender,
    },
}

#[derive(Debug)]
enum Interest {
    /// Subscribe to these subjects (once each, counting), then answer once the server has
    /// them.
    Watch(Vec<String>, oneshot::Sender<()>),
    /// One subscriber fewer for each.
    Unwatch(Vec<String>),
}

/// Message ids already delivered, oldest first.
#[derive(Debug, Default)]
struct Seen {
    ids: HashSet<MessageId>,
    order: VecDeque<MessageId>,
}

impl Seen {
    /// Whether `id` is new (and remembers it).
    fn first(&mut self, id: MessageId) -> bool {
        if !self.ids.insert(id) {
            return false;
        }
        self.order.push_back(id);
        if self.order.len() > SEEN {
            if let Some(old) = self.order.pop_front() {
                self.ids.remove(&old);
            }
        }
        true
    }
}

/// Messages held while a gap is open, beyond which they are dropped (those of QoS 1/2 are
/// read again from the log).
const MAX_HELD: usize = 64 * 1024;

/// What the NATS client's events tell the cluster link: after a lost connection or a slow
/// consumer, messages may have passed this node by. Until the log is read again, the
/// watermark stays, and messages arriving meanwhile wait, so that they keep their order
/// behind the ones read again.
#[derive(Debug, Default)]
struct Gaps {
    /// Gaps so far.
    count: AtomicU64,
    /// Set from a gap until the log is read again.
    open: AtomicBool,
    /// Wakes the watermark loop when the connection is back.
    reconnected: Notify,
    /// Counts lost connections: an acknowledgement awaited across one is lost with it.
    disconnects: tokio::sync::watch::Sender<u64>,
}

impl Gaps {
    fn open(&self) {
        self.open.store(true, Ordering::Release);
        self.count.fetch_add(1, Ordering::AcqRel);
    }
}

/// What the routing connection's state means for the node: a lost connection is a gap; a
/// restored one (every subscription back) lets the watermark loop read the log again.
struct GapLink {
    gaps: Arc<Gaps>,
    metrics: Arc<Metrics>,
}

impl crate::routes::Link for GapLink {
    fn lost(&self) {
        self.gaps.open();
        inc(&self.metrics.cluster_routing_disconnects_total);
        tracing::warn!("cluster: lost the routing connection to NATS; reconnecting");
    }

    fn restored(&self) {
        self.gaps.reconnected.notify_one();
    }
}

/// A node's link to the cluster.
#[derive(Debug)]
pub(crate) struct Cluster {
    client: async_nats::Client,
    /// Random per process: messages and announcements carry it.
    node_id: u64,
    node_name: String,
    /// `<prefix>.m`: messages between nodes, under their topic's subject.
    messages: String,
    log: MessageLog,
    gaps: Arc<Gaps>,
    /// Messages that arrived while a gap was open, delivered after the log's read.
    held: Mutex<Vec<Delivery>>,
    /// The routing subscriptions, on a NATS connection of their own (`routes.rs`).
    routes: Routes,
    /// Cluster-wide commands (reload).
    control: String,
    /// This node's own subject (session release requests).
    release: String,
    /// The prefix of every node's own subject.
    nodes: String,
    store: Arc<JetStreamStore>,
    seq: AtomicU64,
    outbox: mpsc::UnboundedSender<Out>,
    retained: async_nats::jetstream::kv::Store,
    /// Which node holds each client id (`Cluster::own`).
    owners: kv::Store,
    outbox_len: Arc<AtomicU64>,
    room: Arc<Notify>,
    interest: mpsc::UnboundedSender<Interest>,
    seen: Mutex<Seen>,
    metrics: Arc<Metrics>,
    /// Filters a session stopped holding, sent by the broker (see `Cluster::unwatch_sender`).
    unwatch_rx: Mutex<Option<mpsc::UnboundedReceiver<TopicFilter>>>,
    unwatch_tx: mpsc::UnboundedSender<TopicFilter>,
    pending: Mutex<Option<Pending>>,
}

/// The receivers the tasks take when they start.
#[derive(Debug)]
struct Pending {
    outbox: mpsc::UnboundedReceiver<Out>,
    interest: mpsc::UnboundedReceiver<Interest>,
    deliveries: mpsc::Receiver<Delivery>,
}

impl Cluster {
    /// Connects to NATS; fails (clearly) when no server answers.
    pub(crate) async fn connect(
        config: &ClusterConfig,
        metrics: Arc<Metrics>,
    ) -> Result<Cluster, ClusterError> {
        let mut addrs = Vec::new();
        let mut servers = Vec::new();
        for url in &config.nats_urls {
            let addr = url
                .parse::<async_nats::ServerAddr>()
                .map_err(|e| ClusterError(format!("cluster: bad NATS URL {url:?}: {e}")))?;
            servers.push(Server {
                host: addr.host().to_owned(),
                port: addr.port(),
                user: addr
                    .username()
                    .map(|u| (u.to_owned(), addr.password().unwrap_or_default().to_owned())),
            });
            if addr.tls_required() {
                return Err(ClusterError(format!(
                    "cluster: {url:?}: TLS to NATS is not supported yet (nats:// only)"
                )));
            }
            addrs.push(addr);
        }
        let node_id = random_u64()?;
        let node_name = if config.node_name.is_empty() {
            format!("node-{node_id:016x}")
        } else {
            config.node_name.clone()
        };
        let events = Arc::clone(&metrics);
        let gaps = Arc::new(Gaps::default());
        let missed = Arc::clone(&gaps);
        let client = async_nats::ConnectOptions::new()
            .name(format!("reference-broker {node_name}"))
            .no_echo()
            .connection_timeout(Duration::from_secs(5))
            .event_callback(move |event| {
                let metrics = Arc::clone(&events);
                let missed = Arc::clone(&missed);
                async move {
                    match event {
                        async_nats::Event::Connected => {
                            missed.reconnected.notify_one();
                            set(&metrics.cluster_connected, 1);
                            tracing::info!("cluster: connected to NATS");
                        }
                        async_nats::Event::Disconnected => {
                            missed.open();
                            missed.disconnects.send_modify(|n| *n = n.wrapping_add(1));
                            set(&metrics.cluster_connected, 0);
                            inc(&metrics.cluster_disconnects_total);
                            tracing::warn!("cluster: lost NATS; reconnecting");
                        }
                        async_nats::Event::SlowConsumer(_) => {
                            missed.open();
                            inc(&metrics.cluster_slow_consumer_total);
                        }
                        _ => {}
                    }
                }
            })
            .connect(addrs)
            .await
            .map_err(|e| {
                ClusterError(format!(
                    "cluster: cannot reach NATS at {}: {e}",
                    config.nats_urls.join(",")
                ))
            })?;
        set(&metrics.cluster_connected, 1);
        let retained = key_value(
            &client,
            format!("{}_retained", config.subject_prefix),
            "reference-broker retained messages, one key per topic",
            StorageType::File,
        )
        .await?;
        // Read and written by every CONNECT: in memory, so that a read never waits for the
        // disk (with 500,000 keys on file, reads took seconds and stalled the server's read
        // loops). Lost when NATS restarts; see the README.
        let owners = key_value(
            &client,
            format!("{}_owners", config.subject_prefix),
            "reference-broker: the node holding each client id",
            StorageType::Memory,
        )
        .await?;
        let store = JetStreamStore::open(
            client.clone(),
            &config.subject_prefix,
            retained.clone(),
            node_id,
        )
        .await
        .map_err(|e| {
            ClusterError(format!(
                "cluster: {e}; start nats-server with JetStream (-js)"
            ))
        })?;
        let messages = format!("{}.m", config.subject_prefix);
        let log = MessageLog::open(
            client.clone(),
            &config.subject_prefix,
            Duration::from_secs(config.log_retention_secs),
        )
        .await
        .map_err(|e| {
            ClusterError(format!(
                "cluster: {e}; start nats-server with JetStream (-js)"
            ))
        })?;
        let nodes = format!("{}.n", config.subject_prefix);
        let (deliveries, deliveries_rx) = mpsc::channel(crate::routes::QUEUE);
        let routes = Routes::start(
            servers,
            format!("reference-broker {node_name} routes"),
            deliveries,
            Arc::new(GapLink {
                gaps: Arc::clone(&gaps),
                metrics: Arc::clone(&metrics),
            }),
        )
        .await
        .map_err(|e| ClusterError(format!("cluster: routing connection to NATS: {e}")))?;
        let (outbox, outbox_rx) = mpsc::unbounded_channel();
        let (interest, interest_rx) = mpsc::unbounded_channel();
        let (unwatch_tx, unwatch_rx) = mpsc::unbounded_channel();
        Ok(Cluster {
            client,
            node_id,
            node_name,
            messages,
            log,
            gaps,
            held: Mutex::new(Vec::new()),
            routes,
            control: format!("{}.x", config.subject_prefix),
            release: format!("{nodes}.{node_id:016x}.release"),
            nodes,
            store: Arc::new(store),
            seq: AtomicU64::new(0),
            outbox,
            retained,
            owners,
            outbox_len: Arc::new(AtomicU64::new(0)),
            room: Arc::new(Notify::new()),
            interest,
            seen: Mutex::new(Seen::default()),
            metrics,
            unwatch_rx: Mutex::new(Some(unwatch_rx)),
            unwatch_tx,
            pending: Mutex::new(Some(Pending {
                outbox: outbox_rx,
                interest: interest_rx,
                deliveries: deliveries_rx,
            })),
        })
    }

    /// This node's name (logs, `/healthz`).
    pub(crate) fn node_name(&self) -> &str {
        &self.node_name
    }

    /// Whether the NATS connection is up.
    pub(crate) fn connected(&self) -> bool {
        self.client.connection_state() == async_nats::connection::State::Connected
            && self.routes.connected()
    }

    /// Where the broker reports filters a session no longer holds.
    pub(crate) fn unwatch_sender(&self) -> mpsc::UnboundedSender<TopicFilter> {
        self.unwatch_tx.clone()
    }

    /// Starts the tasks: the outbox, the NATS subscriptions, and the takeover announcements.
    pub(crate) async fn run(shared: &Arc<Shared>) -> Result<Vec<JoinHandle<()>>, ClusterError> {
        let Some(cluster) = &shared.cluster else {
            return Ok(Vec::new());
        };
        let pending = cluster
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let unwatch = cluster
            .unwatch_rx
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let (Some(pending), Some(unwatch)) = (pending, unwatch) else {
            return Ok(Vec::new());
        };
        let reloads = cluster
            .client
            .subscribe(format!("{}.reload", cluster.control))
            .await
            .map_err(|e| ClusterError(format!("cluster: cannot subscribe: {e}")))?;
        let takeovers = cluster
            .client
            .subscribe(format!(
                "{}.{:016x}.takeover",
                cluster.nodes, cluster.node_id
            ))
            .await
            .map_err(|e| ClusterError(format!("cluster: cannot subscribe: {e}")))?;
        let releases = cluster
            .client
            .subscribe(cluster.release.clone())
            .await
            .map_err(|e| ClusterError(format!("cluster: cannot subscribe: {e}")))?;
        let mirror = cluster
            .retained
            .watch_with_history(">")
            .await
            .map_err(|e| ClusterError(format!("cluster: cannot watch retained messages: {e}")))?;
        // Messages logged before this node started are not its to deliver.
        let start = cluster.log.last_seq().await?;
        cluster.log.set_watermark(cluster.node_id, start).await?;
        let weak = Arc::downgrade(shared);
        Ok(vec![
            tokio::spawn(watermark_loop(weak.clone(), start)),
            tokio::spawn(mirror_loop(weak.clone(), mirror)),
            tokio::spawn(release_loop(weak.clone(), releases)),
            tokio::spawn(takeover_loop(weak.clone(), takeovers)),
            tokio::spawn(outbox_loop(
                cluster.client.clone(),
                cluster.log.subject(cluster.node_id),
                Arc::clone(&cluster.gaps),
                pending.outbox,
                Arc::clone(&cluster.outbox_len),
                Arc::clone(&cluster.room),
                Arc::clone(&cluster.metrics),
            )),
            tokio::spawn(interest_loop(weak.clone(), pending.interest)),
            tokio::spawn(reader_loop(weak.clone(), pending.deliveries)),
            tokio::spawn(unwatch_loop(weak.clone(), unwatch)),
            tokio::spawn(reload_loop(weak, reloads)),
        ])
    }

    /// Publishes an accepted message for the other nodes. A QoS 1/2 one also goes to the
    /// message log (`message_log.rs`); this returns its cluster id and the change that waits
    /// for the log's acknowledgement, which the broker commits with the message's other
    /// changes before it confirms the message.
    pub(crate) fn forward(&self, message: &Message) -> Option<(MessageId, Change)> {
        let id = MessageId {
            node: self.node_id,
            seq: self.seq.fetch_add(1, Ordering::Relaxed),
        };
        let mut payload =
            BytesMut::with_capacity(ENVELOPE_HEAD.saturating_add(message.payload.len()));
        payload.put_u8(ENVELOPE_V1);
        payload.put_u8(message.qos as u8);
        payload.put_u8(u8::from(message.retain));
        payload.put_u64(id.node);
        payload.put_u64(id.seq);
        payload.put_slice(&message.payload);
        let topic = message.topic.as_str();
        let live = topic_subject(&self.messages, topic);
        if live.len() > MAX_SUBJECT {
            inc(&self.metrics.cluster_subject_too_long_total);
            return None;
        }
        if message.qos == QoS::AtMostOnce {
            self.send_out(Out::Core(live, payload.freeze()));
            return None;
        }
        let (done, ack) = LogAck::pending();
        self.send_out(Out::Logged {
            live,
            envelope: payload.freeze(),
            done,
        });
        Some((id, Change::Forward(ack)))
    }

    fn send_out(&self, out: Out) {
        self.outbox_len.fetch_add(1, Ordering::AcqRel);
        if self.outbox.send(out).is_err() {
            self.outbox_len.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// Records that this node holds `client_id` with the connection accepted at `at`
    /// (microseconds since the epoch), before its CONNACK, and asks the node that held it
    /// before, if another, to close that connection. The record (KV bucket `<prefix>_owners`,
    /// one key per client id) is written only over the revision read, so of two CONNECTs at
    /// once the later writer reads the earlier one's record and closes its connection: the
    /// last CONNECT wins, whatever the clocks say. Only the node concerned hears of it.
    pub(crate) async fn own(&self, client_id: &str, at: u64) -> Result<(), ClusterError> {
        let key = digest_token(client_id);
        let mut value = BytesMut::with_capacity(16);
        value.put_u64(self.node_id);
        value.put_u64(at);
        let value = value.freeze();
        for _ in 0..MAX_OWN_TRIES {
            let previous = self
                .owners
                .entry(key.clone())
                .await
                .map_err(|e| ClusterError(format!("cluster: owner of {client_id:?}: {e}")))?;
            // `Err(true)`: another node wrote in between.
            let written = match &previous {
                Some(entry) => self
                    .owners
                    .update(key.clone(), value.clone(), entry.revision)
                    .await
                    .map(drop)
                    .map_err(|e| e.kind() == kv::UpdateErrorKind::WrongLastRevision),
                None => self
                    .owners
                    .create(key.clone(), value.clone())
                    .await
                    .map(drop)
                    .map_err(|e| e.kind() == kv::CreateErrorKind::AlreadyExists),
            };
            match written {
                Ok(()) => {
                    let holder = previous
                        .filter(|e| e.operation == kv::Operation::Put)
                        .and_then(|e| owner(&e.value));
                    if let Some((node, held_at)) = holder {
                        if node != self.node_id {
                            let mut payload =
                                BytesMut::with_capacity(client_id.len().saturating_add(8));
                            payload.put_u64(held_at);
                            payload.put_slice(client_id.as_bytes());
                            let subject = format!("{}.{node:016x}.takeover", self.nodes);
                            self.send_out(Out::Core(subject, payload.freeze()));
                        }
                    }
                    return Ok(());
                }
                Err(true) => continue,
                Err(false) => {
                    return Err(ClusterError(format!(
                        "cluster: cannot record the owner of {client_id:?}"
                    )));
                }
            }
        }
        Err(ClusterError(format!(
            "cluster: {client_id:?} is being taken by other nodes at once"
        )))
    }

    /// Another node took over a client id held here: closes the connection it replaced.
    fn takeover(&self, shared: &Shared, payload: &Bytes) {
        inc(&self.metrics.cluster_takeover_requests_total);
        let at = payload
            .get(..8)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(u64::from_be_bytes);
        let client_id = payload.get(8..).and_then(|b| std::str::from_utf8(b).ok());
        let (Some(at), Some(client_id)) = (at, client_id) else {
            inc(&self.metrics.cluster_malformed_total);
            return;
        };
        if shared.broker.evict(client_id, at) {
            inc(&shared.metrics.takeovers_total);
        }
    }

    /// Asks every other node to reload (after a reload here by SIGHUP or command).
    pub(crate) fn announce_reload(&self) {
        let subject = format!("{}.reload", self.control);
        let payload = Bytes::copy_from_slice(&self.node_id.to_be_bytes());
        self.send_out(Out::Core(subject, payload));
    }

    /// The persister's writer for this node: sessions and retained messages in JetStream.
    pub(crate) fn committer(&self) -> JetStreamCommit {
        JetStreamCommit {
            store: Arc::clone(&self.store),
            runtime: tokio::runtime::Handle::current(),
        }
    }

    /// Makes this node the holder of `client_id`'s session before its CONNECT is answered.
    /// A session stored by another node is let go there first (see `release_loop`); then a
    /// clean CONNECT deletes it [MQTT-3.1.2-6] and any other reads it back here, subscribed
    /// on NATS for its filters before it is resumed.
    pub(crate) async fn claim(
        &self,
        shared: &Shared,
        client_id: &str,
        clean: bool,
        principal: &Arc<Principal>,
    ) -> Result<(), ClusterError> {
        if shared.broker.holds(client_id) {
            return Ok(());
        }
        let Some(header) = self.store.header(client_id).await? else {
            return Ok(());
        };
        // Where the log is read from for this session once it is here: a node that let it
        // go says up to where it had the log; one that is gone, its last watermark.
        let replay_from = if header.owner == self.node_id {
            None
        } else {
            match self.release_on(header.owner, client_id).await? {
                Some(seq) => Some(seq),
                None => self.log.watermark(header.owner).await?,
            }
        };
        if clean {
            return Ok(self.store.delete(client_id).await?);
        }
        let Some(snapshot) = self.store.load(client_id).await? else {
            return Ok(());
        };
        inc(&self.metrics.cluster_sessions_moved_total);
        let filters: Vec<TopicFilter> = snapshot
            .subscriptions
            .iter()
            .map(|(f, _)| f.clone())
            .collect();
        // What the session holds already is not read again from the log.
        let stored: HashSet<MessageId> = snapshot
            .messages
            .iter()
            .filter_map(|m| m.message.origin)
            .collect();
        self.watch(&filters).await;
        if shared.broker.adopt(snapshot, Arc::clone(principal)) {
            match replay_from {
                Some(from) => {
                    let from = from.saturating_add(1);
                    self.replay_session(shared, client_id, &filters, &stored, from)
                        .await
                }
                None => Ok(()),
            }
        } else {
            self.unwatch(&filters);
            Err(ClusterError(
                "cluster: limits.max_sessions reached".to_owned(),
            ))
        }
    }

    /// Asks node `owner` to let `client_id`'s session go. It answers with the log's last
    /// sequence when it let go (`Some`); a node that is gone (no responder on its subject)
    /// has nothing to let go (`None`).
    async fn release_on(&self, owner: u64, client_id: &str) -> Result<Option<u64>, ClusterError> {
        use async_nats::RequestErrorKind;
        let subject = format!("{}.{owner:016x}.release", self.nodes);
        let request = self
            .client
            .request(subject, Bytes::copy_from_slice(client_id.as_bytes()));
        match tokio::time::timeout(RELEASE_WAIT, request).await {
            Ok(Ok(reply)) => Ok(reply
                .payload
                .get(..8)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map(u64::from_be_bytes)),
            Ok(Err(e)) if e.kind() == RequestErrorKind::NoResponders => Ok(None),
            Ok(Err(e)) => Err(ClusterError(format!(
                "cluster: node {owner:016x} did not let {client_id:?} go: {e}"
            ))),
            Err(_) => Err(ClusterError(format!(
                "cluster: node {owner:016x} did not let {client_id:?} go in {RELEASE_WAIT:?}"
            ))),
        }
    }

    /// Waits while the outbox is over its bound.
    pub(crate) async fn room(&self) {
        loop {
            let woken = self.room.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            if self.outbox_len.load(Ordering::Acquire) < MAX_OUTBOX {
                return;
            }
            woken.await;
        }
    }

    /// Subscribes on NATS for `filters` (one count each) and returns once the server has the
    /// subscriptions.
    pub(crate) async fn watch(&self, filters: &[TopicFilter]) {
        let subjects = self.subjects(filters);
        let (done, wait) = oneshot::channel();
        if self.interest.send(Interest::Watch(subjects, done)).is_ok() {
            let _ = wait.await;
        }
    }

    /// One count fewer for each filter's subjects.
    pub(crate) fn unwatch(&self, filters: &[TopicFilter]) {
        let subjects = self.subjects(filters);
        if !subjects.is_empty() {
            let _ = self.interest.send(Interest::Unwatch(subjects));
        }
    }

    /// The NATS subjects of `filters`, leaving out (and counting) those too long to send.
    fn subjects(&self, filters: &[TopicFilter]) -> Vec<String> {
        let mut out = Vec::new();
        for subject in filters
            .iter()
            .flat_map(|f| filter_subjects(&self.messages, f.as_str()))
        {
            if subject.len() > MAX_SUBJECT {
                inc(&self.metrics.cluster_subject_too_long_total);
            } else {
                out.push(subject);
            }
        }
        out
    }

    /// A message from another node: delivered to this node's subscribers once, in the order
    /// the copies arrive (the dedup lock is held across the delivery for that).
    fn receive(&self, shared: &Shared, msg: Delivery) {
        if self.gaps.open.load(Ordering::Acquire) {
            let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
            // Checked again under the lock `close_gap` holds while it empties `held`.
            if self.gaps.open.load(Ordering::Acquire) {
                if held.len() < MAX_HELD {
                    held.push(msg);
                } else {
                    // Another gap: the log is read again up to past this message.
                    self.gaps.count.fetch_add(1, Ordering::AcqRel);
                    inc(&self.metrics.cluster_dropped_in_gap_total);
                }
                return;
            }
        }
        self.receive_now(shared, &msg);
    }

    fn receive_now(&self, shared: &Shared, msg: &Delivery) {
        self.deliver(shared, &self.messages, &msg.subject, &msg.payload);
    }

    /// Delivers a message (`subject` under `prefix`, its envelope) to this node's
    /// subscribers, unless it is this node's own or came already.
    fn deliver(&self, shared: &Shared, prefix: &str, subject: &str, envelope: &Bytes) {
        let Some((message, id)) = decode(prefix, subject, envelope) else {
            inc(&self.metrics.cluster_malformed_total);
            return;
        };
        if id.node == self.node_id {
            // This node's own message, read again from the log: it delivered it itself.
            return;
        }
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if !seen.first(id) {
            inc(&self.metrics.cluster_duplicates_total);
            return;
        }
        inc(&self.metrics.cluster_received_total);
        shared.broker.publish(&message);
    }

    /// Whether message `id` was delivered here already (without remembering it).
    fn delivered(&self, id: MessageId) -> bool {
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.ids.contains(&id)
    }

    /// Reads the log again from `from` for session `client_id`, just adopted here: what was
    /// published for it while no node held it (or its node had not committed it), in order.
    async fn replay_session(
        &self,
        shared: &Shared,
        client_id: &str,
        filters: &[TopicFilter],
        stored: &HashSet<MessageId>,
        from: u64,
    ) -> Result<(), ClusterError> {
        // Anything after the barrier comes live: the session is subscribed and adopted.
        let to = self.log.barrier(self.node_id).await?;
        let (logged, malformed) = self
            .log
            .read(from, to, |m| {
                subject_topic(&self.messages, &m.subject)
                    .and_then(|t| TopicName::new(&t).ok())
                    .is_some_and(|t| filters.iter().any(|f| f.matches(&t)))
            })
            .await?;
        add(&self.metrics.cluster_malformed_total, malformed);
        for Logged { subject, envelope } in logged {
            let Some((message, id)) = decode(&self.messages, &subject, &envelope) else {
                inc(&self.metrics.cluster_malformed_total);
                continue;
            };
            if stored.contains(&id) || self.delivered(id) {
                continue;
            }
            inc(&self.metrics.cluster_replayed_total);
            shared.broker.publish_to(client_id, &message);
        }
        Ok(())
    }

    /// Ends a gap once the log was read again: delivers what arrived meanwhile (the copies
    /// already read are dropped as such), then delivers as messages come.
    fn close_gap(&self, shared: &Shared) {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        for msg in held.drain(..) {
            self.receive_now(shared, &msg);
        }
        self.gaps.open.store(false, Ordering::Release);
    }

    /// Reads the log again from `from` to `to` for every session here, after this node may
    /// have missed messages.
    async fn replay_all(&self, shared: &Shared, from: u64, to: u64) -> Result<(), ClusterError> {
        let (logged, malformed) = self.log.read(from, to, |_| true).await?;
        add(&self.metrics.cluster_malformed_total, malformed);
        for Logged { subject, envelope } in logged {
            inc(&self.metrics.cluster_replayed_total);
            self.deliver(shared, &self.messages, &subject, &envelope);
        }
        Ok(())
    }
}

/// Creates (or finds) a key-value bucket that keeps each key's last value.
async fn key_value(
    client: &async_nats::Client,
    bucket: String,
    description: &str,
    storage: StorageType,
) -> Result<kv::Store, ClusterError> {
    async_nats::jetstream::new(client.clone())
        .create_or_update_key_value(kv::Config {
            bucket: bucket.clone(),
            description: description.to_owned(),
            history: 1,
            storage,
            ..Default::default()
        })
        .await
        .map_err(|e| {
            ClusterError(format!(
                "cluster: no JetStream key-value bucket {bucket} ({e}); start nats-server with JetStream (-js)"
            ))
        })
}

/// The node and connection time an owner record holds.
fn owner(value: &Bytes) -> Option<(u64, u64)> {
    let node = u64::from_be_bytes(value.get(..8)?.try_into().ok()?);
    let at = u64::from_be_bytes(value.get(8..16)?.try_into().ok()?);
    Some((node, at))
}

/// A message's topic (from `subject`, under `prefix`) and its envelope opened.
fn decode(prefix: &str, subject: &str, envelope: &Bytes) -> Option<(Message, MessageId)> {
    let topic = subject_topic(prefix, subject)?;
    let topic = TopicName::new(&topic).ok()?;
    let head = envelope.get(..ENVELOPE_HEAD)?;
    let (&version, rest) = head.split_first()?;
    if version != ENVELOPE_V1 {
        return None;
    }
    let qos = QoS::from_u8(*rest.first()?)?;
    let id = MessageId {
        node: u64::from_be_bytes(rest.get(2..10)?.try_into().ok()?),
        seq: u64::from_be_bytes(rest.get(10..18)?.try_into().ok()?),
    };
    let message = Message {
        topic,
        payload: envelope.slice(ENVELOPE_HEAD..),
        qos,
        // The retained store stays with the node that accepted the message; deliveries
        // to existing subscriptions carry retain 0 anyway [MQTT-3.3.1-9].
        retain: false,
        origin: Some(id),
    };
    Some((message, id))
}

fn random_u64() -> Result<u64, ClusterError> {
    let mut bytes = [0u8; 8];
    rustls::crypto::aws_lc_rs::default_provider()
        .secure_random
        .fill(&mut bytes)
        .map_err(|_| ClusterError("cluster: no entropy for the node id".to_owned()))?;
    Ok(u64::from_be_bytes(bytes))
}

/// How often a node tries to write a client id's owner record when others write it too.
const MAX_OWN_TRIES: usize = 4;

/// The most bytes of messages logged in one record (well under NATS's default 1 MiB payload).
const MAX_RECORD: usize = 512 * 1024;

/// The most items the outbox takes at once.
const MAX_BATCH: usize = 1024;

/// What the outbox sends in one go: a record of QoS 1/2 messages for the log and where each
/// one's acknowledgement goes, then every item's live copy, in order.
#[derive(Debug, Default)]
struct Sending {
    record: LogRecord,
    dones: Vec<LogAckSender>,
    live: Vec<(String, Bytes)>,
    /// Items taken from the outbox (those refused included).
    taken: usize,
}

impl Sending {
    /// Takes items up to the first QoS 1/2 message that would make the record longer than
    /// [`MAX_RECORD`] (a record holds at least one).
    fn take(items: &mut std::iter::Peekable<impl Iterator<Item = Out>>) -> Sending {
        let mut sending = Sending::default();
        while let Some(out) = items.next_if(|out| match out {
            Out::Logged { live, envelope, .. } => {
                sending.record.count() == 0
                    || sending
                        .record
                        .len()
                        .saturating_add(LogRecord::cost(live, envelope))
                        <= MAX_RECORD
            }
            Out::Core(..) => true,
        }) {
            sending.taken = sending.taken.saturating_add(1);
            match out {
                Out::Core(subject, payload) => sending.live.push((subject, payload)),
                Out::Logged {
                    live,
                    envelope,
                    done,
                } => {
                    if sending.record.push(&live, &envelope) {
                        sending.dones.push(done);
                        sending.live.push((live, envelope));
                    } else {
                        let _ = done.send(Some(Err("too long to log".to_owned())));
                    }
                }
            }
        }
        sending
    }
}

/// Publishes what the node sends to the others, in order (NATS keeps a publisher's order, so
/// this keeps the node's). It takes what is waiting, at most [`MAX_BATCH`] items: the QoS 1/2
/// messages among them go to the message log first, in one record, then everything to the
/// other nodes, in order. The record's acknowledgement is set for each of its messages as it
/// comes, and the commit a message's PUBACK waits for waits for it (`Change::Forward`).
/// Logging first is what makes a barrier (`MessageLog::barrier`) a safe place to start
/// reading live; and the record carries all that waited, so the log costs a publish and an
/// acknowledgement per batch, not per message, once the node is busy.
async fn outbox_loop(
    client: async_nats::Client,
    subject: String,
    gaps: Arc<Gaps>,
    mut rx: mpsc::UnboundedReceiver<Out>,
    len: Arc<AtomicU64>,
    room: Arc<Notify>,
    metrics: Arc<Metrics>,
) {
    // A busy server acknowledges late rather than not at all: the PUBACKs waiting wait, and
    // only a record unacknowledged this long fails its connections.
    let js = async_nats::jetstream::ContextBuilder::new()
        .timeout(LOG_ACK_WAIT)
        .build(client.clone());
    let mut acks = futures_util::stream::FuturesUnordered::new();
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        tokio::select! {
            n = rx.recv_many(&mut batch, MAX_BATCH) => {
                if n == 0 {
                    return;
                }
                let mut items = batch.drain(..).peekable();
                while items.peek().is_some() {
                    let Sending { record, dones, live, taken } = Sending::take(&mut items);
                    if !dones.is_empty() {
                        inc(&metrics.cluster_log_records_total);
                        add(&metrics.cluster_logged_total, dones.len());
                        // Watched from before the publish: a connection lost after it is seen.
                        let mut link = gaps.disconnects.subscribe();
                        let published = if client.connection_state() == async_nats::connection::State::Connected {
                            js.publish(subject.clone(), record.finish()).await.map_err(|e| e.to_string())
                        } else {
                            Err(NO_LINK.to_owned())
                        };
                        match published {
                            Ok(ack) => acks.push(async move {
                                // The reply to a publish is lost with the connection it
                                // was sent on: no use waiting for it.
                                let outcome = tokio::select! {
                                    a = ack => a.map(drop).map_err(|e| e.to_string()),
                                    _ = link.changed() => Err(NO_LINK.to_owned()),
                                };
                                for done in dones {
                                    let _ = done.send(Some(outcome.clone()));
                                }
                            }),
                            Err(e) => {
                                for done in dones {
                                    let _ = done.send(Some(Err(e.clone())));
                                }
                            }
                        }
                    }
                    for (subject, payload) in live {
                        let _ = client.publish(subject, payload).await;
                    }
                    len.fetch_sub(u64::try_from(taken).unwrap_or(u64::MAX), Ordering::AcqRel);
                    room.notify_waiters();
                }
            }
            Some(()) = acks.next(), if !acks.is_empty() => {}
        }
    }
}

/// Keeps the routing subscriptions: one per subject this node's sessions need, counted.
async fn interest_loop(shared: Weak<Shared>, mut rx: mpsc::UnboundedReceiver<Interest>) {
    let mut held: HashMap<String, usize> = HashMap::new();
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let Some(strong) = shared.upgrade() else {
            return;
        };
        let Some(cluster) = &strong.cluster else {
            return;
        };
        // Answered together, after one round trip.
        let mut watchers = Vec::new();
        for interest in batch.drain(..) {
            match interest {
                Interest::Watch(subjects, done) => {
                    for subject in subjects {
                        if let Some(count) = held.get_mut(&subject) {
                            *count = count.saturating_add(1);
                            continue;
                        }
                        cluster.routes.subscribe(subject.clone());
                        held.insert(subject, 1);
                        inc(&cluster.metrics.cluster_subjects_current);
                    }
                    watchers.push(done);
                }
                Interest::Unwatch(subjects) => {
                    for subject in subjects {
                        let gone = match held.get_mut(&subject) {
                            Some(count) => {
                                *count = count.saturating_sub(1);
                                *count == 0
                            }
                            None => false,
                        };
                        if gone {
                            held.remove(&subject);
                            cluster.routes.unsubscribe(subject);
                            dec(&cluster.metrics.cluster_subjects_current);
                        }
                    }
                }
            }
        }
        if !watchers.is_empty() {
            // The server has the subscriptions: a message published after the SUBACK
            // reaches them.
            cluster.routes.round_trip().await;
            for done in watchers {
                let _ = done.send(());
            }
        }
    }
}

/// Hands what the routing connection read to the broker, in order.
async fn reader_loop(shared: Weak<Shared>, mut deliveries: mpsc::Receiver<Delivery>) {
    while let Some(msg) = deliveries.recv().await {
        let Some(shared) = shared.upgrade() else {
            return;
        };
        if let Some(cluster) = &shared.cluster {
            cluster.receive(&shared, msg);
        }
    }
}

async fn unwatch_loop(shared: Weak<Shared>, mut rx: mpsc::UnboundedReceiver<TopicFilter>) {
    while let Some(filter) = rx.recv().await {
        let Some(shared) = shared.upgrade() else {
            return;
        };
        if let Some(cluster) = &shared.cluster {
            cluster.unwatch(&[filter]);
        }
    }
}

/// Mirrors the cluster's retained messages into this node's retained store: every key's last
/// value at start, then each change as it is made (by any node, this one included).
async fn mirror_loop(shared: Weak<Shared>, mut watch: async_nats::jetstream::kv::Watch) {
    use async_nats::jetstream::kv::Operation;
    while let Some(entry) = watch.next().await {
        let Ok(entry) = entry else { continue };
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let topic = subject_topic("t", &entry.key).and_then(|t| TopicName::new(&t).ok());
        let Some(topic) = topic else {
            inc(&shared.metrics.cluster_malformed_total);
            continue;
        };
        match entry.operation {
            Operation::Put => match retained_message(&entry.key, &entry.value) {
                Some(message) => shared.broker.mirror_retained(message),
                None => inc(&shared.metrics.cluster_malformed_total),
            },
            Operation::Delete | Operation::Purge => shared.broker.mirror_retained_clear(&topic),
        }
    }
}

/// Lets sessions go that another node claims: forgets each here, commits what this node has
/// pending (its changes of that session among them), then answers.
async fn release_loop(shared: Weak<Shared>, mut sub: async_nats::Subscriber) {
    while let Some(msg) = sub.next().await {
        let Some(strong) = shared.upgrade() else {
            return;
        };
        let (Some(reply), Ok(client_id)) = (msg.reply, std::str::from_utf8(&msg.payload)) else {
            continue;
        };
        let Some(cluster) = &strong.cluster else {
            return;
        };
        // The log up to here was delivered to the session here (or is on its way to its
        // commit); the claiming node reads the rest. Read before letting go: a message in
        // between comes twice rather than never.
        let Ok(logged) = cluster.log.last_seq().await else {
            continue;
        };
        strong.broker.release(client_id);
        tokio::spawn(async move {
            let committed = match strong.broker.persister() {
                Some(persist) => persist.flush().await,
                None => true,
            };
            if let Some(cluster) = &strong.cluster {
                if committed {
                    let answer = Bytes::copy_from_slice(&logged.to_be_bytes());
                    let _ = cluster.client.publish(reply, answer).await;
                }
            }
        });
    }
}

async fn takeover_loop(shared: Weak<Shared>, mut sub: async_nats::Subscriber) {
    while let Some(msg) = sub.next().await {
        let Some(shared) = shared.upgrade() else {
            return;
        };
        if let Some(cluster) = &shared.cluster {
            cluster.takeover(&shared, &msg.payload);
        }
    }
}

async fn reload_loop(shared: Weak<Shared>, mut sub: async_nats::Subscriber) {
    while let Some(_msg) = sub.next().await {
        let Some(shared) = shared.upgrade() else {
            return;
        };
        // Logged and counted by the reload itself; not announced again.
        let _ = tokio::task::spawn_blocking(move || shared.reload()).await;
    }
}

/// Records this node's watermark in the message log about once a second: the log's last
/// sequence one round earlier, once everything received since is committed. After a gap
/// (`Gaps`) it first reads the log again from the watermark, as soon as NATS is back.
async fn watermark_loop(shared: Weak<Shared>, start: u64) {
    let mut ticks = tokio::time::interval(WATERMARK_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut watermark = start;
    // The log's last sequence at the previous round, when no gap came since.
    let mut previous: Option<u64> = None;
    let mut gaps_read = 0u64;
    // Read (live or again) up to here: a gap that comes during a read starts after it.
    let mut read_to = start;
    loop {
        let Some(gaps) = shared
            .upgrade()
            .and_then(|s| s.cluster.as_ref().map(|c| Arc::clone(&c.gaps)))
        else {
            return;
        };
        tokio::select! {
            _ = ticks.tick() => {}
            () = gaps.reconnected.notified() => {}
        }
        let Some(strong) = shared.upgrade() else {
            return;
        };
        let Some(cluster) = &strong.cluster else {
            return;
        };
        if !cluster.connected() {
            previous = None;
            continue;
        }
        let gaps = cluster.gaps.count.load(Ordering::Acquire);
        if gaps != gaps_read {
            previous = None;
            // Resubscribed by now: what is logged after the barrier comes live.
            let Ok(to) = cluster.log.barrier(cluster.node_id).await else {
                continue;
            };
            if let Err(e) = cluster
                .replay_all(&strong, read_to.saturating_add(1), to)
                .await
            {
                tracing::warn!("{}", e.0);
                continue;
            }
            read_to = read_to.max(to);
            if cluster.gaps.count.load(Ordering::Acquire) == gaps {
                cluster.close_gap(&strong);
                gaps_read = gaps;
                previous = Some(to);
            }
            continue;
        }
        let Ok(last) = cluster.log.last_seq().await else {
            previous = None;
            continue;
        };
        if let Some(covered) = previous {
            let committed = match strong.broker.persister() {
                Some(persist) => persist.flush().await,
                None => true,
            };
            let covered = covered.max(watermark);
            // Written every round, moved or not: the bucket forgets keys of nodes long gone.
            if committed
                && cluster
                    .log
                    .set_watermark(cluster.node_id, covered)
                    .await
                    .is_ok()
            {
                watermark = covered;
                read_to = read_to.max(watermark);
                cluster
                    .metrics
                    .cluster_watermark
                    .store(watermark, Ordering::Relaxed);
            }
        }
        previous = Some(last);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn logged(subject: &str, envelope: &'static [u8]) -> (Out, LogAck) {
        let (done, ack) = LogAck::pending();
        let out = Out::Logged {
            live: subject.to_owned(),
            envelope: Bytes::from_static(envelope),
            done,
        };
        (out, ack)
    }

    #[test]
    fn waiting_messages_share_one_record_and_keep_their_order() {
        let (a, _) = logged("p.m.a", b"1");
        let (b, _) = logged("p.m.b", b"2");
        let core = Out::Core("p.c.x".to_owned(), Bytes::from_static(b"0"));
        let mut items = vec![a, core, b].into_iter().peekable();
        let sending = Sending::take(&mut items);
        assert!(items.next().is_none());
        assert_eq!(sending.taken, 3);
        assert_eq!(sending.dones.len(), 2);
        let subjects: Vec<&str> = sending.live.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(subjects, ["p.m.a", "p.c.x", "p.m.b"]);
        let entries = LogRecord::entries(&sending.record.finish()).unwrap();
        let logged: Vec<(&str, &[u8])> = entries
            .iter()
            .map(|e| (e.subject.as_str(), e.envelope.as_ref()))
            .collect();
        assert_eq!(logged, [("p.m.a", &b"1"[..]), ("p.m.b", &b"2"[..])]);
    }

    #[test]
    fn a_record_ends_before_the_message_that_would_make_it_too_long() {
        static BIG: [u8; MAX_RECORD / 2] = [7; MAX_RECORD / 2];
        let (a, _) = logged("p.m.a", &BIG);
        let (b, _) = logged("p.m.b", &BIG);
        let (c, _) = logged("p.m.c", b"small");
        let mut items = vec![a, b, c].into_iter().peekable();
        let first = Sending::take(&mut items);
        assert_eq!((first.taken, first.dones.len()), (1, 1));
        let second = Sending::take(&mut items);
        assert_eq!((second.taken, second.dones.len()), (2, 2));
        assert!(second.record.len() <= MAX_RECORD);
        assert!(items.next().is_none());
    }

    #[tokio::test]
    async fn a_message_too_long_for_a_record_is_refused_alone() {
        static HUGE: [u8; 1 << 17] = [0; 1 << 17];
        // A u16 subject length cannot hold this subject.
        let subject = "s".repeat(usize::from(u16::MAX) + 1);
        let (a, refused) = logged(&subject, &HUGE);
        let (b, _) = logged("p.m.b", b"ok");
        let mut items = vec![a, b].into_iter().peekable();
        let sending = Sending::take(&mut items);
        assert_eq!((sending.taken, sending.dones.len()), (2, 1));
        assert_eq!(sending.live.len(), 1);
        assert_eq!(refused.outcome().await, Err("too long to log".to_owned()));
    }
}
