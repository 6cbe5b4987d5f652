//! Rendering into the writer a command is handed: Docker's tables, JSON, and Go-style
//! `--format` templates (the engine is the `gotemplate` crate). Output streams: nothing here
//! builds a whole listing in memory. Nothing here touches the store or picks an exit code.

pub mod compose;
pub mod image;
pub mod mounts;
pub mod system;
pub mod tabwriter;
pub mod volume;

/// Go's `text/template` with Docker's functions.
pub use gotemplate as template;

use std::cmp::Ordering;
use std::io::{self, Write};

use thiserror::Error;

use template::{Funcs, Template, TemplateError, Value};

/// A `--format` that failed, in the words Docker's CLI uses.
#[derive(Debug, Error)]
pub enum FormatError {
    /// The template does not parse (`docker inspect` exits 64 for this).
    #[error("template parsing error: {0}")]
    Parse(TemplateError),
    /// The template failed while rendering a row.
    #[error("template parsing error: {0}")]
    Exec(TemplateError),
    /// The output could not be written (a closed pipe, a full disk).
    #[error("write: {0}")]
    Write(#[source] io::Error),
}

impl FormatError {
    /// An execution error; a write error stays one.
    pub fn exec(e: TemplateError) -> FormatError {
        match e {
            TemplateError::Write(e) => FormatError::Write(e),
            e => FormatError::Exec(e),
        }
    }
}

impl From<io::Error> for FormatError {
    fn from(e: io::Error) -> FormatError {
        FormatError::Write(e)
    }
}

/// How much output [`Spill`] holds back before it starts passing output through.
pub const SPILL_BYTES: usize = 1 << 20;

/// A writer that holds output back until it exceeds [`SPILL_BYTES`], then passes everything
/// through. Docker renders a whole listing into memory and prints nothing of it when a row
/// fails; holding back the first megabyte gives that behaviour for every listing of a sane
/// size while keeping memory bounded (and `| head` prompt) for huge ones.
pub struct Spill<'a> {
    out: &'a mut dyn Write,
    buf: Vec<u8>,
    spilled: bool,
}

impl<'a> Spill<'a> {
    pub fn new(out: &'a mut dyn Write) -> Spill<'a> {
        Spill { out, buf: Vec::new(), spilled: false }
    }

    /// Where the output is now, if it is still held back (for [`Spill::rollback`]).
    pub fn mark(&self) -> Option<usize> {
        (!self.spilled).then_some(self.buf.len())
    }

    /// Drop what was written since `mark`, if it is still held back.
    pub fn rollback(&mut self, mark: Option<usize>) {
        if let Some(m) = mark
            && !self.spilled
        {
            self.buf.truncate(m);
        }
    }

    /// Write out what is held back.
    pub fn commit(self) -> io::Result<()> {
        self.out.write_all(&self.buf)
    }
}

impl Write for Spill<'_> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.spilled {
            return self.out.write(data);
        }
        self.buf.extend_from_slice(data);
        if self.buf.len() > SPILL_BYTES {
            self.spilled = true;
            self.out.write_all(&std::mem::take(&mut self.buf))?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.spilled { self.out.flush() } else { Ok(()) }
    }
}

/// Compare as docker/cli sorts volume names ("natural" order): runs of digits compare by
/// numeric value (then by count of leading zeros), other bytes compare bytewise, and digits
/// sort before non-digits.
///
/// Only two identical strings compare equal, so an unstable sort gives the stable order.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    // Names in one store often share a long prefix (`bench-vv-`, `myapp_db-`): skip it at
    // memcmp speed. Up to the first difference the two strings tokenize alike, so the walk
    // below may start there, backed up to the start of the digit run (if any) it falls in.
    let mut p = common_prefix(a, b);
    while p > 0 && a[p - 1].is_ascii_digit() {
        p -= 1;
    }
    natural_cmp_from(a, b, p)
}

/// The length of the longest common prefix of `a` and `b`, eight bytes at a time.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + 8 <= n {
        let word = |s: &[u8]| u64::from_le_bytes(s[i..i + 8].try_into().unwrap_or_default());
        let diff = word(a) ^ word(b);
        if diff != 0 {
            return i + (diff.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < n && a[i] == b[i] {
        i += 1;
    }
    i
}

/// [`natural_cmp`] of `a[start..]` and `b[start..]`, where `start` is not inside a digit run.
fn natural_cmp_from(a: &[u8], b: &[u8], start: usize) -> Ordering {
    let (mut i, mut j) = (start, start);
    while i < a.len() && j < b.len() {
        let (da, db) = (a[i].is_ascii_digit(), b[j].is_ascii_digit());
        if da != db {
            return if da { Ordering::Less } else { Ordering::Greater };
        }
        if !da {
            if a[i] != b[j] {
                return a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
            continue;
        }
        let (za, zb) = (skip_zeros(a, i), skip_zeros(b, j));
        let (ea, eb) = (digits_end(a, za), digits_end(b, zb));
        let ord =
            (ea - za).cmp(&(eb - zb)).then_with(|| a[za..ea].cmp(&b[zb..eb])).then_with(|| (za - i).cmp(&(zb - j)));
        if ord != Ordering::Equal {
            return ord;
        }
        i = ea;
        j = eb;
    }
    (a.len() - i).cmp(&(b.len() - j))
}

fn skip_zeros(s: &[u8], mut i: usize) -> usize {
    while i < s.len() && s[i] == b'0' {
        i += 1;
    }
    i
}

fn digits_end(s: &[u8], mut i: usize) -> usize {
    while i < s.len() && s[i].is_ascii_digit() {
        i += 1;
    }
    i
}

/// JSON as Go's encoder writes it: compact; `escape_html` as `json.Marshal` (on) or the
/// template `json` function (off); U+2028 and U+2029 always escaped.
pub fn go_json(v: &serde_json::Value, escape_html: bool) -> String {
    go_escape(serde_json::to_string(v).unwrap_or_default(), escape_html)
}

/// JSON indented with four spaces, as `docker inspect` prints (HTML characters escaped, as
/// the daemon's encoder does).
pub fn go_json_indent(v: &serde_json::Value) -> String {
    use serde::Serialize;
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    let _ = v.serialize(&mut ser);
    go_escape(String::from_utf8(buf).unwrap_or_default(), true)
}

/// The characters Go escapes and serde_json does not can only occur inside JSON strings, so
/// replacing them in the whole text is exact.
fn go_escape(s: String, escape_html: bool) -> String {
    let needs = s.contains(['\u{2028}', '\u{2029}']) || (escape_html && s.contains(['<', '>', '&']));
    if !needs {
        return s;
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            '<' if escape_html => out.push_str("\\u003c"),
            '>' if escape_html => out.push_str("\\u003e"),
            '&' if escape_html => out.push_str("\\u0026"),
            c => out.push(c),
        }
    }
    out
}

/// Go's type name of a value passed to a method, for "wrong type for value" messages.
pub fn go_type(v: &Value) -> String {
    match v {
        Value::Nil => "<nil>".into(),
        Value::Bool(_) => "bool".into(),
        Value::Int(_) => "int".into(),
        Value::Float(_) => "float64".into(),
        Value::Str(_) => "string".into(),
        Value::List(_) => "[]interface {}".into(),
        Value::Map(_) => "map[string]interface {}".into(),
        Value::Object(o) => o.type_name().to_owned(),
    }
}

/// docker/cli's `SubHeaderContext`: the dot of a table's header row, a `map[string]string` from
/// field names to column titles, whose `Label` method titles a label column.
pub struct SubHeader(&'static [(&'static str, &'static str)], &'static [(&'static str, &'static str)]);

impl SubHeader {
    /// The header dot for these `(field, title)` pairs, sorted by field.
    pub fn value(titles: &'static [(&'static str, &'static str)]) -> Value {
        Value::object(SubHeader(titles, &[]))
    }

    /// With titles of myvol's own fields, which only a table's header looks up (the map
    /// itself, printed or as JSON, stays docker/cli's).
    pub fn with_extra(
        titles: &'static [(&'static str, &'static str)],
        extra: &'static [(&'static str, &'static str)],
    ) -> Value {
        Value::object(SubHeader(titles, extra))
    }
}

impl template::Object for SubHeader {
    fn type_name(&self) -> &str {
        "formatter.SubHeaderContext"
    }

    fn get(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        if name == "Label" {
            // docker/cli: the last dot-separated part, with `-` and `_` as spaces.
            return Some(match args {
                [Value::Str(k)] => {
                    let last = k.rsplit('.').next().unwrap_or_default();
                    Ok(Value::str(last.replace(['-', '_'], " ")))
                }
                [other] => Err(format!("wrong type for value; expected string; got {}", go_type(other))),
                _ => Err(format!("wrong number of args for Label: want 1 got {}", args.len())),
            });
        }
        if !args.is_empty() {
            return None;
        }
        self.0.iter().chain(self.1).find(|(k, _)| *k == name).map(|(_, h)| Ok(Value::str(*h)))
    }

    fn json_fields(&self) -> Vec<(String, Value)> {
        self.0.iter().map(|(k, h)| ((*k).to_owned(), Value::str(*h))).collect()
    }

    /// Go's `%v` of the map: `map[Driver:DRIVER Name:VOLUME NAME]`.
    fn display(&self) -> String {
        let items: Vec<String> = self.0.iter().map(|(k, h)| format!("{k}:{h}")).collect();
        format!("map[{}]", items.join(" "))
    }

    fn is_map(&self) -> bool {
        true
    }
}

/// A `--format` for list commands, resolved as docker/cli's formatter resolves it.
pub struct ListFormat {
    table: bool,
    template: Template,
}

impl ListFormat {
    /// `format` is the user's `--format` after defaults were applied (`table`, `json`, `raw`
    /// handled by the caller into templates). Docker's rules: a format starting with `table`
    /// is a table (the rest is the row template), `json` is `{{json .}}`; surrounding spaces
    /// are trimmed and the two-character sequences `\t` and `\n` become a tab and a newline.
    pub fn parse(format: &str) -> Result<ListFormat, FormatError> {
        let (table, body) = match format.strip_prefix("table") {
            Some(rest) => (true, rest),
            None if format == "json" => (false, "{{json .}}"),
            None => (false, format),
        };
        let body = body.trim_matches(' ').replace("\\t", "\t").replace("\\n", "\n");
        let template = Template::parse(&body).map_err(FormatError::Parse)?;
        Ok(ListFormat { table, template })
    }

    /// Whether this is a `table` format.
    pub fn is_table(&self) -> bool {
        self.table
    }

    /// Render `rows` (each a template dot) to `out`, one line each, and for a table first the
    /// header rendered from `header` with Docker's header functions, everything aligned as
    /// Docker's tabwriter aligns it. When a row fails, nothing is printed (as in Docker) unless
    /// more than [`SPILL_BYTES`] were already written.
    pub fn render(
        &self,
        header: &Value,
        rows: impl IntoIterator<Item = Value>,
        out: &mut dyn Write,
    ) -> Result<(), FormatError> {
        let mut spill = Spill::new(out);
        if self.table {
            let mut tw = tabwriter::TabWriter::docker(&mut spill);
            // A header that cannot render (a function applied to a title) is cut short where
            // it failed, as Docker's header pass ignores its errors; a write error stops.
            if let Err(TemplateError::Write(e)) = self.template.execute_with(header, &mut tw, Funcs::DockerHeader) {
                return Err(FormatError::Write(e));
            }
            tw.write_all(b"\n")?;
            self.rows(rows, &mut tw)?;
            tw.flush()?;
        } else {
            self.rows(rows, &mut spill)?;
        }
        spill.commit()?;
        Ok(())
    }

    fn rows(&self, rows: impl IntoIterator<Item = Value>, out: &mut dyn Write) -> Result<(), FormatError> {
        for row in rows {
            self.template.execute(&row, out).map_err(FormatError::exec)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order() {
        let mut v = vec!["bench-10", "bench-2", "bench-1", "a", "B", "bench-02", "x1y", "x01y", "10", "9", "a1", "a"];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(v, ["9", "10", "B", "a", "a", "a1", "bench-1", "bench-2", "bench-02", "bench-10", "x1y", "x01y"]);
    }

    proptest::proptest! {
        /// The common-prefix shortcut never changes the order: compared with the walk from
        /// the start, on strings made of few symbols (digits, zeros, letters) so that long
        /// shared prefixes and digit runs straddling the first difference are common.
        #[test]
        fn natural_cmp_shortcut_is_exact(a in "[0019a-]{0,12}", b in "[0019a-]{0,12}", pre in "[01a-]{0,17}") {
            let (a, b) = (format!("{pre}{a}"), format!("{pre}{b}"));
            proptest::prop_assert_eq!(natural_cmp(&a, &b), natural_cmp_from(a.as_bytes(), b.as_bytes(), 0));
            proptest::prop_assert_eq!(natural_cmp(&a, &b) == Ordering::Equal, a == b);
        }
    }

    #[test]
    fn common_prefix_by_words() {
        assert_eq!(common_prefix(b"", b"abc"), 0);
        assert_eq!(common_prefix(b"bench-vv-1234", b"bench-vv-1299"), 11);
        assert_eq!(common_prefix(b"bench-vv", b"bench-vv"), 8);
        assert_eq!(common_prefix(b"bench-vw", b"bench-vv"), 7);
        assert_eq!(common_prefix(b"0123456789abcdefX", b"0123456789abcdefY"), 16);
        assert_eq!(common_prefix(b"x0123456789", b"y0123456789"), 0);
    }

    #[test]
    fn natural_order_across_a_shared_digit_prefix() {
        // The first difference is inside a digit run: the whole run decides.
        assert_eq!(natural_cmp("v-19", "v-100"), Ordering::Less);
        assert_eq!(natural_cmp("v-100", "v-19"), Ordering::Greater);
        assert_eq!(natural_cmp("v-007", "v-07"), Ordering::Greater);
        assert_eq!(natural_cmp("v-10a", "v-10"), Ordering::Greater);
        assert_eq!(natural_cmp("v-1x", "v-1"), Ordering::Greater);
    }

    #[test]
    fn go_json_escapes_like_go() {
        let v = serde_json::json!({"a": "<b>&\u{2028}", "n": null});
        assert_eq!(go_json(&v, false), "{\"a\":\"<b>&\\u2028\",\"n\":null}");
        assert_eq!(go_json(&v, true), "{\"a\":\"\\u003cb\\u003e\\u0026\\u2028\",\"n\":null}");
        assert_eq!(go_json_indent(&serde_json::json!([{"k": {}}])), "[\n    {\n        \"k\": {}\n    }\n]");
    }
}
