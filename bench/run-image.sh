#!/usr/bin/env bash
# One short run of a cached image, start to end:
#   myvol run --rm IMAGE /bin/true
# side by side in one hyperfine run with
#   - bwrap on the same tree, unpacked (every layer extracted in order into a directory):
#     bwrap --bind TREE / --proc /proc --dev /dev --unshare-all --share-net /bin/true
#   - podman run --rm of the same image, loaded into podman (a private root, the overlay
#     driver) from a `myvol save` archive of it.
# The image: a static busybox (its applets as links) in one layer, an application layer and a
# users layer, loaded into myvol from a `docker save` archive built here. Targets: myvol at
# most 1.3 times bwrap, and at least 30 times faster than podman.
#
#   bash bench/run-image.sh                 # the static build of this checkout
#   bash bench/run-image.sh /path/to/myvol  # another build
#   RUNS=200 bash bench/run-image.sh
#
# Needs root, /bin/busybox (busybox-static), bwrap (bubblewrap), podman and hyperfine (all from
# Debian). Waits on /tmp/myvol-bench.lock for other benchmarks. Everything lives in a
# temporary directory that is removed at the end (podman's private store included).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-100}
for t in hyperfine bwrap podman python3; do
  command -v "$t" >/dev/null || { echo "$t is needed (apt-get install $t)" >&2; exit 1; }
done
[ -x /bin/busybox ] || { echo "/bin/busybox is needed (apt-get install busybox-static)" >&2; exit 1; }
myvol=${1:-$(bash scripts/build-static.sh)}
myvol=$(realpath "$myvol")
work=$(mktemp -d /tmp/myvol-run-image-bench.XXXXXX)
podman_args=(--root "$work/proot" --runroot "$work/prun" --storage-driver overlay)
cleanup() {
  podman "${podman_args[@]}" system reset -f >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# The image, as `docker save` writes it (manifest.json, the config, one tar per layer).
python3 - "$work/app.tar" <<'PY'
import hashlib, io, json, subprocess, sys, tarfile

def layer(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        for kind, name, *rest in members:
            ti = tarfile.TarInfo(name)
            if kind == "dir":
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                t.addfile(ti)
            elif kind == "link":
                ti.type, ti.linkname = tarfile.SYMTYPE, rest[0]
                t.addfile(ti)
            else:
                ti.size, ti.mode = len(rest[0]), rest[1]
                t.addfile(ti, io.BytesIO(rest[0]))
    return buf.getvalue()

applets = subprocess.run(["/bin/busybox", "--list"], capture_output=True, text=True).stdout.split()
base = [("dir", "bin/"), ("file", "bin/busybox", open("/bin/busybox", "rb").read(), 0o755)]
base += [("link", "bin/" + a, "busybox") for a in applets if a != "busybox"]
app = [("dir", "app/"), ("file", "app/run.sh", b"#!/bin/sh\necho run\n", 0o755), ("file", "app/config", b"x=1\n", 0o644)]
users = [("dir", "etc/"), ("file", "etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n", 0o644),
         ("file", "etc/group", b"root:x:0:\n", 0o644), ("dir", "tmp/"), ("dir", "root/")]
layers = [layer(m) for m in (base, app, users)]
config = {"architecture": "amd64", "os": "linux", "created": "2026-12-01T00:00:00Z",
          "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                     "Cmd": ["/bin/true"], "WorkingDir": "/app"},
          "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(l).hexdigest() for l in layers]}}
with tarfile.open(sys.argv[1], "w") as t:
    def add(name, data):
        ti = tarfile.TarInfo(name)
        ti.size, ti.mode = len(data), 0o644
        t.addfile(ti, io.BytesIO(data))
    add("config.json", json.dumps(config).encode())
    for i, l in enumerate(layers):
        add(f"{i}/layer.tar", l)
    add("manifest.json", json.dumps([{"Config": "config.json", "RepoTags": ["bench-app:1"],
                                      "Layers": [f"{i}/layer.tar" for i in range(len(layers))]}]).encode())
PY

export MYVOL_ROOT=$work/store
"$myvol" load -q -i "$work/app.tar" >/dev/null
"$myvol" save -o "$work/saved.tar" bench-app:1
# The same tree for bwrap: the layers extracted in order (they hold no whiteouts).
mkdir "$work/tree"
python3 - "$work/app.tar" "$work/tree" <<'PY'
import json, sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    for name in json.load(t.extractfile("manifest.json"))[0]["Layers"]:
        with tarfile.open(fileobj=t.extractfile(name)) as l:
            l.extractall(sys.argv[2], filter="fully_trusted")
PY
podman "${podman_args[@]}" load -q -i "$work/saved.tar" >/dev/null
image_id=$(podman "${podman_args[@]}" images -q | head -n1)
# Each tool starts once before timing (podman sets its store up on first use).
"$myvol" run --rm bench-app:1 /bin/true
bwrap --bind "$work/tree" / --proc /proc --dev /dev --unshare-all --share-net /bin/true
podman "${podman_args[@]}" run --rm --network none "$image_id" /bin/true

exec 9>/tmp/myvol-bench.lock
flock 9
# The set-up above wrote a few hundred MB (archives, the tree, podman's store): written back
# now, not while the commands are timed (a command that writes metadata would wait on it).
sync
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs; $(uname -r)"
hyperfine -N --warmup 5 --runs "$RUNS" --export-json "$work/run.json" \
  -n "myvol run --rm IMAGE /bin/true" "$myvol run --rm bench-app:1 /bin/true" \
  -n "bwrap --bind TREE / --proc /proc --dev /dev --unshare-all --share-net /bin/true" \
    "bwrap --bind $work/tree / --proc /proc --dev /dev --unshare-all --share-net /bin/true" \
  -n "podman run --rm --network none IMAGE /bin/true" \
    "podman ${podman_args[*]} run --rm --network none $image_id /bin/true" \
  >/dev/null
python3 - "$work/run.json" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
myvol, bwrap, podman = res
print("| Command | Mean [ms] | Min [ms] | Median [ms] | Max [ms] | Relative to myvol |")
print("|:---|---:|---:|---:|---:|---:|")
for r in res:
    print(f"| `{r['command']}` | {r['mean'] * 1e3:.1f} ± {r['stddev'] * 1e3:.1f} | {r['min'] * 1e3:.1f} | "
          f"{r['median'] * 1e3:.1f} | {r['max'] * 1e3:.1f} | {r['mean'] / myvol['mean']:.2f} |")
vs_bwrap = myvol["mean"] / bwrap["mean"]
vs_podman = podman["mean"] / myvol["mean"]
print()
print(f"myvol / bwrap: {vs_bwrap:.2f}x (target: at most 1.3x; medians {myvol['median'] / bwrap['median']:.2f}x) "
      f"{'met' if vs_bwrap <= 1.3 else 'NOT met'}")
print(f"podman / myvol: {vs_podman:.1f}x (target: at least 30x; medians {podman['median'] / myvol['median']:.1f}x) "
      f"{'met' if vs_podman >= 30 else 'NOT met'}")
PY
