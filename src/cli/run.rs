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

    /// Attach a filesystem mount to the run: type=bind|volume|tmpfs,source=…,target=…[,…]
    /// (Docker's CSV keys: readonly, bind-propagation, bind-recursive, bind-create-src,
    /// volume-nocopy, volume-subpath, volume-driver, volume-label, volume-opt, tmpfs-size,
    /// tmpfs-mode)
    #[arg(long = "mount", value_name = "MOUNT", allow_hyphen_values = true)]
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

    /// Print the mount plan as JSON (the shape of `docker inspect --format '{{json .Mounts}}'`)
    /// and exit, changing nothing
    #[arg(long = "dry-run")]
    pub dry_run: bool,

    /// The root filesystem directory, then the command and its arguments. Everything after
    /// ROOTFS belongs to the command, flags included.
    #[arg(
        value_name = "ROOTFS",
        required = true,
        num_args = 1..,
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub args: Vec<String>,
}
