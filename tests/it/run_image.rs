//! `myvol run IMAGE`: images built here from a static busybox, loaded from `docker save`
//! archives (or pulled from a real registry), run for real. The commands users bring, written
//! against images, verbatim; Docker's rules for the config (Entrypoint, Cmd, Env, WorkingDir,
//! User, Volumes); `--pull`; image mounts; the image lease; images that try to reach the host.

use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;

use serde_json::{Value, json};

use crate::env::{Out, Spawned, TempUser, TestEnv, tree, wait_for_path};
use crate::registry::{
    Comp, ImageSpec, Member, Proxy, Registry, busybox_layer, layer, myvol, push_image, save_archive,
};

/// A store, and the busybox layer images are built on.
struct ImageRig {
    t: TestEnv,
    bb: Vec<u8>,
}

/// Runs need root (mount, PID and UTS namespaces) and a static busybox.
#[track_caller]
fn image_rig() -> Option<ImageRig> {
    if !crate::env::require_root("runs need mount, PID and UTS namespaces") {
        return None;
    }
    let Some(bb) = busybox_layer() else {
        crate::env::skipped("needs a static busybox at /bin/busybox (Debian package busybox-static)");
        return None;
    };
    Some(ImageRig { t: TestEnv::new(), bb })
}

impl ImageRig {
    fn run(&self, args: &[&str]) -> Out {
        myvol(&self.t, args, None)
    }

    #[track_caller]
    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert_eq!(o.code, 0, "myvol {}: {o:#?}", args.join(" "));
        o.stdout
    }

    /// An image of busybox and `extra` (one more layer, when given) with `config`, loaded as
    /// `tag` from a `docker save` archive.
    fn load(&self, tag: &str, extra: &[Member<'_>], config: Value) {
        let mut layers = vec![(self.bb.clone(), Comp::Plain)];
        if !extra.is_empty() {
            layers.push((layer(extra), Comp::Plain));
        }
        self.load_spec(tag, &ImageSpec::new(layers, config));
    }

    fn load_spec(&self, tag: &str, spec: &ImageSpec) {
        let archive = self.t.dir.path().join("image.tar");
        std::fs::write(&archive, save_archive(spec, &[tag])).unwrap();
        let o = self.run(&["load", "-q", "-i", archive.to_str().unwrap()]);
        assert_eq!(o.code, 0, "load {tag}: {o:#?}");
    }

    fn volumes(&self) -> Vec<String> {
        self.ok(&["volume", "ls", "-q"]).lines().map(str::to_owned).collect()
    }
}

/// `/etc/passwd` and `/etc/group` with a user `app` (1000:1000, home /home/app, also in group
/// `extra` 2000).
const USERS: [Member<'static>; 3] = [
    Member::Dir("etc/"),
    Member::File(
        "etc/passwd",
        b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n",
    ),
    Member::File("etc/group", b"root:x:0:\nnogroup:x:65534:\napp:x:1000:\nextra:x:2000:app\n"),
];

/// The commands users bring, verbatim, against local images: a log volume an app writes
/// into, a database image's data volume, CI's build in the working directory.
#[test]
fn the_commands_users_bring_run_verbatim_with_local_images() {
    let Some(r) = image_rig() else { return };
    r.load(
        "backend-app:latest",
        &[Member::Dir("app/")],
        json!({"WorkingDir": "/app", "Cmd": ["sh", "-c", "echo started >> /app/logs/app.log; pwd"]}),
    );
    // docker volume create logs-volume; docker run -v logs-volume:/app/logs backend-app
    r.ok(&["volume", "create", "logs-volume"]);
    let o = r.run(&["run", "-v", "logs-volume:/app/logs", "backend-app"]);
    assert_eq!((o.code, o.stdout.as_str(), o.stderr.as_str()), (0, "/app\n", ""), "{o:#?}");
    r.run(&["run", "-v", "logs-volume:/app/logs", "backend-app"]);
    assert_eq!(std::fs::read_to_string(r.t.data("logs-volume").join("app.log")).unwrap(), "started\nstarted\n");
    assert_eq!(r.volumes(), ["logs-volume"], "no other volume");

    // docker run -v db-data:/var/lib/postgresql/data postgres
    r.load(
        "postgres:latest",
        &[
            Member::Dir("var/"),
            Member::Dir("var/lib/"),
            Member::Dir("var/lib/postgresql/"),
            Member::Dir("var/lib/postgresql/data/"),
            Member::File("var/lib/postgresql/data/PG_VERSION", b"16\n"),
        ],
        json!({"Volumes": {"/var/lib/postgresql/data": {}},
               "Cmd": ["sh", "-c", "cat /var/lib/postgresql/data/PG_VERSION; echo ran >> /var/lib/postgresql/data/log"]}),
    );
    let o = r.run(&["run", "-v", "db-data:/var/lib/postgresql/data", "postgres"]);
    assert_eq!((o.code, o.stdout.as_str(), o.stderr.as_str()), (0, "16\n", ""), "{o:#?}");
    let data = r.t.data("db-data");
    assert_eq!(std::fs::read_to_string(data.join("PG_VERSION")).unwrap(), "16\n", "copied up from the image");
    assert_eq!(std::fs::read_to_string(data.join("log")).unwrap(), "ran\n");
    // Not empty any more: no second copy-up.
    std::fs::write(data.join("PG_VERSION"), "15\n").unwrap();
    let o = r.run(&["run", "--rm", "-v", "db-data:/var/lib/postgresql/data", "postgres"]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "15\n"));
    assert_eq!(r.volumes(), ["db-data", "logs-volume"], "the named volume covers the image's VOLUME");

    // docker run --rm -v "$PWD":/src -w /src IMAGE make test
    r.load(
        "builder:1",
        &[
            Member::Dir("usr/"),
            Member::Dir("usr/bin/"),
            Member::Exec("usr/bin/make", b"#!/bin/sh\necho \"make $*\" > made\n"),
        ],
        json!({"Env": ["PATH=/usr/bin:/bin"]}),
    );
    let src = r.t.dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    let mut c = r.t.cmd();
    c.current_dir(&src).args(["run", "--rm", "-v", &format!("{}:/src", src.display()), "-w", "/src", "builder:1"]);
    c.args(["make", "test"]);
    let o = r.t.exec(c, None);
    assert_eq!((o.code, o.stderr.as_str()), (0, ""), "{o:#?}");
    assert_eq!(std::fs::read_to_string(src.join("made")).unwrap(), "make test\n");
}

/// An image's declared VOLUME becomes an anonymous volume, labelled as Docker labels one,
/// filled with the image's content there; `--rm` removes it, without `--rm` it stays,
/// dangling. A mount on the same destination (volume, tmpfs) replaces it.
#[test]
fn an_images_volumes_are_anonymous_volumes_with_its_content() {
    let Some(r) = image_rig() else { return };
    r.load(
        "pg:1",
        &[
            Member::Dir("var/"),
            Member::Dir("var/lib/"),
            Member::Dir("var/lib/postgresql/"),
            Member::Dir("var/lib/postgresql/data/"),
            Member::File("var/lib/postgresql/data/PG_VERSION", b"16\n"),
        ],
        json!({"Volumes": {"/var/lib/postgresql/data": {}, "/scratch": {}}}),
    );
    let script = "cat /var/lib/postgresql/data/PG_VERSION; echo new > /var/lib/postgresql/data/new; ls -A /scratch";
    let o = r.run(&["run", "--rm", "pg:1", "sh", "-c", script]);
    assert_eq!((o.code, o.stdout.as_str(), o.stderr.as_str()), (0, "16\n", ""), "{o:#?}");
    assert!(r.volumes().is_empty(), "--rm removed the image's volumes: {:?}", r.volumes());

    let o = r.run(&["run", "pg:1", "sh", "-c", script]);
    assert_eq!(o.code, 0, "{o:#?}");
    let kept = r.ok(&["volume", "ls", "-q", "-f", "dangling=true"]);
    let kept: Vec<&str> = kept.lines().collect();
    assert_eq!(kept.len(), 2, "{kept:?}");
    let mut contents = Vec::new();
    for name in &kept {
        assert!(name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit()), "{name}");
        let v: Value = serde_json::from_str(&r.ok(&["volume", "inspect", name])).unwrap();
        assert_eq!(v[0]["Labels"], json!({"com.docker.volume.anonymous": ""}), "{v}");
        let mut files: Vec<String> = std::fs::read_dir(r.t.data(name))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        contents.push(files.join(","));
    }
    contents.sort();
    assert_eq!(contents, ["", "PG_VERSION,new"]);
    let image_data = r.run(&["run", "--rm", "--dry-run", "pg:1", "sh"]);
    let plan: Value = serde_json::from_str(&image_data.stdout).unwrap();
    let mounts = plan["Mounts"].as_array().unwrap();
    assert_eq!(mounts.len(), 2, "{plan}");
    assert!(mounts.iter().all(|m| m["FromImage"] == true && m["Mode"] == "" && m["Create"] == true), "{plan}");

    // A mount on the destination replaces the image's volume; the other one stays.
    for cover in [
        &["-v", "/var/lib/postgresql/data"][..],
        &["--tmpfs", "/var/lib/postgresql/data"],
        &["-v", "named:/var/lib/postgresql/data"],
    ] {
        let mut args = vec!["run", "--rm", "--dry-run"];
        args.extend(cover);
        args.extend(["pg:1", "sh"]);
        let plan: Value = serde_json::from_str(&r.ok(&args)).unwrap();
        let dests: Vec<(&str, bool)> = plan["Mounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (m["Destination"].as_str().unwrap(), m["FromImage"] == true))
            .collect();
        assert_eq!(dests, [("/scratch", true), ("/var/lib/postgresql/data", false)], "{cover:?}");
    }
}

/// Docker's rules for the image's config, case by case (moby's `merge` and
/// `CreateDaemonEnvironment`, runc's user lookup).
#[test]
fn the_image_config_is_applied_as_docker_applies_it() {
    let Some(r) = image_rig() else { return };
    let mut extra = USERS.to_vec();
    extra.push(Member::Dir("work/"));
    r.load(
        "cfg:1",
        &extra,
        json!({"Entrypoint": ["/bin/echo", "ep"], "Cmd": ["/bin/echo", "cmd"], "Env": ["A=img", "B=img", "PATH=/bin"],
               "WorkingDir": "/work/dir", "User": "app"}),
    );
    r.load("noconf:1", &[], json!({}));
    let sh = |script: &'static str| -> Vec<&'static str> { vec!["--entrypoint", "/bin/sh", "cfg:1", "-c", script] };
    let cases: Vec<(Vec<&str>, i32, &str, &str)> = vec![
        // Entrypoint + Cmd; COMMAND replaces Cmd.
        (vec!["cfg:1"], 0, "ep /bin/echo cmd\n", ""),
        (vec!["cfg:1", "x", "y"], 0, "ep x y\n", ""),
        // --entrypoint X drops the image's Cmd; COMMAND is X's arguments.
        (vec!["--entrypoint", "/bin/echo", "cfg:1"], 0, "\n", ""),
        (vec!["--entrypoint", "/bin/echo", "cfg:1", "z"], 0, "z\n", ""),
        // --entrypoint "" clears the Entrypoint and keeps the Cmd, unless COMMAND is given.
        (vec!["--entrypoint", "", "cfg:1"], 0, "cmd\n", ""),
        (vec!["--entrypoint", "", "cfg:1", "/bin/echo", "hi"], 0, "hi\n", ""),
        // Env: the image's, -e overrides by key, `-e KEY` unset here removes the image's KEY.
        (sh("echo $A $B $PATH"), 0, "img img /bin\n", ""),
        ([&["-e", "A=flag"][..], &sh("echo $A $B")].concat(), 0, "flag img\n", ""),
        ([&["-e", "B"][..], &sh("echo ${B-unset}")].concat(), 0, "unset\n", ""),
        ([&["-e", "PATH=/usr/bin:/bin"][..], &sh("echo $PATH")].concat(), 0, "/usr/bin:/bin\n", ""),
        // Docker's order: PATH, HOSTNAME, the user's entries, the image's, HOME.
        (
            vec!["-h", "box", "-e", "C=flag", "--entrypoint", "/bin/env", "cfg:1"],
            0,
            "PATH=/bin\nHOSTNAME=box\nC=flag\nA=img\nB=img\nHOME=/home/app\n",
            "",
        ),
        // WorkingDir (created if missing; -w overrides), User (-u overrides), HOME from passwd.
        (sh("pwd; id -u; id -G; echo $HOME"), 0, "/work/dir\n1000\n1000 2000\n/home/app\n", ""),
        ([&["-w", "/tmp", "-u", "0"][..], &sh("pwd; id -u; echo $HOME")].concat(), 0, "/tmp\n0\n/root\n", ""),
        ([&["-u", "nobody"][..], &sh("id -u; id -g; echo $HOME")].concat(), 0, "65534\n65534\n/nonexistent\n", ""),
        ([&["-u", "1000:2000"][..], &sh("id -u; id -G")].concat(), 0, "1000\n2000\n", ""),
        ([&["-u", "4242"][..], &sh("id -u; id -g; echo $HOME")].concat(), 0, "4242\n0\n/\n", ""),
        (vec!["-u", "nope", "cfg:1"], 125, "", "Error: unable to find user nope: no matching entries in passwd file\n"),
        // No Entrypoint, no Cmd, no COMMAND: Docker's refusal. Docker's default PATH; root.
        (vec!["noconf:1"], 125, "", "Error: No command specified\n"),
        (
            vec!["noconf:1", "sh", "-c", "echo $PATH; pwd; id -u; echo $HOME"],
            0,
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n/\n0\n/root\n",
            "",
        ),
        // The image's command is looked up in its PATH: 127 when it is not there.
        (
            vec!["noconf:1", "nosuchcommand"],
            127,
            "",
            "Error: exec: \"nosuchcommand\": executable file not found in $PATH\n",
        ),
    ];
    for (args, code, stdout, stderr) in cases {
        let mut c = r.t.cmd();
        c.env_remove("B").args(["run", "--rm"]).args(&args);
        let o = r.t.exec(c, None);
        assert_eq!((o.code, o.stdout.as_str(), o.stderr.as_str()), (code, stdout, stderr), "run {args:?}");
    }
    // --dry-run shows the image, the command and the config, and runs nothing.
    let plan: Value = serde_json::from_str(&r.ok(&["run", "--dry-run", "-e", "A=flag", "cfg:1", "x"])).unwrap();
    assert_eq!(plan["Path"], "/bin/echo");
    assert_eq!(plan["Args"], json!(["ep", "x"]));
    assert!(plan["Image"].as_str().unwrap().starts_with("sha256:"), "{plan}");
    assert_eq!(
        plan["Config"],
        json!({"User": "app", "Env": ["A=flag", "B=img", "PATH=/bin"], "Cmd": ["x"], "Image": "cfg:1", "Volumes": null,
               "WorkingDir": "/work/dir", "Entrypoint": ["/bin/echo", "ep"], "Labels": {}})
    );
    assert!(r.volumes().is_empty());
}

/// `--pull missing|always|never` against a registry: Docker's messages on stderr, the pull's
/// output after them, and what each mode fetches.
#[test]
fn pull_modes_against_a_registry() {
    let Some(r) = image_rig() else { return };
    let Some(reg) = Registry::start() else { return };
    let proxy = Proxy::start(&reg.addr);
    let spec = |word: &str| {
        ImageSpec::new(vec![(r.bb.clone(), Comp::Gzip)], json!({"Cmd": ["echo", word], "Env": ["PATH=/bin"]}))
    };
    push_image(&reg.addr, "team/app", Some("1"), &spec("first"));
    let name = format!("{}/team/app:1", proxy.addr);
    let mask = |s: &str| s.replace(&proxy.addr, "REG");
    let manifests = || proxy.gets("/manifests/1");

    // never: not in the store, Docker's error, nothing fetched.
    let o = r.run(&["run", "--rm", "--pull", "never", &name]);
    assert_eq!(
        (o.code, o.stdout.as_str(), mask(&o.stderr).as_str()),
        (125, "", "Error: No such image: REG/team/app:1\n")
    );
    assert_eq!(manifests(), 0);
    // missing (the default): pulled, with Docker's line first.
    let o = r.run(&["run", "--rm", &name]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "first\n"), "{o:#?}");
    let err = mask(&o.stderr);
    assert!(err.starts_with("Unable to find image 'REG/team/app:1' locally\n1: Pulling from team/app\n"), "{err}");
    assert!(err.ends_with("Status: Downloaded newer image for REG/team/app:1\n"), "{err}");
    assert_eq!(manifests(), 1);
    // In the store now: not fetched again.
    let o = r.run(&["run", "--rm", &name]);
    assert_eq!((o.code, o.stdout.as_str(), o.stderr.as_str()), (0, "first\n", ""));
    assert_eq!(manifests(), 1);
    // A new image under the tag: missing keeps the old one, always fetches it.
    push_image(&reg.addr, "team/app", Some("1"), &spec("second"));
    assert_eq!(r.ok(&["run", "--rm", "--pull", "missing", &name]), "first\n");
    let o = r.run(&["run", "--rm", "--pull", "always", &name]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "second\n"), "{o:#?}");
    assert!(mask(&o.stderr).ends_with("Status: Downloaded newer image for REG/team/app:1\n"), "{o:#?}");
    let o = r.run(&["run", "--rm", "--pull=always", "-q", &name]);
    assert_eq!((o.code, o.stdout.as_str(), o.stderr.as_str()), (0, "second\n", ""), "-q: no pull output");
    assert_eq!(manifests(), 3);
    // A reference the registry does not have: the pull's error, the run's status.
    let o = r.run(&["run", "--rm", &format!("{}/team/nope:1", proxy.addr)]);
    assert_eq!(o.code, 125, "{o:#?}");
    let err = mask(&o.stderr);
    assert!(err.starts_with("Unable to find image 'REG/team/nope:1' locally\nError: "), "{err}");
    // --dry-run never pulls.
    let o = r.run(&["run", "--dry-run", &format!("{}/team/other:1", proxy.addr)]);
    assert_eq!(
        (o.code, mask(&o.stderr).as_str()),
        (125, "Error: No such image: REG/team/other:1\n--dry-run never pulls: `myvol pull IMAGE` first\n")
    );
    let o = r.run(&["run", "--pull", "sometimes", &name]);
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (
            125,
            "Error: invalid pull option: 'sometimes': must be one of \"always\", \"missing\" or \"never\"\nRun 'myvol run --help' for more information\n"
        )
    );
}

/// `--mount type=image`: another image's tree, read-only, whole or one directory of it;
/// `nodev` there too.
#[test]
fn image_mounts_are_read_only_trees_of_another_image() {
    let Some(r) = image_rig() else { return };
    r.load(
        "assets:1",
        &[Member::Dir("site/"), Member::File("site/index.html", b"<h1>hi</h1>\n"), Member::Char("site/nulldev", 1, 3)],
        json!({}),
    );
    r.load("app:1", &[], json!({"Cmd": ["sh"]}));
    let o = r.run(&[
        "run",
        "--rm",
        "--mount",
        "type=image,source=assets:1,target=/srv",
        "app:1",
        "sh",
        "-c",
        "cat /srv/site/index.html; ls /srv/bin/busybox; touch /srv/x || echo ro; head -c1 /srv/site/nulldev || echo nodev",
    ]);
    assert_eq!(o.code, 0, "{o:#?}");
    assert_eq!(o.stdout, "<h1>hi</h1>\n/srv/bin/busybox\nro\nnodev\n");
    let o = r.run(&[
        "run",
        "--rm",
        "--mount",
        "type=image,src=assets:1,dst=/www,image-subpath=site",
        "app:1",
        "sh",
        "-c",
        "ls /www; echo x > /www/index.html || echo ro",
    ]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "index.html\nnulldev\nro\n"), "{o:#?}");
    // A one-layer image is mounted too.
    let o = r.run(&["run", "--rm", "--mount", "type=image,source=app:1,target=/other", "app:1", "ls", "/other/bin/sh"]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "/other/bin/sh\n"), "{o:#?}");
    let plan: Value = serde_json::from_str(&r.ok(&[
        "run",
        "--dry-run",
        "--mount",
        "type=image,source=assets:1,target=/www,image-subpath=site",
        "app:1",
    ]))
    .unwrap();
    let m = &plan["Mounts"][0];
    assert_eq!(
        (&m["Type"], &m["Name"], &m["Destination"], &m["RW"], &m["Propagation"], &m["Subpath"]),
        (&json!("image"), &json!("assets:1"), &json!("/www"), &json!(false), &json!("rprivate"), &json!("site"))
    );
    let o = r.run(&["run", "--rm", "--mount", "type=image,source=nope:1,target=/x", "app:1", "true"]);
    assert_eq!((o.code, o.stderr.as_str()), (125, "Error: No such image: nope:1\n"));
    let o = r.run(&["run", "--rm", "--mount", "type=image,source=assets:1,target=/x,image-subpath=../etc", "app:1"]);
    assert_eq!(o.code, 125, "{o:#?}");
}

/// The run holds a lease on its images for its whole life: `rmi` refuses them meanwhile,
/// and the image itself is never written, whatever the run does to its files.
#[test]
fn a_running_image_cannot_be_removed_and_is_never_modified() {
    let Some(r) = image_rig() else { return };
    r.load("busy:1", &USERS, json!({"Volumes": {"/data": {}}}));
    let layers = r.t.root.join("images/layers");
    let before = tree::snapshot(&layers);
    r.load("other:1", &[Member::File("marker", b"m\n")], json!({}));
    let out = r.t.dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let mut c = r.t.cmd();
    c.args(["run", "--rm", "-v", &format!("{}:/out", out.display()), "--mount", "type=image,src=other:1,dst=/o"])
        .args(["busy:1", "sh", "-c", "touch /out/started; while [ ! -e /out/stop ]; do sleep 0.05; done"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut run = Spawned::new(&mut c);
    wait_for_path(&out.join("started"));
    // The image has no /proc, /dev or /sys: the store's shared layer of mount points shows
    // them; Docker's init layer (/etc/hostname, hosts, resolv.conf, mtab) is the store's
    // shared one too: the run's writable layer gets only the mount points of its mounts.
    let upper = r.t.root.join("runs").join(&r.t.entries("runs")[0]).join("upper");
    let mut written: Vec<_> =
        std::fs::read_dir(&upper).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    written.sort();
    assert!(written.iter().all(|n| ["data", "o", "out"].contains(&n.as_str())), "{written:?}");
    let init = r.t.root.join("images/init/etc");
    assert_eq!(std::fs::read_link(init.join("mtab")).unwrap(), std::path::Path::new("/proc/mounts"));
    for f in ["hostname", "hosts", "resolv.conf"] {
        let md = std::fs::symlink_metadata(init.join(f)).unwrap();
        assert!(md.is_file() && md.len() == 0 && md.permissions().mode() & 0o7777 == 0o644, "{f}: {md:?}");
    }
    let id = r.ok(&["images", "-q", "--no-trunc", "busy:1"]).trim().to_owned();
    let o = r.run(&["rmi", "busy:1"]);
    assert_eq!(o.code, 1, "{o:#?}");
    assert!(o.stderr.contains("(must force) - container "), "{o:#?}");
    let o = r.run(&["rmi", &id]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("(cannot be forced) - image is being used by running container"), "{o:#?}");
    let o = r.run(&["rmi", "other:1"]);
    assert_eq!(o.code, 1, "the mounted image is leased too: {o:#?}");
    std::fs::write(out.join("stop"), "").unwrap();
    assert_eq!(run.wait(), 0);
    r.ok(&["rmi", "other:1"]);

    // A run that writes everywhere leaves the image as it was.
    let script = "echo x > /etc/passwd; rm -f /bin/ls; mkdir /new; chmod 700 /etc; echo y >> /bin/busybox; \
                  ln -s / /loop; touch /data/f; rm -rf /root; echo ok";
    let o = r.run(&["run", "--rm", "busy:1", "/bin/busybox", "sh", "-c", script]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "ok\n"), "{o:#?}");
    // (The directory of all layers changed when other:1's went.)
    let without_top = |mut t: std::collections::BTreeMap<std::path::PathBuf, tree::Entry>| {
        t.remove(std::path::Path::new(""));
        t
    };
    tree::assert_same(&without_top(before), &without_top(tree::snapshot(&layers)));
    assert!(r.t.entries("runs").is_empty(), "the run's layer is gone");
    r.ok(&["rmi", "busy:1"]);
}

/// Images that try to reach the host through their own files: an `/etc/passwd` that links
/// to a host file, a WorkingDir and a declared VOLUME through links out of the image, a
/// device node. Everything stays inside the image (links are resolved in it) and devices do
/// not open.
#[test]
fn hostile_images_cannot_touch_the_host() {
    let Some(r) = image_rig() else { return };
    let host = r.t.dir.path().join("host");
    for d in ["etc", "work", "vol"] {
        std::fs::create_dir_all(host.join(d)).unwrap();
    }
    std::fs::write(host.join("etc/passwd"), "hostonly:x:4242:4242::/hostonly:/bin/sh\n").unwrap();
    let abs = |p: &str| host.join(p).to_str().unwrap().to_owned();
    let (passwd, work, vol) = (abs("etc/passwd"), abs("work"), abs("vol"));
    let magic = format!("/proc/self/root{passwd}");

    r.load("passwd-link:1", &[Member::Dir("etc/"), Member::Symlink("etc/passwd", &passwd)], json!({}));
    let o = r.run(&["run", "--rm", "-u", "hostonly", "passwd-link:1", "id"]);
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (125, "Error: unable to find user hostonly: no matching entries in passwd file\n"),
        "the link is resolved inside the image, where it leads nowhere"
    );
    let o = r.run(&["run", "--rm", "passwd-link:1", "cat", "/etc/passwd"]);
    assert_eq!(o.code, 1, "{o:#?}");
    r.load("passwd-magic:1", &[Member::Dir("etc/"), Member::Symlink("etc/passwd", &magic)], json!({}));
    let o = r.run(&["run", "--rm", "-u", "hostonly", "passwd-magic:1", "id"]);
    assert_eq!(o.code, 125, "{o:#?}");
    assert!(!o.stdout.contains("4242"), "{o:#?}");

    // Links to host paths: resolved in the image, which has those paths too (its own), so
    // the WorkingDir and the volume are made there.
    let host_dirs: Vec<String> = {
        let mut acc = String::new();
        host.components()
            .skip(1)
            .map(|c| {
                acc.push_str(&c.as_os_str().to_string_lossy());
                acc.push('/');
                acc.clone()
            })
            .collect()
    };
    let mut in_image: Vec<Member<'_>> = host_dirs.iter().map(|d| Member::Dir(d.as_str())).collect();
    let (image_work, image_vol) =
        (format!("{}work/", host_dirs.last().unwrap()), format!("{}vol/", host_dirs.last().unwrap()));
    in_image.extend([
        Member::Dir(&image_work),
        Member::Dir(&image_vol),
        Member::Symlink("app", &work),
        Member::Symlink("data", &vol),
    ]);
    r.load("links:1", &in_image, json!({"WorkingDir": "/app/sub", "Volumes": {"/data": {}}}));
    let o = r.run(&["run", "links:1", "sh", "-c", "pwd; touch here; echo x > /data/f; ls /data"]);
    // (`pwd` prints where /app/sub resolves: the image's copy of the host's path.)
    assert_eq!((o.code, o.stdout.as_str(), o.stderr.as_str()), (0, format!("{work}/sub\nf\n").as_str(), ""), "{o:#?}");
    let kept = r.volumes();
    assert_eq!(kept.len(), 1);
    assert_eq!(std::fs::read_to_string(r.t.data(&kept[0]).join("f")).unwrap(), "x\n", "the file is in the volume");
    // Links that lead nowhere in the image: refused, nothing made anywhere.
    r.load("dangling:1", &[Member::Symlink("app", &work)], json!({"WorkingDir": "/app/sub"}));
    let o = r.run(&["run", "--rm", "dangling:1", "touch", "here"]);
    assert_eq!(o.code, 125, "{o:#?}");
    // runc's words (`os.MkdirAll`), as for any working directory that cannot be made.
    assert!(o.stderr.starts_with("Error: mkdir /app/sub: "), "{o:#?}");
    r.load("dangling-volume:1", &[Member::Symlink("data", &vol)], json!({"Volumes": {"/data": {}}}));
    let o = r.run(&["run", "--rm", "dangling-volume:1", "touch", "/data/f"]);
    assert_eq!(o.code, 125, "{o:#?}");

    r.load("device:1", &[Member::Char("nulldev", 1, 3)], json!({}));
    let o = r.run(&["run", "--rm", "device:1", "sh", "-c", "echo x > /nulldev || echo denied"]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "denied\n"), "nodev: {o:#?}");

    for d in ["work", "vol"] {
        assert_eq!(std::fs::read_dir(host.join(d)).unwrap().count(), 0, "host {d} was written");
    }
    assert_eq!(std::fs::read_to_string(&passwd).unwrap(), "hostonly:x:4242:4242::/hostonly:/bin/sh\n");
}

/// A directory argument keeps running a rootfs directory: `/…`, `./…`, `../…`, and
/// `--rootfs DIR` for any name; a bare word is an image.
#[test]
fn directories_are_told_from_images() {
    let Some(r) = crate::env::rig() else { return };
    let rootfs = &r.rootfs;
    std::fs::create_dir(rootfs.join("marker-dir")).unwrap();
    assert_eq!(rootfs.parent(), Some(r.t.dir.path()));
    let here = |args: &[&str]| {
        let mut c = r.t.cmd();
        c.current_dir(r.t.dir.path()).arg("run").arg("--rm").args(args);
        r.t.exec(c, None)
    };
    for args in [
        vec!["./rootfs", "ls", "/marker-dir"],
        vec![rootfs.to_str().unwrap(), "ls", "/marker-dir"],
        vec!["--rootfs", "rootfs", "ls", "/marker-dir"],
        vec!["--rootfs=./rootfs"],
    ] {
        let o = here(&args);
        assert_eq!((o.code, o.stderr.as_str()), (0, ""), "{args:?}: {o:#?}");
    }
    // `rootfs` alone is an image name: none such in the store, and the registry is not
    // asked (--pull never).
    let o = here(&["--pull", "never", "rootfs", "true"]);
    assert_eq!((o.code, o.stderr.as_str()), (125, "Error: No such image: rootfs:latest\n"));
}

/// A rootless store: layers unpacked by the user (whiteouts as 0/0 devices, opaque
/// directories as `user.overlay.opaque`), stacked with `userxattr` in the run's user
/// namespace.
#[test]
fn rootless_runs_of_an_image() {
    let Some(r) = image_rig() else { return };
    let Some(user) = TempUser::create(&[]) else { return };
    let l2 = layer(&[
        Member::Dir("etc/"),
        Member::File("etc/.wh.group", b""),
        Member::Dir("opq/"),
        Member::File("opq/.wh..wh..opq", b""),
        Member::File("opq/new", b"new\n"),
    ]);
    let l1 = layer(&[
        Member::Dir("opq/"),
        Member::File("opq/old", b"old\n"),
        Member::Dir("data/"),
        Member::File("data/seed", b"seed\n"),
    ]);
    let spec = ImageSpec::new(
        vec![(r.bb.clone(), Comp::Plain), (l1, Comp::Plain), (l2, Comp::Plain)],
        json!({"Volumes": {"/data": {}}, "Cmd": ["sh", "-c", "id -u; ls /opq; ls /etc/group 2>&1 | grep -c 'No such'; cat /data/seed"]}),
    );
    let dir = user.dir("myvol-rootless-");
    std::fs::write(dir.path().join("image.tar"), save_archive(&spec, &["rl:1"])).unwrap();
    dir.give();
    let run = |args: &[&str]| dir.myvol(args);
    let (code, _, err) = run(&["load", "-q", "-i", "image.tar"]);
    assert_eq!((code, err.as_str()), (0, ""));
    let (code, out, err) = run(&["run", "--rm", "rl:1"]);
    assert_eq!((code, out.as_str(), err.as_str()), (0, "0\nnew\n1\nseed\n", ""));
    let (code, out, _) = run(&["volume", "ls", "-q"]);
    assert_eq!((code, out.as_str()), (0, ""), "--rm removed the image's volume");
    // An image's user outside what the run's user namespace maps is refused before the run,
    // and its volume is not made.
    let past = user.sub_ids().map_or(1, |((_, u), (_, g))| u.min(g) + 1);
    let (code, out, err) = run(&["run", "--rm", "-u", &format!("{past}:{past}"), "rl:1"]);
    assert_eq!((code, out.as_str()), (125, ""), "{err}");
    assert!(err.starts_with(&format!("Error: cannot run as {past}:{past}: insufficient UIDs or GIDs")), "{err}");
    assert_eq!(run(&["volume", "ls", "-q"]).1, "");
}

/// podman's refusal of `U` on a system directory names the ids the image's user will have
/// (looked up in the image's layers), not root's; `-u` given as ids, or a user the layers do
/// not have, is named as given.
#[test]
fn a_refused_chown_names_the_image_users_ids() {
    let Some(r) = image_rig() else { return };
    r.load("chown:1", &USERS, json!({"User": "app"}));
    let refused = |ids: &str| {
        format!("Error: chowning host path \"/tmp\" is not allowed. You can manually `chown -R {ids} /tmp`\n")
    };
    let cases: [(&[&str], String); 4] = [
        (&["-v", "/tmp:/t:U", "chown:1", "true"], refused("1000:1000")),
        (&["-u", "app:extra", "-v", "/tmp:/t:U", "chown:1", "true"], refused("1000:2000")),
        (&["-u", "7:8", "-v", "/tmp:/t:U", "chown:1", "true"], refused("7:8")),
        (&["-u", "nobody", "-v", "/tmp:/t:U", "chown:1", "true"], refused("65534:65534")),
    ];
    for (args, want) in cases {
        let o = r.run(&[&["run"][..], args].concat());
        assert_eq!((o.code, o.stderr.as_str()), (125, want.as_str()), "{args:?}");
    }
}

/// `-l` and `--label-file` are the run's labels: `--dry-run` shows them as `Config.Labels`;
/// Docker's refusals for bad ones.
#[test]
fn run_labels_are_the_runs_config_labels() {
    let Some(r) = image_rig() else { return };
    r.load("lbl:1", &[], json!({"Cmd": ["true"]}));
    let file = r.t.dir.path().join("labels");
    std::fs::write(&file, "# labels\na=file\nb=file\nonly-key\n").unwrap();
    let file = file.to_str().unwrap();
    let o = r.ok(&["run", "--dry-run", "--label-file", file, "-l", "b=flag", "--label", "c", "lbl:1"]);
    let v: Value = serde_json::from_str(&o).unwrap();
    assert_eq!(v["Config"]["Labels"], json!({"a": "file", "b": "flag", "c": ""}));
    let o = r.ok(&["run", "--dry-run", "lbl:1"]);
    assert_eq!(serde_json::from_str::<Value>(&o).unwrap()["Config"]["Labels"], json!({}));
    let o = r.run(&["run", "-l", "=x", "lbl:1"]);
    assert_eq!(o.code, 125, "{o:#?}");
    assert!(
        o.stderr
            .starts_with("Error: invalid argument \"=x\" for \"-l, --label\" flag: invalid label '=x': empty name\n"),
        "{o:#?}"
    );
    let o = r.run(&["run", "--label-file", "/nonexistent/labels", "lbl:1"]);
    assert_eq!((o.code, o.stderr.as_str()), (125, "Error: open /nonexistent/labels: no such file or directory\n"));
    let huge = format!("k={}", "x".repeat(70_000));
    let o = r.run(&["run", "-l", &huge, "-v", "never-made:/d", "lbl:1"]);
    assert_eq!(o.code, 125, "{o:#?}");
    assert!(
        o.stderr.starts_with("Error: labels too large: they take 70008 bytes, more than the limit of 65536"),
        "{o:#?}"
    );
    assert!(r.volumes().is_empty(), "a refused run created {:?}", r.volumes());
}
