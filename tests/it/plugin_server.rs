//! `FakePlugin`: a Docker volume plugin for tests, serving the v1 protocol on a unix socket (or
//! TCP) from its own thread, with an in-memory volume table. It records every request and can
//! be told to fail.
//!
//! Volumes: Create stores the options (`null` or an object, as sent); the first Mount of a
//! volume moves its data directory `<dir>/data/<volume>` (created if missing) to the mountpoint
//! `<dir>/mnt/<volume>`, and the last Unmount moves it back, so the mountpoint exists exactly
//! while mounted and the data survives. Mounts are counted per ID. Remove refuses a mounted
//! volume; Get and Path of an unknown volume answer HTTP 500 `{"Err":"volume not found"}`, as
//! rclone does.
//!
//! For the tests of what myvol trusts, the plugin can answer Mount with any text
//! ([`FakePlugin::set_mount_answer`]), run a hook just before it answers Mount
//! ([`FakePlugin::on_mount`]), and serve as another user ([`FakePlugin::start_as`]): its
//! thread takes that uid before it listens, so that `SO_PEERCRED` names it.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite};

/// One request as the plugin received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The endpoint: the path without its `/` (`VolumeDriver.Create`).
    pub method: String,
    /// The HTTP method (`POST`).
    pub verb: String,
    /// Every header, names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The body parsed as JSON; `None` when empty or invalid.
    pub json: Option<Value>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A failure to inject for one endpoint.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer HTTP 200 `{"Err": text}`.
    Err(String),
    /// Answer this status with this raw body.
    Reply(u16, String),
    /// Wait this long, then answer normally.
    Delay(Duration),
}

#[derive(Debug)]
struct Vol {
    opts: Value,
    created_at: String,
    /// Mount ID → count.
    mounts: BTreeMap<String, u32>,
}

/// A hook run by Mount (see [`FakePlugin::on_mount`]).
#[derive(Clone)]
struct MountHook(Arc<dyn Fn(&Path) + Send + Sync>);

impl std::fmt::Debug for MountHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MountHook")
    }
}

#[derive(Debug)]
struct State {
    volumes: BTreeMap<String, Vol>,
    requests: Vec<Recorded>,
    faults: HashMap<String, Fault>,
    /// `None`: no Capabilities endpoint (404).
    scope: Option<String>,
    implements: Vec<String>,
    /// What Mount answers instead of the mountpoint.
    mount_answer: Option<String>,
    /// Run after Mount's bookkeeping, before its answer.
    on_mount: Option<MountHook>,
}

struct Shared {
    dir: PathBuf,
    state: Mutex<State>,
    stop: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

enum Listener {
    Unix(std::os::unix::net::UnixListener),
    Tcp(std::net::TcpListener),
    /// A unix socket to listen on (and maybe bind) as another user, in the serving thread.
    UnixAs {
        fd: OwnedFd,
        socket: PathBuf,
        bind: bool,
        uid: u32,
        gid: u32,
    },
}

impl Listener {
    /// In the serving thread: a socket to be served as another user becomes that user's.
    fn ready(self) -> Listener {
        let Listener::UnixAs { fd, socket, bind, uid, gid } = self else { return self };
        use rustix::process::{Gid, Uid};
        // This thread's credentials only (raw setgroups/setgid/setuid): the test process
        // keeps root's.
        rustix::thread::set_thread_groups(&[]).expect("setgroups");
        rustix::thread::set_thread_gid(Gid::from_raw(gid)).expect("setgid");
        rustix::thread::set_thread_uid(Uid::from_raw(uid)).expect("setuid");
        if bind {
            let addr = rustix::net::SocketAddrUnix::new(&socket).expect("socket address");
            rustix::net::bind(&fd, &addr).expect("bind the socket as the other user");
        }
        rustix::net::listen(&fd, 64).expect("listen");
        Listener::Unix(std::os::unix::net::UnixListener::from(fd))
    }
}

/// A running fake plugin; stopped on drop.
pub struct FakePlugin {
    shared: Arc<Shared>,
    url: String,
    socket: Option<PathBuf>,
    thread: Option<JoinHandle<()>>,
}

impl FakePlugin {
    /// Serve on `<dir>/<name>.sock`; volumes live under `dir`.
    pub fn start(dir: &Path, name: &str) -> FakePlugin {
        FakePlugin::start_unix(dir, &dir.join(format!("{name}.sock")))
    }

    /// Serve on the unix socket `socket`; volumes live under `dir`.
    pub fn start_unix(dir: &Path, socket: &Path) -> FakePlugin {
        let l = std::os::unix::net::UnixListener::bind(socket).expect("bind the fake plugin's socket");
        FakePlugin::serve(dir, Listener::Unix(l), format!("unix://{}", socket.display()), Some(socket.to_owned()))
    }

    /// Serve on the unix socket `socket` as `uid`/`gid`, volumes under `dir`: the serving
    /// thread takes that user's credentials, then creates the socket (`bind`, so the user must
    /// be able to write its directory) or, without `bind`, listens on a socket this (root)
    /// process created. Either way the peer a client sees is that user.
    pub fn start_as(dir: &Path, socket: &Path, uid: u32, gid: u32, bind: bool) -> FakePlugin {
        use rustix::net::{AddressFamily, SocketFlags, SocketType};
        let fd = rustix::net::socket_with(AddressFamily::UNIX, SocketType::STREAM, SocketFlags::CLOEXEC, None)
            .expect("socket");
        if !bind {
            let addr = rustix::net::SocketAddrUnix::new(socket).expect("socket address");
            rustix::net::bind(&fd, &addr).expect("bind the fake plugin's socket");
        }
        let listener = Listener::UnixAs { fd, socket: socket.to_owned(), bind, uid, gid };
        FakePlugin::serve(dir, listener, format!("unix://{}", socket.display()), Some(socket.to_owned()))
    }

    /// Serve on TCP, on a free port of 127.0.0.1; volumes live under `dir`.
    pub fn start_tcp(dir: &Path) -> FakePlugin {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the fake plugin's TCP port");
        let addr = l.local_addr().expect("local address");
        FakePlugin::serve(dir, Listener::Tcp(l), format!("tcp://{addr}"), None)
    }

    fn serve(dir: &Path, listener: Listener, url: String, socket: Option<PathBuf>) -> FakePlugin {
        let shared = Arc::new(Shared {
            dir: dir.to_owned(),
            state: Mutex::new(State {
                volumes: BTreeMap::new(),
                requests: Vec::new(),
                faults: HashMap::new(),
                scope: Some("local".into()),
                implements: vec!["VolumeDriver".into()],
                mount_answer: None,
                on_mount: None,
            }),
            stop: AtomicBool::new(false),
        });
        let s = shared.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("fake plugin runtime");
            rt.block_on(accept_loop(listener.ready(), s));
        });
        FakePlugin { shared, url, socket, thread: Some(thread) }
    }

    /// `unix:///…/NAME.sock` or `tcp://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The TCP address (for a plugin started with [`FakePlugin::start_tcp`]).
    pub fn tcp_addr(&self) -> Option<SocketAddr> {
        self.url.strip_prefix("tcp://")?.parse().ok()
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.lock().requests.clone()
    }

    /// The endpoints called so far, in order.
    pub fn methods(&self) -> Vec<String> {
        self.shared.lock().requests.iter().map(|r| r.method.clone()).collect()
    }

    pub fn clear_requests(&self) {
        self.shared.lock().requests.clear();
    }

    /// Make `method` (`VolumeDriver.Get`, `Plugin.Activate`…) fail until cleared.
    pub fn fail(&self, method: &str, fault: Fault) {
        self.shared.lock().faults.insert(method.to_owned(), fault);
    }

    pub fn clear_fault(&self, method: &str) {
        self.shared.lock().faults.remove(method);
    }

    /// What Capabilities answers as Scope; `None` removes the endpoint (HTTP 404).
    pub fn set_scope(&self, scope: Option<&str>) {
        self.shared.lock().scope = scope.map(str::to_owned);
    }

    /// What Mount answers as `Mountpoint` (its bookkeeping unchanged); `None`: the real one.
    pub fn set_mount_answer(&self, answer: Option<&str>) {
        self.shared.lock().mount_answer = answer.map(str::to_owned);
    }

    /// Run `hook` with the mountpoint after Mount's bookkeeping, just before it answers.
    pub fn on_mount(&self, hook: impl Fn(&Path) + Send + Sync + 'static) {
        self.shared.lock().on_mount = Some(MountHook(Arc::new(hook)));
    }

    /// What Activate lists in `Implements`.
    pub fn set_implements(&self, implements: &[&str]) {
        self.shared.lock().implements = implements.iter().map(|s| s.to_string()).collect();
    }

    /// The names of the plugin's volumes, sorted.
    pub fn volumes(&self) -> Vec<String> {
        self.shared.lock().volumes.keys().cloned().collect()
    }

    /// The options a volume was created with (`null` or an object).
    pub fn opts(&self, volume: &str) -> Option<Value> {
        self.shared.lock().volumes.get(volume).map(|v| v.opts.clone())
    }

    /// The mount IDs of a volume, with their counts.
    pub fn mounts(&self, volume: &str) -> BTreeMap<String, u32> {
        self.shared.lock().volumes.get(volume).map(|v| v.mounts.clone()).unwrap_or_default()
    }

    /// Where a volume is while mounted.
    pub fn mountpoint(&self, volume: &str) -> PathBuf {
        self.shared.dir.join("mnt").join(volume)
    }

    /// Stop serving and remove the socket. Requests in flight are dropped.
    pub fn stop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if let Some(s) = self.socket.take() {
            let _ = std::fs::remove_file(s);
        }
    }
}

impl Drop for FakePlugin {
    fn drop(&mut self) {
        self.stop();
    }
}

/// How often the accept loop looks at the stop flag.
const TICK: Duration = Duration::from_millis(20);

async fn accept_loop(listener: Listener, shared: Arc<Shared>) {
    match listener {
        Listener::Unix(l) => {
            l.set_nonblocking(true).expect("non-blocking listener");
            let l = tokio::net::UnixListener::from_std(l).expect("tokio listener");
            while !shared.stop.load(Ordering::SeqCst) {
                if let Ok(Ok((s, _))) = tokio::time::timeout(TICK, l.accept()).await {
                    serve_connection(s, &shared);
                }
            }
        }
        Listener::UnixAs { .. } => unreachable!("made ready in the serving thread"),
        Listener::Tcp(l) => {
            l.set_nonblocking(true).expect("non-blocking listener");
            let l = tokio::net::TcpListener::from_std(l).expect("tokio listener");
            while !shared.stop.load(Ordering::SeqCst) {
                if let Ok(Ok((s, _))) = tokio::time::timeout(TICK, l.accept()).await {
                    serve_connection(s, &shared);
                }
            }
        }
    }
}

fn serve_connection<S: AsyncRead + AsyncWrite + Unpin + Send + 'static>(stream: S, shared: &Arc<Shared>) {
    let shared = shared.clone();
    tokio::spawn(async move {
        let svc = hyper::service::service_fn(move |req| handle(shared.clone(), req));
        let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
    });
}

type Reply = Response<Full<Bytes>>;

fn reply(status: u16, body: impl Into<Bytes>) -> Reply {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    // What rclone and the go-plugins-helpers answer.
    r.headers_mut().insert("content-type", "application/vnd.docker.plugins.v1.1+json".parse().expect("header"));
    r
}

fn ok(v: Value) -> Reply {
    reply(200, v.to_string())
}

fn err(text: &str) -> Reply {
    ok(json!({ "Err": text }))
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Reply, Infallible> {
    let method = req.uri().path().trim_start_matches('/').to_owned();
    let verb = req.method().to_string();
    let headers = req
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes().to_vec(),
        Err(e) => return Ok(reply(400, format!("reading the body: {e}"))),
    };
    let json = serde_json::from_slice::<Value>(&body).ok();
    let fault = {
        let mut st = shared.lock();
        st.requests.push(Recorded { method: method.clone(), verb, headers, body, json: json.clone() });
        st.faults.get(&method).cloned()
    };
    match fault {
        Some(Fault::Err(text)) => return Ok(err(&text)),
        Some(Fault::Reply(status, body)) => return Ok(reply(status, body)),
        Some(Fault::Delay(d)) => tokio::time::sleep(d).await,
        None => {}
    }
    Ok(dispatch(&shared, &method, json.unwrap_or(Value::Null)))
}

fn dispatch(shared: &Shared, method: &str, req: Value) -> Reply {
    let mut st = shared.lock();
    let name = req.get("Name").and_then(Value::as_str).unwrap_or("").to_owned();
    let id = req.get("ID").and_then(Value::as_str).unwrap_or("").to_owned();
    let named =
        method.starts_with("VolumeDriver.") && !matches!(method, "VolumeDriver.List" | "VolumeDriver.Capabilities");
    if named && (name.is_empty() || name.contains('/') || name == "." || name == "..") {
        return err("invalid volume name");
    }
    let mnt = shared.dir.join("mnt").join(&name);
    let data = shared.dir.join("data").join(&name);
    let mountpoint = |name: &str, v: &Vol| {
        if v.mounts.is_empty() { String::new() } else { shared.dir.join("mnt").join(name).display().to_string() }
    };
    let describe = |name: &str, v: &Vol| {
        json!({
            "Name": name,
            "Mountpoint": mountpoint(name, v),
            "CreatedAt": v.created_at,
            "Status": { "Mounts": v.mounts.keys().collect::<Vec<_>>() },
        })
    };
    match method {
        "Plugin.Activate" => ok(json!({ "Implements": st.implements })),
        "VolumeDriver.Capabilities" => match &st.scope {
            Some(scope) => ok(json!({ "Capabilities": { "Scope": scope } })),
            None => reply(404, "404 page not found\n"),
        },
        "VolumeDriver.Create" => {
            let opts = req.get("Opts").cloned().unwrap_or(Value::Null);
            let created_at = jiff::Timestamp::now().to_string();
            st.volumes.entry(name).or_insert(Vol { opts, created_at, mounts: BTreeMap::new() });
            ok(json!({}))
        }
        "VolumeDriver.Remove" => match st.volumes.get(&name) {
            None => reply(500, json!({ "Err": "volume not found" }).to_string()),
            Some(v) if !v.mounts.is_empty() => err("volume in use"),
            Some(_) => {
                st.volumes.remove(&name);
                let _ = std::fs::remove_dir_all(&data);
                ok(json!({}))
            }
        },
        "VolumeDriver.Get" => match st.volumes.get(&name) {
            None => reply(500, json!({ "Err": "volume not found" }).to_string()),
            Some(v) => ok(json!({ "Volume": describe(&name, v) })),
        },
        "VolumeDriver.Path" => match st.volumes.get(&name) {
            None => reply(500, json!({ "Err": "volume not found" }).to_string()),
            Some(v) => ok(json!({ "Mountpoint": mountpoint(&name, v) })),
        },
        "VolumeDriver.List" => {
            let list: Vec<Value> = st.volumes.iter().map(|(n, v)| describe(n, v)).collect();
            ok(json!({ "Volumes": list }))
        }
        "VolumeDriver.Mount" => match st.volumes.get_mut(&name) {
            None => reply(500, json!({ "Err": "volume not found" }).to_string()),
            Some(v) => {
                if v.mounts.is_empty() {
                    let moved = std::fs::create_dir_all(&data)
                        .and_then(|_| std::fs::create_dir_all(shared.dir.join("mnt")))
                        .and_then(|_| std::fs::rename(&data, &mnt));
                    if let Err(e) = moved {
                        return err(&format!("mounting {name}: {e}"));
                    }
                }
                *v.mounts.entry(id).or_insert(0) += 1;
                if let Some(hook) = st.on_mount.clone() {
                    (hook.0)(&mnt);
                }
                let answer = st.mount_answer.clone().unwrap_or_else(|| mnt.display().to_string());
                ok(json!({ "Mountpoint": answer }))
            }
        },
        "VolumeDriver.Unmount" => match st.volumes.get_mut(&name) {
            None => reply(500, json!({ "Err": "volume not found" }).to_string()),
            Some(v) => match v.mounts.get_mut(&id) {
                None => err(&format!("volume {name} is not mounted with ID {id}")),
                Some(n) => {
                    *n -= 1;
                    if *n == 0 {
                        v.mounts.remove(&id);
                    }
                    if v.mounts.is_empty()
                        && let Err(e) = std::fs::rename(&mnt, &data)
                    {
                        return err(&format!("unmounting {name}: {e}"));
                    }
                    ok(json!({}))
                }
            },
        },
        _ => reply(404, "404 page not found\n"),
    }
}
