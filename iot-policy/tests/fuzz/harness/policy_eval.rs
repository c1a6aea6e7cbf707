//! Structured: fixed policy templates with `${iot:ClientId}` and certificate variables, and
//! arbitrary client ids, topics and certificate fields. Invariants:
//! - substituting a client id gives exactly the decision of the same policy with that id
//!   written into it literally (wildcards escaped as `${*}`, `${?}`, `${$}`): a client id of
//!   `*`, `+`, `#`, `?` or `${...}` never grants more than the literal id would;
//! - a certificate serial containing `* $ + ? #` decides exactly as an absent serial;
//! - `explain` always agrees with `evaluate`.

use arbitrary::Arbitrary;
use iot_policy::{Action, Decision, DnAttribute, ParseOptions, Policy, PolicySet, RequestContext};

const TEMPLATES: [&str; 5] = [
    r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:r:1:topic/d/${iot:ClientId}/*"}"#,
    r#"{"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:r:1:client/${iot:ClientId}"}"#,
    r#"{"Effect":"Allow","Action":["iot:Subscribe","iot:Receive"],"Resource":["arn:aws:iot:r:1:topicfilter/d/${iot:ClientId}/#","arn:aws:iot:r:1:topic/d/${iot:ClientId}/?"]},
       {"Effect":"Deny","Action":"iot:*","Resource":"arn:aws:iot:r:1:topic*/d/${iot:ClientId}/admin*"}"#,
    r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:r:1:topic/s/${iot:Certificate.Subject.SerialNumber}/*",
        "Condition":{"StringLike":{"iot:ClientId":"dev-*"}}}"#,
    r#"{"Effect":"Allow","Action":"iot:Publish","NotResource":"arn:aws:iot:r:1:topic/${iot:ClientId}/*",
        "Condition":{"StringEquals":{"iot:ClientId":"${iot:Certificate.Subject.SerialNumber}"}}}"#,
];

/// Template choices, a client id, a certificate serial and a request.
#[derive(Debug, Arbitrary)]
pub struct Input {
    templates: Vec<u8>,
    client_id: String,
    serial: Option<String>,
    action: u8,
    kind: u8,
    name: String,
}

/// `text` as the inside of a JSON string, with policy wildcards and `$` escaped.
fn literal(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        match c {
            '*' => out.push_str("${*}"),
            '?' => out.push_str("${?}"),
            '$' => out.push_str("${$}"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn compile(statements: &[&str], client_id: Option<&str>) -> Option<PolicySet> {
    let mut body = statements.join(",");
    if let Some(id) = client_id {
        body = body.replace("${iot:ClientId}", &literal(id));
    }
    let doc = format!(r#"{{"Version":"2012-10-17","Statement":[{body}]}}"#);
    let mut options = ParseOptions::default();
    options.max_size = usize::MAX;
    let policy = Policy::parse(&doc, &options).ok()?;
    Some(PolicySet::compile([("p", policy)]))
}

fn decide(set: &PolicySet, action: Action, resource: &str, ctx: &RequestContext<'_>) -> Decision {
    let decision = set.evaluate(action, resource, ctx);
    assert_eq!(set.explain(action, resource, ctx, true).decision, decision);
    decision
}

/// One fuzz input: panics on a broken invariant.
pub fn run(input: Input) {
    let statements: Vec<&str> = input
        .templates
        .iter()
        .take(4)
        .map(|&t| TEMPLATES[usize::from(t) % TEMPLATES.len()])
        .collect();
    if statements.is_empty() {
        return;
    }
    let action = Action::ALL[usize::from(input.action) % Action::ALL.len()];
    let kind = ["topic/", "topicfilter/", "client/"][usize::from(input.kind) % 3];
    let resource = format!("arn:aws:iot:r:1:{kind}{}", input.name);

    let subject_storage;
    let subject: &[(DnAttribute, &str)] = match &input.serial {
        Some(serial) => {
            subject_storage = [(DnAttribute::SerialNumber, serial.as_str())];
            &subject_storage
        }
        None => &[],
    };
    let ctx = RequestContext {
        client_id: Some(&input.client_id),
        subject,
        ..Default::default()
    };
    let with_variable = compile(&statements, None).expect("templates parse");
    let decision = decide(&with_variable, action, &resource, &ctx);

    // Substitution is literal: the same policy with the id written into it decides the same.
    // (Conditions keep reading iot:ClientId from the context in both.)
    if let Some(with_literal) = compile(&statements, Some(&input.client_id)) {
        assert_eq!(
            decide(&with_literal, action, &resource, &ctx),
            decision,
            "client id {:?} on {resource}",
            input.client_id
        );
    }

    // An unsubstitutable certificate serial behaves as an absent one.
    if let Some(serial) = &input.serial {
        if serial.contains(['*', '$', '+', '?', '#']) {
            let without = RequestContext {
                subject: &[],
                ..ctx
            };
            assert_eq!(
                decide(&with_variable, action, &resource, &without),
                decision,
                "serial {serial:?}"
            );
        }
    }
}
