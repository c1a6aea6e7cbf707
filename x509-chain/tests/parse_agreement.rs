//! The in-place certificate parser against `x509-cert`'s decoder, on every certificate of the
//! committed fuzz corpora and (inside the repository) of x509-limbo, through the `x509_parse`
//! fuzz harness, which holds the rule: whatever this crate accepts, `x509-cert` accepts too,
//! but for serial numbers longer than 20 octets, which this crate reads and its path
//! validation refuses (RFC 5280 §4.1.2.2) for every certificate but a trust anchor. Parsing is
//! never laxer than the decoder it replaced.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    missing_docs,
    unreachable_pub
)] // Test code, and the harness shared with the fuzz crate (where `pub` is needed).

use std::path::Path;

use x509_chain::{Identity, certificates_from_pem};

#[path = "fuzz/harness/x509_parse.rs"]
mod x509_parse;

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz/corpus")
        .join(target);
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| std::fs::read(entry.unwrap().path()).unwrap())
        .collect()
}

fn limbo() -> Vec<Vec<u8>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/conformance/x509-limbo/limbo.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("no {}: the corpora only", path.display());
        return Vec::new();
    };
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut out = Vec::new();
    for case in doc["testcases"].as_array().unwrap() {
        let pems = ["trusted_certs", "untrusted_intermediates"]
            .iter()
            .flat_map(|k| case[k].as_array().unwrap())
            .chain(std::iter::once(&case["peer_certificate"]));
        for pem in pems {
            for der in certificates_from_pem(pem.as_str().unwrap().as_bytes()).unwrap() {
                out.push(der.to_vec());
            }
        }
    }
    out
}

#[test]
fn never_laxer_than_x509_cert() {
    let mut inputs = corpus("x509_parse");
    inputs.extend(corpus("x509_verify"));
    inputs.extend(limbo());
    let mut accepted = 0usize;
    for der in &inputs {
        x509_parse::run(der);
        accepted += usize::from(Identity::from_der(der).is_ok());
    }
    // Not vacuous: the corpora alone hold hundreds of well-formed certificates.
    assert!(
        accepted >= 300,
        "only {accepted} of {} accepted",
        inputs.len()
    );
}
