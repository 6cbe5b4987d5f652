//! The ids an image run's named user will have, known before the run starts, for podman's
//! `U` refusal message: the user is resolved inside the run (in the mounted root), but its
//! `/etc/passwd` and `/etc/group` are already in the image's layers.

use std::ffi::OsStr;
use std::io;
use std::os::fd::AsFd;
use std::path::PathBuf;

use crate::fsutil;
use crate::runtime::user;

/// The `uid:gid` that `-u NAME[:GROUP]` (or the image's `User`) resolves to against the
/// image's layers (`layers`, top first), as the run will resolve it; `None` when it cannot be
/// told here (no such user, or files the layers do not hold as plain files).
pub fn ids_in_layers(layers: &[PathBuf], spec: &str) -> Option<(u32, u32)> {
    let passwd = user::parse_passwd(&top_file(layers, "etc/passwd")?);
    let groups = user::parse_group(&top_file(layers, "etc/group")?);
    user::resolve(Some(spec), &passwd, &groups).ok().map(|u| (u.uid, u.gid))
}

/// The text of `path` in the topmost layer that has it: `Some("")` when no layer does (a
/// missing file reads as empty), `None` when the topmost entry is not a plain file beneath the
/// layer (a whiteout, a symlink, a directory) or cannot be read.
fn top_file(layers: &[PathBuf], path: &str) -> Option<String> {
    for layer in layers {
        let Ok(dir) = std::fs::File::open(layer) else { return None };
        match fsutil::read_small_file(dir.as_fd(), OsStr::new(path)) {
            Ok(bytes) => return Some(String::from_utf8_lossy(&bytes).into_owned()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(_) => return None,
        }
    }
    Some(String::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_named_user_is_found_in_the_topmost_layer_that_has_the_files() {
        let t = tempfile::tempdir().unwrap();
        let (top, base) = (t.path().join("top"), t.path().join("base"));
        for l in [&top, &base] {
            std::fs::create_dir_all(l.join("etc")).unwrap();
        }
        std::fs::write(base.join("etc/passwd"), "root:x:0:0::/root:/bin/sh\napp:x:5:5::/:\n").unwrap();
        std::fs::write(base.join("etc/group"), "root:x:0:\nstaff:x:50:\n").unwrap();
        std::fs::write(top.join("etc/passwd"), "root:x:0:0::/root:/bin/sh\napp:x:1234:4321::/:\n").unwrap();
        let layers = [top.clone(), base.clone()];
        assert_eq!(ids_in_layers(&layers, "app"), Some((1234, 4321)), "the top layer's passwd wins");
        assert_eq!(ids_in_layers(&layers, "app:staff"), Some((1234, 50)), "the group from the lower layer");
        assert_eq!(ids_in_layers(&layers, "7:8"), Some((7, 8)));
        assert_eq!(ids_in_layers(&layers, "nobody"), None);
        assert_eq!(ids_in_layers(std::slice::from_ref(&base), "app"), Some((5, 5)));
        // A symlinked passwd is not followed out of its layer: not told here.
        std::fs::remove_file(top.join("etc/passwd")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", top.join("etc/passwd")).unwrap();
        assert_eq!(ids_in_layers(&layers, "app"), None);
    }
}
