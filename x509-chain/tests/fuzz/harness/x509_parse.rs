//! Arbitrary bytes as a DER certificate (and as PEM): decoding never panics; an accepted
//! certificate yields an identity whose fields are well-formed, and `x509-cert`'s decoder
//! accepts it too (the in-place parser is never laxer), but for a serial number longer than
//! 20 octets.

use der::Decode as _;
use x509_chain::{Crl, Identity, certificates_from_pem};

/// One fuzz input: panics on a broken invariant.
pub fn run(data: &[u8]) {
    match Identity::from_der(data) {
        Ok(identity) => {
            // The certificate id is SHA-256 as 64 lower-case hex digits.
            assert_eq!(identity.certificate_id().len(), 64);
            assert!(
                identity
                    .certificate_id()
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
            );
            assert!(
                identity
                    .serial_number()
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit())
            );
            let _ = identity.subject_dn();
            let _ = identity.alt_names();
            if let Err(e) = x509_cert::Certificate::from_der(data) {
                assert!(
                    identity.serial_number().len() > 40,
                    "accepted, but x509-cert refuses it: {e}"
                );
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    let _ = Crl::from_der(data).map_err(|e| e.to_string());
    let _ = certificates_from_pem(data).map_err(|e| e.to_string());
}
