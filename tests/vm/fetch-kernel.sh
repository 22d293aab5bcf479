#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Prints the path of a Debian cloud kernel that has BPF-LSM compiled in, for
# the test VM. The host kernel cannot be trusted to allow BPF-LSM loads, so
# we boot a known one instead. The package is only unpacked, never installed,
# so the host's boot setup is untouched.
#
# usage: tests/vm/fetch-kernel.sh [CACHE_DIR]
#   env BULWARK_VM_KERNEL=/path/to/vmlinuz skips the download entirely.
#   env BULWARK_VM_CACHE sets the default cache dir.
set -eu

log() { echo "fetch-kernel: $*" >&2; }

if [ -n "${BULWARK_VM_KERNEL:-}" ]; then
    if [ ! -r "$BULWARK_VM_KERNEL" ]; then
        log "BULWARK_VM_KERNEL=$BULWARK_VM_KERNEL is not readable"
        exit 1
    fi
    readlink -f "$BULWARK_VM_KERNEL"
    exit 0
fi

cache=${1:-${BULWARK_VM_CACHE:-/var/cache/bulwark-vm}}
mkdir -p "$cache"
cache=$(readlink -f "$cache")

# The meta package tracks the current ABI number, which changes with every
# point release, so it is resolved each time rather than hard-coded.
resolve() {
    apt-cache depends linux-image-cloud-amd64 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-cloud-amd64\)$/\1/p' |
        head -n 1
}

pkg=$(resolve)
if [ -z "$pkg" ]; then
    log "no apt lists for linux-image-cloud-amd64; running apt-get update"
    apt-get update >&2
    pkg=$(resolve)
fi
if [ -z "$pkg" ]; then
    # Offline with no lists: fall back to whatever an earlier run unpacked.
    # shellcheck disable=SC2012 # paths are ours and need version sorting
    old=$(ls -1 "$cache"/linux-image-*-cloud-amd64/boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -n "$old" ]; then
        log "cannot resolve kernel package; reusing cached $old"
        echo "$old"
        exit 0
    fi
    log "cannot resolve the dependency of linux-image-cloud-amd64"
    exit 1
fi

version=${pkg#linux-image-}
dest="$cache/$pkg"
vmlinuz="$dest/boot/vmlinuz-$version"

if [ -r "$vmlinuz" ]; then
    log "using cached $vmlinuz"
    echo "$vmlinuz"
    exit 0
fi

# The -unsigned flavour holds the same image without the secure-boot
# signature and has no dependency on the signing template.
deb_pkg="$pkg-unsigned"
log "downloading $deb_pkg"
# apt-get download writes into the current directory; as root it warns that
# the _apt user cannot write there, which is harmless.
(cd "$cache" && rm -f "${deb_pkg}"_*.deb && apt-get download "$deb_pkg" >&2)
# shellcheck disable=SC2012 # the glob is ours; apt names files predictably
deb=$(ls -1 "$cache/${deb_pkg}"_*.deb 2>/dev/null | head -n 1 || true)
if [ -z "$deb" ]; then
    log "download of $deb_pkg produced no .deb"
    exit 1
fi

# Unpack next to the final dir and rename, so an interrupted run never leaves
# a half-filled tree that a later run would mistake for a complete cache.
tmp="$dest.tmp.$$"
rm -rf "$tmp"
dpkg-deb -x "$deb" "$tmp"
if [ ! -r "$tmp/boot/vmlinuz-$version" ]; then
    log "$deb does not contain boot/vmlinuz-$version"
    rm -rf "$tmp"
    exit 1
fi
rm -rf "$dest"
mv "$tmp" "$dest"
rm -f "$deb"
log "unpacked $vmlinuz"
echo "$vmlinuz"
