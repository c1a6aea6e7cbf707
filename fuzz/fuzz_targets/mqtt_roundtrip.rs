//! Structured arbitrary packets: every packet the types can build either encodes to exactly
//! `encoded_len()` bytes that decode back to an equal packet (also when fed one byte at a time),
//! or is refused by the encoder without writing anything.
//!
//! Body: `mqtt-codec/tests/fuzz/harness/mqtt_roundtrip.rs`, which
//! `mqtt-codec/tests/fuzz_replay.rs` also runs on stable over the committed corpus in
//! `mqtt-codec/tests/fuzz/corpus/mqtt_roundtrip/`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../mqtt-codec/tests/fuzz/harness/mqtt_roundtrip.rs"]
mod harness;

fuzz_target!(|input: harness::Input| harness::run(input));
