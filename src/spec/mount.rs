//! `--mount CSV` (docker/cli `opts/mount.go`, CLI 28), then the daemon's common validation.

use super::csv::read_record;
use super::error::{MountFlagError, SpecError};
use super::path::{abs_against, is_abs};
use super::size::{go_parse_bool, go_parse_octal_u32};
use super::validate::{RawBind, RawMount, RawTmpfs, RawVolume};
use super::{BindRecursive, MountSpec, SpecOrigin};
use crate::units::ram_in_bytes;

/// Parse one `--mount` value. `cwd` is the absolute directory a relative `source` starting
/// with `.` is resolved against (lexically, as the CLI does).
///
/// The value is one Go CSV record of `key=value` fields; keys are case-insensitive, the
/// values of `type`, `bind-propagation` and `consistency` are lower-cased, the last occurrence
/// of a key wins, the default type is `volume`. CLI errors come as
/// `invalid argument "CSV" for "--mount" flag: …`; then the daemon's validation runs (errors
/// `invalid mount config for type "T": …`), except the bind-source-exists check, which is the
/// caller's ([`SpecError::bind_source_missing`]).
///
/// `bind-create-src` (CLI ≥ 29) is accepted, as a boolean that may stand alone. The
/// deprecated `bind-nonrecursive` is accepted as in CLI 28 (callers may warn).
/// `type=image` (Engine 28) names an image, mounted read-only, with `image-subpath`.
pub fn parse_mount(csv: &str, cwd: &str) -> Result<MountSpec, SpecError> {
    let flag_err = |reason| SpecError::MountFlag { spec: csv.to_owned(), reason };
    let mount = parse_fields(csv, cwd).map_err(flag_err)?;
    Ok(mount.into_spec(SpecOrigin::Mount, csv, "")?)
}

/// The CLI half: fields into a `mount.Mount`, then the CLI's own checks.
fn parse_fields(csv: &str, cwd: &str) -> Result<RawMount, MountFlagError> {
    let fields = read_record(csv).map_err(MountFlagError::Csv)?;
    let mut m = RawMount { kind: "volume".to_owned(), ..RawMount::default() };
    for field in &fields {
        let (key, value) = match field.split_once('=') {
            Some((k, v)) => (k.to_lowercase(), Some(v)),
            None => (field.to_lowercase(), None),
        };
        let bool_value = |key: &str| -> Result<bool, MountFlagError> {
            match value {
                None => Ok(true),
                Some(v) => go_parse_bool(v)
                    .ok_or_else(|| MountFlagError::InvalidValue { key: key.to_owned(), value: v.to_owned() }),
            }
        };
        let Some(val) = value else {
            match key.as_str() {
                "readonly" | "ro" => m.read_only = true,
                // podman's.
                "u" | "chown" => m.chown = true,
                "volume-nocopy" => volume(&mut m).nocopy = true,
                "bind-nonrecursive" => bind(&mut m).nonrecursive = true,
                "bind-create-src" => bind(&mut m).create_mountpoint = true,
                _ => return Err(MountFlagError::InvalidField(field.clone())),
            }
            continue;
        };
        let invalid = || MountFlagError::InvalidValue { key: key.clone(), value: val.to_owned() };
        match key.as_str() {
            "type" => m.kind = val.to_lowercase(),
            "source" | "src" => {
                m.source = if !is_abs(val) && val.starts_with('.') { abs_against(cwd, val) } else { val.to_owned() };
            }
            "target" | "dst" | "destination" => m.target = val.to_owned(),
            "readonly" | "ro" => m.read_only = bool_value(&key)?,
            // podman's `U=BOOL`, `chown=BOOL`: `true`, `false` (any case) or empty.
            "u" | "chown" => {
                m.chown = match val.to_ascii_lowercase().as_str() {
                    "true" | "" => true,
                    "false" => false,
                    _ => return Err(MountFlagError::Chown(val.to_owned())),
                }
            }
            "consistency" => m.consistency = val.to_lowercase(),
            "bind-propagation" => bind(&mut m).propagation = val.to_lowercase(),
            "bind-nonrecursive" => {
                let b = bool_value(&key);
                bind(&mut m).nonrecursive = b?;
            }
            "bind-recursive" => {
                let r = match val {
                    "enabled" => BindRecursive::Enabled,
                    "disabled" => {
                        bind(&mut m).nonrecursive = true;
                        BindRecursive::Disabled
                    }
                    "writable" => {
                        bind(&mut m).readonly_nonrecursive = true;
                        BindRecursive::Writable
                    }
                    "readonly" => {
                        bind(&mut m).readonly_force_recursive = true;
                        BindRecursive::Readonly
                    }
                    _ => return Err(MountFlagError::InvalidBindRecursive(val.to_owned())),
                };
                m.recursive = Some(r);
            }
            "bind-create-src" => {
                let b = bool_value(&key);
                bind(&mut m).create_mountpoint = b?;
            }
            "volume-subpath" => volume(&mut m).subpath = val.to_owned(),
            "volume-nocopy" => {
                let b = bool_value("volume-nocopy");
                volume(&mut m).nocopy = b?;
            }
            "volume-label" => set_kv(&mut volume(&mut m).labels, val),
            "volume-driver" => volume(&mut m).driver = val.to_owned(),
            "volume-opt" => set_kv(&mut volume(&mut m).opts, val),
            "image-subpath" => m.image_subpath = Some(val.to_owned()),
            "tmpfs-size" => {
                let size = ram_in_bytes(val).map_err(|_| invalid())?;
                tmpfs(&mut m).size = size;
            }
            "tmpfs-mode" => {
                let mode = go_parse_octal_u32(val).ok_or_else(invalid)?;
                tmpfs(&mut m).mode = mode;
            }
            _ => {
                return Err(MountFlagError::UnexpectedKey { key, field: field.clone() });
            }
        }
    }

    if m.kind.is_empty() {
        return Err(MountFlagError::TypeRequired);
    }
    if m.target.is_empty() {
        return Err(MountFlagError::TargetRequired);
    }
    let mix = |group| MountFlagError::CannotMix { group, kind: m.kind.clone() };
    if m.volume.is_some() && m.kind != "volume" {
        return Err(mix("volume"));
    }
    if m.bind.is_some() && m.kind != "bind" {
        return Err(mix("bind"));
    }
    if m.tmpfs.is_some() && m.kind != "tmpfs" {
        return Err(mix("tmpfs"));
    }
    if m.image_subpath.is_some() && m.kind != "image" {
        return Err(mix("image"));
    }
    if m.chown && m.kind != "volume" && m.kind != "bind" {
        return Err(MountFlagError::ChownType(m.kind.clone()));
    }
    if let Some(b) = &m.bind {
        if b.readonly_nonrecursive && !m.read_only {
            return Err(MountFlagError::WritableNeedsReadonly);
        }
        if b.readonly_force_recursive {
            if !m.read_only {
                return Err(MountFlagError::ReadonlyNeedsReadonly);
            }
            if b.propagation != "rprivate" {
                return Err(MountFlagError::ReadonlyNeedsRprivate);
            }
        }
    }
    if m.kind != "bind" {
        // `bind-recursive=enabled` creates no BindOptions, so Docker lets it through on other
        // types; it means nothing there.
        m.recursive = None;
    }
    Ok(m)
}

fn bind(m: &mut RawMount) -> &mut RawBind {
    m.bind.get_or_insert_with(RawBind::default)
}

fn volume(m: &mut RawMount) -> &mut RawVolume {
    m.volume.get_or_insert_with(RawVolume::default)
}

fn tmpfs(m: &mut RawMount) -> &mut RawTmpfs {
    m.tmpfs.get_or_insert_with(RawTmpfs::default)
}

/// docker/cli `setValueOnMap`: `k=v` (or `k`, meaning `k=`); an empty key is dropped.
fn set_kv(map: &mut std::collections::BTreeMap<String, String>, kv: &str) {
    let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
    if !k.is_empty() {
        map.insert(k.to_owned(), v.to_owned());
    }
}
