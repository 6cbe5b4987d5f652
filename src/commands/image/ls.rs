//! `images` (`image ls`): Go's `path.Match` for the `reference` filter, Docker's `since`,
//! `before` and `until`, and the table, `--format` and `--quiet` output.

use std::collections::BTreeMap;

use myvol::filter::{Filters, match_labels};
use myvol::image::Image;
use myvol::image::reference::Reference;
use myvol::output::ListFormat;
use myvol::output::image::{LsContext, created_unix, ls_format, ls_header, ls_rows};
use myvol::store::Store;

use super::{fail, image_failure, images};
use crate::cli::image::*;
use crate::commands::{ExitStatus, Failure, Io, Result};

/// Go's `path.Match` (the `reference` filter's glob): `*`, `?`, `[…]` classes with ranges and
/// `^` negation, `\` escapes; `*` and `?` never match `/`. `Err` for a malformed pattern.
pub fn glob_match(pattern: &str, name: &str) -> std::result::Result<bool, ()> {
    fn class(p: &[char], c: char) -> std::result::Result<(bool, usize), ()> {
        // p starts after '['; returns (matched, chars consumed including ']').
        let mut i = 0;
        let negate = p.first() == Some(&'^');
        if negate {
            i += 1;
        }
        let mut matched = false;
        let mut first = true;
        loop {
            let Some(&lo) = p.get(i) else { return Err(()) };
            if lo == ']' && !first {
                i += 1;
                break;
            }
            first = false;
            let (lo, step) = if lo == '\\' { (*p.get(i + 1).ok_or(())?, 2) } else { (lo, 1) };
            i += step;
            let hi = if p.get(i) == Some(&'-') && p.get(i + 1).is_some_and(|&x| x != ']') {
                let h = p[i + 1];
                let (h, s) = if h == '\\' { (*p.get(i + 2).ok_or(())?, 3) } else { (h, 2) };
                i += s;
                h
            } else {
                lo
            };
            if lo <= c && c <= hi {
                matched = true;
            }
        }
        Ok((matched != negate, i))
    }
    fn go(p: &[char], s: &[char]) -> std::result::Result<bool, ()> {
        let (mut pi, mut si) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        loop {
            if pi < p.len() {
                match p[pi] {
                    '*' => {
                        star = Some((pi, si));
                        pi += 1;
                        continue;
                    }
                    '?' if si < s.len() && s[si] != '/' => {
                        pi += 1;
                        si += 1;
                        continue;
                    }
                    '[' if si < s.len() && s[si] != '/' => {
                        let (m, used) = class(&p[pi + 1..], s[si])?;
                        if m {
                            pi += 1 + used;
                            si += 1;
                            continue;
                        }
                    }
                    '\\' if si < s.len() => {
                        let c = *p.get(pi + 1).ok_or(())?;
                        if c == s[si] {
                            pi += 2;
                            si += 1;
                            continue;
                        }
                    }
                    c if c != '?' && c != '[' && c != '\\' && si < s.len() && c == s[si] => {
                        pi += 1;
                        si += 1;
                        continue;
                    }
                    _ => {}
                }
            } else if si == s.len() {
                return Ok(true);
            }
            // Backtrack: let the last star eat one more character (never a '/').
            match star {
                Some((sp, ss)) if ss < s.len() && s[ss] != '/' => {
                    star = Some((sp, ss + 1));
                    pi = sp + 1;
                    si = ss + 1;
                }
                _ => {
                    // A malformed class further on is still an error, as in Go.
                    if p[pi.min(p.len())..].contains(&'[') {
                        let rest: String = p[pi.min(p.len())..].iter().collect();
                        if let Some(i) = rest.find('[') {
                            let chars: Vec<char> = rest[i + 1..].chars().collect();
                            class(&chars, '\0')?;
                        }
                    }
                    return Ok(false);
                }
            }
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = name.chars().collect();
    go(&p, &s)
}

/// `until`/`before` timestamps as Docker's `GetTimestamp` reads them: Unix seconds (with a
/// fraction), RFC 3339 dates and times, or a Go duration before now (`10m`, `1h30m`).
pub(super) fn parse_timestamp(value: &str, now: jiff::Timestamp) -> std::result::Result<i64, String> {
    if let Ok(f) = value.parse::<f64>() {
        return Ok(f as i64);
    }
    if let Ok(t) = value.parse::<jiff::Timestamp>() {
        return Ok(t.as_second());
    }
    if let Ok(d) = value.parse::<jiff::civil::DateTime>()
        && let Ok(z) = d.to_zoned_datetime(jiff::tz::TimeZone::UTC)
    {
        return Ok(z.timestamp().as_second());
    }
    if let Ok(d) = value.parse::<jiff::civil::Date>()
        && let Ok(z) = d.to_zoned_datetime(jiff::tz::TimeZone::UTC)
    {
        return Ok(z.timestamp().as_second());
    }
    // A Go duration: numbers with units h, m, s, ms.
    let mut total = 0f64;
    let mut num = String::new();
    let mut chars = value.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let mut unit = c.to_string();
        if c == 'm' && chars.peek() == Some(&'s') {
            unit.push('s');
            chars.next();
        }
        let n: f64 = num
            .parse()
            .map_err(|_| format!("failed to parse value as time or duration: {}", myvol::text::go_quote(value)))?;
        num.clear();
        total += n * match unit.as_str() {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            _ => return Err(format!("failed to parse value as time or duration: {}", myvol::text::go_quote(value))),
        };
        any = true;
    }
    if !any || !num.is_empty() {
        return Err(format!("failed to parse value as time or duration: {}", myvol::text::go_quote(value)));
    }
    Ok(now.as_second() - total as i64)
}

pub(super) fn parse_filters(raw: &[String], flag: &str) -> Result<Filters> {
    Filters::parse(raw.iter().map(String::as_str)).map_err(|e| {
        let bad = raw.iter().find(|f| !f.is_empty() && !f.contains('=')).cloned().unwrap_or_default();
        Failure::new(ExitStatus::Usage, format!("invalid argument \"{bad}\" for \"{flag}\" flag: {e}"))
    })
}

/// An image's labels (its config's `Labels`).
pub(super) fn labels(img: &Image) -> Option<&BTreeMap<String, String>> {
    img.config.config.as_ref().and_then(|c| c.labels.as_ref())
}

pub fn ls(store: &Store, a: LsArgs, io: &mut Io<'_>) -> Result {
    let mut filters = parse_filters(&a.filters, "-f, --filter")?;
    if let Some(r) = &a.reference {
        filters.add("reference", r);
    }
    filters.validate(&["dangling", "label", "before", "since", "reference", "until"]).map_err(fail)?;
    let dangling = filters.bool_value("dangling").map_err(fail)?;
    let store = images(store);
    let now = jiff::Timestamp::now();
    let mut before: Option<i64> = None;
    for v in filters.values("before") {
        let img = store.lookup(v).map_err(image_failure)?;
        let c = created_unix(&img);
        before = Some(before.map_or(c, |b| b.min(c)));
    }
    for v in filters.values("until") {
        let c = parse_timestamp(v, now).map_err(fail)?;
        before = Some(before.map_or(c, |b| b.min(c)));
    }
    let mut since: Option<i64> = None;
    for v in filters.values("since") {
        let img = store.lookup(v).map_err(image_failure)?;
        let c = created_unix(&img);
        since = Some(since.map_or(c, |s| s.max(c)));
    }
    let patterns: Vec<&str> = filters.values("reference").collect();
    for p in &patterns {
        glob_match(p, "").map_err(|()| fail("syntax error in pattern"))?;
    }
    let matches_ref = |r: &Reference| {
        patterns.is_empty()
            || patterns.iter().any(|p| {
                glob_match(p, &r.familiar_string()).unwrap_or(false)
                    || glob_match(p, &r.familiar_name()).unwrap_or(false)
            })
    };
    let mut selected = Vec::new();
    for mut img in store.list().map_err(image_failure)? {
        let created = created_unix(&img);
        if before.is_some_and(|b| created >= b) || since.is_some_and(|s| created <= s) {
            continue;
        }
        if filters.contains("label") && !match_labels(filters.values("label"), labels(&img)) {
            continue;
        }
        img.repo_tags.retain(|r| matches_ref(r));
        img.repo_digests.retain(|r| matches_ref(r));
        if img.dangling() {
            if dangling == Some(false) || !patterns.is_empty() {
                continue;
            }
        } else if dangling == Some(true) && !img.repo_tags.is_empty() {
            continue;
        }
        selected.push(img);
    }
    let configured = crate::commands::config_list_format("imagesFormat", a.format.as_deref(), a.quiet);
    let format = ls_format(configured.as_deref().or(a.format.as_deref()), a.quiet, a.digests);
    let need_digest = a.digests || format.contains("{{.Digest}}");
    let fmt = ListFormat::parse(&format).map_err(|e| Failure::format(ExitStatus::Failure, e))?;
    let table = fmt.is_table();
    let rows = selected
        .iter()
        .flat_map(|img| ls_rows(img, need_digest, a.digests))
        .map(|row| LsContext::value(row, !a.no_trunc, now.as_second(), table));
    fmt.render(&ls_header(), rows, io.out).map_err(|e| Failure::format(ExitStatus::Failure, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_as_go_path_match() {
        let m = |p: &str, s: &str| glob_match(p, s).unwrap();
        assert!(m("busybox", "busybox"));
        assert!(m("busy*", "busybox:latest"));
        assert!(!m("*", "team/app"));
        assert!(m("*/*", "team/app"));
        assert!(m("team/app:1.?", "team/app:1.2"));
        assert!(m("[a-c]pp", "app"));
        assert!(!m("[^a-c]pp", "app"));
        assert!(m("a\\*", "a*"));
        assert!(glob_match("[", "x").is_err());
        assert!(glob_match("a[", "a").is_err());
    }

    #[test]
    fn timestamps() {
        let now = jiff::Timestamp::from_second(10_000).unwrap();
        assert_eq!(parse_timestamp("1500", now), Ok(1500));
        assert_eq!(parse_timestamp("10m", now), Ok(10_000 - 600));
        assert_eq!(parse_timestamp("1h30m", now), Ok(10_000 - 5400));
        assert_eq!(parse_timestamp("1970-01-01T01:00:00Z", now), Ok(3600));
        assert_eq!(parse_timestamp("1970-01-02", now), Ok(86400));
        assert!(parse_timestamp("soon", now).is_err());
    }

    #[test]
    fn filter_errors_are_dockers() {
        assert_eq!(myvol::filter::FilterError::InvalidKey("x".into()).to_string(), "invalid filter 'x'");
    }
}
