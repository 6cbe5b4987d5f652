//! Docker's size units (the go-units package): `RAMInBytes` for sizes users type
//! (`-o size=10m`, `tmpfs-size=1g`), `HumanSize` for sizes Docker prints (`1.536MB`).

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SizeError {
    #[error("invalid size: '{0}'")]
    InvalidSize(String),
    #[error("invalid suffix: '{0}'")]
    InvalidSuffix(String),
    #[error("strconv.ParseFloat: parsing {}: invalid syntax", crate::text::go_quote(.0))]
    Syntax(String),
}

/// Parse a size the way go-units' `RAMInBytes` does: a decimal number, an optional space,
/// and an optional case-insensitive binary suffix `k|m|g|t|p`, optionally followed by `b` or
/// `ib` (`1m` = `1MB` = `1MiB` = 1048576); a lone `b` means bytes. Negative sizes and
/// unknown suffixes are errors.
pub fn ram_in_bytes(s: &str) -> Result<u64, SizeError> {
    // The number ends at the last digit, dot or space.
    let sep = s.rfind(|c: char| c.is_ascii_digit() || c == '.' || c == ' ');
    let Some(sep) = sep else {
        return Err(SizeError::InvalidSize(s.to_owned()));
    };
    let (num, sfx) = if s.as_bytes()[sep] == b' ' { (&s[..sep], &s[sep + 1..]) } else { (&s[..=sep], &s[sep + 1..]) };
    let size = parse_go_float(num).ok_or_else(|| SizeError::Syntax(num.to_owned()))?;
    if size < 0.0 {
        return Err(SizeError::InvalidSize(s.to_owned()));
    }
    if sfx.is_empty() {
        return Ok(size as u64);
    }
    let bad = || SizeError::InvalidSuffix(sfx.to_lowercase());
    if sfx.len() > 3 {
        return Err(SizeError::InvalidSuffix(sfx.to_owned()));
    }
    let lower = sfx.to_ascii_lowercase();
    let b = lower.as_bytes();
    if b[0] == b'b' {
        return if b.len() == 1 { Ok(size as u64) } else { Err(bad()) };
    }
    let mul: f64 = match b[0] {
        b'k' => 1024.0,
        b'm' => 1024.0 * 1024.0,
        b'g' => 1024.0 * 1024.0 * 1024.0,
        b't' => 1024f64.powi(4),
        b'p' => 1024f64.powi(5),
        _ => return Err(bad()),
    };
    match b.len() {
        2 if b[1] != b'b' => return Err(bad()),
        3 if &b[1..] != b"ib" => return Err(bad()),
        _ => {}
    }
    let v = size * mul;
    Ok(if v >= u64::MAX as f64 { u64::MAX } else { v as u64 })
}

/// Go's `strconv.ParseFloat` for the forms a size can take (decimal, optional sign and
/// exponent). Rust's float parser accepts a superset (`inf`, `nan`) that Go rejects too.
fn parse_go_float(s: &str) -> Option<f64> {
    if s.is_empty() || s.chars().any(|c| c.is_ascii_alphabetic() && c != 'e' && c != 'E') {
        return None;
    }
    s.parse::<f64>().ok()
}

/// go-units `HumanSize`: decimal units, four significant digits (`%.4g`), as Docker prints
/// reclaimed space and volume sizes: `0B`, `4B`, `1.536MB`, `12.35kB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
    let mut size = bytes as f64;
    let mut i = 0;
    while size >= 1000.0 && i < UNITS.len() - 1 {
        size /= 1000.0;
        i += 1;
    }
    format!("{}{}", format_g4(size), UNITS[i])
}

/// Go's `%.4g` for 0 <= v < 10000.
fn format_g4(v: f64) -> String {
    if v == 0.0 {
        return "0".to_owned();
    }
    let exp = v.abs().log10().floor() as i32;
    let decimals = (3 - exp).max(0) as usize;
    let mut s = format!("{v:.decimals$}");
    // Rounding may have added a digit (999.95 -> "1000.0"): %.4g then shows "1000".
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ram_in_bytes_table() {
        let ok: &[(&str, u64)] = &[
            ("32", 32),
            ("32b", 32),
            ("32B", 32),
            ("32k", 32 * 1024),
            ("32K", 32 * 1024),
            ("32kb", 32 * 1024),
            ("32Kb", 32 * 1024),
            ("32Kib", 32 * 1024),
            ("32KIB", 32 * 1024),
            ("32Mb", 32 * 1024 * 1024),
            ("32Gb", 32 * 1024 * 1024 * 1024),
            ("32Tb", 32 * 1024u64.pow(4)),
            ("32Pb", 32 * 1024u64.pow(5)),
            ("32.3", 32),
            ("32.3 K", 33075),
            ("32.3kib", 33075),
            ("1m", 1048576),
            ("0", 0),
        ];
        for (s, want) in ok {
            assert_eq!(ram_in_bytes(s), Ok(*want), "{s}");
        }
        let bad: &[(&str, &str)] = &[
            ("", "invalid size: ''"),
            ("hello", "invalid size: 'hello'"),
            ("abc", "invalid size: 'abc'"),
            ("-32", "invalid size: '-32'"),
            ("32.3 K bytes", "strconv.ParseFloat: parsing \"32.3 K\": invalid syntax"),
            ("32bm", "invalid suffix: 'bm'"),
            ("32kk", "invalid suffix: 'kk'"),
            ("32kbb", "invalid suffix: 'kbb'"),
            ("32x", "invalid suffix: 'x'"),
        ];
        for (s, want) in bad {
            assert_eq!(ram_in_bytes(s).unwrap_err().to_string(), *want, "{s}");
        }
        assert!(ram_in_bytes(" ").is_err());
        assert!(ram_in_bytes("1.2.3").is_err());
    }

    #[test]
    fn human_size_table() {
        let cases: &[(u64, &str)] = &[
            (0, "0B"),
            (4, "4B"),
            (999, "999B"),
            (1000, "1kB"),
            (1024, "1.024kB"),
            (1536000, "1.536MB"),
            (12_345, "12.35kB"),
            (999_950, "1000kB"),
            (1_000_000_000, "1GB"),
            (123_456_789_012, "123.5GB"),
        ];
        for (n, want) in cases {
            assert_eq!(human_size(*n), *want, "{n}");
        }
    }
}
