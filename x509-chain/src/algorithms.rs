//! The pure-Rust default set of signature verification algorithms, on RustCrypto, behind the
//! same `rustls_pki_types::SignatureVerificationAlgorithm` interface rustls's providers use.
//!
//! Algorithm identifiers are the ones in `rustls_pki_types::alg_id` (RFC 5758 for ECDSA,
//! RFC 4055 for RSA, RFC 8410 for Ed25519), compared byte for byte with the certificate's, as
//! webpki does.

use p256::ecdsa::signature::hazmat::PrehashVerifier as _;
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::signature::Verifier as _;
use rustls_pki_types::{
    AlgorithmIdentifier, InvalidSignature, SignatureVerificationAlgorithm, alg_id,
};
use sha2::{Digest, Sha256, Sha384, Sha512};

use crate::der as tlv;

/// The digest an algorithm hashes with.
#[derive(Clone, Copy, Debug)]
enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

fn digest(hash: Hash, message: &[u8]) -> Vec<u8> {
    match hash {
        Hash::Sha256 => Sha256::digest(message).to_vec(),
        Hash::Sha384 => Sha384::digest(message).to_vec(),
        Hash::Sha512 => Sha512::digest(message).to_vec(),
    }
}

/// ECDSA on a prime curve with a given digest.
#[derive(Debug)]
struct Ecdsa {
    curve: Curve,
    hash: Hash,
    public_key_alg_id: AlgorithmIdentifier,
    signature_alg_id: AlgorithmIdentifier,
}

#[derive(Clone, Copy, Debug)]
enum Curve {
    P256,
    P384,
}

/// The `(r, s)` of a DER `ECDSA-Sig-Value` (RFC 5480 §2.2 / RFC 3279 §2.2.3), each left-padded
/// to `size` octets.
fn ecdsa_scalars(signature: &[u8], size: usize) -> Option<(Vec<u8>, Vec<u8>)> {
    let (seq, rest) = tlv::expect(signature, tlv::SEQUENCE)?;
    if !rest.is_empty() {
        return None;
    }
    let (r, rest) = tlv::expect(seq.value, tlv::INTEGER)?;
    let (s, rest) = tlv::expect(rest, tlv::INTEGER)?;
    if !rest.is_empty() {
        return None;
    }
    let pad = |int: &[u8]| -> Option<Vec<u8>> {
        // Positive INTEGER: strip one leading zero octet kept for the sign.
        let digits = match int.split_first() {
            Some((0, rest)) if rest.first().is_some_and(|b| b & 0x80 != 0) => rest,
            Some((b, _)) if b & 0x80 != 0 => return None,
            _ => int,
        };
        let zeros = size.checked_sub(digits.len())?;
        let mut out = vec![0u8; zeros];
        out.extend_from_slice(digits);
        Some(out)
    };
    Some((pad(r.value)?, pad(s.value)?))
}

impl SignatureVerificationAlgorithm for Ecdsa {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        let prehash = digest(self.hash, message);
        match self.curve {
            Curve::P256 => {
                let (r, s) = ecdsa_scalars(signature, 32).ok_or(InvalidSignature)?;
                let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(public_key)
                    .map_err(|_| InvalidSignature)?;
                let r = p256::FieldBytes::try_from(r.as_slice()).map_err(|_| InvalidSignature)?;
                let s = p256::FieldBytes::try_from(s.as_slice()).map_err(|_| InvalidSignature)?;
                let sig =
                    p256::ecdsa::Signature::from_scalars(r, s).map_err(|_| InvalidSignature)?;
                key.verify_prehash(&prehash, &sig)
                    .map_err(|_| InvalidSignature)
            }
            Curve::P384 => {
                let (r, s) = ecdsa_scalars(signature, 48).ok_or(InvalidSignature)?;
                let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(public_key)
                    .map_err(|_| InvalidSignature)?;
                let r = p384::FieldBytes::try_from(r.as_slice()).map_err(|_| InvalidSignature)?;
                let s = p384::FieldBytes::try_from(s.as_slice()).map_err(|_| InvalidSignature)?;
                let sig =
                    p384::ecdsa::Signature::from_scalars(r, s).map_err(|_| InvalidSignature)?;
                key.verify_prehash(&prehash, &sig)
                    .map_err(|_| InvalidSignature)
            }
        }
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        self.public_key_alg_id
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        self.signature_alg_id
    }
}

/// RSA signatures with a modulus of 2048 to 8192 bits (the range webpki accepts).
#[derive(Debug)]
struct Rsa {
    pss: bool,
    hash: Hash,
    signature_alg_id: AlgorithmIdentifier,
}

/// Smallest and largest RSA modulus accepted, in bits.
const RSA_MIN_BITS: usize = 2048;
const RSA_MAX_BITS: usize = 8192;

impl SignatureVerificationAlgorithm for Rsa {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        let bits = tlv::rsa_modulus_bits(public_key).ok_or(InvalidSignature)?;
        if !(RSA_MIN_BITS..=RSA_MAX_BITS).contains(&bits) {
            return Err(InvalidSignature);
        }
        let key = rsa::PublicKey::from_pkcs1_der(public_key).map_err(|_| InvalidSignature)?;
        let ok = if self.pss {
            pss(key, self.hash, message, signature)
        } else {
            pkcs1(key, self.hash, message, signature)
        };
        if ok { Ok(()) } else { Err(InvalidSignature) }
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::RSA_ENCRYPTION
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        self.signature_alg_id
    }
}

fn pkcs1(key: rsa::PublicKey, hash: Hash, message: &[u8], signature: &[u8]) -> bool {
    let Ok(sig) = rsa::pkcs1v15::Signature::try_from(signature) else {
        return false;
    };
    match hash {
        Hash::Sha256 => rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key).verify(message, &sig),
        Hash::Sha384 => rsa::pkcs1v15::VerifyingKey::<Sha384>::new(key).verify(message, &sig),
        Hash::Sha512 => rsa::pkcs1v15::VerifyingKey::<Sha512>::new(key).verify(message, &sig),
    }
    .is_ok()
}

/// RFC 4055 §3.1 as profiled by the `alg_id` constants: MGF1 with the same digest, salt
/// length equal to the digest length.
fn pss(key: rsa::PublicKey, hash: Hash, message: &[u8], signature: &[u8]) -> bool {
    let Ok(sig) = rsa::pss::Signature::try_from(signature) else {
        return false;
    };
    match hash {
        Hash::Sha256 => {
            rsa::pss::VerifyingKey::<Sha256>::new_with_salt_len(key, 32).verify(message, &sig)
        }
        Hash::Sha384 => {
            rsa::pss::VerifyingKey::<Sha384>::new_with_salt_len(key, 48).verify(message, &sig)
        }
        Hash::Sha512 => {
            rsa::pss::VerifyingKey::<Sha512>::new_with_salt_len(key, 64).verify(message, &sig)
        }
    }
    .is_ok()
}

/// Ed25519 (RFC 8032), strict verification (no malleable signatures, no small-order keys).
#[derive(Debug)]
struct Ed25519;

impl SignatureVerificationAlgorithm for Ed25519 {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        let key = <[u8; 32]>::try_from(public_key).map_err(|_| InvalidSignature)?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(&key).map_err(|_| InvalidSignature)?;
        let sig = ed25519_dalek::Signature::from_slice(signature).map_err(|_| InvalidSignature)?;
        key.verify_strict(message, &sig)
            .map_err(|_| InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ED25519
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ED25519
    }
}

macro_rules! ecdsa {
    ($name:ident, $curve:ident, $hash:ident, $pk:ident, $sig:ident, $doc:literal) => {
        #[doc = $doc]
        pub static $name: &dyn SignatureVerificationAlgorithm = &Ecdsa {
            curve: Curve::$curve,
            hash: Hash::$hash,
            public_key_alg_id: alg_id::$pk,
            signature_alg_id: alg_id::$sig,
        };
    };
}

macro_rules! rsa_alg {
    ($name:ident, $pss:literal, $hash:ident, $sig:ident, $doc:literal) => {
        #[doc = $doc]
        pub static $name: &dyn SignatureVerificationAlgorithm = &Rsa {
            pss: $pss,
            hash: Hash::$hash,
            signature_alg_id: alg_id::$sig,
        };
    };
}

ecdsa!(
    ECDSA_P256_SHA256,
    P256,
    Sha256,
    ECDSA_P256,
    ECDSA_SHA256,
    "ECDSA P-256 with SHA-256 (p256)."
);
ecdsa!(
    ECDSA_P256_SHA384,
    P256,
    Sha384,
    ECDSA_P256,
    ECDSA_SHA384,
    "ECDSA P-256 with SHA-384 (p256)."
);
ecdsa!(
    ECDSA_P384_SHA256,
    P384,
    Sha256,
    ECDSA_P384,
    ECDSA_SHA256,
    "ECDSA P-384 with SHA-256 (p384)."
);
ecdsa!(
    ECDSA_P384_SHA384,
    P384,
    Sha384,
    ECDSA_P384,
    ECDSA_SHA384,
    "ECDSA P-384 with SHA-384 (p384)."
);
rsa_alg!(
    RSA_PKCS1_SHA256,
    false,
    Sha256,
    RSA_PKCS1_SHA256,
    "RSASSA-PKCS1-v1_5 with SHA-256, 2048-8192-bit keys (rsa)."
);
rsa_alg!(
    RSA_PKCS1_SHA384,
    false,
    Sha384,
    RSA_PKCS1_SHA384,
    "RSASSA-PKCS1-v1_5 with SHA-384, 2048-8192-bit keys (rsa)."
);
rsa_alg!(
    RSA_PKCS1_SHA512,
    false,
    Sha512,
    RSA_PKCS1_SHA512,
    "RSASSA-PKCS1-v1_5 with SHA-512, 2048-8192-bit keys (rsa)."
);
rsa_alg!(
    RSA_PSS_SHA256,
    true,
    Sha256,
    RSA_PSS_SHA256,
    "RSASSA-PSS with SHA-256, MGF1-SHA-256, 32-byte salt (rsa)."
);
rsa_alg!(
    RSA_PSS_SHA384,
    true,
    Sha384,
    RSA_PSS_SHA384,
    "RSASSA-PSS with SHA-384, MGF1-SHA-384, 48-byte salt (rsa)."
);
rsa_alg!(
    RSA_PSS_SHA512,
    true,
    Sha512,
    RSA_PSS_SHA512,
    "RSASSA-PSS with SHA-512, MGF1-SHA-512, 64-byte salt (rsa)."
);

/// Ed25519 (ed25519-dalek).
pub static ED25519: &dyn SignatureVerificationAlgorithm = &Ed25519;

/// Every algorithm of the RustCrypto set: the default of
/// [`VerifierOptions::algorithms`](crate::VerifierOptions::algorithms).
pub static RUSTCRYPTO_ALGORITHMS: &[&dyn SignatureVerificationAlgorithm] = &[
    ECDSA_P256_SHA256,
    ECDSA_P384_SHA384,
    ECDSA_P256_SHA384,
    ECDSA_P384_SHA256,
    RSA_PKCS1_SHA256,
    RSA_PKCS1_SHA384,
    RSA_PKCS1_SHA512,
    RSA_PSS_SHA256,
    RSA_PSS_SHA384,
    RSA_PSS_SHA512,
    ED25519,
];
