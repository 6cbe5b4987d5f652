//! Docker's `until` timestamps (`docker container prune --filter until=…`, Engine 28's
//! `api/types/time.GetTimestamp` then `ParseTimestamps`): a Go duration before now (`10m`,
//! `1h30m`), an RFC 3339 date or time with or without a zone and fractional seconds
//! (`2006-01-02`, `2006-01-02T15:04`, `2006-01-02T15:04:05.5Z`, `…+02:00`), or a Unix
//! timestamp (`1136073600`, `1136073600.5`). A time without a zone is in the local zone's
//! current offset, as Docker's daemon reads it. Errors are Go's texts.

use jiff::Timestamp;

/// Parse `value` as Docker does, durations counted back from `now`; `offset` is the local
/// zone's offset from UTC now, in seconds (for times without a zone).
pub fn parse(value: &str, now: Timestamp, offset: i32) -> Result<Timestamp, String> {
    if value != "0"
        && let Some(nanos) = go_duration(value)
    {
        let t = now.as_nanosecond() - nanos;
        return Timestamp::from_nanosecond(t).map_err(|e| e.to_string());
    }
    let in_location = !value.contains(['z', 'Z', '+']) && value.matches('-').count() != 3;
    let layout: &[Elem] = if value.contains('.') {
        if in_location { &RFC3339_NANO_LOCAL } else { &RFC3339_NANO }
    } else if value.contains('T') {
        let mut colons = value.matches(':').count();
        if !in_location && !value.contains(['z', 'Z']) && colons > 0 {
            colons -= 1;
        }
        match (in_location, colons) {
            (true, 0) => &T_HOUR_LOCAL,
            (true, 1) => &T_MINUTE_LOCAL,
            (true, _) => &RFC3339_LOCAL,
            (false, 0) => &T_HOUR,
            (false, 1) => &T_MINUTE,
            (false, _) => &RFC3339,
        }
    } else if in_location {
        &DATE_LOCAL
    } else {
        &DATE_ZONE
    };
    match parse_layout(value, layout, offset) {
        Ok(t) => Ok(t),
        // With a `-`, it was meant as a date: Go's parse error.
        Err(e) if value.contains('-') => Err(e),
        Err(_) => unix(value).ok_or_else(|| format!("failed to parse value as time or duration: \"{value}\"")),
    }
}

/// Go's `time.ParseDuration`, in nanoseconds: `[-+]` then one or more `NUMBER[.FRACTION]UNIT`
/// (`ns`, `us`, `µs`, `μs`, `ms`, `s`, `m`, `h`); `0` alone is zero. `None` when it is not one
/// (or overflows).
pub fn go_duration(s: &str) -> Option<i128> {
    let (neg, mut rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (int, after) = rest.split_at(int_len);
        let (frac, after) = match after.strip_prefix('.') {
            Some(a) => {
                let n = a.bytes().take_while(u8::is_ascii_digit).count();
                a.split_at(n)
            }
            None => ("", after),
        };
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        let unit_len = after.find(|c: char| c == '.' || c.is_ascii_digit()).unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let scale: i128 = match unit {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        let whole: i128 = if int.is_empty() { 0 } else { int.parse().ok()? };
        let mut value = whole.checked_mul(scale)?;
        if !frac.is_empty() {
            let digits = &frac[..frac.len().min(30)];
            let f: i128 = digits.parse().ok()?;
            value += f * scale / 10i128.pow(digits.len() as u32);
        }
        total = total.checked_add(value)?;
        if total > i64::MAX as i128 + i128::from(neg) {
            return None;
        }
        rest = next;
    }
    Some(if neg { -total } else { total })
}

/// A Unix timestamp `SECONDS[.FRACTION]` (Docker's `ParseTimestamps`: the fraction is scaled
/// to nanoseconds, digits past the ninth dropped).
fn unix(value: &str) -> Option<Timestamp> {
    let (s, n) = match value.split_once('.') {
        Some((s, n)) => (s, Some(n)),
        None => (value, None),
    };
    let secs = crate::text::parse_go_int_base(s, 10)?;
    let nanos = match n {
        None => 0,
        Some(n) => {
            let v = crate::text::parse_go_int_base(n, 10)?;
            let digits = n.len() as i32;
            (v as f64 * 10f64.powi(9 - digits)) as i64
        }
    };
    Timestamp::new(secs, 0).ok()?.checked_add(jiff::SignedDuration::from_nanos(nanos)).ok()
}

/// One element of a Go time layout.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Elem {
    /// A literal (`-`, `:`, `T`).
    Lit(&'static str),
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
    /// `.999999999`: an optional fraction.
    Frac,
    /// `Z07:00`: `Z` or `±hh:mm`.
    Zone,
}

use Elem::*;

const DATE: [Elem; 5] = [Year, Lit("-"), Month, Lit("-"), Day];
const DATE_LOCAL: [Elem; 5] = DATE;
const DATE_ZONE: [Elem; 6] = [Year, Lit("-"), Month, Lit("-"), Day, Zone];
const T_HOUR_LOCAL: [Elem; 7] = [Year, Lit("-"), Month, Lit("-"), Day, Lit("T"), Hour];
const T_MINUTE_LOCAL: [Elem; 9] = [Year, Lit("-"), Month, Lit("-"), Day, Lit("T"), Hour, Lit(":"), Minute];
const RFC3339_LOCAL: [Elem; 11] =
    [Year, Lit("-"), Month, Lit("-"), Day, Lit("T"), Hour, Lit(":"), Minute, Lit(":"), Second];
const RFC3339_NANO_LOCAL: [Elem; 12] =
    [Year, Lit("-"), Month, Lit("-"), Day, Lit("T"), Hour, Lit(":"), Minute, Lit(":"), Second, Frac];
const T_HOUR: [Elem; 8] = [Year, Lit("-"), Month, Lit("-"), Day, Lit("T"), Hour, Zone];
const T_MINUTE: [Elem; 10] = [Year, Lit("-"), Month, Lit("-"), Day, Lit("T"), Hour, Lit(":"), Minute, Zone];
const RFC3339: [Elem; 12] =
    [Year, Lit("-"), Month, Lit("-"), Day, Lit("T"), Hour, Lit(":"), Minute, Lit(":"), Second, Zone];
const RFC3339_NANO: [Elem; 13] =
    [Year, Lit("-"), Month, Lit("-"), Day, Lit("T"), Hour, Lit(":"), Minute, Lit(":"), Second, Frac, Zone];

fn layout_text(layout: &[Elem]) -> String {
    layout
        .iter()
        .map(|e| match e {
            Lit(s) => s,
            Year => "2006",
            Month => "01",
            Day => "02",
            Hour => "15",
            Minute => "04",
            Second => "05",
            Frac => ".999999999",
            Zone => "Z07:00",
        })
        .collect()
}

fn elem_text(e: Elem) -> &'static str {
    match e {
        Lit(s) => s,
        Year => "2006",
        Month => "01",
        Day => "02",
        Hour => "15",
        Minute => "04",
        Second => "05",
        Frac => ".999999999",
        Zone => "Z07:00",
    }
}

/// `n` digits exactly (Go's fixed-width numbers), or 1–2 for the hour.
fn digits(s: &str, min: usize, max: usize) -> Option<(i64, &str)> {
    let n = s.bytes().take(max).take_while(u8::is_ascii_digit).count();
    if n < min {
        return None;
    }
    Some((s[..n].parse().ok()?, &s[n..]))
}

/// Go's `time.Parse`/`ParseInLocation` for the layouts Docker uses, with its error texts and
/// its order of checks (a number out of range as soon as it is read; extra text; the day of
/// the month last).
fn parse_layout(value: &str, layout: &[Elem], local_offset: i32) -> Result<Timestamp, String> {
    let quoted = crate::text::go_quote(value);
    let cannot = |rest: &str, e: Elem| {
        format!(
            "parsing time {quoted} as {}: cannot parse {} as {}",
            crate::text::go_quote(&layout_text(layout)),
            crate::text::go_quote(rest),
            crate::text::go_quote(elem_text(e))
        )
    };
    let range = |what: &str| format!("parsing time {quoted}: {what} out of range");
    let (mut year, mut month, mut day, mut hour, mut minute, mut second, mut nanos) = (0i64, 1, 1, 0, 0, 0, 0i64);
    let mut offset: Option<i32> = None;
    let mut rest = value;
    let has_fraction = |r: &str| r.len() > 1 && r.starts_with(['.', ',']) && r.as_bytes()[1].is_ascii_digit();
    for (i, &e) in layout.iter().enumerate() {
        let num = |r, min, max| digits(r, min, max).ok_or_else(|| cannot(r, e));
        match e {
            Lit(l) => rest = rest.strip_prefix(l).ok_or_else(|| cannot(rest, e))?,
            Year => (year, rest) = num(rest, 4, 4)?,
            Month => {
                (month, rest) = num(rest, 2, 2)?;
                if !(1..=12).contains(&month) {
                    return Err(range("month"));
                }
            }
            Day => {
                (day, rest) = num(rest, 2, 2)?;
                if day > 31 {
                    return Err(range("day"));
                }
            }
            Hour => {
                (hour, rest) = num(rest, 1, 2)?;
                if hour > 23 {
                    return Err(range("hour"));
                }
            }
            Minute => {
                (minute, rest) = num(rest, 2, 2)?;
                if minute > 59 {
                    return Err(range("minute"));
                }
            }
            Second => {
                (second, rest) = num(rest, 2, 2)?;
                if second > 59 {
                    return Err(range("second"));
                }
                // Go reads a fraction after the seconds even when the layout has none.
                if layout.get(i + 1) != Some(&Frac) && has_fraction(rest) {
                    (nanos, rest) = fraction(rest);
                }
            }
            Frac => {
                if has_fraction(rest) {
                    (nanos, rest) = fraction(rest);
                }
            }
            Zone => {
                if let Some(r) = rest.strip_prefix('Z') {
                    offset = Some(0);
                    rest = r;
                    continue;
                }
                let b = rest.as_bytes();
                let ok = b.len() >= 6
                    && (b[0] == b'+' || b[0] == b'-')
                    && b[1..3].iter().all(u8::is_ascii_digit)
                    && b[3] == b':'
                    && b[4..6].iter().all(u8::is_ascii_digit);
                if !ok {
                    return Err(cannot(rest, e));
                }
                let h: i32 = rest[1..3].parse().unwrap_or(0);
                let m: i32 = rest[4..6].parse().unwrap_or(0);
                if h > 24 {
                    return Err(range("time zone offset hour"));
                }
                if m > 60 {
                    return Err(range("time zone offset minute"));
                }
                let sign = if b[0] == b'-' { -1 } else { 1 };
                offset = Some(sign * (h * 3600 + m * 60));
                rest = &rest[6..];
            }
        }
    }
    if !rest.is_empty() {
        return Err(format!("parsing time {quoted}: extra text: {}", crate::text::go_quote(rest)));
    }
    let days_in_month = i64::from(jiff::civil::date(year as i16, month as i8, 1).days_in_month());
    if day < 1 || day > days_in_month {
        return Err(range("day"));
    }
    let civil = jiff::civil::date(year as i16, month as i8, day as i8).at(hour as i8, minute as i8, second as i8, 0);
    let off = jiff::tz::Offset::from_seconds(offset.unwrap_or(local_offset)).map_err(|e| e.to_string())?;
    let t = off.to_timestamp(civil).map_err(|e| e.to_string())?;
    t.checked_add(jiff::SignedDuration::from_nanos(nanos)).map_err(|e| e.to_string())
}

/// `.123…` (or `,123…`): nanoseconds (digits past the ninth dropped) and what follows.
fn fraction(s: &str) -> (i64, &str) {
    let n = s[1..].bytes().take_while(u8::is_ascii_digit).count();
    let digits = &s[1..1 + n];
    let mut nanos = 0i64;
    for (i, d) in digits.bytes().take(9).enumerate() {
        nanos += i64::from(d - b'0') * 10i64.pow(8 - i as u32);
    }
    (nanos, &s[1 + n..])
}

/// The local time zone's offset from UTC now, in seconds, as Docker's daemon uses it for a
/// time without a zone (`time.FixedZone(now.Zone())`).
pub fn local_offset(now: Timestamp) -> i32 {
    crate::output::volume::local_time_zone().to_offset(now).seconds()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn accepted_as_docker_reads_them() {
        let now = at("2026-06-15T12:00:00Z");
        let cases: &[(&str, i32, &str)] = &[
            ("10m", 0, "2026-06-15T11:50:00Z"),
            ("1h30m", 0, "2026-06-15T10:30:00Z"),
            ("1.5h", 0, "2026-06-15T10:30:00Z"),
            ("-1h", 0, "2026-06-15T13:00:00Z"),
            ("300ms", 0, "2026-06-15T11:59:59.7Z"),
            ("2006-01-02", 0, "2006-01-02T00:00:00Z"),
            ("2006-01-02", 3600, "2006-01-01T23:00:00Z"),
            ("2006-01-02Z", 3600, "2006-01-02T00:00:00Z"),
            ("2006-01-02+01:00", 0, "2006-01-01T23:00:00Z"),
            ("2006-01-02T15", 0, "2006-01-02T15:00:00Z"),
            ("2006-01-02T15:04", 0, "2006-01-02T15:04:00Z"),
            ("2006-01-02T15:04:05", 0, "2006-01-02T15:04:05Z"),
            ("2006-01-02T15:04:05Z", 7200, "2006-01-02T15:04:05Z"),
            ("2006-01-02T15:04:05+07:00", 0, "2006-01-02T08:04:05Z"),
            ("2006-01-02T15:04:05-01:30", 0, "2006-01-02T16:34:05Z"),
            ("2006-01-02T15:04Z", 0, "2006-01-02T15:04:00Z"),
            ("2006-01-02T15Z", 0, "2006-01-02T15:00:00Z"),
            ("2006-01-02T15:04:05.123456789Z", 0, "2006-01-02T15:04:05.123456789Z"),
            ("2006-01-02T15:04:05.5", 0, "2006-01-02T15:04:05.5Z"),
            ("2006-01-02T5:04", 0, "2006-01-02T05:04:00Z"),
            ("1136073600", 0, "2006-01-01T00:00:00Z"),
            ("1136073600.5", 0, "2006-01-01T00:00:00.5Z"),
            ("0", 0, "1970-01-01T00:00:00Z"),
        ];
        for (value, offset, want) in cases {
            assert_eq!(parse(value, now, *offset), Ok(at(want)), "{value}");
        }
    }

    #[test]
    fn refused_with_gos_words() {
        let now = at("2026-06-15T12:00:00Z");
        let cases: &[(&str, &str)] = &[
            ("abc", r#"failed to parse value as time or duration: "abc""#),
            ("", r#"failed to parse value as time or duration: """#),
            ("1.5x", r#"failed to parse value as time or duration: "1.5x""#),
            ("10 m", r#"failed to parse value as time or duration: "10 m""#),
            ("2006-13-01", r#"parsing time "2006-13-01": month out of range"#),
            ("2006-02-30", r#"parsing time "2006-02-30": day out of range"#),
            ("2006-01-02T25:00", r#"parsing time "2006-01-02T25:00": hour out of range"#),
            ("2006-1-02", r#"parsing time "2006-1-02" as "2006-01-02": cannot parse "1-02" as "01""#),
            ("2006-01-02 15:04", r#"parsing time "2006-01-02 15:04": extra text: " 15:04""#),
            ("-5", r#"parsing time "-5" as "2006-01-02": cannot parse "-5" as "2006""#),
            ("06-01-02", r#"parsing time "06-01-02" as "2006-01-02": cannot parse "06-01-02" as "2006""#),
            // A zone offset's colon counts as one of the time's (Docker's rule), so this is read
            // with the hours-and-minutes layout.
            (
                "2006-01-02T15:04:05+0700",
                r#"parsing time "2006-01-02T15:04:05+0700" as "2006-01-02T15:04Z07:00": cannot parse ":05+0700" as "Z07:00""#,
            ),
            ("2006-01-02T15:04+25:00", r#"parsing time "2006-01-02T15:04+25:00": time zone offset hour out of range"#),
        ];
        for (value, want) in cases {
            assert_eq!(parse(value, now, 0).as_ref().map_err(String::as_str), Err(*want), "{value}");
        }
    }

    #[test]
    fn go_durations() {
        assert_eq!(go_duration("1h2m3s4ms5us6ns"), Some(3_723_004_005_006));
        assert_eq!(go_duration("1.5s"), Some(1_500_000_000));
        assert_eq!(go_duration(".5s"), Some(500_000_000));
        assert_eq!(go_duration("2\u{b5}s"), Some(2_000));
        assert_eq!(go_duration("-0"), Some(0));
        for bad in ["", "h", "1", "1d", "1hh", "+", ".s", "1e3s", "9999999999999999999h"] {
            assert_eq!(go_duration(bad), None, "{bad}");
        }
    }
}
