//! The torture run (`bench/torture.py`) in its short mode, against the binary built for these
//! tests: SIGKILL at random moments, before syscalls and at every failpoint, 32 processes on
//! overlapping names, a full disk, read-only and foreign-owned roots, hostile input. It
//! passes only when the run's last line says `N passed, 0 failed`; its output (each failed
//! check with its reproduction) is the failure message. See docs/reliability.md.

use std::path::Path;
use std::process::Command;

use crate::env::{require_root, require_tools};

#[test]
fn torture_short_mode_finds_nothing() {
    // Root: tmpfs and read-only mounts, chown, runs. The tools: the driver, syscall kills,
    // its private mount namespace, the memory limit of the template checks.
    if !require_root("the torture run mounts tmpfs and read-only roots, chowns, runs")
        || !require_tools(&["python3", "strace", "unshare", "prlimit", "mount", "umount"])
    {
        return;
    }
    if !Path::new("/bin/busybox").exists() {
        crate::env::skipped("needs a static busybox at /bin/busybox (Debian package busybox-static)");
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/torture.py");
    let out = Command::new("python3")
        .arg(&script)
        .env("MYVOL", assert_cmd::cargo::cargo_bin("myvol"))
        .env_remove("MYVOL_ROOT")
        .env_remove("MYVOL_FAILPOINT")
        .output()
        .expect("python3 bench/torture.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stdout.lines().last().unwrap_or("");
    let clean = last.split(", ").nth(1) == Some("0 failed") && !last.contains("skipped");
    assert!(
        out.status.success() && clean,
        "the torture run failed ({}): {last}\n--- its output:\n{stdout}\n--- its stderr:\n{stderr}",
        out.status
    );
}
