//! Authorization: who a connection is (certificate identity, client id, thing, source address)
//! and the policies attached to it, evaluated by iot-policy for every MQTT action.

use std::sync::Arc;

use iot_policy::{Action, AltNameKind, Decision, DnAttribute, PolicySet, RequestContext};

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
}

impl Principal {
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
            return Ok(Principal {
                client_id: client_id.to_owned(),
                identity: None,
                thing: None,
                source_ip,
                policies: Arc::new(registry.policy_set(&[plain_policy.to_owned()])),
            });
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
        Ok(Principal {
            client_id: client_id.to_owned(),
            identity: Some(identity),
            thing,
            source_ip,
            policies: Arc::new(registry.policy_set(&entry.policies)),
        })
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

    fn with_context<R>(&self, f: impl FnOnce(&RequestContext<'_>) -> R) -> R {
        let (subject, issuer) = match &self.identity {
            Some(id) => (pairs(&id.subject), pairs(&id.issuer)),
            None => (Vec::new(), Vec::new()),
        };
        let attributes: Vec<(&str, &str)> = self
            .thing
            .as_ref()
            .map(|t| {
                t.attributes
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect()
            })
            .unwrap_or_default();
        let alt_names: Vec<(AltNameKind, &str)> = self
            .identity
            .as_ref()
            .map(|i| i.alt_names.iter().map(|(k, v)| (*k, v.as_str())).collect())
            .unwrap_or_default();
        let ctx = RequestContext {
            client_id: Some(&self.client_id),
            thing_name: self.thing.as_ref().map(|t| t.name.as_str()),
            thing_type_name: self.thing.as_ref().and_then(|t| t.thing_type.as_deref()),
            thing_attributes: &attributes,
            subject: &subject,
            issuer: &issuer,
            subject_alt_names: &alt_names,
            serial_number: self.identity.as_ref().map(|i| i.serial_number.as_str()),
            certificate_id: self.identity.as_ref().map(|i| i.certificate_id.as_str()),
            source_ip: Some(&self.source_ip),
            ..RequestContext::default()
        };
        f(&ctx)
    }
}

fn pairs(v: &[(DnAttribute, String)]) -> Vec<(DnAttribute, &str)> {
    v.iter().map(|(a, s)| (*a, s.as_str())).collect()
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

    /// The ARN of `kind/name` (`client`, `topic`, `topicfilter`).
    pub fn resource(&self, kind: &str, name: &str) -> String {
        self.arn.resource(kind, name)
    }

    /// Whether `principal` may do `action` on `kind/name`; a denial is logged with its
    /// explanation and counted.
    pub fn allows(&self, principal: &Principal, action: Action, kind: &str, name: &str) -> bool {
        let resource = self.resource(kind, name);
        let decision = principal.decide(action, &resource);
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
        crate::log(&format!(
            "denied client {:?}: {}",
            principal.client_id,
            principal.explain(action, &resource).replace('\n', "; ")
        ));
        false
    }
}
