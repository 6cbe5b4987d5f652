//! The command's environment from `-e` and `--env-file`, as docker/cli builds it
//! (`opts.ValidateEnv`, `opts.ParseEnvFile`): env files first, then `-e`, a later value of a
//! key replacing the earlier one in place; `KEY` alone takes the value from myvol's own
//! environment and is left out when unset there.

use thiserror::Error;

use crate::text::echo;

/// A bad `-e` or `--env-file` entry. Messages are docker/cli's.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum EnvError {
    #[error("invalid environment variable: {}", echo(.0))]
    Invalid(String),
    #[error("poorly formatted environment: variable '{}' contains whitespaces", echo(.0))]
    Whitespace(String),
    #[error("poorly formatted environment: no variable name on line '{}'", echo(.0))]
    NoName(String),
}

const WHITESPACE: &[char] = &[' ', '\t', '\n', '\u{b}', '\u{c}', '\r'];

/// One `-e` value: `KEY=VALUE` as is, `KEY` from `lookup` (or nothing).
pub fn env_flag(value: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Option<String>, EnvError> {
    match value.split_once('=') {
        Some(("", _)) => Err(EnvError::Invalid(value.to_owned())),
        Some(_) => Ok(Some(value.to_owned())),
        None if value.is_empty() => Err(EnvError::Invalid(value.to_owned())),
        None => Ok(lookup(value).map(|v| format!("{value}={v}"))),
    }
}

/// The lines of an env file: comments (`#` after leading blanks) and blank lines are
/// skipped, `KEY=VALUE` keeps VALUE verbatim, `KEY` alone is looked up.
pub fn env_file(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Vec<String>, EnvError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    for raw in text.lines() {
        let line = raw.trim_start_matches(WHITESPACE);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.split_once('=') {
            Some((key, value)) => {
                if key.is_empty() {
                    return Err(EnvError::NoName(line.to_owned()));
                }
                if key.contains(WHITESPACE) {
                    return Err(EnvError::Whitespace(key.to_owned()));
                }
                out.push(format!("{key}={value}"));
            }
            None => {
                let key = line.trim_end_matches(WHITESPACE);
                if key.contains(WHITESPACE) {
                    return Err(EnvError::Whitespace(key.to_owned()));
                }
                if let Some(v) = lookup(key) {
                    out.push(format!("{key}={v}"));
                }
            }
        }
    }
    Ok(out)
}

fn key(entry: &str) -> &str {
    entry.split_once('=').map_or(entry, |(k, _)| k)
}

/// Add `entry` to `env`, replacing an entry of the same key in place.
pub fn set(env: &mut Vec<String>, entry: String) {
    match env.iter_mut().find(|e| key(e) == key(&entry)) {
        Some(e) => *e = entry,
        None => env.push(entry),
    }
}

/// Whether `env` has `k`.
pub fn has(env: &[String], k: &str) -> bool {
    env.iter().any(|e| key(e) == k)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(k: &str) -> Option<String> {
        (k == "SET").then(|| "from env".to_owned())
    }

    #[test]
    fn env_flags() {
        let f = |v: &str| env_flag(v, &lookup).map_err(|e| e.to_string());
        assert_eq!(f("A=1"), Ok(Some("A=1".into())));
        assert_eq!(f("A="), Ok(Some("A=".into())));
        assert_eq!(f("A=b=c"), Ok(Some("A=b=c".into())));
        assert_eq!(f("SET"), Ok(Some("SET=from env".into())));
        assert_eq!(f("UNSET"), Ok(None));
        assert_eq!(f("=x"), Err("invalid environment variable: =x".into()));
        assert_eq!(f(""), Err("invalid environment variable: ".into()));
    }

    #[test]
    fn env_files() {
        let f = |t: &str| env_file(t, &lookup).map_err(|e| e.to_string());
        assert_eq!(
            f("\u{feff}# c\n\nA=1\n  B = spaced \n  # indented comment\nSET\nUNSET\nC=\"q\"\nD=x#y\n"),
            Err("poorly formatted environment: variable 'B ' contains whitespaces".into())
        );
        assert_eq!(
            f("\u{feff}# c\n\nA=1\n   B= spaced \nSET  \nUNSET\nC=\"q\"\nD=x#y\r\n"),
            Ok(vec!["A=1".into(), "B= spaced ".into(), "SET=from env".into(), "C=\"q\"".into(), "D=x#y".into()])
        );
        assert_eq!(f("=v"), Err("poorly formatted environment: no variable name on line '=v'".into()));
        assert_eq!(f("A B"), Err("poorly formatted environment: variable 'A B' contains whitespaces".into()));
    }

    #[test]
    fn set_replaces_in_place() {
        let mut env = vec!["A=1".to_owned(), "B=2".to_owned()];
        set(&mut env, "A=3".into());
        set(&mut env, "C=4".into());
        assert_eq!(env, ["A=3", "B=2", "C=4"]);
        assert!(has(&env, "C") && !has(&env, "D"));
    }
}
