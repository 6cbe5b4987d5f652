//! A test that cannot run here says so: one way to skip.
//!
//! A test that needs what this machine lacks (root, a tool, a kernel feature) calls
//! `skip!("reason")`, or one of `require_root`, `require_tools`, `rig()`, `HostNs::new()`,
//! which skip for it. Then:
//! - under `CI=true` (any value of `CI` but empty, `0` or `false`) the skip **fails** the test,
//!   with the reason: CI must run every test;
//! - elsewhere the test returns early and passes, and prints one line on the real stderr,
//!   which libtest does not capture: `SKIPPED module::test (a failure under CI=true): reason`,
//!   next to the test's own `test module::test ... ok`.
//!
//! (A count after libtest's `test result:` line is not possible: libtest has no hook at its
//! end, and a process that prints once the test binary has exited races with cargo's next
//! lines.)

use std::io::Write;

/// Whether this run is CI's: then a test that cannot run fails.
pub fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
}

/// Skip the calling test: return from it after `skip!` has failed it (CI) or noted the reason.
macro_rules! skip {
    ($($arg:tt)+) => {{
        $crate::env::skipped(format_args!($($arg)+));
        return;
    }};
}
pub(crate) use skip;

/// Record that the running test cannot run here, for `reason`; under CI, panic instead.
/// The caller returns early (see `skip!`).
#[track_caller]
pub fn skipped(reason: impl std::fmt::Display) {
    if ci() {
        panic!("this test cannot run here: {reason} (CI is set: a test that cannot run fails; unset CI to skip it)");
    }
    let at = std::panic::Location::caller();
    let name = match std::thread::current().name() {
        Some(n) if n != "main" => n.to_owned(),
        _ => format!("{}:{}", at.file(), at.line()),
    };
    report(&format!("SKIPPED {name} (a failure under CI=true): {reason}\n"));
}

/// Whether this process runs as root; if not, the test is skipped (`needs root (for WHAT)`).
#[must_use]
#[track_caller]
pub fn require_root(what: &str) -> bool {
    let root = rustix::process::geteuid().is_root();
    if !root {
        skipped(format_args!("needs root ({what})"));
    }
    root
}

/// Whether every tool is on `PATH`; if one is not, the test is skipped, naming it and the
/// Debian package that has it.
#[must_use]
#[track_caller]
pub fn require_tools(tools: &[&str]) -> bool {
    match tools.iter().find(|t| super::which(t).is_none()) {
        None => true,
        Some(t) => {
            skipped(format_args!("needs {t} on PATH (Debian package {})", package(t)));
            false
        }
    }
}

/// The Debian package of a tool the tests use (`.ci/run` installs them).
fn package(tool: &str) -> &'static str {
    match tool {
        "mkfs.ext4" => "e2fsprogs",
        "fusermount3" => "fuse3",
        "newuidmap" | "newgidmap" => "uidmap",
        "useradd" | "userdel" => "passwd",
        "rclone" => "rclone",
        "podman" => "podman",
        "tar" => "tar",
        "busybox" => "busybox-static",
        "script" => "bsdutils",
        "losetup" => "mount",
        "docker-registry" => "docker-registry",
        "skopeo" => "skopeo",
        "openssl" => "openssl",
        "curl" => "curl",
        "ip" => "iproute2",
        "bwrap" => "bubblewrap",
        _ => "util-linux",
    }
}

/// Print `line` on the real stderr at once: libtest captures only what `print!`/`eprint!`
/// write, so a direct write shows even for a test that passes.
fn report(line: &str) {
    // `cargo test -q` prints a row of dots without line ends: start a line of our own.
    let quiet = std::env::args().any(|a| a == "-q" || a == "--quiet" || a == "--format=terse");
    let text = format!("{}{line}", if quiet { "\n" } else { "" });
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}
