//! Go number parsers Docker's mount grammar relies on: go-units `RAMInBytes`,
//! `strconv.ParseBool`, and `strconv.ParseUint(s, 8, 32)`.

use thiserror::Error;

/// Why a size string is not a go-units size, in go-units' words.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SizeError {
    /// No digit at all, a negative number, or (myvol) more than `i64::MAX` bytes.
    #[error("invalid size: '{0}'")]
    InvalidSize(String),
    /// A unit other than `b`, `k`, `m`, `g`, `t`, `p` with an optional `b` or `ib`.
    #[error("invalid suffix: '{0}'")]
    InvalidSuffix(String),
    /// The number part is not a Go float.
    #[error("strconv.ParseFloat: parsing {}: invalid syntax", crate::text::go_quote(.0))]
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
    let Some(sep) = bytes
        .iter()
        .rposition(|b| b.is_ascii_digit() || *b == b'.' || *b == b' ')
    else {
        return Err(SizeError::InvalidSize(s.to_owned()));
    };
    // Every byte of the set is ASCII, so `sep` is a character boundary.
    let (num, sfx) = if bytes[sep] == b' ' {
        (&s[..sep], &s[sep + 1..])
    } else {
        (&s[..sep + 1], &s[sep + 1..])
    };
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
    s.parse::<f64>()
        .map_err(|_| SizeError::InvalidNumber(s.to_owned()))
}

/// Go `strconv.ParseBool`.
pub(crate) fn go_parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Go `strconv.ParseUint(s, 8, 32)`: octal digits only, no sign, no prefix, fits 32 bits.
pub(crate) fn go_parse_octal_u32(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return None;
    }
    u32::from_str_radix(s, 8).ok()
}
