//! The node's routing subscriptions (one NATS subscription per subject its clients' filters
//! need) on a NATS connection of their own, read into one queue.
//!
//! Why not async-nats' `subscribe`: it gives every subscription a channel whose first block
//! is allocated at once (~5 KB resident per subscription, measured), and a node holds one
//! subscription per distinct filter of its clients — one per agent in the seed's fleet, so
//! ~2.5 GB at 500,000 agents. Here a subscription costs its subject and an id. async-nats
//! stays the client for everything else (publishing, JetStream, requests); this connection
//! only subscribes and reads, with NATS's text protocol (CONNECT, SUB, UNSUB, PING; INFO,
//! MSG, PING, PONG, +OK, -ERR from the server).
//!
//! A round trip (PING, answered by PONG in order) confirms that the server has every SUB sent
//! before it: what a SUBACK waits for. When the connection is lost it reconnects, sends every
//! SUB again and, once the server has them (PONG), says so; a lost connection is a gap in what
//! the node received (`Gaps`), which the cluster link closes by reading the message log.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};

/// The longest protocol line read (an INFO may carry a long server list).
const MAX_LINE: usize = 64 * 1024;
/// The largest message payload accepted (nats-server's default `max_payload` is 1 MiB).
const MAX_PAYLOAD: usize = 8 * 1024 * 1024;
/// Messages read ahead of the node's reader; beyond, reading waits (and the server, whose
/// buffer for this connection then fills, eventually drops it: a gap, read from the log).
pub(crate) const QUEUE: usize = 64 * 1024;
/// The wait between connection attempts once the first few have failed.
const LONGEST_RETRY: Duration = Duration::from_secs(1);
/// Waits between connection attempts, growing up to the longest.
const RETRY: [Duration; 5] = [
    Duration::from_millis(50),
    Duration::from_millis(100),
    Duration::from_millis(250),
    Duration::from_millis(500),
    LONGEST_RETRY,
];

/// A message as the server delivered it: its subject and payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Delivery {
    pub(crate) subject: String,
    pub(crate) payload: Bytes,
}

/// What the node asks of its routing connection.
#[derive(Debug)]
enum Command {
    Subscribe(String),
    Unsubscribe(String),
    RoundTrip(oneshot::Sender<()>),
}

/// Where a server for the routing connection is.
#[derive(Debug, Clone)]
pub(crate) struct Server {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) user: Option<(String, String)>,
}

/// What the connection tells the rest of the node about itself.
pub(crate) trait Link: Send + Sync + 'static {
    /// The connection is lost: messages may have passed the node by.
    fn lost(&self);
    /// The connection is back and the server has every subscription again.
    fn restored(&self);
}

/// The handle the node keeps: subscribe, unsubscribe, round trips.
#[derive(Debug, Clone)]
pub(crate) struct Routes {
    commands: mpsc::UnboundedSender<Command>,
    connected: Arc<AtomicBool>,
}

impl Routes {
    /// Connects to the first of `servers` that answers and starts the connection's task;
    /// messages go to `deliveries`. Fails when no server answers at all.
    pub(crate) async fn start(
        servers: Vec<Server>,
        name: String,
        deliveries: mpsc::Sender<Delivery>,
        link: Arc<dyn Link>,
    ) -> Result<Routes, String> {
        let mut connection = Connection::open(&servers, &name).await?;
        let (commands, rx) = mpsc::unbounded_channel();
        let connected = Arc::new(AtomicBool::new(true));
        let routes = Routes {
            commands,
            connected: Arc::clone(&connected),
        };
        let mut state = State {
            servers,
            name,
            subjects: HashMap::new(),
            next_sid: 1,
            waiting: VecDeque::new(),
            unanswered: Vec::new(),
            deliveries,
            link,
            connected,
        };
        tokio::spawn(async move {
            let mut rx = rx;
            loop {
                let ended = state.serve(&mut connection, &mut rx).await;
                if !ended {
                    return; // the node is gone
                }
                state.connected.store(false, Ordering::Release);
                state.link.lost();
                // Round trips sent on the lost connection are answered on the next one.
                for pending in state.waiting.drain(..) {
                    if let Pending::Caller(done) = pending {
                        state.unanswered.push(done);
                    }
                }
                connection = match state.reconnect(&mut rx).await {
                    Some(c) => c,
                    None => return,
                };
            }
        });
        Ok(routes)
    }

    /// Subscribes to `subject` (the caller counts references: one call per subject).
    pub(crate) fn subscribe(&self, subject: String) {
        let _ = self.commands.send(Command::Subscribe(subject));
    }

    /// Ends the subscription to `subject`.
    pub(crate) fn unsubscribe(&self, subject: String) {
        let _ = self.commands.send(Command::Unsubscribe(subject));
    }

    /// Waits until the server has every subscription asked for before this call.
    pub(crate) async fn round_trip(&self) {
        let (tx, rx) = oneshot::channel();
        if self.commands.send(Command::RoundTrip(tx)).is_ok() {
            let _ = rx.await;
        }
    }

    /// Whether the connection is up and the server has every subscription.
    pub(crate) fn connected(&self) -> bool {
        self.connected.load(Ordering::Acquire)
    }
}

/// What a PONG answers.
enum Pending {
    /// A caller's round trip.
    Caller(oneshot::Sender<()>),
    /// The subscriptions sent again on a new connection.
    Restore,
}

/// The connection's task state, kept across reconnections.
struct State {
    servers: Vec<Server>,
    name: String,
    /// Subject → subscription id.
    subjects: HashMap<String, u64>,
    next_sid: u64,
    /// What each PING on the wire is for, in order.
    waiting: VecDeque<Pending>,
    /// Round trips to answer once a new connection has every subscription.
    unanswered: Vec<oneshot::Sender<()>>,
    deliveries: mpsc::Sender<Delivery>,
    link: Arc<dyn Link>,
    connected: Arc<AtomicBool>,
}

impl State {
    /// Serves one connection until it fails (`true`) or the node is gone (`false`).
    async fn serve(
        &mut self,
        connection: &mut Connection,
        rx: &mut mpsc::UnboundedReceiver<Command>,
    ) -> bool {
        loop {
            tokio::select! {
                command = rx.recv() => {
                    let Some(command) = command else { return false };
                    self.command(connection, command);
                    // Whatever else is waiting goes out in the same write.
                    while let Ok(command) = rx.try_recv() {
                        self.command(connection, command);
                    }
                    if connection.flush().await.is_err() {
                        return true;
                    }
                }
                read = connection.read() => {
                    if read.is_err() {
                        return true;
                    }
                    loop {
                        match connection.next_op() {
                            Ok(Some(Op::Msg(delivery))) => {
                                if self.deliveries.send(delivery).await.is_err() {
                                    return false;
                                }
                            }
                            Ok(Some(Op::Ping)) => connection.queue(b"PONG\r\n"),
                            Ok(Some(Op::Pong)) => match self.waiting.pop_front() {
                                Some(Pending::Caller(done)) => {
                                    let _ = done.send(());
                                }
                                Some(Pending::Restore) => self.restored(),
                                None => {}
                            },
                            Ok(Some(Op::Error(e))) => {
                                tracing::warn!(error = %e, "cluster: routing connection: NATS says");
                            }
                            Ok(Some(Op::Other)) => {}
                            Ok(None) => break,
                            Err(e) => {
                                tracing::warn!(error = %e, "cluster: routing connection lost");
                                return true;
                            }
                        }
                    }
                    if connection.flush().await.is_err() {
                        return true;
                    }
                }
            }
        }
    }

    fn command(&mut self, connection: &mut Connection, command: Command) {
        match command {
            Command::Subscribe(subject) => {
                if self.subjects.contains_key(&subject) {
                    return;
                }
                let sid = self.next_sid;
                self.next_sid = self.next_sid.saturating_add(1);
                connection.queue_sub(&subject, sid);
                self.subjects.insert(subject, sid);
            }
            Command::Unsubscribe(subject) => {
                if let Some(sid) = self.subjects.remove(&subject) {
                    connection.queue(format!("UNSUB {sid}\r\n").as_bytes());
                }
            }
            Command::RoundTrip(done) => {
                connection.queue(b"PING\r\n");
                self.waiting.push_back(Pending::Caller(done));
            }
        }
    }

    /// Connects again (waiting between attempts) and sends every subscription, then a PING
    /// whose PONG restores the link. Commands that come meanwhile are applied to the state
    /// and go out with the subscriptions. `None`: the node is gone.
    async fn reconnect(&mut self, rx: &mut mpsc::UnboundedReceiver<Command>) -> Option<Connection> {
        let mut attempt = 0usize;
        loop {
            let wait = RETRY.get(attempt).copied().unwrap_or(LONGEST_RETRY);
            attempt = attempt.saturating_add(1);
            let sleep = tokio::time::sleep(wait);
            tokio::pin!(sleep);
            // Keep the state current while waiting.
            loop {
                tokio::select! {
                    () = &mut sleep => break,
                    command = rx.recv() => match command {
                        None => return None,
                        Some(Command::Subscribe(subject)) => {
                            if !self.subjects.contains_key(&subject) {
                                let sid = self.next_sid;
                                self.next_sid = self.next_sid.saturating_add(1);
                                self.subjects.insert(subject, sid);
                            }
                        }
                        Some(Command::Unsubscribe(subject)) => {
                            self.subjects.remove(&subject);
                        }
                        Some(Command::RoundTrip(done)) => self.unanswered.push(done),
                    },
                }
            }
            let Ok(mut connection) = Connection::open(&self.servers, &self.name).await else {
                continue;
            };
            for (subject, sid) in &self.subjects {
                connection.queue_sub(subject, *sid);
            }
            // Until its PONG, messages are read and delivered as usual (the node holds them
            // while its gap is open); the PONG says the server has every subscription.
            connection.queue(b"PING\r\n");
            if connection.flush().await.is_err() {
                continue;
            }
            self.waiting.push_back(Pending::Restore);
            return Some(connection);
        }
    }

    /// The server has every subscription again.
    fn restored(&mut self) {
        self.connected.store(true, Ordering::Release);
        for done in self.unanswered.drain(..) {
            let _ = done.send(());
        }
        self.link.restored();
        tracing::info!("cluster: routing connection to NATS restored");
    }
}

/// A server operation read from the connection.
#[derive(Debug, PartialEq, Eq)]
enum Op {
    Msg(Delivery),
    Ping,
    Pong,
    Error(String),
    /// INFO, +OK: nothing to do.
    Other,
}

/// One TCP connection to a NATS server, after its CONNECT.
struct Connection {
    stream: TcpStream,
    input: BytesMut,
    output: Vec<u8>,
}

impl Connection {
    /// Connects to the first server that answers and introduces itself.
    async fn open(servers: &[Server], name: &str) -> Result<Connection, String> {
        let mut last = String::from("no NATS server given");
        for server in servers {
            match Connection::open_one(server, name).await {
                Ok(c) => return Ok(c),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    async fn open_one(server: &Server, name: &str) -> Result<Connection, String> {
        let at = format!("{}:{}", server.host, server.port);
        let connect = TcpStream::connect(&at);
        let stream = tokio::time::timeout(Duration::from_secs(5), connect)
            .await
            .map_err(|_| format!("{at}: timed out"))?
            .map_err(|e| format!("{at}: {e}"))?;
        let _ = stream.set_nodelay(true);
        let mut connection = Connection {
            stream,
            input: BytesMut::with_capacity(64 * 1024),
            output: Vec::new(),
        };
        // The server speaks first: INFO.
        let info = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                if let Some(op) = connection.next_op()? {
                    return Ok(op);
                }
                connection.read().await.map_err(|e| e.to_string())?;
            }
        })
        .await
        .map_err(|_| format!("{at}: no INFO"))?
        .map_err(|e: String| format!("{at}: {e}"))?;
        if info != Op::Other {
            return Err(format!("{at}: expected INFO, got {info:?}"));
        }
        let mut hello = serde_json::Map::new();
        let fields = serde_json::json!({
            "verbose": false,
            "pedantic": false,
            "lang": "rust",
            "version": env!("CARGO_PKG_VERSION"),
            "protocol": 1,
            "name": name,
            "echo": true,
            "headers": false,
        });
        if let serde_json::Value::Object(fields) = fields {
            hello.extend(fields);
        }
        if let Some((user, pass)) = &server.user {
            hello.insert("user".to_owned(), user.clone().into());
            hello.insert("pass".to_owned(), pass.clone().into());
        }
        let hello = serde_json::Value::Object(hello);
        // A round trip before anything else: a refusal (-ERR, authorization) shows here.
        connection.queue(format!("CONNECT {hello}\r\nPING\r\n").as_bytes());
        connection.flush().await.map_err(|e| format!("{at}: {e}"))?;
        tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match connection.next_op()? {
                    Some(Op::Pong) => return Ok(()),
                    Some(Op::Error(e)) => return Err(format!("NATS says {e}")),
                    Some(Op::Ping) => connection.queue(b"PONG\r\n"),
                    Some(_) => {}
                    None => connection.read().await.map_err(|e| e.to_string())?,
                }
            }
        })
        .await
        .map_err(|_| format!("{at}: no answer to CONNECT"))?
        .map_err(|e: String| format!("{at}: {e}"))?;
        Ok(connection)
    }

    fn queue(&mut self, bytes: &[u8]) {
        self.output.extend_from_slice(bytes);
    }

    fn queue_sub(&mut self, subject: &str, sid: u64) {
        self.queue(format!("SUB {subject} {sid}\r\n").as_bytes());
    }

    async fn flush(&mut self) -> std::io::Result<()> {
        if self.output.is_empty() {
            return Ok(());
        }
        let result = self.stream.write_all(&self.output).await;
        self.output.clear();
        result
    }

    /// Reads what the server sent; an error at the end of the stream.
    async fn read(&mut self) -> std::io::Result<()> {
        if self.input.capacity().saturating_sub(self.input.len()) < 4096 {
            self.input.reserve(64 * 1024);
        }
        match self.stream.read_buf(&mut self.input).await? {
            0 => Err(std::io::ErrorKind::UnexpectedEof.into()),
            _ => Ok(()),
        }
    }

    fn next_op(&mut self) -> Result<Option<Op>, String> {
        parse_op(&mut self.input)
    }
}

/// The next complete server operation in `input` (consumed), `None` if incomplete. An
/// operation this side cannot take (too long, malformed) is an error: the connection is
/// dropped and made again.
fn parse_op(input: &mut BytesMut) -> Result<Option<Op>, String> {
    let Some(end) = input.windows(2).position(|w| w == b"\r\n") else {
        if input.len() > MAX_LINE {
            return Err("protocol line too long".to_owned());
        }
        return Ok(None);
    };
    if end > MAX_LINE {
        return Err("protocol line too long".to_owned());
    }
    let line = std::str::from_utf8(input.get(..end).unwrap_or_default())
        .map_err(|_| "protocol line not UTF-8".to_owned())?;
    let mut words = line.split_ascii_whitespace();
    let verb = words.next().unwrap_or_default().to_ascii_uppercase();
    let op = match verb.as_str() {
        "MSG" => {
            // MSG <subject> <sid> [reply-to] <#bytes>
            let args: Vec<&str> = words.collect();
            let (subject, size) = match args.as_slice() {
                [subject, _sid, size] | [subject, _sid, _, size] => (*subject, *size),
                _ => return Err(format!("malformed MSG line {line:?}")),
            };
            let size: usize = size
                .parse()
                .map_err(|_| format!("malformed MSG size {size:?}"))?;
            if size > MAX_PAYLOAD {
                return Err(format!("a message of {size} bytes"));
            }
            let total = end.saturating_add(2).saturating_add(size).saturating_add(2);
            if input.len() < total {
                input.reserve(total.saturating_sub(input.len()));
                return Ok(None);
            }
            let subject = subject.to_owned();
            input.advance(end.saturating_add(2));
            let payload = input.split_to(size).freeze();
            if input.get(..2) != Some(b"\r\n") {
                return Err("MSG payload not followed by CRLF".to_owned());
            }
            input.advance(2);
            return Ok(Some(Op::Msg(Delivery { subject, payload })));
        }
        "PING" => Op::Ping,
        "PONG" => Op::Pong,
        "-ERR" => Op::Error(line.get(4..).unwrap_or_default().trim().to_owned()),
        "INFO" | "+OK" => Op::Other,
        _ => return Err(format!("unexpected {line:?}")),
    };
    input.advance(end.saturating_add(2));
    Ok(Some(op))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)] // Test code.
mod tests {
    use super::*;

    fn ops(bytes: &[u8]) -> Result<Vec<Op>, String> {
        let mut input = BytesMut::from(bytes);
        let mut out = Vec::new();
        while let Some(op) = parse_op(&mut input)? {
            out.push(op);
        }
        Ok(out)
    }

    fn msg(subject: &str, payload: &[u8]) -> Op {
        Op::Msg(Delivery {
            subject: subject.to_owned(),
            payload: Bytes::copy_from_slice(payload),
        })
    }

    #[test]
    fn every_server_operation_is_read() {
        let got = ops(b"INFO {\"server_id\":\"x\"}\r\n+OK\r\nPING\r\nPONG\r\n\
              MSG a.b 7 5\r\nhello\r\nMSG a.c 8 _INBOX.1 0\r\n\r\n\
              -ERR 'Unknown Protocol Operation'\r\nmsg low 1 2\r\nhi\r\n")
        .unwrap();
        assert_eq!(
            got,
            [
                Op::Other,
                Op::Other,
                Op::Ping,
                Op::Pong,
                msg("a.b", b"hello"),
                msg("a.c", b""),
                Op::Error("'Unknown Protocol Operation'".to_owned()),
                msg("low", b"hi"),
            ]
        );
    }

    #[test]
    fn a_payload_may_hold_crlf_and_arrive_in_pieces() {
        let whole = b"MSG s 1 6\r\na\r\nb\r\n\r\nPONG\r\n";
        for cut in 0..whole.len() {
            let mut input = BytesMut::from(&whole[..cut]);
            let mut got = Vec::new();
            while let Some(op) = parse_op(&mut input).unwrap() {
                got.push(op);
            }
            input.extend_from_slice(&whole[cut..]);
            while let Some(op) = parse_op(&mut input).unwrap() {
                got.push(op);
            }
            assert_eq!(got, [msg("s", b"a\r\nb\r\n"), Op::Pong], "cut at {cut}");
            assert!(input.is_empty());
        }
    }

    #[test]
    fn what_this_side_cannot_take_is_an_error() {
        assert_eq!(
            ops(b"MSG s 1\r\n").unwrap_err(),
            "malformed MSG line \"MSG s 1\""
        );
        assert_eq!(
            ops(b"MSG s 1 x\r\n").unwrap_err(),
            "malformed MSG size \"x\""
        );
        assert_eq!(
            ops(b"MSG s 1 9000000\r\n").unwrap_err(),
            "a message of 9000000 bytes"
        );
        assert_eq!(
            ops(b"MSG s 1 2\r\nhiXX").unwrap_err(),
            "MSG payload not followed by CRLF"
        );
        assert_eq!(ops(b"HELLO\r\n").unwrap_err(), "unexpected \"HELLO\"");
        let long = vec![b'x'; MAX_LINE + 1];
        assert_eq!(ops(&long).unwrap_err(), "protocol line too long");
        // Incomplete is not an error.
        assert_eq!(ops(b"MSG s 1 5\r\nhel").unwrap(), []);
        assert_eq!(ops(b"PI").unwrap(), []);
    }
}
