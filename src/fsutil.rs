//! File-descriptor-relative filesystem helpers: every path here is one component, or a
//! relative path resolved beneath a directory fd with symlinks refused. Nothing here follows
//! a symlink or crosses a mount point while walking a tree.

use std::ffi::{CStr, OsStr};
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use rustix::fs::{self as rfs, AtFlags, Dir, FileType, FlockOperation, Mode, OFlags, RenameFlags, ResolveFlags};
use rustix::io::Errno;

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

/// A file that appears under its name only once complete (`volume export -o FILE`): written
/// unnamed (`O_TMPFILE`), then linked in with `linkat`, so that a process killed while it
/// writes leaves nothing behind. Replacing an existing file goes through a temporary name
/// beside it for the instant between `linkat` and `rename`.
///
/// Where `O_TMPFILE` is not supported (some FUSE and network filesystems), the file is
/// written under that temporary name, `.NAME.tmp-<hex>`, from the start. Either way the
/// temporary is flock-ed while its writer lives, and the next [`NewFile::create`] for the
/// same name removes the ones whose writer is gone.
#[derive(Debug)]
pub struct NewFile {
    file: std::fs::File,
    dir: OwnedFd,
    name: std::ffi::OsString,
    /// The temporary name when the file has one (the fallback).
    temp: Option<std::ffi::OsString>,
}

impl NewFile {
    /// Start writing `name` in the directory `dir`, with mode 0600 until [`NewFile::persist`].
    pub fn create(dir: &std::path::Path, name: &OsStr) -> io::Result<NewFile> {
        let dir = rfs::open(dir, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())?;
        remove_stale_temps(dir.as_fd(), name);
        let mode = Mode::from_raw_mode(0o600);
        let (fd, temp) = match rfs::openat(&dir, c".", OFlags::WRONLY | OFlags::TMPFILE | OFlags::CLOEXEC, mode) {
            Ok(fd) if linkable(fd.as_fd()) => (fd, None),
            Ok(_) | Err(Errno::OPNOTSUPP | Errno::ISDIR | Errno::INVAL | Errno::NOENT) => {
                let temp = temp_name(name);
                let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
                (rfs::openat(&dir, temp.as_os_str(), flags, mode)?, Some(temp))
            }
            Err(e) => return Err(e.into()),
        };
        // Marks the temporary as alive for `remove_stale_temps`.
        try_lock_exclusive(fd.as_fd())?;
        Ok(NewFile { file: fd.into(), dir, name: name.to_owned(), temp })
    }

    /// The file to write to.
    pub fn file(&mut self) -> &mut std::fs::File {
        &mut self.file
    }

    /// Give the complete file `mode` and its name, replacing what had that name; the file and
    /// the directory are synced first and after.
    pub fn persist(mut self, mode: u32) -> io::Result<()> {
        self.file.sync_all()?;
        rfs::fchmod(&self.file, Mode::from_raw_mode(mode))?;
        crate::failpoint::hit("new-file-before-link");
        let temp = match self.temp.take() {
            Some(temp) => temp,
            None => {
                match link_fd(self.file.as_fd(), self.dir.as_fd(), &self.name) {
                    Ok(()) => return rfs::fsync(&self.dir).map_err(Into::into),
                    Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {}
                    Err(e) => return Err(e),
                }
                let temp = temp_name(&self.name);
                link_fd(self.file.as_fd(), self.dir.as_fd(), &temp)?;
                temp
            }
        };
        let renamed = rfs::renameat(&self.dir, temp.as_os_str(), &self.dir, self.name.as_os_str());
        if renamed.is_err() {
            let _ = rfs::unlinkat(&self.dir, temp.as_os_str(), AtFlags::empty());
        }
        renamed?;
        Ok(rfs::fsync(&self.dir)?)
    }
}

impl Drop for NewFile {
    /// Not persisted: an unnamed file goes with its descriptor; a named one is removed.
    fn drop(&mut self) {
        if let Some(temp) = &self.temp {
            let _ = rfs::unlinkat(&self.dir, temp.as_os_str(), AtFlags::empty());
        }
    }
}

/// `.NAME.tmp-<hex>`.
fn temp_name(name: &OsStr) -> std::ffi::OsString {
    let mut temp = std::ffi::OsString::from(".");
    temp.push(name);
    temp.push(".tmp-");
    temp.push(random_suffix());
    temp
}

/// Remove `.NAME.tmp-*` in `dir` that no live writer holds (its writer was killed).
fn remove_stale_temps(dir: BorrowedFd<'_>, name: &OsStr) {
    let mut prefix = b".".to_vec();
    prefix.extend_from_slice(name.as_bytes());
    prefix.extend_from_slice(b".tmp-");
    for (entry, ftype) in list_dir(dir).unwrap_or_default() {
        if !entry.starts_with(&prefix) || !matches!(ftype, FileType::RegularFile | FileType::Unknown) {
            continue;
        }
        let entry = OsStr::from_bytes(&entry);
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        if let Ok(fd) = rfs::openat(dir, entry, flags, Mode::empty())
            && rfs::fstat(&fd).is_ok_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::RegularFile)
            && try_lock_exclusive(fd.as_fd()).unwrap_or(false)
        {
            let _ = rfs::unlinkat(dir, entry, AtFlags::empty());
        }
    }
}

/// `/proc/self/fd/N` of an open file, for `linkat`.
fn proc_fd(fd: BorrowedFd<'_>) -> String {
    use std::os::fd::AsRawFd;
    format!("/proc/self/fd/{}", fd.as_raw_fd())
}

/// Whether an unnamed file can be given a name: through `/proc/self/fd` (any user), or with
/// `AT_EMPTY_PATH` (which needs `CAP_DAC_READ_SEARCH`).
fn linkable(fd: BorrowedFd<'_>) -> bool {
    rfs::statat(rfs::CWD, proc_fd(fd).as_str(), AtFlags::empty()).is_ok()
        || rustix::thread::capabilities(None)
            .is_ok_and(|c| c.effective.contains(rustix::thread::CapabilitySet::DAC_READ_SEARCH))
}

/// Give the open file `fd` the name `name` in `dir` (it must not exist).
fn link_fd(fd: BorrowedFd<'_>, dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<()> {
    match rfs::linkat(rfs::CWD, proc_fd(fd).as_str(), dir, name, AtFlags::SYMLINK_FOLLOW) {
        Ok(()) => Ok(()),
        Err(Errno::NOENT) => Ok(rfs::linkat(fd, c"", dir, name, AtFlags::EMPTY_PATH)?),
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

    #[test]
    fn a_new_file_appears_only_when_persisted_and_leaves_nothing_otherwise() {
        let t = tempfile::tempdir().unwrap();
        let name = OsStr::new("out.tar");
        let mut f = NewFile::create(t.path(), name).unwrap();
        f.file().write_all(b"first").unwrap();
        assert_eq!(std::fs::read_dir(t.path()).unwrap().count(), 0, "unnamed while written");
        f.persist(0o640).unwrap();
        assert_eq!(std::fs::read(t.path().join("out.tar")).unwrap(), b"first");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(t.path().join("out.tar")).unwrap().permissions().mode() & 0o777, 0o640);
        // Replacing, and dropping one unfinished.
        let mut f = NewFile::create(t.path(), name).unwrap();
        f.file().write_all(b"second").unwrap();
        f.persist(0o644).unwrap();
        assert_eq!(std::fs::read(t.path().join("out.tar")).unwrap(), b"second");
        let mut f = NewFile::create(t.path(), name).unwrap();
        f.file().write_all(b"never").unwrap();
        drop(f);
        let names: Vec<_> = std::fs::read_dir(t.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["out.tar"]);
        assert_eq!(std::fs::read(t.path().join("out.tar")).unwrap(), b"second");
    }

    #[test]
    fn temporaries_of_dead_writers_are_removed_by_the_next_new_file_of_that_name() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join(".out.tar.tmp-0123456789abcdef"), "dead").unwrap();
        std::fs::write(t.path().join(".other.tar.tmp-0123456789abcdef"), "not ours").unwrap();
        let live = t.path().join(".out.tar.tmp-fedcba9876543210");
        std::fs::write(&live, "alive").unwrap();
        let held = std::fs::File::open(&live).unwrap();
        assert!(try_lock_exclusive(held.as_fd()).unwrap());
        drop(NewFile::create(t.path(), OsStr::new("out.tar")).unwrap());
        let mut names: Vec<_> =
            std::fs::read_dir(t.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        assert_eq!(names, [".other.tar.tmp-0123456789abcdef", ".out.tar.tmp-fedcba9876543210"]);
    }
}
