//! Variable substitution in compose files and env files, with Compose's rules and quirks:
//! `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?err}`, `${VAR?err}`,
//! `${VAR:+alt}`, `${VAR+alt}`, `$$` for a literal `$`, defaults that are templates
//! themselves, names matched case-insensitively as `[_a-z][_a-z0-9]*`, and a `$` that starts
//! nothing (`$1`, a trailing `$`) left as it is.

/// Why a substitution failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateError {
    /// `${` that does not form a valid substitution; holds the whole template.
    Invalid(String),
    /// `${VAR:?reason}` / `${VAR?reason}` with VAR missing (or empty).
    MissingRequired { variable: String, reason: String },
}

impl std::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TemplateError::Invalid(t) => write!(f, "Invalid template: {t:?}"),
            TemplateError::MissingRequired { variable, reason } if reason.is_empty() => {
                write!(f, "required variable {variable} is missing a value")
            }
            TemplateError::MissingRequired { variable, reason } => {
                write!(f, "required variable {variable} is missing a value: {reason}")
            }
        }
    }
}

/// Looks a variable up: `Some(value)` when set (possibly empty), `None` when unset.
pub trait Lookup {
    fn get(&self, name: &str) -> Option<String>;
}

impl<F: Fn(&str) -> Option<String>> Lookup for F {
    fn get(&self, name: &str) -> Option<String> {
        self(name)
    }
}

/// Substitute the variables of `template`. `unset` collects the names looked up unset by a
/// plain `$VAR` / `${VAR}` (Compose warns about each).
pub fn substitute(template: &str, lookup: &dyn Lookup, unset: &mut Vec<String>) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(template.len());
    let mut first_err: Option<TemplateError> = None;
    let b = template.as_bytes();
    let mut i = 0;
    let mut lit = 0;
    while i < b.len() {
        if b[i] != b'$' {
            i += 1;
            continue;
        }
        let Some((end, kind)) = match_at(template, i) else {
            i += 1;
            continue;
        };
        out.push_str(&template[lit..i]);
        let matched = &template[i..end];
        match replace(matched, kind, lookup, unset) {
            Ok(r) => out.push_str(&r),
            Err(e) => {
                let e = match e {
                    TemplateError::Invalid(t) if t.is_empty() => TemplateError::Invalid(template.to_owned()),
                    other => other,
                };
                first_err.get_or_insert(e);
            }
        }
        i = end;
        lit = end;
    }
    out.push_str(&template[lit..]);
    match first_err {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Escaped,
    Named,
    Braced,
    Invalid,
}

fn is_name_start(c: u8) -> bool {
    c == b'_' || c.is_ascii_alphabetic()
}

fn is_name_char(c: u8) -> bool {
    c == b'_' || c.is_ascii_alphanumeric()
}

/// The match Compose's pattern
/// `\$(?i:(\$)|([_a-z][_a-z0-9]*)|{(?:([_a-z][_a-z0-9]*(?::?[-+?](.*))?)}|()))`
/// makes at `start` (a `$`): its end and which alternative matched.
fn match_at(s: &str, start: usize) -> Option<(usize, Kind)> {
    let b = s.as_bytes();
    let i = start + 1;
    let c = *b.get(i)?;
    if c == b'$' {
        return Some((i + 1, Kind::Escaped));
    }
    if is_name_start(c) {
        let mut j = i + 1;
        while j < b.len() && is_name_char(b[j]) {
            j += 1;
        }
        return Some((j, Kind::Named));
    }
    if c != b'{' {
        return None;
    }
    let name_start = i + 1;
    if name_start < b.len() && is_name_start(b[name_start]) {
        let mut j = name_start + 1;
        while j < b.len() && is_name_char(b[j]) {
            j += 1;
        }
        // The optional `:?[-+?](.*)` group, greedy: `.*` runs to the end of the line, then
        // gives back until a `}` follows.
        let mut k = j;
        if k < b.len() && b[k] == b':' {
            k += 1;
        }
        if k < b.len() && matches!(b[k], b'-' | b'+' | b'?') {
            let body = k + 1;
            let line_end = s[body..].find('\n').map_or(b.len(), |n| body + n);
            if let Some(close) = s[body..line_end].rfind('}') {
                return Some((body + close + 1, Kind::Braced));
            }
        }
        if j < b.len() && b[j] == b'}' {
            return Some((j + 1, Kind::Braced));
        }
    }
    Some((name_start, Kind::Invalid))
}

/// Index of the `}` that closes the first `{` of `s`, counting nesting (and skipping the
/// character after each `{`, as Compose does).
fn first_closing_brace(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut open = 0i32;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'}' {
            open -= 1;
            if open == 0 {
                return Some(i);
            }
        }
        if b[i] == b'{' {
            open += 1;
            i += 1;
        }
        i += 1;
    }
    None
}

fn replace(matched: &str, kind: Kind, lookup: &dyn Lookup, unset: &mut Vec<String>) -> Result<String, TemplateError> {
    let (substring, rest) = match first_closing_brace(matched) {
        Some(close) => (&matched[..=close], &matched[close + 1..]),
        None => (matched, ""),
    };
    let kind = if kind == Kind::Escaped { Kind::Escaped } else { match_at(substring, 0).map_or(kind, |(_, k)| k) };
    match kind {
        Kind::Escaped => Ok("$".to_owned()),
        Kind::Invalid => Err(TemplateError::Invalid(String::new())),
        Kind::Named => lookup_plain(&substring[1..], lookup, unset),
        Kind::Braced => {
            let inner = &substring[2..substring.len() - 1];
            if let Some(value) = apply_operator(substring, inner, lookup, unset)? {
                let nested = substitute(rest, lookup, unset)?;
                return Ok(value + &nested);
            }
            lookup_plain(inner, lookup, unset)
        }
    }
}

fn lookup_plain(name: &str, lookup: &dyn Lookup, unset: &mut Vec<String>) -> Result<String, TemplateError> {
    match lookup.get(name) {
        Some(v) => Ok(v),
        None => {
            unset.push(name.to_owned());
            Ok(String::new())
        }
    }
}

/// The operators, tried in the order of their first position in the whole matched text.
const OPERATORS: [&str; 6] = [":?", "?", ":-", "-", ":+", "+"];

fn apply_operator(
    substring: &str,
    inner: &str,
    lookup: &dyn Lookup,
    unset: &mut Vec<String>,
) -> Result<Option<String>, TemplateError> {
    let mut best: Option<(usize, &str)> = None;
    for op in OPERATORS {
        if let Some(pos) = substring.find(op)
            && best.is_none_or(|(p, _)| pos < p)
        {
            best = Some((pos, op));
        }
    }
    let op = best.map_or(":?", |(_, op)| op);
    let Some((name, arg)) = inner.split_once(op) else {
        return Ok(None);
    };
    let arg = substitute(arg, lookup, unset)?;
    let value = lookup.get(name);
    Ok(Some(match op {
        ":-" => match value {
            Some(v) if !v.is_empty() => v,
            _ => arg,
        },
        "-" => value.unwrap_or(arg),
        ":+" => match value {
            Some(v) if !v.is_empty() => arg,
            other => other.unwrap_or_default(),
        },
        "+" => match value {
            Some(_) => arg,
            None => String::new(),
        },
        ":?" => match value {
            Some(v) if !v.is_empty() => v,
            _ => return Err(TemplateError::MissingRequired { variable: name.to_owned(), reason: arg }),
        },
        _ => match value {
            Some(v) => v,
            None => return Err(TemplateError::MissingRequired { variable: name.to_owned(), reason: arg }),
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "SET" => Some("value".into()),
            "EMPTY" => Some(String::new()),
            "lower" => Some("low".into()),
            _ => None,
        }
    }

    fn sub(t: &str) -> Result<String, TemplateError> {
        substitute(t, &env, &mut Vec::new())
    }

    macro_rules! ok {
        ($($t:expr => $want:expr),* $(,)?) => {$(
            assert_eq!(sub($t), Ok($want.to_string()), "template {:?}", $t);
        )*};
    }

    #[test]
    fn substitutions() {
        ok! {
            "plain" => "plain",
            "$SET" => "value",
            "${SET}" => "value",
            "a${SET}b" => "avalueb",
            "$SET-x" => "value-x",
            "$$" => "$",
            "$$SET" => "$SET",
            "$$$SET" => "$value",
            "$UNSET" => "",
            "${UNSET}" => "",
            "$lower" => "low",
            "${UNSET:-def}" => "def",
            "${EMPTY:-def}" => "def",
            "${SET:-def}" => "value",
            "${UNSET-def}" => "def",
            "${EMPTY-def}" => "",
            "${SET:+alt}" => "alt",
            "${EMPTY:+alt}" => "",
            "${UNSET:+alt}" => "",
            "${SET+alt}" => "alt",
            "${EMPTY+alt}" => "alt",
            "${UNSET+alt}" => "",
            "${EMPTY?err}" => "",
            "${SET:?err}" => "value",
            "${UNSET:-${SET}}" => "value",
            "${UNSET:-${UNSET2:-deep}}" => "deep",
            "${UNSET:-a}/${UNSET:-b}" => "a/b",
            "${UNSET:-a}}" => "a}",
            "${UNSET:-{x}}" => "{x}",
            "${UNSET-x:-y}" => "x:-y",
            "$1" => "$1",
            "a$" => "a$",
            "$-" => "$-",
            "${UNSET:-}" => "",
            "${UNSET:-$$}" => "$",
        }
    }

    #[test]
    fn errors() {
        assert_eq!(sub("${SET:x}"), Err(TemplateError::Invalid("${SET:x}".into())));
        assert_eq!(sub("a ${"), Err(TemplateError::Invalid("a ${".into())));
        assert_eq!(sub("${1}"), Err(TemplateError::Invalid("${1}".into())));
        assert_eq!(sub("${UNSET:-x"), Err(TemplateError::Invalid("${UNSET:-x".into())));
        assert_eq!(sub("${}"), Err(TemplateError::Invalid("${}".into())));
        assert_eq!(
            sub("${UNSET:?must be set}"),
            Err(TemplateError::MissingRequired { variable: "UNSET".into(), reason: "must be set".into() })
        );
        assert_eq!(
            sub("${EMPTY:?}"),
            Err(TemplateError::MissingRequired { variable: "EMPTY".into(), reason: "".into() })
        );
        assert_eq!(
            sub("${UNSET?e}"),
            Err(TemplateError::MissingRequired { variable: "UNSET".into(), reason: "e".into() })
        );
        assert_eq!(
            TemplateError::MissingRequired { variable: "X".into(), reason: String::new() }.to_string(),
            "required variable X is missing a value"
        );
    }

    #[test]
    fn unset_names_are_reported() {
        let mut unset = Vec::new();
        substitute("$A ${B} ${C:-x} ${SET}", &env, &mut unset).unwrap();
        assert_eq!(unset, vec!["A", "B"]);
    }
}
