//! Loading a project as Compose v2 does: find the files, read the environment and the env
//! files, pick the project name, then for each file: parse, interpolate, apply `extends`,
//! merge over the files before it, check against the schema and bring into canonical form;
//! finally normalise (names, implicit defaults) and turn the model into types.

mod canonical;
mod discover;
mod extends;
mod file;
mod normalize;
mod typed;

use std::collections::BTreeMap;
use std::path::{Path as FsPath, PathBuf};

use super::dotenv;
use super::model::{MountKind, Project};
use super::template::TemplateError;
use super::value::{Map, Path, Value};
use super::volume_spec;
use super::yaml;
use super::{ComposeError, Warnings};
use canonical::{check_resources, resolve_paths};
pub use discover::normalize_project_name;
use discover::{env_file_list, find_default_files, merge_env_files, project_name};
use file::load_file;
use normalize::{drop_unsupported, normalize};
use typed::to_project;

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
    let mut project = to_project(model, &name, warnings)?;
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
