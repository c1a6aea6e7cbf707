//! A token bucket: the per-connection publish rate limit (AWS IoT Core's default is 100
//! publishes per second per connection).

use std::time::{Duration, Instant};

/// Tokens are counted in millionths, so the refill needs no floating point.
const UNIT: u64 = 1_000_000;

/// A token bucket refilled continuously at `rate` tokens per second up to `burst` tokens.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: u64,
    capacity: u64,
    tokens: u64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(rate: u32, burst: u32, now: Instant) -> Self {
        let capacity = u64::from(burst.max(1)).saturating_mul(UNIT);
        Self {
            rate: u64::from(rate.max(1)),
            capacity,
            tokens: capacity,
            last: now,
        }
    }

    /// Takes one token: `None` if there was one, else how long until there is.
    pub fn take(&mut self, now: Instant) -> Option<Duration> {
        let elapsed = now.saturating_duration_since(self.last);
        self.last = now;
        // `rate` tokens per second is `rate` millionths per microsecond.
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.tokens = self
            .tokens
            .saturating_add(micros.saturating_mul(self.rate))
            .min(self.capacity);
        if self.tokens >= UNIT {
            self.tokens = self.tokens.saturating_sub(UNIT);
            return None;
        }
        let missing = UNIT.saturating_sub(self.tokens);
        let wait_micros = missing.div_ceil(self.rate);
        Some(Duration::from_micros(wait_micros))
    }
}
