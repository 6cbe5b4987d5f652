//! The parts of Go's `fmt` that templates reach: `%v` printing of values, `Sprint`,
//! `Sprintln` and `Sprintf` with the common verbs, flags, width and precision, and Go's
//! `%!verb(type=value)` diagnostics.

mod float;
mod int;
mod string;

use std::borrow::Cow;
use std::fmt::{self, Write as _};

use super::Value;
pub(super) use float::{float_digits, fmt_e};
use float::{float_v, fmt_float_verb};
use int::fmt_int;
use string::{fmt_q, fmt_s, fmt_sx};

/// A string that refuses to grow past a limit: writes past it are dropped and remembered, so
/// that building an oversized result costs no more than the limit.
pub(super) struct Bounded {
    s: String,
    limit: usize,
    over: bool,
}

impl Bounded {
    pub fn new(limit: usize) -> Bounded {
        Bounded { s: String::new(), limit, over: false }
    }

    /// The text, or `None` if it did not fit.
    pub fn finish(self) -> Option<String> {
        (!self.over).then_some(self.s)
    }

    pub fn push_str(&mut self, x: &str) {
        if self.over || self.s.len() + x.len() > self.limit {
            self.over = true;
            return;
        }
        self.s.push_str(x);
    }

    pub fn push(&mut self, c: char) {
        self.push_str(c.encode_utf8(&mut [0; 4]));
    }

    /// Append `n` copies of `c`.
    fn repeat(&mut self, c: char, n: usize) {
        if self.over || n.saturating_mul(c.len_utf8()).saturating_add(self.s.len()) > self.limit {
            self.over = true;
            return;
        }
        self.s.push_str(&c.encode_utf8(&mut [0; 4]).repeat(n));
    }

    fn is_over(&self) -> bool {
        self.over
    }
}

impl fmt::Write for Bounded {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push_str(s);
        if self.over { Err(fmt::Error) } else { Ok(()) }
    }
}

/// Go's `%T` of a value after text/template's `indirect` (a pointer's element type:
/// `formatter.volumeContext` for `*formatter.volumeContext`), as `len` and `index` name it.
pub(super) fn type_name_indirect(v: &Value) -> Cow<'_, str> {
    match type_name(v) {
        Cow::Owned(t) if matches!(v, Value::Object(_)) && t.starts_with('*') => Cow::Owned(t[1..].to_owned()),
        t => t,
    }
}

/// Go's `%v` of a value after text/template's `indirect`, as the template prints a value
/// (`printableValue`) and `range` names one it cannot iterate over: a pointer to a struct
/// prints as the struct (`{…}`, not `&{…}`).
pub(super) fn write_v_indirect<W: fmt::Write + ?Sized>(out: &mut W, v: &Value) -> fmt::Result {
    match v {
        Value::Object(o) => {
            let d = o.display();
            out.write_str(d.strip_prefix('&').unwrap_or(&d))
        }
        v => write_v(out, v),
    }
}

/// Go's `%T` of a value (the dynamic type as Docker's data would have it).
pub(super) fn type_name(v: &Value) -> Cow<'_, str> {
    match v {
        Value::Nil => Cow::Borrowed("<nil>"),
        Value::Bool(_) => Cow::Borrowed("bool"),
        Value::Int(_) => Cow::Borrowed("int"),
        Value::Float(_) => Cow::Borrowed("float64"),
        Value::Str(_) => Cow::Borrowed("string"),
        Value::List(l) => Cow::Owned(format!("[]{}", elem_type(l.iter()))),
        Value::Map(m) => Cow::Owned(format!("map[string]{}", elem_type(m.iter().flat_map(|m| m.values())))),
        Value::Object(o) => Cow::Owned(o.type_name().to_string()),
    }
}

/// The element type of a Go slice or map, read off its elements: one basic type for all
/// (`string` for none, as labels), else `interface {}`.
pub(super) fn elem_type<'a>(mut values: impl Iterator<Item = &'a Value> + Clone) -> &'static str {
    let kind = |v: &Value| match v {
        Value::Bool(_) => "bool",
        Value::Int(_) => "int",
        Value::Float(_) => "float64",
        Value::Str(_) => "string",
        _ => "interface {}",
    };
    match values.clone().next() {
        None => "string",
        Some(first) => {
            let k = kind(first);
            if values.all(|v| kind(v) == k) { k } else { "interface {}" }
        }
    }
}

/// Whether a map looks like Go's `map[string]string` (all values strings, or no values).
pub(super) fn is_string_map(m: &Option<std::rc::Rc<std::collections::BTreeMap<String, Value>>>) -> bool {
    m.as_ref().is_none_or(|m| m.values().all(|v| matches!(v, Value::Str(_))))
}

// ---- %v -------------------------------------------------------------------------------------

/// Write Go's `%v` rendering of `v`; stops at the writer's first error.
pub(super) fn write_v<W: fmt::Write + ?Sized>(out: &mut W, v: &Value) -> fmt::Result {
    match v {
        Value::Nil => out.write_str("<nil>"),
        Value::Bool(b) => out.write_str(if *b { "true" } else { "false" }),
        Value::Int(i) => write!(out, "{i}"),
        Value::Float(f) => out.write_str(&float_v(*f)),
        Value::Str(s) => out.write_str(s),
        Value::List(l) => {
            out.write_char('[')?;
            for (i, e) in l.iter().enumerate() {
                if i > 0 {
                    out.write_char(' ')?;
                }
                write_v(out, e)?;
            }
            out.write_char(']')
        }
        Value::Map(m) => {
            out.write_str("map[")?;
            if let Some(m) = m {
                for (i, (k, e)) in m.iter().enumerate() {
                    if i > 0 {
                        out.write_char(' ')?;
                    }
                    out.write_str(k)?;
                    out.write_char(':')?;
                    write_v(out, e)?;
                }
            }
            out.write_char(']')
        }
        Value::Object(o) => out.write_str(&o.display()),
    }
}

/// Go's `%v` rendering of `v` as a new string.
pub(super) fn to_v(v: &Value) -> String {
    let mut s = String::new();
    let _ = write_v(&mut s, v);
    s
}

/// Go's `fmt.Sprint`: operands separated by a space when neither side is a string.
pub(super) fn sprint(out: &mut Bounded, args: &[Value]) -> Result<(), String> {
    let mut prev_string = false;
    for (i, a) in args.iter().enumerate() {
        let is_string = matches!(a, Value::Str(_));
        if i > 0 && !is_string && !prev_string {
            out.push(' ');
        }
        let _ = write_v(out, a);
        prev_string = is_string;
    }
    Ok(())
}

/// Go's `fmt.Sprintln`: operands always separated by spaces, then a newline.
pub(super) fn sprintln(out: &mut Bounded, args: &[Value]) -> Result<(), String> {
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = write_v(out, a);
    }
    out.push('\n');
    Ok(())
}

// ---- Sprintf --------------------------------------------------------------------------------

/// Go's `fmt` flags, width and precision for one verb.
#[derive(Default, Clone, Copy)]
struct Spec {
    minus: bool,
    plus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    /// `%+v` and `%#v`: the flags become these and `plus`/`sharp` are cleared.
    plus_v: bool,
    sharp_v: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

impl Spec {
    /// Go's `writePadding`: `n` spaces, or zeros with the `0` flag.
    fn write_padding(&self, out: &mut Bounded, n: usize) {
        out.repeat(if self.zero { '0' } else { ' ' }, n);
    }

    /// Go's `pad`/`padString`: `s` padded to the width, on the left unless `-`.
    fn pad(&self, out: &mut Bounded, s: &str) {
        let Some(w) = self.width.filter(|&w| w > 0) else {
            out.push_str(s);
            return;
        };
        let fill = w.saturating_sub(s.chars().count());
        if self.minus {
            out.push_str(s);
            self.write_padding(out, fill);
        } else {
            self.write_padding(out, fill);
            out.push_str(s);
        }
    }

    /// [`Spec::pad`] without zero padding.
    fn pad_spaces(&self, out: &mut Bounded, s: &str) {
        Spec { zero: false, ..*self }.pad(out, s);
    }
}

/// Go's `tooLarge`: widths and precisions past a million are refused.
fn too_large(x: i64) -> bool {
    !(-1_000_000..=1_000_000).contains(&x)
}

/// Go's `parsenum`: the number at `b[i..end]`, whether there was one, and where it ends. A
/// number that grows too large consumes the rest of the format.
fn parse_num(b: &[u8], mut i: usize, end: usize) -> (usize, bool, usize) {
    let (mut num, mut isnum) = (0i64, false);
    while i < end && b[i].is_ascii_digit() {
        if too_large(num) {
            return (0, false, end);
        }
        num = num * 10 + i64::from(b[i] - b'0');
        isnum = true;
        i += 1;
    }
    (num as usize, isnum, i)
}

/// Go's `intFromArg`: a `*` width or precision from the arguments.
fn int_from_arg(args: &[Value], arg_num: usize) -> (i64, bool, usize) {
    match args.get(arg_num) {
        None => (0, false, arg_num),
        Some(Value::Int(n)) if !too_large(*n) => (*n, true, arg_num + 1),
        Some(_) => (0, false, arg_num + 1),
    }
}

/// The state of one `Sprintf`: Go's `pp` fields that matter here.
struct Printf<'a> {
    args: &'a [Value],
    reordered: bool,
    good_arg_num: bool,
}

impl Printf<'_> {
    /// Go's `argNumber`: an explicit `[n]` argument index at `b[i..]`.
    fn arg_number(&mut self, arg_num: usize, b: &[u8], i: usize) -> (usize, usize, bool) {
        if i >= b.len() || b[i] != b'[' {
            return (arg_num, i, false);
        }
        self.reordered = true;
        let (index, wid, ok) = parse_arg_number(&b[i..]);
        if ok && index < self.args.len() {
            return (index, i + wid, true);
        }
        self.good_arg_num = false;
        (arg_num, i + wid, ok)
    }
}

/// Go's `parseArgNumber`: `[n]` at the start of `b`, as a zero-based index, the bytes to
/// consume, and whether it parsed.
fn parse_arg_number(b: &[u8]) -> (usize, usize, bool) {
    if b.len() < 3 {
        return (0, 1, false);
    }
    for i in 1..b.len() {
        if b[i] == b']' {
            let (width, ok, newi) = parse_num(b, 1, i);
            if !ok || newi != i {
                return (0, i + 1, false);
            }
            // `[0]` parses but names no argument.
            return (width.wrapping_sub(1), i + 1, true);
        }
    }
    (0, 1, false)
}

/// Go's `fmt.Sprintf(format, args...)`, into a bounded buffer.
pub(super) fn sprintf(out: &mut Bounded, format: &str, args: &[Value]) -> Result<(), String> {
    let b = format.as_bytes();
    let end = b.len();
    let mut p = Printf { args, reordered: false, good_arg_num: true };
    let mut arg_num = 0;
    let mut i = 0;
    while i < end {
        if out.is_over() {
            return Ok(());
        }
        p.good_arg_num = true;
        let last = i;
        while i < end && b[i] != b'%' {
            i += 1;
        }
        if i > last {
            out.push_str(&format[last..i]);
        }
        if i >= end {
            break;
        }
        i += 1;
        let mut spec = Spec::default();
        while i < end {
            match b[i] {
                b'#' => spec.sharp = true,
                b'0' => spec.zero = !spec.minus,
                b'+' => spec.plus = true,
                b'-' => {
                    spec.minus = true;
                    spec.zero = false;
                }
                b' ' => spec.space = true,
                _ => break,
            }
            i += 1;
        }
        let mut after_index;
        (arg_num, i, after_index) = p.arg_number(arg_num, b, i);
        // Width.
        if i < end && b[i] == b'*' {
            i += 1;
            let (w, ok, next) = int_from_arg(args, arg_num);
            arg_num = next;
            if ok {
                if w < 0 {
                    spec.minus = true;
                    spec.zero = false;
                }
                spec.width = Some(w.unsigned_abs() as usize);
            } else {
                out.push_str("%!(BADWIDTH)");
            }
            after_index = false;
        } else {
            let (w, ok, next) = parse_num(b, i, end);
            i = next;
            if ok {
                spec.width = Some(w);
                if after_index {
                    p.good_arg_num = false;
                }
            }
        }
        // Precision.
        if i < end && b[i] == b'.' {
            i += 1;
            if after_index {
                p.good_arg_num = false;
            }
            (arg_num, i, after_index) = p.arg_number(arg_num, b, i);
            if i < end && b[i] == b'*' {
                i += 1;
                let (pr, ok, next) = int_from_arg(args, arg_num);
                arg_num = next;
                if ok && pr >= 0 {
                    spec.prec = Some(pr as usize);
                } else {
                    out.push_str("%!(BADPREC)");
                }
                after_index = false;
            } else {
                let (pr, _, next) = parse_num(b, i, end);
                i = next;
                spec.prec = Some(pr);
            }
        }
        if !after_index {
            (arg_num, i, _) = p.arg_number(arg_num, b, i);
        }
        if i >= end {
            out.push_str("%!(NOVERB)");
            break;
        }
        let verb = format[i..].chars().next().unwrap_or('\u{FFFD}');
        i += verb.len_utf8();
        if verb == '%' {
            out.push('%');
        } else if !p.good_arg_num {
            let _ = write!(out, "%!{verb}(BADINDEX)");
        } else if arg_num >= args.len() {
            let _ = write!(out, "%!{verb}(MISSING)");
        } else {
            if verb == 'v' {
                spec.sharp_v = spec.sharp;
                spec.sharp = false;
                spec.plus_v = spec.plus;
                spec.plus = false;
            }
            print_arg(out, &args[arg_num], verb, &spec);
            arg_num += 1;
        }
    }
    if !p.reordered && arg_num < args.len() {
        out.push_str("%!(EXTRA ");
        for (i, a) in args[arg_num..].iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            if let Value::Nil = a {
                out.push_str("<nil>");
            } else {
                let _ = write!(out, "{}=", type_name(a));
                print_arg(out, a, 'v', &Spec::default());
            }
        }
        out.push(')');
    }
    Ok(())
}

/// Go's `badVerb`: `%!verb(type=value)`, the value printed with `%v` and the verb's flags.
fn bad_verb(out: &mut Bounded, v: &Value, verb: char, spec: &Spec) {
    let _ = write!(out, "%!{verb}(");
    if let Value::Nil = v {
        out.push_str("<nil>");
    } else {
        let _ = write!(out, "{}=", type_name(v));
        print_arg(out, v, 'v', spec);
    }
    out.push(')');
}

/// Go's `printArg` for one operand.
fn print_arg(out: &mut Bounded, v: &Value, verb: char, spec: &Spec) {
    if verb == 'T' {
        match v {
            Value::Nil => spec.pad(out, "<nil>"),
            _ => fmt_s(out, &type_name(v), spec),
        }
        return;
    }
    match v {
        Value::Nil => match verb {
            'v' => spec.pad(out, "<nil>"),
            _ => bad_verb(out, v, verb, spec),
        },
        _ => print_value(out, v, verb, spec, 0),
    }
}

/// Go's `printValue`: lists and maps element by element, a nil element as `<nil>`.
fn print_value(out: &mut Bounded, v: &Value, verb: char, spec: &Spec, depth: usize) {
    if out.is_over() {
        return;
    }
    match v {
        Value::Nil if depth > 0 => {
            if spec.sharp_v {
                out.push_str("interface {}(nil)");
            } else {
                out.push_str("<nil>");
            }
        }
        Value::Nil => print_arg(out, v, verb, spec),
        Value::Bool(b) => match verb {
            't' | 'v' => spec.pad(out, if *b { "true" } else { "false" }),
            _ => bad_verb(out, v, verb, spec),
        },
        Value::Int(i) => fmt_int(out, *i, verb, spec, v),
        Value::Float(f) => fmt_float_verb(out, *f, verb, spec, v),
        Value::Str(s) => match verb {
            'v' if spec.sharp_v => fmt_q(out, s, spec),
            'v' | 's' => fmt_s(out, s, spec),
            'x' | 'X' => fmt_sx(out, s, verb == 'X', spec),
            'q' => fmt_q(out, s, spec),
            _ => bad_verb(out, v, verb, spec),
        },
        Value::List(l) => {
            if spec.sharp_v {
                out.push_str(&type_name(v));
                out.push('{');
                for (i, e) in l.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    print_value(out, e, verb, spec, depth + 1);
                }
                out.push('}');
                return;
            }
            out.push('[');
            for (i, e) in l.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                print_value(out, e, verb, spec, depth + 1);
            }
            out.push(']');
        }
        Value::Map(m) => {
            if spec.sharp_v {
                out.push_str(&type_name(v));
                if m.is_none() {
                    out.push_str("(nil)");
                    return;
                }
                out.push('{');
            } else {
                out.push_str("map[");
            }
            for (i, (k, e)) in m.iter().flat_map(|m| m.iter()).enumerate() {
                if i > 0 {
                    out.push_str(if spec.sharp_v { ", " } else { " " });
                }
                print_value(out, &Value::Str(k.clone()), verb, spec, depth + 1);
                out.push(':');
                print_value(out, e, verb, spec, depth + 1);
            }
            out.push(if spec.sharp_v { '}' } else { ']' });
        }
        Value::Object(o) => match verb {
            'v' | 's' => spec.pad(out, &o.display()),
            _ => bad_verb(out, v, verb, spec),
        },
    }
}
