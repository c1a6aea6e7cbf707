//! Property tests: the matcher agrees with a naive reference; adding a Deny never allows;
//! statement and policy order never change a decision; explain agrees with evaluate.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::panic,
    missing_docs
)] // Test code: a failed expectation should panic.

use iot_policy::{Action, Decision, ParseOptions, Policy, PolicySet, RequestContext};
use proptest::prelude::*;

/// Obviously-correct exponential reference: `*` any run, `?` one character.
fn naive(p: &[char], t: &[char]) -> bool {
    match p.split_first() {
        None => t.is_empty(),
        Some(('*', rest)) => (0..=t.len()).any(|i| naive(rest, &t[i..])),
        Some(('?', rest)) => !t.is_empty() && naive(rest, &t[1..]),
        Some((c, rest)) => t.first() == Some(c) && naive(rest, &t[1..]),
    }
}

fn allow(resource: &str) -> PolicySet {
    let doc = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "iot:Publish", "Resource": resource}]
    })
    .to_string();
    PolicySet::compile([("p", Policy::parse(&doc, &ParseOptions::default()).unwrap())])
}

const ACTIONS: [&str; 6] = [
    "iot:Connect",
    "iot:Publish",
    "iot:Subscribe",
    "iot:Receive",
    "iot:*",
    "iot:?ub*",
];
const RESOURCES: [&str; 8] = [
    "arn:aws:iot:r:1:topic/a/*",
    "arn:aws:iot:r:1:topic/${iot:ClientId}",
    "arn:aws:iot:r:1:topic/*/b",
    "*",
    "arn:aws:iot:r:1:client/${iot:ClientId}",
    "arn:aws:iot:r:1:topic/?",
    "arn:aws:iot:r:1:topicfilter/${iot:Connection.Thing.ThingName}/#",
    "arn:aws:iot:r:1:topic/${iot:Certificate.Subject.CommonName}/*",
];
const CONDITIONS: [&str; 4] = [
    "",
    r#"{"StringEquals":{"iot:ClientId":"a"}}"#,
    r#"{"StringNotLike":{"iot:ClientId":"b*"}}"#,
    r#"{"Null":{"iot:Connection.Thing.ThingName":"false"}}"#,
];

#[derive(Debug, Clone)]
struct St {
    deny: bool,
    not_action: bool,
    actions: Vec<usize>,
    resources: Vec<usize>,
    condition: usize,
}

fn statement() -> impl Strategy<Value = St> {
    (
        any::<bool>(),
        prop::bool::weighted(0.1),
        prop::collection::vec(0..ACTIONS.len(), 1..3),
        prop::collection::vec(0..RESOURCES.len(), 1..3),
        0..CONDITIONS.len(),
    )
        .prop_map(|(deny, not_action, actions, resources, condition)| St {
            deny,
            not_action,
            actions,
            resources,
            condition,
        })
}

fn render(st: &St) -> String {
    let actions: Vec<&str> = st.actions.iter().map(|&i| ACTIONS[i]).collect();
    let resources: Vec<&str> = st.resources.iter().map(|&i| RESOURCES[i]).collect();
    let mut s = format!(
        r#"{{"Effect":"{}","{}":{},"Resource":{}"#,
        if st.deny { "Deny" } else { "Allow" },
        if st.not_action { "NotAction" } else { "Action" },
        serde_json::to_string(&actions).unwrap(),
        serde_json::to_string(&resources).unwrap()
    );
    if !CONDITIONS[st.condition].is_empty() {
        s.push_str(r#","Condition":"#);
        s.push_str(CONDITIONS[st.condition]);
    }
    s.push('}');
    s
}

fn compile(policies: &[Vec<St>]) -> PolicySet {
    PolicySet::compile(policies.iter().enumerate().map(|(i, sts)| {
        let body: Vec<String> = sts.iter().map(render).collect();
        let doc = format!(
            r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
            body.join(",")
        );
        (
            format!("p{i}"),
            Policy::parse(&doc, &{
                let mut options = ParseOptions::default();
                options.max_size = 1 << 20;
                options
            })
            .unwrap(),
        )
    }))
}

#[derive(Debug, Clone)]
struct Req {
    action: Action,
    resource: String,
    client: String,
    thing: Option<String>,
}

fn request() -> impl Strategy<Value = Req> {
    let word = prop::sample::select(vec!["a", "b", "*", "+", "#", "a/b", "bb", "?"]);
    (
        prop::sample::select(vec![
            Action::Connect,
            Action::Publish,
            Action::Subscribe,
            Action::Receive,
        ]),
        prop::sample::select(vec!["topic/", "topicfilter/", "client/"]),
        word.clone(),
        word.clone(),
        prop::option::of(word),
    )
        .prop_map(|(action, kind, name, client, thing)| Req {
            action,
            resource: format!("arn:aws:iot:r:1:{kind}{name}"),
            client: client.to_owned(),
            thing: thing.map(str::to_owned),
        })
}

fn decide(set: &PolicySet, r: &Req) -> Decision {
    let subject = [(iot_policy::DnAttribute::CommonName, r.client.as_str())];
    let ctx = RequestContext {
        client_id: Some(&r.client),
        thing_name: r.thing.as_deref(),
        subject: &subject,
        ..Default::default()
    };
    let d = set.evaluate(r.action, &r.resource, &ctx);
    assert_eq!(set.explain(r.action, &r.resource, &ctx, true).decision, d);
    d
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn matcher_agrees_with_naive_reference(
        pattern in "[ab/*?]{0,10}",
        text in "[ab/é]{0,12}",
    ) {
        let set = allow(&format!("arn:{pattern}"));
        let expected = naive(&pattern.chars().collect::<Vec<_>>(), &text.chars().collect::<Vec<_>>());
        let got = set.evaluate(Action::Publish, &format!("arn:{text}"), &RequestContext::default());
        prop_assert_eq!(got == Decision::Allowed, expected, "{} vs {}", pattern, text);
    }

    #[test]
    fn adding_a_deny_never_allows(
        policies in prop::collection::vec(prop::collection::vec(statement(), 1..5), 1..3),
        extra in statement(),
        req in request(),
    ) {
        let before = decide(&compile(&policies), &req);
        let mut more = policies.clone();
        more[0].push(St { deny: true, ..extra });
        let after = decide(&compile(&more), &req);
        if after == Decision::Allowed {
            prop_assert_eq!(before, Decision::Allowed);
        }
        if before == Decision::ExplicitDeny {
            prop_assert_eq!(after, Decision::ExplicitDeny);
        }
    }

    #[test]
    fn order_never_matters(
        policies in prop::collection::vec(prop::collection::vec(statement(), 1..5), 1..3),
        req in request(),
        seed in any::<u64>(),
    ) {
        let before = decide(&compile(&policies), &req);
        let mut shuffled = policies.clone();
        shuffled.reverse();
        for (i, p) in shuffled.iter_mut().enumerate() {
            let len = p.len();
            p.rotate_left((seed as usize).wrapping_add(i) % len);
            if seed & 1 == 1 {
                p.reverse();
            }
        }
        prop_assert_eq!(decide(&compile(&shuffled), &req), before);
    }

    #[test]
    fn wildcard_client_id_never_grants_more_than_a_literal(
        sts in prop::collection::vec(statement(), 1..5),
        req in request(),
    ) {
        // A client id made of wildcard characters is allowed exactly where the same policy
        // with that id spelled into it literally (escaped) would allow it.
        let set = compile(std::slice::from_ref(&sts));
        let d = decide(&set, &req);
        if d == Decision::Allowed && req.client.contains(['*', '?']) {
            // The resource must then contain the client id literally, or be granted without it.
            let other = Req { client: "zz".into(), ..req.clone() };
            let without = decide(&set, &other);
            prop_assert!(without == Decision::Allowed || req.resource.contains(&req.client));
        }
    }
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
            c => out.push(c),
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Substituting `${iot:ClientId}` decides exactly as writing the id into the policy with
    /// its wildcards escaped: a substituted value is never a wildcard or a variable.
    #[test]
    fn substitution_is_literal(
        id in "[a*?+#${}/\\\\\"]{0,6}",
        name in "[a*?+#${}/]{0,8}",
        template in 0usize..3,
        kind in prop::sample::select(vec!["topic/", "topicfilter/", "client/"]),
    ) {
        let templates = [
            r#"{"Effect":"Allow","Action":"iot:*","Resource":"arn:aws:iot:r:1:*/${iot:ClientId}/*"}"#,
            r#"{"Effect":"Allow","Action":"iot:*","Resource":"arn:aws:iot:r:1:client/${iot:ClientId}"}"#,
            r#"{"Effect":"Allow","Action":"iot:*","NotResource":"arn:aws:iot:r:1:topic/?${iot:ClientId}"}"#,
        ];
        let body = templates[template];
        let compile = |body: String| {
            let doc = format!(r#"{{"Version":"2012-10-17","Statement":[{body}]}}"#);
            PolicySet::compile([("p", Policy::parse(&doc, &ParseOptions::default()).unwrap())])
        };
        let with_variable = compile(body.to_owned());
        let with_literal = compile(body.replace("${iot:ClientId}", &literal(&id)));
        let ctx = RequestContext { client_id: Some(&id), ..Default::default() };
        let resource = format!("arn:aws:iot:r:1:{kind}{name}");
        for action in [Action::Connect, Action::Publish, Action::Subscribe] {
            prop_assert_eq!(
                with_variable.evaluate(action, &resource, &ctx),
                with_literal.evaluate(action, &resource, &ctx)
            );
        }
    }
}
