//! Image leases: a run that uses an image holds a file `images/leases/<image hex>/<id>` with
//! an exclusive flock(2) for its whole life, as volume leases do (src/store/lease.rs): the
//! kernel drops the lock when the holder exits or is killed, so a dead run's lease is stale by
//! itself, and is reaped by the next `rmi`/`prune`. A lease file is created as `.new-<id>`,
//! locked, then renamed into place; checkers try a shared lock without blocking.

use std::ffi::OsStr;
use std::io::Write;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use rustix::fs::{self as rfs, AtFlags, Mode, OFlags};
use rustix::io::Errno;
use serde::{Deserialize, Serialize};

use super::ImageError;
use super::digest::Digest;
use super::store::{ImageStore, LEASES_DIR};
use crate::fsutil;

const NEW_PREFIX: &str = ".new-";

/// What a lease file says about its holder.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImageLeaseInfo {
    pub id: String,
    pub image: String,
    pub pid: u32,
    pub holder: String,
    pub started_at: String,
}

/// A held image lease. Dropping it releases the image.
#[derive(Debug)]
pub struct ImageLease {
    info: ImageLeaseInfo,
    dir: OwnedFd,
    _file: OwnedFd,
}

impl ImageLease {
    /// The lease id (64 hex), shown as the "container" in Docker's conflict messages.
    pub fn id(&self) -> &str {
        &self.info.id
    }

    /// The image ID held.
    pub fn image(&self) -> &str {
        &self.info.image
    }
}

impl Drop for ImageLease {
    fn drop(&mut self) {
        // Unlinked while still locked: no checker sees it published and unlocked.
        let _ = rfs::unlinkat(&self.dir, self.info.id.as_str(), AtFlags::empty());
    }
}

/// Take a lease on image `id`; the caller holds the image store lock and checked that the
/// image exists.
pub(super) fn acquire(
    store: &ImageStore,
    images: BorrowedFd<'_>,
    id: &Digest,
    holder: &str,
) -> Result<ImageLease, ImageError> {
    let rel = format!("{LEASES_DIR}/{}", id.hex());
    let io_err = |e: std::io::Error| store.io("lease", &rel, e);
    let leases = match fsutil::open_dir(images, OsStr::new(LEASES_DIR)) {
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
            // A store made before leases existed: made here, under the store lock.
            match rfs::mkdirat(images, LEASES_DIR, Mode::from_raw_mode(0o700)) {
                Ok(()) | Err(Errno::EXIST) => fsutil::open_dir(images, OsStr::new(LEASES_DIR)),
                Err(e) => Err(e.into()),
            }
        }
        other => other,
    }
    .map_err(io_err)?;
    match rfs::mkdirat(&leases, id.hex(), Mode::from_raw_mode(0o700)) {
        Ok(()) | Err(Errno::EXIST) => {}
        Err(e) => return Err(io_err(e.into())),
    }
    let dir = fsutil::open_dir(leases.as_fd(), OsStr::new(id.hex())).map_err(io_err)?;
    let lease_id = crate::name::random_hex_id();
    let tmp = format!("{NEW_PREFIX}{lease_id}");
    // Written as `.new-<id>` and renamed: a failure on the way leaves no `.new-` file.
    let mut staged = fsutil::TempFile::create(dir.as_fd(), OsStr::new(&tmp), 0o600).map_err(io_err)?;
    fsutil::lock_exclusive(staged.file().as_fd()).map_err(io_err)?;
    let info = ImageLeaseInfo {
        id: lease_id.clone(),
        image: id.to_string(),
        pid: std::process::id(),
        holder: holder.to_owned(),
        started_at: jiff::Timestamp::now().to_string(),
    };
    staged.file().write_all(&serde_json::to_vec(&info).unwrap_or_default()).map_err(io_err)?;
    let f = staged.rename_to(dir.as_fd(), OsStr::new(&lease_id)).map_err(io_err)?;
    Ok(ImageLease { info, dir, _file: f.into() })
}

/// The live lease ids on image `id`, sorted (a query: nothing is removed).
pub(super) fn live(images: BorrowedFd<'_>, id: &Digest) -> Vec<String> {
    scan(images, id, false)
}

/// Remove image `id`'s stale lease files (holder gone, unpublished leftovers) and list the
/// live ones, sorted. Only a caller holding the store lock may call this.
pub(super) fn reap_and_list(images: BorrowedFd<'_>, id: &Digest) -> Vec<String> {
    scan(images, id, true)
}

/// The live lease ids on image `id`, sorted; with `reap`, stale files are removed on the way.
fn scan(images: BorrowedFd<'_>, id: &Digest, reap: bool) -> Vec<String> {
    let rel = format!("{LEASES_DIR}/{}", id.hex());
    let Ok(dir) = fsutil::open_dir(images, OsStr::new(&rel)) else { return Vec::new() };
    let mut ids = Vec::new();
    for (name, _) in fsutil::list_dir(dir.as_fd()).unwrap_or_default() {
        let os = OsStr::from_bytes(&name);
        if name.starts_with(NEW_PREFIX.as_bytes()) {
            // Unpublished: its creator holds the store lock while it exists.
            if reap {
                let _ = rfs::unlinkat(&dir, os, AtFlags::empty());
            }
            continue;
        }
        let Ok(fd) = rfs::openat(
            &dir,
            os,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        ) else {
            continue;
        };
        if fsutil::try_lock_shared(fd.as_fd()).unwrap_or(false) {
            if reap {
                let _ = rfs::unlinkat(&dir, os, AtFlags::empty());
            }
        } else {
            ids.push(String::from_utf8_lossy(&name).into_owned());
        }
    }
    ids.sort();
    ids
}
