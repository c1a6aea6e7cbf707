//! The per-certificate rules, each declared once with the section it comes from. Path
//! building (`verify.rs`) decides which certificate plays which role and calls these.

use crate::cert::{Cert, KeyKind, oid};
use crate::error::Check;
use crate::names;
use crate::time::from_secs;

/// What the leaf is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Usage {
    /// TLS server authentication: extendedKeyUsage, when present, must include serverAuth.
    ServerAuth,
    /// TLS client authentication (devices): extendedKeyUsage, when present, must include
    /// clientAuth.
    ClientAuth,
    /// No extendedKeyUsage requirement.
    Any,
}

impl Usage {
    fn eku(self) -> Option<(der::oid::ObjectIdentifier, &'static str)> {
        match self {
            Usage::ServerAuth => Some((oid::KP_SERVER_AUTH, "serverAuth")),
            Usage::ClientAuth => Some((oid::KP_CLIENT_AUTH, "clientAuth")),
            Usage::Any => None,
        }
    }
}

fn profile(rule: &'static str) -> Check {
    Check::Profile { rule }
}

/// The role a certificate plays in the path being checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Leaf,
    Intermediate,
    Anchor,
}

/// Rules for every certificate, whatever its role.
pub(crate) fn check_common(cert: &Cert, role: Role, time: u64) -> Result<(), Check> {
    // RFC 5280 §4.1.2.1: certificates with extensions are v3; this verifier, like webpki and
    // pyca/cryptography, accepts v3 only.
    if !cert.is_v3() {
        return Err(profile("certificate is not X.509 v3 (RFC 5280 4.1.2.1)"));
    }
    // RFC 5280 §4.1.2.2: positive, at most 20 octets. Not applied to trust anchors, which
    // are trusted by configuration (some long-lived roots have serial 0).
    let serial = if role == Role::Anchor {
        &[1u8][..]
    } else {
        cert.serial()
    };
    if serial.first().is_some_and(|b| b & 0x80 != 0) {
        return Err(profile("negative serial number (RFC 5280 4.1.2.2)"));
    }
    let magnitude = match serial.split_first() {
        Some((0, rest)) => rest,
        _ => serial,
    };
    if magnitude.iter().all(|&b| b == 0) {
        return Err(profile("zero serial number (RFC 5280 4.1.2.2)"));
    }
    if magnitude.len() > 20 {
        return Err(profile(
            "serial number longer than 20 octets (RFC 5280 4.1.2.2)",
        ));
    }
    // RFC 5280 §4.1.1.2: "This field MUST contain the same algorithm identifier as the
    // signature field in the sequence tbsCertificate".
    if cert.signature_algorithm() != cert.tbs_signature_algorithm() {
        return Err(Check::SignatureAlgorithmMismatch);
    }
    // RFC 5280 §4.1.2.4: "The issuer field MUST contain a non-empty distinguished name".
    if cert.issuer_is_empty() {
        return Err(profile("empty issuer name (RFC 5280 4.1.2.4)"));
    }
    // RFC 5280 §6.1.3 (a)(2); the anchor too, as pyca/cryptography checks it.
    if time < cert.not_before {
        return Err(Check::NotYetValid {
            not_before: from_secs(cert.not_before),
            time: from_secs(time),
        });
    }
    if time > cert.not_after {
        return Err(Check::Expired {
            not_after: from_secs(cert.not_after),
            time: from_secs(time),
        });
    }
    if let Some(oid) = cert.ext.unknown_critical {
        return Err(Check::UnknownCriticalExtension {
            oid: oid.to_string(),
        });
    }
    check_key(cert)?;
    let ext = &cert.ext;
    // RFC 5280 §4.2.1.1 and §4.2.1.2: both key identifiers "MUST" be non-critical.
    if cert.authority_key_id().is_some_and(|e| e.critical) {
        return Err(profile(
            "authorityKeyIdentifier marked critical (RFC 5280 4.2.1.1)",
        ));
    }
    if cert.subject_key_id().is_some_and(|e| e.critical) {
        return Err(profile(
            "subjectKeyIdentifier marked critical (RFC 5280 4.2.1.2)",
        ));
    }
    // RFC 5280 §4.2.1.1: AKI "MUST" be present except in self-signed certificates. A
    // self-issued anchor is the only exemption taken (a cross-signed root is not exempt).
    if cert.authority_key_id().is_none() && !(role == Role::Anchor && cert.is_self_issued()) {
        return Err(profile("no authorityKeyIdentifier (RFC 5280 4.2.1.1)"));
    }
    // RFC 5280 §4.2.1.3: keyCertSign only with cA.
    if ext
        .key_usage
        .as_ref()
        .is_some_and(|k| k.value.key_cert_sign())
        && !cert.is_ca()
    {
        return Err(profile(
            "keyCertSign asserted without basicConstraints cA (RFC 5280 4.2.1.3)",
        ));
    }
    // RFC 5280 §4.2.1.6: an empty subject needs a critical subjectAltName; a non-empty one
    // a non-critical subjectAltName (CA/B Forum BR 7.1.2.7.12 makes the SHOULD a MUST).
    match (cert.subject_alt_name(), cert.subject_is_empty()) {
        (None, true) if role == Role::Leaf => {
            return Err(profile(
                "empty subject without subjectAltName (RFC 5280 4.2.1.6)",
            ));
        }
        (Some(san), true) if !san.critical => {
            return Err(profile(
                "empty subject with non-critical subjectAltName (RFC 5280 4.2.1.6)",
            ));
        }
        (Some(san), false) if san.critical => {
            return Err(profile(
                "subjectAltName critical though the subject is not empty (RFC 5280 4.2.1.6)",
            ));
        }
        _ => {}
    }
    // RFC 5280 §4.2.1.11: "Conforming CAs MUST mark this extension as critical."
    if ext.policy_constraints.as_ref().is_some_and(|e| !e.critical) {
        return Err(profile(
            "policyConstraints not critical (RFC 5280 4.2.1.11)",
        ));
    }
    Ok(())
}

/// Key strength and kind (CA/B Forum BR 6.1.5/6.1.6, as webpki's algorithm set implies):
/// RSA of at least 2048 bits and a whole number of octets; ECDSA on P-256, P-384, P-521;
/// Ed25519.
fn check_key(cert: &Cert) -> Result<(), Check> {
    let detail = match cert.key {
        KeyKind::Rsa { bits } if bits < 2048 => format!("RSA key of {bits} bits (minimum 2048)"),
        KeyKind::Rsa { bits } if bits % 8 != 0 => {
            format!("RSA key of {bits} bits (not a whole number of octets)")
        }
        KeyKind::EcOther => "ECDSA key on an unsupported or explicitly specified curve".into(),
        KeyKind::Other => "unsupported public key algorithm".into(),
        _ => return Ok(()),
    };
    Err(Check::WeakKey { detail })
}

/// The leaf's own rules.
pub(crate) fn check_leaf(
    cert: &Cert,
    usage: Usage,
    time: u64,
    allow_ca: bool,
) -> Result<(), Check> {
    check_common(cert, Role::Leaf, time)?;
    if cert.is_ca() && !allow_ca {
        return Err(Check::CaAsLeaf);
    }
    let ext = &cert.ext;
    // RFC 5280 §4.2.1.10: name constraints "MUST be used only in a CA certificate".
    if ext.name_constraints.is_some() && !cert.is_ca() {
        return Err(profile(
            "nameConstraints in an end-entity certificate (RFC 5280 4.2.1.10)",
        ));
    }
    // RFC 5280 §4.2.1.12: if EKU is present, the certificate may be used only for the listed
    // purposes. anyExtendedKeyUsage is not accepted in its place (CA/B Forum BR 7.1.2.7.10,
    // as pyca/cryptography does), and the extension must be non-critical (same BR).
    if let (Some(eku), Some((wanted, name))) = (cert.ext_key_usage(), usage.eku()) {
        if eku.critical {
            return Err(profile(
                "extendedKeyUsage marked critical in an end-entity certificate (CA/B BR 7.1.2.7.10)",
            ));
        }
        if !eku.value.contains(&wanted) {
            return Err(Check::ExtendedKeyUsage { required: name });
        }
    }
    names::check_san_syntax(cert)?;
    if usage == Usage::ServerAuth {
        check_tls_server_leaf(cert)?;
    }
    Ok(())
}

/// CA/B Forum Baseline Requirements rules for TLS server (subscriber) certificates, applied
/// only when the usage is [`Usage::ServerAuth`]: device (client) certificates often carry a
/// CN that is not a host name, and AWS IoT's own device certificates have no SAN.
fn check_tls_server_leaf(cert: &Cert) -> Result<(), Check> {
    let ext = &cert.ext;
    // BR 7.1.2.7.10: anyExtendedKeyUsage MUST NOT be present.
    if cert
        .ext_key_usage()
        .is_some_and(|e| e.value.contains(&oid::ANY_EKU))
    {
        return Err(profile(
            "anyExtendedKeyUsage in a TLS server certificate (CA/B BR 7.1.2.7.10)",
        ));
    }
    // BR 7.1.2.7.8: a subscriber certificate is not a CA. One that asserts cA without
    // keyCertSign is a mis-issued end entity, not a CA used as a leaf.
    if cert.is_ca()
        && ext
            .key_usage
            .as_ref()
            .is_some_and(|k| !k.value.key_cert_sign())
    {
        return Err(profile(
            "end-entity certificate asserts cA without keyCertSign (CA/B BR 7.1.2.7.8)",
        ));
    }
    Ok(())
}

/// Rules for a certificate that issues the one below it: an intermediate or an anchor.
/// `intermediates_below` counts the non-self-issued intermediates between it and the leaf
/// (RFC 5280 §6.1.4 (l)-(m)).
pub(crate) fn check_issuer(
    cert: &Cert,
    role: Role,
    usage: Usage,
    time: u64,
    intermediates_below: usize,
) -> Result<(), Check> {
    check_common(cert, role, time)?;
    let ext = &cert.ext;
    // RFC 5280 §4.2.1.9 / §6.1.4 (k): cA must be asserted, in a critical extension.
    let Some(bc) = &ext.basic_constraints else {
        return Err(Check::NotCa);
    };
    if !bc.value.ca {
        return Err(Check::NotCa);
    }
    if !bc.critical {
        return Err(profile(
            "basicConstraints in a CA certificate not critical (RFC 5280 4.2.1.9)",
        ));
    }
    // RFC 5280 §6.1.4 (m).
    if let Some(limit) = bc.value.path_len_constraint {
        if intermediates_below > usize::from(limit) {
            return Err(Check::PathLenExceeded { limit });
        }
    }
    // RFC 5280 §6.1.4 (n): if keyUsage is present, keyCertSign must be set. (§4.2.1.3 asks
    // CAs to include keyUsage, but path validation does not require it.)
    if ext
        .key_usage
        .as_ref()
        .is_some_and(|ku| !ku.value.key_cert_sign())
    {
        return Err(Check::MissingKeyCertSign);
    }
    // RFC 5280 §4.2.1.2: CA certificates "MUST" carry a subjectKeyIdentifier.
    if cert.subject_key_id().is_none() {
        return Err(profile(
            "CA certificate without subjectKeyIdentifier (RFC 5280 4.2.1.2)",
        ));
    }
    // RFC 5280 §4.1.2.6: a CA's subject "MUST" be non-empty.
    if cert.subject_is_empty() {
        return Err(profile(
            "CA certificate with an empty subject (RFC 5280 4.1.2.6)",
        ));
    }
    // EKU in a CA constrains the paths through it (webpki's rule; CA/B BR 7.1.2.2.g). A
    // self-signed root must not carry one at all (CA/B BR 7.1.2.1.2).
    if let Some(eku) = cert.ext_key_usage() {
        if role == Role::Anchor && cert.is_self_issued() {
            return Err(profile(
                "extendedKeyUsage in a root certificate (CA/B BR 7.1.2.1.2)",
            ));
        }
        if let Some((wanted, name)) = usage.eku() {
            if !eku.value.contains(&wanted) && !eku.value.contains(&oid::ANY_EKU) {
                return Err(Check::ExtendedKeyUsage { required: name });
            }
        }
    }
    if role == Role::Anchor && cert.is_self_issued() {
        // CA/B BR 7.1.2.1.3: a root's AKI, if present, holds only keyIdentifier, equal to
        // its SKI.
        if let Some(aki) = cert.authority_key_id() {
            if aki.value.has_issuer || aki.value.has_serial {
                return Err(profile(
                    "root authorityKeyIdentifier with issuer/serial (CA/B BR 7.1.2.1.3)",
                ));
            }
            let ski = cert.subject_key_id().map(|s| s.value);
            match cert.authority_key_identifier() {
                Some(id) if Some(id) == ski => {}
                Some(_) => {
                    return Err(profile(
                        "root authorityKeyIdentifier differs from its subjectKeyIdentifier",
                    ));
                }
                None => {
                    return Err(profile(
                        "root authorityKeyIdentifier without keyIdentifier (CA/B BR 7.1.2.1.3)",
                    ));
                }
            }
        }
    }
    if let Some(nc) = &ext.name_constraints {
        // RFC 5280 §4.2.1.10: "Conforming CAs MUST mark this extension as critical".
        if !nc.critical {
            return Err(profile("nameConstraints not critical (RFC 5280 4.2.1.10)"));
        }
        names::validate_constraints(&nc.value)?;
    }
    Ok(())
}
