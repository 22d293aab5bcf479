#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A real log shipper reads the stream: Debian's rsyslog tails bulwark's
# events file (imfile), parses each line (mmjsonparse) and writes what it
# parsed. Every parsed event must equal bulwark's line, and the hostile
# workload's strings (quotes, newlines, invalid UTF-8, 4 KiB paths and
# arguments) must come out as bulwark meant them. Seccomp layer only; the
# rsyslogd started here is stopped on exit.
#
# usage: tests/consumers/rsyslog.sh BULWARK_BINARY
set -euo pipefail
bulwark=${1:?usage: $0 BULWARK_BINARY}
for tool in rsyslogd python3; do
    command -v "$tool" >/dev/null || { echo "rsyslog: $tool missing (scripts/install-deps.sh)" >&2; exit 1; }
done

dir=$(mktemp -d /tmp/bulwark-rsyslog.XXXXXX)
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT

cat >"$dir/policy.yaml" <<'YAML'
name: shipper
rules:
  - id: no-mount
    deny: mount
YAML

# The workload: a copy of perl under a hostile directory ~4 KiB deep, run
# with hostile arguments, calls mount(2) twice: two listener events naming
# them.
python3 - "$dir" <<'PY'
import os, shutil, sys
base = sys.argv[1].encode()
odd = b'q"uo\\te\nnew\tline \xff\xfe caf\xc3\xa9'
path = base + b'/' + odd
while len(path) < 3900:
    path += b'/' + (b'd\xc3\xa9j\xc3\xa0' * 30)[:200]
os.makedirs(path)
shutil.copy('/usr/bin/perl', path + b'/p"l\n')
open(base + b'/exe', 'wb').write(path + b'/p"l\n')
PY
exe=$(python3 -c 'import sys; sys.stdout.buffer.write(open(sys.argv[1], "rb").read())' "$dir/exe"; echo x)
exe=${exe%x}
bigarg=$(printf '%04096d' 0 | tr 0 'A')
oddarg=$'{"a":"b"}\n\\u0000 \'x\' \xff end'
mkdir -p "$dir/mnt"
"$bulwark" run --layers seccomp --policy "$dir/policy.yaml" --events "$dir/events.jsonl" -- \
    "$exe" -e 'my @a = ("none", $ARGV[0], "tmpfs"); syscall(165, @a, 0, 0) for 1 .. 2' \
    "$dir/mnt" "$bigarg" "$oddarg" >"$dir/run.log" 2>&1 || { cat "$dir/run.log" >&2; exit 1; }
n=$(wc -l <"$dir/events.jsonl")
if [ "$n" -lt 2 ]; then
    echo "rsyslog: bulwark wrote $n events, expected 2" >&2
    cat "$dir/run.log" >&2
    exit 1
fi

# Lines are up to ~13 KiB (exe and two 4 KiB arguments, escaped): rsyslog's
# default 8 KiB message limit would cut them (README, Events).
cat >"$dir/rsyslog.conf" <<CONF
global(workDirectory="$dir/work" maxMessageSize="64k")
module(load="imfile")
module(load="mmjsonparse")
template(name="parsed" type="string" string="%\$!all-json%\n")
ruleset(name="bulwark") {
    action(type="mmjsonparse" cookie="" useRawMsg="on")
    if \$parsesuccess == "OK" then {
        action(type="omfile" file="$dir/parsed.jsonl" template="parsed")
    } else {
        action(type="omfile" file="$dir/unparsed.log")
    }
}
input(type="imfile" file="$dir/events.jsonl" tag="bulwark" ruleset="bulwark" addMetadata="off")
CONF
mkdir -p "$dir/work"
rsyslogd -N1 -f "$dir/rsyslog.conf" >/dev/null
rsyslogd -n -f "$dir/rsyslog.conf" -i "$dir/rsyslogd.pid" >"$dir/rsyslogd.log" 2>&1 &
pid=$!

deadline=$((SECONDS + 30))
until [ "$(cat "$dir/parsed.jsonl" "$dir/unparsed.log" 2>/dev/null | grep -c '' || true)" -ge "$n" ]; do
    if [ $SECONDS -ge $deadline ] || ! kill -0 "$pid" 2>/dev/null; then
        echo "rsyslog: rsyslogd did not deliver $n events" >&2
        cat "$dir/rsyslogd.log" "$dir/unparsed.log" >&2 2>/dev/null || true
        exit 1
    fi
    sleep 0.2
done

python3 - "$dir" "$exe" "$bigarg" "$oddarg" <<'PY'
import json, os, sys
d = sys.argv[1]
exe, big, odd = (os.fsencode(a) for a in sys.argv[2:5])
if os.path.exists(d + '/unparsed.log') and os.path.getsize(d + '/unparsed.log'):
    sys.exit('rsyslog: lines mmjsonparse could not parse:\n' + open(d + '/unparsed.log', errors='replace').read())
sent = [json.loads(l) for l in open(d + '/events.jsonl', encoding='utf-8')]
got = [json.loads(l) for l in open(d + '/parsed.jsonl', encoding='utf-8')]
if len(got) != len(sent):
    sys.exit(f'rsyslog: {len(got)} parsed events for {len(sent)} lines')
for s, g in zip(sent, got):
    if s != g:
        sys.exit(f'rsyslog: parsed event differs\nsent: {json.dumps(s)[:600]}\ngot:  {json.dumps(g)[:600]}')

def as_bulwark(raw):
    # bulwark's rule: each byte that is not part of valid UTF-8 is U+FFFD.
    out, i = '', 0
    while i < len(raw):
        for n in (4, 3, 2, 1):
            try:
                out += raw[i:i + n].decode('utf-8')
                i += n
                break
            except UnicodeDecodeError:
                continue
        else:
            out += '\ufffd'
            i += 1
    return out

e = got[0]
checks = {
    'process.executable': (e['process']['executable'], as_bulwark(exe)),
    'process.args[0]': (e['process']['args'][0], as_bulwark(exe)),
    'process.args[4]': (e['process']['args'][4], as_bulwark(big)),
    'process.args[5]': (e['process']['args'][5], as_bulwark(odd)),
    'rule.id': (e['rule']['id'], 'no-mount'),
}
for name, (have, want) in checks.items():
    if have != want:
        sys.exit(f'rsyslog: {name} came out as {have[:200]!r}, not {want[:200]!r}')
assert len(exe) >= 3900 and b'\xff' in exe and b'\n' in exe and b'"' in exe
print(f'rsyslog: {len(got)} events parsed intact; executable {len(exe)} bytes, '
      f'longest line {max(len(l) for l in open(d + "/events.jsonl", "rb"))} bytes')
PY
