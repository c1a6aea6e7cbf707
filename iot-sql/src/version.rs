//! SQL versions (the rule's `awsIotSqlVersion`) as dialect switches.

use std::fmt;
use std::str::FromStr;

/// The SQL version a rule is written in. `2015-10-08` is AWS's default when a rule names none.
///
/// What 2016-03-23 adds (SQL reference, "SQL versions"): nested object queries, object and array
/// literals, `SELECT VALUE` (arrays as top-level output), `encode`/`decode` and the other
/// functions documented "2016-03-23 and later", the `Decimal`/`Bool`/`Boolean` cast targets, and
/// whole-number decimals processed as `Int`. `beta` is treated as 2016-03-23 plus everything this
/// crate knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[non_exhaustive]
pub enum SqlVersion {
    /// `2015-10-08`, the original version (the default).
    #[default]
    V2015_10_08,
    /// `2016-03-23`.
    V2016_03_23,
    /// `beta`.
    Beta,
}

impl SqlVersion {
    /// The version string as AWS spells it.
    pub fn as_str(&self) -> &'static str {
        match self {
            SqlVersion::V2015_10_08 => "2015-10-08",
            SqlVersion::V2016_03_23 => "2016-03-23",
            SqlVersion::Beta => "beta",
        }
    }

    /// Nested `SELECT` as an expression.
    pub fn supports_nested_queries(&self) -> bool {
        *self >= SqlVersion::V2016_03_23
    }

    /// Object (`{"a": 1}`) and array (`[1, 2]`) literals.
    pub fn supports_literals(&self) -> bool {
        *self >= SqlVersion::V2016_03_23
    }

    /// `SELECT VALUE`, which can output an array (or any value) as the top-level payload.
    pub fn supports_select_value(&self) -> bool {
        *self >= SqlVersion::V2016_03_23
    }

    /// The `SET @variable = expression` clause.
    pub fn supports_set(&self) -> bool {
        *self >= SqlVersion::V2016_03_23
    }

    /// Whole-number decimals (`10.0`) are processed as `Int` (Data types, the note on SQL V2).
    pub fn whole_decimals_are_ints(&self) -> bool {
        *self >= SqlVersion::V2016_03_23
    }
}

impl fmt::Display for SqlVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A version string that is not `2015-10-08`, `2016-03-23` or `beta`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownSqlVersion(pub String);

impl fmt::Display for UnknownSqlVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown SQL version {:?}: expected \"2015-10-08\", \"2016-03-23\" or \"beta\"",
            self.0
        )
    }
}

impl std::error::Error for UnknownSqlVersion {}

impl FromStr for SqlVersion {
    type Err = UnknownSqlVersion;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "2015-10-08" => Ok(SqlVersion::V2015_10_08),
            "2016-03-23" => Ok(SqlVersion::V2016_03_23),
            "beta" => Ok(SqlVersion::Beta),
            other => Err(UnknownSqlVersion(other.to_owned())),
        }
    }
}
