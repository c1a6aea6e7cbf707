//! Memory given back: the broker binary's resident memory after a storm of connections that
//! subscribed, received and closed returns to near where it started (Linux: /proc).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::arithmetic_side_effects)]

mod common;

use std::time::{Duration, Instant};

use common::Client;
use mqtt_wire::{QoS, QosPid};

/// Connections in the storm: enough to hold well over 10 MiB.
const STORM: usize = 2_000;
/// Resident memory the storm may leave behind for good (the sessions table's capacity, the
/// allocator's own bookkeeping; ~5 MiB measured here, 14 MiB with glibc's malloc).
const LEFT_BEHIND_MIB: u64 = 7;
/// How long the allocator may take to give the rest back (jemalloc's decay is 10 s).
const GIVE_BACK: Duration = Duration::from_secs(40);

/// The process's resident set in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .expect("VmRSS in /proc/PID/status");
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_storm_leaves_no_lasting_memory() {
    if !std::path::Path::new("/proc/self/status").exists() {
        eprintln!("skipped: no /proc here to read resident memory from");
        return;
    }
    let dir = common::temp_dir("memory");
    let mut config = common::local_config(&dir);
    config.reload_watch_secs = 0;
    config.limits.max_connections = 10_000;
    config.limits.max_sessions = 10_000;
    let config_file = dir.join("memory.toml");
    std::fs::write(&config_file, config.to_toml()).unwrap();
    let (mut child, addr) = common::spawn_broker_process(&config_file).await;
    let broker = child.id().unwrap();
    // Settled after start: the first connection's one-off allocations (TLS, policy caches).
    let (mut warm, _) = Client::connect(addr, "warm-up", true).await;
    warm.subscribe(1, &[("storm/warm-up", QoS::AtLeastOnce)])
        .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = rss_kib(broker);

    let mut clients = Vec::with_capacity(STORM);
    for n in 0..STORM {
        let (mut c, _) = Client::connect(addr, &format!("storm-{n}"), true).await;
        c.subscribe(1, &[(&format!("storm/{n}"), QoS::AtLeastOnce)])
            .await;
        clients.push(c);
    }
    // Every client receives one message, through its queue and writer.
    let (mut publisher, _) = Client::connect(addr, "storm-publisher", true).await;
    for n in 0..STORM {
        publisher
            .publish(&format!("storm/{n}"), QosPid::AtMostOnce, "payload", false)
            .await;
    }
    for c in &mut clients {
        assert_eq!(c.recv_publish().await.payload.as_ref(), b"payload");
    }
    let held = rss_kib(broker);
    for mut c in clients {
        c.send(&mqtt_wire::Packet::Disconnect).await;
    }
    drop(publisher);

    let deadline = Instant::now() + GIVE_BACK;
    let mut after = rss_kib(broker);
    while after > before + LEFT_BEHIND_MIB * 1024 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        after = rss_kib(broker);
    }
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "RSS before {:.1} MiB, holding {STORM} connections {:.1} MiB, after {:.1} MiB",
        mib(before),
        mib(held),
        mib(after)
    );
    assert!(
        held > before + 10 * 1024,
        "the storm should hold over 10 MiB: before {before} KiB, held {held} KiB"
    );
    assert!(
        after <= before + LEFT_BEHIND_MIB * 1024,
        "{:.1} MiB still held {GIVE_BACK:?} after the storm (before {:.1}, held {:.1})",
        mib(after - before),
        mib(before),
        mib(held)
    );
    drop(warm);
    child.kill().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
