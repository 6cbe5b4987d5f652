//! The merged model made ready to type: keys myvol does not model dropped with a warning,
//! then Compose's normalisation (the default network, environment looked up, implied
//! dependencies, clean targets, resource names).

use std::collections::BTreeMap;

use crate::compose::model::go_parse_bool;
use crate::compose::value::{Map, Value};
use crate::compose::volume_spec;
use crate::compose::{ComposeError, Warnings};

/// The service keys myvol models; the others of the specification are dropped with a warning.
const SUPPORTED_SERVICE_KEYS: &[&str] = &[
    "command",
    "depends_on",
    "entrypoint",
    "env_file",
    "environment",
    "extends",
    "hostname",
    "image",
    "labels",
    "network_mode",
    "profiles",
    "read_only",
    "tmpfs",
    "user",
    "volumes",
    "volumes_from",
    "working_dir",
];

pub(super) fn drop_unsupported(model: &mut Map, warnings: &mut Warnings) -> Result<(), ComposeError> {
    for key in ["networks", "secrets", "configs", "models"] {
        if model.remove(key).is_some() {
            warnings.push(format!("{key}: not supported by myvol, ignored"));
        }
    }
    if let Some(Value::Map(services)) = model.get_mut("services") {
        for (name, s) in services.iter_mut() {
            let Value::Map(svc) = s else { continue };
            let dropped: Vec<String> = svc
                .keys()
                .filter(|k| !k.starts_with("x-") && !SUPPORTED_SERVICE_KEYS.contains(&k.as_str()))
                .cloned()
                .collect();
            for k in dropped {
                let v = svc.remove(&k);
                if k == "build" {
                    svc.insert("x-myvol-build".into(), v.unwrap_or(Value::Null));
                }
                warnings.push(format!("services.{name}.{k}: not supported by myvol, ignored"));
            }
        }
    }
    Ok(())
}

/// Compose's normalisation: the implicit default network, environment variables named
/// without a value looked up, implied dependencies, clean targets, resource names.
pub(super) fn normalize(model: &mut Map, env: &BTreeMap<String, String>) {
    let project = model.get("name").map(Value::go_sprint).unwrap_or_default();
    let mut uses_default = false;
    if let Some(Value::Map(services)) = model.get_mut("services") {
        for s in services.values_mut() {
            let Value::Map(svc) = s else { continue };
            if !svc.contains_key("network_mode") {
                let mut nets = Map::new();
                nets.insert("default".into(), Value::Null);
                svc.insert("networks".into(), Value::Map(nets));
                uses_default = true;
            }
            if let Some(e) = svc.get_mut("environment") {
                resolve_env_value(e, env);
            }
            let mut depends: Map = match svc.remove("depends_on") {
                Some(Value::Map(m)) => m,
                _ => Map::new(),
            };
            if let Some(Value::Str(mode)) = svc.get("network_mode")
                && let Some(shared) = mode.strip_prefix("service:")
            {
                depends.entry(shared.to_owned()).or_insert_with(|| dependency(true));
            }
            if let Some(Value::Seq(from)) = svc.get("volumes_from") {
                for f in from {
                    let f = f.go_sprint();
                    if !f.starts_with("container:") {
                        let svc_name = f.split(':').next().unwrap_or("").to_owned();
                        depends.entry(svc_name).or_insert_with(|| dependency(false));
                    }
                }
            }
            if let Some(Value::Seq(vols)) = svc.get_mut("volumes") {
                for v in vols.iter_mut() {
                    if let Value::Map(vol) = v
                        && let Some(Value::Str(t)) = vol.get("target")
                    {
                        let cleaned = volume_spec::go_path_clean(t);
                        vol.insert("target".into(), Value::Str(cleaned));
                    }
                }
            }
            if !depends.is_empty() {
                svc.insert("depends_on".into(), Value::Map(depends));
            }
        }
    }
    if uses_default {
        let mut nets = Map::new();
        nets.insert("default".into(), Value::Map(Map::new()));
        model.insert("networks".into(), Value::Map(nets));
    }
    for kind in ["networks", "volumes"] {
        if let Some(Value::Map(top)) = model.get_mut(kind) {
            for (key, r) in top.iter_mut() {
                let mut res = match std::mem::replace(r, Value::Null) {
                    Value::Map(m) => m,
                    _ => Map::new(),
                };
                if res.get("name").is_none_or(Value::is_null) {
                    let external = matches!(res.get("external"), Some(Value::Bool(true)))
                        || matches!(res.get("external"), Some(Value::Str(s)) if go_parse_bool(s) == Some(true));
                    let name = if external { key.clone() } else { format!("{project}_{key}") };
                    res.insert("name".into(), Value::Str(name));
                }
                *r = Value::Map(res);
            }
        }
    }
}

fn dependency(restart: bool) -> Value {
    let mut d = Map::new();
    d.insert("condition".into(), Value::Str("service_started".into()));
    d.insert("restart".into(), Value::Bool(restart));
    d.insert("required".into(), Value::Bool(true));
    Value::Map(d)
}

fn resolve_env_value(e: &mut Value, env: &BTreeMap<String, String>) {
    match e {
        Value::Map(m) => {
            for (k, v) in m.iter_mut() {
                if v.is_null()
                    && let Some(found) = env.get(k)
                {
                    *v = Value::Str(found.clone());
                }
            }
        }
        Value::Seq(items) => {
            for it in items.iter_mut() {
                if let Value::Str(s) = it
                    && !s.contains('=')
                    && let Some(found) = env.get(s.as_str())
                {
                    *s = format!("{s}={found}");
                }
            }
        }
        _ => {}
    }
}
