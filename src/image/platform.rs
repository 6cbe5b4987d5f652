//! Platforms (`os/arch[/variant]`) as containerd's `platforms` package parses, normalises,
//! formats and matches them: which manifest of an index `docker pull` picks.

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// An OCI platform.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Platform {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(rename = "os.version", default, skip_serializing_if = "Option::is_none")]
    pub os_version: Option<String>,
    #[serde(rename = "os.features", default, skip_serializing_if = "Option::is_none")]
    pub os_features: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

/// containerd's errors for a platform specifier (`invalid argument` is errdefs' text).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PlatformError {
    #[error("{}: wildcards not yet supported: invalid argument", crate::text::echo(.0).quoted())]
    Wildcard(String),
    #[error(
        "{}: platform specifier component must match \"^[A-Za-z0-9_.-]+$\": invalid argument",
        crate::text::echo(.0).quoted()
    )]
    BadComponent(String),
    #[error("{}: unknown operating system or architecture: invalid argument", crate::text::echo(.0).quoted())]
    Unknown(String),
    #[error("{}: cannot parse platform specifier: invalid argument", crate::text::echo(.0).quoted())]
    Unparsable(String),
}

const KNOWN_OS: &[&str] = &[
    "aix",
    "android",
    "darwin",
    "dragonfly",
    "freebsd",
    "hurd",
    "illumos",
    "ios",
    "js",
    "linux",
    "nacl",
    "netbsd",
    "openbsd",
    "plan9",
    "solaris",
    "wasip1",
    "windows",
    "zos",
];
const KNOWN_ARCH: &[&str] = &[
    "386",
    "amd64",
    "amd64p32",
    "arm",
    "armbe",
    "arm64",
    "arm64be",
    "ppc64",
    "ppc64le",
    "loong64",
    "mips",
    "mipsle",
    "mips64",
    "mips64le",
    "mips64p32",
    "mips64p32le",
    "ppc",
    "riscv",
    "riscv64",
    "s390",
    "s390x",
    "sparc",
    "sparc64",
    "wasm",
];

fn normalize_os(os: &str) -> String {
    let os = os.to_lowercase();
    if os == "macos" { "darwin".to_owned() } else { os }
}

/// containerd's `normalizeArch`.
fn normalize_arch(arch: &str, variant: &str) -> (String, String) {
    let (arch, variant) = (arch.to_lowercase(), variant.to_lowercase());
    match arch.as_str() {
        "i386" => ("386".into(), String::new()),
        "x86_64" | "x86-64" | "amd64" => ("amd64".into(), if variant == "v1" { String::new() } else { variant }),
        "aarch64" | "arm64" => {
            let v = match variant.as_str() {
                "8" | "v8" | "v8.0" => String::new(),
                "9" | "9.0" | "v9.0" => "v9".into(),
                _ => variant,
            };
            ("arm64".into(), v)
        }
        "armhf" => ("arm".into(), "v7".into()),
        "armel" => ("arm".into(), "v6".into()),
        "arm" => {
            let v = match variant.as_str() {
                "" | "7" => "v7".into(),
                "5" | "6" | "8" => format!("v{variant}"),
                _ => variant,
            };
            ("arm".into(), v)
        }
        _ => (arch, variant),
    }
}

impl Platform {
    pub fn new(os: &str, arch: &str, variant: Option<&str>) -> Platform {
        Platform {
            os: os.to_owned(),
            architecture: arch.to_owned(),
            variant: variant.filter(|v| !v.is_empty()).map(str::to_owned),
            os_version: None,
            os_features: None,
        }
    }

    /// The platform this binary runs on (`linux/amd64`, `linux/arm64`, `linux/arm/v7`).
    pub fn host() -> Platform {
        let arch = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "x86" => "386",
            "aarch64" => "arm64",
            "arm" => "arm",
            "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
            "powerpc64" => "ppc64",
            "s390x" => "s390x",
            "riscv64" => "riscv64",
            "loongarch64" => "loong64",
            "mips64" => "mips64le",
            other => other,
        };
        Platform::new(std::env::consts::OS, arch, None).normalize()
    }

    /// containerd's `Parse`: `os`, `arch`, `os/arch`, `os/arch/variant`.
    pub fn parse(spec: &str) -> Result<Platform, PlatformError> {
        if spec.contains('*') {
            return Err(PlatformError::Wildcard(spec.to_owned()));
        }
        let parts: Vec<&str> = spec.split('/').collect();
        for part in &parts {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')) {
                return Err(PlatformError::BadComponent(spec.to_owned()));
            }
        }
        let host = Platform::host();
        match parts[..] {
            [one] => {
                let os = normalize_os(one);
                if KNOWN_OS.contains(&os.as_str()) {
                    return Ok(Platform { os, ..host });
                }
                let (arch, mut variant) = normalize_arch(one, "");
                if arch == "arm" && variant == "v7" {
                    variant.clear();
                }
                if KNOWN_ARCH.contains(&arch.as_str()) {
                    return Ok(Platform::new(&host.os, &arch, Some(&variant)));
                }
                Err(PlatformError::Unknown(spec.to_owned()))
            }
            [os, arch] => {
                let (arch, mut variant) = normalize_arch(arch, "");
                if arch == "arm" && variant == "v7" {
                    variant.clear();
                }
                Ok(Platform::new(&normalize_os(os), &arch, Some(&variant)))
            }
            [os, arch, variant] => {
                let (arch, mut variant) = normalize_arch(arch, variant);
                if arch == "arm64" && variant.is_empty() {
                    variant = "v8".into();
                }
                Ok(Platform::new(&normalize_os(os), &arch, Some(&variant)))
            }
            _ => Err(PlatformError::Unparsable(spec.to_owned())),
        }
    }

    /// containerd's `Normalize`.
    pub fn normalize(&self) -> Platform {
        let (arch, variant) = normalize_arch(&self.architecture, self.variant.as_deref().unwrap_or(""));
        Platform {
            os: normalize_os(&self.os),
            architecture: arch,
            variant: Some(variant).filter(|v| !v.is_empty()),
            ..self.clone()
        }
    }

    /// The platforms this one can run, best first (containerd's `platformVector`).
    fn vector(&self) -> Vec<Platform> {
        let p = self.normalize();
        let mut v = vec![p.clone()];
        let variant_num = |s: &Option<String>| s.as_deref().and_then(|v| v.trim_start_matches('v').parse::<u32>().ok());
        match p.architecture.as_str() {
            "amd64" => {
                if let Some(n) = variant_num(&p.variant).filter(|n| *n > 1) {
                    for k in (1..n).rev() {
                        let var = if k == 1 { None } else { Some(format!("v{k}")) };
                        v.push(Platform { variant: var, ..p.clone() });
                    }
                }
                v.push(Platform { architecture: "386".into(), variant: None, ..p.clone() });
            }
            "arm" => {
                if let Some(n) = variant_num(&p.variant) {
                    for k in (5..n).rev() {
                        v.push(Platform { variant: Some(format!("v{k}")), ..p.clone() });
                    }
                }
            }
            "arm64" => {
                let arm = Platform { architecture: "arm".into(), variant: Some("v7".into()), ..p.clone() };
                v.extend(arm.vector());
            }
            _ => {}
        }
        v
    }

    /// How well a manifest's platform suits this one: `Some(rank)` (0 is best) or `None`.
    pub fn rank(&self, candidate: &Platform) -> Option<usize> {
        let c = candidate.normalize();
        self.vector().iter().position(|p| p.os == c.os && p.architecture == c.architecture && p.variant == c.variant)
    }

    /// Docker's `OnlyPlatformWithFallback`: an exact match, or a candidate without variant
    /// of the same os and architecture.
    pub fn matches_image(&self, candidate: &Platform) -> bool {
        if self.rank(candidate).is_some() {
            return true;
        }
        let (c, p) = (candidate.normalize(), self.normalize());
        candidate.variant.as_deref().is_none_or(str::is_empty) && c.os == p.os && c.architecture == p.architecture
    }
}

impl fmt::Display for Platform {
    /// containerd's `FormatAll`: `linux/arm64/v8`, `unknown` without an os.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.os.is_empty() {
            return f.write_str("unknown");
        }
        f.write_str(&self.os)?;
        if let Some(v) = self.os_version.as_deref().filter(|v| !v.is_empty()) {
            write!(f, "({v})")?;
        }
        write!(f, "/{}", self.architecture)?;
        if let Some(v) = self.variant.as_deref().filter(|v| !v.is_empty()) {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_format() {
        let host = Platform::host();
        let ok = |s: &str, want: &str| assert_eq!(Platform::parse(s).unwrap().to_string(), want, "{s}");
        ok("linux/amd64", "linux/amd64");
        ok("linux/x86_64", "linux/amd64");
        ok("Linux/AMD64", "linux/amd64");
        ok("linux/arm64/v8", "linux/arm64/v8");
        ok("linux/aarch64", "linux/arm64");
        ok("linux/arm", "linux/arm");
        ok("linux/armhf", "linux/arm");
        ok("linux/armel", "linux/arm/v6");
        ok("linux/arm/7", "linux/arm/v7");
        ok("linux/386", "linux/386");
        ok("linux", &format!("linux/{}", host.architecture));
        ok("arm64", &format!("{}/arm64", host.os));
        let bad = |s: &str, e: &str| assert_eq!(Platform::parse(s).unwrap_err().to_string(), e, "{s}");
        bad("foo", "\"foo\": unknown operating system or architecture: invalid argument");
        bad("linux/amd64/v2/x", "\"linux/amd64/v2/x\": cannot parse platform specifier: invalid argument");
        bad("linux/*", "\"linux/*\": wildcards not yet supported: invalid argument");
        bad(
            "linux//amd64",
            "\"linux//amd64\": platform specifier component must match \"^[A-Za-z0-9_.-]+$\": invalid argument",
        );
        assert_eq!(Platform::default().to_string(), "unknown");
    }

    #[test]
    fn matching_prefers_the_exact_platform() {
        let amd = Platform::parse("linux/amd64").unwrap();
        assert_eq!(amd.rank(&Platform::new("linux", "amd64", None)), Some(0));
        assert_eq!(amd.rank(&Platform::new("linux", "amd64", Some("v1"))), Some(0));
        assert_eq!(amd.rank(&Platform::new("linux", "386", None)), Some(1));
        assert_eq!(amd.rank(&Platform::new("linux", "arm64", None)), None);
        assert_eq!(amd.rank(&Platform::new("windows", "amd64", None)), None);
        let v3 = Platform::parse("linux/amd64/v3").unwrap();
        assert_eq!(v3.rank(&Platform::new("linux", "amd64", Some("v2"))), Some(1));
        assert_eq!(v3.rank(&Platform::new("linux", "amd64", None)), Some(2));
        let arm64 = Platform::parse("linux/arm64").unwrap();
        assert_eq!(arm64.rank(&Platform::new("linux", "arm64", Some("v8"))), Some(0));
        assert!(arm64.rank(&Platform::new("linux", "arm", Some("v7"))).is_some());
        assert!(amd.matches_image(&Platform::new("linux", "amd64", None)));
        assert!(!amd.matches_image(&Platform::new("linux", "arm64", None)));
    }
}
