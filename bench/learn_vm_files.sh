#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# What bench/learn_bench.sh's workloads need inside the test VM, printed as
# run-in-vm.sh --include arguments (one SRC:DEST a line). The VM already has
# busybox (httpd, wget), bash, dash and coreutils. Only what the build and
# the test suite touch is staged, so the initramfs stays near 150 MB:
#   make, cc (gcc 12: cc1, collect2, the crt files, libgcc), as, ld, the C
#     headers the bench's project includes and the libc link files;
#   perl, prove and perl's core library (Test::More, TAP::Harness);
#   jq, which the bench reads events with.
#   bench/learn_vm_files.sh STAGE_DIR
set -euo pipefail
stage=$1
gccv=$(gcc -dumpversion)
gccdir=/usr/lib/gcc/x86_64-linux-gnu/$gccv
multi=/usr/lib/x86_64-linux-gnu
rm -rf "$stage"
mkdir -p "$stage/gcc" "$stage/include"

# gcc's private directory without the other front ends (cc1plus, f951,
# gnat1: 100 MB) and the sanitizer libraries.
for f in cc1 collect2 lto-wrapper liblto_plugin.so crtbegin.o crtbeginS.o crtend.o crtendS.o \
    libgcc.a libgcc_eh.a libgcc_s.so; do
    [ -e "$gccdir/$f" ] && cp -L "$gccdir/$f" "$stage/gcc/"
done
cp -a "$gccdir/include" "$stage/gcc/include"
echo "$stage/gcc:$gccdir"

# The system headers of the bench's project (bench/learn_bench.sh
# setup_build), with its -O2 (which adds the inline bits/ headers): whatever
# gcc reads for these, nothing else of /usr/include.
printf '#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n' |
    gcc -O2 -M -x c - | tr ' \\' '\n\n' | grep '^/usr/include/' | sort -u |
    while read -r h; do
        mkdir -p "$stage/include$(dirname "${h#/usr/include}")"
        cp -L "$h" "$stage/include${h#/usr/include}"
    done
echo "$stage/include:/usr/include"

for f in /usr/bin/make /usr/bin/cc /usr/bin/as /usr/bin/ld /usr/bin/perl /usr/bin/prove /usr/bin/jq; do
    echo "$f:$f"
done
for f in crt1.o Scrt1.o crti.o crtn.o libc.so libc_nonshared.a libgcc_s.so.1; do
    echo "$multi/$f:$multi/$f"
done
# @INC names the versioned directories through symlinks; the guest gets
# them as plain directories at the names perl asks for.
pv=$(perl -e 'printf "%vd", $^V' | cut -d. -f1,2)
echo "$(readlink -f /usr/share/perl/"$pv"):/usr/share/perl/$pv"
echo "$(readlink -f "$multi/perl/$pv"):$multi/perl/$pv"
echo "$multi/perl-base:$multi/perl-base"
