//! What the store records: an image's record, its layers' and blobs' references, the
//! references map (`repositories.json`), and the assembled [`Image`] and [`RunImage`].

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::archive::import::OverlayXattrs;
use crate::image::digest::Digest;
use crate::image::oci::{self, ImageConfig};
use crate::image::reference::Reference;

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
    pub platform: crate::image::platform::Platform,
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
