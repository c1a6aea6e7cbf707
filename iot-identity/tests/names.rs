//! The names, short names and object identifiers, as AWS IoT and RFC 4514 give them.

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
