//! In-use leases. A process that uses a volume (a `myvol run`, a `volume mount`) holds a lease
//! for its whole life: a file `volumes/<name>/leases/<id>` on which it holds an exclusive
//! flock(2). The kernel drops the lock when the holder's last fd closes, so a crash (even
//! SIGKILL) releases the lease by itself; the file left behind is stale and is removed by the
//! next mutation that looks.
//!
//! A lease file is created under a `.new-` name, locked, and only then renamed into place, so
//! a published lease file that is not locked is always stale. Checkers try a *shared* lock
//! without blocking: it fails exactly when a holder is alive, and two checkers never disturb
//! each other or a holder.
//!
//! A *pinned* lease (`volume mount`) is a file `leases/pin-<id>` that no process holds: it is
//! live until `volume unmount` deletes it.

use std::ffi::OsStr;
use std::io::Write;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use rustix::fs::{self as rfs, AtFlags, Mode, OFlags};
use rustix::io::Errno;
use serde::{Deserialize, Serialize};

use super::layout::{LEASE_NEW_PREFIX, LEASES_MODE, VOLUMES_DIR};
use super::{Result, Store};
use crate::fsutil;
use crate::name::VolumeName;

/// What a lease file says about its holder (for `rm`'s "in use" message and for humans).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LeaseInfo {
    pub id: String,
    pub pid: u32,
    pub holder: String,
    pub started_at: String,
    /// Set once a plugin mounted the volume for this lease (the lease id is the mount ID), so
    /// that a holder that died without unmounting is unmounted by the next myvol invocation.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mounted: bool,
}

/// Prefix of a pinned lease's file name.
pub const PIN_PREFIX: &str = "pin-";

/// A held lease. Dropping it releases the lock and removes the file.
#[derive(Debug)]
pub struct Lease {
    info: LeaseInfo,
    volume: VolumeName,
    leases_dir: OwnedFd,
    file: OwnedFd,
    /// Leave the file behind on drop (see [`Lease::abandon`]).
    keep: bool,
}

impl Lease {
    pub fn id(&self) -> &str {
        &self.info.id
    }

    pub fn volume(&self) -> &VolumeName {
        &self.volume
    }

    /// Record in the lease file that a plugin mounted the volume under this lease's id.
    pub fn mark_mounted(&mut self) -> std::io::Result<()> {
        self.info.mounted = true;
        let bytes = serde_json::to_vec(&self.info).map_err(std::io::Error::other)?;
        rfs::ftruncate(&self.file, 0)?;
        rustix::io::pwrite(&self.file, &bytes, 0)?;
        Ok(())
    }

    /// Release the lock but leave the file: the lease becomes dead, and what it records (a
    /// plugin mount that could not be undone now) is retried by the next myvol invocation.
    pub fn abandon(mut self) {
        self.keep = true;
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        // Unlink while still locked, so no checker ever sees it unlocked-but-published.
        if !self.keep {
            let _ = rfs::unlinkat(&self.leases_dir, self.info.id.as_str(), AtFlags::empty());
        }
    }
}

/// Take a lease in `leases_dir` (created if missing inside `volume_dir`). The caller holds
/// the store lock, so the volume cannot be removed between its existence check and this.
pub(super) fn acquire(volume_dir: BorrowedFd<'_>, volume: &VolumeName, holder: &str) -> std::io::Result<Lease> {
    let leases_dir = open_leases_dir(volume_dir, true)?.expect("created");
    let id = crate::name::random_hex_id();
    let tmp = format!("{LEASE_NEW_PREFIX}{id}");
    let fd = rfs::openat(
        &leases_dir,
        tmp.as_str(),
        OFlags::RDWR | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o600),
    )?;
    fsutil::lock_exclusive(fd.as_fd())?;
    let info = new_info(&id, holder);
    let mut f = std::fs::File::from(fd);
    f.write_all(&serde_json::to_vec(&info).unwrap_or_default())?;
    rfs::renameat(&leases_dir, tmp.as_str(), &leases_dir, id.as_str())?;
    Ok(Lease { info, volume: volume.clone(), leases_dir, file: f.into(), keep: false })
}

fn new_info(id: &str, holder: &str) -> LeaseInfo {
    LeaseInfo {
        id: id.to_owned(),
        pid: std::process::id(),
        holder: holder.to_owned(),
        started_at: jiff::Timestamp::now().to_string(),
        mounted: false,
    }
}

/// Create a pinned lease (see the module docs); returns its id (without the prefix). The
/// caller holds the store lock.
pub(super) fn pin(volume_dir: BorrowedFd<'_>, holder: &str) -> std::io::Result<String> {
    let leases_dir = open_leases_dir(volume_dir, true)?.expect("created");
    let id = crate::name::random_hex_id();
    let json = serde_json::to_vec(&new_info(&id, holder)).map_err(std::io::Error::other)?;
    let tmp = format!("{LEASE_NEW_PREFIX}{id}");
    fsutil::write_new(leases_dir.as_fd(), OsStr::new(&tmp), &json, 0o600)?;
    rfs::renameat(&leases_dir, tmp.as_str(), &leases_dir, format!("{PIN_PREFIX}{id}").as_str())?;
    Ok(id)
}

pub(super) fn open_leases_dir(volume_dir: BorrowedFd<'_>, create: bool) -> std::io::Result<Option<OwnedFd>> {
    let name = OsStr::new(super::layout::LEASES_DIR);
    match fsutil::open_dir(volume_dir, name) {
        Ok(fd) => Ok(Some(fd)),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) && create => {
            match rfs::mkdirat(volume_dir, name, Mode::from_raw_mode(LEASES_MODE)) {
                Ok(()) | Err(Errno::EXIST) => {}
                Err(e) => return Err(e.into()),
            }
            fsutil::open_dir(volume_dir, name).map(Some)
        }
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The ids of the live leases on a volume, sorted (a query: nothing is removed).
pub(super) fn live(volume_dir: BorrowedFd<'_>) -> std::io::Result<Vec<String>> {
    let Some(dir) = open_leases_dir(volume_dir, false)? else {
        return Ok(Vec::new());
    };
    scan(dir.as_fd(), false, |_, _| {})
}

/// Remove a volume's stale lease files (holder gone, unpublished leftovers) and list the ids
/// that keep it in use, sorted: the live leases, and the dead ones that record a plugin mount
/// not undone yet. Only a caller holding the store lock may reap; what it lists is what
/// `rm`, `prune`, `rename` and `import` refuse to work under.
pub(super) fn reap_and_list(volume_dir: BorrowedFd<'_>) -> std::io::Result<Vec<String>> {
    let Some(dir) = open_leases_dir(volume_dir, false)? else {
        return Ok(Vec::new());
    };
    scan(dir.as_fd(), true, |_, _| {})
}

/// The live leases in a `leases/` directory (no reaping).
pub(super) fn live_in(dir: BorrowedFd<'_>) -> std::io::Result<Vec<String>> {
    scan(dir, false, |_, _| {})
}

/// The dead (published, unlocked) leases in a `leases/` directory, with their content.
pub(super) fn dead_in(dir: BorrowedFd<'_>) -> std::io::Result<Vec<LeaseInfo>> {
    let mut dead = Vec::new();
    scan(dir, false, |name, fd| {
        let info = fsutil::read_fd(fd)
            .ok()
            .and_then(|b| serde_json::from_slice::<LeaseInfo>(&b).ok())
            .filter(|i| i.id.as_bytes() == name)
            .unwrap_or_else(|| new_info(&String::from_utf8_lossy(name), ""));
        dead.push(info);
    })?;
    Ok(dead)
}

/// The pinned leases in a `leases/` directory, oldest first.
pub(super) fn pins_in(dir: BorrowedFd<'_>) -> Vec<LeaseInfo> {
    let mut pins: Vec<LeaseInfo> = fsutil::list_dir(dir)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(name, _)| {
            let id = name.strip_prefix(PIN_PREFIX.as_bytes())?;
            let bytes = fsutil::read_small_file(dir, OsStr::from_bytes(&name)).ok()?;
            serde_json::from_slice::<LeaseInfo>(&bytes).ok().filter(|i| i.id.as_bytes() == id)
        })
        .collect();
    pins.sort_by(|a, b| a.started_at.cmp(&b.started_at).then(a.id.cmp(&b.id)));
    pins
}

fn records_mount(fd: BorrowedFd<'_>) -> bool {
    fsutil::read_fd(fd).ok().and_then(|b| serde_json::from_slice::<LeaseInfo>(&b).ok()).is_some_and(|i| i.mounted)
}

/// Walk a `leases/` directory: returns the live ids (pinned ones by file name); `on_dead`
/// sees each dead one (name, open fd) before `reap` removes it.
fn scan(
    dir: BorrowedFd<'_>,
    reap: bool,
    mut on_dead: impl FnMut(&[u8], BorrowedFd<'_>),
) -> std::io::Result<Vec<String>> {
    let mut ids = Vec::new();
    for (name, _) in fsutil::list_dir(dir)? {
        let os = OsStr::from_bytes(&name);
        if name.starts_with(PIN_PREFIX.as_bytes()) {
            ids.push(String::from_utf8_lossy(&name).into_owned());
            continue;
        }
        if name.starts_with(LEASE_NEW_PREFIX.as_bytes()) {
            // Unpublished: its creator holds the store lock while it exists, so under our
            // own store lock it is a crash leftover.
            if reap {
                let _ = rfs::unlinkat(dir, os, AtFlags::empty());
            }
            continue;
        }
        let fd = match rfs::openat(
            dir,
            os,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => fd,
            Err(Errno::NOENT) => continue,
            Err(e) => return Err(e.into()),
        };
        if fsutil::try_lock_shared(fd.as_fd())? {
            on_dead(&name, fd.as_fd());
            // A dead lease that records a plugin mount stays, and keeps the volume in use for
            // `rm`/`prune`/`rename`, until the plugin has unmounted it.
            if reap {
                if records_mount(fd.as_fd()) {
                    ids.push(String::from_utf8_lossy(&name).into_owned());
                } else {
                    let _ = rfs::unlinkat(dir, os, AtFlags::empty());
                }
            }
        } else {
            ids.push(String::from_utf8_lossy(&name).into_owned());
        }
    }
    ids.sort();
    Ok(ids)
}

impl Store {
    /// The ids of the live leases on a volume (empty: not in use, or no such volume).
    pub fn users(&self, name: &VolumeName) -> Result<Vec<String>> {
        let Some(h) = self.open_read()? else {
            return Ok(Vec::new());
        };
        let vdir = match fsutil::open_dir(h.volumes.as_fd(), OsStr::new(name)) {
            Ok(fd) => fd,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Ok(Vec::new()),
            Err(e) => return Err(self.io("open", VOLUMES_DIR, e)),
        };
        live(vdir.as_fd()).map_err(|e| self.io("read", VOLUMES_DIR, e))
    }

    /// Take an in-use lease on an existing volume, held until the returned value is dropped
    /// or the process dies. `holder` says who holds it (`run`, `mount`).
    pub fn lease(&self, name: &VolumeName, holder: &str) -> Result<Lease> {
        let h = self.open_write()?;
        let vdir = self.open_volume_dir(&h, name)?;
        acquire(vdir.as_fd(), name, holder).map_err(|e| self.io("lease", VOLUMES_DIR, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreError;
    use crate::store::layout::LEASES_DIR;
    use crate::store::testutil::*;

    fn leases_dir(t: &TempStore, v: &str) -> std::path::PathBuf {
        t.root().join(VOLUMES_DIR).join(v).join(LEASES_DIR)
    }

    #[test]
    fn a_lease_lives_while_held_and_its_file_goes_with_it() {
        let t = TempStore::new();
        t.create("v1");
        let (a, b) = (t.store.lease(&name("v1"), "run").unwrap(), t.store.lease(&name("v1"), "mount").unwrap());
        let mut ids = vec![a.id().to_owned(), b.id().to_owned()];
        ids.sort();
        assert_eq!(t.store.users(&name("v1")).unwrap(), ids);
        assert_eq!(a.volume(), &name("v1"));
        let info: LeaseInfo =
            serde_json::from_slice(&std::fs::read(leases_dir(&t, "v1").join(a.id())).unwrap()).unwrap();
        assert_eq!((info.pid, info.holder.as_str(), info.mounted), (std::process::id(), "run", false));
        drop(a);
        assert_eq!(t.store.users(&name("v1")).unwrap(), [b.id()]);
        drop(b);
        assert!(entries(&leases_dir(&t, "v1")).is_empty());
        assert!(matches!(t.store.lease(&name("nope"), "run"), Err(StoreError::NotFound(n)) if n == "nope"));
    }

    #[test]
    fn a_stale_lease_is_not_live_and_is_reaped_only_when_asked() {
        let t = TempStore::new();
        t.create("v1");
        let lease = t.store.lease(&name("v1"), "run").unwrap();
        let id = lease.id().to_owned();
        // A holder that died: its lock is gone, its file stays.
        lease.abandon();
        assert!(t.store.users(&name("v1")).unwrap().is_empty());
        let vdir = t.open_dir("volumes/v1");
        assert!(live(vdir.as_fd()).unwrap().is_empty());
        assert_eq!(entries(&leases_dir(&t, "v1")), [id.as_str()], "a query removes nothing");
        // An unpublished leftover of a crashed acquire.
        std::fs::write(leases_dir(&t, "v1").join(format!("{LEASE_NEW_PREFIX}x")), "").unwrap();
        assert!(reap_and_list(vdir.as_fd()).unwrap().is_empty());
        assert!(entries(&leases_dir(&t, "v1")).is_empty());
    }

    #[test]
    fn a_dead_lease_that_records_a_plugin_mount_keeps_the_volume_in_use() {
        let t = TempStore::new();
        t.create("v1");
        let mut lease = t.store.lease(&name("v1"), "run").unwrap();
        lease.mark_mounted().unwrap();
        let id = lease.id().to_owned();
        lease.abandon();
        let vdir = t.open_dir("volumes/v1");
        assert!(live(vdir.as_fd()).unwrap().is_empty(), "no live holder");
        assert_eq!(reap_and_list(vdir.as_fd()).unwrap(), [id.as_str()], "but the mount is not undone");
        assert_eq!(entries(&leases_dir(&t, "v1")), [id.as_str()]);
        let leases = t.open_dir(&format!("volumes/v1/{LEASES_DIR}"));
        let dead = dead_in(leases.as_fd()).unwrap();
        assert_eq!(dead.len(), 1);
        assert!(dead[0].mounted && dead[0].id == id);
    }

    #[test]
    fn pinned_leases_are_live_until_removed() {
        let t = TempStore::new();
        t.create("v1");
        let vdir = t.open_dir("volumes/v1");
        let id = pin(vdir.as_fd(), "mount").unwrap();
        let pinned = format!("{PIN_PREFIX}{id}");
        assert_eq!(t.store.users(&name("v1")).unwrap(), [pinned.as_str()]);
        assert_eq!(reap_and_list(vdir.as_fd()).unwrap(), [pinned.as_str()]);
        let leases = t.open_dir(&format!("volumes/v1/{LEASES_DIR}"));
        let pins = pins_in(leases.as_fd());
        assert_eq!(pins.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), [id.as_str()]);
    }
}
