//! Strings: Go's `fmtS`, `fmtSbx` and `fmtQ`, and the `strconv` quoting they use.

use std::fmt::Write as _;

use super::{Bounded, Spec};

/// Go's `truncateString`: at most `prec` runes.
fn truncate<'s>(s: &'s str, spec: &Spec) -> &'s str {
    match spec.prec.and_then(|p| s.char_indices().nth(p)) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Go's `fmtS`.
pub(super) fn fmt_s(out: &mut Bounded, s: &str, spec: &Spec) {
    spec.pad(out, truncate(s, spec));
}

/// Go's `fmtSbx` for a string: hex bytes, `#` and space flags.
pub(super) fn fmt_sx(out: &mut Bounded, s: &str, upper: bool, spec: &Spec) {
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
pub(super) fn fmt_q(out: &mut Bounded, s: &str, spec: &Spec) {
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
pub(super) fn quote_rune(c: char, ascii: bool) -> String {
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
