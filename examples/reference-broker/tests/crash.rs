//! An acknowledgement is a promise: the broker runs as its own process, is killed with
//! SIGKILL during steady QoS 1 and QoS 2 traffic eight times, and restarted on the same data
//! directory each time. Every message whose PUBACK (QoS 1) or PUBREC (QoS 2) reached its
//! publisher must reach the persistent subscriber: at least once for QoS 1 (duplicates are
//! counted and printed), exactly once for QoS 2.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

mod common;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use common::{Client, connect_packet, pid, temp_dir, topic};
use mqtt_wire::{Packet, PacketId, Publish, QoS, QosPid};
use tokio::time::{Instant, timeout};

const CYCLES: usize = 8;
const QOS1_PUBLISHERS: usize = 3;

/// What the subscriber saw: QoS 1 payloads with their delivery counts, QoS 2 payloads
/// likewise (deduplicated by packet id as the protocol prescribes), and the QoS 2 packet ids
/// received and not yet released, which outlive its connections.
#[derive(Default)]
struct Seen {
    qos1: BTreeMap<String, usize>,
    qos2: BTreeMap<String, usize>,
    unreleased: HashSet<u16>,
}

/// The persistent subscriber: acknowledges everything until its connection ends.
async fn subscriber(addr: SocketAddr, first: bool, seen: Arc<Mutex<Seen>>) {
    let Some((mut c, present)) = try_connect(addr, "keeper", false).await else {
        return;
    };
    if first {
        c.subscribe(1, &[("c1/#", QoS::AtLeastOnce), ("c2/#", QoS::ExactlyOnce)])
            .await;
    } else {
        assert!(present, "the subscriber's session survived the crash");
    }
    while let Some(packet) = c.next().await {
        let reply = match packet {
            Packet::Publish(p) => {
                let payload = String::from_utf8(p.payload.to_vec()).unwrap();
                let mut seen = seen.lock().unwrap();
                match p.qos_pid {
                    QosPid::AtLeastOnce(id) => {
                        *seen.qos1.entry(payload).or_default() += 1;
                        Packet::PubAck(id)
                    }
                    QosPid::ExactlyOnce(id) => {
                        if seen.unreleased.insert(id.get()) {
                            *seen.qos2.entry(payload).or_default() += 1;
                        }
                        Packet::PubRec(id)
                    }
                    QosPid::AtMostOnce => panic!("no QoS 0 was published"),
                }
            }
            Packet::PubRel(id) => {
                seen.lock().unwrap().unreleased.remove(&id.get());
                Packet::PubComp(id)
            }
            other => panic!("unexpected {other:?}"),
        };
        if send(&mut c, &reply).await.is_err() {
            return;
        }
    }
}

/// Connects, or `None` if the broker is gone (killed under us).
async fn try_connect(addr: SocketAddr, id: &str, clean: bool) -> Option<(Client, bool)> {
    let stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    let mut c = Client::from_stream(Box::new(stream));
    send(&mut c, &Packet::from(connect_packet(id, clean)))
        .await
        .ok()?;
    match c.next().await? {
        Packet::ConnAck(ack) => Some((c, ack.session_present)),
        other => panic!("expected CONNACK, got {other:?}"),
    }
}

async fn send(c: &mut Client, packet: &Packet) -> std::io::Result<()> {
    c.try_send(packet).await
}

/// A QoS 1 publisher (clean session): one message at a time; `acked` gets each payload whose
/// PUBACK arrived.
async fn qos1_publisher(addr: SocketAddr, n: usize, next: &mut u64, acked: &Mutex<Vec<String>>) {
    let Some((mut c, _)) = try_connect(addr, &format!("p1-{n}"), true).await else {
        return;
    };
    loop {
        let payload = format!("p{n}-{}", *next);
        let id = pid(u16::try_from(*next % 60_000 + 1).unwrap());
        let p = Publish::new(
            topic(&format!("c1/{n}")),
            QosPid::AtLeastOnce(id),
            Bytes::from(payload.clone()),
        );
        if send(&mut c, &Packet::Publish(p)).await.is_err() {
            return;
        }
        *next += 1;
        match c.next().await {
            Some(Packet::PubAck(got)) if got == id => acked.lock().unwrap().push(payload),
            Some(other) => panic!("expected PUBACK, got {other:?}"),
            None => return,
        }
    }
}

/// Where the QoS 2 publisher is with its current message.
#[derive(Clone, Copy, PartialEq)]
enum Stage {
    Idle,
    /// PUBLISH sent, PUBREC not yet received.
    Published(u64),
    /// PUBREL sent, PUBCOMP not yet received.
    Released(u64),
}

/// The QoS 2 publisher (persistent session): resumes an unfinished exchange after a
/// reconnect as the protocol prescribes; `promised` gets each payload whose PUBREC arrived.
async fn qos2_publisher(
    addr: SocketAddr,
    stage: &mut Stage,
    next: &mut u64,
    promised: &Mutex<Vec<String>>,
) {
    let Some((mut c, _)) = try_connect(addr, "p2", false).await else {
        return;
    };
    let id_of = |n: u64| -> PacketId { pid(u16::try_from(n % 60_000 + 1).unwrap()) };
    let publish = |n: u64, dup: bool| {
        let mut p = Publish::new(
            topic("c2/x"),
            QosPid::ExactlyOnce(id_of(n)),
            Bytes::from(format!("q2-{n}")),
        );
        p.dup = dup;
        Packet::Publish(p)
    };
    // Resume.
    let resend = match *stage {
        Stage::Idle => None,
        Stage::Published(n) => Some(publish(n, true)),
        Stage::Released(n) => Some(Packet::PubRel(id_of(n))),
    };
    if let Some(packet) = resend {
        if send(&mut c, &packet).await.is_err() {
            return;
        }
    }
    loop {
        if *stage == Stage::Idle {
            let n = *next;
            *next += 1;
            *stage = Stage::Published(n);
            if send(&mut c, &publish(n, false)).await.is_err() {
                return;
            }
        }
        let Some(packet) = c.next().await else { return };
        match (*stage, packet) {
            (Stage::Published(n), Packet::PubRec(id)) if id == id_of(n) => {
                promised.lock().unwrap().push(format!("q2-{n}"));
                *stage = Stage::Released(n);
                if send(&mut c, &Packet::PubRel(id)).await.is_err() {
                    return;
                }
            }
            (Stage::Released(n), Packet::PubComp(id)) if id == id_of(n) => *stage = Stage::Idle,
            (_, other) => panic!("QoS 2 publisher: unexpected {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_acknowledged_is_lost_across_kill_9() {
    let dir = temp_dir("crash");
    let mut config = common::local_config(&dir);
    config.reload_watch_secs = 0;
    config.limits.publish_rate = 1_000_000;
    config.limits.publish_burst = 1_000_000;
    // Nothing acknowledged may be dropped for room either.
    config.limits.max_queued = 10_000_000;
    let config_file = dir.join("crash.toml");
    std::fs::write(&config_file, config.to_toml()).unwrap();

    let seen = Arc::new(Mutex::new(Seen::default()));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let promised = Arc::new(Mutex::new(Vec::new()));
    let mut q1_next = [0u64; QOS1_PUBLISHERS];
    let mut q2 = (Stage::Idle, 0u64);
    // Run times before each kill, spread so kills land at different points of the traffic.
    let runs_ms = [350u64, 520, 410, 630, 300, 470, 560, 380];
    for (cycle, run_ms) in runs_ms.iter().enumerate().take(CYCLES) {
        let (mut child, addr) = common::spawn_broker_process(&config_file).await;
        let sub = tokio::spawn(subscriber(addr, cycle == 0, Arc::clone(&seen)));
        // The subscription exists (SUBACK) before the first publish.
        if cycle == 0 {
            let deadline = Instant::now() + common::WAIT;
            while !dir.join(reference_broker::DB_FILE).exists() {
                assert!(Instant::now() < deadline);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut publishers = Vec::new();
        for (n, next) in q1_next.iter().copied().enumerate() {
            let acked = Arc::clone(&acked);
            publishers.push(tokio::spawn(async move {
                let mut next = next;
                qos1_publisher(addr, n, &mut next, &acked).await;
                next
            }));
        }
        let promised2 = Arc::clone(&promised);
        let (mut stage, mut next2) = q2;
        let p2 = tokio::spawn(async move {
            qos2_publisher(addr, &mut stage, &mut next2, &promised2).await;
            (stage, next2)
        });
        tokio::time::sleep(Duration::from_millis(*run_ms)).await;
        child.start_kill().unwrap(); // SIGKILL
        let status = timeout(common::WAIT, child.wait()).await.unwrap().unwrap();
        assert!(!status.success());
        for (n, p) in publishers.into_iter().enumerate() {
            q1_next[n] = timeout(common::WAIT, p).await.unwrap().unwrap();
        }
        q2 = timeout(common::WAIT, p2).await.unwrap().unwrap();
        timeout(common::WAIT, sub).await.unwrap().unwrap();
    }

    // The last start: the subscriber collects what is still queued for it, the QoS 2
    // publisher finishes its exchange.
    let (mut child, addr) = common::spawn_broker_process(&config_file).await;
    let want1: BTreeSet<String> = acked.lock().unwrap().iter().cloned().collect();
    let want2: BTreeSet<String> = promised.lock().unwrap().iter().cloned().collect();
    assert!(
        want1.len() > 100,
        "too little traffic: {} acknowledged",
        want1.len()
    );
    assert!(
        want2.len() > 20,
        "too little QoS 2 traffic: {}",
        want2.len()
    );
    let sub = tokio::spawn(subscriber(addr, false, Arc::clone(&seen)));
    let deadline = Instant::now() + common::WAIT;
    loop {
        let done = {
            let s = seen.lock().unwrap();
            want1.iter().all(|p| s.qos1.contains_key(p))
                && want2.iter().all(|p| s.qos2.contains_key(p))
        };
        if done || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.start_kill().unwrap();
    let _ = child.wait().await;
    let _ = timeout(common::WAIT, sub).await;

    let s = seen.lock().unwrap();
    let lost1: Vec<&String> = want1.iter().filter(|p| !s.qos1.contains_key(*p)).collect();
    let lost2: Vec<&String> = want2.iter().filter(|p| !s.qos2.contains_key(*p)).collect();
    let dup1: usize = s.qos1.values().map(|n| n - 1).sum();
    let dup2: Vec<(&String, &usize)> = s.qos2.iter().filter(|(_, n)| **n > 1).collect();
    println!(
        "{CYCLES} kill -9 cycles: QoS 1 acknowledged {}, received {} distinct, {} duplicate deliveries; \
         QoS 2 promised {}, received {} distinct, {} received twice",
        want1.len(),
        s.qos1.len(),
        dup1,
        want2.len(),
        s.qos2.len(),
        dup2.len()
    );
    assert!(
        lost1.is_empty(),
        "acknowledged QoS 1 messages lost: {lost1:?}"
    );
    assert!(lost2.is_empty(), "promised QoS 2 messages lost: {lost2:?}");
    assert!(dup2.is_empty(), "QoS 2 messages delivered twice: {dup2:?}");
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}
