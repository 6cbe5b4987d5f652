//! One plugin call: an HTTP/1.1 POST (hyper) over a unix socket or TCP, on a current-thread
//! tokio runtime built for the call and dropped after it. Nothing here starts a thread (no
//! blocking pool: TCP names are resolved with the standard library, synchronously), so the
//! process is as single-threaded after a call as before it.

use std::io;
use std::net::ToSocketAddrs;
use std::time::Duration;

use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Bytes;
use hyper::header::{ACCEPT, CONTENT_LENGTH, HOST, HeaderValue};
use hyper::{Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite};

use super::json::{self, Obj};
use super::{Address, Method, PluginError};

/// The media type Docker (API 1.2 of the plugin protocol) accepts.
pub const ACCEPT_V12: &str = "application/vnd.docker.plugins.v1.2+json";

/// The `Host` header Docker sends to plugins on unix sockets.
pub const UNIX_HOST: &str = "plugin.moby.localhost";

/// The largest response body read (the whole body is buffered to decode it): 1 MiB, room
/// for the List of thousands of volumes.
pub const MAX_RESPONSE: usize = 1 << 20;

/// Pauses between connection attempts while the socket is missing or refuses (1.55 s in
/// all). Docker retries for 30 s, too long for a command line or a cron job.
pub const RETRY_DELAYS: [Duration; 5] = [
    Duration::from_millis(50),
    Duration::from_millis(100),
    Duration::from_millis(200),
    Duration::from_millis(400),
    Duration::from_millis(800),
];

/// Where and how to send a plugin's requests.
#[derive(Debug, Clone)]
pub(super) struct Transport {
    plugin: String,
    address: Address,
    host: HeaderValue,
}

impl Transport {
    pub(super) fn new(plugin: &str, address: Address) -> Result<Transport, PluginError> {
        let host = match &address {
            Address::Unix(_) => HeaderValue::from_static(UNIX_HOST),
            Address::Tcp(hp) => HeaderValue::from_str(hp)
                .map_err(|_| PluginError::InvalidAddress { plugin: plugin.to_owned(), address: address.clone() })?,
        };
        Ok(Transport { plugin: plugin.to_owned(), address, host })
    }

    pub(super) fn address(&self) -> &Address {
        &self.address
    }

    /// The URL as Go prints it in errors: `http://plugin.moby.localhost/VolumeDriver.Create`.
    fn url(&self, method: Method) -> String {
        let host = match &self.address {
            Address::Unix(_) => UNIX_HOST,
            Address::Tcp(hp) => hp,
        };
        format!("http://{host}/{}", method.name())
    }

    /// POST `body` to `/<method>` and return the decoded answer, after the status and `Err`
    /// checks: HTTP 200 with a non-empty `Err` is an error with that text; another status is
    /// `Method: Err` or `Method: <body>`.
    pub(super) fn call(&self, method: Method, body: Vec<u8>, timeout: Duration) -> Result<Value, PluginError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(|source| PluginError::Runtime { plugin: self.plugin.clone(), source })?;
        let answer = rt.block_on(async { tokio::time::timeout(timeout, self.call_with_retry(method, body)).await });
        let (status, bytes) = answer.map_err(|_| PluginError::Timeout {
            plugin: self.plugin.clone(),
            method: method.name(),
            timeout,
        })??;
        self.decode(method, status, &bytes)
    }

    async fn call_with_retry(&self, method: Method, body: Vec<u8>) -> Result<(StatusCode, Bytes), PluginError> {
        let body = Bytes::from(body);
        let mut delays = RETRY_DELAYS.iter();
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self.connect().await {
                Ok(conn) => return self.exchange(conn, method, body).await,
                Err(Dial::Failed { dial, source }) => {
                    let retry = matches!(source.kind(), io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused);
                    match delays.next() {
                        Some(d) if retry => tokio::time::sleep(*d).await,
                        _ => {
                            return Err(PluginError::Connect {
                                plugin: self.plugin.clone(),
                                method: method.name(),
                                url: self.url(method),
                                dial,
                                source,
                                attempts,
                            });
                        }
                    }
                }
                Err(Dial::Untrusted { socket, uid, pid }) => {
                    return Err(PluginError::UntrustedPeer {
                        plugin: self.plugin.clone(),
                        socket,
                        uid,
                        pid,
                        own: rustix::process::geteuid().as_raw(),
                    });
                }
                Err(Dial::Lookup { host, source }) => {
                    return Err(PluginError::Lookup {
                        plugin: self.plugin.clone(),
                        method: method.name(),
                        url: self.url(method),
                        host,
                        source,
                    });
                }
            }
        }
    }

    async fn connect(&self) -> Result<Conn, Dial> {
        match &self.address {
            Address::Unix(path) => match tokio::net::UnixStream::connect(path).await {
                Ok(s) => {
                    // Who answers, before a byte is sent: root or myvol's own user only.
                    let failed = |source| Dial::Failed { dial: format!("unix {}", path.display()), source };
                    let peer = rustix::net::sockopt::socket_peercred(&s).map_err(|e| failed(e.into()))?;
                    if !super::trust::peer_allowed(peer.uid.as_raw()) {
                        return Err(Dial::Untrusted {
                            socket: path.clone(),
                            uid: peer.uid.as_raw(),
                            pid: peer.pid.as_raw_nonzero().get(),
                        });
                    }
                    Ok(Conn::Unix(s))
                }
                Err(source) => Err(Dial::Failed { dial: format!("unix {}", path.display()), source }),
            },
            Address::Tcp(host_port) => {
                // Resolved here, in this thread: tokio would resolve on its blocking pool.
                let addrs = host_port.to_socket_addrs().map_err(|source| Dial::Lookup {
                    host: host_port.rsplit_once(':').map_or(host_port.as_str(), |(h, _)| h).to_owned(),
                    source,
                })?;
                let mut first: Option<Dial> = None;
                for addr in addrs {
                    match tokio::net::TcpStream::connect(addr).await {
                        Ok(s) => {
                            let _ = s.set_nodelay(true);
                            return Ok(Conn::Tcp(s));
                        }
                        Err(source) => {
                            first.get_or_insert(Dial::Failed { dial: format!("tcp {addr}"), source });
                        }
                    }
                }
                Err(first.unwrap_or_else(|| Dial::Lookup {
                    host: host_port.clone(),
                    source: io::Error::new(io::ErrorKind::NotFound, "no such host"),
                }))
            }
        }
    }

    async fn exchange(&self, conn: Conn, method: Method, body: Bytes) -> Result<(StatusCode, Bytes), PluginError> {
        match conn {
            Conn::Unix(s) => self.exchange_on(s, method, body).await,
            Conn::Tcp(s) => self.exchange_on(s, method, body).await,
        }
    }

    async fn exchange_on<S>(&self, stream: S, method: Method, body: Bytes) -> Result<(StatusCode, Bytes), PluginError>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let http = |source: Box<dyn std::error::Error + Send + Sync>| PluginError::Http {
            plugin: self.plugin.clone(),
            method: method.name(),
            url: self.url(method),
            source,
        };
        // Header names as Go writes them (`Host`, `Content-Length`, `Accept`), in its order.
        let (mut sender, connection) = hyper::client::conn::http1::Builder::new()
            .title_case_headers(true)
            .handshake(TokioIo::new(stream))
            .await
            .map_err(|e| http(e.into()))?;
        // Drives the connection; ends with it, or is dropped with the runtime.
        tokio::spawn(async move {
            let _ = connection.await;
        });

        let mut req = Request::new(Full::new(body.clone()));
        *req.method_mut() = hyper::Method::POST;
        *req.uri_mut() = Uri::from_static(method.path());
        let headers = req.headers_mut();
        headers.insert(HOST, self.host.clone());
        // Go sends a length even for an empty body; hyper would leave it out.
        headers.insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
        headers.insert(ACCEPT, HeaderValue::from_static(ACCEPT_V12));

        let resp = sender.send_request(req).await.map_err(|e| http(e.into()))?;
        let status = resp.status();
        let collected = Limited::new(resp.into_body(), MAX_RESPONSE).collect().await.map_err(|e| {
            if e.is::<LengthLimitError>() {
                PluginError::TooLarge { plugin: self.plugin.clone(), method: method.name(), limit: MAX_RESPONSE }
            } else {
                http(e)
            }
        })?;
        Ok((status, collected.to_bytes()))
    }

    fn decode(&self, method: Method, status: StatusCode, body: &[u8]) -> Result<Value, PluginError> {
        if status != StatusCode::OK {
            return Err(PluginError::Status {
                plugin: self.plugin.clone(),
                method: method.name(),
                status: status.as_u16(),
                err: status_error_text(body),
            });
        }
        let value = json::first_value(body).map_err(|e| PluginError::InvalidJson {
            plugin: self.plugin.clone(),
            method: method.name(),
            detail: e.to_string(),
        })?;
        let err = Obj::of(&value).and_then(|o| o.string("Err")).map_err(|detail| PluginError::BadResponse {
            plugin: self.plugin.clone(),
            method: method.name(),
            detail,
        })?;
        if !err.is_empty() {
            return Err(PluginError::Remote { plugin: self.plugin.clone(), method: method.name(), err });
        }
        Ok(value)
    }
}

/// A non-200 answer's text: its `Err` if it is `{"Err":…}` with a non-empty Err, else the
/// body, trimmed.
fn status_error_text(body: &[u8]) -> String {
    let from_json = json::first_value(body).ok().and_then(|v| Obj::of(&v).ok().and_then(|o| o.string("Err").ok()));
    match from_json {
        Some(err) if !err.is_empty() => err,
        _ => String::from_utf8_lossy(body).trim().to_owned(),
    }
}

enum Conn {
    Unix(tokio::net::UnixStream),
    Tcp(tokio::net::TcpStream),
}

/// Why a connection was not made.
enum Dial {
    /// `dial` is Go's `dial unix PATH` / `dial tcp ADDR`.
    Failed {
        dial: String,
        source: io::Error,
    },
    Lookup {
        host: String,
        source: io::Error,
    },
    /// The process serving the socket is not one myvol trusts.
    Untrusted {
        socket: std::path::PathBuf,
        uid: u32,
        pid: i32,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_texts() {
        let cases: &[(&str, &str)] = &[
            (r#"{"Err":"volume not found"}"#, "volume not found"),
            ("{\"err\":\"lower case\"}\n", "lower case"),
            (r#"{"Err":""}"#, r#"{"Err":""}"#),
            ("404 page not found\n", "404 page not found"),
            ("  \n", ""),
            (r#"{"Err":5}"#, r#"{"Err":5}"#),
        ];
        for (body, want) in cases {
            assert_eq!(status_error_text(body.as_bytes()), *want, "{body:?}");
        }
    }
}
