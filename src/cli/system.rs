//! `myvol system …` and `myvol completion`.

use clap::{Args, Subcommand, ValueEnum};

use super::Lazy;

#[derive(Debug, Subcommand)]
pub enum SystemCommand {
    /// Show disk usage
    ///
    /// Docker's `system df` for local volumes: the apparent size of each volume's content
    /// (hard links counted once). The Images, Containers and Build Cache rows are always zero:
    /// myvol manages volumes only. Volumes with driver options (tmpfs, bind, NFS) are not
    /// counted, as in Docker.
    #[command(override_usage = "myvol system df [OPTIONS]")]
    Df(Lazy<DfArgs>),
}

#[derive(Debug, Args)]
pub struct DfArgs {
    /// Format output using a custom template:
    /// 'table':            Print output in table format with column headers (default)
    /// 'table TEMPLATE':   Print output in table format using the given Go template
    /// 'json':             Print in JSON format
    /// 'TEMPLATE':         Print output using the given Go template
    #[arg(long, value_name = "FORMAT", verbatim_doc_comment)]
    pub format: Option<String>,

    /// Show detailed information on space usage
    #[arg(short, long)]
    pub verbose: bool,
}

#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Format output using a custom template:
    /// 'json':             Print in JSON format
    /// 'TEMPLATE':         Print output using the given Go template
    #[arg(short, long, value_name = "FORMAT", verbatim_doc_comment)]
    pub format: Option<String>,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// The command whose page to print (none: myvol(1))
    #[arg(value_name = "COMMAND")]
    pub command: Vec<String>,

    /// Write every page (myvol.1, myvol-volume.1, myvol-volume-create.1, …) into DIR, and
    /// print their paths
    #[arg(long, value_name = "DIR", conflicts_with = "command")]
    pub dir: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// The shell to complete for
    #[arg(value_name = "SHELL")]
    pub shell: Shell,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}
