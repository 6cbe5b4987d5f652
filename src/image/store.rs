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
//! ```
//!
//! Every mutation takes `images.lock`; readers take none. Blobs and layers appear with one
//! rename of a complete, verified file or directory; an image's record is written (temp →
//! fsync → rename) before any reference points at it, and removed only after the last
//! reference is gone. Layers and blobs no image and no live job references are deleted by
//! the next `rmi` or `prune`; leftovers of killed jobs in `tmp/` and `trash/` by the next
//! mutation.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use rustix::fs::{self as rfs, AtFlags, Mode, OFlags};
use rustix::io::Errno;
use serde::{Deserialize, Serialize};

use super::ImageError;
use super::digest::{Algorithm, Digest};
use super::oci::{self, ImageConfig};
use super::reference::{AnyReference, Reference};
use crate::archive::import::OverlayXattrs;
use crate::fsutil;

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

const DIR_MODE: u32 = 0o700;
const FILE_MODE: u32 = 0o600;
/// Version of the records' format.
pub const RECORD_FORMAT: u32 = 1;

/// A blob an image references: a manifest, or a layer as distributed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobRef {
    pub digest: Digest,
    pub media_type: String,
    pub size: u64,
}

/// One layer of an image: the blob it came from and the digest of its uncompressed tar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerRef {
    pub digest: Digest,
    pub media_type: String,
    pub size: u64,
    pub diff_id: Digest,
}

/// `records/<hex>.json`: what the store knows of one image beyond its config blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRecord {
    pub format: u32,
    /// The image ID: the digest of the config blob.
    pub id: Digest,
    pub config_size: u64,
    /// The (single-platform) manifest, as stored in `blobs/`.
    #[serde(default)]
    pub manifest: Option<BlobRef>,
    /// Bottom layer first, as the config's `rootfs.diff_ids`.
    pub layers: Vec<LayerRef>,
    /// When the image entered this store (RFC 3339).
    pub added_at: String,
    /// When a tag was last set on it with `tag` or `load` (Docker's `Metadata.LastTagTime`).
    #[serde(default)]
    pub last_tag_time: Option<String>,
}

/// `layers/<hex>/layer.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerMeta {
    pub diff_id: Digest,
    /// Apparent size of the unpacked content (non-directories, hard links once).
    pub size: u64,
}

/// `repositories.json`: repository name → full reference → image ID (Docker's reference
/// store, with full names).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repositories {
    #[serde(rename = "Repositories", default)]
    pub repos: BTreeMap<String, BTreeMap<String, Digest>>,
}

impl Repositories {
    /// The image a reference names (`:latest` added to a bare name).
    pub fn get(&self, r: &Reference) -> Option<&Digest> {
        let r = r.tag_name_only();
        self.repos.get(&r.name()).and_then(|m| m.get(&r.to_string()))
    }

    /// Point `r` at `id`; the image it named before, if another.
    pub fn add(&mut self, r: &Reference, id: &Digest) -> Option<Digest> {
        let r = r.tag_name_only();
        self.repos.entry(r.name()).or_default().insert(r.to_string(), id.clone()).filter(|old| old != id)
    }

    pub fn remove(&mut self, r: &Reference) -> Option<Digest> {
        let r = r.tag_name_only();
        let name = r.name();
        let m = self.repos.get_mut(&name)?;
        let old = m.remove(&r.to_string());
        if m.is_empty() {
            self.repos.remove(&name);
        }
        old
    }

    /// Every reference to `id`, in order.
    pub fn references(&self, id: &Digest) -> Vec<Reference> {
        self.repos
            .values()
            .flat_map(|m| m.iter())
            .filter(|(_, v)| *v == id)
            .filter_map(|(k, _)| Reference::parse_normalized(k).ok())
            .collect()
    }
}

/// An image as `ls`, `inspect` and a run see it.
#[derive(Debug, Clone)]
pub struct Image {
    pub record: ImageRecord,
    pub config: ImageConfig,
    /// The config blob's bytes (inspect shows fields myvol does not model).
    pub raw_config: Vec<u8>,
    /// `name:tag` references, familiar order.
    pub repo_tags: Vec<Reference>,
    /// `name@digest` references.
    pub repo_digests: Vec<Reference>,
    /// Sum of the unpacked layers' sizes.
    pub size: u64,
    /// Each layer's unpacked size, in the order of `record.layers`.
    pub layer_sizes: Vec<u64>,
    /// Live users (runs).
    pub users: u64,
}

impl Image {
    pub fn id(&self) -> &Digest {
        &self.record.id
    }

    /// Neither tag nor digest reference.
    pub fn dangling(&self) -> bool {
        self.repo_tags.is_empty() && self.repo_digests.is_empty()
    }
}

/// What a run needs of an image: its configuration, and its layers to stack.
#[derive(Debug, Clone)]
pub struct RunImage {
    pub id: Digest,
    /// The config's `config` object: Entrypoint, Cmd, Env, WorkingDir, User, Volumes.
    pub config: oci::RunConfig,
    pub platform: super::platform::Platform,
    /// The unpacked layers' directories, **top layer first**: overlayfs's `lowerdir=` order.
    pub lower_dirs: Vec<PathBuf>,
    /// Which xattrs mark the layers' opaque directories: `User` means the overlay must be
    /// mounted with `userxattr`.
    pub overlay_xattrs: OverlayXattrs,
}

/// One line of `rmi`'s and `prune`'s report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deleted {
    Untagged(String),
    Deleted(String),
}

/// What a job (pull, load) will reference: garbage collection keeps them while it lives.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Needs {
    pub layers: Vec<Digest>,
    pub blobs: Vec<Digest>,
}

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
        let lock = rfs::openat(
            &dir,
            LOCK_FILE,
            OFlags::RDWR | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(FILE_MODE),
        )
        .map_err(|e| self.io("open", LOCK_FILE, e))?;
        fsutil::lock_exclusive(lock.as_fd()).map_err(|e| self.io("lock", LOCK_FILE, e))?;
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

    fn layer_meta(&self, dir: BorrowedFd<'_>, diff_id: &Digest) -> Option<LayerMeta> {
        let rel = format!("{LAYERS_DIR}/{}/{LAYER_META}", diff_id.hex());
        let b = fsutil::read_small_file(dir, OsStr::new(&rel)).ok()?;
        serde_json::from_slice::<LayerMeta>(&b).ok().filter(|m| m.diff_id == *diff_id)
    }

    /// Resolve `name_or_id` as Docker's `GetImage`: an ID (`sha256:…` or 64 hex), a
    /// reference (`:latest` added), or a unique prefix of an ID.
    pub fn lookup(&self, name_or_id: &str) -> Result<Image, ImageError> {
        let Some(dir) = self.open_read()? else {
            return Err(not_found(name_or_id)?);
        };
        let repos = self.read_repositories(dir.as_fd())?;
        let id = self.resolve_id(dir.as_fd(), &repos, name_or_id)?;
        self.image(dir.as_fd(), &repos, &id)?.ok_or_else(|| not_found(name_or_id).unwrap_or_else(|e| e))
    }

    /// The ID `name_or_id` names (see [`ImageStore::lookup`]).
    pub(crate) fn resolve_id(
        &self,
        dir: BorrowedFd<'_>,
        repos: &Repositories,
        name_or_id: &str,
    ) -> Result<Digest, ImageError> {
        let any = Reference::parse_any(name_or_id).map_err(ImageError::Reference)?;
        match any {
            AnyReference::Id(d) => {
                if self.read_record(dir, &d)?.is_some() {
                    Ok(d)
                } else {
                    Err(ImageError::NotFound(d.to_string()))
                }
            }
            AnyReference::Named(r) => {
                if let Some(id) = repos.get(&r)
                    && self.read_record(dir, id)?.is_some()
                {
                    return Ok(id.clone());
                }
                if let Some(id) = self.search(dir, name_or_id)? {
                    return Ok(id);
                }
                Err(ImageError::NotFound(r.tag_name_only().familiar_string()))
            }
        }
    }

    /// A unique image whose ID starts with `term` (`sha256:` optional).
    fn search(&self, dir: BorrowedFd<'_>, term: &str) -> Result<Option<Digest>, ImageError> {
        let hex = term.strip_prefix("sha256:").unwrap_or(term);
        if hex.is_empty() || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Ok(None);
        }
        let matches: Vec<Digest> = self.record_ids(dir)?.into_iter().filter(|id| id.hex().starts_with(hex)).collect();
        Ok(if matches.len() == 1 { matches.into_iter().next() } else { None })
    }

    /// The image with ID `id`, assembled; `None` when it does not exist.
    pub(crate) fn image(
        &self,
        dir: BorrowedFd<'_>,
        repos: &Repositories,
        id: &Digest,
    ) -> Result<Option<Image>, ImageError> {
        let Some(record) = self.read_record(dir, id)? else { return Ok(None) };
        let raw_config = self.read_blob(dir, id)?;
        let config = ImageConfig::parse(&raw_config)
            .map_err(|e| ImageError::BadMeta { path: self.dir().join(blob_rel(id)), detail: e.to_string() })?;
        let mut repo_tags = Vec::new();
        let mut repo_digests = Vec::new();
        for r in repos.references(id) {
            if r.digest().is_some() {
                repo_digests.push(r);
            } else {
                repo_tags.push(r);
            }
        }
        let layer_sizes: Vec<u64> =
            record.layers.iter().map(|l| self.layer_meta(dir, &l.diff_id).map_or(0, |m| m.size)).collect();
        let size = layer_sizes.iter().sum();
        let users = self.live_leases(dir, id, false).len() as u64;
        Ok(Some(Image { record, config, raw_config, repo_tags, repo_digests, size, layer_sizes, users }))
    }

    /// Every image, newest first (by the config's `created`).
    pub fn list(&self) -> Result<Vec<Image>, ImageError> {
        let Some(dir) = self.open_read()? else { return Ok(Vec::new()) };
        let repos = self.read_repositories(dir.as_fd())?;
        let mut out = Vec::new();
        for id in self.record_ids(dir.as_fd())? {
            // An image removed meanwhile, or unreadable, is left out of the listing.
            if let Ok(Some(img)) = self.image(dir.as_fd(), &repos, &id) {
                out.push(img);
            }
        }
        out.sort_by(|a, b| b.config.created_unix().cmp(&a.config.created_unix()).then(a.id().cmp(b.id())));
        Ok(out)
    }

    /// What a run of `name_or_id` needs, read-only and without a lease (planning a run, and
    /// `run --dry-run`); the run takes its lease by ID when it starts ([`ImageStore::lease`]).
    pub fn run_image(&self, name_or_id: &str) -> Result<RunImage, ImageError> {
        let Some(dir) = self.open_read()? else {
            return Err(not_found(name_or_id)?);
        };
        let repos = self.read_repositories(dir.as_fd())?;
        let id = self.resolve_id(dir.as_fd(), &repos, name_or_id)?;
        let Some(img) = self.image(dir.as_fd(), &repos, &id)? else {
            return Err(not_found(name_or_id)?);
        };
        self.run_image_of(dir.as_fd(), &img)
    }

    /// An image as a run takes it, its layers checked to be in the store.
    fn run_image_of(&self, dir: BorrowedFd<'_>, img: &Image) -> Result<RunImage, ImageError> {
        for layer in &img.record.layers {
            if self.layer_meta(dir, &layer.diff_id).is_none() {
                return Err(ImageError::MissingLayer { id: img.id().to_string(), diff_id: layer.diff_id.to_string() });
            }
        }
        Ok(RunImage {
            id: img.id().clone(),
            config: img.config.config.clone().unwrap_or_default(),
            platform: img.config.platform(),
            lower_dirs: img.record.layers.iter().rev().map(|layer| self.layer_path(&layer.diff_id)).collect(),
            overlay_xattrs: self.overlay_xattrs(),
        })
    }

    /// What a run of `name_or_id` needs, with a lease that keeps the image from being
    /// removed until the lease is dropped (Docker's "image is being used by running
    /// container"). The lease is taken under the store lock, so the image cannot go between
    /// the lookup and the lease.
    pub fn lease(&self, name_or_id: &str, holder: &str) -> Result<(ImageLease, RunImage), ImageError> {
        let l = self.lock()?;
        let repos = self.read_repositories(l.dir.as_fd())?;
        let id = self.resolve_id(l.dir.as_fd(), &repos, name_or_id)?;
        let Some(img) = self.image(l.dir.as_fd(), &repos, &id)? else {
            return Err(not_found(name_or_id)?);
        };
        let run = self.run_image_of(l.dir.as_fd(), &img)?;
        let lease = super::lease::acquire(self, l.dir.as_fd(), &id, holder)?;
        Ok((lease, run))
    }

    /// Live lease ids on image `id` (stale ones reaped when `reap`, under the lock).
    pub(crate) fn live_leases(&self, dir: BorrowedFd<'_>, id: &Digest, reap: bool) -> Vec<String> {
        super::lease::live(dir, id, reap)
    }

    // ------------------------------------------------------------------ writing

    /// Start a job (a pull or a load): a private directory in `tmp/`, flock-ed while the
    /// returned [`Job`] lives, recording what the job will reference so that garbage
    /// collection keeps it.
    pub fn begin_job(&self, needs: &Needs) -> Result<Job, ImageError> {
        let l = self.lock()?;
        let tmp = fsutil::open_dir(l.dir.as_fd(), OsStr::new(TMP_DIR)).map_err(|e| self.io("open", TMP_DIR, e))?;
        let name = fsutil::random_suffix();
        rfs::mkdirat(&tmp, name.as_str(), Mode::from_raw_mode(DIR_MODE))
            .map_err(|e| self.io("mkdir", &format!("{TMP_DIR}/{name}"), e))?;
        let made = (|| -> io::Result<OwnedFd> {
            let dir = fsutil::open_dir(tmp.as_fd(), OsStr::new(&name))?;
            fsutil::try_lock_exclusive(dir.as_fd())?;
            let data = serde_json::to_vec(needs).map_err(io::Error::other)?;
            fsutil::write_new(dir.as_fd(), OsStr::new(NEEDS_FILE), &data, FILE_MODE)?;
            Ok(dir)
        })();
        match made {
            Ok(dir) => {
                let images =
                    rfs::openat(&l.dir, c".", OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
                        .map_err(|e| self.io("open", "", e))?;
                Ok(Job { store: self.clone(), images, tmp, name, dir, needs: std::sync::Mutex::new(needs.clone()) })
            }
            Err(e) => {
                let _ = fsutil::remove_tree(tmp.as_fd(), OsStr::new(&name));
                Err(self.io("mkdir", &format!("{TMP_DIR}/{name}"), e))
            }
        }
    }

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

    /// `docker rmi NAME_OR_ID` (daemon/images/image_delete.go): untag, and delete the image
    /// when its last reference goes, unless a run uses it.
    pub fn remove(&self, name_or_id: &str, force: bool) -> Result<Vec<Deleted>, ImageError> {
        let l = self.lock()?;
        let mut repos = self.read_repositories(l.dir.as_fd())?;
        let id = self.resolve_id(l.dir.as_fd(), &repos, name_or_id)?;
        let mut out = Vec::new();
        let by_id = is_id_prefix(&id, name_or_id);
        let users = self.live_leases(l.dir.as_fd(), &id, true);
        if !by_id {
            let refs = repos.references(&id);
            if !force
                && is_single_reference(&refs)
                && let Some(user) = users.first()
            {
                return Err(ImageError::Conflict(format!(
                    "conflict: unable to remove repository reference {} (must force) - container {} is using its referenced image {}",
                    crate::text::go_quote(name_or_id),
                    &user[..user.len().min(12)],
                    id.short()
                )));
            }
            let parsed = Reference::parse_normalized(name_or_id).map_err(ImageError::Reference)?.tag_name_only();
            repos.remove(&parsed);
            out.push(Deleted::Untagged(parsed.familiar_string()));
            let mut remaining = repos.references(&id);
            if parsed.digest().is_none() && !remaining.iter().any(|r| r.digest().is_none() && r.name() == parsed.name())
            {
                // The last tag of this repository: its digest references go with it.
                remaining.retain(|r| {
                    if r.digest().is_some() && r.name() == parsed.name() {
                        repos.remove(r);
                        out.push(Deleted::Untagged(r.familiar_string()));
                        false
                    } else {
                        true
                    }
                });
            }
            self.write_repositories(&l, &repos)?;
            if !remaining.is_empty() {
                return Ok(out);
            }
            // The image is now untagged: deleted, unless a run uses it (then it stays, dangling).
            if !users.is_empty() {
                return Ok(out);
            }
        } else {
            let refs = repos.references(&id);
            if let Some(user) = users.first() {
                return Err(ImageError::Conflict(format!(
                    "conflict: unable to delete {} (cannot be forced) - image is being used by running container {}",
                    id.short(),
                    &user[..user.len().min(12)]
                )));
            }
            if !refs.is_empty() && !force && !is_single_reference(&refs) {
                return Err(ImageError::Conflict(format!(
                    "conflict: unable to delete {} (must be forced) - image is referenced in multiple repositories",
                    id.short()
                )));
            }
            for r in &refs {
                repos.remove(r);
                out.push(Deleted::Untagged(r.familiar_string()));
            }
            if !refs.is_empty() {
                self.write_repositories(&l, &repos)?;
            }
        }
        self.delete_record(&l, &id)?;
        out.push(Deleted::Deleted(id.to_string()));
        let (layers, _) = self.collect_garbage(&l)?;
        out.extend(layers.into_iter().map(|d| Deleted::Deleted(d.to_string())));
        Ok(out)
    }

    fn delete_record(&self, l: &Locked, id: &Digest) -> Result<(), ImageError> {
        let rel = format!("{RECORDS_DIR}/{}", record_name(id));
        match rfs::unlinkat(&l.dir, rel.as_str(), AtFlags::empty()) {
            Ok(()) | Err(Errno::NOENT) => {}
            Err(e) => return Err(self.io("remove", &rel, e)),
        }
        crate::failpoint::hit("image-after-record-delete");
        let _ = rfs::fsync(&l.dir);
        // Its (dead) lease files.
        let leases = format!("{LEASES_DIR}/{}", id.hex());
        let _ = fsutil::remove_tree(l.dir.as_fd(), OsStr::new(&leases));
        Ok(())
    }

    /// `docker image prune [-a]`: dangling images (or, with `all`, every image no run
    /// uses) that `select` accepts. Returns the report lines and the bytes reclaimed.
    pub fn prune(&self, all: bool, select: impl Fn(&Image) -> bool) -> Result<(Vec<Deleted>, u64), ImageError> {
        let l = self.lock()?;
        let mut repos = self.read_repositories(l.dir.as_fd())?;
        let mut out = Vec::new();
        let mut changed = false;
        for id in self.record_ids(l.dir.as_fd())? {
            let Some(img) = self.image(l.dir.as_fd(), &repos, &id)? else { continue };
            if !select(&img) || !self.live_leases(l.dir.as_fd(), &id, true).is_empty() {
                continue;
            }
            let refs = repos.references(&id);
            if !refs.is_empty() {
                let has_tag = refs.iter().any(|r| r.digest().is_none());
                if !all && has_tag {
                    continue;
                }
                for r in &refs {
                    repos.remove(r);
                    out.push(Deleted::Untagged(r.familiar_string()));
                }
                changed = true;
            }
            if changed {
                self.write_repositories(&l, &repos)?;
                changed = false;
            }
            self.delete_record(&l, &id)?;
            out.push(Deleted::Deleted(id.to_string()));
        }
        let (layers, reclaimed) = self.collect_garbage(&l)?;
        out.extend(layers.into_iter().map(|d| Deleted::Deleted(d.to_string())));
        Ok((out, reclaimed))
    }

    /// Delete the layers and blobs that no image and no live job references. Returns the
    /// diff IDs of the layers deleted and the bytes reclaimed.
    pub(crate) fn collect_garbage(&self, l: &Locked) -> Result<(Vec<Digest>, u64), ImageError> {
        let mut keep_layers: BTreeSet<String> = BTreeSet::new();
        let mut keep_blobs: BTreeSet<String> = BTreeSet::new();
        for id in self.record_ids(l.dir.as_fd())? {
            // A record that cannot be read keeps nothing alive, but its config stays.
            keep_blobs.insert(blob_rel(&id));
            let Ok(Some(r)) = self.read_record(l.dir.as_fd(), &id) else { continue };
            if let Some(m) = &r.manifest {
                keep_blobs.insert(blob_rel(&m.digest));
            }
            for layer in &r.layers {
                keep_layers.insert(hex_name(&layer.diff_id));
                keep_blobs.insert(blob_rel(&layer.digest));
            }
        }
        // What live jobs will reference.
        if let Ok(tmp) = fsutil::open_dir(l.dir.as_fd(), OsStr::new(TMP_DIR)) {
            for (name, _) in fsutil::list_dir(tmp.as_fd()).unwrap_or_default() {
                let name = OsStr::from_bytes(&name);
                let Ok(job) = fsutil::open_dir(tmp.as_fd(), name) else { continue };
                if fsutil::try_lock_shared(job.as_fd()).unwrap_or(true) {
                    continue; // dead: cleaned by the next mutation
                }
                if let Ok(b) = fsutil::read_small_file(job.as_fd(), OsStr::new(NEEDS_FILE))
                    && let Ok(needs) = serde_json::from_slice::<Needs>(&b)
                {
                    keep_layers.extend(needs.layers.iter().map(hex_name));
                    keep_blobs.extend(needs.blobs.iter().map(blob_rel));
                }
            }
        }
        let mut deleted = Vec::new();
        let mut reclaimed = 0u64;
        let layers =
            fsutil::open_dir(l.dir.as_fd(), OsStr::new(LAYERS_DIR)).map_err(|e| self.io("open", LAYERS_DIR, e))?;
        let trash =
            fsutil::open_dir(l.dir.as_fd(), OsStr::new(TRASH_DIR)).map_err(|e| self.io("open", TRASH_DIR, e))?;
        for (name, _) in fsutil::list_dir(layers.as_fd()).map_err(|e| self.io("read", LAYERS_DIR, e))? {
            let Ok(hex) = std::str::from_utf8(&name) else { continue };
            if keep_layers.contains(hex) {
                continue;
            }
            let meta = Digest::parse(&format!("sha256:{hex}")).ok().and_then(|d| self.layer_meta(l.dir.as_fd(), &d));
            let aside = fsutil::random_suffix();
            if rfs::renameat(&layers, hex, &trash, aside.as_str()).is_err() {
                continue;
            }
            crate::failpoint::hit("image-gc-after-rename");
            let _ = fsutil::remove_tree(trash.as_fd(), OsStr::new(&aside));
            if let Some(m) = meta {
                reclaimed += m.size;
                deleted.push(m.diff_id);
            }
        }
        let blobs =
            fsutil::open_dir(l.dir.as_fd(), OsStr::new(BLOBS_DIR)).map_err(|e| self.io("open", BLOBS_DIR, e))?;
        for (alg, _) in fsutil::list_dir(blobs.as_fd()).unwrap_or_default() {
            let Ok(alg) = std::str::from_utf8(&alg) else { continue };
            let Ok(algdir) = fsutil::open_dir(blobs.as_fd(), OsStr::new(alg)) else { continue };
            for (name, _) in fsutil::list_dir(algdir.as_fd()).unwrap_or_default() {
                let Ok(hex) = std::str::from_utf8(&name) else { continue };
                if keep_blobs.contains(&format!("{BLOBS_DIR}/{alg}/{hex}")) {
                    continue;
                }
                if let Ok(st) = rfs::statat(&algdir, hex, AtFlags::SYMLINK_NOFOLLOW) {
                    reclaimed += st.st_size as u64;
                }
                let _ = rfs::unlinkat(&algdir, hex, AtFlags::empty());
            }
        }
        Ok((deleted, reclaimed))
    }
}

/// What `system df` reports of `images`: for each, the size of its layers that another of
/// them also uses (Docker's `SharedSize`); and the size of every layer, each counted once
/// (Docker's `LayersSize`).
pub fn disk_usage(images: &[Image]) -> (Vec<u64>, u64) {
    let mut users: BTreeMap<&Digest, (usize, u64)> = BTreeMap::new();
    for img in images {
        let mut seen = BTreeSet::new();
        for (layer, size) in img.record.layers.iter().zip(&img.layer_sizes) {
            if seen.insert(&layer.diff_id) {
                users.entry(&layer.diff_id).or_insert((0, *size)).0 += 1;
            }
        }
    }
    let shared = images
        .iter()
        .map(|img| {
            let layers: BTreeSet<&Digest> = img.record.layers.iter().map(|l| &l.diff_id).collect();
            layers.into_iter().filter_map(|d| users.get(d)).filter(|(n, _)| *n > 1).map(|(_, size)| size).sum()
        })
        .collect();
    (shared, users.values().map(|(_, size)| size).sum())
}

/// `blobs/<alg>/<hex>`.
pub fn blob_rel(d: &Digest) -> String {
    format!("{BLOBS_DIR}/{}/{}", d.algorithm().name(), d.hex())
}

/// Docker's "No such image" for what the user typed (`:latest` added to a bare name).
fn not_found(name_or_id: &str) -> Result<ImageError, ImageError> {
    Ok(match Reference::parse_any(name_or_id).map_err(ImageError::Reference)? {
        AnyReference::Id(d) => ImageError::NotFound(d.to_string()),
        AnyReference::Named(r) => ImageError::NotFound(r.tag_name_only().familiar_string()),
    })
}

/// `isImageIDPrefix`.
fn is_id_prefix(id: &Digest, s: &str) -> bool {
    id.as_str().starts_with(s) || id.hex().starts_with(s)
}

/// Docker's `isSingleReference`: one tag, possibly with digest references of the same name.
fn is_single_reference(refs: &[Reference]) -> bool {
    if refs.len() <= 1 {
        return refs.len() == 1;
    }
    let mut single: Option<&Reference> = None;
    let mut canonical = BTreeSet::new();
    for r in refs {
        if r.digest().is_some() {
            canonical.insert(r.name());
        } else if single.is_none() {
            single = Some(r);
        } else {
            return false;
        }
    }
    let single = single.unwrap_or(&refs[0]);
    canonical.len() == 1 && canonical.contains(&single.name())
}

/// A pull or load in progress (see [`ImageStore::begin_job`]). Dropping it removes its
/// private directory; what it published stays.
#[derive(Debug)]
pub struct Job {
    store: ImageStore,
    images: OwnedFd,
    tmp: OwnedFd,
    name: String,
    dir: OwnedFd,
    needs: std::sync::Mutex<Needs>,
}

/// A layer being unpacked by a job: `tmp/<job>/<hex>/diff`.
#[derive(Debug)]
pub struct StagedLayer {
    name: String,
    dir: OwnedFd,
    diff: OwnedFd,
}

impl StagedLayer {
    /// The empty directory to unpack into.
    pub fn diff(&self) -> BorrowedFd<'_> {
        self.diff.as_fd()
    }
}

/// A blob being written by a job: `tmp/<job>/<hex>`.
#[derive(Debug)]
pub struct StagedBlob {
    name: String,
    pub file: std::fs::File,
}

impl Job {
    /// Add to what this job will reference (before publishing it), under the store lock so
    /// that a garbage collection sees either the old list or the new one.
    pub fn need(&self, layers: &[Digest], blobs: &[Digest]) -> Result<(), ImageError> {
        let mut needs = self.needs.lock().unwrap_or_else(|e| e.into_inner());
        let before = (needs.layers.len(), needs.blobs.len());
        for l in layers {
            if !needs.layers.contains(l) {
                needs.layers.push(l.clone());
            }
        }
        for b in blobs {
            if !needs.blobs.contains(b) {
                needs.blobs.push(b.clone());
            }
        }
        if (needs.layers.len(), needs.blobs.len()) == before {
            return Ok(());
        }
        let data = serde_json::to_vec(&*needs)
            .map_err(|e| self.store.io("write", &self.rel(NEEDS_FILE), io::Error::other(e)))?;
        let l = self.store.lock()?;
        fsutil::write_atomic(l.tmp.as_fd(), self.dir.as_fd(), OsStr::new(NEEDS_FILE), &data, FILE_MODE)
            .map_err(|e| self.store.io("write", &self.rel(NEEDS_FILE), e))
    }

    pub fn store(&self) -> &ImageStore {
        &self.store
    }

    fn rel(&self, name: &str) -> String {
        format!("{TMP_DIR}/{}/{name}", self.name)
    }

    /// A new empty layer directory.
    pub fn stage_layer(&self) -> Result<StagedLayer, ImageError> {
        let name = format!("l-{}", fsutil::random_suffix());
        let made = (|| -> io::Result<(OwnedFd, OwnedFd)> {
            rfs::mkdirat(&self.dir, name.as_str(), Mode::from_raw_mode(DIR_MODE))?;
            let dir = fsutil::open_dir(self.dir.as_fd(), OsStr::new(&name))?;
            rfs::mkdirat(&dir, LAYER_DIFF, Mode::from_raw_mode(0o755))?;
            let diff = fsutil::open_dir(dir.as_fd(), OsStr::new(LAYER_DIFF))?;
            Ok((dir, diff))
        })();
        let (dir, diff) = made.map_err(|e| self.store.io("mkdir", &self.rel(&name), e))?;
        Ok(StagedLayer { name, dir, diff })
    }

    /// Throw a staged layer away.
    pub fn discard_layer(&self, l: StagedLayer) {
        drop(l.diff);
        drop(l.dir);
        let _ = fsutil::remove_tree(self.dir.as_fd(), OsStr::new(&l.name));
    }

    /// Publish a staged, verified layer as `layers/<hex of diff_id>` (one rename). When the
    /// store has it already (another pull was faster), ours is discarded.
    pub fn publish_layer(&self, l: StagedLayer, diff_id: &Digest) -> Result<(), ImageError> {
        let size = fsutil::apparent_size(l.diff.as_fd()).map_err(|e| self.store.io("read", &self.rel(&l.name), e))?;
        let meta = serde_json::to_vec(&LayerMeta { diff_id: diff_id.clone(), size }).unwrap_or_default();
        fsutil::write_new(l.dir.as_fd(), OsStr::new(LAYER_META), &meta, FILE_MODE)
            .map_err(|e| self.store.io("write", &self.rel(&l.name), e))?;
        rfs::fsync(&l.dir).map_err(|e| self.store.io("sync", &self.rel(&l.name), e))?;
        let target = format!("{LAYERS_DIR}/{}", diff_id.hex());
        let layers = fsutil::open_dir(self.images.as_fd(), OsStr::new(LAYERS_DIR))
            .map_err(|e| self.store.io("open", LAYERS_DIR, e))?;
        crate::failpoint::hit("image-before-layer-publish");
        match rfs::renameat_with(&self.dir, l.name.as_str(), &layers, diff_id.hex(), rfs::RenameFlags::NOREPLACE) {
            Ok(()) => {
                let _ = rfs::fsync(&layers);
                Ok(())
            }
            Err(Errno::EXIST | Errno::NOTEMPTY) => {
                self.discard_layer(l);
                Ok(())
            }
            Err(e) => Err(self.store.io("rename", &target, e)),
        }
    }

    /// A new blob file to write into.
    pub fn stage_blob(&self) -> Result<StagedBlob, ImageError> {
        let name = format!("b-{}", fsutil::random_suffix());
        let fd = rfs::openat(
            &self.dir,
            name.as_str(),
            OFlags::RDWR | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(FILE_MODE),
        )
        .map_err(|e| self.store.io("create", &self.rel(&name), e))?;
        Ok(StagedBlob { name, file: std::fs::File::from(fd) })
    }

    /// Publish a staged blob whose content the caller verified to be `digest` (after an
    /// fsync of the file, or of its filesystem).
    pub fn publish_blob(&self, b: StagedBlob, digest: &Digest) -> Result<(), ImageError> {
        drop(b.file);
        let alg = digest.algorithm().name();
        let blobs = fsutil::open_dir(self.images.as_fd(), OsStr::new(BLOBS_DIR))
            .map_err(|e| self.store.io("open", BLOBS_DIR, e))?;
        match rfs::mkdirat(&blobs, alg, Mode::from_raw_mode(DIR_MODE)) {
            Ok(()) | Err(Errno::EXIST) => {}
            Err(e) => return Err(self.store.io("mkdir", BLOBS_DIR, e)),
        }
        let algdir =
            fsutil::open_dir(blobs.as_fd(), OsStr::new(alg)).map_err(|e| self.store.io("open", BLOBS_DIR, e))?;
        rfs::renameat(&self.dir, b.name.as_str(), &algdir, digest.hex())
            .map_err(|e| self.store.io("rename", &blob_rel(digest), e))?;
        let _ = rfs::fsync(&algdir);
        Ok(())
    }

    /// Throw a staged blob away.
    pub fn discard_blob(&self, b: StagedBlob) {
        drop(b.file);
        let _ = rfs::unlinkat(&self.dir, b.name.as_str(), AtFlags::empty());
    }

    /// Store a small blob (a config, a manifest) whose bytes are in memory.
    pub fn put_blob(&self, digest: &Digest, data: &[u8]) -> Result<(), ImageError> {
        let mut h = super::digest::Hasher::new(digest.algorithm());
        h.update(data);
        if h.finish() != *digest {
            return Err(ImageError::DigestMismatch {
                what: "blob".into(),
                expected: digest.to_string(),
                actual: Digest::of(data).to_string(),
            });
        }
        if self.store.has_blob(digest) {
            return Ok(());
        }
        let mut b = self.stage_blob()?;
        b.file
            .write_all(data)
            .and_then(|()| b.file.sync_all())
            .map_err(|e| self.store.io("write", &self.rel(&b.name), e))?;
        self.publish_blob(b, digest)
    }

    /// Whether the algorithm of every digest this job writes is supported for blobs.
    pub fn supports(d: &Digest) -> bool {
        matches!(d.algorithm(), Algorithm::Sha256 | Algorithm::Sha384 | Algorithm::Sha512)
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        // Still holding the directory's flock: no cleaner works on it meanwhile.
        let _ = fsutil::remove_tree(self.tmp.as_fd(), OsStr::new(&self.name));
    }
}

/// An image being used by a run: a flock-ed file in `leases/<hex>/` (see [`super::lease`]).
pub use super::lease::ImageLease;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_reference_rule() {
        let r = |s: &str| Reference::parse_normalized(s).unwrap();
        let d = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert!(!is_single_reference(&[]));
        assert!(is_single_reference(&[r("a:1")]));
        assert!(!is_single_reference(&[r("a:1"), r("a:2")]));
        assert!(is_single_reference(&[r("a:1"), r(&format!("a@{d}"))]));
        assert!(!is_single_reference(&[r("a:1"), r(&format!("b@{d}"))]));
    }

    /// Atomic writes make their temporaries in `tmp/`, never beside their targets; the next
    /// mutation removes what killed writers and jobs left there (and what older versions left
    /// beside the targets), and keeps a live job's directory.
    #[test]
    fn the_next_mutation_cleans_temporaries_and_dead_jobs() {
        let dir = tempfile::tempdir().unwrap();
        let store = ImageStore::new(dir.path());
        let l = store.lock().unwrap();
        let mut repos = Repositories::default();
        repos.add(&Reference::parse_normalized("busybox").unwrap(), &Digest::of(b"x"));
        store.write_repositories(&l, &repos).unwrap();
        drop(l);
        let images = dir.path().join(IMAGES_DIR);
        let names = |rel: &str| {
            let mut v: Vec<String> = std::fs::read_dir(images.join(rel))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            v.sort();
            v
        };
        assert!(!names("").iter().any(|n| n.starts_with(".tmp-")), "{:?}", names(""));
        assert!(names(TMP_DIR).is_empty());
        // What killed commands leave: temporaries in tmp/ and (older versions) beside their
        // targets, a dead job's directory; and a live job.
        std::fs::write(images.join(TMP_DIR).join(".tmp-repositories.json-0123456789abcdef"), "{").unwrap();
        std::fs::write(images.join(".tmp-repositories.json-00000000000000ff"), "{").unwrap();
        std::fs::write(images.join(RECORDS_DIR).join(".tmp-x.json-00000000000000ff"), "{").unwrap();
        std::fs::create_dir_all(images.join(TMP_DIR).join("dead/l-1/diff")).unwrap();
        let live = store.begin_job(&Needs::default()).unwrap();
        drop(store.lock().unwrap());
        assert_eq!(names(TMP_DIR), std::slice::from_ref(&live.name));
        assert!(!names("").iter().any(|n| n.starts_with(".tmp-")), "{:?}", names(""));
        assert!(names(RECORDS_DIR).is_empty());
        drop(live);
        assert!(names(TMP_DIR).is_empty());
        let l = store.lock().unwrap();
        assert_eq!(store.read_repositories(l.dir.as_fd()).unwrap(), repos);
    }

    #[test]
    fn repositories_map_references() {
        let id = Digest::of(b"x");
        let mut repos = Repositories::default();
        let busybox = Reference::parse_normalized("busybox").unwrap();
        assert_eq!(repos.add(&busybox, &id), None);
        assert_eq!(repos.get(&Reference::parse_normalized("busybox:latest").unwrap()), Some(&id));
        assert_eq!(repos.references(&id).len(), 1);
        let other = Digest::of(b"y");
        assert_eq!(repos.add(&busybox, &other), Some(id.clone()));
        assert!(repos.references(&id).is_empty());
        assert_eq!(repos.remove(&busybox), Some(other));
        assert!(repos.repos.is_empty());
    }
}
