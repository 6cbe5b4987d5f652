//! Running a command in a rootfs with volumes mounted: namespaces, the mount executor, exec
//! and wait. See docs/run.md, "How a run is set up".
//!
//! [`execute`] is the supervisor. It stays in the host's namespaces, holds the volume leases
//! and the run directory's lock, and clones one child directly into new mount, PID, UTS,
//! IPC (and, for `network_none`, network) namespaces. The child sets up the root, reports a
//! failure through a close-on-exec pipe or execs the command as PID 1 of the new PID
//! namespace. The supervisor forwards signals to it, waits, and removes the run's writable
//! layer.

mod child;
mod copyup;
pub mod env;
mod mounts;
mod resolve;
mod run_dir;
mod tty;
pub mod user;
mod userns;

use std::io::{self, Read};
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;

use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::store::{Store, StoreError};
use crate::sys;

pub use mounts::{MASKED_PATHS, READONLY_PATHS};
pub use run_dir::RunDir;

/// Everything a run needs, resolved: what `myvol run` builds from its plan, and what the
/// hidden `myvol exec-spec FILE` reads as JSON.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ExecSpec {
    /// The root filesystem (a directory). It is never modified: the run sees it through an
    /// overlay whose writable layer is discarded at the end.
    pub rootfs: PathBuf,
    /// Make the root read-only (mounts keep their own mode).
    #[serde(default)]
    pub read_only: bool,
    /// The command and its arguments; the first word is looked up in `PATH` unless it holds
    /// a `/`.
    pub command: Vec<String>,
    /// `KEY=VALUE` entries.
    #[serde(default)]
    pub env: Vec<String>,
    /// Absolute; created if missing. Default `/`.
    #[serde(default)]
    pub workdir: Option<String>,
    /// Numeric uid and gid (names are resolved by the planner, never after entering the rootfs).
    #[serde(default)]
    pub user: Option<(u32, u32)>,
    /// Supplementary group ids (none by default).
    #[serde(default)]
    pub groups: Vec<u32>,
    /// Default: the first 12 characters of the run id, as Docker does.
    #[serde(default)]
    pub hostname: Option<String>,
    /// A network namespace with only `lo`.
    #[serde(default)]
    pub network_none: bool,
    /// A pseudo-terminal (`-t`): the command's stdin, stdout and stderr and its controlling
    /// terminal, proxied by the supervisor to myvol's own stdio.
    #[serde(default)]
    pub tty: bool,
    /// Keep stdin attached (`-i`): the command inherits myvol's stdin. Otherwise it reads
    /// `/dev/null`, as with `docker run` without `-i`.
    #[serde(default)]
    pub interactive: bool,
    /// In order: the planner sorts them by target depth.
    #[serde(default)]
    pub mounts: Vec<MountOp>,
}

/// One mount of the plan.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub enum MountOp {
    /// A volume's `_data` (or a subpath of it) or a host path, bound at `target`.
    Bind {
        source: PathBuf,
        #[serde(default)]
        subpath: Option<String>,
        target: String,
        #[serde(default)]
        read_only: bool,
        #[serde(default = "yes")]
        recursive: bool,
        /// With `read_only` and `recursive`: whether submounts are read-only too (Docker's
        /// default) or stay writable (`bind-recursive=writable`).
        #[serde(default = "yes")]
        read_only_recursive: bool,
        #[serde(default)]
        propagation: String,
        #[serde(default)]
        copy_up: bool,
    },
    /// A tmpfs at `target`: mount(2) `flags` (`MS_*`) and `data`, as
    /// [`crate::spec::parse_tmpfs_options`] gives them.
    Tmpfs { target: String, flags: u64, data: String },
}

fn yes() -> bool {
    true
}

impl MountOp {
    pub fn target(&self) -> &str {
        match self {
            MountOp::Bind { target, .. } | MountOp::Tmpfs { target, .. } => target,
        }
    }
}

/// Exit statuses of a run, as `docker run` uses them.
pub mod status {
    /// myvol itself failed (bad spec, a mount that failed, …).
    pub const SETUP: i32 = 125;
    /// The command was found but could not be executed.
    pub const NOT_EXECUTABLE: i32 = 126;
    /// The command was not found.
    pub const NOT_FOUND: i32 = 127;
}

/// Why a run failed before the command's own status existed.
#[derive(Debug, Error)]
pub enum RunError {
    #[error("invalid exec spec: {0}")]
    InvalidSpec(String),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{what}: {}", crate::text::errno_text(source))]
    Supervisor { what: &'static str, source: io::Error },
    /// Reported by the child through its pipe: a setup step failed (125) or the command could
    /// not be executed (126, 127).
    #[error("{message}")]
    Child { code: i32, message: String },
}

impl RunError {
    /// The exit status `docker run` would give.
    pub fn exit_code(&self) -> i32 {
        match self {
            RunError::Child { code, .. } => *code,
            _ => status::SETUP,
        }
    }
}

fn sup(what: &'static str) -> impl FnOnce(io::Error) -> RunError {
    move |source| RunError::Supervisor { what, source }
}

/// What the child writes to the report pipe when it fails before exec.
#[derive(Debug, Serialize, Deserialize)]
struct ChildReport {
    code: i32,
    message: String,
}

/// The signals the supervisor forwards to the command.
pub const FORWARDED_SIGNALS: [Signal; 7] = [
    Signal::SIGINT,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGWINCH,
];

/// Check a spec before anything is created: every error here is the invoker's (exit 125).
pub fn validate(spec: &ExecSpec) -> Result<(), RunError> {
    let bad = |m: String| Err(RunError::InvalidSpec(m));
    if !spec.rootfs.is_absolute() {
        return bad(format!("rootfs {:?} must be an absolute path", spec.rootfs));
    }
    match std::fs::metadata(&spec.rootfs) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return bad(format!("rootfs {}: not a directory", spec.rootfs.display())),
        Err(e) => return bad(format!("rootfs {}: {}", spec.rootfs.display(), crate::text::errno_text(&e))),
    }
    if spec.command.is_empty() || spec.command[0].is_empty() {
        return bad("no command specified".to_owned());
    }
    let no_nul = |what: &str, s: &str| {
        if s.contains('\0') { Err(RunError::InvalidSpec(format!("{what} {s:?} contains a NUL byte"))) } else { Ok(()) }
    };
    for a in &spec.command {
        no_nul("argument", a)?;
    }
    for e in &spec.env {
        no_nul("environment entry", e)?;
        if !e.contains('=') || e.starts_with('=') {
            return bad(format!("environment entry {e:?} is not KEY=VALUE"));
        }
    }
    if let Some(w) = &spec.workdir {
        no_nul("working directory", w)?;
        if !w.starts_with('/') {
            return bad(format!("the working directory '{w}' is invalid, it needs to be an absolute path"));
        }
        if resolve::components(w).is_err() {
            return bad(format!("the working directory '{w}' must not contain '..'"));
        }
    }
    if let Some(h) = &spec.hostname
        && (h.is_empty() || h.len() > 64 || h.contains(['\0', '/']))
    {
        return bad(format!("invalid hostname {h:?}"));
    }
    for m in &spec.mounts {
        let t = m.target();
        no_nul("mount target", t)?;
        if !t.starts_with('/') {
            return bad(format!("invalid mount path: '{t}' mount path must be absolute"));
        }
        match resolve::components(t) {
            Err(_) => return bad(format!("invalid mount path: '{t}' must not contain '..'")),
            Ok(c) if c.is_empty() => return bad("invalid specification: destination can't be '/'".to_owned()),
            Ok(_) => {}
        }
        match m {
            MountOp::Bind { source, subpath, propagation, .. } => {
                if !source.is_absolute() {
                    return bad(format!("invalid mount path: '{}' mount path must be absolute", source.display()));
                }
                if mounts::parse_propagation(propagation).is_none() {
                    return bad(format!("invalid propagation mode: {propagation}"));
                }
                if let Some(s) = subpath {
                    no_nul("subpath", s)?;
                    if s.starts_with('/') || s.split('/').any(|c| c == "..") {
                        return bad("subpath must be a relative path within the volume".to_owned());
                    }
                }
            }
            MountOp::Tmpfs { data, .. } => no_nul("tmpfs options", data)?,
        }
    }
    Ok(())
}

/// Run `spec` and return the exit status to use: the command's own, or 128+N when a signal
/// N killed it. `held` (the volumes' leases or attachments) is kept until the command has
/// ended and the run is cleaned up, then dropped.
pub fn execute<H>(store: &Store, spec: &ExecSpec, held: H) -> Result<i32, RunError> {
    validate(spec)?;
    let run = RunDir::create(store)?;
    let result = supervise(spec, &run);
    run.remove();
    drop(held);
    result
}

fn supervise(spec: &ExecSpec, run: &RunDir) -> Result<i32, RunError> {
    let (report_r, report_w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
        .map_err(|e| sup("create the report pipe")(e.into()))?;
    // Block the forwarded signals (and SIGCHLD) before the clone, so none is lost: they wait
    // in our pending set until the loop below forwards them. The child unblocks them just
    // before exec.
    let mut set = SigSet::empty();
    for s in FORWARDED_SIGNALS {
        set.add(s);
    }
    set.add(Signal::SIGCHLD);
    let mut old = SigSet::empty();
    nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&set), Some(&mut old))
        .map_err(|e| sup("block signals")(e.into()))?;
    let result = clone_and_wait(spec, run, report_r, report_w, &set);
    let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&old), None);
    result
}

fn namespace_flags(spec: &ExecSpec, rootless: bool) -> i32 {
    let mut f = libc::CLONE_NEWNS | libc::CLONE_NEWPID | libc::CLONE_NEWUTS | libc::CLONE_NEWIPC;
    if spec.network_none {
        f |= libc::CLONE_NEWNET;
    }
    if rootless {
        f |= libc::CLONE_NEWUSER;
    }
    f
}

/// What the child gets besides the spec: its ends of the channels to the supervisor.
pub(crate) struct ChildChannels {
    /// Close-on-exec: a failure report, or EOF at exec.
    pub report: OwnedFd,
    /// Rootless: the child waits for one byte here until its id maps are written.
    pub sync: Option<OwnedFd>,
    /// `-t`: the socket the pty master is sent over.
    pub console: Option<OwnedFd>,
    /// In a user namespace of its own (myvol is not root).
    pub rootless: bool,
}

fn clone_and_wait(
    spec: &ExecSpec,
    run: &RunDir,
    report_r: OwnedFd,
    report_w: OwnedFd,
    set: &SigSet,
) -> Result<i32, RunError> {
    let rootless = !rustix::process::geteuid().is_root();
    let sync = if rootless {
        Some(rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).map_err(|e| sup("create a pipe")(e.into()))?)
    } else {
        None
    };
    let console = if spec.tty {
        Some(
            rustix::net::socketpair(
                rustix::net::AddressFamily::UNIX,
                rustix::net::SocketType::STREAM,
                rustix::net::SocketFlags::CLOEXEC,
                None,
            )
            .map_err(|e| sup("create the console socket")(e.into()))?,
        )
    } else {
        None
    };
    let (sync_r, sync_w) = match sync {
        Some((r, w)) => (Some(r), Some(w)),
        None => (None, None),
    };
    let (console_parent, console_child) = match console {
        Some((a, b)) => (Some(a), Some(b)),
        None => (None, None),
    };
    match sys::clone_into_namespaces(namespace_flags(spec, rootless)).map_err(sup("create the namespaces"))? {
        sys::Forked::Child => {
            drop(report_r);
            drop(sync_w);
            drop(console_parent);
            let ch = ChildChannels { report: report_w, sync: sync_r, console: console_child, rootless };
            child::main(&sys::Linux, spec, run, ch)
        }
        sys::Forked::Parent(pid) => {
            drop(report_w);
            drop(sync_r);
            drop(console_child);
            let pid = Pid::from_raw(pid);
            if let Some(w) = sync_w {
                if let Err(e) = userns::write_maps(pid.as_raw()) {
                    let _ = nix::sys::signal::kill(pid, Signal::SIGKILL);
                    let _ = waitpid(pid, None);
                    return Err(RunError::Supervisor { what: "map the user namespace's ids", source: e });
                }
                let _ = rustix::io::write(&w, b"1");
            }
            let mut buf = Vec::new();
            let read = std::fs::File::from(report_r).take(1 << 20).read_to_end(&mut buf);
            if !buf.is_empty() || read.is_err() {
                let status = wait_exit(pid, set);
                let report = serde_json::from_slice::<ChildReport>(&buf).unwrap_or(ChildReport {
                    code: status::SETUP,
                    message: format!("the run's setup failed (status {})", status.unwrap_or(-1)),
                });
                return Err(RunError::Child { code: report.code, message: report.message });
            }
            // EOF and nothing written: the command is running.
            if let Some(sock) = console_parent {
                let master = match tty::receive_master(sock.as_fd()) {
                    Ok(m) => m,
                    Err(e) => {
                        let _ = nix::sys::signal::kill(pid, Signal::SIGKILL);
                        let _ = wait_exit(pid, set);
                        return Err(RunError::Supervisor { what: "receive the terminal", source: e });
                    }
                };
                let _raw = tty::RawMode::enter();
                return tty::proxy(pid, master, spec.interactive, set).map_err(sup("proxy the terminal"));
            }
            wait_exit(pid, set).map_err(sup("wait for the command"))
        }
    }
}

/// The child's status if it has ended: its exit status, or 128+N if signal N killed it.
fn try_reap(pid: Pid) -> io::Result<Option<i32>> {
    loop {
        return match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(_, code)) => Ok(Some(code)),
            Ok(WaitStatus::Signaled(_, sig, _)) => Ok(Some(128 + sig as i32)),
            Ok(_) => Ok(None),
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => Err(e.into()),
        };
    }
}

/// Forward signals to `pid` until it ends; its exit status, or 128+N if signal N killed it.
fn wait_exit(pid: Pid, set: &SigSet) -> io::Result<i32> {
    loop {
        if let Some(code) = try_reap(pid)? {
            return Ok(code);
        }
        let sig = set.wait().map_err(io::Error::from)?;
        if sig != Signal::SIGCHLD {
            let _ = nix::sys::signal::kill(pid, sig);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ExecSpec {
        ExecSpec {
            rootfs: PathBuf::from("/"),
            read_only: false,
            command: vec!["true".into()],
            env: vec![],
            workdir: None,
            user: None,
            groups: vec![],
            hostname: None,
            network_none: false,
            tty: false,
            interactive: false,
            mounts: vec![],
        }
    }

    #[test]
    fn validation_table() {
        let ok = |f: &dyn Fn(&mut ExecSpec)| {
            let mut s = spec();
            f(&mut s);
            validate(&s).map_err(|e| e.to_string())
        };
        assert!(ok(&|_| {}).is_ok());
        let bind = |t: &str| MountOp::Bind {
            source: "/tmp".into(),
            subpath: None,
            target: t.into(),
            read_only: false,
            recursive: true,
            read_only_recursive: true,
            propagation: String::new(),
            copy_up: false,
        };
        for (f, msg) in [
            (
                Box::new(|s: &mut ExecSpec| s.rootfs = "rel".into()) as Box<dyn Fn(&mut ExecSpec)>,
                "must be an absolute path",
            ),
            (Box::new(|s: &mut ExecSpec| s.rootfs = "/nonexistent-myvol".into()), "no such file or directory"),
            (Box::new(|s: &mut ExecSpec| s.command.clear()), "no command specified"),
            (Box::new(|s: &mut ExecSpec| s.env = vec!["NOEQUALS".into()]), "is not KEY=VALUE"),
            (Box::new(|s: &mut ExecSpec| s.workdir = Some("rel".into())), "needs to be an absolute path"),
            (Box::new(move |s: &mut ExecSpec| s.mounts = vec![bind("/")]), "destination can't be '/'"),
            (Box::new(move |s: &mut ExecSpec| s.mounts = vec![bind("x")]), "mount path must be absolute"),
            (Box::new(move |s: &mut ExecSpec| s.mounts = vec![bind("/a/../b")]), "must not contain '..'"),
            (Box::new(|s: &mut ExecSpec| s.command = vec!["a\0b".into()]), "NUL byte"),
        ] {
            let e = ok(&*f).unwrap_err();
            assert!(e.contains(msg), "{e} should contain {msg}");
        }
    }

    #[test]
    fn spec_json_defaults() {
        let s: ExecSpec = serde_json::from_str(
            r#"{"rootfs":"/r","command":["sh"],"mounts":[{"Bind":{"source":"/v","target":"/t"}},
               {"Tmpfs":{"target":"/tmp","flags":14,"data":"size=1m"}}]}"#,
        )
        .unwrap();
        assert!(matches!(&s.mounts[0], MountOp::Bind { recursive: true, read_only: false, copy_up: false, .. }));
        assert_eq!(s.mounts[1].target(), "/tmp");
    }
}
