#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Provisions a Debian 12 VM for bulwark: BPF-LSM must be in the kernel's
# active LSM list, which Debian's kernel supports but does not enable by
# default, so the first run adds it to the boot command line and asks for a
# reboot; a run after that reboot builds bulwark and runs the demo.
#
# usage: provision.sh [--configure-only] [--selftest]
#   --configure-only  stop after the LSM setup (the Vagrantfile reboots next)
#   --selftest        test the pure helpers against temp files; touch nothing
set -euo pipefail

log() { echo "provision: $*" >&2; }

# Prints the comma list CURRENT with bpf appended unless already present.
lsm_with_bpf() {
    local current=$1 item
    local -a items
    IFS=, read -r -a items <<<"$current"
    for item in "${items[@]}"; do
        [ "$item" = bpf ] && { echo "$current"; return 0; }
    done
    if [ -z "$current" ]; then echo bpf; else echo "$current,bpf"; fi
}

# Sets lsm=VALUE in GRUB_CMDLINE_LINUX of the grub defaults file FILE,
# replacing any lsm= already there and keeping every other argument. Only
# GRUB_CMDLINE_LINUX is touched: _DEFAULT is skipped for recovery entries,
# and LSM choice must hold for those too.
grub_set_lsm() {
    local file=$1 value=$2 tmp
    tmp=$(mktemp)
    awk -v v="$value" '
        /^GRUB_CMDLINE_LINUX=/ && !done {
            line = $0
            sub(/^GRUB_CMDLINE_LINUX=/, "", line)
            if (line ~ /^".*"$/ || line ~ /^\047.*\047$/)
                line = substr(line, 2, length(line) - 2)
            n = split(line, words, /[ \t]+/)
            out = ""; found = 0
            for (i = 1; i <= n; i++) {
                w = words[i]
                if (w == "") continue
                if (w ~ /^lsm=/) {
                    if (found) continue
                    w = "lsm=" v; found = 1
                }
                out = out (out == "" ? "" : " ") w
            }
            if (!found) out = out (out == "" ? "" : " ") "lsm=" v
            print "GRUB_CMDLINE_LINUX=\"" out "\""
            done = 1
            next
        }
        { print }
        END { if (!done) print "GRUB_CMDLINE_LINUX=\"lsm=" v "\"" }
    ' "$file" >"$tmp"
    # Rewrite in place so the file keeps its owner and mode.
    cat "$tmp" >"$file"
    rm -f "$tmp"
}

selftest() {
    local pass=0 fail=0 dir
    dir=$(mktemp -d)

    check() { # NAME EXPECTED GOT
        if [ "$2" = "$3" ]; then
            pass=$((pass + 1))
        else
            fail=$((fail + 1))
            printf 'FAIL %s\n  expected: %s\n  got:      %s\n' "$1" "$2" "$3" >&2
        fi
    }

    check "lsm without bpf" "lockdown,capability,yama,apparmor,bpf" \
        "$(lsm_with_bpf lockdown,capability,yama,apparmor)"
    check "lsm with bpf" "lockdown,bpf,apparmor" "$(lsm_with_bpf lockdown,bpf,apparmor)"
    check "lsm with bpf last" "yama,bpf" "$(lsm_with_bpf yama,bpf)"
    check "lsm bpf-like name" "bpfx,bpf" "$(lsm_with_bpf bpfx)"
    check "lsm empty" "bpf" "$(lsm_with_bpf "")"

    grub_case() { # NAME INPUT EXPECTED
        printf '%s' "$2" >"$dir/grub"
        grub_set_lsm "$dir/grub" "yama,apparmor,bpf"
        check "$1" "$3" "$(cat "$dir/grub")"
    }
    local hdr=$'# comment\nGRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\n'
    grub_case "grub empty cmdline" \
        "${hdr}GRUB_CMDLINE_LINUX=\"\""$'\n' \
        "${hdr}GRUB_CMDLINE_LINUX=\"lsm=yama,apparmor,bpf\""
    grub_case "grub other args" \
        "${hdr}GRUB_CMDLINE_LINUX=\"net.ifnames=0 biosdevname=0\""$'\n' \
        "${hdr}GRUB_CMDLINE_LINUX=\"net.ifnames=0 biosdevname=0 lsm=yama,apparmor,bpf\""
    grub_case "grub existing lsm" \
        "${hdr}GRUB_CMDLINE_LINUX=\"a=1 lsm=landlock,yama b=2\""$'\n' \
        "${hdr}GRUB_CMDLINE_LINUX=\"a=1 lsm=yama,apparmor,bpf b=2\""
    grub_case "grub duplicate lsm" \
        "GRUB_CMDLINE_LINUX=\"lsm=x lsm=y\""$'\n' \
        "GRUB_CMDLINE_LINUX=\"lsm=yama,apparmor,bpf\""
    grub_case "grub single quotes" \
        "GRUB_CMDLINE_LINUX='console=ttyS0'"$'\n' \
        "GRUB_CMDLINE_LINUX=\"console=ttyS0 lsm=yama,apparmor,bpf\""
    grub_case "grub no cmdline line" \
        "${hdr}" \
        "${hdr}GRUB_CMDLINE_LINUX=\"lsm=yama,apparmor,bpf\""
    grub_case "grub leaves _DEFAULT alone" \
        $'GRUB_CMDLINE_LINUX_DEFAULT="lsm=keep"\nGRUB_CMDLINE_LINUX="x"\n' \
        $'GRUB_CMDLINE_LINUX_DEFAULT="lsm=keep"\nGRUB_CMDLINE_LINUX="x lsm=yama,apparmor,bpf"'

    rm -rf "$dir"
    echo "$pass passed, $fail failed"
    [ "$fail" = 0 ]
}

configure_only=0
case "${1:-}" in
    --selftest) selftest; exit $? ;;
    --configure-only) configure_only=1 ;;
    "") ;;
    *) log "unknown argument: $1"; exit 2 ;;
esac

[ "$(id -u)" = 0 ] || { log "must run as root"; exit 1; }
repo=${BULWARK_REPO:-/bulwark}

"$repo/scripts/install-deps.sh"

lsm_file=/sys/kernel/security/lsm
[ -r "$lsm_file" ] || mount -t securityfs securityfs /sys/kernel/security
current=$(cat "$lsm_file")
if [ "$(lsm_with_bpf "$current")" != "$current" ]; then
    new=$(lsm_with_bpf "$current")
    log "active LSMs: $current; enabling lsm=$new on the next boot"
    grub_set_lsm /etc/default/grub "$new"
    update-grub
    log "reboot required: run 'vagrant reload --provision' to finish"
    exit 0
fi
log "BPF-LSM is active ($current)"
[ "$configure_only" = 1 ] && exit 0

cmake -S "$repo" -B "$repo/build" -DCMAKE_BUILD_TYPE=Release
cmake --build "$repo/build" -j "$(nproc)"
"$repo/scripts/demo.sh"
