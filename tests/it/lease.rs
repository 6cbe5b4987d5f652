//! The in-use lease: `rm` and `prune` refuse a volume that a live process holds, and a holder
//! that dies (even by SIGKILL) releases it.

use std::process::Command;
use std::time::Duration;

use myvol::store::Store;

use crate::env::{Spawned, TestEnv, mask_ids, require_tools, wait_until};

#[test]
fn rm_and_prune_refuse_a_volume_held_by_this_process() {
    let t = TestEnv::new();
    t.ok(&["volume", "create", "busy"]);
    let anon = t.ok(&["volume", "create"]).trim().to_owned();
    let store = Store::new(&t.root);
    let lease = store.lease(&"busy".parse().unwrap(), "test").unwrap();
    let anon_lease = store.lease(&anon.parse().unwrap(), "test").unwrap();
    let o = t.run(&["volume", "rm", "busy"]);
    assert_eq!(o.code, 1);
    assert_eq!(without_users(&o.stderr), format!("Error: remove busy: volume is in use - [{}]\n", lease.id()));
    // -f does not override "in use", as in Docker.
    let o = t.run(&["volume", "rm", "-f", "busy"]);
    assert_eq!(
        (o.code, without_users(&o.stderr)),
        (1, format!("Error: remove busy: volume is in use - [{}]\n", lease.id()))
    );
    t.expect(&["volume", "prune", "-a", "-f"], 0, "Total reclaimed space: 0B\n", "");
    let sorted = |s: String| {
        let mut v: Vec<String> = s.lines().map(str::to_owned).collect();
        v.sort();
        v
    };
    let both = sorted(format!("{anon}\nbusy\n"));
    assert_eq!(sorted(t.ok(&["volume", "ls", "-q", "-f", "dangling=false"])), both);
    t.expect(&["volume", "ls", "-q", "-f", "dangling=true"], 0, "", "");
    drop(lease);
    drop(anon_lease);
    assert_eq!(sorted(t.ok(&["volume", "ls", "-q", "-f", "dangling=true"])), both);
    t.expect(&["volume", "rm", "busy"], 0, "busy\n", "");
    t.expect(&["volume", "prune", "-f"], 0, &format!("Deleted Volumes:\n{anon}\n\nTotal reclaimed space: 0B\n"), "");
}

#[test]
fn two_leases_are_both_named() {
    let t = TestEnv::new();
    t.ok(&["volume", "create", "busy"]);
    let store = Store::new(&t.root);
    let (a, b) =
        (store.lease(&"busy".parse().unwrap(), "x").unwrap(), store.lease(&"busy".parse().unwrap(), "y").unwrap());
    let mut ids = [a.id().to_owned(), b.id().to_owned()];
    ids.sort();
    let o = t.run(&["volume", "rm", "busy"]);
    assert_eq!(
        (o.code, without_users(&o.stderr)),
        (1, format!("Error: remove busy: volume is in use - [{}, {}]\n", ids[0], ids[1]))
    );
    assert_eq!(o.stderr.matches("Used by `").count(), 2, "{}", o.stderr);
    assert!(store.lease(&"missing".parse().unwrap(), "x").is_err());
}

/// The "in use" hint names the users oldest first, as `.Users` lists them, not in lease-id
/// order: a `volume mount` pin (`pin-…`, last by id) taken before a lease comes first.
#[test]
fn in_use_lines_name_the_oldest_user_first() {
    let t = TestEnv::new();
    t.ok(&["volume", "create", "busy"]);
    let store = Store::new(&t.root);
    let pin = format!("{}{}", myvol::store::PIN_PREFIX, store.pin(&"busy".parse().unwrap(), "mount").unwrap());
    let lease = store.lease(&"busy".parse().unwrap(), "run").unwrap();
    assert!(lease.id() < pin.as_str(), "the lease comes first by id");
    let users = t.ok(&["volume", "inspect", "-f", "{{range .Users}}{{.ID}} {{end}}", "busy"]);
    assert_eq!(users, format!("{pin} {} \n", lease.id()));
    let o = t.run(&["volume", "rm", "busy"]);
    let lines: Vec<&str> = o.stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{}", o.stderr);
    assert_eq!(lines[0], format!("Error: remove busy: volume is in use - [{}, {pin}]", lease.id()));
    assert!(lines[1].starts_with("Used by `myvol volume mount` since "), "{}", o.stderr);
    assert!(
        lines[2].starts_with("Used by `") && lines[2].contains(&format!("(pid {})", std::process::id())),
        "{}",
        o.stderr
    );
}

/// A lease held by another process (here flock(1), holding the lock the way a `myvol run`
/// does) is respected, and released when that process is killed with SIGKILL.
#[test]
fn a_killed_holder_releases_its_lease() {
    if !require_tools(&["flock"]) {
        return;
    }
    let t = TestEnv::new();
    t.ok(&["volume", "create", "held"]);
    // Publish a lease file the way the store does: create, lock, then it is visible.
    let leases = t.root.join("volumes/held/leases");
    std::fs::create_dir_all(&leases).unwrap();
    let id = "a".repeat(64);
    let file = leases.join(&id);
    std::fs::write(&file, "{}").unwrap();
    // -o: the lock is held by flock itself, not by the command it runs; its own process group
    // lets the test SIGKILL both at once.
    let mut holder = Spawned::group(Command::new("flock").args(["-x", "-o"]).arg(&file).args(["sleep", "600"]));
    // Wait until the holder has the lock: then a non-blocking shared lock fails.
    let locked = || !Command::new("flock").args(["-s", "-n"]).arg(&file).arg("true").status().unwrap().success();
    wait_until("the flock holder takes the lock", Duration::from_secs(10), locked);
    let o = t.run(&["volume", "rm", "held"]);
    assert_eq!((o.code, mask_ids(&o.stderr).as_str()), (1, "Error: remove held: volume is in use - [<ID>]\n"));
    let pgid = nix::unistd::Pid::from_raw(holder.id() as i32);
    nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL).unwrap();
    holder.wait();
    assert!(!locked(), "the lock outlived its holder");
    t.expect(&["volume", "rm", "held"], 0, "held\n", "");
}

/// stderr without the lines that say who uses a volume (their wording is tested in
/// tests/it/volume.rs): each one names this test process.
fn without_users(stderr: &str) -> String {
    let pid = format!("(pid {})", std::process::id());
    let mut out = String::new();
    for line in stderr.lines() {
        if line.starts_with("Used by `") {
            assert!(line.contains(&pid), "{line}");
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}
