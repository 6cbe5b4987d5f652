//! Compose's splitting of a string `command:` or `entrypoint:` into words (the rules of the
//! go-shellwords parser it uses): blanks separate words, single quotes are literal, double
//! quotes and backslashes escape, and an unquoted `;`, `&`, `|`, `<` or `>` ends the command.

/// Why a command string did not split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitError;

pub fn split(line: &str) -> Result<Vec<String>, SplitError> {
    let mut args = Vec::new();
    let mut buf = String::new();
    let mut got = false;
    let (mut escaped, mut double, mut single, mut dollar) = (false, false, false, false);
    for r in line.chars() {
        if escaped {
            buf.push(r);
            escaped = false;
            got = true;
            continue;
        }
        if r == '\\' {
            if single {
                buf.push(r);
            } else {
                escaped = true;
            }
            continue;
        }
        if matches!(r, ' ' | '\t' | '\r' | '\n') {
            if single || double || dollar {
                buf.push(r);
            } else if got {
                args.push(std::mem::take(&mut buf));
                got = false;
            }
            continue;
        }
        match r {
            ')' if !single && !double && dollar => {
                dollar = false;
            }
            '(' if !single && !double => {
                if !dollar && buf.ends_with('$') {
                    dollar = true;
                    buf.push('(');
                    continue;
                }
                return Err(SplitError);
            }
            '"' if !single && !dollar => {
                if double {
                    got = true;
                }
                double = !double;
                continue;
            }
            '\'' if !double && !dollar => {
                if single {
                    got = true;
                }
                single = !single;
                continue;
            }
            ';' | '&' | '|' | '<' | '>' if !(single || double || dollar) => {
                if r == '>' && buf.starts_with(|c: char| c.is_ascii_digit()) {
                    // `2>file`: the digits belong to the redirection.
                    got = false;
                }
                break;
            }
            _ => {}
        }
        got = true;
        buf.push(r);
    }
    if got {
        args.push(buf);
    }
    if escaped || single || double || dollar {
        return Err(SplitError);
    }
    Ok(args)
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn splits_as_compose() {
        let cases: &[(&str, &[&str])] = &[
            ("echo a; echo b", &["echo", "a"]),
            ("a && b", &["a"]),
            ("a \"b c\" d\\ e", &["a", "b c", "d e"]),
            ("a 'b \"c' \"d \\\" e\"", &["a", "b \"c", "d \" e"]),
            ("x > y", &["x"]),
            ("a\\\\b \"c\\\\d\"", &["a\\b", "c\\d"]),
            ("", &[]),
            ("  ", &[]),
            ("a|b", &["a"]),
            ("tab\tsep", &["tab", "sep"]),
            ("#c d", &["#c", "d"]),
            ("a \"\" b", &["a", "", "b"]),
            ("/bin/sh -c 'echo \"a b\"'", &["/bin/sh", "-c", "echo \"a b\""]),
        ];
        for (line, want) in cases {
            assert_eq!(split(line).unwrap(), *want, "{line:?}");
        }
        assert!(split("a \"unclosed").is_err());
        assert!(split("a (b)").is_err());
        assert!(split("trailing\\").is_err());
    }
}
