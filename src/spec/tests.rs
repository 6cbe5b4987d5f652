//! Table tests for the mount-spec grammar: one line per case, accepted and rejected inputs
//! alike. A trailing comment names the upstream test a case mirrors:
//! moby `daemon/volume/mounts/linux_parser_test.go`, `validate_test.go`, `parser_test.go`;
//! docker/cli `opts/mount_test.go`; go-units `size_test.go`; Go `path` `cleantests`.
//! Where the upstream expectation differs (a daemon-only test that the CLI stage pre-empts,
//! an upstream-accepted input myvol refuses), the comment says so.

use super::validate::{RawBind, RawMount, RawTmpfs, RawVolume};
use super::*;
use crate::sys::ms;

const CWD: &str = "/work/dir";

fn v(s: &str) -> Result<MountSpec, SpecError> {
    parse_volume(s, CWD)
}
fn m(s: &str) -> Result<MountSpec, SpecError> {
    parse_mount(s, CWD)
}
fn t(s: &str) -> Result<MountSpec, SpecError> {
    parse_tmpfs(s)
}

/// One line describing a parsed spec: `KIND SOURCE|- TARGET` then the non-default fields.
fn summary(s: &MountSpec) -> String {
    let mut out = format!("{} {} {}", s.kind, s.source.as_deref().unwrap_or("-"), s.target);
    let mut add = |cond: bool, text: String| {
        if cond {
            out.push(' ');
            out.push_str(&text);
        }
    };
    add(s.read_only, "ro".into());
    add(s.chown, "chown".into());
    add(!s.mode.is_empty(), format!("mode={}", s.mode));
    add(s.propagation.is_some(), format!("prop={}", s.propagation.map_or("", |p| p.as_str())));
    add(s.consistency.is_some(), format!("cons={}", s.consistency.clone().unwrap_or_default()));
    add(s.bind.nonrecursive, "nonrec".into());
    add(s.bind.recursive.is_some(), format!("rec={}", s.bind.recursive.map_or("", |r| r.as_str())));
    add(s.bind.create_src, "create".into());
    add(s.volume.nocopy, "nocopy".into());
    add(s.volume.subpath.is_some(), format!("subpath={}", s.volume.subpath.clone().unwrap_or_default()));
    add(s.volume.driver.is_some(), format!("driver={}", s.volume.driver.clone().unwrap_or_default()));
    for (k, val) in &s.volume.labels {
        add(true, format!("label:{k}={val}"));
    }
    for (k, val) in &s.volume.opts {
        add(true, format!("opt:{k}={val}"));
    }
    add(s.tmpfs.size.is_some(), format!("size={}", s.tmpfs.size.unwrap_or_default()));
    add(s.tmpfs.mode.is_some(), format!("tmode={:o}", s.tmpfs.mode.unwrap_or_default()));
    add(!s.tmpfs.options.is_empty(), format!("opts={}", s.tmpfs.options.join(",")));
    add(s.image.subpath.is_some(), format!("image-subpath={}", s.image.subpath.clone().unwrap_or_default()));
    out
}

/// Accepted: `name: call => "summary";`
macro_rules! ok {
    ($($name:ident: $call:expr => $want:expr;)*) => {$(
        #[test]
        fn $name() {
            match $call {
                Ok(spec) => assert_eq!(summary(&spec), $want, "{}", stringify!($call)),
                Err(e) => panic!("{} rejected: {e}", stringify!($call)),
            }
        }
    )*};
}

/// Rejected, with the exact message: `name: call => "message";`
macro_rules! bad {
    ($($name:ident: $call:expr => $want:expr;)*) => {$(
        #[test]
        fn $name() {
            match $call {
                Ok(spec) => panic!("{} accepted: {spec:?}", stringify!($call)),
                Err(e) => assert_eq!(e.to_string(), $want, "{}", stringify!($call)),
            }
        }
    )*};
}

/// Rejected by the CLI's `--mount` parser: `name: "CSV" => "reason";` checks the whole
/// `invalid argument "CSV" for "--mount" flag: reason` line.
macro_rules! mflag {
    ($($name:ident: $csv:expr => $reason:expr;)*) => {$(
        #[test]
        fn $name() {
            match m($csv) {
                Ok(spec) => panic!("{:?} accepted: {spec:?}", $csv),
                Err(e) => {
                    assert_eq!(e.side(), Side::Cli, "{:?}", $csv);
                    assert_eq!(
                        e.to_string(),
                        format!("invalid argument {} for \"--mount\" flag: {}", crate::text::go_quote($csv), $reason)
                    );
                }
            }
        }
    )*};
}

// ---- -v: moby TestLinuxParseMountRaw, valid list ----
ok! {
    v_home: v("/home") => "volume - /home"; // TestLinuxParseMountRaw
    v_home_home: v("/home:/home") => "bind /home /home"; // TestLinuxParseMountRaw
    v_home_else: v("/home:/something/else") => "bind /home /something/else"; // TestLinuxParseMountRaw
    v_with_space: v("/with space") => "volume - /with space"; // TestLinuxParseMountRaw
    v_home_with_space: v("/home:/with space") => "bind /home /with space"; // TestLinuxParseMountRaw
    v_relative_named: v("relative:/absolute-path") => "volume relative /absolute-path"; // TestLinuxParseMountRaw
    v_named_ro: v("hostPath:/containerPath:ro") => "volume hostPath /containerPath ro mode=ro"; // TestLinuxParseMountRaw
    v_bind_rw: v("/hostPath:/containerPath:rw") => "bind /hostPath /containerPath mode=rw"; // TestLinuxParseMountRaw
    v_rw_ro_paths: v("/rw:/ro") => "bind /rw /ro"; // TestLinuxParseMountRaw
    v_shared: v("/hostPath:/containerPath:shared") => "bind /hostPath /containerPath mode=shared prop=shared"; // TestLinuxParseMountRaw
    v_rshared: v("/hostPath:/containerPath:rshared") => "bind /hostPath /containerPath mode=rshared prop=rshared"; // TestLinuxParseMountRaw
    v_slave: v("/hostPath:/containerPath:slave") => "bind /hostPath /containerPath mode=slave prop=slave"; // TestLinuxParseMountRaw
    v_rslave: v("/hostPath:/containerPath:rslave") => "bind /hostPath /containerPath mode=rslave prop=rslave"; // TestLinuxParseMountRaw
    v_private: v("/hostPath:/containerPath:private") => "bind /hostPath /containerPath mode=private prop=private"; // TestLinuxParseMountRaw
    v_rprivate: v("/hostPath:/containerPath:rprivate") => "bind /hostPath /containerPath mode=rprivate prop=rprivate"; // TestLinuxParseMountRaw
    v_ro_shared: v("/hostPath:/containerPath:ro,shared") => "bind /hostPath /containerPath ro mode=ro,shared prop=shared"; // TestLinuxParseMountRaw
    v_ro_slave: v("/hostPath:/containerPath:ro,slave") => "bind /hostPath /containerPath ro mode=ro,slave prop=slave"; // TestLinuxParseMountRaw
    v_ro_private: v("/hostPath:/containerPath:ro,private") => "bind /hostPath /containerPath ro mode=ro,private prop=private"; // TestLinuxParseMountRaw
    v_ro_z_shared: v("/hostPath:/containerPath:ro,z,shared") => "bind /hostPath /containerPath ro mode=ro,z,shared prop=shared"; // TestLinuxParseMountRaw
    v_ro_zz_slave: v("/hostPath:/containerPath:ro,Z,slave") => "bind /hostPath /containerPath ro mode=ro,Z,slave prop=slave"; // TestLinuxParseMountRaw
    v_zz_ro_slave: v("/hostPath:/containerPath:Z,ro,slave") => "bind /hostPath /containerPath ro mode=Z,ro,slave prop=slave"; // TestLinuxParseMountRaw
    v_slave_zz_ro: v("/hostPath:/containerPath:slave,Z,ro") => "bind /hostPath /containerPath ro mode=slave,Z,ro prop=slave"; // TestLinuxParseMountRaw
    v_zz_slave_ro: v("/hostPath:/containerPath:Z,slave,ro") => "bind /hostPath /containerPath ro mode=Z,slave,ro prop=slave"; // TestLinuxParseMountRaw
    v_slave_ro_zz: v("/hostPath:/containerPath:slave,ro,Z") => "bind /hostPath /containerPath ro mode=slave,ro,Z prop=slave"; // TestLinuxParseMountRaw
    v_rslave_ro_zz: v("/hostPath:/containerPath:rslave,ro,Z") => "bind /hostPath /containerPath ro mode=rslave,ro,Z prop=rslave"; // TestLinuxParseMountRaw
    v_ro_rshared_zz: v("/hostPath:/containerPath:ro,rshared,Z") => "bind /hostPath /containerPath ro mode=ro,rshared,Z prop=rshared"; // TestLinuxParseMountRaw
    v_ro_zz_rprivate: v("/hostPath:/containerPath:ro,Z,rprivate") => "bind /hostPath /containerPath ro mode=ro,Z,rprivate prop=rprivate"; // TestLinuxParseMountRaw
}

// ---- -v: moby TestLinuxParseMountRaw, invalid map (exact messages) ----
bad! {
    v_empty: v("") => "invalid empty volume spec"; // TestLinuxParseMountRaw "" (daemon: invalid volume specification; the CLI rejects first)
    v_dot_slash: v("./") => "invalid volume specification: './': invalid mount config for type \"volume\": invalid mount path: './' mount path must be absolute"; // TestLinuxParseMountRaw
    v_dotdot_slash: v("../") => "invalid volume specification: '../': invalid mount config for type \"volume\": invalid mount path: '../' mount path must be absolute"; // TestLinuxParseMountRaw
    v_root_dotdot: v("/:../") => "invalid volume specification: '/:../': invalid mount config for type \"bind\": invalid mount path: '../' mount path must be absolute"; // TestLinuxParseMountRaw
    v_root_path: v("/:path") => "invalid volume specification: '/:path': invalid mount config for type \"bind\": invalid mount path: 'path' mount path must be absolute"; // TestLinuxParseMountRaw
    v_colon: v(":") => "invalid volume specification: ':': invalid mount config for type \"volume\": invalid mount path: ':' mount path must be absolute"; // TestLinuxParseMountRaw
    v_tmp_colon: v("/tmp:") => "invalid spec: /tmp:: empty section between colons"; // TestLinuxParseMountRaw (CLI pre-empts the daemon's message)
    v_colon_test: v(":test") => "invalid spec: :test: empty section between colons"; // TestLinuxParseMountRaw (CLI)
    v_colon_abs_test: v(":/test") => "invalid spec: :/test: empty section between colons"; // TestLinuxParseMountRaw (CLI)
    v_tmp_rel_colon: v("tmp:") => "invalid spec: tmp:: empty section between colons"; // TestLinuxParseMountRaw (CLI)
    v_colon_test_colon: v(":test:") => "invalid spec: :test:: empty section between colons"; // TestLinuxParseMountRaw (CLI)
    v_two_colons: v("::") => "invalid volume specification: '::': invalid mount config for type \"volume\": invalid mount path: '::' mount path must be absolute"; // TestLinuxParseMountRaw
    v_three_colons: v(":::") => "invalid spec: :::: empty section between colons"; // TestLinuxParseMountRaw (CLI)
    v_tmp_three_colons: v("/tmp:::") => "invalid spec: /tmp:::: empty section between colons"; // TestLinuxParseMountRaw (CLI)
    v_colon_tmp_colons: v(":/tmp::") => "invalid spec: :/tmp::: empty section between colons"; // TestLinuxParseMountRaw (CLI)
    v_path_rw: v("/path:rw") => "invalid volume specification: '/path:rw'"; // TestLinuxParseMountRaw
    v_path_ro: v("/path:ro") => "invalid volume specification: '/path:ro'"; // TestLinuxParseMountRaw
    v_rw_rw: v("/rw:rw") => "invalid volume specification: '/rw:rw'"; // TestLinuxParseMountRaw
    v_relpath_ro: v("path:ro") => "invalid volume specification: 'path:ro'"; // TestLinuxParseMountRaw
    v_mode_sw: v("/path:/path:sw") => "invalid mode: sw"; // TestLinuxParseMountRaw
    v_mode_rwz: v("/path:/path:rwz") => "invalid mode: rwz"; // TestLinuxParseMountRaw
    v_two_props: v("/path:/path:ro,rshared,rslave") => "invalid mode: ro,rshared,rslave"; // TestLinuxParseMountRaw
    v_two_props_z: v("/path:/path:ro,z,rshared,rslave") => "invalid mode: ro,z,rshared,rslave"; // TestLinuxParseMountRaw
    v_path_shared: v("/path:shared") => "invalid volume specification: '/path:shared'"; // TestLinuxParseMountRaw
    v_path_slave: v("/path:slave") => "invalid volume specification: '/path:slave'"; // TestLinuxParseMountRaw
    v_path_private: v("/path:private") => "invalid volume specification: '/path:private'"; // TestLinuxParseMountRaw
    v_named_shared: v("name:/absolute-path:shared") => "invalid volume specification: 'name:/absolute-path:shared': invalid mount config for type \"volume\": field BindOptions must not be specified"; // TestLinuxParseMountRaw
    v_named_rshared: v("name:/absolute-path:rshared") => "invalid volume specification: 'name:/absolute-path:rshared': invalid mount config for type \"volume\": field BindOptions must not be specified"; // TestLinuxParseMountRaw
    v_named_slave: v("name:/absolute-path:slave") => "invalid volume specification: 'name:/absolute-path:slave': invalid mount config for type \"volume\": field BindOptions must not be specified"; // TestLinuxParseMountRaw
    v_named_rslave: v("name:/absolute-path:rslave") => "invalid volume specification: 'name:/absolute-path:rslave': invalid mount config for type \"volume\": field BindOptions must not be specified"; // TestLinuxParseMountRaw
    v_named_private: v("name:/absolute-path:private") => "invalid volume specification: 'name:/absolute-path:private': invalid mount config for type \"volume\": field BindOptions must not be specified"; // TestLinuxParseMountRaw
    v_named_rprivate: v("name:/absolute-path:rprivate") => "invalid volume specification: 'name:/absolute-path:rprivate': invalid mount config for type \"volume\": field BindOptions must not be specified"; // TestLinuxParseMountRaw
}

// ---- -v: moby TestLinuxParseMountRawSplit ----
ok! {
    split_tmp1: v("/tmp:/tmp1") => "bind /tmp /tmp1"; // TestLinuxParseMountRawSplit
    split_tmp2_ro: v("/tmp:/tmp2:ro") => "bind /tmp /tmp2 ro mode=ro"; // TestLinuxParseMountRawSplit
    split_tmp3_rw: v("/tmp:/tmp3:rw") => "bind /tmp /tmp3 mode=rw"; // TestLinuxParseMountRawSplit
    split_named1: v("name:/named1") => "volume name /named1"; // TestLinuxParseMountRawSplit
    split_named3_ro: v("name:/named3:ro") => "volume name /named3 ro mode=ro"; // TestLinuxParseMountRawSplit (driver "local" is the caller's --volume-driver)
    split_local_name: v("local/name:/tmp:rw") => "volume local/name /tmp mode=rw"; // TestLinuxParseMountRawSplit
}
bad! {
    split_tmp4_foo: v("/tmp:/tmp4:foo") => "invalid mode: foo"; // TestLinuxParseMountRawSplit
    split_tmp_rel: v("/tmp:tmp") => "invalid volume specification: '/tmp:tmp': invalid mount config for type \"bind\": invalid mount path: 'tmp' mount path must be absolute"; // TestLinuxParseMountRawSplit
}

// ---- -v: the rest of the grammar (docker-semantics §c) ----
ok! {
    v_clean_target: v("/tmp:/x/../y") => "bind /tmp /y";
    v_clean_source: v("/tmp/../etc//:/x/") => "bind /etc /x";
    v_dot_source: v("./foo:/x") => "bind /work/dir/foo /x";
    v_dotdot_source: v("../x:/y") => "bind /work/x /y";
    v_dot_alone: v(".:/y") => "bind /work/dir /y";
    v_hidden_source: v(".hidden:/y") => "bind /work/dir/.hidden /y";
    v_dot_clean: v("./a/../b:/y:ro") => "bind /work/dir/b /y ro mode=ro";
    v_tilde_is_volume: v("~/x:/y") => "volume ~/x /y";
    v_nocopy_volume: v("vol:/data:nocopy") => "volume vol /data mode=nocopy nocopy";
    v_z_volume: v("vol:/data:z") => "volume vol /data mode=z";
    v_zz_bind: v("/a:/b:Z") => "bind /a /b mode=Z";
    v_consistent: v("vol:/data:consistent") => "volume vol /data mode=consistent cons=consistent";
    v_cached: v("/a:/b:cached") => "bind /a /b mode=cached cons=cached";
    v_delegated: v("/a:/b:ro,delegated,z,rslave") => "bind /a /b ro mode=ro,delegated,z,rslave prop=rslave cons=delegated";
    v_all_classes: v("vol:/d:rw,Z,nocopy,cached") => "volume vol /d mode=rw,Z,nocopy,cached cons=cached nocopy";
    v_two_chars: v("/a") => "volume - /a";
    v_two_chars_colon: v("/:") => "volume - /:";
    v_anon_clean: v("/data/./x/") => "volume - /data/x";
}
bad! {
    v_too_many_colons: v("/a:/b:/c:/d") => "invalid spec: /a:/b:/c:/d: too many colons";
    v_too_many_trailing: v("/a:/b:ro:") => "invalid spec: /a:/b:ro:: too many colons";
    v_empty_mode: v("/a:/b:") => "invalid spec: /a:/b:: empty section between colons";
    v_empty_middle: v("ab::c") => "invalid spec: ab::c: empty section between colons";
    v_drive_then_empty: v("a::b") => "invalid mode: b"; // CLI: `a:` is a drive, so source `a:`, target `b`; daemon: mode `b`
    v_drive_four_parts: v("a:/b:/c:/d") => "invalid volume specification: 'a:/b:/c:/d'"; // CLI: 3 fields (drive), daemon: 4 parts
    v_drive_source: v("c:/foo:/bar") => "invalid mode: /bar";
    v_drive_one_field: v("x:/data") => "invalid volume specification: 'x:/data': invalid mount config for type \"volume\": invalid mount path: 'x:/data' mount path must be absolute"; // Docker: anonymous volume via Config.Volumes
    v_drive_in_target: v("/a:b:ro") => "invalid volume specification: '/a:b:ro': invalid mount config for type \"bind\": invalid mount path: 'b' mount path must be absolute";
    v_relpath_alone: v("relpath") => "invalid volume specification: 'relpath': invalid mount config for type \"volume\": invalid mount path: 'relpath' mount path must be absolute"; // Docker: accepted via Config.Volumes
    v_two_chars_rel: v("ab") => "invalid volume specification: 'ab': invalid mount config for type \"volume\": invalid mount path: 'ab' mount path must be absolute";
    v_dot_alone_anon: v(".") => "invalid volume specification: '.': invalid mount config for type \"volume\": invalid mount path: '.' mount path must be absolute";
    v_root_anon: v("/") => "invalid volume specification: '/': invalid mount config for type \"volume\": invalid specification: destination can't be '/'";
    v_root_target: v("/src:/") => "invalid volume specification: '/src:/': invalid mount config for type \"bind\": invalid specification: destination can't be '/'";
    v_root_target_double: v("vol://") => "invalid volume specification: 'vol://': invalid mount config for type \"volume\": invalid specification: destination can't be '/'";
    // Regression (found by the property test): a backslash component that `..` removes must not make `/` a target.
    v_root_target_backslash: v("/src:/a\\b/..") => "invalid volume specification: '/src:/a\\b/..': invalid mount config for type \"bind\": invalid specification: destination can't be '/'";
    v_root_anon_backslash: v("/a\\b/..") => "invalid volume specification: '/a\\b/..': invalid mount config for type \"volume\": invalid specification: destination can't be '/'";
    // Regression (found by the property test): absolute only with backslashes read as slashes, `/` once rooted.
    v_root_anon_backslash_lead: v("\\a\\b/..") => "invalid volume specification: '\\a\\b/..': invalid mount config for type \"volume\": invalid specification: destination can't be '/'";
    v_root_anon_backslash_newlines: v("\\\n\\\n/..") => "invalid volume specification: '\\\\n\\\\n/..': invalid mount config for type \"volume\": invalid specification: destination can't be '/'";
    v_root_target_backslash_lead: v("vol:\\a\\b/..") => "invalid volume specification: 'vol:\\a\\b/..': invalid mount config for type \"volume\": invalid specification: destination can't be '/'";
    v_relative_backslash_dotdot: v("a\\b/..") => "invalid volume specification: 'a\\b/..': invalid mount config for type \"volume\": invalid mount path: 'a/b/..' mount path must be absolute";
    v_mode_upper: v("/a:/b:RO") => "invalid mode: RO";
    v_mode_ro_rw: v("/a:/b:ro,rw") => "invalid mode: ro,rw";
    v_mode_z_zz: v("/a:/b:z,Z") => "invalid mode: z,Z";
    v_mode_nocopy_twice: v("vol:/b:nocopy,nocopy") => "invalid mode: nocopy,nocopy";
    v_mode_two_consistency: v("vol:/b:consistent,cached") => "invalid mode: consistent,cached";
    v_mode_trailing_comma: v("/a:/b:ro,") => "invalid mode: ro,";
    v_mode_unknown: v("name:/t:bogus") => "invalid mode: bogus"; // the CLI lets it through, the daemon does not
    v_nocopy_bind: v("/a:/b:nocopy") => "invalid volume specification: '/a:/b:nocopy': invalid mount config for type \"bind\": field VolumeOptions must not be specified";
    v_dot_source_mode_only: v("./x:rw") => "invalid volume specification: '/work/dir/x:rw'"; // the daemon sees the CLI's absolute source
    v_dot_source_bad_mode: v("./x:/y:bogus") => "invalid mode: bogus";
}

// ---- --mount: docker/cli opts/mount_test.go ----
ok! {
    m_relative_dot: m("type=bind,source=.,target=/target") => "bind /work/dir /target"; // TestMountRelative "Current path"
    m_relative_dot_slash: m("type=bind,source=./,target=/target") => "bind /work/dir /target"; // TestMountRelative "Current path with slash"
    m_relative_dotdot_slash: m("type=bind,source=../,target=/target") => "bind /work /target"; // TestMountRelative "Parent path with slash"
    m_relative_dotdot: m("type=bind,source=..,target=/target") => "bind /work /target"; // TestMountRelative "Parent path"
    m_alias_src_dst: m("type=bind,src=/source,dst=/target") => "bind /source /target"; // TestMountOptSourceTargetAliases
    m_alias_source_target: m("type=bind,source=/source,target=/target") => "bind /source /target"; // TestMountOptSourceTargetAliases
    m_alias_destination: m("type=bind,source=/source,destination=/target") => "bind /source /target"; // TestMountOptSourceTargetAliases
    m_bind_target_first: m("type=bind,target=/target,source=/source") => "bind /source /target"; // TestMountOptSetBindNoErrorBind
    m_bind_source_dst: m("type=bind,source=/source,dst=/target") => "bind /source /target"; // TestMountOptSetBindNoErrorBind
    m_bind_src_target: m("type=bind,src=/source,target=/target") => "bind /source /target"; // TestMountOptSetBindNoErrorBind
    m_volume_target_first: m("type=volume,target=/target,source=/source") => "volume /source /target"; // TestMountOptSetVolumeNoError (the local driver rejects the name later)
    m_volume_src_dst: m("type=volume,src=/source,dst=/target") => "volume /source /target"; // TestMountOptSetVolumeNoError
    m_volume_source_dst: m("type=volume,source=/source,dst=/target") => "volume /source /target"; // TestMountOptSetVolumeNoError
    m_volume_src_target: m("type=volume,src=/source,target=/target") => "volume /source /target"; // TestMountOptSetVolumeNoError
    m_default_type: m("target=/target,source=/foo") => "volume /foo /target"; // TestMountOptDefaultType
    m_ro_not_set: m("type=bind,target=/foo,source=/foo") => "bind /foo /foo"; // TestMountOptReadOnly "not set"
    m_ro_readonly: m("type=bind,target=/foo,source=/foo,readonly") => "bind /foo /foo ro"; // TestMountOptReadOnly
    m_ro_readonly_1: m("type=bind,target=/foo,source=/foo,readonly=1") => "bind /foo /foo ro"; // TestMountOptReadOnly
    m_ro_readonly_true: m("type=bind,target=/foo,source=/foo,readonly=true") => "bind /foo /foo ro"; // TestMountOptReadOnly
    m_ro_readonly_0: m("type=bind,target=/foo,source=/foo,readonly=0") => "bind /foo /foo"; // TestMountOptReadOnly
    m_ro_readonly_false: m("type=bind,target=/foo,source=/foo,readonly=false") => "bind /foo /foo"; // TestMountOptReadOnly
    m_ro_ro: m("type=bind,target=/foo,source=/foo,ro") => "bind /foo /foo ro"; // TestMountOptReadOnly
    m_ro_ro_1: m("type=bind,target=/foo,source=/foo,ro=1") => "bind /foo /foo ro"; // TestMountOptReadOnly
    m_ro_ro_true: m("type=bind,target=/foo,source=/foo,ro=true") => "bind /foo /foo ro"; // TestMountOptReadOnly
    m_ro_ro_0: m("type=bind,target=/foo,source=/foo,ro=0") => "bind /foo /foo"; // TestMountOptReadOnly
    m_ro_ro_false: m("type=bind,target=/foo,source=/foo,ro=false") => "bind /foo /foo"; // TestMountOptReadOnly
    m_ro_go_bools: m("type=bind,target=/foo,source=/foo,ro=T,readonly=False,ro=TRUE") => "bind /foo /foo ro"; // CLI 28 ParseBool
    m_nocopy_not_set: m("type=volume,target=/foo,source=foo") => "volume foo /foo"; // TestMountOptVolumeNoCopy "not set"
    m_nocopy_alone: m("type=volume,target=/foo,source=foo,volume-nocopy") => "volume foo /foo nocopy"; // TestMountOptVolumeNoCopy
    m_nocopy_1: m("type=volume,target=/foo,source=foo,volume-nocopy=1") => "volume foo /foo nocopy"; // TestMountOptVolumeNoCopy
    m_nocopy_true: m("type=volume,target=/foo,source=foo,volume-nocopy=true") => "volume foo /foo nocopy"; // TestMountOptVolumeNoCopy
    m_nocopy_0: m("type=volume,target=/foo,source=foo,volume-nocopy=0") => "volume foo /foo"; // TestMountOptVolumeNoCopy
    m_nocopy_false: m("type=volume,target=/foo,source=foo,volume-nocopy=false") => "volume foo /foo"; // TestMountOptVolumeNoCopy
    m_nocopy_anonymous: m("type=volume,target=/foo,volume-nocopy") => "volume - /foo nocopy"; // TestMountOptVolumeNoCopy (older)
    m_label_single: m("type=volume,target=/foo,volume-label=foo=foo-value") => "volume - /foo label:foo=foo-value"; // TestMountOptVolumeOptions
    m_label_multiple: m("type=volume,target=/foo,volume-label=foo=foo-value,volume-label=bar=bar-value") => "volume - /foo label:bar=bar-value label:foo=foo-value"; // TestMountOptVolumeOptions
    m_label_empty_values: m("type=volume,target=/foo,volume-label=foo=,volume-label=bar") => "volume - /foo label:bar= label:foo="; // TestMountOptVolumeOptions
    m_label_empty_key: m("type=volume,target=/foo,volume-label==foo-value") => "volume - /foo"; // TestMountOptVolumeOptions
    m_driver: m("type=volume,target=/foo,volume-driver=my-driver") => "volume - /foo driver=my-driver"; // TestMountOptVolumeOptions
    m_opt_single: m("type=volume,target=/foo,volume-opt=foo=foo-value") => "volume - /foo opt:foo=foo-value"; // TestMountOptVolumeOptions
    m_opt_multiple: m("type=volume,target=/foo,volume-opt=foo=foo-value,volume-opt=bar=bar-value") => "volume - /foo opt:bar=bar-value opt:foo=foo-value"; // TestMountOptVolumeOptions
    m_opt_empty_values: m("type=volume,target=/foo,volume-opt=foo=,volume-opt=bar") => "volume - /foo opt:bar= opt:foo="; // TestMountOptVolumeOptions
    m_opt_empty_key: m("type=volume,target=/foo,volume-opt==foo-value") => "volume - /foo"; // TestMountOptVolumeOptions
    m_label_and_opt: m("type=volume,volume-driver=my-driver,target=/foo,volume-label=foo=foo-value,volume-label=empty=,volume-opt=foo=foo-value,volume-opt=empty=") => "volume - /foo driver=my-driver label:empty= label:foo=foo-value opt:empty= opt:foo=foo-value"; // TestMountOptVolumeOptions
    m_tmpfs_1m_0700: m("type=tmpfs,target=/target,tmpfs-size=1m,tmpfs-mode=0700") => "tmpfs - /target size=1048576 tmode=700"; // TestMountOptSetTmpfsNoError
    m_tmpfs_1mb_700: m("type=tmpfs,target=/target,tmpfs-size=1MB,tmpfs-mode=700") => "tmpfs - /target size=1048576 tmode=700"; // TestMountOptSetTmpfsNoError
    m_rec_enabled: m("type=bind,source=/foo,target=/bar,bind-recursive=enabled") => "bind /foo /bar rec=enabled"; // TestMountOptSetBindRecursive "enabled"
    m_rec_disabled: m("type=bind,source=/foo,target=/bar,bind-recursive=disabled") => "bind /foo /bar nonrec rec=disabled"; // TestMountOptSetBindRecursive "disabled"
    m_rec_writable: m("type=bind,source=/foo,target=/bar,bind-recursive=writable,readonly") => "bind /foo /bar ro rec=writable"; // TestMountOptSetBindRecursive "writable"
    m_rec_readonly: m("type=bind,source=/foo,target=/bar,bind-recursive=readonly,readonly,bind-propagation=rprivate") => "bind /foo /bar ro prop=rprivate rec=readonly"; // TestMountOptSetBindRecursive "readonly"
    m_anon_read_only: m("type=volume,target=/data/anonymous-read-only-volume,readonly") => "volume - /data/anonymous-read-only-volume ro"; // moby TestLinuxValidateMounts "read-only"
    m_trailing_slashes: m("type=bind,src=/a/,dst=/b/") => "bind /a /b"; // moby TestParseMountSpec (trailing separators)
}
mflag! {
    mf_tmpfs_no_target: "type=tmpfs" => "target is required"; // TestMountOptErrors "missing tmpfs target"
    mf_bind_no_target: "type=bind" => "target is required"; // TestMountOptErrors "missing bind target"
    mf_volume_no_target: "type=volume,source=/foo" => "target is required"; // TestMountOptErrors "missing volume target"
    mf_bogus_key: "type=volume,target=/foo,bogus=foo" => "unexpected key 'bogus' in 'bogus=foo'"; // TestMountOptErrors "invalid key=value"
    mf_bogus_key_no_target: "type=volume,bogus=foo" => "unexpected key 'bogus' in 'bogus=foo'"; // TestMountOptSetErrorInvalidKey
    mf_leading_space_key: "type=volume, src=/foo,target=/foo" => "unexpected key ' src' in ' src=/foo'"; // TestMountOptErrors "leading whitespace"
    mf_trailing_space_key: "type=volume,src =/foo,target=/foo" => "unexpected key 'src ' in 'src =/foo'"; // TestMountOptErrors "trailing whitespace"
    mf_missing_value: "type=volume,target=/foo,bogus" => "invalid field 'bogus' must be a key=value pair"; // TestMountOptErrors "missing value"
    mf_missing_value_no_target: "type=volume,bogus" => "invalid field 'bogus' must be a key=value pair"; // TestMountOptSetErrorInvalidField
    mf_tmpfs_size_foo: "type=tmpfs,target=/foo,tmpfs-size=foo" => "invalid value for tmpfs-size: foo"; // TestMountOptErrors, TestMountOptSetTmpfsError
    mf_tmpfs_mode_foo: "type=tmpfs,target=/foo,tmpfs-mode=foo" => "invalid value for tmpfs-mode: foo"; // TestMountOptErrors, TestMountOptSetTmpfsError
    mf_mix_bind_volume: "type=volume,target=/foo,source=/foo,bind-propagation=rprivate" => "cannot mix 'bind-*' options with mount type 'volume'"; // TestMountOptErrors, TestMountOptTypeConflict
    mf_mix_volume_bind: "type=bind,target=/foo,source=/foo,volume-nocopy=true" => "cannot mix 'volume-*' options with mount type 'bind'"; // TestMountOptErrors, TestMountOptTypeConflict
    mf_readonly_empty: "type=bind,target=/foo,source=/foo,readonly=" => "invalid value for readonly: "; // TestMountOptReadOnly
    mf_readonly_space_true: "type=bind,target=/foo,source=/foo,readonly= true" => "invalid value for readonly:  true"; // TestMountOptReadOnly
    mf_readonly_no: "type=bind,target=/foo,source=/foo,readonly=no" => "invalid value for readonly: no"; // TestMountOptReadOnly
    mf_readonly_no_volume: "type=volume,readonly=no" => "invalid value for readonly: no"; // TestMountOptSetErrorInvalidReadOnly
    mf_readonly_invalid: "type=volume,readonly=invalid" => "invalid value for readonly: invalid"; // TestMountOptSetErrorInvalidReadOnly
    mf_nocopy_empty: "type=volume,target=/foo,source=foo,volume-nocopy=" => "invalid value for volume-nocopy: "; // TestMountOptVolumeNoCopy
    mf_nocopy_space_true: "type=volume,target=/foo,source=foo,volume-nocopy= true" => "invalid value for volume-nocopy:  true"; // TestMountOptVolumeNoCopy
    mf_nocopy_no: "type=volume,target=/foo,source=foo,volume-nocopy=no" => "invalid value for volume-nocopy: no"; // TestMountOptVolumeNoCopy
    mf_rec_writable_alone: "type=bind,source=/foo,target=/bar,bind-recursive=writable" => "option 'bind-recursive=writable' requires 'readonly' to be specified in conjunction"; // TestMountOptSetBindRecursive "writable"
    mf_rec_readonly_alone: "type=bind,source=/foo,target=/bar,bind-recursive=readonly" => "option 'bind-recursive=readonly' requires 'readonly' to be specified in conjunction"; // TestMountOptSetBindRecursive "readonly"
    mf_rec_readonly_no_prop: "type=bind,source=/foo,target=/bar,bind-recursive=readonly,readonly" => "option 'bind-recursive=readonly' requires 'bind-propagation=rprivate' to be specified in conjunction"; // TestMountOptSetBindRecursive "readonly"
}

// ---- --mount: the rest of the grammar (docker-semantics §c) ----
ok! {
    m_keys_case_insensitive: m("TYPE=BIND,SRC=/a,DST=/b") => "bind /a /b";
    m_prop_lowercased: m("type=bind,src=/a,dst=/b,bind-propagation=RSLAVE") => "bind /a /b prop=rslave";
    m_prop_empty: m("type=bind,src=/a,dst=/b,bind-propagation=") => "bind /a /b";
    m_consistency_any: m("type=bind,src=/a,dst=/b,consistency=bogus") => "bind /a /b cons=bogus";
    m_consistency_lower: m("type=volume,dst=/b,consistency=CACHED") => "volume - /b cons=cached";
    m_last_key_wins: m("type=bind,type=volume,src=v,dst=/x") => "volume v /x";
    m_last_target_wins: m("type=bind,src=/a,dst=/x,target=/y") => "bind /a /y";
    m_src_empty_anonymous: m("src=,dst=/x") => "volume - /x";
    m_values_verbatim: m("type=volume,src=MyVol,dst=/X") => "volume MyVol /X";
    m_quoted_comma: m("\"src=/a,b\",dst=/x,type=bind") => "bind /a,b /x";
    m_quoted_escaped_quote: m("type=bind,\"src=/a\"\"b\",dst=/x") => "bind /a\"b /x";
    m_newline_ends_record: m("type=bind,src=/a,dst=/x\ntype=volume") => "bind /a /x";
    m_leading_empty_lines: m("\n\r\ntype=bind,src=/a,dst=/x") => "bind /a /x";
    m_dot_source_clean: m("type=bind,src=./a/../b,dst=/x") => "bind /work/dir/b /x";
    m_dot_volume_source: m("type=volume,src=.v,dst=/x") => "volume /work/dir/.v /x";
    m_subpath: m("type=volume,src=v,dst=/x,volume-subpath=a/b") => "volume v /x subpath=a/b";
    m_subpath_dotdot_inside: m("type=volume,src=v,dst=/x,volume-subpath=a/../b") => "volume v /x subpath=a/../b";
    m_tmpfs_fraction: m("type=tmpfs,dst=/x,tmpfs-size=1.5g") => "tmpfs - /x size=1610612736";
    m_tmpfs_sticky: m("type=tmpfs,dst=/x,tmpfs-mode=1777") => "tmpfs - /x tmode=1777";
    m_tmpfs_zero: m("type=tmpfs,dst=/x,tmpfs-size=0,tmpfs-mode=0") => "tmpfs - /x";
    m_tmpfs_readonly: m("type=tmpfs,dst=/x,readonly") => "tmpfs - /x ro";
    m_rec_enabled_on_volume: m("type=volume,dst=/x,bind-recursive=enabled") => "volume - /x"; // creates no BindOptions
    m_nonrecursive_alone: m("type=bind,src=/a,dst=/b,bind-nonrecursive") => "bind /a /b nonrec";
    m_nonrecursive_false: m("type=bind,src=/a,dst=/b,bind-nonrecursive=false") => "bind /a /b";
    m_create_src: m("type=bind,src=/a,dst=/b,bind-create-src") => "bind /a /b create";
    m_backslash_target: m("type=bind,src=\\a,dst=\\x") => "bind /\\a /\\x"; // passes moby's check as `/x`, lands at `/\x`
    m_create_src_value: m("type=bind,src=/a,dst=/b,bind-create-src=1") => "bind /a /b create";
}
mflag! {
    mf_empty: "" => "EOF";
    mf_only_newlines: "\n\n" => "EOF";
    mf_bare_quote: "type=bind,src=/a\"b,dst=/x" => "parse error on line 1, column 17: bare \" in non-quoted-field";
    mf_extraneous_quote: "\"src=/a\"x,dst=/x" => "parse error on line 1, column 8: extraneous or missing \" in quoted-field";
    mf_unterminated_quote: "\"src=/a" => "parse error on line 1, column 8: extraneous or missing \" in quoted-field";
    mf_unterminated_multiline: "\"src=/a\nb" => "record on line 1; parse error on line 2, column 2: extraneous or missing \" in quoted-field";
    mf_empty_field: "," => "invalid field '' must be a key=value pair";
    mf_type_alone: "type" => "invalid field 'type' must be a key=value pair";
    mf_type_empty: "type=,dst=/x" => "type is required";
    mf_ro_upper_value: "RO=x" => "invalid value for ro: x";
    mf_tmpfs_size_negative: "type=tmpfs,dst=/x,tmpfs-size=-1" => "invalid value for tmpfs-size: -1";
    mf_tmpfs_mode_eight: "type=tmpfs,dst=/x,tmpfs-mode=8" => "invalid value for tmpfs-mode: 8";
    mf_tmpfs_mode_prefix: "type=tmpfs,dst=/x,tmpfs-mode=0o700" => "invalid value for tmpfs-mode: 0o700";
    mf_tmpfs_mode_too_big: "type=tmpfs,dst=/x,tmpfs-mode=77777777777" => "invalid value for tmpfs-mode: 77777777777";
    mf_mix_volume_tmpfs: "type=tmpfs,dst=/x,volume-nocopy" => "cannot mix 'volume-*' options with mount type 'tmpfs'";
    mf_mix_tmpfs_volume: "type=volume,dst=/x,tmpfs-size=1m" => "cannot mix 'tmpfs-*' options with mount type 'volume'";
    mf_mix_image_bind: "type=bind,src=/a,dst=/b,image-subpath=x" => "cannot mix 'image-*' options with mount type 'bind'";
    mf_mix_bind_tmpfs: "type=tmpfs,dst=/x,bind-nonrecursive" => "cannot mix 'bind-*' options with mount type 'tmpfs'";
    mf_rec_bogus: "type=bind,src=/a,dst=/b,bind-recursive=bogus" => "invalid value for bind-recursive: bogus (must be \"enabled\", \"disabled\", \"writable\", or \"readonly\")";
    mf_rec_case: "type=bind,src=/a,dst=/b,bind-recursive=Enabled" => "invalid value for bind-recursive: Enabled (must be \"enabled\", \"disabled\", \"writable\", or \"readonly\")";
    mf_nonrecursive_bad: "type=bind,src=/a,dst=/b,bind-nonrecursive=maybe" => "invalid value for bind-nonrecursive: maybe";
    mf_bool_yes: "type=bind,src=/a,dst=/b,ro=yes" => "invalid value for ro: yes";
}
bad! {
    m_daemon_prop_bogus: m("type=bind,src=/a,dst=/b,bind-propagation=bogus") => "invalid mount config for type \"bind\": invalid propagation mode: bogus";
    m_daemon_bind_no_source: m("type=bind,dst=/x") => "invalid mount config for type \"bind\": field Source must not be empty"; // validate_test TestValidateMount
    m_daemon_bind_no_source_bad_prop: m("type=bind,dst=/x,bind-propagation=bogus") => "invalid mount config for type \"bind\": field Source must not be empty";
    m_daemon_bind_relative: m("type=bind,src=rel,dst=/x") => "invalid mount config for type \"bind\": invalid mount path: 'rel' mount path must be absolute";
    m_daemon_target_root: m("type=volume,src=v,dst=/") => "invalid mount config for type \"volume\": invalid specification: destination can't be '/'";
    m_daemon_target_double_root: m("type=volume,src=v,dst=//") => "invalid mount config for type \"volume\": invalid specification: destination can't be '/'";
    m_daemon_target_backslash_root: m("type=volume,src=v,dst=/a\\b/..") => "invalid mount config for type \"volume\": invalid specification: destination can't be '/'";
    m_daemon_target_backslash_lead_root: m("type=volume,src=v,dst=\\a\\b/..") => "invalid mount config for type \"volume\": invalid specification: destination can't be '/'";
    m_daemon_target_root_dotdot: m("type=bind,src=/a,dst=/x/..") => "invalid mount config for type \"bind\": invalid specification: destination can't be '/'";
    m_daemon_target_relative: m("type=volume,src=v,dst=rel") => "invalid mount config for type \"volume\": invalid mount path: 'rel' mount path must be absolute";
    m_daemon_anon_subpath: m("type=volume,dst=/x,volume-subpath=a") => "invalid mount config for type \"volume\": must not set Subpath when using anonymous volumes";
    m_daemon_subpath_escape: m("type=volume,src=v,dst=/x,volume-subpath=../a") => "invalid mount config for type \"volume\": subpath must be a relative path within the volume";
    m_daemon_subpath_abs: m("type=volume,src=v,dst=/x,volume-subpath=/a") => "invalid mount config for type \"volume\": subpath must be a relative path within the volume";
    m_daemon_subpath_escape_late: m("type=volume,src=v,dst=/x,volume-subpath=a/../../b") => "invalid mount config for type \"volume\": subpath must be a relative path within the volume";
    m_daemon_tmpfs_source: m("type=tmpfs,src=x,dst=/x") => "invalid mount config for type \"tmpfs\": field Source must not be specified";
    m_daemon_npipe: m("type=npipe,src=x,dst=/x") => "invalid mount config for type \"npipe\": mount type unknown";
    m_daemon_cluster: m("type=cluster,dst=/x") => "invalid mount config for type \"cluster\": mount type unknown";
    m_daemon_bogus_type: m("type=BOGUS,dst=/x") => "invalid mount config for type \"bogus\": mount type unknown"; // TestLinuxValidateMounts "invalid mount type"
    m_image_abs_subpath: m("type=image,source=foo,target=/target,image-subpath=/bar") => "invalid mount config for type \"image\": subpath must be a relative path within the volume"; // TestMountOptSetImageNoError: the CLI accepts, the daemon's subpath rule does not
}

// ---- --mount type=image (Engine 28): always read-only ----
ok! {
    m_image: m("type=image,source=busybox,target=/target") => "image busybox /target ro";
    m_image_subpath: m("type=image,source=foo:1,target=/target/,image-subpath=bar/baz") => "image foo:1 /target ro image-subpath=bar/baz";
    m_image_readonly_false: m("type=image,src=sha256:abc,dst=/t,readonly=false") => "image sha256:abc /t ro"; // Docker forces RW=false
    m_image_empty_subpath: m("type=image,src=x,dst=/t,image-subpath=") => "image x /t ro";
}

// ---- --tmpfs ----
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

// ---- MountSpec helpers, check_all, errors ----
#[test]
fn effective_propagation_and_flags() {
    let b = v("/a:/b").unwrap();
    assert_eq!(b.propagation, None);
    assert_eq!(b.effective_propagation(), Some(Propagation::Rprivate));
    assert!(!b.is_anonymous() && !b.copy_data());
    let s = v("/a:/b:rshared").unwrap();
    assert_eq!(s.effective_propagation(), Some(Propagation::Rshared));
    let vol = v("/data").unwrap();
    assert_eq!(vol.effective_propagation(), None);
    assert!(vol.is_anonymous() && vol.copy_data());
    assert_eq!(vol.origin, SpecOrigin::Volume);
    let named = m("type=volume,src=v,dst=/x,volume-nocopy").unwrap();
    assert!(!named.is_anonymous() && !named.copy_data());
    assert_eq!(named.origin, SpecOrigin::Mount);
    assert_eq!(t("/run").unwrap().origin, SpecOrigin::Tmpfs);
    assert_eq!(v("./x:/y").unwrap().raw, "./x:/y");
}

#[test]
fn check_all_duplicates() {
    let a = v("/src:/data").unwrap();
    let b = m("type=volume,dst=/data/").unwrap();
    let c = t("/run").unwrap();
    let d = t("/data").unwrap();
    assert!(check_all(&[a.clone(), c.clone()]).is_ok());
    assert_eq!(check_all(&[a.clone(), c.clone(), b]).unwrap_err().to_string(), "Duplicate mount point: /data");
    assert_eq!(check_all(&[d, a]).unwrap_err().to_string(), "Duplicate mount point: /data");
    assert!(check_all(&[]).is_ok());
}

#[test]
fn error_constructors_and_sides() {
    // moby TestLinuxValidateMounts "invalid source path", made by the caller.
    let e = SpecError::bind_source_missing("/tmp/definitely-no-such-path");
    assert_eq!(
        e.to_string(),
        "invalid mount config for type \"bind\": bind source path does not exist: /tmp/definitely-no-such-path"
    );
    assert_eq!(e.side(), Side::Daemon);
    assert_eq!(v("").unwrap_err().side(), Side::Cli);
    assert_eq!(v("ab::c").unwrap_err().side(), Side::Cli);
    assert_eq!(v("/a:/b:RO").unwrap_err().side(), Side::Daemon);
    assert_eq!(t("/run:bogus").unwrap_err().side(), Side::Daemon);
    // The --mount value is Go-%q-quoted in the flag error.
    assert_eq!(
        m("\"a").unwrap_err().to_string(),
        "invalid argument \"\\\"a\" for \"--mount\" flag: parse error on line 1, column 3: extraneous or missing \" in quoted-field"
    );
}

// ---- the daemon's validation on API-shaped mounts: moby validate_test.go TestValidateMount ----
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

// ---- go-units RAMInBytes (size_test.go TestRAMInBytes) ----
macro_rules! size {
    ($($name:ident: $s:expr => $want:expr;)*) => {$(
        #[test]
        fn $name() {
            let got = match ram_in_bytes($s) {
                Ok(n) => n.to_string(),
                Err(e) => e.to_string(),
            };
            assert_eq!(got, $want, "{:?}", $s);
        }
    )*};
}

size! {
    sz_plain: "32" => "32"; // TestRAMInBytes
    sz_b: "32b" => "32"; // TestRAMInBytes
    sz_upper_b: "32B" => "32"; // TestRAMInBytes
    sz_k: "32k" => "32768"; // TestRAMInBytes
    sz_upper_k: "32K" => "32768"; // TestRAMInBytes
    sz_kb: "32kb" => "32768"; // TestRAMInBytes
    sz_mixed_kb: "32Kb" => "32768"; // TestRAMInBytes
    sz_kib: "32Kib" => "32768"; // TestRAMInBytes
    sz_mb: "32Mb" => "33554432"; // TestRAMInBytes
    sz_gb: "32Gb" => "34359738368"; // TestRAMInBytes
    sz_tb: "32Tb" => "35184372088832"; // TestRAMInBytes
    sz_pb: "32Pb" => "36028797018963968"; // TestRAMInBytes
    sz_upper_pb: "32PB" => "36028797018963968"; // TestRAMInBytes
    sz_p: "32P" => "36028797018963968"; // TestRAMInBytes
    sz_fraction: "32.3" => "32"; // TestRAMInBytes
    sz_fraction_k: "32.3k" => "33075";
    sz_fraction_mb: "0.3MB" => "314572";
    sz_one_and_half_g: "1.5g" => "1610612736";
    sz_one_m: "1m" => "1048576";
    sz_one_mb: "1MB" => "1048576";
    sz_space: "32 mb" => "33554432"; // TestRAMInBytes
    sz_exponent: "1e3" => "1000";
    sz_empty: "" => "invalid size: ''"; // TestRAMInBytes
    sz_hello: "hello" => "invalid size: 'hello'"; // TestRAMInBytes
    sz_negative: "-32" => "invalid size: '-32'"; // TestRAMInBytes
    sz_spaces_around: " 32 " => "strconv.ParseFloat: parsing \" 32\": invalid syntax"; // TestRAMInBytes
    sz_space_in_suffix: "32m b" => "strconv.ParseFloat: parsing \"32m\": invalid syntax"; // TestRAMInBytes
    sz_bm: "32bm" => "invalid suffix: 'bm'"; // TestRAMInBytes
    sz_too_long: "32.3Kibb" => "invalid suffix: 'Kibb'";
    sz_mi: "32Mi" => "invalid suffix: 'mi'";
    sz_unknown_unit: "32x" => "invalid suffix: 'x'";
    sz_overflow: "1e30" => "invalid size: '1e30'";
    sz_overflow_unit: "8388608t" => "invalid size: '8388608t'";
}

// ---- Go path.Clean (path_test.go cleantests) ----
macro_rules! clean {
    ($($name:ident: $s:expr => $want:expr;)*) => {$(
        #[test]
        fn $name() {
            assert_eq!(clean_path($s), $want, "{:?}", $s);
        }
    )*};
}

clean! {
    cl_empty: "" => "."; // cleantests
    cl_abc: "abc" => "abc"; // cleantests
    cl_abc_def: "abc/def" => "abc/def"; // cleantests
    cl_dot: "." => "."; // cleantests
    cl_dotdot: ".." => ".."; // cleantests
    cl_dotdot2: "../.." => "../.."; // cleantests
    cl_dotdot_abc: "../../abc" => "../../abc"; // cleantests
    cl_root_abc: "/abc" => "/abc"; // cleantests
    cl_root: "/" => "/"; // cleantests
    cl_trailing: "abc/" => "abc"; // cleantests
    cl_trailing_abs: "/abc/" => "/abc"; // cleantests
    cl_double: "abc//def//ghi" => "abc/def/ghi"; // cleantests
    cl_double_root: "//abc" => "/abc"; // cleantests
    cl_triple_root: "///abc" => "/abc"; // cleantests
    cl_double_both: "//abc//" => "/abc"; // cleantests
    cl_dot_mid: "abc/./def" => "abc/def"; // cleantests
    cl_dot_root: "/./abc/def" => "/abc/def"; // cleantests
    cl_dot_end: "abc/." => "abc"; // cleantests
    cl_dotdot_mid: "abc/def/ghi/../jkl" => "abc/def/jkl"; // cleantests
    cl_dotdot_twice: "abc/def/../ghi/../jkl" => "abc/jkl"; // cleantests
    cl_dotdot_end: "abc/def/.." => "abc"; // cleantests
    cl_dotdot_to_dot: "abc/def/../.." => "."; // cleantests
    cl_dotdot_to_root: "/abc/def/../.." => "/"; // cleantests
    cl_dotdot_above: "abc/def/../../.." => ".."; // cleantests
    cl_dotdot_above_root: "/abc/def/../../.." => "/"; // cleantests
    cl_dotdot_long: "abc/def/../../../ghi/jkl/../../../mno" => "../../mno"; // cleantests
    cl_dot_dotdot: "abc/./../def" => "def"; // cleantests
    cl_double_dot_dotdot: "abc//./../def" => "def"; // cleantests
    cl_many: "abc/../../././../def" => "../../def"; // cleantests
}

// podman's `U`: chown the source to the run's user (not Docker's).
ok! {
    u_volume: v("vol:/data:U") => "volume vol /data chown mode=U";
    u_volume_ro: v("vol:/data:ro,U") => "volume vol /data ro chown mode=ro,U";
    u_bind: v("/src:/data:U,rslave") => "bind /src /data chown mode=U,rslave prop=rslave";
    u_mount_bare: m("type=volume,src=vol,dst=/data,U") => "volume vol /data chown";
    u_mount_chown: m("type=bind,src=/src,dst=/data,chown=TRUE") => "bind /src /data chown";
    u_mount_empty: m("src=vol,dst=/data,U=") => "volume vol /data chown";
    u_mount_false: m("src=vol,dst=/data,U=false") => "volume vol /data";
}

bad! {
    u_twice: v("vol:/data:U,U") => "invalid mode: U,U";
    u_lower: v("vol:/data:u") => "invalid mode: u";
    u_mount_value: m("src=vol,dst=/data,U=yes") => "invalid argument \"src=vol,dst=/data,U=yes\" for \"--mount\" flag: 'U' or 'chown' must be set to true or false, instead received \"yes\"";
    u_mount_tmpfs: m("type=tmpfs,dst=/t,U") => "invalid argument \"type=tmpfs,dst=/t,U\" for \"--mount\" flag: the 'U' option applies to volume and bind mounts, not to type 'tmpfs'";
}
