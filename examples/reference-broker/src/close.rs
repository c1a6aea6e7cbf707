//! Why a connection ends. Every end has one reason: the connection's loop finds the client's
//! (DISCONNECT, a protocol violation, a denied PUBLISH…), and whatever else in the broker ends
//! a connection says why through its [`Kill`] handle. The reason is logged with the client id
//! and decides whether the Will is published.

use std::fmt;
use std::sync::OnceLock;

use tokio::sync::Notify;

/// The reason a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Close {
    /// The client sent DISCONNECT: a normal end, its Will is discarded [MQTT-3.14.4-3].
    Disconnect,
    /// The client closed the socket, or the socket failed, without DISCONNECT.
    PeerClosed,
    /// Nothing from the client for one and a half keep-alive periods [MQTT-3.1.2-24].
    KeepAliveExpired,
    /// A packet the decoder refused (its error is logged as it is read).
    Malformed,
    /// A PUBLISH to a topic over the broker's limits (length, levels, control characters).
    TopicRefused,
    /// A PUBLISH (or retained PUBLISH) its policy does not allow: AWS IoT disconnects.
    PublishDenied,
    /// More unreleased QoS 2 PUBLISHes than the broker's in-flight window.
    Qos2WindowFull,
    /// An acknowledgement that does not fit its message's QoS or step [MQTT-4.8.0-1].
    AckMismatch,
    /// A second CONNECT [MQTT-3.1.0-2].
    SecondConnect,
    /// A packet only a server sends.
    ServerPacket,
    /// A new connection with the same client id, on this node [MQTT-3.1.4-2].
    TakenOver,
    /// A new connection with the same client id on another cluster node.
    TakenOverByNode,
    /// A reload left the client's certificate or thing no longer allowed.
    NoLongerAllowed,
    /// Its outbound queue was full of messages that must not be dropped.
    SlowReader,
    /// Writing to the socket failed or did not finish within the write timeout.
    WriteFailed,
    /// The store could not commit what the connection was waiting for.
    StoreFailed,
}

impl Close {
    /// Whether the Will is published: on every end but DISCONNECT [MQTT-3.1.2-8].
    pub(crate) fn publishes_will(self) -> bool {
        self != Close::Disconnect
    }

    /// The reason as logged.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Close::Disconnect => "client sent DISCONNECT",
            Close::PeerClosed => "client closed the connection",
            Close::KeepAliveExpired => "keep-alive expired",
            Close::Malformed => "malformed packet",
            Close::TopicRefused => "topic over the broker's limits",
            Close::PublishDenied => "publish not authorised",
            Close::Qos2WindowFull => "too many unreleased QoS 2 messages",
            Close::AckMismatch => "acknowledgement does not fit its message",
            Close::SecondConnect => "second CONNECT",
            Close::ServerPacket => "packet only a server sends",
            Close::TakenOver => "taken over by a new connection",
            Close::TakenOverByNode => "taken over on another node",
            Close::NoLongerAllowed => "no longer allowed after a reload",
            Close::SlowReader => "client does not read its messages",
            Close::WriteFailed => "write failed or timed out",
            Close::StoreFailed => "store failed",
        }
    }
}

impl fmt::Display for Close {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The broker's handle to end one connection, with a reason. The first reason given is the
/// one kept: later ones find the connection already ending.
#[derive(Debug, Default)]
pub(crate) struct Kill {
    reason: OnceLock<Close>,
    wake: Notify,
}

impl Kill {
    /// Ends the connection for `reason` (unless it is already ending).
    pub(crate) fn close(&self, reason: Close) {
        let _ = self.reason.set(reason);
        self.wake.notify_one();
    }

    /// Completes with the reason once [`Kill::close`] has been called.
    pub(crate) async fn closed(&self) -> Close {
        loop {
            // The reason is set before the wake, and a wake with no waiter is kept as a
            // permit: a close before this call is not missed.
            if let Some(&reason) = self.reason.get() {
                return reason;
            }
            self.wake.notified().await;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used)]
    use super::*;

    #[tokio::test]
    async fn the_first_reason_wins_and_is_not_missed_before_the_wait() {
        let kill = Kill::default();
        kill.close(Close::TakenOver);
        kill.close(Close::SlowReader);
        assert_eq!(kill.closed().await, Close::TakenOver);
    }

    #[tokio::test]
    async fn a_waiting_connection_wakes_with_the_reason() {
        let kill = std::sync::Arc::new(Kill::default());
        let waiting = tokio::spawn({
            let kill = std::sync::Arc::clone(&kill);
            async move { kill.closed().await }
        });
        tokio::task::yield_now().await;
        kill.close(Close::NoLongerAllowed);
        let reason = tokio::time::timeout(std::time::Duration::from_secs(5), waiting)
            .await
            .expect("woken")
            .expect("joined");
        assert_eq!(reason, Close::NoLongerAllowed);
    }

    #[test]
    fn only_disconnect_discards_the_will() {
        assert!(!Close::Disconnect.publishes_will());
        assert!(Close::PeerClosed.publishes_will());
        assert!(Close::TakenOver.publishes_will());
    }
}
