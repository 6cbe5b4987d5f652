use super::*;

fn file() -> ExecFile {
    ExecFile {
        rootfs: PathBuf::from("/"),
        read_only: false,
        process: Process { command: vec!["true".into()], ..Process::default() },
        mounts: vec![],
    }
}

#[test]
fn validation_table() {
    let ok = |f: &dyn Fn(&mut ExecFile)| {
        let mut s = file();
        f(&mut s);
        validate(&s.exec()).map_err(|e| e.to_string())
    };
    assert!(ok(&|_| {}).is_ok());
    // Any hostname the kernel takes, as in Docker.
    assert!(ok(&|s| s.process.hostname = Some("a/b c".into())).is_ok());
    assert!(ok(&|s| s.process.hostname = Some("h".repeat(64))).is_ok());
    let bind = |t: &str| {
        Mount::Bind(Bind {
            source: "/tmp".into(),
            subpath: None,
            target: t.into(),
            access: Access::ReadWrite,
            recursion: Recursion::Recursive,
            propagation: Propagation::Rprivate,
            copy_up: false,
            chown: false,
            opened: None,
        })
    };
    for (f, msg) in [
        (
            Box::new(|s: &mut ExecFile| s.rootfs = "rel".into()) as Box<dyn Fn(&mut ExecFile)>,
            "must be an absolute path",
        ),
        (Box::new(|s: &mut ExecFile| s.process.command.clear()), "no command specified"),
        (Box::new(|s: &mut ExecFile| s.process.env = vec!["NOEQUALS".into()]), "is not KEY=VALUE"),
        (Box::new(|s: &mut ExecFile| s.process.workdir = Some("rel".into())), "needs to be an absolute path"),
        (Box::new(move |s: &mut ExecFile| s.mounts = vec![bind("/")]), "destination can't be '/'"),
        (Box::new(move |s: &mut ExecFile| s.mounts = vec![bind("x")]), "mount path must be absolute"),
        (Box::new(move |s: &mut ExecFile| s.mounts = vec![bind("/a/../b")]), "must not contain '..'"),
        (Box::new(|s: &mut ExecFile| s.process.command = vec!["a\0b".into()]), "NUL byte"),
        (Box::new(|s: &mut ExecFile| s.process.hostname = Some("h".repeat(65))), "is too long (maximum 64 bytes)"),
    ] {
        let e = ok(&*f).unwrap_err();
        assert!(e.contains(msg), "{e} should contain {msg}");
    }
}

#[test]
fn rootfs_checks() {
    assert!(check_rootfs(Path::new("/")).is_ok());
    let e = check_rootfs(Path::new("/nonexistent-myvol")).unwrap_err().to_string();
    assert_eq!(e, "invalid rootfs /nonexistent-myvol: no such file or directory");
    let f = tempfile::NamedTempFile::new().unwrap();
    let e = check_rootfs(f.path()).unwrap_err().to_string();
    assert_eq!(e, format!("invalid rootfs {}: not a directory", f.path().display()));
}

#[test]
fn exec_file_json_defaults() {
    let s: ExecFile = serde_json::from_str(
        r#"{"rootfs":"/r","command":["sh"],"mounts":[{"Bind":{"source":"/v","target":"/t"}},
           {"Tmpfs":{"target":"/tmp","flags":14,"data":"size=1m"}}]}"#,
    )
    .unwrap();
    let Mount::Bind(b) = &s.mounts[0] else { panic!("{s:?}") };
    assert_eq!(
        (b.access, b.recursion, b.propagation, b.copy_up),
        (Access::ReadWrite, Recursion::Recursive, Propagation::Rprivate, false)
    );
    assert_eq!(MountRef::from(&s.mounts[1]).target(), "/tmp");
    assert_eq!(s.process.network, Network::Host);
    // The typed fields take their words.
    let s: ExecFile = serde_json::from_str(
        r#"{"rootfs":"/r","command":["sh"],"network":"none","mounts":[{"Bind":{"source":"/v","target":"/t",
           "access":"read-only-top","recursion":"non-recursive","propagation":"rslave"}}]}"#,
    )
    .unwrap();
    assert_eq!(s.process.network, Network::None);
    let Mount::Bind(b) = &s.mounts[0] else { panic!("{s:?}") };
    assert_eq!(
        (b.access, b.recursion, b.propagation),
        (Access::ReadOnlyTop, Recursion::NonRecursive, Propagation::Rslave)
    );
    assert!(serde_json::from_str::<ExecFile>(r#"{"rootfs":"/r","command":["sh"],"network":"bridge"}"#).is_err());
    // A mount's unknown key is an error, not a silently writable bind.
    let stale =
        r#"{"rootfs":"/r","command":["sh"],"mounts":[{"Bind":{"source":"/v","target":"/t","read_only":true}}]}"#;
    assert!(serde_json::from_str::<ExecFile>(stale).is_err());
}
