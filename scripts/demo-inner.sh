#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Runs the demo workload under the demo policy, first with both layers, then
# with each layer alone, and prints what each run blocked. Runs wherever
# bulwark can load both layers: natively, or inside the test VM.
# usage: demo-inner.sh BULWARK POLICY WORKLOAD
set -u
bulwark=$1 policy=$2 workload=$3
events=$(mktemp /tmp/bulwark-demo.XXXXXX)
trap 'rm -f "$events"' EXIT

for layers in all seccomp lsm; do
    : > "$events"
    echo
    echo "=== bulwark run --layers $layers --policy $(basename "$policy") -- bash $(basename "$workload")"
    "$bulwark" run --layers "$layers" --policy "$policy" --events "$events" -- bash "$workload" 2>&1
    echo "--- exit status $?; events ($(wc -l < "$events") JSON lines):"
    if [ "$layers" = all ]; then
        cat "$events"
    else
        # One line each, so the layers can be compared at a glance.
        sed -E 's/.*"dataset":"bulwark\.([a-z]+)","action":"([^"]*)".*"rule":\{"id":"([^"]*)".*/  \1 stopped \2 (rule \3)/' "$events"
    fi
done
