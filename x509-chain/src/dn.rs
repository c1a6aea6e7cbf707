//! Distinguished names, read in place: the structure checked once when the certificate is
//! parsed, attribute values as text, RFC 4514 rendering, and the attributes AWS IoT names
//! (their vocabulary is `iot-identity`'s).

use der::oid::ObjectIdentifier;

use crate::der::{self as tlv, Tlv};

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

/// A `Name` (RFC 5280 §4.1.2.4) as encoded, its structure checked by [`NameRef::parse`]:
/// `SEQUENCE OF SET OF SEQUENCE { type OBJECT IDENTIFIER, value ANY }`. Only `parse` makes
/// one (or remakes one from the parts it returned), so the readers below walk bytes already
/// known to be well-formed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NameRef<'a> {
    /// The whole encoding.
    pub(crate) raw: &'a [u8],
    /// The RDNSequence's contents.
    rdns: &'a [u8],
}

/// One attribute of a relative distinguished name.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Atv<'a> {
    pub(crate) oid: ObjectIdentifier,
    /// The value's whole encoding (tag, length, contents).
    pub(crate) value: Tlv<'a>,
}

impl<'a> NameRef<'a> {
    /// Checks one whole `Name` encoding (nothing after it).
    pub(crate) fn parse(der: &'a [u8]) -> Option<NameRef<'a>> {
        let (name, rest) = tlv::expect(der, tlv::SEQUENCE)?;
        if !rest.is_empty() {
            return None;
        }
        let name = NameRef {
            raw: der,
            rdns: name.value,
        };
        tlv::for_each(
            name.rdns,
            || (),
            |rdn| {
                if rdn.tag != tlv::SET {
                    return Err(());
                }
                tlv::for_each(rdn.value, || (), |atv| is_atv(atv).then_some(()).ok_or(()))
            },
        )
        .ok()?;
        Some(name)
    }

    /// The name `parse` returned, again from its encoding and [`NameRef::rdns_bytes`].
    pub(crate) fn checked(raw: &'a [u8], rdns: &'a [u8]) -> NameRef<'a> {
        NameRef { raw, rdns }
    }

    /// The RDNSequence's contents.
    pub(crate) fn rdns_bytes(self) -> &'a [u8] {
        self.rdns
    }

    /// No RDNs at all.
    pub(crate) fn is_empty(self) -> bool {
        self.rdns.is_empty()
    }

    /// The RDNs in encoded order, each as its attributes in encoded order.
    pub(crate) fn rdns(self) -> impl Iterator<Item = impl Iterator<Item = Atv<'a>>> {
        // `parse` checked every element these iterators read, so none of them ends early.
        tlv::elements(self.rdns).map(|rdn| tlv::elements(rdn.value).map_while(atv_of))
    }
}

/// `AttributeTypeAndValue ::= SEQUENCE { type OBJECT IDENTIFIER, value ANY }`, the value with
/// a tag `der` decodes?
fn is_atv(atv: Tlv<'_>) -> bool {
    if atv.tag != tlv::SEQUENCE {
        return false;
    }
    let Some((oid, rest)) = tlv::read(atv.value) else {
        return false;
    };
    tlv::is_oid(oid)
        && tlv::read(rest).is_some_and(|(value, rest)| tlv::is_any(value) && rest.is_empty())
}

/// An `AttributeTypeAndValue` [`is_atv`] accepted.
fn atv_of(atv: Tlv<'_>) -> Option<Atv<'_>> {
    if atv.tag != tlv::SEQUENCE {
        return None;
    }
    let (oid, rest) = tlv::read(atv.value)?;
    let oid = tlv::oid(oid)?;
    let (value, rest) = tlv::read(rest)?;
    rest.is_empty().then_some(Atv { oid, value })
}

/// The text of an attribute value: the string types of X.520 (UTF8String, PrintableString,
/// IA5String, TeletexString read as Latin-1, BMPString); `None` otherwise.
pub(crate) fn value_text(value: Tlv<'_>) -> Option<String> {
    const UTF8_STRING: u8 = 0x0c;
    const NUMERIC_STRING: u8 = 0x12;
    const PRINTABLE_STRING: u8 = 0x13;
    const TELETEX_STRING: u8 = 0x14;
    const IA5_STRING: u8 = 0x16;
    const VISIBLE_STRING: u8 = 0x1a;
    const BMP_STRING: u8 = 0x1e;
    let bytes = value.value;
    match value.tag {
        UTF8_STRING | PRINTABLE_STRING | IA5_STRING | NUMERIC_STRING | VISIBLE_STRING => {
            String::from_utf8(bytes.to_vec()).ok()
        }
        // TeletexString: in practice Latin-1.
        TELETEX_STRING => Some(bytes.iter().map(|&b| char::from(b)).collect()),
        // BMPString: UCS-2 big-endian.
        BMP_STRING => {
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
pub(crate) fn attributes(name: NameRef<'_>) -> Vec<(DnAttribute, String)> {
    name.rdns()
        .flatten()
        .filter_map(|atv| Some((attribute(&atv.oid)?, value_text(atv.value)?)))
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

/// RFC 4514 text: RDNs from last to first, multi-valued RDNs joined by `+` (in encoded
/// order), unknown types as dotted OIDs, values that are not text as `#` and the hex of
/// their DER.
pub(crate) fn to_rfc4514(name: NameRef<'_>) -> String {
    let mut out = String::new();
    let rdns: Vec<Vec<Atv<'_>>> = name.rdns().map(Iterator::collect).collect();
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
            match value_text(atv.value) {
                Some(text) => escape(&text, &mut out),
                None => {
                    out.push('#');
                    out.push_str(&hex::encode(atv.value.raw));
                }
            }
        }
    }
    out
}
