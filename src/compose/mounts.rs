//! A service's `volumes:` and `tmpfs:` as myvol mount specs ([`crate::spec::MountSpec`]),
//! for the run request `compose run`/`up` build: named volumes under their real
//! (project-prefixed) names, binds with absolute sources, tmpfs with size and mode.

use crate::spec::{
    self, BindOptions, BindRecursive, MountSpec, MountType, Propagation, SpecError, SpecOrigin, TmpfsOptions,
    VolumeOptions,
};

use super::model::{MountKind, Project, Service, ServiceVolume};

/// Why a service's mounts cannot become mount specs.
#[derive(Debug, thiserror::Error)]
pub enum MountError {
    /// A mount type myvol cannot mount (`npipe`, `cluster`).
    #[error("service {service:?}: {kind} mounts are not supported by myvol yet")]
    UnsupportedType { service: String, kind: &'static str },
    /// A named source that is not a volume of the project.
    #[error("service {service:?} refers to undefined volume {volume}: invalid compose project")]
    UndefinedVolume { service: String, volume: String },
    /// An invalid `tmpfs:` entry or option.
    #[error("service {service:?}: {source}")]
    Spec {
        service: String,
        #[source]
        source: SpecError,
    },
    /// A bind option myvol does not know.
    #[error("service {service:?}: invalid {what} {value:?} for {target}")]
    Option { service: String, what: &'static str, value: String, target: String },
}

/// The mounts of `service`: its `volumes:` in order, then its `tmpfs:` entries.
pub fn service_mounts(project: &Project, service: &Service) -> Result<Vec<MountSpec>, MountError> {
    let mut out = Vec::new();
    for v in &service.volumes {
        out.push(volume_mount(project, service, v)?);
    }
    for t in &service.tmpfs {
        let spec = spec::parse_tmpfs(t).map_err(|source| MountError::Spec { service: service.name.clone(), source })?;
        out.push(spec);
    }
    Ok(out)
}

fn blank(kind: MountType, origin: SpecOrigin, v: &ServiceVolume, raw: String) -> MountSpec {
    MountSpec {
        origin,
        kind,
        source: None,
        target: v.target.clone(),
        read_only: v.read_only,
        mode: String::new(),
        propagation: None,
        chown: false,
        consistency: (!v.consistency.is_empty()).then(|| v.consistency.clone()),
        bind: BindOptions::default(),
        volume: VolumeOptions::default(),
        tmpfs: TmpfsOptions::default(),
        image: Default::default(),
        raw,
    }
}

fn volume_mount(project: &Project, service: &Service, v: &ServiceVolume) -> Result<MountSpec, MountError> {
    let raw = format!("type={},source={},target={}", v.kind.as_str(), v.source, v.target);
    match v.kind {
        MountKind::Volume => {
            let mut m = blank(MountType::Volume, SpecOrigin::Mount, v, raw);
            if !v.source.is_empty() {
                let vol = project.volumes.get(&v.source).ok_or_else(|| MountError::UndefinedVolume {
                    service: service.name.clone(),
                    volume: v.source.clone(),
                })?;
                m.source = Some(vol.name.clone());
                if !vol.driver.is_empty() {
                    m.volume.driver = Some(vol.driver.clone());
                }
                m.volume.opts = vol.driver_opts.clone();
            }
            if let Some(o) = &v.volume {
                m.volume.nocopy = o.nocopy;
                m.volume.subpath = (!o.subpath.is_empty()).then(|| o.subpath.clone());
                m.volume.labels = o.labels.clone();
            }
            Ok(m)
        }
        MountKind::Bind => {
            let create = v.bind.as_ref().is_some_and(|b| b.create_host_path);
            // A bind that may create its source behaves as `-v` does; otherwise as `--mount`.
            let origin = if create { SpecOrigin::Volume } else { SpecOrigin::Mount };
            let mut m = blank(MountType::Bind, origin, v, raw);
            m.source = Some(v.source.clone());
            m.bind.create_src = create;
            if let Some(b) = &v.bind {
                if !b.propagation.is_empty() {
                    let p: Propagation = b.propagation.parse().map_err(|()| MountError::Option {
                        service: service.name.clone(),
                        what: "propagation",
                        value: b.propagation.clone(),
                        target: v.target.clone(),
                    })?;
                    m.propagation = Some(p);
                }
                if !b.selinux.is_empty() {
                    m.mode = b.selinux.clone();
                }
                if !b.recursive.is_empty() {
                    let r = match b.recursive.as_str() {
                        "enabled" => BindRecursive::Enabled,
                        "disabled" => BindRecursive::Disabled,
                        "writable" => BindRecursive::Writable,
                        "readonly" => BindRecursive::Readonly,
                        other => {
                            return Err(MountError::Option {
                                service: service.name.clone(),
                                what: "recursive",
                                value: other.to_owned(),
                                target: v.target.clone(),
                            });
                        }
                    };
                    m.bind.nonrecursive = r == BindRecursive::Disabled;
                    m.bind.recursive = Some(r);
                }
            }
            Ok(m)
        }
        MountKind::Tmpfs => {
            let mut m = blank(MountType::Tmpfs, SpecOrigin::Mount, v, raw);
            if let Some(t) = &v.tmpfs {
                m.tmpfs.size = t.size.filter(|s| *s > 0);
                m.tmpfs.mode = (t.mode != 0).then_some(t.mode);
            }
            Ok(m)
        }
        MountKind::Image => {
            // As `--mount type=image`: read-only, the image's tree (or a subpath of it).
            let mut m = blank(MountType::Image, SpecOrigin::Mount, v, raw);
            m.source = Some(v.source.clone());
            m.read_only = true;
            m.image.subpath = v.image.as_ref().map(|i| i.subpath.clone()).filter(|s| !s.is_empty());
            Ok(m)
        }
        other => Err(MountError::UnsupportedType { service: service.name.clone(), kind: other.as_str() }),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use super::*;
    use crate::compose::{LoadOptions, Warnings, load};

    fn project(src: &str) -> Project {
        let opts = LoadOptions {
            files: vec![PathBuf::from("-")],
            cwd: PathBuf::from("/srv/app"),
            environ: BTreeMap::new(),
            stdin: Some(src.to_owned()),
            home: Some(PathBuf::from("/home/u")),
            ..LoadOptions::default()
        };
        load(&opts, &mut Warnings::default()).unwrap()
    }

    #[test]
    fn service_volumes_become_mount_specs() {
        let p = project(
            "services:\n  web:\n    image: x\n    tmpfs: [/run]\n    volumes:\n      - logs:/logs:ro\n      - ./conf:/etc/app:z,rshared\n      - /anon\n      - type: tmpfs\n        target: /cache\n        tmpfs: {size: 64m, mode: 01777}\n      - type: volume\n        source: logs\n        target: /sub\n        volume: {subpath: a/b, nocopy: true}\n      - type: bind\n        source: /strict\n        target: /strict\n        bind: {recursive: disabled}\nvolumes:\n  logs:\n    driver_opts: {type: tmpfs, device: tmpfs}\n",
        );
        let m = service_mounts(&p, &p.services["web"]).unwrap();
        assert_eq!(m.len(), 7);
        assert_eq!(
            (m[0].kind, m[0].source.as_deref(), m[0].target.as_str(), m[0].read_only),
            (MountType::Volume, Some("app_logs"), "/logs", true)
        );
        assert_eq!(m[0].volume.opts.get("type").map(String::as_str), Some("tmpfs"));
        assert_eq!(
            (m[1].kind, m[1].source.as_deref(), m[1].mode.as_str()),
            (MountType::Bind, Some("/srv/app/conf"), "z")
        );
        assert_eq!(
            (m[1].propagation, m[1].origin, m[1].bind.create_src),
            (Some(Propagation::Rshared), SpecOrigin::Volume, true)
        );
        assert!(m[2].is_anonymous());
        assert_eq!((m[3].kind, m[3].tmpfs.size, m[3].tmpfs.mode), (MountType::Tmpfs, Some(64 << 20), Some(0o1777)));
        assert_eq!((m[4].volume.subpath.as_deref(), m[4].volume.nocopy), (Some("a/b"), true));
        assert_eq!((m[5].origin, m[5].bind.create_src, m[5].bind.nonrecursive), (SpecOrigin::Mount, false, true));
        assert_eq!((m[6].kind, m[6].target.as_str(), m[6].origin), (MountType::Tmpfs, "/run", SpecOrigin::Tmpfs));
    }

    #[test]
    fn image_mounts_are_read_only_image_specs() {
        let p = project(
            "services:\n  web:\n    image: x\n    volumes:\n      - type: image\n        source: alpine\n        target: /i\n        image: {subpath: etc}\n",
        );
        let m = service_mounts(&p, &p.services["web"]).unwrap();
        assert_eq!(
            (m[0].kind, m[0].source.as_deref(), m[0].read_only, m[0].image.subpath.as_deref()),
            (MountType::Image, Some("alpine"), true, Some("etc"))
        );
    }
}
