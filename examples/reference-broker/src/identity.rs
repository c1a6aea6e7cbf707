//! Client certificates: the rustls verifier that checks them during the handshake, and the
//! identity read from a verified certificate for the policy context.
//!
//! This is the one module to change when x509-chain's `ClientCertVerifier` and `Identity`
//! replace rustls' `WebPkiClientVerifier` and the minimal reader below.

use std::fmt;
use std::sync::Arc;

use iot_policy::DnAttribute;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
use rustls::server::WebPkiClientVerifier;
use sha2::{Digest, Sha256};
use x509_cert::der::{Decode, Tag, Tagged};

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
    /// The client verifier could not be built (e.g. no trust anchor).
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

/// The certificate id (SHA-256 fingerprint, lower-case hex) of a DER certificate.
pub fn certificate_id(der: &[u8]) -> String {
    hex(&Sha256::digest(der))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len().saturating_mul(2));
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

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
    let mut roots = rustls::RootCertStore::empty();
    for ca in trust_anchors {
        roots.add(ca.clone()).map_err(TlsError::Rustls)?;
    }
    let verifier = WebPkiClientVerifier::builder(Arc::new(roots))
        .build()
        .map_err(|e| TlsError::Verifier(e.to_string()))?;
    let config = rustls::ServerConfig::builder()
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(TlsError::Rustls)?;
    Ok(Arc::new(config))
}

impl Identity {
    /// Reads the identity of a certificate that the verifier accepted.
    pub fn from_der(der: &[u8]) -> Result<Identity, TlsError> {
        let cert = x509_cert::Certificate::from_der(der)
            .map_err(|e| TlsError::Certificate(e.to_string()))?;
        let tbs = cert.tbs_certificate();
        Ok(Identity {
            certificate_id: certificate_id(der),
            serial_number: hex(tbs.serial_number().as_bytes()),
            subject: attributes(tbs.subject()),
            issuer: attributes(tbs.issuer()),
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

/// X.520 attribute types (ITU-T X.520 §6; OIDs 2.5.4.n) that AWS IoT's certificate policy
/// variables name.
fn dn_attribute(oid: &str) -> Option<DnAttribute> {
    Some(match oid {
        "2.5.4.3" => DnAttribute::CommonName,
        "2.5.4.6" => DnAttribute::Country,
        "2.5.4.10" => DnAttribute::Organization,
        "2.5.4.11" => DnAttribute::OrganizationalUnit,
        "2.5.4.46" => DnAttribute::DistinguishedNameQualifier,
        "2.5.4.8" => DnAttribute::State,
        "2.5.4.7" => DnAttribute::Locality,
        "2.5.4.5" => DnAttribute::SerialNumber,
        "2.5.4.12" => DnAttribute::Title,
        "2.5.4.4" => DnAttribute::Surname,
        "2.5.4.42" => DnAttribute::GivenName,
        "2.5.4.43" => DnAttribute::Initials,
        "2.5.4.65" => DnAttribute::Pseudonym,
        "2.5.4.44" => DnAttribute::GenerationQualifier,
        _ => return None,
    })
}

/// Every attribute of a name whose type is known and whose value is a string type that holds
/// text (UTF8String, PrintableString, IA5String); others (BMPString, TeletexString) are left
/// out rather than guessed at.
fn attributes(name: &x509_cert::name::Name) -> Vec<(DnAttribute, String)> {
    let mut out = Vec::new();
    for atv in name.iter() {
        let Some(attribute) = dn_attribute(&atv.oid.to_string()) else {
            continue;
        };
        let text = match atv.value.tag() {
            Tag::Utf8String | Tag::PrintableString | Tag::Ia5String => {
                std::str::from_utf8(atv.value.value()).ok()
            }
            _ => None,
        };
        if let Some(text) = text {
            out.push((attribute, text.to_owned()));
        }
    }
    out
}
