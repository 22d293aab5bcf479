// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * seccomp's denials, seen from the syscall tracepoints: an object of its
 * own, because these are tracing programs and load where LSM programs
 * cannot (a seccomp-only run on a host that refuses BPF-LSM). With the LSM
 * object loaded too, the loader gives this one its maps (lib/maps.h), so
 * both see the same task marks and write one ring buffer. They run for
 * every task, so each returns at once for a task outside a confined tree.
 *
 * seccomp's filters run before sys_enter fires: a syscall they refuse with
 * an errno exits without having entered. A confined task's state goes
 * IDLE -> ENTERED at sys_enter and back at sys_exit; an exit from IDLE with
 * an error is a seccomp denial. Those the listener answered are reported by
 * the loader already and recognised there by their rule; the rest come from
 * the `syscalls:` table. Kill actions never return: they show up as the
 * SIGSYS that seccomp forces on the task.
 */
#include "lib/event.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by the loader when no LSM program runs (seccomp layer alone): the
 * tracepoints then copy the confinement mark on fork themselves. */
const volatile __u32 trace_propagates = 0;

SEC("tp_btf/sys_enter")
int BPF_PROG(bw_sys_enter, struct pt_regs *regs, long nr)
{
	struct bw_ctx c = {};
	struct bw_task *self = confined_task(&c);

	if (self)
		self->sys_state = BW_SYS_ENTERED;
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(bw_sys_exit, struct pt_regs *regs, long ret)
{
	struct bw_ctx c = {};
	struct bw_task *self = confined_task(&c);
	struct task_struct *task;
	struct bw_event *e;
	__u32 tid, state, *seq;

	if (!self)
		return 0;
	state = self->sys_state;
	self->sys_state = BW_SYS_IDLE;
	tid = (__u32)bpf_get_current_pid_tgid();
	seq = bpf_map_lookup_elem(&syscall_pending, &tid);
	if (seq) {
		__u32 token = *seq;

		bpf_map_delete_elem(&syscall_pending, &tid);
		task = bpf_get_current_task_btf();
		e = reserve_event();
		if (!e)
			return 0;
		fill_event(e,
			   (struct bw_outcome){.kind = BW_KIND_SYSCALL_DONE, .seq = token, .verdict = BW_VERDICT_AUDIT},
			   self, task, &c);
		e->sc.ret = ret;
		bpf_ringbuf_submit(e, 0);
		return 0;
	}
	/* -4095..-1 is an errno; ret_from_fork and the first exit of a newly
	 * marked task are UNKNOWN; a tracer-skipped call has nr -1. */
	if (state != BW_SYS_IDLE || ret >= 0 || ret < -4095)
		return 0;
	task = bpf_get_current_task_btf();
	if ((long)BPF_CORE_READ(regs, orig_ax) < 0)
		return 0;
	e = reserve_event();
	if (!e)
		return 0;
	fill_event(e, (struct bw_outcome){.kind = BW_KIND_SECCOMP_ERRNO, .verdict = BW_VERDICT_DENY, .err = ret}, self,
		   task, &c);
	e->sc.ret = ret;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

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
