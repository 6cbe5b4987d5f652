//! Names and parents: a member's name as components (relative, no `..`, no NUL), and its
//! parent directory opened, or made one component at a time, beneath the staging root with
//! symlinks, magic links and mount crossings refused; what is in the way of a new entry is
//! cleared, never opened.

use std::ffi::OsStr;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

use super::{Step, Unpacker};
use crate::fsutil;

/// The member's name as components: `Err` with the reason when it is refused.
pub fn components(name: &[u8]) -> Result<Vec<&[u8]>, &'static str> {
    if name.contains(&0) {
        return Err("name contains a NUL byte (refused)");
    }
    if name.starts_with(b"/") {
        return Err("absolute name (refused)");
    }
    let comps: Vec<&[u8]> = name.split(|&b| b == b'/').filter(|c| !c.is_empty() && *c != b".").collect();
    if comps.iter().any(|c| *c == b"..") {
        return Err("name contains '..' (refused)");
    }
    Ok(comps)
}

pub(super) fn join(comps: &[&[u8]]) -> Vec<u8> {
    comps.join(&b'/')
}

pub(super) fn resolve_flags() -> ResolveFlags {
    ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS | ResolveFlags::NO_XDEV
}

/// `openat2` beneath `dir` with symlinks, magic links and mount crossings refused (the
/// component-wise `O_NOFOLLOW` walk of [`fsutil::open_beneath`] on kernels without it).
pub(super) fn open_in(dir: BorrowedFd<'_>, path: &[u8], flags: OFlags) -> io::Result<OwnedFd> {
    let path = if path.is_empty() { b".".as_slice() } else { path };
    let flags = flags | OFlags::CLOEXEC;
    for _ in 0..16 {
        match rfs::openat2(dir, OsStr::from_bytes(path), flags, Mode::empty(), resolve_flags()) {
            Err(Errno::AGAIN) => continue,
            Err(Errno::NOSYS) => return fsutil::open_beneath(dir, OsStr::from_bytes(path), flags, Mode::empty()),
            other => return other.map_err(io::Error::from),
        }
    }
    Err(Errno::AGAIN.into())
}

impl Unpacker<'_> {
    /// The parent directory of `comps` (all but the last component), made if missing.
    pub(super) fn parent(&mut self, comps: &[&[u8]]) -> Result<BorrowedFd<'_>, Step> {
        let parent = &comps[..comps.len() - 1];
        let path = join(parent);
        if self.cache.as_ref().is_none_or(|(p, _)| *p != path) {
            let fd = self.open_or_make(parent)?;
            self.cache = Some((path, fd));
        }
        match &self.cache {
            Some((_, fd)) => Ok(fd.as_fd()),
            None => Err(Step::Io(Errno::NOENT.into())),
        }
    }

    pub(super) fn open_or_make(&mut self, dirs: &[&[u8]]) -> Result<OwnedFd, Step> {
        let flags = OFlags::PATH | OFlags::DIRECTORY;
        match open_in(self.staging, &join(dirs), flags) {
            Ok(fd) => return Ok(fd),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
            Err(e) => return Err(parent_error(e)),
        }
        // Make what is missing, one component at a time, each opened by the same rules.
        let mut cur = open_in(self.staging, b"", flags).map_err(Step::Io)?;
        for (i, c) in dirs.iter().enumerate() {
            match rfs::mkdirat(&cur, OsStr::from_bytes(c), Mode::from_raw_mode(0o755)) {
                Ok(()) | Err(Errno::EXIST) => {}
                Err(e) => return Err(Step::Io(e.into())),
            }
            cur = open_in(self.staging, &join(&dirs[..=i]), flags).map_err(parent_error)?;
        }
        Ok(cur)
    }

    /// Make room for a new entry `leaf` in `parent`: unlink what is there (an empty
    /// directory included). `Ok(true)` when a directory is there and `dir` says the new
    /// member is one too (they merge).
    pub(super) fn clear(&mut self, comps: &[&[u8]], dir: bool) -> Result<bool, Step> {
        let leaf = OsStr::from_bytes(comps[comps.len() - 1]);
        let parent = self.parent(comps)?;
        let st = match rfs::statat(parent, leaf, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => st,
            Err(Errno::NOENT) => return Ok(false),
            Err(e) => return Err(Step::Io(e.into())),
        };
        if FileType::from_raw_mode(st.st_mode) == FileType::Directory {
            if dir {
                return Ok(true);
            }
            match rfs::unlinkat(parent, leaf, AtFlags::REMOVEDIR) {
                Ok(()) => {}
                Err(Errno::NOTEMPTY | Errno::EXIST) => {
                    return Err(Step::Refused("would replace a non-empty directory (refused)"));
                }
                Err(e) => return Err(Step::Io(e.into())),
            }
        } else {
            rfs::unlinkat(parent, leaf, AtFlags::empty()).map_err(|e| Step::Io(e.into()))?;
        }
        // A directory may have gone: forget the cached parent.
        self.cache = None;
        Ok(false)
    }

    /// Run `create`; if the name exists, clear it and try once more.
    pub(super) fn create<T>(
        &mut self,
        comps: &[&[u8]],
        create: impl Fn(BorrowedFd<'_>, &OsStr) -> rustix::io::Result<T>,
    ) -> Result<T, Step> {
        let leaf = OsStr::from_bytes(comps[comps.len() - 1]);
        match create(self.parent(comps)?, leaf) {
            Ok(t) => return Ok(t),
            Err(Errno::EXIST) => {}
            Err(e) => return Err(Step::Io(e.into())),
        }
        self.clear(comps, false)?;
        create(self.parent(comps)?, leaf).map_err(|e| Step::Io(e.into()))
    }
}
pub(super) fn parent_error(e: io::Error) -> Step {
    match e.raw_os_error() {
        Some(libc::ELOOP) => Step::Refused("a parent directory is a symlink (refused)"),
        Some(libc::ENOTDIR) => Step::Refused("a parent is not a directory (refused)"),
        Some(libc::EXDEV) => Step::Refused("escapes the volume (refused)"),
        _ => Step::Io(e),
    }
}
