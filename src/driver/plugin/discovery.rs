//! Finding a v1 plugin by name, as Docker's `pkg/plugins/discovery.go` does: a unix socket in
//! the socket directories, then a `.spec` or `.json` file in the spec directories. Unlike
//! Docker, what is found must be trusted ([`super::trust`]): a socket or spec file that other
//! users can write is refused, and so is a TCP address the user has not allowed.

use std::ffi::OsString;
use std::fmt;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::PluginError;
use super::json::{self, Obj};
use super::trust;
use crate::text::echo;

/// Where a plugin listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// A unix socket (`unix:///path.sock` in a spec file, or a socket found in a socket directory).
    Unix(PathBuf),
    /// `host:port`, from `tcp://host:port` (or `http://host:port`) in a spec file. Resolved when
    /// a call connects.
    Tcp(String),
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Unix(p) => write!(f, "unix://{}", p.display()),
            Address::Tcp(hp) => write!(f, "tcp://{hp}"),
        }
    }
}

/// The directories where plugins are looked up.
///
/// Defaults ([`Registry::from_env`]):
/// - as root: sockets in `/run/docker/plugins`; spec files in `/etc/docker/plugins`, then
///   `/usr/lib/docker/plugins` (Docker's directories);
/// - as another user: sockets in `$XDG_RUNTIME_DIR/docker/plugins`; spec files in
///   `$XDG_CONFIG_HOME/docker/plugins` (default `~/.config/docker/plugins`), then
///   `~/.local/lib/docker/plugins` (Docker's rootless directories);
/// - `MYVOL_PLUGIN_PATH=DIR:DIR:…` replaces both lists: sockets are looked for in every listed
///   directory first, then spec files in every listed directory, in the listed order.
///
/// A spec file's TCP address is used only for the plugins `MYVOL_PLUGIN_TCP` names
/// (`NAME,NAME…`, or `*` for any): on TCP, who answers cannot be checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    sockets: Vec<PathBuf>,
    specs: Vec<PathBuf>,
    /// The plugins that may be reached over TCP (`*`: any).
    tcp: Vec<String>,
}

/// The environment variable that replaces the default plugin directories.
pub const PLUGIN_PATH_ENV: &str = "MYVOL_PLUGIN_PATH";

/// The environment variable naming the plugins that may be reached over TCP.
pub const PLUGIN_TCP_ENV: &str = "MYVOL_PLUGIN_TCP";

impl Registry {
    /// A registry with exactly these socket and spec directories, searched in order, and no
    /// TCP plugin allowed.
    pub fn new(sockets: Vec<PathBuf>, specs: Vec<PathBuf>) -> Registry {
        Registry { sockets, specs, tcp: Vec::new() }
    }

    /// Allow these plugins (`*`: any) to be reached at a spec file's TCP address.
    pub fn allow_tcp<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Registry {
        self.tcp.extend(names.into_iter().map(Into::into));
        self
    }

    /// The registry for this process: `MYVOL_PLUGIN_PATH` if set and not empty, else Docker's
    /// directories for root or for a rootless user (see [`Registry`]); `MYVOL_PLUGIN_TCP`.
    pub fn from_env() -> Registry {
        let euid = rustix::process::geteuid();
        Registry::from_vars(euid.is_root(), euid.as_raw(), |k| std::env::var_os(k))
    }

    /// [`Registry::from_env`] with the environment and the user passed in.
    fn from_vars(root: bool, uid: u32, var: impl Fn(&str) -> Option<OsString>) -> Registry {
        let tcp: Vec<String> = var(PLUGIN_TCP_ENV)
            .map(|v| {
                v.to_string_lossy().split(',').map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned).collect()
            })
            .unwrap_or_default();
        Registry::dirs_from_vars(root, uid, var).allow_tcp(tcp)
    }

    fn dirs_from_vars(root: bool, uid: u32, var: impl Fn(&str) -> Option<OsString>) -> Registry {
        if let Some(list) = var(PLUGIN_PATH_ENV).filter(|v| !v.is_empty()) {
            let dirs: Vec<PathBuf> = std::env::split_paths(&list).filter(|p| !p.as_os_str().is_empty()).collect();
            return Registry::new(dirs.clone(), dirs);
        }
        if root {
            return Registry::new(
                vec![PathBuf::from("/run/docker/plugins")],
                vec![PathBuf::from("/etc/docker/plugins"), PathBuf::from("/usr/lib/docker/plugins")],
            );
        }
        // XDG variables count only when absolute, as the XDG spec says.
        let abs = |k: &str| var(k).map(PathBuf::from).filter(|p| p.is_absolute());
        let runtime = abs("XDG_RUNTIME_DIR").unwrap_or_else(|| PathBuf::from(format!("/run/user/{uid}")));
        let home = abs("HOME");
        // Without a home, Docker falls back to the system directories.
        let config = abs("XDG_CONFIG_HOME")
            .or_else(|| home.as_ref().map(|h| h.join(".config")))
            .map(|c| c.join("docker/plugins"))
            .unwrap_or_else(|| PathBuf::from("/etc/docker/plugins"));
        let lib = home
            .map(|h| h.join(".local/lib/docker/plugins"))
            .unwrap_or_else(|| PathBuf::from("/usr/lib/docker/plugins"));
        Registry::new(vec![runtime.join("docker/plugins")], vec![config, lib])
    }

    /// The socket directories, in search order.
    pub fn socket_dirs(&self) -> &[PathBuf] {
        &self.sockets
    }

    /// The spec directories, in search order.
    pub fn spec_dirs(&self) -> &[PathBuf] {
        &self.specs
    }

    /// Whether plugin `name` may be reached over TCP.
    fn tcp_allowed(&self, name: &str) -> bool {
        self.tcp.iter().any(|n| n == "*" || n == name)
    }

    /// Find plugin `name`: the first of `DIR/NAME.sock`, `DIR/NAME/NAME.sock` that is a socket,
    /// for each socket directory; else the first existing `DIR/NAME.spec`, `DIR/NAME/NAME.spec`,
    /// `DIR/NAME.json`, `DIR/NAME/NAME.json`, for each spec directory. A name that cannot be a
    /// file name (empty, `.`, `..`, holding `/` or NUL) is not found. What is found must be
    /// trusted ([`trust`]): the socket or spec file and the directories above it, the socket a
    /// spec names, and a spec's TCP address only for a plugin allowed TCP.
    pub fn find(&self, name: &str) -> Result<Address, PluginError> {
        if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\0']) {
            return Err(PluginError::NotFound { name: name.to_owned() });
        }
        let untrusted = |path: &Path| {
            let (name, path) = (name.to_owned(), path.to_owned());
            move |reason| PluginError::Untrusted { name, path, reason }
        };
        for dir in &self.sockets {
            for p in candidates(dir, name, "sock") {
                if std::fs::metadata(&p).is_ok_and(|m| m.file_type().is_socket()) {
                    trust::check_socket(&p).map_err(untrusted(&p))?;
                    return Ok(Address::Unix(p));
                }
            }
        }
        for dir in &self.specs {
            for p in candidates(dir, name, "spec").into_iter().chain(candidates(dir, name, "json")) {
                if std::fs::metadata(&p).is_ok() {
                    let content = trust::read_spec(&p).map_err(untrusted(&p))?;
                    return match read_spec(name, &p, &content)? {
                        Address::Unix(sock) => {
                            trust::check_socket(&sock).map_err(untrusted(&sock))?;
                            Ok(Address::Unix(sock))
                        }
                        Address::Tcp(addr) if !self.tcp_allowed(name) => {
                            Err(PluginError::TcpNotAllowed { name: name.to_owned(), path: p, addr })
                        }
                        tcp => Ok(tcp),
                    };
                }
            }
        }
        Err(PluginError::NotFound { name: name.to_owned() })
    }
}

/// `DIR/NAME.EXT`, `DIR/NAME/NAME.EXT`.
fn candidates(dir: &Path, name: &str, ext: &str) -> [PathBuf; 2] {
    let file = format!("{name}.{ext}");
    [dir.join(&file), dir.join(name).join(&file)]
}

/// Parse a `.spec` (one URL) or `.json` (`{"Name","Addr","TLSConfig"}`) file's `content`.
fn read_spec(name: &str, path: &Path, content: &[u8]) -> Result<Address, PluginError> {
    let bad = |reason: String| PluginError::BadSpec { name: name.to_owned(), path: path.to_owned(), reason };
    if path.extension().is_some_and(|e| e == "json") {
        let value: Value =
            json::first_value(content).map_err(|e| bad(format!("invalid JSON: {}", echo(&e.to_string()))))?;
        let obj = Obj::of(&value).map_err(bad)?;
        let tls = obj.object("TLSConfig").map_err(bad)?;
        for file in ["CAFile", "CertFile", "KeyFile"] {
            if !tls.string(file).map_err(|e| bad(format!("TLSConfig: {e}")))?.is_empty() {
                return Err(PluginError::TlsUnsupported { name: name.to_owned(), path: path.to_owned() });
            }
        }
        parse_url(name, path, &obj.string("Addr").map_err(bad)?)
    } else {
        let text = String::from_utf8_lossy(content);
        parse_url(name, path, text.trim())
    }
}

/// `unix:///abs/path.sock`, `tcp://host:port` (or `http://host:port`, which Docker dials the
/// same way). No scheme: Docker's `Unknown protocol`.
fn parse_url(name: &str, path: &Path, url: &str) -> Result<Address, PluginError> {
    let bad = |reason: &str| PluginError::BadSpec {
        name: name.to_owned(),
        path: path.to_owned(),
        reason: format!("{reason}: {}", echo(url).quoted()),
    };
    let Some((scheme, rest)) = url.split_once("://").filter(|(s, _)| !s.is_empty()) else {
        return Err(PluginError::UnknownProtocol {
            name: name.to_owned(),
            path: path.to_owned(),
            addr: url.to_owned(),
        });
    };
    match scheme {
        "unix" if Path::new(rest).is_absolute() => Ok(Address::Unix(PathBuf::from(rest))),
        "unix" => Err(bad("the socket path is not absolute")),
        "tcp" | "http" if valid_host_port(rest) => Ok(Address::Tcp(rest.to_owned())),
        "tcp" | "http" => Err(bad("expected host:port")),
        "https" => Err(PluginError::TlsUnsupported { name: name.to_owned(), path: path.to_owned() }),
        _ => Err(bad("unsupported protocol")),
    }
}

/// `host:port` with a numeric port and a host of visible ASCII (also a valid `Host` header).
fn valid_host_port(s: &str) -> bool {
    match s.rsplit_once(':') {
        Some((host, port)) => {
            !host.is_empty() && host.bytes().all(|b| b.is_ascii_graphic() && b != b'/') && port.parse::<u16>().is_ok()
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_dirs() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| OsString::from(v))
        };
        let p = |v: &[&str]| v.iter().map(PathBuf::from).collect::<Vec<_>>();

        let r = Registry::from_vars(true, 0, env(&[("HOME", "/root")]));
        assert_eq!(r.socket_dirs(), p(&["/run/docker/plugins"]));
        assert_eq!(r.spec_dirs(), p(&["/etc/docker/plugins", "/usr/lib/docker/plugins"]));

        let r = Registry::from_vars(false, 1000, env(&[("HOME", "/home/u"), ("XDG_RUNTIME_DIR", "/run/user/1000")]));
        assert_eq!(r.socket_dirs(), p(&["/run/user/1000/docker/plugins"]));
        assert_eq!(r.spec_dirs(), p(&["/home/u/.config/docker/plugins", "/home/u/.local/lib/docker/plugins"]));

        let r = Registry::from_vars(
            false,
            1000,
            env(&[("HOME", "/home/u"), ("XDG_CONFIG_HOME", "/cfg"), ("XDG_RUNTIME_DIR", "relative")]),
        );
        assert_eq!(r.socket_dirs(), p(&["/run/user/1000/docker/plugins"]));
        assert_eq!(r.spec_dirs(), p(&["/cfg/docker/plugins", "/home/u/.local/lib/docker/plugins"]));

        let r = Registry::from_vars(false, 7, env(&[]));
        assert_eq!(r.spec_dirs(), p(&["/etc/docker/plugins", "/usr/lib/docker/plugins"]));

        // The override wins for root and users alike; empty entries are skipped.
        for root in [true, false] {
            let r = Registry::from_vars(root, 0, env(&[("MYVOL_PLUGIN_PATH", "/a::/b"), ("HOME", "/h")]));
            assert_eq!(r.socket_dirs(), p(&["/a", "/b"]));
            assert_eq!(r.spec_dirs(), p(&["/a", "/b"]));
        }
        let r = Registry::from_vars(true, 0, env(&[("MYVOL_PLUGIN_PATH", "")]));
        assert_eq!(r.socket_dirs(), p(&["/run/docker/plugins"]));
    }

    #[test]
    fn urls() {
        let path = Path::new("/etc/docker/plugins/x.spec");
        let cases: &[(&str, Result<Address, &str>)] = &[
            ("unix:///run/x.sock", Ok(Address::Unix(PathBuf::from("/run/x.sock")))),
            ("tcp://localhost:8080", Ok(Address::Tcp("localhost:8080".into()))),
            ("tcp://127.0.0.1:1", Ok(Address::Tcp("127.0.0.1:1".into()))),
            ("tcp://[::1]:9000", Ok(Address::Tcp("[::1]:9000".into()))),
            ("http://host:80", Ok(Address::Tcp("host:80".into()))),
            ("/run/x.sock", Err("Unknown protocol")),
            ("localhost:8080", Err("Unknown protocol")),
            ("://x", Err("Unknown protocol")),
            ("", Err("Unknown protocol")),
            (
                "unix://x.sock",
                Err(
                    r#"plugin "x": invalid spec file /etc/docker/plugins/x.spec: the socket path is not absolute: "unix://x.sock""#,
                ),
            ),
            (
                "tcp://host",
                Err(r#"plugin "x": invalid spec file /etc/docker/plugins/x.spec: expected host:port: "tcp://host""#),
            ),
            (
                "tcp://host:port",
                Err(
                    r#"plugin "x": invalid spec file /etc/docker/plugins/x.spec: expected host:port: "tcp://host:port""#,
                ),
            ),
            (
                "tcp://host:1/path",
                Err(
                    r#"plugin "x": invalid spec file /etc/docker/plugins/x.spec: expected host:port: "tcp://host:1/path""#,
                ),
            ),
            (
                "npipe:////./pipe/x",
                Err(
                    r#"plugin "x": invalid spec file /etc/docker/plugins/x.spec: unsupported protocol: "npipe:////./pipe/x""#,
                ),
            ),
            (
                "https://host:443",
                Err("plugin \"x\": /etc/docker/plugins/x.spec asks for TLS, which myvol does not support"),
            ),
        ];
        for (url, want) in cases {
            let got = parse_url("x", path, url).map_err(|e| e.to_string());
            assert_eq!(got, want.clone().map_err(str::to_owned), "{url:?}");
        }
    }

    #[test]
    fn invalid_names_are_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let r = Registry::new(vec![dir.path().into()], vec![dir.path().into()]);
        for name in ["", ".", "..", "a/b", "../x", "a\0b"] {
            let e = r.find(name).unwrap_err();
            assert!(matches!(e, PluginError::NotFound { .. }), "{name:?}: {e}");
        }
    }
}
