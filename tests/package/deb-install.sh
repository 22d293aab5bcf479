#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The Debian package, built and installed the way an admin would: cpack
# writes bulwark_<version>_amd64.deb, its contents are checked, and
# `apt-get install ./bulwark_*.deb` runs in a clean Debian 12 (debootstrap
# minbase, fresh from a cached tarball each run) where `bulwark version`,
# the man page and the bash completion must then work.
#
# usage: tests/package/deb-install.sh BUILD_DIR
set -euo pipefail
build=$(realpath "${1:?usage: $0 BUILD_DIR}")
for tool in cpack dpkg-deb debootstrap; do
    command -v "$tool" >/dev/null || { echo "deb: $tool missing (scripts/install-deps.sh)" >&2; exit 1; }
done
if [ "$(id -u)" != 0 ]; then
    echo "deb: needs root (debootstrap, chroot)" >&2
    exit 1
fi

out=$build/package
mkdir -p "$out"
rm -f "$out"/bulwark_*.deb
(cd "$build" && cpack -G DEB -B "$out" >"$out/cpack.log") || { cat "$out/cpack.log" >&2; exit 1; }
version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$build/CPackConfig.cmake")
deb=$out/bulwark_${version}_amd64.deb
[ -f "$deb" ] || { echo "deb: cpack did not write $deb" >&2; ls "$out" >&2; exit 1; }
echo "--- $deb"
dpkg-deb -I "$deb" | sed -n '/Package:/,$p'
dpkg-deb -c "$deb" | awk '{print $6}' >"$out/contents.txt"
for f in ./usr/bin/bulwark ./usr/lib/systemd/system/bulwark-enforce@.service \
    ./usr/lib/systemd/system/bulwark-engine.service ./usr/share/bulwark/bundled/docker-default.yaml \
    ./usr/share/bulwark/examples/demo.yaml ./usr/share/man/man1/bulwark.1.gz \
    ./usr/share/bash-completion/completions/bulwark ./usr/share/doc/bulwark/README.md; do
    grep -qxF "$f" "$out/contents.txt" || { echo "deb: the package lacks $f" >&2; exit 1; }
done

# A clean Debian 12, made once (debootstrap from Debian's archive) and
# kept as a tarball; each run installs into a fresh copy of it.
cache=$build/debian12-minbase.tar
if [ ! -s "$cache" ]; then
    seed=$(mktemp -d "$build/debootstrap.XXXXXX")
    echo "--- debootstrap bookworm (once; cached in $cache)"
    if ! debootstrap --variant=minbase bookworm "$seed" http://deb.debian.org/debian >"$build/debootstrap.log" 2>&1; then
        tail -20 "$build/debootstrap.log" >&2
        rm -rf "$seed"
        exit 1
    fi
    tar -C "$seed" -cf "$cache.tmp" .
    mv "$cache.tmp" "$cache"
    rm -rf "$seed"
fi
root=$(mktemp -d "$build/deb-root.XXXXXX")
cleanup() {
    umount "$root/proc" 2>/dev/null || umount -l "$root/proc" 2>/dev/null || true
    # Never into a mount that is still there.
    rm -rf --one-file-system "$root"
}
trap cleanup EXIT
tar -C "$root" -xf "$cache"
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
cp "$deb" "$root/tmp/"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }
echo "--- apt-get install ./$(basename "$deb") in a clean Debian 12"
in_root apt-get update -q >/dev/null
in_root sh -c "cd /tmp && apt-get install -y -q ./$(basename "$deb")" | tail -5
echo "--- bulwark version (in the chroot)"
in_root bulwark version | tee "$out/version.txt"
grep -q "^bulwark $version" "$out/version.txt"
in_root bulwark check /usr/share/bulwark/examples/demo.yaml
in_root sh -c 'zcat /usr/share/man/man1/bulwark.1.gz | grep -q "^\.SS \"bulwark run\""'
in_root grep -q '^ExecStart=/usr/bin/bulwark ' /lib/systemd/system/bulwark-enforce@.service
got=$(in_root bash -c 'source /usr/share/bash-completion/completions/bulwark
    COMP_WORDS=(bulwark import d); COMP_CWORD=2; _bulwark; echo "${COMPREPLY[*]}"')
[ "$got" = docker ] || { echo "deb: completion of 'bulwark import d' gave '$got'" >&2; exit 1; }
echo "deb: ok"
