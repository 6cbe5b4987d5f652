//! Content digests (`sha256:<hex>`, as go-digest validates them) and the hashing that checks
//! every byte that enters the store against the digest it was announced with.

use std::fmt;
use std::io::{self, Read, Write};

use thiserror::Error;

/// go-digest's errors, with its texts.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DigestError {
    #[error("invalid checksum digest format")]
    InvalidFormat,
    #[error("invalid checksum digest length")]
    InvalidLength,
    #[error("unsupported digest algorithm")]
    Unsupported,
}

/// A hash algorithm of the OCI image spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    Sha256,
    Sha384,
    Sha512,
}

impl Algorithm {
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha384 => "sha384",
            Algorithm::Sha512 => "sha512",
        }
    }

    fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Sha384 => 96,
            Algorithm::Sha512 => 128,
        }
    }

    fn ring(self) -> &'static ring::digest::Algorithm {
        match self {
            Algorithm::Sha256 => &ring::digest::SHA256,
            Algorithm::Sha384 => &ring::digest::SHA384,
            Algorithm::Sha512 => &ring::digest::SHA512,
        }
    }
}

/// A validated digest: `algorithm:hex`, the hex in lower case and of the algorithm's length.
/// Its hex part is a safe single path component (`blobs/sha256/<hex>`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    text: String,
    algorithm: Algorithm,
}

impl Digest {
    /// go-digest's `Parse` (`Validate`).
    pub fn parse(s: &str) -> Result<Digest, DigestError> {
        let i = match s.find(':') {
            Some(i) if i > 0 && i + 1 < s.len() => i,
            _ => return Err(DigestError::InvalidFormat),
        };
        let (alg, hex) = (&s[..i], &s[i + 1..]);
        let algorithm = match alg {
            "sha256" => Algorithm::Sha256,
            "sha384" => Algorithm::Sha384,
            "sha512" => Algorithm::Sha512,
            _ => {
                // go-digest: a well-formed digest of another algorithm is "unsupported".
                let well_formed = alg.split(['-', '_', '+', '.']).all(|c| {
                    c.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
                        && c.bytes().all(|b| b.is_ascii_alphanumeric())
                }) && hex.len() >= 32
                    && hex.bytes().all(|b| b.is_ascii_hexdigit());
                return Err(if well_formed { DigestError::Unsupported } else { DigestError::InvalidFormat });
            }
        };
        if hex.len() != algorithm.hex_len() {
            return Err(DigestError::InvalidLength);
        }
        if !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(DigestError::InvalidFormat);
        }
        Ok(Digest { text: s.to_owned(), algorithm })
    }

    /// The sha256 digest of `data`.
    pub fn of(data: &[u8]) -> Digest {
        let mut h = Hasher::new(Algorithm::Sha256);
        h.update(data);
        h.finish()
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The hex part.
    pub fn hex(&self) -> &str {
        &self.text[self.algorithm.name().len() + 1..]
    }

    /// `sha256:<hex>`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The first 12 hex digits, as Docker shows image IDs (`stringid.TruncateID`).
    pub fn short(&self) -> &str {
        &self.hex()[..12]
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Digest::parse(&s).map_err(|e| serde::de::Error::custom(format!("{e}: {}", crate::text::go_quote(&s))))
    }
}

/// An incremental hash.
pub struct Hasher {
    algorithm: Algorithm,
    ctx: ring::digest::Context,
}

impl Hasher {
    pub fn new(algorithm: Algorithm) -> Hasher {
        Hasher { algorithm, ctx: ring::digest::Context::new(algorithm.ring()) }
    }

    pub fn update(&mut self, data: &[u8]) {
        self.ctx.update(data);
    }

    pub fn finish(self) -> Digest {
        let out = self.ctx.finish();
        let mut text = String::with_capacity(self.algorithm.name().len() + 1 + out.as_ref().len() * 2);
        text.push_str(self.algorithm.name());
        text.push(':');
        for b in out.as_ref() {
            text.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
            text.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
        }
        Digest { text, algorithm: self.algorithm }
    }
}

/// A reader that hashes what passes through and counts it; optionally refuses to yield more
/// than `limit` bytes (a hostile server that sends more than it announced).
pub struct HashReader<R> {
    inner: R,
    hasher: Hasher,
    count: u64,
    limit: Option<u64>,
}

impl<R: Read> HashReader<R> {
    pub fn new(inner: R, algorithm: Algorithm, limit: Option<u64>) -> HashReader<R> {
        HashReader { inner, hasher: Hasher::new(algorithm), count: 0, limit }
    }

    /// Bytes read so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The digest of everything read, and the count.
    pub fn finish(self) -> (Digest, u64) {
        (self.hasher.finish(), self.count)
    }

    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }
}

impl<R: Read> Read for HashReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        if let Some(limit) = self.limit
            && self.count > limit
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("more data than the {limit} bytes announced"),
            ));
        }
        Ok(n)
    }
}

/// A reader that copies what passes through into a writer (the blob file being stored).
pub struct TeeReader<R, W> {
    pub inner: R,
    pub sink: Option<W>,
}

impl<R: Read, W: Write> Read for TeeReader<R, W> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(w) = &mut self.sink {
            w.write_all(&buf[..n])?;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_like_go_digest() {
        let ok = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(Digest::parse(ok).unwrap().hex(), &ok[7..]);
        assert_eq!(Digest::parse(ok).unwrap().short(), "e3b0c44298fc");
        let bad = |s: &str, e: DigestError| assert_eq!(Digest::parse(s).unwrap_err(), e, "{s}");
        bad("", DigestError::InvalidFormat);
        bad("sha256", DigestError::InvalidFormat);
        bad("sha256:", DigestError::InvalidFormat);
        bad(":abc", DigestError::InvalidFormat);
        bad("sha256:abc", DigestError::InvalidLength);
        bad(&ok.to_uppercase().replace("SHA256", "sha256"), DigestError::InvalidFormat);
        bad("md5:d41d8cd98f00b204e9800998ecf8427e", DigestError::Unsupported);
        bad("md5:xyz", DigestError::InvalidFormat);
        bad(
            "sha256:../../../../../../../../../../../../../../../../../../../../etc/passwd0",
            DigestError::InvalidLength,
        );
        assert!(Digest::parse(&format!("sha512:{}", "a".repeat(128))).is_ok());
    }

    #[test]
    fn hashing() {
        assert_eq!(Digest::of(b"").as_str(), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        let mut r = HashReader::new(&b"hello"[..], Algorithm::Sha256, Some(5));
        io::copy(&mut r, &mut io::sink()).unwrap();
        assert_eq!(r.finish().0, Digest::of(b"hello"));
        let mut r = HashReader::new(&b"hello!"[..], Algorithm::Sha256, Some(5));
        assert!(io::copy(&mut r, &mut io::sink()).is_err());
    }
}
