//! One broker, in process, whose connections are fed bytes over an in-memory pipe: the
//! connection state machine (CONNECT and its authorization, QoS flows, subscriptions, keep-alive,
//! takeover, Will) without sockets, for the `broker_session` fuzz target and its replay test.
//!
//! The broker is built once from a fresh development data directory (plain listener policy:
//! anything allowed, no persistence) and keeps its state between connections, as a running
//! broker does: sessions, retained messages and subscriptions left by one input are there for
//! the next.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::runtime::Runtime;
use tokio::time::Instant;

use crate::config::Config;
use crate::connection::{Transport, serve};
use crate::server::{Shared, StartError, build};
use crate::setup::init_data_dir;

/// How long one connection may take once its input has ended. Every connection ends at the end
/// of its input (the broker reads end of stream and closes), so a connection still open after
/// this is a hang.
pub const CONNECTION_DEADLINE: Duration = Duration::from_secs(10);

/// Room in the in-memory pipe, each way.
const PIPE: usize = 64 * 1024;

/// A broker without listeners.
pub struct Harness {
    runtime: Runtime,
    shared: Arc<Shared>,
    dir: PathBuf,
}

/// What a broker in a harness could not do.
#[derive(Debug)]
#[non_exhaustive]
pub enum HarnessError {
    /// The runtime or the data directory could not be made.
    Setup(String),
    /// The broker did not start.
    Start(StartError),
}

impl std::fmt::Display for HarnessError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HarnessError::Setup(e) => write!(f, "harness setup: {e}"),
            HarnessError::Start(e) => write!(f, "broker start: {e}"),
        }
    }
}

impl std::error::Error for HarnessError {}

impl Harness {
    /// A broker over a new development data directory under the system's temporary directory
    /// (removed when the harness is dropped).
    pub fn new() -> Result<Harness, HarnessError> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "reference-broker-harness-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| HarnessError::Setup(e.to_string()))?;
        let mut config = Config {
            data_dir: dir.clone(),
            ..Config::default()
        };
        config.persistence.enabled = false;
        init_data_dir(&mut config, false).map_err(|e| HarnessError::Setup(e.to_string()))?;
        let shared = runtime
            .block_on(build(config))
            .map_err(HarnessError::Start)?;
        Ok(Harness {
            runtime,
            shared,
            dir,
        })
    }

    /// Serves one plain connection from 127.0.0.1 whose client sends `input` and then closes
    /// its side; returns everything the broker wrote, or `None` if the connection was still
    /// open [`CONNECTION_DEADLINE`] after the input ended.
    pub fn connection(&self, input: &[u8]) -> Option<Vec<u8>> {
        self.runtime.block_on(async {
            let (mut client, server) = tokio::io::duplex(PIPE);
            let peer = SocketAddr::from(([127, 0, 0, 1], 40_000));
            let now = Instant::now();
            let deadline = now.checked_add(CONNECTION_DEADLINE).unwrap_or(now);
            let connection = tokio::spawn(serve(
                Arc::clone(&self.shared),
                server,
                peer,
                Transport::Plain,
                deadline,
            ));
            let (mut rd, mut wr) = tokio::io::split(&mut client);
            // Read while writing, so that a broker with much to say cannot block the input.
            let read = async {
                let mut out = Vec::new();
                // An error is the pipe closing under the read: what was read is the answer.
                let _ = rd.read_to_end(&mut out).await;
                out
            };
            let write = async {
                // The broker may close first (a malformed packet): the rest is not read.
                let _ = wr.write_all(input).await;
                let _ = wr.shutdown().await;
            };
            let ended = tokio::time::timeout(CONNECTION_DEADLINE, async {
                let (out, ()) = tokio::join!(read, write);
                let _ = connection.await;
                out
            })
            .await;
            ended.ok()
        })
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
