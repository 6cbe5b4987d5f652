//! The `docker run` flags that myvol leaves out on purpose: refused with `myvol run does not
//! support --x` (status 125), so that a command line copied from Docker says what is missing
//! instead of `unknown flag`.

/// Flags of `docker run` that myvol deliberately does not support, long and short forms:
/// they are refused with "myvol run does not support …", not "unknown flag".
const UNSUPPORTED: &[(&str, Option<char>)] = &[
    ("add-host", None),
    ("annotation", None),
    ("attach", Some('a')),
    ("blkio-weight", None),
    ("cap-add", None),
    ("cap-drop", None),
    ("cgroup-parent", None),
    ("cgroupns", None),
    ("cidfile", None),
    ("cpu-period", None),
    ("cpu-quota", None),
    ("cpu-shares", Some('c')),
    ("cpus", None),
    ("cpuset-cpus", None),
    ("detach", Some('d')),
    ("detach-keys", None),
    ("device", None),
    ("device-cgroup-rule", None),
    ("dns", None),
    ("dns-option", None),
    ("dns-search", None),
    ("domainname", None),
    ("expose", None),
    ("gpus", None),
    ("group-add", None),
    ("health-cmd", None),
    ("init", None),
    ("ip", None),
    ("ip6", None),
    ("ipc", None),
    ("isolation", None),
    ("label", Some('l')),
    ("link", None),
    ("log-driver", None),
    ("log-opt", None),
    ("mac-address", None),
    ("memory", Some('m')),
    ("memory-swap", None),
    ("name", None),
    ("network-alias", None),
    ("oom-kill-disable", None),
    ("pid", None),
    ("pids-limit", None),
    ("platform", None),
    ("privileged", None),
    ("publish", Some('p')),
    ("publish-all", Some('P')),
    ("restart", None),
    ("runtime", None),
    ("security-opt", None),
    ("shm-size", None),
    ("sig-proxy", None),
    ("stop-signal", None),
    ("stop-timeout", None),
    ("storage-opt", None),
    ("sysctl", None),
    ("ulimit", None),
    ("userns", None),
    ("uts", None),
    ("volumes-from", None),
];

/// `name` if it is one of those flags' long names.
pub fn unsupported_long(name: &str) -> Option<&'static str> {
    UNSUPPORTED.iter().find(|(l, _)| *l == name).map(|(l, _)| *l)
}

/// The long name of the unsupported flag whose shorthand is `c`.
pub fn unsupported_short(c: char) -> Option<&'static str> {
    UNSUPPORTED.iter().find(|(_, s)| *s == Some(c)).map(|(l, _)| *l)
}
