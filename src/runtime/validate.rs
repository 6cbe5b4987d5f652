//! What the runtime refuses before it starts: an [`Exec`] with a bad process, mount or
//! layer list ([`validate`]), and a rootfs that is not a directory ([`check_rootfs`]).

use std::io;
use std::path::{Path, PathBuf};

use thiserror::Error;

use super::{Exec, MountRef, resolve};
use crate::text::errno_text;

/// An [`Exec`] the runtime refuses: what is wrong, in Docker's words where it has some.
#[derive(Debug, Error)]
#[error("{0}")]
pub struct Invalid(pub String);

/// Why a root filesystem cannot be used.
#[derive(Debug, Error)]
pub enum RootfsError {
    #[error("invalid rootfs {}: not a directory", crate::text::echo_path(path))]
    NotADirectory { path: PathBuf },
    #[error("invalid rootfs {}: {}", crate::text::echo_path(path), errno_text(source))]
    Unusable {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// Check that `rootfs` is a directory (following symlinks, as the overlay will).
pub fn check_rootfs(rootfs: &Path) -> Result<(), RootfsError> {
    match std::fs::metadata(rootfs) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(RootfsError::NotADirectory { path: rootfs.to_owned() }),
        Err(source) => Err(RootfsError::Unusable { path: rootfs.to_owned(), source }),
    }
}

/// Check an [`Exec`] before anything is created, lexically (the rootfs itself is
/// [`check_rootfs`]'s): an absolute rootfs, a command, `KEY=VALUE` environment entries, an
/// absolute working directory and mount targets without `..` (targets not `/`), absolute bind
/// sources, subpaths inside their source, a sane hostname, and no NUL byte anywhere.
pub fn validate(exec: &Exec<'_>) -> Result<(), Invalid> {
    let bad = |m: String| Err(Invalid(m));
    if !exec.rootfs.is_absolute() {
        return bad(format!("rootfs {:?} must be an absolute path", exec.rootfs));
    }
    if let Some(image) = &exec.image {
        check_layers(image.name, image.layers)?;
    }
    if let Some(u) = &exec.process.user_in_image {
        no_nul_in("user", u)?;
    }
    let p = exec.process;
    if p.command.is_empty() || p.command[0].is_empty() {
        return bad("no command specified".to_owned());
    }
    let no_nul = no_nul_in;
    for a in &p.command {
        no_nul("argument", a)?;
    }
    for e in &p.env {
        no_nul("environment entry", e)?;
        if !e.contains('=') || e.starts_with('=') {
            return bad(format!("environment entry {e:?} is not KEY=VALUE"));
        }
    }
    if let Some(w) = &p.workdir {
        no_nul("working directory", w)?;
        if !w.starts_with('/') {
            return bad(format!("the working directory '{w}' is invalid, it needs to be an absolute path"));
        }
        if resolve::components(w).is_err() {
            return bad(format!("the working directory '{w}' must not contain '..'"));
        }
    }
    if let Some(h) = &p.hostname {
        no_nul("hostname", h)?;
        // The kernel's HOST_NAME_MAX, in the words Docker's daemon uses for it; any other
        // byte is the kernel's to take (`-h a/b` works in Docker).
        if h.len() > 64 {
            return bad(format!("hostname {h:?} is too long (maximum 64 bytes)"));
        }
        if h.is_empty() {
            return bad("invalid hostname \"\"".to_owned());
        }
    }
    for &m in &exec.mounts {
        let t = m.target();
        no_nul("mount target", t)?;
        if !t.starts_with('/') {
            return bad(format!("invalid mount path: '{t}' mount path must be absolute"));
        }
        match resolve::components(t) {
            Err(_) => return bad(format!("invalid mount path: '{t}' must not contain '..'")),
            Ok(c) if c.is_empty() => return bad("invalid specification: destination can't be '/'".to_owned()),
            Ok(_) => {}
        }
        match m {
            MountRef::Bind(b) => {
                if !b.source.is_absolute() {
                    return bad(format!("invalid mount path: '{}' mount path must be absolute", b.source.display()));
                }
                if let Some(s) = &b.subpath {
                    no_nul("subpath", s)?;
                    if s.starts_with('/') || s.split('/').any(|c| c == "..") {
                        return bad("subpath must be a relative path within the volume".to_owned());
                    }
                }
            }
            MountRef::Tmpfs(t) => no_nul("tmpfs options", &t.data)?,
            MountRef::Image(i) => {
                check_layers(&i.image, &i.layers)?;
                if let Some(s) = &i.subpath {
                    no_nul("subpath", s)?;
                    if s.starts_with('/') || s.split('/').any(|c| c == "..") {
                        return bad("subpath must be a relative path within the volume".to_owned());
                    }
                }
            }
        }
    }
    Ok(())
}

fn no_nul_in(what: &str, s: &str) -> Result<(), Invalid> {
    if s.contains('\0') { Err(Invalid(format!("{what} {s:?} contains a NUL byte"))) } else { Ok(()) }
}

/// An image's layers: at least one, each an absolute path.
fn check_layers(image: &str, layers: &[PathBuf]) -> Result<(), Invalid> {
    if layers.is_empty() {
        return Err(Invalid(format!("image {}: it has no layers", crate::text::echo(image))));
    }
    for l in layers {
        if !l.is_absolute() {
            return Err(Invalid(format!("image layer {:?} must be an absolute path", l)));
        }
    }
    Ok(())
}
