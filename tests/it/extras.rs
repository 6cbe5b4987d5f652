//! The verbs Docker never shipped (issue 7): `volume rename`, `volume clone`,
//! `volume exists`, `volume ls --size`, `system df`, shell completions and the man page.

use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Stdio;

use myvol::name::VolumeName;
use myvol::store::Store;
use myvol::units::human_size;

use crate::env::tree::{assert_same, snapshot};
use crate::env::{PATIENCE, Spawned, TestEnv, wait_until};

fn fixture_stdout(case: &str) -> String {
    crate::env::fixture(&format!("docker/{case}.json")).stdout
}

fn inspect(t: &TestEnv, name: &str) -> serde_json::Value {
    let out = t.ok(&["volume", "inspect", name]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v[0].clone()
}

const ANON: &str = "com.docker.volume.anonymous";

// ------------------------------------------------------------------ rename

#[test]
fn rename_moves_name_metadata_and_content() {
    let t = TestEnv::new();
    t.ok(&["volume", "create", "--label", "a=b", "-o", "type=tmpfs", "-o", "device=tmpfs", "old"]);
    std::fs::write(t.data("old").join("f"), "content").unwrap();
    let before = inspect(&t, "old");
    t.expect(&["volume", "rename", "old", "new"], 0, "new\n", "");
    t.expect(&["volume", "ls", "-q"], 0, "new\n", "");
    let after = inspect(&t, "new");
    assert_eq!(after["Name"], "new");
    assert_eq!(after["Mountpoint"], "<ROOT>/volumes/new/_data");
    for k in ["CreatedAt", "Driver", "Labels", "Options", "Scope"] {
        assert_eq!(after[k], before[k], "{k}");
    }
    assert_eq!(std::fs::read_to_string(t.data("new").join("f")).unwrap(), "content");
    // Nothing of the protocol is left behind.
    assert_eq!(t.entries("volumes/new"), ["_data", "volume.json"]);
    assert!(!t.root.join("rename.json").exists());
}

#[test]
fn rename_errors_leave_the_store_as_it_was() {
    let t = TestEnv::new();
    t.ok(&["volume", "create", "aa"]);
    t.ok(&["volume", "create", "bb"]);
    let snapshot = || (t.entries("volumes"), t.entries("volumes/aa"), t.entries("volumes/bb"), t.entries(""));
    let before = snapshot();
    t.expect(&["volume", "rename", "aa", "bb"], 1, "", "Error: rename aa: volume bb already exists\n");
    t.expect(&["volume", "rename", "aa", "aa"], 1, "", "Error: rename aa: volume aa already exists\n");
    t.expect(&["volume", "rename", "zz", "cc"], 1, "", "Error: get zz: no such volume\n");
    t.expect(&["volume", "rename", "a/b", "cc"], 1, "", "Error: get a/b: no such volume\n");
    t.expect(
        &["volume", "rename", "aa", "x"],
        1,
        "",
        "Error: rename aa: volume name is too short, names should be at least two alphanumeric characters\n",
    );
    t.expect(
        &["volume", "rename", "aa", "a/b"],
        1,
        "",
        "Error: rename aa: \"a/b\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path\n",
    );
    let o = t.run(&["volume", "rename", "aa"]);
    assert_eq!(o.code, 1, "{o:?}");
    assert_eq!(snapshot(), before);
}

#[test]
fn rename_makes_an_anonymous_volume_named() {
    let t = TestEnv::new();
    let anon = t.ok(&["volume", "create", "--label", "keep=1"]).trim().to_owned();
    assert_eq!(inspect(&t, &anon)["Labels"][ANON], "");
    t.expect(&["volume", "rename", &anon, "named"], 0, "named\n", "");
    assert_eq!(inspect(&t, "named")["Labels"], serde_json::json!({"keep": "1"}));
    // Named now: prune without -a leaves it.
    t.expect(&["volume", "prune", "-f"], 0, "Total reclaimed space: 0B\n", "");
    let bare = t.ok(&["volume", "create"]).trim().to_owned();
    t.expect(&["volume", "rename", &bare, "bare"], 0, "bare\n", "");
    assert_eq!(inspect(&t, "bare")["Labels"], serde_json::Value::Null);
}

#[test]
fn rename_of_a_volume_in_use_is_refused() {
    let t = TestEnv::new();
    t.ok(&["volume", "create", "busy"]);
    let store = Store::new(&t.root);
    let lease = store.lease(&"busy".parse().unwrap(), "test").unwrap();
    let o = t.run(&["volume", "rename", "busy", "free"]);
    let first = o.stderr.lines().next().unwrap_or("");
    assert_eq!((o.code, first), (1, format!("Error: rename busy: volume is in use - [{}]", lease.id()).as_str()));
    assert!(o.stderr.contains(&format!("(pid {}) since ", std::process::id())), "{}", o.stderr);
    t.expect(&["volume", "ls", "-q"], 0, "busy\n", "");
    drop(lease);
    t.expect(&["volume", "rename", "busy", "free"], 0, "free\n", "");
}

// ------------------------------------------------------------------ exists

#[test]
fn exists_answers_with_the_exit_status_only() {
    let t = TestEnv::new();
    t.expect(&["volume", "exists", "vv"], 1, "", "");
    t.ok(&["volume", "create", "vv"]);
    t.expect(&["volume", "exists", "vv"], 0, "", "");
    t.expect(&["volume", "exists", "VV"], 1, "", "");
    t.expect(&["volume", "exists", "../vv"], 1, "", "");
    t.expect(&["volume", "exists", "x"], 1, "", "");
    // podman's words and status for an empty name and for a wrong number of arguments.
    t.expect(&["volume", "exists", ""], 125, "", "Error: name or ID cannot be empty\n");
    t.expect(&["volume", "exists"], 125, "", "Error: accepts 1 arg(s), received 0\n");
    t.expect(&["volume", "exists", "a", "b"], 125, "", "Error: accepts 1 arg(s), received 2\n");
}

// ------------------------------------------------------------------ clone

fn set_mtime(p: &Path, sec: i64, nsec: i64) {
    use rustix::fs::{AtFlags, CWD, Timespec, Timestamps};
    let t = Timestamps {
        last_access: Timespec { tv_sec: sec - 100, tv_nsec: 5 },
        last_modification: Timespec { tv_sec: sec, tv_nsec: nsec },
    };
    rustix::fs::utimensat(CWD, p, &t, AtFlags::SYMLINK_NOFOLLOW).unwrap();
}

/// Every kind of entry a volume can hold.
fn populate(d: &Path) -> bool {
    let root = rustix::process::geteuid().is_root();
    std::fs::create_dir_all(d.join("dir/sub/empty")).unwrap();
    std::fs::write(d.join("dir/file"), "hello world\n").unwrap();
    std::fs::write(d.join("big"), (0..200_000u32).flat_map(|i| i.to_le_bytes()).collect::<Vec<_>>()).unwrap();
    std::fs::write(d.join("setuid"), "#!/bin/sh\n").unwrap();
    std::fs::set_permissions(d.join("setuid"), std::fs::Permissions::from_mode(0o4755)).unwrap();
    std::fs::create_dir(d.join("sticky")).unwrap();
    std::fs::set_permissions(d.join("sticky"), std::fs::Permissions::from_mode(0o1777)).unwrap();
    std::fs::write(d.join("private"), "secret").unwrap();
    std::fs::set_permissions(d.join("private"), std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::hard_link(d.join("dir/file"), d.join("dir/sub/hardlink")).unwrap();
    std::fs::hard_link(d.join("dir/file"), d.join("hardlink2")).unwrap();
    std::os::unix::fs::symlink("dir/file", d.join("rel-link")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", d.join("abs-link")).unwrap();
    std::os::unix::fs::symlink("nowhere", d.join("dangling")).unwrap();
    nix::unistd::mkfifo(&d.join("fifo"), nix::sys::stat::Mode::from_bits_truncate(0o640)).unwrap();
    // Sparse: 8 MiB with 4 KiB of data in the middle.
    let f = std::fs::File::create(d.join("sparse")).unwrap();
    f.set_len(8 << 20).unwrap();
    use std::os::unix::fs::FileExt;
    f.write_all_at(&[7u8; 4096], 4 << 20).unwrap();
    drop(f);
    std::fs::File::create(d.join("hole-only")).unwrap().set_len(1 << 20).unwrap();
    std::fs::write(d.join("empty"), "").unwrap();
    rustix::fs::setxattr(d.join("dir/file"), "user.myvol.test", b"v\0binary", rustix::fs::XattrFlags::empty()).unwrap();
    rustix::fs::setxattr(d.join("dir"), "user.on-dir", b"1", rustix::fs::XattrFlags::empty()).unwrap();
    if root {
        use nix::sys::stat::{Mode, SFlag, makedev, mknod};
        mknod(&d.join("null"), SFlag::S_IFCHR, Mode::from_bits_truncate(0o666), makedev(1, 3)).unwrap();
        nix::unistd::chown(&d.join("private"), Some(1234.into()), Some(5678.into())).unwrap();
        std::fs::set_permissions(d.join("private"), std::fs::Permissions::from_mode(0o600)).unwrap();
        std::os::unix::fs::lchown(d.join("rel-link"), Some(42), Some(43)).unwrap();
        rustix::fs::setxattr(d.join("big"), "trusted.myvol", b"t", rustix::fs::XattrFlags::empty()).unwrap();
    }
    for (i, p) in ["dir/file", "big", "rel-link", "fifo", "sparse", "dir/sub/empty", "dir/sub", "dir", "sticky", ""]
        .iter()
        .enumerate()
    {
        set_mtime(&d.join(p), 1_600_000_000 + i as i64, 123_456_789 + i as i64);
    }
    root
}

#[test]
fn clone_copies_every_kind_of_entry_faithfully() {
    let t = TestEnv::new();
    t.ok(&["volume", "create", "--label", "app=db", "src"]);
    let privileged = populate(&t.data("src"));
    t.expect(&["volume", "clone", "src", "dst"], 0, "dst\n", "");
    let (a, b) = (snapshot(&t.data("src")), snapshot(&t.data("dst")));
    assert_same(&a, &b);
    // The pieces that matter were really there to compare.
    let at = |p: &str| &b[Path::new(p)];
    assert_eq!(a[Path::new("dir/sub/hardlink")].inode_group, a[Path::new("dir/file")].inode_group);
    assert!(at("hole-only").blocks == Some(0) && at("sparse").content != 0);
    let sparse = std::fs::metadata(t.data("dst").join("sparse")).unwrap();
    assert!(sparse.blocks() * 512 < 1 << 20, "sparse file not sparse: {} blocks", sparse.blocks());
    assert_eq!(at("dir/file").xattrs.get("user.myvol.test").map(Vec::as_slice), Some(&b"v\0binary"[..]));
    assert_eq!(at("setuid").mode & 0o7777, 0o4755);
    assert_eq!(at("sticky").mode & 0o7777, 0o1777);
    if privileged {
        assert_eq!((at("private").uid, at("private").gid), (1234, 5678));
        assert_eq!(at("null").kind, libc::S_IFCHR);
        assert!(at("big").xattrs.contains_key("trusted.myvol"));
    }
    // Driver, options and labels come along; the source is no longer in use.
    let (s, d) = (inspect(&t, "src"), inspect(&t, "dst"));
    assert_eq!(
        (d["Labels"].clone(), d["Driver"].clone(), d["Options"].clone()),
        (s["Labels"].clone(), s["Driver"].clone(), s["Options"].clone())
    );
    t.expect(&["volume", "rm", "src"], 0, "src\n", "");
    assert!(t.entries("tmp").is_empty());
}

#[test]
fn clone_labels_and_errors() {
    let t = TestEnv::new();
    let anon = t.ok(&["volume", "create", "--label", "a=1"]).trim().to_owned();
    t.ok(&["volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "opts"]);
    // The anonymous label is never copied: a clone is a named volume.
    t.expect(&["volume", "clone", &anon, "c1"], 0, "c1\n", "");
    assert_eq!(inspect(&t, "c1")["Labels"], serde_json::json!({"a": "1"}));
    t.expect(&["volume", "clone", &anon, "c2", "--label", "x=y", "--label", "z"], 0, "c2\n", "");
    assert_eq!(inspect(&t, "c2")["Labels"], serde_json::json!({"x": "y", "z": ""}));
    t.expect(&["volume", "clone", "opts", "c3"], 0, "c3\n", "");
    assert_eq!(inspect(&t, "c3")["Options"], inspect(&t, "opts")["Options"]);

    let before = (t.entries("volumes"), t.entries("tmp"));
    t.expect(&["volume", "clone", "c1", "c2"], 1, "", "Error: clone c1: volume c2 already exists\n");
    t.expect(&["volume", "clone", "nope", "c9"], 1, "", "Error: get nope: no such volume\n");
    t.expect(
        &["volume", "clone", "c1", "-x"],
        125,
        "",
        "Error: unknown shorthand flag: 'x' in -x\nRun 'myvol volume clone --help' for more information\n",
    );
    t.expect(
        &["volume", "clone", "c1", "x"],
        1,
        "",
        "Error: clone c1: volume name is too short, names should be at least two alphanumeric characters\n",
    );
    t.expect(
        &["volume", "clone", "c1", "c9", "--label", "=v"],
        125,
        "",
        "Error: invalid argument \"=v\" for \"--label\" flag: invalid label '=v': empty name\nRun 'myvol volume clone --help' for more information\n",
    );
    assert_eq!((t.entries("volumes"), t.entries("tmp")), before);
}

#[test]
fn clone_source_is_in_use_while_copying_and_cannot_vanish() {
    // A lease taken by clone shows up as a user of the source: rm is refused meanwhile.
    // Here we hold our own lease and check clone still works (leases are shared).
    let t = TestEnv::new();
    t.ok(&["volume", "create", "src"]);
    std::fs::write(t.data("src").join("f"), "x").unwrap();
    let store = Store::new(&t.root);
    let lease = store.lease(&"src".parse().unwrap(), "test").unwrap();
    t.expect(&["volume", "clone", "src", "dst"], 0, "dst\n", "");
    drop(lease);
    assert_eq!(std::fs::read_to_string(t.data("dst").join("f")).unwrap(), "x");
}

// ------------------------------------------------------------------ sizes

/// `du --apparent-size -b` of the tree, minus what directories themselves count.
fn du_minus_dirs(dir: &Path) -> u64 {
    let du = std::process::Command::new("du").args(["--apparent-size", "-b", "-s"]).arg(dir).output().unwrap();
    let total: u64 = String::from_utf8_lossy(&du.stdout).split_whitespace().next().unwrap().parse().unwrap();
    let dirs = std::process::Command::new("find").arg(dir).args(["-type", "d", "-printf", "%s\\n"]).output().unwrap();
    let dirs: u64 = String::from_utf8_lossy(&dirs.stdout).lines().map(|l| l.parse::<u64>().unwrap()).sum();
    total - dirs
}

#[test]
fn sizes_match_du_apparent_size_without_directories() {
    let t = TestEnv::new();
    t.ok(&["volume", "create", "tree"]);
    t.ok(&["volume", "create", "empty"]);
    populate(&t.data("tree"));
    let store = Store::new(&t.root);
    let names: Vec<VolumeName> = ["tree", "empty", "missing"].iter().map(|n| n.parse().unwrap()).collect();
    let usage = store.usage(&names);
    let expected = du_minus_dirs(&t.data("tree"));
    assert_eq!(usage[0].as_ref().unwrap().size, expected);
    assert_eq!(usage[1].as_ref().unwrap().size, 0);
    assert!(matches!(usage[2], Err(myvol::store::StoreError::NotFound(_))));
    let lease = store.lease(&"tree".parse().unwrap(), "test").unwrap();
    assert_eq!(store.usage(&names[..1])[0].as_ref().unwrap().links, 1);
    let out = t.ok(&["system", "df", "-v", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["Volumes"][1]["Name"], "tree");
    assert_eq!(v["Volumes"][1]["Size"], human_size(expected).as_str());
    assert_eq!(v["Volumes"][1]["Links"], "1");
    drop(lease);
}

#[test]
fn sizes_of_many_volumes_in_parallel_keep_their_order() {
    let t = TestEnv::new();
    let mut names = Vec::new();
    for i in 0..40 {
        let n = format!("v{i}");
        t.ok(&["volume", "create", &n]);
        std::fs::write(t.data(&n).join("f"), vec![0u8; i * 10]).unwrap();
        names.push(n.parse::<VolumeName>().unwrap());
    }
    let usage = Store::new(&t.root).usage(&names);
    for (i, u) in usage.iter().enumerate() {
        assert_eq!(u.as_ref().unwrap().size, i as u64 * 10);
    }
}

// ------------------------------------------------------------------ system df, ls --size

/// The `fx-df` (1000 bytes) and `fx-df-empty` volumes of the recording.
fn df_env() -> TestEnv {
    let t = TestEnv::with_docker_root_len();
    t.ok(&["volume", "create", "fx-df"]);
    std::fs::write(t.data("fx-df").join("f"), vec![0u8; 1000]).unwrap();
    t.ok(&["volume", "create", "fx-df-empty"]);
    t
}

#[test]
fn system_df_json_matches_docker() {
    let t = df_env();
    let docker: Vec<String> = fixture_stdout("system-df-v-json")
        .split("\"Volumes\":")
        .nth(1)
        .map(|s| s.trim_end_matches("}").trim_end_matches(",\"BuildCache\":[]").to_owned())
        .into_iter()
        .collect();
    let out = t.ok(&["system", "df", "-v", "--format", "json"]);
    assert_eq!(out, format!("{{\"Images\":[],\"Containers\":[],\"Volumes\":{},\"BuildCache\":[]}}", docker[0]));
    // With a user and a volume with options (not counted), as recorded.
    t.ok(&["volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "fx-df-opt"]);
    let lease = Store::new(&t.root).lease(&"fx-df".parse().unwrap(), "test").unwrap();
    let rows = t.ok(&["system", "df", "--format", "json"]);
    let docker_rows = fixture_stdout("system-df-used-opt");
    let line = |s: &str, kind: &str| s.lines().find(|l| l.contains(kind)).unwrap().to_owned();
    assert_eq!(line(&rows, "Local Volumes"), line(&docker_rows, "Local Volumes"));
    // Docker had one (stopped) container then; myvol has none.
    assert_eq!(
        line(&rows, "\"Containers\""),
        r#"{"Active":"0","Reclaimable":"0B","Size":"0B","TotalCount":"0","Type":"Containers"}"#
    );
    assert_eq!(line(&rows, "Build Cache"), line(&docker_rows, "Build Cache"));
    assert_eq!(
        line(&rows, "\"Images\""),
        r#"{"Active":"0","Reclaimable":"0B","Size":"0B","TotalCount":"0","Type":"Images"}"#
    );
    assert_eq!(rows.lines().count(), 4);
    drop(lease);
}

// The tests below need the Go template engine and tabwriter (merged separately).

#[test]
fn system_df_table_matches_docker() {
    let t = df_env();
    let docker = fixture_stdout("system-df");
    let out = t.ok(&["system", "df"]);
    let lines: Vec<&str> = out.lines().collect();
    let dlines: Vec<&str> = docker.lines().collect();
    assert_eq!(lines[0], dlines[0]);
    assert_eq!(lines[3], dlines[3], "Local Volumes row");
    assert_eq!(lines[2], dlines[2], "Containers row");
    assert_eq!(lines[4], dlines[4], "Build Cache row");
    assert_eq!(lines[1], "Images          0         0         0B        0B");
    let v = t.ok(&["system", "df", "-v"]);
    let section = |s: &str| {
        let start = s.find("Local Volumes space usage:").unwrap();
        let end = s.find("Build cache usage:").unwrap();
        let mut l: Vec<String> = s[start..end].lines().map(str::to_owned).collect();
        l[3..].sort();
        l
    };
    assert_eq!(section(&v), section(&fixture_stdout("system-df-v")));
    assert!(v.starts_with("Images space usage:\n\nREPOSITORY   TAG       IMAGE ID   CREATED   SIZE      SHARED SIZE   UNIQUE SIZE   CONTAINERS\n\nContainers space usage:\n\nCONTAINER ID   IMAGE     COMMAND   LOCAL VOLUMES   SIZE      CREATED   STATUS    NAMES\n\n"), "{v}");
    assert!(
        v.ends_with(
            "Build cache usage: 0B\n\nCACHE ID   CACHE TYPE   SIZE      CREATED   LAST USED   USAGE     SHARED\n"
        ),
        "{v}"
    );
    t.expect(&["system", "df", "-v", "--format", "{{json .Volumes}}"], 0, &fixture_stdout("system-df-v-volumes"), "");
}

#[test]
fn ls_size_adds_a_size_column() {
    let t = df_env();
    t.expect(
        &["volume", "ls", "--size"],
        0,
        "DRIVER    VOLUME NAME   SIZE\nlocal     fx-df         1kB\nlocal     fx-df-empty   0B\n",
        "",
    );
    // Without --size, Docker's N/A.
    t.expect(&["volume", "ls", "--format", "{{.Name}} {{.Size}} {{.Links}}"], 0, &fixture_stdout("ls-format-size"), "");
    t.expect(
        &["volume", "ls", "--size", "--format", "{{.Name}} {{.Size}} {{.Links}}"],
        0,
        "fx-df 1kB 0\nfx-df-empty 0B 0\n",
        "",
    );
    t.expect(&["volume", "ls", "--size", "-q"], 0, "fx-df\nfx-df-empty\n", "");
}

// ------------------------------------------------------------------ completion, man

#[test]
fn completions_and_man_page_generate() {
    let t = TestEnv::new();
    for shell in ["bash", "zsh", "fish"] {
        let out = t.ok(&["completion", shell]);
        for verb in
            ["create", "ls", "inspect", "rm", "prune", "rename", "clone", "exists", "system", "df", "completion"]
        {
            assert!(out.contains(verb), "{shell} completion does not mention {verb}");
        }
        // Each command's flags, which clap defines only when it builds that command.
        for flag in ["label", "dry-run", "compress", "size", "filter", "volume-driver"] {
            assert!(out.contains(flag), "{shell} completion does not offer --{flag}");
        }
    }
    let o = t.run(&["completion", "tcsh"]);
    assert_eq!(o.code, 1, "{o:?}");
    let man = t.ok(&["man"]);
    assert!(man.starts_with(".ie") || man.contains(".TH myvol"), "{}", &man[..man.len().min(200)]);
    for verb in ["MYVOL VOLUME RENAME", "MYVOL VOLUME CLONE", "MYVOL SYSTEM DF", "\\-\\-size"] {
        assert!(man.contains(verb), "man page lacks {verb}");
    }
    // `man` is hidden from the help.
    assert!(!t.ok(&["--help"]).contains("\n  man "));
}

/// Every manual page a page names (`myvol-volume-create(1)` under SUBCOMMANDS) is one that
/// `myvol man --dir` writes, and `myvol man COMMAND` prints; `--root` is on myvol(1) only.
#[test]
fn man_pages_named_exist() {
    let t = TestEnv::new();
    let dir = t.dir.path().join("man1");
    std::fs::create_dir(&dir).unwrap();
    let listed = t.ok(&["man", "--dir", dir.to_str().unwrap()]);
    let mut files: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    files.sort();
    assert_eq!(listed.lines().count(), files.len(), "{listed}");
    assert!(files.contains(&"myvol.1".to_owned()) && files.contains(&"myvol-volume-create.1".to_owned()), "{files:?}");
    let named = regex::Regex::new(r"(myvol(?:\\-[a-z]+)*)\(1\)").unwrap();
    let root_flag = regex::Regex::new(r"\\-\\-root\b").unwrap();
    let mut references = 0;
    for f in &files {
        let page = std::fs::read_to_string(dir.join(f)).unwrap();
        for c in named.captures_iter(&page) {
            let file = format!("{}.1", c[1].replace("\\-", "-"));
            assert!(files.contains(&file), "{f} names {file}, which was not written: {files:?}");
            references += 1;
        }
        // myvol(1) has a section per command, where their options are: --root is in its head
        // (`run --rootfs` is another flag).
        let head = page.split(".SH \"MYVOL ").next().unwrap();
        assert_eq!(root_flag.is_match(head), f == "myvol.1", "{f}: --root on myvol(1) only");
        assert!(!root_flag.is_match(&page[head.len()..]), "{f}");
        let command: Vec<&str> = f.trim_end_matches(".1").split('-').skip(1).collect();
        let mut args = vec!["man"];
        args.extend(&command);
        assert_eq!(t.ok(&args), page, "myvol {}", args.join(" "));
    }
    assert!(references >= files.len() - 1, "{references} references");
    t.expect(&["man", "bogus"], 1, "", "Error: no manual page for myvol bogus\n");
}

/// A closed stdout ends every command quietly, help, man, completion and version included
/// (`myvol completion zsh | head -3` used to panic).
#[test]
fn closed_stdout_ends_quietly() {
    let t = TestEnv::new();
    t.ok(&["volume", "create", "vv"]);
    let cases: &[&[&str]] = &[
        &["completion", "zsh"],
        &["completion", "bash"],
        &["completion", "fish"],
        &["--help"],
        &["-h"],
        &["help", "volume", "create"],
        &["volume", "ls", "--help"],
        &["man"],
        &["man", "volume", "ls"],
        &["version"],
        &["-V"],
        &["volume", "ls"],
        &["volume", "inspect", "vv"],
    ];
    for args in cases {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let mut c = t.cmd();
        c.args(*args).stdout(writer).stderr(std::process::Stdio::piped()).stdin(std::process::Stdio::null());
        let o = c.output().unwrap();
        assert_eq!(
            (o.status.code(), String::from_utf8_lossy(&o.stderr).as_ref()),
            (Some(0), ""),
            "myvol {}",
            args.join(" ")
        );
    }
}

/// A reader that goes away mid-stream (`myvol completion zsh | head -c 16`) ends a completion
/// quietly too: the pipe is made smaller than the script, so myvol is still writing when the
/// reader, having read a few bytes, closes it.
#[test]
fn completion_into_a_pipe_closed_midway_ends_quietly() {
    let t = TestEnv::new();
    for shell in ["zsh", "bash", "fish"] {
        let (mut reader, writer) = std::io::pipe().unwrap();
        let size = rustix::pipe::fcntl_setpipe_size(&writer, 4096).unwrap();
        assert!(size < 16 << 10, "pipe of {size} bytes");
        let mut c = t.cmd();
        c.args(["completion", shell]).stdout(writer).stderr(Stdio::piped()).stdin(Stdio::null());
        let mut child = Spawned::new(&mut c);
        drop(c); // our copy of the write end
        let mut head = [0u8; 16];
        reader.read_exact(&mut head).unwrap();
        drop(reader);
        wait_until(&format!("myvol completion {shell} ends"), PATIENCE, || child.child().try_wait().unwrap().is_some());
        let mut err = String::new();
        child.child().stderr.take().unwrap().read_to_string(&mut err).unwrap();
        assert_eq!((child.wait(), err.as_str()), (0, ""), "myvol completion {shell}");
    }
}

/// `scripts/tour.sh` prints each command line so that it can be pasted back into a shell (its
/// quoting intact), and no escape codes when its output is not a terminal.
#[test]
fn tour_prints_pasteable_commands_without_escape_codes() {
    if !crate::env::require_root("scripts/tour.sh runs commands in namespaces") {
        return;
    }
    if !Path::new("/bin/busybox").exists() {
        crate::env::skipped("scripts/tour.sh needs a static busybox at /bin/busybox (Debian package busybox-static)");
        return;
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let o = std::process::Command::new("bash")
        .arg(repo.join("scripts/tour.sh"))
        .env("MYVOL", assert_cmd::cargo::cargo_bin("myvol"))
        .env_remove("MYVOL_ROOT")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{out}\n{}", String::from_utf8_lossy(&o.stderr));
    assert!(!out.contains('\x1b'), "escape codes in {out}");
    // The line shown is one a shell reads back as the arguments that ran.
    let shown = "$ myvol volume ls --format 'table {{.Name}}\\t{{.Labels}}' -f label=app\n";
    assert!(out.contains(shown), "{out}");
    assert!(out.contains("\nVOLUME NAME   LABELS\ndb-data       app=db\n"), "{out}");
    assert!(out.contains("$ myvol run --rm -v db-data:/data:ro "), "{out}");
}
