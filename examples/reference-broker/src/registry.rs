//! The registry, as in AWS IoT: CAs and certificates with a status, things attached to
//! certificates, and policies attached to certificates (`registry.json` in the data directory).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use iot_policy::{ParseOptions, Policy, PolicySet};
use rustls::pki_types::CertificateDer;
use serde::{Deserialize, Serialize};

use crate::identity::{TlsError, certs_from_pem};
use x509_chain::certificate_id;

/// A certificate's or CA's status (AWS IoT's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    /// May connect.
    Active,
    /// Registered but switched off.
    Inactive,
    /// Revoked for good.
    Revoked,
}

/// The registry file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryFile {
    /// Registered CAs.
    #[serde(default)]
    pub cas: Vec<CaRecord>,
    /// Registered device certificates.
    #[serde(default)]
    pub certificates: Vec<CertificateRecord>,
    /// Things.
    #[serde(default)]
    pub things: Vec<ThingRecord>,
    /// Policies, by name.
    #[serde(default)]
    pub policies: Vec<PolicyRecord>,
}

/// A registered CA.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaRecord {
    /// The PEM file, relative to the data directory.
    pub file: PathBuf,
    /// Its status; only `ACTIVE` CAs are trust anchors.
    pub status: Status,
}

/// A registered device certificate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateRecord {
    /// The PEM file, relative to the data directory.
    pub file: PathBuf,
    /// Its status; only `ACTIVE` certificates connect.
    pub status: Status,
    /// Names of the policies attached to it.
    #[serde(default)]
    pub policies: Vec<String>,
    /// Names of the things attached to it.
    #[serde(default)]
    pub things: Vec<String>,
}

/// A thing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThingRecord {
    /// Its name (a connection's client id selects it).
    pub name: String,
    /// Its thing type, if any.
    #[serde(default, rename = "type")]
    pub thing_type: Option<String>,
    /// Its attributes.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

/// A named policy document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyRecord {
    /// The name certificates attach it by.
    pub name: String,
    /// The JSON file, relative to the data directory.
    pub file: PathBuf,
}

/// Why the registry could not be loaded.
#[derive(Debug)]
#[non_exhaustive]
pub enum RegistryError {
    /// A file could not be read.
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// `registry.json` is not valid.
    Json {
        /// The file.
        path: PathBuf,
        /// serde_json's message, with line and column.
        message: String,
    },
    /// A certificate file is not usable.
    Certificate {
        /// The file.
        path: PathBuf,
        /// Why.
        error: TlsError,
    },
    /// A policy document was refused by iot-policy.
    Policy {
        /// The policy's name.
        name: String,
        /// iot-policy's error (JSON path and offset).
        error: iot_policy::PolicyError,
    },
    /// A name is used but not defined, or defined twice.
    Reference(String),
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegistryError::Read { path, error } => {
                write!(f, "cannot read {}: {error}", path.display())
            }
            RegistryError::Json { path, message } => {
                write!(f, "invalid {}: {message}", path.display())
            }
            RegistryError::Certificate { path, error } => write!(f, "{}: {error}", path.display()),
            RegistryError::Policy { name, error } => write!(f, "policy {name:?}: {error}"),
            RegistryError::Reference(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for RegistryError {}

/// A registered certificate, loaded.
#[derive(Debug, Clone)]
pub struct CertificateEntry {
    /// Its status.
    pub status: Status,
    /// Attached policy names.
    pub policies: Vec<String>,
    /// Attached thing names.
    pub things: Vec<String>,
    /// The certificate, DER (to rebuild a persistent session's identity after a restart).
    pub der: Vec<u8>,
}

/// The loaded registry: trust anchors, certificates by id, things and parsed policies.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    /// Active CAs, the TLS trust anchors.
    pub trust_anchors: Vec<CertificateDer<'static>>,
    /// Ids of the CAs that are registered but not active.
    pub inactive_cas: Vec<String>,
    /// Certificates by certificate id.
    pub certificates: HashMap<String, CertificateEntry>,
    /// Things by name.
    pub things: HashMap<String, ThingRecord>,
    /// Parsed policies by name.
    pub policies: HashMap<String, Policy>,
    /// Policy sets already compiled, by the list of names: every connection of a certificate
    /// shares one, instead of compiling its own.
    compiled: CompiledSets,
}

/// Compiled policy sets by attached names. At most one per distinct list in the registry (and
/// the plain listener's), so bounded by the registry's size; a reload loads a new registry
/// and so starts over. A clone starts empty.
#[derive(Debug, Default)]
struct CompiledSets(Mutex<HashMap<Vec<String>, Arc<PolicySet>>>);

impl Clone for CompiledSets {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl Registry {
    /// Loads `registry.json` and every file it names from `dir`.
    pub fn load(dir: &Path) -> Result<Registry, RegistryError> {
        let path = dir.join("registry.json");
        let text = read(&path)?;
        let file: RegistryFile = serde_json::from_str(&text).map_err(|e| RegistryError::Json {
            path: path.clone(),
            message: e.to_string(),
        })?;
        Registry::from_file(&file, dir)
    }

    /// Loads the files a parsed registry names, relative to `dir`.
    pub fn from_file(file: &RegistryFile, dir: &Path) -> Result<Registry, RegistryError> {
        let mut registry = Registry::default();
        for ca in &file.cas {
            let path = dir.join(&ca.file);
            let certs = certs_from_pem(&path.display().to_string(), read(&path)?.as_bytes())
                .map_err(|error| RegistryError::Certificate {
                    path: path.clone(),
                    error,
                })?;
            for cert in certs {
                if ca.status == Status::Active {
                    registry.trust_anchors.push(cert);
                } else {
                    registry.inactive_cas.push(certificate_id(&cert));
                }
            }
        }
        for policy in &file.policies {
            let text = read(&dir.join(&policy.file))?;
            let parsed = Policy::parse(&text, &ParseOptions::default()).map_err(|error| {
                RegistryError::Policy {
                    name: policy.name.clone(),
                    error,
                }
            })?;
            if registry
                .policies
                .insert(policy.name.clone(), parsed)
                .is_some()
            {
                return Err(RegistryError::Reference(format!(
                    "policy {:?} is defined twice",
                    policy.name
                )));
            }
        }
        for thing in &file.things {
            if registry
                .things
                .insert(thing.name.clone(), thing.clone())
                .is_some()
            {
                return Err(RegistryError::Reference(format!(
                    "thing {:?} is defined twice",
                    thing.name
                )));
            }
        }
        for record in &file.certificates {
            let path = dir.join(&record.file);
            let certs = certs_from_pem(&path.display().to_string(), read(&path)?.as_bytes())
                .map_err(|error| RegistryError::Certificate {
                    path: path.clone(),
                    error,
                })?;
            for name in &record.policies {
                if !registry.policies.contains_key(name) {
                    return Err(RegistryError::Reference(format!(
                        "{} attaches policy {name:?}, which is not defined",
                        path.display()
                    )));
                }
            }
            for name in &record.things {
                if !registry.things.contains_key(name) {
                    return Err(RegistryError::Reference(format!(
                        "{} attaches thing {name:?}, which is not defined",
                        path.display()
                    )));
                }
            }
            // The leaf is the first certificate of the file.
            if let Some(leaf) = certs.first() {
                registry.certificates.insert(
                    certificate_id(leaf),
                    CertificateEntry {
                        status: record.status,
                        policies: record.policies.clone(),
                        things: record.things.clone(),
                        der: leaf.to_vec(),
                    },
                );
            }
        }
        Ok(registry)
    }

    /// The compiled policies named, in order; unknown names are skipped (the loader has
    /// already refused dangling references).
    pub fn policy_set(&self, names: &[String]) -> Arc<PolicySet> {
        let mut compiled = self.compiled.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(set) = compiled.get(names) {
            return Arc::clone(set);
        }
        let set =
            Arc::new(PolicySet::compile(names.iter().filter_map(|n| {
                self.policies.get(n).map(|p| (n.clone(), p.clone()))
            })));
        compiled.insert(names.to_vec(), Arc::clone(&set));
        set
    }
}

fn read(path: &Path) -> Result<String, RegistryError> {
    std::fs::read_to_string(path).map_err(|error| RegistryError::Read {
        path: path.to_owned(),
        error,
    })
}
