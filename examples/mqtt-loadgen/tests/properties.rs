//! Property tests: payload stamps round-trip and never panic on foreign bytes; the command
//! line never panics on arbitrary arguments; the profile's rates are exact fractions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

use mqtt_loadgen::options::Options;
use mqtt_loadgen::payload::{HEADER_LEN, PayloadError, Stamp};
use mqtt_loadgen::profile::{seed_average, seed_peak};
use proptest::prelude::*;

proptest! {
    #[test]
    fn stamp_round_trips(job: u64, seq: u32, service: u16, sent_nanos: u64, size in 0usize..512) {
        let s = Stamp { job, seq, service, sent_nanos };
        let bytes = s.encode(size);
        prop_assert_eq!(bytes.len(), size.max(HEADER_LEN));
        prop_assert_eq!(Stamp::decode(&bytes), Ok(s));
    }

    #[test]
    fn foreign_payloads_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        match Stamp::decode(&bytes) {
            Ok(_) => prop_assert!(bytes.len() >= HEADER_LEN),
            Err(e) => prop_assert_eq!(e, PayloadError::TooShort { len: bytes.len() }),
        }
    }

    #[test]
    fn arguments_never_panic(args in proptest::collection::vec(
        prop_oneof![
            Just("peak".to_owned()), Just("flood".to_owned()), Just("--agents".to_owned()),
            Just("--qos".to_owned()), Just("--rate".to_owned()), Just("--ca".to_owned()),
            Just("--payload=".to_owned()), Just("--duration".to_owned()), "\\\\PC{0,8}",
        ],
        0..8,
    )) {
        let _ = Options::parse(args);
    }

    #[test]
    fn rates_are_exact(agents in 0u64..10_000_000) {
        // 2 × 0.9 × agents × 240 / 36,000 = agents × 3 / 250 exactly.
        let peak = seed_peak(agents);
        prop_assert_eq!(peak.messages * 250, u128::from(agents) * 3 * peak.seconds);
        // 2 × agents × 300 / 604,800 = agents / 1,008 exactly.
        let avg = seed_average(agents);
        prop_assert_eq!(avg.messages * 1_008, u128::from(agents) * avg.seconds);
    }
}
