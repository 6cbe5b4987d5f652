//! Registry credentials as Docker's CLI keeps them: `$DOCKER_CONFIG/config.json` (default
//! `~/.docker/config.json`) with `auths` (base64 `user:password`, or an identity token),
//! `credsStore` and `credHelpers` naming a `docker-credential-<name>` helper (run with
//! `get`/`store`/`erase`, the server URL or the credentials as JSON on its stdin), and the
//! `DOCKER_AUTH_CONFIG` environment variable (read only). Docker Hub's key is
//! `https://index.docker.io/v1/`; others are `host[:port]`. Writes keep every other setting of
//! the file and replace it atomically.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine;
use serde_json::{Map, Value};
use thiserror::Error;

use super::reference::DEFAULT_DOMAIN;

/// Docker Hub's key in `auths` and for helpers.
pub const INDEX_SERVER: &str = "https://index.docker.io/v1/";

/// Credentials for one registry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthConfig {
    pub username: String,
    pub password: String,
    /// An OAuth2 refresh token (from a helper answering `<token>` as the user, or `auths`).
    pub identity_token: Option<String>,
    pub server_address: String,
}

#[derive(Debug, Error)]
pub enum CredentialsError {
    #[error("loading config file {}: {}", crate::text::echo_path(path), crate::text::echo(detail))]
    Load { path: PathBuf, detail: String },
    #[error("Error saving credentials: {0}")]
    Save(String),
    #[error("error getting credentials - err: {}, out: `{}`", crate::text::echo(err), crate::text::echo(out))]
    Helper { err: String, out: String },
    #[error("Invalid auth configuration file")]
    InvalidAuth,
}

/// The key credentials of a registry are stored under: `INDEX_SERVER` for Docker Hub.
pub fn server_key(registry: &str) -> String {
    if registry == DEFAULT_DOMAIN || registry == "index.docker.io" || registry == super::registry::DOCKER_HUB_ENDPOINT {
        INDEX_SERVER.to_owned()
    } else {
        registry.to_owned()
    }
}

/// docker/cli's `ConvertToHostname`: `https://host:5000/v1/` → `host:5000`.
pub fn convert_to_hostname(s: &str) -> String {
    let s = s.split_once("://").map_or(s, |(_, rest)| rest);
    s.split('/').next().unwrap_or("").to_owned()
}

/// Where the Docker CLI's configuration lives: `$DOCKER_CONFIG`, else `~/.docker`.
pub fn config_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/")).join(".docker")
}

/// `config.json`, as JSON (so that settings myvol does not know survive a write).
#[derive(Debug, Clone)]
pub struct DockerConfig {
    path: PathBuf,
    json: Map<String, Value>,
}

/// Where [`DockerConfig::store`] put the credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// In `config.json` itself, base64-encoded (Docker warns about this).
    File(PathBuf),
    /// In a credential helper.
    Helper(String),
}

impl DockerConfig {
    /// Read `config.json` (an empty configuration when it does not exist).
    pub fn load() -> Result<DockerConfig, CredentialsError> {
        DockerConfig::load_from(&config_dir().join("config.json"))
    }

    pub fn load_from(path: &Path) -> Result<DockerConfig, CredentialsError> {
        let err = |detail: String| CredentialsError::Load { path: path.to_owned(), detail };
        let json = match std::fs::File::open(path) {
            Ok(f) => {
                let mut buf = Vec::new();
                f.take(crate::fsutil::MAX_META_BYTES * 4).read_to_end(&mut buf).map_err(|e| err(e.to_string()))?;
                if buf.iter().all(u8::is_ascii_whitespace) {
                    Map::new()
                } else {
                    match serde_json::from_slice::<Value>(&buf).map_err(|e| err(e.to_string()))? {
                        Value::Object(m) => m,
                        _ => return Err(err("not a JSON object".into())),
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Map::new(),
            Err(e) => return Err(err(crate::text::errno_text(&e))),
        };
        Ok(DockerConfig { path: path.to_owned(), json })
    }

    /// A string setting (`volumesFormat`, `imagesFormat`): `None` when absent, empty or not
    /// a string.
    pub fn string(&self, key: &str) -> Option<&str> {
        self.json.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The helper for `server`: `credHelpers[server]`, else `credsStore`.
    fn helper(&self, server: &str) -> Option<String> {
        let host = convert_to_hostname(server);
        if let Some(Value::Object(h)) = self.json.get("credHelpers") {
            for key in [server, host.as_str()] {
                if let Some(Value::String(name)) = h.get(key) {
                    return Some(name.clone()).filter(|n| !n.is_empty());
                }
            }
        }
        match self.json.get("credsStore") {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            _ => None,
        }
    }

    /// The credentials for `server` (see [`server_key`]); `None` when there are none.
    pub fn get(&self, server: &str) -> Result<Option<AuthConfig>, CredentialsError> {
        if let Ok(env) = std::env::var("DOCKER_AUTH_CONFIG")
            && let Ok(Value::Object(m)) = serde_json::from_str::<Value>(&env)
            && let Some(Value::Object(auths)) = m.get("auths")
            && let Some(a) = find_auth(auths, server)
        {
            return decode_entry(a, server).map(Some);
        }
        if let Some(helper) = self.helper(server) {
            return helper_get(&helper, server);
        }
        match self.json.get("auths") {
            Some(Value::Object(auths)) => match find_auth(auths, server) {
                Some(a) => decode_entry(a, server).map(Some),
                None => Ok(None),
            },
            _ => Ok(None),
        }
    }

    /// Store credentials as `docker login` does: in the helper if one is configured for the
    /// server, else base64-encoded in `auths`.
    pub fn store(&mut self, a: &AuthConfig) -> Result<Stored, CredentialsError> {
        if let Some(helper) = self.helper(&a.server_address) {
            let (user, secret) = match &a.identity_token {
                Some(t) => ("<token>".to_owned(), t.clone()),
                None => (a.username.clone(), a.password.clone()),
            };
            let input =
                serde_json::json!({"ServerURL": a.server_address, "Username": user, "Secret": secret}).to_string();
            run_helper(&helper, "store", &input).map_err(|e| CredentialsError::Save(e.to_string()))?;
            return Ok(Stored::Helper(helper));
        }
        let auths = self.json.entry("auths").or_insert_with(|| Value::Object(Map::new()));
        if !auths.is_object() {
            *auths = Value::Object(Map::new());
        }
        let mut entry = Map::new();
        if !a.username.is_empty() || !a.password.is_empty() {
            let enc = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", a.username, a.password));
            entry.insert("auth".into(), Value::String(enc));
        }
        if let Some(t) = &a.identity_token {
            entry.insert("identitytoken".into(), Value::String(t.clone()));
        }
        if let Value::Object(m) = auths {
            m.insert(a.server_address.clone(), Value::Object(entry));
        }
        self.save().map_err(|e| CredentialsError::Save(e.to_string()))?;
        Ok(Stored::File(self.path.clone()))
    }

    /// Remove the credentials of `server` (and the same host under other spellings, as
    /// `docker logout` does). `Ok(false)` when there were none anywhere.
    pub fn erase(&mut self, server: &str) -> Result<bool, CredentialsError> {
        let mut keys = vec![server.to_owned()];
        if server != INDEX_SERVER {
            let host = convert_to_hostname(server);
            keys.extend([host.clone(), format!("http://{host}"), format!("https://{host}")]);
        }
        let mut found = false;
        let mut changed = false;
        for k in &keys {
            if let Some(helper) = self.helper(k) {
                if run_helper(&helper, "erase", k).is_ok() {
                    found = true;
                }
                continue;
            }
            if let Some(Value::Object(auths)) = self.json.get_mut("auths")
                && auths.remove(k).is_some()
            {
                found = true;
                changed = true;
            }
        }
        if changed {
            self.save().map_err(|e| CredentialsError::Save(e.to_string()))?;
        }
        Ok(found)
    }

    /// Write the file as Go's `json.MarshalIndent(…, "", "\t")` would, atomically (a temp
    /// file in the same directory, renamed over it), keeping an existing file's mode.
    fn save(&self) -> std::io::Result<()> {
        use serde::Serialize;
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(dir)?;
        let mut buf = Vec::new();
        let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
        let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
        Value::Object(self.json.clone()).serialize(&mut ser).map_err(std::io::Error::other)?;
        let mode = std::fs::metadata(&self.path)
            .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o7777)
            .unwrap_or(0o600);
        let tmp = dir.join(format!(
            ".{}.tmp-{}",
            self.path.file_name().and_then(|n| n.to_str()).unwrap_or("config.json"),
            crate::fsutil::random_suffix()
        ));
        let result = (|| {
            let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp)?;
            std::fs::set_permissions(&tmp, std::os::unix::fs::PermissionsExt::from_mode(mode))?;
            f.write_all(&buf)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &self.path)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }
}

fn find_auth<'a>(auths: &'a Map<String, Value>, server: &str) -> Option<&'a Value> {
    if let Some(v) = auths.get(server) {
        return Some(v);
    }
    let host = convert_to_hostname(server);
    auths.iter().find(|(k, _)| convert_to_hostname(k) == host).map(|(_, v)| v)
}

fn decode_entry(v: &Value, server: &str) -> Result<AuthConfig, CredentialsError> {
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let (mut username, mut password) = (s("username"), s("password"));
    let auth = s("auth");
    if !auth.is_empty() {
        let decoded =
            base64::engine::general_purpose::STANDARD.decode(auth.trim()).map_err(|_| CredentialsError::InvalidAuth)?;
        let decoded = String::from_utf8(decoded).map_err(|_| CredentialsError::InvalidAuth)?;
        let (u, p) = decoded.split_once(':').ok_or(CredentialsError::InvalidAuth)?;
        if u.is_empty() {
            return Err(CredentialsError::InvalidAuth);
        }
        username = u.to_owned();
        password = p.trim_matches('\0').to_owned();
    }
    let identity_token = Some(s("identitytoken")).filter(|t| !t.is_empty());
    Ok(AuthConfig { username, password, identity_token, server_address: server.to_owned() })
}

/// `docker-credential-<helper> get`, the server URL on stdin.
fn helper_get(helper: &str, server: &str) -> Result<Option<AuthConfig>, CredentialsError> {
    match run_helper(helper, "get", server) {
        Ok(out) => {
            let v: Value = serde_json::from_slice(&out).map_err(|e| CredentialsError::Helper {
                err: e.to_string(),
                out: String::from_utf8_lossy(&out).into_owned(),
            })?;
            let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
            let (user, secret) = (s("Username"), s("Secret"));
            if user == "<token>" {
                return Ok(Some(AuthConfig {
                    username: String::new(),
                    password: String::new(),
                    identity_token: Some(secret),
                    server_address: server.to_owned(),
                }));
            }
            if user.is_empty() && secret.is_empty() {
                return Ok(None);
            }
            Ok(Some(AuthConfig {
                username: user,
                password: secret,
                identity_token: None,
                server_address: server.to_owned(),
            }))
        }
        Err(HelperError::NotFound) => Ok(None),
        Err(HelperError::Failed { err, out }) => Err(CredentialsError::Helper { err, out }),
    }
}

#[derive(Debug)]
enum HelperError {
    /// The helper has no credentials for the server.
    NotFound,
    Failed {
        err: String,
        out: String,
    },
}

impl std::fmt::Display for HelperError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HelperError::NotFound => f.write_str("credentials not found in native keychain"),
            HelperError::Failed { err, out } => write!(f, "{err}: {}", crate::text::echo(out.trim())),
        }
    }
}

fn run_helper(helper: &str, action: &str, input: &str) -> Result<Vec<u8>, HelperError> {
    let program = format!("docker-credential-{helper}");
    let mut child = Command::new(&program)
        .arg(action)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| HelperError::Failed {
            err: format!("exec: {}: {}", crate::text::go_quote(&program), crate::text::errno_text(&e)),
            out: String::new(),
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input.as_bytes());
    }
    let out = child.wait_with_output().map_err(|e| HelperError::Failed { err: e.to_string(), out: String::new() })?;
    if out.status.success() {
        return Ok(out.stdout);
    }
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if text.contains("credentials not found") {
        return Err(HelperError::NotFound);
    }
    let err = match out.status.code() {
        Some(c) => format!("exit status {c}"),
        None => "signal: killed".to_owned(),
    };
    Err(HelperError::Failed { err, out: text })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_hostnames() {
        assert_eq!(server_key("docker.io"), INDEX_SERVER);
        assert_eq!(server_key("localhost:5000"), "localhost:5000");
        assert_eq!(convert_to_hostname("https://reg:5000/v1/"), "reg:5000");
        assert_eq!(convert_to_hostname("reg:5000"), "reg:5000");
    }

    #[test]
    fn store_get_erase_keep_other_settings() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("d/config.json");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "{\"psFormat\": \"x\", \"auths\": {\"https://other:1/v1/\": {\"auth\": \"YTpi\"}}}")
            .unwrap();
        let mut c = DockerConfig::load_from(&path).unwrap();
        let got = c.get("other:1").unwrap().unwrap();
        assert_eq!((got.username.as_str(), got.password.as_str()), ("a", "b"));
        let a = AuthConfig {
            username: "u".into(),
            password: "p:w".into(),
            identity_token: None,
            server_address: "reg:5000".into(),
        };
        assert_eq!(c.store(&a).unwrap(), Stored::File(path.clone()));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("{\n\t\"psFormat\": \"x\""), "{text}");
        let c = DockerConfig::load_from(&path).unwrap();
        let got = c.get("reg:5000").unwrap().unwrap();
        assert_eq!((got.username.as_str(), got.password.as_str()), ("u", "p:w"));
        let mut c = DockerConfig::load_from(&path).unwrap();
        assert!(c.erase("reg:5000").unwrap());
        assert!(!c.erase("reg:5000").unwrap());
        assert!(DockerConfig::load_from(&path).unwrap().get("reg:5000").unwrap().is_none());
        std::fs::write(&path, "{\"auths\": {\"x\": {\"auth\": \"bm9jb2xvbg==\"}}}").unwrap();
        assert!(matches!(DockerConfig::load_from(&path).unwrap().get("x"), Err(CredentialsError::InvalidAuth)));
    }
}
