//! Helpers shared by the test files.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use iot_sql::{Context, Message, Rule, SqlVersion, Value, evaluate_expression, parse_expression};

pub const V1: SqlVersion = SqlVersion::V2015_10_08;
pub const V2: SqlVersion = SqlVersion::V2016_03_23;

pub fn context() -> Context {
    Context {
        clientid: Some("c1".to_owned()),
        timestamp: 1_700_000_000_000,
        principal: Some(
            "ba67293af50bf2506f5f93469686da660c7c844e7b3950bfb16813e0d31e9373".to_owned(),
        ),
        accountid: Some("123456789012".to_owned()),
        traceid: Some("12345678-1234-1234-1234-123456789012".to_owned()),
        sourceip: Some("198.51.100.7".to_owned()),
    }
}

/// Evaluates `expr` in `version` against `payload` on topic `a/b/c`.
pub fn value_in(version: SqlVersion, expr: &str, payload: &str) -> Value {
    let e = parse_expression(expr, version).unwrap_or_else(|err| panic!("{expr}: {err}"));
    let ctx = context();
    let msg = Message {
        topic: "things/myThings/thingOne",
        payload: payload.as_bytes(),
        context: &ctx,
    };
    evaluate_expression(&e, version, &msg).unwrap()
}

/// The JSON text of `expr`'s value in 2016-03-23 (`undefined` for Undefined).
pub fn v2(expr: &str) -> String {
    value_in(V2, expr, "{}").to_string()
}

/// The JSON text of `expr`'s value in 2015-10-08.
pub fn v1(expr: &str) -> String {
    value_in(V1, expr, "{}").to_string()
}

/// Runs a whole rule: the output's JSON text, or "no match".
pub fn run(version: SqlVersion, sql: &str, topic: &str, payload: &str) -> String {
    let rule = Rule::parse(sql, version).unwrap_or_else(|err| panic!("{sql}: {err}"));
    let ctx = context();
    let msg = Message {
        topic,
        payload: payload.as_bytes(),
        context: &ctx,
    };
    match rule.evaluate(&msg).unwrap() {
        Some(out) => String::from_utf8(out.to_json_bytes()).unwrap(),
        None => "no match".to_owned(),
    }
}
