//! Paths inside the run's root, resolved by file descriptor.
//!
//! Every lookup of a path that the rootfs (or a volume) controls goes through `openat2(2)`
//! with `RESOLVE_IN_ROOT`: the root fd acts as `/`, so absolute symlinks and `..` are clamped
//! to it, exactly as the process will see them after `pivot_root`. A rootfs symlink
//! `/data -> /etc` therefore leads to the rootfs's `/etc`, never to the host's. Missing
//! directories are created one component at a time relative to the fd of their parent, and
//! each new component is reopened with symlinks refused, so a swap between `mkdirat` and the
//! next step is an error, not an escape.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

/// The components of an absolute container path, `.` and empty ones dropped. `..` is
/// refused (`EINVAL`): the planner gives cleaned paths, and refusing keeps creation simple.
pub fn components(path: &str) -> io::Result<Vec<&str>> {
    let mut out = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => return Err(io::Error::from(Errno::INVAL)),
            c => out.push(c),
        }
    }
    Ok(out)
}

fn openat2_retry(dir: BorrowedFd<'_>, path: &str, flags: OFlags, resolve: ResolveFlags) -> io::Result<OwnedFd> {
    let path = if path.is_empty() { "." } else { path };
    for _ in 0..64 {
        match rfs::openat2(dir, path, flags | OFlags::CLOEXEC, Mode::empty(), resolve) {
            // A concurrent rename or mount might have broken the guarantee: try again.
            Err(Errno::AGAIN) => continue,
            other => return other.map_err(io::Error::from),
        }
    }
    Err(io::Error::from(Errno::AGAIN))
}

/// Open `path` (absolute, as the process will see it) inside `root`, with chroot semantics.
pub fn open_in_root(root: BorrowedFd<'_>, path: &str, flags: OFlags) -> io::Result<OwnedFd> {
    let rel = components(path)?.join("/");
    openat2_retry(root, &rel, flags, ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS)
}

/// Open one component of `dir` refusing any symlink.
fn open_child_nofollow(dir: BorrowedFd<'_>, name: &str, flags: OFlags) -> io::Result<OwnedFd> {
    openat2_retry(
        dir,
        name,
        flags | OFlags::NOFOLLOW,
        ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS,
    )
}

/// `mkdir -p` inside `root`: the longest existing prefix is resolved in-root (following the
/// rootfs's symlinks as the process would), the rest is created with `mkdirat` relative to
/// it. Returns an `O_PATH` fd of the directory.
pub fn mkdir_all_in_root(root: BorrowedFd<'_>, path: &str, mode: u32) -> io::Result<OwnedFd> {
    let dirflags = OFlags::PATH | OFlags::DIRECTORY;
    let (mut base, missing) = longest_prefix(root, path, dirflags)?;
    for c in &missing {
        match rfs::mkdirat(&base, *c, Mode::from_raw_mode(mode)) {
            Ok(()) | Err(Errno::EXIST) => {}
            Err(e) => return Err(e.into()),
        }
        base = open_child_nofollow(base.as_fd(), c, dirflags)?;
    }
    Ok(base)
}

/// The longest prefix of `path` that exists inside `root` (in-root resolution), opened with
/// `flags`, and the components after it. Only `ENOENT` shortens the prefix.
fn longest_prefix<'p>(root: BorrowedFd<'_>, path: &'p str, flags: OFlags) -> io::Result<(OwnedFd, Vec<&'p str>)> {
    let comps = components(path)?;
    let mut i = comps.len();
    loop {
        match open_in_root(root, &comps[..i].join("/"), flags) {
            Ok(fd) => return Ok((fd, comps[i..].to_vec())),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) && i > 0 => i -= 1,
            Err(e) => return Err(e),
        }
    }
}

/// Where `path` resolves inside `root` as far as it exists: an `O_PATH` fd of the object (or
/// of its deepest existing ancestor) and the components that do not exist below it.
pub fn deepest_existing<'p>(root: BorrowedFd<'_>, path: &'p str) -> io::Result<(OwnedFd, Vec<&'p str>)> {
    longest_prefix(root, path, OFlags::PATH)
}

/// The `O_PATH` fd of a file mount point inside `root`: the existing object (in-root
/// resolution), or a new empty file (mode 0644) created in its parent directory.
pub fn ensure_file_in_root(root: BorrowedFd<'_>, path: &str) -> io::Result<OwnedFd> {
    match open_in_root(root, path, OFlags::PATH) {
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
        other => return other,
    }
    let comps = components(path)?;
    let Some((leaf, parents)) = comps.split_last() else {
        return Err(io::Error::from(Errno::ISDIR));
    };
    let parent = mkdir_all_in_root(root, &parents.join("/"), 0o755)?;
    match rfs::mknodat(&parent, *leaf, FileType::RegularFile, Mode::from_raw_mode(0o644), 0) {
        Ok(()) | Err(Errno::EXIST) => {}
        Err(e) => return Err(e.into()),
    }
    open_child_nofollow(parent.as_fd(), leaf, OFlags::PATH)
}

/// The `O_PATH` fd of a directory mount point inside `root`, created if missing.
pub fn ensure_dir_in_root(root: BorrowedFd<'_>, path: &str) -> io::Result<OwnedFd> {
    match open_in_root(root, path, OFlags::PATH) {
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => mkdir_all_in_root(root, path, 0o755),
        other => other,
    }
}

/// A top-level directory of the root that myvol mounts over (`/proc`, `/dev`, `/sys`): it
/// must be a real directory. A symlink or file the image put there is replaced in the
/// overlay (the upper layer gets a whiteout and a directory; the rootfs is not touched), as
/// Docker's init layer does; nothing is ever followed.
pub fn ensure_top_dir(root: BorrowedFd<'_>, name: &str) -> io::Result<OwnedFd> {
    match rfs::statat(root, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::Directory => {}
        Ok(_) => {
            rfs::unlinkat(root, name, AtFlags::empty())?;
            rfs::mkdirat(root, name, Mode::from_raw_mode(0o755))?;
        }
        Err(Errno::NOENT) => rfs::mkdirat(root, name, Mode::from_raw_mode(0o755))?,
        Err(e) => return Err(e.into()),
    }
    open_child_nofollow(root, name, OFlags::PATH | OFlags::DIRECTORY)
}

/// Whether two fds refer to the same inode.
pub fn same_inode(a: BorrowedFd<'_>, b: BorrowedFd<'_>) -> io::Result<bool> {
    let (x, y) = (rfs::fstat(a)?, rfs::fstat(b)?);
    Ok(x.st_dev == y.st_dev && x.st_ino == y.st_ino)
}

/// The file type of what `fd` refers to.
pub fn file_type(fd: BorrowedFd<'_>) -> io::Result<FileType> {
    Ok(FileType::from_raw_mode(rfs::fstat(fd)?.st_mode))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn open(p: &std::path::Path) -> OwnedFd {
        rfs::open(p, OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty()).unwrap()
    }

    #[test]
    fn components_drop_dots_and_refuse_dotdot() {
        assert_eq!(components("/a//b/./c/").unwrap(), vec!["a", "b", "c"]);
        assert!(components("/").unwrap().is_empty());
        assert!(components("/a/../b").is_err());
    }

    #[test]
    fn absolute_symlinks_stay_inside_the_root() {
        let t = tempfile::tempdir().unwrap();
        let host = t.path().join("host");
        let root = t.path().join("root");
        std::fs::create_dir_all(&host).unwrap();
        std::fs::create_dir_all(root.join("etc")).unwrap();
        // An absolute link to the host directory's real path, and one with `..` escapes.
        symlink(&host, root.join("data")).unwrap();
        symlink("../../../../..", root.join("up")).unwrap();
        let r = open(&root);
        // Dangling inside the root: refused, and nothing appears on the host.
        assert!(mkdir_all_in_root(r.as_fd(), "/data/x/y", 0o755).is_err());
        assert_eq!(std::fs::read_dir(&host).unwrap().count(), 0, "nothing may be created on the host");
        // Once the link's target exists inside the root, the link is followed there.
        let inside = root.join(host.strip_prefix("/").unwrap());
        std::fs::create_dir_all(&inside).unwrap();
        let fd = mkdir_all_in_root(r.as_fd(), "/data/x/y", 0o755).unwrap();
        assert_eq!(file_type(fd.as_fd()).unwrap(), FileType::Directory);
        ensure_file_in_root(r.as_fd(), "/up/file").unwrap();
        assert_eq!(std::fs::read_dir(&host).unwrap().count(), 0, "nothing may be created on the host");
        assert!(inside.join("x/y").is_dir());
        assert!(root.join("file").is_file());
    }

    #[test]
    fn top_dirs_replace_symlinks_without_following_them() {
        let t = tempfile::tempdir().unwrap();
        let host = t.path().join("host");
        std::fs::create_dir(&host).unwrap();
        let root = t.path().join("root");
        std::fs::create_dir(&root).unwrap();
        symlink(&host, root.join("dev")).unwrap();
        let r = open(&root);
        ensure_top_dir(r.as_fd(), "dev").unwrap();
        assert!(root.join("dev").symlink_metadata().unwrap().is_dir());
        assert!(host.is_dir());
        ensure_top_dir(r.as_fd(), "proc").unwrap();
        assert!(root.join("proc").is_dir());
    }
}
