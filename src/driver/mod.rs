//! Volume drivers: what makes a volume usable for a process, and undoes it afterwards.
//!
//! * The **local** driver keeps content in the store (`_data`). With `type`/`device` options
//!   ([`local`]) it mounts a filesystem (tmpfs, a bind of a host directory, NFS, CIFS, a block
//!   device) on `_data`, in the host's mount namespace, when the first user arrives, and
//!   unmounts it when the last one leaves.
//! * Any other driver name is a Docker volume **plugin** ([`plugin`]): the plugin mounts the
//!   volume per user (one mount ID per lease) and returns the path to use.
//!
//! Users are counted with the store's in-use leases. Deciding to mount or unmount happens
//! under the volume's lock ([`VolumeLock`]), looking at the live leases, so two runs share one
//! mount and the last one out unmounts. A user that died (its lease lock is gone) no longer
//! counts: [`reconcile`], run at the start of every myvol invocation, unmounts what such a user
//! left behind; the store's `mounts/` index says which volumes to look at.

pub mod local;

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::store::{Lease, Store, StoreError, Volume, VolumeLock};
use crate::sys::{Linux, Syscall};
use local::LocalMountError;

/// The name of the built-in driver.
pub const LOCAL: &str = "local";

/// What went wrong making a volume usable (or undoing it), in Docker's words.
#[derive(Debug, Error)]
pub enum DriverError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("error while mounting volume '{}': {source}", path.display())]
    Mount { path: PathBuf, source: Box<LocalMountError> },
    #[error("error while unmounting volume '{}': {source}", path.display())]
    Unmount { path: PathBuf, source: Box<LocalMountError> },
    #[error("{op} {}: {}", path.display(), crate::store::errno_text(source))]
    Io { op: &'static str, path: PathBuf, source: std::io::Error },
}

type Result<T, E = DriverError> = std::result::Result<T, E>;

/// A volume made usable for one user. Its content is at [`Attachment::path`] until
/// [`Attachment::detach`] (or drop) gives it back.
#[derive(Debug)]
pub struct Attachment {
    store: Store,
    volume: Volume,
    lease: Option<Lease>,
    path: PathBuf,
}

impl Attachment {
    /// Where the volume's content is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn volume(&self) -> &Volume {
        &self.volume
    }

    /// Give the volume back: release the lease, and unmount if this was the last user.
    pub fn detach(mut self) -> Result<()> {
        self.release()
    }

    fn release(&mut self) -> Result<()> {
        let Some(lease) = self.lease.take() else {
            return Ok(());
        };
        if !local::needs_mount(self.volume.options.as_ref()) {
            drop(lease);
            return Ok(());
        }
        let lock = self.store.lock_volume(&self.volume.name)?;
        drop(lease);
        unmount_if_unused(&Linux, &self.store, &lock)
    }
}

impl Drop for Attachment {
    fn drop(&mut self) {
        let _ = self.release();
    }
}

/// Make `volume` usable for the holder of `lease` (taken by the caller, typically with
/// [`Store::create_leased`]): mount it if it has driver options and is not mounted yet.
pub fn attach(store: &Store, volume: Volume, lease: Lease) -> Result<Attachment> {
    let path = volume.mountpoint.clone();
    if local::needs_mount(volume.options.as_ref()) {
        let lock = store.lock_volume(&volume.name)?;
        mount_if_needed(&Linux, store, &lock, &volume)?;
    }
    Ok(Attachment { store: store.clone(), volume, lease: Some(lease), path })
}

/// Mount a local volume's options on `_data` unless something is mounted there already.
/// The caller holds the volume's lock.
fn mount_if_needed(sys: &dyn Syscall, store: &Store, lock: &VolumeLock, volume: &Volume) -> Result<()> {
    let path = lock.path().to_owned();
    let io = |op| {
        let path = path.clone();
        move |source| DriverError::Io { op, path, source }
    };
    if lock.is_mounted().map_err(io("stat"))? {
        return Ok(());
    }
    let opts = volume.options.clone().unwrap_or_default();
    let calls = local::mount_calls(&opts, &local::resolve_host)
        .map_err(|source| DriverError::Mount { path: path.clone(), source: Box::new(source) })?;
    store.set_mount_mark(lock, true)?;
    if let Err(source) = local::mount(sys, &calls, &|| lock.data(), &path) {
        // Undo a partial mount (the first call succeeded, a later one failed).
        if lock.is_mounted().unwrap_or(false)
            && let Ok(target) = lock.data()
        {
            let _ = local::unmount(sys, target.as_fd(), &path);
        }
        let _ = store.set_mount_mark(lock, false);
        return Err(DriverError::Mount { path, source: Box::new(source) });
    }
    Ok(())
}

/// After a user left: unmount a local volume's `_data` if no live lease remains, and clear
/// its mark. The caller holds the volume's lock.
fn unmount_if_unused(sys: &dyn Syscall, store: &Store, lock: &VolumeLock) -> Result<()> {
    let path = lock.path().to_owned();
    let io = |op, source| DriverError::Io { op, path: path.clone(), source };
    if !lock.live().map_err(|e| io("read", e))?.is_empty() {
        return Ok(());
    }
    while lock.is_mounted().map_err(|e| io("stat", e))? {
        let target = lock.data().map_err(|e| io("open", e))?;
        local::unmount(sys, target.as_fd(), &path)
            .map_err(|source| DriverError::Unmount { path: path.clone(), source: Box::new(source) })?;
    }
    store.set_mount_mark(lock, false)?;
    Ok(())
}

/// Undo what users that died left mounted: for every volume in the store's `mounts/` index
/// with no live user, unmount it. Cheap when nothing is marked (one directory read); errors
/// are left for the next invocation (an unprivileged user cannot unmount, for one).
pub fn reconcile(store: &Store) {
    for name in store.mount_marks() {
        let lock = match store.lock_volume(&name) {
            Ok(l) => l,
            Err(StoreError::NotFound(_)) => {
                store.clear_mount_mark(&name);
                continue;
            }
            Err(_) => continue,
        };
        match store.get(&name) {
            Ok(v) if local::needs_mount(v.options.as_ref()) => {
                let _ = unmount_if_unused(&Linux, store, &lock);
            }
            Ok(_) => {
                if lock.live().is_ok_and(|l| l.is_empty()) {
                    let _ = store.set_mount_mark(&lock, false);
                }
            }
            Err(StoreError::NotFound(_)) => store.clear_mount_mark(&name),
            Err(_) => {}
        }
    }
}

/// `volume mount NAME`: pin a lease on the volume, mount it if it needs mounting, and return
/// where its content is. The volume stays in use until [`unmount_pinned`].
pub fn mount_pinned(store: &Store, name: &str) -> Result<PathBuf> {
    let volume = store.get(name)?;
    let id = store.pin(name, "mount")?;
    if !local::needs_mount(volume.options.as_ref()) {
        return Ok(volume.mountpoint);
    }
    let lock = store.lock_volume(name)?;
    if let Err(e) = mount_if_needed(&Linux, store, &lock, &volume) {
        store.unpin(&lock, &id);
        return Err(e);
    }
    Ok(volume.mountpoint)
}

/// `volume unmount NAME`: drop one pinned lease (none: nothing to do, as podman) and unmount
/// the volume if nobody else uses it.
pub fn unmount_pinned(store: &Store, name: &str) -> Result<()> {
    let volume = store.get(name)?;
    let lock = store.lock_volume(name)?;
    let Some(pin) = store.pins(&lock).pop() else {
        return Ok(());
    };
    store.unpin(&lock, &pin.id);
    if local::needs_mount(volume.options.as_ref()) {
        unmount_if_unused(&Linux, store, &lock)?;
    }
    Ok(())
}
