//! Volumes people own, size, watch and clean, through the real binary: ownership at create
//! (`--uid`, `--gid`, `--mode`) and tmpfs owner options seen from inside a run; podman's `U`
//! (root and rootless); size limits as disk images enforced in a run, and kept by clone,
//! export, import and rename; a forced project quota refused where the filesystem has none;
//! who uses a volume (`inspect .Users`, `ls .InUse`, `-f in-use=`) while a run, a `volume
//! mount` and an export hold it, and after the run and the export are SIGKILLed; `prune
//! --filter until=` and `--dry-run`, with Docker's errors.
//!
//! The project-quota path is tested at the syscall boundary (src/driver/quota.rs): this
//! kernel may have no quotas.

use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::env::{
    HostNs, Out, PATIENCE, Rig, Spawned, TempUser, TestEnv, path_str, require_tools, rig, skip, wait_for_path,
    wait_until,
};

/// `myvol run ARGS… ROOTFS COMMAND…` against the rig's store.
fn run(r: &Rig, args: &[&str], command: &[&str]) -> Out {
    let mut all = vec!["run"];
    all.extend_from_slice(args);
    all.push(path_str(&r.rootfs));
    all.extend_from_slice(command);
    r.t.run(&all)
}

/// The same, inside the namespace standing for the host (a volume mounted on the host dies
/// with it).
fn ns_run(ns: &HostNs, r: &Rig, args: &[&str], command: &[&str]) -> Out {
    let mut all = vec!["run"];
    all.extend_from_slice(args);
    all.push(path_str(&r.rootfs));
    all.extend_from_slice(command);
    ns.run(r, &all)
}

fn inspect_keys(json: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    v[0].as_object().unwrap().keys().cloned().collect()
}

const DOCKER_KEYS: [&str; 7] = ["CreatedAt", "Driver", "Labels", "Mountpoint", "Name", "Options", "Scope"];

#[test]
fn ownership_given_at_create_is_what_a_run_sees() {
    let Some(r) = rig() else { return };
    let t = &r.t;
    t.expect(&["volume", "create", "--uid", "1000", "--gid", "2000", "--mode", "0750", "owned"], 0, "owned\n", "");
    let o = run(&r, &["-v", "owned:/data"], &["stat", "-c", "%u:%g:%a", "/data"]);
    assert_eq!((o.code, o.stdout.as_str(), o.stderr.as_str()), (0, "1000:2000:750\n", ""));
    t.expect(
        &["volume", "inspect", "-f", "{{json .Owner}} {{.Owner.UID}} {{.Owner.Mode}}", "owned"],
        0,
        "{\"GID\":2000,\"Mode\":\"0750\",\"UID\":1000} 1000 0750\n",
        "",
    );
    // Docker's JSON is Docker's, key for key.
    assert_eq!(inspect_keys(&t.ok(&["volume", "inspect", "owned"])), DOCKER_KEYS);
    // What is not given is the creator's; any mode, setgid and sticky bits included (`0x`
    // and `0o` numbers as pflag reads an int).
    t.ok(&["volume", "create", "--mode", "3777", "--gid", "0x10", "shared"]);
    let o = run(&r, &["-v", "shared:/data"], &["stat", "-c", "%u:%g:%a", "/data"]);
    assert_eq!(o.stdout, "0:16:3777\n", "{o:?}");
    // No owner asked for: none shown.
    t.ok(&["volume", "create", "plain"]);
    t.expect(&["volume", "inspect", "-f", "{{json .Owner}}", "plain"], 0, "null\n", "");
    // An existing volume is returned as it is (Docker's rule for labels and options).
    t.expect(&["volume", "create", "--uid", "5", "owned"], 0, "owned\n", "");
    assert_eq!(std::fs::metadata(t.data("owned")).unwrap().uid(), 1000);
}

/// Docker's copy-up still decides an empty volume's owner: the image directory's, whatever
/// `--uid` said (`nocopy` keeps the volume's own).
#[test]
fn copy_up_gives_an_empty_volume_the_image_directorys_owner() {
    let Some(r) = rig() else { return };
    let srv = r.rootfs.join("srv");
    std::fs::create_dir(&srv).unwrap();
    std::fs::write(srv.join("index"), "image").unwrap();
    std::os::unix::fs::chown(&srv, Some(4321), Some(4322)).unwrap();
    std::fs::set_permissions(&srv, std::fs::Permissions::from_mode(0o710)).unwrap();
    r.t.ok(&["volume", "create", "--uid", "1000", "--mode", "0700", "va"]);
    r.t.ok(&["volume", "create", "--uid", "1000", "--mode", "0700", "vb"]);
    let o = run(&r, &["-v", "va:/srv"], &["stat", "-c", "%u:%g:%a", "/srv", "/srv/index"]);
    assert_eq!(o.stdout, "4321:4322:710\n0:0:644\n", "{o:?}");
    let o = run(&r, &["-v", "vb:/srv:nocopy"], &["stat", "-c", "%u:%g:%a", "/srv"]);
    assert_eq!(o.stdout, "1000:0:700\n", "{o:?}");
}

#[test]
fn ownership_errors_change_nothing() {
    let t = TestEnv::new();
    let flag = |flag: &str, value: &str, why: &str| {
        format!(
            "Error: invalid argument \"{value}\" for \"--{flag}\" flag: {why}\nRun 'myvol volume create --help' for more information\n"
        )
    };
    let range = "must be between 0 and 4294967294";
    let octal = "must be an octal mode between 0 and 7777 (like 0750)";
    let cases: Vec<(Vec<&str>, i32, String)> = vec![
        (vec!["--uid", "x"], 125, flag("uid", "x", "strconv.ParseInt: parsing \"x\": invalid syntax")),
        (vec!["--uid", ""], 125, flag("uid", "", "strconv.ParseInt: parsing \"\": invalid syntax")),
        (vec!["--gid", "-1"], 125, flag("gid", "-1", range)),
        (vec!["--uid", "4294967295"], 125, flag("uid", "4294967295", range)),
        (
            vec!["--uid", "99999999999999999999"],
            125,
            flag("uid", "99999999999999999999", "strconv.ParseInt: parsing \"99999999999999999999\": value out of range"),
        ),
        (vec!["--mode", "0759"], 125, flag("mode", "0759", octal)),
        (vec!["--mode", "17777"], 125, flag("mode", "17777", octal)),
        (vec!["--mode", "rwx"], 125, flag("mode", "rwx", octal)),
        (
            vec!["--uid", "1000", "-d", "rclone"],
            1,
            "Error: --uid, --gid and --mode apply to local volumes only: driver \"rclone\" manages its volumes' owners\n"
                .into(),
        ),
        (
            vec!["--mode", "0700", "-o", "type=tmpfs", "-o", "device=tmpfs"],
            1,
            "Error: --uid, --gid and --mode do not apply to a volume mounted from driver options (type, device): give the filesystem's own options (tmpfs: -o o=uid=1000,gid=1000,mode=0750)\n"
                .into(),
        ),
    ];
    for (args, code, stderr) in cases {
        let mut full = vec!["volume", "create"];
        full.extend_from_slice(&args);
        full.push("vv");
        t.expect(&full, code, "", &stderr);
    }
    assert!(t.entries("volumes").is_empty(), "{:?}", t.entries("volumes"));
}

/// A tmpfs volume's owner is given with the filesystem's own options, as Docker passes them.
#[test]
fn a_tmpfs_volume_takes_its_owner_from_its_options() {
    let Some(r) = rig() else { return };
    let Some(ns) = HostNs::new() else { return };
    ns.ok(
        &r,
        &["volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "-o", "o=uid=1000,gid=1001,mode=0710", "tv"],
    );
    let o = ns_run(&ns, &r, &["-v", "tv:/data"], &["stat", "-c", "%u:%g:%a", "/data"]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "1000:1001:710\n"), "{o:?}");
    assert_eq!(ns.mounts_under(&r.t.root), []);
}

#[test]
fn u_gives_a_volume_and_a_bind_to_the_runs_user() {
    let Some(r) = rig() else { return };
    let t = &r.t;
    let bind = t.dir.path().join("bind");
    std::fs::create_dir_all(bind.join("sub")).unwrap();
    std::fs::write(bind.join("sub/f"), "x").unwrap();
    let outside = t.dir.path().join("outside");
    std::fs::write(&outside, "host").unwrap();
    symlink(&outside, bind.join("link")).unwrap();
    let other = t.dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    t.ok(&["volume", "create", "uv"]);
    let b = format!("{}:/b:U", path_str(&bind));
    let o2 = format!("{}:/o", path_str(&other));
    let o = run(
        &r,
        &["-u", "1000:1001", "-v", &b, "-v", &o2, "-v", "uv:/v:U", "--mount", "type=volume,src=uw,dst=/w,U=true"],
        &["sh", "-c", "stat -c %u:%g /b /b/sub /b/sub/f /v /w /o && touch /v/mine /b/mine"],
    );
    assert_eq!(
        (o.code, o.stdout.as_str(), o.stderr.as_str()),
        (0, "1000:1001\n1000:1001\n1000:1001\n1000:1001\n1000:1001\n0:0\n", "")
    );
    // The link itself was given, never what it points to.
    let link = std::fs::symlink_metadata(bind.join("link")).unwrap();
    assert_eq!((link.uid(), link.gid()), (1000, 1001));
    assert_eq!(std::fs::metadata(&outside).unwrap().uid(), 0);
    assert_eq!(std::fs::metadata(t.data("uv").join("mine")).unwrap().uid(), 1000);
    // podman's refusals.
    let o = run(&r, &["-u", "7:8", "-v", "/tmp:/t:U"], &["true"]);
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (125, "Error: chowning host path \"/tmp\" is not allowed. You can manually `chown -R 7:8 /tmp`\n")
    );
    let o = run(&r, &["--mount", "type=volume,src=uv,dst=/v,U=maybe"], &["true"]);
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (
            125,
            "Error: invalid argument \"type=volume,src=uv,dst=/v,U=maybe\" for \"--mount\" flag: 'U' or 'chown' must be set to true or false, instead received \"maybe\"\nRun 'myvol run --help' for more information\n"
        )
    );
    let o = run(&r, &["-v", "uv:/v:U,U"], &["true"]);
    assert_eq!((o.code, o.stderr.as_str()), (125, "Error: invalid mode: U,U\n"));
}

/// Rootless, the run's ids are the user namespace's: `U` gives the source to the host ids they
/// map to. A user's own ids are all `--uid` may give, and a size limit needs root.
#[test]
fn rootless_u_maps_the_runs_user_and_ownership_stays_the_users() {
    let Some(r) = rig() else { return };
    if !require_tools(&["newuidmap", "newgidmap", "runuser"]) {
        return;
    }
    let Some(user) = TempUser::create(&[]) else { return };
    let Some(((subuid, _), (subgid, _))) = user.sub_ids() else {
        skip!("useradd gave {} no subordinate ids (SUB_UID_COUNT in /etc/login.defs)", user.name);
    };
    let dir = user.dir("myvol-owned-");
    let b = dir.path();
    assert!(Command::new("cp").arg("-a").arg(&r.rootfs).arg(b.join("rootfs")).status().unwrap().success());
    std::fs::create_dir_all(b.join("bind/sub")).unwrap();
    dir.give();
    let as_user = |args: &[&str]| dir.myvol(args);
    let rootfs = path_str(&b.join("rootfs")).to_owned();
    let o = as_user(&["run", "-u", "1000:1000", "-v", "./bind:/b:U", &rootfs, "stat", "-c", "%u:%g", "/b", "/b/sub"]);
    assert_eq!(o, (0, "1000:1000\n1000:1000\n".into(), String::new()));
    let host = std::fs::metadata(b.join("bind/sub")).unwrap();
    assert_eq!((host.uid(), host.gid()), (subuid + 999, subgid + 999), "uid 1000 in the run is subuid + 999");
    // --uid: the user's own, yes; another's, no; a size: root only.
    let o = as_user(&["volume", "create", "--uid", &user.uid.to_string(), "--mode", "0700", "mine"]);
    assert_eq!(o, (0, "mine\n".into(), String::new()));
    let store = b.join("store");
    let o = as_user(&["volume", "create", "--uid", "0", "theirs"]);
    assert_eq!(
        o,
        (
            1,
            String::new(),
            format!("Error: create theirs: chown {}/volumes/theirs/_data: operation not permitted\n", store.display())
        )
    );
    let o = as_user(&["volume", "create", "-o", "size=10m", "sized"]);
    assert_eq!(
        o,
        (
            1,
            String::new(),
            "Error: create sized: quota size requested but no quota support: a size limit needs root (a project quota, or a disk image on a loop device)\n".into()
        )
    );
    assert_eq!(as_user(&["volume", "ls", "-q"]).1, "mine\n");
}

/// The rig and a namespace for the host's mounts, with the tools a disk image is made with.
fn sized() -> Option<(Rig, HostNs)> {
    let r = rig()?;
    if !require_tools(&["mkfs.ext4", "debugfs", "e2fsck", "losetup"]) {
        return None;
    }
    let ns = HostNs::new()?;
    Some((r, ns))
}

/// No mount left on the store, and no loop device bound to `image`.
#[track_caller]
fn nothing_mounted(ns: &HostNs, r: &Rig, image: &Path) {
    assert_eq!(ns.mounts_under(&r.t.root), []);
    let o = Command::new("losetup").arg("-j").arg(image).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), "", "a loop device still holds {}", image.display());
}

#[test]
fn a_size_limit_holds_in_a_run_and_the_volume_stays_whole() {
    let Some((r, ns)) = sized() else { return };
    let t = &r.t;
    ns.ok(&r, &["volume", "create", "-o", "size=8m", "-o", "quota=image", "--uid", "1000", "--mode", "0770", "sv"]);
    t.expect(
        &["volume", "inspect", "-f", "{{json .Options}} {{.Quota.Mode}} {{.Quota.Size}}", "sv"],
        0,
        "{\"quota\":\"image\",\"size\":\"8m\"} image 8388608\n",
        "",
    );
    assert_eq!(inspect_keys(&t.ok(&["volume", "inspect", "sv"])), DOCKER_KEYS);
    let o = ns_run(
        &ns,
        &r,
        &["-u", "1000", "-v", "sv:/data"],
        &[
            "sh",
            "-c",
            "stat -c %u:%g:%a /data && echo kept > /data/keep && dd if=/dev/zero of=/data/big bs=1M count=16",
        ],
    );
    assert_ne!(o.code, 0, "{o:?}");
    assert_eq!(o.stdout, "1000:0:770\n");
    assert!(o.stderr.contains("No space left on device"), "{o:?}");
    let image = t.volumes().join("sv/disk.img");
    nothing_mounted(&ns, &r, &image);
    // What is used, against the limit; what was written before stays, and the filesystem
    // is clean.
    let ls = ns.ok(&r, &["volume", "ls", "--size", "--format", "{{.Name}} {{.Size}} {{.Limit}}"]);
    assert!(ls.starts_with("sv ") && ls.ends_with(" / 8.389MB 8.389MB\n"), "{ls}");
    let df = ns.ok(&r, &["system", "df", "-v"]);
    assert!(df.lines().any(|l| l.starts_with("sv ") && l.ends_with(" / 8.389MB")), "{df}");
    let o = Command::new("e2fsck").arg("-fn").arg(&image).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    let o =
        ns_run(&ns, &r, &["-v", "sv:/data"], &["sh", "-c", "cat /data/keep && rm /data/big && echo room > /data/more"]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "kept\n"), "{o:?}");
    nothing_mounted(&ns, &r, &image);
    // A user SIGKILLed with the image mounted: the next command unmounts it and frees the loop
    // device.
    let mut ns = ns;
    let flags = t.dir.path().join("flags");
    std::fs::create_dir(&flags).unwrap();
    let bind = format!("{}:/flags", path_str(&flags));
    let i = ns.spawn_run(&r, &["-v", "sv:/data", "-v", &bind], "touch /flags/up && sleep 1000");
    wait_for_path(&flags.join("up"));
    assert_eq!(ns.mounts_under(&t.data("sv")).len(), 1);
    let pid = ns.children[i].id() as i32;
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL).unwrap();
    ns.wait(i);
    assert_eq!(ns.mounts_under(&t.data("sv")).len(), 1, "nobody was there to unmount it");
    ns.ok(&r, &["volume", "ls", "-q"]);
    nothing_mounted(&ns, &r, &image);
    let o = Command::new("e2fsck").arg("-fn").arg(&image).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    // Without a forced mode, the filesystem decides (here, without project quotas: an image);
    // either way a write past the limit fails.
    ns.ok(&r, &["volume", "create", "-o", "size=4m", "auto"]);
    let mode = t.ok(&["volume", "inspect", "-f", "{{.Quota.Mode}}", "auto"]);
    assert!(mode == "image\n" || mode == "project\n", "{mode}");
    let o = ns_run(&ns, &r, &["-v", "auto:/data"], &["dd", "if=/dev/zero", "of=/data/big", "bs=1M", "count=8"]);
    assert!(
        o.code != 0 && (o.stderr.contains("No space left on device") || o.stderr.contains("Disk quota exceeded")),
        "{o:?}"
    );
    ns.ok(&r, &["volume", "rm", "sv", "auto"]);
    t.assert_store_at_rest();
}

#[test]
fn a_sized_volume_is_cloned_exported_imported_and_renamed() {
    let Some((r, ns)) = sized() else { return };
    let t = &r.t;
    let sized = |name: &str| ns.ok(&r, &["volume", "create", "-o", "size=8m", "-o", "quota=image", name]);
    sized("src");
    let o = ns_run(
        &ns,
        &r,
        &["-v", "src:/data"],
        // A `lost+found` of the user's own is content like any other.
        &[
            "sh",
            "-c",
            "mkdir /data/d /data/lost+found && echo hello > /data/d/f && ln -s d/f /data/l && echo lf > /data/lost+found/x",
        ],
    );
    assert_eq!(o.code, 0, "{o:?}");
    let check = |volume: &str| {
        let spec = format!("{volume}:/data");
        let o = ns_run(
            &ns,
            &r,
            &["-v", &spec],
            &["sh", "-c", "cat /data/d/f && readlink /data/l && cat /data/lost+found/x"],
        );
        assert_eq!((o.code, o.stdout.as_str()), (0, "hello\nd/f\nlf\n"), "{volume}: {o:?}");
    };
    // A clone: the content, and a limit of its own.
    ns.ok(&r, &["volume", "clone", "src", "cl"]);
    check("cl");
    t.expect(&["volume", "inspect", "-f", "{{.Quota.Mode}} {{.Quota.Size}}", "cl"], 0, "image 8388608\n", "");
    let o = ns_run(&ns, &r, &["-v", "cl:/data"], &["dd", "if=/dev/zero", "of=/data/big", "bs=1M", "count=16"]);
    assert!(o.code != 0 && o.stderr.contains("No space left on device"), "{o:?}");
    // Export, and import into another sized volume.
    let tar = t.dir.path().join("src.tar");
    ns.ok(&r, &["volume", "export", "src", "-o", path_str(&tar)]);
    let listing = Command::new("tar").arg("-tf").arg(&tar).output().unwrap();
    assert!(String::from_utf8_lossy(&listing.stdout).lines().any(|l| l == "./d/f"), "{listing:?}");
    sized("imp");
    ns.ok(&r, &["volume", "import", "imp", path_str(&tar)]);
    check("imp");
    // An archive larger than the limit changes nothing.
    let big = t.dir.path().join("big");
    std::fs::create_dir(&big).unwrap();
    std::fs::write(big.join("f"), vec![7u8; 10 << 20]).unwrap();
    let big_tar = t.dir.path().join("big.tar");
    assert!(Command::new("tar").arg("-C").arg(&big).arg("-cf").arg(&big_tar).arg(".").status().unwrap().success());
    let o = ns.run(&r, &["volume", "import", "imp", path_str(&big_tar)]);
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (1, "Error: import imp: the archive unpacks to more than the volume's size limit of 8MiB\n")
    );
    check("imp");
    // Rename: the image goes with the volume.
    ns.ok(&r, &["volume", "rename", "cl", "cl2"]);
    check("cl2");
    for v in ["src", "cl2", "imp"] {
        nothing_mounted(&ns, &r, &t.volumes().join(v).join("disk.img"));
    }
    t.assert_store_at_rest();
}

/// `quota=project` where the store's filesystem has no project quotas (a tmpfs): refused,
/// nothing made; without it the same size becomes a disk image.
#[test]
fn a_forced_project_quota_is_refused_where_the_filesystem_has_none() {
    let Some((r, ns)) = sized() else { return };
    let fs = r.t.dir.path().join("tmpfs");
    std::fs::create_dir(&fs).unwrap();
    ns.sh(&format!("mount -t tmpfs -o size=64m tmpfs {}", path_str(&fs)));
    let root = fs.join("store");
    let myvol = |args: &[&str]| {
        let mut c = ns.cmd(&r, args);
        c.env("MYVOL_ROOT", &root);
        r.t.exec(c, None)
    };
    let o = myvol(&["volume", "create", "-o", "size=8m", "-o", "quota=project", "pq"]);
    assert_eq!((o.code, o.stdout.as_str()), (1, ""), "{o:?}");
    assert!(
        o.stderr.starts_with("Error: create pq: project quotas are not available on the store's filesystem: "),
        "{o:?}"
    );
    assert_eq!(myvol(&["volume", "ls", "-q"]).stdout, "");
    let o = myvol(&["volume", "create", "-o", "size=8m", "auto"]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "auto\n"), "{o:?}");
    assert_eq!(myvol(&["volume", "inspect", "-f", "{{.Quota.Mode}}", "auto"]).stdout, "image\n");
}

#[test]
fn who_uses_a_volume_is_listed_and_the_dead_are_never_shown() {
    let Some(r) = rig() else { return };
    let t = &r.t;
    t.ok(&["volume", "create", "uv"]);
    let flags = t.dir.path().join("flags");
    std::fs::create_dir(&flags).unwrap();
    let bind = format!("{}:/flags", path_str(&flags));
    let mut running = Spawned::new(
        t.cmd()
            .args(["run", "-v", "uv:/d", "-v", &bind, path_str(&r.rootfs), "sh", "-c", "touch /flags/up; sleep 1000"])
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    wait_for_path(&flags.join("up"));
    t.ok(&["volume", "mount", "uv"]);
    // An export to a FIFO nobody reads: it holds its lease while it waits.
    let fifo = t.dir.path().join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let mut export = Spawned::new(
        t.cmd().args(["volume", "export", "uv", "-o", path_str(&fifo)]).stdout(Stdio::null()).stderr(Stdio::null()),
    );
    let count = || t.ok(&["volume", "inspect", "-f", "{{len .Users}}", "uv"]);
    wait_until("three users", PATIENCE, || count() == "3\n");
    let users: Vec<serde_json::Value> =
        serde_json::from_str(&t.ok(&["volume", "inspect", "-f", "{{json .Users}}", "uv"])).unwrap();
    let kinds: Vec<&str> = users.iter().map(|u| u["Kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["run", "mount", "export"], "the oldest first");
    assert_eq!(users[0]["Pid"], running.id());
    assert!(users[0]["Command"].as_str().unwrap().starts_with("myvol run -v uv:/d "), "{users:?}");
    assert_eq!((users[0]["ReadOnly"].as_bool(), users[2]["ReadOnly"].as_bool()), (Some(false), Some(true)));
    assert_eq!((&users[1]["Pid"], users[1]["Command"].as_str()), (&serde_json::Value::Null, Some("")));
    assert_eq!(users[2]["Pid"], export.id());
    assert!(users[2]["Command"].as_str().unwrap().contains("volume export uv -o "), "{users:?}");
    // Docker's JSON is Docker's, in use or not.
    assert_eq!(inspect_keys(&t.ok(&["volume", "inspect", "uv"])), DOCKER_KEYS);
    t.ok(&["volume", "create", "idle"]);
    t.expect(
        &["volume", "ls", "--format", "{{.Name}}\t{{.InUse}}\t{{.Users}}"],
        0,
        &format!("idle\tfalse\t\nuv\ttrue\trun {}, mount, export {}\n", running.id(), export.id()),
        "",
    );
    t.expect(
        &["volume", "ls", "--format", "table {{.Name}}\t{{.InUse}}", "-f", "name=uv"],
        0,
        "VOLUME NAME   IN USE\nuv            true\n",
        "",
    );
    t.expect(&["volume", "ls", "-q", "-f", "in-use=true"], 0, "uv\n", "");
    t.expect(&["volume", "ls", "-q", "-f", "in-use=false"], 0, "idle\n", "");
    t.expect(&["volume", "ls", "-q", "-f", "dangling=true"], 0, "idle\n", "");
    // The "in use" error names them (one line each).
    let o = t.run(&["volume", "rm", "uv"]);
    assert_eq!(o.code, 1);
    assert_eq!(o.stderr.lines().filter(|l| l.starts_with("Used by ")).count(), 3, "{o:?}");
    // SIGKILLed: never shown again, and their leases go with the next mutation.
    for p in [running.id(), export.id()] {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(p as i32), nix::sys::signal::Signal::SIGKILL).unwrap();
    }
    running.wait();
    export.wait();
    assert_eq!(count(), "1\n");
    t.expect(&["volume", "inspect", "-f", "{{range .Users}}{{.Kind}}{{end}}", "uv"], 0, "mount\n", "");
    t.expect(&["volume", "ls", "--format", "{{.Name}} {{.Users}}", "-f", "name=uv"], 0, "uv mount\n", "");
    let leases = || t.entries("volumes/uv/leases");
    t.ok(&["volume", "create", "another"]);
    let left = leases();
    assert!(left.len() == 1 && left[0].starts_with("pin-"), "{left:?}");
    // A `volume mount` is a user until its `volume unmount`.
    t.ok(&["volume", "unmount", "uv"]);
    assert_eq!(count(), "0\n");
    t.expect(&["volume", "ls", "-q", "-f", "in-use=false", "-f", "name=uv"], 0, "uv\n", "");
    t.ok(&["volume", "rm", "uv"]);
}

#[test]
fn prune_until_and_dry_run() {
    let t = TestEnv::new();
    t.ok(&["volume", "create", "old"]);
    std::fs::write(t.data("old").join("f"), vec![0u8; 1000]).unwrap();
    // An instant after `old` was created and before `new` is.
    let between = jiff::Timestamp::now();
    wait_until("the clock moves", PATIENCE, || jiff::Timestamp::now() > between);
    t.ok(&["volume", "create", "new"]);
    let until = format!("until={}.{:09}", between.as_second(), between.subsec_nanosecond());
    let rfc3339 = format!("until={between}");
    for u in [&until, &rfc3339] {
        t.expect(&["volume", "ls", "-q", "--filter", u], 0, "old\n", "");
        t.expect(
            &["volume", "prune", "-a", "--dry-run", "--filter", u],
            0,
            "Volumes that would be pruned:\nold\n\nTotal reclaimable space: 1kB\n",
            "",
        );
    }
    t.expect(&["volume", "ls", "-q"], 0, "new\nold\n", "");
    t.expect(&["volume", "prune", "-a", "--dry-run", "--filter", "until=1h"], 0, "Total reclaimable space: 0B\n", "");
    t.expect(&["volume", "ls", "-q", "-f", "until=2000-01-01"], 0, "", "");
    t.expect(&["volume", "ls", "-q", "-f", "until=2100-01-01T00:00:00Z"], 0, "new\nold\n", "");
    t.expect(
        &["volume", "prune", "-a", "-f", "--filter", &until],
        0,
        "Deleted Volumes:\nold\n\nTotal reclaimed space: 1kB\n",
        "",
    );
    // A duration into the future (`-1h`) takes everything created until then; labels still
    // select.
    t.ok(&["volume", "create", "--label", "keep", "kept"]);
    t.expect(
        &["volume", "prune", "-a", "-f", "--filter", "until=-1h", "--filter", "label!=keep"],
        0,
        "Deleted Volumes:\nnew\n\nTotal reclaimed space: 0B\n",
        "",
    );
    t.expect(&["volume", "ls", "-q"], 0, "kept\n", "");
    // Docker's errors.
    let errors: &[(&[&str], &str)] = &[
        (&["prune", "-f", "--filter", "until=yesterday"], "failed to parse value as time or duration: \"yesterday\""),
        (&["prune", "-f", "--filter", "until=2024-13-01"], "parsing time \"2024-13-01\": month out of range"),
        (
            &["prune", "-f", "--filter", "until=2024-01-01 10:00"],
            "parsing time \"2024-01-01 10:00\": extra text: \" 10:00\"",
        ),
        (&["prune", "-f", "--filter", "until=1h", "--filter", "until=2h"], "more than one until filter specified"),
        (&["ls", "--filter", "until=soon"], "failed to parse value as time or duration: \"soon\""),
        (&["prune", "-f", "--dry-run"], "--force and --dry-run cannot be used together"),
        (&["ls", "-f", "in-use=maybe"], "invalid filter 'in-use=[maybe]'"),
    ];
    for (args, message) in errors {
        let mut full = vec!["volume"];
        full.extend_from_slice(args);
        t.expect(&full, 1, "", &format!("Error: {message}\n"));
    }
    t.expect(&["volume", "ls", "-q"], 0, "kept\n", "");
}
