//! Runs the `sigfox-decode` example binary and checks its exact output and exit status.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::panic,
    missing_docs
)] // Test code: a failed expectation should panic.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The example binary, built once per test run.
fn binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        test_support::example_binary(env!("CARGO_MANIFEST_DIR"), "sigfox-decode", &[])
    })
}

fn run(args: &[&str], stdin: &str) -> (String, i32) {
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
    let out = child.wait_with_output().unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        out.status.code().unwrap(),
    )
}

#[test]
fn payload_format() {
    let cases: &[(&[&str], &str, i32)] = &[
        (
            &[
                "--format",
                "b1::bool:7 b2::bool:6 i1:1:uint:16",
                "--data",
                "C01234",
            ],
            r#"{"b1":true,"b2":true,"i1":4660}"#,
            0,
        ),
        (
            &[
                "--format",
                "str::char:6 i1::uint:16 i2::uint:32",
                "--data",
                "41424344454601234567890A",
            ],
            r#"{"i1":291,"i2":1164413194,"str":"ABCDEF"}"#,
            0,
        ),
        (
            &["--format", "a::uint:8 b::uint:8", "--data", "01"],
            r#"{"a":1,"b":null}"#,
            0,
        ),
        (
            &["--format", "a::bool:8", "--data", "01"],
            r#"{"error":"BitOutOfRange","message":"payload format, field 0 at byte 8: bool bit 8 is above 7"}"#,
            1,
        ),
        (
            &[
                "--format",
                "a::uint:8",
                "--data",
                "00112233445566778899aabbcc",
            ],
            r#"{"error":"PayloadTooLong","message":"the payload is 13 bytes long; a Sigfox uplink carries at most 12"}"#,
            1,
        ),
        (
            &["--format", "a::uint:8", "--data", "0g"],
            r#"{"error":"InvalidHex","message":"--data \"0g\" is not an even number of hex digits"}"#,
            1,
        ),
    ];
    for (args, stdout, code) in cases {
        assert_eq!(run(args, ""), (format!("{stdout}\n"), *code), "{args:?}");
    }
}

#[test]
fn callback_from_stdin() {
    let body =
        r#"{"device":"B92A4","data":"C01234","time":"1476980426","seqNumber":"12","rssi":"N/A"}"#;
    assert_eq!(
        run(&["--callback", "-", "--format", "b1::bool:7 b2::bool:6 i1:1:uint:16", "--topic", "sigfox/{device}"], body),
        (
            r#"{"message":{"data":"c01234","decoded":{"b1":true,"b2":true,"i1":4660},"device":"B92A4","kind":"DATA_UPLINK","seqNumber":12,"time":1476980426},"topic":"sigfox/B92A4"}"#.to_owned() + "\n",
            0
        )
    );
    // The DATA_ADVANCED variables come out typed (https://support.sigfox.com/docs/data-advanced).
    assert_eq!(
        run(&["--callback", "-"], r#"{"device":"B92A4","lqi":"Good","linkQuality":"2","countryCode":"250","duplicate":"0"}"#),
        (
            r#"{"message":{"countryCode":250,"device":"B92A4","duplicate":false,"kind":"DATA_UPLINK","linkQuality":2,"lqi":"GOOD"},"topic":"sigfox"}"#.to_owned() + "\n",
            0
        )
    );
    assert_eq!(
        run(&["--callback", "-"], "device=B92A4&seqNumber=4096"),
        (
            r#"{"error":"OutOfRange","message":"callback field `seqNumber` is outside 0..=4095"}"#
                .to_owned()
                + "\n",
            1
        )
    );
    assert_eq!(
        run(&["--callback", "/nonexistent/body.json"], ""),
        (String::new(), 74)
    );
}

/// A user-templated callback names its fields freely (`{"id":"{device}", ...}`): `--rename`
/// reads each from its key, as `CallbackOptions::rename` does. The device id keeps its
/// leading zero.
#[test]
fn renamed_callback_fields() {
    let body = r#"{"id":"0CB3","n":7,"payload":"c0"}"#;
    assert_eq!(
        run(
            &["--callback", "-", "--rename", "device=id", "--rename", "seqNumber=n", "--rename", "data=payload", "--topic", "sigfox/{device}"],
            body
        ),
        (
            r#"{"message":{"data":"c0","device":"0CB3","kind":"DATA_UPLINK","seqNumber":7},"topic":"sigfox/0CB3"}"#.to_owned() + "\n",
            0
        )
    );
    assert_eq!(
        run(&["--callback", "-"], body),
        (
            r#"{"error":"Missing","message":"callback field `device` is required but absent (null, \"N/A\" and \"\" count as absent)"}"#.to_owned() + "\n",
            1
        )
    );
    for (bad, message) in [
        ("device", "--rename \"device\": expected KEY=NAME"),
        (
            "serial=id",
            "--rename \"serial=id\": unknown field \"serial\"",
        ),
        ("device=", "--rename \"device=\": empty name"),
    ] {
        let out = Command::new(binary())
            .args(["--callback", "/dev/null", "--rename", bad])
            .output()
            .unwrap();
        assert_eq!(
            (out.stdout.is_empty(), out.status.code()),
            (true, Some(64)),
            "{bad}"
        );
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(
            stderr.lines().next(),
            Some(format!("sigfox-decode: {message}").as_str())
        );
    }
}

#[test]
fn radio_frames() {
    assert_eq!(
        run(&["--frame", "aaaaa5a301c8edff9e4081465a906b3ee8e8", "--key", "479e4480fd7596d45b0122fd282db3cf"], ""),
        (r#"{"class":"C","crc":"758a","crc_ok":true,"device":"004d33db","downlink_request":false,"flags":0,"frame_type":"5a3","mac":"dc32","mac_ok":true,"payload":"abad1dea","repeated":false,"replica":2,"seq":416,"single_bit":null}"#.to_owned() + "\n", 0)
    );
    assert_eq!(
        run(&["--frame", "aaaaa123"], ""),
        (
            r#"{"error":"UnknownFrameType","message":"frame: unknown frame type 0x123"}"#
                .to_owned()
                + "\n",
            1
        )
    );
}

#[test]
fn usage_errors() {
    assert_eq!(run(&[], "").1, 64);
    assert_eq!(run(&["--bogus", "x"], "").1, 64);
    assert_eq!(run(&["--frame"], "").1, 64);
    assert_eq!(run(&["--frame", "aa", "--key", "00"], "").1, 64);
}
