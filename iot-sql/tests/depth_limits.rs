//! Depth limits. Every shape that nests — operator and member chains, parentheses, unary
//! operators, function calls, nested SELECTs, object literals, alias paths, templates — is
//! accepted at its limit (parsed, evaluated on a payload, printed and parsed again, compared,
//! cloned, debug-printed and dropped, all on a 2 MiB stack, a tokio worker's default, in this
//! unoptimized build) and rejected one past it with the exact error and position. Values built
//! while evaluating are bounded the same way at run time.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    missing_docs
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use iot_sql::{
    Context, EvalError, ExternalError, ExternalFunctions, Function, Limits, Map, Message,
    ParseError, ParseErrorKind, ParseOptions, Rule, SqlVersion, Template, Value, parse_expression,
};

mod common;
use common::{V2, context};

/// The defaults, as documented in `ParseOptions` and `Limits`.
const NESTING: usize = 64;
const TREE: usize = 256;
const ALIAS: usize = 16;
const VALUE_DEPTH: usize = 127;

const TOO_DEEP: ParseErrorKind = ParseErrorKind::TooDeep { max: NESTING };
const TREE_TOO_DEEP: ParseErrorKind = ParseErrorKind::TreeTooDeep { max: TREE };

/// Runs `f` on a thread with a 2 MiB stack; a stack overflow aborts the test binary.
fn on_2mib_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e))
}

/// `first`, then `link` `n` times, then `last`.
fn repeat(first: &str, link: &str, n: usize, last: &str) -> String {
    format!("{first}{}{last}", link.repeat(n))
}

/// The byte offset of the `n`th (1-based) occurrence of `pat` in `text`.
fn nth(text: &str, pat: &str, n: usize) -> usize {
    text.match_indices(pat)
        .nth(n - 1)
        .unwrap_or_else(|| panic!("fewer than {n} {pat:?}"))
        .0
}

/// Parses `sql` in 2016-03-23, evaluates it on `payload`, and walks the tree and the output
/// every way the crate and its users do, on a 2 MiB stack: `Display` and parse again,
/// `PartialEq`, `Clone`, `Debug`, JSON bytes and `serde_json::Value`, drop.
/// The output's JSON text (`None`: FROM or WHERE did not match), or the evaluation error.
fn accepted(sql: String, payload: String) -> Result<Option<String>, EvalError> {
    on_2mib_stack(move || {
        let rule = Rule::parse(&sql, V2).unwrap_or_else(|e| panic!("{e}"));
        let printed = rule.statement().to_string();
        let again = Rule::parse(&printed, V2).unwrap_or_else(|e| panic!("{printed}: {e}"));
        assert_eq!(again.statement(), rule.statement());
        let copy = rule.clone();
        assert_eq!(copy, rule);
        assert!(!format!("{rule:?} {:?}", rule.statement()).is_empty());
        let ctx = context();
        let msg = Message {
            topic: "t",
            payload: payload.as_bytes(),
            context: &ctx,
        };
        let out = rule.evaluate(&msg)?.map(|out| {
            let copy = out.clone();
            assert_eq!(copy, out);
            assert!(!format!("{out:?}").is_empty());
            let _ = out.to_json_value();
            String::from_utf8(out.to_json_bytes()).unwrap()
        });
        drop((again, copy, rule));
        Ok(out)
    })
}

/// The parse error of `sql` in 2016-03-23, on a 2 MiB stack.
fn rejected(sql: String) -> ParseError {
    on_2mib_stack(move || match Rule::parse(&sql, V2) {
        Ok(rule) => panic!("parsed: {}", rule.statement()),
        Err(e) => e,
    })
}

/// The deepest nested JSON array: `depth` levels around `1`.
fn nested_array(depth: usize) -> String {
    format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
}

#[test]
fn defaults_are_documented() {
    let options = ParseOptions::default();
    assert_eq!(options.max_len, 64 * 1024);
    assert_eq!(options.max_depth, NESTING);
    assert_eq!(options.max_tree_depth, TREE);
    assert_eq!(options.max_alias_segments, ALIAS);
    assert_eq!(Limits::default().max_value_depth, VALUE_DEPTH);
}

/// `1+1+...`: a left-associative chain, one tree level per operator, no nesting in the text.
#[test]
fn addition_chain() {
    // 255 operators over a leaf: 256 levels.
    let sql = repeat("SELECT 1", "+1", TREE - 1, " AS x FROM 't'");
    assert_eq!(
        accepted(sql, "{}".into()),
        Ok(Some(r#"{"x":256}"#.to_owned()))
    );
    let sql = repeat("SELECT 1", "+1", TREE, " AS x FROM 't'");
    let e = rejected(sql.clone());
    assert_eq!((e.kind, e.offset), (TREE_TOO_DEEP, nth(&sql, "+", TREE)));
}

/// Pretty `Debug` nests a pad adapter per level (its output grows with the square of the
/// depth, so it is checked once, on the deepest chain).
#[test]
fn pretty_debug_of_the_deepest_chain() {
    let sql = repeat("SELECT 1", "+1", TREE - 1, " AS x FROM 't'");
    let len = on_2mib_stack(move || {
        let rule = Rule::parse(&sql, V2).unwrap();
        format!("{:#?}", rule.statement()).len()
    });
    assert!(len > 0);
}

/// `a OR a OR ...`, and the usual long form `a = 1 OR a = 2 OR ...` (each term two levels).
#[test]
fn or_chain() {
    let sql = repeat("SELECT 1 AS x FROM 't' WHERE a", " OR a", TREE - 1, "");
    assert_eq!(
        accepted(sql, r#"{"a":true}"#.into()),
        Ok(Some(r#"{"x":1}"#.to_owned()))
    );
    let sql = repeat("SELECT 1 AS x FROM 't' WHERE a", " OR a", TREE, "");
    let e = rejected(sql.clone());
    assert_eq!(
        (e.kind, e.offset),
        (TREE_TOO_DEEP, nth(&sql, " OR ", TREE) + 1)
    );

    let terms: Vec<String> = (0..TREE - 1).map(|i| format!("a = {i}")).collect();
    let sql = format!("SELECT 1 AS x FROM 't' WHERE {}", terms.join(" OR "));
    assert_eq!(
        accepted(sql, r#"{"a":254}"#.into()),
        Ok(Some(r#"{"x":1}"#.to_owned()))
    );
    let terms: Vec<String> = (0..TREE).map(|i| format!("a = {i}")).collect();
    let sql = format!("SELECT 1 AS x FROM 't' WHERE {}", terms.join(" OR "));
    let e = rejected(sql.clone());
    assert_eq!(
        (e.kind, e.offset),
        (TREE_TOO_DEEP, nth(&sql, " OR ", TREE - 1) + 1)
    );
    // The same alternatives as one `IN` over an array literal are three levels, however many.
    let list: Vec<String> = (0..5000).map(|i| i.to_string()).collect();
    let sql = format!("SELECT 1 AS x FROM 't' WHERE a IN [{}]", list.join(", "));
    assert_eq!(
        accepted(sql, r#"{"a":4999}"#.into()),
        Ok(Some(r#"{"x":1}"#.to_owned()))
    );
}

/// `a IN b IN ...` and `a = b = ...` are chains of comparisons, bounded the same way.
#[test]
fn comparison_chains() {
    for op in [" IN ", " = "] {
        let sql = repeat("SELECT a", &format!("{op}a"), TREE - 1, " AS x FROM 't'");
        assert!(matches!(accepted(sql, "{}".into()), Ok(Some(_))));
        let sql = repeat("SELECT a", &format!("{op}a"), TREE, " AS x FROM 't'");
        let e = rejected(sql.clone());
        assert_eq!((e.kind, e.offset), (TREE_TOO_DEEP, nth(&sql, op, TREE) + 1));
    }
}

/// `a.a.a...`: a member chain, one tree level per `.`.
#[test]
fn member_chain() {
    let sql = repeat("SELECT a", ".a", TREE - 1, " AS x FROM 't'");
    assert_eq!(
        accepted(sql, r#"{"a":{"a":{"a":1}}}"#.into()),
        Ok(Some("{}".to_owned()))
    );
    let sql = repeat("SELECT a", ".a", 2, " AS x FROM 't'");
    assert_eq!(
        accepted(sql, r#"{"a":{"a":{"a":1}}}"#.into()),
        Ok(Some(r#"{"x":1}"#.to_owned()))
    );
    let sql = repeat("SELECT a", ".a", TREE, " AS x FROM 't'");
    let e = rejected(sql.clone());
    assert_eq!((e.kind, e.offset), (TREE_TOO_DEEP, nth(&sql, ".", TREE)));
    // Member access on a call or a parenthesized expression counts the same.
    let sql = repeat("SELECT get(*, 'a')", ".a", TREE - 1, " AS x FROM 't'");
    let e = rejected(sql.clone());
    assert_eq!(
        (e.kind, e.offset),
        (TREE_TOO_DEEP, nth(&sql, ".", TREE - 1))
    );
}

/// There is no index postfix (`a[0]`): arrays are read with `get(a, 0)`.
#[test]
fn no_index_chains() {
    let sql = repeat("SELECT a", "[0]", 3, " FROM 't'");
    let e = rejected(sql.clone());
    assert!(matches!(e.kind, ParseErrorKind::Unexpected { .. }), "{e:?}");
    assert_eq!(e.offset, sql.find('[').unwrap());
}

/// `((((1))))`: parentheses nest without making nodes; the nesting limit bounds them.
#[test]
fn parentheses() {
    let sql = format!(
        "SELECT {}1{} AS x FROM 't'",
        "(".repeat(NESTING - 1),
        ")".repeat(NESTING - 1)
    );
    assert_eq!(
        accepted(sql, "{}".into()),
        Ok(Some(r#"{"x":1}"#.to_owned()))
    );
    let sql = format!(
        "SELECT {}1{} AS x FROM 't'",
        "(".repeat(NESTING),
        ")".repeat(NESTING)
    );
    let e = rejected(sql.clone());
    assert_eq!((e.kind, e.offset), (TOO_DEEP, sql.find('1').unwrap()));
}

/// `NOT NOT ... a`: one nesting level per NOT.
#[test]
fn not_chain() {
    let sql = repeat("SELECT ", "NOT ", NESTING - 1, "a AS x FROM 't'");
    assert_eq!(
        accepted(sql, r#"{"a":true}"#.into()),
        Ok(Some(r#"{"x":false}"#.to_owned()))
    );
    let sql = repeat("SELECT ", "NOT ", NESTING, "a AS x FROM 't'");
    let e = rejected(sql.clone());
    assert_eq!(
        (e.kind, e.offset),
        (TOO_DEEP, nth(&sql, "NOT ", NESTING) + 4)
    );
}

/// `-(-(...(1)))`: two nesting levels per `-(` (the operand, the parentheses).
#[test]
fn negation_chain() {
    let levels = (NESTING - 1) / 2;
    let sql = format!(
        "SELECT {}1{} AS x FROM 't'",
        "-(".repeat(levels),
        ")".repeat(levels)
    );
    assert_eq!(
        accepted(sql, "{}".into()),
        Ok(Some(r#"{"x":-1}"#.to_owned()))
    );
    let sql = format!(
        "SELECT {}1{} AS x FROM 't'",
        "-(".repeat(levels + 1),
        ")".repeat(levels + 1)
    );
    let e = rejected(sql.clone());
    assert_eq!((e.kind, e.offset), (TOO_DEEP, sql.find('1').unwrap()));
    // `- - - 1` (a space keeps each `-` an operator) nests one level per `-`.
    let sql = repeat("SELECT ", "- ", NESTING - 1, "1 AS x FROM 't'");
    assert_eq!(
        accepted(sql, "{}".into()),
        Ok(Some(r#"{"x":-1}"#.to_owned()))
    );
    let sql = repeat("SELECT ", "- ", NESTING, "1 AS x FROM 't'");
    let e = rejected(sql.clone());
    assert_eq!((e.kind, e.offset), (TOO_DEEP, sql.find('1').unwrap()));
}

/// `abs(abs(...(1)))`: one nesting level per call.
#[test]
fn nested_calls() {
    let sql = format!(
        "SELECT {}-1{} AS x FROM 't'",
        "abs(".repeat(NESTING - 1),
        ")".repeat(NESTING - 1)
    );
    assert_eq!(
        accepted(sql, "{}".into()),
        Ok(Some(r#"{"x":1}"#.to_owned()))
    );
    let sql = format!(
        "SELECT {}-1{} AS x FROM 't'",
        "abs(".repeat(NESTING),
        ")".repeat(NESTING)
    );
    let e = rejected(sql.clone());
    assert_eq!((e.kind, e.offset), (TOO_DEEP, sql.find('-').unwrap()));
    // cast(...) and CASE nest the same way.
    let sql = format!(
        "SELECT {}1{} AS x FROM 't'",
        "cast(".repeat(NESTING - 1),
        " AS Int)".repeat(NESTING - 1)
    );
    assert_eq!(
        accepted(sql, "{}".into()),
        Ok(Some(r#"{"x":1}"#.to_owned()))
    );
    let sql = format!(
        "SELECT {}1{} AS x FROM 't'",
        "CASE 1 WHEN 1 THEN ".repeat(NESTING - 1),
        " END".repeat(NESTING - 1)
    );
    assert_eq!(
        accepted(sql, "{}".into()),
        Ok(Some(r#"{"x":1}"#.to_owned()))
    );
    let sql = format!(
        "SELECT {}1{} AS x FROM 't'",
        "CASE 1 WHEN 1 THEN ".repeat(NESTING),
        " END".repeat(NESTING)
    );
    let e = rejected(sql.clone());
    assert_eq!(
        (e.kind, e.offset),
        (TOO_DEEP, nth(&sql, "CASE", NESTING) + 5)
    );
}

/// `(SELECT VALUE (SELECT VALUE ... FROM *) FROM *)`: two nesting levels per nested SELECT
/// (its clause, its item), and the walks over a SELECT cost the most stack per level.
#[test]
fn nested_selects() {
    let levels = (NESTING - 1) / 2;
    let sql = format!(
        "SELECT {}1{} AS x FROM 't'",
        "(SELECT VALUE ".repeat(levels),
        " FROM *)".repeat(levels)
    );
    // Each `FROM *` level wraps its one result in an array.
    assert_eq!(
        accepted(sql, "{}".into()),
        Ok(Some(format!(
            r#"{{"x":{}1{}}}"#,
            "[".repeat(levels),
            "]".repeat(levels)
        )))
    );
    let sql = format!(
        "SELECT {}1{} AS x FROM 't'",
        "(SELECT VALUE ".repeat(levels + 1),
        " FROM *)".repeat(levels + 1)
    );
    let e = rejected(sql.clone());
    assert_eq!((e.kind, e.offset), (TOO_DEEP, sql.find('1').unwrap()));
}

/// `{'a': {'a': ...}}`: one nesting level and one value level per object.
#[test]
fn nested_object_literals() {
    let sql = format!(
        "SELECT {}1{} AS x FROM 't'",
        "{'a': ".repeat(NESTING - 1),
        "}".repeat(NESTING - 1)
    );
    let expected = format!(
        r#"{{"x":{}1{}}}"#,
        r#"{"a":"#.repeat(NESTING - 1),
        "}".repeat(NESTING - 1)
    );
    assert_eq!(accepted(sql, "{}".into()), Ok(Some(expected)));
    let sql = format!(
        "SELECT {}1{} AS x FROM 't'",
        "{'a': ".repeat(NESTING),
        "}".repeat(NESTING)
    );
    let e = rejected(sql.clone());
    assert_eq!((e.kind, e.offset), (TOO_DEEP, sql.find('1').unwrap()));
}

/// `AS a.a.a...`: each segment is one level of the output object.
#[test]
fn alias_paths() {
    let sql = repeat("SELECT 1 AS a", ".a", ALIAS - 1, " FROM 't'");
    let expected = format!("{}1{}", r#"{"a":"#.repeat(ALIAS), "}".repeat(ALIAS));
    assert_eq!(accepted(sql, "{}".into()), Ok(Some(expected)));
    let sql = repeat("SELECT 1 AS a", ".a", ALIAS, " FROM 't'");
    let e = rejected(sql.clone());
    assert_eq!(
        (e.kind, e.offset),
        (
            ParseErrorKind::AliasTooLong { max: ALIAS },
            nth(&sql, ".a", ALIAS) + 1
        )
    );
    // Also in a nested SELECT.
    let sql = repeat(
        "SELECT (SELECT 1 AS a",
        ".a",
        ALIAS,
        " FROM *) AS x FROM 't'",
    );
    let e = rejected(sql.clone());
    assert_eq!(
        (e.kind, e.offset),
        (
            ParseErrorKind::AliasTooLong { max: ALIAS },
            nth(&sql, ".a", ALIAS) + 1
        )
    );
}

/// `${a.a.a...}`: templates parse with the same limits; the offset is in the template text.
#[test]
fn template_member_chain() {
    let text = repeat("key/${a", ".a", TREE - 1, "}/end");
    let rendered = on_2mib_stack(move || {
        let t = Template::parse(&text).unwrap();
        let again = Template::parse(&t.to_string()).unwrap();
        assert_eq!(again, t);
        assert!(!format!("{t:?}").is_empty());
        let ctx = context();
        let msg = Message {
            topic: "t",
            payload: br#"{"a":{"a":1}}"#,
            context: &ctx,
        };
        let rendered = t.render(&msg, V2).unwrap();
        drop((again, t.clone(), t));
        rendered
    });
    assert_eq!(rendered, "key//end");
    let text = repeat("key/${a", ".a", TREE, "}/end");
    let e = Template::parse(&text).unwrap_err();
    assert_eq!((e.kind, e.offset), (TREE_TOO_DEEP, nth(&text, ".", TREE)));
    let text = repeat("${1", "+1", TREE, "}");
    let e = Template::parse(&text).unwrap_err();
    assert_eq!((e.kind, e.offset), (TREE_TOO_DEEP, nth(&text, "+", TREE)));
}

/// 64 KiB of each chain, the longest text accepted: a prompt error, not a crash.
#[test]
fn longest_texts_fail_fast() {
    let max = ParseOptions::default().max_len;
    let fill = |first: &str, link: &str| {
        let n = (max - first.len()) / link.len();
        repeat(first, link, n, "")
    };
    let cases = [
        (fill("SELECT 1", "+1"), "+", TREE_TOO_DEEP),
        (fill("SELECT a", " OR a"), " OR ", TREE_TOO_DEEP),
        (fill("SELECT a", ".a"), ".", TREE_TOO_DEEP),
        (fill("SELECT ", "NOT "), "NOT ", TOO_DEEP),
        (fill("SELECT ", "("), "(", TOO_DEEP),
        (fill("SELECT ", "abs("), "abs(", TOO_DEEP),
    ];
    for (sql, link, kind) in cases {
        assert!(sql.len() <= max && sql.len() > max - 8, "{}", sql.len());
        let expected = match kind {
            ParseErrorKind::TreeTooDeep { .. } => {
                nth(&sql, link, TREE) + usize::from(link == " OR ")
            }
            _ => nth(&sql, link, NESTING) + link.len(),
        };
        let started = Instant::now();
        let e = rejected(sql);
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
        assert_eq!((e.kind, e.offset), (kind, expected));
    }
    let sql = fill("1", "+1");
    let e = parse_expression(&sql, SqlVersion::V2015_10_08).unwrap_err();
    assert_eq!((e.kind, e.offset), (TREE_TOO_DEEP, nth(&sql, "+", TREE)));
    let text = fill("${1", "+1");
    let e = Template::parse(&text).unwrap_err();
    assert_eq!((e.kind, e.offset), (TREE_TOO_DEEP, nth(&text, "+", TREE)));
}

/// The limits are options: lower ones apply exactly.
#[test]
fn custom_limits() {
    let options = {
        let mut options = ParseOptions::default();
        options.max_tree_depth = 8;
        options.max_alias_segments = 2;
        options
    };
    let sql = repeat("SELECT a", ".a", 7, " AS b.c FROM 't'");
    assert!(Rule::parse_with(&sql, V2, &options).is_ok());
    let sql = repeat("SELECT a", ".a", 8, " FROM 't'");
    let e = Rule::parse_with(&sql, V2, &options).unwrap_err();
    assert_eq!(
        (e.kind, e.offset),
        (ParseErrorKind::TreeTooDeep { max: 8 }, nth(&sql, ".", 8))
    );
    let e = Rule::parse_with("SELECT 1 AS b.c.d FROM 't'", V2, &options).unwrap_err();
    assert_eq!(
        (e.kind, e.offset),
        (ParseErrorKind::AliasTooLong { max: 2 }, 16)
    );
    // Every node counts: a call over a chain over a member chain.
    let sql = "SELECT abs(a.b.c + 1 + 1 + 1 + 1 + 1) FROM 't'";
    let e = Rule::parse_with(sql, V2, &options).unwrap_err();
    assert_eq!(
        (e.kind, e.offset),
        (ParseErrorKind::TreeTooDeep { max: 8 }, 7)
    );
}

/// Output values nest at most `Limits::max_value_depth` (127, what serde_json reads back).
#[test]
fn value_depth_from_literals() {
    // A 100-deep member of the payload wrapped in 27 array literals: 127 deep.
    let payload = format!(r#"{{"p":{}}}"#, nested_array(100));
    let sql = format!(
        "SELECT VALUE {}p{} FROM 't'",
        "[".repeat(27),
        "]".repeat(27)
    );
    let out = accepted(sql, payload.clone()).unwrap().unwrap();
    assert_eq!(out, nested_array(127));
    serde_json::from_str::<serde_json::Value>(&out).unwrap();
    let sql = format!(
        "SELECT VALUE {}p{} FROM 't'",
        "[".repeat(28),
        "]".repeat(28)
    );
    assert_eq!(
        accepted(sql, payload),
        Err(EvalError::ValueTooDeep { max: VALUE_DEPTH })
    );
}

/// An alias path over a deep value: 16 objects plus the value.
#[test]
fn value_depth_from_alias_paths() {
    let alias = repeat("a", ".a", ALIAS - 1, "");
    let sql = format!("SELECT p AS {alias} FROM 't'");
    let payload = format!(r#"{{"p":{}}}"#, nested_array(VALUE_DEPTH - ALIAS));
    let out = accepted(sql.clone(), payload).unwrap().unwrap();
    serde_json::from_str::<serde_json::Value>(&out).unwrap();
    let payload = format!(r#"{{"p":{}}}"#, nested_array(VALUE_DEPTH - ALIAS + 1));
    assert_eq!(
        accepted(sql, payload),
        Err(EvalError::ValueTooDeep { max: VALUE_DEPTH })
    );
}

/// SET variables can wrap each other's values, and nested SELECTs with alias paths wrap their
/// rows: without the value depth limit these values would nest hundreds of levels deep (more
/// with each variable), past what the recursive walks over values take on a 2 MiB stack.
#[test]
fn value_depth_cannot_compound() {
    let wrap = |inner: &str| format!("{}{inner}{}", "[".repeat(60), "]".repeat(60));
    let mut set = vec![format!("@v0 = {}", wrap("p"))];
    for i in 1..10 {
        set.push(format!("@v{i} = {}", wrap(&format!("@v{}", i - 1))));
    }
    let sql = format!(
        "SET {} SELECT VALUE {} FROM 't'",
        set.join(", "),
        wrap("@v9")
    );
    assert_eq!(
        accepted(sql, r#"{"p":[1]}"#.into()),
        Err(EvalError::ValueTooDeep { max: VALUE_DEPTH })
    );
    // 2 x 60 levels of literals over a 1-deep member: accepted.
    let sql = format!(
        "SET @v0 = {} SELECT VALUE {} FROM 't'",
        wrap("p"),
        wrap("@v0")
    );
    let out = accepted(sql, r#"{"p":[1]}"#.into()).unwrap().unwrap();
    assert_eq!(out, nested_array(121));

    let alias = repeat("a", ".a", ALIAS - 1, "");
    let levels = (NESTING - 1) / 2;
    let sql = format!(
        "SELECT {}1{} AS x FROM 't'",
        "(SELECT ".repeat(levels),
        format!(" AS {alias} FROM *)").repeat(levels)
    );
    assert_eq!(
        accepted(sql, "{}".into()),
        Err(EvalError::ValueTooDeep { max: VALUE_DEPTH })
    );
}

/// An external function's result is a value the rule builds too.
#[test]
fn value_depth_of_external_results() {
    /// `aws_lambda` answers `{"r": {"r": ...}}`, as deep as its second argument says.
    struct Deep;
    impl ExternalFunctions for Deep {
        fn call(&self, _: Function, args: &[Value], _: &Context) -> Result<Value, ExternalError> {
            let Some(Value::Int(depth)) = args.get(1) else {
                return Ok(Value::Undefined);
            };
            let mut v = Value::Null;
            for _ in 0..*depth {
                v = Value::Object(Map::from([("r".to_owned(), v)]));
            }
            Ok(v)
        }
    }
    let run = |depth: usize| {
        let sql = format!("SELECT VALUE aws_lambda('arn', {depth}) FROM 't'");
        on_2mib_stack(move || {
            let rule = Rule::parse(&sql, V2)
                .unwrap()
                .with_external_functions(Arc::new(Deep));
            let ctx = context();
            let msg = Message {
                topic: "t",
                payload: b"{}",
                context: &ctx,
            };
            rule.evaluate(&msg)
                .map(|out| out.map(|out| out.to_json_bytes().len()))
        })
    };
    assert_eq!(run(VALUE_DEPTH), Ok(Some(VALUE_DEPTH * 6 + 4)));
    assert_eq!(
        run(VALUE_DEPTH + 1),
        Err(EvalError::ValueTooDeep { max: VALUE_DEPTH })
    );
}

/// The deepest tree whose deepest leaf walks the deepest value: 253 additions over
/// `length(cast(@v AS String))`, with `@v` 127 deep (compared with itself in WHERE).
#[test]
fn deepest_tree_over_deepest_value() {
    let sql = repeat(
        &format!(
            "SET @v = {}p{} SELECT VALUE length(cast(@v AS String))",
            "[".repeat(27),
            "]".repeat(27)
        ),
        " + 0",
        TREE - 3,
        " FROM 't' WHERE @v = @v",
    );
    let payload = format!(r#"{{"p":{}}}"#, nested_array(100));
    let out = accepted(sql, payload).unwrap().unwrap();
    assert_eq!(out, (2 * VALUE_DEPTH + 1).to_string());
    let value = on_2mib_stack(|| {
        let v = Value::from_json_slice(nested_array(VALUE_DEPTH).as_bytes()).unwrap();
        assert_eq!(v.clone(), v);
        assert!(!format!("{v:?} {v}").is_empty());
        v.to_json_value().unwrap()
    });
    drop(value);
}
