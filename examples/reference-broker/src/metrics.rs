//! Counters and gauges, rendered in the Prometheus text exposition format (version 0.0.4).

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

macro_rules! metrics {
    ($( $(#[$doc:meta])* $kind:ident $field:ident : $help:literal ),* $(,)?) => {
        /// Every counter and gauge of the broker; all relaxed atomics.
        #[derive(Debug, Default)]
        pub struct Metrics {
            $( $(#[$doc])* pub $field: AtomicU64, )*
        }

        impl Metrics {
            /// The Prometheus text format: `# HELP`, `# TYPE` and one sample per metric, each
            /// name prefixed `broker_`.
            pub fn render(&self) -> String {
                let mut out = String::new();
                $(
                    let _ = write!(
                        out,
                        "# HELP broker_{name} {help}\n# TYPE broker_{name} {kind}\nbroker_{name} {value}\n",
                        name = stringify!($field),
                        help = $help,
                        kind = stringify!($kind),
                        value = self.$field.load(Ordering::Relaxed),
                    );
                )*
                out
            }
        }
    };
}

metrics! {
    /// Open MQTT connections.
    gauge connections_current: "Open MQTT connections.",
    /// Sessions held (connected or persistent).
    gauge sessions_current: "Sessions held, connected or persistent.",
    /// Retained messages held.
    gauge retained_current: "Retained messages held.",
    /// Connections accepted.
    counter connections_total: "TCP connections accepted on the MQTT listeners.",
    /// Connections refused at accept because of `limits.max_connections`.
    counter connections_refused_limit_total: "Connections closed at accept because max_connections was reached.",
    /// Plain connections refused because they did not come from a loopback address.
    counter connections_refused_nonlocal_total: "Plain-listener connections closed because they did not come from localhost.",
    /// TLS handshakes that failed.
    counter tls_handshake_failures_total: "TLS handshakes that failed (including refused client certificates).",
    /// Connections closed for not sending CONNECT in time.
    counter connect_timeouts_total: "Connections closed because no CONNECT arrived within connect_timeout.",
    /// CONNACK 0 sent.
    counter connects_accepted_total: "CONNECTs accepted.",
    /// CONNECTs refused for any reason.
    counter connects_refused_total: "CONNECTs refused (any CONNACK code other than 0, or a silent close).",
    /// Older connections closed by a new one with the same client id.
    counter takeovers_total: "Connections closed because a new connection took over their client id.",
    /// Connections closed for a malformed packet or a protocol violation.
    counter protocol_errors_total: "Connections closed for a malformed packet or a protocol violation.",
    /// Connections closed for keep-alive expiry.
    counter keepalive_timeouts_total: "Connections closed because nothing arrived within 1.5 times the keep-alive.",
    /// PUBLISH packets received.
    counter publish_received_total: "PUBLISH packets accepted from clients.",
    /// PUBLISH packets sent.
    counter publish_sent_total: "PUBLISH packets queued to clients.",
    /// Publishes delayed by the per-connection token bucket.
    counter publish_throttled_total: "PUBLISHes delayed by the per-connection rate limit.",
    /// QoS 0 messages dropped because a client's outbound queue was full.
    counter dropped_slow_client_total: "QoS 0 messages dropped because the client's outbound queue was full.",
    /// Connections closed because their outbound queue was full.
    counter slow_client_disconnects_total: "Connections closed because their outbound queue was full.",
    /// QoS 1/2 messages dropped because a session queue was full.
    counter dropped_queue_full_total: "QoS 1 and 2 messages dropped because the session queue was full.",
    /// Retained messages not kept because of `limits.max_retained`.
    counter dropped_retained_limit_total: "Retained messages not kept because max_retained was reached.",
    /// Wills published.
    counter wills_published_total: "Will messages published.",
    /// iot:Connect denials.
    counter denied_connect_total: "iot:Connect requests denied by policy or certificate status.",
    /// iot:Publish / iot:RetainPublish denials.
    counter denied_publish_total: "iot:Publish and iot:RetainPublish requests denied.",
    /// iot:Subscribe denials.
    counter denied_subscribe_total: "iot:Subscribe requests denied (SUBACK 0x80).",
    /// iot:Receive denials.
    counter denied_receive_total: "iot:Receive denials (message not delivered to that subscriber).",
    /// Successful reloads of the registry and policies.
    counter reloads_total: "Reloads of the registry, policies and certificates (SIGHUP or file change).",
    /// Reloads refused because a file was invalid.
    counter reload_failures_total: "Reloads refused because a file was invalid (the previous state stays).",
    /// Connections closed by a reload.
    counter reload_disconnects_total: "Connections closed at reload because their certificate or policy no longer allows them.",
    /// Rule matches.
    counter rules_matched_total: "Rule evaluations whose FROM and WHERE matched.",
    /// Messages not offered to the rules because their queue was full.
    counter rules_dropped_total: "Messages not evaluated because the rules queue was full.",
    /// Rule evaluations that failed.
    counter rule_errors_total: "Rule evaluations that failed (e.g. a payload over the size limit).",
    /// Rule actions that failed.
    counter rule_actions_failed_total: "Rule actions that failed (the error action then runs).",
    /// Rule matches whose actions did not run because too many were running.
    counter rule_actions_dropped_total: "Rule matches whose actions were skipped because too many were running.",
    /// Bridge connections established.
    counter bridge_connects_total: "Bridge connections established to remote brokers.",
    /// Bridge connections lost or refused.
    counter bridge_disconnects_total: "Bridge connections lost or refused (retried with backoff).",
    /// Messages sent out over bridges.
    counter bridge_out_total: "Messages forwarded to remote brokers.",
    /// Messages received over bridges.
    counter bridge_in_total: "Messages received from remote brokers and published locally.",
    /// HTTP requests served.
    counter http_requests_total: "HTTP requests answered.",
    /// Sigfox callbacks published.
    counter sigfox_published_total: "Sigfox callbacks published.",
    /// Sigfox callbacks dropped as duplicates.
    counter sigfox_duplicates_total: "Sigfox callbacks dropped as duplicates of (device, seqNumber).",
    /// Topics and filters refused for their depth.
    counter topic_levels_refused_total: "Topic names and filters refused for having more than max_topic_levels levels.",
    /// Filters refused because the session holds `max_subscriptions`.
    counter subscriptions_refused_limit_total: "SUBSCRIBE filters refused because the session already holds max_subscriptions.",
    /// Client ids, topics and filters refused for a control character.
    counter control_characters_refused_total: "Client ids, topic names and filters refused for a control character.",
    /// Acknowledgements for packet ids not in flight.
    counter unknown_acks_total: "PUBACK, PUBREC and PUBCOMP packets for a packet id not in flight (ignored).",
    /// Transactions committed to broker.db.
    counter persist_commits_total: "Transactions committed to broker.db (each groups the changes of many operations).",
    /// Changes written to broker.db.
    counter persist_changes_total: "Changes of retained messages and persistent sessions written to broker.db.",
    /// Transactions that failed.
    counter persist_failures_total: "Transactions (to broker.db, or to JetStream in cluster mode) that failed (the connections waiting for them were closed).",
    /// Operations waiting for their commit.
    gauge persist_backlog: "Operations whose changes wait for their commit (to broker.db, or to JetStream in cluster mode).",
    /// Whether the NATS link is up.
    gauge cluster_connected: "1 while this node is connected to NATS (cluster mode), else 0.",
    /// NATS subjects subscribed for local subscriptions.
    gauge cluster_subjects_current: "NATS subjects this node subscribes to for its clients' filters.",
    /// Messages published to the other nodes.
    counter cluster_forwarded_total: "Messages accepted here and published on NATS for the other nodes.",
    /// Messages received from other nodes.
    counter cluster_received_total: "Messages from other nodes delivered to this node's subscribers.",
    /// Second copies dropped.
    counter cluster_duplicates_total: "Second copies of a message from another node (overlapping NATS subscriptions), dropped.",
    /// Malformed cluster messages.
    counter cluster_malformed_total: "NATS messages on the cluster's subjects that could not be read (dropped).",
    /// Topics and filters too long for a NATS subject.
    counter cluster_subject_too_long_total: "Topics (delivered on their own node only) and filters (matched on their own node only) whose NATS subject would exceed 3 KiB.",
    /// NATS disconnects.
    counter cluster_disconnects_total: "Times the NATS connection was lost (the client reconnects).",
    /// Routing connection losses.
    counter cluster_routing_disconnects_total: "Times the routing connection (the subscriptions' own NATS connection) was lost; each is a gap read again from the log.",
    /// Sessions read back from JetStream.
    counter cluster_sessions_moved_total: "Persistent sessions read back from JetStream on a CONNECT here (held by another node or by none before).",
    /// Messages read again from the message log.
    counter cluster_replayed_total: "QoS 1/2 messages read again from the cluster's message log (after a gap on this node, or for a session taken from a node that was gone or let it go).",
    /// Messages dropped while a gap was open.
    counter cluster_dropped_in_gap_total: "Messages from other nodes dropped while this node read the log again after a gap (more than 65,536 waiting; QoS 1/2 ones are read again).",
    /// The message log watermark.
    gauge cluster_watermark: "The message log sequence up to which everything this node received is committed.",
    /// Requests from other nodes to close a connection they took a client id over from.
    counter cluster_takeover_requests_total: "Requests from other nodes to close a connection of a client id they took over (owner records).",
    /// Records written to the message log.
    counter cluster_log_records_total: "Records written to the cluster's message log (each holds the QoS 1/2 messages that waited together).",
    /// Messages written to the message log.
    counter cluster_logged_total: "QoS 1/2 messages written to the cluster's message log.",
    /// NATS slow-consumer events.
    counter cluster_slow_consumer_total: "NATS slow-consumer events (messages from other nodes dropped by the client).",
    /// Sigfox callbacks refused.
    counter sigfox_rejected_total: "Sigfox callbacks refused (secret, body or sequence).",
}

/// Adds one to a counter.
pub(crate) fn inc(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// Adds `n` to a counter.
pub(crate) fn add(counter: &AtomicU64, n: usize) {
    counter.fetch_add(u64::try_from(n).unwrap_or(u64::MAX), Ordering::Relaxed);
}

/// Subtracts one from a gauge (never below zero).
pub(crate) fn dec(gauge: &AtomicU64) {
    let _ = gauge.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| v.checked_sub(1));
}

/// Sets a gauge.
pub(crate) fn set(gauge: &AtomicU64, value: usize) {
    gauge.store(u64::try_from(value).unwrap_or(u64::MAX), Ordering::Relaxed);
}
