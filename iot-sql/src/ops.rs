//! The operators, as AWS's operator tables define them (SQL reference, "Operators").

use std::cmp::Ordering;

use crate::ast::BinaryOp;
use crate::decimal::Decimal;
use crate::value::{Num, Value};

/// `+ - * / %` on numbers: `Int op Int` is `Int` (promoted to `Decimal` on overflow), any
/// `Decimal` or numeric `String` makes it `Decimal`, anything else is `Undefined`.
pub(crate) fn arith(
    l: &Value,
    r: &Value,
    int: fn(i64, i64) -> Option<i64>,
    dec: fn(&Decimal, &Decimal) -> Option<Decimal>,
) -> Value {
    match (l.to_num(), r.to_num()) {
        (Some(Num::Int(a)), Some(Num::Int(b))) => match int(a, b) {
            Some(v) => Value::Int(v),
            // Overflow (or i64::MIN / -1): the exact result as a decimal; division by zero
            // stays Undefined.
            None if b == 0 => Value::Undefined,
            None => dec(&Decimal::from_i64(a), &Decimal::from_i64(b))
                .map_or(Value::Undefined, Value::Decimal),
        },
        (Some(a), Some(b)) => {
            dec(&a.to_decimal(), &b.to_decimal()).map_or(Value::Undefined, Value::Decimal)
        }
        _ => Value::Undefined,
    }
}

fn logical(l: &Value, r: &Value, f: fn(bool, bool) -> bool) -> Value {
    match (l.to_bool(), r.to_bool()) {
        (Some(a), Some(b)) => Value::Bool(f(a, b)),
        _ => Value::Undefined,
    }
}

/// `> >= < <=`: both sides converted to numbers; otherwise `Undefined`.
fn compare(l: &Value, r: &Value, f: fn(Ordering) -> bool) -> Value {
    match (l.to_num(), r.to_num()) {
        (Some(Num::Int(a)), Some(Num::Int(b))) => Value::Bool(f(a.cmp(&b))),
        (Some(a), Some(b)) => Value::Bool(f(a.to_decimal().numeric_cmp(&b.to_decimal()))),
        _ => Value::Undefined,
    }
}

fn concat_or_add(l: &Value, r: &Value, max: usize) -> Option<Value> {
    // "String + any value" and "any value + String" concatenate (the other side converted to a
    // string; Null and Undefined do not convert).
    if matches!(l, Value::String(_)) || matches!(r, Value::String(_)) {
        let (Some(a), Some(b)) = (l.to_sql_string(), r.to_sql_string()) else {
            return Some(Value::Undefined);
        };
        if a.len().saturating_add(b.len()) > max {
            return None;
        }
        return Some(Value::String(a + &b));
    }
    Some(arith(l, r, i64::checked_add, Decimal::checked_add))
}

/// Evaluates a binary operator (not AND/OR short-circuiting: both sides are values already).
/// `None` means a string would exceed `max_string` bytes.
pub(crate) fn binary(op: BinaryOp, l: &Value, r: &Value, max_string: usize) -> Option<Value> {
    Some(match op {
        BinaryOp::And => logical(l, r, |a, b| a && b),
        BinaryOp::Or => logical(l, r, |a, b| a || b),
        BinaryOp::Eq => l.sql_eq(r).map_or(Value::Undefined, Value::Bool),
        BinaryOp::Ne => l.sql_eq(r).map_or(Value::Undefined, |e| Value::Bool(!e)),
        BinaryOp::Lt => compare(l, r, |o| o == Ordering::Less),
        BinaryOp::Le => compare(l, r, |o| o != Ordering::Greater),
        BinaryOp::Gt => compare(l, r, |o| o == Ordering::Greater),
        BinaryOp::Ge => compare(l, r, |o| o != Ordering::Less),
        BinaryOp::In => match (l, r) {
            (Value::Undefined, _) => Value::Undefined,
            (_, Value::Array(items)) => {
                Value::Bool(items.iter().any(|i| l.sql_eq(i) == Some(true)))
            }
            _ => Value::Undefined,
        },
        BinaryOp::Add => return concat_or_add(l, r, max_string),
        BinaryOp::Sub => arith(l, r, i64::checked_sub, Decimal::checked_sub),
        BinaryOp::Mul => arith(l, r, i64::checked_mul, Decimal::checked_mul),
        BinaryOp::Div => arith(l, r, i64::checked_div, Decimal::checked_div),
        BinaryOp::Mod => arith(l, r, i64::checked_rem, Decimal::rem),
    })
}

/// Unary minus: numbers (and numeric strings, as `Decimal`); otherwise `Undefined`.
pub(crate) fn negate(v: &Value) -> Value {
    match v.to_num() {
        Some(Num::Int(i)) => match i.checked_neg() {
            Some(n) => Value::Int(n),
            None => Value::Decimal(Decimal::from_i64(i).neg()),
        },
        Some(Num::Dec(d)) => Value::Decimal(d.neg()),
        None => Value::Undefined,
    }
}

/// `NOT`: booleans and the strings "true"/"false"; otherwise `Undefined`.
pub(crate) fn not(v: &Value) -> Value {
    v.to_bool().map_or(Value::Undefined, |b| Value::Bool(!b))
}
