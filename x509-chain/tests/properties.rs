//! Never-panics properties: mutated and truncated certificates through `Identity::from_der`,
//! `Crl::from_der` and `Verifier::verify` give a typed answer, and the fixture chain's
//! verdict survives any mutation only if the mutation left the signed bytes intact.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

use proptest::prelude::*;
use x509_chain::{
    Crl, Identity, TrustStore, Usage, Verifier, VerifierOptions, VerifyError, VerifyRequest,
    certificates_from_pem,
};

fn der(name: &str) -> Vec<u8> {
    let pem = std::fs::read(format!(
        "{}/tests/data/{name}.pem",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    certificates_from_pem(&pem).unwrap().remove(0).to_vec()
}

fn verifier() -> Verifier {
    let pem = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/root.pem")).unwrap();
    Verifier::new(
        TrustStore::from_pem(&pem).unwrap(),
        VerifierOptions::default(),
    )
}

fn request() -> VerifyRequest {
    VerifyRequest::new(
        // 2030-01-01T00:00:00Z
        x509_chain::UnixTime::since_unix_epoch(std::time::Duration::from_secs(1_893_456_000)),
        Usage::ClientAuth,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_leaf_never_panics_and_never_verifies(pos in any::<prop::sample::Index>(), xor in 1u8..=255) {
        let mut leaf = der("leaf");
        let at = pos.index(leaf.len());
        leaf[at] ^= xor;
        let _ = Identity::from_der(&leaf);
        let _ = Crl::from_der(&leaf);
        let result = verifier().verify(&leaf, &[der("inter")], &request());
        // A changed byte lands in the signed part, the signature, or the framing; whichever,
        // the chain must not verify. (ECDSA signatures are not malleable under DER's
        // minimal-encoding rules, which x509-cert enforces.)
        prop_assert!(result.is_err(), "mutation at {} by {:#04x} verified", at, xor);
        if let Err(e) = result {
            prop_assert!(!e.to_string().is_empty());
            let budget = matches!(e, VerifyError::BudgetExceeded { .. });
            prop_assert!(!budget, "budget exhausted on a two-certificate chain");
        }
    }

    #[test]
    fn truncated_or_extended_input_is_an_error(cut in any::<prop::sample::Index>(), tail in prop::collection::vec(any::<u8>(), 1..8)) {
        let leaf = der("leaf");
        let short = &leaf[..cut.index(leaf.len())];
        prop_assert!(Identity::from_der(short).is_err());
        let mut long = leaf.clone();
        long.extend_from_slice(&tail);
        prop_assert!(Identity::from_der(&long).is_err());
        let rejected = matches!(
            verifier().verify(&long, &[der("inter")], &request()),
            Err(VerifyError::BadEncoding { index: 0, .. })
        );
        prop_assert!(rejected, "trailing bytes accepted");
    }
}

#[test]
fn the_unmutated_fixture_verifies() {
    assert!(
        verifier()
            .verify(&der("leaf"), &[der("inter")], &request())
            .is_ok()
    );
}
