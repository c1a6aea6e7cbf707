//! The x509-limbo harness: runs every testcase of a limbo file through `Verifier` and
//! reports `SUCCESS` / `FAILURE` with the reason. Shared by the `chain-verify --limbo` mode
//! and `tests/limbo.rs` (included there with `#[path]`).

use std::net::IpAddr;

use serde_json::{Value, json};
use x509_chain::{
    Crl, PeerName, SignatureVerificationAlgorithm, TrustStore, UnixTime, Usage, Verifier,
    VerifierOptions, VerifyRequest, certificates_from_pem,
};

/// An RFC 3339 time (`None` for other text, or a time before 1970).
pub(crate) fn parse_rfc3339(text: &str) -> Option<UnixTime> {
    let time = chrono::DateTime::parse_from_rfc3339(text).ok()?;
    let secs = u64::try_from(time.timestamp()).ok()?;
    Some(UnixTime::since_unix_epoch(std::time::Duration::from_secs(
        secs,
    )))
}

/// One testcase's outcome.
pub(crate) struct Outcome {
    pub(crate) id: String,
    pub(crate) success: bool,
    pub(crate) context: String,
}

fn pem_ders(v: &Value) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    for pem in v.as_array().into_iter().flatten() {
        let text = pem.as_str().ok_or("PEM is not a string")?;
        let ders = certificates_from_pem(text.as_bytes()).map_err(|e| e.to_string())?;
        out.extend(ders.into_iter().map(|d| d.to_vec()));
    }
    Ok(out)
}

fn peer_name(v: &Value) -> Result<Option<PeerName>, String> {
    if v.is_null() {
        return Ok(None);
    }
    let value = v
        .get("value")
        .and_then(Value::as_str)
        .ok_or("peer name without value")?;
    match v.get("kind").and_then(Value::as_str) {
        Some("DNS") => Ok(Some(PeerName::Dns(value.to_string()))),
        Some("IP") => value
            .parse::<IpAddr>()
            .map(|ip| Some(PeerName::Ip(ip)))
            .map_err(|e| format!("bad IP {value}: {e}")),
        Some("RFC822") => Ok(Some(PeerName::Email(value.to_string()))),
        other => Err(format!("unsupported peer name kind {other:?}")),
    }
}

/// Runs one testcase; `Err` is a harness-level failure (reported as FAILURE with context).
fn run_case(
    case: &Value,
    algorithms: &'static [&'static dyn SignatureVerificationAlgorithm],
) -> Result<(), String> {
    let anchors = pem_ders(&case["trusted_certs"])?;
    let store = TrustStore::from_der(&anchors).map_err(|e| e.to_string())?;
    let intermediates = pem_ders(&case["untrusted_intermediates"])?;
    let leaf = certificates_from_pem(case["peer_certificate"].as_str().unwrap_or("").as_bytes())
        .map_err(|e| e.to_string())?
        .into_iter()
        .next()
        .ok_or("no peer certificate")?;

    let mut options = {
        let mut options = VerifierOptions::default();
        options.algorithms = algorithms;
        options
    };
    if let Some(depth) = case["max_chain_depth"].as_u64() {
        options.max_intermediates = usize::try_from(depth).unwrap_or(usize::MAX);
    }
    for crl in case["crls"].as_array().into_iter().flatten() {
        let crls =
            Crl::from_pem(crl.as_str().unwrap_or("").as_bytes()).map_err(|e| e.to_string())?;
        options.crls.extend(crls);
    }
    let verifier = Verifier::new(store, options);

    let time = match case["validation_time"].as_str() {
        Some(t) => parse_rfc3339(t).ok_or_else(|| format!("bad validation_time {t}"))?,
        None => UnixTime::now(),
    };
    let ekus: Vec<&str> = case["extended_key_usage"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let client = case["validation_kind"] == "CLIENT";
    let usage = if ekus.contains(&"clientAuth") || (client && !ekus.contains(&"serverAuth")) {
        Usage::ClientAuth
    } else {
        Usage::ServerAuth
    };
    let mut request = VerifyRequest::new(time, usage);
    request.require_digital_signature = case["key_usage"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|k| k == "digitalSignature");

    let mut names = Vec::new();
    if client {
        for n in case["expected_peer_names"].as_array().into_iter().flatten() {
            names.extend(peer_name(n)?);
        }
    } else {
        names.extend(peer_name(&case["expected_peer_name"])?);
    }
    if names.is_empty() {
        return verifier
            .verify(&leaf, &intermediates, &request)
            .map(|_| ())
            .map_err(|e| format!("{}: {e}", e.name()));
    }
    for name in names {
        let request = request.clone().with_peer_name(name);
        verifier
            .verify(&leaf, &intermediates, &request)
            .map_err(|e| format!("{}: {e}", e.name()))?;
    }
    Ok(())
}

/// Runs every testcase of a parsed limbo document.
pub(crate) fn run(
    limbo: &Value,
    algorithms: &'static [&'static dyn SignatureVerificationAlgorithm],
) -> Vec<Outcome> {
    limbo["testcases"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|case| {
            let id = case["id"].as_str().unwrap_or("").to_string();
            match run_case(case, algorithms) {
                Ok(()) => Outcome {
                    id,
                    success: true,
                    context: String::new(),
                },
                Err(context) => Outcome {
                    id,
                    success: false,
                    context,
                },
            }
        })
        .collect()
}

/// The limbo harness result document.
pub(crate) fn results_json(outcomes: &[Outcome]) -> Value {
    let results: Vec<Value> = outcomes
        .iter()
        .map(|o| {
            json!({
                "id": o.id,
                "actual_result": if o.success { "SUCCESS" } else { "FAILURE" },
                "context": o.context,
            })
        })
        .collect();
    json!({"version": 1, "harness": "x509-chain", "results": results})
}
