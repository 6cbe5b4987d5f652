//! JSON written byte for byte as Go's `encoding/json` writes it: struct fields in declaration
//! order, map keys sorted, `<`, `>` and `&` escaped as `\u003c`…, U+2028/U+2029 escaped,
//! invalid UTF-8 replaced, and `MarshalIndent`'s layout. Compose hashes this encoding, so
//! every byte counts.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A JSON value in the order Go would write it.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Array(Vec<Json>),
    /// Fields in the order to write them (a struct's order; [`Json::map`] sorts a map's).
    Object(Vec<(String, Json)>),
}

impl Json {
    /// A Go map: keys sorted as Go sorts strings (bytewise).
    pub fn map(m: BTreeMap<String, Json>) -> Json {
        Json::Object(m.into_iter().collect())
    }

    /// A `map[string]string`.
    pub fn string_map(m: &BTreeMap<String, String>) -> Json {
        Json::Object(m.iter().map(|(k, v)| (k.clone(), Json::Str(v.clone()))).collect())
    }

    pub fn str(s: impl Into<String>) -> Json {
        Json::Str(s.into())
    }
}

/// `json.Marshal`.
pub fn marshal(v: &Json) -> String {
    let mut out = String::new();
    write_value(&mut out, v, None, 0);
    out
}

/// `json.MarshalIndent(v, "", "  ")`.
pub fn marshal_indent(v: &Json) -> String {
    let mut out = String::new();
    write_value(&mut out, v, Some("  "), 0);
    out
}

fn newline(out: &mut String, indent: Option<&str>, depth: usize) {
    if let Some(ind) = indent {
        out.push('\n');
        for _ in 0..depth {
            out.push_str(ind);
        }
    }
}

fn write_value(out: &mut String, v: &Json, indent: Option<&str>, depth: usize) {
    match v {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Json::Float(f) => out.push_str(&go_json_float(*f)),
        Json::Str(s) => write_string(out, s),
        Json::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, it) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, depth + 1);
                write_value(out, it, indent, depth + 1);
            }
            newline(out, indent, depth);
            out.push(']');
        }
        Json::Object(fields) => {
            if fields.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push('{');
            for (i, (k, val)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, depth + 1);
                write_string(out, k);
                out.push(':');
                if indent.is_some() {
                    out.push(' ');
                }
                write_value(out, val, indent, depth + 1);
            }
            newline(out, indent, depth);
            out.push('}');
        }
    }
}

/// A Go JSON string, HTML-safe.
pub fn write_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0C}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{00}'..='\u{1F}' => {
                let b = c as u32 as u8;
                out.push_str("\\u00");
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 0xF) as usize] as char);
            }
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            // A Rust string is valid UTF-8; U+FFFD is what Go writes for invalid bytes.
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Go's JSON float: `'f'` form, `'e'` form below 1e-6 and from 1e21 (with `e-07`
/// shortened to `e-7`).
pub fn go_json_float(f: f64) -> String {
    if !f.is_finite() {
        // Go refuses these; Compose never has them where JSON is written.
        return "null".to_owned();
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = format!("{f:e}");
        // Rust: 1e-7, 1.5e21 ; Go: 1e-07 → cleaned to 1e-7, 1.5e+21.
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let e = if e.starts_with('-') { e.to_owned() } else { format!("+{e}") };
        return format!("{m}e{e}");
    }
    let s = format!("{f}");
    s.strip_suffix(".0").map(str::to_owned).unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_go() {
        let mut s = String::new();
        write_string(&mut s, "a<b>&c \"q\" \\ \n\t\u{1}\u{8}\u{c}\u{2028}é");
        assert_eq!(s, r#""a\u003cb\u003e\u0026c \"q\" \\ \n\t\u0001\b\f\u2028é""#);
    }

    #[test]
    fn layout_as_go() {
        let v = Json::Object(vec![
            ("name".into(), Json::str("x")),
            ("empty".into(), Json::Object(vec![])),
            ("list".into(), Json::Array(vec![Json::Int(1), Json::Null])),
            ("none".into(), Json::Array(vec![])),
        ]);
        assert_eq!(marshal(&v), r#"{"name":"x","empty":{},"list":[1,null],"none":[]}"#);
        assert_eq!(
            marshal_indent(&v),
            "{\n  \"name\": \"x\",\n  \"empty\": {},\n  \"list\": [\n    1,\n    null\n  ],\n  \"none\": []\n}"
        );
    }

    #[test]
    fn floats_as_go() {
        for (f, want) in
            [(1.5, "1.5"), (1.0, "1"), (1e21, "1e+21"), (1e-7, "1e-7"), (0.000001, "0.000001"), (100.0, "100")]
        {
            assert_eq!(go_json_float(f), want);
        }
    }
}
