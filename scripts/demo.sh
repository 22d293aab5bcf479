#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The demo: installs what it needs, builds bulwark, and runs
# policy/examples/demo.yaml against a small workload with both layers, then
# with each layer alone, printing the JSON event stream. Where this kernel
# cannot load BPF-LSM programs the demo runs inside the test VM (a Debian
# kernel under QEMU) and says so.
#
# usage: scripts/demo.sh [--kernel bookworm|trixie|sid|PATH]
#   --kernel (or env BULWARK_VM_KERNEL) runs the demo in the VM on that
#   Debian kernel even where this one could run it: bookworm is 6.1,
#   trixie 6.12, sid the newest (tests/vm/fetch-kernel.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
while [ $# -gt 0 ]; do
    case "$1" in
        --kernel) export BULWARK_VM_KERNEL=${2:?--kernel needs a value}; shift 2 ;;
        -h|--help) sed -n '/^# usage:/,/^set /{/^#/p}' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "demo: unknown argument $1" >&2; exit 2 ;;
    esac
done
scripts/install-deps.sh --vm
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build build -j"$(nproc)" --target bulwark > /dev/null

probe=$(build/bulwark version | sed -n 's/^lsm: //p')
kernel=${BULWARK_VM_KERNEL:-}
if [ "$probe" = usable ] && [ -z "$kernel" ]; then
    echo "demo: this kernel loads BPF-LSM programs; running natively"
    exec scripts/demo-inner.sh build/bulwark policy/examples/demo.yaml policy/examples/demo-workload.sh
fi
if [ -n "$kernel" ]; then
    echo "demo: running inside the test VM on the kernel asked for ($kernel), BPF LSM active"
else
    echo "demo: this kernel cannot load BPF-LSM programs (${probe#unusable: }),"
    echo "demo: so the demo runs inside the test VM: Debian 12's 6.1 kernel under QEMU, BPF LSM active"
    echo "demo: (--kernel trixie or --kernel sid picks Debian 13's kernel or the newest)"
fi
exec tests/vm/run-in-vm.sh \
    --include build/bulwark \
    --include policy/examples/demo.yaml:/opt/bulwark/demo.yaml \
    --include policy/examples/demo-workload.sh:/opt/bulwark/demo-workload.sh \
    --include scripts/demo-inner.sh:/opt/bulwark/demo-inner.sh \
    -- bash /opt/bulwark/demo-inner.sh /opt/bulwark/bin/bulwark /opt/bulwark/demo.yaml /opt/bulwark/demo-workload.sh
