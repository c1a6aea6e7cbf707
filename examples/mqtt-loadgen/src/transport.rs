//! Connections: TCP from a chosen 127.0.0.x source address, optionally TLS with a client
//! certificate, and MQTT packets through mqtt-wire's `MqttCodec`.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use mqtt_wire::{
    CodecError, ConnAck, Connect, ConnectReturnCode, DecodeOptions, MqttCodec, MqttString, Packet,
};
use rustls::ClientConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::net::TcpSocket;
use tokio_util::codec::{Decoder, Encoder};

use crate::options::TlsFiles;

/// The largest packet accepted from the broker (the payload limit plus headers).
pub const MAX_PACKET: usize = crate::options::limits::MAX_PAYLOAD + 1024;

/// A byte stream: plain TCP or TLS.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Why a connection could not be made or went away.
#[derive(Debug)]
pub enum ConnError {
    /// The TLS files could not be read or used.
    TlsSetup(String),
    /// TCP connect (or binding the source address) failed.
    Tcp(std::io::Error),
    /// The TLS handshake failed.
    Handshake(std::io::Error),
    /// The broker answered CONNECT with a refusal.
    Refused(ConnectReturnCode),
    /// The broker sent something other than the expected packet.
    Unexpected(&'static str),
    /// The broker closed the connection.
    Closed,
    /// Reading, writing or decoding failed.
    Codec(CodecError),
    /// A client id that MQTT cannot carry.
    ClientId(String),
}

impl fmt::Display for ConnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnError::TlsSetup(s) => write!(f, "TLS setup: {s}"),
            ConnError::Tcp(e) => write!(f, "TCP connect: {e}"),
            ConnError::Handshake(e) => write!(f, "TLS handshake: {e}"),
            ConnError::Refused(c) => write!(f, "CONNECT refused with {c:?}"),
            ConnError::Unexpected(what) => write!(f, "unexpected packet: {what}"),
            ConnError::Closed => f.write_str("the broker closed the connection"),
            ConnError::Codec(e) => write!(f, "{e}"),
            ConnError::ClientId(s) => write!(f, "client id {s:?} is not a valid MQTT string"),
        }
    }
}

impl std::error::Error for ConnError {}

impl From<CodecError> for ConnError {
    fn from(e: CodecError) -> Self {
        ConnError::Codec(e)
    }
}

/// How to reach the broker.
#[derive(Clone)]
pub struct Connector {
    brokers: Vec<SocketAddr>,
    tls: Option<(tokio_rustls::TlsConnector, ServerName<'static>)>,
}

impl fmt::Debug for Connector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connector")
            .field("brokers", &self.brokers)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

impl Connector {
    /// A connector to `brokers` (connection `n` to the one at `n mod count`), with mutual TLS
    /// if `tls` names the files.
    pub fn new(brokers: Vec<SocketAddr>, tls: Option<&TlsFiles>) -> Result<Connector, ConnError> {
        let tls = match tls {
            None => None,
            Some(files) => Some(tls_connector(files)?),
        };
        if brokers.is_empty() {
            return Err(ConnError::Unexpected("no broker address"));
        }
        Ok(Connector { brokers, tls })
    }

    /// The broker of connection `n`: the one at `n mod count`.
    pub fn broker(&self, n: u64) -> SocketAddr {
        let count = u64::try_from(self.brokers.len()).unwrap_or(1).max(1);
        let i = usize::try_from(n.checked_rem(count).unwrap_or(0)).unwrap_or(0);
        self.brokers
            .get(i)
            .copied()
            .unwrap_or(SocketAddr::from((Ipv4Addr::LOCALHOST, 1883)))
    }

    /// Opens connection `n`'s byte stream from `source` (port chosen by the kernel) to its
    /// broker: TCP, then the TLS handshake if configured.
    pub async fn open(&self, n: u64, source: Ipv4Addr) -> Result<Box<dyn Io>, ConnError> {
        let broker = self.broker(n);
        let socket = TcpSocket::new_v4().map_err(ConnError::Tcp)?;
        // Binding the source address before connect is what lets one machine open more than
        // 64k connections to one broker port: each 127.0.0.x has its own ephemeral ports.
        if !source.is_unspecified() && broker.ip().is_loopback() {
            socket
                .bind(SocketAddr::from((source, 0)))
                .map_err(ConnError::Tcp)?;
        }
        let tcp = socket.connect(broker).await.map_err(ConnError::Tcp)?;
        let _ = tcp.set_nodelay(true);
        match &self.tls {
            None => Ok(Box::new(tcp)),
            Some((connector, name)) => {
                let stream = connector
                    .connect(name.clone(), tcp)
                    .await
                    .map_err(ConnError::Handshake)?;
                Ok(Box::new(stream))
            }
        }
    }
}

fn tls_connector(
    files: &TlsFiles,
) -> Result<(tokio_rustls::TlsConnector, ServerName<'static>), ConnError> {
    let setup = |what: &str, path: &std::path::Path, e: &dyn fmt::Display| {
        ConnError::TlsSetup(format!("{what} {}: {e}", path.display()))
    };
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(&files.ca).map_err(|e| setup("CA", &files.ca, &e))? {
        let cert = cert.map_err(|e| setup("CA", &files.ca, &e))?;
        roots.add(cert).map_err(|e| setup("CA", &files.ca, &e))?;
    }
    let chain = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| setup("certificate", &files.cert, &e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| setup("certificate", &files.cert, &e))?;
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| setup("key", &files.key, &e))?;
    let mut config = ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| ConnError::TlsSetup(e.to_string()))?
    .with_root_certificates(roots)
    .with_client_auth_cert(chain, key)
    .map_err(|e| setup("certificate and key", &files.cert, &e))?;
    // Every connection makes a full handshake with client-certificate verification: the
    // seed's bottleneck was that authentication rate, which resumption would hide.
    config.resumption = rustls::client::Resumption::disabled();
    let name = ServerName::try_from(files.server_name.clone())
        .map_err(|e| ConnError::TlsSetup(format!("server name {:?}: {e}", files.server_name)))?;
    Ok((tokio_rustls::TlsConnector::from(Arc::new(config)), name))
}

/// The reading side of an MQTT connection.
pub struct PacketReader<R> {
    io: R,
    buf: BytesMut,
    codec: MqttCodec,
}

impl<R: AsyncRead + Unpin> PacketReader<R> {
    /// Reads from `io` with a small initial buffer (it grows only for large packets).
    pub fn new(io: R) -> Self {
        PacketReader {
            io,
            buf: BytesMut::with_capacity(256),
            codec: MqttCodec::new(DecodeOptions::client().with_max_packet_size(MAX_PACKET)),
        }
    }

    /// A packet already in the buffer, without reading.
    pub fn buffered(&mut self) -> Result<Option<Packet>, ConnError> {
        Ok(self.codec.decode(&mut self.buf)?)
    }

    /// The next packet; `Closed` at end of stream.
    pub async fn next(&mut self) -> Result<Packet, ConnError> {
        loop {
            if let Some(p) = self.codec.decode(&mut self.buf)? {
                return Ok(p);
            }
            if self.buf.capacity().saturating_sub(self.buf.len()) < 64 {
                self.buf.reserve(1024);
            }
            let n = self
                .io
                .read_buf(&mut self.buf)
                .await
                .map_err(|e| ConnError::Codec(CodecError::Io(e)))?;
            if n == 0 {
                return Err(ConnError::Closed);
            }
        }
    }
}

/// The longest the end of a run waits for one connection to close.
pub const CLOSE_LIMIT: Duration = Duration::from_secs(5);

/// The writing side of an MQTT connection: packets are encoded into a buffer and written
/// together by `flush`.
pub struct PacketWriter<W> {
    io: W,
    buf: BytesMut,
    codec: MqttCodec,
}

impl<W: AsyncWrite + Unpin> PacketWriter<W> {
    /// Writes to `io`.
    pub fn new(io: W) -> Self {
        PacketWriter {
            io,
            buf: BytesMut::with_capacity(128),
            codec: MqttCodec::new(DecodeOptions::client()),
        }
    }

    /// Encodes a packet into the buffer.
    pub fn queue(&mut self, packet: Packet) -> Result<(), ConnError> {
        Ok(self.codec.encode(packet, &mut self.buf)?)
    }

    /// Bytes waiting in the buffer.
    pub fn queued_bytes(&self) -> usize {
        self.buf.len()
    }

    /// Writes the buffer out.
    pub async fn flush(&mut self) -> Result<(), ConnError> {
        let result = self.io.write_all(&self.buf).await;
        self.buf.clear();
        result.map_err(|e| ConnError::Codec(CodecError::Io(e)))?;
        self.io
            .flush()
            .await
            .map_err(|e| ConnError::Codec(CodecError::Io(e)))
    }

    /// Encodes and writes one packet.
    pub async fn send(&mut self, packet: Packet) -> Result<(), ConnError> {
        self.queue(packet)?;
        self.flush().await
    }

    /// Closes the write side (TLS close_notify, TCP FIN).
    pub async fn shutdown(&mut self) {
        let _ = self.io.shutdown().await;
    }

    /// Sends DISCONNECT and closes the write side, giving up after [`CLOSE_LIMIT`] (a peer
    /// that stopped reading would hold the write for ever).
    pub async fn close(&mut self) {
        let _ = tokio::time::timeout(CLOSE_LIMIT, async {
            let _ = self.send(Packet::Disconnect).await;
            self.shutdown().await;
        })
        .await;
    }
}

/// An MQTT session over one stream, split into its two directions.
pub type Halves = (
    PacketReader<ReadHalf<Box<dyn Io>>>,
    PacketWriter<WriteHalf<Box<dyn Io>>>,
);

/// Sends CONNECT (clean session) and waits for CONNACK; a refusal is an error.
pub async fn handshake(
    io: Box<dyn Io>,
    client_id: &str,
    keep_alive: u16,
) -> Result<Halves, ConnError> {
    handshake_session(io, client_id, keep_alive, true).await
}

/// As [`handshake`], with clean session 0 when `clean` is false.
pub async fn handshake_session(
    io: Box<dyn Io>,
    client_id: &str,
    keep_alive: u16,
    clean: bool,
) -> Result<Halves, ConnError> {
    let (r, w) = tokio::io::split(io);
    let mut reader = PacketReader::new(r);
    let mut writer = PacketWriter::new(w);
    let id = MqttString::new(client_id).map_err(|_| ConnError::ClientId(client_id.to_owned()))?;
    let mut connect = Connect::new(id, keep_alive);
    connect.clean_session = clean;
    writer.send(Packet::from(connect)).await?;
    match reader.next().await? {
        Packet::ConnAck(ConnAck {
            code: ConnectReturnCode::Accepted,
            ..
        }) => Ok((reader, writer)),
        Packet::ConnAck(ConnAck { code, .. }) => Err(ConnError::Refused(code)),
        _ => Err(ConnError::Unexpected("not a CONNACK after CONNECT")),
    }
}
