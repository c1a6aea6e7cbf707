//! Per-device sequence-number tracking: is an uplink new, a duplicate or stale?
//!
//! The same frame reaches the endpoint more than once: several stations report it (one
//! callback each unless DATA_ADVANCED merges them), and the backend retries a failed callback
//! after 1, 2 and 4 minutes. Devices count modulo 4096 by default, some wrap earlier (128..4096).

use std::collections::HashMap;
use std::fmt;
use std::num::NonZeroU16;

use crate::callback::DeviceId;

/// How an uplink relates to what was already seen from its device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SeqClass {
    /// Not seen before: ahead of the last number (within half the modulus), or a late arrival
    /// inside the window that was not seen yet.
    New,
    /// Already seen (a retry or another station's report).
    Duplicate,
    /// Behind the last number by at least the window: too old to tell, treat as a replay.
    Stale,
}

/// Tracker settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SequenceOptions {
    /// Sequence numbers run `0..modulus` (default 4096; 128..=4096).
    pub modulus: u16,
    /// How many numbers behind the newest are remembered (default 64, at most 128 and at most
    /// half the modulus).
    pub window: u16,
    /// Most devices tracked (default 1,000,000); beyond it [`SequenceTracker::classify`] fails.
    pub max_devices: usize,
}

impl Default for SequenceOptions {
    fn default() -> Self {
        Self {
            modulus: 4096,
            window: 64,
            max_devices: 1_000_000,
        }
    }
}

/// Tracker misuse.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SequenceError {
    /// The modulus is outside 128..=4096.
    Modulus(u16),
    /// The window is 0, above 128 or above half the modulus.
    Window(u16),
    /// A sequence number at or above the modulus.
    OutOfRange {
        /// The number.
        seq: u16,
        /// The modulus.
        modulus: u16,
    },
    /// [`SequenceOptions::max_devices`] devices are already tracked.
    TooManyDevices(usize),
}

impl fmt::Display for SequenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Modulus(m) => write!(f, "sequence modulus {m} is outside 128..=4096"),
            Self::Window(w) => write!(
                f,
                "sequence window {w} must be 1..=128 and at most half the modulus"
            ),
            Self::OutOfRange { seq, modulus } => {
                write!(f, "seqNumber {seq} is not below the modulus {modulus}")
            }
            Self::TooManyDevices(n) => write!(f, "already tracking {n} devices, the limit"),
        }
    }
}

impl std::error::Error for SequenceError {}

#[derive(Debug, Clone, Copy)]
struct DeviceWindow {
    newest: u16,
    /// Bit i set: `newest - i` was seen (bit 0 is `newest`).
    seen: u128,
}

/// Tracks the sequence numbers of many devices.
#[derive(Debug, Clone)]
pub struct SequenceTracker {
    options: SequenceOptions,
    /// `options.modulus`, checked non-zero (and in 128..=4096) once.
    modulus: NonZeroU16,
    devices: HashMap<DeviceId, DeviceWindow>,
}

impl SequenceTracker {
    /// A tracker with checked options.
    pub fn new(options: SequenceOptions) -> Result<Self, SequenceError> {
        let Some(modulus) =
            NonZeroU16::new(options.modulus).filter(|m| (128..=4096).contains(&m.get()))
        else {
            return Err(SequenceError::Modulus(options.modulus));
        };
        if options.window == 0 || options.window > 128 || options.window > options.modulus / 2 {
            return Err(SequenceError::Window(options.window));
        }
        Ok(Self {
            options,
            modulus,
            devices: HashMap::new(),
        })
    }

    /// Classifies `seq` from `device` and records it.
    pub fn classify(&mut self, device: DeviceId, seq: u16) -> Result<SeqClass, SequenceError> {
        let m = self.options.modulus;
        if seq >= m {
            return Err(SequenceError::OutOfRange { seq, modulus: m });
        }
        let len = self.devices.len();
        let Some(w) = self.devices.get_mut(&device) else {
            if len >= self.options.max_devices {
                return Err(SequenceError::TooManyDevices(len));
            }
            self.devices.insert(
                device,
                DeviceWindow {
                    newest: seq,
                    seen: 1,
                },
            );
            return Ok(SeqClass::New);
        };
        // Distance ahead of the newest, modulo m.
        let ahead = seq.wrapping_add(m).wrapping_sub(w.newest) % self.modulus;
        if ahead == 0 {
            return Ok(SeqClass::Duplicate);
        }
        if ahead <= m / 2 {
            // The window moves `ahead` places: a move of its 128 bits or more forgets them all.
            w.seen = w
                .seen
                .checked_shl(u32::from(ahead))
                .map_or(1, |kept| kept | 1);
            w.newest = seq;
            return Ok(SeqClass::New);
        }
        let behind = m.wrapping_sub(ahead);
        // Behind the window (at most 128, so also past the bitmap) is too old to tell.
        let Some(bit) = 1u128
            .checked_shl(u32::from(behind))
            .filter(|_| behind < self.options.window)
        else {
            return Ok(SeqClass::Stale);
        };
        if w.seen & bit != 0 {
            Ok(SeqClass::Duplicate)
        } else {
            w.seen |= bit;
            Ok(SeqClass::New)
        }
    }

    /// Forgets a device (after it is re-registered and restarts its count).
    pub fn forget(&mut self, device: DeviceId) {
        self.devices.remove(&device);
    }

    /// Number of devices tracked.
    pub fn len(&self) -> usize {
        self.devices.len()
    }

    /// Whether no device is tracked.
    pub fn is_empty(&self) -> bool {
        self.devices.is_empty()
    }
}
