#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Build and run the policy parser fuzzer for a fixed time.
# usage: tests/fuzz/run.sh [SECONDS]   (default 60; BUILD_DIR overrides <repo>/build)
# Exits non-zero when libFuzzer finds a crash, leak, timeout or OOM.
set -euo pipefail

secs=${1:-60}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=${BUILD_DIR:-$repo/build}/fuzz
cxx=${CXX_FUZZ:-clang++}

if ! "$cxx" --version >/dev/null 2>&1; then
    echo "run.sh: $cxx not found; the fuzzer needs clang" >&2
    exit 1
fi

mkdir -p "$out"
# Probe separately so a missing runtime is reported as such rather than as
# a confusing link error in the real build.
probe_src=$out/probe.cc
printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' >"$probe_src"
if ! "$cxx" -fsanitize=fuzzer "$probe_src" -o "$out/probe" 2>/dev/null; then
    echo "run.sh: libFuzzer does not link; on Debian: apt-get install -y --no-install-recommends libclang-rt-14-dev" >&2
    exit 1
fi

# The same sources and libraries as bulwark_policy in the top CMakeLists.txt,
# so the fuzzer keeps linking as the parser starts using the catalog.
cmake -DSRC="$repo/policy/bundled" -DOUT="$out/bundled_policies.cc" -P "$repo/cmake/embed_policies.cmake"
policy_srcs=("$repo"/policy/*.cc "$repo"/policy/import/*.cc "$out/bundled_policies.cc")
"$cxx" -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=undefined -I"$repo" \
    "${policy_srcs[@]}" "$here/policy_fuzz.cc" \
    -lyaml-cpp -lseccomp -o "$out/policy_fuzz"

# A scratch copy: libFuzzer writes new inputs into the first corpus dir, and
# those must not end up in the source tree.
corpus=$out/corpus
mkdir -p "$corpus"
cp "$here"/corpus/* "$corpus"/

log=$out/policy_fuzz.log
cd "$out"  # crash-*/leak-*/timeout-* artifacts land here
set +e
# The outer timeout is a backstop: when libFuzzer hits the RSS limit it dumps
# an ASan heap profile under ptrace, which on a 2 GB heap can take many
# minutes, and a traced process ignores SIGTERM, hence -k.
timeout -k 10 $((secs + 120)) ./policy_fuzz -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$out/" "$corpus" >"$log" 2>&1
rc=$?
set -e

# libFuzzer's "Done N runs in S second(s)" is the summary line; on a crash it
# never gets there, so show the report instead.
if [ "$rc" -eq 0 ]; then
    grep -E '^#[0-9]+.*(DONE|pulse)' "$log" | tail -n 1 || true
    grep -E '^Done [0-9]+ runs' "$log" || true
else
    tail -n 60 "$log"
    echo "run.sh: libFuzzer exited with $rc; full log: $log" >&2
fi
exit "$rc"
