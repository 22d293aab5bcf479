#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Fetches Elastic's published ECS field definitions (npm @elastic/ecs, its
# generated ecs_flat) at a pinned version and checksum, and writes them as
# JSON for tests/unit/events_test.cc. Data, like the Docker profile: the
# event tests validate every event kind against it.
#
# usage: tests/consumers/fetch-ecs-schema.sh OUT_DIR
#   writes OUT_DIR/ecs_flat.json; reruns with the file present are offline.
set -eu

# 8.11.5 is the package release of ECS 8.11, the version the events name
# (ecs.version); the integrity is the registry's own, so a republished
# tarball fails here instead of changing what the test checks.
version=8.11.5
integrity=sha512-S7qkIaRrKHyiU6ww0r5qt8mOh8wK8w3LpNdMb0qxuj6wxQmn6TVpZ9DxxICGVKwaPbQIYuNTmBPSUocl+VhINw==

out=${1:?usage: $0 OUT_DIR}
mkdir -p "$out"
json=$out/ecs_flat.json
if [ -s "$json" ] && [ "$(cat "$out/ecs_flat.version" 2>/dev/null)" = "$version" ]; then
    exit 0
fi
for tool in npm node; do
    command -v "$tool" >/dev/null || { echo "ecs: $tool is missing (scripts/install-deps.sh installs it)" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! (cd "$tmp" && npm pack --silent "@elastic/ecs@$version" >/dev/null); then
    echo "ecs: cannot fetch @elastic/ecs@$version from the npm registry" >&2
    exit 1
fi
tgz=$tmp/elastic-ecs-$version.tgz
got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
if [ "$got" != "$integrity" ]; then
    echo "ecs: @elastic/ecs@$version checksum mismatch: $got" >&2
    exit 1
fi
tar -xzf "$tgz" -C "$tmp" package/build/commonjs/ecs_flat.js
node -e '
const flat = require(process.argv[1]).EcsFlat;
if (!flat || !flat["event.category"]) throw new Error("no EcsFlat in the package");
process.stdout.write(JSON.stringify(flat));' "$tmp/package/build/commonjs/ecs_flat.js" >"$json.tmp"
mv "$json.tmp" "$json"
echo "$version" >"$out/ecs_flat.version"
echo "ecs: @elastic/ecs@$version -> $json ($(wc -c <"$json") bytes)" >&2
