//! PEM (RFC 7468) input: split a file into its blocks and decode those with a given label.

use rustls_pki_types::{CertificateDer, CertificateRevocationListDer};

use crate::error::CertificateError;

const BEGIN: &[u8] = b"-----BEGIN ";
const END: &[u8] = b"-----END ";

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .and_then(|p| p.checked_add(from))
}

/// The DER of every PEM block labelled `label`, in order; text outside blocks is ignored
/// (RFC 7468 §2 explanatory text).
pub(crate) fn blocks(input: &[u8], label: &str) -> Result<Vec<Vec<u8>>, CertificateError> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while let Some(start) = find(input, BEGIN, at) {
        let end = find(input, END, start).ok_or_else(|| CertificateError::Pem {
            detail: "BEGIN without END".into(),
        })?;
        // The END line runs to the next "-----" after "-----END ".
        let after_end = end.saturating_add(END.len());
        let close = find(input, b"-----", after_end)
            .ok_or_else(|| CertificateError::Pem {
                detail: "unterminated END line".into(),
            })?
            .saturating_add(5);
        // `close` was found after `start` in `input`.
        let Some(block) = input.get(start..close) else {
            return Err(CertificateError::Pem {
                detail: "END line before BEGIN".into(),
            });
        };
        let (found, der) = der::pem::decode_vec(block).map_err(|e| CertificateError::Pem {
            detail: e.to_string(),
        })?;
        if found == label {
            out.push(der);
        }
        at = close;
    }
    Ok(out)
}

/// Every `CERTIFICATE` block of a PEM file, as DER.
pub fn certificates_from_pem(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, CertificateError> {
    Ok(blocks(pem, "CERTIFICATE")?
        .into_iter()
        .map(CertificateDer::from)
        .collect())
}

/// Every `X509 CRL` block of a PEM file, as DER.
pub fn crls_from_pem(
    pem: &[u8],
) -> Result<Vec<CertificateRevocationListDer<'static>>, CertificateError> {
    Ok(blocks(pem, "X509 CRL")?
        .into_iter()
        .map(CertificateRevocationListDer::from)
        .collect())
}
