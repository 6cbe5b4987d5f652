//! The local driver's mount options for real: tmpfs, a bind of a host directory and an ext4
//! block device (a loop device the test sets up) mounted on `_data` when the first user
//! arrives and unmounted after the last one, shared by concurrent runs, cleaned up after a
//! user was SIGKILLed; NFS and CIFS (not in this kernel) through the real call path, whose
//! error shows the exact mount(2) source, flags and data.
//!
//! Every myvol here runs inside a mount namespace the test owns (`unshare -m`, entered with
//! `nsenter`): the "host" mounts myvol makes live and die with it, even if the test fails.

use crate::env::{HostNs, LoopDev, Rig, path_str, rig, skip, wait_for_path};

fn setup() -> Option<(Rig, HostNs)> {
    let r = rig()?;
    let ns = HostNs::new()?;
    Some((r, ns))
}

#[test]
fn tmpfs_volume_is_mounted_for_a_run_and_unmounted_after() {
    let Some((r, ns)) = setup() else { return };
    ns.ok(
        &r,
        &["volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "-o", "o=size=5m,uid=1000,mode=0750", "tv"],
    );
    let o = ns.run(
        &r,
        &[
            "run",
            "-v",
            "tv:/data",
            path_str(&r.rootfs),
            "sh",
            "-c",
            "grep ' /data ' /proc/self/mountinfo; stat -c '%u %a' /data; echo x > /data/f",
        ],
    );
    assert_eq!(o.code, 0, "{o:#?}");
    assert!(o.stdout.contains(" - tmpfs tmpfs rw,size=5120k,mode=750,uid=1000"), "{o:#?}");
    assert!(o.stdout.ends_with("1000 750\n"), "{o:#?}");
    // The last user left: nothing mounted, nothing kept (tmpfs), no mark left.
    assert_eq!(ns.mounts_under(&r.t.root), []);
    assert!(r.t.entries("volumes/t/_data").is_empty());
    assert!(r.t.entries("mounts").is_empty());
    // Docker's inspect shows the options as given.
    let o = ns.ok(&r, &["volume", "inspect", "-f", "{{json .Options}}", "tv"]);
    assert_eq!(o, "{\"device\":\"tmpfs\",\"o\":\"size=5m,uid=1000,mode=0750\",\"type\":\"tmpfs\"}\n");
}

#[test]
fn two_runs_share_one_tmpfs_and_the_last_one_out_unmounts() {
    let Some((r, mut ns)) = setup() else { return };
    ns.ok(&r, &["volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "shared"]);
    let flags = r.t.dir.path().join("flags");
    std::fs::create_dir(&flags).unwrap();
    let f = path_str(&flags);
    let bind = format!("{f}:/flags");
    // A writes, says so, and waits to be released; B reads what A wrote, then waits too.
    let a = ns.spawn_run(
        &r,
        &["-v", "shared:/data", "-v", &bind],
        "echo from-a > /data/a && touch /flags/a-ready && while [ ! -e /flags/a-go ]; do sleep 0.05; done",
    );
    wait_for_path(&flags.join("a-ready"));
    let b = ns.spawn_run(
        &r,
        &["-v", "shared:/data", "-v", &bind],
        "cat /data/a > /flags/b-saw && touch /flags/b-ready && while [ ! -e /flags/b-go ]; do sleep 0.05; done",
    );
    wait_for_path(&flags.join("b-ready"));
    assert_eq!(std::fs::read_to_string(flags.join("b-saw")).unwrap(), "from-a\n");
    let data = r.t.data("shared");
    let mounted = |ns: &HostNs| ns.mounts_under(&data).iter().filter(|m| m.1 == "tmpfs").count();
    assert_eq!(mounted(&ns), 1, "one tmpfs for both runs");
    std::fs::write(flags.join("a-go"), "").unwrap();
    assert_eq!(ns.wait(a), 0);
    assert_eq!(mounted(&ns), 1, "B still uses it");
    std::fs::write(flags.join("b-go"), "").unwrap();
    assert_eq!(ns.wait(b), 0);
    assert_eq!(mounted(&ns), 0, "unmounted after the last user");
}

#[test]
fn a_sigkilled_user_is_not_counted_and_the_next_invocation_unmounts() {
    let Some((r, mut ns)) = setup() else { return };
    ns.ok(&r, &["volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "kv"]);
    let flags = r.t.dir.path().join("flags");
    std::fs::create_dir(&flags).unwrap();
    let bind = format!("{}:/flags", path_str(&flags));
    let i = ns.spawn_run(&r, &["-v", "kv:/data", "-v", &bind], "touch /flags/up && sleep 1000");
    wait_for_path(&flags.join("up"));
    let data = r.t.data("kv");
    assert_eq!(ns.mounts_under(&data).len(), 1);
    // SIGKILL the supervisor (nsenter execs myvol, so this pid is myvol's).
    let pid = ns.children[i].id() as i32;
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL).unwrap();
    ns.wait(i);
    // Still mounted: nobody was there to unmount it, and the mark says so.
    assert_eq!(ns.mounts_under(&data).len(), 1);
    assert_eq!(r.t.entries("mounts"), ["kv"]);
    // Any invocation reconciles: the dead user does not count.
    ns.ok(&r, &["volume", "ls", "-q"]);
    assert_eq!(ns.mounts_under(&data), []);
    assert!(r.t.entries("mounts").is_empty());
    // And the volume is free again.
    ns.ok(&r, &["volume", "rm", "kv"]);
}

#[test]
fn bind_volume_is_a_host_directory() {
    let Some((r, ns)) = setup() else { return };
    let host = r.t.dir.path().join("host dir");
    std::fs::create_dir(&host).unwrap();
    std::fs::write(host.join("before"), "b").unwrap();
    let dev = format!("device={}", path_str(&host));
    ns.ok(&r, &["volume", "create", "-o", "type=none", "-o", &dev, "-o", "o=bind", "hv"]);
    let o = ns.run(
        &r,
        &["run", "-v", "hv:/data", path_str(&r.rootfs), "sh", "-c", "cat /data/before; echo w > /data/written"],
    );
    assert_eq!((o.code, o.stdout.as_str(), o.stderr.as_str()), (0, "b", ""));
    assert_eq!(std::fs::read_to_string(host.join("written")).unwrap(), "w\n");
    assert!(r.t.entries("volumes/hv/_data").is_empty(), "the content is in the host directory only");
    assert_eq!(ns.mounts_under(&r.t.root), []);
    // A missing device fails at first use, with Docker's message and exit status (127: the
    // message says "no such file or directory", as docker run's).
    ns.ok(&r, &["volume", "create", "-o", "type=none", "-o", "device=/nonexistent-myvol", "-o", "o=bind", "gone"]);
    let o = ns.run(&r, &["run", "-v", "gone:/data", path_str(&r.rootfs), "true"]);
    assert_eq!(
        (o.code, o.stdout.as_str(), o.stderr.as_str()),
        (
            127,
            "",
            "Error: error while mounting volume '<ROOT>/volumes/gone/_data': failed to mount local volume: \
             mount /nonexistent-myvol:<ROOT>/volumes/gone/_data, flags: 0x1000: no such file or directory\n"
        )
    );
    assert!(r.t.entries("mounts").is_empty());
    assert!(r.t.entries("volumes/gone/leases").is_empty(), "the failed run's lease is gone");
}

#[test]
fn bind_volume_read_only_is_bind_then_remount() {
    let Some((r, ns)) = setup() else { return };
    let host = r.t.dir.path().join("src");
    std::fs::create_dir(&host).unwrap();
    let dev = format!("device={}", path_str(&host));
    ns.ok(&r, &["volume", "create", "-o", "type=none", "-o", &dev, "-o", "o=bind,ro", "rov"]);
    let o = ns.run(&r, &["run", "-v", "rov:/data", path_str(&r.rootfs), "sh", "-c", "touch /data/x 2>&1; true"]);
    assert_eq!(o.code, 0, "{o:#?}");
    assert!(o.stdout.contains("Read-only file system"), "{o:#?}");
    assert!(!host.join("x").exists());
}

#[test]
fn block_device_volume_keeps_its_data_on_the_device() {
    let Some((r, ns)) = setup() else { return };
    let Some(lo) = LoopDev::new(r.t.dir.path()) else { return };
    let dev = format!("device={}", lo.dev);
    ns.ok(&r, &["volume", "create", "-o", "type=ext4", "-o", &dev, "-o", "o=noatime", "disk"]);
    let o = ns.run(
        &r,
        &[
            "run",
            "-v",
            "disk:/data",
            path_str(&r.rootfs),
            "sh",
            "-c",
            "echo persisted > /data/f; grep ' /data ' /proc/self/mountinfo",
        ],
    );
    assert_eq!(o.code, 0, "{o:#?}");
    assert!(o.stdout.contains("noatime") && o.stdout.contains(" - ext4 "), "{o:#?}");
    // Unmounted: the store's directory has nothing, the device has the file.
    assert_eq!(ns.mounts_under(&r.t.root), []);
    assert!(!r.t.data("disk").join("f").exists());
    let o = ns.run(&r, &["run", "-v", "disk:/data", path_str(&r.rootfs), "cat", "/data/f"]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "persisted\n"), "{o:#?}");
    // `volume mount` gives a path that stays usable until `volume unmount`.
    let path = ns.ok(&r, &["volume", "mount", "disk"]);
    assert_eq!(path.trim_end(), "<ROOT>/volumes/disk/_data");
    assert_eq!(ns.mounts_under(&r.t.data("disk")).len(), 1);
    let o = ns.run(&r, &["volume", "rm", "disk"]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.starts_with("Error: remove disk: volume is in use - [pin-"), "{o:#?}");
    ns.ok(&r, &["volume", "unmount", "disk"]);
    assert_eq!(ns.mounts_under(&r.t.root), []);
    ns.ok(&r, &["volume", "rm", "disk"]);
}

#[test]
fn volume_mount_counts_and_unmount_of_an_unmounted_volume_is_quiet() {
    let Some((r, ns)) = setup() else { return };
    ns.ok(&r, &["volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "mv"]);
    ns.ok(&r, &["volume", "create", "plain"]);
    let o = ns.run(&r, &["volume", "mount", "mv", "plain", "missing"]);
    assert_eq!(
        (o.code, o.stdout.as_str(), o.stderr.as_str()),
        (1, "<ROOT>/volumes/mv/_data\n<ROOT>/volumes/plain/_data\n", "Error: get missing: no such volume\n")
    );
    ns.ok(&r, &["volume", "mount", "mv"]);
    let data = r.t.data("mv");
    assert_eq!(ns.mounts_under(&data).len(), 1);
    assert_eq!(ns.ok(&r, &["volume", "unmount", "mv"]), "mv\n");
    assert_eq!(ns.mounts_under(&data).len(), 1, "mounted twice, unmounted once");
    assert_eq!(ns.ok(&r, &["volume", "umount", "mv", "plain"]), "mv\nplain\n");
    assert_eq!(ns.mounts_under(&data), []);
    assert_eq!(ns.ok(&r, &["volume", "unmount", "mv"]), "mv\n");
    ns.ok(&r, &["volume", "rm", "mv", "plain"]);
}

#[test]
fn nfs_goes_through_the_real_mount_call_with_docker_arguments() {
    let Some((r, ns)) = setup() else { return };
    if std::fs::read_to_string("/proc/filesystems").unwrap().contains("\tnfs\n") {
        skip!("this kernel has an NFS client; the test expects ENODEV from mount(2)");
    }
    // A host name in addr= is resolved first (localhost: 127.0.0.1); the device is as given.
    ns.ok(
        &r,
        &[
            "volume",
            "create",
            "-o",
            "type=nfs",
            "-o",
            "device=:/export/a",
            "-o",
            "o=addr=localhost,rw,nfsvers=4,nosuid",
            "nv",
        ],
    );
    let o = ns.run(&r, &["run", "-v", "nv:/data", path_str(&r.rootfs), "true"]);
    assert_eq!(
        (o.code, o.stdout.as_str(), o.stderr.as_str()),
        (
            125,
            "",
            "Error: error while mounting volume '<ROOT>/volumes/nv/_data': failed to mount local volume: \
             mount :/export/a:<ROOT>/volumes/nv/_data, flags: 0x2, data: addr=127.0.0.1,nfsvers=4: no such device\n"
        )
    );
    // A name that does not resolve never reaches mount(2).
    ns.ok(&r, &["volume", "create", "-o", "type=nfs", "-o", "device=:/x", "-o", "o=addr=no-such-host.invalid", "bad"]);
    let o = ns.run(&r, &["run", "-v", "bad:/data", path_str(&r.rootfs), "true"]);
    assert_eq!(o.code, 125);
    assert_eq!(
        o.stderr,
        "Error: error while mounting volume '<ROOT>/volumes/bad/_data': error resolving passed in network volume \
         address: lookup no-such-host.invalid: no such host\n"
    );
    // CIFS: the password never reaches the terminal.
    ns.ok(
        &r,
        &[
            "volume",
            "create",
            "-o",
            "type=cifs",
            "-o",
            "device=//127.0.0.1/share",
            "-o",
            "o=username=u,password=s3cret,vers=3.0",
            "cv",
        ],
    );
    let o = ns.run(&r, &["run", "-v", "cv:/data", path_str(&r.rootfs), "true"]);
    assert_eq!(
        o.stderr,
        "Error: error while mounting volume '<ROOT>/volumes/cv/_data': failed to mount local volume: \
         mount //127.0.0.1/share:<ROOT>/volumes/cv/_data, data: username=u,password=********,vers=3.0: no such device\n"
    );
    assert!(r.t.entries("mounts").is_empty());
    assert_eq!(ns.mounts_under(&r.t.root), []);
}
