//! Loading a project as Compose v2 does: find the files, read the environment and the env
//! files, pick the project name, then for each file: parse, interpolate, apply `extends`,
//! merge over the files before it, check against the schema and bring into canonical form;
//! finally normalise (names, implicit defaults) and turn the model into types.

use std::collections::BTreeMap;
use std::path::{Path as FsPath, PathBuf};

use super::dotenv;
use super::merge;
use super::model::{
    BindOptions, Dependency, EnvFile, ImageOptions, MountKind, Network, Project, Service, ServiceVolume, TmpfsOptions,
    Volume, VolumeOptions, go_parse_bool, labels_from,
};
use super::schema;
use super::shell;
use super::template::{self, TemplateError};
use super::value::{Map, Path, Value};
use super::volume_spec;
use super::yaml;
use super::{ComposeError, Warnings};

/// The file names Compose looks for, in its order of preference.
pub const DEFAULT_FILE_NAMES: [&str; 4] = ["compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml"];

/// The override files Compose adds to a default file found beside them.
pub const DEFAULT_OVERRIDE_FILE_NAMES: [&str; 4] =
    ["compose.override.yml", "compose.override.yaml", "docker-compose.override.yml", "docker-compose.override.yaml"];

/// What to load, from the command line and the process.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `-f` files in order (`-` for standard input); empty: `COMPOSE_FILE`, else found.
    pub files: Vec<PathBuf>,
    /// `-p`.
    pub project_name: Option<String>,
    /// `--project-directory`.
    pub project_directory: Option<PathBuf>,
    /// `--env-file` (each may be given several times).
    pub env_files: Vec<PathBuf>,
    /// `--profile`; empty: `COMPOSE_PROFILES`.
    pub profiles: Vec<String>,
    /// The current directory.
    pub cwd: PathBuf,
    /// The process environment.
    pub environ: BTreeMap<String, String>,
    /// What `-` reads (the caller reads standard input when a file is `-`).
    pub stdin: Option<String>,
    /// The home directory `~` expands to.
    pub home: Option<PathBuf>,
}

/// Load, merge and normalise a project.
pub fn load(opts: &LoadOptions, warnings: &mut Warnings) -> Result<Project, ComposeError> {
    let cwd = absolute(&opts.cwd, &opts.cwd);
    // The environment: the process's always wins over the env files.
    let mut env: BTreeMap<String, String> = opts.environ.clone();
    if !env.contains_key("PWD") {
        env.insert("PWD".into(), cwd.display().to_string());
    }
    let mut working_dir = match &opts.project_directory {
        Some(d) => Some(absolute(d, &cwd)),
        None => opts.files.iter().find(|f| f.as_os_str() != "-").map(|f| parent_dir(&absolute(f, &cwd))),
    };
    let wd0 = working_dir.clone().unwrap_or_else(|| cwd.clone());
    let env_files = env_file_list(opts, &env, &wd0, &cwd)?;
    merge_env_files(&mut env, &env_files)?;

    // The compose files.
    let mut files: Vec<String> = opts.files.iter().map(|f| file_arg(f, &cwd)).collect();
    if files.is_empty()
        && let Some(list) = env.get("COMPOSE_FILE")
    {
        let sep = env.get("COMPOSE_PATH_SEPARATOR").filter(|s| !s.is_empty()).cloned().unwrap_or(":".into());
        for f in list.split(sep.as_str()) {
            if f == "-" {
                files.push(f.to_owned());
                continue;
            }
            let abs = absolute(FsPath::new(f), &cwd);
            if let Err(e) = std::fs::metadata(&abs) {
                return Err(ComposeError::Io(go_io_error("stat", &abs, &e)));
            }
            files.push(abs.display().to_string());
        }
    }
    if files.is_empty() {
        files = find_default_files(&wd0, warnings);
        if files.is_empty() {
            return Err(ComposeError::NoConfigFile);
        }
        if working_dir.is_none() {
            let dir = parent_dir(FsPath::new(&files[0]));
            if dir != wd0 {
                // Compose reads the .env of the directory it found the file in too.
                let again = env_file_list(opts, &env, &dir, &cwd)?;
                merge_env_files(&mut env, &again)?;
            }
            working_dir = Some(dir);
        }
    }
    let working_dir = working_dir.unwrap_or(wd0);
    let profiles: Vec<String> = if opts.profiles.is_empty() {
        env.get("COMPOSE_PROFILES").map(String::as_str).unwrap_or("").split(',').map(|s| s.trim().to_owned()).collect()
    } else {
        opts.profiles.clone()
    };

    // Read every file once.
    let mut contents: Vec<(String, String)> = Vec::new();
    for f in &files {
        if f == "-" {
            contents.push((f.clone(), opts.stdin.clone().unwrap_or_default()));
            continue;
        }
        let text = std::fs::read(f).map_err(|e| ComposeError::Io(go_io_error("open", FsPath::new(f), &e)))?;
        contents.push((f.clone(), String::from_utf8_lossy(&text).into_owned()));
    }

    // The project name.
    let name = project_name(opts, &env, &contents, &working_dir, warnings)?;
    env.insert("COMPOSE_PROJECT_NAME".into(), name.clone());

    let ctx = Ctx { env: &env, home: opts.home.as_deref() };
    let mut model = Map::new();
    for (file, text) in &contents {
        load_file(&ctx, file, text, &working_dir, &mut model, warnings)?;
    }
    check_resources(&model)?;
    resolve_paths(&mut model, &working_dir, ctx.home)?;
    if model.is_empty() {
        return Err(ComposeError::Invalid("empty compose file".into()));
    }
    if name.is_empty() {
        return Err(ComposeError::Invalid("project name must not be empty".into()));
    }
    drop_unsupported(&mut model, warnings)?;
    model.insert("name".into(), Value::Str(name.clone()));
    normalize(&mut model, &env);
    let mut project = to_project(model, &name)?;
    project.working_dir = working_dir;
    project.compose_files = files;
    project.environment = env;

    // Profiles, then the consistency of what is enabled.
    let (enabled, disabled): (Vec<_>, Vec<_>) =
        std::mem::take(&mut project.services).into_iter().partition(|(_, s)| {
            s.profiles.is_empty()
                || profiles.iter().any(|p| p == "*")
                || s.profiles.iter().any(|p| profiles.contains(p))
        });
    project.services = enabled.into_iter().collect();
    project.disabled_services = disabled.into_iter().collect();
    project.profiles = profiles;
    check_consistency(&project)?;
    resolve_service_environment(&mut project)?;
    Ok(project)
}

struct Ctx<'a> {
    env: &'a BTreeMap<String, String>,
    home: Option<&'a FsPath>,
}

impl Ctx<'_> {
    fn lookup(&self, name: &str) -> Option<String> {
        self.env.get(name).cloned()
    }
}

fn absolute(p: &FsPath, cwd: &FsPath) -> PathBuf {
    let joined = if p.is_absolute() { p.to_path_buf() } else { cwd.join(p) };
    PathBuf::from(volume_spec::go_path_clean(&joined.to_string_lossy()))
}

fn parent_dir(p: &FsPath) -> PathBuf {
    p.parent().map(FsPath::to_path_buf).unwrap_or_else(|| PathBuf::from("/"))
}

fn file_arg(f: &FsPath, cwd: &FsPath) -> String {
    if f.as_os_str() == "-" { "-".to_owned() } else { absolute(f, cwd).display().to_string() }
}

/// An io error in Go's words: `open /x: no such file or directory`.
pub fn go_io_error(op: &str, path: &FsPath, e: &std::io::Error) -> String {
    format!("{op} {}: {}", path.display(), go_errno_text(e))
}

/// The text Go gives an errno.
pub fn go_errno_text(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::NotFound => "no such file or directory".into(),
        K::PermissionDenied => "permission denied".into(),
        K::IsADirectory => "is a directory".into(),
        K::NotADirectory => "not a directory".into(),
        _ => {
            let s = e.to_string();
            let s = s.split(" (os error").next().unwrap_or(&s);
            let mut c = s.chars();
            match c.next() {
                Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
                None => s.to_owned(),
            }
        }
    }
}

/// The env files to read: `--env-file`, else `.env` in `dir` unless disabled.
fn env_file_list(
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
fn merge_env_files(env: &mut BTreeMap<String, String>, files: &[PathBuf]) -> Result<(), ComposeError> {
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
fn find_default_files(dir: &FsPath, warnings: &mut Warnings) -> Vec<String> {
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

fn project_name(
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

fn yaml_error_plain(e: &yaml::YamlError) -> ComposeError {
    ComposeError::Invalid(e.0.clone())
}

fn warn_unset(unset: &[String], warnings: &mut Warnings) {
    for name in unset {
        warnings.push(format!("The {name:?} variable is not set. Defaulting to a blank string."));
    }
}

fn interpolation_error(path: &Path, e: TemplateError) -> ComposeError {
    match e {
        TemplateError::Invalid(t) => ComposeError::Invalid(format!(
            "invalid interpolation format for {path}.\nYou may need to escape any $ with another $.\n{t}"
        )),
        other => ComposeError::Invalid(format!("error while interpolating {path}: {other}")),
    }
}

/// Read one file into the model merged so far.
fn load_file(
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

fn interpolate_map(ctx: &Ctx<'_>, m: Map, warnings: &mut Warnings) -> Result<Map, ComposeError> {
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
                return to_boolean(&out, warnings).map_err(|e| {
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

/// Compose's boolean cast of an interpolated string (YAML 1.1 words accepted, with a warning).
fn to_boolean(s: &str, warnings: &mut Warnings) -> Result<Value, String> {
    match s.to_lowercase().as_str() {
        "true" => Ok(Value::Bool(true)),
        "false" => Ok(Value::Bool(false)),
        "y" | "yes" | "on" => {
            warnings.push(format!("{s:?} for boolean is not supported by YAML 1.2, please use `true`"));
            Ok(Value::Bool(true))
        }
        "n" | "no" | "off" => {
            warnings.push(format!("{s:?} for boolean is not supported by YAML 1.2, please use `false`"));
            Ok(Value::Bool(false))
        }
        _ => Err(format!("invalid boolean: {s}")),
    }
}

/// Apply `extends` to every service of one file.
fn apply_extends(
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

/// Compose's canonical forms for the keys myvol models.
fn canonical(mut model: Map, warnings: &mut Warnings) -> Result<Map, ComposeError> {
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
fn check_resources(model: &Map) -> Result<(), ComposeError> {
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
fn resolve_paths(model: &mut Map, dir: &FsPath, home: Option<&FsPath>) -> Result<(), ComposeError> {
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

/// The service keys myvol models; the others of the specification are dropped with a warning.
const SUPPORTED_SERVICE_KEYS: &[&str] = &[
    "command",
    "depends_on",
    "entrypoint",
    "env_file",
    "environment",
    "extends",
    "hostname",
    "image",
    "labels",
    "network_mode",
    "profiles",
    "read_only",
    "tmpfs",
    "user",
    "volumes",
    "volumes_from",
    "working_dir",
];

fn drop_unsupported(model: &mut Map, warnings: &mut Warnings) -> Result<(), ComposeError> {
    for key in ["networks", "secrets", "configs", "models"] {
        if model.remove(key).is_some() {
            warnings.push(format!("{key}: not supported by myvol, ignored"));
        }
    }
    if let Some(Value::Map(services)) = model.get_mut("services") {
        for (name, s) in services.iter_mut() {
            let Value::Map(svc) = s else { continue };
            let dropped: Vec<String> = svc
                .keys()
                .filter(|k| !k.starts_with("x-") && !SUPPORTED_SERVICE_KEYS.contains(&k.as_str()))
                .cloned()
                .collect();
            for k in dropped {
                let v = svc.remove(&k);
                if k == "build" {
                    svc.insert("x-myvol-build".into(), v.unwrap_or(Value::Null));
                }
                warnings.push(format!("services.{name}.{k}: not supported by myvol, ignored"));
            }
        }
    }
    Ok(())
}

/// Compose's normalisation: the implicit default network, environment variables named
/// without a value looked up, implied dependencies, clean targets, resource names.
fn normalize(model: &mut Map, env: &BTreeMap<String, String>) {
    let project = model.get("name").map(Value::go_sprint).unwrap_or_default();
    let mut uses_default = false;
    if let Some(Value::Map(services)) = model.get_mut("services") {
        for s in services.values_mut() {
            let Value::Map(svc) = s else { continue };
            if !svc.contains_key("network_mode") {
                let mut nets = Map::new();
                nets.insert("default".into(), Value::Null);
                svc.insert("networks".into(), Value::Map(nets));
                uses_default = true;
            }
            if let Some(e) = svc.get_mut("environment") {
                resolve_env_value(e, env);
            }
            let mut depends: Map = match svc.remove("depends_on") {
                Some(Value::Map(m)) => m,
                _ => Map::new(),
            };
            if let Some(Value::Str(mode)) = svc.get("network_mode")
                && let Some(shared) = mode.strip_prefix("service:")
            {
                depends.entry(shared.to_owned()).or_insert_with(|| dependency(true));
            }
            if let Some(Value::Seq(from)) = svc.get("volumes_from") {
                for f in from {
                    let f = f.go_sprint();
                    if !f.starts_with("container:") {
                        let svc_name = f.split(':').next().unwrap_or("").to_owned();
                        depends.entry(svc_name).or_insert_with(|| dependency(false));
                    }
                }
            }
            if let Some(Value::Seq(vols)) = svc.get_mut("volumes") {
                for v in vols.iter_mut() {
                    if let Value::Map(vol) = v
                        && let Some(Value::Str(t)) = vol.get("target")
                    {
                        let cleaned = volume_spec::go_path_clean(t);
                        vol.insert("target".into(), Value::Str(cleaned));
                    }
                }
            }
            if !depends.is_empty() {
                svc.insert("depends_on".into(), Value::Map(depends));
            }
        }
    }
    if uses_default {
        let mut nets = Map::new();
        nets.insert("default".into(), Value::Map(Map::new()));
        model.insert("networks".into(), Value::Map(nets));
    }
    for kind in ["networks", "volumes"] {
        if let Some(Value::Map(top)) = model.get_mut(kind) {
            for (key, r) in top.iter_mut() {
                let mut res = match std::mem::replace(r, Value::Null) {
                    Value::Map(m) => m,
                    _ => Map::new(),
                };
                if res.get("name").is_none_or(Value::is_null) {
                    let external = matches!(res.get("external"), Some(Value::Bool(true)))
                        || matches!(res.get("external"), Some(Value::Str(s)) if go_parse_bool(s) == Some(true));
                    let name = if external { key.clone() } else { format!("{project}_{key}") };
                    res.insert("name".into(), Value::Str(name));
                }
                *r = Value::Map(res);
            }
        }
    }
}

fn dependency(restart: bool) -> Value {
    let mut d = Map::new();
    d.insert("condition".into(), Value::Str("service_started".into()));
    d.insert("restart".into(), Value::Bool(restart));
    d.insert("required".into(), Value::Bool(true));
    Value::Map(d)
}

fn resolve_env_value(e: &mut Value, env: &BTreeMap<String, String>) {
    match e {
        Value::Map(m) => {
            for (k, v) in m.iter_mut() {
                if v.is_null()
                    && let Some(found) = env.get(k)
                {
                    *v = Value::Str(found.clone());
                }
            }
        }
        Value::Seq(items) => {
            for it in items.iter_mut() {
                if let Value::Str(s) = it
                    && !s.contains('=')
                    && let Some(found) = env.get(s.as_str())
                {
                    *s = format!("{s}={found}");
                }
            }
        }
        _ => {}
    }
}

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

fn bool_of(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::Str(s)) => go_parse_bool(s).unwrap_or(false),
        _ => false,
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
fn to_project(mut model: Map, name: &str) -> Result<Project, ComposeError> {
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
            project.volumes.insert(
                k,
                Volume {
                    name: string_of(m.get("name")),
                    driver: string_of(m.get("driver")),
                    driver_opts,
                    external: bool_of(m.get("external")),
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
            let svc = service_from(&sname, m)?;
            project.services.insert(sname, svc);
        }
    }
    Ok(project)
}

fn service_from(name: &str, mut m: Map) -> Result<Service, ComposeError> {
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
        read_only: bool_of(m.get("read_only")),
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
        for f in files {
            if let Value::Map(f) = f {
                s.env_files.push(EnvFile {
                    path: PathBuf::from(string_of(f.get("path"))),
                    required: f.get("required").is_none_or(|r| bool_of(Some(r))),
                    format: string_of(f.get("format")),
                });
            }
        }
    }
    if let Some(Value::Map(deps)) = m.get("depends_on") {
        for (k, d) in deps {
            let mut d = d.as_map().cloned().unwrap_or_default();
            let extensions = take_extensions(&mut d);
            s.depends_on.insert(
                k.clone(),
                Dependency {
                    condition: string_of(d.get("condition")),
                    restart: bool_of(d.get("restart")),
                    required: d.get("required").is_none_or(|r| bool_of(Some(r))),
                    extensions,
                },
            );
        }
    }
    if let Some(Value::Seq(vols)) = m.get("volumes") {
        for (i, v) in vols.iter().enumerate() {
            let Value::Map(v) = v else { continue };
            s.volumes.push(service_volume_from(name, i, v.clone())?);
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

fn service_volume_from(service: &str, index: usize, mut m: Map) -> Result<ServiceVolume, ComposeError> {
    let extensions = take_extensions(&mut m);
    let kind_text = string_of(m.get("type"));
    let kind = MountKind::parse(&kind_text).ok_or_else(|| {
        ComposeError::Invalid(format!("services.{service}.volumes.{index}.type: invalid mount type {kind_text:?}"))
    })?;
    let sub = |m: &Map, key: &str| -> Option<Map> { m.get(key).and_then(Value::as_map).cloned() };
    let bind = sub(&m, "bind").map(|mut b| {
        let extensions = take_extensions(&mut b);
        BindOptions {
            selinux: string_of(b.get("selinux")),
            propagation: string_of(b.get("propagation")),
            create_host_path: bool_of(b.get("create_host_path")),
            recursive: string_of(b.get("recursive")),
            extensions,
        }
    });
    let volume = sub(&m, "volume").map(|mut v| {
        let extensions = take_extensions(&mut v);
        VolumeOptions {
            labels: v.get("labels").map(labels_from).unwrap_or_default(),
            nocopy: bool_of(v.get("nocopy")),
            subpath: string_of(v.get("subpath")),
            extensions,
        }
    });
    let tmpfs = match sub(&m, "tmpfs") {
        None => None,
        Some(mut t) => {
            let extensions = take_extensions(&mut t);
            let size = match t.get("size") {
                None | Some(Value::Null) => None,
                Some(Value::Int(i)) => Some(*i as u64),
                Some(Value::Float(f)) => Some(*f as u64),
                Some(Value::Str(s)) => Some(crate::units::ram_in_bytes(s).map_err(|e| {
                    decode_error(&format!("services[{service}].volumes[{index}].tmpfs.size"), &e.to_string())
                })?),
                Some(_) => None,
            };
            let mode = match t.get("mode") {
                Some(Value::Int(i)) => *i as u32,
                Some(Value::Float(f)) => *f as u32,
                Some(Value::Str(s)) => u32::from_str_radix(s.trim_start_matches("0o"), 8).map_err(|_| {
                    decode_error(
                        &format!("services[{service}].volumes[{index}].tmpfs.mode"),
                        &format!("cannot parse {s:?} as an octal mode"),
                    )
                })?,
                _ => 0,
            };
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
        read_only: bool_of(m.get("read_only")),
        consistency: string_of(m.get("consistency")),
        bind,
        volume,
        tmpfs,
        image,
        extensions,
    })
}

fn invalid_project(msg: String) -> ComposeError {
    ComposeError::Invalid(format!("{msg}: invalid compose project"))
}

fn check_consistency(project: &Project) -> Result<(), ComposeError> {
    for (name, s) in &project.services {
        if s.image.is_empty() && !s.extensions.contains_key("x-myvol-build") {
            return Err(invalid_project(format!(
                "service {name:?} has neither an image nor a build context specified"
            )));
        }
        for (dep, d) in &s.depends_on {
            if !project.services.contains_key(dep) {
                if project.disabled_services.contains_key(dep) && !d.required {
                    continue;
                }
                return Err(invalid_project(format!("service {name:?} depends on undefined service {dep:?}")));
            }
        }
        if let Some(shared) = s.network_mode.strip_prefix("service:")
            && !project.services.contains_key(shared)
        {
            return Err(ComposeError::Invalid(format!(
                "service {shared:?} not found for network_mode 'service:{shared}'"
            )));
        }
        for v in &s.volumes {
            if v.kind == MountKind::Volume && !v.source.is_empty() && !project.volumes.contains_key(&v.source) {
                return Err(invalid_project(format!("service {name:?} refers to undefined volume {}", v.source)));
            }
        }
    }
    Ok(())
}

/// Fold each service's env files into its environment (the service's own entries win).
fn resolve_service_environment(project: &mut Project) -> Result<(), ComposeError> {
    let project_env = project.environment.clone();
    for s in project.services.values_mut() {
        for v in s.environment.values_mut() {
            // Already done by normalisation for the project environment; nothing to add.
            let _ = v;
        }
        if s.env_files.is_empty() {
            continue;
        }
        let mut env: BTreeMap<String, String> =
            s.environment.iter().filter_map(|(k, v)| v.clone().map(|v| (k.clone(), v))).collect();
        let service_env = s.environment.clone();
        for f in &s.env_files {
            let meta = std::fs::metadata(&f.path);
            if let Err(e) = meta
                && e.kind() == std::io::ErrorKind::NotFound
            {
                if f.required {
                    return Err(ComposeError::Io(format!(
                        "env file {} not found: {}",
                        f.path.display(),
                        go_io_error("stat", &f.path, &e)
                    )));
                }
                continue;
            }
            if !f.format.is_empty() {
                return Err(ComposeError::Invalid(format!("unsupported env_file format {:?}", f.format)));
            }
            let text = std::fs::read(&f.path).map_err(|e| ComposeError::Io(go_io_error("open", &f.path, &e)))?;
            let text = String::from_utf8_lossy(&text);
            let lookup = |k: &str| -> Option<String> {
                project_env.get(k).cloned().or_else(|| service_env.get(k).cloned().flatten())
            };
            dotenv::parse(&text, &mut env, &lookup)
                .map_err(|e| ComposeError::Invalid(format!("failed to read {}: {e}", f.path.display())))?;
        }
        let mut merged: BTreeMap<String, Option<String>> = env.into_iter().map(|(k, v)| (k, Some(v))).collect();
        for (k, v) in service_env {
            merged.insert(k, v);
        }
        s.environment = merged;
        s.env_files.clear();
    }
    Ok(())
}
