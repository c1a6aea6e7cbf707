//! Structured: fixed policy templates with `${iot:ClientId}` and certificate variables, and
//! arbitrary client ids, topics and certificate fields. Invariants:
//! - substituting a client id gives exactly the decision of the same policy with that id
//!   written into it literally (wildcards escaped as `${*}`, `${?}`, `${$}`): a client id of
//!   `*`, `+`, `#`, `?` or `${...}` never grants more than the literal id would;
//! - a certificate serial containing `* $ + ? #` decides exactly as an absent serial;
//! - `explain` always agrees with `evaluate`.
//!
//! Body: `iot-policy/tests/fuzz/harness/policy_eval.rs`, which
//! `iot-policy/tests/fuzz_replay.rs` also runs on stable over the committed corpus in
//! `iot-policy/tests/fuzz/corpus/policy_eval/`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../iot-policy/tests/fuzz/harness/policy_eval.rs"]
mod harness;

fuzz_target!(|input: harness::Input| harness::run(input));
