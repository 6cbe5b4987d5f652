//! Trust under abuse: what backup cron jobs and CI scripts rely on when they cannot watch.
//! Metadata that cannot be read never makes a volume unremovable; an import never loses what
//! a running user writes, never leaves a half-made volume, never hangs and never fills the
//! disk; a killed command leaves nothing that the next one does not remove; errors name the
//! operation and the volume; a read-only store can be backed up; a cut export pipe fails.

use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin;
use myvol::store::{CreateRequest, Store};

use crate::env::tree::{assert_same, snapshot};
use crate::env::{HostNs, Out, PATIENCE, Spawned, TestEnv, path_str, require_root, rig, wait_for_path, wait_until};

/// A small xorshift generator: the random moments of the kill loops (fixed seeds, so that a
/// failure names a sequence that can be run again; the timing itself varies run to run).
struct Rand(u64);

impl Rand {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A duration in `[0, max]`.
    fn below(&mut self, max: Duration) -> Duration {
        let micros = max.as_micros().max(1) as u64;
        Duration::from_micros(self.next() % (micros + 1))
    }
}

/// SIGKILL `child` (a myvol command) and reap it: whether the signal is what ended it (it
/// was still at work), rather than its own exit.
fn kill(child: &mut Spawned) -> bool {
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGKILL);
    child.wait() == -1
}

/// How long `args` takes here at best (of three runs, after `before` each time): the span
/// in which the kill loops pick their moments.
fn time_of(t: &TestEnv, args: &[&str], mut before: impl FnMut()) -> Duration {
    (0..3)
        .map(|_| {
            before();
            let start = Instant::now();
            t.ok(args);
            start.elapsed()
        })
        .min()
        .unwrap()
}

/// `myvol ARGS…` in the background, its output discarded.
fn spawn(t: &TestEnv, args: &[&str]) -> Spawned {
    let mut c = t.cmd();
    c.args(args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    Spawned::new(&mut c)
}

/// `count` files of `size` bytes of varied content in `dir`.
fn fill(dir: &Path, count: usize, size: usize) {
    for i in 0..count {
        let data: Vec<u8> = (0..size).map(|j| ((i * 7919 + j) % 251) as u8).collect();
        std::fs::write(dir.join(format!("f{i:04}")), data).unwrap();
    }
}

// ---------------------------------------------------------------------------------------
// Metadata: one limit for writers and readers; what cannot be read is listed and removable.

#[test]
fn labels_over_the_metadata_limit_are_refused_at_create() {
    let t = TestEnv::new();
    let big = "x".repeat(120_000);
    let labels: Vec<String> = (0..10).map(|i| format!("k{i}={big}")).collect();
    let mut args = vec!["volume", "create"];
    for l in &labels {
        args.extend(["--label", l.as_str()]);
    }
    args.push("big");
    let o = t.run(&args);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(
        o.stderr.starts_with("Error: create big: labels and options too large: the volume's metadata would take "),
        "{}",
        o.stderr
    );
    assert!(o.stderr.ends_with(" bytes, more than the limit of 1048576 bytes (1 MiB)\n"), "{}", o.stderr);
    t.expect(&["volume", "ls", "-q"], 0, "", "");
    assert!(t.entries("tmp").is_empty());
    // Under the limit, every reader reads it back, and it can be renamed and removed.
    args.drain(2..6);
    *args.last_mut().unwrap() = "fits";
    t.expect(&args, 0, "fits\n", "");
    let o = t.run(&["volume", "inspect", "-f", "{{len .Labels}}", "fits"]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "8\n"), "{o:?}");
    t.expect(&["volume", "ls", "-q"], 0, "fits\n", "");
    t.expect(&["volume", "rename", "fits", "renamed"], 0, "renamed\n", "");
    t.expect(&["volume", "rm", "renamed"], 0, "renamed\n", "");
}

/// Volumes whose metadata cannot be read, however they got that way: listed by `ls` (with a
/// warning naming each on stderr), reported by `inspect`, left by `prune` (with a warning),
/// refused by `rm` (their driver is unknown), removed by `rm -f`.
#[test]
fn a_volume_whose_metadata_cannot_be_read_is_listed_and_removed_with_force() {
    let t = TestEnv::new();
    for n in ["good", "oversized", "garbage", "fifo", "bare", "busy"] {
        t.ok(&["volume", "create", n]);
    }
    let drop_xattr = |n: &str| rustix::fs::removexattr(t.volumes().join(n), "user.myvol.volume").unwrap();
    // What an older myvol wrote for labels over the readers' limit.
    drop_xattr("oversized");
    let huge = format!("{{\"format\":1,\"name\":\"oversized\",\"labels\":{{\"k\":\"{}\"}}}}", "x".repeat(1_200_000));
    std::fs::write(t.volumes().join("oversized/volume.json"), huge).unwrap();
    drop_xattr("garbage");
    std::fs::write(t.volumes().join("garbage/volume.json"), "\u{1b}[31m{{{").unwrap();
    drop_xattr("fifo");
    nix::unistd::mkfifo(&t.volumes().join("fifo/volume.json"), nix::sys::stat::Mode::from_bits_truncate(0o600))
        .unwrap();
    drop_xattr("bare");
    drop_xattr("busy");
    std::fs::write(t.volumes().join("stray-file"), "").unwrap();
    let broken = ["bare", "busy", "fifo", "garbage", "oversized", "stray-file"];

    let o = t.run(&["volume", "ls"]);
    assert_eq!(o.code, 0, "{o:?}");
    let listed: Vec<&str> = o.stdout.lines().skip(1).map(|l| l.split_whitespace().last().unwrap()).collect();
    assert_eq!(listed, ["bare", "busy", "fifo", "garbage", "good", "oversized", "stray-file"], "{}", o.stdout);
    let warnings: Vec<&str> = o.stderr.lines().collect();
    assert_eq!(warnings.len(), broken.len(), "{}", o.stderr);
    for (w, n) in warnings.iter().zip(broken) {
        assert!(w.starts_with(&format!("Warning: get {n}: invalid metadata in <ROOT>/volumes/{n}")), "{w}");
        assert!(
            w.ends_with(&format!("listed without its driver and labels; `myvol volume rm --force {n}` removes it"))
        );
        assert!(!w.chars().any(|c| c.is_control()), "unescaped: {w:?}");
    }
    assert!(o.stderr.contains("1200"), "the oversized file says its size: {}", o.stderr);
    t.expect(&["volume", "ls", "-q"], 0, &format!("{}\n", listed.join("\n")), "");
    for n in broken {
        let o = t.run(&["volume", "inspect", n]);
        assert_eq!(o.code, 1, "{n}");
        assert!(o.stderr.starts_with(&format!("Error: get {n}: invalid metadata in ")), "{o:?}");
        t.expect(&["volume", "exists", n], 0, "", "");
    }

    // prune (all unused) takes the good one and leaves the broken ones, saying so.
    let o = t.run(&["volume", "prune", "-a", "-f"]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "Deleted Volumes:\ngood\n\nTotal reclaimed space: 0B\n"), "{o:?}");
    assert_eq!(o.stderr.lines().count(), broken.len(), "{}", o.stderr);
    assert!(o.stderr.lines().all(|l| l.starts_with("Warning: get ") && l.contains(": not pruned; ")), "{}", o.stderr);

    // rm without --force: refused, naming why and what removes it anyway.
    let o = t.run(&["volume", "rm", "garbage"]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.starts_with("Error: remove garbage: invalid metadata in <ROOT>/volumes/garbage/volume.json: "));
    assert!(
        o.stderr
            .ends_with("(the volume's driver is unknown: `volume rm --force` removes it without asking the driver)\n")
    );
    // In use is in use, metadata or not.
    let store = Store::new(&t.root);
    let lease = store.lease(&"busy".parse().unwrap(), "test").unwrap();
    let o = t.run(&["volume", "rm", "-f", "busy"]);
    let first = o.stderr.lines().next().unwrap_or("").to_owned();
    assert_eq!((o.code, first), (1, format!("Error: remove busy: volume is in use - [{}]", lease.id())));
    assert!(o.stderr.contains(&format!("(pid {}) since ", std::process::id())), "{}", o.stderr);
    drop(lease);
    let o = t.run(&["volume", "rm", "-f", "bare", "busy", "fifo", "garbage", "oversized", "stray-file"]);
    assert_eq!(
        (o.code, o.stdout.as_str(), o.stderr.as_str()),
        (0, "bare\nbusy\nfifo\ngarbage\noversized\nstray-file\n", "")
    );
    t.expect(&["volume", "ls"], 0, "DRIVER    VOLUME NAME\n", "");
    t.assert_store_at_rest();
}

// ---------------------------------------------------------------------------------------
// Import with live users: nothing a user writes is lost.

/// Export a volume `new` holding one file `new` to a tar file; its path.
fn archive_of_new(t: &TestEnv) -> PathBuf {
    t.ok(&["volume", "create", "new"]);
    std::fs::write(t.data("new").join("new"), "new").unwrap();
    let archive = t.dir.path().join("new.tar");
    t.ok(&["volume", "export", "-o", path_str(&archive), "new"]);
    archive
}

/// A run that writes into the volume in a loop: `import --force` refuses to replace the
/// content under it (its writes would go with the old tree), the run sees no error, and every
/// line it wrote is there.
#[test]
fn import_force_never_replaces_the_content_under_a_writing_run() {
    let Some(r) = rig() else { return };
    let t = &r.t;
    let archive = archive_of_new(t);
    t.ok(&["volume", "create", "data"]);
    std::fs::write(t.data("data").join("old"), "old").unwrap();
    let script = "i=0; : > /data/log; touch /data/ready; \
                  while [ ! -e /data/stop ]; do echo $i >> /data/log || exit 3; i=$((i+1)); done; echo $i";
    let mut c = t.cmd();
    c.args(["run", "-v", "data:/data", path_str(&r.rootfs), "sh", "-c", script])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut run = Spawned::new(&mut c);
    wait_for_path(&t.data("data").join("ready"));
    let o = t.run(&["volume", "import", "--force", "data", path_str(&archive)]);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(o.stderr.starts_with("Error: import data: volume is in use for writing - ["), "{o:?}");
    assert!(t.data("data").join("old").exists());
    std::fs::write(t.data("data").join("stop"), "").unwrap();
    let mut rest = String::new();
    run.child().stdout.take().unwrap().read_to_string(&mut rest).unwrap();
    let mut err = String::new();
    run.child().stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert_eq!(run.wait(), 0, "the run saw an error: {rest}{err}");
    let n: usize = rest.trim().parse().unwrap();
    let log = std::fs::read_to_string(t.data("data").join("log")).unwrap();
    let expected: String = (0..n).map(|i| format!("{i}\n")).collect();
    assert_eq!(log, expected, "lines written by the run are missing");
}

/// A read-only run reading the volume in a loop: `import --force` swaps the new content in;
/// the run keeps the old tree, whole, until it ends (no error, no file gone); a new run sees
/// the new content; the old tree is removed by the first mutation after the run has ended.
#[test]
fn import_force_under_a_reading_run_keeps_its_view_until_it_ends() {
    let Some(r) = rig() else { return };
    let t = &r.t;
    let archive = archive_of_new(t);
    t.ok(&["volume", "create", "data"]);
    std::fs::write(t.data("data").join("old"), "old").unwrap();
    let sig = t.dir.path().join("sig");
    std::fs::create_dir(&sig).unwrap();
    let script = "n=0; touch /sig/ready; while [ ! -e /sig/stop ]; do \
                  [ \"$(cat /data/old)\" = old ] || { echo lost; exit 4; }; n=$((n+1)); echo $n > /sig/count; done; \
                  ls /data; echo reads=$n";
    let sig_mount = format!("{}:/sig", path_str(&sig));
    let mut c = t.cmd();
    c.args(["run", "-v", "data:/data:ro", "-v", &sig_mount, path_str(&r.rootfs), "sh", "-c", script])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut run = Spawned::new(&mut c);
    wait_for_path(&sig.join("ready"));
    let o = t.run(&["volume", "import", "--force", "data", path_str(&archive)]);
    assert_eq!((o.code, o.stderr.as_str()), (0, ""));
    // New users see the new content.
    let o = t.run(&["run", "--rm", "-v", "data:/d:ro", path_str(&r.rootfs), "cat", "/d/new"]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "new"), "{o:?}");
    // The old run goes on reading the old content after the swap.
    let count = || std::fs::read_to_string(sig.join("count")).ok().and_then(|s| s.trim().parse::<u64>().ok());
    let after = count().unwrap_or(0);
    wait_until("the reading run reads after the import", PATIENCE, || count().is_some_and(|n| n > after + 3));
    let kept = |t: &TestEnv| t.entries("tmp").into_iter().filter(|e| !e.starts_with("lease-")).count();
    assert_eq!(kept(t), 1, "the old content is kept for the run: {:?}", t.entries("tmp"));
    t.ok(&["volume", "create", "meanwhile"]);
    assert_eq!(kept(t), 1, "a mutation while the run lives keeps it");
    std::fs::write(sig.join("stop"), "").unwrap();
    assert_eq!(run.wait(), 0, "the reading run failed");
    let mut out = String::new();
    run.child().stdout.take().unwrap().read_to_string(&mut out).unwrap();
    assert!(out.starts_with("old\nreads="), "{out}");
    t.ok(&["volume", "create", "after"]);
    t.assert_store_at_rest();
    assert_eq!(t.entries("volumes/data/_data"), ["new"]);
}

// ---------------------------------------------------------------------------------------
// import --create: the volume appears whole or not at all, however the import is killed.

#[test]
fn import_create_killed_at_random_moments_leaves_no_volume_or_a_complete_one() {
    let t = TestEnv::new();
    t.ok(&["volume", "create", "src"]);
    fill(&t.data("src"), 300, 48 << 10);
    let expected = snapshot(&t.data("src"));
    let archive = t.dir.path().join("src.tar");
    t.ok(&["volume", "export", "-o", path_str(&archive), "src"]);
    // The kills land anywhere in the time one import takes here.
    let span = time_of(&t, &["volume", "import", "--create", "probe", path_str(&archive)], || {
        let _ = t.run(&["volume", "rm", "probe"]);
    });
    t.ok(&["volume", "rm", "probe"]);
    let mut rand = Rand(0x5eed_0f1d_c0ff_ee00);
    let (mut absent, mut complete, mut interrupted) = (0, 0, 0);
    for i in 0..25 {
        let mut child = spawn(&t, &["volume", "import", "--create", "victim", path_str(&archive)]);
        std::thread::sleep(rand.below(span));
        interrupted += usize::from(kill(&mut child));
        let names = t.ok(&["volume", "ls", "-q"]);
        if names.lines().any(|n| n == "victim") {
            assert_same(&expected, &snapshot(&t.data("victim")));
            complete += 1;
            t.ok(&["volume", "rm", "victim"]);
        } else {
            t.expect(&["volume", "inspect", "victim"], 1, "[]\n", "Error: get victim: no such volume\n");
            absent += 1;
        }
        let _ = i;
    }
    eprintln!("import --create killed 25 times: {interrupted} at work; then {absent} absent, {complete} complete");
    assert!(interrupted > 0, "no kill landed while the import worked: this run proved nothing");
    t.ok(&["volume", "create", "last"]);
    t.assert_store_at_rest();
}

// ---------------------------------------------------------------------------------------
// The disk: an import never fills it, and errors on a full one name the volume.

/// In a private mount namespace, a store on a 32 MiB tmpfs of 4000 inodes.
struct SmallStore {
    ns: HostNs,
    t: TestEnv,
    mnt: PathBuf,
    root: PathBuf,
}

impl SmallStore {
    fn new() -> Option<SmallStore> {
        if !require_root("to mount a small tmpfs in a private mount namespace") {
            return None;
        }
        let ns = HostNs::new()?;
        let t = TestEnv::new();
        let mnt = t.dir.path().join("small");
        std::fs::create_dir(&mnt).unwrap();
        ns.sh(&format!("mount -t tmpfs -o size=32m,nr_inodes=4000 myvol-test {}", path_str(&mnt)));
        let root = mnt.join("root");
        Some(SmallStore { ns, t, mnt, root })
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = self.ns.enter(cargo_bin("myvol"));
        c.args(args).env("MYVOL_ROOT", &self.root).env("TZ", "UTC").current_dir(self.t.dir.path());
        c
    }

    fn run(&self, args: &[&str]) -> Out {
        let o = self.t.exec(self.cmd(args), None);
        let root = path_str(&self.root);
        Out { stdout: o.stdout.replace(root, "<ROOT>"), stderr: o.stderr.replace(root, "<ROOT>"), ..o }
    }

    #[track_caller]
    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert_eq!(o.code, 0, "myvol {}: {o:#?}", args.join(" "));
        o.stdout
    }

    /// Free bytes on the tmpfs.
    fn free(&self) -> u64 {
        let o = self.ns.enter("stat").args(["-f", "-c", "%a %S", path_str(&self.mnt)]).output().unwrap();
        let text = String::from_utf8_lossy(&o.stdout);
        let mut f = text.split_whitespace().map(|n| n.parse::<u64>().unwrap());
        f.next().unwrap() * f.next().unwrap()
    }

    /// The entries of `tmp/` under the root (seen through the namespace's own view).
    fn tmp(&self) -> Vec<String> {
        let o = self.ns.enter("ls").args(["-A", path_str(&self.root.join("tmp"))]).output().unwrap();
        String::from_utf8_lossy(&o.stdout).lines().map(str::to_owned).collect()
    }
}

#[test]
fn a_run_that_fails_on_a_full_disk_leaves_no_volume_and_no_temporary() {
    let Some(s) = SmallStore::new() else { return };
    s.ok(&["volume", "create", "vol"]);
    let _ = s.ns.enter("dd").args(["if=/dev/zero", &format!("of={}/fill", path_str(&s.mnt)), "bs=1M"]).output();
    // Making the volume may fit (a directory), its lease cannot: the volume made for it is
    // taken back, named or anonymous, and nothing is left in tmp/ or leases/.
    for spec in ["fresh:/d", "/anon"] {
        let o = s.run(&["run", "--rm", "-v", spec, "/", "/bin/true"]);
        assert_eq!(o.code, 125, "{o:?}");
        assert!(o.stderr.contains("no space left on device"), "{}", o.stderr);
        assert_eq!(o.stderr.lines().count(), 1, "{}", o.stderr);
        assert!(!o.stderr.contains("<ROOT>/fresh/"), "the path is under volumes/: {}", o.stderr);
        assert_eq!(s.ok(&["volume", "ls", "-q"]), "vol\n", "after -v {spec}");
        assert!(s.tmp().is_empty(), "{:?}", s.tmp());
        let leases = s.ns.enter("ls").args(["-A", path_str(&s.root.join("volumes/vol"))]).output().unwrap();
        assert!(!String::from_utf8_lossy(&leases.stdout).contains(".new-"), "{leases:?}");
    }
    s.ns.sh(&format!("rm {}/fill", path_str(&s.mnt)));
    s.ok(&["run", "--rm", "-v", "fresh:/d", "/", "/bin/true"]);
    assert_eq!(s.ok(&["volume", "ls", "-q"]), "fresh\nvol\n");
}

/// A tar of one file of `size` zero bytes, compressed with zstd (a few kilobytes).
fn zstd_bomb(size: u64) -> Vec<u8> {
    let mut e = zstd::stream::write::Encoder::new(Vec::new(), 1).unwrap();
    let mut h = tar::Header::new_ustar();
    h.set_path("zeros").unwrap();
    h.set_size(size);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    e.write_all(h.as_bytes()).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..size >> 20 {
        e.write_all(&zeros).unwrap();
    }
    e.write_all(&[0u8; 1024]).unwrap();
    e.finish().unwrap()
}

#[test]
fn an_import_stops_before_the_disk_reserve_and_errors_on_a_full_disk_name_the_volume() {
    let Some(s) = SmallStore::new() else { return };
    s.ok(&["volume", "create", "vol"]);
    s.ns.sh(&format!("echo old > {}/volumes/vol/_data/old", path_str(&s.root)));
    let free_before = s.free();
    // 128 MiB of zeros in a few kilobytes, on a 32 MiB filesystem: the default reserve
    // (5% of it: 1.6 MiB) stops it, not ENOSPC.
    let bomb = s.t.dir.path().join("bomb.tar.zst");
    std::fs::write(&bomb, zstd_bomb(128 << 20)).unwrap();
    assert!(std::fs::metadata(&bomb).unwrap().len() < 64 << 10);
    let o = s.run(&["volume", "import", "vol", path_str(&bomb)]);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(
        o.stderr.starts_with("Error: import vol: stopped before the store's filesystem runs out of space: "),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr
            .ends_with(" must stay free (the default reserve: 5% of the filesystem or 1GiB, whichever is smaller)\n"),
        "{}",
        o.stderr
    );
    assert_eq!(s.ok(&["volume", "ls", "-q"]), "vol\n");
    assert!(s.tmp().is_empty(), "{:?}", s.tmp());
    assert!(s.free() + (256 << 10) >= free_before, "the space came back");
    // A reserve given in percent, and --max-size, apply the same way; 0 turns the reserve off.
    let o = s.run(&["volume", "import", "--min-free", "90%", "vol", path_str(&bomb)]);
    assert!(o.stderr.ends_with("must stay free (--min-free 90%)\n"), "{o:?}");
    let small = s.t.dir.path().join("small.tar");
    s.t.ok(&["volume", "create", "tiny"]);
    std::fs::write(s.t.data("tiny").join("f"), "tiny").unwrap();
    s.t.ok(&["volume", "export", "-o", path_str(&small), "tiny"]);
    s.ok(&["volume", "import", "--min-free", "0", "vol", path_str(&small)]);
    // An endless stream of valid headers (empty files, each a new inode) stops too.
    let mut c = s.cmd(&["volume", "import", "vol", "-"]);
    c.stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::piped());
    let mut child = Spawned::new(&mut c);
    let mut stdin = child.child().stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        for i in 0u64.. {
            let mut h = tar::Header::new_ustar();
            h.set_path(format!("d{}/f{i}", i / 1000)).unwrap();
            h.set_size(0);
            h.set_mode(0o644);
            h.set_entry_type(tar::EntryType::Regular);
            h.set_cksum();
            if stdin.write_all(h.as_bytes()).is_err() {
                break;
            }
        }
    });
    let mut err = String::new();
    child.child().stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert_eq!(child.wait(), 1, "{err}");
    feeder.join().unwrap();
    assert!(err.starts_with("Error: import vol: stopped before the store's filesystem runs out of inodes: "), "{err}");
    assert!(s.tmp().is_empty(), "{:?}", s.tmp());

    // Now the filesystem is full: each verb that needs space says which volume it was at.
    let _ = s.ns.enter("dd").args(["if=/dev/zero", &format!("of={}/fill", path_str(&s.mnt)), "bs=1M"]).output();
    let out = s.t.dir.path().join("out.tar");
    // Those that fail at taking their lease name it under the root: `volumes/vol/leases`.
    for (args, prefix, at_lease) in [
        (vec!["volume", "export", "-o", path_str(&out), "vol"], "Error: export vol: ", true),
        (vec!["volume", "clone", "vol", "copy"], "Error: clone vol: ", true),
        (vec!["volume", "mount", "vol"], "Error: mount vol: ", true),
        (vec!["volume", "import", "vol", path_str(&small)], "Error: import vol: ", false),
    ] {
        let o = s.run(&args);
        assert_eq!(o.code, 1, "{o:?}");
        assert!(o.stderr.starts_with(prefix), "{prefix}: {}", o.stderr);
        assert!(o.stderr.contains("no space left on device"), "{}", o.stderr);
        assert_eq!(o.stderr.lines().count(), 1, "{}", o.stderr);
        if at_lease {
            assert_eq!(o.stderr, format!("{prefix}lease <ROOT>/volumes/vol/leases: no space left on device\n"));
        }
    }
    s.ns.sh(&format!("rm {}/fill", path_str(&s.mnt)));
    s.ok(&["volume", "create", "after"]);
    assert_eq!(s.ok(&["volume", "ls", "-q"]), "after\nvol\n");
    assert!(s.tmp().is_empty(), "{:?}", s.tmp());
}

// ---------------------------------------------------------------------------------------
// Leftovers: a killed command leaves nothing the next mutation does not remove.

#[test]
fn killed_exports_leave_no_lease_files_after_the_next_mutation() {
    let t = TestEnv::new();
    t.ok(&["volume", "create", "vol"]);
    let fifo = t.dir.path().join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    for _ in 0..5 {
        // Blocked opening the FIFO, with its lease held: then killed.
        let mut child = spawn(&t, &["volume", "export", "-o", path_str(&fifo), "vol"]);
        wait_until("the export holds its lease", PATIENCE, || {
            t.run(&["volume", "ls", "-q", "-f", "dangling=false"]).stdout == "vol\n"
        });
        kill(&mut child);
    }
    t.expect(&["volume", "ls", "-q", "-f", "dangling=true"], 0, "vol\n", "");
    t.ok(&["volume", "create", "unrelated"]);
    t.assert_store_at_rest();
}

/// `export -o FILE` killed at random moments: FILE is absent (or the previous one, whole) or
/// the complete archive, and nothing else is left in its directory.
#[test]
fn a_killed_export_to_a_file_leaves_no_temporary() {
    let t = TestEnv::new();
    t.ok(&["volume", "create", "vol"]);
    fill(&t.data("vol"), 200, 128 << 10);
    let out = t.dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let archive = out.join("backup.tar");
    let span = time_of(&t, &["volume", "export", "-o", path_str(&archive), "vol"], || {});
    let whole = std::fs::read(&archive).unwrap();
    let mut rand = Rand(0x0bac_c0ff_ee00_0001);
    let mut interrupted = 0;
    for i in 0..20 {
        if i % 2 == 0 {
            std::fs::remove_file(&archive).unwrap();
        }
        let mut child = spawn(&t, &["volume", "export", "-o", path_str(&archive), "vol"]);
        std::thread::sleep(rand.below(span));
        interrupted += usize::from(kill(&mut child));
        let left: Vec<String> =
            std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        assert!(left.is_empty() || left == ["backup.tar"], "left behind: {left:?}");
        if !left.is_empty() {
            assert!(std::fs::read(&archive).unwrap() == whole, "a partial archive under the real name");
        } else {
            std::fs::write(&archive, &whole).unwrap();
        }
    }
    assert!(interrupted > 0, "no kill landed while the export worked: this run proved nothing");
    t.ok(&["volume", "create", "after"]);
    t.assert_store_at_rest();
}

/// Temporaries of atomic writes that older versions left at the root are removed by the next
/// mutation (new ones are made in `tmp/`).
#[test]
fn temporaries_left_at_the_root_are_removed_by_the_next_mutation() {
    let t = TestEnv::new();
    t.ok(&["volume", "create", "vol"]);
    for name in [".tmp-rename.json-0123456789abcdef", ".tmp-store.json-fedcba9876543210"] {
        std::fs::write(t.root.join(name), "{").unwrap();
    }
    t.ok(&["volume", "create", "other"]);
    t.assert_store_at_rest();
}

// ---------------------------------------------------------------------------------------
// Errors that help: names Docker rejects are not found; a read-only store can be backed up;
// a cut pipe is a failure.

#[test]
fn a_name_too_long_for_the_filesystem_is_no_such_volume_for_every_lookup() {
    let t = TestEnv::new();
    t.ok(&["volume", "create", "vol"]);
    let long = "a".repeat(256);
    let missing = format!("Error: get {long}: no such volume\n");
    let archive = t.dir.path().join("a.tar");
    t.ok(&["volume", "export", "-o", path_str(&archive), "vol"]);
    let out = t.dir.path().join("out.tar");
    for args in [
        vec!["volume", "rm", long.as_str()],
        vec!["volume", "rename", long.as_str(), "new"],
        vec!["volume", "clone", long.as_str(), "new"],
        vec!["volume", "export", "-o", path_str(&out), long.as_str()],
        vec!["volume", "import", long.as_str(), path_str(&archive)],
        vec!["volume", "mount", long.as_str()],
        vec!["volume", "unmount", long.as_str()],
    ] {
        let o = t.run(&args);
        // An import into a missing volume also says how to create it.
        let hint = if args[1] == "import" { "Add --create to create the volume and import into it\n" } else { "" };
        assert_eq!((o.code, o.stderr.as_str()), (1, format!("{missing}{hint}").as_str()), "{}", args[1]);
    }
    t.expect(&["volume", "inspect", &long], 1, "[]\n", &missing);
    t.expect(&["volume", "exists", &long], 1, "", "");
    t.expect(&["volume", "rm", "-f", &long], 0, &format!("{long}\n"), "");
    // Creating it fails as Docker's does, naming the path.
    let o = t.run(&["volume", "create", &long]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.starts_with(&format!("Error: create {long}: error while creating volume root path '")), "{o:?}");
    assert!(o.stderr.ends_with(": file name too long\n"), "{o:?}");
    // As a new name for a volume: an error of that operation, on that volume, in the words
    // of the create that cannot be, naming the new name's path.
    for op in ["rename", "clone"] {
        let path = format!("<ROOT>/volumes/{long}");
        let want = format!(
            "Error: {op} vol: error while creating volume root path '{path}': mkdir {path}: file name too long\n"
        );
        t.expect(&["volume", op, "vol", &long], 1, "", &want);
    }
    t.expect(&["volume", "ls", "-q"], 0, "vol\n", "");
    t.assert_store_at_rest();
}

/// A store mounted read-only (a snapshot, a read-only bind mount) can be exported: the export
/// holds a reader's lock instead of a lease file, which a removal through a writable mount of
/// the same store respects.
#[test]
fn a_read_only_store_can_be_exported_and_its_reader_is_respected() {
    if !require_root("to bind-mount the store read-only in a private mount namespace") {
        return;
    }
    let Some(ns) = HostNs::new() else { return };
    let t = TestEnv::new();
    t.ok(&["volume", "create", "vol"]);
    fill(&t.data("vol"), 3, 1000);
    let root = path_str(&t.root);
    ns.sh(&format!("mount --bind {root} {root} && mount -o remount,bind,ro {root}"));
    let myvol = |args: &[&str]| {
        let mut c = ns.enter(cargo_bin("myvol"));
        c.args(args).env("MYVOL_ROOT", &t.root).current_dir(t.dir.path());
        c
    };
    let archive = t.dir.path().join("ro.tar");
    let o = t.exec(myvol(&["volume", "export", "-o", path_str(&archive), "vol"]), None);
    assert_eq!((o.code, o.stderr.as_str()), (0, ""));
    t.ok(&["volume", "import", "--create", "copy", path_str(&archive)]);
    assert_same(&snapshot(&t.data("vol")), &snapshot(&t.data("copy")));
    // An export blocked on its output holds the volume: rm through the writable store waits
    // its turn (refused), and works once the export has ended.
    let fifo = t.dir.path().join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let mut c = myvol(&["volume", "export", "-o", path_str(&fifo), "vol"]);
    let mut export = Spawned::new(c.stdout(Stdio::null()).stderr(Stdio::piped()));
    let vdir = t.volumes().join("vol");
    wait_until("the read-only export locks the volume", PATIENCE, || {
        let d = std::fs::File::open(&vdir).unwrap();
        !myvol::fsutil::try_lock_exclusive(d.as_fd()).unwrap()
    });
    t.expect(&["volume", "rm", "vol"], 1, "", "Error: remove vol: volume is in use - [read-only-export]\n");
    let o = t.run(&["volume", "import", "--force", "vol", path_str(&archive)]);
    assert_eq!((o.code, o.stderr.as_str()), (1, "Error: import vol: volume is in use - [read-only-export]\n"));
    let mut bytes = Vec::new();
    std::fs::File::open(&fifo).unwrap().read_to_end(&mut bytes).unwrap();
    assert_eq!(export.wait(), 0);
    assert_eq!(bytes, std::fs::read(&archive).unwrap());
    t.expect(&["volume", "rm", "vol"], 0, "vol\n", "");
}

/// `myvol volume export v | head -c 100`: the archive was cut, so the export fails (141, as
/// tar killed by SIGPIPE), quietly; a listing cut short (`volume ls | head -1`) stays quiet
/// and successful, as Docker's.
#[test]
fn a_cut_export_pipe_fails_quietly_and_a_cut_listing_does_not() {
    let t = TestEnv::new();
    t.ok(&["volume", "create", "vol"]);
    // Content that does not compress: a compressed archive too is larger than a pipe holds,
    // so the export is still writing when the pipe closes.
    let mut rand = Rand(0x0123_4567_89ab_cdef);
    let noise: Vec<u8> = (0..4 << 20).map(|_| rand.next() as u8).collect();
    std::fs::write(t.data("vol").join("noise"), noise).unwrap();
    let head = |args: &[&str]| {
        let mut c = t.cmd();
        c.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        let mut first = [0u8; 100];
        child.stdout.as_mut().unwrap().read_exact(&mut first).unwrap();
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned())
    };
    assert_eq!(head(&["volume", "export", "vol"]), (Some(141), String::new()));
    assert_eq!(head(&["volume", "export", "--compress", "zstd", "vol"]), (Some(141), String::new()));
    let store = Store::new(&t.root);
    for i in 0..1500 {
        let name = format!("volume-with-a-name-long-enough-to-fill-a-pipe-quickly-{i:05}");
        store.create(CreateRequest { name: Some(name.parse().unwrap()), ..CreateRequest::default() }).unwrap();
    }
    assert_eq!(head(&["volume", "ls", "-q"]), (Some(0), String::new()));
    assert_eq!(head(&["volume", "ls"]), (Some(0), String::new()));
    // The export's lease went with it.
    t.expect(&["volume", "ls", "-q", "-f", "dangling=false"], 0, "", "");
}
