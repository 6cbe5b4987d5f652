//! The on-disk metadata of one volume (`volumes/<name>/volume.json`) and of the store
//! (`store.json`). These are myvol's own types; Docker's JSON wire shapes live in `output`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::layout::FORMAT_VERSION;

/// The most bytes of metadata a volume may have: what every writer checks (`create`,
/// `rename`, `clone`) and every reader reads at most (`volume.json`, the xattr).
pub const MAX_META_BYTES: u64 = crate::fsutil::MAX_META_BYTES;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreMeta {
    pub format: u32,
}

impl Default for StoreMeta {
    fn default() -> Self {
        StoreMeta { format: FORMAT_VERSION }
    }
}

/// What myvol records about a volume. `labels` and `options` are `None` when none were given,
/// which `inspect` shows as `null`, as Docker does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeMeta {
    pub format: u32,
    pub name: String,
    pub driver: String,
    /// RFC 3339, UTC, nanoseconds.
    pub created_at: String,
    #[serde(default)]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub options: Option<BTreeMap<String, String>>,
    /// A plugin volume's scope, as the plugin's Capabilities said (`local` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The owner and mode `volume create --uid/--gid/--mode` gave the content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<Owner>,
    /// The size limit (`-o size=…`) and how it is enforced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<Quota>,
}

/// The owner and mode of a volume's content (its `_data`, or the root of its disk image), as
/// `volume create --uid/--gid/--mode` set them: what was given, the creator's ids and `0755`
/// for what was not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
}

/// How a volume's size limit is enforced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QuotaMode {
    /// A project quota on the store's filesystem (XFS, ext4 with `prjquota`): `_data` carries
    /// a project id of its own, inherited by everything created in it.
    Project,
    /// A sparse ext4 image of that size (`disk.img` beside `_data`), mounted on `_data` on a
    /// loop device while the volume is used.
    Image,
}

impl QuotaMode {
    pub fn as_str(self) -> &'static str {
        match self {
            QuotaMode::Project => "project",
            QuotaMode::Image => "image",
        }
    }
}

/// A volume's size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quota {
    pub mode: QuotaMode,
    /// The limit, in bytes.
    pub size: u64,
    /// The project id of `_data` (project quotas).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<u32>,
}

impl VolumeMeta {
    /// The bytes written to disk, or their size when over [`MAX_META_BYTES`].
    pub fn encode(&self) -> Result<Vec<u8>, usize> {
        let json = serde_json::to_vec_pretty(self).unwrap_or_default();
        if json.len() as u64 > MAX_META_BYTES { Err(json.len()) } else { Ok(json) }
    }
}

/// `rename.json`: the rename in progress (see docs/store-format.md, "Renaming").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenameJournal {
    pub from: String,
    pub to: String,
}
