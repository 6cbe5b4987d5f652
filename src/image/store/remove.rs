//! Deleting images: `rmi` (untag, then delete with the last reference), `image prune`,
//! the garbage collection of layers and blobs no image and no live job needs, and what
//! `system df` counts of the layers.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;

use rustix::fs::{self as rfs, AtFlags};
use rustix::io::Errno;

use super::records::{Deleted, Image, Needs};
use super::{
    BLOBS_DIR, ImageStore, LAYERS_DIR, LEASES_DIR, Locked, NEEDS_FILE, RECORDS_DIR, TMP_DIR, TRASH_DIR, blob_rel,
    hex_name, record_name,
};
use crate::fsutil;
use crate::image::ImageError;
use crate::image::digest::Digest;
use crate::image::reference::Reference;

impl ImageStore {
    /// `docker rmi NAME_OR_ID` (daemon/images/image_delete.go): untag, and delete the image
    /// when its last reference goes, unless a run uses it.
    pub fn remove(&self, name_or_id: &str, force: bool) -> Result<Vec<Deleted>, ImageError> {
        let l = self.lock()?;
        let mut repos = self.read_repositories(l.dir.as_fd())?;
        let id = self.resolve_id(l.dir.as_fd(), &repos, name_or_id)?;
        let mut out = Vec::new();
        let by_id = is_id_prefix(&id, name_or_id);
        let users = self.reap_and_list_leases(&l, &id);
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
            if !select(&img) || !self.reap_and_list_leases(&l, &id).is_empty() {
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

/// `isImageIDPrefix`.
fn is_id_prefix(id: &Digest, s: &str) -> bool {
    id.as_str().starts_with(s) || id.hex().starts_with(s)
}

/// Docker's `isSingleReference`: one tag, possibly with digest references of the same name.
pub(super) fn is_single_reference(refs: &[Reference]) -> bool {
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
