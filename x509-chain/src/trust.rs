//! Trust anchors: the CA certificates a path must end at.

use std::fmt;
use std::sync::Arc;

use crate::cert::Cert;
use crate::error::CertificateError;
use crate::pem::certificates_from_pem;

/// A trust anchor that could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustStoreError {
    /// Position in the input (0-based).
    pub index: usize,
    /// What was wrong.
    pub error: CertificateError,
}

impl fmt::Display for TrustStoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "trust anchor {}: {}", self.index, self.error)
    }
}

impl std::error::Error for TrustStoreError {}

/// The trust anchors: self-signed roots or any CA certificate the user trusts. Anchors are
/// certificates, and the verifier holds them to the same CA rules as intermediates
/// (validity, basicConstraints, keyUsage, known critical extensions), as pyca/cryptography
/// does; their name constraints apply to the paths below them.
#[derive(Clone, Debug, Default)]
pub struct TrustStore {
    pub(crate) anchors: Vec<Arc<Cert>>,
}

impl TrustStore {
    /// An empty store.
    pub fn new() -> TrustStore {
        TrustStore::default()
    }

    /// Anchors from DER certificates; fails on the first that does not decode.
    pub fn from_der<I, B>(certificates: I) -> Result<TrustStore, TrustStoreError>
    where
        I: IntoIterator<Item = B>,
        B: AsRef<[u8]>,
    {
        let mut store = TrustStore::new();
        for (index, der) in certificates.into_iter().enumerate() {
            store
                .add_der(der.as_ref())
                .map_err(|error| TrustStoreError { index, error })?;
        }
        Ok(store)
    }

    /// Anchors from every `CERTIFICATE` block of a PEM file. A file with none is an error.
    pub fn from_pem(pem: &[u8]) -> Result<TrustStore, TrustStoreError> {
        let ders =
            certificates_from_pem(pem).map_err(|error| TrustStoreError { index: 0, error })?;
        if ders.is_empty() {
            return Err(TrustStoreError {
                index: 0,
                error: CertificateError::Pem {
                    detail: "no CERTIFICATE block".into(),
                },
            });
        }
        TrustStore::from_der(ders)
    }

    /// Adds one DER anchor.
    pub fn add_der(&mut self, der: &[u8]) -> Result<(), CertificateError> {
        self.anchors.push(Arc::new(Cert::parse(der)?));
        Ok(())
    }

    /// How many anchors.
    pub fn len(&self) -> usize {
        self.anchors.len()
    }

    /// No anchors.
    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }

    /// The anchors' subjects, RFC 4514 text (for logs and the rustls adapter's CA hints).
    pub fn subjects(&self) -> Vec<String> {
        self.anchors
            .iter()
            .map(|a| crate::dn::to_rfc4514(a.subject()))
            .collect()
    }

    /// The anchors' subjects as DER Names (what a TLS CertificateRequest lists).
    pub fn subject_ders(&self) -> Vec<Vec<u8>> {
        self.anchors
            .iter()
            .map(|a| a.subject_der().to_vec())
            .collect()
    }
}
