//! `connect`: workers open connections back to back — TCP, the TLS handshake with the client
//! certificate if configured, CONNECT → CONNACK — then DISCONNECT and close.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::measure::{Counters, ErrorKind, latency_micros};
use crate::run::{Context, RunError, ScenarioResult};
use crate::transport::{ConnError, handshake};

pub(crate) async fn run(ctx: Arc<Context>) -> Result<ScenarioResult, RunError> {
    // One connection first: a broker that cannot be reached at all is an error, not a rate.
    let first = once(&ctx, 0).await.map_err(RunError::NoConnection)?;
    ctx.record_connect(first);
    let next = Arc::new(AtomicU64::new(1));
    let mut workers = Vec::new();
    for _ in 0..ctx.options.agents {
        let ctx = Arc::clone(&ctx);
        let next = Arc::clone(&next);
        workers.push(tokio::spawn(async move {
            while Instant::now() < ctx.send_end && !ctx.stopped() {
                let n = next.fetch_add(1, Ordering::Relaxed);
                match once(&ctx, n).await {
                    Ok(micros) => ctx.record_connect(micros),
                    Err(_) => {
                        Counters::bump(&ctx.counters.connect_failures);
                        ctx.error(ErrorKind::ConnectFailed);
                        // A refusing broker must not turn the worker into a busy loop.
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            }
        }));
    }
    for w in workers {
        let _ = w.await;
    }
    Ok(ScenarioResult::default())
}

/// One connection from start to CONNACK; returns its latency in microseconds.
async fn once(ctx: &Context, n: u64) -> Result<u64, ConnError> {
    let o = &ctx.options;
    let started = Instant::now();
    let io = ctx.connector.open(n, o.source_addr(n)).await?;
    let (_reader, mut writer) = handshake(io, &o.client_id(n), o.keep_alive).await?;
    let micros = latency_micros(
        0,
        u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX),
    );
    writer.close().await;
    Ok(micros)
}
