#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod auth;
mod bridge;
mod broker;
pub mod cli;
mod close;
mod cluster;
pub mod config;
mod connection;
pub mod fuzzing;
mod http;
mod identity;
mod jetstream_store;
pub mod logging;
mod message_log;
mod metrics;
pub mod nats_subject;
mod persist;
pub mod pki;
mod ratelimit;
mod registry;
mod routes;
mod rules;
mod server;
pub mod setup;
mod sigfox;
mod store;
mod tls_client;

pub use auth::{Authorizer, Principal};
pub use broker::{Broker, Message, MessageId, SessionSnapshot, Snapshot, StoredMessage};
pub use config::{
    ActionConfig, BridgeConfig, BridgeDirection, BridgeTls, BridgeTopic, ClusterConfig, Config,
    ConfigError, DenyConnect, Limits, MetricKind, PersistenceConfig, RuleConfig, SyncMode,
};
pub use http::{MAX_BODY, MAX_HEAD};
pub use identity::{Identity, TlsError};
pub use metrics::Metrics;
pub use ratelimit::TokenBucket;
pub use registry::{Registry, RegistryError, RegistryFile, Status};
pub use rules::RuleError;
pub use server::{RunningBroker, StartError, start};
pub use sigfox::DOWNLINK_TOPIC_PREFIX;
pub use store::{Change, DB_FILE, Store, StoreError};
pub use x509_chain::certificate_id;
