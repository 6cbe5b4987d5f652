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
echo hello > "$(myvol volume inspect -f '{{.Mountpoint}}' db-data)/greeting"
step volume inspect -f '{{.Mountpoint}}' db-data
step volume prune -f                                # removes the unused anonymous volume
step volume rm db-data scratch
step volume ls -q
printf '\nThe store was %s (removed now).\n' "$MYVOL_ROOT"
