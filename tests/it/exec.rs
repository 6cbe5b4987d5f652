//! The run executor through `myvol exec-spec FILE`, with real mounts: a busybox rootfs in a
//! temporary directory, volumes from the test's store, and checks of what the command sees
//! and of what persists. Everything is mounted in the run's private mount namespace; a test
//! checks that the host's mount table never shows any of it.

use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::{Value, json};

use crate::env::tree::snapshot;
use crate::env::{HostNs, Out, Rig, Spawned, path_str, rig, wait_until};

/// mount(2) flags of Docker's tmpfs defaults: nosuid | nodev | noexec.
const TMPFS_DEFAULT_FLAGS: u64 = 2 | 4 | 8;

impl Rig {
    /// A spec running `sh -c SCRIPT` in the rig's rootfs.
    fn spec(&self, script: &str) -> Value {
        json!({"rootfs": self.rootfs, "command": ["sh", "-c", script]})
    }

    fn write_spec(&self, spec: &Value) -> PathBuf {
        self.n.set(self.n.get() + 1);
        let p = self.t.dir.path().join(format!("spec-{}.json", self.n.get()));
        std::fs::write(&p, serde_json::to_vec_pretty(spec).unwrap()).unwrap();
        p
    }

    fn run(&self, spec: &Value) -> Out {
        let p = self.write_spec(spec);
        let mut c = self.t.cmd();
        c.arg("--root").arg(&self.t.root).arg("exec-spec").arg(&p);
        self.t.exec(c, None)
    }

    fn volume(&self, name: &str) -> PathBuf {
        self.t.ok(&["volume", "create", name]);
        self.t.data(name)
    }

    /// What is left in `<root>/runs` (must be nothing once a run has ended).
    fn runs_left(&self) -> Vec<String> {
        self.t.entries("runs")
    }
}

fn bind(source: &Path, target: &str) -> Value {
    json!({"Bind": {"source": source, "target": target}})
}

#[test]
fn exec_volume_data_persists_and_the_run_leaves_nothing() {
    let Some(r) = rig() else { return };
    let data = r.volume("v1");
    let mut spec = r.spec("echo hello > /data/f && cat /data/f");
    spec["mounts"] = json!([bind(&data, "/data")]);
    let o = r.run(&spec);
    assert_eq!((o.code, o.stdout.as_str(), o.stderr.as_str()), (0, "hello\n", ""));
    assert_eq!(std::fs::read_to_string(data.join("f")).unwrap(), "hello\n");
    assert!(r.runs_left().is_empty(), "runs/ not cleaned: {:?}", r.runs_left());
    // The run held no lease and nothing is left mounted: the volume can go.
    r.t.ok(&["volume", "rm", "v1"]);
}

#[test]
fn exec_rootfs_is_unchanged_after_a_run_that_writes_everywhere() {
    let Some(r) = rig() else { return };
    let before = snapshot(&r.rootfs);
    let o = r.run(&r.spec(
        "echo x > /new; echo y >> /etc/hostname; rm /etc/notexec; mkdir -p /a/b; chmod 700 /etc; \
         touch /bin/busybox; rm /bin/ls; ln -s /x /bin/ls; chown 5:5 /bin; echo ok",
    ));
    assert_eq!((o.code, o.stdout.as_str()), (0, "ok\n"), "{o:#?}");
    assert_eq!(snapshot(&r.rootfs), before);
    assert!(r.runs_left().is_empty());
}

#[test]
fn exec_read_only_binds_are_recursively_read_only() {
    let Some(r) = rig() else { return };
    let src = r.t.dir.path().join("src");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    let mut spec = r.spec(
        "touch /ro/x 2>&1; echo rc=$?; touch /ro/sub/y 2>&1; echo rc=$?; grep -c ' /ro/sub ' /proc/self/mountinfo",
    );
    spec["mounts"] = json!([{"Bind": {"source": src, "target": "/ro", "access": "read-only"}}]);
    let f = r.write_spec(&spec);
    // A submount inside the bind source, made in a throwaway mount namespace of the test's own.
    let Some(ns) = HostNs::new() else { return };
    ns.sh(&format!("mount -t tmpfs none '{}'", src.join("sub").display()));
    let o = ns.run(&r, &["exec-spec", path_str(&f)]);
    assert_eq!(o.code, 0, "{o:#?}");
    assert_eq!(
        o.stdout, "touch: /ro/x: Read-only file system\nrc=1\ntouch: /ro/sub/y: Read-only file system\nrc=1\n1\n",
        "{o:#?}"
    );
    assert!(!src.join("x").exists());
}

#[test]
fn exec_tmpfs_size_is_enforced_and_defaults_apply() {
    let Some(r) = rig() else { return };
    let mut spec = r.spec(
        "dd if=/dev/zero of=/t/f bs=1024 count=2048 2>&1 | grep -o 'No space left on device'; \
         grep ' /t ' /proc/self/mountinfo | grep -o 'nosuid,nodev,noexec'",
    );
    spec["mounts"] = json!([{"Tmpfs": {"target": "/t", "flags": TMPFS_DEFAULT_FLAGS, "data": "size=1m"}}]);
    let o = r.run(&spec);
    assert_eq!((o.code, o.stdout.as_str()), (0, "No space left on device\nnosuid,nodev,noexec\n"), "{o:#?}");
}

#[test]
fn exec_subpath_works_and_escapes_are_refused() {
    let Some(r) = rig() else { return };
    let data = r.volume("sp");
    std::fs::create_dir_all(data.join("sub")).unwrap();
    std::fs::write(data.join("sub/f"), "in sub\n").unwrap();
    symlink("sub", data.join("good")).unwrap();
    symlink("/", data.join("root")).unwrap();
    symlink("../../../../../../../..", data.join("up")).unwrap();
    for sub in ["sub", "good"] {
        let mut spec = r.spec("cat /s/f");
        spec["mounts"] = json!([{"Bind": {"source": data, "subpath": sub, "target": "/s"}}]);
        let o = r.run(&spec);
        assert_eq!((o.code, o.stdout.as_str()), (0, "in sub\n"), "{sub}: {o:#?}");
    }
    for sub in ["root", "up"] {
        let mut spec = r.spec("ls /s");
        spec["mounts"] = json!([{"Bind": {"source": data, "subpath": sub, "target": "/s"}}]);
        let o = r.run(&spec);
        assert_eq!(o.code, 125, "{sub}: {o:#?}");
        assert!(o.stderr.contains("subpath escapes the volume"), "{sub}: {o:#?}");
        assert_eq!(o.stdout, "");
    }
    assert!(r.runs_left().is_empty());
}

#[test]
fn exec_copy_up_fills_an_empty_volume_only() {
    let Some(r) = rig() else { return };
    let app = r.rootfs.join("etc/app");
    std::fs::create_dir_all(app.join("dir")).unwrap();
    std::fs::write(app.join("conf"), "image conf\n").unwrap();
    std::fs::write(app.join("dir/x"), "x\n").unwrap();
    symlink("conf", app.join("link")).unwrap();
    std::fs::set_permissions(&app, std::fs::Permissions::from_mode(0o1777)).unwrap();
    nix::unistd::chown(&app, Some(1000.into()), Some(1000.into())).unwrap();
    let empty = r.volume("empty");
    let full = r.volume("full");
    std::fs::write(full.join(".keep"), "").unwrap();
    let mut spec = r.spec("cat /etc/app/conf; cat /etc/app/link");
    for vol in [&empty, &full] {
        spec["mounts"] = json!([{"Bind": {"source": vol, "target": "/etc/app", "copy_up": true}}]);
        let o = r.run(&spec);
        if vol == &empty {
            assert_eq!((o.code, o.stdout.as_str()), (0, "image conf\nimage conf\n"), "{o:#?}");
        } else {
            assert_eq!(o.code, 1, "{o:#?}");
        }
    }
    assert_eq!(std::fs::read_to_string(empty.join("dir/x")).unwrap(), "x\n");
    assert_eq!(std::fs::read_link(empty.join("link")).unwrap(), Path::new("conf"));
    let m = std::fs::metadata(&empty).unwrap();
    assert_eq!((m.mode() & 0o7777, m.uid(), m.gid()), (0o1777, 1000, 1000));
    let names: Vec<_> = std::fs::read_dir(&full).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, vec![std::ffi::OsString::from(".keep")]);
}

#[test]
fn exec_symlinked_targets_never_reach_the_host() {
    let Some(r) = rig() else { return };
    // A host directory the test owns plays the host's /etc.
    let host = r.t.dir.path().join("host-etc");
    std::fs::create_dir(&host).unwrap();
    symlink(&host, r.rootfs.join("data")).unwrap();
    let vol = r.volume("sl");
    std::fs::write(vol.join("v"), "vol\n").unwrap();
    let mut spec = r.spec("cat /data/x/v");
    spec["mounts"] = json!([bind(&vol, "/data/x"), {"Tmpfs": {"target": "/data/t", "flags": 0, "data": ""}}]);
    // The link dangles inside the rootfs: refused, nothing created on the host.
    let o = r.run(&spec);
    assert_eq!(o.code, 125, "{o:#?}");
    assert_eq!(std::fs::read_dir(&host).unwrap().count(), 0);
    // With its target present inside the rootfs, the link is followed there, as the process
    // would see it; the host directory stays empty.
    let inside = r.rootfs.join(host.strip_prefix("/").unwrap());
    std::fs::create_dir_all(&inside).unwrap();
    let o = r.run(&spec);
    assert_eq!((o.code, o.stdout.as_str()), (0, "vol\n"), "{o:#?}");
    assert_eq!(std::fs::read_dir(&host).unwrap().count(), 0);
    assert_eq!(std::fs::read_dir(&inside).unwrap().count(), 0, "mount points go to the overlay's upper layer");
    // /dev, /proc and /sys symlinked to the host are replaced in the overlay, not followed.
    for d in ["dev", "proc", "sys"] {
        symlink(&host, r.rootfs.join(d)).unwrap();
    }
    let o = r.run(&r.spec("ls /dev/null /proc/self/status >/dev/null && echo ok"));
    assert_eq!((o.code, o.stdout.as_str()), (0, "ok\n"), "{o:#?}");
    assert_eq!(std::fs::read_dir(&host).unwrap().count(), 0);
}

#[test]
fn exec_exit_codes() {
    let Some(r) = rig() else { return };
    assert_eq!(r.run(&r.spec("exit 0")).code, 0);
    assert_eq!(r.run(&r.spec("exit 1")).code, 1);
    assert_eq!(r.run(&r.spec("exit 42")).code, 42);
    let o = r.run(&json!({"rootfs": r.rootfs, "command": ["/etc/notexec"]}));
    assert_eq!((o.code, o.stderr.as_str()), (126, "Error: exec: \"/etc/notexec\": permission denied\n"));
    let o = r.run(&json!({"rootfs": r.rootfs, "command": ["no-such-command"]}));
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (127, "Error: exec: \"no-such-command\": executable file not found in $PATH\n")
    );
    let o = r.run(&json!({"rootfs": r.rootfs, "command": ["/no/such"]}));
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (127, "Error: exec: \"/no/such\": stat /no/such: no such file or directory\n")
    );
    // Bad specs: myvol's own failure.
    let mut spec = r.spec("true");
    spec["mounts"] = json!([bind(Path::new("/tmp"), "relative")]);
    let o = r.run(&spec);
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (125, "Error: invalid exec spec: invalid mount path: 'relative' mount path must be absolute\n")
    );
    let f = r.t.dir.path().join("bad.json");
    std::fs::write(&f, "{not json").unwrap();
    let o = r.t.run(&["exec-spec", f.to_str().unwrap()]);
    assert_eq!(o.code, 125, "{o:#?}");
    assert!(o.stderr.starts_with("Error: invalid exec spec "), "{o:#?}");
    let mut spec = r.spec("true");
    spec["mounts"] = json!([bind(Path::new("/nonexistent-source"), "/x")]);
    // A setup step that fails goes by its errno, as Docker's rule goes by runc's words: 127
    // for "no such file or directory".
    let o = r.run(&spec);
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (127, "Error: error mounting \"/nonexistent-source\" to rootfs at \"/x\": no such file or directory\n")
    );
    assert!(r.runs_left().is_empty());
}

#[derive(Clone, Copy, PartialEq)]
enum To {
    Myvol,
    /// The whole process group of myvol, as a terminal's Ctrl-C does.
    Group,
    /// The command itself, from outside its PID namespace.
    Command,
}

/// Start a run whose shell traps INT and TERM (counting INTs), wait until it says it is
/// ready, send `sig`, and return how it ended. The shell polls in short foreground sleeps,
/// so a trap runs within 0.1 s whenever the signal arrives (no `wait` race), and it gives up
/// after 30 s. After the first INT it waits 0.3 s more: the window in which a second delivery
/// would be counted (that wait is what is observed, not a wait for readiness).
fn signal_run(r: &Rig, sig: nix::sys::signal::Signal, to: To) -> (i32, String) {
    let f = r.write_spec(&r.spec(
        "trap 'n=$((n+1))' INT; trap 'echo got TERM; exit 143' TERM; echo ready; i=0; \
         while [ -z \"$n\" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; sleep 0.3; echo got INT x$n; exit 130",
    ));
    let mut c = r.t.cmd();
    c.arg("exec-spec").arg(&f).stdin(Stdio::null()).stderr(Stdio::piped());
    let (mut child, mut out) = Spawned::ready(std::os::unix::process::CommandExt::process_group(&mut c, 0), "ready\n");
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    match to {
        To::Command => {
            let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap();
            let cpid: i32 = children.split_whitespace().next().unwrap().parse().unwrap();
            nix::sys::signal::kill(nix::unistd::Pid::from_raw(cpid), sig).unwrap();
        }
        To::Myvol => nix::sys::signal::kill(pid, sig).unwrap(),
        To::Group => nix::sys::signal::killpg(pid, sig).unwrap(),
    }
    let code = child.wait();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    (code, rest)
}

#[test]
fn exec_signals_are_forwarded_and_deaths_by_signal_are_128_plus_n() {
    let Some(r) = rig() else { return };
    use nix::sys::signal::Signal;
    assert_eq!(signal_run(&r, Signal::SIGTERM, To::Myvol), (143, "got TERM\n".to_owned()));
    assert_eq!(signal_run(&r, Signal::SIGINT, To::Myvol), (130, "got INT x1\n".to_owned()));
    // A terminal's Ctrl-C hits the whole foreground group: the command, in a session of its
    // own, gets it through the supervisor. (Two deliveries close together would coalesce, so
    // this does not prove there is only one; the session is what ensures that.)
    assert_eq!(signal_run(&r, Signal::SIGINT, To::Group), (130, "got INT x1\n".to_owned()));
    // SIGKILL from outside the PID namespace kills its init: 128 + 9.
    assert_eq!(signal_run(&r, Signal::SIGKILL, To::Command), (137, String::new()));
    assert!(r.runs_left().is_empty());
}

#[test]
fn exec_namespaces_hostname_network_and_privileges() {
    let Some(r) = rig() else { return };
    let mut spec = r.spec(
        "echo pid=$$; cat /proc/1/comm; hostname; ls /sys/class/net; cat /sys/class/net/lo/flags; \
         grep CapBnd /proc/self/status; grep ' /proc/sys ' /proc/self/mountinfo | grep -c ' ro,'; \
         ls /dev | tr '\\n' ' '",
    );
    spec["hostname"] = json!("box1");
    spec["network"] = json!("none");
    let o = r.run(&spec);
    assert_eq!(
        o.stdout,
        "pid=1\nsh\nbox1\nlo\n0x9\nCapBnd:\t00000000a80425fb\n1\n\
         core fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero ",
        "{o:#?}"
    );
    assert_eq!(o.code, 0);
    // Without a hostname: the run id's first 12 characters, as Docker does.
    let o = r.run(&r.spec("hostname | grep -cE '^[0-9a-f]{12}$'"));
    assert_eq!(o.stdout, "1\n");
}

#[test]
fn exec_user_workdir_env_and_read_only_root() {
    let Some(r) = rig() else { return };
    let mut spec = r.spec(
        "id -u; id -g; pwd; echo $FOO $HOME; grep CapEff /proc/self/status; touch /x 2>&1; touch /t/ok && echo tmp-ok",
    );
    spec["user"] = json!([1000, 1000]);
    spec["workdir"] = json!("/w/x");
    spec["env"] = json!(["FOO=bar"]);
    spec["read_only"] = json!(true);
    spec["mounts"] = json!([{"Tmpfs": {"target": "/t", "flags": TMPFS_DEFAULT_FLAGS, "data": "mode=1777"}}]);
    let o = r.run(&spec);
    assert_eq!(
        o.stdout, "1000\n1000\n/w/x\nbar /\nCapEff:\t0000000000000000\ntouch: /x: Read-only file system\ntmp-ok\n",
        "{o:#?}"
    );
}

#[test]
fn exec_mounts_never_reach_the_hosts_mount_table() {
    let Some(r) = rig() else { return };
    let data = r.volume("leak");
    let mut spec = r.spec("grep -c . /proc/self/mountinfo >/dev/null && echo ran");
    spec["mounts"] = json!([bind(&data, "/data"), {"Tmpfs": {"target": "/t", "flags": 0, "data": ""}}]);
    let o = r.run(&spec);
    assert_eq!(o.stdout, "ran\n", "{o:#?}");
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let dir = r.t.dir.path().to_string_lossy().into_owned();
    assert!(!mountinfo.contains(&dir), "a mount leaked to the host:\n{mountinfo}");
    // And a failing run leaks nothing either.
    spec["mounts"] = json!([bind(&data, "/data"), bind(Path::new("/nonexistent-source"), "/y")]);
    assert_eq!(r.run(&spec).code, 127);
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mountinfo.contains(&dir), "a mount leaked to the host:\n{mountinfo}");
    assert!(r.runs_left().is_empty());
}

#[test]
fn exec_stdin_only_with_interactive() {
    let Some(r) = rig() else { return };
    let mut spec = r.spec("cat; echo end");
    let f = r.write_spec(&spec);
    let o = r.t.run_stdin(&["exec-spec", f.to_str().unwrap()], "typed\n");
    assert_eq!((o.code, o.stdout.as_str()), (0, "end\n"), "{o:#?}");
    spec["interactive"] = json!(true);
    let f = r.write_spec(&spec);
    let o = r.t.run_stdin(&["exec-spec", f.to_str().unwrap()], "typed\n");
    assert_eq!((o.code, o.stdout.as_str()), (0, "typed\nend\n"), "{o:#?}");
}

#[test]
fn exec_volumes_are_leased_while_the_command_runs() {
    let Some(r) = rig() else { return };
    let data = r.volume("busy");
    let mut spec =
        r.spec("trap 'exit 0' TERM; echo ready; i=0; while [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; exit 7");
    spec["mounts"] = json!([bind(&data, "/data")]);
    let f = r.write_spec(&spec);
    let mut c = r.t.cmd();
    c.arg("exec-spec").arg(&f).stdin(Stdio::null()).stderr(Stdio::piped());
    let (mut child, _out) = Spawned::ready(&mut c, "ready\n");
    let o = r.t.run(&["volume", "rm", "busy"]);
    assert_eq!(o.code, 1, "{o:#?}");
    assert!(o.stderr.starts_with("Error: remove busy: volume is in use - ["), "{o:#?}");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
    assert_eq!(child.wait(), 0);
    r.t.ok(&["volume", "rm", "busy"]);
    assert!(r.runs_left().is_empty());
}

#[test]
fn exec_a_killed_supervisor_takes_the_command_along_and_its_run_dir_is_cleaned() {
    let Some(r) = rig() else { return };
    let f = r.write_spec(&r.spec("echo ready; sleep 100 & wait $!"));
    let mut c = r.t.cmd();
    c.arg("exec-spec").arg(&f).stdin(Stdio::null()).stderr(Stdio::piped());
    let (mut child, _out) = Spawned::ready(&mut c, "ready\n");
    let pid = child.id();
    let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap();
    let cpid: u32 = children.split_whitespace().next().unwrap().parse().unwrap();
    child.child().kill().unwrap();
    child.wait();
    assert_eq!(r.runs_left().len(), 1, "the crash leaves its run directory");
    // The command dies with its supervisor (parent-death signal): gone, or a zombie waiting
    // for whoever inherited it.
    wait_until("the command outlived its supervisor", std::time::Duration::from_secs(2), || {
        match std::fs::read_to_string(format!("/proc/{cpid}/stat")) {
            Err(_) => true,
            Ok(stat) => stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')),
        }
    });
    // The next mutation removes the unlocked leftover.
    r.t.ok(&["volume", "create", "after-crash"]);
    assert!(r.runs_left().is_empty(), "{:?}", r.runs_left());
}
