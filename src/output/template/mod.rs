//! Go's `text/template`, as Docker's `--format` flag uses it.
//!
//! This is a port of the parts of Go's `text/template` (lexer, parser, executor, builtin
//! functions) that `--format` users rely on, plus Docker's extra functions (`json`, `split`,
//! `join`, `title`, `lower`, `upper`, `pad`, `truncate`, from docker/cli `templates/templates.go`).
//! The template is named `""` as Docker's is, so error messages read exactly as Docker prints
//! them: `template: :1: unclosed action`, or
//! `template: :1:2: executing "" at <.Bogus>: can't evaluate field Bogus in type T`.
//!
//! Data is modelled by [`Value`]; Go structs (with fields and methods) are [`Object`]s.
//!
//! Deliberate differences from Go, all in corners `--format` users do not reach:
//! - `{{define}}`, `{{template}}` and `{{block}}` are rejected at parse time.
//! - Complex and hexadecimal floating-point literals are rejected ("illegal number syntax").
//! - Methods of an [`Object`] receive their arguments untyped; arity and type errors are the
//!   object's to report (as `error calling X: ...`).
//! - A `nil` stored in a [`Value::Map`] or [`Value::List`] is a Go nil interface: fetched with
//!   `.key` or `index` it is "no value" (prints `<no value>`), as Go prints it at the end of a
//!   pipeline. [`Value::Nil`] returned by an [`Object`] stands for a nil pointer and prints
//!   `<nil>`; field access through it fails with `nil pointer evaluating interface {}.X`.
//! - A missing key read with `.key` prints `<no value>` (Go's default `missingkey` option), for
//!   every map. `index` of a missing key yields the element type's zero value: `""` for maps
//!   whose values are all strings (Go's `map[string]string`, e.g. labels), else no value.
//! - Nesting of parentheses and control structures is limited to 200 levels (Go: 10000
//!   parentheses) so that hostile templates cannot overflow the stack.

mod exec;
mod fmt;
mod funcs;
mod json;
mod lex;
mod parse;
#[cfg(test)]
#[rustfmt::skip] // one table row per line
mod tests;

use std::collections::BTreeMap;
use std::rc::Rc;

/// A value a template can act on: Go's dynamic values, reduced to what Docker's formatters pass.
#[derive(Clone)]
pub enum Value {
    /// Go's `nil`: prints `<nil>`, encodes as JSON `null`.
    Nil,
    /// A Go `bool`.
    Bool(bool),
    /// A Go `int`.
    Int(i64),
    /// A Go `float64`; prints as Go's `%v` does (`1.5`, `1e+06`).
    Float(f64),
    /// A Go `string`.
    Str(String),
    /// A Go slice: prints `[a b c]`, encodes as a JSON array.
    List(Vec<Value>),
    /// A Go `map[string]T`. `None` is a nil map: prints `map[]`, encodes as `null`. `Some` prints
    /// `map[k1:v1 k2:v2]` in key order and encodes as an object with sorted keys.
    Map(Option<BTreeMap<String, Value>>),
    /// A Go struct or pointer to struct, with fields and methods.
    Object(Rc<dyn Object>),
}

/// A Go struct (or pointer to one) exposed to templates.
pub trait Object {
    /// Go type name used in error messages, e.g. "*formatter.volumeContext" or "volume.Volume".
    fn type_name(&self) -> &str;
    /// Field or method `name` called with `args` (empty for a plain field). `None`: no such
    /// field or method (the engine then produces Go's "can't evaluate field X in type T" error).
    /// `Some(Err(msg))`: the method failed (Go: "error calling X: msg").
    ///
    /// Go checks a method's arity and argument types itself; to reproduce those messages, return
    /// `Err` with text starting `wrong number of args for X: want N got M` or
    /// `wrong type for value; expected T; got U`: such messages are reported without the
    /// "error calling X: " prefix.
    fn get(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>>;
    /// What `{{json .}}` prints for this object (object keys are printed in the given order,
    /// as Go prints struct fields).
    fn to_json(&self) -> serde_json::Value;
    /// What `{{.}}` prints (Go's %v of the struct, e.g. "{a b map[]}").
    fn display(&self) -> String;
}

impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Nil => f.write_str("Nil"),
            Value::Bool(b) => write!(f, "Bool({b})"),
            Value::Int(i) => write!(f, "Int({i})"),
            Value::Float(x) => write!(f, "Float({x:?})"),
            Value::Str(s) => write!(f, "Str({s:?})"),
            Value::List(l) => f.debug_tuple("List").field(l).finish(),
            Value::Map(m) => f.debug_tuple("Map").field(m).finish(),
            Value::Object(o) => write!(f, "Object({}: {})", o.type_name(), o.display()),
        }
    }
}

impl From<serde_json::Value> for Value {
    /// JSON objects become maps (sorted keys), arrays lists, `null` [`Value::Nil`], integral
    /// numbers that fit `i64` [`Value::Int`], other numbers [`Value::Float`].
    fn from(v: serde_json::Value) -> Self {
        match v {
            serde_json::Value::Null => Value::Nil,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(0.0)),
            },
            serde_json::Value::String(s) => Value::Str(s),
            serde_json::Value::Array(a) => Value::List(a.into_iter().map(Value::from).collect()),
            serde_json::Value::Object(o) => Value::Map(Some(o.into_iter().map(|(k, v)| (k, Value::from(v))).collect())),
        }
    }
}

/// Why a template failed to parse or execute. The text is exactly Go's.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// A parse error, e.g. `template: :1: unclosed action`.
    #[error("{0}")]
    Parse(String),
    /// An execution error, e.g.
    /// `template: :1:2: executing "" at <.Bogus>: can't evaluate field Bogus in type T`.
    #[error("{0}")]
    Exec(String),
}

/// A parsed template: parse once, execute for every row.
#[derive(Debug)]
pub struct Template {
    text: String,
    root: parse::List,
}

impl Template {
    /// Parse `src` as Go's `template.New("").Funcs(dockerFuncs).Parse(src)` does.
    pub fn parse(src: &str) -> Result<Template, TemplateError> {
        let root = parse::parse(src)?;
        Ok(Template { text: src.to_string(), root })
    }

    /// Execute the template with `dot` as data, appending the output to `out`. On error, `out`
    /// holds what was produced before the failure (as with Go's writer).
    pub fn execute(&self, dot: &Value, out: &mut String) -> Result<(), TemplateError> {
        exec::execute(&self.text, &self.root, dot, out)
    }
}
