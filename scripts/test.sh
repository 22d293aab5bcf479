#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Every test: installs what it needs, builds, and runs ctest (unit tests,
# seccomp tests on this kernel, and the BPF-LSM suite inside the test VM on
# each kernel of the matrix: tests/CMakeLists.txt).
# Fails unless every kernel's VM suite really ran and passed: a skip is not
# a pass.
#
# usage: scripts/test.sh [--all-kernels]
#   --all-kernels  the whole VM suite on every kernel (default: the whole
#                  suite on the oldest and newest, a smoke subset between)
set -euo pipefail
cd "$(dirname "$0")/.."
all=OFF
for arg in "$@"; do
    case "$arg" in
        --all-kernels) all=ON ;;
        -h|--help) sed -n '/^# usage:/,/^set /{/^#/p}' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "test: unknown argument $arg" >&2; exit 2 ;;
    esac
done
scripts/install-deps.sh --vm --consumers
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBULWARK_VM_ALL_KERNELS=$all
cmake --build build -j"$(nproc)"
rm -f build/kernel-tests-*.log
# Fetch every kernel of the matrix before the VMs start, so two VM tests
# starting together do not download the same package at once.
for k in $(ctest --test-dir build -N | sed -n 's/^ *Test *#[0-9]*: vm\.\([a-z0-9]*\)\..*/\1/p' | sort -u); do
    tests/vm/fetch-kernel.sh "$k" >/dev/null
done

set +e
ctest --test-dir build --output-on-failure -j2 2>&1 | tee build/ctest.log
rc=${PIPESTATUS[0]}
set -e

echo
echo "== kernel suites =="
if [ -f build/kernel-tests-native.log ]; then
    grep -E '^ktest: ' build/kernel-tests-native.log || true
else
    echo "ktest: native suite did not run"
fi
# One line per kernel and kind of run, adding up its slices; every VM test
# ctest knows must have left a pass line.
ok=1
declare -A passed release seen want
while read -r name; do
    rest=${name#vm.} kernel=${rest%%.*} part=${rest#*.}
    if [[ "$part" =~ ^[0-9]+$ ]]; then
        label=suite
        n=$(ctest --test-dir build -N | grep -cE "vm\.$kernel\.[0-9]+$")
        log=build/kernel-tests-vm-$kernel-suite-$part-of-$n.log
    else
        label=$part
        log=build/kernel-tests-vm-$kernel-$part-1-of-1.log
    fi
    key="$kernel $label"
    want[$key]=1
    line=$(grep -E '^ktest: vm ' "$log" 2>/dev/null | tail -n 1 || true)
    if [[ "$line" =~ :\ ([0-9]+)\ passed,\ 0\ failed$ ]]; then
        passed[$key]=$(( ${passed[$key]:-0} + BASH_REMATCH[1] ))
        release[$key]=$(sed -n 's/^ktest: vm [^ ]* (\([^)]*\)).*/\1/p' <<<"$line")
        seen[$key]=$(( ${seen[$key]:-0} + 1 ))
    else
        echo "ktest: $name: ${line:-did not run}"
        ok=0
    fi
done < <(ctest --test-dir build -N | sed -n 's/^ *Test *#[0-9]*: \(vm\..*\)$/\1/p')
for key in $(printf '%s\n' "${!want[@]}" | sort | tr ' ' '|'); do
    key=${key//|/ }
    if [ -n "${passed[$key]:-}" ]; then
        echo "ktest: vm ${key%% *} (${release[$key]}) ${key#* }: ${passed[$key]} passed, 0 failed (${seen[$key]} VM run(s))"
    fi
done
if [ "${#want[@]}" = 0 ]; then
    echo "test: no VM suite is configured"
    ok=0
fi
if [ "$ok" != 1 ]; then
    echo "test: a kernel's VM suite did not run or did not pass; failing"
    exit 1
fi
grep -E 'tests passed, [0-9]+ tests failed' build/ctest.log | tail -1
exit "$rc"
