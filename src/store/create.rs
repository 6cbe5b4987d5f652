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
    /// whether it mounts it read-only).
    pub fn create_leased(&self, req: CreateRequest, holder: &str, access: Access) -> Result<(Created, Lease)> {
        let name = req.name.clone();
        (|| {
            let h = self.open_write()?;
            let created = self.create_locked(&h, req)?;
            let name = &created.volume.name;
            let leased = self.open_volume_dir(&h, name).and_then(|vdir| {
                lease::acquire(h.tmp.as_fd(), vdir.as_fd(), name, holder, access)
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
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::sync::Arc;

    use super::*;
    use crate::store::ExternalDriver;
    use crate::store::testutil::*;

    #[test]
    fn create_publishes_a_complete_volume_and_finds_it_again() {
        let t = TempStore::new();
        let c = t.store.create(request("v1")).unwrap();
        assert!(c.created);
        assert_eq!(c.volume.name, name("v1"));
        assert_eq!(c.volume.labels, None);
        assert_eq!(c.volume.options, None);
        let mode = |p: PathBuf| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode(t.data("v1")), DATA_MODE);
        assert_eq!(mode(t.root().join("volumes/v1")), VOLUME_DIR_MODE);
        assert!(t.entries(TMP_DIR).is_empty());
        let again = t.store.create(request("v1")).unwrap();
        assert!(!again.created);
        assert_eq!(again.volume, c.volume);
    }

    #[test]
    fn anonymous_volumes_get_a_generated_name_and_dockers_label() {
        let t = TempStore::new();
        let c = t.store.create(CreateRequest::default()).unwrap();
        assert!(c.created && c.volume.name.looks_anonymous() && c.volume.is_anonymous());
        assert_eq!(t.store.get(&c.volume.name).unwrap(), c.volume);
    }

    #[test]
    fn invalid_options_fail_only_a_new_local_volume() {
        let t = TempStore::new();
        let bad = || CreateRequest {
            options: [("bogus".to_owned(), "1".to_owned())].into(),
            invalid_options: Some("invalid option: \"bogus\"".into()),
            ..request("v1")
        };
        let e = t.store.create(bad()).unwrap_err();
        assert_eq!(e.to_string(), "create v1: invalid option: \"bogus\"");
        assert!(t.store.names().unwrap().is_empty());
        assert!(t.entries(TMP_DIR).is_empty());
        // An existing volume is returned whatever the options, as Docker does.
        t.create("v1");
        let c = t.store.create(bad()).unwrap();
        assert!(!c.created);
        assert_eq!(c.volume.options, None);
    }

    #[test]
    fn another_driver_for_an_existing_name_is_a_conflict() {
        let t = TempStore::new();
        t.create("v1");
        let e = t.store.create(CreateRequest { driver: "other".into(), ..request("v1") }).unwrap_err();
        assert!(matches!(e, StoreError::Conflict { ref existing, .. } if existing == LOCAL_DRIVER), "{e}");
        // Naming the driver it has is fine; an unknown driver for a new name is not found.
        assert!(!t.store.create(CreateRequest { driver: LOCAL_DRIVER.into(), ..request("v1") }).unwrap().created);
        let e = t.store.create(CreateRequest { driver: "other".into(), ..request("v2") }).unwrap_err();
        assert_eq!(e.to_string(), "create v2: error looking up volume plugin other: plugin \"other\" not found");
    }

    /// An external driver that records what it was asked, and checks that the store lock is
    /// held while it is asked.
    #[derive(Debug)]
    struct Recorder {
        root: PathBuf,
        calls: std::sync::Mutex<Vec<String>>,
        refuse: bool,
    }

    impl ExternalDriver for Recorder {
        fn create(
            &self,
            driver: &str,
            name: &VolumeName,
            options: Option<&BTreeMap<String, String>>,
        ) -> std::result::Result<String, BoxedError> {
            assert!(!lock_is_free(&self.root), "the store lock is held while the driver creates");
            self.calls.lock().unwrap().push(format!("create {driver} {name} {options:?}"));
            if self.refuse { Err("the plugin says no".into()) } else { Ok("global".into()) }
        }
        fn remove(&self, driver: &str, name: &VolumeName) -> std::result::Result<(), BoxedError> {
            assert!(!lock_is_free(&self.root), "the store lock is held while the driver removes");
            self.calls.lock().unwrap().push(format!("remove {driver} {name}"));
            if self.refuse { Err("the plugin says no".into()) } else { Ok(()) }
        }
        fn find(&self, driver: &str) -> std::result::Result<(), BoxedError> {
            if driver == "there" { Ok(()) } else { Err(format!("no {driver}").into()) }
        }
    }

    fn with_recorder(refuse: bool) -> (TempStore, Arc<Recorder>) {
        let mut t = TempStore::new();
        let r = Arc::new(Recorder { root: t.root().to_owned(), calls: Default::default(), refuse });
        t.store = t.store.clone().with_external(r.clone());
        (t, r)
    }

    #[test]
    fn an_external_volume_is_created_by_its_driver_under_the_lock_and_recorded() {
        let (t, r) = with_recorder(false);
        let req = CreateRequest { driver: "plug".into(), options: [("k".into(), "v".into())].into(), ..request("p1") };
        let c = t.store.create(req).unwrap();
        assert!(c.created);
        assert_eq!((c.volume.driver.as_str(), c.volume.scope.as_str()), ("plug", "global"));
        assert_eq!(t.store.get(&name("p1")).unwrap(), c.volume);
        assert_eq!(*r.calls.lock().unwrap(), [r#"create plug p1 Some({"k": "v"})"#]);
        assert!(t.store.find_driver("p2", "there").is_ok());
        assert_eq!(t.store.find_driver("p2", "gone").unwrap_err().to_string(), "create p2: no gone");
    }

    #[test]
    fn a_driver_that_refuses_leaves_no_record() {
        let (t, _) = with_recorder(true);
        let e = t.store.create(CreateRequest { driver: "plug".into(), ..request("p1") }).unwrap_err();
        assert_eq!(e.to_string(), "create p1: the plugin says no");
        assert!(t.store.names().unwrap().is_empty());
    }

    fn local_meta(name: &str) -> Vec<u8> {
        VolumeMeta {
            format: FORMAT_VERSION,
            name: name.into(),
            driver: LOCAL_DRIVER.into(),
            created_at: String::new(),
            labels: None,
            options: None,
            scope: None,
            owner: None,
            quota: None,
        }
        .encode()
        .unwrap()
    }

    #[test]
    fn a_build_that_failed_leaves_nothing() {
        let t = TempStore::new();
        let h = t.store.open_write().unwrap();
        let meta = local_meta("v1");
        let e = t
            .store
            .build_volume(&h, &name("v1"), &meta, |data| {
                rfs::mkdirat(data, "half-filled", Mode::from_raw_mode(0o755))?;
                Err(io::Error::from_raw_os_error(libc::ENOSPC))
            })
            .unwrap_err();
        let want = format!("mkdir {}: no space left on device", t.root().join("volumes/v1").display());
        assert!(e.to_string().ends_with(&want), "{e}");
        assert!(t.entries(TMP_DIR).is_empty());
        assert!(t.entries(VOLUMES_DIR).is_empty());
    }

    #[test]
    fn a_name_taken_while_building_fails_and_removes_the_build() {
        let t = TempStore::new();
        let h = t.store.open_write().unwrap();
        let b = t.store.start_build(&h, &name("v1")).unwrap();
        assert_eq!(t.entries(TMP_DIR).len(), 1);
        std::fs::create_dir(t.root().join("volumes/v1")).unwrap();
        let meta = local_meta("v1");
        let e = t.store.finish_build(&h, b, &meta).unwrap_err();
        assert!(matches!(e, StoreError::CreateDir { ref source, .. } if source.raw_os_error() == Some(libc::EEXIST)));
        assert!(t.entries(TMP_DIR).is_empty());
        assert!(t.entries("volumes/v1").is_empty());
    }

    #[test]
    fn a_crash_before_publishing_leaves_a_leftover_the_next_mutation_removes() {
        let t = TempStore::new();
        drop(t.store.open_write().unwrap()); // the store exists: store.json is written
        let crashes = Crashes::default();
        failpoint::observe(crashes.hook(t.root()), || t.create("v1"));
        assert_eq!(crashes.points(), ["create-after-mkdir", "create-before-publish", "create-after-publish"]);
        for point in ["create-after-mkdir", "create-before-publish"] {
            let (_dir, crashed) = crashes.at(point);
            assert!(crashed.names().unwrap().is_empty(), "{point}");
            assert_eq!(entries(&crashed.root().join(TMP_DIR)).len(), 1, "{point}");
            // The next mutation (of any volume) cleans up; the name is free again.
            assert!(crashed.create(request("v2")).unwrap().created);
            assert!(entries(&crashed.root().join(TMP_DIR)).is_empty(), "{point}");
            assert!(crashed.create(request("v1")).unwrap().created, "{point}");
        }
        let (_dir, crashed) = crashes.at("create-after-publish");
        let v = crashed.get(&name("v1")).unwrap();
        assert_eq!(v.driver, LOCAL_DRIVER);
        assert!(crashed.root().join("volumes/v1/_data").is_dir());
        assert!(entries(&crashed.root().join(TMP_DIR)).is_empty());
    }

    #[test]
    fn a_build_is_flock_ed_so_that_cleaners_skip_it() {
        let t = TempStore::new();
        let store = t.store.clone();
        // Cleaners remove what they can lock (see open.rs); a build must never be lockable.
        let root = t.root().to_owned();
        failpoint::observe(
            move |point| {
                if point == "create-before-publish" {
                    let tmp = root.join(TMP_DIR);
                    assert_eq!(entries(&tmp).len(), 1);
                    for e in entries(&tmp) {
                        let fd = dir_fd(&tmp.join(e));
                        assert!(!fsutil::try_lock_exclusive(fd.as_fd()).unwrap(), "the build is flock-ed");
                    }
                }
            },
            || assert!(store.create(request("v1")).unwrap().created),
        );
    }

    #[test]
    fn concurrent_creates_of_one_name_one_wins_the_others_return_it() {
        let t = TempStore::new();
        let results: Vec<Created> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..8).map(|_| s.spawn(|| t.store.create(request("same")).unwrap())).collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(results.iter().filter(|c| c.created).count(), 1);
        for c in &results {
            assert_eq!(c.volume, results[0].volume);
        }
        assert_eq!(t.entries(VOLUMES_DIR), ["same"]);
        assert!(t.entries(TMP_DIR).is_empty());
    }

    fn sized(name: &str, size: &str) -> CreateRequest {
        CreateRequest { options: [("size".to_owned(), size.to_owned())].into(), ..request(name) }
    }

    #[test]
    fn the_owner_is_set_in_the_build_and_recorded() {
        use std::os::unix::fs::MetadataExt;
        let t = TempStore::new();
        let root = rustix::process::geteuid().is_root();
        let uid = if root { 1234 } else { rustix::process::geteuid().as_raw() };
        let owner = OwnerRequest { uid: Some(uid), gid: None, mode: Some(0o2750) };
        let c = t.store.create(CreateRequest { owner: Some(owner), ..request("v1") }).unwrap();
        let md = std::fs::metadata(t.data("v1")).unwrap();
        assert_eq!((md.uid(), md.gid(), md.mode() & 0o7777), (uid, rustix::process::getegid().as_raw(), 0o2750));
        let o = c.volume.owner.unwrap();
        assert_eq!((o.uid, o.mode), (uid, 0o2750));
        assert_eq!(t.store.get(&name("v1")).unwrap().owner, Some(o));
        assert_eq!(t.store.get(&name("v1")).unwrap().quota, None);
        // An owner the caller may not give: nothing is made.
        if !root {
            let e = t
                .store
                .create(CreateRequest { owner: Some(OwnerRequest { uid: Some(0), ..owner }), ..request("v2") })
                .unwrap_err();
            assert!(e.to_string().starts_with("create v2: chown "), "{e}");
            assert!(t.store.get(&name("v2")).is_err());
        }
        assert!(t.entries(TMP_DIR).is_empty());
    }

    #[test]
    fn a_size_without_limits_is_refused_as_docker_without_quotas() {
        let t = TempStore::new();
        let e = t.store.create(sized("v1", "10m")).unwrap_err();
        assert_eq!(e.to_string(), "create v1: quota size requested but no quota support");
        assert!(t.store.names().unwrap().is_empty());
        assert!(t.store.create(sized("v2", "0")).unwrap().created, "size 0 is no limit");
    }

    #[test]
    fn a_size_limit_is_set_up_in_the_build_and_recorded() {
        let limits = FakeLimits::new(crate::store::QuotaMode::Image);
        let mut t = TempStore::new();
        t.store = t.store.clone().with_limits(limits.clone());
        let c = t.store.create(sized("img", "10m")).unwrap();
        let q = c.volume.quota.unwrap();
        assert_eq!((q.mode, q.size, q.project_id), (crate::store::QuotaMode::Image, 10 << 20, None));
        assert_eq!(limits.calls(), [format!("create {} None 755 follows=false", 10 << 20)]);
        assert!(t.root().join("volumes/img/disk.img").is_file(), "made in the build, published with it");
        assert_eq!(t.store.get(&name("img")).unwrap().quota, Some(q));
        // Project ids: each new one above those the store's volumes record.
        let p = |n: &str| {
            let req = CreateRequest {
                options: [("size".into(), "1m".into()), ("quota".into(), "project".into())].into(),
                ..request(n)
            };
            t.store.create(req).unwrap().volume.quota.unwrap().project_id.unwrap()
        };
        let first = p("p1");
        assert_eq!(p("p2"), first + 1);
        assert!(t.entries(TMP_DIR).is_empty());
    }

    #[test]
    fn create_leased_returns_a_live_lease() {
        let t = TempStore::new();
        let (c, lease) = t.store.create_leased(request("v1"), "run", Access::ReadWrite).unwrap();
        assert!(c.created);
        assert_eq!(t.store.users(&name("v1")).unwrap(), [lease.id()]);
        drop(lease);
        assert!(t.store.users(&name("v1")).unwrap().is_empty());
    }
}
