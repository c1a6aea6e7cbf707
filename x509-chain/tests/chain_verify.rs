//! The `chain-verify` example, run as a binary: exact JSON and exit codes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

use std::process::Command;

use serde_json::{Value, json};

fn run(args: &[&str]) -> (i32, Value) {
    let bin = test_support::example_binary(env!("CARGO_MANIFEST_DIR"), "chain-verify", &[]);
    let out = Command::new(bin)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    (
        out.status.code().unwrap(),
        serde_json::from_str(stdout.trim()).unwrap_or(Value::Null),
    )
}

const ROOT: &str = "tests/data/root.pem";
const INTER: &str = "tests/data/inter.pem";
const LEAF: &str = "tests/data/leaf.pem";

#[test]
fn success_prints_the_chain_and_identity() {
    let (code, out) = run(&[
        "--roots",
        ROOT,
        "--intermediates",
        INTER,
        "--leaf",
        LEAF,
        "--time",
        "2030-01-01T00:00:00Z",
        "--usage",
        "client",
    ]);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        json!({
            "result": "SUCCESS",
            "chain": [
                "CN=device-1,serialNumber=SN-0001,OU=Sensors+OU=Building 7,O=Example Fleet,L=Seattle,ST=WA,C=US",
                "CN=Example Device CA,O=Example Fleet,C=US",
                "CN=Example Root CA,O=Example Fleet,C=US"
            ],
            "identity": {
                "subject": {
                    "CommonName": ["device-1"], "Country": ["US"], "Locality": ["Seattle"],
                    "Organization": ["Example Fleet"], "OrganizationalUnit": ["Sensors", "Building 7"],
                    "SerialNumber": ["SN-0001"], "State": ["WA"]
                },
                "subject_dn": "CN=device-1,serialNumber=SN-0001,OU=Sensors+OU=Building 7,O=Example Fleet,L=Seattle,ST=WA,C=US",
                "issuer": {"CommonName": ["Example Device CA"], "Country": ["US"], "Organization": ["Example Fleet"]},
                "issuer_dn": "CN=Example Device CA,O=Example Fleet,C=US",
                "alternative_names": {
                    "DNSName": ["device-1.example.com"], "IPAddress": ["192.0.2.7"],
                    "RFC822Name": ["ops@example.com"], "UniformResourceIdentifier": ["urn:device:1"]
                },
                "serial_number": "ab12cd34",
                "certificate_id": "491e91409a55e33693cdbbce704acefabf5c8699c8325edfc8835c009343b697",
                "not_before": "2026-11-27T04:26:25Z",
                "not_after": "2122-09-25T04:26:25Z"
            }
        })
    );
}

#[test]
fn failures_print_the_variant_and_exit_1() {
    let (code, out) = run(&[
        "--roots",
        ROOT,
        "--leaf",
        LEAF,
        "--time",
        "2030-01-01T00:00:00Z",
    ]);
    assert_eq!(code, 1);
    assert_eq!(
        out,
        json!({
            "result": "FAILURE",
            "error": "UnknownIssuer",
            "message": "certificate 0: no trusted issuer \"CN=Example Device CA,O=Example Fleet,C=US\" found"
        })
    );
    let (code, out) = run(&[
        "--roots",
        ROOT,
        "--intermediates",
        INTER,
        "--leaf",
        LEAF,
        "--time",
        "2200-01-01T00:00:00Z",
    ]);
    assert_eq!(code, 1);
    assert_eq!(out["error"], "Expired");
    assert_eq!(
        out["message"],
        "certificate 0: expired at 2122-09-25T04:26:25Z (validation time 2200-01-01T00:00:00Z)"
    );
    let (code, out) = run(&[
        "--roots",
        ROOT,
        "--intermediates",
        INTER,
        "--leaf",
        LEAF,
        "--time",
        "2030-01-01T00:00:00Z",
        "--usage",
        "server",
        "--name",
        "other.example.com",
    ]);
    assert_eq!(code, 1);
    assert_eq!(out["error"], "PeerNameMismatch");
    let (code, out) = run(&[
        "--roots",
        ROOT,
        "--intermediates",
        INTER,
        "--leaf",
        LEAF,
        "--time",
        "2030-01-01T00:00:00Z",
        "--usage",
        "server",
        "--name",
        "192.0.2.7",
    ]);
    assert_eq!((code, out["result"].as_str()), (0, Some("SUCCESS")));
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(run(&["--leaf", LEAF]).0, 2);
    assert_eq!(
        run(&["--roots", ROOT, "--leaf", LEAF, "--time", "yesterday"]).0,
        2
    );
    assert_eq!(run(&["--bogus", "x"]).0, 2);
}

#[test]
fn limbo_mode_prints_the_harness_result_document() {
    let dir = std::env::temp_dir().join(format!("chain-verify-limbo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pem =
        |p: &str| std::fs::read_to_string(format!("{}/{p}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let case = |id: &str, intermediates: Vec<String>| {
        json!({
            "id": id, "features": [], "importance": "undetermined", "description": "",
            "validation_kind": "CLIENT", "trusted_certs": [pem(ROOT)],
            "untrusted_intermediates": intermediates, "peer_certificate": pem(LEAF),
            "peer_certificate_key": null, "validation_time": "2030-01-01T00:00:00Z",
            "signature_algorithms": [], "key_usage": [], "extended_key_usage": ["clientAuth"],
            "expected_result": "SUCCESS", "expected_peer_name": null,
            "expected_peer_names": [{"kind": "RFC822", "value": "ops@example.com"}],
            "max_chain_depth": null, "crls": [], "conflicts_with": []
        })
    };
    let doc =
        json!({"version": 1, "testcases": [case("ok", vec![pem(INTER)]), case("missing", vec![])]});
    let path = dir.join("limbo.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    let (code, out) = run(&["--limbo", path.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(out["version"], 1);
    assert_eq!(out["harness"], "x509-chain");
    assert_eq!(
        out["results"][0],
        json!({"id": "ok", "actual_result": "SUCCESS", "context": ""})
    );
    assert_eq!(out["results"][1]["actual_result"], "FAILURE");
    assert!(
        out["results"][1]["context"]
            .as_str()
            .unwrap()
            .starts_with("UnknownIssuer: ")
    );
}
