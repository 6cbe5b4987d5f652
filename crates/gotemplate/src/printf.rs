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

/// Go's `fmtInteger` dispatch for an `int`.
fn fmt_int(out: &mut Bounded, i: i64, verb: char, spec: &Spec, v: &Value) {
    let u = i as u64;
    match verb {
        'v' | 'd' => fmt_integer(out, u, 10, true, false, spec),
        'b' => fmt_integer(out, u, 2, true, false, spec),
        'o' | 'O' => fmt_integer_o(out, u, verb == 'O', spec),
        'x' => fmt_integer(out, u, 16, true, false, spec),
        'X' => fmt_integer(out, u, 16, true, true, spec),
        'c' => spec.pad(out, rune_of(u).encode_utf8(&mut [0; 4])),
        'q' => spec.pad(out, &quote_rune(rune_of(u), spec.plus)),
        'U' => fmt_unicode(out, u, spec),
        _ => bad_verb(out, v, verb, spec),
    }
}

fn rune_of(u: u64) -> char {
    u32::try_from(u).ok().and_then(char::from_u32).unwrap_or('\u{FFFD}')
}

fn fmt_integer_o(out: &mut Bounded, u: u64, big_o: bool, spec: &Spec) {
    if big_o {
        // `%O` always has its 0o prefix.
        fmt_integer_prefixed(out, u, 8, true, false, spec, "0o");
    } else {
        fmt_integer(out, u, 8, true, false, spec);
    }
}

fn fmt_integer(out: &mut Bounded, u: u64, base: u32, signed: bool, upper: bool, spec: &Spec) {
    fmt_integer_prefixed(out, u, base, signed, upper, spec, "");
}

/// Go's `fmtInteger`: precision and zero padding as leading zeros, `#` prefixes, sign.
fn fmt_integer_prefixed(out: &mut Bounded, u: u64, base: u32, signed: bool, upper: bool, spec: &Spec, o: &str) {
    let negative = signed && (u as i64) < 0;
    let mag = if negative { (u as i64).unsigned_abs() } else { u };
    let mut prec = 0;
    if let Some(p) = spec.prec {
        prec = p;
        if p == 0 && mag == 0 {
            Spec { zero: false, ..*spec }.write_padding(out, spec.width.unwrap_or(0));
            return;
        }
    } else if spec.zero && spec.width.is_some() {
        prec = spec.width.unwrap_or(0);
        if negative || spec.plus || spec.space {
            prec = prec.saturating_sub(1);
        }
    }
    let mut digits = match base {
        2 => format!("{mag:b}"),
        8 => format!("{mag:o}"),
        16 if upper => format!("{mag:X}"),
        16 => format!("{mag:x}"),
        _ => mag.to_string(),
    };
    if digits.len() < prec {
        digits = "0".repeat(prec - digits.len()) + &digits;
    }
    let mut prefix = String::new();
    if negative {
        prefix.push('-');
    } else if spec.plus {
        prefix.push('+');
    } else if spec.space {
        prefix.push(' ');
    }
    prefix.push_str(o);
    if spec.sharp {
        match base {
            2 => prefix.push_str("0b"),
            8 if !digits.starts_with('0') => prefix.push('0'),
            16 => prefix.push_str(if upper { "0X" } else { "0x" }),
            _ => {}
        }
    }
    spec.pad_spaces(out, &(prefix + &digits));
}

/// Go's `fmtUnicode`: `U+0078`, with `#` also ` 'x'`.
fn fmt_unicode(out: &mut Bounded, u: u64, spec: &Spec) {
    let prec = spec.prec.filter(|&p| p > 4).unwrap_or(4);
    let mut s = format!("U+{u:0prec$X}");
    if spec.sharp
        && let Some(c) = u32::try_from(u).ok().and_then(char::from_u32)
        && !crate::quote::is_unprintable(c)
    {
        let _ = write!(s, " '{c}'");
    }
    spec.pad_spaces(out, &s);
}

/// Go's `fmtFloat` dispatch for a `float64`.
fn fmt_float_verb(out: &mut Bounded, f: f64, verb: char, spec: &Spec, v: &Value) {
    match verb {
        'v' => fmt_float(out, f, 'g', None, spec),
        'b' | 'g' | 'G' | 'x' | 'X' => fmt_float(out, f, verb, None, spec),
        'f' | 'e' | 'E' | 'F' => fmt_float(out, f, verb, Some(6), spec),
        _ => bad_verb(out, v, verb, spec),
    }
}

/// Go's `strconv.FormatFloat(f, verb, prec, 64)` (`None`: shortest).
fn format_float(f: f64, verb: char, prec: Option<usize>) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    let sign = if f.is_sign_negative() { "-" } else { "" };
    let body = match verb {
        'e' | 'E' => {
            let (d, dp) = match prec {
                Some(p) => float_digits(f, Some(p + 1)),
                None => float_digits(f, None),
            };
            let p = prec.unwrap_or(d.len() - 1);
            fmt_e(&d, dp, p, verb == 'E')
        }
        'f' | 'F' => match prec {
            Some(p) => format!("{:.*}", p, f.abs()),
            None => format!("{}", f.abs()),
        },
        'g' | 'G' => fmt_g(f, prec, verb == 'G'),
        'x' | 'X' => fmt_hex_float(f, prec, verb == 'X'),
        'b' => {
            let bits = f.to_bits();
            let mut exp = ((bits >> 52) & 0x7ff) as i64;
            let mut mant = bits & ((1 << 52) - 1);
            if exp == 0 {
                exp += 1;
            } else {
                mant |= 1 << 52;
            }
            exp += -1023 - 52;
            format!("{mant}p{}{}", if exp >= 0 { "+" } else { "-" }, exp.abs())
        }
        _ => return String::new(),
    };
    format!("{sign}{body}")
}

/// Go's `%x` of a float: `0x1.8p+00`, rounded to `prec` hex digits when given.
fn fmt_hex_float(f: f64, prec: Option<usize>, upper: bool) -> String {
    let bits = f.abs().to_bits();
    let mut exp = ((bits >> 52) & 0x7ff) as i64;
    let mut mant = bits & ((1 << 52) - 1);
    if exp == 0 {
        exp += 1;
    } else {
        mant |= 1 << 52;
    }
    exp -= 1023;
    if mant == 0 {
        exp = 0;
    }
    mant <<= 60 - 52;
    while mant != 0 && mant & (1 << 60) == 0 {
        mant <<= 1;
        exp -= 1;
    }
    if let Some(p) = prec.filter(|&p| p < 15) {
        let shift = (p * 4) as u32;
        let extra = (mant << shift) & ((1 << 60) - 1);
        mant >>= 60 - shift;
        if extra | (mant & 1) > 1 << 59 {
            mant += 1;
        }
        mant <<= 60 - shift;
        if mant & (1 << 61) != 0 {
            mant >>= 1;
            exp += 1;
        }
    }
    let hex: &[u8] = if upper { b"0123456789ABCDEF" } else { b"0123456789abcdef" };
    let mut s = String::from(if upper { "0X" } else { "0x" });
    s.push(if (mant >> 60) & 1 == 1 { '1' } else { '0' });
    mant <<= 4;
    let digits = match prec {
        None if mant != 0 => {
            s.push('.');
            usize::MAX
        }
        Some(p) if p > 0 => {
            s.push('.');
            p
        }
        _ => 0,
    };
    let mut n = 0;
    while n < digits && (digits != usize::MAX || mant != 0) {
        s.push(hex[((mant >> 60) & 15) as usize] as char);
        mant <<= 4;
        n += 1;
    }
    s.push(if upper { 'P' } else { 'p' });
    s.push(if exp < 0 { '-' } else { '+' });
    let _ = write!(s, "{:02}", exp.abs());
    s
}

/// Go's `fmt.fmtFloat`: sign, `#`, zero padding after the sign, Inf and NaN unpadded by zeros.
fn fmt_float(out: &mut Bounded, f: f64, verb: char, prec: Option<usize>, spec: &Spec) {
    let prec = spec.prec.or(prec);
    let formatted = format_float(f, verb, prec);
    let mut num = match formatted.strip_prefix(['-', '+']) {
        Some(rest) => format!("{}{rest}", &formatted[..1]),
        None => format!("+{formatted}"),
    };
    if spec.space && num.starts_with('+') && !spec.plus {
        num.replace_range(..1, " ");
    }
    if num[1..].starts_with(['I', 'N']) {
        if num[1..].starts_with('N') && !spec.space && !spec.plus {
            num.remove(0);
        }
        spec.pad_spaces(out, &num);
        return;
    }
    if spec.sharp && verb != 'b' {
        let mut digits: i64 = match verb {
            'v' | 'g' | 'G' | 'x' => prec.map_or(6, |p| p as i64),
            _ => 0,
        };
        let mut tail = String::new();
        let mut has_point = false;
        let mut saw_nonzero = false;
        let bytes: Vec<char> = num.chars().collect();
        let mut kept = String::from(bytes[0]);
        let mut i = 1;
        while i < bytes.len() {
            match bytes[i] {
                '.' => has_point = true,
                'p' | 'P' => {
                    tail = bytes[i..].iter().collect();
                    break;
                }
                'e' | 'E' if verb != 'x' && verb != 'X' => {
                    tail = bytes[i..].iter().collect();
                    break;
                }
                c => {
                    if c != '0' {
                        saw_nonzero = true;
                    }
                    if saw_nonzero {
                        digits -= 1;
                    }
                }
            }
            kept.push(bytes[i]);
            i += 1;
        }
        if !has_point {
            if kept.len() == 2 && kept.ends_with('0') {
                digits -= 1;
            }
            kept.push('.');
        }
        while digits > 0 {
            kept.push('0');
            digits -= 1;
        }
        kept.push_str(&tail);
        num = kept;
    }
    if spec.plus || !num.starts_with('+') {
        let len = num.chars().count();
        if spec.zero && spec.width.is_some_and(|w| w > len) {
            out.push_str(&num[..1]);
            spec.write_padding(out, spec.width.unwrap_or(0) - len);
            out.push_str(&num[1..]);
            return;
        }
        spec.pad(out, &num);
        return;
    }
    spec.pad(out, &num[1..]);
}

/// Go's `truncateString`: at most `prec` runes.
fn truncate<'s>(s: &'s str, spec: &Spec) -> &'s str {
    match spec.prec.and_then(|p| s.char_indices().nth(p)) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Go's `fmtS`.
fn fmt_s(out: &mut Bounded, s: &str, spec: &Spec) {
    spec.pad(out, truncate(s, spec));
}

/// Go's `fmtSbx` for a string: hex bytes, `#` and space flags.
fn fmt_sx(out: &mut Bounded, s: &str, upper: bool, spec: &Spec) {
    let mut length = s.len();
    if let Some(p) = spec.prec {
        length = length.min(p);
    }
    let mut width = 2 * length;
    if width == 0 {
        if let Some(w) = spec.width {
            spec.write_padding(out, w);
        }
        return;
    }
    if spec.space {
        if spec.sharp {
            width *= 2;
        }
        width += length - 1;
    } else if spec.sharp {
        width += 2;
    }
    let pad = spec.width.filter(|&w| w > width).map(|w| w - width);
    if let Some(n) = pad
        && !spec.minus
    {
        spec.write_padding(out, n);
    }
    let prefix = if upper { "0X" } else { "0x" };
    if spec.sharp {
        out.push_str(prefix);
    }
    for (i, b) in s.bytes().take(length).enumerate() {
        if spec.space && i > 0 {
            out.push(' ');
            if spec.sharp {
                out.push_str(prefix);
            }
        }
        let _ = if upper { write!(out, "{b:02X}") } else { write!(out, "{b:02x}") };
    }
    if let Some(n) = pad
        && spec.minus
    {
        spec.write_padding(out, n);
    }
}

/// Go's `fmtQ`: a quoted string, raw with `#` when it can be, ASCII-only with `+`.
fn fmt_q(out: &mut Bounded, s: &str, spec: &Spec) {
    let s = truncate(s, spec);
    if spec.sharp && can_backquote(s) {
        spec.pad(out, &format!("`{s}`"));
        return;
    }
    if spec.plus {
        spec.pad(out, &quote_ascii(s));
    } else {
        spec.pad(out, &crate::quote::go_quote(s));
    }
}

/// Go's `strconv.CanBackquote`.
fn can_backquote(s: &str) -> bool {
    !s.chars().any(|c| (c < ' ' && c != '\t') || c == '`' || c == '\u{7f}' || c == '\u{feff}')
}

/// Go's `strconv.QuoteToASCII`: non-ASCII as `\u00e9` or `\U0001f600`.
fn quote_ascii(s: &str) -> String {
    let q = crate::quote::go_quote(s);
    let mut out = String::with_capacity(q.len());
    for c in q.chars() {
        match c as u32 {
            0..0x80 => out.push(c),
            u @ 0x80..0x10000 => {
                let _ = write!(out, "\\u{u:04x}");
            }
            u => {
                let _ = write!(out, "\\U{u:08x}");
            }
        }
    }
    out
}

/// Go's `strconv.QuoteRune` (`QuoteRuneToASCII` with `ascii`).
fn quote_rune(c: char, ascii: bool) -> String {
    match c {
        '\'' => "'\\''".to_string(),
        '"' => "'\"'".to_string(),
        _ => {
            let q = crate::quote::go_quote(&c.to_string());
            let q = if ascii { quote_ascii(&c.to_string()) } else { q };
            format!("'{}'", &q[1..q.len() - 1])
        }
    }
}
