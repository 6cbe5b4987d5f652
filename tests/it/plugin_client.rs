//! The volume plugin client (`myvol::driver::plugin`) against real sockets: discovery on disk,
//! the exact bytes sent, errors as Docker words them, retries, timeouts, and that no call
//! leaves (or starts) a thread.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use myvol::driver::plugin::{Address, PluginError, Registry, Timeouts, VolumePlugin};
use serde_json::{Value, json};

use crate::plugin_server::{FakePlugin, Fault};

fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("myvol-plugin-").tempdir().expect("tempdir")
}

/// One directory for sockets and specs, as `MYVOL_PLUGIN_PATH=dir` gives.
fn reg(dir: &Path) -> Registry {
    Registry::new(vec![dir.to_owned()], vec![dir.to_owned()])
}

/// [`reg`], with plugin `t` allowed over TCP (`MYVOL_PLUGIN_TCP=t`).
fn reg_tcp(dir: &Path) -> Registry {
    reg(dir).allow_tcp(["t"])
}

fn write(path: &Path, content: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

/// A socket file with nobody listening: connecting to it is refused.
fn dead_socket(path: &Path) {
    drop(UnixListener::bind(path).unwrap());
}

fn unix(p: &Path) -> Result<Address, String> {
    Ok(Address::Unix(p.to_owned()))
}

fn find(r: &Registry, name: &str) -> Result<Address, String> {
    r.find(name).map_err(|e| e.to_string())
}

// ---- discovery -------------------------------------------------------------------------

#[test]
fn discovery_sockets() {
    let d = tempdir();
    let socks = d.path().join("socks");
    let specs = d.path().join("specs");
    std::fs::create_dir_all(&socks).unwrap();
    let r = Registry::new(vec![socks.clone()], vec![specs.clone()]);

    // A socket beats a spec file naming another address.
    dead_socket(&socks.join("a.sock"));
    write(&specs.join("a.spec"), "unix:///elsewhere.sock\n");
    assert_eq!(find(&r, "a"), unix(&socks.join("a.sock")));

    // NAME/NAME.sock.
    std::fs::create_dir(socks.join("b")).unwrap();
    dead_socket(&socks.join("b/b.sock"));
    assert_eq!(find(&r, "b"), unix(&socks.join("b/b.sock")));

    // A file named NAME.sock that is not a socket is skipped: the spec is used, else not found.
    write(&socks.join("c.sock"), "");
    assert_eq!(find(&r, "c"), Err(r#"plugin "c" not found"#.into()));
    write(&specs.join("c.spec"), "unix:///run/c.sock");
    assert_eq!(find(&r, "c"), unix(Path::new("/run/c.sock")));

    // A symlink to a socket counts (Docker stats, following links).
    std::os::unix::fs::symlink(socks.join("a.sock"), socks.join("l.sock")).unwrap();
    assert_eq!(find(&r, "l"), unix(&socks.join("l.sock")));

    assert_eq!(find(&r, "nope"), Err(r#"plugin "nope" not found"#.into()));
    assert!(matches!(r.find("nope"), Err(PluginError::NotFound { name }) if name == "nope"));
}

#[test]
fn discovery_spec_files() {
    let d = tempdir();
    let (s1, s2) = (d.path().join("s1"), d.path().join("s2"));
    let r = Registry::new(vec![], vec![s1.clone(), s2.clone()]).allow_tcp(["*"]);

    write(&s1.join("u.spec"), "  unix:///run/u.sock \n");
    assert_eq!(find(&r, "u"), unix(Path::new("/run/u.sock")));
    write(&s1.join("t.spec"), "tcp://localhost:8080\n");
    assert_eq!(find(&r, "t"), Ok(Address::Tcp("localhost:8080".into())));
    write(&s1.join("n/n.spec"), "tcp://10.0.0.1:9000");
    assert_eq!(find(&r, "n"), Ok(Address::Tcp("10.0.0.1:9000".into())));
    write(&s1.join("j.json"), r#"{"Name":"j","Addr":"unix:///run/j.sock"}"#);
    assert_eq!(find(&r, "j"), unix(Path::new("/run/j.sock")));
    write(&s1.join("jn/jn.json"), r#"{"Addr":"tcp://h:1"}"#);
    assert_eq!(find(&r, "jn"), Ok(Address::Tcp("h:1".into())));

    // Docker's order in one directory: NAME.spec, NAME/NAME.spec, NAME.json, NAME/NAME.json.
    write(&s1.join("o.json"), r#"{"Addr":"unix:///from-json.sock"}"#);
    write(&s1.join("o/o.spec"), "unix:///from-nested-spec.sock");
    assert_eq!(find(&r, "o"), unix(Path::new("/from-nested-spec.sock")));
    write(&s1.join("o.spec"), "unix:///from-spec.sock");
    assert_eq!(find(&r, "o"), unix(Path::new("/from-spec.sock")));
    // The first directory's .json beats the second directory's .spec.
    write(&s1.join("p.json"), r#"{"Addr":"unix:///first-dir.sock"}"#);
    write(&s2.join("p.spec"), "unix:///second-dir.sock");
    assert_eq!(find(&r, "p"), unix(Path::new("/first-dir.sock")));
    write(&s2.join("q.spec"), "unix:///second-dir.sock");
    assert_eq!(find(&r, "q"), unix(Path::new("/second-dir.sock")));

    // No scheme: Docker's text.
    write(&s1.join("ns.spec"), "/run/ns.sock\n");
    assert_eq!(find(&r, "ns"), Err("Unknown protocol".into()));
    write(&s1.join("nj.json"), r#"{"Addr":"localhost:80"}"#);
    assert_eq!(find(&r, "nj"), Err("Unknown protocol".into()));

    // TLS is refused, clearly; a TLSConfig without files is harmless (plain HTTP, as Docker).
    let tls = s1.join("tls.json");
    write(&tls, r#"{"Addr":"tcp://h:443","TLSConfig":{"InsecureSkipVerify":false,"CAFile":"/etc/ca.pem"}}"#);
    assert_eq!(
        find(&r, "tls"),
        Err(format!(r#"plugin "tls": {} asks for TLS, which myvol does not support"#, tls.display()))
    );
    assert!(matches!(r.find("tls"), Err(PluginError::TlsUnsupported { .. })));
    write(&s1.join("https.spec"), "https://h:443");
    assert!(matches!(r.find("https"), Err(PluginError::TlsUnsupported { .. })));
    write(&s1.join("insecure.json"), r#"{"Addr":"tcp://h:80","TLSConfig":{"InsecureSkipVerify":true}}"#);
    assert_eq!(find(&r, "insecure"), Ok(Address::Tcp("h:80".into())));

    let bad = s1.join("bad.json");
    write(&bad, "{not json");
    let e = find(&r, "bad").unwrap_err();
    assert!(e.starts_with(&format!(r#"plugin "bad": invalid spec file {}: invalid JSON: "#, bad.display())), "{e}");

    // TCP only for the plugins the user names (MYVOL_PLUGIN_TCP): who answers cannot be checked.
    let strict = Registry::new(vec![], vec![s1.clone()]).allow_tcp(["n"]);
    assert_eq!(find(&strict, "n"), Ok(Address::Tcp("10.0.0.1:9000".into())));
    assert_eq!(
        find(&strict, "t"),
        Err(format!(
            "plugin \"t\": {} gives the TCP address localhost:8080; myvol uses a TCP plugin only when MYVOL_PLUGIN_TCP names it, as who answers cannot be checked",
            s1.join("t.spec").display()
        ))
    );
    assert!(matches!(strict.find("jn"), Err(PluginError::TcpNotAllowed { .. })));
    // Unix sockets need no permission.
    assert_eq!(find(&strict, "u"), unix(Path::new("/run/u.sock")));
}

#[test]
fn discovery_plugin_path_sockets_first() {
    // MYVOL_PLUGIN_PATH=a:b: sockets in every directory before spec files in any.
    let d = tempdir();
    let (a, b) = (d.path().join("a"), d.path().join("b"));
    std::fs::create_dir_all(&b).unwrap();
    write(&a.join("x.spec"), "unix:///spec.sock");
    dead_socket(&b.join("x.sock"));
    let r = Registry::new(vec![a.clone(), b.clone()], vec![a, b.clone()]);
    assert_eq!(find(&r, "x"), unix(&b.join("x.sock")));
}

// ---- the bytes on the wire -------------------------------------------------------------

/// A plugin that answers a fixed script and keeps the raw bytes of each request (at most a
/// few bytes more than expected, to show extra bytes).
fn raw_server(socket: &Path, script: Vec<(usize, &'static str)>) -> std::thread::JoinHandle<Vec<Vec<u8>>> {
    let l = UnixListener::bind(socket).unwrap();
    std::thread::spawn(move || {
        let mut got = Vec::new();
        for (want_len, answer) in script {
            let (mut s, _) = l.accept().unwrap();
            s.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // Read what was sent: up to the expected length, then whatever else comes quickly.
            loop {
                match s.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
                if buf.len() >= want_len {
                    s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
                }
            }
            let resp = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{answer}", answer.len());
            s.write_all(resp.as_bytes()).unwrap();
            got.push(buf);
        }
        got
    })
}

fn post(method: &str, body: &str) -> String {
    format!(
        "POST /{method} HTTP/1.1\r\nHost: plugin.moby.localhost\r\nContent-Length: {}\r\n\
         Accept: application/vnd.docker.plugins.v1.2+json\r\n\r\n{body}",
        body.len()
    )
}

#[test]
fn exact_request_bytes() {
    let d = tempdir();
    let expected = [
        post("Plugin.Activate", ""),
        post("VolumeDriver.Create", "{\"Name\":\"v1\",\"Opts\":null}\n"),
        post("VolumeDriver.Create", "{\"Name\":\"v2\",\"Opts\":{}}\n"),
        post("VolumeDriver.Create", "{\"Name\":\"v3\",\"Opts\":{\"a\":\"1\",\"b\":\"x y\"}}\n"),
        post("VolumeDriver.List", "{}\n"),
        post("VolumeDriver.Capabilities", "{}\n"),
        post("VolumeDriver.Mount", "{\"Name\":\"v1\",\"ID\":\"abc\"}\n"),
        post("VolumeDriver.Unmount", "{\"Name\":\"v1\",\"ID\":\"abc\"}\n"),
        post("VolumeDriver.Path", "{\"Name\":\"v1\"}\n"),
        post("VolumeDriver.Get", "{\"Name\":\"v1\"}\n"),
        post("VolumeDriver.Remove", "{\"Name\":\"v1\"}\n"),
    ];
    let answers = [
        r#"{"Implements":["VolumeDriver"]}"#,
        "{}",
        "{}",
        "{}",
        r#"{"Volumes":[]}"#,
        r#"{"Capabilities":{"Scope":"global"}}"#,
        r#"{"Mountpoint":"/m"}"#,
        "{}",
        r#"{"Mountpoint":"/m"}"#,
        r#"{"Volume":{"Name":"v1","Mountpoint":"/m"}}"#,
        "{}",
    ];
    let script = expected.iter().zip(answers).map(|(e, a)| (e.len(), a)).collect();
    let server = raw_server(&d.path().join("raw.sock"), script);

    let p = VolumePlugin::activate(&reg(d.path()), "raw").unwrap();
    p.create("v1", None).unwrap();
    p.create("v2", Some(&BTreeMap::new())).unwrap();
    let opts: BTreeMap<String, String> =
        [("b", "x y"), ("a", "1")].iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    p.create("v3", Some(&opts)).unwrap();
    assert_eq!(p.list().unwrap(), vec![]);
    assert_eq!(p.scope(), "global");
    assert_eq!(p.mount("v1", "abc").unwrap(), "/m");
    p.unmount("v1", "abc").unwrap();
    assert_eq!(p.path("v1").unwrap(), "/m");
    assert_eq!(p.get("v1").unwrap().mountpoint, "/m");
    p.remove("v1").unwrap();

    let got = server.join().unwrap();
    for (got, want) in got.iter().zip(&expected) {
        assert_eq!(String::from_utf8_lossy(got), *want);
    }
    assert_eq!(got.len(), expected.len());
}

#[test]
fn tcp_plugin_sends_host_port() {
    let d = tempdir();
    let fake = FakePlugin::start_tcp(d.path());
    let port = fake.tcp_addr().unwrap().port();
    // "localhost" may resolve to ::1 first, where nothing listens: the next address is tried.
    write(&d.path().join("t.spec"), &format!("tcp://localhost:{port}\n"));
    let p = VolumePlugin::activate(&reg_tcp(d.path()), "t").unwrap();
    assert_eq!(p.address(), &Address::Tcp(format!("localhost:{port}")));
    p.create("v", None).unwrap();
    assert_eq!(fake.volumes(), ["v"]);
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 2);
    for r in &reqs {
        assert_eq!(r.verb, "POST");
        assert_eq!(r.header("host"), Some(format!("localhost:{port}").as_str()));
        assert_eq!(r.header("accept"), Some("application/vnd.docker.plugins.v1.2+json"));
        assert_eq!(r.header("content-type"), None);
    }
    assert_eq!(reqs[1].json, Some(json!({"Name": "v", "Opts": null})));
}

// ---- a plugin's life -------------------------------------------------------------------

#[test]
fn volume_lifecycle() {
    let d = tempdir();
    let fake = FakePlugin::start(d.path(), "fake");
    let p = VolumePlugin::activate(&reg(d.path()), "fake").unwrap();
    assert_eq!(p.name(), "fake");

    let opts: BTreeMap<String, String> = [("size".to_string(), "1g".to_string())].into();
    p.create("data", Some(&opts)).unwrap();
    p.create("bare", None).unwrap();
    assert_eq!(fake.opts("data"), Some(json!({"size": "1g"})));
    assert_eq!(fake.opts("bare"), Some(Value::Null));

    let list = p.list().unwrap();
    assert_eq!(list.iter().map(|v| v.name.as_str()).collect::<Vec<_>>(), ["bare", "data"]);
    let v = p.get("data").unwrap();
    assert_eq!((v.name.as_str(), v.mountpoint.as_str()), ("data", ""));
    assert!(v.created_at.is_some());
    assert_eq!(v.status.map(Value::Object), Some(json!({"Mounts": []})));
    assert_eq!(p.path("data").unwrap(), "");

    let mnt = fake.mountpoint("data");
    let (id1, id2) = (myvol::name::random_hex_id(), myvol::name::random_hex_id());
    assert_eq!(p.mount("data", &id1).unwrap(), mnt.to_str().unwrap());
    assert_eq!(p.mount("data", &id2).unwrap(), mnt.to_str().unwrap());
    assert!(mnt.is_dir());
    assert_eq!(fake.mounts("data"), [(id1.clone(), 1), (id2.clone(), 1)].into());
    std::fs::write(mnt.join("f"), "kept").unwrap();
    assert_eq!(p.path("data").unwrap(), mnt.to_str().unwrap());

    let e = p.remove("data").unwrap_err();
    assert_eq!(e.to_string(), "volume in use");
    assert!(matches!(e, PluginError::Remote { method: "VolumeDriver.Remove", .. }), "{e:?}");

    p.unmount("data", &id1).unwrap();
    assert!(mnt.is_dir(), "still mounted with the second id");
    p.unmount("data", &id2).unwrap();
    assert!(!mnt.exists());
    assert_eq!(p.mount("data", &id1).unwrap(), mnt.to_str().unwrap());
    assert_eq!(std::fs::read_to_string(mnt.join("f")).unwrap(), "kept");
    p.unmount("data", &id1).unwrap();
    p.remove("data").unwrap();
    assert_eq!(fake.volumes(), ["bare"]);

    // Unknown volumes: HTTP 500 {"Err":…}, as rclone answers.
    let e = p.get("data").unwrap_err();
    assert_eq!(e.to_string(), "VolumeDriver.Get: volume not found");
    assert!(matches!(e, PluginError::Status { status: 500, .. }), "{e:?}");
    assert_eq!(p.path("data").unwrap_err().to_string(), "VolumeDriver.Path: volume not found");

    assert_eq!(
        fake.methods(),
        [
            "Plugin.Activate",
            "VolumeDriver.Create",
            "VolumeDriver.Create",
            "VolumeDriver.List",
            "VolumeDriver.Get",
            "VolumeDriver.Path",
            "VolumeDriver.Mount",
            "VolumeDriver.Mount",
            "VolumeDriver.Path",
            "VolumeDriver.Remove",
            "VolumeDriver.Unmount",
            "VolumeDriver.Unmount",
            "VolumeDriver.Mount",
            "VolumeDriver.Unmount",
            "VolumeDriver.Remove",
            "VolumeDriver.Get",
            "VolumeDriver.Path",
        ]
    );
}

// ---- errors ------------------------------------------------------------------------------

fn started() -> (tempfile::TempDir, FakePlugin, VolumePlugin) {
    let d = tempdir();
    let fake = FakePlugin::start(d.path(), "fake");
    let p = VolumePlugin::activate(&reg(d.path()), "fake").unwrap();
    (d, fake, p)
}

#[test]
fn plugin_errors() {
    let (_d, fake, p) = started();

    // 200 with Err: exactly the plugin's text.
    fake.fail("VolumeDriver.Create", Fault::Err("no space left on the cloud".into()));
    assert_eq!(p.create("v", None).unwrap_err().to_string(), "no space left on the cloud");

    // Another status: `Method: Err`, or `Method: body` trimmed.
    fake.fail("VolumeDriver.Remove", Fault::Reply(500, r#"{"Err":"it broke"}"#.into()));
    assert_eq!(p.remove("v").unwrap_err().to_string(), "VolumeDriver.Remove: it broke");
    fake.fail("VolumeDriver.Remove", Fault::Reply(502, "  bad gateway\n".into()));
    let e = p.remove("v").unwrap_err();
    assert_eq!(e.to_string(), "VolumeDriver.Remove: bad gateway");
    assert!(matches!(e, PluginError::Status { status: 502, .. }), "{e:?}");
    fake.fail("VolumeDriver.Remove", Fault::Reply(500, r#"{"Err":""}"#.into()));
    assert_eq!(p.remove("v").unwrap_err().to_string(), r#"VolumeDriver.Remove: {"Err":""}"#);

    // Not JSON.
    fake.fail("VolumeDriver.List", Fault::Reply(200, "<html>".into()));
    let e = p.list().unwrap_err();
    assert!(
        e.to_string().starts_with(r#"VolumeDriver.List: the response of plugin "fake" is not valid JSON: "#),
        "{e}"
    );
    fake.fail("VolumeDriver.List", Fault::Reply(200, "".into()));
    assert!(matches!(p.list(), Err(PluginError::InvalidJson { method: "VolumeDriver.List", .. })));
    // Wrong shapes.
    fake.fail("VolumeDriver.List", Fault::Reply(200, r#"{"Volumes":{}}"#.into()));
    assert_eq!(
        p.list().unwrap_err().to_string(),
        r#"VolumeDriver.List: unexpected response from plugin "fake": Volumes is an object, not an array"#
    );
    fake.fail("VolumeDriver.List", Fault::Reply(200, r#"{"Err":42}"#.into()));
    assert!(matches!(p.list(), Err(PluginError::BadResponse { .. })));
    // Lenient like Go: trailing data after the value, field names in any case.
    fake.fail("VolumeDriver.List", Fault::Reply(200, r#"{"volumes":[{"name":"x"}]} trailing"#.into()));
    assert_eq!(p.list().unwrap()[0].name, "x");

    // Too large: refused, not buffered.
    let huge = format!("{{\"Volumes\":[],\"pad\":\"{}\"}}", "x".repeat(myvol::driver::plugin::MAX_RESPONSE));
    fake.fail("VolumeDriver.List", Fault::Reply(200, huge));
    assert_eq!(
        p.list().unwrap_err().to_string(),
        r#"VolumeDriver.List: the response of plugin "fake" is larger than 1 MiB"#
    );

    // Mount without a mountpoint; Get without a volume.
    fake.fail("VolumeDriver.Mount", Fault::Reply(200, r#"{"Mountpoint":""}"#.into()));
    assert_eq!(
        p.mount("v", "id").unwrap_err().to_string(),
        r#"VolumeDriver.Mount: plugin "fake" returned no mountpoint for volume "v""#
    );
    fake.fail("VolumeDriver.Get", Fault::Reply(200, "{}".into()));
    assert_eq!(p.get("v").unwrap_err().to_string(), "no such volume");
}

#[test]
fn scope_is_local_unless_global() {
    let (_d, fake, p) = started();
    assert_eq!(p.scope(), "local");
    fake.set_scope(Some("GLOBAL"));
    assert_eq!(p.scope(), "global");
    fake.set_scope(Some("cluster"));
    assert_eq!(p.scope(), "local");
    fake.set_scope(Some(""));
    assert_eq!(p.scope(), "local");
    fake.set_scope(None);
    assert_eq!(p.scope(), "local");
    fake.set_scope(Some("global"));
    fake.fail("VolumeDriver.Capabilities", Fault::Err("nope".into()));
    assert_eq!(p.scope(), "local");
    fake.clear_fault("VolumeDriver.Capabilities");
    assert_eq!(p.scope(), "global");
    let caps = fake.requests().into_iter().filter(|r| r.method == "VolumeDriver.Capabilities").count();
    assert_eq!(caps, 7, "every scope() asks the plugin");
}

#[test]
fn activate_needs_volume_driver() {
    let d = tempdir();
    let fake = FakePlugin::start(d.path(), "net");
    fake.set_implements(&["NetworkDriver", "IpamDriver"]);
    let e = VolumePlugin::activate(&reg(d.path()), "net").unwrap_err();
    assert_eq!(e.to_string(), "Plugin does not implement the requested driver");
    assert!(
        matches!(&e, PluginError::NotVolumeDriver { implements, .. } if implements == &["NetworkDriver", "IpamDriver"])
    );
    fake.set_implements(&[]);
    assert!(matches!(VolumePlugin::activate(&reg(d.path()), "net"), Err(PluginError::NotVolumeDriver { .. })));
    fake.set_implements(&["Authz", "VolumeDriver"]);
    VolumePlugin::activate(&reg(d.path()), "net").unwrap();
    // Activate carries no body at all.
    assert!(fake.requests().iter().all(|r| r.method == "Plugin.Activate" && r.body.is_empty()));
}

// ---- connections, retries, timeouts ----------------------------------------------------

#[test]
fn connection_refused_after_retries() {
    let d = tempdir();
    let sock = d.path().join("gone.sock");
    dead_socket(&sock);
    let t = Instant::now();
    let e = VolumePlugin::activate(&reg(d.path()), "gone").unwrap_err();
    let elapsed = t.elapsed();
    assert_eq!(
        e.to_string(),
        format!(
            r#"Post "http://plugin.moby.localhost/Plugin.Activate": dial unix {}: connect: connection refused"#,
            sock.display()
        )
    );
    assert!(matches!(e, PluginError::Connect { attempts: 6, .. }), "{e:?}");
    assert!(elapsed >= Duration::from_millis(1500) && elapsed < Duration::from_secs(5), "{elapsed:?}");
}

#[test]
fn missing_socket_after_retries() {
    let d = tempdir();
    write(&d.path().join("m.spec"), &format!("unix://{}/m.sock", d.path().display()));
    let e = VolumePlugin::activate(&reg(d.path()), "m").unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            r#"Post "http://plugin.moby.localhost/Plugin.Activate": dial unix {}/m.sock: connect: no such file or directory"#,
            d.path().display()
        )
    );
    assert!(matches!(e, PluginError::Connect { attempts: 6, .. }), "{e:?}");
}

#[test]
fn tcp_connection_refused() {
    let d = tempdir();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    write(&d.path().join("t.spec"), &format!("tcp://127.0.0.1:{port}"));
    let e = VolumePlugin::activate(&reg_tcp(d.path()), "t").unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            r#"Post "http://127.0.0.1:{port}/Plugin.Activate": dial tcp 127.0.0.1:{port}: connect: connection refused"#
        )
    );
}

/// The plugin's socket appears 200 ms after the first call: that delay is the behaviour under
/// test (a plugin still starting), not a wait for readiness.
#[test]
fn a_socket_that_appears_is_reached_by_retrying() {
    let d = tempdir();
    let sock = d.path().join("late.sock");
    write(&d.path().join("late.spec"), &format!("unix://{}", sock.display()));
    let (dir, s) = (d.path().to_owned(), sock.clone());
    let starter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        FakePlugin::start_unix(&dir, &s)
    });
    let t = Instant::now();
    let p = VolumePlugin::activate(&reg(d.path()), "late").unwrap();
    assert!(t.elapsed() >= Duration::from_millis(200));
    let fake = starter.join().unwrap();
    p.create("v", None).unwrap();
    assert_eq!(fake.methods(), ["Plugin.Activate", "VolumeDriver.Create"]);
}

/// A slow plugin (`Fault::Delay`, a sleep in the fake plugin) is the behaviour under test.
#[test]
fn timeouts() {
    let (_d, fake, mut p) = started();
    fake.fail("VolumeDriver.Get", Fault::Delay(Duration::from_secs(3)));
    p.timeouts = Timeouts::all(Duration::from_millis(200));
    let t = Instant::now();
    let e = p.get("v").unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    assert_eq!(e.to_string(), r#"VolumeDriver.Get: plugin "fake" did not answer within 200ms"#);
    assert!(matches!(e, PluginError::Timeout { method: "VolumeDriver.Get", .. }));

    // Create and Mount get the long timeout, the others the short one.
    p.timeouts = Timeouts { long: Duration::from_secs(5), short: Duration::from_millis(100) };
    for m in ["VolumeDriver.Create", "VolumeDriver.Mount", "VolumeDriver.Remove"] {
        fake.fail(m, Fault::Delay(Duration::from_millis(400)));
    }
    p.create("v", None).unwrap();
    p.mount("v", "id").unwrap();
    assert!(matches!(p.remove("v"), Err(PluginError::Timeout { method: "VolumeDriver.Remove", .. })));
}

// ---- threads -----------------------------------------------------------------------------

const PROBE_ENV: &str = "MYVOL_TEST_PLUGIN_PROBE_DIR";

fn thread_count(pid: &str) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task")).map(|d| d.count()).unwrap_or(0)
}

/// Plugin calls start no thread, not even for a while: a child process (this test again, in
/// this test binary, told by `PROBE_ENV` to be the child) makes calls against slow plugins
/// (unix and TCP by host name) while this test samples the child's thread count.
#[test]
fn calls_start_no_thread() {
    if let Some(dir) = std::env::var_os(PROBE_ENV) {
        return thread_probe(Path::new(&dir));
    }
    let d = tempdir();
    let unix = FakePlugin::start(d.path(), "u");
    let tcp = FakePlugin::start_tcp(d.path());
    write(&d.path().join("t.spec"), &format!("tcp://localhost:{}", tcp.tcp_addr().unwrap().port()));
    for fake in [&unix, &tcp] {
        for m in ["Plugin.Activate", "VolumeDriver.Create", "VolumeDriver.Mount", "VolumeDriver.List"] {
            fake.fail(m, Fault::Delay(Duration::from_millis(40)));
        }
    }

    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "plugin_client::calls_start_no_thread", "--test-threads=1", "--nocapture"])
        .env(PROBE_ENV, d.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    let mut most = 0;
    while child.try_wait().unwrap().is_none() {
        most = most.max(thread_count(&pid));
        std::thread::sleep(Duration::from_millis(1));
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("probe: ").map(|(_, rest)| rest))
        .unwrap_or_else(|| panic!("no probe line: {stdout}"));
    let counts: Vec<usize> = line.split(' ').map(|n| n.parse().unwrap()).collect();
    let (before, after) = (counts[0], counts[1]);
    assert_eq!(after, before, "threads left behind by plugin calls");
    assert!(most <= before, "a plugin call ran with {most} threads, {before} before it");
    // The calls did happen, slowly enough to be seen.
    assert_eq!(unix.methods().len(), 6, "{:?}", unix.methods());
    assert_eq!(tcp.methods().len(), 3, "{:?}", tcp.methods());
}

/// The child of `calls_start_no_thread`: plugin calls, and the thread counts before and after.
fn thread_probe(dir: &Path) {
    let r = reg_tcp(dir);
    let before = thread_count("self");
    let p = VolumePlugin::activate(&r, "u").unwrap();
    p.create("v", None).unwrap();
    let mp = p.mount("v", "id").unwrap();
    assert_eq!(PathBuf::from(mp), dir.join("mnt/v"));
    p.unmount("v", "id").unwrap();
    assert_eq!(p.list().unwrap().len(), 1);
    assert_eq!(p.scope(), "local");
    let t = VolumePlugin::activate(&r, "t").unwrap();
    t.create("w", None).unwrap();
    t.list().unwrap();
    let after = thread_count("self");
    println!("probe: {before} {after}");
}
