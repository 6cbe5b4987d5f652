//! `--tmpfs`, and tmpfs options: defaults, merging, and those `--mount` gives.

use super::*;

ok! {
    t_plain: t("/run") => "tmpfs - /run";
    t_options: t("/run:size=64m,exec") => "tmpfs - /run opts=size=64m,exec";
    t_ro: t("/run:ro,size=1m") => "tmpfs - /run ro opts=ro,size=1m";
    t_ro_then_rw: t("/run:ro,rw") => "tmpfs - /run opts=ro,rw";
    t_clean: t("/a/../b/") => "tmpfs - /b";
    t_empty_opts: t("/run:") => "tmpfs - /run";
    t_defaults_kw: t("/run:defaults,size=1m") => "tmpfs - /run opts=defaults,size=1m";
    t_all_data: t("/run:uid=1000,gid=1000,mode=1777,nr_inodes=10k,nr_blocks=5,mpol=default") => "tmpfs - /run opts=uid=1000,gid=1000,mode=1777,nr_inodes=10k,nr_blocks=5,mpol=default";
    t_colon_in_opts: t("/run:size=1m:x") => "tmpfs - /run opts=size=1m:x"; // mode accepts any value; the kernel judges
}
bad! {
    t_dot: t(".") => "invalid mount path: '.' mount path must be absolute";
    t_relative: t("run:size=1m") => "invalid mount path: 'run' mount path must be absolute";
    t_empty: t("") => "invalid mount path: '' mount path must be absolute";
    t_root: t("/") => "invalid specification: destination can't be '/'";
    t_double_root: t("//:size=1m") => "invalid specification: destination can't be '/'";
    t_backslash_root: t("/a\\b/..") => "invalid specification: destination can't be '/'";
    t_backslash_lead_root: t("\\a\\b/..") => "invalid specification: destination can't be '/'";
    t_backslash_newlines_root: t("\\\n\\\n/..") => "invalid specification: destination can't be '/'";
    t_bogus: t("/run:bogus") => "invalid tmpfs option [\"bogus\"]";
    t_unknown_key: t("/run:foo=1") => "invalid tmpfs option [\"foo\" \"1\"]";
    t_last_bad_first: t("/run:bogus,size=1m,other") => "invalid tmpfs option [\"other\"]";
    t_key_without_value: t("/run:size") => "invalid tmpfs option [\"size\"]";
    t_empty_option: t("/run:size=1m,") => "invalid tmpfs option [\"\"]";
    t_upper_flag: t("/run:RO") => "invalid tmpfs option [\"RO\"]";
}

#[test]
fn tmpfs_options_defaults() {
    let o = parse_tmpfs_options(&[]).unwrap();
    assert_eq!(o.options, ["noexec", "nosuid", "nodev", "rprivate"]);
    assert_eq!(o.flags, ms::NOEXEC | ms::NOSUID | ms::NODEV);
    assert_eq!(o.propagation, ms::PRIVATE | ms::REC);
    assert_eq!(o.data, "");
    assert!(!o.read_only);
}

#[test]
fn tmpfs_options_merge() {
    let opts: Vec<String> =
        ["size=1m", "exec", "ro", "size=2m", "rshared", "mode=1777"].iter().map(|s| s.to_string()).collect();
    let o = parse_tmpfs_options(&opts).unwrap();
    assert_eq!(o.options, ["nosuid", "nodev", "exec", "ro", "size=2m", "rshared", "mode=1777"]);
    assert_eq!(o.flags, ms::NOSUID | ms::NODEV | ms::RDONLY);
    assert_eq!(o.propagation, ms::SHARED | ms::REC);
    assert_eq!(o.data, "size=2m,mode=1777");
    assert!(o.read_only);
}

#[test]
fn tmpfs_options_from_mount() {
    // moby TestConvertTmpfsOptions: size=1m, mode=700, no ro; then ro alone.
    let a = m("type=tmpfs,dst=/x,tmpfs-size=1m,tmpfs-mode=700").unwrap();
    assert_eq!(a.tmpfs_options(), ["mode=700", "size=1m"]);
    let b = m("type=tmpfs,dst=/x,readonly").unwrap();
    assert_eq!(b.tmpfs_options(), ["ro"]);
    let c = m("type=tmpfs,dst=/x,tmpfs-size=1536").unwrap();
    assert_eq!(c.tmpfs_options(), ["size=1536"]);
    let d = m("type=tmpfs,dst=/x,tmpfs-size=2g").unwrap();
    assert_eq!(parse_tmpfs_options(&d.tmpfs_options()).unwrap().data, "size=2g");
    let e = t("/run:size=1m,ro").unwrap();
    assert_eq!(e.tmpfs_options(), ["size=1m", "ro"]);
    assert!(v("vol:/x").unwrap().tmpfs_options().is_empty());
}
