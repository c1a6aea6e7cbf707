#![allow(clippy::unwrap_used, missing_docs)]
mod common;
use common::*;

#[test]
fn smoke() {
    assert_eq!(v2("0.1 + 0.2"), "0.3");
    assert_eq!(v2("abs(-5)"), "5");
    assert_eq!(v1("acos(0)"), "1.5707963267948966");
    assert_eq!(v2("concat([1, 2, 3], 'hello')"), "[1,2,3,\"hello\"]");
    assert_eq!(v2("substring('012345', 1, 3)"), "\"12\"");
    assert_eq!(v2("'a' + 1"), "\"a1\"");
    assert_eq!(v2("1 = '1'"), "false");
    assert_eq!(v2("md5('hello')"), "\"5d41402abc4b2a76b9719d911017c592\"");
    assert_eq!(v2("md2('hello')"), "\"a9046c73e00331af68917d3804f70655\"");
    assert_eq!(run(V2, "SELECT * FROM 'a/#' WHERE lux > 35000", "a/b", r#"{"lux":40000,"x":1.5}"#), r#"{"lux":40000,"x":1.5}"#);
    assert_eq!(run(V2, "SELECT (SELECT v FROM e WHERE n = 'temperature') as temperature FROM 't'", "t",
        r#"{"e":[{"n":"temperature","u":"Cel","t":1234,"v":22.5},{"n":"light","u":"lm","t":1235,"v":135}]}"#),
        r#"{"temperature":[{"v":22.5}]}"#);
}
