//! `--mount`: docker/cli `opts/mount_test.go`, and the rest of the grammar
//! (docker-semantics §c).

use super::*;

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
