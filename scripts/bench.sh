#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Benchmarks: ratios against a baseline taken in the same run. The LSM one
# runs inside the test VM where this kernel cannot load BPF-LSM programs
# (its absolute numbers are then those of an emulated CPU; the ratios are
# what to read).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --vm
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build build -j"$(nproc)" > /dev/null
if [ -x build/bulwark-bench-seccomp ]; then
    echo "== seccomp: getpid and openat under docker-default vs no filter (native) =="
    build/bulwark-bench-seccomp
fi
if [ -x build/bulwark-bench-events ]; then
    # Native: a tracepoint stands in for the LSM hooks (same ring buffer,
    # record and decoder); only the bench's own thread produces records.
    echo "== events: ring buffer -> EventSink -> JSON file at 100k..2M/s and max, vs decode-only (native) =="
    build/bulwark-bench-events || echo "(bulwark-bench-events exited $?)"
fi
echo "== BPF-LSM: open() with 10 / 1000 / 10000 path rules vs none =="
if build/bulwark version | grep -q '^lsm: usable'; then
    bench/lsm_bench.sh build/bulwark build/bulwark-bench-open
else
    tests/vm/run-in-vm.sh --icount --mem 2048 --include build/bulwark --include build/bulwark-bench-open \
        --include bench/lsm_bench.sh -- bash /opt/bulwark/bin/lsm_bench.sh \
        /opt/bulwark/bin/bulwark /opt/bulwark/bin/bulwark-bench-open
fi
echo "== start-up natively: bulwark run --layers seccomp -- /bin/true, with and without an engine =="
bench/start_bench.sh build/bulwark
echo "== the resident engine: outside and inside cost with K sandboxes, per-hook cost, warm vs cold start =="
if build/bulwark version | grep -q '^lsm: usable'; then
    bench/engine_bench.sh build/bulwark build/bulwark-bench-open build/bulwark-bench-bpfstats
else
    tests/vm/run-in-vm.sh --icount --timeout 3000 --mem 3072 --include build/bulwark --include build/bulwark-bench-open \
        --include build/bulwark-bench-bpfstats --include bench/engine_bench.sh -- bash /opt/bulwark/bin/engine_bench.sh \
        /opt/bulwark/bin/bulwark /opt/bulwark/bin/bulwark-bench-open /opt/bulwark/bin/bulwark-bench-bpfstats
fi
echo "== learn mode: three real workloads learned, replayed with other inputs, enforced and attacked =="
# busybox httpd, make + cc, prove: what they need is copied into the VM
# (bench/learn_vm_files.sh); wall times there are emulated, the ratios and
# the denial counts are what to read. One vCPU (--icount): with two, on a
# loaded host, both guest CPUs once sat in soft lockups for 8 minutes in
# the first learn run.
if build/bulwark version | grep -q '^lsm: usable'; then
    bench/learn_bench.sh build/bulwark build/tests/bulwark-probe policy/bundled/docker-default.yaml
else
    stage=$(mktemp -d /tmp/bulwark-learn-stage.XXXXXX)
    learn_files=()
    while read -r f; do learn_files+=(--include "$f"); done < <(bench/learn_vm_files.sh "$stage")
    tests/vm/run-in-vm.sh --icount --timeout 3600 --mem 3072 --include build/bulwark --include build/tests/bulwark-probe \
        --include policy/bundled/docker-default.yaml --include bench/learn_bench.sh "${learn_files[@]}" -- \
        bash /opt/bulwark/bin/learn_bench.sh /opt/bulwark/bin/bulwark /opt/bulwark/bin/bulwark-probe \
        /opt/bulwark/bin/docker-default.yaml || echo "(learn_bench exited $?)"
    rm -rf "$stage"
fi
