//! What the store's unit tests share: a store in a temporary directory, and a copy of it as a
//! crash at a failpoint would leave it.

use std::ffi::OsStr;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::layout::LOCK_FILE;
use super::{CreateRequest, Store};
use crate::fsutil;
use crate::name::VolumeName;

pub fn name(s: &str) -> VolumeName {
    VolumeName::parse(s).unwrap()
}

/// `volume create NAME`, local driver, no options.
pub fn request(s: &str) -> CreateRequest {
    CreateRequest { name: Some(name(s)), ..CreateRequest::default() }
}

pub struct TempStore {
    _dir: tempfile::TempDir,
    pub store: Store,
}

impl TempStore {
    pub fn new() -> TempStore {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("root"));
        TempStore { _dir: dir, store }
    }

    /// A store over an existing root (a crash copy).
    pub fn at(root: &Path) -> Store {
        Store::new(root)
    }

    pub fn root(&self) -> &Path {
        self.store.root()
    }

    pub fn create(&self, s: &str) {
        assert!(self.store.create(request(s)).unwrap().created);
    }

    /// The volume's `_data` path.
    pub fn data(&self, s: &str) -> PathBuf {
        self.root().join("volumes").join(s).join("_data")
    }

    /// `<root>/<rel>`, a directory, opened.
    pub fn open_dir(&self, rel: &str) -> OwnedFd {
        fsutil::open_dir(dir_fd(self.root()).as_fd(), OsStr::new(rel)).unwrap()
    }

    /// The sorted names in `<root>/<rel>` (none when it does not exist).
    pub fn entries(&self, rel: &str) -> Vec<String> {
        entries(&self.root().join(rel))
    }

    /// Whether nobody holds the store lock (we could take it now).
    pub fn lock_is_free(&self) -> bool {
        lock_is_free(self.root())
    }
}

/// A directory, opened (absolute paths, which `fsutil::open_dir` refuses).
pub fn dir_fd(path: &Path) -> OwnedFd {
    std::fs::File::open(path).unwrap().into()
}

pub fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.map(|e| e.unwrap().file_name().into_string().unwrap()).collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

pub fn lock_is_free(root: &Path) -> bool {
    let f = std::fs::File::open(root.join(LOCK_FILE)).unwrap();
    fsutil::try_lock_exclusive(f.as_fd()).unwrap()
}

/// Copies of the store taken at failpoints: what a crash (`kill -9`) at that instant would
/// leave on disk (a copy holds no locks, as a dead process holds none).
#[derive(Clone, Default)]
pub struct Crashes {
    taken: Arc<Mutex<Vec<(String, tempfile::TempDir)>>>,
}

impl Crashes {
    /// A hook for [`crate::failpoint::observe`] that copies `root` at every failpoint.
    pub fn hook(&self, root: &Path) -> impl FnMut(&str) + 'static {
        let taken = self.taken.clone();
        let root = root.to_owned();
        move |point| {
            let copy = tempfile::tempdir().unwrap();
            crate::copy::copy_tree(dir_fd(&root).as_fd(), dir_fd(copy.path()).as_fd()).unwrap();
            taken.lock().unwrap().push((point.to_owned(), copy));
        }
    }

    /// The failpoints reached, in order.
    pub fn points(&self) -> Vec<String> {
        self.taken.lock().unwrap().iter().map(|(p, _)| p.clone()).collect()
    }

    /// The store as a crash at `point` left it.
    pub fn at(&self, point: &str) -> (tempfile::TempDir, Store) {
        let mut taken = self.taken.lock().unwrap();
        let i = taken.iter().position(|(p, _)| p == point).unwrap_or_else(|| panic!("failpoint {point} not reached"));
        let (_, dir) = taken.remove(i);
        let store = Store::new(dir.path());
        (dir, store)
    }
}

/// A [`LocalLimits`](super::LocalLimits) for tests: it records what it is asked, in words, and
/// stands for a disk image with a file `disk.img` listing the content it was made from.
#[derive(Debug)]
pub struct FakeLimits {
    pub mode: super::QuotaMode,
    pub calls: Mutex<Vec<String>>,
}

impl FakeLimits {
    pub fn new(mode: super::QuotaMode) -> Arc<FakeLimits> {
        Arc::new(FakeLimits { mode, calls: Mutex::default() })
    }

    pub fn calls(&self) -> Vec<String> {
        std::mem::take(&mut self.calls.lock().unwrap())
    }

    fn image(dirs: &super::BuildDirs<'_>, content: &str) -> std::io::Result<()> {
        use rustix::fs::{Mode, OFlags};
        let _ = rustix::fs::unlinkat(dirs.dir, "disk.img", rustix::fs::AtFlags::empty());
        let fd = rustix::fs::openat(
            dirs.dir,
            "disk.img",
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL,
            Mode::from_raw_mode(0o600),
        )?;
        rustix::io::write(&fd, content.as_bytes())?;
        Ok(())
    }
}

impl super::LocalLimits for FakeLimits {
    fn requested(
        &self,
        options: &std::collections::BTreeMap<String, String>,
    ) -> Result<Option<(u64, Option<super::QuotaMode>)>, super::BoxedError> {
        Ok(crate::driver::quota::requested(options)?)
    }

    fn create(
        &self,
        size: u64,
        forced: Option<super::QuotaMode>,
        root: super::Owner,
        dirs: super::BuildDirs<'_>,
        project_ids: &dyn Fn() -> Vec<u32>,
        content_follows: bool,
    ) -> Result<super::Quota, super::BoxedError> {
        let mode = forced.unwrap_or(self.mode);
        self.calls.lock().unwrap().push(format!("create {size} {forced:?} {:o} follows={content_follows}", root.mode));
        let project_id = match mode {
            super::QuotaMode::Project => Some(project_ids().into_iter().max().unwrap_or(100) + 1),
            super::QuotaMode::Image => {
                if !content_follows {
                    FakeLimits::image(&dirs, "")?;
                }
                None
            }
        };
        Ok(super::Quota { mode, size, project_id })
    }

    fn before_fill(&self, quota: &super::Quota, _dirs: super::BuildDirs<'_>) -> Result<(), super::BoxedError> {
        self.calls.lock().unwrap().push(format!("before {:?} {:?}", quota.mode, quota.project_id));
        Ok(())
    }

    fn after_fill(&self, quota: &super::Quota, dirs: super::BuildDirs<'_>) -> Result<(), super::BoxedError> {
        self.calls.lock().unwrap().push(format!("after {:?}", quota.mode));
        if quota.mode == super::QuotaMode::Image {
            let mut names: Vec<String> = fsutil::list_dir(dirs.data)?
                .into_iter()
                .map(|(n, _)| String::from_utf8_lossy(&n).into_owned())
                .collect();
            names.sort();
            FakeLimits::image(&dirs, &names.join(","))?;
            for n in names {
                fsutil::remove_tree(dirs.data, OsStr::new(&n))?;
            }
        }
        Ok(())
    }
}
