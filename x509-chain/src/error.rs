//! Typed errors: what was wrong, in which certificate, under which rule.

use std::fmt;

use rustls_pki_types::UnixTime;

use crate::time::format_rfc3339;

/// A certificate (or CRL) that could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertificateError {
    /// Not DER as `x509-cert`'s decoder reads it (CRLs; the certificate structures this
    /// crate reads through it).
    Encoding {
        /// The decoder's message.
        detail: String,
    },
    /// Bytes after the end of the certificate.
    TrailingData,
    /// A field of the certificate is not DER of the form RFC 5280 §4.1 gives it.
    Malformed {
        /// Which field.
        what: &'static str,
    },
    /// Extensions in a v1 or v2 certificate (RFC 5280 §4.1.2.9).
    ExtensionsInNonV3,
    /// The same extension twice (RFC 5280 §4.2).
    DuplicateExtension {
        /// Its object identifier.
        oid: String,
    },
    /// An extension this crate processes whose value does not decode.
    BadExtension {
        /// Its object identifier.
        oid: String,
        /// What was wrong.
        detail: String,
    },
    /// PEM input held no certificate, or a PEM block did not decode.
    Pem {
        /// What was wrong.
        detail: String,
    },
}

impl fmt::Display for CertificateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Encoding { detail } => write!(f, "not a DER X.509 certificate: {detail}"),
            Self::TrailingData => f.write_str("data after the end of the certificate"),
            Self::Malformed { what } => write!(f, "malformed {what}"),
            Self::ExtensionsInNonV3 => {
                f.write_str("extensions in a certificate that is not v3 (RFC 5280 4.1.2.9)")
            }
            Self::DuplicateExtension { oid } => {
                write!(f, "extension {oid} appears twice (RFC 5280 4.2)")
            }
            Self::BadExtension { oid, detail } => write!(f, "extension {oid} is invalid: {detail}"),
            Self::Pem { detail } => write!(f, "PEM: {detail}"),
        }
    }
}

impl std::error::Error for CertificateError {}

/// The rule a certificate broke. The `index` next to it in [`VerifyError::Invalid`] says which
/// certificate: 0 is the leaf, 1 its issuer, and so on along the path being tried.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Check {
    /// `notAfter` is before the validation time (RFC 5280 §6.1.3 (a)(2)).
    Expired {
        /// The certificate's notAfter.
        not_after: UnixTime,
        /// The validation time.
        time: UnixTime,
    },
    /// `notBefore` is after the validation time (RFC 5280 §6.1.3 (a)(2)).
    NotYetValid {
        /// The certificate's notBefore.
        not_before: UnixTime,
        /// The validation time.
        time: UnixTime,
    },
    /// `tbsCertificate.signature` differs from `signatureAlgorithm` (RFC 5280 §4.1.1.2).
    SignatureAlgorithmMismatch,
    /// No configured algorithm verifies this signature algorithm with the issuer's key type.
    UnsupportedSignatureAlgorithm,
    /// The signature does not verify with the issuer's public key (RFC 5280 §6.1.3 (a)(1)).
    BadSignature,
    /// An issuer without basicConstraints cA=TRUE (RFC 5280 §6.1.4 (k)).
    NotCa,
    /// A CA certificate (basicConstraints cA=TRUE) presented as the leaf. RFC 5280 allows it;
    /// this crate refuses it unless [`VerifierOptions::allow_ca_leaf`](crate::VerifierOptions)
    /// is set, as rustls-webpki and pyca/cryptography do: a device must not authenticate
    /// with a certificate that can issue others.
    CaAsLeaf,
    /// More intermediates below this CA than its pathLenConstraint allows (RFC 5280 §6.1.4 (m)).
    PathLenExceeded {
        /// The constraint.
        limit: u8,
    },
    /// A CA certificate whose keyUsage lacks keyCertSign (RFC 5280 §6.1.4 (n)).
    MissingKeyCertSign,
    /// extendedKeyUsage present without the purpose asked for (RFC 5280 §4.2.1.12).
    ExtendedKeyUsage {
        /// The purpose required, e.g. `serverAuth`.
        required: &'static str,
    },
    /// keyUsage present without a bit the caller required (RFC 5280 §4.2.1.3).
    KeyUsage {
        /// The bit required, e.g. `digitalSignature`.
        required: &'static str,
    },
    /// A name of this certificate is outside a name constraint of certificate `constrained_by`
    /// (RFC 5280 §4.2.1.10, §6.1.3 (b)-(c)).
    NameConstraint {
        /// Index of the CA whose constraint failed.
        constrained_by: usize,
        /// The name that failed, as text.
        name: String,
    },
    /// A name constraint this crate cannot evaluate or that is malformed.
    BadNameConstraint {
        /// What was wrong.
        detail: String,
    },
    /// A critical extension this crate does not process (RFC 5280 §4.2).
    UnknownCriticalExtension {
        /// Its object identifier.
        oid: String,
    },
    /// A rule of the RFC 5280 certificate profile (§4.1, §4.2) that conforming CAs must follow.
    Profile {
        /// The rule, as a sentence with its section.
        rule: &'static str,
    },
    /// A public key too weak or of an unsupported kind (RSA below the minimum, P-192, DSA...).
    WeakKey {
        /// What was wrong.
        detail: String,
    },
    /// A subjectAltName entry that is not a valid name of its type.
    BadSubjectAltName {
        /// The entry as text.
        name: String,
    },
    /// Listed on a CRL of its issuer (RFC 5280 §6.3.3 (i)).
    Revoked {
        /// The serial number, lower-case hex.
        serial: String,
    },
    /// A CRL for this certificate's issuer could not be used (RFC 5280 §6.3.3).
    BadCrl {
        /// What was wrong.
        detail: String,
    },
    /// The candidate's subjectKeyIdentifier differs from the authorityKeyIdentifier of the
    /// certificate below it (RFC 5280 §4.2.1.1): another key of the same name.
    KeyIdentifierMismatch,
    /// The candidate issuer is already in the path (same certificate, or same subject and
    /// key): following it would loop.
    Loop,
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Expired { not_after, time } => write!(
                f,
                "expired at {} (validation time {})",
                format_rfc3339(*not_after),
                format_rfc3339(*time)
            ),
            Self::NotYetValid { not_before, time } => write!(
                f,
                "not valid before {} (validation time {})",
                format_rfc3339(*not_before),
                format_rfc3339(*time)
            ),
            Self::SignatureAlgorithmMismatch => f.write_str(
                "tbsCertificate.signature differs from signatureAlgorithm (RFC 5280 4.1.1.2)",
            ),
            Self::UnsupportedSignatureAlgorithm => {
                f.write_str("signature algorithm or issuer key type not allowed")
            }
            Self::BadSignature => f.write_str("signature does not verify with the issuer's key"),
            Self::NotCa => f.write_str("issuer is not a CA (basicConstraints cA is not TRUE)"),
            Self::CaAsLeaf => {
                f.write_str("a CA certificate (basicConstraints cA TRUE) used as the leaf")
            }
            Self::PathLenExceeded { limit } => {
                write!(f, "pathLenConstraint {limit} exceeded (RFC 5280 6.1.4 (m))")
            }
            Self::MissingKeyCertSign => f.write_str("CA keyUsage lacks keyCertSign"),
            Self::ExtendedKeyUsage { required } => {
                write!(f, "extendedKeyUsage does not allow {required}")
            }
            Self::KeyUsage { required } => write!(f, "keyUsage lacks {required}"),
            Self::NameConstraint {
                constrained_by,
                name,
            } => write!(
                f,
                "name {name} violates the name constraints of certificate {constrained_by}"
            ),
            Self::BadNameConstraint { detail } => write!(f, "unusable name constraint: {detail}"),
            Self::UnknownCriticalExtension { oid } => {
                write!(f, "unknown critical extension {oid}")
            }
            Self::Profile { rule } => f.write_str(rule),
            Self::WeakKey { detail } => write!(f, "public key rejected: {detail}"),
            Self::BadSubjectAltName { name } => write!(f, "invalid subjectAltName entry {name}"),
            Self::Revoked { serial } => write!(f, "serial {serial} is revoked"),
            Self::BadCrl { detail } => write!(f, "CRL rejected: {detail}"),
            Self::Loop => f.write_str("already in the path (loop)"),
            Self::KeyIdentifierMismatch => {
                f.write_str("subjectKeyIdentifier differs from the authorityKeyIdentifier below it")
            }
        }
    }
}

/// A candidate issuer that path building tried and rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RejectedCandidate {
    /// The candidate's subject, RFC 4514 text.
    pub subject: String,
    /// Whether it came from the trust store (otherwise: the intermediates).
    pub trust_anchor: bool,
    /// Why it was rejected.
    pub reason: VerifyError,
}

/// Why a chain did not verify.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyError {
    /// Input certificate `index` (0 = leaf, then the intermediates in the order given) does
    /// not decode.
    BadEncoding {
        /// Position in the input.
        index: usize,
        /// What was wrong.
        error: CertificateError,
    },
    /// Certificate `index` of the path being tried broke `check`.
    Invalid {
        /// 0 = leaf, 1 = its issuer, ...
        index: usize,
        /// The rule.
        check: Check,
    },
    /// No trust anchor or intermediate issued certificate `index`; `candidates` lists the ones
    /// whose subject matched and why each was rejected (empty: none matched).
    UnknownIssuer {
        /// 0 = leaf, 1 = its issuer, ...
        index: usize,
        /// The issuer name wanted, RFC 4514 text.
        issuer: String,
        /// Candidates tried.
        candidates: Vec<RejectedCandidate>,
    },
    /// The path would exceed the maximum number of intermediates.
    MaxDepthExceeded {
        /// The configured maximum.
        max_intermediates: usize,
    },
    /// The expected peer name is not among the leaf's subjectAltName entries (RFC 6125 §6).
    PeerNameMismatch {
        /// The name expected.
        expected: String,
    },
    /// Path building used up one of its budgets ([`VerifierOptions`](crate::VerifierOptions)).
    BudgetExceeded {
        /// Which budget.
        budget: Budget,
    },
}

/// A limit on the work of one path search.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Budget {
    /// `max_signature_checks`: signatures verified (certificates and CRLs).
    SignatureChecks,
    /// `max_candidates`: candidate issuers tried.
    CandidateIssuers,
}

impl fmt::Display for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::SignatureChecks => "signature checks",
            Self::CandidateIssuers => "candidate issuers",
        })
    }
}

impl VerifyError {
    /// A stable short name: the check's name for [`VerifyError::Invalid`], else the variant's.
    pub fn name(&self) -> &'static str {
        match self {
            Self::BadEncoding { .. } => "BadEncoding",
            Self::UnknownIssuer { .. } => "UnknownIssuer",
            Self::MaxDepthExceeded { .. } => "MaxDepthExceeded",
            Self::PeerNameMismatch { .. } => "PeerNameMismatch",
            Self::BudgetExceeded { .. } => "BudgetExceeded",
            Self::Invalid { check, .. } => match check {
                Check::Expired { .. } => "Expired",
                Check::NotYetValid { .. } => "NotYetValid",
                Check::SignatureAlgorithmMismatch => "SignatureAlgorithmMismatch",
                Check::UnsupportedSignatureAlgorithm => "UnsupportedSignatureAlgorithm",
                Check::BadSignature => "BadSignature",
                Check::NotCa => "NotCa",
                Check::CaAsLeaf => "CaAsLeaf",
                Check::PathLenExceeded { .. } => "PathLenExceeded",
                Check::MissingKeyCertSign => "MissingKeyCertSign",
                Check::ExtendedKeyUsage { .. } => "ExtendedKeyUsage",
                Check::KeyUsage { .. } => "KeyUsage",
                Check::NameConstraint { .. } => "NameConstraint",
                Check::BadNameConstraint { .. } => "BadNameConstraint",
                Check::UnknownCriticalExtension { .. } => "UnknownCriticalExtension",
                Check::Profile { .. } => "Profile",
                Check::WeakKey { .. } => "WeakKey",
                Check::BadSubjectAltName { .. } => "BadSubjectAltName",
                Check::Revoked { .. } => "Revoked",
                Check::BadCrl { .. } => "BadCrl",
                Check::Loop => "Loop",
                Check::KeyIdentifierMismatch => "KeyIdentifierMismatch",
            },
        }
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadEncoding { index, error } => write!(f, "input certificate {index}: {error}"),
            Self::Invalid { index, check } => write!(f, "certificate {index}: {check}"),
            Self::UnknownIssuer {
                index,
                issuer,
                candidates,
            } => {
                write!(
                    f,
                    "certificate {index}: no trusted issuer \"{issuer}\" found"
                )?;
                if !candidates.is_empty() {
                    f.write_str("; tried: ")?;
                    for (i, c) in candidates.iter().enumerate() {
                        if i > 0 {
                            f.write_str("; ")?;
                        }
                        let role = if c.trust_anchor {
                            "trust anchor"
                        } else {
                            "intermediate"
                        };
                        write!(f, "{role} \"{}\" rejected ({})", c.subject, c.reason)?;
                    }
                }
                Ok(())
            }
            Self::MaxDepthExceeded { max_intermediates } => {
                write!(f, "no path within {max_intermediates} intermediates")
            }
            Self::PeerNameMismatch { expected } => {
                write!(f, "the leaf's subjectAltName does not match {expected}")
            }
            Self::BudgetExceeded { budget } => {
                write!(f, "path building budget exhausted ({budget})")
            }
        }
    }
}

impl std::error::Error for VerifyError {}
