//! Scalars resolved as yaml.v3 resolves them when decoding into `interface{}`: a core-schema
//! tag, else the style, else a plain scalar's null, boolean, integer (Go's bases and
//! underscores), float or string; and the timestamps an encoder must quote.

use saphyr_parser::{ScalarStyle, Tag};

use crate::compose::value::Value;

/// Resolve one scalar as yaml.v3 does when decoding into `interface{}`.
pub(super) fn resolve_scalar(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Result<Value, String> {
    if let Some(tag) = tag
        && tag.is_yaml_core_schema()
    {
        return match tag.suffix.as_str() {
            "str" => Ok(Value::Str(text.to_owned())),
            "null" => Ok(Value::Null),
            "bool" | "int" | "float" => match resolve_plain(text) {
                v @ (Value::Bool(_) | Value::Int(_) | Value::Float(_)) => Ok(v),
                _ => Err(format!("cannot decode !!str `{text}` as a !!{}", tag.suffix)),
            },
            _ => Ok(resolve_by_style(text, style)),
        };
    }
    Ok(resolve_by_style(text, style))
}

fn resolve_by_style(text: &str, style: ScalarStyle) -> Value {
    match style {
        ScalarStyle::Plain => resolve_plain(text),
        _ => Value::Str(text.to_owned()),
    }
}

/// yaml.v3's resolution of a plain scalar.
pub fn resolve_plain(s: &str) -> Value {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Value::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    let first = s.as_bytes()[0];
    if first == b'-' || first == b'+' || first.is_ascii_digit() {
        let plain: String = s.chars().filter(|c| *c != '_').collect();
        if let Some(i) = go_parse_int(&plain) {
            return Value::Int(i);
        }
        if is_yaml_float(&plain)
            && let Ok(f) = plain.parse::<f64>()
        {
            return Value::Float(f);
        }
        return Value::Str(s.to_owned());
    }
    if first == b'.'
        && is_yaml_float(s)
        && let Ok(f) = s.parse::<f64>()
    {
        return Value::Float(f);
    }
    Value::Str(s.to_owned())
}

/// Whether a plain scalar would not read back as a string (yaml.v3's encoder quotes those).
pub fn resolves_to_non_string(s: &str) -> bool {
    !matches!(resolve_plain(s), Value::Str(_)) || is_timestamp(s)
}

/// Go's `strconv.ParseInt(s, 0, 64)` (signs, `0x`, `0o`, `0b`, and a leading `0` for octal),
/// then yaml.v3's extra `0b`/`0o` handling: both end up as integers.
fn go_parse_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty() {
        return None;
    }
    let (radix, digits) = if let Some(d) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        (16, d)
    } else if let Some(d) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
        (8, d)
    } else if let Some(d) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
        (2, d)
    } else if body.len() > 1 && body.starts_with('0') {
        (8, &body[1..])
    } else {
        (10, body)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let mag = u64::from_str_radix(digits, radix).ok()?;
    if neg {
        if mag <= i64::MAX as u64 + 1 { Some((mag as i128).wrapping_neg() as i64) } else { None }
    } else if mag <= i64::MAX as u64 {
        Some(mag as i64)
    } else {
        // yaml.v3 gives a uint64 here; it prints the same.
        None
    }
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// yaml.v3's timestamp forms (`2001-12-14`, `2001-12-14t21:59:43.10-05:00`, …): a plain
/// scalar that looks like one is written quoted.
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    // The date part: YYYY-M[M]-D[D].
    let mut i = 0;
    let num = |i: &mut usize, min: usize, max: usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() && *i - start < max {
            *i += 1;
        }
        *i - start >= min
    };
    if !num(&mut i, 4, 4) || b.get(i) != Some(&b'-') {
        return false;
    }
    i += 1;
    if !num(&mut i, 1, 2) || b.get(i) != Some(&b'-') {
        return false;
    }
    i += 1;
    if !num(&mut i, 1, 2) {
        return false;
    }
    if i == b.len() {
        return true;
    }
    // A time part follows after 't', 'T' or spaces: accept what Go's formats accept, loosely.
    matches!(b[i], b't' | b'T' | b' ' | b'\t')
        && s[i + 1..].trim_start().bytes().take_while(|c| c.is_ascii_digit()).count() >= 1
        && s[i + 1..].contains(':')
}
