//! Who may answer for a plugin. A plugin is trusted with what myvol binds into a run, so its
//! socket and spec file must be out of other users' reach, and whoever answers on the socket
//! must be root or myvol's own user:
//!
//! - **Files.** A spec file, and the socket found in a socket directory or named by a spec,
//!   are checked along their whole path from `/`, one component at a time, opened with
//!   `O_NOFOLLOW` (the checked path is the canonical one, so a symlink on the way is checked
//!   where it leads). Every directory is owned by root or by the uid that runs myvol; the one
//!   holding the file is writable by nobody else (no group or other write bit: a sticky
//!   directory such as `/tmp` would still let another user create the name while it is
//!   free); a directory above it may be writable by others only if it is sticky (`/tmp`), so
//!   what lies below cannot be renamed away. The spec file itself is a regular file owned by
//!   root or that uid, writable by nobody else; the socket is owned by root or that uid and
//!   not writable by every user (group-writable is fine: rclone's socket is `0660`).
//! - **Peer.** On every connection, before a byte is sent, the peer's credentials
//!   (`SO_PEERCRED`) must be root's or those of the uid that runs myvol ([`peer_allowed`]): a
//!   socket squatted by another user is refused, whatever its file looks like.
//! - **TCP.** A peer on TCP cannot be checked, so a spec file's `tcp://` address is used only
//!   for the plugins `MYVOL_PLUGIN_TCP` names (see [`super::Registry`]).

use std::ffi::OsStr;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

use rustix::fs::{self as rfs, FileType, Mode, OFlags};
use thiserror::Error;

use crate::text::{echo_path, errno_text};

/// Why a plugin's file is not trusted.
#[derive(Debug, Error)]
pub enum Untrusted {
    #[error("{} is owned by uid {owner}, not by root or by uid {uid} who runs myvol", echo_path(path))]
    Owner { path: PathBuf, owner: u32, uid: u32 },
    #[error("{} is writable by other users (mode {mode:04o})", echo_path(path))]
    Writable { path: PathBuf, mode: u32 },
    #[error("{} is not a {expected}", echo_path(path))]
    Kind { path: PathBuf, expected: &'static str },
    #[error("{}: {}", echo_path(path), errno_text(source))]
    Io { path: PathBuf, source: io::Error },
}

/// The uid myvol runs as.
fn own_uid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// Whether a process of uid `uid` may answer for a plugin: root, or myvol's own user.
pub fn peer_allowed(uid: u32) -> bool {
    uid == 0 || uid == own_uid()
}

/// What a checked file must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Leaf {
    Spec,
    Socket,
}

/// Read a spec file found at `path`, after checking it and every directory above it. What is
/// read is the very file that was checked.
pub fn read_spec(path: &Path) -> Result<Vec<u8>, Untrusted> {
    let (dir, leaf, real) = walk(path)?;
    let io = |source| Untrusted::Io { path: real.clone(), source };
    let fd = crate::fsutil::open_beneath(
        dir.as_fd(),
        &leaf,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY,
        Mode::empty(),
    )
    .map_err(io)?;
    check_leaf(fd.as_fd(), &real, Leaf::Spec)?;
    crate::fsutil::read_fd(fd.as_fd()).map_err(io)
}

/// Check a socket at `path` (found in a socket directory, or named by a spec file), and the
/// directories above it. A socket that does not exist yet (its plugin is starting) passes if
/// its directories do: the peer check on connection still applies.
pub fn check_socket(path: &Path) -> Result<(), Untrusted> {
    let (dir, leaf, real) = walk(path)?;
    match crate::fsutil::open_beneath(dir.as_fd(), &leaf, OFlags::PATH, Mode::empty()) {
        Ok(fd) => check_leaf(fd.as_fd(), &real, Leaf::Socket),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(()),
        Err(source) => Err(Untrusted::Io { path: real, source }),
    }
}

/// Resolve `path` to its canonical form (its directory, when the file itself is missing) and
/// walk it from `/`, checking each directory; the directory holding the file, the file's name
/// and the canonical path.
fn walk(path: &Path) -> Result<(OwnedFd, std::ffi::OsString, PathBuf), Untrusted> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| Untrusted::Io { path, source }
    };
    let (parent, name) = match (path.parent(), path.file_name()) {
        (Some(p), Some(n)) => (p, n),
        _ => return Err(Untrusted::Kind { path: path.to_owned(), expected: "file" }),
    };
    // The file may be a symlink to elsewhere: the canonical path of the file if it exists,
    // else of its directory.
    let real = match std::fs::canonicalize(path) {
        Ok(r) => r,
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
            std::fs::canonicalize(parent).map_err(io(parent))?.join(name)
        }
        Err(e) => return Err(io(path)(e)),
    };
    let leaf = real.file_name().map(OsStr::to_owned).unwrap_or_default();
    let dirs: Vec<&OsStr> = real
        .parent()
        .unwrap_or(Path::new("/"))
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n),
            _ => None,
        })
        .collect();
    let mut here = PathBuf::from("/");
    let mut fd = rfs::open("/", OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
        .map_err(|e| io(&here)(e.into()))?;
    for (i, c) in std::iter::once(None).chain(dirs.iter().map(Some)).enumerate() {
        if let Some(c) = c {
            here.push(c);
            fd = rfs::openat(
                &fd,
                *c,
                OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| io(&here)(e.into()))?;
        }
        check_dir(fd.as_fd(), &here, i == dirs.len())?;
    }
    Ok((fd, leaf, real))
}

/// A directory on the way to a plugin's file: owned by root or myvol's user; writable by
/// others only if sticky, and not at all when it `holds` the file.
fn check_dir(fd: BorrowedFd<'_>, path: &Path, holds: bool) -> Result<(), Untrusted> {
    let st = rfs::fstat(fd).map_err(|e| Untrusted::Io { path: path.to_owned(), source: e.into() })?;
    check_owner(path, st.st_uid)?;
    let mode = st.st_mode & 0o7777;
    let others_write = mode & 0o022 != 0;
    let sticky = mode & 0o1000 != 0;
    if others_write && (holds || !sticky) {
        return Err(Untrusted::Writable { path: path.to_owned(), mode });
    }
    Ok(())
}

fn check_owner(path: &Path, owner: u32) -> Result<(), Untrusted> {
    if owner == 0 || owner == own_uid() {
        Ok(())
    } else {
        Err(Untrusted::Owner { path: path.to_owned(), owner, uid: own_uid() })
    }
}

/// The spec file or socket itself.
fn check_leaf(fd: BorrowedFd<'_>, path: &Path, leaf: Leaf) -> Result<(), Untrusted> {
    let st = rfs::fstat(fd).map_err(|e| Untrusted::Io { path: path.to_owned(), source: e.into() })?;
    let (kind, expected, forbidden) = match leaf {
        Leaf::Spec => (FileType::RegularFile, "regular file", 0o022),
        Leaf::Socket => (FileType::Socket, "socket", 0o002),
    };
    if FileType::from_raw_mode(st.st_mode) != kind {
        return Err(Untrusted::Kind { path: path.to_owned(), expected });
    }
    check_owner(path, st.st_uid)?;
    let mode = st.st_mode & 0o7777;
    if mode & forbidden != 0 {
        return Err(Untrusted::Writable { path: path.to_owned(), mode });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn chmod(p: &Path, mode: u32) {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn spec_files_and_their_directories() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("plugins");
        std::fs::create_dir(&d).unwrap();
        chmod(&d, 0o755);
        let spec = d.join("p.spec");
        std::fs::write(&spec, "unix:///run/p.sock\n").unwrap();
        chmod(&spec, 0o644);
        assert_eq!(read_spec(&spec).unwrap(), b"unix:///run/p.sock\n");
        // A symlink to it is checked where it leads.
        std::os::unix::fs::symlink(&spec, t.path().join("link.spec")).unwrap();
        assert_eq!(read_spec(&t.path().join("link.spec")).unwrap(), b"unix:///run/p.sock\n");
        // Writable by others: the file, or the directory holding it (even sticky).
        for (path, mode) in [(&spec, 0o666), (&spec, 0o664), (&d, 0o777), (&d, 0o1777), (&d, 0o775)] {
            chmod(path, mode);
            let e = read_spec(&spec).unwrap_err();
            assert!(matches!(e, Untrusted::Writable { .. }), "{path:?} {mode:o}: {e}");
            chmod(&spec, 0o644);
            chmod(&d, 0o755);
        }
        // A world-writable directory above is fine only when sticky.
        let above = t.path();
        let inner = above.join("inner");
        std::fs::create_dir(&inner).unwrap();
        let spec2 = inner.join("q.spec");
        std::fs::write(&spec2, "x").unwrap();
        chmod(&spec2, 0o644);
        chmod(&inner, 0o755);
        chmod(above, 0o1777);
        assert!(read_spec(&spec2).is_ok());
        chmod(above, 0o777);
        assert!(matches!(read_spec(&spec2).unwrap_err(), Untrusted::Writable { .. }));
        chmod(above, 0o700);
        // A FIFO is not a spec file (and does not hang the reader).
        let fifo = d.join("f.spec");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
        assert!(matches!(read_spec(&fifo).unwrap_err(), Untrusted::Kind { .. }));
    }

    #[test]
    fn sockets() {
        let t = tempfile::tempdir().unwrap();
        let sock = t.path().join("p.sock");
        // Missing: the directories decide.
        assert!(check_socket(&sock).is_ok());
        let _l = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        chmod(&sock, 0o660);
        assert!(check_socket(&sock).is_ok());
        chmod(&sock, 0o666);
        assert!(matches!(check_socket(&sock).unwrap_err(), Untrusted::Writable { .. }));
        chmod(&sock, 0o755);
        let file = t.path().join("plain");
        std::fs::write(&file, "").unwrap();
        assert!(matches!(check_socket(&file).unwrap_err(), Untrusted::Kind { .. }));
    }

    #[test]
    fn peers() {
        assert!(peer_allowed(0));
        assert!(peer_allowed(own_uid()));
        assert!(!peer_allowed(own_uid().wrapping_add(12345)));
    }
}
