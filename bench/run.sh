#!/usr/bin/env bash
# Times one short run with two named volumes and a host bind, start to end:
#   myvol run --rm -v a:/a -v b:/b -v HOSTDIR:/c ROOTFS /bin/true
# side by side in one hyperfine run with bwrap (the same binds, no volumes to manage),
# podman and Docker (`--network none`, the `bb` busybox image). ROOTFS is the same busybox
# tree as the image (default /tmp/peer-rootfs; `bash /work/shared/peers/setup.sh` makes the
# peers' image and rootfs).
#
#   bash bench/run.sh                 # all tools, the static build of this checkout
#   bash bench/run.sh /path/to/myvol  # another build
#   PEERS="bwrap" bash bench/run.sh   # only some peers (default: bwrap podman docker)
#
# Results: a markdown table on stdout and raw hyperfine JSON in bench/results/run.json.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOTFS=${ROOTFS:-/tmp/peer-rootfs}
PEERS=${PEERS:-"bwrap podman docker"}
RUNS=${RUNS:-50}
command -v hyperfine >/dev/null || { echo "hyperfine is needed (apt-get install hyperfine)" >&2; exit 1; }
[ -x "$ROOTFS/bin/true" ] || [ -L "$ROOTFS/bin/true" ] || { echo "$ROOTFS/bin/true is missing" >&2; exit 1; }
# The static release build README.md recommends installing, or the build given as $1.
MYVOL=$(realpath "${1:-$(bash scripts/build-static.sh)}")
OUT=bench/results
mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/myvol-bench.XXXXXX)
trap 'rm -rf "$WORK"; docker volume rm -f bench-run-a bench-run-b >/dev/null 2>&1 || true; podman volume rm -f bench-run-a bench-run-b >/dev/null 2>&1 || true' EXIT
mkdir -p "$WORK/host" "$WORK/bwrap-a" "$WORK/bwrap-b"
export MYVOL_ROOT=$WORK/store

cmds=(-n myvol "$MYVOL run --rm -v bench-run-a:/a -v bench-run-b:/b -v $WORK/host:/c $ROOTFS /bin/true")
for p in $PEERS; do
  case $p in
    bwrap) command -v bwrap >/dev/null && cmds+=(-n bwrap "bwrap --bind $ROOTFS / --bind $WORK/bwrap-a /a --bind $WORK/bwrap-b /b --bind $WORK/host /c --proc /proc --dev /dev --unshare-all --share-net /bin/true") ;;
    podman) command -v podman >/dev/null && cmds+=(-n podman "podman run --rm --network none -v bench-run-a:/a -v bench-run-b:/b -v $WORK/host:/c localhost/bb /bin/true") ;;
    docker) docker info >/dev/null 2>&1 && cmds+=(-n docker "docker run --rm --network none -v bench-run-a:/a -v bench-run-b:/b -v $WORK/host:/c bb /bin/true") ;;
  esac
done

hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$OUT/run.json" --export-markdown "$WORK/table.md" "${cmds[@]}" >&2
cat "$WORK/table.md"
