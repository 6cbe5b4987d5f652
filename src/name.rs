//! `VolumeName`: a validated volume name, Docker's local-driver rule
//! (`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`, daemon/names). A valid name is always a single, harmless
//! path component: no `/`, no `.` or `..`, no control characters, nothing starting with `.`,
//! which the store reserves for its own temporary entries.

use std::ffi::OsStr;
use std::fmt;
use std::path::Path;

use thiserror::Error;

use crate::text::echo;

/// Why a name is not a valid local volume name, in Docker's words.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NameError {
    #[error("volume name is too short, names should be at least two alphanumeric characters")]
    TooShort,
    #[error(
        "{} includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path",
        echo(.0).quoted()
    )]
    InvalidCharacters(String),
}

/// A volume name that passed Docker's local-driver rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VolumeName(String);

impl VolumeName {
    /// Validate `name` as Docker does, in Docker's order: a one-character name is "too short"
    /// (whatever the character), anything else must match the pattern.
    pub fn parse(name: &str) -> Result<Self, NameError> {
        if name.len() == 1 {
            return Err(NameError::TooShort);
        }
        if is_valid(name) {
            Ok(VolumeName(name.to_owned()))
        } else {
            Err(NameError::InvalidCharacters(name.to_owned()))
        }
    }

    /// Take `name` as a volume name if it is one, without copying it; the string back if not
    /// (the store's listings and the command line's arguments, where a string that is not a
    /// name is "no such volume" and needs no reason).
    pub fn from_string(name: String) -> Result<Self, String> {
        if is_valid(&name) { Ok(VolumeName(name)) } else { Err(name) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A fresh anonymous name: 64 lowercase hex digits from 32 random bytes, retried until the
    /// first 12 are not all digits (Docker's stringid rule, so a short ID is never a number).
    pub fn random_anonymous() -> Self {
        VolumeName(random_hex_id())
    }

    /// Whether this name has the shape of an anonymous volume's generated name.
    pub fn looks_anonymous(&self) -> bool {
        self.0.len() == 64 && self.0.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    }
}

/// Docker's name pattern, without a regex: the first byte alphanumeric, at least one more
/// byte, every further byte alphanumeric or one of `_ . -`.
pub fn is_valid(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() >= 2
        && b[0].is_ascii_alphanumeric()
        && b[1..].iter().all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

/// 64 lowercase hex digits from the kernel's random source, whose first 12 are not all digits.
pub fn random_hex_id() -> String {
    loop {
        let mut bytes = [0u8; 32];
        // getrandom only fails if the kernel has no random source at all; a run cannot go on
        // without one, and silently weaker IDs would collide.
        getrandom::fill(&mut bytes).expect("the kernel's random number source is unavailable");
        let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        if !id[..12].bytes().all(|c| c.is_ascii_digit()) {
            return id;
        }
    }
}

impl std::str::FromStr for VolumeName {
    type Err = NameError;

    fn from_str(name: &str) -> Result<Self, NameError> {
        VolumeName::parse(name)
    }
}

impl fmt::Display for VolumeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for VolumeName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl AsRef<OsStr> for VolumeName {
    fn as_ref(&self) -> &OsStr {
        OsStr::new(&self.0)
    }
}

impl AsRef<Path> for VolumeName {
    fn as_ref(&self) -> &Path {
        Path::new(&self.0)
    }
}

impl PartialEq<str> for VolumeName {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for VolumeName {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_table() {
        // (name, ok)
        let cases: &[(&str, bool)] = &[
            ("ab", true),
            ("a1", true),
            ("0x", true),
            ("my_vol.1-x", true),
            ("A.-_", true),
            ("a..", true),
            ("x", false),
            (".", false),
            ("..", false),
            ("", false),
            ("-ab", false),
            ("_ab", false),
            (".ab", false),
            ("a/b", false),
            ("a b", false),
            ("a:b", false),
            ("ab\n", false),
            ("h\u{e9}llo", false),
            ("/abs", false),
            ("~/x", false),
        ];
        for (name, ok) in cases {
            assert_eq!(VolumeName::parse(name).is_ok(), *ok, "{name:?}");
        }
    }

    #[test]
    fn errors_use_dockers_words() {
        assert_eq!(
            VolumeName::parse("x").unwrap_err().to_string(),
            "volume name is too short, names should be at least two alphanumeric characters"
        );
        assert_eq!(
            VolumeName::parse("a/b").unwrap_err().to_string(),
            "\"a/b\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path"
        );
        // A single multi-byte character is not "too short": Docker counts bytes.
        assert!(matches!(VolumeName::parse("\u{e9}"), Err(NameError::InvalidCharacters(_))));
    }

    #[test]
    fn from_string_agrees_with_parse_and_keeps_the_string() {
        for name in ["ab", "x", "", "a/b", ".ab", "my_vol.1-x", "\u{e9}"] {
            match VolumeName::from_string(name.to_owned()) {
                Ok(n) => assert_eq!(Ok(n), VolumeName::parse(name)),
                Err(back) => {
                    assert_eq!(back, name);
                    assert!(VolumeName::parse(name).is_err());
                }
            }
        }
    }

    #[test]
    fn anonymous_names() {
        for _ in 0..100 {
            let n = VolumeName::random_anonymous();
            assert!(n.looks_anonymous());
            assert!(is_valid(n.as_str()));
            assert!(!n.as_str()[..12].bytes().all(|c| c.is_ascii_digit()));
        }
    }
}
