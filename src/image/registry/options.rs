//! Registry settings from the daemon's configuration: which registries are insecure (the
//! loopback addresses, daemon.json's `insecure-registries` hosts and CIDRs) and where the
//! per-registry CA directories are.

use std::io::Read;
use std::net::{IpAddr, ToSocketAddrs};
use std::path::PathBuf;

/// Registry settings: which registries are insecure, where per-registry CAs are.
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// `host[:port]` entries and CIDRs (`10.0.0.0/8`), from daemon.json.
    pub insecure: Vec<String>,
    /// Docker's `certs.d` directory: `<dir>/<host:port>/*.crt` are extra CAs for that registry.
    pub certs_d: Option<PathBuf>,
}

/// `daemon.json`'s keys myvol reads.
#[derive(Debug, Default, serde::Deserialize)]
struct DaemonJson {
    #[serde(rename = "insecure-registries", default)]
    insecure_registries: Vec<String>,
}

impl RegistryOptions {
    /// Docker's daemon configuration: `$MYVOL_DAEMON_CONFIG`, else `/etc/docker/daemon.json`
    /// as root and `$XDG_CONFIG_HOME/docker/daemon.json` (rootless Docker's) otherwise;
    /// `certs.d` beside it. A file that is missing or unreadable is no configuration.
    pub fn from_env() -> RegistryOptions {
        let root = rustix::process::geteuid().is_root();
        let dir = if root {
            PathBuf::from("/etc/docker")
        } else {
            match std::env::var_os("XDG_CONFIG_HOME").filter(|x| !x.is_empty()) {
                Some(x) => PathBuf::from(x).join("docker"),
                None => std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default().join(".config/docker"),
            }
        };
        let file =
            std::env::var_os("MYVOL_DAEMON_CONFIG").map(PathBuf::from).unwrap_or_else(|| dir.join("daemon.json"));
        let certs_d = file.parent().map(|p| p.join("certs.d"));
        let json: DaemonJson = std::fs::File::open(&file)
            .ok()
            .and_then(|f| {
                let mut buf = Vec::new();
                f.take(crate::fsutil::MAX_META_BYTES).read_to_end(&mut buf).ok()?;
                serde_json::from_slice(&buf).ok()
            })
            .unwrap_or_default();
        let insecure = json
            .insecure_registries
            .into_iter()
            .map(|s| {
                let s = s.strip_prefix("http://").or_else(|| s.strip_prefix("https://")).unwrap_or(&s).to_owned();
                s.trim_end_matches('/').to_owned()
            })
            .collect();
        RegistryOptions { insecure, certs_d }
    }

    /// Docker's `isSecureIndex`, inverted: the registry is named in `insecure-registries`,
    /// or one of its addresses is in a listed CIDR or in the loopback ranges (127.0.0.0/8,
    /// ::1), which Docker always treats as insecure.
    pub fn is_insecure(&self, authority: &str) -> bool {
        if self.insecure.iter().any(|e| e == authority) {
            return true;
        }
        let host = strip_port(authority);
        let mut cidrs: Vec<(IpAddr, u8)> =
            vec![(IpAddr::from([127, 0, 0, 0]), 8), (IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1]), 128)];
        cidrs.extend(self.insecure.iter().filter_map(|e| parse_cidr(e)));
        let addrs: Vec<IpAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => (host, 0).to_socket_addrs().map(|a| a.map(|s| s.ip()).collect()).unwrap_or_default(),
        };
        addrs.iter().any(|ip| cidrs.iter().any(|(net, bits)| in_cidr(*ip, *net, *bits)))
    }
}

fn strip_port(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match authority.rsplit_once(':') {
        Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => authority,
    }
}

fn parse_cidr(s: &str) -> Option<(IpAddr, u8)> {
    let (ip, bits) = s.split_once('/')?;
    let ip: IpAddr = ip.parse().ok()?;
    let bits: u8 = bits.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    (bits <= max).then_some((ip, bits))
}

fn in_cidr(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    let (a, b, len) = match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u128::from(u32::from(a)) << 96, u128::from(u32::from(b)) << 96, bits),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), bits),
        (IpAddr::V6(a), IpAddr::V4(b)) => match a.to_ipv4_mapped() {
            Some(a4) => (u128::from(u32::from(a4)) << 96, u128::from(u32::from(b)) << 96, bits),
            None => return false,
        },
        _ => return false,
    };
    if len == 0 {
        return true;
    }
    let mask = u128::MAX << (128 - u32::from(len));
    a & mask == b & mask
}
