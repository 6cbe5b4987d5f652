//! `--tmpfs DEST[:OPTS]`, and the tmpfs option list shared with `--mount type=tmpfs`
//! (moby `mount.MergeTmpfsOptions` and the `mount.ParseOptions` flag table).

use super::error::SpecError;
use super::validate::{rooted, validate_dest};
use super::{MountSpec, MountType, SpecOrigin};
use crate::sys::ms;

/// Docker's defaults, merged before the user's options.
const DEFAULTS: [&str; 4] = ["noexec", "nosuid", "nodev", "rprivate"];

/// Data options tmpfs accepts (`key=value`).
const DATA_KEYS: [&str; 7] = ["size", "mode", "uid", "gid", "nr_inodes", "nr_blocks", "mpol"];

/// moby's flag table: name → (clears the flag?, flag).
pub fn flag(name: &str) -> Option<(bool, u64)> {
    use ms::*;
    Some(match name {
        "ro" => (false, RDONLY),
        "rw" => (true, RDONLY),
        "suid" => (true, NOSUID),
        "nosuid" => (false, NOSUID),
        "dev" => (true, NODEV),
        "nodev" => (false, NODEV),
        "exec" => (true, NOEXEC),
        "noexec" => (false, NOEXEC),
        "sync" => (false, SYNCHRONOUS),
        "async" => (true, SYNCHRONOUS),
        "dirsync" => (false, DIRSYNC),
        "remount" => (false, REMOUNT),
        "mand" => (false, MANDLOCK),
        "nomand" => (true, MANDLOCK),
        "atime" => (true, NOATIME),
        "noatime" => (false, NOATIME),
        "diratime" => (true, NODIRATIME),
        "nodiratime" => (false, NODIRATIME),
        "bind" => (false, BIND),
        "rbind" => (false, BIND | REC),
        "unbindable" => (false, UNBINDABLE),
        "runbindable" => (false, UNBINDABLE | REC),
        "private" => (false, PRIVATE),
        "rprivate" => (false, PRIVATE | REC),
        "shared" => (false, SHARED),
        "rshared" => (false, SHARED | REC),
        "slave" => (false, SLAVE),
        "rslave" => (false, SLAVE | REC),
        "relatime" => (false, RELATIME),
        "norelatime" => (true, RELATIME),
        "strictatime" => (false, STRICTATIME),
        "nostrictatime" => (true, STRICTATIME),
        _ => return None,
    })
}

fn is_propagation(name: &str) -> bool {
    matches!(
        name,
        "bind"
            | "rbind"
            | "unbindable"
            | "runbindable"
            | "private"
            | "rprivate"
            | "shared"
            | "rshared"
            | "slave"
            | "rslave"
    )
}

/// A tmpfs mount, ready for mount(2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TmpfsMountOptions {
    /// Docker's merged option list (what it writes into the OCI spec): the defaults
    /// `noexec,nosuid,nodev,rprivate` and the user's options, later ones overriding earlier
    /// ones of the same flag or key, `defaults` dropped.
    pub options: Vec<String>,
    /// mount(2) flags for the tmpfs mount itself ([`ms`] values), propagation excluded.
    pub flags: u64,
    /// Propagation flags to apply with a second mount(2) call (`ms::PRIVATE | ms::REC` by
    /// default).
    pub propagation: u64,
    /// The filesystem data string (`size=…,mode=…,uid=…`), in merged order.
    pub data: String,
    /// Whether `ro` won over `rw`.
    pub read_only: bool,
}

/// Merge `opts` (a `--tmpfs` option list, or [`MountSpec::tmpfs_options`]) with Docker's
/// defaults and turn them into mount(2) flags and data. An option that is neither a flag of
/// moby's table nor `size|mode|uid|gid|nr_inodes|nr_blocks|mpol=VALUE` gives
/// `invalid tmpfs option ["bogus"]`; the options are checked last to first, as in moby.
pub fn parse_tmpfs_options(opts: &[String]) -> Result<TmpfsMountOptions, SpecError> {
    let all: Vec<&str> = DEFAULTS.iter().copied().chain(opts.iter().map(String::as_str)).collect();
    // MergeTmpfsOptions: walk backwards, keep the last of each flag (one propagation in all)
    // and of each data key.
    let mut seen_flags: Vec<u64> = Vec::new();
    let mut seen_keys: Vec<&str> = Vec::new();
    let mut merged: Vec<&str> = Vec::new();
    for &opt in all.iter().rev() {
        if opt == "defaults" {
            continue;
        }
        if let Some((_, f)) = flag(opt) {
            let key = if is_propagation(opt) { u64::MAX } else { f };
            if !seen_flags.contains(&key) {
                seen_flags.push(key);
                merged.push(opt);
            }
            continue;
        }
        let parts: Vec<&str> = opt.splitn(2, '=').collect();
        if parts.len() != 2 || !DATA_KEYS.contains(&parts[0]) {
            return Err(SpecError::InvalidTmpfsOption(parts.iter().map(|s| (*s).to_owned()).collect()));
        }
        if !seen_keys.contains(&parts[0]) {
            seen_keys.push(parts[0]);
            merged.push(opt);
        }
    }
    merged.reverse();

    let mut flags = 0u64;
    let mut propagation = 0u64;
    let mut data: Vec<&str> = Vec::new();
    for &opt in &merged {
        match flag(opt) {
            Some((_, f)) if is_propagation(opt) && opt != "bind" && opt != "rbind" => {
                propagation = f;
            }
            Some((true, f)) => flags &= !f,
            Some((false, f)) => flags |= f,
            None => data.push(opt),
        }
    }
    Ok(TmpfsMountOptions {
        options: merged.iter().map(|s| (*s).to_owned()).collect(),
        read_only: flags & ms::RDONLY != 0,
        flags,
        propagation,
        data: data.join(","),
    })
}

/// Parse one `--tmpfs DEST[:OPTS]` value: the destination is validated as a mount target
/// (`invalid mount path: 'D' mount path must be absolute`,
/// `invalid specification: destination can't be '/'`), and the options as
/// [`parse_tmpfs_options`] does. Docker checks the options only at container start; myvol
/// checks them here, with the same message.
pub fn parse_tmpfs(spec: &str) -> Result<MountSpec, SpecError> {
    let (dest, opts) = spec.split_once(':').unwrap_or((spec, ""));
    validate_dest(dest).map_err(SpecError::TmpfsTarget)?;
    let options: Vec<String> = if opts.is_empty() { Vec::new() } else { opts.split(',').map(str::to_owned).collect() };
    let parsed = parse_tmpfs_options(&options)?;
    let mut m = MountSpec::new(SpecOrigin::Tmpfs, MountType::Tmpfs, rooted(dest), spec);
    m.read_only = parsed.read_only;
    m.tmpfs.options = options;
    Ok(m)
}
