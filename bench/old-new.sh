#!/usr/bin/env bash
# Old build against new build, in one hyperfine run per verb: `volume inspect`, `volume create`
# and `volume ls -q` on a store of 10,000 volumes, and `run --rm` with two named volumes and a
# bind on a busybox root. For checking that a change did not slow the volume verbs or runs.
# Also, on the new build alone: plain `volume ls` against `volume ls` with the in-use field.
#
#   bash bench/old-new.sh OLD_BIN NEW_BIN     # two static builds (scripts/build-static.sh)
#   N=1000 RUNS=50 bash bench/old-new.sh OLD NEW
#
# Build an older revision: git worktree add /tmp/myvol-old REV && (cd /tmp/myvol-old && bash scripts/build-static.sh)
# Needs root (for run), hyperfine and a static busybox (/usr/bin/busybox or $BUSYBOX).
# Results: markdown tables on stdout and raw hyperfine JSON in bench/results/old-new-*.json.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: bash bench/old-new.sh OLD_BIN NEW_BIN" >&2; exit 2; }
OLD=$(realpath "$1") NEW=$(realpath "$2")
cd "$(dirname "$0")/.."
N=${N:-10000}
RUNS=${RUNS:-100}
BUSYBOX=${BUSYBOX:-$(command -v busybox || true)}
command -v hyperfine >/dev/null || { echo "hyperfine is needed (apt-get install hyperfine)" >&2; exit 1; }
OUT=bench/results
mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/myvol-old-new.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export MYVOL_ROOT=$WORK/store

# One store, filled by the old build (the new one reads every older store).
echo "filling a store with $N volumes…" >&2
seq 1 "$N" | xargs -P 4 -n 200 sh -c 'for i in "$@"; do echo "bench-$i"; done | while read -r v; do "$0" volume create --label app=db "$v" >/dev/null; done' "$OLD"
table() { hyperfine -N --warmup 5 --runs "$RUNS" --export-json "$OUT/old-new-$1.json" --export-markdown "$WORK/$1.md" "${@:2}" >&2; cat "$WORK/$1.md"; echo; }

echo "### volume inspect ($N volumes)"
table inspect -n old "$OLD volume inspect bench-1" -n new "$NEW volume inspect bench-1"
echo "### volume create ($N volumes; each run creates a new volume, removed before the next)"
table create --prepare "$NEW volume rm -f bench-new" \
  -n old "$OLD volume create --label app=db bench-new" -n new "$NEW volume create --label app=db bench-new"
echo "### volume ls -q ($N volumes)"
table ls -n old "$OLD volume ls -q" -n new "$NEW volume ls -q"
echo "### volume ls, plain against the in-use field (new build only, $N volumes, none in use)"
table ls-inuse -n "ls" "$NEW volume ls" -n "ls --format '{{.Name}} {{.InUse}}'" "$NEW volume ls --format '{{.Name}} {{.InUse}}'"

if [ "$(id -u)" = 0 ] && [ -n "$BUSYBOX" ]; then
  root=$WORK/rootfs
  mkdir -p "$root/bin" "$root/proc" "$root/dev" "$root/a" "$root/b" "$root/c" "$WORK/host"
  cp "$BUSYBOX" "$root/bin/busybox" && ln -s busybox "$root/bin/true"
  echo "### run --rm (two named volumes and a bind)"
  table run -n old "$OLD run --rm -v bench-1:/a -v bench-2:/b -v $WORK/host:/c $root /bin/true" \
    -n new "$NEW run --rm -v bench-1:/a -v bench-2:/b -v $WORK/host:/c $root /bin/true"
else
  echo "run --rm: skipped (needs root and busybox)" >&2
fi
