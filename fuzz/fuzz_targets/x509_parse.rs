//! Arbitrary bytes as a DER certificate (and as PEM): decoding never panics; an accepted
//! certificate yields an identity whose fields are well-formed.
//!
//! Body: `x509-chain/tests/fuzz/harness/x509_parse.rs`, which
//! `x509-chain/tests/fuzz_replay.rs` also runs on stable over the committed corpus in
//! `x509-chain/tests/fuzz/corpus/x509_parse/`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../x509-chain/tests/fuzz/harness/x509_parse.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::run(data));
