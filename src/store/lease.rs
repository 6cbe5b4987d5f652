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

use std::ffi::OsStr;
use std::io::Write;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use rustix::fs::{self as rfs, AtFlags, Mode, OFlags};
use rustix::io::Errno;
use serde::{Deserialize, Serialize};

use super::layout::{LEASE_NEW_PREFIX, LEASES_MODE};
use crate::fsutil;

/// What a lease file says about its holder (for `rm`'s "in use" message and for humans).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LeaseInfo {
    pub id: String,
    pub pid: u32,
    pub holder: String,
    pub started_at: String,
}

/// A held lease. Dropping it releases the lock and removes the file.
#[derive(Debug)]
pub struct Lease {
    id: String,
    volume: String,
    leases_dir: OwnedFd,
    _file: OwnedFd,
}

impl Lease {
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn volume(&self) -> &str {
        &self.volume
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        // Unlink while still locked, so no checker ever sees it unlocked-but-published.
        let _ = rfs::unlinkat(&self.leases_dir, self.id.as_str(), AtFlags::empty());
    }
}

/// Take a lease in `leases_dir` (created if missing inside `volume_dir`). The caller holds
/// the store lock, so the volume cannot be removed between its existence check and this.
pub(super) fn acquire(volume_dir: BorrowedFd<'_>, volume: &str, holder: &str) -> std::io::Result<Lease> {
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
    let info = LeaseInfo {
        id: id.clone(),
        pid: std::process::id(),
        holder: holder.to_owned(),
        started_at: jiff::Timestamp::now().to_string(),
    };
    let mut f = std::fs::File::from(fd);
    f.write_all(&serde_json::to_vec(&info).unwrap_or_default())?;
    rfs::renameat(&leases_dir, tmp.as_str(), &leases_dir, id.as_str())?;
    Ok(Lease { id, volume: volume.to_owned(), leases_dir, _file: f.into() })
}

fn open_leases_dir(volume_dir: BorrowedFd<'_>, create: bool) -> std::io::Result<Option<OwnedFd>> {
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

/// The ids of the live leases on a volume, sorted. With `reap`, stale lease files (holder
/// gone) are removed on the way; only a caller holding the store lock may reap.
pub(super) fn live(volume_dir: BorrowedFd<'_>, reap: bool) -> std::io::Result<Vec<String>> {
    let Some(dir) = open_leases_dir(volume_dir, false)? else {
        return Ok(Vec::new());
    };
    let mut ids = Vec::new();
    for (name, _) in fsutil::list_dir(dir.as_fd())? {
        let os = OsStr::from_bytes(&name);
        if name.starts_with(LEASE_NEW_PREFIX.as_bytes()) {
            // Unpublished: its creator holds the store lock while it exists, so under our
            // own store lock it is a crash leftover.
            if reap {
                let _ = rfs::unlinkat(&dir, os, AtFlags::empty());
            }
            continue;
        }
        let fd = match rfs::openat(
            &dir,
            os,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => fd,
            Err(Errno::NOENT) => continue,
            Err(e) => return Err(e.into()),
        };
        if fsutil::try_lock_shared(fd.as_fd())? {
            if reap {
                let _ = rfs::unlinkat(&dir, os, AtFlags::empty());
            }
        } else {
            ids.push(String::from_utf8_lossy(&name).into_owned());
        }
    }
    ids.sort();
    Ok(ids)
}
