//! `pull` (`image pull`), and the pull of `run`: its per-layer progress on a terminal, the
//! plain lines otherwise.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use myvol::image::ImageStore;
use myvol::image::credentials::{self, DockerConfig};
use myvol::image::platform::Platform;
use myvol::image::pull::{LayerEvent, PullOptions, PullProgress, pull as pull_image};
use myvol::image::reference::Reference;
use myvol::image::registry::{Client, RegistryOptions};
use myvol::store::Store;

use super::{fail, image_failure, images};
use crate::cli::image::*;
use crate::commands::{ExitStatus, Failure, Io, Result};

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
