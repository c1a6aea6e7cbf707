//! Arbitrary bytes through the decoder in both roles: it must never panic, every frame it accepts
//! must re-encode to exactly the bytes it came from (modulo non-minimal remaining lengths), and
//! it must stop at the first error.
//!
//! Body: `mqtt-codec/tests/fuzz/harness/mqtt_decode.rs`, which
//! `mqtt-codec/tests/fuzz_replay.rs` also runs on stable over the committed corpus in
//! `mqtt-codec/tests/fuzz/corpus/mqtt_decode/`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../mqtt-codec/tests/fuzz/harness/mqtt_decode.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::run(data));
