#!/usr/bin/env bash
# Builds a statically linked, non-PIE release binary of myvol and prints its path.
# Such a binary starts about 0.5 ms faster than the default dynamically linked one (no dynamic
# loader, no relocations), which is a third of what a quick command like `volume inspect` costs.
# Its only NSS call is the host-name lookup of an NFS/CIFS volume's addr= option (getaddrinfo),
# which in a static binary needs the same glibc version installed at run time.
#
# Where the toolchain ships rust-lld (rustup's does; it is rustc's default linker on x86_64
# since 1.90), the binary is linked with it and with
# scripts/startup-symbols.txt as its symbol ordering file: the functions a quick command runs
# are laid out side by side at the start of the code, so starting touches about a third fewer
# pages (scripts/update-startup-symbols.sh regenerates the list; names it no longer finds are
# skipped, so a stale list costs speed, never correctness; cargo does not notice a changed list,
# so the regenerating script removes the binary). MYVOL_LINKER=default skips this.
#   bash scripts/build-static.sh            # -> target/<host>/release/myvol
#   install -m 755 "$(bash scripts/build-static.sh)" /usr/local/bin/myvol
set -euo pipefail
cd "$(dirname "$0")/.."
host=$(rustc -vV | sed -n 's/^host: //p')
case $host in
  *-linux-gnu)
    flags="-C target-feature=+crt-static -C relocation-model=static"
    gcc_ld=$(rustc --print sysroot)/lib/rustlib/$host/bin/gcc-ld
    # (RUSTFLAGS is split on spaces: a path with one cannot be passed.)
    if [ "${MYVOL_LINKER:-}" != default ] && [ -x "$gcc_ld/ld.lld" ] && [ -s scripts/startup-symbols.txt ] \
      && [[ "$PWD$gcc_ld" != *[[:space:]]* ]]; then
      flags="$flags -C link-arg=-fuse-ld=lld -C link-arg=-B$gcc_ld"
      flags="$flags -C link-arg=-Wl,--symbol-ordering-file=$PWD/scripts/startup-symbols.txt"
      flags="$flags -C link-arg=-Wl,--no-warn-symbol-ordering"
    fi
    RUSTFLAGS="${RUSTFLAGS:-} $flags" cargo build --release --quiet --target "$host" >&2
    echo "$PWD/target/$host/release/myvol" ;;
  *)
    cargo build --release --quiet >&2
    echo "$PWD/target/release/myvol" ;;
esac
