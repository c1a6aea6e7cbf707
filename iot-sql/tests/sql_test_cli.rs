//! Runs the `sql-test` example binary and checks its exact output and exit status.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

fn binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| test_support::example_binary(env!("CARGO_MANIFEST_DIR"), "sql-test", &[]))
}

fn run(stdin: &str) -> (String, i32) {
    let mut child = Command::new(binary())
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
    let out = child.wait_with_output().unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        out.status.code().unwrap(),
    )
}

#[test]
fn matched_with_templates() {
    let case = r#"{"sql":"SELECT temp * 2 AS t, 1.5 AS d, topic(2) AS dev FROM 'a/+' WHERE temp > 10","sql_version":"2016-03-23","topic":"a/b","payload":{"temp":21},"context":{"clientid":"c1","timestamp":1700000000000,"principal":"p","accountid":"123456789012"},"templates":["${topic(2)}","${clientid()}/${timestamp()}"]}"#;
    assert_eq!(
        run(case),
        (
            "{\"matched\":true,\"output\":{\"d\":1.5,\"dev\":\"b\",\"t\":42},\"template_results\":[\"b\",\"c1/1700000000000\"]}\n".to_owned(),
            0
        )
    );
}

#[test]
fn not_matched() {
    let case =
        r#"{"sql":"SELECT * FROM 'a/+' WHERE temp > 10","topic":"a/b","payload":{"temp":1}}"#;
    assert_eq!(run(case), ("{\"matched\":false}\n".to_owned(), 0));
    let case = r#"{"sql":"SELECT * FROM 'x'","topic":"a/b","payload":{}}"#;
    assert_eq!(run(case), ("{\"matched\":false}\n".to_owned(), 0));
}

#[test]
fn expressions() {
    assert_eq!(
        run(r#"{"expr":"0.1 + 0.2"}"#),
        ("{\"value\":0.3}\n".to_owned(), 0)
    );
    assert_eq!(
        run(r#"{"expr":"2 * 3"}"#),
        ("{\"value\":6}\n".to_owned(), 0)
    );
    assert_eq!(
        run(r#"{"expr":"missing"}"#),
        ("{\"value\":{\"undefined\":true}}\n".to_owned(), 0)
    );
    assert_eq!(
        run(r#"{"expr":"power(2, 5)","sql_version":"2015-10-08"}"#),
        ("{\"value\":32.0}\n".to_owned(), 0)
    );
}

#[test]
fn binary_payload() {
    let case = r#"{"sql":"SELECT encode(*, 'base64') AS b FROM 'bin'","sql_version":"2016-03-23","topic":"bin","payload_base64":"/wAQeA=="}"#;
    assert_eq!(
        run(case),
        (
            "{\"matched\":true,\"output\":{\"b\":\"/wAQeA==\"},\"template_results\":[]}\n"
                .to_owned(),
            0
        )
    );
}

#[test]
fn errors() {
    assert_eq!(
        run(r#"{"sql":"SELECT FROM 'a'"}"#),
        (
            "{\"error\":{\"kind\":\"Parse\",\"line\":1,\"column\":8,\"message\":\"expected an expression, found `FROM`\"}}\n".to_owned(),
            1
        )
    );
    let (out, code) = run("not json");
    assert_eq!(code, 1);
    assert!(out.starts_with("{\"error\":{\"kind\":\"Input\""), "{out}");
    let (out, code) = run(r#"{"sql":"SELECT 1","sql_version":"2099"}"#);
    assert_eq!(code, 1);
    assert!(out.contains("unknown SQL version"), "{out}");
}
