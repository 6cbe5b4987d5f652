//! Go's `text/template`, as Docker's `--format` flag uses it.
//!
//! A port of Go's `text/template` (lexer, parser, executor, builtin functions, the parts of
//! `fmt` that `printf` reaches) plus Docker's extra functions (`json`, `split`, `join`,
//! `title`, `lower`, `upper`, `pad`, `truncate`, from docker/cli `templates/templates.go`).
//! The template is named `""` as Docker's is, so error messages read exactly as Docker prints
//! them: `template: :1: unclosed action`, or
//! `template: :1:2: executing "" at <.Bogus>: can't evaluate field Bogus in type T`.
//!
//! The crate knows nothing of what it formats: data reaches it as [`Value`]s, and Go structs
//! (with fields and methods) as [`Object`]s.
//!
//! # Streaming and limits
//!
//! Execution writes to the [`std::io::Write`] it is handed as it goes, and stops at the first
//! write error (a closed pipe ends a template at once). Memory stays bounded whatever the
//! template:
//! - `printf` widths and precisions follow Go's own bounds (a literal of more than about 10^7
//!   ends the verb with `%!(NOVERB)`, a `*` argument over 10^6 gives `%!(BADWIDTH)`).
//! - The values a template holds at once (function results and strings being passed as
//!   arguments, and what its variables hold) may take [`MAX_VALUES_BYTES`] in all; past that
//!   execution fails (`error calling F: result exceeds the 64 MiB limit of template values`)
//!   instead of allocating more. Strings and lists are counted by size, whether built by the
//!   template or read from the data.
//! - Nesting of parentheses and control structures is limited to 100 levels at parse time, and
//!   execution depth (nested structures plus `{{template}}` calls) to [`MAX_EXEC_DEPTH`], so
//!   that hostile templates cannot overflow the stack.
//!
//! # Differences from Go
//!
//! All in corners `--format` users do not reach:
//! - Complex literals are rejected ("illegal number syntax").
//! - A `nil` inside a map read through a field chain (`.Status.x.y` where `x` is null) is no
//!   value, not Go's `nil pointer evaluating interface {}.y` error.
//! - Methods of an [`Object`] receive their arguments untyped; arity and type errors are the
//!   object's to report (as `error calling X: ...`).
//! - A `nil` stored in a [`Value::Map`] or [`Value::List`] is a Go nil interface: fetched with
//!   `.key` or `index` it is "no value" (prints `<no value>`), as Go prints it at the end of a
//!   pipeline. [`Value::Nil`] returned by an [`Object`] stands for a nil pointer and prints
//!   `<nil>`; field access through it fails with `nil pointer evaluating interface {}.X`.
//! - A missing key read with `.key` prints `<no value>` (Go's default `missingkey` option), for
//!   every map. `index` of a missing key yields the element type's zero value, the type read
//!   off the values: `""` for maps whose values are all strings (Go's `map[string]string`,
//!   e.g. labels) or that are empty, `0` for all ints, `false` for all bools, else no value.
//! - Byte escapes in string literals that do not form valid UTF-8 become U+FFFD.

mod exec;
mod funcs;
#[cfg(test)]
mod go_suite;
mod json;
mod lex;
mod parse;
mod printf;
mod quote;
#[cfg(test)]
#[rustfmt::skip] // one table row per line
mod tests;

use std::collections::BTreeMap;
use std::io;
use std::rc::Rc;

pub use quote::go_quote;

/// The most memory the values of one execution may take at once (see the crate docs).
pub const MAX_VALUES_BYTES: usize = 64 << 20;

/// The deepest execution nesting (control structures, parenthesized pipelines and
/// `{{template}}` calls) allowed. Go allows 100000 template calls; a Rust thread's stack is
/// smaller than a goroutine's can grow to.
pub const MAX_EXEC_DEPTH: usize = 200;

/// A value a template can act on: Go's dynamic values, reduced to what Docker's formatters pass.
/// Lists and maps are shared, so that fields, variables and `range` never copy them.
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
    List(Rc<[Value]>),
    /// A Go `map[string]T`. `None` is a nil map: prints `map[]`, encodes as `null`. `Some` prints
    /// `map[k1:v1 k2:v2]` in key order and encodes as an object with sorted keys.
    Map(Option<Rc<BTreeMap<String, Value>>>),
    /// A Go struct or pointer to struct (or a named map type with methods), with fields and
    /// methods.
    Object(Rc<dyn Object>),
}

impl Value {
    /// A string.
    pub fn str(s: impl Into<String>) -> Value {
        Value::Str(s.into())
    }

    /// A list.
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(items.into())
    }

    /// A non-nil map.
    pub fn map(m: BTreeMap<String, Value>) -> Value {
        Value::Map(Some(Rc::new(m)))
    }

    /// An object.
    pub fn object(o: impl Object + 'static) -> Value {
        Value::Object(Rc::new(o))
    }
}

/// A Go struct (or pointer to one) exposed to templates.
pub trait Object {
    /// Go type name used in error messages, e.g. "*formatter.volumeContext" or "volume.Volume".
    fn type_name(&self) -> &str;
    /// Field or method `name` called with `args` (empty for a plain field). `None`: no such
    /// field or method (the engine then produces Go's "can't evaluate field X in type T" error,
    /// or no value for a [map-like](Object::is_map) object).
    /// `Some(Err(msg))`: the method failed (Go: "error calling X: msg").
    ///
    /// Go checks a method's arity and argument types itself; to reproduce those messages, return
    /// `Err` with text starting `wrong number of args for X: want N got M` or
    /// `wrong type for value; expected T; got U`: such messages are reported without the
    /// "error calling X: " prefix.
    fn get(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>>;
    /// What `{{json .}}` encodes for this object: its fields in order (Go encodes struct fields
    /// in declaration order; a `MarshalJSON` that marshals a map gives sorted keys).
    fn json_fields(&self) -> Vec<(String, Value)>;
    /// Whether the JSON comes from a `MarshalJSON` method built on `json.Marshal`, which
    /// escapes `<`, `>` and `&` (as docker/cli's formatter contexts do). The template `json`
    /// function itself does not escape them.
    fn json_escapes_html(&self) -> bool {
        false
    }
    /// What `{{.}}` prints (Go's %v of the struct, e.g. "{a b map[]}").
    fn display(&self) -> String;
    /// A Go map type with methods (docker/cli's `SubHeaderContext`): a name that is not a
    /// method or key is no value (`<no value>`), not an error.
    fn is_map(&self) -> bool {
        false
    }
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

/// Why a template failed to parse or execute. The text of `Parse` and `Exec` is exactly Go's.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// A parse error, e.g. `template: :1: unclosed action`.
    #[error("{0}")]
    Parse(String),
    /// An execution error, e.g.
    /// `template: :1:2: executing "" at <.Bogus>: can't evaluate field Bogus in type T`.
    #[error("{0}")]
    Exec(String),
    /// The output writer failed; execution stopped at once.
    #[error("write: {0}")]
    Write(#[source] io::Error),
}

/// Which function set execution uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Funcs {
    /// Go's builtins and Docker's `basicFunctions`.
    #[default]
    Docker,
    /// Docker's `HeaderFunctions`, with which docker/cli renders a table's header row: `json`,
    /// `split`, `join`, `title`, `lower`, `upper` and `truncate` take a string and return it
    /// unchanged (`split` and `join` with a second string, `truncate` with an int).
    DockerHeader,
}

/// A parsed template, with the templates it defines: parse once, execute for every row.
#[derive(Debug)]
pub struct Template {
    text: String,
    set: parse::TreeSet,
}

impl Template {
    /// Parse `src` as Go's `template.New("").Funcs(dockerFuncs).Parse(src)` does.
    pub fn parse(src: &str) -> Result<Template, TemplateError> {
        let set = parse::parse(src)?;
        Ok(Template { text: src.to_string(), set })
    }

    /// Execute the template with `dot` as data, writing to `out` as it goes. On error, `out`
    /// holds what was produced before the failure (as with Go's writer).
    pub fn execute(&self, dot: &Value, out: &mut dyn io::Write) -> Result<(), TemplateError> {
        self.execute_with(dot, out, Funcs::Docker)
    }

    /// [`Template::execute`] with the given function set.
    pub fn execute_with(&self, dot: &Value, out: &mut dyn io::Write, funcs: Funcs) -> Result<(), TemplateError> {
        exec::execute(&self.text, &self.set, dot, out, funcs)
    }

    /// Execute into a string (for tests and small outputs).
    pub fn render(&self, dot: &Value) -> Result<String, TemplateError> {
        let mut out = Vec::new();
        self.execute(dot, &mut out)?;
        Ok(String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
    }
}

impl std::fmt::Display for Value {
    /// Go's `%v` of the value, as `{{.}}` prints it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        printf::write_v(f, self)
    }
}
