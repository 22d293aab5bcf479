#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Installs the Debian 12 packages bulwark needs. Safe to rerun: packages
# already present are skipped so CI and provisioning stay fast and offline
# when nothing is missing.
#
# usage: scripts/install-deps.sh [--vm] [--consumers] [--fuzz]
#   --consumers  what the tests of the real consumers need: Prometheus,
#                rsyslog, npm (Elastic's ECS schema), debootstrap (the .deb),
#                containers-common (podman's seccomp profile)
set -eu

log() { echo "deps: $*" >&2; }

want_vm=0
want_consumers=0
for arg in "$@"; do
    case "$arg" in
        --vm) want_vm=1 ;;
        --consumers) want_consumers=1 ;;
        --fuzz) ;; # reserved; the fuzz targets need nothing beyond clang yet
        -h|--help) echo "usage: $0 [--vm] [--consumers] [--fuzz]"; exit 0 ;;
        *) log "unknown argument: $arg"; exit 2 ;;
    esac
done

pkgs="build-essential cmake pkg-config clang clang-format llvm libbpf-dev bpftool
libseccomp-dev libcli11-dev libgtest-dev googletest libyaml-cpp-dev
nlohmann-json3-dev libelf-dev zlib1g-dev help2man systemd"
if [ "$want_vm" = 1 ]; then
    pkgs="$pkgs qemu-system-x86 busybox-static cpio"
fi
if [ "$want_consumers" = 1 ]; then
    pkgs="$pkgs prometheus rsyslog debootstrap curl jq python3 perl openssl
        golang-github-containers-common"
    # npm may come with a nodejs from elsewhere; Debian's is its own package.
    command -v npm >/dev/null || pkgs="$pkgs npm"
fi

missing=""
for p in $pkgs; do
    # "install ok installed" is the only state that means usable; half-removed
    # or config-files-only packages must be reinstalled.
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    if [ "$status" != "install ok installed" ]; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    log "all packages already installed"
    exit 0
fi

if [ "$(id -u)" != 0 ]; then
    log "missing:$missing"
    log "run as root to install them"
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
log "installing:$missing"
# Only the programs are wanted: a package's daemon (prometheus, rsyslog)
# must not start on the host. policy-rc.d tells invoke-rc.d and
# deb-systemd-invoke so, for this run only.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
# Try with the existing lists first; a fresh container may have none, so only
# then pay for an update.
# shellcheck disable=SC2086
if ! apt-get install -y --no-install-recommends $missing >/dev/null 2>&1; then
    log "apt-get update"
    apt-get update >&2
    # shellcheck disable=SC2086
    apt-get install -y --no-install-recommends $missing >&2
fi
log "done"
