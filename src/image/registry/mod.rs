//! A client of the OCI Distribution Spec (Docker Registry HTTP API v2), for pulls:
//! `GET /v2/` (the ping that finds the scheme and the auth challenge), manifests with the
//! right `Accept:`, blobs (following redirects to storage), anonymous, basic and bearer-token
//! authentication (`WWW-Authenticate: Bearer realm=…,service=…,scope=…`), and Docker's rules
//! for insecure registries: the loopback addresses and those named in daemon.json's
//! `insecure-registries` are tried over HTTPS without certificate checks, then plain HTTP.

mod auth;
pub mod http;
mod options;

use std::io;
use std::path::PathBuf;
use std::sync::Mutex;

use hyper::body::Bytes;
use hyper::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, LOCATION, USER_AGENT};
use hyper::{Method, Request, StatusCode, Uri};
use thiserror::Error;

pub use auth::Challenge;
use http::{Conn, Origin, Reply, Scheme, TransportError, Verify};
pub use options::RegistryOptions;

use super::credentials::AuthConfig;
use super::digest::{Digest, Hasher};
use super::oci;
use super::reference::{DEFAULT_DOMAIN, Reference};
use crate::text::echo;

/// Docker Hub's registry endpoint (`docker.io` names it).
pub const DOCKER_HUB_ENDPOINT: &str = "registry-1.docker.io";

/// One error of a registry's JSON error body (`{"errors":[{"code","message","detail"}]}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: String,
    pub message: String,
}

impl std::fmt::Display for ApiError {
    /// errcode's `Error()`: the code in lower case with spaces, then the message.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let code = if self.code.is_empty() { "unknown".to_owned() } else { self.code.to_lowercase().replace('_', " ") };
        write!(f, "{}: {}", echo(&code), echo(&self.message))
    }
}

/// What went wrong talking to a registry, in Go's and Docker's words.
#[derive(Debug, Error)]
pub enum RegistryError {
    /// `Get "https://…/v2/": dial tcp …: connect: connection refused`.
    #[error("{method} {}: {source}", echo(url).quoted())]
    Transport {
        method: &'static str,
        url: String,
        #[source]
        source: TransportError,
    },
    #[error("{method} {}: {}", echo(url).quoted(), crate::text::errno_text(source))]
    Body {
        method: &'static str,
        url: String,
        #[source]
        source: io::Error,
    },
    /// A JSON error body.
    #[error("{0}")]
    Api(ApiError),
    #[error("{method} {}: unexpected status code {status}", echo(url).quoted())]
    Status { method: &'static str, url: String, status: String },
    #[error("{method} {}: unauthorized: {}", echo(url).quoted(), echo(message))]
    Unauthorized { method: &'static str, url: String, message: String },
    /// `docker login`'s check of `GET /v2/` with the credentials got another answer than 200
    /// (moby's `loginV2`: the status only, whatever the body says).
    #[error("login attempt to {} failed with status: {status}", echo(url))]
    LoginFailed { url: String, status: String },
    #[error("manifest for {reference} not found: {cause}")]
    ManifestNotFound { reference: String, cause: ApiError },
    #[error("repository {name} not found: {cause}")]
    RepositoryNotFound { name: String, cause: ApiError },
    #[error("pull access denied for {name}, repository does not exist or may require 'docker login': {cause}")]
    Denied { name: String, cause: ApiError },
    #[error("{0}")]
    Other(String),
}

impl std::error::Error for TransportError {}

/// Bearer tokens and the challenge, shared by a pull's threads.
#[derive(Debug, Default)]
struct AuthState {
    challenge: Option<Challenge>,
    token: Option<String>,
    basic: bool,
}

/// A client for one repository of one registry.
#[derive(Debug)]
pub struct Client {
    /// The registry as the reference names it (`docker.io`, `localhost:5000`).
    registry: String,
    /// Where requests go (`registry-1.docker.io` for `docker.io`).
    authority: String,
    insecure: bool,
    repo: String,
    /// The familiar name, for Docker's error messages.
    familiar: String,
    origin: Mutex<Option<Origin>>,
    auth: Mutex<AuthState>,
    creds: Option<AuthConfig>,
    certs_d: Option<PathBuf>,
}

impl Client {
    pub fn new(reference: &Reference, opts: &RegistryOptions, creds: Option<AuthConfig>) -> Client {
        let registry = reference.domain().to_owned();
        let authority = if registry == DEFAULT_DOMAIN { DOCKER_HUB_ENDPOINT.to_owned() } else { registry.clone() };
        let insecure = registry != DEFAULT_DOMAIN && opts.is_insecure(&authority);
        Client {
            registry,
            authority,
            insecure,
            repo: reference.path().to_owned(),
            familiar: reference.familiar_name(),
            origin: Mutex::new(None),
            auth: Mutex::new(AuthState::default()),
            creds,
            certs_d: opts.certs_d.clone(),
        }
    }

    /// The registry's name as in references.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// A connection set for the calling thread.
    pub fn conn(&self) -> Result<Conn, RegistryError> {
        Conn::new(self.certs_d.clone()).map_err(|e| RegistryError::Other(format!("starting the HTTP client: {e}")))
    }

    /// The token scope of our requests (none for a login check).
    fn scope(&self) -> String {
        if self.repo.is_empty() { String::new() } else { format!("repository:{}:pull", self.repo) }
    }

    /// A client that only checks credentials (`docker login SERVER`).
    pub fn for_login(registry: &str, opts: &RegistryOptions, creds: AuthConfig) -> Client {
        let authority = if registry == DEFAULT_DOMAIN || registry == super::credentials::INDEX_SERVER {
            DOCKER_HUB_ENDPOINT.to_owned()
        } else {
            registry.to_owned()
        };
        let insecure = authority != DOCKER_HUB_ENDPOINT && opts.is_insecure(&authority);
        Client {
            registry: registry.to_owned(),
            authority,
            insecure,
            repo: String::new(),
            familiar: String::new(),
            origin: Mutex::new(None),
            auth: Mutex::new(AuthState::default()),
            creds: Some(creds),
            certs_d: opts.certs_d.clone(),
        }
    }

    /// `docker login`'s check: the registry accepts the credentials (a token is issued for
    /// them, then `GET /v2/` with them answers 200). Any other answer is moby's `loginV2`
    /// error, `login attempt to http://HOST/v2/ failed with status: 401 Unauthorized`.
    pub fn check_login(&self, conn: &mut Conn) -> Result<(), RegistryError> {
        self.ping(conn)?;
        let st = self.auth.lock().unwrap_or_else(|e| e.into_inner());
        let challenged = st.basic || st.token.is_some();
        drop(st);
        if challenged {
            let reply = self.get(conn, "/v2/", None)?;
            let status = reply.status;
            drain(conn, reply);
            if status != StatusCode::OK {
                let url = format!(
                    "{}/v2/",
                    self.origin().map(|o| format!("{}://{}", o.scheme.as_str(), o.authority)).unwrap_or_default()
                );
                return Err(RegistryError::LoginFailed { url, status: status_text(status) });
            }
        }
        Ok(())
    }

    /// Every tag of the repository (`GET /v2/<name>/tags/list`, following `Link` pages).
    pub fn tags(&self, conn: &mut Conn, reference: &Reference) -> Result<Vec<String>, RegistryError> {
        let mut path = format!("/v2/{}/tags/list", self.repo);
        let mut out = Vec::new();
        for _ in 0..1000 {
            let reply = self.get(conn, &path, Some("application/json"))?;
            let url = format!(
                "{}{path}",
                self.origin().map(|o| format!("{}://{}", o.scheme.as_str(), o.authority)).unwrap_or_default()
            );
            if !reply.status.is_success() {
                return Err(match self.failure(conn, reply, &url) {
                    RegistryError::Api(cause) => self.translate(cause, reference),
                    other => other,
                });
            }
            let next = reply
                .headers
                .get(hyper::header::LINK)
                .and_then(|v| v.to_str().ok())
                .and_then(|l| l.split(';').next())
                .map(|l| l.trim().trim_start_matches('<').trim_end_matches('>').to_owned());
            let body = conn.read_all(reply, oci::MAX_DOCUMENT).map_err(|source| RegistryError::Body {
                method: "Get",
                url: url.clone(),
                source,
            })?;
            #[derive(serde::Deserialize)]
            struct Tags {
                #[serde(default)]
                tags: Option<Vec<String>>,
            }
            let t: Tags = serde_json::from_slice(&body).map_err(|e| {
                RegistryError::Other(format!("invalid tag list from {}: {}", echo(&url).quoted(), echo(&e.to_string())))
            })?;
            out.extend(t.tags.unwrap_or_default());
            match next {
                Some(n) if n.starts_with("/v2/") => path = n,
                _ => break,
            }
        }
        Ok(out)
    }

    fn url(&self, origin: &Origin, path: &str) -> String {
        format!("{}://{}{}", origin.scheme.as_str(), origin.authority, path)
    }

    /// `GET /v2/`: choose the scheme (HTTPS; then HTTP for an insecure registry) and learn
    /// the auth challenge; with a bearer challenge, fetch the token for this repository.
    pub fn ping(&self, conn: &mut Conn) -> Result<(), RegistryError> {
        let candidates: Vec<Origin> = if self.insecure {
            vec![
                Origin { scheme: Scheme::Https, authority: self.authority.clone(), verify: Verify::Insecure },
                Origin { scheme: Scheme::Http, authority: self.authority.clone(), verify: Verify::Insecure },
            ]
        } else {
            vec![Origin { scheme: Scheme::Https, authority: self.authority.clone(), verify: Verify::Roots }]
        };
        let mut last = None;
        for origin in candidates {
            let url = self.url(&origin, "/v2/");
            let req = self.request(Method::GET, &url, None, None)?;
            match conn.send(&origin, req) {
                Ok(reply) => {
                    let challenge = auth::parse_challenges(&reply.headers);
                    let status = reply.status;
                    drain(conn, reply);
                    if status != StatusCode::OK && status != StatusCode::UNAUTHORIZED {
                        // Docker accepts any answer from /v2/ as a v2 registry, but a 404 means
                        // this is not one.
                        if status == StatusCode::NOT_FOUND {
                            return Err(RegistryError::Status { method: "Get", url, status: status_text(status) });
                        }
                    }
                    *self.origin.lock().unwrap_or_else(|e| e.into_inner()) = Some(origin);
                    let mut st = self.auth.lock().unwrap_or_else(|e| e.into_inner());
                    st.challenge = if status == StatusCode::UNAUTHORIZED { challenge } else { None };
                    drop(st);
                    if status == StatusCode::UNAUTHORIZED {
                        self.authorize(conn)?;
                    }
                    return Ok(());
                }
                Err(source) => last = Some(RegistryError::Transport { method: "Get", url, source }),
            }
        }
        Err(last.unwrap_or_else(|| RegistryError::Other("no endpoint".into())))
    }

    fn origin(&self) -> Result<Origin, RegistryError> {
        self.origin
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| RegistryError::Other("registry not pinged".into()))
    }

    fn request(
        &self,
        method: Method,
        url: &str,
        accept: Option<&str>,
        auth: Option<&str>,
    ) -> Result<Request<http_body_util::Full<Bytes>>, RegistryError> {
        let uri: Uri = url.parse().map_err(|_| RegistryError::Other(format!("invalid URL {}", echo(url).quoted())))?;
        let mut b = Request::builder().method(method).uri(uri.clone());
        if let Some(a) = uri.authority() {
            b = b.header(hyper::header::HOST, a.as_str());
        }
        b = b.header(USER_AGENT, concat!("myvol/", env!("CARGO_PKG_VERSION")));
        if let Some(a) = accept {
            b = b.header(ACCEPT, a);
        }
        if let Some(a) = auth {
            b = b.header(AUTHORIZATION, a);
        }
        b.body(http::full(Bytes::new())).map_err(|e| RegistryError::Other(e.to_string()))
    }

    /// The `Authorization` header for our requests, if any.
    fn auth_header(&self) -> Option<String> {
        let st = self.auth.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = &st.token {
            return Some(format!("Bearer {t}"));
        }
        if st.basic {
            return self.creds.as_ref().map(|c| format!("Basic {}", auth::basic(&c.username, &c.password)));
        }
        None
    }

    /// Answer the current challenge: fetch a bearer token, or switch to basic credentials.
    fn authorize(&self, conn: &mut Conn) -> Result<(), RegistryError> {
        let challenge = self.auth.lock().unwrap_or_else(|e| e.into_inner()).challenge.clone();
        match challenge {
            Some(Challenge::Bearer { realm, service }) => {
                let token = auth::fetch_token(conn, &realm, service.as_deref(), &self.scope(), self.creds.as_ref())?;
                self.auth.lock().unwrap_or_else(|e| e.into_inner()).token = Some(token);
                Ok(())
            }
            Some(Challenge::Basic) => {
                self.auth.lock().unwrap_or_else(|e| e.into_inner()).basic = true;
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// `GET` a path of this registry, answering one 401 with a new token (or credentials).
    fn get(&self, conn: &mut Conn, path: &str, accept: Option<&str>) -> Result<Reply, RegistryError> {
        let origin = self.origin()?;
        let url = self.url(&origin, path);
        let mut attempt = 0;
        loop {
            let req = self.request(Method::GET, &url, accept, self.auth_header().as_deref())?;
            let reply = conn.send(&origin, req).map_err(|source| RegistryError::Transport {
                method: "Get",
                url: url.clone(),
                source,
            })?;
            attempt += 1;
            if reply.status == StatusCode::UNAUTHORIZED
                && attempt == 1
                && let Some(c) = auth::parse_challenges(&reply.headers)
            {
                drain(conn, reply);
                let mut st = self.auth.lock().unwrap_or_else(|e| e.into_inner());
                st.challenge = Some(c);
                st.token = None;
                drop(st);
                self.authorize(conn)?;
                continue;
            }
            return Ok(reply);
        }
    }

    /// A failed response as an error: the registry's JSON error if it sent one.
    fn failure(&self, conn: &Conn, reply: Reply, url: &str) -> RegistryError {
        let status = reply.status;
        let body = conn.read_all(reply, 1 << 20).unwrap_or_default();
        #[derive(serde::Deserialize)]
        struct Errs {
            #[serde(default)]
            errors: Vec<E>,
        }
        #[derive(serde::Deserialize)]
        struct E {
            #[serde(default)]
            code: String,
            #[serde(default)]
            message: String,
        }
        match serde_json::from_slice::<Errs>(&body).ok().and_then(|e| e.errors.into_iter().next()) {
            Some(e) => RegistryError::Api(ApiError { code: e.code, message: e.message }),
            None if status == StatusCode::UNAUTHORIZED => RegistryError::Unauthorized {
                method: "Get",
                url: url.to_owned(),
                message: "authentication required".into(),
            },
            None => RegistryError::Status { method: "Get", url: url.to_owned(), status: status_text(status) },
        }
    }

    /// A manifest or index by tag or digest: its bytes and media type, checked against the
    /// digest when fetched by digest, and bounded in size.
    pub fn manifest(
        &self,
        conn: &mut Conn,
        tag_or_digest: &str,
        reference: &Reference,
    ) -> Result<(Bytes, Option<String>), RegistryError> {
        let path = format!("/v2/{}/manifests/{tag_or_digest}", self.repo);
        let reply = self.get(conn, &path, Some(oci::MANIFEST_ACCEPT))?;
        let url = format!(
            "{}{}",
            self.origin().map(|o| format!("{}://{}", o.scheme.as_str(), o.authority)).unwrap_or_default(),
            path
        );
        if !reply.status.is_success() {
            return Err(match self.failure(conn, reply, &url) {
                RegistryError::Api(cause) => self.translate(cause, reference),
                other => other,
            });
        }
        let ct = reply.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let bytes = conn.read_all(reply, oci::MAX_DOCUMENT).map_err(|source| RegistryError::Body {
            method: "Get",
            url: url.clone(),
            source,
        })?;
        if let Ok(d) = Digest::parse(tag_or_digest) {
            let mut h = Hasher::new(d.algorithm());
            h.update(&bytes);
            let got = h.finish();
            if got != d {
                return Err(RegistryError::Other(format!("manifest verification failed for digest {d}")));
            }
        }
        Ok((bytes, ct))
    }

    /// Docker's `translatePullError`.
    fn translate(&self, cause: ApiError, reference: &Reference) -> RegistryError {
        match cause.code.as_str() {
            "MANIFEST_UNKNOWN" => RegistryError::ManifestNotFound { reference: reference.familiar_string(), cause },
            "NAME_UNKNOWN" => RegistryError::RepositoryNotFound { name: self.familiar.clone(), cause },
            "DENIED" | "UNAUTHORIZED" => RegistryError::Denied { name: self.familiar.clone(), cause },
            _ => RegistryError::Api(cause),
        }
    }

    /// Start downloading a blob: the successful response, after redirects (to storage that
    /// may be another host: no credentials are sent there).
    pub fn blob<'c>(&self, conn: &'c mut Conn, digest: &Digest) -> Result<http::BodyReader<'c>, RegistryError> {
        let path = format!("/v2/{}/blobs/{digest}", self.repo);
        let mut reply = self.get(conn, &path, None)?;
        let origin = self.origin()?;
        let mut url = self.url(&origin, &path);
        for _ in 0..10 {
            if !reply.status.is_redirection() {
                break;
            }
            let Some(loc) = reply.headers.get(LOCATION).and_then(|v| v.to_str().ok()).map(str::to_owned) else { break };
            drain(conn, reply);
            let next = resolve_location(&url, &loc)
                .ok_or_else(|| RegistryError::Other(format!("invalid redirect to {}", echo(&loc).quoted())))?;
            let uri: Uri = next
                .parse()
                .map_err(|_| RegistryError::Other(format!("invalid redirect to {}", echo(&loc).quoted())))?;
            let same = uri.authority().map(|a| a.as_str()) == Some(origin.authority.as_str());
            let verify = if same { origin.verify } else { Verify::Roots };
            let o = Origin::from_uri(&uri, verify)
                .ok_or_else(|| RegistryError::Other(format!("invalid redirect to {}", echo(&loc).quoted())))?;
            let auth = if same { self.auth_header() } else { None };
            let req = self.request(Method::GET, &next, None, auth.as_deref())?;
            url = next;
            reply = conn.send(&o, req).map_err(|source| RegistryError::Transport {
                method: "Get",
                url: url.clone(),
                source,
            })?;
        }
        if !reply.status.is_success() {
            return Err(self.failure(conn, reply, &url));
        }
        Ok(conn.reader(reply))
    }
}

/// Read and drop a small body so that the connection can be reused.
fn drain(conn: &Conn, reply: Reply) {
    let _ = conn.read_all(reply, 1 << 20);
}

/// Go's `resp.Status`: `404 Not Found`.
fn status_text(s: StatusCode) -> String {
    format!("{} {}", s.as_u16(), s.canonical_reason().unwrap_or(""))
}

/// A `Location` header against the URL it answered: absolute, or a path on the same origin.
fn resolve_location(base: &str, loc: &str) -> Option<String> {
    if loc.starts_with("http://") || loc.starts_with("https://") {
        return Some(loc.to_owned());
    }
    let uri: Uri = base.parse().ok()?;
    let origin = format!("{}://{}", uri.scheme_str()?, uri.authority()?.as_str());
    if loc.starts_with('/') {
        return Some(format!("{origin}{loc}"));
    }
    let path = uri.path();
    let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
    Some(format!("{origin}{dir}/{loc}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insecure_registries() {
        let o = RegistryOptions { insecure: vec!["reg.example:5000".into(), "10.1.0.0/16".into()], certs_d: None };
        assert!(o.is_insecure("127.0.0.1:5000"));
        assert!(o.is_insecure("127.9.9.9"));
        assert!(o.is_insecure("[::1]:5000"));
        assert!(o.is_insecure("reg.example:5000"));
        assert!(o.is_insecure("10.1.2.3:443"));
        assert!(!o.is_insecure("10.2.0.1"));
        assert!(!o.is_insecure("192.0.2.1:5000"));
    }

    #[test]
    fn locations() {
        assert_eq!(resolve_location("https://r/v2/a/blobs/x", "https://s3/obj").unwrap(), "https://s3/obj");
        assert_eq!(resolve_location("http://r:5000/v2/a/blobs/x", "/other").unwrap(), "http://r:5000/other");
        assert_eq!(resolve_location("http://r/v2/a/blobs/x", "y").unwrap(), "http://r/v2/a/blobs/y");
    }

    #[test]
    fn api_errors_read_as_errcode() {
        let e = ApiError { code: "MANIFEST_UNKNOWN".into(), message: "manifest unknown".into() };
        assert_eq!(e.to_string(), "manifest unknown: manifest unknown");
    }
}
