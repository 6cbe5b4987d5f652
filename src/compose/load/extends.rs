//! `extends`: a service built over another of the same file or of another file (whose
//! relative paths stay relative to its own directory), with circular references refused.

use std::path::Path as FsPath;

use super::canonical::{canonical, resolve_paths};
use super::file::interpolate_map;
use super::{Ctx, absolute, go_io_error, parent_dir, yaml_error_plain};
use crate::compose::merge;
use crate::compose::value::{Map, Value};
use crate::compose::yaml;
use crate::compose::{ComposeError, Warnings};

/// Apply `extends` to every service of one file.
pub(super) fn apply_extends(
    ctx: &Ctx<'_>,
    cfg: &mut Map,
    file: &str,
    file_dir: &FsPath,
    warnings: &mut Warnings,
    chain: &mut Vec<(String, String)>,
) -> Result<(), ComposeError> {
    let Some(services) = cfg.get("services") else { return Ok(()) };
    let Value::Map(services) = services.clone() else {
        return Err(ComposeError::Invalid("services must be a mapping".into()));
    };
    let mut services = services;
    let names: Vec<String> = services.keys().cloned().collect();
    for name in names {
        let resolved = extend_service(ctx, &name, &services, file, file_dir, warnings, chain)?;
        if let Some(v) = resolved {
            services.insert(name, v);
        }
    }
    cfg.insert("services".into(), Value::Map(services));
    Ok(())
}

/// The service `name` of `services` with its `extends` applied (recursively).
#[allow(clippy::too_many_arguments)]
fn extend_service(
    ctx: &Ctx<'_>,
    name: &str,
    services: &Map,
    file: &str,
    file_dir: &FsPath,
    warnings: &mut Warnings,
    chain: &mut Vec<(String, String)>,
) -> Result<Option<Value>, ComposeError> {
    let Some(s) = services.get(name) else { return Ok(None) };
    if s.is_null() {
        return Ok(None);
    }
    let Value::Map(service) = s else {
        return Err(ComposeError::Invalid(format!("services.{name} must be a mapping")));
    };
    let Some(ext) = service.get("extends") else { return Ok(Some(s.clone())) };
    let (reference, ext_file) = match ext {
        Value::Map(m) => match m.get("service") {
            Some(Value::Str(r)) => (r.clone(), m.get("file").map(Value::go_sprint)),
            _ => return Err(ComposeError::Invalid(format!("extends.{name}.service is required"))),
        },
        Value::Str(r) => (r.clone(), None),
        _ => (String::new(), None),
    };
    if chain.len() > 64 {
        return Err(ComposeError::Invalid(format!("extends chain of service {name:?} is too deep")));
    }
    let key = (file.to_owned(), name.to_owned());
    if chain.contains(&key) {
        let mut lines = vec!["Circular reference:".to_owned(), format!("  {} in {}", chain[0].1, chain[0].0)];
        for (f, s) in chain.iter().skip(1).chain(std::iter::once(&key)) {
            lines.push(format!("  extends {s} in {f}"));
        }
        return Err(ComposeError::Invalid(lines.join("\n")));
    }
    let base = match ext_file {
        Some(ext_file) => {
            let path = absolute(FsPath::new(&ext_file), file_dir);
            let text = std::fs::read(&path).map_err(|e| ComposeError::Io(go_io_error("open", &path, &e)))?;
            let text = String::from_utf8_lossy(&text);
            let docs = yaml::parse_documents(&text).map_err(|e| yaml_error_plain(&e))?;
            let mut other = Map::new();
            for d in docs {
                if let Value::Map(m) = d.value {
                    let m = interpolate_map(ctx, m, warnings)?;
                    other = merge::merge(other, m).map_err(|e| ComposeError::Invalid(e.0))?;
                }
            }
            let other_services = match other.get("services") {
                Some(Value::Map(s)) => s.clone(),
                Some(_) => {
                    return Err(ComposeError::Invalid(format!(
                        "cannot extend service {name:?} in {}: services must be a mapping",
                        path.display()
                    )));
                }
                None => {
                    return Err(ComposeError::Invalid(format!(
                        "cannot extend service {name:?} in {}: no services section",
                        path.display()
                    )));
                }
            };
            if !other_services.contains_key(&reference) {
                return Err(ComposeError::Invalid(format!(
                    "cannot extend service {name:?} in {file}: service {reference:?} not found in {ext_file}"
                )));
            }
            chain.push(key);
            let other_file = path.display().to_string();
            let other_dir = parent_dir(&path);
            let base = extend_service(ctx, &reference, &other_services, &other_file, &other_dir, warnings, chain)?;
            chain.pop();
            // Relative paths of the other file are relative to its own directory.
            base.map(|b| match b {
                Value::Map(m) => canonical_service_paths(m, &other_dir, ctx.home).map(Value::Map),
                other => Ok(other),
            })
            .transpose()?
        }
        None => {
            if !services.contains_key(&reference) {
                return Err(ComposeError::Invalid(format!(
                    "cannot extend service {name:?} in {file}: service {reference:?} not found"
                )));
            }
            chain.push(key);
            let base = extend_service(ctx, &reference, services, file, file_dir, warnings, chain)?;
            chain.pop();
            base
        }
    };
    let Some(Value::Map(base)) = base else { return Ok(Some(s.clone())) };
    let mut over = service.clone();
    over.remove("extends");
    let mut merged = merge::extend_service(base, over).map_err(|e| ComposeError::Invalid(e.0))?;
    merged.remove("extends");
    Ok(Some(Value::Map(merged)))
}

/// Bring a service from another file into canonical form with its paths made absolute
/// against that file's directory.
fn canonical_service_paths(m: Map, dir: &FsPath, home: Option<&FsPath>) -> Result<Map, ComposeError> {
    let mut svc = Map::new();
    svc.insert("x".into(), Value::Map(m));
    let mut top = Map::new();
    top.insert("services".into(), Value::Map(svc));
    let mut top = canonical(top, &mut Warnings::default())?;
    resolve_paths(&mut top, dir, home)?;
    match top.remove("services") {
        Some(Value::Map(mut s)) => match s.remove("x") {
            Some(Value::Map(m)) => Ok(m),
            _ => Ok(Map::new()),
        },
        _ => Ok(Map::new()),
    }
}
