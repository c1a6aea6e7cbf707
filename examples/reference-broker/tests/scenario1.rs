//! Scenario 1 (SCENARIOS.md §1) with Debian's `mosquitto_pub` over TLS and the development
//! device certificates, and the first-start banner's commands run as printed.
//! Needs `mosquitto-clients` (`.ci/run` installs it).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

mod common;

use std::io::BufRead;
use std::process::{Command, Stdio};

use common::{Client, TestBroker, start};
use mqtt_wire::{QoS, QosPid};

struct Outcome {
    success: bool,
    stderr: String,
}

/// Runs a command (bounded by coreutils' `timeout`) off the async runtime.
async fn run(args: Vec<String>) -> Outcome {
    tokio::task::spawn_blocking(move || {
        let out = Command::new("timeout")
            .arg("20")
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {args:?} (install mosquitto-clients): {e}"));
        Outcome {
            success: out.status.success(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    })
    .await
    .unwrap()
}

async fn button_pub(
    b: &TestBroker,
    device: &str,
    client_id: &str,
    topic: &str,
    msg: &str,
) -> Outcome {
    let d = b.dir.display().to_string();
    run(vec![
        "mosquitto_pub".into(),
        "-h".into(),
        "localhost".into(),
        "-p".into(),
        b.running.mqtt_addr.port().to_string(),
        "--cafile".into(),
        format!("{d}/ca.pem"),
        "--cert".into(),
        format!("{d}/devices/{device}.pem"),
        "--key".into(),
        format!("{d}/devices/{device}.key"),
        "-i".into(),
        client_id.into(),
        "-q".into(),
        "1".into(),
        "-t".into(),
        topic.into(),
        "-m".into(),
        msg.into(),
    ])
    .await
}

/// Publishes a marker from a plain client and expects it to be the watcher's next message:
/// nothing else was delivered in between.
async fn expect_nothing_but_marker(b: &TestBroker, watcher: &mut Client) {
    let (mut p, _) = Client::connect(b.plain(), "marker", true).await;
    p.publish("iotbutton/marker", QosPid::AtMostOnce, "m", false)
        .await;
    assert_eq!(
        watcher.recv_publish().await.topic.as_str(),
        "iotbutton/marker"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buttons_publish_only_on_their_own_topic() {
    let b = start("scenario1").await;
    let (mut watcher, _) = Client::connect(b.plain(), "watcher", true).await;
    watcher
        .subscribe(1, &[("iotbutton/#", QoS::AtMostOnce)])
        .await;

    let own = button_pub(
        &b,
        "button-1",
        "button-1",
        "iotbutton/G030JF0000000001",
        "click",
    )
    .await;
    assert!(own.success, "own topic refused: {}", own.stderr);
    let p = watcher.recv_publish().await;
    assert_eq!(
        (p.topic.as_str(), &p.payload[..]),
        ("iotbutton/G030JF0000000001", &b"click"[..])
    );
    let two = button_pub(
        &b,
        "button-2",
        "button-2",
        "iotbutton/G030JF0000000002",
        "click2",
    )
    .await;
    assert!(two.success, "{}", two.stderr);
    assert_eq!(
        watcher.recv_publish().await.topic.as_str(),
        "iotbutton/G030JF0000000002"
    );

    // The neighbour's topic: the broker disconnects the button.
    let neighbour = button_pub(
        &b,
        "button-1",
        "button-1",
        "iotbutton/G030JF0000000002",
        "x",
    )
    .await;
    assert!(!neighbour.success);
    assert_eq!(b.metric("denied_publish_total"), 1);
    expect_nothing_but_marker(&b, &mut watcher).await;

    // Wildcards and variables in the client id gain nothing: iot:Connect is refused.
    let mut refused = 0;
    for id in ["*", "#", "+", "${iot:ClientId}", "button-2"] {
        let o = button_pub(&b, "button-1", id, "iotbutton/G030JF0000000001", "x").await;
        assert!(!o.success, "client id {id:?} connected");
        assert!(o.stderr.contains("not authorised"), "{id:?}: {}", o.stderr);
        refused += 1;
    }
    // INACTIVE and REVOKED certificates are refused at CONNECT.
    for device in ["button-inactive", "button-revoked"] {
        let o = button_pub(&b, device, device, "iotbutton/G030JF0000000003", "x").await;
        assert!(!o.success);
        assert!(
            o.stderr.contains("not authorised"),
            "{device}: {}",
            o.stderr
        );
        refused += 1;
    }
    assert_eq!(b.metric("denied_connect_total"), refused);
    expect_nothing_but_marker(&b, &mut watcher).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_start_prints_commands_that_work() {
    let dir = common::temp_dir("banner");
    let data = dir.join("broker-data");
    let mut child = Command::new(env!("CARGO_BIN_EXE_reference-broker"))
        .args(["--data-dir", data.to_str().unwrap()])
        .args([
            "--mqtt-listen",
            "127.0.0.1:0",
            "--plain-listen",
            "127.0.0.1:0",
        ])
        .args(["--http-listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let banner = tokio::task::spawn_blocking(move || {
        let mut lines = Vec::new();
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let last = line.starts_with("Denials are logged");
            lines.push(line);
            if last {
                break;
            }
        }
        lines
    });
    let banner = tokio::time::timeout(common::WAIT, banner)
        .await
        .unwrap()
        .unwrap();
    let commands: Vec<&String> = banner
        .iter()
        .filter(|l| l.trim_start().starts_with("mosquitto_pub"))
        .collect();
    assert_eq!(commands.len(), 3, "{banner:#?}");
    assert!(
        banner.iter().any(|l| l.starts_with("Created ")),
        "{banner:#?}"
    );
    for f in [
        "ca.pem",
        "server.pem",
        "registry.json",
        "broker.toml",
        "devices/button-1.key",
    ] {
        assert!(data.join(f).exists(), "{f} missing");
    }
    // broker.toml holds the defaults, not this run's overrides, and a generated secret.
    let written = reference_broker::Config::load(&data.join("broker.toml")).unwrap();
    assert_eq!(written.mqtt_listen.to_string(), "127.0.0.1:8883");
    assert_eq!(written.sigfox.secret.len(), 32);
    let sh = |cmd: &str| vec!["sh".to_owned(), "-c".to_owned(), cmd.trim().to_owned()];
    let own = run(sh(commands[0])).await;
    let neighbour = run(sh(commands[1])).await;
    let inactive = run(sh(commands[2])).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(own.success, "{}", own.stderr);
    assert!(!neighbour.success);
    assert!(!inactive.success);
    assert!(
        inactive.stderr.contains("not authorised"),
        "{}",
        inactive.stderr
    );
}
