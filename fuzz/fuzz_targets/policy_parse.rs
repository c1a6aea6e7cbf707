//! Arbitrary UTF-8 as a policy document: parsing never panics; an accepted policy compiles,
//! lints, and decides a fixed request the same way through `evaluate` and `explain`.
//!
//! Body: `iot-policy/tests/fuzz/harness/policy_parse.rs`, which
//! `iot-policy/tests/fuzz_replay.rs` also runs on stable over the committed corpus in
//! `iot-policy/tests/fuzz/corpus/policy_parse/`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../iot-policy/tests/fuzz/harness/policy_parse.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::run(data));
