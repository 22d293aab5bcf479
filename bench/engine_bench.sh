#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The resident engine, measured in one boot so every ratio compares like
# with like (inside the test VM where this host cannot load BPF-LSM):
#   1. a process outside every sandbox: open()+close() and getpid() with
#      K = 0, 1, 4, 16, 64 live sandboxes, each with a policy of its own,
#      against K = 0 (and, for reference, against no bulwark at all and
#      against K private `bulwark run`s, the architecture before the engine);
#   2. a process inside a sandbox: the same with K others live, and the
#      file_open program's own cost from the kernel's accounting
#      (kernel.bpf_stats_enabled: run_time_ns / run_cnt), also with 10,
#      1 000 and 10 000 path rules;
#   3. start-up: `bulwark run -- /bin/true` with the engine (warm) and
#      without (cold, a private program set), against plain /bin/true.
#   bench/engine_bench.sh BULWARK BENCH_OPEN BENCH_BPFSTATS [ITERATIONS]
set -euo pipefail
bulwark=$1 bench=$2 stats=$3 iters=${4:-20000}
work=$(mktemp -d /tmp/bulwark-ebench.XXXXXX)
sock=$work/engine.sock pins=/sys/fs/bpf/bulwark-bench-engine
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    [ -n "${engine:-}" ] && kill -TERM "$engine" 2>/dev/null && wait "$engine" 2>/dev/null
    rm -rf "$work" "$pins"
}
trap cleanup EXIT
target=$work/target
echo data > "$target"
echo 1 > /proc/sys/kernel/bpf_stats_enabled

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
now_ns() { local t=${EPOCHREALTIME/./}; echo $((10#$t * 1000)); }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# policy N [RULES]: a policy of its own (a rule on a file of its own), or
# one with RULES path rules on real files.
policy() {
    local n=$1 rules=${2:-1}
    local f=$work/p$n-$rules.yaml
    {
        echo "name: bench-$n"
        echo "rules:"
        for ((i = 0; i < rules; i++)); do
            : > "$work/f$n-$i"
            printf '  - id: r%d\n    deny: read\n    paths: [%s/f%s-%d]\n' "$i" "$work" "$n" "$i"
        done
    } > "$f"
    echo "$f"
}

# file_open's ns per run over one command, from the kernel's counters.
hook_ns() {
    local before after
    before=$("$stats" | awk '$1 == "bw_file_open" { c += $2; t += $3 } END { print c + 0, t + 0 }')
    "$@" > "$work/inside.out"
    after=$("$stats" | awk '$1 == "bw_file_open" { c += $2; t += $3 } END { print c + 0, t + 0 }')
    awk -v b="$before" -v a="$after" 'BEGIN { split(b, x, " "); split(a, y, " ");
        n = y[1] - x[1]; printf "%.1f", (n > 0 ? (y[2] - x[2]) / n : 0) }'
}

# ns of BPF program time (every bw_ program, the kernel's accounting) per
# open+close of a process outside every sandbox; the wall time is in $o.
# That total also holds what every other task on the VM ran meanwhile (the
# K idle clients' own hooks), so $h is the per-hook figure: file_open's run
# time per run over the same loop, which the loop's opens dominate.
bpf_total() { "$stats" | awk '{ t += $3 } $1 == "bw_file_open" { fc += $2; ft += $3 } END { print t + 0, fc + 0, ft + 0 }'; }
outside() {
    local before after
    before=$(bpf_total)
    o=$("$bench" "$target" "$iters")
    after=$(bpf_total)
    b=$(awk -v a="$after" -v b="$before" -v n=$((iters * 5)) 'BEGIN { split(a, y, " "); split(b, x, " ");
        printf "%.1f", (y[1] - x[1]) / n }')
    h=$(awk -v a="$after" -v b="$before" 'BEGIN { split(a, y, " "); split(b, x, " "); n = y[2] - x[2];
        printf "%.1f", (n > 0 ? (y[3] - x[3]) / n : 0) }')
    g=$("$bench" --getpid $((iters * 5)))
}


sandboxes() { "$bulwark" status --pin "$pins" 2>/dev/null | head -1 | grep -o '[0-9]* sandboxes' | cut -d' ' -f1; }

start_sandboxes() { # up to $1 live sandboxes, each with its own policy
    local want=$1
    while [ "${#pids[@]}" -lt "$want" ]; do
        local i=${#pids[@]}
        "$bulwark" run --engine "$sock" --layers lsm --policy "$(policy "$i")" -- sleep 100000 2>/dev/null &
        pids+=($!)
    done
    for _ in $(seq 600); do [ "$(sandboxes)" = "$want" ] && return; sleep 0.2; done
    echo "bench: only $(sandboxes) of $want sandboxes came up" >&2
    exit 1
}

echo "bench: one boot, $iters iterations, median of 5; ratios against the first row of each table"
none_open=$("$bench" "$target" "$iters")
none_getpid=$("$bench" --getpid $((iters * 5)))

# --- private runs (before the engine): each loads its own programs ---------
printf '\n== outside every sandbox, K private `bulwark run`s (each its own program set) ==\n'
printf '%-14s %12s %8s %14s %12s %8s\n' "K" "open ns" "ratio" "BPF ns/open" "getpid ns" "ratio"
printf '%-14s %12s %8s %14s %12s %8s\n' "0 (none)" "$none_open" "1.000" "0" "$none_getpid" "1.000"
ppids=()
for k in 1 4; do
    while [ "${#ppids[@]}" -lt "$k" ]; do
        "$bulwark" run --engine off --layers all --policy "$(policy "x${#ppids[@]}")" -- sleep 100000 2>/dev/null &
        ppids+=($!)
    done
    sleep 2
    for _ in $(seq 300); do
        [ "$(grep -l 'sleep' /proc/[0-9]*/comm 2>/dev/null | wc -l)" -ge "$k" ] && break
        sleep 0.5
    done
    # Until every one has attached (their programs are what costs).
    for _ in $(seq 600); do
        n=$("$stats" | grep -c '^bw_file_open ' || true)
        [ "$n" -ge "$k" ] && break
        sleep 0.5
    done
    outside
    printf '%-14s %12s %8s %14s %12s %8s\n' "$k" "$o" "$(ratio "$o" "$none_open")" "$b" "$g" "$(ratio "$g" "$none_getpid")"
done
# TERM (forwarded to the command), so each run ends cleanly and removes
# its pins: a run killed outright keeps its programs attached by design.
for p in "${ppids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
wait "${ppids[@]}" 2>/dev/null || true
left=$("$stats" | grep -c '^bw_file_open ' || true)
[ "$left" = 0 ] || { echo "bench: $left private program sets still attached" >&2; exit 1; }

# --- the engine -------------------------------------------------------------
t0=$(now_ns)
"$bulwark" engine --socket "$sock" --pin "$pins" --max-policies 72 2> "$work/engine.log" &
engine=$!
for _ in $(seq 1200); do grep -q 'engine: ready' "$work/engine.log" && break; sleep 0.1; done
grep -q 'engine: ready' "$work/engine.log" || { cat "$work/engine.log" >&2; exit 1; }
engine_ms=$(( ($(now_ns) - t0) / 1000000 ))

printf '\n== outside every sandbox, K engine sandboxes (different policies) ==\n'
printf '%-6s %10s %8s %8s %12s %8s %16s %8s %10s %8s\n' "K" "open ns" "vs K=0" "vs none" "BPF ns/open" "vs K=0" \
    "file_open ns/run" "vs K=0" "getpid ns" "vs K=0"
inside_rows=()
for k in 0 1 4 16 64; do
    start_sandboxes "$k"
    outside
    [ "$k" = 0 ] && { k0_open=$o; k0_getpid=$g; k0_bpf=$b; k0_hook=$h; }
    printf '%-6s %10s %8s %8s %12s %8s %16s %8s %10s %8s\n' "$k" "$o" "$(ratio "$o" "$k0_open")" "$(ratio "$o" "$none_open")" \
        "$b" "$(ratio "$b" "$k0_bpf")" "$h" "$(ratio "$h" "$k0_hook")" "$g" "$(ratio "$g" "$k0_getpid")"
    # Inside one more sandbox, with these K live.
    ins=$(policy in"$k")
    h=$(hook_ns "$bulwark" run --engine "$sock" --layers lsm --policy "$ins" -- "$bench" "$target" "$iters")
    inside_rows+=("$k $(cat "$work/inside.out") $h")
done

printf '\n== inside a sandbox, K other sandboxes live ==\n'
printf '%-6s %10s %8s %16s %8s\n' "K" "open ns" "vs K=0" "file_open ns/run" "vs K=0"
for row in "${inside_rows[@]}"; do
    read -r k o h <<< "$row"
    [ "$k" = 0 ] && { i0=$o; h0=$h; }
    printf '%-6s %10s %8s %16s %8s\n' "$k" "$o" "$(ratio "$o" "$i0")" "$h" "$(ratio "$h" "$h0")"
done
for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
wait "${pids[@]}" 2>/dev/null || true
pids=()

printf '\n== inside a sandbox whose policy has N path rules (engine) ==\n'
printf '%-8s %10s %8s %16s %8s\n' "N" "open ns" "vs 10" "file_open ns/run" "vs 10"
for n in 10 1000 10000; do
    p=$(policy "rules$n" "$n")
    h=$(hook_ns "$bulwark" run --engine "$sock" --layers lsm --policy "$p" -- "$bench" "$target" "$iters")
    o=$(cat "$work/inside.out")
    [ "$n" = 10 ] && { r0=$o; rh0=$h; }
    printf '%-8s %10s %8s %16s %8s\n' "$n" "$o" "$(ratio "$o" "$r0")" "$h" "$(ratio "$h" "$rh0")"
done

printf '\n== start-up: bulwark run -- /bin/true (ms, median) ==\n'
timed() { local t; t=$(now_ns); "$@" > /dev/null 2>&1 || true; echo $(( ($(now_ns) - t) / 1000 )); }
small=$(policy small)
plain=$(for _ in 1 2 3 4 5; do timed /bin/true; done | median)
warm_lsm=$(for _ in 1 2 3 4 5; do timed "$bulwark" run --engine "$sock" --layers lsm --policy "$small" -- /bin/true; done | median)
warm_all=$(for _ in 1 2 3 4 5; do timed "$bulwark" run --engine "$sock" --layers all --policy "$small" -- /bin/true; done | median)
cold_lsm=$(for _ in 1 2 3; do timed "$bulwark" run --engine off --layers lsm --policy "$small" -- /bin/true; done | median)
cold_all=$(for _ in 1 2 3; do timed "$bulwark" run --engine off --layers all --policy "$small" -- /bin/true; done | median)
ms() { awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000 }'; }
printf '%-34s %10s %12s %12s\n' "" "ms" "vs cold" "vs /bin/true"
printf '%-34s %10s %12s %12s\n' "/bin/true" "$(ms "$plain")" "" "1.0"
for row in "cold --layers lsm:$cold_lsm:$cold_lsm" "warm --layers lsm (engine):$warm_lsm:$cold_lsm" \
    "cold --layers all:$cold_all:$cold_all" "warm --layers all (engine):$warm_all:$cold_all"; do
    IFS=: read -r name t c <<< "$row"
    printf '%-34s %10s %12s %12s\n' "$name" "$(ms "$t")" "$(awk -v a="$c" -v b="$t" 'BEGIN { printf "%.1fx faster", a / b }')" \
        "$(ratio "$t" "$plain")"
done
printf '(the engine itself took %s ms to load and pin its programs, once)\n' "$engine_ms"
