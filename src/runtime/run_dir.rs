//! A run's private directory, `<root>/runs/<id>/{upper,work,merged}`: the overlay over the
//! rootfs. The store makes and locks `runs/<id>/` (and cleans it up after a crash); what is
//! inside is the run's.

use std::os::fd::AsFd;
use std::path::PathBuf;

use rustix::fs::{self as rfs, Mode};

use crate::store::layout::{PRIVATE_DIR_MODE, RUN_MERGED, RUN_UPPER, RUN_WORK};
use crate::store::{LockedRunDir, Store, StoreError};

/// A run's private directory, flock-ed while this guard lives. [`RunDir::remove`] (or drop)
/// deletes it; what cannot be deleted then (still busy) is left to the next mutation's
/// cleanup.
#[derive(Debug)]
pub struct RunDir {
    dir: LockedRunDir,
}

impl RunDir {
    /// A new run directory with an empty overlay (`upper/`, `work/`, `merged/`).
    pub fn create(store: &Store) -> Result<RunDir, StoreError> {
        let dir = store.new_run_dir()?;
        for (sub, mode) in [(RUN_UPPER, 0o755), (RUN_WORK, PRIVATE_DIR_MODE), (RUN_MERGED, 0o755)] {
            rfs::mkdirat(dir.dir().as_fd(), sub, Mode::from_raw_mode(mode)).map_err(|e| StoreError::Io {
                op: "mkdir",
                path: dir.path().join(sub),
                source: e.into(),
            })?;
        }
        Ok(RunDir { dir })
    }

    /// The directory's path.
    pub fn path(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// 64 hex characters.
    pub fn id(&self) -> &str {
        self.dir.id()
    }

    /// The overlay's upper (writable) directory.
    pub fn upper(&self) -> PathBuf {
        self.dir.path().join(RUN_UPPER)
    }

    /// The overlay's work directory.
    pub fn work(&self) -> PathBuf {
        self.dir.path().join(RUN_WORK)
    }

    /// Where the overlay is mounted (in the run's mount namespace only).
    pub fn merged(&self) -> PathBuf {
        self.dir.path().join(RUN_MERGED)
    }

    /// Where the run attaches the overlay of its `index`-th mount, an image mounted with a
    /// subpath, to pick the subpath from it (made by the run, mounted in its namespace only).
    pub fn staging(&self, index: usize) -> PathBuf {
        self.dir.path().join(format!("image-{index}"))
    }

    /// Delete the directory and everything in it (by fd, crossing no mount point).
    pub fn remove(self) {
        drop(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_dir_has_its_overlay_and_goes_with_its_guard() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::new(tmp.path().join("root"));
        let run = RunDir::create(&store).unwrap();
        for d in [run.upper(), run.work(), run.merged()] {
            assert!(d.is_dir(), "{}", d.display());
        }
        assert_eq!(run.upper().parent().unwrap().file_name().unwrap(), run.id());
        let runs = tmp.path().join("root/runs");
        assert_eq!(std::fs::read_dir(&runs).unwrap().count(), 1);
        run.remove();
        assert_eq!(std::fs::read_dir(&runs).unwrap().count(), 0);
    }
}
