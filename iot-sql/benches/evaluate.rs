//! Rule evaluation against `serde_json::from_slice` of the same payload (the floor: a rule
//! must at least read the JSON). Target: evaluation ≤ 1.3× the bare parse.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

use common::{Case, cases, evaluate, prepare};

fn group(c: &mut Criterion, case: &Case) {
    let (rule, context) = prepare(case);
    assert!(
        evaluate(&rule, case, &context).is_some(),
        "{} must match",
        case.name
    );
    let payload = &case.payload[..];
    let mut g = c.benchmark_group(case.name);
    g.bench_function("serde_json::from_slice", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(payload)).unwrap())
    });
    // The payload parse alone, into this crate's values (exact decimals): the part of
    // `evaluate` that no rule can skip.
    g.bench_function("Value::from_json_slice", |b| {
        b.iter(|| iot_sql::Value::from_json_slice(black_box(payload)).unwrap())
    });
    g.bench_function("evaluate", |b| {
        b.iter(|| evaluate(&rule, black_box(case), &context))
    });
    g.bench_function("evaluate+to_json_bytes", |b| {
        b.iter(|| evaluate(&rule, black_box(case), &context).map(|o| o.to_json_bytes()))
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    for case in &cases() {
        group(c, case);
    }
}

criterion_group!(rules, benches);
criterion_main!(rules);
