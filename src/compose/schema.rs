//! The part of the Compose specification's JSON schema that myvol checks, with the messages
//! Compose's validator gives (`services.web.volumes.0 must be a string`, `… additional
//! properties 'x' not allowed`, `… value must be one of …`). Keys of the specification that
//! myvol does not model are accepted here without a look inside.

use super::value::{Map, Path, Value};

/// A schema node.
enum S {
    /// Anything.
    Any,
    /// One of these JSON types.
    Type(&'static [&'static str]),
    /// A string from a list.
    Enum(&'static [&'static str]),
    /// A string or a non-negative integer (`tmpfs.size`).
    SizeLike,
    /// Exactly one of these.
    OneOf(Vec<S>),
    /// An array of items.
    Array(Box<S>),
    /// An object.
    Object(Obj),
}

/// Names a pattern allows, and their schema.
type Pattern = (fn(&str) -> bool, Box<S>);

struct Obj {
    /// Allowed types besides "object" (a volume may be null).
    also: &'static [&'static str],
    props: Vec<(&'static str, S)>,
    /// Names matching this are allowed, checked against the schema.
    pattern: Option<Pattern>,
    /// `^x-` names are allowed.
    extensions: bool,
    /// Names not covered by `props`, `pattern` or extensions are refused.
    closed: bool,
    required: &'static [&'static str],
}

impl Obj {
    fn closed(props: Vec<(&'static str, S)>) -> Obj {
        Obj { also: &[], props, pattern: None, extensions: true, closed: true, required: &[] }
    }
}

/// One failure, with the failures it is made of.
struct Failure {
    location: Vec<String>,
    message: String,
    additional: bool,
    causes: Vec<Failure>,
}

impl Failure {
    fn leaf(path: &Path, message: String) -> Failure {
        Failure { location: path.parts().to_vec(), message, additional: false, causes: Vec::new() }
    }

    fn specificity(&self) -> usize {
        self.location.len() + usize::from(self.additional)
    }

    /// The failure Compose reports: the deepest leaf, the first on ties.
    fn most_specific(self) -> Failure {
        if self.causes.is_empty() {
            return self;
        }
        let mut best: Option<Failure> = None;
        for cause in self.causes {
            let cause = cause.most_specific();
            if best.as_ref().is_none_or(|b| cause.specificity() > b.specificity()) {
                best = Some(cause);
            }
        }
        best.expect("causes is not empty")
    }

    fn render(&self) -> String {
        format!("{} {}", self.location.join("."), self.message)
    }
}

fn type_matches(v: &Value, t: &str) -> bool {
    match t {
        "null" => v.is_null(),
        "boolean" => matches!(v, Value::Bool(_)),
        "integer" => matches!(v, Value::Int(_)) || matches!(v, Value::Float(f) if f.fract() == 0.0),
        "number" => matches!(v, Value::Int(_) | Value::Float(_)),
        "string" => matches!(v, Value::Str(_)),
        "array" => matches!(v, Value::Seq(_)),
        "object" => matches!(v, Value::Map(_)),
        _ => false,
    }
}

fn human(t: &str) -> &str {
    if t == "object" { "mapping" } else { t }
}

fn type_message(types: &[&str]) -> String {
    if types.len() == 1 {
        return format!("must be a {}", human(types[0]));
    }
    let mut names: Vec<&str> = types.iter().map(|t| human(t)).collect();
    names.sort_unstable();
    let (last, rest) = names.split_last().expect("several types");
    format!("must be a {} or {last}", rest.join(", "))
}

fn check(s: &S, v: &Value, path: &Path) -> Option<Failure> {
    match s {
        S::Any => None,
        S::Type(types) => {
            if types.iter().any(|t| type_matches(v, t)) {
                None
            } else {
                Some(Failure::leaf(path, type_message(types)))
            }
        }
        S::Enum(options) => match v {
            Value::Str(s) if options.contains(&s.as_str()) => None,
            Value::Str(_) => {
                let list: Vec<String> = options.iter().map(|o| format!("'{o}'")).collect();
                Some(Failure::leaf(path, format!("value must be one of {}", list.join(", "))))
            }
            _ => Some(Failure::leaf(path, type_message(&["string"]))),
        },
        S::SizeLike => match v {
            Value::Str(_) => None,
            Value::Int(i) if *i >= 0 => None,
            Value::Int(_) => Some(Failure::leaf(path, "must be greater than or equal to 0".to_owned())),
            _ => Some(Failure::leaf(path, type_message(&["integer"]))),
        },
        S::OneOf(alternatives) => {
            let mut causes = Vec::new();
            for alt in alternatives {
                match check(alt, v, path) {
                    None => return None,
                    Some(f) => causes.push(f),
                }
            }
            Some(Failure { location: path.parts().to_vec(), message: String::new(), additional: false, causes })
        }
        S::Array(item) => {
            let Value::Seq(items) = v else {
                return Some(Failure::leaf(path, type_message(&["array"])));
            };
            let causes: Vec<Failure> =
                items.iter().enumerate().filter_map(|(i, it)| check(item, it, &path.next(i.to_string()))).collect();
            group(path, causes)
        }
        S::Object(obj) => {
            let Value::Map(m) = v else {
                if obj.also.iter().any(|t| type_matches(v, t)) {
                    return None;
                }
                let mut types = vec!["object"];
                types.extend_from_slice(obj.also);
                return Some(Failure::leaf(path, type_message(&types)));
            };
            check_object(obj, m, path)
        }
    }
}

fn group(path: &Path, mut causes: Vec<Failure>) -> Option<Failure> {
    match causes.len() {
        0 => None,
        1 => causes.pop(),
        _ => Some(Failure { location: path.parts().to_vec(), message: String::new(), additional: false, causes }),
    }
}

fn check_object(obj: &Obj, m: &Map, path: &Path) -> Option<Failure> {
    let mut causes = Vec::new();
    let mut extra = Vec::new();
    for (k, v) in m {
        if let Some((_, s)) = obj.props.iter().find(|(name, _)| name == k) {
            if let Some(f) = check(s, v, &path.next(k.clone())) {
                causes.push(f);
            }
            continue;
        }
        if obj.extensions && k.starts_with("x-") {
            continue;
        }
        if let Some((matches, s)) = &obj.pattern
            && matches(k)
        {
            if let Some(f) = check(s, v, &path.next(k.clone())) {
                causes.push(f);
            }
            continue;
        }
        if obj.closed {
            extra.push(format!("'{k}'"));
        }
    }
    for r in obj.required {
        if !m.contains_key(*r) {
            causes.push(Failure::leaf(path, format!("missing property '{r}'")));
        }
    }
    if !extra.is_empty() {
        causes.push(Failure {
            location: path.parts().to_vec(),
            message: format!("additional properties {} not allowed", extra.join(", ")),
            additional: true,
            causes: Vec::new(),
        });
    }
    group(path, causes)
}

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
