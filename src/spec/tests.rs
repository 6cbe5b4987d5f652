//! Table tests for the mount-spec grammar: one line per case, accepted and rejected inputs
//! alike, one module per topic. A trailing comment names the upstream test a case mirrors:
//! moby `daemon/volume/mounts/linux_parser_test.go`, `validate_test.go`, `parser_test.go`;
//! docker/cli `opts/mount_test.go`; go-units `size_test.go`; Go `path` `cleantests`.
//! Where the upstream expectation differs (a daemon-only test that the CLI stage pre-empts,
//! an upstream-accepted input myvol refuses), the comment says so.

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

// The tables, by topic (after the macros, which they use).
mod chown;
mod clean;
mod mount_flag;
mod mount_spec;
mod size;
mod tmpfs;
mod validate;
mod volume_flag;
