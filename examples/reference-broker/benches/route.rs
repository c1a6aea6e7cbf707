//! Matching one topic against many subscriptions: the broker's trie (mqtt-wire's
//! `SubscriptionTrie`) next to a linear scan
//! with `mqtt_wire::topic::matches` (what a broker without an index does).
#![allow(missing_docs, clippy::unwrap_used, clippy::arithmetic_side_effects)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use mqtt_wire::{QoS, SubscriptionTrie, TopicFilter, TopicName};

/// `n` devices each subscribed to `devices/<i>/cmd/#`, plus a few fleet-wide filters.
fn filters(n: usize) -> Vec<String> {
    let mut f: Vec<String> = (0..n).map(|i| format!("devices/{i}/cmd/#")).collect();
    f.push("devices/+/status".to_owned());
    f.push("#".to_owned());
    f
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("match_topic");
    for n in [100usize, 10_000] {
        let fs = filters(n);
        let mut trie = SubscriptionTrie::new();
        let parsed: Vec<(Arc<str>, TopicFilter)> = fs
            .iter()
            .enumerate()
            .map(|(i, f)| (Arc::from(format!("c{i}")), TopicFilter::new(f).unwrap()))
            .collect();
        for (client, f) in &parsed {
            trie.insert(f, Arc::clone(client), QoS::AtLeastOnce);
        }
        let topic = format!("devices/{}/cmd/reboot", n / 2);
        let name = TopicName::new(&topic).unwrap();
        group.bench_with_input(BenchmarkId::new("trie", n), &name, |b, t| {
            b.iter(|| black_box(trie.matches(black_box(t))).len())
        });
        group.bench_with_input(BenchmarkId::new("linear_scan", n), &name, |b, t| {
            b.iter(|| {
                parsed
                    .iter()
                    .filter(|(_, f)| f.matches(black_box(t)))
                    .count()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
