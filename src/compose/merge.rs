//! Merging compose files (later over earlier) and services over the ones they extend, with
//! Compose's rules: mappings merge key by key, `command`/`entrypoint` are replaced,
//! `environment`/`labels`/`tmpfs`/`env_file` and volume labels are concatenated as lists,
//! other lists are appended; then entries defined twice are made unique (volumes by target,
//! environment and labels by key…), the later definition taking the earlier one's place.

use super::value::{Map, Path, Value};
use super::volume_spec;
use super::yaml::ResetKind;

/// Why two models did not merge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeError(pub String);

/// Merge `other` over `base`.
pub fn merge(base: Map, other: Map) -> Result<Map, MergeError> {
    merge_mappings(base, other, &Path::root())
}

/// Merge the service `over` onto the service `base` it extends.
pub fn extend_service(base: Map, over: Map) -> Result<Map, MergeError> {
    merge_mappings(base, over, &Path::new(&["services", "x"]))
}

#[derive(Clone, Copy)]
enum Special {
    Override,
    ToSequence,
    DependsOn,
}

fn special(p: &Path) -> Option<Special> {
    const SEQ: &[&[&str]] = &[
        &["volumes", "*", "labels"],
        &["services", "*", "annotations"],
        &["services", "*", "dns"],
        &["services", "*", "dns_opt"],
        &["services", "*", "dns_search"],
        &["services", "*", "env_file"],
        &["services", "*", "label_file"],
        &["services", "*", "environment"],
        &["services", "*", "labels"],
        &["services", "*", "volumes", "*", "volume", "labels"],
        &["services", "*", "sysctls"],
        &["services", "*", "tmpfs"],
    ];
    if p.matches(&["services", "*", "command"]) || p.matches(&["services", "*", "entrypoint"]) {
        return Some(Special::Override);
    }
    if p.matches(&["services", "*", "depends_on"]) {
        return Some(Special::DependsOn);
    }
    SEQ.iter().any(|pat| p.matches(pat)).then_some(Special::ToSequence)
}

fn merge_value(base: Value, other: Value, p: &Path) -> Result<Value, MergeError> {
    if let Some(s) = special(p) {
        return Ok(match s {
            Special::Override => other,
            Special::ToSequence => {
                let mut seq = into_sequence(base);
                seq.extend(into_sequence(other));
                Value::Seq(seq)
            }
            Special::DependsOn => Value::Map(merge_mappings(depends_on_mapping(base), depends_on_mapping(other), p)?),
        });
    }
    if other.is_null() {
        return Ok(base);
    }
    match (base, other) {
        (Value::Map(b), Value::Map(o)) => Ok(Value::Map(merge_mappings(b, o, p)?)),
        (Value::Seq(mut b), Value::Seq(o)) => {
            b.extend(o);
            Ok(Value::Seq(b))
        }
        (Value::Map(_) | Value::Seq(_), _) => Err(MergeError(format!("cannot override {p}"))),
        (_, o) => Ok(o),
    }
}

fn merge_mappings(mut base: Map, other: Map, p: &Path) -> Result<Map, MergeError> {
    for (k, v) in other {
        match base.remove(&k) {
            None => {
                base.insert(k, v);
            }
            Some(e) => {
                let merged = merge_value(e, v, &p.next(k.clone()))?;
                base.insert(k, merged);
            }
        }
    }
    Ok(base)
}

/// A mapping or list as a list of `KEY=VALUE` strings (mappings sorted, as Compose does).
fn into_sequence(v: Value) -> Vec<Value> {
    match v {
        Value::Map(m) => {
            let mut seq: Vec<String> = Vec::new();
            for (k, val) in m {
                match val {
                    Value::Null => seq.push(k),
                    Value::Seq(items) => {
                        for it in items {
                            seq.push(format!("{k}={}", it.go_sprint()));
                        }
                    }
                    other => seq.push(format!("{k}={}", other.go_sprint())),
                }
            }
            seq.sort();
            seq.into_iter().map(Value::Str).collect()
        }
        Value::Seq(items) => items,
        Value::Str(s) => vec![Value::Str(s)],
        _ => Vec::new(),
    }
}

fn depends_on_mapping(v: Value) -> Map {
    match v {
        Value::Map(m) => m,
        Value::Seq(items) => items
            .into_iter()
            .filter_map(|it| match it {
                Value::Str(s) => {
                    let mut d = Map::new();
                    d.insert("condition".into(), Value::Str("service_started".into()));
                    d.insert("required".into(), Value::Bool(true));
                    Some((s, Value::Map(d)))
                }
                _ => None,
            })
            .collect(),
        _ => Map::new(),
    }
}

#[derive(Clone, Copy)]
enum Indexer {
    KeyValue,
    Volume,
    EnvFile,
}

fn indexer(p: &Path) -> Option<Indexer> {
    const KV: &[&[&str]] = &[
        &["services", "*", "annotations"],
        &["services", "*", "cap_add"],
        &["services", "*", "cap_drop"],
        &["services", "*", "dns"],
        &["services", "*", "dns_opt"],
        &["services", "*", "dns_search"],
        &["services", "*", "environment"],
        &["services", "*", "labels"],
        &["services", "*", "links"],
        &["services", "*", "profiles"],
        &["services", "*", "sysctls"],
        &["services", "*", "tmpfs"],
    ];
    if p.matches(&["services", "*", "volumes"]) {
        return Some(Indexer::Volume);
    }
    if p.matches(&["services", "*", "env_file"]) {
        return Some(Indexer::EnvFile);
    }
    KV.iter().any(|pat| p.matches(pat)).then_some(Indexer::KeyValue)
}

/// Remove entries defined twice in the lists where Compose wants them unique.
pub fn enforce_unicity(model: Map) -> Result<Map, MergeError> {
    match unicity(Value::Map(model), &Path::root())? {
        Value::Map(m) => Ok(m),
        _ => unreachable!("a mapping stays a mapping"),
    }
}

fn unicity(v: Value, p: &Path) -> Result<Value, MergeError> {
    match v {
        Value::Map(m) => {
            let mut out = Map::new();
            for (k, e) in m {
                let next = p.next(k.clone());
                out.insert(k, unicity(e, &next)?);
            }
            Ok(Value::Map(out))
        }
        Value::Seq(items) => {
            let Some(ix) = indexer(p) else { return Ok(Value::Seq(items)) };
            let mut seq: Vec<Value> = Vec::new();
            let mut keys: Vec<(String, usize)> = Vec::new();
            for (i, entry) in items.into_iter().enumerate() {
                let key = index_key(ix, &entry, &p.next(format!("[{i}]")))?;
                if let Some((_, j)) = keys.iter().find(|(k, _)| *k == key) {
                    seq[*j] = entry;
                } else {
                    keys.push((key, seq.len()));
                    seq.push(entry);
                }
            }
            Ok(Value::Seq(seq))
        }
        other => Ok(other),
    }
}

fn index_key(ix: Indexer, entry: &Value, p: &Path) -> Result<String, MergeError> {
    match ix {
        Indexer::KeyValue => match entry {
            Value::Str(s) => Ok(s.split_once('=').map_or(s.as_str(), |(k, _)| k).to_owned()),
            other => Err(MergeError(format!("{p}: unexpected type {}", other.go_type()))),
        },
        Indexer::Volume => match entry {
            Value::Map(m) => match m.get("target") {
                Some(Value::Str(t)) => Ok(t.clone()),
                _ => Err(MergeError(format!("service volume {p} is missing a mount target"))),
            },
            Value::Str(s) => volume_spec::parse(s).map(|v| v.target).map_err(|e| MergeError(e.to_string())),
            _ => Ok(String::new()),
        },
        Indexer::EnvFile => match entry {
            Value::Str(s) => Ok(s.clone()),
            Value::Map(m) => match m.get("path") {
                Some(v) => Ok(v.go_sprint()),
                None => Err(MergeError(format!("environment path attribute {p} is missing"))),
            },
            _ => Ok(String::new()),
        },
    }
}

/// Apply one file's `!reset` / `!override` paths to the model merged so far: the values they
/// name are dropped (an `!override` value is then merged in fresh).
pub fn apply_resets(model: &mut Map, resets: &[(Vec<String>, ResetKind)]) {
    for (path, _) in resets {
        remove_path(model, path);
    }
}

fn remove_path(m: &mut Map, path: &[String]) {
    match path {
        [] => {}
        [last] => {
            m.remove(last);
        }
        [first, rest @ ..] => {
            if let Some(Value::Map(child)) = m.get_mut(first) {
                remove_path(child, rest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::yaml::parse_one;

    fn map(src: &str) -> Map {
        parse_one(src).unwrap().as_map().unwrap().clone()
    }

    #[test]
    fn files_merge_as_compose() {
        let a = map(
            "services:\n  web:\n    image: a\n    command: [x, y]\n    environment: {A: '1', B: '2'}\n    volumes: ['/a:/data', '/b:/other']\n    labels: {l1: v1}\n    tmpfs: /t1\n",
        );
        let b = map(
            "services:\n  web:\n    command: z\n    environment: [B=3, C=4]\n    volumes: ['/c:/data:ro']\n    labels: [l2=v2]\n    tmpfs: [/t2]\n",
        );
        let m = enforce_unicity(merge(a, b).unwrap()).unwrap();
        let web = m["services"].as_map().unwrap()["web"].as_map().unwrap();
        assert_eq!(web["command"], Value::Str("z".into()));
        let env: Vec<String> = match &web["environment"] {
            Value::Seq(s) => s.iter().map(Value::go_sprint).collect(),
            other => panic!("{other:?}"),
        };
        assert_eq!(env, ["A=1", "B=3", "C=4"]);
        let vols: Vec<String> = match &web["volumes"] {
            Value::Seq(s) => s.iter().map(Value::go_sprint).collect(),
            other => panic!("{other:?}"),
        };
        assert_eq!(vols, ["/c:/data:ro", "/b:/other"]);
        assert_eq!(web["tmpfs"], Value::Seq(vec![Value::Str("/t1".into()), Value::Str("/t2".into())]));
    }

    #[test]
    fn resets_drop_earlier_values() {
        let mut m = map("services:\n  web:\n    image: a\n    volumes: ['/a:/a']\n");
        apply_resets(&mut m, &[(vec!["services".into(), "web".into(), "volumes".into()], ResetKind::Reset)]);
        assert!(!m["services"].as_map().unwrap()["web"].as_map().unwrap().contains_key("volumes"));
    }

    #[test]
    fn type_clashes_are_refused() {
        let a = map("services:\n  web:\n    deploy: {replicas: 1}\n");
        let b = map("services:\n  web:\n    deploy: [x]\n");
        assert_eq!(merge(a, b).unwrap_err().0, "cannot override services.web.deploy");
    }
}
