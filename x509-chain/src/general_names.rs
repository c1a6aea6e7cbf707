//! `GeneralNames` (RFC 5280 §4.2.1.6), read in place: the kinds this crate compares (rfc822Name,
//! dNSName, URI, iPAddress, directoryName) are checked here; a list holding any other kind is
//! checked by `x509-cert`'s decoder, so both accept the same encodings.

use der::Decode as _;
use x509_cert::ext::pkix::name::GeneralName;

use crate::der::{self as tlv, Tlv};
use crate::dn::NameRef;

/// One entry.
#[derive(Clone, Copy, Debug)]
pub(crate) enum GeneralNameRef<'a> {
    Rfc822(&'a str),
    Dns(&'a str),
    Uri(&'a str),
    /// 4 octets for IPv4, 16 for IPv6; any other length in a malformed certificate.
    Ip(&'a [u8]),
    Directory(NameRef<'a>),
    /// otherName, x400Address, ediPartyName or registeredID, as encoded.
    Other(Tlv<'a>),
}

const RFC822: u8 = 0x81;
const DNS: u8 = 0x82;
const X400: u8 = 0xa3;
const DIRECTORY: u8 = 0xa4;
const EDI_PARTY: u8 = 0xa5;
const URI: u8 = 0x86;
const IP: u8 = 0x87;
/// otherName, constructed.
pub(crate) const OTHER_NAME: u8 = 0xa0;
/// registeredID.
pub(crate) const REGISTERED_ID: u8 = 0x88;

/// A checked, non-empty `GeneralNames` list: made by [`GeneralNames::parse`], or again from
/// the bytes it returned.
#[derive(Clone, Copy, Debug)]
pub(crate) struct GeneralNames<'a> {
    /// The SEQUENCE's contents.
    list: &'a [u8],
}

impl<'a> GeneralNames<'a> {
    /// Checks one whole `GeneralNames` encoding; the error is the defect, as text.
    pub(crate) fn parse(der: &'a [u8]) -> Result<GeneralNames<'a>, String> {
        let malformed = || "malformed GeneralNames".to_string();
        let (seq, rest) = tlv::expect(der, tlv::SEQUENCE).ok_or_else(malformed)?;
        if !rest.is_empty() {
            return Err(malformed());
        }
        // GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName
        if seq.value.is_empty() {
            return Err("empty subjectAltName".into());
        }
        let mut other_kinds = false;
        tlv::for_each(seq.value, malformed, |name| match entry(name) {
            Some(GeneralNameRef::Other(_)) => {
                other_kinds = true;
                Ok(())
            }
            Some(_) => Ok(()),
            None => Err(malformed()),
        })?;
        if other_kinds {
            Vec::<GeneralName>::from_der(der).map_err(|e| e.to_string())?;
        }
        Ok(GeneralNames { list: seq.value })
    }

    /// The list `parse` returned, again from its [`GeneralNames::list`].
    pub(crate) fn checked(list: &'a [u8]) -> GeneralNames<'a> {
        GeneralNames { list }
    }

    /// The SEQUENCE's contents.
    pub(crate) fn list(self) -> &'a [u8] {
        self.list
    }

    /// The entries, in encoded order.
    pub(crate) fn iter(self) -> impl Iterator<Item = GeneralNameRef<'a>> {
        // `parse` checked every entry, so this never ends early.
        tlv::elements(self.list).map_while(entry)
    }
}

/// One entry, if its tag is a GeneralName's and the kinds read here are well-formed.
fn entry(name: Tlv<'_>) -> Option<GeneralNameRef<'_>> {
    Some(match name.tag {
        RFC822 => GeneralNameRef::Rfc822(ia5(name.value)?),
        DNS => GeneralNameRef::Dns(ia5(name.value)?),
        URI => GeneralNameRef::Uri(ia5(name.value)?),
        IP => GeneralNameRef::Ip(name.value),
        // [4] is EXPLICIT: the Name's own encoding inside.
        DIRECTORY => GeneralNameRef::Directory(NameRef::parse(name.value)?),
        OTHER_NAME | X400 | EDI_PARTY | REGISTERED_ID => GeneralNameRef::Other(name),
        _ => return None,
    })
}

/// An IA5String's text: seven-bit characters only.
fn ia5(bytes: &[u8]) -> Option<&str> {
    if bytes.is_ascii() {
        std::str::from_utf8(bytes).ok()
    } else {
        None
    }
}
