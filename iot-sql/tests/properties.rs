//! Property tests: the parser never panics, and printing a statement and parsing it again gives
//! the same statement (spans aside).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_sign_loss,
    missing_docs
)]

use iot_sql::{
    Assignment, BinaryOp, CastType, Decimal, Expr, ExprKind, Function, Literal, Rule, Select,
    SelectItem, Source, SqlVersion, Statement, Template, UnaryOp, is_keyword,
};
use proptest::prelude::*;

fn ident() -> impl Strategy<Value = String> {
    "[a-zA-Z_][a-zA-Z0-9_]{0,6}".prop_filter("not a keyword", |s| !is_keyword(s))
}

fn literal() -> impl Strategy<Value = Literal> {
    prop_oneof![
        Just(Literal::Null),
        any::<bool>().prop_map(Literal::Bool),
        any::<i64>().prop_map(Literal::Int),
        (any::<i64>(), -30i32..30)
            .prop_map(|(c, e)| Literal::Decimal(Decimal::new(i128::from(c), e).unwrap())),
        any::<String>().prop_map(Literal::String),
    ]
}

fn binary_op() -> impl Strategy<Value = BinaryOp> {
    prop_oneof![
        Just(BinaryOp::Or),
        Just(BinaryOp::And),
        Just(BinaryOp::Eq),
        Just(BinaryOp::Ne),
        Just(BinaryOp::Lt),
        Just(BinaryOp::Le),
        Just(BinaryOp::Gt),
        Just(BinaryOp::Ge),
        Just(BinaryOp::In),
        Just(BinaryOp::Add),
        Just(BinaryOp::Sub),
        Just(BinaryOp::Mul),
        Just(BinaryOp::Div),
        Just(BinaryOp::Mod),
    ]
}

fn cast_type() -> impl Strategy<Value = CastType> {
    prop_oneof![
        Just(CastType::String),
        Just(CastType::Int),
        Just(CastType::Double),
        Just(CastType::Decimal),
        Just(CastType::Boolean),
    ]
}

fn e(kind: ExprKind) -> Expr {
    Expr::new(kind)
}

fn expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        literal().prop_map(|l| e(ExprKind::Literal(l))),
        ident().prop_map(|n| e(ExprKind::Field(n))),
        ident().prop_map(|n| e(ExprKind::Variable(n))),
    ];
    leaf.prop_recursive(4, 48, 4, |inner| {
        let select = (
            any::<bool>(),
            prop::collection::vec(
                (
                    inner.clone(),
                    prop::option::of(prop::collection::vec(ident(), 1..3)),
                ),
                1..3,
            ),
            prop::option::of(ident()),
            prop::option::of(inner.clone()),
        )
            .prop_map(|(value, items, from, condition)| {
                let mut items: Vec<SelectItem> = items
                    .into_iter()
                    .map(|(expr, alias)| SelectItem::Expr { expr, alias })
                    .collect();
                if value {
                    items.truncate(1);
                }
                Select {
                    value,
                    items,
                    from: from.map(|f| Source::Expr(e(ExprKind::Field(f)))),
                    condition,
                }
            });
        prop_oneof![
            (inner.clone(), "[a-zA-Z_][a-zA-Z0-9_]{0,5}")
                .prop_map(|(b, n)| e(ExprKind::Member(Box::new(b), n))),
            inner
                .clone()
                .prop_map(|x| e(ExprKind::Unary(UnaryOp::Neg, Box::new(x)))),
            inner
                .clone()
                .prop_map(|x| e(ExprKind::Unary(UnaryOp::Not, Box::new(x)))),
            (binary_op(), inner.clone(), inner.clone()).prop_map(|(op, l, r)| e(ExprKind::Binary(
                op,
                Box::new(l),
                Box::new(r)
            ))),
            (
                0..Function::ALL.len(),
                prop::collection::vec(inner.clone(), 0..3)
            )
                .prop_map(|(i, args)| e(ExprKind::Call(Function::ALL[i], args))),
            (inner.clone(), cast_type()).prop_map(|(x, t)| e(ExprKind::Cast(Box::new(x), t))),
            (
                inner.clone(),
                prop::collection::vec((inner.clone(), inner.clone()), 1..3),
                prop::option::of(inner.clone())
            )
                .prop_map(|(operand, whens, otherwise)| e(ExprKind::Case {
                    operand: Box::new(operand),
                    whens,
                    otherwise: otherwise.map(Box::new),
                })),
            prop::collection::vec((any::<String>(), inner.clone()), 0..3)
                .prop_map(|m| e(ExprKind::Object(m))),
            prop::collection::vec(inner.clone(), 0..3).prop_map(|a| e(ExprKind::Array(a))),
            select.prop_map(|s| e(ExprKind::Subquery(Box::new(s)))),
        ]
    })
}

fn statement() -> impl Strategy<Value = Statement> {
    (
        prop::collection::vec((ident(), expr()), 0..2),
        prop::collection::vec(
            prop_oneof![
                Just(SelectItem::Wildcard),
                (
                    expr(),
                    prop::option::of(prop::collection::vec(ident(), 1..3))
                )
                    .prop_map(|(expr, alias)| SelectItem::Expr { expr, alias }),
            ],
            1..4,
        ),
        prop::option::of(prop::sample::select(vec![
            "a/b",
            "a/+/c",
            "#",
            "$aws/rules/r",
            "x y/é",
        ])),
        prop::option::of(expr()),
    )
        .prop_map(|(set, items, from, condition)| Statement {
            set: set
                .into_iter()
                .map(|(name, value)| Assignment { name, value })
                .collect(),
            select: Select {
                value: false,
                items,
                from: from.map(|f| Source::Topic(f.to_owned())),
                condition,
            },
        })
}

const TOKENS: &[&str] = &[
    "SELECT", "VALUE", "FROM", "WHERE", "AS", "AND", "OR", "NOT", "IN", "CASE", "WHEN", "THEN",
    "ELSE", "END", "SET", "NULL", "TRUE", "(", ")", "[", "]", "{", "}", ",", ".", ":", "*", "+",
    "-", "/", "%", "=", "<>", "<", ">=", "'a/#'", "\"s\"", "'", "1", "-2.5E-3", "x", "@v", "abs",
    "cast", "Int", "get", "${", "\\", "\n",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn parser_never_panics_on_text(text in "\\PC{0,200}") {
        for v in [SqlVersion::V2015_10_08, SqlVersion::V2016_03_23, SqlVersion::Beta] {
            let _ = Rule::parse(&text, v);
        }
        let _ = Template::parse(&text);
    }

    #[test]
    fn parser_never_panics_on_token_soup(tokens in prop::collection::vec(prop::sample::select(TOKENS), 0..60)) {
        let text = tokens.join(" ");
        for v in [SqlVersion::V2015_10_08, SqlVersion::Beta] {
            if let Ok(rule) = Rule::parse(&text, v) {
                // Whatever parses prints back to text that parses to the same statement.
                let printed = rule.statement().to_string();
                let again = Rule::parse(&printed, v).unwrap();
                prop_assert_eq!(again.statement(), rule.statement());
            }
        }
    }

    #[test]
    fn display_then_parse_is_identity(stmt in statement()) {
        let printed = stmt.to_string();
        let parsed = Rule::parse(&printed, SqlVersion::Beta)
            .unwrap_or_else(|e| panic!("{printed:?} does not parse: {e}"));
        prop_assert_eq!(parsed.statement(), &stmt, "printed as {}", printed);
    }
}

/// Fuzz finding (sql_parse): a chain of unary minus printed with a pair of parentheses per
/// level nested twice as deep as the original and failed the depth limit on reparse. Display
/// now prints the fewest parentheses.
#[test]
fn regression_unary_chain_prints_within_depth() {
    let sql = "SELECT -VA---LEU------------------------------------- FRO--- -VA--L";
    let rule = Rule::parse(sql, SqlVersion::V2015_10_08).unwrap();
    let printed = rule.statement().to_string();
    let again = Rule::parse(&printed, SqlVersion::V2015_10_08).unwrap();
    assert_eq!(again.statement(), rule.statement());
    assert_eq!(
        Rule::parse(
            "SELECT a - - 5 * - b, NOT NOT x FROM 't'",
            SqlVersion::V2015_10_08
        )
        .unwrap()
        .statement()
        .to_string(),
        "SELECT a - - 5 * - b, NOT NOT x FROM 't'"
    );
}

/// Fuzz finding (sql_eval): products grew to 9.5511E+2181, which no JSON reader built on doubles
/// accepts. Results outside AWS's documented 1E-999..9.999E999 are Undefined.
#[test]
fn regression_decimal_range() {
    let e = iot_sql::parse_expression("9.5511E+999 * 10", SqlVersion::V2015_10_08).unwrap();
    let ctx = iot_sql::Context::default();
    let msg = iot_sql::Message {
        topic: "t",
        payload: b"{}",
        context: &ctx,
    };
    assert_eq!(
        iot_sql::evaluate_expression(&e, SqlVersion::V2015_10_08, &msg).unwrap(),
        iot_sql::Value::Undefined
    );
    assert_eq!(
        "9.999E999".parse::<Decimal>().unwrap().to_string(),
        "9.999E+999"
    );
    assert!("1E1000".parse::<Decimal>().is_err());
    assert!("1E-1000".parse::<Decimal>().is_err());
}

#[test]
fn rules_are_send_and_sync() {
    fn check<T: Send + Sync + Clone>() {}
    check::<Rule>();
    check::<Template>();
}

proptest! {
    #[test]
    fn decimal_text_round_trip(c in any::<i64>(), e in -40i32..40) {
        let d = Decimal::new(i128::from(c), e).unwrap();
        let text = d.to_string();
        let back: Decimal = text.parse().unwrap();
        prop_assert_eq!(back.to_string(), text);
        prop_assert_eq!(back.exponent(), d.exponent());
    }

    #[test]
    fn decimal_arithmetic_is_exact(a in any::<i64>(), b in any::<i64>(), ea in -10i32..10, eb in -10i32..10) {
        let (x, y) = (Decimal::new(i128::from(a), ea).unwrap(), Decimal::new(i128::from(b), eb).unwrap());
        // Scale both to the common exponent in i128 (|value| < 2^63 × 10^20 fits) and compare.
        let common = ea.min(eb);
        let scale = |v: i64, e: i32| i128::from(v) * 10i128.pow((e - common) as u32);
        let (sa, sb) = (scale(a, ea), scale(b, eb));
        prop_assert_eq!(x.checked_add(&y).unwrap(), Decimal::new(sa + sb, common).unwrap());
        prop_assert_eq!(x.checked_sub(&y).unwrap(), Decimal::new(sa - sb, common).unwrap());
        prop_assert_eq!(x.numeric_cmp(&y), sa.cmp(&sb));
        let (small_a, small_b) = (i128::from(a >> 32), i128::from(b >> 32));
        let (p, q) = (Decimal::new(small_a, ea).unwrap(), Decimal::new(small_b, eb).unwrap());
        prop_assert_eq!(p.checked_mul(&q).unwrap(), Decimal::new(small_a * small_b, ea + eb).unwrap());
        if small_b != 0 {
            // (a / b) × b is a within the 34-digit rounding of the quotient.
            let back = p.checked_div(&q).unwrap().checked_mul(&q).unwrap();
            let diff = back.checked_sub(&p).unwrap().abs();
            let tolerance = Decimal::new(1, ea - 20).unwrap();
            prop_assert!(diff.numeric_cmp(&tolerance) != std::cmp::Ordering::Greater, "{} vs {}", back, p);
        }
    }
}

/// A payload's numbers come back as sent: serde_json's default float parsing can be off by
/// one unit in the last place, which turned `-25.263283700000002` into `-25.2632837`
/// (issue 14); the `float_roundtrip` feature makes it correctly rounded.
#[test]
fn payload_numbers_keep_their_last_digit() {
    for text in [
        "-25.263283700000002",
        "0.30000000000000004",
        "1.7976931348623157e308",
        "5e-324",
    ] {
        let doc = format!("{{\"n\":{text}}}");
        let value = iot_sql::Value::from_json_slice(doc.as_bytes()).unwrap();
        let out = value.to_json_string();
        let back: f64 = out
            .trim_start_matches("{\"n\":")
            .trim_end_matches('}')
            .parse()
            .unwrap();
        assert_eq!(
            back,
            text.parse::<f64>().unwrap(),
            "{text} came back as {out}"
        );
    }
    // Past i64, an integer is an exact decimal.
    let big = iot_sql::Value::from_json_slice(b"[18446744073709551615]").unwrap();
    assert_eq!(big.to_json_string(), "[18446744073709551615]");
    let value = iot_sql::Value::from_json_slice(b"{\"n\":-25.263283700000002}").unwrap();
    assert_eq!(value.to_json_string(), "{\"n\":-25.263283700000002}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

    /// Every finite double survives payload → `Value` → JSON text unchanged.
    #[test]
    fn every_double_survives_a_payload(bits in any::<u64>()) {
        let x = f64::from_bits(bits);
        prop_assume!(x.is_finite());
        let doc = format!("[{x:e}]");
        let value = iot_sql::Value::from_json_slice(doc.as_bytes()).unwrap();
        let out = value.to_json_string();
        let back: f64 = out.trim_start_matches('[').trim_end_matches(']').parse().unwrap();
        // Compared as numbers: -0 and 0 are one JSON number.
        prop_assert_eq!(back, x, "{} came back as {}", doc, out);
    }
}

/// Strings go out as JSON with the short escapes where JSON has them and `\u00XX` for the other
/// control characters (RFC 8259 §7), and read back as they were.
#[test]
fn strings_are_escaped_as_json() {
    let value = iot_sql::Value::String("q\"b\\n\nt\t\u{1}\u{1f}\u{7f}é".to_string());
    let out = value.to_json_string();
    assert_eq!(out, "\"q\\\"b\\\\n\\nt\\t\\u0001\\u001f\u{7f}é\"");
    assert_eq!(
        serde_json::from_str::<String>(&out).unwrap(),
        "q\"b\\n\nt\t\u{1}\u{1f}\u{7f}é"
    );
}

proptest! {
    /// Every string survives `Value` → JSON text → serde_json.
    #[test]
    fn every_string_is_json(s in any::<String>()) {
        let out = iot_sql::Value::String(s.clone()).to_json_string();
        prop_assert_eq!(serde_json::from_str::<String>(&out).unwrap(), s);
    }
}
