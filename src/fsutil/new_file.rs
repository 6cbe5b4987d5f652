//! [`NewFile`]: a file that appears under its name only once it is complete, so that a writer
//! killed half-way leaves nothing behind.

use std::ffi::OsStr;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;

use super::{list_dir, random_suffix, try_lock_exclusive};

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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

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
