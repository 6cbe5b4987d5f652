//! File-descriptor-relative filesystem helpers: every path here is one component, or a
//! relative path resolved beneath a directory fd with symlinks refused. Nothing here follows
//! a symlink or crosses a mount point while walking a tree.

mod new_file;
mod tree;

use std::ffi::{CStr, OsStr};
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use rustix::fs::{self as rfs, AtFlags, Dir, FileType, FlockOperation, Mode, OFlags, RenameFlags, ResolveFlags};
use rustix::io::Errno;

pub use new_file::NewFile;
pub use tree::{apparent_size, chown_tree, remove_tree};

/// Largest metadata file the store will read (hostile metadata must not exhaust memory).
pub const MAX_META_BYTES: u64 = 1 << 20;

/// Open `path` (relative, possibly several components) beneath `dir`, refusing symlinks,
/// magic links and escapes anywhere on the way. Falls back to a component-by-component
/// `O_NOFOLLOW` walk on kernels without openat2.
pub fn open_beneath(dir: BorrowedFd<'_>, path: &OsStr, flags: OFlags, mode: Mode) -> io::Result<OwnedFd> {
    let resolve = ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS;
    let flags = flags | OFlags::CLOEXEC;
    for _ in 0..16 {
        match rfs::openat2(dir, path, flags, mode, resolve) {
            Err(Errno::AGAIN) => continue,
            Err(Errno::NOSYS) => return open_nofollow_walk(dir, path, flags, mode),
            other => return other.map_err(io::Error::from),
        }
    }
    Err(io::Error::from(Errno::AGAIN))
}

fn open_nofollow_walk(dir: BorrowedFd<'_>, path: &OsStr, flags: OFlags, mode: Mode) -> io::Result<OwnedFd> {
    let comps: Vec<&[u8]> = path.as_bytes().split(|&b| b == b'/').filter(|c| !c.is_empty() && *c != b".").collect();
    if comps.iter().any(|c| *c == b"..") || path.as_bytes().starts_with(b"/") {
        return Err(io::Error::from(Errno::XDEV));
    }
    let Some((last, parents)) = comps.split_last() else {
        return Ok(rfs::openat(dir, c".", flags, mode)?);
    };
    let mut cur: Option<OwnedFd> = None;
    for c in parents {
        let base = cur.as_ref().map(|f| f.as_fd()).unwrap_or(dir);
        let next = rfs::openat(
            base,
            OsStr::from_bytes(c),
            OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        cur = Some(next);
    }
    let base = cur.as_ref().map(|f| f.as_fd()).unwrap_or(dir);
    Ok(rfs::openat(base, OsStr::from_bytes(last), flags | OFlags::NOFOLLOW, mode)?)
}

/// Open a directory beneath `dir` for `*at` calls and reading (symlinks refused).
pub fn open_dir(dir: BorrowedFd<'_>, path: &OsStr) -> io::Result<OwnedFd> {
    open_beneath(dir, path, OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty())
}

/// Read a small regular file beneath `dir`: opened without following links and without
/// blocking (a FIFO or device put there cannot hang the reader), checked to be a regular file
/// no larger than [`MAX_META_BYTES`].
pub fn read_small_file(dir: BorrowedFd<'_>, path: &OsStr) -> io::Result<Vec<u8>> {
    let fd = open_beneath(dir, path, OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY, Mode::empty())?;
    let st = rfs::fstat(&fd)?;
    if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "not a regular file"));
    }
    if st.st_size as u64 > MAX_META_BYTES {
        let why = format!("{} bytes, more than the limit of {MAX_META_BYTES}", st.st_size);
        return Err(io::Error::new(io::ErrorKind::InvalidData, why));
    }
    let mut buf = Vec::with_capacity(st.st_size as usize);
    std::fs::File::from(fd).take(MAX_META_BYTES + 1).read_to_end(&mut buf)?;
    Ok(buf)
}

/// Read an open regular file from its start, up to the metadata size limit.
pub fn read_fd(fd: BorrowedFd<'_>) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; MAX_META_BYTES as usize];
    let mut len = 0;
    while len < buf.len() {
        match rustix::io::pread(fd, &mut buf[len..], len as u64)? {
            0 => break,
            n => len += n,
        }
    }
    buf.truncate(len);
    Ok(buf)
}

/// Whether `name` in `dir` is the root of a mount (`STATX_ATTR_MOUNT_ROOT`, Linux 5.8), not
/// following a final symlink.
pub fn is_mount_root(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<bool> {
    let st = rfs::statx(dir, name, AtFlags::SYMLINK_NOFOLLOW | AtFlags::NO_AUTOMOUNT, rfs::StatxFlags::BASIC_STATS)?;
    if !st.stx_attributes_mask.contains(rfs::StatxAttributes::MOUNT_ROOT) {
        return Err(io::Error::new(io::ErrorKind::Unsupported, "statx does not report mount roots"));
    }
    Ok(st.stx_attributes.contains(rfs::StatxAttributes::MOUNT_ROOT))
}

/// A file being written under a name of its own in `dir` (created, never replacing anything),
/// removed again on every path that does not keep it: a write that fails (a full disk, a
/// quota) leaves nothing behind. [`TempFile::rename_to`] publishes it under its final name;
/// [`TempFile::keep`] keeps it where it is. What a crash leaves, its name's prefix tells
/// the next cleaner.
#[derive(Debug)]
pub struct TempFile<'d> {
    dir: BorrowedFd<'d>,
    name: std::ffi::OsString,
    file: Option<std::fs::File>,
}

impl<'d> TempFile<'d> {
    /// Create `name` in `dir` (it must not exist), with `mode` (the umask does not apply).
    pub fn create(dir: BorrowedFd<'d>, name: &OsStr, mode: u32) -> io::Result<TempFile<'d>> {
        let fd = rfs::openat(
            dir,
            name,
            OFlags::RDWR | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(mode),
        )?;
        let t = TempFile { dir, name: name.to_owned(), file: Some(fd.into()) };
        rfs::fchmod(t.fd(), Mode::from_raw_mode(mode))?;
        Ok(t)
    }

    fn fd(&self) -> BorrowedFd<'_> {
        self.file.as_ref().expect("a TempFile's file is taken only by consuming it").as_fd()
    }

    /// The file to write to.
    pub fn file(&mut self) -> &mut std::fs::File {
        self.file.as_mut().expect("a TempFile's file is taken only by consuming it")
    }

    /// Write `data` and sync it.
    pub fn write_synced(&mut self, data: &[u8]) -> io::Result<()> {
        let f = self.file();
        f.write_all(data)?;
        f.sync_all()
    }

    /// Keep the file under its name: it is the caller's from now on.
    pub fn keep(mut self) -> std::fs::File {
        self.file.take().expect("a TempFile's file is taken only by consuming it")
    }

    /// Rename the file to `to` in `to_dir` (replacing what has that name); on failure it is
    /// removed. Returns the file, open.
    pub fn rename_to(self, to_dir: BorrowedFd<'_>, to: &OsStr) -> io::Result<std::fs::File> {
        rfs::renameat(self.dir, self.name.as_os_str(), to_dir, to)?;
        Ok(self.keep())
    }
}

impl Drop for TempFile<'_> {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = rfs::unlinkat(self.dir, self.name.as_os_str(), AtFlags::empty());
        }
    }
}

/// Write `data` to `name` in `dir` atomically: a temporary file in `tmp` (a directory on the
/// same filesystem), written, fsynced, renamed over `name`, then `dir` fsynced. A crash leaves
/// either the old content or the new, never a mix, and at most a temporary in `tmp`, never in
/// `dir` (the store's writers pass its `tmp/`, which the next mutation empties); a failure
/// leaves no temporary at all. The temporary's name starts with `.tmp-`.
pub fn write_atomic(tmp: BorrowedFd<'_>, dir: BorrowedFd<'_>, name: &OsStr, data: &[u8], mode: u32) -> io::Result<()> {
    let temp = format!(".tmp-{}-{}", name.to_string_lossy(), random_suffix());
    let mut t = TempFile::create(tmp, OsStr::new(&temp), mode)?;
    t.write_synced(data)?;
    crate::failpoint::hit("atomic-write-before-rename");
    t.rename_to(dir, name)?;
    rfs::fsync(dir)?;
    Ok(())
}

/// Create `name` in `dir` (it must not exist), write `data` and fsync it; on failure nothing
/// is left under `name`. For files in a directory nobody else sees yet; everywhere else use
/// [`write_atomic`].
pub fn write_new(dir: BorrowedFd<'_>, name: &OsStr, data: &[u8], mode: u32) -> io::Result<()> {
    let mut t = TempFile::create(dir, name, mode)?;
    t.write_synced(data)?;
    t.keep();
    Ok(())
}

/// The value of extended attribute `name` of `fd`, at most [`MAX_META_BYTES`];
/// `Ok(None)` when it is not set or the filesystem has no extended attributes.
pub fn get_xattr(fd: BorrowedFd<'_>, name: &str) -> io::Result<Option<Vec<u8>>> {
    let mut buf = vec![0u8; 4096];
    loop {
        match rfs::fgetxattr(fd, name, &mut buf) {
            Ok(n) => {
                buf.truncate(n);
                return Ok(Some(buf));
            }
            Err(Errno::NODATA | Errno::OPNOTSUPP) => return Ok(None),
            Err(Errno::RANGE) if (buf.len() as u64) < MAX_META_BYTES => buf.resize(buf.len() * 4, 0),
            Err(e) => return Err(e.into()),
        }
    }
}

/// Create extended attribute `name` on `fd` (it must not exist yet).
pub fn create_xattr(fd: BorrowedFd<'_>, name: &str, value: &[u8]) -> io::Result<()> {
    Ok(rfs::fsetxattr(fd, name, value, rfs::XattrFlags::CREATE)?)
}

/// Remove extended attribute `name` from `fd`; absent is fine.
pub fn remove_xattr(fd: BorrowedFd<'_>, name: &str) -> io::Result<()> {
    match rfs::fremovexattr(fd, name) {
        Ok(()) | Err(Errno::NODATA | Errno::OPNOTSUPP) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// A short random suffix for temporary names.
pub fn random_suffix() -> String {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).expect("the kernel's random number source is unavailable");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Rename `from` to `to` within `dir`, failing with `EEXIST` rather than replacing anything.
pub fn rename_noreplace(dir: BorrowedFd<'_>, from: &OsStr, to: &OsStr) -> io::Result<()> {
    Ok(rfs::renameat_with(dir, from, dir, to, RenameFlags::NOREPLACE)?)
}

/// Try to take an exclusive flock on `fd` without blocking. `Ok(false)` when someone else
/// holds a lock on it.
pub fn try_lock_exclusive(fd: BorrowedFd<'_>) -> io::Result<bool> {
    try_flock(fd, FlockOperation::NonBlockingLockExclusive)
}

/// Try to take a shared flock without blocking. `Ok(false)` when someone holds it exclusively.
pub fn try_lock_shared(fd: BorrowedFd<'_>) -> io::Result<bool> {
    try_flock(fd, FlockOperation::NonBlockingLockShared)
}

fn try_flock(fd: BorrowedFd<'_>, op: FlockOperation) -> io::Result<bool> {
    loop {
        match rfs::flock(fd, op) {
            Ok(()) => return Ok(true),
            Err(Errno::WOULDBLOCK) => return Ok(false),
            Err(Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// Block until a shared flock on `fd` is ours.
pub fn lock_shared(fd: BorrowedFd<'_>) -> io::Result<()> {
    loop {
        match rfs::flock(fd, FlockOperation::LockShared) {
            Err(Errno::INTR) => continue,
            other => return Ok(other?),
        }
    }
}

/// Block until an exclusive flock on `fd` is ours.
pub fn lock_exclusive(fd: BorrowedFd<'_>) -> io::Result<()> {
    loop {
        match rfs::flock(fd, FlockOperation::LockExclusive) {
            Err(Errno::INTR) => continue,
            other => return Ok(other?),
        }
    }
}

/// The names in a directory, without `.` and `..`.
pub fn list_dir(dir: BorrowedFd<'_>) -> io::Result<Vec<(Vec<u8>, FileType)>> {
    let mut out = Vec::new();
    let d = Dir::read_from(dir)?;
    for entry in d {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        if name == b"." || name == b".." {
            continue;
        }
        out.push((name.to_vec(), entry.file_type()));
    }
    Ok(out)
}

/// A C string for a name known to contain no NUL.
pub fn cstr_name(name: &str) -> std::ffi::CString {
    std::ffi::CString::new(name).unwrap_or_default()
}

/// Borrow a `CStr` as an `OsStr`.
pub fn cstr_os(c: &CStr) -> &OsStr {
    OsStr::from_bytes(c.to_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn a_failed_write_leaves_no_temporary() {
        let t = tempfile::tempdir().unwrap();
        let (tmp, dir) = (t.path().join("tmp"), t.path().join("dir"));
        std::fs::create_dir_all(dir.join("taken/inside")).unwrap();
        std::fs::create_dir(&tmp).unwrap();
        let open = |p: &std::path::Path| rfs::open(p, OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty()).unwrap();
        let (tmp_fd, dir_fd) = (open(&tmp), open(&dir));
        // The rename fails: `taken` is a directory that is not empty.
        let e = write_atomic(tmp_fd.as_fd(), dir_fd.as_fd(), OsStr::new("taken"), b"data", 0o600).unwrap_err();
        assert!(matches!(e.raw_os_error(), Some(libc::EISDIR | libc::ENOTEMPTY)), "{e}");
        assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0, "a temporary was left");
        // A temporary dropped unpublished is removed; one kept stays.
        let mut f = TempFile::create(tmp_fd.as_fd(), OsStr::new(".new-x"), 0o600).unwrap();
        f.file().write_all(b"half").unwrap();
        drop(f);
        assert!(!tmp.join(".new-x").exists());
        TempFile::create(tmp_fd.as_fd(), OsStr::new("kept"), 0o640).unwrap().keep();
        let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(tmp.join("kept")).unwrap().permissions());
        assert_eq!(mode & 0o777, 0o640);
        write_atomic(tmp_fd.as_fd(), dir_fd.as_fd(), OsStr::new("f"), b"data", 0o600).unwrap();
        assert_eq!(std::fs::read(dir.join("f")).unwrap(), b"data");
        assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 1);
    }

    fn open(p: &std::path::Path) -> OwnedFd {
        rfs::open(p, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty()).unwrap()
    }

    #[test]
    fn open_beneath_refuses_symlinks_and_escapes() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir(t.path().join("d")).unwrap();
        std::fs::write(t.path().join("d/f"), "x").unwrap();
        symlink("/etc", t.path().join("l")).unwrap();
        let fd = open(t.path());
        assert!(open_beneath(fd.as_fd(), OsStr::new("d/f"), OFlags::RDONLY, Mode::empty()).is_ok());
        assert!(open_beneath(fd.as_fd(), OsStr::new("l/passwd"), OFlags::RDONLY, Mode::empty()).is_err());
        assert!(open_beneath(fd.as_fd(), OsStr::new("../x"), OFlags::RDONLY, Mode::empty()).is_err());
        assert!(open_nofollow_walk(fd.as_fd(), OsStr::new("l/passwd"), OFlags::RDONLY, Mode::empty()).is_err());
        assert!(open_nofollow_walk(fd.as_fd(), OsStr::new("d/f"), OFlags::RDONLY, Mode::empty()).is_ok());
    }

    #[test]
    fn read_small_file_refuses_fifos_and_big_files() {
        let t = tempfile::tempdir().unwrap();
        nix::unistd::mkfifo(&t.path().join("fifo"), nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        std::fs::write(t.path().join("big"), vec![b'x'; (MAX_META_BYTES + 1) as usize]).unwrap();
        std::fs::write(t.path().join("ok"), "{}").unwrap();
        let fd = open(t.path());
        assert!(read_small_file(fd.as_fd(), OsStr::new("fifo")).is_err());
        assert!(read_small_file(fd.as_fd(), OsStr::new("big")).is_err());
        assert_eq!(read_small_file(fd.as_fd(), OsStr::new("ok")).unwrap(), b"{}");
    }

    #[test]
    fn write_atomic_replaces_content_through_a_temporary_elsewhere() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir(t.path().join("tmp")).unwrap();
        std::fs::create_dir(t.path().join("dir")).unwrap();
        let (tmp, dir) = (open(&t.path().join("tmp")), open(&t.path().join("dir")));
        write_atomic(tmp.as_fd(), dir.as_fd(), OsStr::new("m.json"), b"one", 0o600).unwrap();
        write_atomic(tmp.as_fd(), dir.as_fd(), OsStr::new("m.json"), b"two", 0o600).unwrap();
        assert_eq!(std::fs::read_to_string(t.path().join("dir/m.json")).unwrap(), "two");
        assert_eq!(std::fs::read_dir(t.path().join("dir")).unwrap().count(), 1);
        assert_eq!(std::fs::read_dir(t.path().join("tmp")).unwrap().count(), 0);
    }
}
