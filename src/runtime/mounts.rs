//! The mount executor's building blocks, each a short sequence of new-mount-API calls through
//! the [`Syscall`] trait: sources and targets are file descriptors, and attributes (`ro`,
//! `nodev`, …) are set on the detached mount before it becomes visible.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::mount::OpenTreeFlags;

use super::{Access, Recursion};
use crate::spec::Propagation;
use crate::sys::{MountAttr, Syscall, attr, ms, propagation};

/// A mount(2) flag word (`MS_*`, as [`crate::spec::parse_tmpfs_options`] gives) as
/// `MOUNT_ATTR_*` attributes; superblock flags (`sync`, `dirsync`) are returned apart, as
/// fsconfig flag names.
pub fn ms_to_attrs(flags: u64) -> (u64, Vec<&'static str>) {
    let mut a = 0;
    for (m, at) in [
        (ms::RDONLY, attr::RDONLY),
        (ms::NOSUID, attr::NOSUID),
        (ms::NODEV, attr::NODEV),
        (ms::NOEXEC, attr::NOEXEC),
        (ms::NOATIME, attr::NOATIME),
        (ms::STRICTATIME, attr::STRICTATIME),
        (ms::NODIRATIME, attr::NODIRATIME),
    ] {
        if flags & m != 0 {
            a |= at;
        }
    }
    let mut sb = Vec::new();
    if flags & ms::SYNCHRONOUS != 0 {
        sb.push("sync");
    }
    if flags & ms::DIRSYNC != 0 {
        sb.push("dirsync");
    }
    (a, sb)
}

/// A bind's propagation mode as the `MS_*` propagation type `mount_setattr` takes. Whether it
/// reaches the submounts (`r…`) follows the bind's [`Recursion`], set by the same call.
pub fn propagation_type(p: Propagation) -> u64 {
    match p {
        Propagation::Private | Propagation::Rprivate => propagation::PRIVATE,
        Propagation::Slave | Propagation::Rslave => propagation::SLAVE,
        Propagation::Shared | Propagation::Rshared => propagation::SHARED,
    }
}

/// Whether a bind with this propagation receives what the host mounts below its source
/// (slave and shared ones), which needs the run's `/` to be a slave, not private.
pub fn receives_host_mounts(p: Propagation) -> bool {
    propagation_type(p) != propagation::PRIVATE
}

/// What a bind mount should look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BindOptions {
    pub recursion: Recursion,
    pub access: Access,
    /// Extra `MOUNT_ATTR_*` to set (`nodev` is always set).
    pub extra: u64,
    /// `MS_PRIVATE`, `MS_SLAVE` or `MS_SHARED`.
    pub propagation: u64,
}

impl BindOptions {
    /// A recursive, read-only, `nosuid,noexec,nodev`, private bind: `/sys` outside a network
    /// namespace of our own, and Docker's read-only `/proc` paths.
    pub const HARDENED_READ_ONLY: BindOptions = BindOptions {
        recursion: Recursion::Recursive,
        access: Access::ReadOnly,
        extra: attr::NOSUID | attr::NOEXEC,
        propagation: propagation::PRIVATE,
    };
}

/// Bind `src` (an fd of the object to bind, e.g. `O_PATH`) onto `target`: clone it with
/// `open_tree` (the whole tree when [`Recursion::Recursive`]), set `nodev` and, when read-only,
/// `MOUNT_ATTR_RDONLY` on the detached copy (on the whole tree, submounts included, unless
/// [`Access::ReadOnlyTop`]), attach it with `move_mount`, then set its propagation.
pub fn bind(sys: &dyn Syscall, src: BorrowedFd<'_>, target: BorrowedFd<'_>, o: BindOptions) -> io::Result<OwnedFd> {
    let mnt = clone_tree(sys, src, o.recursion)?;
    attach(sys, mnt.as_fd(), target, o)?;
    Ok(mnt)
}

/// The first half of [`bind`]: a detached copy of the mount at `src` (its whole tree when
/// [`Recursion::Recursive`]). Made in one mount namespace, it can be attached in another:
/// the supervisor clones a plugin's checked mountpoint this way for the run.
pub fn clone_tree(sys: &dyn Syscall, src: BorrowedFd<'_>, recursion: Recursion) -> io::Result<OwnedFd> {
    let mut flags = OpenTreeFlags::OPEN_TREE_CLONE | OpenTreeFlags::OPEN_TREE_CLOEXEC | OpenTreeFlags::AT_EMPTY_PATH;
    if recursion == Recursion::Recursive {
        flags |= OpenTreeFlags::AT_RECURSIVE;
    }
    sys.open_tree(src, "", flags)
}

/// The second half of [`bind`]: set the attributes of the detached tree `mnt`, attach it on
/// `target`, then set its propagation.
pub fn attach(sys: &dyn Syscall, mnt: BorrowedFd<'_>, target: BorrowedFd<'_>, o: BindOptions) -> io::Result<()> {
    let recursive = o.recursion == Recursion::Recursive;
    let mut set = attr::NODEV | o.extra;
    let top_only_read_only = o.access == Access::ReadOnlyTop && recursive;
    if o.access != Access::ReadWrite && !top_only_read_only {
        set |= attr::RDONLY;
    }
    sys.mount_setattr(mnt, recursive, MountAttr { set, clear: 0, propagation: 0 })?;
    if top_only_read_only {
        // `bind-recursive=writable`: the bind itself read-only, its submounts as they are.
        sys.mount_setattr(mnt, false, MountAttr { set: attr::RDONLY, clear: 0, propagation: 0 })?;
    }
    sys.move_mount(mnt, target)?;
    sys.mount_setattr(mnt, recursive, MountAttr { set: 0, clear: 0, propagation: o.propagation })?;
    Ok(())
}

/// Create a new filesystem of `fstype` with `data` (`key=value` and bare flags, comma
/// separated, as mount(2)'s data string) and extra fsconfig flags, and return it as a
/// detached mount with `attrs`.
pub fn new_fs(sys: &dyn Syscall, fstype: &str, data: &str, sb_flags: &[&str], attrs: u64) -> io::Result<OwnedFd> {
    let fs = sys.fsopen(fstype)?;
    let ctx = |what: &str, e: io::Error| {
        io::Error::new(e.kind(), format!("{fstype} option {what:?}: {}", crate::text::errno_text(&e)))
    };
    for item in data.split(',').filter(|s| !s.is_empty()) {
        match item.split_once('=') {
            Some((k, v)) => sys.fsconfig_string(fs.as_fd(), k, v),
            None => sys.fsconfig_flag(fs.as_fd(), item),
        }
        .map_err(|e| ctx(item, e))?;
    }
    for f in sb_flags {
        sys.fsconfig_flag(fs.as_fd(), f).map_err(|e| ctx(f, e))?;
    }
    sys.fsconfig_create(fs.as_fd())?;
    sys.fsmount(fs.as_fd(), attrs)
}

/// A tmpfs onto `target`: `flags` are mount(2) flags (Docker's `noexec,nosuid,nodev`
/// defaults merged with the user's), `data` the tmpfs options (`size=…,mode=…`). `nodev` is
/// always set. Its source is `tmpfs`, as runc's (what `/proc/mounts` and `df` show).
pub fn tmpfs(sys: &dyn Syscall, target: BorrowedFd<'_>, flags: u64, data: &str) -> io::Result<OwnedFd> {
    let (attrs, sb) = ms_to_attrs(flags);
    let data = if data.is_empty() { "source=tmpfs".to_owned() } else { format!("source=tmpfs,{data}") };
    let mnt = new_fs(sys, "tmpfs", &data, &sb, attrs | attr::NODEV)?;
    sys.move_mount(mnt.as_fd(), target)?;
    Ok(mnt)
}

/// What an overlay stacks: its lower directories, **top first** (a rootfs directory, or an
/// image's layers), and for a writable overlay its upper and work directories (`work` is
/// overlayfs's scratch directory, on the upper's filesystem).
#[derive(Debug, Clone, Copy)]
pub struct OverlayLayers<'a> {
    pub lowers: &'a [&'a str],
    pub upper: Option<(&'a str, &'a str)>,
    /// The layers mark whiteouts and opaque directories with `user.overlay.*` xattrs (a
    /// rootless image store): mount with `userxattr`.
    pub userxattr: bool,
}

/// A new overlay as a detached mount with `attrs` (always with `nodev`, so a device node
/// shipped in an image cannot be opened).
pub fn overlay_fs(sys: &dyn Syscall, layers: &OverlayLayers<'_>, attrs: u64) -> io::Result<OwnedFd> {
    let fs = sys.fsopen("overlay")?;
    // `lowerdir+` (Linux 6.8) takes one layer per call, each below the previous ones, and
    // needs no escaping; older kernels get `lowerdir` with overlayfs's escapes for
    // backslash, `:` and `,`, the layers joined with `:`.
    for (i, lower) in layers.lowers.iter().enumerate() {
        if let Err(e) = sys.fsconfig_string(fs.as_fd(), "lowerdir+", lower) {
            if i > 0 || e.raw_os_error() != Some(libc::EINVAL) {
                return Err(e);
            }
            let escape = |l: &str| -> String {
                l.chars().flat_map(|c| if matches!(c, '\\' | ':' | ',') { vec!['\\', c] } else { vec![c] }).collect()
            };
            let joined: Vec<String> = layers.lowers.iter().map(|l| escape(l)).collect();
            sys.fsconfig_string(fs.as_fd(), "lowerdir", &joined.join(":"))?;
            break;
        }
    }
    if let Some((upper, work)) = layers.upper {
        sys.fsconfig_string(fs.as_fd(), "upperdir", upper)?;
        sys.fsconfig_string(fs.as_fd(), "workdir", work)?;
        // The upper layer is thrown away when the run ends (or by the next mutation after a
        // crash), so nothing in it needs to reach the disk: `volatile` (Linux 5.10) spares
        // the sync of the upper's whole filesystem that unmounting the overlay otherwise does
        // when the run's mount namespace goes (a journal commit and a disk flush, on the
        // path between the command's exit and myvol's). An older kernel refuses it: synced.
        match sys.fsconfig_flag(fs.as_fd(), "volatile") {
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {}
            other => other?,
        }
    }
    if layers.userxattr {
        sys.fsconfig_flag(fs.as_fd(), "userxattr")?;
    }
    sys.fsconfig_create(fs.as_fd())?;
    sys.fsmount(fs.as_fd(), attrs | attr::NODEV)
}

/// The overlay that keeps the rootfs (or the image) untouched: the lower directories
/// read-only, writes to the upper one; mounted on `target`.
pub fn overlay(sys: &dyn Syscall, layers: &OverlayLayers<'_>, target: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    let mnt = overlay_fs(sys, layers, attr::NODEV)?;
    sys.move_mount(mnt.as_fd(), target)?;
    Ok(mnt)
}

/// Docker's masked paths (daemon/pkg/oci/defaults.go), hidden with `/dev/null` (files) or an
/// empty read-only tmpfs (directories).
pub const MASKED_PATHS: &[&str] = &[
    "/proc/acpi",
    "/proc/asound",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// Docker's read-only paths: bound onto themselves read-only.
pub const READONLY_PATHS: &[&str] = &["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::record::{Call, Recorder};
    use rustix::fs::{Mode, OFlags};

    fn dir_fd(p: &std::path::Path) -> OwnedFd {
        rustix::fs::open(p, OFlags::PATH | OFlags::CLOEXEC, Mode::empty()).unwrap()
    }

    #[test]
    fn tmpfs_with_docker_defaults_and_a_size() {
        let t = tempfile::tempdir().unwrap();
        let target = dir_fd(t.path());
        let opts = crate::spec::parse_tmpfs_options(&["size=1m".to_owned(), "mode=1777".to_owned()]).unwrap();
        let rec = Recorder::new();
        tmpfs(&rec, target.as_fd(), opts.flags, &opts.data).unwrap();
        let tp = t.path().to_string_lossy().into_owned();
        assert_eq!(
            rec.take(),
            vec![
                Call::Fsopen("tmpfs".into()),
                Call::FsconfigString { fs: "fs-1".into(), key: "source".into(), value: "tmpfs".into() },
                Call::FsconfigString { fs: "fs-1".into(), key: "size".into(), value: "1m".into() },
                Call::FsconfigString { fs: "fs-1".into(), key: "mode".into(), value: "1777".into() },
                Call::FsconfigCreate { fs: "fs-1".into() },
                Call::Fsmount { fs: "fs-1".into(), attrs: attr::NOEXEC | attr::NOSUID | attr::NODEV },
                Call::MoveMount { mnt: "mnt-2".into(), target: tp },
            ]
        );
    }

    #[test]
    fn tmpfs_read_only_sync_exec_still_gets_nodev() {
        let t = tempfile::tempdir().unwrap();
        let target = dir_fd(t.path());
        let opts = crate::spec::parse_tmpfs_options(&[
            "ro".to_owned(),
            "exec".to_owned(),
            "sync".to_owned(),
            "dev".to_owned(),
        ])
        .unwrap();
        let rec = Recorder::new();
        tmpfs(&rec, target.as_fd(), opts.flags, &opts.data).unwrap();
        let calls = rec.take();
        assert_eq!(calls[1], Call::FsconfigString { fs: "fs-1".into(), key: "source".into(), value: "tmpfs".into() });
        assert_eq!(calls[2], Call::FsconfigFlag { fs: "fs-1".into(), key: "sync".into() });
        assert_eq!(calls[4], Call::Fsmount { fs: "fs-1".into(), attrs: attr::RDONLY | attr::NOSUID | attr::NODEV });
    }

    #[test]
    fn read_only_recursive_bind_sets_attributes_before_attaching() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir(t.path().join("src")).unwrap();
        std::fs::create_dir(t.path().join("dst")).unwrap();
        let (src, dst) = (dir_fd(&t.path().join("src")), dir_fd(&t.path().join("dst")));
        let rec = Recorder::new();
        let o = BindOptions {
            recursion: Recursion::Recursive,
            access: Access::ReadOnly,
            extra: 0,
            propagation: propagation::PRIVATE,
        };
        bind(&rec, src.as_fd(), dst.as_fd(), o).unwrap();
        let p = |s: &str| t.path().join(s).to_string_lossy().into_owned();
        assert_eq!(
            rec.take(),
            vec![
                Call::OpenTree {
                    dir: p("src"),
                    path: String::new(),
                    flags: OpenTreeFlags::OPEN_TREE_CLONE
                        | OpenTreeFlags::OPEN_TREE_CLOEXEC
                        | OpenTreeFlags::AT_EMPTY_PATH
                        | OpenTreeFlags::AT_RECURSIVE,
                },
                Call::MountSetattr {
                    mnt: "tree-1".into(),
                    recursive: true,
                    attr: MountAttr { set: attr::RDONLY | attr::NODEV, clear: 0, propagation: 0 },
                },
                Call::MoveMount { mnt: "tree-1".into(), target: p("dst") },
                Call::MountSetattr {
                    mnt: "tree-1".into(),
                    recursive: true,
                    attr: MountAttr { set: 0, clear: 0, propagation: propagation::PRIVATE },
                },
            ]
        );
    }

    #[test]
    fn bind_recursive_writable_makes_only_the_top_mount_read_only() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir(t.path().join("src")).unwrap();
        std::fs::create_dir(t.path().join("dst")).unwrap();
        let (src, dst) = (dir_fd(&t.path().join("src")), dir_fd(&t.path().join("dst")));
        let rec = Recorder::new();
        let o = BindOptions {
            recursion: Recursion::Recursive,
            access: Access::ReadOnlyTop,
            extra: 0,
            propagation: propagation::PRIVATE,
        };
        bind(&rec, src.as_fd(), dst.as_fd(), o).unwrap();
        let calls = rec.take();
        assert_eq!(
            calls[1..3],
            [
                Call::MountSetattr {
                    mnt: "tree-1".into(),
                    recursive: true,
                    attr: MountAttr { set: attr::NODEV, clear: 0, propagation: 0 },
                },
                Call::MountSetattr {
                    mnt: "tree-1".into(),
                    recursive: false,
                    attr: MountAttr { set: attr::RDONLY, clear: 0, propagation: 0 },
                },
            ]
        );
    }

    #[test]
    fn non_recursive_writable_bind() {
        let t = tempfile::tempdir().unwrap();
        let fd = dir_fd(t.path());
        let rec = Recorder::new();
        let o = BindOptions {
            recursion: Recursion::NonRecursive,
            access: Access::ReadWrite,
            extra: 0,
            propagation: propagation::SLAVE,
        };
        bind(&rec, fd.as_fd(), fd.as_fd(), o).unwrap();
        let calls = rec.take();
        assert_eq!(
            calls[0],
            Call::OpenTree {
                dir: t.path().to_string_lossy().into_owned(),
                path: String::new(),
                flags: OpenTreeFlags::OPEN_TREE_CLONE | OpenTreeFlags::OPEN_TREE_CLOEXEC | OpenTreeFlags::AT_EMPTY_PATH,
            }
        );
        assert_eq!(
            calls[1],
            Call::MountSetattr {
                mnt: "tree-1".into(),
                recursive: false,
                attr: MountAttr { set: attr::NODEV, clear: 0, propagation: 0 }
            }
        );
        assert_eq!(
            calls[3],
            Call::MountSetattr {
                mnt: "tree-1".into(),
                recursive: false,
                attr: MountAttr { set: 0, clear: 0, propagation: propagation::SLAVE }
            }
        );
    }

    #[test]
    fn a_failing_call_stops_the_sequence() {
        let t = tempfile::tempdir().unwrap();
        let fd = dir_fd(t.path());
        let mut rec = Recorder::new();
        rec.fail_at = Some(2);
        let e = tmpfs(&rec, fd.as_fd(), 0, "size=bogus").unwrap_err();
        assert!(e.to_string().contains("size=bogus"), "{e}");
        assert_eq!(rec.take().len(), 3);
    }

    #[test]
    fn overlay_arguments() {
        let t = tempfile::tempdir().unwrap();
        let fd = dir_fd(t.path());
        let rec = Recorder::new();
        let layers = |lowers| OverlayLayers { lowers, upper: Some(("/r/upper", "/r/work")), userxattr: false };
        overlay(&rec, &layers(&["/rootfs"]), fd.as_fd()).unwrap();
        let calls = rec.take();
        assert_eq!(
            calls[1],
            Call::FsconfigString { fs: "fs-1".into(), key: "lowerdir+".into(), value: "/rootfs".into() }
        );
        assert_eq!(
            calls[2],
            Call::FsconfigString { fs: "fs-1".into(), key: "upperdir".into(), value: "/r/upper".into() }
        );
        assert_eq!(
            calls[3],
            Call::FsconfigString { fs: "fs-1".into(), key: "workdir".into(), value: "/r/work".into() }
        );
        assert_eq!(calls[4], Call::FsconfigFlag { fs: "fs-1".into(), key: "volatile".into() });
        assert_eq!(calls[6], Call::Fsmount { fs: "fs-1".into(), attrs: attr::NODEV });
        // A kernel without `volatile` (before 5.10) mounts it synced.
        let mut rec = Recorder::new();
        rec.fail_at = Some(4);
        overlay(&rec, &layers(&["/rootfs"]), fd.as_fd()).unwrap();
        assert_eq!(rec.take()[5], Call::FsconfigCreate { fs: "fs-1".into() });
        // A kernel without `lowerdir+` (before 6.8) gets the escaped `lowerdir`.
        let mut rec = Recorder::new();
        rec.fail_at = Some(1);
        overlay(&rec, &layers(&["/a:b,c\\d", "/l2"]), fd.as_fd()).unwrap();
        assert_eq!(
            rec.take()[2],
            Call::FsconfigString { fs: "fs-1".into(), key: "lowerdir".into(), value: "/a\\:b\\,c\\\\d:/l2".into() }
        );
    }

    /// An image's layers, top first, one `lowerdir+` each; a rootless store's with
    /// `userxattr`; a read-only overlay (an image mount) has no upper layer.
    #[test]
    fn overlay_of_image_layers() {
        let rec = Recorder::new();
        let layers = OverlayLayers { lowers: &["/l/top", "/l/mid", "/l/base"], upper: None, userxattr: true };
        overlay_fs(&rec, &layers, attr::RDONLY).unwrap();
        let s = |k: &str, v: &str| Call::FsconfigString { fs: "fs-1".into(), key: k.into(), value: v.into() };
        assert_eq!(
            rec.take(),
            vec![
                Call::Fsopen("overlay".into()),
                s("lowerdir+", "/l/top"),
                s("lowerdir+", "/l/mid"),
                s("lowerdir+", "/l/base"),
                Call::FsconfigFlag { fs: "fs-1".into(), key: "userxattr".into() },
                Call::FsconfigCreate { fs: "fs-1".into() },
                Call::Fsmount { fs: "fs-1".into(), attrs: attr::RDONLY | attr::NODEV },
            ]
        );
    }
}
