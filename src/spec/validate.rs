//! The daemon's common validation (moby `validateMountConfigImpl`, Linux), run on a mount
//! shaped like Docker's API `mount.Mount`, where an option group is present or absent as a
//! whole (that presence, not the values, is what the "must not be specified" rules test).

use std::collections::BTreeMap;

use super::error::{ConfigDetail, MountConfigError};
use super::path::{clean_path, is_abs, is_local};
use super::{
    BindOptions, BindRecursive, ImageOptions, MountSpec, MountType, Propagation, SpecOrigin, TmpfsOptions,
    VolumeOptions,
};

/// `mount.BindOptions`.
#[derive(Debug, Default, Clone)]
pub(crate) struct RawBind {
    /// Lower-cased, unvalidated until the daemon step.
    pub propagation: String,
    pub nonrecursive: bool,
    pub readonly_nonrecursive: bool,
    pub readonly_force_recursive: bool,
    pub create_mountpoint: bool,
}

/// `mount.VolumeOptions`.
#[derive(Debug, Default, Clone)]
pub(crate) struct RawVolume {
    pub nocopy: bool,
    pub subpath: String,
    pub driver: String,
    pub labels: BTreeMap<String, String>,
    pub opts: BTreeMap<String, String>,
}

/// `mount.TmpfsOptions`.
#[derive(Debug, Default, Clone)]
pub(crate) struct RawTmpfs {
    pub size: u64,
    pub mode: u32,
}

/// `mount.Mount`.
#[derive(Debug, Default, Clone)]
pub(crate) struct RawMount {
    /// The type as given, lower-cased (`bind`, `volume`, `tmpfs`, or anything).
    pub kind: String,
    pub source: String,
    pub target: String,
    pub read_only: bool,
    pub consistency: String,
    pub bind: Option<RawBind>,
    pub volume: Option<RawVolume>,
    pub image_subpath: Option<String>,
    pub tmpfs: Option<RawTmpfs>,
    /// `bind-recursive=` as last given (Docker keeps only its flags).
    pub recursive: Option<BindRecursive>,
    /// podman's `U`: chown the source to the run's user.
    pub chown: bool,
}

impl RawMount {
    fn err(&self, detail: ConfigDetail) -> MountConfigError {
        MountConfigError { kind: self.kind.clone(), detail }
    }

    fn extra(&self, checks: &[(bool, &'static str)]) -> Result<(), MountConfigError> {
        match checks.iter().find(|(present, _)| *present) {
            Some((_, name)) => Err(self.err(ConfigDetail::ExtraField(name))),
            None => Ok(()),
        }
    }

    /// The daemon's validation, without the bind-source-exists check.
    pub fn validate(&self) -> Result<(), MountConfigError> {
        validate_target(&self.target).map_err(|d| self.err(d))?;
        let (b, v, i, t) =
            (self.bind.is_some(), self.volume.is_some(), self.image_subpath.is_some(), self.tmpfs.is_some());
        match self.kind.as_str() {
            "bind" => {
                if self.source.is_empty() {
                    return Err(self.err(ConfigDetail::MissingField("Source")));
                }
                if let Some(bind) = &self.bind {
                    let p = &bind.propagation;
                    if !p.is_empty() && p.parse::<Propagation>().is_err() {
                        return Err(self.err(ConfigDetail::InvalidPropagation(p.clone())));
                    }
                }
                self.extra(&[(v, "VolumeOptions"), (i, "ImageOptions"), (t, "TmpfsOptions")])?;
                let src = self.source.replace('\\', "/");
                if !is_abs(&src) {
                    return Err(self.err(ConfigDetail::NotAbsolute(src)));
                }
            }
            "volume" => {
                self.extra(&[(b, "BindOptions"), (i, "ImageOptions"), (t, "TmpfsOptions")])?;
                if let Some(vol) = &self.volume
                    && !vol.subpath.is_empty()
                {
                    if self.source.is_empty() {
                        return Err(self.err(ConfigDetail::AnonymousSubpath));
                    }
                    if !is_local(&vol.subpath) {
                        return Err(self.err(ConfigDetail::InvalidSubpath));
                    }
                }
            }
            "tmpfs" => {
                self.extra(&[(b, "BindOptions"), (v, "VolumeOptions"), (i, "ImageOptions")])?;
                if !self.source.is_empty() {
                    return Err(self.err(ConfigDetail::ExtraField("Source")));
                }
            }
            "image" => {
                self.extra(&[(b, "BindOptions"), (v, "VolumeOptions"), (t, "TmpfsOptions")])?;
                if self.source.is_empty() {
                    return Err(self.err(ConfigDetail::MissingField("Source")));
                }
                if let Some(sub) = &self.image_subpath
                    && !sub.is_empty()
                    && !is_local(sub)
                {
                    return Err(self.err(ConfigDetail::InvalidSubpath));
                }
            }
            _ => return Err(self.err(ConfigDetail::UnknownType)),
        }
        Ok(())
    }

    /// Validate, then build the typed spec (`Destination` and bind `Source` cleaned, as the
    /// daemon's `parseMountSpec` does).
    pub fn into_spec(self, origin: SpecOrigin, raw: &str, mode: &str) -> Result<MountSpec, MountConfigError> {
        self.validate()?;
        let kind = match self.kind.as_str() {
            "bind" => MountType::Bind,
            "volume" => MountType::Volume,
            "tmpfs" => MountType::Tmpfs,
            "image" => MountType::Image,
            // validate() rejects every other type.
            _ => return Err(self.err(ConfigDetail::UnknownType)),
        };
        let mut spec = MountSpec::new(origin, kind, rooted(&self.target), raw);
        spec.read_only = self.read_only;
        spec.mode = mode.to_owned();
        spec.chown = self.chown;
        spec.consistency = (!self.consistency.is_empty()).then(|| self.consistency.clone());
        match kind {
            MountType::Bind => {
                spec.source = Some(rooted(&self.source));
                let bind = self.bind.clone().unwrap_or_default();
                spec.propagation = bind.propagation.parse().ok();
                spec.bind = BindOptions {
                    nonrecursive: bind.nonrecursive,
                    recursive: self.recursive,
                    create_src: bind.create_mountpoint,
                };
            }
            MountType::Volume => {
                spec.source = (!self.source.is_empty()).then(|| self.source.clone());
                let vol = self.volume.clone().unwrap_or_default();
                spec.volume = VolumeOptions {
                    nocopy: vol.nocopy,
                    subpath: (!vol.subpath.is_empty()).then_some(vol.subpath),
                    driver: (!vol.driver.is_empty()).then_some(vol.driver),
                    labels: vol.labels,
                    opts: vol.opts,
                };
            }
            MountType::Tmpfs => {
                let t = self.tmpfs.clone().unwrap_or_default();
                spec.tmpfs = TmpfsOptions {
                    size: (t.size != 0).then_some(t.size),
                    mode: (t.mode != 0).then_some(t.mode),
                    options: Vec::new(),
                };
            }
            MountType::Image => {
                spec.source = Some(self.source.clone());
                // Docker mounts an image read-only, whatever `readonly` says.
                spec.read_only = true;
                spec.image = ImageOptions { subpath: self.image_subpath.clone().filter(|s| !s.is_empty()) };
            }
        }
        Ok(spec)
    }
}

/// `path.Clean` of a path that passed the absolute check. moby checks with backslashes read
/// as slashes but keeps the path as given, so `\x` passes and ends up at `/\x` below the
/// root it is resolved against; this makes that explicit, so the result is always absolute.
pub(crate) fn rooted(p: &str) -> String {
    if is_abs(p) { clean_path(p) } else { clean_path(&format!("/{p}")) }
}

/// `validateMountTarget` (and `ValidateTmpfsMountDestination`): present, not `/` after
/// cleaning, absolute. Backslashes count as slashes, as in moby.
pub(crate) fn validate_target(target: &str) -> Result<(), ConfigDetail> {
    if target.is_empty() {
        return Err(ConfigDetail::MissingField("Target"));
    }
    validate_dest(target)
}

/// The not-root and absolute checks alone (the `--tmpfs` destination check has no
/// empty-field case: an empty destination is simply not absolute).
pub(crate) fn validate_dest(target: &str) -> Result<(), ConfigDetail> {
    let slashed = target.replace('\\', "/");
    if clean_path(&slashed) == "/" {
        return Err(ConfigDetail::TargetIsRoot);
    }
    if !is_abs(&slashed) {
        return Err(ConfigDetail::NotAbsolute(slashed));
    }
    // moby checks the backslash-as-slash form only; the path myvol mounts on is the target
    // as given, made absolute and cleaned (`rooted`), and that one must not be the root
    // either: `/a\b/..` and `\a\b/..` both become `/` (the second is absolute only with
    // its backslashes read as slashes, where it cleans to `/a`).
    if rooted(target) == "/" {
        return Err(ConfigDetail::TargetIsRoot);
    }
    Ok(())
}
