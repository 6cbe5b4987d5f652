//! One module per verb: arguments → library calls → output. Commands write to the writers
//! they are handed and return a [`Failure`] for `main` to render; they never exit.

pub mod archive;
pub mod compose;
pub mod exec_spec;
pub mod image;
mod inspect;
pub mod run;
pub mod status;
pub mod system;
pub mod volume;

use std::fmt;
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use myvol::driver::Plugins;
use myvol::name::VolumeName;
use myvol::plan::{PlanError, RunError};
use myvol::store::{Store, StoreError};

use crate::cli::{Cli, Command, Lazy};
pub use status::ExitStatus;

/// How a command failed: the exit status and one message per error, each printed by `main`
/// as `Error: …`.
#[derive(Debug)]
pub struct Failure {
    pub status: ExitStatus,
    pub messages: Vec<String>,
    /// The failure is a closed stdout: end quietly.
    pub broken_pipe: bool,
    /// A line after the messages saying where to look or what to do next.
    pub hint: Option<String>,
}

impl Failure {
    pub fn new(status: ExitStatus, msg: impl fmt::Display) -> Failure {
        Failure { status, messages: vec![msg.to_string()], broken_pipe: false, hint: None }
    }

    pub fn many(status: ExitStatus, messages: Vec<String>) -> Failure {
        Failure { status, messages, broken_pipe: false, hint: None }
    }

    /// Exit with `status` and print nothing: the command has said all there is (`volume
    /// exists`), or the status is the run's command's own.
    pub fn quiet(status: ExitStatus) -> Failure {
        Failure::many(status, Vec::new())
    }

    /// A `--format` failure: a write error is one (a closed pipe ends quietly), anything else
    /// exits with `status`.
    pub fn format(status: ExitStatus, e: myvol::output::FormatError) -> Failure {
        match e {
            myvol::output::FormatError::Write(e) => Failure::from(e),
            e => Failure::new(status, e),
        }
    }

    /// Add a line saying where to look or what to do next.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Failure {
        self.hint = Some(hint.into());
        self
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Failure {
        let broken_pipe = e.kind() == io::ErrorKind::BrokenPipe;
        Failure { status: ExitStatus::Failure, messages: vec![format!("write: {e}")], broken_pipe, hint: None }
    }
}

/// What Docker's engine would answer is printed as Docker's client prints an engine's error:
/// with the spaces around it trimmed (`invalid mode: ro ` prints `invalid mode: ro`).
impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Failure {
        Failure::new(ExitStatus::Failure, e.to_string().trim())
    }
}

/// A failed run, with `docker run`'s status for what failed ([`ExitStatus::of_run_error`]),
/// trimmed as an engine's error.
impl From<RunError> for Failure {
    fn from(e: RunError) -> Failure {
        let f = Failure::new(ExitStatus::of_run_error(&e), e.to_string().trim());
        match e {
            // `myvol run ./ubuntu`: what ROOTFS is, and how an image is named instead.
            RunError::Plan(PlanError::Rootfs(_)) => f.with_hint(
                "ROOTFS is a directory holding a root filesystem (/…, ./… or --rootfs DIR); an image is named without a leading / or .",
            ),
            _ => f,
        }
    }
}

/// A store error as a failure; for a volume in use, the hint says who uses it, in words.
pub fn store_failure(store: &Store, e: StoreError) -> Failure {
    let hint = in_use(&e).and_then(|(name, ids)| holders(store, name, ids));
    let f = Failure::from(e);
    match hint {
        Some(h) => f.with_hint(h),
        None => f,
    }
}

/// The volume and lease ids of an "in use" error.
fn in_use(e: &StoreError) -> Option<(&str, &[String])> {
    match e {
        StoreError::InUse { name, ids } | StoreError::Busy { name, ids, .. } => Some((name, ids)),
        _ => None,
    }
}

/// One line per user of `name` (from its lease files), the oldest first as in `.Users`:
/// `Used by `myvol run -v v:/d / sleep 9` (pid 4242) since TIME`, or, for a `volume mount`,
/// how to release it. A Compose run is named by its labels: `(pid 4242, compose project p,
/// service web)`. None if no lease file can be read (the holder left meanwhile).
pub fn holders(store: &Store, name: &str, ids: &[String]) -> Option<String> {
    let name = VolumeName::parse(name).ok()?;
    let lines: Vec<String> = store
        .lease_users(&name, ids)
        .into_iter()
        .map(|u| {
            let since = myvol::text::escape_control(&u.since).into_owned();
            let kind = myvol::text::escape_control(&u.kind).into_owned();
            // Label text is outside data: escaped like the rest.
            let compose = u.compose_names().map(|c| myvol::text::escape_control(&c).into_owned());
            let pid_and = |pid: u32| match &compose {
                Some(c) => format!("pid {pid}, {c}"),
                None => format!("pid {pid}"),
            };
            match (&u.command, u.pid) {
                _ if u.id.starts_with(myvol::store::PIN_PREFIX) => {
                    format!("Used by `myvol volume mount` since {since}; `myvol volume unmount {name}` releases it")
                }
                (Some(command), Some(pid)) => {
                    format!("Used by `{}` ({}) since {since}", myvol::text::escape_control(command), pid_and(pid))
                }
                // A lease kept after its holder died: it records a driver mount not undone yet.
                _ if u.ended => format!(
                    "Used by `myvol {kind}` ({}), which ended without its driver unmounting the volume; the next myvol command tries again",
                    pid_and(u.pid.unwrap_or(0))
                ),
                _ => match &compose {
                    Some(c) => format!("Used by `myvol {kind}` ({c}) since {since}"),
                    None => format!("Used by `myvol {kind}` since {since}"),
                },
            }
        })
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// A volume named on the command line: a string that is not a volume name names no volume
/// (Docker's `get NAME: no such volume`).
pub fn volume_name(name: &str) -> std::result::Result<VolumeName, StoreError> {
    VolumeName::parse(name).map_err(|_| StoreError::NotFound(name.to_owned()))
}

/// What a command can read and write.
pub struct Io<'a> {
    pub out: &'a mut dyn Write,
    pub input: &'a mut dyn BufRead,
}

impl Io<'_> {
    /// docker/cli's `PromptForConfirmation` after `warning`: true only for `y` (any case).
    pub fn confirm(&mut self, warning: &str) -> io::Result<bool> {
        write!(self.out, "{warning}\nAre you sure you want to continue? [y/N] ")?;
        self.out.flush()?;
        let mut answer = String::new();
        let _ = self.input.read_line(&mut answer);
        Ok(answer.trim().eq_ignore_ascii_case("y"))
    }
}

pub type Result<T = ()> = std::result::Result<T, Failure>;

/// The default managed root: `/var/lib/myvol` for root, else `$XDG_DATA_HOME/myvol`, else
/// `~/.local/share/myvol`.
pub fn default_root() -> PathBuf {
    if rustix::process::geteuid().is_root() {
        return PathBuf::from("/var/lib/myvol");
    }
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|x| Path::new(x).is_absolute()) {
        return PathBuf::from(x).join("myvol");
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/"));
    home.join(".local/share/myvol")
}

/// Hand the parsed command line to its command.
pub fn dispatch(cli: Cli, io: &mut Io<'_>) -> Result {
    // What the environment says is read here, once: the store's root and the plugins.
    let plugins = Arc::new(Plugins::from_env());
    let store = Store::new(cli.root.unwrap_or_else(default_root))
        .with_external(plugins.clone())
        .with_limits(Arc::new(myvol::driver::quota::Limits));
    if !matches!(cli.command, Command::Completion(_) | Command::Man(_) | Command::Version(_)) {
        // Unmount what users that died left mounted (nothing to do, one directory read, in
        // the usual case).
        myvol::driver::reconcile(&store, &plugins);
    }
    match cli.command {
        Command::Volume(Lazy(cmd)) => volume::dispatch(&store, &plugins, cmd, io),
        Command::Run(Lazy(args)) => run::myvol_run(&store, &plugins, args, io),
        Command::System(Lazy(cmd)) => system::dispatch(&store, cmd, io),
        Command::Compose(Lazy(args)) => compose::dispatch(&store, &plugins, args, io),
        Command::Image(Lazy(cmd)) => image::dispatch(&store, cmd, io),
        Command::Pull(Lazy(a)) => image::pull(&store, a, io),
        Command::Images(Lazy(a)) => image::ls(&store, a, io),
        Command::Rmi(Lazy(a)) => image::rm(&store, a, io),
        Command::Tag(Lazy(a)) => image::tag(&store, a, io),
        Command::Load(Lazy(a)) => image::load(&store, a, io),
        Command::Save(Lazy(a)) => image::save(&store, a, io),
        Command::Login(Lazy(a)) => image::login(a, io),
        Command::Logout(Lazy(a)) => image::logout(a, io),
        Command::Completion(Lazy(a)) => system::completion(a, io),
        Command::Version(Lazy(a)) => system::version(&store, a, io),
        Command::Man(Lazy(a)) => system::man(a, io),
        Command::ExecSpec { file } => exec_spec::myvol_exec_spec(&store, &file, io),
    }
}

/// docker/cli's list format from its config file (`volumesFormat` for `volume ls`,
/// `imagesFormat` for `images`): what a list prints when neither `--format` (or an empty one)
/// nor `-q` is given. The file (`$DOCKER_CONFIG/config.json`, default `~/.docker/config.json`,
/// as for registry credentials) is read only then. One that cannot be read or parsed gives
/// Docker's warning on stderr, and the default table.
fn config_list_format(key: &str, format: Option<&str>, quiet: bool) -> Option<String> {
    if quiet || format.is_some_and(|f| !f.is_empty()) {
        return None;
    }
    match myvol::image::credentials::DockerConfig::load() {
        Ok(c) => c.string(key).map(str::to_owned),
        Err(e) => {
            eprintln!("WARNING: Error {e}");
            None
        }
    }
}
