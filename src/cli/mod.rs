//! The command line, as clap types only: no behaviour lives here. Doc comments are the help.

pub mod compose;
pub mod image;
pub mod run;
pub mod system;
pub mod volume;

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// A Docker-compatible volume manager for Linux, with no daemon.
///
/// myvol keeps named and anonymous volumes under a managed root and manages them with the
/// commands, flags, output and errors of `docker volume`. It needs no daemon: every command
/// is one short-lived process working directly on the store.
// (`C`: the top-level commands defined: [`Command`], all of them, but in [`try_parse`].)
#[derive(Debug, Parser)]
#[command(name = "myvol", version, propagate_version = true, disable_help_subcommand = true)]
#[command(args_override_self = true)]
#[command(after_help = "Run 'myvol COMMAND --help' for more information on a command.")]
pub struct CliWith<C: Subcommand> {
    /// The managed root holding the volumes [default: /var/lib/myvol as root,
    /// $XDG_DATA_HOME/myvol or ~/.local/share/myvol otherwise]
    #[arg(long, global = true, env = "MYVOL_ROOT", value_name = "DIR")]
    pub root: Option<PathBuf>,

    #[command(subcommand)]
    pub command: C,
}

/// The command line, with every command.
pub type Cli = CliWith<Command>;

/// Declares the top-level command enum as written and, beside it, one enum per command with
/// only that command (same attributes, same help): [`command_for`] builds a command line from
/// one of those.
macro_rules! top_level {
    ($(#[$meta:meta])* pub enum Command { $($(#[$vmeta:meta])* $variant:ident $fields:tt,)* }) => {
        $(#[$meta])*
        pub enum Command { $($(#[$vmeta])* $variant $fields,)* }

        /// Each top-level command alone.
        mod one {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[derive(clap::Subcommand)]
                #[allow(dead_code)]
                pub enum $variant { $(#[$vmeta])* $variant $fields }
            )*
        }

        /// The command line with only the top-level command `name` defined, as `Cli::command()`
        /// defines it; None if no command has that name.
        fn command_for(name: &str) -> Option<clap::Command> {
            $(
                if <one::$variant as Subcommand>::has_subcommand(name) {
                    return Some(<CliWith<one::$variant> as clap::CommandFactory>::command());
                }
            )*
            None
        }
    };
}

top_level! {
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Manage volumes
    #[command(subcommand)]
    Volume(Lazy<volume::VolumeCommand>),

    /// Create and run a new container from an image (or a root filesystem directory)
    ///
    /// Runs IMAGE as `docker run` does: its Entrypoint and Cmd (COMMAND replaces the Cmd),
    /// Env, WorkingDir, User and declared VOLUMEs, pulled first when the store does not have
    /// it (--pull). IMAGE is a directory when it starts with `/` or `.` (`./rootfs`, `/`
    /// for the host's own tree), or with --rootfs DIR: then COMMAND (default /bin/sh) runs
    /// in that root filesystem. The run gets new mount, PID, UTS and IPC namespaces (and a
    /// network namespace with --network none), a throwaway writable layer over the image or
    /// rootfs, and the volumes, binds, tmpfs and image mounts of -v, --mount and --tmpfs.
    /// Named volumes are created on first use; --rm removes the run's anonymous volumes
    /// afterwards. The exit status is the command's (128+N when signal N killed it), 125 when
    /// myvol failed, 126 when the command could not be run, 127 when it was not found.
    #[command(override_usage = "myvol run [OPTIONS] IMAGE|ROOTFS [COMMAND] [ARG...]", disable_help_flag = true)]
    Run(Lazy<run::RunArgs>),
    /// Manage the managed root
    #[command(subcommand)]
    System(Lazy<system::SystemCommand>),

    /// Define and run multi-container applications from Compose files
    ///
    /// Reads compose.yaml (or the files of -f) as Docker Compose v2 reads them: `config`,
    /// `volumes`, and in the foreground `run`, `up` and `down` (no daemon: no `up -d`).
    #[command(override_usage = "myvol compose [OPTIONS] COMMAND")]
    Compose(Lazy<compose::ComposeArgs>),
    /// Manage images
    #[command(subcommand)]
    Image(Lazy<image::ImageCommand>),

    /// Download an image from a registry
    #[command(override_usage = "myvol pull [OPTIONS] NAME[:TAG|@DIGEST]", long_about = image::PULL_ABOUT)]
    Pull(Lazy<image::PullArgs>),

    /// List images
    #[command(override_usage = "myvol images [OPTIONS] [REPOSITORY[:TAG]]")]
    Images(Lazy<image::LsArgs>),

    /// Remove one or more images
    #[command(override_usage = "myvol rmi [OPTIONS] IMAGE [IMAGE...]")]
    Rmi(Lazy<image::RmArgs>),

    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
    #[command(override_usage = "myvol tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]")]
    Tag(Lazy<image::TagArgs>),

    /// Load an image from a tar archive or STDIN
    #[command(override_usage = "myvol load [OPTIONS]", long_about = image::LOAD_ABOUT)]
    Load(Lazy<image::LoadArgs>),

    /// Save one or more images to a tar archive (streamed to STDOUT by default)
    #[command(override_usage = "myvol save [OPTIONS] IMAGE [IMAGE...]", long_about = image::SAVE_ABOUT)]
    Save(Lazy<image::SaveArgs>),

    /// Authenticate to a registry
    ///
    /// Checks the credentials with the registry and stores them as Docker does: in the
    /// credential helper ~/.docker/config.json names, else base64-encoded in that file.
    /// Defaults to Docker Hub if no server is specified.
    #[command(override_usage = "myvol login [OPTIONS] [SERVER]")]
    Login(Lazy<image::LoginArgs>),

    /// Log out from a registry
    ///
    /// Removes the credentials of SERVER (Docker Hub if none is given).
    #[command(override_usage = "myvol logout [SERVER]")]
    Logout(Lazy<image::LogoutArgs>),

    /// Print a shell completion script
    ///
    /// For bash: `myvol completion bash > /etc/bash_completion.d/myvol`; zsh: into a
    /// directory of $fpath as `_myvol`; fish: `~/.config/fish/completions/myvol.fish`.
    #[command(override_usage = "myvol completion bash|zsh|fish")]
    Completion(Lazy<system::CompletionArgs>),

    /// Show the myvol version information
    ///
    /// The version, the git commit it was built from, the Rust compiler that built it, the
    /// platform, and the store this command line would use.
    #[command(override_usage = "myvol version [OPTIONS]")]
    Version(Lazy<system::VersionArgs>),

    /// Print a manual page (roff) generated from this help: `myvol man | man -l -`
    ///
    /// Without COMMAND, myvol(1), which also has a section for every command; with one, that
    /// command's own page (`myvol man volume create`: myvol-volume-create(1)). `--dir DIR`
    /// writes every page, so that the pages each one names exist:
    /// `myvol man --dir /usr/local/share/man/man1`.
    #[command(hide = true, override_usage = "myvol man [--dir DIR] [COMMAND...]")]
    Man(Lazy<system::ManArgs>),
    /// Run a command from a resolved exec spec (JSON), as `runc run` takes config.json:
    /// plumbing for testing and debugging the run executor
    #[command(name = "exec-spec", hide = true)]
    ExecSpec {
        /// The spec file (JSON), or `-` for stdin
        file: PathBuf,
    },
}
}

/// `Cli::try_parse_from(argv)`, with only the top-level command that `argv` names defined when it
/// names one.
///
/// clap defines every top-level command before it parses (its help, its usage, and a copy of
/// the global `--root` and `--version` in each, [`Lazy`] or not), then frees them all: a quick
/// command such as `volume inspect` spent a sixth of its instructions on commands it did not
/// use. The command is the first word, after `--root DIR` (`--root=DIR`); when there is none
/// (`myvol --help`, `myvol`, `myvol nosuch`), every command is defined, as the errors, help and
/// suggestions need. Either way the matches are read into the whole [`Cli`]. The definitions are
/// left for the process's end to free (freeing them cost a tenth of a quick command's
/// instructions).
pub fn try_parse(argv: &[OsString]) -> Result<Cli, clap::Error> {
    let mut cmd = named(argv).and_then(command_for).unwrap_or_else(Cli::command);
    let parsed = cmd
        .try_get_matches_from_mut(argv)
        .and_then(|mut m| Cli::from_arg_matches_mut(&mut m).map_err(|e| e.format(&mut Cli::command())));
    std::mem::forget(cmd);
    parsed
}

/// The word of `argv` that names its top-level command, if it is where clap would look first.
fn named(argv: &[OsString]) -> Option<&str> {
    let word = match argv.get(1)?.to_str()? {
        "--root" => argv.get(3)?.to_str()?,
        root if root.starts_with("--root=") => argv.get(2)?.to_str()?,
        word => word,
    };
    (!word.starts_with('-')).then_some(word)
}

/// A command's arguments, defined only when clap enters that command.
///
/// Every myvol invocation is a short process, and clap builds the definition of every flag of
/// every command before it parses (`run` alone declares about a hundred of Docker's): heap
/// and code pages touched for nothing, which on this kind of process cost more than the
/// parse itself. Wrapping a command's arguments in `Lazy` makes clap define them when the
/// command line reaches that command (`Command::defer`), and for help, completion and man
/// output, which build the whole tree first.
#[derive(Debug)]
pub struct Lazy<T>(pub T);

impl<T: clap::FromArgMatches> clap::FromArgMatches for Lazy<T> {
    fn from_arg_matches(m: &clap::ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches(m).map(Lazy)
    }
    fn from_arg_matches_mut(m: &mut clap::ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches_mut(m).map(Lazy)
    }
    fn update_from_arg_matches(&mut self, m: &clap::ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches(m)
    }
    fn update_from_arg_matches_mut(&mut self, m: &mut clap::ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches_mut(m)
    }
}

impl<T: clap::Args> clap::Args for Lazy<T> {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        cmd.defer(T::augment_args)
    }
    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        cmd.defer(T::augment_args_for_update)
    }
    fn group_id() -> Option<clap::Id> {
        T::group_id()
    }
}

impl<T: Subcommand> Subcommand for Lazy<T> {
    fn augment_subcommands(cmd: clap::Command) -> clap::Command {
        cmd.defer(T::augment_subcommands)
    }
    fn augment_subcommands_for_update(cmd: clap::Command) -> clap::Command {
        cmd.defer(T::augment_subcommands_for_update)
    }
    fn has_subcommand(name: &str) -> bool {
        T::has_subcommand(name)
    }
}

#[cfg(test)]
mod tests;
