//! `myvol run`: the flags become a [`RunRequest`]; an image is pulled when `--pull` says so
//! (as Docker's client pulls before it creates the container); [`plan::resolve`] makes the
//! plan; [`plan::resolve_process`] resolves the process (`--dry-run` prints both and stops);
//! [`plan::attach`] leases the images, creates and leases the volumes and makes the bind
//! sources; [`runtime::execute`] runs the plan; with `--rm` the run's anonymous volumes go;
//! the exit status is the command's. Every step is the library's: this file adapts the flags
//! and hands each step's result to the next.
//!
//! IMAGE or ROOTFS: the first argument is a directory when it starts with `/` or `.` (`/`,
//! `./rootfs`, `../x`), else an image reference (`busybox`, `localhost:5000/app:1`, an ID).
//! `--rootfs DIR` names a directory whatever it looks like; every argument is then COMMAND.

use std::path::{Path, PathBuf};

use myvol::driver::Plugins;
use myvol::image::reference::{AnyReference, Reference};
use myvol::image::{ImageStore, RunImage};
use myvol::output::mounts;
use myvol::plan::{self, Attached, PlanError, ProcessRequest, RunError, RunPlan, RunRequest};
use myvol::runtime::{self, Exit, Network, Process};
use myvol::store::Store;
use myvol::text::{errno_text, go_quote};

use super::{ExitStatus, Failure, Io, Result};
use crate::cli::run::RunArgs;

/// `--pull`: when to pull the image before running it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PullPolicy {
    Missing,
    Always,
    Never,
}

pub fn myvol_run(store: &Store, plugins: &Plugins, a: RunArgs, io: &mut Io<'_>) -> Result {
    let dry_run = a.dry_run;
    let quiet = a.quiet;
    let pull = match a.pull.as_str() {
        "missing" => PullPolicy::Missing,
        "always" => PullPolicy::Always,
        "never" => PullPolicy::Never,
        other => {
            return Err(Failure::new(
                ExitStatus::Usage,
                format!(
                    "invalid pull option: '{}': must be one of \"always\", \"missing\" or \"never\"",
                    myvol::text::echo(other)
                ),
            )
            .with_hint("Run 'myvol run --help' for more information"));
        }
    };
    let cwd = current_dir()?;
    let request = request(a, &cwd)?;
    let mut found = None;
    if !dry_run {
        // Docker's client checks this before anything is created; so does myvol.
        runtime::check_input(request.process.tty, request.process.interactive)
            .map_err(|e| Failure::new(ExitStatus::Failure, e))?;
        if let Some(image) = &request.image {
            found = ensure_image(store, image, pull, quiet)?;
        }
    }
    // The image found here is the plan's: it is read once, and leased by its ID.
    let mut plan = plan::resolve_with_image(&request, store, &cwd, found).map_err(|e| {
        let dry_missing = dry_run && matches!(&e, PlanError::Image(i) if i.is_not_found());
        let f = Failure::from(RunError::from(e));
        if dry_missing { f.with_hint("--dry-run never pulls: `myvol pull IMAGE` first") } else { f }
    })?;
    let lookup = |k: &str| std::env::var(k).ok();
    if dry_run {
        if plan.image.is_some() {
            let process = plan::resolve_process(&request.process, &plan, &lookup).map_err(RunError::from)?;
            writeln!(io.out, "{}", mounts::render_image(&plan, &request.process, &process))?;
        } else {
            writeln!(io.out, "{}", mounts::render(&plan))?;
        }
        return Ok(());
    }
    let process = plan::resolve_process(&request.process, &plan, &lookup).map_err(RunError::from)?;
    let mut attached = Attached::default();
    let result = attach_and_execute(store, plugins, &mut plan, &process, &mut attached, io);
    attached.release(store, plan.remove);
    command_ended(result?)
}

/// Stages 2 and 3: attach, then execute (the attachments go to the runtime, which gives them
/// back when the command has ended; what a failed attach left is in `attached`).
pub(super) fn attach_and_execute(
    store: &Store,
    plugins: &Plugins,
    plan: &mut RunPlan,
    process: &Process,
    attached: &mut Attached,
    io: &mut Io<'_>,
) -> Result<Exit> {
    // Before any volume is made: a rootless run's user its user namespace cannot map.
    plan::check_ids_mapped(plan, process).map_err(RunError::from)?;
    plan::attach(plan, store, plugins, attached).map_err(RunError::from)?;
    io.out.flush()?;
    let volumes = std::mem::take(&mut attached.volumes);
    let images = std::mem::take(&mut attached.images);
    Ok(runtime::execute(store, &plan.exec(process), (volumes, images)).map_err(RunError::from)?)
}

/// Pull `image` as `--pull` says, as Docker's client does before it creates the container:
/// `missing` pulls when the store does not have it (`Unable to find image 'NAME:TAG' locally`
/// on stderr first), `always` pulls every time, `never` leaves it to the plan to find it (or
/// to say `No such image`). The pull's output goes to stderr, as Docker's does. What a
/// `missing` lookup found is returned, for the plan: the image is read once.
pub(super) fn ensure_image(store: &Store, image: &str, policy: PullPolicy, quiet: bool) -> Result<Option<RunImage>> {
    let images = ImageStore::new(store.root());
    let named = match Reference::parse_any(image) {
        Ok(AnyReference::Named(r)) => Some(r),
        // An ID is never pulled; a name Docker refuses is the plan's to report.
        Ok(AnyReference::Id(_)) | Err(_) => None,
    };
    let Some(reference) = named else { return Ok(None) };
    match policy {
        PullPolicy::Never => return Ok(None),
        PullPolicy::Missing => match images.run_image(image) {
            Ok(found) => return Ok(Some(found)),
            Err(e) if e.is_not_found() => {
                eprintln!(
                    "Unable to find image '{}' locally",
                    myvol::text::escape_control(&reference.tag_name_only().familiar_string())
                );
            }
            Err(e) => return Err(Failure::new(ExitStatus::RunFailed, e)),
        },
        PullPolicy::Always => {}
    }
    super::image::pull_to_stderr(&images, &reference, quiet)?;
    Ok(None)
}

/// The run's command ended: its own status, 128+N for signal N, nothing printed.
pub fn command_ended(exit: Exit) -> Result {
    match ExitStatus::from(exit) {
        ExitStatus::Success => Ok(()),
        status => Err(Failure::quiet(status)),
    }
}

/// The flags as a [`RunRequest`], the mount flags parsed. Flag errors exit 125.
fn request(a: RunArgs, cwd: &Path) -> Result<RunRequest> {
    let network = match a.network.as_str() {
        "none" => Network::None,
        "host" => Network::Host,
        other => {
            return Err(Failure::new(
                ExitStatus::Usage,
                format!("network {other:?} is not supported: myvol run supports --network none or host"),
            ));
        }
    };
    let cwd_text = cwd.to_str().ok_or_else(|| {
        Failure::new(ExitStatus::Usage, format!("the current directory {} is not valid UTF-8", cwd.display()))
    })?;
    let (volumes, tmpfs) = (distinct_volumes(a.volumes), tmpfs_by_destination(a.tmpfs));
    let mounts = plan::parse_specs(&volumes, &a.mounts, &tmpfs, cwd_text).map_err(|e| {
        // What docker/cli itself refuses comes with its pointer to the help.
        let cli = e.side() == myvol::spec::Side::Cli;
        let f = Failure::from(RunError::from(PlanError::from(e)));
        if cli { f.with_hint("Run 'myvol run --help' for more information") } else { f }
    })?;
    // docker/cli checks each -e while it parses the flags (opts.ValidateEnv): a flag error.
    for v in &a.env {
        if let Err(e) = plan::env::env_flag(v, &|_| None) {
            let msg = format!("invalid argument {} for \"-e, --env\" flag: {e}", go_quote(v));
            return Err(Failure::new(ExitStatus::Usage, msg).with_hint("Run 'myvol run --help' for more information"));
        }
    }
    // docker/cli reads the label files while it parses the flags: an unreadable one is a flag
    // error, before anything is pulled or created.
    let labels =
        plan::labels::read(&a.label_file, &a.labels).map_err(|e| Failure::from(RunError::from(PlanError::from(e))))?;
    let mut args = a.args.into_iter();
    let (rootfs, image) = match a.rootfs {
        Some(dir) => (dir, None),
        None => {
            let first = args.next().unwrap_or_default();
            if is_directory_argument(&first) { (first, None) } else { (String::new(), Some(first)) }
        }
    };
    Ok(RunRequest {
        rootfs,
        image,
        mounts,
        volume_driver: a.volume_driver.filter(|d| !d.is_empty()),
        read_only: a.read_only,
        remove: a.rm,
        anonymous_labels: Default::default(),
        anonymous_target_label: None,
        reuse_anonymous: Default::default(),
        labels,
        process: ProcessRequest {
            command: args.collect(),
            entrypoint: a.entrypoint,
            env_files: a.env_file,
            env: a.env,
            user: a.user,
            workdir: a.workdir,
            hostname: a.hostname,
            network,
            tty: a.tty,
            interactive: a.interactive,
        },
    })
}

/// Whether `run`'s first argument names a directory rather than an image: it starts with `/`
/// (`/`, `/srv/rootfs`) or `.` (`.`, `./rootfs`, `../x`), which no image reference does. An
/// empty argument stays a rootfs, refused as such.
fn is_directory_argument(arg: &str) -> bool {
    arg.is_empty() || arg.starts_with('/') || arg.starts_with('.')
}

/// `-v` values as docker/cli keeps them: a set, so the same value given twice is one mount.
fn distinct_volumes(values: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    values.into_iter().filter(|v| seen.insert(v.clone())).collect()
}

/// `--tmpfs` values as docker/cli keeps them: a map from the destination (the text before the
/// first `:`) to the options, so a destination given again replaces the earlier value.
fn tmpfs_by_destination(values: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(values.len());
    for v in values {
        let dest = |s: &str| s.split(':').next().unwrap_or("").to_owned();
        match out.iter_mut().find(|o| dest(o) == dest(&v)) {
            Some(o) => *o = v,
            None => out.push(v),
        }
    }
    out
}

/// The working directory, read once here at the edge and passed down.
pub(super) fn current_dir() -> Result<PathBuf> {
    std::env::current_dir()
        .map_err(|e| Failure::new(ExitStatus::Usage, format!("cannot read the current directory: {}", errno_text(&e))))
}
