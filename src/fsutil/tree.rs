//! Whole trees beneath a directory fd: removal, ownership and apparent size, walked without
//! following a symlink or crossing a mount point.

use std::ffi::OsStr;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;

use super::list_dir;

/// Remove the tree `name` inside `parent`: every entry unlinked relative to its own directory
/// fd, symlinks removed and never followed, and no mount point crossed. A directory on
/// another filesystem (something mounted inside the tree) is left alone and reported as
/// `EBUSY`, so a bind-mounted host directory can never be emptied by a removal.
/// Entries that vanish while we work are fine.
pub fn remove_tree(parent: BorrowedFd<'_>, name: &OsStr) -> io::Result<()> {
    let st = match rfs::statat(parent, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => st,
        Err(Errno::NOENT) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    if FileType::from_raw_mode(st.st_mode) != FileType::Directory {
        return unlink_ok_if_gone(parent, name, AtFlags::empty());
    }
    let parent_dev = rfs::fstat(parent)?.st_dev;
    if st.st_dev != parent_dev {
        return Err(io::Error::new(io::ErrorKind::ResourceBusy, "a filesystem is mounted inside the tree"));
    }
    let dir = match rfs::openat(
        parent,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(Errno::NOENT) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    empty_dir(dir.as_fd(), st.st_dev, 0)?;
    drop(dir);
    unlink_ok_if_gone(parent, name, AtFlags::REMOVEDIR)
}

/// Give the directory `dir` and everything beneath it the owner `uid:gid` (podman's `U`),
/// relative to directory fds: entries are changed with `fchownat(AT_SYMLINK_NOFOLLOW)`, so a
/// symlink itself is changed and never followed, directories are entered with `O_NOFOLLOW`,
/// and nothing on another filesystem (something mounted inside) is touched. Entries that
/// already have that owner are left as they are; entries that vanish meanwhile are fine.
/// Returns how many entries were changed.
pub fn chown_tree(dir: BorrowedFd<'_>, uid: u32, gid: u32) -> io::Result<u64> {
    let st = rfs::fstat(dir)?;
    let mut changed = 0;
    if (st.st_uid, st.st_gid) != (uid, gid) {
        rfs::fchown(dir, Some(rfs::Uid::from_raw(uid)), Some(rfs::Gid::from_raw(gid)))?;
        changed += 1;
    }
    chown_below(dir, st.st_dev, uid, gid, 0, &mut changed)?;
    Ok(changed)
}

fn chown_below(dir: BorrowedFd<'_>, dev: u64, uid: u32, gid: u32, depth: usize, changed: &mut u64) -> io::Result<()> {
    if depth > 4096 {
        return Err(io::Error::other("directory tree too deep"));
    }
    for (name, _) in list_dir(dir)? {
        let name = OsStr::from_bytes(&name);
        let st = match rfs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => st,
            Err(Errno::NOENT) => continue,
            Err(e) => return Err(e.into()),
        };
        if st.st_dev != dev {
            continue;
        }
        if (st.st_uid, st.st_gid) != (uid, gid) {
            match rfs::chownat(
                dir,
                name,
                Some(rfs::Uid::from_raw(uid)),
                Some(rfs::Gid::from_raw(gid)),
                AtFlags::SYMLINK_NOFOLLOW,
            ) {
                Ok(()) => *changed += 1,
                Err(Errno::NOENT) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        if FileType::from_raw_mode(st.st_mode) == FileType::Directory {
            let sub = match rfs::openat(
                dir,
                name,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            ) {
                Ok(fd) => fd,
                Err(Errno::NOENT) => continue,
                Err(e) => return Err(e.into()),
            };
            // Swapped for another directory between the stat and the open: not entered.
            let now = rfs::fstat(&sub)?;
            if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino) {
                continue;
            }
            chown_below(sub.as_fd(), dev, uid, gid, depth + 1, changed)?;
        }
    }
    Ok(())
}

fn empty_dir(dir: BorrowedFd<'_>, dev: u64, depth: usize) -> io::Result<()> {
    if depth > 4096 {
        return Err(io::Error::other("directory tree too deep"));
    }
    // Directories we cannot enter because of their mode get fixed once: we own the store.
    for (name, ftype) in list_dir(dir)? {
        let name = OsStr::from_bytes(&name);
        if ftype == FileType::Directory || ftype == FileType::Unknown {
            let st = match rfs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(st) => st,
                Err(Errno::NOENT) => continue,
                Err(e) => return Err(e.into()),
            };
            if FileType::from_raw_mode(st.st_mode) == FileType::Directory {
                if st.st_dev != dev {
                    return Err(io::Error::new(io::ErrorKind::ResourceBusy, "a filesystem is mounted inside the tree"));
                }
                let sub = open_subdir_for_removal(dir, name)?;
                if let Some(sub) = sub {
                    empty_dir(sub.as_fd(), dev, depth + 1)?;
                }
                unlink_ok_if_gone(dir, name, AtFlags::REMOVEDIR)?;
                continue;
            }
        }
        unlink_ok_if_gone(dir, name, AtFlags::empty())?;
    }
    Ok(())
}

fn open_subdir_for_removal(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<Option<OwnedFd>> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    match rfs::openat(dir, name, flags, Mode::empty()) {
        Ok(fd) => Ok(Some(fd)),
        Err(Errno::NOENT) => Ok(None),
        Err(Errno::ACCESS) => {
            // A directory made unreadable (mode 000) inside a volume: as its owner, open it up.
            let path_fd = rfs::openat(
                dir,
                name,
                OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )?;
            rfs::chmodat(dir, name, Mode::from_raw_mode(0o700), AtFlags::empty())?;
            drop(path_fd);
            Ok(Some(rfs::openat(dir, name, flags, Mode::empty())?))
        }
        Err(e) => Err(e.into()),
    }
}

fn unlink_ok_if_gone(dir: BorrowedFd<'_>, name: &OsStr, flags: AtFlags) -> io::Result<()> {
    match rfs::unlinkat(dir, name, flags) {
        Ok(()) | Err(Errno::NOENT) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Disk usage as Docker counts it for volumes: the apparent size (st_size) of every entry
/// that is not a directory, hard links counted once; the walk does not follow symlinks and
/// does not cross mount points. Unreadable subdirectories are skipped.
pub fn apparent_size(dir: BorrowedFd<'_>) -> io::Result<u64> {
    let dev = rfs::fstat(dir)?.st_dev;
    let mut seen = std::collections::HashSet::new();
    let mut total = 0u64;
    size_walk(dir, dev, &mut seen, &mut total, 0)?;
    Ok(total)
}

fn size_walk(
    dir: BorrowedFd<'_>,
    dev: u64,
    seen: &mut std::collections::HashSet<(u64, u64)>,
    total: &mut u64,
    depth: usize,
) -> io::Result<()> {
    if depth > 4096 {
        return Ok(());
    }
    for (name, _) in list_dir(dir)? {
        let name = OsStr::from_bytes(&name);
        let st = match rfs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => st,
            Err(_) => continue,
        };
        if FileType::from_raw_mode(st.st_mode) == FileType::Directory {
            if st.st_dev != dev {
                continue;
            }
            if let Ok(sub) = rfs::openat(
                dir,
                name,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            ) {
                size_walk(sub.as_fd(), dev, seen, total, depth + 1)?;
            }
            continue;
        }
        if st.st_nlink > 1 && !seen.insert((st.st_dev, st.st_ino)) {
            continue;
        }
        *total += st.st_size as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn chown_tree_changes_the_tree_and_never_follows_a_link() {
        use std::os::unix::fs::MetadataExt;
        let t = tempfile::tempdir().unwrap();
        let (tree, outside) = (t.path().join("tree"), t.path().join("outside"));
        std::fs::create_dir_all(tree.join("a/b")).unwrap();
        std::fs::write(tree.join("a/b/f"), "x").unwrap();
        std::fs::write(&outside, "host").unwrap();
        symlink(&outside, tree.join("link")).unwrap();
        symlink(t.path(), tree.join("a/dirlink")).unwrap();
        let me = (rustix::process::geteuid().as_raw(), rustix::process::getegid().as_raw());
        // As root, another owner; otherwise our own (all a user may give).
        let to = if me.0 == 0 { (4321, 4321) } else { me };
        let dir = rfs::open(&tree, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty()).unwrap();
        let changed = chown_tree(dir.as_fd(), to.0, to.1).unwrap();
        let owner = |p: &std::path::Path| {
            let m = std::fs::symlink_metadata(p).unwrap();
            (m.uid(), m.gid())
        };
        for p in ["", "a", "a/b", "a/b/f", "link", "a/dirlink"] {
            assert_eq!(owner(&tree.join(p)), to, "{p}");
        }
        assert_eq!(owner(&outside), me, "a link's target is not touched");
        assert_eq!(owner(t.path()), me);
        if me.0 == 0 {
            assert_eq!(changed, 6);
            assert_eq!(chown_tree(dir.as_fd(), to.0, to.1).unwrap(), 0, "what has the owner is left alone");
        }
    }

    fn open(p: &std::path::Path) -> OwnedFd {
        rfs::open(p, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty()).unwrap()
    }

    #[test]
    fn remove_tree_removes_everything_and_follows_no_link() {
        let t = tempfile::tempdir().unwrap();
        let outside = t.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::fs::write(outside.join("keep"), "x").unwrap();
        let victim = t.path().join("victim");
        std::fs::create_dir_all(victim.join("a/b/c")).unwrap();
        std::fs::write(victim.join("a/b/c/f"), "data").unwrap();
        symlink(&outside, victim.join("a/link")).unwrap();
        symlink(outside.join("keep"), victim.join("filelink")).unwrap();
        let parent = open(t.path());
        remove_tree(parent.as_fd(), OsStr::new("victim")).unwrap();
        assert!(!victim.exists());
        assert_eq!(std::fs::read_to_string(outside.join("keep")).unwrap(), "x");
        // Removing what is already gone is fine.
        remove_tree(parent.as_fd(), OsStr::new("victim")).unwrap();
    }

    #[test]
    fn apparent_size_counts_hard_links_once_and_skips_dirs() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir(t.path().join("d")).unwrap();
        std::fs::write(t.path().join("d/a"), vec![0u8; 1000]).unwrap();
        std::fs::hard_link(t.path().join("d/a"), t.path().join("b")).unwrap();
        std::fs::write(t.path().join("c"), vec![0u8; 24]).unwrap();
        symlink("d/a", t.path().join("l")).unwrap(); // 3 bytes of link target
        let fd = open(t.path());
        assert_eq!(apparent_size(fd.as_fd()).unwrap(), 1000 + 24 + 3);
    }
}
