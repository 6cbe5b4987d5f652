//! Volume → tar stream. The walk is relative to directory fds, one component at a time with
//! `O_NOFOLLOW`; every entry is opened and checked to be what `statx` reported (otherwise it
//! changed under us and the export fails); symlinks are read with `readlinkat`, never
//! followed; directories on another mount are left out, with what is mounted there.
//!
//! Members are named `./…` (as `tar -C DIR -cf - .`), directories included (`./` is the
//! volume's root, so its mode, owner and times travel too), in name order. Hard links are
//! link members to the first name; files whose blocks do not cover their size are written as
//! GNU sparse members (data segments only, found with `SEEK_DATA`/`SEEK_HOLE`).

use std::collections::HashMap;
use std::ffi::OsStr;
use std::io::{self, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags, Statx};
use rustix::io::Errno;

use super::tarfmt::{self, Kind, Member};
use super::{ArchiveError, Progress};
use crate::copy::{has_mnt_id, proc_path, read_sized, want, xattr_names};
use crate::fsutil;
use crate::sys::copy::next_data;

/// Content is read in chunks of this size (one buffer for the whole export).
const CHUNK: usize = 128 << 10;
const MAX_DEPTH: usize = 4096;
/// Files at least this large go out with `sendfile` when a direct fd is given.
const SENDFILE_MIN: u64 = 256 << 10;

/// What an export wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportStats {
    /// Members written (directories included).
    pub entries: u64,
    /// Bytes of file content written (holes excluded).
    pub bytes: u64,
    /// Entries left out (sockets, mount points), relative to the volume's root.
    pub skipped: Vec<PathBuf>,
}

/// Write the content of the directory `root` to `out` as a tar stream, end marker
/// included. `out` should be buffered.
pub fn export(
    root: BorrowedFd<'_>,
    out: &mut impl Write,
    progress: &dyn Progress,
) -> Result<ExportStats, ArchiveError> {
    export_direct(root, out, None, progress)
}

/// [`export`], with `direct` an fd that receives exactly what `out` writes once `out` is
/// flushed (the same open file: stdout under a `BufWriter`, a `dup` of the output file).
/// Large files then go from the page cache to it with `sendfile(2)`, without passing through
/// user space; everything else is buffered in `out`. Only for uncompressed output.
pub fn export_direct(
    root: BorrowedFd<'_>,
    out: &mut impl Write,
    direct: Option<BorrowedFd<'_>>,
    progress: &dyn Progress,
) -> Result<ExportStats, ArchiveError> {
    let st = rfs::statx(root, c"", AtFlags::EMPTY_PATH, want())
        .map_err(|e| ArchiveError::Source { path: PathBuf::from("."), source: e.into() })?;
    let mut x = Exporter {
        out,
        progress,
        dev: (st.stx_dev_major, st.stx_dev_minor),
        mnt: has_mnt_id(&st).then_some(st.stx_mnt_id),
        links: HashMap::new(),
        direct,
        buf: vec![0u8; CHUNK],
        stats: ExportStats::default(),
    };
    x.entry_fd(root, b"./", &st, Kind::Dir, &[])?;
    x.walk(root, b"./", 0)?;
    tarfmt::write_end(x.out).map_err(|source| ArchiveError::Write { source })?;
    x.out.flush().map_err(|source| ArchiveError::Write { source })?;
    Ok(x.stats)
}

struct Exporter<'o, W: Write> {
    out: &'o mut W,
    progress: &'o dyn Progress,
    dev: (u32, u32),
    mnt: Option<u64>,
    /// The first member name of each multiply-linked inode.
    links: HashMap<(u32, u32, u64), Vec<u8>>,
    direct: Option<BorrowedFd<'o>>,
    buf: Vec<u8>,
    stats: ExportStats,
}

fn display(name: &[u8]) -> PathBuf {
    PathBuf::from(OsStr::from_bytes(name.strip_prefix(b"./").unwrap_or(name)))
}

impl<W: Write> Exporter<'_, W> {
    fn same_mount(&self, st: &Statx) -> bool {
        (st.stx_dev_major, st.stx_dev_minor) == self.dev
            && match self.mnt {
                Some(m) if has_mnt_id(st) => st.stx_mnt_id == m,
                _ => true,
            }
    }

    fn walk(&mut self, dir: BorrowedFd<'_>, prefix: &[u8], depth: usize) -> Result<(), ArchiveError> {
        let src = |source: io::Error| ArchiveError::Source { path: display(prefix), source };
        if depth > MAX_DEPTH {
            return Err(src(io::Error::other("directory tree too deep")));
        }
        let mut entries = fsutil::list_dir(dir).map_err(src)?;
        entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        for (name, ftype) in entries {
            let mut path = prefix.to_vec();
            path.extend_from_slice(&name);
            let name = OsStr::from_bytes(&name);
            // The common case, a regular file by its directory entry: open it first and stat
            // the fd (one statx instead of two). Anything else takes the general path.
            if ftype == FileType::RegularFile
                && let Ok(fd) = rfs::openat(
                    dir,
                    name,
                    OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
                    Mode::empty(),
                )
            {
                let st = rfs::statx(&fd, c"", AtFlags::EMPTY_PATH, want())
                    .map_err(|e| ArchiveError::Source { path: display(&path), source: e.into() })?;
                if FileType::from_raw_mode(st.stx_mode.into()) == FileType::RegularFile {
                    if st.stx_nlink > 1 {
                        let key = (st.stx_dev_major, st.stx_dev_minor, st.stx_ino);
                        if let Some(first) = self.links.get(&key).cloned() {
                            self.link_member(&path, &st, &first)?;
                            continue;
                        }
                        self.links.insert(key, path.clone());
                    }
                    self.file(fd, &path, &st)?;
                    continue;
                }
            }
            let st = match rfs::statx(dir, name, AtFlags::SYMLINK_NOFOLLOW, want()) {
                Ok(st) => st,
                Err(Errno::NOENT) => continue, // removed while we read
                Err(e) => return Err(ArchiveError::Source { path: display(&path), source: e.into() }),
            };
            self.member(dir, name, path, &st, depth)?;
        }
        Ok(())
    }

    fn member(
        &mut self,
        dir: BorrowedFd<'_>,
        name: &OsStr,
        mut path: Vec<u8>,
        st: &Statx,
        depth: usize,
    ) -> Result<(), ArchiveError> {
        let src = |path: &[u8], source: io::Error| ArchiveError::Source { path: display(path), source };
        let ft = FileType::from_raw_mode(st.stx_mode.into());
        let changed = || io::Error::other("changed while it was being exported");
        match ft {
            FileType::Directory => {
                if !self.same_mount(st) {
                    self.stats.skipped.push(display(&path));
                    return Ok(());
                }
                let fd = rfs::openat(
                    dir,
                    name,
                    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .map_err(|e| src(&path, e.into()))?;
                let now = rfs::statx(&fd, c"", AtFlags::EMPTY_PATH, want()).map_err(|e| src(&path, e.into()))?;
                if now.stx_ino != st.stx_ino || !self.same_mount(&now) {
                    return Err(src(&path, changed()));
                }
                path.push(b'/');
                self.entry_fd(fd.as_fd(), &path, &now, Kind::Dir, &[])?;
                self.walk(fd.as_fd(), &path, depth + 1)
            }
            FileType::RegularFile => {
                if st.stx_nlink > 1 {
                    let key = (st.stx_dev_major, st.stx_dev_minor, st.stx_ino);
                    if let Some(first) = self.links.get(&key).cloned() {
                        return self.link_member(&path, st, &first);
                    }
                    self.links.insert(key, path.clone());
                }
                let fd = rfs::openat(
                    dir,
                    name,
                    OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .map_err(|e| src(&path, e.into()))?;
                let now = rfs::statx(&fd, c"", AtFlags::EMPTY_PATH, want()).map_err(|e| src(&path, e.into()))?;
                if now.stx_ino != st.stx_ino || FileType::from_raw_mode(now.stx_mode.into()) != FileType::RegularFile {
                    return Err(src(&path, changed()));
                }
                self.file(fd, &path, &now)
            }
            FileType::Symlink => {
                let target = rfs::readlinkat(dir, name, Vec::new()).map_err(|e| src(&path, e.into()))?;
                let xattrs = self.xattrs_at(dir, name).map_err(|e| src(&path, e))?;
                self.header(&path, st, Kind::Symlink, target.as_bytes(), 0, &xattrs)
            }
            FileType::Fifo | FileType::CharacterDevice | FileType::BlockDevice => {
                if st.stx_nlink > 1 {
                    let key = (st.stx_dev_major, st.stx_dev_minor, st.stx_ino);
                    if let Some(first) = self.links.get(&key).cloned() {
                        return self.link_member(&path, st, &first);
                    }
                    self.links.insert(key, path.clone());
                }
                let kind = match ft {
                    FileType::Fifo => Kind::Fifo,
                    FileType::CharacterDevice => Kind::Char,
                    _ => Kind::Block,
                };
                let xattrs = self.xattrs_at(dir, name).map_err(|e| src(&path, e))?;
                self.header(&path, st, kind, b"", 0, &xattrs)
            }
            _ => {
                // Sockets (and anything newer) have no tar representation.
                self.stats.skipped.push(display(&path));
                Ok(())
            }
        }
    }

    fn link_member(&mut self, path: &[u8], st: &Statx, first: &[u8]) -> Result<(), ArchiveError> {
        self.header(path, st, Kind::HardLink, first, 0, &[])
    }

    fn header(
        &mut self,
        path: &[u8],
        st: &Statx,
        kind: Kind,
        link: &[u8],
        size: u64,
        xattrs: &[(Vec<u8>, Vec<u8>)],
    ) -> Result<(), ArchiveError> {
        self.header_sparse(path, st, kind, link, size, xattrs, None)
    }

    #[allow(clippy::too_many_arguments)]
    fn header_sparse(
        &mut self,
        path: &[u8],
        st: &Statx,
        kind: Kind,
        link: &[u8],
        size: u64,
        xattrs: &[(Vec<u8>, Vec<u8>)],
        sparse: Option<(&[(u64, u64)], u64)>,
    ) -> Result<(), ArchiveError> {
        let m = Member {
            name: path,
            kind,
            mode: u32::from(st.stx_mode) & 0o7777,
            uid: u64::from(st.stx_uid),
            gid: u64::from(st.stx_gid),
            size,
            mtime_sec: st.stx_mtime.tv_sec,
            mtime_nsec: st.stx_mtime.tv_nsec,
            link,
            dev_major: st.stx_rdev_major,
            dev_minor: st.stx_rdev_minor,
            xattrs,
            sparse,
        };
        tarfmt::write_header(self.out, &m).map_err(|source| ArchiveError::Write { source })?;
        self.stats.entries += 1;
        self.progress.entry();
        Ok(())
    }

    /// A directory's header (its xattrs read through the open fd).
    fn entry_fd(
        &mut self,
        fd: BorrowedFd<'_>,
        path: &[u8],
        st: &Statx,
        kind: Kind,
        link: &[u8],
    ) -> Result<(), ArchiveError> {
        let xattrs = xattrs_fd(fd).map_err(|source| ArchiveError::Source { path: display(path), source })?;
        self.header(path, st, kind, link, 0, &xattrs)
    }

    fn xattrs_at(&self, dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<Vec<(Vec<u8>, Vec<u8>)>> {
        if !std::path::Path::new("/proc/self/fd").is_dir() {
            // Without /proc there is no fd-relative path for the l*xattr calls.
            return Ok(Vec::new());
        }
        let p = proc_path(dir, name);
        let names = xattr_names(|| rfs::llistxattr_query(&p), |b| rfs::llistxattr(&p, b))?;
        let mut out = Vec::with_capacity(names.len());
        for n in names {
            let k = OsStr::from_bytes(&n);
            match read_sized(|| rfs::lgetxattr_query(&p, k), |b| rfs::lgetxattr(&p, k, b)) {
                Ok(v) => out.push((n, v)),
                Err(Errno::NODATA | Errno::OPNOTSUPP | Errno::PERM | Errno::ACCESS) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(out)
    }

    fn file(&mut self, fd: OwnedFd, path: &[u8], st: &Statx) -> Result<(), ArchiveError> {
        let src = |source: io::Error| ArchiveError::Source { path: display(path), source };
        let xattrs = xattrs_fd(fd.as_fd()).map_err(src)?;
        let size = st.stx_size;
        // Fewer allocated blocks than the size needs: look for holes.
        let segments = if size > 0 && st.stx_blocks.saturating_mul(512) < size {
            let mut segs = Vec::new();
            let mut off = 0;
            while let Some((start, end)) = next_data(fd.as_fd(), off, size).map_err(src)? {
                if end <= start {
                    break;
                }
                segs.push((start, end - start));
                off = end;
                if off >= size {
                    break;
                }
            }
            let data: u64 = segs.iter().map(|s| s.1).sum();
            (data < size).then_some(segs)
        } else {
            None
        };
        match segments {
            None => {
                self.header(path, st, Kind::File, b"", size, &xattrs)?;
                self.copy(fd.as_fd(), 0, size).map_err(|e| self.fail(path, e))?;
                tarfmt::finish_data(self.out, size).map_err(|source| ArchiveError::Write { source })?;
            }
            Some(segs) => {
                let data: u64 = segs.iter().map(|s| s.1).sum();
                self.header_sparse(path, st, Kind::Sparse, b"", data, &xattrs, Some((&segs, size)))?;
                for &(off, len) in &segs {
                    self.copy(fd.as_fd(), off, len).map_err(|e| self.fail(path, e))?;
                }
                tarfmt::finish_data(self.out, data).map_err(|source| ArchiveError::Write { source })?;
            }
        }
        Ok(())
    }

    fn fail(&self, path: &[u8], e: Copy) -> ArchiveError {
        match e {
            Copy::Read(source) => ArchiveError::Source { path: display(path), source },
            Copy::Write(source) => ArchiveError::Write { source },
        }
    }

    /// Copy `[off, off + len)` of `fd` to the output; a file that shrank meanwhile fails.
    fn copy(&mut self, fd: BorrowedFd<'_>, mut off: u64, len: u64) -> Result<(), Copy> {
        let end = off + len;
        if let Some(direct) = self.direct.filter(|_| len >= SENDFILE_MIN) {
            self.out.flush().map_err(Copy::Write)?;
            while off < end {
                let want = usize::try_from(end - off).unwrap_or(usize::MAX).min(1 << 30);
                let before = off;
                match rfs::sendfile(direct, fd, Some(&mut off), want) {
                    Ok(0) => return Err(Copy::Read(io::Error::other("file shrank while it was being exported"))),
                    Ok(_) => {
                        self.stats.bytes += off - before;
                        self.progress.bytes(off - before);
                    }
                    Err(Errno::INTR | Errno::AGAIN) => {}
                    // Not possible between these two (old kernels, special files): copy.
                    Err(Errno::INVAL | Errno::NOSYS) if off == before => break,
                    Err(e) => return Err(Copy::Write(e.into())),
                }
            }
            if off >= end {
                return Ok(());
            }
        }
        while off < end {
            let want = usize::try_from(end - off).unwrap_or(usize::MAX).min(self.buf.len());
            let n = match rustix::io::pread(fd, &mut self.buf[..want], off) {
                Ok(0) => return Err(Copy::Read(io::Error::other("file shrank while it was being exported"))),
                Ok(n) => n,
                Err(Errno::INTR) => continue,
                Err(e) => return Err(Copy::Read(e.into())),
            };
            self.out.write_all(&self.buf[..n]).map_err(Copy::Write)?;
            off += n as u64;
            self.stats.bytes += n as u64;
            self.progress.bytes(n as u64);
        }
        Ok(())
    }
}

enum Copy {
    Read(io::Error),
    Write(io::Error),
}

fn xattrs_fd(fd: BorrowedFd<'_>) -> io::Result<Vec<(Vec<u8>, Vec<u8>)>> {
    // Most entries have no xattrs or a few: one call with a small buffer answers that; only a
    // long list takes the size-query path.
    let mut small = [0u8; 1024];
    let names = match rfs::flistxattr(fd, &mut small) {
        Ok(0) => return Ok(Vec::new()),
        Ok(n) => small[..n].split(|&b| b == 0).filter(|n| !n.is_empty()).map(<[u8]>::to_vec).collect(),
        Err(Errno::RANGE) => xattr_names(|| rfs::flistxattr_query(fd), |b| rfs::flistxattr(fd, b))?,
        Err(Errno::OPNOTSUPP | Errno::PERM | Errno::ACCESS) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut out = Vec::with_capacity(names.len());
    for n in names {
        let k = OsStr::from_bytes(&n);
        match read_sized(|| rfs::fgetxattr_query(fd, k), |b| rfs::fgetxattr(fd, k, b)) {
            Ok(v) => out.push((n, v)),
            Err(Errno::NODATA | Errno::OPNOTSUPP | Errno::PERM | Errno::ACCESS) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(out)
}
