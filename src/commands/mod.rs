//! One module per verb: arguments → library calls → output. Commands write to the writers
//! they are handed and return a [`Failure`] for `main` to render; they never exit.

pub mod archive;
pub mod exec_spec;
pub mod run;
pub mod status;
pub mod system;
pub mod volume;

use std::fmt;
use std::io::{self, BufRead, Write};

use myvol::plan::RunError;
use myvol::store::Store;

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
impl From<myvol::store::StoreError> for Failure {
    fn from(e: myvol::store::StoreError) -> Failure {
        Failure::new(ExitStatus::Failure, e.to_string().trim())
    }
}

/// A failed run, with `docker run`'s status for what failed ([`ExitStatus::of_run_error`]),
/// trimmed as an engine's error.
impl From<RunError> for Failure {
    fn from(e: RunError) -> Failure {
        Failure::new(ExitStatus::of_run_error(&e), e.to_string().trim())
    }
}

/// What a command can read and write.
pub struct Io<'a> {
    pub out: &'a mut dyn Write,
    pub input: &'a mut dyn BufRead,
}

pub type Result<T = ()> = std::result::Result<T, Failure>;

/// Hand the parsed command line to its command.
pub fn dispatch(cli: Cli, io: &mut Io<'_>) -> Result {
    let store = Store::new(cli.root.unwrap_or_else(myvol::store::default_root))
        .with_external(std::sync::Arc::new(myvol::driver::Plugins::from_env()));
    if !matches!(cli.command, Command::Completion(_) | Command::Man | Command::Version(_)) {
        // Unmount what users that died left mounted (nothing to do, one directory read, in
        // the usual case).
        myvol::driver::reconcile(&store);
    }
    match cli.command {
        Command::Volume(Lazy(cmd)) => volume::dispatch(&store, cmd, io),
        Command::Run(Lazy(args)) => run::myvol_run(&store, args, io),
        Command::System(Lazy(cmd)) => system::dispatch(&store, cmd, io),
        Command::Completion(Lazy(a)) => system::completion(a, io),
        Command::Version(Lazy(a)) => system::version(&store, a, io),
        Command::Man => system::man(io),
        Command::ExecSpec { file } => exec_spec::myvol_exec_spec(&store, &file, io),
    }
}
