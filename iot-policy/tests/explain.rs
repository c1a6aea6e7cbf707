//! Explanations and lints: exact text and exact warnings.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)] // Test code: a failed expectation should panic.

use iot_policy::{
    Action, Decision, Effect, LintKind, ParseOptions, Policy, PolicySet, Reason, RequestContext,
    Resolved, StatementInfo, VariableInfo,
};

const ARN: &str = "arn:aws:iot:us-east-1:123456789012:";

fn parse(doc: &str) -> Policy {
    Policy::parse(&doc.replace("ARN:", ARN), &ParseOptions::default()).unwrap()
}

fn fleet() -> PolicySet {
    PolicySet::compile([
        (
            "fleet",
            parse(
                r#"{"Version":"2012-10-17","Statement":[
                {"Sid":"Own","Effect":"Allow","Action":"iot:Publish","Resource":"ARN:topic/d/${iot:ClientId}/*"},
                {"Sid":"Thing","Effect":"Allow","Action":"iot:Publish","Resource":"ARN:topic/t/${iot:Connection.Thing.ThingName}"},
                {"Effect":"Allow","Action":"iot:Connect","Resource":"ARN:client/${iot:ClientId}"}]}"#,
            ),
        ),
        (
            "guard",
            parse(
                r#"{"Version":"2012-10-17","Statement":{"Sid":"NoAdmin","Effect":"Deny","Action":"iot:Publish","Resource":"ARN:topic/d/*/admin",
                "Condition":{"StringNotEquals":{"iot:ClientId":"root"}}}}"#,
            ),
        ),
    ])
}

fn info(policy: &str, index: usize, sid: Option<&str>, effect: Effect) -> StatementInfo {
    StatementInfo {
        policy: policy.to_owned(),
        index,
        sid: sid.map(str::to_owned),
        effect,
    }
}

#[test]
fn explain_allowed_names_statement_and_variables() {
    let ctx = RequestContext {
        client_id: Some("c1"),
        ..Default::default()
    };
    let e = fleet().explain(Action::Publish, &format!("{ARN}topic/d/c1/x"), &ctx, true);
    assert_eq!(e.decision, Decision::Allowed);
    assert_eq!(
        e.deciding,
        vec![info("fleet", 0, Some("Own"), Effect::Allow)]
    );
    assert_eq!(
        e.variables,
        vec![
            VariableInfo {
                name: "iot:ClientId".into(),
                resolved: Resolved::Value("c1".into())
            },
            VariableInfo {
                name: "iot:Connection.Thing.ThingName".into(),
                resolved: Resolved::Missing
            },
        ]
    );
    assert_eq!(
        e.not_applied,
        vec![
            (
                info("fleet", 1, Some("Thing"), Effect::Allow),
                Reason::Unresolved
            ),
            (info("fleet", 2, None, Effect::Allow), Reason::Action),
            (
                info("guard", 0, Some("NoAdmin"), Effect::Deny),
                Reason::Resource
            ),
        ]
    );
    assert_eq!(
        e.to_string(),
        "ALLOWED iot:Publish on arn:aws:iot:us-east-1:123456789012:topic/d/c1/x\n\
         allowed by policy \"fleet\" statement 0 (Sid \"Own\") [Allow]\n\
         ${iot:ClientId} = \"c1\"\n\
         ${iot:Connection.Thing.ThingName} did not resolve\n\
         not applied: policy \"fleet\" statement 1 (Sid \"Thing\") [Allow]: resource uses a policy variable that did not resolve\n\
         not applied: policy \"fleet\" statement 2 [Allow]: action not covered\n\
         not applied: policy \"guard\" statement 0 (Sid \"NoAdmin\") [Deny]: resource did not match"
    );
}

#[test]
fn explain_explicit_and_implicit_deny() {
    let ctx = RequestContext {
        client_id: Some("c1"),
        ..Default::default()
    };
    let set = fleet();
    let e = set.explain(
        Action::Publish,
        &format!("{ARN}topic/d/c1/admin"),
        &ctx,
        true,
    );
    assert_eq!(e.decision, Decision::ExplicitDeny);
    assert_eq!(
        e.deciding,
        vec![info("guard", 0, Some("NoAdmin"), Effect::Deny)]
    );
    assert!(e.not_applied.contains(&(
        info("fleet", 0, Some("Own"), Effect::Allow),
        Reason::Overridden
    )));

    let root = RequestContext {
        client_id: Some("root"),
        ..Default::default()
    };
    let e = set.explain(
        Action::Publish,
        &format!("{ARN}topic/d/root/admin"),
        &root,
        true,
    );
    assert_eq!(e.decision, Decision::Allowed);
    assert!(e.not_applied.contains(&(
        info("guard", 0, Some("NoAdmin"), Effect::Deny),
        Reason::Condition {
            operator: "StringNotEquals".into(),
            key: "iot:ClientId".into()
        }
    )));

    let e = set.explain(
        Action::Publish,
        &format!("{ARN}topic/elsewhere"),
        &ctx,
        false,
    );
    assert_eq!(e.decision, Decision::ImplicitDeny);
    assert_eq!(e.not_applied, vec![]);
    assert_eq!(
        e.to_string(),
        "IMPLICIT_DENY iot:Publish on arn:aws:iot:us-east-1:123456789012:topic/elsewhere\n\
         no statement allows it\n\
         ${iot:ClientId} = \"c1\"\n\
         ${iot:Connection.Thing.ThingName} did not resolve"
    );
}

#[test]
fn explain_reports_unsubstituted_certificate_values() {
    let set = PolicySet::compile([(
        "p",
        parse(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":"ARN:topic/${iot:Certificate.SerialNumber}"}]}"#,
        ),
    )]);
    let ctx = RequestContext {
        serial_number: Some("01*"),
        ..Default::default()
    };
    let e = set.explain(Action::Publish, &format!("{ARN}topic/01*"), &ctx, false);
    assert_eq!(e.decision, Decision::ImplicitDeny);
    assert_eq!(
        e.variables,
        vec![VariableInfo {
            name: "iot:Certificate.SerialNumber".into(),
            resolved: Resolved::Unsafe("01*".into())
        }]
    );
}

fn lints(doc: &str) -> Vec<(LintKind, String)> {
    parse(doc)
        .lint()
        .into_iter()
        .map(|l| (l.kind, l.path))
        .collect()
}

#[test]
fn lint_table() {
    use LintKind::*;
    let cases: &[(&str, &[(LintKind, &str)])] = &[
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":"ARN:topic/devices/*/status"}]}"#,
            &[(StarCrossesLevels, "Statement[0].Resource")],
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":["ARN:topic/a/*","ARN:topic/sensors/+/t"]}]}"#,
            &[(MqttWildcardInTopic, "Statement[0].Resource[1]")],
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}"#,
            &[
                (AllActions, "Statement[0].Action"),
                (AllResources, "Statement[0].Resource"),
            ],
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"ARN:*"}]}"#,
            &[(AllResources, "Statement[0].Resource")],
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Subscribe","Resource":"ARN:topicfilter/a"}]}"#,
            &[(SubscribeWithoutReceive, "Statement[0]")],
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"ARN:client/*"}]}"#,
            &[(ConnectAnyClient, "Statement[0].Resource")],
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"ARN:client/${iot:Connection.Thing.ThingName}"}]}"#,
            &[(ThingVariable, "Statement[0].Resource")],
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"ARN:client/${iot:ClientId}"}]}"#,
            &[(VariableNotSubstituted, "Statement[0].Resource")],
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[
                {"Effect":"Allow","Action":"iot:Publish","Resource":"ARN:topic/a/${iot:ClientId}"},
                {"Effect":"Deny","Action":["iot:Publish","iot:Receive"],"Resource":"ARN:topic/a/*"}]}"#,
            &[(Shadowed, "Statement[0]")],
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[
                {"Effect":"Allow","Action":"iot:Publish","Resource":"ARN:topic/x"},
                {"Effect":"Allow","Action":"iot:Publish","Resource":"ARN:topic/x"}]}"#,
            &[(Shadowed, "Statement[1]")],
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[
                {"Effect":"Allow","Action":"iot:Connect","Resource":"ARN:client/${iot:ClientId}"},
                {"Effect":"Allow","Action":["iot:Subscribe","iot:Receive"],"Resource":["ARN:topicfilter/d/${iot:ClientId}/#","ARN:topic/d/${iot:ClientId}/*"]}]}"#,
            &[],
        ),
    ];
    for (doc, expected) in cases {
        let expected: Vec<(LintKind, String)> = expected
            .iter()
            .map(|(k, p)| (*k, (*p).to_owned()))
            .collect();
        assert_eq!(lints(doc), expected, "{doc}");
    }
}

#[test]
fn lint_message_reads_as_a_sentence() {
    let l = &parse(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"ARN:client/*"}]}"#).lint()[0];
    assert_eq!(
        l.to_string(),
        "Statement[0].Resource: \"arn:aws:iot:us-east-1:123456789012:client/*\" lets a device connect with any client id, including another device's; use client/${iot:Connection.Thing.ThingName}"
    );
}

/// With the `serde` feature an explanation is stored or sent as JSON and read back equal:
/// actions by their AWS names, decisions as the IAM simulator prints them.
#[cfg(feature = "serde")]
#[test]
fn explanations_round_trip_through_serde() {
    let set = fleet();
    let cases = [
        (Action::Publish, "topic/d/c1/x", "c1"),
        (Action::Publish, "topic/d/c1/admin", "c1"),
        (Action::Publish, "topic/t/none", "c1"),
        (Action::Connect, "client/c2", "c1"),
        (Action::Subscribe, "topicfilter/x", "c1"),
    ];
    let mut decisions = Vec::new();
    for (action, resource, client) in cases {
        let ctx = RequestContext {
            client_id: Some(client),
            ..Default::default()
        };
        let e = set.explain(action, &format!("{ARN}{resource}"), &ctx, true);
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["action"], action.name());
        assert_eq!(json["decision"], e.decision.as_str());
        let back: iot_policy::Explanation = serde_json::from_value(json).unwrap();
        assert_eq!(back, e);
        decisions.push(e.decision);
    }
    assert_eq!(
        decisions,
        [
            Decision::Allowed,
            Decision::ExplicitDeny,
            Decision::ImplicitDeny,
            Decision::ImplicitDeny,
            Decision::ImplicitDeny
        ]
    );
    for action in Action::ALL {
        let json = serde_json::to_string(&action).unwrap();
        assert_eq!(serde_json::from_str::<Action>(&json).unwrap(), action);
    }
    let err = serde_json::from_str::<Action>("\"iot:Fly\"").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("\"iot:Fly\" is not an AWS IoT action"),
        "{err}"
    );
}
