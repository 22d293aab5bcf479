#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The demo: installs what it needs, builds bulwark, and runs
# policy/examples/demo.yaml against a small workload with both layers, then
# with each layer alone, printing the JSON event stream. Where this kernel
# cannot load BPF-LSM programs the demo runs inside the test VM (Debian's 6.1
# kernel under QEMU) and says so.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --vm
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build build -j"$(nproc)" --target bulwark > /dev/null

probe=$(build/bulwark version | sed -n 's/^lsm: //p')
if [ "$probe" = usable ]; then
    echo "demo: this kernel loads BPF-LSM programs; running natively"
    exec scripts/demo-inner.sh build/bulwark policy/examples/demo.yaml policy/examples/demo-workload.sh
fi
echo "demo: this kernel cannot load BPF-LSM programs (${probe#unusable: }),"
echo "demo: so the demo runs inside the test VM: Debian's 6.1 kernel under QEMU, BPF LSM active"
exec tests/vm/run-in-vm.sh \
    --include build/bulwark \
    --include policy/examples/demo.yaml:/opt/bulwark/demo.yaml \
    --include policy/examples/demo-workload.sh:/opt/bulwark/demo-workload.sh \
    --include scripts/demo-inner.sh:/opt/bulwark/demo-inner.sh \
    -- bash /opt/bulwark/demo-inner.sh /opt/bulwark/bin/bulwark /opt/bulwark/demo.yaml /opt/bulwark/demo-workload.sh
