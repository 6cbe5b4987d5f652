//! `myvol compose run / up / down`, for real: an image built here from a static busybox
//! (loaded from a `docker save` archive), the seed compose files, every long-syntax key, `up`
//! with services sharing a volume and stopped by Ctrl-C, exit-code propagation, and what a
//! daemon-less myvol refuses.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::{Value, json};

use crate::env::{Out, Spawned, TestEnv, wait_for_path};
use crate::registry::{Comp, ImageSpec, Member, busybox_layer, layer, myvol, save_archive};

struct Rig {
    t: TestEnv,
    bb: Vec<u8>,
}

#[track_caller]
fn rig() -> Option<Rig> {
    if !crate::env::require_root("compose runs need mount, PID and UTS namespaces") {
        return None;
    }
    let Some(bb) = busybox_layer() else {
        crate::env::skipped("needs a static busybox at /bin/busybox (Debian package busybox-static)");
        return None;
    };
    Some(Rig { t: TestEnv::new(), bb })
}

impl Rig {
    /// A busybox image with `extra` files and `config`, loaded as `tag`.
    fn load(&self, tag: &str, extra: &[Member<'_>], config: Value) {
        let mut layers = vec![(self.bb.clone(), Comp::Plain)];
        if !extra.is_empty() {
            layers.push((layer(extra), Comp::Plain));
        }
        let archive = self.t.dir.path().join("image.tar");
        std::fs::write(&archive, save_archive(&ImageSpec::new(layers, config), &[tag])).unwrap();
        let o = self.run(&["load", "-q", "-i", archive.to_str().unwrap()]);
        assert_eq!(o.code, 0, "load {tag}: {o:#?}");
    }

    /// A project directory `app/` holding `compose.yaml`.
    fn project(&self, yaml: &str) -> PathBuf {
        let dir = self.t.dir.path().join("app");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("compose.yaml"), yaml).unwrap();
        dir.join("compose.yaml")
    }

    fn run(&self, args: &[&str]) -> Out {
        myvol(&self.t, args, None)
    }

    fn compose(&self, args: &[&str]) -> Out {
        let file = self.t.dir.path().join("app/compose.yaml");
        let mut all = vec!["compose", "-f", file.to_str().unwrap()];
        all.extend_from_slice(args);
        self.run(&all)
    }

    #[track_caller]
    fn compose_ok(&self, args: &[&str]) -> Out {
        let o = self.compose(args);
        assert_eq!(o.code, 0, "compose {}: {o:#?}", args.join(" "));
        o
    }

    fn volumes(&self, filter: &[&str]) -> Vec<String> {
        let mut args = vec!["volume", "ls", "-q"];
        args.extend_from_slice(filter);
        self.run(&args).stdout.lines().map(str::to_owned).collect()
    }

    /// `myvol compose -f app/compose.yaml ARGS` started in the background, stdout and stderr
    /// to files.
    fn spawn_compose(&self, args: &[&str]) -> (Spawned, PathBuf, PathBuf) {
        let file = self.t.dir.path().join("app/compose.yaml");
        let (out, err) = (self.t.dir.path().join("up.out"), self.t.dir.path().join("up.err"));
        let mut c = self.t.cmd();
        c.args(["compose", "-f", file.to_str().unwrap()]).args(args);
        c.stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap());
        (Spawned::new(&mut c), out, err)
    }
}

/// The seed's app: appends a line to its log directory, says so.
fn backend_app(r: &Rig) {
    r.load(
        "backend-app:latest",
        &[Member::Dir("app/")],
        json!({"WorkingDir": "/app", "Cmd": ["sh", "-c", "echo started >> /app/logs/app.log; echo logged"]}),
    );
}

fn seed(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/compose/cases").join(name).join("compose.yaml");
    std::fs::read_to_string(p).unwrap()
}

/// Seed (a), verbatim but for the host path, which is a private temp dir (the seed names
/// `/host/logs` literally, with no variable to point elsewhere): the service's bind mount
/// writes to the host path, made by `run` as the short syntax makes it.
#[test]
fn seed_bind_mount_writes_to_the_host_path() {
    let Some(r) = rig() else { return };
    backend_app(&r);
    let host = r.t.dir.path().join("host/logs");
    let yaml = seed("seed-bind").replace("/host/logs", host.to_str().unwrap());
    assert_ne!(yaml, seed("seed-bind"));
    r.project(&yaml);
    let o = r.compose_ok(&["run", "--rm", "backend"]);
    assert_eq!(o.stdout, "logged\n");
    r.compose_ok(&["run", "--rm", "backend"]);
    assert_eq!(std::fs::read_to_string(host.join("app.log")).unwrap(), "started\nstarted\n");
    assert!(r.volumes(&[]).is_empty(), "no volume: {:?}", r.volumes(&[]));
}

/// Seed (b), verbatim: the named volume is made with Compose's labels, persists across
/// `run`s and `up`s, and `down -v` removes it.
#[test]
fn seed_named_volume_persists_across_runs_and_ups_and_down_removes_it() {
    let Some(r) = rig() else { return };
    backend_app(&r);
    r.project(&seed("seed-named"));
    let o = r.compose_ok(&["run", "--rm", "backend"]);
    assert_eq!(o.stdout, "logged\n");
    assert_eq!(o.stderr, " Volume app_logs-volume  Creating\n Volume app_logs-volume  Created\n");
    let o = r.compose_ok(&["run", "backend"]);
    assert_eq!((o.stdout.as_str(), o.stderr.as_str()), ("logged\n", ""), "the volume is there already");
    let o = r.compose_ok(&["up"]);
    assert_eq!(o.stdout, "Attaching to backend-1\nbackend-1  | logged\n\r\x1b[Kbackend-1 exited with code 0\n");
    let log = r.t.data("app_logs-volume").join("app.log");
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "started\nstarted\nstarted\n");
    // The cron recipe's selection: the project's volumes, by label.
    assert_eq!(r.volumes(&["-f", "label=com.docker.compose.project=app"]), ["app_logs-volume"]);
    let inspect = r.run(&["volume", "inspect", "-f", "{{json .Labels}}", "app_logs-volume"]);
    assert!(inspect.stdout.contains("\"com.docker.compose.volume\":\"logs-volume\""), "{inspect:#?}");

    let o = r.compose_ok(&["down", "-v"]);
    assert_eq!(o.stderr, " Volume app_logs-volume  Removing\n Volume app_logs-volume  Removed\n");
    assert!(r.volumes(&[]).is_empty());
    // Again: nothing left, nothing said.
    let o = r.compose_ok(&["down", "-v"]);
    assert_eq!((o.stdout.as_str(), o.stderr.as_str()), ("", ""));
}

/// Every key of the long syntax (and the service keys a run takes), end to end.
#[test]
fn every_long_syntax_key_reaches_the_run() {
    let Some(r) = rig() else { return };
    r.load(
        "backend-app:latest",
        &[Member::Dir("app/"), Member::Dir("conf/"), Member::File("conf/greeting", b"hello from the image\n")],
        json!({"Cmd": ["true"]}),
    );
    let dir = r.project("");
    std::fs::write(dir.parent().unwrap().join("app.env"), "FROM_FILE=f\n").unwrap();
    let script = [
        "id -u",
        "pwd",
        "hostname",
        "echo $$GREETING $$FROM_FILE",
        "touch /rootfs-test 2>/dev/null || echo root-ro",
        "ls /sys/class/net",
        "grep ' /cache ' /proc/mounts | grep -o 'size=[0-9]*k,mode=[0-7]*'",
        "cat /img/greeting",
        "touch /img/x 2>/dev/null || echo img-ro",
        "cat /sub/file",
        "test -d /made && echo made",
        "touch /ro-bind/x 2>/dev/null || echo bind-ro",
    ]
    .join("; ");
    std::fs::create_dir_all(dir.parent().unwrap().join("ro")).unwrap();
    let yaml = format!(
        r#"services:
  prep:
    image: backend-app
    command: ["sh", "-c", "mkdir -p /data/sub && echo in-subpath > /data/sub/file"]
    volumes:
      - data:/data
  check:
    image: backend-app
    entrypoint: ["sh", "-c"]
    command: ["{script}"]
    environment:
      GREETING: hi
    env_file: app.env
    working_dir: /app
    user: "1000"
    hostname: svc-host
    read_only: true
    network_mode: none
    volumes:
      - type: bind
        source: ./made
        target: /made
        bind:
          create_host_path: true
          propagation: rprivate
      - type: bind
        source: ./ro
        target: /ro-bind
        read_only: true
      - type: volume
        source: data
        target: /sub
        volume:
          nocopy: true
          subpath: sub
      - type: tmpfs
        target: /cache
        tmpfs:
          size: 1m
          mode: 0700
      - type: image
        source: backend-app
        target: /img
        image:
          subpath: conf
  reader:
    image: backend-app
    command: ["sh", "-c", "cat /data/sub/file; touch /data/x 2>/dev/null || echo from-ro"]
    volumes_from:
      - prep:ro
volumes:
  data: {{}}
"#
    );
    std::fs::write(&dir, &yaml).unwrap();
    r.compose_ok(&["run", "--rm", "prep"]);
    let o = r.compose(&["run", "--rm", "check"]);
    let made = dir.parent().unwrap().join("made");
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (
            0,
            "1000\n/app\nsvc-host\nhi f\nroot-ro\nlo\nsize=1024k,mode=700\nhello from the image\nimg-ro\nin-subpath\nmade\nbind-ro\n"
        ),
        "{o:#?}"
    );
    assert!(made.is_dir(), "create_host_path made the bind source");
    // `propagation` reaches the run: rslave on a source under a private mount gets Docker's
    // start check (the tests' temp dirs are not on a shared or slave mount).
    std::fs::write(&dir, yaml.replace("propagation: rprivate", "propagation: rslave")).unwrap();
    let o = r.compose(&["run", "--rm", "check"]);
    assert_eq!(o.code, 1, "{o:#?}");
    assert!(o.stderr.contains("/made is mounted on ") && o.stderr.contains("not a shared or slave mount"), "{o:#?}");
    std::fs::write(&dir, &yaml).unwrap();
    let o = r.compose(&["run", "--rm", "reader"]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "in-subpath\nfrom-ro\n"), "{o:#?}");
    // `compose run`'s own overrides.
    let o = r.compose(&[
        "run",
        "--rm",
        "-e",
        "GREETING=override",
        "-w",
        "/",
        "-u",
        "0",
        "check",
        "echo $GREETING; pwd; id -u",
    ]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "override\n/\n0\n"), "{o:#?}");
    let o = r.compose(&["run", "--rm", "--entrypoint", "echo", "prep", "a", "b"]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "a b\n"), "{o:#?}");
}

/// The service's status is `run`'s; Compose's own failures are 1.
#[test]
fn run_exits_with_the_service_status() {
    let Some(r) = rig() else { return };
    backend_app(&r);
    r.project("services:\n  backend:\n    image: backend-app\n    volumes: [/anon]\n");
    assert_eq!(r.compose(&["run", "--rm", "backend", "sh", "-c", "exit 7"]).code, 7);
    let o = r.compose(&["run", "--rm", "nope"]);
    assert_eq!((o.code, o.stderr.as_str()), (1, "Error: no such service: nope\n"));
    let o = r.compose(&["run", "--rm", "backend", "no-such-program"]);
    assert_eq!(o.code, 1, "{o:#?}");
    assert!(o.stderr.starts_with("Error: "), "{o:#?}");
    assert!(r.volumes(&[]).is_empty(), "--rm removed the anonymous volumes");
    // Without --rm the anonymous volume stays, labelled with the project; down -v removes it.
    r.compose_ok(&["run", "backend", "true"]);
    let left = r.volumes(&["-f", "label=com.docker.compose.service=backend"]);
    assert_eq!(left.len(), 1, "{left:?}");
    let o = r.compose_ok(&["down", "-v"]);
    assert_eq!(o.stderr, format!(" Volume {0}  Removing\n Volume {0}  Removed\n", left[0]));
    assert!(r.volumes(&[]).is_empty());
}

/// A service that reports `ready` into the shared volume, then waits for SIGTERM and exits
/// with `code`.
fn waiter(name: &str, code: u8) -> String {
    format!(
        "  {name}:\n    image: backend-app\n    volumes: [shared:/s]\n    command: [\"sh\", \"-c\", \"trap 'echo {name} stopping; exit {code}' TERM; echo {name} up; touch /s/{name}; while true; do sleep 0.05; done\"]\n"
    )
}

/// `up` with two services sharing a volume; Ctrl-C stops both, gracefully, and leaves
/// nothing running.
#[test]
fn up_runs_services_concurrently_and_ctrl_c_stops_them_all() {
    let Some(r) = rig() else { return };
    backend_app(&r);
    r.project(&format!("services:\n{}{}volumes:\n  shared: {{}}\n", waiter("alpha", 0), waiter("b", 0)));
    let (mut up, out, err) = r.spawn_compose(&["up"]);
    let data = r.t.data("app_shared");
    wait_for_path(&data.join("alpha"));
    wait_for_path(&data.join("b"));
    // Both running, the volume in use by both.
    assert_eq!(r.run(&["volume", "rm", "app_shared"]).code, 1, "in use while up runs");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(up.id() as i32), nix::sys::signal::Signal::SIGINT).unwrap();
    assert_eq!(up.wait(), 130);
    let stdout = std::fs::read_to_string(&out).unwrap();
    let stderr = std::fs::read_to_string(&err).unwrap();
    for line in [
        "Attaching to alpha-1, b-1\n",
        "alpha-1  | alpha up\n",
        "b-1      | b up\n",
        "Gracefully Stopping... press Ctrl+C again to force\n",
        "alpha-1  | alpha stopping\n",
        "b-1      | b stopping\n",
        "\r\x1b[Kalpha-1 exited with code 0\n",
        "\r\x1b[Kb-1 exited with code 0\n",
    ] {
        assert!(stdout.contains(line), "{line:?} missing from {stdout:?} (stderr {stderr:?})");
    }
    // No leftovers: no run, no lease.
    r.run(&["volume", "rm", "app_shared"]).ok();
    assert!(r.t.entries("runs").is_empty(), "{:?}", r.t.entries("runs"));
}

/// `--abort-on-container-exit` stops the rest when one exits and exits with its status;
/// `--exit-code-from S` exits with S's.
#[test]
fn up_abort_on_exit_and_exit_code_from() {
    let Some(r) = rig() else { return };
    backend_app(&r);
    let quick = "  quick:\n    image: backend-app\n    volumes: [shared:/s]\n    command: [\"sh\", \"-c\", \"until [ -e /s/slow ]; do sleep 0.05; done; exit 3\"]\n";
    r.project(&format!("services:\n{quick}{}volumes:\n  shared: {{}}\n", waiter("slow", 7)));
    let o = r.compose(&["up", "--abort-on-container-exit"]);
    assert_eq!(o.code, 3, "{o:#?}");
    assert!(o.stderr.contains("Aborting on container exit...\n"), "{o:#?}");
    assert!(o.stdout.contains("slow-1   | slow stopping\n"), "{o:#?}");
    assert!(o.stdout.contains("\r\x1b[Kquick-1 exited with code 3\n"), "{o:#?}");
    assert!(o.stdout.contains("\r\x1b[Kslow-1 exited with code 7\n"), "{o:#?}");
    std::fs::remove_file(r.t.data("app_shared").join("slow")).unwrap();
    let o = r.compose(&["up", "--exit-code-from", "slow"]);
    assert_eq!(o.code, 7, "{o:#?}");
    let o = r.compose(&["up", "--no-log-prefix", "--exit-code-from", "quick", "quick", "slow"]);
    assert_eq!(o.code, 3, "{o:#?}");
    assert!(o.stdout.contains("\nslow stopping\n"), "{o:#?}");
    let o = r.compose(&["up", "--exit-code-from", "nope"]);
    assert_eq!((o.code, o.stderr.as_str()), (1, "Error: no such service: nope\n"));
}

/// What needs a daemon is refused with one line, exit 1, before anything is made.
#[test]
fn detached_and_daemon_commands_are_refused() {
    let t = TestEnv::new();
    let dir = t.dir.path().join("app");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("compose.yaml"), seed("seed-named")).unwrap();
    let f = dir.join("compose.yaml");
    let f = f.to_str().unwrap();
    for args in [["up", "-d"], ["up", "--detach"]] {
        let o = t.run(&[&["compose", "-f", f][..], &args[..]].concat());
        assert_eq!(o.code, 1, "{o:#?}");
        assert_eq!(o.stderr.lines().count(), 1, "{o:#?}");
        assert!(o.stderr.starts_with("Error: compose up --detach: myvol has no daemon"), "{o:#?}");
    }
    for verb in ["ps", "logs", "stop", "exec"] {
        let o = t.run(&["compose", "-f", f, verb]);
        assert_eq!(o.code, 1, "{o:#?}");
        assert!(o.stderr.starts_with(&format!("Error: compose {verb}: myvol has no daemon")), "{o:#?}");
    }
    assert!(!t.root.join("volumes").exists() || t.entries("volumes").is_empty(), "nothing made");
}

/// A service's run carries Compose's container labels and the service's own, and its volume
/// lease records them: `volume rm` names the project and service in its hint, `{{json
/// .Users}}` shows the labels, and hostile label text reaches the terminal escaped.
#[test]
fn a_services_lease_names_its_project_and_service() {
    let Some(r) = rig() else { return };
    backend_app(&r);
    let service = waiter("web", 0).replace(
        "    volumes: [shared:/s]\n",
        "    volumes: [shared:/s]\n    labels: {tier: \"front\\x1b]0;pwned\\x07\", com.docker.compose.service: not-this}\n",
    );
    r.project(&format!("services:\n{service}volumes:\n  shared: {{}}\n"));
    let (mut up, _out, _err) = r.spawn_compose(&["up"]);
    wait_for_path(&r.t.data("app_shared").join("web"));

    let o = r.run(&["volume", "rm", "app_shared"]);
    assert_eq!(o.code, 1, "{o:#?}");
    let hint = o.stderr.lines().find(|l| l.starts_with("Used by ")).unwrap_or_else(|| panic!("{o:#?}"));
    assert!(hint.contains(", compose project app, service web) since "), "{hint}");
    assert!(r.t.data("app_shared").join("web").exists(), "the refused rm left the volume as it was");

    let o = r.run(&["volume", "inspect", "-f", "{{json .Users}}", "app_shared"]);
    assert_eq!(o.code, 0, "{o:#?}");
    let users: Value = serde_json::from_str(&o.stdout).unwrap();
    let labels = &users[0]["Labels"];
    assert_eq!(labels["com.docker.compose.project"], "app");
    assert_eq!(labels["com.docker.compose.service"], "web", "Compose's label wins over the service's");
    assert_eq!(labels["com.docker.compose.oneoff"], "False");
    assert_eq!(labels["com.docker.compose.version"], myvol::compose::COMPOSE_VERSION);
    let dir = r.t.dir.path().join("app");
    assert_eq!(labels["com.docker.compose.project.working_dir"], dir.to_str().unwrap());
    assert_eq!(labels["com.docker.compose.project.config_files"], dir.join("compose.yaml").to_str().unwrap());
    assert_eq!(labels["tier"], "front\u{1b}]0;pwned\u{7}", "JSON carries the text, escaped as JSON");
    assert!(!o.stdout.contains('\u{1b}'), "raw escape in {:?}", o.stdout);
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(up.id() as i32), nix::sys::signal::Signal::SIGINT).unwrap();
    assert_eq!(up.wait(), 130);

    // A plain `myvol run` that claims a hostile service name: the hint escapes it.
    let mut c = r.t.cmd();
    c.args(["run", "-l", "com.docker.compose.project=p", "-l", "com.docker.compose.service=w\x1b]0;pwned\x07\u{202e}"]);
    c.args(["-v", "app_shared:/s", "backend-app", "sh", "-c", "touch /s/evil; while true; do sleep 0.05; done"]);
    let _run = crate::env::Spawned::new(c.stdin(Stdio::null()).stdout(Stdio::null()));
    wait_for_path(&r.t.data("app_shared").join("evil"));
    let o = r.run(&["volume", "rm", "app_shared"]);
    assert_eq!(o.code, 1, "{o:#?}");
    assert!(o.stderr.contains("compose project p, service w\\x1b]0;pwned\\x07\\u{202e}) since "), "{o:#?}");
    assert!(!o.stderr.contains(['\x1b', '\x07', '\u{202e}']), "{o:#?}");
    drop(_run);
    assert_eq!(r.run(&["volume", "rm", "app_shared"]).code, 0, "released when the runs end");
}

/// A service's anonymous volume outlives its `up`, as the volume of the container Compose
/// keeps does: the next `up` mounts it again (by the target recorded on it), `up -V` makes a
/// new one, `compose run` always makes its own, and `down -v` removes them all.
#[test]
fn up_keeps_a_services_anonymous_volumes() {
    let Some(r) = rig() else { return };
    backend_app(&r);
    r.project(
        "services:\n  web:\n    image: backend-app\n    volumes: [/anon]\n    command: [sh, -c, 'echo x >> /anon/n; wc -l < /anon/n']\n",
    );
    let said = |o: &Out| o.stdout.lines().find_map(|l| l.strip_prefix("web-1  | ").map(str::to_owned));
    assert_eq!(said(&r.compose_ok(&["up"])).as_deref(), Some("1"));
    assert_eq!(said(&r.compose_ok(&["up"])).as_deref(), Some("2"), "the second up finds the first's data");
    let kept = r.volumes(&["-f", "label=myvol.compose.target=/anon"]);
    assert_eq!(kept.len(), 1, "{kept:?}");
    // A one-off run gets a new volume (and keeps it, without --rm), which `up` does not take.
    assert_eq!(r.compose_ok(&["run", "web"]).stdout, "1\n");
    assert_eq!(said(&r.compose_ok(&["up"])).as_deref(), Some("3"));
    assert_eq!(said(&r.compose_ok(&["up", "-V"])).as_deref(), Some("1"), "-V: a new volume");
    assert_eq!(said(&r.compose_ok(&["up"])).as_deref(), Some("2"), "then that one is kept");
    assert_eq!(r.volumes(&["-f", "label=com.docker.volume.anonymous"]).len(), 3);
    r.compose_ok(&["down", "-v"]);
    assert!(r.volumes(&[]).is_empty(), "{:?}", r.volumes(&[]));
}

/// Runs recorded with Docker Compose on a real daemon (tests/fixtures/compose/runs, made by
/// record-run.sh), replayed in order on one store with the same busybox image: the same exit
/// codes and the same stdout (the services' output, which shows what their volumes held).
/// Compose's stderr is its containers' and networks' progress, which myvol has not.
#[test]
fn recorded_runs_replay() {
    let Some(r) = rig() else { return };
    let runs = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/compose/runs");
    r.load("rec-busybox:latest", &[], json!({}));
    let names = crate::env::case_dirs(&runs);
    assert!(!names.is_empty(), "the run fixtures are missing");
    let mut failures = Vec::new();
    for name in &names {
        let rec: Value =
            serde_json::from_str(&std::fs::read_to_string(runs.join(format!("{name}.json"))).unwrap()).unwrap();
        r.project(&std::fs::read_to_string(runs.join(name).join("compose.yaml")).unwrap());
        for run in rec.as_array().unwrap() {
            let args: Vec<&str> = run["args"].as_str().unwrap().split_whitespace().collect();
            let o = r.compose(&args);
            let want = run["stdout"].as_str().unwrap();
            if o.code as i64 != run["code"].as_i64().unwrap() || o.stdout != want {
                failures.push(format!(
                    "{name}: compose {}: exit {} (Compose {}), stdout {:?}, Compose printed {want:?}; stderr {:?}",
                    args.join(" "),
                    o.code,
                    run["code"],
                    o.stdout,
                    o.stderr
                ));
            }
        }
        r.compose_ok(&["down", "-v"]);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
