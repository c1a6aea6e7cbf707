//! The `Condition` element: IAM condition operators over request keys.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::context::RequestContextOf;
use crate::pattern::{Match, Pattern, Syntax, compile};
use crate::variables::KeyRef;

/// Numeric and date comparisons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    fn holds<T: PartialOrd>(self, request: T, policy: T) -> bool {
        match self {
            Cmp::Eq => request == policy,
            Cmp::Lt => request < policy,
            Cmp::Le => request <= policy,
            Cmp::Gt => request > policy,
            Cmp::Ge => request >= policy,
        }
    }
}

/// How a multi-valued key is quantified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SetOp {
    /// No prefix.
    Plain,
    /// `ForAnyValue:`.
    AnyValue,
    /// `ForAllValues:`.
    AllValues,
}

/// The comparison family of an operator, with its compiled policy values.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Values {
    /// `String*` (`fold` for `IgnoreCase`) and `Arn*`: patterns that may hold variables.
    Patterns {
        patterns: Vec<Pattern>,
        fold: bool,
    },
    Numbers(Cmp, Vec<f64>),
    /// Milliseconds since the Unix epoch.
    Dates(Cmp, Vec<i64>),
    Bools(Vec<bool>),
    Cidrs(Vec<IpNet>),
    /// `Null`: `true` means "the key is absent".
    Null(Vec<bool>),
}

/// One compiled `"Operator": {"key": values}` entry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Condition {
    /// The operator as written, e.g. `ForAnyValue:StringLikeIfExists`.
    pub(crate) operator: Box<str>,
    pub(crate) key: KeyRef,
    pub(crate) set: SetOp,
    pub(crate) negated: bool,
    pub(crate) if_exists: bool,
    pub(crate) values: Values,
}

/// An operator name split into its parts, before its values are compiled.
pub(crate) struct OperatorSpec {
    pub(crate) set: SetOp,
    pub(crate) negated: bool,
    pub(crate) if_exists: bool,
    pub(crate) family: Family,
}

/// The operator family, deciding how values are compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    String { fold: bool, like: bool },
    Numeric(Cmp),
    Date(Cmp),
    Bool,
    Ip,
    Arn,
    Null,
}

/// Parses an operator name such as `ForAllValues:StringNotLikeIfExists`.
pub(crate) fn parse_operator(name: &str) -> Option<OperatorSpec> {
    let (set, rest) = if let Some(rest) = name.strip_prefix("ForAnyValue:") {
        (SetOp::AnyValue, rest)
    } else if let Some(rest) = name.strip_prefix("ForAllValues:") {
        (SetOp::AllValues, rest)
    } else {
        (SetOp::Plain, name)
    };
    let (base, if_exists) = match rest.strip_suffix("IfExists") {
        Some(base) => (base, true),
        None => (rest, false),
    };
    let (family, negated) = match base {
        "StringEquals" => (
            Family::String {
                fold: false,
                like: false,
            },
            false,
        ),
        "StringNotEquals" => (
            Family::String {
                fold: false,
                like: false,
            },
            true,
        ),
        "StringEqualsIgnoreCase" => (
            Family::String {
                fold: true,
                like: false,
            },
            false,
        ),
        "StringNotEqualsIgnoreCase" => (
            Family::String {
                fold: true,
                like: false,
            },
            true,
        ),
        "StringLike" => (
            Family::String {
                fold: false,
                like: true,
            },
            false,
        ),
        "StringNotLike" => (
            Family::String {
                fold: false,
                like: true,
            },
            true,
        ),
        "NumericEquals" => (Family::Numeric(Cmp::Eq), false),
        "NumericNotEquals" => (Family::Numeric(Cmp::Eq), true),
        "NumericLessThan" => (Family::Numeric(Cmp::Lt), false),
        "NumericLessThanEquals" => (Family::Numeric(Cmp::Le), false),
        "NumericGreaterThan" => (Family::Numeric(Cmp::Gt), false),
        "NumericGreaterThanEquals" => (Family::Numeric(Cmp::Ge), false),
        "DateEquals" => (Family::Date(Cmp::Eq), false),
        "DateNotEquals" => (Family::Date(Cmp::Eq), true),
        "DateLessThan" => (Family::Date(Cmp::Lt), false),
        "DateLessThanEquals" => (Family::Date(Cmp::Le), false),
        "DateGreaterThan" => (Family::Date(Cmp::Gt), false),
        "DateGreaterThanEquals" => (Family::Date(Cmp::Ge), false),
        "Bool" => (Family::Bool, false),
        "IpAddress" => (Family::Ip, false),
        "NotIpAddress" => (Family::Ip, true),
        "ArnEquals" | "ArnLike" => (Family::Arn, false),
        "ArnNotEquals" | "ArnNotLike" => (Family::Arn, true),
        // `Null` takes no IfExists and no set prefix: it is itself the existence test.
        "Null" if !if_exists && set == SetOp::Plain => (Family::Null, false),
        _ => return None,
    };
    Some(OperatorSpec {
        set,
        negated,
        if_exists,
        family,
    })
}

/// Compiles one policy value for a family; `None` if the operator cannot use it.
pub(crate) fn compile_value(
    family: Family,
    text: &str,
    variables: bool,
) -> Option<Result<Compiled, crate::PolicyErrorKind>> {
    Some(Ok(match family {
        Family::String { like, .. } => {
            let syntax = Syntax {
                wildcards: like,
                variables,
            };
            match compile(text, syntax) {
                Ok(p) => Compiled::Pattern(p),
                Err(e) => return Some(Err(e)),
            }
        }
        Family::Arn => {
            let syntax = Syntax {
                wildcards: true,
                variables,
            };
            match compile(text, syntax) {
                Ok(p) => Compiled::Pattern(p),
                Err(e) => return Some(Err(e)),
            }
        }
        Family::Numeric(_) => Compiled::Number(parse_number(text)?),
        Family::Date(_) => Compiled::Date(parse_date(text)?),
        Family::Bool | Family::Null => Compiled::Bool(parse_bool(text)?),
        Family::Ip => Compiled::Cidr(parse_cidr(text)?),
    }))
}

/// One compiled policy value.
pub(crate) enum Compiled {
    Pattern(Pattern),
    Number(f64),
    Date(i64),
    Bool(bool),
    Cidr(IpNet),
}

fn parse_number(text: &str) -> Option<f64> {
    let n: f64 = text.trim().parse().ok()?;
    n.is_finite().then_some(n)
}

fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// An `IpAddress` value: `a.b.c.d/n`, `x::y/n`, or one address (bits below the prefix are
/// ignored, as IAM does).
fn parse_cidr(text: &str) -> Option<IpNet> {
    match text.split_once('/') {
        Some((addr, bits)) => {
            let addr: IpAddr = addr.parse().ok()?;
            if bits.is_empty() || !bits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            IpNet::new(addr, bits.parse::<u8>().ok()?).ok()
        }
        None => Some(IpNet::from(text.parse::<IpAddr>().ok()?)),
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
/// Inputs are at most four-digit years, so nothing overflows; checked anyway.
fn days_from_civil(y: i64, m: i64, d: i64) -> Option<i64> {
    let y = if m <= 2 { y.checked_sub(1)? } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = m.checked_add(9)?.rem_euclid(12);
    let doy = 153i64
        .checked_mul(mp)?
        .checked_add(2)?
        .checked_div(5)?
        .checked_add(d.checked_sub(1)?)?;
    let doe = yoe
        .checked_mul(365)?
        .checked_add(yoe.checked_div(4)?)?
        .checked_sub(yoe.checked_div(100)?)?
        .checked_add(doy)?;
    era.checked_mul(146_097)?
        .checked_add(doe)?
        .checked_sub(719_468)
}

fn digits(text: &str, from: usize, len: usize) -> Option<i64> {
    let s = text.get(from..from.checked_add(len)?)?;
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses an ISO 8601 date or date-time (`2024-06-01`, `2024-06-01T12:00:00Z`,
/// `2024-06-01T12:00:00.5+02:00`) or an epoch time in seconds, to epoch milliseconds.
pub(crate) fn parse_date(text: &str) -> Option<i64> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse::<i64>().ok()?.checked_mul(1000);
    }
    let year = digits(text, 0, 4)?;
    let b = text.as_bytes();
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let month = digits(text, 5, 2)?;
    let day = digits(text, 8, 2)?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let days = days_from_civil(year, month, day)?;
    let mut millis = days.checked_mul(86_400_000)?;
    if text.len() == 10 {
        return Some(millis);
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) || b.get(13) != Some(&b':') {
        return None;
    }
    let hour = digits(text, 11, 2)?;
    let minute = digits(text, 14, 2)?;
    let mut at = 16;
    let mut second = 0;
    if b.get(16) == Some(&b':') {
        second = digits(text, 17, 2)?;
        at = 19;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let seconds = hour
        .checked_mul(3600)?
        .checked_add(minute.checked_mul(60)?)?
        .checked_add(second)?;
    millis = millis.checked_add(seconds.checked_mul(1000)?)?;
    if b.get(at) == Some(&b'.') {
        at = at.checked_add(1)?;
        let start = at;
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            at = at.checked_add(1)?;
        }
        let frac = text.get(start..at)?;
        if frac.is_empty() {
            return None;
        }
        // Milliseconds from the first three digits, padded with zeros; no allocation.
        let mut ms = 0i64;
        for i in 0..3 {
            let digit = frac.as_bytes().get(i).map_or(0, |d| d.saturating_sub(b'0'));
            ms = ms.checked_mul(10)?.checked_add(i64::from(digit))?;
        }
        millis = millis.checked_add(ms)?;
    }
    match b.get(at) {
        Some(b'Z' | b'z') if at.checked_add(1)? == b.len() => Some(millis),
        Some(sign @ (b'+' | b'-')) if at.checked_add(6)? == b.len() => {
            let oh = digits(text, at.checked_add(1)?, 2)?;
            if b.get(at.checked_add(3)?) != Some(&b':') {
                return None;
            }
            let om = digits(text, at.checked_add(4)?, 2)?;
            let offset = oh.checked_mul(60)?.checked_add(om)?.checked_mul(60_000)?;
            if *sign == b'+' {
                millis.checked_sub(offset)
            } else {
                millis.checked_add(offset)
            }
        }
        None => Some(millis),
        _ => None,
    }
}

impl Condition {
    /// Whether one request value satisfies the operator before negation; `None` when the
    /// value cannot be read as the operator's type (it then satisfies nothing).
    fn positive<S: AsRef<str>>(&self, value: &str, ctx: &RequestContextOf<'_, S>) -> Option<bool> {
        Some(match &self.values {
            Values::Patterns { patterns, fold } => patterns
                .iter()
                .any(|p| p.matches(value, ctx, *fold) == Match::Yes),
            Values::Numbers(cmp, numbers) => {
                let v = parse_number(value)?;
                numbers.iter().any(|n| cmp.holds(v, *n))
            }
            Values::Dates(cmp, dates) => {
                let v = parse_date(value)?;
                dates.iter().any(|d| cmp.holds(v, *d))
            }
            Values::Bools(bools) => {
                let v = parse_bool(value)?;
                bools.contains(&v)
            }
            Values::Cidrs(cidrs) => {
                let ip: IpAddr = value.parse().ok()?;
                cidrs.iter().any(|net| net.contains(&ip))
            }
            Values::Null(_) => return None,
        })
    }

    /// The operator (negation applied) on one request value.
    fn holds<S: AsRef<str>>(&self, value: &str, ctx: &RequestContextOf<'_, S>) -> bool {
        match self.positive(value, ctx) {
            Some(p) => p != self.negated,
            None => false,
        }
    }

    /// Evaluates the condition against a request. A missing key makes a positive operator
    /// false and a negated one true; `...IfExists` makes it true; `ForAnyValue` is false and
    /// `ForAllValues` true over no values, as in IAM.
    pub(crate) fn evaluate<S: AsRef<str>>(&self, ctx: &RequestContextOf<'_, S>) -> bool {
        let mut values = self.key.selected(ctx);
        if let Values::Null(expected) = &self.values {
            let absent = values.next().is_none();
            return expected.contains(&absent);
        }
        if values.clone().next().is_none() {
            if self.if_exists {
                return true;
            }
            return match self.set {
                SetOp::AnyValue => false,
                SetOp::AllValues => true,
                SetOp::Plain => self.negated,
            };
        }
        match self.set {
            SetOp::Plain if self.negated => values.all(|v| self.holds(v, ctx)),
            SetOp::Plain | SetOp::AnyValue => values.any(|v| self.holds(v, ctx)),
            SetOp::AllValues => values.all(|v| self.holds(v, ctx)),
        }
    }

    /// The key as written.
    pub(crate) fn key_name(&self) -> &str {
        &self.key.name
    }

    /// Variables in the condition's values.
    pub(crate) fn value_variables(&self) -> impl Iterator<Item = &KeyRef> {
        let patterns: &[Pattern] = match &self.values {
            Values::Patterns { patterns, .. } => patterns,
            _ => &[],
        };
        patterns.iter().flat_map(Pattern::variables)
    }
}
