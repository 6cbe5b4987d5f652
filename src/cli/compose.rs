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
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Project name [default: $COMPOSE_PROJECT_NAME, else the file's `name:`, else the
    /// project directory's name]
    #[arg(short = 'p', long = "project-name", value_name = "NAME")]
    pub project_name: Option<String>,

    /// Alternate working directory [default: the directory of the first compose file]
    #[arg(long, value_name = "DIR")]
    pub project_directory: Option<PathBuf>,

    /// Alternate environment files [default: .env in the project directory]
    #[arg(long = "env-file", value_name = "FILE")]
    pub env_files: Vec<PathBuf>,

    /// Profiles to enable [default: $COMPOSE_PROFILES]
    #[arg(id = "profile", long = "profile", value_name = "PROFILE")]
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
    /// question when the file changed), and nothing else (plumbing)
    #[command(name = "up-volumes", hide = true)]
    UpVolumes(UpVolumesArgs),

    /// Run a one-off command on a service
    ///
    /// Creates the project's volumes as `up` does, then runs SERVICE in the foreground as
    /// `myvol run` runs an image: the service's image, command, entrypoint, environment,
    /// working_dir, user, hostname, read_only, tmpfs, network_mode (host or none) and volumes.
    /// COMMAND replaces the service's command. The exit status is the command's. The
    /// service's dependencies are not started (myvol has no daemon to keep them running).
    #[command(override_usage = "myvol compose run [OPTIONS] SERVICE [COMMAND] [ARGS...]")]
    Run(RunArgs),

    /// Create and start containers
    ///
    /// Creates the project's volumes, then runs every selected service (and what it depends
    /// on) in the foreground, concurrently, their output prefixed with `<service>-1 | `.
    /// Ctrl-C stops them all. There is no detached mode: myvol has no daemon. A service's
    /// anonymous volumes are those of its previous `up` (with -V, new ones), as Compose keeps
    /// them with the service's container.
    #[command(override_usage = "myvol compose up [OPTIONS] [SERVICE...]", disable_version_flag = true)]
    Up(UpArgs),

    /// Stop and remove containers, networks
    ///
    /// myvol keeps no containers or networks once a run has ended: with -v, removes the
    /// project's volumes (not external ones) and the anonymous volumes its runs left.
    Down(DownArgs),

    /// Run one service of `up` (plumbing: `up` runs each service through it)
    #[command(name = "up-service", hide = true)]
    UpService(UpServiceArgs),

    /// The commands of Docker Compose that need a daemon
    #[command(external_subcommand)]
    Other(Vec<String>),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Automatically remove the container when it exits (here: its anonymous volumes)
    #[arg(long)]
    pub rm: bool,

    /// Set environment variables
    #[arg(short = 'e', long = "env", value_name = "KEY=VAL", allow_hyphen_values = true)]
    pub env: Vec<String>,

    /// Bind mount a volume
    #[arg(short = 'v', long = "volume", value_name = "SPEC", allow_hyphen_values = true)]
    pub volumes: Vec<String>,

    /// Override the entrypoint of the image
    #[arg(long, value_name = "CMD", allow_hyphen_values = true)]
    pub entrypoint: Option<String>,

    /// Working directory inside the container
    #[arg(short = 'w', long = "workdir", value_name = "DIR", allow_hyphen_values = true)]
    pub workdir: Option<String>,

    /// Run as specified username or uid
    #[arg(short = 'u', long = "user", value_name = "USER", allow_hyphen_values = true)]
    pub user: Option<String>,

    /// Assign a name to the container (accepted; myvol keeps no containers to name)
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// Disable pseudo-TTY allocation (default: a TTY when stdin is one)
    #[arg(short = 'T', long = "no-TTY")]
    pub no_tty: bool,

    /// Don't start linked services (myvol never does)
    #[arg(long)]
    pub no_deps: bool,

    /// SERVICE, then the command and its arguments (flags end at SERVICE: what follows is
    /// the command's; a word before it that looks like a flag is one)
    #[arg(value_name = "SERVICE", required = true, num_args = 1.., trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Debug, Args)]
pub struct UpArgs {
    /// Detached mode: refused, myvol has no daemon
    #[arg(short = 'd', long)]
    pub detach: bool,

    /// Stops all containers if any container was stopped
    #[arg(long)]
    pub abort_on_container_exit: bool,

    /// Return the exit code of the selected service container. Implies
    /// --abort-on-container-exit
    #[arg(long, value_name = "SERVICE")]
    pub exit_code_from: Option<String>,

    /// Produce monochrome output
    #[arg(long)]
    pub no_color: bool,

    /// Don't print prefix in logs
    #[arg(long)]
    pub no_log_prefix: bool,

    /// Use this timeout in seconds for container shutdown when attached or when containers
    /// are already running
    #[arg(short = 't', long, value_name = "SECONDS", default_value_t = 10)]
    pub timeout: u64,

    /// Assume "yes" as answer to all prompts and run non-interactively
    #[arg(short = 'y', long = "yes")]
    pub yes: bool,

    /// Recreate anonymous volumes instead of retrieving data from the previous containers
    /// (here: from the previous `up` of each service)
    #[arg(short = 'V', long = "renew-anon-volumes")]
    pub renew_anon_volumes: bool,

    /// Services to start (with what they depend on; all when none is given)
    #[arg(value_name = "SERVICE")]
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DownArgs {
    /// Remove named volumes declared in the "volumes" section of the Compose file and
    /// anonymous volumes attached to containers
    #[arg(short = 'v', long)]
    pub volumes: bool,

    /// Remove containers for services not defined in the Compose file (myvol keeps none)
    #[arg(long)]
    pub remove_orphans: bool,

    /// Specify a shutdown timeout in seconds (accepted; myvol has no running containers to
    /// stop)
    #[arg(short = 't', long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
}

#[derive(Debug, Args)]
pub struct UpServiceArgs {
    /// Make new anonymous volumes instead of mounting those of the previous `up`
    #[arg(long = "renew-anon-volumes")]
    pub renew_anon_volumes: bool,

    /// The service to run
    #[arg(value_name = "SERVICE")]
    pub service: String,
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
