//! The plan's mounts, in order: sources opened before the run (binds, volumes, subpaths),
//! each target resolved by fd inside the root, image mounts, copy-up into empty volumes.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;
use std::sync::Arc;

use rustix::fs::{self as rfs, FileType, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

use super::{SetupError, errno, path_str, step};
use crate::runtime::mounts::{self, BindOptions, OverlayLayers};
use crate::runtime::resolve::{self, ensure_dir_in_root, ensure_file_in_root, open_in_root};
use crate::runtime::{Exec, ImageMount, MountRef, RunDir, copyup};
use crate::sys::{Syscall, attr};

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

/// A bind source opened before the run ([`crate::runtime::OpenedSource`]), made ready by the
/// supervisor before it creates the run.
pub(in crate::runtime) enum Prepared {
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
pub(in crate::runtime) fn prepare_sources(
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
pub(super) struct MountAt<'a> {
    pub(super) run: &'a RunDir,
    pub(super) index: usize,
    pub(super) merged: &'a str,
    pub(super) user: (u32, u32),
}

/// Make one mount of the plan. A read-only tmpfs is mounted writable: its fd is returned, to
/// be made read-only once everything is in place.
pub(super) fn mount(
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
                copy_up_if_empty(root, src.as_fd(), target, at.merged)?;
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
        recursion: crate::runtime::Recursion::NonRecursive,
        access: crate::runtime::Access::ReadOnly,
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
/// copy the image's content into it. When the image has something else there (a file), an
/// empty volume fails the run as Docker's copy does (`source <merged>/etc/passwd is not
/// directory`); a volume with content is left to the mount, which says "not a directory".
fn copy_up_if_empty(root: BorrowedFd<'_>, vol: BorrowedFd<'_>, target: &str, merged: &str) -> Result<(), SetupError> {
    let step = |e| step(format!("copy {target} into the volume"))(e);
    let vol = rfs::openat(vol, c".", OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
        .map_err(|e| step(e.into()))?;
    let image = match open_in_root(root, target, OFlags::RDONLY | OFlags::DIRECTORY) {
        Ok(fd) => fd,
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENOTDIR)) => {
            // A file at the target itself (a file on the way is the mount's error).
            let is_file = open_in_root(root, target, OFlags::PATH)
                .and_then(|fd| resolve::file_type(fd.as_fd()))
                .is_ok_and(|t| t != FileType::Directory);
            if is_file && copyup::is_empty_dir(vol.as_fd()).map_err(step)? {
                return Err(SetupError::CopyUpNotADirectory(format!("{merged}{}", crate::spec::clean_path(target))));
            }
            return Ok(());
        }
        Err(e) => return Err(step(e)),
    };
    if !copyup::is_empty_dir(vol.as_fd()).map_err(step)? {
        return Ok(());
    }
    copyup::copy_up(image.as_fd(), vol.as_fd()).map_err(step)
}
