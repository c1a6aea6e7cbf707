//! Instructions per packet, counted by valgrind's callgrind: the noise-free companion of
//! `codec.rs`'s times, on the same cases, bytes and measured loops (`common`).
//!
//! `cargo bench -p mqtt-wire --bench instructions` runs this binary once more per case and
//! library under `valgrind --tool=callgrind`, counting only the instructions executed inside the
//! measured loop (setup, input copies and checks are outside it), and prints a Markdown table of
//! instructions per packet. Without valgrind it says so and stops.

// Benchmark harness: the inputs are our own and a failed setup check must stop the run, so
// unwrap/expect/panic/indexing/arithmetic are fine here, and a benchmark has no API to document.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    missing_docs
)]

mod common;

use bytes::BytesMut;
use mqtt_wire::DecodeOptions;
use rumqttc::mqttbytes::v4 as rq;
use test_support::callgrind::{self, count_instructions, measured};

use common::{
    cases, decode_mqttrs, decode_ours, decode_ours_borrowed, decode_rumqttc, encode_mqttrs,
    encode_ours, encode_rumqttc, prepare, prepare_case, to_mqttrs, to_rumqttc,
};

/// Set in the child: `<case>/<measurement>`.
const CHILD: &str = "MQTT_WIRE_INSTRUCTIONS";

/// What is measured, in the table's column order.
const MEASUREMENTS: [&str; 7] = [
    "decode/mqtt-wire",
    "decode/mqtt-wire-borrowed",
    "decode/rumqttc",
    "decode/mqttrs",
    "encode/mqtt-wire",
    "encode/rumqttc",
    "encode/mqttrs",
];

fn main() {
    if let Ok(which) = std::env::var(CHILD) {
        child(&which);
        return;
    }
    if !callgrind::available() {
        eprintln!("valgrind is not installed: no instruction counts");
        return;
    }
    // Checks every library on every case once, outside valgrind.
    let prepared = prepare();
    let me = std::env::current_exe().unwrap();
    println!("instructions per packet (callgrind)\n");
    println!("| case | {} |", MEASUREMENTS.join(" | "));
    println!("|---|{}", "---:|".repeat(MEASUREMENTS.len()));
    for p in &prepared {
        let counts: Vec<String> = MEASUREMENTS
            .iter()
            .map(|m| {
                let total = count_instructions(&me, CHILD, &format!("{}/{m}", p.case.name));
                format!("{:.0}", total as f64 / p.case.packets() as f64)
            })
            .collect();
        println!("| {} | {} |", p.case.name, counts.join(" | "));
    }
}

fn child(which: &str) {
    let (case_name, measurement) = which.split_once('/').unwrap();
    let case = cases().into_iter().find(|c| c.name == case_name).unwrap();
    let p = prepare_case(case, false);
    let count = p.case.packets();
    let options = DecodeOptions::server();
    match measurement {
        "decode/mqtt-wire" => {
            let mut buf = BytesMut::from(&p.wire[..]);
            measured(|| decode_ours(&mut buf, count, &options));
        }
        "decode/mqtt-wire-borrowed" => {
            measured(|| decode_ours_borrowed(&p.wire, count, &options));
        }
        "decode/rumqttc" => {
            let mut buf = BytesMut::from(&p.wire[..]);
            measured(|| decode_rumqttc(&mut buf, count));
        }
        "decode/mqttrs" => {
            measured(|| decode_mqttrs(&p.wire, &p.lengths));
        }
        "encode/mqtt-wire" => {
            let mut buf = BytesMut::with_capacity(p.wire.len());
            measured(|| encode_ours(&p.ours, p.case.repeat, &mut buf));
        }
        "encode/rumqttc" => {
            let packets: Vec<rq::Packet> = p.case.items.iter().map(to_rumqttc).collect();
            let mut buf = BytesMut::with_capacity(p.wire.len());
            measured(|| encode_rumqttc(&packets, p.case.repeat, &mut buf));
        }
        "encode/mqttrs" => {
            let packets: Vec<mqttrs::Packet<'_>> = p.case.items.iter().map(to_mqttrs).collect();
            let mut out = vec![0u8; p.wire.len()];
            measured(|| encode_mqttrs(&packets, p.case.repeat, &mut out));
        }
        other => panic!("unknown measurement {other}"),
    }
}
