//! The broker's building blocks through their public API: the token bucket, the config file
//! and the command line. (Subscription matching is mqtt-wire's `SubscriptionTrie`, tested
//! there.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

use std::path::Path;
use std::time::{Duration, Instant};

use reference_broker::cli::Cli;
use reference_broker::{Config, ConfigError, TokenBucket};

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
