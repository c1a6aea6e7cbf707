//! Group commit: the broker's changes, and the packets that promise them, go to one writer
//! thread. It takes everything queued since its last transaction, commits it as one SQLite
//! transaction, and only then sends the packets that confirm what it wrote (PUBACK, PUBREC,
//! PUBCOMP, SUBACK, UNSUBACK, a PUBLISH or PUBREL to a persistent session). A batch grows with
//! the load: one client waits one commit, ten thousand share it. A message inserted and
//! completed within one batch (a fast subscriber's QoS 1 delivery) costs no write at all.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use tokio::sync::{Notify, mpsc, oneshot};

use crate::broker::Outbound;
use crate::close::{Close, Kill};
use crate::metrics::{Metrics, inc, set};
use crate::store::{Change, Store};

/// Where the writer commits: SQLite (`store.rs`), or JetStream in cluster mode
/// (`jetstream_store.rs`).
pub(crate) trait Commit: Send + std::fmt::Debug + 'static {
    /// Writes `changes` in order; `Err` when not all of them are durable.
    fn commit(&mut self, changes: &[&Change]) -> Result<(), String>;

    /// What it writes to, for logs.
    fn describe(&self) -> &'static str;
}

impl Commit for Store {
    fn commit(&mut self, changes: &[&Change]) -> Result<(), String> {
        self.apply(changes.iter().copied())
            .map_err(|e| e.to_string())
    }

    fn describe(&self) -> &'static str {
        crate::store::DB_FILE
    }
}

/// The most items one transaction takes; more wait for the next.
const MAX_BATCH: usize = 16 * 1024;

/// Operations (batches of changes) waiting for their commit beyond which connections stop
/// reading PUBLISHes until the writer catches up: memory stays bounded when the disk is slower
/// than the clients.
const MAX_BACKLOG: u64 = 64 * 1024;

/// A packet to send once what it confirms is committed.
#[derive(Debug)]
pub(crate) struct Deferred {
    /// The connection's queue.
    pub(crate) tx: mpsc::Sender<Outbound>,
    /// Closes the connection when its queue is full.
    pub(crate) kill: Arc<Kill>,
    /// The connection's count of packets waiting here; later packets to the same connection
    /// wait too, so that none overtakes them.
    pub(crate) waiting: Arc<AtomicUsize>,
    /// The packet.
    pub(crate) packet: Outbound,
    /// A QoS 0 PUBLISH: dropped (and counted) rather than closing a full connection.
    pub(crate) droppable: bool,
}

/// What one broker operation asks of the writer: its changes, all in one transaction, then
/// its packets.
#[derive(Debug, Default)]
pub(crate) struct Txn {
    pub(crate) changes: Vec<Change>,
    pub(crate) sends: Vec<Deferred>,
}

enum Item {
    Txn(Txn),
    /// Answered `true` once everything queued before it is committed (`false`: the commit
    /// failed).
    Flush(oneshot::Sender<bool>),
}

#[derive(Debug, Default)]
struct Progress {
    /// Operations with changes queued so far; each is pushed under the broker's lock.
    queued: AtomicU64,
    /// Operations with changes committed (or failed) so far.
    done: AtomicU64,
    /// Woken after every batch, for connections waiting for room.
    room: Notify,
    /// Set by `close`: later changes are not written.
    closed: AtomicBool,
}

impl Progress {
    fn backlog(&self) -> u64 {
        let done = self.done.load(Ordering::Acquire);
        self.queued.load(Ordering::Acquire).saturating_sub(done)
    }
}

/// The handle on the writer thread.
#[derive(Debug)]
pub(crate) struct Persister {
    tx: Mutex<Option<Sender<Item>>>,
    progress: Arc<Progress>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Persister {
    /// Starts the writer on an open store.
    pub(crate) fn start(
        store: Box<dyn Commit>,
        metrics: Arc<Metrics>,
    ) -> std::io::Result<Persister> {
        let (tx, rx) = channel();
        let progress = Arc::new(Progress::default());
        let thread = std::thread::Builder::new()
            .name("broker-persist".to_owned())
            .spawn({
                let progress = Arc::clone(&progress);
                move || write_loop(store, &rx, &progress, &metrics)
            })?;
        Ok(Persister {
            tx: Mutex::new(Some(tx)),
            progress,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Operations with changes queued and not yet committed.
    pub(crate) fn backlog(&self) -> u64 {
        self.progress.backlog()
    }

    /// Queues one operation's changes and packets (called under the broker's lock, so the
    /// writer sees operations in the order they changed the state).
    pub(crate) fn submit(&self, txn: Txn) {
        if txn.changes.is_empty() && txn.sends.is_empty() {
            return;
        }
        let guard = self.tx.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tx) = guard.as_ref() {
            if !txn.changes.is_empty() {
                self.progress.queued.fetch_add(1, Ordering::AcqRel);
            }
            // The writer ends only when this sender is dropped, so the send succeeds.
            let _ = tx.send(Item::Txn(txn));
        }
    }

    /// Waits until every operation queued so far is committed; `false` if a commit failed.
    pub(crate) async fn flush(&self) -> bool {
        if self.backlog() == 0 {
            return true;
        }
        let (done, wait) = oneshot::channel();
        {
            let guard = self.tx.lock().unwrap_or_else(|p| p.into_inner());
            match guard.as_ref() {
                Some(tx) if tx.send(Item::Flush(done)).is_ok() => {}
                _ => return false,
            }
        }
        wait.await.unwrap_or(false)
    }

    /// Waits while the backlog is over its bound.
    pub(crate) async fn room(&self) {
        loop {
            let woken = self.progress.room.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            if self.backlog() < MAX_BACKLOG {
                return;
            }
            woken.await;
        }
    }

    /// Flushes, then stops writing: changes made after this (by connections of a broker that
    /// is being replaced) are dropped, and the writer thread ends.
    pub(crate) async fn close(&self) -> bool {
        let flushed = self.flush().await;
        self.progress.closed.store(true, Ordering::Release);
        let sender = self.tx.lock().unwrap_or_else(|p| p.into_inner()).take();
        drop(sender);
        let thread = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(thread) = thread {
            // The writer has nothing left but what arrived since the flush.
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
        flushed
    }
}

/// One transaction's changes, with a message's later steps folded into its insertion when
/// both fall in the same batch: a message delivered and acknowledged between two commits is
/// never written.
#[derive(Default)]
struct Batch {
    changes: Vec<Option<Change>>,
    /// Where each message inserted in this batch is, by (client id, seq).
    inserted: HashMap<(Arc<str>, u64), usize>,
}

impl Batch {
    fn push(&mut self, change: Change) {
        match change {
            Change::MessagePut {
                ref client_id, seq, ..
            } => {
                let at = self.changes.len();
                self.inserted.insert((Arc::clone(client_id), seq), at);
                self.changes.push(Some(change));
            }
            Change::MessageSent {
                client_id,
                seq,
                packet_id,
            } => match self.put_of(&client_id, seq) {
                Some(Change::MessagePut { packet_id: p, .. }) => *p = Some(packet_id),
                _ => self.changes.push(Some(Change::MessageSent {
                    client_id,
                    seq,
                    packet_id,
                })),
            },
            Change::MessageDelete { client_id, seq } => {
                match self.inserted.remove(&(Arc::clone(&client_id), seq)) {
                    Some(at) => {
                        if let Some(slot) = self.changes.get_mut(at) {
                            *slot = None;
                        }
                    }
                    None => self
                        .changes
                        .push(Some(Change::MessageDelete { client_id, seq })),
                }
            }
            other => self.changes.push(Some(other)),
        }
    }

    fn put_of(&mut self, client_id: &Arc<str>, seq: u64) -> Option<&mut Change> {
        let at = *self.inserted.get(&(Arc::clone(client_id), seq))?;
        self.changes.get_mut(at)?.as_mut()
    }

    fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    fn clear(&mut self) {
        self.changes.clear();
        self.inserted.clear();
    }
}

fn write_loop(
    mut store: Box<dyn Commit>,
    rx: &Receiver<Item>,
    progress: &Progress,
    metrics: &Metrics,
) {
    let mut changes = Batch::default();
    let mut after: Vec<Item> = Vec::new();
    while let Ok(first) = rx.recv() {
        let mut ops = 0u64;
        let mut take = |item: Item, after: &mut Vec<Item>| match item {
            Item::Txn(txn) => {
                if !txn.changes.is_empty() {
                    ops = ops.saturating_add(1);
                    for change in txn.changes {
                        changes.push(change);
                    }
                }
                if !txn.sends.is_empty() {
                    after.push(Item::Txn(Txn {
                        changes: Vec::new(),
                        sends: txn.sends,
                    }));
                }
            }
            flush @ Item::Flush(_) => after.push(flush),
        };
        take(first, &mut after);
        let mut items = 1usize;
        while items < MAX_BATCH {
            match rx.try_recv() {
                Ok(item) => take(item, &mut after),
                Err(_) => break,
            }
            items = items.saturating_add(1);
        }
        let ok = if changes.is_empty() || progress.closed.load(Ordering::Acquire) {
            true
        } else {
            let batch: Vec<&Change> = changes.changes.iter().flatten().collect();
            match store.commit(&batch) {
                Ok(()) => {
                    inc(&metrics.persist_commits_total);
                    let n = u64::try_from(batch.len()).unwrap_or(u64::MAX);
                    metrics
                        .persist_changes_total
                        .fetch_add(n, Ordering::Relaxed);
                    true
                }
                Err(e) => {
                    inc(&metrics.persist_failures_total);
                    tracing::error!(
                        changes = batch.len(),
                        store = %store.describe(),
                        error = %e,
                        "writing to the store failed; the connections waiting for it are closed"
                    );
                    false
                }
            }
        };
        changes.clear();
        progress.done.fetch_add(ops, Ordering::AcqRel);
        for item in after.drain(..) {
            match item {
                Item::Txn(txn) => {
                    for d in txn.sends {
                        deliver(d, ok, metrics);
                    }
                }
                Item::Flush(done) => {
                    let _ = done.send(ok);
                }
            }
        }
        set(
            &metrics.persist_backlog,
            usize::try_from(progress.backlog()).unwrap_or(usize::MAX),
        );
        progress.room.notify_waiters();
    }
    set(&metrics.persist_backlog, 0);
}

/// Sends a packet whose promise is now kept; when the commit failed, closes its connection
/// instead, so that the client sends again what was not confirmed.
fn deliver(d: Deferred, committed: bool, metrics: &Metrics) {
    if committed {
        match d.tx.try_send(d.packet) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) if d.droppable => {
                inc(&metrics.dropped_slow_client_total);
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                inc(&metrics.slow_client_disconnects_total);
                d.kill.close(Close::SlowReader);
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    } else {
        d.kill.close(Close::StoreFailed);
    }
    // After the send: a packet sent directly once this reaches 0 cannot overtake it.
    d.waiting.fetch_sub(1, Ordering::AcqRel);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use bytes::Bytes;
    use mqtt_wire::{QoS, TopicName};

    use super::*;
    use crate::broker::Message;

    fn put(client: &Arc<str>, seq: u64) -> Change {
        Change::MessagePut {
            client_id: Arc::clone(client),
            seq,
            message: Message {
                topic: TopicName::new("t").unwrap(),
                payload: Bytes::from_static(b"p"),
                qos: QoS::AtLeastOnce,
                retain: false,
                origin: None,
            },
            packet_id: None,
        }
    }

    #[test]
    fn a_message_completed_within_a_batch_is_never_written() {
        let (a, b): (Arc<str>, Arc<str>) = (Arc::from("a"), Arc::from("b"));
        let mut batch = Batch::default();
        batch.push(put(&a, 1));
        batch.push(put(&b, 1));
        batch.push(Change::MessageSent {
            client_id: Arc::clone(&a),
            seq: 1,
            packet_id: 7,
        });
        batch.push(Change::MessageSent {
            client_id: Arc::clone(&a),
            seq: 0,
            packet_id: 8,
        });
        batch.push(Change::MessageDelete {
            client_id: Arc::clone(&b),
            seq: 1,
        });
        batch.push(Change::MessageDelete {
            client_id: Arc::clone(&b),
            seq: 0,
        });
        let written: Vec<Change> = batch.changes.iter().flatten().cloned().collect();
        let mut sent_a1 = put(&a, 1);
        if let Change::MessagePut { packet_id, .. } = &mut sent_a1 {
            *packet_id = Some(7);
        }
        assert_eq!(
            written,
            [
                // a's message 1, sent in the same batch: one insertion with its packet id.
                sent_a1,
                // a's message 0 was stored by an earlier batch: updated there.
                Change::MessageSent {
                    client_id: Arc::clone(&a),
                    seq: 0,
                    packet_id: 8
                },
                // b's message 1 came and went: nothing. Its message 0 is deleted.
                Change::MessageDelete {
                    client_id: Arc::clone(&b),
                    seq: 0
                },
            ]
        );
    }
}
