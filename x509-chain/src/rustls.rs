//! rustls adapters (feature `rustls`): a [`ClientCertVerifier`] for device mutual TLS and a
//! [`ServerCertVerifier`] for outgoing connections, both backed by [`Verifier`].
//!
//! Chain validation is this crate's; the TLS handshake signatures (CertificateVerify) are
//! checked with the algorithms of the rustls `CryptoProvider` passed in, as rustls's own
//! verifiers do.
//!
//! rustls returns nothing from a verifier to the connection, so a server reads the identity
//! after the handshake from the peer's certificates:
//!
//! ```ignore
//! let certs = conn.peer_certificates().unwrap_or_default();
//! let identity = x509_chain::rustls::peer_identity(certs)?; // Identity::from_der(&certs[0])
//! ```
//!
//! The leaf was verified during the handshake, so this only re-reads its fields (one DER
//! decode, no signature check).

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};

use crate::error::{Check, VerifyError};
use crate::identity::Identity;
use crate::names::PeerName;
use crate::verify::{Verifier, VerifyRequest};
use crate::{CertificateError, Usage};

/// Maps a verification failure to the closest rustls certificate error (which becomes the
/// TLS alert); the full [`VerifyError`] rides along in `Other` where rustls has no variant.
pub fn to_rustls_error(error: VerifyError) -> rustls::Error {
    use rustls::CertificateError as C;
    let mapped = match &error {
        VerifyError::BadEncoding { .. } => C::BadEncoding,
        VerifyError::UnknownIssuer { .. } => C::UnknownIssuer,
        VerifyError::PeerNameMismatch { .. } => C::NotValidForName,
        VerifyError::Invalid { check, .. } => match check {
            Check::Expired { .. } => C::Expired,
            Check::NotYetValid { .. } => C::NotValidYet,
            Check::BadSignature => C::BadSignature,
            Check::Revoked { .. } => C::Revoked,
            Check::UnknownCriticalExtension { .. } => C::UnhandledCriticalExtension,
            Check::ExtendedKeyUsage { .. } => C::InvalidPurpose,
            _ => C::Other(rustls::OtherError(Arc::new(error))),
        },
        _ => C::Other(rustls::OtherError(Arc::new(error))),
    };
    rustls::Error::InvalidCertificate(mapped)
}

/// The identity of a connection's peer, from `conn.peer_certificates()` after the handshake.
pub fn peer_identity(certificates: &[CertificateDer<'_>]) -> Result<Identity, CertificateError> {
    let leaf = certificates.first().ok_or(CertificateError::Malformed {
        what: "peer certificate list (empty)",
    })?;
    Identity::from_der(leaf)
}

fn root_hints(verifier: &Verifier) -> Vec<DistinguishedName> {
    verifier
        .trust_store()
        .subject_ders()
        .into_iter()
        .map(DistinguishedName::from)
        .collect()
}

/// Verifies device (client) certificates in a rustls server.
#[derive(Debug)]
pub struct ChainClientVerifier {
    verifier: Arc<Verifier>,
    algorithms: WebPkiSupportedAlgorithms,
    hints: Vec<DistinguishedName>,
    mandatory: bool,
}

impl ChainClientVerifier {
    /// A verifier that requires a client certificate, for [`Usage::ClientAuth`]; handshake
    /// signatures use `provider`'s algorithms.
    pub fn new(verifier: Arc<Verifier>, provider: &CryptoProvider) -> ChainClientVerifier {
        let hints = root_hints(&verifier);
        ChainClientVerifier {
            verifier,
            algorithms: provider.signature_verification_algorithms,
            hints,
            mandatory: true,
        }
    }

    /// Lets clients without a certificate connect (the application then decides).
    pub fn allow_unauthenticated(mut self) -> ChainClientVerifier {
        self.mandatory = false;
        self
    }
}

impl ClientCertVerifier for ChainClientVerifier {
    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.hints
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let request = VerifyRequest::new(now, Usage::ClientAuth);
        self.verifier
            .verify(end_entity, intermediates, &request)
            .map(|_| ClientCertVerified::assertion())
            .map_err(to_rustls_error)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Verifies server certificates in a rustls client (the broker's outgoing bridges), for
/// [`Usage::ServerAuth`] and the server name rustls passes (checked against subjectAltName).
#[derive(Debug)]
pub struct ChainServerVerifier {
    verifier: Arc<Verifier>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ChainServerVerifier {
    /// A server-certificate verifier; handshake signatures use `provider`'s algorithms.
    pub fn new(verifier: Arc<Verifier>, provider: &CryptoProvider) -> ChainServerVerifier {
        ChainServerVerifier {
            verifier,
            algorithms: provider.signature_verification_algorithms,
        }
    }
}

impl ServerCertVerifier for ChainServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let name = match server_name {
            ServerName::DnsName(d) => PeerName::Dns(d.as_ref().to_string()),
            ServerName::IpAddress(ip) => PeerName::Ip(std::net::IpAddr::from(*ip)),
            _ => {
                return Err(rustls::Error::InvalidCertificate(
                    rustls::CertificateError::NotValidForName,
                ));
            }
        };
        let request = VerifyRequest::new(now, Usage::ServerAuth).with_peer_name(name);
        self.verifier
            .verify(end_entity, intermediates, &request)
            .map(|_| ServerCertVerified::assertion())
            .map_err(to_rustls_error)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
