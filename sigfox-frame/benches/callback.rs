//! Callbacks per second: parse the scenario-3 body (every value a string), decode its payload
//! and build the normalized message, next to `serde_json::from_slice` of the same body into a
//! `serde_json::Value` — the floor any JSON callback handler pays. Plus payload decoding alone
//! and radio-frame decoding with MAC verification.
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

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sigfox_frame::{
    Callback, CallbackKind, CallbackOptions, PayloadFormat, TopicTemplate, UplinkFrame,
};

const BODY: &[u8] = br#"{"device":"B92A4","data":"c01234567890abcdef012345","time":"1476980426","snr":"12.34","station":"0A1B","avgSnr":"15.02","lat":"43.0","lng":"1.0","rssi":"-123.45","seqNumber":"1234"}"#;
const FORMAT: &str = "b1::bool:7 b2::bool:6 i1:1:uint:16 temp:3:int:12:big-endian:3 hum:5:uint:8 v:6:uint:32:little-endian";

fn callbacks(c: &mut Criterion) {
    let options = CallbackOptions::new();
    let format = PayloadFormat::parse(FORMAT).unwrap();
    let topic = TopicTemplate::parse("sigfox/{device}").unwrap();
    let mut g = c.benchmark_group("callback");
    g.throughput(Throughput::Elements(1));
    g.bench_function("serde_json::from_slice Value (floor)", |b| {
        b.iter(|| black_box(serde_json::from_slice::<serde_json::Value>(black_box(BODY)).unwrap()))
    });
    g.bench_function("sigfox-frame parse", |b| {
        b.iter(|| {
            black_box(
                Callback::parse(CallbackKind::DataUplink, black_box(BODY), None, &options).unwrap(),
            )
        })
    });
    g.bench_function("sigfox-frame parse + decode + to_message", |b| {
        b.iter(|| {
            let cb =
                Callback::parse(CallbackKind::DataUplink, black_box(BODY), None, &options).unwrap();
            black_box(cb.to_message(Some(&format), &topic))
        })
    });
    g.finish();

    let mut g = c.benchmark_group("payload");
    g.throughput(Throughput::Elements(1));
    let data = [
        0xc0, 0x12, 0x34, 0x56, 0x78, 0x90, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45,
    ];
    g.bench_function("decode 6 fields", |b| {
        b.iter(|| black_box(format.decode(black_box(&data)).unwrap()))
    });
    g.bench_function("decode 6 fields to JSON", |b| {
        b.iter(|| black_box(format.decode(black_box(&data)).unwrap().to_json()))
    });
    g.bench_function("parse format", |b| {
        b.iter(|| black_box(PayloadFormat::parse(black_box(FORMAT)).unwrap()))
    });
    g.finish();

    let mut g = c.benchmark_group("frame");
    g.throughput(Throughput::Elements(1));
    let key = [
        0x47, 0x9e, 0x44, 0x80, 0xfd, 0x75, 0x96, 0xd4, 0x5b, 0x01, 0x22, 0xfd, 0x28, 0x2d, 0xb3,
        0xcf,
    ];
    g.bench_function("decode replica 3 + verify MAC", |b| {
        b.iter(|| {
            let f =
                UplinkFrame::from_hex(black_box("aaaaa5a301c8edff9e4081465a906b3ee8e8")).unwrap();
            black_box(f.verify_mac(&key))
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = callbacks
}
criterion_main!(benches);
