#![no_main]

use libfuzzer_sys::fuzz_target;
use myvol::spec::{clean_path, parse_tmpfs, parse_tmpfs_options, ram_in_bytes};

fuzz_target!(|data: &str| {
    if let Ok(spec) = parse_tmpfs(data) {
        assert!(spec.target.starts_with('/') && spec.target != "/");
        assert_eq!(clean_path(&spec.target), spec.target);
        assert!(parse_tmpfs_options(&spec.tmpfs_options()).is_ok());
    }
    let opts: Vec<String> = data.split(',').map(str::to_owned).collect();
    let _ = parse_tmpfs_options(&opts);
    let _ = ram_in_bytes(data);
});
