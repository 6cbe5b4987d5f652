//! The client side of images against a real registry: `login` to a registry that demands
//! basic authentication (Docker's words for a wrong password), credentials kept by a
//! credential helper (`credsStore`, `credHelpers`: a `docker-credential-NAME` script on PATH),
//! and the pull's per-layer progress on a terminal (under script(1)).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;

use crate::env::{Out, TestEnv, require_tools};
use crate::registry::{BASIC_PASSWORD, BASIC_USER, Comp, ImageSpec, Member, Proxy, Registry, layer, myvol, push_image};

/// An image `app:1` of two small layers pushed to an open registry, and a second registry
/// serving the same content that demands basic authentication.
struct Basic {
    t: TestEnv,
    _open: Registry,
    reg: Registry,
}

fn basic() -> Option<Basic> {
    let open = Registry::start()?;
    let spec = ImageSpec::new(
        vec![(layer(&[Member::File("a", b"1")]), Comp::Gzip), (layer(&[Member::File("b", b"2")]), Comp::Plain)],
        json!({}),
    );
    push_image(&open.addr, "app", Some("1"), &spec);
    let reg = Registry::start_basic_auth(&open)?;
    Some(Basic { t: TestEnv::new(), _open: open, reg })
}

#[test]
fn a_wrong_password_is_refused_with_dockers_words() {
    let Some(b) = basic() else { return };
    let o = myvol(&b.t, &["login", "-u", BASIC_USER, "--password-stdin", &b.reg.addr], Some("wrong\n"));
    assert_eq!(
        (o.code, o.stdout.as_str(), o.stderr.replace(&b.reg.addr, "REG").as_str()),
        (1, "", "Error: login attempt to http://REG/v2/ failed with status: 401 Unauthorized\n"),
    );
    assert!(!b.t.dir.path().join("docker-config/config.json").exists());
    // The right one logs in, and the pull uses it.
    let o = myvol(&b.t, &["login", "-u", BASIC_USER, "--password-stdin", &b.reg.addr], Some(BASIC_PASSWORD));
    assert_eq!((o.code, o.stdout.as_str()), (0, "Login Succeeded\n"), "{o:#?}");
    let o = myvol(&b.t, &["pull", "-q", &format!("{}/app:1", b.reg.addr)], None);
    assert_eq!(o.code, 0, "{o:#?}");
}

/// A credential helper that keeps one set of credentials in `DIR/creds` (as `get` prints
/// them) and logs each call (`ACTION INPUT`) to `DIR/log`.
const HELPER: &str = r#"#!/bin/sh
dir=$(dirname "$0")
input=$(cat)
case "$1" in
  get)
    echo "get $input" >>"$dir/log"
    if [ -f "$dir/creds" ]; then cat "$dir/creds"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  store)
    echo "store" >>"$dir/log"
    printf '%s' "$input" >"$dir/creds" ;;
  erase)
    echo "erase $input" >>"$dir/log"
    rm -f "$dir/creds" ;;
  *) exit 2 ;;
esac
"#;

/// `myvol ARGS` with the helper's directory first on PATH.
fn with_helper(t: &TestEnv, bin: &Path, args: &[&str], stdin: Option<&str>) -> Out {
    let mut c = t.cmd();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    c.env("DOCKER_CONFIG", t.dir.path().join("docker-config"))
        .env("MYVOL_DAEMON_CONFIG", t.dir.path().join("daemon.json"))
        .env_remove("DOCKER_AUTH_CONFIG")
        .env("PATH", path)
        .args(args);
    t.exec(c, stdin)
}

fn helper_log(bin: &Path) -> Vec<String> {
    std::fs::read_to_string(bin.join("log")).unwrap_or_default().lines().map(str::to_owned).collect()
}

#[test]
fn a_credential_helper_stores_gives_and_erases_the_credentials() {
    let Some(b) = basic() else { return };
    let bin = b.t.dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let script = bin.join("docker-credential-test");
    std::fs::write(&script, HELPER).unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let config_dir = b.t.dir.path().join("docker-config");
    std::fs::create_dir(&config_dir).unwrap();
    let config = config_dir.join("config.json");
    std::fs::write(&config, json!({"credsStore": "test"}).to_string()).unwrap();
    let image = format!("{}/app:1", b.reg.addr);
    let run = |args: &[&str], stdin: Option<&str>| with_helper(&b.t, &bin, args, stdin);

    // No credentials yet: the helper is asked, has none, and the registry refuses the pull.
    let o = run(&["pull", "-q", &image], None);
    assert_eq!(o.code, 1, "{o:#?}");
    assert_eq!(helper_log(&bin), [format!("get {}", b.reg.addr)]);

    // login stores through the helper: nothing secret in config.json, no warning about it.
    let o = run(&["login", "-u", BASIC_USER, "--password-stdin", &b.reg.addr], Some(BASIC_PASSWORD));
    assert_eq!((o.code, o.stdout.as_str(), o.stderr.as_str()), (0, "Login Succeeded\n", ""), "{o:#?}");
    assert_eq!(helper_log(&bin).last().unwrap(), "store");
    let stored: serde_json::Value = serde_json::from_slice(&std::fs::read(bin.join("creds")).unwrap()).unwrap();
    assert_eq!(stored, json!({"ServerURL": b.reg.addr, "Username": BASIC_USER, "Secret": BASIC_PASSWORD}));
    assert!(!std::fs::read_to_string(&config).unwrap().contains(BASIC_PASSWORD));

    // pull gets them from the helper.
    std::fs::remove_file(bin.join("log")).unwrap();
    let o = run(&["pull", "-q", &image], None);
    assert_eq!((o.code, o.stdout.as_str()), (0, format!("{image}\n").as_str()), "{o:#?}");
    assert_eq!(helper_log(&bin), [format!("get {}", b.reg.addr)]);

    // logout erases them through the helper; the next pull is refused again.
    let o = run(&["logout", &b.reg.addr], None);
    assert_eq!(o.code, 0, "{o:#?}");
    assert!(helper_log(&bin).contains(&format!("erase {}", b.reg.addr)), "{:?}", helper_log(&bin));
    assert!(!bin.join("creds").exists());
    assert_eq!(run(&["image", "rm", &image], None).code, 0);
    assert_eq!(run(&["pull", "-q", &image], None).code, 1);

    // credHelpers names the helper of one registry, before credsStore.
    std::fs::write(
        bin.join("creds"),
        json!({"ServerURL": b.reg.addr, "Username": BASIC_USER, "Secret": BASIC_PASSWORD}).to_string(),
    )
    .unwrap();
    std::fs::write(&config, json!({"credsStore": "missing", "credHelpers": {&b.reg.addr: "test"}}).to_string())
        .unwrap();
    let o = run(&["pull", "-q", &image], None);
    assert_eq!(o.code, 0, "{o:#?}");
}

/// `myvol ARGS` on a terminal (script(1)): what the terminal got, and the exit status.
fn on_terminal(t: &TestEnv, args: &str) -> (Option<i32>, String) {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_myvol"));
    let o = Command::new("script")
        .args(["-qec", &format!("{} {args}", bin.display()), "/dev/null"])
        .env("MYVOL_ROOT", &t.root)
        .env("DOCKER_CONFIG", t.dir.path().join("docker-config"))
        .env("MYVOL_DAEMON_CONFIG", t.dir.path().join("daemon.json"))
        .env("COLUMNS", "120")
        .env_remove("DOCKER_AUTH_CONFIG")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (o.status.code(), String::from_utf8_lossy(&o.stdout).into_owned())
}

#[test]
fn the_pull_progress_on_a_terminal_has_a_line_per_layer() {
    if !require_tools(&["script"]) {
        return;
    }
    let Some(reg) = Registry::start() else { return };
    // Four layers, three fetched at a time: the fourth waits while the others download; a
    // large one downloads in several steps.
    let big: Vec<u8> = (0..4u32 << 20).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let layers = vec![
        (layer(&[Member::File("big", &big)]), Comp::Plain),
        (layer(&[Member::File("b", b"2")]), Comp::Gzip),
        (layer(&[Member::File("c", b"3")]), Comp::Gzip),
        (layer(&[Member::File("d", b"4")]), Comp::Gzip),
    ];
    let pushed = push_image(&reg.addr, "app", Some("1"), &ImageSpec::new(layers, json!({})));
    let proxy = Proxy::start(&reg.addr);
    proxy.delay_blobs(Duration::from_millis(300));
    let t = TestEnv::new();
    let image = format!("{}/app:1", proxy.addr);
    let (code, screen) = on_terminal(&t, &format!("pull {image}"));
    assert_eq!(code, Some(0), "{screen}");
    for d in &pushed.blobs {
        let id = &d.hex()[..12];
        let at = |what: &str| screen.find(&format!("{id}: {what}"));
        let (waiting, complete) = (at("Waiting"), at("Pull complete"));
        assert!(waiting.is_some() && complete.is_some() && waiting < complete, "{id}: {screen:?}");
    }
    let big_id = &pushed.blobs[0].hex()[..12];
    let downloading = screen.find(&format!("{big_id}: Downloading ["));
    assert!(downloading.is_some() && downloading < screen.find(&format!("{big_id}: Pull complete")), "{screen:?}");
    assert!(screen.contains(&format!("Status: Downloaded newer image for {image}")), "{screen:?}");

    // -q on a terminal: the name only, no progress.
    let t = TestEnv::new();
    let (code, screen) = on_terminal(&t, &format!("pull -q {image}"));
    assert_eq!((code, screen.as_str()), (Some(0), format!("{image}\r\n").as_str()));
}
