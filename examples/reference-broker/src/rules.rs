//! Topic rules (iot-sql) on every accepted PUBLISH, and their actions: republish, store (an
//! SQLite table keyed by hash and range templates), http, metric, log, and an error action.
//!
//! The publish path only offers a message to a bounded queue (a full queue drops it, counted);
//! one task evaluates the rules, and each match runs its actions in its own task, bounded in
//! number and time, so that a failing or slow action never blocks the broker.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use base64::Engine;
use base64::prelude::BASE64_STANDARD;
use bytes::Bytes;
use iot_policy::Action;
use iot_sql::{Context, Output, Rule, SqlVersion, Template};
use mqtt_wire::{QoS, TopicName};
use reqwest::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use tokio::sync::{Semaphore, mpsc};

use crate::auth::Principal;
use crate::broker::Message;
use crate::config::{ActionConfig, MetricKind, RuleConfig};
use crate::metrics::inc;
use crate::registry::Registry;
use crate::server::Shared;
use crate::tls_client::verifying_client;

/// Messages waiting for rule evaluation, at most.
const QUEUE: usize = 10_000;
/// Rule matches whose actions run at the same time, at most.
const CONCURRENT_ACTIONS: usize = 256;
/// Time for one HTTP action.
const HTTP_TIMEOUT: Duration = Duration::from_secs(5);

/// One compiled action; template fields are indexes into the rule's template list.
#[derive(Debug)]
enum CompiledAction {
    Republish {
        topic: usize,
        qos: QoS,
    },
    Store {
        table: String,
        hash: usize,
        range: usize,
    },
    Http {
        url: usize,
        headers: Vec<(HeaderName, usize)>,
        /// One client per action: its connections are kept and reused.
        client: reqwest::Client,
    },
    Metric {
        name: String,
        kind: MetricKind,
        value: usize,
    },
    Log {
        file: PathBuf,
    },
}

impl CompiledAction {
    /// AWS's name of the action, for the error payload.
    fn name(&self) -> &'static str {
        match self {
            CompiledAction::Republish { .. } => "RepublishAction",
            CompiledAction::Store { .. } => "DynamoDBAction",
            CompiledAction::Http { .. } => "HttpAction",
            CompiledAction::Metric { .. } => "CloudwatchMetricAction",
            CompiledAction::Log { .. } => "LogAction",
        }
    }
}

#[derive(Debug)]
struct CompiledRule {
    name: String,
    rule: Rule,
    templates: Vec<Template>,
    actions: Vec<CompiledAction>,
    error_action: Option<CompiledAction>,
    principal: Option<Principal>,
}

/// Why a rule was refused at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    /// The rule's name.
    pub rule: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for RuleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "rule {:?}: {}", self.rule, self.message)
    }
}

impl std::error::Error for RuleError {}

/// Named metric values set by metric actions.
#[derive(Debug, Default)]
pub(crate) struct RuleMetrics {
    values: Mutex<BTreeMap<String, (MetricKind, f64)>>,
}

impl RuleMetrics {
    fn apply(&self, name: &str, kind: MetricKind, value: f64) {
        let mut values = self.values.lock().unwrap_or_else(|p| p.into_inner());
        let entry = values.entry(name.to_owned()).or_insert((kind, 0.0));
        entry.1 = match kind {
            MetricKind::Gauge => value,
            MetricKind::Counter => entry.1 + value,
        };
    }

    /// `broker_rule_metric{name="..."} value` lines.
    pub(crate) fn render(&self) -> String {
        let values = self.values.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();
        if values.is_empty() {
            return out;
        }
        out.push_str("# HELP broker_rule_metric Values set by rule metric actions.\n");
        out.push_str("# TYPE broker_rule_metric gauge\n");
        for (name, (_, value)) in values.iter() {
            let _ = writeln!(out, "broker_rule_metric{{name=\"{name}\"}} {value}");
        }
        out
    }
}

/// A message offered to the rules.
#[derive(Debug)]
struct Job {
    topic: String,
    payload: Bytes,
    context: Context,
}

/// The compiled rules (replaced by a reload) and the queue in front of them.
#[derive(Debug)]
pub(crate) struct Rules {
    compiled: RwLock<Arc<Vec<Arc<CompiledRule>>>>,
    /// Whether `compiled` has a rule: read on every message, without touching the lock.
    any: AtomicBool,
    tx: mpsc::Sender<Job>,
    rx: Mutex<Option<mpsc::Receiver<Job>>>,
    pub(crate) metrics: RuleMetrics,
    store: Mutex<Option<rusqlite::Connection>>,
    data_dir: PathBuf,
}

fn template(templates: &mut Vec<Template>, rule: &str, text: &str) -> Result<usize, RuleError> {
    let t = Template::parse(text).map_err(|e| RuleError {
        rule: rule.to_owned(),
        message: format!("template {text:?}: {e}"),
    })?;
    templates.push(t);
    Ok(templates.len().saturating_sub(1))
}

fn compile_action(
    templates: &mut Vec<Template>,
    rule: &str,
    action: &ActionConfig,
) -> Result<CompiledAction, RuleError> {
    let err = |message: String| RuleError {
        rule: rule.to_owned(),
        message,
    };
    Ok(match action {
        ActionConfig::Republish { topic, qos } => CompiledAction::Republish {
            topic: template(templates, rule, topic)?,
            qos: match qos {
                0 => QoS::AtMostOnce,
                1 => QoS::AtLeastOnce,
                q => {
                    return Err(err(format!(
                        "republish qos {q}: AWS IoT republishes at 0 or 1"
                    )));
                }
            },
        },
        ActionConfig::Store {
            table,
            hash_key,
            range_key,
        } => CompiledAction::Store {
            table: table.clone(),
            hash: template(templates, rule, hash_key)?,
            range: template(templates, rule, range_key)?,
        },
        ActionConfig::Http {
            url,
            headers,
            ca_file,
        } => {
            let tls = if url.starts_with("https://") {
                let Some(ca_file) = ca_file else {
                    return Err(err(format!("http url {url:?}: https needs ca_file")));
                };
                verifying_client(ca_file, None).map_err(err)?
            } else if url.starts_with("http://") {
                trusting_nothing().map_err(err)?
            } else {
                return Err(err(format!(
                    "http url {url:?}: only http:// and https:// URLs are supported"
                )));
            };
            let mut compiled = Vec::new();
            for (name, value) in headers {
                let name = HeaderName::from_bytes(name.as_bytes())
                    .map_err(|e| err(format!("http header {name:?}: {e}")))?;
                compiled.push((name, template(templates, rule, value)?));
            }
            // Redirects are not followed: the endpoint's answer is the action's result.
            let client = reqwest::Client::builder()
                .use_preconfigured_tls(tls)
                .redirect(reqwest::redirect::Policy::none())
                .timeout(HTTP_TIMEOUT)
                .build()
                .map_err(|e| err(format!("http client: {e}")))?;
            CompiledAction::Http {
                url: template(templates, rule, url)?,
                headers: compiled,
                client,
            }
        }
        ActionConfig::Metric { name, kind, value } => CompiledAction::Metric {
            name: name.clone(),
            kind: *kind,
            value: template(templates, rule, value)?,
        },
        ActionConfig::Log { file } => CompiledAction::Log { file: file.clone() },
    })
}

/// Compiles rules; `registry` provides the policies they are authorized with.
fn compile_all(
    configs: &[RuleConfig],
    registry: &Registry,
) -> Result<Vec<Arc<CompiledRule>>, RuleError> {
    let mut rules = Vec::new();
    for c in configs {
        let err = |message: String| RuleError {
            rule: c.name.clone(),
            message,
        };
        let version: SqlVersion = c.sql_version.parse().map_err(|e| err(format!("{e}")))?;
        let rule = Rule::parse(&c.sql, version).map_err(|e| err(format!("{e}")))?;
        let mut templates = Vec::new();
        let mut actions = Vec::new();
        for a in &c.actions {
            actions.push(compile_action(&mut templates, &c.name, a)?);
        }
        let error_action = match &c.error_action {
            Some(a) => Some(compile_action(&mut templates, &c.name, a)?),
            None => None,
        };
        let principal = match &c.policy {
            None => None,
            Some(p) if registry.policies.contains_key(p) => Some(Principal::new(
                c.name.clone(),
                None,
                None,
                String::new(),
                registry.policy_set(std::slice::from_ref(p)),
            )),
            Some(p) => return Err(err(format!("policy {p:?} is not in the registry"))),
        };
        rules.push(Arc::new(CompiledRule {
            name: c.name.clone(),
            rule,
            templates,
            actions,
            error_action,
            principal,
        }));
    }
    Ok(rules)
}

impl Rules {
    /// Compiles the rules and sets up the queue.
    pub(crate) fn compile(
        configs: &[RuleConfig],
        registry: &Registry,
        data_dir: &Path,
    ) -> Result<Rules, RuleError> {
        let rules = compile_all(configs, registry)?;
        let (tx, rx) = mpsc::channel(QUEUE);
        Ok(Rules {
            any: AtomicBool::new(!rules.is_empty()),
            compiled: RwLock::new(Arc::new(rules)),
            tx,
            rx: Mutex::new(Some(rx)),
            metrics: RuleMetrics::default(),
            store: Mutex::new(None),
            data_dir: data_dir.to_owned(),
        })
    }

    /// Compiles `configs`, then replaces the rules (nothing changes on an error).
    pub(crate) fn replace(
        &self,
        configs: &[RuleConfig],
        registry: &Registry,
    ) -> Result<usize, RuleError> {
        let rules = compile_all(configs, registry)?;
        let n = rules.len();
        let mut compiled = self.compiled.write().unwrap_or_else(|p| p.into_inner());
        self.any.store(n > 0, Ordering::Relaxed);
        *compiled = Arc::new(rules);
        Ok(n)
    }

    /// Checks that `configs` compile, without changing anything.
    pub(crate) fn check(configs: &[RuleConfig], registry: &Registry) -> Result<(), RuleError> {
        compile_all(configs, registry).map(|_| ())
    }

    fn current(&self) -> Arc<Vec<Arc<CompiledRule>>> {
        Arc::clone(&self.compiled.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Offers a message; never waits (a full queue drops it, counted). The context is built
    /// only when there is a rule to see it.
    pub(crate) fn offer(
        &self,
        shared: &Shared,
        message: &Message,
        context: impl FnOnce() -> Context,
    ) {
        if !self.any.load(Ordering::Relaxed) {
            return;
        }
        let job = Job {
            topic: message.topic.as_str().to_owned(),
            payload: message.payload.clone(),
            context: context(),
        };
        if self.tx.try_send(job).is_err() {
            inc(&shared.metrics.rules_dropped_total);
        }
    }

    /// The evaluation task.
    pub(crate) async fn run(shared: Arc<Shared>) {
        let rules = &shared.rules;
        let Some(mut rx) = rules.rx.lock().unwrap_or_else(|p| p.into_inner()).take() else {
            return;
        };
        let permits = Arc::new(Semaphore::new(CONCURRENT_ACTIONS));
        while let Some(job) = rx.recv().await {
            let job = Arc::new(job);
            for rule in rules.current().iter() {
                let message = iot_sql::Message {
                    topic: &job.topic,
                    payload: &job.payload,
                    context: &job.context,
                };
                let templates: Vec<&Template> = rule.templates.iter().collect();
                let output = match rule.rule.evaluate_with(&message, &templates) {
                    Ok(Some(output)) => output,
                    Ok(None) => continue,
                    Err(e) => {
                        inc(&shared.metrics.rule_errors_total);
                        tracing::warn!(rule = %rule.name, topic = %job.topic, error = %e, "rule failed");
                        continue;
                    }
                };
                inc(&shared.metrics.rules_matched_total);
                let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
                    inc(&shared.metrics.rule_actions_dropped_total);
                    continue;
                };
                let shared = Arc::clone(&shared);
                let job = Arc::clone(&job);
                let rule = Arc::clone(rule);
                tokio::spawn(async move {
                    let _permit = permit;
                    run_actions(&shared, &rule, &output, &job).await;
                });
            }
        }
    }

    fn store(&self, table: &str, hash: &str, range: &str, payload: &[u8]) -> Result<(), String> {
        let mut guard = self.store.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            let conn = crate::store::open_rule_store(&self.data_dir).map_err(|e| e.to_string())?;
            *guard = Some(conn);
        }
        let Some(conn) = guard.as_ref() else {
            return Err("no database".to_owned());
        };
        conn.execute(
            "INSERT OR REPLACE INTO rule_rows (table_name, hash_key, range_key, payload)
             VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![table, hash, range, String::from_utf8_lossy(payload)],
        )
        .map(|_| ())
        .map_err(|e| e.to_string())
    }
}

async fn run_actions(shared: &Shared, rule: &CompiledRule, output: &Output, job: &Job) {
    let rules = &shared.rules;
    let payload = output.to_json_bytes();
    let mut failures = Vec::new();
    for action in &rule.actions {
        if let Err(e) = execute(shared, rules, rule, action, output, &payload, job).await {
            inc(&shared.metrics.rule_actions_failed_total);
            tracing::warn!(
                rule = %rule.name,
                action = action.name(),
                error = %e,
                "rule action failed"
            );
            failures.push(serde_json::json!({
                "failedAction": action.name(),
                "errorMessage": e,
            }));
        }
    }
    if failures.is_empty() {
        return;
    }
    let Some(error_action) = &rule.error_action else {
        return;
    };
    // AWS IoT's error action payload (Developer Guide, "Error action").
    let error_payload = serde_json::json!({
        "ruleName": rule.name,
        "topic": job.topic,
        "clientId": job.context.clientid,
        "base64OriginalPayload": BASE64_STANDARD.encode(&job.payload),
        "failures": failures,
    })
    .to_string()
    .into_bytes();
    if let Err(e) = execute(
        shared,
        rules,
        rule,
        error_action,
        output,
        &error_payload,
        job,
    )
    .await
    {
        inc(&shared.metrics.rule_actions_failed_total);
        tracing::warn!(rule = %rule.name, error = %e, "rule's error action failed too");
    }
}

async fn execute(
    shared: &Shared,
    rules: &Rules,
    rule: &CompiledRule,
    action: &CompiledAction,
    output: &Output,
    payload: &[u8],
    job: &Job,
) -> Result<(), String> {
    let rendered = |i: &usize| -> Result<String, String> {
        output
            .templates
            .get(*i)
            .cloned()
            .ok_or_else(|| "template not rendered".to_owned())
    };
    match action {
        CompiledAction::Republish { topic, qos } => {
            let topic = rendered(topic)?;
            let name = TopicName::new(&topic).map_err(|e| format!("topic {topic:?}: {e}"))?;
            if let Some(principal) = &rule.principal {
                if !shared.authorizer.allows(principal, Action::Publish, &topic) {
                    return Err(format!("iot:Publish on {topic:?} is not allowed"));
                }
            }
            // Republished messages are not offered to the rules again: no rule loops.
            shared.route(&Message {
                topic: name,
                payload: Bytes::copy_from_slice(payload),
                qos: *qos,
                retain: false,
                origin: None,
            });
            Ok(())
        }
        CompiledAction::Store { table, hash, range } => {
            let (hash, range) = (rendered(hash)?, rendered(range)?);
            if hash.is_empty() {
                return Err("the hash key rendered empty".to_owned());
            }
            rules.store(table, &hash, &range, payload)
        }
        CompiledAction::Http {
            url,
            headers,
            client,
        } => {
            let url = rendered(url)?;
            let mut request = client
                .post(&url)
                .header(CONTENT_TYPE, "application/json")
                .body(payload.to_vec());
            for (name, t) in headers {
                let value = rendered(t)?;
                let value = HeaderValue::from_str(&value)
                    .map_err(|e| format!("header {name} value {value:?}: {e}"))?;
                request = request.header(name, value);
            }
            let response = request.send().await.map_err(|e| {
                if e.is_timeout() {
                    format!("no answer from {url} within {HTTP_TIMEOUT:?}")
                } else {
                    // reqwest's Display omits the cause (refused, TLS), which is what tells.
                    let mut text = format!("{url}: {e}");
                    let mut source = std::error::Error::source(&e);
                    while let Some(cause) = source {
                        let _ = write!(text, ": {cause}");
                        source = cause.source();
                    }
                    text
                }
            })?;
            let status = response.status();
            if status.is_success() {
                Ok(())
            } else {
                Err(format!("{url} answered {}", status.as_u16()))
            }
        }
        CompiledAction::Metric { name, kind, value } => {
            let text = rendered(value)?;
            let v: f64 = text
                .trim()
                .parse()
                .map_err(|_| format!("metric value {text:?} is not a number"))?;
            rules.metrics.apply(name, *kind, v);
            Ok(())
        }
        CompiledAction::Log { file } => {
            let path = if file.is_absolute() {
                file.clone()
            } else {
                rules.data_dir.join(file)
            };
            let line = serde_json::json!({
                "rule": rule.name,
                "topic": job.topic,
                "timestamp": job.context.timestamp,
                "output": output.to_json_value(),
            })
            .to_string();
            tokio::task::spawn_blocking(move || {
                use std::io::Write;
                let mut f = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                writeln!(f, "{line}").map_err(|e| format!("{}: {e}", path.display()))
            })
            .await
            .map_err(|e| e.to_string())?
        }
    }
}

/// The TLS configuration of a client for http:// URLs, which never uses it: it trusts no
/// certificate, so that nothing reaches an https:// endpoint without its `ca_file`.
fn trusting_nothing() -> Result<rustls::ClientConfig, String> {
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    Ok(
        rustls::ClientConfig::builder_with_provider(Arc::new(provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth(),
    )
}
