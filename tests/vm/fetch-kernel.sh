#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Prints the path of a Debian cloud kernel for the test VM. The host kernel
# cannot be trusted to allow BPF-LSM loads, so we boot a known one instead.
# The package is only unpacked, never installed, so the host's boot setup is
# untouched, and the suites are read through a private apt configuration
# under the cache dir: the host's sources and lists are never edited.
#
# usage: tests/vm/fetch-kernel.sh [KERNEL] [CACHE_DIR]
#   KERNEL is a Debian suite, an alias for one, or a path to a vmlinuz:
#     bookworm | debian12 | 6.1      Debian 12's kernel (the default)
#     trixie   | debian13 | 6.12     Debian 13's kernel
#     sid      | newest              the newest kernel Debian ships
#     bullseye | debian11 | 5.10     Debian 11's kernel (below the floor)
#   env BULWARK_VM_KERNEL is the default KERNEL.
#   env BULWARK_VM_CACHE sets the default cache dir.
#   --list prints the suites of the test matrix, oldest first.
set -eu

log() { echo "fetch-kernel: $*" >&2; }

if [ "${1:-}" = --list ]; then
    echo bookworm trixie sid
    exit 0
fi

kernel=${1:-${BULWARK_VM_KERNEL:-bookworm}}
case "$kernel" in
    bookworm|debian12|6.1) suite=bookworm ;;
    trixie|debian13|6.12) suite=trixie ;;
    sid|newest|unstable) suite=sid ;;
    bullseye|debian11|5.10) suite=bullseye ;;
    */*)
        if [ ! -r "$kernel" ]; then
            log "$kernel is not readable"
            exit 1
        fi
        readlink -f "$kernel"
        exit 0
        ;;
    *)
        log "unknown kernel '$kernel' (bookworm, trixie, sid, bullseye or a path to a vmlinuz)"
        exit 1
        ;;
esac

cache=${2:-${BULWARK_VM_CACHE:-/var/cache/bulwark-vm}}
mkdir -p "$cache"
cache=$(readlink -f "$cache")

# One private apt tree per suite, so suites never mix candidates and the
# host's own apt state is left alone.
apt_dir=$cache/apt/$suite
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main" \
    >"$apt_dir/sources.list"
apt_private() {
    cmd=$1
    shift
    "$cmd" -o Dir::Etc::sourcelist="$apt_dir/sources.list" -o Dir::Etc::sourceparts=- \
        -o Dir::State::Lists="$apt_dir/lists" -o Dir::Cache="$apt_dir/cache" \
        -o APT::Get::List-Cleanup=0 "$@"
}

# The meta package tracks the current ABI number, which changes with every
# point release, so it is resolved each time rather than hard-coded.
resolve() {
    apt_private apt-cache depends linux-image-cloud-amd64 2>/dev/null |
        sed -n 's/^ *Depends: linux-image-\([0-9][^ ]*-cloud-amd64\)$/\1/p' |
        head -n 1
}

# Lists older than a day are refreshed: a point release removes the old
# ABI's packages from the archive.
if [ -z "$(find "$apt_dir/lists" -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null)" ]; then
    log "$suite: apt-get update (private lists in $apt_dir)"
    apt_private apt-get -q update >&2 || log "$suite: apt-get update failed"
fi
version=$(resolve)
if [ -z "$version" ]; then
    # Offline with no lists: fall back to whatever an earlier run unpacked.
    # shellcheck disable=SC2012 # paths are ours and need version sorting
    old=$(ls -1 "$cache/$suite"/*/vmlinuz 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -n "$old" ]; then
        log "$suite: cannot resolve the kernel package; reusing cached $old"
        echo "$old"
        exit 0
    fi
    log "$suite: cannot resolve the dependency of linux-image-cloud-amd64"
    exit 1
fi

dest="$cache/$suite/$version"
if [ -r "$dest/vmlinuz" ]; then
    log "$suite: using cached $dest/vmlinuz"
    echo "$dest/vmlinuz"
    exit 0
fi

# The unsigned image has no dependency on the signing template. Up to
# Debian 13 it is linux-image-VER-unsigned; newer suites call it
# linux-binary-unsigned-VER.
deb_pkg=""
for p in "linux-image-$version-unsigned" "linux-binary-unsigned-$version"; do
    if apt_private apt-cache show "$p" >/dev/null 2>&1; then
        deb_pkg=$p
        break
    fi
done
if [ -z "$deb_pkg" ]; then
    log "$suite: no unsigned image package for $version"
    exit 1
fi

tmp="$dest.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
log "$suite: downloading $deb_pkg"
# apt-get download writes into the current directory; as root it warns that
# the _apt user cannot write there, which is harmless.
(cd "$tmp" && apt_private apt-get -q download "$deb_pkg" >&2)
# shellcheck disable=SC2012 # the glob is ours; apt names files predictably
deb=$(ls -1 "$tmp/${deb_pkg}"_*.deb 2>/dev/null | head -n 1 || true)
if [ -z "$deb" ]; then
    log "$suite: download of $deb_pkg produced no .deb"
    rm -rf "$tmp"
    exit 1
fi

# Unpack next to the final dir and rename, so an interrupted run never leaves
# a half-filled tree that a later run would mistake for a complete cache.
# Only the image is unpacked: the guest boots without modules.
mkdir "$tmp/x"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp/x" --wildcards '*vmlinuz*'
img=""
for f in "$tmp/x/boot/vmlinuz-$version" "$tmp/x/usr/lib/modules/$version/vmlinuz" \
    "$tmp/x/usr/lib/modules/$version/vmlinuz.unsigned"; do
    if [ -r "$f" ]; then
        img=$f
        break
    fi
done
if [ -z "$img" ]; then
    log "$suite: $deb holds no vmlinuz for $version"
    rm -rf "$tmp"
    exit 1
fi
mv "$img" "$tmp/vmlinuz"
rm -rf "$tmp/x" "$deb"
rm -rf "$dest"
mv "$tmp" "$dest"
log "$suite: unpacked $dest/vmlinuz"
echo "$dest/vmlinuz"
