// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * bulwark's BPF-LSM layer: the LSM programs, one object. Every hook first
 * asks whether the current task is inside a confined tree (task storage set
 * by the loader on the first child and copied on every fork, lib/scope.h);
 * tasks outside it return immediately, so nothing else on the machine is
 * ever affected. The syscall tracepoints are another object
 * (bulwark_trace.bpf.c) that loads where LSM programs cannot.
 *
 * Hook prototypes follow Linux 6.1, the oldest kernel we support; CO-RE
 * relocations make the same object load on newer kernels. Two hooks changed
 * arity since (perf_event_open lost its attr by 6.12, bpf gained `kernel` by
 * 7.2); they have a second program each and the loader enables the one that
 * matches the running kernel's BTF, because `ret` is read from the last slot.
 * Every LSM program is declared with BW_LSM (lib/lsm.h), which makes its
 * return value provably 0 or a negative errno (the 6.12+ verifier's rule).
 *
 * Matching never loops over the policy: every lookup is a hash (or LPM) map
 * keyed by what the hook sees, and at most BW_SLOT_RULES rules share a slot.
 *
 * A new hook is one BW_LSM program in its group's file below plus its row
 * in policy/catalog.cc; the loader picks programs by their section's hook.
 */
#include "lib/lsm.h"
#include "lib/match.h"
#include "hooks/files.h"
#include "hooks/mounts.h"
#include "hooks/escapes.h"
#include "hooks/process.h"
#include "hooks/kernel.h"
#include "hooks/net.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";
