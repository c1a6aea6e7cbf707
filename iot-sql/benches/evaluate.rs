//! Rule evaluation against `serde_json::from_slice` of the same payload (the floor: a rule
//! must at least read the JSON). Target: evaluation ≤ 1.3× the bare parse.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use iot_sql::{Context, Message, Rule, SqlVersion};

fn group(c: &mut Criterion, name: &str, sql: &str, topic: &str, payload: &[u8]) {
    let rule = Rule::parse(sql, SqlVersion::V2016_03_23).unwrap();
    let ctx = Context {
        clientid: Some("c1".into()),
        timestamp: 1_700_000_000_000,
        ..Default::default()
    };
    let msg = Message {
        topic,
        payload,
        context: &ctx,
    };
    assert!(rule.evaluate(&msg).unwrap().is_some(), "{name} must match");
    let mut g = c.benchmark_group(name);
    g.bench_function("serde_json::from_slice", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(payload)).unwrap())
    });
    // The payload parse alone, into this crate's values (exact decimals): the part of
    // `evaluate` that no rule can skip.
    g.bench_function("Value::from_json_slice", |b| {
        b.iter(|| iot_sql::Value::from_json_slice(black_box(payload)).unwrap())
    });
    g.bench_function("evaluate", |b| {
        b.iter(|| rule.evaluate(black_box(&msg)).unwrap())
    });
    g.bench_function("evaluate+to_json_bytes", |b| {
        b.iter(|| {
            rule.evaluate(black_box(&msg))
                .unwrap()
                .map(|o| o.to_json_bytes())
        })
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    // SCENARIOS.md §2: the greenhouse lux probe (101 bytes).
    let greenhouse = br#"{"Thing":"greenhouse_lux_probe_1","lux":36012,"temperature":24.5,"humidity":61,"battery":"ok"}"#;
    group(
        c,
        "greenhouse",
        "SELECT * FROM '/topic/Greenhouse/LuxSensors' WHERE lux > 35000",
        "/topic/Greenhouse/LuxSensors",
        greenhouse,
    );
    // SCENARIOS.md §3: a Sigfox callback body, every value a string.
    let sigfox = br#"{"device":"1A2B3C","data":"0102a0ff","time":"1493750762","snr":"18.5","station":"0A1B","avgSnr":"20.1","lat":"45","lng":"-122","rssi":"-120.0","seqNumber":"12"}"#;
    group(c, "sigfox", "SELECT * FROM 'sigfox'", "sigfox", sigfox);
    group(
        c,
        "functions",
        "SELECT upper(device) AS d, substring(data, 0, 2) AS b, snr * 2 AS s, md5(device) AS h, \
         round(rssi / 10) AS r, concat(station, '-', seqNumber) AS k, \
         regexp_matches(data, '^[0-9a-f]+$') AS hex, topic() AS t, timestamp() AS ts \
         FROM 'sigfox' WHERE startswith(device, '1A') AND cast(seqNumber AS Int) > 3",
        "sigfox",
        sigfox,
    );
    let mut nested = String::from("{\"e\":[");
    for i in 0..100 {
        if i > 0 {
            nested.push(',');
        }
        nested.push_str(&format!("{{\"n\":\"s{i}\",\"v\":{i}}}"));
    }
    nested.push_str("]}");
    group(
        c,
        "nested_select_100",
        "SELECT (SELECT VALUE v FROM e WHERE v > 49) AS big FROM 't'",
        "t",
        nested.as_bytes(),
    );
}

criterion_group!(evaluate, benches);
criterion_main!(evaluate);
