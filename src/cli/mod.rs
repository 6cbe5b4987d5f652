//! The command line, as clap types only: no behaviour lives here. Doc comments are the help.

pub mod run;
pub mod system;
pub mod volume;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// A Docker-compatible volume manager for Linux, with no daemon.
///
/// myvol keeps named and anonymous volumes under a managed root and manages them with the
/// commands, flags, output and errors of `docker volume`. It needs no daemon: every command
/// is one short-lived process working directly on the store.
#[derive(Debug, Parser)]
#[command(name = "myvol", version, propagate_version = true, disable_help_subcommand = true)]
#[command(after_help = "Run 'myvol COMMAND --help' for more information on a command.")]
pub struct Cli {
    /// The managed root holding the volumes [default: /var/lib/myvol as root,
    /// $XDG_DATA_HOME/myvol or ~/.local/share/myvol otherwise]
    #[arg(long, global = true, env = "MYVOL_ROOT", value_name = "DIR")]
    pub root: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Manage volumes
    #[command(subcommand)]
    Volume(volume::VolumeCommand),

    /// Run a command in a root filesystem with volumes mounted
    ///
    /// Runs COMMAND (default /bin/sh) in ROOTFS (a directory holding a root filesystem, or /
    /// for the host's own tree) as `docker run` runs a container: in new mount, PID, UTS and
    /// IPC namespaces (and a network namespace with --network none), on a throwaway writable
    /// layer over the rootfs, with the volumes, binds and tmpfs of -v, --mount and --tmpfs.
    /// Named volumes are created on first use; --rm removes the run's anonymous volumes
    /// afterwards. The exit status is the command's (128+N when signal N killed it), 125 when
    /// myvol failed, 126 when the command could not be run, 127 when it was not found.
    #[command(override_usage = "myvol run [OPTIONS] ROOTFS [COMMAND] [ARG...]", disable_help_flag = true)]
    Run(run::RunArgs),
    /// Manage the managed root
    #[command(subcommand)]
    System(system::SystemCommand),

    /// Print a shell completion script
    ///
    /// For bash: `myvol completion bash > /etc/bash_completion.d/myvol`; zsh: into a
    /// directory of $fpath as `_myvol`; fish: `~/.config/fish/completions/myvol.fish`.
    #[command(override_usage = "myvol completion bash|zsh|fish")]
    Completion(system::CompletionArgs),

    /// Print the manual page (roff) generated from this help: `myvol man | man -l -`
    #[command(hide = true)]
    Man,
    /// Run a command from a resolved exec spec (JSON), as `runc run` takes config.json:
    /// plumbing for testing and debugging the run executor
    #[command(name = "exec-spec", hide = true)]
    ExecSpec {
        /// The spec file (JSON), or `-` for stdin
        file: PathBuf,
    },
}
