//! Opening the store: for reading (no lock, nothing created), or for a mutation (the layout
//! made, the root's owner and mode checked, the store lock taken, `store.json` checked, and
//! what crashed commands left behind cleaned or finished).

use std::ffi::OsStr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use rustix::fs::{self as rfs, Mode, OFlags};
use rustix::io::Errno;

use super::layout::*;
use super::lease;
use super::meta::StoreMeta;
use super::{Result, Store, StoreError};
use crate::fsutil;
use crate::name::VolumeName;

/// The store opened for reading.
pub(super) struct ReadHandle {
    pub(super) volumes: OwnedFd,
}

/// The store opened for a mutation; the lock is released on drop.
pub(super) struct WriteHandle {
    pub(super) root: OwnedFd,
    pub(super) volumes: OwnedFd,
    /// `tmp/`: where work in progress and temporaries go (see [`Store::clean_leftovers`]).
    pub(super) tmp: OwnedFd,
    _lock: OwnedFd,
}

impl Store {
    /// Open for reading. `None` when the store does not exist yet (it is then empty).
    pub(super) fn open_read(&self) -> Result<Option<ReadHandle>> {
        let root = match rfs::open(&self.root, OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::NOENT) => return Ok(None),
            Err(e) => return Err(self.io("open", "", e)),
        };
        self.check_format(root.as_fd())?;
        match fsutil::open_dir(root.as_fd(), OsStr::new(VOLUMES_DIR)) {
            Ok(volumes) => Ok(Some(ReadHandle { volumes })),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
            Err(e) => Err(self.io("open", VOLUMES_DIR, e)),
        }
    }

    /// Open for a mutation: create the layout if needed, check ownership and modes, take the
    /// store lock, and clean what earlier crashes left behind.
    pub(super) fn open_write(&self) -> Result<WriteHandle> {
        if let Err(e) = std::fs::create_dir_all(&self.root) {
            return Err(self.io("mkdir", "", e));
        }
        let root = rfs::open(&self.root, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
            .map_err(|e| self.io("open", "", e))?;
        let st = rfs::fstat(&root).map_err(|e| self.io("stat", "", e))?;
        let uid = rustix::process::geteuid().as_raw();
        if st.st_uid != uid {
            return Err(StoreError::ForeignRoot { path: self.root.clone(), owner: st.st_uid, uid });
        }
        // Others must never reach into the store (setuid files and secrets live in volumes).
        // 0710 and 0711 set by an administrator are kept, as Docker's root is 0710.
        let mode = st.st_mode & 0o7777;
        if mode & 0o066 != 0 || mode & 0o7000 != 0 {
            rfs::fchmod(&root, Mode::from_raw_mode(ROOT_MODE)).map_err(|e| self.io("chmod", "", e))?;
        }
        let lock = rfs::openat(
            &root,
            LOCK_FILE,
            OFlags::RDWR | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(META_MODE),
        )
        .map_err(|e| self.io("open", LOCK_FILE, e))?;
        fsutil::lock_exclusive(lock.as_fd()).map_err(|e| self.io("lock", LOCK_FILE, e))?;
        let missing_format = !self.check_format(root.as_fd())?;
        for (dir, mode) in [
            (VOLUMES_DIR, VOLUMES_MODE),
            (TMP_DIR, PRIVATE_DIR_MODE),
            (TRASH_DIR, PRIVATE_DIR_MODE),
            (RUNS_DIR, PRIVATE_DIR_MODE),
        ] {
            match rfs::mkdirat(&root, dir, Mode::from_raw_mode(mode)) {
                Ok(()) | Err(Errno::EXIST) => {}
                Err(e) => return Err(self.io("mkdir", dir, e)),
            }
        }
        let volumes =
            fsutil::open_dir(root.as_fd(), OsStr::new(VOLUMES_DIR)).map_err(|e| self.io("open", VOLUMES_DIR, e))?;
        let tmp = fsutil::open_dir(root.as_fd(), OsStr::new(TMP_DIR)).map_err(|e| self.io("open", TMP_DIR, e))?;
        let handle = WriteHandle { root, volumes, tmp, _lock: lock };
        self.clean_leftovers(&handle);
        if missing_format {
            let data = serde_json::to_vec(&StoreMeta::default()).unwrap_or_default();
            fsutil::write_atomic(handle.tmp.as_fd(), handle.root.as_fd(), OsStr::new(STORE_FILE), &data, META_MODE)
                .map_err(|e| self.io("write", STORE_FILE, e))?;
        }
        self.finish_rename(&handle);
        Ok(handle)
    }

    /// Check `store.json`: `Ok(false)` when it is missing (a store made by the first
    /// mutation, which writes it).
    fn check_format(&self, root: BorrowedFd<'_>) -> Result<bool> {
        match fsutil::read_small_file(root, OsStr::new(STORE_FILE)) {
            Ok(bytes) => {
                let meta: StoreMeta = serde_json::from_slice(&bytes).map_err(|e| StoreError::BadMeta {
                    name: String::new(),
                    path: self.root.join(STORE_FILE),
                    detail: e.to_string(),
                })?;
                if meta.format > FORMAT_VERSION {
                    return Err(StoreError::FormatTooNew { path: self.root.clone(), found: meta.format });
                }
                Ok(true)
            }
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(false),
            Err(e) => Err(self.io("read", STORE_FILE, e)),
        }
    }

    /// Remove what crashed commands left behind; the caller holds the store lock, so nothing
    /// unlocked here belongs to a live command (each one holds the lock while it makes an
    /// entry, and flock-s the entries it keeps working on after releasing it):
    /// - in `tmp/`: builds and import stagings nobody holds, and old content kept for readers
    ///   once none of them is alive; dead holders' lease files (`lease-<id>`, with their
    ///   published name); pins and atomic writes being written;
    /// - in `trash/`: removals nobody finishes; in `runs/`: runs whose supervisor is gone;
    /// - at the root: temporaries of atomic writes that older versions made there.
    ///
    /// Failures here are not the current command's failure: the next mutation tries again.
    fn clean_leftovers(&self, h: &WriteHandle) {
        for (name, _) in fsutil::list_dir(h.root.as_fd()).unwrap_or_default() {
            if name.starts_with(ATOMIC_TEMP_PREFIX.as_bytes()) {
                let _ = rfs::unlinkat(&h.root, OsStr::from_bytes(&name), rfs::AtFlags::empty());
            }
        }
        for dir in [TMP_DIR, TRASH_DIR, RUNS_DIR] {
            let opened;
            let fd = if dir == TMP_DIR {
                h.tmp.as_fd()
            } else {
                match fsutil::open_dir(h.root.as_fd(), OsStr::new(dir)) {
                    Ok(fd) => {
                        opened = fd;
                        opened.as_fd()
                    }
                    Err(_) => continue,
                }
            };
            let Ok(entries) = fsutil::list_dir(fd) else {
                continue;
            };
            for (name, ftype) in entries {
                let name = OsStr::from_bytes(&name);
                if ftype != rfs::FileType::Directory && ftype != rfs::FileType::Unknown {
                    // Files: in `tmp/`, lease files and what is being written; elsewhere
                    // nothing myvol makes (a removal of a volume entry that was not a directory).
                    lease::reap_index(fd, h.volumes.as_fd(), name);
                    continue;
                }
                let entry = match rfs::openat(
                    fd,
                    name,
                    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                ) {
                    Ok(entry) => entry,
                    Err(Errno::NOTDIR) => {
                        lease::reap_index(fd, h.volumes.as_fd(), name);
                        continue;
                    }
                    Err(_) => continue,
                };
                if fsutil::try_lock_exclusive(entry.as_fd()).unwrap_or(false) && !kept_for_readers(entry.as_fd()) {
                    let _ = fsutil::remove_tree(fd, name);
                }
            }
        }
    }

    /// Open `volumes/<name>` under the store lock: `NotFound` when missing.
    pub(super) fn open_volume_dir(&self, h: &WriteHandle, name: &VolumeName) -> Result<OwnedFd> {
        match fsutil::open_dir(h.volumes.as_fd(), OsStr::new(name)) {
            Ok(fd) => Ok(fd),
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENAMETOOLONG)) => {
                Err(StoreError::NotFound(name.to_string()))
            }
            Err(e) => Err(self.io("open", &volume_rel(name), e)),
        }
    }
}

/// `volumes/<name>`, for messages.
pub(super) fn volume_rel(name: &VolumeName) -> String {
    format!("{VOLUMES_DIR}/{name}")
}

/// Whether a `tmp/` entry is old content that `import --force` kept for readers that still
/// live (its `users/` holds their lease files, one of them locked).
fn kept_for_readers(entry: BorrowedFd<'_>) -> bool {
    match fsutil::open_dir(entry, OsStr::new(KEPT_FOR_DIR)) {
        Ok(users) => lease::any_live_in(users.as_fd()).unwrap_or(true),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    use super::*;
    use crate::store::testutil::*;

    #[test]
    fn reading_a_missing_store_creates_nothing() {
        let t = TempStore::new();
        assert!(t.store.open_read().unwrap().is_none());
        assert!(t.store.names().unwrap().is_empty());
        assert!(matches!(t.store.get(&name("v1")), Err(StoreError::NotFound(n)) if n == "v1"));
        assert!(!t.root().exists());
    }

    #[test]
    fn the_first_mutation_makes_the_layout_with_private_modes() {
        let t = TempStore::new();
        drop(t.store.open_write().unwrap());
        let mode = |p: &str| std::fs::metadata(t.root().join(p)).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode(""), ROOT_MODE);
        assert_eq!(mode(VOLUMES_DIR), VOLUMES_MODE);
        for dir in [TMP_DIR, TRASH_DIR, RUNS_DIR] {
            assert_eq!(mode(dir), PRIVATE_DIR_MODE, "{dir}");
        }
        assert_eq!(mode(LOCK_FILE), META_MODE);
        let meta: StoreMeta = serde_json::from_slice(&std::fs::read(t.root().join(STORE_FILE)).unwrap()).unwrap();
        assert_eq!(meta, StoreMeta::default());
        assert!(t.store.open_read().unwrap().is_some());
    }

    #[test]
    fn a_root_others_can_reach_is_closed_and_an_admins_0710_kept() {
        let t = TempStore::new();
        std::fs::create_dir_all(t.root()).unwrap();
        for (set, want) in [(0o777, ROOT_MODE), (0o4700, ROOT_MODE), (0o710, 0o710), (0o711, 0o711)] {
            std::fs::set_permissions(t.root(), std::fs::Permissions::from_mode(set)).unwrap();
            drop(t.store.open_write().unwrap());
            assert_eq!(std::fs::metadata(t.root()).unwrap().mode() & 0o7777, want, "{set:o}");
        }
    }

    #[test]
    fn a_newer_format_is_refused_for_reading_and_writing() {
        let t = TempStore::new();
        drop(t.store.open_write().unwrap());
        std::fs::write(t.root().join(STORE_FILE), format!("{{\"format\":{}}}", FORMAT_VERSION + 1)).unwrap();
        assert!(
            matches!(t.store.open_read(), Err(StoreError::FormatTooNew { found, .. }) if found == FORMAT_VERSION + 1)
        );
        assert!(matches!(t.store.open_write(), Err(StoreError::FormatTooNew { .. })));
        std::fs::write(t.root().join(STORE_FILE), "not json").unwrap();
        assert!(matches!(t.store.open_read(), Err(StoreError::BadMeta { .. })));
    }

    #[test]
    fn a_mutation_holds_the_store_lock_until_its_handle_goes() {
        let t = TempStore::new();
        let h = t.store.open_write().unwrap();
        assert!(!t.lock_is_free());
        drop(h);
        assert!(t.lock_is_free());
        // Readers take no lock: they work while a mutation holds it.
        t.create("v1");
        let h = t.store.open_write().unwrap();
        assert_eq!(t.store.get(&name("v1")).unwrap().name, name("v1"));
        drop(h);
    }

    #[test]
    fn a_second_mutation_waits_for_the_first() {
        let t = TempStore::new();
        let h = t.store.open_write().unwrap();
        let store = t.store.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = std::thread::spawn(move || {
            let created = store.create(request("v1")).map(|c| c.created);
            tx.send(()).unwrap();
            created
        });
        // The waiter cannot finish while we hold the lock; nothing is created meanwhile.
        assert!(rx.recv_timeout(std::time::Duration::from_millis(200)).is_err());
        assert!(t.store.names().unwrap().is_empty());
        drop(h);
        assert!(waiter.join().unwrap().unwrap());
    }

    #[test]
    fn leftovers_nobody_holds_are_removed_by_the_next_mutation_and_held_ones_kept() {
        let t = TempStore::new();
        drop(t.store.open_write().unwrap());
        for dir in [TMP_DIR, TRASH_DIR, RUNS_DIR] {
            std::fs::create_dir_all(t.root().join(dir).join("dead/_data/sub")).unwrap();
            std::fs::write(t.root().join(dir).join("dead/_data/sub/f"), "x").unwrap();
            std::fs::create_dir(t.root().join(dir).join("alive")).unwrap();
        }
        let held: Vec<OwnedFd> = [TMP_DIR, TRASH_DIR, RUNS_DIR]
            .iter()
            .map(|dir| {
                let fd = t.open_dir(&format!("{dir}/alive"));
                assert!(fsutil::try_lock_exclusive(fd.as_fd()).unwrap());
                fd
            })
            .collect();
        drop(t.store.open_write().unwrap());
        for dir in [TMP_DIR, TRASH_DIR, RUNS_DIR] {
            assert_eq!(t.entries(dir), ["alive"], "{dir}");
        }
        drop(held);
        drop(t.store.open_write().unwrap());
        for dir in [TMP_DIR, TRASH_DIR, RUNS_DIR] {
            assert!(t.entries(dir).is_empty(), "{dir}");
        }
    }

    #[test]
    fn a_foreign_root_is_refused() {
        // Only root can make a directory owned by someone else.
        if !rustix::process::geteuid().is_root() {
            eprintln!("skipped: needs root to chown the store to another uid");
            assert!(std::env::var_os("CI").is_none_or(|v| v != "true"), "CI=true: this test must run");
            return;
        }
        let t = TempStore::new();
        std::fs::create_dir_all(t.root()).unwrap();
        std::os::unix::fs::chown(t.root(), Some(12345), None).unwrap();
        assert!(
            matches!(t.store.open_write(), Err(StoreError::ForeignRoot { owner: 12345, uid: 0, .. })),
            "a store owned by another uid"
        );
        // Each verb's refusal names its operation, and the volume when one is concerned.
        let refusal = format!("refusing to use the store at {}: it is owned by uid 12345", t.root().display());
        let e = t.store.create(request("v1")).unwrap_err().to_string();
        assert!(e.starts_with(&format!("create v1: {refusal}")), "{e}");
        let e = t.store.remove(&name("v1"), false).unwrap_err().to_string();
        assert!(e.starts_with(&format!("remove v1: {refusal}")), "{e}");
        let e = t.store.prune(|_| true, false).unwrap_err().to_string();
        assert!(e.starts_with(&format!("prune: {refusal}")), "{e}");
        std::os::unix::fs::chown(t.root(), Some(0), None).unwrap();
    }

    #[test]
    fn prune_names_itself_when_the_store_cannot_be_opened() {
        let t = TempStore::new();
        t.create("v1");
        // The lock file replaced by a directory: opening it for writing fails (EISDIR).
        std::fs::remove_file(t.root().join(LOCK_FILE)).unwrap();
        std::fs::create_dir(t.root().join(LOCK_FILE)).unwrap();
        let e = t.store.prune(|_| true, false).unwrap_err().to_string();
        let want = format!("prune: open {}: is a directory", t.root().join(LOCK_FILE).display());
        assert!(e.starts_with(&want), "{e}");
    }
}
