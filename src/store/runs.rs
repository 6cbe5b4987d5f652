//! A run's private directory, `<root>/runs/<id>/`: made under the store lock and flock-ed
//! before the lock is released, so that cleaners skip it while its holder lives and remove
//! it once the holder is gone (even after a crash). What goes inside is the run's business
//! (`crate::runtime`: src/runtime/run_dir.rs).

use std::ffi::OsStr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{self as rfs, Mode};

use super::layout::*;
use super::{Result, Store};
use crate::fsutil;

/// `<root>/runs/<id>/`, flock-ed while this guard lives. Dropping it deletes the directory and
/// everything in it (by fd, crossing no mount point); what cannot be deleted then (still
/// busy) is left to the next mutation's cleanup.
#[derive(Debug)]
pub struct LockedRunDir {
    id: String,
    path: PathBuf,
    runs: OwnedFd,
    dir: OwnedFd,
}

impl LockedRunDir {
    /// 64 hex characters.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// `<root>/runs/<id>`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The directory, open.
    pub fn dir(&self) -> BorrowedFd<'_> {
        self.dir.as_fd()
    }
}

impl Drop for LockedRunDir {
    fn drop(&mut self) {
        // Still holding our lock, so no cleaner works on it at the same time.
        let _ = fsutil::remove_tree(self.runs.as_fd(), OsStr::new(&self.id));
    }
}

impl Store {
    /// Make an empty private directory for one run, `runs/<id>/`, flock-ed until the returned
    /// guard is dropped.
    pub fn new_run_dir(&self) -> Result<LockedRunDir> {
        let h = self.open_write()?;
        let runs = fsutil::open_dir(h.root.as_fd(), OsStr::new(RUNS_DIR)).map_err(|e| self.io("open", RUNS_DIR, e))?;
        let id = crate::name::random_hex_id();
        let rel_id = format!("{RUNS_DIR}/{id}");
        rfs::mkdirat(&runs, id.as_str(), Mode::from_raw_mode(PRIVATE_DIR_MODE))
            .map_err(|e| self.io("mkdir", &rel_id, e))?;
        let dir = fsutil::open_dir(runs.as_fd(), OsStr::new(&id)).map_err(|e| self.io("open", &rel_id, e))?;
        let guard = LockedRunDir { path: run_dir(&self.root, &id), id, runs, dir };
        // Locked before the store lock is released, so no cleaner ever sees it unlocked.
        fsutil::try_lock_exclusive(guard.dir.as_fd()).map_err(|e| self.io("lock", &rel_id, e))?;
        drop(h);
        Ok(guard)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testutil::*;

    #[test]
    fn a_run_dir_lives_while_held_and_goes_with_its_guard() {
        let t = TempStore::new();
        let run = t.store.new_run_dir().unwrap();
        assert_eq!(run.id().len(), 64);
        assert_eq!(run.path(), t.root().join(RUNS_DIR).join(run.id()));
        rfs::mkdirat(run.dir(), "upper", Mode::from_raw_mode(0o755)).unwrap();
        assert!(t.lock_is_free(), "the store lock is not held while the run lives");
        // Another command's mutation does not touch it.
        t.create("v1");
        assert!(run.path().join("upper").is_dir());
        drop(run);
        assert!(t.entries(RUNS_DIR).is_empty());
    }

    #[test]
    fn a_run_dir_left_by_a_dead_run_is_removed_by_the_next_mutation() {
        let t = TempStore::new();
        let run = t.store.new_run_dir().unwrap();
        let id = run.id().to_owned();
        // What `kill -9` of the run's supervisor leaves: the directory, unlocked.
        let copy = tempfile::tempdir().unwrap();
        crate::copy::copy_tree(dir_fd(t.root()).as_fd(), dir_fd(copy.path()).as_fd()).unwrap();
        drop(run);
        let crashed = TempStore::at(copy.path());
        assert_eq!(entries(&copy.path().join(RUNS_DIR)), [id]);
        crashed.create(request("v1")).unwrap();
        assert!(entries(&copy.path().join(RUNS_DIR)).is_empty());
    }
}
