//! Runs the `policy-sim` example binary and checks its exact output and exit status.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    missing_docs
)] // Test code: a failed expectation should panic.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The example binary, built once per test run.
fn binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| test_support::example_binary(env!("CARGO_MANIFEST_DIR"), "policy-sim", &[]))
}

/// Runs the binary; asserts the exact stdout lines and exit status.
fn check(args: &[&str], stdin: &str, lines: &[&str], code: i32) {
    let mut child = Command::new(binary())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let stdout: Vec<String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stdout, lines, "stderr: {stderr}");
    assert_eq!(output.status.code().unwrap(), code, "stderr: {stderr}");
}

const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[
  {"Sid":"Own","Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:us-east-1:123456789012:topic/a/${iot:Certificate.Subject.CommonName.1}"},
  {"Effect":"Deny","Action":"iot:Publish","Resource":"arn:aws:iot:us-east-1:123456789012:topic/a/admin"}]}"#;

#[test]
fn decisions_with_explanations() {
    let input = format!(
        r#"{{"policies":[{POLICY}],"requests":[
        {{"action":"iot:Publish","resource":"arn:aws:iot:us-east-1:123456789012:topic/a/y","context":{{"iot:ClientId":"c1","iot:Certificate.Subject.CommonName":["x","y"]}}}},
        {{"action":"iot:publish","resource":"arn:aws:iot:us-east-1:123456789012:topic/a/admin","context":{{"iot:Certificate.Subject.CommonName":["x","admin"]}}}},
        {{"action":"iot:Connect","resource":"arn:aws:iot:us-east-1:123456789012:client/c1"}}]}}"#
    );
    check(
        &[],
        &input,
        &[concat!(
            r#"{"results":["#,
            r#"{"decision":"ALLOWED","explanation":"ALLOWED iot:Publish on arn:aws:iot:us-east-1:123456789012:topic/a/y\nallowed by policy \"policies[0]\" statement 0 (Sid \"Own\") [Allow]\n${iot:Certificate.Subject.CommonName.1} = \"y\""},"#,
            r#"{"decision":"EXPLICIT_DENY","explanation":"EXPLICIT_DENY iot:Publish on arn:aws:iot:us-east-1:123456789012:topic/a/admin\ndenied by policy \"policies[0]\" statement 1 [Deny]\n${iot:Certificate.Subject.CommonName.1} = \"admin\""},"#,
            r#"{"decision":"IMPLICIT_DENY","explanation":"IMPLICIT_DENY iot:Connect on arn:aws:iot:us-east-1:123456789012:client/c1\nno statement allows it"}"#,
            r#"]}"#
        )],
        0,
    );
}

#[test]
fn all_statements_explains_the_others() {
    let input = format!(
        r#"{{"policies":[{POLICY}],"requests":[{{"action":"iot:Publish","resource":"arn:aws:iot:us-east-1:123456789012:topic/a/z"}}]}}"#
    );
    check(
        &["--all"],
        &input,
        &[concat!(
            r#"{"results":[{"decision":"IMPLICIT_DENY","explanation":"IMPLICIT_DENY iot:Publish on arn:aws:iot:us-east-1:123456789012:topic/a/z\nno statement allows it\n"#,
            r#"${iot:Certificate.Subject.CommonName.1} did not resolve\n"#,
            r#"not applied: policy \"policies[0]\" statement 0 (Sid \"Own\") [Allow]: resource uses a policy variable that did not resolve\n"#,
            r#"not applied: policy \"policies[0]\" statement 1 [Deny]: resource did not match"}]}"#
        )],
        0,
    );
}

#[test]
fn invalid_policy_names_variant_and_path() {
    let input = r#"{"policies":[{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"*"}]},
        {"Version":"2012-10-17","Statement":[{"Effect":"allow","Action":"iot:Connect","Resource":"*"}]}],"requests":[]}"#;
    check(
        &[],
        input,
        &[
            r#"{"error":"BadEffect","message":"Statement[0].Effect: expected \"Allow\" or \"Deny\", found \"allow\" at byte 47","path":"Statement[0].Effect","policy":1}"#,
        ],
        1,
    );
    let duplicate = r#"{"policies":[{"Statement":{"Effect":"Allow","Effect":"Deny","Action":"*","Resource":"*"}}]}"#;
    check(
        &[],
        duplicate,
        &[
            r#"{"error":"DuplicateKey","message":"Statement.Effect: duplicate key \"Effect\" at byte 31","path":"Statement.Effect","policy":0}"#,
        ],
        1,
    );
}

#[test]
fn lint_mode() {
    let input = r#"{"policies":[{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:us-east-1:1:client/*"}]}]}"#;
    check(
        &["--lint"],
        input,
        &[
            r#"{"lints":[{"kind":"ConnectAnyClient","message":"\"arn:aws:iot:us-east-1:1:client/*\" lets a device connect with any client id, including another device's; use client/${iot:Connection.Thing.ThingName}","path":"Statement[0].Resource","policy":0}]}"#,
        ],
        0,
    );
}

#[test]
fn bad_input() {
    check(
        &[],
        "not json",
        &[
            r#"{"error":"Input","message":"input is not a JSON object: expected ident at line 1 column 2","path":""}"#,
        ],
        2,
    );
    check(
        &[],
        r#"{"policies":[],"requests":[{"action":"iot:Fly","resource":"x"}]}"#,
        &[
            r#"{"error":"Input","message":"expected an AWS IoT action name such as \"iot:Publish\"","path":"requests[0].action"}"#,
        ],
        2,
    );
}
