//! Differential test against rustls-webpki 0.103 on rcgen-generated chains: proptest over
//! validity windows, path lengths, pathLenConstraints, EKUs and DNS name constraints; both
//! verifiers must accept or reject the same chains (every generated feature is one both
//! support). Not generated: a pathLenConstraint on the trust anchor, which this crate
//! enforces and webpki ignores (RFC 5280 §6.1 leaves anchor constraints to the
//! implementation).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod common;

use common::*;
use proptest::prelude::*;
use rcgen::{ExtendedKeyUsagePurpose, GeneralSubtree, NameConstraints};
use x509_chain::{Usage, Verifier, VerifierOptions, VerifyRequest};

#[derive(Debug, Clone)]
struct Shape {
    /// pathLenConstraint of each intermediate (None = unconstrained) and its EKU.
    intermediates: Vec<(Option<u8>, Option<bool>)>,
    /// Leaf validity: years from 2025 for notBefore, length in years.
    leaf_from: i32,
    leaf_years: i32,
    /// Leaf EKUs: client, server.
    eku: (bool, bool),
    /// Name constraint on the first CA below the root: permit example.com.
    constrained: bool,
    /// Leaf DNS name inside example.com?
    inside: bool,
    usage_client: bool,
}

fn shape() -> impl Strategy<Value = Shape> {
    (
        prop::collection::vec(
            (prop::option::of(0u8..3), prop::option::of(any::<bool>())),
            0..3,
        ),
        0i32..8,
        1i32..6,
        (any::<bool>(), any::<bool>()),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(intermediates, leaf_from, leaf_years, eku, constrained, inside, usage_client)| {
                Shape {
                    intermediates,
                    leaf_from,
                    leaf_years,
                    eku,
                    constrained,
                    inside,
                    usage_client,
                }
            },
        )
}

fn build(s: &Shape) -> (Node, Vec<Node>, Node) {
    let root = self_signed(ca_params("Root", None));
    let mut chain: Vec<Node> = Vec::new();
    for (i, (path_len, eku)) in s.intermediates.iter().enumerate() {
        let mut p = ca_params(&format!("Intermediate {i}"), *path_len);
        // An intermediate EKU (Some(true): clientAuth, Some(false): serverAuth).
        if let Some(client) = eku {
            p.extended_key_usages = vec![if *client {
                ExtendedKeyUsagePurpose::ClientAuth
            } else {
                ExtendedKeyUsagePurpose::ServerAuth
            }];
        }
        if i == 0 && s.constrained {
            p.name_constraints = Some(NameConstraints {
                permitted_subtrees: vec![GeneralSubtree::DnsName("example.com".into())],
                excluded_subtrees: vec![],
            });
        }
        let node = signed(p, chain.last().unwrap_or(&root));
        chain.push(node);
    }
    let name = if s.inside {
        "device.example.com"
    } else {
        "device.example.org"
    };
    let mut p = leaf_params("device", &[name]);
    p.not_before = rcgen::date_time_ymd(2025 + s.leaf_from, 1, 1);
    p.not_after = rcgen::date_time_ymd(2025 + s.leaf_from + s.leaf_years, 1, 1);
    p.extended_key_usages = [
        (s.eku.0, ExtendedKeyUsagePurpose::ClientAuth),
        (s.eku.1, ExtendedKeyUsagePurpose::ServerAuth),
    ]
    .into_iter()
    .filter_map(|(on, e)| on.then_some(e))
    .collect();
    let leaf = signed(p, chain.last().unwrap_or(&root));
    (root, chain, leaf)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn same_accept_reject_as_webpki(s in shape()) {
        let (root, chain, leaf) = build(&s);
        let intermediates: Vec<_> = chain.iter().map(|n| n.der.clone()).collect();
        let time = at(NOW);

        let usage = if s.usage_client { Usage::ClientAuth } else { Usage::ServerAuth };
        let ours = Verifier::new(store(&[&root]), VerifierOptions::default())
            .verify(&leaf.der, &intermediates, &VerifyRequest::new(time, usage));

        let anchors = vec![webpki::anchor_from_trusted_cert(&root.der).unwrap().to_owned()];
        let ee = webpki::EndEntityCert::try_from(&leaf.der).unwrap();
        let eku = if s.usage_client { webpki::KeyUsage::client_auth() } else { webpki::KeyUsage::server_auth() };
        let algs = rustls::crypto::aws_lc_rs::default_provider().signature_verification_algorithms.all;
        let theirs = ee.verify_for_usage(algs, &anchors, &intermediates, time, eku, None, None);

        prop_assert_eq!(ours.is_ok(), theirs.is_ok(), "ours: {:?}\ntheirs: {:?}\nshape: {:?}", ours.err(), theirs.err(), s);
    }
}
