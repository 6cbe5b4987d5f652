//! `volume rename OLD NEW`, journaled so that a crash at any instant is finished or undone by
//! the next mutation (docs/store-format.md, "Renaming").

use std::ffi::OsStr;
use std::io;
use std::os::fd::AsFd;

use rustix::fs as rfs;
use rustix::io::Errno;

use super::layout::*;
use super::lease;
use super::meta::{RenameJournal, VolumeMeta};
use super::open::WriteHandle;
use super::{ANONYMOUS_LABEL, LOCAL_DRIVER, Result, Store, StoreError, Volume};
use crate::name::VolumeName;
use crate::{failpoint, fsutil};

impl Store {
    /// `volume rename OLD NEW`, under the store lock. The commit point is one
    /// `renameat2(RENAME_NOREPLACE)` of `volumes/OLD` to `volumes/NEW`; the metadata under the
    /// new name (`name`, and no anonymous label: a renamed volume is a named one) is written
    /// as `volume.next.json` inside the directory before it, and moved over `volume.json`
    /// after it. Readers take `volume.next.json` exactly when its `name` is the directory's,
    /// so metadata and directory agree at every instant; `rename.json` at the root lets the
    /// next mutation finish or undo what a crash left.
    pub fn rename(&self, old: &VolumeName, new: &VolumeName) -> Result<Volume> {
        self.rename_inner(old, new).map_err(|e| e.during("rename", old))
    }

    fn rename_inner(&self, old: &VolumeName, new: &VolumeName) -> Result<Volume> {
        let h = self.open_write()?;
        let Some(meta) = self.read_meta(h.volumes.as_fd(), old)? else {
            return Err(StoreError::NotFound(old.to_string()));
        };
        if meta.driver != LOCAL_DRIVER {
            // The plugin knows the volume by its name.
            return Err(StoreError::External { op: "rename", name: old.to_string(), driver: meta.driver });
        }
        self.check_target_len("rename", old, new)?;
        let exists = || StoreError::TargetExists { op: "rename", name: old.to_string(), target: new.to_string() };
        if rfs::statat(&h.volumes, new.as_str(), rfs::AtFlags::SYMLINK_NOFOLLOW).is_ok() {
            return Err(exists());
        }
        let vdir = fsutil::open_dir(h.volumes.as_fd(), OsStr::new(old)).map_err(|e| self.io("open", VOLUMES_DIR, e))?;
        let ids = lease::reap_and_list(vdir.as_fd()).map_err(|e| self.io("read", VOLUMES_DIR, e))?;
        if !ids.is_empty() {
            return Err(StoreError::Busy { op: "rename", name: old.to_string(), ids });
        }
        let mut labels = meta.labels.clone().unwrap_or_default();
        labels.remove(ANONYMOUS_LABEL);
        let next = VolumeMeta { name: new.to_string(), labels: (!labels.is_empty()).then_some(labels), ..meta };
        // The new name is part of the metadata: a longer one must still fit the limit.
        let json =
            next.encode().map_err(|size| StoreError::MetaTooLarge { op: "rename", name: old.to_string(), size })?;

        let journal = serde_json::to_vec(&RenameJournal { from: old.to_string(), to: new.to_string() })
            .map_err(|e| self.io("write", RENAME_JOURNAL, io::Error::other(e)))?;
        fsutil::write_atomic(h.tmp.as_fd(), h.root.as_fd(), OsStr::new(RENAME_JOURNAL), &journal, META_MODE)
            .map_err(|e| self.io("write", RENAME_JOURNAL, e))?;
        failpoint::hit("rename-after-journal");
        let undo = |e: StoreError| {
            let _ = rfs::unlinkat(&vdir, META_NEXT_FILE, rfs::AtFlags::empty());
            let _ = rfs::unlinkat(&h.root, RENAME_JOURNAL, rfs::AtFlags::empty());
            e
        };
        fsutil::write_atomic(h.tmp.as_fd(), vdir.as_fd(), OsStr::new(META_NEXT_FILE), &json, META_MODE)
            .map_err(|e| undo(self.io("write", &root_rel(old, META_NEXT_FILE), e)))?;
        failpoint::hit("rename-before-commit");
        // The commit point.
        match rfs::renameat_with(&h.volumes, old.as_str(), &h.volumes, new.as_str(), rfs::RenameFlags::NOREPLACE) {
            Ok(()) => {}
            Err(Errno::EXIST) => return Err(undo(exists())),
            Err(e) => return Err(undo(self.io("rename", VOLUMES_DIR, e))),
        }
        // From here on the rename has happened; what fails below is finished by the next
        // mutation (the journal stays), and readers already see the new metadata.
        if rfs::fsync(&h.volumes).is_ok() {
            failpoint::hit("rename-after-commit");
            // The creation-time xattr names the old name; it goes before `volume.json` appears,
            // so that a later rename back to the old name cannot make it true again.
            if fsutil::remove_xattr(vdir.as_fd(), META_XATTR).is_ok()
                && rfs::renameat(&vdir, META_NEXT_FILE, &vdir, META_FILE).is_ok()
                && rfs::fsync(&vdir).is_ok()
            {
                failpoint::hit("rename-after-meta");
                let _ = rfs::unlinkat(&h.root, RENAME_JOURNAL, rfs::AtFlags::empty());
            }
        }
        Ok(self.volume_from_meta(new, next))
    }

    /// Finish or undo the rename a crash interrupted (`rename.json`): in the directory whose
    /// name `volume.next.json` carries, that file becomes `volume.json`; elsewhere it is
    /// dropped. The caller holds the store lock. Failures leave the journal for next time.
    pub(super) fn finish_rename(&self, h: &WriteHandle) {
        let Ok(bytes) = fsutil::read_small_file(h.root.as_fd(), OsStr::new(RENAME_JOURNAL)) else {
            return;
        };
        if let Ok(j) = serde_json::from_slice::<RenameJournal>(&bytes) {
            for name in [j.from, j.to] {
                // A journal naming no volume (damaged) has nothing to finish there.
                let Ok(name) = VolumeName::from_string(name) else {
                    continue;
                };
                let Ok(vdir) = fsutil::open_dir(h.volumes.as_fd(), OsStr::new(&name)) else {
                    continue;
                };
                // Temporaries of an interrupted write_atomic.
                for (entry, _) in fsutil::list_dir(vdir.as_fd()).unwrap_or_default() {
                    if entry.starts_with(b".tmp-") {
                        let _ = rfs::unlinkat(&vdir, entry.as_slice(), rfs::AtFlags::empty());
                    }
                }
                let committed = fsutil::read_small_file(vdir.as_fd(), OsStr::new(META_NEXT_FILE))
                    .ok()
                    .and_then(|b| serde_json::from_slice::<VolumeMeta>(&b).ok())
                    .map(|m| m.name == name.as_str());
                match committed {
                    Some(true) => {
                        if fsutil::remove_xattr(vdir.as_fd(), META_XATTR).is_err()
                            || rfs::renameat(&vdir, META_NEXT_FILE, &vdir, META_FILE).is_err()
                            || rfs::fsync(&vdir).is_err()
                        {
                            return;
                        }
                    }
                    _ => match rfs::unlinkat(&vdir, META_NEXT_FILE, rfs::AtFlags::empty()) {
                        Ok(()) | Err(Errno::NOENT) => {}
                        Err(_) => return,
                    },
                }
            }
        }
        let _ = rfs::unlinkat(&h.root, RENAME_JOURNAL, rfs::AtFlags::empty());
        let _ = rfs::fsync(&h.root);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testutil::*;
    use crate::store::{CreateRequest, Store};

    /// What a reader and the next mutation make of a store: the names, and the volume's
    /// metadata as read.
    fn view(s: &Store) -> Vec<(String, String)> {
        let (mut vols, errs) = s.list().unwrap();
        assert!(errs.is_empty(), "{errs:?}");
        vols.sort_by(|a, b| a.name.cmp(&b.name));
        vols.into_iter().map(|v| (v.name.to_string(), v.label("who").unwrap_or("").to_owned())).collect()
    }

    fn labelled(t: &TempStore, n: &str) {
        let req = CreateRequest { labels: [("who".into(), n.into())].into(), ..request(n) };
        assert!(t.store.create(req).unwrap().created);
        std::fs::write(t.data(n).join("content"), n).unwrap();
    }

    #[test]
    fn rename_moves_the_volume_and_its_content_and_drops_the_anonymous_label() {
        let t = TempStore::new();
        let anon = t.store.create(CreateRequest::default()).unwrap().volume;
        std::fs::write(t.data(anon.name.as_str()).join("f"), "x").unwrap();
        let v = t.store.rename(&anon.name, &name("named")).unwrap();
        assert_eq!(v.name, name("named"));
        assert!(!v.is_anonymous());
        assert_eq!(t.store.get(&name("named")).unwrap(), v);
        assert!(matches!(t.store.get(&anon.name), Err(StoreError::NotFound(_))));
        assert_eq!(std::fs::read_to_string(t.data("named").join("f")).unwrap(), "x");
        assert!(!t.root().join(RENAME_JOURNAL).exists());
        assert_eq!(t.entries("volumes/named"), [DATA_DIR, META_FILE]);
        // And back: the old creation-time xattr must not come true again.
        let back = t.store.rename(&name("named"), &anon.name).unwrap();
        assert!(!back.is_anonymous());
        assert_eq!(t.store.get(&anon.name).unwrap(), back);
    }

    #[test]
    fn rename_refuses_a_taken_target_a_busy_volume_and_a_missing_one() {
        let t = TempStore::new();
        labelled(&t, "a1");
        labelled(&t, "b2");
        let e = t.store.rename(&name("a1"), &name("b2")).unwrap_err();
        assert_eq!(e.to_string(), "rename a1: volume b2 already exists");
        let lease = t.store.lease(&name("a1"), "run").unwrap();
        let e = t.store.rename(&name("a1"), &name("c3")).unwrap_err();
        assert_eq!(e.to_string(), format!("rename a1: volume is in use - [{}]", lease.id()));
        drop(lease);
        let e = t.store.rename(&name("zz"), &name("c3")).unwrap_err();
        assert_eq!(e.to_string(), "get zz: no such volume");
        assert_eq!(view(&t.store), [("a1".into(), "a1".into()), ("b2".into(), "b2".into())]);
        assert!(!t.root().join(RENAME_JOURNAL).exists());
    }

    #[test]
    fn every_journal_state_a_crash_leaves_is_consistent_and_recovered() {
        let t = TempStore::new();
        labelled(&t, "old");
        labelled(&t, "bystander");
        let crashes = Crashes::default();
        failpoint::observe(crashes.hook(t.root()), || t.store.rename(&name("old"), &name("new")).unwrap());
        // The atomic writes: of the journal, then of volume.next.json.
        let points = [
            "atomic-write-before-rename",
            "rename-after-journal",
            "atomic-write-before-rename",
            "rename-before-commit",
            "rename-after-commit",
            "rename-after-meta",
        ];
        assert_eq!(crashes.points(), points);
        for (i, point) in points.into_iter().enumerate() {
            // `at` hands out the earliest copy left of a point: these go in order.
            let (_dir, crashed) = crashes.at(point);
            let committed = matches!(point, "rename-after-commit" | "rename-after-meta");
            let (now, gone) = if committed { ("new", "old") } else { ("old", "new") };
            // Readers, before any recovery: one volume under one name, metadata agreeing.
            let before = view(&crashed);
            assert_eq!(before, [("bystander".into(), "bystander".into()), (now.into(), "old".into())], "{point}");
            assert!(matches!(crashed.get(&name(gone)), Err(StoreError::NotFound(_))), "{point}");
            let v = crashed.get(&name(now)).unwrap();
            assert_eq!(v.name, name(now), "{point}");
            assert_eq!(crashed.root().join(RENAME_JOURNAL).exists(), i > 0, "{point} {i}");
            // The next mutation (of another volume) finishes or undoes it.
            crashed.create(request("later")).unwrap();
            assert!(!crashed.root().join(RENAME_JOURNAL).exists(), "{point}");
            assert!(entries(&crashed.root().join(TMP_DIR)).is_empty(), "{point} {i}: the temporaries");
            let vdir = crashed.root().join(VOLUMES_DIR).join(now);
            assert!(!vdir.join(META_NEXT_FILE).exists(), "{point}");
            assert_eq!(crashed.get(&name(now)).unwrap(), v, "{point}");
            assert_eq!(std::fs::read_to_string(vdir.join("_data/content")).unwrap(), "old", "{point}");
            if committed {
                // The metadata is a file under the new name; the old xattr is gone.
                let meta: VolumeMeta = serde_json::from_slice(&std::fs::read(vdir.join(META_FILE)).unwrap()).unwrap();
                assert_eq!(meta.name, "new", "{point}");
                assert_eq!(fsutil::get_xattr(dir_fd(&vdir).as_fd(), META_XATTR).unwrap(), None, "{point}");
            }
            // And the volume can be renamed again, either way.
            crashed.rename(&name(now), &name("third")).unwrap();
            assert_eq!(crashed.get(&name("third")).unwrap().label("who"), Some("old"), "{point}");
        }
    }

    #[test]
    fn a_journal_naming_no_volume_is_dropped() {
        let t = TempStore::new();
        labelled(&t, "v1");
        std::fs::write(t.root().join(RENAME_JOURNAL), r#"{"from":"../x","to":"gone"}"#).unwrap();
        t.create("v2");
        assert!(!t.root().join(RENAME_JOURNAL).exists());
        assert_eq!(view(&t.store).len(), 2);
    }

    #[test]
    fn a_new_name_that_would_put_the_metadata_over_the_limit_is_refused() {
        let t = TempStore::new();
        // Labels that leave exactly 10 bytes of room under the limit for the name "v1".
        let meta_len = |value: &str| {
            VolumeMeta {
                format: FORMAT_VERSION,
                name: "v1".into(),
                driver: LOCAL_DRIVER.into(),
                created_at: jiff::Timestamp::now().to_string(),
                labels: Some([("k".to_owned(), value.to_owned())].into()),
                options: None,
                scope: None,
                owner: None,
                quota: None,
            }
            .encode()
            .map_or_else(|n| n, |j| j.len())
        };
        let base = meta_len("");
        let value = "x".repeat(super::super::meta::MAX_META_BYTES as usize - base - 10);
        let req = CreateRequest { labels: [("k".to_owned(), value)].into(), ..request("v1") };
        t.store.create(req).unwrap();
        let long = name(&format!("v1{}", "y".repeat(20)));
        let e = t.store.rename(&name("v1"), &long).unwrap_err();
        assert!(matches!(e, StoreError::MetaTooLarge { op: "rename", .. }), "{e}");
        assert!(e.to_string().starts_with("rename v1: labels and options too large: "), "{e}");
        // Nothing changed; a name that fits works.
        assert_eq!(t.entries(VOLUMES_DIR), ["v1"]);
        assert!(!t.root().join(RENAME_JOURNAL).exists());
        t.store.rename(&name("v1"), &name("v2")).unwrap();
        assert_eq!(
            t.store.get(&name("v2")).unwrap().labels.unwrap()["k"].len(),
            super::super::meta::MAX_META_BYTES as usize - base - 10
        );
    }

    #[test]
    fn a_target_longer_than_a_file_name_is_refused_before_anything_is_done() {
        let t = TempStore::new();
        t.create("src");
        std::fs::write(t.data("src").join("f"), "content").unwrap();
        let long = name(&"a".repeat(256));
        let before = t.entries(VOLUMES_DIR);
        let path = t.root().join(VOLUMES_DIR).join(long.as_str());
        let want = |op: &str| {
            format!(
                "{op} src: error while creating volume root path '{}': mkdir {}: file name too long",
                path.display(),
                path.display()
            )
        };
        assert_eq!(t.store.rename(&name("src"), &long).unwrap_err().to_string(), want("rename"));
        assert_eq!(t.store.clone_volume(&name("src"), &long, None).unwrap_err().to_string(), want("clone"));
        assert_eq!(t.entries(VOLUMES_DIR), before);
        assert!(t.entries(TMP_DIR).is_empty());
        assert!(!t.root().join(RENAME_JOURNAL).exists());
        // 255 bytes is a file name like any other.
        let longest = name(&"b".repeat(255));
        t.store.rename(&name("src"), &longest).unwrap();
        assert_eq!(std::fs::read_to_string(t.data(longest.as_str()).join("f")).unwrap(), "content");
    }
}
