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

    /// User to run as: UID[:GID] or NAME[:GROUP], names looked up in the rootfs's /etc/passwd
    /// and /etc/group (read as text)
    #[arg(short = 'u', long = "user", value_name = "USER", allow_hyphen_values = true)]
    pub user: Option<String>,

    /// Run this program instead of the default (/bin/sh); COMMAND and ARGs become its
    /// arguments
    #[arg(long, value_name = "COMMAND", allow_hyphen_values = true)]
    pub entrypoint: Option<String>,

    /// The run's hostname (default: the first 12 hex digits of the run id)
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

/// Flags of `docker run` that myvol deliberately does not support, long and short forms:
/// they are refused with "myvol run does not support …", not "unknown flag".
pub const UNSUPPORTED: &[(&str, Option<char>)] = &[
    ("add-host", None),
    ("annotation", None),
    ("attach", Some('a')),
    ("blkio-weight", None),
    ("cap-add", None),
    ("cap-drop", None),
    ("cgroup-parent", None),
    ("cgroupns", None),
    ("cidfile", None),
    ("cpu-period", None),
    ("cpu-quota", None),
    ("cpu-shares", Some('c')),
    ("cpus", None),
    ("cpuset-cpus", None),
    ("detach", Some('d')),
    ("detach-keys", None),
    ("device", None),
    ("device-cgroup-rule", None),
    ("dns", None),
    ("dns-option", None),
    ("dns-search", None),
    ("domainname", None),
    ("expose", None),
    ("gpus", None),
    ("group-add", None),
    ("health-cmd", None),
    ("init", None),
    ("ip", None),
    ("ip6", None),
    ("ipc", None),
    ("isolation", None),
    ("label", Some('l')),
    ("link", None),
    ("log-driver", None),
    ("log-opt", None),
    ("mac-address", None),
    ("memory", Some('m')),
    ("memory-swap", None),
    ("name", None),
    ("network-alias", None),
    ("oom-kill-disable", None),
    ("pid", None),
    ("pids-limit", None),
    ("platform", None),
    ("privileged", None),
    ("publish", Some('p')),
    ("publish-all", Some('P')),
    ("pull", None),
    ("restart", None),
    ("runtime", None),
    ("security-opt", None),
    ("shm-size", None),
    ("sig-proxy", None),
    ("stop-signal", None),
    ("stop-timeout", None),
    ("storage-opt", None),
    ("sysctl", None),
    ("ulimit", None),
    ("userns", None),
    ("uts", None),
    ("volumes-from", None),
];

/// The error for a flag `arg` (`--name=x`, `-p`, `-itd`) clap did not take: Docker's
/// `unknown flag: --x` / `unknown shorthand flag: 'x' in -x`, or, for a `docker run` flag
/// myvol leaves out on purpose, `myvol run does not support --x`.
pub fn flag_error(arg: &str) -> String {
    let flag = arg.split('=').next().unwrap_or(arg);
    if let Some(long) = flag.strip_prefix("--") {
        if UNSUPPORTED.iter().any(|(l, _)| *l == long) {
            return format!("myvol run does not support --{long}");
        }
        return format!("unknown flag: --{long}");
    }
    let letters = flag.trim_start_matches('-');
    // The first letter of a cluster that is not one of run's own short flags.
    let own = ['v', 'i', 't', 'w', 'e', 'u', 'h'];
    let letter = letters.chars().find(|c| !own.contains(c)).or(letters.chars().next()).unwrap_or('-');
    if let Some((long, _)) = UNSUPPORTED.iter().find(|(_, s)| *s == Some(letter)) {
        return format!("myvol run does not support -{letter}/--{long}");
    }
    format!("unknown shorthand flag: '{letter}' in {flag}")
}
