//! Arbitrary bytes as an uplink frame (raw, and behind a valid preamble and frame type), and as
//! hex text: decoding never panics; a decoded frame verifies its MAC without panicking.
//!
//! Body: `sigfox-frame/tests/fuzz/harness/sigfox_frame.rs`, which
//! `sigfox-frame/tests/fuzz_replay.rs` also runs on stable over the committed corpus in
//! `sigfox-frame/tests/fuzz/corpus/sigfox_frame/`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../sigfox-frame/tests/fuzz/harness/sigfox_frame.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::run(data));
