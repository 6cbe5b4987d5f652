//! `docker save`: Docker ≥ 25's form, an OCI layout whose blobs are the stored ones plus
//! `manifest.json` for older readers, written as one tar stream.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::ManifestItem;
use crate::image::ImageError;
use crate::image::digest::Digest;
use crate::image::oci::{self, ImageConfig};
use crate::image::platform::Platform;
use crate::image::reference::{AnyReference, Reference};
use crate::image::store::{ImageStore, blob_rel};

/// What `save` writes for one image.
struct SaveImage {
    id: Digest,
    tags: Vec<Reference>,
}

/// Docker's `parseNames` for `save`: an ID, `name` (every tag of it), `name:tag`.
fn save_targets(store: &ImageStore, names: &[String]) -> Result<Vec<SaveImage>, ImageError> {
    let Some(dir) = store.open_read()? else {
        return Err(ImageError::NotFound(names.first().cloned().unwrap_or_default()));
    };
    let dir = std::os::fd::AsFd::as_fd(&dir);
    let repos = store.read_repositories(dir)?;
    let mut out: Vec<SaveImage> = Vec::new();
    let mut add = |id: Digest, tag: Option<Reference>| {
        let i = match out.iter().position(|s| s.id == id) {
            Some(i) => i,
            None => {
                out.push(SaveImage { id, tags: Vec::new() });
                out.len() - 1
            }
        };
        if let Some(t) = tag
            && !out[i].tags.contains(&t)
        {
            out[i].tags.push(t);
        }
    };
    for name in names {
        match Reference::parse_any(name).map_err(ImageError::Reference)? {
            AnyReference::Id(d) => {
                if store.read_record(dir, &d)?.is_none() {
                    return Err(ImageError::NotFound(d.to_string()));
                }
                add(d, None);
            }
            AnyReference::Named(r) if r.is_name_only() => {
                let mut found = false;
                if let Some(m) = repos.repos.get(&r.name()) {
                    for (k, id) in m {
                        let rr = Reference::parse_normalized(k).map_err(ImageError::Reference)?;
                        if rr.digest().is_none() {
                            add(id.clone(), Some(rr));
                            found = true;
                        } else if store.read_record(dir, id)?.is_some() {
                            add(id.clone(), None);
                            found = true;
                        }
                    }
                }
                if !found {
                    let id = store.resolve_id(dir, &repos, name).map_err(|_| ImageError::NotFound(name.clone()))?;
                    add(id, None);
                }
            }
            AnyReference::Named(r) => {
                let id = match repos.get(&r) {
                    Some(id) => id.clone(),
                    None => match store.resolve_id(dir, &repos, name) {
                        Ok(id) if r.tag() == Some(crate::image::reference::DEFAULT_TAG) || r.digest().is_some() => id,
                        _ => return Err(ImageError::Load("reference does not exist".into())),
                    },
                };
                add(id, if r.digest().is_none() { Some(r.tag_name_only()) } else { None });
            }
        }
    }
    Ok(out)
}

/// Write `names` as a Docker ≥ 25 `save` archive; with `platform`, every image must be of
/// that platform (Docker: `no suitable export target found for platform …`).
pub fn save(
    store: &ImageStore,
    names: &[String],
    platform: Option<&Platform>,
    out: &mut dyn Write,
) -> Result<(), ImageError> {
    let targets = save_targets(store, names)?;
    let Some(dir) = store.open_read()? else { return Err(ImageError::NotFound(names.join(" "))) };
    let dir = std::os::fd::AsFd::as_fd(&dir);
    if let Some(p) = platform {
        for t in &targets {
            let raw = store.read_blob(dir, &t.id)?;
            let config = ImageConfig::parse(&raw)?;
            if !p.matches_image(&config.platform()) {
                return Err(ImageError::Save(format!("no suitable export target found for platform {p}")));
            }
        }
    }
    let werr = |e: io::Error| ImageError::Io { op: "write", path: "archive".into(), source: e };
    // Blobs in order, each once: manifests, configs, layers.
    let mut blobs: BTreeMap<Digest, u64> = BTreeMap::new();
    let mut index = Vec::new();
    let mut manifest_json = Vec::new();
    for t in &targets {
        let Some(record) = store.read_record(dir, &t.id)? else {
            return Err(ImageError::NotFound(t.id.to_string()));
        };
        let m = record
            .manifest
            .clone()
            .ok_or_else(|| ImageError::Save(format!("image {} has no manifest in the store", t.id)))?;
        blobs.insert(m.digest.clone(), m.size);
        blobs.insert(record.id.clone(), record.config_size);
        for l in &record.layers {
            blobs.insert(l.digest.clone(), l.size);
        }
        let desc = |annotations: Option<BTreeMap<String, String>>| oci::Descriptor {
            annotations,
            ..oci::Descriptor::new(m.media_type.clone(), m.digest.clone(), m.size)
        };
        if t.tags.is_empty() {
            index.push(desc(None));
        }
        for tag in &t.tags {
            let mut a = BTreeMap::new();
            a.insert(oci::ANNOTATION_IMAGE_NAME.to_owned(), tag.to_string());
            a.insert(
                oci::ANNOTATION_REF_NAME.to_owned(),
                tag.tag().unwrap_or(crate::image::reference::DEFAULT_TAG).to_owned(),
            );
            index.push(desc(Some(a)));
        }
        manifest_json.push(ManifestItem {
            config: blob_rel(&record.id),
            repo_tags: Some(t.tags.iter().map(Reference::familiar_string).collect()),
            layers: record.layers.iter().map(|l| blob_rel(&l.digest)).collect(),
            layer_sources: Some(
                record
                    .layers
                    .iter()
                    .map(|l| {
                        (l.diff_id.to_string(), oci::Descriptor::new(l.media_type.clone(), l.digest.clone(), l.size))
                    })
                    .collect(),
            ),
        });
    }
    let mut w = io::BufWriter::with_capacity(1 << 20, out);
    let dir_entry = |w: &mut dyn Write, name: &str| -> io::Result<()> {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_mode(0o755);
        h.set_size(0);
        h.set_mtime(0);
        h.set_path(name)?;
        h.set_cksum();
        w.write_all(h.as_bytes())
    };
    dir_entry(&mut w, "blobs/").map_err(werr)?;
    let algs: std::collections::BTreeSet<&str> = blobs.keys().map(|d| d.algorithm().name()).collect();
    for alg in algs {
        dir_entry(&mut w, &format!("blobs/{alg}/")).map_err(werr)?;
        for (d, size) in blobs.iter().filter(|(d, _)| d.algorithm().name() == alg) {
            let mut f =
                store.open_blob(d)?.ok_or_else(|| ImageError::Save(format!("blob {d} is missing from the store")))?;
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Regular);
            h.set_mode(0o644);
            h.set_size(*size);
            h.set_mtime(0);
            h.set_path(blob_rel(d)).map_err(werr)?;
            h.set_cksum();
            w.write_all(h.as_bytes()).map_err(werr)?;
            // The blob is checked again on the way out: a store damaged on disk does not
            // produce an archive with a wrong digest.
            let mut hr = crate::image::digest::HashReader::new(&mut f, d.algorithm(), Some(*size));
            let n = io::copy(&mut hr, &mut w).map_err(|e| {
                if e.kind() == io::ErrorKind::InvalidData {
                    ImageError::Save(format!("blob {d} in the store is larger than recorded"))
                } else {
                    werr(e)
                }
            })?;
            let (got, _) = hr.finish();
            if n != *size || got != *d {
                return Err(ImageError::Save(format!("blob {d} in the store does not match its digest")));
            }
            let pad = (512 - (size % 512) as usize) % 512;
            w.write_all(&vec![0u8; pad]).map_err(werr)?;
        }
    }
    let file = |w: &mut dyn Write, name: &str, data: &[u8]| -> io::Result<()> {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        h.set_mtime(0);
        h.set_path(name)?;
        h.set_cksum();
        w.write_all(h.as_bytes())?;
        w.write_all(data)?;
        w.write_all(&vec![0u8; (512 - data.len() % 512) % 512])
    };
    let idx = oci::Index {
        schema_version: 2,
        media_type: Some(oci::OCI_INDEX.to_owned()),
        manifests: index,
        annotations: None,
    };
    file(&mut w, "index.json", &serde_json::to_vec(&idx).unwrap_or_default()).map_err(werr)?;
    let mut mj = serde_json::to_vec(&manifest_json).unwrap_or_default();
    mj.push(b'\n');
    file(&mut w, "manifest.json", &mj).map_err(werr)?;
    file(&mut w, "oci-layout", br#"{"imageLayoutVersion": "1.0.0"}"#).map_err(werr)?;
    w.write_all(&[0u8; 1024]).map_err(werr)?;
    w.flush().map_err(werr)?;
    Ok(())
}
