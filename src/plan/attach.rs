//! Stage 2 of a run: attach. The plan's images are leased (by ID: the very images planned, or
//! an error if one went meanwhile), so that no `rmi` or `image prune` removes them while the
//! run lives. The plan's volumes are created (or found) and leased, under one store lock each
//! so that no `volume rm` comes between, then made usable (their driver options mounted, or
//! their plugin asked); missing `-v` bind sources are created (`mkdir -p`, 0755), as Docker
//! does. Then, as Docker's daemon does when a container starts, a bind asking for shared (or
//! slave) propagation is checked to be on a mount that can give it. Nothing else is decided
//! here: the plan said what to create.

use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;

use thiserror::Error;

use super::{PlannedBind, PlannedImage, PlannedSource, RunPlan, SourceKind};
use crate::driver::Plugins;
use crate::driver::{self, Attachment, DriverError};
use crate::image::{ImageError, ImageLease, ImageStore};
use crate::name::VolumeName;
use crate::runtime::mountinfo::{self, SourceMountError};
use crate::spec::Propagation;
use crate::store::{Access, CreateRequest, Store, StoreError};
use crate::text::{echo_path, errno_text};

/// What attaching has done so far, to keep for the run and undo after it.
#[derive(Debug, Default)]
pub struct Attached {
    /// The volumes, usable until these are dropped (their leases go with them).
    pub volumes: Vec<Attachment>,
    /// The anonymous volumes this run created (`--rm` removes them once the run has ended).
    pub created_anonymous: Vec<VolumeName>,
    /// The leases on the images the run uses (its root, its image mounts).
    pub images: Vec<ImageLease>,
}

impl Attached {
    /// Give the volumes back (their leases; their driver's mount when the last user leaves),
    /// then with `remove_anonymous` (`--rm`) remove the anonymous volumes this run created,
    /// also when the run failed. A volume that cannot be removed stays, as in Docker.
    pub fn release(self, store: &Store, remove_anonymous: bool) {
        drop(self.volumes);
        drop(self.images);
        if remove_anonymous {
            for name in &self.created_anonymous {
                let _ = store.remove(name, true);
            }
        }
    }
}

/// Why the plan's volumes or bind sources could not be made ready.
#[derive(Debug, Error)]
pub enum AttachError {
    /// Creating or leasing a volume.
    #[error(transparent)]
    Volume(#[from] StoreError),
    /// Making a volume usable: mounting its driver options, or its plugin's mount.
    #[error(transparent)]
    Driver(#[from] DriverError),
    /// Leasing an image (gone since the run was planned, or the store unreadable).
    #[error(transparent)]
    Image(#[from] ImageError),
    /// Creating a missing `-v` bind source.
    #[error(
        "error while creating mount source path '{}': mkdir {}: {}",
        echo_path(path),
        echo_path(path),
        errno_text(source)
    )]
    BindSource {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A bind asking for `shared`/`rshared` propagation whose source's mount is not shared
    /// (Docker's `ensureShared`).
    #[error("path {} is mounted on {} but it is not a shared mount", echo_path(path), echo_path(mount_point))]
    NotShared { path: PathBuf, mount_point: PathBuf },
    /// A bind asking for `slave`/`rslave` propagation whose source's mount is neither shared
    /// nor a slave (Docker's `ensureSharedOrSlave`).
    #[error("path {} is mounted on {} but it is not a shared or slave mount", echo_path(path), echo_path(mount_point))]
    NotSharedOrSlave { path: PathBuf, mount_point: PathBuf },
    /// The mount of a bind source could not be looked up: resolving the path, or reading
    /// `/proc/self/mountinfo`.
    #[error("{op} {}: {}", echo_path(path), errno_text(source))]
    SourceMount {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// No mount is a parent of a bind source.
    #[error("Can't find mount point of {}", echo_path(.0))]
    NoSourceMount(PathBuf),
}

/// Attach the plan's volumes and create its missing bind sources, in mount order, recording
/// in `attached` what was done (also when a later step fails, so that the caller can undo it).
/// A volume mount's bind then has the path the volume's content is at: the plan's for a
/// local volume, the path its plugin answers for a plugin volume.
pub fn attach(
    plan: &mut RunPlan,
    store: &Store,
    plugins: &Plugins,
    attached: &mut Attached,
) -> Result<(), AttachError> {
    let images = ImageStore::new(store.root());
    if let Some(image) = &mut plan.image {
        attached.images.push(lease_image(&images, image)?);
        // The run's root gets the store's empty `proc`, `dev` and `sys` as its bottom layer:
        // an image without them shows them from there, and the run makes none of them in its
        // writable layer (each a mkdir, and an rmdir at the end). The image's own entries,
        // above it, win.
        image.layers.push(images.mount_points_path());
        // Docker's init layer, shared, above the image as Docker stacks it: the run's
        // writable layer stays empty (see `runtime::etc_files`).
        image.layers.insert(0, images.init_layer_path());
    }
    let labels = plan.labels.clone();
    for m in &mut plan.mounts {
        // A read-only mount's lease says so: `volume import --force` may replace the content
        // under it (the run keeps the old tree), never under a writer.
        let access = if m.read_only() { Access::ReadOnly } else { Access::ReadWrite };
        match &mut m.source {
            PlannedSource::Volume(v) => {
                let req = if v.create {
                    CreateRequest {
                        name: Some(v.name.clone()),
                        driver: v.driver.clone(),
                        labels: v.labels.clone(),
                        options: v.options.clone(),
                        // The plan checked the options of what it creates.
                        invalid_options: None,
                        owner: None,
                    }
                } else {
                    CreateRequest { name: Some(v.name.clone()), ..CreateRequest::default() }
                };
                let (created, lease) = store.create_leased(req, "run", access, &labels)?;
                if created.created && v.anonymous {
                    attached.created_anonymous.push(v.name.clone());
                }
                let a = driver::attach(store, plugins, created.volume, lease)?;
                v.bind.source = a.path().to_owned();
                v.bind.opened = a.opened();
                attached.volumes.push(a);
            }
            PlannedSource::Bind(b) => {
                if b.source_kind == SourceKind::Missing {
                    let path = &b.bind.source;
                    std::fs::DirBuilder::new()
                        .recursive(true)
                        .mode(0o755)
                        .create(path)
                        .map_err(|source| AttachError::BindSource { path: path.clone(), source })?;
                }
                check_propagation(b)?;
            }
            PlannedSource::Image(i) => attached.images.push(lease_image(&images, &i.image)?),
            PlannedSource::Tmpfs(_) => {}
        }
    }
    Ok(())
}

/// Lease the planned image by its ID: the image planned, whatever its name points at now.
fn lease_image(images: &ImageStore, image: &PlannedImage) -> Result<ImageLease, AttachError> {
    Ok(images.lease(&image.id, "run")?)
}

/// Docker's start-time check of a bind's propagation against the mount its source is on
/// (moby `daemon/oci_linux.go`): `shared`/`rshared` needs a shared mount, `slave`/`rslave` a
/// shared or slave one, since a private mount has nothing to propagate. A source inside (or
/// above) the managed root that got `rslave` by default, not by request, falls back to
/// private propagation instead, as Docker falls back for its data root.
fn check_propagation(b: &mut PlannedBind) -> Result<(), AttachError> {
    let shared_only = match b.bind.propagation {
        Propagation::Shared | Propagation::Rshared => true,
        Propagation::Slave | Propagation::Rslave => false,
        Propagation::Private | Propagation::Rprivate => return Ok(()),
    };
    let path = &b.bind.source;
    let error = match mountinfo::source_mount(path) {
        Ok(m) if m.is_shared() || (!shared_only && m.is_slave()) => return Ok(()),
        Ok(m) if shared_only => AttachError::NotShared { path: path.clone(), mount_point: m.mount_point },
        Ok(m) => AttachError::NotSharedOrSlave { path: path.clone(), mount_point: m.mount_point },
        Err(SourceMountError::Io { op, path, source }) => AttachError::SourceMount { op, path, source },
        Err(SourceMountError::NotFound) => AttachError::NoSourceMount(path.clone()),
    };
    if !shared_only && !b.propagation_given {
        b.bind.propagation = Propagation::Rprivate;
        return Ok(());
    }
    Err(error)
}
