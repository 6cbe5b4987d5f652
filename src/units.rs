//! Docker's size units (the go-units package): `RAMInBytes` for sizes users type
//! (`-o size=10m`, `tmpfs-size=1g`), `HumanSize` for sizes Docker prints (`1.536MB`).

use thiserror::Error;

/// Why a size string is not a go-units size, in go-units' words.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SizeError {
    /// No digit at all, a negative number, or (myvol) more than `i64::MAX` bytes.
    #[error("invalid size: '{}'", crate::text::echo(.0))]
    InvalidSize(String),
    /// A unit other than `b`, `k`, `m`, `g`, `t`, `p` with an optional `b` or `ib`.
    #[error("invalid suffix: '{}'", crate::text::echo(.0))]
    InvalidSuffix(String),
    /// The number part is not a Go float.
    #[error("strconv.ParseFloat: parsing {}: invalid syntax", crate::text::echo(.0).quoted())]
    InvalidNumber(String),
}

/// go-units `RAMInBytes`: a byte count with binary suffixes, case-insensitive, `b` optional
/// (`"1m"` = `"1MB"` = `"1MiB"` = 1048576, `"1.5g"`, `"64 k"`). The number may be fractional;
/// the product is truncated towards zero. Negative sizes are rejected.
///
/// Differences from Go: hexadecimal floats (`0x1p4`) are not accepted, and a size of
/// 2^63 bytes or more is an error where Go's conversion would wrap.
pub fn ram_in_bytes(s: &str) -> Result<u64, SizeError> {
    let bytes = s.as_bytes();
    let Some(sep) = bytes.iter().rposition(|b| b.is_ascii_digit() || *b == b'.' || *b == b' ') else {
        return Err(SizeError::InvalidSize(s.to_owned()));
    };
    // Every byte of the set is ASCII, so `sep` is a character boundary.
    let (num, sfx) = if bytes[sep] == b' ' { (&s[..sep], &s[sep + 1..]) } else { (&s[..sep + 1], &s[sep + 1..]) };
    let mut size = go_parse_float(num)?;
    if size < 0.0 {
        return Err(SizeError::InvalidSize(s.to_owned()));
    }
    if !sfx.is_empty() {
        if sfx.len() > 3 {
            return Err(SizeError::InvalidSuffix(sfx.to_owned()));
        }
        let lower = sfx.to_lowercase();
        let lb = lower.as_bytes();
        let bad = || SizeError::InvalidSuffix(lower.clone());
        if lb.first() == Some(&b'b') {
            if lb.len() > 1 {
                return Err(bad());
            }
        } else {
            let shift = match lb.first() {
                Some(b'k') => 10,
                Some(b'm') => 20,
                Some(b'g') => 30,
                Some(b't') => 40,
                Some(b'p') => 50,
                _ => return Err(bad()),
            };
            size *= (1u64 << shift) as f64;
            let ok = match lb.len() {
                2 => lb[1] == b'b',
                3 => &lb[1..] == b"ib",
                _ => true,
            };
            if !ok {
                return Err(bad());
            }
        }
    }
    // 2^63 as f64 is exact; anything at or above it would not fit Go's int64.
    if !size.is_finite() || size >= 9_223_372_036_854_775_808.0 {
        return Err(SizeError::InvalidSize(s.to_owned()));
    }
    Ok(size.trunc() as u64)
}

/// Go `strconv.ParseFloat(s, 64)` for decimal input.
fn go_parse_float(s: &str) -> Result<f64, SizeError> {
    // Rust accepts "inf"/"nan" spellings Go accepts too; neither accepts `_` without a prefix.
    s.parse::<f64>().map_err(|_| SizeError::InvalidNumber(s.to_owned()))
}

/// go-units `HumanSize`: decimal units, four significant digits (`%.4g`), as Docker prints
/// reclaimed space and volume sizes: `0B`, `4B`, `1.536MB`, `12.35kB`.
pub fn human_size(bytes: u64) -> String {
    human_size_precision(bytes, 4)
}

/// go-units `HumanSizeWithPrecision`: decimal units, `prec` significant digits (`image ls`
/// shows sizes with 3).
pub fn human_size_precision(bytes: u64, prec: usize) -> String {
    custom_size(bytes, prec, 1000.0, &["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"])
}

/// go-units `BytesSize`: binary units, four significant digits (`0B`, `512KiB`, `1GiB`,
/// `3.2MiB`), for sizes given in binary units (`--max-size`, `--min-free`).
pub fn bytes_size(bytes: u64) -> String {
    custom_size(bytes, 4, 1024.0, &["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"])
}

/// go-units `CustomSize`: `bytes` divided by `base` while it reaches it, in `%.{prec}g`, and
/// its unit.
fn custom_size(bytes: u64, prec: usize, base: f64, units: &[&str]) -> String {
    let mut size = bytes as f64;
    let mut i = 0;
    while size >= base && i < units.len() - 1 {
        size /= base;
        i += 1;
    }
    format!("{}{}", format_g(size, prec), units[i])
}

/// Go's `%.*g`: `prec` significant digits, scientific when the exponent is below -4 or not
/// below `prec`, trailing zeros dropped.
pub fn format_g(v: f64, prec: usize) -> String {
    if v == 0.0 {
        return "0".to_owned();
    }
    let prec = prec.max(1);
    let sci = format!("{:.*e}", prec - 1, v);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let trim = |s: &str| -> String {
        if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_owned() } else { s.to_owned() }
    };
    if exp < -4 || exp >= prec as i32 {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim(mantissa), exp.unsigned_abs())
    } else {
        let decimals = (prec as i32 - 1 - exp).max(0) as usize;
        trim(&format!("{v:.decimals$}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_g_format() {
        assert_eq!(format_g(4.26155, 3), "4.26");
        assert_eq!(format_g(12.345, 3), "12.3");
        assert_eq!(format_g(123.45, 3), "123");
        assert_eq!(format_g(999.95, 3), "1e+03");
        assert_eq!(format_g(1.0, 3), "1");
        assert_eq!(format_g(0.0001234, 3), "0.000123");
        assert_eq!(format_g(0.00001234, 3), "1.23e-05");
        assert_eq!(human_size_precision(4_261_550, 3), "4.26MB");
        assert_eq!(human_size_precision(0, 3), "0B");
        assert_eq!(human_size_precision(999, 3), "999B");
        assert_eq!(human_size_precision(1_000, 3), "1kB");
        assert_eq!(human_size_precision(999_950, 3), "1e+03kB");
        assert_eq!(human_size_precision(999_950, 4), "1000kB");
    }

    #[test]
    fn bytes_size_table() {
        for (n, want) in
            [(0, "0B"), (1023, "1023B"), (1024, "1KiB"), (1536, "1.5KiB"), (1 << 30, "1GiB"), (3_355_443, "3.2MiB")]
        {
            assert_eq!(bytes_size(n), want, "{n}");
        }
    }

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
