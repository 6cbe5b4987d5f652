//! `myvol image …`, `pull`, `images`, `rmi`, `tag`, `load`, `save`, `login`, `logout`.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use myvol::filter::{Filters, match_labels};
use myvol::image::archive::{LoadOptions, load as load_archive, save as save_archive};
use myvol::image::credentials::{self, AuthConfig, DockerConfig, INDEX_SERVER, Stored};
use myvol::image::platform::Platform;
use myvol::image::pull::{LayerEvent, PullOptions, PullProgress, pull as pull_image};
use myvol::image::reference::Reference;
use myvol::image::registry::{Client, RegistryOptions};
use myvol::image::store::Deleted;
use myvol::image::{Image, ImageError, ImageStore};
use myvol::output::image::{LsContext, created_unix, inspect_json, ls_format, ls_header, ls_rows};
use myvol::output::{FormatError, ListFormat, Spill, go_json, go_json_indent, template};
use myvol::store::Store;
use myvol::units::human_size;

use super::{ExitStatus, Failure, Io, Result};
use crate::cli::Lazy;
use crate::cli::image::*;

pub fn run(store: &Store, cmd: ImageCommand, io: &mut Io<'_>) -> Result {
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

// ---------------------------------------------------------------------------------- pull

/// Where a pull's output goes: stdout for `myvol pull`, stderr for the pull of `myvol run`
/// (as Docker's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    fn fd(self) -> std::os::fd::BorrowedFd<'static> {
        match self {
            Stream::Stdout => rustix::stdio::stdout(),
            Stream::Stderr => rustix::stdio::stderr(),
        }
    }

    fn is_terminal(self) -> bool {
        match self {
            Stream::Stdout => io::stdout().is_terminal(),
            Stream::Stderr => io::stderr().is_terminal(),
        }
    }
}

/// The terminal on standard output (or error), written through its own descriptor: `main`
/// holds the lock of Rust's `Stdout` for the whole command, and the bars are drawn from the
/// pull's threads.
#[derive(Debug)]
struct TtyOut(Mutex<File>, Stream);

impl TtyOut {
    fn open(stream: Stream) -> Option<TtyOut> {
        let fd = rustix::io::fcntl_dupfd_cloexec(stream.fd(), 3).ok()?;
        Some(TtyOut(Mutex::new(File::from(fd)), stream))
    }

    fn write(&self, s: &str) -> io::Result<()> {
        let mut f = self.0.lock().unwrap_or_else(|e| e.into_inner());
        f.write_all(s.as_bytes())
    }
}

impl indicatif::TermLike for TtyOut {
    fn width(&self) -> u16 {
        rustix::termios::tcgetwinsize(self.1.fd()).map_or(80, |w| if w.ws_col == 0 { 80 } else { w.ws_col })
    }
    fn move_cursor_up(&self, n: usize) -> io::Result<()> {
        if n == 0 { Ok(()) } else { self.write(&format!("\x1b[{n}A")) }
    }
    fn move_cursor_down(&self, n: usize) -> io::Result<()> {
        if n == 0 { Ok(()) } else { self.write(&format!("\x1b[{n}B")) }
    }
    fn move_cursor_right(&self, n: usize) -> io::Result<()> {
        if n == 0 { Ok(()) } else { self.write(&format!("\x1b[{n}C")) }
    }
    fn move_cursor_left(&self, n: usize) -> io::Result<()> {
        if n == 0 { Ok(()) } else { self.write(&format!("\x1b[{n}D")) }
    }
    fn write_line(&self, s: &str) -> io::Result<()> {
        self.write(&format!("{s}\n"))
    }
    fn write_str(&self, s: &str) -> io::Result<()> {
        self.write(s)
    }
    fn clear_line(&self) -> io::Result<()> {
        self.write("\r\x1b[2K")
    }
    fn flush(&self) -> io::Result<()> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).flush()
    }
}

/// The bars of a pull on a terminal.
struct Bars {
    out: std::sync::Arc<TtyOut>,
    mp: MultiProgress,
    bars: Mutex<BTreeMap<String, ProgressBar>>,
    /// The layers are done: further lines go below the bars, which are drawn no more.
    done: std::sync::atomic::AtomicBool,
}

/// Progress of a pull: Docker's status lines, and on a terminal a line per layer.
struct PullDisplay {
    quiet: bool,
    bars: Option<Bars>,
    /// Status lines when not on a terminal: printed in order by the command.
    lines: Mutex<Vec<String>>,
}

#[derive(Debug)]
struct SharedTty(std::sync::Arc<TtyOut>);

impl indicatif::TermLike for SharedTty {
    fn width(&self) -> u16 {
        self.0.width()
    }
    fn move_cursor_up(&self, n: usize) -> io::Result<()> {
        self.0.move_cursor_up(n)
    }
    fn move_cursor_down(&self, n: usize) -> io::Result<()> {
        self.0.move_cursor_down(n)
    }
    fn move_cursor_right(&self, n: usize) -> io::Result<()> {
        self.0.move_cursor_right(n)
    }
    fn move_cursor_left(&self, n: usize) -> io::Result<()> {
        self.0.move_cursor_left(n)
    }
    fn write_line(&self, s: &str) -> io::Result<()> {
        self.0.write_line(s)
    }
    fn write_str(&self, s: &str) -> io::Result<()> {
        self.0.write_str(s)
    }
    fn clear_line(&self) -> io::Result<()> {
        self.0.clear_line()
    }
    fn flush(&self) -> io::Result<()> {
        indicatif::TermLike::flush(&*self.0)
    }
}

impl PullDisplay {
    fn new(quiet: bool, stream: Stream) -> PullDisplay {
        let bars = if !quiet && stream.is_terminal() {
            TtyOut::open(stream).map(|out| {
                let out = std::sync::Arc::new(out);
                let target = ProgressDrawTarget::term_like(Box::new(SharedTty(out.clone())));
                Bars {
                    out,
                    mp: MultiProgress::with_draw_target(target),
                    bars: Mutex::new(BTreeMap::new()),
                    done: Default::default(),
                }
            })
        } else {
            None
        };
        PullDisplay { quiet, bars, lines: Mutex::new(Vec::new()) }
    }

    fn take_lines(&self) -> Vec<String> {
        std::mem::take(&mut *self.lines.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn bar(&self, id: &str) -> Option<ProgressBar> {
        let b = self.bars.as_ref()?;
        if b.done.load(std::sync::atomic::Ordering::Relaxed) {
            return None;
        }
        let mut bars = b.bars.lock().unwrap_or_else(|e| e.into_inner());
        Some(
            bars.entry(id.to_owned())
                .or_insert_with(|| {
                    let style = ProgressStyle::with_template("{prefix}: {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar());
                    b.mp.add(ProgressBar::new(0).with_style(style).with_prefix(id.to_owned()))
                })
                .clone(),
        )
    }
}

impl PullProgress for PullDisplay {
    fn message(&self, line: &str) {
        if self.quiet {
            return;
        }
        let line = myvol::text::escape_control(line);
        match &self.bars {
            Some(b) => {
                let after_layers = line.starts_with("Digest: ") || line.starts_with("Status: ");
                if after_layers && !b.done.swap(true, std::sync::atomic::Ordering::Relaxed) {
                    // The bars' last frame stays on the screen; the rest goes below it.
                    b.mp.set_draw_target(ProgressDrawTarget::hidden());
                    if !b.bars.lock().unwrap_or_else(|e| e.into_inner()).is_empty() {
                        let _ = b.out.write("\n");
                    }
                }
                if b.done.load(std::sync::atomic::Ordering::Relaxed) {
                    let _ = b.out.write(&format!("{line}\n"));
                } else {
                    let _ = b.mp.println(line);
                }
            }
            None => self.lines.lock().unwrap_or_else(|e| e.into_inner()).push(line.into_owned()),
        }
    }

    fn layer(&self, id: &str, event: LayerEvent) {
        let Some(bar) = self.bar(id) else { return };
        match event {
            LayerEvent::AlreadyExists => bar.finish_with_message("Already exists"),
            LayerEvent::Waiting => bar.set_message("Waiting"),
            LayerEvent::FromStore => bar.set_message("Extracting"),
            LayerEvent::Downloading { done, total } => {
                if bar.length() != Some(total) {
                    bar.set_length(total);
                    bar.set_style(
                        ProgressStyle::with_template(
                            "{prefix}: Downloading [{bar:40}] {binary_bytes}/{binary_total_bytes}",
                        )
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> "),
                    );
                }
                bar.set_position(done);
            }
            LayerEvent::Complete => {
                bar.set_style(
                    ProgressStyle::with_template("{prefix}: {msg}").unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                bar.finish_with_message("Pull complete");
            }
        }
    }
}

fn parse_platform(p: Option<&str>) -> Result<Option<Platform>> {
    match p.filter(|p| !p.is_empty()) {
        None => Ok(None),
        Some(p) => Platform::parse(p).map(Some).map_err(fail),
    }
}

pub fn pull(store: &Store, a: PullArgs, io: &mut Io<'_>) -> Result {
    let r = Reference::parse_normalized(&a.name).map_err(fail)?;
    if a.all_tags && !r.is_name_only() {
        return Err(fail("tag can't be used with --all-tags/-a"));
    }
    if !a.all_tags && r.is_name_only() && !a.quiet {
        writeln!(io.out, "Using default tag: {}", myvol::image::reference::DEFAULT_TAG)?;
    }
    let opts = PullOptions {
        platform: parse_platform(a.platform.as_deref())?,
        registry: RegistryOptions::from_env(),
        parallel: 3,
    };
    let store = images(store);
    let display = PullDisplay::new(a.quiet, Stream::Stdout);
    io.out.flush()?;
    let targets: Vec<Reference> = if a.all_tags {
        let creds = DockerConfig::load().map_err(fail)?.get(&credentials::server_key(r.domain())).map_err(fail)?;
        let client = Client::new(&r, &opts.registry, creds);
        let mut conn = client.conn().map_err(fail)?;
        client.ping(&mut conn).map_err(fail)?;
        let mut tags = client.tags(&mut conn, &r).map_err(fail)?;
        tags.sort();
        tags.iter().filter_map(|t| r.with_tag(t).ok()).collect()
    } else {
        vec![r.clone()]
    };
    for target in &targets {
        let result = pull_image(&store, target, &opts, &display);
        for line in display.take_lines() {
            writeln!(io.out, "{line}")?;
        }
        result.map_err(image_failure)?;
    }
    writeln!(io.out, "{}", if a.all_tags { r.name() } else { r.tag_name_only().to_string() })?;
    Ok(())
}

/// The pull of `myvol run --pull …` (Docker's client pulls before it creates the container):
/// Docker's output on stderr (bars when it is a terminal; nothing with `quiet`), and a
/// failure of the run's (status 125).
pub fn pull_to_stderr(store: &ImageStore, reference: &Reference, quiet: bool) -> Result {
    let opts = PullOptions { platform: None, registry: RegistryOptions::from_env(), parallel: 3 };
    let display = PullDisplay::new(quiet, Stream::Stderr);
    let result = pull_image(store, reference, &opts, &display);
    let mut err = io::stderr().lock();
    for line in display.take_lines() {
        writeln!(err, "{line}")?;
    }
    result.map(drop).map_err(|e| Failure::new(ExitStatus::RunFailed, e))
}

// ---------------------------------------------------------------------------------- ls

/// Go's `path.Match` (the `reference` filter's glob): `*`, `?`, `[…]` classes with ranges and
/// `^` negation, `\` escapes; `*` and `?` never match `/`. `Err` for a malformed pattern.
pub fn glob_match(pattern: &str, name: &str) -> std::result::Result<bool, ()> {
    fn class(p: &[char], c: char) -> std::result::Result<(bool, usize), ()> {
        // p starts after '['; returns (matched, chars consumed including ']').
        let mut i = 0;
        let negate = p.first() == Some(&'^');
        if negate {
            i += 1;
        }
        let mut matched = false;
        let mut first = true;
        loop {
            let Some(&lo) = p.get(i) else { return Err(()) };
            if lo == ']' && !first {
                i += 1;
                break;
            }
            first = false;
            let (lo, step) = if lo == '\\' { (*p.get(i + 1).ok_or(())?, 2) } else { (lo, 1) };
            i += step;
            let hi = if p.get(i) == Some(&'-') && p.get(i + 1).is_some_and(|&x| x != ']') {
                let h = p[i + 1];
                let (h, s) = if h == '\\' { (*p.get(i + 2).ok_or(())?, 3) } else { (h, 2) };
                i += s;
                h
            } else {
                lo
            };
            if lo <= c && c <= hi {
                matched = true;
            }
        }
        Ok((matched != negate, i))
    }
    fn go(p: &[char], s: &[char]) -> std::result::Result<bool, ()> {
        let (mut pi, mut si) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        loop {
            if pi < p.len() {
                match p[pi] {
                    '*' => {
                        star = Some((pi, si));
                        pi += 1;
                        continue;
                    }
                    '?' if si < s.len() && s[si] != '/' => {
                        pi += 1;
                        si += 1;
                        continue;
                    }
                    '[' if si < s.len() && s[si] != '/' => {
                        let (m, used) = class(&p[pi + 1..], s[si])?;
                        if m {
                            pi += 1 + used;
                            si += 1;
                            continue;
                        }
                    }
                    '\\' if si < s.len() => {
                        let c = *p.get(pi + 1).ok_or(())?;
                        if c == s[si] {
                            pi += 2;
                            si += 1;
                            continue;
                        }
                    }
                    c if c != '?' && c != '[' && c != '\\' && si < s.len() && c == s[si] => {
                        pi += 1;
                        si += 1;
                        continue;
                    }
                    _ => {}
                }
            } else if si == s.len() {
                return Ok(true);
            }
            // Backtrack: let the last star eat one more character (never a '/').
            match star {
                Some((sp, ss)) if ss < s.len() && s[ss] != '/' => {
                    star = Some((sp, ss + 1));
                    pi = sp + 1;
                    si = ss + 1;
                }
                _ => {
                    // A malformed class further on is still an error, as in Go.
                    if p[pi.min(p.len())..].contains(&'[') {
                        let rest: String = p[pi.min(p.len())..].iter().collect();
                        if let Some(i) = rest.find('[') {
                            let chars: Vec<char> = rest[i + 1..].chars().collect();
                            class(&chars, '\0')?;
                        }
                    }
                    return Ok(false);
                }
            }
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = name.chars().collect();
    go(&p, &s)
}

/// `until`/`before` timestamps as Docker's `GetTimestamp` reads them: Unix seconds (with a
/// fraction), RFC 3339 dates and times, or a Go duration before now (`10m`, `1h30m`).
fn parse_timestamp(value: &str, now: jiff::Timestamp) -> std::result::Result<i64, String> {
    if let Ok(f) = value.parse::<f64>() {
        return Ok(f as i64);
    }
    if let Ok(t) = value.parse::<jiff::Timestamp>() {
        return Ok(t.as_second());
    }
    if let Ok(d) = value.parse::<jiff::civil::DateTime>()
        && let Ok(z) = d.to_zoned_datetime(jiff::tz::TimeZone::UTC)
    {
        return Ok(z.timestamp().as_second());
    }
    if let Ok(d) = value.parse::<jiff::civil::Date>()
        && let Ok(z) = d.to_zoned_datetime(jiff::tz::TimeZone::UTC)
    {
        return Ok(z.timestamp().as_second());
    }
    // A Go duration: numbers with units h, m, s, ms.
    let mut total = 0f64;
    let mut num = String::new();
    let mut chars = value.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let mut unit = c.to_string();
        if c == 'm' && chars.peek() == Some(&'s') {
            unit.push('s');
            chars.next();
        }
        let n: f64 = num
            .parse()
            .map_err(|_| format!("failed to parse value as time or duration: {}", myvol::text::go_quote(value)))?;
        num.clear();
        total += n * match unit.as_str() {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            _ => return Err(format!("failed to parse value as time or duration: {}", myvol::text::go_quote(value))),
        };
        any = true;
    }
    if !any || !num.is_empty() {
        return Err(format!("failed to parse value as time or duration: {}", myvol::text::go_quote(value)));
    }
    Ok(now.as_second() - total as i64)
}

fn parse_filters(raw: &[String], flag: &str) -> Result<Filters> {
    Filters::parse(raw.iter().map(String::as_str)).map_err(|e| {
        let bad = raw.iter().find(|f| !f.is_empty() && !f.contains('=')).cloned().unwrap_or_default();
        Failure::new(ExitStatus::Usage, format!("invalid argument \"{bad}\" for \"{flag}\" flag: {e}"))
    })
}

/// An image's labels (its config's `Labels`).
fn labels(img: &Image) -> Option<&BTreeMap<String, String>> {
    img.config.config.as_ref().and_then(|c| c.labels.as_ref())
}

pub fn ls(store: &Store, a: LsArgs, io: &mut Io<'_>) -> Result {
    let mut filters = parse_filters(&a.filters, "-f, --filter")?;
    if let Some(r) = &a.reference {
        filters.add("reference", r);
    }
    filters.validate(&["dangling", "label", "before", "since", "reference", "until"]).map_err(fail)?;
    let dangling = filters.bool_value("dangling").map_err(fail)?;
    let store = images(store);
    let now = jiff::Timestamp::now();
    let mut before: Option<i64> = None;
    for v in filters.values("before") {
        let img = store.lookup(v).map_err(image_failure)?;
        let c = created_unix(&img);
        before = Some(before.map_or(c, |b| b.min(c)));
    }
    for v in filters.values("until") {
        let c = parse_timestamp(v, now).map_err(fail)?;
        before = Some(before.map_or(c, |b| b.min(c)));
    }
    let mut since: Option<i64> = None;
    for v in filters.values("since") {
        let img = store.lookup(v).map_err(image_failure)?;
        let c = created_unix(&img);
        since = Some(since.map_or(c, |s| s.max(c)));
    }
    let patterns: Vec<&str> = filters.values("reference").collect();
    for p in &patterns {
        glob_match(p, "").map_err(|()| fail("syntax error in pattern"))?;
    }
    let matches_ref = |r: &Reference| {
        patterns.is_empty()
            || patterns.iter().any(|p| {
                glob_match(p, &r.familiar_string()).unwrap_or(false)
                    || glob_match(p, &r.familiar_name()).unwrap_or(false)
            })
    };
    let mut selected = Vec::new();
    for mut img in store.list().map_err(image_failure)? {
        let created = created_unix(&img);
        if before.is_some_and(|b| created >= b) || since.is_some_and(|s| created <= s) {
            continue;
        }
        if filters.contains("label") && !match_labels(filters.values("label"), labels(&img)) {
            continue;
        }
        img.repo_tags.retain(|r| matches_ref(r));
        img.repo_digests.retain(|r| matches_ref(r));
        if img.dangling() {
            if dangling == Some(false) || !patterns.is_empty() {
                continue;
            }
        } else if dangling == Some(true) && !img.repo_tags.is_empty() {
            continue;
        }
        selected.push(img);
    }
    let format = ls_format(a.format.as_deref(), a.quiet, a.digests);
    let need_digest = a.digests || format.contains("{{.Digest}}");
    let fmt = ListFormat::parse(&format).map_err(|e| Failure::format(ExitStatus::Failure, e))?;
    let table = fmt.is_table();
    let rows = selected
        .iter()
        .flat_map(|img| ls_rows(img, need_digest, a.digests))
        .map(|row| LsContext::value(row, !a.no_trunc, now.as_second(), table));
    fmt.render(&ls_header(), rows, io.out).map_err(|e| Failure::format(ExitStatus::Failure, e))
}

// ---------------------------------------------------------------------------------- inspect

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
    let store = images(store);
    let mut errors = Vec::new();
    let mut found = Vec::new();
    // Template output streams, each image's held back (Docker prints nothing of an image
    // whose template fails) while the output is small.
    let mut spill = Spill::new(io.out);
    let mut rendered = false;
    for name in &a.names {
        match store.lookup(name) {
            Ok(img) => {
                let j = inspect_json(&img, &store);
                match &mode {
                    Mode::Template(t) => {
                        let mark = spill.mark();
                        match t.execute(&myvol::output::volume::json_value(&j), &mut spill) {
                            Ok(()) => {
                                spill.write_all(b"\n")?;
                                rendered = true;
                            }
                            Err(template::TemplateError::Write(e)) => return Err(e.into()),
                            Err(e) => {
                                spill.rollback(mark);
                                errors.push(FormatError::Exec(e).to_string());
                            }
                        }
                    }
                    _ => found.push(j),
                }
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    match mode {
        Mode::Indented => writeln!(spill, "{}", go_json_indent(&serde_json::Value::Array(found)))?,
        Mode::Json => writeln!(spill, "{}", go_json(&serde_json::Value::Array(found), true))?,
        // Docker's template inspector prints a newline when nothing rendered.
        Mode::Template(_) if !rendered => spill.write_all(b"\n")?,
        Mode::Template(_) => {}
    }
    spill.commit()?;
    if errors.is_empty() { Ok(()) } else { Err(Failure::many(ExitStatus::Failure, errors)) }
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
        write!(io.out, "{warning}\nAre you sure you want to continue? [y/N] ")?;
        io.out.flush()?;
        let mut answer = String::new();
        let _ = io.input.read_line(&mut answer);
        if !answer.trim().eq_ignore_ascii_case("y") {
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

// ---------------------------------------------------------------------------------- login, logout

/// Read a line from the terminal, with echo off for a password.
fn prompt(label: &str, secret: bool) -> io::Result<String> {
    let mut err = io::stderr();
    write!(err, "{label}")?;
    err.flush()?;
    let stdin = rustix::stdio::stdin();
    let saved = if secret { rustix::termios::tcgetattr(stdin).ok() } else { None };
    if let Some(t) = &saved {
        let mut quiet = t.clone();
        quiet.local_modes.remove(rustix::termios::LocalModes::ECHO);
        let _ = rustix::termios::tcsetattr(stdin, rustix::termios::OptionalActions::Now, &quiet);
    }
    let mut line = String::new();
    let r = io::stdin().lock().read_line(&mut line);
    if let Some(t) = &saved {
        let _ = rustix::termios::tcsetattr(stdin, rustix::termios::OptionalActions::Now, t);
        writeln!(err)?;
    }
    r?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}

pub fn login(a: LoginArgs, io: &mut Io<'_>) -> Result {
    if a.password_stdin {
        if a.password.is_some() {
            return Err(fail("conflicting options: cannot specify both --password and --password-stdin"));
        }
        if a.username.is_none() {
            return Err(fail("the --password-stdin option requires --username to be set"));
        }
    }
    if a.username.as_deref() == Some("") {
        return Err(fail("username is empty"));
    }
    if a.password.as_deref() == Some("") {
        return Err(fail("password is empty"));
    }
    if a.password.is_some() {
        eprintln!("WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
    }
    let mut password = a.password.clone().unwrap_or_default();
    if a.password_stdin {
        let mut s = String::new();
        io.input.read_to_string(&mut s)?;
        password = s.strip_suffix('\n').unwrap_or(&s).to_owned();
        password = password.strip_suffix('\r').unwrap_or(&password).to_owned();
    }
    let server = match a.server.as_deref() {
        Some(s) if !s.is_empty() && s != "docker.io" => credentials::convert_to_hostname(s),
        _ => INDEX_SERVER.to_owned(),
    };
    let mut username = a.username.clone().unwrap_or_default();
    if username.is_empty() || password.is_empty() {
        if !io::stdin().is_terminal() {
            return Err(fail("Cannot perform an interactive login from a non TTY device"));
        }
        if username.is_empty() {
            username = prompt("Username: ", false)?;
            if username.is_empty() {
                return Err(fail("Error: Non-null Username Required"));
            }
        }
        if password.is_empty() {
            password = prompt("Password: ", true)?;
            if password.is_empty() {
                return Err(fail("Error: Password Required"));
            }
        }
    }
    let auth = AuthConfig { username, password, identity_token: None, server_address: server.clone() };
    let registry = if server == INDEX_SERVER { "docker.io".to_owned() } else { server.clone() };
    let client = Client::for_login(&registry, &RegistryOptions::from_env(), auth.clone());
    let mut conn = client.conn().map_err(fail)?;
    client.check_login(&mut conn).map_err(fail)?;
    let mut config = DockerConfig::load().map_err(fail)?;
    if let Stored::File(path) = config.store(&auth).map_err(fail)? {
        eprintln!(
            "\nWARNING! Your credentials are stored unencrypted in '{}'.\nConfigure a credential helper to remove this warning. See\nhttps://docs.docker.com/go/credential-store/\n",
            path.display()
        );
    }
    writeln!(io.out, "Login Succeeded")?;
    Ok(())
}

pub fn logout(a: LogoutArgs, io: &mut Io<'_>) -> Result {
    let (key, shown) = match a.server.as_deref() {
        Some(s) if !s.is_empty() && s != "docker.io" => (s.to_owned(), credentials::convert_to_hostname(s)),
        _ => (INDEX_SERVER.to_owned(), INDEX_SERVER.to_owned()),
    };
    writeln!(io.out, "Removing login credentials for {shown}")?;
    let mut config = DockerConfig::load().map_err(fail)?;
    if let Err(e) = config.erase(&key) {
        eprintln!("WARNING: could not erase credentials:\n{key}: {e}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_as_go_path_match() {
        let m = |p: &str, s: &str| glob_match(p, s).unwrap();
        assert!(m("busybox", "busybox"));
        assert!(m("busy*", "busybox:latest"));
        assert!(!m("*", "team/app"));
        assert!(m("*/*", "team/app"));
        assert!(m("team/app:1.?", "team/app:1.2"));
        assert!(m("[a-c]pp", "app"));
        assert!(!m("[^a-c]pp", "app"));
        assert!(m("a\\*", "a*"));
        assert!(glob_match("[", "x").is_err());
        assert!(glob_match("a[", "a").is_err());
    }

    #[test]
    fn timestamps() {
        let now = jiff::Timestamp::from_second(10_000).unwrap();
        assert_eq!(parse_timestamp("1500", now), Ok(1500));
        assert_eq!(parse_timestamp("10m", now), Ok(10_000 - 600));
        assert_eq!(parse_timestamp("1h30m", now), Ok(10_000 - 5400));
        assert_eq!(parse_timestamp("1970-01-01T01:00:00Z", now), Ok(3600));
        assert_eq!(parse_timestamp("1970-01-02", now), Ok(86400));
        assert!(parse_timestamp("soon", now).is_err());
    }

    #[test]
    fn filter_errors_are_dockers() {
        assert_eq!(myvol::filter::FilterError::InvalidKey("x".into()).to_string(), "invalid filter 'x'");
    }
}
