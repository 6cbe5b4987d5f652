//! `-v/--volume SPEC`: Docker's two stages, the CLI's split (docker/cli
//! `internal/volumespec`, `cli/command/container/opts.go`) then the daemon's `ParseMountRaw`
//! (moby `daemon/volume/mounts/linux_parser.go`).

use super::error::{CliSpecReason, SpecError};
use super::path::{abs_against, is_abs};
use super::validate::{RawBind, RawMount, RawVolume};
use super::{MountSpec, Propagation, SpecOrigin};

/// What the CLI's first split found.
struct CliVolume {
    source: Option<String>,
    target: String,
}

/// Parse one `-v/--volume` value. `cwd` is the absolute directory relative bind sources
/// (`.`, `./x`, `../x`, `.hidden`: any source starting with `.`) are resolved against,
/// lexically, as the CLI does with its own working directory.
///
/// Stage 1 (CLI) splits at `:`, keeping a `:` right after a single letter as a Windows drive
/// (`x:/data` is one field, on Linux too), and rejects an empty spec, an empty section and a
/// fourth field. Stage 2 (daemon) re-splits the spec with the source made absolute at `:`
/// into at most three parts and checks the mode and the mount config.
///
/// A spec with one field is an anonymous volume on that destination. Docker's CLI sends
/// those through `Config.Volumes`, which the daemon never validates, so Docker accepts `./`,
/// `relpath` or `x:/data` there; myvol applies the daemon's target rule instead (absolute, not
/// `/`), so those are rejected with
/// `invalid volume specification: 'SPEC': invalid mount config for type "volume": …`.
///
/// `~` is not expanded: `~/x:/y` names a volume `~/x`, which the local driver rejects.
pub fn parse_volume(spec: &str, cwd: &str) -> Result<MountSpec, SpecError> {
    let cli = cli_split(spec)?;
    let Some(source) = cli.source else {
        return anonymous(spec, &cli.target);
    };
    let mut to_bind = spec.to_owned();
    if cli_is_file_path(&source)
        && let Some((host, rest)) = spec.split_once(':')
        && !is_abs(host)
        && host.starts_with('.')
    {
        to_bind = format!("{}:{rest}", abs_against(cwd, host));
    }
    let mut parsed = parse_mount_raw(&to_bind)?;
    parsed.raw = spec.to_owned();
    Ok(parsed)
}

/// The CLI's `volumespec.Parse`, keeping only what decides the daemon's input.
fn cli_split(spec: &str) -> Result<CliVolume, SpecError> {
    match spec.len() {
        0 => return Err(SpecError::EmptyVolumeSpec),
        1 | 2 => {
            return Ok(CliVolume { source: None, target: spec.to_owned() });
        }
        _ => {}
    }
    let fail = |reason| SpecError::CliVolumeSpec { spec: spec.to_owned(), reason };
    let mut source: Option<String> = None;
    let mut target: Option<String> = None;
    let mut buffer = String::new();
    let mut buffer_chars = 0usize;
    // Go appends a NUL rune as the end-of-spec marker; a NUL inside the spec acts as one too.
    for ch in spec.chars().chain(std::iter::once('\0')) {
        let drive = ch == ':' && buffer_chars == 1 && buffer.chars().all(char::is_alphabetic);
        if !drive && (ch == ':' || ch == '\0') {
            if buffer.is_empty() {
                return Err(fail(CliSpecReason::EmptySection));
            }
            if source.is_none() && ch == '\0' {
                target = Some(std::mem::take(&mut buffer));
            } else if source.is_none() {
                source = Some(std::mem::take(&mut buffer));
            } else if target.is_none() {
                target = Some(std::mem::take(&mut buffer));
            } else if ch == ':' {
                return Err(fail(CliSpecReason::TooManyColons));
            }
            // A third field is the mode, which the CLI does not check.
            buffer.clear();
            buffer_chars = 0;
        } else {
            buffer.push(ch);
            buffer_chars += 1;
        }
    }
    Ok(CliVolume { source, target: target.unwrap_or_default() })
}

/// The CLI's `isFilePath`: whether it takes a source for a host path.
fn cli_is_file_path(source: &str) -> bool {
    let mut chars = source.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    if matches!(first, '.' | '/' | '~') {
        return true;
    }
    if chars.clone().next().is_none() {
        return false;
    }
    if source.starts_with("\\\\") {
        return true;
    }
    first.is_alphabetic() && source.as_bytes().get(first.len_utf8()) == Some(&b':')
}

/// A one-field spec: an anonymous volume, under the daemon's target rule.
fn anonymous(spec: &str, target: &str) -> Result<MountSpec, SpecError> {
    let raw = RawMount { kind: "volume".to_owned(), target: target.to_owned(), ..RawMount::default() };
    raw.into_spec(SpecOrigin::Volume, spec, "")
        .map_err(|source| SpecError::InvalidVolumeConfig { spec: spec.to_owned(), source })
}

/// The mode tokens, one class each.
#[derive(Default)]
struct Mode<'a> {
    read_only: bool,
    propagation: Option<Propagation>,
    nocopy: bool,
    consistency: Option<&'a str>,
    /// podman's `U`.
    chown: bool,
}

/// moby `linuxValidMountMode` (with what it found): every token known, at most one per class.
fn parse_mode(mode: &str) -> Option<Mode<'_>> {
    let mut m = Mode::default();
    if mode.is_empty() {
        return Some(m);
    }
    let mut counts = [0u8; 6];
    for token in mode.split(',') {
        let class = match token {
            // podman's: chown the source to the run's user (Docker refuses it).
            "U" => {
                m.chown = true;
                5
            }
            "rw" => 0,
            "ro" => {
                m.read_only = true;
                0
            }
            "z" | "Z" => 1,
            "nocopy" => {
                m.nocopy = true;
                3
            }
            "consistent" | "cached" | "delegated" => {
                m.consistency = Some(token);
                4
            }
            other => {
                m.propagation = Some(other.parse().ok()?);
                2
            }
        };
        counts[class] += 1;
        if counts[class] > 1 {
            return None;
        }
    }
    Some(m)
}

/// The daemon's `ParseMountRaw` (without a volume driver: callers attach `--volume-driver`).
fn parse_mount_raw(raw: &str) -> Result<MountSpec, SpecError> {
    let invalid = || SpecError::InvalidVolumeSpec { spec: raw.to_owned() };
    let parts: Vec<&str> = raw.splitn(4, ':').collect();
    if parts.first().is_none_or(|p| p.is_empty()) {
        return Err(invalid());
    }
    let (source, target, mode) = match parts.as_slice() {
        [target] => ("", *target, ""),
        [source, target] => {
            if parse_mode(target).is_some() {
                // `/foo:rw`: a destination and a mode, but no source.
                return Err(invalid());
            }
            (*source, *target, "")
        }
        [source, target, mode] => (*source, *target, *mode),
        _ => return Err(invalid()),
    };
    let Some(m) = parse_mode(mode) else {
        return Err(SpecError::InvalidMode { mode: mode.to_owned() });
    };
    let bind_kind = is_abs(source);
    let mut mount = RawMount {
        kind: if bind_kind { "bind" } else { "volume" }.to_owned(),
        source: source.to_owned(),
        target: target.to_owned(),
        read_only: m.read_only,
        consistency: m.consistency.unwrap_or_default().to_owned(),
        chown: m.chown,
        ..RawMount::default()
    };
    if m.nocopy {
        mount.volume = Some(RawVolume { nocopy: true, ..RawVolume::default() });
    }
    if let Some(p) = m.propagation {
        mount.bind = Some(RawBind { propagation: p.as_str().to_owned(), ..RawBind::default() });
    }
    mount
        .into_spec(SpecOrigin::Volume, raw, mode)
        .map_err(|source| SpecError::InvalidVolumeConfig { spec: raw.to_owned(), source })
}
