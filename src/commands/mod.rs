//! One module per verb: arguments → library calls → output. Commands write to the writers
//! they are handed and return a [`Failure`] for `main` to render; they never exit.

pub mod archive;
pub mod compose;
pub mod exec_spec;
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
use myvol::plan::RunError;
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
}

impl Failure {
    pub fn new(status: ExitStatus, msg: impl fmt::Display) -> Failure {
        Failure { status, messages: vec![msg.to_string()], broken_pipe: false }
    }

    pub fn many(status: ExitStatus, messages: Vec<String>) -> Failure {
        Failure { status, messages, broken_pipe: false }
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
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Failure {
        let broken_pipe = e.kind() == io::ErrorKind::BrokenPipe;
        Failure { status: ExitStatus::Failure, messages: vec![format!("write: {e}")], broken_pipe }
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Failure {
        Failure::new(ExitStatus::Failure, e)
    }
}

/// A failed run, with `docker run`'s status for what failed ([`ExitStatus::of_run_error`]).
impl From<RunError> for Failure {
    fn from(e: RunError) -> Failure {
        Failure::new(ExitStatus::of_run_error(&e), e)
    }
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
    let store = Store::new(cli.root.unwrap_or_else(default_root)).with_external(plugins.clone());
    if !matches!(cli.command, Command::Completion(_) | Command::Man) {
        // Unmount what users that died left mounted (nothing to do, one directory read, in
        // the usual case).
        myvol::driver::reconcile(&store, &plugins);
    }
    match cli.command {
        Command::Volume(Lazy(cmd)) => volume::dispatch(&store, &plugins, cmd, io),
        Command::Run(Lazy(args)) => run::myvol_run(&store, &plugins, args, io),
        Command::System(Lazy(cmd)) => system::dispatch(&store, cmd, io),
        Command::Compose(Lazy(args)) => compose::dispatch(&store, args, io),
        Command::Completion(Lazy(a)) => system::completion(a, io),
        Command::Man => system::man(io),
        Command::ExecSpec { file } => exec_spec::myvol_exec_spec(&store, &file, io),
    }
}
