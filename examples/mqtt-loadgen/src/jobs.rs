//! `peak` and `stability`: agents subscribed to their job topic, service clients that send
//! them jobs at the profile's rate and wait for the completion PINGs (2 messages per job).

use std::collections::HashMap;
use std::num::NonZeroU16;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use mqtt_wire::{
    Packet, PacketId, Publish, QoS, QosPid, SubAckReturnCode, Subscribe, SubscribeFilter,
    TopicFilter, TopicName,
};
use tokio::sync::{Mutex, watch};

use crate::measure::{
    Counters, ErrorKind, LossCause, classify_loss, is_out_of_order, latency_micros,
};
use crate::options::Scenario;
use crate::payload::Stamp;
use crate::profile::{Profile, seed_average, seed_peak};
use crate::rng::Rng;
use crate::run::{Context, RunError, ScenarioResult};
use crate::transport::{CLOSE_LIMIT, ConnError, Halves, PacketWriter, handshake};

/// What the run knows about one agent (kept small: there may be 500,000).
#[derive(Debug, Default)]
pub(crate) struct AgentState {
    /// Subscribed to its job topic right now.
    subscribed: AtomicBool,
    /// Moves on every subscribe and every disconnect, so a lost job can be traced to a
    /// connection change after it was sent.
    epoch: AtomicU64,
    /// The last job sequence number given out (service side).
    next_seq: AtomicU32,
    /// The highest job sequence number received (agent side).
    last_seen: AtomicU32,
}

/// A job waiting for its completion.
#[derive(Debug, Clone, Copy)]
struct Outstanding {
    agent: u32,
    sent_second: u64,
    subscribed_at_send: bool,
    epoch_at_send: u64,
}

/// The topic an agent receives its jobs on.
pub fn job_topic(agent: u32) -> String {
    format!("loadgen/jobs/{agent}")
}

/// The topic a service receives completions on.
pub fn done_topic(service: u16) -> String {
    format!("loadgen/done/{service}")
}

/// A generated topic name.
pub(crate) fn topic(name: &str) -> Result<TopicName, ConnError> {
    TopicName::new(name).map_err(|_| ConnError::Unexpected("invalid generated topic"))
}

/// The next packet identifier: 1, 2, ..., 65535, 1, ... (never 0, [MQTT-2.3.1-1]).
pub(crate) fn pid(counter: &mut u16) -> PacketId {
    *counter = counter.checked_add(1).unwrap_or(1);
    PacketId::from(NonZeroU16::new(*counter).unwrap_or(NonZeroU16::MIN))
}

/// QoS 0 without, or QoS 1 with the next packet identifier.
pub(crate) fn qos_pid(qos: QoS, counter: &mut u16) -> QosPid {
    match qos {
        QoS::AtMostOnce => QosPid::AtMostOnce,
        _ => QosPid::AtLeastOnce(pid(counter)),
    }
}

/// Subscribes to one filter and waits for the SUBACK; a failure code is an error.
pub(crate) async fn subscribe(
    halves: &mut Halves,
    filter: &str,
    qos: QoS,
) -> Result<(), ConnError> {
    let filter = TopicFilter::new(filter).map_err(|_| ConnError::Unexpected("invalid filter"))?;
    let mut counter = 0u16;
    let subscribe = Subscribe::new(pid(&mut counter), [SubscribeFilter { filter, qos }])
        .map_err(|_| ConnError::Unexpected("SUBSCRIBE could not be encoded"))?;
    halves.1.send(Packet::Subscribe(subscribe)).await?;
    loop {
        match halves.0.next().await? {
            Packet::SubAck(ack) => {
                return if ack.return_codes().any(|c| c == SubAckReturnCode::Failure) {
                    Err(ConnError::Unexpected("SUBACK refused the subscription"))
                } else {
                    Ok(())
                };
            }
            // Anything else before the SUBACK (a PINGRESP) is ignored.
            _ => continue,
        }
    }
}

pub(crate) async fn run(ctx: Arc<Context>) -> Result<ScenarioResult, RunError> {
    let o = &ctx.options;
    let agents = o.agents;
    let rate = o.rate.unwrap_or_else(|| match o.scenario {
        Scenario::Stability => seed_average(u64::from(agents)).per_second(),
        _ => seed_peak(u64::from(agents)).per_second(),
    });
    // In a child process: its slice of the agents, its share of the rate, and service
    // numbers of its own (process k has services k × services ..).
    let range = o.agent_range();
    let slice_len = range.end.saturating_sub(range.start);
    let rate = rate * f64::from(slice_len) / f64::from(agents.max(1));
    let service_base = o.slice.map_or(0, |(k, _)| k.saturating_mul(o.services));
    let states: Arc<Vec<AgentState>> =
        Arc::new((0..agents).map(|_| AgentState::default()).collect());
    let (stop_tx, stop_rx) = watch::channel(false);

    // Services first: a job needs someone to send it.
    let mut services = Vec::new();
    let service_count = o
        .services
        .min(u16::try_from(slice_len).unwrap_or(u16::MAX))
        .max(1);
    let mut first_error = None;
    for s in (0..service_count).map(|s| service_base.saturating_add(s)) {
        let n = u64::from(agents).saturating_add(u64::from(s));
        // Services have ids of their own even when agents share one (takeover tests).
        let id = format!("{}-svc{s}", o.client_id(n));
        match connect_and_subscribe(&ctx, n, &id, &done_topic(s)).await {
            Ok(h) => services.push((s, h)),
            Err(e) => {
                ctx.error(ErrorKind::ConnectFailed);
                Counters::bump(&ctx.counters.connect_failures);
                first_error.get_or_insert(e);
            }
        }
    }
    if services.is_empty() {
        return Err(RunError::NoConnection(
            first_error.unwrap_or(ConnError::Closed),
        ));
    }
    let mut agent_tasks = Vec::with_capacity(usize::try_from(slice_len).unwrap_or(0));
    for i in range.clone() {
        agent_tasks.push(tokio::spawn(agent(
            Arc::clone(&ctx),
            Arc::clone(&states),
            i,
            stop_rx.clone(),
        )));
    }
    let live = u16::try_from(services.len()).unwrap_or(1);
    let per_service_jobs = rate / 2.0 / f64::from(live);
    let mut service_tasks = Vec::new();
    for (k, (s, halves)) in services.into_iter().enumerate() {
        service_tasks.push(tokio::spawn(service(
            Arc::clone(&ctx),
            Arc::clone(&states),
            s,
            range.clone(),
            (u16::try_from(k).unwrap_or(0), live),
            halves,
            per_service_jobs,
        )));
    }
    let mut result = ScenarioResult {
        target_rate: Some(rate),
        ..ScenarioResult::default()
    };
    let mut lost: HashMap<LossCause, u64> = HashMap::new();
    for t in service_tasks {
        if let Ok(outcome) = t.await {
            result.jobs_sent = result.jobs_sent.saturating_add(outcome.sent);
            result.jobs_completed = result.jobs_completed.saturating_add(outcome.completed);
            for job in outcome.outstanding {
                let epoch_now = states
                    .get(usize::try_from(job.agent).unwrap_or(usize::MAX))
                    .map(|a| a.epoch.load(Ordering::Acquire))
                    .unwrap_or(0);
                let cause = classify_loss(job.subscribed_at_send, job.epoch_at_send, epoch_now);
                ctx.timeline.add(job.sent_second, ErrorKind::Lost, 1);
                let n = lost.entry(cause).or_default();
                *n = n.saturating_add(1);
            }
        }
    }
    result.connected_at_end = states
        .iter()
        .filter(|a| a.subscribed.load(Ordering::Relaxed))
        .count() as u64;
    let _ = stop_tx.send(true);
    // An agent whose node stopped reading can sit in a write for ever: past the grace period
    // it is abandoned, so that the run stops by itself whatever the brokers do.
    let abandon_at = Instant::now().checked_add(CLOSE_LIMIT).unwrap_or(ctx.end);
    for t in agent_tasks {
        let abort = t.abort_handle();
        if tokio::time::timeout_at(abandon_at.into(), t).await.is_err() {
            abort.abort();
        }
    }
    result.lost_jobs = [LossCause::Reconnecting, LossCause::Broker]
        .into_iter()
        .map(|c| (c, lost.get(&c).copied().unwrap_or(0)))
        .collect();
    Ok(result)
}

async fn connect_and_subscribe(
    ctx: &Context,
    n: u64,
    client_id: &str,
    filter: &str,
) -> Result<Halves, ConnError> {
    let o = &ctx.options;
    let started = Instant::now();
    let io = ctx.connector.open(n, o.source_addr(n)).await?;
    let mut halves = handshake(io, client_id, o.keep_alive).await?;
    ctx.record_connect(latency_micros(0, elapsed_nanos(started)));
    subscribe(&mut halves, filter, o.qos).await?;
    Ok(halves)
}

fn elapsed_nanos(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// The longest an agent waits before it connects again.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// How long to wait before the next connect: between half of `backoff` and all of it
/// ("equal jitter"), so that agents a broker dropped at once do not all return at once and
/// overload it again.
fn retry_delay(backoff: Duration, rng: &mut Rng) -> Duration {
    let half = backoff.checked_div(2).unwrap_or_default();
    let spread = u64::try_from(half.as_micros()).unwrap_or(u64::MAX);
    half.saturating_add(Duration::from_micros(rng.below(spread.saturating_add(1))))
}

/// When the keep-alive PINGREQ is due: at three quarters of the keep-alive, so that the
/// broker (which allows 1.5 × keep-alive, [MQTT-3.1.2-24]) never closes an idle agent.
fn ping_interval(keep_alive: u16) -> Option<Duration> {
    (keep_alive > 0).then(|| Duration::from_millis(u64::from(keep_alive).saturating_mul(750)))
}

async fn agent(
    ctx: Arc<Context>,
    states: Arc<Vec<AgentState>>,
    index: u32,
    mut stop: watch::Receiver<bool>,
) {
    let Some(state) = states.get(usize::try_from(index).unwrap_or(usize::MAX)) else {
        return;
    };
    let o = &ctx.options;
    // Ramp-up: agent i makes its first connection at i / agents of the ramp-up.
    let offset = o
        .ramp_up
        .mul_f64(f64::from(index) / f64::from(o.agents.max(1)));
    let first = ctx.start.checked_add(offset).unwrap_or(ctx.start);
    tokio::select! {
        _ = tokio::time::sleep_until(first.into()) => {}
        _ = stop.changed() => return,
    }
    let topic_name = job_topic(index);
    let client_id = o.client_id(u64::from(index));
    let mut connected_before = false;
    let mut backoff = Duration::from_millis(100);
    // Per agent, so that agents dropped together do not come back together.
    let mut jitter = Rng::new(u64::from(index).wrapping_mul(0xD1B5_4A32_D192_ED03) ^ 0x0bac_c0ff);
    while !ctx.stopped() && !*stop.borrow() {
        // Boxed: the TLS handshake's state is freed once connected instead of being kept in
        // every agent's task for the whole run (500,000 of them).
        let connecting = Box::pin(connect_and_subscribe(
            &ctx,
            u64::from(index),
            &client_id,
            &topic_name,
        ));
        let connected = tokio::select! {
            c = connecting => c,
            _ = stop.changed() => return,
        };
        let mut halves = match connected {
            Ok(h) => h,
            Err(_) => {
                Counters::bump(&ctx.counters.connect_failures);
                ctx.error(ErrorKind::ConnectFailed);
                tokio::select! {
                    _ = tokio::time::sleep(retry_delay(backoff, &mut jitter)) => {}
                    _ = stop.changed() => return,
                }
                backoff = backoff.saturating_mul(2).min(MAX_BACKOFF);
                continue;
            }
        };
        backoff = Duration::from_millis(100);
        if connected_before {
            Counters::bump(&ctx.counters.reconnects);
        }
        connected_before = true;
        state.epoch.fetch_add(1, Ordering::AcqRel);
        state.subscribed.store(true, Ordering::Release);
        let ended = serve_jobs(&ctx, state, &mut halves, &mut stop).await;
        state.subscribed.store(false, Ordering::Release);
        state.epoch.fetch_add(1, Ordering::AcqRel);
        match ended {
            Ok(()) => {
                halves.1.close().await;
                return;
            }
            Err(_) => {
                if *stop.borrow() || ctx.stopped() {
                    return;
                }
                Counters::bump(&ctx.counters.disconnects);
                ctx.error(ErrorKind::Disconnect);
                tokio::select! {
                    _ = tokio::time::sleep(retry_delay(backoff, &mut jitter)) => {}
                    _ = stop.changed() => return,
                }
            }
        }
    }
}

/// Answers jobs until the run stops (`Ok`) or the connection fails (`Err`).
async fn serve_jobs(
    ctx: &Context,
    state: &AgentState,
    halves: &mut Halves,
    stop: &mut watch::Receiver<bool>,
) -> Result<(), ConnError> {
    let o = &ctx.options;
    let (reader, writer) = halves;
    let mut counter = 0u16;
    let ping = ping_interval(o.keep_alive);
    let mut last_sent = Instant::now();
    loop {
        let ping_at = ping
            .and_then(|p| last_sent.checked_add(p))
            .unwrap_or(ctx.end);
        let packet = tokio::select! {
            p = reader.next() => p?,
            _ = tokio::time::sleep_until(ping_at.into()) => {
                writer.send(Packet::PingReq).await?;
                last_sent = Instant::now();
                continue;
            }
            _ = stop.changed() => return Ok(()),
        };
        if let Packet::Publish(p) = packet {
            if let QosPid::AtLeastOnce(id) = p.qos_pid {
                writer.queue(Packet::PubAck(id))?;
            }
            Counters::bump(&ctx.counters.received);
            let Ok(stamp) = Stamp::decode(&p.payload) else {
                Counters::bump(&ctx.counters.foreign);
                writer.flush().await?;
                continue;
            };
            ctx.record_latency(latency_micros(stamp.sent_nanos, ctx.now_nanos()));
            let last = state.last_seen.fetch_max(stamp.seq, Ordering::AcqRel);
            if is_out_of_order(last, stamp.seq) {
                Counters::bump(&ctx.counters.out_of_order);
                ctx.error(ErrorKind::OutOfOrder);
            }
            // The job is done at once: the completion PING goes back to the service.
            let done = Stamp {
                sent_nanos: ctx.now_nanos(),
                ..stamp
            };
            let publish = Publish::new(
                topic(&done_topic(stamp.service))?,
                qos_pid(o.qos, &mut counter),
                Bytes::from(done.encode(o.payload)),
            );
            writer.queue(Packet::Publish(publish))?;
            writer.flush().await?;
            Counters::bump(&ctx.counters.sent);
            last_sent = Instant::now();
        }
    }
}

/// Writes out what `writer` holds; false if that fails or is not done by `deadline` (a
/// broker that stopped reading must not hold the service past the end of the run).
async fn flushed_by<W: tokio::io::AsyncWrite + Unpin>(
    writer: &mut PacketWriter<W>,
    deadline: Instant,
) -> bool {
    matches!(
        tokio::time::timeout_at(deadline.into(), writer.flush()).await,
        Ok(Ok(()))
    )
}

struct ServiceOutcome {
    sent: u64,
    completed: u64,
    outstanding: Vec<Outstanding>,
}

/// One service client: sends jobs to its share of `agents` (agent `agents.start + i` belongs
/// to the service in slot i mod services, so each agent's jobs travel one connection and keep
/// their order) at `jobs_per_second`, and collects completions.
async fn service(
    ctx: Arc<Context>,
    states: Arc<Vec<AgentState>>,
    service: u16,
    agents: std::ops::Range<u32>,
    (slot, services): (u16, u16),
    halves: Halves,
    jobs_per_second: f64,
) -> ServiceOutcome {
    let (mut reader, writer) = halves;
    let writer = Arc::new(Mutex::new(writer));
    let outstanding: Arc<std::sync::Mutex<HashMap<u64, Outstanding>>> =
        Arc::new(std::sync::Mutex::new(HashMap::new()));
    let completed = Arc::new(AtomicU64::new(0));
    let sending_done = Arc::new(AtomicBool::new(false));

    let receiver = {
        let ctx = Arc::clone(&ctx);
        let writer = Arc::clone(&writer);
        let outstanding = Arc::clone(&outstanding);
        let completed = Arc::clone(&completed);
        let sending_done = Arc::clone(&sending_done);
        tokio::spawn(async move {
            loop {
                let next = tokio::time::timeout(Duration::from_millis(200), reader.next()).await;
                if ctx.stopped() {
                    return;
                }
                let packet = match next {
                    Err(_) => {
                        // Drained: every job answered after sending stopped.
                        if sending_done.load(Ordering::Acquire)
                            && outstanding.lock().map(|m| m.is_empty()).unwrap_or(false)
                        {
                            return;
                        }
                        continue;
                    }
                    Ok(Err(_)) => {
                        Counters::bump(&ctx.counters.disconnects);
                        ctx.error(ErrorKind::Disconnect);
                        return;
                    }
                    Ok(Ok(p)) => p,
                };
                let Packet::Publish(p) = packet else { continue };
                if let QosPid::AtLeastOnce(id) = p.qos_pid {
                    let _ = writer.lock().await.send(Packet::PubAck(id)).await;
                }
                Counters::bump(&ctx.counters.received);
                let Ok(stamp) = Stamp::decode(&p.payload) else {
                    Counters::bump(&ctx.counters.foreign);
                    continue;
                };
                ctx.record_latency(latency_micros(stamp.sent_nanos, ctx.now_nanos()));
                let removed = outstanding
                    .lock()
                    .map(|mut m| m.remove(&stamp.job).is_some())
                    .unwrap_or(false);
                if removed {
                    completed.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };

    // This service's agents: first + slot, first + slot + services, ...
    let o = &ctx.options;
    let own = agents
        .end
        .saturating_sub(agents.start)
        .saturating_sub(u32::from(slot))
        .div_ceil(u32::from(services.max(1)));
    let profile = Profile::seed();
    let weights = profile.job_weights();
    let mut rng = Rng::new(u64::from(service).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5eed);
    let mut counter = 0u16;
    let mut sent = 0u64;
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last_ping = Instant::now();
    let ping = ping_interval(o.keep_alive);
    // Idle until the measured phase, but alive: a long ramp-up outlasts the keep-alive, after
    // which the broker would close a service that sent nothing.
    while Instant::now() < ctx.measure_start {
        let wake = ping.map_or(ctx.measure_start, |p| {
            last_ping
                .checked_add(p)
                .map_or(ctx.measure_start, |t| t.min(ctx.measure_start))
        });
        tokio::time::sleep_until(wake.into()).await;
        if ping.is_some_and(|p| last_ping.elapsed() >= p) {
            let mut w = writer.lock().await;
            if w.queue(Packet::PingReq).is_err() || !flushed_by(&mut w, ctx.end).await {
                break;
            }
            last_ping = Instant::now();
        }
    }
    let job_base = u64::from(service) << 48;
    'send: while !ctx.stopped() && own > 0 {
        tick.tick().await;
        let now = Instant::now();
        if now >= ctx.send_end {
            break;
        }
        let elapsed = now
            .saturating_duration_since(ctx.measure_start)
            .as_secs_f64();
        // The number of jobs due by now at the target rate; at most 10,000 per tick so that a
        // stalled writer cannot build an unbounded burst.
        let due = (elapsed * jobs_per_second) as u64;
        let batch = due.saturating_sub(sent).min(10_000);
        let mut w = writer.lock().await;
        for _ in 0..batch {
            let local = pick_agent(&profile, &weights, &mut rng, own);
            let agent = local
                .saturating_mul(u32::from(services))
                .saturating_add(u32::from(slot))
                .saturating_add(agents.start);
            let Some(state) = states.get(usize::try_from(agent).unwrap_or(usize::MAX)) else {
                continue;
            };
            let seq = state
                .next_seq
                .fetch_add(1, Ordering::AcqRel)
                .saturating_add(1);
            let job = job_base | sent;
            let record = Outstanding {
                agent,
                sent_second: ctx.second(),
                subscribed_at_send: state.subscribed.load(Ordering::Acquire),
                epoch_at_send: state.epoch.load(Ordering::Acquire),
            };
            if let Ok(mut m) = outstanding.lock() {
                m.insert(job, record);
            }
            let stamp = Stamp {
                job,
                seq,
                service,
                sent_nanos: ctx.now_nanos(),
            };
            let Ok(t) = topic(&job_topic(agent)) else {
                continue;
            };
            let publish = Publish::new(
                t,
                qos_pid(o.qos, &mut counter),
                Bytes::from(stamp.encode(o.payload)),
            );
            if w.queue(Packet::Publish(publish)).is_err() {
                break 'send;
            }
            sent = sent.saturating_add(1);
            Counters::bump(&ctx.counters.sent);
        }
        if let Some(p) = ping
            && last_ping.elapsed() >= p
        {
            let _ = w.queue(Packet::PingReq);
            last_ping = Instant::now();
        }
        if w.queued_bytes() > 0 && !flushed_by(&mut w, ctx.end).await {
            break;
        }
    }
    sending_done.store(true, Ordering::Release);
    let abandon_at = ctx.end.checked_add(CLOSE_LIMIT).unwrap_or(ctx.end);
    let abort = receiver.abort_handle();
    if tokio::time::timeout_at(abandon_at.into(), receiver)
        .await
        .is_err()
    {
        abort.abort();
    }
    if let Ok(mut w) = tokio::time::timeout(CLOSE_LIMIT, writer.lock()).await {
        w.close().await;
    }
    let outstanding = outstanding
        .lock()
        .map(|m| m.values().copied().collect())
        .unwrap_or_default();
    ServiceOutcome {
        sent,
        completed: completed.load(Ordering::Relaxed),
        outstanding,
    }
}

/// Picks one of `own` agents (local numbering) for the next job: first the segment by its
/// weight in the job stream, then an agent of that segment uniformly.
fn pick_agent(profile: &Profile, weights: &[u64], rng: &mut Rng, own: u32) -> u32 {
    let segment = rng.weighted(weights);
    // Agents are dealt out by tens; try a few random agents until one is of the segment
    // (bounded: a small fleet may not have every segment).
    for _ in 0..32 {
        let candidate = rng.below(u64::from(own));
        if profile.segment_of(candidate) == segment {
            return u32::try_from(candidate).unwrap_or(0);
        }
    }
    u32::try_from(rng.below(u64::from(own))).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retry_waits_between_half_the_backoff_and_all_of_it_and_agents_spread_out() {
        let backoff = Duration::from_secs(4);
        let delays: Vec<Duration> = (0..1000u64)
            .map(|agent| retry_delay(backoff, &mut Rng::new(agent.wrapping_add(1))))
            .collect();
        assert!(
            delays
                .iter()
                .all(|d| *d >= Duration::from_secs(2) && *d <= backoff)
        );
        // Spread over the window: both of its halves are used, by a fair share each.
        let early = delays
            .iter()
            .filter(|d| **d < Duration::from_secs(3))
            .count();
        assert!(
            (350..=650).contains(&early),
            "{early} of 1000 in the first half"
        );
        assert_eq!(
            retry_delay(Duration::ZERO, &mut Rng::new(7)),
            Duration::ZERO
        );
    }
}
