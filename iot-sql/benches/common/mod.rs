//! The rules and payloads both benches measure (`evaluate.rs` for times, `instructions.rs`
//! for callgrind counts), and the one way each is run.
#![allow(dead_code, unreachable_pub)]

use iot_sql::{Context, Message, Output, Rule, SqlVersion};

/// One rule against one payload.
pub struct Case {
    pub name: &'static str,
    pub sql: &'static str,
    pub topic: &'static str,
    pub payload: Vec<u8>,
}

pub fn cases() -> Vec<Case> {
    // SCENARIOS.md §3: a Sigfox callback body, every value a string.
    let sigfox = br#"{"device":"1A2B3C","data":"0102a0ff","time":"1493750762","snr":"18.5","station":"0A1B","avgSnr":"20.1","lat":"45","lng":"-122","rssi":"-120.0","seqNumber":"12"}"#;
    let mut nested = String::from("{\"e\":[");
    for i in 0..100 {
        if i > 0 {
            nested.push(',');
        }
        nested.push_str(&format!("{{\"n\":\"s{i}\",\"v\":{i}}}"));
    }
    nested.push_str("]}");
    vec![
        // SCENARIOS.md §2: the greenhouse lux probe (101 bytes).
        Case {
            name: "greenhouse",
            sql: "SELECT * FROM '/topic/Greenhouse/LuxSensors' WHERE lux > 35000",
            topic: "/topic/Greenhouse/LuxSensors",
            payload: br#"{"Thing":"greenhouse_lux_probe_1","lux":36012,"temperature":24.5,"humidity":61,"battery":"ok"}"#.to_vec(),
        },
        Case {
            name: "sigfox",
            sql: "SELECT * FROM 'sigfox'",
            topic: "sigfox",
            payload: sigfox.to_vec(),
        },
        Case {
            name: "functions",
            sql: "SELECT upper(device) AS d, substring(data, 0, 2) AS b, snr * 2 AS s, md5(device) AS h, \
                  round(rssi / 10) AS r, concat(station, '-', seqNumber) AS k, \
                  regexp_matches(data, '^[0-9a-f]+$') AS hex, topic() AS t, timestamp() AS ts \
                  FROM 'sigfox' WHERE startswith(device, '1A') AND cast(seqNumber AS Int) > 3",
            topic: "sigfox",
            payload: sigfox.to_vec(),
        },
        Case {
            name: "nested_select_100",
            sql: "SELECT (SELECT VALUE v FROM e WHERE v > 49) AS big FROM 't'",
            topic: "t",
            payload: nested.into_bytes(),
        },
    ]
}

/// The case's rule, compiled, and the context its messages carry.
pub fn prepare(case: &Case) -> (Rule, Context) {
    let rule = Rule::parse(case.sql, SqlVersion::V2016_03_23).unwrap();
    let context = Context {
        clientid: Some("c1".into()),
        timestamp: 1_700_000_000_000,
        ..Default::default()
    };
    (rule, context)
}

/// One evaluation; the case must match.
pub fn evaluate(rule: &Rule, case: &Case, context: &Context) -> Option<Output> {
    let message = Message {
        topic: case.topic,
        payload: &case.payload,
        context,
    };
    rule.evaluate(&message).unwrap()
}
