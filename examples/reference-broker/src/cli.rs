//! The command line: `--config FILE`, `--data-dir DIR`, `--mqtt-listen ADDR`,
//! `--plain-listen ADDR|off`, `--http-listen ADDR`, `--cluster URL[,URL…]`,
//! `--log-format text|json`.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::config::{Config, ConfigError};
use crate::logging::LogFormat;
use crate::setup::CONFIG_FILE;

/// The usage text.
pub const USAGE: &str = "usage: reference-broker [--config FILE] [--data-dir DIR] [--mqtt-listen ADDR] [--plain-listen ADDR|off] [--http-listen ADDR] [--cluster nats://HOST:PORT[,...]] [--log-format text|json]

Without --config, DIR/broker.toml is read if it exists (DIR defaults to ./broker-data); on first
start DIR is created with a development PKI, policies, registry.json and broker.toml.
Logs go to stderr; RUST_LOG filters them (default: warn,reference_broker=info).";

/// Parsed command-line options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cli {
    /// `--config FILE`.
    pub config: Option<PathBuf>,
    /// `--data-dir DIR`.
    pub data_dir: Option<PathBuf>,
    /// `--mqtt-listen ADDR`.
    pub mqtt_listen: Option<SocketAddr>,
    /// `--plain-listen ADDR|off` (`Some(None)` is `off`).
    pub plain_listen: Option<Option<SocketAddr>>,
    /// `--http-listen ADDR`.
    pub http_listen: Option<SocketAddr>,
    /// `--cluster URL[,URL…]`: NATS servers (cluster mode).
    pub cluster: Option<Vec<String>>,
    /// `--log-format text|json` (text when absent).
    pub log_format: LogFormat,
    /// `--help`.
    pub help: bool,
}

impl Cli {
    /// Parses the arguments after the program name.
    pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Cli, ConfigError> {
        let mut cli = Cli::default();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (name, inline) = match arg.split_once('=') {
                Some((n, v)) if n.starts_with("--") => (n.to_owned(), Some(v.to_owned())),
                _ => (arg.clone(), None),
            };
            if name == "--help" || name == "-h" {
                cli.help = true;
                continue;
            }
            const KNOWN: [&str; 7] = [
                "--cluster",
                "--log-format",
                "--config",
                "--data-dir",
                "--mqtt-listen",
                "--plain-listen",
                "--http-listen",
            ];
            if !KNOWN.contains(&name.as_str()) {
                return Err(ConfigError::Usage(format!(
                    "unknown argument {arg:?}\n{USAGE}"
                )));
            }
            let value = match inline.or_else(|| args.next()) {
                Some(v) => v,
                None => return Err(ConfigError::Usage(format!("{name} needs a value\n{USAGE}"))),
            };
            let addr = |v: &str| {
                v.parse::<SocketAddr>().map_err(|e| {
                    ConfigError::Usage(format!(
                        "{name} {v:?}: not an address like 127.0.0.1:1883 ({e})"
                    ))
                })
            };
            match name.as_str() {
                "--config" => cli.config = Some(PathBuf::from(value)),
                "--cluster" => {
                    cli.cluster = Some(value.split(',').map(|u| u.trim().to_owned()).collect())
                }
                "--data-dir" => cli.data_dir = Some(PathBuf::from(value)),
                "--log-format" => {
                    cli.log_format = value
                        .parse()
                        .map_err(|e| ConfigError::Usage(format!("--log-format {e}")))?
                }
                "--mqtt-listen" => cli.mqtt_listen = Some(addr(&value)?),
                "--http-listen" => cli.http_listen = Some(addr(&value)?),
                "--plain-listen" => {
                    cli.plain_listen = Some(if value == "off" {
                        None
                    } else {
                        Some(addr(&value)?)
                    })
                }
                _ => {
                    return Err(ConfigError::Usage(format!(
                        "unknown argument {arg:?}\n{USAGE}"
                    )));
                }
            }
        }
        Ok(cli)
    }

    /// The configuration: the file (given, or the data directory's `broker.toml` if present,
    /// else the defaults), then the command-line overrides. Also says whether a config file
    /// should be written on first start (no `--config` and none present).
    pub fn resolve(&self) -> Result<(Config, bool), ConfigError> {
        let (mut config, write) = match &self.config {
            Some(path) => (Config::load(path)?, false),
            None => {
                let dir = self
                    .data_dir
                    .clone()
                    .unwrap_or_else(|| Config::default().data_dir);
                let path = dir.join(CONFIG_FILE);
                if path.exists() {
                    (Config::load(&path)?, false)
                } else {
                    (Config::default(), true)
                }
            }
        };
        if let Some(d) = &self.data_dir {
            config.data_dir = d.clone();
        }
        if let Some(a) = self.mqtt_listen {
            config.mqtt_listen = a;
        }
        if let Some(a) = self.plain_listen {
            config.plain_listen = a;
        }
        if let Some(urls) = &self.cluster {
            config.cluster.nats_urls = urls.clone();
        }
        if let Some(a) = self.http_listen {
            config.http_listen = a;
        }
        config.validate()?;
        Ok((config, write))
    }
}
