//! Compose files, as Docker Compose v2 reads them, for `myvol compose`.
//!
//! [`load`] finds and reads the files (`-f`, `COMPOSE_FILE`, or `compose.yaml` & co. in the
//! current directory or a parent), interpolates variables from the environment and the env
//! files, applies `extends` and `profiles`, merges the files, checks them against the part of
//! the Compose specification myvol supports and normalises the model into a typed [`Project`].
//! [`hash::volume_config_hash`] computes the `com.docker.compose.config-hash` label exactly as
//! Compose does, and [`reconcile`] creates a project's volumes in a store as `compose up`
//! does; [`run::service_request`] makes a service one run request for `compose run`/`up`.
//! Everything here is pure or store-only: no printing, no prompting (questions and
//! warnings go through [`reconcile::Prompter`] and [`Warnings`]).
//!
//! The Compose version emulated is [`COMPOSE_VERSION`]; behaviours were checked against that
//! release of Docker Compose and compose-go v2.9.1 (docs/compose.md says which).

pub mod dotenv;
pub mod gojson;
pub mod hash;
mod load;
pub mod merge;
pub mod model;
pub mod mounts;
pub mod reconcile;
pub mod run;
pub mod schema;
pub mod shell;
pub mod template;
pub mod value;
pub mod volume_spec;
pub mod yaml;

pub use load::{
    DEFAULT_FILE_NAMES, DEFAULT_OVERRIDE_FILE_NAMES, LoadOptions, go_errno_text, go_io_error, load,
    normalize_project_name,
};
pub use model::{MountKind, Project, Service, ServiceVolume, Volume};

/// The Docker Compose release myvol behaves as, and writes in `com.docker.compose.version`.
pub const COMPOSE_VERSION: &str = "2.40.3";

/// The labels Compose puts on what it creates.
pub mod labels {
    pub const PROJECT: &str = "com.docker.compose.project";
    pub const VOLUME: &str = "com.docker.compose.volume";
    pub const VERSION: &str = "com.docker.compose.version";
    pub const CONFIG_HASH: &str = "com.docker.compose.config-hash";
}

/// Warnings gathered while loading (Compose logs them; the caller prints them). Each
/// occurrence is kept, as Compose logs each: an unset variable used twice is two warnings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Warnings(pub Vec<String>);

impl Warnings {
    pub fn push(&mut self, w: String) {
        self.0.push(w);
    }

    pub fn iter(&self) -> impl Iterator<Item = &String> {
        self.0.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Why a project did not load. The messages are Compose's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComposeError {
    /// No file given and none found.
    #[error("no configuration file provided: not found")]
    NoConfigFile,
    /// A file that could not be read (`open FILE: no such file or directory`…).
    #[error("{0}")]
    Io(String),
    /// An invalid `-p` or `COMPOSE_PROJECT_NAME`.
    #[error("{0}")]
    ProjectName(String),
    /// A model Compose refuses, in Compose's words.
    #[error("{0}")]
    Invalid(String),
    /// A feature of Compose myvol does not have yet.
    #[error("{0} is not supported by myvol yet")]
    Unsupported(String),
}
