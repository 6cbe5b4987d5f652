//! The mount-spec grammar: the three ways Docker users describe mounts (`-v/--volume`,
//! `--mount`, `--tmpfs`) parsed into one typed [`MountSpec`] per mount, rejecting what Docker
//! rejects with Docker's own error text (current Docker: Engine 28, CLI 28).
//!
//! Pure: no filesystem access, no syscalls, no environment reads. Relative bind sources are
//! resolved lexically against a working directory the caller passes in, and the one check
//! that needs the filesystem (a `--mount` bind source must exist) is left to the caller, who
//! reports it with [`SpecError::bind_source_missing`].
//!
//! Where Docker's CLI and daemon disagree because of their split, the daemon's rule wins; each
//! such place is documented on the function concerned. `docs/mount-spec.md` is the user guide.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

mod csv;
mod error;
mod mount;
mod path;
mod size;
mod tmpfs;
mod validate;
mod volume;

#[cfg(test)]
mod tests;

pub use crate::units::{SizeError, ram_in_bytes};
pub use error::{CliSpecReason, ConfigDetail, MountConfigError, MountFlagError, Side, SpecError};
pub use mount::parse_mount;
pub use path::clean_path;
pub use tmpfs::{TmpfsMountOptions, flag as mount_flag, parse_tmpfs, parse_tmpfs_options};
pub use volume::parse_volume;

/// What gets mounted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MountType {
    /// A host path.
    Bind,
    /// A named or anonymous volume.
    Volume,
    /// A fresh tmpfs.
    Tmpfs,
    /// An image's tree, read-only (`--mount type=image`, Engine 28).
    Image,
}

impl MountType {
    /// Docker's word for the type: `bind`, `volume`, `tmpfs`, `image`.
    pub fn as_str(self) -> &'static str {
        match self {
            MountType::Bind => "bind",
            MountType::Volume => "volume",
            MountType::Tmpfs => "tmpfs",
            MountType::Image => "image",
        }
    }
}

impl fmt::Display for MountType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A bind mount's propagation mode: Docker's (and mount(8)'s) words; the `r` ones apply to
/// the submounts too. Serialised as the word (`"rslave"`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Propagation {
    Private,
    /// Docker's default for binds.
    #[default]
    Rprivate,
    Shared,
    Rshared,
    Slave,
    Rslave,
}

impl Propagation {
    /// Docker's lower-case word.
    pub fn as_str(self) -> &'static str {
        match self {
            Propagation::Private => "private",
            Propagation::Rprivate => "rprivate",
            Propagation::Shared => "shared",
            Propagation::Rshared => "rshared",
            Propagation::Slave => "slave",
            Propagation::Rslave => "rslave",
        }
    }
}

impl fmt::Display for Propagation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Propagation {
    type Err = ();

    /// Exact, case-sensitive match of Docker's words (callers lower-case first where Docker does).
    fn from_str(s: &str) -> Result<Self, ()> {
        Ok(match s {
            "private" => Propagation::Private,
            "rprivate" => Propagation::Rprivate,
            "shared" => Propagation::Shared,
            "rshared" => Propagation::Rshared,
            "slave" => Propagation::Slave,
            "rslave" => Propagation::Rslave,
            _ => return Err(()),
        })
    }
}

/// `--mount …,bind-recursive=VALUE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BindRecursive {
    /// The default: submounts are bound too; read-only binds are recursively read-only where
    /// the kernel allows (Engine ≥ 25, kernel ≥ 5.12).
    Enabled,
    /// Submounts are not bound (the old `bind-nonrecursive`).
    Disabled,
    /// Recursive bind, but only the top mount is made read-only (Docker ≤ 24 behaviour).
    Writable,
    /// Recursive bind, recursively read-only, or fail.
    Readonly,
}

impl BindRecursive {
    /// Docker's word.
    pub fn as_str(self) -> &'static str {
        match self {
            BindRecursive::Enabled => "enabled",
            BindRecursive::Disabled => "disabled",
            BindRecursive::Writable => "writable",
            BindRecursive::Readonly => "readonly",
        }
    }
}

impl fmt::Display for BindRecursive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which flag a spec came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpecOrigin {
    /// `-v/--volume`
    Volume,
    /// `--mount`
    Mount,
    /// `--tmpfs`
    Tmpfs,
    /// The image's own config: a volume it declares (`VOLUME`, `Config.Volumes`).
    Image,
}

/// Options that only make sense for binds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BindOptions {
    /// Do not bind submounts (`bind-recursive=disabled`, or the deprecated `bind-nonrecursive`).
    pub nonrecursive: bool,
    /// `bind-recursive=` as given, if given.
    pub recursive: Option<BindRecursive>,
    /// Create a missing source instead of failing (`bind-create-src`, CLI ≥ 29, accepted by
    /// myvol). `-v` binds always create their source at start, whatever this says.
    pub create_src: bool,
}

/// Options that only make sense for volumes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VolumeOptions {
    /// Do not copy the image's content into an empty volume (`nocopy`, `volume-nocopy`).
    pub nocopy: bool,
    /// Mount this relative path inside the volume (`volume-subpath`).
    pub subpath: Option<String>,
    /// The driver (`volume-driver`); `-v` leaves it `None`, callers attach `--volume-driver`
    /// to named `-v` volumes themselves.
    pub driver: Option<String>,
    /// Labels for a volume created by this mount (`volume-label`).
    pub labels: BTreeMap<String, String>,
    /// Driver options for a volume created by this mount (`volume-opt`).
    pub opts: BTreeMap<String, String>,
}

/// Options that only make sense for tmpfs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TmpfsOptions {
    /// `tmpfs-size` in bytes (`--mount`; `0` is stored as `None`, as Docker ignores it).
    pub size: Option<u64>,
    /// `tmpfs-mode` (`--mount`; `0` is stored as `None`, as Docker ignores it).
    pub mode: Option<u32>,
    /// The raw `--tmpfs DEST:OPTS` options, split at commas.
    pub options: Vec<String>,
}

/// Options that only make sense for image mounts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageOptions {
    /// Mount this relative path of the image (`image-subpath`).
    pub subpath: Option<String>,
}

/// One mount, as parsed from one `-v`, `--mount` or `--tmpfs` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountSpec {
    /// The flag it came from.
    pub origin: SpecOrigin,
    /// What is mounted.
    pub kind: MountType,
    /// Bind: the absolute, cleaned host path. Volume: the name as given (not validated here:
    /// the local driver's name rule is [`crate::name::VolumeName::parse`]); `None` for an
    /// anonymous volume. Tmpfs: `None`. Image: the image as given (a reference or an ID).
    pub source: Option<String>,
    /// The destination: absolute and `path.Clean`ed.
    pub target: String,
    /// Mounted read-only.
    pub read_only: bool,
    /// The raw `-v` mode string (`""` if none), as Docker shows it in `Mode`. Docker shows
    /// `"z"` for local-driver volumes with no mode (`setBindModeIfNull`), a driver-dependent
    /// rule left to callers.
    pub mode: String,
    /// Binds: the propagation given, if any (see [`MountSpec::effective_propagation`]).
    pub propagation: Option<Propagation>,
    /// podman's `U` (`-v …:U`, `--mount …,U`): chown the volume or bind source, recursively,
    /// to the run's user before it starts. Not Docker's (its CLI refuses `U`).
    pub chown: bool,
    /// The consistency given (`consistent`, `cached`, `delegated`, or anything through
    /// `--mount`); accepted and ignored on Linux.
    pub consistency: Option<String>,
    /// Bind-only options.
    pub bind: BindOptions,
    /// Volume-only options.
    pub volume: VolumeOptions,
    /// Tmpfs-only options.
    pub tmpfs: TmpfsOptions,
    /// Image-only options.
    pub image: ImageOptions,
    /// The user's text, for messages.
    pub raw: String,
}

impl MountSpec {
    fn new(origin: SpecOrigin, kind: MountType, target: String, raw: &str) -> Self {
        MountSpec {
            origin,
            kind,
            source: None,
            target,
            read_only: false,
            mode: String::new(),
            propagation: None,
            chown: false,
            consistency: None,
            bind: BindOptions::default(),
            volume: VolumeOptions::default(),
            tmpfs: TmpfsOptions::default(),
            image: ImageOptions::default(),
            raw: raw.to_owned(),
        }
    }

    /// An anonymous volume at `target` declared by an image (`VOLUME` in a Dockerfile, the
    /// config's `Volumes`): what Docker creates for it is what it creates for `-v TARGET`
    /// (both are `Config.Volumes`). `target` is made absolute and cleaned.
    pub fn image_volume(target: &str) -> MountSpec {
        let target = validate::rooted(target);
        MountSpec::new(SpecOrigin::Image, MountType::Volume, target.clone(), &target)
    }

    /// The propagation to apply: the one given, or Docker's default `rprivate` for binds.
    /// `None` for volumes and tmpfs, whose propagation Docker leaves empty.
    pub fn effective_propagation(&self) -> Option<Propagation> {
        match self.kind {
            MountType::Bind => Some(self.propagation.unwrap_or(Propagation::Rprivate)),
            _ => self.propagation,
        }
    }

    /// A volume with no name: myvol generates one and labels it anonymous.
    pub fn is_anonymous(&self) -> bool {
        self.kind == MountType::Volume && self.source.as_deref().is_none_or(str::is_empty)
    }

    /// Whether an empty volume is populated from the image at first mount (Docker's
    /// `CopyData`): volumes without `nocopy`.
    pub fn copy_data(&self) -> bool {
        self.kind == MountType::Volume && !self.volume.nocopy
    }

    /// The option list Docker hands to the tmpfs mount (before merging with the defaults):
    /// `--tmpfs` options as given; for `--mount type=tmpfs`, Docker's `ConvertTmpfsOptions`
    /// (`ro`, `mode=OCTAL`, `size=N[kmg]`). Feed it to [`parse_tmpfs_options`].
    pub fn tmpfs_options(&self) -> Vec<String> {
        if self.kind != MountType::Tmpfs {
            return Vec::new();
        }
        if self.origin == SpecOrigin::Tmpfs {
            return self.tmpfs.options.clone();
        }
        let mut out = Vec::new();
        if self.read_only {
            out.push("ro".to_owned());
        }
        if let Some(mode) = self.tmpfs.mode {
            out.push(format!("mode={mode:o}"));
        }
        if let Some(size) = self.tmpfs.size {
            let (n, sfx) = [("g", 30u32), ("m", 20), ("k", 10)]
                .iter()
                .find(|(_, shift)| size % (1u64 << shift) == 0)
                .map_or((size, ""), |(sfx, shift)| (size >> shift, *sfx));
            out.push(format!("size={n}{sfx}"));
        }
        out
    }
}

/// Checks across all the mounts of one run, as Engine 28's `registerMountPoints` makes them:
/// two mounts on one destination (after cleaning) give `Duplicate mount point: /DEST`, except
/// a `--tmpfs` and a `--mount` (Docker checks `--tmpfs` against `-v` only, and `--mount`
/// against `-v` and other `--mount`s). Both are kept; which one the run sees is the
/// plan's business (`plan::resolve`).
///
/// Stricter than Docker in one corner, by design: Docker silently drops a one-field
/// `-v /dest` whose destination another mount already uses; myvol rejects it. (Two `--tmpfs`
/// on one destination, and identical `-v`, are merged before this, as docker/cli does.)
pub fn check_all(specs: &[MountSpec]) -> Result<(), SpecError> {
    let mut seen: std::collections::HashMap<&str, SpecOrigin> = std::collections::HashMap::new();
    for spec in specs {
        if let Some(&other) = seen.get(spec.target.as_str()) {
            let pair = [other, spec.origin];
            if !(pair.contains(&SpecOrigin::Tmpfs) && pair.contains(&SpecOrigin::Mount)) {
                return Err(SpecError::DuplicateMountPoint { target: spec.target.clone() });
            }
        }
        seen.entry(spec.target.as_str()).or_insert(spec.origin);
    }
    Ok(())
}
