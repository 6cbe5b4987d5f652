//! Go's builtin template functions (`funcs.go`) and Docker's additions (`templates.go`).

mod compare;

use super::exec::{Val, value_size};
use super::printf::{Bounded, is_string_map, sprint, sprintf, sprintln, type_name, type_name_indirect};
use super::{Funcs, MAX_VALUES_BYTES, Value};
use compare::{eq, lt};

/// The error of a function whose result would not fit in what values may still take.
fn too_large() -> String {
    format!("result exceeds the {} MiB limit of template values", MAX_VALUES_BYTES >> 20)
}

/// The Go type of a function parameter, which decides how arguments are checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Param {
    /// `string`
    Str,
    /// `int`
    Int,
    /// `[]string`
    StrList,
    /// `interface{}` (`any`)
    Any,
    /// `reflect.Value`
    Reflect,
}

impl Param {
    /// Go's name for the type, as it appears in error messages.
    pub fn go_name(self) -> &'static str {
        match self {
            Param::Str => "string",
            Param::Int => "int",
            Param::StrList => "[]string",
            Param::Any => "interface {}",
            Param::Reflect => "reflect.Value",
        }
    }
}

/// A function callable from a template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Func {
    And,
    Or,
    Not,
    Len,
    Index,
    Slice,
    Call,
    Print,
    Printf,
    Println,
    Html,
    Js,
    Urlquery,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Json,
    Split,
    Join,
    Title,
    Lower,
    Upper,
    Pad,
    Truncate,
}

impl Func {
    /// The function named `name`, if templates know it.
    pub fn lookup(name: &str) -> Option<Func> {
        use Func::*;
        Some(match name {
            "and" => And,
            "or" => Or,
            "not" => Not,
            "len" => Len,
            "index" => Index,
            "slice" => Slice,
            "call" => Call,
            "print" => Print,
            "printf" => Printf,
            "println" => Println,
            "html" => Html,
            "js" => Js,
            "urlquery" => Urlquery,
            "eq" => Eq,
            "ne" => Ne,
            "lt" => Lt,
            "le" => Le,
            "gt" => Gt,
            "ge" => Ge,
            "json" => Json,
            "split" => Split,
            "join" => Join,
            "title" => Title,
            "lower" => Lower,
            "upper" => Upper,
            "pad" => Pad,
            "truncate" => Truncate,
            _ => return None,
        })
    }

    /// Fixed parameters and the type of the variadic tail, if any (Go's signature).
    pub fn signature(self, funcs: Funcs) -> (&'static [Param], Option<Param>) {
        use Func::*;
        use Param::*;
        if funcs == Funcs::DockerHeader {
            match self {
                Json | Title | Lower | Upper => return (&[Str], None),
                Split | Join => return (&[Str, Str], None),
                Truncate => return (&[Str, Int], None),
                _ => {}
            }
        }
        match self {
            And | Or | Index | Slice | Call | Eq => (&[Reflect], Some(Reflect)),
            Not | Len => (&[Reflect], None),
            Print | Println | Html | Js | Urlquery => (&[], Some(Any)),
            Printf => (&[Str], Some(Any)),
            Ne | Lt | Le | Gt | Ge => (&[Reflect, Reflect], None),
            Json => (&[Any], None),
            Split => (&[Str, Str], None),
            Join => (&[StrList, Str], None),
            Title | Lower | Upper => (&[Str], None),
            Pad => (&[Str, Int, Int], None),
            Truncate => (&[Str, Int], None),
        }
    }

    /// Run the function on checked arguments. `Err` is the message after "error calling X: ".
    /// `and`, `or` and `call` are handled by the executor. A result that would take more than
    /// `room` bytes (as [`value_size`] counts) is an error, found before it is built.
    pub fn call(self, funcs: Funcs, a: &[Val], room: usize) -> Result<Val, String> {
        use Func::*;
        if funcs == Funcs::DockerHeader && matches!(self, Json | Split | Join | Title | Lower | Upper | Truncate) {
            // Docker's header functions leave the header text alone.
            return Ok(a.first().cloned().flatten());
        }
        let v = self.call_bounded(a, room)?;
        if value_size(&v) > room {
            return Err(too_large());
        }
        Ok(v)
    }

    fn call_bounded(self, a: &[Val], room: usize) -> Result<Val, String> {
        use Func::*;
        let s = |i: usize| match a.get(i) {
            Some(Some(Value::Str(s))) => s.as_str(),
            _ => "",
        };
        let int = |i: usize| match a.get(i) {
            Some(Some(Value::Int(n))) => *n,
            _ => 0,
        };
        let any = |v: &[Val]| -> Vec<Value> { v.iter().map(|x| x.clone().unwrap_or(Value::Nil)).collect() };
        let first = a.first().cloned().flatten();
        Ok(Some(match self {
            And | Or | Call => return Ok(None),
            Not => Value::Bool(!truth(&first)),
            Len => Value::Int(length(&first)?),
            Index => return index(first, &a[1..]),
            Slice => return slice(first, &a[1..]),
            Print => Value::Str(bounded(room, |b| sprint(b, &any(a)))?),
            Println => Value::Str(bounded(room, |b| sprintln(b, &any(a)))?),
            Printf => Value::Str(bounded(room, |b| sprintf(b, s(0), &any(&a[1..])))?),
            Html => Value::Str(bounded(room, |b| html_escape(b, &eval_args(a, room)?))?),
            Js => Value::Str(bounded(room, |b| js_escape(b, &eval_args(a, room)?))?),
            Urlquery => Value::Str(bounded(room, |b| query_escape(b, &eval_args(a, room)?))?),
            Eq => Value::Bool(eq(&first, &a[1..])?),
            Ne => Value::Bool(!eq(&first, &a[1..2])?),
            Lt => Value::Bool(lt(&first, &a[1])?),
            Le => Value::Bool(lt(&first, &a[1])? || eq(&first, &a[1..2])?),
            Gt => Value::Bool(!(lt(&first, &a[1])? || eq(&first, &a[1..2])?)),
            Ge => Value::Bool(!lt(&first, &a[1])?),
            Json => Value::Str(bounded(room, |b| super::json::encode(b, first.as_ref().unwrap_or(&Value::Nil)))?),
            Split => Value::list(split(s(0), s(1), room)?),
            Join => {
                let items: Vec<&str> = match &first {
                    Some(Value::List(l)) => l
                        .iter()
                        .map(|v| match v {
                            Value::Str(s) => s.as_str(),
                            _ => "",
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                let len = items.iter().map(|i| i.len()).sum::<usize>() + s(1).len() * items.len().saturating_sub(1);
                if len > room {
                    return Err(too_large());
                }
                Value::Str(items.join(s(1)))
            }
            Title | Lower | Upper if s(0).len().saturating_mul(3) > room => return Err(too_large()),
            Title => Value::Str(title(s(0))),
            Lower => Value::Str(map_chars(s(0), |c| c.to_lowercase())),
            Upper => Value::Str(map_chars(s(0), |c| c.to_uppercase())),
            Pad => {
                let (src, before, after) = (s(0), int(1), int(2));
                if src.is_empty() {
                    Value::Str(String::new())
                } else if before < 0 || after < 0 {
                    return Err("strings: negative Repeat count".into());
                } else if (before as u64).saturating_add(after as u64).saturating_add(src.len() as u64) > room as u64 {
                    return Err(too_large());
                } else {
                    let mut out = " ".repeat(before as usize);
                    out.push_str(src);
                    out.push_str(&" ".repeat(after as usize));
                    Value::Str(out)
                }
            }
            Truncate => {
                let (src, n) = (s(0), int(1));
                if (src.len() as i64) < n {
                    Value::Str(src.to_string())
                } else if n < 0 {
                    return Err(format!("runtime error: slice bounds out of range [:{n}]"));
                } else {
                    Value::Str(byte_slice(src, 0, n as usize))
                }
            }
        }))
    }
}

/// Run a string-building function with at most `room` bytes of output.
fn bounded(room: usize, f: impl FnOnce(&mut Bounded) -> Result<(), String>) -> Result<String, String> {
    let mut b = Bounded::new(room);
    f(&mut b)?;
    b.finish().ok_or_else(too_large)
}

/// Go's truth: false for nil, false, 0, and empty strings, slices and maps.
pub(super) fn truth(v: &Val) -> bool {
    match v {
        None | Some(Value::Nil) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Int(i)) => *i != 0,
        Some(Value::Float(f)) => *f != 0.0,
        Some(Value::Str(s)) => !s.is_empty(),
        Some(Value::List(l)) => !l.is_empty(),
        Some(Value::Map(m)) => m.as_ref().is_some_and(|m| !m.is_empty()),
        Some(Value::Object(_)) => true,
    }
}

/// `s[a:b]` by bytes; a cut inside a UTF-8 sequence leaves U+FFFD (Go would keep the raw bytes).
fn byte_slice(s: &str, a: usize, b: usize) -> String {
    match s.get(a..b) {
        Some(t) => t.to_string(),
        None => String::from_utf8_lossy(&s.as_bytes()[a..b]).into_owned(),
    }
}

/// Apply a per-rune case mapping as Go's `strings.ToUpper`/`ToLower` do (one rune to one rune).
fn map_chars<I: Iterator<Item = char>>(s: &str, f: impl Fn(char) -> I) -> String {
    s.chars()
        .map(|c| {
            let mut it = f(c);
            match (it.next(), it.next()) {
                (Some(m), None) => m,
                _ => c,
            }
        })
        .collect()
}

/// Go's deprecated `strings.Title`: upper-case the first letter of each word.
fn title(s: &str) -> String {
    let is_separator = |r: char| {
        if r.is_ascii() {
            return !(r.is_ascii_alphanumeric() || r == '_');
        }
        if r.is_alphabetic() || r.is_numeric() {
            return false;
        }
        r.is_whitespace()
    };
    let mut prev = ' ';
    s.chars()
        .map(|c| {
            let out = if is_separator(prev) {
                map_chars(&c.to_string(), |c| c.to_uppercase()).chars().next().unwrap_or(c)
            } else {
                c
            };
            prev = c;
            out
        })
        .collect()
}

/// Go's `strings.Split`, refusing a result larger than `room` (as [`value_size`] counts it).
fn split(s: &str, sep: &str, room: usize) -> Result<Vec<Value>, String> {
    let pieces = if sep.is_empty() { s.chars().count() } else { s.matches(sep).count() + 1 };
    if pieces.saturating_mul(32).saturating_add(s.len()) > room {
        return Err(too_large());
    }
    if sep.is_empty() {
        return Ok(s.chars().map(|c| Value::Str(c.to_string())).collect());
    }
    Ok(s.split(sep).map(|p| Value::Str(p.to_string())).collect())
}

/// The textual form of `html`/`js`/`urlquery` arguments (Go's `evalArgs`).
fn eval_args(a: &[Val], room: usize) -> Result<String, String> {
    if let [Some(Value::Str(s))] = a {
        return Ok(s.clone());
    }
    let args: Vec<Value> = a
        .iter()
        .map(|v| match v {
            None | Some(Value::Nil) => Value::Str("<no value>".into()),
            Some(v) => v.clone(),
        })
        .collect();
    bounded(room, |b| sprint(b, &args))
}

/// Go's `template.HTMLEscapeString`.
fn html_escape(out: &mut Bounded, s: &str) -> Result<(), String> {
    for c in s.chars() {
        match c {
            '\0' => out.push('\u{FFFD}'),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    Ok(())
}

/// Go's `template.JSEscapeString`.
fn js_escape(out: &mut Bounded, s: &str) -> Result<(), String> {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u00{:02X}", c as u32)),
            c if c.is_ascii() => out.push(c),
            c if c.is_control() || crate::quote::is_unprintable(c) => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    Ok(())
}

/// Go's `url.QueryEscape`.
fn query_escape(out: &mut Bounded, s: &str) -> Result<(), String> {
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    Ok(())
}

/// Go's `len`.
fn length(v: &Val) -> Result<i64, String> {
    match v {
        None | Some(Value::Nil) => Err("reflect: call of reflect.Value.Type on zero Value".into()),
        Some(Value::Str(s)) => Ok(s.len() as i64),
        Some(Value::List(l)) => Ok(l.len() as i64),
        Some(Value::Map(m)) => Ok(m.as_ref().map_or(0, |m| m.len()) as i64),
        Some(v) => Err(format!("len of type {}", type_name_indirect(v))),
    }
}

/// A value taken out of a container: a nil interface there is "no value".
fn from_container(v: &Value) -> Val {
    match v {
        Value::Nil => None,
        v => Some(v.clone()),
    }
}

/// Go's `indexArg`.
fn index_arg(idx: &Val, cap: usize) -> Result<usize, String> {
    match idx {
        Some(Value::Int(x)) => {
            if *x < 0 || *x as u64 > cap as u64 {
                Err(format!("index out of range: {x}"))
            } else {
                Ok(*x as usize)
            }
        }
        None | Some(Value::Nil) => Err("cannot index slice/array with nil".into()),
        Some(v) => Err(format!("cannot index slice/array with type {}", type_name(v))),
    }
}

/// The zero value of a map's element type, as `index` of a missing key yields it: the
/// element type is read off the values (all strings, as labels, or none: `""`; all ints:
/// `0`; all bools: `false`; all floats: `0`); mixed values are Go's `interface{}`, no value.
fn zero_value(m: &Option<std::rc::Rc<std::collections::BTreeMap<String, Value>>>) -> Val {
    if is_string_map(m) {
        return Some(Value::Str(String::new()));
    }
    let values = || m.iter().flat_map(|m| m.values());
    if values().all(|v| matches!(v, Value::Int(_))) {
        Some(Value::Int(0))
    } else if values().all(|v| matches!(v, Value::Bool(_))) {
        Some(Value::Bool(false))
    } else if values().all(|v| matches!(v, Value::Float(_))) {
        Some(Value::Float(0.0))
    } else {
        None
    }
}

/// Go's `index`.
fn index(item: Val, indexes: &[Val]) -> Result<Val, String> {
    let Some(mut item) = item.filter(|v| !matches!(v, Value::Nil)) else {
        return Err("index of untyped nil".into());
    };
    for idx in indexes {
        let next = match &item {
            Value::List(l) => {
                let x = index_arg(idx, l.len())?;
                match l.get(x) {
                    Some(v) => from_container(v),
                    None => return Err("reflect: slice index out of range".into()),
                }
            }
            Value::Str(s) => {
                let x = index_arg(idx, s.len())?;
                match s.as_bytes().get(x) {
                    Some(b) => Some(Value::Int(*b as i64)),
                    None => return Err("reflect: string index out of range".into()),
                }
            }
            Value::Map(m) => {
                let key = match idx {
                    Some(Value::Str(k)) => k,
                    None | Some(Value::Nil) => {
                        return Err("value is nil; should be of type string".into());
                    }
                    Some(v) => {
                        return Err(format!("value has type {}; should be string", type_name(v)));
                    }
                };
                match m.as_ref().and_then(|m| m.get(key)) {
                    Some(v) => from_container(v),
                    None => zero_value(m),
                }
            }
            Value::Nil => return Err("index of nil pointer".into()),
            v => return Err(format!("can't index item of type {}", type_name_indirect(v))),
        };
        match next {
            Some(v) => item = v,
            None => item = Value::Nil,
        }
    }
    Ok(from_container(&item))
}

/// Go's `slice`.
fn slice(item: Val, indexes: &[Val]) -> Result<Val, String> {
    let Some(item) = item.filter(|v| !matches!(v, Value::Nil)) else {
        return Err("slice of untyped nil".into());
    };
    if indexes.len() > 3 {
        return Err(format!("too many slice indexes: {}", indexes.len()));
    }
    let len = match &item {
        Value::Str(s) => {
            if indexes.len() == 3 {
                return Err("cannot 3-index slice a string".into());
            }
            s.len()
        }
        Value::List(l) => l.len(),
        v => return Err(format!("can't slice item of type {}", type_name(v))),
    };
    let mut idx = [0, len, 0];
    for (i, x) in indexes.iter().enumerate() {
        idx[i] = index_arg(x, len)?;
    }
    if idx[0] > idx[1] {
        return Err(format!("invalid slice index: {} > {}", idx[0], idx[1]));
    }
    if indexes.len() == 3 && idx[1] > idx[2] {
        return Err(format!("invalid slice index: {} > {}", idx[1], idx[2]));
    }
    Ok(Some(match item {
        Value::Str(s) => Value::Str(byte_slice(&s, idx[0], idx[1])),
        Value::List(l) => Value::List(l[idx[0]..idx[1]].into()),
        _ => return Ok(None),
    }))
}
