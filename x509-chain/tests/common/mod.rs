//! A small PKI built with rcgen for the tests: roots, intermediates and leaves with the
//! extensions RFC 5280 conforming CAs emit (SKI, AKI, critical basicConstraints).
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType, SignatureAlgorithm,
};
use x509_chain::{CertificateDer, TrustStore, UnixTime, Usage, VerifyRequest};

/// 2030-01-01T00:00:00Z: inside every validity window below.
pub const NOW: u64 = 1_893_456_000;

pub fn at(secs: u64) -> UnixTime {
    UnixTime::since_unix_epoch(Duration::from_secs(secs))
}

pub fn client_request() -> VerifyRequest {
    VerifyRequest::new(at(NOW), Usage::ClientAuth)
}

/// A certificate and, for CAs, what it takes to issue more.
pub struct Node {
    pub der: CertificateDer<'static>,
    pub issuer: Issuer<'static, KeyPair>,
}

fn base(cn: &str) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    p.distinguished_name = dn;
    p.not_before = rcgen::date_time_ymd(2025, 1, 1);
    p.not_after = rcgen::date_time_ymd(2035, 1, 1);
    p.use_authority_key_identifier_extension = true;
    p
}

pub fn ca_params(cn: &str, path_len: Option<u8>) -> CertificateParams {
    let mut p = base(cn);
    p.is_ca = IsCa::Ca(path_len.map_or(
        BasicConstraints::Unconstrained,
        BasicConstraints::Constrained,
    ));
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p
}

pub fn leaf_params(cn: &str, dns: &[&str]) -> CertificateParams {
    let mut p = base(cn);
    p.subject_alt_names = dns
        .iter()
        .map(|d| SanType::DnsName((*d).try_into().unwrap()))
        .collect();
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ClientAuth,
        ExtendedKeyUsagePurpose::ServerAuth,
    ];
    p
}

pub fn key(alg: &'static SignatureAlgorithm) -> KeyPair {
    KeyPair::generate_for(alg).unwrap()
}

pub fn self_signed(p: CertificateParams) -> Node {
    self_signed_with(p, key(&rcgen::PKCS_ECDSA_P256_SHA256))
}

pub fn self_signed_with(p: CertificateParams, key: KeyPair) -> Node {
    let der = p.self_signed(&key).unwrap().der().clone();
    Node {
        der,
        issuer: Issuer::new(p, key),
    }
}

pub fn signed(p: CertificateParams, by: &Node) -> Node {
    signed_with(p, key(&rcgen::PKCS_ECDSA_P256_SHA256), by)
}

pub fn signed_with(p: CertificateParams, key: KeyPair, by: &Node) -> Node {
    let der = p.signed_by(&key, &by.issuer).unwrap().der().clone();
    Node {
        der,
        issuer: Issuer::new(p, key),
    }
}

pub fn store(anchors: &[&Node]) -> TrustStore {
    TrustStore::from_der(anchors.iter().map(|n| n.der.as_ref())).unwrap()
}

/// Root -> intermediate -> leaf, P-256.
pub struct Chain {
    pub root: Node,
    pub intermediate: Node,
    pub leaf: Node,
}

pub fn chain() -> Chain {
    let root = self_signed(ca_params("Root", None));
    let intermediate = signed(ca_params("Intermediate", Some(0)), &root);
    let leaf = signed(
        leaf_params("device-1", &["device-1.example.com"]),
        &intermediate,
    );
    Chain {
        root,
        intermediate,
        leaf,
    }
}
