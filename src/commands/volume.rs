//! `myvol volume create|ls|inspect|rm|prune|rename|clone|exists` (export and import: archive.rs).

use std::collections::BTreeMap;

use myvol::filter::{Filters, ListFilter, PruneFilter};
use myvol::output::volume::{InspectContext, LsContext, LsHeader, inspect_json};
use myvol::output::{FormatError, ListFormat, go_json, go_json_indent, natural_cmp, template};
use myvol::store::{CreateRequest, Store};
use myvol::units::human_size;

use super::{ExitStatus, Failure, Io, Result};
use crate::cli::Lazy;
use crate::cli::volume::*;

pub fn dispatch(store: &Store, cmd: VolumeCommand, io: &mut Io<'_>) -> Result {
    match cmd {
        VolumeCommand::Create(Lazy(a)) => create(store, a, io),
        VolumeCommand::Ls(Lazy(a)) => ls(store, a, io),
        VolumeCommand::Inspect(Lazy(a)) => inspect(store, a, io),
        VolumeCommand::Rm(Lazy(a)) => rm(store, a, io),
        VolumeCommand::Prune(Lazy(a)) => prune(store, a, io),
        VolumeCommand::Rename(Lazy(a)) => rename(store, a, io),
        VolumeCommand::Clone(Lazy(a)) => clone(store, a, io),
        VolumeCommand::Exists(Lazy(a)) => exists(store, a),
        VolumeCommand::Update(Lazy(a)) => update(store, a),
        VolumeCommand::Mount(Lazy(a)) => mount(store, a, io),
        VolumeCommand::Unmount(Lazy(a)) => unmount(store, a, io),
        VolumeCommand::Export(Lazy(a)) => super::archive::export(store, a, io),
        VolumeCommand::Import(Lazy(a)) => super::archive::import(store, a, io),
    }
}

/// `k=v` pairs into a map; `k` alone is `k=""`. The last value of a key wins.
fn kv_map(items: &[String]) -> BTreeMap<String, String> {
    items
        .iter()
        .map(|s| match s.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (s.clone(), String::new()),
        })
        .collect()
}

fn create(store: &Store, a: CreateArgs, io: &mut Io<'_>) -> Result {
    // docker/cli: an empty --name is no name; a positional name with a --name is refused.
    let name = match (a.name, a.name_flag.filter(|f| !f.is_empty())) {
        (Some(_), Some(_)) => {
            return Err(Failure::new(
                ExitStatus::Failure,
                "conflicting options: cannot specify a volume-name through both --name and as a positional arg",
            ));
        }
        (n, f) => n.or(f),
    };
    // Docker's engine looks the driver up before it looks at an existing volume of that name.
    if let Some(n) = name.as_deref().filter(|n| !n.is_empty())
        && !a.driver.is_empty()
        && a.driver != myvol::driver::LOCAL
    {
        store.find_driver(n, &a.driver)?;
    }
    let created =
        store.create(CreateRequest { name, driver: a.driver, labels: kv_map(&a.labels), options: kv_map(&a.opts) })?;
    writeln!(io.out, "{}", created.volume.name)?;
    Ok(())
}

/// The resolved `--format` of `volume ls`, as docker/cli's NewVolumeFormat resolves it.
fn ls_format(format: Option<&str>, quiet: bool, size: bool) -> String {
    match format.unwrap_or("table") {
        "table" if quiet => "{{.Name}}".to_owned(),
        "table" if size => "table {{.Driver}}\t{{.Name}}\t{{.Size}}".to_owned(),
        "table" => "table {{.Driver}}\t{{.Name}}".to_owned(),
        "raw" if quiet => "name: {{.Name}}".to_owned(),
        "raw" => "name: {{.Name}}\\ndriver: {{.Driver}}\\n".to_owned(),
        other => other.to_owned(),
    }
}

fn ls(store: &Store, a: LsArgs, io: &mut Io<'_>) -> Result {
    // The values were checked when the flags were parsed (`-f name` is a flag error).
    let filters =
        Filters::parse(a.filters.iter().map(String::as_str)).map_err(|e| Failure::new(ExitStatus::Usage, e))?;
    let filter = ListFilter::new(&filters).map_err(|e| Failure::new(ExitStatus::Failure, e))?;
    if a.cluster {
        // Only cluster volumes, in docker/cli's cluster table (whatever --format says): myvol
        // has none.
        let format = if a.quiet { "{{.Name}}" } else { CLUSTER_TABLE };
        let fmt = ListFormat::parse(format).map_err(|e| Failure::new(ExitStatus::Failure, e))?;
        let text = fmt.render(&LsHeader::value(), &[]).map_err(|e| Failure::new(ExitStatus::Failure, e))?;
        io.out.write_all(text.as_bytes())?;
        return Ok(());
    }
    let format = ls_format(a.format.as_deref(), a.quiet, a.size);
    let fmt = ListFormat::parse(&format).map_err(|e| Failure::new(ExitStatus::Failure, e))?;
    let table = format.starts_with("table");

    let dangling = |name: &str, want: bool| store.users(name).map(|u| u.is_empty() == want).unwrap_or(false);
    if format == "{{.Name}}" {
        // `ls -q`, the scripts' favourite: without the template machinery, and without opening
        // any metadata unless a driver or label filter needs it.
        let mut names: Vec<String> = if filter.needs_metadata() {
            store.list()?.0.into_iter().filter(|v| filter.matches(v)).map(|v| v.name).collect()
        } else {
            store.names()?.into_iter().filter(|n| filter.matches_name(n)).collect()
        };
        if let Some(want) = filter.dangling {
            names.retain(|n| dangling(n, want));
        }
        names.sort_unstable_by(|x, y| natural_cmp(x, y));
        let mut s = String::with_capacity(names.len() * 16);
        for n in &names {
            s.push_str(n);
            s.push('\n');
        }
        io.out.write_all(s.as_bytes())?;
        return Ok(());
    }
    let (mut vols, _unreadable) = store.list()?;
    vols.retain(|v| filter.matches(v));
    if let Some(want) = filter.dangling {
        vols.retain(|v| dangling(&v.name, want));
    }
    vols.sort_unstable_by(|x, y| natural_cmp(&x.name, &y.name));
    if vols.iter().any(|v| v.driver != myvol::driver::LOCAL) {
        myvol::driver::fill_mountpoints(&myvol::driver::Plugins::from_env(), &mut vols);
    }

    // With --size, every volume's tree is walked (in parallel); `.Size`/`.Links` are N/A
    // without it, as in Docker's `volume ls`.
    let usage: Vec<Option<(u64, u64)>> = if a.size {
        let names: Vec<String> = vols.iter().map(|v| v.name.clone()).collect();
        store.usage(&names).into_iter().map(|u| u.ok().map(|u| (u.links, u.size))).collect()
    } else {
        vec![None; vols.len()]
    };
    let rows: Vec<template::Value> = vols.iter().zip(usage).map(|(v, u)| LsContext::value(v, u, table)).collect();
    let text = fmt.render(&LsHeader::value(), &rows).map_err(|e| Failure::new(ExitStatus::Failure, e))?;
    io.out.write_all(text.as_bytes())?;
    Ok(())
}

/// docker/cli's `volume ls --cluster` table.
const CLUSTER_TABLE: &str = "table {{.Name}}\t{{.Group}}\t{{.Driver}}\t{{.Availability}}\t{{.Status}}";

/// A name as Docker's client sends it for `inspect` and `rm`: spaces around it trimmed, and
/// an empty one refused before the engine is asked.
fn client_id(name: &str) -> std::result::Result<&str, String> {
    match name.trim() {
        "" => Err("invalid volume name or ID: value is empty".to_owned()),
        id => Ok(id),
    }
}

fn inspect(store: &Store, a: InspectArgs, io: &mut Io<'_>) -> Result {
    enum Mode {
        Indented,
        Json,
        Template(template::Template),
    }
    let mode = match a.format.as_deref() {
        None | Some("") => Mode::Indented,
        Some("json") => Mode::Json,
        Some(f) => Mode::Template(
            template::Template::parse(f).map_err(|e| Failure::new(ExitStatus::Template, FormatError::Parse(e)))?,
        ),
    };
    let mut errors = Vec::new();
    let mut found = Vec::new();
    let mut text = String::new();
    for name in &a.names {
        match client_id(name).and_then(|id| store.get(id).map_err(|e| e.to_string())) {
            Ok(mut v) => {
                // A plugin volume: its mountpoint, time and status are the plugin's. A plugin
                // that does not answer leaves the store's record, without a mountpoint.
                let status = if v.driver != myvol::driver::LOCAL {
                    myvol::driver::describe(&myvol::driver::Plugins::from_env(), &mut v).unwrap_or_else(|_| {
                        v.mountpoint = Default::default();
                        None
                    })
                } else {
                    None
                };
                if let Mode::Template(t) = &mode {
                    let mut one = String::new();
                    match t.execute(&InspectContext::value(&v, status.as_ref()), &mut one) {
                        Ok(()) => {
                            text.push_str(&one);
                            text.push('\n');
                        }
                        Err(e) => errors.push(FormatError::Exec(e).to_string()),
                    }
                }
                found.push(inspect_json(&v, status.as_ref()));
            }
            Err(e) => errors.push(e),
        }
    }
    match mode {
        Mode::Indented => {
            text = go_json_indent(&serde_json::Value::Array(found));
            text.push('\n');
        }
        Mode::Json => {
            text = go_json(&serde_json::Value::Array(found), true);
            text.push('\n');
        }
        // Docker's template inspector prints a newline when nothing rendered.
        Mode::Template(_) if text.is_empty() => text.push('\n'),
        Mode::Template(_) => {}
    }
    io.out.write_all(text.as_bytes())?;
    if errors.is_empty() { Ok(()) } else { Err(Failure::many(ExitStatus::Failure, errors)) }
}

fn rm(store: &Store, a: RmArgs, io: &mut Io<'_>) -> Result {
    let mut errors = Vec::new();
    let mut users = Vec::new();
    for name in &a.names {
        let id = match client_id(name) {
            Ok(id) => id,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        match store.remove(id, a.force) {
            Ok(()) => writeln!(io.out, "{name}")?,
            Err(e) => {
                let f = super::store_failure(store, e);
                errors.extend(f.messages);
                users.extend(f.hint.filter(|h| !users.contains(h)));
            }
        }
    }
    if errors.is_empty() {
        return Ok(());
    }
    let f = Failure::many(ExitStatus::Failure, errors);
    Err(if users.is_empty() { f } else { f.with_hint(users.join("\n")) })
}

fn prune(store: &Store, a: PruneArgs, io: &mut Io<'_>) -> Result {
    let filters =
        Filters::parse(a.filters.iter().map(String::as_str)).map_err(|e| Failure::new(ExitStatus::Usage, e))?;
    let select = PruneFilter::new(&filters, a.all).map_err(|e| Failure::new(ExitStatus::Failure, e))?;
    if !a.force {
        let warning = if select.all() {
            "WARNING! This will remove all local volumes not used by at least one container."
        } else {
            "WARNING! This will remove anonymous local volumes not used by at least one container."
        };
        write!(io.out, "{warning}\nAre you sure you want to continue? [y/N] ")?;
        io.out.flush()?;
        let mut answer = String::new();
        let _ = io.input.read_line(&mut answer);
        if !answer.trim().eq_ignore_ascii_case("y") {
            return Ok(());
        }
    }
    let report = store.prune(|v| select.matches(v))?;
    let mut text = String::new();
    if !report.deleted.is_empty() {
        text.push_str("Deleted Volumes:\n");
        for n in &report.deleted {
            text.push_str(n);
            text.push('\n');
        }
        text.push('\n');
    }
    text.push_str(&format!("Total reclaimed space: {}\n", human_size(report.reclaimed)));
    io.out.write_all(text.as_bytes())?;
    Ok(())
}

fn rename(store: &Store, a: RenameArgs, io: &mut Io<'_>) -> Result {
    let v = store.rename(&a.old, &a.new).map_err(|e| super::store_failure(store, e))?;
    writeln!(io.out, "{}", v.name)?;
    Ok(())
}

fn clone(store: &Store, a: CloneArgs, io: &mut Io<'_>) -> Result {
    let labels = (!a.labels.is_empty()).then(|| kv_map(&a.labels));
    let (v, _stats) = store.clone_volume(&a.source, &a.target, labels).map_err(|e| super::store_failure(store, e))?;
    writeln!(io.out, "{}", v.name)?;
    Ok(())
}

/// podman's `volume exists`: 0 if it exists, 1 if not, 125 (with a message) for an empty
/// name or a store that cannot be read.
fn exists(store: &Store, a: ExistsArgs) -> Result {
    if a.name.is_empty() {
        return Err(Failure::new(ExitStatus::Usage, "name or ID cannot be empty"));
    }
    match store.exists(&a.name) {
        Ok(true) => Ok(()),
        Ok(false) => Err(Failure::quiet(ExitStatus::Failure)),
        Err(e) => Err(Failure::new(ExitStatus::Usage, e)),
    }
}

/// `volume update`: only cluster volumes can be updated, and myvol has none. As docker/cli,
/// the volume is looked up first.
fn update(store: &Store, a: UpdateArgs) -> Result {
    let id = client_id(&a.name).map_err(|e| Failure::new(ExitStatus::Failure, e))?;
    store.get(id)?;
    Err(Failure::new(ExitStatus::Failure, "can only update cluster volumes"))
}

/// `volume mount NAME…`: each name independently; the paths on stdout.
fn mount(store: &Store, a: MountArgs, io: &mut Io<'_>) -> Result {
    let mut errors = Vec::new();
    for name in &a.names {
        match myvol::driver::mount_pinned(store, name) {
            Ok(path) => writeln!(io.out, "{}", path.display())?,
            Err(e) => errors.push(e.to_string()),
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(Failure::many(ExitStatus::Failure, errors)) }
}

/// `volume unmount NAME…`: each name independently; the names on stdout.
fn unmount(store: &Store, a: MountArgs, io: &mut Io<'_>) -> Result {
    let mut errors = Vec::new();
    for name in &a.names {
        match myvol::driver::unmount_pinned(store, name) {
            Ok(()) => writeln!(io.out, "{name}")?,
            Err(e) => errors.push(e.to_string()),
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(Failure::many(ExitStatus::Failure, errors)) }
}
