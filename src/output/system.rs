//! `system df`: docker/cli's disk-usage formatter (cli/command/formatter/disk_usage.go), for
//! the objects myvol has: images and local volumes. The Containers and Build Cache rows are
//! printed as Docker prints them for an engine that has none, so scripts written against
//! `docker system df` (a row by its TYPE, a column by position) keep working.

use std::io::{self, Write};

use serde_json::Value as Json;

use super::image::{LsContext as ImageContext, df_row, ls_header as image_header};
use super::template::{Object, Template, Value};
use super::volume::LsContext;
use super::{FormatError, ListFormat, Spill, SubHeader, go_json, tabwriter};
use crate::image::Image;
use crate::store::{Usage, Volume};
use crate::units::human_size;

/// The default `system df` table.
pub const DEFAULT_FORMAT: &str = "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}";

/// One row of the summary: docker/cli's `diskUsage*Context` for a type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DfRow {
    pub kind: &'static str,
    pub total: usize,
    pub active: usize,
    pub size: u64,
    pub reclaimable: u64,
}

/// The images as `system df` sees them: each with its shared size, and the size of every
/// layer counted once ([`crate::image::store::disk_usage`]).
pub struct ImageUsage<'a> {
    pub images: &'a [Image],
    pub shared: &'a [u64],
    pub layers_size: u64,
}

impl DfRow {
    /// The four rows, from the images and from the local volumes and their usage (volumes
    /// with driver options are not counted, as Docker's `LocalVolumesSize` leaves them out).
    ///
    /// Images as Docker counts them: TOTAL every image, ACTIVE those a run uses, SIZE every
    /// layer once, RECLAIMABLE that size less what the active images use alone (their size
    /// less their shared size).
    pub fn summary(images: &ImageUsage<'_>, volumes: &[(Volume, Usage)]) -> Vec<DfRow> {
        let empty = |kind| DfRow { kind, total: 0, active: 0, size: 0, reclaimable: 0 };
        let active = images.images.iter().zip(images.shared).filter(|(i, _)| i.users > 0);
        let used: u64 = active.clone().map(|(i, shared)| i.size.saturating_sub(*shared)).sum();
        let imgs = DfRow {
            kind: "Images",
            total: images.images.len(),
            active: active.count(),
            size: images.layers_size,
            reclaimable: images.layers_size.saturating_sub(used),
        };
        let vols = DfRow {
            kind: "Local Volumes",
            total: volumes.len(),
            active: volumes.iter().filter(|(_, u)| u.links > 0).count(),
            size: volumes.iter().map(|(_, u)| u.size).sum(),
            reclaimable: volumes.iter().filter(|(_, u)| u.links == 0).map(|(_, u)| u.size).sum(),
        };
        vec![imgs, empty("Containers"), vols, empty("Build Cache")]
    }

    fn field(&self, name: &str) -> Option<String> {
        Some(match name {
            "Type" => self.kind.to_owned(),
            "TotalCount" => self.total.to_string(),
            "Active" => self.active.to_string(),
            "Size" => human_size(self.size),
            "Reclaimable" => self.reclaimable(),
            _ => return None,
        })
    }

    /// `1kB (100%)`; without a percentage when the total is zero (Containers and Build
    /// Cache print no percentage at all in Docker, and have none here).
    fn reclaimable(&self) -> String {
        let r = human_size(self.reclaimable);
        match self.kind {
            "Images" | "Local Volumes" if self.size > 0 => {
                format!("{r} ({}%)", (u128::from(self.reclaimable) * 100 / u128::from(self.size)))
            }
            _ => r,
        }
    }

    pub fn value(&self) -> Value {
        Value::object(self.clone())
    }

    pub fn json(&self) -> Json {
        let keys = ["Active", "Reclaimable", "Size", "TotalCount", "Type"];
        Json::Object(keys.iter().map(|k| ((*k).to_owned(), Json::String(self.field(k).unwrap_or_default()))).collect())
    }
}

impl Object for DfRow {
    fn type_name(&self) -> &str {
        match self.kind {
            "Images" => "*formatter.diskUsageImagesContext",
            "Containers" => "*formatter.diskUsageContainersContext",
            "Build Cache" => "*formatter.diskUsageBuilderContext",
            _ => "*formatter.diskUsageVolumesContext",
        }
    }

    fn get(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        if !args.is_empty() {
            return None;
        }
        self.field(name).map(|s| Ok(Value::Str(s)))
    }

    /// docker/cli's `MarshalJSON` (sorted keys, through `json.Marshal`).
    fn json_fields(&self) -> Vec<(String, Value)> {
        let keys = ["Active", "Reclaimable", "Size", "TotalCount", "Type"];
        keys.iter().map(|k| ((*k).to_owned(), Value::str(self.field(k).unwrap_or_default()))).collect()
    }

    fn json_escapes_html(&self) -> bool {
        true
    }

    fn display(&self) -> String {
        format!("&{{{} {} {} {} {}}}", self.kind, self.total, self.active, self.size, self.reclaimable)
    }
}

/// docker/cli's header map of the summary table.
const DF_HEADER: [(&str, &str); 5] =
    [("Active", "ACTIVE"), ("Reclaimable", "RECLAIMABLE"), ("Size", "SIZE"), ("TotalCount", "TOTAL"), ("Type", "TYPE")];

/// `system df [--format F]`. `json` is one compact object per row.
pub fn render_summary(rows: &[DfRow], format: Option<&str>, out: &mut dyn Write) -> Result<(), FormatError> {
    let format = match format {
        None | Some("") | Some("table") => DEFAULT_FORMAT,
        Some("json") => {
            for r in rows {
                writeln!(out, "{}", go_json(&r.json(), true))?;
            }
            return Ok(());
        }
        Some(f) => f,
    };
    let fmt = ListFormat::parse(format)?;
    fmt.render(&SubHeader::value(&DF_HEADER), rows.iter().map(DfRow::value), out)
}

/// docker/cli's `defaultDiskUsageImageTableFormat`.
const IMAGE_TABLE: &str = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}";

/// The images' rows of `system df -v` (`table`: truncated IDs, escaped cells).
fn image_contexts(images: &ImageUsage<'_>, table: bool) -> Vec<Value> {
    let now = jiff::Timestamp::now().as_second();
    images
        .images
        .iter()
        .zip(images.shared)
        .map(|(i, s)| ImageContext::value(df_row(i, *s), table, now, table))
        .collect()
}

/// `system df -v` with no format: Docker's four sections, each its own aligned table.
pub fn render_verbose(
    images: &ImageUsage<'_>,
    volumes: &[(Volume, Usage)],
    out: &mut dyn Write,
) -> Result<(), FormatError> {
    fn table(out: &mut dyn Write, lines: impl IntoIterator<Item = String>) -> io::Result<()> {
        let mut tw = tabwriter::TabWriter::docker(out);
        for l in lines {
            tw.write_str(&l)?;
            tw.write_str("\n")?;
        }
        tw.flush()
    }
    out.write_all(b"Images space usage:\n\n")?;
    ListFormat::parse(IMAGE_TABLE)?.render(&image_header(), image_contexts(images, true), out)?;
    out.write_all(b"\nContainers space usage:\n\n")?;
    table(out, ["CONTAINER ID\tIMAGE\tCOMMAND\tLOCAL VOLUMES\tSIZE\tCREATED\tSTATUS\tNAMES".into()])?;
    out.write_all(b"\nLocal Volumes space usage:\n\n")?;
    // A volume with a size limit: what it uses of it (`12.3MB / 1.074GB`).
    let size = |v: &Volume, u: &Usage| match v.quota {
        Some(q) => format!("{} / {}", human_size(u.size), human_size(q.size)),
        None => human_size(u.size),
    };
    let rows = volumes
        .iter()
        .map(|(v, u)| format!("{}\t{}\t{}", crate::text::escape_control(v.name.as_str()), u.links, size(v, u)));
    table(out, std::iter::once("VOLUME NAME\tLINKS\tSIZE".to_owned()).chain(rows))?;
    out.write_all(b"\nBuild cache usage: 0B\n\n")?;
    table(out, ["CACHE ID\tCACHE TYPE\tSIZE\tCREATED\tLAST USED\tUSAGE\tSHARED".into()])?;
    Ok(())
}

/// The dot of `system df -v --format TEMPLATE`: docker/cli's `diskUsageContext`, whose
/// fields are lists (`Containers` and `BuildCache` are empty here).
struct DfVerbose {
    images: Vec<Value>,
    volumes: Vec<Value>,
}

impl Object for DfVerbose {
    fn type_name(&self) -> &str {
        "*formatter.diskUsageContext"
    }

    fn get(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        if !args.is_empty() {
            return None;
        }
        Some(Ok(match name {
            "Images" => Value::list(self.images.clone()),
            "Volumes" => Value::list(self.volumes.clone()),
            "Containers" | "BuildCache" => Value::list(Vec::new()),
            _ => return None,
        }))
    }

    /// Struct order; images and volumes are `*imageContext`s and `*volumeContext`s, which
    /// marshal themselves.
    fn json_fields(&self) -> Vec<(String, Value)> {
        vec![
            ("Images".into(), Value::list(self.images.clone())),
            ("Containers".into(), Value::list(Vec::new())),
            ("Volumes".into(), Value::list(self.volumes.clone())),
            ("BuildCache".into(), Value::list(Vec::new())),
        ]
    }

    fn display(&self) -> String {
        String::new()
    }
}

/// `system df -v --format F`: `json` is `{{json .}}` (no newline after it, as Docker); a
/// template is executed once over the whole usage, with no newline added.
pub fn render_verbose_format(
    images: &ImageUsage<'_>,
    volumes: &[(Volume, Usage)],
    format: &str,
    out: &mut dyn Write,
) -> Result<(), FormatError> {
    let dot = DfVerbose {
        images: image_contexts(images, false),
        volumes: volumes.iter().map(|(v, u)| LsContext::value(v, Some((u.links, u.size)), false)).collect(),
    };
    let format = if format == "json" { "{{json .}}" } else { format };
    let t = Template::parse(format).map_err(FormatError::Parse)?;
    let mut spill = Spill::new(out);
    t.execute(&Value::object(dot), &mut spill).map_err(FormatError::exec)?;
    spill.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(size: u64, reclaimable: u64) -> DfRow {
        DfRow { kind: "Local Volumes", total: 2, active: 1, size, reclaimable }
    }

    #[test]
    fn reclaimable_as_docker() {
        assert_eq!(row(1000, 1000).reclaimable(), "1kB (100%)");
        assert_eq!(row(1000, 0).reclaimable(), "0B (0%)");
        assert_eq!(row(0, 0).reclaimable(), "0B");
        assert_eq!(row(3000, 1000).reclaimable(), "1kB (33%)");
        let c = DfRow { kind: "Containers", total: 0, active: 0, size: 0, reclaimable: 0 };
        assert_eq!(
            go_json(&c.json(), false),
            r#"{"Active":"0","Reclaimable":"0B","Size":"0B","TotalCount":"0","Type":"Containers"}"#
        );
    }
}
