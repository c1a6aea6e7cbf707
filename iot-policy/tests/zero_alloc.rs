//! Deciding performs no heap allocation: a counting global allocator watches `evaluate` over
//! variables, multi-valued certificate fields, conditions of every family, allows and denies.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::panic,
    missing_docs
)] // Test code: a failed expectation should panic.

use iot_policy::{
    Action, AltNameKind, Decision, DnAttribute, ParseOptions, Policy, PolicySet, RequestContext,
};

use test_support::{CountingAllocator, allocations_during};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:us-east-1:1:client/${iot:Connection.Thing.ThingName}",
   "Condition":{"Bool":{"iot:Connection.Thing.IsAttached":"true"},"IpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]}}},
  {"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":[
     "arn:aws:iot:us-east-1:1:topic/fleet/${iot:Certificate.Subject.SerialNumber}/*",
     "arn:aws:iot:us-east-1:1:topic/org/${iot:Certificate.Subject.Organization.1}/${iot:Connection.Thing.Attributes[site]}"],
   "Condition":{"ForAnyValue:StringLike":{"iot:Certificate.Subject.OrganizationalUnit.List":"ops*"},
                "NumericLessThanIfExists":{"fw":"10"},"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"},
                "ArnLike":{"res":"arn:aws:iot:*"},"StringEqualsIgnoreCase":{"iot:Certificate.Subject.AlternativeName.DNSName":"D.EXAMPLE"},
                "Null":{"missing":"true"}}},
  {"Effect":"Deny","Action":"iot:*","Resource":"arn:aws:iot:us-east-1:1:topic/fleet/*/admin",
   "Condition":{"StringNotEquals":{"iot:ClientId":"${iot:CertificateId}"}}}]}"#;

#[test]
fn evaluate_does_not_allocate() {
    let set = PolicySet::compile([(
        "p",
        Policy::parse(POLICY, &ParseOptions::default()).unwrap(),
    )]);
    let subject = [
        (DnAttribute::SerialNumber, "S1"),
        (DnAttribute::Organization, "acme"),
        (DnAttribute::OrganizationalUnit, "dev"),
        (DnAttribute::Organization, "widgets"),
        (DnAttribute::OrganizationalUnit, "ops-eu"),
    ];
    let sans = [(AltNameKind::DnsName, "d.example")];
    let attrs = [("site", "berlin")];
    let now: &[&str] = &["2024-06-01T12:00:00.25+01:00"];
    let fw: &[&str] = &["7"];
    let arn: &[&str] = &["arn:aws:iot:x"];
    let other = [("aws:CurrentTime", now), ("fw", fw), ("res", arn)];
    let ctx = RequestContext {
        client_id: Some("t1"),
        thing_name: Some("t1"),
        thing_attributes: &attrs,
        subject: &subject,
        subject_alt_names: &sans,
        source_ip: Some("10.1.2.3"),
        certificate_id: Some("cert"),
        other: &other,
        ..Default::default()
    };
    let requests = [
        (
            Action::Connect,
            "arn:aws:iot:us-east-1:1:client/t1",
            Decision::Allowed,
        ),
        (
            Action::Connect,
            "arn:aws:iot:us-east-1:1:client/t2",
            Decision::ImplicitDeny,
        ),
        (
            Action::Publish,
            "arn:aws:iot:us-east-1:1:topic/fleet/S1/x",
            Decision::Allowed,
        ),
        (
            Action::Receive,
            "arn:aws:iot:us-east-1:1:topic/org/widgets/berlin",
            Decision::Allowed,
        ),
        (
            Action::Publish,
            "arn:aws:iot:us-east-1:1:topic/org/acme/berlin",
            Decision::ImplicitDeny,
        ),
        (
            Action::Publish,
            "arn:aws:iot:us-east-1:1:topic/fleet/S1/admin",
            Decision::ExplicitDeny,
        ),
        (
            Action::Subscribe,
            "arn:aws:iot:us-east-1:1:topicfilter/#",
            Decision::ImplicitDeny,
        ),
    ];
    // Warm up anything lazily initialised outside the decision path.
    for (action, resource, _) in requests {
        let _ = set.evaluate(action, resource, &ctx);
    }
    for (action, resource, expected) in requests {
        let (count, decision) = allocations_during(|| set.evaluate(action, resource, &ctx));
        assert_eq!(decision, expected, "{action} {resource}");
        assert_eq!(count, 0, "{action} {resource} allocated");
    }
}

#[test]
fn the_counter_sees_allocations() {
    // Guard against a test that cannot fail: the allocator is really installed.
    let (count, v) = allocations_during(|| vec![0u8; 10]);
    assert_eq!(v.len(), 10);
    assert_eq!(count, 1);
}
