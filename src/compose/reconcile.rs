//! A project's volumes in a store, as `compose up` and `compose down -v` handle them.
//!
//! `up` ([`ensure_volumes`]) creates each volume the enabled services use, under its real
//! name, with the file's driver, options and labels plus Compose's own labels
//! (`com.docker.compose.project`, `.volume`, `.version`, `.config-hash`). For a volume that
//! already exists:
//! - external: used as it is (and one that does not exist is an error);
//! - not created by Compose (no project label): a warning, then used;
//! - another project's: a warning, then used;
//! - Compose's, with a config hash that differs: the question whether to recreate it (no by
//!   default, yes with `-y`); yes removes it (refused while in use) and creates it anew;
//! - Compose's, without a hash label (older Compose): used untouched.
//!
//! The library never prints nor reads: warnings and the question go through [`Prompter`].

use std::collections::BTreeMap;

use crate::store::{CreateRequest, Store, StoreError};

use super::hash::volume_config_hash;
use super::model::{Project, Volume};
use super::{COMPOSE_VERSION, labels};

/// Where the warnings and the recreate question go.
pub trait Prompter {
    /// A warning, Compose's text (the caller adds its own prefix).
    fn warn(&mut self, message: &str);
    /// A yes/no question whose default is no. `Err` when it cannot be asked.
    fn confirm(&mut self, question: &str) -> std::io::Result<bool>;
}

/// What happened to one volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VolumeAction {
    /// Created now.
    Created,
    /// Existed and is used as it is.
    Existing,
    /// Existed with another configuration; removed and created anew.
    Recreated,
    /// External, and exists.
    External,
}

/// One volume of the project and what happened to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeOutcome {
    /// The key in the compose file.
    pub key: String,
    /// The volume's real name.
    pub name: String,
    pub action: VolumeAction,
}

/// Why the volumes could not be made ready.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// An external volume that does not exist: Compose's text.
    #[error("external volume {name:?} not found")]
    ExternalNotFound { name: String },
    /// The store refused (invalid name, unknown driver, in use…).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The recreate question could not be asked.
    #[error("{0}")]
    Prompt(String),
}

/// The recreate question for a volume whose configuration changed.
pub fn mismatch_question(name: &str) -> String {
    format!("Volume {name:?} exists but doesn't match configuration in compose file. Recreate (data will be lost)?")
}

/// How Compose reads an answer to its question: `y`, or what Go's `strconv.ParseBool` reads
/// as true (`1`, `t`, `true`), in any case.
pub fn answer_is_yes(answer: &str) -> bool {
    matches!(answer.trim().to_lowercase().as_str(), "y" | "1" | "t" | "true")
}

/// The warning for an existing volume Compose did not create.
pub fn foreign_volume_warning(name: &str) -> String {
    format!(
        "volume {name:?} already exists but was not created by Docker Compose. Use `external: true` to use an existing volume"
    )
}

/// The warning for an existing volume of another project.
pub fn other_project_warning(name: &str, project: &str, expected: &str) -> String {
    format!(
        "volume {name:?} already exists but was created for project {project:?} (expected {expected:?}). Use `external: true` to use an existing volume"
    )
}

/// The labels Compose creates a volume with: the file's, then Compose's own over them.
pub fn volume_labels(project: &str, key: &str, volume: &Volume) -> BTreeMap<String, String> {
    let mut out = volume.labels.clone();
    out.insert(labels::VOLUME.to_owned(), key.to_owned());
    out.insert(labels::PROJECT.to_owned(), project.to_owned());
    out.insert(labels::VERSION.to_owned(), COMPOSE_VERSION.to_owned());
    out.insert(labels::CONFIG_HASH.to_owned(), volume_config_hash(volume));
    out
}

/// The create request for one project volume.
pub fn create_request(project: &str, key: &str, volume: &Volume) -> CreateRequest {
    CreateRequest {
        name: Some(volume.name.clone()),
        driver: volume.driver.clone(),
        labels: volume_labels(project, key, volume),
        options: volume.driver_opts.clone(),
    }
}

/// Make the volumes of the enabled services ready, in the order of their keys.
pub fn ensure_volumes(
    store: &Store,
    project: &Project,
    assume_yes: bool,
    prompter: &mut dyn Prompter,
) -> Result<Vec<VolumeOutcome>, ReconcileError> {
    let mut out = Vec::new();
    for (key, volume) in project.used_volumes() {
        let action = ensure_volume(store, project, &key, &volume, assume_yes, prompter)?;
        out.push(VolumeOutcome { key, name: volume.name.clone(), action });
    }
    Ok(out)
}

/// One volume, as Compose's `ensureVolume`.
pub fn ensure_volume(
    store: &Store,
    project: &Project,
    key: &str,
    volume: &Volume,
    assume_yes: bool,
    prompter: &mut dyn Prompter,
) -> Result<VolumeAction, ReconcileError> {
    let existing = match store.get(&volume.name) {
        Ok(v) => v,
        Err(StoreError::NotFound(_)) => {
            if volume.external {
                return Err(ReconcileError::ExternalNotFound { name: volume.name.clone() });
            }
            store.create(create_request(&project.name, key, volume))?;
            return Ok(VolumeAction::Created);
        }
        Err(e) => return Err(e.into()),
    };
    if volume.external {
        return Ok(VolumeAction::External);
    }
    match existing.label(labels::PROJECT) {
        None => prompter.warn(&foreign_volume_warning(&volume.name)),
        Some(p) if p != project.name => prompter.warn(&other_project_warning(&volume.name, p, &project.name)),
        Some(_) => {}
    }
    let expected = volume_config_hash(volume);
    match existing.label(labels::CONFIG_HASH) {
        Some(actual) if actual != expected => {
            let confirm = assume_yes
                || prompter
                    .confirm(&mismatch_question(&volume.name))
                    .map_err(|e| ReconcileError::Prompt(e.to_string()))?;
            if !confirm {
                return Ok(VolumeAction::Existing);
            }
            store.remove(&volume.name, true)?;
            store.create(create_request(&project.name, key, volume))?;
            Ok(VolumeAction::Recreated)
        }
        _ => Ok(VolumeAction::Existing),
    }
}

/// What `down -v` did to one volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoveAction {
    Removed,
    /// Already gone.
    Missing,
    /// Still in use: left in place (Compose's "Resource is still in use" warning).
    InUse,
}

/// `down -v` with the compose file loaded: remove each non-external volume of the project
/// by name.
pub fn remove_volumes(store: &Store, project: &Project) -> Result<Vec<(String, RemoveAction)>, ReconcileError> {
    let mut out = Vec::new();
    for volume in project.volumes.values().filter(|v| !v.external) {
        let action = match store.remove(&volume.name, false) {
            Ok(()) => RemoveAction::Removed,
            Err(StoreError::NotFound(_)) => RemoveAction::Missing,
            Err(StoreError::InUse { .. } | StoreError::Busy { .. } | StoreError::Mounted { .. }) => RemoveAction::InUse,
            Err(e) => return Err(e.into()),
        };
        out.push((volume.name.clone(), action));
    }
    Ok(out)
}
