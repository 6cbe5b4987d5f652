//! One compose file into the model merged so far: parse its documents, interpolate
//! variables (with Compose's boolean casts), apply `extends`, merge, validate against the
//! schema and bring it into canonical form.

use std::path::Path as FsPath;

use super::canonical::canonical;
use super::extends::apply_extends;
use super::{Ctx, interpolation_error, parent_dir, warn_unset, yaml_error_plain};
use crate::compose::merge;
use crate::compose::schema;
use crate::compose::template;
use crate::compose::value::{Map, Path, Value};
use crate::compose::yaml;
use crate::compose::{ComposeError, Warnings};

/// Read one file into the model merged so far.
pub(super) fn load_file(
    ctx: &Ctx<'_>,
    file: &str,
    text: &str,
    working_dir: &FsPath,
    model: &mut Map,
    warnings: &mut Warnings,
) -> Result<(), ComposeError> {
    let docs = yaml::parse_documents(text).map_err(|e| {
        if e.0.starts_with("line ") {
            ComposeError::Invalid(format!("failed to parse {file}: {}", e.0))
        } else {
            yaml_error_plain(&e)
        }
    })?;
    let file_dir = if file == "-" { working_dir.to_path_buf() } else { parent_dir(FsPath::new(file)) };
    for doc in docs {
        let Value::Map(mut cfg) = doc.value else {
            return Err(ComposeError::Invalid("top-level object must be a mapping".into()));
        };
        cfg = interpolate_map(ctx, cfg, warnings)?;
        apply_extends(ctx, &mut cfg, file, &file_dir, warnings, &mut Vec::new())?;
        merge::apply_resets(model, &doc.resets);
        if cfg.contains_key("include") {
            return Err(ComposeError::Unsupported("include".into()));
        }
        let merged = merge::merge(std::mem::take(model), cfg).map_err(|e| ComposeError::Invalid(e.0))?;
        let merged = merge::enforce_unicity(merged).map_err(|e| ComposeError::Invalid(e.0))?;
        schema::validate(&merged).map_err(|e| ComposeError::Invalid(format!("validating {file}: {e}")))?;
        let mut merged = merged;
        if merged.remove("version").is_some() {
            warnings.push(format!(
                "{file}: the attribute `version` is obsolete, it will be ignored, please remove it to avoid potential confusion"
            ));
        }
        let merged = canonical(merged, warnings)?;
        *model = merge::enforce_unicity(merged).map_err(|e| ComposeError::Invalid(e.0))?;
    }
    Ok(())
}

/// The paths whose strings interpolation turns into booleans.
const BOOL_CASTS: &[&[&str]] = &[
    &["services", "*", "read_only"],
    &["services", "*", "volumes", "[]", "read_only"],
    &["services", "*", "volumes", "[]", "volume", "nocopy"],
    &["volumes", "*", "external"],
    &["services", "*", "init"],
    &["services", "*", "privileged"],
    &["services", "*", "tty"],
    &["services", "*", "stdin_open"],
    &["services", "*", "oom_kill_disable"],
];

pub(super) fn interpolate_map(ctx: &Ctx<'_>, m: Map, warnings: &mut Warnings) -> Result<Map, ComposeError> {
    let mut out = Map::new();
    for (k, v) in m {
        let p = Path::root().next(k.clone());
        out.insert(k, interpolate(ctx, v, &p, warnings)?);
    }
    Ok(out)
}

fn interpolate(ctx: &Ctx<'_>, v: Value, p: &Path, warnings: &mut Warnings) -> Result<Value, ComposeError> {
    match v {
        Value::Str(s) => {
            let lookup = |k: &str| ctx.lookup(k);
            let mut unset = Vec::new();
            let out = template::substitute(&s, &lookup, &mut unset).map_err(|e| interpolation_error(p, e))?;
            warn_unset(&unset, warnings);
            if BOOL_CASTS.iter().any(|pat| p.matches(pat)) {
                return to_boolean(&out, warnings).map(Value::Bool).map_err(|e| {
                    ComposeError::Invalid(format!(
                        "error while interpolating {p}: failed to cast to expected type: {e}"
                    ))
                });
            }
            Ok(Value::Str(out))
        }
        Value::Map(m) => {
            let mut out = Map::new();
            for (k, e) in m {
                let next = p.next(k.clone());
                out.insert(k, interpolate(ctx, e, &next, warnings)?);
            }
            Ok(Value::Map(out))
        }
        Value::Seq(items) => {
            let next = p.next("[]");
            items
                .into_iter()
                .map(|e| interpolate(ctx, e, &next, warnings))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Seq)
        }
        other => Ok(other),
    }
}

/// Compose's boolean cast of a string (YAML 1.1 words accepted, with a warning): what
/// interpolation does on the paths of [`BOOL_CASTS`], and what decoding does for every other
/// boolean field given a string.
pub(super) fn to_boolean(s: &str, warnings: &mut Warnings) -> Result<bool, String> {
    match s.to_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        "y" | "yes" | "on" => {
            warnings.push(format!("{s:?} for boolean is not supported by YAML 1.2, please use `true`"));
            Ok(true)
        }
        "n" | "no" | "off" => {
            warnings.push(format!("{s:?} for boolean is not supported by YAML 1.2, please use `false`"));
            Ok(false)
        }
        _ => Err(format!("invalid boolean: {s}")),
    }
}
