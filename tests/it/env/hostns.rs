//! A "host" the test owns: a private mount namespace (`unshare -m`, entered with `nsenter`)
//! in which myvol's host-side mounts live and die with the test, even when it fails; and an
//! ext4 image on a loop device, detached on drop.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use assert_cmd::cargo::cargo_bin;

use super::{Out, PATIENCE, Rig, path_str, wait_until};

/// A private mount namespace held open by a `sleep` until drop; the processes started in it
/// are killed on drop too.
pub struct HostNs {
    holder: Child,
    pub children: Vec<Child>,
}

impl HostNs {
    /// A new namespace, or `None` when the test is skipped here (no unshare or nsenter).
    #[track_caller]
    pub fn new() -> Option<HostNs> {
        if !super::require_tools(&["unshare", "nsenter"]) {
            return None;
        }
        let holder = Command::new("unshare")
            .args(["-m", "--propagation", "private", "sleep", "100000"])
            .spawn()
            .expect("unshare");
        let ns = HostNs { holder, children: Vec::new() };
        let mine = std::fs::read_link("/proc/self/ns/mnt").unwrap();
        let path = format!("/proc/{}/ns/mnt", ns.holder.id());
        wait_until("unshare enters its mount namespace", PATIENCE, || {
            std::fs::read_link(&path).is_ok_and(|l| l != mine)
        });
        Some(ns)
    }

    /// `PROGRAM` inside the namespace.
    pub fn enter(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new("nsenter");
        c.arg(format!("--mount=/proc/{}/ns/mnt", self.holder.id())).arg("--").arg(program);
        c
    }

    /// `sh -c SCRIPT` inside the namespace; panics unless it succeeds.
    #[track_caller]
    pub fn sh(&self, script: &str) {
        let o = self.enter("sh").args(["-c", script]).output().unwrap();
        assert!(o.status.success(), "{script}: {}", String::from_utf8_lossy(&o.stderr));
    }

    /// `myvol ARGS…` inside the namespace, with the rig's store.
    pub fn cmd(&self, r: &Rig, args: &[&str]) -> Command {
        let mut c = self.enter(cargo_bin("myvol"));
        c.args(args);
        c.env("MYVOL_ROOT", &r.t.root)
            .env("MYVOL_PLUGIN_PATH", r.t.dir.path().join("plugins"))
            .env("TZ", "UTC")
            .current_dir(r.t.dir.path());
        c
    }

    pub fn run(&self, r: &Rig, args: &[&str]) -> Out {
        r.t.exec(self.cmd(r, args), None)
    }

    #[track_caller]
    pub fn ok(&self, r: &Rig, args: &[&str]) -> String {
        let o = self.run(r, args);
        assert_eq!(o.code, 0, "myvol {}: {o:#?}", args.join(" "));
        o.stdout
    }

    /// Start `myvol run ARGS… ROOTFS sh -c SCRIPT` in the background; its index in `children`.
    pub fn spawn_run(&mut self, r: &Rig, args: &[&str], script: &str) -> usize {
        let mut all = vec!["run"];
        all.extend_from_slice(args);
        all.extend_from_slice(&[path_str(&r.rootfs), "sh", "-c", script]);
        let child = self.cmd(r, &all).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("spawn");
        self.children.push(child);
        self.children.len() - 1
    }

    /// Wait for the child `i`; its exit code, or -1 for a death by signal.
    pub fn wait(&mut self, i: usize) -> i32 {
        self.children[i].wait().unwrap().code().unwrap_or(-1)
    }

    /// The mount points under `dir` in the namespace, with their filesystem types and sources.
    pub fn mounts_under(&self, dir: &Path) -> Vec<(String, String, String)> {
        let text = std::fs::read_to_string(format!("/proc/{}/mountinfo", self.holder.id())).unwrap();
        text.lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split(' ').collect();
                let sep = f.iter().position(|x| *x == "-")?;
                let point = f[4].replace("\\040", " ");
                point.starts_with(path_str(dir)).then(|| (point, f[sep + 1].to_owned(), f[sep + 2].to_owned()))
            })
            .collect()
    }
}

impl Drop for HostNs {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

/// A 16 MiB ext4 image in `dir` on a loop device, detached on drop (at once, or when its last
/// mount goes: the namespace holding it dies with the test).
pub struct LoopDev {
    pub dev: String,
}

impl LoopDev {
    /// `None` when the test is skipped here (no losetup, mkfs.ext4 or free loop device).
    #[track_caller]
    pub fn new(dir: &Path) -> Option<LoopDev> {
        if !super::require_tools(&["losetup", "mkfs.ext4"]) {
            return None;
        }
        let img = dir.join("disk.img");
        let f = std::fs::File::create(&img).unwrap();
        f.set_len(16 << 20).unwrap();
        let o = Command::new("mkfs.ext4").args(["-q", "-F"]).arg(&img).output().unwrap();
        assert!(o.status.success(), "{o:?}");
        let o = Command::new("losetup").args(["-f", "--show"]).arg(&img).output().unwrap();
        if !o.status.success() {
            super::skipped(format_args!("needs a loop device: {}", String::from_utf8_lossy(&o.stderr).trim()));
            return None;
        }
        Some(LoopDev { dev: String::from_utf8_lossy(&o.stdout).trim().to_owned() })
    }
}

impl Drop for LoopDev {
    fn drop(&mut self) {
        let _ = Command::new("losetup").args(["-d", &self.dev]).status();
    }
}
