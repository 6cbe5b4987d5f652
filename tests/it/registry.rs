//! Image test rig: a real registry (Debian's `docker-registry`, started per test on a free
//! port of 127.0.0.1, stopped and deleted on drop), images built here from a busybox rootfs
//! and pushed through the registry API (blob upload POST + PUT, manifest PUT), and a proxy in
//! front of the registry that can demand bearer tokens, count requests, corrupt a blob and
//! slow blobs down.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use myvol::image::digest::Digest;
use serde_json::{Value, json};

use crate::env::TestEnv;

// ------------------------------------------------------------------ a minimal HTTP/1.1 client

/// A response: status, headers (lower-case names), body.
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// One request on a new connection (`Connection: close`), for pushing and probing.
pub fn http(method: &str, addr: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> std::io::Result<Resp> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut req =
        format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())?;
    s.write_all(body)?;
    let mut r = BufReader::new(s);
    let mut line = String::new();
    r.read_line(&mut line)?;
    let status: u16 = line.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let mut headers = Vec::new();
    loop {
        line.clear();
        r.read_line(&mut line)?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.trim().to_lowercase(), v.trim().to_owned()));
        }
    }
    let mut body = Vec::new();
    let chunked = headers.iter().any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    if chunked {
        loop {
            line.clear();
            r.read_line(&mut line)?;
            let n = usize::from_str_radix(line.trim(), 16).unwrap_or(0);
            if n == 0 {
                break;
            }
            let mut chunk = vec![0; n];
            r.read_exact(&mut chunk)?;
            body.extend_from_slice(&chunk);
            line.clear();
            r.read_line(&mut line)?;
        }
    } else if method != "HEAD" {
        r.read_to_end(&mut body)?;
    }
    Ok(Resp { status, headers, body })
}

// ------------------------------------------------------------------ the registry

/// A `docker-registry` serving from a private directory; killed and deleted on drop.
pub struct Registry {
    pub dir: tempfile::TempDir,
    child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
}

impl Registry {
    /// Start one, or `None` when the binary is missing (the test is then skipped, see
    /// `crate::env::require_tools`).
    #[track_caller]
    pub fn start() -> Option<Registry> {
        Registry::start_with(None)
    }

    /// A second registry serving `open`'s content that demands basic authentication: user
    /// [`BASIC_USER`], password [`BASIC_PASSWORD`] (its `htpasswd` holds their bcrypt hash,
    /// made once with cost 4). Images are pushed to `open`, pulled from this one.
    #[track_caller]
    pub fn start_basic_auth(open: &Registry) -> Option<Registry> {
        let htpasswd = format!("{BASIC_USER}:$2b$04$hpKRX9KQgJyca.CPeFb8luDvyVPHS0Un49HSkZ5BqwN3XsP/QZK2e\n");
        Registry::start_with(Some((&htpasswd, open)))
    }

    #[track_caller]
    fn start_with(basic_auth: Option<(&str, &Registry)>) -> Option<Registry> {
        if !crate::env::require_tools(&["docker-registry"]) {
            return None;
        }
        for _ in 0..5 {
            let dir = tempfile::Builder::new().prefix("myvol-registry-").tempdir().expect("tempdir");
            let port = free_port();
            let addr = format!("127.0.0.1:{port}");
            let data = basic_auth.map_or(dir.path(), |(_, open)| open.dir.path()).join("data");
            let mut config = format!(
                "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {addr}\n",
                data.display()
            );
            if let Some((h, _)) = basic_auth {
                std::fs::write(dir.path().join("htpasswd"), h).unwrap();
                let path = dir.path().join("htpasswd");
                config.push_str(&format!("auth:\n  htpasswd:\n    realm: test\n    path: {}\n", path.display()));
            }
            std::fs::write(dir.path().join("config.yml"), config).unwrap();
            let child = Command::new("docker-registry")
                .arg("serve")
                .arg(dir.path().join("config.yml"))
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(dir.path().join("log")).unwrap())
                .spawn()
                .expect("start docker-registry");
            let mut reg = Registry { dir, child, addr };
            if reg.wait_ready() {
                return Some(reg);
            }
        }
        panic!("docker-registry did not start");
    }

    /// Wait until `GET /v2/` answers; false if the process died first (the port was taken).
    fn wait_ready(&mut self) -> bool {
        let mut ready = false;
        crate::env::wait_until("docker-registry answers GET /v2/", crate::env::PATIENCE, || {
            // 401: one that demands credentials.
            ready = http("GET", &self.addr, "/v2/", &[], b"").is_ok_and(|r| matches!(r.status, 200 | 401));
            ready || matches!(self.child.try_wait(), Ok(Some(_)))
        });
        ready
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The user and password [`Registry::start_basic_auth`] accepts.
pub const BASIC_USER: &str = "bob";
pub const BASIC_PASSWORD: &str = "s3cret";

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

// ------------------------------------------------------------------ building and pushing images

/// How a layer is compressed on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comp {
    Plain,
    Gzip,
    Zstd,
}

/// A tar member for a layer.
#[derive(Clone, Copy)]
pub enum Member<'a> {
    Dir(&'a str),
    File(&'a str, &'a [u8]),
    Exec(&'a str, &'a [u8]),
    Symlink(&'a str, &'a str),
    Link(&'a str, &'a str),
    Char(&'a str, u32, u32),
    /// A raw name (hostile names the tar builder refuses).
    Raw(&'a [u8], tar::EntryType, &'a [u8]),
}

/// A layer tar from members.
pub fn layer(members: &[Member<'_>]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for m in members {
        let mut h = tar::Header::new_gnu();
        h.set_mtime(1_700_000_000);
        h.set_uid(0);
        h.set_gid(0);
        let (name, kind, data, mode, link): (&[u8], tar::EntryType, &[u8], u32, Option<&str>) = match m {
            Member::Dir(p) => (p.as_bytes(), tar::EntryType::Directory, b"", 0o755, None),
            Member::File(p, d) => (p.as_bytes(), tar::EntryType::Regular, d, 0o644, None),
            Member::Exec(p, d) => (p.as_bytes(), tar::EntryType::Regular, d, 0o755, None),
            Member::Symlink(p, t) => (p.as_bytes(), tar::EntryType::Symlink, b"", 0o777, Some(t)),
            Member::Link(p, t) => (p.as_bytes(), tar::EntryType::Link, b"", 0o644, Some(t)),
            Member::Char(p, ma, mi) => {
                h.set_device_major(*ma).unwrap();
                h.set_device_minor(*mi).unwrap();
                (p.as_bytes(), tar::EntryType::Char, b"", 0o600, None)
            }
            Member::Raw(p, k, d) => (p, *k, d, 0o644, None),
        };
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_size(data.len() as u64);
        let raw = &mut h.as_old_mut().name;
        raw.fill(0);
        raw[..name.len()].copy_from_slice(name);
        if let Some(l) = link {
            let raw = &mut h.as_old_mut().linkname;
            raw.fill(0);
            raw[..l.len()].copy_from_slice(l.as_bytes());
        }
        h.set_cksum();
        b.append(&h, data).unwrap();
    }
    b.into_inner().unwrap()
}

/// A busybox root filesystem as one layer: `/bin/busybox`, its applets as symlinks,
/// `/etc/passwd`.
pub fn busybox_layer() -> Option<Vec<u8>> {
    let bb = std::fs::read("/bin/busybox").ok()?;
    let list = Command::new("/bin/busybox").arg("--list").output().ok()?;
    let applets: Vec<String> = String::from_utf8_lossy(&list.stdout)
        .lines()
        .filter(|a| !a.is_empty() && *a != "busybox" && !a.contains('/'))
        .map(|a| format!("bin/{a}"))
        .collect();
    let mut m = vec![Member::Dir("bin/"), Member::Exec("bin/busybox", &bb), Member::Dir("etc/")];
    for a in &applets {
        m.push(Member::Symlink(a, "busybox"));
    }
    m.push(Member::File("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n"));
    m.push(Member::File("etc/group", b"root:x:0:\nnogroup:x:65534:\n"));
    Some(layer(&m))
}

pub fn compress(tar: &[u8], c: Comp) -> Vec<u8> {
    match c {
        Comp::Plain => tar.to_vec(),
        Comp::Gzip => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(tar).unwrap();
            e.finish().unwrap()
        }
        Comp::Zstd => zstd::encode_all(tar, 3).unwrap(),
    }
}

pub fn media_type(c: Comp) -> &'static str {
    match c {
        Comp::Plain => "application/vnd.oci.image.layer.v1.tar",
        Comp::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
        Comp::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
    }
}

/// An image to push: layers (uncompressed tar, compression) and the `config` object.
pub struct ImageSpec {
    pub layers: Vec<(Vec<u8>, Comp)>,
    pub config: Value,
    pub arch: String,
    /// Use Docker's media types (schema 2) instead of OCI's.
    pub docker_types: bool,
}

impl ImageSpec {
    pub fn new(layers: Vec<(Vec<u8>, Comp)>, config: Value) -> ImageSpec {
        ImageSpec { layers, config, arch: "amd64".into(), docker_types: false }
    }
}

/// What a push made.
#[derive(Debug, Clone)]
pub struct Pushed {
    pub manifest: Digest,
    pub manifest_size: usize,
    pub config: Digest,
    /// The layer blobs' digests, bottom first.
    pub blobs: Vec<Digest>,
    pub diff_ids: Vec<Digest>,
}

pub fn push_blob(addr: &str, repo: &str, data: &[u8]) -> Digest {
    let d = Digest::of(data);
    let r = http("POST", addr, &format!("/v2/{repo}/blobs/uploads/"), &[], b"").unwrap();
    assert_eq!(r.status, 202, "upload start: {}", String::from_utf8_lossy(&r.body));
    let loc = r.header("location").unwrap().to_owned();
    let path = loc.strip_prefix(&format!("http://{addr}")).unwrap_or(&loc).to_owned();
    let sep = if path.contains('?') { '&' } else { '?' };
    let r = http(
        "PUT",
        addr,
        &format!("{path}{sep}digest={}", d.as_str().replace(':', "%3A")),
        &[("Content-Type", "application/octet-stream")],
        data,
    )
    .unwrap();
    assert_eq!(r.status, 201, "upload: {}", String::from_utf8_lossy(&r.body));
    d
}

pub fn push_manifest(addr: &str, repo: &str, reference: &str, media_type: &str, body: &[u8]) -> Digest {
    let r =
        http("PUT", addr, &format!("/v2/{repo}/manifests/{reference}"), &[("Content-Type", media_type)], body).unwrap();
    assert_eq!(r.status, 201, "manifest put: {}", String::from_utf8_lossy(&r.body));
    Digest::of(body)
}

/// The config blob for `spec`.
pub fn config_blob(spec: &ImageSpec) -> (Vec<u8>, Vec<Digest>) {
    let diff_ids: Vec<Digest> = spec.layers.iter().map(|(t, _)| Digest::of(t)).collect();
    let cfg = json!({
        "created": "2026-11-01T10:00:00Z",
        "architecture": spec.arch,
        "os": "linux",
        "config": spec.config,
        "rootfs": {"type": "layers", "diff_ids": diff_ids.iter().map(|d| d.to_string()).collect::<Vec<_>>()},
        "history": [{"created": "2026-11-01T10:00:00Z", "created_by": "myvol test"}],
    });
    (serde_json::to_vec(&cfg).unwrap(), diff_ids)
}

/// A `docker save` archive (the `manifest.json` form, layers uncompressed) of `spec`, tagged
/// `tags` (`name:tag` each): what `myvol load` reads.
pub fn save_archive(spec: &ImageSpec, tags: &[&str]) -> Vec<u8> {
    let (cfg, _) = config_blob(spec);
    let names: Vec<String> = (0..spec.layers.len()).map(|i| format!("{i}/layer.tar")).collect();
    let manifest = serde_json::to_vec(&json!([{"Config": "config.json", "RepoTags": tags, "Layers": names}])).unwrap();
    let mut b = tar::Builder::new(Vec::new());
    let mut members: Vec<(&str, &[u8])> = vec![("config.json", &cfg)];
    members.extend(names.iter().map(String::as_str).zip(spec.layers.iter().map(|(t, _)| t.as_slice())));
    members.push(("manifest.json", &manifest));
    for (name, data) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, name, data).unwrap();
    }
    b.into_inner().unwrap()
}

/// Push `spec` as `repo:tag` (no tag: by digest only).
pub fn push_image(addr: &str, repo: &str, tag: Option<&str>, spec: &ImageSpec) -> Pushed {
    let (cfg, diff_ids) = config_blob(spec);
    let config = push_blob(addr, repo, &cfg);
    let mut layers = Vec::new();
    let mut blobs = Vec::new();
    for (tar, c) in &spec.layers {
        let data = compress(tar, *c);
        let d = push_blob(addr, repo, &data);
        let mt = if spec.docker_types && *c == Comp::Gzip {
            "application/vnd.docker.image.rootfs.diff.tar.gzip"
        } else {
            media_type(*c)
        };
        layers.push(json!({"mediaType": mt, "digest": d.to_string(), "size": data.len()}));
        blobs.push(d);
    }
    let (mt, cmt) = if spec.docker_types {
        ("application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.container.image.v1+json")
    } else {
        ("application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.config.v1+json")
    };
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": mt,
        "config": {"mediaType": cmt, "digest": config.to_string(), "size": cfg.len()},
        "layers": layers,
    });
    let body = serde_json::to_vec(&manifest).unwrap();
    let d = Digest::of(&body);
    push_manifest(addr, repo, tag.unwrap_or(d.as_str()), mt, &body);
    Pushed { manifest: d, manifest_size: body.len(), config, blobs, diff_ids }
}

/// Push an OCI index of `manifests` (platform → pushed image) as `repo:tag`.
pub fn push_index(addr: &str, repo: &str, tag: &str, manifests: &[(&str, &str, &Pushed)]) -> Digest {
    let entries: Vec<Value> = manifests
        .iter()
        .map(|(os, arch, p)| {
            json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": p.manifest.to_string(),
                   "size": p.manifest_size, "platform": {"os": os, "architecture": arch}})
        })
        .collect();
    let index =
        json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries});
    let body = serde_json::to_vec(&index).unwrap();
    push_manifest(addr, repo, tag, "application/vnd.oci.image.index.v1+json", &body)
}

// ------------------------------------------------------------------ myvol against the rig

/// `myvol ARGS` with this env's store, a private Docker config dir and daemon.json (so the
/// host's are never read), optional stdin.
pub fn myvol(t: &TestEnv, args: &[&str], stdin: Option<&str>) -> crate::env::Out {
    let mut c = t.cmd();
    c.env("DOCKER_CONFIG", t.dir.path().join("docker-config"))
        .env("MYVOL_DAEMON_CONFIG", t.dir.path().join("daemon.json"))
        .env_remove("DOCKER_AUTH_CONFIG")
        .env_remove("DOCKER_DEFAULT_PLATFORM")
        .args(args);
    t.exec(c, stdin)
}

// ------------------------------------------------------------------ the proxy

#[derive(Default)]
struct ProxyState {
    /// `GET` path → count.
    counts: BTreeMap<String, u32>,
    /// Demand bearer tokens, issued for these credentials.
    token_for: Option<(String, String)>,
    /// Flip a byte of this blob.
    tamper: Option<String>,
    /// Hold every blob response this long.
    blob_delay: Duration,
    /// Answer every manifest request with this instead of the registry's answer.
    manifest_answer: Option<Answer>,
}

/// A response the proxy makes up: status, headers (raw values), body.
type Answer = (u16, Vec<(String, Vec<u8>)>, Vec<u8>);

struct ProxyShared {
    upstream: String,
    addr: String,
    state: Mutex<ProxyState>,
    stop: AtomicBool,
}

/// A proxy in front of a registry; stopped on drop.
pub struct Proxy {
    shared: Arc<ProxyShared>,
    thread: Option<JoinHandle<()>>,
    pub addr: String,
}

const TOKEN: &str = "test-token-3b9f";

impl Proxy {
    pub fn start(upstream: &str) -> Proxy {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap().to_string();
        let shared = Arc::new(ProxyShared {
            upstream: upstream.to_owned(),
            addr: addr.clone(),
            state: Mutex::new(ProxyState::default()),
            stop: AtomicBool::new(false),
        });
        let s = shared.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async move {
                l.set_nonblocking(true).unwrap();
                let l = tokio::net::TcpListener::from_std(l).unwrap();
                while !s.stop.load(Ordering::SeqCst) {
                    if let Ok(Ok((stream, _))) = tokio::time::timeout(Duration::from_millis(20), l.accept()).await {
                        let s = s.clone();
                        tokio::spawn(async move {
                            let svc = hyper::service::service_fn(move |req| handle(s.clone(), req));
                            let _ = hyper::server::conn::http1::Builder::new()
                                .serve_connection(TokioIo::new(stream), svc)
                                .await;
                        });
                    }
                }
            });
        });
        Proxy { shared, thread: Some(thread), addr }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, ProxyState> {
        self.shared.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn require_token(&self, user: &str, pass: &str) {
        self.state().token_for = Some((user.into(), pass.into()));
    }

    pub fn tamper(&self, blob: &Digest) {
        self.state().tamper = Some(blob.to_string());
    }

    pub fn delay_blobs(&self, d: Duration) {
        self.state().blob_delay = d;
    }

    /// Answer every manifest request with `status`, `headers` (raw values) and `body`: a
    /// hostile registry.
    pub fn answer_manifests(&self, status: u16, headers: &[(&str, &[u8])], body: &[u8]) {
        let headers = headers.iter().map(|(k, v)| ((*k).to_owned(), v.to_vec())).collect();
        self.state().manifest_answer = Some((status, headers, body.to_vec()));
    }

    /// How many times `GET` reached a path ending with `suffix`.
    pub fn gets(&self, suffix: &str) -> u32 {
        self.state().counts.iter().filter(|(k, _)| k.ends_with(suffix)).map(|(_, v)| *v).sum()
    }

    pub fn counts(&self) -> BTreeMap<String, u32> {
        self.state().counts.clone()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn resp(status: u16, headers: &[(&str, String)], body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut r = Response::builder().status(status);
    for (k, v) in headers {
        r = r.header(*k, v.as_str());
    }
    r.body(Full::new(body.into())).unwrap()
}

async fn handle(s: Arc<ProxyShared>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default();
    let (token_for, tamper, delay, answer) = {
        let mut st = s.state.lock().unwrap_or_else(|e| e.into_inner());
        if req.method() == hyper::Method::GET {
            *st.counts.entry(req.uri().path().to_owned()).or_default() += 1;
        }
        (st.token_for.clone(), st.tamper.clone(), st.blob_delay, st.manifest_answer.clone())
    };
    if let Some((status, headers, body)) = answer
        && path.contains("/manifests/")
    {
        let mut r = Response::builder().status(status);
        for (k, v) in &headers {
            r = r.header(k.as_str(), hyper::header::HeaderValue::from_bytes(v).unwrap());
        }
        return Ok(r.body(Full::new(Bytes::from(body))).unwrap());
    }
    if let Some((user, pass)) = &token_for {
        if path.starts_with("/token") {
            let auth = req.headers().get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
            let want = format!("Basic {}", base64_encode(&format!("{user}:{pass}")));
            return Ok(if auth == want {
                resp(
                    200,
                    &[("content-type", "application/json".into())],
                    format!("{{\"token\":\"{TOKEN}\",\"expires_in\":300}}"),
                )
            } else {
                resp(
                    401,
                    &[("content-type", "application/json".into())],
                    "{\"details\":\"incorrect username or password\"}",
                )
            });
        }
        let auth = req.headers().get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
        if auth != format!("Bearer {TOKEN}") {
            let challenge = format!("Bearer realm=\"http://{}/token\",service=\"test-registry\"", s.addr);
            return Ok(resp(
                401,
                &[("www-authenticate", challenge), ("content-type", "application/json".into())],
                "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\"}]}",
            ));
        }
    }
    // Forward.
    let mut headers = Vec::new();
    for (k, v) in req.headers() {
        if k != "host" && k != "authorization" {
            headers.push((k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()));
        }
    }
    let method = req.method().as_str().to_owned();
    let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let upstream = s.upstream.clone();
    let hdrs: Vec<(String, String)> = headers;
    let result = tokio::task::spawn_blocking(move || {
        let h: Vec<(&str, &str)> = hdrs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        http(&method, &upstream, &path, &h, &body)
    })
    .await;
    let Ok(Ok(mut r)) = result else {
        return Ok(resp(502, &[], "bad gateway"));
    };
    let is_blob = r.status == 200 && !r.body.is_empty() && r_path_is_blob(&r);
    if is_blob && !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if let Some(t) = tamper
        && r.header("docker-content-digest") == Some(t.as_str())
        && let Some(last) = r.body.last_mut()
    {
        *last ^= 0x01;
    }
    let keep: Vec<(&str, String)> = r
        .headers
        .iter()
        .filter(|(k, _)| {
            k == "content-type" || k == "docker-content-digest" || k == "www-authenticate" || k == "location"
        })
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    Ok(resp(r.status, &keep, r.body))
}

fn r_path_is_blob(r: &Resp) -> bool {
    r.header("content-type").is_some_and(|c| c == "application/octet-stream")
}

fn base64_encode(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}
