//! The image store under SIGKILL: a pull killed at any moment (at failpoints, and at random
//! times while blobs stream) leaves a store that lists cleanly, and the next pull fetches only
//! what the killed one had not completed (counted at a proxy in front of the registry).

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::env::TestEnv;
use crate::registry::{Comp, ImageSpec, Member, Proxy, Registry, layer, myvol, push_image};

fn spec(n: usize, size: usize) -> ImageSpec {
    let mut layers = Vec::new();
    for i in 0..n {
        // Incompressible content, so that every layer takes a while to stream.
        let mut data = vec![0u8; size];
        let mut x = 0x9e37_79b9_7f4a_7c15u64 ^ i as u64;
        for b in data.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
        let name = format!("layer{i}.bin");
        let comp = [Comp::Gzip, Comp::Zstd, Comp::Plain][i % 3];
        layers.push((layer(&[Member::File(&name, &data)]), comp));
    }
    ImageSpec::new(layers, json!({"Cmd": ["sh"]}))
}

/// The blobs in the store now (hex names).
fn stored(t: &TestEnv) -> Vec<String> {
    t.entries("images/blobs/sha256")
}

fn assert_lists_cleanly(t: &TestEnv) -> String {
    let o = myvol(t, &["images"], None);
    assert_eq!((o.code, o.stderr.as_str()), (0, ""), "{o:#?}");
    let o = myvol(t, &["images", "-q"], None);
    assert_eq!(o.code, 0);
    o.stdout
}

#[test]
fn a_pull_killed_after_a_blob_resumes_without_fetching_it_again() {
    let Some(reg) = Registry::start() else { return };
    let t = TestEnv::new();
    let pushed = push_image(&reg.addr, "resume", Some("1"), &spec(4, 200_000));
    let proxy = Proxy::start(&reg.addr);
    let name = format!("{}/resume:1", proxy.addr);
    let mut c = t.cmd();
    c.env("MYVOL_FAILPOINT", "image-after-blob")
        .env("DOCKER_CONFIG", t.dir.path().join("dc"))
        .env("MYVOL_DAEMON_CONFIG", t.dir.path().join("daemon.json"))
        .args(["pull", &name]);
    let o = c.output().unwrap();
    assert_eq!(o.status.signal(), Some(9), "did not die at the failpoint: {o:?}");
    // Killed after publishing a blob, before its layer: nothing listed, the job left behind.
    assert_eq!(assert_lists_cleanly(&t), "");
    // At least the blob whose publication hit the failpoint (a parallel download may have
    // finished too); no layer, since every layer's publication comes after that point.
    let done = stored(&t);
    assert!(!done.is_empty() && done.len() < 4, "{done:?}");
    assert!(t.entries("images/layers").is_empty());
    assert_eq!(t.entries("images/tmp").len(), 1);
    let before = proxy.counts();
    let o = myvol(&t, &["pull", &name], None);
    assert_eq!(o.code, 0, "{o:#?}");
    for d in &pushed.blobs {
        let path = format!("/v2/resume/blobs/{d}");
        let n = proxy.counts().get(&path).copied().unwrap_or(0) - before.get(&path).copied().unwrap_or(0);
        let want = if done.contains(&d.hex().to_owned()) { 0 } else { 1 };
        assert_eq!(n, want, "GETs of {d} by the second pull");
    }
    assert_eq!(t.entries("images/layers").len(), 4);
    assert!(t.entries("images/tmp").is_empty(), "the next mutation removes the dead job");
}

#[test]
fn a_pull_killed_at_random_moments_leaves_a_clean_store_and_resumes() {
    let Some(reg) = Registry::start() else { return };
    let t = TestEnv::new();
    let pushed = push_image(&reg.addr, "random", Some("1"), &spec(6, 150_000));
    let proxy = Proxy::start(&reg.addr);
    proxy.delay_blobs(Duration::from_millis(120));
    let name = format!("{}/random:1", proxy.addr);
    let mut seed = Instant::now().elapsed().as_nanos() as u64 ^ 0x2545_f491_4f6c_dd1d | 1;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut complete = false;
    for round in 0..12 {
        let have: Vec<String> = stored(&t);
        let counts_before: BTreeMap<String, u32> = proxy.counts();
        let mut c = t.cmd();
        c.env("DOCKER_CONFIG", t.dir.path().join("dc"))
            .env("MYVOL_DAEMON_CONFIG", t.dir.path().join("daemon.json"))
            .args(["pull", "-q", &name])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = c.spawn().unwrap();
        let wait = Duration::from_millis(40 + rand() % 600);
        let deadline = Instant::now() + wait;
        let mut exited = None;
        while Instant::now() < deadline {
            if let Some(s) = child.try_wait().unwrap() {
                exited = Some(s);
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        if exited.is_none() {
            let _ = child.kill();
        }
        // Reaped in every case (a no-op when try_wait already did).
        let _ = child.wait();
        // Whatever the moment: the store lists cleanly, and shows the image whole or not at all.
        let ids = assert_lists_cleanly(&t);
        assert!(ids.is_empty() || ids.trim() == pushed.config.short(), "round {round}: {ids:?}");
        // What the store had before this round was not fetched again.
        for hex in &have {
            let path = format!("/v2/random/blobs/sha256:{hex}");
            assert_eq!(
                proxy.counts().get(&path).copied().unwrap_or(0),
                counts_before.get(&path).copied().unwrap_or(0),
                "round {round}: {hex} was in the store and was fetched again"
            );
        }
        if exited.is_some_and(|s| s.success()) {
            complete = true;
            break;
        }
    }
    if !complete {
        let o = myvol(&t, &["pull", "-q", &name], None);
        assert_eq!(o.code, 0, "{o:#?}");
    }
    assert_eq!(assert_lists_cleanly(&t).trim(), pushed.config.short());
    // Every blob reached the store, and none was fetched more often than the pulls that
    // lacked it.
    for d in &pushed.blobs {
        assert!(stored(&t).contains(&d.hex().to_owned()));
    }
    let o = myvol(&t, &["image", "inspect", "-f", "{{len .RootFS.Layers}}", &name], None);
    assert_eq!(o.stdout, "6\n");
}

#[test]
fn a_pull_killed_after_the_record_leaves_a_dangling_image_that_the_next_pull_tags() {
    let Some(reg) = Registry::start() else { return };
    let t = TestEnv::new();
    let pushed = push_image(&reg.addr, "rec", Some("1"), &spec(1, 1000));
    let name = format!("{}/rec:1", reg.addr);
    let mut c = t.cmd();
    c.env("MYVOL_FAILPOINT", "image-after-record")
        .env("DOCKER_CONFIG", t.dir.path().join("dc"))
        .env("MYVOL_DAEMON_CONFIG", t.dir.path().join("daemon.json"))
        .args(["pull", &name]);
    assert_eq!(c.output().unwrap().status.signal(), Some(9));
    let o = myvol(&t, &["images", "--format", "{{.Repository}} {{.Tag}} {{.ID}}"], None);
    assert_eq!((o.code, o.stdout), (0, format!("<none> <none> {}\n", pushed.config.short())));
    let o = myvol(&t, &["pull", &name], None);
    assert_eq!(o.code, 0, "{o:#?}");
    assert!(o.stdout.contains("Status: Downloaded newer image for"), "the tag is new: {o:#?}");
    let o = myvol(&t, &["images", "--format", "{{.Tag}}"], None);
    assert_eq!(o.stdout, "1\n");
}

#[test]
fn an_rmi_killed_while_deleting_layers_is_finished_by_the_next_mutation() {
    let Some(reg) = Registry::start() else { return };
    let t = TestEnv::new();
    push_image(&reg.addr, "gc", Some("1"), &spec(2, 1000));
    let name = format!("{}/gc:1", reg.addr);
    assert_eq!(myvol(&t, &["pull", "-q", &name], None).code, 0);
    let mut c = t.cmd();
    c.env("MYVOL_FAILPOINT", "image-gc-after-rename").args(["rmi", &name]);
    assert_eq!(c.output().unwrap().status.signal(), Some(9));
    assert_eq!(assert_lists_cleanly(&t), "");
    assert_eq!(t.entries("images/trash").len(), 1, "the layer renamed aside is left");
    assert_eq!(t.entries("images/layers").len(), 1, "killed after the first of two layers");
    // The next mutation empties the trash, and prune removes what the killed rmi left.
    let o = myvol(&t, &["image", "prune", "-f"], None);
    assert_eq!(o.code, 0, "{o:#?}");
    assert!(t.entries("images/trash").is_empty());
    assert!(t.entries("images/layers").is_empty());
    assert!(stored(&t).is_empty());
}

#[test]
fn a_stored_blob_damaged_on_disk_is_fetched_again() {
    let Some(reg) = Registry::start() else { return };
    let t = TestEnv::new();
    let pushed = push_image(&reg.addr, "damaged", Some("1"), &spec(1, 50_000));
    let proxy = Proxy::start(&reg.addr);
    let name = format!("{}/damaged:1", proxy.addr);
    let mut c = t.cmd();
    c.env("MYVOL_FAILPOINT", "image-after-blob")
        .env("DOCKER_CONFIG", t.dir.path().join("dc"))
        .env("MYVOL_DAEMON_CONFIG", t.dir.path().join("daemon.json"))
        .args(["pull", &name]);
    assert_eq!(c.output().unwrap().status.signal(), Some(9));
    let blob = t.root.join("images/blobs/sha256").join(pushed.blobs[0].hex());
    let mut bytes = std::fs::read(&blob).unwrap();
    bytes[10] ^= 0xff;
    std::fs::write(&blob, bytes).unwrap();
    let o = myvol(&t, &["pull", "-q", &name], None);
    assert_eq!(o.code, 0, "{o:#?}");
    assert_eq!(proxy.gets(&format!("/blobs/{}", pushed.blobs[0])), 2, "fetched again");
    assert_eq!(std::fs::read(&blob).unwrap().len() as u64, std::fs::metadata(&blob).unwrap().len());
    assert_eq!(t.entries("images/layers").len(), 1);
}
