//! The daemon's validation on API-shaped mounts: moby `validate_test.go` `TestValidateMount`.

use crate::spec::validate::{RawBind, RawMount, RawTmpfs, RawVolume};

fn raw(kind: &str, source: &str, target: &str) -> RawMount {
    RawMount { kind: kind.into(), source: source.into(), target: target.into(), ..RawMount::default() }
}
fn with_bind(mut r: RawMount) -> RawMount {
    r.bind = Some(RawBind::default());
    r
}
fn with_volume(mut r: RawMount, subpath: &str) -> RawMount {
    r.volume = Some(RawVolume { subpath: subpath.into(), ..RawVolume::default() });
    r
}
fn with_tmpfs(mut r: RawMount) -> RawMount {
    r.tmpfs = Some(RawTmpfs::default());
    r
}
fn with_image(mut r: RawMount, subpath: &str) -> RawMount {
    r.image_subpath = Some(subpath.into());
    r
}
fn check(r: RawMount) -> String {
    match r.validate() {
        Ok(()) => "ok".into(),
        Err(e) => e.detail.to_string(),
    }
}

macro_rules! validate {
    ($($name:ident: $raw:expr => $want:expr;)*) => {$(
        #[test]
        fn $name() {
            assert_eq!(check($raw), $want);
        }
    )*};
}

validate! {
    val_volume_no_target: raw("volume", "", "") => "field Target must not be empty"; // TestValidateMount
    val_volume_named: raw("volume", "hello", "/foo") => "ok"; // TestValidateMount
    val_volume_anonymous: raw("volume", "", "/foo") => "ok"; // TestValidateMount
    val_volume_subpath: with_volume(raw("volume", "hello", "/foo"), "world") => "ok"; // TestValidateMount
    val_volume_bind_opts: with_bind(raw("volume", "hello", "/foo")) => "field BindOptions must not be specified"; // TestValidateMount
    val_bind_no_target: raw("bind", "", "") => "field Target must not be empty"; // TestValidateMount
    val_bind_no_source: raw("bind", "", "/foo") => "field Source must not be empty"; // TestValidateMount
    val_bind_volume_opts: with_volume(raw("bind", "/src", "/foo"), "") => "field VolumeOptions must not be specified"; // TestValidateMount
    val_bind_ok: raw("bind", "/src", "/foo") => "ok"; // TestValidateMount (existence is the caller's check)
    val_invalid_type: raw("invalid", "", "/foo") => "mount type unknown"; // TestValidateMount
    val_image_no_target: raw("image", "", "") => "field Target must not be empty"; // TestValidateMount (image)
    val_image_no_source: raw("image", "", "/foo") => "field Source must not be empty"; // TestValidateMount (image)
    val_image_named: raw("image", "hello", "/foo") => "ok"; // TestValidateMount (image)
    val_image_subpath: with_image(raw("image", "hello", "/foo"), "world") => "ok"; // TestValidateMount (image)
    val_image_bind_opts: with_bind(raw("image", "hello", "/foo")) => "field BindOptions must not be specified"; // TestValidateMount (image)
    val_image_volume_opts: with_volume(raw("image", "hello", "/foo"), "") => "field VolumeOptions must not be specified"; // TestValidateMount (image)
    val_volume_image_opts: with_image(raw("volume", "hello", "/foo"), "") => "field ImageOptions must not be specified"; // TestValidateMount (image)
    val_bind_image_opts: with_image(raw("bind", "/src", "/foo"), "") => "field ImageOptions must not be specified"; // TestValidateMount (image)
    val_tmpfs_bind_opts: with_bind(raw("tmpfs", "", "/foo")) => "field BindOptions must not be specified";
    val_volume_tmpfs_opts: with_tmpfs(raw("volume", "v", "/foo")) => "field TmpfsOptions must not be specified";
    val_target_backslash_root: raw("volume", "", "\\") => "invalid specification: destination can't be '/'";
    val_target_backslash_rel: raw("volume", "", "a\\b") => "invalid mount path: 'a/b' mount path must be absolute";
}
