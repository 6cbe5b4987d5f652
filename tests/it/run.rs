//! `myvol run` for real, through the binary: a busybox rootfs built by the test (the rig of
//! `exec.rs`), volumes in the test's private store, real mounts in the run's private
//! namespaces. Tests that need a mount on the host side run myvol inside `HostNs`, a mount
//! namespace the test owns and that disappears with it.

use std::io::{Read, Write};
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::env::tree::snapshot;
use crate::env::{
    HostNs, Out, PATIENCE, Rig, Spawned, TempUser, UserDir, path_str, require_tools, rig, wait_for_path, wait_until,
};

impl Rig {
    fn root_str(&self) -> &str {
        path_str(&self.t.root)
    }

    fn rootfs_str(&self) -> &str {
        path_str(&self.rootfs)
    }

    /// `myvol run ARGS… ROOTFS COMMAND…`.
    fn myvol_run(&self, args: &[&str], command: &[&str]) -> Out {
        self.myvol_run_stdin(args, command, None)
    }

    fn myvol_run_stdin(&self, args: &[&str], command: &[&str], stdin: Option<&str>) -> Out {
        let mut all = vec!["run"];
        all.extend_from_slice(args);
        all.push(self.rootfs_str());
        all.extend_from_slice(command);
        let mut c = self.t.cmd();
        c.args(&all);
        self.t.exec(c, stdin)
    }

    /// `myvol run ARGS… ROOTFS sh -c SCRIPT`.
    fn sh(&self, args: &[&str], script: &str) -> Out {
        self.myvol_run(args, &["sh", "-c", script])
    }

    fn volumes(&self) -> Vec<String> {
        self.t.ok(&["volume", "ls", "-q"]).lines().map(str::to_owned).collect()
    }

    fn host_dir(&self, name: &str) -> std::path::PathBuf {
        let d = self.t.dir.path().join(name);
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}

fn is_anonymous_name(n: &str) -> bool {
    n.len() == 64 && n.bytes().all(|b| b.is_ascii_hexdigit())
}

#[test]
fn run_named_volume_is_created_on_first_use_and_persists() {
    let Some(r) = rig() else { return };
    let o = r.sh(&["-v", "data:/data"], "echo hello > /data/f && cat /data/f");
    assert_eq!((o.code, o.stdout.as_str(), o.stderr.as_str()), (0, "hello\n", ""));
    assert_eq!(r.volumes(), ["data"]);
    assert_eq!(std::fs::read_to_string(r.t.data("data").join("f")).unwrap(), "hello\n");
    let o = r.sh(&["--mount", "type=volume,src=data,dst=/again"], "cat /again/f");
    assert_eq!((o.code, o.stdout.as_str()), (0, "hello\n"), "{o:#?}");
    assert!(r.t.entries("runs").is_empty());
    // Nothing holds it any more.
    r.t.ok(&["volume", "rm", "data"]);
}

#[test]
fn run_anonymous_volumes_rm_removes_them_and_keeps_named_ones() {
    let Some(r) = rig() else { return };
    let o = r.sh(&["--rm", "-v", "keep:/k", "-v", "/anon", "--mount", "type=volume,dst=/anon2"], "touch /k/x /anon/y");
    assert_eq!(o.code, 0, "{o:#?}");
    assert_eq!(r.volumes(), ["keep"]);
    // Without --rm the anonymous volume stays with its data, and is dangling at once: there is
    // no stopped container to hold it, as Docker's would until `docker rm` (docs/run.md, "Runs
    // leave no container").
    let o = r.sh(&["-v", "/anon"], "echo kept > /anon/y");
    assert_eq!(o.code, 0, "{o:#?}");
    let dangling = r.t.ok(&["volume", "ls", "-q", "-f", "dangling=true"]);
    let anon: Vec<&str> = dangling.lines().filter(|n| is_anonymous_name(n)).collect();
    assert_eq!(anon.len(), 1, "{dangling}");
    assert_eq!(std::fs::read_to_string(r.t.data(anon[0]).join("y")).unwrap(), "kept\n");
    // Nothing holds it: `volume rm` takes it (and so would `volume prune`).
    let o = r.sh(&["-v", "/anon"], "true");
    assert_eq!(o.code, 0, "{o:#?}");
    let second: Vec<String> = r.volumes().into_iter().filter(|n| is_anonymous_name(n) && n != anon[0]).collect();
    assert_eq!(second.len(), 1, "{second:?}");
    r.t.ok(&["volume", "rm", &second[0]]);
    // --rm also cleans up after a failed command.
    let o = r.myvol_run(&["--rm", "-v", "/anon3"], &["no-such-command"]);
    assert_eq!(o.code, 127, "{o:#?}");
    assert_eq!(r.volumes().len(), 2);
}

#[test]
fn run_read_only_mounts_give_erofs_also_on_submounts() {
    let Some(r) = rig() else { return };
    let Some(ns) = HostNs::new() else { return };
    let host = r.host_dir("h");
    std::fs::create_dir(host.join("sub")).unwrap();
    let h = path_str(&host);
    // In a mount namespace of the test's own: a tmpfs submount under the bind source.
    ns.sh(&format!("mount -t tmpfs t {h}/sub"));
    let script = "touch /h/a; echo $?; touch /h/sub/b; echo $?; touch /v/c; echo $?; touch /ok && echo rootfs-writable";
    let o = ns.run(&r, &["run", "-v", &format!("{h}:/h:ro"), "-v", "ro:/v:ro", r.rootfs_str(), "sh", "-c", script]);
    let out = o.stdout + &o.stderr;
    assert!(out.contains("Read-only file system"), "{out}");
    assert_eq!(out.lines().filter(|l| *l == "1").count(), 3, "{out}");
    assert!(out.contains("rootfs-writable"), "{out}");
    assert_eq!(std::fs::read_dir(host.join("sub")).unwrap().count(), 0);
    // --read-only: the root too.
    let o = r.sh(&["--read-only", "--tmpfs", "/tmp"], "touch /x 2>&1; touch /tmp/y && echo tmp-ok");
    assert!(o.stdout.contains("Read-only file system") && o.stdout.contains("tmp-ok"), "{o:#?}");
}

/// `bind-recursive=writable`: the bind is read-only, a filesystem mounted below its source
/// stays writable (Docker's non-recursive read-only).
#[test]
fn run_bind_recursive_writable_leaves_submounts_writable() {
    let Some(r) = rig() else { return };
    let Some(ns) = HostNs::new() else { return };
    let host = r.host_dir("w");
    std::fs::create_dir(host.join("sub")).unwrap();
    let h = path_str(&host);
    ns.sh(&format!("mount -t tmpfs t {h}/sub"));
    let mount = format!("type=bind,src={h},dst=/w,readonly,bind-recursive=writable");
    let script = "touch /w/top 2>/dev/null; echo top=$?; touch /w/sub/deep; echo sub=$?";
    let o = ns.run(&r, &["run", "--mount", &mount, r.rootfs_str(), "sh", "-c", script]);
    assert_eq!(o.stdout + &o.stderr, "top=1\nsub=0\n");
}

#[test]
fn run_rootfs_is_byte_for_byte_unchanged() {
    let Some(r) = rig() else { return };
    let before = snapshot(&r.rootfs);
    let o = r.sh(
        &["-v", "wr:/etc"],
        "echo x > /new; cat /etc/notexec > /etc/copied; echo y >> /etc/copied; rm /etc/notexec; mkdir -p /a/b /mnt/new; chmod 700 /bin; \
         touch /bin/busybox; rm /bin/ls; chown 5:5 /bin; echo ok",
    );
    assert_eq!((o.code, o.stdout.as_str()), (0, "ok\n"), "{o:#?}");
    assert_eq!(snapshot(&r.rootfs), before);
    // The writes to /etc went to the volume (filled from the image first).
    assert_eq!(std::fs::read_to_string(r.t.data("wr").join("copied")).unwrap(), "#!/bin/sh\necho no\ny\n");
}

#[test]
fn run_tmpfs_size_subpath_copy_up_and_nocopy() {
    let Some(r) = rig() else { return };
    let o = r.sh(
        &["--tmpfs", "/t:size=1m"],
        "dd if=/dev/zero of=/t/big bs=1k count=2048 2>/dev/null; echo $?; grep ' /t ' /proc/mounts",
    );
    assert_eq!(o.code, 0, "{o:#?}");
    assert!(o.stdout.starts_with("1\n") && o.stdout.contains("size=1024k"), "{o:#?}");
    // Subpath: only the subdirectory is mounted.
    r.t.ok(&["volume", "create", "sp"]);
    std::fs::create_dir(r.t.data("sp").join("dir")).unwrap();
    std::fs::write(r.t.data("sp").join("dir/in"), "in\n").unwrap();
    std::fs::write(r.t.data("sp").join("out"), "out\n").unwrap();
    let o = r.sh(&["--mount", "type=volume,src=sp,dst=/s,volume-subpath=dir"], "ls /s; echo w > /s/new");
    assert_eq!((o.code, o.stdout.as_str()), (0, "in\n"), "{o:#?}");
    assert!(r.t.data("sp").join("dir/new").exists());
    // Copy-up fills a new volume from the image; nocopy leaves it empty.
    let o = r.sh(&["-v", "cu:/etc"], "cat /etc/notexec");
    assert_eq!((o.code, o.stdout.as_str()), (0, "#!/bin/sh\necho no\n"), "{o:#?}");
    // (Only the mount points of the run's hostname, hosts and resolv.conf, as in Docker.)
    let o = r.sh(&["-v", "nc:/etc:nocopy"], "ls /etc | wc -l");
    assert_eq!((o.code, o.stdout.as_str()), (0, "3\n"), "{o:#?}");
    assert!(r.t.data("cu").join("notexec").exists());
    assert_eq!(std::fs::read_dir(r.t.data("nc")).unwrap().count(), 3);
    // An existing non-empty volume is not touched by copy-up (it gets the mount points of
    // the run's own files, as in Docker).
    let o = r.sh(&["--mount", "type=volume,src=sp,dst=/etc"], "ls /etc");
    assert_eq!((o.code, o.stdout.as_str()), (0, "dir\nhostname\nhosts\nout\nresolv.conf\n"), "{o:#?}");
}

#[test]
fn run_propagation_rshared_shows_shared_and_the_default_does_not() {
    let Some(r) = rig() else { return };
    if !require_tools(&["unshare", "nsenter"]) {
        return;
    }
    let host = r.host_dir("prop");
    let h = path_str(&host);
    // The source must be a shared mount for rshared to mean anything: in the test's own mount
    // namespace, bind it onto itself and make it shared.
    let run = |mode: &str| {
        let ns = HostNs::new().expect("unshare and nsenter are there");
        ns.sh(&format!("mount --bind {h} {h} && mount --make-shared {h}"));
        let bind = format!("{h}:/p{mode}");
        ns.run(&r, &["run", "-v", &bind, r.rootfs_str(), "sh", "-c", "grep ' /p ' /proc/self/mountinfo"]).stdout
    };
    let shared = run(":rshared");
    assert!(shared.contains(" shared:"), "{shared}");
    let private = run("");
    assert!(private.contains(" /p ") && !private.contains("shared:"), "{private}");
}

#[test]
fn run_volume_rm_is_refused_while_a_run_is_alive() {
    let Some(r) = rig() else { return };
    let mut c = r.t.cmd();
    c.args(["run", "-v", "busy:/b", r.rootfs_str(), "sh", "-c"])
        .arg("echo up; i=0; while [ ! -e /b/stop ] && [ $i -lt 300 ]; do sleep 0.05; i=$((i+1)); done")
        .stdin(Stdio::null())
        .stderr(Stdio::piped());
    let (mut child, _out) = Spawned::ready(&mut c, "up\n");
    let o = r.t.run(&["volume", "rm", "busy"]);
    assert_eq!(o.code, 1, "{o:#?}");
    assert!(o.stderr.contains("volume is in use"), "{o:#?}");
    std::fs::write(r.t.data("busy").join("stop"), "").unwrap();
    assert_eq!(child.wait(), 0);
    r.t.ok(&["volume", "rm", "busy"]);
}

#[test]
fn run_exit_statuses() {
    let Some(r) = rig() else { return };
    assert_eq!(r.myvol_run(&[], &["true"]).code, 0);
    assert_eq!(r.myvol_run(&[], &["false"]).code, 1);
    let o = r.myvol_run(&["-v", "/x:/y:bogus"], &["true"]);
    assert_eq!((o.code, o.stderr.as_str()), (125, "Error: invalid mode: bogus\n"));
    let o = r.myvol_run(&[], &["/etc/notexec"]);
    assert_eq!((o.code, o.stderr.as_str()), (126, "Error: exec: \"/etc/notexec\": permission denied\n"));
    let o = r.myvol_run(&[], &["nope"]);
    assert_eq!((o.code, o.stderr.as_str()), (127, "Error: exec: \"nope\": executable file not found in $PATH\n"));
    // The shell's own 128+N, and myvol's for a command killed by a signal (SIGKILL is the one
    // that kills a PID 1 from outside).
    let (code, out) = signal_run(&r, nix::sys::signal::Signal::SIGINT, false);
    assert_eq!((code, out.as_str()), (130, "got INT\n"));
    let (code, out) = signal_run(&r, nix::sys::signal::Signal::SIGTERM, false);
    assert_eq!((code, out.as_str()), (143, "got TERM\n"));
    let (code, _) = signal_run(&r, nix::sys::signal::Signal::SIGKILL, true);
    assert_eq!(code, 137);
    // No command: /bin/sh (reading nothing without -i).
    let o = r.myvol_run(&[], &[]);
    assert_eq!((o.code, o.stdout.as_str()), (0, ""), "{o:#?}");
}

/// A run whose shell traps INT and TERM; once it is ready, send `sig` to myvol (signal
/// forwarding) or, with `to_command`, to the command from outside its PID namespace.
fn signal_run(r: &Rig, sig: nix::sys::signal::Signal, to_command: bool) -> (i32, String) {
    let mut c = r.t.cmd();
    c.args(["run", r.rootfs_str(), "sh", "-c"])
        .arg(
            "trap 'echo got INT; exit 130' INT; trap 'echo got TERM; exit 143' TERM; echo ready; i=0; \
             while [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done",
        )
        .stdin(Stdio::null())
        .stderr(Stdio::piped());
    let (mut child, mut out) = Spawned::ready(&mut c, "ready\n");
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let target = if to_command {
        let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap();
        nix::unistd::Pid::from_raw(children.split_whitespace().next().unwrap().parse().unwrap())
    } else {
        pid
    };
    nix::sys::signal::kill(target, sig).unwrap();
    let code = child.wait();
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    (code, rest)
}

/// A signal that comes before the command handles it (here, before the shell's `trap`) is not
/// lost: the kernel would drop it at a PID 1 without a handler, so myvol holds it and delivers
/// it once the trap is there.
#[test]
fn a_signal_before_the_commands_trap_is_delivered_once_it_is_set() {
    let Some(r) = rig() else { return };
    let flags = r.t.dir.path().join("flags");
    std::fs::create_dir(&flags).unwrap();
    let mut c = r.t.cmd();
    c.args(["run", "-v", &format!("{}:/f", path_str(&flags)), r.rootfs_str(), "sh", "-c"])
        .arg(
            "echo ready; until [ -e /f/go ]; do sleep 0.01; done; trap 'echo got TERM; exit 143' TERM; \
             echo armed; i=0; while [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done",
        )
        .stdin(Stdio::null())
        .stderr(Stdio::piped());
    let (mut child, mut out) = Spawned::ready(&mut c, "ready\n");
    let pid = child.id();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
    // myvol has taken the signal (it is no longer pending), while the shell has no trap yet.
    let pending = |field: &str| {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        status.lines().find_map(|l| l.strip_prefix(field)).map(|v| u64::from_str_radix(v.trim(), 16).unwrap())
    };
    wait_until("myvol takes the SIGTERM", PATIENCE, || {
        [pending("ShdPnd:"), pending("SigPnd:")].iter().all(|p| p.is_some_and(|p| p & (1 << 14) == 0))
    });
    std::fs::write(flags.join("go"), "").unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = out.read_to_string(&mut rest);
        let _ = tx.send(rest);
    });
    // Lost, the run would go on for 30 s; the reader's end tells.
    let rest = rx.recv_timeout(Duration::from_secs(20)).unwrap_or_else(|_| {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), nix::sys::signal::Signal::SIGKILL);
        "(still running)".into()
    });
    assert_eq!((rest.as_str(), child.wait()), ("armed\ngot TERM\n", 143));
}

#[test]
fn run_env_user_workdir_entrypoint_hostname_network() {
    let Some(r) = rig() else { return };
    std::fs::write(
        r.rootfs.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1001::/home/alice:/bin/sh\n",
    )
    .unwrap();
    std::fs::write(r.rootfs.join("etc/group"), "root:x:0:\nalice:x:1001:\nwheel:x:10:alice\n").unwrap();
    let envf = r.t.dir.path().join("env.list");
    std::fs::write(&envf, "# comment\n\nFROMFILE=f v\nOVER=file\nINHERITED\nMISSING_VAR\n").unwrap();
    let mut c = r.t.cmd();
    c.env("INHERITED", "from-myvol").env("PLAIN", "p").env_remove("MISSING_VAR");
    c.args(["run", "-e", "A=1", "-e", "OVER=flag", "-e", "PLAIN", "--env-file", path_str(&envf)]);
    c.args(["-w", "/work/dir", "-h", "box", r.rootfs_str(), "sh", "-c"]);
    c.arg("env | sort | grep -v '^SHLVL\\|^PWD'; pwd; hostname; id");
    let o = r.t.exec(c, None);
    assert_eq!(
        (o.code, o.stdout.as_str(), o.stderr.as_str()),
        (
            0,
            "A=1\nFROMFILE=f v\nHOME=/root\nHOSTNAME=box\nINHERITED=from-myvol\nOVER=flag\n\
             PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nPLAIN=p\n\
             /work/dir\nbox\nuid=0(root) gid=0(root) groups=0(root)\n",
            ""
        )
    );
    let o = r.sh(&["-u", "1000:1000"], "id; echo $HOME");
    // The primary group is a supplementary one too, as in Docker.
    assert_eq!(o.stdout, "uid=1000(alice) gid=1000 groups=1000\n/home/alice\n", "{o:#?}");
    let o = r.sh(&["-u", "alice"], "id; echo $HOME");
    assert_eq!(o.stdout, "uid=1000(alice) gid=1001(alice) groups=10(wheel),1001(alice)\n/home/alice\n", "{o:#?}");
    let o = r.sh(&["-u", "4242"], "id -u; echo $HOME");
    assert_eq!(o.stdout, "4242\n/\n", "{o:#?}");
    let o = r.myvol_run(&["-u", "nobody"], &["true"]);
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (125, "Error: unable to find user nobody: no matching entries in passwd file\n")
    );
    let o = r.myvol_run(&["--entrypoint", "echo"], &["a", "b"]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "a b\n"), "{o:#?}");
    let o = r.sh(&["--network", "none"], "ls /sys/class/net");
    assert_eq!((o.code, o.stdout.as_str()), (0, "lo\n"), "{o:#?}");
    let o = r.myvol_run(&["--network", "bridge"], &["true"]);
    assert_eq!(o.code, 125, "{o:#?}");
    assert!(o.stderr.contains("--network none or host"), "{o:#?}");
    let o = r.myvol_run(&["--env-file", "/no/such/file"], &["true"]);
    assert_eq!((o.code, o.stderr.as_str()), (125, "Error: open /no/such/file: no such file or directory\n"));
}

#[test]
fn run_stdin_with_i_and_a_terminal_with_t() {
    let Some(r) = rig() else { return };
    let o = r.myvol_run_stdin(&["-i"], &["cat"], Some("piped\n"));
    assert_eq!((o.code, o.stdout.as_str()), (0, "piped\n"));
    let o = r.myvol_run_stdin(&[], &["cat"], Some("piped\n"));
    assert_eq!((o.code, o.stdout.as_str()), (0, ""));
    let o = r.sh(&[], "tty");
    assert_eq!((o.code, o.stdout.as_str()), (1, "not a tty\n"));
    if !require_tools(&["script"]) {
        return;
    }
    // Under script(1): myvol's stdio is a terminal, the command gets a pty of its own.
    let myvol = assert_cmd::cargo::cargo_bin("myvol");
    let cmd = format!(
        "{} --root {} run -it {} sh -c 'tty; echo $TERM; read x; echo got:$x; exit 5'",
        myvol.display(),
        r.root_str(),
        r.rootfs_str()
    );
    let mut child = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"hello\n").unwrap();
    let o = child.wait_with_output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(5), "{out}");
    // The pty echoes the input whenever it arrives, so only the lines are checked.
    assert!(out.contains("/dev/pts/0\r\n") && out.contains("xterm\r\n"), "{out:?}");
    assert!(out.contains("got:hello\r\n"), "{out:?}");
}

/// `myvol ARGS…` with `input` piped to its stdin; killed (and the test failed) if it has not
/// ended within `PATIENCE`: a hang is a failure, not a stuck test.
fn run_piped_with_deadline(t: &crate::env::TestEnv, args: &[&str], input: &[u8]) -> Out {
    let mut c = t.cmd();
    c.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = Spawned::new(&mut c);
    // Written and closed at once, as `echo | myvol …` does.
    let _ = child.child().stdin.take().unwrap().write_all(input);
    let ended = Instant::now();
    while child.child().try_wait().unwrap().is_none() {
        assert!(
            ended.elapsed() < crate::env::PATIENCE,
            "myvol {} hung (killed after {:?})",
            args.join(" "),
            ended.elapsed()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let (mut out, mut err) = (String::new(), String::new());
    child.child().stdout.take().unwrap().read_to_string(&mut out).unwrap();
    child.child().stderr.take().unwrap().read_to_string(&mut err).unwrap();
    Out { code: child.wait(), stdout: out, stderr: err }
}

/// `echo | myvol run -it …`: Docker's client refuses at once (`the input device is not a
/// TTY`, status 1), before anything is created; myvol hung instead when the command's shell
/// lost the end-of-file character the proxy made of the pipe's end.
#[test]
fn run_it_with_input_that_is_not_a_terminal_is_refused_at_once() {
    let t = crate::env::TestEnv::new();
    let rootfs = t.dir.path().join("rootfs");
    std::fs::create_dir(&rootfs).unwrap();
    for flags in [&["-it"][..], &["-i", "-t"], &["--interactive", "--tty", "-v", "made:/x"]] {
        let mut args = vec!["run"];
        args.extend_from_slice(flags);
        args.extend([path_str(&rootfs), "sh"]);
        let o = run_piped_with_deadline(&t, &args, b"\n");
        assert_eq!(
            (o.code, o.stdout.as_str(), o.stderr.as_str()),
            (1, "", "Error: the input device is not a TTY\n"),
            "{flags:?}"
        );
    }
    assert!(!t.root.join("volumes/made").exists(), "a volume was created before the refusal");
    // exec-spec applies the same rule.
    let spec = t.dir.path().join("spec.json");
    std::fs::write(
        &spec,
        format!(r#"{{"rootfs":"{}","command":["sh"],"tty":true,"interactive":true}}"#, rootfs.display()),
    )
    .unwrap();
    let o = run_piped_with_deadline(&t, &["exec-spec", path_str(&spec)], b"");
    assert_eq!((o.code, o.stderr.as_str()), (1, "Error: the input device is not a TTY\n"));
}

/// `-t` without `-i` reads no input, so any stdin is fine (Docker allows it): the command gets
/// its terminal and ends, every time.
#[test]
fn run_t_with_input_that_is_not_a_terminal_runs() {
    let Some(r) = rig() else { return };
    for _ in 0..5 {
        let o = run_piped_with_deadline(&r.t, &["run", "-t", r.rootfs_str(), "sh", "-c", "tty; echo done"], b"\n");
        assert_eq!((o.code, o.stdout.as_str(), o.stderr.as_str()), (0, "/dev/pts/0\r\ndone\r\n", ""));
    }
}

/// The cause of the hang, with a real terminal: `-it`, an interactive shell with a half-typed
/// line, then the user's terminal hangs up. The proxy used to type the end-of-file character
/// into the shell's terminal, which a line editor in raw mode takes as a key (or discards):
/// the run never ended. Now the run's terminal hangs up too and the shell ends.
#[test]
fn run_it_ends_when_the_users_terminal_hangs_up() {
    let Some(r) = rig() else { return };
    use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
    // Close-on-exec: a copy in a child (myvol, or any process another test starts) would
    // keep the terminal from hanging up.
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC).unwrap();
    grantpt(&master).unwrap();
    unlockpt(&master).unwrap();
    let name = ptsname(&master, Vec::new()).unwrap();
    let slave = std::fs::OpenOptions::new().read(true).write(true).open(name.to_str().unwrap()).unwrap();
    let mut c = r.t.cmd();
    c.args(["run", "-it", r.rootfs_str(), "sh"])
        .stdin(Stdio::from(slave.try_clone().unwrap()))
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::from(slave));
    let mut child = Spawned::new(&mut c);
    // The shell's prompt, then the half-typed line echoed back by its line editor (so the
    // shell has it before the hang-up), through myvol's proxy.
    let mut master = std::fs::File::from(master);
    let mut seen = Vec::new();
    let mut wait_for = |text: &str, master: &mut std::fs::File| {
        let start = Instant::now();
        while !String::from_utf8_lossy(&seen).contains(text) {
            assert!(start.elapsed() < crate::env::PATIENCE, "no {text:?} in {:?}", String::from_utf8_lossy(&seen));
            let mut buf = [0u8; 1024];
            let n = master.read(&mut buf).unwrap();
            seen.extend_from_slice(&buf[..n]);
        }
    };
    wait_for("# ", &mut master);
    master.write_all(b"echo half-typed").unwrap();
    wait_for("half-typed", &mut master);
    drop(master);
    let start = Instant::now();
    while child.child().try_wait().unwrap().is_none() {
        assert!(start.elapsed() < crate::env::PATIENCE, "myvol run -it hung after its terminal hung up");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn run_symlinked_mount_target_never_reaches_the_host() {
    let Some(r) = rig() else { return };
    let host = r.host_dir("host-target");
    symlink(&host, r.rootfs.join("link")).unwrap();
    std::fs::create_dir_all(r.rootfs.join(host.strip_prefix("/").unwrap())).unwrap();
    let o = r.sh(&["-v", "sl:/link/v", "--tmpfs", "/link/t"], "echo x > /link/v/f && echo ok");
    assert_eq!((o.code, o.stdout.as_str()), (0, "ok\n"), "{o:#?}");
    assert_eq!(std::fs::read_dir(&host).unwrap().count(), 0);
    assert!(r.t.data("sl").join("f").exists());
}

#[test]
fn run_unknown_and_unsupported_docker_flags() {
    let Some(r) = rig() else { return };
    for (args, msg) in [
        (vec!["--privileged"], "myvol run does not support --privileged"),
        (vec!["--cap-add=SYS_ADMIN"], "myvol run does not support --cap-add"),
        (vec!["-p", "80:80"], "myvol run does not support -p/--publish"),
        (vec!["-d"], "myvol run does not support -d/--detach"),
        (vec!["-itd"], "myvol run does not support -d/--detach"),
        (vec!["--name", "x"], "myvol run does not support --name"),
        (vec!["--restart=always"], "myvol run does not support --restart"),
        (vec!["--gpus", "all"], "myvol run does not support --gpus"),
        (vec!["--bogus"], "unknown flag: --bogus"),
        (vec!["-Q"], "unknown shorthand flag: 'Q' in -Q"),
    ] {
        let o = r.myvol_run(&args, &["true"]);
        assert_eq!(
            (o.code, o.stdout.as_str(), o.stderr.as_str()),
            (125, "", format!("Error: {msg}\nRun 'myvol run --help' for more information\n").as_str()),
            "{args:?}"
        );
    }
    assert!(!r.t.root.exists(), "nothing was created");
}

#[test]
fn run_rootless_as_an_ordinary_user() {
    let Some(r) = rig() else { return };
    // With subordinate ids (newuidmap/newgidmap map a range).
    let Some(user) = TempUser::create(&[]) else { return };
    let dir = rootless_scenario(&r, &user);
    let Some(((_, uids), (_, gids))) = user.sub_ids() else { return };
    if !require_tools(&["newuidmap", "newgidmap"]) {
        return;
    }
    let rootfs = path_str(&dir.path().join("rootfs")).to_owned();
    // Ids in the range are the run's; one past it is refused before the run, with what to do.
    let (code, out, err) = dir.myvol(&["run", "--rm", "-u", "1000:1000", &rootfs, "id", "-u"]);
    assert_eq!((code, out.as_str(), err.as_str()), (0, "1000\n", ""));
    let past = (uids.min(gids) + 1).to_string();
    let (code, _, err) = dir.myvol(&["run", "--rm", "-u", &format!("{past}:{past}"), &rootfs, "true"]);
    let want = format!(
        "Error: cannot run as {past}:{past}: insufficient UIDs or GIDs available in the run's user namespace \
         (it maps uids 0-{uids} and gids 0-{gids}): give {0} larger ranges in /etc/subuid and /etc/subgid\n",
        user.name
    );
    assert_eq!((code, err.as_str()), (125, want.as_str()));
}

/// "No setup": a user without /etc/subuid and /etc/subgid entries gets the single mapping; a
/// run as another user is refused before anything is made, saying what is missing.
#[test]
fn run_rootless_without_subordinate_ids() {
    let Some(r) = rig() else { return };
    let Some(user) = TempUser::create(&["-K", "SUB_UID_COUNT=0", "-K", "SUB_GID_COUNT=0"]) else { return };
    let dir = rootless_scenario(&r, &user);
    assert_eq!(user.sub_ids(), None, "{} has subordinate ids", user.name);
    let rootfs = path_str(&dir.path().join("rootfs")).to_owned();
    let (_, before, _) = dir.myvol(&["volume", "ls", "-q"]);
    for (user_flag, ids) in [("1000", "1000:0"), ("0:1000", "0:1000"), ("1000:1000", "1000:1000")] {
        let (code, out, err) = dir.myvol(&["run", "--rm", "-u", user_flag, "-v", "never-made:/d", &rootfs, "true"]);
        assert_eq!((code, out.as_str()), (125, ""), "-u {user_flag}: {err}");
        let head = format!(
            "Error: cannot run as {ids}: insufficient UIDs or GIDs available in the run's user namespace \
             (a rootless run maps only your own uid and gid, as 0:0): for other ids, add subordinate ranges for {0} \
             to /etc/subuid and /etc/subgid (`usermod --add-subuids 100000-165535 --add-subgids 100000-165535 {0}`)",
            user.name
        );
        assert!(err.starts_with(&head) && err.ends_with('\n') && err.lines().count() == 1, "-u {user_flag}: {err}");
    }
    assert_eq!(dir.myvol(&["volume", "ls", "-q"]).1, before, "a refused run made a volume");
}

/// A private directory in `user`'s home with myvol, a copy of the rig's rootfs and a store:
/// a run there as the user works as root's does (volumes, tmpfs, /dev, /proc, network).
fn rootless_scenario(r: &Rig, user: &TempUser) -> UserDir {
    let dir = user.dir("myvol-rootless-");
    let b = dir.path();
    let ok = Command::new("cp").arg("-a").arg(&r.rootfs).arg(b.join("rootfs")).status().unwrap().success();
    assert!(ok);
    dir.give();
    let run = |args: &[&str]| dir.myvol(args);
    let rootfs = b.join("rootfs");
    let rootfs = rootfs.to_str().unwrap();
    let (code, out, err) = run(&[
        "run",
        "--rm",
        "-v",
        "rl:/data",
        "-v",
        "/anon",
        "--tmpfs",
        "/t",
        rootfs,
        "sh",
        "-c",
        "id -u; echo persisted > /data/f; echo x > /new; cat /dev/null && echo dev-ok; ls /proc/1/exe >/dev/null && echo proc-ok",
    ]);
    assert_eq!((code, out.as_str(), err.as_str()), (0, "0\ndev-ok\nproc-ok\n", ""));
    let (code, out, _) = run(&["volume", "ls", "-q"]);
    assert_eq!((code, out.as_str()), (0, "rl\n"));
    assert_eq!(std::fs::read_to_string(b.join("store/volumes/rl/_data/f")).unwrap(), "persisted\n");
    assert!(!rootfs_has(rootfs, "new"));
    let (code, out, err) =
        run(&["run", "--network", "none", rootfs, "sh", "-c", "ls /sys/class/net; hostname -s | wc -c"]);
    assert_eq!((code, out.as_str(), err.as_str()), (0, "lo\n13\n", ""));
    // The store belongs to the user.
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata(b.join("store")).unwrap().uid();
    assert_ne!(uid, 0);
    // Start to end in bounded time.
    let t = Instant::now();
    let (code, _, _) = run(&["run", rootfs, "true"]);
    assert_eq!(code, 0);
    assert!(t.elapsed() < Duration::from_secs(10));
    dir
}

fn rootfs_has(rootfs: &str, name: &str) -> bool {
    Path::new(rootfs).join(name).exists()
}

/// ROOTFS `/`: the host's own tree, seen through the same overlay, so writes everywhere stay
/// in the run's layer and only the volume keeps what the command wrote.
#[test]
fn run_on_the_hosts_own_tree_changes_nothing_on_the_host() {
    let Some(r) = rig() else { return };
    let marker = format!("/etc/myvol-run-test-{}", std::process::id());
    let mut c = r.t.cmd();
    c.args(["run", "--rm", "-v", "hostvol:/data", "/", "/bin/sh", "-c"])
        .arg(format!("echo from-host-tree > /data/f && touch {marker} && ls {marker}"));
    let o = r.t.exec(c, None);
    assert_eq!((o.code, o.stdout.as_str(), o.stderr.as_str()), (0, format!("{marker}\n").as_str(), ""));
    assert!(!Path::new(&marker).exists(), "the run wrote into the host's /etc");
    assert_eq!(std::fs::read_to_string(r.t.data("hostvol").join("f")).unwrap(), "from-host-tree\n");
}

/// A device node the run makes does not open, wherever it can write: myvol has no device
/// cgroup (Docker keeps `CAP_MKNOD` and blocks the open with one), so `/dev` is `nodev` like
/// every other mount, its own nodes being the host's, checked and bound one by one.
#[test]
fn run_device_nodes_made_in_the_run_do_not_open() {
    let Some(r) = rig() else { return };
    let script = "for d in /dev /v ''; do mknod $d/n c 1 3 && { echo x 2>/dev/null > $d/n && echo $d/n opened || \
                  echo $d/n refused; }; done; echo x > /dev/null && head -c 3 /dev/zero | wc -c && echo y > /dev/full";
    let o = r.sh(&["-v", "nodes:/v"], script);
    assert_eq!(o.stdout, "/dev/n refused\n/v/n refused\n/n refused\n3\n", "{o:#?}");
    assert!(o.stderr.contains("No space left on device"), "{o:#?}");
}

/// Docker's start check of a bind's propagation, and its fallback for the data root: a bind of
/// (or above) the managed root gets `rslave` by default, which a private mount cannot give, so
/// the run falls back to private propagation instead of failing; asked for, `rslave` is checked
/// like any other. The store is a tmpfs of the test's own mount namespace, private, then shared.
#[test]
fn run_data_root_binds_fall_back_to_private_propagation() {
    let Some(r) = rig() else { return };
    let Some(ns) = HostNs::new() else { return };
    let root = r.root_str();
    std::fs::create_dir_all(&r.t.root).unwrap();
    ns.sh(&format!("mount -t tmpfs store {root} && mount --make-private {root}"));
    let run = |mode: &str| {
        let bind = format!("{root}:/st{mode}");
        ns.run(&r, &["run", "--rm", "-v", &bind, r.rootfs_str(), "sh", "-c", "grep ' /st ' /proc/self/mountinfo"])
    };
    let o = run("");
    assert_eq!(o.code, 0, "{o:#?}");
    assert!(!o.stdout.contains("master:"), "{o:#?}");
    let o = run(":rslave");
    assert_eq!(
        (o.code, o.stdout.as_str(), o.stderr.as_str()),
        (125, "", "Error: path <ROOT> is mounted on <ROOT> but it is not a shared or slave mount\n")
    );
    let o = run(":rshared");
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (125, "Error: path <ROOT> is mounted on <ROOT> but it is not a shared mount\n")
    );
    // Once the store's mount is shared, the default `rslave` holds: the run's bind is a slave.
    ns.sh(&format!("mount --make-shared {root}"));
    for mode in ["", ":rslave"] {
        let o = run(mode);
        assert_eq!(o.code, 0, "{mode}: {o:#?}");
        assert!(o.stdout.contains("master:"), "{mode}: {o:#?}");
    }
    assert_eq!(run(":rshared").code, 0);
}

/// `rslave` (and `rshared`) binds keep receiving what the host mounts under their source
/// while the run lives; the default `rprivate` does not. The "host" is a mount namespace the
/// test owns, in which the source is a shared mount. The run says it is up (`/x/up`), the host
/// mounts and writes, then tells the run to look (`/x/go`).
#[test]
fn run_slave_propagation_brings_host_mounts_in() {
    let Some(r) = rig() else { return };
    if !require_tools(&["unshare", "nsenter"]) {
        return;
    }
    let host = r.host_dir("prop");
    std::fs::create_dir(host.join("sub")).unwrap();
    let h = path_str(&host);
    let run = |mode: &str| {
        let ns = HostNs::new().expect("unshare and nsenter are there");
        for f in ["up", "go"] {
            let _ = std::fs::remove_file(host.join(f));
        }
        ns.sh(&format!("mount --bind {h} {h} && mount --make-shared {h}"));
        let script = "touch /x/up; i=0; while [ ! -e /x/go ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done; \
                      cat /x/sub/marker";
        let bind = format!("{h}:/x{mode}");
        let mut c = ns.cmd(&r, &["run", "-v", &bind, r.rootfs_str(), "sh", "-c", script]);
        let mut child = Spawned::new(c.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()));
        wait_for_path(&host.join("up"));
        ns.sh(&format!("mount -t tmpfs t {h}/sub && echo from-host > {h}/sub/marker"));
        std::fs::write(host.join("go"), "").unwrap();
        let mut out = String::new();
        child.child().stdout.take().unwrap().read_to_string(&mut out).unwrap();
        child.child().stderr.take().unwrap().read_to_string(&mut out).unwrap();
        child.wait();
        out
    };
    assert_eq!(run(":rslave"), "from-host\n");
    assert_eq!(run(":rshared"), "from-host\n");
    let private = run("");
    assert!(private.contains("No such file or directory"), "{private}");
    // Nothing leaked onto the real host.
    assert_eq!(std::fs::read_dir(host.join("sub")).unwrap().count(), 0);
}

// ---- Replay of tests/fixtures/docker/run: `docker run` as a container starts -------------

/// The host side of the recorded cases, as `record-docker.sh` (`run_setup`) builds it under
/// `/tmp/fx-run`: a private tmpfs holding a shared mount (`shared/`) and a slave of it
/// (`slave/`), a directory, files and links. Built here in `ns` at `dir`.
fn run_start_host(ns: &HostNs, dir: &str) {
    ns.sh(&format!(
        "mkdir -p {dir} && mount -t tmpfs -o size=8m fx-run {dir} && mount --make-private {dir} && cd {dir} && \
         mkdir h sys shared slave && touch h/inside && echo from-host > file && echo sys > sys/marker && \
         printf 'garbage\\n' > garbage && chmod 755 garbage && ln -s h link && ln -s file flink && \
         ln -s missing dangling && mount --bind shared shared && mount --make-shared shared && \
         mkdir shared/sub && mount --bind shared slave && mount --make-slave slave && \
         printf '# a comment\\n\\nHA=1\\n  # indented comment\\nHB=two words\\nHC\\n HD=lead\\nHE=\\n' > envfile && \
         printf 'HA=file\\n' > envfile2"
    ));
}

/// Docker's start error as myvol words it: the message after the daemon's, containerd's and
/// runc's prefixes (`failed to create shim task: … unable to start container process: `),
/// without runc's `: unknown` and its account of the mount(2) call (`mount SRC:DST (via
/// /proc/self/fd/6), flags: 0x5000: `), and without the CLI's pointer to `--help` (README,
/// "Differences that are on purpose"). What the command itself printed stays as it is.
fn docker_start_error(stderr: &str) -> String {
    let Some(line) = stderr.lines().next().and_then(|l| l.strip_prefix("docker: ")) else {
        // A flag error (docker/cli's, before anything starts): the message and the pointer.
        let mut lines = stderr.lines();
        return match (lines.next(), lines.last()) {
            (Some(first), Some(last)) if last.starts_with("Run 'docker run --help'") => {
                format!("Error: {first}\n{}\n", last.replace("'docker run", "'myvol run"))
            }
            _ => stderr.to_owned(),
        };
    };
    let mut msg = line.strip_prefix("Error response from daemon: ").unwrap_or(line).to_owned();
    if let Some(i) = msg.find("unable to start container process: ") {
        msg = msg[i + "unable to start container process: ".len()..].to_owned();
        msg = msg.strip_prefix("error during container init: ").map(str::to_owned).unwrap_or(msg);
    }
    let msg = msg.strip_suffix(": unknown").unwrap_or(&msg).replace(": unknown: ", ": ");
    let runc_mount =
        regex::Regex::new(r"mount [^ ]+:[^ ]+ \(via /proc/self/fd/\d+\), flags: 0x[0-9a-f]+(, data: [^:]*)?: ")
            .unwrap();
    format!("Error: {}\n", runc_mount.replace(&msg, ""))
}

/// The run's root as a host path in a message: Docker's overlay, myvol's run directory.
fn mask_merged(s: &str) -> String {
    let re = regex::Regex::new(r"<ROOT>/(overlay2|runs)/[0-9a-f]{64}/merged").unwrap();
    re.replace_all(s, "<MERGED>").into_owned()
}

/// Where myvol differs from the recording (Docker Engine 20.10 with runc 1.1.5), with why, and
/// what myvol does instead: the exit status, stdout and stderr (`<DIR>` the host directory).
const RUN_START_DIFFERENCES: &[(&str, &str, i32, &str, &str)] = &[
    (
        "s87-rm-name",
        "myvol run has no containers, so --name is refused (README, \"Differences that are on purpose\")",
        125,
        "",
        "Error: myvol run does not support --name\nRun 'myvol run --help' for more information\n",
    ),
    (
        "s91-copy-named",
        "the rig's rootfs has /etc/notexec, which the recording's image has not (the rest, Docker's init layer copied up, is the recording's)",
        0,
        "hostname\nhosts\nmtab\nnotexec\npasswd\nresolv.conf\n",
        "",
    ),
    (
        "s92-copy-named-again",
        "the rig's rootfs has /etc/notexec, which the recording's image has not (the rest, Docker's init layer copied up, is the recording's)",
        0,
        "6\n",
        "",
    ),
    (
        "s95-copy-anon",
        "the rig's rootfs has /etc/notexec, which the recording's image has not (the rest, Docker's init layer copied up, is the recording's)",
        0,
        "hostname\nhosts\nmtab\nnotexec\npasswd\nresolv.conf\n",
        "",
    ),
    (
        "s99-copy-ro",
        "the rig's rootfs has /etc/notexec, which the recording's image has not (the rest, Docker's init layer copied up, is the recording's)",
        0,
        "6\nRead-only file system\n",
        "",
    ),
    (
        "s01-v-proc",
        "Engine 28's runc (1.2) words the proc-safety check with the step it is part of",
        125,
        "",
        "Error: error mounting \"<DIR>/h\" to rootfs at \"/proc\": create mountpoint for /proc mount: check proc-safety of /proc mount: \"<MERGED>/proc\" cannot be mounted because it is not of type proc\n",
    ),
    (
        "s02-tmpfs-proc",
        "runc 1.1 checks binds only and fails later; Engine 28's runc (1.2) checks a tmpfs on /proc too",
        125,
        "",
        "Error: error mounting \"tmpfs\" to rootfs at \"/proc\": create mountpoint for /proc mount: check proc-safety of /proc mount: \"<MERGED>/proc\" cannot be mounted because it is not of type proc\n",
    ),
    (
        "s03-v-proc-inside",
        "Engine 28's runc (1.2) words the proc-safety check with the step it is part of",
        125,
        "",
        "Error: error mounting \"<DIR>/h\" to rootfs at \"/proc/foo\": create mountpoint for /proc/foo mount: check proc-safety of /proc/foo mount: \"<MERGED>/proc/foo\" cannot be mounted because it is inside /proc\n",
    ),
    (
        "s04-tmpfs-proc-inside",
        "runc 1.1 checks binds only and fails on the mkdir; Engine 28's runc (1.2) checks a tmpfs inside /proc too",
        125,
        "",
        "Error: error mounting \"tmpfs\" to rootfs at \"/proc/foo\": create mountpoint for /proc/foo mount: check proc-safety of /proc/foo mount: \"<MERGED>/proc/foo\" cannot be mounted because it is inside /proc\n",
    ),
    (
        "s09-v-dev-host",
        "myvol mounts binds nodev (it has no device cgroup to keep the host's disks out), so the host's /dev/null does not open",
        126,
        "",
        "Error: open /dev/null: permission denied\n",
    ),
    (
        "s31-w-in-file",
        "Docker's daemon names the path in its overlay; myvol words it as runc does for a working directory it creates",
        125,
        "",
        "Error: mkdir /etc/passwd/x: not a directory\n",
    ),
    (
        "s43-tmpfs-size-bad",
        "runc names the whole mount(2) call; myvol, which sets each option with fsconfig(2), the option refused",
        125,
        "",
        "Error: error mounting \"tmpfs\" to rootfs at \"/t\": tmpfs option \"size=abc\": invalid argument\n",
    ),
    (
        "s44-tmpfs-mode-bad",
        "runc names the whole mount(2) call; myvol, which sets each option with fsconfig(2), the option refused",
        125,
        "",
        "Error: error mounting \"tmpfs\" to rootfs at \"/t\": tmpfs option \"mode=999\": invalid argument\n",
    ),
    (
        "s49-cmd-dir",
        "Engine 28's runc is built with Go >= 1.20, whose exec.LookPath says \"is a directory\" (the daemon adds \"permission denied\"; myvol's status is 126 by the errno)",
        126,
        "",
        "Error: exec: \"/etc\": is a directory\n",
    ),
    (
        "s54-h-long",
        "Docker's daemon now refuses a hostname over HOST_NAME_MAX before the start, in these words (moby fd7bf71554); Engine 28's runc fails on sethostname(2), also 125",
        125,
        "",
        "Error: hostname \"hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh\" is too long (maximum 64 bytes)\n",
    ),
    (
        "s57-v-ro-nested",
        "runc names the mkdir(2) of the mount point, in its overlay (runc 1.2 words it otherwise again); myvol the failure, same status",
        125,
        "",
        "Error: error mounting \"<ROOT>/volumes/fx-s-sub/_data\" to rootfs at \"/data/sub\": read-only file system\n",
    ),
    (
        "s50-cmd-format",
        "the exec fails after the container started, in runc's init: runc 1.1 exits 1, Engine 28's runc (1.2) 255",
        255,
        "",
        "exec /g: exec format error\n",
    ),
];

/// Every recorded `docker run` start case, replayed through `myvol run` in a mount namespace
/// of the test's own (the host side rebuilt there), compared on exit status, stdout and
/// stderr: myvol makes the checks Docker makes when a container starts, with its words and
/// its statuses.
#[test]
fn docker_run_start_fixtures() {
    let Some(r) = rig() else { return };
    let Some(ns) = HostNs::new() else { return };
    // What the recording's image `bb` has and the rig's rootfs lacks.
    std::fs::write(r.rootfs.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
    std::fs::create_dir(r.rootfs.join("app")).unwrap();
    let dir = r.t.dir.path().join("fx-run");
    let dir = path_str(&dir);
    run_start_host(&ns, dir);
    let run_dir = crate::env::fixtures_dir().join("docker/run");
    let mut names: Vec<String> = std::fs::read_dir(&run_dir)
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".json").map(str::to_owned))
        .collect();
    names.sort();
    assert!(names.len() >= 57, "fixtures missing: {names:?}");
    let (mut failures, mut matched) = (Vec::new(), 0);
    for case in &names {
        let f = crate::env::fixture(&format!("docker/run/{case}.json"));
        // docker run --rm --network none FLAGS… bb COMMAND…
        assert_eq!(f.cmd[..5], ["docker", "run", "--rm", "--network", "none"], "{case}");
        let mut args: Vec<String> = vec!["run".into(), "--rm".into(), "--network".into(), "none".into()];
        let mut image_seen = false;
        for a in &f.cmd[5..] {
            if !image_seen && a == "bb" {
                image_seen = true;
                args.push(r.rootfs_str().to_owned());
            } else {
                args.push(a.replace("/tmp/fx-run", dir));
            }
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = ns.run(&r, &args);
        let got = (o.code, o.stdout.clone(), mask_merged(&o.stderr).replace(dir, "<DIR>"));
        let want = match RUN_START_DIFFERENCES.iter().find(|d| d.0 == case) {
            Some((_, why, code, out, err)) => {
                eprintln!("{case}: differs from the recording: {why}");
                (*code, (*out).to_owned(), (*err).to_owned())
            }
            None if f.exit == 0 => (0, f.stdout.clone(), f.stderr.clone()),
            None => {
                (f.exit, f.stdout.clone(), mask_merged(&docker_start_error(&f.stderr)).replace("/tmp/fx-run", "<DIR>"))
            }
        };
        if got == want {
            matched += 1;
        } else {
            failures.push(format!("{case}: {args:?}\n  want: {want:?}\n  got:  {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{} case(s) differ:\n{}", failures.len(), failures.join("\n"));
    assert_eq!(matched, names.len());
    // Nothing the runs did is left on the store's side.
    assert!(r.t.entries("runs").is_empty());
}
