//! HTTP/1.1 to registries: hyper over TCP, with TLS from rustls (the OS trust store, read by
//! rustls-native-certs, which honours `SSL_CERT_FILE`/`SSL_CERT_DIR`; plus Docker's
//! `certs.d/<host>/*.crt`). One [`Conn`] per thread: its own current-thread tokio runtime and
//! one kept-alive connection per origin. Bodies are read synchronously ([`BodyReader`]), so
//! a layer streams from the socket into the digest check, the decompressor and the extractor
//! without a copy on disk.

use std::collections::HashMap;
use std::io::{self, Read};
use std::net::ToSocketAddrs;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::client::conn::http1::SendRequest;
use hyper::{Request, Uri};
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime, pem::PemObject};

/// Connecting (TCP and TLS) may take this long.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest silence while waiting for a response or the next piece of a body.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// `http` or `https`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// How certificates are checked on an origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verify {
    /// The OS roots (and the host's `certs.d`).
    Roots,
    /// Nothing checked: an insecure registry tried over HTTPS first, as Docker does.
    Insecure,
}

/// Where a connection goes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    pub scheme: Scheme,
    /// `host` or `host:port` as in the URL (brackets kept for IPv6).
    pub authority: String,
    pub verify: Verify,
}

impl Origin {
    pub fn from_uri(uri: &Uri, verify: Verify) -> Option<Origin> {
        let scheme = match uri.scheme_str()? {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            _ => return None,
        };
        Some(Origin { scheme, authority: uri.authority()?.as_str().to_owned(), verify })
    }

    fn host(&self) -> &str {
        let a = self.authority.as_str();
        if let Some(rest) = a.strip_prefix('[') {
            return rest.split(']').next().unwrap_or(rest);
        }
        a.rsplit_once(':').filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit())).map_or(a, |(h, _)| h)
    }

    fn port(&self) -> u16 {
        let a = self.authority.as_str();
        let after = a.rsplit_once(']').map_or(a, |(_, p)| p);
        match after.rsplit_once(':') {
            Some((_, p)) => p.parse().unwrap_or(0),
            None if self.scheme == Scheme::Https => 443,
            None => 80,
        }
    }
}

/// A response with its body to read.
pub struct Reply {
    pub status: hyper::StatusCode,
    pub headers: hyper::HeaderMap,
    body: Incoming,
}

/// One thread's connections.
pub struct Conn {
    rt: tokio::runtime::Runtime,
    pool: HashMap<Origin, SendRequest<Full<Bytes>>>,
    /// Extra CA directory (`certs.d`), for tests and for Docker's layout.
    certs_d: Option<std::path::PathBuf>,
}

/// A transport failure, before any HTTP status.
#[derive(Debug)]
pub enum TransportError {
    Dial { addr: String, source: io::Error },
    Lookup { host: String, source: io::Error },
    Tls(String),
    Http(String),
    Timeout,
}

impl std::fmt::Display for TransportError {
    /// Go's wording: `dial tcp 127.0.0.1:5000: connect: connection refused`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransportError::Dial { addr, source } => {
                write!(f, "dial tcp {addr}: connect: {}", crate::text::errno_text(source))
            }
            TransportError::Lookup { host, source } => {
                write!(f, "dial tcp: lookup {host}: {}", crate::text::errno_text(source))
            }
            TransportError::Tls(e) => write!(f, "tls: {}", crate::text::echo(e)),
            TransportError::Http(e) => write!(f, "{}", crate::text::echo(e)),
            TransportError::Timeout => f.write_str("net/http: timeout awaiting response headers"),
        }
    }
}

impl Conn {
    pub fn new(certs_d: Option<std::path::PathBuf>) -> io::Result<Conn> {
        let rt = tokio::runtime::Builder::new_current_thread().enable_io().enable_time().build()?;
        Ok(Conn { rt, pool: HashMap::new(), certs_d })
    }

    /// Send `req` to `origin`, reusing a kept-alive connection when there is one.
    pub fn send(&mut self, origin: &Origin, req: Request<Full<Bytes>>) -> Result<Reply, TransportError> {
        // A kept-alive connection may have been closed by the server meanwhile: one retry on a
        // new connection when the old one fails before any response.
        for attempt in 0..2 {
            let mut sender = match self.pool.remove(origin) {
                Some(s) if attempt == 0 => s,
                _ => self.connect(origin)?,
            };
            let req_clone = clone_request(&req);
            let res = self.rt.block_on(async {
                tokio::time::timeout(IDLE_TIMEOUT, async {
                    sender.ready().await?;
                    sender.send_request(req_clone).await
                })
                .await
            });
            match res {
                Err(_) => return Err(TransportError::Timeout),
                Ok(Ok(resp)) => {
                    self.pool.insert(origin.clone(), sender);
                    let (parts, body) = resp.into_parts();
                    return Ok(Reply { status: parts.status, headers: parts.headers, body });
                }
                Ok(Err(e)) if attempt == 0 && (e.is_closed() || e.is_incomplete_message() || e.is_canceled()) => {
                    continue;
                }
                Ok(Err(e)) => return Err(TransportError::Http(e.to_string())),
            }
        }
        Err(TransportError::Http("connection closed".into()))
    }

    fn connect(&mut self, origin: &Origin) -> Result<SendRequest<Full<Bytes>>, TransportError> {
        let host = origin.host().to_owned();
        let port = origin.port();
        // Resolved here, synchronously: tokio would resolve on a blocking thread pool.
        let addrs: Vec<std::net::SocketAddr> = (host.as_str(), port)
            .to_socket_addrs()
            .map_err(|source| TransportError::Lookup { host: host.clone(), source })?
            .collect();
        let tls = match origin.scheme {
            Scheme::Https => Some(tls_config(origin.verify, self.certs_d.as_deref(), &origin.authority)),
            Scheme::Http => None,
        };
        let server_name = ServerName::try_from(host.clone()).map_err(|e| TransportError::Tls(e.to_string()))?;
        self.rt.block_on(async {
            let mut last = None;
            for addr in &addrs {
                let tcp = match tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(addr)).await {
                    Err(_) => {
                        last = Some(TransportError::Timeout);
                        continue;
                    }
                    Ok(Err(source)) => {
                        last = Some(TransportError::Dial { addr: addr.to_string(), source });
                        continue;
                    }
                    Ok(Ok(s)) => s,
                };
                let _ = tcp.set_nodelay(true);
                let sender = match &tls {
                    None => {
                        let (s, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
                            .await
                            .map_err(|e| TransportError::Http(e.to_string()))?;
                        tokio::spawn(async move {
                            let _ = conn.await;
                        });
                        s
                    }
                    Some(cfg) => {
                        let connector = tokio_rustls::TlsConnector::from(cfg.clone());
                        let stream = tokio::time::timeout(CONNECT_TIMEOUT, connector.connect(server_name.clone(), tcp))
                            .await
                            .map_err(|_| TransportError::Timeout)?
                            .map_err(|e| TransportError::Tls(tls_text(&e)))?;
                        let (s, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                            .await
                            .map_err(|e| TransportError::Http(e.to_string()))?;
                        tokio::spawn(async move {
                            let _ = conn.await;
                        });
                        s
                    }
                };
                return Ok(sender);
            }
            Err(last.unwrap_or_else(|| TransportError::Lookup {
                host: host.clone(),
                source: io::Error::new(io::ErrorKind::NotFound, "no such host"),
            }))
        })
    }

    /// Read a whole body of at most `limit` bytes.
    pub fn read_all(&self, reply: Reply, limit: u64) -> Result<Bytes, io::Error> {
        let mut out = Vec::new();
        let mut r = self.reader(reply);
        (&mut r).take(limit + 1).read_to_end(&mut out)?;
        if out.len() as u64 > limit {
            return Err(io::Error::new(io::ErrorKind::InvalidData, format!("response larger than {limit} bytes")));
        }
        Ok(Bytes::from(out))
    }

    /// A synchronous reader of a response body.
    pub fn reader(&self, reply: Reply) -> BodyReader<'_> {
        BodyReader { rt: &self.rt, body: reply.body, chunk: Bytes::new() }
    }
}

fn clone_request(req: &Request<Full<Bytes>>) -> Request<Full<Bytes>> {
    let mut b = Request::builder().method(req.method().clone()).uri(req.uri().clone());
    for (k, v) in req.headers() {
        b = b.header(k, v);
    }
    // Our request bodies are small and fully in memory (token forms).
    let body = req.body().clone();
    b.body(body).unwrap_or_else(|_| Request::new(Full::new(Bytes::new())))
}

/// A response body as `Read`.
pub struct BodyReader<'c> {
    rt: &'c tokio::runtime::Runtime,
    body: Incoming,
    chunk: Bytes,
}

impl Read for BodyReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if !self.chunk.is_empty() {
                let n = buf.len().min(self.chunk.len());
                buf[..n].copy_from_slice(&self.chunk[..n]);
                self.chunk = self.chunk.slice(n..);
                return Ok(n);
            }
            let next = self.rt.block_on(async { tokio::time::timeout(IDLE_TIMEOUT, self.body.frame()).await });
            match next {
                Err(_) => return Err(io::Error::new(io::ErrorKind::TimedOut, "timed out reading the response")),
                Ok(None) => return Ok(0),
                Ok(Some(Err(e))) => return Err(io::Error::other(e)),
                Ok(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        self.chunk = data;
                    }
                }
            }
        }
    }
}

/// A TLS failure in Go's words where they are well known (`x509: certificate signed by
/// unknown authority`), else rustls's.
fn tls_text(e: &io::Error) -> String {
    use rustls::CertificateError as C;
    match e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
        Some(rustls::Error::InvalidCertificate(c)) => {
            let why = match c {
                C::UnknownIssuer => "x509: certificate signed by unknown authority".to_owned(),
                C::Expired | C::ExpiredContext { .. } | C::NotValidYet | C::NotValidYetContext { .. } => {
                    "x509: certificate has expired or is not yet valid".to_owned()
                }
                C::NotValidForName | C::NotValidForNameContext { .. } => {
                    "x509: certificate is not valid for this host name".to_owned()
                }
                other => format!("{other:?}"),
            };
            format!("failed to verify certificate: {why}")
        }
        Some(r) => r.to_string(),
        None => e.to_string(),
    }
}

/// The OS's roots, read once per process.
fn native_roots() -> &'static Vec<CertificateDer<'static>> {
    static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| rustls_native_certs::load_native_certs().certs)
}

/// rustls on *ring*. (rustls now steers towards aws-lc-rs for post-quantum key exchange;
/// *ring* keeps the build free of a C/assembly toolchain the size of aws-lc, and what a pull
/// downloads is checked against digests anyway.)
#[allow(deprecated)]
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The TLS configuration for an origin: OS roots plus `certs.d/<authority>/*.crt`, or no
/// verification at all for an insecure registry.
fn tls_config(verify: Verify, certs_d: Option<&Path>, authority: &str) -> Arc<rustls::ClientConfig> {
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap_or_else(|_| {
            rustls::ClientConfig::builder_with_provider(provider())
                .with_protocol_versions(&[&rustls::version::TLS13])
                .expect("TLS 1.3")
        });
    let mut cfg = match verify {
        Verify::Insecure => {
            builder.dangerous().with_custom_certificate_verifier(Arc::new(NoVerify(provider()))).with_no_client_auth()
        }
        Verify::Roots => {
            let mut roots = rustls::RootCertStore::empty();
            let _ = roots.add_parsable_certificates(native_roots().iter().cloned());
            if let Some(dir) = certs_d {
                let host_dir = dir.join(authority);
                if let Ok(entries) = std::fs::read_dir(&host_dir) {
                    for e in entries.flatten() {
                        if e.path().extension().is_some_and(|x| x == "crt")
                            && let Ok(certs) = CertificateDer::pem_file_iter(e.path())
                        {
                            let _ = roots.add_parsable_certificates(certs.flatten());
                        }
                    }
                }
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
    };
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(cfg)
}

/// Accepts any certificate (signatures still checked): Docker's `InsecureSkipVerify` for
/// registries listed as insecure.
#[derive(Debug)]
struct NoVerify(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A body from a `Vec`.
pub fn full(b: impl Into<Bytes>) -> Full<Bytes> {
    Full::new(b.into())
}
