//! Throwaway system users for the rootless tests: a fresh name each time, removed on drop
//! with their home, group and subordinate ids, also when the test fails.

use std::path::PathBuf;
use std::process::Command;

pub struct TempUser {
    pub name: String,
    pub uid: u32,
    pub home: PathBuf,
}

impl TempUser {
    /// `useradd -m EXTRA… NAME` with a new name (`mvt-` and 8 hex digits), or `None` when the
    /// test is skipped here (not root, or no useradd/userdel).
    #[track_caller]
    pub fn create(extra: &[&str]) -> Option<TempUser> {
        if !super::require_root("creating a user") || !super::require_tools(&["useradd", "userdel"]) {
            return None;
        }
        let name = format!("mvt-{}", &myvol::fsutil::random_suffix()[..8]);
        let o = Command::new("useradd").arg("-m").args(extra).arg(&name).output().unwrap();
        assert!(o.status.success(), "useradd {name}: {}", String::from_utf8_lossy(&o.stderr));
        // From here on, drop removes it even if what follows fails.
        let mut user = TempUser { home: PathBuf::from("/home").join(&name), name, uid: u32::MAX };
        let o = Command::new("id").args(["-u", &user.name]).output().unwrap();
        user.uid = String::from_utf8_lossy(&o.stdout).trim().parse().expect("id -u");
        let o = Command::new("getent").args(["passwd", &user.name]).output().unwrap();
        if let Some(home) = String::from_utf8_lossy(&o.stdout).trim_end().split(':').nth(5) {
            user.home = PathBuf::from(home);
        }
        Some(user)
    }
}

impl Drop for TempUser {
    fn drop(&mut self) {
        // Whatever the test left running as the user (nothing, normally) goes first: userdel
        // refuses a user with processes.
        if self.uid != u32::MAX {
            for pid in processes_of(self.uid) {
                let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
            }
        }
        let o = Command::new("userdel").args(["-r", &self.name]).output();
        let removed = o.as_ref().is_ok_and(|o| o.status.success());
        let gone = Command::new("id").arg(&self.name).output().is_ok_and(|o| !o.status.success());
        if self.home.starts_with("/home") {
            let _ = std::fs::remove_dir_all(&self.home);
        }
        if !(removed || gone || std::thread::panicking()) {
            panic!("userdel -r {} failed: {o:?}", self.name);
        }
    }
}

/// The processes whose real uid is `uid`.
fn processes_of(uid: u32) -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.filter_map(|e| {
        let pid: i32 = e.ok()?.file_name().to_str()?.parse().ok()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let real: u32 = status.lines().find_map(|l| l.strip_prefix("Uid:"))?.split_whitespace().next()?.parse().ok()?;
        (real == uid).then_some(pid)
    })
    .collect()
}
