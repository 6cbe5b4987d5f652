//! `docker load` and `docker save` archives.
//!
//! **Load** reads, in one pass over the (plain, gzip or zstd) stream:
//! - `docker save` before Docker 25 and podman's `docker-archive`: `manifest.json`
//!   (`[{Config, RepoTags, Layers}]`) with the config and layer tars beside it (layers may be
//!   symlinks to other layers);
//! - Docker ≥ 25: an OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/…`) plus
//!   `manifest.json`, which is used;
//! - podman's `oci-archive` and any OCI layout: `index.json` and `blobs/`; names from the
//!   `io.containerd.image.name` or a full `org.opencontainers.image.ref.name` annotation.
//!
//! Members are never written to disk as files of the archive: JSON documents (bounded) stay in
//! memory, and each layer tar streams through the digest checks into the confined extractor
//! in layer mode, as in a pull. Layers are then matched with the configs' diff IDs, and blobs
//! named by digest (`blobs/sha256/<hex>`) must have that digest.
//!
//! **Save** writes Docker ≥ 25's form: an OCI layout whose blobs are the stored ones (layers
//! as they were distributed, compressed or not; the manifests as pulled, so that digests
//! survive) plus `manifest.json` for older readers.

mod save;

use std::collections::BTreeMap;
use std::io::{self, BufReader, Read};
use std::sync::atomic::AtomicBool;

use serde::{Deserialize, Serialize};

use super::ImageError;
use super::digest::Digest;
use super::oci::{self, ImageConfig};
use super::platform::Platform;
use super::pull::{Expect, Ingested, ingest_layer};
use super::reference::Reference;
use super::store::{BlobRef, ImageRecord, ImageStore, LayerRef, Needs, RECORD_FORMAT, blob_rel};
use crate::archive::{Compression, decoder};
use crate::text::echo;

pub use save::save;

/// All JSON documents of an archive together may not exceed this.
const MAX_JSON_TOTAL: u64 = 64 << 20;

/// One entry of `manifest.json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ManifestItem {
    #[serde(rename = "Config")]
    pub config: String,
    #[serde(rename = "RepoTags", default)]
    pub repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers", default)]
    pub layers: Vec<String>,
    #[serde(rename = "LayerSources", default, skip_serializing_if = "Option::is_none")]
    pub layer_sources: Option<BTreeMap<String, oci::Descriptor>>,
}

/// `load` options.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `--platform`: only images of this platform; from an index, that platform's manifest
    /// (the host's when `None`).
    pub platform: Option<Platform>,
}

/// A member path as a clean relative path (`./a//b` → `a/b`); `None` if it leaves the archive.
fn clean(path: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(path).ok()?;
    let mut parts: Vec<&str> = Vec::new();
    for c in s.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    if s.starts_with('/') {
        return None;
    }
    Some(parts.join("/"))
}

/// What kind of content a member's first bytes announce.
enum Kind {
    Layer,
    Json,
    Other,
}

fn sniff(head: &[u8]) -> Kind {
    if Compression::sniff(head) != Compression::None {
        return Kind::Layer;
    }
    if head.len() >= 512 && (&head[257..262] == b"ustar" || head[..512].iter().all(|&b| b == 0)) {
        return Kind::Layer;
    }
    match head.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{' | b'[') => Kind::Json,
        _ => Kind::Other,
    }
}

/// Everything one pass over the archive gathered.
#[derive(Default)]
struct Gathered {
    json: BTreeMap<String, Vec<u8>>,
    layers: BTreeMap<String, (Ingested, Compression)>,
    /// Symlinks and hard links between members: path → target path.
    aliases: BTreeMap<String, String>,
}

impl Gathered {
    fn resolve<'a>(&'a self, mut p: &'a str) -> &'a str {
        for _ in 0..16 {
            match self.aliases.get(p) {
                Some(t) => p = t,
                None => break,
            }
        }
        p
    }

    fn json(&self, p: &str) -> Option<&Vec<u8>> {
        self.json.get(self.resolve(p))
    }

    fn layer(&self, p: &str) -> Option<&(Ingested, Compression)> {
        self.layers.get(self.resolve(p))
    }
}

/// A `blobs/<alg>/<hex>` path's digest.
fn digest_of_path(p: &str) -> Option<Digest> {
    let rest = p.strip_prefix("blobs/")?;
    let (alg, hex) = rest.split_once('/')?;
    Digest::parse(&format!("{alg}:{hex}")).ok()
}

/// Read an image archive into the store; returns the lines Docker prints (`Loaded image:
/// busybox:latest`, or `Loaded image ID: sha256:…` for untagged images).
pub fn load(
    store: &ImageStore,
    input: impl Read,
    opts: &LoadOptions,
    progress: &dyn crate::archive::Progress,
) -> Result<Vec<String>, ImageError> {
    let load_err = |m: String| ImageError::Load(m);
    let job = store.begin_job(&Needs::default())?;
    let decoded = decoder(BufReader::with_capacity(256 << 10, Counting { inner: input, progress }))
        .map_err(|e| load_err(format!("reading the archive: {}", echo(&crate::text::errno_text(&e)))))?;
    let mut archive = tar::Archive::new(decoded);
    let mut g = Gathered::default();
    let mut json_total = 0u64;
    let cancel = AtomicBool::new(false);
    let entries = archive.entries().map_err(|e| load_err(format!("reading the archive: {}", echo(&e.to_string()))))?;
    for (seen, entry) in entries.enumerate() {
        let mut entry = entry.map_err(|e| {
            if seen == 0 {
                load_err(format!("reading the archive: not a tar archive ({})", echo(&e.to_string())))
            } else {
                load_err(format!("reading the archive: {}", echo(&e.to_string())))
            }
        })?;
        let raw = entry.path_bytes().into_owned();
        let Some(path) = clean(&raw) else {
            return Err(load_err(format!(
                "archive member {}: outside the archive (refused)",
                crate::text::echo_bytes(&raw)
            )));
        };
        let kind = entry.header().entry_type();
        if kind.is_symlink() || kind.is_hard_link() {
            if let Some(target) = entry.link_name_bytes() {
                let target = if kind.is_symlink() && !target.starts_with(b"/") {
                    let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
                    let mut t = dir.as_bytes().to_vec();
                    t.push(b'/');
                    t.extend_from_slice(&target);
                    clean(&t)
                } else {
                    clean(&target)
                };
                if let Some(t) = target {
                    g.aliases.insert(path, t);
                }
            }
            continue;
        }
        if !kind.is_file() {
            continue;
        }
        progress.entry();
        let mut head = Vec::with_capacity(512);
        (&mut entry)
            .take(512)
            .read_to_end(&mut head)
            .map_err(|e| load_err(format!("reading the archive: {}", echo(&e.to_string()))))?;
        match sniff(&head) {
            Kind::Layer => {
                let expect = digest_of_path(&path);
                let compression = Compression::sniff(&head);
                let input = io::Cursor::new(head).chain(&mut entry);
                let ingested = ingest_layer(&job, input, Expect::Any(expect.as_ref()), None, true, &|_| {}, &cancel)?;
                g.layers.insert(path, (ingested, compression));
            }
            Kind::Json => {
                let mut buf = head;
                (&mut entry)
                    .take(oci::MAX_DOCUMENT + 1 - buf.len() as u64)
                    .read_to_end(&mut buf)
                    .map_err(|e| load_err(format!("reading the archive: {}", echo(&e.to_string()))))?;
                if buf.len() as u64 > oci::MAX_DOCUMENT {
                    return Err(load_err(format!("archive member {}: document too large", echo(&path))));
                }
                json_total += buf.len() as u64;
                if json_total > MAX_JSON_TOTAL {
                    return Err(load_err("invalid archive: too many JSON documents".into()));
                }
                if let Some(d) = digest_of_path(&path) {
                    let mut h = super::digest::Hasher::new(d.algorithm());
                    h.update(&buf);
                    let got = h.finish();
                    if got != d {
                        return Err(ImageError::DigestMismatch {
                            what: format!("blob {}", echo(&path)),
                            expected: d.to_string(),
                            actual: got.to_string(),
                        });
                    }
                }
                g.json.insert(path, buf);
            }
            Kind::Other => {}
        }
    }
    let images = if let Some(m) = g.json("manifest.json") {
        let items: Option<Vec<ManifestItem>> = serde_json::from_slice(m)
            .map_err(|e| load_err(format!("invalid manifest.json: {}", echo(&e.to_string()))))?;
        let items =
            items.ok_or_else(|| load_err("invalid manifest, manifest cannot be null (but can be [])".into()))?;
        items.into_iter().map(|i| from_manifest_item(&g, i)).collect::<Result<Vec<_>, _>>()?
    } else if let Some(idx) = g.json("index.json") {
        let index: oci::Index = serde_json::from_slice(idx)
            .map_err(|e| load_err(format!("invalid index.json: {}", echo(&e.to_string()))))?;
        from_index(&g, &index, opts)?
    } else {
        return Err(load_err("invalid archive: it has neither manifest.json nor index.json (not from docker save, podman save or an OCI layout)".into()));
    };
    let mut lines = Vec::new();
    let mut ids_text = Vec::new();
    let mut last_ref_count = 0;
    for img in images {
        let config = ImageConfig::parse(&img.raw_config)?;
        if let Some(p) = &opts.platform
            && !p.matches_image(&config.platform())
        {
            continue;
        }
        if !config.os.is_empty() && config.os != "linux" {
            return Err(load_err(format!("cannot load {} image on linux", echo(&config.os))));
        }
        if img.layers.len() != config.rootfs.diff_ids.len() {
            return Err(load_err(format!(
                "invalid manifest, layers length mismatch: expected {}, got {}",
                img.layers.len(),
                config.rootfs.diff_ids.len()
            )));
        }
        for (i, (l, want)) in img.layers.iter().zip(&config.rootfs.diff_ids).enumerate() {
            if l.diff_id != *want {
                return Err(load_err(format!(
                    "invalid diffID for layer {i}: expected {}, got {}",
                    crate::text::go_quote(want.as_str()),
                    crate::text::go_quote(l.diff_id.as_str())
                )));
            }
        }
        let id = Digest::of(&img.raw_config);
        let record = ImageRecord {
            format: RECORD_FORMAT,
            id: id.clone(),
            config_size: img.raw_config.len() as u64,
            manifest: Some(BlobRef {
                digest: Digest::of(&img.manifest),
                media_type: img.manifest_type.clone(),
                size: img.manifest.len() as u64,
            }),
            layers: img.layers.clone(),
            added_at: jiff::Timestamp::now().to_string(),
            last_tag_time: None,
        };
        let mut refs = Vec::new();
        for t in &img.tags {
            let r = Reference::parse_normalized(t).map_err(ImageError::Reference)?;
            if r.tag().is_none() || r.digest().is_some() {
                return Err(load_err(format!("invalid tag {}", echo(t).quoted())));
            }
            refs.push(r);
        }
        let moved = store.commit(&job, record, &img.raw_config, Some(&img.manifest), &refs, false)?;
        ids_text.push(format!("Loaded image ID: {id}"));
        for r in &refs {
            if let Some((_, old)) = moved.iter().find(|(m, _)| m == r) {
                lines.push(format!(
                    "The image {} already exists, renaming the old one with ID {old} to empty string",
                    r.familiar_string()
                ));
            }
            lines.push(format!("Loaded image: {}", r.familiar_string()));
        }
        last_ref_count = refs.len();
    }
    if last_ref_count == 0 {
        lines.extend(ids_text);
    }
    Ok(lines)
}

/// An image found in an archive.
struct Found {
    raw_config: Vec<u8>,
    manifest: Vec<u8>,
    manifest_type: String,
    layers: Vec<LayerRef>,
    tags: Vec<String>,
}

fn layer_type(c: Compression) -> &'static str {
    match c {
        Compression::None => oci::OCI_LAYER,
        Compression::Gzip => oci::OCI_LAYER_GZIP,
        Compression::Zstd => oci::OCI_LAYER_ZSTD,
    }
}

/// An OCI manifest for an image that came without one (`manifest.json` only).
fn synthesize_manifest(raw_config: &[u8], layers: &[LayerRef]) -> Vec<u8> {
    let m = oci::Manifest {
        schema_version: 2,
        media_type: Some(oci::OCI_MANIFEST.to_owned()),
        config: oci::Descriptor::new(oci::OCI_CONFIG, Digest::of(raw_config), raw_config.len() as u64),
        layers: layers.iter().map(|l| oci::Descriptor::new(l.media_type.clone(), l.digest.clone(), l.size)).collect(),
        annotations: None,
    };
    serde_json::to_vec(&m).unwrap_or_default()
}

fn from_manifest_item(g: &Gathered, item: ManifestItem) -> Result<Found, ImageError> {
    let load_err = |m: String| ImageError::Load(m);
    let config_path = clean(item.config.as_bytes())
        .ok_or_else(|| load_err(format!("invalid config path {}", echo(&item.config).quoted())))?;
    let raw_config = g
        .json(&config_path)
        .ok_or_else(|| load_err(format!("open {}: no such file or directory", echo(&config_path))))?
        .clone();
    let mut layers = Vec::new();
    for p in &item.layers {
        let path = clean(p.as_bytes()).ok_or_else(|| load_err(format!("invalid layer path {}", echo(p).quoted())))?;
        let (ing, comp) =
            g.layer(&path).ok_or_else(|| load_err(format!("open {}: no such file or directory", echo(&path))))?;
        layers.push(LayerRef {
            digest: ing.digest.clone(),
            media_type: layer_type(*comp).to_owned(),
            size: ing.size,
            diff_id: ing.diff_id.clone(),
        });
    }
    // Docker ≥ 25 writes an OCI manifest beside; a synthesized one serves for `save`.
    let manifest = synthesize_manifest(&raw_config, &layers);
    Ok(Found {
        raw_config,
        manifest,
        manifest_type: oci::OCI_MANIFEST.to_owned(),
        layers,
        tags: item.repo_tags.unwrap_or_default(),
    })
}

fn from_index(g: &Gathered, index: &oci::Index, opts: &LoadOptions) -> Result<Vec<Found>, ImageError> {
    let load_err = |m: String| ImageError::Load(m);
    let wanted = opts.platform.clone().unwrap_or_else(Platform::host);
    let mut out: Vec<Found> = Vec::new();
    for desc in &index.manifests {
        let name = image_name(desc);
        let mut desc = desc.clone();
        // Descend through nested indexes to the platform's manifest.
        for _ in 0..4 {
            let bytes = g
                .json(&blob_rel(&desc.digest))
                .ok_or_else(|| load_err(format!("blob {} is missing from the archive", desc.digest)))?;
            match oci::parse_document(bytes, Some(&desc.media_type))? {
                oci::Document::Index(inner) => {
                    let Some(chosen) = super::pull::choose_manifest(&inner, &wanted) else {
                        return Err(ImageError::NoMatchingManifest(wanted.to_string()));
                    };
                    desc = chosen.clone();
                }
                oci::Document::Manifest(m) => {
                    let raw_config = g
                        .json(&blob_rel(&m.config.digest))
                        .ok_or_else(|| load_err(format!("blob {} is missing from the archive", m.config.digest)))?
                        .clone();
                    let config = ImageConfig::parse(&raw_config)?;
                    let mut layers = Vec::new();
                    for l in &m.layers {
                        let (ing, comp) = g
                            .layer(&blob_rel(&l.digest))
                            .ok_or_else(|| load_err(format!("blob {} is missing from the archive", l.digest)))?;
                        let media =
                            if l.media_type.is_empty() { layer_type(*comp).to_owned() } else { l.media_type.clone() };
                        layers.push(LayerRef {
                            digest: ing.digest.clone(),
                            media_type: media,
                            size: ing.size,
                            diff_id: ing.diff_id.clone(),
                        });
                    }
                    let _ = config;
                    let media = m.media_type.clone().unwrap_or_else(|| {
                        if desc.media_type.is_empty() { oci::OCI_MANIFEST.to_owned() } else { desc.media_type.clone() }
                    });
                    let found = Found {
                        raw_config,
                        manifest: bytes.clone(),
                        manifest_type: media,
                        layers,
                        tags: name.into_iter().collect(),
                    };
                    // The same image under several names: one entry, all the tags.
                    if let Some(prev) = out.iter_mut().find(|f| f.manifest == found.manifest) {
                        prev.tags.extend(found.tags);
                    } else {
                        out.push(found);
                    }
                    break;
                }
            }
        }
    }
    Ok(out)
}

/// An index entry's image name: containerd's full-name annotation, else a ref.name that is
/// a full reference with a tag (podman writes those); a bare tag names no repository.
fn image_name(desc: &oci::Descriptor) -> Option<String> {
    let a = desc.annotations.as_ref()?;
    let candidate = a.get(oci::ANNOTATION_IMAGE_NAME).or_else(|| a.get(oci::ANNOTATION_REF_NAME))?;
    let r = Reference::parse_normalized(candidate).ok()?;
    let looks_full = candidate.contains('/') || candidate.contains(':');
    (looks_full && r.tag().is_some() && r.digest().is_none()).then(|| r.to_string())
}

/// Counts bytes for the progress display.
struct Counting<'p, R> {
    inner: R,
    progress: &'p dyn crate::archive::Progress,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.bytes(n as u64);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_paths() {
        assert_eq!(clean(b"./blobs//sha256/x").as_deref(), Some("blobs/sha256/x"));
        assert_eq!(clean(b"a/../b").as_deref(), Some("b"));
        assert_eq!(clean(b"../x"), None);
        assert_eq!(clean(b"/etc/passwd"), None);
        assert_eq!(
            digest_of_path("blobs/sha256/e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
                .unwrap()
                .short(),
            "e3b0c44298fc"
        );
        assert!(digest_of_path("blobs/sha256/../x").is_none());
    }

    #[test]
    fn sniffing() {
        assert!(matches!(sniff(b"  {\"a\":1}"), Kind::Json));
        assert!(matches!(sniff(&[0x1f, 0x8b, 8, 0]), Kind::Layer));
        assert!(matches!(sniff(&[0u8; 1024]), Kind::Layer));
        assert!(matches!(sniff(b"1.0"), Kind::Other));
    }
}
