//! `-v`: moby `TestLinuxParseMountRaw` (valid list, invalid map with exact messages),
//! `TestLinuxParseMountRawSplit`, and the rest of the grammar (docker-semantics §c).

use super::*;

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
