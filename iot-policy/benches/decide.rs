//! Decisions per second for policy sets of 1, 10 and 100 statements with policy variables,
//! this crate and `iam-rs` side by side on the same policy documents and requests.
//!
//! `iam-rs` gets its request (`IAMRequest`, with its parsed `Arn` and `Context` map) built
//! once outside the timed loop, which favours it: a broker would build one per message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::panic,
    missing_docs
)] // Bench code: a failed expectation should panic.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use iam_rs::{Arn, Context, IAMPolicy, IAMRequest, PolicyEvaluator, Principal, PrincipalId};
use iot_policy::{Action, Decision, ParseOptions, Policy, PolicySet, RequestContext};

const ARN: &str = "arn:aws:iot:us-east-1:123456789012:";

/// `n` statements with variables: connects, publishes and receives per device, one deny.
fn document(n: usize) -> String {
    let mut statements = Vec::new();
    for i in 0..n {
        let s = if n > 1 && i == n / 2 {
            format!(
                r#"{{"Effect":"Deny","Action":"iot:Publish","Resource":"{ARN}topic/fleet/*/admin"}}"#
            )
        } else {
            let kind = if n == 1 { 2 } else { i % 4 };
            match kind {
                0 => format!(
                    r#"{{"Effect":"Allow","Action":"iot:Connect","Resource":"{ARN}client/${{iot:ClientId}}"}}"#
                ),
                1 => format!(
                    r#"{{"Effect":"Allow","Action":"iot:Receive","Resource":"{ARN}topic/fleet/{i}/${{iot:ClientId}}/*"}}"#
                ),
                _ => format!(
                    r#"{{"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":["{ARN}topic/fleet/{i}/${{iot:ClientId}}/*","{ARN}topic/shared/{i}"]}}"#
                ),
            }
        };
        statements.push(s);
    }
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        statements.join(",")
    )
}

/// A publish that only the last publish statement allows: every statement is visited.
fn resource(n: usize) -> String {
    let last = (0..n)
        .rev()
        .find(|i| n == 1 || (i % 4 >= 2 && *i != n / 2))
        .unwrap_or(0);
    format!("{ARN}topic/fleet/{last}/c1/telemetry")
}

fn bench(c: &mut Criterion) {
    for n in [1usize, 10, 100] {
        let doc = document(n);
        let ours = PolicySet::compile([(
            "p",
            Policy::parse(&doc, &{
                let mut options = ParseOptions::default();
                options.max_size = 1 << 20;
                options
            })
            .unwrap(),
        )]);
        let resource = resource(n);
        let ctx = RequestContext {
            client_id: Some("c1"),
            ..Default::default()
        };
        let expected = Decision::Allowed;
        assert_eq!(ours.evaluate(Action::Publish, &resource, &ctx), expected);

        let theirs = PolicyEvaluator::with_policies(vec![IAMPolicy::from_json(&doc).unwrap()]);
        let request = IAMRequest::new_with_context(
            Principal::Aws(PrincipalId::String(
                "arn:aws:iam::123456789012:user/c1".into(),
            )),
            "iot:Publish",
            Arn::parse(&resource).unwrap(),
            Context::new().with_string("iot:ClientId", "c1"),
        );
        let their_decision = theirs.evaluate(&request).unwrap().decision;
        let agrees = matches!(
            (expected, their_decision),
            (Decision::Allowed, iam_rs::Decision::Allow)
                | (Decision::ImplicitDeny, iam_rs::Decision::NotApplicable)
                | (Decision::ExplicitDeny, iam_rs::Decision::Deny)
        );
        assert!(
            agrees,
            "iam-rs decided {their_decision:?}, iot-policy {expected:?}"
        );

        let mut group = c.benchmark_group(format!("decide/{n}_statements"));
        group.warm_up_time(Duration::from_secs(1));
        group.measurement_time(Duration::from_secs(3));
        group.bench_function("iot-policy", |b| {
            b.iter(|| {
                ours.evaluate(
                    black_box(Action::Publish),
                    black_box(&resource),
                    black_box(&ctx),
                )
            })
        });
        group.bench_function("iam-rs", |b| {
            b.iter(|| theirs.evaluate(black_box(&request)).unwrap().decision)
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
