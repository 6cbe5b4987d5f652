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

use crate::driver::local::validate_options;
use crate::name::VolumeName;
use crate::store::{CreateRequest, LOCAL_DRIVER, Store, StoreError};

use super::hash::volume_config_hash;
use super::model::{Project, Volume};
use super::{COMPOSE_VERSION, labels};

/// Where the warnings and the recreate question go.
pub trait Prompter {
    /// A warning, Compose's text (the caller adds its own prefix).
    fn warn(&mut self, message: &str);
    /// A yes/no question whose default is no. `Err` when it cannot be asked.
    fn confirm(&mut self, question: &str) -> std::io::Result<bool>;
    /// One volume is ready (Compose shows progress for the ones it creates).
    fn done(&mut self, _name: &str, _action: &VolumeAction) {}
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

/// The create request for one project volume, its name checked as Docker checks it.
pub fn create_request(project: &str, key: &str, volume: &Volume) -> Result<CreateRequest, StoreError> {
    let name = create_name(&volume.name)?;
    let local = volume.driver.is_empty() || volume.driver == LOCAL_DRIVER;
    let invalid_options = if local { validate_options(&volume.driver_opts).err().map(Into::into) } else { None };
    Ok(CreateRequest {
        name: Some(name),
        driver: volume.driver.clone(),
        labels: volume_labels(project, key, volume),
        options: volume.driver_opts.clone(),
        invalid_options,
        owner: None,
    })
}

/// A volume name to create: Docker's `create NAME: …` error when it is not valid.
fn create_name(name: &str) -> Result<VolumeName, StoreError> {
    VolumeName::parse(name).map_err(|source| StoreError::InvalidName { name: name.to_owned(), source })
}

/// Remove a volume for `down -v`; a name that cannot exist is already gone.
fn remove_for_down(store: &Store, name: &str) -> Result<RemoveAction, ReconcileError> {
    let Ok(name) = VolumeName::parse(name) else {
        return Ok(RemoveAction::Missing);
    };
    match store.remove(&name, false) {
        Ok(()) => Ok(RemoveAction::Removed),
        Err(StoreError::NotFound(_)) => Ok(RemoveAction::Missing),
        Err(StoreError::InUse { .. } | StoreError::Busy { .. } | StoreError::Mounted { .. }) => Ok(RemoveAction::InUse),
        Err(e) => Err(e.into()),
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
        prompter.done(&volume.name, &action);
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
    let name = match VolumeName::parse(&volume.name) {
        Ok(name) => name,
        Err(_) if volume.external => return Err(ReconcileError::ExternalNotFound { name: volume.name.clone() }),
        Err(source) => return Err(StoreError::InvalidName { name: volume.name.clone(), source }.into()),
    };
    let existing = match store.get(&name) {
        Ok(v) => v,
        Err(StoreError::NotFound(_)) => {
            if volume.external {
                return Err(ReconcileError::ExternalNotFound { name: volume.name.clone() });
            }
            store.create(create_request(&project.name, key, volume)?)?;
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
            store.remove(&name, true)?;
            store.create(create_request(&project.name, key, volume)?)?;
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
        out.push((volume.name.clone(), remove_for_down(store, &volume.name)?));
    }
    Ok(out)
}

/// The store's volumes that carry the project's label, by name (`compose volumes`, and
/// `down -v` with only `-p`).
pub fn labelled_volumes(store: &Store, project: &str) -> Result<Vec<crate::store::Volume>, ReconcileError> {
    let (mut vols, _unreadable) = store.list()?;
    vols.retain(|v| v.label(labels::PROJECT) == Some(project));
    vols.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(vols)
}

/// `down -v`: remove the anonymous volumes the project's runs left (they carry the project's
/// label and Docker's anonymous label; Compose removes them with their containers).
pub fn remove_anonymous_volumes(store: &Store, project: &str) -> Result<Vec<(String, RemoveAction)>, ReconcileError> {
    let mut out = Vec::new();
    for v in labelled_volumes(store, project)?.into_iter().filter(|v| v.is_anonymous()) {
        let name = v.name.to_string();
        let action = remove_for_down(store, &name)?;
        out.push((name, action));
    }
    Ok(out)
}

/// The anonymous volumes an earlier `up` of `service` left, by target (the newest for each):
/// what this `up` mounts again, as Compose keeps a service's container, and with it its
/// anonymous volumes, from one `up` to the next. `compose run`'s are not kept.
pub fn kept_anonymous_volumes(
    store: &Store,
    project: &str,
    service: &str,
) -> Result<BTreeMap<String, String>, ReconcileError> {
    use crate::compose::run::{ONEOFF_LABEL, SERVICE_LABEL, TARGET_LABEL};
    let mut vols = labelled_volumes(store, project)?;
    vols.retain(|v| {
        v.is_anonymous() && v.label(SERVICE_LABEL) == Some(service) && v.label(ONEOFF_LABEL) == Some("False")
    });
    vols.sort_by(|a, b| a.created_at.cmp(&b.created_at));
    Ok(vols.iter().filter_map(|v| Some((v.label(TARGET_LABEL)?.to_owned(), v.name.to_string()))).collect())
}

/// `down -v` with only a project name: remove the volumes that carry its label. Empty means
/// Compose's `Warning: No resource found to remove for project "P".`
pub fn remove_labelled_volumes(store: &Store, project: &str) -> Result<Vec<(String, RemoveAction)>, ReconcileError> {
    let mut out = Vec::new();
    for v in labelled_volumes(store, project)? {
        let name = v.name.to_string();
        let action = remove_for_down(store, &name)?;
        out.push((name, action));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn vn(s: &str) -> VolumeName {
        VolumeName::parse(s).unwrap()
    }
    use crate::compose::model::{MountKind, Service, ServiceVolume};

    /// Records what the library asks and says, and answers the question as told.
    struct Script {
        answer: bool,
        asked: Vec<String>,
        warned: Vec<String>,
    }

    impl Prompter for Script {
        fn warn(&mut self, m: &str) {
            self.warned.push(m.to_owned());
        }
        fn confirm(&mut self, q: &str) -> std::io::Result<bool> {
            self.asked.push(q.to_owned());
            Ok(self.answer)
        }
    }

    fn project(labels: &[(&str, &str)]) -> Project {
        let mut p = Project { name: "proj".into(), ..Project::default() };
        let volume = Volume {
            name: "proj_data".into(),
            labels: labels.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            ..Volume::default()
        };
        p.volumes.insert("data".into(), volume);
        let mount = ServiceVolume {
            kind: MountKind::Volume,
            source: "data".into(),
            target: "/data".into(),
            read_only: false,
            consistency: String::new(),
            bind: None,
            volume: None,
            tmpfs: None,
            image: None,
            extensions: Default::default(),
        };
        p.services.insert("web".into(), Service { name: "web".into(), volumes: vec![mount], ..Service::default() });
        p
    }

    fn script(answer: bool) -> Script {
        Script { answer, asked: Vec::new(), warned: Vec::new() }
    }

    #[test]
    fn creates_with_composes_labels_then_reuses() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("root"));
        let p = project(&[("team", "a")]);
        let mut s = script(false);
        let out = ensure_volumes(&store, &p, false, &mut s).unwrap();
        assert_eq!(out[0].action, VolumeAction::Created);
        let v = store.get(&vn("proj_data")).unwrap();
        let labels = v.labels.unwrap();
        assert_eq!(labels[labels::PROJECT], "proj");
        assert_eq!(labels[labels::VOLUME], "data");
        assert_eq!(labels[labels::VERSION], COMPOSE_VERSION);
        assert_eq!(labels["team"], "a");
        // `printf '%s' '{"name":"proj_data","driver":"local","labels":{"team":"a"}}' | sha256sum`
        assert_eq!(labels[labels::CONFIG_HASH], "21c7dd5e7c1a3fc810b0bf8cd72ca9c519ef0c6841bd14ea87de590b0ca1a873");
        let out = ensure_volumes(&store, &p, false, &mut s).unwrap();
        assert_eq!(out[0].action, VolumeAction::Existing);
        assert!(s.asked.is_empty() && s.warned.is_empty());
    }

    #[test]
    fn a_changed_file_asks_and_the_answer_decides() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("root"));
        ensure_volumes(&store, &project(&[]), false, &mut script(false)).unwrap();
        std::fs::write(store.root().join("volumes/proj_data/_data/file"), "x").unwrap();
        let changed = project(&[("new", "label")]);
        let mut no = script(false);
        assert_eq!(ensure_volumes(&store, &changed, false, &mut no).unwrap()[0].action, VolumeAction::Existing);
        assert_eq!(no.asked, [mismatch_question("proj_data")]);
        assert!(store.root().join("volumes/proj_data/_data/file").exists(), "no keeps the data");
        let mut yes = script(true);
        assert_eq!(ensure_volumes(&store, &changed, false, &mut yes).unwrap()[0].action, VolumeAction::Recreated);
        assert!(!store.root().join("volumes/proj_data/_data/file").exists(), "yes recreates");
        assert_eq!(store.get(&vn("proj_data")).unwrap().label("new"), Some("label"));
        // -y: no question.
        let mut flag = script(false);
        let back = project(&[]);
        assert_eq!(ensure_volumes(&store, &back, true, &mut flag).unwrap()[0].action, VolumeAction::Recreated);
        assert!(flag.asked.is_empty());
    }

    #[test]
    fn foreign_and_other_project_volumes_warn_and_are_used() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("root"));
        let req = |labels: BTreeMap<String, String>| CreateRequest {
            invalid_options: None,
            name: Some(vn("proj_data")),
            driver: String::new(),
            labels,
            options: BTreeMap::new(),
            owner: None,
        };
        store.create(req(BTreeMap::new())).unwrap();
        let mut s = script(true);
        assert_eq!(ensure_volumes(&store, &project(&[]), false, &mut s).unwrap()[0].action, VolumeAction::Existing);
        assert_eq!(s.warned, [foreign_volume_warning("proj_data")]);
        assert!(s.asked.is_empty(), "no hash label: no question");
        store.remove(&vn("proj_data"), false).unwrap();
        store.create(req(BTreeMap::from([(labels::PROJECT.to_owned(), "other".to_owned())]))).unwrap();
        let mut s = script(true);
        ensure_volumes(&store, &project(&[]), false, &mut s).unwrap();
        assert_eq!(s.warned, [other_project_warning("proj_data", "other", "proj")]);
        assert_eq!(
            s.warned[0],
            "volume \"proj_data\" already exists but was created for project \"other\" (expected \"proj\"). Use `external: true` to use an existing volume"
        );
    }

    #[test]
    fn external_volumes_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("root"));
        let mut p = project(&[]);
        p.volumes.get_mut("data").unwrap().external = true;
        let e = ensure_volumes(&store, &p, false, &mut script(false)).unwrap_err();
        assert_eq!(e.to_string(), "external volume \"proj_data\" not found");
        assert!(store.names().unwrap().is_empty());
    }

    #[test]
    fn down_removes_the_projects_volumes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("root"));
        let p = project(&[]);
        ensure_volumes(&store, &p, false, &mut script(false)).unwrap();
        store
            .create(CreateRequest {
                invalid_options: None,
                name: Some(vn("mine")),
                driver: String::new(),
                labels: BTreeMap::new(),
                options: BTreeMap::new(),
                owner: None,
            })
            .unwrap();
        assert_eq!(labelled_volumes(&store, "proj").unwrap().len(), 1);
        assert_eq!(remove_volumes(&store, &p).unwrap(), [("proj_data".to_owned(), RemoveAction::Removed)]);
        assert_eq!(remove_volumes(&store, &p).unwrap(), [("proj_data".to_owned(), RemoveAction::Missing)]);
        ensure_volumes(&store, &p, false, &mut script(false)).unwrap();
        assert_eq!(remove_labelled_volumes(&store, "proj").unwrap(), [("proj_data".to_owned(), RemoveAction::Removed)]);
        assert!(remove_labelled_volumes(&store, "proj").unwrap().is_empty());
        assert_eq!(store.names().unwrap(), ["mine"]);
    }

    #[test]
    fn answers_as_compose_reads_them() {
        for (a, yes) in
            [("y", true), ("Y", true), ("yes", false), ("true", true), ("1", true), ("", false), ("n", false)]
        {
            assert_eq!(answer_is_yes(a), yes, "{a:?}");
        }
    }
}
