//! The names, short names and object identifiers, as AWS IoT and RFC 4514 give them.
#![allow(clippy::unwrap_used)] // Test code: a failed expectation should panic.

use iot_identity::{AltNameKind, DnAttribute};

#[test]
fn aws_names_and_oids_of_every_attribute() {
    let table: Vec<(&str, &str, &str)> = DnAttribute::ALL
        .iter()
        .map(|a| (a.aws_name(), a.short_name(), a.oid()))
        .collect();
    assert_eq!(
        table,
        [
            ("CommonName", "CN", "2.5.4.3"),
            ("Country", "C", "2.5.4.6"),
            ("Organization", "O", "2.5.4.10"),
            ("OrganizationalUnit", "OU", "2.5.4.11"),
            ("DistinguishedNameQualifier", "dnQualifier", "2.5.4.46"),
            ("State", "ST", "2.5.4.8"),
            ("Locality", "L", "2.5.4.7"),
            ("SerialNumber", "serialNumber", "2.5.4.5"),
            ("Title", "title", "2.5.4.12"),
            ("Surname", "SN", "2.5.4.4"),
            ("GivenName", "GN", "2.5.4.42"),
            ("Initials", "initials", "2.5.4.43"),
            ("Pseudonym", "pseudonym", "2.5.4.65"),
            ("GenerationQualifier", "generationQualifier", "2.5.4.44"),
        ]
    );
    let kinds: Vec<&str> = AltNameKind::ALL.iter().map(|k| k.aws_name()).collect();
    assert_eq!(
        kinds,
        [
            "RFC822Name",
            "DNSName",
            "DirectoryName",
            "UniformResourceIdentifier",
            "IPAddress"
        ]
    );
}

/// With the `serde` feature, every attribute and kind is written as its AWS IoT name and read
/// back; other names are refused.
#[cfg(feature = "serde")]
#[test]
fn serde_uses_the_aws_names_and_round_trips() {
    for a in DnAttribute::ALL {
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(json, format!("\"{}\"", a.aws_name()));
        assert_eq!(serde_json::from_str::<DnAttribute>(&json).unwrap(), a);
    }
    for k in AltNameKind::ALL {
        let json = serde_json::to_string(&k).unwrap();
        assert_eq!(json, format!("\"{}\"", k.aws_name()));
        assert_eq!(serde_json::from_str::<AltNameKind>(&json).unwrap(), k);
    }
    assert!(serde_json::from_str::<DnAttribute>("\"CN\"").is_err());
    assert!(serde_json::from_str::<AltNameKind>("\"DnsName\"").is_err());
}
