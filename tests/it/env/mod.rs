//! The test env: `TestEnv`, a private temporary store and helpers to run `myvol` against it,
//! asserting exit code, stdout and stderr together; and every helper the tests share, one
//! definition each:
//! - `skip`: a test that cannot run here says so (`skip!`, `require_root`, `require_tools`);
//! - `proc`: child processes killed on drop (`Spawned`), waits with a deadline (`wait_until`);
//! - `rig`: a busybox rootfs for the tests that run commands;
//! - `hostns`: a mount namespace standing for the host (`HostNs`), a loop device (`LoopDev`);
//! - `users`: throwaway system users (`TempUser`);
//! - `fixtures`: the recorded Docker and podman outputs;
//! - `tree`: a tree described entry by entry, to compare copies.

#![allow(dead_code)]

mod fixtures;
mod hostns;
mod proc;
mod rig;
mod skip;
pub mod tree;
mod users;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use assert_cmd::cargo::CommandCargoExt;

pub use fixtures::{Fixture, case_dirs, fixture, fixtures_dir, try_fixture};
pub use hostns::{HostNs, LoopDev};
pub use proc::{PATIENCE, Spawned, wait_for_path, wait_until};
pub use rig::{Rig, rig};
pub(crate) use skip::skip;
pub use skip::{require_root, require_tools, skipped};
pub use users::{TempUser, UserDir};

pub struct TestEnv {
    pub dir: tempfile::TempDir,
    pub root: PathBuf,
}

/// What a run printed and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    /// Assert success and return stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(self.code, 0, "expected success, got {self:#?}");
        &self.stdout
    }
}

impl TestEnv {
    pub fn new() -> TestEnv {
        let dir = tempfile::Builder::new().prefix("myvol-test-").tempdir().expect("tempdir");
        let root = dir.path().join("root");
        TestEnv { dir, root }
    }

    /// A store whose root path is as long as Docker's `/var/lib/docker`, so that tables
    /// with a MOUNTPOINT column line up exactly as in the recorded fixtures.
    pub fn with_docker_root_len() -> TestEnv {
        let dir = tempfile::Builder::new().prefix("mv").rand_bytes(6).tempdir_in("/tmp").expect("tempdir");
        let root = dir.path().join("r");
        assert_eq!(root.as_os_str().len(), "/var/lib/docker".len());
        TestEnv { dir, root }
    }

    /// A `myvol` command with this env's store (through `MYVOL_ROOT`, so the arguments are
    /// exactly a user's), and a Docker CLI config directory of its own (`docker-config`, absent
    /// until a test writes it), so that the machine's `~/.docker/config.json` cannot reach it.
    pub fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("myvol").expect("myvol binary");
        c.env("MYVOL_ROOT", &self.root)
            .env("DOCKER_CONFIG", self.dir.path().join("docker-config"))
            .env("MYVOL_PLUGIN_PATH", self.dir.path().join("plugins"))
            .env_remove("MYVOL_FAILPOINT")
            .env("TZ", "UTC")
            .current_dir(self.dir.path());
        c
    }

    pub fn run(&self, args: &[&str]) -> Out {
        self.run_with(args, None)
    }

    pub fn run_stdin(&self, args: &[&str], stdin: &str) -> Out {
        self.run_with(args, Some(stdin))
    }

    fn run_with(&self, args: &[&str], stdin: Option<&str>) -> Out {
        let mut c = self.cmd();
        c.args(args);
        self.exec(c, stdin)
    }

    pub fn exec(&self, mut c: Command, stdin: Option<&str>) -> Out {
        use std::io::Write;
        c.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().expect("spawn myvol");
        if let Some(s) = stdin {
            // myvol may end before it reads all of its input (an error found first): the
            // broken pipe is not the test's failure, what myvol printed and its status are.
            match child.stdin.take().unwrap().write_all(s.as_bytes()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => panic!("write myvol's stdin: {e}"),
                _ => {}
            }
        }
        let o = child.wait_with_output().expect("wait myvol");
        Out {
            code: o.status.code().unwrap_or(-1),
            stdout: self.filter(&String::from_utf8_lossy(&o.stdout)),
            stderr: self.filter(&String::from_utf8_lossy(&o.stderr)),
        }
    }

    /// Replace this env's root path by `<ROOT>`, as the Docker fixtures do.
    pub fn filter(&self, s: &str) -> String {
        s.replace(self.root.to_str().unwrap(), "<ROOT>")
    }

    /// Run and assert the exit code, stdout and stderr together.
    #[track_caller]
    pub fn expect(&self, args: &[&str], code: i32, stdout: &str, stderr: &str) {
        let o = self.run(args);
        assert_eq!((o.code, o.stdout.as_str(), o.stderr.as_str()), (code, stdout, stderr), "myvol {}", args.join(" "));
    }

    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert_eq!(o.code, 0, "myvol {}: {o:#?}", args.join(" "));
        o.stdout
    }

    pub fn volumes(&self) -> PathBuf {
        self.root.join("volumes")
    }

    pub fn data(&self, name: &str) -> PathBuf {
        self.root.join("volumes").join(name).join("_data")
    }

    /// Assert that the store holds only what docs/store-format.md describes for a store at
    /// rest (no command running): the root's own files and directories, nothing left in
    /// `tmp/`, `trash/`, `runs/` or `mounts/`, and in each volume only `_data`, `leases/`
    /// (empty), `volume.json` and a size-limited volume's `disk.img`. What a mutation must
    /// leave, however earlier commands died.
    #[track_caller]
    pub fn assert_store_at_rest(&self) {
        let known = ["mounts", "runs", "store.json", "store.lock", "tmp", "trash", "volumes"];
        for e in self.entries("") {
            assert!(known.contains(&e.as_str()), "unexpected entry at the root: {e}");
        }
        for dir in ["tmp", "trash", "runs", "mounts"] {
            assert!(self.entries(dir).is_empty(), "left in {dir}/: {:?}", self.entries(dir));
        }
        for v in self.entries("volumes") {
            for e in self.entries(&format!("volumes/{v}")) {
                assert!(
                    ["_data", "disk.img", "leases", "volume.json"].contains(&e.as_str()),
                    "unexpected entry in volume {v}: {e}"
                );
            }
            let leases = self.entries(&format!("volumes/{v}/leases"));
            assert!(leases.is_empty(), "lease files left in volume {v}: {leases:?}");
        }
    }

    /// The names of the entries of a directory under the root, sorted (empty if missing).
    pub fn entries(&self, rel: &str) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.root.join(rel))
            .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        v.sort();
        v
    }
}

impl Drop for TestEnv {
    /// Make the directories the test left read-only (`0555` in archive trees) writable again,
    /// so that the temporary directory can go also for a user who is not root.
    fn drop(&mut self) {
        fn writable(dir: &Path) {
            use std::os::unix::fs::PermissionsExt;
            let Ok(entries) = std::fs::read_dir(dir) else { return };
            for e in entries.flatten() {
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    let p = e.path();
                    if let Ok(m) = std::fs::symlink_metadata(&p) {
                        let mode = m.permissions().mode();
                        if mode & 0o700 != 0o700 {
                            let _ = std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode | 0o700));
                        }
                    }
                    writable(&p);
                }
            }
        }
        if !rustix::process::geteuid().is_root() {
            writable(self.dir.path());
        }
    }
}

/// Replace every 64-hex-digit id by `<ID>`.
pub fn mask_ids(s: &str) -> String {
    let re = regex::Regex::new(r"\b[0-9a-f]{64}\b").unwrap();
    re.replace_all(s, "<ID>").into_owned()
}

/// Replace RFC 3339 timestamps by `<TIME>`.
pub fn mask_times(s: &str) -> String {
    let re = regex::Regex::new(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)").unwrap();
    re.replace_all(s, "<TIME>").into_owned()
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Where `prog` is on `PATH` (an executable file), if anywhere.
pub fn which(prog: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(prog))
        .find(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
}
