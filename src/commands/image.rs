//! `myvol image …`, `pull`, `images`, `rmi`, `tag`, `load`, `save`, `login`, `logout`.

mod login;
mod ls;
mod pull;

use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use myvol::filter::match_labels;
use myvol::image::archive::{LoadOptions, load as load_archive, save as save_archive};
use myvol::image::platform::Platform;
use myvol::image::store::Deleted;
use myvol::image::{Image, ImageError, ImageStore};
use myvol::output::image::inspect_json;
use myvol::store::Store;
use myvol::units::human_size;

use super::inspect::Inspector;
use super::{ExitStatus, Failure, Io, Result};
use crate::cli::Lazy;
use crate::cli::image::*;

pub use login::{login, logout};
pub use ls::ls;
use ls::{labels, parse_filters, parse_timestamp};
pub use pull::{pull, pull_to_stderr};

pub fn dispatch(store: &Store, cmd: ImageCommand, io: &mut Io<'_>) -> Result {
    match cmd {
        ImageCommand::Inspect(Lazy(a)) => inspect(store, a, io),
        ImageCommand::Load(Lazy(a)) => load(store, a, io),
        ImageCommand::Ls(Lazy(a)) => ls(store, a, io),
        ImageCommand::Prune(Lazy(a)) => prune(store, a, io),
        ImageCommand::Pull(Lazy(a)) => pull(store, a, io),
        ImageCommand::Rm(Lazy(a)) => rm(store, a, io),
        ImageCommand::Save(Lazy(a)) => save(store, a, io),
        ImageCommand::Tag(Lazy(a)) => tag(store, a, io),
    }
}

fn images(store: &Store) -> ImageStore {
    ImageStore::new(store.root())
}

fn fail(e: impl std::fmt::Display) -> Failure {
    Failure::new(ExitStatus::Failure, e)
}

fn image_failure(e: ImageError) -> Failure {
    let mut f = fail(&e);
    f.broken_pipe = e.is_broken_pipe();
    f
}

// ---------------------------------------------------------------------------------- inspect

fn inspect(store: &Store, a: InspectArgs, io: &mut Io<'_>) -> Result {
    let mut inspector = Inspector::new(a.format.as_deref(), io.out)?;
    let store = images(store);
    for name in &a.names {
        match store.lookup(name) {
            Ok(img) => {
                let j = inspect_json(&img, &store);
                if inspector.templated() {
                    inspector.render(&myvol::output::volume::json_value(&j))?;
                } else {
                    inspector.push(j);
                }
            }
            Err(e) => inspector.error(e.to_string()),
        }
    }
    inspector.finish()
}

// ---------------------------------------------------------------------------------- rm, prune, tag

fn print_deleted(out: &mut dyn Write, items: &[Deleted], lower: bool) -> io::Result<()> {
    for d in items {
        match (d, lower) {
            (Deleted::Untagged(r), false) => writeln!(out, "Untagged: {}", myvol::text::escape_control(r))?,
            (Deleted::Deleted(id), false) => writeln!(out, "Deleted: {id}")?,
            (Deleted::Untagged(r), true) => writeln!(out, "untagged: {}", myvol::text::escape_control(r))?,
            (Deleted::Deleted(id), true) => writeln!(out, "deleted: {id}")?,
        }
    }
    Ok(())
}

pub fn rm(store: &Store, a: RmArgs, io: &mut Io<'_>) -> Result {
    let store = images(store);
    let mut errors = Vec::new();
    let mut fatal = false;
    for name in &a.names {
        match store.remove(name, a.force) {
            Ok(items) => print_deleted(io.out, &items, false)?,
            Err(e) => {
                fatal |= !e.is_not_found();
                errors.push(e.to_string());
            }
        }
    }
    if errors.is_empty() {
        return Ok(());
    }
    // With --force, images that do not exist are reported but are not a failure.
    Err(Failure::many(if !a.force || fatal { ExitStatus::Failure } else { ExitStatus::Success }, errors))
}

fn prune(store: &Store, a: PruneArgs, io: &mut Io<'_>) -> Result {
    let mut filters = parse_filters(&a.filters, "--filter")?;
    filters.add("dangling", if a.all { "false" } else { "true" });
    filters.validate(&["dangling", "label", "label!", "until"]).map_err(fail)?;
    let dangling_only = filters.bool_value("dangling").map_err(fail)?.unwrap_or(true);
    let now = jiff::Timestamp::now();
    let until: Vec<&str> = filters.values("until").collect();
    if until.len() > 1 {
        return Err(fail("more than one until filter specified"));
    }
    let until = match until.first() {
        Some(v) => Some(parse_timestamp(v, now).map_err(fail)?),
        None => None,
    };
    if !a.force {
        let warning = if a.all {
            "WARNING! This will remove all images without at least one container associated to them."
        } else {
            "WARNING! This will remove all dangling images."
        };
        if !io.confirm(warning)? {
            return Ok(());
        }
    }
    let select = |img: &Image| {
        if until.is_some_and(|u| img.config.created_unix().is_none_or(|c| c.as_second() > u)) {
            return false;
        }
        let l = labels(img);
        match_labels(filters.values("label"), l)
            && (!filters.contains("label!") || !match_labels(filters.values("label!"), l))
    };
    let (items, reclaimed) = images(store).prune(!dangling_only, select).map_err(image_failure)?;
    let mut out = Vec::new();
    if !items.is_empty() {
        writeln!(out, "Deleted Images:")?;
        print_deleted(&mut out, &items, true)?;
        writeln!(out)?;
    }
    writeln!(out, "Total reclaimed space: {}", human_size(reclaimed))?;
    io.out.write_all(&out)?;
    Ok(())
}

pub fn tag(store: &Store, a: TagArgs, _io: &mut Io<'_>) -> Result {
    images(store).tag(&a.source, &a.target).map_err(image_failure)
}

// ---------------------------------------------------------------------------------- load, save

/// A progress bar for `load` on a terminal.
struct LoadBar(Option<ProgressBar>);

impl myvol::archive::Progress for LoadBar {
    fn bytes(&self, n: u64) {
        if let Some(b) = &self.0 {
            b.inc(n);
        }
    }
}

pub fn load(store: &Store, a: LoadArgs, io: &mut Io<'_>) -> Result {
    let platform = match a.platform.as_deref().filter(|p| !p.is_empty()) {
        None => None,
        Some(p) => Some(Platform::parse(p).map_err(|e| fail(format!("invalid platform: {e}")))?),
    };
    let file = match &a.input {
        Some(p) => {
            Some(File::open(p).map_err(|e| fail(format!("open {}: {}", p.display(), myvol::text::errno_text(&e))))?)
        }
        None => {
            if io::stdin().is_terminal() {
                return Err(fail("requested load from stdin, but stdin is empty"));
            }
            None
        }
    };
    let total = file.as_ref().and_then(|f| f.metadata().ok()).filter(|m| m.is_file()).map(|m| m.len());
    let bar = LoadBar((!a.quiet && io::stdout().is_terminal()).then(|| {
        let b = ProgressBar::with_draw_target(total, ProgressDrawTarget::stdout());
        b.set_style(
            ProgressStyle::with_template("Loading [{bar:40}] {binary_bytes}/{binary_total_bytes}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        b
    }));
    let opts = LoadOptions { platform };
    let store = images(store);
    let lines = match file {
        Some(f) => load_archive(&store, f, &opts, &bar),
        None => load_archive(&store, &mut *io.input, &opts, &bar),
    };
    if let Some(b) = &bar.0 {
        b.finish_and_clear();
    }
    for l in lines.map_err(image_failure)? {
        writeln!(io.out, "{}", myvol::text::escape_control(&l))?;
    }
    Ok(())
}

pub fn save(store: &Store, a: SaveArgs, io: &mut Io<'_>) -> Result {
    let platform = match a.platform.as_deref().filter(|p| !p.is_empty()) {
        None => None,
        Some(p) => Some(Platform::parse(p).map_err(|e| fail(format!("invalid platform: {e}")))?),
    };
    let store = images(store);
    match &a.output {
        None => {
            if io::stdout().is_terminal() {
                return Err(fail("cowardly refusing to save to a terminal. Use the -o flag or redirect"));
            }
            save_archive(&store, &a.names, platform.as_ref(), &mut *io.out).map_err(image_failure)
        }
        Some(path) => save_to_file(&store, &a.names, platform.as_ref(), path),
    }
}

/// Write to a temporary file beside `path`, renamed over it when complete (Docker's
/// atomic writer, mode 0600); a `path` that is not a regular file (a FIFO, /dev/null) is
/// written directly.
fn save_to_file(store: &ImageStore, names: &[String], platform: Option<&Platform>, path: &Path) -> Result {
    use std::os::unix::fs::OpenOptionsExt;
    let wrap = |e: io::Error| fail(format!("failed to save image: {}", myvol::text::errno_text(&e)));
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
        let mut f = File::options().write(true).open(path).map_err(wrap)?;
        return save_archive(store, names, platform, &mut f).map_err(image_failure);
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let base = path.file_name().unwrap_or(std::ffi::OsStr::new("image.tar"));
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(base);
    tmp_name.push(format!(".tmp-{}", myvol::fsutil::random_suffix()));
    let tmp = dir.join(tmp_name);
    let mut f = File::options().write(true).create_new(true).mode(0o600).open(&tmp).map_err(wrap)?;
    let result = save_archive(store, names, platform, &mut f)
        .map_err(image_failure)
        .and_then(|()| f.sync_all().map_err(wrap))
        .and_then(|()| std::fs::rename(&tmp, path).map_err(wrap));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
