//! Parsing: every rejection has an exact kind, JSON path and byte offset.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)] // Test code: a failed expectation should panic.

use iot_policy::{Effect, ParseOptions, Policy, PolicyErrorKind, Version};

fn err(text: &str) -> (PolicyErrorKind, String, usize) {
    let e = Policy::parse(text, &ParseOptions::default()).unwrap_err();
    (e.kind().clone(), e.path().to_owned(), e.offset())
}

fn kind_path(text: &str) -> (String, String) {
    let (kind, path, _) = err(text);
    (kind.name().to_owned(), path)
}

const V: &str = r#""Version":"2012-10-17""#;

#[test]
fn error_display_names_path_rule_and_offset() {
    let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"allow","Action":"iot:Connect","Resource":"*"}]}"#;
    let e = Policy::parse(text, &ParseOptions::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Statement[0].Effect: expected \"Allow\" or \"Deny\", found \"allow\" at byte 47"
    );
    assert_eq!(&text[47..54], "\"allow\"");
}

#[test]
fn rejection_table() {
    // (document, variant, path)
    let cases: &[(&str, &str, &str)] = &[
        // JSON syntax
        ("", "Syntax", ""),
        ("{", "Syntax", ""),
        (r#"{"Statement":[}"#, "Syntax", "Statement[0]"),
        (r#"{"Version":"2012-10-17"} x"#, "Syntax", ""),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Effect":"Deny","Action":"*","Resource":"*"}}"#,
            "DuplicateKey",
            "Statement.Effect",
        ),
        (
            r#"{"Version":"2012-10-17","Version":"2012-10-17","Statement":[]}"#,
            "DuplicateKey",
            "Version",
        ),
        // document
        ("[]", "WrongType", ""),
        (r#"{"Version":"2012-10-17"}"#, "MissingKey", ""),
        (
            r#"{"Version":"2012-10-18","Statement":[]}"#,
            "BadVersion",
            "Version",
        ),
        (r#"{"Version":2012,"Statement":[]}"#, "WrongType", "Version"),
        (
            r#"{"Version":"2012-10-17","Statement":[]}"#,
            "EmptyList",
            "Statement",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":"x"}"#,
            "WrongType",
            "Statement",
        ),
        (
            r#"{"Version":"2012-10-17","Statements":[]}"#,
            "UnknownKey",
            "Statements",
        ),
        // statement
        (
            r#"{"Version":"2012-10-17","Statement":[{"Action":"*","Resource":"*"}]}"#,
            "MissingKey",
            "Statement[0]",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"allow","Action":"*","Resource":"*"}]}"#,
            "BadEffect",
            "Statement[0].Effect",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#,
            "UnsupportedKey",
            "Statement[0].Principal",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotPrincipal":"*","Action":"*","Resource":"*"}]}"#,
            "UnsupportedKey",
            "Statement[0].NotPrincipal",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","action":"*","Resource":"*"}]}"#,
            "UnknownKey",
            "Statement[0].action",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Resource":"*"}]}"#,
            "MissingKey",
            "Statement[0]",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[],"Resource":"*"}]}"#,
            "EmptyList",
            "Statement[0].Action",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","NotAction":"*","Resource":"*"}]}"#,
            "ConflictingKeys",
            "Statement[0]",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iot:Connect","publish"],"Resource":"*"}]}"#,
            "BadAction",
            "Statement[0].Action[1]",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publsh","Resource":"*"}]}"#,
            "UnknownAction",
            "Statement[0].Action",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[1],"Resource":"*"}]}"#,
            "WrongType",
            "Statement[0].Action[0]",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*"}]}"#,
            "MissingKey",
            "Statement[0]",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":[]}]}"#,
            "EmptyList",
            "Statement[0].Resource",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":["*","topic/a"]}]}"#,
            "BadResource",
            "Statement[0].Resource[1]",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","NotResource":"*"}]}"#,
            "ConflictingKeys",
            "Statement[0]",
        ),
        // variables
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:iot:r:1:topic/${iot:ClientId"}]}"#,
            "MalformedVariable",
            "Statement[0].Resource",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:iot:r:1:topic/${}"}]}"#,
            "MalformedVariable",
            "Statement[0].Resource",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:iot:r:1:topic/${a${b}}"}]}"#,
            "MalformedVariable",
            "Statement[0].Resource",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":["*","arn:aws:iot:r:1:topic/${iot:Bogus}"]}]}"#,
            "UnknownVariable",
            "Statement[0].Resource[1]",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:iot:r:1:topic/${iot:Certificate.Subject.Organization.List}"}]}"#,
            "MalformedVariable",
            "Statement[0].Resource",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:iot:r:1:topic/${iot:Certificate.Subject.Nickname}"}]}"#,
            "UnknownVariable",
            "Statement[0].Resource",
        ),
        // conditions
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqualz":{"iot:ClientId":"a"}}}]}"#,
            "UnknownOperator",
            "Statement[0].Condition.StringEqualz",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NullIfExists":{"iot:ClientId":"true"}}}]}"#,
            "UnknownOperator",
            "Statement[0].Condition.NullIfExists",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericLessThan":{"k":"ten"}}}]}"#,
            "BadConditionValue",
            "Statement[0].Condition.NumericLessThan.k",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":["2024-01-01","2024-13-01"]}}}]}"#,
            "BadConditionValue",
            "Statement[0].Condition.DateLessThan.aws:CurrentTime[1]",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}}]}"#,
            "BadConditionValue",
            "Statement[0].Condition.IpAddress.aws:SourceIp",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"yes"}}}]}"#,
            "BadConditionValue",
            "Statement[0].Condition.Bool.aws:SecureTransport",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Null":{"k":[]}}}]}"#,
            "EmptyList",
            "Statement[0].Condition.Null.k",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"k":{"a":1}}}}]}"#,
            "WrongType",
            "Statement[0].Condition.StringEquals.k",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"k":"${nope}"}}}]}"#,
            "UnknownVariable",
            "Statement[0].Condition.StringEquals.k",
        ),
    ];
    for (text, kind, path) in cases {
        assert_eq!(
            kind_path(text),
            ((*kind).to_owned(), (*path).to_owned()),
            "{text}"
        );
    }
}

#[test]
fn offsets_point_at_the_offending_element() {
    let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":["*", "bad"]}]}"#;
    let (kind, path, offset) = err(text);
    assert_eq!(kind, PolicyErrorKind::BadResource("bad".into()));
    assert_eq!(path, "Statement[0].Resource[1]");
    assert_eq!(offset, text.find("\"bad\"").unwrap());

    let text =
        "{\"Version\":\"2012-10-17\",\n \"Statement\":{\"Effect\":\"Allow\",\"Effect\":\"Deny\"}}";
    let (kind, path, offset) = err(text);
    assert_eq!(kind, PolicyErrorKind::DuplicateKey("Effect".into()));
    assert_eq!(path, "Statement.Effect");
    assert_eq!(offset, text.rfind("\"Effect\"").unwrap());
}

#[test]
fn size_limit_excludes_whitespace_and_is_configurable() {
    let resource = "a".repeat(1900);
    let text = format!(
        r#"{{{V},"Statement":{{"Effect":"Allow","Action":"iot:Connect","Resource":"arn:{resource}"}}}}"#
    );
    let size = text.chars().filter(|c| !c.is_whitespace()).count();
    assert!(size < 2048);
    let padded = text.replace(',', " ,\n\t");
    let policy = Policy::parse(&padded, &ParseOptions::default()).unwrap();
    assert_eq!(policy.statements().len(), 1);
    let e = Policy::parse(&text, &{
        let mut options = ParseOptions::default();
        options.max_size = 100;
        options
    })
    .unwrap_err();
    assert_eq!(e.kind(), &PolicyErrorKind::TooLarge { size, limit: 100 });
    assert_eq!(e.path(), "");
}

#[test]
fn deep_nesting_is_rejected() {
    let text = format!("{}{}", "[".repeat(100), "]".repeat(100));
    let (kind, _, _) = err(&text);
    assert_eq!(kind, PolicyErrorKind::TooDeep { limit: 32 });
}

#[test]
fn accepted_shapes() {
    let p = Policy::parse(
        r#"{"Version":"2012-10-17","Id":"x","Statement":{"Sid":"One","Effect":"Deny","Action":["iot:*"],"NotResource":"*"}}"#,
        &ParseOptions::default(),
    )
    .unwrap();
    assert_eq!(p.version(), Version::V2012_10_17);
    assert_eq!(p.statements().len(), 1);
    assert_eq!(p.statements()[0].sid(), Some("One"));
    assert_eq!(p.statements()[0].effect(), Effect::Deny);
    assert_eq!(p.statements()[0].path(), "Statement");

    let p = Policy::parse(
        r#"{"Statement":[{"Effect":"Allow","Action":"greengrass:*","Resource":"arn:x/${iot:Whatever"},{"Effect":"Allow","Action":"IOT:publish","Resource":"*"}]}"#,
        &ParseOptions::default(),
    )
    .unwrap();
    assert_eq!(p.version(), Version::V2008_10_17);
    assert_eq!(p.statements()[1].path(), "Statement[1]");

    // Unicode escapes and surrogate pairs in strings.
    let p = Policy::parse(
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"\u00e9\ud83d\ude00","Effect":"Allow","Action":"*","Resource":"*"}]}"#,
        &ParseOptions::default(),
    )
    .unwrap();
    assert_eq!(p.statements()[0].sid(), Some("é😀"));
}
