//! The run rig: a test env with a busybox root filesystem, for the tests that run commands
//! (`exec-spec`, `run`, drivers, plugins). Runs need root (mount, PID and UTS namespaces) and
//! a static busybox; without them `rig()` skips the test.

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};

use super::{TestEnv, skipped};

/// The busybox the rootfs is built from; static, since it runs inside the rootfs.
const BUSYBOX: &str = "/bin/busybox";

pub struct Rig {
    pub t: TestEnv,
    pub rootfs: PathBuf,
    /// How many spec files `exec.rs` wrote.
    pub n: std::cell::Cell<u32>,
}

/// A test env with a busybox rootfs (`/bin/*` applets, `/etc/hostname` `image`, a
/// non-executable script `/etc/notexec`), or `None` when the test is skipped here.
#[track_caller]
pub fn rig() -> Option<Rig> {
    if !super::require_root("runs need mount, PID and UTS namespaces") {
        return None;
    }
    let busybox = Path::new(BUSYBOX);
    if !busybox.exists() {
        skipped(format_args!("needs a static busybox at {BUSYBOX} (Debian package busybox-static)"));
        return None;
    }
    let t = TestEnv::new();
    let rootfs = t.dir.path().join("rootfs");
    std::fs::create_dir_all(rootfs.join("bin")).unwrap();
    std::fs::create_dir_all(rootfs.join("etc")).unwrap();
    std::fs::copy(busybox, rootfs.join("bin/busybox")).unwrap();
    let list = std::process::Command::new(busybox).arg("--list").output().unwrap();
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        if applet != "busybox" && !applet.is_empty() && !applet.contains('/') {
            let _ = symlink("busybox", rootfs.join("bin").join(applet));
        }
    }
    std::fs::write(rootfs.join("etc/hostname"), "image\n").unwrap();
    std::fs::write(rootfs.join("etc/notexec"), "#!/bin/sh\necho no\n").unwrap();
    std::fs::set_permissions(rootfs.join("etc/notexec"), std::fs::Permissions::from_mode(0o644)).unwrap();
    Some(Rig { t, rootfs, n: std::cell::Cell::new(0) })
}
