#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# open() latency under the BPF-LSM layer with 10, 1 000 and 10 000 path
# rules, against no policy, measured in one boot so the ratios compare like
# with like. Runs where BPF-LSM programs load (inside the test VM here):
#   bench/lsm_bench.sh BULWARK BENCH_OPEN [ITERATIONS]
set -euo pipefail
bulwark=$1 bench=$2 iters=${3:-20000}
work=$(mktemp -d /tmp/bulwark-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
target=$work/target
echo data > "$target"

policy() {
    local n=$1 f=$work/policy-$1.yaml
    {
        echo "name: bench-$n"
        echo "rules:"
        for ((i = 0; i < n; i++)); do
            # Real files, so each rule fills both the identity and the path map.
            : > "$work/f$i"
            printf '  - id: r%d\n    deny: read\n    paths: [%s/f%d]\n' "$i" "$work" "$i"
        done
    } > "$f"
    echo "$f"
}

base=$("$bench" "$target" "$iters")
printf 'bench: open+close of an allowed file, %s iterations, median of 5, one boot\n' "$iters"
printf '%-22s %12s %8s\n' "policy" "ns/op" "ratio"
printf '%-22s %12s %8s\n' "none (unconfined)" "$base" "1.00"
for n in 10 1000 10000; do
    p=$(policy "$n")
    t=$("$bulwark" run --layers lsm --policy "$p" -- "$bench" "$target" "$iters")
    printf '%-22s %12s %8s\n' "$n path rules" "$t" "$(awk -v a="$t" -v b="$base" 'BEGIN { printf "%.2f", a / b }')"
done
