//! The payload every generated message carries: who sent it, its sequence, and when.
//!
//! Layout (big-endian): job id (8 bytes), per-agent sequence (4), service index (2), sent-at
//! nanoseconds since the run's start (8), then zero padding up to the requested size. The
//! clock is the generator's own monotonic clock, so end-to-end latency needs no clock sync:
//! sender and receiver are the same process.

use std::fmt;

/// The header's length; payloads are at least this long.
pub const HEADER_LEN: usize = 22;

/// What one message says about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// The job (or flood message) number.
    pub job: u64,
    /// The job's sequence number for its agent (or the publisher's message count).
    pub seq: u32,
    /// The service client that sent the job and waits for its completion (or the publisher).
    pub service: u16,
    /// Nanoseconds since the run started when the message was handed to the socket.
    pub sent_nanos: u64,
}

/// A received payload that is not one of ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadError {
    /// Shorter than the header.
    TooShort {
        /// Its length.
        len: usize,
    },
}

impl fmt::Display for PayloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PayloadError::TooShort { len } => write!(
                f,
                "payload of {len} bytes is shorter than the {HEADER_LEN}-byte load-test header"
            ),
        }
    }
}

impl std::error::Error for PayloadError {}

impl Stamp {
    /// The payload: the header, then zeros up to `size` (never shorter than the header).
    pub fn encode(&self, size: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(size.max(HEADER_LEN));
        out.extend_from_slice(&self.job.to_be_bytes());
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.service.to_be_bytes());
        out.extend_from_slice(&self.sent_nanos.to_be_bytes());
        out.resize(size.max(HEADER_LEN), 0);
        out
    }

    /// Reads the header of a received payload; padding is ignored.
    pub fn decode(payload: &[u8]) -> Result<Stamp, PayloadError> {
        let too_short = PayloadError::TooShort { len: payload.len() };
        let (job, rest) = payload.split_first_chunk::<8>().ok_or(too_short)?;
        let (seq, rest) = rest.split_first_chunk::<4>().ok_or(too_short)?;
        let (service, rest) = rest.split_first_chunk::<2>().ok_or(too_short)?;
        let (sent, _) = rest.split_first_chunk::<8>().ok_or(too_short)?;
        Ok(Stamp {
            job: u64::from_be_bytes(*job),
            seq: u32::from_be_bytes(*seq),
            service: u16::from_be_bytes(*service),
            sent_nanos: u64::from_be_bytes(*sent),
        })
    }
}
