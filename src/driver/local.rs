//! The local driver's options (`-o type=… -o device=… -o o=… -o size=…`): validated as
//! Docker's local driver validates them at create (daemon/volume/local), and turned into the
//! mount(2) calls it makes when the first user of the volume arrives ([`mount_calls`]).

use std::collections::BTreeMap;
use std::io;
use std::net::IpAddr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::spec::mount_flag;
use crate::sys::{Syscall, ms};
use crate::text::{echo, echo_path, errno_text};
use crate::units::SizeError;

/// The option keys the local driver accepts (`quota` is myvol's).
pub const VALID_OPTIONS: [&str; 5] = ["device", "o", "quota", "size", "type"];

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LocalOptionError {
    #[error("invalid option: {}", echo(.0).quoted())]
    Invalid(String),
    #[error("missing required option: {}", echo(.0).quoted())]
    Missing(&'static str),
    #[error(transparent)]
    Size(#[from] SizeError),
    /// `size` with `type`/`device`: the limit would apply to the directory the filesystem is
    /// mounted over, not to what is written.
    #[error(
        "size cannot be combined with type and device: limit the mounted filesystem with its own options (tmpfs: o=size=…)"
    )]
    SizeWithMount,
    #[error("invalid quota mode {}: use project or image", echo(.0).quoted())]
    QuotaMode(String),
    #[error("quota needs a size: -o size=SIZE -o quota=project|image")]
    QuotaWithoutSize,
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
    // Docker enforces `size` with XFS project quotas; myvol with a project quota where the
    // filesystem has them, else a disk image (see `quota`). Whether either can be set up is
    // known at create.
    if super::quota::requested(opts)?.is_some() && needs_mount(Some(opts)) {
        return Err(LocalOptionError::SizeWithMount);
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

/// Whether a volume with these options is mounted when used (Docker: `type` or `device` set).
pub fn needs_mount(opts: Option<&BTreeMap<String, String>>) -> bool {
    opts.is_some_and(|o| ["type", "device"].iter().any(|k| o.get(*k).is_some_and(|v| !v.is_empty())))
}

/// One mount(2) call: `mount(source, <_data>, fstype, flags, data)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountCall {
    pub source: String,
    pub fstype: String,
    pub flags: u64,
    pub data: String,
}

/// Why a local volume could not be mounted, in Docker's words.
#[derive(Debug, Error)]
pub enum LocalMountError {
    #[error("missing device in volume options")]
    MissingDevice,
    #[error("error resolving passed in network volume address: lookup {}: {}", echo(host), echo(detail))]
    Resolve { host: String, detail: String },
    #[error("error parsing mount device url: parse {}: {}", echo(device).quoted(), echo(detail))]
    DeviceUrl { device: String, detail: String },
    /// moby/sys/mount's `mountError`, with Docker's wrapping; `password=` is masked.
    #[error("failed to mount local volume: {op} {}{}{}: {}", source_target(.device, .target), flags_text(*.flags), data_text(.data), errno_text(.error))]
    Mount { op: &'static str, device: String, target: PathBuf, flags: u64, data: String, error: io::Error },
    #[error("failed to unmount local volume: unmount {}: {}", echo_path(.target), errno_text(.error))]
    Unmount { target: PathBuf, error: io::Error },
    /// A disk image that could not be bound to a loop device.
    #[error("failed to mount local volume: attach {} to a loop device: {}", echo_path(.image), errno_text(.error))]
    Loop { image: PathBuf, error: io::Error },
}

fn source_target(source: &str, target: &Path) -> String {
    if source.is_empty() { echo_path(target).to_string() } else { format!("{}:{}", echo(source), echo_path(target)) }
}

fn flags_text(flags: u64) -> String {
    if flags == 0 { String::new() } else { format!(", flags: {flags:#x}") }
}

fn data_text(data: &str) -> String {
    if data.is_empty() { String::new() } else { format!(", data: {}", echo(&mask_password(data))) }
}

/// `password=SECRET` shown as `password=********` (Docker ≥ 23).
fn mask_password(data: &str) -> String {
    data.split(',')
        .map(|o| if o.starts_with("password=") { "password=********" } else { o })
        .collect::<Vec<_>>()
        .join(",")
}

/// moby/sys/mount's `parseOptions`: options of its flag table become mount(2) flags (later
/// ones win), everything else is filesystem data, in order. `defaults` is data there too.
pub fn parse_mount_options(options: &str) -> (u64, String) {
    let mut flags = 0u64;
    let mut data = Vec::new();
    for o in options.split(',') {
        match mount_flag(o) {
            Some((true, f)) => flags &= !f,
            Some((false, f)) => flags |= f,
            None => data.push(o),
        }
    }
    (flags, data.join(","))
}

/// The value of the first `addr=` option.
fn address_option(options: &str) -> Option<&str> {
    options.split(',').find_map(|o| o.strip_prefix("addr="))
}

/// Resolve a host name as Go's `net.ResolveIPAddr("ip", host)` does: the first IPv4 address,
/// else the first address.
pub fn resolve_host(host: &str) -> Result<IpAddr, String> {
    use std::net::ToSocketAddrs;
    let addrs: Vec<IpAddr> = match (host, 0u16).to_socket_addrs() {
        Ok(a) => a.map(|a| a.ip()).collect(),
        Err(e) => {
            let text = e.to_string();
            return Err(if text.contains("not known") || text.contains("No address") {
                "no such host".to_owned()
            } else {
                errno_text(&e)
            });
        }
    };
    addrs.iter().find(|a| a.is_ipv4()).or(addrs.first()).copied().ok_or_else(|| "no such host".to_owned())
}

/// The mount(2) calls Docker's local driver makes for these options (daemon/volume/local
/// `mount`, then moby/sys/mount `Mount`), host names in NFS/CIFS `addr=` and CIFS device URLs
/// resolved to addresses first with `resolve`:
/// 1. `mount(device, target, type, flags without propagation, data)` (skipped for a remount
///    request without data: flags with `remount`, or device `none`);
/// 2. with a propagation flag, `mount("", target, "", propagation flags, "")`;
/// 3. with `bind` and `ro`, a read-only remount `mount("", target, "", flags | MS_REMOUNT, "")`.
pub fn mount_calls(
    opts: &BTreeMap<String, String>,
    resolve: &dyn Fn(&str) -> Result<IpAddr, String>,
) -> Result<Vec<MountCall>, LocalMountError> {
    let get = |k: &str| opts.get(k).map(String::as_str).unwrap_or("");
    let (fstype, mut device, mut options) = (get("type"), get("device").to_owned(), get("o").to_owned());
    if device.is_empty() {
        return Err(LocalMountError::MissingDevice);
    }
    if fstype == "nfs" || fstype == "cifs" {
        match address_option(&options).map(str::to_owned) {
            Some(addr) if !addr.is_empty() && !matches!(addr.parse::<IpAddr>(), Ok(IpAddr::V4(_))) => {
                let ip = resolve(&addr).map_err(|detail| LocalMountError::Resolve { host: addr.clone(), detail })?;
                options = options.replacen(&format!("addr={addr}"), &format!("addr={ip}"), 1);
            }
            _ if fstype == "cifs" => device = resolve_cifs_device(&device, resolve)?,
            _ => {}
        }
    }
    const PROPAGATION: u64 = ms::SHARED | ms::PRIVATE | ms::SLAVE | ms::UNBINDABLE;
    const MS_SILENT: u64 = 1 << 15;
    let (flags, data) = parse_mount_options(&options);
    let plain = flags & !PROPAGATION;
    let remount_request = flags & ms::REMOUNT != 0 || device == "none";
    let mut calls = Vec::new();
    if !remount_request || !data.is_empty() {
        calls.push(MountCall { source: device.clone(), fstype: fstype.to_owned(), flags: plain, data });
    }
    if flags & PROPAGATION != 0 {
        let pflags = flags & (PROPAGATION | ms::REC | MS_SILENT);
        calls.push(MountCall { source: String::new(), fstype: String::new(), flags: pflags, data: String::new() });
    }
    if plain & (ms::BIND | ms::RDONLY) == ms::BIND | ms::RDONLY {
        calls.push(MountCall {
            source: String::new(),
            fstype: String::new(),
            flags: plain | ms::REMOUNT,
            data: String::new(),
        });
    }
    Ok(calls)
}

/// A CIFS device `//HOST/share` whose host is a name: the host replaced by its address
/// (Docker ≥ 23, Go's `url.Parse` and `URL.String`).
fn resolve_cifs_device(
    device: &str,
    resolve: &dyn Fn(&str) -> Result<IpAddr, String>,
) -> Result<String, LocalMountError> {
    let Some(rest) = device.strip_prefix("//") else {
        return Ok(device.to_owned());
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let (userinfo, host) = match authority.rfind('@') {
        Some(i) => (&authority[..=i], &authority[i + 1..]),
        None => ("", authority),
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || bare.parse::<IpAddr>().is_ok() {
        return Ok(device.to_owned());
    }
    if host.chars().any(|c| c.is_control() || c == ' ') {
        return Err(LocalMountError::DeviceUrl {
            device: device.to_owned(),
            detail: "invalid character in host name".into(),
        });
    }
    let ip = resolve(host).map_err(|detail| LocalMountError::Resolve { host: host.to_owned(), detail })?;
    // Go sets `URL.Host` to the bare address, so an IPv6 one is written without brackets.
    Ok(format!("//{userinfo}{ip}{path}"))
}

/// Make the calls onto the volume's `_data`, opened afresh by `target` for each call (after the
/// first, it is the new mount's root that a remount or a propagation change must name);
/// `shown` is its path, for messages.
pub fn mount(
    sys: &dyn Syscall,
    calls: &[MountCall],
    target: &dyn Fn() -> io::Result<OwnedFd>,
    shown: &Path,
) -> Result<(), LocalMountError> {
    for c in calls {
        target().and_then(|fd| sys.mount(&c.source, fd.as_fd(), &c.fstype, c.flags, &c.data)).map_err(|error| {
            LocalMountError::Mount {
                op: "mount",
                device: c.source.clone(),
                target: shown.to_owned(),
                flags: c.flags,
                data: c.data.clone(),
                error,
            }
        })?;
    }
    Ok(())
}

/// Unmount what [`mount`] mounted (lazily, as moby/sys/mount's `Unmount`).
pub fn unmount(sys: &dyn Syscall, target: BorrowedFd<'_>, shown: &Path) -> Result<(), LocalMountError> {
    sys.unmount(target).map_err(|error| LocalMountError::Unmount { target: shown.to_owned(), error })
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

    fn call(source: &str, fstype: &str, flags: u64, data: &str) -> MountCall {
        MountCall { source: source.into(), fstype: fstype.into(), flags, data: data.into() }
    }

    /// A resolver for tests: `nfs.example` and `files.example` have addresses, nothing else.
    fn fake_dns(host: &str) -> Result<IpAddr, String> {
        match host {
            "nfs.example" => Ok("192.0.2.7".parse().unwrap()),
            "files.example" => Ok("2001:db8::5".parse().unwrap()),
            "::1" => Ok("::1".parse().unwrap()),
            _ => Err("no such host".into()),
        }
    }

    #[test]
    fn moby_parse_options_table() {
        let cases: &[(&str, u64, &str)] = &[
            ("", 0, ""),
            ("size=10m,uid=1000", 0, "size=10m,uid=1000"),
            ("bind", ms::BIND, ""),
            ("rbind,ro", ms::BIND | ms::REC | ms::RDONLY, ""),
            ("ro,rw", 0, ""),
            ("nosuid,suid,nodev", ms::NODEV, ""),
            ("defaults,noatime", ms::NOATIME, "defaults"),
            ("addr=10.0.0.1,rw,nfsvers=4,nosuid", ms::NOSUID, "addr=10.0.0.1,nfsvers=4"),
            ("rshared,bind", ms::SHARED | ms::REC | ms::BIND, ""),
        ];
        for (o, flags, data) in cases {
            assert_eq!(parse_mount_options(o), (*flags, data.to_string()), "{o}");
        }
    }

    #[test]
    fn mount_calls_table() {
        type Case<'a> = (&'a [(&'a str, &'a str)], Result<Vec<MountCall>, &'a str>);
        let cases: Vec<Case> = vec![
            (
                &[("type", "tmpfs"), ("device", "tmpfs"), ("o", "size=10m,uid=1000")],
                Ok(vec![call("tmpfs", "tmpfs", 0, "size=10m,uid=1000")]),
            ),
            (&[("type", "none"), ("device", "/srv/a"), ("o", "bind")], Ok(vec![call("/srv/a", "none", ms::BIND, "")])),
            // bind + ro: the bind ignores MS_RDONLY, so moby remounts it read-only.
            (
                &[("type", "none"), ("device", "/srv/a"), ("o", "bind,ro")],
                Ok(vec![
                    call("/srv/a", "none", ms::BIND | ms::RDONLY, ""),
                    call("", "", ms::BIND | ms::RDONLY | ms::REMOUNT, ""),
                ]),
            ),
            // A propagation flag: a second call with the propagation flags only (MS_REC kept).
            (
                &[("type", "none"), ("device", "/srv/a"), ("o", "rbind,rslave")],
                Ok(vec![call("/srv/a", "none", ms::BIND | ms::REC, ""), call("", "", ms::SLAVE | ms::REC, "")]),
            ),
            // NFS: a host name in addr= is resolved (the first occurrence only), the device kept.
            (
                &[("type", "nfs"), ("device", ":/export"), ("o", "addr=nfs.example,rw,nfsvers=4")],
                Ok(vec![call(":/export", "nfs", 0, "addr=192.0.2.7,nfsvers=4")]),
            ),
            // An IPv4 address is not looked up (fake_dns would fail for it).
            (
                &[("type", "nfs"), ("device", "10.1.1.1:/e"), ("o", "addr=10.1.1.1,nolock")],
                Ok(vec![call("10.1.1.1:/e", "nfs", 0, "addr=10.1.1.1,nolock")]),
            ),
            // nfs4 is not "nfs": Docker leaves its addr= alone.
            (
                &[("type", "nfs4"), ("device", "srv:/e"), ("o", "addr=nfs.example")],
                Ok(vec![call("srv:/e", "nfs4", 0, "addr=nfs.example")]),
            ),
            // An IPv6 literal goes through the resolver, as in Go (To4() == nil).
            (&[("type", "nfs"), ("device", ":/e"), ("o", "addr=::1")], Ok(vec![call(":/e", "nfs", 0, "addr=::1")])),
            // An empty addr= is not looked up (Docker).
            (&[("type", "nfs"), ("device", ":/e"), ("o", "addr=")], Ok(vec![call(":/e", "nfs", 0, "addr=")])),
            (
                &[("type", "nfs"), ("device", ":/e"), ("o", "addr=nowhere.example")],
                Err("error resolving passed in network volume address: lookup nowhere.example: no such host"),
            ),
            // CIFS: addr= wins; else the device URL's host is resolved (IPv6 bare, as Go writes it).
            (
                &[("type", "cifs"), ("device", "//nfs.example/share"), ("o", "addr=nfs.example,username=u")],
                Ok(vec![call("//nfs.example/share", "cifs", 0, "addr=192.0.2.7,username=u")]),
            ),
            (
                &[("type", "cifs"), ("device", "//files.example/share/sub"), ("o", "username=u")],
                Ok(vec![call("//2001:db8::5/share/sub", "cifs", 0, "username=u")]),
            ),
            (
                &[("type", "cifs"), ("device", "//192.0.2.1/share"), ("o", "username=u")],
                Ok(vec![call("//192.0.2.1/share", "cifs", 0, "username=u")]),
            ),
            (
                &[("type", "cifs"), ("device", "//nowhere.example/s"), ("o", "username=u")],
                Err("error resolving passed in network volume address: lookup nowhere.example: no such host"),
            ),
            // A block device with flags.
            (
                &[("type", "ext4"), ("device", "/dev/loop3"), ("o", "noatime,ro")],
                Ok(vec![call("/dev/loop3", "ext4", ms::NOATIME | ms::RDONLY, "")]),
            ),
            // moby's remount rule: a remount request without data makes no first call.
            (&[("type", "none"), ("device", "none"), ("o", "ro")], Ok(vec![])),
            (&[("type", "tmpfs")], Err("missing device in volume options")),
        ];
        for (kv, want) in cases {
            let got = mount_calls(&opts(kv), &fake_dns).map_err(|e| e.to_string());
            assert_eq!(got, want.map_err(str::to_owned), "{kv:?}");
        }
    }

    #[test]
    fn needs_mount_is_type_or_device() {
        assert!(!needs_mount(None));
        assert!(!needs_mount(Some(&opts(&[("size", "0")]))));
        assert!(needs_mount(Some(&opts(&[("type", "tmpfs"), ("device", "tmpfs")]))));
        assert!(needs_mount(Some(&opts(&[("device", "x")]))));
    }

    #[test]
    fn mount_makes_the_calls_on_a_fresh_target_and_reports_the_failing_one() {
        use crate::sys::record::{Call, Recorder};
        let dir = tempfile::tempdir().unwrap();
        let open = || -> io::Result<OwnedFd> { Ok(std::fs::File::open(dir.path())?.into()) };
        let shown = Path::new("/var/lib/myvol/volumes/v/_data");
        let calls = mount_calls(&opts(&[("type", "none"), ("device", "/src"), ("o", "bind,ro")]), &fake_dns).unwrap();
        let rec = Recorder::new();
        mount(&rec, &calls, &open, shown).unwrap();
        let target = dir.path().to_string_lossy().into_owned();
        let m = |source: &str, fstype: &str, flags: u64| Call::Mount {
            source: source.into(),
            target: target.clone(),
            fstype: fstype.into(),
            flags,
            data: String::new(),
        };
        assert_eq!(rec.take(), [m("/src", "none", 0x1001), m("", "", 0x1021)]);

        let mut rec = Recorder::new();
        rec.fail_at = Some(1);
        let err = mount(&rec, &calls, &open, shown).unwrap_err().to_string();
        assert_eq!(
            err,
            "failed to mount local volume: mount /var/lib/myvol/volumes/v/_data, flags: 0x1021: invalid argument"
        );
        let cifs = opts(&[("type", "cifs"), ("device", "//192.0.2.1/s"), ("o", "username=u,password=hunter2")]);
        let mut rec = Recorder::new();
        rec.fail_at = Some(0);
        let err = mount(&rec, &mount_calls(&cifs, &fake_dns).unwrap(), &open, shown).unwrap_err().to_string();
        assert_eq!(
            err,
            "failed to mount local volume: mount //192.0.2.1/s:/var/lib/myvol/volumes/v/_data, \
             data: username=u,password=********: invalid argument"
        );
    }

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
            (&[("size", "10m")], None),
            (&[("size", "10m"), ("quota", "image")], None),
            (&[("size", "10m"), ("quota", "nfs")], Some(r#"invalid quota mode "nfs": use project or image"#)),
            (&[("quota", "project")], Some("quota needs a size: -o size=SIZE -o quota=project|image")),
            (
                &[("size", "10m"), ("type", "tmpfs"), ("device", "tmpfs")],
                Some(
                    "size cannot be combined with type and device: limit the mounted filesystem with its own options (tmpfs: o=size=…)",
                ),
            ),
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
