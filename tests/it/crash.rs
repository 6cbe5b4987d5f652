//! Crash safety: a process killed (SIGKILL, through a test-only failpoint) in the middle of
//! create, rm, clone or import leaves a store that lists cleanly, and the next mutation cleans
//! up after it.

use std::os::unix::process::ExitStatusExt;

use crate::env::TestEnv;

/// Run myvol with a failpoint and check that it really died there.
fn crash(t: &TestEnv, point: &str, args: &[&str]) {
    let mut c = t.cmd();
    c.env("MYVOL_FAILPOINT", point).args(args);
    let o = c.output().unwrap();
    assert_eq!(o.status.signal(), Some(9), "{point}: myvol did not die at the failpoint: {o:?}");
}

/// The work in progress a crash left in `tmp/` (builds, stagings), without the lease files
/// of the holders it killed.
fn work(t: &TestEnv) -> Vec<String> {
    t.entries("tmp").into_iter().filter(|e| !e.starts_with("lease-")).collect()
}

fn assert_clean_listing(t: &TestEnv, expected: &str) {
    t.expect(&["volume", "ls", "-q"], 0, expected, "");
    let o = t.run(&["volume", "ls"]);
    assert_eq!((o.code, o.stderr.as_str()), (0, ""));
}

#[test]
fn create_killed_before_publishing_leaves_nothing_visible() {
    for point in ["create-after-mkdir", "create-before-publish"] {
        let t = TestEnv::new();
        t.ok(&["volume", "create", "other"]);
        crash(&t, point, &["volume", "create", "victim"]);
        assert_clean_listing(&t, "other\n");
        t.expect(&["volume", "inspect", "victim"], 1, "[]\n", "Error: get victim: no such volume\n");
        assert_eq!(t.entries("tmp").len(), 1, "{point}: the crash should have left its build directory");
        // The next mutation removes the leftover; the name is free again.
        t.expect(&["volume", "create", "victim"], 0, "victim\n", "");
        assert!(t.entries("tmp").is_empty(), "{point}: leftover not cleaned: {:?}", t.entries("tmp"));
        assert_clean_listing(&t, "other\nvictim\n");
    }
}

#[test]
fn create_killed_after_publishing_has_a_complete_volume() {
    let t = TestEnv::new();
    crash(&t, "create-after-publish", &["volume", "create", "done"]);
    assert_clean_listing(&t, "done\n");
    let o = t.run(&["volume", "inspect", "-f", "{{.Name}} {{.Driver}}", "done"]);
    assert_eq!(o.ok(), "done local\n");
}

#[test]
fn rm_killed_midway_never_shows_a_half_deleted_volume() {
    for point in ["remove-after-rename", "remove-mid-delete"] {
        let t = TestEnv::new();
        t.ok(&["volume", "create", "victim"]);
        t.ok(&["volume", "create", "other"]);
        for i in 0..20 {
            std::fs::write(t.data("victim").join(format!("f{i}")), "x").unwrap();
        }
        crash(&t, point, &["volume", "rm", "victim"]);
        // Renamed aside before anything was deleted: gone for everyone, at once.
        assert_clean_listing(&t, "other\n");
        assert_eq!(t.entries("trash").len(), 1, "{point}: the crash should have left its trash entry");
        t.ok(&["volume", "create", "another"]);
        assert!(t.entries("trash").is_empty(), "{point}: trash not cleaned: {:?}", t.entries("trash"));
        assert_clean_listing(&t, "another\nother\n");
    }
}

#[test]
fn prune_killed_midway_leaves_a_clean_store() {
    let t = TestEnv::new();
    let a = t.ok(&["volume", "create"]).trim().to_owned();
    t.ok(&["volume", "create", "named"]);
    crash(&t, "remove-after-rename", &["volume", "prune", "-f"]);
    assert_clean_listing(&t, "named\n");
    assert_eq!(t.entries("trash").len(), 1);
    t.expect(&["volume", "prune", "-f"], 0, "Total reclaimed space: 0B\n", "");
    assert!(t.entries("trash").is_empty());
    let _ = a;
}

#[test]
fn rename_killed_at_any_point_leaves_a_consistent_store() {
    // Before the commit point the volume keeps its old name, after it the new one; either
    // way inspect shows metadata that agrees with the directory, and the next mutation
    // removes every trace of the protocol.
    for (point, committed) in [
        ("rename-after-journal", false),
        ("rename-before-commit", false),
        ("rename-after-commit", true),
        ("rename-after-meta", true),
    ] {
        let t = TestEnv::new();
        let anon = t.ok(&["volume", "create", "--label", "k=v"]).trim().to_owned();
        crash(&t, point, &["volume", "rename", &anon, "named"]);
        let (name, gone) = if committed { ("named", anon.as_str()) } else { (anon.as_str(), "named") };
        assert_clean_listing(&t, &format!("{name}\n"));
        let v: serde_json::Value = serde_json::from_str(t.run(&["volume", "inspect", name]).ok()).unwrap();
        assert_eq!(v[0]["Name"], name, "{point}");
        let labels = &v[0]["Labels"];
        assert_eq!(labels.get("com.docker.volume.anonymous").is_some(), !committed, "{point}: {labels}");
        assert_eq!(labels["k"], "v", "{point}");
        t.expect(&["volume", "inspect", gone], 1, "[]\n", &format!("Error: get {gone}: no such volume\n"));
        // The next mutation finishes or undoes it.
        t.ok(&["volume", "create", "other"]);
        assert!(!t.root.join("rename.json").exists(), "{point}: journal left");
        // Undone: the metadata is still the creation-time xattr; finished: a file.
        let files: &[&str] = if committed { &["_data", "volume.json"] } else { &["_data"] };
        assert_eq!(t.entries(&format!("volumes/{name}")), files, "{point}");
        let v: serde_json::Value = serde_json::from_str(t.run(&["volume", "inspect", name]).ok()).unwrap();
        assert_eq!(v[0]["Labels"].get("com.docker.volume.anonymous").is_some(), !committed, "{point}");
        // And the volume can be renamed again.
        t.expect(&["volume", "rename", name, "again"], 0, "again\n", "");
    }
}

#[test]
fn clone_killed_midway_leaves_no_destination() {
    for point in ["clone-mid-copy", "clone-after-copy", "create-before-publish"] {
        let t = TestEnv::new();
        t.ok(&["volume", "create", "src"]);
        for i in 0..10 {
            std::fs::write(t.data("src").join(format!("f{i}")), "data").unwrap();
        }
        crash(&t, point, &["volume", "clone", "src", "dst"]);
        assert_clean_listing(&t, "src\n");
        t.expect(&["volume", "inspect", "dst"], 1, "[]\n", "Error: get dst: no such volume\n");
        assert_eq!(work(&t).len(), 1, "{point}: the build directory should be left");
        // The clone's lease died with it: the source is free, and the next mutation cleans up.
        t.expect(&["volume", "clone", "src", "dst"], 0, "dst\n", "");
        assert!(t.entries("tmp").is_empty(), "{point}: {:?}", t.entries("tmp"));
        t.expect(&["volume", "rm", "src"], 0, "src\n", "");
        assert_clean_listing(&t, "dst\n");
    }
}

#[test]
fn import_killed_before_or_after_the_swap_leaves_old_or_new_content() {
    for (point, new) in [("import-before-swap", false), ("import-after-swap", true)] {
        let t = TestEnv::new();
        t.ok(&["volume", "create", "src"]);
        std::fs::write(t.data("src").join("new"), "new").unwrap();
        let archive = t.dir.path().join("a.tar");
        t.ok(&["volume", "export", "-o", archive.to_str().unwrap(), "src"]);
        t.ok(&["volume", "create", "victim"]);
        std::fs::write(t.data("victim").join("old"), "old").unwrap();
        crash(&t, point, &["volume", "import", "victim", archive.to_str().unwrap()]);
        assert_clean_listing(&t, "src\nvictim\n");
        assert_eq!(t.data("victim").join("new").exists(), new, "{point}");
        assert_eq!(t.data("victim").join("old").exists(), !new, "{point}");
        assert_eq!(work(&t).len(), 1, "{point}: the staging directory should be left");
        // The import's lease died with it; the next mutation removes the leftovers.
        t.expect(&["volume", "rm", "src"], 0, "src\n", "");
        assert!(t.entries("tmp").is_empty(), "{point}: {:?}", t.entries("tmp"));
        t.expect(&["volume", "import", "victim", archive.to_str().unwrap()], 0, "", "");
        assert!(t.data("victim").join("new").exists());
    }
}

#[test]
fn import_create_killed_at_any_failpoint_leaves_no_volume_or_a_complete_one() {
    for (point, complete) in [
        ("create-after-mkdir", false),
        ("import-before-publish", false),
        ("create-before-publish", false),
        ("create-after-publish", true),
    ] {
        let t = TestEnv::new();
        t.ok(&["volume", "create", "src"]);
        for i in 0..10 {
            std::fs::write(t.data("src").join(format!("f{i}")), format!("data {i}")).unwrap();
        }
        let archive = t.dir.path().join("a.tar");
        t.ok(&["volume", "export", "-o", archive.to_str().unwrap(), "src"]);
        crash(&t, point, &["volume", "import", "--create", "fresh", archive.to_str().unwrap()]);
        if complete {
            assert_clean_listing(&t, "fresh\nsrc\n");
            assert_eq!(t.entries("volumes/fresh/_data"), t.entries("volumes/src/_data"), "{point}");
        } else {
            assert_clean_listing(&t, "src\n");
            t.expect(&["volume", "inspect", "fresh"], 1, "[]\n", "Error: get fresh: no such volume\n");
        }
        t.ok(&["volume", "create", "next"]);
        t.assert_store_at_rest();
    }
}

/// Every failpoint of every mutation, and export's: after a kill there and one more mutation
/// (of another volume), the store holds nothing but what its format describes at rest, and
/// an export's directory nothing but the archives.
#[test]
fn every_leftover_of_a_kill_is_gone_after_the_next_mutation() {
    let setup = |t: &TestEnv| {
        t.ok(&["volume", "create", "vol"]);
        std::fs::write(t.data("vol").join("f"), "x").unwrap();
        let archive = t.dir.path().join("a.tar");
        t.ok(&["volume", "export", "-o", archive.to_str().unwrap(), "vol"]);
        std::fs::create_dir(t.dir.path().join("out")).unwrap();
        archive
    };
    let cases: &[(&str, &[&str])] = &[
        ("create-after-mkdir", &["volume", "create", "new"]),
        ("create-before-publish", &["volume", "create", "new"]),
        ("create-after-publish", &["volume", "create", "new"]),
        ("remove-after-rename", &["volume", "rm", "vol"]),
        ("remove-mid-delete", &["volume", "rm", "vol"]),
        ("rename-after-journal", &["volume", "rename", "vol", "new"]),
        ("atomic-write-before-rename", &["volume", "rename", "vol", "new"]),
        ("rename-before-commit", &["volume", "rename", "vol", "new"]),
        ("rename-after-commit", &["volume", "rename", "vol", "new"]),
        ("rename-after-meta", &["volume", "rename", "vol", "new"]),
        ("clone-mid-copy", &["volume", "clone", "vol", "new"]),
        ("clone-after-copy", &["volume", "clone", "vol", "new"]),
        ("import-before-swap", &["volume", "import", "vol", "ARCHIVE"]),
        ("import-after-swap", &["volume", "import", "vol", "ARCHIVE"]),
        ("import-before-publish", &["volume", "import", "--create", "new", "ARCHIVE"]),
        ("new-file-before-link", &["volume", "export", "-o", "OUT", "vol"]),
    ];
    for (point, args) in cases {
        let t = TestEnv::new();
        let archive = setup(&t);
        let out = t.dir.path().join("out/backup.tar");
        let args: Vec<&str> = args
            .iter()
            .map(|a| match *a {
                "ARCHIVE" => archive.to_str().unwrap(),
                "OUT" => out.to_str().unwrap(),
                a => a,
            })
            .collect();
        crash(&t, point, &args);
        t.ok(&["volume", "create", "unrelated"]);
        t.assert_store_at_rest();
        let left: Vec<_> =
            std::fs::read_dir(t.dir.path().join("out")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert!(left.is_empty(), "{point}: left beside the archive: {left:?}");
    }
}
