//! Floats: Go's `strconv.FormatFloat` (shortest and fixed precision, `%e`, `%f`, `%g`, `%x`)
//! and `fmt.fmtFloat`'s signs, flags and padding.

use std::fmt::Write as _;

use super::{Bounded, Spec, bad_verb};
use crate::Value;

/// Decimal digits of |f| (no trailing zeros, at least one digit) and the decimal point
/// position: value = 0.d1d2d3... × 10^dp. `sig` = None for the shortest representation that
/// round-trips, Some(n) to round to n significant digits.
pub(crate) fn float_digits(f: f64, sig: Option<usize>) -> (Vec<u8>, i32) {
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
pub(crate) fn fmt_e(digits: &[u8], dp: i32, prec: usize, upper: bool) -> String {
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

/// Go's `fmtFloat` dispatch for a `float64`.
pub(super) fn fmt_float_verb(out: &mut Bounded, f: f64, verb: char, spec: &Spec, v: &Value) {
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
