//! Persistence in SQLite (`broker.db` in the data directory): retained messages and persistent
//! sessions, written change by change ([`Change`]) in transactions that group the changes of
//! many connections (see `persist.rs`), and loaded at start.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use mqtt_wire::{QoS, TopicFilter, TopicName};
use rusqlite::{Connection, Transaction, params};

use crate::broker::{Message, SessionSnapshot, Snapshot, StoredMessage};

/// The database file in the data directory.
pub const DB_FILE: &str = "broker.db";

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS retained (
    topic TEXT PRIMARY KEY, payload BLOB NOT NULL, qos INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    client_id TEXT PRIMARY KEY, certificate_id TEXT, source_ip TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS subscriptions (
    client_id TEXT NOT NULL, filter TEXT NOT NULL, qos INTEGER NOT NULL,
    PRIMARY KEY (client_id, filter));
CREATE TABLE IF NOT EXISTS messages (
    client_id TEXT NOT NULL, seq INTEGER NOT NULL, topic TEXT NOT NULL, payload BLOB NOT NULL,
    qos INTEGER NOT NULL, retain INTEGER NOT NULL, packet_id INTEGER, released INTEGER NOT NULL,
    PRIMARY KEY (client_id, seq));
CREATE TABLE IF NOT EXISTS incoming_qos2 (
    client_id TEXT NOT NULL, packet_id INTEGER NOT NULL, PRIMARY KEY (client_id, packet_id));
";

/// A database failure.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite refused an operation.
    Sqlite(rusqlite::Error),
    /// A stored row does not hold a valid value.
    Corrupt {
        /// The table.
        table: &'static str,
        /// What is wrong.
        detail: String,
    },
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Sqlite(e) => write!(f, "SQLite: {e}"),
            StoreError::Corrupt { table, detail } => write!(f, "table {table}: {detail}"),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::Sqlite(e) => Some(e),
            StoreError::Corrupt { .. } => None,
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Sqlite(e)
    }
}

/// One change to the stored state, as the broker makes it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// A retained message set (or replaced) on its topic.
    RetainSet(Message),
    /// A topic's retained message cleared.
    RetainClear(TopicName),
    /// A persistent session created, or its owner's identity updated on a reconnect.
    SessionPut {
        /// The client id.
        client_id: Arc<str>,
        /// The certificate id of its connection (`None` for the plain listener).
        certificate_id: Option<String>,
        /// The source address of its connection.
        source_ip: String,
    },
    /// A persistent session ended, with its subscriptions and messages.
    SessionDelete(Arc<str>),
    /// A subscription added or its QoS replaced.
    SubscriptionPut {
        /// The client id.
        client_id: Arc<str>,
        /// The filter.
        filter: TopicFilter,
        /// The granted QoS.
        qos: QoS,
    },
    /// A subscription removed.
    SubscriptionDelete {
        /// The client id.
        client_id: Arc<str>,
        /// The filter.
        filter: TopicFilter,
    },
    /// A QoS 1/2 message queued for a session, already in flight when `packet_id` is set.
    MessagePut {
        /// The client id.
        client_id: Arc<str>,
        /// Its place in the session's order.
        seq: u64,
        /// The message.
        message: Message,
        /// Its packet id when sent at once.
        packet_id: Option<u16>,
    },
    /// A queued message sent with a packet id.
    MessageSent {
        /// The client id.
        client_id: Arc<str>,
        /// The message's place.
        seq: u64,
        /// The packet id it was sent with.
        packet_id: u16,
    },
    /// PUBREC received for a QoS 2 message and PUBREL sent.
    MessageReleased {
        /// The client id.
        client_id: Arc<str>,
        /// The message's place.
        seq: u64,
    },
    /// A delivery completed (PUBACK or PUBCOMP), or a message dropped.
    MessageDelete {
        /// The client id.
        client_id: Arc<str>,
        /// The message's place.
        seq: u64,
    },
    /// A QoS 2 packet id received from the client (PUBREC sent).
    IncomingQos2Put {
        /// The client id.
        client_id: Arc<str>,
        /// The packet id.
        packet_id: u16,
    },
    /// A QoS 2 packet id released by the client (PUBCOMP sent).
    IncomingQos2Delete {
        /// The client id.
        client_id: Arc<str>,
        /// The packet id.
        packet_id: u16,
    },
    /// Cluster mode: a QoS 1/2 message sent to the cluster's message log (`cluster.rs`),
    /// whose acknowledgement what confirms the message waits for. One node alone never
    /// forwards.
    Forward(crate::message_log::LogAck),
}

fn seq_value(seq: u64) -> i64 {
    // Sequence numbers count messages of one session from 0: far below 2^63.
    i64::try_from(seq).unwrap_or(i64::MAX)
}

fn apply_one(tx: &Transaction<'_>, change: &Change) -> Result<(), StoreError> {
    match change {
        Change::RetainSet(m) => {
            tx.prepare_cached("INSERT OR REPLACE INTO retained VALUES (?1, ?2, ?3)")?
                .execute(params![m.topic.as_str(), &m.payload[..], m.qos as i64])?;
        }
        Change::RetainClear(topic) => {
            tx.prepare_cached("DELETE FROM retained WHERE topic = ?1")?
                .execute([topic.as_str()])?;
        }
        Change::SessionPut {
            client_id,
            certificate_id,
            source_ip,
        } => {
            tx.prepare_cached("INSERT OR REPLACE INTO sessions VALUES (?1, ?2, ?3)")?
                .execute(params![&**client_id, certificate_id, source_ip])?;
        }
        Change::SessionDelete(client_id) => {
            for table in ["sessions", "subscriptions", "messages", "incoming_qos2"] {
                tx.prepare_cached(&format!("DELETE FROM {table} WHERE client_id = ?1"))?
                    .execute([&**client_id])?;
            }
        }
        Change::SubscriptionPut {
            client_id,
            filter,
            qos,
        } => {
            tx.prepare_cached("INSERT OR REPLACE INTO subscriptions VALUES (?1, ?2, ?3)")?
                .execute(params![&**client_id, filter.as_str(), *qos as i64])?;
        }
        Change::SubscriptionDelete { client_id, filter } => {
            tx.prepare_cached("DELETE FROM subscriptions WHERE client_id = ?1 AND filter = ?2")?
                .execute(params![&**client_id, filter.as_str()])?;
        }
        Change::MessagePut {
            client_id,
            seq,
            message,
            packet_id,
        } => {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO messages VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0)",
            )?
            .execute(params![
                &**client_id,
                seq_value(*seq),
                message.topic.as_str(),
                &message.payload[..],
                message.qos as i64,
                message.retain,
                packet_id,
            ])?;
        }
        Change::MessageSent {
            client_id,
            seq,
            packet_id,
        } => {
            tx.prepare_cached(
                "UPDATE messages SET packet_id = ?3 WHERE client_id = ?1 AND seq = ?2",
            )?
            .execute(params![&**client_id, seq_value(*seq), packet_id])?;
        }
        Change::MessageReleased { client_id, seq } => {
            tx.prepare_cached(
                "UPDATE messages SET released = 1 WHERE client_id = ?1 AND seq = ?2",
            )?
            .execute(params![&**client_id, seq_value(*seq)])?;
        }
        Change::MessageDelete { client_id, seq } => {
            tx.prepare_cached("DELETE FROM messages WHERE client_id = ?1 AND seq = ?2")?
                .execute(params![&**client_id, seq_value(*seq)])?;
        }
        Change::IncomingQos2Put {
            client_id,
            packet_id,
        } => {
            tx.prepare_cached("INSERT OR REPLACE INTO incoming_qos2 VALUES (?1, ?2)")?
                .execute(params![&**client_id, packet_id])?;
        }
        Change::IncomingQos2Delete {
            client_id,
            packet_id,
        } => {
            tx.prepare_cached("DELETE FROM incoming_qos2 WHERE client_id = ?1 AND packet_id = ?2")?
                .execute(params![&**client_id, packet_id])?;
        }
        // Nothing of SQLite's: a cluster's store is JetStream.
        Change::Forward { .. } => {}
    }
    Ok(())
}

/// The open database.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
}

fn qos(table: &'static str, value: i64) -> Result<QoS, StoreError> {
    u8::try_from(value)
        .ok()
        .and_then(QoS::from_u8)
        .ok_or(StoreError::Corrupt {
            table,
            detail: format!("QoS {value}"),
        })
}

fn topic(table: &'static str, value: &str) -> Result<TopicName, StoreError> {
    TopicName::new(value).map_err(|e| StoreError::Corrupt {
        table,
        detail: format!("topic {value:?}: {e}"),
    })
}

fn packet_id(table: &'static str, value: i64) -> Result<u16, StoreError> {
    u16::try_from(value)
        .ok()
        .filter(|v| *v != 0)
        .ok_or(StoreError::Corrupt {
            table,
            detail: format!("packet id {value}"),
        })
}

impl Store {
    /// Opens (creating if needed) the database in `dir`.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let conn = Connection::open(dir.join(DB_FILE))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // Every statement `apply` uses stays prepared.
        conn.set_prepared_statement_cache_capacity(32);
        conn.execute_batch(SCHEMA)?;
        Ok(Store { conn })
    }

    /// Sets how SQLite syncs its commits: `NORMAL` survives a crash of the process (`kill -9`),
    /// `FULL` also a power loss, at the cost of an fsync per commit.
    pub fn set_synchronous(&self, full: bool) -> Result<(), StoreError> {
        let mode = if full { "FULL" } else { "NORMAL" };
        self.conn.pragma_update(None, "synchronous", mode)?;
        Ok(())
    }

    /// Applies `changes` in order, in one transaction: all of them or none.
    pub fn apply<'a>(
        &mut self,
        changes: impl IntoIterator<Item = &'a Change>,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        for change in changes {
            apply_one(&tx, change)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Reads the stored state.
    pub fn load(&self) -> Result<Snapshot, StoreError> {
        let mut snapshot = Snapshot::default();
        let mut stmt = self
            .conn
            .prepare("SELECT topic, payload, qos FROM retained ORDER BY topic")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        for row in rows {
            let (t, payload, q) = row?;
            snapshot.retained.push(Message {
                topic: topic("retained", &t)?,
                payload: Bytes::from(payload),
                qos: qos("retained", q)?,
                retain: true,
                origin: None,
            });
        }
        let mut stmt = self.conn.prepare(
            "SELECT client_id, certificate_id, source_ip FROM sessions ORDER BY client_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        for row in rows {
            let (client_id, certificate_id, source_ip) = row?;
            snapshot.sessions.push(SessionSnapshot {
                subscriptions: self.subscriptions(&client_id)?,
                messages: self.messages(&client_id)?,
                incoming_qos2: self.incoming_qos2(&client_id)?,
                client_id,
                certificate_id,
                source_ip,
            });
        }
        Ok(snapshot)
    }

    fn subscriptions(&self, client_id: &str) -> Result<Vec<(TopicFilter, QoS)>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT filter, qos FROM subscriptions WHERE client_id = ?1 ORDER BY filter",
        )?;
        let rows = stmt.query_map([client_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (filter, q) = row?;
            let filter = TopicFilter::new(&filter).map_err(|e| StoreError::Corrupt {
                table: "subscriptions",
                detail: format!("filter {filter:?}: {e}"),
            })?;
            out.push((filter, qos("subscriptions", q)?));
        }
        Ok(out)
    }

    fn messages(&self, client_id: &str) -> Result<Vec<StoredMessage>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT topic, payload, qos, retain, packet_id, released, seq FROM messages
             WHERE client_id = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map([client_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, bool>(3)?,
                r.get::<_, Option<i64>>(4)?,
                r.get::<_, bool>(5)?,
                r.get::<_, i64>(6)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (t, payload, q, retain, pid, released, seq) = row?;
            out.push(StoredMessage {
                message: Message {
                    topic: topic("messages", &t)?,
                    payload: Bytes::from(payload),
                    qos: qos("messages", q)?,
                    retain,
                    origin: None,
                },
                packet_id: pid.map(|p| packet_id("messages", p)).transpose()?,
                released,
                seq: u64::try_from(seq).map_err(|_| StoreError::Corrupt {
                    table: "messages",
                    detail: format!("seq {seq}"),
                })?,
            });
        }
        Ok(out)
    }

    fn incoming_qos2(&self, client_id: &str) -> Result<Vec<u16>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT packet_id FROM incoming_qos2 WHERE client_id = ?1 ORDER BY packet_id",
        )?;
        let rows = stmt.query_map([client_id], |r| r.get::<_, i64>(0))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(packet_id("incoming_qos2", row?)?);
        }
        Ok(out)
    }
}

/// Opens `broker.db` for the rules' store action, creating its table:
/// `rule_rows(table_name, hash_key, range_key, payload)`, one row per (table, hash, range) as
/// DynamoDB's put replaces an item.
pub(crate) fn open_rule_store(dir: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(dir.join(DB_FILE))?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         CREATE TABLE IF NOT EXISTS rule_rows (
             table_name TEXT NOT NULL, hash_key TEXT NOT NULL, range_key TEXT NOT NULL,
             payload TEXT NOT NULL, PRIMARY KEY (table_name, hash_key, range_key));",
    )?;
    Ok(conn)
}
