//! Decisions: the AWS IoT developer guide's policy examples, policy variables, and the
//! injection cases of scenario 1 (no device reaches a neighbour's topic).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)] // Test code: a failed expectation should panic.

use iot_policy::{
    Action, AltNameKind, Decision, DnAttribute, ParseOptions, Policy, PolicySet, RequestContext,
    RequestContextOf,
};

use Decision::{Allowed, ExplicitDeny, ImplicitDeny};

const ARN: &str = "arn:aws:iot:us-east-1:123456789012:";

fn set(docs: &[&str]) -> PolicySet {
    PolicySet::compile(docs.iter().enumerate().map(|(i, d)| {
        let doc = d.replace("ARN:", ARN);
        (
            format!("p{i}"),
            Policy::parse(&doc, &ParseOptions::default()).unwrap(),
        )
    }))
}

fn res(kind: &str, name: &str) -> String {
    format!("{ARN}{kind}/{name}")
}

fn ctx(client_id: &str) -> RequestContext<'_> {
    RequestContext {
        client_id: Some(client_id),
        ..Default::default()
    }
}

#[test]
fn connect_examples() {
    // Developer guide, "Connect policy examples": a fixed client id, and the thing-name form.
    let fixed = set(&[
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":["ARN:client/client1","ARN:client/client2"]}]}"#,
    ]);
    let by_thing = set(&[
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"ARN:client/${iot:Connection.Thing.ThingName}"}]}"#,
    ]);
    let thing = RequestContext {
        client_id: Some("thing1"),
        thing_name: Some("thing1"),
        ..Default::default()
    };
    let no_thing = ctx("thing1");
    let cases: &[(&PolicySet, &str, &RequestContext<'_>, Decision)] = &[
        (&fixed, "client1", &no_thing, Allowed),
        (&fixed, "client2", &no_thing, Allowed),
        (&fixed, "client3", &no_thing, ImplicitDeny),
        (&fixed, "Client1", &no_thing, ImplicitDeny), // ARNs are case-sensitive
        (&by_thing, "thing1", &thing, Allowed),
        (&by_thing, "thing2", &thing, ImplicitDeny),
        (&by_thing, "thing1", &no_thing, ImplicitDeny), // thing variable unresolved
    ];
    for (set, client, ctx, expected) in cases {
        assert_eq!(
            set.evaluate(Action::Connect, &res("client", client), ctx),
            *expected,
            "{client}"
        );
    }
    // The action is case-insensitive in the policy.
    let lower = set(&[
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"IOT:connect","Resource":"ARN:client/c"}]}"#,
    ]);
    assert_eq!(
        lower.evaluate(Action::Connect, &res("client", "c"), &ctx("c")),
        Allowed
    );
}

#[test]
fn publish_subscribe_examples() {
    // "Publish/Subscribe policy examples": specific topics and topic filters.
    let s = set(&[r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":"ARN:topic/some/specific/topic"},
        {"Effect":"Allow","Action":"iot:Subscribe","Resource":"ARN:topicfilter/some/specific/topic"},
        {"Effect":"Allow","Action":"iot:Subscribe","Resource":"ARN:topicfilter/sensors/+/temperature"},
        {"Effect":"Allow","Action":"iot:Receive","Resource":"ARN:topic/sensors/*/temperature"}]}"#]);
    let c = ctx("c");
    let cases: &[(Action, &str, &str, Decision)] = &[
        (Action::Publish, "topic", "some/specific/topic", Allowed),
        (Action::Receive, "topic", "some/specific/topic", Allowed),
        (
            Action::Publish,
            "topic",
            "some/specific/topic/more",
            ImplicitDeny,
        ),
        (
            Action::Subscribe,
            "topicfilter",
            "some/specific/topic",
            Allowed,
        ),
        (
            Action::Subscribe,
            "topicfilter",
            "some/specific/#",
            ImplicitDeny,
        ),
        // `+` is literal in a topicfilter resource: only the filter "sensors/+/temperature".
        (
            Action::Subscribe,
            "topicfilter",
            "sensors/+/temperature",
            Allowed,
        ),
        (
            Action::Subscribe,
            "topicfilter",
            "sensors/kitchen/temperature",
            ImplicitDeny,
        ),
        // `*` crosses levels in a topic resource.
        (
            Action::Receive,
            "topic",
            "sensors/kitchen/temperature",
            Allowed,
        ),
        (
            Action::Receive,
            "topic",
            "sensors/a/b/c/temperature",
            Allowed,
        ),
        (
            Action::Publish,
            "topic",
            "sensors/kitchen/temperature",
            ImplicitDeny,
        ),
        (Action::Connect, "client", "c", ImplicitDeny),
    ];
    for (action, kind, name, expected) in cases {
        assert_eq!(
            s.evaluate(*action, &res(kind, name), &c),
            *expected,
            "{action} {name}"
        );
    }
}

#[test]
fn question_mark_matches_one_character() {
    let s = set(&[
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":"ARN:topic/room?/t"}]}"#,
    ]);
    let c = ctx("c");
    assert_eq!(
        s.evaluate(Action::Publish, &res("topic", "room1/t"), &c),
        Allowed
    );
    assert_eq!(
        s.evaluate(Action::Publish, &res("topic", "roomé/t"), &c),
        Allowed
    );
    assert_eq!(
        s.evaluate(Action::Publish, &res("topic", "room/t"), &c),
        ImplicitDeny
    );
    assert_eq!(
        s.evaluate(Action::Publish, &res("topic", "room12/t"), &c),
        ImplicitDeny
    );
}

#[test]
fn deny_wins_over_allow_across_policies() {
    let allow = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}"#;
    let deny = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iot:Publish","Resource":"ARN:topic/admin/*"}]}"#;
    let s = set(&[allow, deny]);
    let c = ctx("c");
    assert_eq!(
        s.evaluate(Action::Publish, &res("topic", "admin/reboot"), &c),
        ExplicitDeny
    );
    assert_eq!(
        s.evaluate(Action::Publish, &res("topic", "user/x"), &c),
        Allowed
    );
    assert_eq!(
        s.evaluate(Action::Receive, &res("topic", "admin/reboot"), &c),
        Allowed
    );
    let empty = PolicySet::compile(Vec::<(String, Policy)>::new());
    assert_eq!(
        empty.evaluate(Action::Connect, &res("client", "c"), &c),
        ImplicitDeny
    );
}

#[test]
fn not_action_and_not_resource() {
    let s = set(&[r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","NotAction":"iot:Connect","NotResource":"ARN:topic/secret"}]}"#]);
    let c = ctx("c");
    assert_eq!(
        s.evaluate(Action::Publish, &res("topic", "open"), &c),
        Allowed
    );
    assert_eq!(
        s.evaluate(Action::Publish, &res("topic", "secret"), &c),
        ImplicitDeny
    );
    assert_eq!(
        s.evaluate(Action::Connect, &res("client", "c"), &c),
        ImplicitDeny
    );
}

const SERIAL_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":"ARN:topic/iotbutton/${iot:Certificate.Subject.SerialNumber}"}]}"#;

#[test]
fn scenario_1_one_policy_per_fleet() {
    let s = set(&[SERIAL_POLICY]);
    let subject = [
        (DnAttribute::CommonName, "button"),
        (DnAttribute::SerialNumber, "G030JF0000000001"),
    ];
    let c = RequestContext {
        client_id: Some("b1"),
        subject: &subject,
        ..Default::default()
    };
    let cases: &[(&str, Decision)] = &[
        ("iotbutton/G030JF0000000001", Allowed),
        ("iotbutton/G030JF0000000002", ImplicitDeny),
        ("iotbutton/G030JF000000000", ImplicitDeny),
        ("iotbutton/G030JF0000000001/x", ImplicitDeny),
        ("iotbutton/*", ImplicitDeny),
        (
            "iotbutton/${iot:Certificate.Subject.SerialNumber}",
            ImplicitDeny,
        ),
    ];
    for (topic, expected) in cases {
        assert_eq!(
            s.evaluate(Action::Publish, &res("topic", topic), &c),
            *expected,
            "{topic}"
        );
    }
    // No serial in the certificate: the entry matches nothing.
    let bare = ctx("b1");
    assert_eq!(
        s.evaluate(Action::Publish, &res("topic", "iotbutton/"), &bare),
        ImplicitDeny
    );
}

#[test]
fn injected_client_ids_are_literal() {
    let s = set(&[r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"iot:Publish","Resource":"ARN:topic/devices/${iot:ClientId}"},
        {"Effect":"Allow","Action":"iot:Subscribe","Resource":"ARN:topicfilter/devices/${iot:ClientId}/#"}]}"#]);
    // (client id, topic it tries, expected)
    let cases: &[(&str, &str, Decision)] = &[
        ("*", "devices/neighbour", ImplicitDeny),
        ("*", "devices/*", Allowed), // its own (literal) topic name
        ("?", "devices/x", ImplicitDeny),
        ("?", "devices/?", Allowed),
        ("+", "devices/neighbour", ImplicitDeny),
        ("#", "devices/neighbour", ImplicitDeny),
        ("${iot:ClientId}", "devices/neighbour", ImplicitDeny),
        ("${iot:ClientId}", "devices/${iot:ClientId}", Allowed),
        ("a*", "devices/abc", ImplicitDeny),
        ("", "devices/", Allowed), // an empty id is a value, matched literally
    ];
    for (client, topic, expected) in cases {
        assert_eq!(
            s.evaluate(Action::Publish, &res("topic", topic), &ctx(client)),
            *expected,
            "{client} -> {topic}"
        );
    }
    // A subscribe filter with wildcards grants only the literal filter built from the id.
    assert_eq!(
        s.evaluate(
            Action::Subscribe,
            &res("topicfilter", "devices/+/#"),
            &ctx("+")
        ),
        Allowed
    );
    assert_eq!(
        s.evaluate(
            Action::Subscribe,
            &res("topicfilter", "devices/x/#"),
            &ctx("+")
        ),
        ImplicitDeny
    );
    assert_eq!(
        s.evaluate(
            Action::Subscribe,
            &res("topicfilter", "devices/#"),
            &ctx("#")
        ),
        ImplicitDeny
    );
}

#[test]
fn certificate_values_with_special_characters_are_not_substituted() {
    let s = set(&[SERIAL_POLICY]);
    for bad in ["G03*", "G03$x", "G03+", "G03?", "G03#", "*"] {
        let subject = [(DnAttribute::SerialNumber, bad)];
        let c = RequestContext {
            subject: &subject,
            ..Default::default()
        };
        for topic in [
            format!("iotbutton/{bad}"),
            "iotbutton/G030".to_owned(),
            "iotbutton/${iot:Certificate.Subject.SerialNumber}".to_owned(),
        ] {
            assert_eq!(
                s.evaluate(Action::Publish, &res("topic", &topic), &c),
                ImplicitDeny,
                "{bad} {topic}"
            );
        }
    }
    // The client id is not a certificate value: it is substituted, literally.
    let by_client = set(&[
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":"ARN:topic/${iot:ClientId}"}]}"#,
    ]);
    assert_eq!(
        by_client.evaluate(Action::Publish, &res("topic", "a$b"), &ctx("a$b")),
        Allowed
    );
}

#[test]
fn unresolved_variable_in_deny_matches_nothing_but_not_resource_fails_closed() {
    let deny = set(&[r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"iot:Publish","Resource":"*"},
        {"Effect":"Deny","Action":"iot:Publish","Resource":"ARN:topic/${iot:Connection.Thing.ThingName}/*"}]}"#]);
    let c = ctx("c");
    assert_eq!(
        deny.evaluate(Action::Publish, &res("topic", "x/y"), &c),
        Allowed
    );

    let not_res_allow = set(&[r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"iot:Publish","NotResource":"ARN:topic/${iot:Connection.Thing.ThingName}"}]}"#]);
    assert_eq!(
        not_res_allow.evaluate(Action::Publish, &res("topic", "x"), &c),
        ImplicitDeny
    );
    let not_res_deny = set(&[r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"iot:Publish","Resource":"*"},
        {"Effect":"Deny","Action":"iot:Publish","NotResource":"ARN:topic/${iot:Connection.Thing.ThingName}"}]}"#]);
    assert_eq!(
        not_res_deny.evaluate(Action::Publish, &res("topic", "x"), &c),
        ExplicitDeny
    );
    let thing = RequestContext {
        client_id: Some("t"),
        thing_name: Some("t"),
        ..Default::default()
    };
    assert_eq!(
        not_res_deny.evaluate(Action::Publish, &res("topic", "t"), &thing),
        Allowed
    );
    assert_eq!(
        not_res_deny.evaluate(Action::Publish, &res("topic", "x"), &thing),
        ExplicitDeny
    );
}

#[test]
fn version_2008_does_not_substitute() {
    for version in [r#""Version":"2008-10-17","#, ""] {
        let s = set(&[&format!(
            r#"{{{version}"Statement":[{{"Effect":"Allow","Action":"iot:Publish","Resource":"ARN:topic/${{iot:ClientId}}"}}]}}"#
        )]);
        assert_eq!(
            s.evaluate(Action::Publish, &res("topic", "c"), &ctx("c")),
            ImplicitDeny
        );
        assert_eq!(
            s.evaluate(Action::Publish, &res("topic", "${iot:ClientId}"), &ctx("c")),
            Allowed
        );
    }
}

#[test]
fn escapes_are_literal_characters() {
    let s = set(&[
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":"ARN:topic/a${*}b${?}c${$}"}]}"#,
    ]);
    assert_eq!(
        s.evaluate(Action::Publish, &res("topic", "a*b?c$"), &ctx("c")),
        Allowed
    );
    assert_eq!(
        s.evaluate(Action::Publish, &res("topic", "axb?c$"), &ctx("c")),
        ImplicitDeny
    );
    assert_eq!(
        s.evaluate(Action::Publish, &res("topic", "a*bxc$"), &ctx("c")),
        ImplicitDeny
    );
}

#[test]
fn thing_variables() {
    // "Thing policy variables": type name and attributes.
    let s = set(&[r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"iot:Publish","Resource":"ARN:topic/${iot:Connection.Thing.ThingTypeName}/${iot:Connection.Thing.Attributes[building]}/*"}]}"#]);
    let attrs = [("floor", "3"), ("building", "b7")];
    let c = RequestContext {
        client_id: Some("t1"),
        thing_name: Some("t1"),
        thing_type_name: Some("lamp"),
        thing_attributes: &attrs,
        ..Default::default()
    };
    assert_eq!(
        s.evaluate(Action::Publish, &res("topic", "lamp/b7/x"), &c),
        Allowed
    );
    assert_eq!(
        s.evaluate(Action::Publish, &res("topic", "lamp/3/x"), &c),
        ImplicitDeny
    );
    let no_attr = RequestContext {
        thing_attributes: &attrs[..1],
        ..c
    };
    assert_eq!(
        s.evaluate(Action::Publish, &res("topic", "lamp/b7/x"), &no_attr),
        ImplicitDeny
    );
}

#[test]
fn multi_valued_fields_first_index_and_list() {
    let s = set(&[r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"iot:Publish","Resource":"ARN:topic/org/${iot:Certificate.Subject.Organization}"},
        {"Effect":"Allow","Action":"iot:Receive","Resource":"ARN:topic/org/${iot:Certificate.Subject.Organization.1}"},
        {"Effect":"Allow","Action":"iot:Subscribe","Resource":"ARN:topicfilter/dns/${iot:Certificate.Subject.AlternativeName.DNSName.0}",
         "Condition":{"ForAnyValue:StringEquals":{"iot:Certificate.Subject.OrganizationalUnit.List":"ops"}}}]}"#]);
    let subject = [
        (DnAttribute::Organization, "acme"),
        (DnAttribute::OrganizationalUnit, "dev"),
        (DnAttribute::Organization, "widgets"),
        (DnAttribute::OrganizationalUnit, "ops"),
    ];
    let sans = [
        (AltNameKind::IpAddress, "10.0.0.1"),
        (AltNameKind::DnsName, "d1.example.com"),
    ];
    let c = RequestContext {
        subject: &subject,
        subject_alt_names: &sans,
        ..Default::default()
    };
    assert_eq!(
        s.evaluate(Action::Publish, &res("topic", "org/acme"), &c),
        Allowed
    );
    assert_eq!(
        s.evaluate(Action::Publish, &res("topic", "org/widgets"), &c),
        ImplicitDeny
    );
    assert_eq!(
        s.evaluate(Action::Receive, &res("topic", "org/widgets"), &c),
        Allowed
    );
    assert_eq!(
        s.evaluate(Action::Receive, &res("topic", "org/acme"), &c),
        ImplicitDeny
    );
    assert_eq!(
        s.evaluate(
            Action::Subscribe,
            &res("topicfilter", "dns/d1.example.com"),
            &c
        ),
        Allowed
    );
    let subject_no_ops = [(DnAttribute::OrganizationalUnit, "dev")];
    let c2 = RequestContext {
        subject: &subject_no_ops,
        ..c
    };
    assert_eq!(
        s.evaluate(
            Action::Subscribe,
            &res("topicfilter", "dns/d1.example.com"),
            &c2
        ),
        ImplicitDeny
    );
}

/// A caller that keeps the fields as `String`s borrows them as they are: the same decisions
/// as with `&str` pairs.
#[test]
fn an_owned_context_decides_as_a_borrowed_one() {
    let s = set(&[r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"iot:Publish","Resource":"ARN:topic/org/${iot:Certificate.Subject.Organization.1}/${iot:Connection.Thing.Attributes[room]}"},
        {"Effect":"Allow","Action":"iot:Subscribe","Resource":"ARN:topicfilter/dns/${iot:Certificate.Subject.AlternativeName.DNSName}",
         "Condition":{"ForAnyValue:StringEquals":{"iot:Certificate.Subject.OrganizationalUnit.List":"ops"}}}]}"#]);
    let subject: Vec<(DnAttribute, String)> = [
        (DnAttribute::Organization, "acme"),
        (DnAttribute::OrganizationalUnit, "dev"),
        (DnAttribute::Organization, "widgets"),
        (DnAttribute::OrganizationalUnit, "ops"),
    ]
    .map(|(a, v)| (a, v.to_owned()))
    .to_vec();
    let sans = vec![(AltNameKind::DnsName, "d1.example.com".to_owned())];
    let attributes = vec![("room".to_owned(), "b7".to_owned())];
    let owned: RequestContextOf<'_, String> = RequestContextOf {
        subject: &subject,
        subject_alt_names: &sans,
        thing_attributes: &attributes,
        ..Default::default()
    };
    let subject_ref: Vec<(DnAttribute, &str)> =
        subject.iter().map(|(a, v)| (*a, v.as_str())).collect();
    let sans_ref = [(AltNameKind::DnsName, "d1.example.com")];
    let attributes_ref = [("room", "b7")];
    let borrowed = RequestContext {
        subject: &subject_ref,
        subject_alt_names: &sans_ref,
        thing_attributes: &attributes_ref,
        ..Default::default()
    };
    let requests = [
        (Action::Publish, res("topic", "org/widgets/b7"), Allowed),
        (Action::Publish, res("topic", "org/acme/b7"), ImplicitDeny),
        (
            Action::Publish,
            res("topic", "org/widgets/b8"),
            ImplicitDeny,
        ),
        (
            Action::Subscribe,
            res("topicfilter", "dns/d1.example.com"),
            Allowed,
        ),
        (
            Action::Subscribe,
            res("topicfilter", "dns/d2.example.com"),
            ImplicitDeny,
        ),
    ];
    for (action, resource, expected) in requests {
        assert_eq!(
            s.evaluate(action, &resource, &owned),
            expected,
            "{resource}"
        );
        assert_eq!(
            s.evaluate(action, &resource, &borrowed),
            expected,
            "{resource}"
        );
        assert_eq!(
            s.explain(action, &resource, &owned, true).to_string(),
            s.explain(action, &resource, &borrowed, true).to_string()
        );
    }
}

#[test]
fn other_keys_supply_values_by_name() {
    let s = set(&[r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"iot:Publish","Resource":"ARN:topic/${iot:Certificate.Subject.CommonName.1}/${iot:CertificateId}"}]}"#]);
    let cn: &[&str] = &["x", "y"];
    let id: &[&str] = &["abc123"];
    let other = [
        ("iot:Certificate.Subject.CommonName", cn),
        ("IOT:CERTIFICATEID", id),
    ];
    let c = RequestContext {
        other: &other,
        ..Default::default()
    };
    assert_eq!(
        s.evaluate(Action::Publish, &res("topic", "y/abc123"), &c),
        Allowed
    );
    assert_eq!(
        s.evaluate(Action::Publish, &res("topic", "x/abc123"), &c),
        ImplicitDeny
    );
}

#[test]
fn pathological_pattern_is_fast() {
    let s = set(&[
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":"ARN:topic/a*a*a*a*a*a*a*a*a*a*b"}]}"#,
    ]);
    let topic = res("topic", &"a".repeat(20_000));
    let start = std::time::Instant::now();
    assert_eq!(s.evaluate(Action::Publish, &topic, &ctx("c")), ImplicitDeny);
    assert!(
        start.elapsed() < std::time::Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn every_action_names_the_resource_type_aws_gives_it() {
    use iot_policy::ResourceKind;
    let types: Vec<(&str, Option<&str>)> = Action::ALL
        .iter()
        .map(|a| (a.name(), a.resource_kind().arn_type()))
        .collect();
    assert_eq!(
        types,
        [
            ("iot:Connect", Some("client")),
            ("iot:Publish", Some("topic")),
            ("iot:Subscribe", Some("topicfilter")),
            ("iot:Receive", Some("topic")),
            ("iot:RetainPublish", Some("topic")),
            ("iot:GetRetainedMessage", Some("topic")),
            ("iot:ListRetainedMessages", None),
            ("iot:GetThingShadow", Some("thing")),
            ("iot:UpdateThingShadow", Some("thing")),
            ("iot:DeleteThingShadow", Some("thing")),
            ("iot:ListNamedShadowsForThing", None),
            ("iot:DescribeJobExecution", Some("thing")),
            ("iot:GetPendingJobExecutions", Some("thing")),
            ("iot:StartNextPendingJobExecution", Some("thing")),
            ("iot:UpdateJobExecution", Some("thing")),
            ("iot:AssumeRoleWithCertificate", Some("rolealias")),
        ]
    );
    assert_eq!(
        Action::ListRetainedMessages.resource_kind(),
        ResourceKind::All
    );
}
