//! The development PKI written on first start: a CA, a server certificate for
//! `localhost`/`127.0.0.1`, and device certificates (rcgen).

use std::fmt;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, DnValue, ExtendedKeyUsagePurpose,
    IsCa, KeyPair, KeyUsagePurpose,
};

/// The X.520 `serialNumber` attribute (2.5.4.5), the one scenario 1's policy variable reads.
const OID_SERIAL_NUMBER: [u64; 4] = [2, 5, 4, 5];

/// One device certificate of the development PKI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevDevice {
    /// File stem under `devices/` and the thing name attached to it.
    pub name: &'static str,
    /// The subject's `serialNumber` attribute.
    pub serial: &'static str,
    /// The registry status written for it (`ACTIVE`, `INACTIVE`, `REVOKED`).
    pub status: &'static str,
}

/// The devices created on first start: the two scenario-1 buttons, and one certificate of each
/// non-active status, so that a newcomer can see them refused.
pub const DEV_DEVICES: [DevDevice; 4] = [
    DevDevice {
        name: "button-1",
        serial: "G030JF0000000001",
        status: "ACTIVE",
    },
    DevDevice {
        name: "button-2",
        serial: "G030JF0000000002",
        status: "ACTIVE",
    },
    DevDevice {
        name: "button-inactive",
        serial: "G030JF0000000003",
        status: "INACTIVE",
    },
    DevDevice {
        name: "button-revoked",
        serial: "G030JF0000000004",
        status: "REVOKED",
    },
];

/// A file of the PKI could not be generated or written.
#[derive(Debug)]
#[non_exhaustive]
pub enum PkiError {
    /// rcgen refused to build a certificate.
    Generate(rcgen::Error),
    /// A file could not be written.
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
}

impl fmt::Display for PkiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PkiError::Generate(e) => write!(f, "cannot generate a development certificate: {e}"),
            PkiError::Write { path, error } => {
                write!(f, "cannot write {}: {error}", path.display())
            }
        }
    }
}

impl std::error::Error for PkiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PkiError::Generate(e) => Some(e),
            PkiError::Write { error, .. } => Some(error),
        }
    }
}

impl From<rcgen::Error> for PkiError {
    fn from(e: rcgen::Error) -> Self {
        PkiError::Generate(e)
    }
}

/// PEM files of one generated certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedCert {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// Its private key, PKCS#8 PEM.
    pub key_pem: String,
    /// The DER, for fingerprints.
    pub der: Vec<u8>,
}

/// The generated development PKI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevPki {
    /// The CA.
    pub ca: GeneratedCert,
    /// The server certificate (`localhost`, `127.0.0.1`).
    pub server: GeneratedCert,
    /// One certificate per entry of [`DEV_DEVICES`], in order.
    pub devices: Vec<GeneratedCert>,
}

impl DevPki {
    /// Generates a CA, a server certificate and the [`DEV_DEVICES`] (P-256 keys).
    pub fn generate() -> Result<DevPki, PkiError> {
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.distinguished_name = rcgen::DistinguishedName::new();
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "reference-broker development CA");
        ca_params
            .distinguished_name
            .push(DnType::OrganizationName, "iot-gateway-core");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_key = KeyPair::generate()?;
        let ca_key_pem = ca_key.serialize_pem();
        let ca = CertifiedIssuer::self_signed(ca_params, ca_key)?;

        let mut server_params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?;
        server_params.distinguished_name = rcgen::DistinguishedName::new();
        server_params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        server_params.use_authority_key_identifier_extension = true;
        let server = leaf(server_params, &ca)?;

        let mut devices = Vec::with_capacity(DEV_DEVICES.len());
        for device in &DEV_DEVICES {
            let mut params = CertificateParams::new(Vec::<String>::new())?;
            params.distinguished_name = rcgen::DistinguishedName::new();
            params
                .distinguished_name
                .push(DnType::CommonName, device.name);
            params
                .distinguished_name
                .push(DnType::OrganizationName, "Pizza Button Co");
            params.distinguished_name.push(
                DnType::CustomDnType(OID_SERIAL_NUMBER.to_vec()),
                DnValue::PrintableString(device.serial.try_into()?),
            );
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
            params.use_authority_key_identifier_extension = true;
            devices.push(leaf(params, &ca)?);
        }
        Ok(DevPki {
            ca: GeneratedCert {
                cert_pem: ca.pem(),
                key_pem: ca_key_pem,
                der: ca.der().to_vec(),
            },
            server,
            devices,
        })
    }

    /// Writes `ca.pem`, `ca.key`, `server.pem`, `server.key` and `devices/<name>.pem|.key`.
    pub fn write(&self, dir: &Path) -> Result<(), PkiError> {
        write_file(&dir.join("ca.pem"), &self.ca.cert_pem)?;
        write_file(&dir.join("ca.key"), &self.ca.key_pem)?;
        write_file(&dir.join("server.pem"), &self.server.cert_pem)?;
        write_file(&dir.join("server.key"), &self.server.key_pem)?;
        for (device, cert) in DEV_DEVICES.iter().zip(&self.devices) {
            write_file(
                &dir.join("devices").join(format!("{}.pem", device.name)),
                &cert.cert_pem,
            )?;
            write_file(
                &dir.join("devices").join(format!("{}.key", device.name)),
                &cert.key_pem,
            )?;
        }
        Ok(())
    }
}

fn leaf(
    params: CertificateParams,
    ca: &CertifiedIssuer<'_, KeyPair>,
) -> Result<GeneratedCert, PkiError> {
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, ca)?;
    Ok(GeneratedCert {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        der: cert.der().to_vec(),
    })
}

/// Writes a file, creating its directory.
pub(crate) fn write_file(path: &Path, contents: &str) -> Result<(), PkiError> {
    let io = |error| PkiError::Write {
        path: path.to_owned(),
        error,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    std::fs::write(path, contents).map_err(io)
}
