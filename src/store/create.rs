//! `volume create`: a volume is built in `tmp/<hex>/` (metadata, an empty `_data`), then
//! published with one `renameat2(RENAME_NOREPLACE)` into `volumes/`, under the store lock.
//! A crash before the rename leaves an unlocked directory in `tmp/` (removed by the next
//! mutation), after it a complete volume.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::PathBuf;

use rustix::fs::{self as rfs, Mode};

use super::layout::*;
use super::lease::{self, Access, Lease};
use super::meta::{Owner, VolumeMeta};
use super::open::WriteHandle;
use super::{ANONYMOUS_LABEL, BoxedError, BuildDirs, LOCAL_DRIVER, Result, Store, StoreError, Volume};
use crate::name::VolumeName;
use crate::{failpoint, fsutil};

/// What `volume create` asks for.
#[derive(Debug, Default)]
pub struct CreateRequest {
    /// `None`: an anonymous volume with a generated name.
    pub name: Option<VolumeName>,
    /// Empty means `local`.
    pub driver: String,
    pub labels: BTreeMap<String, String>,
    pub options: BTreeMap<String, String>,
    /// Why the local driver refuses `options`, as the caller found before asking the store
    /// (`driver::local::validate_options`). Reported only when a new local volume would be
    /// made with them: an existing volume is returned whatever the options, as Docker does.
    pub invalid_options: Option<BoxedError>,
    /// The owner and mode of the new volume's content (`--uid`, `--gid`, `--mode`): local
    /// volumes only, as the caller checked.
    pub owner: Option<OwnerRequest>,
}

/// What `volume create --uid/--gid/--mode` asks for; what is not given is the creator's
/// (`0755` for the mode).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OwnerRequest {
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub mode: Option<u32>,
}

impl OwnerRequest {
    /// With what is not given filled in: the calling process's effective ids, mode `0755`.
    pub fn resolve(self) -> Owner {
        Owner {
            uid: self.uid.unwrap_or_else(|| rustix::process::geteuid().as_raw()),
            gid: self.gid.unwrap_or_else(|| rustix::process::getegid().as_raw()),
            mode: self.mode.unwrap_or(DATA_MODE),
        }
    }
}

/// The result of a create: the volume, and whether it is new.
#[derive(Debug, Clone)]
pub struct Created {
    pub volume: Volume,
    pub created: bool,
}

impl Store {
    /// `volume create`.
    pub fn create(&self, req: CreateRequest) -> Result<Created> {
        let name = req.name.clone();
        (|| -> Result<Created> {
            let h = self.open_write()?;
            self.create_locked(&h, req)
        })()
        .map_err(|e| match &name {
            Some(n) => e.during("create", n),
            None => e,
        })
    }

    /// Create the volume (or find the existing one, as [`Store::create`] does) and take an
    /// in-use lease on it, under one store lock: a concurrent `volume rm` or `prune` cannot
    /// slip in between. What `myvol run` does for every volume it mounts (`access` says
    /// whether it mounts it read-only; `labels`, the run's, are recorded in the lease).
    pub fn create_leased(
        &self,
        req: CreateRequest,
        holder: &str,
        access: Access,
        labels: &BTreeMap<String, String>,
    ) -> Result<(Created, Lease)> {
        let name = req.name.clone();
        (|| {
            let h = self.open_write()?;
            let created = self.create_locked(&h, req)?;
            let name = &created.volume.name;
            let leased = self.open_volume_dir(&h, name).and_then(|vdir| {
                lease::acquire(h.tmp.as_fd(), vdir.as_fd(), name, holder, access, labels)
                    .map_err(|e| self.io("lease", &root_rel(name, LEASES_DIR), e))
            });
            match leased {
                Ok(lease) => Ok::<_, StoreError>((created, lease)),
                // All or nothing: a volume made for a lease it could not have is taken back.
                Err(e) => {
                    if created.created {
                        self.undo_create(&h, &created.volume);
                    }
                    Err(e)
                }
            }
        })()
        .map_err(|e| match &name {
            Some(n) => e.during("create", n),
            None => e,
        })
    }

    pub(super) fn create_locked(&self, h: &WriteHandle, req: CreateRequest) -> Result<Created> {
        let driver = if req.driver.is_empty() { LOCAL_DRIVER.to_owned() } else { req.driver.clone() };
        let (name, anonymous) = match req.name {
            None => (VolumeName::random_anonymous(), true),
            Some(n) => (n, false),
        };
        if let Some(existing) = self.read_volume(h.volumes.as_fd(), &name)? {
            if req.driver.is_empty() || existing.driver == driver {
                return Ok(Created { volume: existing, created: false });
            }
            return Err(StoreError::Conflict { name: name.to_string(), existing: existing.driver });
        }
        let mut labels = req.labels;
        if anonymous {
            labels.insert(ANONYMOUS_LABEL.to_owned(), String::new());
        }
        let mut meta = VolumeMeta {
            format: FORMAT_VERSION,
            name: name.to_string(),
            driver,
            created_at: jiff::Timestamp::now().to_string(),
            labels: (!labels.is_empty()).then_some(labels),
            options: (!req.options.is_empty()).then_some(req.options),
            scope: None,
            owner: None,
            quota: None,
        };
        // Checked before a plugin is asked to make anything: every reader refuses more.
        let too_large = |size| StoreError::MetaTooLarge { op: "create", name: name.to_string(), size };
        let mut json = meta.encode().map_err(too_large)?;
        let driver = &meta.driver;
        if driver != LOCAL_DRIVER {
            let Some(ext) = &self.external else {
                return Err(StoreError::UnknownDriver { name: name.to_string(), driver: driver.clone() });
            };
            let s = ext.create(driver, &name, meta.options.as_ref()).map_err(|source| StoreError::Driver {
                op: "create",
                name: name.to_string(),
                source,
            })?;
            meta.scope = Some(s);
            json = meta.encode().map_err(too_large)?;
        } else if let Some(source) = req.invalid_options {
            return Err(StoreError::InvalidOption { name: name.to_string(), source });
        }
        let limit = match &meta.options {
            Some(opts) if meta.driver == LOCAL_DRIVER => self.requested_limit(&name, opts)?,
            _ => None,
        };
        if req.owner.is_none() && limit.is_none() {
            self.build_volume(h, &name, &json, |_| Ok(()))?;
            return Ok(Created { volume: self.volume_from_meta(&name, meta), created: true });
        }
        // The content's owner and limit are set in the build, before it is published: the
        // volume appears with them, or not at all.
        let b = self.start_build(h, &name)?;
        meta.owner = req.owner.map(OwnerRequest::resolve);
        if let Some(o) = meta.owner
            && let Err(e) = set_owner(b.data.as_fd(), o)
        {
            let path = mountpoint(&self.root, &name);
            b.discard();
            return Err(StoreError::VolumeIo { op: "create", name: name.to_string(), step: e.0, path, source: e.1 });
        }
        if let Some((size, forced)) = limit {
            let root = meta.owner.unwrap_or_else(|| OwnerRequest::default().resolve());
            match self.create_limit(h, &b, size, forced, root, false) {
                Ok(q) => meta.quota = Some(q),
                Err(source) => {
                    b.discard();
                    return Err(StoreError::Limit { op: "create", name: name.to_string(), source });
                }
            }
        }
        let json = match meta.encode() {
            Ok(json) => json,
            Err(size) => {
                b.discard();
                return Err(too_large(size));
            }
        };
        self.finish_build(h, b, &json)?;
        Ok(Created { volume: self.volume_from_meta(&name, meta), created: true })
    }

    /// The size limit `options` ask for (checked by the caller, so an error here is one the
    /// caller could not see, such as a size without [`Store::with_limits`]).
    pub(super) fn requested_limit(
        &self,
        name: &VolumeName,
        opts: &BTreeMap<String, String>,
    ) -> Result<Option<(u64, Option<super::QuotaMode>)>> {
        if !opts.contains_key("size") {
            return Ok(None);
        }
        let invalid = |source| StoreError::InvalidOption { name: name.to_string(), source };
        match &self.limits {
            Some(l) => l.requested(opts).map_err(invalid),
            None => match opts.get("size").map(|s| crate::units::ram_in_bytes(s)) {
                Some(Ok(0)) | None => Ok(None),
                Some(Ok(_)) => Err(invalid("quota size requested but no quota support".into())),
                Some(Err(e)) => Err(invalid(e.into())),
            },
        }
    }

    /// Set up a size limit on a build (see [`super::LocalLimits::create`]).
    pub(super) fn create_limit(
        &self,
        h: &WriteHandle,
        b: &Build,
        size: u64,
        forced: Option<super::QuotaMode>,
        root: Owner,
        content_follows: bool,
    ) -> std::result::Result<super::Quota, BoxedError> {
        let Some(limits) = &self.limits else {
            return Err("quota size requested but no quota support".into());
        };
        let dir_path = self.root.join(TMP_DIR).join(&b.tmp_name);
        let dirs =
            BuildDirs { dir: b.vdir.as_fd(), dir_path: &dir_path, data: b.data.as_fd(), volumes: h.volumes.as_fd() };
        limits.create(size, forced, root, dirs, &|| self.project_ids(h.volumes.as_fd()), content_follows)
    }

    /// Run `f` with the limits and the directories of a build (a clone's).
    pub(super) fn build_dirs<T>(
        &self,
        volumes: BorrowedFd<'_>,
        b: &Build,
        f: impl FnOnce(&dyn super::LocalLimits, BuildDirs<'_>) -> std::result::Result<T, BoxedError>,
    ) -> std::result::Result<T, BoxedError> {
        let Some(limits) = &self.limits else {
            return Err("quota size requested but no quota support".into());
        };
        let dir_path = self.root.join(TMP_DIR).join(&b.tmp_name);
        f(&**limits, BuildDirs { dir: b.vdir.as_fd(), dir_path: &dir_path, data: b.data.as_fd(), volumes })
    }

    /// The project ids the store's volumes record (what a new project quota must not reuse).
    /// The caller holds the store lock.
    pub(super) fn project_ids(&self, volumes: BorrowedFd<'_>) -> Vec<u32> {
        fsutil::list_dir(volumes)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(n, _)| String::from_utf8(n).ok().and_then(|n| VolumeName::from_string(n).ok()))
            .filter_map(|n| self.read_meta(volumes, &n).ok().flatten())
            .filter_map(|m| m.quota.and_then(|q| q.project_id))
            .collect()
    }

    /// Build a volume directory in `tmp/` (metadata, an empty `_data` that `fill` may
    /// populate), then publish it with one rename. The caller holds the store lock.
    pub(super) fn build_volume(
        &self,
        h: &WriteHandle,
        name: &VolumeName,
        meta: &[u8],
        fill: impl FnOnce(BorrowedFd<'_>) -> io::Result<()>,
    ) -> Result<()> {
        let b = self.start_build(h, name)?;
        if let Err(e) = fill(b.data.as_fd()) {
            return Err(b.abort(e));
        }
        self.finish_build(h, b, meta)
    }

    /// Start building volume `name`: `tmp/<hex>/` with an empty `_data/`, flock-ed by us so
    /// that a cleaner (another process's mutation) skips it while we work, even after the
    /// store lock is released.
    pub(super) fn start_build(&self, h: &WriteHandle, name: &VolumeName) -> Result<Build> {
        let tmp_dir = fsutil::open_dir(h.root.as_fd(), OsStr::new(TMP_DIR)).map_err(|e| self.io("open", TMP_DIR, e))?;
        let tmp_name = fsutil::random_suffix();
        let target = volume_dir(&self.root, name);
        let create_err =
            |e: io::Error| StoreError::CreateDir { name: name.to_string(), path: target.clone(), source: e };
        rfs::mkdirat(&tmp_dir, tmp_name.as_str(), Mode::from_raw_mode(VOLUME_DIR_MODE))
            .map_err(|e| create_err(e.into()))?;
        let made = (|| -> io::Result<(OwnedFd, OwnedFd)> {
            let vdir = fsutil::open_dir(tmp_dir.as_fd(), OsStr::new(&tmp_name))?;
            fsutil::try_lock_exclusive(vdir.as_fd())?;
            rfs::fchmod(&vdir, Mode::from_raw_mode(VOLUME_DIR_MODE))?;
            failpoint::hit("create-after-mkdir");
            rfs::mkdirat(&vdir, DATA_DIR, Mode::from_raw_mode(DATA_MODE))?;
            let data = fsutil::open_dir(vdir.as_fd(), OsStr::new(DATA_DIR))?;
            rfs::fchmod(&data, Mode::from_raw_mode(DATA_MODE))?;
            Ok((vdir, data))
        })();
        match made {
            Ok((vdir, data)) => {
                Ok(Build { tmp_dir, tmp_name, vdir, data, name: name.clone(), target, published: false })
            }
            Err(e) => {
                let _ = fsutil::remove_tree(tmp_dir.as_fd(), OsStr::new(&tmp_name));
                Err(create_err(e))
            }
        }
    }

    /// Write the metadata (encoded: [`VolumeMeta::encode`]) into a started build and publish
    /// it with one `renameat2(RENAME_NOREPLACE)`. The caller holds the store lock. A name
    /// taken since the build started fails with `EEXIST` (as `CreateDir`), and the build is
    /// removed.
    pub(super) fn finish_build(&self, h: &WriteHandle, mut b: Build, json: &[u8]) -> Result<()> {
        let result = (|| -> io::Result<()> {
            // The metadata goes into an xattr of the new directory: journaled metadata, like the
            // directory and the rename below, so the one fsync of `volumes/` after the rename
            // makes all of it durable, in order. Where xattrs are not available (or too small
            // for these labels), a file; the directory is not published yet, so it needs no
            // temporary name, but its content must be on disk before the rename.
            if fsutil::create_xattr(b.vdir.as_fd(), META_XATTR, json).is_err() {
                fsutil::write_new(b.vdir.as_fd(), OsStr::new(META_FILE), json, META_MODE)?;
                rfs::fsync(&b.vdir)?;
            }
            failpoint::hit("create-before-publish");
            rfs::renameat_with(
                &b.tmp_dir,
                b.tmp_name.as_str(),
                &h.volumes,
                b.name.as_str(),
                rfs::RenameFlags::NOREPLACE,
            )?;
            Ok(())
        })();
        if result.is_ok() {
            b.published = true;
            let synced = rfs::fsync(&h.volumes);
            failpoint::hit("create-after-publish");
            // Published: the volume exists, whole; only its durability is in doubt.
            return synced.map_err(|e| self.io("sync", VOLUMES_DIR, e));
        }
        match result {
            Ok(()) => Ok(()),
            Err(e) => Err(b.abort(e)),
        }
    }
}

/// Give `data` its owner, then its mode (after the owner: chown clears setuid and setgid).
/// The failing step's name on error.
pub(super) fn set_owner(data: BorrowedFd<'_>, o: Owner) -> std::result::Result<(), (&'static str, io::Error)> {
    rfs::fchown(data, Some(rfs::Uid::from_raw(o.uid)), Some(rfs::Gid::from_raw(o.gid)))
        .map_err(|e| ("chown", e.into()))?;
    rfs::fchmod(data, Mode::from_raw_mode(o.mode)).map_err(|e| ("chmod", e.into()))
}

/// A volume being built in `tmp/<hex>/`; the flock on `vdir` marks it as alive. Dropped
/// unpublished, it is removed.
#[derive(Debug)]
pub(super) struct Build {
    tmp_dir: OwnedFd,
    pub(super) tmp_name: String,
    pub(super) vdir: OwnedFd,
    pub(super) data: OwnedFd,
    name: VolumeName,
    target: PathBuf,
    published: bool,
}

impl Build {
    /// Remove the unfinished build; the error to report is `CreateDir` with `e`.
    fn abort(self, e: io::Error) -> StoreError {
        StoreError::CreateDir { name: self.name.to_string(), path: self.target.clone(), source: e }
    }

    /// Remove the unfinished build quietly.
    pub(super) fn discard(self) {}
}

impl Drop for Build {
    fn drop(&mut self) {
        // Still holding the directory's flock, so no cleaner works on it at the same time.
        if !self.published {
            let _ = fsutil::remove_tree(self.tmp_dir.as_fd(), OsStr::new(&self.tmp_name));
        }
    }
}

#[cfg(test)]
mod tests;
