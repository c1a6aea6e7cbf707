//! Path validation, one rule per test, each asserting the exact error: which certificate
//! (0 = leaf) broke which check.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod common;

use common::*;
use rcgen::{CustomExtension, GeneralSubtree, KeyUsagePurpose, NameConstraints, SanType};
use x509_chain::{
    Budget, Check, Crl, PeerName, TrustStore, Usage, VerifiedPath, Verifier, VerifierOptions,
    VerifyError, VerifyRequest,
};

fn verify(
    anchors: &[&Node],
    leaf: &Node,
    intermediates: &[&Node],
    request: &VerifyRequest,
) -> Result<VerifiedPath, VerifyError> {
    let ders: Vec<_> = intermediates.iter().map(|n| n.der.clone()).collect();
    Verifier::new(store(anchors), VerifierOptions::default()).verify(&leaf.der, &ders, request)
}

fn invalid(index: usize, check: Check) -> VerifyError {
    VerifyError::Invalid { index, check }
}

#[test]
fn valid_chain_returns_the_path_leaf_to_anchor() {
    let c = chain();
    let path = verify(&[&c.root], &c.leaf, &[&c.intermediate], &client_request()).unwrap();
    assert_eq!(
        path.certificates(),
        &[
            c.leaf.der.clone(),
            c.intermediate.der.clone(),
            c.root.der.clone()
        ]
    );
    assert_eq!(
        path.subjects(),
        &["CN=device-1", "CN=Intermediate", "CN=Root"]
    );
    assert_eq!(path.identity().subject_dn(), "CN=device-1");
}

#[test]
fn unneeded_intermediates_are_ignored_and_order_does_not_matter() {
    let c = chain();
    let other_root = self_signed(ca_params("Other Root", None));
    let other = signed(ca_params("Other Intermediate", None), &other_root);
    let path = verify(
        &[&c.root],
        &c.leaf,
        &[&other, &c.intermediate],
        &client_request(),
    )
    .unwrap();
    assert_eq!(path.certificates().len(), 3);
}

#[test]
fn expired_and_not_yet_valid_name_the_certificate() {
    let c = chain();
    // RFC 5280 §6.1.3 (a)(2): 2036 is after every notAfter; the leaf is checked first.
    let later = VerifyRequest::new(at(2_082_758_400), Usage::ClientAuth);
    assert!(matches!(
        verify(&[&c.root], &c.leaf, &[&c.intermediate], &later),
        Err(VerifyError::Invalid {
            index: 0,
            check: Check::Expired { .. }
        })
    ));
    let earlier = VerifyRequest::new(at(1_700_000_000), Usage::ClientAuth);
    assert!(matches!(
        verify(&[&c.root], &c.leaf, &[&c.intermediate], &earlier),
        Err(VerifyError::Invalid {
            index: 0,
            check: Check::NotYetValid { .. }
        })
    ));
}

#[test]
fn expired_intermediate_is_index_1() {
    let root = self_signed(ca_params("Root", None));
    let mut p = ca_params("Intermediate", None);
    p.not_after = rcgen::date_time_ymd(2029, 1, 1);
    let intermediate = signed(p, &root);
    let leaf = signed(leaf_params("d", &["d.example.com"]), &intermediate);
    let err = verify(&[&root], &leaf, &[&intermediate], &client_request()).unwrap_err();
    assert!(
        matches!(
            err,
            VerifyError::Invalid {
                index: 1,
                check: Check::Expired { .. }
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.name(), "Expired");
}

#[test]
fn backtracking_skips_an_expired_candidate_for_a_valid_one() {
    let root = self_signed(ca_params("Root", None));
    let key = key(&rcgen::PKCS_ECDSA_P256_SHA256);
    let mut expired = ca_params("Intermediate", None);
    expired.not_after = rcgen::date_time_ymd(2029, 1, 1);
    let der_expired = expired.signed_by(&key, &root.issuer).unwrap().der().clone();
    // Same subject and key, re-issued with a later notAfter.
    let fresh = signed_with(ca_params("Intermediate", None), key, &root);
    let leaf = signed(leaf_params("d", &["d.example.com"]), &fresh);
    let verifier = Verifier::new(store(&[&root]), VerifierOptions::default());
    let path = verifier
        .verify(
            &leaf.der,
            &[der_expired, fresh.der.clone()],
            &client_request(),
        )
        .unwrap();
    assert_eq!(path.certificates()[1], fresh.der);
}

#[test]
fn unknown_issuer_lists_the_rejected_candidates() {
    let c = chain();
    let impostor_root = self_signed(ca_params("Root", None));
    let err = verify(
        &[&impostor_root],
        &c.leaf,
        &[&c.intermediate],
        &client_request(),
    )
    .unwrap_err();
    // The one candidate for the intermediate's issuer has the right name but another key:
    // that rejection is the error.
    assert_eq!(err, invalid(2, Check::KeyIdentifierMismatch));

    let no_match = self_signed(ca_params("Unrelated", None));
    let err = verify(&[&no_match], &c.leaf, &[], &client_request()).unwrap_err();
    assert_eq!(
        err,
        VerifyError::UnknownIssuer {
            index: 0,
            issuer: "CN=Intermediate".into(),
            candidates: vec![]
        }
    );
}

#[test]
fn two_rejected_candidates_are_both_reported() {
    let c = chain();
    let other1 = self_signed(ca_params("Intermediate", None));
    let other2 = self_signed(ca_params("Intermediate", None));
    let err = verify(&[&other1, &other2], &c.leaf, &[], &client_request()).unwrap_err();
    let VerifyError::UnknownIssuer {
        index: 0,
        candidates,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(candidates.len(), 2);
    assert!(
        candidates
            .iter()
            .all(|c| c.trust_anchor && c.reason == invalid(1, Check::KeyIdentifierMismatch))
    );
    assert!(
        err.to_string()
            .contains("trust anchor \"CN=Intermediate\" rejected")
    );
}

#[test]
fn issuer_without_ca_bit_is_not_ca() {
    let root = self_signed(ca_params("Root", None));
    let mut p = leaf_params("Intermediate", &["i.example.com"]);
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let not_ca = signed(p, &root);
    let leaf = signed(leaf_params("d", &["d.example.com"]), &not_ca);
    assert_eq!(
        verify(&[&root], &leaf, &[&not_ca], &client_request()).unwrap_err(),
        invalid(1, Check::NotCa)
    );
}

/// x509-limbo's `webpki::ca-as-leaf` and `rfc5280::ca-as-leaf` disagree on a CA certificate
/// presented as the leaf: refused by default (a device must not authenticate with a
/// certificate that can issue others), accepted with `allow_ca_leaf`.
#[test]
fn a_ca_certificate_as_the_leaf_is_refused_unless_allowed() {
    let c = chain();
    let ders = [c.intermediate.der.clone()];
    let none: &[&[u8]] = &[];
    let default = Verifier::new(store(&[&c.root]), VerifierOptions::default());
    assert_eq!(
        default
            .verify(&c.intermediate.der, none, &client_request())
            .unwrap_err(),
        invalid(0, Check::CaAsLeaf)
    );
    assert_eq!(
        default
            .verify(&c.leaf.der, &ders, &client_request())
            .unwrap()
            .certificates()
            .len(),
        3
    );
    let lenient = Verifier::new(store(&[&c.root]), {
        let mut options = VerifierOptions::default();
        options.allow_ca_leaf = true;
        options
    });
    let path = lenient
        .verify(&c.intermediate.der, none, &client_request())
        .unwrap();
    assert_eq!(path.subjects(), &["CN=Intermediate", "CN=Root"]);
}

#[test]
fn path_len_constraint_counts_intermediates_below() {
    // RFC 5280 §6.1.4 (m): root pathlen 0 allows no intermediate below it.
    let root = self_signed(ca_params("Root", Some(0)));
    let intermediate = signed(ca_params("Intermediate", None), &root);
    let leaf = signed(leaf_params("d", &["d.example.com"]), &intermediate);
    assert_eq!(
        verify(&[&root], &leaf, &[&intermediate], &client_request()).unwrap_err(),
        invalid(2, Check::PathLenExceeded { limit: 0 })
    );
}

#[test]
fn ca_key_usage_without_key_cert_sign_is_rejected() {
    let root = self_signed(ca_params("Root", None));
    let mut p = ca_params("Intermediate", None);
    p.key_usages = vec![KeyUsagePurpose::CrlSign];
    let intermediate = signed(p, &root);
    let leaf = signed(leaf_params("d", &["d.example.com"]), &intermediate);
    assert_eq!(
        verify(&[&root], &leaf, &[&intermediate], &client_request()).unwrap_err(),
        invalid(1, Check::MissingKeyCertSign)
    );
}

#[test]
fn leaf_eku_must_allow_the_usage() {
    let c = chain();
    let root = c.root;
    let mut p = leaf_params("d", &["d.example.com"]);
    p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let server_only = signed(p, &c.intermediate);
    assert_eq!(
        verify(
            &[&root],
            &server_only,
            &[&c.intermediate],
            &client_request()
        )
        .unwrap_err(),
        invalid(
            0,
            Check::ExtendedKeyUsage {
                required: "clientAuth"
            }
        )
    );
    // No EKU at all: allowed (RFC 5280 §4.2.1.12; typical of device certificates).
    let mut p = leaf_params("d", &["d.example.com"]);
    p.extended_key_usages = vec![];
    let none = signed(p, &c.intermediate);
    assert!(verify(&[&root], &none, &[&c.intermediate], &client_request()).is_ok());
}

#[test]
fn peer_name_matches_san_only_with_rfc6125_wildcards() {
    let c = chain();
    let mut p = leaf_params("www.example.com", &["*.example.com"]);
    p.subject_alt_names
        .push(SanType::IpAddress("192.0.2.1".parse().unwrap()));
    let leaf = signed(p, &c.intermediate);
    let ok = |name: PeerName| {
        verify(
            &[&c.root],
            &leaf,
            &[&c.intermediate],
            &VerifyRequest::new(at(NOW), Usage::ServerAuth).with_peer_name(name),
        )
    };
    assert!(ok(PeerName::Dns("a.example.com".into())).is_ok());
    assert!(ok(PeerName::Dns("A.EXAMPLE.COM".into())).is_ok());
    assert!(ok(PeerName::Ip("192.0.2.1".parse().unwrap())).is_ok());
    for bad in ["example.com", "a.b.example.com", "www.example.org"] {
        assert_eq!(
            ok(PeerName::Dns(bad.into())).unwrap_err(),
            VerifyError::PeerNameMismatch {
                expected: format!("DNS name {bad}")
            }
        );
    }
    // The CN is never consulted.
    let cn_only = signed(
        leaf_params("cn.example.com", &["other.example.com"]),
        &c.intermediate,
    );
    let req = VerifyRequest::new(at(NOW), Usage::ServerAuth)
        .with_peer_name(PeerName::Dns("cn.example.com".into()));
    assert!(matches!(
        verify(&[&c.root], &cn_only, &[&c.intermediate], &req),
        Err(VerifyError::PeerNameMismatch { .. })
    ));
}

#[test]
fn name_constraints_permit_and_exclude() {
    let root = self_signed(ca_params("Root", None));
    let mut p = ca_params("Constrained", None);
    p.name_constraints = Some(NameConstraints {
        permitted_subtrees: vec![GeneralSubtree::DnsName("example.com".into())],
        excluded_subtrees: vec![GeneralSubtree::DnsName("bad.example.com".into())],
    });
    let ca = signed(p, &root);
    let inside = signed(leaf_params("d", &["a.example.com"]), &ca);
    assert!(verify(&[&root], &inside, &[&ca], &client_request()).is_ok());
    let outside = signed(leaf_params("d", &["a.example.org"]), &ca);
    assert_eq!(
        verify(&[&root], &outside, &[&ca], &client_request()).unwrap_err(),
        invalid(
            0,
            Check::NameConstraint {
                constrained_by: 1,
                name: "DNSName:a.example.org".into()
            }
        )
    );
    let excluded = signed(leaf_params("d", &["x.bad.example.com"]), &ca);
    assert_eq!(
        verify(&[&root], &excluded, &[&ca], &client_request()).unwrap_err(),
        invalid(
            0,
            Check::NameConstraint {
                constrained_by: 1,
                name: "DNSName:x.bad.example.com".into()
            }
        )
    );
}

#[test]
fn unknown_critical_extension_is_rejected() {
    let c = chain();
    let mut p = leaf_params("d", &["d.example.com"]);
    let mut ext =
        CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 55555, 1], vec![0x05, 0x00]);
    ext.set_criticality(true);
    p.custom_extensions.push(ext);
    let leaf = signed(p, &c.intermediate);
    assert_eq!(
        verify(&[&c.root], &leaf, &[&c.intermediate], &client_request()).unwrap_err(),
        invalid(
            0,
            Check::UnknownCriticalExtension {
                oid: "1.3.6.1.4.1.55555.1".into()
            }
        )
    );
}

#[test]
fn tampered_signature_is_bad_signature() {
    let c = chain();
    let mut der = c.leaf.der.to_vec();
    let last = der.len() - 3;
    der[last] ^= 0x01;
    let verifier = Verifier::new(store(&[&c.root]), VerifierOptions::default());
    let err = verifier
        .verify(
            &der,
            std::slice::from_ref(&c.intermediate.der),
            &client_request(),
        )
        .unwrap_err();
    assert_eq!(err, invalid(0, Check::BadSignature));
}

#[test]
fn rsa_2048_root_verifies_a_p256_leaf() {
    let root = self_signed_with(ca_params("RSA Root", None), key(&rcgen::PKCS_RSA_SHA256));
    let leaf = signed(leaf_params("d", &["d.example.com"]), &root);
    assert!(verify(&[&root], &leaf, &[], &client_request()).is_ok());
}

#[test]
fn max_intermediates_bounds_the_path() {
    let root = self_signed(ca_params("Root", None));
    let i1 = signed(ca_params("I1", None), &root);
    let i2 = signed(ca_params("I2", None), &i1);
    let leaf = signed(leaf_params("d", &["d.example.com"]), &i2);
    let options = {
        let mut options = VerifierOptions::default();
        options.max_intermediates = 1;
        options
    };
    let err = Verifier::new(store(&[&root]), options)
        .verify(
            &leaf.der,
            &[i1.der.clone(), i2.der.clone()],
            &client_request(),
        )
        .unwrap_err();
    assert_eq!(
        err,
        VerifyError::MaxDepthExceeded {
            max_intermediates: 1
        }
    );
}

#[test]
fn signature_budget_stops_a_mesh_of_same_named_intermediates() {
    // Eight intermediates all named "Mesh", each cross-signed by the others: every path is a
    // dead end (no anchor named "Mesh"'s issuer), and the budget ends the search.
    let root = self_signed(ca_params("Root", None));
    let keys: Vec<_> = (0..8)
        .map(|_| key(&rcgen::PKCS_ECDSA_P256_SHA256))
        .collect();
    let mut issuers = Vec::new();
    for k in &keys {
        let k2 = rcgen::KeyPair::from_pem(&k.serialize_pem()).unwrap();
        issuers.push(rcgen::Issuer::new(ca_params("Mesh", None), k2));
    }
    let mut ders = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        for (j, issuer) in issuers.iter().enumerate() {
            if i != j {
                ders.push(
                    ca_params("Mesh", None)
                        .signed_by(k, issuer)
                        .unwrap()
                        .der()
                        .clone(),
                );
            }
        }
    }
    let leaf_key = key(&rcgen::PKCS_ECDSA_P256_SHA256);
    let leaf = leaf_params("d", &["d.example.com"])
        .signed_by(&leaf_key, &issuers[0])
        .unwrap()
        .der()
        .clone();
    let options = {
        let mut options = VerifierOptions::default();
        options.max_signature_checks = 20;
        options
    };
    let err = Verifier::new(store(&[&root]), options)
        .verify(&leaf, &ders, &client_request())
        .unwrap_err();
    assert_eq!(
        err,
        VerifyError::BudgetExceeded {
            budget: Budget::SignatureChecks
        }
    );
}

#[test]
fn issuer_cache_gives_the_same_answers() {
    let c = chain();
    let options = {
        let mut options = VerifierOptions::default();
        options.issuer_cache_capacity = 4;
        options
    };
    let verifier = Verifier::new(store(&[&c.root]), options);
    for _ in 0..3 {
        assert!(
            verifier
                .verify(
                    &c.leaf.der,
                    std::slice::from_ref(&c.intermediate.der),
                    &client_request()
                )
                .is_ok()
        );
    }
    // A cached link does not excuse an expired leaf or a tampered one.
    let later = VerifyRequest::new(at(2_082_758_400), Usage::ClientAuth);
    assert!(matches!(
        verifier.verify(
            &c.leaf.der,
            std::slice::from_ref(&c.intermediate.der),
            &later
        ),
        Err(VerifyError::Invalid {
            index: 0,
            check: Check::Expired { .. }
        })
    ));
    let mut der = c.leaf.der.to_vec();
    let last = der.len() - 3;
    der[last] ^= 0x01;
    assert_eq!(
        verifier
            .verify(
                &der,
                std::slice::from_ref(&c.intermediate.der),
                &client_request()
            )
            .unwrap_err(),
        invalid(0, Check::BadSignature)
    );
}

#[test]
fn crl_revokes_a_listed_serial() {
    let c = chain();
    let serial = rcgen::SerialNumber::from_slice(&[0x01, 0x23]);
    let mut p = leaf_params("revoked", &["r.example.com"]);
    p.serial_number = Some(serial.clone());
    let leaf = signed(p, &c.intermediate);
    let crl_params = rcgen::CertificateRevocationListParams {
        this_update: rcgen::date_time_ymd(2029, 12, 1),
        next_update: rcgen::date_time_ymd(2030, 2, 1),
        crl_number: rcgen::SerialNumber::from(7u64),
        issuing_distribution_point: None,
        revoked_certs: vec![rcgen::RevokedCertParams {
            serial_number: serial,
            revocation_time: rcgen::date_time_ymd(2029, 12, 1),
            reason_code: None,
            invalidity_date: None,
        }],
        key_identifier_method: rcgen::KeyIdMethod::Sha256,
    };
    let crl = crl_params.signed_by(&c.intermediate.issuer).unwrap();
    let options = {
        let mut options = VerifierOptions::default();
        options.crls = vec![Crl::from_der(crl.der()).unwrap()];
        options
    };
    let verifier = Verifier::new(store(&[&c.root]), options);
    assert_eq!(
        verifier
            .verify(
                &leaf.der,
                std::slice::from_ref(&c.intermediate.der),
                &client_request()
            )
            .unwrap_err(),
        invalid(
            0,
            Check::Revoked {
                serial: "0123".into()
            }
        )
    );
    // Another serial under the same CRL passes.
    assert!(
        verifier
            .verify(
                &c.leaf.der,
                std::slice::from_ref(&c.intermediate.der),
                &client_request()
            )
            .is_ok()
    );
    // After nextUpdate the CRL is stale: fail closed.
    let later = VerifyRequest::new(at(1_893_456_000 + 90 * 86_400), Usage::ClientAuth);
    assert!(matches!(
        verifier.verify(
            &c.leaf.der,
            std::slice::from_ref(&c.intermediate.der),
            &later
        ),
        Err(VerifyError::Invalid {
            index: 0,
            check: Check::BadCrl { .. }
        })
    ));
}

#[test]
fn malformed_input_is_bad_encoding_with_its_position() {
    let c = chain();
    let verifier = Verifier::new(store(&[&c.root]), VerifierOptions::default());
    assert!(matches!(
        verifier.verify(b"\x30\x03\x02\x01", &[] as &[&[u8]], &client_request()),
        Err(VerifyError::BadEncoding { index: 0, .. })
    ));
    assert!(matches!(
        verifier.verify(&c.leaf.der, &[&b"junk"[..]], &client_request()),
        Err(VerifyError::BadEncoding { index: 1, .. })
    ));
    let mut trailing = c.leaf.der.to_vec();
    trailing.push(0);
    assert!(matches!(
        verifier.verify(
            &trailing,
            std::slice::from_ref(&c.intermediate.der),
            &client_request()
        ),
        Err(VerifyError::BadEncoding { index: 0, .. })
    ));
}

#[test]
fn trust_store_from_pem_reads_every_block_and_rejects_empty_input() {
    let pem = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/root.pem")).unwrap();
    let mut two = pem.clone();
    two.extend_from_slice(
        &std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/inter.pem")).unwrap(),
    );
    assert_eq!(TrustStore::from_pem(&pem).unwrap().len(), 1);
    assert_eq!(TrustStore::from_pem(&two).unwrap().len(), 2);
    let err = TrustStore::from_pem(b"no pem here").unwrap_err();
    assert_eq!(err.index, 0);
    assert_eq!(err.to_string(), "trust anchor 0: PEM: no CERTIFICATE block");
}

#[test]
fn ed25519_and_p384_signatures_and_the_allowed_algorithm_list() {
    let root = self_signed_with(ca_params("Ed Root", None), key(&rcgen::PKCS_ED25519));
    let intermediate = signed_with(
        ca_params("P-384 CA", None),
        key(&rcgen::PKCS_ECDSA_P384_SHA384),
        &root,
    );
    let leaf = signed(leaf_params("d", &["d.example.com"]), &intermediate);
    assert!(verify(&[&root], &leaf, &[&intermediate], &client_request()).is_ok());
    // Only P-256/SHA-256 allowed: the leaf's P-384 signature has no algorithm.
    static ONLY_P256: &[&dyn x509_chain::SignatureVerificationAlgorithm] =
        &[x509_chain::rustcrypto::ECDSA_P256_SHA256];
    let options = {
        let mut options = VerifierOptions::default();
        options.algorithms = ONLY_P256;
        options
    };
    let err = Verifier::new(store(&[&root]), options)
        .verify(
            &leaf.der,
            std::slice::from_ref(&intermediate.der),
            &client_request(),
        )
        .unwrap_err();
    assert_eq!(err, invalid(0, Check::UnsupportedSignatureAlgorithm));
}

#[test]
fn aws_lc_rs_algorithms_plug_in_and_agree() {
    let c = chain();
    let options = {
        let mut options = VerifierOptions::default();
        options.algorithms = rustls::crypto::aws_lc_rs::default_provider()
            .signature_verification_algorithms
            .all;
        options
    };
    let verifier = Verifier::new(store(&[&c.root]), options);
    assert!(
        verifier
            .verify(
                &c.leaf.der,
                std::slice::from_ref(&c.intermediate.der),
                &client_request()
            )
            .is_ok()
    );
    let mut der = c.leaf.der.to_vec();
    let last = der.len() - 3;
    der[last] ^= 0x01;
    assert_eq!(
        verifier
            .verify(
                &der,
                std::slice::from_ref(&c.intermediate.der),
                &client_request()
            )
            .unwrap_err(),
        invalid(0, Check::BadSignature)
    );
}

#[test]
fn rsa_pss_sha512_signature_from_openssl_verifies() {
    // tests/data/pss-*.pem: an RSA-2048 root and a leaf it signed with RSASSA-PSS, SHA-512,
    // MGF1-SHA-512, 64-byte salt (openssl x509 -sigopt rsa_padding_mode:pss ...).
    let read = |name: &str| {
        let pem =
            std::fs::read(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        x509_chain::certificates_from_pem(&pem).unwrap().remove(0)
    };
    let verifier = Verifier::new(
        TrustStore::from_der([read("pss-root.pem")]).unwrap(),
        VerifierOptions::default(),
    );
    let leaf = read("pss-leaf.pem");
    assert!(
        verifier
            .verify(&leaf, &[] as &[&[u8]], &client_request())
            .is_ok()
    );
    let mut der = leaf.to_vec();
    let last = der.len() - 3;
    der[last] ^= 0x01;
    assert_eq!(
        verifier
            .verify(&der, &[] as &[&[u8]], &client_request())
            .unwrap_err(),
        invalid(0, Check::BadSignature)
    );
}

#[test]
fn an_rsa_key_whose_modulus_does_not_parse_is_unsupported_not_zero_bits() {
    let c = chain();
    let leaf = signed_with(
        leaf_params("device-rsa", &["device-rsa.example.com"]),
        key(&rcgen::PKCS_RSA_SHA256),
        &c.intermediate,
    );
    let request = client_request();
    // The RSA leaf itself verifies (its key is 2048 bits).
    verify(&[&c.root], &leaf, &[&c.intermediate], &request).unwrap();

    // RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }: the modulus
    // re-tagged as an OCTET STRING, every length unchanged, so the certificate is still DER.
    let rsa_public_key = [0x30, 0x82, 0x01, 0x0a, 0x02, 0x82, 0x01, 0x01];
    let mut der = leaf.der.to_vec();
    let at = der
        .windows(rsa_public_key.len())
        .position(|w| w == rsa_public_key)
        .expect("a 2048-bit RSAPublicKey");
    der[at + 4] = 0x04;
    let broken = Node {
        der: der.into(),
        issuer: leaf.issuer,
    };
    assert_eq!(
        verify(&[&c.root], &broken, &[&c.intermediate], &request).unwrap_err(),
        invalid(
            0,
            Check::WeakKey {
                detail: "unsupported public key algorithm".into()
            }
        )
    );
}
