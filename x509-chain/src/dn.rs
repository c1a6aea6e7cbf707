//! Distinguished names: attribute values as text, RFC 4514 rendering, and the attribute
//! names AWS IoT uses.

use der::Tagged as _;
use der::oid::ObjectIdentifier;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::name::Name;

/// A subject or issuer attribute under the name AWS IoT gives it in
/// `${iot:Certificate.Subject.<Name>}` policy variables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DnAttribute {
    /// CN, 2.5.4.3
    CommonName,
    /// C, 2.5.4.6
    Country,
    /// O, 2.5.4.10
    Organization,
    /// OU, 2.5.4.11
    OrganizationalUnit,
    /// dnQualifier, 2.5.4.46
    DistinguishedNameQualifier,
    /// ST, 2.5.4.8
    State,
    /// L, 2.5.4.7
    Locality,
    /// serialNumber, 2.5.4.5 (the subject attribute, not the certificate's serial)
    SerialNumber,
    /// title, 2.5.4.12
    Title,
    /// SN (surname), 2.5.4.4
    Surname,
    /// GN (givenName), 2.5.4.42
    GivenName,
    /// initials, 2.5.4.43
    Initials,
    /// pseudonym, 2.5.4.65
    Pseudonym,
    /// generationQualifier, 2.5.4.44
    GenerationQualifier,
}

const ATTRIBUTES: [(DnAttribute, &str, &str, &str); 14] = [
    (DnAttribute::CommonName, "2.5.4.3", "CommonName", "CN"),
    (DnAttribute::Country, "2.5.4.6", "Country", "C"),
    (DnAttribute::Organization, "2.5.4.10", "Organization", "O"),
    (
        DnAttribute::OrganizationalUnit,
        "2.5.4.11",
        "OrganizationalUnit",
        "OU",
    ),
    (
        DnAttribute::DistinguishedNameQualifier,
        "2.5.4.46",
        "DistinguishedNameQualifier",
        "dnQualifier",
    ),
    (DnAttribute::State, "2.5.4.8", "State", "ST"),
    (DnAttribute::Locality, "2.5.4.7", "Locality", "L"),
    (
        DnAttribute::SerialNumber,
        "2.5.4.5",
        "SerialNumber",
        "serialNumber",
    ),
    (DnAttribute::Title, "2.5.4.12", "Title", "title"),
    (DnAttribute::Surname, "2.5.4.4", "Surname", "SN"),
    (DnAttribute::GivenName, "2.5.4.42", "GivenName", "GN"),
    (DnAttribute::Initials, "2.5.4.43", "Initials", "initials"),
    (DnAttribute::Pseudonym, "2.5.4.65", "Pseudonym", "pseudonym"),
    (
        DnAttribute::GenerationQualifier,
        "2.5.4.44",
        "GenerationQualifier",
        "generationQualifier",
    ),
];

impl DnAttribute {
    /// Every attribute.
    pub const ALL: [DnAttribute; 14] = [
        DnAttribute::CommonName,
        DnAttribute::Country,
        DnAttribute::Organization,
        DnAttribute::OrganizationalUnit,
        DnAttribute::DistinguishedNameQualifier,
        DnAttribute::State,
        DnAttribute::Locality,
        DnAttribute::SerialNumber,
        DnAttribute::Title,
        DnAttribute::Surname,
        DnAttribute::GivenName,
        DnAttribute::Initials,
        DnAttribute::Pseudonym,
        DnAttribute::GenerationQualifier,
    ];

    fn row(self) -> (DnAttribute, &'static str, &'static str, &'static str) {
        ATTRIBUTES
            .iter()
            .copied()
            .find(|r| r.0 == self)
            .unwrap_or(ATTRIBUTES[0])
    }

    /// The AWS IoT name, as in `iot:Certificate.Subject.<aws_name>`.
    pub fn aws_name(self) -> &'static str {
        self.row().2
    }

    /// The object identifier in dotted form.
    pub fn oid(self) -> &'static str {
        self.row().1
    }

    /// The attribute for an object identifier, if it is one of the fourteen.
    pub fn from_oid(oid: &ObjectIdentifier) -> Option<DnAttribute> {
        let dotted = oid.to_string();
        ATTRIBUTES.iter().find(|r| r.1 == dotted).map(|r| r.0)
    }
}

/// The short name RFC 4514 (or common usage) gives an attribute type.
fn short_name(oid: &ObjectIdentifier) -> Option<&'static str> {
    let dotted = oid.to_string();
    if let Some(row) = ATTRIBUTES.iter().find(|r| r.1 == dotted) {
        return Some(row.3);
    }
    match dotted.as_str() {
        "0.9.2342.19200300.100.1.25" => Some("DC"),
        "0.9.2342.19200300.100.1.1" => Some("UID"),
        "1.2.840.113549.1.9.1" => Some("emailAddress"),
        "2.5.4.9" => Some("street"),
        "2.5.4.17" => Some("postalCode"),
        _ => None,
    }
}

/// The text of an attribute value: the string types of X.520 (UTF8String, PrintableString,
/// IA5String, TeletexString read as Latin-1, BMPString); `None` otherwise.
pub(crate) fn value_text(atv: &AttributeTypeAndValue) -> Option<String> {
    let value = &atv.value;
    let bytes = value.value();
    use der::Tag;
    match value.tag() {
        Tag::Utf8String
        | Tag::PrintableString
        | Tag::Ia5String
        | Tag::NumericString
        | Tag::VisibleString => String::from_utf8(bytes.to_vec()).ok(),
        // TeletexString: in practice Latin-1.
        Tag::TeletexString => Some(bytes.iter().map(|&b| char::from(b)).collect()),
        // BMPString: UCS-2 big-endian.
        Tag::BmpString => {
            let units: Option<Vec<u16>> = bytes
                .chunks(2)
                .map(|c| <[u8; 2]>::try_from(c).ok().map(u16::from_be_bytes))
                .collect();
            String::from_utf16(&units?).ok()
        }
        _ => None,
    }
}

/// `(attribute, value)` for every value of every attribute AWS IoT names, in encoded order
/// (all values of a multi-valued RDN included).
pub(crate) fn attributes(name: &Name) -> Vec<(DnAttribute, String)> {
    name.iter_rdn()
        .flat_map(|rdn| rdn.iter())
        .filter_map(|atv| Some((DnAttribute::from_oid(&atv.oid)?, value_text(atv)?)))
        .collect()
}

fn escape(value: &str, out: &mut String) {
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        let special = matches!(c, '"' | '+' | ',' | ';' | '<' | '>' | '\\')
            || (i == 0 && matches!(c, '#' | ' '))
            || (i == last && c == ' ');
        if special {
            out.push('\\');
        }
        out.push(c);
    }
}

/// RFC 4514 text: RDNs from last to first, multi-valued RDNs joined by `+`, unknown types as
/// dotted OIDs with `#`-hex values.
pub(crate) fn to_rfc4514(name: &Name) -> String {
    let mut out = String::new();
    let rdns: Vec<_> = name.iter_rdn().collect();
    for (i, rdn) in rdns.iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, atv) in rdn.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            match short_name(&atv.oid) {
                Some(short) => out.push_str(short),
                None => out.push_str(&atv.oid.to_string()),
            }
            out.push('=');
            match value_text(atv) {
                Some(text) => escape(&text, &mut out),
                None => {
                    out.push('#');
                    let der = der::Encode::to_der(&atv.value).unwrap_or_default();
                    out.push_str(&hex::encode(&der));
                }
            }
        }
    }
    out
}
