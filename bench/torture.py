#!/usr/bin/env python3
"""The torture run: myvol under SIGKILL, contention, failing disks and hostile input.

    python3 bench/torture.py                      # short mode, about a minute (what CI runs)
    python3 bench/torture.py --long --minutes 20  # long mode: thousands of kills
    python3 bench/torture.py --seed 7 --only kill,hostile --keep

The binary is $MYVOL (else --myvol, else target/debug/myvol, else `myvol` on PATH); build it
with `cargo build --features failpoints` so that the failpoint class can run. Everything
happens on private stores in a temporary directory (never the default store); as root, the
run first enters a mount namespace of its own, so the tmpfs and read-only mounts it makes die
with it, and it removes its temporary directory and kills what it started when it ends, also
on Ctrl-C or SIGTERM.

Classes (--only): kill (SIGKILL at random moments), syscall (SIGKILL before a syscall, by
strace), failpoint (SIGKILL at each of myvol's failpoints), concurrency (32 processes on
overlapping names), faults (disk full, read-only and foreign-owned roots), hostile (hostile
input). Each failed check prints `FAIL check: what` and how to reproduce it; the last line is
`N passed, M failed` (exit status 1 when M > 0). What each check guarantees is in
docs/reliability.md.

Standard library only: CI installs nothing for it but strace (for the syscall class).
"""

import argparse
import collections
import contextlib
import hashlib
import io
import json
import os
import random
import re
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import traceback
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
VALID_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
# Raw control characters a terminal would act on: C0 (tab included) and DEL, C1, and the
# bidi overrides and isolates. A newline only ends the one line an error may have.
RAW_CONTROL = re.compile(rb"[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\xaa-\xae]|\xe2\x81[\xa6-\xa9]")
# The most an error line may take, whatever it echoes.
ERROR_LIMIT = 4096
NL = b"\n"
# Hint lines an error may have after its one `Error:` line (`Used by …` for each user of a
# volume in use, `Add --create …`), and what a hint line may not be: another error, a
# panic, the runtime's or the OS's noise.
HINT_LINES = 64
NOT_A_HINT = re.compile(rb"^\s*(error|warning|fatal)\b|panicked|RUST_BACKTRACE|stack backtrace|\(os error \d+\)|^\s*at src/|^note: ", re.I)
CLASSES = ["kill", "syscall", "failpoint", "concurrency", "faults", "hostile"]
FOREIGN_UID = 4242
# Failpoints no verb here can reach, and why; any other that none reaches is a failure, so a
# new failpoint is covered (or noticed) at once.
UNREACHABLE = {
    "image-lookup-after-repositories": "reached by image lookups without the lock (run IMAGE, "
    "image inspect), which only read: a kill there changes nothing; src/image/store/tests.rs "
    "moves a name at it",
}

# The words by which an error names its operation. `get` is Docker's word for "the volume
# you named was looked up" and is right for every verb that takes an existing volume.
OPS = {
    "create": ["create"],
    "rm": ["remove", "rm", "get"],
    "prune": ["prune", "remove"],
    "rename": ["rename", "get"],
    "clone": ["clone", "get", "create"],
    "import": ["import", "get", "create"],
    "export": ["export", "get"],
    # A `-v` spec Docker's parser refuses is named by its part, not by an operation
    # (`invalid mode: /d`, `invalid volume specification: '…'`), in Docker as in myvol.
    "run": ["run", "create", "mount", "get", "invalid mode", "invalid volume specification"],
    "inspect": ["get", "inspect"],
    "ls": ["list", "ls"],
    "mount": ["mount", "get"],
}

LIVE = set()  # process groups started and not yet reaped
SPAWNED = [0]  # commands started
LIVE_LOCK = threading.Lock()


class Stop(Exception):
    """Raised by the signal handler: leave through the cleanup path."""


def show(args):
    """A command line for humans: long arguments shortened, control characters visible."""
    out = []
    for a in args:
        a = a if isinstance(a, str) else a.decode(errors="replace")
        if len(a) > 60:
            a = f"<{len(a)} chars: {a[:20]!r}…>"
        elif RAW_CONTROL.search(a.encode()) or "\n" in a:
            a = "$" + repr(a)
        out.append(a if a.startswith(("<", "$'", '$"')) else shlex.quote(a))
    return " ".join(out)


class Result:
    def __init__(self, args, rc, out, err, secs, timed_out):
        self.args, self.rc, self.out, self.err, self.secs, self.timed_out = args, rc, out, err, secs, timed_out

    def text(self):
        return self.out.decode(errors="replace")

    def brief(self):
        err = self.err if len(self.err) < 300 else self.err[:300] + b"..."
        how = "timed out" if self.timed_out else f"exit {self.rc}" if self.rc >= 0 else f"signal {-self.rc}"
        return f"{how}, stderr {err!r}"


def spawn(argv, env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, pass_fds=()):
    p = subprocess.Popen(argv, env=env, stdin=stdin, stdout=stdout, stderr=stderr, start_new_session=True, pass_fds=pass_fds)
    with LIVE_LOCK:
        LIVE.add(p.pid)
        SPAWNED[0] += 1
    return p


def reap(p):
    """Kill what is left of p's process group (the run's command, say) and forget it."""
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    with LIVE_LOCK:
        LIVE.discard(p.pid)


def finish(p, argv, t0, timeout, input=None):
    try:
        out, err = p.communicate(input=input, timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        reap(p)
        out, err = p.communicate()
        timed_out = True
    reap(p)
    return Result(argv, p.returncode, out or b"", err or b"", time.monotonic() - t0, timed_out)


class Report:
    SHOW = 3  # failures shown per check; the rest are counted

    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.skipped = []
        self.fails = collections.Counter()
        self.lock = threading.Lock()

    def check(self, cond, check, detail, repro):
        with self.lock:
            if cond:
                self.passed += 1
                return True
            self.failed += 1
            self.fails[check] += 1
            if self.fails[check] <= self.SHOW:
                print(f"FAIL {check}: {detail}\n    reproduce: {repro}", flush=True)
            return False

    def skip(self, what, why):
        self.skipped.append(what)
        print(f"SKIPPED {what}: {why}", flush=True)

    def info(self, line):
        print(f"  {line}", flush=True)


def tree_sum(path):
    """A checksum of a tree's names, types, modes, contents and link targets (not times)."""
    h = hashlib.sha256()
    if not os.path.isdir(path):
        return None
    for dirpath, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(dirs + files):
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            rel = os.path.relpath(p, path)
            h.update(f"{rel}\0{stat.S_IFMT(st.st_mode)}\0{stat.S_IMODE(st.st_mode)}\0".encode())
            if stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    while chunk := f.read(1 << 20):
                        h.update(chunk)
            elif stat.S_ISLNK(st.st_mode):
                h.update(os.readlink(p).encode())
    return h.hexdigest()


def snapshot(root):
    """Everything a store holds, to tell whether a command left it exactly as it was."""
    snap = {}
    if not os.path.lexists(root):
        return snap
    for dirpath, dirs, files in os.walk(root):
        for name in [""] + dirs + files if dirpath == root else dirs + files:
            p = os.path.join(dirpath, name) if name else dirpath
            st = os.lstat(p)
            rel = os.path.relpath(p, root)
            entry = [stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid]
            if stat.S_ISREG(st.st_mode):
                entry.append(st.st_size)
                with open(p, "rb") as f:
                    entry.append(hashlib.sha256(f.read()).hexdigest())
            elif stat.S_ISLNK(st.st_mode):
                entry.append(os.readlink(p))
            try:
                entry.append(sorted((k, os.getxattr(p, k, follow_symlinks=False)) for k in os.listxattr(p, follow_symlinks=False)))
            except OSError:
                pass
            snap[rel] = entry
    return snap


LEFTOVER = re.compile(r"^(tmp|trash|runs)/.|^volumes/[^/]+/leases/.|^\.tmp-|^rename\.json$")
LEASES_DIR = re.compile(r"^volumes/[^/]+/leases$")


def same_store(a, b):
    """Whether b is the store a, give or take what a command may do without changing it:
    clean leftovers up (tmp/, trash/, runs/, dead leases, .tmp-*) and make a volume's empty
    leases/ directory."""
    for k in set(a) | set(b):
        if k in a and k in b:
            if a[k] != b[k]:
                return False
        elif k in a:
            if not LEFTOVER.match(k):
                return False
        elif not (LEASES_DIR.match(k) and not any(x.startswith(k + "/") for x in b)):
            return False
    return True


def leftover_kind(entry):
    """What a leftover is, for the tally: `volumes/v/leases/<id>` is a stale lease, …"""
    if entry.startswith("mount "):
        return "mount"
    if re.match(r"volumes/[^/]+/leases/", entry):
        return "stale lease (volumes/*/leases/*)"
    if re.match(r"volumes/[^/]+/\.tmp-", entry):
        return "volumes/*/.tmp-*"
    if entry.startswith(".tmp-"):
        return "root " + re.sub(r"-[0-9a-f]+$", "-*", entry)
    return entry.split("/")[0] + "/*"


def snap_diff(a, b):
    added = sorted(set(b) - set(a))
    gone = sorted(set(a) - set(b))
    changed = sorted(k for k in set(a) & set(b) if a[k] != b[k])
    parts = []
    for what, keys in (("added", added), ("removed", gone), ("changed", changed)):
        if keys:
            parts.append(f"{what} {keys[:5]}{' …' if len(keys) > 5 else ''}")
    return "; ".join(parts)


def clean_error(res, ops, names, limit=ERROR_LIMIT):
    """What is wrong with a failed command's answer, or None: one `Error:` line, bounded,
    with no raw control characters, naming the operation and (when given) a volume; then at
    most HINT_LINES hint lines (who uses the volume, what flag would help), none of them
    another error, a panic or the runtime's noise."""
    err = res.err
    problems = []
    if res.timed_out:
        return "did not end (hang)"
    if res.rc < 0:
        return f"killed by signal {-res.rc}"
    if res.rc == 101 or b"panicked" in err:
        return "panicked"
    if len(err) > limit:
        problems.append(f"stderr is {len(err)} bytes (bounded to {limit})")
    body = err[:-1] if err.endswith(b"\n") else err
    lines = body.split(NL)
    if not body.startswith(b"Error: "):
        problems.append("does not start with one `Error:` line")
    hints = lines[1:]
    if len(hints) > HINT_LINES:
        problems.append(f"{len(lines)} lines (one `Error:` line and at most {HINT_LINES} hints)")
    bad = [h for h in hints if not h.strip() or NOT_A_HINT.search(h)]
    if bad:
        problems.append(f"a second error or noise after the `Error:` line: {bad[0][:80]!r}")
    if RAW_CONTROL.search(body):
        problems.append("raw control characters on the terminal")
    line = lines[0]
    if ops and not any(re.search(rb"\b" + o.encode() + rb"\b", line) for o in ops):
        problems.append(f"does not name the operation ({'/'.join(ops)})")
    if names and not any(n.encode() in line for n in names):
        problems.append(f"does not name the volume ({'/'.join(names)})")
    return "; ".join(problems) or None


def make_tree(path, nbytes, nfiles, rng, tag):
    """Files of random bytes in a few directories, a symlink, an empty dir, a tag file."""
    os.makedirs(path, exist_ok=True)
    per = max(1, nbytes // max(1, nfiles))
    for i in range(nfiles):
        d = os.path.join(path, f"d{i % 17}", f"e{i % 5}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"f{i}"), "wb") as f:
            f.write(rng.randbytes(per if i % 7 else per // 3 + 1))
    os.makedirs(os.path.join(path, "empty"), exist_ok=True)
    os.symlink("d0/e0", os.path.join(path, "link"))
    with open(os.path.join(path, "TAG"), "w") as f:
        f.write(tag)


def zstd_bomb(inner_size, byte=b"A"):
    """A zstd frame of a tar archive holding one file of inner_size copies of byte, built
    from raw and RLE blocks (4 bytes of frame per 128 KiB of output)."""
    ti = tarfile.TarInfo("bomb")
    ti.size = inner_size
    header = ti.tobuf(format=tarfile.GNU_FORMAT)
    out = bytearray(b"\x28\xb5\x2f\xfd")  # magic
    out += bytes([0x00, 7 << 3])  # no content size, no checksum; window 2^17
    blocks = [("raw", header)]
    left = inner_size
    while left:
        n = min(left, 1 << 17)
        blocks.append(("rle", n, byte))
        left -= n
    pad = (-inner_size) % 512 + 1024
    blocks.append(("rle", pad, b"\0"))
    for i, b in enumerate(blocks):
        last = 1 if i == len(blocks) - 1 else 0
        if b[0] == "raw":
            out += (last | (0 << 1) | (len(b[1]) << 3)).to_bytes(3, "little") + b[1]
        else:
            out += (last | (1 << 1) | (b[1] << 3)).to_bytes(3, "little") + b[2]
    return bytes(out)


def gzip_bomb(inner_size):
    ti = tarfile.TarInfo("bomb")
    ti.size = inner_size
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = [c.compress(ti.tobuf(format=tarfile.GNU_FORMAT))]
    chunk = b"A" * (1 << 20)
    left = inner_size
    while left:
        n = min(left, len(chunk))
        out.append(c.compress(chunk[:n]))
        left -= n
    out.append(c.compress(b"\0" * ((-inner_size) % 512 + 1024)))
    out.append(c.flush())
    return b"".join(out)


class Store:
    """A private store and the fixtures the kill scenarios share: `src` (content A), `alt`
    (content B) and `alt.tar`, alt's archive."""

    n = 0

    def __init__(self, t, size, files, base=None):
        Store.n += 1
        self.t = t
        self.dir = os.path.join(base or t.tmp, f"store{Store.n}")
        self.root = os.path.join(self.dir, "r")
        self.out = os.path.join(self.dir, "out")
        os.makedirs(self.out)
        self.size, self.files = size, files
        self.sums = {}
        self.seq = 0

    def mv(self, *args, **kw):
        return self.t.mv(self.root, list(args), **kw)

    def must(self, *args, **kw):
        r = self.mv(*args, **kw)
        if r.rc != 0 or r.timed_out:
            raise SetupFailed(f"`myvol {show(args)}` failed: {r.brief()}", self)
        return r

    def data(self, name):
        return os.path.join(self.root, "volumes", name, "_data")

    def fresh(self, prefix):
        self.seq += 1
        return f"{prefix}{self.seq}"

    def fixtures(self):
        rng = random.Random(self.t.rng.random())
        self.must("volume", "create", "--label", "role=src", "src")
        make_tree(self.data("src"), self.size, self.files, rng, "A")
        self.must("volume", "create", "alt")
        make_tree(self.data("alt"), self.size // 2, self.files // 2 + 1, rng, "B")
        self.sums["A"] = tree_sum(self.data("src"))
        self.sums["B"] = tree_sum(self.data("alt"))
        self.archive = os.path.join(self.dir, "alt.tar")
        self.must("volume", "export", "alt", "-o", self.archive)
        with open(self.archive, "rb") as f:
            self.archive_bytes = f.read()
        self.archive_members = [m.name for m in tarfile.open(self.archive)]
        return self

    def names_on_disk(self):
        try:
            return {n for n in os.listdir(os.path.join(self.root, "volumes")) if VALID_NAME.match(n)}
        except FileNotFoundError:
            return set()


class SetupFailed(Exception):
    def __init__(self, msg, store):
        super().__init__(msg)
        self.store = store


# ---------------------------------------------------------------------------------------------
# The kill scenarios: one per mutating verb. `setup` prepares, `argv` is the command that is
# killed, `expect` lists what must hold whether or not (and wherever) it was killed.


class Scenario:
    verb = ""
    needs_root = False

    def __init__(self, st):
        self.st = st
        self.made = []  # volumes to remove afterwards
        self.touched = []  # files outside the store (export targets)

    def setup(self):
        pass

    def expect(self):
        return []

    def after_next(self):
        """Checks once the next mutation (and the next same command) has run."""
        return []

    def volume_is(self, name, sums, may_be_absent):
        d = self.st.data(name)
        present = name in self.st.names_on_disk()
        if not present:
            return (may_be_absent, f"{name} is absent")
        got = tree_sum(d)
        for label, s in sums.items():
            if got == s:
                return (True, f"{name} holds {label}")
        return (False, f"{name} is present but holds neither {' nor '.join(sums)} (half-written)")


class Create(Scenario):
    verb = "create"

    def setup(self):
        self.name = self.st.fresh("c")
        self.made = [self.name]

    def argv(self):
        return ["volume", "create", "--label", "k=v", "--label", f"n={self.name}", self.name]

    def expect(self):
        if self.name not in self.st.names_on_disk():
            return [("create-all-or-nothing", True, "")]
        r = self.st.mv("volume", "inspect", "-f", "{{json .Labels}}", self.name)
        ok = r.rc == 0 and json.loads(r.out or b"{}") == {"k": "v", "n": self.name}
        return [("create-all-or-nothing", ok, f"created {self.name} has labels {r.out!r} ({r.brief()})")]


class Remove(Scenario):
    verb = "rm"

    def setup(self):
        self.name = self.st.fresh("r")
        self.st.must("volume", "clone", "src", self.name)
        self.made = [self.name]

    def argv(self):
        return ["volume", "rm", self.name]

    def expect(self):
        ok, how = self.volume_is(self.name, {"A": self.st.sums["A"]}, True)
        return [("rm-all-or-nothing", ok, how)]


class Prune(Scenario):
    verb = "prune"

    def setup(self):
        self.anon = []
        for _ in range(3):
            n = self.st.must("volume", "create").text().strip()
            self.st.must("volume", "import", n, self.st.archive)
            self.anon.append(n)
        self.made = list(self.anon)

    def argv(self):
        return ["volume", "prune", "-f"]

    def expect(self):
        out = []
        for n in self.anon:
            ok, how = self.volume_is(n, {"B": self.st.sums["B"]}, True)
            out.append(("prune-all-or-nothing", ok, how))
        out.append(("prune-keeps-named", {"src", "alt"} <= self.st.names_on_disk(), "prune removed a named volume"))
        return out


class Rename(Scenario):
    verb = "rename"

    def setup(self):
        self.old = self.st.fresh("n")
        self.new = self.old + "-renamed"
        self.st.must("volume", "create", "--label", "k=v", self.old)
        with open(os.path.join(self.st.data(self.old), "file"), "w") as f:
            f.write(self.old)
        self.made = [self.old, self.new]

    def argv(self):
        return ["volume", "rename", self.old, self.new]

    def expect(self):
        names = self.st.names_on_disk()
        both = [n for n in (self.old, self.new) if n in names]
        if len(both) != 1:
            return [("rename-exactly-one-name", False, f"present after the kill: {both}")]
        n = both[0]
        r = self.st.mv("volume", "inspect", "-f", "{{.Name}} {{json .Labels}}", n)
        ok = r.rc == 0 and r.text().strip() == f'{n} {{"k":"v"}}'
        with open(os.path.join(self.st.data(n), "file")) as f:
            kept = f.read() == self.old
        return [
            ("rename-exactly-one-name", True, ""),
            ("rename-metadata-agrees", ok, f"inspect {n}: {r.text().strip()!r} ({r.brief()})"),
            ("rename-keeps-content", kept, f"{n}/_data/file changed"),
        ]


class Clone(Scenario):
    verb = "clone"

    def setup(self):
        self.name = self.st.fresh("k")
        self.made = [self.name]

    def argv(self):
        return ["volume", "clone", "src", self.name]

    def expect(self):
        ok, how = self.volume_is(self.name, {"A": self.st.sums["A"]}, True)
        return [("clone-all-or-nothing", ok, how)]


class Import(Scenario):
    verb = "import"

    def setup(self):
        self.name = self.st.fresh("i")
        self.st.must("volume", "clone", "src", self.name)
        self.made = [self.name]

    def argv(self):
        return ["volume", "import", self.name, self.st.archive]

    def expect(self):
        ok, how = self.volume_is(self.name, {"A (old)": self.st.sums["A"], "B (new)": self.st.sums["B"]}, False)
        return [("import-all-old-or-all-new", ok, how)]


class ImportCreate(Scenario):
    verb = "import"

    def setup(self):
        self.name = self.st.fresh("j")
        self.made = [self.name]

    def argv(self):
        return ["volume", "import", "--create", self.name, self.st.archive]

    def expect(self):
        ok, how = self.volume_is(self.name, {"B": self.st.sums["B"]}, True)
        return [("import-create-absent-or-complete", ok, how)]


class ExportTo(Scenario):
    verb = "export"

    def setup(self):
        self.target = os.path.join(self.st.out, self.st.fresh("e") + ".tar")
        with open(self.target, "wb") as f:
            f.write(b"the previous backup")
        self.touched = [self.target]

    def argv(self):
        return ["volume", "export", "alt", "-o", self.target]

    def expect(self):
        with open(self.target, "rb") as f:
            got = f.read()
        if got == b"the previous backup" or got == self.st.archive_bytes:
            ok, how = True, ""
        else:
            try:
                ok = [m.name for m in tarfile.open(fileobj=io.BytesIO(got))] == self.st.archive_members
            except (tarfile.TarError, EOFError):
                ok = False
            how = f"{self.target} is neither the previous file nor a complete archive ({len(got)} bytes)"
        return [("export-target-old-or-complete", ok, how)]

    def after_next(self):
        # The next export to the same place must not leave the killed one's temporary file.
        r = self.st.mv("volume", "export", "alt", "-o", self.target)
        left = [n for n in os.listdir(self.st.out) if n.startswith("." + os.path.basename(self.target) + ".tmp-")]
        if left:
            self.st.t.leftover_kinds["beside an export -o target (.NAME.tmp-*)"] += len(left)
        return [
            ("export-usable-after-kill", r.rc == 0, r.brief()),
            ("no-leftover-beside-export-target", not left, f"beside {self.target}: {left}"),
        ]


class Run(Scenario):
    verb = "run"
    needs_root = True

    def setup(self):
        self.name = self.st.fresh("u")
        self.st.must("volume", "create", self.name)
        self.marker = f"torture-{os.getpid()}-{self.name}"
        self.made = [self.name]
        self.before = self.st.names_on_disk()

    def argv(self):
        script = "i=0; while [ $i -lt 100 ]; do echo $i > /n/f$i; i=$((i+1)); done; head -c 2000000 /dev/zero > /a/blob; echo done > /n/done"
        return ["run", "--rm", "-v", f"{self.name}:/n", "-v", "/a", self.st.t.rootfs, "/bin/sh", "-c", script, self.marker]

    def expect(self):
        left = self.st.t.wait_gone(self.marker)
        new = self.st.names_on_disk() - self.before - {self.name}
        self.made += sorted(new)
        return [
            ("run-killed-leaves-no-process", not left, f"processes of the killed run still alive: {left}"),
            ("run-volume-survives", self.name in self.st.names_on_disk(), f"{self.name} is gone"),
        ]


class RunSignalled(Run):
    """A run sent SIGTERM (as `docker stop` and `compose up`'s Ctrl-C do) while its command has
    no handler yet: myvol holds the signal and offers it again once the command traps it."""

    def argv(self):
        script = "touch /n/started; while [ ! -e /n/go ]; do sleep 0.01; done; trap 'echo done > /n/done; exit 0' TERM; while true; do sleep 0.01; done"
        return ["run", "--rm", "-v", f"{self.name}:/n", self.st.t.rootfs, "/bin/sh", "-c", script, self.marker]

    def myvol_pids(self):
        """The myvol processes of this run (their command line holds the marker)."""
        pids = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            with contextlib.suppress(OSError):
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
                if argv and os.path.basename(argv[0]) == b"myvol" and self.marker.encode() in argv:
                    pids.append(int(pid))
        return pids

    def during(self, p):
        """Once the command runs: SIGTERM to myvol, then let the command set its trap."""
        data = self.st.data(self.name)
        end = time.monotonic() + 30
        while not os.path.exists(os.path.join(data, "started")) and p.poll() is None and time.monotonic() < end:
            time.sleep(0.005)
        # myvol itself: `p` may be a tracer that runs it.
        for pid in self.myvol_pids() if p.poll() is None else []:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        with contextlib.suppress(OSError):
            open(os.path.join(data, "go"), "w").close()


def image_archive(path, tag, payload):
    """A `docker save` archive of a one-layer image tagged `tag` whose layer holds `payload`
    (a layer of its own per payload); returns the image ID (sha256:…)."""
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w", format=tarfile.PAX_FORMAT) as tf:
        ti = tarfile.TarInfo("data")
        ti.type, ti.mode = tarfile.DIRTYPE, 0o755
        tf.addfile(ti)
        ti = tarfile.TarInfo("data/payload")
        ti.size, ti.mode = len(payload), 0o644
        tf.addfile(ti, io.BytesIO(payload))
    layer = layer.getvalue()
    diff = hashlib.sha256(layer).hexdigest()
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)
    config = json.dumps(
        {"architecture": arch, "os": "linux", "config": {"Cmd": ["/bin/true"]}, "rootfs": {"type": "layers", "diff_ids": [f"sha256:{diff}"]}}
    ).encode()
    cid = hashlib.sha256(config).hexdigest()
    manifest = json.dumps([{"Config": f"{cid}.json", "RepoTags": [tag], "Layers": [f"{diff}/layer.tar"]}]).encode()
    with tarfile.open(path, "w") as tf:
        for name, data in ((f"{diff}/layer.tar", layer), (f"{cid}.json", config), ("manifest.json", manifest)):
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode = len(data), 0o644
            tf.addfile(ti, io.BytesIO(data))
    return f"sha256:{cid}", diff


class ImageScenario(Scenario):
    """An image of its own (a layer of its own), loaded from a `docker save` archive."""

    def make_image(self):
        self.tag = f"torture/{self.st.fresh('img')}:t"
        self.archive = os.path.join(self.st.out, self.st.fresh("image") + ".tar")
        self.id, self.diff = image_archive(self.archive, self.tag, self.st.t.rng.randbytes(64 << 10))
        self.touched = [self.archive]

    def tag_is(self):
        """The tag names the complete image, or nothing: (ok, how, present)."""
        r = self.st.mv("image", "inspect", "-f", "{{.Id}}", self.tag)
        if r.rc == 0:
            return r.text().strip() == self.id, f"{self.tag} is {r.text().strip()!r}, not {self.id}", True
        return b"No such image" in r.err, f"image inspect {self.tag}: {r.brief()}", False

    def images_left(self):
        """What a mutation of the image store must have cleaned: killed jobs and GCs."""
        found = []
        for d in ("tmp", "trash"):
            try:
                found += [f"images/{d}/{e}" for e in os.listdir(os.path.join(self.st.root, "images", d))]
            except FileNotFoundError:
                pass
        return found

    def lists(self):
        r = self.st.mv("image", "ls")
        return ("image-store-lists-cleanly", r.rc == 0 and not r.err, f"image ls: {r.brief()}")


class ImageLoad(ImageScenario):
    verb = "image-load"

    def setup(self):
        self.make_image()

    def argv(self):
        return ["image", "load", "-q", "-i", self.archive]

    def expect(self):
        ok, how, _ = self.tag_is()
        return [self.lists(), ("image-load-absent-or-complete", ok, how)]

    def after_next(self):
        # The same load again: it works, and cleans what the killed one left.
        r = self.st.mv("image", "load", "-q", "-i", self.archive)
        ok, how, present = self.tag_is()
        left = self.images_left()
        self.st.mv("image", "rm", self.tag)
        return [
            ("image-load-usable-after-kill", r.rc == 0 and ok and present, f"{r.brief()}; {how}"),
            ("no-image-leftovers-after-next-mutation", not left, str(left[:6])),
        ]


class ImageRemove(ImageScenario):
    verb = "image-rm"

    def setup(self):
        self.make_image()
        self.st.must("image", "load", "-q", "-i", self.archive)

    def argv(self):
        return ["image", "rm", self.tag]

    def expect(self):
        ok, how, _ = self.tag_is()
        return [self.lists(), ("image-rm-tagged-or-gone", ok, how)]

    def after_next(self):
        # The next prune deletes every unused image and every layer none uses: ours too,
        # wherever the rm was killed.
        r = self.st.mv("image", "prune", "-af")
        layers = os.path.join(self.st.root, "images", "layers")
        kept = os.path.exists(os.path.join(layers, self.diff))
        record = os.path.exists(os.path.join(self.st.root, "images", "records", self.id.split(":")[1] + ".json"))
        left = self.images_left()
        return [
            ("image-prune-usable-after-kill", r.rc == 0, r.brief()),
            ("image-gone-after-next-prune", not kept and not record, f"layer kept: {kept}, record kept: {record}"),
            ("no-image-leftovers-after-next-mutation", not left, str(left[:6])),
        ]


class Plugin:
    """A Docker volume plugin (`tortureplug`) on a unix socket in the run's plugin directory:
    a directory per volume, and a count of the mounts it has handed out and not had back."""

    NAME = "tortureplug"

    def __init__(self, tmp):
        import http.server
        import socketserver

        self.dir = os.path.join(tmp, "plugins")
        self.data = os.path.join(tmp, "plugin-data")
        os.makedirs(self.dir, mode=0o755, exist_ok=True)
        os.makedirs(self.data, mode=0o755, exist_ok=True)
        self.sock = os.path.join(self.dir, f"{self.NAME}.sock")
        self.mounts = collections.defaultdict(set)  # volume -> IDs mounted and not unmounted
        self.lock = threading.Lock()
        plugin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def address_string(self):
                return "unix"

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                try:
                    req = json.loads(body or b"{}") or {}
                except ValueError:
                    req = {}
                out = plugin.answer(self.path.lstrip("/"), req)
                data = json.dumps(out).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/vnd.docker.plugins.v1+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                # A caller SIGKILLed mid-call is what this run does: not an error of the plugin.
                if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
                    super().handle_error(request, client_address)

        self.server = Server(self.sock, Handler)
        os.chmod(self.sock, 0o600)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def path(self, name):
        return os.path.join(self.data, name)

    def answer(self, call, req):
        name = str(req.get("Name", ""))
        if call == "Plugin.Activate":
            return {"Implements": ["VolumeDriver"]}
        if call == "VolumeDriver.Capabilities":
            return {"Capabilities": {"Scope": "local"}}
        if call == "VolumeDriver.List":
            return {"Volumes": [{"Name": n} for n in sorted(os.listdir(self.data))], "Err": ""}
        if not VALID_NAME.match(name):
            return {"Err": "no such volume"}
        p = self.path(name)
        if call == "VolumeDriver.Create":
            os.makedirs(p, mode=0o755, exist_ok=True)
            return {"Err": ""}
        if not os.path.isdir(p):
            return {"Err": "no such volume"}
        if call == "VolumeDriver.Get":
            return {"Volume": {"Name": name, "Mountpoint": p}, "Err": ""}
        if call == "VolumeDriver.Path":
            return {"Mountpoint": p, "Err": ""}
        # Mounts are counted by the caller's ID, as a plugin must: an Unmount for an ID that
        # was never mounted (its caller died before the Mount) changes nothing.
        if call == "VolumeDriver.Mount":
            with self.lock:
                self.mounts[name].add(str(req.get("ID", "")))
            return {"Mountpoint": p, "Err": ""}
        if call == "VolumeDriver.Unmount":
            with self.lock:
                self.mounts[name].discard(str(req.get("ID", "")))
            return {"Err": ""}
        if call == "VolumeDriver.Remove":
            shutil.rmtree(p, ignore_errors=True)
            return {"Err": ""}
        return {"Err": f"unknown call {call}"}

    def held(self, name):
        with self.lock:
            return len(self.mounts[name])

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class PluginRun(Scenario):
    """A run on a plugin's volume: the plugin mounts it, and gets its Unmount back, killed
    or not (from the next command, when the run was killed while it held the mount)."""

    verb = "run"
    needs_root = True

    def setup(self):
        self.name = self.st.fresh("p")
        self.st.must("volume", "create", "--driver", Plugin.NAME, self.name)
        self.marker = f"torture-{os.getpid()}-{self.name}"
        self.made = [self.name]

    def argv(self):
        return ["run", "--rm", "-v", f"{self.name}:/d", self.st.t.rootfs, "/bin/sh", "-c", "echo x > /d/f", self.marker]

    def expect(self):
        left = self.st.t.wait_gone(self.marker)
        return [
            ("run-killed-leaves-no-process", not left, f"processes of the killed run still alive: {left}"),
            ("run-volume-survives", self.name in self.st.names_on_disk(), f"{self.name} is gone"),
        ]

    def after_next(self):
        held = self.st.t.plugin.held(self.name)
        return [("plugin-mount-given-back", held == 0, f"{self.name}: {held} Mount(s) the plugin never got an Unmount for")]


SCENARIOS = [Create, Remove, Prune, Rename, Clone, Import, ImportCreate, ExportTo, Run, RunSignalled, PluginRun, ImageLoad, ImageRemove]


class Torture:
    def __init__(self, a):
        self.a = a
        self.rep = Report()
        self.rng = random.Random(a.seed)
        self.root_user = os.geteuid() == 0
        self.tmp = tempfile.mkdtemp(prefix="myvol-torture-")
        os.chmod(self.tmp, 0o755)
        self.mounts = []
        self.rootfs = None
        self.kills = collections.Counter()  # verb -> kills that landed
        self.figures = {}
        self.leftovers_found = 0
        self.leftover_kinds = collections.Counter()
        self.plugin = None  # the volume plugin of PluginRun, started with the rootfs

    # -- running myvol -----------------------------------------------------------------------

    def env(self, root, extra=None):
        e = {k: v for k, v in os.environ.items() if not k.startswith("MYVOL_") and k not in ("RUST_BACKTRACE",)}
        e.update({"MYVOL_ROOT": root, "TZ": "UTC", "MYVOL_PLUGIN_PATH": os.path.join(self.tmp, "plugins"), "RUST_BACKTRACE": "0"})
        if extra:
            e.update(extra)
        return e

    def mv(self, root, args, timeout=120, stdin=subprocess.DEVNULL, input=None, env=None, prefix=(), stdout=subprocess.PIPE):
        argv = [*prefix, self.a.myvol, *args]
        t0 = time.monotonic()
        p = spawn(argv, self.env(root, env), stdin=subprocess.PIPE if input is not None else stdin, stdout=stdout)
        return finish(p, argv, t0, timeout, input)

    def repro(self, root, args, extra=""):
        return f"MYVOL_ROOT={root} myvol {show(args)}{extra}   (seed {self.a.seed}: bench/torture.py --seed {self.a.seed} --only {self.cls})"

    def wait_gone(self, marker, deadline=5.0):
        """PIDs whose command line holds marker, after waiting up to deadline for them to go."""
        end = time.monotonic() + deadline
        while True:
            left = []
            for pid in os.listdir("/proc"):
                if not pid.isdigit():
                    continue
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        if marker.encode() in f.read():
                            left.append(int(pid))
                except OSError:
                    pass
            if not left or time.monotonic() > end:
                for pid in left:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                return left
            time.sleep(0.02)

    # -- the invariants ------------------------------------------------------------------------

    def check_listing(self, st, repro):
        """The store lists cleanly, every volume in volumes/ is listed and inspectable, and
        has its _data."""
        rep = self.rep
        r = st.mv("volume", "ls", "-q")
        rep.check(r.rc == 0 and not r.err, "store-lists-cleanly", f"volume ls -q: {r.brief()}", repro)
        listed = set(r.text().split())
        r2 = st.mv("volume", "ls")
        rep.check(r2.rc == 0 and not r2.err, "store-lists-cleanly", f"volume ls: {r2.brief()}", repro)
        on_disk = st.names_on_disk()
        rep.check(
            listed == on_disk,
            "no-volume-half-present",
            f"in volumes/ but not listed (unreadable): {sorted(on_disk - listed)}; listed but absent: {sorted(listed - on_disk)}",
            repro,
        )
        if listed:
            r3 = st.mv("volume", "inspect", *sorted(listed))
            rep.check(r3.rc == 0, "every-volume-inspectable", f"inspect of the listed volumes: {r3.brief()}", repro)
        nodata = [n for n in listed if not os.path.isdir(st.data(n))]
        rep.check(not nodata, "every-volume-has-data", f"no _data: {nodata}", repro)
        return listed

    def leftovers(self, st):
        found = []
        root = st.root
        for d in ("tmp", "trash", "runs", "mounts"):
            try:
                found += [f"{d}/{e}" for e in os.listdir(os.path.join(root, d))]
            except FileNotFoundError:
                pass
        try:
            found += [e for e in os.listdir(root) if e.startswith(".tmp-") or e == "rename.json"]
        except FileNotFoundError:
            pass
        vols = os.path.join(root, "volumes")
        for v in st.names_on_disk():
            try:
                found += [f"volumes/{v}/{e}" for e in os.listdir(os.path.join(vols, v)) if e.startswith(".tmp-")]
                found += [f"volumes/{v}/leases/{e}" for e in os.listdir(os.path.join(vols, v, "leases")) if not e.startswith("pin-")]
            except FileNotFoundError:
                pass
        with open("/proc/self/mountinfo") as f:
            for line in f:
                mp = line.split()[4]
                if mp.startswith(root + "/"):
                    found.append(f"mount {mp}")
        return found

    def sweep(self, st, left):
        """Remove leftovers once reported, so that each is reported once, where it was made."""
        for e in left:
            p = os.path.join(st.root, e)
            if e.startswith("mount "):
                subprocess.run(["umount", "-l", e[6:]], check=False)
            elif os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p, ignore_errors=True)
            elif os.path.lexists(p):
                os.unlink(p)

    def next_mutation(self, st, repro, why):
        """The next mutation cleans every leftover of a killed one, and the store works."""
        probe = st.fresh("probe")
        r = st.mv("volume", "create", probe)
        self.rep.check(r.rc == 0, "usable-after-kill", f"create after {why}: {r.brief()}", repro)
        left = self.leftovers(st)
        if left:
            self.leftovers_found += 1
        for e in left:
            self.leftover_kinds[leftover_kind(e)] += 1
        self.rep.check(not left, "no-leftovers-after-next-mutation", f"after {why} and one `volume create`: {left[:6]}", repro)
        self.sweep(st, left)
        r = st.mv("volume", "export", probe, stdout=subprocess.DEVNULL)
        self.rep.check(r.rc == 0, "usable-after-kill", f"export after {why}: {r.brief()}", repro)
        r = st.mv("volume", "rm", probe)
        self.rep.check(r.rc == 0, "usable-after-kill", f"rm after {why}: {r.brief()}", repro)

    def after_kill(self, st, sc, repro, why):
        self.check_listing(st, repro)
        for check, ok, detail in sc.expect():
            self.rep.check(ok, check, detail, repro)
        self.next_mutation(st, repro, why)
        for check, ok, detail in sc.after_next():
            self.rep.check(ok, check, detail, repro)
        for n in ("src", "alt"):
            self.rep.check(n in st.names_on_disk(), "bystanders-intact", f"{n} disappeared", repro)

    def tidy(self, st, sc):
        """Remove what a scenario made; a store that will not let go is replaced."""
        there = [n for n in sc.made if n in st.names_on_disk()]
        if there:
            r = st.mv("volume", "rm", *there)
            if r.rc != 0:
                raise SetupFailed(f"could not remove {there}: {r.brief()}", st)
        for f in sc.touched:
            if os.path.exists(f):
                os.unlink(f)

    # -- the classes -------------------------------------------------------------------------

    def scenarios(self):
        return [s for s in SCENARIOS if self.root_user or not s.needs_root]

    def new_store(self, big):
        size, files = (self.a.big_mb << 20, self.a.big_files) if big else (self.a.small_mb << 20, self.a.small_files)
        return Store(self, size, files).fixtures()

    def drop_store(self, st):
        shutil.rmtree(st.dir, ignore_errors=True)

    def one_kill(self, st, cls, how, setup_kill):
        """Set a scenario up, run its command killed by setup_kill(p) (or at a failpoint via
        env), then check. Returns True when the kill landed."""
        sc = cls(st)
        sc.setup()
        argv, prefix, env, delay = setup_kill(sc)
        t0 = time.monotonic()
        p = spawn([*prefix, self.a.myvol, *argv], self.env(st.root, env))
        if hasattr(sc, "during"):
            sc.during(p)
        if delay is not None:
            time.sleep(delay)
            try:
                os.kill(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        res = finish(p, argv, t0, 120)
        landed = res.rc == -9
        repro = self.repro(st.root, argv, f"  {how}")
        if res.timed_out:
            self.rep.check(False, "no-hang", f"`myvol {show(argv)}` did not end", repro)
        if not landed and not res.timed_out and res.rc != 0:
            self.rep.check(False, f"{cls.verb}-works", f"`myvol {show(argv)}` (not killed): {res.brief()}", repro)
        if landed:
            self.kills[cls.__name__] += 1
        self.after_kill(st, sc, repro, f"{cls.__name__} {'killed ' + how if landed else 'finished'}")
        self.tidy(st, sc)
        return landed, res

    def durations(self, st):
        """How long each scenario's command takes here, unkilled."""
        d = {}
        for cls in self.scenarios():
            _, res = self.one_kill(st, cls, "not killed (timing)", lambda sc: (sc.argv(), (), None, None))
            d[cls] = res.secs
        return d

    def class_kill(self, deadline=None, count=None):
        rep = self.rep
        stores = {False: self.new_store(False)}
        if self.a.long:
            stores[True] = self.new_store(True)
        times = {big: self.durations(st) for big, st in stores.items()}
        rep.info("unkilled durations: " + ", ".join(f"{c.__name__} {t * 1000:.0f} ms" for c, t in times[max(times)].items()))
        n = 0
        tries = 0
        rounds = 0
        while (count is None or rounds < count) and (deadline is None or time.monotonic() < deadline):
            rounds += 1
            for cls in self.scenarios():
                big = self.a.long and tries % 2 == 1
                st = stores[big]
                d = times[big][cls]
                # Mostly anywhere in the command's life; now and then in its first milliseconds.
                delay = self.rng.uniform(0, 0.004) if self.rng.random() < 0.2 else self.rng.uniform(0, d * 1.1)
                tries += 1
                try:
                    landed, _ = self.one_kill(st, cls, f"SIGKILL after {delay * 1000:.1f} ms", lambda sc, dl=delay: (sc.argv(), (), None, dl))
                except SetupFailed as e:
                    rep.check(False, "usable-after-kill", str(e), f"seed {self.a.seed}")
                    self.drop_store(st)
                    stores[big] = self.new_store(big)
                    continue
                n += landed
                if deadline is not None and time.monotonic() > deadline:
                    break
        self.figures["random kills landed"] = n
        rep.info(f"random kills: {n} landed of {tries} tries ({dict(self.kills)})")
        for st in stores.values():
            self.drop_store(st)

    def class_syscall(self):
        rep = self.rep
        if not shutil.which("strace"):
            rep.skip("syscall", "needs strace (Debian package strace)")
            return
        st = self.new_store(False)
        landed = 0
        for cls in self.scenarios():
            # One traced run: the main thread's syscalls, from the first that touches the store.
            sc = cls(st)
            sc.setup()
            trace = os.path.join(self.tmp, "trace")
            p = spawn(["strace", "-qq", "-o", trace, "--", self.a.myvol, *sc.argv()], self.env(st.root))
            if hasattr(sc, "during"):
                sc.during(p)
            finish(p, sc.argv(), time.monotonic(), 120)
            self.after_kill(st, sc, "", "a traced run")
            self.tidy(st, sc)
            calls = []
            with open(trace, errors="replace") as f:
                lines = f.read().splitlines()
            seen = collections.Counter()
            start = None
            for line in lines:
                m = re.match(r"(\w+)\(", line)
                if not m:
                    continue
                seen[m.group(1)] += 1
                if start is None and st.root in line:
                    start = len(calls)
                calls.append((m.group(1), seen[m.group(1)]))
            calls = calls[start or 0 :]
            if self.a.all_syscalls:
                picks = calls
            elif self.a.long:
                step = max(1, -(-len(calls) // self.a.syscalls))
                picks = calls[self.rng.randrange(step) :: step]
            else:
                picks = self.rng.sample(calls, min(len(calls), self.a.syscalls))
            for name, nth in picks:
                inject = ["strace", "-qq", "--seccomp-bpf", "-o", "/dev/null", "-e", f"trace={name}", "-e", f"inject={name}:signal=KILL:when={nth}", "--"]
                try:
                    ok, _ = self.one_kill(st, cls, f"under strace, SIGKILL at {name} #{nth}", lambda sc, pre=inject: (sc.argv(), pre, None, None))
                except SetupFailed as e:
                    rep.check(False, "usable-after-kill", str(e), f"seed {self.a.seed}")
                    self.drop_store(st)
                    st = self.new_store(False)
                    continue
                landed += ok
            rep.info(f"syscall kills, {cls.__name__}: {len(calls)} syscalls after start-up, {len(picks)} tried")
        self.figures["syscall kills landed"] = landed
        rep.info(f"syscall kills: {landed} landed")
        self.drop_store(st)

    def failpoints(self):
        names = []
        src = os.path.join(REPO, "src")
        for dirpath, _, files in os.walk(src):
            for f in files:
                if f.endswith(".rs"):
                    with open(os.path.join(dirpath, f)) as fh:
                        names += re.findall(r'failpoint::hit\("([^"]+)"\)', fh.read())
        return sorted(set(names))

    def class_failpoint(self):
        rep = self.rep
        points = self.failpoints()
        if not points:
            rep.skip("failpoint", f"no failpoint::hit in {REPO}/src")
            return
        st = self.new_store(False)
        likely = {"create": ["Create", "Clone", "ImportCreate"], "remove": ["Remove", "Prune"], "rename": ["Rename"], "clone": ["Clone"], "import": ["Import", "ImportCreate"], "image": ["ImageLoad", "ImageRemove"], "plugin": ["PluginRun"], "run.signal": ["RunSignalled"]}
        hits = 0
        for point in points:
            if point in UNREACHABLE:
                rep.info(f"failpoint {point}: not tried, {UNREACHABLE[point]}")
                continue
            order = sorted(self.scenarios(), key=lambda c: c.__name__ not in likely.get(point.split("-")[0], []))
            reached = []
            for cls in order:
                if reached and not self.a.long:
                    break
                try:
                    ok, _ = self.one_kill(st, cls, f"MYVOL_FAILPOINT={point}", lambda sc, p=point: (sc.argv(), (), {"MYVOL_FAILPOINT": p}, None))
                except SetupFailed as e:
                    rep.check(False, "usable-after-kill", str(e), f"seed {self.a.seed}")
                    self.drop_store(st)
                    st = self.new_store(False)
                    continue
                if ok:
                    reached.append(cls.__name__)
            hits += len(reached)
            rep.check(
                reached,
                "failpoint-reached",
                f"failpoint {point} was reached by none of {[c.__name__ for c in order]} (myvol built without --features failpoints?)",
                f"MYVOL_FAILPOINT={point} myvol …",
            )
            rep.info(f"failpoint {point}: killed {', '.join(reached) or 'nothing'}")
        self.figures["failpoint kills"] = hits
        self.drop_store(st)

    # -- concurrency -------------------------------------------------------------------------

    def class_concurrency(self, seconds, kill_rate=0.0):
        rep = self.rep
        st = Store(self, 0, 0)
        st.must("volume", "create", "seed-vol")
        archive = os.path.join(st.dir, "a.tar")
        with tarfile.open(archive, "w") as tf:
            data = b"hello\n"
            ti = tarfile.TarInfo("hello")
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
        names = [f"v{i}" for i in range(self.a.names)]
        log = []
        log_lock = threading.Lock()
        end = time.monotonic() + seconds
        workers = self.a.workers
        runs = self.root_user
        t_start = time.monotonic()

        def worker(wid):
            rng = random.Random(f"{self.a.seed}-{wid}")
            while time.monotonic() < end:
                a, b = rng.choice(names), rng.choice(names)
                op = rng.choices(
                    ["create", "rm", "rename", "clone", "import-create", "import", "export", "inspect", "ls", "prune", "run"],
                    [20, 15, 12, 8, 6, 5, 5, 10, 5, 2, 4 if runs else 0],
                )[0]
                argv = {
                    "create": ["volume", "create", a],
                    "rm": ["volume", "rm", a],
                    "rename": ["volume", "rename", a, b],
                    "clone": ["volume", "clone", a, b],
                    "import-create": ["volume", "import", "--create", a, archive],
                    "import": ["volume", "import", a, archive],
                    "export": ["volume", "export", a],
                    "inspect": ["volume", "inspect", a],
                    "ls": ["volume", "ls", "-q"],
                    "prune": ["volume", "prune", "-af"],
                    "run": ["run", "--rm", "-v", f"{a}:/d", self.rootfs or "/", "/bin/true"],
                }[op]
                t0 = time.monotonic()
                p = spawn([self.a.myvol, *argv], self.env(st.root), stdout=subprocess.PIPE if op != "export" else subprocess.DEVNULL)
                if kill_rate and rng.random() < kill_rate:
                    time.sleep(rng.uniform(0, 0.01))
                    try:
                        os.kill(p.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                res = finish(p, argv, t0, 60)
                with log_lock:
                    log.append((t0, time.monotonic(), op, a, b, res))

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        wall = time.monotonic() - t_start
        ops = len(log)
        rate = ops / wall
        repro = f"bench/torture.py --seed {self.a.seed} --only concurrency (a {workers}-way mix on {len(names)} names)"
        errors = collections.Counter()
        verb_of = {"import-create": "import", "prune": "prune"}
        killed = 0
        for t0, t1, op, a, b, res in log:
            if res.rc == -9 and kill_rate:
                killed += 1
                continue
            if res.timed_out:
                rep.check(False, "no-hang", f"`myvol {show(res.args[1:])}` did not end under contention", repro)
                continue
            if res.rc == 0:
                continue
            verb = verb_of.get(op, op)
            good_rc = res.rc in ((125,) if op == "run" else (1,))
            problem = clean_error(res, OPS[verb], [a, b] if op in ("rename", "clone") else [a] if op not in ("ls", "prune") else None)
            rep.check(good_rc and not problem, "clean-errors-under-contention", f"`myvol {show(res.args[1:])}`: {res.brief()}: {problem or 'exit status'}", repro)
            msg = re.sub(rb"[0-9a-f]{64}", b"ID", re.sub(rb"\bv\d+\b", b"V", res.err.strip()))[:120]
            errors[msg.decode(errors="replace")] += 1
        # What the log says about each name: the possible last events must agree with the end.
        events = collections.defaultdict(list)  # name -> (t0, t1, effect) effect: True/False/None
        for t0, t1, op, a, b, res in log:
            maybe = res.rc == -9
            if res.rc != 0 and not maybe:
                continue
            eff = None if maybe else True
            if op in ("create", "import-create", "import", "run"):
                events[a].append((t0, t1, eff, op))
            elif op == "rm":
                events[a].append((t0, t1, None if maybe else False, op))
            elif op == "rename" and a != b:
                events[a].append((t0, t1, None if maybe else False, op + "-from"))
                events[b].append((t0, t1, eff, op + "-to"))
            elif op == "clone" and a != b:
                events[b].append((t0, t1, eff, op + "-to"))
            elif op == "prune":
                if maybe:
                    for n in names:
                        events[n].append((t0, t1, None, op))
                else:
                    for n in res.text().splitlines():
                        if n in names:
                            events[n].append((t0, t1, False, op))
        final = st.names_on_disk()
        for n in names:
            ev = events.get(n, [])
            if not ev:
                rep.check(n not in final, "store-agrees-with-log", f"{n} exists though no command that succeeded made it", repro)
                continue
            latest_start = max(e[0] for e in ev)
            last = [e for e in ev if e[1] >= latest_start]
            allowed = {e[2] for e in last}
            ok = None in allowed or (n in final) in allowed
            rep.check(
                ok,
                "store-agrees-with-log",
                f"{n} is {'present' if n in final else 'absent'}, but the commands that may have come last say {sorted(set((e[3], e[2]) for e in last), key=str)}",
                repro,
            )
        self.check_listing(st, repro)
        self.next_mutation(st, repro, f"{workers}-way contention")
        key = "ops/s under contention" + (" with kills" if kill_rate else "")
        self.figures[key] = round(rate)
        if kill_rate:
            self.figures["commands killed under contention"] = killed
        rep.info(f"{workers}-way contention{' with kills' if kill_rate else ''}: {ops} commands in {wall:.1f} s = {rate:.0f} ops/s; {killed} killed; errors: {dict(errors.most_common(6))}")
        self.import_force_under_run(st)
        self.drop_store(st)

    def import_force_under_run(self, st):
        """`import --force` while a run may write to the volume: refused with a clean error
        (a writer's changes would be lost); were it made, the run's write must be kept."""
        if not self.root_user:
            return
        rep = self.rep
        st.must("volume", "create", "live")
        with open(os.path.join(st.data("live"), "before"), "w") as f:
            f.write("old")
        archive = os.path.join(st.dir, "a.tar")
        script = "echo ready; read x; echo written > /d/after; ls /d > /d/seen"
        argv = ["run", "-i", "--rm", "-v", "live:/d", self.rootfs, "/bin/sh", "-c", script]
        t0 = time.monotonic()
        p = spawn([self.a.myvol, *argv], self.env(st.root), stdin=subprocess.PIPE)
        line = p.stdout.readline()
        repro = self.repro(st.root, argv, f"; then, once it printed ready: myvol volume import --force live {archive}; then feed it a line")
        if line != b"ready\n":
            res = finish(p, argv, t0, 10)
            rep.check(False, "import-force-keeps-run-writes", f"the run did not start: {res.brief()}", repro)
            return
        imp = st.mv("volume", "import", "--force", "live", archive)
        p.stdin.write(b"go\n")
        p.stdin.close()
        p.stdin = None
        res = finish(p, argv, t0, 30)
        if imp.rc != 0:
            rep.check(not clean_error(imp, OPS["import"], ["live"]), "import-force-keeps-run-writes", f"import --force refused uncleanly: {imp.brief()}", repro)
            return
        content = sorted(os.listdir(st.data("live")))
        rep.check(res.rc == 0, "import-force-keeps-run-writes", f"the run failed after the import: {res.brief()}", repro)
        rep.check(
            "after" in content and "hello" in content and "before" not in content,
            "import-force-keeps-run-writes",
            f"after `import --force` under a live run the volume holds {content}: the run's write (`after`) {'is kept' if 'after' in content else 'was lost'}",
            repro,
        )

    # -- faults ------------------------------------------------------------------------------

    def mount_tmpfs(self, path, opts):
        os.makedirs(path, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", path], check=True)
        self.mounts.append(path)

    def umount(self, path):
        subprocess.run(["umount", "-l", path], check=False)
        if path in self.mounts:
            self.mounts.remove(path)

    def small_store(self, base):
        st = Store(self, 1 << 20, 40, base=base)
        return st.fixtures()

    def fault_commands(self, st, where):
        out = os.path.join(where, "out.tar")
        cmds = [
            ("create", ["volume", "create", "--label", "k=v", "f-new"], ["f-new"]),
            ("clone", ["volume", "clone", "src", "f-clone"], ["src", "f-clone"]),
            ("import", ["volume", "import", "src", st.archive], ["src"]),
            ("import", ["volume", "import", "--create", "f-imp", st.archive], ["f-imp"]),
            ("rename", ["volume", "rename", "alt", "f-alt"], ["alt", "f-alt"]),
            ("export", ["volume", "export", "src", "-o", out], ["src"]),
            ("export", ["volume", "export", "src"], ["src"]),
        ]
        if self.root_user:
            cmds.append(("run", ["run", "--rm", "-v", "f-run:/d", self.rootfs, "/bin/true"], ["f-run"]))
        cmds += [
            ("prune", ["volume", "prune", "-af"], None),
            ("rm", ["volume", "rm", "src"], ["src"]),
        ]
        return cmds

    def fault_round(self, st, label, cmds, must_fail=lambda verb: False, must_work=lambda verb: False):
        rep = self.rep
        for verb, argv, names in cmds:
            before = snapshot(st.root)
            r = st.mv(*argv, stdout=subprocess.DEVNULL if argv[-1] == "src" and verb == "export" else subprocess.PIPE)
            repro = self.repro(st.root, argv, f"  (on {label})")
            if r.rc == 0 and not r.timed_out:
                rep.check(not must_fail(verb), f"{label}-refused", f"`myvol {show(argv)}` succeeded on {label}", repro)
                continue
            rep.check(not must_work(verb), f"{label}-reads-work", f"`myvol {show(argv)}` on {label}: {r.brief()}", repro)
            problem = clean_error(r, OPS[verb], names)
            rep.check(not problem, f"{label}-errors-name-operation-and-volume", f"`myvol {show(argv)}`: {problem}: {r.err[:300]!r}", repro)
            after = snapshot(st.root)
            if verb == "run" and names:
                # Docker's rule, and myvol's (docs/run.md): a named volume a run created stays
                # when the run fails after making it; it must then be a whole volume. (A
                # failure while making or leasing it takes it back; anonymous ones go with --rm.)
                vol = f"volumes/{names[0]}"
                made = {k for k in after if k not in before and (k == vol or k.startswith(vol + "/"))}
                if made:
                    r2 = st.mv("volume", "inspect", names[0])
                    rep.check(r2.rc == 0, f"{label}-run-volume-whole", f"`myvol {show(argv)}` failed and left {names[0]}, which inspect refuses: {r2.brief()}", repro)
                    after = {k: v for k, v in after.items() if k not in made}
                    st.mv("volume", "rm", names[0])
            rep.check(same_store(before, after), f"{label}-store-unchanged", f"`myvol {show(argv)}` failed but changed the store: {snap_diff(before, after)}", repro)

    def class_faults(self):
        rep = self.rep
        if not self.root_user:
            rep.skip("faults", "needs root (tmpfs and bind mounts, chown)")
            return
        # Disk full (blocks), then (inodes).
        for label, opts, fill in (("full-disk", "size=24m", "blocks"), ("no-inodes", "size=64m,nr_inodes=400", "inodes")):
            mnt = os.path.join(self.tmp, label)
            self.mount_tmpfs(mnt, opts)
            st = self.small_store(mnt)
            filler = os.path.join(mnt, "filler")
            if fill == "blocks":
                with open(filler, "wb") as f:
                    try:
                        while True:
                            f.write(b"\xff" * (1 << 16))
                            f.flush()
                    except OSError:
                        pass
            else:
                os.makedirs(filler)
                i = 0
                try:
                    while True:
                        open(os.path.join(filler, str(i)), "w").close()
                        i += 1
                except OSError:
                    pass
            self.fault_round(st, label, self.fault_commands(st, mnt))
            if fill == "blocks":
                os.unlink(filler)
            else:
                shutil.rmtree(filler)
            repro = f"bench/torture.py --only faults (store on a {opts} tmpfs, filled)"
            self.check_listing(st, repro)
            self.next_mutation(st, repro, f"commands on a {label} store")
            self.umount(mnt)
        # A read-only root: mutations refused cleanly, reads (and backups) work.
        st = self.small_store(None)
        subprocess.run(["mount", "--bind", st.root, st.root], check=True)
        self.mounts.append(st.root)
        subprocess.run(["mount", "-o", "remount,bind,ro", st.root], check=True)
        reads = [
            ("ls", ["volume", "ls"], None),
            ("inspect", ["volume", "inspect", "src"], ["src"]),
            ("export", ["volume", "export", "src", "-o", os.path.join(st.dir, "ro.tar")], ["src"]),
        ]
        self.fault_round(st, "read-only-root", reads, must_work=lambda v: True)
        mutations = [c for c in self.fault_commands(st, st.dir) if c[0] != "export"]
        self.fault_round(st, "read-only-root", mutations, must_fail=lambda v: True)
        self.umount(st.root)
        self.drop_store(st)
        # A root owned by another user: mutations refused cleanly, the store untouched.
        st = self.small_store(None)
        os.chown(st.root, FOREIGN_UID, FOREIGN_UID)
        self.fault_round(st, "foreign-root", reads)
        self.fault_round(st, "foreign-root", [c for c in self.fault_commands(st, st.dir) if c[0] != "export"], must_fail=lambda v: True)
        os.chown(st.root, 0, 0)
        self.drop_store(st)

    # -- hostile input -----------------------------------------------------------------------

    def class_hostile(self):
        rep = self.rep
        st = self.small_store(None)
        self.hostile_labels(st)
        self.hostile_names(st)
        self.hostile_streams(st)
        self.hostile_pipes(st)
        self.hostile_formats(st)
        self.hostile_metadata(st)
        if self.root_user:
            self.hostile_run_it(st)
            self.hostile_bombs()
        else:
            rep.skip("hostile: bombs and run -it", "needs root (a tmpfs store; runs)")
        self.check_listing(st, "bench/torture.py --only hostile")
        self.drop_store(st)

    def hostile_labels(self, st):
        rep = self.rep
        args = ["volume", "create"]
        for i in range(10):
            args += ["--label", f"k{i}=" + "x" * 120_000]
        args.append("biglabels")
        before = snapshot(st.root)
        r = st.mv(*args)
        repro = self.repro(st.root, args, "  (ten labels of 120,000 bytes)")
        if r.rc == 0:
            self.check_listing(st, repro)
            r2 = st.mv("volume", "inspect", "biglabels", stdout=subprocess.DEVNULL)
            rep.check(r2.rc == 0, "huge-labels-volume-usable", f"created, then inspect: {r2.brief()}", repro)
            r3 = st.mv("volume", "rm", "biglabels")
            rep.check(r3.rc == 0, "huge-labels-volume-usable", f"created, then rm: {r3.brief()}", repro)
            shutil.rmtree(os.path.join(st.root, "volumes", "biglabels"), ignore_errors=True)
        else:
            problem = clean_error(r, OPS["create"], ["biglabels"])
            rep.check(not problem, "huge-labels-refused-cleanly", f"{problem}: {r.err[:200]!r}", repro)
            rep.check(same_store(before, snapshot(st.root)), "huge-labels-refused-cleanly", "the refused create changed the store", repro)

    def hostile_names(self, st):
        rep = self.rep
        names = {
            "256 chars": "a" * 256,
            "100,000 chars": "b" * 100_000,
            "escape": "x\x1b[31mred\x1b]0;title\x07",
            "newline": "x\nError: forged",
            "carriage return": "ok\rforged",
            "bidi": "ab\u202ecd",
            "C1": "ab\u009bcd",
        }
        for what, n in names.items():
            tag = "hostile-name"
            cmds = [
                ("create", ["volume", "create", n]),
                ("inspect", ["volume", "inspect", n]),
                ("rm", ["volume", "rm", n]),
                ("rename", ["volume", "rename", "src", n]),
                ("rename", ["volume", "rename", n, "other"]),
                ("clone", ["volume", "clone", "src", n]),
                ("clone", ["volume", "clone", n, "other"]),
                ("export", ["volume", "export", n]),
                ("import", ["volume", "import", n, st.archive]),
                ("import", ["volume", "import", "--create", n, st.archive]),
            ]
            if self.root_user:
                cmds.append(("run", ["run", "--rm", "-v", f"{n}:/d", self.rootfs, "/bin/true"]))
            for verb, argv in cmds:
                before = snapshot(st.root)
                r = st.mv(*argv, timeout=20)
                repro = self.repro(st.root, argv, f"  (a name of {what})")
                if r.rc == 0:
                    rep.check(False, tag, f"`myvol {show(argv)}` accepted a name of {what}", repro)
                    continue
                problem = clean_error(r, OPS[verb], None)
                if problem is None and b"os error" in r.err:
                    problem = "an OS error instead of a refusal of the name"
                # A name longer than a file name may be (255 bytes) fails as in Docker, in the
                # words of the mkdir that cannot make it: on a line that names the operation
                # and the volume (shortened, when it is this long), as Docker's does.
                if problem is None and b"file name too long" in r.err.lower():
                    line = r.err.split(NL)[0]
                    if n[:40].encode() not in line:
                        problem = "file name too long, on a line that does not name the volume"
                    elif not re.search(rb"error while creating volume root path '[^']*/volumes/" + re.escape(n[:40].encode()), line):
                        problem = "file name too long, not in Docker's words (error while creating volume root path '…')"
                rep.check(not problem, tag + "-error-clean", f"`myvol {show(argv)}` ({what}): {problem}: {r.err[:200]!r}", repro)
                after = snapshot(st.root)
                rep.check(same_store(before, after), tag + "-store-unchanged", f"`myvol {show(argv)}` changed the store: {snap_diff(before, after)}", repro)
        # Labels with escapes in a table: escaped.
        st.must("volume", "create", "--label", "k=\x1b[2J\x1b[31mred\nline", "esclabel")
        r = st.mv("volume", "ls", "--format", "table {{.Name}}\t{{.Labels}}")
        count = len(st.mv("volume", "ls", "-q").out.split())
        rep.check(r.rc == 0 and not RAW_CONTROL.search(r.out.replace(b"\n", b"").replace(b"\t", b"")) and r.out.count(b"\n") == 1 + count,
                  "hostile-label-escaped-in-table", f"ls table output {r.out[:200]!r}", self.repro(st.root, ["volume", "ls", "--format", "table {{.Name}}\\t{{.Labels}}"]))
        st.must("volume", "rm", "esclabel")

    def hostile_streams(self, st):
        rep = self.rep
        cases = [
            ("import /dev/zero", ["volume", "import", "src", "/dev/zero"], subprocess.DEVNULL),
            ("import --create /dev/zero", ["volume", "import", "--create", "zeros", "/dev/zero"], subprocess.DEVNULL),
            ("import < /dev/zero", ["volume", "import", "src"], "/dev/zero"),
            ("import < /dev/urandom", ["volume", "import", "src"], "/dev/urandom"),
        ]
        for what, argv, stdin in cases:
            before = snapshot(st.root)
            f = open(stdin, "rb") if isinstance(stdin, str) else None
            r = st.mv(*argv, stdin=f or stdin, timeout=self.a.hang_timeout)
            if f:
                f.close()
            repro = self.repro(st.root, argv, f" {'< ' + stdin if f else ''}  (hang: no end within {self.a.hang_timeout} s)")
            rep.check(not r.timed_out, "no-hang-on-endless-input", f"`{what}` did not end within {self.a.hang_timeout} s", repro)
            if r.timed_out:
                continue
            if r.rc != 0:
                problem = clean_error(r, OPS["import"], [argv[-2] if argv[-1].startswith("/dev") else argv[-1]])
                rep.check(not problem, "endless-input-error-clean", f"`{what}`: {problem}: {r.err[:200]!r}", repro)
                after = snapshot(st.root)
                rep.check(same_store(before, after), "endless-input-store-unchanged", f"`{what}` failed but changed the store: {snap_diff(before, after)}", repro)
        # A path-traversal archive is refused whole.
        evil = os.path.join(st.dir, "evil.tar")
        with tarfile.open(evil, "w") as tf:
            for name in ("fine", "../escaped"):
                ti = tarfile.TarInfo(name)
                ti.size = 1
                tf.addfile(ti, io.BytesIO(b"x"))
        before = snapshot(st.root)
        r = st.mv("volume", "import", "src", evil)
        repro = self.repro(st.root, ["volume", "import", "src", evil], "  (a member ../escaped)")
        rep.check(r.rc != 0 and not clean_error(r, OPS["import"], ["src"]), "traversal-archive-refused", r.brief(), repro)
        rep.check(same_store(before, snapshot(st.root)) and not os.path.exists(os.path.join(st.root, "volumes", "src", "escaped")), "traversal-archive-refused", "the store changed", repro)

    def closed_pipe(self, st, argv, how):
        """Run argv with its stdout a pipe that is closed (at once, or after reading `how`
        bytes / lines)."""
        t0 = time.monotonic()
        if how == "closed":
            r, w = os.pipe()
            os.close(r)
            p = spawn([self.a.myvol, *argv], self.env(st.root), stdout=w)
            os.close(w)
            return finish(p, argv, t0, self.a.hang_timeout)
        p = spawn([self.a.myvol, *argv], self.env(st.root))
        if how.endswith("lines"):
            for _ in range(int(how.split()[0])):
                p.stdout.readline()
        else:
            p.stdout.read(int(how.split()[0]))
        p.stdout.close()
        try:
            err = p.stderr.read()
            p.wait(timeout=self.a.hang_timeout)
            res = Result(argv, p.returncode, b"", err, time.monotonic() - t0, False)
        except subprocess.TimeoutExpired:
            res = Result(argv, -9, b"", b"", time.monotonic() - t0, True)
        reap(p)
        return res

    def hostile_pipes(self, st):
        rep = self.rep
        # A volume whose archive is larger than a pipe's buffer (64 KiB), so that the export
        # is still writing when its reader goes (an archive that fit in the pipe was written
        # whole, and exit 0 is then right, as for GNU tar).
        st.must("volume", "create", "pipesrc")
        make_tree(st.data("pipesrc"), 2 << 20, 8, random.Random(self.a.seed), "P")
        for how in ("100 bytes", "closed"):
            argv = ["volume", "export", "pipesrc"]
            r = self.closed_pipe(st, argv, how)
            repro = self.repro(st.root, argv, f" | head -c {how.split()[0] if how != 'closed' else 0}; echo ${{PIPESTATUS[0]}}")
            rep.check(not r.timed_out and r.rc != 0, "export-to-closed-pipe-fails", f"export to a pipe closed after {how}: {r.brief()} (a backup that lost its reader must not report success)", repro)
            rep.check(r.rc != 101 and b"panicked" not in r.err, "no-panic-on-closed-pipe", r.brief(), repro)
        st.must("volume", "rm", "pipesrc")
        with open("/dev/full", "wb") as full:
            r = st.mv("volume", "export", "src", stdout=full)
        repro = self.repro(st.root, ["volume", "export", "src"], " > /dev/full")
        problem = clean_error(r, OPS["export"], ["src"]) if r.rc != 0 else "exit 0"
        rep.check(not problem, "export-to-full-device-fails-cleanly", f"{problem}: {r.err[:200]!r}", repro)
        for argv in (["completion", "zsh"], ["completion", "bash"], ["completion", "fish"], ["--help"], ["volume", "ls"], ["volume", "inspect", "src"]):
            for how in ("closed", "3 lines"):
                r = self.closed_pipe(st, argv, how)
                repro = self.repro(st.root, argv, " | head -3" if how != "closed" else " >&- (stdout a pipe with no reader)")
                rep.check(not r.timed_out and r.rc != 101 and b"panicked" not in r.err, "no-panic-on-closed-pipe", f"`myvol {show(argv)}` into a pipe closed ({how}): {r.brief()}", repro)
            if argv == ["--help"]:
                continue  # help lost on a full device is not data lost (Docker ignores it too)
            with open("/dev/full", "wb") as full:
                r = st.mv(*argv, stdout=full)
            repro = self.repro(st.root, argv, " > /dev/full")
            rep.check(r.rc != 0 and r.rc != 101 and b"panicked" not in r.err and r.err.startswith(b"Error: "), "write-error-reported", f"`myvol {show(argv)}` > /dev/full: {r.brief()}", repro)

    def hostile_formats(self, st):
        rep = self.rep
        args = ["volume", "create"]
        for i in range(300):
            args += ["--label", f"l{i:03}=v"]
        args.append("manylabels")
        st.must(*args)
        limit = self.a.as_limit_mb << 20
        prl = ["prlimit", f"--as={limit}", "--"]
        cases = [
            # 300 MB of output each: more than the limit unless it is written as it is made.
            ["volume", "ls", "--format", '{{range split .Labels ","}}{{printf "%1000000d" 1}}{{end}}'],
            ["volume", "inspect", "-f", '{{range .Labels}}{{printf "%1000000d" 1}}{{end}}', "manylabels"],
            ["volume", "ls", "--format", '{{printf "%2000000000d" 1}}'],
            ["volume", "inspect", "-f", '{{printf "%.2000000000f" 1.0}}', "manylabels"],
        ]
        for argv in cases:
            r = st.mv(*argv, prefix=prl, stdout=subprocess.DEVNULL, timeout=120)
            repro = f"MYVOL_ROOT={st.root} prlimit --as={limit} -- myvol {show(argv)} > /dev/null"
            bad = r.timed_out or r.rc < 0 or r.rc == 101 or b"panicked" in r.err or b"memory allocation" in r.err
            if not bad and r.rc != 0:
                bad = clean_error(r, None, None)
            rep.check(not bad, "format-bomb-bounded-memory", f"under a {self.a.as_limit_mb} MiB address-space limit: {r.brief()}", repro)
        st.must("volume", "rm", "manylabels")

    def hostile_metadata(self, st):
        rep = self.rep
        st.must("volume", "create", "fifometa")
        d = os.path.join(st.root, "volumes", "fifometa")
        try:
            os.removexattr(d, "user.myvol.volume")
        except OSError:
            pass
        if os.path.exists(os.path.join(d, "volume.json")):
            os.unlink(os.path.join(d, "volume.json"))
        os.mkfifo(os.path.join(d, "volume.json"))
        for argv in (["volume", "ls"], ["volume", "inspect", "fifometa"]):
            r = st.mv(*argv, timeout=self.a.hang_timeout)
            repro = f"mkfifo {d}/volume.json (no xattr); " + self.repro(st.root, argv)
            rep.check(not r.timed_out, "no-hang-on-hostile-metadata", f"`myvol {show(argv)}` did not end", repro)
            if argv[1] == "inspect":
                rep.check(r.rc == 1 and not clean_error(r, OPS["inspect"], ["fifometa"]), "hostile-metadata-error-clean", r.brief(), repro)
            else:
                rep.check(r.rc == 0, "hostile-metadata-skipped-by-ls", r.brief(), repro)
        shutil.rmtree(d)

    def hostile_run_it(self, st):
        rep = self.rep
        argv = ["run", "-it", "--rm", self.rootfs, "/bin/sh", "-c", "exit 3"]
        for what in ("/dev/null", "a pipe"):
            t0 = time.monotonic()
            if what == "a pipe":
                p = spawn([self.a.myvol, *argv], self.env(st.root), stdin=subprocess.PIPE)
                res = None
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass
                p.stdin.close()
                p.stdin = None
                res = finish(p, argv, t0, 1) if p.returncode is not None else None
                if res is None:
                    reap(p)
                    p.communicate()
                    res = Result(argv, -9, b"", b"", 10, True)
            else:
                res = self.mv(st.root, argv, timeout=10)
            repro = self.repro(st.root, argv, f" < {what if what != 'a pipe' else '(a pipe kept open)'}")
            rep.check(not res.timed_out, "run-it-without-tty-ends", f"`myvol run -it` with stdin {what} did not end in 10 s", repro)
            if not res.timed_out and res.rc != 3:
                rep.check(not clean_error(res, None, None), "run-it-without-tty-error-clean", res.brief(), repro)

    def hostile_bombs(self):
        """Archives that expand far beyond the disk: the import fails cleanly, the store is
        as it was, the space comes back, and the disk never fills."""
        rep = self.rep
        mnt = os.path.join(self.tmp, "bomb")
        self.mount_tmpfs(mnt, f"size={self.a.bomb_fs_mb}m")
        st = self.small_store(mnt)
        inner = self.a.bomb_gb << 30
        bombs = {
            f"zstd bomb ({inner >> 20} MiB inside)": zstd_bomb(inner),
            f"gzip bomb ({min(inner, 256 << 20) >> 20} MiB inside)": gzip_bomb(min(inner, 256 << 20)),
        }
        for what, data in bombs.items():
            path = os.path.join(self.tmp, what.split(" (")[0].replace(" ", "-"))
            with open(path, "wb") as f:
                f.write(data)
            for argv in (["volume", "import", "src", path], ["volume", "import", "--create", "bombed", path]):
                self.bomb_case(st, mnt, what, argv, None)
        # An endless tar stream: one member whose data never ends.
        self.bomb_case(st, mnt, "endless tar stream", ["volume", "import", "src", "-"], "endless")
        self.check_listing(st, "bench/torture.py --only hostile (bombs)")
        self.umount(mnt)

    def bomb_case(self, st, mnt, what, argv, feed):
        rep = self.rep
        before = snapshot(st.root)
        free0 = os.statvfs(mnt)
        free_before = free0.f_bavail * free0.f_frsize
        low = [free_before]
        done = threading.Event()

        def watch():
            while not done.is_set():
                s = os.statvfs(mnt)
                low[0] = min(low[0], s.f_bavail * s.f_frsize)
                time.sleep(0.001)

        w = threading.Thread(target=watch)
        w.start()
        t0 = time.monotonic()
        p = spawn([self.a.myvol, *argv], self.env(st.root), stdin=subprocess.PIPE if feed else subprocess.DEVNULL)
        if feed == "endless":

            def pump():
                ti = tarfile.TarInfo("endless")
                ti.size = 8 << 30
                try:
                    p.stdin.write(ti.tobuf(format=tarfile.GNU_FORMAT))
                    chunk = b"A" * (1 << 16)
                    while p.poll() is None:
                        p.stdin.write(chunk)
                except (BrokenPipeError, ValueError, OSError):
                    pass
                try:
                    p.stdin.close()
                except OSError:
                    pass

            threading.Thread(target=pump, daemon=True).start()
            try:
                p.wait(timeout=self.a.hang_timeout * 3)
            except subprocess.TimeoutExpired:
                pass
            timed_out = p.returncode is None
            reap(p)
            err = p.stderr.read() if not timed_out else b""
            res = Result(argv, p.returncode if not timed_out else -9, b"", err, time.monotonic() - t0, timed_out)
        else:
            res = finish(p, argv, t0, self.a.hang_timeout * 3)
        done.set()
        w.join()
        s = os.statvfs(mnt)
        free_after = s.f_bavail * s.f_frsize
        repro = self.repro(st.root, argv, f"  ({what}; the store on a {self.a.bomb_fs_mb} MiB tmpfs)")
        rep.check(not res.timed_out, "bomb-import-ends", f"{what} did not end", repro)
        if res.rc == 0:
            rep.check(False, "bomb-import-refused", f"{what} was imported into a {self.a.bomb_fs_mb} MiB filesystem?", repro)
        else:
            problem = clean_error(res, OPS["import"], [a for a in argv[-2:] if VALID_NAME.match(a)])
            rep.check(not problem, "bomb-import-error-clean", f"{what}: {problem}: {res.err[:200]!r}", repro)
        after = snapshot(st.root)
        rep.check(same_store(before, after), "bomb-store-unchanged", f"{what}: {snap_diff(before, after)}", repro)
        rep.check(free_after >= free_before - (256 << 10), "bomb-space-given-back", f"{what}: {free_before >> 10} KiB free before, {free_after >> 10} KiB after", repro)
        rep.check(low[0] > 0, "bomb-never-fills-disk", f"{what}: the store's filesystem was full during the import (lowest free: {low[0]} bytes)", repro)

    # -- the whole run -----------------------------------------------------------------------

    def build_rootfs(self):
        if not self.root_user:
            return
        bb = "/bin/busybox"
        if not os.path.exists(bb):
            self.rep.skip("runs", "needs a static busybox at /bin/busybox (Debian package busybox-static)")
            self.root_user = False
            return
        self.rootfs = os.path.join(self.tmp, "rootfs")
        os.makedirs(os.path.join(self.rootfs, "bin"))
        os.makedirs(os.path.join(self.rootfs, "etc"))
        shutil.copy(bb, os.path.join(self.rootfs, "bin", "busybox"))
        for applet in subprocess.run([bb, "--list"], capture_output=True, text=True).stdout.split():
            if applet != "busybox" and "/" not in applet:
                os.symlink("busybox", os.path.join(self.rootfs, "bin", applet))

    def main(self):
        a = self.a
        start = time.monotonic()
        print(f"torture: {'long' if a.long else 'short'} mode, seed {a.seed}, myvol {a.myvol}, as {'root' if self.root_user else 'uid ' + str(os.geteuid())}", flush=True)
        r = subprocess.run([a.myvol, "--version"], capture_output=True, text=True)
        print(f"torture: {r.stdout.strip()}", flush=True)
        self.build_rootfs()
        if self.root_user:
            self.plugin = Plugin(self.tmp)
        only = a.only.split(",") if a.only else CLASSES
        deadline = start + a.minutes * 60 if a.long else None
        for cls in CLASSES:
            if cls not in only:
                continue
            self.cls = cls
            t0 = time.monotonic()
            print(f"== {cls}", flush=True)
            try:
                self.run_class(cls)
            except (Stop, KeyboardInterrupt):
                raise
            except Exception as e:  # a bug of the run itself: say so, go on with the next class
                traceback.print_exc()
                self.rep.check(False, "torture-ran", f"class {cls} stopped: {e!r}", f"bench/torture.py --seed {a.seed} --only {cls}")
            self.rep.info(f"{cls}: {time.monotonic() - t0:.1f} s")
        if a.long and "kill" in only:
            self.cls = "kill"
            print("== kill (until the time is up)", flush=True)
            try:
                self.class_kill(deadline=max(deadline, time.monotonic() + 60))
            except Exception as e:
                traceback.print_exc()
                self.rep.check(False, "torture-ran", f"class kill stopped: {e!r}", f"bench/torture.py --seed {a.seed} --long --only kill")
        self.summary(start)
        return 1 if self.rep.failed else 0

    def run_class(self, cls):
        a = self.a
        if cls == "kill":
            if not a.long:  # the long mode spends the rest of its time on them, at the end
                self.class_kill(count=a.kills)
        elif cls == "syscall":
            self.class_syscall()
        elif cls == "failpoint":
            self.class_failpoint()
        elif cls == "concurrency":
            self.class_concurrency(a.contention_secs)
            if a.long:
                self.class_concurrency(a.contention_secs, kill_rate=0.1)
        elif cls == "faults":
            self.class_faults()
        elif cls == "hostile":
            self.class_hostile()

    def summary(self, start):
        rep = self.rep
        self.figures["kills survived"] = sum(self.figures.get(k, 0) for k in ("random kills landed", "syscall kills landed", "failpoint kills"))
        if rep.fails:
            print("torture: failed checks: " + ", ".join(f"{c} ×{n}" for c, n in sorted(rep.fails.items())), flush=True)
        self.figures["commands run"] = SPAWNED[0]
        print(f"torture: {time.monotonic() - start:.0f} s; figures: {json.dumps(self.figures)}; runs that left leftovers after the next mutation: {self.leftovers_found} {dict(self.leftover_kinds)}", flush=True)
        for check, n in sorted(rep.fails.items()):
            if n > Report.SHOW:
                print(f"FAIL {check}: {n - Report.SHOW} more like the above", flush=True)
        summary = f"{rep.passed} passed, {rep.failed} failed"
        if rep.skipped:
            summary += f", {len(rep.skipped)} skipped"
        print(summary, flush=True)

    def cleanup(self):
        if self.plugin:
            self.plugin.stop()
        with LIVE_LOCK:
            pids = list(LIVE)
        for pid in pids:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for m in reversed(self.mounts):
            subprocess.run(["umount", "-l", m], check=False)
        if self.a.keep:
            print(f"torture: kept {self.tmp}", file=sys.stderr)
            return
        for dirpath, dirs, _ in os.walk(self.tmp):
            for d in dirs:
                p = os.path.join(dirpath, d)
                try:
                    if os.lstat(p).st_uid != os.geteuid():
                        os.lchown(p, os.geteuid(), -1)
                except OSError:
                    pass
        shutil.rmtree(self.tmp, ignore_errors=True)


def default_myvol():
    for p in (os.path.join(REPO, "target", "debug", "myvol"), shutil.which("myvol")):
        if p and os.access(p, os.X_OK):
            return p
    return "myvol"


def parse():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--long", action="store_true", help="the long mode (default: short, about a minute)")
    ap.add_argument("--minutes", type=float, default=20, help="long mode: total time (default 20)")
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: 1 in short mode, from the clock in long mode)")
    ap.add_argument("--only", default="", help=f"comma list of classes: {','.join(CLASSES)}")
    ap.add_argument("--myvol", default=os.environ.get("MYVOL") or default_myvol(), help="the binary ($MYVOL)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--all-syscalls", action="store_true", help="syscall class: kill before every syscall of every verb (hours)")
    ap.add_argument("--show", type=int, default=3, help="failures printed per check (default 3; the rest are counted)")
    a = ap.parse_args()
    a.myvol = os.path.abspath(a.myvol) if os.sep in a.myvol else shutil.which(a.myvol) or a.myvol
    if a.seed is None:
        a.seed = int(time.time()) % 100000 if a.long else 1
    if a.only:
        bad = [c for c in a.only.split(",") if c not in CLASSES]
        if bad:
            ap.error(f"unknown class {bad}; classes: {CLASSES}")
    # The knobs of each mode.
    a.kills = 2 if not a.long else None  # rounds over every verb
    a.syscalls = 2 if not a.long else 40  # per verb (long: up to this many, evenly spaced)
    a.small_mb, a.small_files = (1, 100) if not a.long else (4, 400)
    a.big_mb, a.big_files = 96, 3000
    a.workers, a.names = 32, 8
    a.contention_secs = 6 if not a.long else 60
    a.hang_timeout = 10
    a.as_limit_mb = 256
    a.bomb_fs_mb, a.bomb_gb = 48, 1
    return a


def main():
    a = parse()
    # As root, enter a mount namespace of our own (once): every mount made here dies with us.
    if os.geteuid() == 0 and not os.environ.get("MYVOL_TORTURE_NS") and shutil.which("unshare"):
        os.environ["MYVOL_TORTURE_NS"] = "1"
        os.execvp("unshare", ["unshare", "-m", "--propagation", "private", sys.executable, *sys.argv])
    Report.SHOW = a.show
    t = Torture(a)

    def stop(signum, frame):
        raise Stop(signal.Signals(signum).name)

    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, stop)
    try:
        rc = t.main()
    except Stop as e:
        print(f"torture: stopped by {e}; cleaning up", file=sys.stderr)
        rc = 130
    finally:
        t.cleanup()
    sys.exit(rc)


if __name__ == "__main__":
    main()
