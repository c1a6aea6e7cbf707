//! Arbitrary text as rule SQL in every version. Invariants: parsing never panics; a parsed
//! statement printed with `Display` parses again to an equal statement (spans aside); a
//! template parse never panics.

use iot_sql::{Rule, SqlVersion, Template};

/// One fuzz input: panics on a broken invariant.
pub fn run(data: &[u8]) {
    let Ok(sql) = std::str::from_utf8(data) else {
        return;
    };
    for version in [
        SqlVersion::V2015_10_08,
        SqlVersion::V2016_03_23,
        SqlVersion::Beta,
    ] {
        if let Ok(rule) = Rule::parse(sql, version) {
            let printed = rule.statement().to_string();
            let again = Rule::parse(&printed, version)
                .unwrap_or_else(|e| panic!("{sql:?} printed as {printed:?} does not parse: {e}"));
            assert_eq!(
                again.statement(),
                rule.statement(),
                "{sql:?} printed as {printed:?}"
            );
        }
    }
    let _ = Template::parse(sql);
}
