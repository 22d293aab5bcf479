#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Learn mode's quality on three real workloads, in one boot (the test VM,
# where this host cannot load BPF-LSM; natively with LAYERS=seccomp):
#   web    busybox httpd -f serving a static site, a wget loop outside the
#          sandbox as the client;
#   build  make + cc (cc1, as, ld) building a small C project and running
#          its test;
#   perl   prove running a small Test::More suite.
# For each: the plain run; `bulwark learn` on run 1; run 2 with other
# inputs (other pages, another source file, other test data) under
# `learn --check` and enforced with `bulwark run`; the README's attack
# classes against the learned policy; its syscall allow-list against the
# bundled docker-default. What is measured never fails the bench; only a
# broken bench (a workload that does not run, learn writing nothing) does.
#   bench/learn_bench.sh BULWARK PROBE DOCKER_DEFAULT_YAML [LAYERS]
set -euo pipefail
bulwark=$(readlink -f "$1") probe=$(readlink -f "$2") docker_yaml=$(readlink -f "$3") layers=${4:-all}
# The workloads live outside the temporary directories on purpose: learn
# generalises names under /tmp (they are taken as throw-away), and a
# service's files are not there.
base=${LEARN_BENCH_BASE:-/srv/bulwark-lbench}
work=$(mktemp -d /tmp/bulwark-lbench.XXXXXX)
bb=$(command -v busybox)
port=8080
cleanup() {
    stop_httpd 2>/dev/null || true
    rm -rf "$work" "$base"
}
trap cleanup EXIT
rm -rf "$base"
mkdir -p "$base"

now_ms() { local t=${EPOCHREALTIME/./}; echo $((10#$t / 1000)); }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
die() { echo "learn-bench: $*" >&2; exit 1; }

# ---------------------------------------------------------------- workloads
# Each has setup_X N (inputs of run N, outside the sandbox, untimed),
# cmd_X N (the command the sandbox runs) and, for the server, a client.

setup_web() {
    local w=$base/www
    if [ "$1" = 1 ]; then
        mkdir -p "$w"/{news,docs,css,img}
        for p in index about contact; do echo "<html><body>$p</body></html>" > "$w/$p.html"; done
        for y in 2023 2024; do echo "<html>news $y</html>" > "$w/news/$y.html"; done
        for d in install guide faq; do echo "<html>$d</html>" > "$w/docs/$d.html"; done
        echo 'body { margin: 0 }' > "$w/css/site.css"
        head -c 4096 /dev/urandom > "$w/img/logo.png"
        head -c 2048 /dev/urandom > "$w/img/banner.png"
    else
        # Published after learning: a new news page, a changed index.
        echo "<html>news 2025</html>" > "$w/news/2025.html"
        echo "<html><body>index, edited</body></html>" > "$w/index.html"
    fi
}
# Run 1 crawls news/ and css/ whole, docs/ and img/ in part; run 2 asks
# for other pages: the new news page, docs and an image never asked for.
web_pages() {
    if [ "$1" = 1 ]; then
        echo / /about.html /news/2023.html /news/2024.html /css/site.css /docs/install.html /img/logo.png
    else
        echo / /contact.html /news/2025.html /css/site.css /docs/faq.html /img/banner.png /missing.html
    fi
}
cmd_web() { echo "$bb" httpd -f -p "127.0.0.1:$port" -h "$base/www"; }
# The server's processes (the listener and any connection child): matched
# on the command line it was started with, which bulwark's own does not
# begin with. Debian's busybox has no pgrep; builtins only, no fork per pid.
httpd_pids() {
    local f a
    for f in /proc/[0-9]*/cmdline; do
        { mapfile -d '' -t a < "$f"; } 2> /dev/null || continue
        [ "${a[*]:0:5}" = "$bb httpd -f -p 127.0.0.1:$port" ] && { f=${f#/proc/}; echo "${f%/cmdline}"; }
    done
    return 0
}
stop_httpd() { local p; for p in $(httpd_pids); do kill -TERM "$p" 2> /dev/null || true; done; }
# The client, outside the sandbox: wait for the server (bulwark loads its
# programs first), then fetch run N's pages; 404s are part of the input.
client_web() {
    # Up to 5 minutes by the guest's clock (learn's own start took 3 s of
    # it under TCG): a cold start loads and verifies every program first. No -T: Debian 12's busybox wget
    # crashes with it.
    local until=$(($(now_ms) + ${LEARN_BENCH_START_MS:-300000}))
    until "$bb" timeout 20 "$bb" wget -q -O /dev/null "http://127.0.0.1:$port/" 2> /dev/null; do
        [ "$(now_ms)" -lt "$until" ] || { echo "learn-bench: httpd never answered" >&2; return 1; }
        sleep 0.2
    done
    for pg in $(web_pages "$1"); do
        "$bb" timeout 20 "$bb" wget -q -O /dev/null "http://127.0.0.1:$port$pg" 2> /dev/null || true
    done
    # Every page was answered before the server is asked to stop.
    stop_httpd
}

setup_build() {
    local p=$base/proj
    rm -rf "$p/build"
    if [ "$1" = 1 ]; then
        mkdir -p "$p/src"
        # The headers are the ones scripts/bench.sh copies into the VM
        # (bench/learn_vm_files.sh): stdio.h, stdlib.h, string.h.
        cat > "$p/src/util.h" << 'EOF'
int checksum(const char *s);
EOF
        cat > "$p/src/util.c" << 'EOF'
#include <string.h>
#include "util.h"
int checksum(const char *s) { int c = 0; for (size_t i = 0; i < strlen(s); i++) c = c * 31 + s[i]; return c; }
EOF
        cat > "$p/src/main.c" << 'EOF'
#include <stdio.h>
#include <stdlib.h>
#include "util.h"
int main(int argc, char **argv) { printf("%d\n", checksum(argc > 1 ? argv[1] : "run one")); return EXIT_SUCCESS; }
EOF
        cat > "$p/Makefile" << 'EOF'
SRC := $(wildcard src/*.c)
OBJ := $(patsubst src/%.c,build/%.o,$(SRC))
all: build/app
	./build/app > build/test.out
	test -s build/test.out
build/app: $(OBJ)
	cc -o $@ $(OBJ)
build/%.o: src/%.c src/util.h
	@mkdir -p build
	cc -O2 -Wall -c $< -o $@
EOF
    else
        # Another source file (a new name) and new content in main.c.
        cat > "$p/src/fmt.c" << 'EOF'
#include <stdio.h>
#include <string.h>
int fmt_len(const char *s) { return (int)strlen(s); }
EOF
        cat > "$p/src/main.c" << 'EOF'
#include <stdio.h>
#include <stdlib.h>
#include "util.h"
int fmt_len(const char *s);
int main(void) { const char *in = "run two, other input"; printf("%d %d\n", checksum(in), fmt_len(in)); return 0; }
EOF
    fi
}
cmd_build() { echo make -C "$base/proj"; }

setup_perl() {
    local p=$base/perlt
    if [ "$1" = 1 ]; then
        mkdir -p "$p/lib" "$p/t/data"
        cat > "$p/lib/Calc.pm" << 'EOF'
package Calc;
use strict; use warnings;
sub add { my $s = 0; $s += $_ for @_; return $s }
sub mul { my $p = 1; $p *= $_ for @_; return $p }
1;
EOF
        for op in add mul; do
            cat > "$p/t/$op.t" << EOF
use strict; use warnings;
use Test::More;
use FindBin; use lib "\$FindBin::Bin/../lib";
use Calc;
open my \$fh, '<', "\$FindBin::Bin/data/$op.txt" or die "\$!";
while (<\$fh>) { chomp; my (\$want, @in) = split / /; is(Calc::$op(@in), \$want, "$op @in"); }
done_testing;
EOF
        done
        printf '3 1 2\n10 1 2 3 4\n' > "$p/t/data/add.txt"
        printf '6 1 2 3\n24 2 3 4\n' > "$p/t/data/mul.txt"
    else
        # Other test data, and a test file (with its data) added since.
        printf '0 0\n100 50 50\n7 7\n' > "$p/t/data/add.txt"
        printf '1 1\n0 0 5\n' > "$p/t/data/mul.txt"
        sed 's/mul/sum_sq/g; s/Calc::sum_sq(@in)/Calc::add(map { $_ * $_ } @in)/' "$p/t/mul.t" > "$p/t/sum_sq.t"
        printf '5 1 2\n25 3 4\n' > "$p/t/data/sum_sq.txt"
    fi
}
cmd_perl() { echo prove "$base/perlt/t"; }

# run_workload NAME N OUTFILE -- PREFIX...: run N's command behind PREFIX
# (nothing, `bulwark learn ...`, `bulwark run ...`), with the client for the
# server; prints the wall ms, exit status in $rc.
run_workload() {
    local name=$1 n=$2 log=$3
    shift 4
    local t0 t1 c
    # shellcheck disable=SC2046 # the workload's words
    set -- "$@" $(cmd_"$name")
    echo "learn-bench: $(date +%T) $name run $n: ${*:1:3}" >&2
    t0=$(now_ms)
    if [ "$name" = web ]; then
        "$@" > "$log" 2>&1 &
        c=$!
        if ! client_web "$n"; then
            kill -TERM "$c" 2> /dev/null || true
            wait "$c" || true
            rc=125 wall=0
            return
        fi
        rc=0
        wait "$c" || rc=$?
        # The bench's SIGTERM is how the server ends, in every run.
        [ "$rc" = 143 ] && rc=0
    else
        rc=0
        (cd "$base" && "$@") > "$log" 2>&1 || rc=$?
    fi
    t1=$(now_ms)
    wall=$((t1 - t0))
}

# The denials of a `bulwark run --events FILE`: one line per rule, path.
denials() {
    jq -r 'select(.bulwark.action == "deny") |
        "\(.rule.id) [\(.bulwark.denied_by // [] | join("+"))] \(.file.path // .bulwark.syscall.name // .event.action)"' "$1" |
        sort | uniq -c | sed 's/^ */    /'
}
denial_count() { [ -s "$1" ] || { echo 0; return; }; jq -r 'select(.bulwark.action == "deny") | 1' "$1" | wc -l; }

# The learned syscall allow-list: the names under `syscalls:` (learn writes
# one name per line, and an entry of its own for a call allowed only with
# the argument values seen).
learned_syscalls() {
    awk '/^syscalls:/ { in_s = 1; next } /^[a-z]/ { in_s = 0 }
        in_s && /^      - [a-z0-9_]+/ { print $2 }
        in_s && /^  - name: [a-z0-9_]+/ { print $3 }' "$1" | sort -u
}
# docker-default's allowed x86_64 syscalls, as its compiled table has them:
# the x86_64 section of the first filter, names with a real number (libseccomp
# gives names foreign to the architecture a pseudo number, never matched,
# and x32's numbers start at 0x40000000), counted once whatever their
# argument checks.
docker_syscalls() {
    "$bulwark" compile "$1" --pfc | awk '
        /^# filter [0-9]+ of/ { nf++ }
        /^# filter for arch/ { on = (nf == 1 && $5 == "x86_64"); next }
        on && /^ *# filter for syscall "/ { n = $6; gsub(/[()]/, "", n); cur = (n + 0 < 100000) ? $5 : ""; gsub(/"/, "", cur); next }
        on && cur != "" && /action ALLOW;/ { print cur }' | sort -u
}

# attack LABEL POLICY -- CMD...: runs CMD confined by POLICY and prints
# "stopped by RULE [layers]" or "NOT stopped".
attack() {
    local pol=$1
    shift 2
    local ev=$work/attack.jsonl out st=0 by
    rm -f "$ev"
    out=$("$bulwark" run --layers "$layers" --policy "$pol" --events "$ev" -- "$@" 2>&1) || st=$?
    by=$(jq -r 'select(.bulwark.action == "deny") |
        "\(.rule.id) [\(.bulwark.denied_by // [] | join("+"))] \(.file.path // .bulwark.syscall.name // .event.action)"' \
        "$ev" 2> /dev/null | sort -u | paste -sd, -)
    local err
    err=$(sed -n 's/^err [^ ]* \([A-Z0-9]*\)$/\1/p' <<< "$out" | head -1)
    # The probe exits 0 only when its step worked; the workload's own
    # binaries exit 0 when they could read the file.
    if [ "$st" = 0 ]; then
        echo "NOT stopped${by:+ (events: $by)}"
    elif [ -n "$by" ]; then
        echo "stopped${err:+ ($err)}: $by"
    elif [ "$st" = 126 ] && grep -q 'Operation not permitted' <<< "$out"; then
        # bulwark run's own exec of the command was refused (the exec
        # allow-list); that denial reaches no --events file today.
        echo "stopped at its exec (EPERM), no event"
    else
        echo "failed, no denial event (status $st: $(grep -v 'warning:' <<< "$out" | head -c 80 | tr '\n' ' '))"
    fi
}
# Without bulwark: "ok", or the errno the kernel itself gave.
unconfined() {
    local out err st=0
    out=$("$@" 2>&1) || st=$?
    err=$(sed -n 's/^err [^ ]* \([A-Z0-9]*\)$/\1/p' <<< "$out" | head -1)
    if [ "$st" = 0 ]; then echo ok; else echo "${err:-exit $st}"; fi
}

# A copy of the learned policy with the probe's path, and the shared
# libraries its loader maps, in its exec and read allow-lists (the rules
# learn writes as `allow: exec` / `allow: read`): the probe is not the
# workload, and without its libraries it stops at its own start-up.
probe_files() {
    echo "$probe"
    LD_TRACE_LOADED_OBJECTS=1 "$probe" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }'
}
with_probe() {
    local files
    files=$(probe_files | paste -sd' ' -)
    awk -v files="$files" '
        { print }
        /^    allow: (exec|read)$/ { want = 1; next }
        want && /^    paths:$/ {
            n = split(files, f, " ")
            for (i = 1; i <= n; i++) printf "      - \"%s\"   # added by the bench: the attack probe\n", f[i]
            want = 0
        }' "$1" > "$2"
    # Without the LSM layer learn writes no allow-lists: nothing to add.
    grep -q "added by the bench" "$2" || [ "$layers" = seccomp ] || die "could not add the probe to $1"
}

# The same without its syscall allow-list (default syscalls: allow, the
# table dropped): what the LSM layer and the rule words hold on their own,
# where the table would stop the probe before its attack (a static server's
# list has no mmap for a dynamic probe's start-up).
without_table() {
    awk '/^syscalls:/ { skip = 1; next } /^[a-z#]/ { skip = 0 } !skip' "$1" |
        sed 's/^  syscalls: .*/  syscalls: allow/' > "$2"
}

summary=()
docker=$(docker_syscalls "$docker_yaml" | wc -l)
[ "$docker" -gt 100 ] || die "could not count docker-default's syscalls ($docker)"

bench_one() {
    local name=$1 pol=$work/$1.yaml
    echo
    echo "== $name: $(cmd_"$name") =="
    setup_"$name" 1
    run_workload "$name" 1 "$work/$name-plain.log" --
    [ "$rc" = 0 ] || { cat "$work/$name-plain.log" >&2; die "$name: plain run exited $rc"; }
    local plain=$wall
    [ "$name" = build ] && setup_build 1
    run_workload "$name" 1 "$work/$name-learn.log" -- "$bulwark" learn --layers "$layers" -o "$pol" --force --
    echo "learn-bench: $name: learn took $wall ms (plain $plain ms), exit $rc" >&2
    [ -s "$pol" ] || { cat "$work/$name-learn.log" >&2; die "$name: learn wrote no policy (status $rc)"; }
    local learn=$wall learn_rc=$rc
    local learn_line
    learn_line=$(grep '^learn: ' "$work/$name-learn.log" | tail -1)
    # The learned policy itself, for the record (without the evidence block).
    if [ -n "${LEARN_BENCH_SHOW:-}" ]; then echo "  --- $name: learned policy ---"; grep -v '^#@' "$pol" | sed 's/^/  | /'; fi

    # Run 2: other inputs.
    setup_"$name" 2
    [ "$name" = build ] && setup_build 2
    local plain2
    run_workload "$name" 2 "$work/$name-plain2.log" --
    [ "$rc" = 0 ] || { cat "$work/$name-plain2.log" >&2; die "$name: plain run 2 exited $rc"; }
    plain2=$wall
    [ "$name" = build ] && setup_build 2
    run_workload "$name" 2 "$work/$name-check.log" -- "$bulwark" learn --layers "$layers" --check "$pol" --
    local check=$wall check_rc=$rc would
    would=$(sed -n 's/^check: \([0-9]*\) attempts\{0,1\} would have been denied.*/\1/p' "$work/$name-check.log")
    grep -q 'nothing would have been denied' "$work/$name-check.log" && would=0
    # No verdict is a result when bulwark refused the learned policy
    # (status 2, "nothing was applied"): it is reported, not a broken bench.
    local refused=""
    if [ -z "$would" ] && [ "$name" = web ] && [ "$check_rc" = 125 ]; then
        would="none (the server never answered under --check)"
    elif [ -z "$would" ]; then
        refused=$(grep -v 'warning:' "$work/$name-check.log" | grep -m1 '^lsm: \|^seccomp: \|: error' || true)
        [ -n "$refused" ] || { cat "$work/$name-check.log" >&2; die "$name: --check gave no verdict (status $check_rc)"; }
        would="none (policy refused: $refused)"
    fi
    [ "$name" = build ] && setup_build 2
    local ev=$work/$name-run.jsonl
    run_workload "$name" 2 "$work/$name-run.log" -- "$bulwark" run --layers "$layers" --policy "$pol" --events "$ev" --
    local enf=$wall enf_rc=$rc denied
    denied=$(denial_count "$ev")
    [ "$enf_rc" = 125 ] && denied="n/a (not started: $(grep -m1 '^lsm: \|^seccomp: ' "$work/$name-run.log" || echo see log))"

    local nsys
    nsys=$(learned_syscalls "$pol" | wc -l)
    echo "$learn_line"
    printf '%-44s %s\n' "plain run 1 / run 2 (ms)" "$plain / $plain2"
    printf '%-44s %s\n' "learn, run 1 (ms, ÷ plain)" "$learn ($(ratio "$learn" "$plain")x), exit $learn_rc"
    printf '%-44s %s\n' "learn --check, run 2 (ms, ÷ plain)" "$check ($(ratio "$check" "$plain2")x): $would would-be denials, exit $check_rc"
    printf '%-44s %s\n' "bulwark run --policy, run 2 (ms, ÷ plain)" "$enf ($(ratio "$enf" "$plain2")x): exit $enf_rc, $denied denials"
    printf '%-44s %s\n' "syscalls allowed (learned / docker-default)" "$nsys / $docker ($(awk -v a="$nsys" -v b="$docker" 'BEGIN { printf "%.0f", 100 * (1 - a / b) }')% fewer)"
    if [ "$would" != 0 ]; then
        echo "  --check, would-be denials:"
        sed -n '/^  rule /,/^check: /p' "$work/$name-check.log" | sed '$d'
    fi
    if [ "$denied" != 0 ]; then
        echo "  enforced, denials (count rule [layers] target):"
        denials "$ev"
    fi
    [ "$name" = web ] && echo "  (web: exit 0 stands for the server ending on the bench's SIGTERM, as in the plain run)"

    # Attacks. The shell is one the workload never ran (not in its exec
    # allow-list).
    local sh=""
    for s in /usr/bin/dash /usr/bin/bash; do
        grep -q "\"$s\"" "$pol" || { sh=$s; break; }
    done
    local reader
    case $name in
    web) reader=("$bb" cat /etc/shadow) ;;
    build) reader=(make -f /etc/shadow) ;;
    perl) reader=(perl -ne print /etc/shadow) ;;
    esac
    local pp=$work/$name.probe.yaml pn=$work/$name.probe-notable.yaml
    with_probe "$pol" "$pp"
    without_table "$pp" "$pn"
    # LABEL|WORD;WORD;...
    local rows=(
        "mount|$probe;mount;/mnt"
        "ptrace (attach)|$probe;ptrace-attach"
        "kernel module (finit_module)|$probe;finit-module;$probe"
        "bpf (map create)|$probe;bpf-map"
        "user namespace (unshare)|$probe;unshare-user"
        "raw socket (AF_INET, SOCK_RAW)|$probe;socket;2;3"
        "exec of a shell never run ($sh)|$probe;exec;$sh;-c;echo ran"
        "read of a file never read (/etc/shadow)|$probe;open;/etc/shadow;r"
    )
    echo "  attacks: unconfined | learned policy as written | (A) learned + the probe and its libraries added to allow exec and read |"
    echo "  (B) = (A) without its syscall allow-list (default syscalls: allow)"
    printf '  %-42s | %-10s | %-44s | %-44s | %s\n' "attack" "unconfined" "learned policy" "(A) learned + probe" "(B) (A) without the syscall table"
    local r label cmd
    for r in "${rows[@]}"; do
        label=${r%%|*}
        IFS=';' read -ra cmd <<< "${r#*|}"
        printf '  %-42s | %-10s | %-44s | %-44s | %s\n' "$label" "$(unconfined "${cmd[@]}")" \
            "$(attack "$pol" -- "${cmd[@]}")" "$(attack "$pp" -- "${cmd[@]}")" "$(attack "$pn" -- "${cmd[@]}")"
    done
    # The same two with the workload's own binaries, which the learned
    # policy lets run: only the read and exec allow-lists are in the way.
    printf '  %-42s | %-10s | %-44s | %s\n' "$sh run directly as the command" "$(unconfined "$sh" -c 'echo ran')" \
        "$(attack "$pol" -- "$sh" -c 'echo ran')" "-"
    printf '  %-42s | %-10s | %-44s | %s\n' "${reader[*]}" "$(unconfined "${reader[@]}")" \
        "$(attack "$pol" -- "${reader[@]}")" "-"
    summary+=("$(printf '%-6s learn %sx plain; run 2: %s would-be denials, enforced exit %s with %s denials; %s syscalls vs %s' \
        "$name" "$(ratio "$learn" "$plain")" "$would" "$enf_rc" "$denied" "$nsys" "$docker")")
    if [ -n "${LEARN_BENCH_KEEP:-}" ]; then cp "$pol" "$pp" "$pn" "$LEARN_BENCH_KEEP/" 2> /dev/null || true; fi
}

echo "learn-bench: layers $layers, kernel $(uname -r); wall times in ms (under TCG emulated: read the ratios)"
for w in ${LEARN_BENCH_WORKLOADS:-web build perl}; do
    bench_one "$w"
done
echo
echo "== summary =="
printf '%s\n' "${summary[@]}"
