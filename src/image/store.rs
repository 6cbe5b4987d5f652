//! The image store: `<root>/images/`, beside the volumes and crash-safe in the same way (see
//! docs/store-format.md, "Images"):
//!
//! ```text
//! <root>/images/                 0700
//!   images.lock                  0600  flock(2): held by every mutation of the image store
//!   repositories.json            0600  references → image IDs (tags and repository digests)
//!   blobs/<alg>/<hex>            0600  content by digest: manifests, configs, layers as distributed
//!   records/<hex>.json           0600  one per image (hex of its ID, the config's digest)
//!   layers/<hex>/                0700  one unpacked layer per diff ID, shared by every image using it
//!     diff/                            the layer in overlayfs's format: a lower directory
//!     layer.json                 0600  {diff_id, size}
//!   leases/<hex>/<id>            0600  one file per live user (a run) of image <hex>, flock-ed
//!   tmp/<hex>/                   0700  a pull or load in progress, flock-ed by its process;
//!     needs.json                       the layers and blobs it will reference (kept by GC)
//!   trash/<hex>/                 0700  layers being deleted
//!   mountpoints/{proc,dev,sys}/  0755  the bottom layer of every run's root (made by a lease)
//!   init/etc/                    0755  Docker's init layer, above every run's image (made by a lease):
//!     hostname hosts resolv.conf 0644    empty, under the run's own files bound on them
//!     mtab -> /proc/mounts
//! ```
//!
//! Every mutation takes `images.lock`; readers take none. Blobs and layers appear with one
//! rename of a complete, verified file or directory; an image's record is written (temp →
//! fsync → rename) before any reference points at it, and removed only after the last
//! reference is gone. Layers and blobs no image and no live job references are deleted by
//! the next `rmi` or `prune`; leftovers of killed jobs in `tmp/` and `trash/` by the next
//! mutation.

mod job;
mod lookup;
mod records;
mod remove;

use std::ffi::OsStr;
use std::io::{self, Read};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use rustix::fs::{self as rfs, AtFlags, Mode, OFlags};
use rustix::io::Errno;

use super::ImageError;
use super::digest::Digest;
use super::oci;
use super::reference::Reference;
use crate::archive::import::OverlayXattrs;
use crate::fsutil;

pub use job::{Job, StagedBlob, StagedLayer};
use lookup::not_found;
pub use records::{BlobRef, Deleted, Image, ImageRecord, LayerMeta, LayerRef, Needs, Repositories, RunImage};
pub use remove::disk_usage;

pub const IMAGES_DIR: &str = "images";
pub const LOCK_FILE: &str = "images.lock";
pub const REPOSITORIES_FILE: &str = "repositories.json";
pub const BLOBS_DIR: &str = "blobs";
pub const RECORDS_DIR: &str = "records";
pub const LAYERS_DIR: &str = "layers";
pub const LAYER_DIFF: &str = "diff";
pub const LAYER_META: &str = "layer.json";
pub const LEASES_DIR: &str = "leases";
pub const TMP_DIR: &str = "tmp";
pub const TRASH_DIR: &str = "trash";
pub const NEEDS_FILE: &str = "needs.json";
/// Empty `proc/`, `dev/` and `sys/`: the bottom layer of a run's root, so that an image
/// without them gets its kernel filesystems' mount points from this shared layer instead of
/// each run making them in its writable layer (and removing them after).
pub const MOUNT_POINTS_DIR: &str = "mountpoints";
/// What [`MOUNT_POINTS_DIR`] holds, in the order they are made (the last one marks it done).
pub const MOUNT_POINTS: [&str; 3] = ["proc", "dev", "sys"];
/// Docker's init layer (`etc/{hostname,hosts,resolv.conf}`, empty, and `etc/mtab ->
/// /proc/mounts`), shared by every run and stacked above its image, so that the run's writable
/// layer stays empty (see `runtime::etc_files`).
pub const INIT_DIR: &str = "init";

const DIR_MODE: u32 = 0o700;
const FILE_MODE: u32 = 0o600;
/// Version of the records' format.
pub const RECORD_FORMAT: u32 = 1;

/// The image store of a managed root.
#[derive(Debug, Clone)]
pub struct ImageStore {
    root: PathBuf,
}

/// The store opened for a mutation; the lock is released on drop.
pub(crate) struct Locked {
    pub(crate) dir: OwnedFd,
    /// `tmp/`: where atomic writes make their temporaries (emptied of dead ones by the next
    /// mutation, see [`ImageStore::clean_leftovers`]).
    pub(crate) tmp: OwnedFd,
    _lock: OwnedFd,
}

/// `images/` with the store lock held, for a lease (see [`ImageStore::lock_existing`]).
pub(crate) struct Held {
    pub(crate) dir: OwnedFd,
    _lock: OwnedFd,
}

fn hex_name(d: &Digest) -> String {
    d.hex().to_owned()
}

fn record_name(id: &Digest) -> String {
    format!("{}.json", id.hex())
}

impl ImageStore {
    /// The image store under managed root `root`. Nothing is touched until used.
    pub fn new(root: impl Into<PathBuf>) -> ImageStore {
        let root = root.into();
        let root = std::path::absolute(&root).unwrap_or(root);
        ImageStore { root }
    }

    /// `<root>/images`.
    pub fn dir(&self) -> PathBuf {
        self.root.join(IMAGES_DIR)
    }

    /// The overlayfs xattr namespace this store's layers use: `trusted.` when run by root,
    /// `user.` otherwise (a rootless store; overlays over it need `userxattr`).
    pub fn overlay_xattrs(&self) -> OverlayXattrs {
        if rustix::process::geteuid().is_root() { OverlayXattrs::Trusted } else { OverlayXattrs::User }
    }

    pub(crate) fn io(&self, op: &'static str, rel: &str, e: impl Into<io::Error>) -> ImageError {
        let path = if rel.is_empty() { self.dir() } else { self.dir().join(rel) };
        ImageError::Io { op, path, source: e.into() }
    }

    /// The directory of an unpacked layer (`layers/<hex>/diff`), for display and for runs.
    pub fn layer_path(&self, diff_id: &Digest) -> PathBuf {
        self.dir().join(LAYERS_DIR).join(diff_id.hex()).join(LAYER_DIFF)
    }

    /// The layer of mount points put below a run's image ([`MOUNT_POINTS_DIR`]); it exists
    /// once the image is leased ([`ImageStore::lease`]).
    pub fn mount_points_path(&self) -> PathBuf {
        self.dir().join(MOUNT_POINTS_DIR)
    }

    /// Make [`MOUNT_POINTS_DIR`] if it is not complete (under the store lock). Each step can
    /// be done again, so a crash halfway leaves nothing the next lease does not finish; once
    /// made, it is never changed or removed.
    fn ensure_mount_points(&self, dir: BorrowedFd<'_>) -> Result<(), ImageError> {
        let last = format!("{MOUNT_POINTS_DIR}/{}", MOUNT_POINTS[MOUNT_POINTS.len() - 1]);
        if rfs::statat(dir, last.as_str(), AtFlags::SYMLINK_NOFOLLOW).is_ok() {
            return Ok(());
        }
        let mkdir = |at: BorrowedFd<'_>, name: &str, rel: &str| match rfs::mkdirat(at, name, Mode::from_raw_mode(0o755))
        {
            Ok(()) | Err(Errno::EXIST) => Ok(()),
            Err(e) => Err(self.io("mkdir", rel, e)),
        };
        let parent = self.shared_layer_dir(dir, MOUNT_POINTS_DIR)?;
        for name in MOUNT_POINTS {
            mkdir(parent.as_fd(), name, &format!("{MOUNT_POINTS_DIR}/{name}"))?;
        }
        Ok(())
    }

    /// Make the shared layer `name` of `images/` (0755) if missing, and open it without
    /// following a link: its content is made in ours only.
    fn shared_layer_dir(&self, dir: BorrowedFd<'_>, name: &str) -> Result<OwnedFd, ImageError> {
        match rfs::mkdirat(dir, name, Mode::from_raw_mode(0o755)) {
            Ok(()) | Err(Errno::EXIST) => {}
            Err(e) => return Err(self.io("mkdir", name, e)),
        }
        fsutil::open_dir(dir, OsStr::new(name)).map_err(|e| self.io("open", name, e))
    }

    /// The init layer put above a run's image ([`INIT_DIR`]); it exists once the image is
    /// leased ([`ImageStore::lease`]).
    pub fn init_layer_path(&self) -> PathBuf {
        self.dir().join(INIT_DIR)
    }

    /// Make [`INIT_DIR`] if it is not complete (under the store lock), as
    /// [`ImageStore::ensure_mount_points`] does: every step can be done again, `etc/mtab`
    /// last marks it done, and it is never changed or removed (see
    /// [`crate::runtime::make_init_layer`]).
    fn ensure_init_layer(&self, dir: BorrowedFd<'_>) -> Result<(), ImageError> {
        let last = format!("{INIT_DIR}/etc/mtab");
        if rfs::statat(dir, last.as_str(), AtFlags::SYMLINK_NOFOLLOW).is_ok() {
            return Ok(());
        }
        let init = self.shared_layer_dir(dir, INIT_DIR)?;
        crate::runtime::make_init_layer(init.as_fd(), true).map_err(|e| self.io("make", INIT_DIR, e))
    }

    /// Open `images/` for reading; `None` when there is no image store yet.
    pub(crate) fn open_read(&self) -> Result<Option<OwnedFd>, ImageError> {
        let root = match rfs::open(&self.root, OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::NOENT) => return Ok(None),
            Err(e) => return Err(self.io("open", "", e)),
        };
        match fsutil::open_dir(root.as_fd(), OsStr::new(IMAGES_DIR)) {
            Ok(fd) => Ok(Some(fd)),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
            Err(e) => Err(self.io("open", "", e)),
        }
    }

    /// The store lock for taking a lease: `images/` as it is (`None` when there is none) and
    /// its lock held. Nothing is made or cleaned up: a lease is no mutation of the images.
    pub(crate) fn lock_existing(&self) -> Result<Option<Held>, ImageError> {
        let Some(dir) = self.open_read()? else { return Ok(None) };
        let lock = self.take_lock(dir.as_fd())?;
        Ok(Some(Held { dir, _lock: lock }))
    }

    /// `images.lock` (made if missing), flock-ed exclusively.
    fn take_lock(&self, dir: BorrowedFd<'_>) -> Result<OwnedFd, ImageError> {
        let lock = rfs::openat(
            dir,
            LOCK_FILE,
            OFlags::RDWR | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(FILE_MODE),
        )
        .map_err(|e| self.io("open", LOCK_FILE, e))?;
        fsutil::lock_exclusive(lock.as_fd()).map_err(|e| self.io("lock", LOCK_FILE, e))?;
        Ok(lock)
    }

    /// Open for a mutation: the managed root (made `0700` if missing, refused when another
    /// user owns it), `images/` and its directories, the lock, and the leftovers of killed
    /// jobs removed.
    pub(crate) fn lock(&self) -> Result<Locked, ImageError> {
        if !self.root.exists() {
            let mut b = std::fs::DirBuilder::new();
            std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
            b.recursive(true);
            b.create(&self.root).map_err(|e| ImageError::Io { op: "mkdir", path: self.root.clone(), source: e })?;
        }
        let root = rfs::open(&self.root, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
            .map_err(|e| ImageError::Io { op: "open", path: self.root.clone(), source: e.into() })?;
        let st =
            rfs::fstat(&root).map_err(|e| ImageError::Io { op: "stat", path: self.root.clone(), source: e.into() })?;
        let uid = rustix::process::geteuid().as_raw();
        if st.st_uid != uid {
            return Err(ImageError::ForeignRoot { path: self.root.clone(), owner: st.st_uid, uid });
        }
        let mode = st.st_mode & 0o7777;
        if mode & 0o066 != 0 || mode & 0o7000 != 0 {
            rfs::fchmod(&root, Mode::from_raw_mode(0o700)).map_err(|e| ImageError::Io {
                op: "chmod",
                path: self.root.clone(),
                source: e.into(),
            })?;
        }
        match rfs::mkdirat(&root, IMAGES_DIR, Mode::from_raw_mode(DIR_MODE)) {
            Ok(()) | Err(Errno::EXIST) => {}
            Err(e) => return Err(self.io("mkdir", "", e)),
        }
        let dir = fsutil::open_dir(root.as_fd(), OsStr::new(IMAGES_DIR)).map_err(|e| self.io("open", "", e))?;
        let lock = self.take_lock(dir.as_fd())?;
        for sub in [BLOBS_DIR, RECORDS_DIR, LAYERS_DIR, LEASES_DIR, TMP_DIR, TRASH_DIR] {
            match rfs::mkdirat(&dir, sub, Mode::from_raw_mode(DIR_MODE)) {
                Ok(()) | Err(Errno::EXIST) => {}
                Err(e) => return Err(self.io("mkdir", sub, e)),
            }
        }
        let tmp = fsutil::open_dir(dir.as_fd(), OsStr::new(TMP_DIR)).map_err(|e| self.io("open", TMP_DIR, e))?;
        let locked = Locked { dir, tmp, _lock: lock };
        self.clean_leftovers(&locked);
        Ok(locked)
    }

    /// Remove what killed commands left behind, as the volume store does (src/store/open.rs):
    /// in `tmp/`, the directories of dead jobs and the temporaries of atomic writes (every
    /// writer holds the lock, so none of them is being written); what `trash/` holds; and
    /// temporaries that atomic writes of older versions made beside their targets. Failures
    /// are left for the next mutation.
    fn clean_leftovers(&self, l: &Locked) {
        for sub in ["", RECORDS_DIR] {
            let opened;
            let fd = if sub.is_empty() {
                l.dir.as_fd()
            } else {
                match fsutil::open_dir(l.dir.as_fd(), OsStr::new(sub)) {
                    Ok(fd) => {
                        opened = fd;
                        opened.as_fd()
                    }
                    Err(_) => continue,
                }
            };
            for (name, _) in fsutil::list_dir(fd).unwrap_or_default() {
                if name.starts_with(crate::store::layout::ATOMIC_TEMP_PREFIX.as_bytes()) {
                    let _ = rfs::unlinkat(fd, OsStr::from_bytes(&name), AtFlags::empty());
                }
            }
        }
        for sub in [TMP_DIR, TRASH_DIR] {
            let opened;
            let fd = if sub == TMP_DIR {
                l.tmp.as_fd()
            } else {
                match fsutil::open_dir(l.dir.as_fd(), OsStr::new(sub)) {
                    Ok(fd) => {
                        opened = fd;
                        opened.as_fd()
                    }
                    Err(_) => continue,
                }
            };
            for (name, _) in fsutil::list_dir(fd).unwrap_or_default() {
                let name = OsStr::from_bytes(&name);
                if let Ok(entry) = rfs::openat(
                    fd,
                    name,
                    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                ) && !fsutil::try_lock_exclusive(entry.as_fd()).unwrap_or(false)
                {
                    continue; // a live job
                }
                let _ = fsutil::remove_tree(fd, name);
            }
        }
    }

    // ------------------------------------------------------------------ reading

    /// The references, as on disk (empty when none).
    pub(crate) fn read_repositories(&self, dir: BorrowedFd<'_>) -> Result<Repositories, ImageError> {
        match fsutil::read_small_file(dir, OsStr::new(REPOSITORIES_FILE)) {
            Ok(b) => serde_json::from_slice(&b)
                .map_err(|e| ImageError::BadMeta { path: self.dir().join(REPOSITORIES_FILE), detail: e.to_string() }),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(Repositories::default()),
            Err(e) => Err(self.io("read", REPOSITORIES_FILE, e)),
        }
    }

    pub(crate) fn write_repositories(&self, l: &Locked, repos: &Repositories) -> Result<(), ImageError> {
        let data = serde_json::to_vec(repos).map_err(|e| self.io("write", REPOSITORIES_FILE, io::Error::other(e)))?;
        fsutil::write_atomic(l.tmp.as_fd(), l.dir.as_fd(), OsStr::new(REPOSITORIES_FILE), &data, FILE_MODE)
            .map_err(|e| self.io("write", REPOSITORIES_FILE, e))
    }

    /// An image's record; `None` when it does not exist.
    pub(crate) fn read_record(&self, dir: BorrowedFd<'_>, id: &Digest) -> Result<Option<ImageRecord>, ImageError> {
        let rel = format!("{RECORDS_DIR}/{}", record_name(id));
        match fsutil::read_small_file(dir, OsStr::new(&rel)) {
            Ok(b) => {
                let r: ImageRecord = serde_json::from_slice(&b)
                    .map_err(|e| ImageError::BadMeta { path: self.dir().join(&rel), detail: e.to_string() })?;
                if r.id != *id {
                    return Err(ImageError::BadMeta {
                        path: self.dir().join(&rel),
                        detail: "id does not match".into(),
                    });
                }
                Ok(Some(r))
            }
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENOTDIR)) => Ok(None),
            Err(e) => Err(self.io("read", &rel, e)),
        }
    }

    /// Whether image `id` has a record (without reading it).
    pub(crate) fn has_record(&self, dir: BorrowedFd<'_>, id: &Digest) -> Result<bool, ImageError> {
        let rel = format!("{RECORDS_DIR}/{}", record_name(id));
        match rfs::statat(dir, rel.as_str(), AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => Ok(rfs::FileType::from_raw_mode(st.st_mode) == rfs::FileType::RegularFile),
            Err(Errno::NOENT | Errno::NOTDIR) => Ok(false),
            Err(e) => Err(self.io("stat", &rel, e)),
        }
    }

    /// The IDs of every image (records that parse as digests), sorted.
    pub(crate) fn record_ids(&self, dir: BorrowedFd<'_>) -> Result<Vec<Digest>, ImageError> {
        let records = match fsutil::open_dir(dir, OsStr::new(RECORDS_DIR)) {
            Ok(fd) => fd,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Ok(Vec::new()),
            Err(e) => return Err(self.io("open", RECORDS_DIR, e)),
        };
        let mut ids: Vec<Digest> = fsutil::list_dir(records.as_fd())
            .map_err(|e| self.io("read", RECORDS_DIR, e))?
            .into_iter()
            .filter_map(|(n, _)| {
                let n = std::str::from_utf8(&n).ok()?.strip_suffix(".json")?;
                Digest::parse(&format!("sha256:{n}")).ok()
            })
            .collect();
        ids.sort();
        Ok(ids)
    }

    /// A small blob's bytes (a config or a manifest), checked against its digest.
    pub(crate) fn read_blob(&self, dir: BorrowedFd<'_>, d: &Digest) -> Result<Vec<u8>, ImageError> {
        let rel = blob_rel(d);
        let fd = fsutil::open_beneath(dir, OsStr::new(&rel), OFlags::RDONLY | OFlags::NONBLOCK, Mode::empty())
            .map_err(|e| self.io("open", &rel, e))?;
        let mut buf = Vec::new();
        std::fs::File::from(fd)
            .take(oci::MAX_DOCUMENT + 1)
            .read_to_end(&mut buf)
            .map_err(|e| self.io("read", &rel, e))?;
        if buf.len() as u64 > oci::MAX_DOCUMENT {
            return Err(ImageError::BadMeta { path: self.dir().join(&rel), detail: "too large".into() });
        }
        let mut h = super::digest::Hasher::new(d.algorithm());
        h.update(&buf);
        if h.finish() != *d {
            return Err(ImageError::BadMeta {
                path: self.dir().join(&rel),
                detail: "content does not match its digest".into(),
            });
        }
        Ok(buf)
    }

    /// Open a stored blob for reading (a layer being unpacked or saved).
    pub fn open_blob(&self, d: &Digest) -> Result<Option<std::fs::File>, ImageError> {
        let Some(dir) = self.open_read()? else { return Ok(None) };
        let rel = blob_rel(d);
        match fsutil::open_beneath(dir.as_fd(), OsStr::new(&rel), OFlags::RDONLY | OFlags::NONBLOCK, Mode::empty()) {
            Ok(fd) => {
                let st = rfs::fstat(&fd).map_err(|e| self.io("stat", &rel, e))?;
                if rfs::FileType::from_raw_mode(st.st_mode) != rfs::FileType::RegularFile {
                    return Err(ImageError::BadMeta {
                        path: self.dir().join(&rel),
                        detail: "not a regular file".into(),
                    });
                }
                Ok(Some(std::fs::File::from(fd)))
            }
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
            Err(e) => Err(self.io("open", &rel, e)),
        }
    }

    /// Delete a stored blob that turned out not to match its digest (damaged on disk), so
    /// that the next pull fetches it again.
    pub fn discard_damaged_blob(&self, d: &Digest) -> Result<(), ImageError> {
        let l = self.lock()?;
        match rfs::unlinkat(&l.dir, blob_rel(d).as_str(), AtFlags::empty()) {
            Ok(()) | Err(Errno::NOENT) => Ok(()),
            Err(e) => Err(self.io("remove", &blob_rel(d), e)),
        }
    }

    pub fn has_blob(&self, d: &Digest) -> bool {
        self.open_read()
            .ok()
            .flatten()
            .is_some_and(|dir| rfs::statat(&dir, blob_rel(d).as_str(), AtFlags::SYMLINK_NOFOLLOW).is_ok())
    }

    /// Whether layer `diff_id` is unpacked in the store.
    pub fn has_layer(&self, diff_id: &Digest) -> bool {
        self.open_read().ok().flatten().is_some_and(|dir| self.layer_meta(dir.as_fd(), diff_id).is_some())
    }

    pub(crate) fn layer_meta(&self, dir: BorrowedFd<'_>, diff_id: &Digest) -> Option<LayerMeta> {
        let rel = format!("{LAYERS_DIR}/{}/{LAYER_META}", diff_id.hex());
        let b = fsutil::read_small_file(dir, OsStr::new(&rel)).ok()?;
        serde_json::from_slice::<LayerMeta>(&b).ok().filter(|m| m.diff_id == *diff_id)
    }

    // ------------------------------------------------------------------ writing

    /// Publish an image: its config and manifest blobs, its record, and `refs` pointing at
    /// it (each moved from the image it named before, if any). The layers must be in the
    /// store (published by the job). Returns the references that moved away from another
    /// image, with that image's ID.
    pub fn commit(
        &self,
        job: &Job,
        record: ImageRecord,
        raw_config: &[u8],
        manifest: Option<&[u8]>,
        refs: &[Reference],
        set_tag_time: bool,
    ) -> Result<Vec<(Reference, Digest)>, ImageError> {
        job.put_blob(&record.id, raw_config)?;
        if let (Some(m), Some(b)) = (&record.manifest, manifest) {
            job.put_blob(&m.digest, b)?;
        }
        let l = self.lock()?;
        for layer in &record.layers {
            if self.layer_meta(l.dir.as_fd(), &layer.diff_id).is_none() {
                return Err(ImageError::MissingLayer { id: record.id.to_string(), diff_id: layer.diff_id.to_string() });
            }
        }
        let mut record = record;
        if let Some(old) = self.read_record(l.dir.as_fd(), &record.id)? {
            record.added_at = old.added_at;
            record.last_tag_time = old.last_tag_time;
            if record.manifest.is_none() {
                record.manifest = old.manifest;
            }
        }
        if set_tag_time && !refs.iter().all(|r| r.digest().is_some()) {
            record.last_tag_time = Some(jiff::Timestamp::now().to_string());
        }
        self.write_record(&l, &record)?;
        crate::failpoint::hit("image-after-record");
        let mut repos = self.read_repositories(l.dir.as_fd())?;
        let mut moved = Vec::new();
        for r in refs {
            if let Some(old) = repos.add(r, &record.id) {
                moved.push((r.clone(), old));
            }
        }
        if !refs.is_empty() {
            self.write_repositories(&l, &repos)?;
        }
        Ok(moved)
    }

    pub(crate) fn write_record(&self, l: &Locked, r: &ImageRecord) -> Result<(), ImageError> {
        let rel = format!("{RECORDS_DIR}/{}", record_name(&r.id));
        let data = serde_json::to_vec(r).map_err(|e| self.io("write", &rel, io::Error::other(e)))?;
        let records =
            fsutil::open_dir(l.dir.as_fd(), OsStr::new(RECORDS_DIR)).map_err(|e| self.io("open", RECORDS_DIR, e))?;
        fsutil::write_atomic(l.tmp.as_fd(), records.as_fd(), OsStr::new(&record_name(&r.id)), &data, FILE_MODE)
            .map_err(|e| self.io("write", &rel, e))
    }

    /// `docker tag SOURCE TARGET`.
    pub fn tag(&self, source: &str, target: &str) -> Result<(), ImageError> {
        Reference::parse_any(source).map_err(|e| ImageError::TagParse { name: source.to_owned(), source: e })?;
        let target_ref = Reference::parse_normalized(target)
            .map_err(|e| ImageError::TagParse { name: target.to_owned(), source: e })?;
        if target_ref.digest().is_some() {
            return Err(ImageError::TagDigest);
        }
        if target_ref.familiar_name() == "sha256" {
            return Err(ImageError::TagAmbiguous);
        }
        let target_ref = target_ref.tag_name_only();
        let l = self.lock()?;
        let mut repos = self.read_repositories(l.dir.as_fd())?;
        let id = self.resolve_id(l.dir.as_fd(), &repos, source)?;
        let Some(mut record) = self.read_record(l.dir.as_fd(), &id)? else {
            return Err(not_found(source)?);
        };
        repos.add(&target_ref, &id);
        record.last_tag_time = Some(jiff::Timestamp::now().to_string());
        self.write_record(&l, &record)?;
        self.write_repositories(&l, &repos)
    }
}

/// `blobs/<alg>/<hex>`.
pub fn blob_rel(d: &Digest) -> String {
    format!("{BLOBS_DIR}/{}/{}", d.algorithm().name(), d.hex())
}

/// An image being used by a run: a flock-ed file in `leases/<hex>/` (see [`super::lease`]).
pub use super::lease::ImageLease;

#[cfg(test)]
mod tests;
