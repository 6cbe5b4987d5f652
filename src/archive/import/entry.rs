//! Writing each kind of entry: regular files (holes kept for sparse ones), directories (their
//! modes and times deferred), symlinks, hard links within the archive, FIFOs and devices;
//! then owner, xattrs, mode and times, in that order.

use std::ffi::{CString, OsStr};
use std::io::{self, Read};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;

use rustix::fs::{self as rfs, AtFlags, FileType, Gid, Mode, OFlags, Uid};
use rustix::io::Errno;

use super::meta::Meta;
use super::path::{components, join, open_in, parent_error};
use super::{Deferred, Step, Unpacker};
use crate::copy::{proc_path, tolerate_xattr_set};

/// Granularity of hole detection in sparse members.
pub(super) const HOLE_BLOCK: usize = 4096;

impl Unpacker<'_> {
    pub(super) fn file<R: Read>(
        &mut self,
        comps: &[&[u8]],
        entry: &mut tar::Entry<'_, R>,
        meta: &Meta,
        sparse: bool,
    ) -> Result<(), Step> {
        let fd = self.create(comps, |dir, leaf| {
            rfs::openat(
                dir,
                leaf,
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::from_raw_mode(0o600),
            )
        })?;
        if let Some(layout) = &meta.sparse {
            self.pax_sparse_data(fd.as_fd(), entry, layout)?;
            self.finish_fd(fd.as_fd(), meta).map_err(Step::Io)?;
            return Ok(());
        }
        let size = entry.size();
        let mut off = 0u64;
        loop {
            let n = match entry.read(&mut self.buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Step::Read(e)),
            };
            let mut i = 0;
            while i < n {
                // Sparse members come back with their holes as zeros: skip whole zero blocks
                // so that holes stay holes.
                let block_end = if sparse {
                    let o = off + i as u64;
                    let next = (o / HOLE_BLOCK as u64 + 1) * HOLE_BLOCK as u64;
                    (i + (next - o) as usize).min(n)
                } else {
                    n
                };
                let chunk = &self.buf[i..block_end];
                if !(sparse && chunk.iter().all(|&b| b == 0)) {
                    self.budget.content(self.staging, chunk.len() as u64).map_err(Step::Limit)?;
                    write_all_at(fd.as_fd(), chunk, off + i as u64).map_err(Step::Io)?;
                }
                i = block_end;
            }
            off += n as u64;
            self.stats.bytes += n as u64;
        }
        if off != size {
            return Err(Step::Truncated);
        }
        if sparse {
            rfs::ftruncate(&fd, size).map_err(|e| Step::Io(e.into()))?;
        }
        self.finish_fd(fd.as_fd(), meta).map_err(Step::Io)?;
        Ok(())
    }
    pub(super) fn dir(&mut self, comps: &[&[u8]], meta: &Meta) -> Result<(), Step> {
        let fd = if comps.is_empty() {
            open_in(self.staging, b"", OFlags::RDONLY | OFlags::DIRECTORY).map_err(Step::Io)?
        } else {
            let leaf = OsStr::from_bytes(comps[comps.len() - 1]);
            let made = rfs::mkdirat(self.parent(comps)?, leaf, Mode::from_raw_mode(0o700));
            match made {
                Ok(()) => {}
                Err(Errno::EXIST) => {
                    if !self.clear(comps, true)? {
                        rfs::mkdirat(self.parent(comps)?, leaf, Mode::from_raw_mode(0o700))
                            .map_err(|e| Step::Io(e.into()))?;
                    }
                }
                Err(e) => return Err(Step::Io(e.into())),
            }
            rfs::openat(
                self.parent(comps)?,
                leaf,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| Step::Io(e.into()))?
        };
        self.owner(rfs::fchown(&fd, Some(Uid::from_raw(meta.uid)), Some(Gid::from_raw(meta.gid)))).map_err(Step::Io)?;
        for (k, v) in &meta.xattrs {
            let k = OsStr::from_bytes(k);
            tolerate_xattr_set(k, rfs::fsetxattr(&fd, k, v, rfs::XattrFlags::empty())).map_err(Step::Io)?;
        }
        // Owner-writable until the end, so that later members can go in.
        rfs::fchmod(&fd, Mode::from_raw_mode(0o700)).map_err(|e| Step::Io(e.into()))?;
        self.deferred.push(Deferred {
            path: join(comps),
            depth: comps.len(),
            mode: meta.mode,
            times: meta.times.clone(),
        });
        Ok(())
    }

    pub(super) fn symlink(&mut self, comps: &[&[u8]], target: &[u8], meta: &Meta) -> Result<(), Step> {
        let target = CString::new(target).map_err(|_| Step::Refused("link target contains a NUL byte (refused)"))?;
        self.create(comps, |dir, leaf| rfs::symlinkat(target.as_c_str(), dir, leaf))?;
        self.finish_at(comps, meta, false)
    }

    pub(super) fn hard_link(&mut self, comps: &[&[u8]], target: &[u8]) -> Result<(), Step> {
        let tcomps = match components(target) {
            Ok(c) if !c.is_empty() => c,
            Ok(_) => return Err(Step::Refused("hard link to the archive's root (refused)")),
            Err("absolute name (refused)") => return Err(Step::Refused("hard link to an absolute path (refused)")),
            Err(_) => return Err(Step::Refused("hard link target outside the archive (refused)")),
        };
        if tcomps == comps {
            return Ok(()); // a link to itself: nothing to do
        }
        let tparent = open_in(self.staging, &join(&tcomps[..tcomps.len() - 1]), OFlags::PATH | OFlags::DIRECTORY)
            .map_err(|e| match e.raw_os_error() {
                Some(libc::ENOENT) => Step::Refused("hard link to a member not in the archive (refused)"),
                _ => parent_error(e),
            })?;
        let tleaf = OsStr::from_bytes(tcomps[tcomps.len() - 1]);
        match rfs::statat(&tparent, tleaf, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::Directory => {
                return Err(Step::Refused("hard link to a directory (refused)"));
            }
            Ok(_) => {}
            Err(Errno::NOENT) => return Err(Step::Refused("hard link to a member not in the archive (refused)")),
            Err(e) => return Err(Step::Io(e.into())),
        }
        self.create(comps, |dir, leaf| rfs::linkat(&tparent, tleaf, dir, leaf, AtFlags::empty()))
    }

    pub(super) fn special(&mut self, comps: &[&[u8]], ft: FileType, dev: rfs::Dev, meta: &Meta) -> Result<(), Step> {
        let device = ft != FileType::Fifo;
        if device && !self.root {
            self.stats.devices_skipped += 1;
            return Ok(());
        }
        match self.create(comps, |dir, leaf| rfs::mknodat(dir, leaf, ft, Mode::from_raw_mode(0o600), dev)) {
            Ok(()) => {}
            // Root in a user namespace may not make devices either.
            Err(Step::Io(e)) if device && e.raw_os_error() == Some(libc::EPERM) => {
                self.stats.devices_skipped += 1;
                return Ok(());
            }
            Err(e) => return Err(e),
        }
        self.finish_at(comps, meta, true)
    }
    /// `chown` may fail without privilege: the entry keeps our ids (rootless import).
    fn owner(&mut self, r: rustix::io::Result<()>) -> io::Result<()> {
        match r {
            Err(Errno::PERM | Errno::INVAL) if !self.root => {
                self.stats.owners_not_kept += 1;
                Ok(())
            }
            other => Ok(other?),
        }
    }

    /// Owner, xattrs, mode, times of a new file, in that order (`chown` clears setuid).
    fn finish_fd(&mut self, fd: BorrowedFd<'_>, meta: &Meta) -> io::Result<()> {
        self.owner(rfs::fchown(fd, Some(Uid::from_raw(meta.uid)), Some(Gid::from_raw(meta.gid))))?;
        for (k, v) in &meta.xattrs {
            let k = OsStr::from_bytes(k);
            tolerate_xattr_set(k, rfs::fsetxattr(fd, k, v, rfs::XattrFlags::empty()))?;
        }
        rfs::fchmod(fd, Mode::from_raw_mode(meta.mode))?;
        rfs::futimens(fd, &meta.times)?;
        Ok(())
    }

    /// The same for entries that cannot be opened (symlinks, FIFOs, devices).
    fn finish_at(&mut self, comps: &[&[u8]], meta: &Meta, chmod: bool) -> Result<(), Step> {
        let leaf = OsStr::from_bytes(comps[comps.len() - 1]);
        let parent = self.parent(comps)?;
        let chown = rfs::chownat(
            parent,
            leaf,
            Some(Uid::from_raw(meta.uid)),
            Some(Gid::from_raw(meta.gid)),
            AtFlags::SYMLINK_NOFOLLOW,
        );
        let p = proc_path(parent, leaf);
        let mut r: io::Result<()> = Ok(());
        for (k, v) in &meta.xattrs {
            let k = OsStr::from_bytes(k);
            r = r.and_then(|()| tolerate_xattr_set(k, rfs::lsetxattr(&p, k, v, rfs::XattrFlags::empty())));
        }
        let r = r
            .and_then(|()| {
                if chmod {
                    rfs::chmodat(parent, leaf, Mode::from_raw_mode(meta.mode), AtFlags::empty())?;
                }
                Ok(())
            })
            .and_then(|()| Ok(rfs::utimensat(parent, leaf, &meta.times, AtFlags::SYMLINK_NOFOLLOW)?));
        // chown first in effect: its result is checked after the others ran on the same
        // entry, which is equivalent since a failed chown changed nothing.
        self.owner(chown).map_err(Step::Io)?;
        r.map_err(Step::Io)
    }
}
pub(super) fn write_all_at(fd: BorrowedFd<'_>, mut data: &[u8], mut off: u64) -> io::Result<()> {
    while !data.is_empty() {
        match rustix::io::pwrite(fd, data, off) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                data = &data[n..];
                off += n as u64;
            }
            Err(Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
