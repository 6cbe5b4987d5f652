//! `volume rm` and `volume prune`: under the store lock, a volume nobody uses is renamed into
//! `trash/` (one rename: it is gone for readers), then deleted after the lock is released.
//! A crash leaves at most an unlocked directory in `trash/`, which the next mutation removes.
//!
//! A volume whose metadata cannot be read (damaged, missing, not a directory at all) is
//! removed by `rm --force` only: its driver is unknown, so no plugin is asked. `prune` leaves
//! it, and says so.

use std::ffi::OsStr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::fs as rfs;

use super::layout::*;
use super::lease;
use super::open::{WriteHandle, volume_rel};
use super::{LOCAL_DRIVER, Result, Store, StoreError, Volume};
use crate::name::VolumeName;
use crate::{failpoint, fsutil};

/// What `prune` removed, and what it left because it could not read it.
#[derive(Debug, Default)]
pub struct PruneReport {
    /// The names, in no particular order.
    pub deleted: Vec<VolumeName>,
    pub reclaimed: u64,
    /// Volumes whose metadata cannot be read (with why): not pruned, since whether they are
    /// anonymous, local, or selected by the filters is unknown.
    pub unreadable: Vec<(VolumeName, StoreError)>,
}

/// A volume renamed into `trash/`, flock-ed, for deletion after the store lock is released.
pub(super) struct Trashed {
    trash_dir: OwnedFd,
    trash_name: String,
    _lock: Option<OwnedFd>,
}

/// What is known of a volume about to be taken away.
enum Taken<'v> {
    /// Its metadata: a local volume whose `_data` may be mounted on when it has options.
    Known(&'v Volume),
    /// Its metadata cannot be read.
    Unreadable,
}

impl Store {
    /// `volume rm` of one name. With `force`, a missing volume is not an error, and a volume
    /// whose metadata cannot be read is removed all the same. A volume with a live lease is
    /// refused with Docker's "in use" message.
    pub fn remove(&self, name: &VolumeName, force: bool) -> Result<()> {
        self.remove_inner(name, force).map_err(|e| e.during("remove", name))
    }

    fn remove_inner(&self, name: &VolumeName, force: bool) -> Result<()> {
        let h = self.open_write()?;
        let v = match self.read_volume(h.volumes.as_fd(), name) {
            Ok(Some(v)) => v,
            Ok(None) if force => return Ok(()),
            Ok(None) => return Err(StoreError::NotFound(name.to_string())),
            Err(StoreError::BadMeta { path, detail, .. }) if !force => {
                return Err(StoreError::Unreadable { name: name.to_string(), path, detail });
            }
            Err(StoreError::BadMeta { .. }) => {
                let trash = self.take_away(&h, name, Taken::Unreadable, || Ok(()))?;
                drop(h);
                self.empty_trash(trash);
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        let trash = if v.driver == LOCAL_DRIVER {
            self.take_away(&h, name, Taken::Known(&v), || Ok(()))?
        } else {
            // The plugin first; with --force its refusal does not keep the record (Docker).
            self.take_away(&h, name, Taken::Known(&v), || match &self.external {
                Some(ext) => match ext.remove(&v.driver, name) {
                    Err(source) if !force => Err(StoreError::Driver { op: "remove", name: name.to_string(), source }),
                    _ => Ok(()),
                },
                None if force => Ok(()),
                None => Err(StoreError::UnknownDriver { name: name.to_string(), driver: v.driver.clone() }),
            })?
        };
        drop(h);
        self.empty_trash(trash);
        Ok(())
    }

    /// Take back a volume this process has just created under the same store lock (held in
    /// `h`), when what was to follow in that lock failed: the store is left as it was. A
    /// plugin's volume is removed by its plugin. Failures leave what is left for `rm`.
    pub(super) fn undo_create(&self, h: &WriteHandle, v: &Volume) {
        let trash = self.take_away(h, &v.name, Taken::Known(v), || match &self.external {
            Some(ext) if v.driver != LOCAL_DRIVER => {
                let _ = ext.remove(&v.driver, &v.name);
                Ok(())
            }
            _ => Ok(()),
        });
        if let Ok(t) = trash {
            self.empty_trash(t);
        }
    }

    /// Check that nobody uses volume `name`, then rename it into `trash/` (under the store
    /// lock). Returns the trash entry, flock-ed, for deletion after the lock is released.
    /// `before` runs once the checks passed, just before the rename (a plugin's Remove). An
    /// entry of `volumes/` that is not a directory (nothing myvol made) has nobody to check.
    fn take_away(
        &self,
        h: &WriteHandle,
        name: &VolumeName,
        v: Taken<'_>,
        before: impl FnOnce() -> Result<()>,
    ) -> Result<Trashed> {
        let vdir = match fsutil::open_dir(h.volumes.as_fd(), OsStr::new(name)) {
            Ok(fd) => Some(fd),
            Err(e)
                if matches!(v, Taken::Unreadable) && matches!(e.raw_os_error(), Some(libc::ENOTDIR | libc::ELOOP)) =>
            {
                None
            }
            Err(e) => return Err(self.io("open", &volume_rel(name), e)),
        };
        if let Some(vdir) = &vdir {
            self.check_unused(vdir.as_fd(), name, &v)?;
        }
        before()?;
        if let Some(vdir) = &vdir {
            // Our flock on the directory marks it as being deleted by a live process; it fails
            // when a reader on a read-only mount of the store holds the directory.
            if !fsutil::try_lock_exclusive(vdir.as_fd()).map_err(|e| self.io("lock", &volume_rel(name), e))? {
                return Err(StoreError::InUse { name: name.to_string(), ids: vec![lease::READER_ID.to_owned()] });
            }
        }
        let trash_dir =
            fsutil::open_dir(h.root.as_fd(), OsStr::new(TRASH_DIR)).map_err(|e| self.io("open", TRASH_DIR, e))?;
        let trash_name = fsutil::random_suffix();
        rfs::renameat_with(&h.volumes, name.as_str(), &trash_dir, trash_name.as_str(), rfs::RenameFlags::NOREPLACE)
            .map_err(|e| self.io("rename", &volume_rel(name), e))?;
        rfs::fsync(&h.volumes).map_err(|e| self.io("sync", VOLUMES_DIR, e))?;
        failpoint::hit("remove-after-rename");
        Ok(Trashed { trash_dir, trash_name, _lock: vdir })
    }

    /// Refuse a volume that a live process uses, or whose `_data` something is mounted on
    /// (the caller holds the store lock; dead users' lease files are reaped on the way).
    fn check_unused(&self, vdir: BorrowedFd<'_>, name: &VolumeName, v: &Taken<'_>) -> Result<()> {
        let ids = lease::reap_and_list(vdir).map_err(|e| self.io("read", &root_rel(name, LEASES_DIR), e))?;
        if !ids.is_empty() {
            return Err(StoreError::InUse { name: name.to_string(), ids });
        }
        // Where the kernel cannot tell (statx before Linux 5.8), a volume with driver options
        // (the only kind myvol mounts on), or one whose options are unknown, counts as
        // mounted: deleting through a bind mount would delete the host directory's content.
        let may_be_mounted = match v {
            Taken::Known(v) => v.options.is_some(),
            Taken::Unreadable => true,
        };
        if fsutil::is_mount_root(vdir, OsStr::new(DATA_DIR)).unwrap_or(may_be_mounted) {
            return Err(StoreError::Mounted { name: name.to_string(), path: mountpoint(&self.root, name) });
        }
        Ok(())
    }

    /// Delete a volume that `take_away` renamed into `trash/`. Failures leave it for the
    /// next mutation's cleanup; the volume is gone for users either way.
    fn empty_trash(&self, t: Trashed) {
        if let Ok(fd) = fsutil::open_dir(t.trash_dir.as_fd(), OsStr::new(&t.trash_name)) {
            let _ = fsutil::remove_tree(fd.as_fd(), OsStr::new(DATA_DIR));
            failpoint::hit("remove-mid-delete");
        }
        let _ = fsutil::remove_tree(t.trash_dir.as_fd(), OsStr::new(&t.trash_name));
    }

    /// `volume prune`: remove unused local volumes without mount options (`type`, `device`:
    /// their content is not in the store) that `select` accepts; returns their names
    /// (unsorted) and the space reclaimed, and the volumes left because their metadata cannot
    /// be read. With `dry_run`, nothing is removed: the report says what would be.
    pub fn prune(&self, select: impl Fn(&Volume) -> bool, dry_run: bool) -> Result<PruneReport> {
        let h = self.open_write().map_err(|e| e.during_store("prune"))?;
        let entries =
            fsutil::list_dir(h.volumes.as_fd()).map_err(|e| self.io("read", VOLUMES_DIR, e).during_store("prune"))?;
        let mut report = PruneReport::default();
        let mut trashed = Vec::new();
        for (n, _) in entries {
            let Some(name) = String::from_utf8(n).ok().and_then(|n| VolumeName::from_string(n).ok()) else {
                continue;
            };
            let v = match self.read_volume(h.volumes.as_fd(), &name) {
                Ok(Some(v)) => v,
                Ok(None) => continue,
                Err(e) => {
                    report.unreadable.push((name, e));
                    continue;
                }
            };
            if v.driver != LOCAL_DRIVER || super::mounted_from_options(v.options.as_ref()) || !select(&v) {
                continue;
            }
            let size = self.content_size(h.volumes.as_fd(), &name);
            if dry_run {
                let unused = fsutil::open_dir(h.volumes.as_fd(), OsStr::new(&name))
                    .map_err(|e| self.io("open", &volume_rel(&name), e))
                    .and_then(|vdir| self.check_unused(vdir.as_fd(), &name, &Taken::Known(&v)));
                match unused {
                    Ok(()) => {
                        report.deleted.push(name);
                        report.reclaimed += size;
                    }
                    Err(StoreError::InUse { .. } | StoreError::Mounted { .. }) => {}
                    Err(e) => return Err(e.during("remove", &name)),
                }
                continue;
            }
            match self.take_away(&h, &name, Taken::Known(&v), || Ok(())) {
                Ok(t) => {
                    report.deleted.push(name);
                    report.reclaimed += size;
                    trashed.push(t);
                }
                Err(StoreError::InUse { .. } | StoreError::Mounted { .. }) => continue,
                Err(e) => return Err(e.during("remove", &name)),
            }
        }
        drop(h);
        for t in trashed {
            self.empty_trash(t);
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testutil::*;
    use crate::store::{ANONYMOUS_LABEL, CreateRequest};
    use std::os::fd::AsFd;

    #[test]
    fn rm_removes_the_volume_and_leaves_no_trash() {
        let t = TempStore::new();
        t.create("v1");
        std::fs::create_dir_all(t.data("v1").join("a/b")).unwrap();
        std::fs::write(t.data("v1").join("a/b/f"), "x").unwrap();
        t.store.remove(&name("v1"), false).unwrap();
        assert!(t.entries(VOLUMES_DIR).is_empty());
        assert!(t.entries(TRASH_DIR).is_empty());
        assert_eq!(t.store.remove(&name("v1"), false).unwrap_err().to_string(), "get v1: no such volume");
        t.store.remove(&name("v1"), true).unwrap();
    }

    #[test]
    fn a_volume_in_use_is_refused_and_kept_whole() {
        let t = TempStore::new();
        t.create("v1");
        let lease = t.store.lease(&name("v1"), "run").unwrap();
        let e = t.store.remove(&name("v1"), true).unwrap_err();
        assert_eq!(e.to_string(), format!("remove v1: volume is in use - [{}]", lease.id()));
        assert!(t.store.get(&name("v1")).is_ok());
        drop(lease);
        t.store.remove(&name("v1"), false).unwrap();
    }

    #[test]
    fn a_stale_lease_does_not_keep_a_volume() {
        let t = TempStore::new();
        t.create("v1");
        t.store.lease(&name("v1"), "run").unwrap().abandon();
        t.store.remove(&name("v1"), false).unwrap();
        assert!(t.entries(VOLUMES_DIR).is_empty());
    }

    #[test]
    fn a_crash_after_the_rename_leaves_trash_the_next_mutation_removes() {
        let t = TempStore::new();
        t.create("v1");
        std::fs::write(t.data("v1").join("f"), "x").unwrap();
        let crashes = Crashes::default();
        failpoint::observe(crashes.hook(t.root()), || t.store.remove(&name("v1"), false).unwrap());
        assert_eq!(crashes.points(), ["remove-after-rename", "remove-mid-delete"]);
        for point in ["remove-after-rename", "remove-mid-delete"] {
            let (_dir, crashed) = crashes.at(point);
            // Gone for readers at once; the trash is emptied by the next mutation of anything.
            assert!(crashed.names().unwrap().is_empty(), "{point}");
            assert_eq!(entries(&crashed.root().join(TRASH_DIR)).len(), 1, "{point}");
            crashed.create(request("other")).unwrap();
            assert!(entries(&crashed.root().join(TRASH_DIR)).is_empty(), "{point}");
        }
    }

    #[test]
    fn trash_being_emptied_is_locked_against_cleaners() {
        let t = TempStore::new();
        t.create("v1");
        let root = t.root().to_owned();
        failpoint::observe(
            move |point| {
                if point == "remove-mid-delete" {
                    let trash = root.join(TRASH_DIR);
                    assert_eq!(entries(&trash).len(), 1);
                    let fd = dir_fd(&trash.join(&entries(&trash)[0]));
                    assert!(!fsutil::try_lock_exclusive(fd.as_fd()).unwrap());
                    // And the store lock is already released while it is deleted.
                    assert!(lock_is_free(&root));
                }
            },
            || t.store.remove(&name("v1"), false).unwrap(),
        );
    }

    #[test]
    fn prune_removes_unused_selected_local_volumes_without_options() {
        let t = TempStore::new();
        let anon = t.store.create(CreateRequest::default()).unwrap().volume.name;
        for n in ["keep", "busy", "big"] {
            t.create(n);
        }
        std::fs::write(t.data("big").join("f"), vec![0u8; 1000]).unwrap();
        let opts = CreateRequest { options: [("type".into(), "tmpfs".into())].into(), ..request("opts") };
        t.store.create(opts).unwrap();
        let _lease = t.store.lease(&name("busy"), "run").unwrap();
        let mut report = t.store.prune(|v| v.name != name("keep"), false).unwrap();
        report.deleted.sort();
        let mut expected = vec![anon, name("big")];
        expected.sort();
        assert_eq!(report.deleted, expected);
        assert_eq!(report.reclaimed, 1000);
        assert_eq!(t.entries(VOLUMES_DIR), ["busy", "keep", "opts"]);
        assert!(t.entries(TRASH_DIR).is_empty());
        // Only anonymous ones, as `prune` without --all selects.
        t.create("anon-not");
        let report =
            t.store.prune(|v| v.labels.as_ref().is_some_and(|l| l.contains_key(ANONYMOUS_LABEL)), false).unwrap();
        assert!(report.deleted.is_empty());
    }

    #[test]
    fn a_dry_run_reports_what_prune_would_remove_and_removes_nothing() {
        let t = TempStore::new();
        for n in ["a1", "a2", "busy"] {
            t.create(n);
        }
        std::fs::write(t.data("a2").join("f"), vec![0u8; 700]).unwrap();
        let _lease = t.store.lease(&name("busy"), "run").unwrap();
        let mut report = t.store.prune(|_| true, true).unwrap();
        report.deleted.sort();
        assert_eq!(report.deleted, [name("a1"), name("a2")]);
        assert_eq!(report.reclaimed, 700);
        assert_eq!(t.entries(VOLUMES_DIR), ["a1", "a2", "busy"]);
        let mut real = t.store.prune(|_| true, false).unwrap();
        real.deleted.sort();
        assert_eq!((real.deleted, real.reclaimed), (report.deleted, report.reclaimed), "what the dry run said");
    }

    #[test]
    fn a_volume_whose_metadata_cannot_be_read_is_removed_with_force_only() {
        let t = TempStore::new();
        t.create("broken");
        std::fs::write(t.data("broken").join("f"), "data").unwrap();
        let dir = t.root().join(VOLUMES_DIR).join("broken");
        let _ = fsutil::remove_xattr(dir_fd(&dir).as_fd(), META_XATTR);
        std::fs::write(dir.join(META_FILE), "{").unwrap();
        let e = t.store.remove(&name("broken"), false).unwrap_err();
        assert!(matches!(e, StoreError::Unreadable { .. }), "{e}");
        assert!(e.to_string().starts_with("remove broken: invalid metadata in "), "{e}");
        assert_eq!(t.entries(VOLUMES_DIR), ["broken"]);
        // Leases count, as for any volume.
        let lease = t.store.lease(&name("broken"), "run").unwrap();
        assert!(matches!(t.store.remove(&name("broken"), true), Err(StoreError::InUse { .. })));
        drop(lease);
        t.store.remove(&name("broken"), true).unwrap();
        // An entry that is not even a directory.
        std::fs::write(t.root().join(VOLUMES_DIR).join("stray"), "").unwrap();
        std::os::unix::fs::symlink("/etc", t.root().join(VOLUMES_DIR).join("link")).unwrap();
        assert!(matches!(t.store.remove(&name("stray"), false), Err(StoreError::Unreadable { .. })));
        t.store.remove(&name("stray"), true).unwrap();
        t.store.remove(&name("link"), true).unwrap();
        assert!(t.entries(VOLUMES_DIR).is_empty());
        assert!(t.entries(TRASH_DIR).is_empty());
        assert!(std::path::Path::new("/etc/passwd").exists());
    }

    #[test]
    fn prune_leaves_what_it_cannot_read_and_says_so() {
        let t = TempStore::new();
        t.create("fine");
        std::fs::create_dir(t.root().join(VOLUMES_DIR).join("bare")).unwrap();
        let report = t.store.prune(|_| true, false).unwrap();
        assert_eq!(report.deleted, [name("fine")]);
        assert_eq!(report.unreadable.len(), 1);
        assert_eq!(report.unreadable[0].0, name("bare"));
        assert_eq!(t.entries(VOLUMES_DIR), ["bare"]);
    }

    #[test]
    fn io_errors_name_the_operation_and_the_volume() {
        let e = StoreError::Io {
            op: "lease",
            path: "/r/volumes/v1/leases".into(),
            source: std::io::Error::from_raw_os_error(libc::ENOSPC),
        };
        assert_eq!(
            e.during("export", &name("v1")).to_string(),
            "export v1: lease /r/volumes/v1/leases: no space left on device"
        );
        let other = StoreError::NotFound("v1".into()).during("export", &name("v1"));
        assert_eq!(other.to_string(), "get v1: no such volume");
    }
}
