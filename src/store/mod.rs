//! The managed root: volumes, their metadata, the store lock and in-use leases.
//!
//! Guarantees (see docs/store-format.md):
//! - every mutation holds the store lock (an exclusive flock on `store.lock`);
//! - a volume appears with one rename of a complete directory from `tmp/`, and disappears with
//!   one rename into `trash/`; metadata is written temp → fsync → rename;
//! - readers take no lock: they see a volume whole or not at all, and never fail because a
//!   volume vanished under them;
//! - whatever a crash leaves in `tmp/` or `trash/` is removed by the next mutation.
//!
//! One module per operation: `open` (handles, the lock, the format, crash leftovers),
//! `create`, `list` (get, names, metadata), `remove` (rm, prune), `rename`, `clone`, `import`
//! (and export's open), `usage` (sizes), `runs` (a run's private directory), `lease` (in-use
//! leases) and `mount_lock` (the per-volume lock of mount decisions). Volume names are
//! [`VolumeName`]s throughout: a string that is not one never reaches the store. Drivers are
//! opaque names here, except [`LOCAL_DRIVER`]; plugin volumes are created and removed through
//! the [`ExternalDriver`] the caller hands in, and the local driver's options are checked by
//! the caller ([`CreateRequest::invalid_options`]).

mod clone;
mod create;
mod error;
mod import;
pub mod layout;
mod lease;
mod list;
pub mod meta;
mod mount_lock;
mod open;
mod remove;
mod rename;
mod runs;
mod usage;
mod users;

#[cfg(test)]
mod testutil;

use std::collections::BTreeMap;
use std::io;
use std::os::fd::BorrowedFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use create::{CreateRequest, Created, OwnerRequest};
pub use error::{BoxedError, StoreError};
pub use import::ImportSlot;
pub use lease::{Access, Lease, LeaseInfo, PIN_PREFIX};
pub use list::Unreadable;
pub use meta::{Owner, Quota, QuotaMode};
pub use mount_lock::MountLock;
pub use remove::PruneReport;
pub use runs::LockedRunDir;
pub use usage::Usage;
pub use users::{COMPOSE_PROJECT_LABEL, COMPOSE_SERVICE_LABEL, User, command_line, shell_quote};

use crate::name::VolumeName;

type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The label Docker puts on anonymous volumes.
pub const ANONYMOUS_LABEL: &str = "com.docker.volume.anonymous";

/// The built-in driver: content kept in the store. Every other driver name is an
/// [`ExternalDriver`]'s.
pub const LOCAL_DRIVER: &str = "local";

/// The longest file name Linux's filesystems hold (`NAME_MAX`): a volume's directory is
/// named after it, so a longer name can never be made.
const NAME_MAX: usize = 255;

/// A volume as the store knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    pub name: VolumeName,
    pub driver: String,
    /// RFC 3339 (UTC, nanoseconds) as recorded at creation.
    pub created_at: String,
    pub labels: Option<BTreeMap<String, String>>,
    pub options: Option<BTreeMap<String, String>>,
    /// `<root>/volumes/<name>/_data`.
    pub mountpoint: PathBuf,
    /// `local` for the local driver.
    pub scope: String,
    /// The owner `volume create --uid/--gid/--mode` gave the content, if it was asked for.
    pub owner: Option<Owner>,
    /// The size limit, if the volume has one.
    pub quota: Option<Quota>,
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

/// Whether a local volume's options mount a filesystem on its `_data` (`type`, `device`):
/// its content is then not in the store.
pub fn mounted_from_options(options: Option<&BTreeMap<String, String>>) -> bool {
    options.is_some_and(|o| o.contains_key("type") || o.contains_key("device"))
}

/// A driver that keeps volumes outside the store (a Docker volume plugin). The store records
/// its volumes (name, driver, options, labels) and asks it to create and remove them, under
/// the store lock, so the record and the driver agree. Its errors are the driver's own
/// (the store adds `create NAME: ` or `remove NAME: `).
pub trait ExternalDriver: std::fmt::Debug + Send + Sync {
    /// Create volume `name` in `driver` (or adopt one the driver already has); returns the
    /// driver's scope. `options` is `None` when none were given.
    fn create(
        &self,
        driver: &str,
        name: &VolumeName,
        options: Option<&BTreeMap<String, String>>,
    ) -> Result<String, BoxedError>;
    /// Remove volume `name` from `driver`.
    fn remove(&self, driver: &str, name: &VolumeName) -> Result<(), BoxedError>;
    /// Whether `driver` can be found, without asking it anything (a run's plan checks this).
    fn find(&self, driver: &str) -> Result<(), BoxedError>;
}

/// The directories of a local volume being built in `tmp/` (or of an import's staging), for
/// [`LocalLimits`].
#[derive(Debug, Clone, Copy)]
pub struct BuildDirs<'a> {
    /// `tmp/<hex>/`: where a disk image goes.
    pub dir: BorrowedFd<'a>,
    /// Its path, for the tools that make a disk image.
    pub dir_path: &'a Path,
    /// `tmp/<hex>/_data`: the content.
    pub data: BorrowedFd<'a>,
    /// The store's `volumes/`: on the filesystem the volume will live on.
    pub volumes: BorrowedFd<'a>,
}

/// What the local driver does for a size limit (`-o size=…`) that the store does not do
/// itself: set up a project quota, or make a disk image. The store calls it on a volume being
/// built, before it is published (under the store lock, except for a clone's and an import's
/// content, built without it), and records what it returns. It mounts nothing.
pub trait LocalLimits: std::fmt::Debug + Send + Sync {
    /// The limit `options` ask for: the size and a mode they force, `None` for no limit.
    fn requested(&self, options: &BTreeMap<String, String>) -> Result<Option<(u64, Option<QuotaMode>)>, BoxedError>;
    /// Set up a limit of `size` bytes on a new volume's build, in the mode `forced` or the
    /// one the filesystem allows. `root` is what the content's root gets (owner, mode).
    /// `project_ids` lists the project ids the store's volumes use. With `content_follows`
    /// (a clone), a disk image is not made yet: [`LocalLimits::after_fill`] makes it from the
    /// content.
    fn create(
        &self,
        size: u64,
        forced: Option<QuotaMode>,
        root: Owner,
        dirs: BuildDirs<'_>,
        project_ids: &dyn Fn() -> Vec<u32>,
        content_follows: bool,
    ) -> Result<Quota, BoxedError>;
    /// Before content is written into `dirs.data` for a volume limited by `quota` (an
    /// import's staging, a clone's copy): give it the volume's project id.
    fn before_fill(&self, quota: &Quota, dirs: BuildDirs<'_>) -> Result<(), BoxedError>;
    /// After content was written into `dirs.data` for a volume limited by `quota`: for a disk
    /// image, make `dirs.dir/disk.img` from that content (which is then removed: `data` stays
    /// as the image's mount point).
    fn after_fill(&self, quota: &Quota, dirs: BuildDirs<'_>) -> Result<(), BoxedError>;
}

/// The managed root.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
    external: Option<Arc<dyn ExternalDriver>>,
    limits: Option<Arc<dyn LocalLimits>>,
}

impl Store {
    /// A store rooted at `root` (made absolute against the current directory). Nothing is
    /// touched until a command reads or writes.
    pub fn new(root: impl Into<PathBuf>) -> Store {
        let root = root.into();
        let root = std::path::absolute(&root).unwrap_or(root);
        Store { root, external: None, limits: None }
    }

    /// This store, with volumes of drivers other than `local` handled by `external`
    /// (without it, such a driver is "not found", as a missing plugin).
    pub fn with_external(mut self, external: Arc<dyn ExternalDriver>) -> Store {
        self.external = Some(external);
        self
    }

    /// This store, with size limits of local volumes set up by `limits` (without it, a size
    /// is refused, as by Docker without quota support).
    pub fn with_limits(mut self, limits: Arc<dyn LocalLimits>) -> Store {
        self.limits = Some(limits);
        self
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Check that driver `driver` (not `local`) can be found, for a volume `name` about to
    /// be created: Docker's `create NAME: error looking up volume plugin …` when not. `name`
    /// is for the message only (a run's plan checks the driver before the name).
    pub fn find_driver(&self, name: &str, driver: &str) -> Result<()> {
        match &self.external {
            None => Err(StoreError::UnknownDriver { name: name.to_owned(), driver: driver.to_owned() }),
            Some(ext) => {
                ext.find(driver).map_err(|source| StoreError::Driver { op: "create", name: name.to_owned(), source })
            }
        }
    }

    /// An I/O error on `rel` (relative to the root; empty: the root itself).
    /// `op` (`rename`, `clone`) of volume `name` to `target`: refused before anything is
    /// done when `target` is longer than a file name may be, as the `mkdir` or the rename of
    /// its directory would fail anyway.
    fn check_target_len(&self, op: &'static str, name: &VolumeName, target: &VolumeName) -> Result<()> {
        if target.as_str().len() <= NAME_MAX {
            return Ok(());
        }
        let path = self.root.join(layout::VOLUMES_DIR).join(target.as_str());
        Err(StoreError::TargetTooLong { op, name: name.to_string(), path })
    }

    fn io(&self, op: &'static str, rel: &str, e: impl Into<io::Error>) -> StoreError {
        let path = if rel.is_empty() { self.root.clone() } else { self.root.join(rel) };
        StoreError::Io { op, path, source: e.into() }
    }
}
