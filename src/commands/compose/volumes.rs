//! The project's volumes: `compose volumes`, the volume part of `up` (with the recreate
//! question on stdin), and `down -v`.

use myvol::compose::Project;
use myvol::compose::reconcile::{self, Prompter, RemoveAction, VolumeAction};
use myvol::output::volume::{LsContext, ls_header};
use myvol::output::{ListFormat, natural_cmp};
use myvol::store::Store;

use super::{escaped, warn};
use crate::cli::compose::{DownArgs, UpVolumesArgs, VolumesArgs};
use crate::commands::{ExitStatus, Failure, Io, Result};

/// `compose down`: no containers or networks outlive a run; with `-v`, the project's volumes
/// (not external ones) and the anonymous volumes its runs left, Compose's progress lines on
/// stderr; a volume in use is left with Compose's warning.
pub(super) fn down(store: &Store, project: Project, a: DownArgs) -> Result {
    let _ = (a.remove_orphans, a.timeout);
    if !a.volumes {
        return Ok(());
    }
    let mut done = reconcile::remove_anonymous_volumes(store, &project.name).map_err(|e| escaped(&e))?;
    done.extend(reconcile::remove_volumes(store, &project).map_err(|e| escaped(&e))?);
    report_removals(done);
    Ok(())
}

/// `compose down` with a project name and no file (`-p NAME` without `-f`, or
/// COMPOSE_PROJECT_NAME when the files do not load): Compose works from what carries the
/// project's label (the name lowercased). With `-v`, every volume labelled with the project
/// (external volumes never are); when nothing is there to remove, Compose's warning.
pub(super) fn down_by_name(store: &Store, name: &str, a: &DownArgs) -> Result {
    let name = name.to_lowercase();
    let done =
        if a.volumes { reconcile::remove_labelled_volumes(store, &name).map_err(|e| escaped(&e))? } else { Vec::new() };
    if done.is_empty() {
        warn(&format!("Warning: No resource found to remove for project {}.", myvol::text::go_quote(&name)));
    }
    report_removals(done);
    Ok(())
}

/// Compose's progress lines for the volumes `down` removed (or found in use), on stderr.
fn report_removals(done: Vec<(String, RemoveAction)>) {
    for (name, action) in done {
        let name = myvol::text::escape_control(&name);
        match action {
            RemoveAction::Missing => {}
            RemoveAction::Removed => {
                eprintln!(" Volume {name}  Removing");
                eprintln!(" Volume {name}  Removed");
            }
            RemoveAction::InUse => {
                eprintln!(" Volume {name}  Removing");
                eprintln!(" Volume {name}  Resource is still in use");
            }
        }
    }
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

pub(super) fn volumes(store: &Store, project: Project, a: VolumesArgs, io: &mut Io<'_>) -> Result {
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
pub(super) struct StdPrompter<'a, 'b> {
    pub(super) io: &'a mut Io<'b>,
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

pub(super) fn up_volumes(store: &Store, project: Project, a: UpVolumesArgs, io: &mut Io<'_>) -> Result {
    let project = project.without_unnecessary_resources();
    let mut prompter = StdPrompter { io };
    reconcile::ensure_volumes(store, &project, a.yes, &mut prompter).map_err(|e| escaped(&e))?;
    Ok(())
}
