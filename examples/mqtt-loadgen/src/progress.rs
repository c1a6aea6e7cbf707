//! The progress line: one carriage-return-updated line on stderr per second.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use crate::measure::Counters;
use crate::run::Context;

/// One progress line from the counters.
pub(crate) fn line(ctx: &Context) -> String {
    let c = &ctx.counters;
    let phase = {
        let now = std::time::Instant::now();
        if now < ctx.measure_start {
            "ramp-up"
        } else if now < ctx.send_end {
            "measure"
        } else {
            "drain"
        }
    };
    format!(
        "{:>5}s {phase:<7} sent {} recv {} connects {} conn-fail {} disc {} reconn {} timeouts {} ooo {}",
        ctx.start.elapsed().as_secs(),
        Counters::get(&c.sent),
        Counters::get(&c.received),
        Counters::get(&c.connects),
        Counters::get(&c.connect_failures),
        Counters::get(&c.disconnects),
        Counters::get(&c.reconnects),
        Counters::get(&c.timeouts),
        Counters::get(&c.out_of_order),
    )
}

pub(crate) async fn run(ctx: Arc<Context>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    while !ctx.stopped() {
        tick.tick().await;
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{}", line(&ctx));
        let _ = err.flush();
    }
}
