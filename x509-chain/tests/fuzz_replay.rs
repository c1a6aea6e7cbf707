//! Replays the committed fuzz corpora, `tests/fuzz/corpus/<target>/`, through the fuzz targets'
//! own bodies, `tests/fuzz/harness/<target>.rs` (the very files `fuzz/fuzz_targets/` includes), so
//! every input a fuzzing run kept is a regression test on stable. A structured target's files are
//! turned into its input as libfuzzer-sys does it; the ones `arbitrary` refuses are skipped there
//! and here.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    missing_docs,
    unreachable_pub
)] // Test code, and harnesses shared with the fuzz crate (where `pub` is needed).

use test_support::fuzz::replay_corpus;

#[path = "fuzz/harness/x509_parse.rs"]
mod x509_parse;
#[path = "fuzz/harness/x509_verify.rs"]
mod x509_verify;

fn replay(target: &str, run: impl Fn(&[u8]) -> bool) {
    replay_corpus(env!("CARGO_MANIFEST_DIR"), target, run);
}

#[test]
fn x509_parse() {
    replay("x509_parse", |data| {
        x509_parse::run(data);
        true
    });
}

#[test]
fn x509_verify() {
    replay("x509_verify", |data| {
        x509_verify::run(data);
        true
    });
}
