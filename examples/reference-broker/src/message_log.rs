//! Cluster mode's message log: every QoS 1/2 message a node accepts is in a JetStream stream
//! before its PUBACK, so that a message acknowledged once reaches its subscribers on other
//! nodes even when a node or the NATS server fails on the way.
//!
//! - The accepting node publishes to `<prefix>.j.<topic subject>` (stream `<prefix>_messages`,
//!   kept for `cluster.log_retention_secs`) as soon as it accepts the message; its PUBACK
//!   waits for the log's acknowledgement with the message's other changes ([`LogAck`]).
//! - The nodes get the message as any other, straight from the accepting node on
//!   `<prefix>.m.<topic subject>`, sent just before it goes to the log: the log is what they
//!   read again when that copy may have passed them by.
//! - Every node writes, about once a second, its *watermark*: a stream sequence up to which
//!   everything it received is committed (bucket `<prefix>_nodes`, one key per node). It is
//!   the stream's last sequence one round earlier, and stops moving while the node has missed
//!   messages (a lost NATS connection, a slow consumer), until it has read them again here.
//! - A session claimed from a node that is gone reads the log from that node's watermark,
//!   for the session's own filters; one released by a live node, from the sequence that node
//!   answered with.
//!
//! The watermark assumes a message reaches the nodes that want it within a round (a second)
//! of being stored. Reading from a watermark can repeat a message the node had already
//! committed in its last round: once more for QoS 1, as it allows.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::time::Duration;

use async_nats::jetstream::{self, consumer, kv, stream};
use bytes::Bytes;
use tokio::sync::watch;

use crate::jetstream_store::{JetStreamError, read_consumer};

/// How long reading the log back may take.
const READ_WAIT: Duration = Duration::from_secs(30);

/// The most messages one read returns (a session's share of a long outage).
pub(crate) const MAX_READ: usize = 100_000;

/// The log's bytes on disk beyond which its oldest messages go.
const MAX_BYTES: i64 = 1 << 30;

fn failed(what: &str, e: impl std::fmt::Display) -> JetStreamError {
    JetStreamError(format!("JetStream message log {what}: {e}"))
}

/// The log's acknowledgement of one message, once it comes: `Ok` when it is stored.
/// Cloned handles share it; two are equal when they are handles of the same message.
#[derive(Debug, Clone)]
pub struct LogAck(watch::Receiver<Option<Result<(), String>>>);

/// Where [`LogAck`]'s outcome is set.
pub(crate) type LogAckSender = watch::Sender<Option<Result<(), String>>>;

impl LogAck {
    /// A pending acknowledgement and where to set it.
    pub(crate) fn pending() -> (LogAckSender, LogAck) {
        let (tx, rx) = watch::channel(None);
        (tx, LogAck(rx))
    }

    /// Waits for the outcome; a sender dropped without one is a failure.
    pub(crate) async fn outcome(&self) -> Result<(), String> {
        let mut rx = self.0.clone();
        match rx.wait_for(Option::is_some).await {
            Ok(v) => v.clone().unwrap_or_else(|| Err("no outcome".to_owned())),
            Err(_) => Err("the log's sender is gone".to_owned()),
        }
    }
}

impl PartialEq for LogAck {
    fn eq(&self, other: &Self) -> bool {
        self.0.same_channel(&other.0)
    }
}

impl Eq for LogAck {}

/// One message read back: its subject and envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Logged {
    pub(crate) subject: String,
    pub(crate) envelope: Bytes,
}

/// The handles on the stream and the watermarks bucket.
#[derive(Debug, Clone)]
pub(crate) struct MessageLog {
    stream: stream::Stream,
    watermarks: kv::Store,
    /// `<prefix>.j`
    root: String,
}

impl MessageLog {
    /// Creates (or updates) the stream and the watermarks bucket.
    pub(crate) async fn open(
        client: async_nats::Client,
        prefix: &str,
        retention: Duration,
    ) -> Result<MessageLog, JetStreamError> {
        let js = jetstream::new(client);
        let root = format!("{prefix}.j");
        let name = format!("{prefix}_messages");
        js.create_or_update_stream(stream::Config {
            name: name.clone(),
            description: Some("reference-broker QoS 1/2 messages between nodes".to_owned()),
            subjects: vec![format!("{root}.>")],
            max_age: retention,
            max_bytes: MAX_BYTES,
            storage: stream::StorageType::File,
            ..Default::default()
        })
        .await
        .map_err(|e| failed(&format!("stream {name}"), e))?;
        let stream = js
            .get_stream(&name)
            .await
            .map_err(|e| failed(&format!("stream {name}"), e))?;
        let bucket = format!("{prefix}_nodes");
        let watermarks = js
            .create_or_update_key_value(kv::Config {
                bucket: bucket.clone(),
                description: "reference-broker nodes' message log watermarks".to_owned(),
                history: 1,
                // A node gone longer than the log is kept has nothing left to read again.
                max_age: retention,
                storage: stream::StorageType::File,
                ..Default::default()
            })
            .await
            .map_err(|e| failed(&format!("bucket {bucket}"), e))?;
        Ok(MessageLog {
            stream,
            watermarks,
            root,
        })
    }

    /// `<prefix>.j`: a message on a topic is logged on the topic's subject under it.
    pub(crate) fn root(&self) -> &str {
        &self.root
    }

    /// The sequence of the last message stored so far.
    pub(crate) async fn last_seq(&self) -> Result<u64, JetStreamError> {
        let info = self
            .stream
            .get_info()
            .await
            .map_err(|e| failed("info", e))?;
        Ok(info.state.last_sequence)
    }

    /// Node `node`'s last watermark (`None`: none kept).
    pub(crate) async fn watermark(&self, node: u64) -> Result<Option<u64>, JetStreamError> {
        let value = self
            .watermarks
            .get(format!("{node:016x}"))
            .await
            .map_err(|e| failed("watermark", e))?;
        Ok(value.and_then(|v| Some(u64::from_be_bytes(v.get(..8)?.try_into().ok()?))))
    }

    /// Records this node's watermark.
    pub(crate) async fn set_watermark(&self, node: u64, seq: u64) -> Result<(), JetStreamError> {
        self.watermarks
            .put(
                format!("{node:016x}"),
                Bytes::copy_from_slice(&seq.to_be_bytes()),
            )
            .await
            .map_err(|e| failed("watermark", e))?;
        Ok(())
    }

    /// The messages with sequences in `from..=to` on any of `subjects` (each a filter
    /// under [`MessageLog::root`]), once each, in stream order; at most [`MAX_READ`].
    pub(crate) async fn read(
        &self,
        subjects: &[String],
        from: u64,
        to: u64,
    ) -> Result<Vec<Logged>, JetStreamError> {
        let mut found = BTreeMap::new();
        if from > to {
            return Ok(Vec::new());
        }
        // One consumer per subject: JetStream refuses filters that overlap (`a.>`, `a.*`).
        for subject in subjects {
            let read =
                tokio::time::timeout(READ_WAIT, self.read_one(subject, from, to, &mut found)).await;
            read.map_err(|_| failed("read", "timed out"))??;
        }
        Ok(found.into_values().collect())
    }

    async fn read_one(
        &self,
        subject: &str,
        from: u64,
        to: u64,
        found: &mut BTreeMap<u64, Logged>,
    ) -> Result<(), JetStreamError> {
        let consumer: consumer::PullConsumer = self
            .stream
            .create_consumer(consumer::pull::Config {
                filter_subject: subject.to_owned(),
                deliver_policy: consumer::DeliverPolicy::ByStartSequence {
                    start_sequence: from,
                },
                ack_policy: consumer::AckPolicy::None,
                inactive_threshold: Duration::from_secs(60),
                memory_storage: true,
                ..Default::default()
            })
            .await
            .map_err(|e| failed("consumer", e))?;
        let name = consumer.cached_info().name.clone();
        let result = read_consumer(&consumer, "log read", |m| {
            let seq = m.info().map_or(u64::MAX, |i| i.stream_sequence);
            if seq > to || found.len() >= MAX_READ {
                return ControlFlow::Break(());
            }
            found.entry(seq).or_insert_with(|| Logged {
                subject: m.subject.to_string(),
                envelope: m.payload.clone(),
            });
            ControlFlow::Continue(())
        })
        .await;
        // The consumer would also go by itself after its inactivity threshold.
        let _ = self.stream.delete_consumer(&name).await;
        result
    }
}
