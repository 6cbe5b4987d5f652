//! The mounts of a [`RunPlan`] in the shape of `docker inspect --format '{{json .Mounts}}'`
//! (api/types `MountPoint`): `Type`, `Name` and `Driver` (volumes only), `Source`,
//! `Destination`, `Mode`, `RW`, `Propagation`, in Docker's key order. myvol's own keys come
//! after Docker's, so a consumer of Docker's shape still reads it:
//! - volumes: `Create` (the volume does not exist yet and will be created), then `Subpath`
//!   and `NoCopy: true` when given;
//! - binds: `Create` (the source does not exist and will be created as a directory), then
//!   `BindRecursive` when given;
//! - tmpfs: `TmpfsOptions`, the options as Docker records them (`size=1m`,
//!   `mode=1770,size=1m`);
//! - images (`--mount type=image`): `Image`, the image ID, then `Subpath` when given;
//! - volumes an image declares: `FromImage: true`.
//!
//! A run of an image prints more ([`render_image`]): the command, the image and its
//! config as Docker's `docker inspect` of a container shows them, around the mounts.
//!
//! Unlike Docker's `.Mounts`, `--tmpfs` mounts are listed too (Docker keeps them in
//! `HostConfig.Tmpfs` only), as `Type: "tmpfs"` entries.

use serde_json::{Map, Value as Json};

use super::go_json;
use crate::driver;
use crate::plan::{PlannedMount, PlannedSource, ProcessRequest, RunPlan, SourceKind};
use crate::runtime::{MountRef, Process};
use crate::spec::SpecOrigin;

/// `Mode` as Docker shows it: the raw `-v` mode, except that a local-driver volume given no
/// mode shows `"z"` (Docker's `setBindModeIfNull`), which `-v` anonymous volumes (Docker's
/// `Config.Volumes`) never get. `--mount` and `--tmpfs` have no mode string.
pub fn docker_mode(m: &PlannedMount) -> String {
    if let PlannedSource::Volume(v) = &m.source
        && m.mode.is_empty()
        && v.driver == driver::LOCAL
        && !(matches!(m.origin, SpecOrigin::Volume | SpecOrigin::Image) && v.anonymous)
    {
        return "z".to_owned();
    }
    m.mode.clone()
}

/// One mount as a `.Mounts` entry, with myvol's keys after Docker's.
pub fn mount_json(m: &PlannedMount) -> Json {
    let mut o = Map::new();
    o.insert("Type".into(), Json::from(m.kind().as_str()));
    match &m.source {
        PlannedSource::Volume(v) => {
            o.insert("Name".into(), Json::from(v.name.as_str()));
        }
        PlannedSource::Image(i) => {
            o.insert("Name".into(), Json::from(i.image.name.as_str()));
        }
        PlannedSource::Bind(_) | PlannedSource::Tmpfs(_) => {}
    }
    // An image mount's Source, in Docker, is where the daemon mounted the image on the
    // host; myvol mounts it in the run only.
    let source = match m.mount() {
        MountRef::Bind(b) => b.source.display().to_string(),
        MountRef::Tmpfs(_) | MountRef::Image(_) => String::new(),
    };
    o.insert("Source".into(), Json::from(source));
    o.insert("Destination".into(), Json::from(m.target()));
    if let PlannedSource::Volume(v) = &m.source {
        o.insert("Driver".into(), Json::from(v.driver.as_str()));
    }
    o.insert("Mode".into(), Json::from(docker_mode(m)));
    o.insert("RW".into(), Json::from(!m.read_only()));
    let propagation = match &m.source {
        PlannedSource::Bind(b) => b.bind.propagation.as_str(),
        PlannedSource::Image(_) => "rprivate",
        PlannedSource::Volume(_) | PlannedSource::Tmpfs(_) => "",
    };
    o.insert("Propagation".into(), Json::from(propagation));
    match &m.source {
        PlannedSource::Volume(v) => {
            o.insert("Create".into(), Json::from(v.create));
            if let Some(sub) = &v.bind.subpath {
                o.insert("Subpath".into(), Json::from(sub.as_str()));
            }
            if !v.bind.copy_up {
                o.insert("NoCopy".into(), Json::from(true));
            }
            if m.origin == SpecOrigin::Image {
                o.insert("FromImage".into(), Json::from(true));
            }
        }
        PlannedSource::Image(i) => {
            o.insert("Image".into(), Json::from(i.image.id.as_str()));
            if let Some(sub) = &i.mount.subpath {
                o.insert("Subpath".into(), Json::from(sub.as_str()));
            }
        }
        PlannedSource::Bind(b) => {
            o.insert("Create".into(), Json::from(b.source_kind == SourceKind::Missing));
            if let Some(r) = b.bind_recursive {
                o.insert("BindRecursive".into(), Json::from(r.as_str()));
            }
        }
        PlannedSource::Tmpfs(t) => {
            o.insert("TmpfsOptions".into(), Json::from(t.options.join(",")));
        }
    }
    Json::Object(o)
}

/// The plan's mounts as a JSON array, in mount order.
pub fn mounts_json(plan: &RunPlan) -> Json {
    Json::Array(plan.mounts.iter().map(mount_json).collect())
}

/// One line, as `{{json .Mounts}}` prints it (compact, HTML characters not escaped), without
/// the newline.
pub fn render(plan: &RunPlan) -> String {
    go_json(&mounts_json(plan), false)
}

/// A run of an image, as one line of JSON in the shape of `docker inspect` of the container
/// it would be (Docker's keys, in Docker's order): `Path` and `Args`, the command; `Image`, the
/// image ID; `Mounts`, as [`render`] prints them, the image's volumes included; `Config`, with
/// `Image` as named and what the image and the flags made of `User`, `Env`, `Cmd`,
/// `WorkingDir`, `Entrypoint`, `Volumes` (`null` when none) and `Labels`, the run's own (the
/// image's labels are not merged in). The user is shown as given:
/// it is resolved in the image when the run starts.
pub fn render_image(plan: &RunPlan, request: &ProcessRequest, process: &Process) -> String {
    let Some(image) = &plan.image else { return render(plan) };
    let list = |v: Option<Vec<String>>| v.map_or(Json::Null, Json::from);
    let (entrypoint, cmd) = crate::plan::image_entrypoint_cmd(request, &image.config);
    let mut config = Map::new();
    config.insert("User".into(), Json::from(process.user_in_image.clone().unwrap_or_default()));
    config.insert("Env".into(), Json::from(process.env.clone()));
    config.insert("Cmd".into(), list(cmd));
    config.insert("Image".into(), Json::from(image.name.as_str()));
    config.insert(
        "Volumes".into(),
        image.config.volumes.as_ref().map_or(Json::Null, |v| Json::Object(v.clone().into_iter().collect())),
    );
    config.insert("WorkingDir".into(), Json::from(process.workdir.clone().unwrap_or_default()));
    config.insert("Entrypoint".into(), list(entrypoint));
    // The run's labels (`{}` when none, as Docker shows a container's).
    config.insert(
        "Labels".into(),
        Json::Object(plan.labels.iter().map(|(k, v)| (k.clone(), Json::from(v.as_str()))).collect()),
    );
    let mut o = Map::new();
    o.insert("Path".into(), Json::from(process.command.first().cloned().unwrap_or_default()));
    o.insert("Args".into(), Json::from(process.command.get(1..).unwrap_or_default().to_vec()));
    o.insert("Image".into(), Json::from(image.id.as_str()));
    o.insert("Mounts".into(), mounts_json(plan));
    o.insert("Config".into(), Json::Object(config));
    go_json(&Json::Object(o), false)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use super::*;
    use crate::name::VolumeName;
    use crate::plan::{PlannedBind, PlannedTmpfs, PlannedVolume};
    use crate::runtime::{Access, Bind, Recursion, Tmpfs};
    use crate::spec::{Propagation, parse_tmpfs_options};

    fn plan(mounts: Vec<PlannedMount>) -> RunPlan {
        RunPlan {
            rootfs: PathBuf::from("/r"),
            image: None,
            mounts,
            read_only: false,
            remove: false,
            labels: BTreeMap::new(),
        }
    }

    fn bind(source: &str, target: &str, access: Access, propagation: Propagation, copy_up: bool) -> Bind {
        Bind {
            source: PathBuf::from(source),
            subpath: None,
            target: target.into(),
            access,
            recursion: Recursion::Recursive,
            propagation,
            copy_up,
            chown: false,
            opened: None,
        }
    }

    fn volume(origin: SpecOrigin, mode: &str, anonymous: bool, create: bool) -> PlannedMount {
        let access = if mode.contains("ro") { Access::ReadOnly } else { Access::ReadWrite };
        PlannedMount {
            origin,
            mode: mode.into(),
            source: PlannedSource::Volume(PlannedVolume {
                name: VolumeName::parse("vol").unwrap(),
                anonymous,
                driver: "local".into(),
                create,
                labels: BTreeMap::new(),
                options: BTreeMap::new(),
                bind: bind("/root/volumes/vol/_data", "/data", access, Propagation::Rprivate, !mode.contains("nocopy")),
            }),
            raw: String::new(),
        }
    }

    #[test]
    fn docker_keys_in_dockers_order_then_myvols() {
        let host = PlannedMount {
            origin: SpecOrigin::Volume,
            mode: "ro,rshared".into(),
            source: PlannedSource::Bind(PlannedBind {
                source_kind: SourceKind::Directory,
                bind_recursive: None,
                propagation_given: true,
                bind: bind("/tmp", "/host", Access::ReadOnly, Propagation::Rshared, false),
            }),
            raw: String::new(),
        };
        let opts = vec!["size=1m".to_owned()];
        let merged = parse_tmpfs_options(&opts).unwrap();
        let tmpfs = PlannedMount {
            origin: SpecOrigin::Tmpfs,
            mode: String::new(),
            source: PlannedSource::Tmpfs(PlannedTmpfs {
                options: opts,
                tmpfs: Tmpfs { target: "/t".into(), flags: merged.flags, data: merged.data },
            }),
            raw: String::new(),
        };
        let p = plan(vec![volume(SpecOrigin::Volume, "", false, true), host, tmpfs]);
        assert_eq!(
            render(&p),
            concat!(
                r#"[{"Type":"volume","Name":"vol","Source":"/root/volumes/vol/_data","Destination":"/data","Driver":"local","Mode":"z","RW":true,"Propagation":"","Create":true},"#,
                r#"{"Type":"bind","Source":"/tmp","Destination":"/host","Mode":"ro,rshared","RW":false,"Propagation":"rshared","Create":false},"#,
                r#"{"Type":"tmpfs","Source":"","Destination":"/t","Mode":"","RW":true,"Propagation":"","TmpfsOptions":"size=1m"}]"#
            )
        );
        assert_eq!(render(&plan(Vec::new())), "[]");
    }

    #[test]
    fn mode_as_docker_shows_it() {
        // (origin, raw mode, anonymous, shown)
        let cases = [
            (SpecOrigin::Volume, "", false, "z"),
            (SpecOrigin::Volume, "", true, ""),
            (SpecOrigin::Volume, "ro,nocopy", false, "ro,nocopy"),
            (SpecOrigin::Volume, "z", false, "z"),
            (SpecOrigin::Mount, "", false, "z"),
            (SpecOrigin::Mount, "", true, "z"),
        ];
        for (origin, mode, anonymous, shown) in cases {
            assert_eq!(docker_mode(&volume(origin, mode, anonymous, false)), shown, "{origin:?} {mode:?} {anonymous}");
        }
        let mut nocopy = volume(SpecOrigin::Volume, "ro,nocopy", false, false);
        if let PlannedSource::Volume(v) = &mut nocopy.source {
            v.bind.subpath = Some("a/b".into());
        }
        let j = mount_json(&nocopy);
        assert_eq!(j["Subpath"], "a/b");
        assert_eq!(j["NoCopy"], true);
        assert_eq!(j["RW"], false);
    }
}
