//! Identity fields of a certificate, as AWS IoT policies read them. Expected values were read
//! from the fixture with `openssl x509 -text` and `-fingerprint -sha256`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

use x509_chain::{AltNameKind, CertificateError, DnAttribute, Identity, certificates_from_pem};

fn leaf_der() -> Vec<u8> {
    let pem = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/leaf.pem")).unwrap();
    certificates_from_pem(&pem).unwrap().remove(0).to_vec()
}

#[test]
fn every_subject_attribute_with_every_value_of_multi_valued_rdns() {
    let id = Identity::from_der(&leaf_der()).unwrap();
    let subject: Vec<(DnAttribute, &str)> =
        id.subject().iter().map(|(a, v)| (*a, v.as_str())).collect();
    assert_eq!(
        subject,
        [
            (DnAttribute::Country, "US"),
            (DnAttribute::State, "WA"),
            (DnAttribute::Locality, "Seattle"),
            (DnAttribute::Organization, "Example Fleet"),
            (DnAttribute::OrganizationalUnit, "Sensors"),
            (DnAttribute::OrganizationalUnit, "Building 7"),
            (DnAttribute::SerialNumber, "SN-0001"),
            (DnAttribute::CommonName, "device-1"),
        ]
    );
    assert_eq!(
        id.subject_values(DnAttribute::OrganizationalUnit)
            .collect::<Vec<_>>(),
        ["Sensors", "Building 7"]
    );
    assert_eq!(
        id.subject_dn(),
        "CN=device-1,serialNumber=SN-0001,OU=Sensors+OU=Building 7,O=Example Fleet,L=Seattle,ST=WA,C=US"
    );
    assert_eq!(id.issuer_dn(), "CN=Example Device CA,O=Example Fleet,C=US");
    assert_eq!(
        id.issuer_values(DnAttribute::CommonName)
            .collect::<Vec<_>>(),
        ["Example Device CA"]
    );
}

#[test]
fn alt_names_serial_fingerprint_and_validity() {
    let id = Identity::from_der(&leaf_der()).unwrap();
    let alt: Vec<(AltNameKind, &str)> = id
        .alt_names()
        .iter()
        .map(|(k, v)| (*k, v.as_str()))
        .collect();
    assert_eq!(
        alt,
        [
            (AltNameKind::DnsName, "device-1.example.com"),
            (AltNameKind::IpAddress, "192.0.2.7"),
            (AltNameKind::Rfc822Name, "ops@example.com"),
            (AltNameKind::UniformResourceIdentifier, "urn:device:1"),
        ]
    );
    assert_eq!(id.serial_number(), "ab12cd34");
    // AWS IoT's certificate id: SHA-256 of the DER, lower-case hex.
    assert_eq!(
        id.certificate_id(),
        "491e91409a55e33693cdbbce704acefabf5c8699c8325edfc8835c009343b697"
    );
    // 2026-11-27T04:26:25Z and 2122-09-25T04:26:25Z
    assert_eq!(id.not_before().as_secs(), 1_795_753_585);
    assert_eq!(id.not_after().as_secs(), 4_819_753_585);
}

#[test]
fn malformed_certificates_are_typed_errors() {
    let certificate = CertificateError::Malformed {
        what: "Certificate",
    };
    assert_eq!(Identity::from_der(b""), Err(certificate.clone()));
    // An indefinite length is BER, not DER.
    assert_eq!(Identity::from_der(b"\x30\x80"), Err(certificate));
    let mut der = leaf_der();
    der.extend_from_slice(&[0x05, 0x00]);
    assert_eq!(
        Identity::from_der(&der),
        Err(CertificateError::TrailingData)
    );
    // A length in the long form where the short one fits (X.690 10.1) is not DER either.
    // The tbsCertificate's two length octets re-encoded as three.
    let der = leaf_der();
    assert_eq!(
        der[4..6],
        [0x30, 0x82],
        "tbsCertificate in the two-octet form"
    );
    let mut padded = der.clone();
    padded.splice(4..8, [0x30, 0x83, 0x00, der[6], der[7]]);
    let outer_len = u16::from_be_bytes([der[2], der[3]]) + 1;
    padded.splice(2..4, outer_len.to_be_bytes());
    assert_eq!(
        Identity::from_der(&padded),
        Err(CertificateError::Malformed {
            what: "tbsCertificate"
        })
    );
    // Every truncation of a valid certificate is rejected, never a panic.
    let der = leaf_der();
    for len in 0..der.len() {
        assert!(
            Identity::from_der(&der[..len]).is_err(),
            "truncated to {len} bytes"
        );
    }
}

/// With the `serde` feature an identity is stored as its fields and read back equal.
#[cfg(feature = "serde")]
#[test]
fn identities_round_trip_through_serde() {
    let id = Identity::from_der(&leaf_der()).unwrap();
    let json = serde_json::to_value(&id).unwrap();
    assert_eq!(json["certificateId"], id.certificate_id());
    assert_eq!(json["notAfter"], id.not_after().as_secs());
    assert_eq!(json["subject"][0][0], "Country");
    let back: Identity = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(back, id);
    let mut unknown = json;
    unknown["extra"] = serde_json::json!(1);
    assert!(serde_json::from_value::<Identity>(unknown).is_err());
}
