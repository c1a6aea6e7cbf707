//! The shared broker state: sessions, the subscription trie and retained messages, and the
//! routing of every accepted message to its subscribers.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use bytes::Bytes;
use iot_policy::Action;
use mqtt_wire::{
    ConnAck, ConnectReturnCode, Packet, PacketId, Publish, QoS, QosPid, SubAck, SubAckReturnCode,
    SubscriptionTrie, TopicFilter, TopicName,
};
use tokio::sync::mpsc;

use crate::auth::{Authorizer, Principal};
use crate::close::{Close, Kill};
use crate::config::Limits;
use crate::metrics::{Metrics, inc, set};
use crate::persist::{Deferred, Persister, Txn};
use crate::store::Change;

/// An application message as the broker routes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Where it was published.
    pub topic: TopicName,
    /// The payload.
    pub payload: Bytes,
    /// The QoS it was published at.
    pub qos: QoS,
    /// The retain flag it was published with.
    pub retain: bool,
    /// Cluster mode: its id across the cluster, once it has one (`None` on one node alone).
    pub origin: Option<MessageId>,
}

/// A message's id across a cluster: the node that accepted it and its number there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MessageId {
    /// The accepting node's random id.
    pub node: u64,
    /// The message's number on that node.
    pub seq: u64,
}

/// The broker's handle on one live connection.
#[derive(Debug, Clone)]
pub(crate) struct Link {
    /// Unique per connection, so that a stale connection cannot detach a newer one.
    pub(crate) id: u64,
    /// The connection's bounded outbound queue.
    pub(crate) tx: mpsc::Sender<Outbound>,
    /// Ends the connection, with a reason (takeover, slow reader, reload).
    pub(crate) kill: Arc<Kill>,
    /// The connection's current principal; a reload replaces it.
    pub(crate) principal: Arc<RwLock<Arc<Principal>>>,
    /// Packets for this connection waiting for a commit (see `persist.rs`); while there are
    /// any, later packets wait behind them.
    pub(crate) waiting: Arc<AtomicUsize>,
    /// When the connection was accepted, in microseconds since the Unix epoch: what the
    /// cluster's owner record names the connection by (a takeover by another node closes the
    /// connection it names, not a newer one).
    pub(crate) connected_at: u64,
}

impl Link {
    /// A handle on a new connection.
    pub(crate) fn new(
        id: u64,
        tx: mpsc::Sender<Outbound>,
        kill: Arc<Kill>,
        principal: Arc<RwLock<Arc<Principal>>>,
    ) -> Link {
        Link {
            id,
            tx,
            kill,
            principal,
            waiting: Arc::new(AtomicUsize::new(0)),
            connected_at: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
                .unwrap_or(0),
        }
    }
}

impl Outbound {
    /// Whether the packet confirms, or hands over, state that must be durable first: the
    /// acknowledgements, and QoS 2 deliveries (their packet id must survive a restart for the
    /// delivery to stay exactly once). A QoS 1 delivery goes at once: if the broker dies before
    /// its message is stored, the publisher has no PUBACK and sends it again, a duplicate that
    /// QoS 1 allows; and when the subscriber acknowledges it before the commit, the message is
    /// never written at all (see `persist.rs`).
    fn promises(&self) -> bool {
        match self {
            Outbound::ConnAck(_) | Outbound::PingResp => false,
            Outbound::Publish(p) => p.qos_pid.qos() == QoS::ExactlyOnce,
            Outbound::PubAck(_)
            | Outbound::PubRec(_)
            | Outbound::PubRel(_)
            | Outbound::PubComp(_)
            | Outbound::SubAck(_)
            | Outbound::UnsubAck(_) => true,
        }
    }
}

/// A packet the broker queues for a connection: the server-to-client kinds only, with the
/// PUBLISH and SUBACK boxed, so that a queue slot is 16 bytes. Every connection's queue
/// allocates its first block of 32 slots whether it is used or not: 512 bytes, where inline
/// packets took 2.3 KB (mqtt-wire's `Packet` is as large as its CONNECT, 176 bytes, and an
/// inline PUBLISH 72). At 500,000 connections that is 0.9 GB; the box costs one small
/// allocation per delivery.
#[derive(Debug)]
pub(crate) enum Outbound {
    ConnAck(ConnAck),
    Publish(Box<Publish>),
    PubAck(PacketId),
    PubRec(PacketId),
    PubRel(PacketId),
    PubComp(PacketId),
    SubAck(Box<SubAck>),
    UnsubAck(PacketId),
    PingResp,
}

impl From<Outbound> for Packet {
    fn from(out: Outbound) -> Packet {
        match out {
            Outbound::ConnAck(a) => Packet::ConnAck(a),
            Outbound::Publish(p) => Packet::Publish(*p),
            Outbound::PubAck(id) => Packet::PubAck(id),
            Outbound::PubRec(id) => Packet::PubRec(id),
            Outbound::PubRel(id) => Packet::PubRel(id),
            Outbound::PubComp(id) => Packet::PubComp(id),
            Outbound::SubAck(a) => Packet::SubAck(*a),
            Outbound::UnsubAck(id) => Packet::UnsubAck(id),
            Outbound::PingResp => Packet::PingResp,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OutState {
    /// PUBLISH sent; waiting for PUBACK (QoS 1) or PUBREC (QoS 2).
    Published,
    /// PUBREL sent; waiting for PUBCOMP.
    Released,
}

#[derive(Debug)]
struct Outgoing {
    seq: u64,
    message: Message,
    state: OutState,
}

#[derive(Debug)]
struct Queued {
    seq: u64,
    message: Message,
}

#[derive(Debug)]
struct Session {
    /// The client id.
    id: Arc<str>,
    /// Clean session 1: nothing of it is stored, and it ends with its connection.
    clean: bool,
    subscriptions: HashMap<TopicFilter, QoS>,
    /// QoS 1/2 messages waiting for room in the in-flight window (or for a reconnect).
    pending: VecDeque<Queued>,
    inflight: BTreeMap<u16, Outgoing>,
    /// QoS 2 packet ids received and not yet released (method B of §4.3.3 is not used: the
    /// message is routed on PUBLISH and the id only guards against a duplicate).
    incoming_qos2: HashSet<u16>,
    next_pid: u16,
    /// The place of the next queued message in the session's order (its key in the store).
    next_seq: u64,
    link: Option<Link>,
    principal: Arc<Principal>,
}

impl Session {
    fn new(id: Arc<str>, clean: bool, principal: Arc<Principal>) -> Self {
        Session {
            id,
            clean,
            subscriptions: HashMap::new(),
            pending: VecDeque::new(),
            inflight: BTreeMap::new(),
            incoming_qos2: HashSet::new(),
            next_pid: 1,
            next_seq: 0,
            link: None,
            principal,
        }
    }

    fn take_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq = seq.saturating_add(1);
        seq
    }
}

#[derive(Debug, Default)]
struct State {
    sessions: HashMap<Arc<str>, Session>,
    trie: SubscriptionTrie<Arc<str>>,
    retained: HashMap<String, Message>,
}

impl State {
    /// Takes a session out of the table. The table gives its room back once it is
    /// three-quarters empty, so that a storm of connections leaves no room behind (amortised:
    /// after a shrink, half of what is left must go before the next).
    fn take_session(&mut self, client_id: &str) -> Option<Session> {
        let session = self.sessions.remove(client_id)?;
        let len = self.sessions.len();
        if self.sessions.capacity() > 64 && len < self.sessions.capacity() / 4 {
            self.sessions.shrink_to(len.saturating_mul(2));
        }
        Some(session)
    }

    /// Ends a session: its subscriptions leave the trie, and a persistent one leaves the store.
    fn discard(&mut self, client_id: &str, txn: &mut Work<'_>) {
        if let Some(old) = self.take_session(client_id) {
            for filter in old.subscriptions.keys() {
                self.trie.remove(filter, client_id);
                txn.unwatch(filter);
            }
            if !old.clean {
                txn.change(Change::SessionDelete(old.id));
            }
        }
    }
}

/// Why a CONNECT was refused by the session layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SessionRefusal {
    /// `limits.max_sessions` reached.
    TooManySessions,
    /// The CONNACK could not be queued.
    QueueFull,
}

/// How an acknowledgement from the client fits what is in flight to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AckFit {
    /// It completes (or advances) a delivery.
    Matched,
    /// No delivery has that packet id: a late duplicate, ignored [MQTT-4.3.2]. Counted.
    Unknown,
    /// A delivery has that packet id at another QoS or step (a PUBREC for QoS 1, a PUBACK for
    /// QoS 2, a PUBCOMP before PUBREL): a protocol violation [MQTT-4.8.0-1].
    Mismatch,
}

/// What a PUBLISH from a client is answered with, once its effects are durable.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Reply {
    /// QoS 1: PUBACK.
    PubAck(PacketId),
    /// QoS 2: remember the packet id as received (in the same transaction as the routing), then
    /// PUBREC.
    PubRec(PacketId),
}

/// Sessions, subscriptions and retained messages behind one lock. The lock is never held
/// across an await: every send to a connection is a `try_send` on its bounded queue, or is
/// handed to the persister to be sent after the commit that it confirms.
#[derive(Debug)]
pub struct Broker {
    state: Mutex<State>,
    limits: Limits,
    authorizer: Authorizer,
    metrics: Arc<Metrics>,
    next_link_id: AtomicU64,
    persist: Option<Persister>,
    /// Cluster mode: filters sessions stop holding, for the NATS subscriptions' counts.
    unwatch: Option<mpsc::UnboundedSender<TopicFilter>>,
}

/// A persistent session as stored: who it belongs to, its subscriptions, and its messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSnapshot {
    /// The client id.
    pub client_id: String,
    /// The certificate id of its last connection (`None` for the plain listener).
    pub certificate_id: Option<String>,
    /// The source address of its last connection.
    pub source_ip: String,
    /// Filters and granted QoS.
    pub subscriptions: Vec<(TopicFilter, QoS)>,
    /// Its messages in the session's order; the in-flight ones have a packet id.
    pub messages: Vec<StoredMessage>,
    /// QoS 2 packet ids received and not yet released.
    pub incoming_qos2: Vec<u16>,
}

/// A message of a persistent session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// The message.
    pub message: Message,
    /// Its place in the session's order.
    pub seq: u64,
    /// Its packet id when in flight.
    pub packet_id: Option<u16>,
    /// Whether PUBREC arrived and PUBREL was sent (QoS 2).
    pub released: bool,
}

/// Everything that survives a restart.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Retained messages.
    pub retained: Vec<Message>,
    /// Persistent (clean session 0) sessions.
    pub sessions: Vec<SessionSnapshot>,
}

/// One operation's effects, gathered under the broker's lock: the changes to store and the
/// packets to send. Packets go out at once unless they must wait for a commit.
struct Work<'a> {
    txn: Txn,
    persist: Option<&'a Persister>,
    limits: &'a Limits,
    metrics: &'a Metrics,
    unwatch: Option<&'a mpsc::UnboundedSender<TopicFilter>>,
}

impl Work<'_> {
    /// Tells the cluster link that a session no longer holds `filter`.
    fn unwatch(&self, filter: &TopicFilter) {
        if let Some(unwatch) = self.unwatch {
            let _ = unwatch.send(filter.clone());
        }
    }

    fn change(&mut self, change: Change) {
        if self.persist.is_some() {
            self.txn.changes.push(change);
        }
    }

    /// Records a change of a persistent session's state (a clean session is never stored).
    fn session_change(&mut self, session: &Session, change: impl FnOnce(Arc<str>) -> Change) {
        if !session.clean && self.persist.is_some() {
            self.txn.changes.push(change(Arc::clone(&session.id)));
        }
    }

    /// Sends a packet on the session's connection. One that promises durable state waits for
    /// the commit of this operation's changes and of every earlier one still uncommitted; any
    /// packet waits while an earlier one to the same connection does. A full queue closes
    /// the connection (its session keeps what is in flight for the next one), except for QoS 0
    /// messages, which are dropped and counted.
    fn send(&mut self, session: &mut Session, packet: Outbound) {
        let droppable =
            matches!(&packet, Outbound::Publish(p) if p.qos_pid.qos() == QoS::AtMostOnce);
        let Some(link) = &session.link else { return };
        if let Some(persist) = self.persist {
            let must_wait = link.waiting.load(Ordering::Acquire) > 0
                || (packet.promises() && (!self.txn.changes.is_empty() || persist.backlog() > 0));
            if must_wait {
                link.waiting.fetch_add(1, Ordering::AcqRel);
                self.txn.sends.push(Deferred {
                    tx: link.tx.clone(),
                    kill: Arc::clone(&link.kill),
                    waiting: Arc::clone(&link.waiting),
                    packet,
                    droppable,
                });
                return;
            }
        }
        match link.tx.try_send(packet) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) if droppable => {
                inc(&self.metrics.dropped_slow_client_total);
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                inc(&self.metrics.slow_client_disconnects_total);
                link.kill.close(Close::SlowReader);
                // Detached here; the connection's `disconnect` still ends a clean session.
                session.link = None;
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }

    /// Hands a QoS 1/2 message to a session: in flight at once when there is room, else
    /// queued. QoS 0 goes only to a connected session (AWS IoT does not store it either).
    fn deliver(&mut self, session: &mut Session, message: Message) {
        if message.qos == QoS::AtMostOnce {
            if session.link.is_some() {
                let packet = Outbound::Publish(Box::new(Publish {
                    retain: message.retain,
                    ..Publish::new(message.topic, QosPid::AtMostOnce, message.payload)
                }));
                inc(&self.metrics.publish_sent_total);
                self.send(session, packet);
            }
            return;
        }
        if session.pending.len() >= self.limits.max_queued {
            inc(&self.metrics.dropped_queue_full_total);
            return;
        }
        let seq = session.take_seq();
        let room = session.link.is_some()
            && session.pending.is_empty()
            && session.inflight.len() < self.limits.max_inflight;
        if let Some(pid) = room.then(|| free_pid(session)).flatten() {
            self.session_change(session, |client_id| Change::MessagePut {
                client_id,
                seq,
                message: message.clone(),
                packet_id: Some(pid.get()),
            });
            self.send_inflight(session, seq, message, pid);
            return;
        }
        self.session_change(session, |client_id| Change::MessagePut {
            client_id,
            seq,
            message: message.clone(),
            packet_id: None,
        });
        session.pending.push_back(Queued { seq, message });
    }

    fn send_inflight(&mut self, session: &mut Session, seq: u64, message: Message, pid: PacketId) {
        let packet = Outbound::Publish(Box::new(publish_packet(&message, pid)));
        session.inflight.insert(
            pid.get(),
            Outgoing {
                seq,
                message,
                state: OutState::Published,
            },
        );
        inc(&self.metrics.publish_sent_total);
        self.send(session, packet);
    }

    /// Moves queued messages into the in-flight window while there is room and a connection.
    fn pump(&mut self, session: &mut Session) {
        while session.link.is_some() && session.inflight.len() < self.limits.max_inflight {
            let Some(pid) = free_pid(session) else { return };
            let Some(Queued { seq, message }) = session.pending.pop_front() else {
                return;
            };
            self.session_change(session, |client_id| Change::MessageSent {
                client_id,
                seq,
                packet_id: pid.get(),
            });
            self.send_inflight(session, seq, message, pid);
        }
    }
}

impl Broker {
    /// An empty broker; with a persister, every change of retained messages and persistent
    /// sessions is written through it, and what a packet confirms is committed before the
    /// packet is sent.
    pub(crate) fn new(
        limits: Limits,
        authorizer: Authorizer,
        metrics: Arc<Metrics>,
        persist: Option<Persister>,
        unwatch: Option<mpsc::UnboundedSender<TopicFilter>>,
    ) -> Self {
        Self {
            state: Mutex::new(State::default()),
            limits,
            authorizer,
            metrics,
            next_link_id: AtomicU64::new(1),
            persist,
            unwatch,
        }
    }

    fn work(&self) -> Work<'_> {
        Work {
            txn: Txn::default(),
            persist: self.persist.as_ref(),
            limits: &self.limits,
            metrics: &self.metrics,
            unwatch: self.unwatch.as_ref(),
        }
    }

    /// Hands an operation's changes and waiting packets to the persister (still under the
    /// lock, so operations reach it in the order they happened).
    fn finish(&self, work: Work<'_>) {
        if let Some(persist) = &self.persist {
            persist.submit(work.txn);
        }
    }

    /// The persister, when persistence is on.
    pub(crate) fn persister(&self) -> Option<&Persister> {
        self.persist.as_ref()
    }

    /// Loads the stored state into an empty broker; `principal` rebuilds each session's
    /// policy context (`None` drops the session, e.g. when its certificate is no longer
    /// active). What is dropped (by that or by the limits) is deleted from the store too.
    pub fn restore(
        &self,
        snapshot: Snapshot,
        mut principal: impl FnMut(&SessionSnapshot) -> Option<Principal>,
    ) {
        let mut guard = self.lock();
        let state = &mut *guard;
        let mut work = self.work();
        for m in snapshot.retained {
            if state.retained.len() < self.limits.max_retained {
                state.retained.insert(m.topic.as_str().to_owned(), m);
            } else {
                work.change(Change::RetainClear(m.topic));
            }
        }
        for s in snapshot.sessions {
            let key: Arc<str> = Arc::from(s.client_id.as_str());
            let p = if state.sessions.len() < self.limits.max_sessions {
                principal(&s)
            } else {
                None
            };
            let Some(p) = p else {
                work.change(Change::SessionDelete(key));
                continue;
            };
            let session = self.install(state, &mut work, s, Arc::new(p));
            state.sessions.insert(key, session);
        }
        set(&self.metrics.sessions_current, state.sessions.len());
        set(&self.metrics.retained_current, state.retained.len());
        self.finish(work);
    }

    /// A stored session rebuilt: its subscriptions enter the trie, its in-flight window and
    /// queue are refilled in order (beyond the limits, messages are dropped from the store).
    fn install(
        &self,
        state: &mut State,
        work: &mut Work<'_>,
        s: SessionSnapshot,
        principal: Arc<Principal>,
    ) -> Session {
        let key: Arc<str> = Arc::from(s.client_id.as_str());
        let mut session = Session::new(Arc::clone(&key), false, principal);
        session.incoming_qos2 = s.incoming_qos2.iter().copied().collect();
        for (filter, qos) in s.subscriptions {
            state.trie.insert(&filter, Arc::clone(&key), qos);
            session.subscriptions.insert(filter, qos);
        }
        for m in s.messages {
            session.next_seq = session.next_seq.max(m.seq.saturating_add(1));
            let in_window = session.inflight.len() < self.limits.max_inflight;
            match m.packet_id {
                Some(pid) if in_window && !session.inflight.contains_key(&pid) => {
                    let state = if m.released {
                        OutState::Released
                    } else {
                        OutState::Published
                    };
                    let out = Outgoing {
                        seq: m.seq,
                        message: m.message,
                        state,
                    };
                    session.inflight.insert(pid, out);
                }
                _ if session.pending.len() < self.limits.max_queued => {
                    session.pending.push_back(Queued {
                        seq: m.seq,
                        message: m.message,
                    })
                }
                _ => work.change(Change::MessageDelete {
                    client_id: Arc::clone(&key),
                    seq: m.seq,
                }),
            }
        }
        session
    }

    /// Cluster mode: whether this node holds `client_id`'s session.
    pub(crate) fn holds(&self, client_id: &str) -> bool {
        self.lock().sessions.contains_key(client_id)
    }

    /// Cluster mode: takes in a session read back from the cluster's store (another node
    /// held it). `false` when `limits.max_sessions` is reached; a session already here (a
    /// concurrent CONNECT) is kept as it is.
    pub(crate) fn adopt(&self, snapshot: SessionSnapshot, principal: Arc<Principal>) -> bool {
        let mut guard = self.lock();
        let state = &mut *guard;
        if state.sessions.contains_key(snapshot.client_id.as_str()) {
            return true;
        }
        if state.sessions.len() >= self.limits.max_sessions {
            return false;
        }
        let mut work = self.work();
        let key: Arc<str> = Arc::from(snapshot.client_id.as_str());
        let session = self.install(state, &mut work, snapshot, principal);
        state.sessions.insert(key, session);
        set(&self.metrics.sessions_current, state.sessions.len());
        self.finish(work);
        true
    }

    /// Cluster mode: another node takes `client_id`'s session over. Its connection here is
    /// closed and the session forgotten here, but not deleted from the store: the other
    /// node reads it back once this node's pending writes are committed.
    pub(crate) fn release(&self, client_id: &str) -> bool {
        let mut guard = self.lock();
        let state = &mut *guard;
        let Some(old) = state.take_session(client_id) else {
            return false;
        };
        if let Some(link) = &old.link {
            link.kill.close(Close::TakenOverByNode);
            inc(&self.metrics.takeovers_total);
        }
        let work = self.work();
        for filter in old.subscriptions.keys() {
            state.trie.remove(filter, client_id);
            work.unwatch(filter);
        }
        set(&self.metrics.sessions_current, state.sessions.len());
        true
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that is
        // worse than losing them, so a poisoned lock is used as is.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn next_link_id(&self) -> u64 {
        self.next_link_id.fetch_add(1, Ordering::Relaxed)
    }

    /// The number of sessions held.
    pub fn session_count(&self) -> usize {
        self.lock().sessions.len()
    }

    /// The retained message of a topic.
    pub fn retained(&self, topic: &str) -> Option<Message> {
        self.lock().retained.get(topic).cloned()
    }

    /// The number of retained messages held.
    pub fn retained_count(&self) -> usize {
        self.lock().retained.len()
    }

    /// Attaches a connection to its session (new or resumed), closing an older connection with
    /// the same client id [MQTT-3.1.4-2]; queues the CONNACK, then resends the in-flight window
    /// and the queued messages of a resumed session [MQTT-4.4.0-1].
    pub(crate) fn connect(
        &self,
        client_id: &str,
        clean: bool,
        principal: Arc<Principal>,
        link: Link,
    ) -> Result<bool, SessionRefusal> {
        let mut guard = self.lock();
        let state = &mut *guard;
        let mut work = self.work();
        let result = self.connect_locked(state, &mut work, client_id, clean, principal, link);
        set(&self.metrics.sessions_current, state.sessions.len());
        self.finish(work);
        result
    }

    fn connect_locked(
        &self,
        state: &mut State,
        work: &mut Work<'_>,
        client_id: &str,
        clean: bool,
        principal: Arc<Principal>,
        link: Link,
    ) -> Result<bool, SessionRefusal> {
        let mut resumable = false;
        if let Some(old) = state.sessions.get_mut(client_id) {
            if let Some(old_link) = old.link.take() {
                old_link.kill.close(Close::TakenOver);
                inc(&self.metrics.takeovers_total);
            }
            // [MQTT-3.1.2-6]: a clean session's state ends with its connection, and a clean
            // CONNECT discards any previous session.
            resumable = !old.clean && !clean;
        }
        if !resumable {
            state.discard(client_id, work);
        }
        if !resumable && state.sessions.len() >= self.limits.max_sessions {
            return Err(SessionRefusal::TooManySessions);
        }
        let key: Arc<str> = Arc::from(client_id);
        let session = state
            .sessions
            .entry(Arc::clone(&key))
            .or_insert_with(|| Session::new(key, clean, Arc::clone(&principal)));
        let certificate_id = principal
            .identity
            .as_ref()
            .map(|i| i.certificate_id.clone());
        let source_ip = principal.source_ip.clone();
        session.principal = principal;
        work.session_change(session, |client_id| Change::SessionPut {
            client_id,
            certificate_id,
            source_ip,
        });
        let connack = Outbound::ConnAck(ConnAck::new(resumable, ConnectReturnCode::Accepted));
        if link.tx.try_send(connack).is_err() {
            return Err(SessionRefusal::QueueFull);
        }
        session.link = Some(link);
        // Resend what was in flight, oldest first, with DUP set [MQTT-4.4.0-1], then fill the
        // window from the queue.
        let resend: Vec<Outbound> = session
            .inflight
            .iter()
            .filter_map(|(pid, out)| {
                let id = PacketId::new(*pid)?;
                Some(match out.state {
                    OutState::Published => {
                        let mut p = publish_packet(&out.message, id);
                        p.dup = true;
                        Outbound::Publish(Box::new(p))
                    }
                    OutState::Released => Outbound::PubRel(id),
                })
            })
            .collect();
        for packet in resend {
            work.send(session, packet);
        }
        work.pump(session);
        Ok(resumable)
    }

    /// After a reload: rebuilds every session's principal with `rebuild`; a session whose
    /// principal cannot be rebuilt (certificate no longer active) or may no longer connect
    /// loses its connection and is discarded. Returns how many connections were closed.
    pub(crate) fn reauthorize(
        &self,
        mut rebuild: impl FnMut(&Principal) -> Option<Principal>,
    ) -> usize {
        let mut guard = self.lock();
        let state = &mut *guard;
        let mut work = self.work();
        let mut closed = 0usize;
        let mut discard = Vec::new();
        for (client_id, session) in state.sessions.iter_mut() {
            let rebuilt = rebuild(&session.principal)
                .filter(|p| self.authorizer.allows(p, Action::Connect, client_id));
            match rebuilt {
                Some(p) => {
                    let p = Arc::new(p);
                    if let Some(link) = &session.link {
                        *link.principal.write().unwrap_or_else(|e| e.into_inner()) = Arc::clone(&p);
                    }
                    session.principal = p;
                }
                None => {
                    if let Some(link) = session.link.take() {
                        link.kill.close(Close::NoLongerAllowed);
                        closed = closed.saturating_add(1);
                    }
                    discard.push(Arc::clone(client_id));
                }
            }
        }
        for client_id in discard {
            state.discard(&client_id, &mut work);
        }
        set(&self.metrics.sessions_current, state.sessions.len());
        self.finish(work);
        closed
    }

    /// Detaches a closed connection; a clean session ends with it [MQTT-3.1.2-6], whether the
    /// connection closed itself or was closed by the broker (slow reader, reload). Only a
    /// newer connection that took the session over keeps it.
    pub(crate) fn disconnect(&self, client_id: &str, link_id: u64) {
        let mut guard = self.lock();
        let state = &mut *guard;
        let Some(session) = state.sessions.get_mut(client_id) else {
            return;
        };
        if session.link.as_ref().is_some_and(|l| l.id != link_id) {
            return; // Taken over: the session now belongs to a newer connection.
        }
        session.link = None;
        if session.clean {
            let mut work = self.work();
            state.discard(client_id, &mut work);
            self.finish(work);
        }
        set(&self.metrics.sessions_current, state.sessions.len());
    }

    /// Routes an accepted message: updates the retained store, then delivers it once to each
    /// subscriber that may receive it, at the lower of its QoS and the subscription's.
    pub fn publish(&self, message: &Message) {
        self.publish_from(message, None, None, None);
    }

    /// As [`Broker::publish`], except to the session `exclude` (the bridge a message came
    /// from, so that it does not go back), and answering the publishing client with `reply`
    /// once what the message changed is durable, `forward` (the message for the other nodes
    /// of a cluster) included.
    pub(crate) fn publish_from(
        &self,
        message: &Message,
        exclude: Option<&str>,
        reply: Option<(&str, Reply)>,
        forward: Option<Change>,
    ) {
        inc(&self.metrics.publish_received_total);
        let mut guard = self.lock();
        let state = &mut *guard;
        let mut work = self.work();
        if let Some(forward) = forward {
            work.change(forward);
        }
        if message.retain {
            let topic = message.topic.as_str();
            if message.payload.is_empty() {
                // [MQTT-3.3.1-10]: a zero-byte retained message clears the topic.
                if state.retained.remove(topic).is_some() {
                    work.change(Change::RetainClear(message.topic.clone()));
                }
            } else if state.retained.contains_key(topic)
                || state.retained.len() < self.limits.max_retained
            {
                state.retained.insert(topic.to_owned(), message.clone());
                work.change(Change::RetainSet(message.clone()));
            } else {
                inc(&self.metrics.dropped_retained_limit_total);
            }
            set(&self.metrics.retained_current, state.retained.len());
        }
        self.deliver_matching(state, &mut work, message, |client| exclude != Some(client));
        if let Some((client_id, reply)) = reply {
            if let Some(session) = state.sessions.get_mut(client_id) {
                let packet = match reply {
                    Reply::PubAck(pid) => Outbound::PubAck(pid),
                    Reply::PubRec(pid) => {
                        if session.incoming_qos2.insert(pid.get()) {
                            work.session_change(session, |client_id| Change::IncomingQos2Put {
                                client_id,
                                packet_id: pid.get(),
                            });
                        }
                        Outbound::PubRec(pid)
                    }
                };
                work.send(session, packet);
            }
        }
        self.finish(work);
    }

    /// Delivers `message` once to each session whose subscriptions match it, that `to`
    /// accepts and that may receive it, at the lower of its QoS and the subscription's.
    fn deliver_matching(
        &self,
        state: &mut State,
        work: &mut Work<'_>,
        message: &Message,
        to: impl Fn(&str) -> bool,
    ) {
        let targets = state.trie.matches(&message.topic);
        for (client, granted) in targets {
            if !to(&client) {
                continue;
            }
            let Some(session) = state.sessions.get_mut(&client) else {
                continue;
            };
            if !self
                .authorizer
                .allows(&session.principal, Action::Receive, message.topic.as_str())
            {
                continue;
            }
            let delivered = Message {
                topic: message.topic.clone(),
                payload: message.payload.clone(),
                qos: message.qos.min(granted),
                // [MQTT-3.3.1-9]: retain is 0 on messages sent to existing subscriptions.
                retain: false,
                origin: message.origin,
            };
            work.deliver(session, delivered);
        }
    }

    /// Cluster mode: delivers `message` to the session `client_id` alone, if its
    /// subscriptions match (a message read again from the cluster's log for it).
    pub(crate) fn publish_to(&self, client_id: &str, message: &Message) {
        let mut guard = self.lock();
        let state = &mut *guard;
        let mut work = self.work();
        self.deliver_matching(state, &mut work, message, |client| client == client_id);
        self.finish(work);
    }

    /// Records the granted filters (`None` = refused), queues the SUBACK, then the retained
    /// messages matching each granted filter [MQTT-3.3.1-6]. Returns, per filter, whether the
    /// session holds it now and did not before.
    pub(crate) fn subscribe(
        &self,
        client_id: &str,
        packet_id: PacketId,
        grants: &[(TopicFilter, Option<QoS>)],
    ) -> Vec<bool> {
        let mut guard = self.lock();
        let state = &mut *guard;
        let Some(session) = state.sessions.get_mut(client_id) else {
            return vec![false; grants.len()];
        };
        let mut added = Vec::with_capacity(grants.len());
        let mut work = self.work();
        let mut granted: Vec<Option<QoS>> = Vec::with_capacity(grants.len());
        for (filter, grant) in grants {
            let room = session.subscriptions.contains_key(filter)
                || session.subscriptions.len() < self.limits.max_subscriptions;
            if grant.is_some() && !room {
                inc(&self.metrics.subscriptions_refused_limit_total);
            }
            let grant = grant.filter(|_| room);
            granted.push(grant);
            added.push(grant.is_some() && !session.subscriptions.contains_key(filter));
            if let Some(qos) = grant {
                session.subscriptions.insert(filter.clone(), qos);
                state.trie.insert(filter, Arc::clone(&session.id), qos);
                work.session_change(session, |client_id| Change::SubscriptionPut {
                    client_id,
                    filter: filter.clone(),
                    qos,
                });
            }
        }
        let codes = granted.iter().map(|g| match g {
            Some(q) => SubAckReturnCode::Success(*q),
            None => SubAckReturnCode::Failure,
        });
        // A SUBSCRIBE always has a filter, so the SUBACK can be built.
        if let Ok(suback) = SubAck::new(packet_id, codes) {
            work.send(session, Outbound::SubAck(Box::new(suback)));
        }
        for ((filter, _), grant) in grants.iter().zip(&granted) {
            let Some(granted) = grant else { continue };
            let matching: Vec<Message> = state
                .retained
                .values()
                .filter(|m| filter.matches(&m.topic))
                .cloned()
                .collect();
            for m in matching {
                if !self
                    .authorizer
                    .allows(&session.principal, Action::Receive, m.topic.as_str())
                {
                    continue;
                }
                let qos = m.qos.min(*granted);
                work.deliver(
                    session,
                    Message {
                        qos,
                        retain: true,
                        ..m
                    },
                );
            }
        }
        self.finish(work);
        added
    }

    /// Removes subscriptions and queues the UNSUBACK.
    pub(crate) fn unsubscribe(
        &self,
        client_id: &str,
        packet_id: PacketId,
        filters: &[TopicFilter],
    ) {
        let mut guard = self.lock();
        let state = &mut *guard;
        let Some(session) = state.sessions.get_mut(client_id) else {
            return;
        };
        let mut work = self.work();
        for f in filters {
            if session.subscriptions.remove(f).is_some() {
                state.trie.remove(f, client_id);
                work.unwatch(f);
                work.session_change(session, |client_id| Change::SubscriptionDelete {
                    client_id,
                    filter: f.clone(),
                });
            }
        }
        work.send(session, Outbound::UnsubAck(packet_id));
        self.finish(work);
    }

    /// Cluster mode: the cluster's retained message of a topic, as mirrored from NATS (stored
    /// here for new subscriptions; no delivery, which the message's own routing does).
    pub(crate) fn mirror_retained(&self, message: Message) {
        let mut state = self.lock();
        let topic = message.topic.as_str();
        if state.retained.contains_key(topic) || state.retained.len() < self.limits.max_retained {
            state.retained.insert(topic.to_owned(), message);
        } else {
            inc(&self.metrics.dropped_retained_limit_total);
        }
        set(&self.metrics.retained_current, state.retained.len());
    }

    /// Cluster mode: a topic's retained message cleared on some node.
    pub(crate) fn mirror_retained_clear(&self, topic: &TopicName) {
        let mut state = self.lock();
        state.retained.remove(topic.as_str());
        set(&self.metrics.retained_current, state.retained.len());
    }

    /// Cluster mode: another node took `client_id` over from this node's connection accepted
    /// at `at` (microseconds since the epoch, as the owner record had it); closes that
    /// connection if it is still the client's (its session then ends as any closed
    /// connection's does). Whether one was closed.
    pub(crate) fn evict(&self, client_id: &str, at: u64) -> bool {
        let mut state = self.lock();
        let Some(session) = state.sessions.get_mut(client_id) else {
            return false;
        };
        match &session.link {
            Some(link) if link.connected_at == at => {
                link.kill.close(Close::TakenOverByNode);
                true
            }
            _ => false,
        }
    }

    /// Queues a packet on the client's connection (after the commits it depends on); a full
    /// queue closes the connection.
    pub(crate) fn send(&self, client_id: &str, packet: Outbound) {
        let mut state = self.lock();
        if let Some(session) = state.sessions.get_mut(client_id) {
            let mut work = self.work();
            work.send(session, packet);
            self.finish(work);
        }
    }

    /// PUBACK: completes a QoS 1 delivery.
    pub(crate) fn puback(&self, client_id: &str, pid: PacketId) -> AckFit {
        self.complete(client_id, pid, OutState::Published, QoS::AtLeastOnce)
    }

    /// PUBCOMP: completes a QoS 2 delivery.
    pub(crate) fn pubcomp(&self, client_id: &str, pid: PacketId) -> AckFit {
        self.complete(client_id, pid, OutState::Released, QoS::ExactlyOnce)
    }

    fn complete(&self, client_id: &str, pid: PacketId, expect: OutState, qos: QoS) -> AckFit {
        let mut state = self.lock();
        let Some(session) = state.sessions.get_mut(client_id) else {
            return AckFit::Unknown;
        };
        let fit = match session.inflight.get(&pid.get()) {
            None => AckFit::Unknown,
            Some(o) if o.state == expect && o.message.qos == qos => AckFit::Matched,
            Some(_) => AckFit::Mismatch,
        };
        if fit == AckFit::Matched {
            let mut work = self.work();
            if let Some(done) = session.inflight.remove(&pid.get()) {
                work.session_change(session, |client_id| Change::MessageDelete {
                    client_id,
                    seq: done.seq,
                });
            }
            work.pump(session);
            self.finish(work);
        }
        fit
    }

    /// PUBREC: answer PUBREL and wait for PUBCOMP [MQTT-4.3.3-1]. A repeated PUBREC gets the
    /// PUBREL again.
    pub(crate) fn pubrec(&self, client_id: &str, pid: PacketId) -> AckFit {
        let mut state = self.lock();
        let Some(session) = state.sessions.get_mut(client_id) else {
            return AckFit::Unknown;
        };
        let Some(out) = session.inflight.get_mut(&pid.get()) else {
            return AckFit::Unknown;
        };
        if out.message.qos != QoS::ExactlyOnce {
            return AckFit::Mismatch;
        }
        let mut work = self.work();
        if out.state == OutState::Published {
            out.state = OutState::Released;
            let seq = out.seq;
            work.session_change(session, |client_id| Change::MessageReleased {
                client_id,
                seq,
            });
        }
        work.send(session, Outbound::PubRel(pid));
        self.finish(work);
        AckFit::Matched
    }

    /// A QoS 2 PUBLISH arrived: whether it is new (route it) or a resend of one not yet
    /// released (do not route again). `Err` when the client has too many unreleased.
    pub(crate) fn incoming_qos2(&self, client_id: &str, pid: PacketId) -> Result<bool, ()> {
        let mut state = self.lock();
        let Some(session) = state.sessions.get_mut(client_id) else {
            return Err(());
        };
        if session.incoming_qos2.contains(&pid.get()) {
            return Ok(false);
        }
        if session.incoming_qos2.len() >= self.limits.max_inflight {
            return Err(());
        }
        Ok(true)
    }

    /// PUBREL: forget the packet id and answer PUBCOMP [MQTT-4.3.3-2].
    pub(crate) fn pubrel(&self, client_id: &str, pid: PacketId) {
        let mut state = self.lock();
        if let Some(session) = state.sessions.get_mut(client_id) {
            let mut work = self.work();
            if session.incoming_qos2.remove(&pid.get()) {
                work.session_change(session, |client_id| Change::IncomingQos2Delete {
                    client_id,
                    packet_id: pid.get(),
                });
            }
            work.send(session, Outbound::PubComp(pid));
            self.finish(work);
        }
    }
}

fn publish_packet(message: &Message, pid: PacketId) -> Publish {
    let qos_pid = match message.qos {
        QoS::AtMostOnce => QosPid::AtMostOnce,
        QoS::AtLeastOnce => QosPid::AtLeastOnce(pid),
        QoS::ExactlyOnce => QosPid::ExactlyOnce(pid),
    };
    let mut p = Publish::new(message.topic.clone(), qos_pid, message.payload.clone());
    p.retain = message.retain;
    p
}

/// The next packet id not in flight (max_inflight < 65,535, so one exists).
fn free_pid(session: &mut Session) -> Option<PacketId> {
    for _ in 0..=u16::MAX {
        let candidate = session.next_pid;
        session.next_pid = session.next_pid.checked_add(1).unwrap_or(1);
        if let Some(id) = PacketId::new(candidate) {
            if !session.inflight.contains_key(&candidate) {
                return Some(id);
            }
        }
    }
    None
}

#[cfg(test)]
mod size_tests {
    use super::Outbound;

    /// Every connection's outbound queue allocates a block of 32 slots up front.
    #[test]
    fn an_outbound_queue_slot_is_16_bytes() {
        assert_eq!(std::mem::size_of::<Outbound>(), 16);
    }
}
