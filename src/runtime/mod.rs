//! The runtime: it runs a command in a root filesystem with its mounts, as runc runs a
//! `config.json`. Namespaces, the mount executor, exec and wait; see docs/run.md, "How a run
//! is set up". Its input, [`Exec`], is the executable part of a run plan ([`crate::plan`]) or
//! of an [`ExecFile`] (`myvol exec-spec`): a rootfs, the mounts in order, and a [`Process`].
//! Nothing here decides what to mount: the plan has decided, the runtime applies it.
//!
//! [`execute`] is the supervisor. It stays in the host's namespaces, holds the volume leases
//! and the run directory's lock, and clones one child directly into new mount, PID, UTS,
//! IPC (and, with [`Network::None`], network) namespaces. The child sets up the root,
//! reports a failure through a close-on-exec pipe or execs the command as PID 1 of the new
//! PID namespace. The supervisor forwards signals to it, waits, and removes the run's
//! writable layer.

mod child;
mod copyup;
mod etc_files;
pub mod mountinfo;
mod mounts;
mod resolve;
mod run_dir;
mod tty;
pub mod user;
mod userns;
mod validate;

pub use userns::{Unmapped, check_ids_mapped};

use std::io::{self, Read};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};

use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::spec::Propagation;
use crate::store::{Store, StoreError};
use crate::sys::{self, ms};
use crate::text::errno_text;

pub use etc_files::make_init_layer;
pub use mounts::{MASKED_PATHS, READONLY_PATHS};
pub use run_dir::RunDir;
pub use tty::{NotATty, check_input};
pub use validate::{Invalid, RootfsError, check_rootfs, validate};

/// What the runtime runs: a root filesystem, the mounts to make in it, in order, and the
/// process to start there. A view, of a [`crate::plan::RunPlan`] and its [`Process`]
/// (`myvol run`), or of an [`ExecFile`] (`myvol exec-spec`); [`validate()`] it before
/// [`execute`].
#[derive(Debug, Clone)]
pub struct Exec<'a> {
    /// The root filesystem (a directory). It is never modified: the run sees it through an
    /// overlay whose writable layer is discarded at the end. For an image, its top layer
    /// (the overlay stacks [`ImageRoot::layers`]).
    pub rootfs: &'a Path,
    /// The root is an image's layers, not `rootfs` alone.
    pub image: Option<ImageRoot<'a>>,
    /// Make the root read-only (mounts keep their own mode).
    pub read_only: bool,
    /// In order: a mount inside another one's target comes after it.
    pub mounts: Vec<MountRef<'a>>,
    pub process: &'a Process,
    /// Docker's `/etc/hostname`, `/etc/hosts` and `/etc/resolv.conf` (and its init layer:
    /// `/etc/mtab`), and the host's hostname with its network: what `myvol run` does. An exec
    /// file, like runc's `config.json`, gets none. An image's init layer is the store's shared
    /// one, among [`ImageRoot::layers`]; a rootfs run makes it in its writable layer.
    pub etc_files: bool,
}

/// A run of an image: its unpacked layers are the overlay's lower directories, and the user
/// is resolved in the image's own `/etc/passwd` and `/etc/group`, inside the run once its
/// mounts are made (as runc reads them), since the image's tree exists as one directory only
/// there.
#[derive(Debug, Clone, Copy)]
pub struct ImageRoot<'a> {
    /// The image as named, for messages.
    pub name: &'a str,
    /// The layers, **top first**: overlayfs's `lowerdir` order.
    pub layers: &'a [PathBuf],
    /// The layers use `user.overlay.*` xattrs (a rootless store): mount with `userxattr`.
    pub userxattr: bool,
}

/// The process a run starts, resolved: numeric ids, a complete environment, no name left
/// to look up in the rootfs (for an image, the user is, see [`ImageRoot::user`]).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Process {
    /// The command and its arguments; the first word is looked up in `PATH` unless it holds
    /// a `/`.
    pub command: Vec<String>,
    /// `KEY=VALUE` entries.
    #[serde(default)]
    pub env: Vec<String>,
    /// Absolute; created if missing. Default `/`.
    #[serde(default)]
    pub workdir: Option<String>,
    /// Numeric uid and gid (names are resolved before, never after entering the rootfs).
    #[serde(default)]
    pub user: Option<(u32, u32)>,
    /// A run of an image ([`ImageRoot`]): the `-u` value, else the image's `User` (`None`:
    /// root), resolved as [`user::resolve`] does in the image's `/etc/passwd` and
    /// `/etc/group`, inside the run; `user` and `groups` are then set from it, and `HOME` is
    /// the user's unless the environment sets it. Not part of an exec file.
    #[serde(skip)]
    pub user_in_image: Option<String>,
    /// Supplementary group ids (none by default).
    #[serde(default)]
    pub groups: Vec<u32>,
    /// Default: the first 12 characters of the run id, as Docker does.
    #[serde(default)]
    pub hostname: Option<String>,
    #[serde(default)]
    pub network: Network,
    /// A pseudo-terminal (`-t`): the command's stdin, stdout and stderr and its controlling
    /// terminal, proxied by the supervisor to myvol's own stdio.
    #[serde(default)]
    pub tty: bool,
    /// Keep stdin attached (`-i`): the command inherits myvol's stdin. Otherwise it reads
    /// `/dev/null`, as with `docker run` without `-i`.
    #[serde(default)]
    pub interactive: bool,
}

/// The network a run sees (`--network`). Serialised as Docker's word.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Network {
    /// The host's network namespace.
    #[default]
    Host,
    /// A network namespace of its own with only `lo`, brought up.
    None,
}

/// An [`Exec`] as a file: what `myvol exec-spec FILE` reads (JSON), as `runc run` reads
/// `config.json`. The process's fields sit at the top level, beside `rootfs` and `mounts`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ExecFile {
    pub rootfs: PathBuf,
    #[serde(default)]
    pub read_only: bool,
    #[serde(flatten)]
    pub process: Process,
    #[serde(default)]
    pub mounts: Vec<Mount>,
}

impl ExecFile {
    pub fn exec(&self) -> Exec<'_> {
        let mounts = self.mounts.iter().map(MountRef::from).collect();
        Exec {
            rootfs: &self.rootfs,
            image: None,
            read_only: self.read_only,
            mounts,
            process: &self.process,
            etc_files: false,
        }
    }
}

/// One mount, as the runtime makes it. Serialised as `{"Bind": {…}}`, `{"Tmpfs": {…}}` or
/// `{"Image": {…}}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub enum Mount {
    /// A host directory or file bound at a target: a volume's content, or a bind source.
    Bind(Bind),
    /// A new tmpfs.
    Tmpfs(Tmpfs),
    /// An image's tree, read-only (`--mount type=image`).
    Image(ImageMount),
}

/// An image mounted read-only at a target: its layers stacked (a read-only overlay, or the
/// layer itself for a one-layer image), `nodev`, never written.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ImageMount {
    /// The image as named, for messages.
    #[serde(default)]
    pub image: String,
    /// The unpacked layers, top first.
    pub layers: Vec<PathBuf>,
    /// The layers use `user.overlay.*` xattrs: mount with `userxattr`.
    #[serde(default)]
    pub userxattr: bool,
    /// Mount only this relative path of the image (`image-subpath`), resolved inside the
    /// image (its symlinks cannot leave it).
    #[serde(default)]
    pub subpath: Option<String>,
    /// Absolute, inside the rootfs.
    pub target: String,
}

/// A bind of a host path (a volume's `_data`, a plugin volume's path, or a host path).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Bind {
    /// Absolute. Opened once, without following a final symlink; the mount is made from
    /// that very file descriptor.
    pub source: PathBuf,
    /// Mount only this relative path beneath `source` (a volume's `volume-subpath`); it
    /// cannot resolve to anything outside `source`.
    #[serde(default)]
    pub subpath: Option<String>,
    /// Absolute, inside the rootfs.
    pub target: String,
    #[serde(default)]
    pub access: Access,
    #[serde(default)]
    pub recursion: Recursion,
    #[serde(default)]
    pub propagation: Propagation,
    /// Docker's copy-up: when the rootfs has a directory at `target` and the source is an
    /// empty directory, copy the directory's content into it first.
    #[serde(default)]
    pub copy_up: bool,
    /// podman's `U`: before binding, give the source and everything beneath it to the run's
    /// user (inside a rootless run's user namespace, so the ids are mapped), by fd, never
    /// following a symlink.
    #[serde(default)]
    pub chown: bool,
    /// The source, opened and checked by whoever resolved it (a plugin volume's mountpoint):
    /// the runtime binds this very directory and `source` only names it. Never read from an
    /// exec file.
    #[serde(skip)]
    pub opened: Option<OpenedSource>,
}

/// A bind source opened before the run (a volume plugin's checked mountpoint,
/// [`crate::driver::Attachment::opened`]). It refers to its holder's fd without keeping it
/// open: the holder closes it before the plugin is asked to unmount, which an open fd would
/// keep busy.
///
/// As root, the supervisor clones the mount tree from this fd (`open_tree`) before creating
/// the run, and the run attaches that clone: the path is never looked up again. Rootless,
/// the supervisor may not clone mounts, so the run looks the path up again in its own copy of
/// the host's mounts, refusing any symlink, and binds it only if it is this very directory
/// (device and inode).
#[derive(Clone, Default)]
pub struct OpenedSource(Weak<OwnedFd>);

impl OpenedSource {
    pub fn new(fd: &Arc<OwnedFd>) -> OpenedSource {
        OpenedSource(Arc::downgrade(fd))
    }

    /// The fd, while its holder keeps it.
    fn get(&self) -> Option<Arc<OwnedFd>> {
        self.0.upgrade()
    }
}

impl std::fmt::Debug for OpenedSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OpenedSource")
    }
}

impl PartialEq for OpenedSource {
    fn eq(&self, other: &OpenedSource) -> bool {
        Weak::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for OpenedSource {}

/// Whether a mount can be written, and for a read-only bind how far down that goes.
/// Serialised as `read-write`, `read-only`, `read-only-top`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Access {
    #[default]
    ReadWrite,
    /// Read-only, and so is every submount the bind takes along (Docker's default).
    ReadOnly,
    /// Only the bind itself is read-only; the submounts it takes along keep their mode
    /// (`bind-recursive=writable`). Without [`Recursion::Recursive`], the same as `ReadOnly`.
    ReadOnlyTop,
}

/// Whether a bind takes the mounts below its source along. Serialised as `recursive`,
/// `non-recursive`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Recursion {
    /// `rbind`: the source's whole mount tree (Docker's default).
    #[default]
    Recursive,
    /// `bind`: the source's own mount only (`bind-recursive=disabled`).
    NonRecursive,
}

/// A new tmpfs at `target`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Tmpfs {
    pub target: String,
    /// mount(2) flags ([`ms`] bits), as [`crate::spec::parse_tmpfs_options`] gives them.
    pub flags: u64,
    /// The filesystem's options (`size=…,mode=…`), one `fsconfig` call each.
    #[serde(default)]
    pub data: String,
}

/// A [`Mount`], borrowed: from an [`ExecFile`]'s mounts, or from the bind or tmpfs a plan's
/// mount holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MountRef<'a> {
    Bind(&'a Bind),
    Tmpfs(&'a Tmpfs),
    Image(&'a ImageMount),
}

impl<'a> From<&'a Mount> for MountRef<'a> {
    fn from(m: &'a Mount) -> MountRef<'a> {
        match m {
            Mount::Bind(b) => MountRef::Bind(b),
            Mount::Tmpfs(t) => MountRef::Tmpfs(t),
            Mount::Image(i) => MountRef::Image(i),
        }
    }
}

impl<'a> MountRef<'a> {
    /// Where the mount goes, inside the rootfs.
    pub fn target(self) -> &'a str {
        match self {
            MountRef::Bind(b) => &b.target,
            MountRef::Tmpfs(t) => &t.target,
            MountRef::Image(i) => &i.target,
        }
    }

    /// Whether the mount (at least its top) is read-only.
    pub fn read_only(self) -> bool {
        match self {
            MountRef::Bind(b) => b.access != Access::ReadWrite,
            MountRef::Tmpfs(t) => t.flags & ms::RDONLY != 0,
            MountRef::Image(_) => true,
        }
    }
}

/// How the command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this status.
    Code(u8),
    /// Signal N killed it.
    Signal(u8),
}

/// What stopped the child before the command ran, as it reports it through its pipe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChildFailure {
    /// A step of building the run failed: a mount, the hostname, the working directory,
    /// dropping privileges…
    Setup,
    /// The command was not found: not in `PATH`, or its path does not exist (`ENOENT`).
    NotFound,
    /// The command exists but cannot be executed: not executable (`EACCES`), or a directory.
    CannotExecute,
}

/// Why a run failed before the command's own status existed.
#[derive(Debug, Error)]
pub enum ExecError {
    /// The run directory (the overlay's writable layer) could not be made.
    #[error(transparent)]
    RunDir(StoreError),
    /// A step of the supervisor itself (a pipe, the clone, the id maps, waiting).
    #[error("{what}: {}", errno_text(source))]
    Supervisor { what: &'static str, source: io::Error },
    /// Reported by the child through its pipe, with its message (runc's wording) and, when a
    /// system call failed, its errno (which decides `docker run`'s status for a setup step).
    #[error("{message}")]
    Child { failure: ChildFailure, message: String, errno: Option<i32> },
    /// `-i -t` with an input that is not a terminal ([`check_input`]).
    #[error(transparent)]
    NotATty(#[from] NotATty),
}

fn sup(what: &'static str) -> impl FnOnce(io::Error) -> ExecError {
    move |source| ExecError::Supervisor { what, source }
}

/// What the child writes to the report pipe when it fails before exec.
#[derive(Debug, Serialize, Deserialize)]
struct ChildReport {
    failure: ChildFailure,
    message: String,
    #[serde(default)]
    errno: Option<i32>,
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

/// Run `exec` (checked by [`validate()`], its rootfs by [`check_rootfs`]) and return how the
/// command ended. `held` (the volumes' leases or attachments) is kept until the command has
/// ended and the run is cleaned up, then dropped.
pub fn execute<H>(store: &Store, exec: &Exec<'_>, held: H) -> Result<Exit, ExecError> {
    check_input(exec.process.tty, exec.process.interactive)?;
    let run = RunDir::create(store).map_err(ExecError::RunDir)?;
    let result = supervise(exec, &run);
    run.remove();
    drop(held);
    result
}

fn supervise(exec: &Exec<'_>, run: &RunDir) -> Result<Exit, ExecError> {
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
    let result = clone_and_wait(exec, run, report_r, report_w, &set);
    let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&old), None);
    result
}

fn namespace_flags(process: &Process, rootless: bool) -> i32 {
    let mut f = libc::CLONE_NEWNS | libc::CLONE_NEWPID | libc::CLONE_NEWUTS | libc::CLONE_NEWIPC;
    if process.network == Network::None {
        f |= libc::CLONE_NEWNET;
    }
    if rootless {
        f |= libc::CLONE_NEWUSER;
    }
    f
}

/// What the child gets besides the [`Exec`]: its ends of the channels to the supervisor.
pub(crate) struct ChildChannels {
    /// Close-on-exec: a failure report, or EOF at exec.
    pub report: OwnedFd,
    /// Rootless: the child waits for one byte here until its id maps are written.
    pub sync: Option<OwnedFd>,
    /// `-t`: the socket the pty master is sent over.
    pub console: Option<OwnedFd>,
    /// In a user namespace of its own (myvol is not root): the plan of its id maps.
    pub userns: Option<userns::Plan>,
    /// The binds with an [`OpenedSource`], made ready by the supervisor (by mount index).
    sources: Vec<Option<child::Prepared>>,
}

fn clone_and_wait(
    exec: &Exec<'_>,
    run: &RunDir,
    report_r: OwnedFd,
    report_w: OwnedFd,
    set: &SigSet,
) -> Result<Exit, ExecError> {
    let rootless = !rustix::process::geteuid().is_root();
    let userns = rootless.then(userns::Plan::read);
    let sync = if rootless {
        Some(rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).map_err(|e| sup("create a pipe")(e.into()))?)
    } else {
        None
    };
    let console = if exec.process.tty {
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
    let sources = child::prepare_sources(&sys::Linux, exec, rootless).map_err(|e| ExecError::Child {
        failure: e.failure(),
        message: e.to_string(),
        errno: e.errno(),
    })?;
    match sys::clone_into_namespaces(namespace_flags(exec.process, rootless)).map_err(sup("create the namespaces"))? {
        sys::Forked::Child => {
            drop(report_r);
            drop(sync_w);
            drop(console_parent);
            let ch = ChildChannels { report: report_w, sync: sync_r, console: console_child, userns, sources };
            child::main(&sys::Linux, exec, run, ch)
        }
        sys::Forked::Parent(pid) => {
            // The run has its copies of the prepared sources; ours would keep the plugins'
            // mounts busy.
            drop(sources);
            drop(report_w);
            drop(sync_r);
            drop(console_child);
            let pid = Pid::from_raw(pid);
            if let (Some(w), Some(userns)) = (sync_w, &userns) {
                if let Err(e) = userns.write_maps(pid.as_raw()) {
                    let _ = nix::sys::signal::kill(pid, Signal::SIGKILL);
                    let _ = waitpid(pid, None);
                    return Err(ExecError::Supervisor { what: "map the user namespace's ids", source: e });
                }
                let _ = rustix::io::write(&w, b"1");
            }
            let mut buf = Vec::new();
            let read = std::fs::File::from(report_r).take(1 << 20).read_to_end(&mut buf);
            if !buf.is_empty() || read.is_err() {
                let ended = wait_exit(pid, set);
                let report = serde_json::from_slice::<ChildReport>(&buf).unwrap_or_else(|_| ChildReport {
                    failure: ChildFailure::Setup,
                    errno: None,
                    message: match ended {
                        Ok(Exit::Code(c)) => format!("the run's setup failed (status {c})"),
                        Ok(Exit::Signal(n)) => format!("the run's setup failed (signal {n})"),
                        Err(_) => "the run's setup failed".to_owned(),
                    },
                });
                return Err(ExecError::Child { failure: report.failure, message: report.message, errno: report.errno });
            }
            // EOF and nothing written: the command is running.
            if let Some(sock) = console_parent {
                let master = match tty::receive_master(sock.as_fd()) {
                    Ok(m) => m,
                    Err(e) => {
                        let _ = nix::sys::signal::kill(pid, Signal::SIGKILL);
                        let _ = wait_exit(pid, set);
                        return Err(ExecError::Supervisor { what: "receive the terminal", source: e });
                    }
                };
                // Raw mode only when the keys are read (`-i`): with `-t` alone, Ctrl-C stays a
                // signal to myvol, which forwards it.
                let _raw = if exec.process.interactive { tty::RawMode::enter() } else { None };
                return tty::proxy(pid, master, exec.process.interactive, set).map_err(sup("proxy the terminal"));
            }
            wait_exit(pid, set).map_err(sup("wait for the command"))
        }
    }
}

/// How the child ended, if it has.
fn try_reap(pid: Pid) -> io::Result<Option<Exit>> {
    loop {
        return match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
            // An exit status is 8 bits (WEXITSTATUS), a signal number below 65.
            Ok(WaitStatus::Exited(_, code)) => Ok(Some(Exit::Code((code & 0xff) as u8))),
            Ok(WaitStatus::Signaled(_, sig, _)) => Ok(Some(Exit::Signal(sig as u8))),
            Ok(_) => Ok(None),
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => Err(e.into()),
        };
    }
}

/// How often a held signal is offered again (see [`wait_exit`]).
const HELD_SIGNAL_POLL: std::time::Duration = std::time::Duration::from_millis(5);

/// Forward signals to `pid` until it ends; how it ended.
///
/// The command is PID 1 of its namespace, and the kernel drops a signal sent to a namespace's
/// init that neither handles nor ignores it (as in Docker without `--init`). A signal that
/// comes while the command has not installed its handler yet (it arrived during the setup and
/// waited for the exec, or in the instant between the exec and a shell's `trap`) would be
/// lost; so such a signal is held and offered again until the command handles it, ignores
/// it, or ends. A command that never handles it never sees it, as in Docker.
fn wait_exit(pid: Pid, set: &SigSet) -> io::Result<Exit> {
    let mut held = SigSet::empty();
    loop {
        if let Some(code) = try_reap(pid)? {
            return Ok(code);
        }
        if held.iter().next().is_some() {
            held = offer(pid, held);
        }
        let sig = if held.iter().next().is_some() {
            match sys::wait_signal_timeout(set, HELD_SIGNAL_POLL)? {
                Some(sig) => sig,
                None => continue,
            }
        } else {
            set.wait().map_err(io::Error::from)?
        };
        if sig != Signal::SIGCHLD {
            held.add(sig);
            crate::failpoint::hit("run.signal-held");
            held = offer(pid, held);
        }
    }
}

/// Send `pid` every signal of `held` that it handles or ignores now; the others, still held.
fn offer(pid: Pid, held: SigSet) -> SigSet {
    let Some(taken) = sys::signals_taken(pid.as_raw()) else {
        // Its status cannot be read (it is ending): send them all, as nothing else can.
        for sig in held.iter() {
            let _ = nix::sys::signal::kill(pid, sig);
        }
        return SigSet::empty();
    };
    let mut left = SigSet::empty();
    for sig in held.iter() {
        if taken & (1u64 << (sig as i32 - 1)) != 0 {
            let _ = nix::sys::signal::kill(pid, sig);
        } else {
            left.add(sig);
        }
    }
    left
}

#[cfg(test)]
mod tests;
