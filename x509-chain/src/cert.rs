//! One parsed certificate: its DER, kept, and what path validation reads from it, found in
//! place in one pass (RFC 5280 §4.1). Nothing is copied out but the extension facts; the
//! rarely present extensions this crate interprets structurally (nameConstraints,
//! authorityInfoAccess, certificatePolicies, an authorityKeyIdentifier naming its issuer) are
//! decoded with `x509-cert`.

use der::Decode;
use der::oid::ObjectIdentifier;
use x509_cert::ext::pkix::constraints::NameConstraints;

use crate::der::{self as tlv, Span, Tlv};
use crate::dn::NameRef;
use crate::error::CertificateError;
use crate::general_names::GeneralNames;

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

/// An extension's value and whether it was marked critical.
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

/// `BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER
/// (0..MAX) OPTIONAL }` (RFC 5280 §4.2.1.9); path lengths past 255 are refused.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BasicConstraints {
    pub(crate) ca: bool,
    pub(crate) path_len_constraint: Option<u8>,
}

/// The keyUsage bits (RFC 5280 §4.2.1.3), bit 0 first.
#[derive(Clone, Copy, Debug)]
pub(crate) struct KeyUsage {
    bits: u16,
}

impl KeyUsage {
    fn bit(self, n: u16) -> bool {
        self.bits & (0x8000 >> n) != 0
    }
    pub(crate) fn digital_signature(self) -> bool {
        self.bit(0)
    }
    pub(crate) fn key_cert_sign(self) -> bool {
        self.bit(5)
    }
    pub(crate) fn crl_sign(self) -> bool {
        self.bit(6)
    }
}

/// What path validation reads of an authorityKeyIdentifier (RFC 5280 §4.2.1.1).
#[derive(Clone, Copy, Debug)]
pub(crate) struct AuthorityKeyId {
    key_identifier: Option<Span>,
    pub(crate) has_issuer: bool,
    pub(crate) has_serial: bool,
}

/// The extension facts that path validation reads; byte ranges are into the certificate's DER.
#[derive(Clone, Debug, Default)]
pub(crate) struct Extensions {
    pub(crate) basic_constraints: Option<Ext<BasicConstraints>>,
    pub(crate) key_usage: Option<Ext<KeyUsage>>,
    /// The contents of the checked `SEQUENCE OF KeyPurposeId`.
    ext_key_usage: Option<Ext<Span>>,
    /// The whole checked `GeneralNames` encoding.
    subject_alt_name: Option<Ext<Span>>,
    pub(crate) name_constraints: Option<Ext<NameConstraints>>,
    subject_key_id: Option<Ext<Span>>,
    authority_key_id: Option<Ext<AuthorityKeyId>>,
    pub(crate) policy_constraints: Option<Ext<()>>,
    /// The first critical extension this crate does not process (RFC 5280 §4.2).
    pub(crate) unknown_critical: Option<ObjectIdentifier>,
}

/// A parsed certificate that keeps its DER.
#[derive(Clone, Debug)]
pub(crate) struct Cert {
    pub(crate) der: Vec<u8>,
    tbs: Span,
    signature_algorithm: Span,
    tbs_signature_algorithm: Span,
    signature: Span,
    serial: Span,
    issuer: NameSpans,
    subject: NameSpans,
    spki_algorithm: Span,
    spki_key: Span,
    /// The encoded version number: 0 for v1 (absent), 2 for v3.
    version: u8,
    issuer_is_empty: bool,
    subject_is_empty: bool,
    pub(crate) not_before: u64,
    pub(crate) not_after: u64,
    pub(crate) key: KeyKind,
    pub(crate) ext: Extensions,
}

fn malformed(what: &'static str) -> CertificateError {
    CertificateError::Malformed { what }
}

fn bad_extension(oid: ObjectIdentifier, detail: impl Into<String>) -> CertificateError {
    CertificateError::BadExtension {
        oid: oid.to_string(),
        detail: detail.into(),
    }
}

/// Reads one element with `tag`, or says which field was malformed.
fn expect<'a>(
    input: &'a [u8],
    tag: u8,
    what: &'static str,
) -> Result<(Tlv<'a>, &'a [u8]), CertificateError> {
    tlv::expect(input, tag).ok_or(malformed(what))
}

/// `AlgorithmIdentifier ::= SEQUENCE { algorithm OBJECT IDENTIFIER, parameters ANY OPTIONAL }`:
/// the algorithm and the parameters' encoding (empty when absent).
fn algorithm<'a>(
    tlv: Tlv<'a>,
    what: &'static str,
) -> Result<(&'a [u8], &'a [u8]), CertificateError> {
    let (oid, params) = tlv::read(tlv.value).ok_or(malformed(what))?;
    if !tlv::is_oid(oid) {
        return Err(malformed(what));
    }
    if !params.is_empty() {
        let (value, rest) = tlv::read(params).ok_or(malformed(what))?;
        if !tlv::is_any(value) || !rest.is_empty() {
            return Err(malformed(what));
        }
    }
    Ok((oid.value, params))
}

impl Cert {
    /// Parses `der` strictly: one DER certificate, nothing after it, every field this crate
    /// reads well-formed, no duplicate extensions, every extension this crate processes
    /// well-formed.
    pub(crate) fn parse(der: &[u8]) -> Result<Cert, CertificateError> {
        // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }
        let (outer, rest) = expect(der, tlv::SEQUENCE, "Certificate")?;
        if !rest.is_empty() {
            return Err(CertificateError::TrailingData);
        }
        let (tbs, rest) = expect(outer.value, tlv::SEQUENCE, "tbsCertificate")?;
        let (sig_alg, rest) = expect(rest, tlv::SEQUENCE, "signatureAlgorithm")?;
        algorithm(sig_alg, "signatureAlgorithm")?;
        let (sig, rest) = expect(rest, tlv::BIT_STRING, "signatureValue")?;
        let sig_bits = tlv::bit_string_octets(sig).ok_or(malformed("signatureValue"))?;
        if !rest.is_empty() {
            return Err(malformed("Certificate"));
        }

        // TBSCertificate ::= SEQUENCE { version [0] EXPLICIT DEFAULT v1, serialNumber,
        // signature, issuer, validity, subject, subjectPublicKeyInfo, issuerUniqueID [1]
        // OPTIONAL, subjectUniqueID [2] OPTIONAL, extensions [3] EXPLICIT OPTIONAL }
        let (version, fields) = tlv::optional(tbs.value, 0xa0).ok_or(malformed("version"))?;
        let version = match version {
            None => 0,
            Some(v) => {
                let (int, rest) = tlv::read(v.value).ok_or(malformed("version"))?;
                match (tlv::small_uint(int), rest.is_empty()) {
                    (Some(n @ 0..=2), true) => n,
                    _ => return Err(malformed("version")),
                }
            }
        };
        let (serial, fields) = expect(fields, tlv::INTEGER, "serialNumber")?;
        if !tlv::is_minimal_integer(serial.value) {
            return Err(malformed("serialNumber"));
        }
        let (tbs_sig_alg, fields) = expect(fields, tlv::SEQUENCE, "signature")?;
        algorithm(tbs_sig_alg, "signature")?;
        let (issuer, fields) = tlv::read(fields).ok_or(malformed("issuer"))?;
        let issuer_name = NameRef::parse(issuer.raw).ok_or(malformed("issuer"))?;
        let (validity, fields) = expect(fields, tlv::SEQUENCE, "validity")?;
        let (not_before, not_after) = validity_of(validity)?;
        let (subject, fields) = tlv::read(fields).ok_or(malformed("subject"))?;
        let subject_name = NameRef::parse(subject.raw).ok_or(malformed("subject"))?;
        let (spki, fields) = expect(fields, tlv::SEQUENCE, "subjectPublicKeyInfo")?;
        let (spki_alg, rest) = expect(spki.value, tlv::SEQUENCE, "algorithm")?;
        let (key_alg, key_params) = algorithm(spki_alg, "algorithm")?;
        let (spki_key, rest) = expect(rest, tlv::BIT_STRING, "subjectPublicKey")?;
        if !rest.is_empty() {
            return Err(malformed("subjectPublicKeyInfo"));
        }
        let key_bits = tlv::bit_string_octets(spki_key).ok_or(malformed("subjectPublicKey"))?;
        // UniqueIdentifier ::= BIT STRING, tagged [1] and [2] IMPLICIT.
        let unique_id =
            |id: Option<Tlv<'_>>| id.is_none_or(|t| tlv::is_bit_string_content(t.value));
        let (issuer_uid, fields) =
            tlv::optional(fields, 0x81).ok_or(malformed("issuerUniqueID"))?;
        if !unique_id(issuer_uid) {
            return Err(malformed("issuerUniqueID"));
        }
        let (subject_uid, fields) =
            tlv::optional(fields, 0x82).ok_or(malformed("subjectUniqueID"))?;
        if !unique_id(subject_uid) {
            return Err(malformed("subjectUniqueID"));
        }
        let (extensions, fields) = tlv::optional(fields, 0xa3).ok_or(malformed("extensions"))?;
        if !fields.is_empty() {
            return Err(malformed("tbsCertificate"));
        }
        let ext = match extensions {
            // RFC 5280 §4.1.2.9: extensions only in v3 certificates.
            Some(_) if version != 2 => return Err(CertificateError::ExtensionsInNonV3),
            Some(list) => extensions_of(der, list)?,
            None => Extensions::default(),
        };

        Ok(Cert {
            tbs: tlv::span(der, tbs.raw),
            signature_algorithm: tlv::span(der, sig_alg.value),
            tbs_signature_algorithm: tlv::span(der, tbs_sig_alg.value),
            signature: tlv::span(der, sig_bits),
            serial: tlv::span(der, serial.value),
            issuer: NameSpans::of(der, issuer_name),
            subject: NameSpans::of(der, subject_name),
            spki_algorithm: tlv::span(der, spki_alg.value),
            spki_key: tlv::span(der, key_bits),
            version,
            issuer_is_empty: issuer_name.is_empty(),
            subject_is_empty: subject_name.is_empty(),
            not_before,
            not_after,
            key: key_kind(key_alg, key_params, key_bits),
            ext,
            der: der.to_vec(),
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
        self.issuer.raw.of(&self.der)
    }
    /// The subject Name's full DER encoding.
    pub(crate) fn subject_der(&self) -> &[u8] {
        self.subject.raw.of(&self.der)
    }
    /// The issuer Name, as checked at parse.
    pub(crate) fn issuer(&self) -> NameRef<'_> {
        self.issuer.name(&self.der)
    }
    /// The subject Name, as checked at parse.
    pub(crate) fn subject(&self) -> NameRef<'_> {
        self.subject.name(&self.der)
    }
    /// Contents of the subjectPublicKeyInfo's AlgorithmIdentifier.
    pub(crate) fn spki_algorithm(&self) -> &[u8] {
        self.spki_algorithm.of(&self.der)
    }
    /// The subjectPublicKey bits.
    pub(crate) fn spki_key(&self) -> &[u8] {
        self.spki_key.of(&self.der)
    }
    /// X.509 v3 (RFC 5280 §4.1.2.1: version 2 as encoded).
    pub(crate) fn is_v3(&self) -> bool {
        self.version == 2
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
    pub(crate) fn issuer_is_empty(&self) -> bool {
        self.issuer_is_empty
    }
    pub(crate) fn subject_is_empty(&self) -> bool {
        self.subject_is_empty
    }
    /// The serial number's content octets (two's complement, as encoded).
    pub(crate) fn serial(&self) -> &[u8] {
        self.serial.of(&self.der)
    }
    /// extendedKeyUsage, as its purposes.
    pub(crate) fn ext_key_usage(&self) -> Option<Ext<Purposes<'_>>> {
        self.ext.ext_key_usage.as_ref().map(|e| Ext {
            value: Purposes {
                list: e.value.of(&self.der),
            },
            critical: e.critical,
        })
    }
    /// subjectAltName, checked at parse.
    pub(crate) fn subject_alt_name(&self) -> Option<Ext<GeneralNames<'_>>> {
        self.ext.subject_alt_name.as_ref().map(|e| Ext {
            value: GeneralNames::checked(e.value.of(&self.der)),
            critical: e.critical,
        })
    }
    /// subjectKeyIdentifier's octets.
    pub(crate) fn subject_key_id(&self) -> Option<Ext<&[u8]>> {
        self.ext.subject_key_id.as_ref().map(|e| Ext {
            value: e.value.of(&self.der),
            critical: e.critical,
        })
    }
    /// authorityKeyIdentifier.
    pub(crate) fn authority_key_id(&self) -> Option<&Ext<AuthorityKeyId>> {
        self.ext.authority_key_id.as_ref()
    }
    /// authorityKeyIdentifier's keyIdentifier octets, if it has one.
    pub(crate) fn authority_key_identifier(&self) -> Option<&[u8]> {
        let aki = self.ext.authority_key_id.as_ref()?;
        aki.value.key_identifier.map(|s| s.of(&self.der))
    }
}

/// Where a checked Name is in a certificate's DER.
#[derive(Clone, Copy, Debug)]
struct NameSpans {
    raw: Span,
    rdns: Span,
}

impl NameSpans {
    fn of(der: &[u8], name: NameRef<'_>) -> NameSpans {
        NameSpans {
            raw: tlv::span(der, name.raw),
            rdns: tlv::span(der, name.rdns_bytes()),
        }
    }

    /// The name, from the certificate's DER.
    fn name(self, der: &[u8]) -> NameRef<'_> {
        NameRef::checked(self.raw.of(der), self.rdns.of(der))
    }
}

/// A checked `SEQUENCE OF KeyPurposeId`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Purposes<'a> {
    list: &'a [u8],
}

impl Purposes<'_> {
    /// Is `purpose` among them?
    pub(crate) fn contains(&self, purpose: &ObjectIdentifier) -> bool {
        let wanted = purpose.as_bytes();
        let mut input = self.list;
        while let Some((oid, rest)) = tlv::read(input) {
            if oid.value == wanted {
                return true;
            }
            input = rest;
        }
        false
    }
}

/// `Validity ::= SEQUENCE { notBefore Time, notAfter Time }`, as seconds since the epoch.
fn validity_of(validity: Tlv<'_>) -> Result<(u64, u64), CertificateError> {
    let (not_before, rest) = tlv::read(validity.value).ok_or(malformed("validity"))?;
    let (not_after, rest) = tlv::read(rest).ok_or(malformed("validity"))?;
    if !rest.is_empty() {
        return Err(malformed("validity"));
    }
    match (tlv::time(not_before), tlv::time(not_after)) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err(malformed("validity")),
    }
}

fn key_kind(alg: &[u8], params: &[u8], key_bits: &[u8]) -> KeyKind {
    if alg == oid::RSA_ENCRYPTION.as_bytes() {
        // A modulus that does not parse is no usable RSA key: rejected as unsupported, not
        // reported as a key of 0 bits.
        tlv::rsa_modulus_bits(key_bits).map_or(KeyKind::Other, |bits| KeyKind::Rsa { bits })
    } else if alg == oid::EC_PUBLIC_KEY.as_bytes() {
        // ECParameters: a namedCurve OID (RFC 5480 §2.1.1); explicit parameters are refused.
        let curve = match tlv::read(params) {
            Some((p, _)) if p.tag == tlv::OID => p.value,
            _ => return KeyKind::EcOther,
        };
        if curve == oid::SECP256R1.as_bytes() {
            KeyKind::EcP256
        } else if curve == oid::SECP384R1.as_bytes() {
            KeyKind::EcP384
        } else if curve == oid::SECP521R1.as_bytes() {
            KeyKind::EcP521
        } else {
            KeyKind::EcOther
        }
    } else if alg == oid::ED25519.as_bytes() {
        KeyKind::Ed25519
    } else {
        KeyKind::Other
    }
}

/// Decodes an extension value with `x509-cert`, for the structures read only rarely.
fn decode<'a, T: Decode<'a>>(
    oid: ObjectIdentifier,
    bytes: &'a [u8],
) -> Result<T, CertificateError> {
    T::from_der(bytes).map_err(|e| bad_extension(oid, e.to_string()))
}

/// `Extension ::= SEQUENCE { extnID OBJECT IDENTIFIER, critical BOOLEAN DEFAULT FALSE,
/// extnValue OCTET STRING }`: the id, criticality and value.
fn extension(ext: Tlv<'_>) -> Result<(&[u8], bool, &[u8]), CertificateError> {
    let what = "extension";
    if ext.tag != tlv::SEQUENCE {
        return Err(malformed(what));
    }
    let (id, rest) = tlv::read(ext.value).ok_or(malformed(what))?;
    if !tlv::is_oid(id) {
        return Err(malformed(what));
    }
    let (critical, rest) = tlv::optional(rest, tlv::BOOLEAN).ok_or(malformed(what))?;
    let critical = match critical {
        Some(b) => tlv::boolean(b).ok_or(malformed(what))?,
        None => false,
    };
    let (value, rest) = expect(rest, tlv::OCTET_STRING, what)?;
    if !rest.is_empty() {
        return Err(malformed(what));
    }
    Ok((id.value, critical, value.value))
}

/// The `[3] EXPLICIT Extensions` field: `SEQUENCE SIZE (1..MAX) OF Extension`.
fn extensions_of(der: &[u8], field: Tlv<'_>) -> Result<Extensions, CertificateError> {
    let (list, rest) = expect(field.value, tlv::SEQUENCE, "extensions")?;
    if !rest.is_empty() {
        return Err(malformed("extensions"));
    }
    if list.value.is_empty() {
        return Err(malformed("extensions (empty)"));
    }
    let mut out = Extensions::default();
    let mut input = list.value;
    let mut index = 0usize;
    while !input.is_empty() {
        let (element, rest) = tlv::read(input).ok_or(malformed("extensions"))?;
        let (id, critical, bytes) = extension(element)?;
        // RFC 5280 §4.2: "A certificate MUST NOT include more than one instance of a
        // particular extension." The ones before are read again (already checked): the list
        // is short, and nothing is allocated per certificate.
        let duplicate = tlv::elements(list.value)
            .take(index)
            .filter_map(|prior| tlv::read(prior.value))
            .any(|(prior_id, _)| prior_id.value == id);
        if duplicate {
            return Err(CertificateError::DuplicateExtension {
                oid: ObjectIdentifier::from_bytes(id)
                    .map_err(|_| malformed("extension"))?
                    .to_string(),
            });
        }
        read_extension(der, &mut out, id, critical, bytes)?;
        input = rest;
        index = index.saturating_add(1);
    }
    Ok(out)
}

/// The extension `read_extension` processes with this identifier, if any. Matched on the
/// encoding: all but one are `id-ce` (2.5.29.n, RFC 5280 §4.2.1), encoded `55 1D n`.
fn recognised(id: &[u8]) -> Option<ObjectIdentifier> {
    Some(match *id {
        [0x55, 0x1d, 14] => oid::SUBJECT_KEY_ID,
        [0x55, 0x1d, 15] => oid::KEY_USAGE,
        [0x55, 0x1d, 17] => oid::SUBJECT_ALT_NAME,
        [0x55, 0x1d, 19] => oid::BASIC_CONSTRAINTS,
        [0x55, 0x1d, 30] => oid::NAME_CONSTRAINTS,
        [0x55, 0x1d, 32] => oid::CERTIFICATE_POLICIES,
        [0x55, 0x1d, 35] => oid::AUTHORITY_KEY_ID,
        [0x55, 0x1d, 36] => oid::POLICY_CONSTRAINTS,
        [0x55, 0x1d, 37] => oid::EXT_KEY_USAGE,
        _ if id == oid::AUTHORITY_INFO_ACCESS.as_bytes() => oid::AUTHORITY_INFO_ACCESS,
        _ => return None,
    })
}

/// Records one extension this crate processes, checking its value; notes an unknown critical
/// one.
fn read_extension(
    der: &[u8],
    out: &mut Extensions,
    id: &[u8],
    critical: bool,
    bytes: &[u8],
) -> Result<(), CertificateError> {
    let Some(id) = recognised(id) else {
        if critical && out.unknown_critical.is_none() {
            let oid = ObjectIdentifier::from_bytes(id).map_err(|_| malformed("extension"))?;
            out.unknown_critical = Some(oid);
        }
        return Ok(());
    };
    let bad = |detail: &str| bad_extension(id, detail);
    match id {
        oid::BASIC_CONSTRAINTS => {
            let (seq, rest) = tlv::expect(bytes, tlv::SEQUENCE).ok_or_else(|| bad("malformed"))?;
            if !rest.is_empty() {
                return Err(bad("malformed"));
            }
            let (ca, rest) =
                tlv::optional(seq.value, tlv::BOOLEAN).ok_or_else(|| bad("malformed"))?;
            let ca = match ca {
                Some(b) => tlv::boolean(b).ok_or_else(|| bad("malformed cA"))?,
                None => false,
            };
            let (path_len, rest) =
                tlv::optional(rest, tlv::INTEGER).ok_or_else(|| bad("malformed"))?;
            let path_len_constraint = match path_len {
                Some(n) => Some(
                    tlv::small_uint(n).ok_or_else(|| bad("pathLenConstraint not in 0..=255"))?,
                ),
                None => None,
            };
            if !rest.is_empty() {
                return Err(bad("malformed"));
            }
            out.basic_constraints = Some(Ext {
                value: BasicConstraints {
                    ca,
                    path_len_constraint,
                },
                critical,
            });
        }
        oid::KEY_USAGE => {
            let (bits, rest) =
                tlv::expect(bytes, tlv::BIT_STRING).ok_or_else(|| bad("malformed"))?;
            if !rest.is_empty() {
                return Err(bad("malformed"));
            }
            let bits = match bits.value {
                [0] => 0,
                [unused @ 0..=7, first] => u16::from(*first & (0xff << unused)) << 8,
                [unused @ 0..=7, first, second] => {
                    (u16::from(*first) << 8) | u16::from(*second & (0xff << unused))
                }
                _ => return Err(bad("malformed keyUsage BIT STRING")),
            };
            out.key_usage = Some(Ext {
                value: KeyUsage { bits },
                critical,
            });
        }
        oid::EXT_KEY_USAGE => {
            let (seq, rest) = tlv::expect(bytes, tlv::SEQUENCE).ok_or_else(|| bad("malformed"))?;
            if !rest.is_empty() {
                return Err(bad("malformed"));
            }
            tlv::for_each(
                seq.value,
                || bad("malformed"),
                |purpose| {
                    if tlv::is_oid(purpose) {
                        Ok(())
                    } else {
                        Err(bad("malformed KeyPurposeId"))
                    }
                },
            )?;
            out.ext_key_usage = Some(Ext {
                value: tlv::span(der, seq.value),
                critical,
            });
        }
        oid::SUBJECT_ALT_NAME => {
            let names = GeneralNames::parse(bytes).map_err(|detail| bad(&detail))?;
            out.subject_alt_name = Some(Ext {
                value: tlv::span(der, names.list()),
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
            let (ski, rest) =
                tlv::expect(bytes, tlv::OCTET_STRING).ok_or_else(|| bad("malformed"))?;
            if !rest.is_empty() {
                return Err(bad("malformed"));
            }
            out.subject_key_id = Some(Ext {
                value: tlv::span(der, ski.value),
                critical,
            });
        }
        oid::AUTHORITY_KEY_ID => {
            // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] OPTIONAL,
            // authorityCertIssuer [1] OPTIONAL, authorityCertSerialNumber [2] OPTIONAL }
            let (seq, rest) = tlv::expect(bytes, tlv::SEQUENCE).ok_or_else(|| bad("malformed"))?;
            if !rest.is_empty() {
                return Err(bad("malformed"));
            }
            let (key_id, rest) = tlv::optional(seq.value, 0x80).ok_or_else(|| bad("malformed"))?;
            let (issuer, rest) = tlv::optional(rest, 0xa1).ok_or_else(|| bad("malformed"))?;
            let (serial, rest) = tlv::optional(rest, 0x82).ok_or_else(|| bad("malformed"))?;
            if !rest.is_empty() {
                return Err(bad("malformed"));
            }
            if issuer.is_some() || serial.is_some() {
                // The issuer/serial form: rare, its names and serial checked by a full decode.
                let _: x509_cert::ext::pkix::AuthorityKeyIdentifier = decode(id, bytes)?;
            }
            out.authority_key_id = Some(Ext {
                value: AuthorityKeyId {
                    key_identifier: key_id.map(|k| tlv::span(der, k.value)),
                    has_issuer: issuer.is_some(),
                    has_serial: serial.is_some(),
                },
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
            let _: x509_cert::ext::pkix::AuthorityInfoAccessSyntax = decode(id, bytes)?;
            // RFC 5280 §4.2.2.1: "Conforming CAs MUST mark this extension as
            // non-critical."
            if critical {
                return Err(bad("authorityInfoAccess marked critical"));
            }
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
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognised_extensions_by_their_encoding() {
        for known in [
            oid::SUBJECT_KEY_ID,
            oid::KEY_USAGE,
            oid::SUBJECT_ALT_NAME,
            oid::BASIC_CONSTRAINTS,
            oid::NAME_CONSTRAINTS,
            oid::CERTIFICATE_POLICIES,
            oid::AUTHORITY_KEY_ID,
            oid::POLICY_CONSTRAINTS,
            oid::EXT_KEY_USAGE,
            oid::AUTHORITY_INFO_ACCESS,
        ] {
            assert_eq!(recognised(known.as_bytes()), Some(known), "{known}");
        }
        assert_eq!(recognised(oid::CRL_NUMBER.as_bytes()), None);
        assert_eq!(recognised(oid::KP_CLIENT_AUTH.as_bytes()), None);
        assert_eq!(recognised(&[0x55, 0x1d]), None);
    }
}
