//! `myvol run …`: the flags of `docker run` that myvol supports so far.

use clap::Args;

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Bind mount a volume: [SOURCE:]DEST[:MODE]. SOURCE is a volume name (created if
    /// missing) or an absolute host path (`.`-relative paths are made absolute; a missing one
    /// is created); no SOURCE means a new anonymous volume. MODE is a comma list of
    /// rw|ro, z|Z, [r]private|[r]shared|[r]slave, nocopy
    #[arg(short = 'v', long = "volume", value_name = "LIST", allow_hyphen_values = true)]
    pub volumes: Vec<String>,

    /// Attach a filesystem mount to the run: type=bind|volume|tmpfs|image,source=…,target=…[,…]
    /// (Docker's CSV keys: readonly, bind-propagation, bind-recursive, bind-create-src,
    /// volume-nocopy, volume-subpath, volume-driver, volume-label, volume-opt, tmpfs-size,
    /// tmpfs-mode, image-subpath; an image is mounted read-only)
    #[arg(long = "mount", value_name = "MOUNT", allow_hyphen_values = true, value_parser = parse_mount_flag)]
    pub mounts: Vec<String>,

    /// Mount a tmpfs directory: DEST[:OPTIONS] (mount options such as size=64m,mode=1777,
    /// uid=1000, ro, exec; Docker's defaults noexec,nosuid,nodev apply)
    #[arg(long = "tmpfs", value_name = "LIST", allow_hyphen_values = true)]
    pub tmpfs: Vec<String>,

    /// Optional volume driver for the volumes of -v
    #[arg(long = "volume-driver", value_name = "STRING")]
    pub volume_driver: Option<String>,

    /// Automatically remove the run's anonymous volumes when it exits
    #[arg(long)]
    pub rm: bool,

    /// Mount the root filesystem as read only
    #[arg(long = "read-only")]
    pub read_only: bool,

    /// Keep STDIN open: the command reads myvol's standard input (without -i it reads
    /// /dev/null)
    #[arg(short = 'i', long)]
    pub interactive: bool,

    /// Allocate a pseudo-TTY: the command gets a terminal of its own (its controlling
    /// terminal), connected to myvol's standard input and output; TERM=xterm unless set
    #[arg(short = 't', long)]
    pub tty: bool,

    /// Working directory inside the rootfs (absolute; created if missing)
    #[arg(short = 'w', long = "workdir", value_name = "DIR", allow_hyphen_values = true)]
    pub workdir: Option<String>,

    /// Set an environment variable: KEY=VALUE, or KEY alone to take KEY from myvol's own
    /// environment (left out if unset there)
    #[arg(short = 'e', long = "env", value_name = "LIST", allow_hyphen_values = true)]
    pub env: Vec<String>,

    /// Read environment variables from a file, in Docker's format: one KEY=VALUE or KEY per
    /// line; blank lines and lines starting with # are skipped
    #[arg(long = "env-file", value_name = "FILE")]
    pub env_file: Vec<String>,

    /// Set meta data on the run: KEY[=VALUE] (recorded in the run's volume leases, shown by
    /// `volume inspect -f '{{json .Users}}'`)
    #[arg(short = 'l', long = "label", value_name = "LIST", allow_hyphen_values = true,
          value_parser = crate::cli::volume::parse_label)]
    pub labels: Vec<String>,

    /// Read in a line delimited file of labels (the env file's format; a KEY without =VALUE
    /// sets nothing)
    #[arg(long = "label-file", value_name = "LIST")]
    pub label_file: Vec<String>,

    /// User to run as: UID[:GID] or NAME[:GROUP], names looked up in the rootfs's /etc/passwd
    /// and /etc/group (read as text)
    #[arg(short = 'u', long = "user", value_name = "USER", allow_hyphen_values = true)]
    pub user: Option<String>,

    /// Overwrite the image's ENTRYPOINT (its CMD is then dropped: COMMAND and ARGs become
    /// the program's arguments); "" clears it. With a rootfs: run this program instead of the
    /// default (/bin/sh)
    #[arg(long, value_name = "COMMAND", allow_hyphen_values = true)]
    pub entrypoint: Option<String>,

    /// Pull image before running: missing (when the store does not have it), always, never
    #[arg(long, value_name = "STRING", default_value = "missing")]
    pub pull: String,

    /// Suppress the pull output
    #[arg(short = 'q', long)]
    pub quiet: bool,

    /// Run in this root filesystem directory instead of an image (podman's flag): every
    /// argument is then the command and its arguments
    #[arg(long, value_name = "DIR", allow_hyphen_values = true)]
    pub rootfs: Option<String>,

    /// The run's hostname, also in /etc/hostname (default: the host's with --network host, the first 12 hex digits of the run id with none)
    #[arg(short = 'h', long, value_name = "NAME")]
    pub hostname: Option<String>,

    /// Network mode: host (the host's network, the default) or none (a network namespace
    /// with only a loopback interface)
    #[arg(long = "network", visible_alias = "net", value_name = "MODE", default_value = "host")]
    pub network: String,

    /// Print help
    #[arg(long, action = clap::ArgAction::Help)]
    pub help: Option<bool>,

    /// Print the mount plan as JSON (the shape of `docker inspect --format '{{json .Mounts}}'`)
    /// and exit, changing nothing
    #[arg(long = "dry-run")]
    pub dry_run: bool,

    /// The image (a name, with a tag or digest, or an ID), or a root filesystem directory
    /// (`/…`, `./…`, `../…`), then the command and its arguments. Everything after IMAGE
    /// belongs to the command, flags included.
    #[arg(
        value_name = "IMAGE",
        required_unless_present = "rootfs",
        num_args = 1..,
        trailing_var_arg = true
    )]
    pub args: Vec<String>,
}

/// docker/cli's `MountOpt`: a `--mount` value the CLI itself refuses is a flag error (the
/// engine's checks come later, when the run is planned).
pub fn parse_mount_flag(val: &str) -> Result<String, String> {
    match myvol::spec::parse_mount(val, "/") {
        Err(myvol::spec::SpecError::MountFlag { reason, .. }) => Err(reason.to_string()),
        _ => Ok(val.to_owned()),
    }
}
