#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Runs one command inside a throw-away QEMU VM booted from a Debian cloud
# kernel, and exits with that command's status. BPF-LSM programs cannot be
# attached on every host (containers, kernels without lsm=bpf), so the
# kernel-facing tests run here instead. TCG is used so no /dev/kvm is needed.
#
# usage: tests/vm/run-in-vm.sh [--timeout SEC] [--mem MB]
#            [--include SRC[:DEST]]... [--env NAME=VALUE]... [--append ARGS]
#            [--icount] [--keep] -- CMD [ARGS...]
#
#   --timeout SEC   wall-clock limit for the whole VM (default 600)
#   --mem MB        guest RAM (default 1536)
#   --include S[:D] copy host file or directory S to D in the guest
#                   (D defaults to /opt/bulwark/bin/<basename of S>); the
#                   shared libraries of every ELF file are copied as well
#   --env N=V       exported to CMD
#   --append ARGS   extra kernel command line
#   --icount        QEMU's instruction-counting clock (-icount shift=0):
#                   the guest's time advances one ns per guest instruction,
#                   so the kernel's own timings (bpf_stats run_time_ns)
#                   count instructions and do not move with the host's
#                   load. For benchmarks; one vCPU (with two, the second
#                   never comes up under icount).
#   --keep          keep the work dir (initramfs tree) for debugging
#
# Exit status: CMD's status, or 1 when the VM ends without reporting one
# (timeout, kernel panic, QEMU failure).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)

log() { echo "vm: $*" >&2; }
die() { log "$*"; exit 1; }

timeout_s=600
mem_mb=1536
extra_append=""
keep=0
smp=2
icount=()
includes=()
envs=()

while [ $# -gt 0 ]; do
    case "$1" in
        --timeout) timeout_s=${2:?--timeout needs a value}; shift 2 ;;
        --mem) mem_mb=${2:?--mem needs a value}; shift 2 ;;
        --include) includes+=("${2:?--include needs a value}"); shift 2 ;;
        --env) envs+=("${2:?--env needs a value}"); shift 2 ;;
        --append) extra_append="$extra_append ${2:?--append needs a value}"; shift 2 ;;
        --icount) icount=(-icount shift=0,align=off,sleep=off); smp=1; shift ;;
        --keep) keep=1; shift ;;
        --) shift; break ;;
        -h|--help) sed -n '/^# usage:/,/^set /{/^#/p}' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown option: $1 (the command goes after --)" ;;
    esac
done
[ $# -gt 0 ] || die "no command given (usage: $0 [options] -- CMD [ARGS...])"
[[ "$timeout_s" =~ ^[0-9]+$ ]] || die "--timeout must be a number of seconds"
[[ "$mem_mb" =~ ^[0-9]+$ ]] || die "--mem must be a number of MiB"

for tool in qemu-system-x86_64 cpio; do
    command -v "$tool" >/dev/null || die "$tool not found; run scripts/install-deps.sh --vm"
done
busybox=""
for b in /usr/bin/busybox /bin/busybox; do
    [ -x "$b" ] && { busybox=$b; break; }
done
[ -n "$busybox" ] || die "busybox not found; run scripts/install-deps.sh --vm"

vmlinuz=$("$here/fetch-kernel.sh") || die "could not get a kernel"

work=$(mktemp -d "${TMPDIR:-/tmp}/bulwark-vm.XXXXXX")
# shellcheck disable=SC2317 # called via trap
cleanup() {
    if [ "$keep" = 1 ]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
root=$work/root

# Merged-usr like Debian, so binaries copied from the host find their
# libraries and interpreters at the same paths they were linked against.
mkdir -p "$root"/usr/{bin,sbin,lib,lib64} "$root"/bb "$root"/etc \
    "$root"/{proc,sys,dev,tmp,run,mnt,root} "$root"/opt/bulwark/bin
ln -s usr/bin "$root/bin"
ln -s usr/sbin "$root/sbin"
ln -s usr/lib "$root/lib"
ln -s usr/lib64 "$root/lib64"
chmod 1777 "$root/tmp"
chmod 0700 "$root/root"

is_elf() {
    [ -f "$1" ] && [ "$(od -An -tx1 -N4 "$1" 2>/dev/null | tr -d ' \n')" = 7f454c46 ]
}

# Copies a file to the same absolute path inside the guest, following
# symlinks so the guest gets real content even where the host path is a link.
copy_as_is() {
    local src=$1
    [ -e "$root$src" ] && return 0
    mkdir -p "$(dirname "$root$src")"
    cp -L --preserve=mode "$src" "$root$src"
}

# Files whose shared libraries still need to be resolved.
elves=()

copy_libs_of() {
    local f=$1 out lib
    # Static binaries make ldd fail; that simply means nothing to copy.
    out=$(ldd "$f" 2>/dev/null) || return 0
    if grep -q '=> not found' <<<"$out"; then
        die "$f: missing shared libraries on the host: $(grep '=> not found' <<<"$out" | tr -s ' \t\n' ' ')"
    fi
    while read -r lib; do
        copy_as_is "$lib"
    done < <(awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }' <<<"$out")
}

# The guest's /bin/sh must be dash, not busybox: tests deny exec of /bin/sh
# and that must not take the init (busybox) down with it.
cp "$busybox" "$root/bb/busybox"
elves+=("$busybox")
for applet in $("$busybox" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$root/bb/$applet"
done

for b in dash bash true false cat echo env sleep id ls mkdir cp ln rm touch stat head wc; do
    [ -x "/usr/bin/$b" ] || die "/usr/bin/$b not found on the host"
    cp -L --preserve=mode "/usr/bin/$b" "$root/usr/bin/$b"
    elves+=("/usr/bin/$b")
done
ln -s dash "$root/usr/bin/sh"
copy_as_is /lib64/ld-linux-x86-64.so.2

for inc in "${includes[@]}"; do
    src=${inc%%:*}
    if [ "$src" = "$inc" ]; then
        dest=/opt/bulwark/bin/$(basename "$src")
    else
        dest=${inc#*:}
    fi
    [ -e "$src" ] || die "--include $src: no such file or directory"
    case "$dest" in /*) ;; *) die "--include $inc: destination must be absolute" ;; esac
    mkdir -p "$(dirname "$root$dest")"
    if [ -d "$src" ]; then
        rm -rf "${root:?}$dest"
        cp -a "$src" "$root$dest"
        while IFS= read -r -d '' f; do
            is_elf "$f" && elves+=("$f")
        done < <(find "$src" -type f -print0)
    else
        rm -f "${root:?}$dest"
        cp -L --preserve=mode "$src" "$root$dest"
        is_elf "$src" && elves+=("$src")
    fi
done

for f in "${elves[@]}"; do
    copy_libs_of "$f"
done

cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
echo 'root:*:19000:0:99999:7:::' >"$root/etc/shadow"
chmod 0640 "$root/etc/shadow"
echo bulwark-vm >"$root/etc/hostname"

# POSIX single quoting: the init only ever sources these files, so no word of
# the command is split or expanded a second time.
squote() { local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"; }

{
    printf 'set --'
    for a in "$@"; do printf ' %s' "$(squote "$a")"; done
    printf '\n'
} >"$root/etc/bulwark-cmd"

: >"$root/etc/bulwark-env"
for e in "${envs[@]}"; do
    name=${e%%=*}
    [[ "$e" == *=* && "$name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "--env $e: expected NAME=VALUE"
    printf 'export %s=%s\n' "$name" "$(squote "${e#*=}")" >>"$root/etc/bulwark-env"
done

cat >"$root/init" <<'EOF'
#!/bb/busybox sh
# Guest PID 1. Uses only busybox so that CMD may break dash/bash freely.
export PATH=/bb
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/null >/dev/console 2>&1
mount -t securityfs securityfs /sys/kernel/security
mount -t bpf bpf /sys/fs/bpf
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
hostname -F /etc/hostname
ip link set lo up 2>/dev/null

export HOME=/root
export PATH=/opt/bulwark/bin:/usr/sbin:/usr/bin:/bb
. /etc/bulwark-env
echo "vm: kernel $(uname -r), lsm=$(cat /sys/kernel/security/lsm)"
cd /tmp
. /etc/bulwark-cmd
# Debian's busybox prefers its own applets over PATH for bare names, which
# would run busybox sh instead of dash; resolve the name ourselves so CMD
# runs exactly what the guest PATH says.
cmd=$1
shift
case "$cmd" in
*/*) ;;
*)
    oldifs=$IFS
    IFS=:
    for d in $PATH; do
        if [ -f "$d/$cmd" ] && [ -x "$d/$cmd" ]; then
            cmd=$d/$cmd
            break
        fi
    done
    IFS=$oldifs
    ;;
esac
"$cmd" "$@" </dev/null
rc=$?
# A leading newline keeps the marker on its own line even when CMD's last
# output had no trailing newline.
printf '\nBULWARK_VM_EXIT=%d\n' "$rc"
/bb/sync
/bb/poweroff -f
EOF
chmod 0755 "$root/init"

# The kernel opens /dev/console before /init runs; without the node the init
# would start with no stdio until devtmpfs is mounted.
mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true

# Uncompressed: under TCG, gunzip in the guest costs more than loading a
# larger image.
initrd=$work/initrd.cpio
(cd "$root" && find . -print0 | LC_ALL=C sort -z |
    cpio --null -o -H newc --quiet) >"$initrd"

append="console=ttyS0 quiet loglevel=1 panic=-1 $extra_append"
consolelog=$work/console.log

set +e
timeout -k 10 "$timeout_s" qemu-system-x86_64 \
    -accel tcg -cpu max -m "$mem_mb" -smp "$smp" "${icount[@]}" \
    -no-reboot -display none -monitor none -serial stdio \
    -kernel "$vmlinuz" -initrd "$initrd" -append "$append" </dev/null |
    # The firmware clears the screen with escape sequences before the
    # kernel starts; strip those, the serial line's carriage returns and
    # the kernel's own power-off notice, which is noise after the marker.
    sed -u -e 's/\r//g' -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1b[c()][0-9A-Za-z]\{0,1\}//g' \
        -e '/^\[ *[0-9.]*\] reboot: Power down$/d' |
    tee "$consolelog"
status=("${PIPESTATUS[@]}")
set -e
qemu_rc=${status[0]}

rc=$(sed -n 's/^BULWARK_VM_EXIT=\([0-9]\{1,3\}\)$/\1/p' "$consolelog" | tail -n 1)
if [ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ]; then
    if [ -n "$rc" ]; then
        log "VM did not power off within ${timeout_s}s (command had exited $rc)"
    else
        log "no exit marker (timeout or crash)"
    fi
    exit 1
fi
if [ -z "$rc" ]; then
    log "no exit marker (timeout or crash)"
    exit 1
fi
exit "$rc"
