//! Instructions per message, counted by valgrind's callgrind: the noise-free companion of
//! `evaluate.rs`'s times, on the same rules and payloads (`common`).
//!
//! `cargo bench -p iot-sql --bench instructions` runs this binary once more per case and
//! measurement under `valgrind --tool=callgrind`, counting only the instructions of the measured
//! loop (each parse or evaluation and the drop of its result, as in `evaluate.rs`), and prints
//! a Markdown table of instructions per message with the ratio to `serde_json::from_slice`.
//! Without valgrind it says so and stops.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    missing_docs
)]

mod common;

use std::hint::black_box;

use test_support::callgrind::{self, count_instructions, measured};

use common::{cases, evaluate, prepare};

/// Set in the child: `<case>/<measurement>`.
const CHILD: &str = "IOT_SQL_INSTRUCTIONS";

/// What is measured, in the table's column order; the first is the reference.
const MEASUREMENTS: [&str; 3] = [
    "serde_json::from_slice",
    "Value::from_json_slice",
    "evaluate",
];

/// Messages per measured loop.
const MESSAGES: u64 = 200;

fn main() {
    if let Ok(which) = std::env::var(CHILD) {
        child(&which);
        return;
    }
    if !callgrind::available() {
        eprintln!("valgrind is not installed: no instruction counts");
        return;
    }
    let me = std::env::current_exe().unwrap();
    println!("instructions per message (callgrind)\n");
    println!(
        "| case | {} | evaluate ÷ serde_json |",
        MEASUREMENTS.join(" | ")
    );
    println!("|---|{}---:|", "---:|".repeat(MEASUREMENTS.len()));
    for case in cases() {
        let (rule, context) = prepare(&case);
        assert!(
            evaluate(&rule, &case, &context).is_some(),
            "{} must match",
            case.name
        );
        let counts: Vec<u64> = MEASUREMENTS
            .iter()
            .map(|m| count_instructions(&me, CHILD, &format!("{}/{m}", case.name)) / MESSAGES)
            .collect();
        let cells: Vec<String> = counts.iter().map(u64::to_string).collect();
        let ratio = counts[2] as f64 / counts[0] as f64;
        println!("| {} | {} | {ratio:.2}× |", case.name, cells.join(" | "));
    }
}

fn child(which: &str) {
    let (case_name, measurement) = which.split_once('/').unwrap();
    let case = cases().into_iter().find(|c| c.name == case_name).unwrap();
    let (rule, context) = prepare(&case);
    let payload = &case.payload[..];
    match measurement {
        "serde_json::from_slice" => measured(|| {
            for _ in 0..MESSAGES {
                black_box(serde_json::from_slice::<serde_json::Value>(black_box(payload)).unwrap());
            }
        }),
        "Value::from_json_slice" => measured(|| {
            for _ in 0..MESSAGES {
                black_box(iot_sql::Value::from_json_slice(black_box(payload)).unwrap());
            }
        }),
        "evaluate" => measured(|| {
            for _ in 0..MESSAGES {
                black_box(evaluate(&rule, black_box(&case), &context));
            }
        }),
        other => panic!("unknown measurement {other}"),
    }
}
