#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# bulwark.1 from the binary's own --help: help2man for the top level, and
# one section per subcommand (nested ones too) from each one's --help, so
# the page says what the installed program accepts.
#
# usage: packaging/manpage.sh BULWARK_BINARY VERSION OUT.1
set -euo pipefail
bin=$(realpath "${1:?usage: $0 BULWARK_BINARY VERSION OUT.1}")
version=${2:?}
out=${3:?}
command -v help2man >/dev/null || { echo "manpage: help2man is missing (scripts/install-deps.sh)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# help2man names the program after the command it runs.
ln -s "$bin" "$tmp/bulwark"
export PATH="$tmp:$PATH"

subcommands() {
    bulwark "$@" --help | sed -n '/^Subcommands:/,/^$/s/^  \([a-z][a-z0-9-]*\) .*/\1/p'
}
section() {
    echo ".SS \"bulwark $*\""
    echo ".nf"
    # Roff: a leading dot or quote would be a request, a backslash an escape.
    bulwark "$@" --help | sed -e 's/\\/\\e/g' -e 's/^\([.'"'"']\)/\\\&\1/'
    echo ".fi"
    local s
    for s in $(subcommands "$@"); do
        section "$@" "$s"
    done
}
{
    echo "[COMMANDS]"
    for s in $(subcommands); do
        section "$s"
    done
    echo "[SEE ALSO]"
    echo "/usr/share/doc/bulwark/README.md, the policies in /usr/share/bulwark/,"
    echo "systemctl(1) for bulwark-enforce@.service and bulwark-engine.service."
} >"$tmp/include"
help2man --no-info --no-discard-stderr --version-string="$version" \
    --name="a layered Linux sandbox (seccomp + BPF-LSM)" --section=1 \
    --include="$tmp/include" --output="$out.tmp" bulwark
# A page help2man could not fill is a build error, not a blank page.
grep -q '^\.SS "bulwark run"' "$out.tmp" || { echo "manpage: no subcommand sections" >&2; exit 1; }
mv "$out.tmp" "$out"
