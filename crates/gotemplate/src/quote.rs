//! Go's `strconv.Quote`, which template error messages use to quote names and literals.

use std::fmt::Write as _;

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

/// Characters Go's `strconv.IsPrint` rejects among those templates meet: C0 and C1 controls,
/// DEL, the invisible format characters (bidirectional controls, zero-width spaces) and the
/// noncharacters.
pub(crate) fn is_unprintable(c: char) -> bool {
    let u = c as u32;
    u < 0x20
        || (0x7f..=0x9f).contains(&u)
        || matches!(u, 0x200b..=0x200f | 0x2028..=0x202e | 0x2060..=0x2069 | 0xfeff | 0xfff9..=0xfffb)
        || (0xfdd0..=0xfdef).contains(&u)
        || u & 0xfffe == 0xfffe
}

#[cfg(test)]
mod tests {
    use super::go_quote;

    #[test]
    fn go_quote_matches_strconv_quote() {
        assert_eq!(go_quote("abc"), r#""abc""#);
        assert_eq!(go_quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(go_quote("a\nb\tc\x01\x7f"), r#""a\nb\tc\x01\x7f""#);
        assert_eq!(go_quote("h\u{e9}llo"), "\"h\u{e9}llo\"");
        assert_eq!(go_quote("\u{202e}x"), r#""\u202ex""#);
    }
}
