/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Ring-buffer records: one filler for every kind (LSM verdicts and the
 * syscall tracepoints' seccomp records), so the two cannot drift apart.
 */
#ifndef BW_LIB_EVENT_H
#define BW_LIB_EVENT_H

#include "lib/scope.h"

#define TS_COMPAT         0x0002
#define X32_SYSCALL_BIT   0x40000000
#define AUDIT_ARCH_X86_64 0xc000003e
#define AUDIT_ARCH_I386   0x40000003

/* The syscall `task` is in, from its saved user registers: the number as
 * seccomp saw it (orig_ax) and the six arguments in the order of its ABI. */
static __always_inline void fill_syscall(struct bw_syscall *sc, struct task_struct *task)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	__u32 status = BPF_CORE_READ(task, thread_info.status);

	sc->nr = (__s32)BPF_CORE_READ(regs, orig_ax);
	sc->ret = BPF_CORE_READ(regs, ax);
	if (status & TS_COMPAT) {
		sc->arch = AUDIT_ARCH_I386;
		sc->args[0] = (__u32)BPF_CORE_READ(regs, bx);
		sc->args[1] = (__u32)BPF_CORE_READ(regs, cx);
		sc->args[2] = (__u32)BPF_CORE_READ(regs, dx);
		sc->args[3] = (__u32)BPF_CORE_READ(regs, si);
		sc->args[4] = (__u32)BPF_CORE_READ(regs, di);
		sc->args[5] = (__u32)BPF_CORE_READ(regs, bp);
	} else {
		sc->arch = AUDIT_ARCH_X86_64;
		sc->args[0] = BPF_CORE_READ(regs, di);
		sc->args[1] = BPF_CORE_READ(regs, si);
		sc->args[2] = BPF_CORE_READ(regs, dx);
		sc->args[3] = BPF_CORE_READ(regs, r10);
		sc->args[4] = BPF_CORE_READ(regs, r8);
		sc->args[5] = BPF_CORE_READ(regs, r9);
	}
}

/* A record for the ring buffer, or null, counted, when it is full. */
static __always_inline struct bw_event *reserve_event(void)
{
	struct bw_event *e = bpf_ringbuf_reserve(&events, sizeof(struct bw_event), 0);

	if (!e)
		__sync_fetch_and_add(&dropped_events, 1);
	return e;
}

/* What a record reports; the rest of it comes from the task and the hook. */
struct bw_outcome {
	__u32 kind;    /* enum bw_kind */
	__u32 verdict; /* enum bw_verdict */
	__s32 err;
	__u32 rule;
};

/* Ring-buffer memory is not zeroed: every field is written. The order is
 * the one report() always had: clang then shares one tail between a
 * hook's report sites, which keeps the programs the verifier walks small. */
static __always_inline void fill_event(struct bw_event *e, struct bw_outcome o, const struct bw_task *self,
				       struct task_struct *task, const struct bw_ctx *c)
{
	__u64 id = bpf_get_current_pid_tgid();

	e->kind = o.kind;
	fill_syscall(&e->sc, task);
	e->boot_ns = bpf_ktime_get_boot_ns();
	e->hook = c->hook;
	e->verdict = o.verdict;
	e->err = o.err;
	e->rule = o.rule;
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->access = c->access;
	e->flags = c->flags;
	e->family = c->family;
	e->type = c->type;
	e->sandbox = self->sandbox;
	e->pad2 = 0;
	e->port = c->port;
	e->pad = 0;
	if (c->addr)
		__builtin_memcpy(e->addr, c->addr, 16);
	else
		__builtin_memset(e->addr, 0, 16);
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->target[0] = 0;
	if (c->path) {
		if (bpf_d_path((struct path *)c->path, e->target, sizeof(e->target)) < 0)
			e->target[0] = 0;
	} else if (c->name) {
		bpf_probe_read_kernel_str(e->target, sizeof(e->target), c->name);
	}
	__builtin_memcpy(e->exe, self->exe, sizeof(e->exe));
}

#endif /* BW_LIB_EVENT_H */
