//! The seed's fleet profile and its two rate formulas (SCENARIOS.md §7).
//!
//! The seed wrote its rates as:
//! - average: `2 × agents × 300 / 604,800` (2 messages per job, 300 jobs per week, a week in
//!   seconds) — 496 msg/s for 500,000 agents;
//! - peak: `2 × 0.9 × agents × 240 / 36,000` (90 % of the jobs in 10 busy hours a week, 240 jobs
//!   per week at peak) — 6,000 msg/s for 500,000 agents.
//!
//! The 300 and 240 are the seed's constants: they do not follow from its own mix (the mix's mean
//! is 50.75 jobs per agent per week, see [`Profile::mean_jobs_per_week`]), so both are kept as
//! they were written and the mix-derived rate is printed next to them.

use std::fmt;

/// Seconds in a week.
pub const WEEK_SECONDS: u64 = 604_800;
/// Seconds in the seed's 10 busy hours a week.
pub const BUSY_SECONDS: u64 = 36_000;
/// Messages per job: the service PINGs the agent, the agent PINGs back when done.
pub const MESSAGES_PER_JOB: u64 = 2;
/// Jobs per agent per week in the seed's average formula.
pub const SEED_AVERAGE_JOBS_PER_WEEK: u64 = 300;
/// Jobs per agent per week in the seed's peak formula.
pub const SEED_PEAK_JOBS_PER_WEEK: u64 = 240;
/// The share of the jobs that fall in the busy hours, in tenths (90 %).
pub const BUSY_SHARE_TENTHS: u64 = 9;

/// A rate kept as an exact fraction: `messages` per `seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Messages in the period.
    pub messages: u128,
    /// The period in seconds (never zero).
    pub seconds: u128,
}

impl Rate {
    /// Messages per second as a float (for pacing and printing).
    pub fn per_second(self) -> f64 {
        // u128 → f64 loses precision only far beyond any agent count this tool takes.
        self.messages as f64 / self.seconds.max(1) as f64
    }

    /// Whole messages per second, rounded down: the figure the seed quotes.
    pub fn whole_per_second(self) -> u128 {
        self.messages.checked_div(self.seconds).unwrap_or(0)
    }

    /// Whether the rate is a whole number of messages per second.
    pub fn is_whole(self) -> bool {
        self.messages.checked_rem(self.seconds) == Some(0)
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2} msg/s", self.per_second())
    }
}

/// One customer segment of the fleet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// Its name in the seed.
    pub name: &'static str,
    /// Its share of the agents, in percent.
    pub share_percent: u8,
    /// The fewest jobs per agent per week.
    pub min_jobs_per_week: u32,
    /// The most jobs per agent per week.
    pub max_jobs_per_week: u32,
}

impl Segment {
    /// The middle of the segment's range, in half-jobs per week (exact: 2–3 gives 5).
    pub fn mid_half_jobs(self) -> u64 {
        u64::from(self.min_jobs_per_week).saturating_add(u64::from(self.max_jobs_per_week))
    }
}

/// The fleet's mix of segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// The segments; their shares add up to 100.
    pub segments: Vec<Segment>,
}

impl Profile {
    /// The seed's printers: consumer 2–3 jobs/week (50 %), SMB 10–20 (30 %), enterprise
    /// 150–300 (20 %).
    pub fn seed() -> Profile {
        Profile {
            segments: vec![
                Segment {
                    name: "consumer",
                    share_percent: 50,
                    min_jobs_per_week: 2,
                    max_jobs_per_week: 3,
                },
                Segment {
                    name: "smb",
                    share_percent: 30,
                    min_jobs_per_week: 10,
                    max_jobs_per_week: 20,
                },
                Segment {
                    name: "enterprise",
                    share_percent: 20,
                    min_jobs_per_week: 150,
                    max_jobs_per_week: 300,
                },
            ],
        }
    }

    /// The mix's mean jobs per agent per week (each segment at the middle of its range):
    /// 50.75 for the seed.
    pub fn mean_jobs_per_week(&self) -> f64 {
        let half_jobs_percent: u64 = self
            .segments
            .iter()
            .map(|s| u64::from(s.share_percent).saturating_mul(s.mid_half_jobs()))
            .fold(0, u64::saturating_add);
        half_jobs_percent as f64 / 200.0
    }

    /// Each segment's weight in the job stream: share × mean jobs (in half-job percents), so a
    /// job goes to an enterprise printer 45 / 50.75 of the time.
    pub fn job_weights(&self) -> Vec<u64> {
        self.segments
            .iter()
            .map(|s| u64::from(s.share_percent).saturating_mul(s.mid_half_jobs()))
            .collect()
    }

    /// The segment of the agent with this index: agents are dealt out by tens, the first
    /// `share/10` of every ten to the first segment, and so on.
    pub fn segment_of(&self, index: u64) -> usize {
        let slot = index.checked_rem(10).unwrap_or(0);
        let mut upper = 0u64;
        for (i, s) in self.segments.iter().enumerate() {
            upper = upper.saturating_add(u64::from(s.share_percent / 10));
            if slot < upper {
                return i;
            }
        }
        self.segments.len().saturating_sub(1)
    }

    /// The rate the mix itself gives on average: `2 × agents × mean / 604,800`.
    pub fn mix_average(&self, agents: u64) -> Rate {
        let half_jobs_percent: u128 = self
            .job_weights()
            .into_iter()
            .map(u128::from)
            .fold(0, u128::saturating_add);
        Rate {
            messages: u128::from(MESSAGES_PER_JOB)
                .saturating_mul(u128::from(agents))
                .saturating_mul(half_jobs_percent),
            seconds: u128::from(WEEK_SECONDS).saturating_mul(200),
        }
    }
}

/// The seed's average: `2 × agents × 300 / 604,800` (496 msg/s for 500,000 agents).
pub fn seed_average(agents: u64) -> Rate {
    Rate {
        messages: u128::from(MESSAGES_PER_JOB)
            .saturating_mul(u128::from(agents))
            .saturating_mul(u128::from(SEED_AVERAGE_JOBS_PER_WEEK)),
        seconds: u128::from(WEEK_SECONDS),
    }
}

/// The seed's peak: `2 × 0.9 × agents × 240 / 36,000` (6,000 msg/s for 500,000 agents).
pub fn seed_peak(agents: u64) -> Rate {
    Rate {
        messages: u128::from(MESSAGES_PER_JOB)
            .saturating_mul(u128::from(BUSY_SHARE_TENTHS))
            .saturating_mul(u128::from(agents))
            .saturating_mul(u128::from(SEED_PEAK_JOBS_PER_WEEK)),
        seconds: u128::from(BUSY_SECONDS).saturating_mul(10),
    }
}

/// The lines the tool prints before a `peak` or `stability` run.
pub fn describe(agents: u64) -> String {
    let profile = Profile::seed();
    let avg = seed_average(agents);
    let peak = seed_peak(agents);
    let mix = profile.mix_average(agents);
    format!(
        "profile: consumer 2-3 jobs/week (50 %), SMB 10-20 (30 %), enterprise 150-300 (20 %); {agents} agents\n\
         seed average: 2 x {agents} x 300 / 604,800 = {:.2} msg/s\n\
         seed peak:    2 x 0.9 x {agents} x 240 / 36,000 = {:.2} msg/s\n\
         mix mean {:.2} jobs/agent/week: 2 x {agents} x {:.2} / 604,800 = {:.2} msg/s (for reference; the scenarios use the seed's formulas)\n",
        avg.per_second(),
        peak.per_second(),
        profile.mean_jobs_per_week(),
        profile.mean_jobs_per_week(),
        mix.per_second(),
    )
}
