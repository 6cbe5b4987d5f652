//! A [`Syscall`] that mounts nothing and records every call with its exact arguments, for unit
//! tests of the executor. File descriptors are named by what they point to: fds that the
//! recorder hands out are opened on files named after the call that made them (`tree-1`,
//! `fs-1`, `mnt-1`), so a test reads `MoveMount { mnt: "mnt-1", target: "/tmp/…/t" }`.

use std::cell::RefCell;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::path::PathBuf;

use rustix::mount::OpenTreeFlags;

use super::disk::{FsXattr, LoopDevice, QuotaArg, q};
use super::{MountAttr, Syscall};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    OpenTree { dir: String, path: String, flags: OpenTreeFlags },
    MountSetattr { mnt: String, recursive: bool, attr: MountAttr },
    MoveMount { mnt: String, target: String },
    Fsopen(String),
    FsconfigString { fs: String, key: String, value: String },
    FsconfigFlag { fs: String, key: String },
    FsconfigCreate { fs: String },
    Fsmount { fs: String, attrs: u64 },
    IsolateRoot { slave: bool },
    PivotRoot { new_root: String },
    Sethostname(String),
    Mount { source: String, target: String, fstype: String, flags: u64, data: String },
    Unmount { target: String },
    FsGetxattr { dir: String },
    FsSetxattr { dir: String, xflags: u32, projid: u32 },
    Quotactl { fs: String, cmd: u32, id: u32, arg: QuotaArg },
    LoopAttach { image: String, read_only: bool, name: String },
}

pub struct Recorder {
    dir: tempfile::TempDir,
    pub calls: RefCell<Vec<Call>>,
    counter: RefCell<u32>,
    /// Fail the call whose index (0-based, in `calls`) is this, with `errno`.
    pub fail_at: Option<usize>,
    /// The error of the failing call (EINVAL unless set).
    pub errno: i32,
    /// What `FS_IOC_FSGETXATTR` answers for every directory.
    pub fsxattr: FsXattr,
    /// The `qs_flags` that `Q_XGETQSTAT` answers (default: project quotas counted and
    /// enforced).
    pub quota_flags: u16,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder::new()
    }
}

impl Recorder {
    pub fn new() -> Recorder {
        Recorder {
            dir: tempfile::tempdir().expect("tempdir"),
            calls: RefCell::new(Vec::new()),
            counter: RefCell::new(0),
            fail_at: None,
            errno: libc::EINVAL,
            fsxattr: FsXattr::default(),
            quota_flags: q::FS_QUOTA_PDQ_ACCT | q::FS_QUOTA_PDQ_ENFD,
        }
    }

    /// The name of what `fd` refers to: a recorder-made name, or the path.
    pub fn name(&self, fd: BorrowedFd<'_>) -> String {
        let p = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).unwrap_or_default();
        match p.strip_prefix(self.dir.path()) {
            Ok(rel) => rel.to_string_lossy().into_owned(),
            Err(_) => p.to_string_lossy().into_owned(),
        }
    }

    fn new_fd(&self, kind: &str) -> io::Result<OwnedFd> {
        let mut n = self.counter.borrow_mut();
        *n += 1;
        let path: PathBuf = self.dir.path().join(format!("{kind}-{n}"));
        Ok(std::fs::File::create(path)?.into())
    }

    fn push(&self, c: Call) -> io::Result<()> {
        let mut calls = self.calls.borrow_mut();
        calls.push(c);
        if self.fail_at == Some(calls.len() - 1) {
            return Err(io::Error::from_raw_os_error(self.errno));
        }
        Ok(())
    }

    pub fn take(&self) -> Vec<Call> {
        std::mem::take(&mut self.calls.borrow_mut())
    }
}

impl Syscall for Recorder {
    fn open_tree(&self, dir: BorrowedFd<'_>, path: &str, flags: OpenTreeFlags) -> io::Result<OwnedFd> {
        self.push(Call::OpenTree { dir: self.name(dir), path: path.to_owned(), flags })?;
        self.new_fd("tree")
    }

    fn mount_setattr(&self, mnt: BorrowedFd<'_>, recursive: bool, attr: MountAttr) -> io::Result<()> {
        self.push(Call::MountSetattr { mnt: self.name(mnt), recursive, attr })
    }

    fn move_mount(&self, mnt: BorrowedFd<'_>, target: BorrowedFd<'_>) -> io::Result<()> {
        self.push(Call::MoveMount { mnt: self.name(mnt), target: self.name(target) })
    }

    fn fsopen(&self, fstype: &str) -> io::Result<OwnedFd> {
        self.push(Call::Fsopen(fstype.to_owned()))?;
        self.new_fd("fs")
    }

    fn fsconfig_string(&self, fs: BorrowedFd<'_>, key: &str, value: &str) -> io::Result<()> {
        self.push(Call::FsconfigString { fs: self.name(fs), key: key.to_owned(), value: value.to_owned() })
    }

    fn fsconfig_flag(&self, fs: BorrowedFd<'_>, key: &str) -> io::Result<()> {
        self.push(Call::FsconfigFlag { fs: self.name(fs), key: key.to_owned() })
    }

    fn fsconfig_create(&self, fs: BorrowedFd<'_>) -> io::Result<()> {
        self.push(Call::FsconfigCreate { fs: self.name(fs) })
    }

    fn fsmount(&self, fs: BorrowedFd<'_>, attrs: u64) -> io::Result<OwnedFd> {
        self.push(Call::Fsmount { fs: self.name(fs), attrs })?;
        self.new_fd("mnt")
    }

    fn isolate_root(&self, slave: bool) -> io::Result<()> {
        self.push(Call::IsolateRoot { slave })
    }

    fn pivot_root(&self, new_root: BorrowedFd<'_>) -> io::Result<()> {
        self.push(Call::PivotRoot { new_root: self.name(new_root) })
    }

    fn sethostname(&self, name: &str) -> io::Result<()> {
        self.push(Call::Sethostname(name.to_owned()))
    }

    fn mount(&self, source: &str, target: BorrowedFd<'_>, fstype: &str, flags: u64, data: &str) -> io::Result<()> {
        self.push(Call::Mount {
            source: source.to_owned(),
            target: self.name(target),
            fstype: fstype.to_owned(),
            flags,
            data: data.to_owned(),
        })
    }

    fn unmount(&self, target: BorrowedFd<'_>) -> io::Result<()> {
        self.push(Call::Unmount { target: self.name(target) })
    }

    fn fs_getxattr(&self, dir: BorrowedFd<'_>) -> io::Result<FsXattr> {
        self.push(Call::FsGetxattr { dir: self.name(dir) })?;
        Ok(self.fsxattr)
    }

    fn fs_setxattr(&self, dir: BorrowedFd<'_>, x: &FsXattr) -> io::Result<()> {
        self.push(Call::FsSetxattr { dir: self.name(dir), xflags: x.xflags, projid: x.projid })
    }

    fn quotactl(&self, fs: BorrowedFd<'_>, cmd: u32, id: u32, arg: &mut QuotaArg) -> io::Result<()> {
        self.push(Call::Quotactl { fs: self.name(fs), cmd, id, arg: *arg })?;
        if let QuotaArg::Stat { flags } = arg {
            *flags = self.quota_flags;
        }
        Ok(())
    }

    fn loop_attach(&self, image: BorrowedFd<'_>, read_only: bool, name: &str) -> io::Result<LoopDevice> {
        self.push(Call::LoopAttach { image: self.name(image), read_only, name: name.to_owned() })?;
        let fd = self.new_fd("loop")?;
        let n = *self.counter.borrow();
        Ok(LoopDevice { fd, path: format!("/dev/loop-recorded-{n}") })
    }
}
