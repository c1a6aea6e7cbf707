//! The leaf's identity fields, as AWS IoT exposes them to policies.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use rustls_pki_types::UnixTime;
use sha2::{Digest, Sha256};

use crate::cert::Cert;
use crate::dn::{self, DnAttribute};
use crate::error::CertificateError;
use crate::general_names::GeneralNameRef;
use crate::time::from_secs;

pub use iot_identity::AltNameKind;

/// An IP address from an iPAddress GeneralName (4 or 16 octets).
pub(crate) fn ip_from_octets(octets: &[u8]) -> Option<IpAddr> {
    if let Ok(v4) = <[u8; 4]>::try_from(octets) {
        Some(IpAddr::V4(Ipv4Addr::from(v4)))
    } else {
        <[u8; 16]>::try_from(octets)
            .ok()
            .map(|v6| IpAddr::V6(Ipv6Addr::from(v6)))
    }
}

/// A subjectAltName entry as `(kind, text)`; other kinds (otherName, registeredID, ...) are
/// `None`.
pub(crate) fn alt_name(name: GeneralNameRef<'_>) -> Option<(AltNameKind, String)> {
    Some(match name {
        GeneralNameRef::Rfc822(s) => (AltNameKind::Rfc822Name, s.to_string()),
        GeneralNameRef::Dns(s) => (AltNameKind::DnsName, s.to_string()),
        GeneralNameRef::Directory(n) => (AltNameKind::DirectoryName, dn::to_rfc4514(n)),
        GeneralNameRef::Uri(s) => (AltNameKind::UniformResourceIdentifier, s.to_string()),
        GeneralNameRef::Ip(o) => (AltNameKind::IpAddress, ip_from_octets(o)?.to_string()),
        GeneralNameRef::Other(_) => return None,
    })
}

/// Who a certificate names: every field an AWS IoT policy can read about a device's
/// certificate. Built from the leaf of a [`VerifiedPath`](crate::VerifiedPath), or directly
/// from DER with [`Identity::from_der`] (which checks the encoding, not the chain).
///
/// With the `serde` feature it is written and read as its fields (validity in Unix seconds);
/// what is read back is what was written, not checked against any certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(from = "stored::StoredIdentity", into = "stored::StoredIdentity")
)]
pub struct Identity {
    subject: Vec<(DnAttribute, String)>,
    issuer: Vec<(DnAttribute, String)>,
    subject_dn: String,
    issuer_dn: String,
    alt_names: Vec<(AltNameKind, String)>,
    serial_number: String,
    certificate_id: String,
    not_before: UnixTime,
    not_after: UnixTime,
}

impl Identity {
    /// Decodes a DER certificate and reads its identity. The certificate is not verified.
    pub fn from_der(der: &[u8]) -> Result<Identity, CertificateError> {
        Cert::parse(der).map(|c| Identity::of(&c))
    }

    pub(crate) fn of(cert: &Cert) -> Identity {
        let alt_names = cert
            .subject_alt_name()
            // RFC 5280 §4.2.1.6: the extension is optional; without it there are no alt names.
            .map_or_else(Vec::new, |san| {
                san.value.iter().filter_map(alt_name).collect()
            });
        Identity {
            subject: dn::attributes(cert.subject()),
            issuer: dn::attributes(cert.issuer()),
            subject_dn: dn::to_rfc4514(cert.subject()),
            issuer_dn: dn::to_rfc4514(cert.issuer()),
            alt_names,
            serial_number: serial_hex(cert.serial()),
            certificate_id: certificate_id(&cert.der),
            not_before: from_secs(cert.not_before),
            not_after: from_secs(cert.not_after),
        }
    }

    /// Every subject attribute AWS IoT names, with every value of multi-valued RDNs, in
    /// encoded order. Attributes outside the fourteen (DC, emailAddress, ...) are left out;
    /// [`Identity::subject_dn`] has them all.
    pub fn subject(&self) -> &[(DnAttribute, String)] {
        &self.subject
    }

    /// The issuer's attributes, as [`Identity::subject`].
    pub fn issuer(&self) -> &[(DnAttribute, String)] {
        &self.issuer
    }

    /// Every value of one subject attribute.
    pub fn subject_values(&self, attribute: DnAttribute) -> impl Iterator<Item = &str> {
        self.subject
            .iter()
            .filter(move |(a, _)| *a == attribute)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of one issuer attribute.
    pub fn issuer_values(&self, attribute: DnAttribute) -> impl Iterator<Item = &str> {
        self.issuer
            .iter()
            .filter(move |(a, _)| *a == attribute)
            .map(|(_, v)| v.as_str())
    }

    /// The whole subject as RFC 4514 text (`CN=device-1,O=Example`).
    pub fn subject_dn(&self) -> &str {
        &self.subject_dn
    }

    /// The whole issuer as RFC 4514 text.
    pub fn issuer_dn(&self) -> &str {
        &self.issuer_dn
    }

    /// subjectAltName entries of the five kinds AWS IoT names, in encoded order; IP
    /// addresses in their usual text form, directory names as RFC 4514 text.
    pub fn alt_names(&self) -> &[(AltNameKind, String)] {
        &self.alt_names
    }

    /// Every subjectAltName value of one kind.
    pub fn alt_name_values(&self, kind: AltNameKind) -> impl Iterator<Item = &str> {
        self.alt_names
            .iter()
            .filter(move |(k, _)| *k == kind)
            .map(|(_, v)| v.as_str())
    }

    /// The certificate's serial number as lower-case hex of its magnitude (no sign octet).
    pub fn serial_number(&self) -> &str {
        &self.serial_number
    }

    /// SHA-256 of the certificate's DER as 64 lower-case hex digits: the AWS IoT certificate
    /// id.
    pub fn certificate_id(&self) -> &str {
        &self.certificate_id
    }

    /// notBefore.
    pub fn not_before(&self) -> UnixTime {
        self.not_before
    }

    /// notAfter.
    pub fn not_after(&self) -> UnixTime {
        self.not_after
    }
}

/// The AWS IoT certificate id of a DER certificate: SHA-256 of its bytes as 64 lower-case
/// hex digits (what [`Identity::certificate_id`] gives once the certificate is verified).
pub fn certificate_id(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

fn serial_hex(octets: &[u8]) -> String {
    let magnitude = match octets.split_first() {
        Some((0, rest)) if !rest.is_empty() => rest,
        _ => octets,
    };
    hex::encode(magnitude)
}

/// The `serde` form of an [`Identity`]: its fields, with validity as Unix seconds (rustls'
/// `UnixTime` has no serde form of its own).
#[cfg(feature = "serde")]
mod stored {
    use super::{AltNameKind, DnAttribute, Identity, from_secs};

    #[derive(serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    pub(super) struct StoredIdentity {
        subject: Vec<(DnAttribute, String)>,
        issuer: Vec<(DnAttribute, String)>,
        subject_dn: String,
        issuer_dn: String,
        alt_names: Vec<(AltNameKind, String)>,
        serial_number: String,
        certificate_id: String,
        not_before: u64,
        not_after: u64,
    }

    impl From<Identity> for StoredIdentity {
        fn from(i: Identity) -> Self {
            StoredIdentity {
                subject: i.subject,
                issuer: i.issuer,
                subject_dn: i.subject_dn,
                issuer_dn: i.issuer_dn,
                alt_names: i.alt_names,
                serial_number: i.serial_number,
                certificate_id: i.certificate_id,
                not_before: i.not_before.as_secs(),
                not_after: i.not_after.as_secs(),
            }
        }
    }

    impl From<StoredIdentity> for Identity {
        fn from(s: StoredIdentity) -> Self {
            Identity {
                subject: s.subject,
                issuer: s.issuer,
                subject_dn: s.subject_dn,
                issuer_dn: s.issuer_dn,
                alt_names: s.alt_names,
                serial_number: s.serial_number,
                certificate_id: s.certificate_id,
                not_before: from_secs(s.not_before),
                not_after: from_secs(s.not_after),
            }
        }
    }
}
