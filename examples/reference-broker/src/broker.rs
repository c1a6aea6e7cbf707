//! The shared broker state: sessions, the subscription trie and retained messages, and the
//! routing of every accepted message to its subscribers.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use bytes::Bytes;
use iot_policy::Action;
use mqtt_wire::{
    ConnAck, ConnectReturnCode, Packet, PacketId, Publish, QoS, QosPid, SubAck, SubAckReturnCode,
    TopicFilter, TopicName,
};
use tokio::sync::{Notify, mpsc};

use crate::auth::{Authorizer, Principal};
use crate::config::Limits;
use crate::metrics::{Metrics, inc, set};
use crate::trie::SubscriptionTrie;

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
}

/// The broker's handle on one live connection.
#[derive(Debug, Clone)]
pub(crate) struct Link {
    /// Unique per connection, so that a stale connection cannot detach a newer one.
    pub(crate) id: u64,
    /// The connection's bounded outbound queue.
    pub(crate) tx: mpsc::Sender<Outbound>,
    /// Wakes the connection to close it (takeover, slow reader, reload).
    pub(crate) kill: Arc<Notify>,
    /// The connection's current principal; a reload replaces it.
    pub(crate) principal: Arc<RwLock<Arc<Principal>>>,
}

/// A packet the broker queues for a connection: the server-to-client kinds only, so a queue
/// slot is the size of a PUBLISH (mqtt-wire's `Packet` is as large as its CONNECT, 176 bytes,
/// and a queue's first block holds 32 slots whether used or not).
#[derive(Debug)]
pub(crate) enum Outbound {
    ConnAck(ConnAck),
    Publish(Publish),
    PubAck(PacketId),
    PubRec(PacketId),
    PubRel(PacketId),
    PubComp(PacketId),
    SubAck(SubAck),
    UnsubAck(PacketId),
    PingResp,
}

impl From<Outbound> for Packet {
    fn from(out: Outbound) -> Packet {
        match out {
            Outbound::ConnAck(a) => Packet::ConnAck(a),
            Outbound::Publish(p) => Packet::Publish(p),
            Outbound::PubAck(id) => Packet::PubAck(id),
            Outbound::PubRec(id) => Packet::PubRec(id),
            Outbound::PubRel(id) => Packet::PubRel(id),
            Outbound::PubComp(id) => Packet::PubComp(id),
            Outbound::SubAck(a) => Packet::SubAck(a),
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
    message: Message,
    state: OutState,
}

#[derive(Debug)]
struct Session {
    clean: bool,
    subscriptions: HashMap<String, QoS>,
    /// QoS 1/2 messages waiting for room in the in-flight window (or for a reconnect).
    pending: VecDeque<Message>,
    inflight: BTreeMap<u16, Outgoing>,
    /// QoS 2 packet ids received and not yet released (method B of §4.3.3 is not used: the
    /// message is routed on PUBLISH and the id only guards against a duplicate).
    incoming_qos2: HashSet<u16>,
    next_pid: u16,
    link: Option<Link>,
    principal: Arc<Principal>,
}

#[derive(Debug, Default)]
struct State {
    sessions: HashMap<Arc<str>, Session>,
    trie: SubscriptionTrie,
    retained: HashMap<String, Message>,
}

/// Why a CONNECT was refused by the session layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SessionRefusal {
    /// `limits.max_sessions` reached.
    TooManySessions,
    /// The CONNACK could not be queued.
    QueueFull,
}

/// Sessions, subscriptions and retained messages behind one lock. The lock is never held
/// across an await: every send to a connection is a `try_send` on its bounded queue.
#[derive(Debug)]
pub struct Broker {
    state: Mutex<State>,
    limits: Limits,
    authorizer: Authorizer,
    metrics: Arc<Metrics>,
    next_link_id: AtomicU64,
    /// Bumped by every change, so the autosave knows when there is something to write.
    generation: AtomicU64,
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
    pub subscriptions: Vec<(String, QoS)>,
    /// In-flight messages (with their packet id, and whether PUBREL was sent), then queued ones.
    pub messages: Vec<StoredMessage>,
    /// QoS 2 packet ids received and not yet released.
    pub incoming_qos2: Vec<u16>,
}

/// A message of a persistent session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// The message.
    pub message: Message,
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

impl Broker {
    /// An empty broker.
    pub fn new(limits: Limits, authorizer: Authorizer, metrics: Arc<Metrics>) -> Self {
        Self {
            state: Mutex::new(State::default()),
            limits,
            authorizer,
            metrics,
            next_link_id: AtomicU64::new(1),
            generation: AtomicU64::new(0),
        }
    }

    /// A number that changes whenever the state may have changed.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Relaxed)
    }

    /// A copy of the retained messages and persistent sessions.
    pub fn snapshot(&self) -> Snapshot {
        let state = self.lock_read();
        let mut retained: Vec<Message> = state.retained.values().cloned().collect();
        retained.sort_by(|a, b| a.topic.as_str().cmp(b.topic.as_str()));
        let mut sessions = Vec::new();
        for (client_id, session) in &state.sessions {
            if session.clean {
                continue;
            }
            let mut subscriptions: Vec<(String, QoS)> = session
                .subscriptions
                .iter()
                .map(|(f, q)| (f.clone(), *q))
                .collect();
            subscriptions.sort();
            let mut messages: Vec<StoredMessage> = session
                .inflight
                .iter()
                .map(|(pid, out)| StoredMessage {
                    message: out.message.clone(),
                    packet_id: Some(*pid),
                    released: out.state == OutState::Released,
                })
                .collect();
            messages.extend(session.pending.iter().map(|m| StoredMessage {
                message: m.clone(),
                packet_id: None,
                released: false,
            }));
            let mut incoming_qos2: Vec<u16> = session.incoming_qos2.iter().copied().collect();
            incoming_qos2.sort_unstable();
            let principal = &session.principal;
            sessions.push(SessionSnapshot {
                client_id: client_id.to_string(),
                certificate_id: principal
                    .identity
                    .as_ref()
                    .map(|i| i.certificate_id.clone()),
                source_ip: principal.source_ip.clone(),
                subscriptions,
                messages,
                incoming_qos2,
            });
        }
        sessions.sort_by(|a, b| a.client_id.cmp(&b.client_id));
        Snapshot { retained, sessions }
    }

    /// Loads a snapshot into an empty broker; `principal` rebuilds each session's policy
    /// context (`None` drops the session, e.g. when its certificate is no longer active).
    pub fn restore(
        &self,
        snapshot: Snapshot,
        mut principal: impl FnMut(&SessionSnapshot) -> Option<Principal>,
    ) {
        let mut guard = self.lock();
        let state = &mut *guard;
        for m in snapshot.retained {
            if state.retained.len() < self.limits.max_retained {
                state.retained.insert(m.topic.as_str().to_owned(), m);
            }
        }
        for s in snapshot.sessions {
            if state.sessions.len() >= self.limits.max_sessions {
                break;
            }
            let Some(p) = principal(&s) else { continue };
            let key: Arc<str> = Arc::from(s.client_id.as_str());
            let mut session = Session {
                clean: false,
                subscriptions: HashMap::new(),
                pending: VecDeque::new(),
                inflight: BTreeMap::new(),
                incoming_qos2: s.incoming_qos2.iter().copied().collect(),
                next_pid: 1,
                link: None,
                principal: Arc::new(p),
            };
            for (filter, qos) in s.subscriptions {
                state.trie.insert(&filter, &key, qos);
                session.subscriptions.insert(filter, qos);
            }
            for m in s.messages {
                match m.packet_id {
                    Some(pid) if session.inflight.len() < self.limits.max_inflight => {
                        session.inflight.insert(
                            pid,
                            Outgoing {
                                message: m.message,
                                state: if m.released {
                                    OutState::Released
                                } else {
                                    OutState::Published
                                },
                            },
                        );
                    }
                    _ if session.pending.len() < self.limits.max_queued => {
                        session.pending.push_back(m.message)
                    }
                    _ => {}
                }
            }
            state.sessions.insert(key, session);
        }
        set(&self.metrics.sessions_current, state.sessions.len());
        set(&self.metrics.retained_current, state.retained.len());
    }

    fn lock_read(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that is
        // worse than losing them, so a poisoned lock is used as is.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The lock, for a change.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.generation.fetch_add(1, Ordering::Relaxed);
        self.lock_read()
    }

    pub(crate) fn next_link_id(&self) -> u64 {
        self.next_link_id.fetch_add(1, Ordering::Relaxed)
    }

    /// The number of sessions held.
    pub fn session_count(&self) -> usize {
        self.lock_read().sessions.len()
    }

    /// The retained message of a topic.
    pub fn retained(&self, topic: &str) -> Option<Message> {
        self.lock_read().retained.get(topic).cloned()
    }

    /// The number of retained messages held.
    pub fn retained_count(&self) -> usize {
        self.lock_read().retained.len()
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
        let key: Arc<str> = Arc::from(client_id);
        if let Some(old) = state.sessions.get_mut(&key) {
            if let Some(old_link) = old.link.take() {
                old_link.kill.notify_one();
                inc(&self.metrics.takeovers_total);
            }
        }
        if clean {
            // [MQTT-3.1.2-6]: a clean session discards any previous one.
            if let Some(old) = state.sessions.remove(&key) {
                for filter in old.subscriptions.keys() {
                    state.trie.remove(filter, client_id);
                }
            }
        } else if !state.sessions.contains_key(&key)
            && state.sessions.len() >= self.limits.max_sessions
        {
            return Err(SessionRefusal::TooManySessions);
        }
        if clean && state.sessions.len() >= self.limits.max_sessions {
            return Err(SessionRefusal::TooManySessions);
        }
        let session_present = !clean && state.sessions.contains_key(&key);
        let session = state
            .sessions
            .entry(Arc::clone(&key))
            .or_insert_with(|| Session {
                clean,
                subscriptions: HashMap::new(),
                pending: VecDeque::new(),
                inflight: BTreeMap::new(),
                incoming_qos2: HashSet::new(),
                next_pid: 1,
                link: None,
                principal: Arc::clone(&principal),
            });
        session.clean = clean;
        session.principal = principal;
        let connack = Outbound::ConnAck(ConnAck::new(session_present, ConnectReturnCode::Accepted));
        if link.tx.try_send(connack).is_err() {
            return Err(SessionRefusal::QueueFull);
        }
        session.link = Some(link);
        // Resend what was in flight, oldest first, with DUP set [MQTT-4.4.0-1], then fill the
        // window from the queue.
        let resend: Vec<(u16, Outbound)> = session
            .inflight
            .iter()
            .filter_map(|(pid, out)| {
                let id = PacketId::new(*pid)?;
                Some((
                    *pid,
                    match out.state {
                        OutState::Published => {
                            let mut p = publish_packet(&out.message, id);
                            p.dup = true;
                            Outbound::Publish(p)
                        }
                        OutState::Released => Outbound::PubRel(id),
                    },
                ))
            })
            .collect();
        for (_, packet) in resend {
            send_or_kill(session, packet, &self.metrics);
        }
        pump(session, &self.limits, &self.metrics);
        set(&self.metrics.sessions_current, state.sessions.len());
        Ok(session_present)
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
        let mut closed = 0usize;
        let mut discard = Vec::new();
        for (client_id, session) in state.sessions.iter_mut() {
            let rebuilt = rebuild(&session.principal).filter(|p| {
                self.authorizer
                    .allows(p, Action::Connect, "client", client_id)
            });
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
                        link.kill.notify_one();
                        closed = closed.saturating_add(1);
                    }
                    discard.push(Arc::clone(client_id));
                }
            }
        }
        for client_id in discard {
            if let Some(old) = state.sessions.remove(&client_id) {
                for filter in old.subscriptions.keys() {
                    state.trie.remove(filter, &client_id);
                }
            }
        }
        set(&self.metrics.sessions_current, state.sessions.len());
        closed
    }

    /// Detaches a closed connection; a clean session ends with it [MQTT-3.1.2-6].
    pub(crate) fn disconnect(&self, client_id: &str, link_id: u64) {
        let mut guard = self.lock();
        let state = &mut *guard;
        let Some(session) = state.sessions.get_mut(client_id) else {
            return;
        };
        if session.link.as_ref().map(|l| l.id) != Some(link_id) {
            return; // Taken over: the session now belongs to a newer connection.
        }
        session.link = None;
        if session.clean {
            if let Some(old) = state.sessions.remove(client_id) {
                for filter in old.subscriptions.keys() {
                    state.trie.remove(filter, client_id);
                }
            }
        }
        set(&self.metrics.sessions_current, state.sessions.len());
    }

    /// Routes an accepted message: updates the retained store, then delivers it once to each
    /// subscriber that may receive it, at the lower of its QoS and the subscription's.
    pub fn publish(&self, message: &Message) {
        self.publish_excluding(message, None);
    }

    /// As [`Broker::publish`], except to the session `exclude` (the bridge a message came
    /// from, so that it does not go back).
    pub fn publish_excluding(&self, message: &Message, exclude: Option<&str>) {
        inc(&self.metrics.publish_received_total);
        let mut guard = self.lock();
        let state = &mut *guard;
        if message.retain {
            let topic = message.topic.as_str();
            if message.payload.is_empty() {
                // [MQTT-3.3.1-10]: a zero-byte retained message clears the topic.
                state.retained.remove(topic);
            } else if state.retained.contains_key(topic)
                || state.retained.len() < self.limits.max_retained
            {
                state.retained.insert(topic.to_owned(), message.clone());
            } else {
                inc(&self.metrics.dropped_retained_limit_total);
            }
            set(&self.metrics.retained_current, state.retained.len());
        }
        let targets = state.trie.matches(message.topic.as_str());
        for (client, granted) in targets {
            if exclude == Some(&*client) {
                continue;
            }
            let Some(session) = state.sessions.get_mut(&client) else {
                continue;
            };
            if !self.authorizer.allows(
                &session.principal,
                Action::Receive,
                "topic",
                message.topic.as_str(),
            ) {
                continue;
            }
            let delivered = Message {
                topic: message.topic.clone(),
                payload: message.payload.clone(),
                qos: message.qos.min(granted),
                // [MQTT-3.3.1-9]: retain is 0 on messages sent to existing subscriptions.
                retain: false,
            };
            deliver(session, delivered, &self.limits, &self.metrics);
        }
    }

    /// Records the granted filters (`None` = refused), queues the SUBACK, then the retained
    /// messages matching each granted filter [MQTT-3.3.1-6].
    pub(crate) fn subscribe(
        &self,
        client_id: &str,
        packet_id: PacketId,
        grants: &[(TopicFilter, Option<QoS>)],
    ) {
        let mut guard = self.lock();
        let state = &mut *guard;
        let key: Arc<str> = Arc::from(client_id);
        let Some(session) = state.sessions.get_mut(&key) else {
            return;
        };
        for (filter, grant) in grants {
            if let Some(qos) = grant {
                session
                    .subscriptions
                    .insert(filter.as_str().to_owned(), *qos);
                state.trie.insert(filter.as_str(), &key, *qos);
            }
        }
        let codes = grants.iter().map(|(_, g)| match g {
            Some(q) => SubAckReturnCode::Success(*q),
            None => SubAckReturnCode::Failure,
        });
        match SubAck::new(packet_id, codes) {
            Ok(suback) => send_or_kill(session, Outbound::SubAck(suback), &self.metrics),
            Err(_) => return, // A SUBSCRIBE always has a filter; nothing to acknowledge.
        }
        for (filter, grant) in grants {
            let Some(granted) = grant else { continue };
            let matching: Vec<Message> = state
                .retained
                .values()
                .filter(|m| filter.matches(&m.topic))
                .cloned()
                .collect();
            for m in matching {
                if !self.authorizer.allows(
                    &session.principal,
                    Action::Receive,
                    "topic",
                    m.topic.as_str(),
                ) {
                    continue;
                }
                let qos = m.qos.min(*granted);
                deliver(
                    session,
                    Message {
                        qos,
                        retain: true,
                        ..m
                    },
                    &self.limits,
                    &self.metrics,
                );
            }
        }
    }

    /// Removes subscriptions and queues the UNSUBACK.
    pub(crate) fn unsubscribe(&self, client_id: &str, packet_id: PacketId, filters: &[String]) {
        let mut guard = self.lock();
        let state = &mut *guard;
        let Some(session) = state.sessions.get_mut(client_id) else {
            return;
        };
        for f in filters {
            if session.subscriptions.remove(f).is_some() {
                state.trie.remove(f, client_id);
            }
        }
        send_or_kill(session, Outbound::UnsubAck(packet_id), &self.metrics);
    }

    /// Queues a packet on the client's connection; a full queue closes the connection.
    pub(crate) fn send(&self, client_id: &str, packet: Outbound) {
        let mut state = self.lock();
        if let Some(session) = state.sessions.get_mut(client_id) {
            send_or_kill(session, packet, &self.metrics);
        }
    }

    /// PUBACK: the QoS 1 delivery is complete; whether `pid` was in flight as one.
    pub(crate) fn puback(&self, client_id: &str, pid: PacketId) -> bool {
        self.complete(client_id, pid, OutState::Published, QoS::AtLeastOnce)
    }

    /// PUBCOMP: the QoS 2 delivery is complete.
    pub(crate) fn pubcomp(&self, client_id: &str, pid: PacketId) -> bool {
        self.complete(client_id, pid, OutState::Released, QoS::ExactlyOnce)
    }

    fn complete(&self, client_id: &str, pid: PacketId, expect: OutState, qos: QoS) -> bool {
        let mut state = self.lock();
        let Some(session) = state.sessions.get_mut(client_id) else {
            return false;
        };
        let matches = session
            .inflight
            .get(&pid.get())
            .is_some_and(|o| o.state == expect && o.message.qos == qos);
        if matches {
            session.inflight.remove(&pid.get());
            pump(session, &self.limits, &self.metrics);
        }
        matches
    }

    /// PUBREC: answer PUBREL and wait for PUBCOMP [MQTT-4.3.3-1].
    pub(crate) fn pubrec(&self, client_id: &str, pid: PacketId) -> bool {
        let mut state = self.lock();
        let Some(session) = state.sessions.get_mut(client_id) else {
            return false;
        };
        let Some(out) = session.inflight.get_mut(&pid.get()) else {
            return false;
        };
        if out.message.qos != QoS::ExactlyOnce {
            return false;
        }
        out.state = OutState::Released;
        send_or_kill(session, Outbound::PubRel(pid), &self.metrics);
        true
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
        session.incoming_qos2.insert(pid.get());
        Ok(true)
    }

    /// PUBREL: forget the packet id and answer PUBCOMP [MQTT-4.3.3-2].
    pub(crate) fn pubrel(&self, client_id: &str, pid: PacketId) {
        let mut state = self.lock();
        if let Some(session) = state.sessions.get_mut(client_id) {
            session.incoming_qos2.remove(&pid.get());
            send_or_kill(session, Outbound::PubComp(pid), &self.metrics);
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

/// Queues a packet; if the connection's queue is full it is a slow reader and is closed (its
/// session keeps what is in flight for the next connection).
fn send_or_kill(session: &mut Session, packet: Outbound, metrics: &Metrics) {
    let Some(link) = &session.link else { return };
    match link.tx.try_send(packet) {
        Ok(()) => {}
        Err(mpsc::error::TrySendError::Full(_)) => {
            inc(&metrics.slow_client_disconnects_total);
            link.kill.notify_one();
            session.link = None;
        }
        Err(mpsc::error::TrySendError::Closed(_)) => {}
    }
}

fn deliver(session: &mut Session, message: Message, limits: &Limits, metrics: &Metrics) {
    if message.qos == QoS::AtMostOnce {
        // QoS 0 is never stored for an offline session (AWS IoT does the same).
        let Some(link) = &session.link else { return };
        let packet = Outbound::Publish(Publish {
            retain: message.retain,
            ..Publish::new(message.topic, QosPid::AtMostOnce, message.payload)
        });
        match link.tx.try_send(packet) {
            Ok(()) => inc(&metrics.publish_sent_total),
            Err(mpsc::error::TrySendError::Full(_)) => inc(&metrics.dropped_slow_client_total),
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
        return;
    }
    if session.pending.len() >= limits.max_queued {
        inc(&metrics.dropped_queue_full_total);
        return;
    }
    session.pending.push_back(message);
    pump(session, limits, metrics);
}

/// Moves queued messages into the in-flight window while there is room and a connection.
fn pump(session: &mut Session, limits: &Limits, metrics: &Metrics) {
    while session.link.is_some() && session.inflight.len() < limits.max_inflight {
        let Some(message) = session.pending.pop_front() else {
            return;
        };
        let Some(pid) = free_pid(session) else {
            session.pending.push_front(message);
            return;
        };
        let packet = Outbound::Publish(publish_packet(&message, pid));
        session.inflight.insert(
            pid.get(),
            Outgoing {
                message,
                state: OutState::Published,
            },
        );
        inc(&metrics.publish_sent_total);
        send_or_kill(session, packet, metrics);
    }
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
