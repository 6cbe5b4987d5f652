//! `myvol run --dry-run`: the mount plan as `.Mounts` JSON, Docker's errors with `docker run`'s
//! exit statuses, a store left untouched, and a replay of the `docker create` mount fixtures
//! (tests/fixtures/docker/mounts).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::env::{TestEnv, mask_ids};

/// A store outside `/tmp`, so that binding `/tmp` (as the fixtures do) is not a bind of a
/// parent of the managed root, which would get `rslave` (Docker's data-root rule).
/// The checkout (and so the target directory) may itself be under `/tmp`, so the store goes
/// to the first candidate that is not.
fn env() -> TestEnv {
    let base = [env!("CARGO_TARGET_TMPDIR"), "/var/tmp", "/dev/shm"]
        .into_iter()
        .map(Path::new)
        .find(|p| !p.starts_with("/tmp") && p.is_dir())
        .expect("a temporary directory outside /tmp");
    let dir = tempfile::Builder::new().prefix("run-dry-").tempdir_in(base).expect("tempdir");
    let root = dir.path().join("root");
    assert!(!root.starts_with("/tmp"));
    TestEnv { dir, root }
}

/// `myvol run --dry-run FLAGS… /rootfs true`, with cwd `cwd` (default: the env's dir).
fn dry(t: &TestEnv, flags: &[&str], cwd: Option<&Path>) -> crate::env::Out {
    let mut c = t.cmd();
    c.arg("run").arg("--dry-run").args(flags).args(["/rootfs", "true"]);
    if let Some(cwd) = cwd {
        c.current_dir(cwd);
    }
    t.exec(c, None)
}

/// Assert a dry run's exit code, stdout (anonymous names masked) and stderr together.
#[track_caller]
fn expect_dry(t: &TestEnv, flags: &[&str], code: i32, stdout: &str, stderr: &str) {
    let o = dry(t, flags, None);
    let dir = t.dir.path().to_str().unwrap();
    let got = (o.code, mask_ids(&o.stdout).replace(dir, "<T>"), o.stderr.replace(dir, "<T>"));
    assert_eq!(got, (code, stdout.to_owned(), stderr.to_owned()), "myvol run --dry-run {}", flags.join(" "));
}

/// Every file and directory under `root`, with the contents of files.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(p) = stack.pop() {
        let Ok(md) = std::fs::symlink_metadata(&p) else { continue };
        if md.is_dir() {
            out.insert(p.clone(), None);
            for e in std::fs::read_dir(&p).unwrap() {
                stack.push(e.unwrap().path());
            }
        } else {
            out.insert(p.clone(), Some(std::fs::read(&p).unwrap_or_default()));
        }
    }
    out
}

#[test]
fn each_mount_type() {
    let t = env();
    t.ok(&["volume", "create", "vol"]);
    std::fs::create_dir(t.dir.path().join("dir")).unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["-v", "vol:/data"],
            r#"[{"Type":"volume","Name":"vol","Source":"<ROOT>/volumes/vol/_data","Destination":"/data","Driver":"local","Mode":"z","RW":true,"Propagation":"","Create":false}]"#,
        ),
        (
            &["-v", "new:/data:ro"],
            r#"[{"Type":"volume","Name":"new","Source":"<ROOT>/volumes/new/_data","Destination":"/data","Driver":"local","Mode":"ro","RW":false,"Propagation":"","Create":true}]"#,
        ),
        (
            &["-v", "/anon"],
            r#"[{"Type":"volume","Name":"<ID>","Source":"<ROOT>/volumes/<ID>/_data","Destination":"/anon","Driver":"local","Mode":"","RW":true,"Propagation":"","Create":true}]"#,
        ),
        (
            &["--mount", "type=volume,dst=/anon"],
            r#"[{"Type":"volume","Name":"<ID>","Source":"<ROOT>/volumes/<ID>/_data","Destination":"/anon","Driver":"local","Mode":"z","RW":true,"Propagation":"","Create":true}]"#,
        ),
        (
            &["-v", "vol:/data:nocopy"],
            r#"[{"Type":"volume","Name":"vol","Source":"<ROOT>/volumes/vol/_data","Destination":"/data","Driver":"local","Mode":"nocopy","RW":true,"Propagation":"","Create":false,"NoCopy":true}]"#,
        ),
        (
            &["--mount", "type=volume,src=vol,dst=/data,volume-subpath=a/b,volume-nocopy"],
            r#"[{"Type":"volume","Name":"vol","Source":"<ROOT>/volumes/vol/_data","Destination":"/data","Driver":"local","Mode":"z","RW":true,"Propagation":"","Create":false,"Subpath":"a/b","NoCopy":true}]"#,
        ),
        (
            &["-v", "./dir:/h"],
            r#"[{"Type":"bind","Source":"<T>/dir","Destination":"/h","Mode":"","RW":true,"Propagation":"rprivate","Create":false}]"#,
        ),
        (
            &["-v", "/nonexistent-fx/x:/h:ro,rslave"],
            r#"[{"Type":"bind","Source":"/nonexistent-fx/x","Destination":"/h","Mode":"ro,rslave","RW":false,"Propagation":"rslave","Create":true}]"#,
        ),
        (
            &["--mount", "type=bind,src=./dir,dst=/h,readonly,bind-propagation=shared"],
            r#"[{"Type":"bind","Source":"<T>/dir","Destination":"/h","Mode":"","RW":false,"Propagation":"shared","Create":false}]"#,
        ),
        (
            &["--mount", "type=bind,src=/nonexistent-fx,dst=/h,bind-create-src"],
            r#"[{"Type":"bind","Source":"/nonexistent-fx","Destination":"/h","Mode":"","RW":true,"Propagation":"rprivate","Create":true}]"#,
        ),
        (
            &["--mount", "type=bind,src=./dir,dst=/h,ro,bind-recursive=disabled"],
            r#"[{"Type":"bind","Source":"<T>/dir","Destination":"/h","Mode":"","RW":false,"Propagation":"rprivate","Create":false,"BindRecursive":"disabled"}]"#,
        ),
        (
            &["--mount", "type=tmpfs,dst=/t,tmpfs-size=64m,tmpfs-mode=1777"],
            r#"[{"Type":"tmpfs","Source":"","Destination":"/t","Mode":"","RW":true,"Propagation":"","TmpfsOptions":"mode=1777,size=64m"}]"#,
        ),
        (
            &["--tmpfs", "/t:ro,size=1m"],
            r#"[{"Type":"tmpfs","Source":"","Destination":"/t","Mode":"","RW":false,"Propagation":"","TmpfsOptions":"ro,size=1m"}]"#,
        ),
        (&[], "[]"),
        // Mount order: by destination depth.
        (
            &["-v", "vol:/a/b", "--tmpfs", "/a"],
            r#"[{"Type":"tmpfs","Source":"","Destination":"/a","Mode":"","RW":true,"Propagation":"","TmpfsOptions":""},{"Type":"volume","Name":"vol","Source":"<ROOT>/volumes/vol/_data","Destination":"/a/b","Driver":"local","Mode":"z","RW":true,"Propagation":"","Create":false}]"#,
        ),
    ];
    for (flags, json) in cases {
        expect_dry(&t, flags, 0, &format!("{json}\n"), "");
    }
}

#[test]
fn each_error_class() {
    let t = env();
    t.ok(&["volume", "create", "vol"]);
    let cases: &[(&[&str], &str)] = &[
        (&["-v", ""], "invalid empty volume spec\nRun 'myvol run --help' for more information"),
        (
            &["-v", "/a:/b:/c:/d"],
            "invalid spec: /a:/b:/c:/d: too many colons\nRun 'myvol run --help' for more information",
        ),
        (&["-v", "/tmp:ro"], "invalid volume specification: '/tmp:ro'"),
        (&["-v", "vol:/data:ro,rw"], "invalid mode: ro,rw"),
        (
            &["-v", "vol:/data:rshared"],
            "invalid volume specification: 'vol:/data:rshared': invalid mount config for type \"volume\": field BindOptions must not be specified",
        ),
        (
            &["-v", "/tmp:rel"],
            "invalid volume specification: '/tmp:rel': invalid mount config for type \"bind\": invalid mount path: 'rel' mount path must be absolute",
        ),
        (
            &["--mount", "type=volume,src=vol"],
            "invalid argument \"type=volume,src=vol\" for \"--mount\" flag: target is required\nRun 'myvol run --help' for more information",
        ),
        (&["--mount", "type=bind,dst=/x"], "invalid mount config for type \"bind\": field Source must not be empty"),
        (
            &["--mount", "type=bind,src=/nonexistent-fx,dst=/b"],
            "invalid mount config for type \"bind\": bind source path does not exist: /nonexistent-fx",
        ),
        (&["--tmpfs", "rel"], "invalid mount path: 'rel' mount path must be absolute"),
        (&["--tmpfs", "/t:bogus"], "invalid tmpfs option [\"bogus\"]"),
        (&["-v", "vol:/d", "--mount", "type=tmpfs,dst=/d"], "Duplicate mount point: /d"),
        (
            &["-v", "a b:/d"],
            "create a b: \"a b\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path",
        ),
        (
            &["-v", "nv:/d", "--volume-driver", "foo"],
            "create nv: error looking up volume plugin foo: plugin \"foo\" not found",
        ),
        (
            &["--mount", "type=volume,src=vol,dst=/d,volume-driver=foo"],
            "create vol: driver 'local' already has volume 'vol': volume name must be unique",
        ),
        (&["--mount", "type=volume,src=nv,dst=/d,volume-opt=size=x"], "create nv: invalid size: 'x'"),
        (
            &["-v", "<T>/root:/r:private"],
            "invalid mount config: must use either propagation mode \"rslave\" or \"rshared\" when mount source is within the daemon root, daemon root: \"<ROOT>\", bind mount source: \"<ROOT>\", propagation: \"private\"",
        ),
    ];
    let dir = t.dir.path().to_str().unwrap();
    for (flags, msg) in cases {
        let flags: Vec<String> = flags.iter().map(|f| f.replace("<T>", dir)).collect();
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        expect_dry(&t, &flags, 125, "", &format!("Error: {msg}\n"));
    }
}

#[test]
fn without_dry_run_a_missing_rootfs_fails_before_the_store_is_touched() {
    let t = env();
    let msg = "Error: invalid rootfs /rootfs: no such file or directory\nROOTFS is a directory holding a root filesystem (/…, ./… or --rootfs DIR); an image is named without a leading / or .\n";
    t.expect(&["run", "/rootfs", "true"], 125, "", msg);
    t.expect(&["run", "-v", "vol:/data", "/rootfs"], 125, "", msg);
    // After ROOTFS everything is the command's, --dry-run included.
    t.expect(&["run", "/rootfs", "--dry-run"], 125, "", msg);
    assert!(!t.root.exists());
}

#[test]
fn flags_after_rootfs_belong_to_the_command() {
    let t = env();
    t.expect(&["run", "--dry-run", "/rootfs", "sh", "-c", "-v", "x:/y", "--mount"], 0, "[]\n", "");
    t.expect(&["run", "--dry-run", "--tmpfs", "/t", "/rootfs"], 0, "[{\"Type\":\"tmpfs\",\"Source\":\"\",\"Destination\":\"/t\",\"Mode\":\"\",\"RW\":true,\"Propagation\":\"\",\"TmpfsOptions\":\"\"}]\n", "");
    let o = t.run(&["run", "--dry-run"]);
    assert_eq!(o.code, 1, "{o:?}");
    assert_eq!(
        o.stderr,
        "Error: 'myvol run' requires at least 1 argument\nSee 'myvol run --help' for more information\n"
    );
}

#[test]
fn dry_run_creates_no_store() {
    let t = env();
    expect_dry(
        &t,
        &["-v", "new:/n", "-v", "/anon", "--mount", "type=volume,src=m2,dst=/m,volume-label=a=b", "--tmpfs", "/t"],
        0,
        concat!(
            r#"[{"Type":"volume","Name":"new","Source":"<ROOT>/volumes/new/_data","Destination":"/n","Driver":"local","Mode":"z","RW":true,"Propagation":"","Create":true},"#,
            r#"{"Type":"volume","Name":"<ID>","Source":"<ROOT>/volumes/<ID>/_data","Destination":"/anon","Driver":"local","Mode":"","RW":true,"Propagation":"","Create":true},"#,
            r#"{"Type":"volume","Name":"m2","Source":"<ROOT>/volumes/m2/_data","Destination":"/m","Driver":"local","Mode":"z","RW":true,"Propagation":"","Create":true},"#,
            r#"{"Type":"tmpfs","Source":"","Destination":"/t","Mode":"","RW":true,"Propagation":"","TmpfsOptions":""}]"#,
            "\n"
        ),
        "",
    );
    assert!(!t.root.exists(), "--dry-run created the store root");
    // -v creates a missing bind source at run time, not at plan time.
    let src = t.dir.path().join("later");
    let spec = format!("{}:/l", src.display());
    assert_eq!(dry(&t, &["-v", &spec], None).code, 0);
    assert!(!src.exists());
}

#[test]
fn dry_run_leaves_an_existing_store_untouched() {
    let t = env();
    t.ok(&["volume", "create", "vol"]);
    t.ok(&["volume", "create", "--label", "a=b", "other"]);
    std::fs::write(t.data("vol").join("f"), b"data").unwrap();
    let before = snapshot(&t.root);
    let ls = t.ok(&["volume", "ls"]);
    let o = dry(
        &t,
        &["-v", "vol:/data:ro", "-v", "/anon", "-v", "new:/new", "--mount", "type=volume,src=other,dst=/o"],
        None,
    );
    assert_eq!(o.code, 0, "{o:?}");
    let o = dry(&t, &["-v", "a b:/data"], None);
    assert_eq!(o.code, 125, "{o:?}");
    assert_eq!(snapshot(&t.root), before);
    assert_eq!(t.ok(&["volume", "ls"]), ls);
}

// ---- Replay of tests/fixtures/docker/mounts ------------------------------------------------

fn mounts_dir() -> PathBuf {
    crate::env::fixtures_dir().join("docker/mounts")
}

fn fixture(name: &str) -> Option<crate::env::Fixture> {
    crate::env::try_fixture(&format!("docker/mounts/{name}"))
}

/// Docker's error as myvol prints it: `Error: ` and the message, without Docker's
/// `Error response from daemon: ` / `docker: ` prefixes and usage lines, but with the usage's
/// last line, which says where to read more. (`--mount` flag errors keep their
/// `invalid argument "…" for "--mount" flag: ` lead: it is part of the message in myvol too.)
fn docker_error(stderr: &str) -> String {
    let line = stderr.lines().next().unwrap_or("");
    let body =
        line.strip_prefix("Error response from daemon: ").or_else(|| line.strip_prefix("docker: ")).unwrap_or(line);
    let mut out = format!("Error: {body}\n");
    if let Some(hint) = stderr.lines().skip(1).find(|l| l.starts_with("Run '") || l.starts_with("See '")) {
        out.push_str(&hint.replace("'docker create", "'myvol run"));
        out.push('\n');
    }
    out
}

/// `docker run`'s status for an error message (cli/command/container/run.go).
fn run_status(msg: &str) -> i32 {
    if msg.contains("no such file or directory") {
        127
    } else if msg.contains("permission denied") {
        126
    } else {
        125
    }
}

/// myvol's `.Mounts` line without its own keys, and the `--tmpfs` entries split off as
/// Docker's `HostConfig.Tmpfs` map (`{"/t":"size=1m"}`).
fn docker_view(stdout: &str, tmpfs_dests: &[String]) -> (String, String) {
    let v: serde_json::Value = serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let mut mounts = Vec::new();
    let mut tmpfs = serde_json::Map::new();
    for mut m in v.as_array().cloned().unwrap_or_default() {
        let o = m.as_object_mut().unwrap();
        let dest = o["Destination"].as_str().unwrap_or("").to_owned();
        // The first tmpfs on a --tmpfs destination is the --tmpfs one: a `--mount type=tmpfs`
        // there is mounted after it.
        if o["Type"] == "tmpfs" && tmpfs_dests.contains(&dest) && !tmpfs.contains_key(&dest) {
            tmpfs.insert(dest, o["TmpfsOptions"].clone());
            continue;
        }
        for k in ["Create", "Subpath", "NoCopy", "BindRecursive", "TmpfsOptions"] {
            o.remove(k);
        }
        mounts.push(m);
    }
    (format!("{}\n", serde_json::Value::Array(mounts)), format!("{}\n", serde_json::Value::Object(tmpfs)))
}

/// Where myvol deliberately differs from the recorded `docker create`: the case, why, and what
/// myvol prints instead (exit code, stderr).
const DIFFERENCES: &[(&str, &str, i32, &str)] = &[
    (
        "c28-v-drive-letter",
        "Docker's CLI sends one-field -v specs through Config.Volumes, which the daemon never validates (the Windows-drive reading keeps `x:/data` whole); myvol applies the daemon's target rule",
        125,
        "Error: invalid volume specification: 'x:/data': invalid mount config for type \"volume\": invalid mount path: 'x:/data' mount path must be absolute\n",
    ),
    (
        "c29-v-anon-relative",
        "same Config.Volumes bypass: Docker mounts `relpath` at /relpath; myvol rejects the relative destination as the daemon parser does",
        125,
        "Error: invalid volume specification: 'relpath': invalid mount config for type \"volume\": invalid mount path: 'relpath' mount path must be absolute\n",
    ),
    (
        "r24-v-colons-only",
        "same Config.Volumes bypass: Docker's CLI sends `::` as a one-field -v, and Docker mounts an anonymous volume at `::`; myvol applies the daemon's target rule",
        125,
        "Error: invalid volume specification: '::': invalid mount config for type \"volume\": invalid mount path: '::' mount path must be absolute\n",
    ),
    (
        "c34-mount-volume-anon-ro",
        "recorded against Engine 20.10, which refuses read-only anonymous volumes; current Docker (Engine 28), which myvol follows, accepts them",
        0,
        "",
    ),
];

#[test]
fn docker_mount_fixtures() {
    let t = env();
    t.ok(&["volume", "create", "fx-named"]);
    let mut names: Vec<String> = std::fs::read_dir(mounts_dir())
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".create.json").map(str::to_owned))
        .collect();
    names.sort();
    assert!(names.len() >= 41, "fixtures missing: {names:?}");
    let mut failures = Vec::new();
    let mut matched = Vec::new();
    for case in &names {
        let create = fixture(&format!("{case}.create.json")).unwrap();
        // docker create --name fx-cNN FLAGS… bb true
        let flags: Vec<&str> = create.cmd[4..create.cmd.len() - 2].iter().map(String::as_str).collect();
        let tmpfs_dests: Vec<String> = flags
            .windows(2)
            .filter(|w| w[0] == "--tmpfs")
            .map(|w| w[1].split(':').next().unwrap_or("").to_owned())
            .collect();
        // Recorded with cwd /tmp (relative sources are made absolute against it).
        let o = dry(&t, &flags, Some(Path::new("/tmp")));
        let got_mounts = if o.code == 0 { Some(docker_view(&mask_ids(&o.stdout), &tmpfs_dests)) } else { None };
        if let Some((_, why, code, stderr)) = DIFFERENCES.iter().find(|d| d.0 == case) {
            eprintln!("{case}: differs from the recording by design: {why}");
            if (o.code, o.stderr.as_str()) != (*code, *stderr) {
                failures.push(format!("{case}: expected the documented difference ({code}, {stderr:?}), got {o:?}"));
            }
            continue;
        }
        if create.exit != 0 {
            let want = docker_error(&create.stderr);
            let want = (run_status(&want), String::new(), want);
            let got = (o.code, o.stdout.clone(), o.stderr.clone());
            if got != want {
                failures.push(format!("{case}: flags {flags:?}\n  docker: {want:?}\n  myvol:  {got:?}"));
            } else {
                matched.push(case.clone());
            }
            continue;
        }
        let docker_mounts = mask_ids(&fixture(&format!("{case}.mounts.json")).expect("mounts fixture").stdout);
        let docker_tmpfs = fixture(&format!("{case}.tmpfs.json")).map(|f| f.stdout).unwrap_or_else(|| "{}\n".into());
        let want = (0, docker_mounts, docker_tmpfs, String::new());
        let got = match got_mounts {
            Some((m, tm)) => (o.code, m, tm, o.stderr.clone()),
            None => (o.code, o.stdout.clone(), String::new(), o.stderr.clone()),
        };
        if got != want {
            failures.push(format!("{case}: flags {flags:?}\n  docker: {want:?}\n  myvol:  {got:?}"));
        } else {
            matched.push(case.clone());
        }
    }
    eprintln!("matched {} fixtures: {}", matched.len(), matched.join(" "));
    assert!(failures.is_empty(), "{} fixture(s) differ:\n{}", failures.len(), failures.join("\n"));
    assert_eq!(matched.len() + DIFFERENCES.len(), names.len());
}
