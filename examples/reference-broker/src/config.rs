//! The broker's configuration: a TOML file (`broker.toml`), defaults for everything, and the
//! command-line overrides.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The whole configuration. Every field has a default, so an empty file is a valid config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The file this configuration was loaded from (not a key of the file); a reload re-reads
    /// its rules.
    #[serde(skip)]
    pub source: Option<PathBuf>,
    /// Where the PKI, the registry and the policies live; relative paths in the file are relative
    /// to the current directory.
    pub data_dir: PathBuf,
    /// The MQTT-over-TLS listener (client certificates required).
    pub mqtt_listen: SocketAddr,
    /// The plain MQTT listener, or `None` for none.
    pub plain_listen: Option<SocketAddr>,
    /// The HTTP listener (`/healthz`, `/metrics`, `/sigfox`).
    pub http_listen: SocketAddr,
    /// The plain listener's rules.
    pub plain: PlainConfig,
    /// The account part of the ARNs that policies name.
    pub arn: ArnConfig,
    /// What a denied CONNECT gets.
    pub deny_connect: DenyConnect,
    /// Resource limits.
    pub limits: Limits,
    /// The Sigfox callback endpoint.
    pub sigfox: SigfoxConfig,
    /// Retained messages and persistent sessions in SQLite.
    pub persistence: PersistenceConfig,
    /// Rules run on every accepted PUBLISH (iot-sql).
    pub rules: Vec<RuleConfig>,
    /// Connections to remote brokers (mosquitto-style bridges).
    pub bridges: Vec<BridgeConfig>,
    /// Seconds between checks of the data directory for changed registry, policy or
    /// certificate files, which are then reloaded as on SIGHUP; 0 turns the check off.
    pub reload_watch_secs: u64,
    /// Cluster mode over NATS (off while `nats_urls` is empty).
    pub cluster: ClusterConfig,
    /// Listen with SO_REUSEPORT, so that several broker processes on one host (the nodes of a
    /// cluster) share the same ports and the kernel spreads the connections (Unix only).
    pub listen_reuse_port: bool,
}

/// Cluster mode: broker nodes that share one NATS system form one MQTT service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct ClusterConfig {
    /// NATS servers (`nats://host:port`); empty: one broker on its own.
    pub nats_urls: Vec<String>,
    /// This node's name in logs and `/healthz` (default: `node-` and a random id).
    pub node_name: String,
    /// The first token of every NATS subject the cluster uses, so that several clusters can
    /// share one NATS system.
    pub subject_prefix: String,
    /// How long the message log keeps QoS 1/2 messages (seconds): a persistent session whose
    /// node was killed finds what was published for it within this time once its client
    /// connects again.
    pub log_retention_secs: u64,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        Self {
            nats_urls: Vec::new(),
            node_name: String::new(),
            subject_prefix: "iotgw".to_owned(),
            log_retention_secs: 3600,
        }
    }
}

impl ClusterConfig {
    /// Whether cluster mode is on.
    pub fn enabled(&self) -> bool {
        !self.nats_urls.is_empty()
    }
}

/// A bridge to a remote broker, as mosquitto's `connection` section: this broker connects out
/// as an MQTT 3.1.1 client and forwards topics per pattern and direction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BridgeConfig {
    /// The bridge's name (its local session is `$bridge/<name>`).
    pub name: String,
    /// `host:port` of the remote broker.
    pub address: String,
    /// The client id used on the remote broker.
    pub client_id: String,
    /// Clean session on the remote broker.
    #[serde(default = "default_true")]
    pub clean_session: bool,
    /// Keep-alive on the remote connection, seconds (at least 5).
    #[serde(default = "default_keep_alive")]
    pub keep_alive: u16,
    /// TLS to the remote, with a client certificate; absent = plain TCP.
    #[serde(default)]
    pub tls: Option<BridgeTls>,
    /// The registry policy that authorizes the bridge locally (its subscriptions for `out`
    /// topics, and publishing what comes `in`).
    #[serde(default = "default_bridge_policy")]
    pub policy: String,
    /// Topic patterns.
    pub topics: Vec<BridgeTopic>,
}

fn default_true() -> bool {
    true
}

fn default_keep_alive() -> u16 {
    60
}

fn default_bridge_policy() -> String {
    "plain-default".to_owned()
}

/// TLS settings of a bridge; the remote's certificate is verified by x509-chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BridgeTls {
    /// CA certificates (PEM) the remote's certificate must chain to.
    pub ca_file: PathBuf,
    /// Our client certificate chain (PEM).
    pub cert_file: PathBuf,
    /// Its private key (PEM).
    pub key_file: PathBuf,
    /// The name checked against the remote certificate; default: the host of `address`.
    #[serde(default)]
    pub server_name: Option<String>,
}

/// One `topic <pattern> <direction> <qos>` line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BridgeTopic {
    /// A topic filter.
    pub pattern: String,
    /// `in` (remote to local), `out` (local to remote) or `both`.
    pub direction: BridgeDirection,
    /// The QoS of the subscription on the side messages come from (0–2; 1 at most locally).
    #[serde(default)]
    pub qos: u8,
}

/// Which way a bridge topic flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BridgeDirection {
    /// Remote to local.
    In,
    /// Local to remote.
    Out,
    /// Both ways.
    Both,
}

/// A topic rule: SQL, the actions it runs when it matches, and an error action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// The rule's name (in logs, metrics and the error action's payload).
    pub name: String,
    /// `SELECT ... FROM 'filter' WHERE ...`.
    pub sql: String,
    /// `awsIotSqlVersion`: `2015-10-08`, `2016-03-23` (default) or `beta`.
    #[serde(default = "default_sql_version")]
    pub sql_version: String,
    /// A registry policy the rule's republish actions are authorized with (iot:Publish), as
    /// any principal's would be; without one they are not checked.
    #[serde(default)]
    pub policy: Option<String>,
    /// What runs when the rule matches.
    #[serde(default)]
    pub actions: Vec<ActionConfig>,
    /// What runs when an action fails, with AWS IoT's error payload.
    #[serde(default)]
    pub error_action: Option<ActionConfig>,
}

fn default_sql_version() -> String {
    "2016-03-23".to_owned()
}

/// A rule action; every string marked "template" takes `${...}` substitution templates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum ActionConfig {
    /// Publish the rule's output on a topic (template) at a QoS (0 or 1).
    Republish {
        /// Template.
        topic: String,
        /// 0 or 1.
        #[serde(default)]
        qos: u8,
    },
    /// Put the output into the SQLite table `rule_rows` of `broker.db` under
    /// (`table`, hash key, range key) — the DynamoDB action.
    Store {
        /// The logical table name.
        table: String,
        /// Template, e.g. `${device}`.
        hash_key: String,
        /// Template, e.g. `${timestamp()}`.
        range_key: String,
    },
    /// POST the output as JSON to an `http://` or `https://` URL (template) with headers
    /// (templates).
    Http {
        /// Template.
        url: String,
        /// Header name → template.
        #[serde(default)]
        headers: std::collections::BTreeMap<String, String>,
        /// For `https://`: the CA certificates (PEM) the endpoint's certificate must chain to,
        /// verified by x509-chain (required: there is no built-in root store).
        #[serde(default)]
        ca_file: Option<PathBuf>,
    },
    /// Set a gauge or add to a counter on `/metrics` (`broker_rule_metric{name="..."}`).
    Metric {
        /// The metric's name.
        name: String,
        /// `gauge` (default) or `counter`.
        #[serde(default)]
        kind: MetricKind,
        /// Template giving a number; default `1`.
        #[serde(default = "default_metric_value")]
        value: String,
    },
    /// Append one JSON line per match to a file.
    Log {
        /// The file (relative paths are relative to the data directory).
        file: PathBuf,
    },
}

fn default_metric_value() -> String {
    "1".to_owned()
}

/// How a metric action applies its value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricKind {
    /// The value replaces the previous one.
    #[default]
    Gauge,
    /// The value is added.
    Counter,
}

/// Retained messages and persistent sessions kept in `broker.db` (SQLite) in the data
/// directory, written change by change: what an acknowledgement confirms is committed before
/// the acknowledgement is sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct PersistenceConfig {
    /// Whether state is loaded at start and written.
    pub enabled: bool,
    /// What a commit survives: `normal`, a crash of the broker (`kill -9`); `full`, also a
    /// power loss or a crash of the machine (an fsync per commit).
    pub sync: SyncMode,
    /// No longer used (state is written as it changes, not saved periodically); accepted so
    /// that a `broker.toml` written by an earlier version still loads.
    #[serde(skip_serializing)]
    pub autosave_secs: Option<u64>,
}

/// How SQLite syncs a commit to disk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum SyncMode {
    /// SQLite's `synchronous = NORMAL` in WAL mode: a commit is in the operating system's
    /// hands before the acknowledgement; it survives the process dying, not the machine.
    #[default]
    Normal,
    /// `synchronous = FULL`: each commit is fsynced first.
    Full,
}

impl Default for PersistenceConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            sync: SyncMode::Normal,
            autosave_secs: None,
        }
    }
}

/// The plain (non-TLS) listener's rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlainConfig {
    /// Accept clients from loopback addresses only (mosquitto 2's local-only mode).
    pub localhost_only: bool,
    /// The registry policy that plain clients are authorized with.
    pub policy: String,
}

/// `arn:aws:iot:<region>:<account>:` — the prefix of every resource the broker authorizes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ArnConfig {
    /// The region, e.g. `us-east-1`.
    pub region: String,
    /// The account id, e.g. `123456789012`.
    pub account: String,
}

impl ArnConfig {
    /// `arn:aws:iot:<region>:<account>:<kind>/<name>`.
    pub fn resource(&self, kind: &str, name: &str) -> String {
        format!("arn:aws:iot:{}:{}:{kind}/{name}", self.region, self.account)
    }
}

/// What a client whose CONNECT is denied gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DenyConnect {
    /// CONNACK with return code 5, "not authorized" (diagnosable with any client).
    Connack,
    /// Close the connection without a CONNACK, as AWS IoT Core does.
    Close,
}

/// Resource limits; each one is enforced and counted on `/metrics`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Simultaneous MQTT connections over both listeners; more are closed at accept.
    pub max_connections: usize,
    /// Sessions kept (connected or persistent); a CONNECT that needs a new one beyond this gets
    /// CONNACK 3 (server unavailable).
    pub max_sessions: usize,
    /// The largest MQTT packet accepted, fixed header included.
    pub max_packet_size: usize,
    /// QoS 1 and 2 messages sent to one client and not yet acknowledged.
    pub max_inflight: usize,
    /// QoS 1 and 2 messages queued for one session beyond the in-flight window; more are
    /// dropped and counted.
    pub max_queued: usize,
    /// Packets waiting to be written to one connection; a connection whose queue is full loses
    /// QoS 0 messages (counted) and is disconnected for anything else (counted).
    pub outbound_queue: usize,
    /// Retained messages kept; a new retained topic beyond this is not retained (counted).
    pub max_retained: usize,
    /// Seconds a new connection has to complete TLS and send CONNECT.
    pub connect_timeout_secs: u64,
    /// Seconds a single write to a client may block before the connection is closed.
    pub write_timeout_secs: u64,
    /// Publishes per second per connection (token bucket refill); AWS IoT Core's default is 100.
    pub publish_rate: u32,
    /// Token bucket size: publishes accepted in a burst.
    pub publish_burst: u32,
    /// The most levels a topic name or filter may have (mosquitto allows 200, AWS IoT 8): a
    /// deeper SUBSCRIBE filter gets SUBACK 0x80, a deeper PUBLISH or Will topic closes the
    /// connection. Counted on `/metrics`.
    pub max_topic_levels: usize,
    /// Subscriptions one session may hold (AWS IoT allows 50 per connection); a SUBSCRIBE
    /// filter beyond it gets SUBACK 0x80 (counted). With `max_topic_levels`, this bounds the
    /// memory one client's subscriptions can take.
    pub max_subscriptions: usize,
    /// Refuse control characters (U+0001–U+001F, U+007F–U+009F; MQTT 3.1.1 §1.5.3 allows
    /// it): in a client id (CONNACK 2), a PUBLISH or Will topic (closed), a SUBSCRIBE filter
    /// (SUBACK 0x80). Counted on `/metrics`.
    pub reject_control_characters: bool,
}

/// The Sigfox callback endpoint (`POST /sigfox`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SigfoxConfig {
    /// Whether `/sigfox` is served.
    pub enabled: bool,
    /// The shared secret the Sigfox callback sends (at least 16 bytes).
    pub secret: String,
    /// The header that carries the secret.
    pub secret_header: String,
    /// The topic template (`{device}`, `{deviceTypeId}`, `{kind}`).
    pub topic: String,
    /// Payload grammars by device type id.
    pub formats: std::collections::BTreeMap<String, String>,
    /// Downlink data (16 hex digits) answered to BIDIR callbacks, by device id; devices not
    /// listed get `noData`.
    pub downlinks: std::collections::BTreeMap<String, String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            source: None,
            data_dir: PathBuf::from("broker-data"),
            mqtt_listen: SocketAddr::from(([127, 0, 0, 1], 8883)),
            plain_listen: Some(SocketAddr::from(([127, 0, 0, 1], 1883))),
            http_listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            plain: PlainConfig::default(),
            arn: ArnConfig::default(),
            deny_connect: DenyConnect::Connack,
            limits: Limits::default(),
            sigfox: SigfoxConfig::default(),
            persistence: PersistenceConfig::default(),
            reload_watch_secs: 2,
            rules: Vec::new(),
            bridges: Vec::new(),
            cluster: ClusterConfig::default(),
            listen_reuse_port: false,
        }
    }
}

impl Default for PlainConfig {
    fn default() -> Self {
        Self {
            localhost_only: true,
            policy: "plain-default".to_owned(),
        }
    }
}

impl Default for ArnConfig {
    fn default() -> Self {
        Self {
            region: "us-east-1".to_owned(),
            account: "123456789012".to_owned(),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 10_000,
            max_sessions: 100_000,
            max_packet_size: 128 * 1024 + 1024,
            max_inflight: 32,
            max_queued: 1000,
            outbound_queue: 256,
            max_retained: 100_000,
            connect_timeout_secs: 10,
            write_timeout_secs: 30,
            publish_rate: 100,
            publish_burst: 100,
            max_topic_levels: 200,
            max_subscriptions: 100,
            reject_control_characters: true,
        }
    }
}

impl Limits {
    /// The connect timeout.
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.connect_timeout_secs)
    }

    /// The write timeout.
    pub fn write_timeout(&self) -> Duration {
        Duration::from_secs(self.write_timeout_secs)
    }
}

impl Default for SigfoxConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            secret: String::new(),
            secret_header: "x-sigfox-secret".to_owned(),
            topic: "sigfox".to_owned(),
            formats: std::collections::BTreeMap::new(),
            downlinks: std::collections::BTreeMap::new(),
        }
    }
}

/// Why a configuration was refused.
#[derive(Debug)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The file is not valid TOML for this schema.
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message (with line and column).
        message: String,
    },
    /// A value is out of its range.
    Invalid {
        /// The key, e.g. `limits.max_inflight`.
        key: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A command-line argument is unknown or malformed.
    Usage(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Read { path, error } => {
                write!(f, "cannot read config {}: {error}", path.display())
            }
            ConfigError::Parse { path, message } => {
                write!(f, "invalid config {}: {message}", path.display())
            }
            ConfigError::Invalid { key, message } => write!(f, "config key {key}: {message}"),
            ConfigError::Usage(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConfigError::Read { error, .. } => Some(error),
            _ => None,
        }
    }
}

impl Config {
    /// Parses a TOML document and checks the ranges.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Reads and parses a file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
            path: path.to_owned(),
            error,
        })?;
        let mut config = Config::parse(&text, path)?;
        config.source = Some(path.to_owned());
        Ok(config)
    }

    /// The file written on first start: every key with its default value.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }

    /// Checks the ranges a broker needs.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let l = &self.limits;
        let checks: [(&'static str, bool, &str); 10] = [
            (
                "limits.max_connections",
                l.max_connections >= 1,
                "must be at least 1",
            ),
            (
                "limits.max_sessions",
                l.max_sessions >= 1,
                "must be at least 1",
            ),
            (
                "limits.max_packet_size",
                (64..=mqtt_wire::MAX_REMAINING_LENGTH).contains(&l.max_packet_size),
                "must be between 64 and 268435455",
            ),
            (
                "limits.max_inflight",
                (1..=65_000).contains(&l.max_inflight),
                "must be between 1 and 65000",
            ),
            (
                "limits.outbound_queue",
                l.outbound_queue >= l.max_inflight.saturating_add(16),
                "must be at least limits.max_inflight + 16 (a reconnect resends the window)",
            ),
            (
                "limits.connect_timeout_secs",
                l.connect_timeout_secs >= 1,
                "must be at least 1",
            ),
            (
                "limits.publish_rate",
                l.publish_rate >= 1,
                "must be at least 1",
            ),
            (
                "limits.publish_burst",
                l.publish_burst >= 1,
                "must be at least 1",
            ),
            (
                "limits.max_topic_levels",
                l.max_topic_levels >= 1,
                "must be at least 1",
            ),
            (
                "limits.max_subscriptions",
                l.max_subscriptions >= 1,
                "must be at least 1",
            ),
        ];
        for (key, ok, message) in checks {
            if !ok {
                return Err(ConfigError::Invalid {
                    key,
                    message: message.to_owned(),
                });
            }
        }
        let prefix = &self.cluster.subject_prefix;
        if prefix.is_empty()
            || !prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(ConfigError::Invalid {
                key: "cluster.subject_prefix",
                message: "must be one NATS token of letters, digits, '-' and '_'".to_owned(),
            });
        }
        if self.cluster.log_retention_secs == 0 {
            return Err(ConfigError::Invalid {
                key: "cluster.log_retention_secs",
                message: "must be at least 1".to_owned(),
            });
        }
        if l.write_timeout_secs == 0 {
            return Err(ConfigError::Invalid {
                key: "limits.write_timeout_secs",
                message: "must be at least 1".to_owned(),
            });
        }
        Ok(())
    }
}
