//! `flood`: publishers send as fast as the broker takes (QoS 0: as fast as TCP drains; QoS 1:
//! a window of `--inflight` unacknowledged publishes each), subscribers receive and measure.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use mqtt_wire::{Packet, Publish, QoS, QosPid};
use tokio::sync::Semaphore;

use crate::jobs::{qos_pid, subscribe, topic};
use crate::measure::{Counters, ErrorKind, latency_micros, new_histogram};
use crate::payload::Stamp;
use crate::run::{Context, RunError, ScenarioResult};
use crate::transport::{ConnError, Halves, handshake, handshake_session};

/// Publisher `p`'s topic: it reaches subscriber `p mod subscribers`.
pub fn flood_topic(publisher: u32, subscribers: u16) -> String {
    let sub = publisher.checked_rem(u32::from(subscribers)).unwrap_or(0);
    format!("loadgen/flood/{sub}/{publisher}")
}

async fn connect(ctx: &Context, n: u64, persistent: bool) -> Result<Halves, ConnError> {
    let o = &ctx.options;
    if persistent {
        // A clean connect first ends any session an earlier run left under this client id.
        let io = ctx.connector.open(n, o.source_addr(n)).await?;
        let (_reader, mut writer) = handshake(io, &o.client_id(n), o.keep_alive).await?;
        writer.send(Packet::Disconnect).await?;
    }
    let started = Instant::now();
    let io = ctx.connector.open(n, o.source_addr(n)).await?;
    let halves = handshake_session(io, &o.client_id(n), o.keep_alive, !persistent).await?;
    ctx.record_connect(latency_micros(
        0,
        u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX),
    ));
    Ok(halves)
}

pub(crate) async fn run(ctx: Arc<Context>) -> Result<ScenarioResult, RunError> {
    let o = &ctx.options;
    let in_window = Arc::new(AtomicU64::new(0));
    let mut subscribers = Vec::new();
    for s in 0..o.subscribers {
        let n = u64::from(o.agents).saturating_add(u64::from(s));
        let mut halves = connect(&ctx, n, o.persistent_subscribers)
            .await
            .map_err(RunError::NoConnection)?;
        subscribe(&mut halves, &format!("loadgen/flood/{s}/#"), o.qos)
            .await
            .map_err(RunError::NoConnection)?;
        subscribers.push(tokio::spawn(subscriber(
            Arc::clone(&ctx),
            halves,
            Arc::clone(&in_window),
        )));
    }
    let mut publishers = Vec::new();
    for p in 0..o.agents {
        publishers.push(tokio::spawn(publisher(Arc::clone(&ctx), p)));
    }
    for p in publishers {
        let _ = p.await;
    }
    for s in subscribers {
        let _ = s.await;
    }
    Ok(ScenarioResult {
        // Messages received inside the measured phase: the sustained rate's numerator.
        jobs_completed: in_window.load(Ordering::Relaxed),
        ..ScenarioResult::default()
    })
}

async fn subscriber(ctx: Arc<Context>, halves: Halves, in_window: Arc<AtomicU64>) {
    let (mut reader, mut writer) = halves;
    let mut local = match new_histogram() {
        Ok(h) => h,
        Err(_) => return,
    };
    let mut timeouts = 0u64;
    loop {
        let first = tokio::time::timeout(Duration::from_millis(200), reader.next()).await;
        let mut packet = match first {
            Err(_) if ctx.stopped() => break,
            Err(_) => {
                // Drained: the publishers are done and nothing came for 200 ms.
                if Instant::now() >= ctx.send_end
                    && Counters::get(&ctx.counters.received) >= Counters::get(&ctx.counters.sent)
                {
                    break;
                }
                continue;
            }
            Ok(Err(_)) => {
                if !ctx.stopped() {
                    Counters::bump(&ctx.counters.disconnects);
                    ctx.error(ErrorKind::Disconnect);
                }
                break;
            }
            Ok(Ok(p)) => Some(p),
        };
        // Everything already buffered is handled before one write of the acknowledgements.
        while let Some(p) = packet {
            if let Packet::Publish(publish) = p {
                if let QosPid::AtLeastOnce(id) = publish.qos_pid
                    && writer.queue(Packet::PubAck(id)).is_err()
                {
                    break;
                }
                Counters::bump(&ctx.counters.received);
                let now = Instant::now();
                if now >= ctx.measure_start && now < ctx.send_end {
                    in_window.fetch_add(1, Ordering::Relaxed);
                }
                match Stamp::decode(&publish.payload) {
                    Ok(stamp) => {
                        let micros = latency_micros(stamp.sent_nanos, ctx.now_nanos());
                        local.saturating_record(micros.max(1));
                        if Duration::from_micros(micros) > ctx.options.timeout {
                            timeouts = timeouts.saturating_add(1);
                            ctx.error(ErrorKind::Timeout);
                        }
                    }
                    Err(_) => Counters::bump(&ctx.counters.foreign),
                }
            }
            packet = reader.buffered().ok().flatten();
        }
        if writer.queued_bytes() > 0 && writer.flush().await.is_err() {
            break;
        }
    }
    ctx.counters.timeouts.fetch_add(timeouts, Ordering::Relaxed);
    let _ = ctx
        .latency
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .add(&local);
    writer.close().await;
}

/// Publishes this many messages per write (QoS 0), so a write carries a few kilobytes.
const BATCH: u32 = 32;

async fn publisher(ctx: Arc<Context>, index: u32) {
    let o = &ctx.options;
    let Ok((mut reader, mut writer)) = connect(&ctx, u64::from(index), false).await else {
        Counters::bump(&ctx.counters.connect_failures);
        ctx.error(ErrorKind::ConnectFailed);
        return;
    };
    let Ok(topic) = topic(&flood_topic(index, o.subscribers)) else {
        return;
    };
    let window = Arc::new(Semaphore::new(usize::from(o.inflight)));
    // The reader returns a window slot for each PUBACK; it also notices a closed connection.
    let acks = {
        let window = Arc::clone(&window);
        let ctx = Arc::clone(&ctx);
        tokio::spawn(async move {
            loop {
                match reader.next().await {
                    Ok(Packet::PubAck(_)) => window.add_permits(1),
                    Ok(_) => {}
                    Err(_) => {
                        if !ctx.stopped() && Instant::now() < ctx.send_end {
                            Counters::bump(&ctx.counters.disconnects);
                            ctx.error(ErrorKind::Disconnect);
                        }
                        window.close();
                        return;
                    }
                }
            }
        })
    };
    tokio::time::sleep_until(ctx.measure_start.into()).await;
    let mut counter = 0u16;
    let mut seq = 0u32;
    let job_base = u64::from(index) << 32;
    // With --rate, each publisher keeps to its share of it (the sustained-rate search steps
    // this up until errors appear); without, it sends as fast as the broker takes.
    let per_publisher = o.rate.map(|r| r / f64::from(o.agents.max(1)));
    let mut tick = tokio::time::interval(Duration::from_millis(5));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut sent = 0u64;
    'outer: while Instant::now() < ctx.send_end && !ctx.stopped() {
        let batch = match per_publisher {
            None => u64::from(BATCH),
            Some(rate) => {
                tick.tick().await;
                let elapsed = ctx.measure_start.elapsed().as_secs_f64();
                // At most 10,000 per tick, so a stall cannot turn into an unbounded burst.
                ((elapsed * rate) as u64).saturating_sub(sent).min(10_000)
            }
        };
        for _ in 0..batch {
            if o.qos != QoS::AtMostOnce {
                // Flush what is queued before waiting for a window slot.
                if window.available_permits() == 0
                    && writer.queued_bytes() > 0
                    && writer.flush().await.is_err()
                {
                    break 'outer;
                }
                let permit = tokio::select! {
                    p = window.acquire() => p,
                    _ = tokio::time::sleep_until(ctx.send_end.into()) => break 'outer,
                };
                match permit {
                    Ok(p) => p.forget(),
                    Err(_) => break 'outer,
                }
            }
            seq = seq.wrapping_add(1);
            let stamp = Stamp {
                job: job_base | u64::from(seq),
                seq,
                service: 0,
                sent_nanos: ctx.now_nanos(),
            };
            let publish = Publish::new(
                topic.clone(),
                qos_pid(o.qos, &mut counter),
                Bytes::from(stamp.encode(o.payload)),
            );
            if writer.queue(Packet::Publish(publish)).is_err() {
                break 'outer;
            }
            Counters::bump(&ctx.counters.sent);
            sent = sent.saturating_add(1);
        }
        if writer.queued_bytes() > 0 && writer.flush().await.is_err() {
            break;
        }
    }
    let _ = writer.flush().await;
    // Wait for the last acknowledgements (bounded by the drain), then leave cleanly.
    if o.qos != QoS::AtMostOnce {
        let all = u32::from(o.inflight);
        let _ = tokio::time::timeout_at(ctx.end.into(), window.acquire_many(all)).await;
    }
    writer.close().await;
    acks.abort();
}
