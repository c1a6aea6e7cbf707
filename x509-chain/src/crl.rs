//! Certificate revocation lists (RFC 5280 §5), checked when the caller supplies them.

use der::Decode;
use x509_cert::crl::CertificateList;

use crate::cert::oid;
use crate::der::{self as tlv, Span};
use crate::error::CertificateError;

/// A decoded CRL. Which certificates it covers is decided by its issuer name; it is used only
/// after its signature verifies with the key of the certificate's issuer.
#[derive(Clone, Debug)]
pub struct Crl {
    der: Vec<u8>,
    tbs: Span,
    signature_algorithm: Span,
    signature: Span,
    issuer: Span,
    pub(crate) this_update: u64,
    pub(crate) next_update: Option<u64>,
    pub(crate) revoked: Vec<Vec<u8>>,
    /// Why the CRL cannot be used, if it breaks a profile rule (found at decode time,
    /// reported when a certificate needs it).
    pub(crate) defect: Option<&'static str>,
}

fn malformed(what: &'static str) -> CertificateError {
    CertificateError::Malformed { what }
}

impl Crl {
    /// Decodes a DER `CertificateList` (RFC 5280 §5.1).
    pub fn from_der(der: &[u8]) -> Result<Crl, CertificateError> {
        let parsed = <CertificateList>::from_der(der).map_err(|e| CertificateError::Encoding {
            detail: e.to_string(),
        })?;
        let (outer, rest) = tlv::expect(der, tlv::SEQUENCE).ok_or(malformed("CertificateList"))?;
        if !rest.is_empty() {
            return Err(CertificateError::TrailingData);
        }
        let (tbs, rest) =
            tlv::expect(outer.value, tlv::SEQUENCE).ok_or(malformed("tbsCertList"))?;
        let (sig_alg, rest) =
            tlv::expect(rest, tlv::SEQUENCE).ok_or(malformed("signatureAlgorithm"))?;
        let (sig, _) = tlv::read(rest).ok_or(malformed("signatureValue"))?;
        let sig_bits = tlv::bit_string_octets(sig).ok_or(malformed("signatureValue"))?;
        // TBSCertList ::= SEQUENCE { version OPTIONAL, signature, issuer, ... }
        let mut fields = tbs.value;
        if let Some((first, after)) = tlv::read(fields) {
            if first.tag == tlv::INTEGER {
                fields = after;
            }
        }
        let (_sig, fields) = tlv::expect(fields, tlv::SEQUENCE).ok_or(malformed("signature"))?;
        let (issuer, _) = tlv::expect(fields, tlv::SEQUENCE).ok_or(malformed("issuer"))?;

        let list = &parsed.tbs_cert_list;
        let mut defect = None;
        if list.signature != parsed.signature_algorithm {
            defect =
                Some("tbsCertList.signature differs from signatureAlgorithm (RFC 5280 5.1.1.2)");
        }
        let mut crl_number = false;
        for ext in list.crl_extensions.iter().flatten() {
            if ext.extn_id == oid::CRL_NUMBER {
                crl_number = true;
                // RFC 5280 §5.2.3: "this extension MUST be marked as non-critical".
                if ext.critical {
                    defect = Some("cRLNumber marked critical (RFC 5280 5.2.3)");
                }
            } else if ext.critical && ext.extn_id != oid::AUTHORITY_KEY_ID {
                // issuingDistributionPoint, deltaCRLIndicator and anything unknown: this
                // crate handles complete CRLs only (RFC 5280 §6.3.3 (b)).
                defect = Some("unsupported critical CRL extension");
            }
        }
        // RFC 5280 §5.2.3: "conforming CRL issuers MUST include this extension in all CRLs".
        if !crl_number {
            defect = defect.or(Some("no cRLNumber extension (RFC 5280 5.2.3)"));
        }
        let revoked = list
            .revoked_certificates
            .iter()
            .flatten()
            .map(|r| r.serial_number.as_bytes().to_vec())
            .collect();
        Ok(Crl {
            tbs: tlv::span(der, tbs.raw),
            signature_algorithm: tlv::span(der, sig_alg.value),
            signature: tlv::span(der, sig_bits),
            issuer: tlv::span(der, issuer.raw),
            der: der.to_vec(),
            this_update: list.this_update.to_unix_duration().as_secs(),
            next_update: list.next_update.map(|t| t.to_unix_duration().as_secs()),
            revoked,
            defect,
        })
    }

    /// Every CRL in a PEM file (`X509 CRL` blocks).
    pub fn from_pem(pem: &[u8]) -> Result<Vec<Crl>, CertificateError> {
        crate::pem::blocks(pem, "X509 CRL")?
            .iter()
            .map(|d| Crl::from_der(d))
            .collect()
    }

    pub(crate) fn tbs(&self) -> &[u8] {
        self.tbs.of(&self.der)
    }
    pub(crate) fn signature_algorithm(&self) -> &[u8] {
        self.signature_algorithm.of(&self.der)
    }
    pub(crate) fn signature(&self) -> &[u8] {
        self.signature.of(&self.der)
    }
    pub(crate) fn issuer_der(&self) -> &[u8] {
        self.issuer.of(&self.der)
    }
    /// Is this serial (content octets as encoded) listed?
    pub(crate) fn is_revoked(&self, serial: &[u8]) -> bool {
        self.revoked.iter().any(|s| s == serial)
    }
}
