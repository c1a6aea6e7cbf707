//! The broker's logs: `tracing` events (a level, a message and fields such as `client_id`,
//! `peer` and `reason`) written to stderr as text or JSON lines, filtered by `RUST_LOG`.
//!
//! The library only emits events; the binary installs the subscriber ([`install`]), so an
//! embedding program keeps its own.

use std::fmt;
use std::str::FromStr;

use tracing_subscriber::EnvFilter;

/// The filter used when `RUST_LOG` is unset: the broker's events from `info` up, other
/// crates' (rustls, async-nats) from `warn` up.
pub const DEFAULT_FILTER: &str = "warn,reference_broker=info";

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogFormat {
    /// One human-readable line per event: time, level, target, message, fields.
    #[default]
    Text,
    /// One JSON object per line (`timestamp`, `level`, `target`, `fields`), for log shippers.
    Json,
}

impl FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("{other:?}: the log format is text or json")),
        }
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        })
    }
}

/// Installs the process's subscriber: stderr in `format`, filtered by `RUST_LOG` (the
/// `tracing-subscriber` directive syntax, e.g. `reference_broker=debug`) or else
/// [`DEFAULT_FILTER`]. A malformed `RUST_LOG` is an error rather than silently ignored.
pub fn install(format: LogFormat) -> Result<(), String> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) => {
            EnvFilter::try_new(&directives).map_err(|e| format!("RUST_LOG {directives:?}: {e}"))?
        }
        Err(_) => EnvFilter::new(DEFAULT_FILTER),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false);
    let installed = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    installed.map_err(|e| format!("cannot install the logger: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_and_print() {
        assert_eq!("text".parse(), Ok(LogFormat::Text));
        assert_eq!("json".parse(), Ok(LogFormat::Json));
        assert_eq!(
            "yaml".parse::<LogFormat>(),
            Err("\"yaml\": the log format is text or json".to_owned())
        );
        assert_eq!(LogFormat::Json.to_string(), "json");
    }

    #[test]
    fn the_default_filter_parses() {
        assert!(EnvFilter::try_new(DEFAULT_FILTER).is_ok());
    }
}
