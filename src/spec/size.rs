//! Go number parsers Docker's mount grammar relies on: `strconv.ParseBool` and
//! `strconv.ParseUint(s, 8, 32)`. Sizes (`RAMInBytes`) live in `crate::units`.

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
