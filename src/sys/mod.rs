//! The only place for `unsafe` and raw system calls.
//!
//! Mount-related calls go through the [`Syscall`] trait, so the executor in `src/runtime/` can be
//! unit-tested with a recording implementation that asserts the exact arguments (mount
//! sources, filesystem types, attributes, fsconfig keys and values) without mounting anything.
//! [`Linux`] is the real implementation; it uses rustix's new mount API (`open_tree`,
//! `move_mount`, `fsopen`, `fsconfig`, `fsmount`) and a small libc wrapper for
//! `mount_setattr`, which rustix lacks.
//!
//! Process-level calls that cannot be recorded meaningfully (cloning into namespaces,
//! `_exit`, `close_range`, bringing `lo` up, resetting signal dispositions) are plain
//! functions here.

pub mod copy;
pub mod disk;
#[cfg(test)]
pub mod record;

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

use rustix::mount::{self as rmount, FsMountFlags, FsOpenFlags, MountAttrFlags, MoveMountFlags, OpenTreeFlags};

/// `MOUNT_ATTR_*` values (`<linux/mount.h>`), as used by `fsmount` and `mount_setattr`.
pub mod attr {
    pub const RDONLY: u64 = libc::MOUNT_ATTR_RDONLY;
    pub const NOSUID: u64 = libc::MOUNT_ATTR_NOSUID;
    pub const NODEV: u64 = libc::MOUNT_ATTR_NODEV;
    pub const NOEXEC: u64 = libc::MOUNT_ATTR_NOEXEC;
    pub const NOATIME: u64 = libc::MOUNT_ATTR_NOATIME;
    pub const STRICTATIME: u64 = libc::MOUNT_ATTR_STRICTATIME;
    pub const NODIRATIME: u64 = libc::MOUNT_ATTR_NODIRATIME;
}

/// mount(2) flags (`MS_*`, `<linux/mount.h>`: a stable ABI), as the mount-spec grammar's tmpfs
/// options and the local driver's `o=` options give them. A unit test checks them against
/// `libc`.
pub mod ms {
    pub const RDONLY: u64 = 1;
    pub const NOSUID: u64 = 2;
    pub const NODEV: u64 = 4;
    pub const NOEXEC: u64 = 8;
    pub const SYNCHRONOUS: u64 = 16;
    pub const REMOUNT: u64 = 32;
    pub const MANDLOCK: u64 = 64;
    pub const DIRSYNC: u64 = 128;
    pub const NOATIME: u64 = 1024;
    pub const NODIRATIME: u64 = 2048;
    pub const BIND: u64 = 4096;
    pub const REC: u64 = 16384;
    pub const UNBINDABLE: u64 = 1 << 17;
    pub const PRIVATE: u64 = 1 << 18;
    pub const SLAVE: u64 = 1 << 19;
    pub const SHARED: u64 = 1 << 20;
    pub const RELATIME: u64 = 1 << 21;
    pub const STRICTATIME: u64 = 1 << 24;
}

/// Propagation types for [`MountAttr::propagation`] (`MS_*` values, as `mount_setattr` takes).
pub mod propagation {
    pub const PRIVATE: u64 = super::ms::PRIVATE;
    pub const SLAVE: u64 = super::ms::SLAVE;
    pub const SHARED: u64 = super::ms::SHARED;
}

/// What `mount_setattr(2)` is asked to change: attributes to set and to clear
/// (`MOUNT_ATTR_*`), and a propagation type (0: unchanged).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MountAttr {
    pub set: u64,
    pub clear: u64,
    pub propagation: u64,
}

/// The mount system calls the run executor makes. Every method works on file descriptors:
/// no path is resolved here except the fixed `"/"` of [`Syscall::isolate_root`].
pub trait Syscall {
    /// `open_tree(dir, path, flags)`: with `OPEN_TREE_CLONE`, a detached copy of the mount
    /// (tree, with `AT_RECURSIVE`) at `dir`/`path`.
    fn open_tree(&self, dir: BorrowedFd<'_>, path: &str, flags: OpenTreeFlags) -> io::Result<OwnedFd>;
    /// `mount_setattr(mnt, "", AT_EMPTY_PATH [| AT_RECURSIVE], attr)`.
    fn mount_setattr(&self, mnt: BorrowedFd<'_>, recursive: bool, attr: MountAttr) -> io::Result<()>;
    /// `move_mount(mnt, "", target, "", F_EMPTY_PATH | T_EMPTY_PATH)`: attach a detached
    /// mount onto the object `target` refers to.
    fn move_mount(&self, mnt: BorrowedFd<'_>, target: BorrowedFd<'_>) -> io::Result<()>;
    /// `fsopen(fstype, FSOPEN_CLOEXEC)`.
    fn fsopen(&self, fstype: &str) -> io::Result<OwnedFd>;
    /// `fsconfig(fs, FSCONFIG_SET_STRING, key, value)`.
    fn fsconfig_string(&self, fs: BorrowedFd<'_>, key: &str, value: &str) -> io::Result<()>;
    /// `fsconfig(fs, FSCONFIG_SET_FLAG, key)`.
    fn fsconfig_flag(&self, fs: BorrowedFd<'_>, key: &str) -> io::Result<()>;
    /// `fsconfig(fs, FSCONFIG_CMD_CREATE)`.
    fn fsconfig_create(&self, fs: BorrowedFd<'_>) -> io::Result<()>;
    /// `fsmount(fs, FSMOUNT_CLOEXEC, attrs)`: a detached mount of the new superblock.
    fn fsmount(&self, fs: BorrowedFd<'_>, attrs: u64) -> io::Result<OwnedFd>;
    /// `mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)` (`MS_SLAVE` with `slave`): the first
    /// call after entering a new mount namespace, so nothing we mount propagates to the host.
    fn isolate_root(&self, slave: bool) -> io::Result<()>;
    /// `fchdir(new_root); pivot_root(".", "."); umount2(".", MNT_DETACH); chdir("/")`.
    fn pivot_root(&self, new_root: BorrowedFd<'_>) -> io::Result<()>;
    /// `sethostname(name)`.
    fn sethostname(&self, name: &str) -> io::Result<()>;
    /// `mount(source, target, fstype, flags, data)`, the classic mount(2) the local driver
    /// makes for a volume's options (as Docker's does). `target` is a directory fd, reached
    /// through its `/proc/self/fd` link, so no path is resolved again; an empty `data` is
    /// passed as NULL.
    fn mount(&self, source: &str, target: BorrowedFd<'_>, fstype: &str, flags: u64, data: &str) -> io::Result<()>;
    /// `umount2(target, MNT_DETACH)`, `target` being the root of the mount (an `O_PATH` fd).
    fn unmount(&self, target: BorrowedFd<'_>) -> io::Result<()>;
    /// `ioctl(dir, FS_IOC_FSGETXATTR)`: a directory's project id and flags.
    fn fs_getxattr(&self, dir: BorrowedFd<'_>) -> io::Result<disk::FsXattr>;
    /// `ioctl(dir, FS_IOC_FSSETXATTR, x)`.
    fn fs_setxattr(&self, dir: BorrowedFd<'_>, x: &disk::FsXattr) -> io::Result<()>;
    /// `quotactl_fd(fs, cmd, id, arg)`, `fs` any file of the filesystem.
    fn quotactl(&self, fs: BorrowedFd<'_>, cmd: u32, id: u32, arg: &mut disk::QuotaArg) -> io::Result<()>;
    /// Bind the disk image `image` to a free loop device, with autoclear (the device lets go
    /// of the image once nothing holds it); `name` is the image's name, for `losetup -l`.
    fn loop_attach(&self, image: BorrowedFd<'_>, read_only: bool, name: &str) -> io::Result<disk::LoopDevice>;
}

/// The `/proc/self/fd` path of an fd, for the calls that take a path.
fn fd_path(fd: BorrowedFd<'_>) -> String {
    format!("/proc/self/fd/{}", fd.as_raw_fd())
}

/// The real system calls.
#[derive(Debug, Default, Clone, Copy)]
pub struct Linux;

fn attr_flags(attrs: u64) -> MountAttrFlags {
    MountAttrFlags::from_bits_retain(attrs as u32)
}

impl Syscall for Linux {
    fn open_tree(&self, dir: BorrowedFd<'_>, path: &str, flags: OpenTreeFlags) -> io::Result<OwnedFd> {
        Ok(rmount::open_tree(dir, path, flags)?)
    }

    fn mount_setattr(&self, mnt: BorrowedFd<'_>, recursive: bool, attr: MountAttr) -> io::Result<()> {
        let mut flags = libc::AT_EMPTY_PATH as u32;
        if recursive {
            flags |= libc::AT_RECURSIVE as u32;
        }
        mount_setattr(mnt, c"", flags, attr)
    }

    fn move_mount(&self, mnt: BorrowedFd<'_>, target: BorrowedFd<'_>) -> io::Result<()> {
        Ok(rmount::move_mount(
            mnt,
            "",
            target,
            "",
            MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH | MoveMountFlags::MOVE_MOUNT_T_EMPTY_PATH,
        )?)
    }

    fn fsopen(&self, fstype: &str) -> io::Result<OwnedFd> {
        Ok(rmount::fsopen(fstype, FsOpenFlags::FSOPEN_CLOEXEC)?)
    }

    fn fsconfig_string(&self, fs: BorrowedFd<'_>, key: &str, value: &str) -> io::Result<()> {
        Ok(rmount::fsconfig_set_string(fs, key, value)?)
    }

    fn fsconfig_flag(&self, fs: BorrowedFd<'_>, key: &str) -> io::Result<()> {
        Ok(rmount::fsconfig_set_flag(fs, key)?)
    }

    fn fsconfig_create(&self, fs: BorrowedFd<'_>) -> io::Result<()> {
        Ok(rmount::fsconfig_create(fs)?)
    }

    fn fsmount(&self, fs: BorrowedFd<'_>, attrs: u64) -> io::Result<OwnedFd> {
        Ok(rmount::fsmount(fs, FsMountFlags::FSMOUNT_CLOEXEC, attr_flags(attrs))?)
    }

    fn isolate_root(&self, slave: bool) -> io::Result<()> {
        let kind =
            if slave { rmount::MountPropagationFlags::DOWNSTREAM } else { rmount::MountPropagationFlags::PRIVATE };
        Ok(rmount::mount_change("/", kind | rmount::MountPropagationFlags::REC)?)
    }

    fn pivot_root(&self, new_root: BorrowedFd<'_>) -> io::Result<()> {
        rustix::process::fchdir(new_root)?;
        rustix::process::pivot_root(".", ".")?;
        rmount::unmount(".", rmount::UnmountFlags::DETACH)?;
        rustix::process::chdir("/")?;
        Ok(())
    }

    fn sethostname(&self, name: &str) -> io::Result<()> {
        Ok(nix::unistd::sethostname(name)?)
    }

    fn mount(&self, source: &str, target: BorrowedFd<'_>, fstype: &str, flags: u64, data: &str) -> io::Result<()> {
        let data = if data.is_empty() { None } else { Some(std::ffi::CString::new(data)?) };
        Ok(rmount::mount(
            source,
            fd_path(target).as_str(),
            fstype,
            rmount::MountFlags::from_bits_retain(flags as u32),
            data.as_deref(),
        )?)
    }

    fn unmount(&self, target: BorrowedFd<'_>) -> io::Result<()> {
        Ok(rmount::unmount(fd_path(target).as_str(), rmount::UnmountFlags::DETACH)?)
    }

    fn fs_getxattr(&self, dir: BorrowedFd<'_>) -> io::Result<disk::FsXattr> {
        disk::fs_getxattr(dir)
    }

    fn fs_setxattr(&self, dir: BorrowedFd<'_>, x: &disk::FsXattr) -> io::Result<()> {
        disk::fs_setxattr(dir, x)
    }

    fn quotactl(&self, fs: BorrowedFd<'_>, cmd: u32, id: u32, arg: &mut disk::QuotaArg) -> io::Result<()> {
        disk::quotactl_fd(fs, cmd, id, arg)
    }

    fn loop_attach(&self, image: BorrowedFd<'_>, read_only: bool, name: &str) -> io::Result<disk::LoopDevice> {
        disk::loop_attach(image, read_only, name)
    }
}

/// `mount_setattr(2)` (Linux 5.12), which neither rustix nor nix wrap.
pub fn mount_setattr(dir: BorrowedFd<'_>, path: &CStr, flags: u32, attr: MountAttr) -> io::Result<()> {
    let mut a =
        libc::mount_attr { attr_set: attr.set, attr_clr: attr.clear, propagation: attr.propagation, userns_fd: 0 };
    // SAFETY: `dir` is a live fd for the duration of the call, `path` is a NUL-terminated string
    // that outlives it, and `a` is a properly initialised `struct mount_attr` whose size we pass;
    // the kernel only reads it.
    let r = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            dir.as_raw_fd(),
            path.as_ptr(),
            flags,
            &mut a as *mut libc::mount_attr,
            std::mem::size_of::<libc::mount_attr>(),
        )
    };
    if r < 0 { Err(io::Error::last_os_error()) } else { Ok(()) }
}

/// Mark every fd from `first` up `O_CLOEXEC` (`close_range(first, ~0, CLOSE_RANGE_CLOEXEC)`),
/// so nothing myvol holds survives `execve`, while a pipe used to report an exec failure
/// stays usable until then.
pub fn cloexec_from(first: u32) -> io::Result<()> {
    // SAFETY: close_range with CLOSE_RANGE_CLOEXEC closes nothing; it only sets a flag on fds,
    // so no Rust object's fd is invalidated.
    let r = unsafe { libc::close_range(first, u32::MAX, libc::CLOSE_RANGE_CLOEXEC as libc::c_int) };
    if r < 0 { Err(io::Error::last_os_error()) } else { Ok(()) }
}

/// Which side of [`clone_into_namespaces`] we are on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forked {
    /// The new process, inside the new namespaces (PID 1 of its PID namespace).
    Child,
    /// The caller, with the child's pid.
    Parent(i32),
}

/// `clone(flags | SIGCHLD)` with fork semantics (no new stack, no shared memory): the child
/// is created directly inside the namespaces named by `flags` (`CLONE_NEW*`), so with
/// `CLONE_NEWPID` it is PID 1 of the new PID namespace while the caller stays outside.
///
/// The caller must be single-threaded ([`is_single_threaded`]): like `fork`, only the calling
/// thread is copied, and locks held by other threads would stay locked forever in the child.
pub fn clone_into_namespaces(flags: i32) -> io::Result<Forked> {
    if !is_single_threaded() {
        return Err(io::Error::other("cannot clone a multi-threaded process"));
    }
    let flags = (flags | libc::SIGCHLD) as libc::c_ulong;
    // SAFETY: without CLONE_VM and with a null stack this is fork(): the child gets a
    // copy-on-write copy of our memory and continues on (its copy of) the current stack. The
    // process is single-threaded (checked above), so no lock is held by a thread that would not
    // exist in the child. The null pointers are the optional tid/tls arguments, unused without
    // the CLONE_*TID/CLONE_SETTLS flags.
    let r = unsafe {
        libc::syscall(
            libc::SYS_clone,
            flags,
            std::ptr::null_mut::<libc::c_void>(),
            std::ptr::null_mut::<libc::c_int>(),
            std::ptr::null_mut::<libc::c_int>(),
            0 as libc::c_ulong,
        )
    };
    match r {
        r if r < 0 => Err(io::Error::last_os_error()),
        0 => Ok(Forked::Child),
        pid => Ok(Forked::Parent(pid as i32)),
    }
}

/// Whether this process has exactly one thread (`/proc/self/task` has one entry).
pub fn is_single_threaded() -> bool {
    match std::fs::read_dir("/proc/self/task") {
        Ok(d) => d.count() == 1,
        Err(_) => false,
    }
}

/// End the process now with `code`, running no destructor and no atexit handler: the child
/// side of a clone must never drop what it shares with its parent (lease guards, the run
/// directory guard), which would unlink the parent's files.
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit is always safe to call; it never returns and touches no Rust state.
    unsafe { libc::_exit(code) }
}

/// Reset every signal disposition that survives `execve` (ignored signals: Rust's runtime
/// ignores SIGPIPE) to the default, for the command about to be executed.
pub fn reset_signal_dispositions() {
    for sig in 1..libc::SIGRTMIN() {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            continue;
        }
        // SAFETY: installing SIG_DFL runs no handler code and has no memory-safety
        // requirements; failures (invalid signal numbers) are harmless and ignored.
        unsafe {
            libc::signal(sig, libc::SIG_DFL);
        }
    }
}

/// Bring the loopback interface up in the current network namespace (`SIOCSIFFLAGS` with
/// `IFF_UP`), as Docker does for `--network none`.
pub fn loopback_up() -> io::Result<()> {
    use std::os::fd::FromRawFd;
    // SAFETY: socket(2) takes no pointers; a non-negative result is a new fd that we own.
    let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `raw` was just returned by socket(2) and is owned by nothing else.
    let sock = unsafe { OwnedFd::from_raw_fd(raw) };
    // SAFETY: ifreq is a plain C struct for which all-zero bytes is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, s) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *d = *s as libc::c_char;
    }
    // SAFETY: `sock` is a live socket and `req` a valid, initialised ifreq naming "lo"; the
    // kernel writes the flags into the union field we then read.
    let r = unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req as *mut libc::ifreq) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: SIOCGIFFLAGS filled `ifru_flags`, the union member we read and update.
    unsafe {
        req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
    }
    // SAFETY: as above; SIOCSIFFLAGS only reads `req`.
    let r = unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &mut req as *mut libc::ifreq) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `sigtimedwait(set, timeout)`: the first signal of `set` (blocked by the caller) that is
/// or becomes pending within `timeout`, taken; `None` when none came.
pub fn wait_signal_timeout(
    set: &nix::sys::signal::SigSet,
    timeout: std::time::Duration,
) -> io::Result<Option<nix::sys::signal::Signal>> {
    let ts = libc::timespec { tv_sec: timeout.as_secs() as libc::time_t, tv_nsec: timeout.subsec_nanos() as _ };
    loop {
        // SAFETY: `set` is a valid sigset_t for the duration of the call, `ts` a valid
        // timespec; a null siginfo pointer is allowed (the kernel then writes nothing).
        let r = unsafe { libc::sigtimedwait(set.as_ref(), std::ptr::null_mut(), &ts) };
        if r >= 0 {
            return nix::sys::signal::Signal::try_from(r).map(Some).map_err(io::Error::from);
        }
        match io::Error::last_os_error() {
            e if e.raw_os_error() == Some(libc::EAGAIN) => return Ok(None),
            e if e.raw_os_error() == Some(libc::EINTR) => continue,
            e => return Err(e),
        }
    }
}

/// The signals process `pid` handles or ignores (`SigCgt | SigIgn` of `/proc/PID/status`;
/// bit N-1 is signal N); `None` when its status cannot be read.
pub fn signals_taken(pid: i32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status.lines().find_map(|l| l.strip_prefix(name)).and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
    };
    Some(field("SigCgt:")? | field("SigIgn:")?)
}

#[cfg(test)]
mod tests {
    use super::ms;

    #[test]
    fn ms_constants_match_libc() {
        #[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
        let pairs = [
            (ms::RDONLY, libc::MS_RDONLY as u64),
            (ms::NOSUID, libc::MS_NOSUID as u64),
            (ms::NODEV, libc::MS_NODEV as u64),
            (ms::NOEXEC, libc::MS_NOEXEC as u64),
            (ms::SYNCHRONOUS, libc::MS_SYNCHRONOUS as u64),
            (ms::REMOUNT, libc::MS_REMOUNT as u64),
            (ms::MANDLOCK, libc::MS_MANDLOCK as u64),
            (ms::DIRSYNC, libc::MS_DIRSYNC as u64),
            (ms::NOATIME, libc::MS_NOATIME as u64),
            (ms::NODIRATIME, libc::MS_NODIRATIME as u64),
            (ms::BIND, libc::MS_BIND as u64),
            (ms::REC, libc::MS_REC as u64),
            (ms::UNBINDABLE, libc::MS_UNBINDABLE as u64),
            (ms::PRIVATE, libc::MS_PRIVATE as u64),
            (ms::SLAVE, libc::MS_SLAVE as u64),
            (ms::SHARED, libc::MS_SHARED as u64),
            (ms::RELATIME, libc::MS_RELATIME as u64),
            (ms::STRICTATIME, libc::MS_STRICTATIME as u64),
        ];
        for (ours, theirs) in pairs {
            assert_eq!(ours, theirs);
        }
    }
}
