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

// The grammar of distribution/reference's regexp.go, matched by hand: compiling it as a regex
// costs two thirds of what a `myvol run IMAGE` spends before its run starts. The unit tests
// check the matcher against the grammar compiled as a regex, on generated input.
//
//   reference   := name [ ":" tag ] [ "@" digest ]
//   name        := [ domain "/" ] remote-name
//   domain      := ( domain-name | "[" [a-fA-F0-9:]+ "]" ) [ ":" [0-9]+ ]
//   domain-name := component ( "." component )*,  component := [a-zA-Z0-9] ( [a-zA-Z0-9-]* [a-zA-Z0-9] )?
//   remote-name := path-component ( "/" path-component )*
//   path-component := [a-z0-9]+ ( separator [a-z0-9]+ )*,  separator := "." | "_" | "__" | "-"+
//   tag         := [\w] [\w.-]{0,127}
//   digest      := [A-Za-z][A-Za-z0-9]* ( [-_+.] [A-Za-z][A-Za-z0-9]* )* ":" [0-9a-fA-F]{32,}

/// A reference split as the grammar splits it: the name (domain and remote name), the tag and
/// the digest; `None` when `s` is not a reference.
fn split_reference(s: &str) -> Option<(&str, &str, Option<&str>, Option<&str>)> {
    let (rest, digest) = match s.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (s, None),
    };
    if digest.is_some_and(|d| !is_digest(d)) {
        return None;
    }
    // A tag is after the last `:` when no `/` follows it (a `:` before a `/` is a port).
    let (name, tag) = match (rest.rfind(':'), rest.rfind('/')) {
        (Some(c), slash) if slash.is_none_or(|sl| c > sl) => (&rest[..c], Some(&rest[c + 1..])),
        _ => (rest, None),
    };
    if tag.is_some_and(|t| !is_tag(t)) {
        return None;
    }
    let (domain, path) = split_name(name)?;
    Some((domain, path, tag, digest))
}

/// `[domain/]remote-name`: the first component is the domain when it can be one (the
/// grammar's optional group is greedy).
fn split_name(name: &str) -> Option<(&str, &str)> {
    if let Some((first, rest)) = name.split_once('/')
        && is_domain_and_port(first)
        && is_remote_name(rest)
    {
        return Some((first, rest));
    }
    is_remote_name(name).then_some(("", name))
}

fn is_domain_and_port(s: &str) -> bool {
    let (host, port) = if let Some(inner) = s.strip_prefix('[') {
        let Some((addr, after)) = inner.split_once(']') else { return false };
        if addr.is_empty() || !addr.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return false;
        }
        match after {
            "" => return true,
            _ => match after.strip_prefix(':') {
                Some(port) => ("", port),
                None => return false,
            },
        }
    } else {
        match s.split_once(':') {
            Some((h, p)) => (h, p),
            None => (s, "0"),
        }
    };
    let port_ok = !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit());
    let host_ok = host.is_empty() && s.starts_with('[') || host.split('.').all(is_domain_component);
    port_ok && host_ok
}

fn is_domain_component(c: &str) -> bool {
    let b = c.as_bytes();
    match (b.first(), b.last()) {
        (Some(f), Some(l)) => {
            f.is_ascii_alphanumeric()
                && l.is_ascii_alphanumeric()
                && b.iter().all(|x| x.is_ascii_alphanumeric() || *x == b'-')
        }
        _ => false,
    }
}

fn is_remote_name(s: &str) -> bool {
    s.split('/').all(is_path_component)
}

/// `[a-z0-9]+ (separator [a-z0-9]+)*` with `.`, `_`, `__` or a run of `-` between.
fn is_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: &u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    let mut i = 0;
    loop {
        let start = i;
        while i < b.len() && alnum(&b[i]) {
            i += 1;
        }
        if i == start {
            return false;
        }
        if i == b.len() {
            return true;
        }
        match b[i] {
            b'.' => i += 1,
            b'_' => i += if b.get(i + 1) == Some(&b'_') { 2 } else { 1 },
            b'-' => {
                while i < b.len() && b[i] == b'-' {
                    i += 1;
                }
            }
            _ => return false,
        }
    }
}

fn is_tag(t: &str) -> bool {
    let word = |x: &u8| x.is_ascii_alphanumeric() || *x == b'_';
    let b = t.as_bytes();
    !b.is_empty() && b.len() <= 128 && word(&b[0]) && b[1..].iter().all(|x| word(x) || *x == b'.' || *x == b'-')
}

fn is_digest(d: &str) -> bool {
    let Some((alg, hex)) = d.split_once(':') else { return false };
    let alg_ok = alg.split(['-', '_', '+', '.']).all(|part| {
        let b = part.as_bytes();
        b.first().is_some_and(u8::is_ascii_alphabetic) && b.iter().all(u8::is_ascii_alphanumeric)
    });
    alg_ok && hex.len() >= 32 && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

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
        let Some((domain, path, tag, digest)) = split_reference(s) else {
            if s.is_empty() {
                return Err(ReferenceError::NameEmpty);
            }
            if split_reference(&s.to_lowercase()).is_some() {
                return Err(ReferenceError::NameContainsUppercase);
            }
            return Err(ReferenceError::InvalidFormat);
        };
        if path.len() > NAME_TOTAL_LENGTH_MAX {
            return Err(ReferenceError::NameTooLong);
        }
        let digest = match digest {
            Some(d) => Some(Digest::parse(d)?),
            None => None,
        };
        Ok(Reference { domain: domain.to_owned(), path: path.to_owned(), tag: tag.map(str::to_owned), digest })
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
        if !is_tag(tag) {
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
    use proptest::prelude::*;

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

    /// The grammar as distribution/reference writes it (regexp.go, Go's ASCII `\w` spelled
    /// out), compiled as a regex: the oracle the hand-written matcher is checked against. The
    /// full reference, then the name it captured split into domain and remote name.
    static ORACLE: std::sync::LazyLock<(regex::Regex, regex::Regex)> = std::sync::LazyLock::new(|| {
        const ALNUM: &str = "[a-z0-9]+";
        const SEPARATOR: &str = "(?:[._]|__|[-]+)";
        const DOMAIN_COMPONENT: &str = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
        const TAG: &str = "[0-9A-Za-z_][0-9A-Za-z_.-]{0,127}";
        const DIGEST: &str = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}";
        let domain = format!(r"(?:{DOMAIN_COMPONENT}(?:\.{DOMAIN_COMPONENT})*|\[(?:[a-fA-F0-9:]+)\])(?::[0-9]+)?");
        let component = format!("{ALNUM}(?:{SEPARATOR}{ALNUM})*");
        let remote = format!("{component}(?:/{component})*");
        let reference = format!("^((?:{domain}/)?{remote})(?::({TAG}))?(?:@({DIGEST}))?$");
        let name = format!("^(?:({domain})/)?({remote})$");
        (regex::Regex::new(&reference).unwrap(), regex::Regex::new(&name).unwrap())
    });

    type Split = Option<(String, String, Option<String>, Option<String>)>;

    fn by_oracle(s: &str) -> Split {
        let (reference, name) = &*ORACLE;
        let c = reference.captures(s)?;
        let n = name.captures(c.get(1)?.as_str())?;
        let text = |m: Option<regex::Match<'_>>| m.map(|m| m.as_str().to_owned());
        Some((text(n.get(1)).unwrap_or_default(), text(n.get(2)).unwrap_or_default(), text(c.get(2)), text(c.get(3))))
    }

    fn by_hand(s: &str) -> Split {
        split_reference(s).map(|(d, p, t, g)| (d.to_owned(), p.to_owned(), t.map(str::to_owned), g.map(str::to_owned)))
    }

    #[test]
    fn the_matcher_splits_as_the_grammar_does() {
        let hex = "0123456789abcdef0123456789abcdef";
        let cases = [
            "busybox",
            "a:5000",
            "a:5000/b",
            "a:b/c",
            "a:1/c:t",
            "[::1]:5000/app:1",
            "[::1]",
            "[::1]/a",
            "[]/a",
            "[::1]x/a",
            "[::1]:/a",
            "[g::1]/a",
            "Registry/x",
            "Registry/X",
            "a.b-c_d__e---f",
            "a___b",
            "a._b",
            "a-",
            "-a",
            "a..b",
            "a/",
            "/a",
            "a//b",
            "busybox:",
            ":tag",
            "a:b:c",
            "app:UPPER_tag.1-x",
            "a:-t",
            "a:.t",
            "a.b:5/z",
            "a.b:/z",
            "a.b:5x/z",
            "a-b.c:5000/x",
            "-a.b/x",
            "a.-b/x",
            "a:/x",
            "a:x1/y",
            "localhost/a/b/c:t",
            "a/b:t/c",
            "a@b@c",
            "a@sha256:abc",
            "é/a",
            "a/é",
        ];
        for c in cases {
            assert_eq!(by_hand(c), by_oracle(c), "{c:?}");
        }
        for alg in ["sha256", "Sha-2.5", "a+b_c", "1sha", "sha-", "-sha", "sha..x", "", "sha256:x"] {
            for body in [hex.to_owned(), format!("{hex}g"), hex[1..].to_owned(), hex.to_uppercase()] {
                for name in ["a", "x.y:5/z:t"] {
                    let c = format!("{name}@{alg}:{body}");
                    assert_eq!(by_hand(&c), by_oracle(&c), "{c:?}");
                }
            }
        }
        let long_tag = format!("a:{}", "t".repeat(128));
        assert!(by_hand(&long_tag).is_some());
        assert_eq!(by_hand(&long_tag), by_oracle(&long_tag));
        let too_long = format!("a:{}", "t".repeat(129));
        assert_eq!(by_hand(&too_long), None);
        assert_eq!(by_oracle(&too_long), None);
    }

    proptest! {
        /// On strings made of the grammar's own pieces (and a few it refuses), the matcher and
        /// the regex agree on whether they match and how they split.
        #[test]
        fn the_matcher_agrees_with_the_regex(parts in proptest::collection::vec(proptest::sample::select(vec![
            "a", "Z", "0", "/", ":", "@", ".", "-", "_", "__", "[", "]", "5000", "sha256:",
            "0123456789abcdef0123456789abcdef", "localhost", "é", "+", "::1",
        ]), 0..14)) {
            let s: String = parts.concat();
            prop_assert_eq!(by_hand(&s), by_oracle(&s), "{:?}", s);
        }
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
