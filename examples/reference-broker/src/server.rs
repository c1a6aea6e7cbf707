//! Start-up: load the registry, build TLS, bind the listeners and run the accept loops.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout_at};
use tokio_rustls::TlsAcceptor;

use crate::auth::{Authorizer, Principal};
use crate::broker::{Broker, Message, Reply};
use crate::cluster::Cluster;
use crate::config::{Config, SyncMode};
use crate::connection::{Transport, serve};
use crate::identity::{Identity, TlsError, server_config};
use crate::metrics::{Metrics, dec, inc};
use crate::persist::Persister;
use crate::registry::{Registry, RegistryError};
use crate::rules::{RuleError, Rules};
use crate::sigfox::SigfoxIngest;
use crate::store::{Store, StoreError};

/// What every task shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) broker: Broker,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) authorizer: Authorizer,
    registry: RwLock<Arc<Registry>>,
    tls: RwLock<Arc<rustls::ServerConfig>>,
    pub(crate) sigfox: Option<SigfoxIngest>,
    pub(crate) rules: Rules,
    /// Cluster mode's link to the other nodes.
    pub(crate) cluster: Option<Cluster>,
}

impl Shared {
    /// The current registry.
    pub(crate) fn registry(&self) -> Arc<Registry> {
        Arc::clone(&self.registry.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// An accepted PUBLISH (from a client, or a Sigfox callback): routed to subscribers and
    /// offered to the rules; `reply` answers the publishing client once the routing is durable.
    pub(crate) fn ingest(
        &self,
        message: &Message,
        principal: Option<&Principal>,
        reply: Option<(&str, Reply)>,
    ) {
        self.publish(message, None, reply);
        self.offer_to_rules(message, principal);
    }

    /// A message the broker publishes itself (a Will, a rule's republish): routed here and on
    /// the other nodes, not offered to the rules.
    pub(crate) fn route(&self, message: &Message) {
        self.publish(message, None, None);
    }

    /// As [`Shared::ingest`], not delivered to the session `exclude` (a bridge's own).
    pub(crate) fn ingest_from(
        &self,
        message: &Message,
        principal: Option<&Principal>,
        exclude: Option<&str>,
    ) {
        self.publish(message, exclude, None);
        self.offer_to_rules(message, principal);
    }

    /// Routes a message here and, in cluster mode, on the other nodes: a QoS 0 message is
    /// sent to them at once; a QoS 1/2 one gets its cluster id and is logged in JetStream
    /// with the message's other changes, before `reply` confirms it.
    fn publish(&self, message: &Message, exclude: Option<&str>, reply: Option<(&str, Reply)>) {
        let logged = self.cluster.as_ref().and_then(|cluster| {
            inc(&self.metrics.cluster_forwarded_total);
            cluster.forward(message)
        });
        match logged {
            Some((origin, log)) => {
                let message = Message {
                    origin: Some(origin),
                    ..message.clone()
                };
                self.broker
                    .publish_from(&message, exclude, reply, Some(log));
            }
            None => self.broker.publish_from(message, exclude, reply, None),
        }
    }

    fn offer_to_rules(&self, message: &Message, principal: Option<&Principal>) {
        self.rules.offer(self, message, || {
            let timestamp = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
                .unwrap_or(0);
            iot_sql::Context {
                clientid: principal.map(|p| p.client_id.clone()),
                timestamp,
                principal: principal
                    .and_then(|p| p.identity.as_ref())
                    .map(|i| i.certificate_id.clone()),
                accountid: Some(self.config.arn.account.clone()),
                traceid: None,
                sourceip: principal.map(|p| p.source_ip.clone()),
            }
        });
    }

    fn tls_acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(Arc::clone(
            &self.tls.read().unwrap_or_else(|p| p.into_inner()),
        ))
    }

    /// Reloads the registry, policies and TLS trust anchors from the data directory, then
    /// re-authorizes every session; on an invalid file nothing changes.
    pub(crate) fn reload(&self) -> Result<usize, StartError> {
        let result = self.try_reload();
        match &result {
            Ok(closed) => {
                inc(&self.metrics.reloads_total);
                let n = u64::try_from(*closed).unwrap_or(u64::MAX);
                self.metrics
                    .reload_disconnects_total
                    .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
                tracing::info!(
                    closed,
                    "reloaded; connections no longer allowed were closed"
                );
            }
            Err(e) => {
                inc(&self.metrics.reload_failures_total);
                tracing::error!(error = %e, "reload refused, keeping the previous state");
            }
        }
        result
    }

    fn try_reload(&self) -> Result<usize, StartError> {
        let dir = &self.config.data_dir;
        let registry = Registry::load(dir).map_err(StartError::Registry)?;
        let tls = load_tls(dir, &registry)?;
        // Rules come from the config file, when the broker was started from one.
        let rules = match &self.config.source {
            Some(path) => {
                let file = crate::config::Config::load(path).map_err(StartError::Config)?;
                Rules::check(&file.rules, &registry).map_err(StartError::Rule)?;
                Some(file.rules)
            }
            None => None,
        };
        if let Some(rules) = rules {
            self.rules
                .replace(&rules, &registry)
                .map_err(StartError::Rule)?;
        }
        *self.tls.write().unwrap_or_else(|p| p.into_inner()) = tls;
        let registry = Arc::new(registry);
        *self.registry.write().unwrap_or_else(|p| p.into_inner()) = Arc::clone(&registry);
        let plain = &self.config.plain.policy;
        Ok(self.broker.reauthorize(|old| {
            Principal::from_registry(
                &registry,
                plain,
                &old.client_id,
                old.source_ip.clone(),
                old.identity.clone(),
            )
            .ok()
        }))
    }
}

fn load_tls(dir: &Path, registry: &Registry) -> Result<Arc<rustls::ServerConfig>, StartError> {
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read(&path).map_err(|error| StartError::Read { path, error })
    };
    server_config(
        &read("server.pem")?,
        &read("server.key")?,
        &registry.trust_anchors,
    )
    .map_err(StartError::Tls)
}

/// Size and modification time of every file of the data directory that a reload reads (all
/// but the database), to notice a change.
fn fingerprint(dir: &Path) -> Vec<(PathBuf, u64, Option<std::time::SystemTime>)> {
    let mut out = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), 0u8)];
    while let Some((d, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                if depth < 3 {
                    stack.push((path, depth.saturating_add(1)));
                }
            } else if !path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(crate::store::DB_FILE))
            {
                out.push((path, meta.len(), meta.modified().ok()));
            }
        }
    }
    out.sort();
    out
}

async fn watch(shared: Arc<Shared>, every: Duration) {
    let dir = shared.config.data_dir.clone();
    let mut last = fingerprint(&dir);
    loop {
        tokio::time::sleep(every).await;
        let now = fingerprint(&dir);
        if now != last {
            last = now;
            let _ = shared.reload();
        }
    }
}

/// Why the broker could not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum StartError {
    /// The registry (or a file it names) is invalid.
    Registry(RegistryError),
    /// The server certificate, key or trust anchors are unusable.
    Tls(TlsError),
    /// A listener could not be bound.
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        error: std::io::Error,
    },
    /// A file could not be read.
    Read {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The Sigfox section is invalid.
    Sigfox(String),
    /// The SQLite database could not be opened or read.
    Store(StoreError),
    /// A rule does not compile.
    Rule(RuleError),
    /// The config file (re-read at reload for its rules) is invalid.
    Config(crate::config::ConfigError),
    /// Cluster mode could not reach NATS.
    Cluster(String),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Registry(e) => write!(f, "registry: {e}"),
            StartError::Tls(e) => e.fmt(f),
            StartError::Bind { addr, error } => write!(f, "cannot listen on {addr}: {error}"),
            StartError::Read { path, error } => {
                write!(f, "cannot read {}: {error}", path.display())
            }
            StartError::Sigfox(m) => write!(f, "sigfox: {m}"),
            StartError::Store(e) => write!(f, "{}: {e}", crate::store::DB_FILE),
            StartError::Rule(e) => e.fmt(f),
            StartError::Config(e) => e.fmt(f),
            StartError::Cluster(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for StartError {}

/// A running broker: its bound addresses, its metrics, and the tasks to stop.
#[derive(Debug)]
pub struct RunningBroker {
    /// The MQTT-over-TLS listener's address.
    pub mqtt_addr: SocketAddr,
    /// The plain MQTT listener's address, if any.
    pub plain_addr: Option<SocketAddr>,
    /// The HTTP listener's address.
    pub http_addr: SocketAddr,
    /// The broker's counters.
    pub metrics: Arc<Metrics>,
    tasks: Vec<JoinHandle<()>>,
    shared: Arc<Shared>,
}

impl RunningBroker {
    /// Stops accepting connections (open connections end with their tasks when the runtime
    /// stops).
    pub fn shutdown(&self) {
        for t in &self.tasks {
            t.abort();
        }
    }

    /// Reloads the registry, policies and certificates (what SIGHUP does); returns how many
    /// connections were closed because they are no longer allowed. In cluster mode every
    /// other node reloads too.
    pub fn reload(&self) -> Result<usize, StartError> {
        let result = self.shared.reload();
        if result.is_ok() {
            if let Some(cluster) = &self.shared.cluster {
                cluster.announce_reload();
            }
        }
        result
    }

    /// Stops accepting connections, waits until every change made so far is committed, and
    /// stops writing (the state on disk is then final; a crash would have left the same
    /// except for what no client had been answered yet).
    pub async fn stop(&self) -> Result<(), StoreError> {
        self.shutdown();
        match self.shared.broker.persister() {
            Some(persist) if !persist.close().await => Err(StoreError::Corrupt {
                table: "*",
                detail: "the last changes could not be written (see the log)".to_owned(),
            }),
            _ => Ok(()),
        }
    }
}

impl Drop for RunningBroker {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Loads the data directory named by `config` (already initialised, see
/// [`crate::setup::init_data_dir`]), binds the listeners and starts serving.
pub async fn start(config: Config) -> Result<RunningBroker, StartError> {
    let shared = build(config).await?;
    let reuse_port = shared.config.listen_reuse_port;
    let bind = |addr: SocketAddr| async move {
        listen(addr, reuse_port).map_err(|error| StartError::Bind { addr, error })
    };
    let mqtt = bind(shared.config.mqtt_listen).await?;
    let plain = match shared.config.plain_listen {
        Some(addr) => Some(bind(addr).await?),
        None => None,
    };
    let http = bind(shared.config.http_listen).await?;
    let local = |l: &TcpListener| {
        l.local_addr().map_err(|error| StartError::Bind {
            addr: shared.config.mqtt_listen,
            error,
        })
    };
    let mqtt_addr = local(&mqtt)?;
    let plain_addr = plain.as_ref().map(local).transpose()?;
    let http_addr = local(&http)?;

    let permits = Arc::new(Semaphore::new(shared.config.limits.max_connections));
    let mut tasks = vec![tokio::spawn(accept_loop(
        Arc::clone(&shared),
        mqtt,
        true,
        Arc::clone(&permits),
    ))];
    if let Some(plain) = plain {
        tasks.push(tokio::spawn(accept_loop(
            Arc::clone(&shared),
            plain,
            false,
            permits,
        )));
    }
    tasks.push(tokio::spawn(Rules::run(Arc::clone(&shared))));
    tasks.extend(
        Cluster::run(&shared)
            .await
            .map_err(|e| StartError::Cluster(e.0))?,
    );
    for bridge in &shared.config.bridges {
        tasks.push(tokio::spawn(crate::bridge::run(
            Arc::clone(&shared),
            bridge.clone(),
        )));
    }
    if shared.config.reload_watch_secs > 0 {
        let every = Duration::from_secs(shared.config.reload_watch_secs);
        tasks.push(tokio::spawn(watch(Arc::clone(&shared), every)));
    }
    tasks.push(tokio::spawn(crate::http::serve(Arc::clone(&shared), http)));
    Ok(RunningBroker {
        mqtt_addr,
        plain_addr,
        http_addr,
        metrics: Arc::clone(&shared.metrics),
        tasks,
        shared,
    })
}

/// The broker's shared state from the data directory named by `config`: registry, TLS, rules,
/// the cluster link and the stored sessions; nothing bound yet.
pub(crate) async fn build(config: Config) -> Result<Arc<Shared>, StartError> {
    let dir = config.data_dir.clone();
    let registry = Registry::load(&dir).map_err(StartError::Registry)?;
    let tls = load_tls(&dir, &registry)?;
    let metrics = Arc::new(Metrics::default());
    let authorizer = Authorizer::new(config.arn.clone(), Arc::clone(&metrics));
    // Without a secret the endpoint would accept anyone: it stays off.
    let sigfox = if config.sigfox.enabled && !config.sigfox.secret.is_empty() {
        Some(SigfoxIngest::new(&config.sigfox).map_err(StartError::Sigfox)?)
    } else {
        None
    };
    let rules = Rules::compile(&config.rules, &registry, &dir).map_err(StartError::Rule)?;
    let mut config = config;
    let cluster = if config.cluster.enabled() {
        let cluster = Cluster::connect(&config.cluster, Arc::clone(&metrics))
            .await
            .map_err(|e| StartError::Cluster(e.0))?;
        if config.persistence.enabled {
            // Nodes keep no shared state in a local file: sessions and retained messages are
            // in JetStream.
            tracing::info!(
                "cluster mode: sessions and retained messages are kept in JetStream, not broker.db"
            );
            config.persistence.enabled = false;
        }
        tracing::info!(node = cluster.node_name(), "cluster mode");
        Some(cluster)
    } else {
        None
    };
    let (persister, stored) = if config.persistence.enabled {
        let store = Store::open(&dir).map_err(StartError::Store)?;
        store
            .set_synchronous(config.persistence.sync == SyncMode::Full)
            .map_err(StartError::Store)?;
        let stored = store.load().map_err(StartError::Store)?;
        let persister =
            Persister::start(Box::new(store), Arc::clone(&metrics)).map_err(|error| {
                StartError::Read {
                    path: dir.join(crate::store::DB_FILE),
                    error,
                }
            })?;
        (Some(persister), Some(stored))
    } else if let Some(cluster) = &cluster {
        let persister = Persister::start(Box::new(cluster.committer()), Arc::clone(&metrics))
            .map_err(|e| StartError::Cluster(format!("cluster: cannot start the writer: {e}")))?;
        (Some(persister), None)
    } else {
        (None, None)
    };
    let shared = Arc::new(Shared {
        broker: Broker::new(
            config.limits.clone(),
            authorizer.clone(),
            Arc::clone(&metrics),
            persister,
            cluster.as_ref().map(Cluster::unwatch_sender),
        ),
        metrics: Arc::clone(&metrics),
        authorizer,
        registry: RwLock::new(Arc::new(registry)),
        tls: RwLock::new(tls),
        sigfox,
        rules,
        config,
        cluster,
    });
    if let Some(snapshot) = stored {
        let registry = shared.registry();
        shared.broker.restore(snapshot, |s| {
            let identity = match &s.certificate_id {
                None => None,
                Some(id) => Some(Identity::from_der(&registry.certificates.get(id)?.der).ok()?),
            };
            Principal::from_registry(
                &registry,
                &shared.config.plain.policy,
                &s.client_id,
                s.source_ip.clone(),
                identity,
            )
            .ok()
        });
    }
    Ok(shared)
}

/// A listener; with `reuse_port`, several processes may listen on the same address and the
/// kernel spreads the connections over them (SO_REUSEPORT, Unix only).
fn listen(addr: SocketAddr, reuse_port: bool) -> std::io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    // What TcpListener::bind does on Unix.
    socket.set_reuseaddr(true)?;
    if reuse_port {
        #[cfg(unix)]
        socket.set_reuseport(true)?;
        #[cfg(not(unix))]
        return Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "listen_reuse_port needs SO_REUSEPORT (Unix)",
        ));
    }
    socket.bind(addr)?;
    socket.listen(1024)
}

/// Counts an open connection for as long as it lives.
struct ConnectionGauge(Arc<Metrics>);

impl Drop for ConnectionGauge {
    fn drop(&mut self) {
        dec(&self.0.connections_current);
    }
}

async fn accept_loop(
    shared: Arc<Shared>,
    listener: TcpListener,
    tls: bool,
    permits: Arc<Semaphore>,
) {
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(pair) => pair,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        inc(&shared.metrics.connections_total);
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            inc(&shared.metrics.connections_refused_limit_total);
            drop(tcp);
            continue;
        };
        if !tls && shared.config.plain.localhost_only && !peer.ip().is_loopback() {
            inc(&shared.metrics.connections_refused_nonlocal_total);
            drop(tcp);
            continue;
        }
        let _ = tcp.set_nodelay(true);
        let shared = Arc::clone(&shared);
        let tls = tls.then(|| shared.tls_acceptor());
        tokio::spawn(async move {
            let _permit = permit;
            inc(&shared.metrics.connections_current);
            let _gauge = ConnectionGauge(Arc::clone(&shared.metrics));
            let timeout = shared.config.limits.connect_timeout();
            let deadline = Instant::now()
                .checked_add(timeout)
                .unwrap_or_else(Instant::now);
            match tls {
                Some(acceptor) => tls_connection(shared, acceptor, tcp, peer, deadline).await,
                None => serve(shared, tcp, peer, Transport::Plain, deadline).await,
            }
        });
    }
}

async fn tls_connection(
    shared: Arc<Shared>,
    acceptor: TlsAcceptor,
    tcp: TcpStream,
    peer: SocketAddr,
    deadline: Instant,
) {
    // Boxed: the handshake's state (a few KiB) would otherwise stay reserved in the
    // connection's task for the connection's whole life.
    let Some((stream, identity)) =
        Box::pin(tls_handshake(&shared, acceptor, tcp, peer, deadline)).await
    else {
        return;
    };
    serve(
        shared,
        stream,
        peer,
        Transport::Tls(Box::new(identity)),
        deadline,
    )
    .await;
}

/// The TLS handshake and the identity of the client certificate it verified.
async fn tls_handshake(
    shared: &Shared,
    acceptor: TlsAcceptor,
    tcp: TcpStream,
    peer: SocketAddr,
    deadline: Instant,
) -> Option<(tokio_rustls::server::TlsStream<TcpStream>, Identity)> {
    let stream = match timeout_at(deadline, acceptor.accept(tcp)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            inc(&shared.metrics.tls_handshake_failures_total);
            tracing::info!(%peer, reason = %e, "TLS handshake failed");
            return None;
        }
        Err(_) => {
            inc(&shared.metrics.connect_timeouts_total);
            return None;
        }
    };
    let identity = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|der| Identity::from_der(der));
    match identity {
        Some(Ok(id)) => Some((stream, id)),
        Some(Err(e)) => {
            tracing::info!(%peer, reason = %e, "unreadable client certificate");
            None
        }
        // The verifier requires a certificate, so this does not happen.
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The size of the future `f` returns, which a spawned task holds for its whole life.
    fn future_size<A, B, C, D, E, R>(_: impl Fn(A, B, C, D, E) -> R) -> usize {
        std::mem::size_of::<R>()
    }

    /// A connection's task lives as long as the connection, so its size is paid per
    /// connection: with the handshake, the CONNECT checks and the cluster claim inline it
    /// was 9.7 KiB (of ~31 KiB per cluster connection at 100,000), now they are boxed and
    /// freed once done.
    #[test]
    fn a_connection_task_stays_small() {
        let tls = future_size(tls_connection);
        let plain = future_size(serve::<TcpStream>);
        assert!(tls <= 2048 && plain <= 2048, "tls {tls} B, plain {plain} B");
    }
}
