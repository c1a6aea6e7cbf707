//! Decodes Sigfox payloads, callbacks and radio frames and prints one JSON object.
//!
//! ```text
//! cargo run -q -p sigfox-frame --example sigfox-decode -- --format 'GRAMMAR' --data HEX
//! cargo run -q -p sigfox-frame --example sigfox-decode -- --callback FILE|- [--kind KIND]
//!     [--format 'GRAMMAR'] [--topic TEMPLATE] [--content-type TYPE] [--rename KEY=NAME ...]
//! cargo run -q -p sigfox-frame --example sigfox-decode -- --frame HEX [--key HEX]
//! ```
//!
//! - `--format --data`: the fields by name (keys sorted), `null` for a field outside the payload.
//! - `--callback`: `{"topic": ..., "message": {...}}`, the normalized message a broker publishes;
//!   KIND is `uplink` (default), `bidir`, `advanced`, `status`, `ack`, `repeater`, `error` or
//!   `geoloc`; with `--format` the payload is decoded under `decoded`. `--rename device=id`
//!   reads a field from the body key a user-templated callback gives it (repeatable; KEY is
//!   Sigfox's variable name, e.g. `device`, `seqNumber`, `data`).
//! - `--frame`: the decoded uplink frame with `crc_ok`, and `mac_ok` (null without `--key`).
//!
//! A rejected input prints `{"error":"<Variant>","message":"..."}` and exits with 1. Exit 64
//! is a usage error (unknown option, missing value), 74 an unreadable file or stdin.

use std::io::{self, Read, Write};
use std::process::ExitCode;

use serde_json::{Value, json};
use sigfox_frame::{
    Callback, CallbackKind, CallbackOptions, Key, PayloadFormat, TopicTemplate, UplinkFrame,
};

const USAGE: &str = "usage: sigfox-decode --format 'GRAMMAR' --data HEX
       sigfox-decode --callback FILE|- [--kind uplink|bidir|advanced|status|ack|repeater|error|geoloc]
                     [--format 'GRAMMAR'] [--topic TEMPLATE] [--content-type TYPE]
                     [--rename KEY=NAME ...]
       sigfox-decode --frame HEX [--key HEX]";

enum Outcome {
    Ok(Value),
    Rejected(&'static str, String),
    Usage(String),
    Io(String),
}

fn hex_bytes(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    if !s.len().is_multiple_of(2) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            s.get(i..i.saturating_add(2))
                .and_then(|p| u8::from_str_radix(p, 16).ok())
        })
        .collect()
}

fn kind(name: &str) -> Option<CallbackKind> {
    Some(match name {
        "uplink" => CallbackKind::DataUplink,
        "bidir" => CallbackKind::DataBidir,
        "advanced" => CallbackKind::DataAdvanced,
        "status" => CallbackKind::Status,
        "ack" => CallbackKind::Acknowledge,
        "repeater" => CallbackKind::Repeater,
        "error" => CallbackKind::Error,
        "geoloc" => CallbackKind::Geoloc,
        _ => return None,
    })
}

#[derive(Default)]
struct Args {
    format: Option<String>,
    data: Option<String>,
    callback: Option<String>,
    kind: Option<String>,
    topic: Option<String>,
    content_type: Option<String>,
    frame: Option<String>,
    key: Option<String>,
    renames: Vec<String>,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut a = Args::default();
    while let Some(flag) = args.next() {
        if flag == "--rename" {
            let value = args.next().ok_or("--rename needs a value")?;
            a.renames.push(value);
            continue;
        }
        let slot = match flag.as_str() {
            "--format" => &mut a.format,
            "--data" => &mut a.data,
            "--callback" => &mut a.callback,
            "--kind" => &mut a.kind,
            "--topic" => &mut a.topic,
            "--content-type" => &mut a.content_type,
            "--frame" => &mut a.frame,
            "--key" => &mut a.key,
            other => return Err(format!("unknown option {other:?}")),
        };
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        if slot.replace(value).is_some() {
            return Err(format!("{flag} given twice"));
        }
    }
    Ok(a)
}

fn run(a: Args) -> Outcome {
    let format = match a.format.as_deref().map(PayloadFormat::parse).transpose() {
        Ok(f) => f,
        Err(e) => return Outcome::Rejected(e.kind.name(), e.to_string()),
    };
    if let Some(frame) = a.frame {
        let key = match a.key.as_deref() {
            None => None,
            Some(k) => match hex_bytes(k).and_then(|b| <[u8; 16]>::try_from(b).ok()) {
                Some(k) => Some(k),
                None => return Outcome::Usage(String::from("--key needs 32 hex digits")),
            },
        };
        return match UplinkFrame::from_hex(&frame) {
            Ok(f) => Outcome::Ok(f.to_json(key.as_ref())),
            Err(e) => Outcome::Rejected(e.name(), e.to_string()),
        };
    }
    if let Some(path) = a.callback {
        let mut body = Vec::new();
        let read = if path == "-" {
            io::stdin().read_to_end(&mut body).map(|_| ())
        } else {
            std::fs::read(&path).map(|b| body = b)
        };
        if let Err(e) = read {
            return Outcome::Io(format!("cannot read {path}: {e}"));
        }
        let Some(kind) = kind(a.kind.as_deref().unwrap_or("uplink")) else {
            return Outcome::Usage(String::from("unknown --kind"));
        };
        let topic = match a.topic.as_deref().map(TopicTemplate::parse).transpose() {
            Ok(t) => t.unwrap_or_default(),
            Err(e) => return Outcome::Rejected("TopicTemplate", e.to_string()),
        };
        let mut options = CallbackOptions::new();
        for rename in &a.renames {
            let Some((from, to)) = rename.split_once('=') else {
                return Outcome::Usage(format!("--rename {rename:?}: expected KEY=NAME"));
            };
            let Some(key) = Key::ALL.iter().find(|k| k.default_name() == from) else {
                return Outcome::Usage(format!("--rename {rename:?}: unknown field {from:?}"));
            };
            if to.is_empty() {
                return Outcome::Usage(format!("--rename {rename:?}: empty name"));
            }
            options = options.rename(*key, to);
        }
        return match Callback::parse(kind, &body, a.content_type.as_deref(), &options) {
            Ok(cb) => {
                let m = cb.to_message(format.as_ref(), &topic);
                Outcome::Ok(json!({"topic": m.topic, "message": m.payload}))
            }
            Err(e) => Outcome::Rejected(e.reason.name(), e.to_string()),
        };
    }
    match (format, a.data) {
        (Some(format), Some(data)) => {
            let Some(bytes) = hex_bytes(&data) else {
                return Outcome::Rejected(
                    "InvalidHex",
                    format!("--data {data:?} is not an even number of hex digits"),
                );
            };
            match format.decode(&bytes) {
                Ok(d) => Outcome::Ok(d.to_json()),
                Err(e) => Outcome::Rejected(e.name(), e.to_string()),
            }
        }
        _ => Outcome::Usage(String::from(
            "give --format with --data, --callback, or --frame",
        )),
    }
}

fn main() -> ExitCode {
    let outcome = match parse_args(std::env::args().skip(1)) {
        Ok(args) => run(args),
        Err(e) => Outcome::Usage(e),
    };
    let (value, code) = match outcome {
        Outcome::Ok(v) => (v, 0),
        Outcome::Rejected(variant, message) => (json!({"error": variant, "message": message}), 1),
        Outcome::Usage(message) => {
            eprintln!("sigfox-decode: {message}\n{USAGE}");
            return ExitCode::from(64);
        }
        Outcome::Io(message) => {
            eprintln!("sigfox-decode: {message}");
            return ExitCode::from(74);
        }
    };
    let mut out = io::stdout().lock();
    if writeln!(out, "{value}").is_err() {
        return ExitCode::from(74);
    }
    ExitCode::from(code)
}
