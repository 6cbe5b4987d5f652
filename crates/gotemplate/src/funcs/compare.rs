//! Comparison: Go's `eq`, `ne`, `lt`, `le`, `gt` and `ge`, with Go's rules for which kinds
//! compare and its error messages when they do not.

use std::cmp::Ordering;

use super::{Val, bounded};
use crate::Value;
use crate::printf::{sprintf, to_v, type_name};

/// Go's `basicKind` classes (0: not a basic kind).
fn basic_kind(v: &Val) -> u8 {
    match v {
        Some(Value::Bool(_)) => 1,
        Some(Value::Int(_)) => 2,
        Some(Value::Float(_)) => 3,
        Some(Value::Str(_)) => 4,
        _ => 0,
    }
}

fn is_nil(v: &Val) -> bool {
    matches!(v, None | Some(Value::Nil) | Some(Value::Map(None)))
}

/// Go's reflect kind class, for `canCompare`.
fn reflect_kind(v: &Val) -> u8 {
    match v {
        None | Some(Value::Nil) => 0,
        Some(Value::List(_)) => 1,
        Some(Value::Map(_)) => 2,
        Some(Value::Object(_)) => 3,
        _ => 4,
    }
}

fn go_type(v: &Val) -> String {
    match v {
        None => "<nil>".into(),
        Some(v) => type_name(v).into_owned(),
    }
}

/// Go's `%s` of a value (in `eq`'s messages).
fn percent_s(v: &Val) -> String {
    bounded(1 << 16, |b| sprintf(b, "%s", &[v.clone().unwrap_or(Value::Nil)])).unwrap_or_default()
}

/// Go's `%v` of a value.
fn sv(v: &Val) -> String {
    v.as_ref().map_or("<nil>".to_string(), to_v)
}

fn eq_one(a: &Val, b: &Val) -> Result<bool, String> {
    let (k1, k2) = (basic_kind(a), basic_kind(b));
    if k1 != k2 {
        if a.is_some() && b.is_some() {
            return Err("incompatible types for comparison".into());
        }
        return Ok(false);
    }
    Ok(match (a, b) {
        (Some(Value::Bool(x)), Some(Value::Bool(y))) => x == y,
        (Some(Value::Int(x)), Some(Value::Int(y))) => x == y,
        (Some(Value::Float(x)), Some(Value::Float(y))) => x == y,
        (Some(Value::Str(x)), Some(Value::Str(y))) => x == y,
        _ => {
            let (r1, r2) = (reflect_kind(a), reflect_kind(b));
            if r1 != r2 && r1 != 0 && r2 != 0 {
                return Err(format!(
                    "non-comparable types {}: {}, {}: {}",
                    percent_s(a),
                    go_type(a),
                    go_type(b),
                    sv(b)
                ));
            }
            if is_nil(a) || is_nil(b) {
                is_nil(a) == is_nil(b)
            } else if let (Some(Value::Object(x)), Some(Value::Object(y))) = (a, b) {
                std::ptr::addr_eq(std::rc::Rc::as_ptr(x), std::rc::Rc::as_ptr(y))
            } else {
                return Err(format!("non-comparable type {}: {}", percent_s(b), go_type(b)));
            }
        }
    })
}

/// Go's `eq arg1 arg2...`: true if arg1 equals any of the others.
pub(super) fn eq(a: &Val, others: &[Val]) -> Result<bool, String> {
    if others.is_empty() {
        return Err("missing argument for comparison".into());
    }
    for b in others {
        if eq_one(a, b)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Go's `lt`.
pub(super) fn lt(a: &Val, b: &Val) -> Result<bool, String> {
    let (k1, k2) = (basic_kind(a), basic_kind(b));
    if k1 == 0 || k2 == 0 {
        return Err("invalid type for comparison".into());
    }
    if k1 != k2 {
        return Err("incompatible types for comparison".into());
    }
    Ok(match (a, b) {
        (Some(Value::Int(x)), Some(Value::Int(y))) => x < y,
        (Some(Value::Float(x)), Some(Value::Float(y))) => x.partial_cmp(y) == Some(Ordering::Less),
        (Some(Value::Str(x)), Some(Value::Str(y))) => x < y,
        _ => return Err("invalid type for comparison".into()),
    })
}
