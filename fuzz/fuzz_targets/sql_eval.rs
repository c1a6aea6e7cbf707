//! Arbitrary SQL plus an arbitrary payload, topic and template. Invariants: evaluation never
//! panics or hangs; an output always serializes; a JSON output is valid JSON.
//!
//! Body: `iot-sql/tests/fuzz/harness/sql_eval.rs`, which
//! `iot-sql/tests/fuzz_replay.rs` also runs on stable over the committed corpus in
//! `iot-sql/tests/fuzz/corpus/sql_eval/`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../iot-sql/tests/fuzz/harness/sql_eval.rs"]
mod harness;

fuzz_target!(|input: harness::Input| harness::run(input));
