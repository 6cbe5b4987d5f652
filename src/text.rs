//! Text helpers shared by the library and the renderers: Go's `%q` quoting (Docker's error
//! messages quote names with it), OS errors as Go prints them, and the one rule for text from
//! outside myvol on its way to a terminal.
//!
//! # Text from outside
//!
//! Names, labels, options, paths, archive members and the answers of plugins and registries
//! are hostile until checked: they may hold terminal escapes (`\x1b[2J`), newlines that fake a
//! second message, bidirectional controls that reorder what is shown (Trojan Source), or
//! 100,000 characters. Two layers keep them harmless:
//!
//! - **At the point of echo**, an error that repeats such a value wraps it in [`Echo`]: the
//!   value is escaped ([`escape_control`]) and, when longer than [`ECHO_MAX`] characters, cut
//!   to them with `…[N bytes]` after it. The message keeps its shape (`get NAME: no such
//!   volume`), whatever the value.
//! - **At the edge**, `main` passes every message it prints through [`for_terminal`]: every
//!   control and bidi character is escaped (myvol's own messages hold none, so a message is
//!   always one line) and a message longer than [`MESSAGE_MAX`] characters is cut. A value
//!   echoed without [`Echo`] is therefore still escaped, and still bounded.
//!
//! Tables escape their cells the same way ([`escape_control`]); JSON escapes by its own rules;
//! a `--format` template prints what it is given, as Docker's does (it is for scripts).

use std::fmt::{self, Write as _};
use std::path::Path;

/// How many characters of a value from outside an error message shows ([`Echo`]): more than
/// any legitimate name (255 bytes at most) or usual path, so that messages stay Docker's for
/// them, and little enough that a 100,000-character value cannot flood the terminal.
pub const ECHO_MAX: usize = 1024;

/// How many characters of one message reach the terminal ([`for_terminal`]): room for a few
/// values cut to [`ECHO_MAX`].
pub const MESSAGE_MAX: usize = 8192;

/// Go's `strconv.ParseBool`: `1 t T TRUE true True` and `0 f F FALSE false False`.
pub fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)`, as pflag reads an int flag: an optional sign, then
/// decimal, `0x` hex, `0o` or leading-`0` octal, or `0b` binary digits, `_` allowed between
/// digits. The error is Go's text.
pub fn parse_go_int(s: &str) -> Result<i64, String> {
    let err = |what: &str| format!("strconv.ParseInt: parsing {}: {what}", go_quote(s));
    let (negative, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits, prefixed) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d, true)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d, true)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d, true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..], true)
    } else {
        (10, lower.as_str(), false)
    };
    // Go's underscoreOK: `_` only between digits, or right after a base prefix.
    let bytes = digits.as_bytes();
    let underscores_ok = bytes.iter().enumerate().all(|(i, b)| {
        *b != b'_' || (i + 1 < bytes.len() && bytes[i + 1] != b'_' && (i > 0 && bytes[i - 1] != b'_' || prefixed))
    });
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    if clean.is_empty() || !underscores_ok || !clean.chars().all(|c| c.is_digit(radix)) {
        return Err(err("invalid syntax"));
    }
    let magnitude = u128::from_str_radix(&clean, radix).map_err(|_| err("value out of range"))?;
    let value = if negative { -(magnitude as i128) } else { magnitude as i128 };
    i64::try_from(value).map_err(|_| err("value out of range"))
}

/// Go's `strconv.ParseInt(s, radix, 64)` for a fixed radix: an optional sign and digits
/// only (no prefix, no `_`). `None` for anything else, or out of range.
pub fn parse_go_int_base(s: &str, radix: u32) -> Option<i64> {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    if body.is_empty() || !body.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    i64::from_str_radix(s.strip_prefix('+').unwrap_or(s), radix).ok()
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

/// An `io::Error` as Go prints an errno: `no such file or directory`, `file name too long`.
pub fn errno_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    let s = match s.find(" (os error ") {
        Some(i) => &s[..i],
        None => &s,
    };
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_lowercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
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

/// A value from outside myvol, as an error message shows it: control and bidi characters
/// escaped ([`escape_control`]; bytes that are not UTF-8 as `\xNN`), and cut to [`ECHO_MAX`]
/// characters with `…[N bytes]` (its whole length) when longer. With [`Echo::quoted`], Go's
/// `%q` quoting ([`go_quote`]) instead of the escapes, as Docker's messages quote some values.
#[derive(Debug, Clone, Copy)]
pub struct Echo<'a> {
    bytes: &'a [u8],
    quoted: bool,
}

/// [`Echo`] of a string.
pub fn echo(s: &str) -> Echo<'_> {
    Echo { bytes: s.as_bytes(), quoted: false }
}

/// [`Echo`] of a path (its bytes: a path need not be UTF-8).
pub fn echo_path(p: &Path) -> Echo<'_> {
    Echo { bytes: std::os::unix::ffi::OsStrExt::as_bytes(p.as_os_str()), quoted: false }
}

/// [`Echo`] of raw bytes (an archive member's name).
pub fn echo_bytes(b: &[u8]) -> Echo<'_> {
    Echo { bytes: b, quoted: false }
}

impl<'a> Echo<'a> {
    /// The value in Go's `%q` quotes (the length note, if any, after the closing quote).
    pub fn quoted(self) -> Echo<'a> {
        Echo { quoted: true, ..self }
    }
}

impl fmt::Display for Echo<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (head, cut) = head_chars(self.bytes, ECHO_MAX);
        if self.quoted {
            f.write_str(&go_quote(&String::from_utf8_lossy(head)))?;
        } else {
            f.write_str(&escape_bytes(head))?;
        }
        if cut {
            write!(f, "…[{} bytes]", self.bytes.len())?;
        }
        Ok(())
    }
}

/// The first `max` characters of `b` (an invalid byte counts as one), and whether that is
/// less than all of it.
fn head_chars(b: &[u8], max: usize) -> (&[u8], bool) {
    let mut n = 0;
    let mut end = 0;
    for chunk in b.utf8_chunks() {
        for (i, _) in chunk.valid().char_indices() {
            if n == max {
                return (&b[..end + i], true);
            }
            n += 1;
        }
        end += chunk.valid().len();
        for _ in chunk.invalid() {
            if n == max {
                return (&b[..end], true);
            }
            n += 1;
            end += 1;
        }
    }
    (b, false)
}

/// A message on its way to the terminal (`main`'s `Error: …` lines): every control and bidi
/// character escaped, so that it stays one line and sets no terminal state, and cut to
/// [`MESSAGE_MAX`] characters with `…[N bytes]` when longer.
pub fn for_terminal(msg: &str) -> std::borrow::Cow<'_, str> {
    let escaped = escape_control(msg);
    match head_chars(escaped.as_bytes(), MESSAGE_MAX) {
        (_, false) => escaped,
        (head, true) => {
            // `head` ends on a character boundary of valid UTF-8.
            let head = String::from_utf8_lossy(head);
            std::borrow::Cow::Owned(format!("{head}…[{} bytes]", escaped.len()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_go_int_is_strconv_parseint_base_0() {
        let ok: &[(&str, i64)] = &[
            ("0", 0),
            ("1000", 1000),
            ("+7", 7),
            ("-1", -1),
            ("0x3e8", 1000),
            ("0X3E8", 1000),
            ("0o1750", 1000),
            ("01750", 1000),
            ("0b11", 3),
            ("1_000", 1000),
            ("0x_3e8", 1000),
            ("9223372036854775807", i64::MAX),
            ("-9223372036854775808", i64::MIN),
        ];
        for (s, n) in ok {
            assert_eq!(parse_go_int(s), Ok(*n), "{s}");
        }
        let bad: &[(&str, &str)] = &[
            ("", "invalid syntax"),
            ("x", "invalid syntax"),
            ("08", "invalid syntax"),
            ("1.5", "invalid syntax"),
            ("_1", "invalid syntax"),
            ("1__0", "invalid syntax"),
            ("1_", "invalid syntax"),
            ("0x", "invalid syntax"),
            ("--1", "invalid syntax"),
            (" 1", "invalid syntax"),
            ("9223372036854775808", "value out of range"),
            ("99999999999999999999999999999999999999999999", "value out of range"),
        ];
        for (s, what) in bad {
            assert_eq!(parse_go_int(s), Err(format!("strconv.ParseInt: parsing {}: {what}", go_quote(s))), "{s}");
        }
    }

    #[test]
    fn go_quote_matches_strconv_quote() {
        assert_eq!(go_quote("abc"), r#""abc""#);
        assert_eq!(go_quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(go_quote("a\nb\tc\x01\x7f"), r#""a\nb\tc\x01\x7f""#);
        assert_eq!(go_quote("h\u{e9}llo"), "\"h\u{e9}llo\"");
        assert_eq!(go_quote("\u{202e}x"), r#""\u202ex""#);
    }

    #[test]
    fn errno_text_is_gos() {
        let e = std::io::Error::from_raw_os_error(libc::ENOENT);
        assert_eq!(errno_text(&e), "no such file or directory");
        let e = std::io::Error::from_raw_os_error(libc::ENAMETOOLONG);
        assert_eq!(errno_text(&e), "file name too long");
        assert_eq!(errno_text(&std::io::Error::other("Plain message")), "plain message");
        assert_eq!(errno_text(&std::io::Error::other("")), "");
    }

    #[test]
    fn escape_control_leaves_plain_text_alone() {
        assert!(matches!(escape_control("plain-name_1.0"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(escape_control("a\x1b[31mb\n"), "a\\x1b[31mb\\n");
        assert_eq!(escape_control("x\u{202e}y"), "x\\u{202e}y");
        assert_eq!(escape_bytes(b"a\xffb\n"), "a\\xffb\\n");
    }

    #[test]
    fn echo_escapes_and_cuts() {
        assert_eq!(echo("plain").to_string(), "plain");
        assert_eq!(echo("ab\t\x1b[31mred").to_string(), "ab\\t\\x1b[31mred");
        assert_eq!(echo("a\nb").quoted().to_string(), r#""a\nb""#);
        assert_eq!(echo_path(Path::new("/x\u{202e}y")).to_string(), "/x\\u{202e}y");
        assert_eq!(echo_bytes(b"m\xff").to_string(), "m\\xff");
        // Exactly ECHO_MAX characters: whole. One more: cut, with the whole length in bytes.
        let max = "é".repeat(ECHO_MAX);
        assert_eq!(echo(&max).to_string(), max);
        let long = "é".repeat(ECHO_MAX + 1);
        assert_eq!(echo(&long).to_string(), format!("{max}…[{} bytes]", long.len()));
        assert_eq!(echo(&long).quoted().to_string(), format!("\"{max}\"…[{} bytes]", long.len()));
        // A 100,000-character value stays small, escaped before it is measured out.
        let huge = "\x1b".repeat(100_000);
        let shown = echo(&huge).to_string();
        assert_eq!(shown, format!("{}…[100000 bytes]", "\\x1b".repeat(ECHO_MAX)));
        let bytes = vec![b'x'; ECHO_MAX + 44];
        assert_eq!(echo_bytes(&bytes).to_string(), format!("{}…[{} bytes]", "x".repeat(ECHO_MAX), ECHO_MAX + 44));
        // A valid name is never cut: messages stay Docker's for it.
        let name = "n".repeat(255);
        assert_eq!(echo(&name).to_string(), name);
    }

    #[test]
    fn for_terminal_is_one_bounded_line() {
        assert!(matches!(for_terminal("get v1: no such volume"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(for_terminal("one\nError: forged\x1b]0;title\x07"), "one\\nError: forged\\x1b]0;title\\x07");
        let long = "y".repeat(MESSAGE_MAX + 10);
        assert_eq!(for_terminal(&long), format!("{}…[{} bytes]", "y".repeat(MESSAGE_MAX), long.len()));
        // Escaping an escaped message changes nothing: the two layers compose.
        let once = echo("a\x1bb\n").to_string();
        assert_eq!(for_terminal(&once), once);
    }
}
