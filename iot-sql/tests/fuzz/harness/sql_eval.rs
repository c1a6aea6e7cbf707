//! Arbitrary SQL plus an arbitrary payload, topic and template. Invariants: evaluation never
//! panics or hangs; an output always serializes; a JSON output is valid JSON.

use arbitrary::Arbitrary;
use iot_sql::{Context, Message, Rule, SqlVersion, Template, Value};

/// A rule, its SQL version, a message and a substitution template.
#[derive(Debug, Arbitrary)]
pub struct Input {
    sql: String,
    version: u8,
    topic: String,
    payload: Vec<u8>,
    template: String,
}

/// One fuzz input: panics on a broken invariant.
pub fn run(input: Input) {
    let version = [
        SqlVersion::V2015_10_08,
        SqlVersion::V2016_03_23,
        SqlVersion::Beta,
    ][usize::from(input.version % 3)];
    // Prefix a SELECT so most inputs reach the evaluator.
    let sql =
        if input.sql.to_ascii_uppercase().starts_with("SELECT") || input.sql.starts_with("SET") {
            input.sql.clone()
        } else {
            format!("SELECT {}", input.sql)
        };
    let Ok(rule) = Rule::parse(&sql, version) else {
        return;
    };
    // The evaluator reads the bytes as JSON when they are a JSON document, as binary otherwise.
    let payload = input.payload;
    let ctx = Context {
        clientid: Some("c1".into()),
        timestamp: 1_700_000_000_000,
        ..Default::default()
    };
    let msg = Message {
        topic: if input.topic.is_empty() {
            "a/b"
        } else {
            &input.topic
        },
        payload: &payload,
        context: &ctx,
    };
    let template = Template::parse(&input.template).ok();
    let templates: Vec<&Template> = template.iter().collect();
    if let Ok(Some(out)) = rule.evaluate_with(&msg, &templates) {
        let bytes = out.to_json_bytes();
        if !matches!(out.value, Value::Binary(_) | Value::Undefined) {
            // serde_json (without arbitrary_precision) rejects numbers beyond a double's range,
            // which AWS's decimals (up to 9.999E999) can reach: that is not a defect.
            if let Err(e) = serde_json::from_slice::<serde_json::Value>(&bytes) {
                assert!(
                    e.to_string().contains("number out of range"),
                    "output {:?} is not JSON: {e}",
                    String::from_utf8_lossy(&bytes)
                );
            }
        }
    }
}
