//! Authorization: who a connection is (certificate identity, client id, thing, source address)
//! and the policies attached to it, evaluated by iot-policy for every MQTT action.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use iot_policy::{Action, Decision, PolicySet, RequestContextOf};

use crate::config::ArnConfig;
use crate::identity::Identity;
use crate::metrics::{Metrics, inc};
use crate::registry::{Registry, Status, ThingRecord};

/// A connected (or persistent) client as the policies see it.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The MQTT client id.
    pub client_id: String,
    /// The certificate's identity; `None` on the plain listener.
    pub identity: Option<Identity>,
    /// The thing whose name is the client id, when it is attached to the certificate (as AWS
    /// IoT fills `iot:Connection.Thing.*`).
    pub thing: Option<ThingRecord>,
    /// The peer's IP address (`aws:SourceIp`).
    pub source_ip: String,
    /// The attached policies, compiled.
    pub policies: Arc<PolicySet>,
    /// The thing's attributes as the request context takes them (`iot:Connection.Thing.Attributes`).
    thing_attributes: Vec<(String, String)>,
    /// Decisions already made; a clone starts empty.
    decisions: DecisionCache,
}

/// The most resource names whose decisions one principal remembers; when full it starts over.
const DECISION_CACHE_NAMES: usize = 256;

/// Decisions already made for one principal. Its request context is fixed for its lifetime
/// (no time-dependent keys are supplied), so a decision depends only on the action and the
/// resource: a client that publishes to the same topics, or a session that receives on them,
/// has each evaluated once. A reload builds new principals, and so starts new caches.
#[derive(Debug, Default)]
struct DecisionCache {
    /// By resource name (the kind is fixed by the action: `client`, `topic`, `topicfilter`).
    by_name: Mutex<HashMap<Box<str>, Known>>,
}

/// The decisions made on one resource name, by action.
type Known = Vec<(Action, Decision)>;

impl Clone for DecisionCache {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl DecisionCache {
    fn get(&self, action: Action, name: &str) -> Option<Decision> {
        let map = self.by_name.lock().unwrap_or_else(|p| p.into_inner());
        let known = map.get(name)?;
        known.iter().find(|(a, _)| *a == action).map(|(_, d)| *d)
    }

    fn insert(&self, action: Action, name: &str, decision: Decision) {
        let mut map = self.by_name.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= DECISION_CACHE_NAMES && !map.contains_key(name) {
            map.clear();
        }
        let known = map.entry(Box::from(name)).or_default();
        if !known.iter().any(|(a, _)| *a == action) {
            known.push((action, decision));
        }
    }
}

impl Principal {
    /// A principal from its parts.
    pub fn new(
        client_id: String,
        identity: Option<Identity>,
        thing: Option<ThingRecord>,
        source_ip: String,
        policies: Arc<PolicySet>,
    ) -> Self {
        let thing_attributes = thing
            .as_ref()
            .map(|t| {
                t.attributes
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        Self {
            client_id,
            identity,
            thing,
            source_ip,
            policies,
            thing_attributes,
            decisions: DecisionCache::default(),
        }
    }

    /// The principal of a client: with a certificate identity, the registered certificate must
    /// be `ACTIVE` and its attached policies apply; without one (the plain listener),
    /// `plain_policy` applies. The `Err` says why the client may not connect.
    pub fn from_registry(
        registry: &Registry,
        plain_policy: &str,
        client_id: &str,
        source_ip: String,
        identity: Option<Identity>,
    ) -> Result<Principal, String> {
        let Some(identity) = identity else {
            return Ok(Principal::new(
                client_id.to_owned(),
                None,
                None,
                source_ip,
                registry.policy_set(&[plain_policy.to_owned()]),
            ));
        };
        let Some(entry) = registry.certificates.get(&identity.certificate_id) else {
            return Err(format!(
                "certificate {} is not registered",
                identity.certificate_id
            ));
        };
        if entry.status != Status::Active {
            return Err(format!(
                "certificate {} is {:?}",
                identity.certificate_id, entry.status
            ));
        }
        // AWS IoT fills iot:Connection.Thing.* when the client id names a thing attached to
        // the certificate.
        let thing = entry
            .things
            .iter()
            .find(|t| t.as_str() == client_id)
            .and_then(|t| registry.things.get(t))
            .cloned();
        Ok(Principal::new(
            client_id.to_owned(),
            Some(identity),
            thing,
            source_ip,
            registry.policy_set(&entry.policies),
        ))
    }

    /// Decides one request.
    pub fn decide(&self, action: Action, resource: &str) -> Decision {
        self.with_context(|ctx| self.policies.evaluate(action, resource, ctx))
    }

    /// Explains one decision (the deciding statements and the variables' values).
    pub fn explain(&self, action: Action, resource: &str) -> String {
        self.with_context(|ctx| {
            self.policies
                .explain(action, resource, ctx, false)
                .to_string()
        })
    }

    /// The request context, borrowing the principal's fields as they are.
    fn with_context<R>(&self, f: impl FnOnce(&RequestContextOf<'_, String>) -> R) -> R {
        let identity = self.identity.as_ref();
        let ctx = RequestContextOf {
            client_id: Some(&self.client_id),
            thing_name: self.thing.as_ref().map(|t| t.name.as_str()),
            thing_type_name: self.thing.as_ref().and_then(|t| t.thing_type.as_deref()),
            thing_attributes: &self.thing_attributes,
            subject: identity.map_or(&[][..], |i| i.subject.as_slice()),
            issuer: identity.map_or(&[][..], |i| i.issuer.as_slice()),
            subject_alt_names: identity.map_or(&[][..], |i| i.alt_names.as_slice()),
            serial_number: identity.map(|i| i.serial_number.as_str()),
            certificate_id: identity.map(|i| i.certificate_id.as_str()),
            source_ip: Some(&self.source_ip),
            ..RequestContextOf::default()
        };
        f(&ctx)
    }
}

/// Checks requests against a principal's policies, and logs and counts each denial.
#[derive(Debug, Clone)]
pub struct Authorizer {
    arn: ArnConfig,
    metrics: Arc<Metrics>,
}

impl Authorizer {
    /// An authorizer for the account `arn`.
    pub fn new(arn: ArnConfig, metrics: Arc<Metrics>) -> Self {
        Self { arn, metrics }
    }

    /// The ARN of the resource `name` that `action` applies to (`*` for an action without
    /// a resource of its own).
    pub fn resource(&self, action: Action, name: &str) -> String {
        match action.resource_kind().arn_type() {
            Some(kind) => self.arn.resource(kind, name),
            None => "*".to_owned(),
        }
    }

    /// Whether `principal` may do `action` on the resource `name` (of the kind the action
    /// applies to); a denial is counted, and logged with its explanation when first made.
    pub fn allows(&self, principal: &Principal, action: Action, name: &str) -> bool {
        let (decision, fresh) = match principal.decisions.get(action, name) {
            Some(d) => (d, false),
            None => {
                let d = principal.decide(action, &self.resource(action, name));
                principal.decisions.insert(action, name, d);
                (d, true)
            }
        };
        if decision.is_allowed() {
            return true;
        }
        let counter = match action {
            Action::Connect => &self.metrics.denied_connect_total,
            Action::Subscribe => &self.metrics.denied_subscribe_total,
            Action::Receive => &self.metrics.denied_receive_total,
            _ => &self.metrics.denied_publish_total,
        };
        inc(counter);
        if fresh {
            let resource = self.resource(action, name);
            tracing::info!(
                client_id = %principal.client_id,
                action = action.name(),
                resource = %resource,
                reason = %principal.explain(action, &resource).replace('\n', "; "),
                "denied"
            );
        }
        false
    }
}
