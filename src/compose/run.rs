//! A service as one typed run request ([`crate::plan::RunRequest`]): what `compose run` and
//! `compose up` hand to the same plan → attach → execute path `myvol run` uses. Pure: the
//! project and the command line's overrides in, a request out; nothing is looked up.

use std::collections::BTreeMap;

use super::labels;
use super::model::{Project, Service};
use super::mounts::{MountError, service_mounts};
use super::shell;
use crate::plan::{ProcessRequest, RunRequest};
use crate::runtime::Network;
use crate::spec::{self, MountSpec, MountType, SpecError};

/// `com.docker.compose.service`: the service a run (or its anonymous volume) belongs to.
pub const SERVICE_LABEL: &str = "com.docker.compose.service";
/// `com.docker.compose.oneoff`: `True` for `compose run`, `False` for `up`.
pub const ONEOFF_LABEL: &str = "com.docker.compose.oneoff";
/// myvol's own label on a service's anonymous volume: the target it is mounted on, by which
/// the next `compose up` finds it again (Docker keeps that in the container myvol has not).
pub const TARGET_LABEL: &str = "myvol.compose.target";

/// What `compose run`'s command line changes in the service (`up` changes nothing).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `compose run`: a one-off (`oneoff=True`); `up`: the service itself.
    pub oneoff: bool,
    /// `--rm`
    pub remove: bool,
    /// `-e KEY=VALUE` or `-e KEY`, after the service's environment.
    pub env: Vec<String>,
    /// `-v SPEC`, after the service's volumes (same target: replaces it).
    pub volumes: Vec<String>,
    /// `--entrypoint` (split as Compose splits a string entrypoint).
    pub entrypoint: Option<String>,
    /// `-w`
    pub workdir: Option<String>,
    /// `-u`
    pub user: Option<String>,
    /// COMMAND and its arguments (replace the service's `command`).
    pub command: Vec<String>,
    /// A pseudo-terminal (compose run without `-T` when stdin is one).
    pub tty: bool,
    /// Keep stdin attached.
    pub interactive: bool,
}

/// Why a service cannot become a run request. Compose's words where it has some.
#[derive(Debug, thiserror::Error)]
pub enum ServiceRunError {
    #[error("no such service: {0}")]
    NoSuchService(String),
    #[error(transparent)]
    Mount(#[from] MountError),
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// `network_mode` other than `host`/`none` (myvol runs no networks).
    #[error("service {service:?}: network_mode {mode:?} is not supported by myvol (only \"host\" and \"none\")")]
    NetworkMode { service: String, mode: String },
    /// `volumes_from: container:NAME`: myvol keeps no containers.
    #[error("service {service:?}: volumes_from {from:?}: myvol has no containers to take volumes from")]
    VolumesFromContainer { service: String, from: String },
    #[error("service {service:?} depends on undefined service {from:?}: invalid compose project")]
    VolumesFromUndefined { service: String, from: String },
    #[error("invalid entrypoint {0:?}: unbalanced quotes")]
    Entrypoint(String),
}

/// The labels of a run of `service` in `project`: project, service, one-off.
pub fn run_labels(project: &str, service: &str, oneoff: bool) -> BTreeMap<String, String> {
    [
        (labels::PROJECT.to_owned(), project.to_owned()),
        (SERVICE_LABEL.to_owned(), service.to_owned()),
        (ONEOFF_LABEL.to_owned(), if oneoff { "True" } else { "False" }.to_owned()),
    ]
    .into()
}

/// `com.docker.compose.project.working_dir`
pub const WORKING_DIR_LABEL: &str = "com.docker.compose.project.working_dir";
/// `com.docker.compose.project.config_files`: the compose files, absolute, comma-separated.
pub const CONFIG_FILES_LABEL: &str = "com.docker.compose.project.config_files";

/// The labels of a run of `service` (of `project`), as Compose labels the container: the
/// service's own `labels:`, then Compose's (which win): project, service, one-off, project
/// directory, compose files (made absolute against `cwd`) and Compose's version.
pub fn container_labels(
    project: &Project,
    name: &str,
    service: &Service,
    oneoff: bool,
    cwd: &str,
) -> BTreeMap<String, String> {
    let mut out = service.labels.clone();
    out.extend(run_labels(&project.name, name, oneoff));
    let files: Vec<String> = project
        .compose_files
        .iter()
        .map(|f| if f == "-" || f.starts_with('/') { f.clone() } else { spec::clean_path(&format!("{cwd}/{f}")) })
        .collect();
    out.insert(WORKING_DIR_LABEL.to_owned(), project.working_dir.to_string_lossy().into_owned());
    out.insert(CONFIG_FILES_LABEL.to_owned(), files.join(","));
    out.insert(labels::VERSION.to_owned(), super::COMPOSE_VERSION.to_owned());
    out
}

/// `service` of `project` as the request `myvol run` would build from the same settings.
/// `cwd` resolves relative `-v` bind sources (Compose: the current directory).
pub fn service_request(project: &Project, name: &str, o: &Overrides, cwd: &str) -> Result<RunRequest, ServiceRunError> {
    let service = project.services.get(name).ok_or_else(|| ServiceRunError::NoSuchService(name.to_owned()))?;
    let mut mounts = volumes_from(project, service)?;
    for m in service_mounts(project, service)? {
        replace_target(&mut mounts, m);
    }
    for v in &o.volumes {
        replace_target(&mut mounts, spec::parse_volume(v, cwd)?);
    }
    spec::check_all(&mounts)?;

    let network = match service.network_mode.as_str() {
        "" | "host" => Network::Host,
        "none" => Network::None,
        other => {
            return Err(ServiceRunError::NetworkMode { service: name.to_owned(), mode: other.to_owned() });
        }
    };
    // Compose's entrypoint is a list: its first word is the program, the rest go before the
    // command (the image's Cmd is dropped either way, as with `--entrypoint`).
    let entrypoint_words = match &o.entrypoint {
        Some(e) => Some(shell::split(e).map_err(|_| ServiceRunError::Entrypoint(e.clone()))?),
        None => service.entrypoint.clone(),
    };
    let command = if o.command.is_empty() { service.command.clone().unwrap_or_default() } else { o.command.clone() };
    let (entrypoint, command) = match entrypoint_words {
        None => (None, command),
        Some(words) if words.is_empty() => (Some(String::new()), command),
        Some(words) => {
            let mut it = words.into_iter();
            let first = it.next();
            (first, it.chain(command).collect())
        }
    };
    let mut env: Vec<String> =
        service.environment.iter().filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}"))).collect();
    env.extend(o.env.iter().cloned());
    let nonempty = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    Ok(RunRequest {
        rootfs: String::new(),
        image: Some(service.image.clone()),
        mounts,
        volume_driver: None,
        read_only: service.read_only,
        remove: o.remove,
        anonymous_labels: run_labels(&project.name, name, o.oneoff),
        anonymous_target_label: Some(TARGET_LABEL.to_owned()),
        reuse_anonymous: BTreeMap::new(),
        labels: container_labels(project, name, service, o.oneoff, cwd),
        process: ProcessRequest {
            command,
            entrypoint,
            env_files: Vec::new(),
            env,
            user: o.user.clone().or_else(|| nonempty(&service.user)),
            workdir: o.workdir.clone().or_else(|| nonempty(&service.working_dir)),
            hostname: nonempty(&service.hostname),
            network,
            tty: o.tty,
            interactive: o.interactive,
        },
    })
}

/// A later mount on the same target takes the earlier one's place (Compose merges a run's
/// `-v` over the service's volumes by target).
fn replace_target(mounts: &mut Vec<MountSpec>, m: MountSpec) {
    match mounts.iter_mut().find(|x| spec::clean_path(&x.target) == spec::clean_path(&m.target)) {
        Some(x) => *x = m,
        None => mounts.push(m),
    }
}

/// `volumes_from: [SERVICE[:ro|:rw]]` (or `service:SERVICE`): the named volumes and binds of
/// that service, read-only with `:ro`. Its anonymous volumes and tmpfs are not shared: there
/// is no container of it whose anonymous volumes could be found.
fn volumes_from(project: &Project, service: &Service) -> Result<Vec<MountSpec>, ServiceRunError> {
    let mut out = Vec::new();
    for from in &service.volumes_from {
        let (what, mode) = match from.rsplit_once(':') {
            Some((w, m @ ("ro" | "rw"))) => (w, m),
            _ => (from.as_str(), "rw"),
        };
        if what.starts_with("container:") {
            return Err(ServiceRunError::VolumesFromContainer { service: service.name.clone(), from: from.clone() });
        }
        let other_name = what.strip_prefix("service:").unwrap_or(what);
        let other = project.services.get(other_name).ok_or_else(|| ServiceRunError::VolumesFromUndefined {
            service: service.name.clone(),
            from: other_name.to_owned(),
        })?;
        for mut m in service_mounts(project, other)? {
            if m.kind == MountType::Tmpfs || m.is_anonymous() {
                continue;
            }
            if mode == "ro" {
                m.read_only = true;
            }
            replace_target(&mut out, m);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::compose::{LoadOptions, Warnings, load};

    fn project(src: &str) -> Project {
        let opts = LoadOptions {
            files: vec![PathBuf::from("-")],
            cwd: PathBuf::from("/srv/app"),
            environ: [("FROM_ENV".to_owned(), "e".to_owned())].into(),
            stdin: Some(src.to_owned()),
            home: Some(PathBuf::from("/home/u")),
            ..LoadOptions::default()
        };
        load(&opts, &mut Warnings::default()).unwrap()
    }

    const FILE: &str = "services:
  web:
    image: backend-app
    command: [echo, hi]
    entrypoint: [sh, -c]
    environment: {A: '1', FROM_ENV: null, UNSET: null}
    working_dir: /app
    user: '1000'
    hostname: h
    read_only: true
    network_mode: none
    tmpfs: [/run]
    volumes: [logs:/logs, ./conf:/conf:ro]
    labels: {tier: front, com.docker.compose.project: not-this}
  side:
    image: x
    volumes_from: ['web:ro']
volumes:
  logs: {}
";

    #[test]
    fn a_service_is_the_request_myvol_run_builds() {
        let p = project(FILE);
        let r = service_request(&p, "web", &Overrides::default(), "/cwd").unwrap();
        assert_eq!(r.image.as_deref(), Some("backend-app"));
        assert_eq!(
            (r.process.entrypoint.as_deref(), r.process.command.clone()),
            (Some("sh"), vec!["-c".to_owned(), "echo".to_owned(), "hi".to_owned()])
        );
        assert_eq!(r.process.env, ["A=1", "FROM_ENV=e"]);
        assert_eq!(
            (r.process.workdir.as_deref(), r.process.user.as_deref(), r.process.hostname.as_deref()),
            (Some("/app"), Some("1000"), Some("h"))
        );
        assert_eq!((r.read_only, r.process.network, r.remove), (true, Network::None, false));
        let targets: Vec<&str> = r.mounts.iter().map(|m| m.target.as_str()).collect();
        assert_eq!(targets, ["/logs", "/conf", "/run"]);
        assert_eq!(r.mounts[0].source.as_deref(), Some("app_logs"));
        assert_eq!(r.anonymous_labels[ONEOFF_LABEL], "False");
        assert_eq!(r.anonymous_labels[SERVICE_LABEL], "web");
        // The run's own labels: the service's, then Compose's container labels (which win).
        let got: Vec<(&str, &str)> = r.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            got,
            [
                ("com.docker.compose.oneoff", "False"),
                ("com.docker.compose.project", p.name.as_str()),
                ("com.docker.compose.project.config_files", "-"),
                ("com.docker.compose.project.working_dir", "/srv/app"),
                ("com.docker.compose.service", "web"),
                ("com.docker.compose.version", crate::compose::COMPOSE_VERSION),
                ("tier", "front"),
            ]
        );
        let files = Project { compose_files: vec!["a.yml".into(), "/x/b.yml".into()], ..p.clone() };
        let r = service_request(&files, "web", &Overrides { oneoff: true, ..Overrides::default() }, "/cwd").unwrap();
        assert_eq!(r.labels[CONFIG_FILES_LABEL], "/cwd/a.yml,/x/b.yml");
        assert_eq!(r.labels[ONEOFF_LABEL], "True");
    }

    #[test]
    fn run_overrides_replace_what_the_service_says() {
        let p = project(FILE);
        let o = Overrides {
            oneoff: true,
            remove: true,
            env: vec!["A=2".into()],
            volumes: vec!["/host:/logs".into()],
            entrypoint: Some("env -i".into()),
            workdir: Some("/w".into()),
            user: Some("0".into()),
            command: vec!["X=1".into()],
            ..Overrides::default()
        };
        let r = service_request(&p, "web", &o, "/cwd").unwrap();
        assert_eq!(
            (r.process.entrypoint.as_deref(), r.process.command.clone()),
            (Some("env"), vec!["-i".to_owned(), "X=1".to_owned()])
        );
        assert_eq!(r.process.env, ["A=1", "FROM_ENV=e", "A=2"]);
        assert_eq!((r.process.workdir.as_deref(), r.process.user.as_deref()), (Some("/w"), Some("0")));
        assert_eq!((r.mounts[0].target.as_str(), r.mounts[0].source.as_deref()), ("/logs", Some("/host")));
        assert_eq!((r.remove, r.anonymous_labels[ONEOFF_LABEL].as_str()), (true, "True"));
        // `--entrypoint ""` clears it.
        let o = Overrides { entrypoint: Some(String::new()), ..Overrides::default() };
        let r = service_request(&p, "web", &o, "/cwd").unwrap();
        assert_eq!(
            (r.process.entrypoint.as_deref(), r.process.command.clone()),
            (Some(""), vec!["echo".to_owned(), "hi".to_owned()])
        );
    }

    #[test]
    fn volumes_from_shares_named_volumes_and_binds() {
        let p = project(FILE);
        let r = service_request(&p, "side", &Overrides::default(), "/cwd").unwrap();
        let got: Vec<(&str, bool)> = r.mounts.iter().map(|m| (m.target.as_str(), m.read_only)).collect();
        assert_eq!(got, [("/logs", true), ("/conf", true)], "no tmpfs, all read-only");
        let e = service_request(&p, "nope", &Overrides::default(), "/").unwrap_err();
        assert_eq!(e.to_string(), "no such service: nope");
    }

    #[test]
    fn networks_myvol_does_not_have_are_refused() {
        let p = project("services:\n  web:\n    image: x\n    network_mode: bridge\n");
        let e = service_request(&p, "web", &Overrides::default(), "/").unwrap_err();
        assert_eq!(
            e.to_string(),
            "service \"web\": network_mode \"bridge\" is not supported by myvol (only \"host\" and \"none\")"
        );
    }
}
