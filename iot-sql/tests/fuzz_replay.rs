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

#[path = "fuzz/harness/sql_eval.rs"]
mod sql_eval;
#[path = "fuzz/harness/sql_parse.rs"]
mod sql_parse;

fn replay(target: &str, run: impl Fn(&[u8]) -> bool) {
    replay_corpus(env!("CARGO_MANIFEST_DIR"), target, run);
}

#[test]
fn sql_parse() {
    replay("sql_parse", |data| {
        sql_parse::run(data);
        true
    });
}

#[test]
fn sql_eval() {
    replay("sql_eval", |data| {
        structured_input::<sql_eval::Input>(data)
            .map(sql_eval::run)
            .is_some()
    });
}
