//! The run plan: what one `myvol run` will do, decided before anything is touched (STYLE:
//! parse, plan, then act). A run goes through three stages, each with its own error type:
//!
//! 1. **Resolve** (this file, and `process.rs` for the process): the command line's [`RunRequest`] becomes a [`RunPlan`].
//!    [`resolve`] reads the store (which volumes exist) and stats bind sources; it writes
//!    nothing, creates nothing, mounts nothing. Whatever it decides is in the plan: the names
//!    of anonymous volumes (generated now), which volumes and bind sources will be created,
//!    the effective propagation, the tmpfs mount(2) flags and data, and for each mount the
//!    [`Bind`] or [`Tmpfs`] the runtime will make. `myvol run --dry-run` prints this plan
//!    ([`crate::output::mounts`]) and stops. Otherwise [`resolve_process`] checks the rootfs,
//!    resolves the [`Process`] (environment files, `-e`, the user in the rootfs's
//!    `/etc/passwd`) and validates the whole as the runtime will take it: still nothing
//!    written, so any failure leaves the store as it was.
//! 2. **Attach** ([`attach()`]): create and lease the volumes, make them usable (mount their
//!    driver options, or ask their plugin), create missing `-v` bind sources.
//! 3. **Execute** ([`crate::runtime::execute`]): the runtime runs [`RunPlan::exec`], the plan's
//!    executable part, the very mounts `--dry-run` prints.

mod attach;
pub mod env;
mod image_user;
pub mod labels;
mod process;

use std::collections::{BTreeMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};

use thiserror::Error;

pub use attach::{AttachError, Attached, attach};
pub use process::{check_ids_mapped, image_command, image_entrypoint_cmd, resolve_process};

use crate::driver::{self, local::validate_options};
use crate::image::oci::RunConfig;
use crate::image::{ImageError, ImageStore, RunImage};
use crate::name::VolumeName;
use crate::runtime::user::UserError;
use crate::runtime::{
    self, Access, Bind, Exec, ExecError, ImageMount, ImageRoot, MountRef, Network, Process, Recursion, RootfsError,
    Tmpfs,
};
use crate::spec::{self, BindRecursive, MountSpec, MountType, Propagation, SpecError, SpecOrigin, clean_path};
use crate::store::{ANONYMOUS_LABEL, Store, StoreError, layout};
use crate::text::{echo, echo_path, errno_text, go_quote};
use env::EnvError;

/// The command run in a rootfs directory when none is given.
pub const DEFAULT_COMMAND: &str = "/bin/sh";

/// What a `myvol run` command line asks for, its mount flags already parsed
/// ([`parse_specs`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunRequest {
    /// The root filesystem, as given (made absolute against `cwd` by [`resolve`]); unused
    /// when `image` is given.
    pub rootfs: String,
    /// IMAGE: run this image of the store (a reference, an ID or an ID prefix) instead of a
    /// rootfs directory. It must be in the store: pulling is the caller's (`--pull`).
    pub image: Option<String>,
    /// The mounts, in flag order: `-v`, then `--mount`, then `--tmpfs`.
    pub mounts: Vec<MountSpec>,
    /// `--volume-driver`: the driver of the volumes of `-v` (named and anonymous, as in
    /// Docker); `--mount` volumes name theirs with `volume-driver=`.
    pub volume_driver: Option<String>,
    /// `--read-only`: mount the root filesystem read-only.
    pub read_only: bool,
    /// `--rm`: remove the run's anonymous volumes when it ends.
    pub remove: bool,
    /// Labels put on every anonymous volume the run creates, besides Docker's anonymous
    /// label (`compose run`/`up` name their project and service there).
    pub anonymous_labels: BTreeMap<String, String>,
    /// A label put on each anonymous volume the run creates, its target as the value
    /// (`compose up` finds a service's anonymous volumes again by it).
    pub anonymous_target_label: Option<String>,
    /// Anonymous mounts (and image volumes) mounting an existing volume instead of a new
    /// one, by target: what an earlier `compose up` of the service left.
    pub reuse_anonymous: BTreeMap<String, String>,
    /// The run's labels (`-l`, `--label-file`; Compose's container labels): recorded in each
    /// volume lease the run takes, and shown by `--dry-run` as `Config.Labels`.
    pub labels: BTreeMap<String, String>,
    /// What to run, and how.
    pub process: ProcessRequest,
}

/// The process a command line asks for, before anything is looked up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessRequest {
    /// COMMAND and its ARGs (empty: [`DEFAULT_COMMAND`]).
    pub command: Vec<String>,
    /// `--entrypoint`: run this with COMMAND and ARGs as its arguments.
    pub entrypoint: Option<String>,
    /// `--env-file`, in order (read before `-e`).
    pub env_files: Vec<String>,
    /// `-e`, in order: `KEY=VALUE`, or `KEY` to take myvol's own value.
    pub env: Vec<String>,
    /// `-u`: `UID[:GID]` or `NAME[:GROUP]`, looked up in the rootfs.
    pub user: Option<String>,
    /// `-w`
    pub workdir: Option<String>,
    /// `-h`
    pub hostname: Option<String>,
    /// `--network`
    pub network: Network,
    /// `-t`
    pub tty: bool,
    /// `-i`
    pub interactive: bool,
}

/// What will happen, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunPlan {
    /// The root filesystem: absolute and lexically cleaned. For an image, its top layer.
    pub rootfs: PathBuf,
    /// The image the run stacks as its root (its layers), when it runs one.
    pub image: Option<PlannedImage>,
    /// The mounts, sorted by destination depth (fewest components first, flag order among
    /// equals), the order Docker mounts them in.
    pub mounts: Vec<PlannedMount>,
    pub read_only: bool,
    pub remove: bool,
    /// The run's labels, for its volume leases.
    pub labels: BTreeMap<String, String>,
}

impl RunPlan {
    /// Whether Docker leaves this mount out because a `--tmpfs` has its destination: a
    /// `--mount` of a volume, bind or image there is registered (its volume created and
    /// used) but not mounted (moby `setupMounts` skips mount points under
    /// `HostConfig.Tmpfs`). A `--mount type=tmpfs` there is mounted after the `--tmpfs`, so
    /// it is the one seen ([`resolve`] orders them).
    pub fn shadowed(&self, m: &PlannedMount) -> bool {
        m.origin == SpecOrigin::Mount
            && m.kind() != MountType::Tmpfs
            && self.mounts.iter().any(|t| t.origin == SpecOrigin::Tmpfs && t.target() == m.target())
    }

    /// The plan's executable part, with its process: what the runtime runs (without the
    /// [`shadowed`](Self::shadowed) mounts).
    pub fn exec<'a>(&'a self, process: &'a Process) -> Exec<'a> {
        Exec {
            rootfs: &self.rootfs,
            image: self.image.as_ref().map(|i| ImageRoot { name: &i.name, layers: &i.layers, userxattr: i.userxattr }),
            read_only: self.read_only,
            mounts: self.mounts.iter().filter(|m| !self.shadowed(m)).map(PlannedMount::mount).collect(),
            process,
            etc_files: true,
        }
    }
}

/// One mount of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedMount {
    /// The flag it came from.
    pub origin: SpecOrigin,
    /// The raw `-v` mode string (`""` for `--mount` and `--tmpfs`).
    pub mode: String,
    /// What is mounted, and how.
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
            PlannedSource::Image(_) => MountType::Image,
        }
    }

    /// What the runtime mounts: a volume and a host path are binds, a tmpfs is a tmpfs.
    pub fn mount(&self) -> MountRef<'_> {
        match &self.source {
            PlannedSource::Volume(v) => MountRef::Bind(&v.bind),
            PlannedSource::Bind(b) => MountRef::Bind(&b.bind),
            PlannedSource::Tmpfs(t) => MountRef::Tmpfs(&t.tmpfs),
            PlannedSource::Image(i) => MountRef::Image(&i.mount),
        }
    }

    /// The destination inside the rootfs: absolute and cleaned.
    pub fn target(&self) -> &str {
        self.mount().target()
    }

    /// Mounted read-only (for tmpfs: `ro` won over `rw`).
    pub fn read_only(&self) -> bool {
        self.mount().read_only()
    }
}

/// What a planned mount mounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlannedSource {
    Volume(PlannedVolume),
    Bind(PlannedBind),
    Tmpfs(PlannedTmpfs),
    Image(Box<PlannedImageMount>),
}

/// An image a run uses (its root, or an image mount), as the store has it when planning.
/// The run leases it by ID when it starts ([`attach()`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedImage {
    /// As the user named it.
    pub name: String,
    /// The image ID (`sha256:…`): what the run leases.
    pub id: crate::image::digest::Digest,
    /// What `docker run` takes from the image: Entrypoint, Cmd, Env, WorkingDir, User, Volumes.
    pub config: RunConfig,
    /// The unpacked layers, top first.
    pub layers: Vec<PathBuf>,
    /// The layers use `user.overlay.*` xattrs (a rootless store).
    pub userxattr: bool,
}

/// `--mount type=image,source=IMAGE,target=…[,image-subpath=…]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedImageMount {
    pub image: PlannedImage,
    /// What the runtime mounts: the image's layers, read-only.
    pub mount: ImageMount,
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
    /// The bind the runtime makes: its source is the volume's host directory
    /// (`<root>/volumes/<name>/_data`, existing or future; a plugin volume's is the path its
    /// plugin answers, which [`attach()`] puts here), with the `volume-subpath` beneath it,
    /// always recursive and private; `copy_up` is Docker's copy-up (off with `nocopy` /
    /// `volume-nocopy`).
    pub bind: Bind,
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

/// A host path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedBind {
    /// What the source was when planning.
    pub source_kind: SourceKind,
    /// `bind-recursive=` as given (`disabled` for the deprecated `bind-nonrecursive`), for
    /// display.
    pub bind_recursive: Option<BindRecursive>,
    /// The propagation was given (in the `-v` mode or `bind-propagation=`), not a default.
    pub propagation_given: bool,
    /// The bind the runtime makes. Its source is absolute and cleaned; its propagation is
    /// the one given, `rslave` for a source inside (or above) the managed root, `rprivate`
    /// otherwise; it is recursive unless `bind-recursive=disabled`; read-only, it is so
    /// recursively (Docker ≥ 25) unless `bind-recursive=writable`.
    pub bind: Bind,
}

/// A fresh tmpfs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedTmpfs {
    /// The options as Docker records them: `--tmpfs` options as given, or Docker's
    /// conversion of `tmpfs-size`/`tmpfs-mode`/`readonly` (`ro,mode=1770,size=1m`).
    pub options: Vec<String>,
    /// The tmpfs the runtime makes: the options merged with Docker's defaults, as mount(2)
    /// flags and data.
    pub tmpfs: Tmpfs,
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
    #[error("invalid mount config for type \"bind\": stat {}: {}", echo_path(path), errno_text(source))]
    BindSourceStat {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A `-v` bind source that cannot be examined, so it could not be created either.
    #[error(
        "error while creating mount source path '{}': stat {}: {}",
        echo_path(path),
        echo_path(path),
        errno_text(source)
    )]
    BindSourceCreate {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A bind source inside (or above) the managed root with a propagation that would let the
    /// run keep private references to the store's mounts (Docker's data-root rule).
    #[error(
        "invalid mount config: must use either propagation mode \"rslave\" or \"rshared\" when mount source is within the daemon root, daemon root: {}, bind mount source: {}, propagation: {}",
        echo_path(root).quoted(),
        echo_path(bind_source).quoted(),
        go_quote(propagation.as_str())
    )]
    DataRootPropagation { root: PathBuf, bind_source: PathBuf, propagation: Propagation },
    /// `myvol run ""`.
    #[error("invalid rootfs: the path is empty")]
    EmptyRootfs,
    /// A rootfs that is missing, unreadable, or not a directory.
    #[error(transparent)]
    Rootfs(#[from] RootfsError),
    /// An `--env-file` that cannot be read.
    #[error("open {}: {}", echo(path), errno_text(source))]
    EnvFile {
        path: String,
        #[source]
        source: io::Error,
    },
    /// A bad `-e` or `--env-file` entry.
    #[error(transparent)]
    Env(#[from] EnvError),
    /// A `-u` that cannot be resolved in the rootfs.
    #[error(transparent)]
    User(#[from] UserError),
    /// What the runtime would refuse (a relative `-w`, a NUL byte in an environment file…).
    #[error(transparent)]
    Invalid(#[from] runtime::Invalid),
    /// The image (or an image mount's) is not in the store, or cannot be read.
    #[error(transparent)]
    Image(#[from] ImageError),
    /// Labels too large to record (or a bad `--label-file`).
    #[error(transparent)]
    Labels(#[from] labels::LabelError),
    /// An image run with neither an entrypoint nor a command (Docker's words).
    #[error("No command specified")]
    NoCommand,
    /// `U` on a bind of a system directory (podman's rule and words).
    #[error(
        "chowning host path {} is not allowed. You can manually `chown -R {uid}:{gid} {}`",
        echo_path(path).quoted(),
        echo_path(path)
    )]
    ChownRefused { path: PathBuf, uid: u32, gid: u32 },
    /// A rootless run's user that its user namespace would not map.
    #[error(transparent)]
    Unmapped(#[from] runtime::Unmapped),
}

/// Why a run failed, by stage: the exit status follows from the variant
/// (`commands::status`), never from the message.
#[derive(Debug, Error)]
pub enum RunError {
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Attach(#[from] AttachError),
    #[error(transparent)]
    Exec(#[from] ExecError),
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
///
/// With an image, the image is looked up (read-only), and each volume it declares that no
/// mount covers (same destination) becomes an anonymous volume, as Docker makes one.
pub fn resolve(run: &RunRequest, store: &Store, cwd: &Path) -> Result<RunPlan, PlanError> {
    resolve_with_image(run, store, cwd, None)
}

/// [`resolve`], with the run's image (`run.image`) already resolved by the caller (`run`
/// looks it up to decide whether to pull it): the image is then not read again.
pub fn resolve_with_image(
    run: &RunRequest,
    store: &Store,
    cwd: &Path,
    resolved: Option<RunImage>,
) -> Result<RunPlan, PlanError> {
    let image = match &run.image {
        Some(name) => Some(match resolved {
            Some(found) => planned_image(name, found),
            None => plan_image(name, store)?,
        }),
        None if run.rootfs.is_empty() => return Err(PlanError::EmptyRootfs),
        None => None,
    };
    labels::check_size(&run.labels)?;
    spec::check_all(&run.mounts)?;
    let mut specs = std::borrow::Cow::Borrowed(&run.mounts);
    if let Some(img) = &image {
        for declared in img.config.volumes.iter().flatten().map(|(path, _)| path) {
            let spec = MountSpec::image_volume(declared);
            if !specs.iter().any(|m| m.target == spec.target) {
                specs.to_mut().push(spec);
            }
        }
    }
    if !run.reuse_anonymous.is_empty() {
        for m in specs.to_mut().iter_mut().filter(|m| m.is_anonymous()) {
            m.source = run.reuse_anonymous.get(&m.target).cloned().or(m.source.take());
        }
    }
    // Volumes this plan creates: a second mount of one of them finds it "existing".
    let mut to_create: HashSet<String> = HashSet::new();
    let mut mounts = Vec::with_capacity(specs.len());
    for m in specs.iter() {
        let source = match m.kind {
            MountType::Volume => {
                let mut v = plan_volume(m, run.volume_driver.as_deref(), store, &mut to_create)?;
                if v.anonymous {
                    v.labels.extend(run.anonymous_labels.iter().map(|(k, l)| (k.clone(), l.clone())));
                    v.labels.extend(run.anonymous_target_label.iter().map(|k| (k.clone(), m.target.clone())));
                }
                PlannedSource::Volume(v)
            }
            MountType::Bind => PlannedSource::Bind(plan_bind(m, store.root())?),
            MountType::Tmpfs => {
                let options = m.tmpfs_options();
                let merged = spec::parse_tmpfs_options(&options)?;
                let tmpfs = Tmpfs { target: m.target.clone(), flags: merged.flags, data: merged.data };
                PlannedSource::Tmpfs(PlannedTmpfs { options, tmpfs })
            }
            MountType::Image => {
                let image = plan_image(m.source.as_deref().unwrap_or(""), store)?;
                let mount = ImageMount {
                    image: image.name.clone(),
                    layers: image.layers.clone(),
                    userxattr: image.userxattr,
                    subpath: m.image.subpath.clone(),
                    target: m.target.clone(),
                };
                PlannedSource::Image(Box::new(PlannedImageMount { image, mount }))
            }
        };
        mounts.push(PlannedMount { origin: m.origin, mode: m.mode.clone(), source, raw: m.raw.clone() });
    }
    // Docker's `sort.Sort(mounts)`: by the number of `/` in the cleaned destination, so a
    // parent is mounted before what is mounted inside it. Stable here: flag order among equals,
    // except that a `--mount type=tmpfs` on a `--tmpfs`'s destination comes after it (Docker
    // lists `HostConfig.Tmpfs` first, then the tmpfs mount points), so it is the one seen.
    let over_tmpfs = |m: &PlannedMount| {
        m.origin == SpecOrigin::Mount
            && m.kind() == MountType::Tmpfs
            && mounts.iter().any(|t: &PlannedMount| t.origin == SpecOrigin::Tmpfs && t.target() == m.target())
    };
    let keys: Vec<(usize, bool)> =
        mounts.iter().map(|m| (clean_path(m.target()).matches('/').count(), over_tmpfs(m))).collect();
    let mut keyed: Vec<_> = keys.into_iter().zip(mounts).collect();
    keyed.sort_by_key(|(k, _)| *k);
    let mounts: Vec<PlannedMount> = keyed.into_iter().map(|(_, m)| m).collect();
    let rootfs = match &image {
        // An image without layers is refused when the plan is validated.
        Some(img) => img.layers.first().cloned().unwrap_or_else(|| ImageStore::new(store.root()).dir()),
        None if Path::new(&run.rootfs).is_absolute() => PathBuf::from(clean_path(&run.rootfs)),
        None => PathBuf::from(clean_path(&format!("{}/{}", cwd.display(), run.rootfs))),
    };
    Ok(RunPlan { rootfs, image, mounts, read_only: run.read_only, remove: run.remove, labels: run.labels.clone() })
}

/// An image of the store, read-only: its config and the layers to stack.
fn plan_image(name: &str, store: &Store) -> Result<PlannedImage, PlanError> {
    Ok(planned_image(name, ImageStore::new(store.root()).run_image(name)?))
}

fn planned_image(name: &str, run: RunImage) -> PlannedImage {
    PlannedImage {
        name: name.to_owned(),
        id: run.id,
        config: run.config,
        layers: run.lower_dirs,
        userxattr: run.overlay_xattrs == crate::archive::import::OverlayXattrs::User,
    }
}

/// A volume mount: find the volume, or plan its creation with Docker's checks.
fn plan_volume(
    m: &MountSpec,
    volume_driver: Option<&str>,
    store: &Store,
    to_create: &mut HashSet<String>,
) -> Result<PlannedVolume, PlanError> {
    let requested = match m.origin {
        // An image's declared volumes are `Config.Volumes`, as `-v /dest` is.
        SpecOrigin::Volume | SpecOrigin::Image => volume_driver.unwrap_or(""),
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
    let bind = Bind {
        source: mountpoint,
        subpath: m.volume.subpath.clone(),
        target: m.target.clone(),
        access: if m.read_only { Access::ReadOnly } else { Access::ReadWrite },
        recursion: Recursion::Recursive,
        propagation: Propagation::Rprivate,
        copy_up: m.copy_data(),
        chown: m.chown,
        opened: None,
    };
    Ok(PlannedVolume { name, anonymous, driver, create, labels, options: m.volume.opts.clone(), bind })
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
    let recursion = if m.bind.nonrecursive { Recursion::NonRecursive } else { Recursion::Recursive };
    // Read-only binds are recursively read-only (Engine ≥ 25; `bind-recursive=readonly` asks
    // for it explicitly, and the kernels myvol supports always allow it), unless
    // `bind-recursive=writable`: then the bind alone.
    let access = match (m.read_only, m.bind.recursive) {
        (false, _) => Access::ReadWrite,
        (true, Some(BindRecursive::Writable)) => Access::ReadOnlyTop,
        (true, _) => Access::ReadOnly,
    };
    let bind_recursive = m.bind.recursive.or((recursion == Recursion::NonRecursive).then_some(BindRecursive::Disabled));
    let bind = Bind {
        source,
        subpath: None,
        target: m.target.clone(),
        access,
        recursion,
        propagation,
        copy_up: false,
        chown: m.chown,
        opened: None,
    };
    Ok(PlannedBind { source_kind, bind_recursive, propagation_given: m.propagation.is_some(), bind })
}

#[cfg(test)]
mod tests;
