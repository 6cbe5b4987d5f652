//! Docker's wire shapes for volumes: the `volume inspect` JSON (api/types/volume.Volume) and
//! the `volume ls` template context (docker/cli formatter.volumeContext), built from the
//! store's [`Volume`].

use std::collections::BTreeMap;
use std::rc::Rc;

use serde_json::{Map, Value as Json, json};

use super::template::{Object, Value};
use crate::store::Volume;
use crate::text::escape_control;

/// `CreatedAt` as Docker prints it: RFC 3339, whole seconds, in the local time zone (`Z` for
/// UTC), from the instant recorded at creation.
pub fn created_at(v: &Volume) -> String {
    let Ok(ts) = v.created_at.parse::<jiff::Timestamp>() else {
        return v.created_at.clone();
    };
    let zoned = ts.to_zoned_datetime(local_time_zone().clone());
    let offset = zoned.offset().seconds();
    let base = zoned.strftime("%Y-%m-%dT%H:%M:%S").to_string();
    if offset == 0 {
        format!("{base}Z")
    } else {
        let sign = if offset < 0 { '-' } else { '+' };
        let o = offset.unsigned_abs();
        format!("{base}{sign}{:02}:{:02}", o / 3600, (o % 3600) / 60)
    }
}

/// The local time zone, as the C library finds it: `$TZ` (a path, a name under
/// /usr/share/zoneinfo, or a POSIX rule), else /etc/localtime, else UTC. Only that one file is
/// read: the general lookup scans the whole zoneinfo database, which costs more than the rest
/// of an `inspect`.
fn local_time_zone() -> &'static jiff::tz::TimeZone {
    use jiff::tz::TimeZone;
    static TZ: std::sync::OnceLock<TimeZone> = std::sync::OnceLock::new();
    TZ.get_or_init(|| {
        let from_file = |name: &str, path: &std::path::Path| {
            std::fs::read(path).ok().and_then(|data| TimeZone::tzif(name, &data).ok())
        };
        match std::env::var("TZ") {
            Ok(tz) => {
                let tz = tz.strip_prefix(':').unwrap_or(&tz);
                if tz.is_empty() || tz == "UTC" || tz == "Etc/UTC" {
                    TimeZone::UTC
                } else if tz.starts_with('/') {
                    from_file(tz, std::path::Path::new(tz)).unwrap_or(TimeZone::UTC)
                } else if !tz.contains("..")
                    && let Some(z) = from_file(tz, &std::path::Path::new("/usr/share/zoneinfo").join(tz))
                {
                    z
                } else {
                    TimeZone::posix(tz).unwrap_or(TimeZone::UTC)
                }
            }
            Err(_) => from_file("localtime", std::path::Path::new("/etc/localtime")).unwrap_or(TimeZone::UTC),
        }
    })
}

fn map_json(m: &Option<BTreeMap<String, String>>) -> Json {
    match m {
        None => Json::Null,
        Some(m) => Json::Object(m.iter().map(|(k, v)| (k.clone(), Json::String(v.clone()))).collect()),
    }
}

fn map_value(m: &Option<BTreeMap<String, String>>) -> Value {
    Value::Map(m.as_ref().map(|m| m.iter().map(|(k, v)| (k.clone(), Value::Str(v.clone()))).collect()))
}

fn map_display(m: &Option<BTreeMap<String, String>>) -> String {
    let items: Vec<String> = m.iter().flatten().map(|(k, v)| format!("{k}:{v}")).collect();
    format!("map[{}]", items.join(" "))
}

/// The `volume inspect` JSON object of one volume, keys in Docker's struct order
/// (`CreatedAt`, `Driver`, `Labels`, `Mountpoint`, `Name`, `Options`, `Scope`), `Labels` and
/// `Options` `null` when none were given, `Status` only when there is one.
pub fn inspect_json(v: &Volume, status: Option<&Map<String, Json>>) -> Json {
    let mut o = Map::new();
    o.insert("CreatedAt".into(), Json::String(created_at(v)));
    o.insert("Driver".into(), Json::String(v.driver.clone()));
    o.insert("Labels".into(), map_json(&v.labels));
    o.insert("Mountpoint".into(), Json::String(v.mountpoint.display().to_string()));
    o.insert("Name".into(), Json::String(v.name.as_str().to_owned()));
    o.insert("Options".into(), map_json(&v.options));
    o.insert("Scope".into(), Json::String(v.scope.clone()));
    if let Some(s) = status.filter(|s| !s.is_empty()) {
        o.insert("Status".into(), Json::Object(s.clone()));
    }
    Json::Object(o)
}

/// The template dot of `volume inspect`: Docker's `volume.Volume` struct.
pub struct InspectContext {
    v: Volume,
    status: Option<Map<String, Json>>,
    json: Json,
}

impl InspectContext {
    /// `status`: a plugin volume's `Status`, as the plugin gave it.
    pub fn value(v: &Volume, status: Option<&Map<String, Json>>) -> Value {
        Value::Object(Rc::new(InspectContext { v: v.clone(), status: status.cloned(), json: inspect_json(v, status) }))
    }
}

impl Object for InspectContext {
    fn type_name(&self) -> &str {
        "volume.Volume"
    }

    fn get(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        if !args.is_empty() {
            return None;
        }
        let v = &self.v;
        Some(Ok(match name {
            "CreatedAt" => Value::Str(created_at(v)),
            "Driver" => Value::Str(v.driver.clone()),
            "Labels" => map_value(&v.labels),
            "Mountpoint" => Value::Str(v.mountpoint.display().to_string()),
            "Name" => Value::Str(v.name.as_str().to_owned()),
            "Options" => map_value(&v.options),
            "Scope" => Value::Str(v.scope.clone()),
            "Status" => match &self.status {
                Some(m) => Value::from(Json::Object(m.clone())),
                None => Value::Map(None),
            },
            "ClusterVolume" | "UsageData" => Value::Nil,
            _ => return None,
        }))
    }

    fn to_json(&self) -> Json {
        self.json.clone()
    }

    fn display(&self) -> String {
        let v = &self.v;
        format!(
            "{{<nil> {} {} {} {} {} {} {} map[] <nil>}}",
            created_at(v),
            v.driver,
            map_display(&v.labels),
            v.mountpoint.display(),
            v.name,
            map_display(&v.options),
            v.scope
        )
    }
}

/// Column titles of `volume ls --format 'table …'`.
pub const LS_HEADERS: [(&str, &str); 10] = [
    ("Name", "VOLUME NAME"),
    ("Driver", "DRIVER"),
    ("Scope", "SCOPE"),
    ("Mountpoint", "MOUNTPOINT"),
    ("Labels", "LABELS"),
    ("Links", "LINKS"),
    ("Size", "SIZE"),
    ("Group", "GROUP"),
    ("Availability", "AVAILABILITY"),
    ("Status", "STATUS"),
];

/// The template dot of one `volume ls` row: docker/cli's `volumeContext`.
pub struct LsContext {
    v: Volume,
    /// `(links, size)` when known (`ls --size`); Docker prints `N/A` otherwise.
    usage: Option<(u64, u64)>,
    /// Escape control characters (table output goes to a terminal).
    escape: bool,
}

impl LsContext {
    pub fn value(v: &Volume, usage: Option<(u64, u64)>, escape: bool) -> Value {
        Value::Object(Rc::new(LsContext { v: v.clone(), usage, escape }))
    }

    fn s(&self, s: &str) -> String {
        if self.escape { escape_control(s).into_owned() } else { s.to_owned() }
    }

    /// `k=v,k2=v2`, sorted by key (Docker's order is Go's random map order).
    fn labels(&self) -> String {
        let items: Vec<String> = self.v.labels.iter().flatten().map(|(k, v)| format!("{k}={v}")).collect();
        self.s(&items.join(","))
    }

    fn field(&self, name: &str) -> Option<String> {
        let v = &self.v;
        Some(match name {
            "Name" => self.s(v.name.as_str()),
            "Driver" => self.s(&v.driver),
            "Scope" => v.scope.clone(),
            "Mountpoint" => self.s(&v.mountpoint.display().to_string()),
            "Labels" => self.labels(),
            "Links" => self.usage.map(|(l, _)| l.to_string()).unwrap_or_else(|| "N/A".into()),
            "Size" => self.usage.map(|(_, s)| crate::units::human_size(s)).unwrap_or_else(|| "N/A".into()),
            "Group" | "Availability" | "Status" => "N/A".into(),
            _ => return None,
        })
    }
}

impl Object for LsContext {
    fn type_name(&self) -> &str {
        "*formatter.volumeContext"
    }

    fn get(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        if name == "Label" {
            return Some(match args {
                [Value::Str(k)] => Ok(Value::Str(self.s(self.v.label(k).unwrap_or("")))),
                _ => Err(format!("wrong number of args for Label: want 1 got {}", args.len())),
            });
        }
        if !args.is_empty() {
            return None;
        }
        self.field(name).map(|s| Ok(Value::Str(s)))
    }

    fn to_json(&self) -> Json {
        // Docker marshals every argument-less string method, keys sorted.
        let mut keys: Vec<&str> = LS_HEADERS.iter().map(|(k, _)| *k).collect();
        keys.sort_unstable();
        let v = &self.v;
        let raw = |k: &str| match k {
            "Name" => v.name.as_str().to_owned(),
            "Driver" => v.driver.clone(),
            "Mountpoint" => v.mountpoint.display().to_string(),
            "Labels" => v.labels.iter().flatten().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(","),
            other => self.field(other).unwrap_or_default(),
        };
        Json::Object(keys.into_iter().map(|k| (k.to_owned(), Json::String(raw(k)))).collect())
    }

    fn display(&self) -> String {
        format!("&{{{{}} {}}}", InspectContext { v: self.v.clone(), status: None, json: Json::Null }.display())
    }
}

/// The dot used to render a table's header row: every field is its column title, and
/// `.Label "k"` is `k`.
pub struct LsHeader;

impl Object for LsHeader {
    fn type_name(&self) -> &str {
        "formatter.SubHeaderContext"
    }

    fn get(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        if name == "Label" {
            return match args {
                [Value::Str(k)] => Some(Ok(Value::Str(k.clone()))),
                _ => None,
            };
        }
        LS_HEADERS.iter().find(|(k, _)| *k == name).map(|(_, h)| Ok(Value::Str((*h).to_owned())))
    }

    fn to_json(&self) -> Json {
        json!({})
    }

    fn display(&self) -> String {
        String::new()
    }
}

impl LsHeader {
    pub fn value() -> Value {
        Value::Object(Rc::new(LsHeader))
    }
}
