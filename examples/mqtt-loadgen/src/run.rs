//! One run: the shared clock and measures, the scenario, the progress line, and the report.

use std::fmt;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hdrhistogram::Histogram;

use crate::measure::{Counters, ErrorKind, LossCause, Timeline, new_histogram, resident_bytes};
use crate::options::{Options, Scenario};
use crate::report::{Latency, Report};
use crate::transport::{ConnError, Connector};

/// Why a run could not start (failures during a run are measured, not returned).
#[derive(Debug)]
pub enum RunError {
    /// The TLS files or the connector could not be set up.
    Connector(ConnError),
    /// The histogram could not be created.
    Histogram(String),
    /// Not one connection could be made before the measured phase.
    NoConnection(ConnError),
    /// `--processes`: a child could not be started, failed, or left no results.
    Processes(String),
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Connector(e) => write!(f, "cannot set up connections: {e}"),
            RunError::Histogram(e) => write!(f, "cannot create the latency histogram: {e}"),
            RunError::NoConnection(e) => write!(f, "cannot connect to the broker: {e}"),
            RunError::Processes(e) => write!(f, "child process: {e}"),
        }
    }
}

impl std::error::Error for RunError {}

/// What every task of a run shares.
#[derive(Debug)]
pub(crate) struct Context {
    /// The options.
    pub options: Options,
    /// How connections are made.
    pub connector: Connector,
    /// The run's clock: payload stamps are nanoseconds since this.
    pub start: Instant,
    /// When the measured phase starts (after the ramp-up).
    pub measure_start: Instant,
    /// When sending stops.
    pub send_end: Instant,
    /// When everything stops (after the drain).
    pub end: Instant,
    /// The counters.
    pub counters: Counters,
    /// Message latencies in microseconds.
    pub latency: Mutex<Histogram<u64>>,
    /// Connect latencies (TCP + TLS + CONNECT → CONNACK) in microseconds.
    pub connect_latency: Mutex<Histogram<u64>>,
    /// Errors over time.
    pub timeline: Timeline,
    /// Set when the run is over: every loop checks it.
    pub stop: AtomicBool,
}

impl Context {
    /// Nanoseconds since the run's start.
    pub(crate) fn now_nanos(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// The whole second of the run we are in.
    pub(crate) fn second(&self) -> u64 {
        self.start.elapsed().as_secs()
    }

    /// Records a message latency.
    pub(crate) fn record_latency(&self, micros: u64) {
        self.latency
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .saturating_record(micros.max(1));
        if Duration::from_micros(micros) > self.options.timeout {
            Counters::bump(&self.counters.timeouts);
            self.timeline.add(self.second(), ErrorKind::Timeout, 1);
        }
    }

    /// Records a connect latency.
    pub(crate) fn record_connect(&self, micros: u64) {
        self.connect_latency
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .saturating_record(micros.max(1));
        Counters::bump(&self.counters.connects);
    }

    /// Counts an error event now.
    pub(crate) fn error(&self, kind: ErrorKind) {
        self.timeline.add(self.second(), kind, 1);
    }

    /// Whether the run is over.
    pub(crate) fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed) || Instant::now() >= self.end
    }
}

/// What a scenario reports beyond the shared counters.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct ScenarioResult {
    /// The target rate (peak, stability).
    pub target_rate: Option<f64>,
    /// Jobs sent (peak, stability).
    pub jobs_sent: u64,
    /// Jobs whose completion came back.
    pub jobs_completed: u64,
    /// Lost jobs by cause.
    pub lost_jobs: Vec<(LossCause, u64)>,
    /// Connections that were up at the end of the measured phase.
    pub connected_at_end: u64,
}

/// A finished run: the report, and the latency histogram it was computed from (connect
/// latencies for the `connect` scenario, message latencies otherwise).
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The measures.
    pub report: Report,
    /// The histogram, in microseconds.
    pub histogram: Histogram<u64>,
}

/// The run's start: now, or the instant a parent gave as milliseconds since the Unix epoch
/// (now if that is already past).
fn shared_start(start_at: Option<u64>) -> Instant {
    let now = Instant::now();
    let Some(at) = start_at else { return now };
    let at = UNIX_EPOCH.checked_add(Duration::from_millis(at));
    let wait = at.and_then(|at| at.duration_since(SystemTime::now()).ok());
    wait.and_then(|w| now.checked_add(w)).unwrap_or(now)
}

/// Runs the scenario described by `options` to its end: ramp-up, measured phase, drain.
/// Every run stops by itself at `ramp_up + duration + drain` at the latest.
pub async fn run(options: Options) -> Result<Outcome, RunError> {
    let nofile = crate::system::raise_nofile_limit();
    let connector =
        Connector::new(options.brokers(), options.tls.as_ref()).map_err(RunError::Connector)?;
    let histogram = || new_histogram().map_err(|e| RunError::Histogram(e.to_string()));
    let start = shared_start(options.start_at);
    // The connect scenario measures from the first moment; the others first ramp up.
    let ramp = match options.scenario {
        Scenario::Connect => Duration::ZERO,
        _ => options.ramp_up,
    };
    let measure_start = start.checked_add(ramp).unwrap_or(start);
    let send_end = measure_start
        .checked_add(options.duration)
        .unwrap_or(measure_start);
    let end = send_end.checked_add(options.drain).unwrap_or(send_end);
    let total_secs = ramp
        .saturating_add(options.duration)
        .saturating_add(options.drain)
        .as_secs()
        .saturating_add(2);
    let ctx = Arc::new(Context {
        connector,
        start,
        measure_start,
        send_end,
        end,
        counters: Counters::default(),
        latency: Mutex::new(histogram()?),
        connect_latency: Mutex::new(histogram()?),
        timeline: Timeline::new(usize::try_from(total_secs).unwrap_or(usize::MAX)),
        stop: AtomicBool::new(false),
        options,
    });
    if ctx.options.processes > 1
        && ctx.options.slice.is_none()
        && matches!(ctx.options.scenario, Scenario::Peak | Scenario::Stability)
    {
        let merged = crate::processes::run_children(&ctx).await?;
        let report = Report::new(
            &ctx,
            merged.result,
            Latency::of(&merged.messages),
            Latency::of(&merged.connects),
            merged.rss,
            nofile,
        );
        return Ok(Outcome {
            report,
            histogram: merged.messages,
        });
    }
    let progress = if ctx.options.progress {
        Some(tokio::spawn(crate::progress::run(Arc::clone(&ctx))))
    } else {
        None
    };
    let result = match ctx.options.scenario {
        Scenario::Peak | Scenario::Stability => crate::jobs::run(Arc::clone(&ctx)).await,
        Scenario::Flood => crate::flood::run(Arc::clone(&ctx)).await,
        Scenario::Connect => crate::connect::run(Arc::clone(&ctx)).await,
    };
    ctx.stop.store(true, Ordering::Relaxed);
    if let Some(p) = progress {
        let _ = p.await;
        eprintln!();
    }
    let scenario = result?;
    let rss = resident_bytes();
    let messages = ctx
        .latency
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let connects = ctx
        .connect_latency
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    if ctx.options.slice.is_some()
        && let Some(dir) = &ctx.options.out
    {
        crate::processes::write_shard(dir, &ctx, &scenario, rss, &messages, &connects)?;
    }
    let report = Report::new(
        &ctx,
        scenario,
        Latency::of(&messages),
        Latency::of(&connects),
        rss,
        nofile,
    );
    let histogram = if ctx.options.scenario == Scenario::Connect {
        connects
    } else {
        messages
    };
    Ok(Outcome { report, histogram })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::arithmetic_side_effects)] // Test code.
mod tests {
    use super::*;

    fn epoch_millis(t: SystemTime) -> u64 {
        u64::try_from(t.duration_since(UNIX_EPOCH).unwrap().as_millis()).unwrap()
    }

    #[test]
    fn children_start_at_the_instant_their_parent_gave() {
        let now = Instant::now();
        let later = shared_start(Some(epoch_millis(SystemTime::now()) + 3_000));
        let waited = later.duration_since(now);
        assert!(
            waited > Duration::from_millis(2_500) && waited < Duration::from_millis(3_500),
            "{waited:?}"
        );
        // Past or absent: at once.
        assert!(shared_start(Some(0)).duration_since(now) < Duration::from_millis(500));
        assert!(shared_start(None).duration_since(now) < Duration::from_millis(500));
    }
}
