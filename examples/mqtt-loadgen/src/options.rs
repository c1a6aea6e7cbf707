//! The command line and its limits.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use mqtt_wire::QoS;

/// The usage text.
pub const USAGE: &str = "usage: mqtt-loadgen SCENARIO [options]

Scenarios (SCENARIOS.md §7):
  peak        busy hour: jobs at the seed's peak rate, 2 × 0.9 × agents × 240 / 36,000 msg/s
  stability   long run at the seed's average rate, 2 × agents × 300 / 604,800 msg/s
  flood       maximum sustained publish rate: publishers → subscribers, at --qos
  connect     connection rate: TCP (+ mTLS handshake) + CONNECT → CONNACK, then DISCONNECT

Options:
  --broker HOST:PORT[,HOST:PORT...]  broker address (default 127.0.0.1:1883, or :8883 with
                          TLS); with several, connection n (agent i is n = i, service s is
                          n = agents + s, flood subscriber s likewise) goes to broker n mod count
  --broker-data DIR       TLS with DIR/ca.pem, DIR/devices/button-1.pem and .key
  --ca FILE --cert FILE --key FILE   TLS with these PEM files (client certificate = mTLS)
  --server-name NAME      TLS server name (default localhost)
  --agents N              agents (peak/stability), publishers (flood), workers (connect); default 100
  --services N            service clients sending jobs (default 4)
  --subscribers N         flood subscribers (default 1)
  --duration SECS         measured phase (default 10)
  --ramp-up SECS          spread the agents' first connections over this long (default 5)
  --drain SECS            wait for late messages after the measured phase (default 5)
  --timeout SECS          a message later than this is a timeout (default 5)
  --qos 0|1               QoS of every publish and subscription (default 1)
  --rate MSG_PER_S        override the profile's rate (peak/stability); flood: total publish
                          rate (default: as fast as the broker takes)
  --inflight N            unacknowledged QoS 1 publishes per flood publisher (default 32)
  --payload BYTES         payload size, at least 22 (default 64)
  --source-addrs N        spread connections over 127.0.0.1 .. 127.0.0.N (default 1)
  --client-id TEMPLATE    client ids; {n} is the connection's number (default lg-{n})
  --keep-alive SECS       MQTT keep alive (default 60)
  --out DIR               results.json, latency.hgrm, latency.svg, errors.svg (default loadgen-out)
  --persistent-subscribers  flood subscribers hold persistent sessions (clean session 0,
                          started empty), so a durable broker stores what it queues for them
  --no-progress           no progress line on stderr
  --processes N           peak/stability: run the agents in N child processes of this program
                          (agents split into N index ranges), merged into one report (default 1)
";

/// What to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    /// Jobs at the seed's peak rate.
    Peak,
    /// Jobs at the seed's average rate.
    Stability,
    /// Maximum sustained publish rate.
    Flood,
    /// Connection (and mTLS handshake) rate.
    Connect,
}

impl Scenario {
    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Peak => "peak",
            Scenario::Stability => "stability",
            Scenario::Flood => "flood",
            Scenario::Connect => "connect",
        }
    }
}

/// Where the TLS files are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The CA that signed the broker's certificate.
    pub ca: PathBuf,
    /// The client certificate (chain) presented to the broker.
    pub cert: PathBuf,
    /// Its private key.
    pub key: PathBuf,
    /// The name the broker's certificate must carry.
    pub server_name: String,
}

/// A complete run description.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// The scenario.
    pub scenario: Scenario,
    /// The broker (the first of `--broker A,B,C`).
    pub broker: SocketAddr,
    /// The brokers after the first of `--broker A,B,C` (empty: one broker).
    pub more_brokers: Vec<SocketAddr>,
    /// TLS files, or plain TCP.
    pub tls: Option<TlsFiles>,
    /// Agents, publishers or connect workers.
    pub agents: u32,
    /// Service clients.
    pub services: u16,
    /// Flood subscribers.
    pub subscribers: u16,
    /// The measured phase.
    pub duration: Duration,
    /// The agents' connections are spread over this.
    pub ramp_up: Duration,
    /// Late messages are still awaited this long.
    pub drain: Duration,
    /// Later than this is a timeout.
    pub timeout: Duration,
    /// QoS of publishes and subscriptions.
    pub qos: QoS,
    /// Messages per second instead of the profile's.
    pub rate: Option<f64>,
    /// Unacknowledged QoS 1 publishes per flood publisher.
    pub inflight: u16,
    /// Payload bytes.
    pub payload: usize,
    /// Source addresses 127.0.0.1 ..= 127.0.0.N.
    pub source_addrs: u8,
    /// Client id template with `{n}`.
    pub client_id: String,
    /// MQTT keep alive in seconds.
    pub keep_alive: u16,
    /// The output directory (`None`: write nothing).
    pub out: Option<PathBuf>,
    /// Print a progress line every second.
    pub progress: bool,
    /// Flood subscribers connect with clean session 0 (after a clean connect that empties any
    /// session left by an earlier run).
    pub persistent_subscribers: bool,
    /// Child processes for peak/stability (1: everything in this process).
    pub processes: u16,
    /// In a child process: (its index, the number of processes); it runs the agents
    /// `agents × index / processes .. agents × (index + 1) / processes` (`--slice K/N`).
    pub slice: Option<(u16, u16)>,
    /// In a child process: when the run starts, in milliseconds since the Unix epoch
    /// (`--start-at`), the same for every child, so that their ramps, measured phases and
    /// teardowns line up (children started one after another would otherwise end seconds
    /// apart, and the first to tear down its connections loads the brokers while the last
    /// are still measuring).
    pub start_at: Option<u64>,
    /// The program the children run (`None`: this process's executable).
    pub program: Option<PathBuf>,
}

/// Limits that keep a mistyped option from exhausting the machine.
pub mod limits {
    /// The most agents one run takes (the seed's 500,000 with room to spare).
    pub const MAX_AGENTS: u32 = 1_000_000;
    /// The longest measured phase (a week of stability run).
    pub const MAX_DURATION_SECS: u64 = 7 * 24 * 3600;
    /// The largest payload.
    pub const MAX_PAYLOAD: usize = 128 * 1024;
    /// The most service clients or subscribers.
    pub const MAX_CLIENTS: u16 = 1024;
    /// The most child processes (times `MAX_CLIENTS` service ids, within a u16).
    pub const MAX_PROCESSES: u16 = 32;
}

impl Options {
    /// The defaults for `scenario` against a plain broker on 127.0.0.1:1883.
    pub fn new(scenario: Scenario) -> Options {
        Options {
            scenario,
            broker: SocketAddr::from((Ipv4Addr::LOCALHOST, 1883)),
            more_brokers: Vec::new(),
            tls: None,
            agents: 100,
            services: 4,
            subscribers: 1,
            duration: Duration::from_secs(10),
            ramp_up: Duration::from_secs(5),
            drain: Duration::from_secs(5),
            timeout: Duration::from_secs(5),
            qos: QoS::AtLeastOnce,
            rate: None,
            inflight: 32,
            payload: 64,
            source_addrs: 1,
            client_id: "lg-{n}".to_owned(),
            keep_alive: 60,
            out: Some(PathBuf::from("loadgen-out")),
            progress: true,
            persistent_subscribers: false,
            processes: 1,
            slice: None,
            start_at: None,
            program: None,
        }
    }

    /// The agents this process runs: all, or its slice's index range.
    pub fn agent_range(&self) -> std::ops::Range<u32> {
        match self.slice {
            None => 0..self.agents,
            Some((k, n)) => {
                let at = |k: u16| {
                    let v = u64::from(self.agents)
                        .saturating_mul(u64::from(k))
                        .checked_div(u64::from(n.max(1)))
                        .unwrap_or(0);
                    u32::try_from(v).unwrap_or(self.agents)
                };
                at(k)..at(k.saturating_add(1).min(n))
            }
        }
    }

    /// The command line that parses back to these options (durations in whole seconds; the
    /// child-only `--slice` included, `program` not).
    pub fn to_args(&self) -> Vec<String> {
        let mut a = vec![self.scenario.name().to_owned()];
        let mut opt = |name: &str, value: String| {
            a.push(name.to_owned());
            a.push(value);
        };
        let brokers: Vec<String> = self.brokers().iter().map(ToString::to_string).collect();
        opt("--broker", brokers.join(","));
        if let Some(t) = &self.tls {
            opt("--ca", t.ca.display().to_string());
            opt("--cert", t.cert.display().to_string());
            opt("--key", t.key.display().to_string());
            opt("--server-name", t.server_name.clone());
        }
        opt("--agents", self.agents.to_string());
        opt("--services", self.services.to_string());
        opt("--subscribers", self.subscribers.to_string());
        opt("--duration", self.duration.as_secs().to_string());
        opt("--ramp-up", self.ramp_up.as_secs().to_string());
        opt("--drain", self.drain.as_secs().to_string());
        opt("--timeout", self.timeout.as_secs().to_string());
        opt("--qos", (self.qos as u8).to_string());
        if let Some(r) = self.rate {
            opt("--rate", r.to_string());
        }
        opt("--inflight", self.inflight.to_string());
        opt("--payload", self.payload.to_string());
        opt("--source-addrs", self.source_addrs.to_string());
        opt("--client-id", self.client_id.clone());
        opt("--keep-alive", self.keep_alive.to_string());
        if let Some(out) = &self.out {
            opt("--out", out.display().to_string());
        }
        opt("--processes", self.processes.to_string());
        if let Some((k, n)) = self.slice {
            opt("--slice", format!("{k}/{n}"));
        }
        if let Some(at) = self.start_at {
            opt("--start-at", at.to_string());
        }
        if !self.progress {
            a.push("--no-progress".to_owned());
        }
        if self.persistent_subscribers {
            a.push("--persistent-subscribers".to_owned());
        }
        a
    }

    /// The client id of connection `n`.
    pub fn client_id(&self, n: u64) -> String {
        self.client_id.replace("{n}", &n.to_string())
    }

    /// Every broker, `broker` first; connection `n` goes to the one at `n mod count`.
    pub fn brokers(&self) -> Vec<SocketAddr> {
        std::iter::once(self.broker)
            .chain(self.more_brokers.iter().copied())
            .collect()
    }

    /// The source address of connection `n`: 127.0.0.(1 + n mod N).
    pub fn source_addr(&self, n: u64) -> Ipv4Addr {
        let count = u64::from(self.source_addrs.max(1));
        let last = u8::try_from(n.checked_rem(count).unwrap_or(0)).unwrap_or(0);
        Ipv4Addr::new(127, 0, 0, last.saturating_add(1))
    }

    /// Parses the arguments after the program name. `Ok(None)` is `--help`.
    pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Option<Options>, UsageError> {
        let mut args = args.into_iter();
        let first = args.next().ok_or(UsageError::MissingScenario)?;
        let scenario = match first.as_str() {
            "--help" | "-h" => return Ok(None),
            "peak" => Scenario::Peak,
            "stability" => Scenario::Stability,
            "flood" => Scenario::Flood,
            "connect" => Scenario::Connect,
            _ => return Err(UsageError::UnknownScenario(first)),
        };
        let mut o = Options::new(scenario);
        let mut broker: Option<SocketAddr> = None;
        let mut more_brokers: Vec<SocketAddr> = Vec::new();
        let (mut ca, mut cert, mut key, mut data) = (None, None, None, None);
        let mut server_name = "localhost".to_owned();
        while let Some(arg) = args.next() {
            let (name, inline) = match arg.split_once('=') {
                Some((n, v)) if n.starts_with("--") => (n.to_owned(), Some(v.to_owned())),
                _ => (arg.clone(), None),
            };
            match name.as_str() {
                "--help" | "-h" => return Ok(None),
                "--no-progress" => {
                    o.progress = false;
                    continue;
                }
                "--persistent-subscribers" => {
                    o.persistent_subscribers = true;
                    continue;
                }
                _ => {}
            }
            let value = inline
                .or_else(|| args.next())
                .ok_or_else(|| UsageError::MissingValue(name.clone()))?;
            let bad = |why: &str| UsageError::BadValue {
                option: name.clone(),
                value: value.clone(),
                why: why.to_owned(),
            };
            let secs = |max: u64| -> Result<Duration, UsageError> {
                let n: u64 = value
                    .parse()
                    .map_err(|_| bad("not a whole number of seconds"))?;
                if n > max {
                    return Err(bad(&format!("at most {max}")));
                }
                Ok(Duration::from_secs(n))
            };
            let clients = || -> Result<u16, UsageError> {
                match value.parse::<u16>() {
                    Ok(n) if (1..=limits::MAX_CLIENTS).contains(&n) => Ok(n),
                    _ => Err(bad(&format!("between 1 and {}", limits::MAX_CLIENTS))),
                }
            };
            match name.as_str() {
                "--broker" => {
                    let mut list = Vec::new();
                    for a in value.split(',') {
                        list.push(
                            a.trim()
                                .parse::<SocketAddr>()
                                .map_err(|_| bad("not an address like 127.0.0.1:1883"))?,
                        );
                    }
                    if list.len() > usize::from(limits::MAX_CLIENTS) {
                        return Err(bad(&format!("at most {} brokers", limits::MAX_CLIENTS)));
                    }
                    let mut list = list.into_iter();
                    broker = list.next();
                    more_brokers = list.collect();
                }
                "--broker-data" => data = Some(PathBuf::from(&value)),
                "--ca" => ca = Some(PathBuf::from(&value)),
                "--cert" => cert = Some(PathBuf::from(&value)),
                "--key" => key = Some(PathBuf::from(&value)),
                "--server-name" => server_name = value.clone(),
                "--agents" => {
                    o.agents = match value.parse::<u32>() {
                        Ok(n) if (1..=limits::MAX_AGENTS).contains(&n) => n,
                        _ => return Err(bad(&format!("between 1 and {}", limits::MAX_AGENTS))),
                    }
                }
                "--services" => o.services = clients()?,
                "--subscribers" => o.subscribers = clients()?,
                "--duration" => {
                    o.duration = secs(limits::MAX_DURATION_SECS)?;
                    if o.duration.is_zero() {
                        return Err(bad("at least 1"));
                    }
                }
                "--ramp-up" => o.ramp_up = secs(3600)?,
                "--drain" => o.drain = secs(600)?,
                "--timeout" => {
                    o.timeout = secs(60)?;
                    if o.timeout.is_zero() {
                        return Err(bad("at least 1"));
                    }
                }
                "--qos" => {
                    o.qos = match value.as_str() {
                        "0" => QoS::AtMostOnce,
                        "1" => QoS::AtLeastOnce,
                        _ => return Err(bad("0 or 1")),
                    }
                }
                "--rate" => match value.parse::<f64>() {
                    Ok(r) if r > 0.0 && r <= 10_000_000.0 => o.rate = Some(r),
                    _ => return Err(bad("a rate above 0 and at most 10,000,000 msg/s")),
                },
                "--inflight" => {
                    o.inflight = match value.parse::<u16>() {
                        Ok(n) if n >= 1 => n,
                        _ => return Err(bad("between 1 and 65535")),
                    }
                }
                "--payload" => {
                    o.payload = match value.parse::<usize>() {
                        Ok(n)
                            if (crate::payload::HEADER_LEN..=limits::MAX_PAYLOAD).contains(&n) =>
                        {
                            n
                        }
                        _ => {
                            return Err(bad(&format!(
                                "between {} and {}",
                                crate::payload::HEADER_LEN,
                                limits::MAX_PAYLOAD
                            )));
                        }
                    }
                }
                "--source-addrs" => {
                    o.source_addrs = match value.parse::<u8>() {
                        Ok(n) if (1..=254).contains(&n) => n,
                        _ => return Err(bad("between 1 and 254")),
                    }
                }
                "--client-id" => {
                    if !value.contains("{n}") && o.scenario != Scenario::Connect {
                        return Err(bad("needs {n}: every connection needs its own client id"));
                    }
                    o.client_id = value.clone();
                }
                "--keep-alive" => {
                    o.keep_alive = value.parse().map_err(|_| bad("between 0 and 65535"))?
                }
                "--out" => o.out = Some(PathBuf::from(&value)),
                "--processes" => {
                    o.processes = match value.parse::<u16>() {
                        Ok(n) if (1..=limits::MAX_PROCESSES).contains(&n) => n,
                        _ => {
                            return Err(bad(&format!("between 1 and {}", limits::MAX_PROCESSES)));
                        }
                    };
                    if o.processes > 1
                        && !matches!(o.scenario, Scenario::Peak | Scenario::Stability)
                    {
                        return Err(bad("only peak and stability run in several processes"));
                    }
                }
                "--slice" => {
                    let parsed = value
                        .split_once('/')
                        .and_then(|(k, n)| Some((k.parse::<u16>().ok()?, n.parse::<u16>().ok()?)));
                    o.slice = match parsed {
                        Some((k, n)) if k < n && n <= limits::MAX_PROCESSES => Some((k, n)),
                        _ => return Err(bad("K/N with K < N")),
                    };
                }
                "--start-at" => {
                    o.start_at = Some(value.parse().map_err(|_| bad("milliseconds since 1970"))?)
                }
                _ => return Err(UsageError::UnknownOption(arg)),
            }
        }
        o.tls = match (data, ca, cert, key) {
            (Some(d), None, None, None) => Some(TlsFiles {
                ca: d.join("ca.pem"),
                cert: d.join("devices/button-1.pem"),
                key: d.join("devices/button-1.key"),
                server_name,
            }),
            (None, Some(ca), Some(cert), Some(key)) => Some(TlsFiles {
                ca,
                cert,
                key,
                server_name,
            }),
            (None, None, None, None) => None,
            _ => return Err(UsageError::IncompleteTls),
        };
        o.broker = broker.unwrap_or_else(|| {
            let port = if o.tls.is_some() { 8883 } else { 1883 };
            SocketAddr::from((Ipv4Addr::LOCALHOST, port))
        });
        o.more_brokers = more_brokers;
        Ok(Some(o))
    }
}

/// A command line that could not be understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsageError {
    /// No scenario was named.
    MissingScenario,
    /// The first argument is not a scenario.
    UnknownScenario(String),
    /// An option this tool does not have.
    UnknownOption(String),
    /// An option without its value.
    MissingValue(String),
    /// A value out of range or of the wrong form.
    BadValue {
        /// The option.
        option: String,
        /// The value given.
        value: String,
        /// What it must be.
        why: String,
    },
    /// Only some of `--ca`, `--cert`, `--key`, or both them and `--broker-data`.
    IncompleteTls,
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsageError::MissingScenario => {
                f.write_str("name a scenario: peak, stability, flood or connect")
            }
            UsageError::UnknownScenario(s) => write!(
                f,
                "unknown scenario {s:?}: use peak, stability, flood or connect"
            ),
            UsageError::UnknownOption(s) => write!(f, "unknown option {s:?}"),
            UsageError::MissingValue(s) => write!(f, "{s} needs a value"),
            UsageError::BadValue { option, value, why } => {
                write!(f, "{option} {value:?}: must be {why}")
            }
            UsageError::IncompleteTls => f.write_str(
                "TLS needs either --broker-data DIR alone, or all of --ca, --cert and --key",
            ),
        }
    }
}

impl std::error::Error for UsageError {}
