//! The host's mount table as `/proc/self/mountinfo` gives it: which mount a path is on, and
//! that mount's propagation (the optional fields `shared:N` and `master:N`). Docker's daemon
//! reads the same to check, when a container starts, that the source of a shared or slave
//! bind can propagate at all (`ensureShared`, `ensureSharedOrSlave` in moby
//! `daemon/oci_linux.go`).

use std::ffi::OsString;
use std::io;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};

/// One line of `mountinfo`, the fields myvol needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountInfo {
    /// Where it is mounted (field 5), its escapes (`\040` for a space…) decoded.
    pub mount_point: PathBuf,
    /// The optional fields (7…, before `-`): `shared:N`, `master:N`, `propagate_from:N`,
    /// `unbindable`.
    pub optional: Vec<String>,
}

impl MountInfo {
    /// A peer in a shared group: what it mounts propagates.
    pub fn is_shared(&self) -> bool {
        self.optional.iter().any(|o| o.starts_with("shared:"))
    }

    /// A slave: it receives what its master mounts.
    pub fn is_slave(&self) -> bool {
        self.optional.iter().any(|o| o.starts_with("master:"))
    }
}

/// Parse `mountinfo` text; lines that do not have the format are skipped.
pub fn parse(text: &[u8]) -> Vec<MountInfo> {
    text.split(|&b| b == b'\n').filter_map(parse_line).collect()
}

fn parse_line(line: &[u8]) -> Option<MountInfo> {
    let fields: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
    let sep = fields.iter().position(|f| *f == b"-")?;
    if sep < 6 {
        return None;
    }
    let optional = fields[6..sep].iter().filter(|f| !f.is_empty()).map(|f| String::from_utf8_lossy(f).into_owned());
    Some(MountInfo {
        mount_point: PathBuf::from(OsString::from_vec(unescape(fields[4]))),
        optional: optional.collect(),
    })
}

/// The kernel's escapes in `mountinfo` paths: a backslash and three octal digits (space, tab,
/// newline, backslash).
fn unescape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let code = s.get(i + 1..i + 4).filter(|d| s[i] == b'\\' && d.iter().all(|d| (b'0'..=b'7').contains(d)));
        let value = code.map(|d| d.iter().fold(0u32, |v, d| v * 8 + u32::from(d - b'0')));
        if let Some(v) = value.and_then(|v| u8::try_from(v).ok()) {
            out.push(v);
            i += 4;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    out
}

/// The mount `path` (absolute, symlinks resolved) is on: the one with the longest mount point
/// that is `path` or one of its parents, by whole components (Docker compares string
/// prefixes); of several on one point, the last listed, which is the one on top.
pub fn mount_of<'a>(mounts: &'a [MountInfo], path: &Path) -> Option<&'a MountInfo> {
    let mut best: Option<&MountInfo> = None;
    for m in mounts.iter().filter(|m| path.starts_with(&m.mount_point)) {
        if best.is_none_or(|b| m.mount_point.as_os_str().len() >= b.mount_point.as_os_str().len()) {
            best = Some(m);
        }
    }
    best
}

/// Why the mount of a path could not be found.
#[derive(Debug)]
pub enum SourceMountError {
    /// Resolving the path, or reading `mountinfo`, failed.
    Io { op: &'static str, path: PathBuf, source: io::Error },
    /// No mount point is a parent of the path.
    NotFound,
}

/// The mount `path` is on in the calling process's mount namespace (symlinks in `path` are
/// resolved first, as Docker's daemon does).
pub fn source_mount(path: &Path) -> Result<MountInfo, SourceMountError> {
    let real = std::fs::canonicalize(path).map_err(|source| SourceMountError::Io {
        op: "lstat",
        path: path.to_owned(),
        source,
    })?;
    let table = Path::new("/proc/self/mountinfo");
    let text =
        std::fs::read(table).map_err(|source| SourceMountError::Io { op: "open", path: table.to_owned(), source })?;
    mount_of(&parse(&text), &real).cloned().ok_or(SourceMountError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "\
22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
40 27 0:40 / /srv/a\\040b rw,relatime master:7 - tmpfs t rw
41 27 0:41 / /srv rw,relatime - tmpfs t rw
42 41 0:42 / /srv/data rw shared:9 master:3 propagate_from:2 - tmpfs t rw
43 41 0:43 / /srv/data rw,relatime - tmpfs t rw
44 27 0:44 / /srv/dat rw shared:5 - tmpfs t rw
bad line
";

    fn at(p: &str) -> Option<(String, bool, bool)> {
        let t = parse(TABLE.as_bytes());
        mount_of(&t, Path::new(p)).map(|m| (m.mount_point.display().to_string(), m.is_shared(), m.is_slave()))
    }

    #[test]
    fn the_longest_parent_by_components_and_the_top_of_a_stack() {
        assert_eq!(parse(TABLE.as_bytes()).len(), 7);
        assert_eq!(at("/"), Some(("/".into(), true, false)));
        assert_eq!(at("/home/x"), Some(("/".into(), true, false)));
        assert_eq!(at("/proc/1"), Some(("/proc".into(), false, false)));
        assert_eq!(at("/srv"), Some(("/srv".into(), false, false)));
        // Two mounts on /srv/data: the later one is on top.
        assert_eq!(at("/srv/data/x"), Some(("/srv/data".into(), false, false)));
        // `/srv/dat` is a string prefix of `/srv/data2`, not a parent.
        assert_eq!(at("/srv/data2"), Some(("/srv".into(), false, false)));
        assert_eq!(at("/srv/dat/y"), Some(("/srv/dat".into(), true, false)));
        // Escaped mount points are decoded.
        assert_eq!(at("/srv/a b/c"), Some(("/srv/a b".into(), false, true)));
    }

    #[test]
    fn optional_fields() {
        let t = parse(TABLE.as_bytes());
        let m = t.iter().find(|m| m.optional.len() == 3).unwrap();
        assert_eq!(m.optional, ["shared:9", "master:3", "propagate_from:2"]);
        assert!(m.is_shared() && m.is_slave());
    }

    #[test]
    fn escapes() {
        assert_eq!(unescape(b"a\\040b\\011c\\012d\\134e"), b"a b\tc\nd\\e");
        assert_eq!(unescape(b"a\\04"), b"a\\04");
        assert_eq!(unescape(b"a\\999"), b"a\\999");
        assert_eq!(unescape(b"a\\777"), b"a\\777");
    }

    #[test]
    fn this_process_has_a_root_mount() {
        let m = source_mount(Path::new("/")).unwrap();
        assert_eq!(m.mount_point, Path::new("/"));
        assert!(matches!(
            source_mount(Path::new("/nonexistent-myvol/x")),
            Err(SourceMountError::Io { op: "lstat", .. })
        ));
    }
}
