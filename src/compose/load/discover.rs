//! Before any file is parsed: the env files (`--env-file`, or `.env` unless disabled), the
//! default compose files found in a directory or its parents, and the project name (`-p`,
//! `COMPOSE_PROJECT_NAME`, the files' `name:`, else the working directory's).

use std::collections::BTreeMap;
use std::path::{Path as FsPath, PathBuf};

use super::{
    DEFAULT_FILE_NAMES, DEFAULT_OVERRIDE_FILE_NAMES, LoadOptions, absolute, go_io_error, interpolation_error,
    warn_unset, yaml_error_plain,
};
use crate::compose::dotenv;
use crate::compose::model::go_parse_bool;
use crate::compose::template;
use crate::compose::value::{Path, Value};
use crate::compose::yaml;
use crate::compose::{ComposeError, Warnings};

/// The env files to read: `--env-file`, else `.env` in `dir` unless disabled.
pub(super) fn env_file_list(
    opts: &LoadOptions,
    env: &BTreeMap<String, String>,
    dir: &FsPath,
    cwd: &FsPath,
) -> Result<Vec<PathBuf>, ComposeError> {
    if !opts.env_files.is_empty() {
        return Ok(opts.env_files.iter().map(|f| absolute(f, cwd)).collect());
    }
    if let Some(v) = opts.environ.get("COMPOSE_DISABLE_ENV_FILE").or_else(|| env.get("COMPOSE_DISABLE_ENV_FILE")) {
        match go_parse_bool(v) {
            Some(true) => return Ok(Vec::new()),
            Some(false) => {}
            None => {
                return Err(ComposeError::Invalid(format!("strconv.ParseBool: parsing {v:?}: invalid syntax")));
            }
        }
    }
    let dotenv = dir.join(".env");
    match std::fs::metadata(&dotenv) {
        Ok(m) if !m.is_dir() => Ok(vec![dotenv]),
        _ => Ok(Vec::new()),
    }
}

/// Read env files into the environment without overriding what it has.
pub(super) fn merge_env_files(env: &mut BTreeMap<String, String>, files: &[PathBuf]) -> Result<(), ComposeError> {
    let mut read: BTreeMap<String, String> = BTreeMap::new();
    for f in files {
        let meta = std::fs::metadata(f);
        match meta {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ComposeError::Io(format!("couldn't find env file: {}", f.display())));
            }
            Err(e) => return Err(ComposeError::Io(go_io_error("stat", f, &e))),
            Ok(m) if m.is_dir() => return Err(ComposeError::Io(format!("{} is a directory", f.display()))),
            Ok(_) => {}
        }
        let text = std::fs::read(f).map_err(|e| ComposeError::Io(go_io_error("open", f, &e)))?;
        let text = String::from_utf8_lossy(&text);
        let snapshot = env.clone();
        let so_far = read.clone();
        let lookup = move |k: &str| snapshot.get(k).cloned().or_else(|| so_far.get(k).cloned());
        dotenv::parse(&text, &mut read, &lookup)
            .map_err(|e| ComposeError::Invalid(format!("failed to read {}: {e}", f.display())))?;
    }
    for (k, v) in read {
        env.entry(k).or_insert(v);
    }
    Ok(())
}

/// The default files in `dir` or the nearest parent that has one, with its override file.
pub(super) fn find_default_files(dir: &FsPath, warnings: &mut Warnings) -> Vec<String> {
    let mut dir = dir.to_path_buf();
    loop {
        let found: Vec<PathBuf> =
            DEFAULT_FILE_NAMES.iter().map(|n| dir.join(n)).filter(|p| std::fs::metadata(p).is_ok()).collect();
        if let Some(winner) = found.first() {
            let mut out = vec![winner.display().to_string()];
            if found.len() > 1 {
                let all: Vec<String> = found.iter().map(|p| p.display().to_string()).collect();
                warnings.push(format!("Found multiple config files with supported names: {}", all.join(", ")));
                warnings.push(format!("Using {}", winner.display()));
            }
            let overrides: Vec<PathBuf> = DEFAULT_OVERRIDE_FILE_NAMES
                .iter()
                .map(|n| dir.join(n))
                .filter(|p| std::fs::metadata(p).is_ok())
                .collect();
            if let Some(o) = overrides.first() {
                if overrides.len() > 1 {
                    let all: Vec<String> = overrides.iter().map(|p| p.display().to_string()).collect();
                    warnings.push(format!("Found multiple override files with supported names: {}", all.join(", ")));
                    warnings.push(format!("Using {}", o.display()));
                }
                out.push(o.display().to_string());
            }
            return out;
        }
        match dir.parent() {
            Some(p) if p != dir => dir = p.to_path_buf(),
            _ => return Vec::new(),
        }
    }
}

/// Compose's rule for a project name: lower case, only `[a-z0-9_-]`, no leading `_` or `-`.
pub fn normalize_project_name(s: &str) -> String {
    let kept: String = s
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
        .collect();
    kept.trim_start_matches(['_', '-']).to_owned()
}

fn invalid_project_name(v: &str) -> ComposeError {
    ComposeError::ProjectName(format!(
        "invalid project name {v:?}: must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number"
    ))
}

pub(super) fn project_name(
    opts: &LoadOptions,
    env: &BTreeMap<String, String>,
    contents: &[(String, String)],
    working_dir: &FsPath,
    warnings: &mut Warnings,
) -> Result<String, ComposeError> {
    if let Some(p) = &opts.project_name
        && !p.is_empty()
    {
        if normalize_project_name(p) != *p {
            return Err(invalid_project_name(p));
        }
        return Ok(p.clone());
    }
    if let Some(p) = env.get("COMPOSE_PROJECT_NAME").filter(|p| !p.is_empty()) {
        if normalize_project_name(p) != *p {
            return Err(invalid_project_name(p));
        }
        return Ok(p.clone());
    }
    // The last non-empty `name:` of the files. Compose probes the first document of each
    // file for it first, which is where a file that is no mapping fails.
    let mut named = false;
    let mut from_files = String::new();
    for (_, text) in contents {
        let docs = match yaml::parse_documents(text) {
            Ok(d) => d,
            // Duplicate and non-string keys are reported later, by the full load.
            Err(e) if e.0.starts_with("line ") || e.0.starts_with("non-string key") => continue,
            Err(e) => return Err(yaml_error_plain(&e)),
        };
        if let Some(first) = docs.first() {
            let kind = match &first.value {
                Value::Map(_) | Value::Null => None,
                Value::Seq(_) => Some("!!seq".to_owned()),
                Value::Str(s) => Some(format!("!!str `{s}`")),
                Value::Int(i) => Some(format!("!!int `{i}`")),
                Value::Float(f) => Some(format!("!!float `{}`", f)),
                Value::Bool(b) => Some(format!("!!bool `{b}`")),
            };
            if let Some(kind) = kind {
                return Err(ComposeError::Invalid(format!(
                    "yaml: unmarshal errors:\n  line {}: cannot unmarshal {kind} into cli.named",
                    first.line
                )));
            }
        }
        for d in docs {
            if let Some(Value::Str(n)) = d.value.as_map().and_then(|m| m.get("name"))
                && !n.is_empty()
            {
                named = true;
                from_files = n.clone();
            }
        }
    }
    if named {
        let mut unset = Vec::new();
        let lookup = |k: &str| env.get(k).cloned();
        let n = template::substitute(&from_files, &lookup, &mut unset)
            .map_err(|e| interpolation_error(&Path::new(&["name"]), e))?;
        warn_unset(&unset, warnings);
        return Ok(normalize_project_name(&n));
    }
    let base = working_dir.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(normalize_project_name(&base))
}
