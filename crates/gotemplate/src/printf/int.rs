//! Integers: Go's `fmt.fmtInteger` for every base, with precision, zero padding, `#` prefixes
//! and signs, and `%c`, `%q` and `%U` of a rune.

use std::fmt::Write as _;

use super::string::quote_rune;
use super::{Bounded, Spec, bad_verb};
use crate::Value;

/// Go's `fmtInteger` dispatch for an `int`.
pub(super) fn fmt_int(out: &mut Bounded, i: i64, verb: char, spec: &Spec, v: &Value) {
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
