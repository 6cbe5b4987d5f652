#!/usr/bin/env bash
# Times one `compose run --rm SERVICE true`, start to end, volumes existing and the image in
# the store, side by side in one hyperfine run:
#   myvol compose run --rm backend true
#   docker compose run --rm backend true      (the `bb` image of the peers' setup)
#   podman-compose run --rm backend true      (localhost/bb)
# The project is seed (b) of the tests (backend with logs-volume:/app/logs), its image a
# busybox tree: `bb` for the peers, the same tree loaded into myvol's store as `bb`.
# `bash /work/shared/peers/setup.sh` first for the peers (dockerd, Docker Compose v2,
# podman-compose, hyperfine and the `bb` image with its rootfs at /tmp/peer-rootfs).
#
#   bash bench/compose.sh                   # all tools, the static build of this checkout
#   bash bench/compose.sh /path/to/myvol    # another build
#   PEERS="" bash bench/compose.sh          # myvol alone (PEERS default: "docker podman")
#
# Results: a markdown table on stdout and raw hyperfine JSON in bench/results/compose.json.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOTFS=${ROOTFS:-/tmp/peer-rootfs}
PEERS=${PEERS-"docker podman"}
RUNS=${RUNS:-30}
command -v hyperfine >/dev/null || { echo "hyperfine is needed (apt-get install hyperfine)" >&2; exit 1; }
[ -x "$ROOTFS/bin/busybox" ] || { echo "$ROOTFS/bin/busybox is missing (run the peers' setup.sh)" >&2; exit 1; }
# The static release build README.md recommends installing, or the build given as $1.
MYVOL=$(realpath "${1:-$(bash scripts/build-static.sh)}")
OUT=bench/results
mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/myvol-bench-compose.XXXXXX)
cleanup() {
  (cd "$WORK/bench" 2>/dev/null && docker compose down -v >/dev/null 2>&1) || true
  (cd "$WORK/bench" 2>/dev/null && podman-compose down -v >/dev/null 2>&1) || true
  rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$WORK/bench"
export MYVOL_ROOT=$WORK/store

# The image for myvol: the peers' busybox tree, as a `docker save`-free OCI layout is not
# needed: `myvol load` takes the tar `docker save` would give, made here by hand.
mkimage() {
  local d=$WORK/img
  mkdir -p "$d/layer"
  tar -C "$ROOTFS" -cf "$d/layer/layer.tar" .
  local diff; diff=sha256:$(sha256sum "$d/layer/layer.tar" | cut -d' ' -f1)
  printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["%s"]}}' "$diff" > "$d/config.json"
  local cfg; cfg=$(sha256sum "$d/config.json" | cut -d' ' -f1)
  mv "$d/config.json" "$d/$cfg.json"
  printf '[{"Config":"%s.json","RepoTags":["bb:latest"],"Layers":["layer/layer.tar"]}]' "$cfg" > "$d/manifest.json"
  tar -C "$d" -cf "$WORK/bb.tar" manifest.json "$cfg.json" layer/layer.tar
  "$MYVOL" load -q -i "$WORK/bb.tar" >/dev/null
}
mkimage

cat > "$WORK/bench/compose.yaml" <<'YAML'
services:
  backend:
    image: bb
    volumes:
      - logs-volume:/app/logs
volumes:
  logs-volume:
    driver: local
YAML
cd "$WORK/bench"
# Volumes existing, images cached: one run of each first.
"$MYVOL" compose run --rm backend true
cmds=(-n myvol "$MYVOL compose run --rm backend true")
for p in $PEERS; do
  case $p in
    docker) docker info >/dev/null 2>&1 && docker compose version >/dev/null 2>&1 \
      && docker compose run --rm backend true >/dev/null 2>&1 \
      && cmds+=(-n "docker compose" "docker compose run --rm backend true") ;;
    podman) command -v podman-compose >/dev/null \
      && sed 's/image: bb/image: localhost\/bb/' compose.yaml > podman-compose.yaml \
      && podman-compose -f podman-compose.yaml run --rm backend true >/dev/null 2>&1 \
      && cmds+=(-n podman-compose "podman-compose -f podman-compose.yaml run --rm backend true") ;;
  esac
done
hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$OLDPWD/$OUT/compose.json" --export-markdown "$WORK/table.md" "${cmds[@]}" >&2
cat "$WORK/table.md"
