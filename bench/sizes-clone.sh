#!/usr/bin/env bash
# Benchmarks for sizes and clone (figures in docs/benchmarks.md):
#  1. `myvol volume ls --size` over 100 volumes holding 50,000 files in total, against
#     `du -s` over the same directories (hyperfine, warm cache);
#  2. `myvol volume clone` of a 500 MB volume on a reflink-capable filesystem (a loop-mounted
#     XFS image created under /tmp, or btrfs), and the same clone on the filesystem of /tmp
#     (no reflink: copy_file_range).
# Needs hyperfine; part 2 needs root, losetup and mkfs.xfs or mkfs.btrfs
# (apt-get install -y xfsprogs btrfs-progs). Usage: bench/sizes-clone.sh [path/to/myvol]
set -euo pipefail

MYVOL=$(realpath "${1:-target/release/myvol}")
[ -x "$MYVOL" ] || { echo "build first: cargo build --release" >&2; exit 1; }
WORK=$(mktemp -d /tmp/myvol-bench.XXXXXX)
MNT=""
cleanup() {
    if [ -n "$MNT" ] && mountpoint -q "$MNT"; then umount "$MNT"; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

echo "== myvol $("$MYVOL" --version), $(nproc) cores, $(uname -r)"

# ---------------------------------------------------------------- 1. sizes
ROOT=$WORK/sizes
export MYVOL_ROOT=$ROOT
for i in $(seq 1 100); do
    "$MYVOL" volume create "bench-$i" >/dev/null
    d=$ROOT/volumes/bench-$i/_data
    mkdir -p "$d/a/b"
    # 500 files per volume (50,000 in all), 1-4 kB each, in three directories.
    head -c $((166 * 3000)) /dev/urandom | split -b 3000 -a 3 - "$d/f"
    head -c $((200 * 1500)) /dev/urandom | split -b 1500 -a 3 - "$d/a/g"
    head -c $((134 * 1000)) /dev/urandom | split -b 1000 -a 3 - "$d/a/b/h"
done
echo "files: $(find "$ROOT/volumes" -path '*/_data/*' -type f | wc -l)"
hyperfine --warmup 3 --min-runs 10 -N -n "myvol volume ls --size" -n "du -s (the 100 _data dirs)" \
    "$MYVOL volume ls --size" \
    "du -s $(printf "$ROOT/volumes/bench-%d/_data " $(seq 1 100))"

# ---------------------------------------------------------------- 2. clone
clone_bench() { # $1: label
    "$MYVOL" volume create src >/dev/null
    for i in $(seq 1 5); do head -c 100M /dev/urandom > "$MYVOL_ROOT/volumes/src/_data/blob$i"; done
    sync
    echo "-- clone of $(du -sh --apparent-size "$MYVOL_ROOT/volumes/src/_data" | cut -f1) on $1"
    hyperfine --runs 5 -N -n "myvol volume clone src dst" --prepare "$MYVOL volume rm -f dst" "$MYVOL volume clone src dst"
}

if [ "$(id -u)" = 0 ] && command -v losetup >/dev/null; then
    MNT=$WORK/mnt
    mkdir -p "$MNT"
    truncate -s 2G "$WORK/fs.img"
    if command -v mkfs.xfs >/dev/null; then
        mkfs.xfs -q -m reflink=1 "$WORK/fs.img"; FS=xfs
    else
        mkfs.btrfs -q "$WORK/fs.img"; FS=btrfs
    fi
    mount -o loop "$WORK/fs.img" "$MNT"
    export MYVOL_ROOT=$MNT/root
    clone_bench "$FS (reflink)"
    umount "$MNT"; MNT=""
else
    echo "skipping the reflink clone: needs root and losetup" >&2
fi

export MYVOL_ROOT=$WORK/plain
clone_bench "$(df -T /tmp | awk 'NR==2 {print $2}') (no reflink: copy_file_range)"
