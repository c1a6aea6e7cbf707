//! Reloading the registry and policies (SIGHUP or a file change) without dropping the
//! connections that are still allowed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

mod common;

use common::{Client, start, start_with};
use mqtt_wire::QosPid;
use reference_broker::{RegistryError, StartError};

const KEEP_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:us-east-1:123456789012:client/keep-*"},
 {"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:us-east-1:123456789012:topic/still/*"}]}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_change_closes_only_connections_no_longer_allowed() {
    let b = start_with("reload-policy", |c, _| c.reload_watch_secs = 0).await;
    let (mut goes, _) = Client::connect(b.plain(), "goes", true).await;
    let (mut keep, _) = Client::connect(b.plain(), "keep-1", true).await;
    // Allowed (and remembered) before the reload; denied after it.
    keep.publish_acked("other", 2, "x").await;
    std::fs::write(b.dir.join("policies/plain-default.json"), KEEP_ONLY).unwrap();
    assert_eq!(b.running.reload().unwrap(), 1);
    goes.expect_closed().await;
    keep.ping().await;
    assert_eq!(b.metric("reload_disconnects_total"), 1);
    // The new policy applies to the connection that stayed.
    keep.publish_acked("still/ok", 1, "x").await;
    keep.publish("other", QosPid::AtMostOnce, "x", false).await;
    keep.expect_closed().await;

    // An invalid policy is refused and the previous state stays.
    let (mut keep, _) = Client::connect(b.plain(), "keep-2", true).await;
    std::fs::write(
        b.dir.join("policies/plain-default.json"),
        r#"{"Statement":[]}"#,
    )
    .unwrap();
    match b.running.reload() {
        Err(StartError::Registry(RegistryError::Policy { name, .. })) => {
            assert_eq!(name, "plain-default")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(b.metric("reload_failures_total"), 1);
    keep.publish_acked("still/ok", 1, "x").await;
}

fn set_status(dir: &std::path::Path, device: &str, status: &str) {
    let path = dir.join("registry.json");
    let mut registry: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    for cert in registry["certificates"].as_array_mut().unwrap() {
        if cert["file"] == format!("devices/{device}.pem") {
            cert["status"] = status.into();
        }
    }
    std::fs::write(&path, serde_json::to_vec_pretty(&registry).unwrap()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_a_certificate_closes_its_connection_on_file_change() {
    let b = start_with("reload-revoke", |c, _| c.reload_watch_secs = 1).await;
    let mut one = Client::tls_connect(&b, "button-1", "button-1").await;
    let mut two = Client::tls_connect(&b, "button-2", "button-2").await;
    one.publish_acked("iotbutton/G030JF0000000001", 1, "click")
        .await;
    set_status(&b.dir, "button-1", "REVOKED");
    // The watcher notices the file within a second or two and reloads.
    one.expect_closed().await;
    two.publish_acked("iotbutton/G030JF0000000002", 1, "click")
        .await;
    assert_eq!(b.metric("reload_disconnects_total"), 1);
    // And the revoked certificate cannot come back.
    let mut again = Client::tls(&b, "button-1").await;
    again
        .send(&mqtt_wire::Packet::from(common::connect_packet(
            "button-1", true,
        )))
        .await;
    assert_eq!(
        again.recv().await,
        mqtt_wire::Packet::ConnAck(mqtt_wire::ConnAck::new(
            false,
            mqtt_wire::ConnectReturnCode::NotAuthorized
        ))
    );
    // Re-activating it works the same way, through SIGHUP's path this time.
    set_status(&b.dir, "button-1", "ACTIVE");
    b.running.reload().unwrap();
    let mut back = Client::tls_connect(&b, "button-1", "button-1").await;
    back.ping().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_clients_need_a_certificate_from_a_registered_ca() {
    let b = start("tls-anchor").await;
    // Without a client certificate the handshake fails.
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls::pki_types::CertificateDer::pem_slice_iter(
        &std::fs::read(b.dir.join("ca.pem")).unwrap(),
    ) {
        roots.add(c.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(b.running.mqtt_addr)
        .await
        .unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let result = tokio::time::timeout(common::WAIT, async {
        let mut s = connector.connect(name, tcp).await?;
        // TLS 1.3: the server's refusal arrives with the first read.
        use tokio::io::AsyncReadExt;
        let mut buf = [0u8; 1];
        s.read(&mut buf).await
    })
    .await
    .unwrap();
    assert!(result.is_err() || result.unwrap() == 0);
    b.wait_metric("tls_handshake_failures_total", 1).await;
}

/// Writes `devices/<name>.pem|.key`, signed by the development CA (re-created from its key and
/// name) or by a foreign CA; not registered either way.
fn write_device(dir: &std::path::Path, name: &str, foreign: bool) {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    };
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.distinguished_name = rcgen::DistinguishedName::new();
    ca.distinguished_name
        .push(DnType::CommonName, "reference-broker development CA");
    ca.distinguished_name
        .push(DnType::OrganizationName, "iot-gateway-core");
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    let ca_key = if foreign {
        KeyPair::generate().unwrap()
    } else {
        KeyPair::from_pem(&std::fs::read_to_string(dir.join("ca.key")).unwrap()).unwrap()
    };
    let issuer = Issuer::new(ca, ca_key);
    let mut leaf = CertificateParams::new(Vec::<String>::new()).unwrap();
    leaf.distinguished_name = rcgen::DistinguishedName::new();
    leaf.distinguished_name.push(DnType::CommonName, name);
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    leaf.use_authority_key_identifier_extension = true;
    let key = KeyPair::generate().unwrap();
    let cert = leaf.signed_by(&key, &issuer).unwrap();
    std::fs::write(dir.join(format!("devices/{name}.pem")), cert.pem()).unwrap();
    std::fs::write(dir.join(format!("devices/{name}.key")), key.serialize_pem()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unregistered_certificates_are_refused() {
    let b = start_with("unregistered", |c, dir| {
        c.reload_watch_secs = 0;
        write_device(dir, "foreign", true);
        write_device(dir, "stranger", false);
    })
    .await;
    // Signed by the registered CA but not registered itself: CONNACK 5.
    let mut stranger = Client::tls(&b, "stranger").await;
    stranger
        .send(&mqtt_wire::Packet::from(common::connect_packet(
            "stranger", true,
        )))
        .await;
    assert_eq!(
        stranger.recv().await,
        mqtt_wire::Packet::ConnAck(mqtt_wire::ConnAck::new(
            false,
            mqtt_wire::ConnectReturnCode::NotAuthorized
        ))
    );
    assert_eq!(b.metric("denied_connect_total"), 1);
    // From a CA that is not registered: the handshake fails (x509-chain: unknown issuer).
    let handshake = tokio::time::timeout(common::WAIT, async {
        use rustls::pki_types::pem::PemObject;
        let read = |p: &str| std::fs::read(b.dir.join(p)).unwrap();
        let mut roots = rustls::RootCertStore::empty();
        for c in rustls::pki_types::CertificateDer::pem_slice_iter(&read("ca.pem")) {
            roots.add(c.unwrap()).unwrap();
        }
        let chain = rustls::pki_types::CertificateDer::pem_slice_iter(&read("devices/foreign.pem"))
            .map(Result::unwrap)
            .collect();
        let key =
            rustls::pki_types::PrivateKeyDer::from_pem_slice(&read("devices/foreign.key")).unwrap();
        let config = rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .unwrap();
        let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
        let tcp = tokio::net::TcpStream::connect(b.running.mqtt_addr)
            .await
            .unwrap();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let mut s = connector.connect(name, tcp).await?;
        use tokio::io::AsyncReadExt;
        let mut buf = [0u8; 1];
        s.read(&mut buf).await
    })
    .await
    .unwrap();
    assert!(handshake.is_err() || handshake.unwrap() == 0);
    b.wait_metric("tls_handshake_failures_total", 1).await;
}
