#!/usr/bin/env bash
# Builds a statically linked, non-PIE release binary of myvol and prints its path.
# Such a binary starts about 0.5 ms faster than the default dynamically linked one (no dynamic
# loader, no relocations), which is a third of what a quick command like `volume inspect` costs.
# Its only NSS call is the host-name lookup of an NFS/CIFS volume's addr= option (getaddrinfo),
# which in a static binary needs the same glibc version installed at run time.
#   bash scripts/build-static.sh            # -> target/<host>/release/myvol
#   install -m 755 "$(bash scripts/build-static.sh)" /usr/local/bin/myvol
set -euo pipefail
cd "$(dirname "$0")/.."
host=$(rustc -vV | sed -n 's/^host: //p')
case $host in
  *-linux-gnu)
    RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static -C relocation-model=static" \
      cargo build --release --quiet --target "$host" >&2
    echo "$PWD/target/$host/release/myvol" ;;
  *)
    cargo build --release --quiet >&2
    echo "$PWD/target/release/myvol" ;;
esac
