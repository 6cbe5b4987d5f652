//! Reading images: resolving a name, a reference or an ID (prefix) as Docker's `GetImage`,
//! listing, and what a run takes of an image (with or without a lease).

use std::os::fd::{AsFd, BorrowedFd};

use super::records::{Image, Repositories, RunImage};
use super::{ImageLease, ImageStore, Locked, blob_rel};
use crate::image::ImageError;
use crate::image::digest::Digest;
use crate::image::oci::ImageConfig;
use crate::image::reference::{AnyReference, Reference};

impl ImageStore {
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
        let users = self.live_leases(dir, id).len() as u64;
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
        let lease = crate::image::lease::acquire(self, l.dir.as_fd(), &id, holder)?;
        Ok((lease, run))
    }

    /// Live lease ids on image `id` (a query: nothing is removed).
    pub(crate) fn live_leases(&self, dir: BorrowedFd<'_>, id: &Digest) -> Vec<String> {
        crate::image::lease::live(dir, id)
    }

    /// Remove image `id`'s stale lease files and list its live leases (under the store lock).
    pub(crate) fn reap_and_list_leases(&self, l: &Locked, id: &Digest) -> Vec<String> {
        crate::image::lease::reap_and_list(l.dir.as_fd(), id)
    }
}

/// Docker's "No such image" for what the user typed (`:latest` added to a bare name).
pub(super) fn not_found(name_or_id: &str) -> Result<ImageError, ImageError> {
    Ok(match Reference::parse_any(name_or_id).map_err(ImageError::Reference)? {
        AnyReference::Id(d) => ImageError::NotFound(d.to_string()),
        AnyReference::Named(r) => ImageError::NotFound(r.tag_name_only().familiar_string()),
    })
}
