//! Docker's wire shapes for volumes: the `volume inspect` JSON (api/types/volume.Volume) and
//! the `volume ls` template context (docker/cli formatter.volumeContext), built from the
//! store's [`Volume`].

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json};

use super::template::{Object, Value};
use crate::store::{User, Volume};
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
pub fn local_time_zone() -> &'static jiff::tz::TimeZone {
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
    match m {
        None => Value::Map(None),
        Some(m) => Value::map(m.iter().map(|(k, v)| (k.clone(), Value::str(v))).collect()),
    }
}

/// A JSON value as a template value: objects become maps (sorted keys), arrays lists, `null`
/// nil, integral numbers that fit `i64` ints, other numbers floats (Go decodes a plugin's
/// `Status` into `map[string]interface{}`).
pub fn json_value(v: &Json) -> Value {
    match v {
        Json::Null => Value::Nil,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(0.0)),
        },
        Json::String(s) => Value::str(s),
        Json::Array(a) => Value::list(a.iter().map(json_value).collect()),
        Json::Object(o) => Value::map(o.iter().map(|(k, v)| (k.clone(), json_value(v))).collect()),
    }
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

/// What myvol knows of a volume beyond Docker's struct, for the template fields `.Users` and
/// `.Quota` (looked up only when a template names them).
#[derive(Debug, Clone, Default)]
pub struct Extra {
    /// Its live users.
    pub users: Vec<User>,
    /// How much of its size limit the content uses, in bytes.
    pub used: Option<u64>,
}

/// The template dot of `volume inspect`: Docker's `volume.Volume` struct, and myvol's fields
/// (`.Owner`, `.Quota`, `.Users`), which no JSON output shows, so Docker's keys stay exact. Its
/// maps are built once, so that templates reading them many times share them.
pub struct InspectContext {
    v: Volume,
    created_at: String,
    labels: Value,
    options: Value,
    status: Value,
    extra: Extra,
}

impl InspectContext {
    /// `status`: a plugin volume's `Status`, as the plugin gave it.
    pub fn value(v: &Volume, status: Option<&Map<String, Json>>) -> Value {
        InspectContext::with_extra(v, status, Extra::default())
    }

    /// With what myvol knows beyond Docker's struct.
    pub fn with_extra(v: &Volume, status: Option<&Map<String, Json>>, extra: Extra) -> Value {
        Value::object(InspectContext {
            v: v.clone(),
            created_at: created_at(v),
            labels: map_value(&v.labels),
            options: map_value(&v.options),
            status: match status {
                Some(m) if !m.is_empty() => json_value(&Json::Object(m.clone())),
                _ => Value::Map(None),
            },
            extra,
        })
    }
}

/// `.Owner`: `{UID, GID, Mode}` (the mode in octal, `0750`), nil when none was asked for.
pub fn owner_value(v: &Volume) -> Value {
    match v.owner {
        None => Value::Nil,
        Some(o) => Value::map(
            [
                ("UID".to_owned(), Value::Int(o.uid.into())),
                ("GID".to_owned(), Value::Int(o.gid.into())),
                ("Mode".to_owned(), Value::str(format!("{:04o}", o.mode))),
            ]
            .into(),
        ),
    }
}

/// `.Quota`: `{Mode, Size, Used}` (`project` or `image`; bytes), nil without a size limit.
pub fn quota_value(v: &Volume, used: Option<u64>) -> Value {
    match v.quota {
        None => Value::Nil,
        Some(q) => {
            let mut m: BTreeMap<String, Value> = [
                ("Mode".to_owned(), Value::str(q.mode.as_str())),
                ("Size".to_owned(), Value::Int(i64::try_from(q.size).unwrap_or(i64::MAX))),
            ]
            .into();
            m.insert("Used".to_owned(), used.map_or(Value::Nil, |u| Value::Int(i64::try_from(u).unwrap_or(i64::MAX))));
            Value::map(m)
        }
    }
}

/// `.Users`: one `{ID, Kind, Pid, Command, Since, ReadOnly, Labels}` per live user (`Pid` nil
/// and `Command` empty for a `volume mount`, which outlives its process; `Labels` always a map,
/// empty when the holder has none).
pub fn users_value(users: &[User]) -> Value {
    Value::list(
        users
            .iter()
            .map(|u| {
                Value::map(
                    [
                        ("ID".to_owned(), Value::str(&u.id)),
                        ("Kind".to_owned(), Value::str(&u.kind)),
                        ("Pid".to_owned(), u.pid.map_or(Value::Nil, |p| Value::Int(p.into()))),
                        ("Command".to_owned(), Value::str(u.command.clone().unwrap_or_default())),
                        ("Since".to_owned(), Value::str(&u.since)),
                        ("ReadOnly".to_owned(), Value::Bool(u.read_only)),
                        (
                            "Labels".to_owned(),
                            Value::map(u.labels.iter().map(|(k, v)| (k.clone(), Value::str(v))).collect()),
                        ),
                    ]
                    .into(),
                )
            })
            .collect(),
    )
}

/// `.Users` of `volume ls`: `KIND PID` per user (`mount` alone for a `volume mount`),
/// comma-separated.
pub fn users_text(users: &[User]) -> String {
    let items: Vec<String> = users
        .iter()
        .map(|u| match u.pid {
            Some(p) => format!("{} {p}", u.kind),
            None => u.kind.clone(),
        })
        .collect();
    items.join(", ")
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
            "CreatedAt" => Value::str(&self.created_at),
            "Driver" => Value::str(&v.driver),
            "Labels" => self.labels.clone(),
            "Mountpoint" => Value::str(v.mountpoint.display().to_string()),
            "Name" => Value::str(v.name.as_str()),
            "Options" => self.options.clone(),
            "Scope" => Value::str(&v.scope),
            "Status" => self.status.clone(),
            "ClusterVolume" | "UsageData" => Value::Nil,
            // myvol's own (not in the JSON).
            "Owner" => owner_value(v),
            "Quota" => quota_value(v, self.extra.used),
            "Users" => users_value(&self.extra.users),
            _ => return None,
        }))
    }

    /// Struct order; `Status` only when there is one (`omitempty`), as [`inspect_json`].
    fn json_fields(&self) -> Vec<(String, Value)> {
        let v = &self.v;
        let mut f = vec![
            ("CreatedAt".to_owned(), Value::str(&self.created_at)),
            ("Driver".to_owned(), Value::str(&v.driver)),
            ("Labels".to_owned(), self.labels.clone()),
            ("Mountpoint".to_owned(), Value::str(v.mountpoint.display().to_string())),
            ("Name".to_owned(), Value::str(v.name.as_str())),
            ("Options".to_owned(), self.options.clone()),
            ("Scope".to_owned(), Value::str(&v.scope)),
        ];
        if let Value::Map(Some(_)) = self.status {
            f.push(("Status".to_owned(), self.status.clone()));
        }
        f
    }

    /// Go's `%v` of the struct: `{ClusterVolume CreatedAt Driver Labels Mountpoint Name
    /// Options Scope Status UsageData}`.
    fn display(&self) -> String {
        let v = &self.v;
        format!(
            "{{<nil> {} {} {} {} {} {} {} {} <nil>}}",
            self.created_at,
            v.driver,
            self.labels,
            v.mountpoint.display(),
            v.name,
            self.options,
            v.scope,
            self.status,
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

/// What myvol knows of one `volume ls` row beyond docker/cli's `volumeContext`, for its own
/// template fields (`.InUse`, `.Users`, `.Limit`), which `--format json` does not show.
#[derive(Debug, Clone, Default)]
pub struct LsExtra {
    /// Its live users, when the format asks for `.InUse` or `.Users`.
    pub users: Option<Vec<User>>,
}

/// The template dot of one `volume ls` row: docker/cli's `volumeContext`.
pub struct LsContext {
    v: Volume,
    /// `(links, size)` when known (`ls --size`); Docker prints `N/A` otherwise.
    usage: Option<(u64, u64)>,
    /// Escape control characters (table output goes to a terminal).
    escape: bool,
    extra: LsExtra,
}

impl LsContext {
    pub fn value(v: &Volume, usage: Option<(u64, u64)>, escape: bool) -> Value {
        LsContext::with_extra(v, usage, escape, LsExtra::default())
    }

    pub fn with_extra(v: &Volume, usage: Option<(u64, u64)>, escape: bool, extra: LsExtra) -> Value {
        Value::object(LsContext { v: v.clone(), usage, escape, extra })
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
            // A volume with a size limit: what it uses of it.
            "Size" => match (self.usage, v.quota) {
                (Some((_, s)), Some(q)) => {
                    format!("{} / {}", crate::units::human_size(s), crate::units::human_size(q.size))
                }
                (Some((_, s)), None) => crate::units::human_size(s),
                (None, _) => "N/A".into(),
            },
            "Group" | "Availability" | "Status" => "N/A".into(),
            // myvol's own.
            "Limit" => v.quota.map(|q| crate::units::human_size(q.size)).unwrap_or_else(|| "N/A".into()),
            "InUse" => self.extra.users.as_ref().map(|u| (!u.is_empty()).to_string()).unwrap_or_else(|| "N/A".into()),
            "Users" => self.extra.users.as_ref().map(|u| self.s(&users_text(u))).unwrap_or_else(|| "N/A".into()),
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
                [other] => Err(format!("wrong type for value; expected string; got {}", super::go_type(other))),
                _ => Err(format!("wrong number of args for Label: want 1 got {}", args.len())),
            });
        }
        if !args.is_empty() {
            return None;
        }
        self.field(name).map(|s| Ok(Value::Str(s)))
    }

    /// docker/cli's `MarshalJSON`: every argument-less string method, keys sorted, through
    /// `json.Marshal` (which escapes `<`, `>` and `&`). Values are never terminal-escaped.
    fn json_fields(&self) -> Vec<(String, Value)> {
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
        keys.into_iter().map(|k| (k.to_owned(), Value::Str(raw(k)))).collect()
    }

    fn json_escapes_html(&self) -> bool {
        true
    }

    /// Go's `%v` of `*volumeContext`: `&{HeaderContext{Header} volume.Volume}`.
    fn display(&self) -> String {
        let inner = InspectContext::value(&self.v, None);
        format!("&{{{{<nil>}} {inner}}}")
    }
}

/// The header dot of `volume ls --format 'table …'`: docker/cli's `SubHeaderContext` of
/// volumes.
pub fn ls_header() -> Value {
    super::SubHeader::with_extra(&LS_HEADER_MAP, &LS_EXTRA_HEADERS)
}

/// docker/cli's volume header map (it has `ID`, which volume rows have not).
const LS_HEADER_MAP: [(&str, &str); 11] = [
    ("Availability", "AVAILABILITY"),
    ("Driver", "DRIVER"),
    ("Group", "GROUP"),
    ("ID", "ID"),
    ("Labels", "LABELS"),
    ("Links", "LINKS"),
    ("Mountpoint", "MOUNTPOINT"),
    ("Name", "VOLUME NAME"),
    ("Scope", "SCOPE"),
    ("Size", "SIZE"),
    ("Status", "STATUS"),
];

/// The titles of myvol's own `volume ls` columns.
const LS_EXTRA_HEADERS: [(&str, &str); 3] = [("InUse", "IN USE"), ("Limit", "LIMIT"), ("Users", "USERS")];
