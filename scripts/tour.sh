#!/usr/bin/env bash
# A short tour of myvol's volume commands on a throwaway store. Builds myvol first.
#   bash scripts/tour.sh
#   MYVOL=target/debug/myvol bash scripts/tour.sh     # with a binary already built
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${MYVOL:-}" ]; then
  echo "Building myvol (cargo build --release; the first build takes a few minutes)..." >&2
  cargo build --release --quiet
  MYVOL=./target/release/myvol
fi
myvol() { "$MYVOL" "$@"; }
export MYVOL_ROOT=$(mktemp -d /tmp/myvol-tour.XXXXXX)
trap 'rm -rf "$MYVOL_ROOT"' EXIT
# Bold command lines on a terminal; plain text when the output goes to a file or a pipe.
bold='' plain=''
if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; fi
# A word as a shell reads it back: as is when it is safe, else in single quotes.
quote() {
  case "$1" in
    '' | *[!A-Za-z0-9_./:=@%+,-]*) printf "'%s'" "${1//\'/\'\\\'\'}" ;;
    *) printf '%s' "$1" ;;
  esac
}
# Show the command line (ready to paste), then run it.
step() {
  local line="myvol" a
  for a in "$@"; do line+=" $(quote "$a")"; done
  printf '\n%s$ %s%s\n' "$bold" "$line" "$plain"
  myvol "$@"
}

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
