//! Reading images: resolving a name, a reference or an ID (prefix) as Docker's `GetImage`,
//! listing, and what a run takes of an image (with or without a lease).

use std::os::fd::{AsFd, BorrowedFd};

use super::records::{Image, ImageRecord, Repositories, RunImage};
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
        let (repos, record) = self.resolve_fresh(dir.as_fd(), name_or_id)?;
        self.image_of(dir.as_fd(), &repos, record)
    }

    /// The ID `name_or_id` names (see [`ImageStore::lookup`]).
    pub(crate) fn resolve_id(
        &self,
        dir: BorrowedFd<'_>,
        repos: &Repositories,
        name_or_id: &str,
    ) -> Result<Digest, ImageError> {
        self.resolve_record(dir, repos, name_or_id).map(|r| r.id)
    }

    /// The record of the image `name_or_id` names in `repos`, read once.
    fn resolve_record(
        &self,
        dir: BorrowedFd<'_>,
        repos: &Repositories,
        name_or_id: &str,
    ) -> Result<ImageRecord, ImageError> {
        let any = Reference::parse_any(name_or_id).map_err(ImageError::Reference)?;
        match any {
            AnyReference::Id(d) => self.read_record(dir, &d)?.ok_or_else(|| ImageError::NotFound(d.to_string())),
            AnyReference::Named(r) => {
                if let Some(id) = repos.get(&r)
                    && let Some(record) = self.read_record(dir, id)?
                {
                    return Ok(record);
                }
                if let Some(id) = self.search(dir, name_or_id)?
                    && let Some(record) = self.read_record(dir, &id)?
                {
                    return Ok(record);
                }
                Err(ImageError::NotFound(r.tag_name_only().familiar_string()))
            }
        }
    }

    /// Resolve `name_or_id` without the store lock, against a current `repositories.json`.
    /// A reference never points at a missing record (a record is written before the first
    /// reference to it and removed after the last), so a reference read to an ID whose
    /// record is gone was read before a change that moved it (a pull or tag that moved the
    /// name, then an `rmi`/`prune` of the image it named): the references are read again,
    /// and the name resolved again while they keep changing.
    fn resolve_fresh(&self, dir: BorrowedFd<'_>, name_or_id: &str) -> Result<(Repositories, ImageRecord), ImageError> {
        let mut repos = self.read_repositories(dir)?;
        for _ in 0..8 {
            crate::failpoint::hit("image-lookup-after-repositories");
            match self.resolve_record(dir, &repos, name_or_id) {
                Err(e) if e.is_not_found() => {
                    let again = self.read_repositories(dir)?;
                    if again == repos {
                        return Err(e);
                    }
                    repos = again;
                }
                other => return other.map(|record| (repos, record)),
            }
        }
        let record = self.resolve_record(dir, &repos, name_or_id)?;
        Ok((repos, record))
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
        self.image_of(dir, repos, record).map(Some)
    }

    /// An image assembled from its record (read just before).
    fn image_of(&self, dir: BorrowedFd<'_>, repos: &Repositories, record: ImageRecord) -> Result<Image, ImageError> {
        let id = &record.id;
        let (raw_config, config) = self.config(dir, id)?;
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
        Ok(Image { record, config, raw_config, repo_tags, repo_digests, size, layer_sizes, users })
    }

    /// Image `id`'s config blob, checked against its digest, and parsed.
    fn config(&self, dir: BorrowedFd<'_>, id: &Digest) -> Result<(Vec<u8>, ImageConfig), ImageError> {
        let raw_config = self.read_blob(dir, id)?;
        let config = ImageConfig::parse(&raw_config)
            .map_err(|e| ImageError::BadMeta { path: self.dir().join(blob_rel(id)), detail: e.to_string() })?;
        Ok((raw_config, config))
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
    /// `run --dry-run`): the references, the image's record and config, each read once, and
    /// its layers checked to be in the store. The run takes its lease on the ID when it starts
    /// ([`ImageStore::lease`]).
    pub fn run_image(&self, name_or_id: &str) -> Result<RunImage, ImageError> {
        let Some(dir) = self.open_read()? else {
            return Err(not_found(name_or_id)?);
        };
        let (_, record) = self.resolve_fresh(dir.as_fd(), name_or_id)?;
        let (_, config) = self.config(dir.as_fd(), &record.id)?;
        for layer in &record.layers {
            if self.layer_meta(dir.as_fd(), &layer.diff_id).is_none() {
                return Err(ImageError::MissingLayer { id: record.id.to_string(), diff_id: layer.diff_id.to_string() });
            }
        }
        Ok(RunImage {
            lower_dirs: record.layers.iter().rev().map(|layer| self.layer_path(&layer.diff_id)).collect(),
            id: record.id,
            platform: config.platform(),
            config: config.config.unwrap_or_default(),
            overlay_xattrs: self.overlay_xattrs(),
        })
    }

    /// Lease image `id` (resolved by [`ImageStore::run_image`]) for a run: a lease that keeps
    /// the image from being removed until it is dropped (Docker's "image is being used by
    /// running container"). Taken under the store lock, after checking that the image's
    /// record is still there (its layers go only after it); `No such image` when an `rmi` or
    /// `prune` removed it since it was resolved. Nothing else is read again. The layer of
    /// mount points ([`ImageStore::mount_points_path`]) and the init layer
    /// ([`ImageStore::init_layer_path`]) are made if missing.
    pub fn lease(&self, id: &Digest, holder: &str) -> Result<ImageLease, ImageError> {
        let Some(l) = self.lock_existing()? else {
            return Err(ImageError::NotFound(id.to_string()));
        };
        if !self.has_record(l.dir.as_fd(), id)? {
            return Err(ImageError::NotFound(id.to_string()));
        }
        self.ensure_mount_points(l.dir.as_fd())?;
        self.ensure_init_layer(l.dir.as_fd())?;
        crate::image::lease::acquire(self, l.dir.as_fd(), id, holder)
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
