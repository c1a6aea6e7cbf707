//! Cluster mode's store: persistent sessions and retained messages in JetStream, so that a
//! session resumes on any node and what a node confirms outlives the node.
//!
//! Sessions live in one stream (`<prefix>_sessions`, subjects `<prefix>.s.>`) that keeps the
//! last message of each subject: a key-value map whose keys one subject filter reads or
//! purges a whole session by.
//!
//! | subject under `<prefix>.s.<session>` | value |
//! |---|---|
//! | `.h` | the header: client id, certificate id, source address, owner node (JSON) |
//! | `.f.<filter hash>` | the granted QoS (one byte), then the filter |
//! | `.m.<seq>.b` | the message: QoS, retain, topic length (u16 BE), topic, payload |
//! | `.m.<seq>.p` | the packet id it was sent with (u16 BE) |
//! | `.m.<seq>.r` | present once PUBREC arrived and PUBREL was sent |
//! | `.q.<packet id>` | a QoS 2 packet id received and not yet released |
//!
//! `<session>` and `<filter hash>` are SHA-256 digests in unpadded base64url (43 characters
//! of `[A-Za-z0-9_-]`): any client id or filter becomes one short subject token. Retained
//! messages stay in the key-value bucket every node mirrors (`cluster.rs`), one key per topic.
//!
//! A batch of changes (`persist.rs`) is folded to its last operation per subject and the
//! operations run concurrently; deleting a session (one purge of `<session>.>`) waits for
//! what came before it. JetStream does not apply a batch atomically: a batch that fails part
//! way keeps what it wrote, and its connections are closed unconfirmed, so a QoS 1 message
//! may come twice, as QoS 1 allows.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, consumer, kv, stream};
use base64::Engine;
use bytes::{BufMut, Bytes, BytesMut};
use futures_util::{StreamExt, TryStreamExt};
use mqtt_wire::{QoS, TopicFilter, TopicName};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::broker::{Message, MessageId, SessionSnapshot, StoredMessage};
use crate::nats_subject::{subject_topic, topic_subject};
use crate::persist::Commit;
use crate::store::Change;

/// Operations of one batch in flight at once.
const CONCURRENCY: usize = 512;

/// How long reading a session back may take.
const LOAD_WAIT: Duration = Duration::from_secs(10);

/// The longest subject a node sends. nats-server closes a connection whose protocol line is
/// longer than its `max_control_line` (4 KiB by default), and a PUB or SUB line is the subject
/// plus a few dozen bytes: one hostile topic must not cut a node off the cluster.
pub(crate) const MAX_SUBJECT: usize = 3 * 1024;

/// The version byte of a retained value.
const RETAINED_V1: u8 = 1;

/// Why the store could not do what was asked.
#[derive(Debug)]
pub(crate) struct JetStreamError(pub(crate) String);

impl std::fmt::Display for JetStreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn failed(what: &str, e: impl std::fmt::Display) -> JetStreamError {
    JetStreamError(format!("JetStream {what}: {e}"))
}

/// A session's header record.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) client_id: String,
    pub(crate) certificate_id: Option<String>,
    pub(crate) source_ip: String,
    /// The node that last wrote the session (its random id).
    pub(crate) owner: u64,
}

/// The handles on the stream and the bucket.
#[derive(Debug, Clone)]
pub(crate) struct JetStreamStore {
    js: jetstream::Context,
    sessions: stream::Stream,
    /// `<prefix>.s`
    root: String,
    retained: kv::Store,
    node_id: u64,
}

/// The subject token of a client id or filter.
pub(crate) fn digest_token(text: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(text.as_bytes()))
}

/// The key-value key of a topic's retained message, when short enough to send.
pub(crate) fn retained_key(topic: &TopicName) -> Option<String> {
    // The key is the topic's subject (`nats_subject.rs`) under the prefix `t`.
    let key = topic_subject("t", topic.as_str());
    (key.len() <= MAX_SUBJECT).then_some(key)
}

fn retained_value(message: &Message) -> Bytes {
    let mut v = BytesMut::with_capacity(message.payload.len().saturating_add(2));
    v.put_u8(RETAINED_V1);
    v.put_u8(message.qos as u8);
    v.put_slice(&message.payload);
    v.freeze()
}

/// A retained message read back from the bucket (`None` when malformed).
pub(crate) fn retained_message(key: &str, value: &Bytes) -> Option<Message> {
    let topic = TopicName::new(&subject_topic("t", key)?).ok()?;
    let qos = QoS::from_u8(*value.get(1)?)?;
    (value.first() == Some(&RETAINED_V1)).then(|| Message {
        topic,
        payload: value.slice(2..),
        qos,
        retain: true,
        origin: None,
    })
}

/// `message_value`'s flags: the retain flag, and whether the message's cluster id follows
/// the topic (records written before ids were kept have neither bit 1 nor the id).
const RETAIN: u8 = 1;
const HAS_ORIGIN: u8 = 2;

fn message_value(message: &Message) -> Bytes {
    let topic = message.topic.as_str().as_bytes();
    let mut v = BytesMut::with_capacity(
        message
            .payload
            .len()
            .saturating_add(topic.len())
            .saturating_add(20),
    );
    let mut flags = if message.retain { RETAIN } else { 0 };
    if message.origin.is_some() {
        flags |= HAS_ORIGIN;
    }
    v.put_u8(message.qos as u8);
    v.put_u8(flags);
    // Topic names are at most 65,535 bytes (MQTT's length prefix).
    v.put_u16(u16::try_from(topic.len()).unwrap_or(u16::MAX));
    v.put_slice(topic);
    if let Some(id) = message.origin {
        v.put_u64(id.node);
        v.put_u64(id.seq);
    }
    v.put_slice(&message.payload);
    v.freeze()
}

fn message_of(value: &Bytes) -> Option<Message> {
    let qos = QoS::from_u8(*value.first()?)?;
    let flags = *value.get(1)?;
    let len = usize::from(u16::from_be_bytes(value.get(2..4)?.try_into().ok()?));
    let mut end = len.checked_add(4)?;
    let topic = TopicName::new(std::str::from_utf8(value.get(4..end)?).ok()?).ok()?;
    let mut origin = None;
    if flags & HAS_ORIGIN != 0 {
        let id = value.get(end..end.checked_add(16)?)?;
        origin = Some(MessageId {
            node: u64::from_be_bytes(id.get(..8)?.try_into().ok()?),
            seq: u64::from_be_bytes(id.get(8..)?.try_into().ok()?),
        });
        end = end.checked_add(16)?;
    }
    Some(Message {
        topic,
        payload: value.slice(end..),
        qos,
        retain: flags & RETAIN != 0,
        origin,
    })
}

/// One operation of a batch.
#[derive(Debug)]
enum Op {
    Put(String, Bytes),
    /// Purges every subject matching the filter.
    Purge(String),
    RetainPut(String, Bytes),
    RetainDelete(String),
}

/// A batch folded to its last operation per subject (or per retained key).
#[derive(Debug, Default)]
struct Plan {
    ops: Vec<Option<Op>>,
    at: HashMap<(bool, String), usize>,
}

impl Plan {
    fn set(&mut self, retained: bool, key: String, op: Op) {
        match self.at.get(&(retained, key.clone())) {
            Some(&i) => {
                if let Some(slot) = self.ops.get_mut(i) {
                    *slot = Some(op);
                }
            }
            None => {
                self.at.insert((retained, key), self.ops.len());
                self.ops.push(Some(op));
            }
        }
    }

    /// Drops a pending operation (the subject is purged after it anyway).
    fn forget(&mut self, key: &str) {
        if let Some(i) = self.at.remove(&(false, key.to_owned())) {
            if let Some(slot) = self.ops.get_mut(i) {
                *slot = None;
            }
        }
    }

    fn take(&mut self) -> Vec<Op> {
        self.at.clear();
        self.ops.drain(..).flatten().collect()
    }
}

/// A session's stored parts as read back, before they are put in order.
#[derive(Debug, Default)]
struct Parts {
    header: Option<Header>,
    subscriptions: Vec<(TopicFilter, QoS)>,
    /// By seq: the message, its packet id, whether released.
    messages: BTreeMap<u64, (Option<Message>, Option<u16>, bool)>,
    incoming_qos2: Vec<u16>,
}

impl JetStreamStore {
    /// Creates (or finds) the sessions stream; `retained` is the cluster's retained bucket.
    pub(crate) async fn open(
        client: async_nats::Client,
        prefix: &str,
        retained: kv::Store,
        node_id: u64,
    ) -> Result<JetStreamStore, JetStreamError> {
        let js = jetstream::new(client);
        let root = format!("{prefix}.s");
        let name = format!("{prefix}_sessions");
        js.create_or_update_stream(stream::Config {
            name: name.clone(),
            description: Some(
                "reference-broker persistent sessions, one subject per record".to_owned(),
            ),
            subjects: vec![format!("{root}.>")],
            max_messages_per_subject: 1,
            storage: stream::StorageType::File,
            // Every CONNECT reads a header: direct gets skip the JetStream API's queue.
            allow_direct: true,
            ..Default::default()
        })
        .await
        .map_err(|e| failed(&format!("stream {name}"), e))?;
        let sessions = js
            .get_stream(&name)
            .await
            .map_err(|e| failed(&format!("stream {name}"), e))?;
        Ok(JetStreamStore {
            js,
            sessions,
            root,
            retained,
            node_id,
        })
    }

    fn session_root(&self, client_id: &str) -> String {
        format!("{}.{}", self.root, digest_token(client_id))
    }

    /// Folds one change into the plan; a session's deletion runs what is planned first.
    async fn plan(&self, plan: &mut Plan, change: &Change) -> Result<(), JetStreamError> {
        match change {
            Change::RetainSet(m) => {
                // A topic too long for a key is never forwarded either: it stays on its node.
                if let Some(key) = retained_key(&m.topic) {
                    plan.set(true, key.clone(), Op::RetainPut(key, retained_value(m)));
                }
            }
            Change::RetainClear(topic) => {
                if let Some(key) = retained_key(topic) {
                    plan.set(true, key.clone(), Op::RetainDelete(key));
                }
            }
            Change::SessionPut {
                client_id,
                certificate_id,
                source_ip,
            } => {
                let header = Header {
                    client_id: client_id.to_string(),
                    certificate_id: certificate_id.clone(),
                    source_ip: source_ip.clone(),
                    owner: self.node_id,
                };
                let value = serde_json::to_vec(&header).map_err(|e| failed("header", e))?;
                let subject = format!("{}.h", self.session_root(client_id));
                plan.set(false, subject.clone(), Op::Put(subject, value.into()));
            }
            Change::SessionDelete(client_id) => {
                self.run(plan.take()).await?;
                self.run(vec![Op::Purge(format!(
                    "{}.>",
                    self.session_root(client_id)
                ))])
                .await?;
            }
            Change::SubscriptionPut {
                client_id,
                filter,
                qos,
            } => {
                let subject = self.filter_subject(client_id, filter);
                let mut value = BytesMut::with_capacity(filter.as_str().len().saturating_add(1));
                value.put_u8(*qos as u8);
                value.put_slice(filter.as_str().as_bytes());
                plan.set(false, subject.clone(), Op::Put(subject, value.freeze()));
            }
            Change::SubscriptionDelete { client_id, filter } => {
                let subject = self.filter_subject(client_id, filter);
                plan.set(false, subject.clone(), Op::Purge(subject));
            }
            Change::MessagePut {
                client_id,
                seq,
                message,
                packet_id,
            } => {
                let at = format!("{}.m.{seq}", self.session_root(client_id));
                let body = format!("{at}.b");
                plan.set(false, body.clone(), Op::Put(body, message_value(message)));
                if let Some(pid) = packet_id {
                    let subject = format!("{at}.p");
                    let value = Bytes::copy_from_slice(&pid.to_be_bytes());
                    plan.set(false, subject.clone(), Op::Put(subject, value));
                }
            }
            Change::MessageSent {
                client_id,
                seq,
                packet_id,
            } => {
                let subject = format!("{}.m.{seq}.p", self.session_root(client_id));
                let value = Bytes::copy_from_slice(&packet_id.to_be_bytes());
                plan.set(false, subject.clone(), Op::Put(subject, value));
            }
            Change::MessageReleased { client_id, seq } => {
                let subject = format!("{}.m.{seq}.r", self.session_root(client_id));
                plan.set(false, subject.clone(), Op::Put(subject, Bytes::new()));
            }
            Change::MessageDelete { client_id, seq } => {
                let at = format!("{}.m.{seq}", self.session_root(client_id));
                for part in ["b", "p", "r"] {
                    plan.forget(&format!("{at}.{part}"));
                }
                let filter = format!("{at}.*");
                plan.set(false, filter.clone(), Op::Purge(filter));
            }
            Change::IncomingQos2Put {
                client_id,
                packet_id,
            } => {
                let subject = format!("{}.q.{packet_id}", self.session_root(client_id));
                plan.set(false, subject.clone(), Op::Put(subject, Bytes::new()));
            }
            Change::IncomingQos2Delete {
                client_id,
                packet_id,
            } => {
                let subject = format!("{}.q.{packet_id}", self.session_root(client_id));
                plan.set(false, subject.clone(), Op::Purge(subject));
            }
            // Sent to the log already; `apply` waits for its acknowledgement.
            Change::Forward(_) => {}
        }
        Ok(())
    }

    fn filter_subject(&self, client_id: &str, filter: &TopicFilter) -> String {
        format!(
            "{}.f.{}",
            self.session_root(client_id),
            digest_token(filter.as_str())
        )
    }

    /// Runs operations on distinct subjects concurrently; `Ok` once JetStream confirmed all.
    async fn run(&self, ops: Vec<Op>) -> Result<(), JetStreamError> {
        futures_util::stream::iter(ops.into_iter().map(|op| self.exec(op)))
            .buffer_unordered(CONCURRENCY)
            .try_for_each(|()| std::future::ready(Ok(())))
            .await
    }

    async fn exec(&self, op: Op) -> Result<(), JetStreamError> {
        match op {
            Op::Put(subject, value) => {
                let ack = self
                    .js
                    .publish(subject, value)
                    .await
                    .map_err(|e| failed("publish", e))?;
                ack.await.map_err(|e| failed("publish", e))?;
            }
            Op::Purge(filter) => {
                self.sessions
                    .purge()
                    .filter(filter)
                    .await
                    .map_err(|e| failed("purge", e))?;
            }
            Op::RetainPut(key, value) => {
                self.retained
                    .put(&key, value)
                    .await
                    .map_err(|e| failed("retained put", e))?;
            }
            Op::RetainDelete(key) => {
                self.retained
                    .delete(&key)
                    .await
                    .map_err(|e| failed("retained delete", e))?;
            }
        }
        Ok(())
    }

    /// Applies changes in order (see the module's notes on atomicity), and waits for the
    /// message log's acknowledgement of the messages among them (sent when accepted).
    pub(crate) async fn apply(&self, changes: &[&Change]) -> Result<(), JetStreamError> {
        let mut plan = Plan::default();
        for change in changes {
            self.plan(&mut plan, change).await?;
        }
        self.run(plan.take()).await?;
        for change in changes {
            if let Change::Forward(ack) = change {
                ack.outcome().await.map_err(|e| failed("log", e))?;
            }
        }
        Ok(())
    }

    /// The header of `client_id`'s stored session, if there is one.
    pub(crate) async fn header(&self, client_id: &str) -> Result<Option<Header>, JetStreamError> {
        let subject = format!("{}.h", self.session_root(client_id));
        match self.sessions.direct_get_last_for_subject(subject).await {
            Ok(m) => {
                let header: Header =
                    serde_json::from_slice(&m.payload).map_err(|e| failed("header", e))?;
                // A different client id under the same digest would be a SHA-256 collision.
                Ok((header.client_id == client_id).then_some(header))
            }
            Err(e) if e.kind() == stream::DirectGetErrorKind::NotFound => Ok(None),
            Err(e) => Err(failed("header", e)),
        }
    }

    /// Deletes `client_id`'s stored session.
    pub(crate) async fn delete(&self, client_id: &str) -> Result<(), JetStreamError> {
        let filter = format!("{}.>", self.session_root(client_id));
        self.run(vec![Op::Purge(filter)]).await
    }

    /// Reads `client_id`'s stored session back, with its messages in order.
    pub(crate) async fn load(
        &self,
        client_id: &str,
    ) -> Result<Option<SessionSnapshot>, JetStreamError> {
        let at = self.session_root(client_id);
        let consumer: consumer::PullConsumer = self
            .sessions
            .create_consumer(consumer::pull::Config {
                filter_subject: format!("{at}.>"),
                deliver_policy: consumer::DeliverPolicy::LastPerSubject,
                ack_policy: consumer::AckPolicy::None,
                inactive_threshold: Duration::from_secs(60),
                memory_storage: true,
                ..Default::default()
            })
            .await
            .map_err(|e| failed("session consumer", e))?;
        let name = consumer.cached_info().name.clone();
        let read = tokio::time::timeout(LOAD_WAIT, self.read(&consumer, &at)).await;
        // The consumer would also go by itself after its inactivity threshold.
        let _ = self.sessions.delete_consumer(&name).await;
        let parts =
            read.map_err(|_| JetStreamError("JetStream session read: timed out".into()))??;
        Ok(parts.into_snapshot())
    }

    async fn read(
        &self,
        consumer: &consumer::PullConsumer,
        at: &str,
    ) -> Result<Parts, JetStreamError> {
        let mut parts = Parts::default();
        read_consumer(consumer, "session read", |m| {
            if let Some(rest) = m
                .subject
                .as_str()
                .strip_prefix(at)
                .and_then(|r| r.strip_prefix('.'))
            {
                parts.add(rest, &m.payload);
            }
            std::ops::ControlFlow::Continue(())
        })
        .await?;
        Ok(parts)
    }
}

/// Reads what a pull consumer had pending when it was made, in batches, handing each message
/// to `each` until it breaks; an empty batch while messages are pending is an error (`what`
/// names the read).
pub(crate) async fn read_consumer(
    consumer: &consumer::PullConsumer,
    what: &str,
    mut each: impl FnMut(&jetstream::Message) -> std::ops::ControlFlow<()>,
) -> Result<(), JetStreamError> {
    let pending = consumer.cached_info().num_pending;
    let mut left = pending;
    while left > 0 {
        let mut batch = consumer
            .batch()
            .max_messages(usize::try_from(left.min(1024)).unwrap_or(1024))
            .expires(Duration::from_secs(2))
            .messages()
            .await
            .map_err(|e| failed(what, e))?;
        let before = left;
        while let Some(m) = batch.next().await {
            let m = m.map_err(|e| failed(what, e))?;
            left = m.info().map_err(|e| failed(what, e))?.pending;
            if each(&m).is_break() {
                return Ok(());
            }
        }
        if left == before {
            return Err(failed(
                what,
                format!("{left} of {pending} messages did not come"),
            ));
        }
    }
    Ok(())
}

impl Parts {
    /// One record (`rest` is its subject after the session's root); a malformed one is
    /// skipped.
    fn add(&mut self, rest: &str, value: &Bytes) {
        let tokens: Vec<&str> = rest.split('.').collect();
        match tokens.as_slice() {
            ["h"] => self.header = serde_json::from_slice(value).ok(),
            ["f", _] => {
                let filter = value
                    .get(1..)
                    .and_then(|f| std::str::from_utf8(f).ok())
                    .and_then(|f| TopicFilter::new(f).ok());
                let qos = value.first().copied().and_then(QoS::from_u8);
                if let (Some(filter), Some(qos)) = (filter, qos) {
                    self.subscriptions.push((filter, qos));
                }
            }
            ["m", seq, part] => {
                let Ok(seq) = seq.parse::<u64>() else { return };
                let entry = self.messages.entry(seq).or_default();
                match *part {
                    "b" => entry.0 = message_of(value),
                    "p" => {
                        entry.1 = value
                            .get(..2)
                            .and_then(|b| <[u8; 2]>::try_from(b).ok())
                            .map(u16::from_be_bytes)
                            .filter(|p| *p != 0);
                    }
                    "r" => entry.2 = true,
                    _ => {}
                }
            }
            ["q", pid] => {
                if let Some(pid) = pid.parse::<u16>().ok().filter(|p| *p != 0) {
                    self.incoming_qos2.push(pid);
                }
            }
            _ => {}
        }
    }

    fn into_snapshot(self) -> Option<SessionSnapshot> {
        let header = self.header?;
        let mut subscriptions = self.subscriptions;
        subscriptions.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
        let mut incoming_qos2 = self.incoming_qos2;
        incoming_qos2.sort_unstable();
        Some(SessionSnapshot {
            client_id: header.client_id,
            certificate_id: header.certificate_id,
            source_ip: header.source_ip,
            subscriptions,
            // A packet id or release mark without its message (left by a failed batch) is
            // nothing to deliver.
            messages: self
                .messages
                .into_iter()
                .filter_map(|(seq, (message, packet_id, released))| {
                    Some(StoredMessage {
                        message: message?,
                        seq,
                        packet_id,
                        released,
                    })
                })
                .collect(),
            incoming_qos2,
        })
    }
}

/// The persister's writer for cluster mode: blocks its thread on the node's runtime.
#[derive(Debug)]
pub(crate) struct JetStreamCommit {
    pub(crate) store: Arc<JetStreamStore>,
    pub(crate) runtime: tokio::runtime::Handle,
}

impl Commit for JetStreamCommit {
    fn commit(&mut self, changes: &[&Change]) -> Result<(), String> {
        self.runtime
            .block_on(self.store.apply(changes))
            .map_err(|e| e.0)
    }

    fn describe(&self) -> &'static str {
        "JetStream"
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_message_record_round_trips() {
        let m = Message {
            topic: TopicName::new("a/b.c/*").unwrap(),
            payload: Bytes::from_static(b"\x00payload\xff"),
            qos: QoS::ExactlyOnce,
            retain: true,
            origin: None,
        };
        assert_eq!(message_of(&message_value(&m)), Some(m.clone()));
        let with_id = Message {
            origin: Some(MessageId {
                node: u64::MAX - 1,
                seq: 3,
            }),
            retain: false,
            ..m
        };
        let value = message_value(&with_id);
        assert_eq!(value.get(..4), Some(&b"\x02\x02\x00\x07"[..]));
        assert_eq!(message_of(&value), Some(with_id));
        // A record cut inside its id is malformed, not a message without one.
        assert_eq!(message_of(&value.slice(..4 + 7 + 15)), None);
        assert_eq!(message_of(&Bytes::from_static(b"\x01\x00\x00\x09ab")), None);
        assert_eq!(message_of(&Bytes::from_static(b"\x03\x00\x00\x00")), None);
    }

    #[test]
    fn a_retained_record_round_trips_under_its_key() {
        let m = Message {
            topic: TopicName::new("$aws/things/x/shadow").unwrap(),
            payload: Bytes::from_static(b"{}"),
            qos: QoS::AtLeastOnce,
            retain: true,
            origin: None,
        };
        let key = retained_key(&m.topic).unwrap();
        assert_eq!(retained_message(&key, &retained_value(&m)), Some(m));
        let long = TopicName::new(&"x".repeat(MAX_SUBJECT)).unwrap();
        assert_eq!(retained_key(&long), None);
    }

    #[test]
    fn tokens_are_short_subject_safe_and_distinct() {
        let a = digest_token("client.with*dots>");
        let b = digest_token("client.with*dots");
        assert_eq!(a.len(), 43);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_ne!(a, b);
    }

    #[test]
    fn stored_parts_become_a_session_in_order() {
        let header = Header {
            client_id: "c".into(),
            certificate_id: None,
            source_ip: "127.0.0.1".into(),
            owner: 7,
        };
        let mut parts = Parts::default();
        let m = |t: &str| Message {
            topic: TopicName::new(t).unwrap(),
            payload: Bytes::from_static(b"p"),
            qos: QoS::AtLeastOnce,
            retain: false,
            origin: None,
        };
        parts.add("m.10.b", &message_value(&m("b")));
        parts.add("m.2.b", &message_value(&m("a")));
        parts.add("m.2.p", &Bytes::from_static(&[0, 5]));
        parts.add("m.3.p", &Bytes::from_static(&[0, 6])); // no body: dropped
        parts.add("q.9", &Bytes::new());
        parts.add("f.x", &Bytes::from_static(b"\x01t/#"));
        parts.add("h", &serde_json::to_vec(&header).unwrap().into());
        let s = parts.into_snapshot().unwrap();
        assert_eq!(s.client_id, "c");
        assert_eq!(
            s.subscriptions,
            [(TopicFilter::new("t/#").unwrap(), QoS::AtLeastOnce)]
        );
        assert_eq!(s.incoming_qos2, [9]);
        let got: Vec<_> = s
            .messages
            .iter()
            .map(|m| (m.seq, m.message.topic.as_str(), m.packet_id))
            .collect();
        assert_eq!(got, [(2, "a", Some(5)), (10, "b", None)]);
        assert_eq!(Parts::default().into_snapshot(), None);
    }
}
