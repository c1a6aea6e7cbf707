//! The broker's building blocks through their public API: the subscription trie against
//! mqtt-wire's matcher, the token bucket, the config file and the command line.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mqtt_wire::{QoS, TopicFilter, TopicName};
use proptest::prelude::*;
use reference_broker::cli::Cli;
use reference_broker::{Config, ConfigError, SubscriptionTrie, TokenBucket};

fn level() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("a".to_owned()),
        Just("b".to_owned()),
        Just(String::new()),
        Just("$sys".to_owned())
    ]
}

fn name() -> impl Strategy<Value = String> {
    prop::collection::vec(level(), 1..4)
        .prop_map(|l| l.join("/"))
        .prop_filter("a topic name is not empty [MQTT-4.7.3-1]", |s| {
            !s.is_empty()
        })
}

fn filter() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(prop_oneof![level(), Just("+".to_owned())], 0..4),
        any::<bool>(),
    )
        .prop_map(|(mut levels, hash)| {
            if hash || levels.is_empty() {
                levels.push("#".to_owned());
            }
            levels.join("/")
        })
        .prop_filter("a filter is not empty [MQTT-4.7.3-1]", |s| !s.is_empty())
}

fn qos(n: u8) -> QoS {
    QoS::from_u8(n % 3).unwrap()
}

proptest! {
    /// The trie finds exactly the clients a linear scan with `mqtt_wire::topic::matches` finds,
    /// each once at its highest QoS, also after removals.
    #[test]
    fn trie_agrees_with_linear_matching(
        subs in prop::collection::vec((0u8..4, filter(), 0u8..3), 0..24),
        removals in prop::collection::vec(0usize..24, 0..6),
        topic in name(),
    ) {
        let mut trie = SubscriptionTrie::new();
        let mut model: HashMap<(u8, String), QoS> = HashMap::new();
        for (client, f, q) in &subs {
            trie.insert(f, &Arc::from(format!("c{client}")), qos(*q));
            model.insert((*client, f.clone()), qos(*q));
        }
        for r in removals {
            if let Some((client, f, _)) = subs.get(r) {
                let existed = model.remove(&(*client, f.clone())).is_some();
                prop_assert_eq!(trie.remove(f, &format!("c{client}")), existed);
            }
        }
        prop_assert_eq!(trie.len(), model.len());
        let name = TopicName::new(&topic).unwrap();
        let mut expected: BTreeMap<Arc<str>, QoS> = BTreeMap::new();
        for ((client, f), q) in &model {
            if TopicFilter::new(f).unwrap().matches(&name) {
                let e = expected.entry(Arc::from(format!("c{client}"))).or_insert(*q);
                *e = (*e).max(*q);
            }
        }
        let expected: Vec<(Arc<str>, QoS)> = expected.into_iter().collect();
        prop_assert_eq!(trie.matches(&topic), expected);
    }
}

#[test]
fn trie_dollar_topics_and_parent_level() {
    let mut trie = SubscriptionTrie::new();
    let c: Arc<str> = Arc::from("c");
    trie.insert("#", &c, QoS::AtMostOnce);
    trie.insert("sport/#", &c, QoS::AtLeastOnce);
    // [MQTT-4.7.1-2]: "sport/#" matches "sport".
    assert_eq!(
        trie.matches("sport"),
        vec![(Arc::clone(&c), QoS::AtLeastOnce)]
    );
    // [MQTT-4.7.2-1]: "#" does not match "$SYS/x".
    assert!(trie.matches("$SYS/x").is_empty());
    trie.insert("$SYS/#", &c, QoS::ExactlyOnce);
    assert_eq!(
        trie.matches("$SYS/x"),
        vec![(Arc::clone(&c), QoS::ExactlyOnce)]
    );
}

#[test]
fn token_bucket_burst_then_rate() {
    let t0 = Instant::now();
    let mut b = TokenBucket::new(10, 3, t0);
    for _ in 0..3 {
        assert_eq!(b.take(t0), None);
    }
    // Empty: the next token is 100 ms away at 10/s.
    assert_eq!(b.take(t0), Some(Duration::from_millis(100)));
    assert_eq!(
        b.take(t0 + Duration::from_millis(40)),
        Some(Duration::from_millis(60))
    );
    assert_eq!(b.take(t0 + Duration::from_millis(100)), None);
    // Refill stops at the burst size.
    let later = t0 + Duration::from_secs(60);
    for _ in 0..3 {
        assert_eq!(b.take(later), None);
    }
    assert!(b.take(later).is_some());
}

#[test]
fn config_defaults_round_trip_and_errors() {
    let default = Config::default();
    let text = default.to_toml();
    assert_eq!(Config::parse(&text, Path::new("x.toml")).unwrap(), default);
    assert_eq!(Config::parse("", Path::new("x.toml")).unwrap(), default);
    assert_eq!(default.limits.publish_rate, 100);
    assert_eq!(default.mqtt_listen.to_string(), "127.0.0.1:8883");
    assert_eq!(default.plain_listen.unwrap().to_string(), "127.0.0.1:1883");
    assert_eq!(default.http_listen.to_string(), "127.0.0.1:8080");

    match Config::parse("nope = 1", Path::new("x.toml")) {
        Err(ConfigError::Parse { message, .. }) => {
            assert!(message.contains("unknown field `nope`"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    match Config::parse("[limits]\nmax_inflight = 0", Path::new("x.toml")) {
        Err(ConfigError::Invalid { key, .. }) => assert_eq!(key, "limits.max_inflight"),
        other => panic!("{other:?}"),
    }
    match Config::parse(
        "[limits]\nmax_inflight = 100\noutbound_queue = 50",
        Path::new("x.toml"),
    ) {
        Err(ConfigError::Invalid { key, .. }) => assert_eq!(key, "limits.outbound_queue"),
        other => panic!("{other:?}"),
    }
    match Config::parse("deny_connect = \"close\"", Path::new("x.toml")) {
        Ok(c) => assert_eq!(c.deny_connect, reference_broker::DenyConnect::Close),
        other => panic!("{other:?}"),
    }
}

#[test]
fn command_line() {
    let args = |a: &[&str]| Cli::parse(a.iter().map(|s| (*s).to_owned()));
    let cli = args(&[
        "--data-dir",
        "/tmp/x",
        "--mqtt-listen",
        "127.0.0.1:1",
        "--plain-listen=off",
        "--http-listen",
        "127.0.0.1:2",
    ])
    .unwrap();
    assert_eq!(cli.plain_listen, Some(None));
    let (config, write) = cli.resolve().unwrap();
    assert!(write);
    assert_eq!(config.data_dir, Path::new("/tmp/x"));
    assert_eq!(config.mqtt_listen.port(), 1);
    assert_eq!(config.plain_listen, None);
    assert_eq!(config.http_listen.port(), 2);
    assert!(
        matches!(args(&["--bogus"]), Err(ConfigError::Usage(m)) if m.starts_with("unknown argument \"--bogus\""))
    );
    assert!(
        matches!(args(&["--mqtt-listen"]), Err(ConfigError::Usage(m)) if m.starts_with("--mqtt-listen needs a value"))
    );
    assert!(
        matches!(args(&["--http-listen", "localhost"]), Err(ConfigError::Usage(m)) if m.starts_with("--http-listen \"localhost\": not an address"))
    );
    match Cli::parse(["--config".to_owned(), "/nonexistent/b.toml".to_owned()])
        .unwrap()
        .resolve()
    {
        Err(ConfigError::Read { path, .. }) => assert_eq!(path, Path::new("/nonexistent/b.toml")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn rules_and_bridges_parse_from_toml() {
    let text = r#"
[[rules]]
name = "store_readings"
sql = "SELECT * FROM '/topic/Greenhouse/LuxSensors/#'"
actions = [{ type = "store", table = "GreenhouseLux", hash_key = "${Thing}", range_key = "${timestamp()}" }]
error_action = { type = "log", file = "errors.log" }

[[bridges]]
name = "awsiot"
address = "127.0.0.1:8883"
client_id = "bridgeawsiot"
tls = { ca_file = "ca.pem", cert_file = "c.pem", key_file = "c.key" }
topics = [
  { pattern = "awsiot_to_localgateway", direction = "in", qos = 1 },
  { pattern = "both_directions", direction = "both", qos = 1 },
]
"#;
    let c = Config::parse(text, Path::new("x.toml")).unwrap();
    assert_eq!(c.rules[0].sql_version, "2016-03-23");
    assert_eq!(
        c.rules[0].actions[0],
        reference_broker::ActionConfig::Store {
            table: "GreenhouseLux".to_owned(),
            hash_key: "${Thing}".to_owned(),
            range_key: "${timestamp()}".to_owned(),
        }
    );
    let b = &c.bridges[0];
    assert!(b.clean_session);
    assert_eq!(b.keep_alive, 60);
    assert_eq!(
        b.topics[1].direction,
        reference_broker::BridgeDirection::Both
    );
    match Config::parse(
        "[[rules]]\nname = \"x\"\nsql = \"SELECT 1\"\nactions = [{ type = \"email\" }]",
        Path::new("x.toml"),
    ) {
        Err(ConfigError::Parse { message, .. }) => {
            assert!(message.contains("unknown variant `email`"), "{message}")
        }
        other => panic!("{other:?}"),
    }
}
