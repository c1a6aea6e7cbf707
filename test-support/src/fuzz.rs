//! Replaying a committed fuzz corpus through a fuzz target's own harness on stable.

use std::path::{Path, PathBuf};

use arbitrary::{Arbitrary, Unstructured};

/// Names the corpus file being replayed if its harness panics.
struct Replaying<'a>(&'a Path);

impl Drop for Replaying<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("while replaying {}", self.0.display());
        }
    }
}

/// Runs every file of `<manifest_dir>/tests/fuzz/corpus/<target>/` through `run` (which says
/// whether it ran the harness), and panics unless at least one file was run.
pub fn replay_corpus(manifest_dir: &str, target: &str, run: impl Fn(&[u8]) -> bool) {
    let dir = PathBuf::from(manifest_dir)
        .join("tests/fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    let mut replayed = 0_usize;
    for path in &files {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let _replaying = Replaying(path);
        if run(&bytes) {
            replayed = replayed.saturating_add(1);
        }
    }
    println!(
        "{target}: replayed {replayed} of {} corpus files ({} skipped)",
        files.len(),
        files.len().saturating_sub(replayed)
    );
    assert!(
        replayed > 0,
        "{}: no corpus file was replayed",
        dir.display()
    );
}

/// The structured input libfuzzer-sys's `fuzz_target!` makes of `bytes`, or `None` where it skips
/// them: fewer bytes than the type's minimum size, or `arbitrary_take_rest` refusing them.
pub fn structured_input<'a, T: Arbitrary<'a>>(bytes: &'a [u8]) -> Option<T> {
    if bytes.len() < T::size_hint(0).0 {
        return None;
    }
    T::arbitrary_take_rest(Unstructured::new(bytes)).ok()
}
