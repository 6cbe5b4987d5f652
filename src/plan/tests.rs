//! `plan::resolve`, table-tested: each case is the mount flags of one run and either a
//! one-line summary per planned mount (in mount order) or Docker's error text.

use std::path::Path;

use super::*;
use crate::store::CreateRequest;
use crate::sys::ms;

/// A store holding `vol` (local, no options), in a private temporary directory `<T>` that
/// also holds a directory `<T>/dir` and a file `<T>/file`.
struct Fixture {
    dir: tempfile::TempDir,
    store: Store,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("dir")).unwrap();
        std::fs::write(dir.path().join("file"), b"x").unwrap();
        let store = Store::new(dir.path().join("root"));
        store
            .create(CreateRequest { name: Some(VolumeName::parse("vol").unwrap()), ..CreateRequest::default() })
            .unwrap();
        Fixture { dir, store }
    }

    fn t(&self) -> String {
        self.dir.path().to_str().unwrap().to_owned()
    }

    /// Plan `-v`, `--mount`, `--tmpfs` values (`<T>` replaced by the temp dir), with cwd `<T>`.
    fn plan(&self, v: &[&str], m: &[&str], t: &[&str], driver: Option<&str>) -> Result<RunPlan, String> {
        let sub = |xs: &[&str]| xs.iter().map(|x| x.replace("<T>", &self.t())).collect::<Vec<_>>();
        let specs = parse_specs(&sub(v), &sub(m), &sub(t), &self.t()).map_err(|e| e.to_string())?;
        let run = RunRequest {
            rootfs: "rootfs".into(),
            mounts: specs,
            volume_driver: driver.map(str::to_owned),
            ..RunRequest::default()
        };
        resolve(&run, &self.store, self.dir.path()).map_err(|e| e.to_string().replace(&self.t(), "<T>"))
    }

    fn summary(&self, plan: &RunPlan) -> Vec<String> {
        plan.mounts.iter().map(|m| summarize(m).replace(&self.t(), "<T>")).collect()
    }
}

/// `TYPE DEST rw|ro …` with what the runtime needs.
fn summarize(m: &PlannedMount) -> String {
    let rw = if m.read_only() { "ro" } else { "rw" };
    match &m.source {
        PlannedSource::Volume(v) => {
            let name = if v.anonymous {
                assert!(v.name.looks_anonymous());
                assert!(v.labels.contains_key(ANONYMOUS_LABEL));
                "<anon>".to_owned()
            } else {
                v.name.to_string()
            };
            // A volume is a recursive, private bind of its content's directory.
            let b = &v.bind;
            assert_eq!((b.recursion, b.propagation), (Recursion::Recursive, Propagation::Rprivate));
            let access = if m.read_only() { Access::ReadOnly } else { Access::ReadWrite };
            assert_eq!((b.access, b.target.as_str()), (access, m.target()));
            let mut s = format!(
                "volume {} {rw} {name} {} {}",
                m.target(),
                v.driver,
                if v.create { "create" } else { "exists" }
            );
            if let Some(sub) = &b.subpath {
                s += &format!(" subpath={sub}");
            }
            if !b.copy_up {
                s += " nocopy";
            }
            if !v.options.is_empty() {
                s += &format!(" opts={:?}", v.options);
            }
            s
        }
        PlannedSource::Bind(b) => {
            let kind = match b.source_kind {
                SourceKind::Directory => "dir",
                SourceKind::File => "file",
                SourceKind::Missing => "create",
            };
            let bind = &b.bind;
            assert_eq!((bind.subpath.as_ref(), bind.copy_up, bind.target.as_str()), (None, false, m.target()));
            let rec = match bind.recursion {
                Recursion::Recursive => "rbind",
                Recursion::NonRecursive => "bind",
            };
            // Read-only down to the submounts: required with `bind-recursive=readonly`, else
            // where possible (the kernels myvol runs on always allow it).
            let rro = match (bind.access, bind.recursion, b.bind_recursive) {
                (Access::ReadOnly, Recursion::Recursive, Some(BindRecursive::Readonly)) => " rro!",
                (Access::ReadOnly, Recursion::Recursive, _) => " rro?",
                _ => "",
            };
            format!("bind {} {rw} {} {kind} {} {rec}{rro}", m.target(), bind.source.display(), bind.propagation)
        }
        PlannedSource::Tmpfs(t) => {
            format!(
                "tmpfs {} {rw} [{}] flags={:#x} data={}",
                m.target(),
                t.options.join(","),
                t.tmpfs.flags,
                t.tmpfs.data
            )
        }
        PlannedSource::Image(i) => format!("image {} {rw} {}", m.target(), i.image.name),
    }
}

type Case<'a> = (&'a [&'a str], &'a [&'a str], &'a [&'a str], Result<&'a [&'a str], &'a str>);

#[test]
fn resolve_table() {
    let f = Fixture::new();
    // Docker's tmpfs defaults noexec,nosuid,nodev, as shown in `flags=` below.
    assert_eq!(ms::NOEXEC | ms::NOSUID | ms::NODEV, 0xe);
    let ok = |s: &'static [&'static str]| Ok(s);
    let cases: Vec<Case> = vec![
        // Named volumes: existing, new, with options.
        (&["vol:/data"], &[], &[], ok(&["volume /data rw vol local exists"])),
        (&["new:/data:ro,nocopy"], &[], &[], ok(&["volume /data ro new local create nocopy"])),
        (
            &[],
            &["type=volume,src=vol,dst=/data,volume-subpath=a/b"],
            &[],
            ok(&["volume /data rw vol local exists subpath=a/b"]),
        ),
        (
            &[],
            &["type=volume,src=mv,dst=/d,volume-opt=type=tmpfs,volume-opt=device=tmpfs"],
            &[],
            ok(&[r#"volume /d rw mv local create opts={"device": "tmpfs", "type": "tmpfs"}"#]),
        ),
        // The same new volume twice: created once.
        (&["new:/a", "new:/b"], &[], &[], ok(&["volume /a rw new local create", "volume /b rw new local exists"])),
        // Anonymous volumes.
        (&["/data"], &[], &[], ok(&["volume /data rw <anon> local create"])),
        (&[], &["type=volume,dst=/anon,readonly"], &[], ok(&["volume /anon ro <anon> local create"])),
        // Binds: existing dir/file, missing (-v creates; --mount refuses unless bind-create-src).
        (&["<T>/dir:/host"], &[], &[], ok(&["bind /host rw <T>/dir dir rprivate rbind"])),
        (&["./file:/f:ro"], &[], &[], ok(&["bind /f ro <T>/file file rprivate rbind rro?"])),
        (&["/nonexistent-fx:/b"], &[], &[], ok(&["bind /b rw /nonexistent-fx create rprivate rbind"])),
        (
            &[],
            &["type=bind,src=/nonexistent-fx,dst=/b"],
            &[],
            Err("invalid mount config for type \"bind\": bind source path does not exist: /nonexistent-fx"),
        ),
        (
            &[],
            &["type=bind,src=/nonexistent-fx,dst=/b,bind-create-src"],
            &[],
            ok(&["bind /b rw /nonexistent-fx create rprivate rbind"]),
        ),
        // Propagation and recursion.
        (&["<T>/dir:/h:ro,rshared"], &[], &[], ok(&["bind /h ro <T>/dir dir rshared rbind rro?"])),
        (
            &[],
            &["type=bind,src=<T>/dir,dst=/h,bind-propagation=slave"],
            &[],
            ok(&["bind /h rw <T>/dir dir slave rbind"]),
        ),
        (
            &[],
            &["type=bind,src=<T>/dir,dst=/h,bind-recursive=disabled,ro"],
            &[],
            ok(&["bind /h ro <T>/dir dir rprivate bind"]),
        ),
        (
            &[],
            &["type=bind,src=<T>/dir,dst=/h,bind-recursive=writable,ro"],
            &[],
            ok(&["bind /h ro <T>/dir dir rprivate rbind"]),
        ),
        (
            &[],
            &["type=bind,src=<T>/dir,dst=/h,bind-recursive=readonly,ro,bind-propagation=rprivate"],
            &[],
            ok(&["bind /h ro <T>/dir dir rprivate rbind rro!"]),
        ),
        // Docker's data-root rule: a source in or above the managed root gets rslave ...
        (&["<T>:/h"], &[], &[], ok(&["bind /h rw <T> dir rslave rbind"])),
        (&["/:/h"], &[], &[], ok(&["bind /h rw / dir rslave rbind"])),
        (&["<T>/root/volumes:/h:rshared"], &[], &[], ok(&["bind /h rw <T>/root/volumes dir rshared rbind"])),
        // ... and refuses another propagation there; a sibling with a common prefix is not inside.
        (
            &["<T>/root:/h:private"],
            &[],
            &[],
            Err(
                "invalid mount config: must use either propagation mode \"rslave\" or \"rshared\" when mount source is within the daemon root, daemon root: \"<T>/root\", bind mount source: \"<T>/root\", propagation: \"private\"",
            ),
        ),
        (&["<T>/rootx:/h"], &[], &[], ok(&["bind /h rw <T>/rootx create rprivate rbind"])),
        // tmpfs: Docker's defaults merged, options as Docker records them.
        (&[], &[], &["/t:size=1m"], ok(&["tmpfs /t rw [size=1m] flags=0xe data=size=1m"])),
        (&[], &[], &["/t:ro,exec"], ok(&["tmpfs /t ro [ro,exec] flags=0x7 data="])),
        (
            &[],
            &["type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1770"],
            &[],
            ok(&["tmpfs /t rw [mode=1770,size=1m] flags=0xe data=mode=1770,size=1m"]),
        ),
        // Sorted by destination depth, flag order among equals.
        (
            &["vol:/a/b/c", "<T>/dir:/z"],
            &["type=tmpfs,dst=/a/b"],
            &["/a"],
            ok(&[
                "bind /z rw <T>/dir dir rprivate rbind",
                "tmpfs /a rw [] flags=0xe data=",
                "tmpfs /a/b rw [] flags=0xe data=",
                "volume /a/b/c rw vol local exists",
            ]),
        ),
        // Errors: names, drivers, options, duplicates, grammar.
        (
            &["a b:/data"],
            &[],
            &[],
            Err(
                "create a b: \"a b\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path",
            ),
        ),
        (
            &["x:/data:ro"],
            &[],
            &[],
            Err("create x: volume name is too short, names should be at least two alphanumeric characters"),
        ),
        (&[], &["type=volume,src=nv,dst=/d,volume-opt=bogus=1"], &[], Err("create nv: invalid option: \"bogus\"")),
        (
            &[],
            &["type=volume,src=nv,dst=/d,volume-driver=foo"],
            &[],
            Err("create nv: error looking up volume plugin foo: plugin \"foo\" not found"),
        ),
        (
            &[],
            &["type=volume,src=vol,dst=/d,volume-driver=foo"],
            &[],
            Err("create vol: driver 'local' already has volume 'vol': volume name must be unique"),
        ),
        (&["vol:/data", "<T>/dir:/data"], &[], &[], Err("Duplicate mount point: /data")),
        (&["vol:/t"], &[], &["/t"], Err("Duplicate mount point: /t")),
        (&["vol:/data:bogus"], &[], &[], Err("invalid mode: bogus")),
        (&[], &[], &["/t:bogus"], Err("invalid tmpfs option [\"bogus\"]")),
        // A bind source that cannot be examined: --mount reports the stat error, -v could
        // not create it.
        (
            &[],
            &["type=bind,src=<T>/file/x,dst=/b"],
            &[],
            Err("invalid mount config for type \"bind\": stat <T>/file/x: not a directory"),
        ),
        (
            &["<T>/file/x:/b"],
            &[],
            &[],
            Err("error while creating mount source path '<T>/file/x': stat <T>/file/x: not a directory"),
        ),
    ];
    for (v, m, t, want) in cases {
        let got = f.plan(v, m, t, None).map(|p| f.summary(&p));
        let want = want.map(|w| w.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()).map_err(str::to_owned);
        assert_eq!(got, want, "-v {v:?} --mount {m:?} --tmpfs {t:?}");
    }
}

#[test]
fn volume_driver_applies_to_v_volumes_only() {
    let f = Fixture::new();
    let e = f.plan(&["nv:/d"], &[], &[], Some("foo")).unwrap_err();
    assert_eq!(e, "create nv: error looking up volume plugin foo: plugin \"foo\" not found");
    // Anonymous -v volumes use it too, as Docker's Config.Volumes do.
    let e = f.plan(&["/d"], &[], &[], Some("foo")).unwrap_err();
    assert!(e.ends_with(": error looking up volume plugin foo: plugin \"foo\" not found"), "{e}");
    let p = f.plan(&["vol:/d"], &[], &[], Some("local")).unwrap();
    assert_eq!(f.summary(&p), ["volume /d rw vol local exists"]);
    // Not to --mount volumes, nor binds.
    let p = f.plan(&["<T>/dir:/b"], &["type=volume,src=nv,dst=/d"], &[], Some("foo")).unwrap();
    assert_eq!(f.summary(&p), ["bind /b rw <T>/dir dir rprivate rbind", "volume /d rw nv local create"]);
}

#[test]
fn resolve_changes_nothing_and_fills_the_rest_of_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let store = Store::new(&root);
    let run = RunRequest {
        rootfs: "../rootfs/./x".into(),
        image: None,
        mounts: parse_specs(&["/anon".into(), "new:/n".into()], &[], &[], "/").unwrap(),
        volume_driver: None,
        read_only: true,
        remove: true,
        anonymous_labels: [("com.docker.compose.project".to_owned(), "p".to_owned())].into(),
        anonymous_target_label: None,
        reuse_anonymous: BTreeMap::new(),
        labels: [("run".to_owned(), "label".to_owned())].into(),
        process: ProcessRequest { command: vec!["sh".into(), "-c".into(), "true".into()], ..ProcessRequest::default() },
    };
    let plan = resolve(&run, &store, Path::new("/work/dir")).unwrap();
    assert!(!root.exists(), "resolve created the store root");
    assert_eq!(plan.rootfs, Path::new("/work/rootfs/x"));
    assert!(plan.read_only && plan.remove);
    let PlannedSource::Volume(v) = &plan.mounts[1].source else { panic!("{plan:?}") };
    assert_eq!(v.bind.source, root.join("volumes/new/_data"));
    assert!(v.labels.is_empty(), "a named volume does not get the run's anonymous labels");
    let PlannedSource::Volume(a) = &plan.mounts[0].source else { panic!("{plan:?}") };
    let labels: Vec<&str> = a.labels.keys().map(String::as_str).collect();
    assert_eq!(labels, ["com.docker.compose.project", "com.docker.volume.anonymous"]);
    assert_eq!(plan.labels, run.labels, "the run's labels go to its leases");
    // Labels too large for a lease are refused before anything is created.
    let huge = RunRequest { labels: [("k".to_owned(), "x".repeat(labels::MAX_LABELS_BYTES))].into(), ..run.clone() };
    let e = resolve(&huge, &store, Path::new("/work/dir")).unwrap_err();
    assert!(matches!(e, PlanError::Labels(labels::LabelError::TooLarge { .. })), "{e}");
    assert!(!root.exists(), "a refused run created the store root");
    // Absolute rootfs, cleaned; an empty one is refused.
    let abs = RunRequest { rootfs: "/r//x/".into(), ..RunRequest::default() };
    assert_eq!(resolve(&abs, &store, Path::new("/")).unwrap().rootfs, Path::new("/r/x"));
    let empty = RunRequest::default();
    assert_eq!(resolve(&empty, &store, Path::new("/")).unwrap_err().to_string(), "invalid rootfs: the path is empty");
}

/// A rootfs `<T>/rootfs` with `/etc/passwd` and `/etc/group`, and an env file `<T>/env`.
fn process_fixture() -> (tempfile::TempDir, RunPlan) {
    let dir = tempfile::tempdir().unwrap();
    let rootfs = dir.path().join("rootfs");
    std::fs::create_dir_all(rootfs.join("etc")).unwrap();
    std::fs::write(
        rootfs.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1001::/home/alice:/bin/sh\n",
    )
    .unwrap();
    std::fs::write(rootfs.join("etc/group"), "alice:x:1001:\nwheel:x:10:alice\n").unwrap();
    std::fs::write(dir.path().join("env"), "FROMFILE=f\nOVER=file\nINHERITED\n").unwrap();
    let plan =
        RunPlan { rootfs, image: None, mounts: Vec::new(), read_only: false, remove: false, labels: BTreeMap::new() };
    (dir, plan)
}

#[test]
fn resolve_process_builds_what_the_runtime_runs() {
    let (dir, plan) = process_fixture();
    let lookup = |k: &str| (k == "INHERITED").then(|| "mine".to_owned());
    let req = ProcessRequest {
        command: vec!["sh".into(), "-c".into(), "true".into()],
        env_files: vec![dir.path().join("env").to_str().unwrap().to_owned()],
        env: vec!["A=1".into(), "OVER=flag".into(), "UNSET".into()],
        user: Some("alice".into()),
        // Cleaned as Docker's daemon cleans it.
        workdir: Some("/x/../w/".into()),
        hostname: Some(String::new()),
        network: Network::None,
        tty: true,
        ..ProcessRequest::default()
    };
    let p = resolve_process(&req, &plan, &lookup).unwrap();
    assert_eq!(
        p,
        Process {
            command: vec!["sh".into(), "-c".into(), "true".into()],
            env: ["TERM=xterm", "FROMFILE=f", "OVER=flag", "INHERITED=mine", "A=1", "HOME=/home/alice"]
                .map(str::to_owned)
                .to_vec(),
            workdir: Some("/w".into()),
            user: Some((1000, 1001)),
            user_in_image: None,
            // The primary group first, as Docker's daemon lists it.
            groups: vec![1001, 10],
            hostname: None,
            network: Network::None,
            tty: true,
            interactive: false,
        }
    );
    // No command: the default one; an entrypoint goes first.
    let p = resolve_process(&ProcessRequest::default(), &plan, &lookup).unwrap();
    assert_eq!(
        (p.command, p.env, p.user),
        (vec![DEFAULT_COMMAND.to_owned()], vec!["HOME=/root".to_owned()], Some((0, 0)))
    );
    let req =
        ProcessRequest { entrypoint: Some("echo".into()), command: vec!["a".into()], ..ProcessRequest::default() };
    assert_eq!(resolve_process(&req, &plan, &lookup).unwrap().command, ["echo", "a"]);
}

#[test]
fn resolve_process_errors() {
    let (dir, plan) = process_fixture();
    let lookup = |_: &str| None;
    let t = dir.path().to_str().unwrap().to_owned();
    let err = |req: ProcessRequest, plan: &RunPlan| {
        resolve_process(&req, plan, &lookup).unwrap_err().to_string().replace(&t, "<T>")
    };
    let missing = RunPlan { rootfs: dir.path().join("nope"), ..plan.clone() };
    assert_eq!(err(ProcessRequest::default(), &missing), "invalid rootfs <T>/nope: no such file or directory");
    let req = ProcessRequest { env_files: vec![format!("{t}/none")], ..ProcessRequest::default() };
    assert_eq!(err(req, &plan), "open <T>/none: no such file or directory");
    let req = ProcessRequest { env: vec!["=x".into()], ..ProcessRequest::default() };
    assert_eq!(err(req, &plan), "invalid environment variable: =x");
    let req = ProcessRequest { user: Some("nobody".into()), ..ProcessRequest::default() };
    assert_eq!(err(req, &plan), "unable to find user nobody: no matching entries in passwd file");
    let req = ProcessRequest { workdir: Some("rel".into()), ..ProcessRequest::default() };
    assert_eq!(err(req, &plan), "the working directory 'rel' is invalid, it needs to be an absolute path");
    let req = ProcessRequest { command: vec![String::new()], ..ProcessRequest::default() };
    assert_eq!(err(req, &plan), "no command specified");
}

/// Root can stat anything: as root, the plans are made on a thread of its own that has
/// dropped to uid 65534 (Linux credentials are per thread; the rest of the process keeps root).
#[test]
fn unreadable_bind_sources_report_the_stat_error() {
    let f = Fixture::new();
    let locked = f.dir.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    std::fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o000)).unwrap();
    std::fs::set_permissions(f.dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let (m, v) = std::thread::scope(|s| {
        s.spawn(|| {
            if rustix::process::geteuid().is_root() {
                rustix::thread::set_thread_uid(rustix::process::Uid::from_raw(65534)).unwrap();
            }
            let m = f.plan(&[], &["type=bind,src=<T>/locked/x,dst=/b"], &[], None).unwrap_err();
            let v = f.plan(&["<T>/locked/x:/b"], &[], &[], None).unwrap_err();
            (m, v)
        })
        .join()
        .unwrap()
    });
    std::fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    assert_eq!(m, "invalid mount config for type \"bind\": stat <T>/locked/x: permission denied");
    assert_eq!(v, "error while creating mount source path '<T>/locked/x': stat <T>/locked/x: permission denied");
}

/// `docker run`'s command for an image (moby's `merge`), one case per line: the flags, the
/// image's Entrypoint and Cmd, the argv.
#[test]
fn image_command_table() {
    let v = |s: &[&str]| s.iter().map(|x| (*x).to_owned()).collect::<Vec<String>>();
    type Case<'a> =
        (Option<&'a str>, &'a [&'a str], Option<&'a [&'a str]>, Option<&'a [&'a str]>, Result<&'a [&'a str], &'a str>);
    let cases: &[Case<'_>] = &[
        (None, &[], Some(&["ep"]), Some(&["cmd"]), Ok(&["ep", "cmd"])),
        (None, &["x"], Some(&["ep"]), Some(&["cmd"]), Ok(&["ep", "x"])),
        (None, &[], None, Some(&["cmd", "a"]), Ok(&["cmd", "a"])),
        (None, &["x"], None, Some(&["cmd"]), Ok(&["x"])),
        (Some("e"), &[], Some(&["ep"]), Some(&["cmd"]), Ok(&["e"])),
        (Some("e"), &["x", "y"], Some(&["ep"]), Some(&["cmd"]), Ok(&["e", "x", "y"])),
        (Some(""), &[], Some(&["ep"]), Some(&["cmd"]), Ok(&["cmd"])),
        (Some(""), &["x"], Some(&["ep"]), Some(&["cmd"]), Ok(&["x"])),
        (Some(""), &[], Some(&["ep"]), None, Err("No command specified")),
        (None, &[], None, None, Err("No command specified")),
        (None, &[], Some(&[]), Some(&[]), Err("No command specified")),
    ];
    for (entrypoint, command, image_ep, image_cmd, want) in cases {
        let run =
            ProcessRequest { entrypoint: entrypoint.map(str::to_owned), command: v(command), ..Default::default() };
        let config =
            crate::image::oci::RunConfig { entrypoint: image_ep.map(&v), cmd: image_cmd.map(&v), ..Default::default() };
        let got = image_command(&run, &config).map_err(|e| e.to_string());
        assert_eq!(got, want.map(v).map_err(str::to_owned), "{entrypoint:?} {command:?} {image_ep:?} {image_cmd:?}");
    }
}
