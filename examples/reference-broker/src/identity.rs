//! Client certificates: the rustls verifier that checks them during the handshake
//! (x509-chain's `ChainClientVerifier`, trust anchors = the registered active CAs), and the
//! identity read from a verified certificate for the policy context (x509-chain's `Identity`,
//! mapped onto iot-policy's names).

use std::fmt;
use std::sync::Arc;

use iot_policy::{AltNameKind, DnAttribute};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
use x509_chain::rustls::ChainClientVerifier;
use x509_chain::{TrustStore, Verifier, VerifierOptions};

/// What a verified client certificate says about its holder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// AWS IoT's certificate id: the lower-case hex SHA-256 of the DER.
    pub certificate_id: String,
    /// The serial number, lower-case hex.
    pub serial_number: String,
    /// Subject attributes in certificate order (multi-valued attributes repeat).
    pub subject: Vec<(DnAttribute, String)>,
    /// Issuer attributes.
    pub issuer: Vec<(DnAttribute, String)>,
    /// Subject alternative names.
    pub alt_names: Vec<(AltNameKind, String)>,
}

/// A certificate, key or trust anchor could not be used.
#[derive(Debug)]
#[non_exhaustive]
pub enum TlsError {
    /// A PEM file holds no certificate or key, or is malformed.
    Pem {
        /// Which file.
        what: String,
        /// The reader's message.
        message: String,
    },
    /// rustls refused the configuration.
    Rustls(rustls::Error),
    /// A trust anchor is not a usable CA certificate.
    Verifier(String),
    /// A certificate's DER could not be parsed.
    Certificate(String),
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsError::Pem { what, message } => write!(f, "cannot read {what}: {message}"),
            TlsError::Rustls(e) => write!(f, "TLS configuration refused: {e}"),
            TlsError::Verifier(m) => write!(f, "cannot build the client certificate verifier: {m}"),
            TlsError::Certificate(m) => write!(f, "cannot parse a certificate: {m}"),
        }
    }
}

impl std::error::Error for TlsError {}

/// Reads every certificate of a PEM text.
pub(crate) fn certs_from_pem(
    what: &str,
    pem: &[u8],
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(pem).collect();
    let certs = certs.map_err(|e| TlsError::Pem {
        what: what.to_owned(),
        message: e.to_string(),
    })?;
    if certs.is_empty() {
        return Err(TlsError::Pem {
            what: what.to_owned(),
            message: "no CERTIFICATE block".to_owned(),
        });
    }
    Ok(certs)
}

/// The rustls server configuration: the server's chain and key, and client certificates
/// required and verified against `trust_anchors` (the registered, active CAs).
pub(crate) fn server_config(
    chain_pem: &[u8],
    key_pem: &[u8],
    trust_anchors: &[CertificateDer<'static>],
) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let chain = certs_from_pem("server certificate", chain_pem)?;
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| TlsError::Pem {
        what: "server key".to_owned(),
        message: e.to_string(),
    })?;
    let store = TrustStore::from_der(trust_anchors.iter().map(|c| c.as_ref()))
        .map_err(|e| TlsError::Verifier(e.to_string()))?;
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    let mut options = VerifierOptions::default();
    // The provider rustls already uses: about 6x faster than the pure-Rust set (DESIGN.md),
    // which matters for the connection rate.
    options.algorithms = provider.signature_verification_algorithms.all;
    // A fleet under one CA then pays one signature check (the leaf's) per handshake.
    options.issuer_cache_capacity = 64;
    let verifier = Arc::new(ChainClientVerifier::new(
        Arc::new(Verifier::new(store, options)),
        &provider,
    ));
    let config = rustls::ServerConfig::builder()
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(TlsError::Rustls)?;
    Ok(Arc::new(config))
}

impl Identity {
    /// Reads the identity of a certificate that the verifier accepted.
    pub fn from_der(der: &[u8]) -> Result<Identity, TlsError> {
        let id = x509_chain::Identity::from_der(der)
            .map_err(|e| TlsError::Certificate(e.to_string()))?;
        // x509-chain and iot-policy share the attribute vocabulary (iot-identity).
        Ok(Identity {
            certificate_id: id.certificate_id().to_owned(),
            serial_number: id.serial_number().to_owned(),
            subject: id.subject().to_vec(),
            issuer: id.issuer().to_vec(),
            alt_names: id.alt_names().to_vec(),
        })
    }

    /// The first value of a subject attribute.
    pub fn subject_value(&self, attribute: DnAttribute) -> Option<&str> {
        self.subject
            .iter()
            .find(|(a, _)| *a == attribute)
            .map(|(_, v)| v.as_str())
    }
}
