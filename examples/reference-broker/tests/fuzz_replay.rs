//! Replays the committed corpus of the `broker_session` fuzz target,
//! `tests/fuzz/corpus/broker_session/`, through the target's own body,
//! `tests/fuzz/harness/broker_session.rs` (the file `fuzz/fuzz_targets/broker_session.rs`
//! includes), so every input a fuzzing run kept is a regression test on stable.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    missing_docs,
    unreachable_pub
)] // Test code, and a harness shared with the fuzz crate (where `pub` is needed).

use std::path::PathBuf;

#[path = "fuzz/harness/broker_session.rs"]
mod broker_session;

#[test]
fn broker_session() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz/corpus/broker_session");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        eprintln!("replaying {}", path.display());
        broker_session::run(&bytes);
    }
    println!("broker_session: replayed {} corpus files", files.len());
    assert!(
        files.len() >= 10,
        "{}: the corpus is missing",
        dir.display()
    );
}

/// The harness really talks to a broker: a session's answers, whole.
#[test]
fn the_harness_serves_a_whole_session() {
    use bytes::BytesMut;
    use mqtt_wire::{DecodeOptions, Packet, decode};

    let harness = reference_broker::fuzzing::Harness::new().unwrap();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz/corpus/broker_session");
    let input = std::fs::read(dir.join("subscribe_publish_qos1")).unwrap();
    let out = harness.connection(&input).unwrap();
    let mut buf = BytesMut::from(&out[..]);
    let mut kinds = Vec::new();
    while let Some(packet) = decode(&mut buf, &DecodeOptions::client()).unwrap() {
        kinds.push(match packet {
            Packet::ConnAck(c) => format!("CONNACK {:?}", c.code),
            Packet::SubAck(s) => format!(
                "SUBACK {} {:?}",
                s.packet_id,
                s.return_codes().collect::<Vec<_>>()
            ),
            Packet::PubAck(id) => format!("PUBACK {id}"),
            Packet::Publish(p) => format!("PUBLISH {} {:?}", p.topic, p.payload),
            Packet::PingResp => "PINGRESP".to_owned(),
            other => format!("{other:?}"),
        });
    }
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "CONNACK Accepted",
            "PINGRESP",
            "PUBACK 2",
            "PUBLISH a/b b\"hello\"",
            "SUBACK 1 [Success(AtLeastOnce), Success(AtMostOnce)]",
        ]
    );
}
