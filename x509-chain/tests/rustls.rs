//! The rustls adapters in a real (in-memory) TLS 1.3 handshake: the server verifies the
//! device's certificate with `ChainClientVerifier`, the client the server's with
//! `ChainServerVerifier`, and the server reads the device identity afterwards.
#![cfg(feature = "rustls")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod common;

use std::sync::Arc;

use common::*;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, ServerConfig, ServerConnection};
use x509_chain::rustls::{ChainClientVerifier, ChainServerVerifier, peer_identity};
use x509_chain::{DnAttribute, Verifier, VerifierOptions};

struct Party {
    chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

fn handshake(
    server_root: &Node,
    device: &Party,
    server: &Party,
    device_trusted_root: &Node,
) -> Result<ServerConnection, rustls::Error> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let device_verifier = Arc::new(Verifier::new(
        store(&[device_trusted_root]),
        VerifierOptions::default(),
    ));
    let server_config = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(Arc::new(ChainClientVerifier::new(
            device_verifier,
            &provider,
        )))
        .with_single_cert(server.chain.clone(), server.key.clone_key())
        .unwrap();
    let server_verifier = Arc::new(Verifier::new(
        store(&[server_root]),
        VerifierOptions::default(),
    ));
    let client_config = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(ChainServerVerifier::new(
            server_verifier,
            &provider,
        )))
        .with_client_auth_cert(device.chain.clone(), device.key.clone_key())
        .unwrap();
    let mut client = ClientConnection::new(
        Arc::new(client_config),
        ServerName::try_from("broker.example.com").unwrap(),
    )
    .unwrap();
    let mut server = ServerConnection::new(Arc::new(server_config)).unwrap();
    for _ in 0..10 {
        let mut buf = Vec::new();
        client.write_tls(&mut buf).unwrap();
        server.read_tls(&mut buf.as_slice()).unwrap();
        server.process_new_packets()?;
        let mut buf = Vec::new();
        server.write_tls(&mut buf).unwrap();
        client.read_tls(&mut buf.as_slice()).unwrap();
        client.process_new_packets()?;
        if !client.is_handshaking() && !server.is_handshaking() {
            // Flush the client's last flight (its certificate and Finished) to the server.
            let mut buf = Vec::new();
            client.write_tls(&mut buf).unwrap();
            server.read_tls(&mut buf.as_slice()).unwrap();
            server.process_new_packets()?;
            return Ok(server);
        }
    }
    panic!("handshake did not finish");
}

#[test]
fn device_identity_after_a_verified_handshake() {
    // rcgen's default validity covers now, which is what rustls passes as the time.
    let device_root = self_signed(ca_params_now("Device Root"));
    let server_root = self_signed(ca_params_now("Server Root"));
    let device = party_now(&device_root, "device-7", "device-7.example.com");
    let server = party_now(&server_root, "broker", "broker.example.com");
    let conn = handshake(&server_root, &device, &server, &device_root).unwrap();
    let identity = peer_identity(conn.peer_certificates().unwrap()).unwrap();
    assert_eq!(
        identity
            .subject_values(DnAttribute::CommonName)
            .collect::<Vec<_>>(),
        ["device-7"]
    );
    assert_eq!(identity.issuer_dn(), "CN=Device Root");
}

#[test]
fn device_from_another_ca_is_rejected_as_unknown_issuer() {
    let device_root = self_signed(ca_params_now("Device Root"));
    let other_root = self_signed(ca_params_now("Other Root"));
    let server_root = self_signed(ca_params_now("Server Root"));
    let device = party_now(&other_root, "device-7", "device-7.example.com");
    let server = party_now(&server_root, "broker", "broker.example.com");
    let err = handshake(&server_root, &device, &server, &device_root).unwrap_err();
    assert_eq!(
        err,
        rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)
    );
}

#[test]
fn server_name_is_checked_by_the_server_verifier() {
    let device_root = self_signed(ca_params_now("Device Root"));
    let server_root = self_signed(ca_params_now("Server Root"));
    let device = party_now(&device_root, "device-7", "device-7.example.com");
    let server = party_now(&server_root, "broker", "not-the-broker.example.com");
    let err = handshake(&server_root, &device, &server, &device_root).unwrap_err();
    assert_eq!(
        err,
        rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName)
    );
}

fn ca_params_now(cn: &str) -> rcgen::CertificateParams {
    let mut p = ca_params(cn, None);
    p.not_before = rcgen::date_time_ymd(2020, 1, 1);
    p.not_after = rcgen::date_time_ymd(2100, 1, 1);
    p
}

fn party_now(ca: &Node, cn: &str, dns: &str) -> Party {
    let key = key(&rcgen::PKCS_ECDSA_P256_SHA256);
    let pkcs8 = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let mut p = leaf_params(cn, &[dns]);
    p.not_before = rcgen::date_time_ymd(2020, 1, 1);
    p.not_after = rcgen::date_time_ymd(2100, 1, 1);
    let leaf = signed_with(p, key, ca);
    Party {
        chain: vec![leaf.der.clone(), ca.der.clone()],
        key: pkcs8,
    }
}
