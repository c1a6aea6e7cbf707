//! One parsed certificate: the decoded structure plus the exact byte ranges and the extension
//! facts that path validation reads, decoded once.

use der::Decode;
use der::oid::ObjectIdentifier;
use x509_cert::Certificate;
use x509_cert::certificate::Version;
use x509_cert::ext::pkix::constraints::{BasicConstraints, NameConstraints};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, KeyUsage};

use crate::der::{self as tlv, Span};
use crate::error::CertificateError;

/// Object identifiers this crate recognises.
pub(crate) mod oid {
    use der::oid::ObjectIdentifier as Oid;

    pub(crate) const SUBJECT_KEY_ID: Oid = Oid::new_unwrap("2.5.29.14");
    pub(crate) const KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.15");
    pub(crate) const SUBJECT_ALT_NAME: Oid = Oid::new_unwrap("2.5.29.17");
    pub(crate) const BASIC_CONSTRAINTS: Oid = Oid::new_unwrap("2.5.29.19");
    pub(crate) const CRL_NUMBER: Oid = Oid::new_unwrap("2.5.29.20");
    pub(crate) const NAME_CONSTRAINTS: Oid = Oid::new_unwrap("2.5.29.30");
    pub(crate) const CERTIFICATE_POLICIES: Oid = Oid::new_unwrap("2.5.29.32");
    pub(crate) const AUTHORITY_KEY_ID: Oid = Oid::new_unwrap("2.5.29.35");
    pub(crate) const POLICY_CONSTRAINTS: Oid = Oid::new_unwrap("2.5.29.36");
    pub(crate) const EXT_KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.37");
    pub(crate) const AUTHORITY_INFO_ACCESS: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.1.1");

    pub(crate) const ANY_EKU: Oid = Oid::new_unwrap("2.5.29.37.0");
    pub(crate) const KP_SERVER_AUTH: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.1");
    pub(crate) const KP_CLIENT_AUTH: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.2");

    pub(crate) const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
    pub(crate) const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
    pub(crate) const ED25519: Oid = Oid::new_unwrap("1.3.101.112");
    pub(crate) const SECP256R1: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
    pub(crate) const SECP384R1: Oid = Oid::new_unwrap("1.3.132.0.34");
    pub(crate) const SECP521R1: Oid = Oid::new_unwrap("1.3.132.0.35");
}

/// An extension's decoded value and whether it was marked critical.
#[derive(Clone, Debug)]
pub(crate) struct Ext<T> {
    pub(crate) value: T,
    pub(crate) critical: bool,
}

/// The public key's algorithm, as far as the key-strength rules need it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyKind {
    /// RSA with a modulus of this many bits.
    Rsa {
        bits: usize,
    },
    /// ECDSA on a named curve this crate supports.
    EcP256,
    EcP384,
    EcP521,
    /// ECDSA with explicit parameters or an unsupported named curve.
    EcOther,
    Ed25519,
    /// Anything else (DSA, ...).
    Other,
}

/// The extension facts that path validation reads.
#[derive(Clone, Debug, Default)]
pub(crate) struct Extensions {
    pub(crate) basic_constraints: Option<Ext<BasicConstraints>>,
    pub(crate) key_usage: Option<Ext<KeyUsage>>,
    pub(crate) ext_key_usage: Option<Ext<Vec<ObjectIdentifier>>>,
    pub(crate) subject_alt_name: Option<Ext<Vec<GeneralName>>>,
    pub(crate) name_constraints: Option<Ext<NameConstraints>>,
    pub(crate) subject_key_id: Option<Ext<Vec<u8>>>,
    pub(crate) authority_key_id: Option<Ext<AuthorityKeyIdentifier>>,
    pub(crate) policy_constraints: Option<Ext<()>>,
    /// The first critical extension this crate does not process (RFC 5280 §4.2).
    pub(crate) unknown_critical: Option<ObjectIdentifier>,
}

/// A decoded certificate that keeps its DER.
#[derive(Clone, Debug)]
pub(crate) struct Cert {
    pub(crate) der: Vec<u8>,
    tbs: Span,
    signature_algorithm: Span,
    tbs_signature_algorithm: Span,
    signature: Span,
    issuer: Span,
    subject: Span,
    spki_algorithm: Span,
    spki_key: Span,
    pub(crate) parsed: Certificate,
    pub(crate) not_before: u64,
    pub(crate) not_after: u64,
    pub(crate) key: KeyKind,
    pub(crate) ext: Extensions,
}

fn malformed(what: &'static str) -> CertificateError {
    CertificateError::Malformed { what }
}

impl Cert {
    /// Decodes `der` strictly: one DER certificate, nothing after it, no duplicate
    /// extensions, every extension this crate processes well-formed.
    pub(crate) fn parse(der: &[u8]) -> Result<Cert, CertificateError> {
        let parsed = Certificate::from_der(der).map_err(|e| CertificateError::Encoding {
            detail: e.to_string(),
        })?;

        // Byte ranges: Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm,
        // signatureValue } (RFC 5280 §4.1).
        let (outer, rest) = tlv::expect(der, tlv::SEQUENCE).ok_or(malformed("Certificate"))?;
        if !rest.is_empty() {
            return Err(CertificateError::TrailingData);
        }
        let (tbs, rest) =
            tlv::expect(outer.value, tlv::SEQUENCE).ok_or(malformed("tbsCertificate"))?;
        let (sig_alg, rest) =
            tlv::expect(rest, tlv::SEQUENCE).ok_or(malformed("signatureAlgorithm"))?;
        let (sig, _) = tlv::read(rest).ok_or(malformed("signatureValue"))?;
        let sig_bits = tlv::bit_string_octets(sig).ok_or(malformed("signatureValue"))?;

        // TBSCertificate ::= SEQUENCE { [0] version OPTIONAL, serialNumber, signature, issuer,
        // validity, subject, subjectPublicKeyInfo, ... }
        let mut fields = tbs.value;
        let (first, after) = tlv::read(fields).ok_or(malformed("version"))?;
        if first.tag == 0xa0 {
            fields = after;
        }
        let (_serial, fields) =
            tlv::expect(fields, tlv::INTEGER).ok_or(malformed("serialNumber"))?;
        let (tbs_sig_alg, fields) =
            tlv::expect(fields, tlv::SEQUENCE).ok_or(malformed("signature"))?;
        let (issuer, fields) = tlv::expect(fields, tlv::SEQUENCE).ok_or(malformed("issuer"))?;
        let (_validity, fields) =
            tlv::expect(fields, tlv::SEQUENCE).ok_or(malformed("validity"))?;
        let (subject, fields) = tlv::expect(fields, tlv::SEQUENCE).ok_or(malformed("subject"))?;
        let (spki, _) =
            tlv::expect(fields, tlv::SEQUENCE).ok_or(malformed("subjectPublicKeyInfo"))?;
        let (spki_alg, rest) =
            tlv::expect(spki.value, tlv::SEQUENCE).ok_or(malformed("algorithm"))?;
        let (spki_key, _) = tlv::read(rest).ok_or(malformed("subjectPublicKey"))?;
        let key_bits = tlv::bit_string_octets(spki_key).ok_or(malformed("subjectPublicKey"))?;

        let tbs_cert = parsed.tbs_certificate();
        let not_before = tbs_cert.validity().not_before.to_unix_duration().as_secs();
        let not_after = tbs_cert.validity().not_after.to_unix_duration().as_secs();
        let key = key_kind(&parsed, key_bits);
        let ext = extensions(&parsed)?;

        Ok(Cert {
            tbs: tlv::span(der, tbs.raw),
            signature_algorithm: tlv::span(der, sig_alg.value),
            tbs_signature_algorithm: tlv::span(der, tbs_sig_alg.value),
            signature: tlv::span(der, sig_bits),
            issuer: tlv::span(der, issuer.raw),
            subject: tlv::span(der, subject.raw),
            spki_algorithm: tlv::span(der, spki_alg.value),
            spki_key: tlv::span(der, key_bits),
            der: der.to_vec(),
            parsed,
            not_before,
            not_after,
            key,
            ext,
        })
    }

    /// The signed bytes: the DER of `tbsCertificate` as received.
    pub(crate) fn tbs(&self) -> &[u8] {
        self.tbs.of(&self.der)
    }
    /// Contents of the outer `signatureAlgorithm` AlgorithmIdentifier.
    pub(crate) fn signature_algorithm(&self) -> &[u8] {
        self.signature_algorithm.of(&self.der)
    }
    /// Contents of `tbsCertificate.signature`.
    pub(crate) fn tbs_signature_algorithm(&self) -> &[u8] {
        self.tbs_signature_algorithm.of(&self.der)
    }
    pub(crate) fn signature(&self) -> &[u8] {
        self.signature.of(&self.der)
    }
    /// The issuer Name's full DER encoding.
    pub(crate) fn issuer_der(&self) -> &[u8] {
        self.issuer.of(&self.der)
    }
    /// The subject Name's full DER encoding.
    pub(crate) fn subject_der(&self) -> &[u8] {
        self.subject.of(&self.der)
    }
    /// Contents of the subjectPublicKeyInfo's AlgorithmIdentifier.
    pub(crate) fn spki_algorithm(&self) -> &[u8] {
        self.spki_algorithm.of(&self.der)
    }
    /// The subjectPublicKey bits.
    pub(crate) fn spki_key(&self) -> &[u8] {
        self.spki_key.of(&self.der)
    }
    pub(crate) fn version(&self) -> Version {
        self.parsed.tbs_certificate().version()
    }
    /// Subject and issuer are the same name (RFC 5280 §6.1: "self-issued").
    pub(crate) fn is_self_issued(&self) -> bool {
        self.subject_der() == self.issuer_der()
    }
    pub(crate) fn is_ca(&self) -> bool {
        self.ext
            .basic_constraints
            .as_ref()
            .is_some_and(|b| b.value.ca)
    }
    pub(crate) fn subject_is_empty(&self) -> bool {
        self.parsed.tbs_certificate().subject().is_empty()
    }
    /// The serial number's content octets (two's complement, as encoded).
    pub(crate) fn serial(&self) -> &[u8] {
        self.parsed.tbs_certificate().serial_number().as_bytes()
    }
}

fn key_kind(cert: &Certificate, key_bits: &[u8]) -> KeyKind {
    let spki = cert.tbs_certificate().subject_public_key_info();
    let alg = spki.algorithm.oid;
    if alg == oid::RSA_ENCRYPTION {
        // A modulus that does not parse is no usable RSA key: rejected as unsupported, not
        // reported as a key of 0 bits.
        tlv::rsa_modulus_bits(key_bits).map_or(KeyKind::Other, |bits| KeyKind::Rsa { bits })
    } else if alg == oid::EC_PUBLIC_KEY {
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
        match curve {
            Some(c) if c == oid::SECP256R1 => KeyKind::EcP256,
            Some(c) if c == oid::SECP384R1 => KeyKind::EcP384,
            Some(c) if c == oid::SECP521R1 => KeyKind::EcP521,
            _ => KeyKind::EcOther,
        }
    } else if alg == oid::ED25519 {
        KeyKind::Ed25519
    } else {
        KeyKind::Other
    }
}

fn decode<'a, T: Decode<'a>>(
    oid: ObjectIdentifier,
    bytes: &'a [u8],
) -> Result<T, CertificateError> {
    T::from_der(bytes).map_err(|e| CertificateError::BadExtension {
        oid: oid.to_string(),
        detail: e.to_string(),
    })
}

fn extensions(cert: &Certificate) -> Result<Extensions, CertificateError> {
    let mut out = Extensions::default();
    let Some(list) = cert.tbs_certificate().extensions() else {
        return Ok(out);
    };
    // RFC 5280 §4.1.2.9: extensions only in v3 certificates.
    if cert.tbs_certificate().version() != Version::V3 {
        return Err(CertificateError::ExtensionsInNonV3);
    }
    if list.is_empty() {
        // Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension
        return Err(malformed("extensions (empty)"));
    }
    for (i, ext) in list.iter().enumerate() {
        // RFC 5280 §4.2: "A certificate MUST NOT include more than one instance of a
        // particular extension."
        if list.iter().take(i).any(|e| e.extn_id == ext.extn_id) {
            return Err(CertificateError::DuplicateExtension {
                oid: ext.extn_id.to_string(),
            });
        }
        let id = ext.extn_id;
        let bytes = ext.extn_value.as_bytes();
        let critical = ext.critical;
        match id {
            oid::BASIC_CONSTRAINTS => {
                out.basic_constraints = Some(Ext {
                    value: decode(id, bytes)?,
                    critical,
                });
            }
            oid::KEY_USAGE => {
                out.key_usage = Some(Ext {
                    value: decode(id, bytes)?,
                    critical,
                });
            }
            oid::EXT_KEY_USAGE => {
                let list: Vec<ObjectIdentifier> = decode(id, bytes)?;
                out.ext_key_usage = Some(Ext {
                    value: list,
                    critical,
                });
            }
            oid::SUBJECT_ALT_NAME => {
                let names: Vec<GeneralName> = decode(id, bytes)?;
                // GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName
                if names.is_empty() {
                    return Err(CertificateError::BadExtension {
                        oid: id.to_string(),
                        detail: "empty subjectAltName".into(),
                    });
                }
                out.subject_alt_name = Some(Ext {
                    value: names,
                    critical,
                });
            }
            oid::NAME_CONSTRAINTS => {
                out.name_constraints = Some(Ext {
                    value: decode(id, bytes)?,
                    critical,
                });
            }
            oid::SUBJECT_KEY_ID => {
                let ski: der::asn1::OctetString = decode(id, bytes)?;
                out.subject_key_id = Some(Ext {
                    value: ski.as_bytes().to_vec(),
                    critical,
                });
            }
            oid::AUTHORITY_KEY_ID => {
                out.authority_key_id = Some(Ext {
                    value: decode(id, bytes)?,
                    critical,
                });
            }
            oid::POLICY_CONSTRAINTS => {
                out.policy_constraints = Some(Ext {
                    value: (),
                    critical,
                });
                // Policy processing (RFC 5280 §6.1.3 (d)-(f)) is not implemented, so a
                // critical policyConstraints stays unprocessed.
                if critical && out.unknown_critical.is_none() {
                    out.unknown_critical = Some(id);
                }
            }
            oid::AUTHORITY_INFO_ACCESS => {
                let aia: x509_cert::ext::pkix::AuthorityInfoAccessSyntax = decode(id, bytes)?;
                // RFC 5280 §4.2.2.1: "Conforming CAs MUST mark this extension as
                // non-critical."
                if critical {
                    return Err(CertificateError::BadExtension {
                        oid: id.to_string(),
                        detail: "authorityInfoAccess marked critical".into(),
                    });
                }
                drop(aia);
            }
            oid::CERTIFICATE_POLICIES => {
                // Accepted and ignored even when critical: this verifier does not constrain
                // policies, which RFC 5280 §6.1 permits with initial-policy-set = anyPolicy
                // and no explicit policy required.
                let _: x509_cert::ext::pkix::CertificatePolicies = decode(id, bytes)?;
            }
            _ => {
                if critical && out.unknown_critical.is_none() {
                    out.unknown_critical = Some(id);
                }
            }
        }
    }
    Ok(out)
}
