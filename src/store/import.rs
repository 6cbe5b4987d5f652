//! A volume's content in and out, for `volume export` (its `_data`, leased) and
//! `volume import` (a staging directory in `tmp/`, swapped with `_data` in one
//! `renameat2(RENAME_EXCHANGE)` under the store lock; or, for a volume that `--create` makes,
//! a whole new volume built in `tmp/` and published as `create` publishes one).

use std::ffi::OsStr;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::fs::{self as rfs, Mode};
use rustix::io::Errno;

use super::create::Build;
use super::layout::*;
use super::lease::{self, Access, Lease};
use super::meta::VolumeMeta;
use super::{BuildDirs, LOCAL_DRIVER, Result, Store, StoreError};
use crate::name::VolumeName;
use crate::{failpoint, fsutil};

impl Store {
    /// Open a volume's content for `volume export`: its `_data` directory, with an in-use
    /// lease held for as long as the caller keeps it (the volume cannot be removed, renamed
    /// or imported into meanwhile; `import --force` keeps the old content for it). On a
    /// store mounted read-only, where no lease file can be made, the lease is a reader's lock
    /// on the volume's directory (see `lease.rs`), which mutations through a writable mount
    /// of the same store respect all the same.
    pub fn open_for_export(&self, name: &VolumeName) -> Result<(Lease, OwnedFd)> {
        self.open_for_export_inner(name).map_err(|e| e.during("export", name))
    }

    fn open_for_export_inner(&self, name: &VolumeName) -> Result<(Lease, OwnedFd)> {
        let lease = match self.lease_as(name, "export", Access::ReadOnly) {
            Ok(lease) => Some(lease),
            Err(e) if e.raw_os_error() == Some(libc::EROFS) => None,
            Err(e) => return Err(e),
        };
        let Some(h) = self.open_read()? else {
            return Err(StoreError::NotFound(name.to_string()));
        };
        let lease = match lease {
            Some(lease) => lease,
            None => lease::acquire_reader(h.volumes.as_fd(), name)
                .map_err(|e| self.io("lock", &super::open::volume_rel(name), e))?
                .ok_or_else(|| StoreError::NotFound(name.to_string()))?,
        };
        let Some(meta) = self.read_meta(h.volumes.as_fd(), name)? else {
            return Err(StoreError::NotFound(name.to_string()));
        };
        if meta.driver != LOCAL_DRIVER {
            return Err(StoreError::External { op: "export", name: name.to_string(), driver: meta.driver });
        }
        if super::mounted_from_options(meta.options.as_ref()) {
            return Err(StoreError::NoContent { op: "export", name: name.to_string() });
        }
        let data = fsutil::open_dir(h.volumes.as_fd(), OsStr::new(&rel(name, DATA_DIR)))
            .map_err(|e| self.io("open", &root_rel(name, DATA_DIR), e))?;
        Ok((lease, data))
    }

    /// Start `volume import NAME`: an empty staging directory to unpack into.
    ///
    /// For an existing volume: check that nobody uses it (with `force`: that nobody but
    /// readers do), take a lease on it, and make the staging directory in `tmp/` with the mode
    /// and owner of the volume's current content (an archive's `./` member overrides them).
    ///
    /// For a missing one with `create`: a new volume (local driver, no options) is built in
    /// `tmp/`, as `create` builds one, and the staging directory is its `_data`: the volume
    /// appears only when [`Store::finish_import`] publishes it, content and all.
    pub fn begin_import(&self, name: &VolumeName, force: bool, create: bool) -> Result<ImportSlot> {
        self.begin_import_inner(name, force, create).map_err(|e| e.during("import", name))
    }

    fn begin_import_inner(&self, name: &VolumeName, force: bool, create: bool) -> Result<ImportSlot> {
        let h = self.open_write()?;
        let Some(meta) = self.read_meta(h.volumes.as_fd(), name)? else {
            if !create {
                return Err(StoreError::NotFound(name.to_string()));
            }
            let build = self.start_build(&h, name)?;
            return Ok(ImportSlot { name: name.clone(), target: Target::New(build) });
        };
        if meta.driver != LOCAL_DRIVER {
            return Err(StoreError::External { op: "import", name: name.to_string(), driver: meta.driver });
        }
        if super::mounted_from_options(meta.options.as_ref()) {
            return Err(StoreError::NoContent { op: "import", name: name.to_string() });
        }
        let quota = meta.quota;
        let vdir = self.open_volume_dir(&h, name)?;
        self.check_import_users(vdir.as_fd(), name, force, None, quota.as_ref())?;
        let lease = lease::acquire(h.tmp.as_fd(), vdir.as_fd(), name, "import", Access::ReadWrite, &Default::default())
            .map_err(|e| self.io("lease", &root_rel(name, LEASES_DIR), e))?;
        let old = rfs::statat(&vdir, DATA_DIR, rfs::AtFlags::SYMLINK_NOFOLLOW)
            .map_err(|e| self.io("stat", &root_rel(name, DATA_DIR), e))?;
        let tmp_dir = fsutil::open_dir(h.root.as_fd(), OsStr::new(TMP_DIR)).map_err(|e| self.io("open", TMP_DIR, e))?;
        let tmp_name = fsutil::random_suffix();
        let rel_tmp = format!("{TMP_DIR}/{tmp_name}");
        rfs::mkdirat(&tmp_dir, tmp_name.as_str(), Mode::from_raw_mode(PRIVATE_DIR_MODE))
            .map_err(|e| self.io("mkdir", &rel_tmp, e))?;
        let made = (|| -> io::Result<(OwnedFd, OwnedFd)> {
            let dir = fsutil::open_dir(tmp_dir.as_fd(), OsStr::new(&tmp_name))?;
            fsutil::try_lock_exclusive(dir.as_fd())?;
            rfs::mkdirat(&dir, DATA_DIR, Mode::from_raw_mode(PRIVATE_DIR_MODE))?;
            let data = fsutil::open_dir(dir.as_fd(), OsStr::new(DATA_DIR))?;
            match rfs::fchown(&data, Some(rfs::Uid::from_raw(old.st_uid)), Some(rfs::Gid::from_raw(old.st_gid))) {
                Ok(()) | Err(Errno::PERM) => {}
                Err(e) => return Err(e.into()),
            }
            rfs::fchmod(&data, Mode::from_raw_mode(old.st_mode & 0o7777))?;
            Ok((dir, data))
        })();
        let made = made.and_then(|(dir, data)| {
            // A project quota: what is unpacked counts against the volume's limit.
            if let (Some(q), Some(limits)) = (&quota, &self.limits) {
                let dir_path = self.root.join(TMP_DIR).join(&tmp_name);
                let dirs =
                    BuildDirs { dir: dir.as_fd(), dir_path: &dir_path, data: data.as_fd(), volumes: h.volumes.as_fd() };
                limits.before_fill(q, dirs).map_err(io::Error::other)?;
            }
            Ok((dir, data))
        });
        match made {
            Ok((dir, data)) => Ok(ImportSlot {
                name: name.clone(),
                target: Target::Existing(Staging { lease, vdir, tmp_dir, tmp_name, dir, data, kept: false, quota }),
            }),
            Err(e) => {
                let _ = fsutil::remove_tree(tmp_dir.as_fd(), OsStr::new(&tmp_name));
                Err(self.io("mkdir", &rel_tmp, e))
            }
        }
    }

    /// Who else uses the volume, as an import sees it (the caller holds the store lock):
    /// nobody may, unless `force`; with `force`, readers may (they keep the old content), and
    /// writers may not. Returns the readers. `own` is the import's own lease.
    ///
    /// A volume whose content is a disk image is replaced under nobody, readers included: they
    /// share its one mount, which new users would join, old content and all.
    fn check_import_users(
        &self,
        vdir: BorrowedFd<'_>,
        name: &VolumeName,
        force: bool,
        own: Option<&str>,
        quota: Option<&super::Quota>,
    ) -> Result<Vec<String>> {
        let mut ids = lease::reap_and_list(vdir).map_err(|e| self.io("read", &root_rel(name, LEASES_DIR), e))?;
        ids.retain(|id| Some(id.as_str()) != own);
        let image = quota.is_some_and(|q| q.mode == super::QuotaMode::Image);
        if ids.is_empty() {
            if image && fsutil::is_mount_root(vdir, std::ffi::OsStr::new(DATA_DIR)).unwrap_or(true) {
                return Err(StoreError::Mounted { name: name.to_string(), path: mountpoint(&self.root, name) });
            }
            return Ok(ids);
        }
        if !force || image {
            return Err(StoreError::Busy { op: "import", name: name.to_string(), ids });
        }
        let writers = lease::blocking_import(vdir, &ids);
        if writers == [lease::READER_ID] {
            // A reader on a read-only mount of the store: its old content cannot be kept.
            return Err(StoreError::Busy { op: "import", name: name.to_string(), ids: writers });
        }
        if !writers.is_empty() {
            return Err(StoreError::ImportUnderWriters { name: name.to_string(), ids: writers });
        }
        Ok(ids)
    }

    /// Finish `volume import`; the caller has made the staging content durable.
    ///
    /// For an existing volume, under the store lock: check again who uses the volume (as
    /// [`Store::begin_import`] did), then swap the staging directory and `_data` with one
    /// `renameat2(RENAME_EXCHANGE)`. The old content is then deleted (by fd, crossing no
    /// mount), unless readers from before the swap still use it: then it stays in `tmp/`,
    /// with their leases linked beside it, until the last of them has ended (the next
    /// mutation after that removes it). A crash before the swap leaves the volume as it was;
    /// after it, the new content, with the old one in `tmp/` for the next mutation to remove.
    ///
    /// For a volume that `--create` makes: publish it, as `create` does. A crash before
    /// leaves no volume (its build in `tmp/` is removed by the next mutation), after it the
    /// complete volume.
    pub fn finish_import(&self, slot: ImportSlot, force: bool) -> Result<()> {
        let name = slot.name.clone();
        self.finish_import_inner(slot, force).map_err(|e| e.during("import", &name))
    }

    fn finish_import_inner(&self, slot: ImportSlot, force: bool) -> Result<()> {
        let name = slot.name;
        let mut s = match slot.target {
            Target::New(build) => return self.publish_import(&name, build),
            Target::Existing(s) => s,
        };
        if let (Some(q), Some(limits)) = (&s.quota, &self.limits)
            && q.mode == super::QuotaMode::Image
        {
            // The new content becomes a new disk image, made aside (without the store lock),
            // which the swap below puts in place of the old one.
            let dir_path = self.root.join(TMP_DIR).join(&s.tmp_name);
            let volumes = rfs::openat(
                &s.vdir,
                "..",
                rfs::OFlags::RDONLY | rfs::OFlags::DIRECTORY | rfs::OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| self.io("open", VOLUMES_DIR, e))?;
            let dirs =
                BuildDirs { dir: s.dir.as_fd(), dir_path: &dir_path, data: s.data.as_fd(), volumes: volumes.as_fd() };
            limits.after_fill(q, dirs).map_err(|source| StoreError::Limit {
                op: "import",
                name: name.to_string(),
                source,
            })?;
        }
        let h = self.open_write()?;
        let readers = self.check_import_users(s.vdir.as_fd(), &name, force, Some(s.lease.id()), s.quota.as_ref())?;
        if !readers.is_empty() {
            // Before the swap: a crash right after it must not let the cleaner delete the old
            // content under them.
            let kept = (|| -> io::Result<()> {
                rfs::mkdirat(&s.dir, KEPT_FOR_DIR, Mode::from_raw_mode(PRIVATE_DIR_MODE))?;
                let users = fsutil::open_dir(s.dir.as_fd(), OsStr::new(KEPT_FOR_DIR))?;
                lease::link_into(s.vdir.as_fd(), &readers, users.as_fd())?;
                rfs::fsync(&users)?;
                Ok(())
            })();
            kept.map_err(|e| self.io("link", &format!("{TMP_DIR}/{}/{KEPT_FOR_DIR}", s.tmp_name), e))?;
        }
        failpoint::hit("import-before-swap");
        // A disk image: the new image swapped in for the old one; otherwise the content's
        // directory.
        let swapped = if s.quota.is_some_and(|q| q.mode == super::QuotaMode::Image) { DISK_IMAGE } else { DATA_DIR };
        rfs::renameat_with(&s.dir, swapped, &s.vdir, swapped, rfs::RenameFlags::EXCHANGE)
            .map_err(|e| self.io("rename", &root_rel(&name, swapped), e))?;
        s.kept = !readers.is_empty();
        rfs::fsync(&s.vdir).map_err(|e| self.io("sync", &root_rel(&name, DATA_DIR), e))?;
        failpoint::hit("import-after-swap");
        let _ = rfs::fsync(&s.dir);
        drop(h);
        // The old content, now in the staging directory, goes with it (Staging's drop),
        // unless it is kept for readers.
        drop(s);
        Ok(())
    }

    /// Publish the new volume an `import --create` built.
    fn publish_import(&self, name: &VolumeName, build: Build) -> Result<()> {
        let meta = VolumeMeta {
            format: FORMAT_VERSION,
            name: name.to_string(),
            driver: LOCAL_DRIVER.to_owned(),
            created_at: jiff::Timestamp::now().to_string(),
            labels: None,
            options: None,
            scope: None,
            owner: None,
            quota: None,
        };
        let json =
            meta.encode().map_err(|size| StoreError::MetaTooLarge { op: "import", name: name.to_string(), size })?;
        let h = match self.open_write() {
            Ok(h) => h,
            Err(e) => {
                build.discard();
                return Err(e);
            }
        };
        failpoint::hit("import-before-publish");
        match self.finish_build(&h, build, &json) {
            Err(StoreError::CreateDir { source, .. }) if source.raw_os_error() == Some(libc::EEXIST) => {
                Err(StoreError::ImportRace { name: name.to_string() })
            }
            other => other,
        }
    }
}

/// An import in progress: where the archive is unpacked, and what becomes of it. Dropping it
/// without [`Store::finish_import`] deletes the staging directory: the volume is untouched,
/// and a volume `--create` was to make does not appear.
#[derive(Debug)]
pub struct ImportSlot {
    name: VolumeName,
    target: Target,
}

#[derive(Debug)]
enum Target {
    /// Into an existing volume.
    Existing(Staging),
    /// A new volume, built whole in `tmp/`.
    New(Build),
}

/// A staging directory `tmp/<hex>/_data` (the `tmp/<hex>` directory flock-ed, so that
/// cleaners skip it while we live) and an in-use lease on the volume, so that it can be
/// neither removed nor renamed underneath.
#[derive(Debug)]
struct Staging {
    lease: Lease,
    vdir: OwnedFd,
    tmp_dir: OwnedFd,
    tmp_name: String,
    dir: OwnedFd,
    data: OwnedFd,
    /// After the swap, the old content here is kept for readers (see `finish_import`).
    kept: bool,
    /// The volume's size limit.
    quota: Option<super::Quota>,
}

impl ImportSlot {
    /// The empty staging directory to unpack into.
    pub fn staging(&self) -> BorrowedFd<'_> {
        match &self.target {
            Target::Existing(s) => s.data.as_fd(),
            Target::New(b) => b.data.as_fd(),
        }
    }

    /// The volume's name.
    pub fn name(&self) -> &VolumeName {
        &self.name
    }

    /// Whether the import makes a new volume (`--create` of a missing one).
    pub fn creates(&self) -> bool {
        matches!(self.target, Target::New(_))
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        // Still holding the directory's flock, so no cleaner works on it at the same time.
        // Kept for readers: the cleaner removes it once they have ended.
        if !self.kept {
            let _ = fsutil::remove_tree(self.tmp_dir.as_fd(), OsStr::new(&self.tmp_name));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::store::testutil::*;

    fn put(slot: &ImportSlot, file: &str, text: &str) {
        let fd = rfs::openat(
            slot.staging(),
            file,
            rfs::OFlags::WRONLY | rfs::OFlags::CREATE | rfs::OFlags::CLOEXEC,
            Mode::from_raw_mode(0o644),
        )
        .unwrap();
        rustix::io::write(&fd, text.as_bytes()).unwrap();
    }

    fn with_old_content(t: &TempStore) {
        t.create("vol");
        std::fs::write(t.data("vol").join("old"), "old").unwrap();
        std::fs::set_permissions(t.data("vol"), std::fs::Permissions::from_mode(0o750)).unwrap();
    }

    #[test]
    fn an_import_into_a_disk_image_makes_a_new_image_and_swaps_it_in() {
        let limits = FakeLimits::new(crate::store::QuotaMode::Image);
        let mut t = TempStore::new();
        t.store = t.store.clone().with_limits(limits.clone());
        let req = crate::store::CreateRequest { options: [("size".into(), "4m".into())].into(), ..request("vol") };
        t.store.create(req).unwrap();
        std::fs::write(t.root().join("volumes/vol/disk.img"), "old").unwrap();
        limits.calls();
        let slot = t.store.begin_import(&name("vol"), false, false).unwrap();
        put(&slot, "a", "1");
        put(&slot, "b", "2");
        t.store.finish_import(slot, false).unwrap();
        assert_eq!(limits.calls(), ["before Image None", "after Image"]);
        assert_eq!(std::fs::read_to_string(t.root().join("volumes/vol/disk.img")).unwrap(), "a,b");
        assert!(entries(&t.data("vol")).is_empty(), "_data stays the image's empty mount point");
        assert!(work(&t.root().join(TMP_DIR)).is_empty(), "the old image went with the staging");
        // Readers share the image's one mount: --force does not import under them.
        let (reader, _) = t.store.open_for_export(&name("vol")).unwrap();
        let e = t.store.begin_import(&name("vol"), true, false).unwrap_err();
        assert_eq!(e.to_string(), format!("import vol: volume is in use - [{}]", reader.id()));
    }

    #[test]
    fn an_import_into_a_project_quota_gives_the_staging_the_volumes_id() {
        let limits = FakeLimits::new(crate::store::QuotaMode::Project);
        let mut t = TempStore::new();
        t.store = t.store.clone().with_limits(limits.clone());
        let req = crate::store::CreateRequest { options: [("size".into(), "4m".into())].into(), ..request("vol") };
        let id = t.store.create(req).unwrap().volume.quota.unwrap().project_id;
        limits.calls();
        let slot = t.store.begin_import(&name("vol"), false, false).unwrap();
        assert_eq!(limits.calls(), [format!("before Project {id:?}")], "before anything is unpacked");
        put(&slot, "a", "1");
        t.store.finish_import(slot, false).unwrap();
        assert_eq!(std::fs::read_to_string(t.data("vol").join("a")).unwrap(), "1");
        assert!(limits.calls().is_empty());
    }

    /// The entries of `tmp/` that are not lease files (builds, stagings, kept trees).
    fn work(dir: &std::path::Path) -> Vec<String> {
        entries(dir).into_iter().filter(|e| !e.starts_with(LEASE_INDEX_PREFIX)).collect()
    }

    #[test]
    fn an_import_swaps_the_content_in_whole() {
        let t = TempStore::new();
        with_old_content(&t);
        let slot = t.store.begin_import(&name("vol"), false, false).unwrap();
        assert!(!slot.creates());
        assert_eq!(slot.name(), &name("vol"));
        put(&slot, "new", "new");
        assert_eq!(t.store.users(&name("vol")).unwrap().len(), 1, "leased while importing");
        t.store.finish_import(slot, false).unwrap();
        assert_eq!(t.entries("volumes/vol/_data"), ["new"]);
        assert_eq!(std::fs::metadata(t.data("vol")).unwrap().permissions().mode() & 0o7777, 0o750);
        assert!(t.entries(TMP_DIR).is_empty());
        assert!(t.store.users(&name("vol")).unwrap().is_empty());
    }

    #[test]
    fn a_dropped_slot_leaves_the_volume_untouched() {
        let t = TempStore::new();
        with_old_content(&t);
        let slot = t.store.begin_import(&name("vol"), false, false).unwrap();
        put(&slot, "new", "new");
        assert_eq!(work(&t.root().join(TMP_DIR)).len(), 1);
        drop(slot);
        assert_eq!(t.entries("volumes/vol/_data"), ["old"]);
        assert!(t.entries(TMP_DIR).is_empty());
        assert!(t.store.users(&name("vol")).unwrap().is_empty());
    }

    #[test]
    fn a_staging_directory_in_use_is_not_a_leftover() {
        let t = TempStore::new();
        with_old_content(&t);
        let slot = t.store.begin_import(&name("vol"), false, false).unwrap();
        t.create("other");
        assert_eq!(work(&t.root().join(TMP_DIR)).len(), 1);
        assert_eq!(t.store.users(&name("vol")).unwrap().len(), 1, "the import's lease is not a leftover either");
        t.store.finish_import(slot, false).unwrap();
    }

    #[test]
    fn a_volume_in_use_is_refused_and_forced_only_under_readers() {
        let t = TempStore::new();
        with_old_content(&t);
        let writer = t.store.lease(&name("vol"), "run").unwrap();
        let e = t.store.begin_import(&name("vol"), false, false).unwrap_err();
        assert_eq!(e.to_string(), format!("import vol: volume is in use - [{}]", writer.id()));
        let e = t.store.begin_import(&name("vol"), true, false).unwrap_err();
        assert!(matches!(e, StoreError::ImportUnderWriters { ref ids, .. } if ids == &[writer.id()]), "{e}");
        drop(writer);
        let reader = t.store.lease_as(&name("vol"), "export", Access::ReadOnly).unwrap();
        let e = t.store.begin_import(&name("vol"), false, false).unwrap_err();
        assert_eq!(e.to_string(), format!("import vol: volume is in use - [{}]", reader.id()));
        let slot = t.store.begin_import(&name("vol"), true, false).unwrap();
        // A writer arriving during the unpack is seen at the swap, forced or not.
        let late = t.store.lease(&name("vol"), "run").unwrap();
        let e = t.store.finish_import(slot, true).unwrap_err();
        assert!(matches!(e, StoreError::ImportUnderWriters { ref ids, .. } if ids == &[late.id()]), "{e}");
        assert_eq!(t.entries("volumes/vol/_data"), ["old"]);
        assert!(work(&t.root().join(TMP_DIR)).is_empty());
    }

    #[test]
    fn forced_under_a_reader_the_old_content_lives_until_the_reader_ends() {
        let t = TempStore::new();
        with_old_content(&t);
        let (reader, old) = t.store.open_for_export(&name("vol")).unwrap();
        let slot = t.store.begin_import(&name("vol"), true, false).unwrap();
        put(&slot, "new", "new");
        t.store.finish_import(slot, true).unwrap();
        // New users see the new content; the reader still has the old one, whole.
        assert_eq!(t.entries("volumes/vol/_data"), ["new"]);
        let names = |fd: BorrowedFd<'_>| fsutil::list_dir(fd).unwrap().into_iter().map(|(n, _)| n).collect::<Vec<_>>();
        assert_eq!(names(old.as_fd()), [b"old".to_vec()]);
        assert_eq!(
            std::fs::read_to_string(format!("/proc/self/fd/{}/old", std::os::fd::AsRawFd::as_raw_fd(&old))).unwrap(),
            "old"
        );
        // Kept in tmp/ with the reader's lease beside it, through other mutations.
        let kept = work(&t.root().join(TMP_DIR));
        assert_eq!(kept.len(), 1);
        t.create("other");
        assert_eq!(work(&t.root().join(TMP_DIR)), kept);
        assert_eq!(t.entries(&format!("{TMP_DIR}/{}/{KEPT_FOR_DIR}", kept[0])), [reader.id()]);
        // Once the reader has ended, the next mutation removes it.
        drop(reader);
        assert_eq!(work(&t.root().join(TMP_DIR)), kept);
        t.create("another");
        assert!(t.entries(TMP_DIR).is_empty());
    }

    #[test]
    fn create_builds_the_volume_aside_and_publishes_it_whole() {
        let t = TempStore::new();
        let e = t.store.begin_import(&name("fresh"), false, false).unwrap_err();
        assert_eq!(e.to_string(), "get fresh: no such volume");
        let slot = t.store.begin_import(&name("fresh"), false, true).unwrap();
        assert!(slot.creates());
        put(&slot, "f", "content");
        // Nobody sees the volume while it is filled; dropped, it never appears.
        assert!(t.store.names().unwrap().is_empty());
        assert!(!t.store.exists(&name("fresh")).unwrap());
        drop(slot);
        assert!(t.store.names().unwrap().is_empty());
        assert!(t.entries(TMP_DIR).is_empty());
        let slot = t.store.begin_import(&name("fresh"), false, true).unwrap();
        put(&slot, "f", "content");
        t.store.finish_import(slot, false).unwrap();
        let v = t.store.get(&name("fresh")).unwrap();
        assert_eq!((v.driver.as_str(), v.labels.as_ref()), (LOCAL_DRIVER, None));
        assert_eq!(std::fs::read_to_string(t.data("fresh").join("f")).unwrap(), "content");
        assert!(t.entries(TMP_DIR).is_empty());
        // Taken meanwhile: the import fails and leaves the other volume alone.
        let slot = t.store.begin_import(&name("raced"), false, true).unwrap();
        put(&slot, "mine", "x");
        t.create("raced");
        let e = t.store.finish_import(slot, false).unwrap_err();
        assert_eq!(
            e.to_string(),
            "import raced: volume raced was created by another command meanwhile; nothing was imported"
        );
        assert!(t.entries("volumes/raced/_data").is_empty());
        assert!(t.entries(TMP_DIR).is_empty());
    }

    #[test]
    fn a_crash_while_creating_leaves_no_volume_or_a_complete_one() {
        let t = TempStore::new();
        drop(t.store.open_write().unwrap()); // the store exists: store.json is written
        let crashes = Crashes::default();
        failpoint::observe(crashes.hook(t.root()), || {
            let slot = t.store.begin_import(&name("fresh"), false, true).unwrap();
            put(&slot, "f", "content");
            t.store.finish_import(slot, false).unwrap();
        });
        assert_eq!(
            crashes.points(),
            ["create-after-mkdir", "import-before-publish", "create-before-publish", "create-after-publish"]
        );
        for point in crashes.points() {
            let (_dir, crashed) = crashes.at(&point);
            let complete = point == "create-after-publish";
            assert_eq!(crashed.names().unwrap().len(), usize::from(complete), "{point}");
            if complete {
                assert_eq!(entries(&crashed.root().join("volumes/fresh/_data")), ["f"], "{point}");
            }
            crashed.create(request("other")).unwrap();
            assert!(entries(&crashed.root().join(TMP_DIR)).is_empty(), "{point}");
        }
    }

    #[test]
    fn a_crash_before_the_swap_keeps_the_old_content_after_it_the_new() {
        let t = TempStore::new();
        with_old_content(&t);
        let crashes = Crashes::default();
        failpoint::observe(crashes.hook(t.root()), || {
            let slot = t.store.begin_import(&name("vol"), false, false).unwrap();
            put(&slot, "new", "new");
            t.store.finish_import(slot, false).unwrap();
        });
        assert_eq!(crashes.points(), ["import-before-swap", "import-after-swap"]);
        for (point, content) in [("import-before-swap", "old"), ("import-after-swap", "new")] {
            let (_dir, crashed) = crashes.at(point);
            let data = crashed.root().join("volumes/vol/_data");
            assert_eq!(entries(&data), [content], "{point}");
            assert_eq!(work(&crashed.root().join(TMP_DIR)).len(), 1, "{point}");
            // The dead import's lease does not keep the volume; its staging is a leftover.
            crashed.remove(&name("vol"), false).unwrap();
            assert!(entries(&crashed.root().join(TMP_DIR)).is_empty(), "{point}");
        }
    }

    #[test]
    fn a_crash_at_a_forced_swap_keeps_the_old_content_for_its_readers() {
        let t = TempStore::new();
        with_old_content(&t);
        let reader = t.store.lease_as(&name("vol"), "export", Access::ReadOnly).unwrap();
        let root = t.root().to_owned();
        failpoint::observe(
            move |point| {
                if point == "import-after-swap" {
                    // What a crash here leaves: the staging unlocked. The cleaner must keep it.
                    let tmp = root.join(TMP_DIR);
                    let kept = work(&tmp);
                    assert_eq!(kept.len(), 1);
                    let users = tmp.join(&kept[0]).join(KEPT_FOR_DIR);
                    assert_eq!(entries(&users).len(), 1);
                    assert!(lease::any_live_in(dir_fd(&users).as_fd()).unwrap(), "the reader is alive");
                }
            },
            || {
                let slot = t.store.begin_import(&name("vol"), true, false).unwrap();
                put(&slot, "new", "new");
                t.store.finish_import(slot, true).unwrap();
            },
        );
        drop(reader);
    }

    #[test]
    fn export_opens_the_content_leased() {
        let t = TempStore::new();
        with_old_content(&t);
        let (lease, data) = t.store.open_for_export(&name("vol")).unwrap();
        assert_eq!(t.store.users(&name("vol")).unwrap(), [lease.id()]);
        assert!(fsutil::list_dir(data.as_fd()).unwrap().iter().any(|(n, _)| n == b"old"));
        assert!(matches!(t.store.remove(&name("vol"), false), Err(StoreError::InUse { .. })));
        drop(lease);
        let opts = crate::store::CreateRequest { options: [("type".into(), "tmpfs".into())].into(), ..request("opts") };
        t.store.create(opts).unwrap();
        let e = t.store.open_for_export(&name("opts")).unwrap_err();
        assert_eq!(e.to_string(), "export opts: volume has driver options: its content is not kept in the store");
    }
}
