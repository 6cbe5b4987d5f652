//! Trust at the edges, through the real binary:
//! - text from outside (names, labels, options, paths, archive members, plugin answers) never
//!   reaches the terminal raw, never splits an error into two, and never floods it;
//! - a volume plugin is a stranger: its socket and spec file must be out of other users'
//!   reach, whoever serves the socket must be root or myvol's user (checked before a byte is
//!   sent), a TCP address needs the user's leave, and the mountpoint it answers is checked,
//!   never created, and bound as the directory that was checked.

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::env::{Out, PATIENCE, Spawned, TempUser, TestEnv, path_str, require_root, require_tools, rig, wait_until};
use crate::plugin_server::{FakePlugin, Fault};

/// How much of an echoed value an error shows (`myvol::text::ECHO_MAX`).
const ECHO: usize = myvol::text::ECHO_MAX;

/// The uid and gid the tests' strangers run as (nobody's: no passwd entry is needed for the
/// kernel's credentials).
const STRANGER: u32 = 65534;

fn plugin_dir(t: &TestEnv) -> PathBuf {
    let d = t.dir.path().join("plugins");
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// `myvol ARGS` with `input` on its stdin.
fn with_stdin(t: &TestEnv, args: &[&str], input: &[u8]) -> Out {
    use std::io::Write;
    let mut c = t.cmd();
    c.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn myvol");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let o = child.wait_with_output().expect("wait myvol");
    writer.join().unwrap();
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: t.filter(&String::from_utf8_lossy(&o.stdout)),
        stderr: t.filter(&String::from_utf8_lossy(&o.stderr)),
    }
}

/// Assert one `Error: …` line, with no raw control character, and return it.
#[track_caller]
fn one_clean_line(o: &Out) -> &str {
    assert_eq!(o.stderr.lines().count(), 1, "one error line: {o:#?}");
    assert!(!o.stderr.trim_end().chars().any(|c| c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c)), "{o:?}");
    o.stderr.trim_end()
}

// ---- 1. text from outside -------------------------------------------------------------

#[test]
fn names_are_escaped_one_line_and_cut() {
    let t = TestEnv::new();
    // After `--`, as an unknown name: Docker's `get NAME: no such volume`, escaped.
    t.expect(
        &["volume", "inspect", "--", "ab\t\x1b[31mred"],
        1,
        "[]\n",
        "Error: get ab\\t\\x1b[31mred: no such volume\n",
    );
    // A newline cannot forge a second message; a bidi control cannot reorder the line.
    t.expect(
        &["volume", "rm", "a\nError: forged\u{202e}x"],
        1,
        "",
        "Error: get a\\nError: forged\\u{202e}x: no such volume\n",
    );
    // An invalid name on create: echoed twice, escaped both times (once as Go quotes it).
    t.expect(
        &["volume", "create", "x\x1b]0;pwned\x07"],
        1,
        "",
        "Error: create x\\x1b]0;pwned\\x07: \"x\\x1b]0;pwned\\a\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path\n",
    );
    // 100,000 characters: cut to ECHO_MAX with the length, wherever they are echoed.
    let huge = "a".repeat(100_000);
    let cut = format!("{}…[100000 bytes]", "a".repeat(ECHO));
    t.expect(&["volume", "inspect", &huge], 1, "[]\n", &format!("Error: get {cut}: no such volume\n"));
    let o = t.run(&["volume", "create", &format!("{huge}!")]);
    let cut_bang = format!("{}…[100001 bytes]", "a".repeat(ECHO));
    assert_eq!(
        (o.code, one_clean_line(&o)),
        (
            1,
            format!(
                "Error: create {cut_bang}: \"{}\"…[100001 bytes] includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path",
                "a".repeat(ECHO)
            )
            .as_str()
        )
    );
    assert!(o.stderr.len() < 3 * ECHO, "{} bytes", o.stderr.len());
    assert_eq!(t.ok(&["volume", "ls", "-q"]), "");
}

#[test]
fn labels_options_and_filters_are_escaped() {
    let t = TestEnv::new();
    t.ok(&["volume", "create", "--label", "k\x1b[31m=v\nw", "lv"]);
    // Tables escape; JSON escapes by its rules.
    t.expect(
        &["volume", "ls", "--format", "table {{.Name}}\t{{.Labels}}"],
        0,
        "VOLUME NAME   LABELS\nlv            k\\x1b[31m=v\\nw\n",
        "",
    );
    let json = t.ok(&["volume", "inspect", "-f", "{{json .Labels}}", "lv"]);
    assert_eq!(json, "{\"k\\u001b[31m\":\"v\\nw\"}\n");
    // An option the local driver refuses, as Docker quotes it, escaped; a huge one cut.
    t.expect(
        &["volume", "create", "-o", "ty\x1b[31mpe=x", "v1"],
        1,
        "",
        "Error: create v1: invalid option: \"ty\\x1b[31mpe\"\n",
    );
    let key = "k".repeat(50_000);
    let o = t.run(&["volume", "create", "-o", &format!("{key}=1"), "v1"]);
    assert_eq!(one_clean_line(&o), format!("Error: create v1: invalid option: \"{}\"…[50000 bytes]", "k".repeat(ECHO)));
    // A filter key and a filter value.
    t.expect(&["volume", "ls", "--filter", "bo\x1bgus=1"], 1, "", "Error: invalid filter 'bo\\x1bgus'\n");
    t.expect(&["volume", "ls", "--filter", "dangling=\x1b[2J"], 1, "", "Error: invalid filter 'dangling=[\\x1b[2J]'\n");
}

#[test]
fn paths_are_escaped() {
    let t = TestEnv::new();
    let file = t.dir.path().join("file");
    std::fs::write(&file, "").unwrap();
    // --root under a regular file, with a control character.
    let root = format!("{}/x\x1b[31m", file.display());
    let o = t.run(&["--root", &root, "volume", "ls"]);
    assert_eq!(
        (o.code, one_clean_line(&o)),
        (1, format!("Error: open {}/x\\x1b[31m: not a directory", file.display()).as_str())
    );
    // Bind sources of a run, refused before anything runs (--dry-run needs no root).
    let rootfs = t.dir.path().join("rootfs");
    std::fs::create_dir(&rootfs).unwrap();
    let rootfs = path_str(&rootfs);
    let missing = format!("{}/no\x1b[31msuch\u{202e}", t.dir.path().display());
    let o = t.run(&["run", "--dry-run", "--mount", &format!("type=bind,src={missing},dst=/x"), rootfs, "true"]);
    assert_eq!(
        (o.code, one_clean_line(&o)),
        (
            125,
            format!(
                "Error: invalid mount config for type \"bind\": bind source path does not exist: {}/no\\x1b[31msuch\\u{{202e}}",
                t.dir.path().display()
            )
            .as_str()
        )
    );
    let o = t.run(&["run", "--dry-run", "-v", "/src:/dst:z\x1b[5m", rootfs, "true"]);
    assert_eq!((o.code, one_clean_line(&o)), (125, "Error: invalid mode: z\\x1b[5m"));
}

#[test]
fn archive_member_names_are_escaped_and_bounded() {
    let t = TestEnv::new();
    t.ok(&["volume", "create", "av"]);
    let mut b = tar::Builder::new(Vec::new());
    let mut name = b"../\x1b[31m".to_vec();
    name.extend(std::iter::repeat_n(b'n', 100_000));
    b.append_pax_extensions([("path", &name[..])]).unwrap();
    let mut h = tar::Header::new_ustar();
    h.set_path("harmless").unwrap();
    h.set_size(0);
    h.set_mode(0o644);
    h.set_cksum();
    b.append(&h, &[][..]).unwrap();
    let archive = b.into_inner().unwrap();
    let o = with_stdin(&t, &["volume", "import", "av", "-"], &archive);
    assert_eq!(o.code, 1, "{o:#?}");
    let line = one_clean_line(&o);
    assert!(line.starts_with("Error: import av: archive member ../\\x1b[31mnnn"), "{line:.200}");
    // However long the name, the line is bounded (by the edge's cut).
    assert!(line.len() < myvol::text::MESSAGE_MAX + 100, "{} bytes", line.len());
    assert!(line.ends_with(" bytes]"), "{}", &line[line.len() - 60..]);
}

#[test]
fn plugin_errors_are_escaped_one_line_and_cut() {
    let t = TestEnv::new();
    let p = FakePlugin::start(&plugin_dir(&t), "fake");
    p.fail("VolumeDriver.Create", Fault::Err("boom\x1b[2J\nError: forged\u{202e}".into()));
    t.expect(
        &["volume", "create", "-d", "fake", "v1"],
        1,
        "",
        "Error: create v1: boom\\x1b[2J\\nError: forged\\u{202e}\n",
    );
    p.fail("VolumeDriver.Create", Fault::Reply(500, format!("{{\"Err\":\"{}\"}}", "e".repeat(100_000))));
    let o = t.run(&["volume", "create", "-d", "fake", "v1"]);
    assert_eq!(
        one_clean_line(&o),
        format!("Error: create v1: VolumeDriver.Create: {}…[100000 bytes]", "e".repeat(ECHO))
    );
    // A 200 answer that is not JSON: serde's words about it, escaped.
    p.fail("VolumeDriver.Create", Fault::Reply(200, "\x1b[31m not json".into()));
    let o = t.run(&["volume", "create", "-d", "fake", "v1"]);
    assert!(
        one_clean_line(&o)
            .starts_with("Error: create v1: VolumeDriver.Create: the response of plugin \"fake\" is not valid JSON"),
        "{o:?}"
    );
    assert_eq!(t.ok(&["volume", "ls", "-q"]), "");
}

// ---- 2. plugins are strangers ---------------------------------------------------------

/// `volume mount` with a plugin answering `answer`: refused with `why`, the plugin asked to
/// undo its mount, nothing created, nothing pinned.
#[track_caller]
fn refused_mountpoint(t: &TestEnv, p: &FakePlugin, answer: &str, shown: &str, why: &str) {
    p.set_mount_answer(Some(answer));
    p.clear_requests();
    let o = t.run(&["volume", "mount", "pv"]);
    assert_eq!(
        (o.code, o.stdout.as_str(), one_clean_line(&o)),
        (
            1,
            "",
            format!(
                "Error: error while mounting volume 'pv': VolumeDriver.Mount: refusing the mountpoint {shown} that plugin \"fake\" returned for volume \"pv\": {why}"
            )
            .as_str()
        ),
        "{answer:?}"
    );
    let methods = p.methods();
    assert_eq!(methods.last().map(String::as_str), Some("VolumeDriver.Unmount"), "{answer:?}: {methods:?}");
    assert!(p.mounts("pv").is_empty(), "{answer:?}: the plugin's mount was undone");
    assert!(t.entries("volumes/pv/leases").is_empty(), "{answer:?}: nothing pinned");
}

#[test]
fn hostile_mountpoints_are_refused_and_never_created() {
    let t = TestEnv::new();
    let dir = plugin_dir(&t);
    let p = FakePlugin::start(&dir, "fake");
    t.ok(&["volume", "create", "-d", "fake", "pv"]);
    let base = t.dir.path();
    let q = |s: &str| format!("\"{s}\"");
    let missing = base.join("never/made");
    std::fs::write(base.join("a-file"), "").unwrap();
    symlink("/etc", base.join("to-etc")).unwrap();
    let stranger_dir = base.join("strangers");
    std::fs::create_dir(&stranger_dir).unwrap();
    std::os::unix::fs::chown(&stranger_dir, Some(STRANGER), Some(STRANGER)).ok();
    let root = t.root.to_str().unwrap();
    let cases: Vec<(String, String, String)> = vec![
        ("/".into(), q("/"), "it is /".into()),
        ("relative/dir".into(), q("relative/dir"), "it is not an absolute path".into()),
        (
            format!("{}/../x", base.display()),
            q(&format!("{}/../x", base.display())),
            "it is not a clean path (an empty, '.' or '..' component)".into(),
        ),
        (
            format!("{}/x\ny", base.display()),
            q(&format!("{}/x\\ny", base.display())),
            "it holds control characters".into(),
        ),
        ("/etc".into(), q("/etc"), "it is in /etc, a system directory".into()),
        ("/proc/self/root".into(), q("/proc/self/root"), "it is in /proc, a system directory".into()),
        ("/home".into(), q("/home"), "it is a top-level directory".into()),
        (path_str(&missing).into(), q(path_str(&missing)), "it does not exist".into()),
        (
            format!("{}/a-file", base.display()),
            q(&format!("{}/a-file", base.display())),
            "it is not a directory".into(),
        ),
        (
            format!("{}/to-etc", base.display()),
            q(&format!("{}/to-etc", base.display())),
            "a component of it is a symbolic link".into(),
        ),
        (
            format!("{}/to-etc/ssl", base.display()),
            q(&format!("{}/to-etc/ssl", base.display())),
            "a component of it is a symbolic link".into(),
        ),
        (root.into(), q(root), format!("it is, holds or lies in myvol's store {root}")),
        (
            format!("{root}/volumes"),
            q(&format!("{root}/volumes")),
            format!("it is, holds or lies in myvol's store {root}"),
        ),
        (path_str(base).into(), q(path_str(base)), format!("it is, holds or lies in myvol's store {root}")),
    ];
    for (answer, shown, why) in &cases {
        refused_mountpoint(&t, &p, answer, &t.filter(shown), &t.filter(why));
    }
    assert!(!missing.exists() && !base.join("never").exists(), "myvol created the plugin's path");
    // A directory of another user (as root only: chown needs it).
    if rustix::process::geteuid().is_root() {
        let uid = rustix::process::geteuid().as_raw();
        refused_mountpoint(
            &t,
            &p,
            path_str(&stranger_dir),
            &q(path_str(&stranger_dir)),
            &format!(
                "it is owned by uid {STRANGER}, not by root or by uid {uid} who runs myvol, and is not the root of a mount"
            ),
        );
    }
    // A huge, hostile answer: cut and escaped in the one line.
    let long = format!("/srv/{}\x1b[2J", "d".repeat(100_000));
    p.set_mount_answer(Some(&long));
    let o = t.run(&["volume", "mount", "pv"]);
    assert!(one_clean_line(&o).contains("…[100009 bytes]"), "{:.300}", o.stderr);
    assert!(o.stderr.len() < 3 * ECHO, "{} bytes", o.stderr.len());
    // The plugin's own path still works.
    p.set_mount_answer(None);
    assert_eq!(t.ok(&["volume", "mount", "pv"]), format!("{}\n", dir.join("mnt/pv").display()));
    t.ok(&["volume", "unmount", "pv"]);
}

#[test]
fn a_run_refuses_a_hostile_mountpoint_before_it_starts() {
    let Some(r) = rig() else { return };
    let p = FakePlugin::start(&plugin_dir(&r.t), "fake");
    r.t.ok(&["volume", "create", "-d", "fake", "pv"]);
    p.set_mount_answer(Some("/"));
    let o = r.t.run(&["run", "-v", "pv:/host", path_str(&r.rootfs), "ls", "/host/etc/passwd"]);
    assert_eq!(
        (o.code, o.stdout.as_str(), o.stderr.as_str()),
        (
            125,
            "",
            "Error: error while mounting volume 'pv': VolumeDriver.Mount: refusing the mountpoint \"/\" that plugin \"fake\" returned for volume \"pv\": it is /\n"
        )
    );
    assert!(p.mounts("pv").is_empty(), "the plugin was asked to undo its mount");
    assert!(r.t.entries("runs").is_empty(), "no run was started");
}

/// The plugin swaps its directory's parent for a symlink to a decoy just before it answers:
/// the path it names now leads elsewhere. myvol resolves it with no symlink allowed and
/// refuses; it never binds the decoy.
#[test]
fn a_mountpoint_reached_through_a_swapped_symlink_is_refused() {
    let Some(r) = rig() else { return };
    let dir = plugin_dir(&r.t);
    let p = FakePlugin::start(&dir, "fake");
    r.t.ok(&["volume", "create", "-d", "fake", "pv"]);
    let decoy = r.t.dir.path().join("decoy");
    std::fs::create_dir_all(decoy.join("pv")).unwrap();
    std::fs::write(decoy.join("pv/which"), "decoy\n").unwrap();
    let (mnt, real) = (dir.join("mnt"), dir.join("mnt.real"));
    let d = decoy.clone();
    p.on_mount(move |_| {
        std::fs::rename(&mnt, &real).unwrap();
        symlink(&d, &mnt).unwrap();
    });
    let o = r.t.run(&["run", "-v", "pv:/data", path_str(&r.rootfs), "cat", "/data/which"]);
    assert_eq!(o.code, 125, "{o:#?}");
    assert!(!o.stdout.contains("decoy"), "the decoy was bound: {o:#?}");
    assert!(o.stderr.ends_with(": a component of it is a symbolic link\n"), "{o:#?}");
}

/// The same swap, after myvol checked the mountpoint (it stops there, `MYVOL_FAILPOINT=stop:…`)
/// and before the run binds it: the run sees the directory that was checked, not the decoy
/// its path now leads to. Path-based mounting would bind the decoy.
#[test]
fn the_run_binds_the_directory_that_was_checked() {
    let Some(r) = rig() else { return };
    let dir = plugin_dir(&r.t);
    let p = FakePlugin::start(&dir, "fake");
    r.t.ok(&["volume", "create", "-d", "fake", "pv"]);
    // The plugin's data directory holds `which` = checked.
    std::fs::create_dir_all(dir.join("data/pv")).unwrap();
    std::fs::write(dir.join("data/pv/which"), "checked\n").unwrap();
    let decoy = r.t.dir.path().join("decoy");
    std::fs::create_dir_all(decoy.join("pv")).unwrap();
    std::fs::write(decoy.join("pv/which"), "decoy\n").unwrap();

    let mut c = r.t.cmd();
    c.env("MYVOL_FAILPOINT", "stop:plugin-mountpoint-checked")
        .args(["run", "-v", "pv:/data", path_str(&r.rootfs), "cat", "/data/which"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = Spawned::new(&mut c);
    let pid = child.id();
    let state = || {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| s.rsplit_once(") ").and_then(|(_, rest)| rest.chars().next()))
    };
    wait_until("myvol stops after checking the mountpoint", PATIENCE, || {
        matches!(state(), Some('T') | Some('Z') | None)
    });
    assert_eq!(state(), Some('T'), "myvol went on without stopping at the check");
    // Swap: the checked directory moves away, its path now leads to the decoy.
    std::fs::rename(dir.join("mnt"), dir.join("mnt.real")).unwrap();
    symlink(&decoy, dir.join("mnt")).unwrap();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), nix::sys::signal::Signal::SIGCONT).unwrap();
    let out = child_output(&mut child);
    assert_eq!(out, (0, "checked\n".to_owned(), String::new()));
    assert!(p.mounts("pv").is_empty(), "unmounted after the run");
}

/// Wait (up to `PATIENCE`) for a spawned myvol; its status, stdout and stderr.
fn child_output(child: &mut Spawned) -> (i32, String, String) {
    use std::io::Read;
    let c = child.child();
    let (mut out, mut err) = (String::new(), String::new());
    let (o, e) = (c.stdout.take(), c.stderr.take());
    let reader = std::thread::spawn(move || {
        let mut err = String::new();
        if let Some(mut e) = e {
            let _ = e.read_to_string(&mut err);
        }
        err
    });
    if let Some(mut o) = o {
        let _ = o.read_to_string(&mut out);
    }
    err.push_str(&reader.join().unwrap());
    wait_until("myvol ends", PATIENCE, || c.try_wait().is_ok_and(|s| s.is_some()));
    (child.wait(), out, err)
}

/// A spec file pointing at a socket in a directory every user can write (`/tmp`-like), where
/// a stranger created and serves it: refused, naming the socket; the stranger hears nothing.
#[test]
fn a_socket_squatted_in_a_world_writable_directory_is_refused() {
    if !require_root("to serve a socket as another uid") {
        return;
    }
    let t = TestEnv::new();
    chmod(t.dir.path(), 0o755);
    let squat = t.dir.path().join("squat");
    std::fs::create_dir(&squat).unwrap();
    chmod(&squat, 0o1777);
    let sock = squat.join("rclone.sock");
    let stranger = FakePlugin::start_as(&squat, &sock, STRANGER, STRANGER, true);
    stranger.set_mount_answer(Some("/"));
    std::fs::write(plugin_dir(&t).join("rclone.spec"), format!("unix://{}\n", sock.display())).unwrap();
    let o = t.run(&["volume", "create", "-d", "rclone", "v1"]);
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (
            1,
            format!(
                "Error: create v1: error looking up volume plugin rclone: plugin \"rclone\": refusing {}: {} is writable by other users (mode 1777)\n",
                sock.display(),
                squat.display()
            )
            .as_str()
        )
    );
    assert_eq!(stranger.methods(), Vec::<String>::new(), "a request reached the squatter");
    assert_eq!(t.ok(&["volume", "ls", "-q"]), "");
}

/// A socket in a trusted directory whose listener is a stranger (it took another uid before
/// `listen`): refused on connection, from `SO_PEERCRED`, before any request.
#[test]
fn a_socket_served_by_a_stranger_is_refused_before_any_request() {
    if !require_root("to serve a socket as another uid") {
        return;
    }
    let t = TestEnv::new();
    let dir = plugin_dir(&t);
    let sock = dir.join("peer.sock");
    let stranger = FakePlugin::start_as(&dir, &sock, STRANGER, STRANGER, false);
    let o = t.run(&["volume", "create", "-d", "peer", "v1"]);
    let stderr = regex::Regex::new(r"\(pid \d+\)").unwrap().replace(&o.stderr, "(pid N)").into_owned();
    assert_eq!(
        (o.code, stderr.as_str()),
        (
            1,
            format!(
                "Error: create v1: error looking up volume plugin peer: plugin \"peer\": refusing the socket {}: it is served by uid {STRANGER} (pid N), not by root or by uid 0 who runs myvol\n",
                sock.display()
            )
            .as_str()
        )
    );
    assert_eq!(stranger.methods(), Vec::<String>::new(), "a request reached the stranger");
    // The same socket served by root is used.
    drop(stranger);
    let _p = FakePlugin::start(&dir, "peer");
    t.expect(&["volume", "create", "-d", "peer", "v1"], 0, "v1\n", "");
}

#[test]
fn writable_sockets_and_spec_files_are_refused() {
    let t = TestEnv::new();
    let dir = plugin_dir(&t);
    let p = FakePlugin::start(&dir, "ww");
    let sock = dir.join("ww.sock");
    chmod(&sock, 0o777);
    t.expect(
        &["volume", "create", "-d", "ww", "v1"],
        1,
        "",
        &format!(
            "Error: create v1: error looking up volume plugin ww: plugin \"ww\": refusing {}: {} is writable by other users (mode 0777)\n",
            sock.display(),
            sock.display()
        ),
    );
    chmod(&sock, 0o660);
    t.expect(&["volume", "create", "-d", "ww", "v1"], 0, "v1\n", "");
    // A spec file others can write, pointing at a good socket.
    let other = t.dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    let _q = FakePlugin::start(&other, "real");
    let spec = dir.join("sp.spec");
    std::fs::write(&spec, format!("unix://{}\n", other.join("real.sock").display())).unwrap();
    chmod(&spec, 0o666);
    t.expect(
        &["volume", "create", "-d", "sp", "v2"],
        1,
        "",
        &format!(
            "Error: create v2: error looking up volume plugin sp: plugin \"sp\": refusing {}: {} is writable by other users (mode 0666)\n",
            spec.display(),
            spec.display()
        ),
    );
    chmod(&spec, 0o644);
    t.expect(&["volume", "create", "-d", "sp", "v2"], 0, "v2\n", "");
    // The directory holding them, writable by others.
    chmod(&dir, 0o777);
    let o = t.run(&["volume", "create", "-d", "sp", "v3"]);
    assert!(o.stderr.contains(&format!("{} is writable by other users (mode 0777)", dir.display())), "{o:#?}");
    chmod(&dir, 0o755);
    drop(p);
}

#[test]
fn tcp_plugins_need_the_users_leave() {
    let t = TestEnv::new();
    let fake = FakePlugin::start_tcp(t.dir.path());
    let addr = fake.tcp_addr().unwrap();
    let spec = plugin_dir(&t).join("net.spec");
    std::fs::write(&spec, format!("tcp://{addr}\n")).unwrap();
    t.expect(
        &["volume", "create", "-d", "net", "v1"],
        1,
        "",
        &format!(
            "Error: create v1: error looking up volume plugin net: plugin \"net\": {} gives the TCP address {addr}; myvol uses a TCP plugin only when MYVOL_PLUGIN_TCP names it, as who answers cannot be checked\n",
            spec.display()
        ),
    );
    assert_eq!(fake.methods(), Vec::<String>::new());
    let mut c = t.cmd();
    c.env("MYVOL_PLUGIN_TCP", "other, net").args(["volume", "create", "-d", "net", "v1"]);
    let o = t.exec(c, None);
    assert_eq!((o.code, o.stdout.as_str(), o.stderr.as_str()), (0, "v1\n", ""));
    assert_eq!(fake.volumes(), ["v1"]);
}

/// Rootless, the run cannot clone a mount made outside its namespaces, so it looks the
/// checked path up again and binds it only if it is the very directory that was checked. The
/// user's own plugin (peer: the user) works; a swap after the check makes the run fail, never
/// bind the decoy.
#[test]
fn a_rootless_run_binds_the_checked_directory_or_nothing() {
    let Some(r) = rig() else { return };
    if !require_tools(&["setpriv", "cp", "chown"]) {
        return;
    }
    let Some(user) = TempUser::create(&[]) else { return };
    let (uid, gid) = (user.uid, gid_of(&user.name));
    let base = tempfile::Builder::new().prefix("myvol-trust-").tempdir_in(&user.home).unwrap();
    let b = base.path();
    let bin = b.join("myvol");
    std::fs::copy(assert_cmd::cargo::cargo_bin("myvol"), &bin).unwrap();
    chmod(&bin, 0o755);
    assert!(
        std::process::Command::new("cp").arg("-a").arg(&r.rootfs).arg(b.join("rootfs")).status().unwrap().success()
    );
    let plugins = b.join("plugins");
    std::fs::create_dir_all(plugins.join("data/pv")).unwrap();
    std::fs::write(plugins.join("data/pv/which"), "checked\n").unwrap();
    let decoy = b.join("decoy");
    std::fs::create_dir_all(decoy.join("pv")).unwrap();
    std::fs::write(decoy.join("pv/which"), "decoy\n").unwrap();
    let owner = format!("{uid}:{gid}");
    assert!(std::process::Command::new("chown").args(["-R", &owner]).arg(b).status().unwrap().success());
    // The user's own plugin: its thread serves as the user, in the user's directory.
    let p = FakePlugin::start_as(&plugins, &plugins.join("up.sock"), uid, gid, true);
    wait_until("the plugin's socket", PATIENCE, || plugins.join("up.sock").exists());
    let rootfs = b.join("rootfs");
    let myvol = |args: &[&str]| {
        let mut c = std::process::Command::new("setpriv");
        c.args([format!("--reuid={uid}"), format!("--regid={gid}"), "--init-groups".into(), "--".into()])
            .arg(&bin)
            .arg("--root")
            .arg(b.join("store"))
            .args(args)
            .env_remove("MYVOL_ROOT")
            .env("MYVOL_PLUGIN_PATH", &plugins)
            .current_dir(b)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    };
    let o = myvol(&["volume", "create", "-d", "up", "pv"]).output().unwrap();
    assert!(o.status.success(), "{o:?}");
    let run = ["run", "-v", "pv:/data", path_str(&rootfs), "cat", "/data/which"];
    let o = myvol(&run).output().unwrap();
    assert_eq!((o.status.code(), String::from_utf8_lossy(&o.stdout).as_ref()), (Some(0), "checked\n"), "{o:?}");

    let mut c = myvol(&run);
    c.env("MYVOL_FAILPOINT", "stop:plugin-mountpoint-checked");
    let mut child = Spawned::new(&mut c);
    let pid = child.id();
    let state = || {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| s.rsplit_once(") ").and_then(|(_, rest)| rest.chars().next()))
    };
    wait_until("myvol stops after checking the mountpoint", PATIENCE, || matches!(state(), Some('T' | 'Z') | None));
    assert_eq!(state(), Some('T'), "myvol went on without stopping at the check");
    std::fs::rename(plugins.join("mnt"), plugins.join("mnt.real")).unwrap();
    symlink(&decoy, plugins.join("mnt")).unwrap();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), nix::sys::signal::Signal::SIGCONT).unwrap();
    let (code, out, err) = child_output(&mut child);
    assert_eq!((code, out.as_str()), (125, ""), "{err}");
    assert!(err.starts_with("Error: error mounting ") && err.contains("too many levels of symbolic links"), "{err}");
    drop(p);
}

/// The primary group of `user`.
fn gid_of(user: &str) -> u32 {
    let o = std::process::Command::new("id").args(["-g", user]).output().unwrap();
    String::from_utf8_lossy(&o.stdout).trim().parse().expect("id -g")
}
