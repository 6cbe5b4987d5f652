//! A volume's content in and out, for `volume export` (its `_data`, leased) and
//! `volume import` (a staging directory in `tmp/`, swapped with `_data` in one
//! `renameat2(RENAME_EXCHANGE)` under the store lock).

use std::ffi::OsStr;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::fs::{self as rfs, Mode};
use rustix::io::Errno;

use super::layout::*;
use super::lease::{self, Lease};
use super::{CreateRequest, LOCAL_DRIVER, Result, Store, StoreError};
use crate::name::VolumeName;
use crate::{failpoint, fsutil};

impl Store {
    /// Open a volume's content for `volume export`: its `_data` directory, with an in-use
    /// lease held for as long as the caller keeps it (the volume cannot be removed meanwhile).
    pub fn open_for_export(&self, name: &VolumeName) -> Result<(Lease, OwnedFd)> {
        let lease = self.lease(name, "export")?;
        let Some(h) = self.open_read()? else {
            return Err(StoreError::NotFound(name.to_string()));
        };
        let Some(meta) = self.read_meta(h.volumes.as_fd(), name)? else {
            return Err(StoreError::NotFound(name.to_string()));
        };
        if meta.driver != LOCAL_DRIVER {
            return Err(StoreError::External { op: "export", name: name.to_string(), driver: meta.driver });
        }
        if meta.options.is_some() {
            return Err(StoreError::NoContent { op: "export", name: name.to_string() });
        }
        let data = fsutil::open_dir(h.volumes.as_fd(), OsStr::new(&rel(name, DATA_DIR)))
            .map_err(|e| self.io("open", &rel(name, DATA_DIR), e))?;
        Ok((lease, data))
    }

    /// Start `volume import NAME`: check that nobody uses the volume (unless `force`), take
    /// a lease on it, and make an empty staging directory in `tmp/` with the mode and owner
    /// of the volume's current content (an archive's `./` member overrides them). With
    /// `create`, a missing volume is created first (local driver, no options).
    pub fn begin_import(&self, name: &VolumeName, force: bool, create: bool) -> Result<ImportSlot> {
        let mut created = false;
        if create && !self.exists(name)? {
            created = self.create(CreateRequest { name: Some(name.clone()), ..CreateRequest::default() })?.created;
        }
        let h = self.open_write()?;
        let Some(meta) = self.read_meta(h.volumes.as_fd(), name)? else {
            return Err(StoreError::NotFound(name.to_string()));
        };
        if meta.driver != LOCAL_DRIVER {
            return Err(StoreError::External { op: "import", name: name.to_string(), driver: meta.driver });
        }
        if meta.options.is_some() {
            return Err(StoreError::NoContent { op: "import", name: name.to_string() });
        }
        let vdir =
            fsutil::open_dir(h.volumes.as_fd(), OsStr::new(name)).map_err(|e| self.io("open", VOLUMES_DIR, e))?;
        let ids = lease::reap_and_list(vdir.as_fd()).map_err(|e| self.io("read", VOLUMES_DIR, e))?;
        if !ids.is_empty() && !force {
            return Err(StoreError::ImportBusy { name: name.to_string(), ids });
        }
        let lease = lease::acquire(vdir.as_fd(), name, "import").map_err(|e| self.io("lease", VOLUMES_DIR, e))?;
        let old = rfs::statat(&vdir, DATA_DIR, rfs::AtFlags::SYMLINK_NOFOLLOW)
            .map_err(|e| self.io("stat", &rel(name, DATA_DIR), e))?;
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
        match made {
            Ok((dir, data)) => {
                Ok(ImportSlot { name: name.clone(), created, lease, vdir, tmp_dir, tmp_name, dir, data })
            }
            Err(e) => {
                let _ = fsutil::remove_tree(tmp_dir.as_fd(), OsStr::new(&tmp_name));
                Err(self.io("mkdir", &rel_tmp, e))
            }
        }
    }

    /// Finish `volume import`: under the store lock, check again that nobody else uses the
    /// volume (unless `force`), then swap the staging directory and `_data` with one
    /// `renameat2(RENAME_EXCHANGE)`, and delete the old content (by fd, crossing no mount).
    /// The caller has made the staging content durable. A crash before the swap leaves the
    /// volume as it was; after it, the new content, with the old one in `tmp/` for the next
    /// mutation to remove.
    pub fn finish_import(&self, slot: ImportSlot, force: bool) -> Result<()> {
        let h = self.open_write()?;
        let mut ids = lease::reap_and_list(slot.vdir.as_fd()).map_err(|e| self.io("read", VOLUMES_DIR, e))?;
        ids.retain(|id| id != slot.lease.id());
        if !ids.is_empty() && !force {
            return Err(StoreError::ImportBusy { name: slot.name.to_string(), ids });
        }
        failpoint::hit("import-before-swap");
        rfs::renameat_with(&slot.dir, DATA_DIR, &slot.vdir, DATA_DIR, rfs::RenameFlags::EXCHANGE)
            .map_err(|e| self.io("rename", &rel(&slot.name, DATA_DIR), e))?;
        rfs::fsync(&slot.vdir).map_err(|e| self.io("sync", &rel(&slot.name, DATA_DIR), e))?;
        failpoint::hit("import-after-swap");
        let _ = rfs::fsync(&slot.dir);
        drop(h);
        // The old content, now in the staging directory, goes with it (ImportSlot's drop).
        drop(slot);
        Ok(())
    }
}

/// An import in progress: a staging directory `tmp/<hex>/_data` (the `tmp/<hex>` directory
/// flock-ed, so that cleaners skip it while we live) and an in-use lease on the volume, so
/// that it can be neither removed nor renamed underneath. Dropping it without
/// [`Store::finish_import`] deletes the staging directory: the volume is untouched.
#[derive(Debug)]
pub struct ImportSlot {
    name: VolumeName,
    created: bool,
    lease: Lease,
    vdir: OwnedFd,
    tmp_dir: OwnedFd,
    tmp_name: String,
    dir: OwnedFd,
    data: OwnedFd,
}

impl ImportSlot {
    /// The empty staging directory to unpack into.
    pub fn staging(&self) -> BorrowedFd<'_> {
        self.data.as_fd()
    }

    /// The volume's name.
    pub fn name(&self) -> &VolumeName {
        &self.name
    }

    /// Whether `begin_import` created the volume (`--create`): a failed import removes it
    /// again, so that nothing is left of it.
    pub fn created(&self) -> bool {
        self.created
    }
}

impl Drop for ImportSlot {
    fn drop(&mut self) {
        // Still holding the directory's flock, so no cleaner works on it at the same time.
        let _ = fsutil::remove_tree(self.tmp_dir.as_fd(), OsStr::new(&self.tmp_name));
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
    fn an_import_swaps_the_content_in_whole() {
        let t = TempStore::new();
        with_old_content(&t);
        let slot = t.store.begin_import(&name("vol"), false, false).unwrap();
        assert!(!slot.created());
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
        assert_eq!(t.entries(TMP_DIR).len(), 1);
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
        assert_eq!(t.entries(TMP_DIR).len(), 1);
        t.store.finish_import(slot, false).unwrap();
    }

    #[test]
    fn a_volume_in_use_is_refused_unless_forced() {
        let t = TempStore::new();
        with_old_content(&t);
        let lease = t.store.lease(&name("vol"), "run").unwrap();
        let e = t.store.begin_import(&name("vol"), false, false).unwrap_err();
        assert_eq!(e.to_string(), format!("volume vol is in use - [{}]", lease.id()));
        let slot = t.store.begin_import(&name("vol"), true, false).unwrap();
        // A user arriving during the unpack is seen at the swap.
        drop(lease);
        let late = t.store.lease(&name("vol"), "run").unwrap();
        let e = t.store.finish_import(slot, false).unwrap_err();
        assert_eq!(e.to_string(), format!("volume vol is in use - [{}]", late.id()));
        assert_eq!(t.entries("volumes/vol/_data"), ["old"]);
        assert!(t.entries(TMP_DIR).is_empty());
    }

    #[test]
    fn create_makes_a_missing_volume_and_says_so() {
        let t = TempStore::new();
        let e = t.store.begin_import(&name("fresh"), false, false).unwrap_err();
        assert_eq!(e.to_string(), "get fresh: no such volume");
        let slot = t.store.begin_import(&name("fresh"), false, true).unwrap();
        assert!(slot.created());
        drop(slot);
        let slot = t.store.begin_import(&name("fresh"), false, true).unwrap();
        assert!(!slot.created());
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
            assert_eq!(entries(&crashed.root().join(TMP_DIR)).len(), 1, "{point}");
            // The dead import's lease does not keep the volume; its staging is a leftover.
            crashed.remove(&name("vol"), false).unwrap();
            assert!(entries(&crashed.root().join(TMP_DIR)).is_empty(), "{point}");
        }
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
        let opts = CreateRequest { options: [("type".into(), "tmpfs".into())].into(), ..request("opts") };
        t.store.create(opts).unwrap();
        let e = t.store.open_for_export(&name("opts")).unwrap_err();
        assert_eq!(e.to_string(), "export opts: volume has driver options: its content is not kept in the store");
    }
}
