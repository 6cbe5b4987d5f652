#!/usr/bin/env bash
# Times `volume create`, `volume inspect` and `volume ls -q` with 1,000 and 10,000 volumes in
# the store, for myvol and, when installed and running, `docker volume` and `podman volume`,
# side by side in one run (hyperfine). Also times myvol's `ls -q` with 100 volumes, to check
# that listing scales linearly.
#
#   bash bench/volume-verbs.sh                 # sizes 10000 and 1000
#   SIZES="1000" bash bench/volume-verbs.sh    # fewer
#   PEERS="docker" bash bench/volume-verbs.sh  # only some peers (default: docker podman)
#   KEEP=1 bash bench/volume-verbs.sh          # keep the peers' volumes for the next run
#   FILL_ONLY=1 KEEP=1 bash bench/volume-verbs.sh   # only create the peers' volumes
#
# The peers get their volumes named bench-vv-N (created in parallel, removed at the end).
# Results: a markdown table on stdout and raw hyperfine JSON in bench/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${SIZES:-"10000 1000"}
PEERS=${PEERS:-"docker podman"}
RUNS=${RUNS:-30}
command -v hyperfine >/dev/null || { echo "hyperfine is needed (apt-get install hyperfine)" >&2; exit 1; }
# The static build README.md recommends for installing (no dynamic loader at start-up).
MYVOL=$(bash scripts/build-static.sh)
OUT=bench/results
mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/myvol-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

peers=()
for p in $PEERS; do
  case $p in
    docker) docker info >/dev/null 2>&1 && peers+=(docker) || echo "# docker: no daemon, skipped" >&2 ;;
    podman) command -v podman >/dev/null && peers+=(podman) || echo "# podman: not installed, skipped" >&2 ;;
  esac
done

# fill TOOL N: make sure TOOL has volumes bench-vv-1..N (creating only the missing ones)
fill() {
  local tool=$1 n=$2 bin=$1
  if [ "$tool" = myvol ]; then export MYVOL_ROOT=$WORK/store-$n; bin=$MYVOL; fi
  seq 1 "$n" | sed 's/^/bench-vv-/' | sort > "$WORK/want"
  "$bin" volume ls -q | grep '^bench-vv-' | sort > "$WORK/have" || true
  comm -23 "$WORK/want" "$WORK/have" | xargs -r -P 4 -n 100 sh -c 'for v; do "$0" volume create "$v" >/dev/null; done' "$bin" || true
  # Exactly N: a store filled for a larger size is trimmed.
  comm -13 "$WORK/want" "$WORK/have" | xargs -r -n 500 "$bin" volume rm -f >/dev/null 2>&1 || true
  local got; got=$("$bin" volume ls -q | grep -c '^bench-vv-' || true)
  [ "$got" -eq "$n" ] || { echo "$tool: $got volumes instead of $n" >&2; return 1; }
}

# podman allocates one lock per volume from a fixed table (2048 by default): 10,000 volumes
# need a larger one.
podman_locks() {
  # A power of two (the shared-memory bitmaps need a multiple of 32), never below the number
  # of volumes podman already holds: the table is shared by all of them.
  local want=16384
  while [ "$want" -lt $(( $1 + 4096 )) ]; do want=$(( want * 2 )); done
  mkdir -p /etc/containers/containers.conf.d
  if ! grep -qs "num_locks = $want" /etc/containers/containers.conf.d/myvol-bench.conf; then
    printf '[engine]\nnum_locks = %s\n' "$want" > /etc/containers/containers.conf.d/myvol-bench.conf
    # The lock table lives in shared memory, sized when it is first made: remake it.
    rm -f /dev/shm/libpod_lock
    podman system renumber >/dev/null
  fi
}

cleanup_peers() {
  for tool in "${peers[@]}"; do
    $tool volume ls -q -f name=bench-vv- | xargs -r -n 500 $tool volume rm -f >/dev/null 2>&1 || true
    $tool volume rm -f bench-vv-new >/dev/null 2>&1 || true
  done
}
if [ -n "${KEEP:-}" ]; then trap 'rm -rf "$WORK"' EXIT; else trap 'cleanup_peers; rm -rf "$WORK"' EXIT; fi
if [ -n "${FILL_ONLY:-}" ]; then
  for n in $SIZES; do for tool in "${peers[@]}"; do
    [ "$tool" = podman ] && podman_locks "$n"
    fill "$tool" "$n"
  done; done
  exit 0
fi

row() { # NAME JSONFILE -> "name mean_ms"
  python3 - "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for r in d["results"]:
    print(f'{r["command"]}\t{r["mean"]*1000:.2f}\t{r["stddev"]*1000:.2f}')
PY
}

# One benchmark at a time on this machine.
exec 9>/tmp/myvol-bench.lock
flock 9

echo "| volumes | operation | tool | mean (ms) | ± (ms) |"
echo "|---:|---|---|---:|---:|"
for n in $SIZES; do
  fill myvol "$n"
  for tool in "${peers[@]}"; do
    [ "$tool" = podman ] && podman_locks "$n"
    fill "$tool" "$n"
  done
  export MYVOL_ROOT=$WORK/store-$n
  for op in create inspect ls; do
    cmds=()
    names=()
    for tool in myvol "${peers[@]}"; do
      bin=$tool; [ "$tool" = myvol ] && bin=$MYVOL
      case $op in
        create)  cmds+=(--prepare "$bin volume rm -f bench-vv-new" "$bin volume create bench-vv-new") ;;
        inspect) cmds+=("$bin volume inspect bench-vv-$((n / 2))") ;;
        ls)      cmds+=("$bin volume ls -q") ;;
      esac
      names+=(-n "$tool")
    done
    hyperfine -N --warmup 3 --runs "$RUNS" "${names[@]}" "${cmds[@]}" --export-json "$OUT/$op-$n.json" >/dev/null 2>&1 \
      || hyperfine --warmup 3 --runs "$RUNS" "${names[@]}" "${cmds[@]}" --export-json "$OUT/$op-$n.json" >/dev/null
    row "$op" "$OUT/$op-$n.json" | while IFS=$'\t' read -r tool mean sd; do
      echo "| $n | $op | $tool | $mean | $sd |"
    done
  done
  # the peers keep their volumes for the next size; the largest size is filled last
done

# Linear scaling of listing: ls -q with 100 volumes against the largest size.
export MYVOL_ROOT=$WORK/store-100
fill myvol 100
hyperfine -N --warmup 5 --runs "$RUNS" -n "ls -q (100)" "$MYVOL volume ls -q" --export-json "$OUT/ls-100.json" >/dev/null 2>&1
row ls "$OUT/ls-100.json" | while IFS=$'\t' read -r tool mean sd; do echo "| 100 | ls | myvol | $mean | $sd |"; done
