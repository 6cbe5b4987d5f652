//! `myvol compose …`: clap types only.

use std::path::PathBuf;

use clap::{Args, Subcommand};

// The options every `compose` command takes, then the command (no doc comment: it would
// replace the command's own help).
#[derive(Debug, Args)]
pub struct ComposeArgs {
    /// Compose configuration files (`-` for standard input) [default: compose.yaml,
    /// compose.yml, docker-compose.yml or docker-compose.yaml in the current directory or
    /// the nearest parent that has one, or $COMPOSE_FILE]
    #[arg(short = 'f', long = "file", value_name = "FILE", global = true)]
    pub files: Vec<PathBuf>,

    /// Project name [default: $COMPOSE_PROJECT_NAME, else the file's `name:`, else the
    /// project directory's name]
    #[arg(short = 'p', long = "project-name", value_name = "NAME", global = true)]
    pub project_name: Option<String>,

    /// Alternate working directory [default: the directory of the first compose file]
    #[arg(long, value_name = "DIR", global = true)]
    pub project_directory: Option<PathBuf>,

    /// Alternate environment files [default: .env in the project directory]
    #[arg(long = "env-file", value_name = "FILE", global = true)]
    pub env_files: Vec<PathBuf>,

    /// Profiles to enable [default: $COMPOSE_PROFILES]
    #[arg(id = "profile", long = "profile", value_name = "PROFILE", global = true)]
    pub profiles: Vec<String>,

    #[command(subcommand)]
    pub command: ComposeCommand,
}

#[derive(Debug, Subcommand)]
pub enum ComposeCommand {
    /// Parse, resolve and render compose file in canonical format
    ///
    /// Prints the project as Docker Compose v2 prints it: files merged, variables
    /// interpolated, `extends` and profiles applied, relative paths made absolute, every
    /// short syntax in its long form. Service keys myvol does not support yet (ports,
    /// networks, build…) are left out with a warning.
    Config(ConfigArgs),

    /// List volumes
    ///
    /// Lists the volumes of the store that carry the project's label, as `docker volume ls`
    /// does. With SERVICE arguments, only the volumes those services mount.
    Volumes(VolumesArgs),

    /// Create the project's volumes as `up` does (labels, config hash, the recreate
    /// question when the file changed): plumbing until `compose up` exists
    #[command(name = "up-volumes", hide = true)]
    UpVolumes(UpVolumesArgs),
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Format the output. Values: [yaml | json]
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,

    /// Only validate the configuration, don't print anything
    #[arg(short, long)]
    pub quiet: bool,

    /// Print the service names, one per line
    #[arg(long)]
    pub services: bool,

    /// Print the volume names, one per line
    #[arg(long)]
    pub volumes: bool,

    /// Print the profile names, one per line
    #[arg(long)]
    pub profiles: bool,

    /// Save to file (default to stdout)
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Services to render (with the services they depend on)
    #[arg(value_name = "SERVICE")]
    pub service_names: Vec<String>,
}

#[derive(Debug, Args)]
pub struct VolumesArgs {
    /// Only display volume names
    #[arg(short, long)]
    pub quiet: bool,

    /// Format output using a custom template: 'table', 'table TEMPLATE', 'json' or a Go
    /// template
    #[arg(long, value_name = "FORMAT", default_value = "table")]
    pub format: String,

    /// Services whose volumes to list (all the project's volumes when none is given)
    #[arg(value_name = "SERVICE")]
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct UpVolumesArgs {
    /// Assume "yes" as answer to all prompts and run non-interactively
    #[arg(short = 'y', long = "yes")]
    pub yes: bool,
}
