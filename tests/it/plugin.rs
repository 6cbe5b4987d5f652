//! Docker volume plugins through the `myvol` binary, against the fake plugin of
//! `plugin_server.rs` listening in the test env's `MYVOL_PLUGIN_PATH`: create (Get first, then
//! Create with Docker's Opts), inspect (the plugin's Mountpoint, CreatedAt, Status and Scope),
//! ls, rm (Remove; its error keeps the volume unless -f), run (Mount/Unmount with one ID per
//! user, also when myvol is SIGKILLed), volume mount/unmount, and the plugin's errors.

use serde_json::{Value, json};

use crate::env::{Spawned, TestEnv, mask_ids, mask_times, path_str, rig, wait_for_path};
use crate::plugin_server::{FakePlugin, Fault};

fn plugin_dir(t: &TestEnv) -> std::path::PathBuf {
    let d = t.dir.path().join("plugins");
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn start(t: &TestEnv) -> FakePlugin {
    FakePlugin::start(&plugin_dir(t), "fake")
}

/// The requests the plugin saw, as `Method {json}` lines (Activate's empty body as `-`).
fn calls(p: &FakePlugin) -> Vec<String> {
    p.requests()
        .iter()
        .map(|r| match &r.json {
            Some(j) => format!("{} {}", r.method, j),
            None => format!("{} -", r.method),
        })
        .collect()
}

#[test]
fn create_asks_get_then_create_with_dockers_opts_and_records_the_scope() {
    let t = TestEnv::new();
    let p = start(&t);
    p.set_scope(Some("global"));
    t.expect(
        &["volume", "create", "-d", "fake", "-o", "remote=:local:/x", "-o", "flag", "--label", "a=b", "pv"],
        0,
        "pv\n",
        "",
    );
    assert_eq!(
        calls(&p),
        [
            "Plugin.Activate -",
            r#"VolumeDriver.Get {"Name":"pv"}"#,
            r#"VolumeDriver.Create {"Name":"pv","Opts":{"flag":"","remote":":local:/x"}}"#,
            "VolumeDriver.Capabilities {}",
        ]
    );
    // Every request carries Docker's headers.
    for r in p.requests() {
        assert_eq!(r.header("accept"), Some("application/vnd.docker.plugins.v1.2+json"));
        assert_eq!(r.header("host"), Some("plugin.moby.localhost"));
    }
    assert_eq!(p.volumes(), ["pv"]);

    // No -o at all: Opts is null.
    t.ok(&["volume", "create", "-d", "fake", "bare"]);
    assert_eq!(p.opts("bare"), Some(Value::Null));

    // inspect: the record's driver, labels, options and scope, the plugin's time and status.
    let out = t.ok(&["volume", "inspect", "pv"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        mask_times(&v[0].to_string()),
        json!({
            "CreatedAt": "<TIME>",
            "Driver": "fake",
            "Labels": {"a": "b"},
            "Mountpoint": "",
            "Name": "pv",
            "Options": {"flag": "", "remote": ":local:/x"},
            "Scope": "global",
            "Status": {"Mounts": []}
        })
        .to_string()
    );
    assert_eq!(
        t.ok(&["volume", "inspect", "-f", "{{.Driver}} {{.Scope}} {{json .Status}}", "pv"]),
        "fake global {\"Mounts\":[]}\n"
    );
    // ls: the DRIVER column.
    t.expect(&["volume", "ls"], 0, "DRIVER    VOLUME NAME\nfake      bare\nfake      pv\n", "");
    // The same name again: nothing asked of the plugin, the name printed (Docker).
    p.clear_requests();
    t.expect(&["volume", "create", "-d", "fake", "pv"], 0, "pv\n", "");
    assert_eq!(calls(&p), Vec::<String>::new());
    // Another driver for that name: Docker's conflict.
    t.expect(
        &["volume", "create", "pv"],
        1,
        "",
        "Error: create pv: driver 'fake' already has volume 'pv': volume name must be unique\n",
    );
}

#[test]
fn a_volume_the_plugin_already_has_is_adopted_without_create() {
    let t = TestEnv::new();
    let p = start(&t);
    // Made through another client of the plugin.
    let reg = myvol::driver::plugin::Registry::new(vec![plugin_dir(&t)], vec![]);
    myvol::driver::plugin::VolumePlugin::activate(&reg, "fake").unwrap().create("known", None).unwrap();
    p.clear_requests();
    t.expect(&["volume", "create", "-d", "fake", "known"], 0, "known\n", "");
    assert!(!calls(&p).iter().any(|c| c.starts_with("VolumeDriver.Create")), "{:#?}", calls(&p));
}

#[test]
fn plugin_errors_are_reported_as_docker_does_and_leave_the_store_alone() {
    let t = TestEnv::new();
    // No plugin at all.
    t.expect(
        &["volume", "create", "-d", "nope", "v1"],
        1,
        "",
        "Error: create v1: error looking up volume plugin nope: plugin \"nope\" not found\n",
    );
    let p = start(&t);
    p.fail("VolumeDriver.Create", Fault::Err("remote is required".into()));
    t.expect(&["volume", "create", "-d", "fake", "v1"], 1, "", "Error: create v1: remote is required\n");
    p.fail("VolumeDriver.Create", Fault::Reply(500, "{\"Err\":\"boom\"}".into()));
    t.expect(&["volume", "create", "-d", "fake", "v1"], 1, "", "Error: create v1: VolumeDriver.Create: boom\n");
    assert_eq!(t.ok(&["volume", "ls", "-q"]), "");
    assert!(t.entries("volumes").is_empty());
    // A plugin that is not a volume driver.
    p.clear_fault("VolumeDriver.Create");
    p.set_implements(&["NetworkDriver"]);
    t.expect(
        &["volume", "create", "-d", "fake", "v1"],
        1,
        "",
        "Error: create v1: error looking up volume plugin fake: Plugin does not implement the requested driver\n",
    );
}

#[test]
fn rm_removes_through_the_plugin_and_its_refusal_keeps_the_volume_unless_forced() {
    let t = TestEnv::new();
    let p = start(&t);
    t.ok(&["volume", "create", "-d", "fake", "gone"]);
    t.ok(&["volume", "create", "-d", "fake", "stuck"]);
    t.expect(&["volume", "rm", "gone"], 0, "gone\n", "");
    assert_eq!(p.volumes(), ["stuck"]);
    p.fail("VolumeDriver.Remove", Fault::Err("device busy".into()));
    t.expect(&["volume", "rm", "stuck"], 1, "", "Error: remove stuck: device busy\n");
    assert_eq!(t.ok(&["volume", "ls", "-q"]), "stuck\n");
    // -f drops the record even so (Docker).
    t.expect(&["volume", "rm", "-f", "stuck"], 0, "stuck\n", "");
    assert_eq!(t.ok(&["volume", "ls", "-q"]), "");
    // Plugin volumes are not pruned, renamed, cloned, exported or imported.
    p.clear_fault("VolumeDriver.Remove");
    t.ok(&["volume", "create", "-d", "fake", "kept"]);
    t.expect(&["volume", "prune", "-a", "-f"], 0, "Total reclaimed space: 0B\n", "");
    let refused = "volume of driver 'fake': its content is not kept in the store";
    t.expect(&["volume", "rename", "kept", "other"], 1, "", &format!("Error: rename kept: {refused}\n"));
    t.expect(&["volume", "clone", "kept", "other"], 1, "", &format!("Error: clone kept: {refused}\n"));
    let o = t.run(&["volume", "export", "kept", "-o", "x.tar"]);
    assert_eq!((o.code, o.stderr.as_str()), (1, format!("Error: export kept: {refused}\n").as_str()));
}

#[test]
fn run_mounts_through_the_plugin_with_one_id_and_unmounts_after() {
    let Some(r) = rig() else { return };
    let p = start(&r.t);
    r.t.ok(&["volume", "create", "-d", "fake", "pv"]);
    p.clear_requests();
    let o = r.t.run(&["run", "-v", "pv:/data", path_str(&r.rootfs), "sh", "-c", "echo through > /data/f"]);
    assert_eq!((o.code, o.stderr.as_str()), (0, ""), "{o:#?}");
    let seen = calls(&p);
    let mount: Vec<&String> = seen.iter().filter(|c| c.starts_with("VolumeDriver.Mount")).collect();
    let unmount: Vec<&String> = seen.iter().filter(|c| c.starts_with("VolumeDriver.Unmount")).collect();
    assert_eq!(mount.len(), 1, "{seen:#?}");
    assert_eq!(mask_ids(mount[0]), r#"VolumeDriver.Mount {"Name":"pv","ID":"<ID>"}"#);
    assert_eq!(mount[0].replace("Mount", "Unmount"), *unmount[0], "Unmount with the Mount's ID");
    // The file went where the plugin keeps the volume; nothing is mounted any more.
    assert_eq!(std::fs::read_to_string(plugin_dir(&r.t).join("data/pv/f")).unwrap(), "through\n");
    assert!(p.mounts("pv").is_empty());
    assert!(r.t.entries("mounts").is_empty());
    // A plugin that refuses to mount: the run does not start (Docker's wording, status 125).
    p.fail("VolumeDriver.Mount", Fault::Reply(500, "{\"Err\":\"no credentials\"}".into()));
    let o = r.t.run(&["run", "-v", "pv:/data", path_str(&r.rootfs), "true"]);
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (125, "Error: error while mounting volume 'pv': VolumeDriver.Mount: no credentials\n")
    );
    p.clear_fault("VolumeDriver.Mount");
    // `run --volume-driver fake -v new:/x` creates the volume through the plugin first.
    let o = r.t.run(&["run", "--volume-driver", "fake", "-v", "fresh:/x", path_str(&r.rootfs), "true"]);
    assert_eq!(o.code, 0, "{o:#?}");
    assert_eq!(p.volumes(), ["fresh", "pv"]);
}

/// Killed just after the plugin answered its Mount (before anything is bound): the lease
/// already records the mount, so the next invocation sends the Unmount.
#[cfg(feature = "failpoints")]
#[test]
fn a_myvol_killed_right_after_the_plugins_mount_leaves_the_unmount_to_the_next_invocation() {
    let Some(r) = rig() else { return };
    let p = start(&r.t);
    r.t.ok(&["volume", "create", "-d", "fake", "pk"]);
    let mut c = r.t.cmd();
    c.env("MYVOL_FAILPOINT", "plugin-mountpoint-checked").args(["run", "-v", "pk:/data", path_str(&r.rootfs), "true"]);
    let o = r.t.exec(c, None);
    assert_eq!(o.code, -1, "killed by SIGKILL at the failpoint: {o:#?}");
    let ids: Vec<String> = p.mounts("pk").keys().cloned().collect();
    assert_eq!(ids.len(), 1, "the plugin mounted it");
    r.t.ok(&["volume", "ls", "-q"]);
    assert!(p.mounts("pk").is_empty(), "{:#?}", calls(&p));
    assert!(calls(&p).contains(&format!(r#"VolumeDriver.Unmount {{"Name":"pk","ID":"{}"}}"#, ids[0])));
    assert!(r.t.entries("volumes/pk/leases").is_empty());
    r.t.ok(&["volume", "rm", "pk"]);
}

#[test]
fn a_killed_myvol_leaves_the_unmount_to_the_next_invocation() {
    let Some(r) = rig() else { return };
    let p = start(&r.t);
    r.t.ok(&["volume", "create", "-d", "fake", "pk"]);
    let flag = r.t.dir.path().join("up");
    let mut c = r.t.cmd();
    let bind = format!("{}:/flag", path_str(r.t.dir.path()));
    c.args(["run", "-v", "pk:/data", "-v", &bind, path_str(&r.rootfs), "sh", "-c", "touch /flag/up; sleep 1000"]);
    let mut child = Spawned::new(&mut c);
    wait_for_path(&flag);
    let ids: Vec<String> = p.mounts("pk").keys().cloned().collect();
    assert_eq!(ids.len(), 1);
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGKILL).unwrap();
    child.wait();
    assert_eq!(p.mounts("pk").len(), 1, "nobody unmounted yet");
    // While the plugin refuses the unmount, the dead user's mount keeps the volume in use.
    p.fail("VolumeDriver.Unmount", Fault::Err("busy".into()));
    let o = r.t.run(&["volume", "rm", "-f", "pk"]);
    assert_eq!(o.code, 1, "{o:#?}");
    assert_eq!(
        o.stderr,
        format!(
            "Error: remove pk: volume is in use - [{}]\nUsed by `myvol run` (pid {}), which ended without its driver unmounting the volume; the next myvol command tries again\n",
            leases(&r.t, "pk"),
            child.id()
        )
    );
    assert_eq!(p.mounts("pk").len(), 1);
    p.clear_fault("VolumeDriver.Unmount");
    p.clear_requests();
    r.t.ok(&["volume", "ls", "-q"]);
    assert!(p.mounts("pk").is_empty(), "{:#?}", calls(&p));
    assert!(calls(&p).contains(&format!(r#"VolumeDriver.Unmount {{"Name":"pk","ID":"{}"}}"#, ids[0])));
    assert!(r.t.entries("mounts").is_empty());
    assert!(r.t.entries("volumes/pk/leases").is_empty());
    r.t.ok(&["volume", "rm", "pk"]);
}

#[test]
fn volume_mount_and_unmount_go_through_the_plugin() {
    let t = TestEnv::new();
    let p = start(&t);
    t.ok(&["volume", "create", "-d", "fake", "pm"]);
    let path = t.ok(&["volume", "mount", "pm"]);
    assert_eq!(path, format!("{}\n", plugin_dir(&t).join("mnt/pm").display()));
    assert_eq!(p.mounts("pm").len(), 1);
    // In use meanwhile; ls shows the plugin's mountpoint.
    let o = t.run(&["volume", "rm", "pm"]);
    assert!(o.stderr.starts_with("Error: remove pm: volume is in use - [pin-"), "{o:#?}");
    assert_eq!(t.ok(&["volume", "ls", "--format", "{{.Mountpoint}}"]), path);
    assert_eq!(t.ok(&["volume", "unmount", "pm"]), "pm\n");
    assert!(p.mounts("pm").is_empty());
    t.ok(&["volume", "rm", "pm"]);
}

/// The lease file names of a volume.
fn leases(t: &TestEnv, name: &str) -> String {
    t.entries(&format!("volumes/{name}/leases")).join(", ")
}
