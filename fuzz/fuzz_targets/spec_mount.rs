#![no_main]

use libfuzzer_sys::fuzz_target;
use myvol::spec::{MountType, clean_path, parse_mount, parse_tmpfs_options};

fuzz_target!(|data: &str| {
    if let Ok(spec) = parse_mount(data, "/fuzz/cwd") {
        assert!(spec.target.starts_with('/') && spec.target != "/");
        assert_eq!(clean_path(&spec.target), spec.target);
        if spec.kind == MountType::Bind {
            assert!(spec.source.as_deref().is_some_and(|s| s.starts_with('/')));
        }
        if spec.kind == MountType::Tmpfs {
            // What --mount accepts for tmpfs, the tmpfs option merge must accept too.
            assert!(parse_tmpfs_options(&spec.tmpfs_options()).is_ok());
        }
    }
});
