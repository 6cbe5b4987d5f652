//! Lexical path helpers with Go's semantics (`path.Clean`, `path.IsAbs`, `filepath.IsLocal`,
//! `filepath.Abs` against a given directory). Strings only: nothing here looks at a filesystem.

/// Go's `path.Clean`: the shortest path equivalent to `p` by purely lexical processing.
/// Repeated slashes collapse, `.` elements go, `..` eats the element before it (and is
/// dropped at the root), a trailing slash goes; the empty path becomes `.`.
pub fn clean_path(p: &str) -> String {
    if p.is_empty() {
        return ".".to_owned();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|last| *last != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let body = parts.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".to_owned(),
        (false, false) => body,
    }
}

/// Go's `path.IsAbs` (and `filepath.IsAbs` on Unix).
pub(crate) fn is_abs(p: &str) -> bool {
    p.starts_with('/')
}

/// Go's `filepath.IsLocal` on Unix: relative, non-empty, and not escaping upwards.
pub(crate) fn is_local(p: &str) -> bool {
    if is_abs(p) || p.is_empty() {
        return false;
    }
    let cleaned = clean_path(p);
    !(cleaned == ".." || cleaned.starts_with("../"))
}

/// Go's `filepath.Abs(p)` with `cwd` standing in for the process's working directory.
pub(crate) fn abs_against(cwd: &str, p: &str) -> String {
    if is_abs(p) { clean_path(p) } else { clean_path(&format!("{cwd}/{p}")) }
}
