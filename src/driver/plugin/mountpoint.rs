//! A plugin's `Mountpoint`, checked before anything is bound from it, and opened once: what
//! is bound is the directory that was checked ([`Mountpoint::fd`]), never the path looked up
//! again.
//!
//! The rule (docs/drivers.md, "What a plugin may answer"):
//! - the text is an absolute, clean path: no empty, `.` or `..` component, no control or
//!   bidi character;
//! - it is not `/`, not a top-level directory (`/home`, `/var`, `/tmp`…), and not in a system
//!   tree (`/bin`, `/boot`, `/dev`, `/etc`, `/lib*`, `/proc`, `/sbin`, `/sys`, `/usr`);
//! - it is not myvol's store, inside it, or above it;
//! - it exists (myvol never creates it) and is reached from `/` without any symbolic link
//!   (`openat2` with `RESOLVE_NO_SYMLINKS`), as a directory;
//! - it is not the host's root directory (a bind of `/` elsewhere) or the store's, by inode;
//! - it is owned by root or by the uid that runs myvol (the plugin's peer is one of them), or
//!   it is the root of a mount (what a plugin mounts, FUSE with `uid=` say, shows any owner).

use std::ffi::OsStr;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags, StatxAttributes, StatxFlags};
use thiserror::Error;

use crate::text::{echo_path, errno_text, is_unprintable};

/// The top-level directories whose whole tree a plugin may not hand out.
pub const SYSTEM_TREES: [&str; 12] =
    ["bin", "boot", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "sbin", "sys", "usr"];

/// A plugin's mountpoint that passed the rule, open as an `O_PATH` directory fd.
#[derive(Debug)]
pub struct Mountpoint {
    path: PathBuf,
    fd: OwnedFd,
}

impl Mountpoint {
    /// The path, as the plugin answered it (clean and absolute).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The directory that was checked.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// The path and the directory's fd.
    pub fn into_parts(self) -> (PathBuf, OwnedFd) {
        (self.path, self.fd)
    }
}

/// Why a plugin's mountpoint is refused.
#[derive(Debug, Error)]
pub enum BadMountpoint {
    #[error("it is not an absolute path")]
    Relative,
    #[error("it is not a clean path (an empty, '.' or '..' component)")]
    NotClean,
    #[error("it holds control characters")]
    Control,
    #[error("it is /")]
    Root,
    #[error("it is a top-level directory")]
    TopLevel,
    #[error("it is in /{0}, a system directory")]
    SystemTree(&'static str),
    #[error("it is, holds or lies in myvol's store {}", echo_path(.0))]
    Store(PathBuf),
    #[error("it does not exist")]
    Missing,
    #[error("a component of it is a symbolic link")]
    Symlink,
    #[error("it is not a directory")]
    NotADirectory,
    #[error("it is the host's root directory")]
    RootInode,
    #[error("it is owned by uid {owner}, not by root or by uid {uid} who runs myvol, and is not the root of a mount")]
    Owner { owner: u32, uid: u32 },
    #[error("{}", errno_text(.0))]
    Io(#[source] io::Error),
}

/// Check the path a plugin answered and open it (see the module's rule). `store_root` is
/// myvol's store, which a plugin may not hand out.
pub fn open(text: &str, store_root: &Path) -> Result<Mountpoint, BadMountpoint> {
    let rel = check_text(text)?;
    let path = PathBuf::from(text);
    let store = std::fs::canonicalize(store_root).unwrap_or_else(|_| store_root.to_owned());
    if path.starts_with(&store) || store.starts_with(&path) {
        return Err(BadMountpoint::Store(store));
    }
    let root = rfs::open("/", OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
        .map_err(|e| BadMountpoint::Io(e.into()))?;
    let fd =
        crate::fsutil::open_beneath(root.as_fd(), OsStr::new(rel), OFlags::PATH | OFlags::DIRECTORY, Mode::empty())
            .map_err(|e| match e.raw_os_error() {
                Some(libc::ENOENT) => BadMountpoint::Missing,
                Some(libc::ELOOP) => BadMountpoint::Symlink,
                Some(libc::ENOTDIR) => BadMountpoint::NotADirectory,
                _ => BadMountpoint::Io(e),
            })?;
    let st = rfs::fstat(&fd).map_err(|e| BadMountpoint::Io(e.into()))?;
    if FileType::from_raw_mode(st.st_mode) != FileType::Directory {
        return Err(BadMountpoint::NotADirectory);
    }
    let same = |other: &rfs::Stat| other.st_dev == st.st_dev && other.st_ino == st.st_ino;
    if rfs::fstat(&root).is_ok_and(|r| same(&r)) {
        return Err(BadMountpoint::RootInode);
    }
    if rfs::stat(&store).is_ok_and(|s| same(&s)) {
        return Err(BadMountpoint::Store(store));
    }
    let uid = rustix::process::geteuid().as_raw();
    if st.st_uid != 0 && st.st_uid != uid && !is_mount_root(fd.as_fd()) {
        return Err(BadMountpoint::Owner { owner: st.st_uid, uid });
    }
    Ok(Mountpoint { path, fd })
}

/// The lexical half of the rule; the path relative to `/`.
fn check_text(text: &str) -> Result<&str, BadMountpoint> {
    if text.chars().any(|c| is_unprintable(c) || c == '\0') {
        return Err(BadMountpoint::Control);
    }
    let Some(rel) = text.strip_prefix('/') else {
        return Err(BadMountpoint::Relative);
    };
    if rel.is_empty() {
        return Err(BadMountpoint::Root);
    }
    let comps: Vec<&str> = rel.split('/').collect();
    if comps.iter().any(|c| c.is_empty() || *c == "." || *c == "..") {
        return Err(BadMountpoint::NotClean);
    }
    if let Some(tree) = SYSTEM_TREES.iter().find(|t| **t == comps[0]) {
        return Err(BadMountpoint::SystemTree(tree));
    }
    if comps.len() == 1 {
        return Err(BadMountpoint::TopLevel);
    }
    Ok(rel)
}

/// Whether `fd` is the root of a mount (`STATX_ATTR_MOUNT_ROOT`); `false` when unknown.
fn is_mount_root(fd: BorrowedFd<'_>) -> bool {
    rfs::statx(fd, "", AtFlags::EMPTY_PATH, StatxFlags::BASIC_STATS).is_ok_and(|st| {
        st.stx_attributes_mask.contains(StatxAttributes::MOUNT_ROOT)
            && st.stx_attributes.contains(StatxAttributes::MOUNT_ROOT)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexical_rule() {
        let ok = ["/var/lib/docker-volumes/rclone/v", "/srv/x", "/home/u/.local/share/vols/a", "/run/p/v"];
        for p in ok {
            assert!(check_text(p).is_ok(), "{p}");
        }
        let bad: &[(&str, &str)] = &[
            ("relative/x", "it is not an absolute path"),
            ("", "it is not an absolute path"),
            ("/", "it is /"),
            ("//", "it is not a clean path (an empty, '.' or '..' component)"),
            ("/srv//x", "it is not a clean path (an empty, '.' or '..' component)"),
            ("/srv/x/", "it is not a clean path (an empty, '.' or '..' component)"),
            ("/srv/./x", "it is not a clean path (an empty, '.' or '..' component)"),
            ("/srv/x/..", "it is not a clean path (an empty, '.' or '..' component)"),
            ("/srv/x\ny", "it holds control characters"),
            ("/srv/\u{202e}x", "it holds control characters"),
            ("/srv/x\0", "it holds control characters"),
            ("/etc", "it is in /etc, a system directory"),
            ("/etc/ssl", "it is in /etc, a system directory"),
            ("/usr/local/x", "it is in /usr, a system directory"),
            ("/proc/1/root", "it is in /proc, a system directory"),
            ("/lib64/x", "it is in /lib64, a system directory"),
            ("/home", "it is a top-level directory"),
            ("/tmp", "it is a top-level directory"),
            ("/root", "it is a top-level directory"),
        ];
        for (p, why) in bad {
            assert_eq!(check_text(p).unwrap_err().to_string(), *why, "{p:?}");
        }
    }

    #[test]
    fn filesystem_rule() {
        let t = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(t.path()).unwrap();
        let store = base.join("store");
        let vol = base.join("vols/v");
        std::fs::create_dir_all(&vol).unwrap();
        std::fs::create_dir_all(store.join("volumes")).unwrap();
        std::fs::write(base.join("file"), "").unwrap();
        std::os::unix::fs::symlink(&vol, base.join("link")).unwrap();
        let s = |p: &Path| p.to_str().unwrap().to_owned();

        let mp = open(&s(&vol), &store).unwrap();
        assert_eq!(mp.path(), vol);
        assert_eq!(
            rfs::fstat(mp.fd()).unwrap().st_ino,
            std::fs::metadata(&vol)
                .map(|m| {
                    use std::os::unix::fs::MetadataExt;
                    m.ino()
                })
                .unwrap()
        );

        let why = |p: &Path| open(&s(p), &store).unwrap_err().to_string();
        assert_eq!(why(&base.join("missing")), "it does not exist");
        assert!(!base.join("missing").exists(), "never created");
        assert_eq!(why(&base.join("file")), "it is not a directory");
        assert_eq!(why(&base.join("link")), "a component of it is a symbolic link");
        assert_eq!(why(&base.join("link/deeper")), "a component of it is a symbolic link");
        let in_store = format!("it is, holds or lies in myvol's store {}", store.display());
        assert_eq!(why(&store), in_store);
        assert_eq!(why(&store.join("volumes")), in_store);
        assert_eq!(why(&base), in_store);
    }
}
