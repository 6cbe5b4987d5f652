//! Registry authentication: `WWW-Authenticate` challenges and the token protocol
//! (distribution's `docs/spec/auth/token.md`): `GET realm?service=…&scope=…`, anonymous or
//! with basic credentials, or an OAuth2 refresh-token `POST` for identity tokens.

use base64::Engine;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, USER_AGENT, WWW_AUTHENTICATE};
use hyper::{HeaderMap, Method, Request, StatusCode, Uri};

use super::RegistryError;
use super::http::{self, Conn, Origin, Verify};
use crate::image::credentials::AuthConfig;
use crate::text::echo;

/// How a registry wants to be authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    Bearer { realm: String, service: Option<String> },
    Basic,
}

/// The best challenge among the `WWW-Authenticate` headers: bearer before basic.
pub fn parse_challenges(headers: &HeaderMap) -> Option<Challenge> {
    let mut basic = false;
    for v in headers.get_all(WWW_AUTHENTICATE) {
        let Ok(v) = v.to_str() else { continue };
        let (scheme, params) = parse_challenge(v);
        match scheme.to_ascii_lowercase().as_str() {
            "bearer" => {
                let get = |k: &str| params.iter().find(|(pk, _)| pk.eq_ignore_ascii_case(k)).map(|(_, v)| v.clone());
                if let Some(realm) = get("realm") {
                    return Some(Challenge::Bearer { realm, service: get("service") });
                }
            }
            "basic" => basic = true,
            _ => {}
        }
    }
    basic.then_some(Challenge::Basic)
}

/// `Scheme k1=v1, k2="v 2"` into the scheme and its parameters.
pub fn parse_challenge(h: &str) -> (String, Vec<(String, String)>) {
    let h = h.trim();
    let (scheme, mut rest) = match h.find(' ') {
        Some(i) => (&h[..i], h[i + 1..].trim_start()),
        None => (h, ""),
    };
    let mut params = Vec::new();
    while !rest.is_empty() {
        let Some(eq) = rest.find('=') else { break };
        let key = rest[..eq].trim().trim_start_matches(',').trim().to_owned();
        rest = rest[eq + 1..].trim_start();
        let value;
        if let Some(q) = rest.strip_prefix('"') {
            let mut v = String::new();
            let mut chars = q.char_indices();
            let mut end = q.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            v.push(n);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => v.push(c),
                }
            }
            value = v;
            rest = q[end.min(q.len())..].trim_start();
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            value = rest[..end].trim().to_owned();
            rest = &rest[end..];
        }
        rest = rest.trim_start_matches([',', ' ']);
        if !key.is_empty() {
            params.push((key, value));
        }
    }
    (scheme.to_owned(), params)
}

/// `user:pass` in base64.
pub fn basic(user: &str, pass: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
}

/// Percent-encoding for a query or form value.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(char::from(b)),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Get a bearer token for `scope` from `realm`.
pub fn fetch_token(
    conn: &mut Conn,
    realm: &str,
    service: Option<&str>,
    scope: &str,
    creds: Option<&AuthConfig>,
) -> Result<String, RegistryError> {
    let realm_uri: Uri =
        realm.parse().map_err(|_| RegistryError::Other(format!("invalid token realm {}", echo(realm).quoted())))?;
    let verify = if realm_uri.scheme_str() == Some("https") { Verify::Roots } else { Verify::Insecure };
    // A realm on a loopback or insecure host is reached as the registry is.
    let verify = match realm_uri.host() {
        Some(h) if h == "localhost" || h.starts_with("127.") || h == "[::1]" => Verify::Insecure,
        _ => verify,
    };
    let origin = Origin::from_uri(&realm_uri, verify)
        .ok_or_else(|| RegistryError::Other(format!("invalid token realm {}", echo(realm).quoted())))?;
    let identity = creds.and_then(|c| c.identity_token.as_deref()).filter(|t| !t.is_empty());
    let (method, url, body, content_type) = if let Some(refresh) = identity {
        let mut form = format!("grant_type=refresh_token&refresh_token={}&client_id=docker", encode(refresh));
        if let Some(s) = service {
            form.push_str(&format!("&service={}", encode(s)));
        }
        if !scope.is_empty() {
            form.push_str(&format!("&scope={}", encode(scope)));
        }
        (Method::POST, realm.to_owned(), form, Some("application/x-www-form-urlencoded"))
    } else {
        let sep = if realm.contains('?') { '&' } else { '?' };
        let mut url = format!("{realm}{sep}");
        if let Some(s) = service {
            url.push_str(&format!("service={}&", encode(s)));
        }
        if scope.is_empty() {
            // A login check: the token server is asked for the account alone.
            if let Some(c) = creds.filter(|c| !c.username.is_empty()) {
                url.push_str(&format!("account={}", encode(&c.username)));
            }
        } else {
            url.push_str(&format!("scope={}", encode(scope)));
        }
        let url = url.trim_end_matches(['&', '?']).to_owned();
        (Method::GET, url, String::new(), None)
    };
    let uri: Uri =
        url.parse().map_err(|_| RegistryError::Other(format!("invalid token realm {}", echo(realm).quoted())))?;
    let mut b = Request::builder().method(method.clone()).uri(uri.clone());
    if let Some(a) = uri.authority() {
        b = b.header(HOST, a.as_str());
    }
    b = b.header(USER_AGENT, concat!("myvol/", env!("CARGO_PKG_VERSION")));
    if let Some(ct) = content_type {
        b = b.header(CONTENT_TYPE, ct);
    }
    if identity.is_none()
        && let Some(c) = creds.filter(|c| !c.username.is_empty())
    {
        b = b.header(AUTHORIZATION, format!("Basic {}", basic(&c.username, &c.password)));
    }
    let req = b.body(http::full(body)).map_err(|e| RegistryError::Other(e.to_string()))?;
    let go_method = if method == Method::POST { "Post" } else { "Get" };
    let reply = conn.send(&origin, req).map_err(|source| RegistryError::Transport {
        method: go_method,
        url: url.clone(),
        source,
    })?;
    let status = reply.status;
    let bytes = conn.read_all(reply, 1 << 20).map_err(|source| RegistryError::Body {
        method: go_method,
        url: url.clone(),
        source,
    })?;
    #[derive(serde::Deserialize)]
    struct TokenResponse {
        #[serde(default)]
        token: String,
        #[serde(default)]
        access_token: String,
        #[serde(default)]
        details: String,
    }
    let parsed: Option<TokenResponse> = serde_json::from_slice(&bytes).ok();
    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        let message = parsed
            .map(|p| p.details)
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| "incorrect username or password".to_owned());
        return Err(RegistryError::Unauthorized { method: go_method, url, message });
    }
    if !status.is_success() {
        return Err(RegistryError::Status {
            method: go_method,
            url,
            status: format!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or("")),
        });
    }
    let t = parsed.ok_or_else(|| {
        RegistryError::Other(format!("unable to decode token response from {}", echo(realm).quoted()))
    })?;
    let token = if t.token.is_empty() { t.access_token } else { t.token };
    if token.is_empty() || token.bytes().any(|b| !(0x21..0x7f).contains(&b)) {
        return Err(RegistryError::Other(format!("no usable token in the response from {}", echo(realm).quoted())));
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges() {
        let (s, p) = parse_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull""#,
        );
        assert_eq!(s, "Bearer");
        assert_eq!(
            p,
            [
                ("realm".to_owned(), "https://auth.docker.io/token".to_owned()),
                ("service".to_owned(), "registry.docker.io".to_owned()),
                ("scope".to_owned(), "repository:library/busybox:pull".to_owned())
            ]
        );
        let (s, p) = parse_challenge(r#"Basic realm="a \"quoted\" realm", charset=UTF-8"#);
        assert_eq!(s, "Basic");
        assert_eq!(p[0].1, "a \"quoted\" realm");
        assert_eq!(p[1], ("charset".to_owned(), "UTF-8".to_owned()));
        let mut h = HeaderMap::new();
        h.append(WWW_AUTHENTICATE, "Basic realm=x".parse().unwrap());
        h.append(WWW_AUTHENTICATE, "Bearer realm=\"http://t/token\",service=s".parse().unwrap());
        assert_eq!(
            parse_challenges(&h),
            Some(Challenge::Bearer { realm: "http://t/token".into(), service: Some("s".into()) })
        );
    }

    #[test]
    fn encoding() {
        assert_eq!(encode("repository:a/b:pull"), "repository%3Aa%2Fb%3Apull");
        assert_eq!(basic("u", "p"), "dTpw");
    }
}
