//! The data-moving syscalls of a tree copy: reflink (`ioctl(FICLONE)`),
//! `copy_file_range`, `SEEK_DATA`/`SEEK_HOLE` and positioned read/write. Everything goes
//! through rustix's safe wrappers, so there is no `unsafe` here.

use std::io;
use std::os::fd::BorrowedFd;

use rustix::fs::{self as rfs, SeekFrom};
use rustix::io::Errno;

/// Share all of `src`'s extents with `dst` (`ioctl(dst, FICLONE, src)`): a copy that costs
/// no data I/O on btrfs, XFS (reflink=1), bcachefs and overlayfs over those. `Ok(false)` when
/// the filesystem cannot do it (different filesystems, no reflink support).
pub fn reflink(src: BorrowedFd<'_>, dst: BorrowedFd<'_>) -> io::Result<bool> {
    match rfs::ioctl_ficlone(dst, src) {
        Ok(()) => Ok(true),
        Err(Errno::OPNOTSUPP | Errno::XDEV | Errno::INVAL | Errno::NOTTY | Errno::NOSYS | Errno::PERM) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// The next data region at or after `off`: `Some((start, end))`, `None` past the last data.
/// A filesystem without `SEEK_DATA` reports the whole rest of the file as data.
pub fn next_data(src: BorrowedFd<'_>, off: u64, size: u64) -> io::Result<Option<(u64, u64)>> {
    let start = match rfs::seek(src, SeekFrom::Data(off)) {
        Ok(s) => s,
        Err(Errno::NXIO) => return Ok(None),
        Err(Errno::INVAL | Errno::OPNOTSUPP) => return Ok((off < size).then_some((off, size))),
        Err(e) => return Err(e.into()),
    };
    let end = match rfs::seek(src, SeekFrom::Hole(start)) {
        Ok(e) => e,
        Err(Errno::NXIO) => size,
        Err(e) => return Err(e.into()),
    };
    Ok(Some((start, end.min(size))))
}

/// Copy `[start, end)` of `src` to the same offsets of `dst`: `copy_file_range` (which may
/// itself share extents or copy in the kernel), falling back to read/write where the kernel
/// refuses (across filesystems on old kernels, special filesystems).
pub fn copy_range(src: BorrowedFd<'_>, dst: BorrowedFd<'_>, start: u64, end: u64) -> io::Result<()> {
    let (mut off_in, mut off_out) = (start, start);
    while off_in < end {
        let len = usize::try_from(end - off_in).unwrap_or(usize::MAX).min(1 << 30);
        match rfs::copy_file_range(src, Some(&mut off_in), dst, Some(&mut off_out), len) {
            Ok(0) => break, // the file shrank under us: copy what there was
            Ok(_) => {}
            Err(Errno::INTR) => {}
            Err(Errno::XDEV | Errno::INVAL | Errno::NOSYS | Errno::OPNOTSUPP | Errno::PERM) => {
                return read_write(src, dst, off_in, end);
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

fn read_write(src: BorrowedFd<'_>, dst: BorrowedFd<'_>, mut off: u64, end: u64) -> io::Result<()> {
    let mut buf = vec![0u8; 1 << 17];
    while off < end {
        let want = usize::try_from(end - off).unwrap_or(usize::MAX).min(buf.len());
        let n = match rustix::io::pread(src, &mut buf[..want], off) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        };
        let mut done = 0;
        while done < n {
            match rustix::io::pwrite(dst, &buf[done..n], off + done as u64) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(w) => done += w,
                Err(Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
        off += n as u64;
    }
    Ok(())
}
