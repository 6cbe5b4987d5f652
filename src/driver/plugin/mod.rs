//! A client for Docker's volume plugin protocol (v1, "legacy" plugins): discovery by name,
//! then JSON over HTTP/1.1 POSTs to the plugin's unix socket or TCP address.
//!
//! - [`Registry`] finds a plugin as Docker does (sockets, then `.spec`/`.json` files); the
//!   directories can be replaced with `MYVOL_PLUGIN_PATH` (see [`Registry`]).
//! - [`VolumePlugin::activate`] sends `Plugin.Activate` and checks that the plugin is a volume
//!   driver; its methods are the `VolumeDriver.*` endpoints.
//!
//! Each call runs on a current-thread tokio runtime built for the call and dropped after it:
//! no thread is ever started, so a caller may `clone(2)` into namespaces afterwards. The API is
//! synchronous.
//!
//! A plugin is a stranger until checked ([`trust`]): its socket and spec file must be out of
//! other users' reach, whoever answers on the socket must be root or myvol's own user, and what
//! it answers is input like any other: its texts are escaped where they are shown
//! ([`crate::text::Echo`]), and the mountpoint it gives is checked and opened before anything
//! is bound from it ([`mountpoint`]).
//!
//! Differences from Docker, on purpose: a missing or refusing socket is retried for 1.55 s
//! instead of 30 s ([`RETRY_DELAYS`]); TLS is not supported (a spec asking for it is refused);
//! a TCP address is used only for plugins `MYVOL_PLUGIN_TCP` names; a response larger than
//! [`MAX_RESPONSE`] is refused; a Mount answering an empty mountpoint is an error.

mod discovery;
mod json;
pub mod mountpoint;
mod transport;
pub mod trust;

use std::collections::BTreeMap;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Map, Value};
use thiserror::Error;

pub use discovery::{Address, PLUGIN_PATH_ENV, PLUGIN_TCP_ENV, Registry};
use json::Obj;
pub use mountpoint::{BadMountpoint, Mountpoint};
use transport::Transport;
pub use transport::{ACCEPT_V12, MAX_RESPONSE, RETRY_DELAYS, UNIX_HOST};
pub use trust::Untrusted;

use crate::text::{echo, echo_path, errno_text};

/// What went wrong finding or calling a plugin. Where Docker has a message, the text is
/// Docker's (`plugin "NAME" not found`, `Unknown protocol`, a plugin's own `Err`, `Method: Err`,
/// Go's `Post "URL": dial unix PATH: connect: …`); every variant carries the plugin name and,
/// for calls, the method.
#[derive(Debug, Error)]
pub enum PluginError {
    /// No socket or spec file for this name.
    #[error("plugin {} not found", echo(name).quoted())]
    NotFound { name: String },
    /// A spec file whose address has no `scheme://` (Docker's text).
    #[error("Unknown protocol")]
    UnknownProtocol { name: String, path: PathBuf, addr: String },
    /// A spec file that cannot be read or holds an address myvol cannot use.
    #[error("plugin {}: invalid spec file {}: {reason}", echo(name).quoted(), echo_path(path))]
    BadSpec { name: String, path: PathBuf, reason: String },
    /// A spec file asking for TLS (`https://`, or a `TLSConfig` naming certificate files).
    #[error("plugin {}: {} asks for TLS, which myvol does not support", echo(name).quoted(), echo_path(path))]
    TlsUnsupported { name: String, path: PathBuf },
    /// A spec file giving a TCP address, for a plugin `MYVOL_PLUGIN_TCP` does not name: who
    /// answers on TCP cannot be checked.
    #[error(
        "plugin {}: {} gives the TCP address {}; myvol uses a TCP plugin only when MYVOL_PLUGIN_TCP names it, as who answers cannot be checked",
        echo(name).quoted(), echo_path(path), echo(addr)
    )]
    TcpNotAllowed { name: String, path: PathBuf, addr: String },
    /// A socket or spec file other users can replace or write (see [`trust`]).
    #[error("plugin {}: refusing {}: {reason}", echo(name).quoted(), echo_path(path))]
    Untrusted { name: String, path: PathBuf, reason: Untrusted },
    /// The process answering on the plugin's socket is neither root nor myvol's own user.
    #[error(
        "plugin {}: refusing the socket {}: it is served by uid {uid} (pid {pid}), not by root or by uid {own} who runs myvol",
        echo(plugin).quoted(), echo_path(socket)
    )]
    UntrustedPeer { plugin: String, socket: PathBuf, uid: u32, pid: i32, own: u32 },
    /// An address that cannot be used in a request (not from [`Registry::find`]).
    #[error("plugin {}: invalid address {}", echo(plugin).quoted(), echo(&address.to_string()))]
    InvalidAddress { plugin: String, address: Address },
    /// The event loop for a call could not be created (out of file descriptors, say).
    #[error("plugin {}: cannot set up a connection: {}", echo(plugin).quoted(), errno_text(source))]
    Runtime { plugin: String, source: io::Error },
    /// No connection, after `attempts` tries when the socket was missing or refused.
    #[error("Post {}: dial {}: connect: {}", echo(url).quoted(), echo(dial), errno_text(source))]
    Connect { plugin: String, method: &'static str, url: String, dial: String, source: io::Error, attempts: u32 },
    /// A TCP plugin's host name did not resolve.
    #[error("Post {}: dial tcp: lookup {}: {}", echo(url).quoted(), echo(host), errno_text(source))]
    Lookup { plugin: String, method: &'static str, url: String, host: String, source: io::Error },
    /// The HTTP exchange failed (the plugin closed the connection, sent no valid HTTP…).
    #[error("Post {}: {}", echo(url).quoted(), echo(&chain(source.as_ref())))]
    Http { plugin: String, method: &'static str, url: String, source: Box<dyn std::error::Error + Send + Sync> },
    /// No complete answer within the call's timeout.
    #[error("{method}: plugin {} did not answer within {timeout:?}", echo(plugin).quoted())]
    Timeout { plugin: String, method: &'static str, timeout: Duration },
    /// An answer larger than [`MAX_RESPONSE`].
    #[error("{method}: the response of plugin {} is larger than {} MiB", echo(plugin).quoted(), limit >> 20)]
    TooLarge { plugin: String, method: &'static str, limit: usize },
    /// An HTTP 200 answer that is not JSON.
    #[error("{method}: the response of plugin {} is not valid JSON: {}", echo(plugin).quoted(), echo(detail))]
    InvalidJson { plugin: String, method: &'static str, detail: String },
    /// JSON of the wrong shape (a field of the wrong type).
    #[error("{method}: unexpected response from plugin {}: {}", echo(plugin).quoted(), echo(detail))]
    BadResponse { plugin: String, method: &'static str, detail: String },
    /// HTTP 200 with a non-empty `Err`: the text is the plugin's, as Docker shows it (escaped
    /// and cut: [`crate::text::Echo`]).
    #[error("{}", echo(err))]
    Remote { plugin: String, method: &'static str, err: String },
    /// Another HTTP status: `Method: Err`, or `Method: <body>` when the body is not `{"Err":…}`.
    #[error("{method}: {}", echo(err))]
    Status { plugin: String, method: &'static str, status: u16, err: String },
    /// `Plugin.Activate` did not list `VolumeDriver`.
    #[error("Plugin does not implement the requested driver")]
    NotVolumeDriver { plugin: String, implements: Vec<String> },
    /// `VolumeDriver.Get` answered without a volume and without an error (Docker's text).
    #[error("no such volume")]
    NoSuchVolume { plugin: String, volume: String },
    /// `VolumeDriver.Mount` answered without a mountpoint.
    #[error("VolumeDriver.Mount: plugin {} returned no mountpoint for volume {}", echo(plugin).quoted(), echo(volume).quoted())]
    EmptyMountpoint { plugin: String, volume: String },
    /// `VolumeDriver.Mount` answered a mountpoint that breaks [`mountpoint`]'s rule.
    #[error(
        "VolumeDriver.Mount: refusing the mountpoint {} that plugin {} returned for volume {}: {reason}",
        echo(mountpoint).quoted(), echo(plugin).quoted(), echo(volume).quoted()
    )]
    BadMountpoint { plugin: String, volume: String, mountpoint: String, reason: BadMountpoint },
}

/// An error and its sources, `: `-separated, OS errors as Go prints them.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = String::new();
    let mut cur = Some(e);
    while let Some(err) = cur {
        let text = match err.downcast_ref::<io::Error>() {
            Some(io) => errno_text(io),
            None => err.to_string(),
        };
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
        cur = err.source();
    }
    out
}

/// The protocol's endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Activate,
    Create,
    Remove,
    Mount,
    Unmount,
    Path,
    Get,
    List,
    Capabilities,
}

impl Method {
    /// `Plugin.Activate`, `VolumeDriver.Create`…
    fn name(self) -> &'static str {
        &self.path()[1..]
    }

    /// The request path.
    fn path(self) -> &'static str {
        match self {
            Method::Activate => "/Plugin.Activate",
            Method::Create => "/VolumeDriver.Create",
            Method::Remove => "/VolumeDriver.Remove",
            Method::Mount => "/VolumeDriver.Mount",
            Method::Unmount => "/VolumeDriver.Unmount",
            Method::Path => "/VolumeDriver.Path",
            Method::Get => "/VolumeDriver.Get",
            Method::List => "/VolumeDriver.List",
            Method::Capabilities => "/VolumeDriver.Capabilities",
        }
    }
}

/// How long a call may take, connection attempts included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// For `VolumeDriver.Create` and `VolumeDriver.Mount` (Docker: 2 minutes).
    pub long: Duration,
    /// For every other call (Docker: 1 minute).
    pub short: Duration,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts { long: Duration::from_secs(120), short: Duration::from_secs(60) }
    }
}

impl Timeouts {
    /// The same timeout for every call.
    pub fn all(d: Duration) -> Timeouts {
        Timeouts { long: d, short: d }
    }

    fn of(&self, method: Method) -> Duration {
        match method {
            Method::Create | Method::Mount => self.long,
            _ => self.short,
        }
    }
}

/// A volume as a plugin describes it (`Get`, `List`).
#[derive(Debug, Clone, PartialEq)]
pub struct PluginVolume {
    /// The volume's name, as the plugin reports it.
    pub name: String,
    /// The host path, or empty when the plugin gives none (often: not mounted).
    pub mountpoint: String,
    /// RFC 3339 as the plugin wrote it; `None` when absent or empty.
    pub created_at: Option<String>,
    /// The plugin's free-form status (`volume inspect` shows it).
    pub status: Option<Map<String, Value>>,
}

/// A plugin that was found and answered `Plugin.Activate` as a volume driver.
#[derive(Debug, Clone)]
pub struct VolumePlugin {
    name: String,
    transport: Transport,
    /// The timeouts of later calls; [`Timeouts::default`] unless changed.
    pub timeouts: Timeouts,
}

impl VolumePlugin {
    /// Find plugin `name` and activate it with Docker's timeouts.
    pub fn activate(reg: &Registry, name: &str) -> Result<VolumePlugin, PluginError> {
        VolumePlugin::activate_with(reg, name, Timeouts::default())
    }

    /// Find plugin `name` and activate it; `timeouts` apply to the activation and later calls.
    pub fn activate_with(reg: &Registry, name: &str, timeouts: Timeouts) -> Result<VolumePlugin, PluginError> {
        let address = reg.find(name)?;
        let plugin = VolumePlugin { name: name.to_owned(), transport: Transport::new(name, address)?, timeouts };
        let answer = plugin.call(Method::Activate, None)?;
        let obj = plugin.obj(Method::Activate, &answer)?;
        let mut implements = Vec::new();
        for v in obj.array("Implements").map_err(plugin.bad(Method::Activate))? {
            match v.as_str() {
                Some(s) => implements.push(s.to_owned()),
                None => return Err(plugin.bad(Method::Activate)(format!("Implements holds {v}, not a string"))),
            }
        }
        if !implements.iter().any(|i| i == "VolumeDriver") {
            return Err(PluginError::NotVolumeDriver { plugin: plugin.name, implements });
        }
        Ok(plugin)
    }

    /// The plugin's name (the driver name).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where the plugin listens.
    pub fn address(&self) -> &Address {
        self.transport.address()
    }

    /// `VolumeDriver.Create`. `opts` is sent as `null` when `None` (no `-o` at all), as `{}`
    /// when empty.
    pub fn create(&self, volume: &str, opts: Option<&BTreeMap<String, String>>) -> Result<(), PluginError> {
        let opts = match opts {
            Some(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect()),
            None => Value::Null,
        };
        self.call(Method::Create, Some(&[("Name", volume.into()), ("Opts", opts)]))?;
        Ok(())
    }

    /// `VolumeDriver.Remove`.
    pub fn remove(&self, volume: &str) -> Result<(), PluginError> {
        self.call(Method::Remove, Some(&[("Name", volume.into())]))?;
        Ok(())
    }

    /// `VolumeDriver.Get`. An answer without a volume is Docker's `no such volume`.
    pub fn get(&self, volume: &str) -> Result<PluginVolume, PluginError> {
        let answer = self.call(Method::Get, Some(&[("Name", volume.into())]))?;
        let obj = self.obj(Method::Get, &answer)?;
        match obj.get("Volume") {
            None => Err(PluginError::NoSuchVolume { plugin: self.name.clone(), volume: volume.to_owned() }),
            Some(v) => parse_volume(v).map_err(|e| self.bad(Method::Get)(format!("Volume: {e}"))),
        }
    }

    /// `VolumeDriver.List`.
    pub fn list(&self) -> Result<Vec<PluginVolume>, PluginError> {
        let answer = self.call(Method::List, Some(&[]))?;
        let obj = self.obj(Method::List, &answer)?;
        let entries = obj.array("Volumes").map_err(self.bad(Method::List))?;
        let mut out = Vec::with_capacity(entries.len());
        for (i, v) in entries.iter().enumerate() {
            out.push(parse_volume(v).map_err(|e| self.bad(Method::List)(format!("Volumes[{i}]: {e}")))?);
        }
        Ok(out)
    }

    /// `VolumeDriver.Path`: the volume's mountpoint, possibly empty.
    pub fn path(&self, volume: &str) -> Result<String, PluginError> {
        let answer = self.call(Method::Path, Some(&[("Name", volume.into())]))?;
        self.obj(Method::Path, &answer)?.string("Mountpoint").map_err(self.bad(Method::Path))
    }

    /// `VolumeDriver.Mount` with mount id `id` (a random 64-hex id, reused for the Unmount):
    /// the host path to bind. An empty mountpoint is an error.
    pub fn mount(&self, volume: &str, id: &str) -> Result<String, PluginError> {
        let answer = self.call(Method::Mount, Some(&[("Name", volume.into()), ("ID", id.into())]))?;
        let mountpoint = self.obj(Method::Mount, &answer)?.string("Mountpoint").map_err(self.bad(Method::Mount))?;
        if mountpoint.is_empty() {
            return Err(PluginError::EmptyMountpoint { plugin: self.name.clone(), volume: volume.to_owned() });
        }
        Ok(mountpoint)
    }

    /// `VolumeDriver.Unmount` of the mount `id` returned by [`VolumePlugin::mount`].
    pub fn unmount(&self, volume: &str, id: &str) -> Result<(), PluginError> {
        self.call(Method::Unmount, Some(&[("Name", volume.into()), ("ID", id.into())]))?;
        Ok(())
    }

    /// `VolumeDriver.Capabilities`, as Docker reads it: `global` or `local` (lower-cased);
    /// any error (the endpoint is optional), a missing scope or another value is `local`.
    pub fn scope(&self) -> String {
        let scope = self
            .call(Method::Capabilities, Some(&[]))
            .ok()
            .and_then(|answer| Obj::of(&answer).ok()?.object("Capabilities").ok()?.string("Scope").ok())
            .map(|s| s.to_lowercase());
        match scope.as_deref() {
            Some("global") => "global".to_owned(),
            _ => "local".to_owned(),
        }
    }

    /// POST `method` with a JSON object of `fields` and a newline (`None`: an empty body).
    fn call(&self, method: Method, fields: Option<&[(&str, Value)]>) -> Result<Value, PluginError> {
        let body = match fields {
            None => Vec::new(),
            Some(fields) => {
                let obj: Map<String, Value> = fields.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
                let mut body = Value::Object(obj).to_string().into_bytes();
                body.push(b'\n');
                body
            }
        };
        self.transport.call(method, body, self.timeouts.of(method))
    }

    fn obj<'a>(&self, method: Method, answer: &'a Value) -> Result<Obj<'a>, PluginError> {
        Obj::of(answer).map_err(self.bad(method))
    }

    /// A closure turning a shape complaint into [`PluginError::BadResponse`].
    fn bad(&self, method: Method) -> impl Fn(String) -> PluginError + '_ {
        move |detail| PluginError::BadResponse { plugin: self.name.clone(), method: method.name(), detail }
    }
}

/// A `{"Name","Mountpoint","CreatedAt","Status"}` object.
fn parse_volume(v: &Value) -> Result<PluginVolume, String> {
    let o = Obj::of(v)?;
    let status = match o.get("Status") {
        None => None,
        Some(Value::Object(m)) => Some(m.clone()),
        Some(other) => return Err(format!("Status is {other}, not an object")),
    };
    let created_at = o.string("CreatedAt")?;
    Ok(PluginVolume {
        name: o.string("Name")?,
        mountpoint: o.string("Mountpoint")?,
        created_at: (!created_at.is_empty()).then_some(created_at),
        status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn volumes() {
        let v = json!({"name": "a", "Mountpoint": "/m", "CreatedAt": "2026-11-23T15:34:38Z", "Status": {"Mounts": []}});
        let got = parse_volume(&v).unwrap();
        assert_eq!(got.name, "a");
        assert_eq!(got.mountpoint, "/m");
        assert_eq!(got.created_at.as_deref(), Some("2026-11-23T15:34:38Z"));
        assert_eq!(Value::Object(got.status.unwrap()), json!({"Mounts": []}));

        let bare = parse_volume(&json!({"Name": "b", "CreatedAt": "", "Status": null})).unwrap();
        assert_eq!(bare, PluginVolume { name: "b".into(), mountpoint: String::new(), created_at: None, status: None });

        assert_eq!(parse_volume(&json!({"Name": 1})).unwrap_err(), "Name is a number, not a string");
        assert_eq!(parse_volume(&json!({"Status": "up"})).unwrap_err(), r#"Status is "up", not an object"#);
        assert_eq!(parse_volume(&json!("x")).unwrap_err(), "expected a JSON object, got a string");
    }

    #[test]
    fn method_names_and_timeouts() {
        assert_eq!(Method::Activate.name(), "Plugin.Activate");
        assert_eq!(Method::Capabilities.name(), "VolumeDriver.Capabilities");
        let t = Timeouts::default();
        assert_eq!(t.of(Method::Create), Duration::from_secs(120));
        assert_eq!(t.of(Method::Mount), Duration::from_secs(120));
        for m in [Method::Activate, Method::Remove, Method::Unmount, Method::Path, Method::Get, Method::List] {
            assert_eq!(t.of(m), Duration::from_secs(60), "{m:?}");
        }
    }
}
