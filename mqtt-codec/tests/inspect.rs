//! Runs the `mqtt-inspect` example binary and checks its exact output and exit status.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    missing_docs
)] // Test code: a failed expectation should panic.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The example binary, built once per test run (with this test's features, so as not to rebuild
/// the library without them).
fn binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let features: &[&str] = if cfg!(feature = "tokio-util") {
            &["tokio-util"]
        } else {
            &[]
        };
        test_support::example_binary(env!("CARGO_MANIFEST_DIR"), "mqtt-inspect", features)
    })
}

struct Run {
    stdout: Vec<String>,
    stderr: String,
    code: i32,
}

fn run_with_stdin(args: &[&str], stdin: &str) -> Run {
    let mut child = Command::new(binary())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    Run {
        stdout: String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect(),
        stderr: String::from_utf8(output.stderr).unwrap(),
        code: output.status.code().unwrap(),
    }
}

fn run(args: &[&str]) -> Run {
    run_with_stdin(args, "")
}

/// Asserts the exact stdout lines and exit status.
fn check(run: Run, lines: &[&str], code: i32) {
    assert_eq!(run.stdout, lines, "stderr: {}", run.stderr);
    assert_eq!(run.code, code, "stderr: {}", run.stderr);
}

const PUBLISH_QOS1: &str = r#"{"dup":false,"packet_id":4660,"payload_hex":"6869","qos":1,"retain":false,"topic":"a/b","type":"PUBLISH"}"#;

#[test]
fn publish_qos1() {
    check(run(&["3209 0003 612f62 1234 6869"]), &[PUBLISH_QOS1], 0);
}

#[test]
fn client_packets_in_one_stream_split_across_arguments() {
    check(
        run(&[
            // CONNECT: clean session, keep alive 60, client id "abc".
            "10 0f 0004 4d515454 04 02 003c",
            "0003 616263",
            // CONNECT with a Will (QoS 1, retained), a user name and a password.
            "101d 00044d515454 04 ee 000a 0002 6331 0003 772f74 0001 ff 0001 75 0002 0102",
            // PUBLISH QoS 0 retained, then QoS 2 DUP with an empty payload.
            "31 05 0001 78 6869",
            "3C05 0001 78 0007",
            // PUBACK, PUBREC, PUBREL, PUBCOMP split in the middle of a frame.
            "4002 0001 5002 00",
            "02 6202 0003 7002 0004",
            // SUBSCRIBE a/+ QoS 1 and # QoS 2; UNSUBSCRIBE both.
            "820c 000a 0003 612f2b 01 0001 23 02",
            "a20a 000b 0003 612f2b 0001 23",
            // PINGREQ, DISCONNECT.
            "C000 E000",
        ]),
        &[
            r#"{"clean_session":true,"client_id":"abc","keep_alive":60,"password_hex":null,"type":"CONNECT","username":null,"will":null}"#,
            r#"{"clean_session":true,"client_id":"c1","keep_alive":10,"password_hex":"0102","type":"CONNECT","username":"u","will":{"payload_hex":"ff","qos":1,"retain":true,"topic":"w/t"}}"#,
            r#"{"dup":false,"payload_hex":"6869","qos":0,"retain":true,"topic":"x","type":"PUBLISH"}"#,
            r#"{"dup":true,"packet_id":7,"payload_hex":"","qos":2,"retain":false,"topic":"x","type":"PUBLISH"}"#,
            r#"{"packet_id":1,"type":"PUBACK"}"#,
            r#"{"packet_id":2,"type":"PUBREC"}"#,
            r#"{"packet_id":3,"type":"PUBREL"}"#,
            r#"{"packet_id":4,"type":"PUBCOMP"}"#,
            r##"{"filters":[{"filter":"a/+","qos":1},{"filter":"#","qos":2}],"packet_id":10,"type":"SUBSCRIBE"}"##,
            r##"{"filters":["a/+","#"],"packet_id":11,"type":"UNSUBSCRIBE"}"##,
            r#"{"type":"PINGREQ"}"#,
            r#"{"type":"DISCONNECT"}"#,
        ],
        0,
    );
}

#[test]
fn server_packets_with_role_client() {
    check(
        run(&[
            "--role",
            "client",
            "20020100 20020005",
            "9005 000a 010280",
            "b002 000b",
            "d000",
            "3209 0003 612f62 1234 6869",
        ]),
        &[
            r#"{"return_code":0,"return_code_name":"Accepted","session_present":true,"type":"CONNACK"}"#,
            r#"{"return_code":5,"return_code_name":"NotAuthorized","session_present":false,"type":"CONNACK"}"#,
            r#"{"packet_id":10,"return_codes":[1,2,128],"type":"SUBACK"}"#,
            r#"{"packet_id":11,"type":"UNSUBACK"}"#,
            r#"{"type":"PINGRESP"}"#,
            PUBLISH_QOS1,
        ],
        0,
    );
}

#[test]
fn role_option_forms() {
    check(
        run(&["--role=client", "d000"]),
        &[r#"{"type":"PINGRESP"}"#],
        0,
    );
    check(
        run(&["--role", "server", "c000"]),
        &[r#"{"type":"PINGREQ"}"#],
        0,
    );
    // The role may follow the hex.
    check(
        run(&["d000", "--role", "client"]),
        &[r#"{"type":"PINGRESP"}"#],
        0,
    );
}

#[test]
fn stdin() {
    check(
        run_with_stdin(&["-"], "32 09 00 03 61 2F 62\n12 34\n68 69\n"),
        &[PUBLISH_QOS1],
        0,
    );
    check(
        run_with_stdin(&["--role", "client", "-"], "d000\n"),
        &[r#"{"type":"PINGRESP"}"#],
        0,
    );
}

#[test]
fn malformed_fixed_header_after_a_valid_packet() {
    check(
        run(&["c000 3600"]),
        &[
            r#"{"type":"PINGREQ"}"#,
            r#"{"error":"InvalidQos","message":"PUBLISH has both QoS bits set","offset":2,"rule":"MQTT-3.3.1-4"}"#,
        ],
        1,
    );
}

#[test]
fn malformed_body_offset_counts_from_the_stream_start() {
    // The decoder consumes a frame rejected for its body: the offset must still be absolute.
    check(
        run(&["c000", "3209 0003 612f62 1234 6869", "4002 0000", "e000"]),
        &[
            r#"{"type":"PINGREQ"}"#,
            PUBLISH_QOS1,
            r#"{"error":"ZeroPacketId","message":"packet identifier is 0","offset":15,"rule":"MQTT-2.3.1-1"}"#,
        ],
        1,
    );
    // A wildcard in a PUBLISH topic: byte 1 of the topic, byte 5 of the second frame.
    check(
        run(&["e000 3004 0002 612b"]),
        &[
            r#"{"type":"DISCONNECT"}"#,
            r#"{"error":"InvalidTopic","message":"topic name: wildcard at byte 1 in a topic name","offset":7,"rule":"MQTT-3.3.2-2"}"#,
        ],
        1,
    );
}

#[test]
fn connack_sent_to_a_server() {
    check(
        run(&["20020000"]),
        &[
            r#"{"error":"UnexpectedPacket","message":"CONNACK may not be sent in this direction","offset":0,"rule":"§2.2.1"}"#,
        ],
        1,
    );
    check(
        run(&["--role", "client", "d000 c000"]),
        &[
            r#"{"type":"PINGRESP"}"#,
            r#"{"error":"UnexpectedPacket","message":"PINGREQ may not be sent in this direction","offset":2,"rule":"§2.2.1"}"#,
        ],
        1,
    );
}

#[test]
fn incomplete_frame() {
    // The body is short.
    check(
        run(&["c000 3209 0003 612f"]),
        &[r#"{"type":"PINGREQ"}"#, r#"{"incomplete":true}"#],
        2,
    );
    // The remaining length is cut off.
    check(
        run(&["e000 3280"]),
        &[r#"{"type":"DISCONNECT"}"#, r#"{"incomplete":true}"#],
        2,
    );
    check(run(&["32"]), &[r#"{"incomplete":true}"#], 2);
}

#[test]
fn largest_frame_is_accepted_as_incomplete_not_too_large() {
    // Remaining length 268,435,455: within the tool's limit, so only incomplete.
    check(run(&["30 ff ff ff 7f 00"]), &[r#"{"incomplete":true}"#], 2);
}

#[test]
fn invalid_hex_and_options_are_usage_errors() {
    for args in [
        &["abc"][..],
        &["c0", "0"],
        &["zz"],
        &["c0 00 0x"],
        &["--bogus", "c000"],
        &["--role"],
        &["--role", "broker", "c000"],
        &["-", "c000"],
    ] {
        let run = run(args);
        assert_eq!(run.code, 64, "{args:?}");
        assert!(run.stdout.is_empty(), "{args:?}: {:?}", run.stdout);
        assert!(run.stderr.contains("mqtt-inspect: "), "{args:?}");
    }
    let run = run_with_stdin(&["-"], "c00");
    assert_eq!((run.code, run.stdout.len()), (64, 0));
    assert!(run.stderr.contains("odd number"), "{}", run.stderr);
}

#[test]
fn help() {
    let run = run(&["--help"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout[0].starts_with("Usage: mqtt-inspect"));
    assert!(run.stderr.is_empty());
}

#[test]
fn empty_input() {
    check(run(&[]), &[], 0);
    check(run(&[""]), &[], 0);
    check(run(&[" ", ""]), &[], 0);
    check(run_with_stdin(&["-"], ""), &[], 0);
    check(run_with_stdin(&["-"], " \n"), &[], 0);
}
