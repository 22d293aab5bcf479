#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A real Prometheus (Debian's) scrapes a running `bulwark run --metrics`:
# promtool lints the page, then a server on loopback scrapes the sandbox
# and its HTTP API must return the denying rule's counter. Seccomp layer
# only, so it runs on any host; everything started here is stopped on exit.
#
# usage: tests/consumers/prometheus.sh BULWARK_BINARY
set -euo pipefail
bulwark=${1:?usage: $0 BULWARK_BINARY}
for tool in prometheus promtool curl jq; do
    command -v "$tool" >/dev/null || { echo "prometheus: $tool missing (scripts/install-deps.sh)" >&2; exit 1; }
done

dir=$(mktemp -d /tmp/bulwark-prom.XXXXXX)
pids=()
cleanup() {
    touch "$dir/stop"
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "${pids[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$dir"
}
trap cleanup EXIT

# Two free loopback ports: the kernel picks them, and they are used at once.
read -r mport pport < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')

cat >"$dir/policy.yaml" <<'YAML'
name: prom
rules:
  - id: no-mount
    deny: mount
YAML
# The workload is denied once, then waits (at most 60 s) so the supervisor
# keeps serving while Prometheus scrapes.
"$bulwark" run --layers seccomp --policy "$dir/policy.yaml" --events "$dir/events.jsonl" \
    --metrics "127.0.0.1:$mport" -- /bin/sh -c \
    "mkdir -p $dir/mnt; mount -t tmpfs none $dir/mnt 2>/dev/null; echo \$? >$dir/rc;
     i=0; while [ ! -e $dir/stop ] && [ \$i -lt 300 ]; do sleep 0.2; i=\$((i+1)); done" \
    >"$dir/run.log" 2>&1 &
pids+=($!)

deadline=$((SECONDS + 20))
until [ -s "$dir/rc" ] && curl -sf "http://127.0.0.1:$mport/metrics" -o "$dir/page.txt"; do
    if [ $SECONDS -ge $deadline ]; then
        echo "prometheus: bulwark's metrics endpoint never answered" >&2
        cat "$dir/run.log" >&2
        exit 1
    fi
    sleep 0.2
done
if [ "$(cat "$dir/rc")" = 0 ]; then
    echo "prometheus: the mount was not denied" >&2
    exit 1
fi

echo "--- promtool check metrics"
cat "$dir/page.txt"
promtool check metrics <"$dir/page.txt"

cat >"$dir/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: bulwark
    static_configs:
      - targets: ['127.0.0.1:$mport']
YAML
prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/tsdb" \
    --web.listen-address="127.0.0.1:$pport" >"$dir/prometheus.log" 2>&1 &
pids+=($!)

query='bulwark_rule_denials_total{job="bulwark",rule="no-mount",layer="seccomp",mode="enforce"}'
deadline=$((SECONDS + 60))
while :; do
    if curl -sf -G "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$query" -o "$dir/q.json" &&
        [ "$(jq -r '.data.result[0].value[1] // empty' "$dir/q.json")" = 1 ]; then
        break
    fi
    if [ $SECONDS -ge $deadline ]; then
        echo "prometheus: the server never returned the rule's counter" >&2
        cat "$dir/q.json" "$dir/prometheus.log" >&2 2>/dev/null || true
        curl -sf "http://127.0.0.1:$pport/api/v1/targets" >&2 || true
        exit 1
    fi
    sleep 0.5
done
echo "--- the Prometheus server's answer"
jq -c '.data.result' "$dir/q.json"
# Its own view of the target: up, scraped without error.
curl -sf "http://127.0.0.1:$pport/api/v1/targets" | jq -e \
    '.data.activeTargets | length == 1 and .[0].health == "up" and .[0].lastError == ""' >/dev/null
echo "prometheus: ok"
