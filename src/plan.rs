//! The run plan: the mount specs of one `myvol run`, resolved against the store into what will
//! be mounted where, before anything touches the disk (STYLE: parse, plan, then act).
//!
//! [`resolve`] reads the store (which volumes exist) and stats bind sources; it writes
//! nothing, creates nothing, mounts nothing. Whatever it decides is in the [`RunPlan`]: the
//! names of anonymous volumes (generated now), which volumes and bind sources would be
//! created, the effective propagation, the tmpfs mount(2) flags and data. The executor applies
//! the plan as it is; `myvol run --dry-run` prints it ([`crate::output::mounts`]).

use std::collections::{BTreeMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::driver::{self, local::validate_options};
use crate::name::VolumeName;
use crate::spec::{
    self, BindRecursive, MountSpec, MountType, Propagation, SpecError, SpecOrigin, TmpfsMountOptions, clean_path,
};
use crate::store::{ANONYMOUS_LABEL, Store, StoreError, layout};
use crate::text::{errno_text, go_quote};

/// What a `myvol run` command line asks for, its mount flags already parsed
/// ([`parse_specs`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSpec {
    /// The root filesystem, as given (made absolute against `cwd` by [`resolve`]).
    pub rootfs: String,
    /// The mounts, in flag order: `-v`, then `--mount`, then `--tmpfs`.
    pub mounts: Vec<MountSpec>,
    /// `--volume-driver`: the driver of the volumes of `-v` (named and anonymous, as in
    /// Docker); `--mount` volumes name theirs with `volume-driver=`.
    pub volume_driver: Option<String>,
    /// `--read-only`: mount the root filesystem read-only.
    pub read_only: bool,
    /// `--rm`: remove the run's anonymous volumes when it ends.
    pub remove: bool,
    /// The command and its arguments (empty: the rootfs's default, decided by the executor).
    pub command: Vec<String>,
}

/// What will happen, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunPlan {
    /// The root filesystem: absolute and lexically cleaned.
    pub rootfs: PathBuf,
    /// The mounts, sorted by destination depth (fewest components first, flag order among
    /// equals), the order Docker mounts them in.
    pub mounts: Vec<PlannedMount>,
    pub read_only: bool,
    pub remove: bool,
    pub command: Vec<String>,
}

/// One mount of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedMount {
    /// The flag it came from.
    pub origin: SpecOrigin,
    /// The destination inside the rootfs: absolute and cleaned.
    pub target: String,
    /// Mounted read-only (for tmpfs: `ro` won over `rw`).
    pub read_only: bool,
    /// The raw `-v` mode string (`""` for `--mount` and `--tmpfs`).
    pub mode: String,
    /// What is mounted.
    pub source: PlannedSource,
    /// The user's text, for messages.
    pub raw: String,
}

impl PlannedMount {
    /// Docker's word for the type.
    pub fn kind(&self) -> MountType {
        match self.source {
            PlannedSource::Volume(_) => MountType::Volume,
            PlannedSource::Bind(_) => MountType::Bind,
            PlannedSource::Tmpfs(_) => MountType::Tmpfs,
        }
    }
}

/// What a planned mount mounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlannedSource {
    Volume(PlannedVolume),
    Bind(PlannedBind),
    Tmpfs(PlannedTmpfs),
}

/// A volume: existing, or to be created (with this name) before mounting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedVolume {
    /// The volume's name; for an anonymous volume, the one generated now.
    pub name: VolumeName,
    /// No name was given.
    pub anonymous: bool,
    /// The driver: the existing volume's, or the one it will be created with.
    pub driver: String,
    /// The volume does not exist yet and will be created (with `labels` and `options`).
    pub create: bool,
    /// Labels for the creation (`volume-label`, and Docker's anonymous label).
    pub labels: BTreeMap<String, String>,
    /// Driver options for the creation (`volume-opt`), validated for the local driver.
    pub options: BTreeMap<String, String>,
    /// The volume's host directory (`<root>/volumes/<name>/_data`), existing or future.
    pub mountpoint: PathBuf,
    /// Mount only this relative path inside the volume (`volume-subpath`).
    pub subpath: Option<String>,
    /// Populate an empty volume from the rootfs's directory at the destination (Docker's
    /// copy-up); off with `nocopy` / `volume-nocopy`.
    pub copy_data: bool,
}

/// What a bind source is, as seen when planning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    Directory,
    /// A regular file, or anything else that is not a directory (mounted as a file).
    File,
    /// Does not exist: created as a directory (mode 0755) before mounting, as Docker does
    /// for `-v` (and `--mount …,bind-create-src`).
    Missing,
}

/// How far a read-only bind is read-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecursiveReadOnly {
    /// Writable, or only the top mount read-only (`bind-recursive=writable`, or a
    /// non-recursive bind, which has no submounts).
    No,
    /// Submounts read-only too where the kernel allows it (≥ 5.12), else only the top mount:
    /// the default for read-only recursive binds (Engine ≥ 25).
    IfPossible,
    /// Submounts read-only too, or fail (`bind-recursive=readonly`).
    Required,
}

/// A host path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedBind {
    /// The host path: absolute and cleaned.
    pub source: PathBuf,
    /// What the source was when planning.
    pub source_kind: SourceKind,
    /// The propagation to apply: the one given, `rslave` for a source inside (or above) the
    /// managed root, `rprivate` otherwise.
    pub propagation: Propagation,
    /// Bind submounts too (`rbind`); off with `bind-recursive=disabled` or `bind-nonrecursive`.
    pub recursive: bool,
    /// For read-only binds: whether submounts are made read-only too.
    pub recursive_read_only: RecursiveReadOnly,
    /// `bind-recursive=` as given (`disabled` for the deprecated `bind-nonrecursive`), for
    /// display.
    pub bind_recursive: Option<BindRecursive>,
}

/// A fresh tmpfs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedTmpfs {
    /// The options as Docker records them: `--tmpfs` options as given, or Docker's
    /// conversion of `tmpfs-size`/`tmpfs-mode`/`readonly` (`ro,mode=1770,size=1m`).
    pub options: Vec<String>,
    /// The options merged with Docker's defaults, as mount(2) flags and data.
    pub mount: TmpfsMountOptions,
}

/// Why a run cannot be planned. Each displays the message Docker gives for the same mistake.
#[derive(Debug, Error)]
pub enum PlanError {
    /// A spec Docker rejects (grammar, validation, duplicate destination, missing `--mount`
    /// bind source).
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// What creating (or looking up) a volume would fail with: an invalid name, invalid
    /// driver options, an unknown driver, a driver conflict, an unreadable store.
    #[error(transparent)]
    Volume(#[from] StoreError),
    /// A `--mount` bind source that cannot be examined (Docker reports the stat error).
    #[error("invalid mount config for type \"bind\": stat {}: {}", path.display(), errno_text(source))]
    BindSourceStat {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A `-v` bind source that cannot be examined, so it could not be created either.
    #[error("error while creating mount source path '{}': stat {}: {}", path.display(), path.display(), errno_text(source))]
    BindSourceCreate {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A bind source inside (or above) the managed root with a propagation that would let the
    /// run keep private references to the store's mounts (Docker's data-root rule).
    #[error(
        "invalid mount config: must use either propagation mode \"rslave\" or \"rshared\" when mount source is within the daemon root, daemon root: {}, bind mount source: {}, propagation: {}",
        go_quote(&root.display().to_string()),
        go_quote(&bind_source.display().to_string()),
        go_quote(propagation.as_str())
    )]
    DataRootPropagation { root: PathBuf, bind_source: PathBuf, propagation: Propagation },
    /// `myvol run ""`.
    #[error("invalid rootfs: the path is empty")]
    EmptyRootfs,
}

/// Parse the mount flags of one run, in Docker's order (`-v`, `--mount`, `--tmpfs`), then
/// check them together (`Duplicate mount point`). `cwd` is the absolute directory relative
/// bind sources are resolved against.
pub fn parse_specs(
    volumes: &[String],
    mounts: &[String],
    tmpfs: &[String],
    cwd: &str,
) -> Result<Vec<MountSpec>, SpecError> {
    let mut specs = Vec::with_capacity(volumes.len() + mounts.len() + tmpfs.len());
    for v in volumes {
        specs.push(spec::parse_volume(v, cwd)?);
    }
    for m in mounts {
        specs.push(spec::parse_mount(m, cwd)?);
    }
    for t in tmpfs {
        specs.push(spec::parse_tmpfs(t)?);
    }
    spec::check_all(&specs)?;
    Ok(specs)
}

/// Resolve a run against the store, changing nothing: look volumes up (a missing one will be
/// created; anonymous ones get their name now), stat bind sources (the only filesystem access
/// besides reading the store), apply Docker's rules (`--mount` bind sources must exist unless
/// `bind-create-src`; binds in or above the managed root get `rslave`), and sort the mounts by
/// destination depth. `cwd` is the directory a relative rootfs is resolved against.
pub fn resolve(run: &RunSpec, store: &Store, cwd: &Path) -> Result<RunPlan, PlanError> {
    if run.rootfs.is_empty() {
        return Err(PlanError::EmptyRootfs);
    }
    spec::check_all(&run.mounts)?;
    // Volumes this plan creates: a second mount of one of them finds it "existing".
    let mut to_create: HashSet<String> = HashSet::new();
    let mut mounts = Vec::with_capacity(run.mounts.len());
    for m in &run.mounts {
        let source = match m.kind {
            MountType::Volume => {
                PlannedSource::Volume(plan_volume(m, run.volume_driver.as_deref(), store, &mut to_create)?)
            }
            MountType::Bind => PlannedSource::Bind(plan_bind(m, store.root())?),
            MountType::Tmpfs => {
                let options = m.tmpfs_options();
                let mount = spec::parse_tmpfs_options(&options)?;
                PlannedSource::Tmpfs(PlannedTmpfs { options, mount })
            }
        };
        let read_only = match &source {
            PlannedSource::Tmpfs(t) => t.mount.read_only,
            _ => m.read_only,
        };
        mounts.push(PlannedMount {
            origin: m.origin,
            target: m.target.clone(),
            read_only,
            mode: m.mode.clone(),
            source,
            raw: m.raw.clone(),
        });
    }
    // Docker's `sort.Sort(mounts)`: by the number of `/` in the cleaned destination, so a
    // parent is mounted before what is mounted inside it. Stable here: flag order among equals.
    mounts.sort_by_key(|m| clean_path(&m.target).matches('/').count());
    let rootfs = if Path::new(&run.rootfs).is_absolute() {
        PathBuf::from(clean_path(&run.rootfs))
    } else {
        PathBuf::from(clean_path(&format!("{}/{}", cwd.display(), run.rootfs)))
    };
    Ok(RunPlan { rootfs, mounts, read_only: run.read_only, remove: run.remove, command: run.command.clone() })
}

/// A volume mount: find the volume, or plan its creation with Docker's checks.
fn plan_volume(
    m: &MountSpec,
    volume_driver: Option<&str>,
    store: &Store,
    to_create: &mut HashSet<String>,
) -> Result<PlannedVolume, PlanError> {
    let requested = match m.origin {
        SpecOrigin::Volume => volume_driver.unwrap_or(""),
        _ => m.volume.driver.as_deref().unwrap_or(""),
    };
    let anonymous = m.is_anonymous();
    let name_text = match m.source.as_deref() {
        Some(n) if !n.is_empty() => n.to_owned(),
        _ => VolumeName::random_anonymous().to_string(),
    };
    let new_driver = if requested.is_empty() { driver::LOCAL } else { requested };
    let existing = if anonymous || to_create.contains(&name_text) {
        None
    } else {
        match VolumeName::parse(&name_text).map(|n| store.get(&n)) {
            Ok(Ok(v)) => Some(v),
            Ok(Err(StoreError::NotFound(_))) | Err(_) => None,
            Ok(Err(e)) => return Err(e.into()),
        }
    };
    // The name is checked after the driver, as Docker's local driver checks it when creating
    // (a plugin driver that does not exist fails first), and before any path is built from it.
    let invalid_name = |source| StoreError::InvalidName { name: name_text.clone(), source };
    let (name, driver, create, mountpoint) = match existing {
        Some(v) => {
            if !requested.is_empty() && v.driver != requested {
                return Err(StoreError::Conflict { name: name_text, existing: v.driver }.into());
            }
            (VolumeName::parse(&name_text).map_err(invalid_name)?, v.driver, false, v.mountpoint)
        }
        None => {
            if new_driver != driver::LOCAL {
                store.find_driver(&name_text, new_driver)?;
            }
            let name = VolumeName::parse(&name_text).map_err(invalid_name)?;
            let mountpoint = layout::mountpoint(store.root(), &name);
            (name, new_driver.to_owned(), !to_create.contains(&name_text), mountpoint)
        }
    };
    let mut labels = m.volume.labels.clone();
    if anonymous {
        labels.insert(ANONYMOUS_LABEL.to_owned(), String::new());
    }
    if create {
        if driver == driver::LOCAL {
            validate_options(&m.volume.opts)
                .map_err(|source| StoreError::InvalidOption { name: name_text.clone(), source: source.into() })?;
        }
        to_create.insert(name_text);
    }
    Ok(PlannedVolume {
        name,
        anonymous,
        driver,
        create,
        labels,
        options: m.volume.opts.clone(),
        mountpoint,
        subpath: m.volume.subpath.clone(),
        copy_data: m.copy_data(),
    })
}

/// A bind mount: stat the source (read-only), then Docker's source and propagation rules.
fn plan_bind(m: &MountSpec, root: &Path) -> Result<PlannedBind, PlanError> {
    // The grammar always gives a bind an absolute, cleaned source.
    let text = m.source.as_deref().unwrap_or("/");
    let source = PathBuf::from(text);
    let source_kind = match std::fs::metadata(&source) {
        Ok(md) if md.is_dir() => SourceKind::Directory,
        Ok(_) => SourceKind::File,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if m.origin == SpecOrigin::Mount && !m.bind.create_src {
                return Err(SpecError::bind_source_missing(text).into());
            }
            SourceKind::Missing
        }
        Err(e) if m.origin == SpecOrigin::Mount => return Err(PlanError::BindSourceStat { path: source, source: e }),
        Err(e) => return Err(PlanError::BindSourceCreate { path: source, source: e }),
    };
    let related = source.starts_with(root) || root.starts_with(&source);
    let propagation = match (m.propagation, related) {
        (None, true) => Propagation::Rslave,
        (None, false) => Propagation::Rprivate,
        (Some(p @ (Propagation::Rslave | Propagation::Rshared)), _) | (Some(p), false) => p,
        (Some(p), true) => {
            return Err(PlanError::DataRootPropagation {
                root: root.to_path_buf(),
                bind_source: source,
                propagation: p,
            });
        }
    };
    let recursive = !m.bind.nonrecursive;
    let recursive_read_only = if !m.read_only || !recursive {
        RecursiveReadOnly::No
    } else {
        match m.bind.recursive {
            Some(BindRecursive::Writable) => RecursiveReadOnly::No,
            Some(BindRecursive::Readonly) => RecursiveReadOnly::Required,
            _ => RecursiveReadOnly::IfPossible,
        }
    };
    let bind_recursive = m.bind.recursive.or((!recursive).then_some(BindRecursive::Disabled));
    Ok(PlannedBind { source, source_kind, propagation, recursive, recursive_read_only, bind_recursive })
}

#[cfg(test)]
mod tests;
