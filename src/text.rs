//! Text helpers shared by the library and the renderers: Go's `%q` quoting (Docker's error
//! messages quote names with it) and escaping of control characters before they reach a terminal.

use std::fmt::Write as _;

/// Go's `strconv.ParseBool`: `1 t T TRUE true True` and `0 f F FALSE false False`.
pub fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Quote `s` as Go's `strconv.Quote` (`%q`) does: double quotes, `\"` and `\\`, the C escapes
/// for control characters, `\xNN` for other bytes below 0x20 and DEL, `\u`/`\U` for
/// non-printable code points. Printable Unicode is kept as is.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if is_unprintable(c) => {
                if (c as u32) < 0x10000 {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                } else {
                    let _ = write!(out, "\\U{:08x}", c as u32);
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Characters that must not reach a terminal raw: C0 and C1 controls, DEL, and the Unicode
/// bidirectional controls (Trojan Source) and other invisible format characters.
pub fn is_unprintable(c: char) -> bool {
    let u = c as u32;
    u < 0x20
        || (0x7f..=0x9f).contains(&u)
        || matches!(u, 0x200b..=0x200f | 0x2028..=0x202e | 0x2060..=0x2069 | 0xfeff | 0xfff9..=0xfffb)
}

/// Escape control and bidi characters for display in a table or an error line: `\n`, `\t`,
/// `\r` as C escapes, anything else as `\xNN` or `\u{…}`. Printable text passes through
/// unchanged (and unallocated when nothing needs escaping).
pub fn escape_control(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(is_unprintable) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x100 && is_unprintable(c) => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if is_unprintable(c) => {
                let _ = write!(out, "\\u{{{:04x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Escape the bytes of a path or archive member name for an error line: valid UTF-8 goes
/// through [`escape_control`], invalid bytes become `\xNN`.
pub fn escape_bytes(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len());
    for chunk in b.utf8_chunks() {
        out.push_str(&escape_control(chunk.valid()));
        for byte in chunk.invalid() {
            let _ = write!(out, "\\x{byte:02x}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_quote_matches_strconv_quote() {
        assert_eq!(go_quote("abc"), r#""abc""#);
        assert_eq!(go_quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(go_quote("a\nb\tc\x01\x7f"), r#""a\nb\tc\x01\x7f""#);
        assert_eq!(go_quote("h\u{e9}llo"), "\"h\u{e9}llo\"");
        assert_eq!(go_quote("\u{202e}x"), r#""\u202ex""#);
    }

    #[test]
    fn escape_control_leaves_plain_text_alone() {
        assert!(matches!(escape_control("plain-name_1.0"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(escape_control("a\x1b[31mb\n"), "a\\x1b[31mb\\n");
        assert_eq!(escape_control("x\u{202e}y"), "x\\u{202e}y");
        assert_eq!(escape_bytes(b"a\xffb\n"), "a\\xffb\\n");
    }
}
