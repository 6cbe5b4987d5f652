//! The part of the Compose specification's JSON schema that myvol checks, with the messages
//! Compose's validator gives (`services.web.volumes.0 must be a string`, `… additional
//! properties 'x' not allowed`, `… value must be one of …`). Keys of the specification that
//! myvol does not model are accepted here without a look inside.

mod check;

use super::value::{Map, Path};
use check::{Failure, Obj, S, check_object};

fn resource_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn list_or_dict() -> S {
    S::OneOf(vec![
        S::Object(Obj {
            also: &[],
            props: Vec::new(),
            pattern: Some((|k| !k.is_empty(), Box::new(S::Type(&["string", "number", "boolean", "null"])))),
            extensions: false,
            closed: true,
            required: &[],
        }),
        S::Array(Box::new(S::Type(&["string"]))),
    ])
}

fn list_of_strings() -> S {
    S::Array(Box::new(S::Type(&["string"])))
}

fn command() -> S {
    S::OneOf(vec![S::Type(&["null"]), S::Type(&["string"]), list_of_strings()])
}

/// The keys of a service in the Compose specification.
pub const SERVICE_KEYS: &[&str] = &[
    "annotations",
    "attach",
    "blkio_config",
    "build",
    "cap_add",
    "cap_drop",
    "cgroup",
    "cgroup_parent",
    "command",
    "configs",
    "container_name",
    "cpu_count",
    "cpu_percent",
    "cpu_period",
    "cpu_quota",
    "cpu_rt_period",
    "cpu_rt_runtime",
    "cpu_shares",
    "cpus",
    "cpuset",
    "credential_spec",
    "depends_on",
    "deploy",
    "develop",
    "device_cgroup_rules",
    "devices",
    "dns",
    "dns_opt",
    "dns_search",
    "domainname",
    "entrypoint",
    "env_file",
    "environment",
    "expose",
    "extends",
    "external_links",
    "extra_hosts",
    "gpus",
    "group_add",
    "healthcheck",
    "hostname",
    "image",
    "init",
    "ipc",
    "isolation",
    "label_file",
    "labels",
    "links",
    "logging",
    "mac_address",
    "mem_limit",
    "mem_reservation",
    "mem_swappiness",
    "memswap_limit",
    "models",
    "network_mode",
    "networks",
    "oom_kill_disable",
    "oom_score_adj",
    "pid",
    "pids_limit",
    "platform",
    "ports",
    "post_start",
    "pre_stop",
    "privileged",
    "profiles",
    "provider",
    "pull_policy",
    "pull_refresh_after",
    "read_only",
    "restart",
    "runtime",
    "scale",
    "secrets",
    "security_opt",
    "shm_size",
    "stdin_open",
    "stop_grace_period",
    "stop_signal",
    "storage_opt",
    "sysctls",
    "tmpfs",
    "tty",
    "ulimits",
    "use_api_socket",
    "user",
    "userns_mode",
    "uts",
    "volumes",
    "volumes_from",
    "working_dir",
];

fn service_volume() -> S {
    let bind = Obj::closed(vec![
        ("propagation", S::Type(&["string"])),
        ("create_host_path", S::Type(&["boolean", "string"])),
        ("recursive", S::Enum(&["enabled", "disabled", "writable", "readonly"])),
        ("selinux", S::Enum(&["z", "Z"])),
    ]);
    let volume = Obj::closed(vec![
        ("labels", list_or_dict()),
        ("nocopy", S::Type(&["boolean", "string"])),
        ("subpath", S::Type(&["string"])),
    ]);
    let tmpfs = Obj::closed(vec![("size", S::SizeLike), ("mode", S::Type(&["number", "string"]))]);
    let image = Obj::closed(vec![("subpath", S::Type(&["string"]))]);
    let mut long = Obj::closed(vec![
        ("type", S::Enum(&["bind", "volume", "tmpfs", "cluster", "npipe", "image"])),
        ("source", S::Type(&["string"])),
        ("target", S::Type(&["string"])),
        ("read_only", S::Type(&["boolean", "string"])),
        ("consistency", S::Type(&["string"])),
        ("bind", S::Object(bind)),
        ("volume", S::Object(volume)),
        ("tmpfs", S::Object(tmpfs)),
        ("image", S::Object(image)),
    ]);
    long.required = &["type"];
    S::OneOf(vec![S::Type(&["string"]), S::Object(long)])
}

fn service() -> S {
    let env_file_item = S::OneOf(vec![
        S::Type(&["string"]),
        S::Object(Obj {
            also: &[],
            props: vec![
                ("path", S::Type(&["string"])),
                ("format", S::Type(&["string"])),
                ("required", S::Type(&["boolean", "string"])),
            ],
            pattern: None,
            extensions: false,
            closed: true,
            required: &["path"],
        }),
    ]);
    let depends_on_entry = S::Object(Obj {
        also: &[],
        props: vec![
            ("restart", S::Type(&["boolean", "string"])),
            ("required", S::Type(&["boolean"])),
            ("condition", S::Enum(&["service_started", "service_healthy", "service_completed_successfully"])),
        ],
        pattern: None,
        extensions: true,
        closed: true,
        required: &["condition"],
    });
    let extends = S::OneOf(vec![
        S::Type(&["string"]),
        S::Object(Obj {
            also: &[],
            props: vec![("service", S::Type(&["string"])), ("file", S::Type(&["string"]))],
            pattern: None,
            extensions: false,
            closed: true,
            required: &["service"],
        }),
    ]);
    let mut props: Vec<(&'static str, S)> = vec![
        ("command", command()),
        ("entrypoint", command()),
        ("container_name", S::Type(&["string"])),
        ("environment", list_or_dict()),
        ("env_file", S::OneOf(vec![S::Type(&["string"]), S::Array(Box::new(env_file_item))])),
        ("labels", list_or_dict()),
        ("profiles", list_of_strings()),
        ("tmpfs", S::OneOf(vec![S::Type(&["string"]), list_of_strings()])),
        ("volumes_from", list_of_strings()),
        ("volumes", S::Array(Box::new(service_volume()))),
        ("extends", extends),
        (
            "depends_on",
            S::OneOf(vec![
                list_of_strings(),
                S::Object(Obj {
                    also: &[],
                    props: Vec::new(),
                    pattern: Some((resource_name, Box::new(depends_on_entry))),
                    extensions: false,
                    closed: true,
                    required: &[],
                }),
            ]),
        ),
        ("image", S::Type(&["string"])),
        ("working_dir", S::Type(&["string"])),
        ("user", S::Type(&["string"])),
        ("hostname", S::Type(&["string"])),
        ("network_mode", S::Type(&["string"])),
        ("read_only", S::Type(&["boolean", "string"])),
    ];
    for key in SERVICE_KEYS {
        if !props.iter().any(|(k, _)| k == key) {
            props.push((key, S::Any));
        }
    }
    S::Object(Obj::closed(props))
}

fn volume() -> S {
    S::Object(Obj {
        also: &["null"],
        props: vec![
            ("name", S::Type(&["string"])),
            ("driver", S::Type(&["string"])),
            (
                "driver_opts",
                S::Object(Obj {
                    also: &[],
                    props: Vec::new(),
                    pattern: Some((|k| !k.is_empty(), Box::new(S::Type(&["string", "number"])))),
                    extensions: false,
                    closed: false,
                    required: &[],
                }),
            ),
            (
                "external",
                S::OneOf(vec![
                    S::Type(&["boolean", "string"]),
                    S::Object(Obj::closed(vec![("name", S::Type(&["string"]))])),
                ]),
            ),
            ("labels", list_or_dict()),
        ],
        pattern: None,
        extensions: true,
        closed: true,
        required: &[],
    })
}

fn top() -> S {
    let named = |s: S| {
        S::Object(Obj {
            also: &[],
            props: Vec::new(),
            pattern: Some((resource_name, Box::new(s))),
            extensions: false,
            closed: true,
            required: &[],
        })
    };
    S::Object(Obj::closed(vec![
        ("version", S::Type(&["string"])),
        ("name", S::Type(&["string"])),
        ("include", S::Any),
        ("services", named(service())),
        ("models", S::Any),
        ("networks", S::Any),
        ("volumes", named(volume())),
        ("secrets", S::Any),
        ("configs", S::Any),
    ]))
}

/// Check a merged model; the error is Compose's most specific one, rendered as
/// `PATH MESSAGE`.
pub fn validate(model: &Map) -> Result<(), String> {
    match check_object_root(model) {
        None => Ok(()),
        Some(f) => Err(f.most_specific().render()),
    }
}

fn check_object_root(model: &Map) -> Option<Failure> {
    match top() {
        S::Object(obj) => check_object(&obj, model, &Path::root()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::yaml::parse_one;

    fn err(src: &str) -> String {
        let v = parse_one(src).unwrap();
        validate(v.as_map().unwrap()).unwrap_err()
    }

    #[test]
    fn messages_as_compose() {
        let cases: &[(&str, &str)] = &[
            ("services:\n  w:\n    image: x\nfoo: bar\n", " additional properties 'foo' not allowed"),
            ("services:\n  w:\n    bogus: 1\n", "services.w additional properties 'bogus' not allowed"),
            ("services:\n  w:\n    volumes: [12]\n", "services.w.volumes.0 must be a string"),
            ("services:\n  w:\n    volumes: [[a]]\n", "services.w.volumes.0 must be a string"),
            ("services:\n  w:\n    volumes: [{target: /x}]\n", "services.w.volumes.0 must be a string"),
            (
                "services:\n  w:\n    volumes: [{type: volume, target: /x, bogus: 1}]\n",
                "services.w.volumes.0 additional properties 'bogus' not allowed",
            ),
            (
                "services:\n  w:\n    volumes: [{type: bogus, target: /x}]\n",
                "services.w.volumes.0.type value must be one of 'bind', 'volume', 'tmpfs', 'cluster', 'npipe', 'image'",
            ),
            (
                "services:\n  w:\n    volumes: [{type: bind, source: /a, target: /x, bind: {selinux: q}}]\n",
                "services.w.volumes.0.bind.selinux value must be one of 'z', 'Z'",
            ),
            (
                "services:\n  w:\n    volumes: [{type: tmpfs, target: /x, tmpfs: {size: -1}}]\n",
                "services.w.volumes.0.tmpfs.size must be greater than or equal to 0",
            ),
            ("services:\n  w:\n    command: 1\n", "services.w.command must be a null"),
            ("services:\n  w:\n    environment: 1\n", "services.w.environment must be a mapping"),
            (
                "services:\n  w:\n    environment: {A: [1]}\n",
                "services.w.environment.A must be a boolean, null, number or string",
            ),
            ("services:\n  w:\n    env_file: 1\n", "services.w.env_file must be a string"),
            ("services:\n  w:\n    read_only: 1\n", "services.w.read_only must be a boolean or string"),
            ("services:\n  w:\n    profiles: x\n", "services.w.profiles must be a array"),
            ("services:\n  w:\n    tmpfs: 1\n", "services.w.tmpfs must be a string"),
            ("services:\n  w:\n    depends_on: 1\n", "services.w.depends_on must be a array"),
            ("volumes:\n  v: {driver: 1}\n", "volumes.v.driver must be a string"),
            ("volumes:\n  v: {labels: 1}\n", "volumes.v.labels must be a mapping"),
            ("volumes:\n  v: {driver_opts: {a: [1]}}\n", "volumes.v.driver_opts.a must be a number or string"),
            ("volumes:\n  v: 1\n", "volumes.v must be a mapping or null"),
            ("volumes:\n  v: {bogus: 1}\n", "volumes.v additional properties 'bogus' not allowed"),
        ];
        for (src, want) in cases {
            assert_eq!(err(src), *want, "{src}");
        }
    }

    #[test]
    fn valid_models_pass() {
        let v = parse_one(
            "name: x\nx-any: 1\nservices:\n  w:\n    image: x\n    ports: ['80:80']\n    x-mine: {a: 1}\nvolumes:\n  v:\n  e: {external: true}\n",
        )
        .unwrap();
        assert_eq!(validate(v.as_map().unwrap()), Ok(()));
    }
}
