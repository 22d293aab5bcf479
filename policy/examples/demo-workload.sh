#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The demo's workload: one allowed action, then three the demo policy denies.
echo "workload: head -1 /etc/passwd  (allowed)"
head -1 /etc/passwd
echo "workload: cat /etc/shadow       (a path: only the LSM layer can see it)"
cat /etc/shadow
echo "workload: mount -t tmpfs none /mnt  (a syscall: both layers stop it)"
mount -t tmpfs none /mnt && umount /mnt
echo "workload: /bin/sh -c 'echo shell ran'  (an exec: only the LSM layer)"
/bin/sh -c 'echo shell ran'
exit 0
