//! The untyped tree a compose file loads into, as Compose's loader handles it before it turns
//! the model into types: YAML scalars resolved as Go's yaml.v3 resolves them, string keys only.

use std::collections::BTreeMap;
use std::fmt;

/// A mapping with string keys. Compose's model is unordered (Go maps); a sorted map keeps
/// every step deterministic.
pub type Map = BTreeMap<String, Value>;

/// One node of a loaded compose file.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Value>),
    Map(Map),
}

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_map_mut(&mut self) -> Option<&mut Map> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The JSON-schema type name Compose's validator uses for this value.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Float(_) => "number",
            Value::Str(_) => "string",
            Value::Seq(_) => "array",
            Value::Map(_) => "object",
        }
    }

    /// The Go type Compose's decoder sees for the value (`%T` of a YAML-decoded value).
    pub fn go_type(&self) -> &'static str {
        match self {
            Value::Null => "<nil>",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float64",
            Value::Str(_) => "string",
            Value::Seq(_) => "[]interface {}",
            Value::Map(_) => "map[string]interface {}",
        }
    }

    /// Go's `fmt.Sprint` of the value, as Compose turns scalars into strings (labels,
    /// environment values, driver options).
    pub fn go_sprint(&self) -> String {
        match self {
            Value::Null => "<nil>".to_owned(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => go_format_float(*f),
            Value::Str(s) => s.clone(),
            Value::Seq(items) => {
                let parts: Vec<String> = items.iter().map(Value::go_sprint).collect();
                format!("[{}]", parts.join(" "))
            }
            Value::Map(m) => {
                let parts: Vec<String> = m.iter().map(|(k, v)| format!("{k}:{}", v.go_sprint())).collect();
                format!("map[{}]", parts.join(" "))
            }
        }
    }

    /// Count the nodes of this tree (a bound on work for callers that copy trees).
    pub fn node_count(&self) -> usize {
        match self {
            Value::Seq(items) => 1 + items.iter().map(Value::node_count).sum::<usize>(),
            Value::Map(m) => 1 + m.values().map(Value::node_count).sum::<usize>(),
            _ => 1,
        }
    }
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 64)`, which `fmt.Sprint` uses for a float64: the
/// shortest representation that reads back exactly, with an exponent below 1e-4 and from 1e6.
pub fn go_format_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf".to_owned() } else { "-Inf".to_owned() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0".to_owned() } else { "0".to_owned() };
    }
    // Rust's `{:e}` gives the shortest round-tripping digits: d[.ddd]e[-]x.
    let e = format!("{:e}", f);
    let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (neg, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let sign = if neg { "-" } else { "" };
    // With the shortest precision, Go decides with precision 6.
    if !(-4..6).contains(&exp) {
        let mut m = digits[..1].to_owned();
        if digits.len() > 1 {
            m.push('.');
            m.push_str(&digits[1..]);
        }
        let (es, ev) = if exp < 0 { ('-', -exp) } else { ('+', exp) };
        return format!("{sign}{m}e{es}{ev:02}");
    }
    if exp < 0 {
        let zeros = "0".repeat((-exp - 1) as usize);
        return format!("{sign}0.{zeros}{digits}");
    }
    let point = exp as usize + 1;
    if digits.len() <= point {
        format!("{sign}{digits}{}", "0".repeat(point - digits.len()))
    } else {
        format!("{sign}{}.{}", &digits[..point], &digits[point..])
    }
}

/// A dotted path in the model, as Compose's errors print them (`services.web.volumes.0`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Path(Vec<String>);

impl Path {
    pub fn root() -> Path {
        Path(Vec::new())
    }

    pub fn new(parts: &[&str]) -> Path {
        Path(parts.iter().map(|s| (*s).to_owned()).collect())
    }

    pub fn next(&self, part: impl Into<String>) -> Path {
        let mut p = self.0.clone();
        p.push(part.into());
        Path(p)
    }

    pub fn parts(&self) -> &[String] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether the path matches a pattern of parts where `*` matches any one part and `[]`
    /// matches a list index.
    pub fn matches(&self, pattern: &[&str]) -> bool {
        self.0.len() == pattern.len()
            && self.0.iter().zip(pattern).all(|(p, q)| *q == "*" || p == q || (*q == "[]" && is_index(p)))
    }
}

fn is_index(s: &str) -> bool {
    s == "[]" || (s.starts_with('[') && s.ends_with(']')) || (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_floats() {
        for (f, want) in [
            (1.5, "1.5"),
            (1000.0, "1000"),
            (100000.0, "100000"),
            (1e6, "1e+06"),
            (1e21, "1e+21"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.25, "-2.25"),
            (123456789.0, "1.23456789e+08"),
            (0.1, "0.1"),
        ] {
            assert_eq!(go_format_float(f), want, "{f}");
        }
    }
}
