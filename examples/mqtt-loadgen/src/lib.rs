#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod charts;
mod connect;
mod flood;
mod jobs;
pub mod measure;
pub mod options;
pub mod payload;
mod processes;
pub mod profile;
mod progress;
pub mod report;
pub mod rng;
mod run;
pub mod system;
pub mod transport;

pub use flood::flood_topic;
pub use jobs::{done_topic, job_topic};
pub use measure::{ErrorKind, LossCause, classify_loss};
pub use options::{Options, Scenario, TlsFiles, USAGE, UsageError};
pub use payload::{PayloadError, Stamp};
pub use profile::{Profile, Rate, seed_average, seed_peak};
pub use report::{Latency, Report};
pub use run::{Outcome, RunError, run};
