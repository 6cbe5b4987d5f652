#!/usr/bin/env bash
# Start-up cost of myvol binaries side by side: page faults (exact, from perf stat) and time
# (hyperfine) of `volume inspect` and `volume create` on a throwaway store, plus a static C
# program that prints one line, for the floor of a process start on this machine.
#
#   bash bench/startup.sh                      # the static build of this checkout
#   bash bench/startup.sh OLD_BIN NEW_BIN ...  # several builds, e.g. before and after a change
#
# Build an older revision to compare with:
#   git worktree add /tmp/myvol-old REV && (cd /tmp/myvol-old && bash scripts/build-static.sh)
set -euo pipefail
bins=()
for b in "$@"; do bins+=("$(realpath "$b")"); done
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "hyperfine is needed (apt-get install hyperfine)" >&2; exit 1; }
RUNS=${RUNS:-200}
[ ${#bins[@]} -gt 0 ] || bins=("$(bash scripts/build-static.sh)")
work=$(mktemp -d /tmp/myvol-startup.XXXXXX)
trap 'rm -rf "$work"' EXIT
export MYVOL_ROOT=$work/store
"${bins[0]}" volume create --label app=db bench-startup >/dev/null

floor=()
if command -v gcc >/dev/null; then
  printf '#include <stdio.h>\nint main(void){puts("x");return 0;}\n' > "$work/hello.c"
  gcc -O2 -static -o "$work/hello" "$work/hello.c" && floor=(-n "static C hello" "$work/hello")
fi

if command -v perf >/dev/null && perf stat -e page-faults true >/dev/null 2>&1; then
  echo "| binary | page faults (volume inspect) |"
  echo "|---|---:|"
  for b in "${bins[@]}"; do
    pf=$(perf stat -x, -e page-faults -r 20 "$b" volume inspect bench-startup 2>&1 >/dev/null | cut -d, -f1 | tail -1)
    echo "| $b | $pf |"
  done
  echo
fi

inspect=() create=()
for b in "${bins[@]}"; do
  q=$(printf %q "$b")
  inspect+=(-n "$b volume inspect" "$q volume inspect bench-startup")
  create+=(-n "$b volume create" --prepare "$q volume rm -f bench-new" "$q volume create bench-new")
done
table() { # hyperfine JSON -> markdown, in ms with two decimals
  python3 - "$1" <<'PY'
import json, sys
print("| command | mean ± σ (ms) | median (ms) | min … max (ms) |")
print("|---|---:|---:|---:|")
for r in json.load(open(sys.argv[1]))["results"]:
    ms = lambda x: "-" if x is None else f"{x * 1000:.2f}"
    print(f"| `{r['command']}` | {ms(r['mean'])} ± {ms(r['stddev'])} | {ms(r['median'])} | {ms(r['min'])} … {ms(r['max'])} |")
PY
}
hyperfine -N --warmup 5 --runs "$RUNS" "${floor[@]}" "${inspect[@]}" --export-json "$work/inspect.json" >/dev/null
hyperfine -N --warmup 5 --runs "$RUNS" "${create[@]}" --export-json "$work/create.json" >/dev/null
table "$work/inspect.json"; echo; table "$work/create.json"
