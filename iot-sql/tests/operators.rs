//! The operator tables and the conversion table of the AWS IoT SQL reference ("Operators",
//! "Data types" → "Conversions"), row by row, with exact outputs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;
use common::*;

fn check(cases: &[(&str, &str)]) {
    for (expr, want) in cases {
        assert_eq!(v2(expr), *want, "{expr}");
    }
}

#[test]
fn and_or_not() {
    check(&[
        ("TRUE AND TRUE", "true"),
        ("TRUE AND FALSE", "false"),
        ("'true' AND TRUE", "true"),
        ("'TRUE' AND 'false'", "false"),
        ("'yes' AND TRUE", "undefined"),
        ("1 AND TRUE", "undefined"),
        ("FALSE OR TRUE", "true"),
        ("FALSE OR 'False'", "false"),
        ("NULL OR TRUE", "undefined"),
        ("NOT TRUE", "false"),
        ("NOT 'false'", "true"),
        ("NOT 0", "undefined"),
        ("NOT missing", "undefined"),
    ]);
}

#[test]
fn comparisons() {
    check(&[
        ("2 > 1", "true"),
        ("1.5 > 1", "true"),
        ("'10' > 9", "true"),
        ("'10' > '9'", "true"),
        ("'abc' > 1", "undefined"),
        ("TRUE > 1", "undefined"),
        ("2 >= 2.0", "true"),
        ("1 < 2", "true"),
        ("1 <= '1.0'", "true"),
        ("missing < 1", "undefined"),
    ]);
}

#[test]
fn equality() {
    check(&[
        ("1 = 1", "true"),
        ("1 = 1.0", "true"),
        ("1.50 = 1.5", "true"),
        ("'a' = 'a'", "true"),
        ("[1, 2] = [1, 2]", "true"),
        ("[1, 2] = [2, 1]", "false"),
        ("{'a': 1, 'b': 2} = {'b': 2, 'a': 1}", "true"),
        ("NULL = NULL", "true"),
        ("missing = 1", "undefined"),
        ("1 = missing", "undefined"),
        // Mismatched types: = is false, <> is true.
        ("1 = '1'", "false"),
        ("TRUE = 'true'", "false"),
        ("1 <> '1'", "true"),
        ("1 <> 2", "true"),
        ("1 != 1", "false"),
        ("NULL <> NULL", "false"),
        ("[1] <> [1]", "false"),
        ("missing <> 1", "undefined"),
    ]);
}

#[test]
fn arithmetic() {
    check(&[
        // + concatenates when either side is a string.
        ("'a' + 'b'", "\"ab\""),
        ("'a' + 1", "\"a1\""),
        ("1 + 'a'", "\"1a\""),
        ("'5' + 3", "\"53\""),
        ("'a' + [1]", "\"a[1]\""),
        ("'a' + NULL", "undefined"),
        ("1 + 2", "3"),
        ("1 + 2.5", "3.5"),
        ("0.1 + 0.2", "0.3"),
        ("TRUE + 1", "undefined"),
        ("5 - 3", "2"),
        ("5.5 - 3", "2.5"),
        ("'5' - 3", "2"),
        ("'x' - 3", "undefined"),
        ("3 * 4", "12"),
        ("'1.5' * 2", "3"),
        ("1.1 * 1.1", "1.21"),
        ("7 / 2", "3"),
        ("1 / 0", "undefined"),
        ("1.0 / 0", "undefined"),
        ("7 % 3", "1"),
        ("-7 % 3", "-1"),
        ("7.5 % 2", "1.5"),
        ("'7' % '4'", "3"),
        ("7 % 0", "undefined"),
        ("- 5", "-5"),
        ("-'5'", "-5"),
        ("-'x'", "undefined"),
        // Int overflow becomes an exact decimal.
        ("9223372036854775807 + 1", "9223372036854775808"),
        ("-9223372036854775808 - 1", "-9223372036854775809"),
        (
            "99999999999999999999 * 99999999999999999999",
            "9.999999999999999999800000000000000E+39",
        ),
        // Standard precedence: * before +, comparisons before AND, AND before OR.
        ("1 + 2 * 3", "7"),
        ("(1 + 2) * 3", "9"),
        ("1 + 1 = 2 AND 2 > 1 OR FALSE", "true"),
        ("NOT 1 = 2", "true"),
        ("10 - 2 - 3", "5"),
        ("16 / 4 / 2", "2"),
    ]);
    // 2015-10-08 keeps decimals (and their scale) as written.
    assert_eq!(v1("7.0 / 2"), "3.5");
    assert_eq!(v1("1 / 3.0"), "0.3333333333333333333333333333333333");
    assert_eq!(v1("2 / 3.0"), "0.6666666666666666666666666666666667");
    // 2016-03-23 processes the whole-number decimal 3.0 as the Int 3 (Data types), so these are
    // Int divisions.
    assert_eq!(v2("7.0 / 2"), "3");
    assert_eq!(v2("2 / 3.0"), "0");
    assert_eq!(v1("1.0 + 2.0"), "3.0");
    assert_eq!(v1("1.5 * 2"), "3.0");
    assert_eq!(v1("'1.5' * 2"), "3.0");
}

#[test]
fn in_operator() {
    check(&[
        ("3 IN [1, 2, 3]", "true"),
        ("'a' IN ['b']", "false"),
        ("[1] IN [[1], 2]", "true"),
        ("{'a': 1} IN [{'a': 1}]", "true"),
        ("1 IN 1", "undefined"),
        ("missing IN [1]", "undefined"),
    ]);
}

/// "Conversions" table: To decimal, To int, To Boolean, To string. Functions apply these to
/// arguments of the wrong type: `abs` converts to a decimal, `bitnot` to an int, `NOT` to a
/// boolean, `upper` to a string.
#[test]
fn conversion_table() {
    check(&[
        // To decimal.
        ("abs(-3)", "3"),
        ("abs(-3.5)", "3.5"),
        ("abs(TRUE)", "undefined"),
        ("abs('-5.123')", "5.123"),
        ("abs('0')", "0"),
        ("abs('5E-12')", "5E-12"),
        ("abs('5e-12')", "5E-12"),
        ("abs(' 5')", "undefined"),
        ("abs('1.')", "undefined"),
        ("abs('+1')", "undefined"),
        ("abs([1])", "undefined"),
        ("abs({'a': 1})", "undefined"),
        ("abs(NULL)", "undefined"),
        ("abs(missing)", "undefined"),
        // To int.
        ("bitnot(5)", "-6"),
        ("bitnot(5.9)", "-6"),
        ("bitnot('5.9')", "-6"),
        ("bitnot(TRUE)", "undefined"),
        ("bitnot([5])", "undefined"),
        // To Boolean.
        ("NOT TRUE", "false"),
        ("NOT 'TrUe'", "false"),
        ("NOT 1", "undefined"),
        ("NOT 1.0", "undefined"),
        ("NOT 'yes'", "undefined"),
        ("NOT [TRUE]", "undefined"),
        ("NOT NULL", "undefined"),
        // To string.
        ("upper(12)", "\"12\""),
        ("upper(1.5E-7)", "\"1.5E-7\""),
        ("upper(TRUE)", "\"TRUE\""),
        ("lower(TRUE)", "\"true\""),
        ("upper('s')", "\"S\""),
        ("lower([1, 'a', TRUE, NULL])", "\"[1,\\\"a\\\",true,null]\""),
        (
            "lower({'k': 'V', 'n': 1.5})",
            "\"{\\\"k\\\":\\\"v\\\",\\\"n\\\":1.5}\"",
        ),
        ("upper(NULL)", "undefined"),
        ("upper(missing)", "undefined"),
    ]);
}

#[test]
fn decimals_are_exact() {
    check(&[
        ("0.1 + 0.2 = 0.3", "true"),
        (
            "1.23456789012345678901234567890123 + 1",
            "2.23456789012345678901234567890123",
        ),
        ("0.000001 * 1", "0.000001"),
        ("0.0000001 * 1", "1E-7"),
        ("1E+3 * 1", "1000"),
        ("2 / 3.5", "0.5714285714285714285714285714285714"),
        ("1E999 * 10", "undefined"),
    ]);
    // Payload numbers: integers stay Int; other numbers keep the double's shortest digits.
    assert_eq!(value_in(V1, "x + 0.2", r#"{"x":0.1}"#).to_string(), "0.3");
    assert_eq!(value_in(V1, "x", r#"{"x":10.0}"#).to_string(), "10.0");
    assert_eq!(value_in(V2, "x", r#"{"x":10.0}"#).to_string(), "10");
    assert_eq!(
        value_in(V2, "x", r#"{"x":12345678901234567890}"#).to_string(),
        "12345678901234567890"
    );
}
