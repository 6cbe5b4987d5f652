//! The volume verbs through the binary: flags, output, errors, and what is on disk.

use std::os::unix::fs::{MetadataExt, PermissionsExt};

use crate::env::{TestEnv, mask_ids, mask_times};

#[test]
fn create_prints_the_name_and_builds_the_layout() {
    let t = TestEnv::new();
    t.expect(&["volume", "create", "v1"], 0, "v1\n", "");
    assert!(t.data("v1").is_dir());
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode(&t.root), 0o700);
    assert_eq!(mode(&t.volumes()), 0o701);
    assert_eq!(mode(&t.root.join("volumes/v1")), 0o701);
    assert_eq!(mode(&t.data("v1")), 0o755);
    // The metadata is an xattr of the volume directory (one journal commit publishes it all).
    let meta = rustix::fs::getxattr(t.root.join("volumes/v1"), "user.myvol.volume", &mut [0u8; 4096]).unwrap();
    assert!(meta > 0);
    assert_eq!(t.entries("volumes/v1"), ["_data"]);
    let store: serde_json::Value = serde_json::from_slice(&std::fs::read(t.root.join("store.json")).unwrap()).unwrap();
    assert_eq!(store["format"], 1);
    // Same name again: the name, exit 0, nothing changed (labels and options are ignored).
    let xattr = || {
        let mut buf = vec![0u8; 4096];
        let n = rustix::fs::getxattr(t.root.join("volumes/v1"), "user.myvol.volume", &mut buf).unwrap();
        buf.truncate(n);
        buf
    };
    let before = xattr();
    t.expect(&["volume", "create", "--label", "x=y", "-o", "type=tmpfs", "-o", "device=tmpfs", "v1"], 0, "v1\n", "");
    assert_eq!(xattr(), before);
    assert_eq!(t.entries("volumes/v1"), ["_data"]);
}

#[test]
fn anonymous_volume_has_a_hex_name_and_the_label() {
    let t = TestEnv::new();
    let name = t.ok(&["volume", "create"]);
    let name = name.trim();
    assert_eq!(name.len(), 64);
    assert!(name.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    assert!(!name[..12].bytes().all(|b| b.is_ascii_digit()));
    t.expect(&["volume", "inspect", "-f", "{{json .Labels}}", name], 0, "{\"com.docker.volume.anonymous\":\"\"}\n", "");
}

#[test]
fn inspect_json_is_dockers_shape() {
    let t = TestEnv::new();
    t.ok(&[
        "volume",
        "create",
        "--label",
        "b=2",
        "--label",
        "a",
        "-o",
        "type=tmpfs",
        "-o",
        "device=tmpfs",
        "-o",
        "o=size=10m",
        "lab",
    ]);
    t.ok(&["volume", "create", "plain"]);
    let o = t.run(&["volume", "inspect", "lab", "plain"]);
    assert_eq!(
        mask_times(o.ok()),
        r#"[
    {
        "CreatedAt": "<TIME>",
        "Driver": "local",
        "Labels": {
            "a": "",
            "b": "2"
        },
        "Mountpoint": "<ROOT>/volumes/lab/_data",
        "Name": "lab",
        "Options": {
            "device": "tmpfs",
            "o": "size=10m",
            "type": "tmpfs"
        },
        "Scope": "local"
    },
    {
        "CreatedAt": "<TIME>",
        "Driver": "local",
        "Labels": null,
        "Mountpoint": "<ROOT>/volumes/plain/_data",
        "Name": "plain",
        "Options": null,
        "Scope": "local"
    }
]
"#
    );
    // RFC 3339, whole seconds, UTC as `Z` (TZ=UTC in the tests).
    let created = t.ok(&["volume", "inspect", "-f", "{{.CreatedAt}}", "plain"]);
    assert!(regex::Regex::new(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n$").unwrap().is_match(&created), "{created:?}");
}

#[test]
fn inspect_missing_names() {
    let t = TestEnv::new();
    t.ok(&["volume", "create", "here"]);
    t.expect(&["volume", "inspect", "gone"], 1, "[]\n", "Error: get gone: no such volume\n");
    let o = t.run(&["volume", "inspect", "gone", "here", "gone2"]);
    assert_eq!(o.code, 1);
    assert!(o.stdout.contains("\"Name\": \"here\""), "{o:?}");
    assert_eq!(o.stderr, "Error: get gone: no such volume\nError: get gone2: no such volume\n");
    // Invalid names are simply not found; nothing on disk is touched for them.
    t.expect(&["volume", "inspect", "../etc"], 1, "[]\n", "Error: get ../etc: no such volume\n");
    t.expect(&["volume", "inspect"], 1, "", "Error: 'myvol volume inspect' requires at least 1 argument\nSee 'myvol volume inspect --help' for more information\n");
}

#[test]
fn create_errors_leave_the_store_untouched() {
    let t = TestEnv::new();
    t.ok(&["volume", "create", "keep"]);
    let snapshot = || (t.entries("volumes"), t.entries("tmp"), t.entries("trash"));
    let before = snapshot();
    let cases: &[(&[&str], i32, &str)] = &[
        (
            &["x"],
            1,
            "Error: create x: volume name is too short, names should be at least two alphanumeric characters\n",
        ),
        (
            &["a/b"],
            1,
            "Error: create a/b: \"a/b\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path\n",
        ),
        (
            &["--", "-ab"],
            1,
            "Error: create -ab: \"-ab\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path\n",
        ),
        (&["-o", "bogus=1", "vv"], 1, "Error: create vv: invalid option: \"bogus\"\n"),
        (&["-o", "o=x", "vv"], 1, "Error: create vv: missing required option: \"device\"\n"),
        (&["-o", "type=tmpfs", "vv"], 1, "Error: create vv: missing required option: \"device\"\n"),
        (&["-o", "device=tmpfs", "vv"], 1, "Error: create vv: missing required option: \"type\"\n"),
        (&["-o", "size=abc", "vv"], 1, "Error: create vv: invalid size: 'abc'\n"),
        (
            &["-o", "size=10m", "-o", "quota=zfs", "vv"],
            1,
            "Error: create vv: invalid quota mode \"zfs\": use project or image\n",
        ),
        (
            &["-o", "quota=image", "vv"],
            1,
            "Error: create vv: quota needs a size: -o size=SIZE -o quota=project|image\n",
        ),
        (
            &["-d", "nosuchdriver", "vv"],
            1,
            "Error: create vv: error looking up volume plugin nosuchdriver: plugin \"nosuchdriver\" not found\n",
        ),
        // The driver is looked up before the existing name is (Docker's engine's order).
        (
            &["-d", "other", "keep"],
            1,
            "Error: create keep: error looking up volume plugin other: plugin \"other\" not found\n",
        ),
        (
            &["--label", "=x", "vv"],
            125,
            "Error: invalid argument \"=x\" for \"--label\" flag: invalid label '=x': empty name\nRun 'myvol volume create --help' for more information\n",
        ),
        (
            &["--label", "a b=c", "vv"],
            125,
            "Error: invalid argument \"a b=c\" for \"--label\" flag: label 'a b' contains whitespaces\nRun 'myvol volume create --help' for more information\n",
        ),
        (
            &["--bogus", "vv"],
            125,
            "Error: unknown flag: --bogus\nRun 'myvol volume create --help' for more information\n",
        ),
        (
            &["-ab"],
            125,
            "Error: unknown shorthand flag: 'a' in -ab\nRun 'myvol volume create --help' for more information\n",
        ),
        (
            &["v1", "v2"],
            1,
            "Error: 'myvol volume create' requires at most 1 argument\nRun 'myvol volume create --help' for more information\n",
        ),
        (
            &["--name", "v1", "v2"],
            1,
            "Error: conflicting options: cannot specify a volume-name through both --name and as a positional arg\n",
        ),
    ];
    for (args, code, stderr) in cases {
        let mut full = vec!["volume", "create"];
        full.extend_from_slice(args);
        t.expect(&full, *code, "", stderr);
        assert_eq!(snapshot(), before, "{args:?} changed the store");
    }
    // A name longer than a file name may be.
    let long = format!("fx-{}", "n".repeat(297));
    let o = t.run(&["volume", "create", &long]);
    assert_eq!(o.code, 1);
    assert_eq!(
        o.stderr,
        format!(
            "Error: create {long}: error while creating volume root path '<ROOT>/volumes/{long}': mkdir <ROOT>/volumes/{long}: file name too long\n"
        )
    );
    assert_eq!(snapshot(), before);
    // 255 bytes is fine.
    let max = format!("fx-{}", "n".repeat(252));
    t.expect(&["volume", "create", &max], 0, &format!("{max}\n"), "");
}

#[test]
fn create_flags_store_labels_and_options() {
    let t = TestEnv::new();
    t.ok(&[
        "volume",
        "create",
        "--label",
        "a=b=c",
        "--label",
        "k",
        "-o",
        "type=tmpfs",
        "-o",
        "device=tmpfs",
        "-o",
        "o",
        "--name",
        "named",
    ]);
    t.expect(
        &["volume", "inspect", "-f", "{{json .Labels}} {{json .Options}}", "named"],
        0,
        "{\"a\":\"b=c\",\"k\":\"\"} {\"device\":\"tmpfs\",\"o\":\"\",\"type\":\"tmpfs\"}\n",
        "",
    );
    // `-d ""` means local.
    t.expect(&["volume", "create", "-d", "", "dempty"], 0, "dempty\n", "");
    t.expect(&["volume", "inspect", "-f", "{{.Driver}}", "dempty"], 0, "local\n", "");
}

#[test]
fn ls_table_quiet_and_natural_order() {
    let t = TestEnv::new();
    t.expect(&["volume", "ls"], 0, "DRIVER    VOLUME NAME\n", "");
    for n in ["bench-10", "bench-2", "bench-1", "B2", "a1"] {
        t.ok(&["volume", "create", n]);
    }
    t.expect(
        &["volume", "ls"],
        0,
        "DRIVER    VOLUME NAME\nlocal     B2\nlocal     a1\nlocal     bench-1\nlocal     bench-2\nlocal     bench-10\n",
        "",
    );
    t.expect(&["volume", "ls", "-q"], 0, "B2\na1\nbench-1\nbench-2\nbench-10\n", "");
    t.expect(&["volume", "list", "-q", "-f", "name=^bench-1"], 0, "bench-1\nbench-10\n", "");
    t.expect(
        &["volume", "ls", "x"],
        1,
        "",
        "Error: 'myvol volume ls' accepts no arguments\nRun 'myvol volume ls --help' for more information\n",
    );
}

#[test]
fn ls_filters() {
    let t = TestEnv::new();
    t.ok(&["volume", "create", "--label", "a=b", "--label", "c", "f-ab"]);
    t.ok(&["volume", "create", "--label", "a=zz", "f-azz"]);
    t.ok(&["volume", "create", "f-none"]);
    let q = |f: &[&str]| {
        let mut args = vec!["volume", "ls", "-q"];
        for x in f {
            args.push("-f");
            args.push(x);
        }
        t.ok(&args)
    };
    assert_eq!(q(&["label=a"]), "f-ab\nf-azz\n");
    assert_eq!(q(&["label=a=b"]), "f-ab\n");
    assert_eq!(q(&["label=a", "label=c"]), "f-ab\n");
    assert_eq!(q(&["label=c="]), "f-ab\n");
    assert_eq!(q(&["name=azz", "name=none"]), "f-azz\nf-none\n");
    assert_eq!(q(&["name=f-", "label=a=zz"]), "f-azz\n");
    assert_eq!(q(&["driver=local", "name=^f-n"]), "f-none\n");
    assert_eq!(q(&["driver=loc"]), "");
    assert_eq!(q(&["dangling=true"]), "f-ab\nf-azz\nf-none\n");
    assert_eq!(q(&["dangling=0"]), "");
    t.expect(&["volume", "ls", "-f", "bogus=1"], 1, "", "Error: invalid filter 'bogus'\n");
    t.expect(&["volume", "ls", "-f", "label!=a"], 1, "", "Error: invalid filter 'label!'\n");
    t.expect(&["volume", "ls", "-f", "dangling=yes"], 1, "", "Error: invalid filter 'dangling=[yes]'\n");
    t.expect(
        &["volume", "ls", "-f", "name"],
        125,
        "",
        "Error: invalid argument \"name\" for \"-f, --filter\" flag: bad format of filter (expected name=value)\nRun 'myvol volume ls --help' for more information\n",
    );
}

#[test]
fn ls_escapes_control_characters_in_tables_only() {
    let t = TestEnv::new();
    t.ok(&["volume", "create", "--label", "t=a\tb", "--label", "n=c\nd\x1b[31m", "weird"]);
    let o = t.run(&["volume", "ls", "--format", "table {{.Name}}\t{{.Labels}}"]);
    assert!(o.ok().contains("n=c\\nd\\x1b[31m,t=a\\tb"), "{o:?}");
    assert!(!o.stdout.contains('\x1b'));
    // JSON keeps the data exact (escaped the JSON way).
    let o = t.run(&["volume", "ls", "--format", "json"]);
    assert!(o.ok().contains(r#""Labels":"n=c\nd\u001b[31m,t=a\tb""#), "{o:?}");
}

#[test]
fn rm_each_name_independently() {
    let t = TestEnv::new();
    for n in ["r1", "r2", "r3"] {
        t.ok(&["volume", "create", n]);
    }
    std::fs::write(t.data("r1").join("f"), "data").unwrap();
    t.expect(&["volume", "rm", "r1"], 0, "r1\n", "");
    assert!(!t.root.join("volumes/r1").exists());
    t.expect(&["volume", "rm", "r2", "missing", "r3"], 1, "r2\nr3\n", "Error: get missing: no such volume\n");
    t.expect(&["volume", "rm", "-f", "missing"], 0, "missing\n", "");
    t.expect(&["volume", "remove", "missing"], 1, "", "Error: get missing: no such volume\n");
    t.expect(
        &["volume", "rm"],
        1,
        "",
        "Error: 'myvol volume rm' requires at least 1 argument\nSee 'myvol volume rm --help' for more information\n",
    );
    assert!(t.entries("volumes").is_empty());
    assert!(t.entries("trash").is_empty());
}

#[test]
fn rm_never_follows_links_out_of_the_volume() {
    let t = TestEnv::new();
    t.ok(&["volume", "create", "evil"]);
    let outside = t.dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("precious"), "keep me").unwrap();
    std::os::unix::fs::symlink(&outside, t.data("evil").join("link")).unwrap();
    std::os::unix::fs::symlink(outside.join("precious"), t.data("evil").join("flink")).unwrap();
    std::fs::create_dir_all(t.data("evil").join("deep/er")).unwrap();
    std::fs::set_permissions(t.data("evil").join("deep"), std::fs::Permissions::from_mode(0o000)).unwrap();
    t.expect(&["volume", "rm", "evil"], 0, "evil\n", "");
    assert_eq!(std::fs::read_to_string(outside.join("precious")).unwrap(), "keep me");
    assert!(t.entries("trash").is_empty());
}

#[test]
fn prune_removes_unused_anonymous_volumes_only_unless_all() {
    let t = TestEnv::new();
    let anon = t.ok(&["volume", "create"]).trim().to_owned();
    t.ok(&["volume", "create", "named"]);
    t.ok(&["volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "withopts"]);
    std::fs::write(t.data(&anon).join("f"), vec![0u8; 1000]).unwrap();
    std::fs::hard_link(t.data(&anon).join("f"), t.data(&anon).join("g")).unwrap();
    t.expect(&["volume", "prune", "-f"], 0, &format!("Deleted Volumes:\n{anon}\n\nTotal reclaimed space: 1kB\n"), "");
    t.expect(&["volume", "prune", "-f"], 0, "Total reclaimed space: 0B\n", "");
    t.expect(&["volume", "ls", "-q"], 0, "named\nwithopts\n", "");
    t.expect(&["volume", "prune", "-a", "-f"], 0, "Deleted Volumes:\nnamed\n\nTotal reclaimed space: 0B\n", "");
    t.expect(&["volume", "ls", "-q"], 0, "withopts\n", "");
}

#[test]
fn prune_label_filters() {
    let t = TestEnv::new();
    for (l, n) in [("a=b", "pl-ab"), ("a=c", "pl-ac"), ("a", "pl-a")] {
        t.ok(&["volume", "create", "--label", l, n]);
    }
    t.ok(&["volume", "create", "pl-none"]);
    t.expect(
        &["volume", "prune", "-a", "--filter", "label=a=b", "-f"],
        0,
        "Deleted Volumes:\npl-ab\n\nTotal reclaimed space: 0B\n",
        "",
    );
    t.expect(
        &["volume", "prune", "-a", "--filter", "label!=a=c", "-f"],
        0,
        "Deleted Volumes:\npl-a\npl-none\n\nTotal reclaimed space: 0B\n",
        "",
    );
    t.expect(&["volume", "ls", "-q"], 0, "pl-ac\n", "");
    t.expect(
        &["volume", "prune", "--filter", "all=1", "-f"],
        0,
        "Deleted Volumes:\npl-ac\n\nTotal reclaimed space: 0B\n",
        "",
    );
    t.expect(
        &["volume", "prune", "-a", "--filter", "all=1", "-f"],
        1,
        "",
        "Error: conflicting options: cannot specify both --all and --filter all=1\n",
    );
    t.expect(&["volume", "prune", "--filter", "dangling=true", "-f"], 1, "", "Error: invalid filter 'dangling'\n");
    t.expect(
        &["volume", "prune", "x"],
        1,
        "",
        "Error: 'myvol volume prune' accepts no arguments\nRun 'myvol volume prune --help' for more information\n",
    );
}

#[test]
fn prune_asks_first() {
    let t = TestEnv::new();
    let anon = t.ok(&["volume", "create"]).trim().to_owned();
    let prompt = "WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] ";
    // No answer (stdin at EOF, as in cron without -f): cancelled, exit 0, nothing removed.
    t.expect(&["volume", "prune"], 0, prompt, "");
    let o = t.run_stdin(&["volume", "prune"], "n\n");
    assert_eq!((o.code, o.stdout.as_str()), (0, prompt));
    assert_eq!(t.ok(&["volume", "ls", "-q"]), format!("{anon}\n"));
    let o = t.run_stdin(&["volume", "prune"], " Y \n");
    assert_eq!(o.stdout, format!("{prompt}Deleted Volumes:\n{anon}\n\nTotal reclaimed space: 0B\n"));
    let all = "WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] ";
    t.expect(&["volume", "prune", "-a"], 0, all, "");
}

#[test]
fn hostile_metadata_does_not_hang_or_break_listing() {
    let t = TestEnv::new();
    t.ok(&["volume", "create", "good"]);
    t.ok(&["volume", "create", "fifo"]);
    t.ok(&["volume", "create", "garbage"]);
    t.ok(&["volume", "create", "badxattr"]);
    // Metadata as a file (what a filesystem without xattrs, or a rename, leaves) takes over
    // when the xattr is gone: a FIFO there must not hang anything.
    rustix::fs::removexattr(t.root.join("volumes/fifo"), "user.myvol.volume").unwrap();
    let meta = t.root.join("volumes/fifo/volume.json");
    nix::unistd::mkfifo(&meta, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    rustix::fs::removexattr(t.root.join("volumes/garbage"), "user.myvol.volume").unwrap();
    std::fs::write(t.root.join("volumes/garbage/volume.json"), "[[[[[[[[[[").unwrap();
    rustix::fs::setxattr(
        t.root.join("volumes/badxattr"),
        "user.myvol.volume",
        b"{{{{",
        rustix::fs::XattrFlags::REPLACE,
    )
    .unwrap();
    // A stray entry that is not a valid volume name is never listed.
    std::fs::create_dir(t.volumes().join(".hidden")).unwrap();
    // The others cannot match a driver filter, and say so.
    let o = t.run(&["volume", "ls", "-q", "-f", "driver=local"]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "good\n"));
    let warned: Vec<&str> = o.stderr.lines().map(|l| l.split(':').next().unwrap()).collect();
    assert_eq!(warned, ["Warning", "Warning", "Warning"], "{}", o.stderr);
    for name in ["badxattr", "fifo", "garbage"] {
        assert!(o.stderr.contains(&format!("Warning: get {name}: invalid metadata in ")), "{}", o.stderr);
    }
    let o = t.run(&["volume", "inspect", "fifo"]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.starts_with("Error: get fifo: invalid metadata in <ROOT>/volumes/fifo/volume.json: "), "{o:?}");
    let o = t.run(&["volume", "inspect", "badxattr"]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.starts_with(
            "Error: get badxattr: invalid metadata in <ROOT>/volumes/badxattr: extended attribute user.myvol.volume: "
        ),
        "{o:?}"
    );
}

#[test]
fn store_refuses_a_newer_format() {
    let t = TestEnv::new();
    t.ok(&["volume", "create", "v1"]);
    std::fs::write(t.root.join("store.json"), r#"{"format": 99}"#).unwrap();
    let msg = "the store at <ROOT> has format 99, newer than this myvol understands (1); use a newer myvol\n";
    // A listing concerns no volume; a create names its operation and volume.
    t.expect(&["volume", "ls", "-q"], 1, "", &format!("Error: {msg}"));
    t.expect(&["volume", "create", "v2"], 1, "", &format!("Error: create v2: {msg}"));
    assert_eq!(t.entries("volumes"), ["v1"]);
}

#[test]
fn store_root_permissions_are_repaired() {
    let t = TestEnv::new();
    std::fs::create_dir_all(&t.root).unwrap();
    std::fs::set_permissions(&t.root, std::fs::Permissions::from_mode(0o777)).unwrap();
    t.ok(&["volume", "create", "v1"]);
    assert_eq!(std::fs::metadata(&t.root).unwrap().mode() & 0o7777, 0o700);
}

#[test]
fn reading_a_missing_store_creates_nothing() {
    let t = TestEnv::new();
    t.expect(&["volume", "ls", "-q"], 0, "", "");
    t.expect(&["volume", "inspect", "nope"], 1, "[]\n", "Error: get nope: no such volume\n");
    assert!(!t.root.exists());
}

#[test]
fn root_flag_beats_env() {
    let t = TestEnv::new();
    let other = t.dir.path().join("other");
    let mut c = t.cmd();
    c.args(["--root", other.to_str().unwrap(), "volume", "create", "v1"]);
    assert_eq!(t.exec(c, None).code, 0);
    assert!(other.join("volumes/v1/_data").is_dir());
    assert!(!t.root.exists());
}

#[test]
fn closed_stdout_ends_quietly() {
    let t = TestEnv::new();
    for i in 0..50 {
        t.ok(&["volume", "create", &format!("v{i:03}")]);
    }
    let mut c = t.cmd();
    c.args(["volume", "ls"]);
    c.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{o:?}");
    assert_eq!(String::from_utf8_lossy(&o.stderr), "");
}

#[test]
fn help_is_available() {
    let t = TestEnv::new();
    let o = t.run(&["volume", "create", "--help"]);
    assert!(o.ok().contains("--label"), "{o:?}");
    assert!(mask_ids(&o.stdout).contains("Create a volume"));
}

#[test]
fn created_at_is_shown_in_the_local_time_zone() {
    let t = TestEnv::new();
    t.ok(&["volume", "create", "v1"]);
    let at = |tz: &str| {
        let mut c = t.cmd();
        c.env("TZ", tz).args(["volume", "inspect", "-f", "{{.CreatedAt}}", "v1"]);
        t.exec(c, None).stdout
    };
    let utc = at("UTC");
    assert!(utc.ends_with("Z\n"), "{utc:?}");
    assert!(at("Asia/Tokyo").ends_with("+09:00\n"));
    assert!(at(":/usr/share/zoneinfo/Asia/Tokyo").ends_with("+09:00\n"));
    assert!(at("EST5").ends_with("-05:00\n"), "a POSIX rule");
    // The same instant, whatever the zone.
    let parse = |s: String| jiff::Timestamp::strptime("%Y-%m-%dT%H:%M:%S%:z", s.trim().replace('Z', "+00:00")).unwrap();
    assert_eq!(parse(utc), parse(at("Asia/Tokyo")));
}

/// Metadata too large for an extended attribute (or a filesystem without them) goes to
/// `volume.json`, written and synced before the volume is published.
#[test]
fn metadata_falls_back_to_a_file_when_an_xattr_cannot_hold_it() {
    let t = TestEnv::new();
    let big = format!("big={}", "x".repeat(70_000));
    t.expect(&["volume", "create", "--label", &big, "large"], 0, "large\n", "");
    assert_eq!(t.entries("volumes/large"), ["_data", "volume.json"]);
    let o = t.run(&["volume", "inspect", "-f", "{{len (index .Labels \"big\")}}", "large"]);
    assert_eq!(o.ok(), "70000\n");
    // And such a volume renames like any other.
    t.expect(&["volume", "rename", "large", "larger"], 0, "larger\n", "");
    assert_eq!(t.ok(&["volume", "inspect", "-f", "{{len (index .Labels \"big\")}}", "larger"]), "70000\n");
}

/// A volume in use: Docker's "in use" error, then who uses it in words: a `volume mount` and
/// how to release it, a running `myvol run` by its command line and pid.
#[test]
fn in_use_names_the_user() {
    let t = TestEnv::new();
    t.ok(&["volume", "create", "vv"]);
    t.ok(&["volume", "mount", "vv"]);
    let o = t.run(&["volume", "rm", "vv"]);
    assert_eq!(
        (o.code, mask_times(&mask_ids(&o.stderr))),
        (
            1,
            "Error: remove vv: volume is in use - [pin-<ID>]\nUsed by `myvol volume mount` since <TIME>; `myvol volume unmount vv` releases it\n".to_owned()
        )
    );
    let o = t.run(&["volume", "rm", "vv", "vv"]);
    assert_eq!(o.stderr.matches("Used by").count(), 1, "one line per user, not per error: {}", o.stderr);
    t.ok(&["volume", "unmount", "vv"]);

    let Some(r) = crate::env::rig() else { return };
    r.t.ok(&["volume", "create", "busy"]);
    let rootfs = r.rootfs.to_str().unwrap().to_owned();
    let mut run = r.t.cmd();
    let script = "touch /d/up; while [ ! -e /d/stop ]; do sleep 0.05; done";
    run.args(["run", "-v", "busy:/d", &rootfs, "sh", "-c", script]);
    run.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
    let mut child = run.spawn().unwrap();
    crate::env::wait_for_path(&r.t.data("busy").join("up"));
    let o = r.t.run(&["volume", "rm", "busy"]);
    std::fs::write(r.t.data("busy").join("stop"), "").unwrap();
    assert!(child.wait().unwrap().success());
    let want = format!(
        "Error: remove busy: volume is in use - [<ID>]\nUsed by `myvol run -v busy:/d {} sh -c '{script}'` (pid {}) since <TIME>\n",
        r.t.filter(&rootfs),
        child.id()
    );
    assert_eq!((o.code, mask_times(&mask_ids(&o.stderr))), (1, want));
}
