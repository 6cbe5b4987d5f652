//! The child side of a run: PID 1 of the new PID namespace, already inside new mount, UTS,
//! IPC (and maybe network) namespaces. It builds the root, drops privileges and execs the
//! command. Any failure is written to the report pipe and ends the child with `_exit`: it
//! never returns into the supervisor's code and never runs a destructor of something it shares
//! with the supervisor (leases, the run directory guard).

mod apply;
mod exec;
mod kernel_fs;

use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use rustix::fs::{self as rfs, FileType, Mode, OFlags};
use rustix::io::Errno;
use rustix::thread::CapabilitySet;
use thiserror::Error;

use super::mounts::{self, OverlayLayers};
use super::resolve::{self, ensure_dir_in_root, open_in_root};
use super::user::{self, UserError};
use super::{ChildChannels, ChildFailure, ChildReport, Exec, MountRef, Network, RunDir, etc_files, tty, userns};
use crate::sys::{self, Syscall, attr};
use crate::text::{echo, errno_text};

use apply::{MountAt, mount};
pub(super) use apply::{Prepared, prepare_sources};
use exec::{drop_privileges, exec_command, prepare_exec};
use kernel_fs::{DevNodes, make_dev_links, make_dev_nodes, mask_paths, mount_dev, mount_proc, mount_sys};

/// The child's exit status when it fails before exec (the supervisor reports the failure
/// itself, from the pipe; the status shows only if the pipe could not say it): Docker's 125
/// for a run that failed to start.
const SETUP_FAILED: i32 = 125;

/// Docker's default PATH, used when the process's environment has none.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Docker's default capability set (moby `caps/defaults.go`).
pub fn default_caps() -> CapabilitySet {
    CapabilitySet::CHOWN
        | CapabilitySet::DAC_OVERRIDE
        | CapabilitySet::FSETID
        | CapabilitySet::FOWNER
        | CapabilitySet::MKNOD
        | CapabilitySet::NET_RAW
        | CapabilitySet::SETGID
        | CapabilitySet::SETUID
        | CapabilitySet::SETFCAP
        | CapabilitySet::SETPCAP
        | CapabilitySet::NET_BIND_SERVICE
        | CapabilitySet::SYS_CHROOT
        | CapabilitySet::KILL
        | CapabilitySet::AUDIT_WRITE
}

/// A failure before the command runs. Messages follow runc's where it has one.
#[derive(Debug, Error)]
pub enum SetupError {
    #[error("{step}: {}", errno_text(source))]
    Step { step: String, source: io::Error },
    #[error(
        "error mounting {} to rootfs at {}: {}{}",
        echo(from).quoted(),
        echo(target).quoted(),
        errno_text(err),
        if err.raw_os_error() == Some(libc::ENOTDIR) { NOT_A_DIRECTORY_HINT } else { "" }
    )]
    Mount { from: String, target: String, err: io::Error },
    /// runc's proc-safety rule (`checkProcMount`): `dest` is where the target resolved, as a
    /// host path (the run's `merged` directory and the path inside it).
    #[error(
        "error mounting {} to rootfs at {}: create mountpoint for {} mount: check proc-safety of {} mount: {} cannot be mounted because it {}",
        echo(from).quoted(),
        echo(target).quoted(),
        echo(target),
        echo(target),
        echo(dest).quoted(),
        if *inside { "is inside /proc" } else { "is not of type proc" }
    )]
    ProcMount { from: String, target: String, dest: String, inside: bool },
    /// Docker's copy-up of an image path that is not a directory into an empty volume
    /// (containerd continuity's `fs.CopyDir`): the host path of the image's file.
    #[error("source {} is not directory", echo(.0))]
    CopyUpNotADirectory(String),
    /// The working directory exists and is not a directory (Docker's daemon's words).
    #[error("Cannot mkdir: {} is not a directory", echo(.0))]
    WorkdirNotADirectory(String),
    #[error("error mounting {} to rootfs at {}: the target resolves to the root of the rootfs", echo(from).quoted(), echo(target).quoted())]
    TargetIsRoot { from: String, target: String },
    #[error("invalid volume subpath {} of {}: subpath escapes the volume", echo(subpath).quoted(), echo(volume).quoted())]
    SubpathEscapes { volume: String, subpath: String },
    #[error("exec: {}: executable file not found in $PATH", echo(.0).quoted())]
    NotFound(String),
    #[error("exec: {}: stat {}: no such file or directory", echo(.0).quoted(), echo(.0))]
    NoSuchFile(String),
    #[error("exec: {}: {}", echo(path).quoted(), errno_text(err))]
    Exec { path: String, err: io::Error },
    /// An image run's user, looked up in the image (runc's words).
    #[error(transparent)]
    User(#[from] UserError),
    /// A rootless run's user that its user namespace does not map.
    #[error(transparent)]
    Unmapped(#[from] userns::Unmapped),
}

/// What Docker's daemon adds to a start error that says "not a directory" (moby
/// `daemon/errors.go`).
const NOT_A_DIRECTORY_HINT: &str = ": Are you trying to mount a directory onto a file (or vice-versa)? Check if the specified host path exists and is the expected type";

impl SetupError {
    /// What kind of failure the supervisor is told of (it decides the exit status).
    pub(super) fn failure(&self) -> ChildFailure {
        match self {
            SetupError::NotFound(_) | SetupError::NoSuchFile(_) => ChildFailure::NotFound,
            SetupError::Exec { err, .. } if matches!(err.raw_os_error(), Some(libc::EACCES | libc::EISDIR)) => {
                ChildFailure::CannotExecute
            }
            SetupError::Exec { .. } => ChildFailure::Setup,
            SetupError::Step { .. }
            | SetupError::Mount { .. }
            | SetupError::TargetIsRoot { .. }
            | SetupError::SubpathEscapes { .. }
            | SetupError::ProcMount { .. }
            | SetupError::WorkdirNotADirectory(_)
            | SetupError::CopyUpNotADirectory(_)
            | SetupError::User(_)
            | SetupError::Unmapped(_) => ChildFailure::Setup,
        }
    }

    /// The errno of the system call that failed, if one did (a refusal of myvol's own rules
    /// has none).
    pub(super) fn errno(&self) -> Option<i32> {
        match self {
            SetupError::Step { source: e, .. } | SetupError::Mount { err: e, .. } | SetupError::Exec { err: e, .. } => {
                e.raw_os_error()
            }
            SetupError::NoSuchFile(_) => Some(libc::ENOENT),
            SetupError::NotFound(_)
            | SetupError::TargetIsRoot { .. }
            | SetupError::SubpathEscapes { .. }
            | SetupError::ProcMount { .. }
            | SetupError::WorkdirNotADirectory(_)
            | SetupError::CopyUpNotADirectory(_)
            | SetupError::User(_)
            | SetupError::Unmapped(_) => None,
        }
    }
}

fn step(step: impl Into<String>) -> impl FnOnce(io::Error) -> SetupError {
    let step = step.into();
    move |source| SetupError::Step { step, source }
}

fn errno(e: Errno) -> io::Error {
    e.into()
}

/// The child's entry point: set up, exec, or report and `_exit`.
pub(super) fn main(sys: &dyn Syscall, exec: &Exec<'_>, run: &RunDir, ch: ChildChannels) -> ! {
    let report = ch.report;
    let (sync, console, sources) = (ch.sync, ch.console, ch.sources);
    let userns = ch.userns.as_ref();
    let err = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let Err(e) = wait_for_maps(sync)
            .and_then(|()| setup(sys, exec, run, console, userns, &sources))
            .and_then(|p| exec_command(&p));
        e
    })) {
        Ok(e) => e,
        Err(_) => SetupError::Step { step: "set up the run".into(), source: io::Error::other("internal error") },
    };
    let rep = ChildReport { failure: err.failure(), message: err.to_string(), errno: err.errno() };
    let bytes = serde_json::to_vec(&rep).unwrap_or_default();
    let _ = rustix::io::write(&report, &bytes);
    sys::exit_now(SETUP_FAILED)
}

/// What is left to do after the root is built: everything `execve` needs, computed before
/// `pivot_root` so no lookup happens in the rootfs with privileges.
struct Ready {
    argv: Vec<CString>,
    envp: Vec<CString>,
    name: String,
    path: String,
}

fn path_str<'a>(p: &'a Path, what: &str) -> Result<&'a str, SetupError> {
    p.to_str().ok_or_else(|| SetupError::Step { step: format!("{what} {p:?}"), source: io::Error::other("not UTF-8") })
}

/// Rootless: block until the supervisor has written our id maps (one byte; EOF means it
/// failed, and it reports that itself).
fn wait_for_maps(sync: Option<OwnedFd>) -> Result<(), SetupError> {
    let Some(fd) = sync else { return Ok(()) };
    let mut b = [0u8; 1];
    loop {
        match rustix::io::read(&fd, &mut b) {
            Ok(1) => return Ok(()),
            Err(Errno::INTR) => continue,
            _ => sys::exit_now(SETUP_FAILED),
        }
    }
}

fn setup(
    sys: &dyn Syscall,
    exec: &Exec<'_>,
    run: &RunDir,
    console: Option<OwnedFd>,
    userns: Option<&userns::Plan>,
    sources: &[Option<Prepared>],
) -> Result<Ready, SetupError> {
    let rootless = userns.is_some();
    // Die with the supervisor: a SIGKILLed myvol must not leave the command running.
    rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL))
        .map_err(|e| step("set the parent-death signal")(errno(e)))?;
    // A session of its own, without a controlling terminal (as in Docker without -t): a
    // Ctrl-C from the invoker's terminal reaches the supervisor only, which forwards it once.
    rustix::process::setsid().map_err(|e| step("setsid")(errno(e)))?;
    rustix::process::umask(Mode::empty());
    // Nothing this namespace mounts may reach the host: `/` becomes private, or a slave of the
    // host's mounts when a bind asks for slave or shared propagation (runc's default), so that
    // such a bind, cloned from a slave, keeps receiving what the host mounts under its source.
    let receive =
        exec.mounts.iter().any(|m| matches!(m, MountRef::Bind(b) if mounts::receives_host_mounts(b.propagation)));
    sys.isolate_root(receive).map_err(step("make / private in the new mount namespace"))?;

    let merged =
        rfs::open(run.merged(), OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC, Mode::empty())
            .map_err(|e| step(format!("open {}", run.merged().display()))(errno(e)))?;
    let rootfs = path_str(exec.rootfs, "rootfs")?;
    let (upper, work) = (run.upper(), run.work());
    let (lowers, userxattr, from) = match &exec.image {
        Some(image) => {
            let layers = image.layers.iter().map(|l| path_str(l, "image layer")).collect::<Result<Vec<_>, _>>()?;
            (layers, image.userxattr, image.name)
        }
        None => (vec![rootfs], false, rootfs),
    };
    // An image run has the store's init layer among its layers (`plan::attach`); a rootfs
    // run makes it in its writable layer.
    if exec.etc_files && exec.image.is_none() {
        rfs::open(&upper, OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC, Mode::empty())
            .map_err(errno)
            .and_then(|fd| etc_files::make_init_layer(fd.as_fd(), false))
            .map_err(step("make the init layer"))?;
    }
    let layers = OverlayLayers {
        lowers: &lowers,
        upper: Some((path_str(&upper, "upper dir")?, path_str(&work, "work dir")?)),
        userxattr,
    };
    let root = mounts::overlay(sys, &layers, merged.as_fd()).map_err(|err| SetupError::Mount {
        from: from.to_owned(),
        target: "/".into(),
        err,
    })?;
    let root = root.as_fd();

    let mut process = std::borrow::Cow::Borrowed(exec.process);
    let own_netns = process.network == Network::None;
    let hostname = match &process.hostname {
        Some(h) => h.clone(),
        // As Docker: with the host's network, the host's name (still this UTS namespace's).
        None if exec.etc_files && !own_netns => std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map_err(step("read the host's hostname"))?
            .trim_end_matches('\n')
            .to_owned(),
        None => run.id().chars().take(12).collect(),
    };
    sys.sethostname(&hostname).map_err(step("sethostname"))?;
    if own_netns {
        sys::loopback_up().map_err(step("bring up the loopback interface"))?;
    }

    mount_proc(sys, root)?;
    let dev = mount_dev(sys, root, rootless)?;
    mount_sys(sys, root, own_netns)?;
    let merged_name = run.merged().display().to_string();
    // Read-only tmpfs mounts are made read-only last, as runc does (`finalizeRootfs`): mount
    // points of later mounts, device nodes and the working directory can still be made in them.
    let mut read_only_later = Vec::new();
    // podman's `U` in an image run: the user as podman finds it, in the image's own files
    // before the run's mounts (the process's user is looked up after them, as runc does).
    let chown_to = match process.user {
        Some(u) => u,
        None if exec.image.is_some() && exec.mounts.iter().any(|m| matches!(m, MountRef::Bind(b) if b.chown)) => {
            let u = user::resolve_in_root(root, process.user_in_image.as_deref())?;
            (u.uid, u.gid)
        }
        None => (0, 0),
    };
    for (i, &m) in exec.mounts.iter().enumerate() {
        let at = MountAt { run, index: i, merged: &merged_name, user: chown_to };
        if let Some(fd) = mount(sys, root, m, sources.get(i).and_then(Option::as_ref), &at)? {
            read_only_later.push((m.target(), fd));
        }
    }
    // Docker's network files, after the user's mounts (moby `setupMounts`).
    if exec.etc_files {
        // Opened again here: a file bound must be on a mount of this namespace.
        let dir =
            rfs::open(run.path(), OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC, Mode::empty())
                .map_err(|e| step(format!("open {}", run.path().display()))(errno(e)))?;
        etc_files::bind_all(sys, root, exec, dir.as_fd(), &hostname).map_err(|(name, err)| SetupError::Mount {
            from: run.path().join(name).display().to_string(),
            target: etc_files::target(name),
            err,
        })?;
    }
    // A mount of the user's on `/dev` replaces myvol's (it is mounted over it, and everything
    // below it is the user's). As runc does, a tmpfs there gets the device nodes and links;
    // a bind is taken as it is.
    let user_dev = exec.mounts.iter().find(|m| resolve::components(m.target()).is_ok_and(|c| c == ["dev"]));
    if let Some(MountRef::Tmpfs(_)) = user_dev {
        let fd = open_in_root(root, "/dev", OFlags::PATH | OFlags::DIRECTORY).map_err(|err| SetupError::Mount {
            from: "tmpfs".into(),
            target: "/dev".into(),
            err,
        })?;
        // As runc makes them: device nodes, which the tmpfs's `nodev` keeps from opening (a
        // rootless run, which cannot make nodes, binds the host's).
        let nodes = if rootless { DevNodes::HostBinds } else { DevNodes::Mknod };
        make_dev_nodes(sys, fd.as_fd(), nodes)?;
        make_dev_links(fd.as_fd())?;
    }
    let dev_is_bind = matches!(user_dev, Some(MountRef::Bind(_)));
    mask_paths(sys, root, dev.as_fd())?;
    if exec.image.is_some() {
        // The image's own passwd and group files, as the process will see them (its mounts
        // included), resolved inside the root: a symlink cannot lead out of the image.
        let u = user::resolve_in_root(root, process.user_in_image.as_deref())?;
        let p = process.to_mut();
        p.user = Some((u.uid, u.gid));
        // The primary group first, as Docker's daemon lists it.
        p.groups = std::iter::once(u.gid).chain(u.groups).collect();
        if !p.env.iter().any(|e| e.split_once('=').is_some_and(|(k, _)| k == "HOME")) {
            p.env.push(format!("HOME={}", u.home));
        }
    }
    let process = process.as_ref();

    let workdir = process.workdir.clone().unwrap_or_else(|| "/".to_owned());
    // runc's words (`os.MkdirAll`); a path that exists as something else, the daemon's.
    let cwd = ensure_dir_in_root(root, &workdir).map_err(step(format!("mkdir {}", echo(&workdir))))?;
    if resolve::file_type(cwd.as_fd()).map_err(step(format!("stat {}", echo(&workdir))))? != FileType::Directory {
        return Err(SetupError::WorkdirNotADirectory(workdir));
    }
    for (target, fd) in &read_only_later {
        sys.mount_setattr(fd.as_fd(), false, sys::MountAttr { set: attr::RDONLY, clear: 0, propagation: 0 })
            .map_err(step(format!("remount {} read-only", echo(target))))?;
    }
    if exec.read_only {
        sys.mount_setattr(root, false, sys::MountAttr { set: attr::RDONLY, clear: 0, propagation: 0 })
            .map_err(step("make the root read-only"))?;
    }
    let prepared = prepare_exec(process, &hostname)?;

    sys.pivot_root(root).map_err(step("pivot_root"))?;
    rustix::process::chdir(workdir.as_str())
        .map_err(|e| step(format!("chdir to cwd ({workdir:?}) set in the spec failed"))(errno(e)))?;
    // A cwd outside the root reads as "(unreachable)": getcwd fails (runc 8e1cd2f56).
    rustix::process::getcwd(Vec::new()).map_err(|e| step("check the working directory")(errno(e)))?;
    // runc's checks of the run's `/dev/null`, with its words: reopened when the `/dev` is not a
    // bind of the user's (a tmpfs mounted `nodev` fails here), then looked at in any case.
    if !dev_is_bind {
        rfs::open("/dev/null", OFlags::RDWR | OFlags::CLOEXEC, Mode::empty())
            .map_err(|e| step("error reopening /dev/null inside container: open /dev/null")(errno(e)))?;
    }
    rfs::stat("/dev/null").map_err(|e| step("unable to setup user: stat /dev/null")(errno(e)))?;
    if let Some(sock) = console {
        // Our own pty, on the run's devpts: stdin, stdout, stderr and the controlling terminal.
        tty::child_setup(sock.as_fd(), process.user).map_err(step("set up the terminal"))?;
    } else if !process.interactive {
        // As `docker run` without -i: the command reads EOF. Our own /dev/null, after pivot.
        let null = rfs::open("/dev/null", OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
            .map_err(|e| step("open /dev/null")(errno(e)))?;
        nix::unistd::dup2_stdin(&null).map_err(|e| step("redirect stdin")(e.into()))?;
    }
    // An id the user namespace does not map: said as the supervisor would have said it, had
    // it known the ids before the run (an image's user it could not look up).
    let (uid, gid) = process.user.unwrap_or((0, 0));
    if let Some(Err(e)) = userns.map(|u| u.check(uid, gid, &process.groups)) {
        return Err(SetupError::Unmapped(e));
    }
    drop_privileges(process.user, &process.groups, rootless).map_err(step("drop privileges"))?;
    Ok(prepared)
}
