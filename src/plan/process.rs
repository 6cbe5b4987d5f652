//! The process of a run: the image's Entrypoint and Cmd merged with the command line as
//! moby merges them, the user looked up in the rootfs, the environment, and the checks the
//! runtime would make, all before anything is written.

use std::path::{Path, PathBuf};

use super::{DEFAULT_COMMAND, PlanError, PlannedSource, ProcessRequest, RunPlan, env, image_user};
use crate::image::oci::RunConfig;
use crate::runtime::{self, Process, user};
use crate::spec::clean_path;

/// `docker run`'s command for an image (moby's `merge` of the image config): Entrypoint, then
/// Cmd. COMMAND replaces the image's Cmd; `--entrypoint X` replaces its Entrypoint and drops
/// its Cmd (COMMAND, if given, is X's arguments); `--entrypoint ""` clears the Entrypoint and
/// keeps the Cmd unless COMMAND is given.
pub fn image_command(run: &ProcessRequest, config: &RunConfig) -> Result<Vec<String>, PlanError> {
    let (entrypoint, cmd) = image_entrypoint_cmd(run, config);
    let argv: Vec<String> = entrypoint.into_iter().flatten().chain(cmd.into_iter().flatten()).collect();
    if argv.is_empty() {
        return Err(PlanError::NoCommand);
    }
    Ok(argv)
}

/// The Entrypoint and Cmd a run of an image ends with ([`image_command`]'s rules), as
/// `docker inspect` shows them in the container's `Config` (`None`: `null`).
pub fn image_entrypoint_cmd(run: &ProcessRequest, config: &RunConfig) -> (Option<Vec<String>>, Option<Vec<String>>) {
    let given = (!run.command.is_empty()).then(|| run.command.clone());
    match run.entrypoint.as_deref() {
        Some("") => (None, given.or_else(|| config.cmd.clone())),
        Some(e) => (Some(vec![e.to_owned()]), given),
        None => (config.entrypoint.clone(), given.or_else(|| config.cmd.clone())),
    }
}

/// The second half of resolving, which `--dry-run` skips because it looks at the rootfs:
/// check that the rootfs is a directory, build the environment (`--env-file`s, then `-e`,
/// `KEY` alone taken from `lookup`, myvol's own environment), resolve the user in the rootfs's
/// `/etc/passwd` and `/etc/group`, add Docker's `HOME` and (with `-t`) `TERM`, pick the
/// command (`--entrypoint`, COMMAND, or [`DEFAULT_COMMAND`]), and check the result with the
/// plan as the runtime will take it ([`runtime::validate`]). Reads files; writes nothing.
pub fn resolve_process(
    run: &ProcessRequest,
    plan: &RunPlan,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Process, PlanError> {
    runtime::check_rootfs(&plan.rootfs)?;
    let mut environment = Vec::new();
    for file in &run.env_files {
        let text = std::fs::read(file).map_err(|source| PlanError::EnvFile { path: file.clone(), source })?;
        for e in env::env_file(&String::from_utf8_lossy(&text), lookup)? {
            env::set(&mut environment, e);
        }
    }
    // `-e KEY` for a KEY myvol's environment does not have: Docker passes `KEY` alone, which
    // removes the image's KEY.
    let mut unset: Vec<&str> = Vec::new();
    for v in &run.env {
        match env::env_flag(v, lookup)? {
            Some(e) => env::set(&mut environment, e),
            None => unset.push(v),
        }
    }
    let (user, user_in_image, command, workdir) = match &plan.image {
        Some(img) => {
            // Docker's merge: the user's entries, then the image's whose keys the user did not
            // name. The user (and HOME) are resolved in the image, inside the run.
            for e in img.config.env.iter().flatten() {
                let Some((key, _)) = e.split_once('=').filter(|(k, _)| !k.is_empty()) else { continue };
                if !env::has(&environment, key) && !unset.contains(&key) {
                    environment.push(e.clone());
                }
            }
            let name = run.user.clone().filter(|u| !u.is_empty()).or_else(|| img.config.user.clone());
            let workdir = run.workdir.clone().filter(|w| !w.is_empty()).or_else(|| img.config.working_dir.clone());
            (None, name.filter(|u| !u.is_empty()), image_command(run, &img.config)?, workdir)
        }
        None => {
            let user = user::resolve_in_rootfs(&plan.rootfs, run.user.as_deref())?;
            if !env::has(&environment, "HOME") {
                environment.push(format!("HOME={}", user.home));
            }
            let command = match run.entrypoint.as_ref().filter(|e| !e.is_empty()) {
                Some(e) => std::iter::once(e).chain(&run.command).cloned().collect(),
                None if run.command.is_empty() => vec![DEFAULT_COMMAND.to_owned()],
                None => run.command.clone(),
            };
            (Some(user), None, command, run.workdir.clone())
        }
    };
    // podman refuses `U` on a system directory before anything starts. An image run's user is
    // resolved inside the run, but its passwd and group files are in the image's layers: the
    // error names the ids it will have (its numeric form, or root, when they cannot be told).
    let chown_to =
        |user_in_image: &str| plan.image.as_ref().and_then(|i| image_user::ids_in_layers(&i.layers, user_in_image));
    for m in &plan.mounts {
        if let PlannedSource::Bind(b) = &m.source
            && b.bind.chown
            && dangerous_host_path(&b.bind.source)
        {
            let (uid, gid) = match (&user, &user_in_image) {
                (Some(u), _) => (u.uid, u.gid),
                (None, Some(name)) => chown_to(name).or_else(|| numeric_user(name)).unwrap_or((0, 0)),
                (None, None) => (0, 0),
            };
            return Err(PlanError::ChownRefused { path: b.bind.source.clone(), uid, gid });
        }
    }
    if run.tty && !env::has(&environment, "TERM") {
        environment.insert(0, "TERM=xterm".to_owned());
    }
    let process = Process {
        command,
        env: environment,
        // Docker's daemon cleans an absolute working directory (`filepath.Clean`), so
        // `/a/../etc` is `/etc`; a relative one is refused below.
        workdir: workdir
            .as_deref()
            .filter(|w| !w.is_empty())
            .map(|w| if w.starts_with('/') { clean_path(w) } else { w.to_owned() }),
        user: user.as_ref().map(|u| (u.uid, u.gid)),
        user_in_image,
        // Docker's daemon lists the primary group first among the supplementary ones
        // (`getUser`, moby `daemon/oci_linux.go`): `id` shows `groups=GID,…`; an image run's
        // are looked up inside the run.
        groups: user.map(|u| std::iter::once(u.gid).chain(u.groups).collect()).unwrap_or_default(),
        hostname: run.hostname.clone().filter(|h| !h.is_empty()),
        network: run.network,
        tty: run.tty,
        interactive: run.interactive,
    };
    runtime::validate(&plan.exec(&process))?;
    Ok(process)
}

/// A rootless run's check before anything is attached: the ids its process will have must
/// be mapped in its user namespace ([`runtime::check_ids_mapped`]). An image's named user is
/// looked up in its layers; one that cannot be told there is checked by the run itself.
pub fn check_ids_mapped(plan: &RunPlan, process: &Process) -> Result<(), PlanError> {
    let (uid, gid) = match (process.user, &process.user_in_image) {
        (Some(ids), _) => ids,
        (None, Some(name)) => {
            let in_layers = plan.image.as_ref().and_then(|i| image_user::ids_in_layers(&i.layers, name));
            match in_layers.or_else(|| numeric_user(name)) {
                Some(ids) => ids,
                None => return Ok(()),
            }
        }
        (None, None) => (0, 0),
    };
    Ok(runtime::check_ids_mapped(uid, gid, &process.groups)?)
}

/// `UID` or `UID:GID` in numbers (group 0 when not given, as for a UID not in the image).
fn numeric_user(name: &str) -> Option<(u32, u32)> {
    let (u, g) = name.split_once(':').unwrap_or((name, "0"));
    Some((u.parse().ok()?, g.parse().ok()?))
}

/// Whether `U` may not chown a bind's source (podman's list): the root, the system's
/// directories and the home directories of the caller and of `sudo`'s user, symlinks
/// resolved.
fn dangerous_host_path(path: &Path) -> bool {
    const EXCLUDED: [&str; 24] = [
        "/",
        "/bin",
        "/boot",
        "/dev",
        "/etc",
        "/etc/passwd",
        "/etc/pki",
        "/etc/shadow",
        "/home",
        "/lib",
        "/lib64",
        "/media",
        "/opt",
        "/proc",
        "/root",
        "/run",
        "/sbin",
        "/srv",
        "/sys",
        "/tmp",
        "/usr",
        "/var",
        "/var/lib",
        "/var/log",
    ];
    let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    let homes = [std::env::var_os("HOME").map(PathBuf::from), std::env::var("SUDO_USER").ok().and_then(sudo_home)];
    EXCLUDED.iter().any(|e| real == Path::new(e)) || homes.iter().flatten().any(|h| *h == real)
}

/// The home directory of user `name` in the host's `/etc/passwd`.
fn sudo_home(name: String) -> Option<PathBuf> {
    let text = std::fs::read_to_string("/etc/passwd").ok()?;
    user::parse_passwd(&text).into_iter().find(|e| e.name == name).map(|e| PathBuf::from(e.home))
}
