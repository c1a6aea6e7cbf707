//! `--processes N`: the parent runs N child processes of the same program, each over a slice of
//! the agents (`--slice K/N`); a child writes its counters (`shard.json`) and histograms
//! (`latency.hdr`, `connect.hdr`, HdrHistogram's V2 serialization) into its own directory,
//! and the parent merges them into one report.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use serde::{Deserialize, Serialize};

use crate::measure::{Counters, ERROR_KINDS, ErrorKind, LossCause};
use crate::options::Options;
use crate::run::{Context, RunError, ScenarioResult};

/// What a child process measured, beside its histograms.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Shard {
    /// Messages sent.
    pub sent: u64,
    /// Messages received.
    pub received: u64,
    /// Successful connections.
    pub connects: u64,
    /// Connections lost.
    pub disconnects: u64,
    /// Connections made again.
    pub reconnects: u64,
    /// Failed connection attempts.
    pub connect_failures: u64,
    /// Messages later than the timeout.
    pub timeouts: u64,
    /// Jobs out of order.
    pub out_of_order: u64,
    /// Payloads that were not ours.
    pub foreign: u64,
    /// Jobs sent.
    pub jobs_sent: u64,
    /// Jobs completed.
    pub jobs_completed: u64,
    /// Lost jobs whose agent was reconnecting.
    pub lost_jobs_reconnecting: u64,
    /// Lost jobs whose agent stayed subscribed.
    pub lost_jobs_broker: u64,
    /// Agents subscribed at the end.
    pub connected_at_end: u64,
    /// The child's share of the target rate.
    pub target_rate: Option<f64>,
    /// The child's resident memory at the end.
    pub rss_bytes: Option<u64>,
    /// The child's cumulative errors per second, as counted (lost messages not settled).
    pub errors_over_time: Vec<[u64; ERROR_KINDS]>,
}

fn io_error(path: &Path, e: impl std::fmt::Display) -> RunError {
    RunError::Processes(format!("{}: {e}", path.display()))
}

fn write_histogram(path: &Path, h: &Histogram<u64>) -> Result<(), RunError> {
    let mut bytes = Vec::new();
    V2Serializer::new()
        .serialize(h, &mut bytes)
        .map_err(|e| io_error(path, format!("{e:?}")))?;
    std::fs::write(path, bytes).map_err(|e| io_error(path, e))
}

fn read_histogram(path: &Path) -> Result<Histogram<u64>, RunError> {
    let bytes = std::fs::read(path).map_err(|e| io_error(path, e))?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| io_error(path, format!("{e:?}")))
}

/// Writes a child's measures into `dir`.
pub(crate) fn write_shard(
    dir: &Path,
    ctx: &Context,
    result: &ScenarioResult,
    rss: Option<u64>,
    messages: &Histogram<u64>,
    connects: &Histogram<u64>,
) -> Result<(), RunError> {
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    let c = &ctx.counters;
    let lost_of = |cause: LossCause| {
        result
            .lost_jobs
            .iter()
            .find(|(c, _)| *c == cause)
            .map_or(0, |(_, n)| *n)
    };
    let shard = Shard {
        sent: Counters::get(&c.sent),
        received: Counters::get(&c.received),
        connects: Counters::get(&c.connects),
        disconnects: Counters::get(&c.disconnects),
        reconnects: Counters::get(&c.reconnects),
        connect_failures: Counters::get(&c.connect_failures),
        timeouts: Counters::get(&c.timeouts),
        out_of_order: Counters::get(&c.out_of_order),
        foreign: Counters::get(&c.foreign),
        jobs_sent: result.jobs_sent,
        jobs_completed: result.jobs_completed,
        lost_jobs_reconnecting: lost_of(LossCause::Reconnecting),
        lost_jobs_broker: lost_of(LossCause::Broker),
        connected_at_end: result.connected_at_end,
        target_rate: result.target_rate,
        rss_bytes: rss,
        errors_over_time: ctx.timeline.cumulative(),
    };
    let path = dir.join("shard.json");
    let json = serde_json::to_string(&shard).map_err(|e| io_error(&path, e))?;
    std::fs::write(&path, json).map_err(|e| io_error(&path, e))?;
    write_histogram(&dir.join("latency.hdr"), messages)?;
    write_histogram(&dir.join("connect.hdr"), connects)
}

/// The merged measures of every child.
pub(crate) struct Merged {
    pub result: ScenarioResult,
    pub messages: Histogram<u64>,
    pub connects: Histogram<u64>,
    pub rss: Option<u64>,
}

/// Runs `options.processes` children over slices of the agents, waits for them, and merges
/// what they wrote into `ctx` (counters, timeline) and the returned histograms.
pub(crate) async fn run_children(ctx: &Context) -> Result<Merged, RunError> {
    let o = &ctx.options;
    let dir: PathBuf = o.out.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("mqtt-loadgen-{}", std::process::id()))
    });
    let program = match &o.program {
        Some(p) => p.clone(),
        None => std::env::current_exe().map_err(|e| RunError::Processes(e.to_string()))?,
    };
    let n = o.processes;
    // One start for every child, late enough for the last one to be up (a child loads its
    // keys and certificates first).
    let spawn_margin = Duration::from_millis(2_000)
        .saturating_add(Duration::from_millis(250).saturating_mul(u32::from(n)));
    let start_at = SystemTime::now()
        .checked_add(spawn_margin)
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let mut children = Vec::new();
    let mut dirs = Vec::new();
    for k in 0..n {
        let mut child: Options = o.clone();
        child.processes = 1;
        child.slice = Some((k, n));
        child.start_at = start_at;
        child.progress = false;
        let child_dir = dir.join(format!("process-{k}"));
        child.out = Some(child_dir.clone());
        let _ = std::fs::remove_file(child_dir.join("shard.json"));
        let spawned = Command::new(&program)
            .args(child.to_args())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| RunError::Processes(format!("{}: {e}", program.display())))?;
        children.push(spawned);
        dirs.push(child_dir);
    }
    let statuses = tokio::task::spawn_blocking(move || {
        children
            .into_iter()
            .map(|mut c| c.wait().map_err(|e| e.to_string()))
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| RunError::Processes(e.to_string()))?;
    for (k, status) in statuses.into_iter().enumerate() {
        match status {
            Ok(s) if s.success() => {}
            Ok(s) => return Err(RunError::Processes(format!("process {k} ended with {s}"))),
            Err(e) => return Err(RunError::Processes(format!("process {k}: {e}"))),
        }
    }
    let mut merged = Merged {
        result: ScenarioResult::default(),
        messages: read_histogram(&dirs.first().map_or(dir.clone(), |d| d.join("latency.hdr")))?,
        connects: read_histogram(&dirs.first().map_or(dir.clone(), |d| d.join("connect.hdr")))?,
        rss: None,
    };
    merged.messages.reset();
    merged.connects.reset();
    let (mut reconnecting, mut broker) = (0u64, 0u64);
    for d in &dirs {
        let path = d.join("shard.json");
        let text = std::fs::read_to_string(&path).map_err(|e| io_error(&path, e))?;
        let s: Shard = serde_json::from_str(&text).map_err(|e| io_error(&path, e))?;
        merge_shard(ctx, &s);
        let r = &mut merged.result;
        r.jobs_sent = r.jobs_sent.saturating_add(s.jobs_sent);
        r.jobs_completed = r.jobs_completed.saturating_add(s.jobs_completed);
        r.connected_at_end = r.connected_at_end.saturating_add(s.connected_at_end);
        r.target_rate = match (r.target_rate, s.target_rate) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
        reconnecting = reconnecting.saturating_add(s.lost_jobs_reconnecting);
        broker = broker.saturating_add(s.lost_jobs_broker);
        merged.rss = match (merged.rss, s.rss_bytes) {
            (Some(a), Some(b)) => Some(a.saturating_add(b)),
            (a, b) => a.or(b),
        };
        let h = read_histogram(&d.join("latency.hdr"))?;
        merged
            .messages
            .add(&h)
            .map_err(|e| RunError::Processes(format!("{e:?}")))?;
        let h = read_histogram(&d.join("connect.hdr"))?;
        merged
            .connects
            .add(&h)
            .map_err(|e| RunError::Processes(format!("{e:?}")))?;
    }
    merged.result.lost_jobs = vec![
        (LossCause::Reconnecting, reconnecting),
        (LossCause::Broker, broker),
    ];
    Ok(merged)
}

/// Adds a child's counters and error timeline to `ctx`.
fn merge_shard(ctx: &Context, s: &Shard) {
    let c = &ctx.counters;
    for (counter, v) in [
        (&c.sent, s.sent),
        (&c.received, s.received),
        (&c.connects, s.connects),
        (&c.disconnects, s.disconnects),
        (&c.reconnects, s.reconnects),
        (&c.connect_failures, s.connect_failures),
        (&c.timeouts, s.timeouts),
        (&c.out_of_order, s.out_of_order),
        (&c.foreign, s.foreign),
    ] {
        counter.fetch_add(v, Ordering::Relaxed);
    }
    let mut previous = [0u64; ERROR_KINDS];
    for (second, row) in s.errors_over_time.iter().enumerate() {
        for kind in ErrorKind::ALL {
            let slot = kind.slot();
            let (now, before) = (
                row.get(slot).copied().unwrap_or(0),
                previous.get(slot).copied().unwrap_or(0),
            );
            if now > before {
                ctx.timeline.add(
                    u64::try_from(second).unwrap_or(u64::MAX),
                    kind,
                    now.saturating_sub(before),
                );
            }
        }
        previous = *row;
    }
}
