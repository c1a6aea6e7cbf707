#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod algorithms;
mod cache;
mod cert;
mod checks;
mod crl;
mod der;
mod dn;
mod error;
mod general_names;
mod identity;
mod names;
mod pem;
mod trust;
mod verify;

mod time;

#[cfg(feature = "rustls")]
pub mod rustls;

/// The pure-Rust signature verification algorithms (RustCrypto).
pub mod rustcrypto {
    pub use crate::algorithms::{
        ECDSA_P256_SHA256, ECDSA_P256_SHA384, ECDSA_P384_SHA256, ECDSA_P384_SHA384, ED25519,
        RSA_PKCS1_SHA256, RSA_PKCS1_SHA384, RSA_PKCS1_SHA512, RSA_PSS_SHA256, RSA_PSS_SHA384,
        RSA_PSS_SHA512, RUSTCRYPTO_ALGORITHMS,
    };
}

pub use algorithms::RUSTCRYPTO_ALGORITHMS;
pub use checks::Usage;
pub use crl::Crl;
pub use dn::DnAttribute;
pub use error::{Budget, CertificateError, Check, RejectedCandidate, VerifyError};
pub use identity::{AltNameKind, Identity, certificate_id};
pub use names::PeerName;
pub use pem::{certificates_from_pem, crls_from_pem};
pub use rustls_pki_types::{CertificateDer, SignatureVerificationAlgorithm, UnixTime};
pub use trust::{TrustStore, TrustStoreError};
pub use verify::{VerifiedPath, Verifier, VerifierOptions, VerifyRequest};
