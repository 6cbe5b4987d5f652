//! The root's kernel filesystems: `/proc`, `/dev` (a tmpfs with the standard nodes, bound
//! from the host when rootless) and `/sys`; then Docker's masked and read-only paths.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::fs::{self as rfs, FileType, Mode, OFlags};

use super::{SetupError, errno, step};
use crate::runtime::mounts::{self, BindOptions};
use crate::runtime::resolve::{self, ensure_top_dir, open_in_root};
use crate::sys::{self, Syscall, attr};

pub(super) fn mount_proc(sys: &dyn Syscall, root: BorrowedFd<'_>) -> Result<(), SetupError> {
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
pub(super) fn mount_dev(sys: &dyn Syscall, root: BorrowedFd<'_>, rootless: bool) -> Result<OwnedFd, SetupError> {
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
pub(super) enum DevNodes {
    /// The host's nodes, checked (a character device of the expected number) and bound one
    /// by one onto empty files: the only way the nodes of a `nodev` `/dev` open.
    HostBinds,
    /// `mknod`, as runc makes them.
    Mknod,
}

/// The device nodes Docker allows (`null zero full random urandom tty`), in the directory
/// `dev` (myvol's `/dev`, or a tmpfs the user mounted there).
pub(super) fn make_dev_nodes(sys: &dyn Syscall, dev: BorrowedFd<'_>, how: DevNodes) -> Result<(), SetupError> {
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
pub(super) fn make_dev_links(dev: BorrowedFd<'_>) -> Result<(), SetupError> {
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
pub(super) fn mount_sys(sys: &dyn Syscall, root: BorrowedFd<'_>, own_netns: bool) -> Result<(), SetupError> {
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

/// Docker's masked and read-only paths, resolved by fd inside the root. Masks are clones of
/// our own `/dev/null` (checked to be the character device 1:3) or empty read-only tmpfs.
pub(super) fn mask_paths(sys: &dyn Syscall, root: BorrowedFd<'_>, dev: BorrowedFd<'_>) -> Result<(), SetupError> {
    let null = rfs::openat(dev, "null", OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC, Mode::empty())
        .map_err(|e| step("open /dev/null")(errno(e)))?;
    let st = rfs::fstat(&null).map_err(|e| step("stat /dev/null")(errno(e)))?;
    if FileType::from_raw_mode(st.st_mode) != FileType::CharacterDevice || st.st_rdev != rfs::makedev(1, 3) {
        return Err(step("check /dev/null")(io::Error::other("not the character device 1:3")));
    }
    let mut masked: Vec<String> = crate::runtime::MASKED_PATHS.iter().map(|s| (*s).to_owned()).collect();
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
    for path in crate::runtime::READONLY_PATHS {
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
