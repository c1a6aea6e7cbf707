//! `policy-sim`: the IAM policy simulator for AWS IoT policies, on the command line.
//!
//! Reads `{"policies":[<policy document>, ...], "requests":[{"action":"iot:Publish",
//! "resource":"arn:...", "context":{"iot:ClientId":"c1", "iot:Certificate.Subject.CommonName":
//! ["x","y"]}}]}` on stdin and prints `{"results":[{"decision":"ALLOWED","explanation":"..."}]}`.
//!
//! Options: `--all` explains why every other statement did not apply; `--lint` prints lint
//! warnings for the policies instead of deciding requests.
//!
//! Exit status: 0 on success, 1 for an invalid policy (printed as
//! `{"error":"<Variant>","path":"Statement[0].Effect","message":"...","policy":0}`), 2 for
//! unreadable input.
#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::io::Read;
use std::process::ExitCode;

use iot_policy::{Action, ParseOptions, Policy, PolicySet, RequestContext};
use serde_json::value::RawValue;
use serde_json::{Value, json};

fn fail(code: u8, error: &str, path: &str, message: &str) -> ExitCode {
    println!(
        "{}",
        json!({"error": error, "path": path, "message": message})
    );
    ExitCode::from(code)
}

/// A context value: one string or a list of strings.
fn strings(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => None,
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let all = args.iter().any(|a| a == "--all");
    let lint = args.iter().any(|a| a == "--lint");
    if let Some(bad) = args.iter().find(|a| *a != "--all" && *a != "--lint") {
        return fail(
            2,
            "Usage",
            "",
            &format!("unknown argument {bad:?}; options: --all, --lint"),
        );
    }
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        return fail(2, "Input", "", &format!("cannot read stdin: {e}"));
    }
    // Policies stay raw text, so that their errors carry offsets into the document as written
    // and duplicate keys are seen by the policy parser.
    let doc: BTreeMap<String, Box<RawValue>> = match serde_json::from_str(&input) {
        Ok(doc) => doc,
        Err(e) => return fail(2, "Input", "", &format!("input is not a JSON object: {e}")),
    };
    let raw_policies: Vec<Box<RawValue>> =
        match doc.get("policies").map(|p| serde_json::from_str(p.get())) {
            Some(Ok(p)) => p,
            _ => {
                return fail(
                    2,
                    "Input",
                    "policies",
                    "\"policies\" must be an array of policy documents",
                );
            }
        };
    let mut policies = Vec::new();
    for (i, raw) in raw_policies.iter().enumerate() {
        // A policy may also be given as a JSON string holding the document.
        let text = match serde_json::from_str::<String>(raw.get()) {
            Ok(s) => s,
            Err(_) => raw.get().to_owned(),
        };
        match Policy::parse(&text, &ParseOptions::default()) {
            Ok(p) => policies.push((format!("policies[{i}]"), p)),
            Err(e) => {
                println!(
                    "{}",
                    json!({"error": e.kind().name(), "path": e.path(), "message": e.to_string(), "policy": i})
                );
                return ExitCode::from(1);
            }
        }
    }
    if lint {
        let lints: Vec<Value> = policies
            .iter()
            .enumerate()
            .flat_map(|(i, (_, p))| {
                p.lint().into_iter().map(move |l| {
                    json!({"policy": i, "kind": format!("{:?}", l.kind), "path": l.path, "message": l.message})
                })
            })
            .collect();
        println!("{}", json!({ "lints": lints }));
        return ExitCode::SUCCESS;
    }
    let requests: Vec<Value> = match doc.get("requests").map(|r| serde_json::from_str(r.get())) {
        Some(Ok(r)) => r,
        None => Vec::new(),
        Some(Err(_)) => return fail(2, "Input", "requests", "\"requests\" must be an array"),
    };
    let set = PolicySet::compile(policies);
    let mut results = Vec::new();
    for (i, req) in requests.iter().enumerate() {
        let Some(action) = req["action"].as_str().and_then(Action::from_name) else {
            return fail(
                2,
                "Input",
                &format!("requests[{i}].action"),
                "expected an AWS IoT action name such as \"iot:Publish\"",
            );
        };
        let Some(resource) = req["resource"].as_str() else {
            return fail(
                2,
                "Input",
                &format!("requests[{i}].resource"),
                "expected a resource ARN string",
            );
        };
        let mut context: Vec<(String, Vec<String>)> = Vec::new();
        if let Some(map) = req["context"].as_object() {
            for (key, value) in map {
                let Some(values) = strings(value) else {
                    return fail(
                        2,
                        "Input",
                        &format!("requests[{i}].context.{key}"),
                        "expected a string or an array of strings",
                    );
                };
                context.push((key.clone(), values));
            }
        }
        let borrowed: Vec<Vec<&str>> = context
            .iter()
            .map(|(_, v)| v.iter().map(String::as_str).collect())
            .collect();
        let other: Vec<(&str, &[&str])> = context
            .iter()
            .zip(&borrowed)
            .map(|((k, _), v)| (k.as_str(), v.as_slice()))
            .collect();
        let first = |name: &str| {
            other
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .and_then(|(_, v)| v.first().copied())
        };
        let ctx = RequestContext {
            client_id: first("iot:ClientId"),
            thing_name: first("iot:Connection.Thing.ThingName"),
            other: &other,
            ..Default::default()
        };
        let explanation = set.explain(action, resource, &ctx, all);
        results.push(json!({"decision": explanation.decision.as_str(), "explanation": explanation.to_string()}));
    }
    println!("{}", json!({ "results": results }));
    ExitCode::SUCCESS
}
