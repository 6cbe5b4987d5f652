//! One module per verb: arguments → library calls → output. Commands write to the writers
//! they are handed and return a [`Failure`] for `main` to render; they never exit.

pub mod archive;
pub mod exec_spec;
pub mod image;
pub mod run;
pub mod system;
pub mod volume;

use std::fmt;
use std::io::{self, BufRead, Write};

use myvol::store::Store;

use crate::cli::{Cli, Command, Lazy};

/// Exit statuses, as Docker's CLI uses them.
pub mod status {
    /// A command failed (daemon-side errors in Docker).
    pub const FAILURE: u8 = 1;
    /// An inspect template that does not parse.
    pub const TEMPLATE: u8 = 64;
    /// A flag that does not parse.
    pub const USAGE: u8 = 125;
    /// `docker run`: an error that mentions `permission denied`.
    pub const CANNOT_INVOKE: u8 = 126;
    /// `docker run`: an error that mentions `no such file or directory`.
    pub const NOT_FOUND: u8 = 127;
}

/// How a command failed: the exit status and one message per error, each printed by `main`
/// as `Error: …`.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub messages: Vec<String>,
    /// The failure is a closed stdout: end quietly.
    pub broken_pipe: bool,
}

impl Failure {
    pub fn new(code: u8, msg: impl fmt::Display) -> Failure {
        Failure { code, messages: vec![msg.to_string()], broken_pipe: false }
    }

    pub fn many(code: u8, messages: Vec<String>) -> Failure {
        Failure { code, messages, broken_pipe: false }
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Failure {
        let broken_pipe = e.kind() == io::ErrorKind::BrokenPipe;
        Failure { code: status::FAILURE, messages: vec![format!("write: {e}")], broken_pipe }
    }
}

impl From<myvol::store::StoreError> for Failure {
    fn from(e: myvol::store::StoreError) -> Failure {
        Failure::new(status::FAILURE, e)
    }
}

/// What a command can read and write.
pub struct Io<'a> {
    pub out: &'a mut dyn Write,
    pub input: &'a mut dyn BufRead,
}

pub type Result<T = ()> = std::result::Result<T, Failure>;

/// Run the parsed command line.
pub fn run(cli: Cli, io: &mut Io<'_>) -> Result {
    let store = Store::new(cli.root.unwrap_or_else(myvol::store::default_root))
        .with_external(std::sync::Arc::new(myvol::driver::Plugins::from_env()));
    if !matches!(cli.command, Command::Completion(_) | Command::Man) {
        // Unmount what users that died left mounted (nothing to do, one directory read, in
        // the usual case).
        myvol::driver::reconcile(&store);
    }
    match cli.command {
        Command::Volume(Lazy(cmd)) => volume::run(&store, cmd, io),
        Command::Run(Lazy(args)) => run::run(&store, args, io),
        Command::System(Lazy(cmd)) => system::run(&store, cmd, io),
        Command::Image(Lazy(cmd)) => image::run(&store, cmd, io),
        Command::Pull(Lazy(a)) => image::pull(&store, a, io),
        Command::Images(Lazy(a)) => image::ls(&store, a, io),
        Command::Rmi(Lazy(a)) => image::rm(&store, a, io),
        Command::Tag(Lazy(a)) => image::tag(&store, a, io),
        Command::Load(Lazy(a)) => image::load(&store, a, io),
        Command::Save(Lazy(a)) => image::save(&store, a, io),
        Command::Login(Lazy(a)) => image::login(a, io),
        Command::Logout(Lazy(a)) => image::logout(a, io),
        Command::Completion(Lazy(a)) => system::completion(a, io),
        Command::Man => system::man(io),
        Command::ExecSpec { file } => exec_spec::run(&store, &file, io),
    }
}
