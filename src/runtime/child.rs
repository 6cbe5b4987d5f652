//! The child side of a run: PID 1 of the new PID namespace, already inside new mount, UTS,
//! IPC (and maybe network) namespaces. It builds the root, drops privileges and execs the
//! command. Any failure is written to the report pipe and ends the child with `_exit`: it
//! never returns into the supervisor's code and never runs a destructor of something it shares
//! with the supervisor (leases, the run directory guard).

use std::convert::Infallible;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;
use std::sync::Arc;

use rustix::fs::{self as rfs, FileType, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;
use rustix::thread::{CapabilitySet, CapabilitySets};
use thiserror::Error;

use super::mounts::{self, BindOptions, OverlayLayers};
use super::resolve::{self, ensure_dir_in_root, ensure_file_in_root, ensure_top_dir, open_in_root};
use super::user::{self, UserError};
use super::{
    ChildChannels, ChildFailure, ChildReport, Exec, ImageMount, MountRef, Network, Process, RunDir, copyup, tty,
};
use crate::sys::{self, Syscall, attr};
use crate::text::{echo, errno_text};

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
            | SetupError::User(_) => ChildFailure::Setup,
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
            | SetupError::User(_) => None,
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
    let (sync, console, rootless, sources) = (ch.sync, ch.console, ch.rootless, ch.sources);
    let err = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let Err(e) = wait_for_maps(sync)
            .and_then(|()| setup(sys, exec, run, console, rootless, &sources))
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
    rootless: bool,
    sources: &[Option<Prepared>],
) -> Result<Ready, SetupError> {
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
    let hostname = process.hostname.clone().unwrap_or_else(|| run.id().chars().take(12).collect());
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
    drop_privileges(process.user, &process.groups, rootless).map_err(step("drop privileges"))?;
    Ok(prepared)
}

fn mount_proc(sys: &dyn Syscall, root: BorrowedFd<'_>) -> Result<(), SetupError> {
    let err = |err| SetupError::Mount { from: "proc".into(), target: "/proc".into(), err };
    let target = ensure_top_dir(root, "proc").map_err(err)?;
    let m = mounts::new_fs(sys, "proc", "", &[], attr::NOSUID | attr::NODEV | attr::NOEXEC).map_err(err)?;
    sys.move_mount(m.as_fd(), target.as_fd()).map_err(err)
}

/// A fresh tmpfs on `/dev` (nosuid, noexec, nodev, mode 0755) with the nodes Docker allows, a
/// new devpts instance, `shm`, `mqueue` and the usual links. Everything is created relative to
/// the tmpfs's fd: the image's `/dev` is hidden, never touched.
///
/// The tmpfs is `nodev`: myvol has no device cgroup, so a node the run makes there (it keeps
/// Docker's `CAP_MKNOD`) must not open, or its root could read the host's disks. The nodes it
/// needs are the host's, checked and bound one by one (a bind is its own mount, not `nodev`).
/// Rootless, the devpts gets no `gid=5` (not mapped).
fn mount_dev(sys: &dyn Syscall, root: BorrowedFd<'_>, rootless: bool) -> Result<OwnedFd, SetupError> {
    let err = |source: &str, target: &str| {
        let (source, target) = (source.to_owned(), target.to_owned());
        move |err| SetupError::Mount { from: source, target, err }
    };
    let target = ensure_top_dir(root, "dev").map_err(err("tmpfs", "/dev"))?;
    let dev = mounts::new_fs(sys, "tmpfs", "mode=755,size=65536k", &[], attr::NOSUID | attr::NOEXEC | attr::NODEV)
        .map_err(err("tmpfs", "/dev"))?;
    sys.move_mount(dev.as_fd(), target.as_fd()).map_err(err("tmpfs", "/dev"))?;
    make_dev_nodes(sys, dev.as_fd(), DevNodes::HostBinds)?;
    let pts_data =
        if rootless { "newinstance,ptmxmode=0666,mode=0620" } else { "newinstance,ptmxmode=0666,mode=0620,gid=5" };
    for (name, fstype, data, mode, attrs) in [
        ("pts", "devpts", pts_data, 0o755, attr::NOSUID | attr::NOEXEC),
        ("shm", "tmpfs", "mode=1777,size=65536k", 0o1777, attr::NOSUID | attr::NODEV | attr::NOEXEC),
        ("mqueue", "mqueue", "", 0o755, attr::NOSUID | attr::NODEV | attr::NOEXEC),
    ] {
        let path = format!("/dev/{name}");
        rfs::mkdirat(&dev, name, Mode::from_raw_mode(mode)).map_err(|e| err(fstype, &path)(errno(e)))?;
        let t = rfs::openat(
            &dev,
            name,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| err(fstype, &path)(errno(e)))?;
        let m = mounts::new_fs(sys, fstype, data, &[], attrs).map_err(err(fstype, &path))?;
        sys.move_mount(m.as_fd(), t.as_fd()).map_err(err(fstype, &path))?;
    }
    make_dev_links(dev.as_fd())?;
    Ok(dev)
}

/// How the device nodes of a `/dev` are made.
#[derive(Clone, Copy, PartialEq, Eq)]
enum DevNodes {
    /// The host's nodes, checked (a character device of the expected number) and bound one
    /// by one onto empty files: the only way the nodes of a `nodev` `/dev` open.
    HostBinds,
    /// `mknod`, as runc makes them.
    Mknod,
}

/// The device nodes Docker allows (`null zero full random urandom tty`), in the directory
/// `dev` (myvol's `/dev`, or a tmpfs the user mounted there).
fn make_dev_nodes(sys: &dyn Syscall, dev: BorrowedFd<'_>, how: DevNodes) -> Result<(), SetupError> {
    for (name, major, minor) in
        [("null", 1, 3), ("zero", 1, 5), ("full", 1, 7), ("random", 1, 8), ("urandom", 1, 9), ("tty", 5, 0)]
    {
        let path = format!("/dev/{name}");
        if how == DevNodes::HostBinds {
            bind_host_node(sys, dev, name, rfs::makedev(major, minor)).map_err(|err| SetupError::Mount {
                from: path.clone(),
                target: path.clone(),
                err,
            })?;
            continue;
        }
        rfs::mknodat(dev, name, FileType::CharacterDevice, Mode::from_raw_mode(0o666), rfs::makedev(major, minor))
            .map_err(|e| step(format!("mknod {path}"))(errno(e)))?;
    }
    Ok(())
}

/// The links of `/dev`: `ptmx` to the run's devpts, `fd`, `stdin`, `stdout`, `stderr`, `core`.
fn make_dev_links(dev: BorrowedFd<'_>) -> Result<(), SetupError> {
    for (name, to) in [
        ("ptmx", "pts/ptmx"),
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
        ("core", "/proc/kcore"),
    ] {
        rfs::symlinkat(to, dev, name).map_err(|e| step(format!("symlink /dev/{name}"))(errno(e)))?;
    }
    Ok(())
}

/// Bind the host's `/dev/NAME` onto a new empty file `NAME` in `dev`, once it is checked to be
/// the character device `rdev`; the bind is `nosuid,noexec`.
fn bind_host_node(sys: &dyn Syscall, dev: BorrowedFd<'_>, name: &str, rdev: rfs::Dev) -> io::Result<()> {
    let host = rfs::open(format!("/dev/{name}"), OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC, Mode::empty())?;
    let st = rfs::fstat(&host)?;
    if FileType::from_raw_mode(st.st_mode) != FileType::CharacterDevice || st.st_rdev != rdev {
        return Err(io::Error::other(format!("the host's /dev/{name} is not the expected character device")));
    }
    let t = rfs::openat(
        dev,
        name,
        OFlags::CREATE | OFlags::EXCL | OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o666),
    )?;
    let flags = rustix::mount::OpenTreeFlags::OPEN_TREE_CLONE
        | rustix::mount::OpenTreeFlags::OPEN_TREE_CLOEXEC
        | rustix::mount::OpenTreeFlags::AT_EMPTY_PATH;
    let m = sys.open_tree(host.as_fd(), "", flags)?;
    sys.mount_setattr(m.as_fd(), false, sys::MountAttr { set: attr::NOSUID | attr::NOEXEC, clear: 0, propagation: 0 })?;
    sys.move_mount(m.as_fd(), t.as_fd())
}

/// `/sys` read-only: a new sysfs instance when the run has its own network namespace (it
/// then shows only the run's interfaces), else a read-only recursive bind of the host's.
fn mount_sys(sys: &dyn Syscall, root: BorrowedFd<'_>, own_netns: bool) -> Result<(), SetupError> {
    let ro = attr::RDONLY | attr::NOSUID | attr::NODEV | attr::NOEXEC;
    let source = if own_netns { "sysfs" } else { "/sys" };
    let err = |err| SetupError::Mount { from: source.into(), target: "/sys".into(), err };
    let target = ensure_top_dir(root, "sys").map_err(err)?;
    if own_netns {
        let m = mounts::new_fs(sys, "sysfs", "", &[], ro).map_err(err)?;
        sys.move_mount(m.as_fd(), target.as_fd()).map_err(err)
    } else {
        let host =
            rfs::open("/sys", OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC, Mode::empty())
                .map_err(|e| err(errno(e)))?;
        let o = BindOptions::HARDENED_READ_ONLY;
        mounts::bind(sys, host.as_fd(), target.as_fd(), o).map(drop).map_err(err)
    }
}

/// Refuse a target that resolved to the root itself (e.g. through `/data -> /`).
fn check_not_root(root: BorrowedFd<'_>, target: BorrowedFd<'_>, source: &str, path: &str) -> Result<(), SetupError> {
    let mount_err = |err| SetupError::Mount { from: source.to_owned(), target: path.to_owned(), err };
    if resolve::same_inode(root, target).map_err(mount_err)? {
        return Err(SetupError::TargetIsRoot { from: source.to_owned(), target: path.to_owned() });
    }
    Ok(())
}

/// The files inside `/proc` that may be mounted over: those lxcfs emulates (runc's list).
const PROC_MOUNTABLE: &[&str] = &[
    "/proc/cpuinfo",
    "/proc/diskstats",
    "/proc/meminfo",
    "/proc/stat",
    "/proc/swaps",
    "/proc/uptime",
    "/proc/loadavg",
    "/proc/slabinfo",
    "/proc/sys/kernel/ns_last_pid",
    "/proc/sys/crypto/fips_enabled",
];

/// runc's proc-safety rule (`checkProcMount`), on the target as it resolves in the root: on
/// `/proc` itself only a procfs may be mounted (a bind whose `source` is one; never a tmpfs),
/// and inside `/proc` nothing but over the files of [`PROC_MOUNTABLE`]. The run's `/proc` is
/// a procfs of its own, so "inside" is "on a procfs". `merged` names the root in the message,
/// as runc names its rootfs.
fn check_proc_mount(
    root: BorrowedFd<'_>,
    target: &str,
    source: Option<BorrowedFd<'_>>,
    from: &str,
    merged: &str,
) -> Result<(), SetupError> {
    let mount_err = |err| SetupError::Mount { from: from.to_owned(), target: target.to_owned(), err };
    let (at, missing) = resolve::deepest_existing(root, target).map_err(mount_err)?;
    let proc = open_in_root(root, "/proc", OFlags::PATH | OFlags::DIRECTORY).map_err(mount_err)?;
    let is_proc = |fd: BorrowedFd<'_>| rfs::fstatfs(fd).map(|st| st.f_type == rfs::PROC_SUPER_MAGIC);
    let on_proc = missing.is_empty() && resolve::same_inode(at.as_fd(), proc.as_fd()).map_err(mount_err)?;
    let inside = !on_proc && is_proc(at.as_fd()).map_err(|e| mount_err(e.into()))?;
    let allowed = if on_proc {
        match source {
            Some(src) => is_proc(src).map_err(|e| mount_err(e.into()))?,
            None => false,
        }
    } else if inside {
        missing.is_empty()
            && PROC_MOUNTABLE.iter().any(|p| {
                open_in_root(root, p, OFlags::PATH)
                    .and_then(|fd| resolve::same_inode(fd.as_fd(), at.as_fd()))
                    .unwrap_or(false)
            })
    } else {
        true
    };
    if allowed {
        return Ok(());
    }
    // Where the target resolved, as a host path: the fd's own name, then what does not exist.
    let mut dest = rfs::readlink(format!("/proc/self/fd/{}", at.as_raw_fd()), Vec::new())
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| format!("{merged}{}", crate::spec::clean_path(target)));
    for c in missing {
        dest.push('/');
        dest.push_str(c);
    }
    Err(SetupError::ProcMount { from: from.to_owned(), target: target.to_owned(), dest, inside })
}

/// A bind source opened before the run ([`super::OpenedSource`]), made ready by the
/// supervisor before it creates the run.
pub(super) enum Prepared {
    /// As root: the object to bind (the volume subpath resolved beneath the checked
    /// directory) and its detached copy, cloned in the host's mount namespace. The run
    /// attaches this very tree: the source's path is not looked up again.
    Tree { src: OwnedFd, tree: OwnedFd },
    /// Rootless (cloning mounts outside the run's namespaces needs privileges): the checked
    /// directory. The run looks its path up again, refusing any symlink, and binds it only if
    /// it is this very directory.
    Verify { checked: Arc<OwnedFd> },
}

/// For every bind with an opened source, what the run needs to bind exactly that source (by
/// mount index; `None` for the other mounts). Runs in the supervisor, before the clone.
pub(super) fn prepare_sources(
    sys: &dyn Syscall,
    exec: &Exec<'_>,
    rootless: bool,
) -> Result<Vec<Option<Prepared>>, SetupError> {
    let mut out = Vec::with_capacity(exec.mounts.len());
    for &m in &exec.mounts {
        let MountRef::Bind(b) = m else {
            out.push(None);
            continue;
        };
        let Some(opened) = &b.opened else {
            out.push(None);
            continue;
        };
        let src_name = b.source.display().to_string();
        let err = |err| SetupError::Mount { from: src_name.clone(), target: b.target.clone(), err };
        let checked =
            opened.get().ok_or_else(|| err(io::Error::other("the source was closed before the run started")))?;
        if rootless {
            out.push(Some(Prepared::Verify { checked }));
            continue;
        }
        let src = match &b.subpath {
            None => checked.try_clone().map_err(err)?,
            Some(sp) => subpath_of(checked.as_fd(), sp, &src_name, err)?,
        };
        let tree = mounts::clone_tree(sys, src.as_fd(), b.recursion).map_err(err)?;
        out.push(Some(Prepared::Tree { src, tree }));
    }
    Ok(out)
}

/// A volume subpath beneath `vol`, as an error of the run's setup when it escapes.
fn subpath_of(
    vol: BorrowedFd<'_>,
    subpath: &str,
    volume: &str,
    err: impl FnOnce(io::Error) -> SetupError,
) -> Result<OwnedFd, SetupError> {
    open_subpath(vol, subpath).map_err(|e| match e.raw_os_error() {
        Some(libc::EXDEV) => SetupError::SubpathEscapes { volume: volume.to_owned(), subpath: subpath.to_owned() },
        _ => err(e),
    })
}

/// A bind's source opened by the run itself: by path (a source the runtime was given as a
/// path: the store's, the user's; a symlink is followed, as mount(2) follows it for Docker),
/// or, for a checked source of a rootless run, by path again with every symlink refused and
/// checked to be the very directory the supervisor holds.
fn open_source(path: &Path, verify: Option<&Arc<OwnedFd>>) -> io::Result<OwnedFd> {
    let Some(checked) = verify else {
        return Ok(rfs::open(path, OFlags::PATH | OFlags::CLOEXEC, Mode::empty())?);
    };
    let rel = path.strip_prefix("/").map_err(|_| io::Error::from(Errno::INVAL))?;
    let root = rfs::open("/", OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())?;
    let fd =
        crate::fsutil::open_beneath(root.as_fd(), rel.as_os_str(), OFlags::PATH | OFlags::DIRECTORY, Mode::empty())?;
    if !resolve::same_inode(fd.as_fd(), checked.as_fd())? {
        return Err(io::Error::other("the source is no longer the directory that was checked"));
    }
    Ok(fd)
}

/// Where a mount of the plan is made: the run, the mount's index in it (an image mount's
/// staging directory), the merged root's name (for errors) and the user `U` gives sources to.
struct MountAt<'a> {
    run: &'a RunDir,
    index: usize,
    merged: &'a str,
    user: (u32, u32),
}

/// Make one mount of the plan. A read-only tmpfs is mounted writable: its fd is returned, to
/// be made read-only once everything is in place.
fn mount(
    sys: &dyn Syscall,
    root: BorrowedFd<'_>,
    m: MountRef<'_>,
    prepared: Option<&Prepared>,
    at: &MountAt<'_>,
) -> Result<Option<OwnedFd>, SetupError> {
    match m {
        MountRef::Image(image) => {
            check_proc_mount(root, &image.target, None, &image.image, at.merged)?;
            mount_image(sys, root, image, at.run, at.index).map(|()| None)
        }
        MountRef::Tmpfs(t) => {
            let target = &t.target;
            let err = |err| SetupError::Mount { from: "tmpfs".into(), target: target.clone(), err };
            check_proc_mount(root, target, None, "tmpfs", at.merged)?;
            let fd = ensure_dir_in_root(root, target).map_err(err)?;
            check_not_root(root, fd.as_fd(), "tmpfs", target)?;
            let read_only = t.flags & crate::sys::ms::RDONLY != 0;
            let mnt = mounts::tmpfs(sys, fd.as_fd(), t.flags & !crate::sys::ms::RDONLY, &t.data).map_err(err)?;
            Ok(read_only.then_some(mnt))
        }
        MountRef::Bind(b) => {
            let (source, target) = (&b.source, &b.target);
            let src_name = source.display().to_string();
            let err = |err| SetupError::Mount { from: src_name.clone(), target: target.clone(), err };
            // The source is opened once (or was, by the supervisor); the mount is made from
            // this very fd, or is the tree the supervisor cloned from it.
            let opened;
            let (src, tree) = match prepared {
                Some(Prepared::Tree { src, tree }) => (src.as_fd(), Some(tree.as_fd())),
                other => {
                    let verify = match other {
                        Some(Prepared::Verify { checked }) => Some(checked),
                        _ => None,
                    };
                    let src = open_source(source, verify).map_err(err)?;
                    opened = match &b.subpath {
                        None => src,
                        Some(sp) => subpath_of(src.as_fd(), sp, &src_name, err)?,
                    };
                    (opened.as_fd(), None)
                }
            };
            check_proc_mount(root, target, Some(src), &src_name, at.merged)?;
            let ftype = resolve::file_type(src.as_fd()).map_err(err)?;
            if ftype == FileType::Directory && b.copy_up {
                copy_up_if_empty(root, src.as_fd(), target)
                    .map_err(|e| step(format!("copy {target} into the volume"))(e))?;
            }
            // After the copy-up, which gives the volume the image directory's owners.
            if b.chown {
                let user = at.user;
                chown_source(src.as_fd(), ftype == FileType::Directory, user)
                    .map_err(|e| step(format!("chown {src_name} to {}:{}", user.0, user.1))(e))?;
            }
            let t = if ftype == FileType::Directory {
                ensure_dir_in_root(root, target)
            } else {
                ensure_file_in_root(root, target)
            }
            .map_err(err)?;
            check_not_root(root, t.as_fd(), &src_name, target)?;
            // A directory onto a file or a file onto a directory: the kernel's `move_mount`
            // says `EINVAL`; mount(2), as runc calls it, `ENOTDIR`, which Docker explains.
            if (ftype == FileType::Directory) != (resolve::file_type(t.as_fd()).map_err(err)? == FileType::Directory) {
                return Err(err(io::Error::from_raw_os_error(libc::ENOTDIR)));
            }
            let o = BindOptions {
                recursion: b.recursion,
                access: b.access,
                extra: 0,
                propagation: mounts::propagation_type(b.propagation),
            };
            match tree {
                Some(tree) => mounts::attach(sys, tree, t.as_fd(), o).map_err(err)?,
                None => mounts::bind(sys, src, t.as_fd(), o).map(drop).map_err(err)?,
            }
            Ok(None)
        }
    }
}

/// An image, read-only, at its target: its layers stacked in a read-only overlay (the layer
/// itself when there is one), `nodev`. With `image-subpath`, the overlay is first attached
/// on a staging directory of the run directory (in the run's mount namespace only), the
/// subpath resolved inside it (the image's symlinks cannot leave it) and bound alone.
fn mount_image(
    sys: &dyn Syscall,
    root: BorrowedFd<'_>,
    image: &ImageMount,
    run: &RunDir,
    index: usize,
) -> Result<(), SetupError> {
    let target = &image.target;
    let err = |err| SetupError::Mount { from: image.image.clone(), target: target.clone(), err };
    let t = ensure_dir_in_root(root, target).map_err(err)?;
    check_not_root(root, t.as_fd(), &image.image, target)?;
    let read_only = BindOptions {
        recursion: super::Recursion::NonRecursive,
        access: super::Access::ReadOnly,
        extra: 0,
        propagation: mounts::propagation_type(crate::spec::Propagation::Rprivate),
    };
    let top = if let [layer] = image.layers.as_slice() {
        rfs::open(layer, OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC, Mode::empty())
            .map_err(|e| err(errno(e)))?
    } else {
        let lowers = image.layers.iter().map(|l| path_str(l, "image layer")).collect::<Result<Vec<_>, _>>()?;
        let layers = OverlayLayers { lowers: &lowers, upper: None, userxattr: image.userxattr };
        let ov = mounts::overlay_fs(sys, &layers, attr::RDONLY).map_err(err)?;
        let Some(_) = &image.subpath else {
            return sys.move_mount(ov.as_fd(), t.as_fd()).map_err(err);
        };
        let staging = run.staging(index);
        rfs::mkdir(&staging, Mode::from_raw_mode(0o700)).map_err(|e| err(errno(e)))?;
        let s =
            rfs::open(&staging, OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC, Mode::empty())
                .map_err(|e| err(errno(e)))?;
        sys.move_mount(ov.as_fd(), s.as_fd()).map_err(err)?;
        rfs::open(&staging, OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC, Mode::empty())
            .map_err(|e| err(errno(e)))?
    };
    let src = match &image.subpath {
        None => top,
        Some(sp) => open_in_root(top.as_fd(), &format!("/{sp}"), OFlags::PATH | OFlags::DIRECTORY).map_err(err)?,
    };
    mounts::bind(sys, src.as_fd(), t.as_fd(), read_only).map(drop).map_err(err)
}

/// podman's `U`: give a bind's source (`src`, an `O_PATH` fd) to `user`: a directory with
/// everything beneath it ([`crate::fsutil::chown_tree`]), a file itself.
fn chown_source(src: BorrowedFd<'_>, dir: bool, user: (u32, u32)) -> io::Result<()> {
    let (uid, gid) = (Some(rfs::Uid::from_raw(user.0)), Some(rfs::Gid::from_raw(user.1)));
    if !dir {
        return Ok(rfs::chownat(src, "", uid, gid, rfs::AtFlags::EMPTY_PATH | rfs::AtFlags::SYMLINK_NOFOLLOW)?);
    }
    let d = rfs::openat(src, c".", OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())?;
    crate::fsutil::chown_tree(d.as_fd(), user.0, user.1).map(drop)
}

/// A volume subpath, resolved beneath the volume: relative links inside work, anything that
/// leaves the volume (absolute links, `..` above it) fails with `EXDEV`.
fn open_subpath(vol: BorrowedFd<'_>, subpath: &str) -> io::Result<OwnedFd> {
    for _ in 0..64 {
        match rfs::openat2(
            vol,
            subpath,
            OFlags::PATH | OFlags::CLOEXEC,
            Mode::empty(),
            ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS,
        ) {
            Err(Errno::AGAIN) => continue,
            other => return other.map_err(io::Error::from),
        }
    }
    Err(Errno::AGAIN.into())
}

/// Docker's copy-up: when the image has a directory at `target` and the volume is empty,
/// copy the image's content into it.
fn copy_up_if_empty(root: BorrowedFd<'_>, vol: BorrowedFd<'_>, target: &str) -> io::Result<()> {
    let image = match open_in_root(root, target, OFlags::RDONLY | OFlags::DIRECTORY) {
        Ok(fd) => fd,
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENOTDIR)) => return Ok(()),
        Err(e) => return Err(e),
    };
    let vol = rfs::openat(vol, c".", OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())?;
    if !copyup::is_empty_dir(vol.as_fd())? {
        return Ok(());
    }
    copyup::copy_up(image.as_fd(), vol.as_fd())
}

/// Docker's masked and read-only paths, resolved by fd inside the root. Masks are clones of
/// our own `/dev/null` (checked to be the character device 1:3) or empty read-only tmpfs.
fn mask_paths(sys: &dyn Syscall, root: BorrowedFd<'_>, dev: BorrowedFd<'_>) -> Result<(), SetupError> {
    let null = rfs::openat(dev, "null", OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC, Mode::empty())
        .map_err(|e| step("open /dev/null")(errno(e)))?;
    let st = rfs::fstat(&null).map_err(|e| step("stat /dev/null")(errno(e)))?;
    if FileType::from_raw_mode(st.st_mode) != FileType::CharacterDevice || st.st_rdev != rfs::makedev(1, 3) {
        return Err(step("check /dev/null")(io::Error::other("not the character device 1:3")));
    }
    let mut masked: Vec<String> = super::MASKED_PATHS.iter().map(|s| (*s).to_owned()).collect();
    if let Ok(cpus) = open_in_root(root, "/sys/devices/system/cpu", OFlags::RDONLY | OFlags::DIRECTORY) {
        for (name, _) in crate::fsutil::list_dir(cpus.as_fd()).unwrap_or_default() {
            let name = String::from_utf8_lossy(&name);
            if name.starts_with("cpu") && name[3..].bytes().all(|b| b.is_ascii_digit()) && name.len() > 3 {
                masked.push(format!("/sys/devices/system/cpu/{name}/thermal_throttle"));
            }
        }
    }
    for path in &masked {
        let err = |err| SetupError::Mount { from: "mask".into(), target: path.clone(), err };
        let t = match open_in_root(root, path, OFlags::PATH | OFlags::NOFOLLOW) {
            Ok(t) => t,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => continue,
            Err(e) => return Err(err(e)),
        };
        if resolve::file_type(t.as_fd()).map_err(err)? == FileType::Directory {
            let m = mounts::new_fs(sys, "tmpfs", "", &[], attr::RDONLY | attr::NOSUID | attr::NODEV | attr::NOEXEC)
                .map_err(err)?;
            sys.move_mount(m.as_fd(), t.as_fd()).map_err(err)?;
        } else {
            let flags = rustix::mount::OpenTreeFlags::OPEN_TREE_CLONE
                | rustix::mount::OpenTreeFlags::OPEN_TREE_CLOEXEC
                | rustix::mount::OpenTreeFlags::AT_EMPTY_PATH;
            let m = sys.open_tree(null.as_fd(), "", flags).map_err(err)?;
            sys.move_mount(m.as_fd(), t.as_fd()).map_err(err)?;
        }
    }
    for path in super::READONLY_PATHS {
        let err = |err| SetupError::Mount { from: (*path).into(), target: (*path).into(), err };
        let t = match open_in_root(root, path, OFlags::PATH | OFlags::NOFOLLOW) {
            Ok(t) => t,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => continue,
            Err(e) => return Err(err(e)),
        };
        let o = BindOptions::HARDENED_READ_ONLY;
        mounts::bind(sys, t.as_fd(), t.as_fd(), o).map_err(err)?;
    }
    Ok(())
}

fn cstring(s: &str) -> CString {
    // validate() refused NUL bytes in every string of the process.
    CString::new(s).unwrap_or_default()
}

fn prepare_exec(process: &Process, hostname: &str) -> Result<Ready, SetupError> {
    // Docker's order (`CreateDaemonEnvironment`): PATH (the process's own, in place of the
    // default), HOSTNAME, then the rest.
    let mut env: Vec<String> = Vec::new();
    let has = |env: &[String], k: &str| env.iter().any(|e| e.split_once('=').is_some_and(|(key, _)| key == k));
    let own_path = process.env.iter().rev().find(|e| e.starts_with("PATH="));
    env.push(own_path.cloned().unwrap_or_else(|| format!("PATH={DEFAULT_PATH}")));
    env.push(format!("HOSTNAME={hostname}"));
    env.extend(process.env.iter().filter(|e| !e.starts_with("HOSTNAME=") && !e.starts_with("PATH=")).cloned());
    if !has(&env, "HOME") {
        let uid = process.user.map(|u| u.0).unwrap_or(0);
        env.push(if uid == 0 { "HOME=/root".to_owned() } else { "HOME=/".to_owned() });
    }
    let path = env.iter().rev().find_map(|e| e.strip_prefix("PATH=")).unwrap_or(DEFAULT_PATH).to_owned();
    Ok(Ready {
        argv: process.command.iter().map(|a| cstring(a)).collect(),
        envp: env.iter().map(|e| cstring(e)).collect(),
        name: process.command[0].clone(),
        path,
    })
}

/// Drop the bounding set to Docker's defaults, clear the ambient set, switch to the run's
/// uid/gid (no supplementary groups) and leave Docker's set effective only for uid 0.
fn drop_privileges(user: Option<(u32, u32)>, groups: &[u32], rootless: bool) -> io::Result<()> {
    let keep = default_caps();
    for n in 0..64u32 {
        let cap = CapabilitySet::from_bits_retain(1 << n);
        if keep.contains(cap) {
            continue;
        }
        match rustix::thread::remove_capability_from_bounding_set(cap) {
            Ok(()) => {}
            Err(Errno::INVAL) => break, // past the kernel's last capability
            Err(e) => return Err(e.into()),
        }
    }
    match rustix::thread::clear_ambient_capability_set() {
        Ok(()) | Err(Errno::INVAL) => {}
        Err(e) => return Err(e.into()),
    }
    let (uid, gid) = user.unwrap_or((0, 0));
    let groups: Vec<nix::unistd::Gid> = groups.iter().map(|g| nix::unistd::Gid::from_raw(*g)).collect();
    match nix::unistd::setgroups(&groups) {
        // A user namespace with `setgroups` denied (the single rootless mapping): the process
        // has no supplementary group to drop, and may set none, as runc silently sets none.
        Err(nix::errno::Errno::EPERM) if rootless => {}
        r => r?,
    }
    let g = nix::unistd::Gid::from_raw(gid);
    nix::unistd::setresgid(g, g, g)?;
    let u = nix::unistd::Uid::from_raw(uid);
    nix::unistd::setresuid(u, u, u)?;
    let caps = if uid == 0 { keep } else { CapabilitySet::empty() };
    rustix::thread::set_capabilities(
        None,
        CapabilitySets { effective: caps, permitted: caps, inheritable: CapabilitySet::empty() },
    )?;
    Ok(())
}

/// The last steps: restore what the command should inherit (umask 022, default signal
/// dispositions, an empty signal mask), find the command as runc does (Go's `exec.LookPath`:
/// a name with a `/` as it is, else the first executable file of that name in `PATH`), mark
/// every fd but 0–2 close-on-exec, and exec.
///
/// A failure to find the command is the run's failure, reported to the supervisor. Once it
/// is found, the run counts as started, as in Docker: if `execve` itself fails (a file of an
/// unknown format, a script whose interpreter is missing), the message goes to the command's
/// own stderr and the status is 255, as runc's init ends.
fn exec_command(p: &Ready) -> Result<Infallible, SetupError> {
    rustix::process::umask(Mode::from_raw_mode(0o022));
    sys::reset_signal_dispositions();
    let _ = nix::sys::signal::sigprocmask(
        nix::sys::signal::SigmaskHow::SIG_SETMASK,
        Some(&nix::sys::signal::SigSet::empty()),
        None,
    );
    let path = look_path(p)?;
    sys::cloexec_from(3).map_err(step("mark file descriptors close-on-exec"))?;
    let e = nix::unistd::execve(&cstring(&path), &p.argv, &p.envp).unwrap_err();
    let line = format!("exec {}: {}\n", echo(&path), errno_text(&e.into()));
    let _ = rustix::io::write(rustix::stdio::stderr(), line.as_bytes());
    sys::exit_now(LATE_EXEC_FAILED)
}

/// The status of a run whose `execve` failed after the command was found (runc's init).
const LATE_EXEC_FAILED: i32 = 255;

/// Go's `exec.LookPath` in the run: the path to execute, or why there is none.
fn look_path(p: &Ready) -> Result<String, SetupError> {
    if p.name.contains('/') {
        return match find_executable(&p.name) {
            Ok(()) => Ok(p.name.clone()),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Err(SetupError::NoSuchFile(p.name.clone())),
            Err(err) => Err(SetupError::Exec { path: p.name.clone(), err }),
        };
    }
    for dir in p.path.split(':') {
        let dir = if dir.is_empty() { "." } else { dir };
        let full = format!("{}/{}", dir.trim_end_matches('/'), p.name);
        if find_executable(&full).is_ok() {
            return Ok(full);
        }
    }
    Err(SetupError::NotFound(p.name.clone()))
}

/// Go's `findExecutable`: the file exists, is not a directory, and may be executed.
fn find_executable(path: &str) -> io::Result<()> {
    let st = rfs::stat(path)?;
    if FileType::from_raw_mode(st.st_mode) == FileType::Directory {
        return Err(io::Error::from_raw_os_error(libc::EISDIR));
    }
    rfs::access(path, rfs::Access::EXEC_OK)?;
    Ok(())
}
