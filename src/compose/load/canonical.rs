//! Compose's canonical forms (short volume syntax made long, `env_file` and `depends_on` as
//! mappings, external volumes), the checks of the merged resources, and relative paths made
//! absolute (`~` expanded).

use std::path::Path as FsPath;

use crate::compose::value::{Map, Path, Value};
use crate::compose::volume_spec;
use crate::compose::{ComposeError, Warnings};

/// Compose's canonical forms for the keys myvol models.
pub(super) fn canonical(mut model: Map, warnings: &mut Warnings) -> Result<Map, ComposeError> {
    if let Some(Value::Map(services)) = model.get_mut("services") {
        for (name, s) in services.iter_mut() {
            let Value::Map(svc) = s else { continue };
            let p = Path::new(&["services", name]);
            if let Some(Value::Seq(vols)) = svc.get_mut("volumes") {
                for v in vols.iter_mut() {
                    if let Value::Str(spec) = v {
                        let short = volume_spec::parse(spec).map_err(|e| ComposeError::Invalid(e.to_string()))?;
                        *v = Value::Map(short.to_long());
                    }
                }
            }
            if let Some(ef) = svc.get_mut("env_file") {
                let items = match std::mem::replace(ef, Value::Null) {
                    Value::Str(s) => vec![Value::Str(s)],
                    Value::Seq(items) => items,
                    other => {
                        return Err(ComposeError::Invalid(format!(
                            "{}: invalid type {} for env_file",
                            p.next("env_file"),
                            other.type_name()
                        )));
                    }
                };
                let items = items
                    .into_iter()
                    .map(|it| match it {
                        Value::Str(path) => {
                            let mut m = Map::new();
                            m.insert("path".into(), Value::Str(path));
                            m.insert("required".into(), Value::Bool(true));
                            Value::Map(m)
                        }
                        Value::Map(mut m) => {
                            m.entry("required".to_owned()).or_insert(Value::Bool(true));
                            Value::Map(m)
                        }
                        other => other,
                    })
                    .collect();
                *ef = Value::Seq(items);
            }
            if let Some(dep) = svc.get_mut("depends_on") {
                match dep {
                    Value::Seq(items) => {
                        let mut m = Map::new();
                        for it in items.iter() {
                            let mut d = Map::new();
                            d.insert("condition".into(), Value::Str("service_started".into()));
                            d.insert("required".into(), Value::Bool(true));
                            m.insert(it.go_sprint(), Value::Map(d));
                        }
                        *dep = Value::Map(m);
                    }
                    Value::Map(m) => {
                        for d in m.values_mut() {
                            if let Value::Map(d) = d {
                                d.entry("condition".to_owned()).or_insert(Value::Str("service_started".into()));
                                d.entry("required".to_owned()).or_insert(Value::Bool(true));
                            }
                        }
                    }
                    _ => {}
                }
            }
            if let Some(Value::Seq(nets)) = svc.get("networks") {
                let m: Map = nets.iter().map(|n| (n.go_sprint(), Value::Null)).collect();
                svc.insert("networks".into(), Value::Map(m));
            }
        }
    }
    if let Some(Value::Map(volumes)) = model.get_mut("volumes") {
        for (key, v) in volumes.iter_mut() {
            let Value::Map(vol) = v else { continue };
            if let Some(Value::Map(ext)) = vol.get("external").cloned() {
                vol.insert("external".into(), Value::Bool(true));
                if let Some(extname) = ext.get("name") {
                    warnings.push(format!(
                        "volumes.{key}: external.name is deprecated. Please set name and external: true"
                    ));
                    match vol.get("name") {
                        Some(n) if n != extname => {
                            return Err(ComposeError::Invalid(format!(
                                "volumes.{key}: name and external.name conflict; only use name"
                            )));
                        }
                        Some(_) => {}
                        None => {
                            vol.insert("name".into(), extname.clone());
                        }
                    }
                }
            }
        }
    }
    Ok(model)
}

/// Checks of the whole merged model (`external` volumes take no other setting).
pub(super) fn check_resources(model: &Map) -> Result<(), ComposeError> {
    if let Some(Value::Map(volumes)) = model.get("volumes") {
        for (key, v) in volumes {
            match v {
                Value::Null => {}
                Value::Map(vol) => {
                    if let Some(Value::Bool(true)) = vol.get("external") {
                        for k in vol.keys() {
                            if k != "name" && k != "external" && !k.starts_with("x-") {
                                return Err(ComposeError::Invalid(format!(
                                    "volumes.{key}: conflicting parameters \"external\" and {k:?} specified"
                                )));
                            }
                        }
                    }
                }
                other => return Err(ComposeError::Invalid(format!("expected volume, got {}", other.go_sprint()))),
            }
        }
    }
    Ok(())
}

/// `~` as Compose expands it: the home directory joined with the rest.
fn expand_user(p: &str, home: Option<&FsPath>) -> String {
    match (p.strip_prefix('~'), home) {
        (Some(rest), Some(home)) => {
            volume_spec::go_path_clean(&format!("{}/{}", home.display(), rest.trim_start_matches('/')))
        }
        _ => p.to_owned(),
    }
}

fn is_windows_abs(p: &str) -> bool {
    let b = p.as_bytes();
    (b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && (b[2] == b'/' || b[2] == b'\\'))
        || p.starts_with("\\\\")
}

fn abs_path(p: &str, dir: &FsPath, home: Option<&FsPath>) -> String {
    let p = expand_user(p, home);
    if p.starts_with('/') || is_windows_abs(&p) || p.is_empty() {
        return p;
    }
    volume_spec::go_path_clean(&format!("{}/{p}", dir.display()))
}

/// Make relative paths absolute against `dir`: bind sources, env files, local `bind` devices.
pub(super) fn resolve_paths(model: &mut Map, dir: &FsPath, home: Option<&FsPath>) -> Result<(), ComposeError> {
    if let Some(Value::Map(services)) = model.get_mut("services") {
        for s in services.values_mut() {
            let Value::Map(svc) = s else { continue };
            if let Some(Value::Seq(vols)) = svc.get_mut("volumes") {
                for v in vols.iter_mut() {
                    let Value::Map(vol) = v else { continue };
                    if vol.get("type").and_then(Value::as_str) != Some("bind") {
                        continue;
                    }
                    match vol.get("source") {
                        Some(Value::Str(src)) => {
                            let abs = abs_path(src, dir, home);
                            vol.insert("source".into(), Value::Str(abs));
                        }
                        Some(_) => {}
                        None => {
                            return Err(ComposeError::Invalid(
                                "invalid mount config for type \"bind\": field Source must not be empty".into(),
                            ));
                        }
                    }
                }
            }
            if let Some(Value::Seq(files)) = svc.get_mut("env_file") {
                for f in files.iter_mut() {
                    if let Value::Map(m) = f
                        && let Some(Value::Str(p)) = m.get("path")
                    {
                        let abs = abs_path(p, dir, home);
                        m.insert("path".into(), Value::Str(abs));
                    }
                }
            }
        }
    }
    if let Some(Value::Map(volumes)) = model.get_mut("volumes") {
        for v in volumes.values_mut() {
            let Value::Map(vol) = v else { continue };
            if vol.get("driver").and_then(Value::as_str) != Some("local") {
                continue;
            }
            if let Some(Value::Map(opts)) = vol.get_mut("driver_opts")
                && opts.get("o").and_then(Value::as_str) == Some("bind")
                && let Some(Value::Str(dev)) = opts.get("device")
            {
                let abs = abs_path(dev, dir, home);
                opts.insert("device".into(), Value::Str(abs));
            }
        }
    }
    Ok(())
}
