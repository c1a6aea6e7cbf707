//! The broker's TLS client configuration, for its outgoing connections (bridges, rule
//! webhooks): the remote's certificate chain verified by x509-chain against a CA file, with
//! rustls' aws-lc-rs provider, and a client certificate where the remote asks for one.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::pem::PemObject;

/// A client certificate chain and its key, as PEM files.
pub(crate) struct ClientCertificate<'a> {
    pub(crate) cert_file: &'a Path,
    pub(crate) key_file: &'a Path,
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// A rustls client that trusts the CAs in `ca_file` (and nothing else) and, with
/// `client`, presents that certificate.
pub(crate) fn verifying_client(
    ca_file: &Path,
    client: Option<ClientCertificate<'_>>,
) -> Result<rustls::ClientConfig, String> {
    let store = x509_chain::TrustStore::from_pem(&read(ca_file)?)
        .map_err(|e| format!("{}: {e}", ca_file.display()))?;
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    let mut options = x509_chain::VerifierOptions::default();
    options.algorithms = provider.signature_verification_algorithms.all;
    let verifier = x509_chain::rustls::ChainServerVerifier::new(
        Arc::new(x509_chain::Verifier::new(store, options)),
        &provider,
    );
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    match client {
        None => Ok(builder.with_no_client_auth()),
        Some(c) => {
            let chain = crate::identity::certs_from_pem(
                &c.cert_file.display().to_string(),
                &read(c.cert_file)?,
            )
            .map_err(|e| e.to_string())?;
            let key = PrivateKeyDer::from_pem_slice(&read(c.key_file)?)
                .map_err(|e| format!("{}: {e}", c.key_file.display()))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| e.to_string())
        }
    }
}
