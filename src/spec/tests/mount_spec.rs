//! `MountSpec` helpers, `check_all`, and the error constructors.

use super::*;

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
    // Engine 28 checks --tmpfs against -v only, --mount against -v and --mount.
    let mt = m("type=tmpfs,dst=/run").unwrap();
    assert!(check_all(&[mt.clone(), c.clone()]).is_ok());
    let mv = m("type=volume,src=vv,dst=/run").unwrap();
    assert!(check_all(&[mv.clone(), c.clone()]).is_ok());
    assert_eq!(check_all(&[mt, mv, c]).unwrap_err().to_string(), "Duplicate mount point: /run");
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
