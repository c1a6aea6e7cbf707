//! Cluster mode's message log: every QoS 1/2 message a node accepts is in a JetStream stream
//! before its PUBACK, so that a message acknowledged once reaches its subscribers on other
//! nodes even when a node or the NATS server fails on the way.
//!
//! - A node logs what it accepted in *records* on `<prefix>.j.<node id>` (stream
//!   `<prefix>_messages`, kept for `cluster.log_retention_secs`): each record holds the
//!   messages that were waiting to go out together ([`LogRecord`]), one when the node is idle,
//!   many under load, so that the stream's cost per message falls as the load rises. A
//!   message's PUBACK waits for its record's acknowledgement with its other changes
//!   ([`LogAck`]).
//! - The nodes get each message as any other, straight from the accepting node on
//!   `<prefix>.m.<topic subject>`, sent right after its record: the log is what they read
//!   again when that copy may have passed them by.
//! - Where a node starts reading live is a *barrier*: an empty record it logs itself once
//!   its NATS subscriptions are in place. A message whose live copy the server handled before
//!   those subscriptions had its record logged before, so before the barrier; one after comes
//!   live. Reading the log up to the barrier misses nothing.
//! - Every node writes, about once a second, its *watermark*: a stream sequence up to which
//!   everything it received is committed (bucket `<prefix>_nodes`, one key per node). It is
//!   the stream's last sequence one round earlier, and stops moving while the node has missed
//!   messages (a lost NATS connection, a slow consumer), until it has read them again here.
//! - A session claimed from a node that is gone reads the log from that node's watermark,
//!   keeping the messages its filters match; one released by a live node, from the sequence
//!   that node answered with.
//!
//! The watermark assumes a message reaches the nodes that want it within a round (a second)
//! of being stored. Reading from a watermark can repeat a message the node had already
//! committed in its last round: once more for QoS 1, as it allows.

use std::ops::ControlFlow;
use std::time::Duration;

use async_nats::jetstream::{self, consumer, kv, stream};
use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio::sync::watch;

use crate::jetstream_store::{JetStreamError, read_consumer};

/// How long reading the log back may take.
const READ_WAIT: Duration = Duration::from_secs(30);

/// The most messages one read returns (a session's share of a long outage)...
const MAX_READ: usize = 100_000;

/// ...and the most bytes of their envelopes.
const MAX_READ_BYTES: usize = 256 << 20;

/// A record's first byte.
const RECORD_V1: u8 = 0x81;

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

/// One message read back: its live subject and envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Logged {
    pub(crate) subject: String,
    pub(crate) envelope: Bytes,
}

/// Messages logged together in one stream message: after a version byte, for each, its
/// live subject (u16 length) and its envelope (u32 length).
#[derive(Debug, Default)]
pub(crate) struct LogRecord {
    buf: BytesMut,
    count: usize,
}

impl LogRecord {
    /// The bytes one more message adds.
    pub(crate) fn cost(subject: &str, envelope: &Bytes) -> usize {
        subject
            .len()
            .saturating_add(envelope.len())
            .saturating_add(6)
    }

    /// Adds a message; `false` (and nothing added) when a length does not fit the format.
    pub(crate) fn push(&mut self, subject: &str, envelope: &Bytes) -> bool {
        let (Ok(subject_len), Ok(envelope_len)) =
            (u16::try_from(subject.len()), u32::try_from(envelope.len()))
        else {
            return false;
        };
        if self.buf.is_empty() {
            self.buf.put_u8(RECORD_V1);
        }
        self.buf.put_u16(subject_len);
        self.buf.put_slice(subject.as_bytes());
        self.buf.put_u32(envelope_len);
        self.buf.put_slice(envelope);
        self.count = self.count.saturating_add(1);
        true
    }

    /// The bytes so far.
    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    /// How many messages it holds.
    pub(crate) fn count(&self) -> usize {
        self.count
    }

    /// The record's bytes (a barrier's when empty).
    pub(crate) fn finish(mut self) -> Bytes {
        if self.buf.is_empty() {
            self.buf.put_u8(RECORD_V1);
        }
        self.buf.freeze()
    }

    /// The messages of a record; `None` when it is malformed.
    pub(crate) fn entries(record: &Bytes) -> Option<Vec<Logged>> {
        let mut rest = record.clone();
        if rest.is_empty() || rest.get_u8() != RECORD_V1 {
            return None;
        }
        let mut out = Vec::new();
        while !rest.is_empty() {
            let subject_len = usize::from(rest.try_get_u16().ok()?);
            let subject = rest.get(..subject_len)?;
            let subject = std::str::from_utf8(subject).ok()?.to_owned();
            rest.advance(subject_len);
            let envelope_len = usize::try_from(rest.try_get_u32().ok()?).ok()?;
            if rest.len() < envelope_len {
                return None;
            }
            let envelope = rest.split_to(envelope_len);
            out.push(Logged { subject, envelope });
        }
        Some(out)
    }
}

/// The handles on the stream and the watermarks bucket.
#[derive(Debug, Clone)]
pub(crate) struct MessageLog {
    js: jetstream::Context,
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
        let js_handle = js.clone();
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
            js: js_handle,
            stream,
            watermarks,
            root,
        })
    }

    /// The subject of node `node`'s records.
    pub(crate) fn subject(&self, node: u64) -> String {
        format!("{}.{node:016x}", self.root)
    }

    /// Logs an empty record for node `node` and returns its sequence: every message whose
    /// live copy the NATS server handled before what this client sent before the barrier
    /// (its subscriptions) is logged before it.
    pub(crate) async fn barrier(&self, node: u64) -> Result<u64, JetStreamError> {
        let ack = self
            .js
            .publish(self.subject(node), LogRecord::default().finish())
            .await
            .map_err(|e| failed("barrier", e))?
            .await
            .map_err(|e| failed("barrier", e))?;
        Ok(ack.sequence)
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

    /// The messages logged with sequences in `from..=to` that `keep` keeps, in order; at
    /// most [`MAX_READ`] of them and [`MAX_READ_BYTES`] of their envelopes. The number of
    /// malformed records comes with them.
    pub(crate) async fn read(
        &self,
        from: u64,
        to: u64,
        mut keep: impl FnMut(&Logged) -> bool,
    ) -> Result<(Vec<Logged>, usize), JetStreamError> {
        let mut found = Vec::new();
        let mut malformed = 0usize;
        if from > to {
            return Ok((found, malformed));
        }
        let consumer: consumer::PullConsumer = self
            .stream
            .create_consumer(consumer::pull::Config {
                filter_subject: format!("{}.>", self.root),
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
        let mut bytes = 0usize;
        let reading = read_consumer(&consumer, "log read", |m| {
            let seq = m.info().map_or(u64::MAX, |i| i.stream_sequence);
            if seq > to {
                return ControlFlow::Break(());
            }
            let Some(entries) = LogRecord::entries(&m.payload) else {
                malformed = malformed.saturating_add(1);
                return ControlFlow::Continue(());
            };
            for entry in entries.into_iter().filter(|e| keep(e)) {
                bytes = bytes.saturating_add(entry.envelope.len());
                if found.len() >= MAX_READ || bytes > MAX_READ_BYTES {
                    return ControlFlow::Break(());
                }
                found.push(entry);
            }
            ControlFlow::Continue(())
        });
        let result = tokio::time::timeout(READ_WAIT, reading)
            .await
            .map_err(|_| failed("read", "timed out"))
            .and_then(|r| r);
        // The consumer would also go by itself after its inactivity threshold.
        let _ = self.stream.delete_consumer(&name).await;
        result.map(|()| (found, malformed))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_record_gives_back_its_messages_in_order() {
        let mut record = LogRecord::default();
        assert!(record.push("p.m.a.b", &Bytes::from_static(b"one")));
        assert!(record.push("p.m.c", &Bytes::new()));
        assert_eq!(record.count(), 2);
        let bytes = record.finish();
        assert_eq!(
            bytes.len(),
            LogRecord::cost("p.m.a.b", &Bytes::from_static(b"one"))
                + LogRecord::cost("p.m.c", &Bytes::new())
                + 1
        );
        assert_eq!(
            LogRecord::entries(&bytes).unwrap(),
            [
                Logged {
                    subject: "p.m.a.b".to_owned(),
                    envelope: Bytes::from_static(b"one"),
                },
                Logged {
                    subject: "p.m.c".to_owned(),
                    envelope: Bytes::new(),
                },
            ]
        );
    }

    #[test]
    fn a_barrier_holds_no_messages() {
        let barrier = LogRecord::default().finish();
        assert_eq!(barrier.as_ref(), [RECORD_V1]);
        assert_eq!(LogRecord::entries(&barrier).unwrap(), []);
    }

    #[test]
    fn malformed_records_are_refused() {
        let mut record = LogRecord::default();
        assert!(record.push("p.m.a", &Bytes::from_static(b"payload")));
        let bytes = record.finish();
        for cut in 0..bytes.len() {
            // Every proper prefix but the bare version byte ends inside a message.
            let prefix = bytes.slice(..cut);
            let want = (cut == 1).then(Vec::new);
            assert_eq!(LogRecord::entries(&prefix), want, "prefix of {cut} bytes");
        }
        assert_eq!(LogRecord::entries(&Bytes::from_static(&[1, 0, 0])), None);
        // A subject that is not UTF-8.
        assert_eq!(
            LogRecord::entries(&Bytes::from_static(&[RECORD_V1, 0, 1, 0xff, 0, 0, 0, 0])),
            None
        );
    }
}
