//! What went wrong in the store, in Docker's words where Docker has some.

use std::io;
use std::path::PathBuf;

use thiserror::Error;

use super::layout::FORMAT_VERSION;
use crate::name::NameError;
use crate::text::{echo, echo_path, errno_text};

/// An error of a driver (an [`ExternalDriver`](super::ExternalDriver)'s, or the local
/// driver's verdict on options), which the store reports without knowing its type.
pub type BoxedError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong in the store. Messages are the body of Docker's daemon errors where
/// Docker has one (`create NAME: …`, `get NAME: no such volume`, `remove NAME: …`).
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("create {}: {source}", echo(name))]
    InvalidName { name: String, source: NameError },
    /// Options the local driver refuses (its verdict is the source).
    #[error("create {}: {source}", echo(name))]
    InvalidOption { name: String, source: BoxedError },
    #[error("create {}: error looking up volume plugin {}: plugin {} not found", echo(name), echo(driver), echo(driver).quoted())]
    UnknownDriver { name: String, driver: String },
    #[error(
        "create {}: driver '{}' already has volume '{}': volume name must be unique",
        echo(name),
        echo(existing),
        echo(name)
    )]
    Conflict { name: String, existing: String },
    #[error(
        "create {}: error while creating volume root path '{}': mkdir {}: {}",
        echo(name),
        echo_path(path),
        echo_path(path),
        errno_text(source)
    )]
    CreateDir { name: String, path: PathBuf, source: io::Error },
    #[error("get {}: no such volume", echo(.0))]
    NotFound(String),
    #[error("remove {}: volume is in use - [{}]", echo(name), ids.join(", "))]
    InUse { name: String, ids: Vec<String> },
    /// Something is still mounted on the volume's `_data` with no user left (the next myvol
    /// invocation normally unmounts it first).
    #[error("remove {}: volume is still mounted at {}", echo(name), echo_path(path))]
    Mounted { name: String, path: PathBuf },
    /// An external driver's (a volume plugin's) error, with the operation and the volume it
    /// was about.
    #[error("{op} {}: {source}", echo(name))]
    Driver { op: &'static str, name: String, source: BoxedError },
    /// `volume export|import` of a volume whose content is not kept in the store (tmpfs,
    /// bind, NFS: a volume with driver options).
    #[error("{op} {}: volume has driver options: its content is not kept in the store", echo(name))]
    NoContent { op: &'static str, name: String },
    /// `rename`, `clone`, `export`, `import` of a plugin volume.
    #[error("{op} {}: volume of driver '{}': its content is not kept in the store", echo(name), echo(driver))]
    External { op: &'static str, name: String, driver: String },
    /// `rename`, `clone`, `import` (without `--force`) of a volume that a live process uses.
    #[error("{op} {}: volume is in use - [{}]", echo(name), ids.join(", "))]
    Busy { op: &'static str, name: String, ids: Vec<String> },
    /// `rename`/`clone` to a name that is taken.
    #[error("{op} {}: volume {} already exists", echo(name), echo(target))]
    TargetExists { op: &'static str, name: String, target: String },
    /// `rename`/`clone` to a name longer than a file name may be (255 bytes): refused before
    /// anything is done, in the words of the `mkdir` that would fail (Docker's for `create`).
    #[error(
        "{op} {}: error while creating volume root path '{}': mkdir {}: file name too long",
        echo(name),
        echo_path(path),
        echo_path(path)
    )]
    TargetTooLong { op: &'static str, name: String, path: PathBuf },
    /// `rename`/`clone` to a name that is not a valid volume name.
    #[error("{op} {}: {source}", echo(name))]
    InvalidTarget { op: &'static str, name: String, source: NameError },
    #[error("clone {}: copying {}: {}", echo(name), echo_path(path), errno_text(source))]
    Copy { name: String, path: PathBuf, source: io::Error },
    #[error("get {}: invalid metadata in {}: {}", echo(name), echo_path(path), echo(detail))]
    BadMeta { name: String, path: PathBuf, detail: String },
    /// `volume rm` (without `--force`) of a volume whose metadata cannot be read: its driver
    /// is unknown, so it cannot be asked.
    #[error(
        "remove {}: invalid metadata in {}: {} (the volume's driver is unknown: `volume rm --force` removes it without asking the driver)",
        echo(name),
        echo_path(path),
        echo(detail)
    )]
    Unreadable { name: String, path: PathBuf, detail: String },
    /// Labels and options whose metadata would exceed [`MAX_META_BYTES`](super::meta::MAX_META_BYTES),
    /// the most any reader reads.
    #[error(
        "{op} {}: labels and options too large: the volume's metadata would take {size} bytes, more than the limit of {} bytes (1 MiB)",
        echo(name),
        super::meta::MAX_META_BYTES
    )]
    MetaTooLarge { op: &'static str, name: String, size: usize },
    #[error("{op} {}: {}", echo_path(path), errno_text(source))]
    Io { op: &'static str, path: PathBuf, source: io::Error },
    /// An I/O error of `step` on `path`, while doing `op` to volume `name`.
    #[error("{op} {}: {step} {}: {}", echo(name), echo_path(path), errno_text(source))]
    VolumeIo { op: &'static str, name: String, step: &'static str, path: PathBuf, source: io::Error },
    /// `volume import --force` of a volume that a writer uses: what the writer writes would
    /// go with the old content.
    #[error("import {}: volume is in use for writing - [{}]: --force imports under readers only (a writer's changes would be lost)", echo(name), ids.join(", "))]
    ImportUnderWriters { name: String, ids: Vec<String> },
    /// Setting up a size limit failed (no project quotas and no way to make a disk image, a
    /// tool that failed, an image too small for the content).
    #[error("{op} {}: {source}", echo(name))]
    Limit { op: &'static str, name: String, source: BoxedError },
    /// `volume import --create`: the name was taken while the archive was unpacked.
    #[error(
        "import {}: volume {} was created by another command meanwhile; nothing was imported",
        echo(name),
        echo(name)
    )]
    ImportRace { name: String },
    #[error(
        "the store at {} has format {found}, newer than this myvol understands ({FORMAT_VERSION}); use a newer myvol",
        echo_path(path)
    )]
    FormatTooNew { path: PathBuf, found: u32 },
    #[error(
        "refusing to use the store at {}: it is owned by uid {owner}, not by uid {uid} who runs myvol",
        echo_path(path)
    )]
    ForeignRoot { path: PathBuf, owner: u32, uid: u32 },
    /// A refusal of the store as a whole (its owner, its format, its lock file), met while
    /// doing `op` to volume `name`, or to none (`prune`).
    #[error("{op}{}: {source}", name.as_deref().map(|n| format!(" {}", echo(n))).unwrap_or_default())]
    Store { op: &'static str, name: Option<String>, source: Box<StoreError> },
}

impl StoreError {
    /// This error, as part of doing `op` to volume `name`: an I/O error then names both
    /// (`export db: lease …/volumes/db/leases: no space left on device`); every other error
    /// already does, or is about the store as a whole.
    pub fn during(self, op: &'static str, name: &impl std::fmt::Display) -> StoreError {
        match self {
            StoreError::Io { op: step, path, source } => {
                StoreError::VolumeIo { op, name: name.to_string(), step, path, source }
            }
            e @ (StoreError::ForeignRoot { .. } | StoreError::FormatTooNew { .. }) => {
                StoreError::Store { op, name: Some(name.to_string()), source: Box::new(e) }
            }
            other => other,
        }
    }

    /// This error, as part of `op` on the store as a whole (`prune`): a refusal of the store
    /// or an I/O error then names the operation (`prune: open …/store.lock: read-only file
    /// system`).
    pub fn during_store(self, op: &'static str) -> StoreError {
        match self {
            e @ (StoreError::Io { .. } | StoreError::ForeignRoot { .. } | StoreError::FormatTooNew { .. }) => {
                StoreError::Store { op, name: None, source: Box::new(e) }
            }
            other => other,
        }
    }

    /// The errno of an I/O error, if this is one.
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            StoreError::Io { source, .. } | StoreError::VolumeIo { source, .. } => source.raw_os_error(),
            StoreError::Store { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::name::VolumeName;

    /// The messages that Docker's CLI users and scripts match on, byte for byte.
    #[test]
    fn messages_are_dockers() {
        let cases: Vec<(StoreError, &str)> = vec![
            (StoreError::NotFound("a/b".into()), "get a/b: no such volume"),
            (
                StoreError::InvalidName { name: "x".into(), source: VolumeName::parse("x").unwrap_err() },
                "create x: volume name is too short, names should be at least two alphanumeric characters",
            ),
            (
                StoreError::UnknownDriver { name: "v1".into(), driver: "nope".into() },
                "create v1: error looking up volume plugin nope: plugin \"nope\" not found",
            ),
            (
                StoreError::Conflict { name: "v1".into(), existing: "local".into() },
                "create v1: driver 'local' already has volume 'v1': volume name must be unique",
            ),
            (
                StoreError::InUse { name: "v1".into(), ids: vec!["a".into(), "b".into()] },
                "remove v1: volume is in use - [a, b]",
            ),
            (
                StoreError::CreateDir {
                    name: "v1".into(),
                    path: "/r/volumes/v1".into(),
                    source: io::Error::from_raw_os_error(libc::ENOSPC),
                },
                "create v1: error while creating volume root path '/r/volumes/v1': mkdir /r/volumes/v1: no space left on device",
            ),
            (
                StoreError::Driver { op: "remove", name: "v1".into(), source: "the plugin's own words".into() },
                "remove v1: the plugin's own words",
            ),
            (
                StoreError::InvalidOption { name: "v1".into(), source: "invalid option: \"x\"".into() },
                "create v1: invalid option: \"x\"",
            ),
        ];
        for (e, text) in cases {
            assert_eq!(e.to_string(), text);
        }
    }
}
