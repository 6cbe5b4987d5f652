//! The parts of Go's `fmt` that templates reach: `%v` printing of values, `Sprint`,
//! `Sprintln` and `Sprintf` with the common verbs, flags, width and precision, and Go's
//! `%!verb(type=value)` diagnostics.

use std::borrow::Cow;
use std::fmt::{self, Write as _};

use super::Value;

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

/// Go's `%T` of a value (the dynamic type as Docker's data would have it).
pub(super) fn type_name(v: &Value) -> Cow<'_, str> {
    match v {
        Value::Nil => Cow::Borrowed("<nil>"),
        Value::Bool(_) => Cow::Borrowed("bool"),
        Value::Int(_) => Cow::Borrowed("int"),
        Value::Float(_) => Cow::Borrowed("float64"),
        Value::Str(_) => Cow::Borrowed("string"),
        Value::List(l) if l.iter().all(|v| matches!(v, Value::Str(_))) => Cow::Borrowed("[]string"),
        Value::List(_) => Cow::Borrowed("[]interface {}"),
        Value::Map(m) if is_string_map(m) => Cow::Borrowed("map[string]string"),
        Value::Map(_) => Cow::Borrowed("map[string]interface {}"),
        Value::Object(o) => Cow::Owned(o.type_name().to_string()),
    }
}

/// Whether a map looks like Go's `map[string]string` (all values strings, or no values).
pub(super) fn is_string_map(m: &Option<std::rc::Rc<std::collections::BTreeMap<String, Value>>>) -> bool {
    m.as_ref().is_none_or(|m| m.values().all(|v| matches!(v, Value::Str(_))))
}

// ---- floats ---------------------------------------------------------------------------------

/// Decimal digits of |f| (no trailing zeros, at least one digit) and the decimal point
/// position: value = 0.d1d2d3... × 10^dp. `sig` = None for the shortest representation that
/// round-trips, Some(n) to round to n significant digits.
pub(super) fn float_digits(f: f64, sig: Option<usize>) -> (Vec<u8>, i32) {
    let s = match sig {
        None => format!("{:e}", f.abs()),
        Some(n) => format!("{:.*e}", n.saturating_sub(1), f.abs()),
    };
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut digits: Vec<u8> = mant.bytes().filter(u8::is_ascii_digit).collect();
    while digits.len() > 1 && digits.last() == Some(&b'0') {
        digits.pop();
    }
    if digits == b"0" {
        return (digits, 1);
    }
    (digits, exp + 1)
}

/// `%e` from digits: d.ddd (exactly `prec` decimals) e±XX.
pub(super) fn fmt_e(digits: &[u8], dp: i32, prec: usize, upper: bool) -> String {
    let mut s = String::new();
    s.push(digits.first().map_or('0', |&d| d as char));
    if prec > 0 {
        s.push('.');
        for i in 1..=prec {
            s.push(digits.get(i).map_or('0', |&d| d as char));
        }
    }
    let exp = if digits == b"0" { 0 } else { dp - 1 };
    s.push(if upper { 'E' } else { 'e' });
    s.push(if exp < 0 { '-' } else { '+' });
    let _ = write!(s, "{:02}", exp.unsigned_abs());
    s
}

/// `%f` from digits with `prec` decimals (digits must already be rounded suitably).
fn fmt_f(digits: &[u8], dp: i32, prec: usize) -> String {
    let mut s = String::new();
    if dp > 0 {
        for i in 0..dp as usize {
            s.push(digits.get(i).map_or('0', |&d| d as char));
        }
    } else {
        s.push('0');
    }
    if prec > 0 {
        s.push('.');
        for i in 0..prec as i32 {
            let idx = dp + i;
            let c = if idx >= 0 { digits.get(idx as usize).map_or('0', |&d| d as char) } else { '0' };
            s.push(c);
        }
    }
    s
}

/// Go's `strconv.FormatFloat(|f|, 'g', prec, 64)` (prec None = shortest), without the sign.
fn fmt_g(f: f64, prec: Option<usize>, upper: bool) -> String {
    let (digits, dp) = match prec {
        None => float_digits(f, None),
        Some(p) => float_digits(f, Some(p.max(1))),
    };
    let nd = digits.len();
    let mut eprec = match prec {
        None => 6,
        Some(p) => p.max(1),
    };
    if prec.is_some() && eprec > nd && nd as i32 >= dp {
        eprec = nd;
    }
    let exp = if digits == b"0" { 0 } else { dp - 1 };
    if exp < -4 || exp >= eprec as i32 {
        return fmt_e(&digits, dp, nd - 1, upper);
    }
    fmt_f(&digits, dp, (nd as i32 - dp).max(0) as usize)
}

/// Go's `%v` of a float64.
pub(super) fn float_v(f: f64) -> String {
    special_float(f, false).unwrap_or_else(|| {
        let body = fmt_g(f, None, false);
        if f.is_sign_negative() { format!("-{body}") } else { body }
    })
}

fn special_float(f: f64, plus: bool) -> Option<String> {
    if f.is_nan() {
        Some(if plus { "+NaN" } else { "NaN" }.to_string())
    } else if f.is_infinite() {
        Some(if f > 0.0 { "+Inf" } else { "-Inf" }.to_string())
    } else {
        None
    }
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

#[derive(Default, Clone, Copy)]
struct Spec {
    minus: bool,
    plus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

impl Spec {
    /// Pad `s` to the width with spaces (or zeros after a sign when `zero_ok`).
    fn pad(&self, out: &mut Bounded, s: &str, zero_ok: bool) {
        let n = s.chars().count();
        let Some(w) = self.width.filter(|&w| w > n) else {
            out.push_str(s);
            return;
        };
        let fill = w - n;
        if self.minus {
            out.push_str(s);
            out.repeat(' ', fill);
        } else if self.zero && zero_ok {
            let (sign, rest) = match s.as_bytes().first() {
                Some(b'+' | b'-' | b' ') => s.split_at(1),
                _ => ("", s),
            };
            out.push_str(sign);
            out.repeat('0', fill);
            out.push_str(rest);
        } else {
            out.repeat(' ', fill);
            out.push_str(s);
        }
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
            format_arg(out, &args[arg_num], verb, &spec);
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
                let _ = write_v(out, a);
            }
        }
        out.push(')');
    }
    Ok(())
}

fn bad_verb(out: &mut Bounded, v: &Value, verb: char) {
    let _ = write!(out, "%!{verb}(");
    if let Value::Nil = v {
        out.push_str("<nil>");
    } else {
        let _ = write!(out, "{}=", type_name(v));
        let _ = write_v(out, v);
    }
    out.push(')');
}

fn format_arg(out: &mut Bounded, v: &Value, verb: char, spec: &Spec) {
    if verb == 'T' {
        spec.pad(out, &type_name(v), false);
        return;
    }
    match v {
        Value::Nil => match verb {
            'v' => spec.pad(out, "<nil>", false),
            _ => bad_verb(out, v, verb),
        },
        Value::Bool(b) => match verb {
            't' | 'v' => spec.pad(out, if *b { "true" } else { "false" }, false),
            _ => bad_verb(out, v, verb),
        },
        Value::Int(i) => format_int(out, *i, verb, spec, v),
        Value::Float(f) => format_float(out, *f, verb, spec, v),
        Value::Str(s) => format_str(out, s, verb, spec, v),
        Value::List(l) => {
            out.push('[');
            for (i, e) in l.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                format_arg(out, e, verb, spec);
            }
            out.push(']');
        }
        Value::Map(m) => {
            out.push_str("map[");
            for (i, (k, e)) in m.iter().flat_map(|m| m.iter()).enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                format_arg(out, &Value::Str(k.clone()), verb, spec);
                out.push(':');
                format_arg(out, e, verb, spec);
            }
            out.push(']');
        }
        Value::Object(o) => match verb {
            'v' | 's' => spec.pad(out, &o.display(), false),
            _ => bad_verb(out, v, verb),
        },
    }
}

fn sign_prefix(neg: bool, spec: &Spec) -> &'static str {
    if neg {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    }
}

fn format_int(out: &mut Bounded, i: i64, verb: char, spec: &Spec, v: &Value) {
    let mag = i.unsigned_abs();
    let (mut digits, prefix) = match verb {
        'v' | 'd' => (mag.to_string(), ""),
        'b' => (format!("{mag:b}"), if spec.sharp { "0b" } else { "" }),
        'o' => (format!("{mag:o}"), if spec.sharp { "0" } else { "" }),
        'O' => (format!("{mag:o}"), "0o"),
        'x' => (format!("{mag:x}"), if spec.sharp { "0x" } else { "" }),
        'X' => (format!("{mag:X}"), if spec.sharp { "0X" } else { "" }),
        'c' => {
            let c = u32::try_from(i).ok().and_then(char::from_u32).unwrap_or('\u{FFFD}');
            spec.pad(out, &c.to_string(), false);
            return;
        }
        'q' => {
            let c = u32::try_from(i).ok().and_then(char::from_u32).unwrap_or('\u{FFFD}');
            spec.pad(out, &quote_rune(c), false);
            return;
        }
        'U' => {
            let mut s = format!("U+{mag:04X}");
            if spec.sharp
                && let Some(c) = u32::try_from(i).ok().and_then(char::from_u32)
            {
                let _ = write!(s, " '{c}'");
            }
            spec.pad(out, &s, false);
            return;
        }
        _ => return bad_verb(out, v, verb),
    };
    if let Some(p) = spec.prec {
        if p == 0 && mag == 0 {
            digits.clear();
        }
        if digits.len() < p {
            digits = "0".repeat(p - digits.len()) + &digits;
        }
    }
    let s = format!("{}{prefix}{digits}", sign_prefix(i < 0, spec));
    let zero_ok = spec.prec.is_none() && prefix.is_empty();
    spec.pad(out, &s, zero_ok);
}

fn format_float(out: &mut Bounded, f: f64, verb: char, spec: &Spec, v: &Value) {
    if let Some(s) = special_float(f, spec.plus) {
        let s = if f.is_infinite() && f > 0.0 && !spec.plus {
            if spec.space { " Inf".to_string() } else { "Inf".to_string() }
        } else {
            s
        };
        spec.pad(out, &s, false);
        return;
    }
    let body = match verb {
        'v' | 'g' | 'G' => fmt_g(f, spec.prec, verb == 'G'),
        'e' | 'E' => {
            let p = spec.prec.unwrap_or(6);
            let (d, dp) = float_digits(f, Some(p + 1));
            fmt_e(&d, dp, p, verb == 'E')
        }
        'f' | 'F' => format!("{:.*}", spec.prec.unwrap_or(6), f.abs()),
        _ => return bad_verb(out, v, verb),
    };
    let s = format!("{}{body}", sign_prefix(f.is_sign_negative(), spec));
    spec.pad(out, &s, true);
}

fn format_str(out: &mut Bounded, s: &str, verb: char, spec: &Spec, v: &Value) {
    let s: Cow<'_, str> = match spec.prec {
        Some(p) if matches!(verb, 'v' | 's' | 'q') => s.chars().take(p).collect::<String>().into(),
        _ => s.into(),
    };
    match verb {
        'v' | 's' => spec.pad(out, &s, false),
        'q' => {
            let q = if spec.sharp && !s.contains('`') && !s.chars().any(|c| c.is_control() && c != '\t') {
                format!("`{s}`")
            } else {
                crate::quote::go_quote(&s)
            };
            spec.pad(out, &q, false);
        }
        'x' | 'X' => {
            let mut h = String::new();
            for (i, b) in s.bytes().enumerate() {
                if i > 0 && spec.space {
                    h.push(' ');
                }
                if spec.sharp && (i == 0 || spec.space) {
                    h.push_str(if verb == 'x' { "0x" } else { "0X" });
                }
                let _ = if verb == 'x' { write!(h, "{b:02x}") } else { write!(h, "{b:02X}") };
            }
            spec.pad(out, &h, false);
        }
        _ => bad_verb(out, v, verb),
    }
}

/// Go's `strconv.QuoteRune`.
fn quote_rune(c: char) -> String {
    match c {
        '\'' => "'\\''".to_string(),
        '"' => "'\"'".to_string(),
        _ => {
            let q = crate::quote::go_quote(&c.to_string());
            format!("'{}'", &q[1..q.len() - 1])
        }
    }
}
