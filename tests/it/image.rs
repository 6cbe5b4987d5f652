//! Images end to end: pulls from a real registry (docker-registry) of images built here, the
//! store's overlay layout (checked by mounting the layers with overlayfs), platforms, token
//! auth and login, digest and diff-ID checks, hostile layers, shared layers, the verbs'
//! outputs and errors, save/load.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;
use std::process::Command;

use myvol::image::ImageStore;
use myvol::image::digest::Digest;
use serde_json::{Value, json};

use crate::env::{Out, TestEnv};
use crate::registry::{Comp, ImageSpec, Member, Proxy, Registry, busybox_layer, layer, myvol, push_image, push_index};

/// A store, a registry, and the busybox layer.
struct Rig {
    t: TestEnv,
    reg: Registry,
    bb: Vec<u8>,
}

#[track_caller]
fn rig() -> Option<Rig> {
    let Some(bb) = busybox_layer() else {
        crate::env::skipped("needs /bin/busybox (Debian package busybox-static)");
        return None;
    };
    let reg = Registry::start()?;
    Some(Rig { t: TestEnv::new(), reg, bb })
}

impl Rig {
    fn run(&self, args: &[&str]) -> Out {
        myvol(&self.t, args, None)
    }

    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert_eq!(o.code, 0, "myvol {}: {o:#?}", args.join(" "));
        o.stdout
    }

    fn name(&self, repo: &str) -> String {
        format!("{}/{repo}", self.reg.addr)
    }

    /// Replace the registry's address by `REG` in output.
    fn mask(&self, s: &str) -> String {
        s.replace(&self.reg.addr, "REG")
    }

    fn images(&self) -> ImageStore {
        ImageStore::new(&self.t.root)
    }

    fn layer_dirs(&self) -> Vec<String> {
        self.t.entries("images/layers")
    }

    fn blobs(&self) -> Vec<String> {
        self.t.entries("images/blobs/sha256")
    }
}

/// The test image: three layers (gzip, zstd, plain), a whiteout, an opaque directory, a
/// VOLUME with content, Entrypoint/Cmd/User/WorkingDir/Env/Labels.
fn app_spec(bb: &[u8]) -> ImageSpec {
    let mut base = bb.to_vec();
    // The busybox tar ends with its end-of-archive blocks: add to it through a second tar.
    let extra = layer(&[
        Member::Dir("data/"),
        Member::File("data/seed.txt", b"seed from image\n"),
        Member::File("etc/gone", b"deleted by the next layer\n"),
        Member::Dir("opq/"),
        Member::File("opq/old", b"hidden by the opaque dir\n"),
        Member::Dir("keep/"),
        Member::File("keep/a", b"a\n"),
    ]);
    base = concat_tars(&base, &extra);
    let l2 = layer(&[
        Member::File("etc/.wh.gone", b""),
        Member::Dir("opq/"),
        Member::File("opq/.wh..wh..opq", b""),
        Member::File("opq/new", b"new\n"),
        Member::Dir("app/"),
        Member::Exec("app/run.sh", b"#!/bin/sh\necho run\n"),
    ]);
    let l3 = layer(&[Member::File("app/extra", b"extra\n")]);
    ImageSpec::new(
        vec![(base, Comp::Gzip), (l2, Comp::Zstd), (l3, Comp::Plain)],
        json!({
            "User": "nobody",
            "Env": ["PATH=/bin", "A=1"],
            "Entrypoint": ["/bin/sh", "-c"],
            "Cmd": ["echo hi"],
            "WorkingDir": "/app",
            "Volumes": {"/data": {}},
            "Labels": {"org.example.role": "test"},
        }),
    )
}

/// Two tars as one: the first without its end-of-archive marker.
fn concat_tars(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut end = a.len();
    while end >= 512 && a[end - 512..end].iter().all(|&x| x == 0) {
        end -= 512;
    }
    let mut out = a[..end].to_vec();
    out.extend_from_slice(b);
    out
}

fn is_whiteout(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_char_device() && m.rdev() == 0)
}

fn xattr(p: &Path, name: &str) -> Option<Vec<u8>> {
    let fd = rustix::fs::open(p, rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::DIRECTORY, rustix::fs::Mode::empty())
        .ok()?;
    myvol::fsutil::get_xattr(std::os::fd::AsFd::as_fd(&fd), name).ok().flatten()
}

#[test]
fn pull_stores_layers_in_overlay_format_and_a_run_can_stack_them() {
    let Some(r) = rig() else { return };
    let spec = app_spec(&r.bb);
    let pushed = push_image(&r.reg.addr, "test/app", Some("1.0"), &spec);
    let name = r.name("test/app:1.0");
    let o = r.run(&["pull", &name]);
    assert_eq!(o.code, 0, "{o:#?}");
    assert_eq!(
        r.mask(&o.stdout),
        format!(
            "1.0: Pulling from test/app\nDigest: {}\nStatus: Downloaded newer image for REG/test/app:1.0\nREG/test/app:1.0\n",
            pushed.manifest
        )
    );
    assert_eq!(o.stderr, "");
    // Pulled again: nothing new.
    let o = r.run(&["pull", &name]);
    assert_eq!(
        r.mask(&o.stdout),
        format!(
            "1.0: Pulling from test/app\nDigest: {}\nStatus: Image is up to date for REG/test/app:1.0\nREG/test/app:1.0\n",
            pushed.manifest
        )
    );
    // Listed as Docker lists it.
    let ls = r.ok(&["images"]);
    let lines: Vec<&str> = ls.lines().collect();
    assert_eq!(lines.len(), 2, "{ls}");
    assert!(lines[0].starts_with("REPOSITORY") && lines[0].contains("TAG") && lines[0].contains("IMAGE ID"), "{ls}");
    let cols: Vec<&str> = lines[1].split("   ").map(str::trim).filter(|c| !c.is_empty()).collect();
    assert_eq!(cols[0], r.name("test/app"));
    assert_eq!(cols[1], "1.0");
    assert_eq!(cols[2], pushed.config.short());
    assert!(cols[3].ends_with("ago"), "{ls}");
    // Inspect: Docker's shape, the image's config.
    let v: Value = serde_json::from_str(&r.ok(&["image", "inspect", &name])).unwrap();
    let img = &v[0];
    assert_eq!(img["Id"], pushed.config.to_string());
    assert_eq!(img["RepoTags"], json!([name]));
    assert_eq!(img["RepoDigests"], json!([format!("{}@{}", r.name("test/app"), pushed.manifest)]));
    assert_eq!(img["Config"]["Entrypoint"], json!(["/bin/sh", "-c"]));
    assert_eq!(img["Config"]["Cmd"], json!(["echo hi"]));
    assert_eq!(img["Config"]["User"], "nobody");
    assert_eq!(img["Config"]["Volumes"], json!({"/data": {}}));
    assert_eq!(img["RootFS"]["Layers"], json!(pushed.diff_ids.iter().map(|d| d.to_string()).collect::<Vec<_>>()));
    let keys: Vec<&str> = img.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys.first(), Some(&"Id"));
    assert_eq!(keys.last(), Some(&"Config"));
    assert_eq!(
        r.ok(&["image", "inspect", "-f", "{{.Config.WorkingDir}} {{index .Config.Env 1}}", &name]),
        "/app A=1\n"
    );
    // The layers, one directory per diff ID, in overlayfs's format.
    let mut want: Vec<String> = pushed.diff_ids.iter().map(|d| d.hex().to_owned()).collect();
    want.sort();
    assert_eq!(r.layer_dirs(), want);
    let l2 = r.images().layer_path(&pushed.diff_ids[1]);
    assert!(is_whiteout(&l2.join("etc/gone")), "the whiteout is a 0/0 character device");
    let opaque = if rustix::process::geteuid().is_root() { "trusted.overlay.opaque" } else { "user.overlay.opaque" };
    assert_eq!(xattr(&l2.join("opq"), opaque).as_deref(), Some(&b"y"[..]));
    assert!(!l2.join("opq/.wh..wh..opq").exists() && !l2.join("etc/.wh.gone").exists());
    // The blobs as pulled, for save: manifest, config, three layers.
    assert_eq!(r.blobs().len(), 5);

    // What a run gets: the config, and the layers to stack (top first), under a lease.
    let run = r.images().run_image(&name).unwrap();
    let lease = r.images().lease(&run.id, "test").unwrap();
    assert_eq!(run.id, pushed.config);
    assert_eq!(run.config.entrypoint, Some(vec!["/bin/sh".into(), "-c".into()]));
    assert_eq!(run.config.working_dir.as_deref(), Some("/app"));
    assert_eq!(run.lower_dirs.len(), 3);
    assert_eq!(run.lower_dirs[0], r.images().layer_path(&pushed.diff_ids[2]));
    // The image cannot go while the run holds it.
    let o = r.run(&["rmi", &pushed.config.to_string()]);
    assert_eq!(o.code, 1);
    assert_eq!(
        o.stderr,
        format!(
            "Error: conflict: unable to delete {} (cannot be forced) - image is being used by running container {}\n",
            pushed.config.short(),
            &lease.id()[..12]
        )
    );
    let o = r.run(&["rmi", &name]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("(must force) - container"), "{o:#?}");
    assert_eq!(r.ok(&["images", "--format", "{{.Containers}}"]), "1\n");
    overlay_view(&run.lower_dirs);
    drop(lease);
    let o = r.run(&["rmi", &name]);
    assert_eq!(o.code, 0, "{o:#?}");
    assert!(r.layer_dirs().is_empty() && r.blobs().is_empty(), "{:?} {:?}", r.layer_dirs(), r.blobs());
}

/// Mount the layers with overlayfs (in a private mount namespace) and check what a run sees:
/// the whiteout hides the lower file, the opaque directory hides the lower directory's content.
fn overlay_view(lower: &[std::path::PathBuf]) {
    if !crate::env::require_root("mounting overlayfs") {
        return;
    }
    let mnt = tempfile::tempdir().unwrap();
    let lowerdir: Vec<String> = lower.iter().map(|p| p.display().to_string()).collect();
    let script = format!(
        "mount -t overlay overlay -o ro,lowerdir={} {m} && cd {m} && \
         for p in etc/gone opq/old opq/new keep/a data/seed.txt app/run.sh app/extra bin/sh; do \
           if [ -e \"$p\" ] || [ -L \"$p\" ]; then echo \"$p yes\"; else echo \"$p no\"; fi; done; cd /; umount {m}",
        lowerdir.join(":"),
        m = mnt.path().display()
    );
    let o = Command::new("unshare").args(["-m", "sh", "-c", &script]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "etc/gone no\nopq/old no\nopq/new yes\nkeep/a yes\ndata/seed.txt yes\napp/run.sh yes\napp/extra yes\nbin/sh yes\n"
    );
}

#[test]
fn images_sharing_a_base_share_its_unpacked_layer() {
    let Some(r) = rig() else { return };
    let a = push_image(
        &r.reg.addr,
        "a",
        Some("1"),
        &ImageSpec::new(vec![(r.bb.clone(), Comp::Gzip), (layer(&[Member::File("a", b"a")]), Comp::Gzip)], json!({})),
    );
    let b = push_image(
        &r.reg.addr,
        "b",
        Some("1"),
        &ImageSpec::new(vec![(r.bb.clone(), Comp::Gzip), (layer(&[Member::File("b", b"b")]), Comp::Gzip)], json!({})),
    );
    assert_eq!(a.diff_ids[0], b.diff_ids[0]);
    r.ok(&["pull", "-q", &r.name("a:1")]);
    let o = r.run(&["pull", &r.name("b:1")]);
    assert_eq!(o.code, 0, "{o:#?}");
    assert_eq!(r.layer_dirs().len(), 3, "the base layer is unpacked once");
    // Removing one image keeps the layer the other uses.
    let o = r.run(&["rmi", &r.name("a:1")]);
    assert_eq!(
        r.mask(&o.stdout),
        format!(
            "Untagged: REG/a:1\nUntagged: REG/a@{}\nDeleted: {}\nDeleted: {}\n",
            a.manifest, a.config, a.diff_ids[1]
        )
    );
    assert!(r.images().layer_path(&a.diff_ids[0]).exists());
    r.ok(&["image", "rm", &r.name("b:1")]);
    assert!(r.layer_dirs().is_empty());
    assert!(r.blobs().is_empty());
    assert_eq!(r.ok(&["images", "-q"]), "");
}

#[test]
fn an_index_gives_the_hosts_platform_or_the_one_asked_for() {
    let Some(r) = rig() else { return };
    let host = myvol::image::platform::Platform::host();
    let mut amd =
        ImageSpec::new(vec![(layer(&[Member::File("which", b"host")]), Comp::Gzip)], json!({"Cmd": ["host"]}));
    amd.arch = host.architecture.clone();
    let other_arch = if host.architecture == "arm64" { "amd64" } else { "arm64" };
    let mut other =
        ImageSpec::new(vec![(layer(&[Member::File("which", b"other")]), Comp::Zstd)], json!({"Cmd": ["other"]}));
    other.arch = other_arch.into();
    let p1 = push_image(&r.reg.addr, "multi", None, &amd);
    let p2 = push_image(&r.reg.addr, "multi", None, &other);
    let index =
        push_index(&r.reg.addr, "multi", "latest", &[("linux", other_arch, &p2), ("linux", &host.architecture, &p1)]);
    let o = r.run(&["pull", &r.name("multi")]);
    assert_eq!(o.code, 0, "{o:#?}");
    assert_eq!(
        r.mask(&o.stdout),
        format!(
            "Using default tag: latest\nlatest: Pulling from multi\nDigest: {index}\nStatus: Downloaded newer image for REG/multi:latest\nREG/multi:latest\n"
        )
    );
    assert_eq!(
        r.ok(&["image", "inspect", "-f", "{{.Id}} {{.Architecture}}", &r.name("multi")]),
        format!("{} {}\n", p1.config, host.architecture)
    );
    // The repository digest is the index's, as Docker records it.
    assert_eq!(r.ok(&["images", "--digests", "--format", "{{.Digest}}"]), format!("{index}\n"));
    let o = r.run(&["pull", "--platform", &format!("linux/{other_arch}"), &r.name("multi")]);
    assert_eq!(o.code, 0, "{o:#?}");
    assert_eq!(r.ok(&["image", "inspect", "-f", "{{.Architecture}}", &r.name("multi")]), format!("{other_arch}\n"));
    let o = r.run(&["pull", "--platform", "linux/s390x", &r.name("multi")]);
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (1, "Error: no matching manifest for linux/s390x in the manifest list entries\n")
    );
    let o = r.run(&["pull", "--platform", "bogus", &r.name("multi")]);
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (1, "Error: \"bogus\": unknown operating system or architecture: invalid argument\n")
    );
}

#[test]
fn token_auth_login_and_logout() {
    let Some(r) = rig() else { return };
    push_image(
        &r.reg.addr,
        "private/app",
        Some("v1"),
        &ImageSpec::new(vec![(layer(&[Member::File("f", b"x")]), Comp::Gzip)], json!({})),
    );
    let proxy = Proxy::start(&r.reg.addr);
    proxy.require_token("alice", "s3cret");
    let name = format!("{}/private/app:v1", proxy.addr);
    // Anonymous: the token server refuses.
    let o = r.run(&["pull", &name]);
    assert_eq!(o.code, 1, "{o:#?}");
    assert_eq!(
        o.stderr.replace(&proxy.addr, "PROXY"),
        "Error: Get \"http://PROXY/token?service=test-registry&scope=repository%3Aprivate%2Fapp%3Apull\": unauthorized: incorrect username or password\n"
    );
    assert!(r.layer_dirs().is_empty());
    // A wrong password is refused by login, and nothing is stored.
    let o = myvol(&r.t, &["login", "-u", "alice", "--password-stdin", &proxy.addr], Some("wrong\n"));
    assert_eq!(o.code, 1, "{o:#?}");
    assert!(o.stderr.ends_with(": unauthorized: incorrect username or password\n"), "{o:#?}");
    let config = r.t.dir.path().join("docker-config/config.json");
    assert!(!config.exists());
    let o = myvol(&r.t, &["login", "-u", "alice", "--password-stdin", &proxy.addr], Some("s3cret\n"));
    assert_eq!((o.code, o.stdout.as_str()), (0, "Login Succeeded\n"), "{o:#?}");
    assert!(o.stderr.contains("WARNING! Your credentials are stored unencrypted in"), "{o:#?}");
    let c: Value = serde_json::from_slice(&std::fs::read(&config).unwrap()).unwrap();
    assert_eq!(c["auths"][&proxy.addr]["auth"], "YWxpY2U6czNjcmV0");
    assert_eq!(std::fs::metadata(&config).unwrap().mode() & 0o777, 0o600);
    let o = r.run(&["pull", &name]);
    assert_eq!(o.code, 0, "{o:#?}");
    assert_eq!(r.layer_dirs().len(), 1);
    let o = r.run(&["logout", &proxy.addr]);
    assert_eq!(
        (o.code, o.stdout.replace(&proxy.addr, "PROXY")),
        (0, "Removing login credentials for PROXY\n".to_owned())
    );
    let c: Value = serde_json::from_slice(&std::fs::read(&config).unwrap()).unwrap();
    assert_eq!(c["auths"], json!({}));
    // Flag errors, as Docker's.
    let o = myvol(&r.t, &["login", "--password-stdin", &proxy.addr], Some("x"));
    assert_eq!(o.stderr, "Error: the --password-stdin option requires --username to be set\n");
    let o = myvol(&r.t, &["login", "-u", "a", "-p", "b", "--password-stdin", &proxy.addr], Some("x"));
    assert_eq!(o.stderr, "Error: conflicting options: cannot specify both --password and --password-stdin\n");
    let o = myvol(&r.t, &["login", &proxy.addr], None);
    assert_eq!(o.stderr, "Error: Cannot perform an interactive login from a non TTY device\n");
}

#[test]
fn a_tampered_blob_is_refused_by_its_digest_and_never_stored() {
    let Some(r) = rig() else { return };
    let spec = ImageSpec::new(
        vec![(r.bb.clone(), Comp::Gzip), (layer(&[Member::File("payload", &[7u8; 70_000])]), Comp::Plain)],
        json!({}),
    );
    let pushed = push_image(&r.reg.addr, "victim", Some("1"), &spec);
    let proxy = Proxy::start(&r.reg.addr);
    proxy.tamper(&pushed.blobs[1]);
    let o = r.run(&["pull", &format!("{}/victim:1", proxy.addr)]);
    assert_eq!(o.code, 1, "{o:#?}");
    assert!(
        o.stderr.starts_with(&format!(
            "Error: filesystem layer verification failed for digest {} (got sha256:",
            pushed.blobs[1]
        )),
        "{o:#?}"
    );
    assert!(!r.blobs().contains(&pushed.blobs[1].hex().to_owned()), "the tampered blob was published");
    assert!(!r.layer_dirs().contains(&pushed.diff_ids[1].hex().to_owned()), "the tampered layer was published");
    assert!(r.t.entries("images/records").is_empty());
    assert_eq!(r.run(&["images", "-q"]).code, 0);
    // The untampered registry serves the real image.
    r.ok(&["pull", &r.name("victim:1")]);
    assert!(r.layer_dirs().contains(&pushed.diff_ids[1].hex().to_owned()));
}

#[test]
fn hostile_layers_are_refused_without_writing_outside_the_store() {
    let Some(r) = rig() else { return };
    let outside = r.t.dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    let target = outside.display().to_string();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("traversal", layer(&[Member::File("../../../../../../../../tmp/evil", b"x")]), "name contains '..' (refused)"),
        (
            "absolute",
            layer(&[Member::Raw(b"/etc/evil-myvol", tar::EntryType::Regular, b"x")]),
            "absolute name (refused)",
        ),
        (
            "symlink-then-write",
            layer(&[Member::Symlink("link", &target), Member::File("link/planted", b"x")]),
            "a parent directory is a symlink (refused)",
        ),
        ("whiteout-dotdot", layer(&[Member::File("d/.wh..", b"")]), "whiteout of '.', '..' or nothing (refused)"),
        ("whiteout-parent", layer(&[Member::File(".wh.x/y", b"")]), "path through a whiteout (refused)"),
        ("hardlink-out", layer(&[Member::Link("h", "/etc/passwd")]), "hard link to an absolute path (refused)"),
    ];
    for (i, (what, tar, reason)) in cases.into_iter().enumerate() {
        let repo = format!("hostile{i}");
        push_image(&r.reg.addr, &repo, Some("1"), &ImageSpec::new(vec![(tar, Comp::Gzip)], json!({})));
        let o = r.run(&["pull", &r.name(&format!("{repo}:1"))]);
        assert_eq!(o.code, 1, "{what}: {o:#?}");
        assert!(o.stderr.starts_with("Error: failed to register layer: archive member "), "{what}: {o:#?}");
        assert!(o.stderr.trim_end().ends_with(reason), "{what}: {o:#?}");
        assert!(r.layer_dirs().is_empty(), "{what}: {:?}", r.layer_dirs());
        assert!(r.t.entries("images/records").is_empty(), "{what}");
        assert_eq!(r.run(&["images", "-q"]).stdout, "", "{what}");
    }
    assert!(std::fs::read_dir(&outside).unwrap().next().is_none(), "something was written outside the store");
    assert!(!Path::new("/tmp/evil").exists() && !Path::new("/etc/evil-myvol").exists());
    // Device nodes: created as root (as Docker does; runs mount the image nodev), never by a
    // rootless store.
    push_image(
        &r.reg.addr,
        "dev",
        Some("1"),
        &ImageSpec::new(vec![(layer(&[Member::Char("null", 1, 3)]), Comp::Gzip)], json!({})),
    );
    let o = r.run(&["pull", &r.name("dev:1")]);
    assert_eq!(o.code, 0, "{o:#?}");
    let diff = Digest::of(&layer(&[Member::Char("null", 1, 3)]));
    let node = r.images().layer_path(&diff).join("null");
    if rustix::process::geteuid().is_root() {
        assert!(std::fs::symlink_metadata(&node).unwrap().file_type().is_char_device());
    } else {
        assert!(!node.exists());
    }
}

#[test]
fn verbs_errors_read_as_dockers() {
    let Some(r) = rig() else { return };
    push_image(
        &r.reg.addr,
        "app",
        Some("1"),
        &ImageSpec::new(vec![(layer(&[Member::File("f", b"x")]), Comp::Gzip)], json!({})),
    );
    r.ok(&["pull", "-q", &r.name("app:1")]);
    let e = |args: &[&str], code: i32, stderr: &str| {
        let o = r.run(args);
        assert_eq!((o.code, r.mask(&o.stderr)), (code, stderr.to_owned()), "myvol {}", args.join(" "));
        o
    };
    e(&["rmi", "nope"], 1, "Error: No such image: nope:latest\n");
    e(&["rmi", "-f", "nope"], 0, "Error: No such image: nope:latest\n");
    e(&["image", "inspect", "nope:2"], 1, "Error: No such image: nope:2\n");
    e(&["tag", "nope", "x"], 1, "Error: No such image: nope:latest\n");
    e(
        &["tag", "REG/app:1".replace("REG", &r.reg.addr).as_str(), "Bad"],
        1,
        "Error: Error parsing reference: \"Bad\" is not a valid repository/tag: invalid reference format: repository name (library/Bad) must be lowercase\n",
    );
    e(&["pull", "UPPER"], 1, "Error: invalid reference format: repository name (library/UPPER) must be lowercase\n");
    e(&["pull", "a:b:c"], 1, "Error: invalid reference format\n");
    e(
        &["pull", &r.name("app:nope")],
        1,
        "Error: manifest for REG/app:nope not found: manifest unknown: manifest unknown\n",
    );
    e(&["pull", "-a", &r.name("app:1")], 1, "Error: tag can't be used with --all-tags/-a\n");
    let port = crate::registry::free_port();
    let o = r.run(&["pull", &format!("127.0.0.1:{port}/x")]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains(&format!("dial tcp 127.0.0.1:{port}: connect: connection refused")), "{o:#?}");
    e(&["images", "-f", "bogus=1"], 1, "Error: invalid filter 'bogus'\n");
    e(&["images", "-f", "dangling=maybe"], 1, "Error: invalid filter 'dangling=[maybe]'\n");
    e(
        &["image", "prune", "--filter", "until=soon", "-f"],
        1,
        "Error: failed to parse value as time or duration: \"soon\"\n",
    );
    // Tag, then untag one name: the image stays until its last reference goes.
    r.ok(&["tag", &r.name("app:1"), "local/app:2"]);
    assert_eq!(r.ok(&["images", "--format", "{{.Repository}}:{{.Tag}}"]).lines().count(), 2);
    let o = r.run(&["rmi", "local/app:2"]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "Untagged: local/app:2\n"));
    // Prune: the prompt, then dangling only, then -a.
    let o = myvol(&r.t, &["image", "prune"], Some("n\n"));
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (0, "WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] ")
    );
    assert_eq!(r.ok(&["image", "prune", "-f"]), "Total reclaimed space: 0B\n");
    let o = r.run(&["image", "prune", "-a", "-f"]);
    assert!(o.stdout.starts_with("Deleted Images:\nuntagged: "), "{o:#?}");
    assert!(o.stdout.contains("\ndeleted: sha256:") && o.stdout.contains("\n\nTotal reclaimed space: "), "{o:#?}");
    assert_eq!(r.ok(&["images", "-q"]), "");
    assert!(r.layer_dirs().is_empty());
}

#[test]
fn ls_filters_digests_and_formats() {
    let Some(r) = rig() else { return };
    let mk = |f: &str, label: &str| {
        ImageSpec::new(vec![(layer(&[Member::File(f, f.as_bytes())]), Comp::Gzip)], json!({"Labels": {"tier": label}}))
    };
    let one = push_image(&r.reg.addr, "one", Some("1"), &mk("one", "front"));
    push_image(&r.reg.addr, "two", Some("1"), &mk("two", "back"));
    r.ok(&["pull", "-q", &r.name("one:1")]);
    r.ok(&["pull", "-q", &r.name("two:1")]);
    r.ok(&["tag", &r.name("one:1"), "one:extra"]);
    let names = |args: &[&str]| {
        let mut all = vec!["images", "--format", "{{.Repository}}:{{.Tag}}"];
        all.extend_from_slice(args);
        let mut v: Vec<String> = r.mask(&r.ok(&all)).lines().map(str::to_owned).collect();
        v.sort();
        v
    };
    assert_eq!(names(&[]), ["REG/one:1", "REG/two:1", "one:extra"]);
    assert_eq!(names(&["-f", "label=tier=front"]), ["REG/one:1", "one:extra"]);
    assert_eq!(names(&["-f", "reference=one:*"]), ["one:extra"]);
    assert_eq!(names(&["-f", "reference=*/one:*"]), ["REG/one:1"]);
    assert_eq!(names(&["one"]), ["one:extra"]);
    assert_eq!(names(&["-f", "dangling=true"]), Vec::<String>::new());
    // -q prints an ID per row, as Docker does; --no-trunc the full ID.
    let q = r.ok(&["images", "-q", "--no-trunc", "-f", "label=tier=front"]);
    assert_eq!(q, format!("{0}\n{0}\n", one.config));
    // --digests adds the column; JSON has every field.
    let d = r.ok(&["images", "--digests", "--format", "{{.Repository}} {{.Digest}}", &r.name("one")]);
    assert_eq!(r.mask(&d), format!("REG/one {}\n", one.manifest));
    let j: Value = serde_json::from_str(r.ok(&["images", "--format", "json", "one"]).trim()).unwrap();
    let keys: Vec<&str> = j.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "Containers",
            "CreatedAt",
            "CreatedSince",
            "Digest",
            "ID",
            "Repository",
            "SharedSize",
            "Size",
            "Tag",
            "UniqueSize",
            "VirtualSize"
        ]
    );
    assert_eq!(j["CreatedAt"], "2026-11-01 10:00:00 +0000 UTC");
    // An untagged image is listed as <none>.
    r.ok(&["rmi", &r.name("two:1")]);
    r.ok(&["pull", "-q", &r.name("two:1")]);
    r.ok(&["tag", &r.name("two:1"), "two:moved"]);
    let o = r.run(&["image", "prune", "-f"]);
    assert_eq!(o.stdout, "Total reclaimed space: 0B\n");
}

#[test]
fn save_and_load_round_trip_and_other_tools_read_our_archives() {
    let Some(r) = rig() else { return };
    let spec = app_spec(&r.bb);
    let pushed = push_image(&r.reg.addr, "test/app", Some("1.0"), &spec);
    let name = r.name("test/app:1.0");
    r.ok(&["pull", "-q", &name]);
    let archive = r.t.dir.path().join("app.tar");
    let a = archive.to_str().unwrap();
    let o = r.run(&["save", "-o", a, &name]);
    assert_eq!((o.code, o.stdout.as_str(), o.stderr.as_str()), (0, "", ""));
    assert_eq!(std::fs::metadata(&archive).unwrap().mode() & 0o777, 0o600);
    let list = Command::new("tar").args(["-tf", a]).output().unwrap();
    let list = String::from_utf8_lossy(&list.stdout);
    assert!(list.contains("index.json\nmanifest.json\noci-layout\n"), "{list}");
    assert!(list.contains(&format!("blobs/sha256/{}\n", pushed.manifest.hex())), "the pulled manifest is kept");
    // A fresh store loads it back, tags and layers.
    let t2 = TestEnv::new();
    let o = myvol(&t2, &["load", "-i", a], None);
    assert_eq!((o.code, r.mask(&o.stdout)), (0, "Loaded image: REG/test/app:1.0\n".to_owned()), "{o:#?}");
    let v: Value = serde_json::from_str(&myvol(&t2, &["image", "inspect", &name], None).stdout).unwrap();
    assert_eq!(v[0]["Id"], pushed.config.to_string());
    assert_eq!(v[0]["RootFS"]["Layers"].as_array().unwrap().len(), 3);
    // Loading again moves nothing; a gzip-compressed archive on stdin loads too.
    let gz = crate::registry::compress(&std::fs::read(&archive).unwrap(), Comp::Gzip);
    let mut c = t2.cmd();
    c.env("DOCKER_CONFIG", t2.dir.path().join("dc")).args(["load"]);
    c.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(&gz).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(r.mask(&String::from_utf8_lossy(&out.stdout)), "Loaded image: REG/test/app:1.0\n");
    // save refuses a name it does not have.
    let o = r.run(&["save", "-o", a, "nope:1"]);
    assert_eq!((o.code, o.stderr.as_str()), (1, "Error: reference does not exist\n"));
    let o = r.run(&["save", "-o", a, "nope"]);
    assert_eq!((o.code, o.stderr.as_str()), (1, "Error: No such image: nope\n"));
    // skopeo reads our archive in both of its forms.
    if !crate::env::require_tools(&["skopeo"]) {
        return;
    }
    for transport in ["docker-archive", "oci-archive"] {
        let o = Command::new("skopeo").args(["inspect", "--raw", &format!("{transport}:{a}")]).output().unwrap();
        assert!(o.status.success(), "skopeo {transport}: {}", String::from_utf8_lossy(&o.stderr));
    }
    let o = Command::new("skopeo").args(["inspect", "--config", &format!("docker-archive:{a}")]).output().unwrap();
    let cfg: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(cfg["config"]["User"], "nobody");
}

/// Archives recorded with the real tools (tests/fixtures/images, see its README).
#[test]
fn load_archives_of_docker_podman_and_skopeo() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/images");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let Some(ext) = path.extension() else { continue };
        if ext != "tar" && ext != "gz" && ext != "zst" {
            continue;
        }
        let want = std::fs::read_to_string(path.with_extension("expected"))
            .unwrap_or_else(|_| panic!("{}.expected", path.display()));
        let t = TestEnv::new();
        let o = myvol(&t, &["load", "-i", path.to_str().unwrap()], None);
        assert_eq!(o.code, 0, "{}: {o:#?}", path.display());
        assert_eq!(o.stdout, want, "{}", path.display());
        // The image is complete: its layers are in the store and it can be saved again.
        let ls = myvol(&t, &["images", "-q", "--no-trunc"], None);
        let id = ls.stdout.lines().next().unwrap().to_owned();
        let run = ImageStore::new(&t.root).run_image(&id).unwrap();
        let _lease = ImageStore::new(&t.root).lease(&run.id, "test").unwrap();
        let bottom = run.lower_dirs.last().unwrap();
        assert_eq!(std::fs::read_to_string(bottom.join("hello.txt")).unwrap(), "hello from a fixture\n");
        assert_eq!(
            std::fs::read_link(run.lower_dirs[run.lower_dirs.len() - 2].join("etc/hello-link")).unwrap(),
            Path::new("../hello.txt")
        );
        let out = t.dir.path().join("again.tar");
        assert_eq!(myvol(&t, &["save", "-o", out.to_str().unwrap(), &id], None).code, 0);
        seen += 1;
    }
    assert!(seen >= 3, "fixtures missing in {}", dir.display());
}

#[test]
fn load_refuses_broken_and_hostile_archives() {
    let t = TestEnv::new();
    let not = t.dir.path().join("not.tar");
    std::fs::write(&not, b"this is not a tar archive at all, not even close............................").unwrap();
    let o = myvol(&t, &["load", "-i", not.to_str().unwrap()], None);
    assert_eq!(o.code, 1);
    assert!(o.stderr.starts_with("Error: "), "{o:#?}");
    let empty = layer(&[Member::File("x", b"y")]);
    let o = myvol(&t, &["load"], Some(""));
    assert_eq!(o.code, 1, "{o:#?}");
    // A manifest.json whose layer is not what the config says.
    let cfg = json!({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [Digest::of(b"other").to_string()]}});
    let cfg = serde_json::to_vec(&cfg).unwrap();
    let manifest = json!([{"Config": "c.json", "RepoTags": ["x:1"], "Layers": ["l.tar"]}]);
    let mut b = tar::Builder::new(Vec::new());
    for (n, d) in [
        ("c.json", cfg.as_slice()),
        ("l.tar", empty.as_slice()),
        ("manifest.json", &serde_json::to_vec(&manifest).unwrap()),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_size(d.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, n, d).unwrap();
    }
    let arch = t.dir.path().join("bad.tar");
    std::fs::write(&arch, b.into_inner().unwrap()).unwrap();
    let o = myvol(&t, &["load", "-i", arch.to_str().unwrap()], None);
    assert_eq!(o.code, 1);
    assert_eq!(
        o.stderr,
        format!(
            "Error: invalid diffID for layer 0: expected \"{}\", got \"{}\"\n",
            Digest::of(b"other"),
            Digest::of(&empty)
        )
    );
    assert!(t.entries("images/records").is_empty());
    assert_eq!(myvol(&t, &["images", "-q"], None).stdout, "");
}

/// A `docker save` archive (manifest.json form) of one small image with `tags`.
fn archive_with_tags(tags: &[&str]) -> Vec<u8> {
    archive_of(&[layer(&[Member::File("f", b"x")])], tags, "2024-01-02T03:04:05Z")
}

/// A `docker save` archive (manifest.json form) of one image: `layers` bottom first, `tags`,
/// created at `created`.
fn archive_of(layers: &[Vec<u8>], tags: &[&str], created: &str) -> Vec<u8> {
    let diff_ids: Vec<String> = layers.iter().map(|l| Digest::of(l).to_string()).collect();
    let cfg = json!({"architecture": "amd64", "os": "linux", "created": created,
                     "rootfs": {"type": "layers", "diff_ids": diff_ids}});
    let cfg = serde_json::to_vec(&cfg).unwrap();
    let names: Vec<String> = (0..layers.len()).map(|i| format!("l{i}.tar")).collect();
    let manifest = serde_json::to_vec(&json!([{"Config": "c.json", "RepoTags": tags, "Layers": names}])).unwrap();
    let mut b = tar::Builder::new(Vec::new());
    let mut members: Vec<(&str, &[u8])> = vec![("c.json", cfg.as_slice())];
    members.extend(names.iter().map(String::as_str).zip(layers.iter().map(Vec::as_slice)));
    members.push(("manifest.json", manifest.as_slice()));
    for (n, d) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(d.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, n, d).unwrap();
    }
    b.into_inner().unwrap()
}

/// `system df` counts images as Docker does: TOTAL every image, ACTIVE those a run uses,
/// SIZE every layer once, RECLAIMABLE that less what the active images use alone; `-v` lists
/// each image with its shared and unique sizes.
#[test]
fn system_df_counts_images_as_docker() {
    let t = TestEnv::new();
    let base = layer(&[Member::File("base", &[b'b'; 1000])]);
    let a = layer(&[Member::File("a", &[b'a'; 200])]);
    let b = layer(&[Member::File("b", &[b'b'; 30])]);
    for (name, top, created) in [("a:1", &a, "2024-01-02T00:00:00Z"), ("b:1", &b, "2024-01-03T00:00:00Z")] {
        let arch = t.dir.path().join("x.tar");
        std::fs::write(&arch, archive_of(&[base.clone(), top.clone()], &[name], created)).unwrap();
        myvol(&t, &["load", "-q", "-i", arch.to_str().unwrap()], None).ok();
    }
    let df = |args: &[&str]| {
        let mut all = vec!["system", "df"];
        all.extend(args);
        myvol(&t, &all, None).ok().to_owned()
    };
    assert_eq!(
        df(&[]),
        "TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE\n\
         Images          2         0         1.23kB    1.23kB (100%)\n\
         Containers      0         0         0B        0B\n\
         Local Volumes   0         0         0B        0B\n\
         Build Cache     0         0         0B        0B\n"
    );
    // A run uses a:1: what only it uses (200B) is not reclaimable; the shared base is.
    let a1 = ImageStore::new(&t.root).run_image("a:1").unwrap();
    let lease = ImageStore::new(&t.root).lease(&a1.id, "test").unwrap();
    assert_eq!(
        df(&["--format", "{{.Type}}|{{.TotalCount}}|{{.Active}}|{{.Size}}|{{.Reclaimable}}"]).lines().next(),
        Some("Images|2|1|1.23kB|1.03kB (83%)")
    );
    let rows = df(&[
        "-v",
        "--format",
        "{{range .Images}}{{.Repository}} {{.Tag}} {{.Size}} {{.SharedSize}} {{.UniqueSize}} {{.Containers}} {{len .ID}}\n{{end}}",
    ]);
    assert_eq!(rows, "b 1 1.03kB 1kB 30B 0 71\na 1 1.2kB 1kB 200B 1 71\n");
    let v = df(&["-v"]);
    let mut lines = v.lines();
    assert_eq!(lines.next(), Some("Images space usage:"));
    assert_eq!(lines.next(), Some(""));
    // (CREATED's width depends on today's date.)
    let header = lines.next().unwrap();
    assert!(header.starts_with("REPOSITORY   TAG       IMAGE ID       CREATED   "), "{v}");
    assert!(header.ends_with("   SIZE      SHARED SIZE   UNIQUE SIZE   CONTAINERS"), "{v}");
    let row: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!((row[0], row[1], row[2].len()), ("b", "1", 12), "{v}");
    assert_eq!(&row[row.len() - 4..], ["1.03kB", "1kB", "30B", "0"], "{v}");
    assert!(v.contains("\nContainers space usage:\n") && v.contains("\nLocal Volumes space usage:\n"), "{v}");
    let json: Value = serde_json::from_str(&df(&["-v", "--format", "json"])).unwrap();
    assert_eq!(json["Images"][1]["UniqueSize"], "200B");
    assert_eq!(json["Images"][1]["Containers"], "1");
    drop(lease);
}

/// Tags in an archive are outside text: a hostile one is refused with the tag escaped (and
/// cut when huge) in a one-line error, and nothing of it reaches `images`, whose table shows
/// the store unchanged.
#[test]
fn a_hostile_tag_in_an_archive_is_refused_escaped_and_never_listed() {
    let t = TestEnv::new();
    let load = |tags: &[&str]| {
        let arch = t.dir.path().join("a.tar");
        std::fs::write(&arch, archive_with_tags(tags)).unwrap();
        myvol(&t, &["load", "-i", arch.to_str().unwrap()], None)
    };
    let o = load(&["good:1"]);
    assert_eq!((o.code, o.stdout.as_str(), o.stderr.as_str()), (0, "Loaded image: good:1\n", ""), "{o:#?}");
    let before = myvol(&t, &["images"], None);
    assert_eq!(before.code, 0, "{before:#?}");
    for (tag, shown) in [
        ("Evil\u{1b}]0;pwned\u{7}:1", "library/Evil\\x1b]0;pwned\\x07"),
        ("Bidi\u{202e}gnp.exe:1", "library/Bidi\\u{202e}gnp.exe"),
        ("Line\nError: fake:1", "library/Line\\nError"),
    ] {
        let o = load(&[tag]);
        assert_eq!(o.code, 1, "{o:#?}");
        assert_eq!(
            o.stderr,
            format!("Error: invalid reference format: repository name ({shown}) must be lowercase\n"),
            "{tag:?}"
        );
        assert!(!o.stderr.contains(['\u{1b}', '\u{7}', '\u{202e}']), "{o:#?}");
    }
    // A tag of 100,000 characters is cut at 1,024 where the error echoes it.
    let huge = format!("A{}:1", "a".repeat(100_000));
    let o = load(&[&huge]);
    assert_eq!(o.code, 1, "{o:#?}");
    assert!(o.stderr.len() < 1_200 && o.stderr.contains("…[100009 bytes]"), "{}", o.stderr);
    // Lower-case but not a reference: Docker's words, nothing stored.
    let o = load(&["x\u{1b}[2j:1"]);
    assert_eq!((o.code, o.stderr.as_str()), (1, "Error: invalid reference format\n"));
    let after = myvol(&t, &["images"], None);
    assert_eq!(after, before, "the store is as it was");
    assert!(after.stdout.starts_with("REPOSITORY   TAG       IMAGE ID       CREATED"), "{after:#?}");
    assert_eq!(after.stdout.lines().count(), 2, "{after:#?}");
}

/// A registry's answers are outside text: its error messages, media types and auth realms
/// reach the terminal escaped and cut at 1,024 characters, in one line, whatever they hold.
#[test]
fn registry_answers_are_echoed_escaped_and_cut() {
    let Some(r) = rig() else { return };
    push_image(
        &r.reg.addr,
        "hostile/app",
        Some("1"),
        &ImageSpec::new(vec![(layer(&[Member::File("f", b"x")]), Comp::Gzip)], json!({})),
    );
    let proxy = Proxy::start(&r.reg.addr);
    let name = format!("{}/hostile/app:1", proxy.addr);
    let pull = |status: u16, headers: &[(&str, &[u8])], body: &[u8]| {
        proxy.answer_manifests(status, headers, body);
        let o = r.run(&["pull", "-q", &name]);
        assert_eq!((o.code, o.stdout.as_str()), (1, ""), "{o:#?}");
        assert_eq!(o.stderr.lines().count(), 1, "{o:#?}");
        assert!(!o.stderr.contains(['\u{1b}', '\u{7}', '\u{202e}', '\r']), "{o:#?}");
        o.stderr.replace(&proxy.addr, "PROXY")
    };
    let json = [("content-type", b"application/json".as_slice())];
    let msg = "\u{1b}[2J\u{1b}]0;owned\u{7}denied\nError: fake second line\u{202e}";
    let body = serde_json::to_vec(&json!({"errors": [{"code": "DENIED", "message": msg}]})).unwrap();
    assert_eq!(
        pull(403, &json, &body),
        "Error: pull access denied for PROXY/hostile/app, repository does not exist or may require 'docker login': denied: \\x1b[2J\\x1b]0;owned\\x07denied\\nError: fake second line\\u{202e}\n"
    );
    let body =
        serde_json::to_vec(&json!({"errors": [{"code": "MANIFEST_UNKNOWN", "message": "m".repeat(100_000)}]})).unwrap();
    let e = pull(404, &json, &body);
    assert!(e.starts_with("Error: manifest for PROXY/hostile/app:1 not found: manifest unknown: mmm"), "{e}");
    assert!(e.ends_with("m…[100000 bytes]\n") && e.len() < 1_200, "{e}");
    let body = br#"{"schemaVersion":2,"mediaType":"application/vnd.evil\u001b[31m.v1+json","config":{}}"#;
    assert_eq!(pull(200, &json, body), "Error: unsupported media type application/vnd.evil\\x1b[31m.v1+json\n");
    let realm = format!("Bearer realm=\"{}\",service=\"s\"", "r".repeat(5_000));
    let e = pull(401, &[("www-authenticate", realm.as_bytes())], b"");
    assert!(e.starts_with("Error: invalid token realm \"rrr"), "{e}");
    assert!(e.ends_with("r\"…[5000 bytes]\n") && e.len() < 1_200, "{e}");
    assert!(r.t.entries("images/records").is_empty());
}

/// TLS with certificate checks, on an address outside the loopback ranges (which Docker always
/// treats as insecure): a registry serving HTTPS on 10.99.0.1 in a private network namespace,
/// with a certificate from a test CA. Without that CA the pull fails on the certificate; with
/// it (`SSL_CERT_FILE`, or Docker's `certs.d/HOST:PORT/ca.crt`) it succeeds; listed in
/// daemon.json's `insecure-registries`, it succeeds without.
#[test]
fn tls_registries_are_checked_against_the_trust_store() {
    if !crate::env::require_root("a network namespace with its own address")
        || !crate::env::require_tools(&["openssl", "unshare", "ip", "curl"])
    {
        return;
    }
    let Some(r) = rig() else { return };
    push_image(
        &r.reg.addr,
        "tls/app",
        Some("1"),
        &ImageSpec::new(vec![(layer(&[Member::File("f", b"tls")]), Comp::Gzip)], json!({})),
    );
    let d = r.t.dir.path();
    let sh = |script: &str| {
        let o = Command::new("bash").args(["-euc", script]).current_dir(d).output().unwrap();
        assert!(o.status.success(), "{script}: {}", String::from_utf8_lossy(&o.stderr));
    };
    sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=myvol-test-ca 2>/dev/null
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout srv.key -out srv.csr -subj /CN=10.99.0.1 2>/dev/null
        printf 'subjectAltName=IP:10.99.0.1\\n' > ext
        openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile ext 2>/dev/null
        mkdir -p certs/certs.d/10.99.0.1:5443 insecure
        cp ca.pem certs/certs.d/10.99.0.1:5443/ca.crt
        echo '{\"insecure-registries\": [\"10.99.0.1:5443\"]}' > insecure/daemon.json");
    let config = format!(
        "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 10.99.0.1:5443\n  tls:\n    certificate: {}\n    key: {}\n",
        r.reg.dir.path().join("data").display(),
        d.join("srv.pem").display(),
        d.join("srv.key").display()
    );
    std::fs::write(d.join("tls.yml"), config).unwrap();
    let bin = assert_cmd::cargo::cargo_bin("myvol");
    let script = format!(
        r#"ip link set lo up; ip addr add 10.99.0.1/32 dev lo
        docker-registry serve tls.yml 2>registry.log & reg=$!
        trap 'kill $reg; wait $reg 2>/dev/null' EXIT
        for _ in $(seq 1 400); do curl -sk https://10.99.0.1:5443/v2/ >/dev/null && break; sleep 0.05; done
        pull() {{ env DOCKER_CONFIG={d}/dc TZ=UTC "$@" {bin} pull -q 10.99.0.1:5443/tls/app:1 2>&1; echo "rc=$?"; }}
        echo "== roots"; pull MYVOL_ROOT={d}/r1 MYVOL_DAEMON_CONFIG={d}/none.json
        echo "== ca"; pull MYVOL_ROOT={d}/r2 MYVOL_DAEMON_CONFIG={d}/none.json SSL_CERT_FILE={d}/ca.pem
        echo "== certs.d"; pull MYVOL_ROOT={d}/r3 MYVOL_DAEMON_CONFIG={d}/certs/daemon.json
        echo "== insecure"; pull MYVOL_ROOT={d}/r4 MYVOL_DAEMON_CONFIG={d}/insecure/daemon.json
        "#,
        d = d.display(),
        bin = bin.display()
    );
    let o = Command::new("unshare").args(["-n", "bash", "-c", &script]).current_dir(d).output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{out}\n{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        out,
        "== roots\nError: Get \"https://10.99.0.1:5443/v2/\": tls: failed to verify certificate: x509: certificate signed by unknown authority\nrc=1\n\
         == ca\n10.99.0.1:5443/tls/app:1\nrc=0\n\
         == certs.d\n10.99.0.1:5443/tls/app:1\nrc=0\n\
         == insecure\n10.99.0.1:5443/tls/app:1\nrc=0\n"
    );
}
