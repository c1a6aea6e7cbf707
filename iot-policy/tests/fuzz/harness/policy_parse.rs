//! Arbitrary UTF-8 as a policy document: parsing never panics; an accepted policy compiles,
//! lints, and decides a fixed request the same way through `evaluate` and `explain`.

use iot_policy::{Action, DnAttribute, ParseOptions, Policy, PolicySet, RequestContext};

/// One fuzz input: panics on a broken invariant.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let policy = match Policy::parse(text, &ParseOptions::default()) {
        Ok(policy) => policy,
        Err(e) => {
            // The offset is inside the document (or at its end) and the message renders.
            assert!(e.offset() <= text.len());
            let _ = e.to_string();
            return;
        }
    };
    let _ = policy.lint();
    let set = PolicySet::compile([("fuzz", policy)]);
    let subject = [
        (DnAttribute::SerialNumber, "S1"),
        (DnAttribute::CommonName, "c*"),
    ];
    let ctx = RequestContext {
        client_id: Some("c1"),
        thing_name: Some("c1"),
        subject: &subject,
        source_ip: Some("10.0.0.1"),
        ..Default::default()
    };
    for (action, resource) in [
        (
            Action::Connect,
            "arn:aws:iot:us-east-1:123456789012:client/c1",
        ),
        (
            Action::Publish,
            "arn:aws:iot:us-east-1:123456789012:topic/a/c1/b",
        ),
        (
            Action::Subscribe,
            "arn:aws:iot:us-east-1:123456789012:topicfilter/a/+/#",
        ),
    ] {
        let decision = set.evaluate(action, resource, &ctx);
        let explanation = set.explain(action, resource, &ctx, true);
        assert_eq!(explanation.decision, decision);
        let _ = explanation.to_string();
    }
}
