//! Literals: Go's `strconv` unquoting of string and character literals and the number syntax
//! of `parse.NumberNode` (base prefixes, underscores, hex floats).

use super::Number;
use crate::lex::ItemType;

/// One decoded element of a quoted literal: a rune, or a raw byte from `\x` or octal escapes.
enum Unit {
    Rune(char),
    Byte(u8),
}

/// Go's `strconv.UnquoteChar`: decode one (possibly escaped) character at the start of `s`.
fn unquote_char(s: &str, quote: char) -> Option<(Unit, &str)> {
    let mut chars = s.chars();
    let c = chars.next()?;
    if c == quote && (quote == '\'' || quote == '"') {
        return None;
    }
    if c != '\\' {
        return Some((Unit::Rune(c), chars.as_str()));
    }
    let e = chars.next()?;
    let rest = chars.as_str();
    let simple = |c: char, rest| Some((Unit::Rune(c), rest));
    match e {
        'a' => simple('\x07', rest),
        'b' => simple('\x08', rest),
        'f' => simple('\x0c', rest),
        'n' => simple('\n', rest),
        'r' => simple('\r', rest),
        't' => simple('\t', rest),
        'v' => simple('\x0b', rest),
        'x' | 'u' | 'U' => {
            let n = match e {
                'x' => 2,
                'u' => 4,
                _ => 8,
            };
            let digits = rest.get(..n)?;
            if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            let v = u32::from_str_radix(digits, 16).ok()?;
            if e == 'x' {
                return Some((Unit::Byte(v as u8), &rest[n..]));
            }
            Some((Unit::Rune(char::from_u32(v)?), &rest[n..]))
        }
        '0'..='7' => {
            let digits = rest.get(..2)?;
            let mut v = e as u32 - '0' as u32;
            for b in digits.bytes() {
                if !(b'0'..=b'7').contains(&b) {
                    return None;
                }
                v = v * 8 + (b - b'0') as u32;
            }
            if v > 255 {
                return None;
            }
            Some((Unit::Byte(v as u8), &rest[2..]))
        }
        '\\' => simple('\\', rest),
        '\'' | '"' if e == quote => simple(e, rest),
        _ => None,
    }
}

/// Go's `strconv.Unquote` for `"..."` and `` `...` `` literals. `None` is Go's "invalid syntax".
/// Byte escapes that do not form valid UTF-8 become U+FFFD (Rust strings are UTF-8).
pub(super) fn unquote(s: &str) -> Option<String> {
    if let Some(inner) = s.strip_prefix('`').and_then(|s| s.strip_suffix('`')) {
        if s.len() < 2 || inner.contains('`') {
            return None;
        }
        return Some(inner.replace('\r', ""));
    }
    let inner = s.strip_prefix('"')?.strip_suffix('"')?;
    if s.len() < 2 || inner.contains('\n') {
        return None;
    }
    let mut buf = Vec::with_capacity(inner.len());
    let mut rest = inner;
    while !rest.is_empty() {
        let (u, r) = unquote_char(rest, '"')?;
        match u {
            Unit::Rune(c) => {
                let mut b = [0; 4];
                buf.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            }
            Unit::Byte(b) => buf.push(b),
        }
        rest = r;
    }
    Some(String::from_utf8_lossy(&buf).into_owned())
}

/// Go's `underscoreOK`: underscores only between digits, or between a base prefix and a digit.
fn underscore_ok(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let b = s.as_bytes();
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if b.len() >= 2 && b[0] == b'0' && matches!(b[1].to_ascii_lowercase(), b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = b[1].eq_ignore_ascii_case(&b'x');
    }
    for &c in &b[i..] {
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
    }
    saw != b'_'
}

/// Go's `strconv.ParseUint(s, 0, 64)` and `ParseInt(s, 0, 64)`: base prefixes, underscores.
fn parse_int_base0(s: &str) -> (Option<u64>, Option<i64>) {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let signed = s.starts_with(['+', '-']);
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || (s.contains('_') && !underscore_ok(s)) {
        return (None, None);
    }
    let clean: String = digits.chars().filter(|&c| c != '_').collect();
    if clean.is_empty() || clean.starts_with(['+', '-']) {
        return (None, None);
    }
    let Ok(mag) = u128::from_str_radix(&clean, radix) else {
        return (None, None);
    };
    let uint = if signed || mag > u64::MAX as u128 { None } else { Some(mag as u64) };
    let int =
        if neg { (mag <= i64::MAX as u128 + 1).then(|| (-(mag as i128)) as i64) } else { i64::try_from(mag).ok() };
    (uint, int)
}

/// Go's `strconv.ParseFloat(s, 64)` for decimal syntax (hex floats are not supported).
fn parse_float(s: &str) -> Option<f64> {
    let body = s.trim_start_matches(['+', '-']);
    if s.len() - body.len() > 1 || (s.contains('_') && !underscore_ok(s)) {
        return None;
    }
    let neg = s.starts_with('-');
    let clean: String = body.chars().filter(|&c| c != '_').collect();
    let v = if let Some(hex) = clean.strip_prefix("0x").or_else(|| clean.strip_prefix("0X")) {
        parse_hex_float(hex)?
    } else {
        if clean.is_empty()
            || !clean.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
        {
            return None;
        }
        clean.parse::<f64>().ok()?
    };
    // Out of range is strconv's error, not infinity.
    v.is_finite().then_some(if neg { -v } else { v })
}

/// The digits of a Go hexadecimal floating-point literal after `0x`: `1.8p+3`. The `p`
/// exponent is required.
fn parse_hex_float(s: &str) -> Option<f64> {
    let (mant, exp) = s.split_once(['p', 'P'])?;
    let exp: i32 = exp.parse().ok()?;
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut v = 0f64;
    for c in int.chars().chain(frac.chars()) {
        v = v * 16.0 + f64::from(c.to_digit(16)?);
    }
    Some(v * 2f64.powi(exp - 4 * frac.len() as i32))
}

/// Go's `newNumber`: interpret a number or character literal.
pub(super) fn new_number(text: &str, typ: ItemType) -> Result<Number, String> {
    let mut n = Number { text: text.to_string(), is_int: false, is_uint: false, is_float: false, int: 0, float: 0.0 };
    let illegal = || format!("illegal number syntax: {}", crate::quote::go_quote(text));
    match typ {
        ItemType::CharConstant => {
            let (u, tail) = unquote_char(&text[1..], '\'').ok_or("invalid syntax")?;
            if tail != "'" {
                return Err(format!("malformed character constant: {text}"));
            }
            let v = match u {
                Unit::Rune(c) => c as i64,
                Unit::Byte(b) => b as i64,
            };
            n.is_int = true;
            n.is_uint = true;
            n.is_float = true;
            n.int = v;
            n.float = v as f64;
            return Ok(n);
        }
        // Complex numbers have no counterpart in this engine's values.
        ItemType::Complex => return Err(illegal()),
        _ => {}
    }
    if text.ends_with('i') {
        return Err(illegal());
    }
    let (u, i) = parse_int_base0(text);
    if let Some(u) = u {
        n.is_uint = true;
        n.float = u as f64;
    }
    if let Some(i) = i {
        n.is_int = true;
        n.int = i;
        if i == 0 {
            n.is_uint = true;
        }
    }
    if n.is_int {
        n.is_float = true;
        n.float = n.int as f64;
    } else if n.is_uint {
        n.is_float = true;
    } else if let Some(f) = parse_float(text) {
        if !text.contains(['.', 'e', 'E', 'p', 'P']) {
            return Err(format!("integer overflow: {}", crate::quote::go_quote(text)));
        }
        n.is_float = true;
        n.float = f;
        if f.fract() == 0.0 && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f) {
            n.is_int = true;
            n.int = f as i64;
        }
        if f.fract() == 0.0 && (0.0..1.844_674_407_370_955_2e19).contains(&f) {
            n.is_uint = true;
        }
    }
    if !n.is_int && !n.is_uint && !n.is_float {
        return Err(illegal());
    }
    Ok(n)
}
