//! `myvol compose`: the recordings of Docker Compose v2.40.3 (tests/fixtures/compose, made by
//! its record.sh) replayed through the real binary, and the volume side of `up` on a private
//! store.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::env::{Out, TestEnv};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/compose/cases")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let t = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &t);
        } else {
            std::fs::copy(e.path(), &t).unwrap();
        }
    }
}

/// Go's `strconv.Unquote` of a logrus `msg="…"` field.
fn go_unquote(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// Compose's stderr as myvol prints the same things: errors as `Error: …` lines, logrus
/// warnings (`time="…" level=warning msg="…"`) in logrus's terminal form `WARN[0000] …`.
fn expected_stderr(compose: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    for line in compose.lines() {
        if line.starts_with(" Volume ") {
            // Compose's progress lines, printed as they are.
            lines.push(line.to_owned());
        } else if let Some(rest) = line.strip_prefix("time=\"") {
            let msg = rest.split_once(" msg=").map(|(_, m)| m).unwrap_or("");
            let msg = msg.strip_prefix('"').and_then(|m| m.strip_suffix('"')).map(go_unquote).unwrap_or(msg.to_owned());
            lines.push(format!("WARN[0000] {msg}"));
        } else {
            lines.push(format!("Error: {line}"));
        }
    }
    while lines.last().is_some_and(|l| l == "Error: ") {
        lines.pop();
    }
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// Outputs whose order Compose takes from a Go map (so varies run to run): compared sorted.
fn unordered(args: &str) -> bool {
    args.contains("--services") || args.contains("--volumes")
}

fn sorted_lines(s: &str) -> Vec<&str> {
    let mut v: Vec<&str> = s.lines().collect();
    v.sort_unstable();
    v
}

/// The volumes a case's `volumes.json` says exist (`{"name": {labels…}}`), made in `t`'s
/// store, each holding a marker file; the map read.
fn make_volumes(t: &TestEnv, dir: &Path) -> serde_json::Map<String, serde_json::Value> {
    let before: serde_json::Map<String, serde_json::Value> = std::fs::read_to_string(dir.join("volumes.json"))
        .map(|s| serde_json::from_str(&s).unwrap())
        .unwrap_or_default();
    for (vol, labels) in &before {
        let mut args = vec!["volume".to_owned(), "create".to_owned()];
        for (k, v) in labels.as_object().unwrap() {
            args.push("--label".into());
            args.push(format!("{k}={}", v.as_str().unwrap()));
        }
        args.push(vol.clone());
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        t.ok(&refs);
        std::fs::write(t.data(vol).join("marker"), "kept").unwrap();
    }
    before
}

/// The volume names a recording's `DELETE /volumes/NAME` requests removed.
fn deleted_volumes(requests: &serde_json::Value) -> Vec<String> {
    let requests = requests.as_array().map(Vec::as_slice).unwrap_or_default();
    let deletes = requests.iter().filter_map(|r| r.as_str()?.strip_prefix("DELETE "));
    deletes.map(|path| path.split('/').next_back().unwrap().split('?').next().unwrap().to_owned()).collect()
}

fn run_case(name: &str) -> Vec<String> {
    let dir = fixtures().join(name);
    let recorded: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join(format!("{name}.json"))).unwrap()).unwrap();
    let mut failures = Vec::new();
    for run in recorded.as_array().unwrap() {
        let args = run["args"].as_str().unwrap();
        let t = TestEnv::new();
        let work = t.dir.path().join("cases").join(name);
        copy_dir(&dir, &work);
        let before = make_volumes(&t, &dir);
        let mut c: Command = t.cmd();
        c.env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("HOME", "/home/user")
            .env("MYVOL_ROOT", &t.root)
            .env("MYVOL_PLUGIN_PATH", t.dir.path().join("plugins"));
        if let Ok(env) = std::fs::read_to_string(dir.join("env")) {
            for l in env.lines().filter(|l| !l.is_empty() && !l.starts_with('#')) {
                let (k, v) = l.split_once('=').unwrap();
                c.env(k, v);
            }
        }
        let cwd = match std::fs::read_to_string(dir.join("cwd")) {
            Ok(rel) => work.join(rel.trim()),
            Err(_) => work.clone(),
        };
        c.current_dir(&cwd).arg("compose").args(args.split_whitespace());
        let stdin = std::fs::read_to_string(dir.join("stdin")).ok();
        let o: Out = t.exec(c, stdin.as_deref());
        let parent = work.parent().unwrap().to_str().unwrap().to_owned();
        let fix = |s: &str| s.replace(work.to_str().unwrap(), "@DIR@").replace(&parent, "@PARENT@");
        let (stdout, stderr) = (fix(&o.stdout), fix(&o.stderr));
        let want_code = run["code"].as_i64().unwrap() as i32;
        let want_stdout = run["stdout"].as_str().unwrap();
        let want_stderr = expected_stderr(run["stderr"].as_str().unwrap());
        let stdout_ok =
            if unordered(args) { sorted_lines(&stdout) == sorted_lines(want_stdout) } else { stdout == want_stdout };
        // Compose takes the order of some warnings from Go maps: then the lines are compared
        // as a multiset.
        let stderr_ok = stderr == want_stderr
            || (dir.join("unordered-warnings").exists() && sorted_lines(&stderr) == sorted_lines(&want_stderr));
        // What the fake daemon held, less what Compose removed, is what the store holds.
        let deleted = deleted_volumes(&run["requests"]);
        let mut want_vols: Vec<&str> =
            before.keys().map(String::as_str).filter(|v| !deleted.iter().any(|d| d == v)).collect();
        want_vols.sort_unstable();
        let vols_now = if before.is_empty() { String::new() } else { t.ok(&["volume", "ls", "-q"]) };
        if sorted_lines(&vols_now) != want_vols {
            failures.push(format!("case {name}: compose {args}: volumes now {vols_now:?}, Compose left {want_vols:?}"));
        }
        if o.code != want_code || !stdout_ok || !stderr_ok {
            failures.push(format!(
                "case {name}: compose {args}\n--- exit: want {want_code}, got {}\n--- stdout want:\n{want_stdout}\n--- stdout got:\n{stdout}\n--- stderr want:\n{want_stderr}\n--- stderr got:\n{stderr}",
                o.code
            ));
        }
    }
    failures
}

/// Every recorded case, through the real binary.
#[test]
fn recorded_compose_cases_replay() {
    let names = crate::env::case_dirs(&fixtures());
    assert!(names.len() >= 60, "the fixtures are missing: {names:?}");
    let mut failures = Vec::new();
    for name in &names {
        assert!(fixtures().join(format!("{name}.json")).exists(), "case {name} has no recording (run record.sh)");
        failures.extend(run_case(name));
    }
    assert!(failures.is_empty(), "{} run(s) differ from Docker Compose:\n\n{}", failures.len(), failures.join("\n\n"));
}

/// `up`'s volume side, as recorded from Docker Compose against a fake daemon (record-up.sh):
/// the same volumes created with the same labels, options and config hash; the same
/// question on stdout and the same answer taken; the same warnings; the same refusals.
#[test]
fn recorded_up_volume_cases_replay() {
    let up = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/compose/up");
    let names = crate::env::case_dirs(&up);
    assert!(names.len() >= 12, "the up fixtures are missing: {names:?}");
    let mut failures = Vec::new();
    for name in &names {
        let dir = up.join(name);
        let rec: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(up.join(format!("{name}.json"))).unwrap()).unwrap();
        let t = TestEnv::new();
        let work = t.dir.path().join(name);
        copy_dir(&dir, &work);
        // The volumes that exist before, each with a marker file to tell a kept volume from a
        // recreated one.
        let before = make_volumes(&t, &dir);
        let mut c = t.cmd();
        c.env("HOME", "/home/user").env_remove("COMPOSE_PROJECT_NAME").env_remove("COMPOSE_FILE");
        c.current_dir(&work).args(["compose", "up-volumes"]);
        if rec["args"].as_str().unwrap().split_whitespace().any(|a| a == "-y") {
            c.arg("-y");
        }
        let stdin = std::fs::read_to_string(dir.join("stdin")).unwrap_or_default();
        let o = t.exec(c, Some(&stdin));
        let mut problems = Vec::new();
        if o.stdout != rec["stdout"].as_str().unwrap() {
            problems.push(format!("stdout {:?}, Compose printed {:?}", o.stdout, rec["stdout"]));
        }
        // Compose's warnings, its progress lines for volumes, and its error if the volumes are
        // where it stopped, in order.
        let compose_err = rec["stderr"].as_str().unwrap();
        let mut want_err = String::new();
        for line in compose_err.lines() {
            if line.starts_with("time=") {
                want_err.push_str(&expected_stderr(line));
            } else if line.starts_with(" Volume ") {
                want_err.push_str(&format!("{line}\n"));
            } else if line.starts_with("external volume") {
                want_err.push_str(&format!("Error: {line}\n"));
            }
        }
        // Compose walks the volumes in Go's map order: the lines are compared as a set.
        if sorted_lines(&o.stderr) != sorted_lines(&want_err) {
            problems.push(format!("stderr {:?}, expected {want_err:?}", o.stderr));
        }
        let failed_on_volumes = compose_err.lines().any(|l| l.starts_with("external volume"));
        if (o.code != 0) != failed_on_volumes {
            problems.push(format!("exit {} ({:?})", o.code, o.stderr));
        }
        // The end state the requests Compose made lead to.
        let mut created: Vec<(String, serde_json::Value)> = Vec::new();
        let deleted = deleted_volumes(&rec["requests"]);
        for r in rec["requests"].as_array().unwrap() {
            let r = r.as_str().unwrap();
            if let Some(body) = r.strip_prefix("POST ").and_then(|r| r.split_once(' ')).map(|(_, b)| b) {
                let body: serde_json::Value = serde_json::from_str(body).unwrap();
                created.push((body["Name"].as_str().unwrap().to_owned(), body));
            }
        }
        for (vol, body) in &created {
            let out = t.run(&["volume", "inspect", vol]);
            if out.code != 0 {
                problems.push(format!("volume {vol} was not created: {}", out.stderr));
                continue;
            }
            let got: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
            let got = &got[0];
            if got["Labels"] != body["Labels"] {
                problems.push(format!("volume {vol}: labels {}, Compose sent {}", got["Labels"], body["Labels"]));
            }
            let want_driver = body["Driver"].as_str().unwrap_or("local");
            if got["Driver"] != want_driver {
                problems.push(format!("volume {vol}: driver {}, Compose sent {want_driver}", got["Driver"]));
            }
            let want_opts =
                if body["DriverOpts"].is_null() { serde_json::Value::Null } else { body["DriverOpts"].clone() };
            if got["Options"] != want_opts {
                problems.push(format!("volume {vol}: options {}, Compose sent {want_opts}", got["Options"]));
            }
        }
        for vol in before.keys() {
            let marker = t.data(vol).join("marker").exists();
            let recreated = deleted.contains(vol);
            if marker == recreated {
                problems.push(format!("volume {vol}: recreated {}, Compose {}", !marker, recreated));
            }
        }
        let names_now = t.ok(&["volume", "ls", "-q"]);
        let expected_count = before.len() + created.iter().filter(|(n, _)| !deleted.contains(n)).count();
        if names_now.lines().count() != expected_count {
            problems.push(format!("volumes now {names_now:?}, expected {expected_count}"));
        }
        if !problems.is_empty() {
            failures.push(format!("up case {name}:\n  {}", problems.join("\n  ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn project_dir(t: &TestEnv, name: &str, compose: &str) -> PathBuf {
    let dir = t.dir.path().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("compose.yaml"), compose).unwrap();
    dir
}

fn compose(t: &TestEnv, dir: &Path, args: &[&str], stdin: Option<&str>) -> Out {
    let mut c = t.cmd();
    c.current_dir(dir).env("HOME", "/home/user").env_remove("COMPOSE_PROJECT_NAME").env_remove("COMPOSE_FILE");
    c.env_remove("COMPOSE_PROFILES").arg("compose").args(args);
    t.exec(c, stdin)
}

/// A billion laughs is refused at once, not expanded (Docker Compose runs out of memory).
#[test]
fn alias_bombs_are_refused() {
    let t = TestEnv::new();
    let mut src = String::from("x-a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..9 {
        let p = i - 1;
        src.push_str(&format!("x-a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
    }
    src.push_str("services:\n  web:\n    image: x\n");
    let dir = project_dir(&t, "bomb", &src);
    let start = std::time::Instant::now();
    let o = compose(&t, &dir, &["config"], None);
    assert_eq!((o.code, o.stdout.as_str()), (1, ""));
    assert_eq!(o.stderr, "Error: yaml: document contains excessive aliasing\n");
    assert!(start.elapsed() < std::time::Duration::from_secs(10), "{:?}", start.elapsed());
}

/// `compose volumes` lists the project's volumes of the store, as `docker volume ls` does.
#[test]
fn volumes_lists_the_projects_volumes() {
    let t = TestEnv::new();
    let dir = project_dir(
        &t,
        "app",
        "services:\n  web:\n    image: x\n    volumes: [data:/d]\n  db:\n    image: y\n    volumes: [db:/var/lib/db]\nvolumes:\n  data:\n  db:\n",
    );
    assert_eq!(compose(&t, &dir, &["volumes"], None).stdout, "DRIVER    VOLUME NAME\n");
    let up = compose(&t, &dir, &["up-volumes"], None);
    assert_eq!(up.code, 0, "{up:?}");
    assert_eq!(
        up.stderr,
        " Volume app_data  Creating\n Volume app_data  Created\n Volume app_db  Creating\n Volume app_db  Created\n"
    );
    t.ok(&["volume", "create", "unrelated"]);
    let o = compose(&t, &dir, &["volumes"], None);
    assert_eq!(
        (o.code, o.stdout.as_str(), o.stderr.as_str()),
        (0, "DRIVER    VOLUME NAME\nlocal     app_data\nlocal     app_db\n", "")
    );
    assert_eq!(compose(&t, &dir, &["volumes", "-q", "db"], None).stdout, "app_db\n");
    assert_eq!(
        compose(&t, &dir, &["volumes", "--format", "{{.Name}}:{{.Driver}}"], None).stdout,
        "app_data:local\napp_db:local\n"
    );
    let o = compose(&t, &dir, &["volumes", "nope"], None);
    assert_eq!((o.code, o.stderr.as_str()), (1, "Error: no such service: nope\n"));
    // A second up finds them as they are: nothing to create, nothing to ask.
    let again = compose(&t, &dir, &["up-volumes"], None);
    assert_eq!((again.code, again.stdout.as_str(), again.stderr.as_str()), (0, "", ""));
}

/// Compose's warnings (an unset variable) go to stderr in logrus's terminal form; the
/// output is unchanged.
#[test]
fn warnings_go_to_stderr() {
    let t = TestEnv::new();
    let dir = project_dir(&t, "warn", "services:\n  web:\n    image: x$UNSET_VAR\n    ports: ['80:80']\n");
    let o = compose(&t, &dir, &["config", "--services"], None);
    assert_eq!(o.code, 0, "{o:?}");
    assert_eq!(o.stdout, "web\n");
    assert_eq!(
        o.stderr,
        "WARN[0000] The \"UNSET_VAR\" variable is not set. Defaulting to a blank string.\nWARN[0000] services.web.ports: not supported by myvol, ignored\n"
    );
}

/// YAML 1.1 booleans (`yes`, `on`, `off`…) in the long syntax's boolean keys are read as
/// Compose's decoder reads them: booleans, with its YAML 1.2 warning; a word that is no
/// boolean is Compose's decoding error, not a silent false.
#[test]
fn long_syntax_booleans_take_yaml_1_1_words_and_refuse_others() {
    let t = TestEnv::new();
    let yaml = |chp: &str| {
        format!(
            "services:\n  web:\n    image: x\n    volumes:\n      - type: bind\n        source: /tmp\n        target: /b\n        bind: {{create_host_path: {chp}}}\n      - type: volume\n        source: v\n        target: /v\n        volume: {{nocopy: on}}\n    env_file: [{{path: missing.env, required: off}}]\n    depends_on:\n      db: {{condition: service_started, restart: yes}}\n  db:\n    image: y\nvolumes:\n  v:\n"
        )
    };
    let dir = project_dir(&t, "bools", &yaml("yes"));
    let o = compose(&t, &dir, &["config"], None);
    assert_eq!(o.code, 0, "{o:?}");
    assert!(o.stdout.contains("create_host_path: true"), "{}", o.stdout);
    assert!(o.stdout.contains("nocopy: true"), "{}", o.stdout);
    assert!(o.stdout.contains("restart: true"), "{}", o.stdout);
    let w = |word: &str, b: &str| {
        format!("WARN[0000] \"{word}\" for boolean is not supported by YAML 1.2, please use `{b}`\n")
    };
    // One per value (in an order Compose takes from Go maps).
    let want = [w("yes", "true"), w("off", "false"), w("yes", "true"), w("on", "true")].concat();
    assert_eq!(sorted_lines(&o.stderr), sorted_lines(&want));

    std::fs::write(dir.join("compose.yaml"), yaml("maybe")).unwrap();
    let o = compose(&t, &dir, &["config"], None);
    assert_eq!((o.code, o.stdout.as_str()), (1, ""), "{o:?}");
    assert!(
        o.stderr.ends_with(
            "Error: decoding failed due to the following error(s):\nError: \nError: 'services[web].volumes[0].bind.create_host_path' invalid boolean: maybe\n"
        ),
        "{}",
        o.stderr
    );
}

/// `tmpfs.mode` is a number for Compose: a string, or a negative number, is its decoding
/// error (mapstructure's words).
#[test]
fn tmpfs_mode_takes_numbers_only() {
    let t = TestEnv::new();
    for (mode, want) in [
        ("\"0755\"", "expected type 'uint32', got unconvertible type 'string'"),
        ("-1", "cannot parse value as 'uint32': -1 overflows uint"),
        ("-1.5", "cannot parse value as 'uint32': -1.500000 overflows uint"),
    ] {
        let yaml = format!(
            "services:\n  web:\n    image: x\n    volumes:\n      - type: tmpfs\n        target: /t\n        tmpfs: {{mode: {mode}}}\n"
        );
        let dir = project_dir(&t, "tmpfs", &yaml);
        let o = compose(&t, &dir, &["config"], None);
        assert_eq!((o.code, o.stdout.as_str()), (1, ""), "{mode}: {o:?}");
        assert_eq!(
            o.stderr,
            format!(
                "Error: decoding failed due to the following error(s):\nError: \nError: 'services[web].volumes[0].tmpfs.mode' {want}\n"
            ),
            "{mode}"
        );
    }
    let dir = project_dir(
        &t,
        "tmpfs",
        "services:\n  web:\n    image: x\n    volumes:\n      - type: tmpfs\n        target: /t\n        tmpfs: {mode: 0o755}\n",
    );
    let o = compose(&t, &dir, &["config", "--format", "json"], None);
    assert_eq!(o.code, 0, "{o:?}");
    assert!(o.stdout.contains("\"mode\": 493"), "{}", o.stdout);
}

/// Compose logs every occurrence of a warning: a variable left unset twice is two warnings.
#[test]
fn each_warning_occurrence_is_printed() {
    let t = TestEnv::new();
    let dir = project_dir(&t, "twice", "services:\n  web:\n    image: x$UNSET_VAR\n    labels: [a=$UNSET_VAR]\n");
    let o = compose(&t, &dir, &["config", "--services"], None);
    assert_eq!((o.code, o.stdout.as_str()), (0, "web\n"), "{o:?}");
    let line = "WARN[0000] The \"UNSET_VAR\" variable is not set. Defaulting to a blank string.\n";
    assert_eq!(o.stderr, line.repeat(2));
}

/// `down` with `-p` and no `-f` reads no file and works by the project's label (the name
/// lowercased), as Compose does; so does `down` with COMPOSE_PROJECT_NAME when no file loads.
/// Nothing to remove is Compose's warning, exit 0.
#[test]
fn down_by_project_name_works_by_label() {
    let t = TestEnv::new();
    let dir = t.dir.path().join("nofile");
    std::fs::create_dir_all(&dir).unwrap();
    let warning = |p: &str| format!("WARN[0000] Warning: No resource found to remove for project \"{p}\".\n");
    let o = compose(&t, &dir, &["-p", "Foo", "down"], None);
    assert_eq!((o.code, o.stdout.as_str(), o.stderr.clone()), (0, "", warning("foo")));
    let o = compose(&t, &dir, &["-p", "foo", "down", "-v"], None);
    assert_eq!((o.code, o.stderr.clone()), (0, warning("foo")));

    t.ok(&["volume", "create", "--label", "com.docker.compose.project=foo", "foo_data"]);
    t.ok(&["volume", "create", "--label", "com.docker.compose.project=bar", "bar_data"]);
    t.ok(&["volume", "create", "plain"]);
    // Without -v the volumes stay, and nothing else is there to remove.
    let o = compose(&t, &dir, &["-p", "FOO", "down"], None);
    assert_eq!((o.code, o.stderr.clone()), (0, warning("foo")));
    let o = compose(&t, &dir, &["-p", "foo", "down", "-v"], None);
    assert_eq!((o.code, o.stderr.as_str()), (0, " Volume foo_data  Removing\n Volume foo_data  Removed\n"));
    let mut c = t.cmd();
    c.current_dir(&dir).env("HOME", "/home/user").env_remove("COMPOSE_FILE").env("COMPOSE_PROJECT_NAME", "bar");
    c.args(["compose", "down", "-v"]);
    let o = t.exec(c, None);
    assert_eq!((o.code, o.stderr.as_str()), (0, " Volume bar_data  Removing\n Volume bar_data  Removed\n"));
    assert_eq!(t.ok(&["volume", "ls", "-q"]), "plain\n");
    // Without a name, no file is still an error.
    let o = compose(&t, &dir, &["down"], None);
    assert_eq!((o.code, o.stderr.as_str()), (1, "Error: no configuration file provided: not found\n"));
}

/// A word that looks like a flag before `compose run`'s SERVICE is a flag: an unknown one is
/// Compose's `unknown flag` (exit 1); after `--` it is a service name.
#[test]
fn run_refuses_unknown_flags_before_the_service() {
    let t = TestEnv::new();
    let dir = project_dir(&t, "flags", "services:\n  backend:\n    image: x\n");
    for (args, want) in [
        (&["run", "--bogus", "backend"][..], "Error: unknown flag: --bogus\n"),
        (&["run", "--bogus=1", "backend"][..], "Error: unknown flag: --bogus\n"),
        (&["run", "-Tx", "backend"][..], "Error: unknown shorthand flag: 'x' in -x\n"),
        (&["run", "--", "--bogus"][..], "Error: no such service: --bogus\n"),
        (&["up", "--bogus"][..], "Error: unknown flag: --bogus\n"),
    ] {
        let o = compose(&t, &dir, args, None);
        assert_eq!((o.code, o.stdout.as_str(), o.stderr.as_str()), (1, "", want), "{args:?}");
    }
}
