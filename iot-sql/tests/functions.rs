//! Every function's examples from the AWS IoT SQL reference ("Functions"), with exact outputs.
//! Values print as JSON text; `undefined` is Undefined.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

mod common;
use common::*;

/// (expression, expected JSON text) in SQL version 2016-03-23.
fn table_v2(cases: &[(&str, &str)]) {
    for (expr, want) in cases {
        assert_eq!(v2(expr), *want, "{expr}");
    }
}

/// The same in 2015-10-08, where a whole-number decimal stays a decimal (`32.0`).
fn table_v1(cases: &[(&str, &str)]) {
    for (expr, want) in cases {
        assert_eq!(v1(expr), *want, "{expr}");
    }
}

#[test]
fn math() {
    table_v2(&[
        ("abs(-5)", "5"),
        ("abs(-5.123)", "5.123"),
        ("abs('-5.123')", "5.123"),
        ("abs(true)", "undefined"),
        ("ceil(1.2)", "2"),
        ("ceil(-1.2)", "-1"),
        ("floor(1.2)", "1"),
        ("floor(-1.2)", "-2"),
        ("round(1.2)", "1"),
        ("round(1.5)", "2"),
        ("round(1.7)", "2"),
        ("round(-1.1)", "-1"),
        ("round(-1.5)", "-2"),
        ("sign(-7)", "-1"),
        ("sign(0)", "0"),
        ("sign(13)", "1"),
        ("mod(8, 3)", "2"),
        ("remainder(8, 3)", "2"),
        ("trunc(2.3, 0)", "2"),
        ("trunc(2.3123, 2)", "2.31"),
        ("trunc(2.888, 2)", "2.88"),
        ("trunc(2.00, 5)", "2"),
        ("nanvl(8, 3)", "8"),
        ("nanvl(NULL, 3)", "3"),
        ("bitand(13, 5)", "5"),
        ("bitor(8, 5)", "13"),
        ("bitxor(13, 5)", "8"),
        // The reference prints 2 for bitnot(13), which is not a bitwise NOT of a signed 64-bit
        // (or any two's-complement) integer; Java's ~13 is -14.
        ("bitnot(13)", "-14"),
        ("bitand(13.9, '5.7')", "5"),
        ("acos(0)", "1.5707963267948966"),
        ("atan2(1, 0)", "1.5707963267948966"),
        ("cosh(2.3)", "5.037220649268761"),
        ("sinh(2.3)", "4.936961805545957"),
        ("tan(3)", "-0.1425465430742778"),
        ("tanh(2.3)", "0.9800963962661914"),
        ("exp(1)", "2.718281828459045"),
        ("acos(2)", "undefined"),
        ("sqrt(-1)", "undefined"),
    ]);
    table_v1(&[
        ("asin(0)", "0.0"),
        ("atan(0)", "0.0"),
        ("cos(0)", "1.0"),
        ("sin(0)", "0.0"),
        ("ln(exp(1))", "1.0"),
        ("log(100)", "2.0"),
        ("power(2, 5)", "32.0"),
        ("sqrt(9)", "3.0"),
    ]);
    // In 2016-03-23 whole-number decimals are Int.
    assert_eq!(v2("power(2, 5)"), "32");
    assert_eq!(v2("sqrt(9)"), "3");
}

#[test]
fn strings() {
    table_v2(&[
        ("chr(65)", "\"A\""),
        ("chr(49)", "\"1\""),
        ("chr(200)", "undefined"),
        ("concat()", "undefined"),
        ("concat(1)", "\"1\""),
        ("concat([1, 2, 3], 4)", "[1,2,3,4]"),
        ("concat([1, 2, 3], \"hello\")", "[1,2,3,\"hello\"]"),
        ("concat(\"con\", \"cat\")", "\"concat\""),
        ("concat(1, \"hello\")", "\"1hello\""),
        ("concat(\"he\",\"is\",\"man\")", "\"heisman\""),
        (
            "concat([1, 2, 3], \"hello\", [4, 5, 6])",
            "[1,2,3,\"hello\",4,5,6]",
        ),
        ("endswith(\"cat\",\"at\")", "true"),
        ("startswith(\"ranger\",\"ran\")", "true"),
        ("startswith(NULL, \"ran\")", "undefined"),
        ("indexof(\"abcd\", \"bc\")", "1"),
        ("length(\"hi\")", "2"),
        ("length(false)", "5"),
        ("lower(\"HELLO\")", "\"hello\""),
        ("lower([\"HELLO\"])", "\"[\\\"hello\\\"]\""),
        ("upper(\"hello\")", "\"HELLO\""),
        ("upper([\"hello\"])", "\"[\\\"HELLO\\\"]\""),
        ("lpad(\"hello\", 2)", "\"  hello\""),
        ("lpad(1, 3)", "\"   1\""),
        ("rpad(\"hello\", 2)", "\"hello  \""),
        ("rpad(1, 3)", "\"1   \""),
        ("lpad(\"x\", -5)", "\"x\""),
        ("lpad(\"x\", [1])", "undefined"),
        ("Ltrim(\" h i \")", "\"h i \""),
        ("rtrim(\" h i \")", "\" h i\""),
        ("Trim(\" hi \")", "\"hi\""),
        ("numbytes(\"hi\")", "2"),
        ("numbytes(\"€\")", "3"),
        ("replace(\"abcd\", \"bc\", \"x\")", "\"axd\""),
        ("replace(\"abcdabcd\", \"b\", \"x\")", "\"axcdaxcd\""),
        ("regexp_matches(\"aaaa\", \"a{2,}\")", "true"),
        ("regexp_matches(\"aaaa\", \"b\")", "false"),
        ("regexp_matches(\"aaaa\", \"(\")", "undefined"),
        ("regexp_replace(\"abcd\", \"bc\", \"x\")", "\"axd\""),
        ("regexp_replace(\"abcd\", \"b(.*)d\", \"$1\")", "\"ac\""),
        ("regexp_substr(\"hihihello\", \"hi\")", "\"hi\""),
        ("regexp_substr(\"hihihello\", \"(hi)*\")", "\"hihi\""),
        ("substring(\"012345\", 0)", "\"012345\""),
        ("substring(\"012345\", 2)", "\"2345\""),
        ("substring(\"012345\", 2.745)", "\"2345\""),
        ("substring(123, 2)", "\"3\""),
        ("substring(\"012345\", -1)", "\"012345\""),
        ("substring(true, 1.2)", "\"rue\""),
        ("substring(false, -2.411E247)", "\"false\""),
        ("substring(\"012345\", 1, 3)", "\"12\""),
        ("substring(\"012345\", -50, 50)", "\"012345\""),
        ("substring(\"012345\", 3, 1)", "\"\""),
    ]);
}

#[test]
fn hashes() {
    table_v2(&[
        ("md2(\"hello\")", "\"a9046c73e00331af68917d3804f70655\""),
        ("md5(\"hello\")", "\"5d41402abc4b2a76b9719d911017c592\""),
        (
            "sha1(\"hello\")",
            "\"aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d\"",
        ),
        (
            "sha256(\"hello\")",
            "\"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\"",
        ),
        ("md5(NULL)", "undefined"),
    ]);
    assert_eq!(v2("sha224(\"hello\")").len(), 56 + 2);
    assert_eq!(v2("sha384(\"hello\")").len(), 96 + 2);
    assert_eq!(v2("sha512(\"hello\")").len(), 128 + 2);
}

#[test]
fn collections_and_types() {
    table_v2(&[
        ("get([\"a\", \"b\", \"c\"], 1)", "\"b\""),
        ("get({\"a\":\"b\"}, \"a\")", "\"b\""),
        // The reference prints get("abc", 1) = "a", which contradicts its own rule ("the
        // character at the 0-based index"); index 1 is "b".
        ("get(\"abc\", 1)", "\"b\""),
        ("get([1, 2], 5)", "undefined"),
        ("get_or_default(missing, 'x')", "\"x\""),
        ("get_or_default(1, 'x')", "1"),
        ("isNull(5)", "false"),
        ("isNull(Null)", "true"),
        ("isUndefined(5)", "false"),
        ("isUndefined(floor([1,2,3]))", "true"),
        ("cast(true as Int)", "1"),
        ("cast('5.9' AS Int)", "5"),
        ("cast(-5.9 AS Int)", "-6"),
        ("cast(0 AS Boolean)", "false"),
        ("cast('TRUE' AS Bool)", "true"),
        ("cast([1, 'a'] AS String)", "\"[1,\\\"a\\\"]\""),
        ("cast(NULL AS String)", "undefined"),
        ("cast('abc' AS Decimal)", "undefined"),
        ("cast(true AS Decimal)", "1"),
        ("cast(false AS Decimal)", "0"),
    ]);
    assert_eq!(v1("cast(true AS Double)"), "1.0");
    // cast to Decimal and Bool exist from 2016-03-23 on.
    assert_eq!(v1("cast(10.0 AS Int)"), "10");
    assert_eq!(value_in(V1, "cast(1 AS Int)", "{}").to_string(), "1");
}

#[test]
fn encode_decode() {
    // Reference: decode(encoded_temp,"base64").temperature with {"temperature": 33} encoded.
    assert_eq!(
        value_in(
            V2,
            "decode(encoded_temp, \"base64\").temperature",
            r#"{"encoded_temp":"eyAidGVtcGVyYXR1cmUiOiAzMyB9Cg=="}"#
        )
        .to_string(),
        "33"
    );
    assert_eq!(v2("decode('aGVsbG8=', 'base64')"), "\"hello\"");
    assert_eq!(v2("decode('***', 'base64')"), "null");
    assert_eq!(v2("encode('hello', 'base64')"), "\"aGVsbG8=\"");
    assert_eq!(v2("encode('hello', 'hex')"), "undefined");
    // encode(*) encodes the payload's bytes as received.
    assert_eq!(
        value_in(V2, "encode(*, 'base64')", "{\"a\": 1}").to_string(),
        "\"eyJhIjogMX0=\""
    );
    assert_eq!(
        value_in(V2, "encode(*, 'base64')", "\u{1}\u{2}binary").to_string(),
        "\"AQJiaW5hcnk=\""
    );
}

#[test]
fn time_functions() {
    // The functions reference (https://docs.aws.amazon.com/iot/latest/developerguide/iot-sql-functions.html):
    // parse_time("yyyy.MM.dd G 'at' HH:mm:ss z", 100000000, "America/Belize") is
    // "1970.01.01 AD at 21:46:40 CST".
    assert_eq!(
        v2("parse_time(\"yyyy.MM.dd G 'at' HH:mm:ss z\", 100000000, \"America/Belize\")"),
        "\"1970.01.01 AD at 21:46:40 CST\""
    );
    assert_eq!(
        v2("parse_time(\"yyyy.MM.dd G 'at' HH:mm:ss z\", 100000000, \"-06:00\")"),
        "\"1970.01.01 AD at 21:46:40 -06:00\""
    );
    // A region's offset and abbreviation follow its daylight-saving rules; ZZZ is the id.
    assert_eq!(
        v2("parse_time(\"yyyy-MM-dd HH:mm z Z ZZZ\", 1704067200000, \"America/Los_Angeles\")"),
        "\"2023-12-31 16:00 PST -0800 America/Los_Angeles\""
    );
    assert_eq!(
        v2("parse_time(\"yyyy-MM-dd HH:mm z Z\", 1719792000000, \"America/Los_Angeles\")"),
        "\"2024-06-30 17:00 PDT -0700\""
    );
    assert_eq!(v2("parse_time(\"HH:mm\", 0, \"Not/A_Zone\")"), "undefined");
    assert_eq!(
        v2("parse_time(\"yyyy.MM.dd G 'at' HH:mm:ss z\", 1497028786000)"),
        "\"2017.06.09 AD at 17:19:46 UTC\""
    );
    assert_eq!(v2("parse_time(\"yyyy\", timestamp(), \"UTC\")"), "\"2023\"");
    assert_eq!(
        v2("parse_time(\"EEEE d MMMM yyyy, hh:mm:ss.SSS a Z\", 1700000000123, \"UTC+01:00\")"),
        "\"Tuesday 14 November 2023, 11:13:20.123 PM +0100\""
    );
    assert_eq!(
        v2("time_to_epoch(\"2020-04-03 09:45:18 UTC+01:00\", \"yyyy-MM-dd HH:mm:ss VV\")"),
        "1585903518000"
    );
    assert_eq!(
        v2("time_to_epoch(\"18 December 2015\", \"dd MMMM yyyy\")"),
        "1450396800000"
    );
    // Same page: time_to_epoch("2007-12-03 10:15:30.592 America/Los_Angeles",
    // "yyyy-MM-dd HH:mm:ss.SSS z") = 1196705730592.
    assert_eq!(
        v2(
            "time_to_epoch(\"2007-12-03 10:15:30.592 America/Los_Angeles\", \"yyyy-MM-dd HH:mm:ss.SSS z\")"
        ),
        "1196705730592"
    );
    // In summer the same zone is 7 hours behind. A local time skipped by the spring change
    // moves later by the gap, as java.time resolves it (02:30 is read as 03:30 PDT).
    assert_eq!(
        v2("time_to_epoch(\"2024-06-30 17:00 America/Los_Angeles\", \"yyyy-MM-dd HH:mm VV\")"),
        "1719792000000"
    );
    assert_eq!(
        v2("time_to_epoch(\"2024-03-10 02:30 America/Los_Angeles\", \"yyyy-MM-dd HH:mm VV\")"),
        "1710066600000"
    );
    assert_eq!(
        v2("time_to_epoch(\"2007-12-03 10:15:30.592 -08:00\", \"yyyy-MM-dd HH:mm:ss.SSS z\")"),
        "1196705730592"
    );
    assert_eq!(v2("time_to_epoch(\"not a date\", \"yyyy\")"), "undefined");
}

#[test]
fn message_context() {
    table_v2(&[
        ("accountid()", "\"123456789012\""),
        ("clientid()", "\"c1\""),
        (
            "principal()",
            "\"ba67293af50bf2506f5f93469686da660c7c844e7b3950bfb16813e0d31e9373\"",
        ),
        ("traceid()", "\"12345678-1234-1234-1234-123456789012\""),
        ("sourceip()", "\"198.51.100.7\""),
        ("timestamp()", "1700000000000"),
        ("topic()", "\"things/myThings/thingOne\""),
        ("topic(1)", "\"things\""),
        ("topic(3)", "\"thingOne\""),
        ("topic(4)", "undefined"),
        ("sql_version()", "\"2016-03-23\""),
    ]);
    assert_eq!(v1("sql_version()"), "\"2015-10-08\"");
    // Basic Ingest: the $aws/rules/<rule>/ prefix is not part of topic().
    let rule = iot_sql::Rule::parse("SELECT topic() AS t, topic(3) AS f", V2).unwrap();
    let ctx = context();
    let msg = iot_sql::Message {
        topic: "$aws/rules/BuildingManager/Buildings/Building5/Floor2/Room201/Lights",
        payload: b"{}",
        context: &ctx,
    };
    let out = rule.evaluate(&msg).unwrap().unwrap();
    assert_eq!(
        String::from_utf8(out.to_json_bytes()).unwrap(),
        r#"{"f":"Floor2","t":"Buildings/Building5/Floor2/Room201/Lights"}"#
    );
    // Without MQTT there is no client id: "n/a".
    let bare = iot_sql::Context::default();
    let msg = iot_sql::Message {
        topic: "a",
        payload: b"{}",
        context: &bare,
    };
    let e = iot_sql::parse_expression("clientid()", V2).unwrap();
    assert_eq!(
        iot_sql::evaluate_expression(&e, V2, &msg)
            .unwrap()
            .to_string(),
        "\"n/a\""
    );
}

#[test]
fn non_deterministic() {
    let uuid = v2("newuuid()");
    let u = uuid.trim_matches('"');
    assert_eq!(u.len(), 36, "{uuid}");
    let groups: Vec<usize> = u.split('-').map(str::len).collect();
    assert_eq!(groups, [8, 4, 4, 4, 12]);
    assert_eq!(&u[14..15], "4", "version 4: {u}");
    assert_ne!(v2("newuuid()"), uuid);
    for _ in 0..100 {
        let r: f64 = v2("rand()").parse().unwrap();
        assert!((0.0..1.0).contains(&r), "{r}");
    }
    assert_eq!(v2("rand(1)"), "undefined");
}

#[test]
fn transform_examples() {
    let payload = r#"{"attributes":{"data1":1,"data2":2},"values":[{"a":3},{"b":4},{"c":5}]}"#;
    assert_eq!(
        run(
            V2,
            "select value transform(\"enrichArray\", attributes, values) from 'A/B'",
            "A/B",
            payload
        ),
        r#"[{"a":3,"data1":1,"data2":2},{"b":4,"data1":1,"data2":2},{"c":5,"data1":1,"data2":2}]"#
    );
    assert_eq!(
        run(
            V2,
            "select value transform(\"enrichArray\", {\"key\": attributes.data1}, values) from 'A/B'",
            "A/B",
            payload
        ),
        r#"[{"a":3,"key":1},{"b":4,"key":1},{"c":5,"key":1}]"#
    );
    let payload3 = r#"{"data1":"example","data2":{"a":"first attribute","b":"second attribute","c":[{"x":{"someInt":5,"someString":"hello"},"y":true},{"x":{"someInt":10,"someString":"world"},"y":false}]}}"#;
    assert_eq!(
        run(
            V2,
            "select value transform('enrichArray', (select a, b from data2), (select value c from data2)) from 'A/B'",
            "A/B",
            payload3
        ),
        r#"[{"a":"first attribute","b":"second attribute","x":{"someInt":5,"someString":"hello"},"y":true},{"a":"first attribute","b":"second attribute","x":{"someInt":10,"someString":"world"},"y":false}]"#
    );
    assert_eq!(v2("transform('other', {}, [])"), "undefined");
}

#[test]
fn unknown_functions_and_versions() {
    use iot_sql::{ParseErrorKind, parse_expression};
    let e = parse_expression("nosuch(1)", V2).unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::UnknownFunction("nosuch".to_owned()));
    assert_eq!((e.line, e.column), (1, 1));
    let e = parse_expression("encode('a', 'base64')", V1).unwrap_err();
    assert!(
        matches!(&e.kind, ParseErrorKind::NotInVersion { feature, .. } if feature == "the function encode()"),
        "{e:?}"
    );
    // Function names are case-insensitive.
    assert_eq!(v2("UPPER('a')"), "\"A\"");
    // Wrong argument counts are Undefined, not errors.
    assert_eq!(v2("abs(1, 2)"), "undefined");
    assert_eq!(v2("substring('abc')"), "undefined");
}

/// Undefined in, Undefined out, for every pure function and every argument position, as the
/// AWS IoT SQL reference's function pages give it (issue 14's systematic pass). The
/// exceptions are the functions whose pages define their Undefined case: `isNull` (true only
/// for the Null value), `isUndefined`, `get_or_default` (the default replaces an Undefined
/// value), and `nanvl` (the second argument replaces a first that is not a number).
#[test]
fn an_undefined_argument_gives_undefined() {
    // One valid call per pure function; each argument is replaced by Undefined in turn.
    let calls: &[(&str, &[&str])] = &[
        ("abs", &["1"]),
        ("acos", &["0.5"]),
        ("asin", &["0.5"]),
        ("atan", &["0.5"]),
        ("atan2", &["1", "1"]),
        ("bitand", &["12", "5"]),
        ("bitnot", &["1"]),
        ("bitor", &["12", "5"]),
        ("bitxor", &["12", "5"]),
        ("ceil", &["1.2"]),
        ("chr", &["65"]),
        ("concat", &["'a'", "'b'"]),
        ("cos", &["1"]),
        ("cosh", &["1"]),
        ("decode", &["'aGk='", "'base64'"]),
        ("encode", &["'hi'", "'base64'"]),
        ("endswith", &["'ab'", "'b'"]),
        ("exp", &["1"]),
        ("floor", &["1.2"]),
        ("get", &["[1, 2]", "0"]),
        ("indexof", &["'ab'", "'b'"]),
        ("length", &["'ab'"]),
        ("ln", &["2"]),
        ("log", &["10"]),
        ("lower", &["'A'"]),
        ("lpad", &["'a'", "3"]),
        ("ltrim", &["' a'"]),
        ("md2", &["'a'"]),
        ("md5", &["'a'"]),
        ("mod", &["8", "3"]),
        ("numbytes", &["'a'"]),
        ("parse_time", &["'yyyy'", "0"]),
        ("power", &["2", "3"]),
        ("remainder", &["8", "3"]),
        ("replace", &["'ab'", "'a'", "'c'"]),
        ("round", &["1.5"]),
        ("rpad", &["'a'", "3"]),
        ("rtrim", &["'a '"]),
        ("sha1", &["'a'"]),
        ("sha224", &["'a'"]),
        ("sha256", &["'a'"]),
        ("sha384", &["'a'"]),
        ("sha512", &["'a'"]),
        ("sign", &["-2"]),
        ("sin", &["1"]),
        ("sinh", &["1"]),
        ("sqrt", &["4"]),
        ("startswith", &["'ab'", "'a'"]),
        ("substring", &["'abc'", "1", "2"]),
        ("tan", &["1"]),
        ("tanh", &["1"]),
        ("time_to_epoch", &["'2020'", "'yyyy'"]),
        ("transform", &["'enrichArray'", "{'k': 1}", "[{'a': 1}]"]),
        ("trim", &["' a '"]),
        ("trunc", &["2.35", "1"]),
        ("upper", &["'a'"]),
    ];
    let defined: &[(&str, &str)] = &[
        ("isNull(missing)", "false"),
        ("isUndefined(missing)", "true"),
        ("get_or_default(missing, 2)", "2"),
        ("get_or_default(1, missing)", "1"),
        ("nanvl(missing, 2)", "2"),
        ("nanvl(1, missing)", "1"),
    ];
    let mut covered: Vec<&str> = defined
        .iter()
        .map(|(e, _)| e.split('(').next().unwrap())
        .collect();
    for (name, args) in calls {
        let valid = format!("{name}({})", args.join(", "));
        assert_ne!(v2(&valid), "undefined", "{valid} should be defined");
        for i in 0..args.len() {
            let mut with = args.to_vec();
            with[i] = "missing";
            let call = format!("{name}({})", with.join(", "));
            assert_eq!(v2(&call), "undefined", "{call}");
        }
        covered.push(name);
    }
    table_v2(defined);
    // Every pure function of the library is in one of the two lists.
    for f in iot_sql::Function::ALL {
        if f.volatility() == iot_sql::Volatility::Pure
            && !["regexp_matches", "regexp_replace", "regexp_substr"].contains(&f.name())
        {
            assert!(covered.contains(&f.name()), "{} not covered", f.name());
        }
    }
    // The regular-expression functions take their pattern as a literal (it is compiled
    // with the rule); their other arguments follow the rule.
    table_v2(&[
        ("regexp_matches(missing, 'a')", "undefined"),
        ("regexp_replace(missing, 'a', 'c')", "undefined"),
        ("regexp_replace('ab', 'a', missing)", "undefined"),
        ("regexp_substr(missing, 'a')", "undefined"),
    ]);
}
