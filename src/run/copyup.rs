//! Copy-up: populate an empty volume with what the image has at the mount target (Docker's
//! `copyExistingContents`). Both trees are walked by file descriptor: every entry is opened
//! relative to its parent with `O_NOFOLLOW`, checked with `fstat` to be the type that was
//! listed, and symlinks are copied as links (`readlinkat` + `symlinkat`), never followed.
//! Owners, modes, times and extended attributes are kept; hard links within the tree stay
//! hard links; the walk does not cross mount points.

use std::collections::HashMap;
use std::ffi::{CString, OsStr};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags, Timespec, Timestamps, XattrFlags};
use rustix::io::Errno;

use crate::fsutil;

/// Whether a directory has no entry at all (a single hidden file counts, as in Docker).
pub fn is_empty_dir(dir: BorrowedFd<'_>) -> io::Result<bool> {
    Ok(fsutil::list_dir(dir)?.is_empty())
}

/// Copy the content of `src` into `dst` (both directories opened for reading), then give
/// `dst` the owner and mode of `src`.
pub fn copy_up(src: BorrowedFd<'_>, dst: BorrowedFd<'_>) -> io::Result<()> {
    let dev = rfs::fstat(src)?.st_dev;
    let mut links = HashMap::new();
    copy_dir(src, dst, dev, &mut links, 0)?;
    let st = rfs::fstat(src)?;
    owner_ok(rfs::fchown(dst, Some(rfs::Uid::from_raw(st.st_uid)), Some(rfs::Gid::from_raw(st.st_gid))))?;
    rfs::fchmod(dst, Mode::from_raw_mode(st.st_mode & 0o7777))?;
    Ok(())
}

/// A chown that may fail in a user namespace: an owner that is not mapped there (shown as
/// the overflow id) cannot be given (`EINVAL`, `EPERM`). The copy then keeps the ids the
/// kernel gave it (the run's root), as moby does in a user namespace.
fn owner_ok(r: rustix::io::Result<()>) -> io::Result<()> {
    match r {
        Err(Errno::INVAL | Errno::PERM) if !rustix::process::geteuid().is_root() || in_user_namespace() => Ok(()),
        r => Ok(r?),
    }
}

/// Whether this process is in a user namespace other than the initial one.
fn in_user_namespace() -> bool {
    std::fs::read_to_string("/proc/self/uid_map")
        .map(|m| m.split_whitespace().collect::<Vec<_>>() != ["0", "0", "4294967295"])
        .unwrap_or(false)
}

fn open_dir_nofollow(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<OwnedFd> {
    Ok(rfs::openat(dir, name, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC, Mode::empty())?)
}

fn copy_dir(
    src: BorrowedFd<'_>,
    dst: BorrowedFd<'_>,
    dev: u64,
    links: &mut HashMap<(u64, u64), (OwnedFd, CString)>,
    depth: usize,
) -> io::Result<()> {
    if depth > 1024 {
        return Err(io::Error::other("directory tree too deep to copy"));
    }
    for (name, _) in fsutil::list_dir(src)? {
        let name = OsStr::from_bytes(&name);
        let st = match rfs::statat(src, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => st,
            Err(Errno::NOENT) => continue,
            Err(e) => return Err(e.into()),
        };
        let ftype = FileType::from_raw_mode(st.st_mode);
        let perm = Mode::from_raw_mode(st.st_mode & 0o7777);
        let times = Timestamps {
            last_access: Timespec { tv_sec: st.st_atime as _, tv_nsec: st.st_atime_nsec as _ },
            last_modification: Timespec { tv_sec: st.st_mtime as _, tv_nsec: st.st_mtime_nsec as _ },
        };
        let owner = (Some(rfs::Uid::from_raw(st.st_uid)), Some(rfs::Gid::from_raw(st.st_gid)));
        if ftype != FileType::Directory && st.st_nlink > 1 {
            if let Some((dir, first)) = links.get(&(st.st_dev, st.st_ino)) {
                rfs::linkat(dir, first.as_c_str(), dst, name, AtFlags::empty())?;
                continue;
            }
        }
        match ftype {
            FileType::Directory => {
                if st.st_dev != dev {
                    continue; // a mount point inside the image tree: not the image's content
                }
                rfs::mkdirat(dst, name, Mode::from_raw_mode(0o700))?;
                let s = open_dir_nofollow(src, name)?;
                let d = open_dir_nofollow(dst, name)?;
                copy_dir(s.as_fd(), d.as_fd(), dev, links, depth + 1)?;
                copy_xattrs(s.as_fd(), d.as_fd());
                owner_ok(rfs::fchown(&d, owner.0, owner.1))?;
                rfs::fchmod(&d, perm)?;
                rfs::futimens(&d, &times)?;
            }
            FileType::RegularFile => {
                let s = rfs::openat(
                    src,
                    name,
                    OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
                    Mode::empty(),
                )?;
                let sst = rfs::fstat(&s)?;
                if FileType::from_raw_mode(sst.st_mode) != FileType::RegularFile || sst.st_ino != st.st_ino {
                    return Err(io::Error::other(format!("{} changed while being copied", name.to_string_lossy())));
                }
                let d = rfs::openat(
                    dst,
                    name,
                    OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::from_raw_mode(0o600),
                )?;
                let mut sf = std::fs::File::from(s);
                let mut df = std::fs::File::from(d);
                io::copy(&mut sf, &mut df)?;
                copy_xattrs(sf.as_fd(), df.as_fd());
                owner_ok(rfs::fchown(&df, owner.0, owner.1))?;
                rfs::fchmod(&df, perm)?;
                rfs::futimens(&df, &times)?;
                if st.st_nlink > 1 {
                    let dupd =
                        rfs::openat(dst, c".", OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())?;
                    links.insert((st.st_dev, st.st_ino), (dupd, CString::new(name.as_bytes()).unwrap_or_default()));
                }
            }
            FileType::Symlink => {
                let target = rfs::readlinkat(src, name, Vec::new())?;
                rfs::symlinkat(target.as_c_str(), dst, name)?;
                owner_ok(rfs::chownat(dst, name, owner.0, owner.1, AtFlags::SYMLINK_NOFOLLOW))?;
                rfs::utimensat(dst, name, &times, AtFlags::SYMLINK_NOFOLLOW)?;
            }
            FileType::Fifo | FileType::CharacterDevice | FileType::BlockDevice => {
                rfs::mknodat(dst, name, ftype, perm, st.st_rdev)?;
                owner_ok(rfs::chownat(dst, name, owner.0, owner.1, AtFlags::SYMLINK_NOFOLLOW))?;
                rfs::chmodat(dst, name, perm, AtFlags::empty())?;
                rfs::utimensat(dst, name, &times, AtFlags::SYMLINK_NOFOLLOW)?;
            }
            // Sockets and unknown types carry no content.
            _ => {}
        }
    }
    Ok(())
}

/// Copy the extended attributes of one open file to another. Attributes the destination
/// does not support (or that we may not set) are skipped, as Docker does.
fn copy_xattrs(src: BorrowedFd<'_>, dst: BorrowedFd<'_>) {
    let mut names = vec![0u8; 64 * 1024];
    let Ok(n) = rfs::flistxattr(src, &mut names) else {
        return;
    };
    for name in names[..n].split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let Ok(cname) = CString::new(name) else { continue };
        let mut value = vec![0u8; 64 * 1024];
        let Ok(len) = rfs::fgetxattr(src, cname.as_c_str(), &mut value) else {
            continue;
        };
        let _ = rfs::fsetxattr(dst, cname.as_c_str(), &value[..len], XattrFlags::empty());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};

    fn open(p: &std::path::Path) -> OwnedFd {
        rfs::open(p, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty()).unwrap()
    }

    #[test]
    fn copies_tree_links_and_modes_without_following() {
        let t = tempfile::tempdir().unwrap();
        let (src, dst, outside) = (t.path().join("src"), t.path().join("dst"), t.path().join("outside"));
        std::fs::create_dir_all(src.join("sub")).unwrap();
        std::fs::create_dir_all(&dst).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("secret"), "host").unwrap();
        std::fs::write(src.join("sub/f"), "data").unwrap();
        std::fs::hard_link(src.join("sub/f"), src.join("hard")).unwrap();
        symlink(&outside, src.join("escape")).unwrap();
        std::fs::set_permissions(src.join("sub"), std::fs::Permissions::from_mode(0o750)).unwrap();
        std::fs::set_permissions(&src, std::fs::Permissions::from_mode(0o1777)).unwrap();
        let (s, d) = (open(&src), open(&dst));
        assert!(is_empty_dir(d.as_fd()).unwrap());
        copy_up(s.as_fd(), d.as_fd()).unwrap();
        assert_eq!(std::fs::read_to_string(dst.join("sub/f")).unwrap(), "data");
        assert_eq!(std::fs::read_link(dst.join("escape")).unwrap(), outside);
        assert_eq!(dst.join("sub").metadata().unwrap().mode() & 0o7777, 0o750);
        assert_eq!(dst.metadata().unwrap().mode() & 0o7777, 0o1777);
        assert_eq!(dst.join("hard").metadata().unwrap().ino(), dst.join("sub/f").metadata().unwrap().ino());
        assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 1);
    }
}
