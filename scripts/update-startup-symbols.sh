#!/usr/bin/env bash
# Regenerates scripts/startup-symbols.txt, the symbol ordering file scripts/build-static.sh
# links with: every function that myvol's quick commands execute (volume create, inspect, ls,
# rm, prune, exists, rename, clone, system df, run --dry-run, and their common errors), as
# callgrind sees them in the static binary, in the order they were first listed. Run it after
# a toolchain or dependency update (symbol hashes change with them). Needs valgrind.
#   bash scripts/update-startup-symbols.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 1; }
bin=$(bash scripts/build-static.sh)
work=$(mktemp -d /tmp/myvol-symbols.XXXXXX)
trap 'rm -rf "$work"' EXIT
export MYVOL_ROOT=$work/store
n=0
trace() {
  n=$((n + 1))
  valgrind --tool=callgrind --demangle=no --callgrind-out-file="$work/cg.$n" "$bin" "$@" >/dev/null 2>&1 || true
  [ -s "$work/cg.$n" ] || { echo "callgrind recorded nothing for: myvol $*" >&2; exit 1; }
}
"$bin" volume create --label app=db vol-a >/dev/null
"$bin" volume create vol-b >/dev/null
trace volume create --label app=db -o type=tmpfs -o device=tmpfs vol-c
trace volume create
trace volume create vol-a
trace volume create vol-d
trace volume inspect vol-a
trace volume inspect -f '{{.Mountpoint}}' vol-a
trace volume inspect nosuch
trace volume ls
trace volume ls -q
trace volume ls -q -f dangling=true
trace volume ls --format json
trace volume ls --format 'table {{.Name}}\t{{.Labels}}' -f label=app
trace volume exists vol-a
trace volume rename vol-b vol-b2
trace volume clone vol-a vol-a2
trace volume rm vol-a2 vol-c
trace volume rm nosuch
trace volume prune -f
trace system df
trace run --dry-run -v vol-a:/data -v /tmp:/host:ro /
trace --version
# Function names (fn= and cfn= records, "(id) name" on first mention), without callgrind's
# recursion suffixes and the addresses it could not name.
cat "$work"/cg.* | sed -n -E 's/^c?fn=\([0-9]+\) (.+)$/\1/p' | sed -E "s/'[0-9]+$//" \
  | grep -v -E '^(0x[0-9a-f]+|\(below main\))$' | awk '!seen[$0]++' > "$work/symbols"
[ -s "$work/symbols" ] || { echo "no symbols found; scripts/startup-symbols.txt left as it was" >&2; exit 1; }
mv "$work/symbols" scripts/startup-symbols.txt
# cargo does not track the ordering file's content: remove the binary so that the next
# build-static.sh links again with the new list.
rm -f "$bin" "$(dirname "$bin")"/deps/myvol-*
echo "scripts/startup-symbols.txt: $(wc -l < scripts/startup-symbols.txt) symbols" >&2
