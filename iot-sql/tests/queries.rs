//! Statements end to end: SELECT/FROM/WHERE, aliases, nested queries, CASE, literals, SET,
//! versions, binary payloads, templates, external functions, errors and limits.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::Arc;

use iot_sql::{
    Context, EvalError, ExternalError, ExternalFunctions, Function, Limits, Message,
    ParseErrorKind, ParseOptions, Rule, SqlVersion, Template, Value,
};

mod common;
use common::*;

#[test]
fn reference_intro_example() {
    // SQL reference: SELECT color AS rgb FROM 'topic/subtopic' WHERE temperature > 50.
    let sql = "SELECT color AS rgb FROM 'topic/subtopic' WHERE temperature > 50";
    assert_eq!(
        run(
            V1,
            sql,
            "topic/subtopic",
            r#"{"color":"red","temperature":100}"#
        ),
        r#"{"rgb":"red"}"#
    );
    assert_eq!(
        run(
            V1,
            sql,
            "topic/subtopic",
            r#"{"color":"red","temperature":40}"#
        ),
        "no match"
    );
    assert_eq!(
        run(
            V1,
            sql,
            "topic/other",
            r#"{"color":"red","temperature":100}"#
        ),
        "no match"
    );
}

#[test]
fn greenhouse_rules() {
    // SCENARIOS.md §2, all in 2016-03-23.
    let payload = r#"{"Thing":"greenhouse_lux_probe_1","lux":36000}"#;
    let high = "SELECT * FROM '/topic/Greenhouse/LuxSensors' WHERE lux > 35000";
    let low = "SELECT * FROM '/topic/Greenhouse/LuxSensors' WHERE lux < 35000";
    let all = "SELECT * FROM '/topic/Greenhouse/LuxSensors/#'";
    let topic = "/topic/Greenhouse/LuxSensors";
    assert_eq!(run(V2, high, topic, payload), payload);
    assert_eq!(run(V2, low, topic, payload), "no match");
    // `a/#` matches `a` itself: MQTT 3.1.1 [MQTT-4.7.1-2], the rule this crate follows.
    assert_eq!(run(V2, all, topic, payload), payload);
    assert_eq!(
        run(V2, all, "/topic/Greenhouse/LuxSensors/east", payload),
        payload
    );

    let rule = Rule::parse(all, V2).unwrap();
    let hash_key = Template::parse("${Thing}").unwrap();
    let range_key = Template::parse("${timestamp()}").unwrap();
    let ctx = context();
    let msg = Message {
        topic,
        payload: payload.as_bytes(),
        context: &ctx,
    };
    let out = rule
        .evaluate_with(&msg, &[&hash_key, &range_key])
        .unwrap()
        .unwrap();
    assert_eq!(out.templates, ["greenhouse_lux_probe_1", "1700000000000"]);
}

#[test]
fn sigfox_rule() {
    // SCENARIOS.md §3: every value arrives as a string.
    let payload = r#"{"device":"1A2B3C","data":"0102","time":"1493750762","snr":"18.5","station":"0A1B","avgSnr":"20.1","lat":"45","lng":"-122","rssi":"-120.0","seqNumber":"12"}"#;
    // Output objects keep their keys sorted; compare as JSON values.
    let out: serde_json::Value =
        serde_json::from_str(&run(V2, "SELECT * FROM 'sigfox'", "sigfox", payload)).unwrap();
    assert_eq!(
        out,
        serde_json::from_str::<serde_json::Value>(payload).unwrap()
    );
    // Numeric strings compare as decimals.
    assert_eq!(
        run(
            V2,
            "SELECT device, rssi + 0 AS rssi FROM 'sigfox' WHERE snr > 10",
            "sigfox",
            payload
        ),
        r#"{"device":"1A2B3C","rssi":"-120.00"}"#
    );
    assert_eq!(
        run(
            V2,
            "SELECT device, rssi - 0 AS rssi FROM 'sigfox' WHERE snr > 10",
            "sigfox",
            payload
        ),
        r#"{"device":"1A2B3C","rssi":-120}"#
    );
}

#[test]
fn select_items_and_aliases() {
    let p = r#"{"a":{"b":{"c":1}},"d":2,"s":"x"}"#;
    assert_eq!(run(V2, "SELECT a.b.c FROM 't'", "t", p), r#"{"c":1}"#);
    assert_eq!(
        run(V2, "SELECT d, s AS t FROM 't'", "t", p),
        r#"{"d":2,"t":"x"}"#
    );
    // `*` mixed with items.
    assert_eq!(
        run(V2, "SELECT *, d + 1 AS e FROM 't'", "t", p),
        r#"{"a":{"b":{"c":1}},"d":2,"e":3,"s":"x"}"#
    );
    // Dotted aliases build nested output and merge by prefix.
    assert_eq!(
        run(V2, "SELECT d AS x.y, s AS x.z, 1 AS x.w.v FROM 't'", "t", p),
        r#"{"x":{"w":{"v":1},"y":2,"z":"x"}}"#
    );
    // Unaliased expressions: fields by name, functions by name, others `_N`.
    assert_eq!(
        run(V2, "SELECT d + 1, upper(s), 'lit' FROM 't'", "t", p),
        r#"{"_1":3,"_3":"lit","upper":"X"}"#
    );
    // Undefined values are dropped from the output object.
    assert_eq!(
        run(V2, "SELECT missing, d, abs('x') AS y FROM 't'", "t", p),
        r#"{"d":2}"#
    );
    assert_eq!(
        run(V1, "SELECT NULL AS n FROM 't'", "t", p),
        r#"{"n":null}"#
    );
    // Member access on any expression.
    assert_eq!(
        run(V2, "SELECT (a).b.c AS v, {'k': d}.k AS w FROM 't'", "t", p),
        r#"{"v":1,"w":2}"#
    );
    // Field names are case-sensitive, keywords are not.
    assert_eq!(
        run(V2, "select D, d from 't' wHeRe TRUE", "t", p),
        r#"{"d":2}"#
    );
    // Any word can be an alias or an alias segment, keywords included (`AS value` is in
    // AWS's documentation): only a name can follow AS. Member names after `.` may be
    // keywords as well.
    assert_eq!(
        run(
            V2,
            "SELECT d AS value, s AS from, 1 AS x.end FROM 't'",
            "t",
            p
        ),
        r#"{"from":"x","value":2,"x":{"end":1}}"#
    );
    assert_eq!(
        run(
            V2,
            "SELECT v.value AS select FROM 't'",
            "t",
            r#"{"v":{"value":3}}"#
        ),
        r#"{"select":3}"#
    );
    // `value` and `set` are keywords that can neither continue nor end an expression, and
    // common payload keys: bare field names wherever an expression goes (issue 14). After
    // SELECT, `value` is the field when a field's end or continuation follows it.
    let kv = r#"{"value":3,"set":"on","v":{"value":4}}"#;
    assert_eq!(run(V2, "SELECT value FROM 't'", "t", kv), r#"{"value":3}"#);
    assert_eq!(
        run(V2, "SELECT value, set FROM 't' WHERE value > 2", "t", kv),
        r#"{"set":"on","value":3}"#
    );
    assert_eq!(
        run(V2, "SELECT value AS n, v.value AS m FROM 't'", "t", kv),
        r#"{"m":4,"n":3}"#
    );
    assert_eq!(run(V2, "SELECT VALUE value FROM 't'", "t", kv), "3");
    assert_eq!(run(V2, "SELECT VALUE value * 2 FROM 't'", "t", kv), "6");
    assert_eq!(
        run(V2, "SELECT VALUE v FROM 't'", "t", kv),
        r#"{"value":4}"#
    );
    assert_eq!(
        run(
            V2,
            "SELECT cast(value AS String) AS s FROM 't' WHERE set = 'on'",
            "t",
            kv
        ),
        r#"{"s":"3"}"#
    );
    // The other keywords stay reserved as bare names: each could end an expression or
    // start a clause (`SELECT end FROM`, `WHERE from = 1`).
    for sql in ["SELECT end FROM 't'", "SELECT a FROM 't' WHERE from = 1"] {
        assert!(
            matches!(
                Rule::parse(sql, V2).unwrap_err().kind,
                ParseErrorKind::Unexpected {
                    expected: "an expression",
                    ..
                }
            ),
            "{sql}"
        );
    }
    // `*.path`: a member of the whole input, anywhere an expression goes (issue 14: AWS
    // accepts `SELECT VALUE *.messages FROM 't'`).
    let m = r#"{"messages":[{"a":1}],"x":{"y":2}}"#;
    assert_eq!(
        run(V2, "SELECT VALUE *.messages FROM 't'", "t", m),
        r#"[{"a":1}]"#
    );
    assert_eq!(
        run(
            V2,
            "SELECT *.x.y AS z, *.messages FROM 't' WHERE *.x.y = 2",
            "t",
            m
        ),
        r#"{"messages":[{"a":1}],"z":2}"#
    );
    assert_eq!(
        run(V2, "SELECT *.x.y * 3 AS z FROM 't'", "t", m),
        r#"{"z":6}"#
    );
    let e = Rule::parse("SELECT d AS 'x' FROM 't'", V2).unwrap_err();
    assert_eq!(
        (e.kind, e.column),
        (
            ParseErrorKind::Unexpected {
                found: "string \"x\"".to_owned(),
                expected: "an alias"
            },
            13
        )
    );
}

#[test]
fn select_value_and_top_level_arrays() {
    // SQL versions: "Output an Array as a top-level object".
    let p = r#"{"a":{"b":"c"},"arr":[1,2,3,4]}"#;
    assert_eq!(
        run(V2, "SELECT VALUE arr FROM 'topic'", "topic", p),
        "[1,2,3,4]"
    );
    assert_eq!(
        run(V2, "SELECT VALUE a.b FROM 'topic'", "topic", p),
        "\"c\""
    );
    assert_eq!(run(V2, "SELECT VALUE missing FROM 'topic'", "topic", p), "");
    let e = Rule::parse("SELECT VALUE arr FROM 'topic'", V1).unwrap_err();
    assert!(
        matches!(e.kind, ParseErrorKind::NotInVersion { .. }),
        "{e:?}"
    );
}

#[test]
fn nested_object_queries() {
    // Reference, "Nested object queries".
    let p = r#"{"e":[{"n":"temperature","u":"Cel","t":1234,"v":22.5},{"n":"light","u":"lm","t":1235,"v":135},{"n":"acidity","u":"pH","t":1235,"v":7}]}"#;
    assert_eq!(
        run(
            V2,
            "SELECT (SELECT v FROM e WHERE n = 'temperature') as temperature FROM 'topic'",
            "topic",
            p
        ),
        r#"{"temperature":[{"v":22.5}]}"#
    );
    assert_eq!(
        run(
            V2,
            "SELECT get((SELECT v FROM e WHERE n = 'temperature'), 0).v FROM 'topic'",
            "topic",
            p
        ),
        r#"{"v":22.5}"#
    );
    assert_eq!(
        run(
            V2,
            "SELECT (SELECT VALUE n FROM e WHERE v > 10) AS big FROM 'topic'",
            "topic",
            p
        ),
        r#"{"big":["temperature","light"]}"#
    );
    assert_eq!(
        run(
            V2,
            "SELECT (SELECT n, v * 2 AS w FROM e WHERE u <> 'Cel') AS x FROM 'topic'",
            "topic",
            p
        ),
        r#"{"x":[{"n":"light","w":270},{"n":"acidity","w":14}]}"#
    );
    // Over an object path, a nested query runs once and gives its result (as the transform
    // reference's `(select a, b from data2)`, tests/functions.rs); `FROM *` runs once and
    // still yields an array (issue 14: in AWS `get((SELECT *, topic() AS topic FROM *), 0)`
    // is the object).
    assert_eq!(
        run(
            V2,
            "SELECT (SELECT b FROM a) AS x FROM 't'",
            "t",
            r#"{"a":{"b":1,"c":2}}"#
        ),
        r#"{"x":{"b":1}}"#
    );
    assert_eq!(
        run(
            V2,
            "SELECT get((SELECT *, topic() AS topic FROM *), 0) AS m FROM 't'",
            "t",
            r#"{"b":1}"#
        ),
        r#"{"m":{"b":1,"topic":"t"}}"#
    );
    // FROM * reads the current object; a false WHERE gives an empty array.
    assert_eq!(
        run(
            V2,
            "SELECT (SELECT VALUE b FROM *) AS x, (SELECT b FROM * WHERE b = 2) AS y FROM 't'",
            "t",
            r#"{"b":[1]}"#
        ),
        r#"{"x":[[1]],"y":[]}"#
    );
    // A nested SELECT as a function's argument needs no parentheses of its own.
    assert_eq!(
        run(
            V2,
            "SELECT isNull(SELECT VALUE n FROM e WHERE v > 100) AS a, get(SELECT VALUE n FROM e WHERE v > 100, 0) AS b FROM 'topic'",
            "topic",
            p
        ),
        r#"{"a":false,"b":"light"}"#
    );
    let e = Rule::parse("SELECT (SELECT v FROM e) AS x FROM 't'", V1).unwrap_err();
    assert_eq!(
        e.kind,
        ParseErrorKind::NotInVersion {
            feature: "a nested SELECT".to_owned(),
            version: SqlVersion::V2015_10_08
        }
    );
    assert_eq!((e.line, e.column), (1, 9));
}

#[test]
fn case_statements() {
    let sql = "SELECT CASE color WHEN 'green' THEN 'go' WHEN 'yellow' THEN 'caution' WHEN 'red' THEN 'stop' ELSE 'you are not at a stop light' END as instructions FROM 'topic/subtopic'";
    for (color, want) in [
        ("green", "go"),
        ("red", "stop"),
        ("blue", "you are not at a stop light"),
    ] {
        let p = format!(r#"{{"color":"{color}"}}"#);
        assert_eq!(
            run(V1, sql, "topic/subtopic", &p),
            format!(r#"{{"instructions":"{want}"}}"#)
        );
    }
    assert_eq!(v2("CASE 1 WHEN 2 THEN 'x' END"), "undefined");
    assert_eq!(v2("case 1.0 when 1 then 'one' end"), "\"one\"");
    // "If v is Undefined, the result of the case statement is Undefined" (same page): a
    // payload without `color` gets no `instructions`, though the CASE has an ELSE.
    assert_eq!(run(V1, sql, "topic/subtopic", r#"{"shade":"green"}"#), "{}");
    assert_eq!(
        v2("CASE nothing.here WHEN 1 THEN 'x' ELSE 'else' END"),
        "undefined"
    );
    // Null is a value, not Undefined: it takes the ELSE.
    assert_eq!(v2("CASE NULL WHEN 1 THEN 'x' ELSE 'else' END"), "\"else\"");
}

#[test]
fn literals() {
    assert_eq!(
        v2("{'a': [1, 2.50, NULL, TRUE, \"s\"], \"b\": {}}"),
        r#"{"a":[1,2.50,null,true,"s"],"b":{}}"#
    );
    assert_eq!(v1("2.50"), "2.50");
    assert_eq!(v2("'it''s'"), "\"it's\"");
    assert_eq!(v2("'a\\tb\\u0041'"), "\"a\\tbA\"");
    let e = iot_sql::parse_expression("[1]", V1).unwrap_err();
    assert!(
        matches!(e.kind, ParseErrorKind::NotInVersion { .. }),
        "{e:?}"
    );
}

#[test]
fn set_variables() {
    let sql = "SET @f = temperature * 1.8 + 32, @hot = @f > 100 SELECT @f AS fahrenheit, @hot FROM 'a/+' WHERE @hot";
    assert_eq!(
        run(V2, sql, "a/b", r#"{"temperature":40}"#),
        r#"{"fahrenheit":104,"hot":true}"#
    );
    assert_eq!(run(V2, sql, "a/b", r#"{"temperature":20}"#), "no match");
    let e = Rule::parse("SET @x = 1 SELECT @x FROM 'a'", V1).unwrap_err();
    assert!(
        matches!(e.kind, ParseErrorKind::NotInVersion { .. }),
        "{e:?}"
    );

    // Reference (SET clause): members of a variable holding an object.
    assert_eq!(
        run(
            V2,
            "SET @device_sensor_data = device1.deviceData.sensors SELECT @device_sensor_data.temp_fahrenheit AS temp_fahrenheit, @device_sensor_data.humidity as humidity, device1.deviceId as deviceId FROM 'device/data'",
            "device/data",
            r#"{"device1": {"deviceId":"weather_sensor", "deviceData": {"sensors": {"temp_fahrenheit": 75, "humidity": 60}, "location": [47.606,-122.332]}}}"#
        ),
        r#"{"deviceId":"weather_sensor","humidity":60,"temp_fahrenheit":75}"#
    );
    // The reference's other SET example prints 23.89 for (75 - 32) * 5 / 9, which its own `/`
    // table contradicts (Int / Int is Int: 23); with a decimal divisor the quotient is exact.
    assert_eq!(
        run(
            V2,
            "SET @c = (temp_fahrenheit - 32) * 5 / 9 SELECT @c AS celsius FROM 'device/data'",
            "device/data",
            r#"{"temp_fahrenheit": 75}"#
        ),
        r#"{"celsius":23}"#
    );
    assert_eq!(
        run(
            V2,
            "SET @c = (temp_fahrenheit - 32) / 1.8 SELECT @c AS celsius FROM 'device/data'",
            "device/data",
            r#"{"temp_fahrenheit": 75}"#
        ),
        r#"{"celsius":23.88888888888888888888888888888889}"#
    );
    // Limits: each variable once, at most 10, names up to 64 characters.
    let e = Rule::parse("SET @a = 1, @a = 2 SELECT 1 FROM 't'", V2).unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::DuplicateVariable("a".to_owned()));
    assert_eq!(e.column, 13);
    let many: Vec<String> = (0..11).map(|i| format!("@v{i} = {i}")).collect();
    let e = Rule::parse(&format!("SET {} SELECT 1 FROM 't'", many.join(", ")), V2).unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::TooManyVariables { max: 10 });
    let long = "x".repeat(65);
    let e = Rule::parse(&format!("SET @{long} = 1 SELECT 1 FROM 't'"), V2).unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::VariableNameTooLong(long));

    // Templates see SET variables but not SELECT aliases.
    let rule = Rule::parse("SET @v = upper(name) SELECT 1 AS alias FROM 'a'", V2).unwrap();
    let t = Template::parse("${@v}-${alias}-${name}").unwrap();
    let ctx = context();
    let msg = Message {
        topic: "a",
        payload: br#"{"name":"x"}"#,
        context: &ctx,
    };
    let out = rule.evaluate_with(&msg, &[&t]).unwrap().unwrap();
    assert_eq!(out.templates, ["X--x"]);
}

#[test]
fn templates() {
    let ctx = context();
    let msg = Message {
        topic: "things/myThings/thingOne",
        payload: br#"{"device":"d1","n":1.5,"o":{"a":[1]},"z":null}"#,
        context: &ctx,
    };
    let render = |t: &str| Template::parse(t).unwrap().render(&msg, V2).unwrap();
    assert_eq!(render("${topic(2)}"), "myThings");
    assert_eq!(render("key/${device}/${n}"), "key/d1/1.5");
    assert_eq!(render("${o}|${missing}|${z}"), "{\"a\":[1]}||null");
    assert_eq!(
        render("${parse_time(\"yyyy\", timestamp(), \"UTC\")}"),
        "2023"
    );
    assert_eq!(render("no expressions, $ alone"), "no expressions, $ alone");
    assert_eq!(render("${ {'k': '}'}.k }"), "}");
    let e = Template::parse("a ${topic(2)").unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::UnterminatedTemplate);
    assert_eq!((e.line, e.column), (1, 3));
    let e = Template::parse("${1 +}").unwrap_err();
    assert!(matches!(e.kind, ParseErrorKind::Unexpected { .. }), "{e:?}");
    assert_eq!(Template::parse("x${a.b}y").unwrap().to_string(), "x${a.b}y");
}

#[test]
fn binary_payloads() {
    let bytes = [0xffu8, 0x00, 0x10, b'x'];
    let ctx = context();
    let msg = Message {
        topic: "bin",
        payload: &bytes,
        context: &ctx,
    };
    let pass = Rule::parse("SELECT * FROM 'bin'", V2).unwrap();
    assert_eq!(pass.evaluate(&msg).unwrap().unwrap().to_json_bytes(), bytes);
    let enc = Rule::parse("SELECT encode(*, 'base64') AS data FROM 'bin'", V2).unwrap();
    assert_eq!(
        enc.evaluate(&msg).unwrap().unwrap().to_json_bytes(),
        br#"{"data":"/wAQeA=="}"#
    );
    // Fields of a binary payload are Undefined, so a WHERE on one does not match.
    let cond = Rule::parse("SELECT * FROM 'bin' WHERE x = 1", V2).unwrap();
    assert_eq!(cond.evaluate(&msg).unwrap(), None);
}

#[test]
fn from_filters() {
    let rule = Rule::parse("SELECT * FROM 'a/+/c'", V2).unwrap();
    assert_eq!(rule.from_filter().unwrap().as_str(), "a/+/c");
    assert!(rule.matches_topic("a/b/c"));
    assert!(!rule.matches_topic("a/b/d"));
    assert!(!rule.matches_topic("a/b/c/d"));
    let hash = Rule::parse("SELECT * FROM 'a/#'", V2).unwrap();
    assert!(hash.matches_topic("a"));
    assert!(hash.matches_topic("a/b/c"));
    // A filter starting with a wildcard never matches a `$` topic [MQTT-4.7.2-1].
    assert!(
        !Rule::parse("SELECT * FROM '#'", V2)
            .unwrap()
            .matches_topic("$aws/things")
    );
    let e = Rule::parse("SELECT * FROM 'a/#/b'", V2).unwrap_err();
    assert!(
        matches!(e.kind, ParseErrorKind::InvalidTopicFilter(_)),
        "{e:?}"
    );
    assert_eq!((e.line, e.column), (1, 15));
    // No FROM: every topic.
    assert!(
        Rule::parse("SELECT 1 AS x", V2)
            .unwrap()
            .matches_topic("any/thing")
    );
}

#[test]
fn parse_errors_have_positions() {
    let e = Rule::parse("SELECT FROM 'a'", V2).unwrap_err();
    assert_eq!(
        e.kind,
        ParseErrorKind::Unexpected {
            found: "`FROM`".to_owned(),
            expected: "an expression"
        }
    );
    assert_eq!((e.line, e.column, e.offset), (1, 8, 7));
    assert_eq!(
        e.to_string(),
        "line 1, column 8: expected an expression, found `FROM`"
    );
    let e = Rule::parse("SELECT a\nFROM 'a'\nWHERE b = ", V2).unwrap_err();
    assert_eq!((e.line, e.column), (3, 11));
    let e = Rule::parse("SELECT a FROM 'abc", V2).unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::UnterminatedString);
    assert_eq!(e.column, 15);
    let e = Rule::parse("SELECT a FROM 'a' junk", V2).unwrap_err();
    assert_eq!(
        e.kind,
        ParseErrorKind::Unexpected {
            found: "`junk`".to_owned(),
            expected: "end of input"
        }
    );
    let e = Rule::parse("SELECT a # b FROM 't'", V2).unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::UnexpectedCharacter('#'));
    assert_eq!(e.column, 10);
    let e = Rule::parse("SELECT cast(a AS Blob) FROM 't'", V2).unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::UnknownCastType("`Blob`".to_owned()));
    let e = Rule::parse("SELECT cast(a AS Decimal) FROM 't'", V1).unwrap_err();
    assert!(
        matches!(e.kind, ParseErrorKind::NotInVersion { .. }),
        "{e:?}"
    );
    // Reserved keywords are not field names; `get(*, 'end')` reads such a field.
    assert!(Rule::parse("SELECT end FROM 't'", V2).is_err());
    assert_eq!(
        run(
            V2,
            "SELECT get(*, 'end') AS v FROM 't'",
            "t",
            r#"{"end":3}"#
        ),
        r#"{"v":3}"#
    );
    // No comments in AWS IoT SQL: `--` is two minus signs.
    assert_eq!(v2("5 --1"), "6");
}

#[test]
fn limits() {
    let deep = format!("SELECT {}1{} FROM 't'", "(".repeat(200), ")".repeat(200));
    let e = Rule::parse(&deep, V2).unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::TooDeep { max: 64 });
    let negs = format!("SELECT {}1 FROM 't'", "- ".repeat(10_000));
    assert_eq!(
        Rule::parse(&negs, V2).unwrap_err().kind,
        ParseErrorKind::TooDeep { max: 64 }
    );
    let long = format!("SELECT '{}' FROM 't'", "x".repeat(70_000));
    assert_eq!(
        Rule::parse(&long, V2).unwrap_err().kind,
        ParseErrorKind::TooLong {
            len: long.len(),
            max: 64 * 1024
        }
    );
    let small = {
        let mut options = ParseOptions::default();
        options.max_len = 10;
        options
    };
    assert!(matches!(
        Rule::parse_with("SELECT 1234567", V2, &small)
            .unwrap_err()
            .kind,
        ParseErrorKind::TooLong { len: 14, max: 10 }
    ));

    let rule = Rule::parse("SELECT concat(s, s, s, s) AS x FROM 't'", V2)
        .unwrap()
        .with_limits({
            let mut options = Limits::default();
            options.max_payload = 1000;
            options.max_value_bytes = 100;
            options
        });
    let ctx = context();
    let big = format!(r#"{{"s":"{}"}}"#, "y".repeat(30));
    let msg = Message {
        topic: "t",
        payload: big.as_bytes(),
        context: &ctx,
    };
    assert_eq!(
        rule.evaluate(&msg).unwrap_err(),
        EvalError::ValueTooLarge { max: 100 }
    );
    let huge = vec![b' '; 1001];
    let msg = Message {
        topic: "t",
        payload: &huge,
        context: &ctx,
    };
    assert_eq!(
        rule.evaluate(&msg).unwrap_err(),
        EvalError::PayloadTooLarge {
            len: 1001,
            max: 1000
        }
    );
}

struct Lookup;

impl ExternalFunctions for Lookup {
    fn call(&self, f: Function, args: &[Value], _: &Context) -> Result<Value, ExternalError> {
        match f {
            Function::GetThingShadow => {
                Ok(Value::from_json_slice(br#"{"state":{"reported":{"alarm":"ON"}}}"#).unwrap())
            }
            Function::AwsLambda => Ok(args.get(1).cloned().unwrap_or_default()),
            other => Err(ExternalError {
                function: other.name(),
                message: "denied".to_owned(),
            }),
        }
    }
}

#[test]
fn external_functions() {
    let ctx = context();
    let msg = Message {
        topic: "topic/subtopic",
        payload: br#"{"attribute1":21}"#,
        context: &ctx,
    };
    let shadow = "SELECT * from 'topic/subtopic' WHERE get_thing_shadow(\"MyThing\",\"arn:aws:iam::123456789012:role/AllowsThingShadowAccess\").state.reported.alarm = 'ON'";
    let rule = Rule::parse(shadow, V2).unwrap();
    // Without an implementation the call fails the evaluation.
    assert_eq!(
        rule.evaluate(&msg).unwrap_err(),
        EvalError::External(ExternalError {
            function: "get_thing_shadow",
            message: "no ExternalFunctions implementation is configured".to_owned()
        })
    );
    let rule = rule.with_external_functions(Arc::new(Lookup));
    assert_eq!(
        rule.evaluate(&msg).unwrap().unwrap().to_json_bytes(),
        br#"{"attribute1":21}"#
    );
    let lambda = Rule::parse(
        "SELECT aws_lambda(\"arn:aws:lambda:us-east-1:account_id:function:f\", {\"payload\":attribute1}).payload as output FROM 'topic/subtopic'",
        V2,
    )
    .unwrap()
    .with_external_functions(Arc::new(Lookup));
    assert_eq!(
        lambda.evaluate(&msg).unwrap().unwrap().to_json_bytes(),
        br#"{"output":21}"#
    );
    let twice = Rule::parse(
        "SELECT get_dynamodb('t', 'k', 1, 'r') AS a, get_dynamodb('t', 'k', 2, 'r') AS b FROM 'topic/subtopic'",
        V2,
    )
    .unwrap()
    .with_external_functions(Arc::new(Lookup));
    assert_eq!(
        twice.evaluate(&msg).unwrap_err(),
        EvalError::External(ExternalError {
            function: "get_dynamodb",
            message: "denied".to_owned()
        })
    );
}

#[test]
fn where_runs_before_select() {
    // A failing external call in SELECT is never reached when WHERE is false.
    let rule = Rule::parse(
        "SELECT get_secret('k', 'SecretString') AS s FROM 't' WHERE FALSE",
        V2,
    )
    .unwrap();
    assert_eq!(run_rule(&rule, "{}"), None);
}

fn run_rule(rule: &Rule, payload: &str) -> Option<String> {
    let ctx = context();
    let msg = Message {
        topic: "t",
        payload: payload.as_bytes(),
        context: &ctx,
    };
    rule.evaluate(&msg)
        .unwrap()
        .map(|o| String::from_utf8(o.to_json_bytes()).unwrap())
}

#[test]
fn versions_parse() {
    assert_eq!(
        "2015-10-08".parse::<SqlVersion>().unwrap(),
        SqlVersion::V2015_10_08
    );
    assert_eq!(
        "2016-03-23".parse::<SqlVersion>().unwrap(),
        SqlVersion::V2016_03_23
    );
    assert_eq!("beta".parse::<SqlVersion>().unwrap(), SqlVersion::Beta);
    assert_eq!(SqlVersion::default(), SqlVersion::V2015_10_08);
    assert_eq!(
        "2017-01-01".parse::<SqlVersion>().unwrap_err().to_string(),
        "unknown SQL version \"2017-01-01\": expected \"2015-10-08\", \"2016-03-23\" or \"beta\""
    );
}

#[test]
fn payload_doubles_keep_their_shortest_digits() {
    // Payload numbers with a fraction or exponent are read as doubles and kept as the decimal
    // of the double's shortest representation (the fast path for short ones and the general
    // one must agree).
    let payload = r#"{"a":24.5,"b":10.0,"c":1.5e-7,"d":-0.0,"e":0.1,"f":1e300,"g":123456789.125,"h":-36012.0,"i":0.30000000000000004,"j":1125899906842624.5}"#;
    assert_eq!(
        run(V1, "SELECT * FROM 't'", "t", payload),
        r#"{"a":24.5,"b":10.0,"c":1.5E-7,"d":0.0,"e":0.1,"f":1E+300,"g":123456789.125,"h":-36012.0,"i":0.30000000000000004,"j":1125899906842624.5}"#
    );
    // 2016-03-23 reads whole-number decimals as Int.
    assert_eq!(
        run(V2, "SELECT * FROM 't'", "t", payload),
        r#"{"a":24.5,"b":10,"c":1.5E-7,"d":0,"e":0.1,"f":1E+300,"g":123456789.125,"h":-36012,"i":0.30000000000000004,"j":1125899906842624.5}"#
    );
}

#[test]
fn function_heavy_rule() {
    // The benchmark's function-heavy rule: functions read borrowed payload fields.
    let sql = "SELECT upper(device) AS d, substring(data, 0, 2) AS b, snr * 2 AS s, \
               md5(device) AS h, round(rssi / 10) AS r, concat(station, '-', seqNumber) AS k, \
               regexp_matches(data, '^[0-9a-f]+$') AS hex, topic() AS t, \
               concat(device) AS c1, concat(snr, 1) AS c2, sha256(data) AS h2 \
               FROM 'sigfox' WHERE startswith(device, '1A') AND cast(seqNumber AS Int) > 3";
    let payload = r#"{"device":"1A2B3C","data":"0102a0ff","time":"1493750762","snr":"18.5","station":"0A1B","avgSnr":"20.1","lat":"45","lng":"-122","rssi":"-120.0","seqNumber":"12"}"#;
    assert_eq!(
        run(V2, sql, "sigfox", payload),
        r#"{"b":"01","c1":"1A2B3C","c2":"18.51","d":"1A2B3C","h":"73b35400d9f176015c12b35780a6e557","h2":"be144d0a8401616eb49dbb58842be9a41355aa15d2ce55956725dd9e723a4712","hex":true,"k":"0A1B-12","r":-12,"s":37,"t":"sigfox"}"#
    );
    // The payload's fields are untouched by the functions that read them.
    assert_eq!(
        run(
            V2,
            "SELECT upper(device) AS u, device FROM 'sigfox'",
            "sigfox",
            payload
        ),
        r#"{"device":"1A2B3C","u":"1A2B3C"}"#
    );
}
