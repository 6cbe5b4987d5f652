//! The normalised model into the typed [`Project`]: volumes, services and their mounts, with
//! Compose's decoding errors.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::file::to_boolean;
use crate::compose::model::{
    BindOptions, Dependency, EnvFile, ImageOptions, MountKind, Network, Project, Service, ServiceVolume, TmpfsOptions,
    Volume, VolumeOptions, labels_from,
};
use crate::compose::shell;
use crate::compose::value::{Map, Value};
use crate::compose::{ComposeError, Warnings};

fn decode_error(field: &str, msg: &str) -> ComposeError {
    ComposeError::Invalid(format!("decoding failed due to the following error(s):\n\n'{field}' {msg}\n"))
}

fn take_extensions(m: &mut Map) -> Map {
    let keys: Vec<String> = m.keys().filter(|k| k.starts_with("x-")).cloned().collect();
    keys.into_iter().filter_map(|k| m.remove(&k).map(|v| (k, v))).collect()
}

fn string_of(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(v) => v.go_sprint(),
    }
}

/// A boolean field as Compose's decoder reads it: absent is false, a string is cast as
/// interpolation casts one (YAML 1.1 words with their warning), and anything else is a
/// decoding error, never a silent false.
fn bool_field(v: Option<&Value>, field: &str, warnings: &mut Warnings) -> Result<bool, ComposeError> {
    match v {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::Str(s)) => to_boolean(s, warnings).map_err(|e| decode_error(field, &e)),
        Some(other) => {
            Err(decode_error(field, &format!("expected type 'bool', got unconvertible type '{}'", other.go_type())))
        }
    }
}

/// A boolean that defaults to true when absent (`required`).
fn bool_field_or_true(v: Option<&Value>, field: &str, warnings: &mut Warnings) -> Result<bool, ComposeError> {
    match v {
        None => Ok(true),
        v => bool_field(v, field, warnings),
    }
}

/// `tmpfs.mode` (a `uint32` in Compose): a number, as Compose's decoder takes one; a string
/// or a negative number is Compose's decoding error.
fn tmpfs_mode(v: Option<&Value>, field: &str) -> Result<u32, ComposeError> {
    let overflow = |n: String| decode_error(field, &format!("cannot parse value as 'uint32': {n} overflows uint"));
    match v {
        None | Some(Value::Null) => Ok(0),
        Some(Value::Int(i)) if *i < 0 => Err(overflow(i.to_string())),
        Some(Value::Int(i)) => Ok(*i as u32),
        Some(Value::Float(f)) if *f < 0.0 => Err(overflow(format!("{f:.6}"))),
        Some(Value::Float(f)) => Ok(*f as u64 as u32),
        Some(other) => {
            Err(decode_error(field, &format!("expected type 'uint32', got unconvertible type '{}'", other.go_type())))
        }
    }
}

fn strings_of(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Seq(items)) => items.iter().map(Value::go_sprint).collect(),
        Some(Value::Str(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

fn command_of(v: Option<&Value>, field: &str) -> Result<Option<Vec<String>>, ComposeError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Str(s)) => {
            shell::split(s).map(Some).map_err(|_| decode_error(field, "invalid command line string"))
        }
        Some(Value::Seq(items)) => Ok(Some(items.iter().map(Value::go_sprint).collect())),
        Some(_) => Ok(None),
    }
}

/// Turn the normalised model into the typed project.
pub(super) fn to_project(mut model: Map, name: &str, warnings: &mut Warnings) -> Result<Project, ComposeError> {
    let mut project = Project { name: name.to_owned(), ..Project::default() };
    model.remove("name");
    project.extensions = take_extensions(&mut model);
    if let Some(Value::Map(nets)) = model.get("networks") {
        for (k, n) in nets {
            project.networks.insert(k.clone(), Network { name: string_of(n.as_map().and_then(|m| m.get("name"))) });
        }
    }
    if let Some(Value::Map(vols)) = model.remove("volumes") {
        for (k, v) in vols {
            let mut m = match v {
                Value::Map(m) => m,
                _ => Map::new(),
            };
            let extensions = take_extensions(&mut m);
            let driver_opts = match m.get("driver_opts") {
                Some(Value::Map(o)) => o.iter().map(|(k, v)| (k.clone(), string_of(Some(v)))).collect(),
                _ => BTreeMap::new(),
            };
            let external = bool_field(m.get("external"), &format!("volumes[{k}].external"), warnings)?;
            project.volumes.insert(
                k,
                Volume {
                    name: string_of(m.get("name")),
                    driver: string_of(m.get("driver")),
                    driver_opts,
                    external,
                    labels: m.get("labels").map(labels_from).unwrap_or_default(),
                    extensions,
                },
            );
        }
    }
    if let Some(Value::Map(services)) = model.remove("services") {
        for (sname, s) in services {
            let m = match s {
                Value::Map(m) => m,
                _ => Map::new(),
            };
            let svc = service_from(&sname, m, warnings)?;
            project.services.insert(sname, svc);
        }
    }
    Ok(project)
}

fn service_from(name: &str, mut m: Map, warnings: &mut Warnings) -> Result<Service, ComposeError> {
    let extensions = take_extensions(&mut m);
    let field = |k: &str| format!("services[{name}].{k}");
    let mut s = Service {
        name: name.to_owned(),
        profiles: strings_of(m.get("profiles")),
        command: command_of(m.get("command"), &field("command"))?,
        entrypoint: command_of(m.get("entrypoint"), &field("entrypoint"))?,
        hostname: string_of(m.get("hostname")),
        image: string_of(m.get("image")),
        labels: m.get("labels").map(labels_from).unwrap_or_default(),
        network_mode: string_of(m.get("network_mode")),
        read_only: bool_field(m.get("read_only"), &field("read_only"), warnings)?,
        tmpfs: strings_of(m.get("tmpfs")),
        user: string_of(m.get("user")),
        volumes_from: strings_of(m.get("volumes_from")),
        working_dir: string_of(m.get("working_dir")),
        extensions,
        ..Service::default()
    };
    if let Some(Value::Map(nets)) = m.get("networks") {
        s.networks = nets.keys().cloned().collect();
    }
    match m.get("environment") {
        Some(Value::Map(env)) => {
            for (k, v) in env {
                let value = match v {
                    Value::Null => None,
                    other => Some(other.go_sprint()),
                };
                s.environment.insert(k.clone(), value);
            }
        }
        Some(Value::Seq(items)) => {
            for it in items {
                let text = it.go_sprint();
                let (k, v) = match text.split_once('=') {
                    Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
                    None => (text.clone(), None),
                };
                if k.ends_with(|c: char| c.is_whitespace()) {
                    return Err(decode_error(
                        &field("environment"),
                        &format!("environment variable {k} is declared with a trailing space"),
                    ));
                }
                s.environment.insert(k, v);
            }
        }
        _ => {}
    }
    if let Some(Value::Seq(files)) = m.get("env_file") {
        for (i, f) in files.iter().enumerate() {
            if let Value::Map(f) = f {
                let required = field(&format!("env_file[{i}].required"));
                s.env_files.push(EnvFile {
                    path: PathBuf::from(string_of(f.get("path"))),
                    required: bool_field_or_true(f.get("required"), &required, warnings)?,
                    format: string_of(f.get("format")),
                });
            }
        }
    }
    if let Some(Value::Map(deps)) = m.get("depends_on") {
        for (k, d) in deps {
            let mut d = d.as_map().cloned().unwrap_or_default();
            let extensions = take_extensions(&mut d);
            let dep = |key: &str| field(&format!("depends_on[{k}].{key}"));
            s.depends_on.insert(
                k.clone(),
                Dependency {
                    condition: string_of(d.get("condition")),
                    restart: bool_field(d.get("restart"), &dep("restart"), warnings)?,
                    required: bool_field_or_true(d.get("required"), &dep("required"), warnings)?,
                    extensions,
                },
            );
        }
    }
    if let Some(Value::Seq(vols)) = m.get("volumes") {
        for (i, v) in vols.iter().enumerate() {
            let Value::Map(v) = v else { continue };
            s.volumes.push(service_volume_from(name, i, v.clone(), warnings)?);
        }
    }
    if m.contains_key("x-myvol-build") {
        // A build context: not supported, but it satisfies "image or build".
        if s.image.is_empty() {
            s.extensions.insert("x-myvol-build".into(), Value::Bool(true));
        }
    }
    Ok(s)
}

fn service_volume_from(
    service: &str,
    index: usize,
    mut m: Map,
    warnings: &mut Warnings,
) -> Result<ServiceVolume, ComposeError> {
    let extensions = take_extensions(&mut m);
    let field = |k: &str| format!("services[{service}].volumes[{index}].{k}");
    let kind_text = string_of(m.get("type"));
    let kind = MountKind::parse(&kind_text).ok_or_else(|| {
        ComposeError::Invalid(format!("services.{service}.volumes.{index}.type: invalid mount type {kind_text:?}"))
    })?;
    let sub = |m: &Map, key: &str| -> Option<Map> { m.get(key).and_then(Value::as_map).cloned() };
    let bind = match sub(&m, "bind") {
        None => None,
        Some(mut b) => {
            let extensions = take_extensions(&mut b);
            Some(BindOptions {
                selinux: string_of(b.get("selinux")),
                propagation: string_of(b.get("propagation")),
                create_host_path: bool_field(b.get("create_host_path"), &field("bind.create_host_path"), warnings)?,
                recursive: string_of(b.get("recursive")),
                extensions,
            })
        }
    };
    let volume = match sub(&m, "volume") {
        None => None,
        Some(mut v) => {
            let extensions = take_extensions(&mut v);
            Some(VolumeOptions {
                labels: v.get("labels").map(labels_from).unwrap_or_default(),
                nocopy: bool_field(v.get("nocopy"), &field("volume.nocopy"), warnings)?,
                subpath: string_of(v.get("subpath")),
                extensions,
            })
        }
    };
    let tmpfs = match sub(&m, "tmpfs") {
        None => None,
        Some(mut t) => {
            let extensions = take_extensions(&mut t);
            let size = match t.get("size") {
                None | Some(Value::Null) => None,
                Some(Value::Int(i)) => Some(*i as u64),
                Some(Value::Float(f)) => Some(*f as u64),
                Some(Value::Str(s)) => Some(
                    crate::units::ram_in_bytes(s).map_err(|e| decode_error(&field("tmpfs.size"), &e.to_string()))?,
                ),
                Some(_) => None,
            };
            let mode = tmpfs_mode(t.get("mode"), &field("tmpfs.mode"))?;
            Some(TmpfsOptions { size: size.filter(|s| *s > 0), mode, extensions })
        }
    };
    let image = sub(&m, "image").map(|mut i| {
        let extensions = take_extensions(&mut i);
        ImageOptions { subpath: string_of(i.get("subpath")), extensions }
    });
    Ok(ServiceVolume {
        kind,
        source: string_of(m.get("source")),
        target: string_of(m.get("target")),
        read_only: bool_field(m.get("read_only"), &field("read_only"), warnings)?,
        consistency: string_of(m.get("consistency")),
        bind,
        volume,
        tmpfs,
        image,
        extensions,
    })
}
