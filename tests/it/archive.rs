//! `volume export` and `volume import`: faithful round trips, interop with GNU tar and
//! podman, hostile archives, failures that leave the volume untouched, in-use refusal,
//! terminal refusal and silence when stderr is not a terminal.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use myvol::store::Store;

use crate::env::tree::{Entry, assert_same, snapshot, walk};
use crate::env::{Out, PATIENCE, Spawned, TestEnv, require_root, require_tools, skip};

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

fn set_mtime(p: &Path, sec: i64, nsec: i64) {
    let t = rustix::fs::Timespec { tv_sec: sec, tv_nsec: nsec };
    let ts = rustix::fs::Timestamps { last_access: t, last_modification: t };
    rustix::fs::utimensat(rustix::fs::CWD, p, &ts, rustix::fs::AtFlags::SYMLINK_NOFOLLOW).unwrap();
}

fn set_xattr(p: &Path, k: &str, v: &[u8]) -> bool {
    rustix::fs::lsetxattr(p, k, v, rustix::fs::XattrFlags::empty()).is_ok()
}

/// A POSIX access ACL (`user:1234:r--` added) in the kernel's xattr format.
fn acl_value() -> Vec<u8> {
    let mut v = 2u32.to_le_bytes().to_vec();
    for (tag, perm, id) in
        [(1u16, 6u16, u32::MAX), (2, 4, 1234), (4, 4, u32::MAX), (0x10, 4, u32::MAX), (0x20, 4, u32::MAX)]
    {
        v.extend_from_slice(&tag.to_le_bytes());
        v.extend_from_slice(&perm.to_le_bytes());
        v.extend_from_slice(&id.to_le_bytes());
    }
    v
}

fn chown(p: &Path, uid: u32, gid: u32) {
    if is_root() {
        std::os::unix::fs::lchown(p, Some(uid), Some(gid)).unwrap();
    }
}

/// Fill `d` with every kind of entry the issue lists.
fn make_tree(d: &Path) {
    use std::fs;
    let w = |rel: &str, data: &[u8]| fs::write(d.join(rel), data).unwrap();
    fs::create_dir_all(d.join("dir/sub")).unwrap();
    fs::create_dir(d.join("empty")).unwrap();
    fs::create_dir(d.join("locked")).unwrap();
    w("locked/inside", b"in a 0555 directory");
    let content: Vec<u8> = (0..300_000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    w("dir/file", &content);
    w("dir/sub/small", b"hello\n");
    w("setuid", b"#!/bin/sh\n");
    fs::set_permissions(d.join("setuid"), fs::Permissions::from_mode(0o4755)).unwrap();
    w("setgid", b"x");
    fs::set_permissions(d.join("setgid"), fs::Permissions::from_mode(0o2750)).unwrap();
    fs::create_dir(d.join("sticky")).unwrap();
    fs::set_permissions(d.join("sticky"), fs::Permissions::from_mode(0o1777)).unwrap();
    fs::hard_link(d.join("dir/file"), d.join("hardlink")).unwrap();
    fs::hard_link(d.join("dir/file"), d.join("dir/sub/hardlink2")).unwrap();
    symlink("dir/file", d.join("symlink")).unwrap();
    symlink("/nonexistent/absolute", d.join("dangling")).unwrap();
    rustix::fs::mknodat(rustix::fs::CWD, d.join("fifo"), rustix::fs::FileType::Fifo, 0o640.into(), 0).unwrap();
    if is_root() {
        let dev = rustix::fs::makedev(1, 3);
        rustix::fs::mknodat(rustix::fs::CWD, d.join("null"), rustix::fs::FileType::CharacterDevice, 0o666.into(), dev)
            .unwrap();
        chown(&d.join("dir/file"), 1234, 5678);
        chown(&d.join("symlink"), 4321, 8765);
        chown(&d.join("dir"), 42, 43);
        chown(&d.join("setuid"), 3_000_000, 3_000_001); // needs PAX uid/gid
    }
    // Sparse: 64 MiB with two data regions (one at the end) and a hole at the start.
    let f = fs::File::create(d.join("sparse")).unwrap();
    f.set_len(64 << 20).unwrap();
    use std::os::unix::fs::FileExt;
    f.write_all_at(&[7u8; 8192], 16 << 20).unwrap();
    f.write_all_at(b"tail", (64 << 20) - 4).unwrap();
    drop(f);
    let f = fs::File::create(d.join("sparse-hole-end")).unwrap();
    f.set_len(8 << 20).unwrap();
    f.write_all_at(&[1u8; 4096], 0).unwrap();
    drop(f);
    // Long names: a 200-byte component and a 300-byte path; non-UTF-8 and control bytes.
    let long = "n".repeat(200);
    fs::create_dir(d.join(&long)).unwrap();
    fs::write(d.join(&long).join("m".repeat(120)), b"long path").unwrap();
    fs::write(d.join(OsStr::from_bytes(b"latin1-\xe9t\xe9")), b"not utf-8").unwrap();
    fs::write(d.join(OsStr::from_bytes(b"ctl-\x01-name")), b"ctl").unwrap();
    symlink("l".repeat(150), d.join("long-target")).unwrap();
    // Extended attributes and an ACL.
    assert!(set_xattr(&d.join("dir/file"), "user.checksum", b"abc\0binary\xff"));
    assert!(set_xattr(&d.join("dir"), "user.dir", b"on a directory"));
    set_xattr(&d.join("setgid"), "system.posix_acl_access", &acl_value());
    if is_root() {
        assert!(set_xattr(&d.join("symlink"), "trusted.link", b"on a symlink"));
    }
    // Nanosecond mtimes everywhere, directories last (children bump them).
    let mut paths = Vec::new();
    walk(d, Path::new(""), &mut |rel, _| paths.push(rel.to_path_buf()));
    for (i, rel) in paths.iter().enumerate().rev() {
        set_mtime(&d.join(rel), 1_600_000_000 + i as i64 * 1000, 123_456_789 + i as i64);
    }
    fs::set_permissions(d.join("locked"), fs::Permissions::from_mode(0o555)).unwrap();
    set_mtime(&d.join("locked"), 1_500_000_000, 1);
    set_mtime(d, 1_400_000_000, 999_999_999);
}

/// Bytes of every file and link plus every entry's metadata: "byte-for-byte unchanged".
fn tree_hash(root: &Path) -> BTreeMap<PathBuf, Entry> {
    snapshot(root)
}

fn run_bytes(t: &TestEnv, args: &[&str], stdin: &[u8]) -> (Out, Vec<u8>) {
    let mut c = t.cmd();
    c.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let o = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let out = Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::new(),
        stderr: t.filter(&String::from_utf8_lossy(&o.stderr)),
    };
    (out, o.stdout)
}

fn export(t: &TestEnv, name: &str) -> Vec<u8> {
    let (o, bytes) = run_bytes(t, &["volume", "export", name], b"");
    assert_eq!((o.code, o.stderr.as_str()), (0, ""), "export {name}");
    bytes
}

fn import(t: &TestEnv, args: &[&str], archive: &[u8]) -> Out {
    let mut a = vec!["volume", "import"];
    a.extend_from_slice(args);
    run_bytes(t, &a, archive).0
}

#[test]
fn round_trip_keeps_every_kind_of_entry() {
    let t = TestEnv::new();
    t.ok(&["volume", "create", "src"]);
    make_tree(&t.data("src"));
    let before = snapshot(&t.data("src"));
    let tar = export(&t, "src");
    let o = import(&t, &["--create", "dst", "-"], &tar);
    assert_eq!((o.code, o.stderr.as_str()), (0, ""));
    let after = snapshot(&t.data("dst"));
    assert_same(&before, &after);
    // Holes stayed holes.
    let sparse = &after[Path::new("sparse")];
    assert!(sparse.blocks.unwrap() * 512 < 1 << 20, "sparse file was filled: {sparse:?}");
    // Exporting again gives the same archive (deterministic order and content).
    assert_eq!(export(&t, "dst"), tar);
    assert!(t.entries("tmp").is_empty());
}

#[test]
fn compressed_round_trips_and_names_pick_the_compression() {
    let t = TestEnv::new();
    t.ok(&["volume", "create", "src"]);
    make_tree(&t.data("src"));
    let before = snapshot(&t.data("src"));
    for (file, magic) in [("b.tar.zst", &[0x28u8, 0xb5, 0x2f, 0xfd][..]), ("b.tar.gz", &[0x1f, 0x8b][..])] {
        let path = t.dir.path().join(file);
        t.expect(&["volume", "export", "-q", "-o", path.to_str().unwrap(), "src"], 0, "", "");
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes.starts_with(magic), "{file}");
        let vol = format!("from-{}", &file[6..]).replace('.', "-");
        t.expect(&["volume", "import", "--create", &vol, path.to_str().unwrap()], 0, "", "");
        assert_same(&before, &snapshot(&t.data(&vol)));
    }
    // --compress overrides the name; a plain name stays plain.
    let path = t.dir.path().join("c.tar");
    t.ok(&["volume", "export", "--compress", "zstd", "-o", path.to_str().unwrap(), "src"]);
    assert!(std::fs::read(&path).unwrap().starts_with(&[0x28, 0xb5, 0x2f, 0xfd]));
    t.ok(&["volume", "export", "-o", path.to_str().unwrap(), "src"]);
    assert_eq!(&std::fs::read(&path).unwrap()[257..262], b"ustar");
    // -o FILE (headers buffered, large files by sendfile on a dup) and stdout agree.
    assert_eq!(std::fs::read(&path).unwrap(), export(&t, "src"));
    // No temporary file is left beside the output.
    let mut names: Vec<_> = std::fs::read_dir(t.dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    names.sort();
    assert!(names.iter().all(|n| !n.to_string_lossy().contains(".tmp-")), "{names:?}");
}

#[test]
fn gnu_tar_archives_import_with_and_without_dot_prefixes() {
    if !require_tools(&["tar"]) {
        return;
    }
    let t = TestEnv::new();
    let src = t.dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    make_tree(&src);
    let before = snapshot(&src);
    // `tar -C DIR -cf - .`: ./ prefixes, root entry included.
    let o = Command::new("tar")
        .args(["--format=posix", "--xattrs", "--xattrs-include=*", "--sparse", "--numeric-owner", "-C"])
        .arg(&src)
        .args(["-cf", "-", "."])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = import(&t, &["--create", "gnu", "-"], &o.stdout);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    let mut after = snapshot(&t.data("gnu"));
    // GNU tar stores the root's mode/owner but restores... we take them: compare all.
    let mut want = before.clone();
    // GNU tar does not store xattrs of symlinks.
    if let Some(e) = want.get_mut(Path::new("symlink")) {
        e.xattrs.clear();
    }
    if let Some(e) = after.get_mut(Path::new("symlink")) {
        e.xattrs.clear();
    }
    assert_same(&want, &after);

    // Plain relative names (no ./, no root entry), default GNU format.
    let mut names: Vec<String> =
        std::fs::read_dir(&src).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.retain(|n| n.is_ascii() && !n.contains('\u{1}'));
    names.sort();
    let o = Command::new("tar").arg("-C").arg(&src).args(["-cf", "-"]).args(&names).output().unwrap();
    assert!(o.status.success());
    t.ok(&["volume", "create", "plain"]);
    let r = import(&t, &["plain"], &o.stdout);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    let got = snapshot(&t.data("plain"));
    for n in &names {
        let (a, b) = (&before[Path::new(n)], &got[Path::new(n)]);
        assert_eq!(
            (a.kind, a.mode, a.content, a.link.as_ref(), a.mtime.0),
            (b.kind, b.mode, b.content, b.link.as_ref(), b.mtime.0),
            "{n}"
        );
    }
}

#[test]
fn exports_extract_with_gnu_tar() {
    if !require_tools(&["tar"]) {
        return;
    }
    let t = TestEnv::new();
    t.ok(&["volume", "create", "src"]);
    make_tree(&t.data("src"));
    let before = snapshot(&t.data("src"));
    let tar = export(&t, "src");
    let out = t.dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let mut c = Command::new("tar");
    c.args(["--xattrs", "--xattrs-include=*", "--numeric-owner", "-xpf", "-", "-C"]).arg(&out);
    c.stdin(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    child.stdin.take().unwrap().write_all(&tar).unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut after = snapshot(&out);
    let mut want = before;
    for m in [&mut want, &mut after] {
        // GNU tar restores no xattrs on symlinks, and sets symlink times only as root.
        if let Some(e) = m.get_mut(Path::new("symlink")) {
            e.xattrs.clear();
        }
    }
    assert_same(&want, &after);
    let listing = Command::new("tar").args(["-tvf", "-"]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn();
    let mut l = listing.unwrap();
    l.stdin.take().unwrap().write_all(&tar).unwrap();
    let o = l.wait_with_output().unwrap();
    assert!(o.status.success());
}

/// podman with a store of its own in a temporary directory: the user's podman volumes,
/// images and configuration are not touched. On drop its volumes go (inside its user
/// namespace, rootless), and so does the pause process a rootless podman leaves running.
struct Podman {
    dir: tempfile::TempDir,
}

impl Podman {
    fn new() -> Podman {
        let dir = tempfile::Builder::new().prefix("myvol-podman-").tempdir().expect("tempdir");
        // Without a usable runtime directory rootless podman falls back to /tmp/podman-run-UID.
        std::fs::create_dir(dir.path().join("xdg-run")).unwrap();
        std::fs::set_permissions(dir.path().join("xdg-run"), std::fs::Permissions::from_mode(0o700)).unwrap();
        Podman { dir }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let d = self.dir.path();
        let mut c = Command::new("podman");
        for (flag, sub) in [
            ("--root", "storage"),
            ("--runroot", "run"),
            ("--tmpdir", "tmp"),
            ("--volumepath", "volumes"),
            ("--network-config-dir", "net"),
        ] {
            c.arg(flag).arg(d.join(sub));
        }
        c.args(["--storage-driver", "vfs", "--events-backend", "none"]).args(args);
        c.env("XDG_RUNTIME_DIR", d.join("xdg-run"))
            .env("XDG_CONFIG_HOME", d.join("xdg-config"))
            .env("XDG_DATA_HOME", d.join("xdg-data"))
            .stdin(Stdio::null());
        c
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        let _ = self.cmd(&["volume", "rm", "--all", "--force"]).output();
        let pause = self.dir.path().join("tmp/pause.pid");
        if let Some(pid) = std::fs::read_to_string(pause).ok().and_then(|p| p.trim().parse().ok()) {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
        }
    }
}

#[test]
fn podman_reads_our_archives_and_we_read_podmans() {
    if !require_tools(&["podman"]) {
        return;
    }
    let t = TestEnv::new();
    let podman = Podman::new();
    let pv = "myvol-it";
    let o = podman.cmd(&["volume", "create", pv]).output().unwrap();
    if !o.status.success() {
        skip!("podman volume create does not work here: {}", String::from_utf8_lossy(&o.stderr).trim());
    }
    t.ok(&["volume", "create", "src"]);
    let d = t.data("src");
    std::fs::create_dir_all(d.join("a/b")).unwrap();
    std::fs::write(d.join("a/b/f"), b"from myvol").unwrap();
    std::fs::write(d.join("top"), b"top").unwrap();
    symlink("a/b/f", d.join("l")).unwrap();
    let tarfile = t.dir.path().join("m.tar");
    t.ok(&["volume", "export", "-o", tarfile.to_str().unwrap(), "src"]);
    let o = podman.cmd(&["volume", "import", pv, tarfile.to_str().unwrap()]).output().unwrap();
    assert!(o.status.success(), "podman volume import failed: {}", String::from_utf8_lossy(&o.stderr));
    let back = t.dir.path().join("p.tar");
    let o = podman.cmd(&["volume", "export", "-o", back.to_str().unwrap(), pv]).output().unwrap();
    assert!(o.status.success(), "podman volume export: {}", String::from_utf8_lossy(&o.stderr));
    t.expect(&["volume", "import", "--create", "back", back.to_str().unwrap()], 0, "", "");
    let b = t.data("back");
    assert_eq!(std::fs::read(b.join("a/b/f")).unwrap(), b"from myvol");
    assert_eq!(std::fs::read(b.join("top")).unwrap(), b"top");
    assert_eq!(std::fs::read_link(b.join("l")).unwrap(), Path::new("a/b/f"));
}

/// A tar header with raw bytes for the name (the `tar` crate's setters refuse `..`).
fn raw_header(name: &[u8], kind: tar::EntryType, size: u64, link: &[u8]) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(0o644);
    h.set_mtime(1_700_000_000);
    // The importing user's own ids: root's as root, so that no run warns about owners.
    h.set_uid(rustix::process::geteuid().as_raw().into());
    h.set_gid(rustix::process::getegid().as_raw().into());
    let old = h.as_old_mut();
    old.name = [0; 100];
    old.name[..name.len()].copy_from_slice(name);
    old.linkname = [0; 100];
    old.linkname[..link.len()].copy_from_slice(link);
    h.set_cksum();
    h
}

enum M<'a> {
    File(&'a [u8], &'a [u8]),
    Dir(&'a [u8]),
    Sym(&'a [u8], &'a [u8]),
    Hard(&'a [u8], &'a [u8]),
    /// A PAX `path` record over a harmless ustar name.
    PaxFile(&'a [u8], &'a [u8]),
    /// A GNU `././@LongLink` name over a harmless ustar name.
    GnuLongFile(&'a [u8], &'a [u8]),
}

fn build(members: &[M<'_>]) -> Vec<u8> {
    use tar::EntryType as E;
    let mut b = tar::Builder::new(Vec::new());
    for m in members {
        match *m {
            M::File(n, d) => b.append(&raw_header(n, E::Regular, d.len() as u64, b""), d).unwrap(),
            M::Dir(n) => b.append(&raw_header(n, E::Directory, 0, b""), &[][..]).unwrap(),
            M::Sym(n, l) => b.append(&raw_header(n, E::Symlink, 0, l), &[][..]).unwrap(),
            M::Hard(n, l) => b.append(&raw_header(n, E::Link, 0, l), &[][..]).unwrap(),
            M::PaxFile(n, d) => {
                b.append_pax_extensions([("path", n)]).unwrap();
                b.append(&raw_header(b"harmless", E::Regular, d.len() as u64, b""), d).unwrap();
            }
            M::GnuLongFile(n, d) => {
                let mut name = n.to_vec();
                name.push(0);
                let mut h = tar::Header::new_gnu();
                h.as_gnu_mut().unwrap().name[..13].copy_from_slice(b"././@LongLink");
                h.set_entry_type(E::GNULongName);
                h.set_size(name.len() as u64);
                h.set_cksum();
                b.append(&h, &name[..]).unwrap();
                b.append(&raw_header(b"harmless", E::Regular, d.len() as u64, b""), d).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

/// A volume with content, and a directory outside the store that hostile archives aim at.
fn victim() -> (TestEnv, PathBuf) {
    let t = TestEnv::new();
    t.ok(&["volume", "create", "victim"]);
    let d = t.data("victim");
    std::fs::create_dir(d.join("keep")).unwrap();
    std::fs::write(d.join("keep/file"), b"precious").unwrap();
    let outside = t.dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("secret"), b"host file").unwrap();
    (t, outside)
}

#[track_caller]
fn assert_refused(archive: &[u8], member_shown: &str) {
    let (t, outside) = victim();
    let before = tree_hash(&t.data("victim"));
    let outside_before = tree_hash(&outside);
    let o = import(&t, &["victim", "-"], archive);
    assert_eq!(o.code, 1, "{o:#?}");
    assert!(o.stderr.starts_with("Error: import victim: archive member "), "{o:#?}");
    assert!(o.stderr.contains(member_shown), "{member_shown} not in {o:#?}");
    assert!(!o.stderr.contains('\x1b'), "raw escape reached the terminal: {o:?}");
    assert_eq!(o.stderr.lines().count(), 1, "{o:#?}");
    assert_same(&before, &tree_hash(&t.data("victim")));
    assert_same(&outside_before, &tree_hash(&outside));
    assert!(t.entries("tmp").is_empty(), "staging left behind: {:?}", t.entries("tmp"));
}

#[test]
fn hostile_archives_are_refused_and_change_nothing() {
    let outside = |t: &str| format!("../../../../../../../../{t}");
    let abs_dir = std::env::temp_dir();
    let abs = abs_dir.to_str().unwrap().as_bytes();
    let dotdot = outside("x");
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (build(&[M::File(b"ok", b"1"), M::File(dotdot.as_bytes(), b"evil")]), "../../"),
        (build(&[M::File(b"/tmp/myvol-evil-abs", b"evil")]), "/tmp/myvol-evil-abs: absolute name"),
        (build(&[M::File(b"a/../../evil", b"evil")]), "a/../../evil: name contains '..'"),
        // A symlink, then a member written through it.
        (
            build(&[M::Sym(b"l", abs), M::File(b"l/myvol-evil", b"evil")]),
            "l/myvol-evil: a parent directory is a symlink",
        ),
        (build(&[M::Sym(b"l", b"."), M::File(b"l/x", b"evil")]), "l/x: a parent directory is a symlink"),
        (build(&[M::Sym(b"l", abs), M::Dir(b"l/sub/"), M::File(b"l/sub/x", b"evil")]), "l/sub/: a parent"),
        // A directory replaced by a symlink, then written through.
        (
            build(&[M::Dir(b"d/"), M::Sym(b"d", abs), M::File(b"d/myvol-evil", b"evil")]),
            "d/myvol-evil: a parent directory is a symlink",
        ),
        // Hard links to outside, to an absolute path, through a symlink.
        (build(&[M::Hard(b"h", b"/etc/passwd")]), "h: hard link to an absolute path"),
        (build(&[M::Hard(b"h", b"../outside/secret")]), "h: hard link target outside the archive"),
        (build(&[M::Sym(b"s", abs), M::Hard(b"h", b"s/passwd")]), "h: a parent directory is a symlink"),
        (build(&[M::Hard(b"h", b"missing")]), "h: hard link to a member not in the archive"),
        (build(&[M::Dir(b"dd/"), M::Hard(b"h", b"dd")]), "h: hard link to a directory"),
        // Names from PAX and GNU long-name records are checked, not the ustar name.
        (build(&[M::PaxFile(dotdot.as_bytes(), b"evil")]), "../../"),
        (build(&[M::GnuLongFile(b"/etc/myvol-evil", b"evil")]), "/etc/myvol-evil: absolute name"),
        // Terminal escapes in a name are shown escaped.
        (build(&[M::File(b"../\x1b[31mred", b"evil")]), "../\\x1b[31mred"),
        // A directory that is not empty cannot be replaced by a file.
        (build(&[M::Dir(b"keep2/"), M::File(b"keep2/f", b"1"), M::File(b"keep2", b"x")]), "keep2: would replace"),
    ];
    for (archive, shown) in cases {
        assert_refused(&archive, shown);
    }
    assert!(!Path::new("/tmp/myvol-evil-abs").exists());
    assert!(!std::env::temp_dir().join("myvol-evil").exists());
}

#[test]
fn a_hard_link_then_a_file_of_the_same_name_does_not_write_through() {
    // RUSTSEC-2018-0002's shape, kept inside the archive: the file replaces the link.
    let (t, _) = victim();
    let archive = build(&[M::File(b"a", b"original"), M::Hard(b"b", b"a"), M::File(b"b", b"replaced")]);
    let o = import(&t, &["victim"], &archive);
    assert_eq!((o.code, o.stderr.as_str()), (0, ""));
    assert_eq!(std::fs::read(t.data("victim").join("a")).unwrap(), b"original");
    assert_eq!(std::fs::read(t.data("victim").join("b")).unwrap(), b"replaced");
    assert_eq!(std::fs::metadata(t.data("victim").join("a")).unwrap().nlink(), 1);
    // The import replaced the whole content.
    assert!(!t.data("victim").join("keep").exists());
}

#[test]
fn truncated_and_corrupt_streams_leave_the_volume_unchanged() {
    let t = TestEnv::new();
    t.ok(&["volume", "create", "src"]);
    make_tree(&t.data("src"));
    let tar = export(&t, "src");
    let (v, _) = victim();
    let before = tree_hash(&v.data("victim"));
    let zst = {
        let mut e = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
        e.include_checksum(true).unwrap();
        e.write_all(&tar).unwrap();
        e.finish().unwrap()
    };
    let gz = {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&tar).unwrap();
        e.finish().unwrap()
    };
    let mut bad_gz = gz.clone();
    let n = bad_gz.len();
    bad_gz[n - 6] ^= 0xff; // the CRC
    let mut bad_zst = zst.clone();
    let mid = bad_zst.len() / 2;
    bad_zst[mid] ^= 0x55;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("cut mid-member", tar[..tar.len() / 2].to_vec()),
        ("cut at a header boundary", tar[..1024].to_vec()),
        ("cut before the end marker", tar[..tar.len() - 1024].to_vec()),
        ("empty", Vec::new()),
        ("corrupt gzip", bad_gz),
        ("truncated gzip", gz[..gz.len() - 10].to_vec()),
        ("corrupt zstd", bad_zst),
        ("truncated zstd", zst[..zst.len() - 3].to_vec()),
        ("not a tar", b"hello, this is not an archive at all".repeat(40)),
    ];
    for (what, bytes) in cases {
        let o = import(&v, &["victim"], &bytes);
        assert_eq!(o.code, 1, "{what}: {o:#?}");
        assert!(o.stderr.starts_with("Error: import victim: "), "{what}: {o:#?}");
        assert_same(&before, &tree_hash(&v.data("victim")));
        assert!(v.entries("tmp").is_empty(), "{what}");
    }
    // The intact streams work.
    for bytes in [&tar, &gz, &zst] {
        let o = import(&v, &["victim"], bytes);
        assert_eq!((o.code, o.stderr.as_str()), (0, ""));
    }
}

#[test]
fn import_refuses_a_volume_in_use_and_forced_only_under_readers() {
    let t = TestEnv::new();
    t.ok(&["volume", "create", "busy"]);
    std::fs::write(t.data("busy").join("old"), b"old").unwrap();
    let archive = build(&[M::File(b"new", b"new")]);
    let store = Store::new(&t.root);
    let writer = store.lease(&"busy".parse().unwrap(), "test").unwrap();
    let o = import(&t, &["busy"], &archive);
    let first = o.stderr.lines().next().unwrap_or("").to_owned();
    assert_eq!((o.code, first), (1, format!("Error: import busy: volume is in use - [{}]", writer.id())));
    assert!(o.stderr.contains(&format!("(pid {}) since ", std::process::id())), "{}", o.stderr);
    // What a writer writes would go with the old content: not even --force.
    let o = import(&t, &["--force", "busy"], &archive);
    let refused = format!(
        "Error: import busy: volume is in use for writing - [{}]: --force imports under readers only (a writer's changes would be lost)",
        writer.id()
    );
    let first = o.stderr.lines().next().unwrap_or("").to_owned();
    assert_eq!((o.code, first), (1, refused));
    assert!(t.data("busy").join("old").exists());
    drop(writer);
    let reader = store.lease_as(&"busy".parse().unwrap(), "test", myvol::store::Access::ReadOnly).unwrap();
    let o = import(&t, &["busy"], &archive);
    let first = o.stderr.lines().next().unwrap_or("").to_owned();
    assert_eq!((o.code, first), (1, format!("Error: import busy: volume is in use - [{}]", reader.id())));
    assert!(o.stderr.contains(&format!("(pid {}) since ", std::process::id())), "{}", o.stderr);
    let o = import(&t, &["--force", "busy"], &archive);
    assert_eq!((o.code, o.stderr.as_str()), (0, ""));
    assert!(!t.data("busy").join("old").exists());
    assert_eq!(std::fs::read(t.data("busy").join("new")).unwrap(), b"new");
    drop(reader);
    // Our own lease is gone after the import; the old content kept for the reader goes
    // with the next mutation.
    t.expect(&["volume", "rm", "busy"], 0, "busy\n", "");
    assert!(t.entries("tmp").is_empty(), "{:?}", t.entries("tmp"));
}

#[test]
fn import_into_a_missing_volume_needs_create() {
    let t = TestEnv::new();
    let archive = build(&[M::File(b"f", b"hi\n")]);
    let o = import(&t, &["nope"], &archive);
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (1, "Error: get nope: no such volume\nAdd --create to create the volume and import into it\n")
    );
    t.expect(&["volume", "ls", "-q"], 0, "", "");
    // A failed import leaves no volume that --create made for it.
    let o = import(&t, &["--create", "nope"], &build(&[M::File(b"../x", b"evil")]));
    assert_eq!(o.code, 1, "{o:#?}");
    t.expect(&["volume", "ls", "-q"], 0, "", "");
    let o = import(&t, &["--create", "nope"], &archive);
    assert_eq!((o.code, o.stderr.as_str()), (0, ""));
    assert_eq!(std::fs::read(t.data("nope").join("f")).unwrap(), b"hi\n");
    // Archives without a root entry keep the volume root's mode.
    assert_eq!(std::fs::metadata(t.data("nope")).unwrap().mode() & 0o7777, 0o755);
    t.expect(&["volume", "export", "missing"], 1, "", "Error: get missing: no such volume\n");
}

#[test]
fn export_refuses_a_terminal() {
    if !require_tools(&["script"]) {
        return;
    }
    let t = TestEnv::new();
    t.ok(&["volume", "create", "tty"]);
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_myvol"));
    let o = Command::new("script")
        .args(["-qec"])
        .arg(format!("{} volume export tty", bin.display()))
        .arg("/dev/null")
        .env("MYVOL_ROOT", &t.root)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("Error: cowardly refusing to save to a terminal. Use the -o flag or redirect"), "{out}");
}

#[test]
fn no_progress_output_when_stderr_is_not_a_terminal() {
    let t = TestEnv::new();
    t.ok(&["volume", "create", "src"]);
    std::fs::write(t.data("src").join("f"), vec![1u8; 3 << 20]).unwrap();
    let (o, tar) = run_bytes(&t, &["volume", "export", "src"], b"");
    assert_eq!((o.code, o.stderr.as_str()), (0, ""));
    let o = import(&t, &["--create", "dst"], &tar);
    assert_eq!((o.code, o.stderr.as_str(), o.stdout.as_str()), (0, "", ""));
}

/// As an unprivileged user (root drops to uid 65534 with setpriv), an archive with other
/// owners and a device node imports: entries keep the user's ids, the device is skipped, and
/// both are reported once on stderr.
#[test]
fn rootless_import_keeps_what_the_user_can() {
    if !require_root("to switch to an unprivileged uid") || !require_tools(&["setpriv"]) {
        return;
    }
    let t = TestEnv::new();
    t.ok(&["volume", "create", "src"]);
    let d = t.data("src");
    std::fs::write(d.join("owned"), b"x").unwrap();
    chown(&d.join("owned"), 1234, 5678);
    let dev = rustix::fs::makedev(1, 3);
    rustix::fs::mknodat(rustix::fs::CWD, d.join("null"), rustix::fs::FileType::CharacterDevice, 0o666.into(), dev)
        .unwrap();
    rustix::fs::mknodat(rustix::fs::CWD, d.join("fifo"), rustix::fs::FileType::Fifo, 0o600.into(), 0).unwrap();
    let tar = export(&t, "src");
    let home = tempfile::Builder::new().prefix("myvol-rootless-").tempdir().unwrap();
    std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::chown(home.path(), Some(65534), Some(65534)).unwrap();
    let mut c = Command::new("setpriv");
    c.args(["--reuid=65534", "--regid=65534", "--clear-groups", env!("CARGO_BIN_EXE_myvol")])
        .args(["volume", "import", "--create", "mine", "-"])
        .env("MYVOL_ROOT", home.path().join("store"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    child.stdin.take().unwrap().write_all(&tar).unwrap();
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert_eq!(
        stderr,
        "Warning: 1 device node(s) not created: creating device nodes needs root\n\
         Warning: 3 entr(ies) keep your own uid/gid: setting other owners needs root\n"
    );
    let data = home.path().join("store/volumes/mine/_data");
    let md = std::fs::metadata(data.join("owned")).unwrap();
    assert_eq!((md.uid(), md.gid()), (65534, 65534));
    assert!(!data.join("null").exists());
    assert!(std::fs::symlink_metadata(data.join("fifo")).unwrap().file_type().is_fifo());
}

/// Input that is not a tar archive says so, and whatever header bytes the parser quotes
/// reach the terminal escaped.
#[test]
fn input_that_is_not_an_archive_is_named_and_escaped() {
    let t = TestEnv::new();
    t.ok(&["volume", "create", "vol"]);
    std::fs::write(t.data("vol").join("keep"), "x").unwrap();
    let o = import(&t, &["vol", "-"], b"junk\n");
    assert_eq!(o.code, 1);
    assert_eq!(o.stderr, "Error: import vol: reading the archive: not a tar archive (failed to read entire block)\n");
    // A header-sized block of bytes with control characters in its checksum field.
    let mut block = vec![b'a'; 512];
    block[148..156].copy_from_slice(b"\x1b[31m\x07\x01\x02");
    let o = import(&t, &["vol", "-"], &block);
    assert_eq!(o.code, 1);
    assert!(o.stderr.starts_with("Error: import vol: reading the archive: not a tar archive ("), "{o:?}");
    let body = o.stderr.trim_end_matches('\n');
    assert!(!body.chars().any(|c| c.is_control()), "unescaped control characters: {:?}", o.stderr);
    assert_eq!(std::fs::read_to_string(t.data("vol").join("keep")).unwrap(), "x");
}

/// Wait for `child` to end, up to `PATIENCE`; its exit code (None: it was still running and
/// has been killed, which is the failure these tests look for).
fn ended(child: &mut Spawned) -> Option<i32> {
    let deadline = std::time::Instant::now() + PATIENCE;
    while std::time::Instant::now() < deadline {
        if let Some(status) = child.child().try_wait().unwrap() {
            return Some(status.code().unwrap_or(-1));
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    None
}

/// `myvol volume import ARGS…` with stdin fed by `feed` (on a thread of its own, until it
/// returns or the pipe closes); its exit code, as [`ended`].
fn import_fed(t: &TestEnv, args: &[&str], feed: impl FnOnce(&mut dyn Write) + Send + 'static) -> Option<i32> {
    let mut c = t.cmd();
    c.args(["volume", "import"]).args(args).stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::null());
    let mut child = Spawned::new(&mut c);
    let mut stdin = child.child().stdin.take().unwrap();
    let feeder = std::thread::spawn(move || feed(&mut stdin));
    let code = ended(&mut child);
    drop(child);
    let _ = feeder.join();
    code
}

/// An endless input after the end of the archive (`/dev/zero` is an empty archive followed by
/// endless zeros) ends the import at once, as GNU tar stops there: nothing keeps the volume in
/// use forever.
#[test]
fn import_stops_at_the_end_of_the_archive_whatever_follows() {
    let t = TestEnv::new();
    t.ok(&["volume", "create", "vol"]);
    std::fs::write(t.data("vol").join("old"), "x").unwrap();
    let mut c = t.cmd();
    c.args(["volume", "import", "vol", "/dev/zero"]).stdout(Stdio::null()).stderr(Stdio::null());
    let mut child = Spawned::new(&mut c);
    assert_eq!(ended(&mut child), Some(0), "import of /dev/zero did not end");
    // An archive without members, as GNU tar reads /dev/zero: the volume is now empty.
    assert!(t.entries("volumes/vol/_data").is_empty());
    // The same from a pipe that never ends.
    let code = import_fed(&t, &["vol"], |w| while w.write_all(&[0u8; 65536]).is_ok() {});
    assert_eq!(code, Some(0), "import of endless zeros from stdin did not end");
    // A real archive, then endless garbage: the archive's content, and an end.
    let archive = build(&[M::File(b"f", b"content")]);
    let code = import_fed(&t, &["vol"], move |w| {
        if w.write_all(&archive).is_ok() {
            let mut x = 0x9e37_79b9_7f4a_7c15u64;
            let mut junk = vec![0u8; 65536];
            loop {
                for b in junk.iter_mut() {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    *b = x as u8;
                }
                if w.write_all(&junk).is_err() {
                    break;
                }
            }
        }
    });
    assert_eq!(code, Some(0), "import of an archive followed by endless garbage did not end");
    assert_eq!(std::fs::read(t.data("vol").join("f")).unwrap(), b"content");
    t.expect(&["volume", "ls", "-q", "-f", "dangling=false"], 0, "", "");
    t.expect(&["volume", "rm", "vol"], 0, "vol\n", "");
}

/// A tar of one file of `size` zero bytes, compressed with zstd: a few kilobytes.
fn zstd_bomb(size: u64) -> Vec<u8> {
    let mut e = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
    let mut h = tar::Header::new_ustar();
    h.set_path("zeros").unwrap();
    h.set_size(size);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    e.write_all(h.as_bytes()).unwrap();
    let zeros = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        let n = left.min(zeros.len() as u64) as usize;
        e.write_all(&zeros[..n]).unwrap();
        left -= n as u64;
    }
    e.write_all(&[0u8; 1024]).unwrap();
    e.finish().unwrap()
}

/// `--max-size` counts what is written (the unpacked content), not what is read: a small
/// compressed archive of a large file stops at the limit, and nothing changes.
#[test]
fn max_size_stops_a_decompression_bomb() {
    let t = TestEnv::new();
    t.ok(&["volume", "create", "vol"]);
    std::fs::write(t.data("vol").join("old"), "x").unwrap();
    let bomb = zstd_bomb(32 << 20);
    assert!(bomb.len() < 64 << 10, "{} bytes", bomb.len());
    let o = import(&t, &["--max-size", "1m", "vol"], &bomb);
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (1, "Error: import vol: the archive unpacks to more than 1MiB (--max-size)\n")
    );
    assert_eq!(t.entries("volumes/vol/_data"), ["old"]);
    assert!(t.entries("tmp").is_empty(), "{:?}", t.entries("tmp"));
    // Plain input counts the same way; a limit above the content lets it in.
    let tar = build(&[M::File(b"a", &[1u8; 3000]), M::File(b"b", &[2u8; 3000])]);
    let o = import(&t, &["--max-size", "5k", "vol"], &tar);
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (1, "Error: import vol: the archive unpacks to more than 5KiB (--max-size)\n")
    );
    let o = import(&t, &["--max-size", "6k", "vol"], &tar);
    assert_eq!((o.code, o.stderr.as_str()), (0, ""));
    assert_eq!(t.entries("volumes/vol/_data"), ["a", "b"]);
    // Sizes parse as Docker's, and a bad one is a flag error.
    let o = import(&t, &["--max-size", "lots", "vol"], &tar);
    assert_eq!(o.code, 125, "{o:?}");
    let o = import(&t, &["--min-free", "120%", "vol"], &tar);
    assert_eq!(o.code, 125, "{o:?}");
}
