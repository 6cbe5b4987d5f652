//! Docker's `json` template function: Go's `json.Encoder` with `SetEscapeHTML(false)`, trailing
//! newline trimmed.

use super::Value;
use super::fmt::{float_digits, fmt_e};

/// Encode `v` as Go's encoder would (an `Object` through its [`super::Object::to_json`]).
/// Non-finite floats make Go's encoder fail; Docker then prints nothing, so this returns "".
pub(super) fn encode(v: &Value) -> String {
    let mut out = String::new();
    if write_value(&mut out, v) { out } else { String::new() }
}

fn write_value(out: &mut String, v: &Value) -> bool {
    match v {
        Value::Nil | Value::Map(None) => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => return write_float(out, *f),
        Value::Str(s) => write_string(out, s),
        Value::List(l) => {
            out.push('[');
            for (i, e) in l.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if !write_value(out, e) {
                    return false;
                }
            }
            out.push(']');
        }
        Value::Map(Some(m)) => {
            out.push('{');
            for (i, (k, e)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, k);
                out.push(':');
                if !write_value(out, e) {
                    return false;
                }
            }
            out.push('}');
        }
        Value::Object(o) => return write_serde(out, &o.to_json()),
    }
    true
}

fn write_serde(out: &mut String, v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Null => out.push_str("null"),
        serde_json::Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                out.push_str(&i.to_string());
            } else if let Some(u) = n.as_u64() {
                out.push_str(&u.to_string());
            } else {
                return write_float(out, n.as_f64().unwrap_or(0.0));
            }
        }
        serde_json::Value::String(s) => write_string(out, s),
        serde_json::Value::Array(a) => {
            out.push('[');
            for (i, e) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if !write_serde(out, e) {
                    return false;
                }
            }
            out.push(']');
        }
        serde_json::Value::Object(o) => {
            out.push('{');
            for (i, (k, e)) in o.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, k);
                out.push(':');
                if !write_serde(out, e) {
                    return false;
                }
            }
            out.push('}');
        }
    }
    true
}

/// Go's float64 encoding: shortest digits, `%f` style unless the magnitude is below 1e-6 or
/// at least 1e21, then `%e` style with a one-digit negative exponent kept short (`1e-7`).
fn write_float(out: &mut String, f: f64) -> bool {
    if !f.is_finite() {
        return false;
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let (d, dp) = float_digits(f, None);
        let mut s = fmt_e(&d, dp, d.len() - 1, false);
        if let Some(i) = s.find("e-0") {
            s.remove(i + 2);
        }
        if f < 0.0 {
            out.push('-');
        }
        out.push_str(&s);
    } else {
        // Rust's Display is the shortest round-trip representation without an exponent.
        out.push_str(&format!("{f}"));
    }
    true
}

/// Go's JSON string encoding without HTML escaping: `\"`, `\\`, `\b \f \n \r \t`, other
/// control characters as `\u00xx`, and U+2028/U+2029 escaped.
fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.push('"');
}
