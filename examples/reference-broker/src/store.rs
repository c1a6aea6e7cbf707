//! Persistence in SQLite (`broker.db` in the data directory): retained messages and persistent
//! sessions, saved as a whole snapshot in one transaction — periodically when something changed
//! and at shutdown, as mosquitto's `autosave_interval` does — and loaded at start.

use std::fmt;
use std::path::Path;

use bytes::Bytes;
use mqtt_wire::{QoS, TopicName};
use rusqlite::{Connection, params};

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
        conn.execute_batch(SCHEMA)?;
        Ok(Store { conn })
    }

    /// Replaces the stored state with `snapshot`, atomically.
    pub fn save(&mut self, snapshot: &Snapshot) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute_batch(
            "DELETE FROM retained; DELETE FROM sessions; DELETE FROM subscriptions;
             DELETE FROM messages; DELETE FROM incoming_qos2;",
        )?;
        {
            let mut insert = tx.prepare("INSERT INTO retained VALUES (?1, ?2, ?3)")?;
            for m in &snapshot.retained {
                insert.execute(params![m.topic.as_str(), &m.payload[..], m.qos as i64])?;
            }
            let mut session = tx.prepare("INSERT INTO sessions VALUES (?1, ?2, ?3)")?;
            let mut sub = tx.prepare("INSERT INTO subscriptions VALUES (?1, ?2, ?3)")?;
            let mut msg =
                tx.prepare("INSERT INTO messages VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")?;
            let mut q2 = tx.prepare("INSERT INTO incoming_qos2 VALUES (?1, ?2)")?;
            for s in &snapshot.sessions {
                session.execute(params![s.client_id, s.certificate_id, s.source_ip])?;
                for (filter, q) in &s.subscriptions {
                    sub.execute(params![s.client_id, filter, *q as i64])?;
                }
                for (seq, m) in s.messages.iter().enumerate() {
                    msg.execute(params![
                        s.client_id,
                        i64::try_from(seq).unwrap_or(i64::MAX),
                        m.message.topic.as_str(),
                        &m.message.payload[..],
                        m.message.qos as i64,
                        m.message.retain,
                        m.packet_id,
                        m.released,
                    ])?;
                }
                for pid in &s.incoming_qos2 {
                    q2.execute(params![s.client_id, pid])?;
                }
            }
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

    fn subscriptions(&self, client_id: &str) -> Result<Vec<(String, QoS)>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT filter, qos FROM subscriptions WHERE client_id = ?1 ORDER BY filter",
        )?;
        let rows = stmt.query_map([client_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (filter, q) = row?;
            mqtt_wire::TopicFilter::new(&filter).map_err(|e| StoreError::Corrupt {
                table: "subscriptions",
                detail: format!("filter {filter:?}: {e}"),
            })?;
            out.push((filter, qos("subscriptions", q)?));
        }
        Ok(out)
    }

    fn messages(&self, client_id: &str) -> Result<Vec<StoredMessage>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT topic, payload, qos, retain, packet_id, released FROM messages
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
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (t, payload, q, retain, pid, released) = row?;
            out.push(StoredMessage {
                message: Message {
                    topic: topic("messages", &t)?,
                    payload: Bytes::from(payload),
                    qos: qos("messages", q)?,
                    retain,
                },
                packet_id: pid.map(|p| packet_id("messages", p)).transpose()?,
                released,
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
