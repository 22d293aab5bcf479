#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Runs the kernel test suite natively or inside the BPF-LSM test VM, and turns
# its result into ctest's: pass only if tests ran and none failed or skipped;
# 77 (ctest "skipped") if any test skipped, so a skip never reads as a pass.
#
# usage: run-suite.sh native BUILD_DIR GTEST_FILTER
#        run-suite.sh vm BUILD_DIR GTEST_FILTER [KERNEL [SHARD/SHARDS [LABEL]]]
#   KERNEL: what tests/vm/fetch-kernel.sh takes (bookworm, trixie, sid,
#   bullseye or a vmlinuz path); default $BULWARK_VM_KERNEL or bookworm.
#   SHARD/SHARDS: run the SHARD-th of SHARDS slices (gtest sharding, 1-based).
#   LABEL: what the pass line calls this run (default: "suite").
# The pass line, which scripts/test.sh reads, is
#   ktest: vm KERNEL (RELEASE) LABEL [SHARD/SHARDS]: N passed, 0 failed
set -uo pipefail
mode=$1 build=$2 filter=$3
kernel=${4:-${BULWARK_VM_KERNEL:-bookworm}}
shard=${5:-1/1}
label=${6:-suite}
src=$(cd "$(dirname "$0")/../.." && pwd)

if [ "$mode" = native ]; then
    log=$build/kernel-tests-native.log
    name="native"
    # A host that loads BPF-LSM programs runs the whole suite natively.
    if "$build/bulwark" version | grep -q '^lsm: usable'; then
        export BULWARK_LSM_TESTS=1
        filter='*:-Floor.*'
        echo "ktest: this host loads BPF-LSM programs; running every kernel test natively"
    else
        echo "ktest: this host cannot load BPF-LSM programs; native run limited to '$filter'"
    fi
    "$build/tests/bulwark_kernel_tests" --gtest_filter="$filter" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
else
    index=${shard%/*} total=${shard#*/}
    [[ "$index" =~ ^[0-9]+$ && "$total" =~ ^[0-9]+$ && "$index" -ge 1 && "$index" -le "$total" ]] || {
        echo "ktest: bad shard '$shard' (want I/N, 1 <= I <= N)"
        exit 1
    }
    tag=$(basename "$kernel")
    log=$build/kernel-tests-vm-$tag-$label-$index-of-$total.log
    name="vm $tag"
    # The enforce tests load every program several times and run 100
    # reloads: under TCG on a shared machine a slice needs more than the
    # VM's default 600 s.
    BULWARK_VM_KERNEL=$kernel "$src/tests/vm/run-in-vm.sh" \
        --timeout 2400 \
        --include "$build/bulwark" \
        --include "$build/tests/bulwark-probe" \
        --include "$build/tests/bulwark_kernel_tests" \
        --include "$src/policy/examples:/opt/bulwark/examples" \
        --env BULWARK_LSM_TESTS=1 \
        --env BULWARK_VM=1 \
        --env BULWARK_EXAMPLES=/opt/bulwark/examples \
        --env GTEST_TOTAL_SHARDS="$total" \
        --env GTEST_SHARD_INDEX=$((index - 1)) \
        -- bulwark_kernel_tests --gtest_filter="$filter" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    release=$(sed -n 's/^vm: kernel \([^,]*\),.*/\1/p' "$log" | head -n 1)
    name="$name (${release:-did not boot}) $label"
    [ "$total" = 1 ] || name="$name $index/$total"
fi

say() { echo "$*" | tee -a "$log"; }
passed=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) tests\?\..*/\1/p' "$log" | tail -1)
skipped=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) tests\?,.*/\1/p' "$log" | tail -1)
failed=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) tests\?,.*/\1/p' "$log" | tail -1)
if [ "$rc" -ne 0 ]; then
    say "ktest: $name: ${passed:-0} passed, ${failed:-?} failed (exit $rc)"
    exit 1
fi
if [ -z "$passed" ]; then
    say "ktest: $name printed no pass count: it did not run"
    exit 1
fi
if [ -n "$skipped" ] && [ "$skipped" -gt 0 ]; then
    grep -A1 '^\[  SKIPPED \] [A-Za-z]' "$log" | head -20
    say "ktest: $name: $passed passed, $skipped skipped (reported as skipped, not passed)"
    exit 77
fi
say "ktest: $name: $passed passed, 0 failed"
