//! Distinguished names: attribute values as text, RFC 4514 rendering, and the attributes AWS
//! IoT names (their vocabulary is `iot-identity`'s).

use der::Tagged as _;
use der::oid::ObjectIdentifier;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::name::Name;

pub use iot_identity::DnAttribute;

/// The attribute for an object identifier, if it is one AWS IoT names.
fn attribute(oid: &ObjectIdentifier) -> Option<DnAttribute> {
    DnAttribute::from_oid(&oid.to_string())
}

/// The short name RFC 4514 (or common usage) gives an attribute type.
fn short_name(oid: &ObjectIdentifier) -> Option<&'static str> {
    let dotted = oid.to_string();
    if let Some(a) = DnAttribute::from_oid(&dotted) {
        return Some(a.short_name());
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
        .filter_map(|atv| Some((attribute(&atv.oid)?, value_text(atv)?)))
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
