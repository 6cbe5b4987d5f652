#!/usr/bin/env bash
# A short tour of myvol's volume commands on a throwaway store. Builds myvol first.
#   bash scripts/tour.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
myvol() { ./target/release/myvol "$@"; }
export MYVOL_ROOT=$(mktemp -d /tmp/myvol-tour.XXXXXX)
trap 'rm -rf "$MYVOL_ROOT"' EXIT
step() { printf '\n\033[1m$ myvol %s\033[0m\n' "$*"; myvol "$@"; }

step volume create --label app=db db-data
step volume create -o type=tmpfs -o device=tmpfs -o o=size=64m scratch
step volume create                                  # anonymous
step volume ls
step volume ls --format 'table {{.Name}}\t{{.Labels}}' -f label=app
step volume inspect db-data
# A root filesystem to run commands in: a tiny one from a static busybox when there is one,
# else the host's own tree (seen through an overlay: the run cannot change it).
rootfs=/
if [ -x /bin/busybox ] && /bin/busybox --list >/dev/null 2>&1; then
  rootfs=$MYVOL_ROOT-rootfs
  mkdir -p "$rootfs/bin" "$rootfs/etc"
  cp /bin/busybox "$rootfs/bin/"
  for a in sh echo cat ls id hostname; do ln -sf busybox "$rootfs/bin/$a"; done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$rootfs/etc/passwd"
  trap 'rm -rf "$MYVOL_ROOT" "$rootfs"' EXIT
fi
step run --rm -v db-data:/data -v logs:/var/log "$rootfs" sh -c 'echo hello from a run > /data/greeting; hostname'
step run --rm -v db-data:/data:ro "$rootfs" cat /data/greeting
step run --rm -v db-data:/data:ro "$rootfs" sh -c 'echo no > /data/x' || echo "(exit $?: the volume is read-only)"
echo "The data stays in the volume, outside any run:"
cat "$(myvol volume inspect -f '{{.Mountpoint}}' db-data)/greeting"
step volume inspect -f '{{.Mountpoint}}' db-data
step volume prune -f                                # removes the unused anonymous volume
step volume rm db-data logs scratch
step volume ls -q
printf '\nThe store was %s (removed now).\n' "$MYVOL_ROOT"
