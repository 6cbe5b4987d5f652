//! The typed project: what a loaded, merged, normalised compose model holds for the keys
//! myvol supports. Field order follows Compose's own types, which is the order `compose
//! config` prints them in.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::value::{Map, Value};

/// A loaded project.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Project {
    /// The project name (normalised or validated).
    pub name: String,
    /// The project directory: relative paths in the files are relative to it.
    pub working_dir: PathBuf,
    /// The compose files read, in order (`-` for stdin).
    pub compose_files: Vec<String>,
    /// The variables interpolation used (the environment, then the env files).
    pub environment: BTreeMap<String, String>,
    /// Enabled services.
    pub services: BTreeMap<String, Service>,
    /// Services left out because none of their profiles is enabled.
    pub disabled_services: BTreeMap<String, Service>,
    /// Networks (only the implicit `default` one: myvol runs no networks).
    pub networks: BTreeMap<String, Network>,
    /// Top-level volumes, by key.
    pub volumes: BTreeMap<String, Volume>,
    /// Top-level `x-` keys.
    pub extensions: Map,
    /// The enabled profiles.
    pub profiles: Vec<String>,
}

/// A network, as far as the model needs one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Network {
    pub name: String,
}

/// A top-level volume.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Volume {
    /// The volume's real name: `name:`, else `<project>_<key>` (the key itself when external).
    pub name: String,
    pub driver: String,
    pub driver_opts: BTreeMap<String, String>,
    pub external: bool,
    pub labels: BTreeMap<String, String>,
    pub extensions: Map,
}

/// One entry of a service's `depends_on`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dependency {
    pub condition: String,
    pub restart: bool,
    pub required: bool,
    pub extensions: Map,
}

/// One env file of a service.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvFile {
    pub path: PathBuf,
    pub required: bool,
    pub format: String,
}

/// A service.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Service {
    pub name: String,
    pub profiles: Vec<String>,
    /// `None`: the image's; `Some(vec![])`: none.
    pub command: Option<Vec<String>>,
    pub depends_on: BTreeMap<String, Dependency>,
    pub entrypoint: Option<Vec<String>>,
    /// `None` values are variables named but set nowhere.
    pub environment: BTreeMap<String, Option<String>>,
    pub env_files: Vec<EnvFile>,
    pub hostname: String,
    pub image: String,
    pub labels: BTreeMap<String, String>,
    pub network_mode: String,
    /// Network names (values are always empty: only `default` exists here).
    pub networks: Vec<String>,
    pub read_only: bool,
    pub tmpfs: Vec<String>,
    pub user: String,
    pub volumes: Vec<ServiceVolume>,
    pub volumes_from: Vec<String>,
    pub working_dir: String,
    pub extensions: Map,
}

/// What a service volume mounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MountKind {
    Volume,
    Bind,
    Tmpfs,
    Image,
    Npipe,
    Cluster,
}

impl MountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MountKind::Volume => "volume",
            MountKind::Bind => "bind",
            MountKind::Tmpfs => "tmpfs",
            MountKind::Image => "image",
            MountKind::Npipe => "npipe",
            MountKind::Cluster => "cluster",
        }
    }

    pub fn parse(s: &str) -> Option<MountKind> {
        Some(match s {
            "volume" => MountKind::Volume,
            "bind" => MountKind::Bind,
            "tmpfs" => MountKind::Tmpfs,
            "image" => MountKind::Image,
            "npipe" => MountKind::Npipe,
            "cluster" => MountKind::Cluster,
            _ => return None,
        })
    }
}

/// `bind:` options of a service volume.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BindOptions {
    pub selinux: String,
    pub propagation: String,
    pub create_host_path: bool,
    pub recursive: String,
    pub extensions: Map,
}

/// `volume:` options of a service volume.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VolumeOptions {
    pub labels: BTreeMap<String, String>,
    pub nocopy: bool,
    pub subpath: String,
    pub extensions: Map,
}

/// `tmpfs:` options of a service volume.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TmpfsOptions {
    /// Bytes.
    pub size: Option<u64>,
    pub mode: u32,
    pub extensions: Map,
}

/// `image:` options of a service volume.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImageOptions {
    pub subpath: String,
    pub extensions: Map,
}

/// One entry of a service's `volumes:`, in the long syntax.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceVolume {
    pub kind: MountKind,
    /// A volume key of the project (or empty: anonymous), a host path, or an image.
    pub source: String,
    pub target: String,
    pub read_only: bool,
    pub consistency: String,
    pub bind: Option<BindOptions>,
    pub volume: Option<VolumeOptions>,
    pub tmpfs: Option<TmpfsOptions>,
    pub image: Option<ImageOptions>,
    pub extensions: Map,
}

impl Project {
    /// The service names, sorted.
    pub fn service_names(&self) -> Vec<&str> {
        self.services.keys().map(String::as_str).collect()
    }

    /// The volumes the enabled services use (Compose's `WithoutUnnecessaryResources`), by key.
    pub fn used_volumes(&self) -> BTreeMap<String, Volume> {
        let mut used = BTreeMap::new();
        for s in self.services.values() {
            for v in &s.volumes {
                if v.kind == MountKind::Volume
                    && !v.source.is_empty()
                    && let Some(vol) = self.volumes.get(&v.source)
                {
                    used.insert(v.source.clone(), vol.clone());
                }
            }
        }
        used
    }

    /// Keep only the volumes and networks the enabled services use.
    pub fn without_unnecessary_resources(mut self) -> Project {
        self.volumes = self.used_volumes();
        let mut nets = BTreeMap::new();
        for s in self.services.values() {
            for n in &s.networks {
                if let Some(net) = self.networks.get(n) {
                    nets.insert(n.clone(), net.clone());
                }
            }
        }
        self.networks = nets;
        self
    }

    /// Every profile named by a service, enabled or not, sorted.
    pub fn all_profiles(&self) -> Vec<String> {
        let mut set: Vec<String> = self
            .services
            .values()
            .chain(self.disabled_services.values())
            .flat_map(|s| s.profiles.iter().cloned())
            .collect();
        set.sort();
        set.dedup();
        set
    }
}

/// Go's `strconv.ParseBool`.
pub fn go_parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// A mapping of labels (`KEY: VALUE` or a list of `KEY=VALUE`), values as strings.
pub fn labels_from(v: &Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    match v {
        Value::Map(m) => {
            for (k, e) in m {
                let value = match e {
                    Value::Null => String::new(),
                    other => other.go_sprint(),
                };
                out.insert(k.clone(), value);
            }
        }
        Value::Seq(items) => {
            for it in items {
                let s = it.go_sprint();
                let (k, e) = s.split_once('=').unwrap_or((&s, ""));
                out.insert(k.to_owned(), e.to_owned());
            }
        }
        _ => {}
    }
    out
}

/// A service name that is not in the project.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no such service: {0}")]
pub struct NoSuchService(pub String);

impl Project {
    /// Enable the named services even when their profiles are not (Compose enables the
    /// profiles of services named on the command line).
    pub fn with_services_enabled(mut self, names: &[String]) -> Project {
        if names.is_empty() {
            return self;
        }
        let mut profiles = self.profiles.clone();
        for n in names {
            if let Some(s) = self.disabled_services.get(n) {
                profiles.extend(s.profiles.iter().cloned());
            }
        }
        let all: Vec<(String, Service)> =
            std::mem::take(&mut self.services).into_iter().chain(std::mem::take(&mut self.disabled_services)).collect();
        for (name, s) in all {
            if s.profiles.is_empty()
                || profiles.iter().any(|p| p == "*")
                || s.profiles.iter().any(|p| profiles.contains(p))
            {
                self.services.insert(name, s);
            } else {
                self.disabled_services.insert(name, s);
            }
        }
        self.profiles = profiles;
        self
    }

    /// The enabled services in dependency order (a service after what it depends on), names
    /// sorted where the order is free.
    pub fn services_in_dependency_order(&self) -> Vec<String> {
        fn visit(p: &Project, name: &str, seen: &mut Vec<String>, out: &mut Vec<String>) {
            if seen.iter().any(|s| s == name) {
                return;
            }
            seen.push(name.to_owned());
            if let Some(s) = p.services.get(name) {
                for dep in s.depends_on.keys() {
                    visit(p, dep, seen, out);
                }
                out.push(name.to_owned());
            }
        }
        let mut seen = Vec::new();
        let mut out = Vec::new();
        for name in self.services.keys() {
            visit(self, name, &mut seen, &mut out);
        }
        out
    }

    /// Keep only the named services and what they depend on.
    pub fn with_selected_services(mut self, names: &[String]) -> Result<Project, NoSuchService> {
        if names.is_empty() {
            return Ok(self);
        }
        let mut keep: Vec<String> = Vec::new();
        let mut todo: Vec<String> = names.to_vec();
        while let Some(n) = todo.pop() {
            if keep.contains(&n) {
                continue;
            }
            let Some(s) = self.services.get(&n) else { return Err(NoSuchService(n)) };
            todo.extend(s.depends_on.iter().filter(|(d, _)| self.services.contains_key(*d)).map(|(d, _)| d.clone()));
            keep.push(n);
        }
        let services = std::mem::take(&mut self.services);
        for (name, mut s) in services {
            if keep.contains(&name) {
                s.depends_on.retain(|d, _| keep.contains(d));
                self.services.insert(name, s);
            } else {
                self.disabled_services.insert(name, s);
            }
        }
        Ok(self)
    }
}
