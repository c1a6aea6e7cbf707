#![doc = include_str!("../README.md")]
#![allow(unsafe_code)] // The counting allocator; see its SAFETY comment.
#![allow(clippy::panic)] // Test code: a failed build of an example should stop the test.
#![allow(clippy::indexing_slicing)] // `serde_json::Value` indexing returns Null, never panics.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;

pub mod callgrind;
pub mod fuzz;

thread_local! {
    // Per thread, so tests running in parallel do not count each other's allocations. A const
    // initialiser without a destructor: reading it never allocates.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    ALLOCATIONS.with(|c| c.set(c.get().saturating_add(1)));
}

/// The system allocator, counting allocations per thread. Install it in a test binary with
/// `#[global_allocator] static GLOBAL: CountingAllocator = CountingAllocator;`.
pub struct CountingAllocator;

// SAFETY: every method forwards to `System` unchanged; the only addition is a thread-local
// counter increment, which neither allocates nor unwinds.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// How many allocations this thread made while running `f`, and what `f` returned. Counts
/// only when [`CountingAllocator`] is the global allocator.
pub fn allocations_during<T>(f: impl FnOnce() -> T) -> (usize, T) {
    let before = ALLOCATIONS.with(Cell::get);
    let out = f();
    (ALLOCATIONS.with(Cell::get).saturating_sub(before), out)
}

/// Builds example `name` of the package at `manifest_dir` (with `features`) and returns the
/// executable's path.
///
/// `cargo test --test X` does not build examples, and a binary left by an earlier build may be
/// stale, so cargo is asked to build it (a no-op when up to date) and the path is read from its
/// JSON messages. Panics with a message if the build fails: this is test code.
pub fn example_binary(manifest_dir: &str, name: &str, features: &[&str]) -> PathBuf {
    let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cargo
        .args(["build", "--quiet", "--example", name, "--manifest-path"])
        .arg(format!("{manifest_dir}/Cargo.toml"))
        .arg("--message-format=json-render-diagnostics");
    if !features.is_empty() {
        cargo.args(["--features", &features.join(",")]);
    }
    let output = match cargo.stderr(Stdio::inherit()).output() {
        Ok(output) if output.status.success() => output,
        other => panic!("building the {name} example failed: {other:?}"),
    };
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == name)
        .and_then(|artifact| artifact["executable"].as_str().map(PathBuf::from))
        .unwrap_or_else(|| panic!("cargo reported no {name} executable"))
}
