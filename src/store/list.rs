//! Reading volumes without the store lock: one volume (`inspect`), whether it exists, all
//! names (`ls -q`), all volumes with their metadata (`ls`), and the metadata precedence that
//! keeps a reader consistent with an unfinished rename.

use std::ffi::OsStr;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::PathBuf;

use super::layout::*;
use super::meta::VolumeMeta;
use super::{LOCAL_DRIVER, Result, Store, StoreError, Volume};
use crate::fsutil;
use crate::name::VolumeName;
use crate::text::errno_text;

/// A volume whose metadata cannot be read, and why.
pub type Unreadable = (VolumeName, StoreError);

impl Store {
    /// `volume inspect` of one name: `NotFound` for a missing one.
    pub fn get(&self, name: &VolumeName) -> Result<Volume> {
        let Some(h) = self.open_read()? else {
            return Err(StoreError::NotFound(name.to_string()));
        };
        self.read_volume(h.volumes.as_fd(), name)?.ok_or_else(|| StoreError::NotFound(name.to_string()))
    }

    /// Whether a volume exists (one whose metadata cannot be read does).
    pub fn exists(&self, name: &VolumeName) -> Result<bool> {
        match self.get(name) {
            Ok(_) | Err(StoreError::BadMeta { .. }) => Ok(true),
            Err(StoreError::NotFound(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The names of all volumes, unsorted. Cheap: one directory read, no metadata.
    pub fn names(&self) -> Result<Vec<VolumeName>> {
        let Some(h) = self.open_read()? else {
            return Ok(Vec::new());
        };
        let entries = fsutil::list_dir(h.volumes.as_fd()).map_err(|e| self.io("read", VOLUMES_DIR, e))?;
        Ok(entries
            .into_iter()
            .filter_map(|(n, _)| String::from_utf8(n).ok())
            .filter_map(|n| VolumeName::from_string(n).ok())
            .collect())
    }

    /// All volumes with their metadata, unsorted. Volumes that vanish while listing are
    /// skipped; one whose metadata cannot be read is reported in the second list, with why,
    /// not fatal: it is a volume all the same (`names` lists it, `rm --force` removes it).
    pub fn list(&self) -> Result<(Vec<Volume>, Vec<Unreadable>)> {
        let Some(h) = self.open_read()? else {
            return Ok((Vec::new(), Vec::new()));
        };
        let entries = fsutil::list_dir(h.volumes.as_fd()).map_err(|e| self.io("read", VOLUMES_DIR, e))?;
        let mut vols = Vec::with_capacity(entries.len());
        let mut errs = Vec::new();
        for (n, _) in entries {
            let Some(n) = String::from_utf8(n).ok().and_then(|n| VolumeName::from_string(n).ok()) else {
                continue;
            };
            match self.read_volume(h.volumes.as_fd(), &n) {
                Ok(Some(v)) => vols.push(v),
                Ok(None) => {}
                Err(e) => errs.push((n, e)),
            }
        }
        Ok((vols, errs))
    }

    /// Read one volume's metadata. `Ok(None)` if it does not exist (or vanished).
    pub(super) fn read_volume(&self, volumes: BorrowedFd<'_>, name: &VolumeName) -> Result<Option<Volume>> {
        Ok(self.read_meta(volumes, name)?.map(|meta| self.volume_from_meta(name, meta)))
    }

    /// One volume's on-disk metadata, by precedence: the `user.myvol.volume` xattr of the
    /// volume directory while its `name` is the directory's (written at creation);
    /// `volume.next.json` when a rename to this name committed but was not finished (its
    /// `name` is this directory's); else `volume.json`.
    ///
    /// `Ok(None)` only when there is no such entry in `volumes/`. Any entry there is a volume
    /// (`ls -q` lists it without reading anything), so one that is not a directory, or a
    /// directory without readable metadata, is `BadMeta`: never silently left out, and
    /// removable with `rm --force`.
    pub(super) fn read_meta(&self, volumes: BorrowedFd<'_>, name: &VolumeName) -> Result<Option<VolumeMeta>> {
        let bad = |path: PathBuf, detail: String| StoreError::BadMeta { name: name.to_string(), path, detail };
        let vdir = match fsutil::open_dir(volumes, OsStr::new(name)) {
            Ok(fd) => fd,
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENAMETOOLONG)) => {
                return Ok(None);
            }
            Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => {
                return Err(bad(volume_dir(&self.root, name), "not a directory".to_owned()));
            }
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                return Err(bad(volume_dir(&self.root, name), "a symbolic link, not a directory".to_owned()));
            }
            Err(e) => return Err(bad(volume_dir(&self.root, name), errno_text(&e))),
        };
        let mut xattr_error = None;
        match fsutil::get_xattr(vdir.as_fd(), META_XATTR) {
            Ok(Some(bytes)) => match serde_json::from_slice::<VolumeMeta>(&bytes) {
                Ok(meta) if meta.name == name.as_str() => return Ok(Some(meta)),
                Ok(_) => {} // left behind by a rename: the files below say what is true
                Err(e) => xattr_error = Some(e.to_string()),
            },
            Ok(None) => {}
            Err(e) => xattr_error = Some(errno_text(&e)),
        }
        if let Ok(bytes) = fsutil::read_small_file(vdir.as_fd(), OsStr::new(META_NEXT_FILE))
            && let Ok(meta) = serde_json::from_slice::<VolumeMeta>(&bytes)
            && meta.name == name.as_str()
        {
            return Ok(Some(meta));
        }
        let file = volume_dir(&self.root, name).join(META_FILE);
        let bytes = match fsutil::read_small_file(vdir.as_fd(), OsStr::new(META_FILE)) {
            Ok(b) => b,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                let detail = match xattr_error {
                    Some(detail) => format!("extended attribute {META_XATTR}: {detail}"),
                    None => format!("no metadata (neither the extended attribute {META_XATTR} nor {META_FILE})"),
                };
                return Err(bad(volume_dir(&self.root, name), detail));
            }
            Err(e) => return Err(bad(file, errno_text(&e))),
        };
        let meta: VolumeMeta = serde_json::from_slice(&bytes).map_err(|e| bad(file, e.to_string()))?;
        Ok(Some(meta))
    }

    pub(super) fn volume_from_meta(&self, name: &VolumeName, meta: VolumeMeta) -> Volume {
        Volume {
            name: name.clone(),
            driver: meta.driver,
            created_at: meta.created_at,
            labels: meta.labels,
            options: meta.options,
            mountpoint: mountpoint(&self.root, name),
            scope: meta.scope.unwrap_or_else(|| LOCAL_DRIVER.to_owned()),
            owner: meta.owner,
            quota: meta.quota,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::meta::MAX_META_BYTES;
    use crate::store::testutil::*;

    fn meta_json(name: &str, driver: &str) -> String {
        format!(
            r#"{{"format":1,"name":"{name}","driver":"{driver}","created_at":"2026-01-01T00:00:00Z","labels":null,"options":null}}"#
        )
    }

    #[test]
    fn get_names_and_list_see_what_create_made() {
        let t = TempStore::new();
        for n in ["b2", "a1", "c3"] {
            t.create(n);
        }
        let mut names = t.store.names().unwrap();
        names.sort();
        assert_eq!(names, [name("a1"), name("b2"), name("c3")]);
        let (mut vols, errs) = t.store.list().unwrap();
        assert!(errs.is_empty());
        vols.sort_by(|a, b| a.name.cmp(&b.name));
        assert_eq!(vols.len(), 3);
        let v = t.store.get(&name("b2")).unwrap();
        assert_eq!(v, vols[1]);
        assert_eq!(v.driver, LOCAL_DRIVER);
        assert_eq!(v.scope, "local");
        assert_eq!(v.mountpoint, t.data("b2"));
        assert!(t.store.exists(&name("a1")).unwrap());
        assert!(!t.store.exists(&name("zz")).unwrap());
    }

    #[test]
    fn every_valid_name_in_volumes_is_listed_and_what_cannot_be_read_says_why() {
        let t = TempStore::new();
        t.create("real");
        let volumes = t.root().join(VOLUMES_DIR);
        // Not names: never looked at.
        std::fs::create_dir(volumes.join(".hidden")).unwrap();
        std::fs::create_dir(volumes.join("x")).unwrap();
        // Names that are not volumes myvol could read: a directory without metadata, a file,
        // a symlink to a volume, a FIFO, metadata that is garbage or over the limit.
        std::fs::create_dir(volumes.join("bare")).unwrap();
        std::fs::write(volumes.join("file"), "").unwrap();
        std::os::unix::fs::symlink("real", volumes.join("link")).unwrap();
        std::fs::create_dir(volumes.join("fifo")).unwrap();
        nix::unistd::mkfifo(&volumes.join("fifo").join(META_FILE), nix::sys::stat::Mode::from_bits_truncate(0o600))
            .unwrap();
        std::fs::create_dir(volumes.join("garbage")).unwrap();
        std::fs::write(volumes.join("garbage").join(META_FILE), "\x1b[31m{").unwrap();
        std::fs::create_dir(volumes.join("huge")).unwrap();
        std::fs::write(volumes.join("huge").join(META_FILE), vec![b' '; (MAX_META_BYTES + 1) as usize]).unwrap();
        let (vols, errs) = t.store.list().unwrap();
        assert_eq!(vols.iter().map(|v| v.name.as_str()).collect::<Vec<_>>(), ["real"]);
        let mut broken: Vec<&str> = errs.iter().map(|(n, _)| n.as_str()).collect();
        broken.sort();
        assert_eq!(broken, ["bare", "fifo", "file", "garbage", "huge", "link"]);
        for (n, e) in &errs {
            assert!(matches!(e, StoreError::BadMeta { name, .. } if name == n.as_str()), "{n}: {e}");
            assert!(matches!(t.store.get(n), Err(StoreError::BadMeta { .. })), "{n}");
            assert!(t.store.exists(n).unwrap(), "{n}");
        }
        let why = |n: &str| errs.iter().find(|(v, _)| v.as_str() == n).unwrap().1.to_string();
        assert!(why("file").ends_with(": not a directory"), "{}", why("file"));
        assert!(why("link").ends_with(": a symbolic link, not a directory"), "{}", why("link"));
        assert!(why("bare").contains(": no metadata ("), "{}", why("bare"));
        assert!(why("fifo").ends_with(": not a regular file"), "{}", why("fifo"));
        assert!(
            why("huge").ends_with(&format!(": 1048577 bytes, more than the limit of {MAX_META_BYTES}")),
            "{}",
            why("huge")
        );
        // `names` is one directory read: it lists the same volumes, without opening them.
        let mut names = t.store.names().unwrap();
        names.sort();
        assert_eq!(names.len(), 1 + broken.len());
        assert!(!t.store.exists(&name("missing")).unwrap());
    }

    #[test]
    fn unreadable_metadata_is_reported_not_fatal() {
        let t = TempStore::new();
        t.create("good");
        let dir = t.root().join(VOLUMES_DIR).join("broken");
        std::fs::create_dir_all(dir.join("_data")).unwrap();
        std::fs::write(dir.join(META_FILE), "{not json").unwrap();
        let (vols, errs) = t.store.list().unwrap();
        assert_eq!(vols.len(), 1);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].0, name("broken"));
        assert!(errs[0].1.to_string().starts_with("get broken: invalid metadata in "), "{}", errs[0].1);
        assert!(matches!(t.store.get(&name("broken")), Err(StoreError::BadMeta { .. })));
    }

    #[test]
    fn metadata_precedence_follows_the_directory_name() {
        let t = TempStore::new();
        t.create("vol");
        let dir = t.root().join(VOLUMES_DIR).join("vol");
        let xattr = fsutil::get_xattr(dir_fd(&dir).as_fd(), META_XATTR).unwrap();
        // volume.json is used when the xattr is absent (a filesystem without user xattrs) or
        // names another directory (left by a rename).
        std::fs::write(dir.join(META_FILE), meta_json("vol", "from-file")).unwrap();
        let expected_from_xattr = if xattr.is_some() { LOCAL_DRIVER } else { "from-file" };
        assert_eq!(t.store.get(&name("vol")).unwrap().driver, expected_from_xattr);
        // A volume.next.json that names this directory: a rename to here committed.
        std::fs::write(dir.join(META_NEXT_FILE), meta_json("vol", "next")).unwrap();
        if xattr.is_none() {
            assert_eq!(t.store.get(&name("vol")).unwrap().driver, "next");
        }
        // One that names another directory: a rename from here that did not commit.
        std::fs::write(dir.join(META_NEXT_FILE), meta_json("other", "next")).unwrap();
        assert_eq!(t.store.get(&name("vol")).unwrap().driver, expected_from_xattr);
        // Under another name (the directory renamed), the xattr no longer counts.
        std::fs::rename(&dir, t.root().join(VOLUMES_DIR).join("moved")).unwrap();
        assert_eq!(t.store.get(&name("moved")).unwrap().driver, "from-file");
        std::fs::write(t.root().join(VOLUMES_DIR).join("moved").join(META_NEXT_FILE), meta_json("moved", "next"))
            .unwrap();
        assert_eq!(t.store.get(&name("moved")).unwrap().driver, "next");
    }
}
