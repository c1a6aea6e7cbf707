//! What a run measures: latencies into an HDR histogram, counters, the error timeline, and the
//! classification of lost jobs (the seed had to tell reconnect drops from broker errors).

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use hdrhistogram::Histogram;

/// The histogram's range: 1 µs to 60 s at 3 significant digits; slower values are clamped to
/// 60 s (and are timeouts anyway).
pub const MAX_LATENCY_MICROS: u64 = 60_000_000;

/// A latency histogram in microseconds with the range above (hdrhistogram accepts these
/// constant bounds; the error is passed on rather than unwrapped).
pub fn new_histogram() -> Result<Histogram<u64>, hdrhistogram::CreationError> {
    Histogram::new_with_bounds(1, MAX_LATENCY_MICROS, 3)
}

/// Why a job that was sent never completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LossCause {
    /// The agent was not subscribed when the job was sent, or lost its connection afterwards:
    /// at QoS 0 an MQTT broker drops such a message by design (SCENARIOS.md §7).
    Reconnecting,
    /// The agent stayed connected and subscribed from before the job was sent until the end:
    /// the broker lost the job or its completion.
    Broker,
}

/// Classifies a lost job from what the agent's state was when it was sent and is now.
/// `epoch` counts the agent's completed subscriptions (it moves on every reconnect).
pub fn classify_loss(subscribed_at_send: bool, epoch_at_send: u64, epoch_now: u64) -> LossCause {
    if subscribed_at_send && epoch_at_send == epoch_now {
        LossCause::Broker
    } else {
        LossCause::Reconnecting
    }
}

/// The kinds of error counted over time (the cumulative error chart has one line each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A message sent and never received by the end of the drain. Lost jobs count at the
    /// second they were sent; the rest of `sent - received` is only known at the end.
    Lost,
    /// A message that arrived later than the timeout.
    Timeout,
    /// A job that reached its agent before an earlier job of the same agent.
    OutOfOrder,
    /// A connection attempt that failed (TCP, TLS, or a refused CONNACK).
    ConnectFailed,
    /// A connection ended that the run did not end.
    Disconnect,
}

/// How many kinds of error there are (the columns of the timeline).
pub const ERROR_KINDS: usize = 5;

impl ErrorKind {
    /// All kinds, in chart order.
    pub const ALL: [ErrorKind; ERROR_KINDS] = [
        ErrorKind::Lost,
        ErrorKind::Timeout,
        ErrorKind::OutOfOrder,
        ErrorKind::ConnectFailed,
        ErrorKind::Disconnect,
    ];

    /// Its name in the JSON file and the chart legend.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Lost => "lost_messages",
            ErrorKind::Timeout => "timeouts",
            ErrorKind::OutOfOrder => "out_of_order",
            ErrorKind::ConnectFailed => "connect_failures",
            ErrorKind::Disconnect => "disconnects",
        }
    }

    /// Its column in the timeline's rows.
    pub fn slot(self) -> usize {
        self as usize
    }
}

/// Errors per second of the run, by kind; seconds past the end are counted in the last one.
#[derive(Debug)]
pub struct Timeline {
    seconds: Mutex<Vec<[u64; ERROR_KINDS]>>,
}

impl Timeline {
    /// A timeline of `seconds` one-second buckets (at least one).
    pub fn new(seconds: usize) -> Timeline {
        Timeline {
            seconds: Mutex::new(vec![[0; ERROR_KINDS]; seconds.max(1)]),
        }
    }

    /// Counts `n` errors of `kind` in the second `second` of the run.
    pub fn add(&self, second: u64, kind: ErrorKind, n: u64) {
        let mut buckets = self.seconds.lock().unwrap_or_else(|p| p.into_inner());
        let last = buckets.len().saturating_sub(1);
        let i = usize::try_from(second).unwrap_or(last).min(last);
        if let Some(bucket) = buckets.get_mut(i)
            && let Some(count) = bucket.get_mut(kind.slot())
        {
            *count = count.saturating_add(n);
        }
    }

    /// The running totals per second, by kind (one row per second).
    pub fn cumulative(&self) -> Vec<[u64; ERROR_KINDS]> {
        let buckets = self.seconds.lock().unwrap_or_else(|p| p.into_inner());
        let mut total = [0u64; ERROR_KINDS];
        buckets
            .iter()
            .map(|b| {
                for (t, v) in total.iter_mut().zip(b.iter()) {
                    *t = t.saturating_add(*v);
                }
                total
            })
            .collect()
    }
}

/// Makes the lost-message column of cumulative `rows` end at exactly `lost` (`sent -
/// received`): what the timeline attributed to a second (lost jobs, at the second they were
/// sent) is kept up to `lost`, and the remainder — messages known lost only when the drain
/// ends — is added at row `end_row` (clamped to the last row).
pub fn settle_lost(rows: &mut [[u64; ERROR_KINDS]], lost: u64, end_row: usize) {
    let slot = ErrorKind::Lost.slot();
    let last = rows.len().saturating_sub(1);
    let end_row = end_row.min(last);
    for (i, row) in rows.iter_mut().enumerate() {
        if let Some(v) = row.get_mut(slot) {
            *v = if i >= end_row { lost } else { (*v).min(lost) };
        }
    }
}

/// The counters every scenario shares (updated from many tasks).
#[derive(Debug, Default)]
pub struct Counters {
    /// Messages handed to the broker.
    pub sent: AtomicU64,
    /// Messages received from the broker.
    pub received: AtomicU64,
    /// Successful CONNECT → CONNACK(0) exchanges.
    pub connects: AtomicU64,
    /// Connections that ended without the run ending them.
    pub disconnects: AtomicU64,
    /// Connections made again after a disconnect.
    pub reconnects: AtomicU64,
    /// Failed connection attempts.
    pub connect_failures: AtomicU64,
    /// Messages later than the timeout.
    pub timeouts: AtomicU64,
    /// Jobs that reached their agent after a later job of the same agent.
    pub out_of_order: AtomicU64,
    /// Payloads that were not ours (counted, ignored).
    pub foreign: AtomicU64,
}

impl Counters {
    /// Adds one to a counter.
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Reads a counter.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// Whether a job with sequence `seq` arrived out of order after `last_seen` (the highest
/// sequence the agent had seen, 0 before the first job; sequences start at 1).
pub fn is_out_of_order(last_seen: u32, seq: u32) -> bool {
    seq <= last_seen
}

/// The latency of a message stamped at `sent_nanos` and received at `now_nanos`, in
/// microseconds (0 if the clock reads earlier, which a monotonic clock never does).
pub fn latency_micros(sent_nanos: u64, now_nanos: u64) -> u64 {
    now_nanos.saturating_sub(sent_nanos) / 1000
}

/// Resident memory of this process in bytes, from `/proc/self/status` (`VmRSS`), if readable.
pub fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_vm_rss(&status)
}

/// The `VmRSS:` line of a `/proc/<pid>/status` text, in bytes.
pub fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?;
    let kib: u64 = line.trim().strip_suffix("kB")?.trim().parse().ok()?;
    kib.checked_mul(1024)
}
