//! The JSON documents of the OCI image spec and of Docker's image format v2, reduced to the
//! fields myvol reads: descriptors, manifests, indexes / manifest lists, and image configs.
//! Unknown fields are ignored; what a manifest or config says is checked before use
//! (digests parse, sizes are bounded), and the raw bytes are kept where digests are computed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::digest::Digest;
use super::platform::Platform;

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1+json";
pub const DOCKER_SCHEMA1_SIGNED: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
pub const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar";
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
pub const DOCKER_FOREIGN_LAYER: &str = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

/// `Accept:` for manifest requests, most wanted first (as Docker sends them).
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.v2+json";

/// OCI annotation: a tag or full reference of an image in a layout's `index.json`.
pub const ANNOTATION_REF_NAME: &str = "org.opencontainers.image.ref.name";
/// containerd's annotation: the full reference (`docker.io/library/busybox:latest`).
pub const ANNOTATION_IMAGE_NAME: &str = "io.containerd.image.name";

/// The largest manifest, index or config myvol reads (they are small JSON documents; Docker's
/// own limit for manifests is 4 MiB).
pub const MAX_DOCUMENT: u64 = 8 << 20;

/// A content descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Descriptor {
    #[serde(rename = "mediaType", default)]
    pub media_type: String,
    pub digest: Digest,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
}

impl Descriptor {
    /// A descriptor of `size` bytes of `media_type` with `digest`, nothing more.
    pub fn new(media_type: impl Into<String>, digest: Digest, size: u64) -> Self {
        Descriptor { media_type: media_type.into(), digest, size, urls: Vec::new(), annotations: None, platform: None }
    }
}

/// An image manifest (OCI, or Docker's schema 2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub config: Descriptor,
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// An OCI index or a Docker manifest list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// What a manifest document turned out to be.
#[derive(Debug, Clone)]
pub enum Document {
    Index(Index),
    Manifest(Box<Manifest>),
}

/// Why a manifest is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    #[error("unsupported manifest format: Docker Image manifest version 2, schema 1 is no longer supported")]
    Schema1,
    #[error("unsupported media type {}", crate::text::echo(.0))]
    MediaType(String),
    #[error("invalid manifest: {}", crate::text::echo(.0))]
    Invalid(String),
}

/// Decode a manifest or index, by its `mediaType` field, else the `Content-Type` the registry
/// gave, else its shape (`manifests` or `config`).
pub fn parse_document(bytes: &[u8], content_type: Option<&str>) -> Result<Document, DocumentError> {
    #[derive(Deserialize)]
    struct Probe {
        #[serde(rename = "schemaVersion", default)]
        schema_version: u32,
        #[serde(rename = "mediaType", default)]
        media_type: Option<String>,
        #[serde(default)]
        manifests: Option<serde_json::Value>,
        #[serde(default)]
        config: Option<serde_json::Value>,
        #[serde(default, rename = "fsLayers")]
        fs_layers: Option<serde_json::Value>,
    }
    let invalid = |e: serde_json::Error| DocumentError::Invalid(e.to_string());
    let probe: Probe = serde_json::from_slice(bytes).map_err(invalid)?;
    let ct = content_type.map(|c| c.split(';').next().unwrap_or("").trim());
    let media =
        probe.media_type.as_deref().filter(|m| !m.is_empty()).or(ct.filter(|c| c.starts_with("application/vnd.")));
    if probe.schema_version == 1
        || probe.fs_layers.is_some()
        || matches!(media, Some(DOCKER_SCHEMA1 | DOCKER_SCHEMA1_SIGNED))
    {
        return Err(DocumentError::Schema1);
    }
    let is_index = match media {
        Some(OCI_INDEX | DOCKER_LIST) => true,
        Some(OCI_MANIFEST | DOCKER_MANIFEST) => false,
        Some(m) if probe.media_type.is_some() => return Err(DocumentError::MediaType(m.to_owned())),
        _ => probe.manifests.is_some() && probe.config.is_none(),
    };
    if is_index {
        let index: Index = serde_json::from_slice(bytes).map_err(invalid)?;
        Ok(Document::Index(index))
    } else {
        let m: Manifest = serde_json::from_slice(bytes).map_err(invalid)?;
        if m.schema_version != 2 {
            return Err(DocumentError::Invalid(format!("schemaVersion {} is not 2", m.schema_version)));
        }
        Ok(Document::Manifest(Box::new(m)))
    }
}

/// What kind of layer a media type names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerKind {
    /// A tar, plain or compressed (the compression is read from the first bytes).
    Tar,
    /// A Windows "foreign" layer, fetched from elsewhere: not for Linux.
    Foreign,
    /// Not a layer at all (an artifact, a signature).
    Other,
}

pub fn layer_kind(media_type: &str) -> LayerKind {
    match media_type {
        DOCKER_FOREIGN_LAYER => LayerKind::Foreign,
        m if m.starts_with("application/vnd.oci.image.layer.nondistributable.") => LayerKind::Foreign,
        OCI_LAYER | OCI_LAYER_GZIP | OCI_LAYER_ZSTD | DOCKER_LAYER | DOCKER_LAYER_GZIP => LayerKind::Tar,
        // Some writers leave it empty; the content decides.
        "" => LayerKind::Tar,
        _ => LayerKind::Other,
    }
}

/// An image's configuration blob (the parts myvol uses; the raw bytes are kept elsewhere).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    #[serde(rename = "os.version", default, skip_serializing_if = "Option::is_none")]
    pub os_version: Option<String>,
    #[serde(default)]
    pub config: Option<RunConfig>,
    pub rootfs: RootFs,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<History>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docker_version: Option<String>,
}

/// `rootfs`: the uncompressed digests of the layers, bottom first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootFs {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub diff_ids: Vec<Digest>,
}

/// One `history` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub empty_layer: bool,
}

/// The `config` object: what `docker run` takes from the image.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunConfig {
    #[serde(rename = "User", default)]
    pub user: Option<String>,
    #[serde(rename = "Env", default)]
    pub env: Option<Vec<String>>,
    #[serde(rename = "Entrypoint", default)]
    pub entrypoint: Option<Vec<String>>,
    #[serde(rename = "Cmd", default)]
    pub cmd: Option<Vec<String>>,
    #[serde(rename = "WorkingDir", default)]
    pub working_dir: Option<String>,
    #[serde(rename = "Volumes", default)]
    pub volumes: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(rename = "ExposedPorts", default)]
    pub exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(rename = "Labels", default)]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(rename = "StopSignal", default)]
    pub stop_signal: Option<String>,
}

impl ImageConfig {
    pub fn parse(bytes: &[u8]) -> Result<ImageConfig, DocumentError> {
        let c: ImageConfig = serde_json::from_slice(bytes).map_err(|e| DocumentError::Invalid(e.to_string()))?;
        Ok(c)
    }

    /// The image's platform.
    pub fn platform(&self) -> Platform {
        Platform {
            os: self.os.clone(),
            architecture: self.architecture.clone(),
            variant: self.variant.clone().filter(|v| !v.is_empty()),
            os_version: None,
            os_features: None,
        }
    }

    /// `created` as seconds since the epoch (0 when absent or unreadable).
    pub fn created_unix(&self) -> Option<jiff::Timestamp> {
        self.created.as_deref().and_then(|c| c.parse::<jiff::Timestamp>().ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn documents_by_media_type_content_type_and_shape() {
        let m = format!(
            r#"{{"schemaVersion":2,"config":{{"mediaType":"{OCI_CONFIG}","digest":"{D}","size":2}},"layers":[]}}"#
        );
        assert!(matches!(parse_document(m.as_bytes(), None), Ok(Document::Manifest(_))));
        let i = format!(r#"{{"schemaVersion":2,"manifests":[{{"digest":"{D}","size":2}}]}}"#);
        assert!(matches!(parse_document(i.as_bytes(), None), Ok(Document::Index(_))));
        assert!(matches!(parse_document(i.as_bytes(), Some(DOCKER_LIST)), Ok(Document::Index(_))));
        let s1 = r#"{"schemaVersion":1,"fsLayers":[]}"#;
        assert_eq!(parse_document(s1.as_bytes(), None).unwrap_err(), DocumentError::Schema1);
        let other = r#"{"schemaVersion":2,"mediaType":"application/x-helm"}"#;
        assert!(matches!(parse_document(other.as_bytes(), None), Err(DocumentError::MediaType(_))));
        let bad = r#"{"schemaVersion":2,"config":{"digest":"sha256:../../x","size":2}}"#;
        assert!(matches!(parse_document(bad.as_bytes(), None), Err(DocumentError::Invalid(_))));
    }

    #[test]
    fn layer_kinds() {
        assert_eq!(layer_kind(DOCKER_LAYER_GZIP), LayerKind::Tar);
        assert_eq!(layer_kind(OCI_LAYER_ZSTD), LayerKind::Tar);
        assert_eq!(layer_kind(DOCKER_FOREIGN_LAYER), LayerKind::Foreign);
        assert_eq!(layer_kind("application/vnd.in-toto+json"), LayerKind::Other);
    }
}
