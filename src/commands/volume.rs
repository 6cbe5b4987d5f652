//! `myvol volume create|ls|inspect|rm|prune|rename|clone|exists` (export and import: archive.rs).

use std::collections::BTreeMap;

use myvol::driver::Plugins;
use myvol::driver::local::validate_options;
use myvol::filter::{Filters, ListFilter, PruneFilter};
use myvol::name::VolumeName;
use myvol::output::volume::{Extra, InspectContext, LsContext, LsExtra, inspect_json, ls_header};
use myvol::output::{ListFormat, natural_cmp};
use myvol::store::{CreateRequest, OwnerRequest, Store, StoreError, Volume};
use myvol::units::human_size;

use super::inspect::Inspector;
use super::{ExitStatus, Failure, Io, Result, volume_name};
use crate::cli::Lazy;
use crate::cli::volume::*;

pub fn dispatch(store: &Store, plugins: &Plugins, cmd: VolumeCommand, io: &mut Io<'_>) -> Result {
    match cmd {
        VolumeCommand::Create(Lazy(a)) => create(store, a, io),
        VolumeCommand::Ls(Lazy(a)) => ls(store, plugins, a, io),
        VolumeCommand::Inspect(Lazy(a)) => inspect(store, plugins, a, io),
        VolumeCommand::Rm(Lazy(a)) => rm(store, a, io),
        VolumeCommand::Prune(Lazy(a)) => prune(store, a, io),
        VolumeCommand::Rename(Lazy(a)) => rename(store, a, io),
        VolumeCommand::Clone(Lazy(a)) => clone(store, a, io),
        VolumeCommand::Exists(Lazy(a)) => exists(store, a),
        VolumeCommand::Update(Lazy(a)) => update(store, a),
        VolumeCommand::Mount(Lazy(a)) => mount(store, plugins, a, io),
        VolumeCommand::Unmount(Lazy(a)) => unmount(store, plugins, a, io),
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
    // myvol's (and podman's) ownership flags are checked first, as a CLI checks its flags.
    let owner = (a.uid.is_some() || a.gid.is_some() || a.mode.is_some()).then_some(OwnerRequest {
        uid: a.uid,
        gid: a.gid,
        mode: a.mode,
    });
    if owner.is_some() {
        if !a.driver.is_empty() && a.driver != myvol::driver::LOCAL {
            return Err(Failure::new(
                ExitStatus::Failure,
                format!(
                    "--uid, --gid and --mode apply to local volumes only: driver {} manages its volumes' owners",
                    myvol::text::echo(&a.driver).quoted()
                ),
            ));
        }
        if myvol::driver::local::needs_mount(Some(&kv_map(&a.opts))) {
            return Err(Failure::new(
                ExitStatus::Failure,
                "--uid, --gid and --mode do not apply to a volume mounted from driver options (type, device): \
                 give the filesystem's own options (tmpfs: -o o=uid=1000,gid=1000,mode=0750)",
            ));
        }
    }
    // Docker's engine looks the driver up before it looks at an existing volume of that name.
    if let Some(n) = name.as_deref().filter(|n| !n.is_empty())
        && !a.driver.is_empty()
        && a.driver != myvol::driver::LOCAL
    {
        store.find_driver(n, &a.driver)?;
    }
    // An empty name asks for an anonymous volume; an invalid one fails before the store is
    // touched (or made).
    let name = match name.filter(|n| !n.is_empty()) {
        None => None,
        Some(n) => Some(VolumeName::parse(&n).map_err(|source| StoreError::InvalidName { name: n, source })?),
    };
    let options = kv_map(&a.opts);
    // The local driver's verdict, which the store reports only if it makes a new local volume.
    let invalid_options = validate_options(&options).err().map(Into::into);
    let labels = kv_map(&a.labels);
    let created = store.create(CreateRequest { name, driver: a.driver, labels, options, invalid_options, owner })?;
    writeln!(io.out, "{}", created.volume.name)?;
    Ok(())
}

/// The resolved `--format` of `volume ls`, as docker/cli's NewVolumeFormat resolves it (an
/// empty format is the default one).
fn ls_format(format: Option<&str>, quiet: bool, size: bool) -> String {
    match format.filter(|f| !f.is_empty()).unwrap_or("table") {
        "table" if quiet => "{{.Name}}".to_owned(),
        "table" if size => "table {{.Driver}}\t{{.Name}}\t{{.Size}}".to_owned(),
        "table" => "table {{.Driver}}\t{{.Name}}".to_owned(),
        "raw" if quiet => "name: {{.Name}}".to_owned(),
        "raw" => "name: {{.Name}}\\ndriver: {{.Driver}}\\n".to_owned(),
        other => other.to_owned(),
    }
}

fn ls(store: &Store, plugins: &Plugins, a: LsArgs, io: &mut Io<'_>) -> Result {
    // The values were checked when the flags were parsed (`-f name` is a flag error).
    let filters =
        Filters::parse(a.filters.iter().map(String::as_str)).map_err(|e| Failure::new(ExitStatus::Usage, e))?;
    let filter = ListFilter::new(&filters).map_err(|e| Failure::new(ExitStatus::Failure, e))?;
    if a.cluster {
        // Only cluster volumes, in docker/cli's cluster table (whatever --format says): myvol
        // has none.
        let format = if a.quiet { "{{.Name}}" } else { CLUSTER_TABLE };
        let fmt = ListFormat::parse(format).map_err(|e| Failure::new(ExitStatus::Failure, e))?;
        return fmt
            .render(&ls_header(), std::iter::empty(), io.out)
            .map_err(|e| Failure::format(ExitStatus::Failure, e));
    }
    let configured = super::config_list_format("volumesFormat", a.format.as_deref(), a.quiet);
    let format = ls_format(configured.as_deref().or(a.format.as_deref()), a.quiet, a.size);
    let fmt = ListFormat::parse(&format).map_err(|e| Failure::format(ExitStatus::Failure, e))?;
    let table = fmt.is_table();

    // `dangling` and `in-use`: one look at each candidate's leases.
    let keep_used = filter.wants_in_use();
    if format == "{{.Name}}" {
        // `ls -q`, the scripts' favourite: without the template machinery, and without opening
        // any metadata unless a driver or label filter needs it.
        let mut names: Vec<VolumeName> = if filter.needs_metadata() {
            let (vols, unreadable) = store.list()?;
            warn_unreadable(&unreadable, "not matched against the filters");
            vols.into_iter().filter(|v| filter.matches(v)).map(|v| v.name).collect()
        } else {
            store.names()?.into_iter().filter(|n| filter.matches_name(n.as_str())).collect()
        };
        if let Some(keep) = &keep_used {
            let used = store.in_use_each(&names);
            let mut used = used.into_iter();
            names.retain(|_| keep(used.next().unwrap_or(false)));
        }
        names.sort_unstable_by(|x, y| natural_cmp(x.as_str(), y.as_str()));
        let mut s = String::with_capacity(names.len() * 16);
        for n in &names {
            s.push_str(n.as_str());
            s.push('\n');
        }
        io.out.write_all(s.as_bytes())?;
        return Ok(());
    }
    let (mut vols, unreadable) = store.list()?;
    // Listed all the same (`ls -q` lists them too), with what is known: the name.
    warn_unreadable(&unreadable, "listed without its driver and labels");
    vols.extend(unreadable.into_iter().map(|(name, _)| Volume {
        mountpoint: myvol::store::layout::mountpoint(store.root(), &name),
        name,
        driver: String::new(),
        created_at: String::new(),
        labels: None,
        options: None,
        scope: String::new(),
        owner: None,
        quota: None,
    }));
    vols.retain(|v| filter.matches(v));
    if let Some(keep) = &keep_used {
        let names: Vec<VolumeName> = vols.iter().map(|v| v.name.clone()).collect();
        let mut used = store.in_use_each(&names).into_iter();
        vols.retain(|_| keep(used.next().unwrap_or(false)));
    }
    vols.sort_unstable_by(|x, y| natural_cmp(x.name.as_str(), y.name.as_str()));
    if vols.iter().any(|v| v.driver != myvol::driver::LOCAL) {
        myvol::driver::fill_mountpoints(plugins, &mut vols);
    }

    // With --size, every volume's tree is walked (in parallel); `.Size`/`.Links` are N/A
    // without it, as in Docker's `volume ls`.
    let usage: Vec<Option<(u64, u64)>> = if a.size {
        let names: Vec<VolumeName> = vols.iter().map(|v| v.name.clone()).collect();
        store.usage(&names).into_iter().map(|u| u.ok().map(|u| (u.links, u.size))).collect()
    } else {
        vec![None; vols.len()]
    };
    // myvol's `.InUse` and `.Users`: the leases are read only when the format names them.
    let users: Vec<Option<Vec<myvol::store::User>>> = if format.contains("InUse") || format.contains("Users") {
        let names: Vec<VolumeName> = vols.iter().map(|v| v.name.clone()).collect();
        store.users_of_each(&names).into_iter().map(Some).collect()
    } else {
        vec![None; vols.len()]
    };
    let rows =
        vols.iter().zip(usage).zip(users).map(|((v, u), users)| LsContext::with_extra(v, u, table, LsExtra { users }));
    fmt.render(&ls_header(), rows, io.out).map_err(|e| Failure::format(ExitStatus::Failure, e))
}

/// One warning on stderr per volume whose metadata cannot be read, saying what became of it
/// in this command and how to remove it.
fn warn_unreadable(unreadable: &[(VolumeName, StoreError)], what: &str) {
    let mut sorted: Vec<&(VolumeName, StoreError)> = unreadable.iter().collect();
    sorted.sort_unstable_by(|x, y| natural_cmp(x.0.as_str(), y.0.as_str()));
    for (name, e) in sorted {
        let text = format!("{e}: {what}; `myvol volume rm --force {name}` removes it");
        eprintln!("Warning: {}", myvol::text::escape_control(&text));
    }
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

fn inspect(store: &Store, plugins: &Plugins, a: InspectArgs, io: &mut Io<'_>) -> Result {
    let mut inspector = Inspector::new(a.format.as_deref(), io.out)?;
    // myvol's own fields cost a look at the leases or the content: only when asked for.
    let text = a.format.as_deref().unwrap_or("");
    let (want_users, want_used) = (text.contains("Users"), text.contains("Quota"));
    for name in &a.names {
        // An empty name is the client's error; a string that is not a volume name names no
        // volume.
        let got = client_id(name).and_then(|id| {
            VolumeName::from_string(id.to_owned())
                .map_err(StoreError::NotFound)
                .and_then(|n| store.get(&n))
                .map_err(|e| e.to_string().trim().to_owned())
        });
        let mut v = match got {
            Ok(v) => v,
            Err(e) => {
                inspector.error(e);
                continue;
            }
        };
        // A plugin volume: its mountpoint, time and status are the plugin's. A plugin that
        // does not answer leaves the store's record, without a mountpoint.
        let status = if v.driver != myvol::driver::LOCAL {
            myvol::driver::describe(plugins, &mut v).unwrap_or_else(|_| {
                v.mountpoint = Default::default();
                None
            })
        } else {
            None
        };
        if !inspector.templated() {
            inspector.push(inspect_json(&v, status.as_ref()));
            continue;
        }
        let mut extra = Extra::default();
        if want_users {
            extra.users = store.users_of(&v.name).unwrap_or_default();
        }
        if want_used && v.quota.is_some() {
            extra.used = store.usage(std::slice::from_ref(&v.name)).pop().and_then(|u| u.ok()).map(|u| u.size);
        }
        inspector.render(&InspectContext::with_extra(&v, status.as_ref(), extra))?;
    }
    inspector.finish()
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
        // A string that is not a volume name names no volume (nothing to do with --force).
        let removed = match volume_name(id) {
            Ok(n) => store.remove(&n, a.force),
            Err(_) if a.force => Ok(()),
            Err(e) => Err(e),
        };
        match removed {
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
    if a.force && a.dry_run {
        // podman's rule and words.
        return Err(Failure::new(ExitStatus::Failure, "--force and --dry-run cannot be used together"));
    }
    if !a.force && !a.dry_run {
        let warning = if select.all() {
            "WARNING! This will remove all local volumes not used by at least one container."
        } else {
            "WARNING! This will remove anonymous local volumes not used by at least one container."
        };
        if !io.confirm(warning)? {
            return Ok(());
        }
    }
    let mut report = store.prune(|v| select.matches(v), a.dry_run)?;
    warn_unreadable(&report.unreadable, "not pruned");
    report.deleted.sort_unstable_by(|x, y| natural_cmp(x.as_str(), y.as_str()));
    // A dry run: podman's heading, and Docker's total in the conditional.
    let (heading, total) = if a.dry_run {
        ("Volumes that would be pruned:", "Total reclaimable space")
    } else {
        ("Deleted Volumes:", "Total reclaimed space")
    };
    let mut text = String::new();
    if !report.deleted.is_empty() {
        text.push_str(heading);
        text.push('\n');
        for n in &report.deleted {
            text.push_str(n.as_str());
            text.push('\n');
        }
        text.push('\n');
    }
    text.push_str(&format!("{total}: {}\n", human_size(report.reclaimed)));
    io.out.write_all(text.as_bytes())?;
    Ok(())
}

/// The names of `rename OLD NEW` and `clone SRC DST`: OLD must name a volume, NEW must be a
/// valid name (checked in that order, as the store did).
fn source_and_target(
    op: &'static str,
    old: &str,
    new: &str,
) -> std::result::Result<(VolumeName, VolumeName), StoreError> {
    let old_name = volume_name(old)?;
    let new_name =
        VolumeName::parse(new).map_err(|source| StoreError::InvalidTarget { op, name: old.to_owned(), source })?;
    Ok((old_name, new_name))
}

fn rename(store: &Store, a: RenameArgs, io: &mut Io<'_>) -> Result {
    let (old, new) = source_and_target("rename", &a.old, &a.new)?;
    let v = store.rename(&old, &new).map_err(|e| super::store_failure(store, e))?;
    writeln!(io.out, "{}", v.name)?;
    Ok(())
}

fn clone(store: &Store, a: CloneArgs, io: &mut Io<'_>) -> Result {
    let labels = (!a.labels.is_empty()).then(|| kv_map(&a.labels));
    let (source, target) = source_and_target("clone", &a.source, &a.target)?;
    let (v, _stats) = myvol::driver::clone_volume(store, &source, &target, labels).map_err(|e| match e {
        myvol::driver::DriverError::Store(e) => super::store_failure(store, e),
        e => Failure::new(ExitStatus::Failure, e.to_string().trim()),
    })?;
    writeln!(io.out, "{}", v.name)?;
    Ok(())
}

/// podman's `volume exists`: 0 if it exists, 1 if not, 125 (with a message) for an empty
/// name or a store that cannot be read.
fn exists(store: &Store, a: ExistsArgs) -> Result {
    if a.name.is_empty() {
        return Err(Failure::new(ExitStatus::Usage, "name or ID cannot be empty"));
    }
    let Ok(name) = VolumeName::parse(&a.name) else {
        return Err(Failure::quiet(ExitStatus::Failure));
    };
    match store.exists(&name) {
        Ok(true) => Ok(()),
        Ok(false) => Err(Failure::quiet(ExitStatus::Failure)),
        Err(e) => Err(Failure::new(ExitStatus::Usage, e)),
    }
}

/// `volume update`: only cluster volumes can be updated, and myvol has none. As docker/cli,
/// the volume is looked up first.
fn update(store: &Store, a: UpdateArgs) -> Result {
    let id = client_id(&a.name).map_err(|e| Failure::new(ExitStatus::Failure, e))?;
    store.get(&volume_name(id)?)?;
    Err(Failure::new(ExitStatus::Failure, "can only update cluster volumes"))
}

/// `volume mount NAME…`: each name independently; the paths on stdout.
fn mount(store: &Store, plugins: &Plugins, a: MountArgs, io: &mut Io<'_>) -> Result {
    let mut errors = Vec::new();
    for name in &a.names {
        let mounted =
            volume_name(name).map_err(Into::into).and_then(|n| myvol::driver::mount_pinned(store, plugins, &n));
        match mounted {
            Ok(path) => writeln!(io.out, "{}", path.display())?,
            Err(e) => errors.push(e.to_string()),
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(Failure::many(ExitStatus::Failure, errors)) }
}

/// `volume unmount NAME…`: each name independently; the names on stdout.
fn unmount(store: &Store, plugins: &Plugins, a: MountArgs, io: &mut Io<'_>) -> Result {
    let mut errors = Vec::new();
    for name in &a.names {
        let unmounted =
            volume_name(name).map_err(Into::into).and_then(|n| myvol::driver::unmount_pinned(store, plugins, &n));
        match unmounted {
            Ok(()) => writeln!(io.out, "{name}")?,
            Err(e) => errors.push(e.to_string()),
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(Failure::many(ExitStatus::Failure, errors)) }
}
