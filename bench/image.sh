#!/usr/bin/env bash
# Image pulls side by side, from a local registry (docker-registry on 127.0.0.1, plain HTTP):
# a cold pull (empty store each run) of a multi-layer image of about 60 MB (busybox and
# layers of random data, gzip-compressed), by
#   - myvol pull,
#   - podman pull (its own root and runroot, overlay driver, --tls-verify=false),
#   - skopeo copy to an OCI layout, then umoci unpack (the daemonless pair);
# then the disk use of two images sharing their base layers (du of the unpacked layers).
#
#   bash bench/image.sh                 # the static build of this checkout
#   bash bench/image.sh /path/to/myvol  # another build
#   RUNS=10 bash bench/image.sh
#
# Needs root (podman's overlay driver, umoci unpack without --rootless), and docker-registry,
# skopeo, umoci, podman, hyperfine (all from Debian). Everything lives in a temporary directory
# that is removed at the end, the registry included.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
for t in docker-registry skopeo umoci podman hyperfine; do
  command -v "$t" >/dev/null || { echo "$t is needed (apt-get install $t)" >&2; exit 1; }
done
myvol=${1:-$(bash scripts/build-static.sh)}
myvol=$(realpath "$myvol")
work=$(mktemp -d /tmp/myvol-image-bench.XXXXXX)
reg_pid=
cleanup() {
  # (errexit holds in a trap too: the registry's SIGTERM status must not end the cleanup.)
  if [ -n "$reg_pid" ]; then kill "$reg_pid" 2>/dev/null || true; wait "$reg_pid" 2>/dev/null || true; fi
  umount -R "$work/proot/overlay" 2>/dev/null || true
  podman --root "$work/proot" --runroot "$work/prun" --storage-driver overlay system reset -f >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# The registry, on a free port.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/registry.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: 127.0.0.1:$port
EOF
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
reg_pid=$!
for _ in $(seq 1 200); do
  curl -fs "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break
  sleep 0.05
done
curl -fs "http://127.0.0.1:$port/v2/" >/dev/null || { echo "the registry did not start" >&2; cat "$work/registry.log" >&2; exit 1; }
reg=127.0.0.1:$port

# Two images built with umoci: a shared base (busybox, then 20 MB and 20 MB of random data in
# two layers), and each its own top layer (15 MB of random data).
layer() { # layer TAG FILE MB: one more layer holding FILE of MB megabytes of random data
  umoci unpack --image "$work/oci:$1" "$work/bundle" >/dev/null
  head -c "$(( $3 << 20 ))" /dev/urandom > "$work/bundle/rootfs/$2"
  umoci repack --image "$work/oci:$1" "$work/bundle" >/dev/null
  rm -rf "$work/bundle"
}
umoci init --layout "$work/oci" >/dev/null
umoci new --image "$work/oci:base" >/dev/null
umoci unpack --image "$work/oci:base" "$work/bundle" >/dev/null
mkdir -p "$work/bundle/rootfs/bin"
cp /bin/busybox "$work/bundle/rootfs/bin/"
umoci repack --image "$work/oci:base" "$work/bundle" >/dev/null
rm -rf "$work/bundle"
layer base data1.bin 20
layer base data2.bin 20
umoci config --image "$work/oci:base" --config.cmd /bin/sh >/dev/null
for img in one two; do
  umoci tag --image "$work/oci:base" "$img" >/dev/null
  layer "$img" "$img.bin" 15
  skopeo copy -q --dest-tls-verify=false "oci:$work/oci:$img" "docker://$reg/bench/$img:1"
done
read -r nlayers size < <(skopeo inspect --raw --tls-verify=false "docker://$reg/bench/one:1" \
  | python3 -c 'import json,sys; m=json.load(sys.stdin); print(len(m["layers"]), sum(l["size"] for l in m["layers"]))')
echo "image: $reg/bench/one:1, $nlayers layers, $((size / 1000000)) MB compressed"
echo

podman_args=(--root "$work/proot" --runroot "$work/prun" --storage-driver overlay)
hyperfine --runs "$RUNS" --export-json "$work/pull.json" \
  -n "myvol pull" --prepare "rm -rf $work/mroot" \
    "MYVOL_ROOT=$work/mroot $myvol pull -q $reg/bench/one:1" \
  -n "podman pull" --prepare "podman ${podman_args[*]} rmi -af >/dev/null 2>&1 || true" \
    "podman ${podman_args[*]} pull -q --tls-verify=false $reg/bench/one:1" \
  -n "skopeo copy + umoci unpack" --prepare "rm -rf $work/sk $work/skb" \
    "skopeo copy -q --src-tls-verify=false docker://$reg/bench/one:1 oci:$work/sk:one && umoci unpack --image $work/sk:one $work/skb" \
  >/dev/null
python3 - "$work/pull.json" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
print("| cold pull | mean ± σ (s) | min … max (s) | vs myvol |")
print("|---|---:|---:|---:|")
base = res[0]["mean"]
for r in res:
    print(f"| {r['command']} | {r['mean']:.3f} ± {r['stddev']:.3f} | {r['min']:.3f} … {r['max']:.3f} | {r['mean'] / base:.2f}× |")
PY
echo

# Shared layers: both images in one store.
rm -rf "$work/mroot"
MYVOL_ROOT=$work/mroot "$myvol" pull -q "$reg/bench/one:1" >/dev/null
one=$(du -sm "$work/mroot/images/layers" | cut -f1)
MYVOL_ROOT=$work/mroot "$myvol" pull -q "$reg/bench/two:1" >/dev/null
both=$(du -sm "$work/mroot/images/layers" | cut -f1)
sizes=$(for i in one two; do MYVOL_ROOT=$work/mroot "$myvol" image inspect -f '{{.Size}}' "$reg/bench/$i:1"; done | awk '{s += $1} END {printf "%d", s / 1048576}')
echo "| disk use (du -sm) | MB |"
echo "|---|---:|"
echo "| images/layers, bench/one alone | $one |"
echo "| images/layers, bench/one and bench/two (same base) | $both |"
echo "| the two images' unpacked sizes added (no sharing) | $sizes |"
echo "| images/blobs (the layers as pulled, kept for save) | $(du -sm "$work/mroot/images/blobs" | cut -f1) |"
