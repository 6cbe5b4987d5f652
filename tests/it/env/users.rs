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

impl TempUser {
    /// The first subordinate uid and gid ranges (`start`, `count`) of the user in
    /// `/etc/subuid` and `/etc/subgid`, if it has both.
    pub fn sub_ids(&self) -> Option<((u32, u32), (u32, u32))> {
        let first = |file: &str| {
            let text = std::fs::read_to_string(file).unwrap_or_default();
            text.lines().find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.len() == 3 && f[0] == self.name).then(|| Some((f[1].parse().ok()?, f[2].parse().ok()?))).flatten()
            })
        };
        Some((first("/etc/subuid")?, first("/etc/subgid")?))
    }

    /// A private directory in the user's home (`prefix` and random letters) holding a copy of
    /// myvol, removed on drop; [`UserDir::give`] it to the user once it is filled.
    pub fn dir(&self, prefix: &str) -> UserDir {
        let base = tempfile::Builder::new().prefix(prefix).tempdir_in(&self.home).unwrap();
        let bin = base.path().join("myvol");
        std::fs::copy(assert_cmd::cargo::cargo_bin("myvol"), &bin).unwrap();
        std::fs::set_permissions(&bin, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        UserDir { base, user: self.name.clone() }
    }
}

/// A user's directory with myvol in it ([`TempUser::dir`]), where myvol runs as that user
/// with its store in `store/`.
pub struct UserDir {
    base: tempfile::TempDir,
    user: String,
}

impl UserDir {
    pub fn path(&self) -> &std::path::Path {
        self.base.path()
    }

    /// Make everything in it the user's.
    pub fn give(&self) {
        let owner = format!("{0}:{0}", self.user);
        assert!(Command::new("chown").args(["-R", &owner]).arg(self.path()).status().unwrap().success());
    }

    /// `myvol --root DIR/store ARGS…` as the user (runuser), in DIR: status, stdout, stderr.
    pub fn myvol(&self, args: &[&str]) -> (i32, String, String) {
        let b = self.path();
        let o = Command::new("runuser")
            .args(["-u", &self.user, "--"])
            .arg(b.join("myvol"))
            .arg("--root")
            .arg(b.join("store"))
            .args(args)
            .current_dir(b)
            .env_remove("MYVOL_ROOT")
            .output()
            .unwrap();
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    }
}
