//! The managed root: volumes, their metadata, the store lock and in-use leases.
//!
//! Guarantees (see docs/store-format.md):
//! - every mutation holds the store lock (an exclusive flock on `store.lock`);
//! - a volume appears with one rename of a complete directory from `tmp/`, and disappears with
//!   one rename into `trash/`; metadata is written temp → fsync → rename;
//! - readers take no lock: they see a volume whole or not at all, and never fail because a
//!   volume vanished under them;
//! - whatever a crash leaves in `tmp/` or `trash/` is removed by the next mutation.

mod attach;
pub mod layout;
mod lease;
pub mod meta;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{self as rfs, Mode, OFlags};
use rustix::io::Errno;
use thiserror::Error;

pub use attach::VolumeLock;
use layout::*;
pub use lease::{Lease, LeaseInfo, PIN_PREFIX};
use meta::{RenameJournal, StoreMeta, VolumeMeta};

use crate::copy::{self, CopyStats};
use crate::driver::{self, local::LocalOptionError};
use crate::failpoint;
use crate::fsutil;
use crate::name::{NameError, VolumeName};

/// The label Docker puts on anonymous volumes.
pub const ANONYMOUS_LABEL: &str = "com.docker.volume.anonymous";

/// What went wrong in the store. Messages are the body of Docker's daemon errors where
/// Docker has one (`create NAME: …`, `get NAME: no such volume`, `remove NAME: …`).
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("create {name}: {source}")]
    InvalidName { name: String, source: NameError },
    #[error("create {name}: {source}")]
    InvalidOption { name: String, source: LocalOptionError },
    #[error(
        "create {name}: error looking up volume plugin {driver}: plugin {} not found",
        crate::text::go_quote(driver)
    )]
    UnknownDriver { name: String, driver: String },
    #[error("create {name}: driver '{existing}' already has volume '{name}': volume name must be unique")]
    Conflict { name: String, existing: String },
    #[error("create {name}: error while creating volume root path '{}': mkdir {}: {}", path.display(), path.display(), errno_text(source))]
    CreateDir { name: String, path: PathBuf, source: io::Error },
    #[error("get {0}: no such volume")]
    NotFound(String),
    #[error("remove {name}: volume is in use - [{}]", ids.join(", "))]
    InUse { name: String, ids: Vec<String> },
    /// Something is still mounted on the volume's `_data` with no user left (the next myvol
    /// invocation normally unmounts it first).
    #[error("remove {name}: volume is still mounted at {}", path.display())]
    Mounted { name: String, path: PathBuf },
    /// A volume plugin's answer, with the operation and the volume it was about.
    #[error("{op} {name}: {message}")]
    Driver { op: &'static str, name: String, message: String },
    /// `volume import` of a volume that a live process uses (without `--force`).
    #[error("volume {name} is in use - [{}]", ids.join(", "))]
    ImportBusy { name: String, ids: Vec<String> },
    /// `volume export|import` of a volume whose content is not kept in the store (tmpfs,
    /// bind, NFS: a volume with driver options).
    #[error("{op} {name}: volume has driver options: its content is not kept in the store")]
    NoContent { op: &'static str, name: String },
    /// `rename`, `clone`, `export`, `import` of a plugin volume.
    #[error("{op} {name}: volume of driver '{driver}': its content is not kept in the store")]
    External { op: &'static str, name: String, driver: String },
    #[error("{op} {name}: volume is in use - [{}]", ids.join(", "))]
    Busy { op: &'static str, name: String, ids: Vec<String> },
    /// `rename`/`clone` to a name that is taken.
    #[error("{op} {name}: volume {target} already exists")]
    TargetExists { op: &'static str, name: String, target: String },
    /// `rename`/`clone` to a name that is not a valid volume name.
    #[error("{op} {name}: {source}")]
    InvalidTarget { op: &'static str, name: String, source: NameError },
    #[error("clone {name}: copying {}: {}", path.display(), errno_text(source))]
    Copy { name: String, path: PathBuf, source: io::Error },
    #[error("get {name}: invalid metadata in {}: {detail}", path.display())]
    BadMeta { name: String, path: PathBuf, detail: String },
    #[error("{op} {}: {}", path.display(), errno_text(source))]
    Io { op: &'static str, path: PathBuf, source: io::Error },
    #[error(
        "the store at {} has format {found}, newer than this myvol understands ({FORMAT_VERSION}); use a newer myvol",
        path.display()
    )]
    FormatTooNew { path: PathBuf, found: u32 },
    #[error("refusing to use the store at {}: it is owned by uid {owner}, not by uid {uid} who runs myvol", path.display())]
    ForeignRoot { path: PathBuf, owner: u32, uid: u32 },
}

/// An `io::Error` as Go prints an errno: `no such file or directory`, `file name too long`.
pub fn errno_text(e: &io::Error) -> String {
    let s = e.to_string();
    let s = match s.find(" (os error ") {
        Some(i) => &s[..i],
        None => &s,
    };
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_lowercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A volume as the store knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    pub name: String,
    pub driver: String,
    /// RFC 3339 (UTC, nanoseconds) as recorded at creation.
    pub created_at: String,
    pub labels: Option<BTreeMap<String, String>>,
    pub options: Option<BTreeMap<String, String>>,
    /// `<root>/volumes/<name>/_data`.
    pub mountpoint: PathBuf,
    /// `local` for the local driver.
    pub scope: String,
}

impl Volume {
    /// Created without a name (carries Docker's anonymous label).
    pub fn is_anonymous(&self) -> bool {
        self.labels.as_ref().is_some_and(|l| l.contains_key(ANONYMOUS_LABEL))
    }

    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels.as_ref().and_then(|l| l.get(key)).map(String::as_str)
    }
}

/// What `volume create` asks for.
#[derive(Debug, Clone, Default)]
pub struct CreateRequest {
    /// `None` or empty: an anonymous volume with a generated name.
    pub name: Option<String>,
    /// Empty means `local`.
    pub driver: String,
    pub labels: BTreeMap<String, String>,
    pub options: BTreeMap<String, String>,
}

/// The result of a create: the volume, and whether it is new.
#[derive(Debug, Clone)]
pub struct Created {
    pub volume: Volume,
    pub created: bool,
}

/// What `prune` removed.
#[derive(Debug, Clone, Default)]
pub struct PruneReport {
    pub deleted: Vec<String>,
    pub reclaimed: u64,
}

/// A driver that keeps volumes outside the store (a Docker volume plugin). The store records
/// its volumes (name, driver, options, labels) and asks it to create and remove them, under
/// the store lock, so the record and the driver agree.
pub trait ExternalDriver: std::fmt::Debug + Send + Sync {
    /// Create volume `name` in `driver` (or adopt one the driver already has); returns the
    /// driver's scope. `options` is `None` when none were given. The error is the driver's
    /// message (the caller adds `create NAME: `).
    fn create(&self, driver: &str, name: &str, options: Option<&BTreeMap<String, String>>) -> Result<String, String>;
    /// Remove volume `name` from `driver`.
    fn remove(&self, driver: &str, name: &str) -> Result<(), String>;
    /// Whether `driver` can be found, without asking it anything (a run's plan checks this).
    fn find(&self, driver: &str) -> Result<(), String>;
}

/// The managed root.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
    external: Option<std::sync::Arc<dyn ExternalDriver>>,
}

/// The store opened for reading.
struct ReadHandle {
    volumes: OwnedFd,
}

/// The store opened for a mutation; the lock is released on drop.
struct WriteHandle {
    root: OwnedFd,
    volumes: OwnedFd,
    _lock: OwnedFd,
}

impl Store {
    /// A store rooted at `root` (made absolute against the current directory). Nothing is
    /// touched until a command reads or writes.
    pub fn new(root: impl Into<PathBuf>) -> Store {
        let root = root.into();
        let root = std::path::absolute(&root).unwrap_or(root);
        Store { root, external: None }
    }

    /// This store, with volumes of drivers other than `local` handled by `external`
    /// (without it, such a driver is "not found", as a missing plugin).
    pub fn with_external(mut self, external: std::sync::Arc<dyn ExternalDriver>) -> Store {
        self.external = Some(external);
        self
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Check that driver `driver` (not `local`) can be found, for a volume `name` about to
    /// be created: Docker's `create NAME: error looking up volume plugin …` when not.
    pub fn find_driver(&self, name: &str, driver: &str) -> Result<()> {
        match &self.external {
            None => Err(StoreError::UnknownDriver { name: name.to_owned(), driver: driver.to_owned() }),
            Some(ext) => {
                ext.find(driver).map_err(|message| StoreError::Driver { op: "create", name: name.to_owned(), message })
            }
        }
    }

    fn io(&self, op: &'static str, rel: &str, e: impl Into<io::Error>) -> StoreError {
        let path = if rel.is_empty() { self.root.clone() } else { self.root.join(rel) };
        StoreError::Io { op, path, source: e.into() }
    }

    /// Open for reading. `None` when the store does not exist yet (it is then empty).
    fn open_read(&self) -> Result<Option<ReadHandle>> {
        let root = match rfs::open(&self.root, OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::NOENT) => return Ok(None),
            Err(e) => return Err(self.io("open", "", e)),
        };
        self.check_format(root.as_fd(), false)?;
        match fsutil::open_dir(root.as_fd(), OsStr::new(VOLUMES_DIR)) {
            Ok(volumes) => Ok(Some(ReadHandle { volumes })),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
            Err(e) => Err(self.io("open", VOLUMES_DIR, e)),
        }
    }

    /// Open for a mutation: create the layout if needed, check ownership and modes, take the
    /// store lock, and clean what earlier crashes left behind.
    fn open_write(&self) -> Result<WriteHandle> {
        if let Err(e) = std::fs::create_dir_all(&self.root) {
            return Err(self.io("mkdir", "", e));
        }
        let root = rfs::open(&self.root, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
            .map_err(|e| self.io("open", "", e))?;
        let st = rfs::fstat(&root).map_err(|e| self.io("stat", "", e))?;
        let uid = rustix::process::geteuid().as_raw();
        if st.st_uid != uid {
            return Err(StoreError::ForeignRoot { path: self.root.clone(), owner: st.st_uid, uid });
        }
        // Others must never reach into the store (setuid files and secrets live in volumes).
        // 0710 and 0711 set by an administrator are kept, as Docker's root is 0710.
        let mode = st.st_mode & 0o7777;
        if mode & 0o066 != 0 || mode & 0o7000 != 0 {
            rfs::fchmod(&root, Mode::from_raw_mode(ROOT_MODE)).map_err(|e| self.io("chmod", "", e))?;
        }
        let lock = rfs::openat(
            &root,
            LOCK_FILE,
            OFlags::RDWR | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(META_MODE),
        )
        .map_err(|e| self.io("open", LOCK_FILE, e))?;
        fsutil::lock_exclusive(lock.as_fd()).map_err(|e| self.io("lock", LOCK_FILE, e))?;
        self.check_format(root.as_fd(), true)?;
        for (dir, mode) in [
            (VOLUMES_DIR, VOLUMES_MODE),
            (TMP_DIR, PRIVATE_DIR_MODE),
            (TRASH_DIR, PRIVATE_DIR_MODE),
            (RUNS_DIR, PRIVATE_DIR_MODE),
        ] {
            match rfs::mkdirat(&root, dir, Mode::from_raw_mode(mode)) {
                Ok(()) | Err(Errno::EXIST) => {}
                Err(e) => return Err(self.io("mkdir", dir, e)),
            }
        }
        let volumes =
            fsutil::open_dir(root.as_fd(), OsStr::new(VOLUMES_DIR)).map_err(|e| self.io("open", VOLUMES_DIR, e))?;
        let handle = WriteHandle { root, volumes, _lock: lock };
        self.clean_leftovers(&handle);
        self.finish_rename(&handle);
        Ok(handle)
    }

    /// Check `store.json`; with `create`, write it when missing (the caller holds the lock).
    fn check_format(&self, root: BorrowedFd<'_>, create: bool) -> Result<()> {
        match fsutil::read_small_file(root, OsStr::new(STORE_FILE)) {
            Ok(bytes) => {
                let meta: StoreMeta = serde_json::from_slice(&bytes).map_err(|e| StoreError::BadMeta {
                    name: String::new(),
                    path: self.root.join(STORE_FILE),
                    detail: e.to_string(),
                })?;
                if meta.format > FORMAT_VERSION {
                    return Err(StoreError::FormatTooNew { path: self.root.clone(), found: meta.format });
                }
                Ok(())
            }
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                if create {
                    let data = serde_json::to_vec(&StoreMeta::default()).unwrap_or_default();
                    fsutil::write_atomic(root, OsStr::new(STORE_FILE), &data, META_MODE)
                        .map_err(|e| self.io("write", STORE_FILE, e))?;
                }
                Ok(())
            }
            Err(e) => Err(self.io("read", STORE_FILE, e)),
        }
    }

    /// Remove what crashed creates, removals and runs left in `tmp/`, `trash/` and `runs/`.
    /// Entries that someone is still working on (a live run) are flock-ed by their owner and
    /// skipped. Failures here are
    /// not the current command's failure: the next mutation tries again.
    fn clean_leftovers(&self, h: &WriteHandle) {
        for dir in [TMP_DIR, TRASH_DIR, RUNS_DIR] {
            let Ok(fd) = fsutil::open_dir(h.root.as_fd(), OsStr::new(dir)) else {
                continue;
            };
            let Ok(entries) = fsutil::list_dir(fd.as_fd()) else {
                continue;
            };
            for (name, _) in entries {
                let name = OsStr::new(std::str::from_utf8(&name).unwrap_or(""));
                if name.is_empty() {
                    continue;
                }
                if let Ok(entry) = rfs::openat(
                    &fd,
                    name,
                    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                ) && fsutil::try_lock_exclusive(entry.as_fd()).unwrap_or(false)
                {
                    let _ = fsutil::remove_tree(fd.as_fd(), name);
                }
            }
        }
    }

    /// Read one volume's metadata. `Ok(None)` if it does not exist (or vanished).
    fn read_volume(&self, volumes: BorrowedFd<'_>, name: &str) -> Result<Option<Volume>> {
        Ok(self.read_meta(volumes, name)?.map(|meta| self.volume_from_meta(name, meta)))
    }

    /// One volume's on-disk metadata, by precedence: the `user.myvol.volume` xattr of the
    /// volume directory while its `name` is the directory's (written at creation);
    /// `volume.next.json` when a rename to this name committed but was not finished (its
    /// `name` is this directory's); else `volume.json`.
    fn read_meta(&self, volumes: BorrowedFd<'_>, name: &str) -> Result<Option<VolumeMeta>> {
        let bad = |path: PathBuf, detail: String| StoreError::BadMeta { name: name.to_owned(), path, detail };
        let vdir = match fsutil::open_dir(volumes, OsStr::new(name)) {
            Ok(fd) => fd,
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENOTDIR | libc::ENAMETOOLONG)) => {
                return Ok(None);
            }
            Err(e) => return Err(bad(volume_dir(&self.root, name), errno_text(&e))),
        };
        let mut xattr_error = None;
        match fsutil::get_xattr(vdir.as_fd(), META_XATTR) {
            Ok(Some(bytes)) => match serde_json::from_slice::<VolumeMeta>(&bytes) {
                Ok(meta) if meta.name == name => return Ok(Some(meta)),
                Ok(_) => {} // left behind by a rename: the files below say what is true
                Err(e) => xattr_error = Some(e.to_string()),
            },
            Ok(None) => {}
            Err(e) => xattr_error = Some(errno_text(&e)),
        }
        if let Ok(bytes) = fsutil::read_small_file(vdir.as_fd(), OsStr::new(META_NEXT_FILE))
            && let Ok(meta) = serde_json::from_slice::<VolumeMeta>(&bytes)
            && meta.name == name
        {
            return Ok(Some(meta));
        }
        let file = volume_dir(&self.root, name).join(META_FILE);
        let bytes = match fsutil::read_small_file(vdir.as_fd(), OsStr::new(META_FILE)) {
            Ok(b) => b,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                return match xattr_error {
                    Some(detail) => {
                        Err(bad(volume_dir(&self.root, name), format!("extended attribute {META_XATTR}: {detail}")))
                    }
                    // A directory without metadata was not made by myvol: not a volume.
                    None => Ok(None),
                };
            }
            Err(e) => return Err(bad(file, errno_text(&e))),
        };
        let meta: VolumeMeta = serde_json::from_slice(&bytes).map_err(|e| bad(file, e.to_string()))?;
        Ok(Some(meta))
    }

    fn volume_from_meta(&self, name: &str, meta: VolumeMeta) -> Volume {
        Volume {
            name: name.to_owned(),
            driver: meta.driver,
            created_at: meta.created_at,
            labels: meta.labels,
            options: meta.options,
            mountpoint: mountpoint(&self.root, name),
            scope: meta.scope.unwrap_or_else(|| "local".to_owned()),
        }
    }

    /// `volume create`.
    pub fn create(&self, req: CreateRequest) -> Result<Created> {
        // An invalid name fails before the store is touched (or made).
        if let Some(n) = req.name.as_deref().filter(|n| !n.is_empty()) {
            VolumeName::parse(n).map_err(|source| StoreError::InvalidName { name: n.to_owned(), source })?;
        }
        let h = self.open_write()?;
        self.create_locked(&h, req)
    }

    /// Create the volume (or find the existing one, as [`Store::create`] does) and take an
    /// in-use lease on it, under one store lock: a concurrent `volume rm` or `prune` cannot
    /// slip in between. What `myvol run` does for every volume it mounts.
    pub fn create_leased(&self, req: CreateRequest, holder: &str) -> Result<(Created, Lease)> {
        if let Some(n) = req.name.as_deref().filter(|n| !n.is_empty()) {
            VolumeName::parse(n).map_err(|source| StoreError::InvalidName { name: n.to_owned(), source })?;
        }
        let h = self.open_write()?;
        let created = self.create_locked(&h, req)?;
        let name = created.volume.name.clone();
        let vdir = self.open_volume_dir(&h, &name)?;
        let lease = lease::acquire(vdir.as_fd(), &name, holder).map_err(|e| self.io("lease", VOLUMES_DIR, e))?;
        Ok((created, lease))
    }

    fn create_locked(&self, h: &WriteHandle, req: CreateRequest) -> Result<Created> {
        let driver = if req.driver.is_empty() { driver::LOCAL.to_owned() } else { req.driver.clone() };
        let (name, anonymous) = match req.name.as_deref() {
            None | Some("") => (VolumeName::random_anonymous().to_string(), true),
            Some(n) => (n.to_owned(), false),
        };
        let vname =
            VolumeName::parse(&name).map_err(|source| StoreError::InvalidName { name: name.clone(), source })?;
        if let Some(existing) = self.read_volume(h.volumes.as_fd(), vname.as_str())? {
            if req.driver.is_empty() || existing.driver == driver {
                return Ok(Created { volume: existing, created: false });
            }
            return Err(StoreError::Conflict { name, existing: existing.driver });
        }
        let mut scope = None;
        if driver != driver::LOCAL {
            let Some(ext) = &self.external else {
                return Err(StoreError::UnknownDriver { name, driver });
            };
            let given = (!req.options.is_empty()).then_some(&req.options);
            let s = ext.create(&driver, &name, given).map_err(|message| StoreError::Driver {
                op: "create",
                name: name.clone(),
                message,
            })?;
            scope = Some(s);
        } else {
            driver::local::validate_options(&req.options)
                .map_err(|source| StoreError::InvalidOption { name: name.clone(), source })?;
        }
        let mut labels = req.labels;
        if anonymous {
            labels.insert(ANONYMOUS_LABEL.to_owned(), String::new());
        }
        let meta = VolumeMeta {
            format: FORMAT_VERSION,
            name: name.clone(),
            driver,
            created_at: jiff::Timestamp::now().to_string(),
            labels: (!labels.is_empty()).then_some(labels),
            options: (!req.options.is_empty()).then_some(req.options),
            scope,
        };
        self.build_volume(h, &meta, |_| Ok(()))?;
        Ok(Created { volume: self.volume_from_meta(&name, meta), created: true })
    }

    /// Build a volume directory in `tmp/` (metadata, an empty `_data` that `fill` may
    /// populate), then publish it with one rename. The caller holds the store lock.
    fn build_volume(
        &self,
        h: &WriteHandle,
        meta: &VolumeMeta,
        fill: impl FnOnce(BorrowedFd<'_>) -> io::Result<()>,
    ) -> Result<()> {
        let b = self.start_build(h, &meta.name)?;
        if let Err(e) = fill(b.data.as_fd()) {
            return Err(b.abort(e));
        }
        self.finish_build(h, b, meta)
    }

    /// Start building volume `name`: `tmp/<hex>/` with an empty `_data/`, flock-ed by us so
    /// that a cleaner (another process's mutation) skips it while we work, even after the
    /// store lock is released.
    fn start_build(&self, h: &WriteHandle, name: &str) -> Result<Build> {
        let tmp_dir = fsutil::open_dir(h.root.as_fd(), OsStr::new(TMP_DIR)).map_err(|e| self.io("open", TMP_DIR, e))?;
        let tmp_name = fsutil::random_suffix();
        let target = volume_dir(&self.root, name);
        let create_err =
            |e: io::Error| StoreError::CreateDir { name: name.to_owned(), path: target.clone(), source: e };
        rfs::mkdirat(&tmp_dir, tmp_name.as_str(), Mode::from_raw_mode(VOLUME_DIR_MODE))
            .map_err(|e| create_err(e.into()))?;
        let made = (|| -> io::Result<(OwnedFd, OwnedFd)> {
            let vdir = fsutil::open_dir(tmp_dir.as_fd(), OsStr::new(&tmp_name))?;
            fsutil::try_lock_exclusive(vdir.as_fd())?;
            rfs::fchmod(&vdir, Mode::from_raw_mode(VOLUME_DIR_MODE))?;
            failpoint::hit("create-after-mkdir");
            rfs::mkdirat(&vdir, DATA_DIR, Mode::from_raw_mode(DATA_MODE))?;
            let data = fsutil::open_dir(vdir.as_fd(), OsStr::new(DATA_DIR))?;
            rfs::fchmod(&data, Mode::from_raw_mode(DATA_MODE))?;
            Ok((vdir, data))
        })();
        match made {
            Ok((vdir, data)) => Ok(Build { tmp_dir, tmp_name, vdir, data, name: name.to_owned(), target }),
            Err(e) => {
                let _ = fsutil::remove_tree(tmp_dir.as_fd(), OsStr::new(&tmp_name));
                Err(create_err(e))
            }
        }
    }

    /// Write the metadata into a started build and publish it with one
    /// `renameat2(RENAME_NOREPLACE)`. The caller holds the store lock. A name taken since the
    /// build started fails with `EEXIST` (as `CreateDir`), and the build is removed.
    fn finish_build(&self, h: &WriteHandle, b: Build, meta: &VolumeMeta) -> Result<()> {
        let result = (|| -> io::Result<()> {
            let json = serde_json::to_vec_pretty(meta).map_err(io::Error::other)?;
            // The metadata goes into an xattr of the new directory: journaled metadata, like the
            // directory and the rename below, so the one fsync of `volumes/` after the rename
            // makes all of it durable, in order. Where xattrs are not available (or too small
            // for these labels), a file; the directory is not published yet, so it needs no
            // temporary name, but its content must be on disk before the rename.
            if fsutil::create_xattr(b.vdir.as_fd(), META_XATTR, &json).is_err() {
                fsutil::write_new(b.vdir.as_fd(), OsStr::new(META_FILE), &json, META_MODE)?;
                rfs::fsync(&b.vdir)?;
            }
            failpoint::hit("create-before-publish");
            rfs::renameat_with(
                &b.tmp_dir,
                b.tmp_name.as_str(),
                &h.volumes,
                b.name.as_str(),
                rfs::RenameFlags::NOREPLACE,
            )?;
            rfs::fsync(&h.volumes)?;
            failpoint::hit("create-after-publish");
            Ok(())
        })();
        match result {
            Ok(()) => Ok(()),
            Err(e) => Err(b.abort(e)),
        }
    }

    /// `volume inspect` of one name: `NotFound` for a missing or invalid name.
    pub fn get(&self, name: &str) -> Result<Volume> {
        if !crate::name::is_valid(name) {
            return Err(StoreError::NotFound(name.to_owned()));
        }
        let Some(h) = self.open_read()? else {
            return Err(StoreError::NotFound(name.to_owned()));
        };
        self.read_volume(h.volumes.as_fd(), name)?.ok_or_else(|| StoreError::NotFound(name.to_owned()))
    }

    /// Whether a volume exists.
    pub fn exists(&self, name: &str) -> Result<bool> {
        match self.get(name) {
            Ok(_) => Ok(true),
            Err(StoreError::NotFound(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The names of all volumes, unsorted. Cheap: one directory read, no metadata.
    pub fn names(&self) -> Result<Vec<String>> {
        let Some(h) = self.open_read()? else {
            return Ok(Vec::new());
        };
        let entries = fsutil::list_dir(h.volumes.as_fd()).map_err(|e| self.io("read", VOLUMES_DIR, e))?;
        Ok(entries
            .into_iter()
            .filter_map(|(n, _)| String::from_utf8(n).ok())
            .filter(|n| crate::name::is_valid(n))
            .collect())
    }

    /// All volumes with their metadata, unsorted. Volumes that vanish while listing are
    /// skipped; one with unreadable metadata is reported in the second list, not fatal.
    pub fn list(&self) -> Result<(Vec<Volume>, Vec<StoreError>)> {
        let Some(h) = self.open_read()? else {
            return Ok((Vec::new(), Vec::new()));
        };
        let entries = fsutil::list_dir(h.volumes.as_fd()).map_err(|e| self.io("read", VOLUMES_DIR, e))?;
        let mut vols = Vec::with_capacity(entries.len());
        let mut errs = Vec::new();
        for (n, _) in entries {
            let Ok(n) = String::from_utf8(n) else {
                continue;
            };
            if !crate::name::is_valid(&n) {
                continue;
            }
            match self.read_volume(h.volumes.as_fd(), &n) {
                Ok(Some(v)) => vols.push(v),
                Ok(None) => {}
                Err(e) => errs.push(e),
            }
        }
        Ok((vols, errs))
    }

    /// The ids of the live leases on a volume (empty: not in use).
    pub fn users(&self, name: &str) -> Result<Vec<String>> {
        let Some(h) = self.open_read()? else {
            return Ok(Vec::new());
        };
        let vdir = match fsutil::open_dir(h.volumes.as_fd(), OsStr::new(name)) {
            Ok(fd) => fd,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Ok(Vec::new()),
            Err(e) => return Err(self.io("open", VOLUMES_DIR, e)),
        };
        lease::live(vdir.as_fd(), false).map_err(|e| self.io("read", VOLUMES_DIR, e))
    }

    /// Take an in-use lease on an existing volume, held until the returned value is dropped
    /// or the process dies. `holder` says who holds it (`run`, `mount`).
    pub fn lease(&self, name: &str, holder: &str) -> Result<Lease> {
        if !crate::name::is_valid(name) {
            return Err(StoreError::NotFound(name.to_owned()));
        }
        let h = self.open_write()?;
        let vdir = self.open_volume_dir(&h, name)?;
        lease::acquire(vdir.as_fd(), name, holder).map_err(|e| self.io("lease", VOLUMES_DIR, e))
    }

    /// Open `volumes/<name>` under the store lock: `NotFound` when missing.
    fn open_volume_dir(&self, h: &WriteHandle, name: &str) -> Result<OwnedFd> {
        if !crate::name::is_valid(name) {
            return Err(StoreError::NotFound(name.to_owned()));
        }
        match fsutil::open_dir(h.volumes.as_fd(), OsStr::new(name)) {
            Ok(fd) => Ok(fd),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Err(StoreError::NotFound(name.to_owned())),
            Err(e) => Err(self.io("open", VOLUMES_DIR, e)),
        }
    }

    /// Make a private directory for one run, `runs/<id>/{upper,work,merged}`, flock-ed
    /// until the returned guard is dropped (the store's cleanup skips it while the lock is
    /// held, and removes it once the holder is gone, even after a crash).
    pub fn create_run(&self) -> Result<RunDir> {
        let h = self.open_write()?;
        let runs = fsutil::open_dir(h.root.as_fd(), OsStr::new(RUNS_DIR)).map_err(|e| self.io("open", RUNS_DIR, e))?;
        let id = crate::name::random_hex_id();
        let rel_id = format!("{RUNS_DIR}/{id}");
        rfs::mkdirat(&runs, id.as_str(), Mode::from_raw_mode(PRIVATE_DIR_MODE))
            .map_err(|e| self.io("mkdir", &rel_id, e))?;
        let dir = fsutil::open_dir(runs.as_fd(), OsStr::new(&id)).map_err(|e| self.io("open", &rel_id, e))?;
        let guard = RunDir { id: id.clone(), path: run_dir(&self.root, &id), runs, dir };
        // Locked before the store lock is released, so no cleaner ever sees it unlocked.
        fsutil::try_lock_exclusive(guard.dir.as_fd()).map_err(|e| self.io("lock", &rel_id, e))?;
        for (sub, mode) in [(RUN_UPPER, 0o755), (RUN_WORK, PRIVATE_DIR_MODE), (RUN_MERGED, 0o755)] {
            rfs::mkdirat(&guard.dir, sub, Mode::from_raw_mode(mode))
                .map_err(|e| self.io("mkdir", &format!("{rel_id}/{sub}"), e))?;
        }
        drop(h);
        Ok(guard)
    }

    /// `volume rm` of one name. With `force`, a missing volume is not an error. A volume
    /// with a live lease is refused with Docker's "in use" message.
    pub fn remove(&self, name: &str, force: bool) -> Result<()> {
        let missing = || {
            if force { Ok(()) } else { Err(StoreError::NotFound(name.to_owned())) }
        };
        if !crate::name::is_valid(name) {
            return missing();
        }
        let h = self.open_write()?;
        let Some(v) = self.read_volume(h.volumes.as_fd(), name)? else {
            return missing();
        };
        let trash = if v.driver == driver::LOCAL {
            self.take_away(&h, &v, || Ok(()))?
        } else {
            // The plugin first; with --force its refusal does not keep the record (Docker).
            self.take_away(&h, &v, || match &self.external {
                Some(ext) => match ext.remove(&v.driver, name) {
                    Err(message) if !force => Err(StoreError::Driver { op: "remove", name: name.to_owned(), message }),
                    _ => Ok(()),
                },
                None if force => Ok(()),
                None => Err(StoreError::UnknownDriver { name: name.to_owned(), driver: v.driver.clone() }),
            })?
        };
        drop(h);
        self.empty_trash(trash);
        Ok(())
    }

    /// Check that nobody uses volume `v`, then rename it into `trash/` (under the store lock).
    /// Returns the trash entry, flock-ed, for deletion after the lock is released.
    /// `before` runs once the checks passed, just before the rename (a plugin's Remove).
    fn take_away(
        &self,
        h: &WriteHandle,
        v: &Volume,
        before: impl FnOnce() -> Result<()>,
    ) -> Result<(OwnedFd, String, OwnedFd)> {
        let name = v.name.as_str();
        let vdir =
            fsutil::open_dir(h.volumes.as_fd(), OsStr::new(name)).map_err(|e| self.io("open", VOLUMES_DIR, e))?;
        let ids = lease::live(vdir.as_fd(), true).map_err(|e| self.io("read", VOLUMES_DIR, e))?;
        if !ids.is_empty() {
            return Err(StoreError::InUse { name: name.to_owned(), ids });
        }
        // Where the kernel cannot tell (statx before Linux 5.8), a volume with driver options
        // (the only kind myvol mounts on) counts as mounted: deleting through a bind mount
        // would delete the host directory's content.
        if fsutil::is_mount_root(vdir.as_fd(), OsStr::new(DATA_DIR)).unwrap_or(v.options.is_some()) {
            return Err(StoreError::Mounted { name: name.to_owned(), path: mountpoint(&self.root, name) });
        }
        before()?;
        // Our flock on the directory marks it as being deleted by a live process.
        fsutil::try_lock_exclusive(vdir.as_fd()).map_err(|e| self.io("lock", VOLUMES_DIR, e))?;
        let trash_dir =
            fsutil::open_dir(h.root.as_fd(), OsStr::new(TRASH_DIR)).map_err(|e| self.io("open", TRASH_DIR, e))?;
        let trash_name = fsutil::random_suffix();
        rfs::renameat_with(&h.volumes, name, &trash_dir, trash_name.as_str(), rfs::RenameFlags::NOREPLACE)
            .map_err(|e| self.io("rename", VOLUMES_DIR, e))?;
        rfs::fsync(&h.volumes).map_err(|e| self.io("sync", VOLUMES_DIR, e))?;
        failpoint::hit("remove-after-rename");
        Ok((trash_dir, trash_name, vdir))
    }

    /// Delete a volume that `take_away` renamed into `trash/`. Failures leave it for the
    /// next mutation's cleanup; the volume is gone for users either way.
    fn empty_trash(&self, (trash_dir, trash_name, _lock): (OwnedFd, String, OwnedFd)) {
        if let Ok(fd) = fsutil::open_dir(trash_dir.as_fd(), OsStr::new(&trash_name)) {
            let _ = fsutil::remove_tree(fd.as_fd(), OsStr::new(DATA_DIR));
            failpoint::hit("remove-mid-delete");
        }
        let _ = fsutil::remove_tree(trash_dir.as_fd(), OsStr::new(&trash_name));
    }

    /// `volume prune`: remove unused local volumes without driver options that `select`
    /// accepts; returns their names (naturally sorted) and the space reclaimed.
    pub fn prune(&self, select: impl Fn(&Volume) -> bool) -> Result<PruneReport> {
        let h = self.open_write()?;
        let entries = fsutil::list_dir(h.volumes.as_fd()).map_err(|e| self.io("read", VOLUMES_DIR, e))?;
        let mut names: Vec<String> = entries
            .into_iter()
            .filter_map(|(n, _)| String::from_utf8(n).ok())
            .filter(|n| crate::name::is_valid(n))
            .collect();
        names.sort_unstable_by(|a, b| crate::output::natural_cmp(a, b));
        let mut report = PruneReport::default();
        let mut trashed = Vec::new();
        for name in names {
            let Ok(Some(v)) = self.read_volume(h.volumes.as_fd(), &name) else {
                continue;
            };
            if v.driver != driver::LOCAL || v.options.is_some() || !select(&v) {
                continue;
            }
            let size = fsutil::open_dir(h.volumes.as_fd(), OsStr::new(&rel(&name, DATA_DIR)))
                .and_then(|fd| fsutil::apparent_size(fd.as_fd()))
                .unwrap_or(0);
            match self.take_away(&h, &v, || Ok(())) {
                Ok(t) => {
                    report.deleted.push(name);
                    report.reclaimed += size;
                    trashed.push(t);
                }
                Err(StoreError::InUse { .. } | StoreError::Mounted { .. }) => continue,
                Err(e) => return Err(e),
            }
        }
        drop(h);
        for t in trashed {
            self.empty_trash(t);
        }
        Ok(report)
    }

    /// `volume rename OLD NEW`, under the store lock. The commit point is one
    /// `renameat2(RENAME_NOREPLACE)` of `volumes/OLD` to `volumes/NEW`; the metadata under the
    /// new name (`name`, and no anonymous label: a renamed volume is a named one) is written
    /// as `volume.next.json` inside the directory before it, and moved over `volume.json`
    /// after it. Readers take `volume.next.json` exactly when its `name` is the directory's,
    /// so metadata and directory agree at every instant; `rename.json` at the root lets the
    /// next mutation finish or undo what a crash left (docs/store-format.md, "Renaming").
    pub fn rename(&self, old: &str, new: &str) -> Result<Volume> {
        if !crate::name::is_valid(old) {
            return Err(StoreError::NotFound(old.to_owned()));
        }
        VolumeName::parse(new).map_err(|source| StoreError::InvalidTarget {
            op: "rename",
            name: old.to_owned(),
            source,
        })?;
        let h = self.open_write()?;
        let Some(meta) = self.read_meta(h.volumes.as_fd(), old)? else {
            return Err(StoreError::NotFound(old.to_owned()));
        };
        if meta.driver != driver::LOCAL {
            // The plugin knows the volume by its name.
            return Err(StoreError::External { op: "rename", name: old.to_owned(), driver: meta.driver });
        }
        let exists = || StoreError::TargetExists { op: "rename", name: old.to_owned(), target: new.to_owned() };
        if rfs::statat(&h.volumes, new, rfs::AtFlags::SYMLINK_NOFOLLOW).is_ok() {
            return Err(exists());
        }
        let vdir = fsutil::open_dir(h.volumes.as_fd(), OsStr::new(old)).map_err(|e| self.io("open", VOLUMES_DIR, e))?;
        let ids = lease::live(vdir.as_fd(), true).map_err(|e| self.io("read", VOLUMES_DIR, e))?;
        if !ids.is_empty() {
            return Err(StoreError::Busy { op: "rename", name: old.to_owned(), ids });
        }
        let mut labels = meta.labels.clone().unwrap_or_default();
        labels.remove(ANONYMOUS_LABEL);
        let next = VolumeMeta { name: new.to_owned(), labels: (!labels.is_empty()).then_some(labels), ..meta };

        let journal = serde_json::to_vec(&RenameJournal { from: old.to_owned(), to: new.to_owned() })
            .map_err(|e| self.io("write", RENAME_JOURNAL, io::Error::other(e)))?;
        fsutil::write_atomic(h.root.as_fd(), OsStr::new(RENAME_JOURNAL), &journal, META_MODE)
            .map_err(|e| self.io("write", RENAME_JOURNAL, e))?;
        failpoint::hit("rename-after-journal");
        let undo = |e: StoreError| {
            let _ = rfs::unlinkat(&vdir, META_NEXT_FILE, rfs::AtFlags::empty());
            let _ = rfs::unlinkat(&h.root, RENAME_JOURNAL, rfs::AtFlags::empty());
            e
        };
        let json = serde_json::to_vec_pretty(&next).map_err(|e| self.io("write", VOLUMES_DIR, io::Error::other(e)));
        json.and_then(|json| {
            fsutil::write_atomic(vdir.as_fd(), OsStr::new(META_NEXT_FILE), &json, META_MODE)
                .map_err(|e| self.io("write", &rel(old, META_NEXT_FILE), e))
        })
        .map_err(undo)?;
        failpoint::hit("rename-before-commit");
        // The commit point.
        match rfs::renameat_with(&h.volumes, old, &h.volumes, new, rfs::RenameFlags::NOREPLACE) {
            Ok(()) => {}
            Err(Errno::EXIST) => return Err(undo(exists())),
            Err(e) => return Err(undo(self.io("rename", VOLUMES_DIR, e))),
        }
        // From here on the rename has happened; what fails below is finished by the next
        // mutation (the journal stays), and readers already see the new metadata.
        if rfs::fsync(&h.volumes).is_ok() {
            failpoint::hit("rename-after-commit");
            // The creation-time xattr names the old name; it goes before `volume.json` appears,
            // so that a later rename back to the old name cannot make it true again.
            if fsutil::remove_xattr(vdir.as_fd(), META_XATTR).is_ok()
                && rfs::renameat(&vdir, META_NEXT_FILE, &vdir, META_FILE).is_ok()
                && rfs::fsync(&vdir).is_ok()
            {
                failpoint::hit("rename-after-meta");
                let _ = rfs::unlinkat(&h.root, RENAME_JOURNAL, rfs::AtFlags::empty());
            }
        }
        Ok(self.volume_from_meta(new, next))
    }

    /// Finish or undo the rename a crash interrupted (`rename.json`): in the directory whose
    /// name `volume.next.json` carries, that file becomes `volume.json`; elsewhere it is
    /// dropped. The caller holds the store lock. Failures leave the journal for next time.
    fn finish_rename(&self, h: &WriteHandle) {
        let Ok(bytes) = fsutil::read_small_file(h.root.as_fd(), OsStr::new(RENAME_JOURNAL)) else {
            return;
        };
        if let Ok(j) = serde_json::from_slice::<RenameJournal>(&bytes) {
            for name in [&j.from, &j.to] {
                if !crate::name::is_valid(name) {
                    continue;
                }
                let Ok(vdir) = fsutil::open_dir(h.volumes.as_fd(), OsStr::new(name)) else {
                    continue;
                };
                // Temporaries of an interrupted write_atomic.
                for (entry, _) in fsutil::list_dir(vdir.as_fd()).unwrap_or_default() {
                    if entry.starts_with(b".tmp-") {
                        let _ = rfs::unlinkat(&vdir, entry.as_slice(), rfs::AtFlags::empty());
                    }
                }
                let committed = fsutil::read_small_file(vdir.as_fd(), OsStr::new(META_NEXT_FILE))
                    .ok()
                    .and_then(|b| serde_json::from_slice::<VolumeMeta>(&b).ok())
                    .map(|m| m.name == *name);
                match committed {
                    Some(true) => {
                        if fsutil::remove_xattr(vdir.as_fd(), META_XATTR).is_err()
                            || rfs::renameat(&vdir, META_NEXT_FILE, &vdir, META_FILE).is_err()
                            || rfs::fsync(&vdir).is_err()
                        {
                            return;
                        }
                    }
                    _ => match rfs::unlinkat(&vdir, META_NEXT_FILE, rfs::AtFlags::empty()) {
                        Ok(()) | Err(Errno::NOENT) => {}
                        Err(_) => return,
                    },
                }
            }
        }
        let _ = rfs::unlinkat(&h.root, RENAME_JOURNAL, rfs::AtFlags::empty());
        let _ = rfs::fsync(&h.root);
    }

    /// `volume clone SRC DST`: a new volume with SRC's driver, options and labels (or
    /// `labels` when given; never the anonymous label), and a faithful copy of its content
    /// (see [`crate::copy`]). SRC holds an in-use lease for the whole copy, so it can be
    /// neither removed nor renamed meanwhile. The copy goes into a `tmp/` build directory
    /// without the store lock (the build's own flock keeps cleaners away) and is published
    /// under the lock with the same rename as `create`: DST appears complete or not at all.
    /// Volumes with driver options (tmpfs, bind, NFS) keep their content outside the store:
    /// only their metadata is cloned.
    pub fn clone_volume(
        &self,
        src: &str,
        dst: &str,
        labels: Option<BTreeMap<String, String>>,
    ) -> Result<(Volume, CopyStats)> {
        if !crate::name::is_valid(src) {
            return Err(StoreError::NotFound(src.to_owned()));
        }
        VolumeName::parse(dst).map_err(|source| StoreError::InvalidTarget {
            op: "clone",
            name: src.to_owned(),
            source,
        })?;
        let exists = || StoreError::TargetExists { op: "clone", name: src.to_owned(), target: dst.to_owned() };
        let lease = self.lease(src, "clone")?;
        let (meta, src_data, build) = {
            let h = self.open_write()?;
            let Some(meta) = self.read_meta(h.volumes.as_fd(), src)? else {
                return Err(StoreError::NotFound(src.to_owned()));
            };
            if meta.driver != driver::LOCAL {
                return Err(StoreError::External { op: "clone", name: src.to_owned(), driver: meta.driver });
            }
            if rfs::statat(&h.volumes, dst, rfs::AtFlags::SYMLINK_NOFOLLOW).is_ok() {
                return Err(exists());
            }
            let data = fsutil::open_dir(h.volumes.as_fd(), OsStr::new(&rel(src, DATA_DIR)))
                .map_err(|e| self.io("open", &rel(src, DATA_DIR), e))?;
            let build = self.start_build(&h, dst)?;
            (meta, data, build)
        };
        let mut labels = labels.or(meta.labels).unwrap_or_default();
        labels.remove(ANONYMOUS_LABEL);
        let new_meta = VolumeMeta {
            format: FORMAT_VERSION,
            name: dst.to_owned(),
            driver: meta.driver,
            created_at: jiff::Timestamp::now().to_string(),
            labels: (!labels.is_empty()).then_some(labels),
            options: meta.options,
            scope: None,
        };
        let stats = if new_meta.options.is_none() {
            match copy::copy_tree(src_data.as_fd(), build.data.as_fd()) {
                Ok(stats) => stats,
                Err(e) => {
                    build.discard();
                    return Err(StoreError::Copy {
                        name: src.to_owned(),
                        path: mountpoint(&self.root, src).join(e.path),
                        source: e.source,
                    });
                }
            }
        } else {
            CopyStats::default()
        };
        failpoint::hit("clone-after-copy");
        let h = match self.open_write() {
            Ok(h) => h,
            Err(e) => {
                build.discard();
                return Err(e);
            }
        };
        match self.finish_build(&h, build, &new_meta) {
            Ok(()) => {}
            Err(StoreError::CreateDir { source, .. }) if source.raw_os_error() == Some(libc::EEXIST) => {
                return Err(exists());
            }
            Err(e) => return Err(e),
        }
        drop(h);
        drop(lease);
        Ok((self.volume_from_meta(dst, new_meta), stats))
    }

    /// Open a volume's content for `volume export`: its `_data` directory, with an in-use
    /// lease held for as long as the caller keeps it (the volume cannot be removed meanwhile).
    pub fn open_for_export(&self, name: &str) -> Result<(Lease, OwnedFd)> {
        let lease = self.lease(name, "export")?;
        let Some(h) = self.open_read()? else {
            return Err(StoreError::NotFound(name.to_owned()));
        };
        let Some(meta) = self.read_meta(h.volumes.as_fd(), name)? else {
            return Err(StoreError::NotFound(name.to_owned()));
        };
        if meta.driver != driver::LOCAL {
            return Err(StoreError::External { op: "export", name: name.to_owned(), driver: meta.driver });
        }
        if meta.options.is_some() {
            return Err(StoreError::NoContent { op: "export", name: name.to_owned() });
        }
        let data = fsutil::open_dir(h.volumes.as_fd(), OsStr::new(&rel(name, DATA_DIR)))
            .map_err(|e| self.io("open", &rel(name, DATA_DIR), e))?;
        Ok((lease, data))
    }

    /// Start `volume import NAME`: check that nobody uses the volume (unless `force`), take
    /// a lease on it, and make an empty staging directory in `tmp/` with the mode and owner
    /// of the volume's current content (an archive's `./` member overrides them). With
    /// `create`, a missing volume is created first (local driver, no options).
    pub fn begin_import(&self, name: &str, force: bool, create: bool) -> Result<ImportSlot> {
        if !crate::name::is_valid(name) {
            return Err(StoreError::NotFound(name.to_owned()));
        }
        let mut created = false;
        if create && !self.exists(name)? {
            created = self.create(CreateRequest { name: Some(name.to_owned()), ..CreateRequest::default() })?.created;
        }
        let h = self.open_write()?;
        let Some(meta) = self.read_meta(h.volumes.as_fd(), name)? else {
            return Err(StoreError::NotFound(name.to_owned()));
        };
        if meta.driver != driver::LOCAL {
            return Err(StoreError::External { op: "import", name: name.to_owned(), driver: meta.driver });
        }
        if meta.options.is_some() {
            return Err(StoreError::NoContent { op: "import", name: name.to_owned() });
        }
        let vdir =
            fsutil::open_dir(h.volumes.as_fd(), OsStr::new(name)).map_err(|e| self.io("open", VOLUMES_DIR, e))?;
        let ids = lease::live(vdir.as_fd(), true).map_err(|e| self.io("read", VOLUMES_DIR, e))?;
        if !ids.is_empty() && !force {
            return Err(StoreError::ImportBusy { name: name.to_owned(), ids });
        }
        let lease = lease::acquire(vdir.as_fd(), name, "import").map_err(|e| self.io("lease", VOLUMES_DIR, e))?;
        let old = rfs::statat(&vdir, DATA_DIR, rfs::AtFlags::SYMLINK_NOFOLLOW)
            .map_err(|e| self.io("stat", &rel(name, DATA_DIR), e))?;
        let tmp_dir = fsutil::open_dir(h.root.as_fd(), OsStr::new(TMP_DIR)).map_err(|e| self.io("open", TMP_DIR, e))?;
        let tmp_name = fsutil::random_suffix();
        let rel_tmp = format!("{TMP_DIR}/{tmp_name}");
        rfs::mkdirat(&tmp_dir, tmp_name.as_str(), Mode::from_raw_mode(PRIVATE_DIR_MODE))
            .map_err(|e| self.io("mkdir", &rel_tmp, e))?;
        let made = (|| -> io::Result<(OwnedFd, OwnedFd)> {
            let dir = fsutil::open_dir(tmp_dir.as_fd(), OsStr::new(&tmp_name))?;
            fsutil::try_lock_exclusive(dir.as_fd())?;
            rfs::mkdirat(&dir, DATA_DIR, Mode::from_raw_mode(PRIVATE_DIR_MODE))?;
            let data = fsutil::open_dir(dir.as_fd(), OsStr::new(DATA_DIR))?;
            match rfs::fchown(&data, Some(rfs::Uid::from_raw(old.st_uid)), Some(rfs::Gid::from_raw(old.st_gid))) {
                Ok(()) | Err(Errno::PERM) => {}
                Err(e) => return Err(e.into()),
            }
            rfs::fchmod(&data, Mode::from_raw_mode(old.st_mode & 0o7777))?;
            Ok((dir, data))
        })();
        match made {
            Ok((dir, data)) => {
                Ok(ImportSlot { name: name.to_owned(), created, lease, vdir, tmp_dir, tmp_name, dir, data })
            }
            Err(e) => {
                let _ = fsutil::remove_tree(tmp_dir.as_fd(), OsStr::new(&tmp_name));
                Err(self.io("mkdir", &rel_tmp, e))
            }
        }
    }

    /// Finish `volume import`: under the store lock, check again that nobody else uses the
    /// volume (unless `force`), then swap the staging directory and `_data` with one
    /// `renameat2(RENAME_EXCHANGE)`, and delete the old content (by fd, crossing no mount).
    /// The caller has made the staging content durable. A crash before the swap leaves the
    /// volume as it was; after it, the new content, with the old one in `tmp/` for the next
    /// mutation to remove.
    pub fn finish_import(&self, slot: ImportSlot, force: bool) -> Result<()> {
        let h = self.open_write()?;
        let mut ids = lease::live(slot.vdir.as_fd(), true).map_err(|e| self.io("read", VOLUMES_DIR, e))?;
        ids.retain(|id| id != slot.lease.id());
        if !ids.is_empty() && !force {
            return Err(StoreError::ImportBusy { name: slot.name.clone(), ids });
        }
        failpoint::hit("import-before-swap");
        rfs::renameat_with(&slot.dir, DATA_DIR, &slot.vdir, DATA_DIR, rfs::RenameFlags::EXCHANGE)
            .map_err(|e| self.io("rename", &rel(&slot.name, DATA_DIR), e))?;
        rfs::fsync(&slot.vdir).map_err(|e| self.io("sync", &rel(&slot.name, DATA_DIR), e))?;
        failpoint::hit("import-after-swap");
        let _ = rfs::fsync(&slot.dir);
        drop(h);
        // The old content, now in the staging directory, goes with it (ImportSlot's drop).
        drop(slot);
        Ok(())
    }

    /// Size and in-use count of each named volume, walked in parallel; `NotFound` for one
    /// that does not exist (or vanished).
    pub fn usage(&self, names: &[String]) -> Vec<Result<Usage>> {
        let h = match self.open_read() {
            Ok(Some(h)) => h,
            Ok(None) => return names.iter().map(|n| Err(StoreError::NotFound(n.clone()))).collect(),
            Err(e) => {
                let msg = e.to_string();
                return names.iter().map(|_| Err(self.io("open", "", io::Error::other(msg.clone())))).collect();
            }
        };
        par_map(names, |name| {
            if !crate::name::is_valid(name) {
                return Err(StoreError::NotFound(name.clone()));
            }
            let gone = |e: io::Error| {
                if e.raw_os_error() == Some(libc::ENOENT) {
                    StoreError::NotFound(name.clone())
                } else {
                    self.io("read", &rel(name, DATA_DIR), e)
                }
            };
            let vdir = fsutil::open_dir(h.volumes.as_fd(), OsStr::new(name)).map_err(gone)?;
            let data = fsutil::open_dir(vdir.as_fd(), OsStr::new(DATA_DIR)).map_err(gone)?;
            let size = fsutil::apparent_size(data.as_fd()).map_err(gone)?;
            let links = lease::live(vdir.as_fd(), false).map_err(gone)?.len() as u64;
            Ok(Usage { size, links })
        })
    }

    /// The apparent size of a volume's content (non-directories, hard links once).
    pub fn size(&self, name: &str) -> Result<u64> {
        let Some(h) = self.open_read()? else {
            return Err(StoreError::NotFound(name.to_owned()));
        };
        let fd = fsutil::open_dir(h.volumes.as_fd(), OsStr::new(&rel(name, DATA_DIR))).map_err(|e| {
            if e.raw_os_error() == Some(libc::ENOENT) {
                StoreError::NotFound(name.to_owned())
            } else {
                self.io("open", VOLUMES_DIR, e)
            }
        })?;
        fsutil::apparent_size(fd.as_fd()).map_err(|e| self.io("read", VOLUMES_DIR, e))
    }
}

/// An import in progress: a staging directory `tmp/<hex>/_data` (the `tmp/<hex>` directory
/// flock-ed, so that cleaners skip it while we live) and an in-use lease on the volume, so
/// that it can be neither removed nor renamed underneath. Dropping it without
/// [`Store::finish_import`] deletes the staging directory: the volume is untouched.
#[derive(Debug)]
pub struct ImportSlot {
    name: String,
    created: bool,
    lease: Lease,
    vdir: OwnedFd,
    tmp_dir: OwnedFd,
    tmp_name: String,
    dir: OwnedFd,
    data: OwnedFd,
}

impl ImportSlot {
    /// The empty staging directory to unpack into.
    pub fn staging(&self) -> BorrowedFd<'_> {
        self.data.as_fd()
    }

    /// The volume's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether `begin_import` created the volume (`--create`): a failed import removes it
    /// again, so that nothing is left of it.
    pub fn created(&self) -> bool {
        self.created
    }
}

impl Drop for ImportSlot {
    fn drop(&mut self) {
        // Still holding the directory's flock, so no cleaner works on it at the same time.
        let _ = fsutil::remove_tree(self.tmp_dir.as_fd(), OsStr::new(&self.tmp_name));
    }
}

/// A volume being built in `tmp/<hex>/`; the flock on `vdir` marks it as alive.
struct Build {
    tmp_dir: OwnedFd,
    tmp_name: String,
    vdir: OwnedFd,
    data: OwnedFd,
    name: String,
    target: PathBuf,
}

impl Build {
    /// Remove the unfinished build; the error to report is `CreateDir` with `e`.
    fn abort(self, e: io::Error) -> StoreError {
        let _ = fsutil::remove_tree(self.tmp_dir.as_fd(), OsStr::new(&self.tmp_name));
        StoreError::CreateDir { name: self.name, path: self.target, source: e }
    }

    /// Remove the unfinished build quietly.
    fn discard(self) {
        let _ = fsutil::remove_tree(self.tmp_dir.as_fd(), OsStr::new(&self.tmp_name));
    }
}

/// What `volume ls --size` and `system df` show for one volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    /// Apparent size of the content: non-directories, hard links once, this mount only.
    pub size: u64,
    /// Live in-use leases.
    pub links: u64,
}

/// `f` over `items` on a few threads (directory walks are syscall- and I/O-bound: more
/// threads than cores helps on a cold cache), results in the order of `items`.
fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = (cores * 2).clamp(1, 16).min(items.len());
    if workers <= 1 {
        return items.iter().map(f).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut parts: Vec<Vec<(usize, R)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        done.push((i, f(item)));
                    }
                    done
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
    });
    let mut all: Vec<(usize, R)> = parts.iter_mut().flat_map(std::mem::take).collect();
    all.sort_unstable_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, r)| r).collect()
}

/// A run's private directory, `<root>/runs/<id>/`, flock-ed while this guard lives.
/// [`RunDir::remove`] (or drop) deletes it; what cannot be deleted then (still busy) is left
/// to the next mutation's cleanup.
#[derive(Debug)]
pub struct RunDir {
    id: String,
    path: PathBuf,
    runs: OwnedFd,
    dir: OwnedFd,
}

impl RunDir {
    /// 64 hex characters.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// `<root>/runs/<id>`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The overlay's upper (writable) directory.
    pub fn upper(&self) -> PathBuf {
        self.path.join(RUN_UPPER)
    }

    /// The overlay's work directory.
    pub fn work(&self) -> PathBuf {
        self.path.join(RUN_WORK)
    }

    /// Where the overlay is mounted (in the run's mount namespace only).
    pub fn merged(&self) -> PathBuf {
        self.path.join(RUN_MERGED)
    }

    /// Delete the directory and everything in it (by fd, crossing no mount point).
    pub fn remove(self) {
        drop(self)
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        // Still holding our lock, so no cleaner works on it at the same time.
        let _ = fsutil::remove_tree(self.runs.as_fd(), OsStr::new(&self.id));
    }
}

/// The default managed root: `/var/lib/myvol` for root, else `$XDG_DATA_HOME/myvol`, else
/// `~/.local/share/myvol`.
pub fn default_root() -> PathBuf {
    if rustix::process::geteuid().is_root() {
        return PathBuf::from("/var/lib/myvol");
    }
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|x| Path::new(x).is_absolute()) {
        return PathBuf::from(x).join("myvol");
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/"));
    home.join(".local/share/myvol")
}
