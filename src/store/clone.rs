//! `volume clone SRC DST`: a copy built in `tmp/` without the store lock, published with the
//! same rename as `create`.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::os::fd::AsFd;

use rustix::fs as rfs;

use super::layout::*;
use super::lease::Access;
use super::meta::VolumeMeta;
use super::{ANONYMOUS_LABEL, LOCAL_DRIVER, Result, Store, StoreError, Volume};
use crate::copy::{self, CopyStats};
use crate::failpoint;
use crate::fsutil;
use crate::name::VolumeName;

impl Store {
    /// `volume clone SRC DST`: a new volume with SRC's driver, options and labels (or
    /// `labels` when given; never the anonymous label), and a faithful copy of its content
    /// (see [`crate::copy`]). SRC holds an in-use lease for the whole copy, so it can be
    /// neither removed nor renamed meanwhile. The copy goes into a `tmp/` build directory
    /// without the store lock (the build's own flock keeps cleaners away) and is published
    /// under the lock with the same rename as `create`: DST appears complete or not at all.
    /// Volumes with driver options (tmpfs, bind, NFS) keep their content outside the store:
    /// only their metadata is cloned.
    pub fn clone_volume(
        &self,
        src: &VolumeName,
        dst: &VolumeName,
        labels: Option<BTreeMap<String, String>>,
    ) -> Result<(Volume, CopyStats)> {
        self.clone_inner(src, dst, labels).map_err(|e| e.during("clone", src))
    }

    fn clone_inner(
        &self,
        src: &VolumeName,
        dst: &VolumeName,
        labels: Option<BTreeMap<String, String>>,
    ) -> Result<(Volume, CopyStats)> {
        let exists = || StoreError::TargetExists { op: "clone", name: src.to_string(), target: dst.to_string() };
        let lease = self.lease_as(src, "clone", Access::ReadOnly)?;
        let (meta, src_data, build, quota) = {
            let h = self.open_write()?;
            let Some(meta) = self.read_meta(h.volumes.as_fd(), src)? else {
                return Err(StoreError::NotFound(src.to_string()));
            };
            if meta.driver != LOCAL_DRIVER {
                return Err(StoreError::External { op: "clone", name: src.to_string(), driver: meta.driver });
            }
            self.check_target_len("clone", src, dst)?;
            if rfs::statat(&h.volumes, dst.as_str(), rfs::AtFlags::SYMLINK_NOFOLLOW).is_ok() {
                return Err(exists());
            }
            let data = fsutil::open_dir(h.volumes.as_fd(), OsStr::new(&rel(src, DATA_DIR)))
                .map_err(|e| self.io("open", &root_rel(src, DATA_DIR), e))?;
            let build = self.start_build(&h, dst).map_err(|e| match e {
                StoreError::CreateDir { path, source, .. } => StoreError::Io { op: "mkdir", path, source },
                e => e,
            })?;
            // A size limit: the copy gets one of its own (a project id of its own, or a disk
            // image made from the copied content below), in the mode the options ask for.
            let limit = match &meta.options {
                Some(o) if meta.quota.is_some() => self.requested_limit(dst, o)?,
                _ => None,
            };
            let quota = match limit {
                None => None,
                Some((size, forced)) => {
                    let root = meta.owner.unwrap_or_else(|| super::OwnerRequest::default().resolve());
                    let forced = forced.or(meta.quota.map(|q| q.mode));
                    let q = self
                        .create_limit(&h, &build, size, forced, root, true)
                        .map_err(|source| StoreError::Limit { op: "clone", name: src.to_string(), source })?;
                    let volumes = h.volumes.try_clone().map_err(|e| self.io("open", VOLUMES_DIR, e))?;
                    Some((q, volumes))
                }
            };
            (meta, data, build, quota)
        };
        let mut labels = labels.or(meta.labels).unwrap_or_default();
        labels.remove(ANONYMOUS_LABEL);
        let new_meta = VolumeMeta {
            format: FORMAT_VERSION,
            name: dst.to_string(),
            driver: meta.driver,
            created_at: jiff::Timestamp::now().to_string(),
            labels: (!labels.is_empty()).then_some(labels),
            options: meta.options,
            scope: None,
            owner: meta.owner,
            quota: quota.as_ref().map(|(q, _)| *q),
        };
        let json = match new_meta.encode() {
            Ok(json) => json,
            Err(size) => {
                build.discard();
                return Err(StoreError::MetaTooLarge { op: "clone", name: src.to_string(), size });
            }
        };
        let stats = if !super::mounted_from_options(new_meta.options.as_ref()) {
            match copy::copy_tree(src_data.as_fd(), build.data.as_fd()) {
                Ok(stats) => stats,
                Err(e) => {
                    build.discard();
                    return Err(StoreError::Copy {
                        name: src.to_string(),
                        path: mountpoint(&self.root, src).join(e.path),
                        source: e.source,
                    });
                }
            }
        } else {
            CopyStats::default()
        };
        if let Some((q, volumes)) = &quota
            && let Err(source) = self.build_dirs(volumes.as_fd(), &build, |limits, dirs| limits.after_fill(q, dirs))
        {
            build.discard();
            return Err(StoreError::Limit { op: "clone", name: src.to_string(), source });
        }
        failpoint::hit("clone-after-copy");
        let h = match self.open_write() {
            Ok(h) => h,
            Err(e) => {
                build.discard();
                return Err(e);
            }
        };
        match self.finish_build(&h, build, &json) {
            Ok(()) => {}
            Err(StoreError::CreateDir { source, .. }) if source.raw_os_error() == Some(libc::EEXIST) => {
                return Err(exists());
            }
            // Making the new volume failed (a name the filesystem cannot hold, a full disk): an
            // error of this clone, not of a `create`.
            Err(StoreError::CreateDir { path, source, .. }) => {
                return Err(StoreError::Io { op: "mkdir", path, source });
            }
            Err(e) => return Err(e),
        }
        drop(h);
        drop(lease);
        Ok((self.volume_from_meta(dst, new_meta), stats))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::CreateRequest;
    use crate::store::testutil::*;

    fn source(t: &TempStore) {
        let req = CreateRequest { labels: [("who".into(), "src".into())].into(), ..request("src") };
        t.store.create(req).unwrap();
        std::fs::create_dir_all(t.data("src").join("d")).unwrap();
        std::fs::write(t.data("src").join("d/f"), "content").unwrap();
    }

    #[test]
    fn clone_copies_content_and_labels_or_the_labels_given() {
        let t = TempStore::new();
        source(&t);
        let (v, stats) = t.store.clone_volume(&name("src"), &name("dst"), None).unwrap();
        assert_eq!(v.label("who"), Some("src"));
        assert_eq!(stats.files, 1);
        assert_eq!(std::fs::read_to_string(t.data("dst").join("d/f")).unwrap(), "content");
        assert_eq!(t.store.get(&name("dst")).unwrap(), v);
        let labels = Some([("other".to_owned(), "x".to_owned())].into());
        let (v, _) = t.store.clone_volume(&name("src"), &name("dst2"), labels).unwrap();
        assert_eq!((v.label("who"), v.label("other")), (None, Some("x")));
        assert!(t.entries(TMP_DIR).is_empty());
        assert!(t.store.users(&name("src")).unwrap().is_empty(), "the source's lease is released");
    }

    #[test]
    fn a_sized_clone_gets_a_limit_of_its_own_made_from_the_copy() {
        for mode in [crate::store::QuotaMode::Image, crate::store::QuotaMode::Project] {
            let limits = FakeLimits::new(mode);
            let mut t = TempStore::new();
            t.store = t.store.clone().with_limits(limits.clone());
            let req = CreateRequest { options: [("size".into(), "4m".into())].into(), ..request("src") };
            let src = t.store.create(req).unwrap().volume.quota.unwrap();
            // What the source's content is (for an image, its mount: the driver mounts it).
            std::fs::write(t.data("src").join("f"), "x").unwrap();
            limits.calls();
            let (v, _) = t.store.clone_volume(&name("src"), &name("dst"), None).unwrap();
            let q = v.quota.unwrap();
            assert_eq!((q.mode, q.size), (mode, 4 << 20));
            assert_eq!(v.options, t.store.get(&name("src")).unwrap().options);
            let mode_name = format!("{mode:?}");
            assert_eq!(
                limits.calls(),
                [format!("create {} Some({mode_name}) 755 follows=true", 4 << 20), format!("after {mode_name}")]
            );
            match mode {
                crate::store::QuotaMode::Image => {
                    assert_eq!(std::fs::read_to_string(t.root().join("volumes/dst/disk.img")).unwrap(), "f");
                    assert!(entries(&t.data("dst")).is_empty(), "the content is in the image");
                }
                crate::store::QuotaMode::Project => {
                    assert_eq!(q.project_id, Some(src.project_id.unwrap() + 1), "an id of its own");
                    assert_eq!(std::fs::read_to_string(t.data("dst").join("f")).unwrap(), "x");
                }
            }
            assert!(t.entries(TMP_DIR).is_empty());
        }
    }

    #[test]
    fn clone_refuses_a_taken_target_and_a_missing_source() {
        let t = TempStore::new();
        source(&t);
        t.create("taken");
        let e = t.store.clone_volume(&name("src"), &name("taken"), None).unwrap_err();
        assert_eq!(e.to_string(), "clone src: volume taken already exists");
        let e = t.store.clone_volume(&name("nope"), &name("dst"), None).unwrap_err();
        assert_eq!(e.to_string(), "get nope: no such volume");
        assert!(t.entries(TMP_DIR).is_empty());
    }

    #[test]
    fn the_copy_runs_without_the_store_lock_with_the_source_leased_and_the_build_kept() {
        let t = TempStore::new();
        source(&t);
        let store = t.store.clone();
        let root = t.root().to_owned();
        failpoint::observe(
            move |point| {
                if point != "clone-after-copy" {
                    return;
                }
                assert!(lock_is_free(&root), "no store lock during the copy");
                assert_eq!(store.users(&name("src")).unwrap().len(), 1, "the source is leased");
                // Another command's mutation meanwhile: it cleans up, but not our build, and
                // cannot remove the source.
                store.create(request("meanwhile")).unwrap();
                let tmp = entries(&root.join(TMP_DIR));
                assert_eq!(tmp.iter().filter(|e| !e.starts_with(LEASE_INDEX_PREFIX)).count(), 1, "{tmp:?}");
                assert_eq!(tmp.len(), 2, "the build, and the source's lease: {tmp:?}");
                assert!(matches!(store.remove(&name("src"), false), Err(StoreError::InUse { .. })));
            },
            || t.store.clone_volume(&name("src"), &name("dst"), None).unwrap(),
        );
        assert_eq!(std::fs::read_to_string(t.data("dst").join("d/f")).unwrap(), "content");
    }

    #[test]
    fn a_target_taken_during_the_copy_fails_the_clone_and_leaves_no_build() {
        let t = TempStore::new();
        source(&t);
        let store = t.store.clone();
        failpoint::observe(
            move |point| {
                if point == "clone-after-copy" {
                    store.create(request("dst")).unwrap();
                }
            },
            || {
                let e = t.store.clone_volume(&name("src"), &name("dst"), None).unwrap_err();
                assert_eq!(e.to_string(), "clone src: volume dst already exists");
            },
        );
        assert!(t.entries(TMP_DIR).is_empty());
        assert!(t.store.get(&name("dst")).unwrap().labels.is_none(), "the other create's volume");
    }

    #[test]
    fn a_crash_during_the_copy_leaves_no_destination() {
        let t = TempStore::new();
        source(&t);
        let crashes = Crashes::default();
        failpoint::observe(crashes.hook(t.root()), || t.store.clone_volume(&name("src"), &name("dst"), None).unwrap());
        assert!(crashes.points().contains(&"clone-after-copy".to_owned()));
        let (_dir, crashed) = crashes.at("clone-after-copy");
        let mut names = crashed.names().unwrap();
        names.sort();
        assert_eq!(names, [name("src")]);
        // The dead clone's lease on the source does not keep it; its build is a leftover.
        crashed.remove(&name("src"), false).unwrap();
        assert!(entries(&crashed.root().join(TMP_DIR)).is_empty());
        assert!(crashed.names().unwrap().is_empty());
    }
}
