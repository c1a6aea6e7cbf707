//! Arbitrary leaf and intermediates against fixed trust anchors: verification never panics
//! or hangs (the budget bounds it), and an accepted path starts at the given leaf.
//!
//! Input: one flags byte, four bytes of time offset, then concatenated DER elements: the
//! first is the leaf, the rest are intermediates (so real chains are natural seeds).
//!
//! Body: `x509-chain/tests/fuzz/harness/x509_verify.rs`, which
//! `x509-chain/tests/fuzz_replay.rs` also runs on stable over the committed corpus in
//! `x509-chain/tests/fuzz/corpus/x509_verify/`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../x509-chain/tests/fuzz/harness/x509_verify.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::run(data));
