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

#[path = "fuzz/harness/sigfox_auth.rs"]
mod sigfox_auth;
#[path = "fuzz/harness/sigfox_callback.rs"]
mod sigfox_callback;
#[path = "fuzz/harness/sigfox_frame.rs"]
mod sigfox_frame;
#[path = "fuzz/harness/sigfox_payload.rs"]
mod sigfox_payload;

fn replay(target: &str, run: impl Fn(&[u8]) -> bool) {
    replay_corpus(env!("CARGO_MANIFEST_DIR"), target, run);
}

#[test]
fn sigfox_callback() {
    replay("sigfox_callback", |data| {
        sigfox_callback::run(data);
        true
    });
}

#[test]
fn sigfox_payload() {
    replay("sigfox_payload", |data| {
        structured_input::<(&str, &[u8])>(data)
            .map(sigfox_payload::run)
            .is_some()
    });
}

#[test]
fn sigfox_frame() {
    replay("sigfox_frame", |data| {
        sigfox_frame::run(data);
        true
    });
}

#[test]
fn sigfox_auth() {
    replay("sigfox_auth", |data| {
        structured_input::<sigfox_auth::Input<'_>>(data)
            .map(sigfox_auth::run)
            .is_some()
    });
}
