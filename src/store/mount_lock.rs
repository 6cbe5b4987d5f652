//! What the driver layer needs from the store to mount a volume for its users and unmount it
//! after the last one: a per-volume lock, the live and dead leases under it, and the
//! `mounts/` index of volumes that may have something mounted (so that any later myvol
//! invocation can find what a crashed user left mounted without reading every volume).
//!
//! The store itself never mounts (that is `crate::driver`'s job); it only reports whether a
//! volume's `_data` is a mount point.

use std::ffi::OsStr;
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;

use rustix::fs::{self as rfs, AtFlags, Mode, OFlags};
use rustix::io::Errno;

use super::layout::{DATA_DIR, LEASES_DIR, MOUNTS_DIR, PRIVATE_DIR_MODE, VOLUMES_DIR, mountpoint, root_rel};
use super::lease::{self, LeaseInfo};
use super::{Result, Store, StoreError};
use crate::fsutil;
use crate::name::VolumeName;

/// A volume locked against concurrent mounts and unmounts (an exclusive flock on its
/// `leases/` directory). Leases can still be taken while it is held: deciding to unmount
/// looks at the leases under this lock, so a user that arrived meanwhile is seen.
#[derive(Debug)]
pub struct MountLock {
    name: VolumeName,
    path: PathBuf,
    vdir: OwnedFd,
    leases: OwnedFd,
}

impl MountLock {
    pub fn name(&self) -> &VolumeName {
        &self.name
    }

    /// The volume's `_data` path (for messages and for binding).
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// An `O_PATH` fd on `_data` (never following a link), the target for mount(2).
    pub fn data(&self) -> std::io::Result<OwnedFd> {
        Ok(rfs::openat(
            &self.vdir,
            DATA_DIR,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )?)
    }

    /// The volume's disk image (`disk.img`), opened for reading and writing, never through a
    /// link.
    pub fn image(&self) -> std::io::Result<OwnedFd> {
        Ok(rfs::openat(
            &self.vdir,
            super::layout::DISK_IMAGE,
            OFlags::RDWR | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )?)
    }

    /// `_data`, opened for reading (the root of what is mounted on it, if anything is).
    pub fn data_dir(&self) -> std::io::Result<OwnedFd> {
        fsutil::open_dir(self.vdir.as_fd(), OsStr::new(DATA_DIR))
    }

    /// Whether something is mounted on `_data`.
    pub fn is_mounted(&self) -> std::io::Result<bool> {
        fsutil::is_mount_root(self.vdir.as_fd(), OsStr::new(DATA_DIR))
    }

    /// The ids of the live leases.
    pub fn live(&self) -> std::io::Result<Vec<String>> {
        lease::live_in(self.leases.as_fd())
    }

    /// The leases whose holder is gone, with what their file says.
    pub fn dead(&self) -> std::io::Result<Vec<LeaseInfo>> {
        lease::dead_in(self.leases.as_fd())
    }

    /// Delete a dead lease's file.
    pub fn forget(&self, id: &str) {
        let _ = rfs::unlinkat(&self.leases, id, AtFlags::empty());
    }
}

impl Store {
    /// Lock volume `name` for a mount decision (blocks while another process holds it).
    pub fn mount_lock(&self, name: &VolumeName) -> Result<MountLock> {
        self.mount_lock_with(name, true).map(|l| l.expect("waited"))
    }

    /// Lock volume `name` for a mount decision unless another process holds that lock
    /// (`None` then).
    pub fn try_mount_lock(&self, name: &VolumeName) -> Result<Option<MountLock>> {
        self.mount_lock_with(name, false)
    }

    fn mount_lock_with(&self, name: &VolumeName, wait: bool) -> Result<Option<MountLock>> {
        let open = || -> std::io::Result<(OwnedFd, OwnedFd, bool)> {
            let root = rfs::open(self.root(), OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())?;
            let volumes = fsutil::open_dir(root.as_fd(), OsStr::new(VOLUMES_DIR))?;
            let vdir = fsutil::open_dir(volumes.as_fd(), OsStr::new(name))?;
            let leases = lease::open_leases_dir(vdir.as_fd(), true)?.ok_or(Errno::NOENT)?;
            let locked = if wait {
                fsutil::lock_exclusive(leases.as_fd())?;
                true
            } else {
                fsutil::try_lock_exclusive(leases.as_fd())?
            };
            Ok((vdir, leases, locked))
        };
        match open() {
            Ok((_, _, false)) => Ok(None),
            Ok((vdir, leases, true)) => {
                Ok(Some(MountLock { name: name.clone(), path: mountpoint(self.root(), name), vdir, leases }))
            }
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENAMETOOLONG)) => {
                Err(StoreError::NotFound(name.to_string()))
            }
            Err(e) => Err(self.io("lock", VOLUMES_DIR, e)),
        }
    }

    fn mounts_dir(&self, create: bool) -> std::io::Result<Option<OwnedFd>> {
        let root = rfs::open(self.root(), OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())?;
        match fsutil::open_dir(root.as_fd(), OsStr::new(MOUNTS_DIR)) {
            Ok(fd) => Ok(Some(fd)),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) && create => {
                match rfs::mkdirat(&root, MOUNTS_DIR, Mode::from_raw_mode(PRIVATE_DIR_MODE)) {
                    Ok(()) | Err(Errno::EXIST) => {}
                    Err(e) => return Err(e.into()),
                }
                fsutil::open_dir(root.as_fd(), OsStr::new(MOUNTS_DIR)).map(Some)
            }
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Record (before mounting) or clear (after the last unmount) that volume `lock` may
    /// have something mounted for its users. The caller holds the volume's lock.
    pub fn set_mount_mark(&self, lock: &MountLock, marked: bool) -> Result<()> {
        let rel = format!("{MOUNTS_DIR}/{}", lock.name);
        let dir = self.mounts_dir(marked).map_err(|e| self.io("open", MOUNTS_DIR, e))?;
        let Some(dir) = dir else {
            return Ok(());
        };
        let r = if marked {
            match rfs::openat(
                &dir,
                lock.name.as_str(),
                OFlags::WRONLY | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::from_raw_mode(0o600),
            ) {
                Ok(_) => Ok(()),
                Err(e) => Err(e),
            }
        } else {
            match rfs::unlinkat(&dir, lock.name.as_str(), AtFlags::empty()) {
                Ok(()) | Err(Errno::NOENT) => Ok(()),
                Err(e) => Err(e),
            }
        };
        r.map_err(|e| self.io(if marked { "create" } else { "remove" }, &rel, e))
    }

    /// The entries of `mounts/` (usually none: one directory read): the names of volumes that
    /// may have something mounted, as marked (an entry that is not a volume name is not
    /// myvol's, and is for [`Store::clear_mount_mark`]).
    pub fn mount_marks(&self) -> Vec<String> {
        let Ok(Some(dir)) = self.mounts_dir(false) else {
            return Vec::new();
        };
        fsutil::list_dir(dir.as_fd())
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(n, _)| String::from_utf8(n).ok())
            .collect()
    }

    /// Forget the mark of a volume that no longer exists (or an entry that names none).
    pub fn clear_mount_mark(&self, name: &str) {
        if let Ok(Some(dir)) = self.mounts_dir(false) {
            let _ = rfs::unlinkat(&dir, name, AtFlags::empty());
        }
    }

    /// Take a pinned lease on `name` (`volume mount`): a lease that no process holds, live
    /// until [`Store::unpin`] removes it. Returns its id.
    pub fn pin(&self, name: &VolumeName, holder: &str) -> Result<String> {
        (|| -> Result<String> {
            let h = self.open_write()?;
            let vdir = self.open_volume_dir(&h, name)?;
            lease::pin(h.tmp.as_fd(), vdir.as_fd(), holder)
                .map_err(|e| self.io("lease", &root_rel(name, LEASES_DIR), e))
        })()
        .map_err(|e| e.during("mount", name))
    }

    /// The pinned leases on `name`, newest last.
    pub fn pins(&self, lock: &MountLock) -> Vec<LeaseInfo> {
        lease::pins_in(lock.leases.as_fd())
    }

    /// Remove pinned lease `id` (the caller holds the volume's lock).
    pub fn unpin(&self, lock: &MountLock, id: &str) {
        lock.forget(&format!("{}{id}", lease::PIN_PREFIX));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testutil::*;

    #[test]
    fn one_mount_lock_per_volume_at_a_time() {
        let t = TempStore::new();
        t.create("v1");
        t.create("v2");
        let lock = t.store.mount_lock(&name("v1")).unwrap();
        assert_eq!(lock.name(), &name("v1"));
        assert_eq!(lock.path(), t.data("v1"));
        assert!(t.store.try_mount_lock(&name("v1")).unwrap().is_none());
        assert!(t.store.try_mount_lock(&name("v2")).unwrap().is_some(), "other volumes are free");
        // Leases are still taken (and seen) under it.
        let lease = t.store.lease(&name("v1"), "run").unwrap();
        assert_eq!(lock.live().unwrap(), [lease.id()]);
        assert!(!lock.is_mounted().unwrap());
        drop(lock);
        assert!(t.store.try_mount_lock(&name("v1")).unwrap().is_some());
        assert!(matches!(t.store.mount_lock(&name("gone")), Err(StoreError::NotFound(n)) if n == "gone"));
    }

    #[test]
    fn marks_are_set_listed_and_cleared() {
        let t = TempStore::new();
        t.create("v1");
        assert!(t.store.mount_marks().is_empty());
        let lock = t.store.mount_lock(&name("v1")).unwrap();
        t.store.set_mount_mark(&lock, true).unwrap();
        t.store.set_mount_mark(&lock, true).unwrap();
        assert_eq!(t.store.mount_marks(), ["v1"]);
        t.store.set_mount_mark(&lock, false).unwrap();
        t.store.set_mount_mark(&lock, false).unwrap();
        assert!(t.store.mount_marks().is_empty());
        std::fs::write(t.root().join(MOUNTS_DIR).join(".junk"), "").unwrap();
        assert_eq!(t.store.mount_marks(), [".junk"]);
        t.store.clear_mount_mark(".junk");
        assert!(t.store.mount_marks().is_empty());
    }

    #[test]
    fn pins_are_leases_until_unpinned() {
        let t = TempStore::new();
        t.create("v1");
        let first = t.store.pin(&name("v1"), "mount").unwrap();
        let second = t.store.pin(&name("v1"), "mount").unwrap();
        assert_eq!(t.store.users(&name("v1")).unwrap().len(), 2);
        assert!(matches!(t.store.remove(&name("v1"), false), Err(StoreError::InUse { .. })));
        let lock = t.store.mount_lock(&name("v1")).unwrap();
        let pins: Vec<String> = t.store.pins(&lock).into_iter().map(|p| p.id).collect();
        assert_eq!(pins.len(), 2);
        assert!(pins.contains(&first) && pins.contains(&second));
        for id in pins {
            t.store.unpin(&lock, &id);
        }
        assert!(t.store.users(&name("v1")).unwrap().is_empty());
        drop(lock);
        t.store.remove(&name("v1"), false).unwrap();
    }
}
