#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Start-up of `bulwark run --layers seccomp -- /bin/true` natively: without
# an engine (the run loads its own syscall tracepoints) and with one (warm:
# nothing is loaded), against plain /bin/true, in one run.
#   bench/start_bench.sh BULWARK [REPS]
set -euo pipefail
bulwark=$1 reps=${2:-21}
work=$(mktemp -d /tmp/bulwark-sbench.XXXXXX)
sock=$work/engine.sock
cleanup() { [ -n "${engine:-}" ] && kill -TERM "$engine" 2>/dev/null && wait "$engine" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
printf 'name: start\nsyscalls:\n  - names: [kexec_load]\n    action: errno(EPERM)\n' > "$work/p.yaml"
# bash's own clock: no fork of date(1) inside the measured interval.
now_us() { local t=${EPOCHREALTIME/./}; echo $((10#$t)); }
timed() { local t; t=$(now_us); "$@" > /dev/null 2>&1 || true; echo $(( $(now_us) - t )); }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
series() { for _ in $(seq "$reps"); do timed "$@"; done | median; }
"$bulwark" engine --socket "$sock" --pin /sys/fs/bpf/bulwark-sbench 2> "$work/engine.log" &
engine=$!
for _ in $(seq 300); do grep -qs 'engine: ready' "$work/engine.log" && break; sleep 0.05; done
plain=$(series /bin/true)
cold=$(series "$bulwark" run --engine off --layers seccomp --policy "$work/p.yaml" -- /bin/true)
warm=$(series "$bulwark" run --engine "$sock" --layers seccomp --policy "$work/p.yaml" -- /bin/true)
ms() { awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000 }'; }
printf 'bench: bulwark run --layers seccomp -- /bin/true, native, median of %s\n' "$reps"
printf '%-30s %8s %14s\n' "" "ms" "minus /bin/true"
printf '%-30s %8s %14s\n' "/bin/true" "$(ms "$plain")" ""
printf '%-30s %8s %14s\n' "no engine (cold)" "$(ms "$cold")" "$(ms $((cold - plain)))"
printf '%-30s %8s %14s\n' "engine running (warm)" "$(ms "$warm")" "$(ms $((warm - plain)))"
