//! Conditions: each operator family, IfExists, ForAnyValue/ForAllValues, missing keys.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)] // Test code: a failed expectation should panic.

use iot_policy::{Action, Decision, ParseOptions, Policy, PolicySet, RequestContext};

use Decision::{Allowed, ImplicitDeny};

const RESOURCE: &str = "arn:aws:iot:us-east-1:123456789012:client/c";

/// Allows iot:Connect under one condition block.
fn allow_if(condition: &str) -> PolicySet {
    let doc = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{condition}}}]}}"#
    );
    PolicySet::compile([("p", Policy::parse(&doc, &ParseOptions::default()).unwrap())])
}

/// Decides with `key` holding `values` (absent when `None`).
fn decide(set: &PolicySet, key: &str, values: Option<&[&str]>) -> Decision {
    let other_storage;
    let other: &[(&str, &[&str])] = match values {
        Some(v) => {
            other_storage = [(key, v)];
            &other_storage
        }
        None => &[],
    };
    let ctx = RequestContext {
        other,
        ..Default::default()
    };
    set.evaluate(Action::Connect, RESOURCE, &ctx)
}

/// (condition block, key, request values or None for absent, expected)
type Case<'a> = (&'a str, &'a str, Option<&'a [&'a str]>, Decision);

fn run(cases: &[Case<'_>]) {
    for (condition, key, values, expected) in cases {
        let set = allow_if(condition);
        assert_eq!(
            decide(&set, key, *values),
            *expected,
            "{condition} with {key}={values:?}"
        );
    }
}

#[test]
fn string_operators() {
    run(&[
        (
            r#"{"StringEquals":{"k":"a*"}}"#,
            "k",
            Some(&["a*"]),
            Allowed,
        ),
        (
            r#"{"StringEquals":{"k":"a*"}}"#,
            "k",
            Some(&["ab"]),
            ImplicitDeny,
        ),
        (
            r#"{"StringEquals":{"k":["x","y"]}}"#,
            "k",
            Some(&["y"]),
            Allowed,
        ),
        (
            r#"{"StringNotEquals":{"k":["x","y"]}}"#,
            "k",
            Some(&["y"]),
            ImplicitDeny,
        ),
        (
            r#"{"StringNotEquals":{"k":["x","y"]}}"#,
            "k",
            Some(&["z"]),
            Allowed,
        ),
        (
            r#"{"StringEqualsIgnoreCase":{"k":"HeLLo"}}"#,
            "k",
            Some(&["hello"]),
            Allowed,
        ),
        (
            r#"{"StringNotEqualsIgnoreCase":{"k":"HeLLo"}}"#,
            "k",
            Some(&["hello"]),
            ImplicitDeny,
        ),
        (
            r#"{"StringLike":{"k":"dev-*-?"}}"#,
            "k",
            Some(&["dev-a/b-1"]),
            Allowed,
        ),
        (
            r#"{"StringLike":{"k":"dev-*-?"}}"#,
            "k",
            Some(&["dev-a-12"]),
            ImplicitDeny,
        ),
        (
            r#"{"StringNotLike":{"k":"dev-*"}}"#,
            "k",
            Some(&["prod-1"]),
            Allowed,
        ),
        (
            r#"{"StringNotLike":{"k":"dev-*"}}"#,
            "k",
            Some(&["dev-1"]),
            ImplicitDeny,
        ),
    ]);
}

#[test]
fn numeric_operators() {
    run(&[
        (
            r#"{"NumericEquals":{"k":10}}"#,
            "k",
            Some(&["10.0"]),
            Allowed,
        ),
        (
            r#"{"NumericNotEquals":{"k":"10"}}"#,
            "k",
            Some(&["10"]),
            ImplicitDeny,
        ),
        (
            r#"{"NumericLessThan":{"k":"10"}}"#,
            "k",
            Some(&["9.5"]),
            Allowed,
        ),
        (
            r#"{"NumericLessThan":{"k":"10"}}"#,
            "k",
            Some(&["10"]),
            ImplicitDeny,
        ),
        (
            r#"{"NumericLessThanEquals":{"k":"10"}}"#,
            "k",
            Some(&["10"]),
            Allowed,
        ),
        (
            r#"{"NumericGreaterThan":{"k":"10"}}"#,
            "k",
            Some(&["11"]),
            Allowed,
        ),
        (
            r#"{"NumericGreaterThanEquals":{"k":"-1e3"}}"#,
            "k",
            Some(&["-1000"]),
            Allowed,
        ),
        // Unreadable request values satisfy neither the operator nor its negation.
        (
            r#"{"NumericLessThan":{"k":"10"}}"#,
            "k",
            Some(&["ten"]),
            ImplicitDeny,
        ),
        (
            r#"{"NumericNotEquals":{"k":"10"}}"#,
            "k",
            Some(&["ten"]),
            ImplicitDeny,
        ),
    ]);
}

#[test]
fn date_operators() {
    run(&[
        (
            r#"{"DateGreaterThan":{"aws:CurrentTime":"2024-01-01T00:00:00Z"}}"#,
            "aws:CurrentTime",
            Some(&["2024-06-01T12:00:00Z"]),
            Allowed,
        ),
        (
            r#"{"DateLessThan":{"aws:CurrentTime":"2024-01-01T00:00:00Z"}}"#,
            "aws:CurrentTime",
            Some(&["2024-06-01T12:00:00Z"]),
            ImplicitDeny,
        ),
        (
            r#"{"DateEquals":{"aws:CurrentTime":"2024-01-01T02:00:00+02:00"}}"#,
            "aws:CurrentTime",
            Some(&["2024-01-01T00:00:00Z"]),
            Allowed,
        ),
        (
            r#"{"DateEquals":{"aws:CurrentTime":"2024-01-01"}}"#,
            "aws:CurrentTime",
            Some(&["1704067200"]),
            Allowed,
        ),
        (
            r#"{"DateNotEquals":{"aws:CurrentTime":"2024-01-01"}}"#,
            "aws:CurrentTime",
            Some(&["2024-01-01T00:00:00.000Z"]),
            ImplicitDeny,
        ),
        (
            r#"{"DateLessThanEquals":{"aws:EpochTime":"1704067200"}}"#,
            "aws:EpochTime",
            Some(&["1704067200"]),
            Allowed,
        ),
        (
            r#"{"DateGreaterThanEquals":{"aws:CurrentTime":"2024-02-29T23:59:59Z"}}"#,
            "aws:CurrentTime",
            Some(&["2024-03-01T00:00:00Z"]),
            Allowed,
        ),
        (
            r#"{"DateGreaterThan":{"aws:CurrentTime":"2024-01-01"}}"#,
            "aws:CurrentTime",
            Some(&["yesterday"]),
            ImplicitDeny,
        ),
        (
            r#"{"DateGreaterThan":{"aws:CurrentTime":"2024-01-01T00:00:00.1Z"}}"#,
            "aws:CurrentTime",
            Some(&["2024-01-01T00:00:00.099Z"]),
            ImplicitDeny,
        ),
        (
            r#"{"DateGreaterThan":{"aws:CurrentTime":"2024-01-01T00:00:00.1Z"}}"#,
            "aws:CurrentTime",
            Some(&["2024-01-01T00:00:00.101Z"]),
            Allowed,
        ),
    ]);
}

#[test]
fn bool_ip_arn_null() {
    run(&[
        (
            r#"{"Bool":{"aws:SecureTransport":"true"}}"#,
            "aws:SecureTransport",
            Some(&["true"]),
            Allowed,
        ),
        (
            r#"{"Bool":{"aws:SecureTransport":true}}"#,
            "aws:SecureTransport",
            Some(&["false"]),
            ImplicitDeny,
        ),
        (
            r#"{"IpAddress":{"aws:SourceIp":["203.0.113.0/24","2001:db8::/32"]}}"#,
            "aws:SourceIp",
            Some(&["203.0.113.77"]),
            Allowed,
        ),
        (
            r#"{"IpAddress":{"aws:SourceIp":["203.0.113.0/24","2001:db8::/32"]}}"#,
            "aws:SourceIp",
            Some(&["2001:db8:1::5"]),
            Allowed,
        ),
        (
            r#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#,
            "aws:SourceIp",
            Some(&["203.0.114.1"]),
            ImplicitDeny,
        ),
        (
            r#"{"IpAddress":{"aws:SourceIp":"203.0.113.5"}}"#,
            "aws:SourceIp",
            Some(&["203.0.113.5"]),
            Allowed,
        ),
        (
            r#"{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
            "aws:SourceIp",
            Some(&["10.1.2.3"]),
            ImplicitDeny,
        ),
        (
            r#"{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
            "aws:SourceIp",
            Some(&["192.0.2.1"]),
            Allowed,
        ),
        (
            r#"{"ArnLike":{"k":"arn:aws:iot:*:123456789012:thing/*"}}"#,
            "k",
            Some(&["arn:aws:iot:eu-west-1:123456789012:thing/t"]),
            Allowed,
        ),
        (
            r#"{"ArnEquals":{"k":"arn:aws:iot:us-east-1:1:thing/t"}}"#,
            "k",
            Some(&["arn:aws:iot:us-east-1:1:thing/u"]),
            ImplicitDeny,
        ),
        (
            r#"{"ArnNotLike":{"k":"arn:aws:iot:*:1:thing/*"}}"#,
            "k",
            Some(&["arn:aws:iot:r:2:thing/t"]),
            Allowed,
        ),
        (r#"{"Null":{"k":"true"}}"#, "k", None, Allowed),
        (r#"{"Null":{"k":"true"}}"#, "k", Some(&["v"]), ImplicitDeny),
        (r#"{"Null":{"k":"false"}}"#, "k", Some(&["v"]), Allowed),
        (r#"{"Null":{"k":"false"}}"#, "k", None, ImplicitDeny),
    ]);
}

#[test]
fn missing_key_semantics() {
    run(&[
        // Positive operators are false, negated ones true.
        (r#"{"StringEquals":{"k":"a"}}"#, "k", None, ImplicitDeny),
        (r#"{"StringLike":{"k":"*"}}"#, "k", None, ImplicitDeny),
        (r#"{"NumericLessThan":{"k":"1"}}"#, "k", None, ImplicitDeny),
        (
            r#"{"DateLessThan":{"k":"2024-01-01"}}"#,
            "k",
            None,
            ImplicitDeny,
        ),
        (r#"{"Bool":{"k":"false"}}"#, "k", None, ImplicitDeny),
        (
            r#"{"IpAddress":{"k":"0.0.0.0/0"}}"#,
            "k",
            None,
            ImplicitDeny,
        ),
        (r#"{"ArnLike":{"k":"*"}}"#, "k", None, ImplicitDeny),
        (r#"{"StringNotEquals":{"k":"a"}}"#, "k", None, Allowed),
        (r#"{"StringNotLike":{"k":"*"}}"#, "k", None, Allowed),
        (r#"{"NumericNotEquals":{"k":"1"}}"#, "k", None, Allowed),
        (r#"{"NotIpAddress":{"k":"0.0.0.0/0"}}"#, "k", None, Allowed),
        (r#"{"ArnNotLike":{"k":"*"}}"#, "k", None, Allowed),
        // IfExists: true when absent, the operator otherwise.
        (r#"{"StringEqualsIfExists":{"k":"a"}}"#, "k", None, Allowed),
        (
            r#"{"StringEqualsIfExists":{"k":"a"}}"#,
            "k",
            Some(&["b"]),
            ImplicitDeny,
        ),
        (
            r#"{"StringEqualsIfExists":{"k":"a"}}"#,
            "k",
            Some(&["a"]),
            Allowed,
        ),
        (
            r#"{"NumericLessThanIfExists":{"k":"5"}}"#,
            "k",
            None,
            Allowed,
        ),
        // Set operators over no values.
        (
            r#"{"ForAnyValue:StringEquals":{"k":"a"}}"#,
            "k",
            None,
            ImplicitDeny,
        ),
        (
            r#"{"ForAllValues:StringEquals":{"k":"a"}}"#,
            "k",
            None,
            Allowed,
        ),
        (
            r#"{"ForAnyValue:StringNotEquals":{"k":"a"}}"#,
            "k",
            None,
            ImplicitDeny,
        ),
    ]);
}

#[test]
fn set_operators_over_several_values() {
    let v: &[&str] = &["a", "b"];
    run(&[
        (
            r#"{"ForAnyValue:StringEquals":{"k":"a"}}"#,
            "k",
            Some(v),
            Allowed,
        ),
        (
            r#"{"ForAllValues:StringEquals":{"k":"a"}}"#,
            "k",
            Some(v),
            ImplicitDeny,
        ),
        (
            r#"{"ForAllValues:StringEquals":{"k":["a","b","c"]}}"#,
            "k",
            Some(v),
            Allowed,
        ),
        (
            r#"{"ForAnyValue:StringNotEquals":{"k":"a"}}"#,
            "k",
            Some(v),
            Allowed,
        ),
        (
            r#"{"ForAllValues:StringNotEquals":{"k":"c"}}"#,
            "k",
            Some(v),
            Allowed,
        ),
        (
            r#"{"ForAllValues:StringNotEquals":{"k":"a"}}"#,
            "k",
            Some(v),
            ImplicitDeny,
        ),
        // Without a set operator: any value for positive, none for negated.
        (r#"{"StringEquals":{"k":"b"}}"#, "k", Some(v), Allowed),
        (
            r#"{"StringNotEquals":{"k":"b"}}"#,
            "k",
            Some(v),
            ImplicitDeny,
        ),
    ]);
}

#[test]
fn keys_and_operators_are_anded_values_ored() {
    let set = allow_if(r#"{"StringEquals":{"a":["1","2"],"b":"x"},"StringLike":{"c":"z*"}}"#);
    let one: &[&str] = &["2"];
    let x: &[&str] = &["x"];
    let y: &[&str] = &["y"];
    let z: &[&str] = &["zz"];
    let decide_with = |other: &[(&str, &[&str])]| {
        set.evaluate(
            Action::Connect,
            RESOURCE,
            &RequestContext {
                other,
                ..Default::default()
            },
        )
    };
    assert_eq!(decide_with(&[("a", one), ("b", x), ("c", z)]), Allowed);
    assert_eq!(decide_with(&[("a", one), ("b", y), ("c", z)]), ImplicitDeny);
    assert_eq!(decide_with(&[("a", one), ("b", x)]), ImplicitDeny);
}

#[test]
fn variables_in_condition_values_are_literal() {
    let set = allow_if(r#"{"StringEquals":{"iot:Connection.Thing.ThingName":"${iot:ClientId}"}}"#);
    let attached = |client, thing| RequestContext {
        client_id: Some(client),
        thing_name: Some(thing),
        ..Default::default()
    };
    assert_eq!(
        set.evaluate(Action::Connect, RESOURCE, &attached("t1", "t1")),
        Allowed
    );
    assert_eq!(
        set.evaluate(Action::Connect, RESOURCE, &attached("t1", "t2")),
        ImplicitDeny
    );
    assert_eq!(
        set.evaluate(Action::Connect, RESOURCE, &attached("*", "t2")),
        ImplicitDeny
    );
    let like = allow_if(r#"{"StringLike":{"iot:Connection.Thing.ThingName":"${iot:ClientId}-*"}}"#);
    assert_eq!(
        like.evaluate(Action::Connect, RESOURCE, &attached("t", "t-1")),
        Allowed
    );
    assert_eq!(
        like.evaluate(Action::Connect, RESOURCE, &attached("*", "t-1")),
        ImplicitDeny
    );
}

#[test]
fn is_attached_and_certificate_keys() {
    let set = allow_if(
        r#"{"Bool":{"iot:Connection.Thing.IsAttached":"true"},"StringEquals":{"iot:Certificate.Subject.Country":"US"}}"#,
    );
    let subject = [(iot_policy::DnAttribute::Country, "US")];
    let attached = RequestContext {
        client_id: Some("t"),
        thing_name: Some("t"),
        subject: &subject,
        ..Default::default()
    };
    assert_eq!(set.evaluate(Action::Connect, RESOURCE, &attached), Allowed);
    let detached = RequestContext {
        thing_name: None,
        ..attached
    };
    assert_eq!(
        set.evaluate(Action::Connect, RESOURCE, &detached),
        ImplicitDeny
    );
    let ip = allow_if(r#"{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}"#);
    let from = RequestContext {
        source_ip: Some("192.0.2.9"),
        ..Default::default()
    };
    assert_eq!(ip.evaluate(Action::Connect, RESOURCE, &from), Allowed);
}

/// An empty value list, as in the connect-policy examples of
/// <https://docs.aws.amazon.com/iot/latest/developerguide/connect-policy.html>
/// (`"iot:ConnectAttributes": []`): no request value matches it, so with IAM's set
/// semantics `ForAllValues` holds only for a request with no attributes (a clean connect
/// without a Will), `ForAnyValue` never holds, and a negated operator holds for every value.
#[test]
fn empty_value_lists_follow_iam_set_semantics() {
    let none: &[&str] = &[];
    let persistent: &[&str] = &["PersistentConnect"];
    let both: &[&str] = &["PersistentConnect", "LastWill"];
    let key = "iot:ConnectAttributes";
    let all = r#"{"ForAllValues:StringEquals":{"iot:ConnectAttributes":[]}}"#;
    let any = r#"{"ForAnyValue:StringEquals":{"iot:ConnectAttributes":[]}}"#;
    run(&[
        (all, key, Some(none), Allowed),
        (all, key, None, Allowed),
        (all, key, Some(persistent), ImplicitDeny),
        (all, key, Some(both), ImplicitDeny),
        (any, key, Some(both), ImplicitDeny),
        (any, key, Some(none), ImplicitDeny),
        (
            r#"{"ForAllValues:StringNotEquals":{"iot:ConnectAttributes":[]}}"#,
            key,
            Some(both),
            Allowed,
        ),
        (
            r#"{"StringEquals":{"iot:ConnectAttributes":[]}}"#,
            key,
            Some(persistent),
            ImplicitDeny,
        ),
        (
            r#"{"StringNotEquals":{"iot:ConnectAttributes":[]}}"#,
            key,
            Some(persistent),
            Allowed,
        ),
        (
            r#"{"NumericLessThan":{"k":[]}}"#,
            "k",
            Some(&["1"]),
            ImplicitDeny,
        ),
        (
            r#"{"IpAddress":{"k":[]}}"#,
            "k",
            Some(&["10.0.0.1"]),
            ImplicitDeny,
        ),
    ]);
}
