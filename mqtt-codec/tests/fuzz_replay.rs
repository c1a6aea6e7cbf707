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

#[path = "fuzz/harness/mqtt_decode.rs"]
mod mqtt_decode;
#[path = "fuzz/harness/mqtt_roundtrip.rs"]
mod mqtt_roundtrip;
#[path = "fuzz/harness/subscriptions.rs"]
mod subscriptions;

fn replay(target: &str, run: impl Fn(&[u8]) -> bool) {
    replay_corpus(env!("CARGO_MANIFEST_DIR"), target, run);
}

#[test]
fn mqtt_decode() {
    replay("mqtt_decode", |data| {
        mqtt_decode::run(data);
        true
    });
}

#[test]
fn mqtt_roundtrip() {
    replay("mqtt_roundtrip", |data| {
        structured_input::<mqtt_roundtrip::Input>(data)
            .map(mqtt_roundtrip::run)
            .is_some()
    });
}

#[test]
fn subscriptions() {
    replay("subscriptions", |data| {
        structured_input::<subscriptions::Input>(data)
            .map(subscriptions::run)
            .is_some()
    });
}
