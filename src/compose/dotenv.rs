//! Env files (`.env`, `--env-file`, a service's `env_file`) with Compose's dotenv syntax:
//! `KEY=VALUE` or `KEY: VALUE`, an optional `export ` prefix, `#` comments (and ` #` after an
//! unquoted value), single quotes taken literally, double quotes with escapes (`\n`, `\t`,
//! `\"`, `\\`, `\$`, octal `\0NNN`…) and spanning lines, a bare `KEY` inheriting its value from
//! the lookup, and `${VAR}` substitution in unquoted and double-quoted values.

use std::collections::BTreeMap;

use super::template::{self, TemplateError};

/// Why an env file did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DotenvError {
    Syntax(String),
    Template(TemplateError),
}

impl std::fmt::Display for DotenvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DotenvError::Syntax(m) => f.write_str(m),
            DotenvError::Template(e) => write!(f, "{e}"),
        }
    }
}

/// Parse `src`, adding its variables to `out`. `lookup` resolves inherited keys and
/// variables in values (before the variables this file already set).
pub fn parse(
    src: &str,
    out: &mut BTreeMap<String, String>,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<(), DotenvError> {
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    let mut p = Parser { line: 1 };
    let mut rest = src;
    loop {
        rest = p.statement_start(rest);
        if rest.is_empty() {
            break;
        }
        let (key, left, inherited) = p.key_name(rest)?;
        if key.contains(' ') {
            return Err(DotenvError::Syntax(format!("line {}: key cannot contain a space", p.line)));
        }
        if inherited {
            if let Some(v) = lookup(&key) {
                out.insert(key, v);
            }
            rest = left;
            continue;
        }
        let (value, left) = p.value(left, out, lookup)?;
        out.insert(key, value);
        rest = left;
    }
    Ok(())
}

struct Parser {
    line: usize,
}

/// Go's `unicode.IsSpace`.
fn is_unicode_space(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r' | ' ' | '\u{85}' | '\u{A0}')
        || (c > '\u{FF}' && c.is_whitespace())
}

/// The parser's own notion of a space (no newline).
fn is_space(c: char) -> bool {
    matches!(c, '\t' | '\u{0B}' | '\u{0C}' | '\r' | ' ' | '\u{85}' | '\u{A0}')
}

impl Parser {
    fn statement_start<'a>(&mut self, src: &'a str) -> &'a str {
        let mut src = src;
        loop {
            let mut pos = None;
            for (i, c) in src.char_indices() {
                if c == '\n' {
                    self.line += 1;
                }
                if !is_unicode_space(c) {
                    pos = Some(i);
                    break;
                }
            }
            let Some(pos) = pos else { return "" };
            src = &src[pos..];
            if !src.starts_with('#') {
                return src;
            }
            match src.find('\n') {
                None => return "",
                Some(nl) => src = &src[nl..],
            }
        }
    }

    fn key_name<'a>(&mut self, src: &'a str) -> Result<(String, &'a str, bool), DotenvError> {
        let mut src = src;
        if let Some(after) = src.strip_prefix("export")
            && after.starts_with(|c: char| c.is_whitespace())
        {
            src = after.trim_start_matches(is_space);
        }
        let mut key = None;
        let mut offset = 0;
        let mut inherited = false;
        for (i, c) in src.char_indices() {
            if is_space(c) {
                continue;
            }
            match c {
                '=' | ':' | '\n' => {
                    key = Some(&src[..i]);
                    offset = i + 1;
                    inherited = c == '\n';
                    break;
                }
                '_' | '.' | '-' | '[' | ']' => {}
                c if c.is_alphanumeric() => {}
                c => {
                    let first_line = src.split('\n').next().unwrap_or("");
                    return Err(DotenvError::Syntax(format!(
                        "line {}: unexpected character {:?} in variable name {:?}",
                        self.line,
                        c.to_string(),
                        first_line
                    )));
                }
            }
        }
        if src.is_empty() {
            return Err(DotenvError::Syntax("zero length string".to_owned()));
        }
        // A last line with no `=` leaves the key empty and the line as its value, as in Compose.
        let key = key.unwrap_or("");
        if inherited && !key.contains(' ') {
            self.line += 1;
        }
        let key = key.trim_end_matches(is_unicode_space).to_owned();
        let rest = src[offset.min(src.len())..].trim_start_matches(is_space);
        Ok((key, rest, inherited))
    }

    fn value<'a>(
        &mut self,
        src: &'a str,
        env: &BTreeMap<String, String>,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<(String, &'a str), DotenvError> {
        let quote = src.as_bytes().first().copied().filter(|q| *q == b'"' || *q == b'\'');
        let Some(quote) = quote else {
            let (value, rest) = match src.split_once('\n') {
                Some((v, r)) => (v, r),
                None => (src, ""),
            };
            self.line += 1;
            let value = value.split_once(" #").map_or(value, |(v, _)| v);
            let value = value.trim_end_matches(is_unicode_space);
            return Ok((expand(value, env, lookup)?, rest));
        };
        let b = src.as_bytes();
        let mut chars: Vec<u8> = Vec::new();
        let mut escape = false;
        for i in 1..b.len() {
            let c = b[i];
            if c == b'\n' {
                self.line += 1;
            }
            if c != quote {
                if !escape && c == b'\\' {
                    escape = true;
                    continue;
                }
                if escape {
                    escape = false;
                    chars.push(b'\\');
                }
                chars.push(c);
                continue;
            }
            if escape {
                escape = false;
                chars.push(c);
                continue;
            }
            let value = String::from_utf8_lossy(&chars).into_owned();
            let value = if quote == b'"' { expand(&expand_escapes(&value), env, lookup)? } else { value };
            return Ok((value, &src[i + 1..]));
        }
        let end = src.find('\n').unwrap_or(src.len());
        Err(DotenvError::Syntax(format!("line {}: unterminated quoted value {}", self.line, &src[..end])))
    }
}

/// Substitute `${VAR}` in a value: the lookup first, then what this file set before.
fn expand(
    value: &str,
    env: &BTreeMap<String, String>,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, DotenvError> {
    let f = |k: &str| lookup(k).or_else(|| env.get(k).cloned());
    let mut unset = Vec::new();
    template::substitute(value, &f, &mut unset).map_err(DotenvError::Template)
}

/// The escapes of a double-quoted value: `\a \b \c \f \n \r \t \v \$ \" \\` and octal `\0NNN`.
fn expand_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(&(_, n)) = chars.peek() else {
            out.push(c);
            continue;
        };
        let simple = match n {
            'a' => Some("\u{07}"),
            'b' => Some("\u{08}"),
            'f' => Some("\u{0C}"),
            'n' => Some("\n"),
            'r' => Some("\r"),
            't' => Some("\t"),
            'v' => Some("\u{0B}"),
            '"' => Some("\""),
            '\\' => Some("\\"),
            '$' => Some("$$"),
            // `\c` matches the escape pattern but is no Go escape: left as it is.
            'c' => Some("\\c"),
            _ => None,
        };
        if let Some(r) = simple {
            out.push_str(r);
            chars.next();
            continue;
        }
        if n == '0' {
            // `\0` then up to three digits, read as the octal escape `\NNN` (exactly three
            // octal digits, value ≤ 255), else left as it is.
            let digits: String = s[i + 2..].chars().take_while(|c| c.is_ascii_digit()).take(3).collect();
            let consumed = 1 + digits.len();
            if digits.len() == 3
                && digits.chars().all(|c| c < '8')
                && let Ok(v) = u32::from_str_radix(&digits, 8)
                && v <= 255
                && let Some(ch) = char::from_u32(v)
            {
                out.push(ch);
                for _ in 0..consumed {
                    chars.next();
                }
                continue;
            }
            out.push('\\');
            continue;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(src: &str) -> Result<BTreeMap<String, String>, DotenvError> {
        let mut out = BTreeMap::new();
        let lookup = |k: &str| if k == "OUTER" { Some("outer".to_owned()) } else { None };
        parse(src, &mut out, &lookup)?;
        Ok(out)
    }

    fn one(src: &str, key: &str) -> String {
        parse_str(src).unwrap().get(key).cloned().unwrap_or_else(|| panic!("{key} missing in {src:?}"))
    }

    #[test]
    fn values() {
        let cases: &[(&str, &str, &str)] = &[
            ("A=1", "A", "1"),
            ("A = 1 ", "A", "1"),
            ("export A=1", "A", "1"),
            ("A: 1", "A", "1"),
            ("A=x # comment", "A", "x"),
            ("A=x#not", "A", "x#not"),
            ("A='single $OUTER'", "A", "single $OUTER"),
            ("A=\"double $OUTER\"", "A", "double outer"),
            ("A=$OUTER", "A", "outer"),
            ("A=\"a\\nb\"", "A", "a\nb"),
            ("A='a\\nb'", "A", "a\\nb"),
            ("A=\"q\\\"q\"", "A", "q\"q"),
            ("A=\"multi\nline\"", "A", "multi\nline"),
            ("A=\"\\$OUTER\"", "A", "$OUTER"),
            ("A=$$OUTER", "A", "$OUTER"),
            ("A=", "A", ""),
            ("A=\"\"", "A", ""),
            ("A=1\nB=${A}2", "B", "12"),
            ("A=${MISSING:-def}", "A", "def"),
            ("# c\n\n  A=1", "A", "1"),
            ("A=\"\\0101\"", "A", "A"),
            ("\u{feff}A=1", "A", "1"),
            ("OUTER\n", "OUTER", "outer"),
            ("A.B-C=1", "A.B-C", "1"),
        ];
        for (src, key, want) in cases {
            assert_eq!(one(src, key), *want, "{src:?}");
        }
    }

    #[test]
    fn inherited_unset_is_absent() {
        let env = parse_str("UNKNOWN\nA=1\n").unwrap();
        assert!(!env.contains_key("UNKNOWN"));
        assert_eq!(env["A"], "1");
    }

    #[test]
    fn errors() {
        let cases: &[(&str, &str)] = &[
            ("A B=1", "line 1: key cannot contain a space"),
            ("A=\"open", "line 1: unterminated quoted value \"open"),
            ("\n\nA$=1", "line 3: unexpected character \"$\" in variable name \"A$=1\""),
            ("A=${B:?needed}", "required variable B is missing a value: needed"),
        ];
        for (src, want) in cases {
            assert_eq!(parse_str(src).unwrap_err().to_string(), *want, "{src:?}");
        }
    }
}
