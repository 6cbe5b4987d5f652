//! The local driver's options (`-o type=… -o device=… -o o=… -o size=…`), validated as
//! Docker's local driver validates them at create (daemon/volume/local). Mounting them is the
//! job of the driver-mount code; here they are only checked and stored.

use std::collections::BTreeMap;

use thiserror::Error;

use crate::text::go_quote;
use crate::units::{SizeError, ram_in_bytes};

/// The option keys the local driver accepts.
pub const VALID_OPTIONS: [&str; 4] = ["device", "o", "size", "type"];

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LocalOptionError {
    #[error("invalid option: {}", go_quote(.0))]
    Invalid(String),
    #[error("missing required option: {}", go_quote(.0))]
    Missing(&'static str),
    #[error(transparent)]
    Size(#[from] SizeError),
    #[error("quota size requested but no quota support")]
    NoQuota,
    #[error("port not allowed in CIFS device URL, include 'port' in 'o='")]
    CifsPort,
}

/// Check options as Docker's local driver does, in its order: unknown keys first (the first
/// in sorted order is named), the CIFS device port, `size`, then the keys that need each other
/// (`device` needs `type`; `type` needs `device`; `o` needs both).
pub fn validate_options(opts: &BTreeMap<String, String>) -> Result<(), LocalOptionError> {
    if opts.is_empty() {
        return Ok(());
    }
    if let Some(bad) = opts.keys().find(|k| !VALID_OPTIONS.contains(&k.as_str())) {
        return Err(LocalOptionError::Invalid(bad.clone()));
    }
    if opts.get("type").map(String::as_str) == Some("cifs")
        && let Some(dev) = opts.get("device")
        && cifs_device_has_port(dev)
    {
        return Err(LocalOptionError::CifsPort);
    }
    if let Some(size) = opts.get("size")
        && ram_in_bytes(size)? > 0
    {
        // Docker enforces `size` with XFS project quotas on the volumes directory; myvol
        // does not implement quotas, so it refuses rather than silently ignoring the limit.
        return Err(LocalOptionError::NoQuota);
    }
    const REQUIRED: [(&str, &[&str]); 3] = [("device", &["type"]), ("o", &["device", "type"]), ("type", &["device"])];
    for (key, needs) in REQUIRED {
        if opts.contains_key(key) {
            for need in needs {
                if !opts.contains_key(*need) {
                    return Err(LocalOptionError::Missing(need));
                }
            }
        }
    }
    Ok(())
}

/// `//host:port/share` carries a port.
fn cifs_device_has_port(dev: &str) -> bool {
    let rest = dev.strip_prefix("//").unwrap_or(dev);
    let host = rest.split('/').next().unwrap_or("");
    // An IPv6 literal in brackets may carry colons of its own.
    let host = host.rsplit(']').next().unwrap_or(host);
    host.contains(':')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    type Case<'a> = (&'a [(&'a str, &'a str)], Option<&'a str>);

    #[test]
    fn options_table() {
        let cases: &[Case] = &[
            (&[], None),
            (&[("type", "tmpfs"), ("device", "tmpfs"), ("o", "size=10m")], None),
            (&[("type", "none"), ("device", "/srv"), ("o", "bind")], None),
            (&[("type", "nfs"), ("device", ":/export"), ("o", "addr=10.0.0.1,rw")], None),
            (&[("bogus", "1")], Some(r#"invalid option: "bogus""#)),
            (&[("type", "tmpfs"), ("zz", "1"), ("aa", "1")], Some(r#"invalid option: "aa""#)),
            (&[("o", "x")], Some(r#"missing required option: "device""#)),
            (&[("o", "x"), ("device", "d")], Some(r#"missing required option: "type""#)),
            (&[("type", "tmpfs")], Some(r#"missing required option: "device""#)),
            (&[("device", "tmpfs")], Some(r#"missing required option: "type""#)),
            (&[("size", "abc")], Some("invalid size: 'abc'")),
            (&[("size", "10m")], Some("quota size requested but no quota support")),
            (&[("size", "0")], None),
            (
                &[("type", "cifs"), ("device", "//host:445/share"), ("o", "user=x")],
                Some("port not allowed in CIFS device URL, include 'port' in 'o='"),
            ),
            (&[("type", "cifs"), ("device", "//host/share"), ("o", "port=445")], None),
        ];
        for (kv, want) in cases {
            let got = validate_options(&opts(kv)).err().map(|e| e.to_string());
            assert_eq!(got.as_deref(), *want, "{kv:?}");
        }
    }
}
