//! Decodes MQTT 3.1.1 bytes given as hex and prints one JSON object per packet.
//!
//! ```text
//! cargo run -q -p mqtt-wire --example mqtt-inspect -- [--role server|client] HEX...
//! cargo run -q -p mqtt-wire --example mqtt-inspect -- [--role server|client] - < dump.hex
//! ```
//!
//! The hex may be split across arguments and may contain whitespace, in either case; a single
//! `-` reads it from stdin. All bytes form ONE stream, decoded with `mqtt_wire::decode` by a
//! server (the default: it accepts what clients send) or a client (`--role client`), with the
//! largest frame MQTT allows. Each line of stdout is one JSON object; keys are sorted
//! alphabetically (whether or not serde_json's `preserve_order` feature is on):
//!
//! - every packet: `type`, the specification's name (`"PUBLISH"`, `"PINGREQ"`, ...);
//! - CONNECT: `clean_session`, `client_id`, `keep_alive`, `password_hex` (or null), `username`
//!   (or null), `will` (null or `{payload_hex, qos, retain, topic}`);
//! - CONNACK: `return_code` (a number), `return_code_name` (e.g. `"Accepted"`),
//!   `session_present`;
//! - PUBLISH: `dup`, `packet_id` (QoS 1 and 2 only), `payload_hex`, `qos`, `retain`, `topic`;
//! - PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK: `packet_id`;
//! - SUBSCRIBE: `filters` (`[{filter, qos}]`), `packet_id`;
//! - SUBACK: `packet_id`, `return_codes` (numbers: 0, 1, 2 or 128);
//! - UNSUBSCRIBE: `filters` (strings), `packet_id`;
//! - a malformed packet: `error` (the `DecodeErrorKind` variant), `message`, `offset` (of the
//!   byte at fault from the start of the whole stream), `rule` (the clause of MQTT 3.1.1);
//! - bytes ending inside a packet: `{"incomplete":true}`.
//!
//! Exit status: 0 when every byte was decoded (also for no bytes at all), 1 after a malformed
//! packet, 2 when the bytes end inside a packet, 64 for a usage error (unknown option, invalid
//! hex), 74 when stdin cannot be read or stdout cannot be written.

use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::process::ExitCode;

use bytes::BytesMut;
use mqtt_wire::{DecodeError, DecodeOptions, MAX_REMAINING_LENGTH, Packet, Role, decode};
use serde_json::{Value, json};

const USAGE: &str = "\
Usage: mqtt-inspect [--role server|client] HEX...
       mqtt-inspect [--role server|client] -      (hex read from stdin)

Decodes the bytes as one MQTT 3.1.1 stream and prints one JSON object per packet.
  --role server   decode what clients send (default)
  --role client   decode what servers send
  --help          print this help
Exit status: 0 all decoded, 1 malformed packet, 2 incomplete packet, 64 usage error.";

/// Exit status for a command-line usage error (sysexits.h `EX_USAGE`).
const EXIT_USAGE: u8 = 64;
/// Exit status when stdin or stdout fails (sysexits.h `EX_IOERR`).
const EXIT_IO: u8 = 74;

/// What the command line asks for.
enum Command {
    Help,
    Inspect { role: Role, input: Input },
}

/// Where the hex text comes from.
enum Input {
    Args(String),
    Stdin,
}

/// How decoding the stream ended.
enum Outcome {
    Complete,
    Malformed,
    Incomplete,
}

impl Outcome {
    fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            Outcome::Complete => 0,
            Outcome::Malformed => 1,
            Outcome::Incomplete => 2,
        })
    }
}

fn main() -> ExitCode {
    let (role, input) = match parse_args(std::env::args().skip(1)) {
        Ok(Command::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(Command::Inspect { role, input }) => (role, input),
        Err(message) => return usage_error(&message),
    };
    let text = match input {
        Input::Args(text) => text,
        Input::Stdin => {
            let mut text = String::new();
            if let Err(e) = io::stdin().read_to_string(&mut text) {
                eprintln!("mqtt-inspect: cannot read stdin: {e}");
                return ExitCode::from(EXIT_IO);
            }
            text
        }
    };
    let bytes = match parse_hex(&text) {
        Ok(bytes) => bytes,
        Err(message) => return usage_error(&message),
    };
    match inspect(&bytes, role, &mut io::stdout().lock()) {
        Ok(outcome) => outcome.exit_code(),
        Err(e) => {
            eprintln!("mqtt-inspect: cannot write stdout: {e}");
            ExitCode::from(EXIT_IO)
        }
    }
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("mqtt-inspect: {message}\n\n{USAGE}");
    ExitCode::from(EXIT_USAGE)
}

fn parse_args(args: impl Iterator<Item = String>) -> Result<Command, String> {
    let mut role = Role::Server;
    let mut hex = Vec::new();
    let mut args = args;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--role" => role = parse_role(args.next().as_deref())?,
            _ if arg.starts_with("--role=") => role = parse_role(arg.get("--role=".len()..))?,
            _ if arg.starts_with('-') && arg != "-" => {
                return Err(format!("unknown option {arg:?}"));
            }
            _ => hex.push(arg),
        }
    }
    let input = match hex.as_slice() {
        [only] if only == "-" => Input::Stdin,
        _ if hex.iter().any(|arg| arg == "-") => {
            return Err("`-` (read stdin) must be the only HEX argument".to_owned());
        }
        _ => Input::Args(hex.concat()),
    };
    Ok(Command::Inspect { role, input })
}

fn parse_role(value: Option<&str>) -> Result<Role, String> {
    match value {
        Some("server") => Ok(Role::Server),
        Some("client") => Ok(Role::Client),
        Some(other) => Err(format!("--role must be server or client, not {other:?}")),
        None => Err("--role needs a value: server or client".to_owned()),
    }
}

/// Hex digits in either case; whitespace anywhere is ignored.
fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if let Some(bad) = digits.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(format!("invalid hex: {bad:?} is not a hex digit"));
    }
    if !digits.len().is_multiple_of(2) {
        return Err(format!(
            "invalid hex: odd number of digits ({})",
            digits.len()
        ));
    }
    digits
        .as_bytes()
        .chunks_exact(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(|| "invalid hex".to_owned())
        })
        .collect()
}

/// Decodes `bytes` as one stream, writing a line per packet and a last line for an error or a
/// partial frame.
fn inspect(bytes: &[u8], role: Role, out: &mut impl Write) -> io::Result<Outcome> {
    let options =
        DecodeOptions::new(role).with_max_packet_size(MAX_REMAINING_LENGTH.saturating_add(5));
    let mut buf = BytesMut::from(bytes);
    loop {
        // Taken before `decode`, which consumes a frame rejected for its body but not one
        // rejected for its fixed header.
        let frame_start = bytes.len().saturating_sub(buf.len());
        let (line, outcome) = match decode(&mut buf, &options) {
            Ok(Some(packet)) => (packet_json(&packet), None),
            Ok(None) if buf.is_empty() => return Ok(Outcome::Complete),
            Ok(None) => (json!({ "incomplete": true }), Some(Outcome::Incomplete)),
            Err(e) => (error_json(&e, frame_start), Some(Outcome::Malformed)),
        };
        write_line(out, line)?;
        if let Some(outcome) = outcome {
            return Ok(outcome);
        }
    }
}

fn write_line(out: &mut impl Write, mut line: Value) -> io::Result<()> {
    // A no-op unless `preserve_order` keeps insertion order; then it sorts like the default.
    line.sort_all_objects();
    writeln!(out, "{line}")
}

fn error_json(e: &DecodeError, frame_start: usize) -> Value {
    json!({
        "error": e.kind().name(),
        "offset": frame_start.saturating_add(e.offset()),
        "rule": e.rule(),
        "message": e.kind().to_string(),
    })
}

fn packet_json(packet: &Packet) -> Value {
    let kind = packet.packet_type().name();
    match packet {
        Packet::Connect(c) => json!({
            "type": kind,
            "client_id": c.client_id.as_str(),
            "clean_session": c.clean_session,
            "keep_alive": c.keep_alive,
            "username": c.username.as_ref().map(|u| u.as_str()),
            "password_hex": c.password.as_deref().map(hex),
            "will": c.will.as_ref().map(|w| json!({
                "topic": w.topic.as_str(),
                "payload_hex": hex(&w.payload),
                "qos": w.qos as u8,
                "retain": w.retain,
            })),
        }),
        Packet::ConnAck(c) => json!({
            "type": kind,
            "session_present": c.session_present,
            "return_code": c.code as u8,
            "return_code_name": format!("{:?}", c.code),
        }),
        Packet::Publish(p) => {
            let mut line = json!({
                "type": kind,
                "qos": p.qos_pid.qos() as u8,
                "topic": p.topic.as_str(),
                "payload_hex": hex(&p.payload),
                "retain": p.retain,
                "dup": p.dup,
            });
            if let (Some(id), Some(fields)) = (p.qos_pid.packet_id(), line.as_object_mut()) {
                fields.insert("packet_id".to_owned(), id.get().into());
            }
            line
        }
        Packet::PubAck(id)
        | Packet::PubRec(id)
        | Packet::PubRel(id)
        | Packet::PubComp(id)
        | Packet::UnsubAck(id) => json!({ "type": kind, "packet_id": id.get() }),
        Packet::Subscribe(s) => json!({
            "type": kind,
            "packet_id": s.packet_id.get(),
            "filters": s.filters().map(|f| json!({
                "filter": f.filter.as_str(),
                "qos": f.qos as u8,
            })).collect::<Vec<_>>(),
        }),
        Packet::SubAck(s) => json!({
            "type": kind,
            "packet_id": s.packet_id.get(),
            "return_codes": s.return_codes().map(|c| c.to_u8()).collect::<Vec<_>>(),
        }),
        Packet::Unsubscribe(u) => json!({
            "type": kind,
            "packet_id": u.packet_id.get(),
            "filters": u.filters().map(|f| f.as_str().to_owned()).collect::<Vec<_>>(),
        }),
        Packet::PingReq | Packet::PingResp | Packet::Disconnect => json!({ "type": kind }),
    }
}

/// Lowercase hex, two digits a byte.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut text, byte| {
        // Writing to a String cannot fail.
        let _ = write!(text, "{byte:02x}");
        text
    })
}
