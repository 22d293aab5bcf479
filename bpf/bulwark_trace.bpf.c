// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * seccomp's kills, which never reach the listener (every other verdict of
 * the filter does: seccomp/filter.h), seen where they happen: the SIGSYS
 * seccomp forces on the task. An object of its own, because these are
 * tracing programs and load where LSM programs cannot (a seccomp-only run
 * on a host that refuses BPF-LSM). With the LSM object loaded too, the
 * loader gives this one its maps (lib/maps.h), so both see the same task
 * marks and write one ring buffer. Neither program is on a syscall's path:
 * they run when a signal is generated and when a process forks, and return
 * at once for a task outside a confined tree.
 */
#include "lib/event.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by the loader when no LSM program runs (seccomp layer alone): the
 * tracepoints then copy the confinement mark on fork themselves. */
const volatile __u32 trace_propagates = 0;

#define SIGSYS            31
#define SYS_SECCOMP       1
#define SECCOMP_MODE_DEAD 3

/* seccomp's kill actions mark the task dead, then force SIGSYS with
 * si_code SYS_SECCOMP on it. Only that pairing counts: a task may send
 * itself a SIGSYS with that code, but cannot set its own seccomp mode. */
SEC("tp_btf/signal_generate")
int BPF_PROG(bw_signal_generate, int sig, struct kernel_siginfo *info, struct task_struct *t, int group, int result)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct bw_task *self;
	struct bw_event *e;

	struct bw_ctx c = {};

	if (sig != SIGSYS || t != task || BPF_CORE_READ(info, si_code) != SYS_SECCOMP)
		return 0;
	self = confined_task(&c);
	if (!self || BPF_CORE_READ(task, seccomp.mode) != SECCOMP_MODE_DEAD)
		return 0;
	e = reserve_event();
	if (!e)
		return 0;
	fill_event(e, (struct bw_outcome){.kind = BW_KIND_SECCOMP_KILL, .verdict = BW_VERDICT_DENY}, self, task, &c);
	e->flags = sig;
	/* The siginfo names the syscall and ABI exactly as seccomp saw them. */
	e->sc.nr = BPF_CORE_READ(info, _sifields._sigsys._syscall);
	e->sc.arch = BPF_CORE_READ(info, _sifields._sigsys._arch);
	e->sc.ret = 0;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* With no LSM program loaded, nothing else copies the mark to new tasks.
 * sched_process_fork fires before the child first runs. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(bw_trace_fork, struct task_struct *parent, struct task_struct *child)
{
	struct bw_ctx c = {};
	struct bw_task *p;

	if (!trace_propagates)
		return 0;
	p = confined_task(&c);
	if (p)
		mark_child(child, p, &c);
	return 0;
}
