//! `chain-verify`: verify a certificate chain from PEM files and print the result as JSON, or
//! run a whole x509-limbo file.
//!
//! ```text
//! chain-verify --roots R.pem [--intermediates I.pem] --leaf L.pem [--time RFC3339]
//!              [--usage client|server] [--name DNS_OR_IP]
//! chain-verify --limbo PATH
//! ```
//!
//! Prints `{"result":"SUCCESS","chain":[subject DNs…],"identity":{…}}` (exit 0) or
//! `{"result":"FAILURE","error":"<Variant>","message":"…"}` (exit 1); usage errors exit 2.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod limbo;

use std::collections::BTreeMap;
use std::process::ExitCode;

use serde_json::{Value, json};
use x509_chain::{
    Identity, PeerName, TrustStore, UnixTime, Usage, Verifier, VerifierOptions, VerifyRequest,
    certificates_from_pem,
};

/// `YYYY-MM-DDTHH:MM:SSZ`.
fn format_rfc3339(time: UnixTime) -> String {
    i64::try_from(time.as_secs())
        .ok()
        .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
        .map_or_else(
            || format!("{} s after the epoch", time.as_secs()),
            |t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        )
}

const USAGE: &str = "usage: chain-verify --roots R.pem [--intermediates I.pem] --leaf L.pem [--time RFC3339] [--usage client|server] [--name DNS_OR_IP]\n       chain-verify --limbo PATH";

fn identity_json(identity: &Identity) -> Value {
    let mut subject: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (attr, value) in identity.subject() {
        subject.entry(attr.aws_name()).or_default().push(value);
    }
    let mut issuer: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (attr, value) in identity.issuer() {
        issuer.entry(attr.aws_name()).or_default().push(value);
    }
    let mut alt: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (kind, value) in identity.alt_names() {
        alt.entry(kind.aws_name()).or_default().push(value);
    }
    json!({
        "subject": subject,
        "subject_dn": identity.subject_dn(),
        "issuer": issuer,
        "issuer_dn": identity.issuer_dn(),
        "alternative_names": alt,
        "serial_number": identity.serial_number(),
        "certificate_id": identity.certificate_id(),
        "not_before": format_rfc3339(identity.not_before()),
        "not_after": format_rfc3339(identity.not_after()),
    })
}

fn failure(error: &str, message: impl std::fmt::Display) -> ExitCode {
    println!(
        "{}",
        json!({"result": "FAILURE", "error": error, "message": message.to_string()})
    );
    ExitCode::from(1)
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("chain-verify: {message}\n{USAGE}");
    ExitCode::from(2)
}

fn read(path: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut opts: BTreeMap<&str, &str> = BTreeMap::new();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let known = [
            "--roots",
            "--intermediates",
            "--leaf",
            "--time",
            "--usage",
            "--name",
            "--limbo",
        ];
        let Some(name) = known.iter().find(|k| **k == flag.as_str()) else {
            return usage_error(&format!("unknown argument {flag}"));
        };
        let Some(value) = it.next() else {
            return usage_error(&format!("{flag} needs a value"));
        };
        opts.insert(name, value);
    }

    if let Some(path) = opts.get("--limbo") {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => return usage_error(&format!("cannot read {path}: {e}")),
        };
        let doc: Value = match serde_json::from_str(&text) {
            Ok(d) => d,
            Err(e) => return usage_error(&format!("{path} is not JSON: {e}")),
        };
        let outcomes = limbo::run(&doc, x509_chain::RUSTCRYPTO_ALGORITHMS);
        println!("{}", limbo::results_json(&outcomes));
        return ExitCode::SUCCESS;
    }

    let (Some(roots), Some(leaf)) = (opts.get("--roots"), opts.get("--leaf")) else {
        return usage_error("--roots and --leaf are required");
    };
    let time = match opts.get("--time") {
        Some(t) => match limbo::parse_rfc3339(t) {
            Some(time) => time,
            None => return usage_error(&format!("--time {t} is not RFC 3339")),
        },
        None => UnixTime::now(),
    };
    let usage = match opts.get("--usage").copied() {
        None | Some("client") => Usage::ClientAuth,
        Some("server") => Usage::ServerAuth,
        Some(other) => return usage_error(&format!("--usage {other}: expected client or server")),
    };
    let mut request = VerifyRequest::new(time, usage);
    if let Some(name) = opts.get("--name") {
        request.peer_name = Some(match name.parse() {
            Ok(ip) => PeerName::Ip(ip),
            Err(_) => PeerName::Dns((*name).to_string()),
        });
    }

    let roots = match read(roots) {
        Ok(r) => r,
        Err(e) => return usage_error(&e),
    };
    let store = match TrustStore::from_pem(&roots) {
        Ok(s) => s,
        Err(e) => return failure("BadTrustAnchor", e),
    };
    let intermediates = match opts.get("--intermediates").map(|p| read(p)) {
        None => Vec::new(),
        Some(Err(e)) => return usage_error(&e),
        Some(Ok(pem)) => match certificates_from_pem(&pem) {
            Ok(ders) => ders,
            Err(e) => return failure("BadEncoding", e),
        },
    };
    let leaf = match read(leaf) {
        Ok(l) => l,
        Err(e) => return usage_error(&e),
    };
    let leaf = match certificates_from_pem(&leaf).map(|v| v.into_iter().next()) {
        Ok(Some(der)) => der,
        Ok(None) => return failure("BadEncoding", "no CERTIFICATE block in the leaf file"),
        Err(e) => return failure("BadEncoding", e),
    };

    let verifier = Verifier::new(store, VerifierOptions::default());
    match verifier.verify(&leaf, &intermediates, &request) {
        Ok(path) => {
            println!(
                "{}",
                json!({"result": "SUCCESS", "chain": path.subjects(), "identity": identity_json(path.identity())})
            );
            ExitCode::SUCCESS
        }
        Err(e) => failure(e.name(), &e),
    }
}
