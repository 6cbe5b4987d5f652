//! The raw calls behind a volume's size limit: project ids on directories
//! (`FS_IOC_FSGETXATTR`/`FS_IOC_FSSETXATTR`), project quotas (`quotactl_fd(2)`, Linux 5.14), and
//! loop devices for disk images (`LOOP_CTL_GET_FREE`, `LOOP_CONFIGURE`, Linux 5.8). The
//! [`Syscall`](super::Syscall) trait exposes them typed; these are [`Linux`](super::Linux)'s
//! implementations.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// `struct fsxattr` (`<linux/fs.h>`): what `FS_IOC_FSGETXATTR` reads and `FS_IOC_FSSETXATTR`
/// writes. Fields are set by reading, changing, writing back, so the others stay as they were.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[repr(C)]
pub struct FsXattr {
    pub xflags: u32,
    pub extsize: u32,
    pub nextents: u32,
    pub projid: u32,
    pub cowextsize: u32,
    pub pad: [u8; 8],
}

/// `FS_XFLAG_PROJINHERIT`: what is created in the directory takes its project id.
pub const FS_XFLAG_PROJINHERIT: u32 = 0x0000_0200;

/// `_IOR('X', 31, struct fsxattr)` and `_IOW('X', 32, struct fsxattr)`.
pub const FS_IOC_FSGETXATTR: u32 = 0x801c_581f;
pub const FS_IOC_FSSETXATTR: u32 = 0x401c_5820;

/// Quota command numbers (`<linux/quota.h>`, `<linux/dqblk_xfs.h>`).
pub mod q {
    /// `PRJQUOTA`: project quotas.
    pub const PRJQUOTA: u32 = 2;
    /// `Q_SETQUOTA`: set limits from a `struct if_dqblk` (the generic quota format: ext4).
    pub const Q_SETQUOTA: u32 = 0x80_0008;
    /// `Q_XSETQLIM` (`XQM_CMD(4)`): set limits from a `struct fs_disk_quota` (XFS).
    pub const Q_XSETQLIM: u32 = (b'X' as u32) << 8 | 4;
    /// `Q_XGETQSTAT` (`XQM_CMD(5)`): quota state of the filesystem, a `struct fs_quota_stat`.
    pub const Q_XGETQSTAT: u32 = (b'X' as u32) << 8 | 5;

    /// `QCMD(cmd, type)`.
    pub const fn qcmd(cmd: u32, kind: u32) -> u32 {
        (cmd << 8) | (kind & 0xff)
    }

    /// `FS_DQUOT_VERSION`.
    pub const FS_DQUOT_VERSION: i8 = 1;
    /// `FS_PROJ_QUOTA` (`d_flags`).
    pub const FS_PROJ_QUOTA: i8 = 2;
    /// `FS_DQ_BSOFT`, `FS_DQ_BHARD` (`d_fieldmask`).
    pub const FS_DQ_BSOFT: u16 = 1 << 2;
    pub const FS_DQ_BHARD: u16 = 1 << 3;
    /// `QIF_BLIMITS` (`dqb_valid`).
    pub const QIF_BLIMITS: u32 = 1;
    /// `FS_QUOTA_PDQ_ACCT`, `FS_QUOTA_PDQ_ENFD` (`qs_flags`): project quotas are counted,
    /// and enforced.
    pub const FS_QUOTA_PDQ_ACCT: u16 = 1 << 4;
    pub const FS_QUOTA_PDQ_ENFD: u16 = 1 << 5;
}

/// What a `quotactl_fd(2)` call passes (and, for [`QuotaArg::Stat`], gets back): the fields of
/// the kernel's structures that myvol sets, the rest zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaArg {
    /// `struct fs_quota_stat` (for `Q_XGETQSTAT`); `flags` is what the kernel answered.
    Stat { flags: u16 },
    /// `struct fs_disk_quota` (for `Q_XSETQLIM`): limits in 512-byte basic blocks.
    DiskQuota { version: i8, flags: i8, fieldmask: u16, id: u32, blk_hardlimit: u64, blk_softlimit: u64 },
    /// `struct if_dqblk` (for `Q_SETQUOTA`): limits in 1 KiB quota blocks.
    Dqblk { bhardlimit: u64, bsoftlimit: u64, valid: u32 },
}

#[repr(C)]
#[derive(Default)]
struct FsQfilestat {
    ino: u64,
    nblks: u64,
    nextents: u32,
}

#[repr(C)]
#[derive(Default)]
struct FsQuotaStat {
    version: i8,
    flags: u16,
    pad: i8,
    uquota: FsQfilestat,
    gquota: FsQfilestat,
    incoredqs: u32,
    btimelimit: i32,
    itimelimit: i32,
    rtbtimelimit: i32,
    bwarnlimit: u16,
    iwarnlimit: u16,
}

#[repr(C)]
#[derive(Default)]
struct FsDiskQuota {
    version: i8,
    flags: i8,
    fieldmask: u16,
    id: u32,
    blk_hardlimit: u64,
    blk_softlimit: u64,
    ino_hardlimit: u64,
    ino_softlimit: u64,
    bcount: u64,
    icount: u64,
    itimer: i32,
    btimer: i32,
    iwarns: u16,
    bwarns: u16,
    itimer_hi: i8,
    btimer_hi: i8,
    rtbtimer_hi: i8,
    padding2: i8,
    rtb_hardlimit: u64,
    rtb_softlimit: u64,
    rtbcount: u64,
    rtbtimer: i32,
    rtbwarns: u16,
    padding3: i16,
    padding4: [u8; 8],
}

#[repr(C)]
#[derive(Default)]
struct IfDqblk {
    bhardlimit: u64,
    bsoftlimit: u64,
    curspace: u64,
    ihardlimit: u64,
    isoftlimit: u64,
    curinodes: u64,
    btime: u64,
    itime: u64,
    valid: u32,
}

fn last_error(r: libc::c_long) -> io::Result<libc::c_long> {
    if r < 0 { Err(io::Error::last_os_error()) } else { Ok(r) }
}

/// `ioctl(fd, FS_IOC_FSGETXATTR)`.
pub fn fs_getxattr(fd: BorrowedFd<'_>) -> io::Result<FsXattr> {
    let mut x = FsXattr::default();
    // SAFETY: `fd` is live for the call; `x` is a `#[repr(C)]` `struct fsxattr` of the size the
    // request number encodes (28 bytes), which the kernel fills.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), FS_IOC_FSGETXATTR as _, &mut x as *mut FsXattr) };
    last_error(r as libc::c_long).map(|_| x)
}

/// `ioctl(fd, FS_IOC_FSSETXATTR, x)`.
pub fn fs_setxattr(fd: BorrowedFd<'_>, x: &FsXattr) -> io::Result<()> {
    // SAFETY: `fd` is live for the call; `x` is a `#[repr(C)]` `struct fsxattr` of the size the
    // request number encodes, which the kernel only reads.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), FS_IOC_FSSETXATTR as _, x as *const FsXattr) };
    last_error(r as libc::c_long).map(drop)
}

/// `quotactl_fd(fd, cmd, id, addr)`, `addr` built from `arg` (and, for a state query, read
/// back into it).
pub fn quotactl_fd(fd: BorrowedFd<'_>, cmd: u32, id: u32, arg: &mut QuotaArg) -> io::Result<()> {
    let call = |addr: *mut libc::c_void| {
        // SAFETY: `fd` is live for the call, and `addr` points to a live, initialised
        // `#[repr(C)]` structure of the kind `cmd` reads or writes (chosen by the caller from
        // `arg` below), which outlives the call.
        let r = unsafe { libc::syscall(libc::SYS_quotactl_fd, fd.as_raw_fd(), cmd, id, addr) };
        last_error(r).map(drop)
    };
    match arg {
        QuotaArg::Stat { flags } => {
            let mut s = FsQuotaStat::default();
            call(&mut s as *mut FsQuotaStat as *mut libc::c_void)?;
            *flags = s.flags;
            Ok(())
        }
        QuotaArg::DiskQuota { version, flags, fieldmask, id, blk_hardlimit, blk_softlimit } => {
            let mut d = FsDiskQuota {
                version: *version,
                flags: *flags,
                fieldmask: *fieldmask,
                id: *id,
                blk_hardlimit: *blk_hardlimit,
                blk_softlimit: *blk_softlimit,
                ..FsDiskQuota::default()
            };
            call(&mut d as *mut FsDiskQuota as *mut libc::c_void)
        }
        QuotaArg::Dqblk { bhardlimit, bsoftlimit, valid } => {
            let mut d =
                IfDqblk { bhardlimit: *bhardlimit, bsoftlimit: *bsoftlimit, valid: *valid, ..IfDqblk::default() };
            call(&mut d as *mut IfDqblk as *mut libc::c_void)
        }
    }
}

/// A loop device bound to a disk image, and the path to mount it by.
#[derive(Debug)]
pub struct LoopDevice {
    /// Open on the device: with autoclear set, the device lets go of the image once this is
    /// closed and nothing mounted uses it any more.
    pub fd: OwnedFd,
    /// `/dev/loopN`.
    pub path: String,
}

const LOOP_CTL_GET_FREE: libc::c_ulong = 0x4C82;
const LOOP_CONFIGURE: libc::c_ulong = 0x4C0A;
const LO_FLAGS_READ_ONLY: u32 = 1;
const LO_FLAGS_AUTOCLEAR: u32 = 4;

#[repr(C)]
struct LoopInfo64 {
    device: u64,
    inode: u64,
    rdevice: u64,
    offset: u64,
    sizelimit: u64,
    number: u32,
    encrypt_type: u32,
    encrypt_key_size: u32,
    flags: u32,
    file_name: [u8; 64],
    crypt_name: [u8; 64],
    encrypt_key: [u8; 32],
    init: [u64; 2],
}

#[repr(C)]
struct LoopConfig {
    fd: u32,
    block_size: u32,
    info: LoopInfo64,
    reserved: [u64; 8],
}

/// Bind `image` to a free loop device with autoclear (`LOOP_CTL_GET_FREE`, then
/// `LOOP_CONFIGURE`; a device another process took meanwhile is skipped). `name` is recorded
/// as the backing file's name (what `losetup -l` shows).
pub fn loop_attach(image: BorrowedFd<'_>, read_only: bool, name: &str) -> io::Result<LoopDevice> {
    let ctl = rustix::fs::open(
        "/dev/loop-control",
        rustix::fs::OFlags::RDWR | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )?;
    for _ in 0..64 {
        // SAFETY: `ctl` is a live fd of /dev/loop-control; LOOP_CTL_GET_FREE takes no argument.
        let n = unsafe { libc::ioctl(ctl.as_raw_fd(), LOOP_CTL_GET_FREE as _, 0) };
        let n = last_error(n as libc::c_long)?;
        let path = format!("/dev/loop{n}");
        let flags = if read_only { libc::O_RDONLY } else { libc::O_RDWR };
        let c = std::ffi::CString::new(path.as_str())?;
        // SAFETY: `c` is a NUL-terminated path that outlives the call.
        let raw = unsafe { libc::open(c.as_ptr(), flags | libc::O_CLOEXEC) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` was just returned by open(2) and is owned by nothing else.
        let dev = unsafe { OwnedFd::from_raw_fd(raw) };
        let mut file_name = [0u8; 64];
        for (d, s) in file_name.iter_mut().take(63).zip(name.bytes()) {
            *d = s;
        }
        let mut cfg = LoopConfig {
            fd: image.as_raw_fd() as u32,
            block_size: 0,
            info: LoopInfo64 {
                device: 0,
                inode: 0,
                rdevice: 0,
                offset: 0,
                sizelimit: 0,
                number: 0,
                encrypt_type: 0,
                encrypt_key_size: 0,
                flags: LO_FLAGS_AUTOCLEAR | if read_only { LO_FLAGS_READ_ONLY } else { 0 },
                file_name,
                crypt_name: [0; 64],
                encrypt_key: [0; 32],
                init: [0; 2],
            },
            reserved: [0; 8],
        };
        // SAFETY: `dev` and `image` are live fds; `cfg` is a fully initialised `#[repr(C)]`
        // `struct loop_config` that outlives the call, and the kernel only reads it.
        let r = unsafe { libc::ioctl(dev.as_raw_fd(), LOOP_CONFIGURE as _, &mut cfg as *mut LoopConfig) };
        match last_error(r as libc::c_long) {
            Ok(_) => return Ok(LoopDevice { fd: dev, path }),
            // Taken by another process between GET_FREE and now: ask for another.
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::from_raw_os_error(libc::EBUSY))
}

/// The file the loop device `dev` (a `st_dev` of the filesystem mounted from it) is bound to
/// (`/sys/dev/block/MAJ:MIN/loop/backing_file`), if it is a bound loop device.
pub fn loop_backing(dev: u64) -> Option<String> {
    let (major, minor) = (rustix::fs::major(dev), rustix::fs::minor(dev));
    let s = std::fs::read_to_string(format!("/sys/dev/block/{major}:{minor}/loop/backing_file")).ok()?;
    Some(s.trim_end_matches('\n').to_owned())
}

/// Wait until the loop device `dev` is no longer bound to `image` (autoclear happens at its
/// last close, which the kernel may finish after `umount2` has returned), polling up to
/// `limit`; whether it has let go.
pub fn wait_loop_released(dev: u64, image: &std::path::Path, limit: std::time::Duration) -> bool {
    let start = std::time::Instant::now();
    let mut pause = std::time::Duration::from_millis(1);
    let image = image.to_string_lossy();
    while loop_backing(dev).is_some_and(|b| b.strip_suffix(" (deleted)").unwrap_or(&b) == image) {
        if start.elapsed() >= limit {
            return false;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(std::time::Duration::from_millis(20));
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_match_the_kernels() {
        assert_eq!(std::mem::size_of::<FsXattr>(), 28);
        assert_eq!(std::mem::size_of::<FsQuotaStat>(), 80);
        assert_eq!(std::mem::size_of::<FsDiskQuota>(), 112);
        assert_eq!(std::mem::size_of::<IfDqblk>(), 72);
        assert_eq!(std::mem::size_of::<LoopInfo64>(), 232);
        assert_eq!(std::mem::size_of::<LoopConfig>(), 304);
        assert_eq!(q::qcmd(q::Q_XSETQLIM, q::PRJQUOTA), 0x0058_0402);
        assert_eq!(q::qcmd(q::Q_SETQUOTA, q::PRJQUOTA), 0x8000_0802);
        assert_eq!(q::qcmd(q::Q_XGETQSTAT, q::PRJQUOTA), 0x0058_0502);
    }
}
