//! Chain verification throughput: a 3-certificate P-256 chain and a 3-certificate RSA-2048
//! chain, verified by rustls-webpki (aws-lc-rs) and by this crate with the RustCrypto set,
//! with the same aws-lc-rs set as webpki, and with the issuer cache. Each iteration verifies
//! the next of 64 device leaves under the same intermediate, as a fleet's connections do.
//! `identity-from-der` is the cost of reading a leaf's identity after the handshake.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    missing_docs
)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;

use common::*;
use criterion::{Criterion, criterion_group, criterion_main};
use x509_chain::{CertificateDer, Usage, Verifier, VerifierOptions, VerifyRequest};

struct Fleet {
    root: Node,
    intermediate: CertificateDer<'static>,
    leaves: Vec<CertificateDer<'static>>,
}

fn fleet(alg: &'static rcgen::SignatureAlgorithm) -> Fleet {
    let root = self_signed_with(ca_params("Root", None), key(alg));
    let intermediate = signed_with(ca_params("Intermediate", Some(0)), key(alg), &root);
    let leaves = (0..64)
        .map(|i| {
            signed_with(
                leaf_params(
                    &format!("device-{i}"),
                    &[&format!("device-{i}.example.com")],
                ),
                key(alg),
                &intermediate,
            )
            .der
        })
        .collect();
    Fleet {
        root,
        intermediate: intermediate.der,
        leaves,
    }
}

fn bench(c: &mut Criterion) {
    let aws = rustls::crypto::aws_lc_rs::default_provider()
        .signature_verification_algorithms
        .all;
    let request = VerifyRequest::new(at(NOW), Usage::ClientAuth);
    let mut group = c.benchmark_group("verify");
    for (name, alg) in [
        ("p256", &rcgen::PKCS_ECDSA_P256_SHA256),
        ("rsa2048", &rcgen::PKCS_RSA_SHA256),
    ] {
        let f = fleet(alg);
        let intermediates = [f.intermediate.clone()];

        let anchors = vec![
            webpki::anchor_from_trusted_cert(&f.root.der)
                .unwrap()
                .to_owned(),
        ];
        let mut i = 0usize;
        group.bench_function(format!("{name}/webpki-aws-lc-rs"), |b| {
            b.iter(|| {
                i = (i + 1) % f.leaves.len();
                let ee = webpki::EndEntityCert::try_from(&f.leaves[i]).unwrap();
                black_box(
                    ee.verify_for_usage(
                        aws,
                        &anchors,
                        &intermediates,
                        at(NOW),
                        webpki::KeyUsage::client_auth(),
                        None,
                        None,
                    )
                    .is_ok(),
                )
            })
        });

        let variants = [
            ("x509-chain-rustcrypto", VerifierOptions::default()),
            ("x509-chain-aws-lc-rs", {
                let mut options = VerifierOptions::default();
                options.algorithms = aws;
                options
            }),
            ("x509-chain-aws-lc-rs-cache", {
                let mut options = VerifierOptions::default();
                options.algorithms = aws;
                options.issuer_cache_capacity = 64;
                options
            }),
            ("x509-chain-rustcrypto-cache", {
                let mut options = VerifierOptions::default();
                options.issuer_cache_capacity = 64;
                options
            }),
        ];
        for (label, options) in variants {
            let verifier = Verifier::new(store(&[&f.root]), options);
            assert!(
                verifier
                    .verify(&f.leaves[0], &intermediates, &request)
                    .is_ok()
            );
            let mut i = 0usize;
            group.bench_function(format!("{name}/{label}"), |b| {
                b.iter(|| {
                    i = (i + 1) % f.leaves.len();
                    black_box(
                        verifier
                            .verify(&f.leaves[i], &intermediates, &request)
                            .is_ok(),
                    )
                })
            });
        }
        // What a broker pays after the handshake to read the device's identity.
        let mut i = 0usize;
        group.bench_function(format!("{name}/identity-from-der"), |b| {
            b.iter(|| {
                i = (i + 1) % f.leaves.len();
                black_box(x509_chain::Identity::from_der(&f.leaves[i]).is_ok())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
