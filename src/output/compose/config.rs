//! The project as Compose's types encode it: [`project_node`] for YAML (`config_yaml`) and the
//! JSON of `config --format json`, every `$` doubled.

use std::collections::BTreeMap;

use super::yaml::{Node, to_yaml, yaml_key_cmp};
use crate::compose::gojson::{self, Json};
use crate::compose::model::{Project, Service, ServiceVolume, Volume};
use crate::compose::value::{Map, Value};

fn ext_entries(ext: &Map) -> Vec<(String, Node)> {
    let mut v: Vec<(String, Node)> = ext.iter().map(|(k, v)| (k.clone(), value_node(v))).collect();
    v.sort_by(|a, b| yaml_key_cmp(&a.0, &b.0));
    v
}

fn value_node(v: &Value) -> Node {
    match v {
        Value::Null => Node::Null,
        Value::Bool(b) => Node::Bool(*b),
        Value::Int(i) => Node::Int(*i),
        Value::Float(f) => Node::Float(*f),
        Value::Str(s) => Node::str(s.clone()),
        Value::Seq(items) => Node::Seq(items.iter().map(value_node).collect()),
        Value::Map(m) => Node::go_map(m.iter().map(|(k, v)| (k.clone(), value_node(v))).collect()),
    }
}

fn string_map(m: &BTreeMap<String, String>) -> Node {
    Node::go_map(m.iter().map(|(k, v)| (k.clone(), Node::str(v.clone()))).collect())
}

fn strings(v: &[String]) -> Node {
    Node::Seq(v.iter().map(|s| Node::str(s.clone())).collect())
}

fn push_str(e: &mut Vec<(String, Node)>, k: &str, v: &str) {
    if !v.is_empty() {
        e.push((k.to_owned(), Node::str(v)));
    }
}

fn service_volume_node(v: &ServiceVolume) -> Node {
    let mut e = vec![("type".to_owned(), Node::str(v.kind.as_str()))];
    push_str(&mut e, "source", &v.source);
    push_str(&mut e, "target", &v.target);
    if v.read_only {
        e.push(("read_only".into(), Node::Bool(true)));
    }
    push_str(&mut e, "consistency", &v.consistency);
    if let Some(b) = &v.bind {
        let mut be = Vec::new();
        push_str(&mut be, "selinux", &b.selinux);
        push_str(&mut be, "propagation", &b.propagation);
        if b.create_host_path {
            be.push(("create_host_path".into(), Node::Bool(true)));
        }
        push_str(&mut be, "recursive", &b.recursive);
        be.extend(ext_entries(&b.extensions));
        e.push(("bind".into(), Node::Map(be)));
    }
    if let Some(o) = &v.volume {
        let mut oe = Vec::new();
        if !o.labels.is_empty() {
            oe.push(("labels".into(), string_map(&o.labels)));
        }
        if o.nocopy {
            oe.push(("nocopy".into(), Node::Bool(true)));
        }
        push_str(&mut oe, "subpath", &o.subpath);
        oe.extend(ext_entries(&o.extensions));
        e.push(("volume".into(), Node::Map(oe)));
    }
    if let Some(t) = &v.tmpfs {
        let mut te = Vec::new();
        if let Some(size) = t.size {
            te.push(("size".into(), Node::str(size.to_string())));
        }
        if t.mode != 0 {
            te.push(("mode".into(), Node::Int(i64::from(t.mode))));
        }
        te.extend(ext_entries(&t.extensions));
        e.push(("tmpfs".into(), Node::Map(te)));
    }
    if let Some(i) = &v.image {
        let mut ie = Vec::new();
        push_str(&mut ie, "subpath", &i.subpath);
        ie.extend(ext_entries(&i.extensions));
        e.push(("image".into(), Node::Map(ie)));
    }
    e.extend(ext_entries(&v.extensions));
    Node::Map(e)
}

fn service_node(s: &Service) -> Node {
    let mut e: Vec<(String, Node)> = Vec::new();
    if !s.profiles.is_empty() {
        e.push(("profiles".into(), strings(&s.profiles)));
    }
    if let Some(c) = &s.command {
        e.push(("command".into(), strings(c)));
    }
    if !s.depends_on.is_empty() {
        let deps = s
            .depends_on
            .iter()
            .map(|(k, d)| {
                let mut de = Vec::new();
                push_str(&mut de, "condition", &d.condition);
                if d.restart {
                    de.push(("restart".into(), Node::Bool(true)));
                }
                de.extend(ext_entries(&d.extensions));
                de.push(("required".into(), Node::Bool(d.required)));
                (k.clone(), Node::Map(de))
            })
            .collect();
        e.push(("depends_on".into(), Node::go_map(deps)));
    }
    if let Some(c) = &s.entrypoint {
        e.push(("entrypoint".into(), strings(c)));
    }
    if !s.environment.is_empty() {
        let env = s
            .environment
            .iter()
            .map(|(k, v)| (k.clone(), v.as_ref().map_or(Node::Null, |v| Node::str(v.clone()))))
            .collect();
        e.push(("environment".into(), Node::go_map(env)));
    }
    push_str(&mut e, "hostname", &s.hostname);
    push_str(&mut e, "image", &s.image);
    if !s.labels.is_empty() {
        e.push(("labels".into(), string_map(&s.labels)));
    }
    push_str(&mut e, "network_mode", &s.network_mode);
    if !s.networks.is_empty() {
        e.push(("networks".into(), Node::go_map(s.networks.iter().map(|n| (n.clone(), Node::Null)).collect())));
    }
    if s.read_only {
        e.push(("read_only".into(), Node::Bool(true)));
    }
    if !s.tmpfs.is_empty() {
        e.push(("tmpfs".into(), strings(&s.tmpfs)));
    }
    push_str(&mut e, "user", &s.user);
    if !s.volumes.is_empty() {
        e.push(("volumes".into(), Node::Seq(s.volumes.iter().map(service_volume_node).collect())));
    }
    if !s.volumes_from.is_empty() {
        e.push(("volumes_from".into(), strings(&s.volumes_from)));
    }
    push_str(&mut e, "working_dir", &s.working_dir);
    let ext: Map =
        s.extensions.iter().filter(|(k, _)| !k.starts_with("x-myvol-")).map(|(k, v)| (k.clone(), v.clone())).collect();
    e.extend(ext_entries(&ext));
    Node::Map(e)
}

fn volume_node(v: &Volume) -> Node {
    let mut e = Vec::new();
    push_str(&mut e, "name", &v.name);
    push_str(&mut e, "driver", &v.driver);
    if !v.driver_opts.is_empty() {
        e.push(("driver_opts".into(), string_map(&v.driver_opts)));
    }
    if v.external {
        e.push(("external".into(), Node::Bool(true)));
    }
    if !v.labels.is_empty() {
        e.push(("labels".into(), string_map(&v.labels)));
    }
    e.extend(ext_entries(&v.extensions));
    Node::Map(e)
}

/// The project as `compose config` writes it in YAML.
pub fn project_node(p: &Project) -> Node {
    let mut e: Vec<(String, Node)> = Vec::new();
    push_str(&mut e, "name", &p.name);
    e.push(("services".into(), Node::go_map(p.services.iter().map(|(k, s)| (k.clone(), service_node(s))).collect())));
    if !p.networks.is_empty() {
        let nets = p
            .networks
            .iter()
            .map(|(k, n)| {
                let mut ne = Vec::new();
                push_str(&mut ne, "name", &n.name);
                (k.clone(), Node::Map(ne))
            })
            .collect();
        e.push(("networks".into(), Node::go_map(nets)));
    }
    if !p.volumes.is_empty() {
        e.push(("volumes".into(), Node::go_map(p.volumes.iter().map(|(k, v)| (k.clone(), volume_node(v))).collect())));
    }
    e.extend(ext_entries(&p.extensions));
    Node::Map(e)
}

/// `compose config` in YAML.
pub fn config_yaml(p: &Project) -> String {
    escape_dollars(&to_yaml(&project_node(p)))
}

fn value_json(v: &Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::Int(*i),
        Value::Float(f) => Json::Float(*f),
        Value::Str(s) => Json::str(s.clone()),
        Value::Seq(items) => Json::Array(items.iter().map(value_json).collect()),
        Value::Map(m) => Json::Object(m.iter().map(|(k, v)| (k.clone(), value_json(v))).collect()),
    }
}

/// Go's JSON of a node tree built for YAML, with maps sorted bytewise (Go's JSON order).
fn node_json(n: &Node, sort: bool) -> Json {
    match n {
        Node::Null => Json::Null,
        Node::Bool(b) => Json::Bool(*b),
        Node::Int(i) => Json::Int(*i),
        Node::Float(f) => Json::Float(*f),
        Node::Str(s) => Json::str(s.clone()),
        Node::Seq(items) => Json::Array(items.iter().map(|i| node_json(i, sort)).collect()),
        Node::Map(e) => {
            let mut fields: Vec<(String, Json)> = e.iter().map(|(k, v)| (k.clone(), node_json(v, sort))).collect();
            if sort {
                fields.sort_by(|a, b| a.0.cmp(&b.0));
            }
            Json::Object(fields)
        }
    }
}

fn sorted_map(m: &BTreeMap<String, String>) -> Json {
    Json::string_map(m)
}

fn service_volume_json(v: &ServiceVolume) -> Json {
    // The YAML node has the same fields in the same order; extensions are not in JSON.
    let mut n = service_volume_node(&ServiceVolume { extensions: Map::new(), ..v.clone() });
    strip_extensions(&mut n);
    node_json_struct(&n)
}

/// A struct-ordered node where nested Go maps (labels) are sorted bytewise.
fn node_json_struct(n: &Node) -> Json {
    match n {
        Node::Map(e) => Json::Object(
            e.iter()
                .map(|(k, v)| {
                    let j = if k == "labels" { node_json(v, true) } else { node_json_struct(v) };
                    (k.clone(), j)
                })
                .collect(),
        ),
        other => node_json(other, false),
    }
}

fn strip_extensions(n: &mut Node) {
    if let Node::Map(e) = n {
        e.retain(|(k, _)| !k.starts_with("x-"));
        for (_, v) in e.iter_mut() {
            strip_extensions(v);
        }
    }
}

fn service_json(s: &Service) -> Json {
    let mut f: Vec<(String, Json)> = Vec::new();
    if !s.profiles.is_empty() {
        f.push(("profiles".into(), Json::Array(s.profiles.iter().map(Json::str).collect())));
    }
    let cmd = |c: &Option<Vec<String>>| match c {
        None => Json::Null,
        Some(c) => Json::Array(c.iter().map(Json::str).collect()),
    };
    f.push(("command".into(), cmd(&s.command)));
    if !s.depends_on.is_empty() {
        let deps: BTreeMap<String, Json> = s
            .depends_on
            .iter()
            .map(|(k, d)| {
                let mut de = Vec::new();
                if !d.condition.is_empty() {
                    de.push(("condition".to_owned(), Json::str(&d.condition)));
                }
                if d.restart {
                    de.push(("restart".to_owned(), Json::Bool(true)));
                }
                de.push(("required".to_owned(), Json::Bool(d.required)));
                (k.clone(), Json::Object(de))
            })
            .collect();
        f.push(("depends_on".into(), Json::map(deps)));
    }
    f.push(("entrypoint".into(), cmd(&s.entrypoint)));
    if !s.environment.is_empty() {
        let env: BTreeMap<String, Json> =
            s.environment.iter().map(|(k, v)| (k.clone(), v.as_ref().map_or(Json::Null, Json::str))).collect();
        f.push(("environment".into(), Json::map(env)));
    }
    let push = |f: &mut Vec<(String, Json)>, k: &str, v: &str| {
        if !v.is_empty() {
            f.push((k.to_owned(), Json::str(v)));
        }
    };
    push(&mut f, "hostname", &s.hostname);
    push(&mut f, "image", &s.image);
    if !s.labels.is_empty() {
        f.push(("labels".into(), sorted_map(&s.labels)));
    }
    push(&mut f, "network_mode", &s.network_mode);
    if !s.networks.is_empty() {
        f.push(("networks".into(), Json::map(s.networks.iter().map(|n| (n.clone(), Json::Null)).collect())));
    }
    if s.read_only {
        f.push(("read_only".into(), Json::Bool(true)));
    }
    if !s.tmpfs.is_empty() {
        f.push(("tmpfs".into(), Json::Array(s.tmpfs.iter().map(Json::str).collect())));
    }
    push(&mut f, "user", &s.user);
    if !s.volumes.is_empty() {
        f.push(("volumes".into(), Json::Array(s.volumes.iter().map(service_volume_json).collect())));
    }
    if !s.volumes_from.is_empty() {
        f.push(("volumes_from".into(), Json::Array(s.volumes_from.iter().map(Json::str).collect())));
    }
    push(&mut f, "working_dir", &s.working_dir);
    Json::Object(f)
}

fn volume_json(v: &Volume) -> Json {
    let mut f = Vec::new();
    if !v.name.is_empty() {
        f.push(("name".to_owned(), Json::str(&v.name)));
    }
    if !v.driver.is_empty() {
        f.push(("driver".to_owned(), Json::str(&v.driver)));
    }
    if !v.driver_opts.is_empty() {
        f.push(("driver_opts".to_owned(), sorted_map(&v.driver_opts)));
    }
    if v.external {
        f.push(("external".to_owned(), Json::Bool(true)));
    }
    if !v.labels.is_empty() {
        f.push(("labels".to_owned(), sorted_map(&v.labels)));
    }
    Json::Object(f)
}

/// `compose config --format json`.
pub fn config_json(p: &Project) -> String {
    let mut top: BTreeMap<String, Json> = BTreeMap::new();
    top.insert("name".into(), Json::str(&p.name));
    top.insert("services".into(), Json::map(p.services.iter().map(|(k, s)| (k.clone(), service_json(s))).collect()));
    if !p.networks.is_empty() {
        let nets = p
            .networks
            .iter()
            .map(|(k, n)| {
                let mut f = Vec::new();
                if !n.name.is_empty() {
                    f.push(("name".to_owned(), Json::str(&n.name)));
                }
                f.push(("ipam".to_owned(), Json::Object(Vec::new())));
                (k.clone(), Json::Object(f))
            })
            .collect();
        top.insert("networks".into(), Json::map(nets));
    }
    if !p.volumes.is_empty() {
        top.insert("volumes".into(), Json::map(p.volumes.iter().map(|(k, v)| (k.clone(), volume_json(v))).collect()));
    }
    for (k, v) in &p.extensions {
        top.insert(k.clone(), value_json(v));
    }
    escape_dollars(&gojson::marshal_indent(&Json::map(top)))
}

/// Compose doubles every `$` of the output so that it reads back unchanged.
pub fn escape_dollars(s: &str) -> String {
    s.replace('$', "$$")
}
