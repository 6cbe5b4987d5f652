use std::os::fd::AsFd;

use super::meta::parse_pax_time;
use super::*;
use crate::fsutil;

#[test]
fn member_names() {
    let ok = |n: &[u8], want: &[&[u8]]| assert_eq!(components(n).unwrap(), want, "{n:?}");
    let bad = |n: &[u8]| assert!(components(n).is_err(), "{n:?}");
    ok(b"./a/b", &[b"a", b"b"]);
    ok(b"a//b/", &[b"a", b"b"]);
    ok(b"./", &[]);
    ok(b".", &[]);
    ok(b"a/./b\xff", &[b"a", b"b\xff"]);
    ok(b"..a/b..", &[b"..a", b"b.."]);
    bad(b"/etc/passwd");
    bad(b"../x");
    bad(b"a/../../x");
    bad(b"a/..");
    bad(b"a\0b");
}

/// Damaged archives (random bytes flipped, cut anywhere) never panic, and whatever they
/// do stays inside the staging directory.
#[test]
fn mutated_archives_never_panic_or_escape() {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_mode(0o755);
    h.set_entry_type(tar::EntryType::Directory);
    h.set_size(0);
    b.append_data(&mut h.clone(), "d/", &[][..]).unwrap();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_size(5);
    b.append_data(&mut h.clone(), "d/f", &b"hello"[..]).unwrap();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    b.append_link(&mut h.clone(), "d/l", "f").unwrap();
    h.set_entry_type(tar::EntryType::Link);
    b.append_link(&mut h.clone(), "d/h", "d/f").unwrap();
    b.append_pax_extensions([("path", &b"long/name"[..]), ("mtime", b"1.5")]).unwrap();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_size(3);
    b.append_data(&mut h, "short", &b"abc"[..]).unwrap();
    let good = b.into_inner().unwrap();
    let outer = tempfile::tempdir().unwrap();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for i in 0..400 {
        let mut a = good.clone();
        for _ in 0..1 + rand() % 4 {
            let at = (rand() as usize) % a.len();
            a[at] = rand() as u8;
        }
        if i % 5 == 0 {
            a.truncate((rand() as usize) % a.len());
        }
        let stage = outer.path().join(format!("s{i}"));
        std::fs::create_dir(&stage).unwrap();
        let fd = rfs::open(&stage, OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty()).unwrap();
        let _ = unpack(&a[..], fd.as_fd(), &super::super::Silent);
    }
    let mut top: Vec<_> = std::fs::read_dir(outer.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    top.sort();
    assert_eq!(top.len(), 400, "something was created beside the staging directories");
}

/// A test member: name, type, data, and pax records written before it.
type TestMember<'a> = (&'a str, tar::EntryType, &'a [u8], &'a [(&'a str, &'a [u8])]);

/// A layer tar of `members`.
fn layer_tar(members: &[TestMember<'_>]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, kind, data, pax) in members {
        if !pax.is_empty() {
            b.append_pax_extensions(pax.iter().copied()).unwrap();
        }
        let mut h = tar::Header::new_gnu();
        h.set_mode(if *kind == tar::EntryType::Directory { 0o755 } else { 0o644 });
        h.set_entry_type(*kind);
        h.set_size(data.len() as u64);
        // Written raw: the builder refuses the hostile names these tests need.
        let raw = &mut h.as_old_mut().name;
        raw.fill(0);
        raw[..name.len()].copy_from_slice(name.as_bytes());
        h.set_cksum();
        b.append(&h, *data).unwrap();
    }
    b.into_inner().unwrap()
}

fn unpack_layer(tar: &[u8]) -> (tempfile::TempDir, Result<ImportStats, ArchiveError>) {
    let t = tempfile::tempdir().unwrap();
    let fd = rfs::open(t.path(), OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty()).unwrap();
    let opts = UnpackOptions { raw: true, layer: Some(OverlayXattrs::User), ..UnpackOptions::default() };
    let r = unpack_with(tar, fd.as_fd(), &super::super::Silent, opts);
    (t, r)
}

fn is_whiteout(p: &std::path::Path) -> bool {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_char_device() && m.rdev() == 0)
}

#[test]
fn layer_mode_whiteouts_and_opaque_directories() {
    use tar::EntryType::{Directory as D, Regular as F};
    let tar = layer_tar(&[
        ("a/", D, b"", &[]),
        ("a/f", F, b"x", &[]),
        ("a/sub/", D, b"", &[]),
        ("a/sub/deep", F, b"y", &[]),
        // A whiteout of a directory this very layer has: what it has there goes.
        ("a/.wh.sub", F, b"", &[]),
        ("b", F, b"old", &[]),
        (".wh.gone", F, b"", &[]),
        ("c/.wh..wh..opq", F, b"", &[]),
        ("c/keep", F, b"k", &[]),
        (".wh..wh.plnk/123", F, b"aufs", &[]),
        (".wh..wh.aufs", F, b"", &[]),
    ]);
    let (t, r) = unpack_layer(&tar);
    let stats = r.unwrap();
    assert_eq!(stats.whiteouts, 3);
    let p = t.path();
    assert!(is_whiteout(&p.join("gone")));
    assert!(is_whiteout(&p.join("a/sub")));
    assert_eq!(std::fs::read(p.join("a/f")).unwrap(), b"x");
    assert_eq!(std::fs::read(p.join("c/keep")).unwrap(), b"k");
    let c = rfs::open(p.join("c"), OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty()).unwrap();
    assert_eq!(fsutil::get_xattr(c.as_fd(), "user.overlay.opaque").unwrap().as_deref(), Some(&b"y"[..]));
    let mut names: Vec<String> =
        std::fs::read_dir(p).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, ["a", "b", "c", "gone"], "no .wh. name survives, AUFS metadata is skipped");
}

#[test]
fn layer_mode_refuses_whiteouts_that_escape() {
    use tar::EntryType::Regular as F;
    for name in [".wh..", ".wh...", ".wh.", "a/.wh..", "d/.wh.x/y", "../.wh.x"] {
        let (t, r) = unpack_layer(&layer_tar(&[(name, F, b"", &[])]));
        assert!(matches!(r, Err(ArchiveError::Refused { .. })), "{name}: {r:?}");
        assert!(std::fs::read_dir(t.path()).unwrap().next().is_none() || name.starts_with("d/"), "{name}");
    }
    // Outside layer mode, a `.wh.` name is an ordinary file.
    let t = tempfile::tempdir().unwrap();
    let fd = rfs::open(t.path(), OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty()).unwrap();
    unpack(&layer_tar(&[(".wh.x", F, b"", &[])])[..], fd.as_fd(), &super::super::Silent).unwrap();
    assert!(t.path().join(".wh.x").is_file());
}

#[test]
fn layer_mode_drops_overlay_xattrs_from_members() {
    use tar::EntryType::Directory as D;
    let pax: &[(&str, &[u8])] = &[
        ("SCHILY.xattr.user.overlay.redirect", b"/etc"),
        ("SCHILY.xattr.user.overlay.opaque", b"y"),
        ("SCHILY.xattr.user.keep", b"1"),
    ];
    let (t, r) = unpack_layer(&layer_tar(&[("d/", D, b"", pax)]));
    r.unwrap();
    let d = rfs::open(t.path().join("d"), OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty()).unwrap();
    assert_eq!(fsutil::get_xattr(d.as_fd(), "user.overlay.redirect").unwrap(), None);
    assert_eq!(fsutil::get_xattr(d.as_fd(), "user.overlay.opaque").unwrap(), None);
    assert_eq!(fsutil::get_xattr(d.as_fd(), "user.keep").unwrap().as_deref(), Some(&b"1"[..]));
}

#[test]
fn pax_times() {
    let t = |s: &str| parse_pax_time(s.as_bytes()).map(|t| (t.tv_sec, t.tv_nsec));
    assert_eq!(t("1700000000.123456789"), Some((1700000000, 123456789)));
    assert_eq!(t("1700000000.5"), Some((1700000000, 500000000)));
    assert_eq!(t("12"), Some((12, 0)));
    assert_eq!(t("-1.25"), Some((-2, 750000000)));
    assert_eq!(t("1.1234567891"), Some((1, 123456789)));
    assert_eq!(t("x"), None);
    assert_eq!(t("1.x"), None);
}
