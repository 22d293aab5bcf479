#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# One style for every C, C++ and BPF C file (.clang-format).
# usage: scripts/format.sh [--check]
#   --check  change nothing; list what is not formatted and fail
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.c' '*.cc' '*.h' ':!:bpf/vmlinux/*')
if [ "${1:-}" = --check ]; then
    clang-format --dry-run --Werror "${files[@]}"
    echo "format: ${#files[@]} files formatted"
else
    clang-format -i "${files[@]}"
fi
