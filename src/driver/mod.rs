//! Volume drivers: what makes a volume usable for a process, and undoes it afterwards.
//!
//! * The **local** driver keeps content in the store (`_data`). With `type`/`device` options
//!   ([`local`]) it mounts a filesystem (tmpfs, a bind of a host directory, NFS, CIFS, a block
//!   device) on `_data`, in the host's mount namespace, when the first user arrives, and
//!   unmounts it when the last one leaves.
//! * Any other driver name is a Docker volume **plugin** ([`plugin`]): the plugin mounts the
//!   volume per user (one mount ID per lease) and returns the path to use. That path is
//!   checked and opened at once ([`plugin::mountpoint`]); a run binds the opened directory
//!   ([`Attachment::opened`]), never the path looked up again.
//!
//! Users are counted with the store's in-use leases. Deciding to mount or unmount happens
//! under the volume's mount lock ([`MountLock`]), looking at the live leases, so two runs share one
//! mount and the last one out unmounts. A user that died (its lease lock is gone) no longer
//! counts: [`reconcile`], run at the start of every myvol invocation, unmounts what such a user
//! left behind; the store's `mounts/` index says which volumes to look at.
//!
//! The plugins a command can reach ([`Plugins`]) are found once, at the command line's edge,
//! and handed to what needs them.

pub mod local;
pub mod plugin;
mod plugin_adapter;
pub mod quota;

use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use thiserror::Error;

use crate::name::VolumeName;
use crate::store::{Lease, MountLock, QuotaMode, Store, StoreError, Volume};
use crate::sys::{Linux, Syscall};
use crate::text::echo_path;
use local::LocalMountError;
use plugin::{PluginError, VolumePlugin};
pub use plugin_adapter::{PluginDriverError, Plugins, describe, fill_mountpoints};

/// The name of the built-in driver.
pub const LOCAL: &str = crate::store::LOCAL_DRIVER;

/// What went wrong making a volume usable (or undoing it), in Docker's words.
#[derive(Debug, Error)]
pub enum DriverError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("error while mounting volume '{}': {source}", echo_path(path))]
    Mount { path: PathBuf, source: Box<LocalMountError> },
    #[error("error while unmounting volume '{}': {source}", echo_path(path))]
    Unmount { path: PathBuf, source: Box<LocalMountError> },
    #[error("{op} {}: {}", echo_path(path), crate::text::errno_text(source))]
    Io { op: &'static str, path: PathBuf, source: std::io::Error },
    /// A plugin volume: Docker names the volume's path; a plugin volume has none before it
    /// is mounted, so its name is shown.
    #[error("error while mounting volume '{name}': {source}")]
    PluginMount { name: VolumeName, source: PluginDriverError },
    #[error("error while unmounting volume '{name}': {source}")]
    PluginUnmount { name: VolumeName, source: PluginDriverError },
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
    /// The plugin that mounted a plugin volume.
    plugin: Option<VolumePlugin>,
    /// A plugin volume's mountpoint, opened when it was checked; closed before the plugin is
    /// asked to unmount (an open fd would keep its mount busy).
    opened: Option<Arc<OwnedFd>>,
}

impl Attachment {
    /// Where the volume's content is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A plugin volume's checked mountpoint, for the run to bind by fd (`None` for a local
    /// volume, whose path is the store's).
    pub fn opened(&self) -> Option<crate::runtime::OpenedSource> {
        self.opened.as_ref().map(crate::runtime::OpenedSource::new)
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
        self.opened = None;
        if let Some(p) = self.plugin.take() {
            let lock = self.store.mount_lock(&self.volume.name)?;
            return plugin_unmount(&self.store, &lock, &p, lease);
        }
        if !mounted_when_used(&self.volume) {
            drop(lease);
            return Ok(());
        }
        let lock = self.store.mount_lock(&self.volume.name)?;
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
/// A plugin volume is mounted by its plugin (one of `plugins`), under the lease's id as
/// mount ID.
pub fn attach(store: &Store, plugins: &Plugins, volume: Volume, mut lease: Lease) -> Result<Attachment> {
    if volume.driver != LOCAL {
        let mount_error = |source| DriverError::PluginMount { name: volume.name.clone(), source };
        let p = plugins.activate(&volume.driver).map_err(mount_error)?;
        let lock = store.mount_lock(&volume.name)?;
        store.set_mount_mark(&lock, true)?;
        // Recorded before the plugin is asked, so that a crash from here on (before or after
        // its answer) leaves a dead lease that says so, and the next invocation sends the
        // Unmount; a plugin ignores an Unmount for an ID it did not mount.
        lease.mark_mounted().map_err(|e| mount_error(PluginDriverError::RecordMount(e)))?;
        let answer = p.mount(volume.name.as_str(), lease.id()).map_err(|e| mount_error(e.into()))?;
        let checked = match checked_mountpoint(store, &p, volume.name.as_str(), answer) {
            Ok(m) => m,
            Err(e) => {
                let _ = p.unmount(volume.name.as_str(), lease.id());
                return Err(mount_error(e.into()));
            }
        };
        // Tests swap the path here: what is bound must stay what was checked.
        crate::failpoint::hit("plugin-mountpoint-checked");
        let (path, fd) = checked.into_parts();
        return Ok(Attachment {
            store: store.clone(),
            volume,
            lease: Some(lease),
            path,
            plugin: Some(p),
            opened: Some(Arc::new(fd)),
        });
    }
    let path = volume.mountpoint.clone();
    if mounted_when_used(&volume) {
        let lock = store.mount_lock(&volume.name)?;
        mount_if_needed(&Linux, store, &lock, &volume)?;
    }
    Ok(Attachment { store: store.clone(), volume, lease: Some(lease), path, plugin: None, opened: None })
}

/// The mountpoint plugin `p` answered for `volume`, checked against the rule of
/// [`plugin::mountpoint`] and opened.
fn checked_mountpoint(
    store: &Store,
    p: &VolumePlugin,
    volume: &str,
    answer: String,
) -> Result<plugin::Mountpoint, PluginError> {
    plugin::mountpoint::open(&answer, store.root()).map_err(|reason| PluginError::BadMountpoint {
        plugin: p.name().to_owned(),
        volume: volume.to_owned(),
        mountpoint: answer,
        reason,
    })
}

/// Unmount a plugin volume for `lease`'s holder. When the plugin cannot be reached, the
/// lease is left behind (dead, recording the mount) for the next invocation to retry.
fn plugin_unmount(store: &Store, lock: &MountLock, p: &VolumePlugin, lease: Lease) -> Result<()> {
    match p.unmount(lock.name().as_str(), lease.id()) {
        Ok(()) => {
            drop(lease);
            clear_plugin_mark(store, lock);
            Ok(())
        }
        Err(e) => {
            lease.abandon();
            Err(DriverError::PluginUnmount { name: lock.name().clone(), source: e.into() })
        }
    }
}

/// Clear a plugin volume's mark when no user is left and no dead user's mount is pending.
fn clear_plugin_mark(store: &Store, lock: &MountLock) {
    let idle = lock.live().is_ok_and(|l| l.is_empty()) && lock.dead().is_ok_and(|d| d.iter().all(|i| !i.mounted));
    if idle {
        let _ = store.set_mount_mark(lock, false);
    }
}

/// Mount a local volume's options on `_data` unless something is mounted there already.
/// The caller holds the volume's lock.
fn mount_if_needed(sys: &dyn Syscall, store: &Store, lock: &MountLock, volume: &Volume) -> Result<()> {
    let path = lock.path().to_owned();
    let io = |op| {
        let path = path.clone();
        move |source| DriverError::Io { op, path, source }
    };
    if lock.is_mounted().map_err(io("stat"))? {
        return Ok(());
    }
    store.set_mount_mark(lock, true)?;
    let mounted = if is_image(volume) {
        mount_image(sys, lock)
    } else {
        let opts = volume.options.clone().unwrap_or_default();
        local::mount_calls(&opts, &local::resolve_host)
            .and_then(|calls| local::mount(sys, &calls, &|| lock.data(), &path))
    };
    if let Err(source) = mounted {
        // Undo a partial mount (the first call succeeded, a later one failed).
        if lock.is_mounted().unwrap_or(false)
            && let Ok(target) = lock.data()
        {
            let _ = local::unmount(sys, target.as_fd(), &path);
        }
        if !lock.is_mounted().unwrap_or(true) {
            let _ = store.set_mount_mark(lock, false);
        }
        return Err(DriverError::Mount { path, source: Box::new(source) });
    }
    Ok(())
}

/// Whether a local volume's `_data` has something mounted on it while it is used: a
/// filesystem its driver options name (`type`, `device`), or its disk image.
pub fn mounted_when_used(v: &Volume) -> bool {
    local::needs_mount(v.options.as_ref()) || is_image(v)
}

/// Whether a volume's content is a disk image (its size limit's mode).
pub fn is_image(v: &Volume) -> bool {
    v.quota.is_some_and(|q| q.mode == QuotaMode::Image)
}

/// Mount a volume's disk image on its `_data`: bind the image to a loop device (with
/// autoclear, so that the device lets go of it after the unmount), then mount that device as
/// ext4, as a `device=/dev/…` volume is mounted.
fn mount_image(sys: &dyn Syscall, lock: &MountLock) -> Result<(), LocalMountError> {
    let image_path = lock.path().with_file_name(quota::IMAGE);
    let loop_error = |error| LocalMountError::Loop { image: image_path.clone(), error };
    let image = lock.image().map_err(loop_error)?;
    let dev = sys.loop_attach(image.as_fd(), false, &image_path.to_string_lossy()).map_err(loop_error)?;
    let call = local::MountCall { source: dev.path.clone(), fstype: "ext4".into(), flags: 0, data: String::new() };
    local::mount(sys, &[call], &|| lock.data(), lock.path())
    // `dev` is closed here: from now on the mount alone holds the device.
}

/// How long the last user waits for a disk image's loop device to let go of it.
const LOOP_RELEASE_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

/// After a user left: unmount a local volume's `_data` if no live lease remains, and clear
/// its mark. The caller holds the volume's lock.
fn unmount_if_unused(sys: &dyn Syscall, store: &Store, lock: &MountLock) -> Result<()> {
    let path = lock.path().to_owned();
    let io = |op, source| DriverError::Io { op, path: path.clone(), source };
    if !lock.live().map_err(|e| io("read", e))?.is_empty() {
        return Ok(());
    }
    let mut loops = Vec::new();
    while lock.is_mounted().map_err(|e| io("stat", e))? {
        let target = lock.data().map_err(|e| io("open", e))?;
        let dev = rustix::fs::fstat(&target).map_err(|e| io("stat", e.into()))?.st_dev;
        local::unmount(sys, target.as_fd(), &path)
            .map_err(|source| DriverError::Unmount { path: path.clone(), source: Box::new(source) })?;
        loops.push(dev);
    }
    // A disk image's loop device lets go of the image once the unmounted filesystem is
    // released, which the kernel may finish after the unmount returns: wait for it, so that
    // when the last user is gone the image is free (`volume rm` frees its space at once).
    let image = path.with_file_name(quota::IMAGE);
    for dev in loops {
        crate::sys::disk::wait_loop_released(dev, &image, LOOP_RELEASE_LIMIT);
    }
    store.set_mount_mark(lock, false)?;
    Ok(())
}

/// Undo what users that died left mounted: for every volume in the store's `mounts/` index
/// with no live user, unmount it. Cheap when nothing is marked (one directory read); errors
/// are left for the next invocation (an unprivileged user cannot unmount, for one).
pub fn reconcile(store: &Store, plugins: &Plugins) {
    for mark in store.mount_marks() {
        // An entry that is not a volume name marks no volume.
        let name = match VolumeName::from_string(mark) {
            Ok(name) => name,
            Err(mark) => {
                store.clear_mount_mark(&mark);
                continue;
            }
        };
        // A volume being mounted or unmounted right now is left alone: its lock may be held
        // across a slow plugin or NFS call, and the holder sees the leases itself.
        let lock = match store.try_mount_lock(&name) {
            Ok(Some(l)) => l,
            Ok(None) => continue,
            Err(StoreError::NotFound(_)) => {
                store.clear_mount_mark(name.as_str());
                continue;
            }
            Err(_) => continue,
        };
        match store.get(&name) {
            Ok(v) if v.driver != LOCAL => {
                let dead = lock.dead().unwrap_or_default();
                let mut plugin = None;
                for d in dead {
                    if !d.mounted {
                        lock.forget(&d.id);
                        continue;
                    }
                    if plugin.is_none() {
                        plugin = plugins.activate_quick(&v.driver).ok();
                    }
                    if let Some(p) = &plugin
                        && p.unmount(name.as_str(), &d.id).is_ok()
                    {
                        lock.forget(&d.id);
                    }
                }
                clear_plugin_mark(store, &lock);
            }
            Ok(v) if mounted_when_used(&v) => {
                let _ = unmount_if_unused(&Linux, store, &lock);
            }
            Ok(_) => {
                if lock.live().is_ok_and(|l| l.is_empty()) {
                    let _ = store.set_mount_mark(&lock, false);
                }
            }
            Err(StoreError::NotFound(_)) => store.clear_mount_mark(name.as_str()),
            Err(_) => {}
        }
    }
}

/// `volume export NAME`: the volume's content, opened for reading, and what keeps it usable
/// until dropped: an in-use lease (see [`Store::open_for_export`]) and, for a volume whose
/// content is a disk image, its mount (made if no other user has it mounted, unmounted after
/// the last one).
pub fn open_for_export(store: &Store, name: &VolumeName) -> Result<(Attachment, OwnedFd)> {
    let (lease, data) = store.open_for_export(name)?;
    let volume = store.get(name)?;
    if !is_image(&volume) {
        let path = volume.mountpoint.clone();
        let a = Attachment { store: store.clone(), volume, lease: Some(lease), path, plugin: None, opened: None };
        return Ok((a, data));
    }
    let path = volume.mountpoint.clone();
    let lock = store.mount_lock(name)?;
    mount_if_needed(&Linux, store, &lock, &volume)?;
    // Opened again: what was opened before the mount is the directory under it.
    let data = lock.data_dir().map_err(|source| DriverError::Io { op: "open", path: path.clone(), source })?;
    drop(lock);
    Ok((Attachment { store: store.clone(), volume, lease: Some(lease), path, plugin: None, opened: None }, data))
}

/// `volume clone SRC DST` (see [`Store::clone_volume`]). A source whose content is a disk
/// image is mounted for the copy (with an in-use lease of its own), and unmounted afterwards
/// if nobody else uses it.
pub fn clone_volume(
    store: &Store,
    src: &VolumeName,
    dst: &VolumeName,
    labels: Option<std::collections::BTreeMap<String, String>>,
) -> Result<(Volume, crate::copy::CopyStats)> {
    let volume = store.get(src)?;
    let _mounted = if is_image(&volume) {
        let lease = store.lease_as(src, "clone", crate::store::Access::ReadOnly)?;
        let lock = store.mount_lock(src)?;
        let path = volume.mountpoint.clone();
        mount_if_needed(&Linux, store, &lock, &volume)?;
        Some(Attachment { store: store.clone(), volume, lease: Some(lease), path, plugin: None, opened: None })
    } else {
        None
    };
    Ok(store.clone_volume(src, dst, labels)?)
}

/// `volume mount NAME`: pin a lease on the volume, mount it if it needs mounting, and return
/// where its content is. The volume stays in use until [`unmount_pinned`].
pub fn mount_pinned(store: &Store, plugins: &Plugins, name: &VolumeName) -> Result<PathBuf> {
    let volume = store.get(name)?;
    if volume.driver != LOCAL {
        let mount_error = |source| DriverError::PluginMount { name: name.clone(), source };
        let p = plugins.activate(&volume.driver).map_err(mount_error)?;
        let id = store.pin(name, "mount")?;
        let lock = store.mount_lock(name)?;
        store.set_mount_mark(&lock, true)?;
        let checked = p.mount(name.as_str(), &id).and_then(|answer| {
            checked_mountpoint(store, &p, name.as_str(), answer).inspect_err(|_| {
                let _ = p.unmount(name.as_str(), &id);
            })
        });
        return match checked {
            // Printed, not bound: the fd is closed at once.
            Ok(m) => Ok(m.into_parts().0),
            Err(e) => {
                store.unpin(&lock, &id);
                clear_plugin_mark(store, &lock);
                Err(mount_error(e.into()))
            }
        };
    }
    let id = store.pin(name, "mount")?;
    if !mounted_when_used(&volume) {
        return Ok(volume.mountpoint);
    }
    let lock = store.mount_lock(name)?;
    if let Err(e) = mount_if_needed(&Linux, store, &lock, &volume) {
        store.unpin(&lock, &id);
        return Err(e);
    }
    Ok(volume.mountpoint)
}

/// `volume unmount NAME`: drop one pinned lease (none: nothing to do, as podman) and unmount
/// the volume if nobody else uses it.
pub fn unmount_pinned(store: &Store, plugins: &Plugins, name: &VolumeName) -> Result<()> {
    let volume = store.get(name)?;
    let lock = store.mount_lock(name)?;
    let Some(pin) = store.pins(&lock).pop() else {
        return Ok(());
    };
    if volume.driver != LOCAL {
        let unmount_error = |source| DriverError::PluginUnmount { name: name.clone(), source };
        let p = plugins.activate(&volume.driver).map_err(unmount_error)?;
        p.unmount(name.as_str(), &pin.id).map_err(|e| unmount_error(e.into()))?;
        store.unpin(&lock, &pin.id);
        clear_plugin_mark(store, &lock);
        return Ok(());
    }
    store.unpin(&lock, &pin.id);
    if mounted_when_used(&volume) {
        unmount_if_unused(&Linux, store, &lock)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::CreateRequest;
    use crate::sys::record::{Call, Recorder};

    /// A disk image is mounted as a `device=/dev/…` volume is, from a loop device bound to it.
    #[test]
    fn a_disk_image_is_mounted_from_a_loop_device() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("root"));
        let name = VolumeName::parse("img").unwrap();
        store.create(CreateRequest { name: Some(name.clone()), ..CreateRequest::default() }).unwrap();
        let image = store.root().join("volumes/img/disk.img");
        std::fs::write(&image, "").unwrap();
        let data = store.root().join("volumes/img/_data");
        let lock = store.mount_lock(&name).unwrap();
        let rec = Recorder::new();
        mount_image(&rec, &lock).unwrap();
        let image = image.to_string_lossy().into_owned();
        let calls = rec.take();
        let Call::Mount { source, .. } = &calls[1] else { panic!("{calls:?}") };
        assert!(source.starts_with("/dev/loop-recorded-"), "the device the recorder bound: {source}");
        assert_eq!(
            calls,
            [
                Call::LoopAttach { image: image.clone(), read_only: false, name: image.clone() },
                Call::Mount {
                    source: source.clone(),
                    target: data.to_string_lossy().into_owned(),
                    fstype: "ext4".into(),
                    flags: 0,
                    data: String::new(),
                },
            ]
        );
        // No loop device: Docker's wrapping, with what failed.
        let mut rec = Recorder::new();
        rec.fail_at = Some(0);
        rec.errno = libc::ENODEV;
        let e = mount_image(&rec, &lock).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("failed to mount local volume: attach {image} to a loop device: no such device")
        );
    }
}
