//! Arbitrary text as rule SQL in every version. Invariants: parsing never panics; a parsed
//! statement printed with `Display` parses again to an equal statement (spans aside); a
//! template parse never panics.
//!
//! Body: `iot-sql/tests/fuzz/harness/sql_parse.rs`, which
//! `iot-sql/tests/fuzz_replay.rs` also runs on stable over the committed corpus in
//! `iot-sql/tests/fuzz/corpus/sql_parse/`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../iot-sql/tests/fuzz/harness/sql_parse.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::run(data));
