//! Arbitrary bytes as a callback body of every kind, in both encodings: parsing never panics;
//! an accepted callback produces a message whose payload is a JSON object with the device.
//!
//! Body: `sigfox-frame/tests/fuzz/harness/sigfox_callback.rs`, which
//! `sigfox-frame/tests/fuzz_replay.rs` also runs on stable over the committed corpus in
//! `sigfox-frame/tests/fuzz/corpus/sigfox_callback/`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../sigfox-frame/tests/fuzz/harness/sigfox_callback.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::run(data));
