#!/usr/bin/env bash
# Times `myvol volume export` and `volume import` against GNU tar and podman (when installed),
# side by side in one hyperfine run each, on the issue's tree: FILES files of 1 KiB in DIRS
# directories plus one BIG_MIB MiB file (default 50,000 × 1 KiB in 200 dirs + 512 MiB,
# about 700 MB), in a store on a tmpfs this script mounts and unmounts. Then peak memory with
# /usr/bin/time -v. Run as root (mount, podman), from a release build.
#
#   bash bench/archive.sh
#   FILES=5000 BIG_MIB=64 RUNS=3 bash bench/archive.sh     # a quicker look
#
# Podman's volumes live in its own storage (usually ext4 under /var/lib/containers), not on
# the tmpfs: its numbers include that filesystem. Results: markdown on stdout, hyperfine
# JSON in bench/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
FILES=${FILES:-50000}
DIRS=${DIRS:-200}
BIG_MIB=${BIG_MIB:-512}
RUNS=${RUNS:-5}
command -v hyperfine >/dev/null || { echo "hyperfine is needed (apt-get install hyperfine)" >&2; exit 1; }
[ -x /usr/bin/time ] || apt-get install -y time >/dev/null
# Another benchmark may be running on this machine: wait for it.
exec 9>/tmp/myvol-bench.lock
flock 9
cargo build --release -q
MYVOL=$PWD/target/release/myvol
OUT=bench/results
mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/myvol-bench-archive.XXXXXX)
mount -t tmpfs -o size=8g,mode=0700 tmpfs "$WORK"
PV=myvol-bench-archive-$$
have_podman=0
if command -v podman >/dev/null && podman volume create "$PV" >/dev/null 2>&1; then have_podman=1; fi
cleanup() {
  cd /
  [ "$have_podman" = 1 ] && podman volume rm -f "$PV" >/dev/null 2>&1 || true
  umount "$WORK" && rmdir "$WORK"
}
trap cleanup EXIT
export MYVOL_ROOT=$WORK/store
$MYVOL volume create vol >/dev/null
D=$MYVOL_ROOT/volumes/vol/_data
python3 - "$D" "$FILES" "$DIRS" "$BIG_MIB" <<'PY'
import os, sys
d, files, dirs, big = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
per = files // dirs
for i in range(dirs):
    p = os.path.join(d, f"d{i:03}")
    os.mkdir(p)
    for j in range(per):
        with open(os.path.join(p, f"f{j:05}"), "wb") as f:
            f.write(os.urandom(1024))
with open(os.path.join(d, "big"), "wb") as f:
    for _ in range(big):
        f.write(os.urandom(1 << 20))
PY
echo "# tree: $FILES files of 1 KiB in $DIRS directories + ${BIG_MIB} MiB; $(du -sh "$D" | cut -f1) on tmpfs" >&2
$MYVOL volume export -o "$WORK/v.tar" vol
if [ "$have_podman" = 1 ]; then podman volume import "$PV" "$WORK/v.tar"; fi

exp=(-n "myvol volume export" "$MYVOL volume export vol | cat >/dev/null"
     -n "tar -cf - ." "tar -C $D -cf - . | cat >/dev/null")
imp_prep=(--prepare "$MYVOL volume rm -f ww >/dev/null; $MYVOL volume create ww >/dev/null"
          --prepare "rm -rf $WORK/x; mkdir $WORK/x")
imp=(-n "myvol volume import" "$MYVOL volume import ww $WORK/v.tar"
     -n "tar -xf" "tar -C $WORK/x -xf $WORK/v.tar")
if [ "$have_podman" = 1 ]; then
  exp+=(-n "podman volume export" "podman volume export $PV | cat >/dev/null")
  imp_prep+=(--prepare "podman volume rm -f $PV >/dev/null; podman volume create $PV >/dev/null")
  imp+=(-n "podman volume import" "podman volume import $PV $WORK/v.tar")
else
  echo "# podman: not installed or not working, skipped" >&2
fi
$MYVOL volume create ww >/dev/null
hf() { hyperfine --style basic --runs "$RUNS" "$@" >&2; }

echo "## export (plain tar to a pipe)"
echo
hf --warmup 1 --export-markdown "$WORK/e.md" --export-json "$OUT/archive-export.json" "${exp[@]}"
cat "$WORK/e.md"; echo

echo "## import (from a file on the tmpfs, into an empty volume / directory)"
echo
hf --export-markdown "$WORK/i.md" --export-json "$OUT/archive-import.json" "${imp_prep[@]}" "${imp[@]}"
cat "$WORK/i.md"; echo

echo "## zstd export (to a pipe)"
echo
hf --warmup 1 --export-markdown "$WORK/z.md" --export-json "$OUT/archive-zstd.json" \
  -n "myvol volume export --compress zstd" "$MYVOL volume export --compress zstd vol | cat >/dev/null" \
  -n "tar -cf - . | zstd -T0" "tar -C $D -cf - . | zstd -q -T0 | cat >/dev/null"
cat "$WORK/z.md"; echo

peak() { /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F': ' '/Maximum resident set size/ {printf "%.1f MB", $2/1024}'; }
echo "## peak memory (maximum resident set size)"
echo
echo "| command | peak RSS |"
echo "|---|---|"
echo "| \`myvol volume export vol > /dev/null\` | $(peak $MYVOL volume export -o /dev/null vol) |"
echo "| \`myvol volume export --compress zstd vol > /dev/null\` | $(peak $MYVOL volume export --compress zstd -o /dev/null vol) |"
$MYVOL volume rm -f ww >/dev/null; $MYVOL volume create ww >/dev/null
echo "| \`myvol volume import ww v.tar\` | $(peak $MYVOL volume import ww "$WORK/v.tar") |"
echo "| \`tar -cf - .\` | $(peak tar -C "$D" -cf /dev/null .) |"
rm -rf "$WORK/x"; mkdir "$WORK/x"
echo "| \`tar -xf v.tar\` | $(peak tar -C "$WORK/x" -xf "$WORK/v.tar") |"
