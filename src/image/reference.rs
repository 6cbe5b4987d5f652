//! Image references as Docker normalises them (github.com/distribution/reference,
//! `ParseNormalizedNamed`, `ParseAnyReference`, `FamiliarString`):
//!
//! - `busybox` is `docker.io/library/busybox`, and `busybox` again when shown;
//! - the first component is a registry host when it contains a `.` or a `:` (a port), is
//!   `localhost`, or has an upper-case letter: `localhost:5000/team/app:1.2`, `ghcr.io/o/x`;
//! - a tag (`:1.2`, at most 128 characters) and a digest (`@sha256:…`) may follow, both at once;
//! - a bare 64-hex string is an image ID, never a name.
//!
//! Errors are Docker's texts: `invalid reference format`, `invalid reference format: repository
//! name (library/Foo) must be lowercase`, and the digest errors of go-digest.

use std::fmt;
use std::sync::LazyLock;

use regex::Regex;
use thiserror::Error;

use super::digest::{Digest, DigestError};

/// The registry of short names.
pub const DEFAULT_DOMAIN: &str = "docker.io";
/// Docker Hub's other name, rewritten to [`DEFAULT_DOMAIN`].
pub const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
/// The namespace of Docker Hub's official images.
pub const OFFICIAL_REPO_PREFIX: &str = "library/";
/// The tag of a reference that names none.
pub const DEFAULT_TAG: &str = "latest";
/// Longest repository path (without the domain).
pub const NAME_TOTAL_LENGTH_MAX: usize = 255;

/// Why a reference is refused, in the words of distribution/reference and go-digest.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReferenceError {
    #[error("invalid reference format")]
    InvalidFormat,
    #[error("invalid reference format: repository name ({}) must be lowercase", crate::text::echo(.0))]
    NotLowercase(String),
    #[error("repository name must be lowercase")]
    NameContainsUppercase,
    #[error("repository name must have at least one component")]
    NameEmpty,
    #[error("repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters")]
    NameTooLong,
    #[error("invalid repository name ({}), cannot specify 64-byte hexadecimal strings", crate::text::echo(.0))]
    HexName(String),
    #[error("invalid tag format")]
    TagInvalidFormat,
    #[error(transparent)]
    Digest(#[from] DigestError),
}

// The grammar of distribution/reference's regexp.go, with Go's ASCII `\w` spelled out.
const ALNUM: &str = "[a-z0-9]+";
const SEPARATOR: &str = "(?:[._]|__|[-]+)";
const DOMAIN_COMPONENT: &str = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const OPTIONAL_PORT: &str = "(?::[0-9]+)?";
const TAG: &str = "[0-9A-Za-z_][0-9A-Za-z_.-]{0,127}";
const DIGEST: &str = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}";
const IPV6: &str = r"\[(?:[a-fA-F0-9:]+)\]";

fn domain_and_port() -> String {
    let domain_name = format!(r"{DOMAIN_COMPONENT}(?:\.{DOMAIN_COMPONENT})*");
    format!("(?:{domain_name}|{IPV6}){OPTIONAL_PORT}")
}

fn remote_name() -> String {
    let path_component = format!("{ALNUM}(?:{SEPARATOR}{ALNUM})*");
    format!("{path_component}(?:/{path_component})*")
}

/// `^(name)(?::(tag))?(?:@(digest))?$`
static REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
    let name = format!("(?:{}/)?{}", domain_and_port(), remote_name());
    Regex::new(&format!("^({name})(?::({TAG}))?(?:@({DIGEST}))?$")).expect("reference grammar")
});

/// `^(?:(domain)/)?(remote)$`
static ANCHORED_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!("^(?:({})/)?({})$", domain_and_port(), remote_name())).expect("name grammar"));

static ANCHORED_TAG: LazyLock<Regex> = LazyLock::new(|| Regex::new(&format!("^{TAG}$")).expect("tag grammar"));

/// A 64-hex image ID.
pub fn is_identifier(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A named reference: `domain/path[:tag][@digest]`, normalised (the domain is always set).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    domain: String,
    path: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

/// What `ParseAnyReference` finds: an image ID (`sha256:…`, or 64 bare hex digits) or a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnyReference {
    Id(Digest),
    Named(Reference),
}

/// distribution/reference's `splitDockerDomain`.
fn split_docker_domain(name: &str) -> (String, String) {
    let Some((maybe_domain, maybe_remote)) = name.split_once('/') else {
        return (DEFAULT_DOMAIN.to_owned(), format!("{OFFICIAL_REPO_PREFIX}{name}"));
    };
    let (domain, mut remote) = if maybe_domain == "localhost" {
        (maybe_domain.to_owned(), maybe_remote.to_owned())
    } else if maybe_domain == LEGACY_DEFAULT_DOMAIN {
        (DEFAULT_DOMAIN.to_owned(), maybe_remote.to_owned())
    } else if maybe_domain.contains(['.', ':']) || maybe_domain.to_lowercase() != maybe_domain {
        (maybe_domain.to_owned(), maybe_remote.to_owned())
    } else {
        (DEFAULT_DOMAIN.to_owned(), name.to_owned())
    };
    if domain == DEFAULT_DOMAIN && !remote.contains('/') {
        remote = format!("{OFFICIAL_REPO_PREFIX}{remote}");
    }
    (domain, remote)
}

impl Reference {
    /// `ParseNormalizedNamed`: what `docker pull`, `tag`, `rmi` accept as a name.
    pub fn parse_normalized(s: &str) -> Result<Reference, ReferenceError> {
        if is_identifier(s) {
            return Err(ReferenceError::HexName(s.to_owned()));
        }
        let (domain, remainder) = split_docker_domain(s);
        let remote = remainder.split_once(':').map_or(remainder.as_str(), |(r, _)| r);
        if remote.to_lowercase() != remote {
            return Err(ReferenceError::NotLowercase(remote.to_owned()));
        }
        Reference::parse(&format!("{domain}/{remainder}"))
    }

    /// `Parse` of a full reference (the domain is whatever the name's first part is).
    fn parse(s: &str) -> Result<Reference, ReferenceError> {
        let Some(caps) = REFERENCE.captures(s) else {
            if s.is_empty() {
                return Err(ReferenceError::NameEmpty);
            }
            if REFERENCE.is_match(&s.to_lowercase()) {
                return Err(ReferenceError::NameContainsUppercase);
            }
            return Err(ReferenceError::InvalidFormat);
        };
        let name = caps.get(1).map_or("", |m| m.as_str());
        let (domain, path) = match ANCHORED_NAME.captures(name) {
            Some(n) => (n.get(1).map_or("", |m| m.as_str()), n.get(2).map_or("", |m| m.as_str())),
            None => ("", name),
        };
        if path.len() > NAME_TOTAL_LENGTH_MAX {
            return Err(ReferenceError::NameTooLong);
        }
        let digest = match caps.get(3) {
            Some(d) => Some(Digest::parse(d.as_str())?),
            None => None,
        };
        Ok(Reference {
            domain: domain.to_owned(),
            path: path.to_owned(),
            tag: caps.get(2).map(|t| t.as_str().to_owned()),
            digest,
        })
    }

    /// `ParseAnyReference`: an image ID when `s` is 64 hex digits or a digest, else a name.
    pub fn parse_any(s: &str) -> Result<AnyReference, ReferenceError> {
        if is_identifier(s) {
            return Ok(AnyReference::Id(Digest::parse(&format!("sha256:{s}"))?));
        }
        if let Ok(d) = Digest::parse(s) {
            return Ok(AnyReference::Id(d));
        }
        Reference::parse_normalized(s).map(AnyReference::Named)
    }

    /// The registry host (`docker.io`, `localhost:5000`).
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The repository path in the registry (`library/busybox`).
    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// Neither tag nor digest.
    pub fn is_name_only(&self) -> bool {
        self.tag.is_none() && self.digest.is_none()
    }

    /// `domain/path`: the repository.
    pub fn name(&self) -> String {
        if self.domain.is_empty() { self.path.clone() } else { format!("{}/{}", self.domain, self.path) }
    }

    /// This repository alone.
    pub fn repository(&self) -> Reference {
        Reference { domain: self.domain.clone(), path: self.path.clone(), tag: None, digest: None }
    }

    /// `TagNameOnly`: `:latest` added when there is neither tag nor digest.
    pub fn tag_name_only(&self) -> Reference {
        if self.is_name_only() { self.with_tag(DEFAULT_TAG).unwrap_or_else(|_| self.clone()) } else { self.clone() }
    }

    /// This repository with `tag` (a digest is kept).
    pub fn with_tag(&self, tag: &str) -> Result<Reference, ReferenceError> {
        if !ANCHORED_TAG.is_match(tag) {
            return Err(ReferenceError::TagInvalidFormat);
        }
        Ok(Reference { tag: Some(tag.to_owned()), ..self.clone() })
    }

    /// This repository with `digest` (a tag is kept).
    pub fn with_digest(&self, digest: Digest) -> Reference {
        Reference { digest: Some(digest), ..self.clone() }
    }

    /// The repository with only the digest (`name@digest`), as Docker records pulled digests.
    pub fn canonical(&self, digest: Digest) -> Reference {
        Reference { tag: None, digest: Some(digest), ..self.repository() }
    }

    /// The repository with only the tag.
    pub fn without_digest(&self) -> Reference {
        Reference { digest: None, ..self.clone() }
    }

    /// The name as users type it: `docker.io/` dropped, and `library/` for official images.
    pub fn familiar_name(&self) -> String {
        if self.domain == DEFAULT_DOMAIN {
            if let Some(rest) = self.path.strip_prefix(OFFICIAL_REPO_PREFIX)
                && !rest.contains('/')
            {
                return rest.to_owned();
            }
            return self.path.clone();
        }
        self.name()
    }

    /// `FamiliarString`: the familiar name with the tag and digest.
    pub fn familiar_string(&self) -> String {
        self.suffixed(self.familiar_name())
    }

    /// The path shown in `latest: Pulling from library/busybox` (the path in the registry).
    pub fn remote_path(&self) -> &str {
        &self.path
    }

    fn suffixed(&self, mut s: String) -> String {
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(d.as_str());
        }
        s
    }
}

impl fmt::Display for Reference {
    /// The full form: `docker.io/library/busybox:latest`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.suffixed(self.name()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:9a0ff41dccad7a96f324a4655a715c623ed3511c7336361ffa9dadcecbdb99e5";

    /// Accepted: input → full form, familiar form.
    #[rustfmt::skip]
    const ACCEPTED: &[(&str, &str, &str)] = &[
        ("busybox", "docker.io/library/busybox", "busybox"),
        ("busybox:latest", "docker.io/library/busybox:latest", "busybox:latest"),
        ("postgres:16.1-alpine", "docker.io/library/postgres:16.1-alpine", "postgres:16.1-alpine"),
        ("library/busybox", "docker.io/library/busybox", "busybox"),
        ("docker.io/busybox", "docker.io/library/busybox", "busybox"),
        ("index.docker.io/busybox", "docker.io/library/busybox", "busybox"),
        ("index.docker.io/library/busybox:1", "docker.io/library/busybox:1", "busybox:1"),
        ("team/app", "docker.io/team/app", "team/app"),
        ("team/sub/app:x", "docker.io/team/sub/app:x", "team/sub/app:x"),
        ("docker.io/library/a/b", "docker.io/library/a/b", "library/a/b"),
        ("localhost/app", "localhost/app", "localhost/app"),
        ("localhost:5000/team/app:1.2", "localhost:5000/team/app:1.2", "localhost:5000/team/app:1.2"),
        ("127.0.0.1:5000/app", "127.0.0.1:5000/app", "127.0.0.1:5000/app"),
        ("[::1]:5000/app", "[::1]:5000/app", "[::1]:5000/app"),
        ("ghcr.io/o/x", "ghcr.io/o/x", "ghcr.io/o/x"),
        ("registry:5000/x", "registry:5000/x", "registry:5000/x"),
        ("Registry/x", "Registry/x", "Registry/x"),
        ("a.b-c_d__e---f", "docker.io/library/a.b-c_d__e---f", "a.b-c_d__e---f"),
        ("app:UPPER_tag.1-x", "docker.io/library/app:UPPER_tag.1-x", "app:UPPER_tag.1-x"),
        ("0123456789ab", "docker.io/library/0123456789ab", "0123456789ab"),
    ];

    /// Refused: input → Docker's error text.
    #[rustfmt::skip]
    const REFUSED: &[(&str, &str)] = &[
        ("", "invalid reference format"),
        ("Busybox", "invalid reference format: repository name (library/Busybox) must be lowercase"),
        ("team/App:1", "invalid reference format: repository name (team/App) must be lowercase"),
        ("localhost:5000/App", "invalid reference format: repository name (App) must be lowercase"),
        ("busybox:", "invalid reference format"),
        (":tag", "invalid reference format"),
        ("a:b:c", "invalid reference format"),
        ("-a", "invalid reference format"),
        ("a-", "invalid reference format"),
        ("a..b", "invalid reference format"),
        ("a/", "invalid reference format"),
        ("/a", "invalid reference format"),
        ("a//b", "invalid reference format"),
        ("a b", "invalid reference format"),
        ("busybox:-tag", "invalid reference format"),
        ("busybox:.tag", "invalid reference format"),
        ("héllo", "invalid reference format"),
        ("a@sha256:abc", "invalid reference format"),
        ("a@sha256:0123456789abcdef0123456789abcdef", "invalid checksum digest length"),
        ("a@md5:0123456789abcdef0123456789abcdef", "unsupported digest algorithm"),
        ("9a0ff41dccad7a96f324a4655a715c623ed3511c7336361ffa9dadcecbdb99e5",
         "invalid repository name (9a0ff41dccad7a96f324a4655a715c623ed3511c7336361ffa9dadcecbdb99e5), cannot specify 64-byte hexadecimal strings"),
    ];

    #[test]
    fn accepted_references() {
        for (input, full, familiar) in ACCEPTED {
            let r = Reference::parse_normalized(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(r.to_string(), *full, "{input}");
            assert_eq!(r.familiar_string(), *familiar, "{input}");
            // The full form parses to the same reference.
            assert_eq!(Reference::parse_normalized(full).unwrap(), r, "{input}");
        }
    }

    #[test]
    fn refused_references() {
        for (input, err) in REFUSED {
            match Reference::parse_normalized(input) {
                Ok(r) => panic!("{input:?} accepted as {r}"),
                Err(e) => assert_eq!(e.to_string(), *err, "{input:?}"),
            }
        }
        let long = format!("a/{}", "b".repeat(254));
        assert_eq!(Reference::parse_normalized(&long).unwrap_err(), ReferenceError::NameTooLong);
    }

    #[test]
    fn tags_and_digests() {
        let r = Reference::parse_normalized(&format!("app:1@{D}")).unwrap();
        assert_eq!(r.tag(), Some("1"));
        assert_eq!(r.digest().unwrap().as_str(), D);
        assert_eq!(r.familiar_string(), format!("app:1@{D}"));
        let r = Reference::parse_normalized(&format!("localhost:5000/app@{D}")).unwrap();
        assert_eq!(r.tag(), None);
        assert_eq!(r.tag_name_only(), r, "a digest needs no default tag");
        let r = Reference::parse_normalized("busybox").unwrap();
        assert!(r.is_name_only());
        assert_eq!(r.tag_name_only().to_string(), "docker.io/library/busybox:latest");
        assert_eq!(r.remote_path(), "library/busybox");
        assert_eq!(r.with_tag("-x").unwrap_err(), ReferenceError::TagInvalidFormat);
        assert_eq!(r.with_tag(&"t".repeat(128)).unwrap().tag().unwrap().len(), 128);
        assert!(r.with_tag(&"t".repeat(129)).is_err());
    }

    #[test]
    fn any_reference() {
        let hex = &D[7..];
        assert_eq!(Reference::parse_any(hex).unwrap(), AnyReference::Id(Digest::parse(D).unwrap()));
        assert_eq!(Reference::parse_any(D).unwrap(), AnyReference::Id(Digest::parse(D).unwrap()));
        assert!(matches!(Reference::parse_any("9a0ff41dccad").unwrap(), AnyReference::Named(_)));
        assert!(matches!(Reference::parse_any("busybox:1").unwrap(), AnyReference::Named(_)));
        assert!(Reference::parse_any("UPPER").is_err());
    }
}
