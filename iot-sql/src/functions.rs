//! The function library (SQL reference, "Functions"): each function's name, the SQL version that
//! introduced it, its volatility, and its implementation. Invalid arguments (wrong types, wrong
//! number) give `Undefined`, as AWS documents; only the functions that call AWS services can fail
//! the evaluation.

use std::borrow::Cow;

use base64::Engine as _;
use regex::Regex;

use crate::decimal::{Decimal, Rounding};
use crate::error::{EvalError, ExternalError};
use crate::eval::Env;
use crate::time;
use crate::value::{Num, Value};
use crate::version::SqlVersion;

/// How a function's result depends on its inputs (the DataFusion notion of volatility).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Volatility {
    /// Depends on its arguments only.
    Pure,
    /// Reads the message's context (topic, client id, timestamp, ...).
    MessageContext,
    /// Differs on every call (`newuuid`, `rand`).
    NonDeterministic,
    /// Calls an AWS service through [`ExternalFunctions`](crate::ExternalFunctions).
    External,
}

macro_rules! functions {
    ($($variant:ident => $name:literal, $since:ident, $vol:ident;)*) => {
        /// A built-in function. Names are case-insensitive in SQL text.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Function {
            $(
                #[doc = concat!("`", $name, "()`")]
                $variant,
            )*
        }

        impl Function {
            /// Every function, in alphabetical order.
            pub const ALL: &'static [Function] = &[$(Function::$variant),*];

            /// The function's name as the reference spells it.
            pub fn name(&self) -> &'static str {
                match self {
                    $(Function::$variant => $name,)*
                }
            }

            /// The first SQL version that has the function.
            pub fn since(&self) -> SqlVersion {
                match self {
                    $(Function::$variant => SqlVersion::$since,)*
                }
            }

            /// How the result depends on the inputs.
            pub fn volatility(&self) -> Volatility {
                match self {
                    $(Function::$variant => Volatility::$vol,)*
                }
            }
        }
    };
}

functions! {
    Abs => "abs", V2015_10_08, Pure;
    AccountId => "accountid", V2015_10_08, MessageContext;
    Acos => "acos", V2015_10_08, Pure;
    Asin => "asin", V2015_10_08, Pure;
    Atan => "atan", V2015_10_08, Pure;
    Atan2 => "atan2", V2015_10_08, Pure;
    AwsLambda => "aws_lambda", V2015_10_08, External;
    BitAnd => "bitand", V2015_10_08, Pure;
    BitNot => "bitnot", V2015_10_08, Pure;
    BitOr => "bitor", V2015_10_08, Pure;
    BitXor => "bitxor", V2015_10_08, Pure;
    Ceil => "ceil", V2015_10_08, Pure;
    Chr => "chr", V2015_10_08, Pure;
    ClientId => "clientid", V2015_10_08, MessageContext;
    Concat => "concat", V2015_10_08, Pure;
    Cos => "cos", V2015_10_08, Pure;
    Cosh => "cosh", V2015_10_08, Pure;
    Decode => "decode", V2016_03_23, Pure;
    Encode => "encode", V2016_03_23, Pure;
    EndsWith => "endswith", V2015_10_08, Pure;
    Exp => "exp", V2015_10_08, Pure;
    Floor => "floor", V2015_10_08, Pure;
    Get => "get", V2015_10_08, Pure;
    GetDynamoDb => "get_dynamodb", V2016_03_23, External;
    GetOrDefault => "get_or_default", V2016_03_23, Pure;
    GetRegistryData => "get_registry_data", V2016_03_23, External;
    GetSecret => "get_secret", V2015_10_08, External;
    GetThingShadow => "get_thing_shadow", V2016_03_23, External;
    IndexOf => "indexof", V2016_03_23, Pure;
    IsNull => "isNull", V2015_10_08, Pure;
    IsUndefined => "isUndefined", V2016_03_23, Pure;
    Length => "length", V2016_03_23, Pure;
    Ln => "ln", V2015_10_08, Pure;
    Log => "log", V2015_10_08, Pure;
    Lower => "lower", V2015_10_08, Pure;
    Lpad => "lpad", V2015_10_08, Pure;
    Ltrim => "ltrim", V2015_10_08, Pure;
    MachineLearningPredict => "machinelearning_predict", V2015_10_08, External;
    Md2 => "md2", V2015_10_08, Pure;
    Md5 => "md5", V2015_10_08, Pure;
    Mod => "mod", V2015_10_08, Pure;
    Nanvl => "nanvl", V2015_10_08, Pure;
    NewUuid => "newuuid", V2015_10_08, NonDeterministic;
    NumBytes => "numbytes", V2016_03_23, Pure;
    ParseTime => "parse_time", V2016_03_23, Pure;
    Power => "power", V2015_10_08, Pure;
    Principal => "principal", V2015_10_08, MessageContext;
    Rand => "rand", V2015_10_08, NonDeterministic;
    RegexpMatches => "regexp_matches", V2015_10_08, Pure;
    RegexpReplace => "regexp_replace", V2015_10_08, Pure;
    RegexpSubstr => "regexp_substr", V2015_10_08, Pure;
    Remainder => "remainder", V2015_10_08, Pure;
    Replace => "replace", V2015_10_08, Pure;
    Round => "round", V2015_10_08, Pure;
    Rpad => "rpad", V2015_10_08, Pure;
    Rtrim => "rtrim", V2015_10_08, Pure;
    Sha1 => "sha1", V2015_10_08, Pure;
    Sha224 => "sha224", V2015_10_08, Pure;
    Sha256 => "sha256", V2015_10_08, Pure;
    Sha384 => "sha384", V2015_10_08, Pure;
    Sha512 => "sha512", V2015_10_08, Pure;
    Sign => "sign", V2015_10_08, Pure;
    Sin => "sin", V2015_10_08, Pure;
    Sinh => "sinh", V2015_10_08, Pure;
    SourceIp => "sourceip", V2016_03_23, MessageContext;
    SqlVersionFn => "sql_version", V2015_10_08, MessageContext;
    Sqrt => "sqrt", V2015_10_08, Pure;
    StartsWith => "startswith", V2015_10_08, Pure;
    Substring => "substring", V2015_10_08, Pure;
    Tan => "tan", V2015_10_08, Pure;
    Tanh => "tanh", V2015_10_08, Pure;
    TimeToEpoch => "time_to_epoch", V2016_03_23, Pure;
    Timestamp => "timestamp", V2015_10_08, MessageContext;
    Topic => "topic", V2015_10_08, MessageContext;
    TraceId => "traceid", V2015_10_08, MessageContext;
    Transform => "transform", V2016_03_23, Pure;
    Trim => "trim", V2015_10_08, Pure;
    Trunc => "trunc", V2015_10_08, Pure;
    Upper => "upper", V2015_10_08, Pure;
}

impl Function {
    /// The function called `name` (case-insensitive).
    pub fn lookup(name: &str) -> Option<Function> {
        Function::ALL
            .iter()
            .copied()
            .find(|f| f.name().eq_ignore_ascii_case(name))
    }

    /// Which argument, if any, is a regular expression compiled once when the rule is parsed
    /// (if it is a string literal).
    pub(crate) fn regex_argument(&self) -> Option<usize> {
        match self {
            Function::RegexpMatches | Function::RegexpReplace | Function::RegexpSubstr => Some(1),
            _ => None,
        }
    }
}

/// Longest string that `lpad`/`rpad` pad to: "The Int argument must be between 0 and 1000".
const MAX_PAD: usize = 1000;
/// Size limit of a compiled regular expression (the `regex` crate's own guard against
/// patterns that compile to huge automata).
pub(crate) const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Compiles a regular expression with the size limits; `None` if it is invalid or too large.
pub(crate) fn compile_regex(pattern: &str) -> Option<Regex> {
    regex::RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .nest_limit(64)
        .build()
        .ok()
}

/// Argument `i`, if given.
pub(crate) fn given<'a>(args: &'a [Cow<'_, Value>], i: usize) -> Option<&'a Value> {
    args.get(i).map(AsRef::as_ref)
}

/// Argument `i`, `Undefined` if not given.
fn arg<'a>(args: &'a [Cow<'_, Value>], i: usize) -> &'a Value {
    static UNDEFINED: Value = Value::Undefined;
    given(args, i).unwrap_or(&UNDEFINED)
}

fn str_arg<'a>(args: &'a [Cow<'_, Value>], i: usize) -> Option<Cow<'a, str>> {
    arg(args, i).to_sql_str()
}

fn double(v: f64) -> Value {
    Decimal::from_f64(v).map_or(Value::Undefined, Value::Decimal)
}

/// A one-argument function of a double: the argument converted, the result as a
/// double-precision `Decimal`; NaN and infinities (imaginary results) are `Undefined`.
fn unary_double(args: &[Cow<'_, Value>], f: fn(f64) -> f64) -> Value {
    if args.len() != 1 {
        return Value::Undefined;
    }
    match arg(args, 0).to_num() {
        Some(n) => double(f(n.to_f64())),
        None => Value::Undefined,
    }
}

/// An index argument: the number rounded down, saturating to the `i64` range.
fn index_arg(v: &Value) -> Option<i64> {
    match v.to_num()? {
        Num::Int(i) => Some(i),
        Num::Dec(d) => Some(d.to_i64(Rounding::Floor).unwrap_or(if d.signum() < 0 {
            i64::MIN
        } else {
            i64::MAX
        })),
    }
}

fn int_rounded(args: &[Cow<'_, Value>], mode: Rounding) -> Value {
    if args.len() != 1 {
        return Value::Undefined;
    }
    match arg(args, 0).to_num() {
        Some(Num::Int(i)) => Value::Int(i),
        Some(Num::Dec(d)) => d.to_i64(mode).map_or(Value::Undefined, Value::Int),
        None => Value::Undefined,
    }
}

fn bitwise(args: &[Cow<'_, Value>], f: fn(i64, i64) -> i64) -> Value {
    if args.len() != 2 {
        return Value::Undefined;
    }
    match (
        arg(args, 0).to_int(Rounding::Floor),
        arg(args, 1).to_int(Rounding::Floor),
    ) {
        (Some(a), Some(b)) => Value::Int(f(a, b)),
        _ => Value::Undefined,
    }
}

fn hash<D: sha2::Digest>(args: &[Cow<'_, Value>]) -> Value {
    if args.len() != 1 {
        return Value::Undefined;
    }
    match str_arg(args, 0) {
        Some(s) => Value::String(hex::encode(D::digest(s.as_bytes()))),
        None => Value::Undefined,
    }
}

/// `i` clamped into `0..=max`: a negative count is none, a count past `max` is `max`.
fn clamp_index(i: i64, max: usize) -> usize {
    match usize::try_from(i) {
        Ok(i) => i.min(max),
        Err(_) if i < 0 => 0,
        Err(_) => max,
    }
}

fn pad(args: &[Cow<'_, Value>], left: bool) -> Value {
    if args.len() != 2 {
        return Value::Undefined;
    }
    let Some(s) = str_arg(args, 0) else {
        return Value::Undefined;
    };
    let Some(n) = index_arg(arg(args, 1)) else {
        return Value::Undefined;
    };
    let n = clamp_index(n, MAX_PAD);
    let mut out = String::with_capacity(s.len().saturating_add(n));
    if left {
        out.extend(std::iter::repeat_n(' ', n));
        out.push_str(&s);
    } else {
        out.push_str(&s);
        out.extend(std::iter::repeat_n(' ', n));
    }
    Value::String(out)
}

fn trim(args: &[Cow<'_, Value>], start: bool, end: bool) -> Value {
    if args.len() != 1 {
        return Value::Undefined;
    }
    let Some(s) = str_arg(args, 0) else {
        return Value::Undefined;
    };
    // Java's String.trim: every character up to U+0020 is white space.
    let ws = |c: char| c <= ' ';
    let t = match (start, end) {
        (true, true) => s.trim_matches(ws),
        (true, false) => s.trim_start_matches(ws),
        _ => s.trim_end_matches(ws),
    };
    Value::String(t.to_owned())
}

fn affix(args: &[Cow<'_, Value>], f: fn(&str, &str) -> bool) -> Value {
    if args.len() != 2 {
        return Value::Undefined;
    }
    match (str_arg(args, 0), str_arg(args, 1)) {
        (Some(a), Some(b)) => Value::Bool(f(&a, &b)),
        _ => Value::Undefined,
    }
}

fn concat(args: Vec<Cow<'_, Value>>, max: usize) -> Result<Value, EvalError> {
    if args.is_empty() {
        return Ok(Value::Undefined);
    }
    let args = match <[Cow<'_, Value>; 1]>::try_from(args) {
        Ok([only]) => {
            // `concat(1)` = "1" in the reference's examples.
            return Ok(match only.into_owned() {
                v @ Value::Array(_) => v,
                Value::String(s) => Value::String(s),
                other => other
                    .to_sql_string()
                    .map_or(Value::Undefined, Value::String),
            });
        }
        Err(args) => args,
    };
    if args.iter().any(|a| matches!(a.as_ref(), Value::Array(_))) {
        let mut out = Vec::new();
        for a in args {
            match a.into_owned() {
                Value::Array(items) => out.extend(items),
                Value::Undefined => return Ok(Value::Undefined),
                other => out.push(other),
            }
        }
        return Ok(Value::Array(out));
    }
    if !args.iter().any(|a| matches!(a.as_ref(), Value::String(_))) {
        return Ok(Value::Undefined);
    }
    let mut s = String::new();
    for a in &args {
        match a.to_sql_str() {
            Some(part) => s.push_str(&part),
            None => return Ok(Value::Undefined),
        }
        if s.len() > max {
            return Err(EvalError::ValueTooLarge { max });
        }
    }
    Ok(Value::String(s))
}

fn substring(args: &[Cow<'_, Value>]) -> Value {
    if !(2..=3).contains(&args.len()) {
        return Value::Undefined;
    }
    let Some(s) = str_arg(args, 0) else {
        return Value::Undefined;
    };
    let len = s.chars().count();
    let Some(start) = index_arg(arg(args, 1)) else {
        return Value::Undefined;
    };
    let start = clamp_index(start, len);
    let end = if args.len() == 3 {
        match index_arg(arg(args, 2)) {
            Some(e) => clamp_index(e, len),
            None => return Value::Undefined,
        }
    } else {
        len
    };
    // Characters `start..end` (none when `start >= end`).
    Value::String(s.chars().take(end).skip(start).collect())
}

fn get(args: &[Cow<'_, Value>]) -> Value {
    if args.len() != 2 {
        return Value::Undefined;
    }
    let key = arg(args, 1);
    match arg(args, 0) {
        Value::Array(items) => {
            let i = match key {
                Value::Decimal(d) => d.to_i64(Rounding::HalfUp),
                other => other.to_int(Rounding::Down),
            };
            // An index outside the array (or not a number) is Undefined.
            i.and_then(|i| usize::try_from(i).ok())
                .and_then(|i| items.get(i))
                .map_or(Value::Undefined, Value::clone)
        }
        Value::String(s) => {
            let i = match key {
                Value::Decimal(d) => d.to_i64(Rounding::HalfUp),
                other => other.to_int(Rounding::Down),
            };
            i.and_then(|i| usize::try_from(i).ok())
                .and_then(|i| s.chars().nth(i))
                .map_or(Value::Undefined, |c| Value::String(c.to_string()))
        }
        Value::Object(map) => match key {
            // A key the object lacks is Undefined.
            Value::String(k) => map.get(k).map_or(Value::Undefined, Value::clone),
            _ => Value::Undefined,
        },
        _ => Value::Undefined,
    }
}

fn cast(v: &Value, ty: crate::ast::CastType) -> Value {
    use crate::ast::CastType;
    match ty {
        CastType::String => v.to_sql_string().map_or(Value::Undefined, Value::String),
        CastType::Int => match v {
            Value::Bool(b) => Value::Int(i64::from(*b)),
            other => other
                .to_int(Rounding::Floor)
                .map_or(Value::Undefined, Value::Int),
        },
        CastType::Double => match v {
            Value::Bool(b) => double(if *b { 1.0 } else { 0.0 }),
            other => other
                .to_num()
                .map_or(Value::Undefined, |n| double(n.to_f64())),
        },
        CastType::Decimal => match v {
            Value::Bool(b) => Value::Decimal(Decimal::of_bool(*b)),
            other => other
                .to_num()
                .map_or(Value::Undefined, |n| Value::Decimal(n.to_decimal())),
        },
        CastType::Boolean => match v {
            Value::Int(i) => Value::Bool(*i != 0),
            Value::Decimal(d) => Value::Bool(!d.is_zero()),
            other => other.to_bool().map_or(Value::Undefined, Value::Bool),
        },
    }
}

pub(crate) fn cast_value(v: &Value, ty: crate::ast::CastType) -> Value {
    cast(v, ty)
}

fn transform(args: Vec<Cow<'_, Value>>) -> Value {
    let mut it = args.into_iter().map(Cow::into_owned);
    let (Some(mode), Some(Value::Object(attrs)), Some(Value::Array(items)), None) =
        (it.next(), it.next(), it.next(), it.next())
    else {
        return Value::Undefined;
    };
    if !matches!(&mode, Value::String(m) if m == "enrichArray") {
        return Value::Undefined;
    }
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let Value::Object(mut obj) = item else {
            return Value::Undefined;
        };
        for (k, v) in &attrs {
            obj.insert(k.clone(), v.clone());
        }
        out.push(Value::Object(obj));
    }
    Value::Array(out)
}

fn random_bytes<const N: usize>() -> Option<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).ok()?;
    Some(b)
}

fn new_uuid() -> Value {
    let Some(mut b) = random_bytes::<16>() else {
        return Value::Undefined;
    };
    // RFC 9562 §5.4: version 4, variant 10.
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    // The 4-2-2-2-6 byte groups of the textual form.
    let [t0, t1, t2, t3, m0, m1, v0, v1, c0, c1, node @ ..] = b;
    Value::String(format!(
        "{}-{}-{}-{}-{}",
        hex::encode([t0, t1, t2, t3]),
        hex::encode([m0, m1]),
        hex::encode([v0, v1]),
        hex::encode([c0, c1]),
        hex::encode(node)
    ))
}

fn rand() -> Value {
    let Some(b) = random_bytes::<8>() else {
        return Value::Undefined;
    };
    // 53 random bits over 2^53: uniform in [0, 1).
    let bits = u64::from_le_bytes(b) >> 11;
    double(bits as f64 / (1u64 << 53) as f64)
}

fn topic(args: &[Cow<'_, Value>], topic: &str) -> Value {
    // Basic Ingest: the `$aws/rules/<rule-name>/` prefix is not part of topic() (reference,
    // topic(Decimal)).
    let topic = match topic.strip_prefix("$aws/rules/") {
        Some(rest) => rest.split_once('/').map_or(topic, |(_, t)| t),
        None => topic,
    };
    match args.len() {
        0 => Value::String(topic.to_owned()),
        1 => match arg(args, 0).to_int(Rounding::Floor) {
            Some(n) if n >= 1 => usize::try_from(n)
                .ok()
                .and_then(|n| topic.split('/').nth(n.saturating_sub(1)))
                .map_or(Value::Undefined, |s| Value::String(s.to_owned())),
            _ => Value::Undefined,
        },
        _ => Value::Undefined,
    }
}

fn decode(args: &[Cow<'_, Value>], version: SqlVersion) -> Value {
    if args.len() != 2 || !matches!(arg(args, 1), Value::String(s) if s == "base64") {
        return Value::Undefined;
    }
    let Some(text) = str_arg(args, 0) else {
        return Value::Undefined;
    };
    // "The function returns NULL if the string cannot be decoded."
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(text.trim()) else {
        return Value::Null;
    };
    if let Ok(v) = Value::from_json_slice(&bytes) {
        return v.normalize(version);
    }
    match String::from_utf8(bytes) {
        Ok(s) => Value::String(s),
        Err(_) => Value::Null,
    }
}

fn math2(
    args: &[Cow<'_, Value>],
    int: fn(i64, i64) -> Option<i64>,
    dec: fn(&Decimal, &Decimal) -> Option<Decimal>,
) -> Value {
    if args.len() != 2 {
        return Value::Undefined;
    }
    crate::ops::arith(arg(args, 0), arg(args, 1), int, dec)
}

/// Calls `f` with evaluated `args`. `wildcard_payload` is the raw payload when the first
/// argument was written `*` (for `encode(*, 'base64')`).
pub(crate) fn call(
    f: Function,
    args: Vec<Cow<'_, Value>>,
    env: &Env<'_>,
    regex: Option<&Regex>,
) -> Result<Value, EvalError> {
    use Function as F;
    let a = &args;
    Ok(match f {
        F::Abs => {
            if a.len() != 1 {
                return Ok(Value::Undefined);
            }
            match arg(a, 0).to_num() {
                Some(Num::Int(i)) => match i.checked_abs() {
                    Some(v) => Value::Int(v),
                    None => Value::Decimal(Decimal::from_i64(i).abs()),
                },
                Some(Num::Dec(d)) => Value::Decimal(d.abs()),
                None => Value::Undefined,
            }
        }
        F::Acos => unary_double(a, f64::acos),
        F::Asin => unary_double(a, f64::asin),
        F::Atan => unary_double(a, f64::atan),
        F::Atan2 => match (a.len(), arg(a, 0).to_num(), arg(a, 1).to_num()) {
            (2, Some(y), Some(x)) => double(y.to_f64().atan2(x.to_f64())),
            _ => Value::Undefined,
        },
        F::Cos => unary_double(a, f64::cos),
        F::Cosh => unary_double(a, f64::cosh),
        F::Sin => unary_double(a, f64::sin),
        F::Sinh => unary_double(a, f64::sinh),
        F::Tan => unary_double(a, f64::tan),
        F::Tanh => unary_double(a, f64::tanh),
        F::Exp => unary_double(a, f64::exp),
        F::Ln => unary_double(a, f64::ln),
        F::Log => unary_double(a, f64::log10),
        F::Sqrt => unary_double(a, f64::sqrt),
        F::Power => match (a.len(), arg(a, 0).to_num(), arg(a, 1).to_num()) {
            (2, Some(x), Some(y)) => double(x.to_f64().powf(y.to_f64())),
            _ => Value::Undefined,
        },
        F::Ceil => int_rounded(a, Rounding::Ceiling),
        F::Floor => int_rounded(a, Rounding::Floor),
        F::Round => int_rounded(a, Rounding::HalfUp),
        F::Sign => match (a.len(), arg(a, 0).to_num()) {
            (1, Some(Num::Int(i))) => Value::Int(i.signum()),
            (1, Some(Num::Dec(d))) => Value::Int(d.signum()),
            _ => Value::Undefined,
        },
        F::Mod | F::Remainder => math2(a, i64::checked_rem, Decimal::rem),
        F::Trunc => {
            if a.len() != 2 {
                return Ok(Value::Undefined);
            }
            match (arg(a, 0).to_num(), index_arg(arg(a, 1))) {
                (Some(Num::Int(i)), Some(_)) => Value::Int(i),
                (Some(Num::Dec(d)), Some(places)) => {
                    // 0 to 34 places (a decimal128 coefficient's digits), saturating.
                    let places = i32::try_from(places)
                        .unwrap_or(if places < 0 { 0 } else { 34 })
                        .clamp(0, 34);
                    let mut t = d.trunc_places(places);
                    // "Trailing zeroes are stripped from the result" (of the fraction).
                    while t.exponent() < 0 && t.coefficient() % 10 == 0 {
                        t = Decimal::new(t.coefficient() / 10, t.exponent().saturating_add(1))
                            .unwrap_or(t);
                    }
                    Value::Decimal(t)
                }
                _ => Value::Undefined,
            }
        }
        F::Nanvl => {
            if a.len() != 2 {
                return Ok(Value::Undefined);
            }
            match arg(a, 0) {
                Value::Undefined | Value::Null => arg(a, 1).clone(),
                other => other.clone(),
            }
        }
        F::BitAnd => bitwise(a, |x, y| x & y),
        F::BitOr => bitwise(a, |x, y| x | y),
        F::BitXor => bitwise(a, |x, y| x ^ y),
        F::BitNot => match (a.len(), arg(a, 0).to_int(Rounding::Floor)) {
            (1, Some(i)) => Value::Int(!i),
            _ => Value::Undefined,
        },
        F::Chr => match (a.len(), arg(a, 0).to_int(Rounding::Floor)) {
            (1, Some(i @ 0..=127)) => u8::try_from(i).map_or(Value::Undefined, |b| {
                Value::String(char::from(b).to_string())
            }),
            _ => Value::Undefined,
        },
        F::Concat => return concat(args, env.limits.max_value_bytes),
        F::EndsWith => affix(a, |x, y| x.ends_with(y)),
        F::StartsWith => affix(a, |x, y| x.starts_with(y)),
        F::Get => get(a),
        F::GetOrDefault => match a.len() {
            2 => match arg(a, 0) {
                Value::Undefined => arg(a, 1).clone(),
                v => v.clone(),
            },
            _ => Value::Undefined,
        },
        F::IndexOf => match (a.len(), str_arg(a, 0), str_arg(a, 1)) {
            (2, Some(s), Some(sub)) => match s.split_once(sub.as_ref()) {
                // The position in characters of the first match.
                Some((before, _)) => {
                    Value::Int(i64::try_from(before.chars().count()).unwrap_or(i64::MAX))
                }
                None => Value::Int(-1),
            },
            _ => Value::Undefined,
        },
        F::IsNull => match a.len() {
            1 => Value::Bool(matches!(arg(a, 0), Value::Null)),
            _ => Value::Undefined,
        },
        F::IsUndefined => match a.len() {
            1 => Value::Bool(arg(a, 0).is_undefined()),
            _ => Value::Undefined,
        },
        F::Length => match (a.len(), str_arg(a, 0)) {
            (1, Some(s)) => Value::Int(i64::try_from(s.chars().count()).unwrap_or(i64::MAX)),
            _ => Value::Undefined,
        },
        F::NumBytes => match (a.len(), str_arg(a, 0)) {
            (1, Some(s)) => Value::Int(i64::try_from(s.len()).unwrap_or(i64::MAX)),
            _ => Value::Undefined,
        },
        F::Lower => match (a.len(), str_arg(a, 0)) {
            (1, Some(s)) => Value::String(s.to_lowercase()),
            _ => Value::Undefined,
        },
        F::Upper => match (a.len(), str_arg(a, 0)) {
            (1, Some(s)) => Value::String(s.to_uppercase()),
            _ => Value::Undefined,
        },
        F::Lpad => pad(a, true),
        F::Rpad => pad(a, false),
        F::Ltrim => trim(a, true, false),
        F::Rtrim => trim(a, false, true),
        F::Trim => trim(a, true, true),
        F::Replace => match (a.len(), str_arg(a, 0), str_arg(a, 1), str_arg(a, 2)) {
            (3, Some(s), Some(from), Some(to)) => {
                let grows = to.len().saturating_sub(from.len());
                let bound = s
                    .len()
                    .saturating_add(grows.saturating_mul(s.len().saturating_add(1)));
                if bound > env.limits.max_value_bytes {
                    return Err(EvalError::ValueTooLarge {
                        max: env.limits.max_value_bytes,
                    });
                }
                Value::String(s.replace(from.as_ref(), &to))
            }
            _ => Value::Undefined,
        },
        F::RegexpMatches | F::RegexpReplace | F::RegexpSubstr => {
            let want = if f == F::RegexpReplace { 3 } else { 2 };
            if a.len() != want {
                return Ok(Value::Undefined);
            }
            let Some(s) = str_arg(a, 0) else {
                return Ok(Value::Undefined);
            };
            let compiled;
            let re = match regex {
                Some(re) => re,
                None => {
                    let Some(p) = str_arg(a, 1) else {
                        return Ok(Value::Undefined);
                    };
                    let Some(re) = compile_regex(&p) else {
                        return Ok(Value::Undefined);
                    };
                    compiled = re;
                    &compiled
                }
            };
            match f {
                F::RegexpMatches => Value::Bool(re.is_match(&s)),
                F::RegexpSubstr => Value::String(
                    // No match gives the empty string: the result stays a string (this crate's rule; AWS
                    // documents only the matching case).
                    re.find(&s).map_or(String::new(), |m| m.as_str().to_owned()),
                ),
                _ => {
                    let Some(rep) = str_arg(a, 2) else {
                        return Ok(Value::Undefined);
                    };
                    let out = re.replace_all(&s, rep.as_ref()).into_owned();
                    if out.len() > env.limits.max_value_bytes {
                        return Err(EvalError::ValueTooLarge {
                            max: env.limits.max_value_bytes,
                        });
                    }
                    Value::String(out)
                }
            }
        }
        F::Substring => substring(a),
        F::Md2 => hash::<md2::Md2>(a),
        F::Md5 => hash::<md5::Md5>(a),
        F::Sha1 => hash::<sha1::Sha1>(a),
        F::Sha224 => hash::<sha2::Sha224>(a),
        F::Sha256 => hash::<sha2::Sha256>(a),
        F::Sha384 => hash::<sha2::Sha384>(a),
        F::Sha512 => hash::<sha2::Sha512>(a),
        F::Encode => {
            if a.len() != 2 || !matches!(arg(a, 1), Value::String(s) if s == "base64") {
                return Ok(Value::Undefined);
            }
            let engine = base64::engine::general_purpose::STANDARD;
            match arg(a, 0) {
                Value::Binary(bytes) => Value::String(engine.encode(bytes)),
                other => match other.to_sql_string() {
                    Some(s) => Value::String(engine.encode(s)),
                    None => Value::Undefined,
                },
            }
        }
        F::Decode => decode(a, env.version),
        F::Transform => transform(args),
        F::ParseTime => time::parse_time(a),
        F::TimeToEpoch => time::time_to_epoch(a),
        F::NewUuid if a.is_empty() => new_uuid(),
        F::Rand if a.is_empty() => rand(),
        F::NewUuid | F::Rand => Value::Undefined,
        F::Timestamp => Value::Int(env.message.context.timestamp),
        F::Topic => topic(a, env.message.topic),
        F::ClientId => Value::String(
            env.message
                .context
                .clientid
                .clone()
                .unwrap_or_else(|| "n/a".to_owned()),
        ),
        F::Principal => opt_string(&env.message.context.principal),
        F::AccountId => opt_string(&env.message.context.accountid),
        F::TraceId => opt_string(&env.message.context.traceid),
        F::SourceIp => opt_string(&env.message.context.sourceip),
        F::SqlVersionFn => Value::String(env.version.as_str().to_owned()),
        F::AwsLambda
        | F::GetDynamoDb
        | F::GetSecret
        | F::GetThingShadow
        | F::GetRegistryData
        | F::MachineLearningPredict => {
            if f == F::GetDynamoDb {
                if env.dynamodb_called.get() {
                    return Err(EvalError::RepeatedGetDynamoDb);
                }
                env.dynamodb_called.set(true);
            }
            let args: Vec<Value> = args.into_iter().map(Cow::into_owned).collect();
            let v = env
                .external
                .call(f, &args, env.message.context)
                .map_err(EvalError::External)?;
            v.normalize(env.version)
        }
    })
}

fn opt_string(v: &Option<String>) -> Value {
    v.as_ref()
        .map_or(Value::Undefined, |s| Value::String(s.clone()))
}

/// An external function's error for a function that has no implementation configured.
pub(crate) fn unavailable(f: Function) -> ExternalError {
    ExternalError {
        function: f.name(),
        message: "no ExternalFunctions implementation is configured".to_owned(),
    }
}
