//! The results: the seed-style summary table, the JSON file, the HDR percentile distribution.

use std::fmt::Write;
use std::path::Path;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::measure::{Counters, ERROR_KINDS, ErrorKind, LossCause, settle_lost};
use crate::options::Scenario;
use crate::run::{Context, ScenarioResult};

/// Latency percentiles in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Latency {
    /// Values recorded.
    pub count: u64,
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// Largest.
    pub max: u64,
    /// Mean.
    pub mean: f64,
}

impl Latency {
    /// The percentiles of a histogram (all zero when it is empty).
    pub fn of(h: &Histogram<u64>) -> Latency {
        if h.is_empty() {
            return Latency::default();
        }
        Latency {
            count: h.len(),
            p50: h.value_at_quantile(0.5),
            p90: h.value_at_quantile(0.9),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
            mean: h.mean(),
        }
    }
}

/// Everything a run measured; written as `results.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The scenario.
    pub scenario: Scenario,
    /// The broker address (several joined by ',').
    pub broker: String,
    /// Whether the connections used mutual TLS.
    pub tls: bool,
    /// QoS of publishes and subscriptions.
    pub qos: u8,
    /// Agents (publishers, workers).
    pub agents: u32,
    /// The measured phase in seconds.
    pub duration_secs: f64,
    /// The profile's (or `--rate`'s) target rate.
    pub target_rate: Option<f64>,
    /// Messages handed to the broker.
    pub sent: u64,
    /// Messages received from it.
    pub received: u64,
    /// `sent - received` (never negative).
    pub lost_messages: u64,
    /// Jobs sent (peak, stability).
    pub jobs_sent: u64,
    /// Jobs completed.
    pub jobs_completed: u64,
    /// Lost jobs whose agent was reconnecting.
    pub lost_jobs_reconnecting: u64,
    /// Lost jobs whose agent stayed subscribed: broker errors.
    pub lost_jobs_broker: u64,
    /// Messages later than the timeout.
    pub timeouts: u64,
    /// Jobs processed out of order.
    pub out_of_order: u64,
    /// Connections lost during the run.
    pub disconnects: u64,
    /// Connections made again.
    pub reconnects: u64,
    /// Successful connections.
    pub connects: u64,
    /// Failed connection attempts.
    pub connect_failures: u64,
    /// Payloads that were not the generator's.
    pub foreign_payloads: u64,
    /// (lost messages + timeouts + out of order) / sent, in percent; for `flood`, (lost
    /// messages + timeouts) / sent; for `connect`, failed / attempted connections.
    pub error_percent: f64,
    /// The numerator of `error_percent`: the sum of the `error_kinds_counted` columns.
    pub error_count: u64,
    /// The kinds (names of `error_kinds`) whose totals make `error_count`; the others are
    /// charted beside them but not counted in `error_percent`.
    pub error_kinds_counted: Vec<&'static str>,
    /// Message latency in microseconds.
    pub latency_us: Latency,
    /// Connect latency (TCP + TLS + CONNECT → CONNACK) in microseconds.
    pub connect_latency_us: Latency,
    /// Messages received per second of the measured phase.
    pub throughput_msg_per_s: f64,
    /// Successful connections per second: the measured rate for `connect`, the achieved
    /// ramp-up rate for `peak`/`stability` (paced by `--ramp-up`), none for `flood`.
    pub connect_rate_per_s: Option<f64>,
    /// Agents subscribed at the end of the measured phase (peak, stability).
    pub connected_at_end: u64,
    /// Resident memory of the generator at the end.
    pub rss_bytes: Option<u64>,
    /// Resident memory per agent.
    pub rss_per_agent_bytes: Option<u64>,
    /// The open-file limit in force.
    pub nofile_limit: Option<u64>,
    /// Cumulative errors per second of the run, by kind (`error_kinds` names the columns).
    /// The lost-message column ends at `lost_messages`: lost jobs count at the second they
    /// were sent, every other lost message at the second the drain ended.
    pub errors_over_time: Vec<[u64; ERROR_KINDS]>,
    /// The column names of `errors_over_time`.
    pub error_kinds: Vec<&'static str>,
}

/// The kinds of error that `error_percent` counts in a scenario (its numerator is their sum).
pub fn counted_kinds(scenario: Scenario) -> &'static [ErrorKind] {
    match scenario {
        Scenario::Connect => &[ErrorKind::ConnectFailed],
        Scenario::Flood => &[ErrorKind::Lost, ErrorKind::Timeout],
        Scenario::Peak | Scenario::Stability => {
            &[ErrorKind::Lost, ErrorKind::Timeout, ErrorKind::OutOfOrder]
        }
    }
}

/// The sum of the counted kinds' columns in the last row of cumulative `rows` (0 if none).
pub fn counted_total(scenario: Scenario, rows: &[[u64; ERROR_KINDS]]) -> u64 {
    rows.last().map_or(0, |row| {
        counted_kinds(scenario)
            .iter()
            .filter_map(|k| row.get(k.slot()))
            .fold(0u64, |a, v| a.saturating_add(*v))
    })
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

impl Report {
    pub(crate) fn new(
        ctx: &Context,
        scenario: ScenarioResult,
        latency: Latency,
        connect_latency: Latency,
        rss: Option<u64>,
        nofile: Option<u64>,
    ) -> Report {
        let o = &ctx.options;
        let c = &ctx.counters;
        let sent = Counters::get(&c.sent);
        let received = Counters::get(&c.received);
        let lost = sent.saturating_sub(received);
        let timeouts = Counters::get(&c.timeouts);
        let out_of_order = Counters::get(&c.out_of_order);
        let connects = Counters::get(&c.connects);
        let connect_failures = Counters::get(&c.connect_failures);
        let lost_of = |cause: LossCause| {
            scenario
                .lost_jobs
                .iter()
                .find(|(c, _)| *c == cause)
                .map(|(_, n)| *n)
                .unwrap_or(0)
        };
        let secs = o.duration.as_secs_f64().max(f64::MIN_POSITIVE);
        let total_of = |kind: ErrorKind| match kind {
            ErrorKind::Lost => lost,
            ErrorKind::Timeout => timeouts,
            ErrorKind::OutOfOrder => out_of_order,
            ErrorKind::ConnectFailed => connect_failures,
            ErrorKind::Disconnect => Counters::get(&c.disconnects),
        };
        let error_count = counted_kinds(o.scenario)
            .iter()
            .fold(0u64, |a, k| a.saturating_add(total_of(*k)));
        let mut errors_over_time = ctx.timeline.cumulative();
        let drain_end_second = ctx.end.saturating_duration_since(ctx.start).as_secs();
        settle_lost(
            &mut errors_over_time,
            lost,
            usize::try_from(drain_end_second).unwrap_or(usize::MAX),
        );
        let (error_percent, throughput, connect_rate) = match o.scenario {
            Scenario::Connect => (
                percent(error_count, connects.saturating_add(connect_failures)),
                0.0,
                Some(connects as f64 / secs),
            ),
            Scenario::Flood => (
                percent(error_count, sent),
                scenario.jobs_completed as f64 / secs,
                None,
            ),
            Scenario::Peak | Scenario::Stability => (
                percent(error_count, sent),
                received as f64 / secs,
                Some(connects as f64 / o.ramp_up.as_secs_f64().max(1.0)),
            ),
        };
        let jobs = matches!(o.scenario, Scenario::Peak | Scenario::Stability);
        Report {
            scenario: o.scenario,
            broker: o
                .brokers()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(","),
            tls: o.tls.is_some(),
            qos: o.qos as u8,
            agents: o.agents,
            duration_secs: secs,
            target_rate: scenario.target_rate,
            sent,
            received,
            lost_messages: lost,
            jobs_sent: if jobs { scenario.jobs_sent } else { 0 },
            jobs_completed: if jobs { scenario.jobs_completed } else { 0 },
            lost_jobs_reconnecting: lost_of(LossCause::Reconnecting),
            lost_jobs_broker: lost_of(LossCause::Broker),
            timeouts,
            out_of_order,
            disconnects: Counters::get(&c.disconnects),
            reconnects: Counters::get(&c.reconnects),
            connects,
            connect_failures,
            foreign_payloads: Counters::get(&c.foreign),
            error_percent,
            error_count,
            error_kinds_counted: counted_kinds(o.scenario).iter().map(|k| k.name()).collect(),
            latency_us: latency,
            connect_latency_us: connect_latency,
            throughput_msg_per_s: throughput,
            connect_rate_per_s: connect_rate,
            connected_at_end: scenario.connected_at_end,
            rss_bytes: rss,
            rss_per_agent_bytes: rss.and_then(|r| r.checked_div(u64::from(o.agents))),
            nofile_limit: nofile,
            errors_over_time,
            error_kinds: ErrorKind::ALL.iter().map(|k| k.name()).collect(),
        }
    }

    /// The summary table, in the seed's columns.
    pub fn table(&self) -> String {
        let ms = |us: u64| format!("{:.2}", us as f64 / 1000.0);
        let mut s = String::new();
        let _ = writeln!(
            s,
            "| scenario | agents | sent | received | error % | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | throughput msg/s | connect/s |"
        );
        let _ = writeln!(
            s,
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
        let l = if self.scenario == Scenario::Connect {
            &self.connect_latency_us
        } else {
            &self.latency_us
        };
        let _ = writeln!(
            s,
            "| {}{} qos{} | {} | {} | {} | {:.4} | {} | {} | {} | {} | {} | {:.0} | {} |",
            self.scenario.name(),
            if self.tls { " tls" } else { "" },
            self.qos,
            self.agents,
            self.sent,
            self.received,
            self.error_percent,
            ms(l.p50),
            ms(l.p90),
            ms(l.p99),
            ms(l.p999),
            ms(l.max),
            self.throughput_msg_per_s,
            self.connect_rate_per_s
                .map_or("-".to_owned(), |r| format!("{r:.0}")),
        );
        let _ = writeln!(
            s,
            "errors: lost messages {} (jobs lost while reconnecting {}, by the broker {}), timeouts {}, out of order {}, disconnects {}, reconnects {}, connect failures {}",
            self.lost_messages,
            self.lost_jobs_reconnecting,
            self.lost_jobs_broker,
            self.timeouts,
            self.out_of_order,
            self.disconnects,
            self.reconnects,
            self.connect_failures
        );
        if let Some(target) = self.target_rate {
            let _ = writeln!(
                s,
                "jobs: sent {} completed {}; target {:.2} msg/s; agents subscribed at the end {}",
                self.jobs_sent, self.jobs_completed, target, self.connected_at_end
            );
        }
        let _ = writeln!(
            s,
            "memory: RSS {} KiB, {} bytes per agent; open-file limit {}",
            self.rss_bytes
                .map_or("?".to_owned(), |b| (b / 1024).to_string()),
            self.rss_per_agent_bytes
                .map_or("?".to_owned(), |b| b.to_string()),
            self.nofile_limit.map_or("?".to_owned(), |n| n.to_string()),
        );
        s
    }
}

/// The HDR percentile distribution in HdrHistogram's text layout (values in milliseconds).
pub fn percentile_distribution(h: &Histogram<u64>) -> String {
    let mut s = String::from("       Value     Percentile TotalCount 1/(1-Percentile)\n\n");
    if h.is_empty() {
        return s;
    }
    for v in h.iter_quantiles(5) {
        let q = v.quantile_iterated_to();
        let inverse = if q < 1.0 {
            format!("{:14.2}", 1.0 / (1.0 - q))
        } else {
            format!("{:>14}", "inf")
        };
        let _ = writeln!(
            s,
            "{:12.3} {:14.12} {:10} {inverse}",
            v.value_iterated_to() as f64 / 1000.0,
            q,
            // The cumulative count up to this value.
            (q * h.len() as f64).round() as u64,
        );
    }
    let _ = writeln!(
        s,
        "#[Mean    = {:12.3}, StdDeviation   = {:12.3}]",
        h.mean() / 1000.0,
        h.stdev() / 1000.0
    );
    let _ = writeln!(
        s,
        "#[Max     = {:12.3}, Total count    = {:12}]",
        h.max() as f64 / 1000.0,
        h.len()
    );
    s
}

/// Why the output files could not be written.
#[derive(Debug)]
pub struct WriteError {
    /// The file.
    pub path: std::path::PathBuf,
    /// Why.
    pub error: std::io::Error,
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot write {}: {}", self.path.display(), self.error)
    }
}

impl std::error::Error for WriteError {}

/// Writes `results.json`, `latency.hgrm`, `latency.svg` and `errors.svg` into `dir`.
pub fn write_files(
    dir: &Path,
    report: &Report,
    histogram: &Histogram<u64>,
) -> Result<(), WriteError> {
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|error| WriteError { path, error })
    };
    std::fs::create_dir_all(dir).map_err(|error| WriteError {
        path: dir.to_path_buf(),
        error,
    })?;
    let json = serde_json::to_string_pretty(report).unwrap_or_default();
    write("results.json", &format!("{json}\n"))?;
    write("latency.hgrm", &percentile_distribution(histogram))?;
    let chart = |name: &str, svg: Result<String, crate::charts::ChartError>| {
        let svg = svg.map_err(|e| WriteError {
            path: dir.join(name),
            error: std::io::Error::other(e.to_string()),
        })?;
        write(name, &svg)
    };
    let what = if report.scenario == Scenario::Connect {
        "Connect latency (TCP + TLS + CONNECT → CONNACK)"
    } else {
        "Message latency"
    };
    chart(
        "latency.svg",
        crate::charts::latency_histogram(histogram, what),
    )?;
    chart(
        "errors.svg",
        crate::charts::cumulative_errors(report.scenario, &report.errors_over_time),
    )?;
    Ok(())
}
