//! `myvol compose`: load the project through the library, then `config`, `volumes`, or the
//! volume part of `up`.

use std::path::PathBuf;

use myvol::compose::reconcile::{self, Prompter, VolumeAction};
use myvol::compose::{self, LoadOptions, Project, Warnings};
use myvol::output::compose as render;
use myvol::output::volume::{LsContext, ls_header};
use myvol::output::{ListFormat, natural_cmp};
use myvol::store::Store;

use super::{ExitStatus, Failure, Io, Result};
use crate::cli::compose::{ComposeArgs, ComposeCommand, ConfigArgs, UpVolumesArgs, VolumesArgs};

pub fn dispatch(store: &Store, args: ComposeArgs, io: &mut Io<'_>) -> Result {
    let ComposeArgs { files, project_name, project_directory, env_files, profiles, command } = args;
    let opts = LoadOptions {
        files,
        project_name,
        project_directory,
        env_files,
        profiles,
        cwd: std::env::current_dir().map_err(|e| Failure::new(ExitStatus::Failure, format!("getwd: {e}")))?,
        environ: std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect(),
        stdin: None,
        home: std::env::var_os("HOME").map(PathBuf::from),
    };
    let mut opts = opts;
    if opts.files.iter().any(|f| f.as_os_str() == "-") {
        let mut s = String::new();
        io.input.read_to_string(&mut s).map_err(|e| Failure::new(ExitStatus::Failure, format!("read stdin: {e}")))?;
        opts.stdin = Some(s);
    }
    let mut warnings = Warnings::default();
    let loaded = compose::load(&opts, &mut warnings);
    print_warnings(&warnings);
    let project = loaded.map_err(|e| escaped(&e))?;
    match command {
        ComposeCommand::Config(a) => config(project, a, io),
        ComposeCommand::Volumes(a) => volumes(store, project, a, io),
        ComposeCommand::UpVolumes(a) => up_volumes(store, project, a, io),
    }
}

/// A failure whose message may quote the user's files: each line escaped for the terminal
/// (Compose's multi-line messages keep their lines).
fn escaped(e: &dyn std::fmt::Display) -> Failure {
    let text = e.to_string();
    // One message per line: the edge escapes each (a newline inside one would be escaped).
    Failure::many(ExitStatus::Failure, text.lines().map(str::to_owned).collect())
}

/// Compose logs its warnings through logrus; myvol prints them in logrus's terminal form.
fn warn(msg: &str) {
    eprintln!("WARN[0000] {}", myvol::text::escape_control(msg));
}

fn print_warnings(w: &Warnings) {
    for m in w.iter() {
        warn(m);
    }
}

fn config(project: Project, a: ConfigArgs, io: &mut Io<'_>) -> Result {
    let fail = |e: &dyn std::fmt::Display| escaped(e);
    let project = project
        .with_services_enabled(&a.service_names)
        .with_selected_services(&a.service_names)
        .map_err(|e| fail(&e))?
        .without_unnecessary_resources();
    if a.services {
        for name in project.services_in_dependency_order() {
            writeln!(io.out, "{name}")?;
        }
        return Ok(());
    }
    if a.volumes {
        for key in project.volumes.keys() {
            writeln!(io.out, "{key}")?;
        }
        return Ok(());
    }
    if a.profiles {
        for p in project.all_profiles() {
            writeln!(io.out, "{p}")?;
        }
        return Ok(());
    }
    let content = match a.format.as_deref().unwrap_or("yaml") {
        "yaml" => render::config_yaml(&project),
        "json" => render::config_json(&project),
        other => return Err(fail(&format!("unsupported format {other:?}"))),
    };
    if a.quiet {
        return Ok(());
    }
    if let Some(path) = &a.output {
        if !content.is_empty() {
            std::fs::write(path, content.as_bytes()).map_err(|e| fail(&compose::go_io_error("open", path, &e)))?;
        }
        return Ok(());
    }
    io.out.write_all(content.as_bytes())?;
    Ok(())
}

/// `docker volume ls`'s format rules, which `compose volumes` uses.
fn list_format(format: &str, quiet: bool) -> String {
    match format {
        "table" if quiet => "{{.Name}}".to_owned(),
        "table" => "table {{.Driver}}\t{{.Name}}".to_owned(),
        "raw" if quiet => "name: {{.Name}}".to_owned(),
        "raw" => "name: {{.Name}}\\ndriver: {{.Driver}}\\n".to_owned(),
        other => other.to_owned(),
    }
}

fn volumes(store: &Store, project: Project, a: VolumesArgs, io: &mut Io<'_>) -> Result {
    for s in &a.services {
        if !project.services.contains_key(s) {
            return Err(Failure::new(ExitStatus::Failure, format!("no such service: {s}")));
        }
    }
    let mut vols = reconcile::labelled_volumes(store, &project.name).map_err(|e| escaped(&e))?;
    if !a.services.is_empty() {
        // The volumes the named services mount (myvol keeps no containers to ask).
        let mut used: Vec<String> = Vec::new();
        for s in &a.services {
            for v in &project.services[s].volumes {
                if let Some(vol) = project.volumes.get(&v.source) {
                    used.push(vol.name.clone());
                }
            }
        }
        vols.retain(|v| used.iter().any(|u| u == v.name.as_str()));
    }
    vols.sort_unstable_by(|x, y| natural_cmp(x.name.as_str(), y.name.as_str()));
    if a.quiet {
        for v in &vols {
            writeln!(io.out, "{}", v.name)?;
        }
        return Ok(());
    }
    let format = list_format(&a.format, false);
    let fmt = ListFormat::parse(&format).map_err(|e| Failure::format(ExitStatus::Failure, e))?;
    let table = fmt.is_table();
    let rows = vols.iter().map(|v| LsContext::value(v, None, table));
    fmt.render(&ls_header(), rows, io.out).map_err(|e| Failure::format(ExitStatus::Failure, e))
}

/// The recreate question on the command's stdout and stdin, as Compose asks it when stdin is
/// not a terminal: the question with no newline, then one word read; `y`, `1`, `t`, `true`
/// (any case) mean yes, anything else, or nothing, no.
struct StdPrompter<'a, 'b> {
    io: &'a mut Io<'b>,
}

impl Prompter for StdPrompter<'_, '_> {
    fn warn(&mut self, message: &str) {
        warn(message);
    }

    /// Compose's progress lines for the volumes it creates (on stderr, as without a terminal).
    fn done(&mut self, name: &str, action: &VolumeAction) {
        if matches!(action, VolumeAction::Created | VolumeAction::Recreated) {
            let name = myvol::text::escape_control(name);
            eprintln!(" Volume {name}  Creating");
            eprintln!(" Volume {name}  Created");
        }
    }

    fn confirm(&mut self, question: &str) -> std::io::Result<bool> {
        self.io.out.write_all(question.as_bytes())?;
        self.io.out.flush()?;
        let mut line = String::new();
        self.io.input.read_line(&mut line)?;
        Ok(reconcile::answer_is_yes(line.split_whitespace().next().unwrap_or("")))
    }
}

fn up_volumes(store: &Store, project: Project, a: UpVolumesArgs, io: &mut Io<'_>) -> Result {
    let project = project.without_unnecessary_resources();
    let mut prompter = StdPrompter { io };
    reconcile::ensure_volumes(store, &project, a.yes, &mut prompter).map_err(|e| escaped(&e))?;
    Ok(())
}
