//! Size limits of local volumes (`-o size=…`, Docker's option), enforced one of two ways:
//!
//! * a **project quota**, where the store's filesystem has them on (XFS mounted with
//!   `pquota`, as Docker requires; ext4 with the `project` feature and `prjquota`, which
//!   Docker does not use): `_data` gets a project id of its own with `FS_XFLAG_PROJINHERIT`
//!   (`FS_IOC_FSSETXATTR`), so that everything created in it is counted under that id, and the
//!   id gets a block limit (`quotactl_fd` with `Q_XSETQLIM` on XFS, `Q_SETQUOTA` elsewhere);
//! * everywhere else, a **disk image**: a sparse ext4 image of that size (`disk.img` beside
//!   `_data`, made with `mkfs.ext4`), mounted on `_data` on a loop device when the first user
//!   arrives and unmounted after the last one, as a block-device volume is.
//!
//! The mode is chosen at create (a project quota when the filesystem enforces them, else an
//! image) unless `-o quota=project|image` forces one, and recorded in the volume's metadata.
//! Both need root. Nothing here mounts: mounting an image is the driver's
//! ([`super::mount_image`]).

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::os::fd::BorrowedFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use rustix::fs::{self as rfs, Mode, OFlags};
use thiserror::Error;

use super::local::LocalOptionError;
use crate::store::{BoxedError, BuildDirs, LocalLimits, Owner, Quota, QuotaMode};
use crate::sys::disk::{FS_XFLAG_PROJINHERIT, QuotaArg, q};
use crate::sys::{Linux, Syscall};
use crate::text::{echo, echo_path, errno_text};
use crate::units::ram_in_bytes;

/// The name of a volume's disk image, beside `_data`.
pub const IMAGE: &str = crate::store::layout::DISK_IMAGE;

/// Why a size limit could not be set up.
#[derive(Debug, Error)]
pub enum LimitError {
    #[error(
        "quota size requested but no quota support: a size limit needs root (a project quota, or a disk image on a loop device)"
    )]
    NotRoot,
    /// `quota=project` on a filesystem that does not enforce project quotas.
    #[error("project quotas are not available on the store's filesystem: {step}: {}", errno_text(source))]
    NoProjectQuota { step: &'static str, source: io::Error },
    #[error(
        "project quotas are not available on the store's filesystem: they are not enforced (mount it with prjquota, or pquota for XFS)"
    )]
    NotEnforced,
    #[error("{step}: {}", errno_text(source))]
    Project { step: &'static str, source: io::Error },
    #[error("{tool} not found: a size limit as a disk image needs e2fsprogs (mkfs.ext4, debugfs)")]
    ToolMissing { tool: &'static str },
    #[error("making a disk image of {}: {tool}: {}", crate::units::bytes_size(*size), echo(output))]
    Tool { tool: &'static str, size: u64, output: String },
    #[error("{step} {}: {}", echo_path(path), errno_text(source))]
    Io { step: &'static str, path: PathBuf, source: io::Error },
}

/// The limit `opts` ask for (`size`, `quota`), checked: `None` for none (no `size`, or 0, as
/// Docker ignores it).
pub fn requested(opts: &BTreeMap<String, String>) -> Result<Option<(u64, Option<QuotaMode>)>, LocalOptionError> {
    let size = match opts.get("size") {
        Some(s) => ram_in_bytes(s)?,
        None => 0,
    };
    let mode = match opts.get("quota").map(String::as_str) {
        None => None,
        Some("project") => Some(QuotaMode::Project),
        Some("image") => Some(QuotaMode::Image),
        Some(other) => return Err(LocalOptionError::QuotaMode(other.to_owned())),
    };
    if size == 0 {
        return match mode {
            Some(_) => Err(LocalOptionError::QuotaWithoutSize),
            None => Ok(None),
        };
    }
    Ok(Some((size, mode)))
}

/// The local driver's size limits, with the real system calls and tools.
#[derive(Debug, Default)]
pub struct Limits;

impl LocalLimits for Limits {
    fn requested(&self, options: &BTreeMap<String, String>) -> Result<Option<(u64, Option<QuotaMode>)>, BoxedError> {
        Ok(requested(options)?)
    }

    fn create(
        &self,
        size: u64,
        forced: Option<QuotaMode>,
        root: Owner,
        dirs: BuildDirs<'_>,
        project_ids: &dyn Fn() -> Vec<u32>,
        content_follows: bool,
    ) -> Result<Quota, BoxedError> {
        if !rustix::process::geteuid().is_root() {
            return Err(LimitError::NotRoot.into());
        }
        if let Some(id) = choose(&Linux, forced, dirs, fs_kind(dirs.volumes), size, project_ids)? {
            return Ok(Quota { mode: QuotaMode::Project, size, project_id: Some(id) });
        }
        let tools = Tools::find()?;
        if !content_follows {
            make_image(&tools, dirs.dir, dirs.dir_path, size, root, None)?;
        }
        Ok(Quota { mode: QuotaMode::Image, size, project_id: None })
    }

    fn before_fill(&self, quota: &Quota, dirs: BuildDirs<'_>) -> Result<(), BoxedError> {
        match (quota.mode, quota.project_id) {
            (QuotaMode::Project, Some(id)) => Ok(set_project_id(&Linux, dirs.data, id)?),
            _ => Ok(()),
        }
    }

    fn after_fill(&self, quota: &Quota, dirs: BuildDirs<'_>) -> Result<(), BoxedError> {
        if quota.mode != QuotaMode::Image {
            return Ok(());
        }
        let tools = Tools::find()?;
        let st = rfs::fstat(dirs.data).map_err(|e| io_error("stat", dirs.dir_path, e.into()))?;
        let root = Owner { uid: st.st_uid, gid: st.st_gid, mode: st.st_mode & 0o7777 };
        let times =
            Times { atime: (st.st_atime, st.st_atime_nsec as i64), mtime: (st.st_mtime, st.st_mtime_nsec as i64) };
        let content = dirs.dir_path.join(crate::store::layout::DATA_DIR);
        make_image(&tools, dirs.dir, dirs.dir_path, quota.size, root, Some((&content, times)))?;
        // The content is in the image now: `_data` stays, empty, as its mount point.
        for (name, _) in crate::fsutil::list_dir(dirs.data).map_err(|e| io_error("read", &content, e))? {
            use std::os::unix::ffi::OsStrExt;
            crate::fsutil::remove_tree(dirs.data, std::ffi::OsStr::from_bytes(&name))
                .map_err(|e| io_error("remove", &content, e))?;
        }
        Ok(())
    }
}

/// How a new volume's limit is enforced: a project quota (set up here; its id returned) unless
/// `forced` says image; where the filesystem has none, an image (`None`) unless `forced` says
/// project, which is then refused with why.
pub fn choose(
    sys: &dyn Syscall,
    forced: Option<QuotaMode>,
    dirs: BuildDirs<'_>,
    kind: FsKind,
    size: u64,
    project_ids: &dyn Fn() -> Vec<u32>,
) -> Result<Option<u32>, LimitError> {
    if forced == Some(QuotaMode::Image) {
        return Ok(None);
    }
    match project_create(sys, dirs.volumes, dirs.data, kind, size, &project_ids()) {
        Ok(id) => Ok(Some(id)),
        Err(e) if forced == Some(QuotaMode::Project) => Err(e),
        // Automatic: where the filesystem has no project quotas, an image.
        Err(_) => Ok(None),
    }
}

fn io_error(step: &'static str, path: &Path, source: io::Error) -> LimitError {
    LimitError::Io { step, path: path.to_owned(), source }
}

/// Which quotactl interface the store's filesystem speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsKind {
    /// XFS's own (`Q_XSETQLIM`, `struct fs_disk_quota`, 512-byte basic blocks).
    Xfs,
    /// The generic quota format (`Q_SETQUOTA`, `struct if_dqblk`, 1 KiB quota blocks): ext4.
    Generic,
}

const XFS_SUPER_MAGIC: i64 = 0x5846_5342;

/// The kind of the filesystem `fs` is on.
pub fn fs_kind(fs: BorrowedFd<'_>) -> FsKind {
    match rfs::fstatfs(fs) {
        #[allow(clippy::unnecessary_cast)] // f_type is i64 on 64-bit targets, not everywhere
        Ok(st) if st.f_type as i64 == XFS_SUPER_MAGIC => FsKind::Xfs,
        _ => FsKind::Generic,
    }
}

/// Set up a project quota of `size` bytes on `data` (a new volume's content directory): check
/// that the filesystem of `fs` counts and enforces project quotas, pick a project id above
/// the store's `volumes/` directory's own (an administrator's `xfs_quota` projects stay
/// below it, as Docker's rule) and above `taken`, give it to `data` with
/// `FS_XFLAG_PROJINHERIT`, and set its block limit. Returns the id.
pub fn project_create(
    sys: &dyn Syscall,
    fs: BorrowedFd<'_>,
    data: BorrowedFd<'_>,
    kind: FsKind,
    size: u64,
    taken: &[u32],
) -> Result<u32, LimitError> {
    let unavailable = |step| move |source| LimitError::NoProjectQuota { step, source };
    let mut stat = QuotaArg::Stat { flags: 0 };
    sys.quotactl(fs, q::qcmd(q::Q_XGETQSTAT, q::PRJQUOTA), 0, &mut stat).map_err(unavailable("quotactl"))?;
    let QuotaArg::Stat { flags } = stat else { unreachable!("a state query answers a state") };
    let on = q::FS_QUOTA_PDQ_ACCT | q::FS_QUOTA_PDQ_ENFD;
    if flags & on != on {
        return Err(LimitError::NotEnforced);
    }
    let base = sys.fs_getxattr(fs).map_err(unavailable("FS_IOC_FSGETXATTR"))?.projid;
    let id = taken.iter().copied().chain([base]).max().unwrap_or(0).checked_add(1).ok_or(LimitError::Project {
        step: "allocate a project id",
        source: io::Error::from_raw_os_error(libc::ENOSPC),
    })?;
    set_project_id(sys, data, id)?;
    set_project_limit(sys, fs, kind, id, size)?;
    Ok(id)
}

/// Give directory `dir` project id `id`, inherited by what is created in it.
pub fn set_project_id(sys: &dyn Syscall, dir: BorrowedFd<'_>, id: u32) -> Result<(), LimitError> {
    let unavailable = |step| move |source| LimitError::NoProjectQuota { step, source };
    let mut x = sys.fs_getxattr(dir).map_err(unavailable("FS_IOC_FSGETXATTR"))?;
    x.projid = id;
    x.xflags |= FS_XFLAG_PROJINHERIT;
    sys.fs_setxattr(dir, &x).map_err(unavailable("FS_IOC_FSSETXATTR"))
}

/// The hard and soft block limit of project `id` on the filesystem of `fs`: `size` bytes,
/// rounded up to the unit the interface counts in.
pub fn set_project_limit(
    sys: &dyn Syscall,
    fs: BorrowedFd<'_>,
    kind: FsKind,
    id: u32,
    size: u64,
) -> Result<(), LimitError> {
    let (cmd, mut arg) = match kind {
        FsKind::Xfs => {
            let blocks = size.div_ceil(512);
            let arg = QuotaArg::DiskQuota {
                version: q::FS_DQUOT_VERSION,
                flags: q::FS_PROJ_QUOTA,
                fieldmask: q::FS_DQ_BHARD | q::FS_DQ_BSOFT,
                id,
                blk_hardlimit: blocks,
                blk_softlimit: blocks,
            };
            (q::qcmd(q::Q_XSETQLIM, q::PRJQUOTA), arg)
        }
        FsKind::Generic => {
            let kib = size.div_ceil(1024);
            (
                q::qcmd(q::Q_SETQUOTA, q::PRJQUOTA),
                QuotaArg::Dqblk { bhardlimit: kib, bsoftlimit: kib, valid: q::QIF_BLIMITS },
            )
        }
    };
    sys.quotactl(fs, cmd, id, &mut arg).map_err(|source| LimitError::Project { step: "quotactl", source })
}

/// The e2fsprogs tools a disk image is made with.
struct Tools {
    mkfs: PathBuf,
    debugfs: PathBuf,
}

impl Tools {
    /// Look in `PATH`, then in the sbin directories (which a user's `PATH` may lack).
    fn find() -> Result<Tools, LimitError> {
        let find = |tool: &'static str| {
            let path = std::env::var_os("PATH").unwrap_or_default();
            std::env::split_paths(&path)
                .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
                .map(|d| d.join(tool))
                .find(|p| p.is_file())
                .ok_or(LimitError::ToolMissing { tool })
        };
        Ok(Tools { mkfs: find("mkfs.ext4")?, debugfs: find("debugfs")? })
    }
}

/// A directory's access and modification times (seconds, nanoseconds).
#[derive(Debug, Clone, Copy)]
struct Times {
    atime: (i64, i64),
    mtime: (i64, i64),
}

/// Make `dir/disk.img` (replacing one there): a sparse file of `size` bytes holding an ext4
/// filesystem (no reserved blocks, 256-byte inodes for nanosecond times) whose root has
/// `root`'s owner and mode and no `lost+found` (an empty volume is empty), filled from
/// `content` when given (a directory, whose root's times the image's root takes).
fn make_image(
    tools: &Tools,
    dir: BorrowedFd<'_>,
    dir_path: &Path,
    size: u64,
    root: Owner,
    content: Option<(&Path, Times)>,
) -> Result<(), LimitError> {
    let path = dir_path.join(IMAGE);
    let _ = rfs::unlinkat(dir, IMAGE, rfs::AtFlags::empty());
    let file = rfs::openat(
        dir,
        IMAGE,
        OFlags::RDWR | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o600),
    )
    .map_err(|e| io_error("create", &path, e.into()))?;
    rfs::ftruncate(&file, size).map_err(|e| io_error("truncate", &path, e.into()))?;
    drop(file);
    let mut mkfs = Command::new(&tools.mkfs);
    mkfs.args(["-q", "-F", "-m", "0", "-I", "256", "-E"])
        .arg(format!("lazy_journal_init=1,root_owner={}:{}", root.uid, root.gid));
    if let Some((from, _)) = content {
        mkfs.arg("-d").arg(from);
    }
    mkfs.arg(&path);
    run(mkfs, "mkfs.ext4", size, None)?;
    // mke2fs makes a `lost+found`; content that has one of its own keeps it (mke2fs -d fills
    // the one it made).
    let theirs = content.is_some_and(|(from, _)| from.join("lost+found").symlink_metadata().is_ok());
    let mut script = if theirs { String::new() } else { "rmdir lost+found\n".to_owned() };
    script.push_str(&format!("sif <2> mode 0{:o}\n", 0o40000 | (root.mode & 0o7777)));
    if let Some((_, t)) = content {
        for (field, (sec, nsec)) in [("atime", t.atime), ("mtime", t.mtime)] {
            // The extra field: nanoseconds above two bits of epoch (seconds past 2038).
            let epoch = ((sec - i64::from(sec as i32)) >> 32) & 3;
            script.push_str(&format!("sif <2> {field} @{sec}\nsif <2> {field}_extra {}\n", (nsec << 2) | epoch));
        }
    }
    let mut debugfs = Command::new(&tools.debugfs);
    debugfs.args(["-w", "-f", "-"]).arg(&path);
    run(debugfs, "debugfs", size, Some(&script))
}

/// Run an e2fsprogs tool: its failure is the first line it wrote that is not a banner or a
/// note (debugfs says "debugfs 1.47.0 (…)" and exits 0 when a request fails).
fn run(mut c: Command, tool: &'static str, size: u64, input: Option<&str>) -> Result<(), LimitError> {
    c.stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .env("LC_ALL", "C");
    let spawn_error = |e: io::Error| io_error("run", Path::new(tool), e);
    let mut child = c.spawn().map_err(spawn_error)?;
    if let Some(text) = input
        && let Some(mut stdin) = child.stdin.take()
    {
        stdin.write_all(text.as_bytes()).map_err(spawn_error)?;
    }
    let out = child.wait_with_output().map_err(spawn_error)?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let complaint = stderr
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with(tool) && !l.starts_with("Filesystem too small for a journal"));
    match (out.status.success(), complaint) {
        (true, None) => Ok(()),
        (_, Some(line)) => Err(LimitError::Tool { tool, size, output: line.to_owned() }),
        (false, None) => Err(LimitError::Tool { tool, size, output: out.status.to_string() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::disk::FsXattr;
    use crate::sys::record::{Call, Recorder};
    use std::os::fd::{AsFd, OwnedFd};

    fn dir(p: &Path) -> OwnedFd {
        rfs::open(p, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty()).unwrap()
    }

    fn opts(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn requested_limits() {
        let ok = |kv: &[(&str, &str)]| requested(&opts(kv)).map_err(|e| e.to_string());
        assert_eq!(ok(&[]), Ok(None));
        assert_eq!(ok(&[("size", "0")]), Ok(None));
        assert_eq!(ok(&[("size", "10m")]), Ok(Some((10 << 20, None))));
        assert_eq!(ok(&[("size", "1g"), ("quota", "image")]), Ok(Some((1 << 30, Some(QuotaMode::Image)))));
        assert_eq!(ok(&[("size", "1g"), ("quota", "project")]), Ok(Some((1 << 30, Some(QuotaMode::Project)))));
        assert_eq!(ok(&[("size", "x")]), Err("invalid size: 'x'".into()));
        assert_eq!(
            ok(&[("size", "1g"), ("quota", "xfs")]),
            Err(r#"invalid quota mode "xfs": use project or image"#.into())
        );
        assert_eq!(ok(&[("quota", "image")]), Err("quota needs a size: -o size=SIZE -o quota=project|image".into()));
    }

    /// The exact calls of a project quota, on XFS and on ext4 (the generic interface).
    #[test]
    fn project_quota_calls() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir(t.path().join("volumes")).unwrap();
        std::fs::create_dir(t.path().join("_data")).unwrap();
        let (fs, data) = (dir(&t.path().join("volumes")), dir(&t.path().join("_data")));
        let fs_name = t.path().join("volumes").to_string_lossy().into_owned();
        let data_name = t.path().join("_data").to_string_lossy().into_owned();
        let stat = Call::Quotactl { fs: fs_name.clone(), cmd: 0x0058_0502, id: 0, arg: QuotaArg::Stat { flags: 0 } };
        for (kind, cmd, arg) in [
            (
                FsKind::Xfs,
                0x0058_0402,
                QuotaArg::DiskQuota {
                    version: 1,
                    flags: 2,
                    fieldmask: 0b1100,
                    id: 1008,
                    blk_hardlimit: 20481,
                    blk_softlimit: 20481,
                },
            ),
            (FsKind::Generic, 0x8000_0802, QuotaArg::Dqblk { bhardlimit: 10241, bsoftlimit: 10241, valid: 1 }),
        ] {
            let mut rec = Recorder::new();
            // The store's volumes/ directory has project id 1000 (an administrator's base).
            rec.fsxattr = FsXattr { projid: 1000, xflags: 0x1, ..FsXattr::default() };
            let id = project_create(&rec, fs.as_fd(), data.as_fd(), kind, (10 << 20) + 1, &[1003, 1007, 2]).unwrap();
            assert_eq!(id, 1008, "above the base and every id in use");
            assert_eq!(
                rec.take(),
                [
                    stat.clone(),
                    Call::FsGetxattr { dir: fs_name.clone() },
                    Call::FsGetxattr { dir: data_name.clone() },
                    Call::FsSetxattr { dir: data_name.clone(), xflags: 0x1 | 0x200, projid: 1008 },
                    Call::Quotactl { fs: fs_name.clone(), cmd, id: 1008, arg },
                ],
                "{kind:?}"
            );
        }
    }

    #[test]
    fn a_filesystem_without_project_quotas_is_refused_with_the_reason() {
        let t = tempfile::tempdir().unwrap();
        let fs = dir(t.path());
        let mut rec = Recorder::new();
        for errno in [libc::ENOSYS, libc::EOPNOTSUPP] {
            rec.fail_at = Some(0);
            rec.errno = errno;
            let e = project_create(&rec, fs.as_fd(), fs.as_fd(), FsKind::Xfs, 1 << 20, &[]).unwrap_err();
            let why = io::Error::from_raw_os_error(errno);
            assert_eq!(
                e.to_string(),
                format!("project quotas are not available on the store's filesystem: quotactl: {}", errno_text(&why))
            );
            assert_eq!(rec.take().len(), 1, "nothing set after the refusal");
        }
        // Counted but not enforced (ext4 without prjquota in its mount options).
        rec.fail_at = None;
        rec.quota_flags = q::FS_QUOTA_PDQ_ACCT;
        let e = project_create(&rec, fs.as_fd(), fs.as_fd(), FsKind::Generic, 1 << 20, &[]).unwrap_err();
        assert!(e.to_string().contains("they are not enforced"), "{e}");
        // A filesystem without project ids (tmpfs): the ioctl is refused.
        rec.quota_flags = q::FS_QUOTA_PDQ_ACCT | q::FS_QUOTA_PDQ_ENFD;
        rec.take();
        rec.fail_at = Some(3);
        rec.errno = libc::ENOTTY;
        let e = project_create(&rec, fs.as_fd(), fs.as_fd(), FsKind::Generic, 1 << 20, &[]).unwrap_err();
        assert!(e.to_string().ends_with("FS_IOC_FSSETXATTR: inappropriate ioctl for device"), "{e}");
    }

    /// Automatic: a project quota where the filesystem enforces them, an image where it does
    /// not; forced: that mode, or why not.
    #[test]
    fn the_mode_is_the_filesystems_unless_forced() {
        let t = tempfile::tempdir().unwrap();
        let d = dir(t.path());
        let dirs = BuildDirs { dir: d.as_fd(), dir_path: t.path(), data: d.as_fd(), volumes: d.as_fd() };
        let ids = || vec![7];
        let pick = |rec: &Recorder, forced| choose(rec, forced, dirs, FsKind::Generic, 1 << 20, &ids);
        let rec = Recorder::new();
        assert_eq!(pick(&rec, None).unwrap(), Some(8));
        assert_eq!(pick(&rec, Some(QuotaMode::Project)).unwrap(), Some(8));
        rec.take();
        assert_eq!(pick(&rec, Some(QuotaMode::Image)).unwrap(), None);
        assert!(rec.take().is_empty(), "an image asks nothing of the filesystem");
        for errno in [libc::ENOSYS, libc::EOPNOTSUPP, libc::ENOTTY] {
            let refusing = || {
                let mut rec = Recorder::new();
                rec.fail_at = Some(0);
                rec.errno = errno;
                rec
            };
            assert_eq!(pick(&refusing(), None).unwrap(), None, "automatic: an image ({errno})");
            let e = pick(&refusing(), Some(QuotaMode::Project)).unwrap_err();
            assert!(e.to_string().starts_with("project quotas are not available on the store's filesystem: "), "{e}");
        }
    }

    #[test]
    fn an_import_gives_its_staging_the_volumes_project_id() {
        let t = tempfile::tempdir().unwrap();
        let d = dir(t.path());
        let rec = Recorder::new();
        set_project_id(&rec, d.as_fd(), 42).unwrap();
        let name = t.path().to_string_lossy().into_owned();
        assert_eq!(
            rec.take(),
            [Call::FsGetxattr { dir: name.clone() }, Call::FsSetxattr { dir: name, xflags: 0x200, projid: 42 }]
        );
    }
}
