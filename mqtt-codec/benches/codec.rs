//! Decode and encode throughput of `mqtt-wire` side by side with two peers: the MQTT 3.1.1
//! (`v4`) codec inside `rumqttc` and `mqttrs`.
//!
//! Every group benchmarks one case with all three implementations on exactly the same bytes
//! (written by our encoder) and reports `Throughput::Elements` = packets per iteration. Before a
//! group runs, each implementation decodes the whole input and encodes the whole packet list, and
//! both results are compared with the reference, so a benchmark of a broken decoder or encoder
//! cannot pass silently.
//!
//! - Single-packet cases put `REPEAT` copies of the packet back to back and decode all of them per
//!   iteration; the encode benches encode the same value `REPEAT` times.
//! - The mixed case is a deterministic stream of `MIXED_LEN` packets a server receives from its
//!   clients: one CONNECT, mostly PUBLISH QoS 0/1 of various sizes, PUBACKs, PINGREQs, a few
//!   SUBSCRIBE/UNSUBSCRIBE, one DISCONNECT.
//! - `mqtt-wire-borrowed` is this crate's `decode_slice`, which borrows from the input like
//!   `mqttrs` and steps through the stream by the length it returns.
//! - `mqtt-wire` and `rumqttc` decode from a fresh `BytesMut` made by `iter_batched`'s setup
//!   (outside the timing; the emptied buffer is returned so its memory is freed outside the timing
//!   too). `mqttrs` decodes from a borrowed slice, which needs no copy; it does not report how
//!   many bytes a packet used, so the frame lengths are computed once in setup, which spares it
//!   the work of finding the next frame.
//! - Encoding goes through each library's packet-level API (`Encode for Packet`,
//!   `rumqttc::mqttbytes::v4::Packet::write`, `mqttrs::encode_slice`), into a buffer reserved once
//!   and cleared (or, for `mqttrs`, overwritten) every iteration. rumqttc 0.25 writes a correct
//!   CONNECT only at the start of a buffer (it patches the flags in at an absolute index), so its
//!   CONNECTs are written to an emptied buffer, which flatters it a little.
//!
//! The `subscriptions` group has no peer: it times `SubscriptionTrie::matches` over 20,100
//! subscriptions, and on the deepest filter MQTT allows.
//!
//! `cargo bench -p mqtt-wire --bench codec`; add a filter such as `decode` or `mixed` to run fewer.

// Benchmark harness: the inputs are our own and a failed setup check must stop the run, so
// unwrap/expect/panic/indexing/arithmetic are fine here, and a benchmark has no API to document.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    missing_docs
)]

mod common;

use std::hint::black_box;
use std::time::Duration;

use bytes::BytesMut;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use mqtt_wire::{DecodeOptions, QoS, SubscriptionTrie, TopicFilter, TopicName};

use common::{
    Prepared, decode_mqttrs, decode_ours, decode_ours_borrowed, decode_rumqttc, encode_mqttrs,
    encode_ours, encode_rumqttc, prepare, to_mqttrs, to_rumqttc,
};
use rumqttc::mqttbytes::v4 as rq;

fn decode_benches(c: &mut Criterion) {
    let options = DecodeOptions::server();
    for Prepared {
        case,
        wire,
        lengths,
        ..
    } in prepare()
    {
        let count = case.packets();
        eprintln!("{}: {count} packets, {} bytes", case.name, wire.len());
        let mut group = c.benchmark_group(format!("decode_{}", case.name));
        group.throughput(Throughput::Elements(u64::try_from(count).unwrap()));

        // With iterations of tens of microseconds and more, LargeInput makes batches of one input:
        // each iteration decodes a buffer just copied by the (untimed) setup.
        group.bench_function("mqtt-wire", |b| {
            b.iter_batched(
                || BytesMut::from(&wire[..]),
                |mut buf| {
                    decode_ours(&mut buf, count, &options);
                    buf
                },
                BatchSize::LargeInput,
            );
        });
        group.bench_function("mqtt-wire-borrowed", |b| {
            b.iter(|| decode_ours_borrowed(&wire, count, &options));
        });
        group.bench_function("rumqttc", |b| {
            b.iter_batched(
                || BytesMut::from(&wire[..]),
                |mut buf| {
                    decode_rumqttc(&mut buf, count);
                    buf
                },
                BatchSize::LargeInput,
            );
        });
        group.bench_function("mqttrs", |b| {
            b.iter(|| decode_mqttrs(&wire, &lengths));
        });
        group.finish();
    }
}

fn encode_benches(c: &mut Criterion) {
    for Prepared {
        case, ours, wire, ..
    } in prepare()
    {
        let rumqttc: Vec<rq::Packet> = case.items.iter().map(to_rumqttc).collect();
        let mqttrs: Vec<mqttrs::Packet<'_>> = case.items.iter().map(to_mqttrs).collect();
        let mut group = c.benchmark_group(format!("encode_{}", case.name));
        group.throughput(Throughput::Elements(u64::try_from(case.packets()).unwrap()));

        let mut buf = BytesMut::with_capacity(wire.len());
        group.bench_function("mqtt-wire", |b| {
            b.iter(|| {
                encode_ours(&ours, case.repeat, &mut buf);
                black_box(buf.len())
            });
        });

        let mut buf = BytesMut::with_capacity(wire.len());
        group.bench_function("rumqttc", |b| {
            b.iter(|| {
                encode_rumqttc(&rumqttc, case.repeat, &mut buf);
                black_box(buf.len())
            });
        });

        let mut out = vec![0u8; wire.len()];
        group.bench_function("mqttrs", |b| {
            b.iter(|| black_box(encode_mqttrs(&mqttrs, case.repeat, &mut out)));
        });
        group.finish();
    }
}

fn subscription_benches(c: &mut Criterion) {
    let filter = |text: &str| TopicFilter::new(text).unwrap();
    // 10,000 devices each subscribed to their own state and everything below them, and 100
    // monitors of every device's sensor state: 20,100 subscriptions, 101 of them match.
    let mut trie = SubscriptionTrie::new();
    for device in 0..10_000_u32 {
        trie.insert(
            &filter(&format!("devices/{device}/+/state")),
            device,
            QoS::AtLeastOnce,
        );
        trie.insert(
            &filter(&format!("devices/{device}/#")),
            device,
            QoS::AtMostOnce,
        );
    }
    for monitor in 10_000..10_100_u32 {
        trie.insert(&filter("devices/+/sensor/state"), monitor, QoS::AtMostOnce);
    }
    let topic = TopicName::new("devices/4242/sensor/state").unwrap();
    let matched = trie.matches(&topic);
    assert_eq!(matched.len(), 101);
    assert_eq!(matched[0], (4242, QoS::AtLeastOnce));

    let mut group = c.benchmark_group("subscriptions");
    group.bench_function("match_20k", |b| {
        b.iter(|| black_box(trie.matches(black_box(&topic))));
    });
    // The deepest filter: 65,536 empty levels, matched by a topic of the same shape.
    let slashes = "/".repeat(65_535);
    let mut deep = SubscriptionTrie::new();
    deep.insert(&filter(&slashes), 1_u32, QoS::AtMostOnce);
    let deep_topic = TopicName::new(&slashes).unwrap();
    assert_eq!(deep.matches(&deep_topic).len(), 1);
    group.bench_function("match_65536_levels", |b| {
        b.iter(|| black_box(deep.matches(black_box(&deep_topic))));
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30)
}

criterion_group! {
    name = benches;
    config = config();
    targets = decode_benches, encode_benches, subscription_benches
}
criterion_main!(benches);
