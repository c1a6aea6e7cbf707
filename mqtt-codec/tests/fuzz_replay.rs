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

use std::path::{Path, PathBuf};

use arbitrary::{Arbitrary, Unstructured};

#[path = "fuzz/harness/mqtt_decode.rs"]
mod mqtt_decode;
#[path = "fuzz/harness/mqtt_roundtrip.rs"]
mod mqtt_roundtrip;
#[path = "fuzz/harness/subscriptions.rs"]
mod subscriptions;

/// Names the corpus file being replayed if its harness panics.
struct Replaying<'a>(&'a Path);

impl Drop for Replaying<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("while replaying {}", self.0.display());
        }
    }
}

/// Runs every file of `tests/fuzz/corpus/<target>/` through `run` (which says whether it ran the
/// harness), and fails unless at least one file was run.
fn replay(target: &str, run: impl Fn(&[u8]) -> bool) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    let mut replayed = 0_usize;
    for path in &files {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let _replaying = Replaying(path);
        if run(&bytes) {
            replayed += 1;
        }
    }
    println!(
        "{target}: replayed {replayed} of {} corpus files ({} skipped)",
        files.len(),
        files.len() - replayed
    );
    assert!(
        replayed > 0,
        "{}: no corpus file was replayed",
        dir.display()
    );
}

/// The structured input libfuzzer-sys's `fuzz_target!` makes of `bytes`, or `None` where it skips
/// them: fewer bytes than the type's minimum size, or `arbitrary_take_rest` refusing them.
fn input<'a, T: Arbitrary<'a>>(bytes: &'a [u8]) -> Option<T> {
    if bytes.len() < T::size_hint(0).0 {
        return None;
    }
    T::arbitrary_take_rest(Unstructured::new(bytes)).ok()
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
        input::<mqtt_roundtrip::Input>(data)
            .map(mqtt_roundtrip::run)
            .is_some()
    });
}

#[test]
fn subscriptions() {
    replay("subscriptions", |data| {
        input::<subscriptions::Input>(data)
            .map(subscriptions::run)
            .is_some()
    });
}
