//! A small HTTP/1.1 server on httparse: one request per connection, strict limits, three
//! endpoints (`GET /healthz`, `GET /metrics`, `POST /sigfox` and `/sigfox/bidir`).

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

use crate::metrics::inc;
use crate::server::Shared;
use crate::sigfox::Reply;

/// Request line and headers, at most.
pub const MAX_HEAD: usize = 8 * 1024;
/// Request body, at most (Sigfox bodies are under 16 KiB).
pub const MAX_BODY: usize = 64 * 1024;
/// Headers, at most.
const MAX_HEADERS: usize = 32;
/// Time for the whole request to arrive.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Open HTTP connections, at most; more are closed at accept.
const MAX_CONNECTIONS: usize = 256;

pub(crate) async fn serve(shared: Arc<Shared>, listener: TcpListener) {
    let permits = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok((tcp, _peer)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            continue;
        };
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let _permit = permit;
            connection(&shared, tcp).await;
        });
    }
}

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

enum Parsed {
    Ok(Request),
    Bad(Reply),
}

async fn connection(shared: &Shared, mut tcp: TcpStream) {
    let reply = match timeout(READ_TIMEOUT, read_request(&mut tcp)).await {
        Ok(Some(Parsed::Ok(request))) => {
            let reply = route(shared, &request);
            // A 2xx promises what the request published: answer once it is committed.
            match shared.broker.persister() {
                Some(persist) if (200..300).contains(&reply.status) && !persist.flush().await => {
                    text(503, "the message could not be stored\n")
                }
                _ => reply,
            }
        }
        Ok(Some(Parsed::Bad(reply))) => reply,
        Ok(None) => return,
        Err(_) => text(408, "request timeout\n"),
    };
    inc(&shared.metrics.http_requests_total);
    let head = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        reply.status,
        reason(reply.status),
        reply.content_type,
        reply.body.len()
    );
    let write = async {
        tcp.write_all(head.as_bytes()).await?;
        tcp.write_all(reply.body.as_bytes()).await?;
        tcp.shutdown().await
    };
    let _ = timeout(READ_TIMEOUT, write).await;
}

fn text(status: u16, body: &str) -> Reply {
    Reply {
        status,
        content_type: "text/plain; charset=utf-8",
        body: body.to_owned(),
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "",
    }
}

/// Reads one request; `None` when the peer closed before sending one.
async fn read_request(tcp: &mut TcpStream) -> Option<Parsed> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    let (head_len, method, path, headers, content_length) = loop {
        let n = tcp.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(chunk.get(..n)?);
        let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut req = httparse::Request::new(&mut slots);
        match req.parse(&buf) {
            Ok(httparse::Status::Complete(len)) if len > MAX_HEAD => {
                return Some(Parsed::Bad(text(431, "request head too large\n")));
            }
            Ok(httparse::Status::Complete(len)) => {
                let method = req.method.unwrap_or_default().to_owned();
                let path = req.path.unwrap_or_default().to_owned();
                let mut headers = Vec::with_capacity(req.headers.len());
                let mut content_length: Option<usize> = None;
                for h in req.headers.iter() {
                    let name = h.name.to_ascii_lowercase();
                    let Ok(value) = std::str::from_utf8(h.value) else {
                        return Some(Parsed::Bad(text(400, "header value is not UTF-8\n")));
                    };
                    if name == "transfer-encoding" {
                        return Some(Parsed::Bad(text(
                            501,
                            "transfer-encoding is not supported; send content-length\n",
                        )));
                    }
                    if name == "content-length" {
                        // RFC 9112 §6.3: several differing lengths are an error.
                        let Ok(n) = value.trim().parse::<usize>() else {
                            return Some(Parsed::Bad(text(400, "invalid content-length\n")));
                        };
                        if content_length.is_some_and(|c| c != n) {
                            return Some(Parsed::Bad(text(400, "conflicting content-length\n")));
                        }
                        content_length = Some(n);
                    }
                    headers.push((name, value.to_owned()));
                }
                break (len, method, path, headers, content_length);
            }
            Ok(httparse::Status::Partial) => {
                if buf.len() > MAX_HEAD {
                    return Some(Parsed::Bad(text(431, "request head too large\n")));
                }
            }
            Err(httparse::Error::TooManyHeaders) => {
                return Some(Parsed::Bad(text(431, "too many headers\n")));
            }
            Err(e) => return Some(Parsed::Bad(text(400, &format!("malformed request: {e}\n")))),
        }
    };
    let length = content_length.unwrap_or(0);
    if length > MAX_BODY {
        return Some(Parsed::Bad(text(413, "body too large\n")));
    }
    let mut body = buf.get(head_len..).map(<[u8]>::to_vec).unwrap_or_default();
    while body.len() < length {
        let n = tcp.read(&mut chunk).await.ok()?;
        if n == 0 {
            return Some(Parsed::Bad(text(400, "body shorter than content-length\n")));
        }
        body.extend_from_slice(chunk.get(..n)?);
    }
    body.truncate(length);
    Some(Parsed::Ok(Request {
        method,
        path,
        headers,
        body,
    }))
}

fn route(shared: &Shared, request: &Request) -> Reply {
    let path = request.path.split('?').next().unwrap_or_default();
    match (request.method.as_str(), path) {
        ("GET", "/healthz") => match &shared.cluster {
            None => text(200, "ok\n"),
            Some(c) if c.connected() => text(
                200,
                &format!("ok\ncluster: node {} connected to NATS\n", c.node_name()),
            ),
            Some(c) => text(
                503,
                &format!("cluster: node {} not connected to NATS\n", c.node_name()),
            ),
        },
        ("GET", "/metrics") => {
            crate::metrics::set(
                &shared.metrics.sessions_current,
                shared.broker.session_count(),
            );
            Reply {
                status: 200,
                content_type: "text/plain; version=0.0.4",
                body: {
                    let mut body = shared.metrics.render();
                    body.push_str(&shared.rules.metrics.render());
                    body
                },
            }
        }
        ("POST", "/sigfox" | "/sigfox/bidir") => match &shared.sigfox {
            Some(ingest) => ingest.handle(
                shared,
                path == "/sigfox/bidir",
                &request.headers,
                &request.body,
            ),
            None => text(404, "the sigfox endpoint is disabled\n"),
        },
        (_, "/healthz" | "/metrics" | "/sigfox" | "/sigfox/bidir") => {
            text(405, "method not allowed\n")
        }
        _ => text(404, "not found\n"),
    }
}
