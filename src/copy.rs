//! A faithful copy of a directory tree, for `volume clone`: content shared by reflink
//! (`FICLONE`) where the filesystem can, else copied with `copy_file_range` (read/write as a
//! last resort) keeping holes as holes (`SEEK_DATA`/`SEEK_HOLE`); owners, modes (setuid,
//! setgid, sticky included), access and modification times to the nanosecond, extended
//! attributes (ACLs are xattrs; `security.*`/`trusted.*` need root), symlinks (copied, never
//! followed), hard links (kept as links), FIFOs, sockets, device nodes (root only) and empty
//! directories.
//!
//! The walk is relative to directory fds, one component at a time with `O_NOFOLLOW`, and does
//! not enter another mount: a directory on another mount (device or mount id differs from the
//! tree's root) is left out, with what is mounted on it.
//!
//! Order per entry: data, owner, xattrs, mode, times. `chown` clears setuid/setgid and file
//! capabilities, so the mode and xattrs come after it; directories get their metadata after
//! their children are in, so their mtime is the source's.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use rustix::fs::{
    self as rfs, AtFlags, FileType, Gid, Mode, OFlags, Statx, StatxFlags, StatxTimestamp, Timespec, Timestamps, Uid,
    XattrFlags,
};
use rustix::io::Errno;
use thiserror::Error;

use crate::sys::copy as sys;
use crate::{failpoint, fsutil};

/// Nesting deeper than this is refused (each level holds two directory fds).
const MAX_DEPTH: usize = 4096;

/// A copy that failed on one entry (path relative to the tree's root; `.` is the root).
#[derive(Debug, Error)]
#[error("{}: {source}", path.display())]
pub struct CopyError {
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

/// What a copy did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyStats {
    /// Regular files whose content was copied or shared.
    pub files: u64,
    /// Of those, shared with a reflink.
    pub reflinked: u64,
    /// Entries recreated as hard links of an earlier one.
    pub hard_links: u64,
    /// Entries left out: mount points below the root, device nodes without privilege.
    pub skipped: u64,
}

/// Copy the content and metadata of the directory `src` into the empty directory `dst`.
pub fn copy_tree(src: BorrowedFd<'_>, dst: BorrowedFd<'_>) -> Result<CopyStats, CopyError> {
    let at = |path: &Path| {
        let path = path.to_owned();
        move |e: Errno| CopyError { path, source: e.into() }
    };
    let root = Path::new(".");
    let st = rfs::statx(src, c"", AtFlags::EMPTY_PATH, want()).map_err(at(root))?;
    let euid = rustix::process::geteuid();
    let mut c = Copier {
        dst_root: dst,
        dev: (st.stx_dev_major, st.stx_dev_minor),
        mnt: has_mnt_id(&st).then_some(st.stx_mnt_id),
        links: HashMap::new(),
        // In a user namespace (a rootless run's copy-up), root may not give files to unmapped
        // owners nor create device nodes: treat it as unprivileged.
        privileged: euid.is_root() && !in_user_namespace(),
        stats: CopyStats::default(),
    };
    c.copy_dir(src, dst, Path::new(""), 0)?;
    c.finish_fd(src, dst, &st).map_err(|source| CopyError { path: root.to_owned(), source })?;
    Ok(c.stats)
}

pub(crate) fn want() -> StatxFlags {
    StatxFlags::BASIC_STATS | StatxFlags::MNT_ID
}

pub(crate) fn has_mnt_id(st: &Statx) -> bool {
    st.stx_mask & StatxFlags::MNT_ID.bits() != 0
}

struct Copier<'a> {
    dst_root: BorrowedFd<'a>,
    dev: (u32, u32),
    mnt: Option<u64>,
    /// First copy of each multiply-linked inode: its path relative to `dst_root`.
    links: HashMap<u64, PathBuf>,
    privileged: bool,
    stats: CopyStats,
}

impl Copier<'_> {
    fn same_mount(&self, st: &Statx) -> bool {
        (st.stx_dev_major, st.stx_dev_minor) == self.dev
            && match self.mnt {
                Some(m) if has_mnt_id(st) => st.stx_mnt_id == m,
                _ => true,
            }
    }

    fn copy_dir(
        &mut self,
        src: BorrowedFd<'_>,
        dst: BorrowedFd<'_>,
        rel: &Path,
        depth: usize,
    ) -> Result<(), CopyError> {
        let err = |path: &Path, source: io::Error| CopyError { path: path.to_owned(), source };
        if depth > MAX_DEPTH {
            return Err(err(rel, io::Error::other("directory tree too deep")));
        }
        let entries = fsutil::list_dir(src).map_err(|e| err(rel, e))?;
        for (name, _) in entries {
            let name = OsStr::from_bytes(&name);
            let path = rel.join(name);
            let st = match rfs::statx(src, name, AtFlags::SYMLINK_NOFOLLOW, want()) {
                Ok(st) => st,
                Err(Errno::NOENT) => continue, // removed while we copy
                Err(e) => return Err(err(&path, e.into())),
            };
            self.copy_entry(src, dst, name, &path, &st, depth).map_err(|e| match e {
                Step::Io(source) => err(&path, source),
                Step::Nested(e) => e,
            })?;
        }
        Ok(())
    }

    fn copy_entry(
        &mut self,
        src: BorrowedFd<'_>,
        dst: BorrowedFd<'_>,
        name: &OsStr,
        path: &Path,
        st: &Statx,
        depth: usize,
    ) -> Result<(), Step> {
        let ft = FileType::from_raw_mode(st.stx_mode.into());
        if ft == FileType::Directory {
            if !self.same_mount(st) {
                self.stats.skipped += 1;
                return Ok(());
            }
            let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
            let s = rfs::openat(src, name, flags, Mode::empty())?;
            let now = rfs::statx(&s, c"", AtFlags::EMPTY_PATH, want())?;
            if now.stx_ino != st.stx_ino || !self.same_mount(&now) {
                return Err(Step::Io(io::Error::other("changed during the copy")));
            }
            rfs::mkdirat(dst, name, Mode::from_raw_mode(0o700))?;
            let d = rfs::openat(dst, name, flags, Mode::empty())?;
            self.copy_dir(s.as_fd(), d.as_fd(), path, depth + 1).map_err(Step::Nested)?;
            self.finish_fd(s.as_fd(), d.as_fd(), st)?;
            return Ok(());
        }
        if st.stx_nlink > 1
            && let Some(first) = self.links.get(&st.stx_ino)
        {
            rfs::linkat(self.dst_root, first, dst, name, AtFlags::empty())?;
            self.stats.hard_links += 1;
            return Ok(());
        }
        match ft {
            FileType::RegularFile => self.copy_file(src, dst, name, st)?,
            FileType::Symlink => {
                let target = rfs::readlinkat(src, name, Vec::new())?;
                rfs::symlinkat(target.as_c_str(), dst, name)?;
                self.finish_at(src, dst, name, st, false)?;
            }
            FileType::Fifo | FileType::Socket | FileType::CharacterDevice | FileType::BlockDevice => {
                let rdev = rfs::makedev(st.stx_rdev_major, st.stx_rdev_minor);
                match rfs::mknodat(dst, name, ft, Mode::from_raw_mode(0o600), rdev) {
                    Ok(()) => {}
                    Err(Errno::PERM) if !self.privileged && ft != FileType::Fifo && ft != FileType::Socket => {
                        self.stats.skipped += 1;
                        return Ok(());
                    }
                    Err(e) => return Err(e.into()),
                }
                self.finish_at(src, dst, name, st, true)?;
            }
            _ => {
                self.stats.skipped += 1;
                return Ok(());
            }
        }
        if st.stx_nlink > 1 {
            self.links.insert(st.stx_ino, path.to_owned());
        }
        Ok(())
    }

    fn copy_file(&mut self, src: BorrowedFd<'_>, dst: BorrowedFd<'_>, name: &OsStr, st: &Statx) -> Result<(), Step> {
        // O_NONBLOCK: if the entry was swapped for a FIFO since the stat, opening cannot hang.
        let s = rfs::openat(
            src,
            name,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        let now = rfs::statx(&s, c"", AtFlags::EMPTY_PATH, want())?;
        if now.stx_ino != st.stx_ino || FileType::from_raw_mode(now.stx_mode.into()) != FileType::RegularFile {
            return Err(Step::Io(io::Error::other("changed during the copy")));
        }
        let d = rfs::openat(
            dst,
            name,
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )?;
        let size = now.stx_size;
        if size > 0 {
            if sys::reflink(s.as_fd(), d.as_fd())? {
                self.stats.reflinked += 1;
            } else {
                rfs::ftruncate(&d, size)?;
                let mut off = 0;
                while let Some((start, end)) = sys::next_data(s.as_fd(), off, size)? {
                    if end <= off {
                        break;
                    }
                    sys::copy_range(s.as_fd(), d.as_fd(), start, end)?;
                    off = end;
                }
            }
        }
        self.stats.files += 1;
        failpoint::hit("clone-mid-copy");
        self.finish_fd(s.as_fd(), d.as_fd(), st)?;
        Ok(())
    }

    /// Owner, xattrs, mode, times of an entry open on both sides (files, directories).
    fn finish_fd(&self, src: BorrowedFd<'_>, dst: BorrowedFd<'_>, st: &Statx) -> io::Result<()> {
        let (uid, gid) = owner(st);
        self.tolerate_eperm(rfs::fchown(dst, Some(uid), Some(gid)))?;
        copy_xattrs(
            || rfs::flistxattr_query(src),
            |buf| rfs::flistxattr(src, buf),
            |n| rfs::fgetxattr_query(src, n),
            |n, buf| rfs::fgetxattr(src, n, buf),
            |n, v| rfs::fsetxattr(dst, n, v, XattrFlags::empty()),
        )?;
        rfs::fchmod(dst, Mode::from_raw_mode(u32::from(st.stx_mode) & 0o7777))?;
        rfs::futimens(dst, &times(st))?;
        Ok(())
    }

    /// The same for entries that cannot be opened (symlinks, FIFOs, sockets, devices):
    /// `*at` calls with `AT_SYMLINK_NOFOLLOW`, xattrs through `/proc/self/fd/N/name` with the
    /// `l*xattr` calls, which do not follow the last component either.
    fn finish_at(
        &self,
        src: BorrowedFd<'_>,
        dst: BorrowedFd<'_>,
        name: &OsStr,
        st: &Statx,
        chmod: bool,
    ) -> io::Result<()> {
        let (uid, gid) = owner(st);
        self.tolerate_eperm(rfs::chownat(dst, name, Some(uid), Some(gid), AtFlags::SYMLINK_NOFOLLOW))?;
        let (sp, dp) = (proc_path(src, name), proc_path(dst, name));
        if Path::new("/proc/self/fd").is_dir() {
            copy_xattrs(
                || rfs::llistxattr_query(&sp),
                |buf| rfs::llistxattr(&sp, buf),
                |n| rfs::lgetxattr_query(&sp, n),
                |n, buf| rfs::lgetxattr(&sp, n, buf),
                |n, v| rfs::lsetxattr(&dp, n, v, XattrFlags::empty()),
            )?;
        }
        if chmod {
            rfs::chmodat(dst, name, Mode::from_raw_mode(u32::from(st.stx_mode) & 0o7777), AtFlags::empty())?;
        }
        rfs::utimensat(dst, name, &times(st), AtFlags::SYMLINK_NOFOLLOW)?;
        Ok(())
    }

    /// Without privilege, files keep our own owner: giving them away is not possible
    /// (`EPERM`; `EINVAL` for an owner not mapped in our user namespace).
    fn tolerate_eperm(&self, r: rustix::io::Result<()>) -> io::Result<()> {
        match r {
            Err(Errno::PERM | Errno::INVAL) if !self.privileged => Ok(()),
            other => Ok(other?),
        }
    }
}

/// Whether this process is in a user namespace other than the initial one.
pub fn in_user_namespace() -> bool {
    std::fs::read_to_string("/proc/self/uid_map")
        .map(|m| m.split_whitespace().collect::<Vec<_>>() != ["0", "0", "4294967295"])
        .unwrap_or(false)
}

/// An entry's failure, or a failure already located deeper in the tree.
enum Step {
    Io(io::Error),
    Nested(CopyError),
}

impl From<Errno> for Step {
    fn from(e: Errno) -> Step {
        Step::Io(e.into())
    }
}

impl From<io::Error> for Step {
    fn from(e: io::Error) -> Step {
        Step::Io(e)
    }
}

fn owner(st: &Statx) -> (Uid, Gid) {
    (Uid::from_raw(st.stx_uid), Gid::from_raw(st.stx_gid))
}

fn ts(t: &StatxTimestamp) -> Timespec {
    Timespec { tv_sec: t.tv_sec, tv_nsec: t.tv_nsec.into() }
}

fn times(st: &Statx) -> Timestamps {
    Timestamps { last_access: ts(&st.stx_atime), last_modification: ts(&st.stx_mtime) }
}

pub(crate) fn proc_path(dir: BorrowedFd<'_>, name: &OsStr) -> PathBuf {
    let mut p = OsString::from(format!("/proc/self/fd/{}/", dir.as_raw_fd())).into_vec();
    p.extend_from_slice(name.as_bytes());
    PathBuf::from(OsString::from_vec(p))
}

/// Copy every extended attribute. A destination that does not support xattrs, or one we may
/// not set without privilege (`security.*`, `trusted.*`), is skipped; `user.*` failures fail.
fn copy_xattrs(
    query: impl Fn() -> rustix::io::Result<usize>,
    list: impl Fn(&mut [u8]) -> rustix::io::Result<usize>,
    get_query: impl Fn(&OsStr) -> rustix::io::Result<usize>,
    get: impl Fn(&OsStr, &mut [u8]) -> rustix::io::Result<usize>,
    set: impl Fn(&OsStr, &[u8]) -> rustix::io::Result<()>,
) -> io::Result<()> {
    let names = match read_sized(&query, &list) {
        Ok(n) => n,
        Err(Errno::OPNOTSUPP | Errno::PERM | Errno::ACCESS) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    for n in names.split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let n = OsStr::from_bytes(n);
        let value = match read_sized(|| get_query(n), |b| get(n, b)) {
            Ok(v) => v,
            Err(Errno::NODATA) => continue, // removed meanwhile
            Err(Errno::OPNOTSUPP | Errno::PERM | Errno::ACCESS) if !n.as_bytes().starts_with(b"user.") => continue,
            Err(e) => return Err(e.into()),
        };
        tolerate_xattr_set(n, set(n, &value))?;
    }
    Ok(())
}

/// The outcome of setting one xattr, with the failures a copy tolerates: a destination
/// without xattr support, and namespaces we may not write without privilege
/// (`security.*`, `trusted.*`, `system.*` that the filesystem refuses). `user.*` must land.
pub(crate) fn tolerate_xattr_set(name: &OsStr, r: rustix::io::Result<()>) -> io::Result<()> {
    match r {
        Ok(()) | Err(Errno::OPNOTSUPP) => Ok(()),
        Err(Errno::PERM | Errno::ACCESS | Errno::INVAL) if !name.as_bytes().starts_with(b"user.") => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// The names of an entry's xattrs (empty where the filesystem has none or refuses).
pub(crate) fn xattr_names(
    query: impl Fn() -> rustix::io::Result<usize>,
    list: impl Fn(&mut [u8]) -> rustix::io::Result<usize>,
) -> io::Result<Vec<Vec<u8>>> {
    match read_sized(query, list) {
        Ok(n) => Ok(n.split(|&b| b == 0).filter(|n| !n.is_empty()).map(<[u8]>::to_vec).collect()),
        Err(Errno::OPNOTSUPP | Errno::PERM | Errno::ACCESS) => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}

/// Size-query-then-read for the xattr calls, retried if the value grows in between.
pub(crate) fn read_sized(
    query: impl Fn() -> rustix::io::Result<usize>,
    read: impl Fn(&mut [u8]) -> rustix::io::Result<usize>,
) -> rustix::io::Result<Vec<u8>> {
    for _ in 0..8 {
        let n = query()?;
        let mut buf = vec![0u8; n];
        match read(&mut buf) {
            Ok(m) => {
                buf.truncate(m);
                return Ok(buf);
            }
            Err(Errno::RANGE) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(Errno::RANGE)
}
