//! Images: references, digests, the OCI/Docker documents, platforms, the image store under the
//! managed root, registries (pull, credentials), and `docker save`/`load` archives.
//!
//! The library API a run uses:
//! - [`ImageStore::run_image`]: resolve `NAME[:TAG]`, `NAME@DIGEST`, an ID or an ID prefix to
//!   a [`RunImage`] (the config's Entrypoint, Cmd, Env, WorkingDir, User, Volumes; the layer
//!   directories to stack as overlayfs lower directories, top first), reading the store once;
//! - [`ImageStore::lease`]: an [`ImageLease`] on that image's ID that keeps `rmi`/`prune` off
//!   the image until dropped;
//! - [`pull::pull`] for `--pull missing|always`.

pub mod archive;
pub mod credentials;
pub mod digest;
mod lease;
pub mod oci;
pub mod platform;
pub mod pull;
pub mod reference;
pub mod registry;
pub mod store;

use std::io;
use std::path::PathBuf;

use thiserror::Error;

pub use lease::ImageLease;
pub use store::{Image, ImageStore, RunImage};

use crate::text::errno_text;

/// What went wrong with an image. Messages are the body of Docker's daemon errors where
/// Docker has one (`No such image: busybox:latest`, `conflict: unable to delete …`).
#[derive(Debug, Error)]
pub enum ImageError {
    #[error("No such image: {}", crate::text::echo(.0))]
    NotFound(String),
    #[error(transparent)]
    Reference(#[from] reference::ReferenceError),
    #[error("Error parsing reference: {} is not a valid repository/tag: {source}", crate::text::echo(name).quoted())]
    TagParse { name: String, source: reference::ReferenceError },
    #[error("refusing to create a tag with a digest reference")]
    TagDigest,
    #[error("refusing to create an ambiguous tag using digest algorithm as name")]
    TagAmbiguous,
    #[error("{0}")]
    Conflict(String),
    #[error("image {id}: layer {diff_id} is missing from the store")]
    MissingLayer { id: String, diff_id: String },
    #[error("{op} {}: {}", crate::text::echo_path(path), errno_text(source))]
    Io { op: &'static str, path: PathBuf, source: io::Error },
    #[error("invalid metadata in {}: {}", crate::text::echo_path(path), crate::text::echo(detail))]
    BadMeta { path: PathBuf, detail: String },
    #[error(
        "refusing to use the store at {}: it is owned by uid {owner}, not by uid {uid} who runs myvol",
        crate::text::echo_path(path)
    )]
    ForeignRoot { path: PathBuf, owner: u32, uid: u32 },
    /// Content that does not hash to the digest it was announced with.
    #[error("{what} verification failed for digest {expected} (got {actual})")]
    DigestMismatch { what: String, expected: String, actual: String },
    /// A layer whose uncompressed content is not what the config's `rootfs.diff_ids` says.
    #[error(
        "layers from manifest don't match image configuration: layer {index} has diff ID {actual}, the configuration says {expected}"
    )]
    DiffIdMismatch { index: usize, expected: String, actual: String },
    /// A layer the extractor refused or could not unpack (Docker's wording).
    #[error("failed to register layer: {0}")]
    Layer(crate::archive::ArchiveError),
    #[error(transparent)]
    Registry(#[from] registry::RegistryError),
    #[error(transparent)]
    Platform(#[from] platform::PlatformError),
    /// The platform, formatted (`linux/amd64`).
    #[error("no matching manifest for {0} in the manifest list entries")]
    NoMatchingManifest(String),
    #[error(transparent)]
    Document(#[from] oci::DocumentError),
    #[error("image config: {0}")]
    Config(String),
    /// `load` of something that is not an image archive, or a broken one.
    #[error("{0}")]
    Load(String),
    /// Writing a `save` archive.
    #[error("{0}")]
    Save(String),
    #[error(transparent)]
    Credentials(#[from] credentials::CredentialsError),
}

impl ImageError {
    /// A `No such image` error (exit 1 like every image error, but commands that collect
    /// several errors treat it apart, as Docker's CLI does with `--force`).
    pub fn is_not_found(&self) -> bool {
        matches!(self, ImageError::NotFound(_))
    }

    /// The failure is a closed output pipe (`myvol save busybox | head -c1`).
    pub fn is_broken_pipe(&self) -> bool {
        match self {
            ImageError::Io { source, .. } => source.kind() == io::ErrorKind::BrokenPipe,
            _ => false,
        }
    }
}
