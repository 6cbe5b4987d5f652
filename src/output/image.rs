//! Docker's wire shapes for images: the `image ls` rows and template context (docker/cli
//! formatter/image.go), the `image inspect` JSON (api/types/image.InspectResponse as Engine
//! 28 sends it for API 1.51), and go-units' durations and sizes.

use std::collections::BTreeMap;
use std::rc::Rc;

use serde_json::{Map, Value as Json, json};

use super::template::{Object, Value};
use crate::image::reference::Reference;
use crate::image::{Image, ImageStore};
use crate::text::escape_control;
use crate::units::human_size_precision;

/// go-units `HumanDuration`.
pub fn human_duration(seconds: i64) -> String {
    let s = seconds as f64;
    if seconds < 1 {
        return "Less than a second".into();
    }
    if seconds == 1 {
        return "1 second".into();
    }
    if seconds < 60 {
        return format!("{seconds} seconds");
    }
    let minutes = seconds / 60;
    if minutes == 1 {
        return "About a minute".into();
    }
    if minutes < 60 {
        return format!("{minutes} minutes");
    }
    let hours = (s / 3600.0 + 0.5) as i64;
    if hours == 1 {
        return "About an hour".into();
    }
    if hours < 48 {
        return format!("{hours} hours");
    }
    if hours < 24 * 7 * 2 {
        return format!("{} days", hours / 24);
    }
    if hours < 24 * 30 * 2 {
        return format!("{} weeks", hours / 24 / 7);
    }
    if hours < 24 * 365 * 2 {
        return format!("{} months", hours / 24 / 30);
    }
    format!("{} years", (s / 3600.0) as i64 / 24 / 365)
}

/// An image's creation time in seconds (Docker's `Summary.Created`: 0 when unknown).
pub fn created_unix(img: &Image) -> i64 {
    img.config.created_unix().map_or(0, |t| t.as_second())
}

/// One row of `image ls`: an image under one repository, tag and digest.
#[derive(Debug, Clone)]
pub struct LsRow {
    pub id: String,
    pub repository: String,
    pub tag: String,
    pub digest: String,
    pub created: i64,
    pub size: u64,
    pub containers: u64,
    /// The size of the layers other images also use, when known (`system df -v`); `image ls`
    /// prints `N/A`, as Docker's does.
    pub shared_size: Option<u64>,
}

/// docker/cli's `imageFormat`: the rows of one image. Tags are grouped by repository (each
/// tag with each of its repository's digests when digests are shown), repositories with only
/// digests get a `<none>` tag, and an image with neither is `<none> <none>`.
pub fn ls_rows(img: &Image, with_digests: bool, show_digest_rows: bool) -> Vec<LsRow> {
    let row = |repo: &str, tag: &str, digest: &str| LsRow {
        id: img.id().to_string(),
        repository: repo.to_owned(),
        tag: tag.to_owned(),
        digest: digest.to_owned(),
        created: created_unix(img),
        size: img.size,
        containers: img.users,
        shared_size: None,
    };
    if img.dangling() {
        return vec![row("<none>", "<none>", "<none>")];
    }
    let mut tags: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut digests: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in &img.repo_tags {
        tags.entry(r.familiar_name()).or_default().push(r.tag().unwrap_or_default().to_owned());
    }
    for r in &img.repo_digests {
        if let Some(d) = r.digest() {
            digests.entry(r.familiar_name()).or_default().push(d.to_string());
        }
    }
    let mut out = Vec::new();
    for (repo, ts) in &tags {
        let ds = digests.remove(repo).filter(|_| with_digests).unwrap_or_default();
        for t in ts {
            if ds.is_empty() {
                out.push(row(repo, t, "<none>"));
            }
            for d in &ds {
                out.push(row(repo, t, d));
            }
        }
    }
    for (repo, ds) in &digests {
        if show_digest_rows {
            for d in ds {
                out.push(row(repo, "<none>", d));
            }
        } else {
            out.push(row(repo, "<none>", ""));
        }
    }
    out
}

/// The row of an image in `system df -v`: its first tag only (`<none>` for none), with its
/// shared size (docker/cli's `verboseWrite`).
pub fn df_row(img: &Image, shared_size: u64) -> LsRow {
    let (repository, tag) = match img.repo_tags.first() {
        Some(r) => (r.familiar_name(), r.tag().unwrap_or("<none>").to_owned()),
        None => ("<none>".to_owned(), "<none>".to_owned()),
    };
    LsRow {
        id: img.id().to_string(),
        repository,
        tag,
        digest: "<none>".into(),
        created: created_unix(img),
        size: img.size,
        containers: img.users,
        shared_size: Some(shared_size),
    }
}

/// The template dot of one `image ls` row: docker/cli's `imageContext`.
pub struct LsContext {
    row: LsRow,
    trunc: bool,
    now: i64,
    /// Escape control characters (table output goes to a terminal).
    escape: bool,
}

/// `ls` columns: field → header.
pub const LS_HEADERS: [(&str, &str); 11] = [
    ("ID", "IMAGE ID"),
    ("Repository", "REPOSITORY"),
    ("Tag", "TAG"),
    ("Digest", "DIGEST"),
    ("CreatedSince", "CREATED"),
    ("CreatedAt", "CREATED AT"),
    ("Size", "SIZE"),
    ("Containers", "CONTAINERS"),
    ("VirtualSize", "SIZE"),
    ("SharedSize", "SHARED SIZE"),
    ("UniqueSize", "UNIQUE SIZE"),
];

impl LsContext {
    pub fn value(row: LsRow, trunc: bool, now: i64, escape: bool) -> Value {
        Value::Object(Rc::new(LsContext { row, trunc, now, escape }))
    }

    fn field(&self, name: &str) -> Option<String> {
        let r = &self.row;
        let s = |v: &str| if self.escape { escape_control(v).into_owned() } else { v.to_owned() };
        Some(match name {
            "ID" => {
                if self.trunc {
                    let hex = r.id.split_once(':').map_or(r.id.as_str(), |(_, h)| h);
                    hex[..hex.len().min(12)].to_owned()
                } else {
                    r.id.clone()
                }
            }
            "Repository" => s(&r.repository),
            "Tag" => s(&r.tag),
            "Digest" => r.digest.clone(),
            "CreatedSince" => format!("{} ago", human_duration(self.now - r.created)),
            "CreatedAt" => go_time_string(r.created),
            "Size" => human_size_precision(r.size, 3),
            "Containers" => r.containers.to_string(),
            "VirtualSize" => human_size_precision(r.size, 4),
            "SharedSize" => r.shared_size.map_or_else(|| "N/A".into(), crate::units::human_size),
            "UniqueSize" => {
                r.shared_size.map_or_else(|| "N/A".into(), |s| crate::units::human_size(r.size.saturating_sub(s)))
            }
            _ => return None,
        })
    }
}

/// Go's `time.Unix(s, 0).String()` in the local zone: `2024-01-02 15:04:05 +0000 UTC`.
pub fn go_time_string(secs: i64) -> String {
    let Ok(ts) = jiff::Timestamp::from_second(secs) else { return String::new() };
    let tz = jiff::tz::TimeZone::try_system().unwrap_or(jiff::tz::TimeZone::UTC);
    ts.to_zoned_datetime(tz).strftime("%Y-%m-%d %H:%M:%S %z %Z").to_string()
}

impl Object for LsContext {
    fn type_name(&self) -> &str {
        "*formatter.imageContext"
    }

    fn get(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
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
        let plain = LsContext { row: self.row.clone(), trunc: self.trunc, now: self.now, escape: false };
        keys.into_iter().map(|k| (k.to_owned(), Value::Str(plain.field(k).unwrap_or_default()))).collect()
    }

    fn json_escapes_html(&self) -> bool {
        true
    }

    fn display(&self) -> String {
        format!("&{{{} {} {} {}}}", self.row.id, self.row.repository, self.row.tag, self.row.digest)
    }
}

/// The header dot of `image ls --format 'table …'`: docker/cli's `SubHeaderContext` of images.
pub fn ls_header() -> Value {
    super::SubHeader::value(&LS_HEADER_MAP)
}

/// docker/cli's image header map, sorted by field.
const LS_HEADER_MAP: [(&str, &str); 11] = [
    ("Containers", "CONTAINERS"),
    ("CreatedAt", "CREATED AT"),
    ("CreatedSince", "CREATED"),
    ("Digest", "DIGEST"),
    ("ID", "IMAGE ID"),
    ("Repository", "REPOSITORY"),
    ("SharedSize", "SHARED SIZE"),
    ("Size", "SIZE"),
    ("Tag", "TAG"),
    ("UniqueSize", "UNIQUE SIZE"),
    ("VirtualSize", "SIZE"),
];

/// docker/cli's `NewImageFormat`.
pub fn ls_format(format: Option<&str>, quiet: bool, digests: bool) -> String {
    const TABLE: &str =
        "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}";
    const TABLE_DIGEST: &str = "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}";
    match format.filter(|f| !f.is_empty()).unwrap_or("table") {
        "table" if quiet => "{{.ID}}".into(),
        "table" if digests => TABLE_DIGEST.into(),
        "table" => TABLE.into(),
        "raw" if quiet => "image_id: {{.ID}}".into(),
        "raw" if digests => "repository: {{ .Repository }}\\ntag: {{.Tag}}\\ndigest: {{.Digest}}\\nimage_id: {{.ID}}\\ncreated_at: {{.CreatedAt}}\\nvirtual_size: {{.Size}}\\n".into(),
        "raw" => "repository: {{ .Repository }}\\ntag: {{.Tag}}\\nimage_id: {{.ID}}\\ncreated_at: {{.CreatedAt}}\\nvirtual_size: {{.Size}}\\n".into(),
        f if f.starts_with("table") && digests && !f.contains("{{.Digest}}") => format!("{f}\t{{{{.Digest}}}}"),
        f => f.to_owned(),
    }
}

/// Keys of Docker's image config (`DockerOCIImageConfig`) that `inspect` shows.
const CONFIG_KEYS: &[&str] = &[
    "User",
    "ExposedPorts",
    "Env",
    "Entrypoint",
    "Cmd",
    "Volumes",
    "WorkingDir",
    "Labels",
    "StopSignal",
    "ArgsEscaped",
    "Healthcheck",
    "OnBuild",
    "Shell",
];

fn is_empty_json(v: &Json) -> bool {
    match v {
        Json::Null => true,
        Json::Bool(b) => !b,
        Json::String(s) => s.is_empty(),
        Json::Array(a) => a.is_empty(),
        Json::Object(o) => o.is_empty(),
        Json::Number(_) => false,
    }
}

/// `inspect`'s `Config`: the image config's `config` object reduced to Docker's OCI image
/// config fields (empty ones left out), over the defaults Engine 28 always prints, keys
/// sorted as Go encodes a map.
fn inspect_config(raw_config: &[u8]) -> Json {
    let mut out: BTreeMap<String, Json> = BTreeMap::new();
    for (k, v) in [
        ("Cmd", Json::Null),
        ("Entrypoint", Json::Null),
        ("Env", Json::Null),
        ("Labels", Json::Null),
        ("OnBuild", Json::Null),
        ("User", Json::String(String::new())),
        ("Volumes", Json::Null),
        ("WorkingDir", Json::String(String::new())),
    ] {
        out.insert(k.to_owned(), v);
    }
    let raw: Json = serde_json::from_slice(raw_config).unwrap_or(Json::Null);
    if let Some(Json::Object(c)) = raw.get("config") {
        for (k, v) in c {
            // Go decodes struct fields case-insensitively.
            if let Some(key) = CONFIG_KEYS.iter().find(|ck| ck.eq_ignore_ascii_case(k))
                && !is_empty_json(v)
            {
                out.insert((*key).to_owned(), v.clone());
            }
        }
    }
    Json::Object(out.into_iter().collect())
}

/// RFC 3339 with nanoseconds trimmed, as Go's `time.RFC3339Nano` prints a UTC time.
fn rfc3339_nano(ts: &jiff::Timestamp) -> String {
    ts.to_string()
}

/// The `image inspect` object of one image, keys in Docker's order (`Config` last, as Engine
/// 28's compatibility wrapper encodes it).
pub fn inspect_json(img: &Image, store: &ImageStore) -> Json {
    let c = &img.config;
    let mut o = Map::new();
    o.insert("Id".into(), Json::String(img.id().to_string()));
    o.insert("RepoTags".into(), Json::Array(img.repo_tags.iter().map(|r| Json::String(r.familiar_string())).collect()));
    o.insert(
        "RepoDigests".into(),
        Json::Array(img.repo_digests.iter().map(|r| Json::String(r.familiar_string())).collect()),
    );
    o.insert("Parent".into(), Json::String(String::new()));
    let comment = c
        .comment
        .clone()
        .filter(|s| !s.is_empty())
        .or_else(|| c.history.as_ref().and_then(|h| h.last()).and_then(|h| h.comment.clone()))
        .unwrap_or_default();
    o.insert("Comment".into(), Json::String(comment));
    if let Some(t) = c.created_unix() {
        o.insert("Created".into(), Json::String(rfc3339_nano(&t)));
    }
    o.insert("DockerVersion".into(), Json::String(c.docker_version.clone().unwrap_or_default()));
    o.insert("Author".into(), Json::String(c.author.clone().unwrap_or_default()));
    o.insert("Architecture".into(), Json::String(c.architecture.clone()));
    if let Some(v) = c.variant.as_ref().filter(|v| !v.is_empty()) {
        o.insert("Variant".into(), Json::String(v.clone()));
    }
    o.insert("Os".into(), Json::String(if c.os.is_empty() { "linux".into() } else { c.os.clone() }));
    if let Some(v) = c.os_version.as_ref().filter(|v| !v.is_empty()) {
        o.insert("OsVersion".into(), Json::String(v.clone()));
    }
    o.insert("Size".into(), json!(img.size));
    let dirs: Vec<String> =
        img.record.layers.iter().rev().map(|l| store.layer_path(&l.diff_id).display().to_string()).collect();
    let mut data = Map::new();
    if !dirs.is_empty() {
        data.insert("LowerDir".into(), Json::String(dirs.join(":")));
    }
    o.insert("GraphDriver".into(), json!({"Data": data, "Name": "overlay"}));
    o.insert(
        "RootFS".into(),
        json!({"Type": if c.rootfs.kind.is_empty() { "layers" } else { c.rootfs.kind.as_str() },
               "Layers": c.rootfs.diff_ids.iter().map(|d| d.to_string()).collect::<Vec<_>>()}),
    );
    let last_tag = img.record.last_tag_time.clone().unwrap_or_else(|| "0001-01-01T00:00:00Z".into());
    o.insert("Metadata".into(), json!({"LastTagTime": last_tag}));
    o.insert("Config".into(), inspect_config(&img.raw_config));
    Json::Object(o)
}

/// Familiar strings of references (for messages).
pub fn familiar(refs: &[Reference]) -> Vec<String> {
    refs.iter().map(Reference::familiar_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_as_go_units() {
        assert_eq!(human_duration(0), "Less than a second");
        assert_eq!(human_duration(1), "1 second");
        assert_eq!(human_duration(59), "59 seconds");
        assert_eq!(human_duration(60), "About a minute");
        assert_eq!(human_duration(3599), "59 minutes");
        assert_eq!(human_duration(3600), "About an hour");
        assert_eq!(human_duration(5400), "2 hours");
        assert_eq!(human_duration(47 * 3600), "47 hours");
        assert_eq!(human_duration(48 * 3600), "2 days");
        assert_eq!(human_duration(14 * 86400), "2 weeks");
        assert_eq!(human_duration(60 * 86400), "2 months");
        assert_eq!(human_duration(800 * 86400), "2 years");
    }

    #[test]
    fn ls_formats() {
        assert_eq!(ls_format(None, true, false), "{{.ID}}");
        assert!(ls_format(None, false, true).contains("{{.Digest}}"));
        assert_eq!(ls_format(Some("table {{.ID}}"), false, true), "table {{.ID}}\t{{.Digest}}");
        assert_eq!(ls_format(Some("{{.ID}}"), false, true), "{{.ID}}");
    }

    /// Table cells are escaped; JSON carries the value as it is (its own escaping).
    #[test]
    fn table_cells_escape_outside_text_and_json_does_not() {
        let row = LsRow {
            id: format!("sha256:{}", "a".repeat(64)),
            repository: "r\u{1b}[2J".into(),
            tag: "t\u{202e}".into(),
            digest: "<none>".into(),
            created: 0,
            size: 0,
            containers: 0,
            shared_size: None,
        };
        let fmt = super::super::ListFormat::parse("table {{.Repository}}\t{{.Tag}}\t{{.ID}}").unwrap();
        let mut out = Vec::new();
        fmt.render(&ls_header(), [LsContext::value(row.clone(), true, 0, true)], &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "REPOSITORY   TAG         IMAGE ID\nr\\x1b[2J     t\\u{202e}   aaaaaaaaaaaa\n"
        );
        let fmt = super::super::ListFormat::parse("json").unwrap();
        let mut out = Vec::new();
        fmt.render(&ls_header(), [LsContext::value(row, true, 0, false)], &mut out).unwrap();
        let v: Json = serde_json::from_slice(&out).unwrap();
        assert_eq!((v["Repository"].as_str(), v["Tag"].as_str()), (Some("r\u{1b}[2J"), Some("t\u{202e}")));
    }

    #[test]
    fn inspect_config_shape() {
        let raw = br#"{"config":{"Env":["PATH=/bin"],"Cmd":["sh"],"Hostname":"x","AttachStdin":false,"Labels":{},"User":""},"rootfs":{"type":"layers","diff_ids":[]}}"#;
        let c = inspect_config(raw);
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"{"Cmd":["sh"],"Entrypoint":null,"Env":["PATH=/bin"],"Labels":null,"OnBuild":null,"User":"","Volumes":null,"WorkingDir":""}"#
        );
    }
}
