//! Callback authentication against hostile headers and queries, and CIDR blocks: no panic,
//! acceptance of the secret only, the well-formed Basic header accepted.
//!
//! Body: `sigfox-frame/tests/fuzz/harness/sigfox_auth.rs`, which
//! `sigfox-frame/tests/fuzz_replay.rs` also runs on stable over the committed corpus in
//! `sigfox-frame/tests/fuzz/corpus/sigfox_auth/`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../sigfox-frame/tests/fuzz/harness/sigfox_auth.rs"]
mod harness;

fuzz_target!(|input: harness::Input<'_>| harness::run(input));
