//! Docker's `json` template function: Go's `json.Encoder` with `SetEscapeHTML(false)`, trailing
//! newline trimmed.

use super::Value;
use super::printf::{Bounded, float_digits, fmt_e};

/// Encode `v` as Go's encoder would, objects by their [`super::Object::json_fields`].
/// Non-finite floats make Go's encoder fail (Docker's `json` then panics, which the template
/// reports as `error calling json: json: unsupported value: NaN`).
pub(super) fn encode(out: &mut Bounded, v: &Value) -> Result<(), String> {
    write_value(out, v, false)
}

fn write_value(out: &mut Bounded, v: &Value, escape_html: bool) -> Result<(), String> {
    match v {
        Value::Nil | Value::Map(None) => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => write_float(out, *f)?,
        Value::Str(s) => write_string(out, s, escape_html),
        Value::List(l) => {
            out.push('[');
            for (i, e) in l.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, e, escape_html)?;
            }
            out.push(']');
        }
        Value::Map(Some(m)) => {
            out.push('{');
            for (i, (k, e)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, k, escape_html);
                out.push(':');
                write_value(out, e, escape_html)?;
            }
            out.push('}');
        }
        Value::Object(o) => {
            let escape_html = escape_html || o.json_escapes_html();
            out.push('{');
            for (i, (k, e)) in o.json_fields().iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, k, escape_html);
                out.push(':');
                write_value(out, e, escape_html)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

/// Go's float64 encoding: shortest digits, `%f` style unless the magnitude is below 1e-6 or
/// at least 1e21, then `%e` style with a one-digit negative exponent kept short (`1e-7`).
fn write_float(out: &mut Bounded, f: f64) -> Result<(), String> {
    if !f.is_finite() {
        let v = if f.is_nan() {
            "NaN"
        } else if f > 0.0 {
            "+Inf"
        } else {
            "-Inf"
        };
        return Err(format!("json: unsupported value: {v}"));
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
    Ok(())
}

/// Go's JSON string encoding: `\"`, `\\`, `\b \f \n \r \t`, other control characters as
/// `\u00xx`, U+2028/U+2029 escaped, and `<`, `>`, `&` as `\u003c`… when `escape_html`.
fn write_string(out: &mut Bounded, s: &str, escape_html: bool) {
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
            '<' if escape_html => out.push_str("\\u003c"),
            '>' if escape_html => out.push_str("\\u003e"),
            '&' if escape_html => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.push('"');
}
