//! The broker binary's logs: JSON lines on stderr, filtered by RUST_LOG, with a reason on
//! every closed connection and every denial.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing)]

mod common;

use common::{Client, connect_packet, pid, temp_dir};
use mqtt_wire::{Packet, QosPid};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::ChildStderr;

/// The plain listener's policy here: connect and publish on `allowed/…` only.
const POLICY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"},
    {"Effect": "Allow", "Action": "iot:Publish", "Resource": "arn:aws:iot:*:*:topic/allowed/*"}
  ]
}"#;

/// Reads log lines until one has `message` and every field in `fields`; panics after the
/// wait (or at the end of the stream) with the lines seen.
async fn expect_line(
    lines: &mut Lines<BufReader<ChildStderr>>,
    message: &str,
    fields: &[(&str, &str)],
) -> Value {
    let mut seen = Vec::new();
    let found = tokio::time::timeout(common::WAIT, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let value: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
            let f = &value["fields"];
            if f["message"] == message && fields.iter().all(|(k, v)| f[*k] == *v) {
                return Some(value);
            }
            seen.push(line);
        }
        None
    })
    .await;
    match found {
        Ok(Some(value)) => value,
        _ => panic!(
            "no line {message:?} with {fields:?}; seen:\n{}",
            seen.join("\n")
        ),
    }
}

fn assert_field_contains(line: &Value, field: &str, needle: &str) {
    assert!(
        line["fields"][field]
            .as_str()
            .is_some_and(|text| text.contains(needle)),
        "{field} should contain {needle:?}: {line}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_closed_connection_and_denial_is_logged_with_its_reason() {
    let dir = temp_dir("logging");
    let mut config = common::local_config(&dir);
    config.reload_watch_secs = 0;
    std::fs::write(dir.join("policies/plain-default.json"), POLICY).unwrap();
    let config_file = dir.join("logging.toml");
    std::fs::write(&config_file, config.to_toml()).unwrap();

    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_reference-broker"));
    command
        .args(["--log-format", "json", "--config"])
        .arg(&config_file)
        .env("RUST_LOG", "reference_broker=debug")
        .stderr(std::process::Stdio::piped());
    let (mut child, addr) = common::spawn_and_read_banner(command).await;
    let mut log = BufReader::new(child.stderr.take().unwrap()).lines();

    // A DISCONNECT: a debug line (the filter lets it through).
    let (mut a, _) = Client::connect(addr, "log-a", true).await;
    a.send(&Packet::Disconnect).await;
    a.expect_closed().await;
    let line = expect_line(
        &mut log,
        "closed",
        &[("client_id", "log-a"), ("reason", "client sent DISCONNECT")],
    )
    .await;
    assert_eq!(line["level"], "DEBUG");

    // A takeover: the first connection's end says so.
    let (mut first, _) = Client::connect(addr, "log-b", true).await;
    let (_second, _) = Client::connect(addr, "log-b", true).await;
    first.expect_closed().await;
    let line = expect_line(
        &mut log,
        "closed",
        &[
            ("client_id", "log-b"),
            ("reason", "taken over by a new connection"),
        ],
    )
    .await;
    assert_eq!(line["level"], "INFO");

    // A malformed packet: its decoder error, then the close.
    let (mut c, _) = Client::connect(addr, "log-c", true).await;
    c.send_raw(&[0xF0, 0x00]).await;
    c.expect_closed().await;
    let line = expect_line(&mut log, "malformed packet", &[("client_id", "log-c")]).await;
    assert_field_contains(&line, "error", "reserved");
    expect_line(
        &mut log,
        "closed",
        &[("client_id", "log-c"), ("reason", "malformed packet")],
    )
    .await;

    // A denied PUBLISH: the policy's explanation, then the close.
    let (mut d, _) = Client::connect(addr, "log-d", true).await;
    d.publish("forbidden/x", QosPid::AtLeastOnce(pid(1)), "{}", false)
        .await;
    d.expect_closed().await;
    let line = expect_line(
        &mut log,
        "denied",
        &[("client_id", "log-d"), ("action", "iot:Publish")],
    )
    .await;
    assert_eq!(
        line["fields"]["resource"],
        "arn:aws:iot:us-east-1:123456789012:topic/forbidden/x"
    );
    assert_field_contains(&line, "reason", "no statement allows");
    expect_line(
        &mut log,
        "closed",
        &[("client_id", "log-d"), ("reason", "publish not authorised")],
    )
    .await;

    // Silence past one and a half keep-alive periods.
    let mut silent = connect_packet("log-e", true);
    silent.keep_alive = 1;
    let (_e, _) = Client::connect_with(addr, silent).await;
    expect_line(
        &mut log,
        "closed",
        &[("client_id", "log-e"), ("reason", "keep-alive expired")],
    )
    .await;

    child.kill().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_malformed_filter_or_format_stops_the_binary_before_it_starts() {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_reference-broker"))
        .args(["--log-format", "yaml"])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .starts_with("reference-broker: --log-format \"yaml\": the log format is text or json"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_reference-broker"))
        .args(["--data-dir", "/nonexistent/never-created"])
        .env("RUST_LOG", "reference_broker=loud")
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .starts_with("reference-broker: RUST_LOG \"reference_broker=loud\":"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
