#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Every test: installs what it needs, builds, and runs ctest (unit tests,
# seccomp tests on this kernel, and the BPF-LSM suite inside the test VM).
# Fails unless the VM suite really ran and passed: a skip is not a pass.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --vm
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)"
rm -f build/kernel-tests-*.log

set +e
ctest --test-dir build --output-on-failure -j2 2>&1 | tee build/ctest.log
rc=${PIPESTATUS[0]}
set -e

echo
echo "== kernel suites =="
for mode in native vm; do
    log=build/kernel-tests-$mode.log
    if [ -f "$log" ]; then
        grep -E '^vm: kernel|^ktest: ' "$log" || true
    else
        echo "ktest: $mode suite did not run"
    fi
done
if ! grep -qE '^ktest: vm suite: [1-9][0-9]* passed, 0 failed' build/kernel-tests-vm.log 2>/dev/null; then
    echo "test: the BPF-LSM suite in the VM did not pass; failing"
    exit 1
fi
grep -E 'tests passed, [0-9]+ tests failed' build/ctest.log | tail -1
exit "$rc"
