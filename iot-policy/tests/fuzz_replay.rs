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

use test_support::fuzz::{replay_corpus, structured_input};

#[path = "fuzz/harness/policy_eval.rs"]
mod policy_eval;
#[path = "fuzz/harness/policy_parse.rs"]
mod policy_parse;

fn replay(target: &str, run: impl Fn(&[u8]) -> bool) {
    replay_corpus(env!("CARGO_MANIFEST_DIR"), target, run);
}

#[test]
fn policy_parse() {
    replay("policy_parse", |data| {
        policy_parse::run(data);
        true
    });
}

#[test]
fn policy_eval() {
    replay("policy_eval", |data| {
        structured_input::<policy_eval::Input>(data)
            .map(policy_eval::run)
            .is_some()
    });
}
