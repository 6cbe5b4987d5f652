//! In-use leases. A process that uses a volume (a `myvol run`, a `volume mount`, an export)
//! holds a lease for its whole life: a file `volumes/<name>/leases/<id>` on which it holds an
//! exclusive flock(2). The kernel drops the lock when the holder's last fd closes, so a crash
//! (even SIGKILL) releases the lease by itself.
//!
//! A lease file is made in `tmp/` as `lease-<id>` (written, locked), and published with
//! `linkat` as `leases/<id>`: a second name of the same inode, so the same lock. The holder
//! removes both names when it ends; a holder killed leaves them, and the next mutation, which
//! looks at `tmp/` anyway, finds the `tmp/` name unlocked and removes both. A published lease
//! file that is not locked is therefore always a dead holder's. Checkers try a *shared* lock
//! without blocking: it fails exactly when a holder is alive, and two checkers never disturb
//! each other or a holder.
//!
//! A lease says whether its holder only reads the volume (an export, a clone's source, a
//! read-only mount in a run): `volume import --force` replaces the content under readers (they
//! keep the old tree until they end), never under writers.
//!
//! A *pinned* lease (`volume mount`) is a file `leases/pin-<id>` that no process holds: it is
//! live until `volume unmount` deletes it.
//!
//! On a store that is mounted read-only, where no file can be made, an export holds a
//! *reader's lock* instead: a shared flock on the volume's directory. Mutations (through a
//! writable mount of the same store) see it when they take that directory's lock.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io::Write;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use rustix::fs::{self as rfs, AtFlags, Mode, OFlags};
use rustix::io::Errno;
use serde::{Deserialize, Serialize};

use super::layout::{
    LEASE_INDEX_PREFIX, LEASE_NEW_PREFIX, LEASES_DIR, LEASES_MODE, PIN_STAGING_PREFIX, VOLUMES_DIR, root_rel,
};
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
    /// The holder only reads the volume. Absent (older leases, pins): it may write.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
    /// The volume, for the cleaner that finds the lease's `tmp/` name after a crash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume: Option<String>,
    /// The holder's labels (a run's `-l`, Compose's container labels). Absent: none.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// How a lease's holder uses the volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Reads only: an export, a clone's source, a read-only mount.
    ReadOnly,
    /// May write (what a lease is when nothing says otherwise).
    ReadWrite,
}

/// Prefix of a pinned lease's file name.
pub const PIN_PREFIX: &str = "pin-";

/// The id shown for a reader's lock (an export from a read-only mount of the store), which
/// has no lease file and so no id of its own.
pub const READER_ID: &str = "read-only-export";

/// A held lease. Dropping it releases the lock and removes the file.
#[derive(Debug)]
pub struct Lease {
    info: LeaseInfo,
    volume: VolumeName,
    held: Held,
}

#[derive(Debug)]
enum Held {
    /// A lease file, and its name in `tmp/`.
    File {
        leases_dir: OwnedFd,
        file: OwnedFd,
        tmp: OwnedFd,
        /// Leave the published file behind on drop (see [`Lease::abandon`]).
        keep: bool,
    },
    /// A shared flock on the volume's directory (a read-only store).
    Reader { _dir: OwnedFd },
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
        let Held::File { file, .. } = &self.held else {
            return Err(std::io::Error::from(Errno::ROFS));
        };
        self.info.mounted = true;
        let bytes = serde_json::to_vec(&self.info).map_err(std::io::Error::other)?;
        // Longer than what it replaces: written over it, then cut to length, so that a crash
        // in between leaves the new record whole (followed by nothing that parses).
        rustix::io::pwrite(file, &bytes, 0)?;
        rfs::ftruncate(file, bytes.len() as u64)?;
        Ok(())
    }

    /// Release the lock but leave the file: the lease becomes dead, and what it records (a
    /// plugin mount that could not be undone now) is retried by the next myvol invocation.
    pub fn abandon(mut self) {
        if let Held::File { keep, .. } = &mut self.held {
            *keep = true;
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Held::File { leases_dir, tmp, keep, .. } = &self.held {
            // Unlink while still locked, so no checker ever sees it unlocked-but-published.
            if !*keep {
                let _ = rfs::unlinkat(leases_dir, self.info.id.as_str(), AtFlags::empty());
            }
            let _ = rfs::unlinkat(tmp, index_name(&self.info.id).as_str(), AtFlags::empty());
        }
    }
}

/// `tmp/lease-<id>`.
fn index_name(id: &str) -> String {
    format!("{LEASE_INDEX_PREFIX}{id}")
}

/// Take a lease on the volume whose directory is `volume_dir` (its `leases/` made if
/// missing), made in `tmp` (the store's `tmp/`). The caller holds the store lock, so the
/// volume cannot be removed between its existence check and this, and no cleaner looks at
/// `tmp/` while the new file is not locked yet.
pub(super) fn acquire(
    tmp: BorrowedFd<'_>,
    volume_dir: BorrowedFd<'_>,
    volume: &VolumeName,
    holder: &str,
    access: Access,
    labels: &BTreeMap<String, String>,
) -> std::io::Result<Lease> {
    let mut info = new_info("", holder);
    info.read_only = access == Access::ReadOnly;
    info.volume = Some(volume.to_string());
    info.labels = labels.clone();
    // Every reader reads at most MAX_META_BYTES of a lease: a larger one is refused before
    // anything is made (a run's labels are checked against a far smaller limit first).
    // (The id, not set yet, takes 64 hex digits.)
    if serde_json::to_vec(&info).map_or(u64::MAX, |b| (b.len() + 64) as u64) > fsutil::MAX_META_BYTES {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "lease record too large"));
    }
    let leases_dir = open_leases_dir(volume_dir, true)?.expect("created");
    let tmp = rfs::openat(tmp, c".", OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())?;
    let id = crate::name::random_hex_id();
    let index = index_name(&id);
    info.id = id.clone();
    // The index file stays in `tmp/` while the lease lives; a failure on the way removes it.
    let mut index_file = fsutil::TempFile::create(tmp.as_fd(), OsStr::new(&index), 0o600)?;
    fsutil::lock_exclusive(index_file.file().as_fd())?;
    index_file.file().write_all(&serde_json::to_vec(&info).unwrap_or_default())?;
    rfs::linkat(&tmp, index.as_str(), &leases_dir, id.as_str(), AtFlags::empty())?;
    let file: OwnedFd = index_file.keep().into();
    Ok(Lease { info, volume: volume.clone(), held: Held::File { leases_dir, file, tmp, keep: false } })
}

/// Take a reader's lock on the volume `name` of the directory `volumes` (a read-only store):
/// a shared flock on the volume's directory, which must still be `volumes/<name>` once the
/// lock is held (a removal or rename that held the directory's lock first has moved it).
/// `Ok(None)` when the volume is not there (any more).
pub(super) fn acquire_reader(volumes: BorrowedFd<'_>, name: &VolumeName) -> std::io::Result<Option<Lease>> {
    let dir = match fsutil::open_dir(volumes, OsStr::new(name)) {
        Ok(fd) => fd,
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENAMETOOLONG)) => return Ok(None),
        Err(e) => return Err(e),
    };
    fsutil::lock_shared(dir.as_fd())?;
    let held = rfs::fstat(&dir)?;
    match rfs::statat(volumes, name.as_str(), AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) if (st.st_dev, st.st_ino) == (held.st_dev, held.st_ino) => {}
        Ok(_) | Err(Errno::NOENT) => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    let mut info = new_info(READER_ID, "export");
    info.read_only = true;
    Ok(Some(Lease { info, volume: name.clone(), held: Held::Reader { _dir: dir } }))
}

fn new_info(id: &str, holder: &str) -> LeaseInfo {
    LeaseInfo {
        id: id.to_owned(),
        pid: std::process::id(),
        holder: holder.to_owned(),
        started_at: jiff::Timestamp::now().to_string(),
        mounted: false,
        read_only: false,
        volume: None,
        labels: BTreeMap::new(),
    }
}

/// Create a pinned lease (see the module docs); returns its id (without the prefix). The
/// file is written in `tmp` and linked into `leases/`, so that it appears whole; what a crash
/// leaves in `tmp` is removed by the next mutation. The caller holds the store lock.
pub(super) fn pin(tmp: BorrowedFd<'_>, volume_dir: BorrowedFd<'_>, holder: &str) -> std::io::Result<String> {
    let leases_dir = open_leases_dir(volume_dir, true)?.expect("created");
    let id = crate::name::random_hex_id();
    let json = serde_json::to_vec(&new_info(&id, holder)).map_err(std::io::Error::other)?;
    let staged = format!("{PIN_STAGING_PREFIX}{id}");
    fsutil::write_new(tmp, OsStr::new(&staged), &json, 0o600)?;
    let linked = rfs::linkat(tmp, staged.as_str(), &leases_dir, format!("{PIN_PREFIX}{id}").as_str(), AtFlags::empty());
    let _ = rfs::unlinkat(tmp, staged.as_str(), AtFlags::empty());
    linked?;
    Ok(id)
}

pub(super) fn open_leases_dir(volume_dir: BorrowedFd<'_>, create: bool) -> std::io::Result<Option<OwnedFd>> {
    let name = OsStr::new(LEASES_DIR);
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

/// The ids of the live leases on a volume, sorted (a query: nothing is removed, and a
/// reader's lock on a read-only mount is not seen: looking for it takes a lock of its own).
pub(super) fn live(volume_dir: BorrowedFd<'_>) -> std::io::Result<Vec<String>> {
    let Some(dir) = open_leases_dir(volume_dir, false)? else {
        return Ok(Vec::new());
    };
    scan(dir.as_fd(), false, |_, _| {})
}

/// Remove a volume's stale lease files (holder gone, unpublished leftovers) and list the ids
/// that keep it in use, sorted: the live leases, a reader's lock ([`READER_ID`]), and the dead
/// leases that record a plugin mount not undone yet. Only a caller holding the store lock may
/// call this; what it lists is what `rm`, `prune`, `rename` and `import` refuse to work under.
pub(super) fn reap_and_list(volume_dir: BorrowedFd<'_>) -> std::io::Result<Vec<String>> {
    let mut ids = match open_leases_dir(volume_dir, false)? {
        Some(dir) => scan(dir.as_fd(), true, |_, _| {})?,
        None => Vec::new(),
    };
    if has_reader(volume_dir)? {
        ids.push(READER_ID.to_owned());
        ids.sort();
    }
    Ok(ids)
}

/// Whether someone holds a reader's lock on the volume directory. Looks with an exclusive
/// lock of a new open file of the directory, released at once; only callers that hold the
/// store lock look, so that two lookers never see each other.
fn has_reader(volume_dir: BorrowedFd<'_>) -> std::io::Result<bool> {
    let probe = rfs::openat(volume_dir, c".", OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())?;
    Ok(!fsutil::try_lock_exclusive(probe.as_fd())?)
}

/// Of the ids that [`reap_and_list`] gave, those whose holders `import --force` must not
/// replace the content under: writers (a lease not marked read-only, a pin, a dead lease that
/// records a plugin mount) and readers without a lease file ([`READER_ID`]: their old tree
/// cannot be kept for them).
pub(super) fn blocking_import(volume_dir: BorrowedFd<'_>, ids: &[String]) -> Vec<String> {
    let dir = open_leases_dir(volume_dir, false).ok().flatten();
    ids.iter()
        .filter(|id| {
            let reader = dir.as_ref().is_some_and(|d| {
                fsutil::read_small_file(d.as_fd(), OsStr::new(id.as_str()))
                    .ok()
                    .and_then(|b| serde_json::from_slice::<LeaseInfo>(&b).ok())
                    .is_some_and(|i| i.read_only && !i.mounted && i.id == **id)
            });
            !reader
        })
        .cloned()
        .collect()
}

/// Give each of the leases `ids` of the volume a second name in `dest` (hard links: the same
/// inodes, so the same locks). What `import --force` keeps with the old tree: the tree lives
/// until none of them is locked any more.
pub(super) fn link_into(volume_dir: BorrowedFd<'_>, ids: &[String], dest: BorrowedFd<'_>) -> std::io::Result<()> {
    let Some(dir) = open_leases_dir(volume_dir, false)? else {
        return Ok(());
    };
    for id in ids {
        match rfs::linkat(&dir, id.as_str(), dest, id.as_str(), AtFlags::empty()) {
            // Ended since it was listed: nothing to keep for it.
            Ok(()) | Err(Errno::NOENT) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Whether lease `id` in a `leases/` directory is held by a live process (a pin always is).
pub(super) fn is_live(dir: BorrowedFd<'_>, id: &str) -> bool {
    if id.starts_with(PIN_PREFIX) {
        return true;
    }
    match rfs::openat(dir, id, OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC, Mode::empty()) {
        Ok(fd) => fsutil::try_lock_shared(fd.as_fd()).is_ok_and(|free| !free),
        Err(_) => false,
    }
}

/// Whether any file in `dir` is a live lease (its lock held).
pub(super) fn any_live_in(dir: BorrowedFd<'_>) -> std::io::Result<bool> {
    Ok(!scan(dir, false, |_, _| {})?.is_empty())
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
    // By instant: RFC 3339 texts with fractions of different lengths do not sort as text.
    let when = |i: &LeaseInfo| i.started_at.parse::<jiff::Timestamp>().ok();
    pins.sort_by(|a, b| when(a).cmp(&when(b)).then(a.id.cmp(&b.id)));
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
            // Unpublished, as an older myvol made leases: its creator held the store lock
            // while it existed, so under our own store lock it is a crash leftover.
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

/// The cleaner's part for a file found in `tmp/` (or `trash/`, `runs/`) by the next mutation.
/// A lease's `tmp/lease-<id>`: if its holder is gone, remove the published lease it names
/// (unless it records a plugin mount, which the mount reconciliation still needs) and the
/// `tmp/` name; a live one is left alone. Any other file is a temporary whose writer is gone
/// (writers hold the store lock): removed. The caller holds the store lock.
pub(super) fn reap_index(tmp: BorrowedFd<'_>, volumes: BorrowedFd<'_>, entry: &OsStr) {
    if !entry.as_bytes().starts_with(LEASE_INDEX_PREFIX.as_bytes()) {
        let _ = rfs::unlinkat(tmp, entry, AtFlags::empty());
        return;
    }
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    if let Ok(fd) = rfs::openat(tmp, entry, flags, Mode::empty()) {
        if !fsutil::try_lock_shared(fd.as_fd()).unwrap_or(false) {
            return; // its holder lives
        }
        let info = fsutil::read_fd(fd.as_fd()).ok().and_then(|b| serde_json::from_slice::<LeaseInfo>(&b).ok());
        if let Some(info) = info
            && !info.mounted
            && let Some(volume) = info.volume.and_then(|v| VolumeName::from_string(v).ok())
            && let Ok(vdir) = fsutil::open_dir(volumes, OsStr::new(&volume))
            && let Ok(Some(leases)) = open_leases_dir(vdir.as_fd(), false)
            && let (Ok(ours), Ok(published)) =
                (rfs::fstat(&fd), rfs::statat(&leases, info.id.as_str(), AtFlags::SYMLINK_NOFOLLOW))
            && (ours.st_dev, ours.st_ino) == (published.st_dev, published.st_ino)
        {
            let _ = rfs::unlinkat(&leases, info.id.as_str(), AtFlags::empty());
        }
    }
    let _ = rfs::unlinkat(tmp, entry, AtFlags::empty());
}

impl Store {
    /// The ids of the live leases on a volume (empty: not in use, or no such volume).
    pub fn users(&self, name: &VolumeName) -> Result<Vec<String>> {
        let Some(h) = self.open_read()? else {
            return Ok(Vec::new());
        };
        let vdir = match fsutil::open_dir(h.volumes.as_fd(), OsStr::new(name)) {
            Ok(fd) => fd,
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::ENOENT | libc::ENOTDIR | libc::ELOOP | libc::ENAMETOOLONG)
                ) =>
            {
                return Ok(Vec::new());
            }
            Err(e) => return Err(self.io("open", VOLUMES_DIR, e)),
        };
        live(vdir.as_fd()).map_err(|e| self.io("read", VOLUMES_DIR, e))
    }

    /// Take an in-use lease on an existing volume, held until the returned value is dropped
    /// or the process dies. `holder` says who holds it (`run`, `mount`); the holder may write.
    pub fn lease(&self, name: &VolumeName, holder: &str) -> Result<Lease> {
        self.lease_as(name, holder, Access::ReadWrite)
    }

    /// [`Store::lease`], saying how the holder uses the volume.
    pub fn lease_as(&self, name: &VolumeName, holder: &str, access: Access) -> Result<Lease> {
        (|| {
            let h = self.open_write()?;
            let vdir = self.open_volume_dir(&h, name)?;
            acquire(h.tmp.as_fd(), vdir.as_fd(), name, holder, access, &BTreeMap::new())
                .map_err(|e| self.io("lease", &root_rel(name, LEASES_DIR), e))
        })()
        .map_err(|e| e.during(holder_op(holder), name))
    }
}

/// The operation a holder's errors are reported as (`run NAME: …`, `export NAME: …`).
fn holder_op(holder: &str) -> &'static str {
    match holder {
        "run" => "run",
        "mount" => "mount",
        "export" => "export",
        "clone" => "clone",
        "import" => "import",
        _ => "lease",
    }
}

#[cfg(test)]
mod tests;
