//! First start: the data directory with the development PKI, scenario policies, the registry
//! and a default `broker.toml`; and the banner that tells a newcomer what to run next.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::pki::{DEV_DEVICES, DevPki, PkiError, write_file};
use crate::registry::{
    CaRecord, CertificateRecord, PolicyRecord, RegistryFile, Status, ThingRecord,
};

/// The config file written into a new data directory.
pub const CONFIG_FILE: &str = "broker.toml";

/// Scenario 1's policy (SCENARIOS.md §1), plus the connect grant AWS IoT recommends: a
/// certificate connects only with the client id of a thing attached to it.
fn button_policy(config: &Config) -> String {
    let arn = |kind: &str, name: &str| config.arn.resource(kind, name);
    format!(
        r#"{{
  "Version": "2012-10-17",
  "Statement": [
    {{
      "Sid": "ConnectAsAttachedThing",
      "Effect": "Allow",
      "Action": "iot:Connect",
      "Resource": "{}"
    }},
    {{
      "Sid": "PublishOwnButtonTopic",
      "Effect": "Allow",
      "Action": "iot:Publish",
      "Resource": "{}"
    }}
  ]
}}
"#,
        arn("client", "${iot:Connection.Thing.ThingName}"),
        arn("topic", "iotbutton/${iot:Certificate.Subject.SerialNumber}")
    )
}

/// The plain listener's policy: everything, like mosquitto's local-only default. Edit it (or
/// `plain.policy`) to restrict localhost clients.
const PLAIN_DEFAULT_POLICY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "LocalhostMayDoAnything",
      "Effect": "Allow",
      "Action": "iot:*",
      "Resource": "*"
    }
  ]
}
"#;

/// Why the data directory could not be initialised.
#[derive(Debug)]
#[non_exhaustive]
pub enum SetupError {
    /// Generating or writing the PKI failed.
    Pki(PkiError),
    /// The random secret could not be drawn.
    Random,
}

impl std::fmt::Display for SetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SetupError::Pki(e) => e.fmt(f),
            SetupError::Random => f.write_str("the system random generator failed"),
        }
    }
}

impl std::error::Error for SetupError {}

impl From<PkiError> for SetupError {
    fn from(e: PkiError) -> Self {
        SetupError::Pki(e)
    }
}

/// Creates the data directory if it has no `registry.json`: PKI, policies, registry, and
/// `broker.toml` when `write_config` (no `--config` was given). Returns whether it did.
/// A generated Sigfox secret is stored into `config` and the file.
pub fn init_data_dir(config: &mut Config, write_config: bool) -> Result<bool, SetupError> {
    let dir = config.data_dir.clone();
    if dir.join("registry.json").exists() {
        return Ok(false);
    }
    let pki = DevPki::generate()?;
    pki.write(&dir)?;
    write_file(&dir.join("policies/button.json"), &button_policy(config))?;
    write_file(
        &dir.join("policies/plain-default.json"),
        PLAIN_DEFAULT_POLICY,
    )?;
    let registry = RegistryFile {
        cas: vec![CaRecord {
            file: PathBuf::from("ca.pem"),
            status: Status::Active,
        }],
        certificates: DEV_DEVICES
            .iter()
            .map(|d| CertificateRecord {
                file: PathBuf::from(format!("devices/{}.pem", d.name)),
                status: match d.status {
                    "INACTIVE" => Status::Inactive,
                    "REVOKED" => Status::Revoked,
                    _ => Status::Active,
                },
                policies: vec!["button".to_owned()],
                things: vec![d.name.to_owned()],
            })
            .collect(),
        things: DEV_DEVICES
            .iter()
            .map(|d| ThingRecord {
                name: d.name.to_owned(),
                thing_type: Some("iot-button".to_owned()),
                attributes: [("serial".to_owned(), d.serial.to_owned())].into(),
            })
            .collect(),
        policies: vec![
            PolicyRecord {
                name: "button".to_owned(),
                file: PathBuf::from("policies/button.json"),
            },
            PolicyRecord {
                name: "plain-default".to_owned(),
                file: PathBuf::from("policies/plain-default.json"),
            },
        ],
    };
    let json = serde_json::to_string_pretty(&registry).unwrap_or_default();
    write_file(&dir.join("registry.json"), &format!("{json}\n"))?;
    if config.sigfox.secret.is_empty() {
        config.sigfox.secret = random_secret()?;
    }
    if write_config {
        // The file holds the defaults, not this run's command-line overrides (which would
        // otherwise stick to every later start).
        let file = Config {
            data_dir: config.data_dir.clone(),
            sigfox: config.sigfox.clone(),
            ..Config::default()
        };
        let mut text = String::from(
            "# reference-broker configuration, written on first start with every default.\n",
        );
        text.push_str(&file.to_toml());
        write_file(&dir.join(CONFIG_FILE), &text)?;
    }
    Ok(true)
}

fn random_secret() -> Result<String, SetupError> {
    let mut bytes = [0u8; 16];
    rustls::crypto::aws_lc_rs::default_provider()
        .secure_random
        .fill(&mut bytes)
        .map_err(|_| SetupError::Random)?;
    let mut s = String::with_capacity(32);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    Ok(s)
}

/// The commands that work against a broker started with `config` on these addresses.
pub fn banner(
    config: &Config,
    mqtt: std::net::SocketAddr,
    plain: Option<std::net::SocketAddr>,
    http: std::net::SocketAddr,
    created: bool,
) -> String {
    let d = display(&config.data_dir);
    let mut s = String::new();
    let _ = writeln!(s, "reference-broker is running:");
    let _ = writeln!(s, "  MQTT over TLS, client certificates required: {mqtt}");
    match plain {
        Some(p) => {
            let _ = writeln!(
                s,
                "  plain MQTT ({}policy {:?}): {p}",
                if config.plain.localhost_only {
                    "localhost clients only, "
                } else {
                    ""
                },
                config.plain.policy
            );
        }
        None => {
            let _ = writeln!(s, "  plain MQTT: off");
        }
    }
    let _ = writeln!(
        s,
        "  HTTP (/healthz, /metrics, POST /sigfox): http://{http}"
    );
    if created {
        let _ = writeln!(
            s,
            "Created {d}/ with a development CA, a server certificate, device certificates \
             (devices/), policies/, registry.json and {CONFIG_FILE}."
        );
    } else {
        let _ = writeln!(s, "Data directory: {d}/");
    }
    let host = if mqtt.ip().is_loopback() {
        "localhost".to_owned()
    } else {
        mqtt.ip().to_string()
    };
    let tls = |device: &str| {
        format!(
            "mosquitto_pub -h {host} -p {port} --cafile {d}/ca.pem --cert {d}/devices/{device}.pem --key {d}/devices/{device}.key -i {device} -q 1",
            port = mqtt.port()
        )
    };
    let _ = writeln!(s, "\nNext (Debian: apt-get install mosquitto-clients):");
    if let Some(p) = plain {
        let _ = writeln!(
            s,
            "  # 1. watch every message (plain listener, allow-all policy):"
        );
        let _ = writeln!(s, "  mosquitto_sub -h {} -p {} -t '#' -v", p.ip(), p.port());
    }
    let _ = writeln!(
        s,
        "  # 2. button-1 (serialNumber G030JF0000000001) publishes on its own topic: delivered"
    );
    let _ = writeln!(
        s,
        "  {} -t iotbutton/G030JF0000000001 -m '{{\"clickType\":\"SINGLE\"}}'",
        tls("button-1")
    );
    let _ = writeln!(
        s,
        "  # 3. the same button on its neighbour's topic: refused, the broker disconnects it"
    );
    let _ = writeln!(
        s,
        "  {} -t iotbutton/G030JF0000000002 -m '{{\"clickType\":\"SINGLE\"}}'",
        tls("button-1")
    );
    let _ = writeln!(
        s,
        "  # 4. an INACTIVE certificate: Connection Refused: not authorised (CONNACK 5)"
    );
    let _ = writeln!(
        s,
        "  {} -t iotbutton/G030JF0000000003 -m hello",
        tls("button-inactive")
    );
    if config.sigfox.enabled {
        let _ = writeln!(s, "  # 5. a Sigfox callback, published on topic sigfox:");
        let _ = writeln!(
            s,
            "  curl -i http://{http}/sigfox -H '{}: {}' -H 'content-type: application/json' -d '{{\"device\":\"B92A4\",\"data\":\"c01234\",\"time\":\"1476980426\",\"seqNumber\":\"12\"}}'",
            config.sigfox.secret_header, config.sigfox.secret
        );
    }
    let _ = writeln!(s, "  # 6. counters, including every denial:");
    let _ = writeln!(s, "  curl http://{http}/metrics");
    let _ = writeln!(
        s,
        "Denials are logged on stderr with the policy explanation. Edit {d}/registry.json and {d}/policies/ to add devices."
    );
    s
}

fn display(p: &Path) -> String {
    p.display().to_string()
}
