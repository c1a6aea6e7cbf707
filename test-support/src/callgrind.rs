//! Instruction counts from valgrind's callgrind: the noise-free companion of a criterion
//! bench. A bench binary runs itself once more per measurement under callgrind, with an
//! environment variable naming what the child measures; only the instructions executed inside
//! [`measured`] are counted (setup, input copies and checks stay outside).

use std::path::Path;
use std::process::Command;

/// Is valgrind installed? Without it a bench says so and stops.
pub fn available() -> bool {
    Command::new("valgrind").arg("--version").output().is_ok()
}

/// The only function whose instructions are counted (callgrind's `--toggle-collect`).
#[inline(never)]
pub fn measured<T>(f: impl FnOnce() -> T) -> T {
    f()
}

/// Runs `exe` under callgrind with `variable=which` set and returns the instructions counted
/// inside [`measured`]. Panics (it is a bench) if the child fails or prints no count.
pub fn count_instructions(exe: &Path, variable: &str, which: &str) -> u64 {
    let out_file = std::env::temp_dir().join(format!("callgrind-{}", std::process::id()));
    let output = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg("--toggle-collect=*measured*")
        .arg(format!("--callgrind-out-file={}", out_file.display()))
        .arg(exe)
        .env(variable, which)
        .output()
        .unwrap_or_else(|e| panic!("{which}: valgrind: {e}"));
    let _ = std::fs::remove_file(&out_file);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{which}: {stderr}");
    stderr
        .lines()
        .find_map(|line| line.split("Collected : ").nth(1))
        .and_then(|count| count.trim().parse().ok())
        .unwrap_or_else(|| panic!("{which}: no count in {stderr}"))
}
