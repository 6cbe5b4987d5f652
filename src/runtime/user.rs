//! `-u/--user`: `UID[:GID]` or `NAME[:GROUP]`, resolved against the rootfs's `/etc/passwd` and
//! `/etc/group` read as text (never NSS: docs/security.md §1.7), with the rules of runc's
//! `user.GetExecUser` as Docker uses it: a numeric uid needs no passwd entry (gid 0 and
//! `HOME=/` then), a name must have one, the primary group is the passwd entry's unless a
//! group is given, and the supplementary groups are those of `/etc/group` listing the user.

use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;

use rustix::fs::{Mode, OFlags};
use thiserror::Error;

use super::resolve::open_in_root;

/// Who the command runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecUser {
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups (from `/etc/group`), without duplicates.
    pub groups: Vec<u32>,
    /// The passwd entry's home directory, else `/`.
    pub home: String,
}

/// Why a user could not be resolved. Messages are runc's.
#[derive(Debug, Error)]
pub enum UserError {
    #[error("unable to find user {}: no matching entries in passwd file", crate::text::echo(.0))]
    NoUser(String),
    #[error("unable to find group {}: no matching entries in group file", crate::text::echo(.0))]
    NoGroup(String),
    #[error("invalid user {}: uids and gids must be in range 0-2147483647", crate::text::echo(.0).quoted())]
    OutOfRange(String),
    #[error("read {path} of the rootfs: {}", crate::text::errno_text(source))]
    Read {
        path: &'static str,
        #[source]
        source: io::Error,
    },
}

/// One line of `/etc/passwd`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswdEntry {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: String,
}

/// One line of `/etc/group`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEntry {
    pub name: String,
    pub gid: u32,
    pub members: Vec<String>,
}

/// Parse `/etc/passwd` text; malformed lines are skipped, as runc does.
pub fn parse_passwd(text: &str) -> Vec<PasswdEntry> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            Some(PasswdEntry {
                name: f.first()?.to_string(),
                uid: f.get(2)?.trim().parse().ok()?,
                gid: f.get(3)?.trim().parse().ok()?,
                home: f.get(5).map(|s| s.to_string()).unwrap_or_default(),
            })
        })
        .collect()
}

/// Parse `/etc/group` text; malformed lines are skipped.
pub fn parse_group(text: &str) -> Vec<GroupEntry> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            Some(GroupEntry {
                name: f.first()?.to_string(),
                gid: f.get(2)?.trim().parse().ok()?,
                members: f
                    .get(3)
                    .map(|m| m.split(',').map(str::trim).filter(|m| !m.is_empty()).map(str::to_owned).collect())
                    .unwrap_or_default(),
            })
        })
        .collect()
}

const MAX_ID: u32 = i32::MAX as u32;

fn numeric(s: &str, whole: &str) -> Result<Option<u32>, UserError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    match s.parse::<u32>() {
        Ok(n) if n <= MAX_ID => Ok(Some(n)),
        _ => Err(UserError::OutOfRange(whole.to_owned())),
    }
}

/// Resolve the `-u` value `user` (`None`: root) against the passwd and group entries given.
pub fn resolve(user: Option<&str>, passwd: &[PasswdEntry], groups: &[GroupEntry]) -> Result<ExecUser, UserError> {
    let whole = user.unwrap_or("");
    let (user, group) = match whole.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (whole, None),
    };
    let user = if user.is_empty() { "0" } else { user };
    let entry = match numeric(user, whole)? {
        Some(uid) => passwd.iter().find(|e| e.uid == uid).cloned().unwrap_or(PasswdEntry {
            name: String::new(),
            uid,
            gid: 0,
            home: "/".to_owned(),
        }),
        None => passwd.iter().find(|e| e.name == user).cloned().ok_or_else(|| UserError::NoUser(user.to_owned()))?,
    };
    let gid = match group.filter(|g| !g.is_empty()) {
        None => entry.gid,
        Some(g) => match numeric(g, whole)? {
            Some(gid) => gid,
            None => {
                groups.iter().find(|e| e.name == g).map(|e| e.gid).ok_or_else(|| UserError::NoGroup(g.to_owned()))?
            }
        },
    };
    // Supplementary groups: only when no group was forced, as runc (the user's own groups).
    let mut extra = Vec::new();
    if group.is_none() && !entry.name.is_empty() {
        for g in groups.iter().filter(|g| g.members.contains(&entry.name)) {
            if g.gid != gid && !extra.contains(&g.gid) {
                extra.push(g.gid);
            }
        }
    }
    let home = if entry.home.is_empty() { "/".to_owned() } else { entry.home };
    Ok(ExecUser { uid: entry.uid, gid, groups: extra, home })
}

/// Read a file of the rootfs, resolved inside it (symlinks cannot leave it). Missing: empty.
fn read_in_rootfs(rootfs: &Path, path: &'static str) -> Result<String, UserError> {
    let err = |source| UserError::Read { path, source };
    let root = rustix::fs::open(rootfs, OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
        .map_err(|e| err(e.into()))?;
    read_in_root(root.as_fd(), path)
}

/// Read a file of the tree at `root`, resolved inside it (symlinks cannot leave it, magic
/// links are refused), up to 16 MiB, without blocking on a FIFO. Missing: empty.
fn read_in_root(root: BorrowedFd<'_>, path: &'static str) -> Result<String, UserError> {
    let err = |source| UserError::Read { path, source };
    let fd = match open_in_root(root, path, OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY) {
        Ok(fd) => fd,
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENOTDIR)) => return Ok(String::new()),
        Err(e) => return Err(err(e)),
    };
    // A device or FIFO the image put there (or links to) is not a passwd file.
    let st = rustix::fs::fstat(&fd).map_err(|e| err(e.into()))?;
    if rustix::fs::FileType::from_raw_mode(st.st_mode) != rustix::fs::FileType::RegularFile {
        return Err(err(io::Error::other("not a regular file")));
    }
    let mut text = Vec::new();
    io::Read::read_to_end(&mut io::Read::take(std::fs::File::from(fd), 16 << 20), &mut text).map_err(err)?;
    Ok(String::from_utf8_lossy(&text).into_owned())
}

/// Resolve the `-u` value `user` against `rootfs`'s `/etc/passwd` and `/etc/group`.
pub fn resolve_in_rootfs(rootfs: &Path, user: Option<&str>) -> Result<ExecUser, UserError> {
    let passwd = parse_passwd(&read_in_rootfs(rootfs, "/etc/passwd")?);
    let groups = parse_group(&read_in_rootfs(rootfs, "/etc/group")?);
    resolve(user, &passwd, &groups)
}

/// Resolve the `-u` value `user` against the `/etc/passwd` and `/etc/group` of the tree at
/// `root` (a run's root, inside the run).
pub fn resolve_in_root(root: BorrowedFd<'_>, user: Option<&str>) -> Result<ExecUser, UserError> {
    let passwd = parse_passwd(&read_in_root(root, "/etc/passwd")?);
    let groups = parse_group(&read_in_root(root, "/etc/group")?);
    resolve(user, &passwd, &groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n# comment\nbad line\nalice:x:1000:1000::/home/alice:/bin/sh\nbob:x:1001:100:Bob:/home/bob\nnohome:x:1002:1002::\n";
    const GROUP: &str = "root:x:0:\nusers:x:100:alice\nalice:x:1000:\nwheel:x:10:alice,bob\nstaff:x:50: bob \n";

    fn r(spec: Option<&str>) -> Result<(u32, u32, Vec<u32>, String), String> {
        resolve(spec, &parse_passwd(PASSWD), &parse_group(GROUP))
            .map(|u| (u.uid, u.gid, u.groups, u.home))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn user_table() {
        let ok = |uid, gid, groups: &[u32], home: &str| Ok((uid, gid, groups.to_vec(), home.to_owned()));
        assert_eq!(r(None), ok(0, 0, &[], "/root"));
        assert_eq!(r(Some("alice")), ok(1000, 1000, &[100, 10], "/home/alice"));
        assert_eq!(r(Some("bob")), ok(1001, 100, &[10, 50], "/home/bob"));
        assert_eq!(r(Some("1000")), ok(1000, 1000, &[100, 10], "/home/alice"));
        assert_eq!(r(Some("1000:1000")), ok(1000, 1000, &[], "/home/alice"));
        assert_eq!(r(Some("4242")), ok(4242, 0, &[], "/"));
        assert_eq!(r(Some("4242:4343")), ok(4242, 4343, &[], "/"));
        assert_eq!(r(Some("alice:wheel")), ok(1000, 10, &[], "/home/alice"));
        assert_eq!(r(Some("alice:7")), ok(1000, 7, &[], "/home/alice"));
        assert_eq!(r(Some(":10")), ok(0, 10, &[], "/root"));
        assert_eq!(r(Some("nohome")), ok(1002, 1002, &[], "/"));
        assert_eq!(r(Some("carol")), Err("unable to find user carol: no matching entries in passwd file".into()));
        assert_eq!(
            r(Some("alice:nogroup")),
            Err("unable to find group nogroup: no matching entries in group file".into())
        );
        assert!(r(Some("99999999999")).unwrap_err().contains("must be in range"));
        assert!(r(Some("1:4294967295")).unwrap_err().contains("must be in range"));
    }

    #[test]
    fn empty_files() {
        assert_eq!(
            resolve(Some("5:6"), &[], &[]).unwrap(),
            ExecUser { uid: 5, gid: 6, groups: vec![], home: "/".into() }
        );
        assert_eq!(resolve(None, &[], &[]).unwrap().home, "/");
        assert!(resolve(Some("x"), &[], &[]).is_err());
    }
}
