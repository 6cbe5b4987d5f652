//! `myvol run`: parse the flags, resolve the mounts into a plan, then (unless `--dry-run`)
//! create and lease the volumes, build the executor's spec from the plan, run it, remove the
//! run's anonymous volumes with `--rm`, and exit with the command's status.

use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;

use myvol::driver::{self, Attachment, Plugins};
use myvol::name::VolumeName;
use myvol::output::mounts;
use myvol::plan::{self, PlannedSource, RecursiveReadOnly, RunPlan, RunSpec, SourceKind};
use myvol::run::{self, ExecSpec, MountOp, env};
use myvol::store::{CreateRequest, Store};
use myvol::text::errno_text;

use super::{Failure, Io, Result, status};
use crate::cli::run::{RunArgs, flag_error};

/// The command run when none is given, as for an image without CMD.
pub const DEFAULT_COMMAND: &str = "/bin/sh";

pub fn run(store: &Store, plugins: &Plugins, a: RunArgs, io: &mut Io<'_>) -> Result {
    // A flag clap did not know, given before ROOTFS, arrives as ROOTFS.
    if let Some(first) = a.args.first()
        && first.starts_with('-')
        && first.len() > 1
    {
        return Err(Failure::new(status::USAGE, flag_error(first)));
    }
    let network_none = match a.network.as_str() {
        "none" => true,
        "host" => false,
        other => {
            return Err(Failure::new(
                status::USAGE,
                format!("network {other:?} is not supported: myvol run supports --network none or host"),
            ));
        }
    };
    let cwd = current_dir()?;
    let cwd_text = cwd.to_str().ok_or_else(|| {
        Failure::new(status::USAGE, format!("the current directory {} is not valid UTF-8", cwd.display()))
    })?;
    let specs = plan::parse_specs(&a.volumes, &a.mounts, &a.tmpfs, cwd_text).map_err(run_failure)?;
    let mut args = a.args.into_iter();
    let rootfs = args.next().unwrap_or_default();
    let spec = RunSpec {
        rootfs,
        mounts: specs,
        volume_driver: a.volume_driver.filter(|d| !d.is_empty()),
        read_only: a.read_only,
        remove: a.rm,
        command: args.collect(),
    };
    let plan = plan::resolve(&spec, store, &cwd).map_err(run_failure)?;
    if a.dry_run {
        writeln!(io.out, "{}", mounts::render(&plan))?;
        return Ok(());
    }

    // Everything that can be checked is checked before the store is touched.
    match std::fs::metadata(&plan.rootfs) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(usage(format!("invalid rootfs {}: not a directory", plan.rootfs.display()))),
        Err(e) => return Err(usage(format!("invalid rootfs {}: {}", plan.rootfs.display(), errno_text(&e)))),
    }
    let lookup = |k: &str| std::env::var(k).ok();
    let mut environment = Vec::new();
    for file in &a.env_file {
        let text =
            std::fs::read(file).map_err(|e| Failure::new(status::USAGE, format!("open {file}: {}", errno_text(&e))))?;
        for e in env::env_file(&String::from_utf8_lossy(&text), &lookup).map_err(usage)? {
            env::set(&mut environment, e);
        }
    }
    for v in &a.env {
        if let Some(e) = env::env_flag(v, &lookup).map_err(usage)? {
            env::set(&mut environment, e);
        }
    }
    let user = run::user::resolve_in_rootfs(&plan.rootfs, a.user.as_deref()).map_err(usage)?;
    if !env::has(&environment, "HOME") {
        environment.push(format!("HOME={}", user.home));
    }
    if a.tty && !env::has(&environment, "TERM") {
        environment.insert(0, "TERM=xterm".to_owned());
    }
    let command = match a.entrypoint.filter(|e| !e.is_empty()) {
        Some(e) => std::iter::once(e).chain(plan.command.iter().cloned()).collect(),
        None if plan.command.is_empty() => vec![DEFAULT_COMMAND.to_owned()],
        None => plan.command.clone(),
    };
    let exec = ExecSpec {
        rootfs: plan.rootfs.clone(),
        read_only: plan.read_only,
        command,
        env: environment,
        workdir: a.workdir.filter(|w| !w.is_empty()),
        user: Some((user.uid, user.gid)),
        groups: user.groups,
        hostname: a.hostname.filter(|h| !h.is_empty()),
        network_none,
        tty: a.tty,
        interactive: a.interactive,
        mounts: mount_ops(&plan),
    };
    run::validate(&exec).map_err(|e| Failure::new(e.exit_code().clamp(0, 255) as u8, e))?;

    // Act: volumes created and leased (one store lock each), bind sources made.
    let mut anonymous = Vec::new();
    let result = prepare(store, plugins, &plan, &mut anonymous).and_then(|attached| {
        let mut exec = exec;
        for (op, path) in exec.mounts.iter_mut().zip(&attached) {
            if let (MountOp::Bind { source, .. }, Some(a)) = (op, path) {
                *source = a.path().to_owned();
            }
        }
        io.out.flush()?;
        match run::execute(store, &exec, attached) {
            Ok(code) => Ok(code),
            Err(e) => Err(Failure::new(e.exit_code().clamp(0, 255) as u8, e)),
        }
    });
    // The leases are dropped by now: `--rm` removes the anonymous volumes of this run.
    if plan.remove {
        for name in &anonymous {
            let _ = store.remove(name, true);
        }
    }
    match result? {
        0 => Ok(()),
        code => Err(Failure::many(code.clamp(0, 255) as u8, Vec::new())),
    }
}

fn usage(e: impl std::fmt::Display) -> Failure {
    Failure::new(status::USAGE, e)
}

/// Create (or find) and lease every volume of the plan, under one store lock per volume so
/// that no `volume rm` comes between, and make it usable (mount its driver options, or ask
/// its plugin); create missing `-v` bind sources (mkdir -p, 0755), as Docker does. Returns,
/// for each mount of the plan in order, the attached volume (`None` for binds and tmpfs).
/// The names of the anonymous volumes created go to `anonymous`.
fn prepare(
    store: &Store,
    plugins: &Plugins,
    plan: &RunPlan,
    anonymous: &mut Vec<VolumeName>,
) -> Result<Vec<Option<Attachment>>> {
    let mut attached = Vec::new();
    for m in &plan.mounts {
        attached.push(None);
        match &m.source {
            PlannedSource::Volume(v) => {
                // The plan checked the options of what it creates.
                let req = if v.create {
                    CreateRequest {
                        name: Some(v.name.clone()),
                        driver: v.driver.clone(),
                        labels: v.labels.clone(),
                        options: v.options.clone(),
                        invalid_options: None,
                    }
                } else {
                    CreateRequest { name: Some(v.name.clone()), ..CreateRequest::default() }
                };
                let (created, lease) = store.create_leased(req, "run").map_err(run_failure)?;
                if created.created && v.anonymous {
                    anonymous.push(created.volume.name.clone());
                }
                let a = driver::attach(store, plugins, created.volume, lease).map_err(run_failure)?;
                *attached.last_mut().expect("pushed") = Some(a);
            }
            PlannedSource::Bind(b) if b.source_kind == SourceKind::Missing => {
                std::fs::DirBuilder::new().recursive(true).mode(0o755).create(&b.source).map_err(|e| {
                    run_failure(format!(
                        "error while creating mount source path '{}': mkdir {}: {}",
                        b.source.display(),
                        b.source.display(),
                        errno_text(&e)
                    ))
                })?;
            }
            _ => {}
        }
    }
    Ok(attached)
}

/// The executor's mounts, in the plan's order: a volume is a bind of its `_data` (the
/// subpath is resolved by the executor, beneath it).
fn mount_ops(plan: &RunPlan) -> Vec<MountOp> {
    plan.mounts
        .iter()
        .map(|m| match &m.source {
            PlannedSource::Volume(v) => MountOp::Bind {
                source: v.mountpoint.clone(),
                subpath: v.subpath.clone(),
                target: m.target.clone(),
                read_only: m.read_only,
                recursive: true,
                read_only_recursive: true,
                propagation: String::new(),
                copy_up: v.copy_data,
            },
            PlannedSource::Bind(b) => MountOp::Bind {
                source: b.source.clone(),
                subpath: None,
                target: m.target.clone(),
                read_only: m.read_only,
                recursive: b.recursive,
                // `bind-recursive=writable`: only the bind itself is read-only.
                read_only_recursive: b.recursive_read_only != RecursiveReadOnly::No,
                propagation: b.propagation.as_str().to_owned(),
                copy_up: false,
            },
            PlannedSource::Tmpfs(t) => {
                MountOp::Tmpfs { target: m.target.clone(), flags: t.mount.flags, data: t.mount.data.clone() }
            }
        })
        .collect()
}

/// The working directory, read once here at the edge and passed down.
fn current_dir() -> Result<PathBuf> {
    std::env::current_dir()
        .map_err(|e| Failure::new(status::USAGE, format!("cannot read the current directory: {}", errno_text(&e))))
}

/// An error of `run`, with `docker run`'s status: 127 when the message says
/// `no such file or directory`, 126 when it says `permission denied`, else 125.
fn run_failure(e: impl std::fmt::Display) -> Failure {
    let msg = e.to_string();
    Failure::new(run_status(&msg), msg)
}

pub fn run_status(msg: &str) -> u8 {
    if msg.contains("no such file or directory") {
        status::NOT_FOUND
    } else if msg.contains("permission denied") {
        status::CANNOT_INVOKE
    } else {
        status::USAGE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_run_statuses() {
        // (message, status)
        let cases = [
            ("invalid mode: bogus", status::USAGE),
            ("invalid mount config for type \"bind\": stat /p/x: permission denied", status::CANNOT_INVOKE),
            ("error while creating mount source path '/p': stat /p: no such file or directory", status::NOT_FOUND),
            ("open /root/volumes: no such file or directory", status::NOT_FOUND),
            ("Duplicate mount point: /d", status::USAGE),
        ];
        for (msg, code) in cases {
            assert_eq!(run_status(msg), code, "{msg}");
        }
    }
}
