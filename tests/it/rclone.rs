//! End to end against the real rclone volume plugin (`rclone serve docker`, FUSE), started by
//! the test inside a mount namespace it owns: a volume on an rclone `:local:` remote is
//! created, written through by a run, and removed, all through the plugin protocol.

use std::path::Path;
use std::process::Stdio;

use crate::env::{HostNs, PATIENCE, path_str, require_tools, rig, skip, wait_until};

#[test]
fn rclone_plugin_volume_is_written_through_by_a_run() {
    let Some(r) = rig() else { return };
    if !require_tools(&["rclone", "fusermount3"]) {
        return;
    }
    if !Path::new("/dev/fuse").exists() {
        skip!("needs /dev/fuse");
    }
    let Some(mut ns) = HostNs::new() else { return };
    let dir = r.t.dir.path();
    let plugins = dir.join("plugins");
    let remote = dir.join("remote");
    for d in [&plugins, &remote] {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::write(dir.join("rclone.conf"), "").unwrap();
    let socket = plugins.join("rclone.sock");
    let log = std::fs::File::create(dir.join("rclone.log")).unwrap();
    let rclone = ns
        .enter("rclone")
        .args(["serve", "docker", "--no-spec", "--forget-state"])
        .arg("--socket-addr")
        .arg(&socket)
        .arg("--base-dir")
        .arg(dir.join("rclone-mnt"))
        .arg("--cache-dir")
        .arg(dir.join("rclone-cache"))
        .arg("--config")
        .arg(dir.join("rclone.conf"))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("rclone");
    ns.children.push(rclone);
    wait_until("rclone makes its socket", PATIENCE, || socket.exists());
    let spec = format!("remote=:local:{}", path_str(&remote));
    ns.ok(&r, &["volume", "create", "-d", "rclone", "-o", &spec, "rv"]);
    let o = ns.run(&r, &["volume", "inspect", "-f", "{{.Driver}} {{.Scope}} {{json .Status}}", "rv"]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "rclone local {\"Mounts\":[]}\n"), "{o:#?}");
    let o = ns.run(
        &r,
        &[
            "run",
            "-v",
            "rv:/data",
            path_str(&r.rootfs),
            "sh",
            "-c",
            "echo via-rclone > /data/file && grep ' /data ' /proc/self/mountinfo",
        ],
    );
    assert_eq!(
        o.code,
        0,
        "{o:#?}\nrclone log: {}",
        std::fs::read_to_string(dir.join("rclone.log")).unwrap_or_default()
    );
    assert!(o.stdout.contains("fuse.rclone"), "the run sees rclone's FUSE mount: {o:#?}");
    assert_eq!(std::fs::read_to_string(remote.join("file")).unwrap(), "via-rclone\n");
    // rclone unmounted it after the run: nothing of it is left in the namespace.
    assert_eq!(ns.mounts_under(&dir.join("rclone-mnt")), []);
    ns.ok(&r, &["volume", "rm", "rv"]);
    assert_eq!(ns.ok(&r, &["volume", "ls", "-q"]), "");
    // The volume is gone from the plugin too (and the remote's data stays).
    let reg = myvol::driver::plugin::Registry::new(vec![plugins.clone()], vec![]);
    let p = myvol::driver::plugin::VolumePlugin::activate(&reg, "rclone").unwrap();
    assert!(p.list().unwrap().iter().all(|v| v.name != "rv"));
    assert!(remote.join("file").exists());
}
