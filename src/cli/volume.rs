//! `myvol volume …`: Docker's `docker volume` flags.

use clap::{Args, Subcommand};

use super::Lazy;

#[derive(Debug, Subcommand)]
pub enum VolumeCommand {
    /// Create a volume
    ///
    /// Creates a new volume that runs can consume and store data in. If a name is not
    /// given, a random 64-hex-digit name is generated and the volume is anonymous (it carries
    /// the com.docker.volume.anonymous label, and `volume prune` removes it when unused).
    /// Creating a name that already exists with the same driver prints the name and
    /// changes nothing. --uid, --gid and --mode give the content an owner and mode;
    /// -o size=SIZE limits it (a project quota where the filesystem has them, else a disk
    /// image; -o quota=project|image chooses). Both are set before the volume appears.
    #[command(override_usage = "myvol volume create [OPTIONS] [VOLUME]")]
    Create(Lazy<CreateArgs>),

    /// List volumes
    ///
    /// Templates also have myvol's fields .InUse, .Users (who uses each volume) and .Limit
    /// (its size limit); with --size, a volume with a limit shows USED / LIMIT.
    #[command(visible_alias = "list", override_usage = "myvol volume ls [OPTIONS]")]
    Ls(Lazy<LsArgs>),

    /// Display detailed information on one or more volumes
    ///
    /// Docker's JSON. Templates also have myvol's fields .Owner ({UID, GID, Mode} as asked for
    /// at create, not the current owner of _data), .Quota ({Mode, Size, Used}) and .Users (one
    /// {ID, Kind, Pid, Command, Since, ReadOnly, Labels} per live user): `myvol volume inspect
    /// -f '{{json .Users}}' VOLUME`.
    #[command(override_usage = "myvol volume inspect [OPTIONS] VOLUME [VOLUME...]")]
    Inspect(Lazy<InspectArgs>),

    /// Remove one or more volumes
    ///
    /// A volume in use by a running process (`myvol run`, `myvol volume mount`) cannot be
    /// removed.
    #[command(visible_alias = "remove", override_usage = "myvol volume rm [OPTIONS] VOLUME [VOLUME...]")]
    Rm(Lazy<RmArgs>),

    /// Remove unused local volumes
    ///
    /// Removes anonymous local volumes that no process uses. With --all, named ones too.
    /// Volumes mounted from driver options (tmpfs, bind, NFS) are never pruned. With
    /// --filter until=…, only volumes created at or before that time (a duration before now,
    /// like 24h, or a date or time: 2026-01-31, 2026-01-31T12:00:00Z, a Unix timestamp).
    /// --dry-run lists what would go and the space it would free, and removes nothing.
    #[command(override_usage = "myvol volume prune [OPTIONS]")]
    Prune(Lazy<PruneArgs>),

    /// Rename a volume
    ///
    /// Atomic: the volume has its old name or its new one, never both or neither, even if
    /// myvol is killed midway. A volume in use cannot be renamed. An anonymous volume becomes
    /// a named one (its com.docker.volume.anonymous label is dropped). Prints the new name.
    #[command(override_usage = "myvol volume rename VOLUME NEW_NAME")]
    Rename(Lazy<RenameArgs>),

    /// Create a volume holding a copy of another
    ///
    /// The new volume gets the source's driver, options and labels (or the labels given with
    /// --label; never the anonymous label) and a faithful copy of its content: owners, modes,
    /// times, extended attributes, symlinks, hard links, sparse files and special files.
    /// Content is shared by reflink where the filesystem can (btrfs, XFS). The source is
    /// marked in use during the copy; the new volume appears only once it is complete.
    /// Prints the new name.
    #[command(override_usage = "myvol volume clone [OPTIONS] SOURCE_VOLUME NEW_VOLUME")]
    Clone(Lazy<CloneArgs>),

    /// Export a volume's content as a tar archive
    ///
    /// Writes a tar stream of the volume's content (directories, files, symlinks, hard
    /// links, FIFOs, device nodes; owners, modes, nanosecond mtimes, xattrs and ACLs; sparse
    /// files as sparse) to FILE, or to standard output when -o is not given. Refuses to write
    /// an archive to a terminal. FILE appears only once complete: a killed export leaves
    /// nothing. The volume is marked in use while it is read, so it cannot be removed
    /// meanwhile; a store mounted read-only can be exported too. When the output pipe is
    /// closed before the archive is complete, the export exits 141, quietly. See
    /// docs/archive.md.
    #[command(override_usage = "myvol volume export [OPTIONS] VOLUME")]
    Export(Lazy<ExportArgs>),

    /// Import a tar archive into a volume
    ///
    /// Replaces the volume's content with the archive's (plain, gzip or zstd, detected from
    /// the first bytes) read from FILE, or from standard input when FILE is absent or `-`.
    /// The archive is unpacked into a staging directory and swapped in only when all of it
    /// was read and unpacked: on any error the volume is left exactly as it was (with
    /// --create, there is no volume). Members that would land outside the volume (`..`,
    /// absolute names, paths through symlinks, hard links to outside) refuse the whole
    /// archive. Reading stops at the archive's end marker (and at most 1 MiB after it). The
    /// import stops before the unpacked content exceeds --max-size, or before the store's
    /// filesystem has less than --min-free left. See docs/archive.md.
    #[command(override_usage = "myvol volume import [OPTIONS] VOLUME [FILE|-]")]
    Import(Lazy<ImportArgs>),

    /// Mount volumes and print where their content is
    ///
    /// Makes each volume usable outside a run and prints, one per line, the path where its
    /// content is: the volume's directory for a plain volume; for a volume with driver
    /// options (tmpfs, bind, NFS, CIFS, a block device) the filesystem is mounted there
    /// first; for a plugin volume, the path the plugin mounted it on. The volume stays in use
    /// (`volume rm` refuses it) until `myvol volume unmount`. Each call counts: mount twice,
    /// unmount twice. For backups of driver-backed volumes.
    #[command(override_usage = "myvol volume mount VOLUME [VOLUME...]")]
    Mount(Lazy<MountArgs>),

    /// Unmount volumes mounted with `myvol volume mount`
    ///
    /// Releases one `volume mount` of each volume and prints its name; the filesystem is
    /// unmounted when no run and no other `volume mount` uses the volume any more. A volume
    /// that is not mounted is not an error (as podman).
    #[command(visible_alias = "umount", override_usage = "myvol volume unmount VOLUME [VOLUME...]")]
    Unmount(Lazy<MountArgs>),

    /// Update a volume (cluster volumes only)
    ///
    /// myvol has no cluster volumes: as Docker's CLI for a volume that is not one, it says
    /// `can only update cluster volumes`.
    #[command(hide = true, override_usage = "myvol volume update [OPTIONS] [VOLUME]")]
    Update(Lazy<UpdateArgs>),

    /// Check if a volume exists
    ///
    /// Exits 0 if the volume exists, 1 if it does not; prints nothing (as podman).
    #[command(override_usage = "myvol volume exists VOLUME")]
    Exists(Lazy<ExistsArgs>),
}

#[derive(Debug, Args)]
pub struct RenameArgs {
    /// The volume to rename
    #[arg(value_name = "VOLUME")]
    pub old: String,

    /// Its new name (must not exist yet)
    #[arg(value_name = "NEW_NAME")]
    pub new: String,
}

#[derive(Debug, Args)]
pub struct CloneArgs {
    /// The volume to copy
    #[arg(value_name = "SOURCE_VOLUME")]
    pub source: String,

    /// The name of the copy (must not exist yet)
    #[arg(value_name = "NEW_VOLUME")]
    pub target: String,

    /// Set metadata for the new volume instead of copying the source's labels
    #[arg(long = "label", value_name = "KEY[=VALUE]", value_parser = parse_label)]
    pub labels: Vec<String>,
}

#[derive(Debug, Args)]
pub struct MountArgs {
    /// The volumes, one or more
    #[arg(value_name = "VOLUME", required = true)]
    pub names: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ExistsArgs {
    /// The volume's name
    #[arg(value_name = "VOLUME")]
    pub name: String,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The new volume's name (none: an anonymous volume with a random name)
    #[arg(value_name = "VOLUME")]
    pub name: Option<String>,

    /// Specify volume name
    #[arg(long = "name", hide = true, value_name = "NAME")]
    pub name_flag: Option<String>,

    /// Specify volume driver name
    #[arg(short = 'd', long, default_value = "local", value_name = "DRIVER")]
    pub driver: String,

    /// Set metadata for a volume
    #[arg(long = "label", value_name = "KEY[=VALUE]", value_parser = parse_label)]
    pub labels: Vec<String>,

    /// Set driver specific options (local: type, device, o, size, quota; a plugin: its own)
    #[arg(short = 'o', long = "opt", value_name = "KEY=VALUE")]
    pub opts: Vec<String>,

    /// Set the UID of the volume's owner (local driver; default: yours)
    #[arg(long, value_name = "UID", value_parser = parse_id)]
    pub uid: Option<u32>,

    /// Set the GID of the volume's owner (local driver; default: yours)
    #[arg(long, value_name = "GID", value_parser = parse_id)]
    pub gid: Option<u32>,

    /// Set the mode of the volume's root directory, in octal (local driver; default 0755)
    #[arg(long, value_name = "MODE", value_parser = parse_mode)]
    pub mode: Option<u32>,
}

/// A uid or gid, read as pflag reads an int flag (Go's `strconv.ParseInt(s, 0, 64)`: `1000`,
/// `0x3e8`, `0o1750`), then checked to be a valid id.
pub fn parse_id(val: &str) -> Result<u32, String> {
    let n = myvol::text::parse_go_int(val)?;
    u32::try_from(n).ok().filter(|n| *n != u32::MAX).ok_or_else(|| format!("must be between 0 and {}", u32::MAX - 1))
}

/// A mode in octal, as chmod(1) takes it (`0750`, `750`, `2775`): at most `7777`.
pub fn parse_mode(val: &str) -> Result<u32, String> {
    let digits = val.strip_prefix("0o").unwrap_or(val);
    match u32::from_str_radix(digits, 8) {
        Ok(m) if m <= 0o7777 && !digits.is_empty() && !digits.starts_with(['+', '-']) => Ok(m),
        _ => Err("must be an octal mode between 0 and 7777 (like 0750)".to_owned()),
    }
}

/// Docker's label check (opts.ValidateLabel): the key, left-trimmed, must be non-empty and
/// contain no whitespace.
pub fn parse_label(val: &str) -> Result<String, String> {
    let key = val.split_once('=').map_or(val, |(k, _)| k);
    let key = key.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    if key.is_empty() {
        return Err(format!("invalid label '{val}': empty name"));
    }
    if key.contains([' ', '\t', '\n', '\r', '\x0b', '\x0c']) {
        return Err(format!("label '{key}' contains whitespaces"));
    }
    Ok(val.to_owned())
}

/// docker/cli's `FilterOpt`: `key=value` (or nothing at all).
pub fn parse_filter(val: &str) -> Result<String, String> {
    myvol::filter::Filters::parse([val]).map(|_| val.to_owned()).map_err(|e| e.to_string())
}

#[derive(Debug, Args)]
pub struct LsArgs {
    /// Only display volume names
    #[arg(short, long)]
    pub quiet: bool,

    /// Provide filter values (e.g. "dangling=true", "driver=local", "label=k=v", "name=re",
    /// "in-use=true", "until=24h")
    #[arg(short, long = "filter", value_name = "FILTER", value_parser = parse_filter)]
    pub filters: Vec<String>,

    /// Format output using a custom template:
    /// 'table':            Print output in table format with column headers (default)
    /// 'table TEMPLATE':   Print output in table format using the given Go template
    /// 'json':             Print in JSON format
    /// 'TEMPLATE':         Print output using the given Go template
    /// (default: volumesFormat of $DOCKER_CONFIG/config.json when set, else 'table')
    #[arg(long, value_name = "FORMAT", verbatim_doc_comment)]
    pub format: Option<String>,

    /// Display the disk usage of each volume (a SIZE column; .Size and .Links in --format)
    #[arg(long)]
    pub size: bool,
    /// Display only cluster volumes, and use cluster volume list formatting (myvol has none)
    #[arg(long, hide = true)]
    pub cluster: bool,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The volume to update
    #[arg(value_name = "VOLUME")]
    pub name: String,

    /// Cluster Volume availability ("active", "pause", "drain")
    #[arg(long, value_name = "STRING")]
    pub availability: Option<String>,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Format output using a custom template:
    /// 'json':             Print in JSON format
    /// 'TEMPLATE':         Print output using the given Go template
    #[arg(short, long, value_name = "FORMAT", verbatim_doc_comment)]
    pub format: Option<String>,

    /// The volumes to show, one or more
    #[arg(value_name = "VOLUME", required = true)]
    pub names: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// Force the removal of one or more volumes (missing ones are not an error)
    #[arg(short, long)]
    pub force: bool,

    /// The volumes to remove, one or more
    #[arg(value_name = "VOLUME", required = true)]
    pub names: Vec<String>,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Remove all unused volumes, not just anonymous ones
    #[arg(short, long)]
    pub all: bool,

    /// Provide filter values (e.g. "label=<label>", "label!=<label>", "all=true",
    /// "until=24h", "until=2026-01-31")
    #[arg(long = "filter", value_name = "FILTER", value_parser = parse_filter)]
    pub filters: Vec<String>,

    /// Do not prompt for confirmation
    #[arg(short, long)]
    pub force: bool,

    /// Show what would be pruned and the space it would free, without removing anything
    #[arg(long)]
    pub dry_run: bool,
}

/// `--compress` of `volume export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompressArg {
    None,
    Gzip,
    Zstd,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The volume to export
    #[arg(value_name = "VOLUME")]
    pub name: String,

    /// Write to a file, instead of STDOUT (replaced atomically when it is a regular file)
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,

    /// Compression of the archive [default: from the -o file name (.gz, .tgz, .zst), else none]
    #[arg(long, value_enum, value_name = "none|gzip|zstd")]
    pub compress: Option<CompressArg>,

    /// Show no progress bar (it is shown only when stderr is a terminal)
    #[arg(short, long)]
    pub quiet: bool,
}

/// A size in Docker's units (`512m`, `10g`: binary).
fn parse_size(s: &str) -> Result<u64, String> {
    myvol::units::ram_in_bytes(s).map_err(|e| e.to_string())
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The volume whose content the archive replaces
    #[arg(value_name = "VOLUME")]
    pub name: String,

    /// The archive (`-` or absent: standard input)
    #[arg(value_name = "FILE")]
    pub source: Option<std::path::PathBuf>,

    /// Import even if readers use the volume (exports, clones, read-only mounts): they keep
    /// the old content until they end; new users see the new. Never under a writer
    #[arg(short, long)]
    pub force: bool,

    /// Create the volume (local driver) if it does not exist; it appears only once the
    /// whole archive is in it
    #[arg(long)]
    pub create: bool,

    /// Stop (changing nothing) if the content unpacks to more than SIZE (e.g. 10g)
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_size: Option<u64>,

    /// Stop (changing nothing) before the store's filesystem has less than SIZE or PCT% free
    /// [default: 5% of it or 1g, whichever is smaller; 0 turns the check off]
    #[arg(long, value_name = "SIZE|PCT%", value_parser = myvol::archive::limits::MinFree::parse)]
    pub min_free: Option<myvol::archive::limits::MinFree>,

    /// Show no progress bar and no warnings (the bar is shown only when stderr is a terminal)
    #[arg(short, long)]
    pub quiet: bool,
}
