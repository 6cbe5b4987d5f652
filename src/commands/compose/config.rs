//! `compose config`: the normalised project as YAML or JSON, or the names of its services,
//! volumes or profiles.

use myvol::compose::{self, Project};
use myvol::output::compose as render;

use super::escaped;
use crate::cli::compose::ConfigArgs;
use crate::commands::{Io, Result};

pub(super) fn config(project: Project, a: ConfigArgs, io: &mut Io<'_>) -> Result {
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
