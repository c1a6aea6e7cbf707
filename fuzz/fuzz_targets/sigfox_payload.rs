//! A format string and a payload: parsing and decoding never panic; an accepted format prints
//! back to a format that parses to the same positions; decoding fails only on > 12 bytes.
//!
//! Body: `sigfox-frame/tests/fuzz/harness/sigfox_payload.rs`, which
//! `sigfox-frame/tests/fuzz_replay.rs` also runs on stable over the committed corpus in
//! `sigfox-frame/tests/fuzz/corpus/sigfox_payload/`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../sigfox-frame/tests/fuzz/harness/sigfox_payload.rs"]
mod harness;

fuzz_target!(|input: (&str, &[u8])| harness::run(input));
