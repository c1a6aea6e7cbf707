//! Runs one rule (or one expression) against one message, described as JSON on stdin:
//!
//! ```text
//! cargo run -q -p iot-sql --example sql-test < case.json
//! {"sql":"SELECT …","sql_version":"2016-03-23","topic":"a/b","payload":{…},
//!  "context":{"clientid":"c1","timestamp":1700000000000,"principal":"…","accountid":"123456789012"},
//!  "templates":["${topic(2)}"]}
//! ```
//!
//! `"payload_base64"` gives a binary payload instead of `"payload"`; `"expr"` instead of
//! `"sql"` evaluates one expression. Prints `{"matched":true,"output":…,"template_results":[…]}`,
//! `{"matched":false}`, `{"value":…}` (Undefined is `{"undefined":true}`), or
//! `{"error":{"kind":"Parse","line":1,"column":8,"message":"…"}}` and exits with status 1.
//! Numbers keep their SQL type: an Int prints without a decimal point, a Decimal exactly.

use std::io::Read;
use std::process::ExitCode;

use base64::Engine as _;
use iot_sql::{
    Context, Message, ParseError, Rule, SqlVersion, Template, Value, evaluate_expression,
    parse_expression,
};

fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

fn error(kind: &str, message: String) -> ExitCode {
    println!(
        "{{\"error\":{{\"kind\":{},\"message\":{}}}}}",
        quoted(kind),
        quoted(&message)
    );
    ExitCode::FAILURE
}

/// Keys in the documented order: kind, line, column, message.
fn parse_error(e: &ParseError) -> ExitCode {
    println!(
        "{{\"error\":{{\"kind\":\"Parse\",\"line\":{},\"column\":{},\"message\":{}}}}}",
        e.line,
        e.column,
        quoted(&e.kind.to_string())
    );
    ExitCode::FAILURE
}

/// The JSON text of a value, `{"undefined":true}` for Undefined.
fn value_json(v: &Value) -> String {
    if v.is_undefined() {
        return r#"{"undefined":true}"#.to_owned();
    }
    v.to_json_string()
}

fn text(case: &serde_json::Value, key: &str) -> Option<String> {
    case.get(key).and_then(|v| v.as_str()).map(str::to_owned)
}

fn main() -> ExitCode {
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        return error("Input", format!("cannot read stdin: {e}"));
    }
    let case: serde_json::Value = match serde_json::from_str(&input) {
        Ok(v) => v,
        Err(e) => return error("Input", format!("stdin is not a JSON object: {e}")),
    };
    let version = match case.get("sql_version").and_then(|v| v.as_str()) {
        None => SqlVersion::default(),
        Some(v) => match v.parse() {
            Ok(v) => v,
            Err(e) => return error("Input", format!("{e}")),
        },
    };
    let topic = text(&case, "topic").unwrap_or_default();
    let payload = if let Some(b64) = text(&case, "payload_base64") {
        match base64::engine::general_purpose::STANDARD.decode(b64) {
            Ok(bytes) => bytes,
            Err(e) => return error("Input", format!("payload_base64 is not base64: {e}")),
        }
    } else {
        match case.get("payload") {
            Some(p) => serde_json::to_vec(p).unwrap_or_default(),
            None => b"{}".to_vec(),
        }
    };
    let ctx_json = case.get("context").cloned().unwrap_or_default();
    let ctx = Context {
        clientid: text(&ctx_json, "clientid"),
        timestamp: ctx_json
            .get("timestamp")
            .and_then(|t| t.as_i64())
            .unwrap_or(0),
        principal: text(&ctx_json, "principal"),
        accountid: text(&ctx_json, "accountid"),
        traceid: text(&ctx_json, "traceid"),
        sourceip: text(&ctx_json, "sourceip"),
    };
    let message = Message {
        topic: &topic,
        payload: &payload,
        context: &ctx,
    };

    if let Some(expr) = text(&case, "expr") {
        let e = match parse_expression(&expr, version) {
            Ok(e) => e,
            Err(e) => return parse_error(&e),
        };
        return match evaluate_expression(&e, version, &message) {
            Ok(v) => {
                println!("{{\"value\":{}}}", value_json(&v));
                ExitCode::SUCCESS
            }
            Err(e) => error("Eval", e.to_string()),
        };
    }

    let Some(sql) = text(&case, "sql") else {
        return error("Input", "the case needs \"sql\" or \"expr\"".to_owned());
    };
    let rule = match Rule::parse(&sql, version) {
        Ok(r) => r,
        Err(e) => return parse_error(&e),
    };
    let mut templates = Vec::new();
    for t in case
        .get("templates")
        .and_then(|t| t.as_array())
        .into_iter()
        .flatten()
    {
        let Some(t) = t.as_str() else {
            return error("Input", "templates must be strings".to_owned());
        };
        match Template::parse(t) {
            Ok(t) => templates.push(t),
            Err(e) => return parse_error(&e),
        }
    }
    let refs: Vec<&Template> = templates.iter().collect();
    match rule.evaluate_with(&message, &refs) {
        Ok(None) => {
            println!("{{\"matched\":false}}");
            ExitCode::SUCCESS
        }
        Ok(Some(out)) => {
            let rendered = serde_json::to_string(&out.templates).unwrap_or_default();
            println!(
                "{{\"matched\":true,\"output\":{},\"template_results\":{rendered}}}",
                value_json(&out.value)
            );
            ExitCode::SUCCESS
        }
        Err(e) => error("Eval", e.to_string()),
    }
}
