//! `myvol compose`: load the project through the library, then `config`, `volumes`, `run`,
//! `up`, `down`, or the volume part of `up`.
//!
//! `run` and `up` make each service one [`RunRequest`] ([`compose::run::service_request`])
//! and run it through `myvol run`'s own steps (plan, attach, execute). `up` runs each
//! service as a child `myvol compose … up-service SERVICE` (the same steps, in a process of
//! its own, so that each has its own supervisor and signals), reads their output and
//! prefixes it, and stops them all on Ctrl-C.
mod config;
mod up;
mod volumes;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use myvol::compose::run::{Overrides, service_request};
use myvol::driver::Plugins;
use myvol::output::compose::LogStyle;
use myvol::plan::{self, Attached, RunError, RunRequest};
use nix::sys::signal::{SigSet, Signal};
use nix::unistd::Pid;

use myvol::compose::reconcile;
use myvol::compose::{self, LoadOptions, Project, Warnings};
use myvol::store::Store;

use super::run::{PullPolicy, attach_and_execute, command_ended, current_dir, ensure_image};
use super::{ExitStatus, Failure, Io, Result};
use crate::cli::compose::{ComposeArgs, ComposeCommand, RunArgs, UpArgs, UpServiceArgs};
use config::config;
use up::{Running, Sinks, UpEvent, start_service, stop_all};
use volumes::{StdPrompter, down, down_by_name, up_volumes, volumes};

/// The commands of Docker Compose that act on running containers a daemon keeps.
const DAEMON_COMMANDS: &[&str] = &[
    "attach", "cp", "create", "events", "exec", "export", "images", "kill", "logs", "ls", "pause", "port", "ps",
    "restart", "rm", "start", "stats", "stop", "top", "unpause", "wait", "watch",
];

pub fn dispatch(store: &Store, plugins: &Plugins, args: ComposeArgs, io: &mut Io<'_>) -> Result {
    if let ComposeCommand::Other(words) = &args.command {
        return Err(other_command(words));
    }
    let globals = Globals {
        files: args.files.clone(),
        env_files: args.env_files.clone(),
        project_directory: args.project_directory.clone(),
    };
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
    // `down -p NAME` without `-f` reads no file: Compose works by the project's label.
    if let ComposeCommand::Down(a) = &command
        && opts.files.is_empty()
        && let Some(name) = opts.project_name.as_deref().filter(|n| !n.is_empty())
    {
        return down_by_name(store, name, a);
    }
    let mut warnings = Warnings::default();
    let loaded = compose::load(&opts, &mut warnings);
    // `up` has printed them already for the services it runs.
    if !matches!(command, ComposeCommand::UpService(_)) {
        print_warnings(&warnings);
    }
    // A `down` whose files do not load falls back to COMPOSE_PROJECT_NAME, as Compose's does.
    if let (ComposeCommand::Down(a), Err(_)) = (&command, &loaded)
        && let Some(name) = opts.environ.get("COMPOSE_PROJECT_NAME").filter(|n| !n.is_empty())
    {
        return down_by_name(store, name, a);
    }
    let project = loaded.map_err(|e| escaped(&e))?;
    match command {
        ComposeCommand::Config(a) => config(project, a, io),
        ComposeCommand::Volumes(a) => volumes(store, project, a, io),
        ComposeCommand::UpVolumes(a) => up_volumes(store, project, a, io),
        ComposeCommand::Run(a) => run(store, plugins, project, a, io),
        ComposeCommand::Up(a) => up(store, project, a, &globals, opts.stdin.as_deref(), io),
        ComposeCommand::UpService(a) => up_service(store, plugins, project, a, io),
        ComposeCommand::Down(a) => down(store, project, a),
        ComposeCommand::Other(_) => unreachable!("handled before loading"),
    }
}

/// A command this myvol does not have: the daemon's verbs with why, others as Docker's CLI
/// says it of an unknown command.
fn other_command(words: &[String]) -> Failure {
    let verb = words.first().map(String::as_str).unwrap_or("");
    let shown = myvol::text::echo(verb);
    if DAEMON_COMMANDS.contains(&verb) {
        Failure::new(
            ExitStatus::Failure,
            format!(
                "compose {shown}: myvol has no daemon, so no containers outlive the command that runs them; use `myvol compose up` or `myvol compose run` in the foreground"
            ),
        )
    } else {
        Failure::new(ExitStatus::Failure, format!("unknown docker command: \"compose {shown}\""))
            .with_hint("Run 'myvol compose --help' for more information")
    }
}

/// The global options `up` hands on to the processes that run its services.
struct Globals {
    files: Vec<PathBuf>,
    env_files: Vec<PathBuf>,
    project_directory: Option<PathBuf>,
}

/// A failure of Compose itself (not of the service's command): exit 1, as Compose.
fn compose_failure(f: Failure) -> Failure {
    Failure { status: ExitStatus::Failure, ..f }
}

/// The whole of a run of one service: pull its image if missing, plan, attach, execute,
/// release (with `--rm`, its anonymous volumes go). The command's status, or Compose's 1.
fn execute_service(
    store: &Store,
    plugins: &Plugins,
    request: &RunRequest,
    cwd: &Path,
    pull: bool,
    io: &mut Io<'_>,
) -> Result {
    let mut found = None;
    if pull && let Some(image) = &request.image {
        found = ensure_image(store, image, PullPolicy::Missing, false).map_err(compose_failure)?;
    }
    let mut plan =
        plan::resolve_with_image(request, store, cwd, found).map_err(|e| compose_failure(RunError::from(e).into()))?;
    let lookup = |k: &str| std::env::var(k).ok();
    let process = plan::resolve_process(&request.process, &plan, &lookup)
        .map_err(|e| compose_failure(RunError::from(e).into()))?;
    let mut attached = Attached::default();
    let result = attach_and_execute(store, plugins, &mut plan, &process, &mut attached, io);
    attached.release(store, plan.remove);
    command_ended(result.map_err(compose_failure)?)
}

fn cwd_text(cwd: &Path) -> Result<&str> {
    cwd.to_str().ok_or_else(|| {
        Failure::new(ExitStatus::Failure, format!("the current directory {} is not valid UTF-8", cwd.display()))
    })
}

/// `compose run`: the volumes as `up` makes them, then the service in the foreground.
fn run(store: &Store, plugins: &Plugins, project: Project, a: RunArgs, io: &mut Io<'_>) -> Result {
    let mut words = a.args.into_iter();
    let service = words.next().unwrap_or_default();
    let project = project.with_services_enabled(std::slice::from_ref(&service));
    if !project.services.contains_key(&service) {
        return Err(Failure::new(ExitStatus::Failure, format!("no such service: {}", myvol::text::echo(&service))));
    }
    let cwd = current_dir().map_err(compose_failure)?;
    let tty = !a.no_tty && std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let overrides = Overrides {
        oneoff: true,
        remove: a.rm,
        env: a.env,
        volumes: a.volumes,
        entrypoint: a.entrypoint,
        workdir: a.workdir,
        user: a.user,
        command: words.collect(),
        tty,
        interactive: true,
    };
    let request = service_request(&project, &service, &overrides, cwd_text(&cwd)?).map_err(|e| escaped(&e))?;
    let project = project.without_unnecessary_resources();
    let mut prompter = StdPrompter { io };
    reconcile::ensure_volumes(store, &project, false, &mut prompter).map_err(|e| escaped(&e))?;
    execute_service(store, plugins, &request, &cwd, true, io)
}

/// `compose up-service SERVICE`: one service of `up`, in this process (its volumes made and
/// its image pulled by `up`).
fn up_service(store: &Store, plugins: &Plugins, project: Project, a: UpServiceArgs, io: &mut Io<'_>) -> Result {
    // Stop with `up` if it dies: the run's supervisor forwards the TERM to the command.
    let _ = rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::TERM));
    if rustix::process::getppid().is_none_or(|p| p.as_raw_nonzero().get() == 1) {
        return Err(Failure::new(ExitStatus::Failure, "compose up-service: up has ended"));
    }
    let cwd = current_dir().map_err(compose_failure)?;
    let mut request =
        service_request(&project, &a.service, &Overrides::default(), cwd_text(&cwd)?).map_err(|e| escaped(&e))?;
    if !a.renew_anon_volumes {
        request.reuse_anonymous =
            reconcile::kept_anonymous_volumes(store, &project.name, &a.service).map_err(|e| escaped(&e))?;
    }
    execute_service(store, plugins, &request, &cwd, false, io)
}

/// `compose up`: the volumes, the images, then every selected service concurrently, in the
/// foreground, each through `compose up-service`.
fn up(
    store: &Store,
    project: Project,
    a: UpArgs,
    globals: &Globals,
    stdin_file: Option<&str>,
    io: &mut Io<'_>,
) -> Result {
    if a.detach {
        return Err(Failure::new(
            ExitStatus::Failure,
            "compose up --detach: myvol has no daemon to keep services running after it exits; run `myvol compose up` in the foreground (or under a service manager)",
        ));
    }
    let project = project
        .with_services_enabled(&a.services)
        .with_selected_services(&a.services)
        .map_err(|e| escaped(&e))?
        .without_unnecessary_resources();
    if let Some(s) = &a.exit_code_from
        && !project.services.contains_key(s)
    {
        return Err(Failure::new(ExitStatus::Failure, format!("no such service: {}", myvol::text::echo(s))));
    }
    let order = project.services_in_dependency_order();
    // Every service as a request now, so that a mistake stops `up` before anything starts.
    let cwd = current_dir().map_err(compose_failure)?;
    let mut images = Vec::new();
    for name in &order {
        let r = service_request(&project, name, &Overrides::default(), cwd_text(&cwd)?).map_err(|e| escaped(&e))?;
        images.extend(r.image);
    }
    let mut prompter = StdPrompter { io };
    reconcile::ensure_volumes(store, &project, a.yes, &mut prompter).map_err(|e| escaped(&e))?;
    for image in &images {
        ensure_image(store, image, PullPolicy::Missing, false).map_err(compose_failure)?;
    }
    if order.is_empty() {
        return Ok(());
    }

    // SIGINT and SIGTERM are heard by one thread; every thread started from here inherits
    // the block. The services' processes start with an empty mask.
    let mut signals = SigSet::empty();
    signals.add(Signal::SIGINT);
    signals.add(Signal::SIGTERM);
    signals.thread_block().map_err(|e| Failure::new(ExitStatus::Failure, format!("block signals: {e}")))?;
    let (tx, rx) = mpsc::channel();
    {
        let tx = tx.clone();
        std::thread::spawn(move || {
            while signals.wait().is_ok() {
                if tx.send(UpEvent::Signal).is_err() {
                    break;
                }
            }
        });
    }

    let mut sorted: Vec<String> = order.iter().map(|s| format!("{s}-1")).collect();
    sorted.sort();
    writeln!(io.out, "Attaching to {}", sorted.join(", "))?;
    io.out.flush()?;
    let color = !a.no_color && std::io::stdout().is_terminal();
    // The services' lines and `up`'s own go straight to fds 1 and 2 (`io.out` holds the
    // stdout lock for the whole command), one line at a time under one lock each.
    let sink = |fd: rustix::io::Result<std::os::fd::OwnedFd>| {
        fd.map(|fd| Arc::new(Mutex::new(std::fs::File::from(fd))))
            .map_err(|e| Failure::new(ExitStatus::Failure, format!("dup stdout: {e}")))
    };
    let sinks =
        Sinks { out: sink(rustix::io::dup(std::io::stdout()))?, err: sink(rustix::io::dup(std::io::stderr()))? };
    let exe = std::env::current_exe()
        .map_err(|e| Failure::new(ExitStatus::Failure, format!("find myvol's executable: {e}")))?;
    let mut running: Vec<Running> = Vec::new();
    let mut failure = None;
    for name in &order {
        let container = format!("{name}-1");
        let index = sorted.iter().position(|c| *c == container).unwrap_or(0);
        let style = LogStyle::new(&sorted, index, color, !a.no_log_prefix);
        let mut c = Command::new(&exe);
        c.arg("--root").arg(store.root()).arg("compose").arg("-p").arg(&project.name);
        for f in &globals.files {
            c.arg("-f").arg(f);
        }
        for e in &globals.env_files {
            c.arg("--env-file").arg(e);
        }
        if let Some(d) = &globals.project_directory {
            c.arg("--project-directory").arg(d);
        }
        for p in &project.profiles {
            c.arg("--profile").arg(p);
        }
        c.arg("up-service");
        if a.renew_anon_volumes {
            c.arg("--renew-anon-volumes");
        }
        c.arg(name);
        c.stdin(if stdin_file.is_some() { Stdio::piped() } else { Stdio::null() });
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
        std::os::unix::process::CommandExt::process_group(&mut c, 0);
        match c.spawn() {
            Ok(child) => {
                let pid = Pid::from_raw(child.id() as i32);
                start_service(child, style, stdin_file, running.len(), &sinks, tx.clone());
                running.push(Running { name: name.clone(), container, pid, ended: false });
            }
            Err(e) => {
                failure = Some(Failure::new(ExitStatus::Failure, format!("start service {name}: {e}")));
                break;
            }
        }
    }
    drop(tx);

    let cascade = a.abort_on_container_exit || a.exit_code_from.is_some();
    let timeout = Duration::from_secs(a.timeout);
    let mut stopping: Option<Instant> = None;
    let mut killed = false;
    let mut interrupted = false;
    let mut first_code: Option<i32> = None;
    let mut from_code: Option<i32> = None;
    if failure.is_some() {
        stop_all(&running, Signal::SIGTERM);
        stopping = Some(Instant::now() + timeout);
    }
    while running.iter().any(|r| !r.ended) {
        let event = match stopping.filter(|_| !killed) {
            Some(deadline) => match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(e) => e,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    stop_all(&running, Signal::SIGKILL);
                    killed = true;
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            },
            None => match rx.recv() {
                Ok(e) => e,
                Err(_) => break,
            },
        };
        match event {
            UpEvent::Exited(i, code) => {
                running[i].ended = true;
                let index = sorted.iter().position(|c| *c == running[i].container).unwrap_or(0);
                let style = LogStyle::new(&sorted, index, color, true);
                let line = style.status(&running[i].container, &format!("exited with code {code}"));
                sinks.say_out(line.as_bytes());
                if a.exit_code_from.as_deref() == Some(running[i].name.as_str()) && from_code.is_none() {
                    from_code = Some(code);
                }
                if cascade && stopping.is_none() {
                    first_code = Some(code);
                    sinks.say_err(b"Aborting on container exit...\n");
                    stop_all(&running, Signal::SIGTERM);
                    stopping = Some(Instant::now() + timeout);
                }
            }
            UpEvent::Signal => {
                if stopping.is_none() {
                    interrupted = true;
                    sinks.say_out(b"Gracefully Stopping... press Ctrl+C again to force\n");
                    stop_all(&running, Signal::SIGTERM);
                    stopping = Some(Instant::now() + timeout);
                } else if !killed {
                    stop_all(&running, Signal::SIGKILL);
                    killed = true;
                }
            }
        }
    }
    if let Some(f) = failure {
        return Err(f);
    }
    if interrupted {
        return Err(Failure::quiet(ExitStatus::Signal(2)));
    }
    match from_code.or(first_code) {
        Some(0) | None => Ok(()),
        Some(code) => Err(Failure::quiet(ExitStatus::Command(code.clamp(0, 255) as u8))),
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
