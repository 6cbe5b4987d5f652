//! A service volume's short syntax, `[SOURCE:]TARGET[:MODE]`, read as Compose reads it.
//!
//! Compose's grammar is its own, not `docker run -v`'s: a one-letter first field followed by
//! `:` is a Windows drive (so `v:/data` is a bind of `v:/data`), `${…}` may hold colons,
//! unknown mode words are ignored, and a source starting with `.`, `/` or `~` (or a drive)
//! makes a bind, anything else a named volume.

use super::value::{Map, Value};

/// One short-syntax volume.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShortVolume {
    pub kind: &'static str,
    pub source: String,
    pub target: String,
    pub read_only: bool,
    pub selinux: String,
    pub propagation: String,
    pub nocopy: bool,
}

/// Why a short-syntax volume did not parse: Compose's text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShortVolumeError {
    #[error("invalid empty volume spec")]
    Empty,
    #[error("invalid spec: {spec}: {reason}")]
    Invalid { spec: String, reason: &'static str },
}

const PROPAGATIONS: [&str; 6] = ["rprivate", "private", "rshared", "shared", "rslave", "slave"];

pub fn parse(spec: &str) -> Result<ShortVolume, ShortVolumeError> {
    let mut v = ShortVolume::default();
    match spec.len() {
        0 => return Err(ShortVolumeError::Empty),
        1 | 2 => {
            v.target = spec.to_owned();
            v.kind = "volume";
            return Ok(v);
        }
        _ => {}
    }
    let mut buffer: Vec<char> = Vec::new();
    let mut depth = 0usize;
    let bytes = spec.as_bytes();
    let mut chars: Vec<(usize, char)> = spec.char_indices().collect();
    chars.push((spec.len(), '\0'));
    for (i, c) in chars {
        let end = i == spec.len();
        if !end && c == '$' && i + 1 < bytes.len() && bytes[i + 1] == b'{' {
            depth += 1;
            buffer.push(c);
            continue;
        }
        if !end && c == '}' && depth > 0 {
            depth -= 1;
            buffer.push(c);
            continue;
        }
        if !end && c == ':' && buffer.len() == 1 && buffer[0].is_alphabetic() {
            buffer.push(c);
        } else if (end || c == ':') && depth == 0 {
            if let Err(reason) = populate(end, &buffer, &mut v) {
                return Err(ShortVolumeError::Invalid { spec: spec.to_owned(), reason });
            }
            buffer.clear();
        } else {
            buffer.push(c);
        }
    }
    set_kind(&mut v);
    Ok(v)
}

fn populate(end: bool, buffer: &[char], v: &mut ShortVolume) -> Result<(), &'static str> {
    let s: String = buffer.iter().collect();
    if buffer.is_empty() {
        return Err("empty section between colons");
    }
    if v.source.is_empty() && end {
        v.target = s;
        return Ok(());
    }
    if v.source.is_empty() {
        v.source = s;
        return Ok(());
    }
    if v.target.is_empty() {
        v.target = s;
        return Ok(());
    }
    if !end {
        return Err("too many colons");
    }
    for option in s.split(',') {
        match option {
            "ro" => v.read_only = true,
            "rw" => v.read_only = false,
            "nocopy" => v.nocopy = true,
            "z" | "Z" => v.selinux = option.to_owned(),
            p if PROPAGATIONS.contains(&p) => v.propagation = p.to_owned(),
            _ => {}
        }
    }
    Ok(())
}

/// A source naming a host path: `.`, `/`, `~`, a UNC path or a drive letter.
pub fn is_file_path(source: &str) -> bool {
    let Some(first) = source.chars().next() else { return false };
    if matches!(first, '.' | '/' | '~') || source.starts_with("\\\\") {
        return true;
    }
    let rest = &source[first.len_utf8()..];
    rest.starts_with(':') && first.is_alphabetic()
}

fn set_kind(v: &mut ShortVolume) {
    v.kind = if is_file_path(&v.source) { "bind" } else { "volume" };
}

impl ShortVolume {
    /// The long syntax Compose turns this into (`target` cleaned as a path).
    pub fn to_long(&self) -> Map {
        let mut m = Map::new();
        m.insert("type".into(), Value::Str(self.kind.to_owned()));
        if !self.source.is_empty() {
            m.insert("source".into(), Value::Str(self.source.clone()));
        }
        if !self.target.is_empty() {
            m.insert("target".into(), Value::Str(go_path_clean(&self.target)));
        }
        if self.read_only {
            m.insert("read_only".into(), Value::Bool(true));
        }
        if self.kind == "bind" {
            let mut b = Map::new();
            if !self.selinux.is_empty() {
                b.insert("selinux".into(), Value::Str(self.selinux.clone()));
            }
            if !self.propagation.is_empty() {
                b.insert("propagation".into(), Value::Str(self.propagation.clone()));
            }
            b.insert("create_host_path".into(), Value::Bool(true));
            m.insert("bind".into(), Value::Map(b));
            if self.nocopy {
                let mut vol = Map::new();
                vol.insert("nocopy".into(), Value::Bool(true));
                m.insert("volume".into(), Value::Map(vol));
            }
        } else {
            let mut vol = Map::new();
            if self.nocopy {
                vol.insert("nocopy".into(), Value::Bool(true));
            }
            m.insert("volume".into(), Value::Map(vol));
            if !self.selinux.is_empty() || !self.propagation.is_empty() {
                let mut b = Map::new();
                if !self.selinux.is_empty() {
                    b.insert("selinux".into(), Value::Str(self.selinux.clone()));
                }
                if !self.propagation.is_empty() {
                    b.insert("propagation".into(), Value::Str(self.propagation.clone()));
                }
                m.insert("bind".into(), Value::Map(b));
            }
        }
        m
    }
}

/// Go's `path.Clean`: lexical, `/`-separated.
pub fn go_path_clean(p: &str) -> String {
    if p.is_empty() {
        return ".".to_owned();
    }
    let rooted = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|l| *l != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    let joined = out.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> ShortVolume {
        parse(s).unwrap()
    }

    #[test]
    fn short_syntax_as_compose() {
        let v = p("/host/logs:/app/logs");
        assert_eq!((v.kind, v.source.as_str(), v.target.as_str()), ("bind", "/host/logs", "/app/logs"));
        let v = p("logs-volume:/app/logs");
        assert_eq!((v.kind, v.source.as_str()), ("volume", "logs-volume"));
        let v = p("/anon");
        assert_eq!((v.kind, v.source.as_str(), v.target.as_str()), ("volume", "", "/anon"));
        let v = p("v:/v2:ro,nocopy");
        assert_eq!((v.kind, v.source.as_str(), v.target.as_str()), ("bind", "v:/v2", "ro,nocopy"));
        let v = p("./rel:/rel:z,rprivate");
        assert_eq!((v.selinux.as_str(), v.propagation.as_str()), ("z", "rprivate"));
        let v = p("data:/d:ro,bogus");
        assert!(v.read_only);
        let v = p("${X:-a:b}:/t");
        assert_eq!(v.source, "${X:-a:b}");
        let v = p("~/x:/x");
        assert_eq!(v.kind, "bind");
        let v = p("/x");
        assert_eq!(v.target, "/x");
        let v = p("ab");
        assert_eq!((v.kind, v.target.as_str()), ("volume", "ab"));
    }

    #[test]
    fn errors_as_compose() {
        assert_eq!(parse("").unwrap_err().to_string(), "invalid empty volume spec");
        assert_eq!(parse("ab::c").unwrap_err().to_string(), "invalid spec: ab::c: empty section between colons");
        assert_eq!(parse("/a:/b:ro:x").unwrap_err().to_string(), "invalid spec: /a:/b:ro:x: too many colons");
    }

    #[test]
    fn clean() {
        for (i, o) in
            [("/b/", "/b"), ("/a/../b", "/b"), ("a/./b", "a/b"), ("/..", "/"), ("", "."), ("ro,nocopy", "ro,nocopy")]
        {
            assert_eq!(go_path_clean(i), o);
        }
    }
}
