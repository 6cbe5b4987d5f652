//! The managed root's layout: the only place where names of entries under the root are
//! spelled. Everything below is opened relative to a directory fd, one validated component
//! at a time; the absolute paths built here are for display (`Mountpoint`) only.
//!
//! ```text
//! <root>/                     0700  (0710/0711 kept if set by the admin)
//!   store.json                0600  {"format": 1}
//!   store.lock                0600  flock(2): held exclusively by every mutation
//!   rename.json               0600  only during a rename: {"from": OLD, "to": NEW}
//!   volumes/                  0701
//!     <name>/                 0701  appears and disappears with one rename
//!       volume.json           0600  metadata (driver, labels, options, creation time)
//!       volume.next.json      0600  only during a rename: the metadata under the new name
//!       _data/                0755  the volume's content: its Mountpoint
//!       disk.img              0600  a size-limited volume's content, when it is a disk image
//!       leases/               0700  one file per user of the volume, flock-ed by its holder
//!   tmp/                      0700  work in progress, all of it removed by the next mutation
//!     <hex>/                  0700  a volume being built (flock-ed), an import's staging
//!                                   (flock-ed), or old content kept for readers (users/)
//!     lease-<id>              0600  a lease's second name (flock-ed by its holder)
//!     pin-<id>, .tmp-*        0600  a pinned lease, an atomic write, being written
//!   trash/                    0700  volumes being deleted: renamed here first, then emptied
//!     <hex>/
//!   mounts/                   0700  one empty file per volume that may have a driver mount
//!     <name>                  0600  (local driver options, or a plugin) for its users
//!   runs/                     0700  one directory per live run, flock-ed by its supervisor
//!     <id>/                   0700  64 hex
//!       upper/                0755  the overlay's writable layer over the rootfs
//!       work/                 0700  overlayfs's work directory
//!       merged/               0755  where the overlay is mounted, in the run's own mount namespace
//! ```
//!
//! Because unfinished and half-deleted volumes live outside `volumes/`, a listing never sees
//! them; the next mutation removes what a crash left in `tmp/`, `trash/` and `runs/` (a run
//! directory whose flock nobody holds).

use std::path::{Path, PathBuf};

use crate::name::VolumeName;

/// Version of the on-disk format described in docs/store-format.md.
pub const FORMAT_VERSION: u32 = 1;

pub const STORE_FILE: &str = "store.json";
pub const LOCK_FILE: &str = "store.lock";
pub const VOLUMES_DIR: &str = "volumes";
pub const META_FILE: &str = "volume.json";
/// Extended attribute of the volume directory holding the metadata written at creation
/// (journaled with the directory itself, so publishing a volume needs one journal commit).
/// `volume.json`, when present, is used instead (see docs/store-format.md).
pub const META_XATTR: &str = "user.myvol.volume";
/// A rename's metadata under the new name, written before the directory rename. It is the
/// volume's metadata exactly when its `name` is the directory's name (the rename committed).
pub const META_NEXT_FILE: &str = "volume.next.json";
/// The rename in progress, for the next mutation to finish (see docs/store-format.md).
pub const RENAME_JOURNAL: &str = "rename.json";
pub const DATA_DIR: &str = "_data";
/// A size-limited volume's disk image (ext4, sparse), mounted on `_data` while in use.
pub const DISK_IMAGE: &str = "disk.img";
pub const LEASES_DIR: &str = "leases";
/// Volumes under construction.
pub const TMP_DIR: &str = "tmp";
/// Volumes being deleted.
pub const TRASH_DIR: &str = "trash";
/// Volumes that may have something mounted for their users.
pub const MOUNTS_DIR: &str = "mounts";
/// Per-run writable layers.
pub const RUNS_DIR: &str = "runs";
pub const RUN_UPPER: &str = "upper";
pub const RUN_WORK: &str = "work";
pub const RUN_MERGED: &str = "merged";
/// Prefix of a lease file not yet published, as older versions made them (now reaped only).
pub const LEASE_NEW_PREFIX: &str = ".new-";
/// `tmp/lease-<id>`: a lease file's name in `tmp/`, by which the next mutation finds the
/// leases of holders that were killed (see `lease.rs`).
pub const LEASE_INDEX_PREFIX: &str = "lease-";
/// `tmp/pin-<id>`: a pinned lease being written, before it is linked into `leases/`.
pub const PIN_STAGING_PREFIX: &str = "pin-";
/// Prefix of the temporaries of atomic writes (in `tmp/`; older versions made them beside
/// the file, at the root and in volume directories).
pub const ATOMIC_TEMP_PREFIX: &str = ".tmp-";
/// `tmp/<hex>/users/`: in a volume's old content that `import --force` kept for its readers,
/// hard links to their lease files; the tree lives until none of them is locked.
pub const KEPT_FOR_DIR: &str = "users";

pub const ROOT_MODE: u32 = 0o700;
pub const VOLUMES_MODE: u32 = 0o701;
pub const VOLUME_DIR_MODE: u32 = 0o701;
pub const DATA_MODE: u32 = 0o755;
pub const META_MODE: u32 = 0o600;
pub const LEASES_MODE: u32 = 0o700;
pub const PRIVATE_DIR_MODE: u32 = 0o700;

/// `<root>/volumes/<name>/_data`, as shown in `Mountpoint`.
pub fn mountpoint(root: &Path, name: &VolumeName) -> PathBuf {
    root.join(VOLUMES_DIR).join(name).join(DATA_DIR)
}

/// `<root>/volumes/<name>`.
pub fn volume_dir(root: &Path, name: &VolumeName) -> PathBuf {
    root.join(VOLUMES_DIR).join(name)
}

/// `<root>/runs/<id>`.
pub fn run_dir(root: &Path, id: &str) -> PathBuf {
    root.join(RUNS_DIR).join(id)
}

/// `<name>/<sub>` relative to the volumes directory.
pub fn rel(name: &VolumeName, sub: &str) -> String {
    format!("{name}/{sub}")
}

/// `volumes/<name>/<sub>` relative to the root: what an error about it names.
pub fn root_rel(name: &VolumeName, sub: &str) -> String {
    format!("{VOLUMES_DIR}/{name}/{sub}")
}
