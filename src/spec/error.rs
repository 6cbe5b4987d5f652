//! The errors of the mount-spec grammar, each displaying exactly the text Docker prints after
//! `docker: ` (CLI-side) or `Error response from daemon: ` (daemon-side).

use thiserror::Error;

use crate::text::echo;

/// Which half of Docker reports an error. myvol prints both the same way (`Error: <text>`,
/// exit 125 in `myvol run`), but callers that mimic `docker create` may want Docker's split
/// (125 for CLI errors, 1 for daemon errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// docker/cli rejects the flag before talking to the daemon.
    Cli,
    /// The daemon's mount parser or validation rejects it.
    Daemon,
}

/// A mount spec Docker would reject, with Docker's message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SpecError {
    /// `-v ''` (CLI).
    #[error("invalid empty volume spec")]
    EmptyVolumeSpec,
    /// The CLI's first split of a `-v` spec failed (CLI).
    #[error("invalid spec: {}: {reason}", echo(spec))]
    CliVolumeSpec { spec: String, reason: CliSpecReason },
    /// The daemon's `ParseMountRaw` could not split the spec (daemon).
    #[error("invalid volume specification: '{}'", echo(spec))]
    InvalidVolumeSpec { spec: String },
    /// The daemon split the spec but its mount config is invalid (daemon).
    #[error("invalid volume specification: '{}': {source}", echo(spec))]
    InvalidVolumeConfig {
        spec: String,
        #[source]
        source: MountConfigError,
    },
    /// A `-v` mode that is unknown or repeats a class (daemon). No prefix, as in Docker.
    #[error("invalid mode: {}", echo(mode))]
    InvalidMode { mode: String },
    /// The CLI rejected a `--mount` value (CLI).
    #[error("invalid argument {} for \"--mount\" flag: {reason}", echo(.spec).quoted())]
    MountFlag { spec: String, reason: MountFlagError },
    /// The daemon's common validation rejected a `--mount` (daemon).
    #[error(transparent)]
    MountConfig(#[from] MountConfigError),
    /// A `--tmpfs` destination that is relative or `/` (daemon, unwrapped as in Docker).
    #[error("{0}")]
    TmpfsTarget(ConfigDetail),
    /// A `--tmpfs` option that is neither a known flag nor a known `key=value`
    /// (Docker: at container start). Holds the option split at its first `=`.
    #[error("invalid tmpfs option {}", go_string_slice(.0))]
    InvalidTmpfsOption(Vec<String>),
    /// Two mounts of one run on one destination (daemon).
    #[error("Duplicate mount point: {}", echo(target))]
    DuplicateMountPoint { target: String },
}

impl SpecError {
    /// `invalid mount config for type "bind": bind source path does not exist: PATH`: the
    /// `--mount` bind-source check, which needs the filesystem and so is the caller's to make.
    pub fn bind_source_missing(path: &str) -> Self {
        SpecError::MountConfig(MountConfigError {
            kind: "bind".to_owned(),
            detail: ConfigDetail::BindSourceMissing(path.to_owned()),
        })
    }

    /// Which half of Docker gives this error.
    pub fn side(&self) -> Side {
        match self {
            SpecError::EmptyVolumeSpec | SpecError::CliVolumeSpec { .. } | SpecError::MountFlag { .. } => Side::Cli,
            _ => Side::Daemon,
        }
    }
}

/// Why the CLI's first split of a `-v` spec failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum CliSpecReason {
    #[error("empty section between colons")]
    EmptySection,
    #[error("too many colons")]
    TooManyColons,
}

/// `invalid mount config for type "T": DETAIL` (moby `errMountConfig`); `kind` is the type as
/// the user gave it (lower-cased), shown Go-`%q`-quoted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid mount config for type {}: {detail}", echo(.kind).quoted())]
pub struct MountConfigError {
    pub kind: String,
    pub detail: ConfigDetail,
}

/// The detail of a daemon-side validation error (moby `validateMountConfigImpl`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigDetail {
    #[error("field {0} must not be empty")]
    MissingField(&'static str),
    #[error("field {0} must not be specified")]
    ExtraField(&'static str),
    #[error("invalid specification: destination can't be '/'")]
    TargetIsRoot,
    #[error("invalid mount path: '{}' mount path must be absolute", echo(.0))]
    NotAbsolute(String),
    #[error("invalid propagation mode: {}", echo(.0))]
    InvalidPropagation(String),
    /// Produced only through [`SpecError::bind_source_missing`].
    #[error("bind source path does not exist: {}", echo(.0))]
    BindSourceMissing(String),
    #[error("must not set Subpath when using anonymous volumes")]
    AnonymousSubpath,
    #[error("subpath must be a relative path within the volume")]
    InvalidSubpath,
    #[error("mount type unknown")]
    UnknownType,
}

/// The CLI's `--mount` errors (docker/cli `opts/mount.go`, CLI 28 wording).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MountFlagError {
    /// Go `encoding/csv` errors: `EOF` for an empty value, `parse error on line 1, column N: …`.
    #[error("{}", echo(.0))]
    Csv(String),
    #[error("invalid field '{}' must be a key=value pair", echo(.0))]
    InvalidField(String),
    #[error("unexpected key '{}' in '{}'", echo(key), echo(field))]
    UnexpectedKey { key: String, field: String },
    #[error("invalid value for {}: {}", echo(key), echo(value))]
    InvalidValue { key: String, value: String },
    #[error("invalid value for bind-recursive: {} (must be \"enabled\", \"disabled\", \"writable\", or \"readonly\")", echo(.0))]
    InvalidBindRecursive(String),
    #[error("type is required")]
    TypeRequired,
    #[error("target is required")]
    TargetRequired,
    /// `cannot mix 'GROUP-*' options with mount type 'T'`.
    #[error("cannot mix '{group}-*' options with mount type '{}'", echo(kind))]
    CannotMix { group: &'static str, kind: String },
    #[error("option 'bind-recursive=writable' requires 'readonly' to be specified in conjunction")]
    WritableNeedsReadonly,
    #[error("option 'bind-recursive=readonly' requires 'readonly' to be specified in conjunction")]
    ReadonlyNeedsReadonly,
    #[error("option 'bind-recursive=readonly' requires 'bind-propagation=rprivate' to be specified in conjunction")]
    ReadonlyNeedsRprivate,
    /// podman's `U`/`chown` with a value that is not a boolean (podman's words).
    #[error("'U' or 'chown' must be set to true or false, instead received {}", echo(.0).quoted())]
    Chown(String),
    /// `U` on a tmpfs: myvol chowns volumes and binds only.
    #[error("the 'U' option applies to volume and bind mounts, not to type '{}'", echo(.0))]
    ChownType(String),
}

/// Go's `%q` of a `[]string`: `["a" "b"]`.
fn go_string_slice(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| echo(s).quoted().to_string()).collect();
    format!("[{}]", quoted.join(" "))
}
