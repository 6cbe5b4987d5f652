//! `myvol run`: parse the mount flags, resolve them into a plan, and (for now) print it.

use std::path::PathBuf;

use myvol::output::mounts;
use myvol::plan::{self, RunSpec};
use myvol::store::{Store, errno_text};

use super::{Failure, Io, Result, status};
use crate::cli::run::RunArgs;

/// What `myvol run` says until the executor exists.
pub const NOT_IMPLEMENTED: &str = "myvol run is not implemented yet; use --dry-run to see the plan";

pub fn run(store: &Store, a: RunArgs, io: &mut Io<'_>) -> Result {
    if !a.dry_run {
        return Err(Failure::new(status::USAGE, NOT_IMPLEMENTED));
    }
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
    writeln!(io.out, "{}", mounts::render(&plan))?;
    Ok(())
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
